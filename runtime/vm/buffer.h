// vm.buffer: reference-counted byte buffers (VM spec sections 7.3 and 8.2).
//
// Every function here implements one instruction's full semantics, so the
// interpreter only decodes registers and forwards them:
//  * a NULL buffer (a null ref, or a ref of another type: irvm_buffer_deref)
//    fails with INVALID_ARGUMENT;
//  * load/store/fill offsets and fill counts are in elements of the access
//    size (byte position = offset x size); copy/compare/clone/hash use bytes;
//  * a byte range that does not end within the buffer fails with
//    OUT_OF_RANGE ("out-of-bounds access"), computed without overflow for any
//    64-bit operands;
//  * writing to a buffer without IRVM_BUFFER_MUTABLE fails with
//    PERMISSION_DENIED.
// Element loads and stores are inline and allocate nothing on success; data
// need not be aligned (wrapped memory may not be).
#ifndef IRVM_BUFFER_H
#define IRVM_BUFFER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/ref.h"

// Access and origin flags (spec 8.2).
enum {
  IRVM_BUFFER_MUTABLE = 0x1,        // store/fill/copy-target allowed
  IRVM_BUFFER_ORIGIN_MODULE = 0x2,  // module-owned memory (rodata)
  IRVM_BUFFER_ORIGIN_GUEST = 0x4,   // allocated by bytecode (alloc, clone)
  IRVM_BUFFER_ORIGIN_HOST = 0x8,    // wraps host memory
  IRVM_BUFFER_FLAGS_ALL = 0xF,
};

// Called when a wrapped buffer is destroyed, to give back memory the buffer
// did not allocate (e.g. release the module that owns a rodata segment).
typedef struct irvm_buffer_release_s {
  void (*fn)(void* user_data, void* data);
  void* user_data;
} irvm_buffer_release_t;

// Fields are public for the inline accessors only; treat them as read-only.
typedef struct irvm_buffer_s {
  irvm_ref_object_t header;
  uint8_t* data;
  size_t length;
  uint32_t flags;
  irt_allocator_t allocator;      // frees this object (and inline data)
  irvm_buffer_release_t release;  // wrapped data only; fn may be NULL
} irvm_buffer_t;

typedef struct irvm_byte_span_s {
  uint8_t* data;
  size_t length;
} irvm_byte_span_t;

typedef struct irvm_const_byte_span_s {
  const uint8_t* data;
  size_t length;
} irvm_const_byte_span_t;

// The "vm.buffer" ref type (registered by the VM instance).
extern const irvm_ref_type_t irvm_buffer_type_descriptor;
static inline const irvm_ref_type_t* irvm_buffer_type(void) {
  return &irvm_buffer_type_descriptor;
}

// The buffer |ref| points to, or NULL when it is null or not a vm.buffer
// (spec 7: a ref of the wrong type counts as null).
static inline irvm_buffer_t* irvm_buffer_deref(const irvm_ref_t* ref) {
  return ref->type == &irvm_buffer_type_descriptor ? (irvm_buffer_t*)ref->ptr
                                                   : NULL;
}

static inline void irvm_buffer_retain(irvm_buffer_t* buffer) {
  irvm_object_retain(buffer);
}
static inline void irvm_buffer_release(irvm_buffer_t* buffer) {
  irvm_object_release(buffer, &irvm_buffer_type_descriptor);
}

//===----------------------------------------------------------------------===//
// Creation (each returns a buffer with one reference, owned by the caller)
//===----------------------------------------------------------------------===//

// vm.buffer.alloc: |length| zero-filled bytes, MUTABLE | ORIGIN_GUEST, data
// aligned to max(|alignment|, alignof(max_align_t)). |alignment| must be 0
// (default) or a power of two, else INVALID_ARGUMENT. RESOURCE_EXHAUSTED when
// the size does not fit or memory runs out.
irt_status_t irvm_buffer_create(uint64_t length, uint32_t alignment,
                                irt_allocator_t allocator,
                                irvm_buffer_t** out_buffer) IRT_MUST_USE;

// Wraps |length| bytes at |data| that the buffer does not own, with |flags|
// (e.g. ORIGIN_MODULE for rodata: not MUTABLE). |release.fn|, if set, runs
// when the buffer is destroyed. On failure nothing is called and the caller
// keeps ownership of |data|.
irt_status_t irvm_buffer_wrap(void* data, size_t length, uint32_t flags,
                              irvm_buffer_release_t release,
                              irt_allocator_t allocator,
                              irvm_buffer_t** out_buffer) IRT_MUST_USE;

// vm.buffer.clone: a new MUTABLE | ORIGIN_GUEST buffer holding bytes
// [offset, offset + length) of |source|, aligned as irvm_buffer_create.
irt_status_t irvm_buffer_clone(const irvm_buffer_t* source, uint64_t offset,
                               uint64_t length, uint32_t alignment,
                               irt_allocator_t allocator,
                               irvm_buffer_t** out_buffer) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Whole-buffer access
//===----------------------------------------------------------------------===//

// vm.buffer.length.
irt_status_t irvm_buffer_length(const irvm_buffer_t* buffer,
                                uint64_t* out_length) IRT_MUST_USE;

static inline uint32_t irvm_buffer_flags(const irvm_buffer_t* buffer) {
  return buffer->flags;
}

// The bytes of a non-NULL |buffer| (for hosts: e.g. a string argument).
static inline irvm_const_byte_span_t irvm_buffer_data(
    const irvm_buffer_t* buffer) {
  irvm_const_byte_span_t span = {buffer->data, buffer->length};
  return span;
}

