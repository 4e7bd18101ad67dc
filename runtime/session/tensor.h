// Host tensors in and out of a model's device (HAL spec 9.3, 9.4): inputs
// become device buffers (imported without a copy where the device can use
// the host memory directly), results are mapped and described as tensors.
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

// Describes |view|'s contents as a tensor borrowing its mapped memory (valid
// while the view lives). FAILED_PRECONDITION for memory the host cannot map
// (CPU memory always can), UNIMPLEMENTED for encodings other than dense
// row-major.
irt_status_t irsess_buffer_view_read(irhal_buffer_view_t* view,
                                     irtool_tensor_t* out_tensor) IRT_MUST_USE;

// |buffer|'s bytes as a 1-D i8 tensor borrowing its mapped memory.
irt_status_t irsess_buffer_read(irhal_buffer_t* buffer,
                                irtool_tensor_t* out_tensor) IRT_MUST_USE;

#endif  // IRSESS_TENSOR_H
