// HAL enumerations and bit fields, with the values compiled v3.11 modules
// pass across the `hal` module boundary (HAL spec 1.4, 9.1, 9.2).
#ifndef IRHAL_TYPES_H
#define IRHAL_TYPES_H

#include <stdbool.h>
#include <stdint.h>

typedef uint64_t irhal_device_size_t;
// A length argument meaning "to the end of the buffer / source".
#define IRHAL_WHOLE_LENGTH ((irhal_device_size_t)-1)

// Memory types (1.4.1).
enum {
  IRHAL_MEMORY_TYPE_NONE = 0x00,
  IRHAL_MEMORY_TYPE_OPTIMAL = 0x01,
  IRHAL_MEMORY_TYPE_HOST_VISIBLE = 0x02,
  IRHAL_MEMORY_TYPE_HOST_COHERENT = 0x04,
  IRHAL_MEMORY_TYPE_HOST_CACHED = 0x08,
  IRHAL_MEMORY_TYPE_HOST_LOCAL = 0x46,
  IRHAL_MEMORY_TYPE_DEVICE_VISIBLE = 0x10,
  IRHAL_MEMORY_TYPE_DEVICE_LOCAL = 0x30,
};

// Memory access (1.4.2).
enum {
  IRHAL_MEMORY_ACCESS_READ = 0x01,
  IRHAL_MEMORY_ACCESS_WRITE = 0x02,
  IRHAL_MEMORY_ACCESS_DISCARD = 0x04,
  IRHAL_MEMORY_ACCESS_MAY_ALIAS = 0x08,
  IRHAL_MEMORY_ACCESS_UNALIGNED = 0x10,
  IRHAL_MEMORY_ACCESS_ANY = 0x20,
  IRHAL_MEMORY_ACCESS_ALL = 0x07,
};

// Buffer usage (1.4.3).
enum {
  IRHAL_BUFFER_USAGE_TRANSFER_SOURCE = 0x1,
  IRHAL_BUFFER_USAGE_TRANSFER_TARGET = 0x2,
  IRHAL_BUFFER_USAGE_TRANSFER = 0x3,
  IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS = 0x100,
  IRHAL_BUFFER_USAGE_DISPATCH_UNIFORM_READ = 0x200,
  IRHAL_BUFFER_USAGE_DISPATCH_STORAGE = 0xC00,
  IRHAL_BUFFER_USAGE_DISPATCH_IMAGE = 0x3000,
  IRHAL_BUFFER_USAGE_SHARING_EXPORT = 0x10000,
  IRHAL_BUFFER_USAGE_SHARING_REPLICATE = 0x20000,
  IRHAL_BUFFER_USAGE_SHARING_CONCURRENT = 0x40000,
  IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE = 0x80000,
  IRHAL_BUFFER_USAGE_MAPPING_SCOPED = 0x1000000,
  IRHAL_BUFFER_USAGE_MAPPING_PERSISTENT = 0x2000000,
  IRHAL_BUFFER_USAGE_MAPPING_OPTIONAL = 0x4000000,
  IRHAL_BUFFER_USAGE_MAPPING_ACCESS_RANDOM = 0x8000000,
  IRHAL_BUFFER_USAGE_MAPPING_ACCESS_SEQUENTIAL_WRITE = 0x10000000,
  IRHAL_BUFFER_USAGE_MAPPING = 0x9000000,
  IRHAL_BUFFER_USAGE_DEFAULT = 0xC03,
};

// Command buffer modes (1.4.4) and categories (1.4.5).
enum {
  IRHAL_COMMAND_BUFFER_MODE_DEFAULT = 0x00,
  IRHAL_COMMAND_BUFFER_MODE_ONE_SHOT = 0x01,
  IRHAL_COMMAND_BUFFER_MODE_ALLOW_INLINE_EXECUTION = 0x10,
  IRHAL_COMMAND_BUFFER_MODE_UNVALIDATED = 0x20,
  IRHAL_COMMAND_BUFFER_MODE_UNRETAINED = 0x40,
};
enum {
  IRHAL_COMMAND_CATEGORY_TRANSFER = 0x1,
  IRHAL_COMMAND_CATEGORY_DISPATCH = 0x2,
};

