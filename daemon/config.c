// The YAML config parser: libyaml loads the file into a node graph, then a
// walker checks it against the schema (config/ireed.yaml documents it),
// section by section, and fills ireed_config_t. The first problem found is
// the error; its message starts "FILE:LINE:COL: KEY: " (KEY a path such as
// models[1].device).
#include "daemon/config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>
#include <unistd.h>
#include <yaml.h>

#include "daemon/models.h"
#include "hal/cpu/task_pool.h"
#include "proto/frame.h"
#include "runtime/base/log.h"

// Config files are small; anything larger is a mistake.
#define IREED_CONFIG_MAX_FILE_SIZE (1u << 20)
#define IREED_CONFIG_KEY_MAX 128

typedef struct ireed_config_parser_s {
  const char* source;    // the file name in messages
  const char* base_dir;  // relative paths resolve here
  yaml_document_t document;
  uint8_t* taken;  // per node: already read (a second read is an alias)
  ireed_config_t* config;
} ireed_config_parser_t;

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

static irt_status_t ireed_config_error(const ireed_config_parser_t* parser,
                                       const yaml_node_t* node, const char* key,
                                       const char* format, ...)
    IRT_PRINTF_LIKE(4, 5);

static irt_status_t ireed_config_error(const ireed_config_parser_t* parser,
                                       const yaml_node_t* node, const char* key,
                                       const char* format, ...) {
  char message[512];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s:%zu:%zu: %s: %s",
                         parser->source, node->start_mark.line + 1,
                         node->start_mark.column + 1,
                         key[0] ? key : "(top level)", message);
}

// "parent.child" or "parent[index]" into |buffer|.
// Keys name what the user wrote, so a long one is cut with "...".
static const char* ireed_config_key_done(char* buffer, int length) {
  if (length < 0 || length >= IREED_CONFIG_KEY_MAX) {
    memcpy(buffer + IREED_CONFIG_KEY_MAX - 4, "...", 4);
  }
  return buffer;
}
static const char* ireed_config_key(char* buffer, const char* parent,
                                    const char* child) {
  return ireed_config_key_done(
      buffer, snprintf(buffer, IREED_CONFIG_KEY_MAX, "%s%s%s", parent,
                       parent[0] ? "." : "", child));
}
static const char* ireed_config_index_key(char* buffer, const char* parent,
                                          size_t index) {
  return ireed_config_key_done(
      buffer, snprintf(buffer, IREED_CONFIG_KEY_MAX, "%s[%zu]", parent, index));
}

static const char* ireed_config_node_kind(const yaml_node_t* node) {
  switch (node->type) {
    case YAML_MAPPING_NODE:
      return "a mapping";
    case YAML_SEQUENCE_NODE:
      return "a list";
    default:
      return "a scalar";
  }
}

static const char* ireed_config_text(const yaml_node_t* node) {
  return (const char*)node->data.scalar.value;
}

// An empty value (`key:`, `~`, `null`): the key is as good as absent.
static bool ireed_config_is_null(const yaml_node_t* node) {
  if (node->type != YAML_SCALAR_NODE ||
      node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) {
    return false;
  }
  const char* text = ireed_config_text(node);
  return !*text || !strcmp(text, "~") || !strcmp(text, "null") ||
         !strcmp(text, "Null") || !strcmp(text, "NULL");
}

// The node |index| of a value. Each node is read once: reading one again
// means the document shares it through an alias, which the config refuses
// (a few aliases could otherwise make a small file expand enormously).
static irt_status_t ireed_config_take(ireed_config_parser_t* parser, int index,
                                      const char* key, yaml_node_t** out_node) {
  yaml_node_t* node = yaml_document_get_node(&parser->document, index);
  *out_node = node;
  size_t slot = (size_t)(index - 1);
  if (parser->taken[slot]) {
    return ireed_config_error(parser, node, key,
                              "YAML aliases are not supported in the config; "
                              "write the value out");
  }
  parser->taken[slot] = 1;
  return IRT_OK;
}

