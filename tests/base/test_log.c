#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "runtime/base/log.h"

typedef struct {
  int calls;
  irt_log_level_t level;
  char line[256];
} captured_log_t;

static void capture(void* user_data, irt_log_level_t level,
                    const char* component, const char* message) {
  captured_log_t* captured = user_data;
  ++captured->calls;
  captured->level = level;
  snprintf(captured->line, sizeof(captured->line), "%s|%s", component, message);
}

static void test_levels_filter(void** state) {
  (void)state;
  captured_log_t captured = {0};
  irt_log_config_t config = {
      .level = IRT_LOG_INFO, .sink = capture, .sink_user_data = &captured};
  irt_log_configure(&config);
  irt_log(IRT_LOG_DEBUG, "vm", "dropped %d", 1);
  assert_int_equal(captured.calls, 0);
  irt_log(IRT_LOG_WARNING, "vm", "kept %d", 2);
  assert_int_equal(captured.calls, 1);
  assert_int_equal(captured.level, IRT_LOG_WARNING);
  assert_string_equal(captured.line, "vm|kept 2");
}

static void test_log_status(void** state) {
  (void)state;
  captured_log_t captured = {0};
  irt_log_config_t config = {
      .level = IRT_LOG_TRACE, .sink = capture, .sink_user_data = &captured};
  irt_log_configure(&config);
  irt_status_t status = irt_make_status(IRT_STATUS_INTERNAL, "boom");
  status = irt_status_annotate(status, "while testing");
  irt_log_status(IRT_LOG_ERROR, "daemon", "request failed", status);
  irt_status_free(status);
  assert_string_equal(captured.line,
                      "daemon|request failed: boom; while testing");
}

static void test_parse_levels(void** state) {
  (void)state;
  irt_log_level_t level;
  assert_true(irt_log_level_parse("debug", &level));
  assert_int_equal(level, IRT_LOG_DEBUG);
  assert_true(irt_log_level_parse("warn", &level));
  assert_int_equal(level, IRT_LOG_WARNING);
  assert_false(irt_log_level_parse("loud", &level));
  assert_string_equal(irt_log_level_name(IRT_LOG_TRACE), "trace");
}

// Lines go to stderr: capture it in a temporary file while |log| runs
// with stderr output (|json| or text) and return the first line.
static void capture_line(bool json, void (*log)(void), char* line,
                         size_t capacity) {
  fflush(stderr);
  FILE* capture_file = tmpfile();
  assert_non_null(capture_file);
  int saved = dup(2);
  assert_true(saved >= 0);
  assert_int_equal(dup2(fileno(capture_file), 2), 2);
  irt_log_config_t config = {.level = IRT_LOG_INFO, .json = json};
  irt_log_configure(&config);
  log();
  fflush(stderr);
  assert_int_equal(dup2(saved, 2), 2);
  close(saved);
  line[0] = '\0';
  rewind(capture_file);
  assert_non_null(fgets(line, (int)capacity, capture_file));
  fclose(capture_file);
}

static void log_quoted(void) {
  irt_log(IRT_LOG_WARNING, "ireed", "say \"hi\"\\\n");
}

static void test_json_lines(void** state) {
  (void)state;
  char line[256];
  capture_line(true, log_quoted, line, sizeof(line));
  assert_string_equal(line,
                      "{\"level\":\"warning\",\"component\":\"ireed\","
                      "\"message\":\"say \\\"hi\\\"\\\\\\u000a\"}\n");
}

static void log_event(void) {
  IRT_LOG_EVENT(IRT_LOG_INFO, "ireed", "connection.accepted",
                IRT_LOG_U64("conn", 7), IRT_LOG_I64("pid", -1),
                IRT_LOG_STR("role", "admin"), IRT_LOG_STR("why", "a \"b\"=c"),
                IRT_LOG_STR("empty", NULL));
}

// Events: key=value text (quoted when needed), JSON members with numbers.
static void test_events(void** state) {
  (void)state;
  char line[512];
  capture_line(false, log_event, line, sizeof(line));
  assert_string_equal(line,
                      "info ireed: connection.accepted conn=7 pid=-1 "
                      "role=admin why=\"a \\\"b\\\"=c\" empty=\"\"\n");
  capture_line(true, log_event, line, sizeof(line));
  assert_string_equal(line,
                      "{\"level\":\"info\",\"component\":\"ireed\","
                      "\"event\":\"connection.accepted\",\"conn\":7,"
                      "\"pid\":-1,\"role\":\"admin\",\"why\":\"a \\\"b\\\"=c\","
                      "\"empty\":\"\"}\n");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_levels_filter),
      cmocka_unit_test(test_log_status),
      cmocka_unit_test(test_parse_levels),
      cmocka_unit_test(test_json_lines),
      cmocka_unit_test(test_events),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
