// The CUDA device (HAL spec 8, 8.5): one GPU's primary context with one
// stream as its queue, driven through the driver API that
// hal/cuda/cuda_dynamic_symbols.h loads at run time. A build with CUDA
// headers runs on machines without a GPU: creating the device then fails
// with UNAVAILABLE ("no CUDA driver: ...").
//
// Queue operations are issued to the stream once their wait fence is
// reached (a semaphore notification, so no thread waits for it), in that
// order; a CUDA event recorded after each one tells a completion thread
// when to signal its fence. Allocation is stream-ordered (cuMemAllocAsync /
// cuMemFreeAsync), so queue.alloca and dealloca never block. File
// transfers stream through the HAL's bounded staging ring of pinned host
// memory (hal/file_transfer.h), or straight into device memory with cuFile
// when libcufile is present (hal/cuda/cuda_file.h).
#ifndef IRHAL_CUDA_CUDA_DEVICE_H
#define IRHAL_CUDA_CUDA_DEVICE_H

#include "hal/device.h"

// Creates the device for GPU |ordinal|. UNAVAILABLE without a driver or GPU,
// NOT_FOUND for an ordinal the machine does not have. Releasing the last
// reference waits for every submitted operation, so it must not happen on a
// thread those operations wait for.
irt_status_t irhal_cuda_device_create(int ordinal,
                                      irt_allocator_t host_allocator,
                                      irhal_device_t** out_device) IRT_MUST_USE;

// Parses a device name: "cuda" (GPU 0) or "cuda://N". false for any other
// name (so callers can try other drivers); INVALID_ARGUMENT is not used.
bool irhal_cuda_device_parse_name(irt_string_view_t name, int* out_ordinal);

#endif  // IRHAL_CUDA_CUDA_DEVICE_H