// The values of mapping |node| for |names| (NULL where absent). A null
// node counts as an empty mapping. Unknown and repeated keys are errors.
static irt_status_t ireed_config_fields(
    ireed_config_parser_t* parser, const yaml_node_t* node, const char* key,
    const char* const* names, size_t name_count, yaml_node_t** out_values) {
  memset(out_values, 0, name_count * sizeof(out_values[0]));
  if (ireed_config_is_null(node)) return IRT_OK;
  if (node->type != YAML_MAPPING_NODE) {
    return ireed_config_error(parser, node, key, "must be a mapping, not %s",
                              ireed_config_node_kind(node));
  }
  for (yaml_node_pair_t* pair = node->data.mapping.pairs.start;
       pair < node->data.mapping.pairs.top; ++pair) {
    yaml_node_t* name_node = NULL;
    IRT_RETURN_IF_ERROR(ireed_config_take(parser, pair->key, key, &name_node));
    if (name_node->type != YAML_SCALAR_NODE) {
      return ireed_config_error(parser, name_node, key,
                                "keys must be scalars, not %s",
                                ireed_config_node_kind(name_node));
    }
    const char* name = ireed_config_text(name_node);
    char name_key[IREED_CONFIG_KEY_MAX];
    ireed_config_key(name_key, key, name);
    size_t index = 0;
    while (index < name_count && strcmp(names[index], name) != 0) ++index;
    if (index == name_count) {
      char known[256] = "";
      for (size_t i = 0; i < name_count; ++i) {
        size_t used = strlen(known);
        snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
                 names[i]);
      }
      return ireed_config_error(parser, name_node, name_key,
                                "unknown key (known here: %s)", known);
    }
    if (out_values[index]) {
      return ireed_config_error(parser, name_node, name_key,
                                "duplicate key (first at line %zu)",
                                out_values[index]->start_mark.line + 1);
    }
    IRT_RETURN_IF_ERROR(
        ireed_config_take(parser, pair->value, name_key, &out_values[index]));
  }
  return IRT_OK;
}

// The item indexes of list |node| (a null node is an empty list).
static irt_status_t ireed_config_items(const ireed_config_parser_t* parser,
                                       const yaml_node_t* node, const char* key,
                                       yaml_node_item_t** out_items,
                                       size_t* out_count) {
  *out_items = NULL;
  *out_count = 0;
  if (!node || ireed_config_is_null(node)) return IRT_OK;
  if (node->type != YAML_SEQUENCE_NODE) {
    return ireed_config_error(parser, node, key, "must be a list, not %s",
                              ireed_config_node_kind(node));
  }
  *out_items = node->data.sequence.items.start;
  *out_count =
      (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
  return IRT_OK;
}

static irt_status_t ireed_config_require(const ireed_config_parser_t* parser,
                                         const yaml_node_t* mapping,
                                         const char* key,
                                         const yaml_node_t* value,
                                         const char* name) {
  if (value && !ireed_config_is_null(value)) return IRT_OK;
  return ireed_config_error(parser, value ? value : mapping, key,
                            "missing required key '%s'", name);
}

//===----------------------------------------------------------------------===//
// Scalars
//===----------------------------------------------------------------------===//

// A scalar's text; |node| must not be null.
static irt_status_t ireed_config_scalar(const ireed_config_parser_t* parser,
                                        const yaml_node_t* node,
                                        const char* key,
                                        const char** out_text) {
  *out_text = NULL;
  if (node->type != YAML_SCALAR_NODE) {
    return ireed_config_error(parser, node, key, "must be a scalar, not %s",
                              ireed_config_node_kind(node));
  }
  if (ireed_config_is_null(node)) {
    return ireed_config_error(parser, node, key, "needs a value");
  }
  const char* text = ireed_config_text(node);
  if (strlen(text) != node->data.scalar.length) {
    return ireed_config_error(parser, node, key, "contains a NUL character");
  }
  *out_text = text;
  return IRT_OK;
}

// A non-empty string without control characters, copied into the config.
static irt_status_t ireed_config_string(ireed_config_parser_t* parser,
                                        const yaml_node_t* node,
                                        const char* key, char** out_text) {
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  size_t length = strlen(text);
  if (length == 0) {
    return ireed_config_error(parser, node, key, "must not be empty");
  }
  for (size_t i = 0; i < length; ++i) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x20 || c == 0x7F) {
      return ireed_config_error(parser, node, key,
                                "has a control character at byte %zu", i);
    }
  }
  return irt_arena_strndup(&parser->config->arena, text, length, out_text);
}

// A file or directory path; relative ones resolve against the config's
// directory.
static irt_status_t ireed_config_path(ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      char** out_path) {
  char* path = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_string(parser, node, key, &path));
  if (path[0] != '/') {
    char joined[PATH_MAX];
    int length =
        snprintf(joined, sizeof(joined), "%s/%s", parser->base_dir, path);
    if (length < 0 || (size_t)length >= sizeof(joined)) {
      return ireed_config_error(parser, node, key, "path is too long");
    }
    return irt_arena_strndup(&parser->config->arena, joined, (size_t)length,
                             out_path);
  }
  if (strlen(path) >= PATH_MAX) {
    return ireed_config_error(parser, node, key, "path is too long");
  }
  *out_path = path;
  return IRT_OK;
}

// Decimal digits only (no sign, no spaces); false on overflow.
static bool ireed_config_parse_digits(const char* text, size_t length,
                                      uint64_t* out_value) {
  if (length == 0) return false;
  uint64_t value = 0;
  for (size_t i = 0; i < length; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    uint64_t digit = (uint64_t)(text[i] - '0');
    if (value > (UINT64_MAX - digit) / 10) return false;
    value = value * 10 + digit;
  }
  *out_value = value;
  return true;
}

