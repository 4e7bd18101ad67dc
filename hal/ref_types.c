#include "hal/ref_types.h"

#include <stdlib.h>

#include "hal/api.h"

// No channel or event object is ever created, so no reference to one can be
// dropped; reaching this is memory corruption.
static void irhal_uncreatable_destroy(void* object) {
  (void)object;
  abort();
}

const irvm_ref_type_t irhal_channel_type_descriptor = {
    .name = "hal.channel",
    .destroy = irhal_uncreatable_destroy,
};

const irvm_ref_type_t irhal_event_type_descriptor = {
    .name = "hal.event",
    .destroy = irhal_uncreatable_destroy,
};

const irvm_ref_type_t* const irhal_ref_types[IRHAL_REF_TYPE_COUNT] = {
    &irhal_allocator_type_descriptor,      &irhal_buffer_type_descriptor,
    &irhal_buffer_view_type_descriptor,    &irhal_channel_type_descriptor,
    &irhal_command_buffer_type_descriptor, &irhal_device_type_descriptor,
    &irhal_event_type_descriptor,          &irhal_executable_type_descriptor,
    &irhal_fence_type_descriptor,          &irhal_file_type_descriptor,
    &irhal_semaphore_type_descriptor,
};
