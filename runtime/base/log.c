#include "runtime/base/log.h"

#include <pthread.h>
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

// |text| as the body of a JSON string (quotes, backslashes and control
// characters escaped) on |out|.
static void irt_log_write_json_string(FILE* out, const char* text) {
  for (const unsigned char* c = (const unsigned char*)text; *c; ++c) {
    if (*c == '"' || *c == '\\') {
      fprintf(out, "\\%c", *c);
    } else if (*c < 0x20) {
      fprintf(out, "\\u%04x", *c);
    } else {
      fputc(*c, out);
    }
  }
}

static void irt_log_write_json(FILE* out, irt_log_level_t level,
                               const char* component, const char* message) {
  fprintf(out, "{\"level\":\"%s\",\"component\":\"", irt_log_level_name(level));
  irt_log_write_json_string(out, component);
  fputs("\",\"message\":\"", out);
  irt_log_write_json_string(out, message);
  fputs("\"}\n", out);
}

void irt_logv(irt_log_level_t level, const char* component, const char* format,
              va_list args) {
  if (!irt_log_enabled(level)) return;
  char message[2048];
  vsnprintf(message, sizeof(message), format, args);
  pthread_mutex_lock(&irt_logger.mutex);
  if (irt_logger.config.sink) {
    irt_logger.config.sink(irt_logger.config.sink_user_data, level, component,
                           message);
  } else if (irt_logger.config.json) {
    if (irt_logger.to_journal) {
      fprintf(stderr, "<%d>", irt_log_syslog_priority[level]);
    }
    irt_log_write_json(stderr, level, component, message);
  } else if (irt_logger.to_journal) {
    fprintf(stderr, "<%d>%s: %s\n", irt_log_syslog_priority[level], component,
            message);
  } else {
    fprintf(stderr, "%s %s: %s\n", irt_log_level_name(level), component,
            message);
  }
  pthread_mutex_unlock(&irt_logger.mutex);
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
