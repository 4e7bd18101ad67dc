// Overflow-safe size and offset arithmetic. Every parser of untrusted input
// checks ranges with these instead of raw additions.
#ifndef IRT_BASE_MATH_H
#define IRT_BASE_MATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

// Each returns false on overflow (leaving *out unspecified).
static inline bool irt_add_u64(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
static inline bool irt_mul_u64(uint64_t a, uint64_t b, uint64_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}
static inline bool irt_add_size(size_t a, size_t b, size_t* out) {
  return !__builtin_add_overflow(a, b, out);
}
static inline bool irt_mul_size(size_t a, size_t b, size_t* out) {
  return !__builtin_mul_overflow(a, b, out);
}

// True when [offset, offset + length) lies within [0, total).
static inline bool irt_range_fits(uint64_t offset, uint64_t length,
                                  uint64_t total) {
  return offset <= total && length <= total - offset;
}

static inline bool irt_is_pow2(uint64_t value) {
  return value != 0 && (value & (value - 1)) == 0;
}

// Rounds |value| up to a multiple of |alignment| (a power of two). Returns
// false if the result does not fit.
static inline bool irt_align_up_u64(uint64_t value, uint64_t alignment,
                                    uint64_t* out) {
  uint64_t mask = alignment - 1;
  if (!irt_add_u64(value, mask, out)) return false;
  *out &= ~mask;
  return true;
}

// Alignment for values known not to overflow (small, internal sizes).
static inline size_t irt_align_size(size_t value, size_t alignment) {
  return (value + alignment - 1) & ~(alignment - 1);
}

// Smallest power of two >= value (1 for 0); values above 2^31 give 2^32.
static inline uint64_t irt_pow2_ceil_u32(uint32_t value) {
  if (value <= 1) return 1;
  return (uint64_t)1 << (32 - __builtin_clz(value - 1));
}

#endif  // IRT_BASE_MATH_H
