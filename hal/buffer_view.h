// Buffer views: (buffer, shape, element type, encoding), the tensors that
// cross the program ABI (HAL spec 1.5.3, 9.3). Immutable once created.
#ifndef IRHAL_BUFFER_VIEW_H
#define IRHAL_BUFFER_VIEW_H

#include "hal/buffer.h"
#include "runtime/base/string_view.h"

// Spec limit on ranks crossing the `hal` module boundary.
#define IRHAL_MAX_RANK 128

typedef struct irhal_buffer_view_s {
  irvm_ref_object_t header;
  irt_allocator_t host_allocator;
  irhal_buffer_t* buffer;  // retained
  irhal_element_type_t element_type;
  uint32_t encoding_type;
  uint32_t rank;
  irhal_device_size_t shape[];  // rank dims
} irhal_buffer_view_t;

extern const irvm_ref_type_t irhal_buffer_view_type_descriptor;
static inline const irvm_ref_type_t* irhal_buffer_view_type(void) {
  return &irhal_buffer_view_type_descriptor;
}
static inline irhal_buffer_view_t* irhal_buffer_view_deref(
    const irvm_ref_t* ref) {
  return ref->type == &irhal_buffer_view_type_descriptor
             ? (irhal_buffer_view_t*)ref->ptr
             : NULL;
}
static inline void irhal_buffer_view_retain(irhal_buffer_view_t* view) {
  irvm_object_retain(view);
}
static inline void irhal_buffer_view_release(irhal_buffer_view_t* view) {
  irvm_object_release(view, &irhal_buffer_view_type_descriptor);
}

// Creates a view over |buffer| (retained). Rank above IRHAL_MAX_RANK is
// OUT_OF_RANGE.
irt_status_t irhal_buffer_view_create(irhal_buffer_t* buffer, uint32_t rank,
                                      const irhal_device_size_t* shape,
                                      irhal_element_type_t element_type,
                                      uint32_t encoding_type,
                                      irt_allocator_t host_allocator,
                                      irhal_buffer_view_t** out_view)
    IRT_MUST_USE;

// Element count (product of dims; 1 for rank 0). Returns false on overflow.
bool irhal_buffer_view_element_count(const irhal_buffer_view_t* view,
                                     uint64_t* out_count);
// Dense byte length: element bytes x element count; INVALID_ARGUMENT for
// sub-byte or opaque types, OUT_OF_RANGE on overflow.
irt_status_t irhal_buffer_view_byte_length(const irhal_buffer_view_t* view,
                                           irhal_device_size_t* out_length)
    IRT_MUST_USE;

// Formats "4x2xf32" (shape and element type) into |buffer|.
void irhal_format_shape_and_type(uint32_t rank, const irhal_device_size_t* shape,
                                 irhal_element_type_t element_type,
                                 char* buffer, size_t capacity);
// The textual name of an element type ("f32", "si8", "i1"); "*N" for opaque
// and unknown numerical types.
void irhal_element_type_format(irhal_element_type_t element_type, char* buffer,
                               size_t capacity);
// Parses an element type name; returns false if unknown.
bool irhal_element_type_parse(irt_string_view_t text,
                              irhal_element_type_t* out_element_type);

#endif  // IRHAL_BUFFER_VIEW_H
