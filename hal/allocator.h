// The `hal.allocator` object compiled code obtains with hal.device.allocator
// and passes to allocator.allocate/import and buffer.assert. It only names
// its device (retained); allocation goes through the device vtable.
#ifndef IRHAL_ALLOCATOR_H
#define IRHAL_ALLOCATOR_H

#include "hal/device.h"

typedef struct irhal_allocator_s {
  irvm_ref_object_t header;
  irhal_device_t* device;  // retained
} irhal_allocator_t;

extern const irvm_ref_type_t irhal_allocator_type_descriptor;
static inline const irvm_ref_type_t* irhal_allocator_type(void) {
  return &irhal_allocator_type_descriptor;
}
static inline irhal_allocator_t* irhal_allocator_deref(const irvm_ref_t* ref) {
  return ref->type == &irhal_allocator_type_descriptor
             ? (irhal_allocator_t*)ref->ptr
             : NULL;
}

static inline void irhal_allocator_retain(irhal_allocator_t* allocator) {
  irvm_object_retain(allocator);
}
static inline void irhal_allocator_release(irhal_allocator_t* allocator) {
  irvm_object_release(allocator, &irhal_allocator_type_descriptor);
}

irt_status_t irhal_allocator_create(irhal_device_t* device,
                                    irhal_allocator_t** out_allocator)
    IRT_MUST_USE;

#endif  // IRHAL_ALLOCATOR_H
