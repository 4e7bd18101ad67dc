#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "runtime/base/status.h"

static irt_status_t fail_inner(void) {
  return irt_make_status(IRT_STATUS_NOT_FOUND, "no module named '%s'", "hal");
}

static irt_status_t fail_outer(void) {
  IRT_RETURN_IF_ERROR_CTX(fail_inner(), "while loading %s", "a.vmfb");
  return IRT_OK;
}

static irt_status_t pass_through(void) {
  IRT_RETURN_IF_ERROR_CTX(IRT_OK, "never %s", "formatted");
  return IRT_OK;
}

static void test_ok_is_null(void** state) {
  (void)state;
  assert_true(irt_status_is_ok(IRT_OK));
  assert_int_equal(irt_status_code(IRT_OK), IRT_STATUS_OK);
  assert_true(irt_status_is_ok(pass_through()));
  char text[16];
  irt_status_format_brief(IRT_OK, text, sizeof(text));
  assert_string_equal(text, "OK");
}

static void test_code_and_message(void** state) {
  (void)state;
  irt_status_t status = fail_inner();
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  assert_string_equal(irt_status_message(status), "no module named 'hal'");
  irt_status_free(status);
}

static void test_annotations_record_origin(void** state) {
  (void)state;
  irt_status_t status = fail_outer();
  char text[512];
  size_t length = irt_status_format(status, text, sizeof(text));
  assert_int_equal(length, strlen(text));
  assert_non_null(strstr(text, "NOT_FOUND; no module named 'hal'"));
  assert_non_null(strstr(text, "test_status.c:"));
  assert_non_null(strstr(text, ": while loading a.vmfb"));
  irt_status_format_brief(status, text, sizeof(text));
  assert_string_equal(text, "no module named 'hal'; while loading a.vmfb");
  irt_status_free(status);
}

static irt_status_t propagate_plain(void) {
  IRT_RETURN_IF_ERROR(fail_inner());
  return IRT_OK;
}

static void test_plain_propagation_records_location(void** state) {
  (void)state;
  irt_status_t status = propagate_plain();
  char text[512];
  irt_status_format(status, text, sizeof(text));
  assert_non_null(strstr(text, "\n  at "));
  irt_status_format_brief(status, text, sizeof(text));
  assert_string_equal(text, "no module named 'hal'");
  irt_status_free(status);
}

static void test_format_truncates_safely(void** state) {
  (void)state;
  irt_status_t status = fail_outer();
  char small[8];
  size_t needed = irt_status_format(status, small, sizeof(small));
  assert_true(needed > sizeof(small));
  assert_int_equal(strlen(small), sizeof(small) - 1);
  assert_int_equal(irt_status_format(status, NULL, 0), needed);
  irt_status_free(status);
}

static void test_ok_code_becomes_unknown(void** state) {
  (void)state;
  irt_status_t status = irt_make_status(IRT_STATUS_OK, "bogus");
  assert_false(irt_status_is_ok(status));
  assert_int_equal(irt_status_consume_code(status), IRT_STATUS_UNKNOWN);
}

static void test_code_strings(void** state) {
  (void)state;
  assert_string_equal(irt_status_code_string(IRT_STATUS_DEFERRED), "DEFERRED");
  assert_string_equal(irt_status_code_string(IRT_STATUS_INCOMPATIBLE),
                      "INCOMPATIBLE");
  assert_string_equal(irt_status_code_string((irt_status_code_t)99),
                      "UNKNOWN_CODE");
}

static void test_clone_is_independent(void** state) {
  (void)state;
  assert_null(irt_status_clone(IRT_OK));
  irt_status_t status = fail_outer();
  irt_status_t copy = irt_status_clone(status);
  assert_ptr_not_equal(copy, status);
  char original_text[512];
  char copy_text[512];
  irt_status_format(status, original_text, sizeof(original_text));
  irt_status_free(status);  // the copy must not share anything with it
  irt_status_format(copy, copy_text, sizeof(copy_text));
  assert_string_equal(copy_text, original_text);
  assert_int_equal(irt_status_code(copy), IRT_STATUS_NOT_FOUND);
  // Annotating the copy leaves later copies of it intact, and vice versa.
  irt_status_t second = irt_status_clone(copy);
  copy = irt_status_annotate(copy, "only on the first copy");
  irt_status_format_brief(second, copy_text, sizeof(copy_text));
  assert_string_equal(copy_text, "no module named 'hal'; while loading a.vmfb");
  irt_status_free(second);
  irt_status_format_brief(copy, copy_text, sizeof(copy_text));
  assert_string_equal(copy_text,
                      "no module named 'hal'; while loading a.vmfb; only on "
                      "the first copy");
  irt_status_free(copy);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ok_is_null),
      cmocka_unit_test(test_code_and_message),
      cmocka_unit_test(test_annotations_record_origin),
      cmocka_unit_test(test_plain_propagation_records_location),
      cmocka_unit_test(test_format_truncates_safely),
      cmocka_unit_test(test_ok_code_becomes_unknown),
      cmocka_unit_test(test_code_strings),
      cmocka_unit_test(test_clone_is_independent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
