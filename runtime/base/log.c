#include "runtime/base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static struct {
  irt_log_config_t config;
  bool to_journal;
  pthread_mutex_t mutex;
} irt_logger = {
    .config = {.level = IRT_LOG_WARNING},
    .mutex = PTHREAD_MUTEX_INITIALIZER,
};

static const char* const irt_log_level_names[] = {"error", "warning", "info",
                                                  "debug", "trace"};
// syslog priorities: err, warning, info, debug, debug.
static const int irt_log_syslog_priority[] = {3, 4, 6, 7, 7};

// systemd sets JOURNAL_STREAM=dev:inode for the fd it connected; only use the
// <N> prefix when stderr is really that stream (not when redirected).
static bool irt_log_stderr_is_journal(void) {
  const char* stream = getenv("JOURNAL_STREAM");
  if (!stream) return false;
  unsigned long long dev = 0, ino = 0;
  if (sscanf(stream, "%llu:%llu", &dev, &ino) != 2) return false;
  struct stat st;
  if (fstat(2, &st) != 0) return false;
  return (unsigned long long)st.st_dev == dev &&
         (unsigned long long)st.st_ino == ino;
}

void irt_log_configure(const irt_log_config_t* config) {
  pthread_mutex_lock(&irt_logger.mutex);
  irt_logger.config = *config;
  irt_logger.to_journal = irt_log_stderr_is_journal();
  pthread_mutex_unlock(&irt_logger.mutex);
}

irt_log_level_t irt_log_level(void) {
  return __atomic_load_n(&irt_logger.config.level, __ATOMIC_RELAXED);
}

bool irt_log_level_parse(const char* text, irt_log_level_t* out_level) {
  for (int i = 0; i <= IRT_LOG_TRACE; ++i) {
    if (strcmp(text, irt_log_level_names[i]) == 0) {
      *out_level = (irt_log_level_t)i;
      return true;
    }
  }
  if (strcmp(text, "warn") == 0) {
    *out_level = IRT_LOG_WARNING;
    return true;
  }
  return false;
}

const char* irt_log_level_name(irt_log_level_t level) {
  if ((unsigned)level <= IRT_LOG_TRACE) return irt_log_level_names[level];
  return "unknown";
}

// Appends to a fixed line buffer, truncating (always NUL-terminated).
typedef struct irt_log_buffer_s {
  char data[2048];
  size_t size;
} irt_log_buffer_t;

static void irt_log_append(irt_log_buffer_t* buffer, const char* format, ...)
    IRT_PRINTF_LIKE(2, 3);
static void irt_log_append(irt_log_buffer_t* buffer, const char* format, ...) {
  if (buffer->size >= sizeof(buffer->data) - 1) return;
  va_list args;
  va_start(args, format);
  int written = vsnprintf(buffer->data + buffer->size,
                          sizeof(buffer->data) - buffer->size, format, args);
  va_end(args);
  if (written < 0) return;
  buffer->size += (size_t)written;
  if (buffer->size > sizeof(buffer->data) - 1) {
    buffer->size = sizeof(buffer->data) - 1;
  }
}

// |text| as the body of a JSON string (quotes, backslashes and control
// characters escaped).
static void irt_log_append_json_string(irt_log_buffer_t* buffer,
                                       const char* text) {
  for (const unsigned char* c = (const unsigned char*)text; *c; ++c) {
    if (*c == '"' || *c == '\\') {
      irt_log_append(buffer, "\\%c", *c);
    } else if (*c < 0x20) {
      irt_log_append(buffer, "\\u%04x", *c);
    } else {
      irt_log_append(buffer, "%c", *c);
    }
  }
}