static irt_status_t ireed_config_check_range(
    const ireed_config_parser_t* parser, const yaml_node_t* node,
    const char* key, uint64_t value, uint64_t min, uint64_t max) {
  if (value >= min && value <= max) return IRT_OK;
  return ireed_config_error(parser, node, key,
                            "%llu is out of range (%llu to %llu)",
                            (unsigned long long)value, (unsigned long long)min,
                            (unsigned long long)max);
}

static irt_status_t ireed_config_uint(const ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      uint64_t min, uint64_t max,
                                      uint64_t* out_value) {
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  if (!ireed_config_parse_digits(text, strlen(text), out_value)) {
    return ireed_config_error(parser, node, key, "'%s' is not a whole number",
                              text);
  }
  return ireed_config_check_range(parser, node, key, *out_value, min, max);
}

static irt_status_t ireed_config_u32(const ireed_config_parser_t* parser,
                                     const yaml_node_t* node, const char* key,
                                     uint32_t min, uint32_t max,
                                     uint32_t* out_value) {
  if (!node || ireed_config_is_null(node)) return IRT_OK;  // the default
  uint64_t value = 0;
  IRT_RETURN_IF_ERROR(ireed_config_uint(parser, node, key, min, max, &value));
  *out_value = (uint32_t)value;
  return IRT_OK;
}

// A byte count: digits with an optional unit (B, KiB, MiB, GiB; K, M, G).
static irt_status_t ireed_config_size(const ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      uint64_t min, uint64_t max,
                                      uint64_t* out_value) {
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  size_t digits = strspn(text, "0123456789");
  const char* unit = text + digits;
  static const struct {
    const char* name;
    unsigned shift;
  } kUnits[] = {{"", 0},   {"B", 0},    {"K", 10}, {"KiB", 10},
                {"M", 20}, {"MiB", 20}, {"G", 30}, {"GiB", 30}};
  size_t u = 0;
  while (u < sizeof(kUnits) / sizeof(kUnits[0]) &&
         strcmp(kUnits[u].name, unit) != 0) {
    ++u;
  }
  uint64_t value = 0;
  if (u == sizeof(kUnits) / sizeof(kUnits[0]) ||
      !ireed_config_parse_digits(text, digits, &value)) {
    return ireed_config_error(parser, node, key,
                              "'%s' is not a size (bytes, or a number with "
                              "KiB, MiB or GiB, like \"64MiB\")",
                              text);
  }
  if (value > (UINT64_MAX >> kUnits[u].shift)) {
    return ireed_config_error(parser, node, key, "'%s' is too large", text);
  }
  *out_value = value << kUnits[u].shift;
  return ireed_config_check_range(parser, node, key, *out_value, min, max);
}

static irt_status_t ireed_config_bool(const ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      bool* out_value) {
  if (!node || ireed_config_is_null(node)) return IRT_OK;  // the default
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  static const char* const kTrue[] = {"true", "yes", "on"};
  static const char* const kFalse[] = {"false", "no", "off"};
  for (size_t i = 0; i < 3; ++i) {
    if (!strcasecmp(text, kTrue[i])) {
      *out_value = true;
      return IRT_OK;
    }
    if (!strcasecmp(text, kFalse[i])) {
      *out_value = false;
      return IRT_OK;
    }
  }
  return ireed_config_error(parser, node, key,
                            "'%s' is not a boolean (true or false)", text);
}

// Permission bits written in octal ("0660"): 3 or 4 digits, at most 0777.
static irt_status_t ireed_config_mode(const ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      uint32_t* out_mode) {
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  size_t length = strlen(text);
  bool octal = (length == 3 || length == 4) &&
               strspn(text, "01234567") == length &&
               (length == 3 || text[0] == '0');
  if (!octal) {
    return ireed_config_error(parser, node, key,
                              "'%s' is not an octal permission mode (like "
                              "\"0660\"; at most 0777)",
                              text);
  }
  *out_mode = (uint32_t)strtoul(text, NULL, 8);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Users and groups
//===----------------------------------------------------------------------===//

// Resolves a group name or a numeric gid.
static irt_status_t ireed_config_gid(const ireed_config_parser_t* parser,
                                     const yaml_node_t* node, const char* key,
                                     gid_t* out_gid) {
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  uint64_t value = 0;
  if (ireed_config_parse_digits(text, strlen(text), &value)) {
    IRT_RETURN_IF_ERROR(
        ireed_config_check_range(parser, node, key, value, 0, (gid_t)-1 - 1));
    *out_gid = (gid_t)value;
    return IRT_OK;
  }
  struct group entry;
  struct group* found = NULL;
  char buffer[4096];
  int error = getgrnam_r(text, &entry, buffer, sizeof(buffer), &found);
  if (!found) {
    return ireed_config_error(parser, node, key, "unknown group '%s'%s%s", text,
                              error ? ": " : "", error ? strerror(error) : "");
  }
  *out_gid = found->gr_gid;
  return IRT_OK;
}

static irt_status_t ireed_config_uid(const ireed_config_parser_t* parser,
                                     const yaml_node_t* node, const char* key,
                                     bool by_name, uid_t* out_uid) {
  if (!by_name) {
    uint64_t value = 0;
    IRT_RETURN_IF_ERROR(
        ireed_config_uint(parser, node, key, 0, (uid_t)-1 - 1, &value));
    *out_uid = (uid_t)value;
    return IRT_OK;
  }
  const char* text = NULL;
  IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, node, key, &text));
  struct passwd entry;
  struct passwd* found = NULL;
  char buffer[4096];
  int error = getpwnam_r(text, &entry, buffer, sizeof(buffer), &found);
  if (!found) {
    return ireed_config_error(parser, node, key, "unknown user '%s'%s%s", text,
                              error ? ": " : "", error ? strerror(error) : "");
  }
  *out_uid = found->pw_uid;
  return IRT_OK;
}

