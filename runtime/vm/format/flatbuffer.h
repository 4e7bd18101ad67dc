// A minimal verifying FlatBuffer reader for untrusted input.
//
// There is no separate verification pass: every accessor checks what it
// touches (offsets, vtables, field extents, alignment, string terminators,
// vector extents) before reading, so a parser that reads each field it needs
// through this API has verified the buffer by construction (spec 2.2). All
// loads are unaligned little-endian; alignment is still checked because the
// reference verifier rejects misaligned data.
//
// Two limits keep hostile buffers cheap: a nesting depth limit on tables
// (cycles cannot recurse forever) and a node budget proportional to the
// buffer size. Every table, string and vector reached, and every element of
// a vector with elements of 4 bytes or more, costs one node, so a DAG that
// points many offsets at one large subtree cannot make the caller do
// quadratic work. A buffer without shared subtrees never reaches the budget.
//
// Positions are byte offsets from the FlatBuffer's byte 0. Errors are
// INVALID_ARGUMENT (RESOURCE_EXHAUSTED for the budget) and name the position
// and the violated rule; callers add the field path.
#ifndef IRVM_FORMAT_FLATBUFFER_H
#define IRVM_FORMAT_FLATBUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

#define IRVM_FB_MAX_DEPTH 64

typedef struct irvm_fb_reader_s {
  const uint8_t* data;
  uint32_t size;
  // Alignment is relative to |data| - |alignment_origin| (see init).
  uint32_t alignment_origin;
  uint64_t nodes_left;  // budget (see above)
} irvm_fb_reader_t;

// A verified table: its vtable header and extent were checked.
typedef struct irvm_fb_table_s {
  irvm_fb_reader_t* reader;
  uint32_t position;  // T
  uint32_t vtable;    // V
  uint16_t vtable_size;
  uint16_t table_size;
  uint32_t depth;  // 1 for the root
} irvm_fb_table_t;

// A verified vector: |count| elements of |element_size| bytes starting at
// |position| lie inside the buffer. An absent vector has count 0.
typedef struct irvm_fb_vector_s {
  irvm_fb_reader_t* reader;
  uint32_t position;  // first element (after the u32 count)
  uint32_t count;
  uint32_t element_size;
  uint32_t depth;  // depth of the table holding the vector
  bool present;
} irvm_fb_vector_t;

