// Calling-convention strings ("0rIiiCID_r") and the ABI buffer layout they
// imply (VM spec sections 4.2, 5.3 and 9.2).
//
// Every call between modules passes its arguments and results as byte
// buffers laid out from the callee's cconv fragments. The cursor types below
// read and write such buffers field by field so native modules never compute
// offsets by hand.
#ifndef IRVM_CCONV_H
#define IRVM_CCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"
#include "runtime/vm/ref.h"

// Largest fixed (non-variadic) argument or result buffer (spec 4.4 step 5).
#define IRVM_ABI_MAX_FIXED_BUFFER_SIZE (16 * 1024)

typedef struct irvm_cconv_s {
  irt_string_view_t arguments;  // "" for none ("v" is normalized away)
  irt_string_view_t results;    // "" for none
} irvm_cconv_t;

// Splits |text| into argument and result fragments, validating every
// character and span. Fails with UNIMPLEMENTED for a version other than '0'
// and INVALID_ARGUMENT for malformed strings (naming the offending char).
irt_status_t irvm_cconv_parse(irt_string_view_t text, irvm_cconv_t* out_cconv);

static inline bool irvm_cconv_fragment_has_spans(irt_string_view_t fragment) {
  return memchr(fragment.data, 'C', fragment.size) != NULL;
}

// Number of top-level values in a fragment: one per plain char and one per
// C...D span (the unit the segment-size list of variadic calls counts).
uint32_t irvm_cconv_fragment_value_count(irt_string_view_t fragment);

// Byte size of a buffer for |fragment|. |span_counts| gives the tuple count
// of each span in order (NULL when the fragment has none). Returns false on
// overflow.
bool irvm_cconv_buffer_size(irt_string_view_t fragment,
                            const uint32_t* span_counts, size_t* out_size);

// Where each value of a fragment lands in a frame's registers (spec 5.3):
// i/f take the next i32 register, I/F the next even pair, r the next ref.
// Returns false if the fragment has spans.
typedef struct irvm_register_usage_s {
  uint32_t i32_count;  // i32 cells needed (pairs count both halves)
  uint32_t ref_count;
} irvm_register_usage_t;
bool irvm_cconv_register_usage(irt_string_view_t fragment,
                               irvm_register_usage_t* out_usage);

// Sequential reader/writer over an ABI buffer. Each call aligns the cursor
// as the layout rules require; the caller guarantees the buffer matches the
// fragment (callees may trust their own cconv, spec 9.1).
typedef struct irvm_abi_cursor_s {
  uint8_t* base;
  size_t offset;
} irvm_abi_cursor_t;

static inline irvm_abi_cursor_t irvm_abi_cursor(void* buffer) {
  irvm_abi_cursor_t cursor = {(uint8_t*)buffer, 0};
  return cursor;
}

static inline void* irvm_abi_cursor_next(irvm_abi_cursor_t* cursor,
                                         size_t size, size_t alignment) {
  cursor->offset = (cursor->offset + alignment - 1) & ~(alignment - 1);
  void* field = cursor->base + cursor->offset;
  cursor->offset += size;
  return field;
}

static inline int32_t irvm_abi_read_i32(irvm_abi_cursor_t* cursor) {
  int32_t value;
  memcpy(&value, irvm_abi_cursor_next(cursor, 4, 4), 4);
  return value;
}
static inline int64_t irvm_abi_read_i64(irvm_abi_cursor_t* cursor) {
  int64_t value;
  memcpy(&value, irvm_abi_cursor_next(cursor, 8, 8), 8);
  return value;
}
// Borrowed: the caller owns argument refs (retain to keep).
static inline irvm_ref_t* irvm_abi_read_ref(irvm_abi_cursor_t* cursor) {
  return (irvm_ref_t*)irvm_abi_cursor_next(cursor, sizeof(irvm_ref_t),
                                          _Alignof(irvm_ref_t));
}
// A variadic span inside an argument buffer: |count| tuples of
// |element_size| bytes each (spec 9.2: elements are laid out back to back
// from an offset aligned to the element alignment, field offsets relative
// to each element's start).
typedef struct irvm_abi_span_s {
  uint8_t* elements;
  uint32_t count;
  size_t element_size;
} irvm_abi_span_t;

// Reads a span whose tuple chars are |element_fragment| (without C/D) and
// advances past it.
irvm_abi_span_t irvm_abi_read_span(irvm_abi_cursor_t* cursor,
                                   irt_string_view_t element_fragment);
// Starts a span of |count| tuples when writing: stores the count, aligns
// and returns where the elements go.
irvm_abi_span_t irvm_abi_begin_span(irvm_abi_cursor_t* cursor, uint32_t count,
                                    irt_string_view_t element_fragment);
static inline irvm_abi_cursor_t irvm_abi_span_element(irvm_abi_span_t span,
                                                      uint32_t index) {
  return irvm_abi_cursor(span.elements + (size_t)index * span.element_size);
}

static inline void irvm_abi_write_i32(irvm_abi_cursor_t* cursor,
                                      int32_t value) {
  memcpy(irvm_abi_cursor_next(cursor, 4, 4), &value, 4);
}
static inline void irvm_abi_write_i64(irvm_abi_cursor_t* cursor,
                                      int64_t value) {
  memcpy(irvm_abi_cursor_next(cursor, 8, 8), &value, 8);
}
// Stores an owned reference (moved in; the caller of the callee takes it).
static inline void irvm_abi_write_ref_move(irvm_abi_cursor_t* cursor,
                                           irvm_ref_t* ref) {
  irvm_ref_t* slot = irvm_abi_read_ref(cursor);
  *slot = *ref;
  ref->ptr = NULL;
  ref->type = NULL;
}

// Releases every ref stored in a buffer laid out by |fragment| (with the
// span counts actually written). Used by callers after a call returns.
void irvm_abi_release_refs(irt_string_view_t fragment, void* buffer);

#endif  // IRVM_CCONV_H