// One role: uids (numbers), users (names) and groups (names or gids).
static irt_status_t ireed_config_rule(ireed_config_parser_t* parser,
                                      const yaml_node_t* node, const char* key,
                                      ireed_access_rule_t* rule) {
  static const char* const kNames[] = {"uids", "users", "groups"};
  yaml_node_t* values[3];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, key, kNames, 3, values));
  char list_key[IREED_CONFIG_KEY_MAX];
  char item_key[IREED_CONFIG_KEY_MAX];
  yaml_node_item_t* items[3];
  size_t counts[3];
  for (size_t i = 0; i < 3; ++i) {
    IRT_RETURN_IF_ERROR(ireed_config_items(
        parser, values[i], ireed_config_key(list_key, key, kNames[i]),
        &items[i], &counts[i]));
  }
  irt_arena_t* arena = &parser->config->arena;
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(arena, (counts[0] + counts[1] + 1) * sizeof(uid_t),
                      sizeof(uid_t), (void**)&rule->uids));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (counts[2] + 1) * sizeof(gid_t),
                                      sizeof(gid_t), (void**)&rule->gids));
  for (size_t list = 0; list < 3; ++list) {
    ireed_config_key(list_key, key, kNames[list]);
    for (size_t i = 0; i < counts[list]; ++i) {
      yaml_node_t* item = NULL;
      ireed_config_index_key(item_key, list_key, i);
      IRT_RETURN_IF_ERROR(
          ireed_config_take(parser, items[list][i], item_key, &item));
      if (list == 2) {
        IRT_RETURN_IF_ERROR(ireed_config_gid(parser, item, item_key,
                                             &rule->gids[rule->gid_count++]));
      } else {
        IRT_RETURN_IF_ERROR(ireed_config_uid(parser, item, item_key, list == 1,
                                             &rule->uids[rule->uid_count++]));
      }
    }
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Sections
//===----------------------------------------------------------------------===//

static irt_status_t ireed_config_socket(ireed_config_parser_t* parser,
                                        const yaml_node_t* node) {
  static const char* const kNames[] = {"path", "mode", "group"};
  yaml_node_t* values[3];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, "socket", kNames, 3, values));
  ireed_config_t* config = parser->config;
  if (values[0] && !ireed_config_is_null(values[0])) {
    IRT_RETURN_IF_ERROR(ireed_config_path(parser, values[0], "socket.path",
                                          &config->socket_path));
    size_t capacity = sizeof(((struct sockaddr_un*)0)->sun_path);
    if (strlen(config->socket_path) >= capacity) {
      return ireed_config_error(parser, values[0], "socket.path",
                                "a socket path has at most %zu bytes",
                                capacity - 1);
    }
  }
  if (values[1] && !ireed_config_is_null(values[1])) {
    IRT_RETURN_IF_ERROR(ireed_config_mode(parser, values[1], "socket.mode",
                                          &config->socket_mode));
  }
  if (values[2] && !ireed_config_is_null(values[2])) {
    IRT_RETURN_IF_ERROR(ireed_config_string(parser, values[2], "socket.group",
                                            &config->socket_group));
    IRT_RETURN_IF_ERROR(ireed_config_gid(parser, values[2], "socket.group",
                                         &config->socket_gid));
  }
  return IRT_OK;
}

static irt_status_t ireed_config_access(ireed_config_parser_t* parser,
                                        const yaml_node_t* node) {
  static const char* const kNames[] = {"admin", "client"};
  yaml_node_t* values[2];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, "access", kNames, 2, values));
  ireed_access_config_t* access = &parser->config->access;
  access->enabled = true;
  access->admin.role = IREED_ROLE_ADMIN;
  access->client.role = IREED_ROLE_CLIENT;
  if (values[0]) {
    IRT_RETURN_IF_ERROR(
        ireed_config_rule(parser, values[0], "access.admin", &access->admin));
  }
  if (values[1]) {
    IRT_RETURN_IF_ERROR(
        ireed_config_rule(parser, values[1], "access.client", &access->client));
  }
  return IRT_OK;
}

