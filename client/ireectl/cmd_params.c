// `ireectl params`: lists the entries of parameter archives (IRPA, GGUF,
// safetensors) as the runtime indexes them, and creates IRPA archives.
//   ireectl params list [SCOPE=]PATH...
//   ireectl params create --output=OUT.irpa [--data=KEY=@FILE|TEXT]...
//       [--splat=KEY=SIZExPATTERN]... [--metadata=KEY=@FILE|TEXT]...
// A file that does not parse is reported on one line (exit 1); usage errors
// exit with 2.
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ireectl/commands.h"
#include "runtime/io/irpa_writer.h"
#include "runtime/io/parameter_index.h"

static const char kIreectlParamsUsage[] =
    "usage: ireectl params list [SCOPE=]PATH...\n"
    "       ireectl params create --output=OUT.irpa "
    "[--data=KEY=@FILE|TEXT]...\n"
    "           [--splat=KEY=SIZExPATTERN]... [--metadata=KEY=@FILE|TEXT]...\n"
    "\n"
    "list    prints every entry of .irpa, .gguf and .safetensors archives:\n"
    "        scope, key, absolute file offset, length, splat pattern and a\n"
    "        metadata summary (an entry shadowed by an earlier one with the\n"
    "        same scope and key is marked).\n"
    "create  writes an IRPA archive with the entries in flag order:\n"
    "        --data   the bytes of FILE (or the TEXT itself)\n"
    "        --splat  SIZE bytes repeating PATTERN, 1/2/4/8/16 bytes in hex,\n"
    "                 in memory order: --splat=weight=16x00000040 (f32 2.0)\n"
    "        --metadata  opaque metadata for an entry given before\n";

static int ireectl_params_usage_error(const char* format, ...)
    IRT_PRINTF_LIKE(1, 2);
static int ireectl_params_usage_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "ireectl params: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n%s", kIreectlParamsUsage);
  va_end(args);
  return 2;
}

// Prints |status| as the command's one error line and consumes it.
static int ireectl_params_report(irt_status_t status) {
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  fflush(stdout);
  fprintf(stderr, "ireectl params: %s: %s\n",
          irt_status_code_string(irt_status_code(status)), text);
  irt_status_free(status);
  return 1;
}

//===----------------------------------------------------------------------===//
// list
//===----------------------------------------------------------------------===//

#define IREECTL_PARAMS_METADATA_PREVIEW 48

// "splat 66", "data", plus "metadata N bytes: PREVIEW" when present.
static void ireectl_params_describe(const irio_entry_t* entry, char* text,
                                    size_t capacity) {
  int used = 0;
  if (entry->storage == IRIO_ENTRY_STORAGE_SPLAT) {
    used = snprintf(text, capacity, "splat");
    for (uint8_t i = 0; i < entry->pattern_length; ++i) {
      used += snprintf(text + used, capacity - (size_t)used, " %02x",
                       entry->pattern[i]);
    }
  } else {
    used = snprintf(text, capacity, "data");
  }
  if (entry->metadata.size) {
    char preview[IREECTL_PARAMS_METADATA_PREVIEW + 4];
    snprintf(text + used, capacity - (size_t)used, ", metadata %zu bytes: %s",
             entry->metadata.size,
             irio_format_key(entry->metadata, preview, sizeof(preview)));
  }
}

typedef struct ireectl_params_row_s {
  char scope[66], key[130], offset[24], length[24], storage[160];
} ireectl_params_row_t;

