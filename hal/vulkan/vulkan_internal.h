// What the parts of the Vulkan driver share: the device, its buffers and
// executables (vulkan_device.h has the design).
#ifndef IRHAL_VULKAN_VULKAN_INTERNAL_H
#define IRHAL_VULKAN_VULKAN_INTERNAL_H

#include <pthread.h>
#include <vulkan/vulkan.h>

#include "hal/vulkan/vulkan_device.h"
#include "hal/vulkan/vulkan_executable_def.h"

typedef struct irhal_vulkan_submission_s irhal_vulkan_submission_t;

typedef struct irhal_vulkan_device_s {
  irhal_device_t base;
  VkPhysicalDevice physical_device;
  VkDevice device;
  VkQueue queue;
  uint32_t queue_family;
  VkPhysicalDeviceProperties properties;
  VkPhysicalDeviceMemoryProperties memory_properties;
  // hal.dispatch query answers (spec 1.6) from the enabled features.
  int64_t compute_bitwidths_fp, compute_bitwidths_int, storage_bitwidths;
  // VK_EXT_external_memory_host (0 alignment: unavailable or disabled).
  VkDeviceSize host_import_alignment;
  PFN_vkGetMemoryHostPointerPropertiesEXT get_host_pointer_properties;
  bool emulate_discrete_memory;  // see irhal_vulkan_device_options_t
  VkPipelineCache pipeline_cache;
  char* pipeline_cache_path;  // NULL: not persisted
  pthread_mutex_t cache_mutex;  // one save at a time

  // Guards the command pool, queue submission, the timeline counter, the
  // in-flight list and the counters below.
  pthread_mutex_t mutex;
  pthread_cond_t cond;  // in-flight list non-empty / pending count zero
  VkCommandPool command_pool;
  VkSemaphore timeline;
  uint64_t timeline_value;  // last value a submission signals
  irhal_vulkan_submission_t* in_flight_head;  // oldest first
  irhal_vulkan_submission_t* in_flight_tail;
  uint64_t pending_count;  // accepted ops not yet completed
  bool shutting_down;
  // The last reference was dropped on the completion thread (by an op
  // releasing the last buffer): that thread tears the device down itself
  // once nothing is pending.
  bool destroy_requested;
  pthread_t completion_thread;
} irhal_vulkan_device_t;

static inline irhal_vulkan_device_t* irhal_vulkan_device_cast(
    irhal_device_t* base) {
  return (irhal_vulkan_device_t*)base;
}

// Names a VkResult for messages ("VK_ERROR_OUT_OF_DEVICE_MEMORY").
const char* irhal_vulkan_result_name(VkResult result);
// A status for a failed Vulkan call: UNAVAILABLE for a lost device,
// RESOURCE_EXHAUSTED for out-of-memory results, INTERNAL otherwise.
irt_status_t irhal_vulkan_result_status(VkResult result, const char* call);

//===----------------------------------------------------------------------===//
// Buffers (vulkan_buffer.c)
//===----------------------------------------------------------------------===//

typedef struct irhal_vulkan_memory_s {
  irhal_vulkan_device_t* device;  // retained
  VkBuffer buffer;
  VkDeviceMemory memory;
  uint8_t* host_ptr;  // mapped or imported host memory; NULL: device-only
  irhal_release_callback_t release;  // imported memory's owner
  // Device-only memory mapped for reading: the host-visible copy of the
  // last range read (see irhal_vulkan_buffer_map).
  pthread_mutex_t download_mutex;
  irhal_buffer_t* download;
} irhal_vulkan_memory_t;

irt_status_t irhal_vulkan_allocate_buffer(irhal_device_t* base,
                                          uint32_t memory_type, uint32_t usage,
                                          irhal_device_size_t size,
                                          irhal_buffer_t** out_buffer)
    IRT_MUST_USE;
irt_status_t irhal_vulkan_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) IRT_MUST_USE;

// The VkBuffer behind |buffer| and the offset of |offset| within it, or
// INVALID_ARGUMENT naming |what| when |buffer| is not this device's.
irt_status_t irhal_vulkan_buffer_resolve(irhal_vulkan_device_t* device,
                                         const irhal_buffer_t* buffer,
                                         irhal_device_size_t offset,
                                         const char* what, VkBuffer* out_buffer,
                                         VkDeviceSize* out_offset) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Executables (vulkan_executable.c)
//===----------------------------------------------------------------------===//

typedef struct irhal_vulkan_pipeline_s {
  VkPipeline pipeline;
  VkPipelineLayout layout;            // owned by the executable
  VkDescriptorSetLayout set_layout;   // set 0
  uint32_t binding_count;             // set 0's descriptors
  const uint32_t* descriptor_types;   // per binding of set 0
  uint32_t constant_count;
} irhal_vulkan_pipeline_t;

irt_status_t irhal_vulkan_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) IRT_MUST_USE;
bool irhal_vulkan_supports_format(irhal_device_t* base,
                                  irt_string_view_t format);
// Export |ordinal| of |executable|, or INVALID_ARGUMENT when it is not a
// Vulkan executable of |device| or the ordinal is out of range.
irt_status_t irhal_vulkan_executable_pipeline(
    irhal_vulkan_device_t* device, irhal_executable_t* executable,
    uint32_t ordinal, const irhal_vulkan_pipeline_t** out_pipeline)
    IRT_MUST_USE;
// Loads / saves the pipeline cache file (errors are logged, not returned:
// a missing or stale cache only costs compile time).
void irhal_vulkan_pipeline_cache_load(irhal_vulkan_device_t* device,
                                      const char* directory);
void irhal_vulkan_pipeline_cache_save(irhal_vulkan_device_t* device);

//===----------------------------------------------------------------------===//
// Queue (vulkan_queue.c)
//===----------------------------------------------------------------------===//

irt_status_t irhal_vulkan_queue_submit(irhal_device_t* base,
                                       irhal_queue_op_t* op) IRT_MUST_USE;
// Starts the completion thread.
irt_status_t irhal_vulkan_queue_start(irhal_vulkan_device_t* device)
    IRT_MUST_USE;
// Waits for every accepted op and stops the completion thread, then tears
// the device down (irhal_vulkan_device_teardown). Called on the completion
// thread itself, it only asks that thread to do so once idle.
void irhal_vulkan_queue_destroy(irhal_vulkan_device_t* device);
// Frees the device's Vulkan objects and memory (vulkan_device.c).
void irhal_vulkan_device_teardown(irhal_vulkan_device_t* device);

#endif  // IRHAL_VULKAN_VULKAN_INTERNAL_H