static irt_status_t ireed_config_device(ireed_config_parser_t* parser,
                                        const yaml_node_t* node,
                                        const char* key, size_t index) {
  static const char* const kNames[] = {"uri", "workers", "staging_size",
                                       "pipeline_cache_dir"};
  yaml_node_t* values[4];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, key, kNames, 4, values));
  char field[IREED_CONFIG_KEY_MAX];
  IRT_RETURN_IF_ERROR(ireed_config_require(
      parser, node, ireed_config_key(field, key, "uri"), values[0], "uri"));
  ireed_config_t* config = parser->config;
  ireed_device_config_t* device = &config->devices[index];
  IRT_RETURN_IF_ERROR(
      ireed_config_string(parser, values[0], field, &device->uri));
  for (size_t i = 0; i < index; ++i) {
    if (strcmp(config->devices[i].uri, device->uri) == 0) {
      return ireed_config_error(parser, values[0], field,
                                "device '%s' is configured twice", device->uri);
    }
  }
  IRT_RETURN_IF_ERROR(ireed_config_u32(
      parser, values[1], ireed_config_key(field, key, "workers"), 1,
      IRHAL_CPU_TASK_POOL_MAX_WORKERS, &device->worker_count));
  if (values[2] && !ireed_config_is_null(values[2])) {
    // The staging ring is 4 slots of 64-byte aligned chunks.
    IRT_RETURN_IF_ERROR(ireed_config_size(
        parser, values[2], ireed_config_key(field, key, "staging_size"),
        64u << 10, 4ull << 30, &device->staging_size));
    if (device->staging_size % 256 != 0) {
      return ireed_config_error(parser, values[2], field,
                                "must be a multiple of 256 bytes");
    }
  }
  if (values[3] && !ireed_config_is_null(values[3])) {
    IRT_RETURN_IF_ERROR(ireed_config_path(
        parser, values[3], ireed_config_key(field, key, "pipeline_cache_dir"),
        &device->pipeline_cache_dir));
  }
  return IRT_OK;
}

static irt_status_t ireed_config_parameter(ireed_config_parser_t* parser,
                                           const yaml_node_t* node,
                                           const char* key,
                                           ireed_parameter_config_t* out) {
  static const char* const kNames[] = {"scope", "path"};
  yaml_node_t* values[2];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, key, kNames, 2, values));
  char field[IREED_CONFIG_KEY_MAX];
  IRT_RETURN_IF_ERROR(ireed_config_require(
      parser, node, ireed_config_key(field, key, "path"), values[1], "path"));
  IRT_RETURN_IF_ERROR(ireed_config_path(parser, values[1], field, &out->path));
  const char* scope = "";  // the default scope
  if (values[0] && !ireed_config_is_null(values[0])) {
    ireed_config_key(field, key, "scope");
    IRT_RETURN_IF_ERROR(ireed_config_scalar(parser, values[0], field, &scope));
  }
  return irt_arena_strndup(&parser->config->arena, scope, strlen(scope),
                           &out->scope);
}