static void ireectl_params_make_row(const irio_parameter_index_t* index,
                                    const irio_parameter_t* parameter,
                                    ireectl_params_row_t* row) {
  char scope[64];
  snprintf(
      row->scope, sizeof(row->scope), "'%s'",
      irio_format_key(irio_parameter_index_scope(index, parameter->scope_index),
                      scope, sizeof(scope)));
  irio_format_key(parameter->entry.key, row->key, sizeof(row->key));
  if (parameter->entry.storage == IRIO_ENTRY_STORAGE_FILE) {
    snprintf(row->offset, sizeof(row->offset), "%" PRIu64,
             parameter->entry.file_offset);
  } else {
    snprintf(row->offset, sizeof(row->offset), "-");
  }
  snprintf(row->length, sizeof(row->length), "%" PRIu64,
           parameter->entry.length);
  ireectl_params_describe(&parameter->entry, row->storage,
                          sizeof(row->storage));
  const irio_parameter_t* first = irio_parameter_index_find(
      index, irio_parameter_index_scope(index, parameter->scope_index),
      parameter->entry.key);
  if (first != parameter) {
    size_t used = strlen(row->storage);
    snprintf(row->storage + used, sizeof(row->storage) - used,
             " (shadowed by an earlier entry)");
  }
}

// Prints the entries of archive |archive_index| as an aligned table.
static void ireectl_params_print_archive(const irio_parameter_index_t* index,
                                         size_t archive_index) {
  size_t count = 0;
  for (size_t i = 0; i < irio_parameter_index_count(index); ++i) {
    count += irio_parameter_index_at(index, i)->archive_index == archive_index;
  }
  irio_file_mapping_t* mapping =
      irio_parameter_index_archive(index, archive_index);
  printf("%s: %s, %" PRIu64 " bytes, %zu entr%s\n",
         irio_file_mapping_path(mapping),
         irio_archive_format_name(
             irio_parameter_index_archive_format(index, archive_index)),
         irio_file_mapping_size(mapping), count, count == 1 ? "y" : "ies");
  if (count == 0) return;
  ireectl_params_row_t* rows = calloc(count + 1, sizeof(*rows));
  if (!rows) return;
  rows[0] =
      (ireectl_params_row_t){"SCOPE", "KEY", "OFFSET", "LENGTH", "STORAGE"};
  size_t row = 1;
  for (size_t i = 0; i < irio_parameter_index_count(index); ++i) {
    const irio_parameter_t* parameter = irio_parameter_index_at(index, i);
    if (parameter->archive_index != archive_index) continue;
    ireectl_params_make_row(index, parameter, &rows[row++]);
  }
  int widths[3] = {0, 0, 0};
  for (size_t r = 0; r <= count; ++r) {
    const char* cells[3] = {rows[r].scope, rows[r].key, rows[r].offset};
    for (int c = 0; c < 3; ++c) {
      int width = (int)strlen(cells[c]);
      if (width > widths[c]) widths[c] = width;
    }
  }
  for (size_t r = 0; r <= count; ++r) {
    printf("  %-*s  %-*s  %*s  %10s  %s\n", widths[0], rows[r].scope, widths[1],
           rows[r].key, widths[2], rows[r].offset, rows[r].length,
           rows[r].storage);
  }
  free(rows);
}

static int ireectl_params_list(int argc, char** argv) {
  if (argc < 2) return ireectl_params_usage_error("list needs a file");
  irio_parameter_index_t* index = NULL;
  irt_status_t status =
      irio_parameter_index_create(irt_allocator_system(), &index);
  for (int i = 1; i < argc && irt_status_is_ok(status); ++i) {
    irt_string_view_t scope;
    const char* path = NULL;
    status = irio_parameter_split_flag(argv[i], &scope, &path);
    if (irt_status_is_ok(status)) {
      status = irio_parameter_index_add_file(index, scope, path,
                                             IRIO_FILE_MODE_READ);
    }
  }
  if (irt_status_is_ok(status)) {
    for (size_t i = 0; i < irio_parameter_index_archive_count(index); ++i) {
      ireectl_params_print_archive(index, i);
    }
  }
  irio_parameter_index_release(index);
  return irt_status_is_ok(status) ? 0 : ireectl_params_report(status);
}

//===----------------------------------------------------------------------===//
// create
//===----------------------------------------------------------------------===//

typedef struct ireectl_params_create_s {
  const char* output;
  irio_irpa_writer_entry_t* entries;
  size_t count;
  irio_file_mapping_t** mappings;  // of @FILE values, released at the end
  size_t mapping_count;
} ireectl_params_create_t;

