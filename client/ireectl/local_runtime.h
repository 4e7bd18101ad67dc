// The HAL side of `ireectl run --local`: creating the local device by name
// and moving tensors into and out of device buffers (HAL spec 9.4).
#ifndef IREECTL_LOCAL_RUNTIME_H
#define IREECTL_LOCAL_RUNTIME_H

#include "hal/buffer_view.h"
#include "hal/device.h"
#include "runtime/tooling/tensor_text.h"

// Creates the in-process device |name|: "local-sync" or "local-task".
// NOT_FOUND (listing the names) for anything else.
irt_status_t ireectl_local_device_create(irt_string_view_t name,
                                         irt_allocator_t host_allocator,
                                         irhal_device_t** out_device)
    IRT_MUST_USE;

// A new buffer of |device| holding |tensor|'s bytes: DEVICE_LOCAL |
// HOST_VISIBLE memory with usage DEFAULT, the way hosts pass inputs.
irt_status_t ireectl_local_buffer_upload(irhal_device_t* device,
                                         const irtool_tensor_t* tensor,
                                         irhal_buffer_t** out_buffer)
    IRT_MUST_USE;

// The same wrapped in a dense row-major buffer view of the tensor's shape.
irt_status_t ireectl_local_buffer_view_upload(irhal_device_t* device,
                                              const irtool_tensor_t* tensor,
                                              irt_allocator_t host_allocator,
                                              irhal_buffer_view_t** out_view)
    IRT_MUST_USE;

// Describes |view|'s contents as a tensor borrowing its mapped memory (valid
// while the view lives). FAILED_PRECONDITION for memory the host cannot map
// (only CPU devices are run locally, whose memory always is).
irt_status_t ireectl_local_buffer_view_read(irhal_buffer_view_t* view,
                                            irtool_tensor_t* out_tensor)
    IRT_MUST_USE;

// |buffer|'s bytes as a 1-D i8 tensor borrowing its mapped memory.
irt_status_t ireectl_local_buffer_read(irhal_buffer_t* buffer,
                                       irtool_tensor_t* out_tensor)
    IRT_MUST_USE;

#endif  // IREECTL_LOCAL_RUNTIME_H