static irt_status_t ireed_config_model(ireed_config_parser_t* parser,
                                       const yaml_node_t* node, const char* key,
                                       size_t index) {
  static const char* const kNames[] = {"name",       "module",
                                       "parameters", "device",
                                       "pinned",     "idle_unload_seconds"};
  yaml_node_t* values[6];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, key, kNames, 6, values));
  ireed_config_t* config = parser->config;
  ireed_model_config_t* model = &config->models[index];
  char field[IREED_CONFIG_KEY_MAX];
  IRT_RETURN_IF_ERROR(ireed_config_require(
      parser, node, ireed_config_key(field, key, "name"), values[0], "name"));
  IRT_RETURN_IF_ERROR(
      ireed_config_string(parser, values[0], field, &model->name));
  irt_status_t status = ireed_model_check_name(model->name);
  if (!irt_status_is_ok(status)) {
    irt_status_t error = ireed_config_error(parser, values[0], field, "%s",
                                            irt_status_message(status));
    irt_status_free(status);
    return error;
  }
  for (size_t i = 0; i < index; ++i) {
    if (strcmp(config->models[i].name, model->name) == 0) {
      return ireed_config_error(parser, values[0], field,
                                "duplicate model name '%s' (models[%zu])",
                                model->name, i);
    }
  }
  IRT_RETURN_IF_ERROR(
      ireed_config_require(parser, node, ireed_config_key(field, key, "module"),
                           values[1], "module"));
  IRT_RETURN_IF_ERROR(
      ireed_config_path(parser, values[1], field, &model->module_path));

  char list_key[IREED_CONFIG_KEY_MAX];
  yaml_node_item_t* items = NULL;
  size_t count = 0;
  ireed_config_key(list_key, key, "parameters");
  IRT_RETURN_IF_ERROR(
      ireed_config_items(parser, values[2], list_key, &items, &count));
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(&config->arena, (count + 1) * sizeof(*model->parameters),
                      sizeof(void*), (void**)&model->parameters));
  for (size_t i = 0; i < count; ++i) {
    yaml_node_t* item = NULL;
    ireed_config_index_key(field, list_key, i);
    IRT_RETURN_IF_ERROR(ireed_config_take(parser, items[i], field, &item));
    IRT_RETURN_IF_ERROR(
        ireed_config_parameter(parser, item, field, &model->parameters[i]));
    ++model->parameter_count;
  }

  if (values[3] && !ireed_config_is_null(values[3])) {
    ireed_config_key(field, key, "device");
    IRT_RETURN_IF_ERROR(
        ireed_config_string(parser, values[3], field, &model->device));
    // With a devices list, a model must run on one of them (a typo would
    // otherwise silently get a device without its settings).
    bool listed = config->device_count == 0;
    for (size_t i = 0; i < config->device_count && !listed; ++i) {
      listed = strcmp(config->devices[i].uri, model->device) == 0;
    }
    if (!listed) {
      return ireed_config_error(parser, values[3], field,
                                "device '%s' is not in the devices list",
                                model->device);
    }
  }
  IRT_RETURN_IF_ERROR(ireed_config_bool(parser, values[4],
                                        ireed_config_key(field, key, "pinned"),
                                        &model->pinned));
  IRT_RETURN_IF_ERROR(ireed_config_u32(
      parser, values[5], ireed_config_key(field, key, "idle_unload_seconds"), 0,
      UINT32_MAX, &model->idle_unload_seconds));
  if (model->pinned && model->idle_unload_seconds) {
    return ireed_config_error(parser, values[5], field,
                              "a pinned model is never unloaded for "
                              "idleness; drop pinned or this key");
  }
  return IRT_OK;
}

// A list section: allocates |*out_array| (count + 1 zeroed elements) and
// parses each item with |parse_item|.
static irt_status_t ireed_config_list(
    ireed_config_parser_t* parser, const yaml_node_t* node, const char* key,
    size_t element_size, void** out_array, size_t* out_count,
    irt_status_t (*parse_item)(ireed_config_parser_t*, const yaml_node_t*,
                               const char*, size_t)) {
  yaml_node_item_t* items = NULL;
  size_t count = 0;
  IRT_RETURN_IF_ERROR(ireed_config_items(parser, node, key, &items, &count));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(&parser->config->arena,
                                      (count + 1) * element_size, sizeof(void*),
                                      out_array));
  memset(*out_array, 0, (count + 1) * element_size);
  char item_key[IREED_CONFIG_KEY_MAX];
  for (size_t i = 0; i < count; ++i) {
    yaml_node_t* item = NULL;
    ireed_config_index_key(item_key, key, i);
    IRT_RETURN_IF_ERROR(ireed_config_take(parser, items[i], item_key, &item));
    IRT_RETURN_IF_ERROR(parse_item(parser, item, item_key, i));
    *out_count = i + 1;
  }
  return IRT_OK;
}

static irt_status_t ireed_config_limits(ireed_config_parser_t* parser,
                                        const yaml_node_t* node) {
  static const char* const kNames[] = {"max_clients", "max_inflight_per_client",
                                       "max_frame_size", "queue_depth",
                                       "drain_timeout_seconds"};
  yaml_node_t* values[5];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, "limits", kNames, 5, values));
  ireed_limits_config_t* limits = &parser->config->limits;
  IRT_RETURN_IF_ERROR(ireed_config_u32(parser, values[0], "limits.max_clients",
                                       1, 1000000, &limits->max_clients));
  IRT_RETURN_IF_ERROR(
      ireed_config_u32(parser, values[1], "limits.max_inflight_per_client", 1,
                       65536, &limits->max_inflight_per_client));
  if (values[2] && !ireed_config_is_null(values[2])) {
    uint64_t size = 0;
    IRT_RETURN_IF_ERROR(
        ireed_config_size(parser, values[2], "limits.max_frame_size", 4096,
                          IREED_FRAME_ABSOLUTE_MAX_SIZE, &size));
    limits->max_frame_size = (size_t)size;
  }
  IRT_RETURN_IF_ERROR(ireed_config_u32(parser, values[3], "limits.queue_depth",
                                       1, 1u << 20, &limits->queue_depth));
  return ireed_config_u32(parser, values[4], "limits.drain_timeout_seconds", 1,
                          86400, &limits->drain_timeout_seconds);
}

