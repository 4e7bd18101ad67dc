// CUDA buffers and the per-device state they share with executables and the
// queue (HAL spec 8.5).
//
// Three kinds of memory back a buffer:
//  - device memory from the stream-ordered allocator (cuMemAllocAsync on the
//    queue's stream, cuMemFreeAsync when the last reference drops: any work
//    still using it was queued earlier on the same stream);
//  - pinned host memory (cuMemHostAlloc, mapped into the device's address
//    space) for host-visible requests: staging, mapped results;
//  - imported host memory that was pinned beforehand with
//    irhal_cuda_device_register_host_memory (the daemon's shared-memory
//    regions), used in place.
// With unified addressing a host pointer of the last two kinds is also their
// device address, so every kind yields one CUdeviceptr for copies, fills and
// dispatch bindings.
#ifndef IRHAL_CUDA_CUDA_BUFFER_H
#define IRHAL_CUDA_CUDA_BUFFER_H

#include "hal/buffer.h"
#include "hal/cuda/cuda_dynamic_symbols.h"
#include "hal/cuda/cuda_executable_def.h"
#include "runtime/base/ref_count.h"

// What a device's buffers, executables and queue share: the primary
// context of one GPU and the stream that is its queue. Reference-counted so
// buffers and executables may outlive the device object.
typedef struct irhal_cuda_context_s {
  irt_ref_count_t ref_count;
  irt_allocator_t host_allocator;
  const irhal_cuda_symbols_t* cu;
  int ordinal;
  CUdevice device;
  CUcontext context;  // the device's primary context (retained)
  CUstream stream;    // the queue
  bool memory_pools;  // cuMemAllocAsync supported
  // Limits checked when executables load (spec 8.3 step 1).
  irhal_cuda_limits_t limits;
} irhal_cuda_context_t;

// Retains device |ordinal|'s primary context and creates the queue stream.
irt_status_t irhal_cuda_context_create(
    const irhal_cuda_symbols_t* cu, int ordinal, irt_allocator_t host_allocator,
    irhal_cuda_context_t** out_context) IRT_MUST_USE;
void irhal_cuda_context_retain(irhal_cuda_context_t* context);
// The last release waits for the stream, destroys it and releases the
// primary context.
void irhal_cuda_context_release(irhal_cuda_context_t* context);
// Makes the context current on the calling thread (every entry point that
// calls the driver does this first; it is cheap when already current).
irt_status_t irhal_cuda_context_bind(irhal_cuda_context_t* context)
    IRT_MUST_USE;

// Memory types the CUDA device reports.
#define IRHAL_CUDA_DEVICE_MEMORY_TYPE IRHAL_MEMORY_TYPE_DEVICE_LOCAL
#define IRHAL_CUDA_HOST_MEMORY_TYPE                                  \
  (IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE | \
   IRHAL_MEMORY_TYPE_HOST_CACHED)

// A buffer of |size| bytes: pinned host memory when |memory_type| asks for
// HOST_VISIBLE, device memory otherwise.
irt_status_t irhal_cuda_buffer_allocate(
    irhal_cuda_context_t* context, uint32_t memory_type, uint32_t usage,
    irhal_device_size_t size, irhal_buffer_t** out_buffer) IRT_MUST_USE;

// True (with the range's device address) when [data, data + length) lies in
// one piece of host memory pinned for the driver (registered or allocated
// by it). The context must be bound.
bool irhal_cuda_host_range_address(irhal_cuda_context_t* context,
                                   const void* data, uint64_t length,
                                   CUdeviceptr* out_address);

// Host memory registered with the context (cuMemHostRegister) used in place;
// UNAVAILABLE when [data, data + length) is not registered (the caller then
// copies). |release| runs when the buffer is destroyed.
irt_status_t irhal_cuda_buffer_import(irhal_cuda_context_t* context, void* data,
                                      irhal_device_size_t length,
                                      uint32_t usage, uint32_t access,
                                      irhal_release_callback_t release,
                                      irhal_buffer_t** out_buffer) IRT_MUST_USE;

// The device address of byte |offset| of |buffer| (relative to the buffer).
// Buffers of other devices are accepted when the host can map them (copies
// then read or write them as pageable host memory): *out_pageable is set.
// |out_pageable| NULL refuses them (dispatch bindings, fills).
irt_status_t irhal_cuda_buffer_address(irhal_buffer_t* buffer,
                                       irhal_device_size_t offset,
                                       irhal_device_size_t length,
                                       CUdeviceptr* out_address,
                                       bool* out_pageable) IRT_MUST_USE;

#endif  // IRHAL_CUDA_CUDA_BUFFER_H
