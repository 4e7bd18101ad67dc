// Tagged primitive values (i8..i64, f32, f64): the elements of variant lists
// and the values a host passes to and from an invocation.
//
// irvm_value_convert implements the conversion table of VM spec section 8.3,
// shared by list.get.*/list.set.* and host invocation (spec 9.4): integers
// sign-extend when widening and truncate when narrowing, f32 <-> f64 use the
// C conversion, and integer <-> float gives 0 (the reference does no numeric
// conversion between the two classes).
#ifndef IRVM_VALUE_H
#define IRVM_VALUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum irvm_value_type_e {
  IRVM_VALUE_TYPE_NONE = 0,  // no value (zero, so zeroed memory is "none")
  IRVM_VALUE_TYPE_I8,
  IRVM_VALUE_TYPE_I16,
  IRVM_VALUE_TYPE_I32,
  IRVM_VALUE_TYPE_I64,
  IRVM_VALUE_TYPE_F32,
  IRVM_VALUE_TYPE_F64,
  IRVM_VALUE_TYPE_COUNT,
} irvm_value_type_t;

typedef struct irvm_value_s {
  irvm_value_type_t type;
  union {
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
  };
} irvm_value_t;

static inline bool irvm_value_type_is_valid(irvm_value_type_t type) {
  return type > IRVM_VALUE_TYPE_NONE && type < IRVM_VALUE_TYPE_COUNT;
}

static inline bool irvm_value_type_is_integer(irvm_value_type_t type) {
  return type >= IRVM_VALUE_TYPE_I8 && type <= IRVM_VALUE_TYPE_I64;
}

static inline bool irvm_value_type_is_float(irvm_value_type_t type) {
  return type == IRVM_VALUE_TYPE_F32 || type == IRVM_VALUE_TYPE_F64;
}

// Storage size in bytes: 1, 2, 4 or 8; 0 for NONE or an invalid type.
static inline size_t irvm_value_type_size(irvm_value_type_t type) {
  switch (type) {
    case IRVM_VALUE_TYPE_I8:
      return 1;
    case IRVM_VALUE_TYPE_I16:
      return 2;
    case IRVM_VALUE_TYPE_I32:
    case IRVM_VALUE_TYPE_F32:
      return 4;
    case IRVM_VALUE_TYPE_I64:
    case IRVM_VALUE_TYPE_F64:
      return 8;
    default:
      return 0;
  }
}

// "i8", "f64", "none" (for messages).
static inline const char* irvm_value_type_name(irvm_value_type_t type) {
  switch (type) {
    case IRVM_VALUE_TYPE_I8:
      return "i8";
    case IRVM_VALUE_TYPE_I16:
      return "i16";
    case IRVM_VALUE_TYPE_I32:
      return "i32";
    case IRVM_VALUE_TYPE_I64:
      return "i64";
    case IRVM_VALUE_TYPE_F32:
      return "f32";
    case IRVM_VALUE_TYPE_F64:
      return "f64";
    default:
      return "none";
  }
}

static inline irvm_value_t irvm_value_none(void) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_NONE, .i64 = 0};
  return value;
}
static inline irvm_value_t irvm_value_make_i8(int8_t v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_I8, .i64 = 0};
  value.i8 = v;
  return value;
}
static inline irvm_value_t irvm_value_make_i16(int16_t v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_I16, .i64 = 0};
  value.i16 = v;
  return value;
}
static inline irvm_value_t irvm_value_make_i32(int32_t v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_I32, .i64 = 0};
  value.i32 = v;
  return value;
}
static inline irvm_value_t irvm_value_make_i64(int64_t v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_I64, .i64 = v};
  return value;
}
static inline irvm_value_t irvm_value_make_f32(float v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_F32, .i64 = 0};
  value.f32 = v;
  return value;
}
static inline irvm_value_t irvm_value_make_f64(double v) {
  irvm_value_t value = {.type = IRVM_VALUE_TYPE_F64, .f64 = v};
  return value;
}

// The integer held by |value|, sign-extended to 64 bits (0 for non-integers).
static inline int64_t irvm_value_integer_(irvm_value_t value) {
  switch (value.type) {
    case IRVM_VALUE_TYPE_I8:
      return value.i8;
    case IRVM_VALUE_TYPE_I16:
      return value.i16;
    case IRVM_VALUE_TYPE_I32:
      return value.i32;
    case IRVM_VALUE_TYPE_I64:
      return value.i64;
    default:
      return 0;
  }
}

// |value| converted to |type| per spec 8.3 (see the file comment). Converting
// NONE, or to NONE, yields a zero of the target type.
static inline irvm_value_t irvm_value_convert(irvm_value_t value,
                                              irvm_value_type_t type) {
  if (value.type == type) return value;
  // 0 for a float source. Narrowing goes through the unsigned type so it is
  // modular truncation.
  uint64_t bits = (uint64_t)irvm_value_integer_(value);
  switch (type) {
    case IRVM_VALUE_TYPE_I8:
      return irvm_value_make_i8((int8_t)(uint8_t)bits);
    case IRVM_VALUE_TYPE_I16:
      return irvm_value_make_i16((int16_t)(uint16_t)bits);
    case IRVM_VALUE_TYPE_I32:
      return irvm_value_make_i32((int32_t)(uint32_t)bits);
    case IRVM_VALUE_TYPE_I64:
      return irvm_value_make_i64((int64_t)bits);
    case IRVM_VALUE_TYPE_F32:
      return irvm_value_make_f32(
          value.type == IRVM_VALUE_TYPE_F64 ? (float)value.f64 : 0.0f);
    case IRVM_VALUE_TYPE_F64:
      return irvm_value_make_f64(
          value.type == IRVM_VALUE_TYPE_F32 ? (double)value.f32 : 0.0);
    default:
      return irvm_value_none();
  }
}

#endif  // IRVM_VALUE_H