static irt_status_t ireed_config_logging(ireed_config_parser_t* parser,
                                         const yaml_node_t* node) {
  static const char* const kNames[] = {"level", "format"};
  yaml_node_t* values[2];
  IRT_RETURN_IF_ERROR(
      ireed_config_fields(parser, node, "logging", kNames, 2, values));
  ireed_logging_config_t* logging = &parser->config->logging;
  if (values[0] && !ireed_config_is_null(values[0])) {
    IRT_RETURN_IF_ERROR(ireed_config_string(parser, values[0], "logging.level",
                                            &logging->level));
    irt_log_level_t level;
    if (!irt_log_level_parse(logging->level, &level)) {
      return ireed_config_error(parser, values[0], "logging.level",
                                "unknown level '%s' (error, warning, info, "
                                "debug, trace)",
                                logging->level);
    }
  }
  if (values[1] && !ireed_config_is_null(values[1])) {
    const char* format = NULL;
    IRT_RETURN_IF_ERROR(
        ireed_config_scalar(parser, values[1], "logging.format", &format));
    if (strcmp(format, "json") != 0 && strcmp(format, "text") != 0) {
      return ireed_config_error(parser, values[1], "logging.format",
                                "unknown format '%s' (text or json)", format);
    }
    logging->json = strcmp(format, "json") == 0;
  }
  return IRT_OK;
}

static irt_status_t ireed_config_root(ireed_config_parser_t* parser,
                                      const yaml_node_t* root) {
  static const char* const kNames[] = {"socket", "workers", "access", "devices",
                                       "models", "limits",  "logging"};
  yaml_node_t* values[7];
  IRT_RETURN_IF_ERROR(ireed_config_fields(parser, root, "", kNames, 7, values));
  ireed_config_t* config = parser->config;
  if (values[0]) IRT_RETURN_IF_ERROR(ireed_config_socket(parser, values[0]));
  IRT_RETURN_IF_ERROR(ireed_config_u32(parser, values[1], "workers", 1, 1024,
                                       &config->worker_count));
  if (values[2]) IRT_RETURN_IF_ERROR(ireed_config_access(parser, values[2]));
  // Devices before models: a model's device must be listed.
  IRT_RETURN_IF_ERROR(ireed_config_list(
      parser, values[3], "devices", sizeof(ireed_device_config_t),
      (void**)&config->devices, &config->device_count, ireed_config_device));
  IRT_RETURN_IF_ERROR(ireed_config_list(
      parser, values[4], "models", sizeof(ireed_model_config_t),
      (void**)&config->models, &config->model_count, ireed_config_model));
  if (values[5]) IRT_RETURN_IF_ERROR(ireed_config_limits(parser, values[5]));
  if (values[6]) IRT_RETURN_IF_ERROR(ireed_config_logging(parser, values[6]));
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Documents
//===----------------------------------------------------------------------===//

static irt_status_t ireed_config_syntax_error(const char* source,
                                              const yaml_parser_t* yaml) {
  const char* problem = yaml->problem ? yaml->problem : "malformed YAML";
  if (yaml->context) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT, "%s:%zu:%zu: (syntax): %s %s (line %zu)",
        source, yaml->problem_mark.line + 1, yaml->problem_mark.column + 1,
        problem, yaml->context, yaml->context_mark.line + 1);
  }
  return irt_make_status(
      IRT_STATUS_INVALID_ARGUMENT, "%s:%zu:%zu: (syntax): %s", source,
      yaml->problem_mark.line + 1, yaml->problem_mark.column + 1, problem);
}

// Loads the one document of |data| into parser->document.
static irt_status_t ireed_config_load_document(ireed_config_parser_t* parser,
                                               const uint8_t* data,
                                               size_t size) {
  yaml_parser_t yaml;
  if (!yaml_parser_initialize(&yaml)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "%s: cannot start the YAML parser", parser->source);
  }
  yaml_parser_set_input_string(&yaml, data, size);
  irt_status_t status = IRT_OK;
  if (!yaml_parser_load(&yaml, &parser->document)) {
    status = ireed_config_syntax_error(parser->source, &yaml);
    yaml_parser_delete(&yaml);
    memset(&parser->document, 0, sizeof(parser->document));
    return status;
  }
  yaml_document_t extra;
  if (!yaml_parser_load(&yaml, &extra)) {
    status = ireed_config_syntax_error(parser->source, &yaml);
  } else {
    yaml_node_t* root = yaml_document_get_root_node(&extra);
    if (root) {
      status = irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "%s:%zu:%zu: (top level): a config file holds "
                               "one YAML document",
                               parser->source, extra.start_mark.line + 1,
                               extra.start_mark.column + 1);
    }
    yaml_document_delete(&extra);
  }
  yaml_parser_delete(&yaml);
  return status;
}

