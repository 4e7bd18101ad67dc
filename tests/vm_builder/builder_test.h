// Helpers shared by the module builder tests (cmocka).
#ifndef IREED_TESTS_VM_BUILDER_BUILDER_TEST_H
#define IREED_TESTS_VM_BUILDER_BUILDER_TEST_H

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdbool.h>
#include <string.h>

#include "runtime/vm/builder/module_builder.h"
#include "runtime/vm/format/module_def.h"

// Fails the test with the formatted status unless |expr| is OK.
#define ASSERT_OK(expr)                                     \
  do {                                                      \
    irt_status_t assert_ok_status_ = (expr);                \
    if (assert_ok_status_ != IRT_OK) {                      \
      char assert_ok_text_[2048];                           \
      irt_status_format(assert_ok_status_, assert_ok_text_, \
                        sizeof(assert_ok_text_));           \
      irt_status_free(assert_ok_status_);                   \
      fail_msg("%s failed: %s", #expr, assert_ok_text_);    \
    }                                                       \
  } while (0)

// Asserts |expr| fails with |code| and a message containing |needle|.
#define ASSERT_STATUS(expr, code, needle) \
  bt_assert_status((expr), (code), (needle), #expr, __FILE__, __LINE__)
void bt_assert_status(irt_status_t status, irt_status_code_t code,
                      const char* needle, const char* expression,
                      const char* file, int line);

// A module file produced by a builder, parsed back with the reader.
typedef struct bt_module_s {
  uint8_t* data;
  size_t size;
  irvm_module_def_t def;
} bt_module_t;

// Finishes |builder| with |options| (NULL: defaults) and parses the result,
// failing the test on any error.
void bt_finish(irvm_module_builder_t* builder,
               const irvm_finish_options_t* options, bt_module_t* out_module);
void bt_module_free(bt_module_t* module);

// The bytecode of internal function |ordinal| of a parsed module.
const uint8_t* bt_function_code(const irvm_module_def_t* def, uint32_t ordinal,
                                uint32_t* out_length);

// Asserts that |actual| equals |expected| byte for byte, printing both in
// hex on mismatch.
#define ASSERT_BYTES(actual, actual_length, ...)                             \
  bt_assert_bytes((actual), (actual_length), (const uint8_t[]){__VA_ARGS__}, \
                  sizeof((const uint8_t[]){__VA_ARGS__}), __FILE__, __LINE__)
void bt_assert_bytes(const uint8_t* actual, size_t actual_length,
                     const uint8_t* expected, size_t expected_length,
                     const char* file, int line);

static inline bool bt_sv_equal(irt_string_view_t view, const char* text) {
  return irt_string_view_equal_cstring(view, text);
}
#define ASSERT_SV(view, text)                            \
  do {                                                   \
    irt_string_view_t assert_sv_ = (view);               \
    if (!bt_sv_equal(assert_sv_, (text))) {              \
      fail_msg("%s is \"%.*s\", expected \"%s\"", #view, \
               IRT_SV_ARG(assert_sv_), (text));          \
    }                                                    \
  } while (0)

#endif  // IREED_TESTS_VM_BUILDER_BUILDER_TEST_H
