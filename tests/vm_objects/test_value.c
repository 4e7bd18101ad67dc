// The value conversion table of VM spec 8.3 (irvm_value_convert).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka needs the headers above first.
#include <cmocka.h>

#include "runtime/vm/value.h"

static void test_type_properties(void** state) {
  (void)state;
  assert_false(irvm_value_type_is_valid(IRVM_VALUE_TYPE_NONE));
  assert_false(irvm_value_type_is_valid(IRVM_VALUE_TYPE_COUNT));
  assert_true(irvm_value_type_is_valid(IRVM_VALUE_TYPE_F64));
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_NONE), 0);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_I8), 1);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_I16), 2);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_I32), 4);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_F32), 4);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_I64), 8);
  assert_int_equal(irvm_value_type_size(IRVM_VALUE_TYPE_F64), 8);
  assert_true(irvm_value_type_is_integer(IRVM_VALUE_TYPE_I64));
  assert_false(irvm_value_type_is_integer(IRVM_VALUE_TYPE_F32));
  assert_true(irvm_value_type_is_float(IRVM_VALUE_TYPE_F32));
  assert_string_equal(irvm_value_type_name(IRVM_VALUE_TYPE_I16), "i16");
  assert_string_equal(irvm_value_type_name(IRVM_VALUE_TYPE_F64), "f64");
  assert_string_equal(irvm_value_type_name(IRVM_VALUE_TYPE_NONE), "none");
}

static void test_integer_widening_sign_extends(void** state) {
  (void)state;
  irvm_value_t v =
      irvm_value_convert(irvm_value_make_i8(-2), IRVM_VALUE_TYPE_I32);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_I32);
  assert_int_equal(v.i32, -2);
  v = irvm_value_convert(irvm_value_make_i16(-300), IRVM_VALUE_TYPE_I64);
  assert_int_equal(v.i64, -300);
  v = irvm_value_convert(irvm_value_make_i32(INT32_MIN), IRVM_VALUE_TYPE_I64);
  assert_int_equal(v.i64, (int64_t)INT32_MIN);
  v = irvm_value_convert(irvm_value_make_i8(0x7F), IRVM_VALUE_TYPE_I16);
  assert_int_equal(v.i16, 0x7F);
}

static void test_integer_narrowing_truncates(void** state) {
  (void)state;
  irvm_value_t v = irvm_value_convert(irvm_value_make_i64(0x123456789ABCDEF0ll),
                                      IRVM_VALUE_TYPE_I32);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_I32);
  assert_int_equal((uint32_t)v.i32, 0x9ABCDEF0u);
  v = irvm_value_convert(irvm_value_make_i32(0x1FF), IRVM_VALUE_TYPE_I8);
  assert_int_equal(v.i8, -1);
  v = irvm_value_convert(irvm_value_make_i32(0x17F), IRVM_VALUE_TYPE_I8);
  assert_int_equal(v.i8, 0x7F);
  v = irvm_value_convert(irvm_value_make_i64(-65536 + 5), IRVM_VALUE_TYPE_I16);
  assert_int_equal(v.i16, 5);
}

static void test_float_conversions_use_c(void** state) {
  (void)state;
  irvm_value_t v =
      irvm_value_convert(irvm_value_make_f32(0.1f), IRVM_VALUE_TYPE_F64);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_F64);
  assert_true(v.f64 == (double)0.1f);
  v = irvm_value_convert(irvm_value_make_f64(0.1), IRVM_VALUE_TYPE_F32);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_F32);
  assert_true(v.f32 == (float)0.1);
  v = irvm_value_convert(irvm_value_make_f64(1e300), IRVM_VALUE_TYPE_F32);
  assert_true(v.f32 > 3.4e38f);  // +inf
}

// Spec 8.3: integer <-> float gives 0, not a numeric conversion.
static void test_integer_float_gives_zero(void** state) {
  (void)state;
  irvm_value_type_t ints[] = {IRVM_VALUE_TYPE_I8, IRVM_VALUE_TYPE_I16,
                              IRVM_VALUE_TYPE_I32, IRVM_VALUE_TYPE_I64};
  for (size_t i = 0; i < 4; ++i) {
    irvm_value_t v = irvm_value_convert(irvm_value_make_f32(7.5f), ints[i]);
    assert_int_equal(v.type, ints[i]);
    assert_int_equal(v.i64, 0);
    v = irvm_value_convert(irvm_value_make_f64(-3.0), ints[i]);
    assert_int_equal(v.i64, 0);
  }
  irvm_value_t v =
      irvm_value_convert(irvm_value_make_i32(7), IRVM_VALUE_TYPE_F32);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_F32);
  assert_true(v.f32 == 0.0f);
  v = irvm_value_convert(irvm_value_make_i64(-1), IRVM_VALUE_TYPE_F64);
  assert_true(v.f64 == 0.0);
  v = irvm_value_convert(irvm_value_make_i8(1), IRVM_VALUE_TYPE_F64);
  assert_true(v.f64 == 0.0);
}

static void test_same_type_unchanged(void** state) {
  (void)state;
  irvm_value_t v =
      irvm_value_convert(irvm_value_make_i64(INT64_MIN), IRVM_VALUE_TYPE_I64);
  assert_int_equal(v.i64, INT64_MIN);
  v = irvm_value_convert(irvm_value_make_f32(-0.0f), IRVM_VALUE_TYPE_F32);
  assert_true(v.f32 == 0.0f && __builtin_signbit(v.f32));
}

static void test_none_converts_to_zero(void** state) {
  (void)state;
  irvm_value_t v = irvm_value_convert(irvm_value_none(), IRVM_VALUE_TYPE_I32);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_I32);
  assert_int_equal(v.i32, 0);
  v = irvm_value_convert(irvm_value_make_i32(3), IRVM_VALUE_TYPE_NONE);
  assert_int_equal(v.type, IRVM_VALUE_TYPE_NONE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_properties),
      cmocka_unit_test(test_integer_widening_sign_extends),
      cmocka_unit_test(test_integer_narrowing_truncates),
      cmocka_unit_test(test_float_conversions_use_c),
      cmocka_unit_test(test_integer_float_gives_zero),
      cmocka_unit_test(test_same_type_unchanged),
      cmocka_unit_test(test_none_converts_to_zero),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
