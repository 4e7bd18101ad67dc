#include "hal/allocator.h"

static void irhal_allocator_destroy(void* object) {
  irhal_allocator_t* allocator = object;
  irhal_device_t* device = allocator->device;
  irt_allocator_free(device->host_allocator, allocator);
  irhal_device_release(device);
}

const irvm_ref_type_t irhal_allocator_type_descriptor = {
    .name = "hal.allocator",
    .destroy = irhal_allocator_destroy,
};

irt_status_t irhal_allocator_create(irhal_device_t* device,
                                    irhal_allocator_t** out_allocator) {
  *out_allocator = NULL;
  irhal_allocator_t* allocator = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(device->host_allocator, sizeof(*allocator),
                           (void**)&allocator),
      "allocating a hal.allocator");
  irt_ref_count_init(&allocator->header.count);
  irhal_device_retain(device);
  allocator->device = device;
  *out_allocator = allocator;
  return IRT_OK;
}