// The bytes of a value: "@FILE" maps FILE, anything else is the text.
static irt_status_t ireectl_params_value(ireectl_params_create_t* create,
                                         const char* value,
                                         irt_string_view_t* out_bytes) {
  if (value[0] != '@') {
    *out_bytes = irt_make_cstring_view(value);
    return IRT_OK;
  }
  irio_file_mapping_t* mapping = NULL;
  IRT_RETURN_IF_ERROR(irio_file_mapping_open(value + 1, IRIO_FILE_MODE_READ,
                                             irt_allocator_system(), &mapping));
  create->mappings[create->mapping_count++] = mapping;
  *out_bytes =
      irt_make_string_view((const char*)irio_file_mapping_data(mapping),
                           (size_t)irio_file_mapping_size(mapping));
  return IRT_OK;
}

static int ireectl_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// "SIZExPATTERN": a decimal byte count and 1-16 hex bytes in memory order.
static irt_status_t ireectl_params_splat(const char* flag, const char* value,
                                         irio_irpa_writer_entry_t* entry) {
  char* end = NULL;
  errno = 0;
  unsigned long long size = strtoull(value, &end, 10);
  size_t digits = end && *end == 'x' ? strlen(end + 1) : 0;
  bool ok = value[0] >= '0' && value[0] <= '9' && errno == 0 && digits > 0 &&
            digits % 2 == 0 && digits / 2 <= IRIO_SPLAT_PATTERN_CAPACITY;
  for (size_t i = 0; ok && i < digits / 2; ++i) {
    int high = ireectl_hex_digit(end[1 + 2 * i]);
    int low = ireectl_hex_digit(end[2 + 2 * i]);
    ok = high >= 0 && low >= 0;
    entry->pattern[i] = (uint8_t)(high * 16 + low);
  }
  if (!ok) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s: expected SIZExPATTERN with PATTERN 1 to 16 "
                           "bytes in hex (e.g. 16x00000040)",
                           flag);
  }
  entry->storage = IRIO_ENTRY_STORAGE_SPLAT;
  entry->length = size;
  entry->pattern_length = (uint8_t)(digits / 2);
  return IRT_OK;
}

static irio_irpa_writer_entry_t* ireectl_params_find(
    ireectl_params_create_t* create, irt_string_view_t key) {
  for (size_t i = 0; i < create->count; ++i) {
    if (irt_string_view_equal(create->entries[i].key, key)) {
      return &create->entries[i];
    }
  }
  return NULL;
}

// One --data/--splat/--metadata flag: "KEY=VALUE".
static irt_status_t ireectl_params_add(ireectl_params_create_t* create,
                                       const char* flag, const char* name,
                                       const char* value) {
  const char* equals = strchr(value, '=');
  if (!equals) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s: expected KEY=VALUE", flag);
  }
  irt_string_view_t key = irt_make_string_view(value, (size_t)(equals - value));
  irio_irpa_writer_entry_t* existing = ireectl_params_find(create, key);
  if (strcmp(name, "metadata") == 0) {
    if (!existing) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "%s: no --data or --splat entry '%.*s' before it",
                             flag, IRT_SV_ARG(key));
    }
    IRT_RETURN_IF_ERROR_CTX(
        ireectl_params_value(create, equals + 1, &existing->metadata), "%s",
        flag);
    return IRT_OK;
  }
  if (existing) {
    return irt_make_status(IRT_STATUS_ALREADY_EXISTS,
                           "%s: key '%.*s' is given twice", flag,
                           IRT_SV_ARG(key));
  }
  irio_irpa_writer_entry_t* entry = &create->entries[create->count];
  *entry = (irio_irpa_writer_entry_t){.key = key};
  if (strcmp(name, "splat") == 0) {
    IRT_RETURN_IF_ERROR(ireectl_params_splat(flag, equals + 1, entry));
  } else {
    irt_string_view_t bytes;
    IRT_RETURN_IF_ERROR_CTX(ireectl_params_value(create, equals + 1, &bytes),
                            "%s", flag);
    entry->storage = IRIO_ENTRY_STORAGE_FILE;
    entry->data = bytes.data;
    entry->length = bytes.size;
  }
  ++create->count;
  return IRT_OK;
}