// Little-endian loads from unaligned memory.
static inline uint16_t irvm_load_u16(const uint8_t* p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t irvm_load_u32(const uint8_t* p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t irvm_load_u64(const uint8_t* p) {
  return (uint64_t)irvm_load_u32(p) | ((uint64_t)irvm_load_u32(p + 4) << 32);
}

// Prepares to read |size| bytes at |data| (at least 8 bytes). A builder
// aligns a size-prefixed buffer as a whole, so for those pass
// |size_prefixed| (|data| follows the u32 prefix): 8-byte fields are then
// aligned relative to the prefix, 4 bytes before |data|.
irt_status_t irvm_fb_reader_init(irvm_fb_reader_t* reader, const uint8_t* data,
                                 size_t size, bool size_prefixed) IRT_MUST_USE;

// Checks the 4-byte file identifier and returns the verified root table.
irt_status_t irvm_fb_reader_root(irvm_fb_reader_t* reader,
                                 const char identifier[4],
                                 irvm_fb_table_t* out_table) IRT_MUST_USE;

// True when field |id| is present (has a non-zero vtable slot).
bool irvm_fb_table_has(const irvm_fb_table_t* table, uint16_t id);

// Scalars: absent fields yield |default_value|. The field must fit inside
// the table and be aligned to its size.
irt_status_t irvm_fb_table_u8(const irvm_fb_table_t* table, uint16_t id,
                              uint8_t default_value,
                              uint8_t* out_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_u16(const irvm_fb_table_t* table, uint16_t id,
                               uint16_t default_value,
                               uint16_t* out_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_u32(const irvm_fb_table_t* table, uint16_t id,
                               uint32_t default_value,
                               uint32_t* out_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_i32(const irvm_fb_table_t* table, uint16_t id,
                               int32_t default_value,
                               int32_t* out_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_u64(const irvm_fb_table_t* table, uint16_t id,
                               uint64_t default_value,
                               uint64_t* out_value) IRT_MUST_USE;

// An inline struct field of |size| bytes aligned to |alignment|: its bytes
// (read them with irvm_load_*), or NULL when absent.
irt_status_t irvm_fb_table_struct(const irvm_fb_table_t* table, uint16_t id,
                                  uint32_t size, uint32_t alignment,
                                  const uint8_t** out_data) IRT_MUST_USE;

// A string field. Absent: an empty view (data "" so it is never NULL) and
// *out_present false (|out_present| may be NULL).
irt_status_t irvm_fb_table_string(const irvm_fb_table_t* table, uint16_t id,
                                  irt_string_view_t* out_string,
                                  bool* out_present) IRT_MUST_USE;

// A table field. Absent: *out_present false and |out_table| zeroed.
// |out_table| may be |table| itself.
irt_status_t irvm_fb_table_table(const irvm_fb_table_t* table, uint16_t id,
                                 irvm_fb_table_t* out_table,
                                 bool* out_present) IRT_MUST_USE;

// A vector field of |element_size|-byte elements aligned to
// |element_alignment| (1, 2, 4 or 8). Vectors of tables and strings use
// element size 4 (their elements are uoffsets).
irt_status_t irvm_fb_table_vector(const irvm_fb_table_t* table, uint16_t id,
                                  uint32_t element_size,
                                  uint32_t element_alignment,
                                  irvm_fb_vector_t* out_vector) IRT_MUST_USE;

// A union field: the u8 tag is field |type_id| and the value field
// |type_id| + 1. Tag 0 (NONE) yields no table (the value is not looked at);
// like the reference verifier, a non-zero tag with an absent value is
// accepted and yields no table.
irt_status_t irvm_fb_table_union(const irvm_fb_table_t* table, uint16_t type_id,
                                 uint8_t* out_tag, irvm_fb_table_t* out_value,
                                 bool* out_present) IRT_MUST_USE;

// A vector of unions: the u8 tag vector is field |type_id| and the offset
// vector field |type_id| + 1; both must have the same length (or both be
// absent). Read element i with irvm_fb_union_vector_get.
irt_status_t irvm_fb_table_union_vector(
    const irvm_fb_table_t* table, uint16_t type_id, irvm_fb_vector_t* out_tags,
    irvm_fb_vector_t* out_values) IRT_MUST_USE;
// Element |index| (< count) of a union vector: tag 0 has no value.
irt_status_t irvm_fb_union_vector_get(const irvm_fb_vector_t* tags,
                                      const irvm_fb_vector_t* values,
                                      uint32_t index, uint8_t* out_tag,
                                      irvm_fb_table_t* out_value,
                                      bool* out_present) IRT_MUST_USE;

// Element |index| (< count) of a vector of tables / strings.
irt_status_t irvm_fb_vector_table(const irvm_fb_vector_t* vector,
                                  uint32_t index,
                                  irvm_fb_table_t* out_table) IRT_MUST_USE;
irt_status_t irvm_fb_vector_string(const irvm_fb_vector_t* vector,
                                   uint32_t index,
                                   irt_string_view_t* out_string) IRT_MUST_USE;

// The bytes of element |index| (< count) of a scalar or struct vector; read
// them with irvm_load_*.
static inline const uint8_t* irvm_fb_vector_element(
    const irvm_fb_vector_t* vector, uint32_t index) {
  return vector->reader->data + vector->position +
         (size_t)index * vector->element_size;
}

#endif  // IRVM_FORMAT_FLATBUFFER_H
