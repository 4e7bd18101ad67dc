#include "client/ireectl/local_runtime.h"

#include <inttypes.h>
#include <string.h>

#include "hal/cpu/cpu_device.h"

irt_status_t ireectl_local_device_create(irt_string_view_t name,
                                         irt_allocator_t host_allocator,
                                         irhal_device_t** out_device) {
  *out_device = NULL;
  if (!irt_string_view_equal_cstring(name, "local-sync") &&
      !irt_string_view_equal_cstring(name, "local-task")) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "unknown device '%.*s' (local devices: local-sync, "
                           "local-task)",
                           IRT_SV_ARG(name));
  }
  // local-task: one worker per online CPU.
  return irhal_cpu_device_create_by_name(name, 0, host_allocator, out_device);
}

irt_status_t ireectl_local_buffer_upload(irhal_device_t* device,
                                         const irtool_tensor_t* tensor,
                                         irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      device->vtable->allocate_buffer(
          device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_VISIBLE,
          IRHAL_BUFFER_USAGE_DEFAULT, tensor->byte_length, &buffer),
      "allocating a %zu-byte input buffer", tensor->byte_length);
  void* mapped = NULL;
  irt_status_t status = irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0,
                                         tensor->byte_length, &mapped);
  if (!irt_status_is_ok(status)) {
    irhal_buffer_release(buffer);
    return irt_status_annotate(status, "filling an input buffer");
  }
  if (tensor->byte_length) memcpy(mapped, tensor->data, tensor->byte_length);
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t ireectl_local_buffer_view_upload(irhal_device_t* device,
                                              const irtool_tensor_t* tensor,
                                              irt_allocator_t host_allocator,
                                              irhal_buffer_view_t** out_view) {
  *out_view = NULL;
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(ireectl_local_buffer_upload(device, tensor, &buffer));
  irt_status_t status = irhal_buffer_view_create(
      buffer, tensor->rank, tensor->shape, tensor->element_type,
      IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR, host_allocator, out_view);
  irhal_buffer_release(buffer);  // the view holds its own reference
  return status;
}

// Maps [0, length) of |buffer| for reading.
static irt_status_t ireectl_local_map(irhal_buffer_t* buffer,
                                      irhal_device_size_t length,
                                      irtool_tensor_t* out_tensor) {
  if (length > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "a %" PRIu64 "-byte result does not fit in host "
                           "memory",
                           length);
  }
  void* mapped = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0, length, &mapped),
      "reading a result");
  out_tensor->data = mapped;
  out_tensor->byte_length = (size_t)length;
  return IRT_OK;
}

irt_status_t ireectl_local_buffer_view_read(irhal_buffer_view_t* view,
                                            irtool_tensor_t* out_tensor) {
  memset(out_tensor, 0, sizeof(*out_tensor));
  if (view->rank > IRTOOL_MAX_RANK) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "result rank %u exceeds %d", view->rank,
                           IRTOOL_MAX_RANK);
  }
  if (view->encoding_type != IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "result encoding %u is not dense row-major",
                           view->encoding_type);
  }
  out_tensor->element_type = view->element_type;
  out_tensor->rank = view->rank;
  memcpy(out_tensor->shape, view->shape, view->rank * sizeof(view->shape[0]));
  irhal_device_size_t length = 0;
  IRT_RETURN_IF_ERROR(irhal_buffer_view_byte_length(view, &length));
  return ireectl_local_map(view->buffer, length, out_tensor);
}

irt_status_t ireectl_local_buffer_read(irhal_buffer_t* buffer,
                                       irtool_tensor_t* out_tensor) {
  memset(out_tensor, 0, sizeof(*out_tensor));
  out_tensor->element_type = IRHAL_ELEMENT_TYPE_INT_8;
  out_tensor->rank = 1;
  out_tensor->shape[0] = buffer->byte_length;
  return ireectl_local_map(buffer, buffer->byte_length, out_tensor);
}
