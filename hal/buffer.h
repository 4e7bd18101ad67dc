// HAL buffers: a linear byte range of device-visible memory, either an
// allocation ("root") or a subspan that keeps its root alive (HAL spec 1.2,
// 1.5.2).
//
// Buffers are reference-counted VM objects (ref type "hal.buffer"), so the
// `hal` module hands them to bytecode directly. Memory ownership lives in the
// root's vtable: CPU heap memory, an imported host range (with a release
// callback), a Vulkan allocation, CUDA device memory...
#ifndef IRHAL_BUFFER_H
#define IRHAL_BUFFER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "hal/types.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/ref.h"

typedef struct irhal_buffer_s irhal_buffer_t;

typedef struct irhal_buffer_vtable_s {
  // Frees the root's memory and the object itself.
  void (*destroy)(irhal_buffer_t* root);
  // Returns a host pointer to root bytes [offset, offset + length) for
  // |access|, or an error when the memory is not host-visible. NULL for
  // device-only memory (every map then fails with FAILED_PRECONDITION).
  irt_status_t (*map)(irhal_buffer_t* root, uint32_t access,
                      irhal_device_size_t offset, irhal_device_size_t length,
                      void** out_ptr);
} irhal_buffer_vtable_t;

// Release callback for imported host memory.
typedef struct irhal_release_callback_s {
  void (*fn)(void* user_data);
  void* user_data;
} irhal_release_callback_t;

struct irhal_buffer_s {
  irvm_ref_object_t header;
  const irhal_buffer_vtable_t* vtable;  // of the root
  irhal_buffer_t* root;                 // self for roots (not retained)
  irt_allocator_t host_allocator;       // frees this object
  uint32_t memory_type;
  uint32_t allowed_usage;
  uint32_t allowed_access;
  irhal_device_size_t allocation_size;  // of the root
  irhal_device_size_t byte_offset;      // within the root
  irhal_device_size_t byte_length;
  atomic_int preserve_count;  // roots only (spec 1.5.2 allocation.*)
  // Roots: device-specific storage (host pointer for CPU memory, VkBuffer,
  // CUdeviceptr...), owned by the vtable.
  void* storage;
  // Roots made by irhal_device_allocate_buffer: the device's counters,
  // credited when the root is destroyed; NULL otherwise.
  struct irhal_memory_stats_s* memory_stats;
};

extern const irvm_ref_type_t irhal_buffer_type_descriptor;
static inline const irvm_ref_type_t* irhal_buffer_type(void) {
  return &irhal_buffer_type_descriptor;
}
// The buffer |ref| points to, or NULL when null or of another type.
static inline irhal_buffer_t* irhal_buffer_deref(const irvm_ref_t* ref) {
  return ref->type == &irhal_buffer_type_descriptor ? (irhal_buffer_t*)ref->ptr
                                                    : NULL;
}
static inline void irhal_buffer_retain(irhal_buffer_t* buffer) {
  irvm_object_retain(buffer);
}
static inline void irhal_buffer_release(irhal_buffer_t* buffer) {
  irvm_object_release(buffer, &irhal_buffer_type_descriptor);
}

// Initializes a root buffer's common fields (ref count 1, preserve count 1).
void irhal_buffer_initialize_root(irhal_buffer_t* buffer,
                                  const irhal_buffer_vtable_t* vtable,
                                  irt_allocator_t host_allocator,
                                  uint32_t memory_type, uint32_t allowed_usage,
                                  uint32_t allowed_access,
                                  irhal_device_size_t allocation_size,
                                  void* storage);

// A buffer over host memory allocated from |host_allocator| (64-byte
// aligned, zero-filled): the CPU devices' allocations and host staging.
irt_status_t irhal_host_buffer_allocate(irt_allocator_t host_allocator,
                                        uint32_t memory_type,
                                        uint32_t allowed_usage,
                                        irhal_device_size_t size,
                                        irhal_buffer_t** out_buffer)
    IRT_MUST_USE;

// A buffer aliasing |length| bytes of host memory at |data| without copying;
// |release| runs when the buffer is destroyed (e.g. to release the vm.buffer
// or file mapping that owns the bytes); not on failure, where the caller
// keeps ownership.
irt_status_t irhal_host_buffer_wrap(irt_allocator_t host_allocator, void* data,
                                    irhal_device_size_t length,
                                    uint32_t memory_type,
                                    uint32_t allowed_usage,
                                    uint32_t allowed_access,
                                    irhal_release_callback_t release,
                                    irhal_buffer_t** out_buffer) IRT_MUST_USE;

// A view of |length| bytes (IRHAL_WHOLE_LENGTH = the rest) at |offset| of
// |source|. Returns |source| retained when the range is all of it; subspans
// of subspans reference the root. OUT_OF_RANGE when the range does not fit.
irt_status_t irhal_buffer_subspan(irhal_buffer_t* source,
                                  irhal_device_size_t offset,
                                  irhal_device_size_t length,
                                  irhal_buffer_t** out_buffer) IRT_MUST_USE;

// Resolves |length| (IRHAL_WHOLE_LENGTH = to the end) against the buffer and
// checks [offset, offset + length) fits: OUT_OF_RANGE otherwise, naming
// |what|.
irt_status_t irhal_buffer_check_range(const irhal_buffer_t* buffer,
                                      irhal_device_size_t offset,
                                      irhal_device_size_t* inout_length,
                                      const char* what) IRT_MUST_USE;

// PERMISSION_DENIED, naming |what|, unless |buffer| allows every bit of
// |usage|.
irt_status_t irhal_buffer_check_usage(const irhal_buffer_t* buffer,
                                      uint32_t usage, const char* what)
    IRT_MUST_USE;

// Allocation preserve count (spec 1.5.2), shared by the root and all its
// subspans. preserve increments it; discard decrements it (never below 0) and
// returns true when it dropped from 1 to 0, i.e. the caller was the last
// preserving owner; is_terminal is true while it is exactly 1.
void irhal_buffer_allocation_preserve(irhal_buffer_t* buffer);
bool irhal_buffer_allocation_discard(irhal_buffer_t* buffer);
bool irhal_buffer_allocation_is_terminal(irhal_buffer_t* buffer);

// Host pointer to [offset, offset + length) of |buffer| (relative to the
// buffer, not the root), range-checked. Memory stays valid while the buffer
// lives; nothing to unmap for host-coherent memory.
irt_status_t irhal_buffer_map(irhal_buffer_t* buffer, uint32_t access,
                              irhal_device_size_t offset,
                              irhal_device_size_t length,
                              void** out_ptr) IRT_MUST_USE;

#endif  // IRHAL_BUFFER_H
