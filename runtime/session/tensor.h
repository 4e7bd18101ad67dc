// Host tensors in and out of a model's device (HAL spec 9.3, 9.4): inputs
// become device buffers (imported without a copy where the device can use
// the host memory directly), results are mapped (or, for device memory the
// host cannot map, downloaded) and described as tensors.
#ifndef IRSESS_TENSOR_H
#define IRSESS_TENSOR_H

#include <stdbool.h>

#include "hal/buffer_view.h"
#include "hal/device.h"
#include "runtime/tooling/tensor_text.h"

// Host memory aligned to this may be imported without copying (the CPU
// devices' requirement: compiled dispatches use aligned vector loads).
#define IRSESS_ZERO_COPY_ALIGNMENT 64

// A new buffer of |device| holding a copy of |length| bytes at |data|:
// DEVICE_LOCAL | HOST_VISIBLE memory with usage DEFAULT, the way hosts pass
// inputs.
irt_status_t irsess_buffer_upload(irhal_device_t* device, const void* data,
                                  size_t length,
                                  irhal_buffer_t** out_buffer) IRT_MUST_USE;

// A buffer of |device| over |length| bytes at |data|: the memory itself when
// it is aligned to IRSESS_ZERO_COPY_ALIGNMENT and the device imports it
// (*out_imported true; |release| runs once the device no longer uses it),
// otherwise a copy (*out_imported false; |release| is never called and the
// caller keeps ownership of the memory).
irt_status_t irsess_buffer_import(irhal_device_t* device, void* data,
                                  size_t length,
                                  irhal_release_callback_t release,
                                  irhal_buffer_t** out_buffer,
                                  bool* out_imported) IRT_MUST_USE;

// A dense row-major buffer view of |tensor|'s shape over a copy of its bytes.
irt_status_t irsess_buffer_view_upload(
    irhal_device_t* device, const irtool_tensor_t* tensor,
    irt_allocator_t host_allocator,
    irhal_buffer_view_t** out_view) IRT_MUST_USE;

// Shape, element type and byte length of |view| (data NULL):
// OUT_OF_RANGE for ranks over IRTOOL_MAX_RANK or sizes over the address
// space, UNIMPLEMENTED for encodings other than dense row-major.
irt_status_t irsess_buffer_view_describe(const irhal_buffer_view_t* view,
                                         irtool_tensor_t* out_tensor)
    IRT_MUST_USE;
// |buffer|'s bytes described as a 1-D i8 tensor (data NULL).
void irsess_buffer_describe(const irhal_buffer_t* buffer,
                            irtool_tensor_t* out_tensor);
// Points a described tensor's data at |buffer|'s mapping (borrowed while the
// buffer lives); FAILED_PRECONDITION for memory the host cannot map.
irt_status_t irsess_buffer_map_for_reading(irhal_buffer_t* buffer,
                                           irtool_tensor_t* inout_tensor)
    IRT_MUST_USE;

// Copies |length| bytes from |source| to |target| (offset 0 of both) on
// |device|'s queue and waits for the copy.
irt_status_t irsess_buffer_copy_and_wait(irhal_device_t* device,
                                         irhal_buffer_t* source,
                                         irhal_buffer_t* target,
                                         irhal_device_size_t length)
    IRT_MUST_USE;

// Copies the first |length| bytes of |buffer| to host memory at |target|: a
// memcpy when the host can map the buffer (CPU devices); otherwise a device
// copy, straight into |target| when the device imports it in place (memory
// pinned for a CUDA device: the copy engine writes it) or through a
// host-visible staging buffer.
irt_status_t irsess_buffer_download(irhal_device_t* device,
                                    irhal_buffer_t* buffer, size_t length,
                                    void* target) IRT_MUST_USE;

// |view|'s (|buffer|'s, as 1-D i8) contents as a tensor: borrowing the
// buffer's mapping when the host can map it, else downloaded from |device|
// into memory from |allocator| that the tensor owns. Release with
// irtool_tensor_free_data (nothing to free for a borrowed mapping).
irt_status_t irsess_buffer_view_read(irhal_device_t* device,
                                     irhal_buffer_view_t* view,
                                     irt_allocator_t allocator,
                                     irtool_tensor_t* out_tensor) IRT_MUST_USE;
irt_status_t irsess_buffer_read(irhal_device_t* device, irhal_buffer_t* buffer,
                                irt_allocator_t allocator,
                                irtool_tensor_t* out_tensor) IRT_MUST_USE;

#endif  // IRSESS_TENSOR_H