// The bytes of |buffer| for writing: PERMISSION_DENIED unless MUTABLE.
irt_status_t irvm_buffer_mutable_data(irvm_buffer_t* buffer,
                                      irvm_byte_span_t* out_span) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Byte-range operations
//===----------------------------------------------------------------------===//

// vm.buffer.copy: memmove semantics (the ranges may overlap).
irt_status_t irvm_buffer_copy(const irvm_buffer_t* source,
                              uint64_t source_offset, irvm_buffer_t* target,
                              uint64_t target_offset,
                              uint64_t length) IRT_MUST_USE;

// vm.buffer.compare: *out_equal = the two byte ranges are equal.
irt_status_t irvm_buffer_compare(const irvm_buffer_t* lhs, uint64_t lhs_offset,
                                 const irvm_buffer_t* rhs, uint64_t rhs_offset,
                                 uint64_t length, bool* out_equal) IRT_MUST_USE;

// vm.buffer.hash: SipHash-2-4 (64-bit output) of [offset, offset + length)
// with the key bytes 00 01 .. 0F.
irt_status_t irvm_buffer_hash(const irvm_buffer_t* buffer, uint64_t offset,
                              uint64_t length, uint64_t* out_hash) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Element fills: elements [offset, offset + count) of the access size
//===----------------------------------------------------------------------===//

irt_status_t irvm_buffer_fill_i8(irvm_buffer_t* buffer, uint64_t offset,
                                 uint64_t count, int32_t value) IRT_MUST_USE;
irt_status_t irvm_buffer_fill_i16(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int32_t value) IRT_MUST_USE;
irt_status_t irvm_buffer_fill_i32(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int32_t value) IRT_MUST_USE;
irt_status_t irvm_buffer_fill_i64(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int64_t value) IRT_MUST_USE;
irt_status_t irvm_buffer_fill_f32(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, float value) IRT_MUST_USE;
irt_status_t irvm_buffer_fill_f64(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, double value) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Element loads and stores (inline hot paths)
//===----------------------------------------------------------------------===//

// The failure status for an element access that did not pass the inline
// check (kept out of line so the hot path stays small).
irt_status_t irvm_buffer_element_error(const irvm_buffer_t* buffer,
                                       uint64_t index, unsigned size_log2,
                                       bool write) IRT_MUST_USE;

// Points *out_ptr at element |index| of size 1 << |size_log2|. Element i fits
// iff i < floor(length / size), which cannot overflow.
static inline irt_status_t irvm_buffer_element_(const irvm_buffer_t* buffer,
                                                uint64_t index,
                                                unsigned size_log2, bool write,
                                                uint8_t** out_ptr) {
  if (__builtin_expect(buffer != NULL &&
                           index < ((uint64_t)buffer->length >> size_log2) &&
                           (!write || (buffer->flags & IRVM_BUFFER_MUTABLE)),
                       1)) {
    *out_ptr = buffer->data + ((size_t)index << size_log2);
    return IRT_OK;
  }
  return irvm_buffer_element_error(buffer, index, size_log2, write);
}

#define IRVM_BUFFER_LOAD_(name, size_log2, element_t, result_t)           \
  static inline irt_status_t irvm_buffer_load_##name(                     \
      const irvm_buffer_t* buffer, uint64_t index, result_t* out_value) { \
    uint8_t* ptr = NULL;                                                  \
    irt_status_t status =                                                 \
        irvm_buffer_element_(buffer, index, size_log2, false, &ptr);      \
    if (status != IRT_OK) return status;                                  \
    element_t element;                                                    \
    memcpy(&element, ptr, sizeof(element));                               \
    *out_value = (result_t)element;                                       \
    return IRT_OK;                                                        \
  }

#define IRVM_BUFFER_STORE_(name, size_log2, element_t, value_t)     \
  static inline irt_status_t irvm_buffer_store_##name(              \
      irvm_buffer_t* buffer, uint64_t index, value_t value) {       \
    uint8_t* ptr = NULL;                                            \
    irt_status_t status =                                           \
        irvm_buffer_element_(buffer, index, size_log2, true, &ptr); \
    if (status != IRT_OK) return status;                            \
    element_t element = (element_t)value;                           \
    memcpy(ptr, &element, sizeof(element));                         \
    return IRT_OK;                                                  \
  }

// vm.buffer.load.*: u8/u16 zero-extend and i8/i16 sign-extend to i32.
IRVM_BUFFER_LOAD_(u8, 0, uint8_t, int32_t)
IRVM_BUFFER_LOAD_(i8, 0, int8_t, int32_t)
IRVM_BUFFER_LOAD_(u16, 1, uint16_t, int32_t)
IRVM_BUFFER_LOAD_(i16, 1, int16_t, int32_t)
IRVM_BUFFER_LOAD_(i32, 2, int32_t, int32_t)
IRVM_BUFFER_LOAD_(i64, 3, int64_t, int64_t)
IRVM_BUFFER_LOAD_(f32, 2, float, float)
IRVM_BUFFER_LOAD_(f64, 3, double, double)

// vm.buffer.store.*: i8/i16 store the low bits of |value|.
IRVM_BUFFER_STORE_(i8, 0, uint8_t, int32_t)
IRVM_BUFFER_STORE_(i16, 1, uint16_t, int32_t)
IRVM_BUFFER_STORE_(i32, 2, int32_t, int32_t)
IRVM_BUFFER_STORE_(i64, 3, int64_t, int64_t)
IRVM_BUFFER_STORE_(f32, 2, float, float)
IRVM_BUFFER_STORE_(f64, 3, double, double)

#undef IRVM_BUFFER_LOAD_
#undef IRVM_BUFFER_STORE_

#endif  // IRVM_BUFFER_H
