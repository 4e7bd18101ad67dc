#include "runtime/session/tensor.h"

#include <inttypes.h>
#include <stdint.h>
#include <string.h>

irt_status_t irsess_buffer_upload(irhal_device_t* device, const void* data,
                                  size_t length, irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_device_allocate_buffer(
          device,
          IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_VISIBLE,
          IRHAL_BUFFER_USAGE_DEFAULT, length, &buffer),
      "allocating a %zu-byte input buffer", length);
  void* mapped = NULL;
  irt_status_t status =
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0, length, &mapped);
  if (!irt_status_is_ok(status)) {
    irhal_buffer_release(buffer);
    return irt_status_annotate(status, "filling an input buffer");
  }
  if (length) memcpy(mapped, data, length);
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t irsess_buffer_import(irhal_device_t* device, void* data,
                                  size_t length,
                                  irhal_release_callback_t release,
                                  irhal_buffer_t** out_buffer,
                                  bool* out_imported) {
  *out_buffer = NULL;
  *out_imported = false;
  // Checked here rather than left to the device so that misaligned inputs,
  // which are common, cost no status allocation on the way to the copy.
  if ((uintptr_t)data % IRSESS_ZERO_COPY_ALIGNMENT == 0 && length > 0) {
    irt_status_t status = device->vtable->import_host_buffer(
        device, data, length,
        IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_VISIBLE,
        IRHAL_BUFFER_USAGE_DEFAULT,
        IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE, release,
        out_buffer);
    if (irt_status_is_ok(status)) {
      *out_imported = true;
      return IRT_OK;
    }
    if (irt_status_code(status) != IRT_STATUS_UNAVAILABLE) return status;
    irt_status_free(status);  // the device wants a copy
  }
  return irsess_buffer_upload(device, data, length, out_buffer);
}

irt_status_t irsess_buffer_view_upload(irhal_device_t* device,
                                       const irtool_tensor_t* tensor,
                                       irt_allocator_t host_allocator,
                                       irhal_buffer_view_t** out_view) {
  *out_view = NULL;
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(
      irsess_buffer_upload(device, tensor->data, tensor->byte_length, &buffer));
  irt_status_t status = irhal_buffer_view_create(
      buffer, tensor->rank, tensor->shape, tensor->element_type,
      IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR, host_allocator, out_view);
  irhal_buffer_release(buffer);  // the view holds its own reference
  return status;
}

irt_status_t irsess_buffer_view_describe(const irhal_buffer_view_t* view,
                                        irtool_tensor_t* out_tensor) {
  *out_tensor = (irtool_tensor_t){0};
  if (view->rank > IRTOOL_MAX_RANK) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE, "result rank %u exceeds %d",
                           view->rank, IRTOOL_MAX_RANK);
  }
  if (view->encoding_type != IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "result encoding %u is not dense row-major",
                           view->encoding_type);
  }
  irhal_device_size_t length = 0;
  IRT_RETURN_IF_ERROR(irhal_buffer_view_byte_length(view, &length));
  if (length > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "a %" PRIu64
                           "-byte result does not fit in host memory",
                           length);
  }
  out_tensor->element_type = view->element_type;
  out_tensor->rank = view->rank;
  memcpy(out_tensor->shape, view->shape, view->rank * sizeof(view->shape[0]));
  out_tensor->byte_length = (size_t)length;
  return IRT_OK;
}

void irsess_buffer_describe(const irhal_buffer_t* buffer,
                            irtool_tensor_t* out_tensor) {
  *out_tensor = (irtool_tensor_t){0};
  out_tensor->element_type = IRHAL_ELEMENT_TYPE_INT_8;
  out_tensor->rank = 1;
  out_tensor->shape[0] = buffer->byte_length;
  out_tensor->byte_length = (size_t)buffer->byte_length;
}

irt_status_t irsess_buffer_map_for_reading(irhal_buffer_t* buffer,
                                           irtool_tensor_t* inout_tensor) {
  void* mapped = NULL;
  IRT_RETURN_IF_ERROR(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                                       inout_tensor->byte_length, &mapped));
  inout_tensor->data = mapped;
  return IRT_OK;
}

