#include "runtime/tooling/minifloat.h"

#include <math.h>
#include <stddef.h>

bool irtool_minifloat_format_of(irhal_element_type_t element_type,
                                irtool_minifloat_format_t* out_format) {
  static const struct {
    irhal_element_type_t type;
    irtool_minifloat_format_t format;
  } kFormats[] = {
      {IRHAL_ELEMENT_TYPE_FLOAT_16, {5, 10, 15, IRTOOL_MINIFLOAT_IEEE}},
      {IRHAL_ELEMENT_TYPE_BFLOAT_16, {8, 7, 127, IRTOOL_MINIFLOAT_IEEE}},
      {IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2, 8),
       {5, 2, 15, IRTOOL_MINIFLOAT_IEEE}},
      {IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3FN, 8),
       {4, 3, 7, IRTOOL_MINIFLOAT_FN}},
      {IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2_FNUZ, 8),
       {5, 2, 16, IRTOOL_MINIFLOAT_FNUZ}},
      {IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3_FNUZ, 8),
       {4, 3, 8, IRTOOL_MINIFLOAT_FNUZ}},
      {IRHAL_ELEMENT_TYPE(IRTOOL_NUMERICAL_TYPE_FLOAT_8_E8M0_FNU, 8),
       {8, 0, 127, IRTOOL_MINIFLOAT_FNU}},
  };
  for (size_t i = 0; i < sizeof(kFormats) / sizeof(kFormats[0]); ++i) {
    if (kFormats[i].type == element_type) {
      *out_format = kFormats[i].format;
      return true;
    }
  }
  return false;
}

// Bits below the sign: exponent and mantissa.
static uint32_t irtool_minifloat_magnitude_bits(
    const irtool_minifloat_format_t* format) {
  return (uint32_t)format->exponent_bits + format->mantissa_bits;
}

static uint32_t irtool_minifloat_nan(const irtool_minifloat_format_t* format,
                                     uint32_t sign) {
  uint32_t width = irtool_minifloat_magnitude_bits(format);
  uint32_t all_ones = (1u << width) - 1u;
  switch (format->specials) {
    case IRTOOL_MINIFLOAT_IEEE:  // quiet NaN: top mantissa bit set
      return (sign << width) | (all_ones ^ ((1u << format->mantissa_bits) - 1u)) |
             (1u << (format->mantissa_bits - 1u));
    case IRTOOL_MINIFLOAT_FN:
      return (sign << width) | all_ones;
    case IRTOOL_MINIFLOAT_FNUZ:
      return 1u << width;
    case IRTOOL_MINIFLOAT_FNU:
    default:
      return all_ones;
  }
}

// E8M0: the nearest power of two; halfway values (1.5 x 2^e) round up.
static uint32_t irtool_minifloat_fnu_from_f32(
    const irtool_minifloat_format_t* format, float value) {
  if (isnan(value) || isinf(value) || value < 0.0f) {
    return irtool_minifloat_nan(format, 0);
  }
  if (value == 0.0f) return 0;  // no zero: the smallest power is nearest
  int exponent = 0;
  double fraction = frexp((double)value, &exponent);  // [0.5, 1)
  exponent -= 1;
  if (rint(fraction * 2.0) >= 2.0) exponent += 1;
  int field = exponent + format->bias;
  if (field < 0) return 0;
  uint32_t all_ones = (1u << format->exponent_bits) - 1u;
  if (field >= (int)all_ones) return irtool_minifloat_nan(format, 0);
  return (uint32_t)field;
}

uint32_t irtool_minifloat_from_f32(const irtool_minifloat_format_t* format,
                                   float value) {
  if (format->specials == IRTOOL_MINIFLOAT_FNU) {
    return irtool_minifloat_fnu_from_f32(format, value);
  }
  uint32_t width = irtool_minifloat_magnitude_bits(format);
  uint32_t sign = signbit(value) ? 1u : 0u;
  if (isnan(value)) return irtool_minifloat_nan(format, sign);
  uint64_t exponent_all_ones = (1u << format->exponent_bits) - 1u;
  uint64_t infinity = exponent_all_ones << format->mantissa_bits;
  if (isinf(value)) {
    return format->specials == IRTOOL_MINIFLOAT_IEEE
               ? (sign << width) | (uint32_t)infinity
               : irtool_minifloat_nan(format, sign);
  }
  double magnitude = fabs((double)value);
  uint64_t bits = 0;
  if (magnitude != 0.0) {
    int exponent = 0;
    frexp(magnitude, &exponent);
    exponent -= 1;  // magnitude in [2^exponent, 2^(exponent+1))
    int min_exponent = 1 - format->bias;
    // Quantize to the mantissa's step at this exponent (subnormals share the
    // smallest normal's step). Scaling by a power of two is exact, so rint
    // performs the single round-to-nearest-even. A mantissa that rounds up
    // to 2^(m+1) carries into the exponent field by the addition below.
    int step_exponent =
        (exponent < min_exponent ? min_exponent : exponent) - format->mantissa_bits;
    uint64_t quantized = (uint64_t)rint(ldexp(magnitude, -step_exponent));
    if (exponent < min_exponent) {
      bits = quantized;
    } else {
      uint64_t field = (uint64_t)(exponent + format->bias);
      bits = (field << format->mantissa_bits) +
             (quantized - (1u << format->mantissa_bits));
    }
  }
  uint64_t max_finite = format->specials == IRTOOL_MINIFLOAT_IEEE ? infinity - 1u
                        : format->specials == IRTOOL_MINIFLOAT_FN
                            ? (1u << width) - 2u
                            : (1u << width) - 1u;
  if (bits > max_finite) {
    return format->specials == IRTOOL_MINIFLOAT_IEEE
               ? (sign << width) | (uint32_t)infinity
               : irtool_minifloat_nan(format, sign);
  }
  if (bits == 0 && format->specials == IRTOOL_MINIFLOAT_FNUZ) return 0;
  return (sign << width) | (uint32_t)bits;
}

float irtool_minifloat_to_f32(const irtool_minifloat_format_t* format,
                              uint32_t bits) {
  uint32_t width = irtool_minifloat_magnitude_bits(format);
  uint32_t all_ones = (1u << width) - 1u;
  if (format->specials == IRTOOL_MINIFLOAT_FNU) {
    bits &= all_ones;
    if (bits == all_ones) return NAN;
    return (float)ldexp(1.0, (int)bits - format->bias);
  }
  bits &= (1u << (width + 1u)) - 1u;
  bool negative = (bits >> width) & 1u;
  uint32_t magnitude = bits & all_ones;
  if (format->specials == IRTOOL_MINIFLOAT_FNUZ && bits == (1u << width)) {
    return NAN;
  }
  if (format->specials == IRTOOL_MINIFLOAT_FN && magnitude == all_ones) {
    return negative ? -NAN : NAN;
  }
  uint32_t field = magnitude >> format->mantissa_bits;
  uint32_t mantissa = magnitude & ((1u << format->mantissa_bits) - 1u);
  double result;
  if (format->specials == IRTOOL_MINIFLOAT_IEEE &&
      field == (1u << format->exponent_bits) - 1u) {
    result = mantissa ? NAN : INFINITY;
  } else if (field == 0) {
    result = ldexp((double)mantissa, 1 - format->bias - format->mantissa_bits);
  } else {
    result = ldexp((double)((1u << format->mantissa_bits) + mantissa),
                   (int)field - format->bias - format->mantissa_bits);
  }
  return (float)(negative ? -result : result);
}
