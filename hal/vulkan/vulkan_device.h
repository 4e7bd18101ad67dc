// The Vulkan device (HAL spec 7): SPIR-V executables in the IREE Vulkan
// executable format run through the system Vulkan loader.
//
// One logical device on one physical device, one compute queue. Queue
// operations wait for their wait fence on the host (no thread blocks: the
// fence notifies), are recorded into a Vulkan command buffer (dispatches
// with a descriptor set per dispatch and push constants, fills, updates and
// copies, a full memory barrier at every HAL barrier) and submitted; a
// timeline semaphore orders the submissions on the queue and a completion
// thread waits on it to signal the operations' HAL fences.
//
// Memory: buffers are VkBuffers bound to their own allocation, of the
// memory type the HAL memory type asks for (device-local, host-visible,
// host-coherent); their HAL memory type says what the device gave. File
// reads stream through the bounded staging ring (hal/file_transfer.h). Host
// memory is imported without a copy with VK_EXT_external_memory_host when
// the device has it and the range is aligned to its import alignment.
// Mapping device-only memory for reading downloads the range through a
// host-visible copy (the host reads results that way, HAL spec 9.4).
//
// Pipelines are created through a VkPipelineCache that is loaded from and
// saved to |pipeline_cache_dir| when one is given, so restarts skip shader
// compilation.
#ifndef IRHAL_VULKAN_VULKAN_DEVICE_H
#define IRHAL_VULKAN_VULKAN_DEVICE_H

#include "hal/device.h"

typedef struct irhal_vulkan_device_options_s {
  // Physical device index; used when |name| is NULL or empty.
  uint32_t index;
  // A substring of the physical device's name ("llvmpipe", "H100");
  // NULL/empty: select by |index|.
  const char* name;
  // Directory the pipeline cache is persisted in (created if missing);
  // NULL/empty: none.
  const char* pipeline_cache_dir;
  // Refuse VK_EXT_external_memory_host imports even when supported (tests
  // and benchmarks of the staged path).
  bool disable_host_import;
  // Tests: buffers that did not ask for host visibility are never mapped
  // and report no host access, even where the memory is host-visible
  // (lavapipe), so the paths of discrete GPUs (downloads of device-only
  // memory) run on any device. IREED_VULKAN_EMULATE_DISCRETE=1 in the
  // environment sets it for every Vulkan device of the process.
  bool emulate_discrete_memory;
} irhal_vulkan_device_options_t;

// Creates the device with one reference. NOT_FOUND (naming the devices
// there are) when no physical device matches, UNAVAILABLE when there is no
// Vulkan driver at all or the device lacks timeline semaphores.
irt_status_t irhal_vulkan_device_create(
    const irhal_vulkan_device_options_t* options,
    irt_allocator_t host_allocator, irhal_device_t** out_device) IRT_MUST_USE;

// Parses a device URI: "vulkan" (device 0), "vulkan://N" (index N) or
// "vulkan://NAME" (a substring of the device name). NOT_FOUND for
// other drivers' URIs, INVALID_ARGUMENT for a malformed index. Fills the
// selection fields of |options|; a name is copied into |name_buffer|.
irt_status_t irhal_vulkan_parse_uri(irt_string_view_t uri, char* name_buffer,
                                    size_t name_capacity,
                                    irhal_vulkan_device_options_t* options)
    IRT_MUST_USE;

// True for "vulkan" and "vulkan://..." URIs.
bool irhal_vulkan_is_uri(irt_string_view_t uri);

#endif  // IRHAL_VULKAN_VULKAN_DEVICE_H