// Writes one line: |text| ("LEVEL component: text") or, for JSON lines,
// {"level":..,"component":..,|json_members|}.
static void irt_log_write(irt_log_level_t level, const char* component,
                          const char* text, const char* json_members) {
  pthread_mutex_lock(&irt_logger.mutex);
  if (irt_logger.config.sink) {
    irt_logger.config.sink(irt_logger.config.sink_user_data, level, component,
                           text);
  } else if (irt_logger.config.json) {
    if (irt_logger.to_journal) {
      fprintf(stderr, "<%d>", irt_log_syslog_priority[level]);
    }
    irt_log_buffer_t escaped = {.size = 0};
    irt_log_append_json_string(&escaped, component);
    fprintf(stderr, "{\"level\":\"%s\",\"component\":\"%s\",%s}\n",
            irt_log_level_name(level), escaped.data, json_members);
  } else if (irt_logger.to_journal) {
    fprintf(stderr, "<%d>%s: %s\n", irt_log_syslog_priority[level], component,
            text);
  } else {
    fprintf(stderr, "%s %s: %s\n", irt_log_level_name(level), component, text);
  }
  pthread_mutex_unlock(&irt_logger.mutex);
}

void irt_logv(irt_log_level_t level, const char* component, const char* format,
              va_list args) {
  if (!irt_log_enabled(level)) return;
  char message[2048];
  vsnprintf(message, sizeof(message), format, args);
  irt_log_buffer_t members = {.size = 0};
  irt_log_append(&members, "\"message\":\"");
  irt_log_append_json_string(&members, message);
  irt_log_append(&members, "\"");
  irt_log_write(level, component, message, members.data);
}

// True when a text value must be quoted to read back as one value.
static bool irt_log_needs_quotes(const char* value) {
  if (!*value) return true;
  for (const char* c = value; *c; ++c) {
    if (*c == ' ' || *c == '"' || *c == '=' || *c == '\\' ||
        (unsigned char)*c < 0x20) {
      return true;
    }
  }
  return false;
}

static void irt_log_append_field(irt_log_buffer_t* text, irt_log_buffer_t* json,
                                 const irt_log_field_t* field) {
  irt_log_append(text, " %s=", field->key);
  irt_log_append(json, ",\"");
  irt_log_append_json_string(json, field->key);
  irt_log_append(json, "\":");
  switch (field->type) {
    case IRT_LOG_FIELD_U64:
      irt_log_append(text, "%llu", (unsigned long long)field->u64);
      irt_log_append(json, "%llu", (unsigned long long)field->u64);
      return;
    case IRT_LOG_FIELD_I64:
      irt_log_append(text, "%lld", (long long)field->i64);
      irt_log_append(json, "%lld", (long long)field->i64);
      return;
    default:
      break;
  }
  const char* value = field->string ? field->string : "";
  if (irt_log_needs_quotes(value)) {
    // The JSON escapes double as the text form's: "a \"b\"".
    irt_log_append(text, "\"");
    irt_log_append_json_string(text, value);
    irt_log_append(text, "\"");
  } else {
    irt_log_append(text, "%s", value);
  }
  irt_log_append(json, "\"");
  irt_log_append_json_string(json, value);
  irt_log_append(json, "\"");
}

void irt_log_event(irt_log_level_t level, const char* component,
                   const char* event, const irt_log_field_t* fields,
                   size_t field_count) {
  if (!irt_log_enabled(level)) return;
  irt_log_buffer_t text = {.size = 0};
  irt_log_buffer_t json = {.size = 0};
  irt_log_append(&text, "%s", event);
  irt_log_append(&json, "\"event\":\"");
  irt_log_append_json_string(&json, event);
  irt_log_append(&json, "\"");
  for (size_t i = 0; i < field_count; ++i) {
    irt_log_append_field(&text, &json, &fields[i]);
  }
  irt_log_write(level, component, text.data, json.data);
}

void irt_log(irt_log_level_t level, const char* component, const char* format,
             ...) {
  va_list args;
  va_start(args, format);
  irt_logv(level, component, format, args);
  va_end(args);
}

void irt_log_status(irt_log_level_t level, const char* component,
                    const char* prefix, irt_status_t status) {
  if (!irt_log_enabled(level)) return;
  char text[2048];
  irt_status_format_brief(status, text, sizeof(text));
  irt_log(level, component, "%s: %s", prefix, text);
}