void ireed_config_initialize(irt_allocator_t allocator,
                             ireed_config_t* config) {
  memset(config, 0, sizeof(*config));
  config->allocator = allocator;
  irt_arena_init(&config->arena, allocator, 0);
}

void ireed_config_deinitialize(ireed_config_t* config) {
  irt_allocator_t allocator = config->allocator;
  irt_arena_deinit(&config->arena);
  ireed_config_initialize(allocator, config);
}

irt_status_t ireed_config_parse(const char* source_name, const char* base_dir,
                                const uint8_t* data, size_t size,
                                irt_allocator_t allocator,
                                ireed_config_t* out_config) {
  ireed_config_initialize(allocator, out_config);
  ireed_config_parser_t parser = {
      .source = source_name,
      .base_dir = base_dir,
      .config = out_config,
  };
  irt_status_t status = ireed_config_load_document(&parser, data, size);
  yaml_node_t* root = NULL;
  if (irt_status_is_ok(status)) {
    root = yaml_document_get_root_node(&parser.document);
  }
  if (root) {
    size_t node_count =
        (size_t)(parser.document.nodes.top - parser.document.nodes.start);
    status = irt_allocator_calloc(allocator, node_count, (void**)&parser.taken);
    if (irt_status_is_ok(status)) {
      parser.taken[0] = 1;  // the root (nodes are numbered from 1)
      status = ireed_config_root(&parser, root);
    }
  }
  irt_allocator_free(allocator, parser.taken);
  yaml_document_delete(&parser.document);
  if (!irt_status_is_ok(status)) ireed_config_deinitialize(out_config);
  return status;
}

irt_status_t ireed_config_load_file(const char* path, irt_allocator_t allocator,
                                    ireed_config_t* out_config) {
  ireed_config_initialize(allocator, out_config);
  char absolute[PATH_MAX];
  if (!realpath(path, absolute)) {
    int error = errno;
    return irt_make_status(
        error == ENOENT ? IRT_STATUS_NOT_FOUND : IRT_STATUS_UNAVAILABLE,
        "%s: cannot read the config: %s", path, strerror(error));
  }
  FILE* file = fopen(absolute, "rb");
  if (!file) {
    int error = errno;
    return irt_make_status(
        error == EACCES ? IRT_STATUS_PERMISSION_DENIED : IRT_STATUS_UNAVAILABLE,
        "%s: cannot read the config: %s", path, strerror(error));
  }
  uint8_t* data = NULL;
  irt_status_t status = irt_allocator_malloc(
      allocator, IREED_CONFIG_MAX_FILE_SIZE + 1, (void**)&data);
  size_t size = 0;
  if (irt_status_is_ok(status)) {
    size = fread(data, 1, IREED_CONFIG_MAX_FILE_SIZE + 1, file);
    if (ferror(file)) {
      status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                               "%s: cannot read the config: %s", path,
                               strerror(errno));
    } else if (size > IREED_CONFIG_MAX_FILE_SIZE) {
      status = irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "%s: a config file has at most %u bytes", path,
                               IREED_CONFIG_MAX_FILE_SIZE);
    }
  }
  fclose(file);
  if (irt_status_is_ok(status)) {
    char base_dir[PATH_MAX];
    memcpy(base_dir, absolute, sizeof(base_dir));
    char* slash = strrchr(base_dir, '/');
    if (slash == base_dir)
      slash[1] = '\0';  // a file in /
    else
      *slash = '\0';
    status =
        ireed_config_parse(path, base_dir, data, size, allocator, out_config);
  }
  irt_allocator_free(allocator, data);
  if (irt_status_is_ok(status)) {
    status = irt_arena_strndup(&out_config->arena, absolute, strlen(absolute),
                               &out_config->source_path);
    if (!irt_status_is_ok(status)) ireed_config_deinitialize(out_config);
  }
  return status;
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

const char* ireed_config_model_device(const ireed_config_t* config,
                                      const ireed_model_config_t* model) {
  if (model->device) return model->device;
  if (config->device_count) return config->devices[0].uri;
  return IREED_DEFAULT_DEVICE;
}

bool ireed_config_model_same_load(const ireed_config_t* config_a,
                                  const ireed_model_config_t* a,
                                  const ireed_config_t* config_b,
                                  const ireed_model_config_t* b) {
  if (strcmp(a->module_path, b->module_path) != 0 ||
      strcmp(ireed_config_model_device(config_a, a),
             ireed_config_model_device(config_b, b)) != 0 ||
      a->parameter_count != b->parameter_count) {
    return false;
  }
  for (size_t i = 0; i < a->parameter_count; ++i) {
    if (strcmp(a->parameters[i].scope, b->parameters[i].scope) != 0 ||
        strcmp(a->parameters[i].path, b->parameters[i].path) != 0) {
      return false;
    }
  }
  return true;
}
