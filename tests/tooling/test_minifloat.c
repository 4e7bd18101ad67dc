// Narrow float conversions: every bit pattern of every format widens to f32
// and narrows back to itself, and rounding/overflow follow each format's
// rules.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "runtime/tooling/minifloat.h"

static const irhal_element_type_t kTypes[] = {
    IRHAL_ELEMENT_TYPE_FLOAT_16,
    IRHAL_ELEMENT_TYPE_BFLOAT_16,
    IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2, 8),
    IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3FN, 8),
    IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2_FNUZ, 8),
    IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3_FNUZ, 8),
    IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E8M0_FNU, 8),
};

static irtool_minifloat_format_t format_of(irhal_element_type_t type) {
  irtool_minifloat_format_t format;
  assert_true(irtool_minifloat_format_of(type, &format));
  return format;
}

static void test_formats(void** state) {
  (void)state;
  irtool_minifloat_format_t format;
  assert_false(irtool_minifloat_format_of(IRHAL_ELEMENT_TYPE_FLOAT_32, &format));
  assert_false(irtool_minifloat_format_of(IRHAL_ELEMENT_TYPE_INT_16, &format));
  assert_false(irtool_minifloat_format_of(
      IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2, 16), &format));
}

// Every non-NaN pattern survives a round trip through f32 (negative zero
// included); NaN patterns widen to NaN and narrow to a NaN pattern.
static void test_round_trip_all_patterns(void** state) {
  (void)state;
  for (size_t t = 0; t < sizeof(kTypes) / sizeof(kTypes[0]); ++t) {
    irtool_minifloat_format_t format = format_of(kTypes[t]);
    uint32_t count = irhal_element_bit_count(kTypes[t]) == 16 ? 65536 : 256;
    for (uint32_t bits = 0; bits < count; ++bits) {
      float value = irtool_minifloat_to_f32(&format, bits);
      uint32_t back = irtool_minifloat_from_f32(&format, value);
      if (isnan(value)) {
        assert_true(isnan(irtool_minifloat_to_f32(&format, back)));
        continue;
      }
      if (back != bits) {
        fail_msg("type 0x%08X: pattern 0x%X -> %g -> 0x%X", kTypes[t], bits,
                 (double)value, back);
      }
    }
  }
}

// Values strictly between two neighbours round to the nearer one, and exact
// midpoints to the even pattern.
static void test_rounding_between_neighbours(void** state) {
  (void)state;
  for (size_t t = 0; t < sizeof(kTypes) / sizeof(kTypes[0]); ++t) {
    irtool_minifloat_format_t format = format_of(kTypes[t]);
    if (format.specials == IRTOOL_MINIFLOAT_FNU) continue;  // see below
    for (uint32_t bits = 0; bits < 0x7F; ++bits) {
      float low = irtool_minifloat_to_f32(&format, bits);
      float high = irtool_minifloat_to_f32(&format, bits + 1);
      if (isnan(low) || isnan(high) || isinf(high)) continue;
      float middle = (float)(((double)low + (double)high) / 2);
      uint32_t expected = (bits & 1) ? bits + 1 : bits;
      assert_int_equal(irtool_minifloat_from_f32(&format, middle), expected);
      float nearer_low = (float)((double)low + ((double)high - low) / 4);
      assert_int_equal(irtool_minifloat_from_f32(&format, nearer_low), bits);
      float nearer_high = (float)((double)high - ((double)high - low) / 4);
      assert_int_equal(irtool_minifloat_from_f32(&format, nearer_high),
                       bits + 1);
    }
  }
}

static void test_specials(void** state) {
  (void)state;
  irtool_minifloat_format_t f16 = format_of(IRHAL_ELEMENT_TYPE_FLOAT_16);
  assert_int_equal(irtool_minifloat_from_f32(&f16, INFINITY), 0x7C00);
  assert_int_equal(irtool_minifloat_from_f32(&f16, -INFINITY), 0xFC00);
  assert_int_equal(irtool_minifloat_from_f32(&f16, 1e10f), 0x7C00);
  assert_int_equal(irtool_minifloat_from_f32(&f16, -0.0f), 0x8000);
  assert_true(isnan(irtool_minifloat_to_f32(&f16, 0x7E00)));
  assert_true(isinf(irtool_minifloat_to_f32(&f16, 0x7C00)));

  irtool_minifloat_format_t bf16 = format_of(IRHAL_ELEMENT_TYPE_BFLOAT_16);
  assert_int_equal(irtool_minifloat_from_f32(&bf16, 3.4e38f), 0x7F80);
  assert_true(isnan(irtool_minifloat_to_f32(
      &bf16, irtool_minifloat_from_f32(&bf16, NAN))));
  assert_true(irtool_minifloat_to_f32(&bf16, 0x0001) > 0.0f);  // subnormal

  // No infinity: overflow and infinities become NaN.
  irtool_minifloat_format_t fn =
      format_of(IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3FN, 8));
  assert_int_equal(irtool_minifloat_from_f32(&fn, INFINITY), 0x7F);
  assert_int_equal(irtool_minifloat_from_f32(&fn, -INFINITY), 0xFF);
  assert_int_equal(irtool_minifloat_from_f32(&fn, 464.0f), 0x7E);  // tie
  assert_int_equal(irtool_minifloat_from_f32(&fn, 470.0f), 0x7F);
  assert_true(irtool_minifloat_to_f32(&fn, 0x7E) == 448.0f);

  irtool_minifloat_format_t fnuz = format_of(
      IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2_FNUZ, 8));
  assert_int_equal(irtool_minifloat_from_f32(&fnuz, -1e-30f), 0x00);
  assert_true(isnan(irtool_minifloat_to_f32(&fnuz, 0x80)));
  assert_true(irtool_minifloat_to_f32(&fnuz, 0x7F) == 57344.0f);

  irtool_minifloat_format_t fnu = format_of(
      IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E8M0_FNU, 8));
  assert_int_equal(irtool_minifloat_from_f32(&fnu, 1.0f), 0x7F);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, 1.4f), 0x7F);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, 1.5f), 0x80);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, 0.0f), 0x00);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, -2.0f), 0xFF);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, INFINITY), 0xFF);
  assert_int_equal(irtool_minifloat_from_f32(&fnu, 2e38f), 0xFE);
  assert_true(irtool_minifloat_to_f32(&fnu, 0x00) == ldexpf(1.0f, -127));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_formats),
      cmocka_unit_test(test_round_trip_all_patterns),
      cmocka_unit_test(test_rounding_between_neighbours),
      cmocka_unit_test(test_specials),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
