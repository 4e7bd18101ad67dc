// Leveled, structured log lines on a configurable sink (stderr by default).
//
// One line per event: "LEVEL component: message". When stderr is connected to
// the systemd journal (JOURNAL_STREAM matches stderr) lines carry the "<N>"
// syslog priority prefix instead, so journald records the level.
// The logger is process-wide state configured explicitly by the program's
// main (irt_log_configure); libraries only call irt_log.
#ifndef IRT_BASE_LOG_H
#define IRT_BASE_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/base/status.h"

typedef enum irt_log_level_e {
  IRT_LOG_ERROR = 0,
  IRT_LOG_WARNING = 1,
  IRT_LOG_INFO = 2,
  IRT_LOG_DEBUG = 3,
  IRT_LOG_TRACE = 4,
} irt_log_level_t;

typedef void (*irt_log_sink_fn_t)(void* user_data, irt_log_level_t level,
                                  const char* component, const char* message);

typedef struct irt_log_config_s {
  irt_log_level_t level;   // events above this level are dropped
  irt_log_sink_fn_t sink;  // NULL: write to stderr
  void* sink_user_data;
  // stderr lines as JSON objects ({"level":..,"component":..,"message":..})
  // instead of "LEVEL component: message".
  bool json;
} irt_log_config_t;

void irt_log_configure(const irt_log_config_t* config);
irt_log_level_t irt_log_level(void);
static inline bool irt_log_enabled(irt_log_level_t level) {
  return level <= irt_log_level();
}

// Parses "error", "warning"/"warn", "info", "debug", "trace".
bool irt_log_level_parse(const char* text, irt_log_level_t* out_level);
const char* irt_log_level_name(irt_log_level_t level);

void irt_log(irt_log_level_t level, const char* component, const char* format,
             ...) IRT_PRINTF_LIKE(3, 4);
void irt_logv(irt_log_level_t level, const char* component, const char* format,
              va_list args) IRT_PRINTF_LIKE(3, 0);

// Structured events: what happened (|event|, e.g. "connection.accepted")
// and typed fields. Text lines read "LEVEL component: event key=value ..."
// (values with spaces, quotes or '=' in double quotes, escaped as in JSON);
// JSON lines carry "event" and every field as members (numbers unquoted).
// A sink gets the text form.
typedef enum irt_log_field_type_e {
  IRT_LOG_FIELD_STRING = 0,
  IRT_LOG_FIELD_U64 = 1,
  IRT_LOG_FIELD_I64 = 2,
} irt_log_field_type_t;

typedef struct irt_log_field_s {
  const char* key;
  irt_log_field_type_t type;
  union {
    const char* string;  // NULL logs as ""
    uint64_t u64;
    int64_t i64;
  };
} irt_log_field_t;

#define IRT_LOG_STR(k, v) \
  ((irt_log_field_t){.key = (k), .type = IRT_LOG_FIELD_STRING, .string = (v)})
#define IRT_LOG_U64(k, v) \
  ((irt_log_field_t){.key = (k), .type = IRT_LOG_FIELD_U64, .u64 = (v)})
#define IRT_LOG_I64(k, v) \
  ((irt_log_field_t){.key = (k), .type = IRT_LOG_FIELD_I64, .i64 = (v)})

void irt_log_event(irt_log_level_t level, const char* component,
                   const char* event, const irt_log_field_t* fields,
                   size_t field_count);

// irt_log_event with the fields listed inline:
//   IRT_LOG_EVENT(IRT_LOG_INFO, "ireed", "model.loaded",
//                 IRT_LOG_STR("model", name), IRT_LOG_U64("ms", ms));
#define IRT_LOG_EVENT(level, component, event, ...)              \
  irt_log_event((level), (component), (event),                   \
                (const irt_log_field_t[]){__VA_ARGS__},          \
                sizeof((const irt_log_field_t[]){__VA_ARGS__}) / \
                    sizeof(irt_log_field_t))

// Logs "prefix: <status text>" at |level| without consuming |status|.
void irt_log_status(irt_log_level_t level, const char* component,
                    const char* prefix, irt_status_t status);

#endif  // IRT_BASE_LOG_H