// Copies through a host-visible staging buffer of the device.
static irt_status_t irsess_download_staged(irhal_device_t* device,
                                           irhal_buffer_t* buffer,
                                           size_t length, void* target) {
  irhal_buffer_t* staging = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_device_allocate_buffer(
          device,
          IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
          IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING_SCOPED,
          length, &staging),
      "allocating %zu bytes of staging for a result", length);
  irt_status_t status = irsess_buffer_copy_and_wait(device, buffer, staging,
                                                    length);
  void* mapped = NULL;
  if (irt_status_is_ok(status)) {
    status = irhal_buffer_map(staging, IRHAL_MEMORY_ACCESS_READ, 0, length,
                              &mapped);
  }
  if (irt_status_is_ok(status)) memcpy(target, mapped, length);
  irhal_buffer_release(staging);
  return status;
}

irt_status_t irsess_buffer_copy_and_wait(irhal_device_t* device,
                                         irhal_buffer_t* source,
                                         irhal_buffer_t* target,
                                         irhal_device_size_t length) {
  irhal_fence_t* fence = NULL;
  IRT_RETURN_IF_ERROR(irhal_fence_create_single(device->host_allocator, &fence));
  irt_status_t status = irhal_device_queue_copy(device, UINT64_MAX, NULL,
                                                fence, source, 0, target, 0,
                                                length);
  if (irt_status_is_ok(status)) status = irhal_fence_wait(fence, INT64_MAX);
  irhal_fence_release(fence);
  return status;
}

irt_status_t irsess_buffer_download(irhal_device_t* device,
                                    irhal_buffer_t* buffer, size_t length,
                                    void* target) {
  if (length == 0) return IRT_OK;
  void* mapped = NULL;
  irt_status_t status =
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0, length, &mapped);
  if (irt_status_is_ok(status)) {
    memcpy(target, mapped, length);
    return IRT_OK;
  }
  if (irt_status_code(status) != IRT_STATUS_FAILED_PRECONDITION) return status;
  irt_status_free(status);
  // Device memory: copy straight into |target| when the device can use it in
  // place (memory pinned for it: a DMA write), else through staging.
  irhal_buffer_t* host = NULL;
  status = device->vtable->import_host_buffer(
      device, target, length, IRHAL_MEMORY_TYPE_HOST_LOCAL,
      IRHAL_BUFFER_USAGE_TRANSFER, IRHAL_MEMORY_ACCESS_WRITE,
      (irhal_release_callback_t){NULL, NULL}, &host);
  if (irt_status_is_ok(status)) {
    status = irsess_buffer_copy_and_wait(device, buffer, host, length);
    irhal_buffer_release(host);
    return irt_status_annotate(status, "downloading a %zu-byte result",
                               length);
  }
  irt_status_free(status);
  return irt_status_annotate(
      irsess_download_staged(device, buffer, length, target),
      "downloading a %zu-byte result", length);
}

// The tensor's bytes: borrowed from the mapping, or downloaded into memory
// the tensor owns.
static irt_status_t irsess_fetch(irhal_device_t* device,
                                 irhal_buffer_t* buffer,
                                 irt_allocator_t allocator,
                                 irtool_tensor_t* tensor) {
  irt_status_t status = irsess_buffer_map_for_reading(buffer, tensor);
  if (irt_status_code(status) != IRT_STATUS_FAILED_PRECONDITION) {
    return irt_status_annotate(status, "reading a result");
  }
  irt_status_free(status);
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(
      allocator, tensor->byte_length ? tensor->byte_length : 1,
      (void**)&tensor->data));
  tensor->allocator = allocator;
  status = irsess_buffer_download(device, buffer, tensor->byte_length,
                                  tensor->data);
  if (!irt_status_is_ok(status)) irtool_tensor_free_data(tensor);
  return status;
}

irt_status_t irsess_buffer_view_read(irhal_device_t* device,
                                     irhal_buffer_view_t* view,
                                     irt_allocator_t allocator,
                                     irtool_tensor_t* out_tensor) {
  IRT_RETURN_IF_ERROR(irsess_buffer_view_describe(view, out_tensor));
  return irsess_fetch(device, view->buffer, allocator, out_tensor);
}

irt_status_t irsess_buffer_read(irhal_device_t* device, irhal_buffer_t* buffer,
                                irt_allocator_t allocator,
                                irtool_tensor_t* out_tensor) {
  irsess_buffer_describe(buffer, out_tensor);
  return irsess_fetch(device, buffer, allocator, out_tensor);
}