// Queue operation flags (1.4.8).
#define IRHAL_ALLOCA_FLAG_INDETERMINATE_LIFETIME (1ull << 0)

// Semaphore payload limits (1.4.10).
#define IRHAL_SEMAPHORE_MAX_VALUE 0x7FFFFFFEull
#define IRHAL_SEMAPHORE_FAILURE_VALUE 0x7FFFFFFFull

// Element types (9.1): numerical type in bits 31-24, bit count in 7-0.
typedef uint32_t irhal_element_type_t;
enum {
  IRHAL_NUMERICAL_TYPE_UNKNOWN = 0x00,
  IRHAL_NUMERICAL_TYPE_INTEGER = 0x10,
  IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED = 0x11,
  IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED = 0x12,
  IRHAL_NUMERICAL_TYPE_BOOLEAN = 0x13,
  IRHAL_NUMERICAL_TYPE_FLOAT = 0x20,
  IRHAL_NUMERICAL_TYPE_FLOAT_IEEE = 0x21,
  IRHAL_NUMERICAL_TYPE_FLOAT_BRAIN = 0x22,
  IRHAL_NUMERICAL_TYPE_FLOAT_COMPLEX = 0x23,
};
#define IRHAL_ELEMENT_TYPE(numerical, bits) \
  ((irhal_element_type_t)(((uint32_t)(numerical) << 24) | (uint32_t)(bits)))
#define IRHAL_ELEMENT_TYPE_BOOL_8 IRHAL_ELEMENT_TYPE(0x13, 8)
#define IRHAL_ELEMENT_TYPE_INT_8 IRHAL_ELEMENT_TYPE(0x10, 8)
#define IRHAL_ELEMENT_TYPE_INT_16 IRHAL_ELEMENT_TYPE(0x10, 16)
#define IRHAL_ELEMENT_TYPE_INT_32 IRHAL_ELEMENT_TYPE(0x10, 32)
#define IRHAL_ELEMENT_TYPE_INT_64 IRHAL_ELEMENT_TYPE(0x10, 64)
#define IRHAL_ELEMENT_TYPE_SINT_32 IRHAL_ELEMENT_TYPE(0x11, 32)
#define IRHAL_ELEMENT_TYPE_UINT_8 IRHAL_ELEMENT_TYPE(0x12, 8)
#define IRHAL_ELEMENT_TYPE_UINT_32 IRHAL_ELEMENT_TYPE(0x12, 32)
#define IRHAL_ELEMENT_TYPE_FLOAT_16 IRHAL_ELEMENT_TYPE(0x21, 16)
#define IRHAL_ELEMENT_TYPE_FLOAT_32 IRHAL_ELEMENT_TYPE(0x21, 32)
#define IRHAL_ELEMENT_TYPE_FLOAT_64 IRHAL_ELEMENT_TYPE(0x21, 64)
#define IRHAL_ELEMENT_TYPE_BFLOAT_16 IRHAL_ELEMENT_TYPE(0x22, 16)

static inline uint32_t irhal_element_numerical_type(irhal_element_type_t t) {
  return t >> 24;
}
static inline uint32_t irhal_element_bit_count(irhal_element_type_t t) {
  return t & 0xFFu;
}
static inline uint32_t irhal_element_byte_count(irhal_element_type_t t) {
  return (irhal_element_bit_count(t) + 7u) / 8u;
}
static inline bool irhal_element_type_is_integer(irhal_element_type_t t) {
  return (irhal_element_numerical_type(t) & 0x10u) == 0x10u;
}
static inline bool irhal_element_type_is_float(irhal_element_type_t t) {
  return (irhal_element_numerical_type(t) & 0x20u) == 0x20u;
}
static inline bool irhal_element_type_is_opaque(irhal_element_type_t t) {
  return irhal_element_numerical_type(t) == 0;
}

// Encoding types (9.2).
enum {
  IRHAL_ENCODING_TYPE_OPAQUE = 0,
  IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR = 1,
};

#endif  // IRHAL_TYPES_H
