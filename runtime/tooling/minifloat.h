// Conversions between f32 and the narrow float formats of HAL spec 9.1
// (f16, bf16 and the five 8-bit formats), as the textual tensor format
// needs them: text is parsed as f32 and rounded to nearest-even into the
// narrow format, and narrow values are widened back to f32 for printing.
#ifndef IRTOOL_MINIFLOAT_H
#define IRTOOL_MINIFLOAT_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/types.h"

// Numerical types of the 8-bit float formats (HAL spec 9.1).
enum {
  IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2 = 0x24,
  IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3FN = 0x25,
  IRTOOL_NUMERICAL_TYPE_FLOAT_8_E5M2_FNUZ = 0x26,
  IRTOOL_NUMERICAL_TYPE_FLOAT_8_E4M3_FNUZ = 0x27,
  IRTOOL_NUMERICAL_TYPE_FLOAT_8_E8M0_FNU = 0x28,
};

// How a format spends its top exponent and its special encodings.
typedef enum irtool_minifloat_specials_e {
  // IEEE 754: all-ones exponent is infinity (zero mantissa) or NaN.
  IRTOOL_MINIFLOAT_IEEE,
  // "FN": no infinities; only all-ones exponent and mantissa is NaN.
  IRTOOL_MINIFLOAT_FN,
  // "FNUZ": no infinities, no negative zero; the negative-zero pattern is
  // the only NaN.
  IRTOOL_MINIFLOAT_FNUZ,
  // "FNU" (E8M0): unsigned powers of two; all-ones is NaN and there is no
  // zero (the zero pattern is the smallest power).
  IRTOOL_MINIFLOAT_FNU,
} irtool_minifloat_specials_t;

typedef struct irtool_minifloat_format_s {
  uint8_t exponent_bits;
  uint8_t mantissa_bits;
  int16_t bias;
  irtool_minifloat_specials_t specials;
} irtool_minifloat_format_t;

// The narrow float format of |element_type| (f16, bf16, f8*); false for any
// other type (f32 and f64 included, which need no conversion).
bool irtool_minifloat_format_of(irhal_element_type_t element_type,
                                irtool_minifloat_format_t* out_format);

// Rounds |value| to nearest-even in |format|. Values beyond the largest
// finite number become infinity where the format has one and NaN otherwise;
// NaN stays NaN.
uint32_t irtool_minifloat_from_f32(const irtool_minifloat_format_t* format,
                                   float value);
// Widens |bits| exactly (every narrow value is representable in f32).
float irtool_minifloat_to_f32(const irtool_minifloat_format_t* format,
                              uint32_t bits);

#endif  // IRTOOL_MINIFLOAT_H