// Writes the archive next to |output| and renames it into place, so a failed
// run never leaves a truncated archive behind.
static irt_status_t ireectl_params_write(
    const ireectl_params_create_t* create) {
  size_t length = strlen(create->output) + 16;
  char* partial = malloc(length);
  if (!partial) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  snprintf(partial, length, "%s.partial", create->output);
  FILE* file = fopen(partial, "wb");
  irt_status_t status = IRT_OK;
  if (!file) {
    status =
        irt_make_status(IRT_STATUS_PERMISSION_DENIED, "cannot create '%s': %s",
                        partial, strerror(errno));
  } else {
    status =
        irio_irpa_write(create->entries, create->count, file, create->output);
    if (fclose(file) != 0 && irt_status_is_ok(status)) {
      status = irt_make_status(IRT_STATUS_DATA_LOSS, "writing '%s': %s",
                               create->output, strerror(errno));
    }
    if (irt_status_is_ok(status) && rename(partial, create->output) != 0) {
      status = irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                               "cannot rename '%s' to '%s': %s", partial,
                               create->output, strerror(errno));
    }
    if (!irt_status_is_ok(status)) unlink(partial);
  }
  free(partial);
  return status;
}

// Parses the flags into |create|; returns -1 to go on, else the exit status.
static int ireectl_params_parse_create(int argc, char** argv,
                                       ireectl_params_create_t* create,
                                       irt_status_t* out_status) {
  for (int i = 1; i < argc && irt_status_is_ok(*out_status); ++i) {
    const char* arg = argv[i];
    const char* equals = strchr(arg, '=');
    if (strncmp(arg, "--", 2) != 0 || !equals) {
      return ireectl_params_usage_error("unexpected argument '%s'", arg);
    }
    size_t name_length = (size_t)(equals - arg - 2);
    char name[16] = {0};
    if (name_length < sizeof(name)) memcpy(name, arg + 2, name_length);
    if (strcmp(name, "output") == 0) {
      create->output = equals + 1;
    } else if (strcmp(name, "data") == 0 || strcmp(name, "splat") == 0 ||
               strcmp(name, "metadata") == 0) {
      *out_status = ireectl_params_add(create, arg, name, equals + 1);
    } else {
      return ireectl_params_usage_error("unknown flag '%s'", arg);
    }
  }
  if (irt_status_is_ok(*out_status) && (!create->output || !*create->output)) {
    return ireectl_params_usage_error("create needs --output=OUT.irpa");
  }
  return -1;
}

static int ireectl_params_create(int argc, char** argv) {
  ireectl_params_create_t create = {0};
  // At most one entry and one mapping per flag.
  create.entries = calloc((size_t)argc, sizeof(*create.entries));
  create.mappings = calloc((size_t)argc, sizeof(*create.mappings));
  irt_status_t status = IRT_OK;
  int exit_code = -1;
  if (!create.entries || !create.mappings) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  } else {
    exit_code = ireectl_params_parse_create(argc, argv, &create, &status);
  }
  if (exit_code < 0 && irt_status_is_ok(status)) {
    status = ireectl_params_write(&create);
  }
  if (exit_code < 0) {
    exit_code = irt_status_is_ok(status) ? 0 : ireectl_params_report(status);
  } else {
    irt_status_free(status);
  }
  for (size_t i = 0; i < create.mapping_count; ++i) {
    irio_file_mapping_release(create.mappings[i]);
  }
  free(create.mappings);
  free(create.entries);
  return exit_code;
}

int ireectl_cmd_params(int argc, char** argv) {
  if (argc >= 2 &&
      (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    fputs(kIreectlParamsUsage, stdout);
    return 0;
  }
  if (argc >= 2 && strcmp(argv[1], "list") == 0) {
    return ireectl_params_list(argc - 1, argv + 1);
  }
  if (argc >= 2 && strcmp(argv[1], "create") == 0) {
    return ireectl_params_create(argc - 1, argv + 1);
  }
  return ireectl_params_usage_error("expected 'list' or 'create'");
}
