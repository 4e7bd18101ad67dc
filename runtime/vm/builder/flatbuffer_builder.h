// A small FlatBuffer writer: tables (with deduplicated vtables and scalars
// equal to their default omitted), strings, vectors of scalars, structs and
// offsets (tables, strings, union values), and the root with its file
// identifier.
//
// Like every FlatBuffer builder it writes back to front: children must be
// created before the tables that refer to them, and the last object created
// ends up first in the buffer. Objects are named by irvm_fb_ref_t, their
// distance from the end of the buffer (0 means null/absent), which stays
// valid as the buffer grows.
//
// Usage:
//   irvm_fb_builder_t fbb;
//   irvm_fb_builder_init(&fbb, allocator);
//   irvm_fb_ref_t name;
//   IRT_RETURN_IF_ERROR(irvm_fb_create_string(&fbb, "m", 1, &name));
//   IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&fbb));
//   IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&fbb, 0, name));
//   IRT_RETURN_IF_ERROR(irvm_fb_table_add_u32(&fbb, 1, version, 0));
//   irvm_fb_ref_t root;
//   IRT_RETURN_IF_ERROR(irvm_fb_table_end(&fbb, &root));
//   IRT_RETURN_IF_ERROR(irvm_fb_finish(&fbb, root, "IREE", false, &data,
//                                      &size));
//   ... use data/size ...
//   irvm_fb_builder_deinit(&fbb);
//
// Scalars are written little-endian whatever the host. The buffer never
// exceeds IRVM_FB_MAX_SIZE (the largest size a uoffset can address); growth
// beyond it or allocation failure is RESOURCE_EXHAUSTED and leaves the
// builder unusable except for deinit.
#ifndef IRVM_BUILDER_FLATBUFFER_BUILDER_H
#define IRVM_BUILDER_FLATBUFFER_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/builder/growable.h"

typedef uint32_t irvm_fb_ref_t;

#define IRVM_FB_MAX_SIZE 0x7FFFFFFFu
// Field ids per table: enough for BytecodeModuleDef (16 fields).
#define IRVM_FB_MAX_FIELDS 32

typedef struct irvm_fb_builder_s {
  irt_allocator_t allocator;
  uint8_t* buffer;  // the data occupies the last |size| bytes
  size_t capacity;
  size_t size;
  size_t min_align;  // largest alignment used; the final size is padded to it
  bool finished;

  // The table in progress.
  bool in_table;
  size_t table_start;                      // |size| at table_begin
  uint32_t field_end[IRVM_FB_MAX_FIELDS];  // |size| after each field; 0 absent
  uint32_t field_limit;                    // highest present field id + 1

  irvm_growable_t vtables;  // uint32_t distances of every vtable written
} irvm_fb_builder_t;

void irvm_fb_builder_init(irvm_fb_builder_t* fbb, irt_allocator_t allocator);
void irvm_fb_builder_deinit(irvm_fb_builder_t* fbb);

// A string: u32 length, |length| bytes, NUL.
irt_status_t irvm_fb_create_string(irvm_fb_builder_t* fbb, const char* data,
                                   size_t length,
                                   irvm_fb_ref_t* out_ref) IRT_MUST_USE;

// A vector of |count| inline elements of |element_size| bytes each, given as
// little-endian bytes; the elements start at a multiple of |alignment| (a
// power of two; 4 is used when smaller).
irt_status_t irvm_fb_create_vector(irvm_fb_builder_t* fbb, const void* elements,
                                   size_t count, size_t element_size,
                                   size_t alignment,
                                   irvm_fb_ref_t* out_ref) IRT_MUST_USE;

// A vector of uoffsets to tables or strings created earlier. A 0 entry is
// written as 0 (a NONE value in a vector of unions).
irt_status_t irvm_fb_create_offset_vector(irvm_fb_builder_t* fbb,
                                          const irvm_fb_ref_t* refs,
                                          size_t count,
                                          irvm_fb_ref_t* out_ref) IRT_MUST_USE;

// Tables. Between begin and end only table_add_* calls are allowed.
irt_status_t irvm_fb_table_begin(irvm_fb_builder_t* fbb) IRT_MUST_USE;
// Writes the low |size| bytes (1, 2, 4 or 8) of |bits| as field |field_id|,
// aligned to |size|, even when it equals the schema default.
irt_status_t irvm_fb_table_add_scalar(irvm_fb_builder_t* fbb, uint32_t field_id,
                                      uint64_t bits, size_t size) IRT_MUST_USE;
// An inline struct field: |size| little-endian bytes aligned to |alignment|
// (its largest member: 1, 2, 4 or 8).
irt_status_t irvm_fb_table_add_struct(irvm_fb_builder_t* fbb,
                                      uint32_t field_id, const void* bytes,
                                      size_t size,
                                      size_t alignment) IRT_MUST_USE;
// Typed scalars, omitted when equal to the schema default.
irt_status_t irvm_fb_table_add_u8(irvm_fb_builder_t* fbb, uint32_t field_id,
                                  uint8_t value,
                                  uint8_t default_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_add_u32(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   uint32_t value,
                                   uint32_t default_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_add_i32(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   int32_t value,
                                   int32_t default_value) IRT_MUST_USE;
irt_status_t irvm_fb_table_add_u64(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   uint64_t value,
                                   uint64_t default_value) IRT_MUST_USE;
// A uoffset field to a string, vector or table; omitted when |ref| is 0.
irt_status_t irvm_fb_table_add_offset(irvm_fb_builder_t* fbb, uint32_t field_id,
                                      irvm_fb_ref_t ref) IRT_MUST_USE;
// Writes the table and its vtable (reusing an identical earlier vtable).
irt_status_t irvm_fb_table_end(irvm_fb_builder_t* fbb,
                               irvm_fb_ref_t* out_ref) IRT_MUST_USE;

// Writes the root offset and the 4-byte |identifier| (NULL for none) and
// pads the buffer to its largest alignment. With |size_prefixed| a u32 size
// prefix (the size of the rest) comes first and the alignment covers it, as
// for the size-prefixed FlatBuffer of a .vmfb: 8-byte fields are then
// 8-aligned relative to the prefix, i.e. at 4 mod 8 relative to the
// FlatBuffer's byte 0. |*out_data| (the prefix, if any) stays valid until
// deinit; no objects can be added afterwards.
irt_status_t irvm_fb_finish(irvm_fb_builder_t* fbb, irvm_fb_ref_t root,
                            const char* identifier, bool size_prefixed,
                            const uint8_t** out_data,
                            size_t* out_size) IRT_MUST_USE;

#endif  // IRVM_BUILDER_FLATBUFFER_BUILDER_H
