#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/base/math.h"

static void test_overflow_detection(void** state) {
  (void)state;
  uint64_t out = 0;
  assert_true(irt_add_u64(1, 2, &out));
  assert_int_equal(out, 3);
  assert_false(irt_add_u64(UINT64_MAX, 1, &out));
  assert_false(irt_mul_u64(UINT64_MAX / 2 + 1, 2, &out));
  size_t size = 0;
  assert_false(irt_add_size(SIZE_MAX, 1, &size));
  assert_false(irt_mul_size(SIZE_MAX, 2, &size));
}

static void test_range_fits(void** state) {
  (void)state;
  assert_true(irt_range_fits(0, 10, 10));
  assert_true(irt_range_fits(10, 0, 10));
  assert_false(irt_range_fits(11, 0, 10));
  assert_false(irt_range_fits(5, 6, 10));
  assert_false(irt_range_fits(UINT64_MAX, 2, UINT64_MAX));
  assert_false(irt_range_fits(2, UINT64_MAX, 100));
}

static void test_alignment(void** state) {
  (void)state;
  uint64_t out = 0;
  assert_true(irt_align_up_u64(65, 64, &out));
  assert_int_equal(out, 128);
  assert_false(irt_align_up_u64(UINT64_MAX - 3, 64, &out));
  assert_int_equal(irt_align_size(17, 8), 24);
  assert_true(irt_is_pow2(4096));
  assert_false(irt_is_pow2(0));
  assert_false(irt_is_pow2(12));
}

static void test_pow2_ceil(void** state) {
  (void)state;
  assert_int_equal(irt_pow2_ceil_u32(0), 1);
  assert_int_equal(irt_pow2_ceil_u32(1), 1);
  assert_int_equal(irt_pow2_ceil_u32(14), 16);
  assert_int_equal(irt_pow2_ceil_u32(16), 16);
  assert_int_equal(irt_pow2_ceil_u32(0x80000001u), 0x100000000ull);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_overflow_detection),
      cmocka_unit_test(test_range_fits),
      cmocka_unit_test(test_alignment),
      cmocka_unit_test(test_pow2_ceil),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
