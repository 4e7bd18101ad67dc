// Vulkan buffers: a VkBuffer bound to its own VkDeviceMemory, persistently
// mapped when host-visible; imported host memory through
// VK_EXT_external_memory_host.
#include <inttypes.h>
#include <string.h>

#include "hal/vulkan/vulkan_internal.h"

// Every buffer may be used by every command: the HAL lets compiled code
// bind any buffer as storage, copy it, or read dispatch counts from it.
#define IRHAL_VULKAN_BUFFER_USAGE                                     \
  (VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT | \
   VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT |                               \
   VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_INDIRECT_BUFFER_BIT)
#define IRHAL_VULKAN_HAL_USAGE                                              \
  (IRHAL_BUFFER_USAGE_TRANSFER |                                            \
   IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS |                        \
   IRHAL_BUFFER_USAGE_DISPATCH_UNIFORM_READ |                               \
   IRHAL_BUFFER_USAGE_DISPATCH_STORAGE |                                    \
   IRHAL_BUFFER_USAGE_SHARING_EXPORT | IRHAL_BUFFER_USAGE_SHARING_REPLICATE | \
   IRHAL_BUFFER_USAGE_SHARING_CONCURRENT |                                  \
   IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE)
#define IRHAL_VULKAN_HAL_MAPPING_USAGE                                       \
  (IRHAL_BUFFER_USAGE_MAPPING_SCOPED | IRHAL_BUFFER_USAGE_MAPPING_PERSISTENT | \
   IRHAL_BUFFER_USAGE_MAPPING_OPTIONAL |                                     \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_RANDOM |                                \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_SEQUENTIAL_WRITE)
// Allocation granularity: descriptor offsets and sizes stay aligned, and
// shaders may read a whole 32-bit word at the end (spec 7.5).
#define IRHAL_VULKAN_BUFFER_ALIGNMENT 64

// The HAL memory type a Vulkan memory type gives (spec 7.6: what was
// actually chosen).
static uint32_t irhal_vulkan_hal_memory_type(VkMemoryPropertyFlags flags) {
  uint32_t type = IRHAL_MEMORY_TYPE_DEVICE_VISIBLE;
  if (flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) {
    type |= IRHAL_MEMORY_TYPE_DEVICE_LOCAL;
  }
  if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    type |= IRHAL_MEMORY_TYPE_HOST_VISIBLE;
    if (!(flags & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT) &&
        (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT)) {
      type |= IRHAL_MEMORY_TYPE_HOST_LOCAL;
    }
  }
  if (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) {
    type |= IRHAL_MEMORY_TYPE_HOST_COHERENT;
  }
  if (flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT) {
    type |= IRHAL_MEMORY_TYPE_HOST_CACHED;
  }
  return type;
}

// Memory types of |type_bits| that satisfy |hal_memory_type|, best first:
// host-visible requests need host-visible coherent memory (mapped memory
// is never flushed), device-local requests without host access need
// device-local memory; wishes that are not requirements (device-local for
// host-visible requests, host-cached) order the candidates.
static uint32_t irhal_vulkan_memory_candidates(
    const irhal_vulkan_device_t* device, uint32_t type_bits,
    uint32_t hal_memory_type, uint32_t* out_indices) {
  bool host = hal_memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE;
  bool local = (hal_memory_type & IRHAL_MEMORY_TYPE_DEVICE_LOCAL) ==
               IRHAL_MEMORY_TYPE_DEVICE_LOCAL;
  VkMemoryPropertyFlags required = 0, preferred = 0;
  if (host) {
    required |= VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    if (local) preferred |= VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  } else if (local) {
    required |= VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
  }
  if (hal_memory_type & IRHAL_MEMORY_TYPE_HOST_CACHED) {
    preferred |= VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  }
  uint32_t count = 0;
  // Two passes: types with every preferred bit, then the rest.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint32_t i = 0; i < device->memory_properties.memoryTypeCount; ++i) {
      VkMemoryPropertyFlags flags =
          device->memory_properties.memoryTypes[i].propertyFlags;
      if (!(type_bits & (1u << i)) || (flags & required) != required) continue;
      bool all_preferred = (flags & preferred) == preferred;
      if (all_preferred == (pass == 0)) out_indices[count++] = i;
    }
  }
  return count;
}

//===----------------------------------------------------------------------===//
// Buffer objects
//===----------------------------------------------------------------------===//

static void irhal_vulkan_buffer_destroy(irhal_buffer_t* root) {
  irhal_vulkan_memory_t* memory = root->storage;
  irhal_vulkan_device_t* device = memory->device;
  irhal_buffer_release(memory->download);
  pthread_mutex_destroy(&memory->download_mutex);
  if (memory->buffer) vkDestroyBuffer(device->device, memory->buffer, NULL);
  if (memory->memory) vkFreeMemory(device->device, memory->memory, NULL);
  if (memory->release.fn) memory->release.fn(memory->release.user_data);
  irt_allocator_t allocator = root->host_allocator;
  irt_allocator_free(allocator, memory);
  irt_allocator_free(allocator, root);
  irhal_device_release(&device->base);
}

// Copies |length| bytes of |source| at |offset| to the start of |target|
// on the device's queue and waits for it.
static irt_status_t irhal_vulkan_copy_and_wait(irhal_vulkan_device_t* device,
                                               irhal_buffer_t* source,
                                               irhal_device_size_t offset,
                                               irhal_buffer_t* target,
                                               irhal_device_size_t length) {
  irhal_fence_t* done = NULL;
  IRT_RETURN_IF_ERROR(irhal_fence_create_single(device->base.host_allocator,
                                                &done));
  irt_status_t status = irhal_device_queue_copy(
      &device->base, UINT64_MAX, NULL, done, source, offset,
      target, 0, length);
  if (!status) status = irhal_fence_wait(done, INT64_MAX);
  irhal_fence_release(done);
  return status;
}

// Device-only memory read by the host: the range is copied into a
// host-visible buffer kept with this one (replaced when too small) and the
// copy is returned. Each map downloads again, so it sees the latest
// contents; the copy stays valid until the next map of this buffer.
static irt_status_t irhal_vulkan_buffer_download(irhal_buffer_t* root,
                                                 irhal_device_size_t offset,
                                                 irhal_device_size_t length,
                                                 void** out_ptr) {
  irhal_vulkan_memory_t* memory = root->storage;
  irhal_vulkan_device_t* device = memory->device;
  pthread_mutex_lock(&memory->download_mutex);
  irt_status_t status = IRT_OK;
  if (!memory->download || memory->download->byte_length < length) {
    irhal_buffer_release(memory->download);
    memory->download = NULL;
    status = irhal_vulkan_allocate_buffer(
        &device->base,
        IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_HOST_CACHED,
        IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING,
        length ? length : 1, &memory->download);
  }
  if (!status && length) {
    status = irhal_vulkan_copy_and_wait(device, root, offset,
                                        memory->download, length);
  }
  if (!status) {
    irhal_vulkan_memory_t* copy = memory->download->storage;
    *out_ptr = copy->host_ptr;
  }
  pthread_mutex_unlock(&memory->download_mutex);
  return status;
}

static irt_status_t irhal_vulkan_buffer_map(irhal_buffer_t* root,
                                            uint32_t access,
                                            irhal_device_size_t offset,
                                            irhal_device_size_t length,
                                            void** out_ptr) {
  irhal_vulkan_memory_t* memory = root->storage;
  if (memory->host_ptr) {
    *out_ptr = memory->host_ptr + offset;
    return IRT_OK;
  }
  if (access & (IRHAL_MEMORY_ACCESS_WRITE | IRHAL_MEMORY_ACCESS_DISCARD)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "Vulkan buffer memory (type 0x%x) is not "
                           "host-visible; it can only be read back, not "
                           "written through a mapping",
                           root->memory_type);
  }
  return irhal_vulkan_buffer_download(root, offset, length, out_ptr);
}

static const irhal_buffer_vtable_t irhal_vulkan_buffer_vtable = {
    .destroy = irhal_vulkan_buffer_destroy,
    .map = irhal_vulkan_buffer_map,
};

irt_status_t irhal_vulkan_buffer_resolve(irhal_vulkan_device_t* device,
                                         const irhal_buffer_t* buffer,
                                         irhal_device_size_t offset,
                                         const char* what,
                                         VkBuffer* out_buffer,
                                         VkDeviceSize* out_offset) {
  const irhal_buffer_t* root = buffer->root;
  if (root->vtable != &irhal_vulkan_buffer_vtable ||
      ((irhal_vulkan_memory_t*)root->storage)->device != device) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s is not a buffer of this Vulkan device", what);
  }
  *out_buffer = ((irhal_vulkan_memory_t*)root->storage)->buffer;
  *out_offset = buffer->byte_offset + offset;
  return IRT_OK;
}

// Creates the VkBuffer of |size| bytes and a buffer object around
// |memory| (filled in by the caller).
static irt_status_t irhal_vulkan_buffer_begin(
    irhal_vulkan_device_t* device, irhal_device_size_t size,
    const void* external_info, irhal_vulkan_memory_t** out_memory,
    VkMemoryRequirements* out_requirements) {
  irt_allocator_t allocator = device->base.host_allocator;
  if (size > (VkDeviceSize)1 << 48) {  // keeps the rounding below in range
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "a %" PRIu64 "-byte buffer is beyond any device",
                           size);
  }
  irhal_vulkan_memory_t* memory = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*memory), (void**)&memory));
  memory->device = device;
  pthread_mutex_init(&memory->download_mutex, NULL);
  VkBufferCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
      .pNext = external_info,
      .size = ((size ? size : 1) + IRHAL_VULKAN_BUFFER_ALIGNMENT - 1) &
              ~(VkDeviceSize)(IRHAL_VULKAN_BUFFER_ALIGNMENT - 1),
      .usage = IRHAL_VULKAN_BUFFER_USAGE,
      .sharingMode = VK_SHARING_MODE_EXCLUSIVE,
  };
  VkResult result = vkCreateBuffer(device->device, &info, NULL, &memory->buffer);
  if (result != VK_SUCCESS) {
    pthread_mutex_destroy(&memory->download_mutex);
    irt_allocator_free(allocator, memory);
    return irhal_vulkan_result_status(result, "vkCreateBuffer");
  }
  vkGetBufferMemoryRequirements(device->device, memory->buffer,
                                out_requirements);
  *out_memory = memory;
  return IRT_OK;
}

// Frees what irhal_vulkan_buffer_begin made when the buffer never formed.
static void irhal_vulkan_buffer_abort(irhal_vulkan_device_t* device,
                                      irhal_vulkan_memory_t* memory) {
  if (memory->memory) vkFreeMemory(device->device, memory->memory, NULL);
  vkDestroyBuffer(device->device, memory->buffer, NULL);
  pthread_mutex_destroy(&memory->download_mutex);
  irt_allocator_free(device->base.host_allocator, memory);
}

// Binds the allocation and wraps |memory| into a root buffer.
static irt_status_t irhal_vulkan_buffer_finish(
    irhal_vulkan_device_t* device, irhal_vulkan_memory_t* memory,
    VkMemoryPropertyFlags flags, uint32_t usage, uint32_t access,
    irhal_device_size_t size, irhal_buffer_t** out_buffer) {
  VkResult result =
      vkBindBufferMemory(device->device, memory->buffer, memory->memory, 0);
  if (result != VK_SUCCESS) {
    return irhal_vulkan_result_status(result, "vkBindBufferMemory");
  }
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      device->base.host_allocator, sizeof(*buffer), (void**)&buffer));
  uint32_t allowed_usage = usage | IRHAL_VULKAN_HAL_USAGE;
  if (memory->host_ptr) allowed_usage |= IRHAL_VULKAN_HAL_MAPPING_USAGE;
  irhal_buffer_initialize_root(buffer, &irhal_vulkan_buffer_vtable,
                               device->base.host_allocator,
                               irhal_vulkan_hal_memory_type(flags),
                               allowed_usage, access, size, memory);
  irhal_device_retain(&device->base);
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t irhal_vulkan_allocate_buffer(irhal_device_t* base,
                                          uint32_t memory_type, uint32_t usage,
                                          irhal_device_size_t size,
                                          irhal_buffer_t** out_buffer) {
  irhal_vulkan_device_t* device = irhal_vulkan_device_cast(base);
  *out_buffer = NULL;
  irhal_vulkan_memory_t* memory = NULL;
  VkMemoryRequirements requirements;
  IRT_RETURN_IF_ERROR(
      irhal_vulkan_buffer_begin(device, size, NULL, &memory, &requirements));
  uint32_t candidates[VK_MAX_MEMORY_TYPES];
  uint32_t count = irhal_vulkan_memory_candidates(
      device, requirements.memoryTypeBits, memory_type, candidates);
  // The first candidate whose heap has room.
  VkResult result = VK_ERROR_OUT_OF_DEVICE_MEMORY;
  uint32_t chosen = 0;
  for (uint32_t i = 0; i < count && result != VK_SUCCESS; ++i) {
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .allocationSize = requirements.size,
        .memoryTypeIndex = candidates[i],
    };
    result = vkAllocateMemory(device->device, &info, NULL, &memory->memory);
    chosen = candidates[i];
  }
  irt_status_t status = IRT_OK;
  if (count == 0) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "no Vulkan memory type satisfies HAL memory "
                             "type 0x%x",
                             memory_type);
  } else if (result != VK_SUCCESS) {
    memory->memory = VK_NULL_HANDLE;
    status = irhal_vulkan_result_status(result, "vkAllocateMemory");
  }
  VkMemoryPropertyFlags flags =
      device->memory_properties.memoryTypes[chosen].propertyFlags;
  if (device->emulate_discrete_memory &&
      !(memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE)) {
    flags &= ~(VkMemoryPropertyFlags)(VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                      VK_MEMORY_PROPERTY_HOST_COHERENT_BIT |
                                      VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
  }
  if (!status && (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT)) {
    void* mapped = NULL;
    result = vkMapMemory(device->device, memory->memory, 0, VK_WHOLE_SIZE, 0,
                         &mapped);
    if (result != VK_SUCCESS) {
      status = irhal_vulkan_result_status(result, "vkMapMemory");
    } else {
      memory->host_ptr = mapped;
      memset(mapped, 0, (size_t)size);  // like CPU allocations: zeroed
    }
  }
  if (!status) {
    status = irhal_vulkan_buffer_finish(device, memory, flags, usage,
                                        IRHAL_MEMORY_ACCESS_ALL, size,
                                        out_buffer);
  }
  if (status) {
    irhal_vulkan_buffer_abort(device, memory);
    return irt_status_annotate(status,
                               "allocating a %" PRIu64
                               "-byte Vulkan buffer (HAL memory type 0x%x)",
                               size, memory_type);
  }
  return IRT_OK;
}

irt_status_t irhal_vulkan_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  irhal_vulkan_device_t* device = irhal_vulkan_device_cast(base);
  *out_buffer = NULL;
  (void)memory_type;
  VkDeviceSize alignment = device->host_import_alignment;
  if (!alignment) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "this Vulkan device does not import host memory "
                           "(no VK_EXT_external_memory_host); it is copied");
  }
  if ((uintptr_t)data % alignment || length % alignment || length == 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "host range [%p, +%" PRIu64
                           ") is not aligned to the %" PRIu64
                           "-byte host import alignment; it is copied",
                           data, length, (uint64_t)alignment);
  }
  VkMemoryHostPointerPropertiesEXT properties = {
      .sType = VK_STRUCTURE_TYPE_MEMORY_HOST_POINTER_PROPERTIES_EXT,
  };
  VkResult result = device->get_host_pointer_properties(
      device->device, VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
      data, &properties);
  if (result != VK_SUCCESS || properties.memoryTypeBits == 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "the Vulkan device cannot import host memory at "
                           "%p (%s); it is copied",
                           data, irhal_vulkan_result_name(result));
  }
  VkExternalMemoryBufferCreateInfo external = {
      .sType = VK_STRUCTURE_TYPE_EXTERNAL_MEMORY_BUFFER_CREATE_INFO,
      .handleTypes = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
  };
  irhal_vulkan_memory_t* memory = NULL;
  VkMemoryRequirements requirements;
  IRT_RETURN_IF_ERROR(irhal_vulkan_buffer_begin(device, length, &external,
                                                &memory, &requirements));
  uint32_t type_bits = properties.memoryTypeBits & requirements.memoryTypeBits;
  uint32_t index = 0;
  while (index < 32 && !(type_bits & (1u << index))) ++index;
  irt_status_t status = IRT_OK;
  if (index == 32 || requirements.size > length) {
    status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "no memory type can hold imported host memory "
                             "for a buffer of %" PRIu64 " bytes; it is copied",
                             length);
  } else {
    VkImportMemoryHostPointerInfoEXT import_info = {
        .sType = VK_STRUCTURE_TYPE_IMPORT_MEMORY_HOST_POINTER_INFO_EXT,
        .handleType = VK_EXTERNAL_MEMORY_HANDLE_TYPE_HOST_ALLOCATION_BIT_EXT,
        .pHostPointer = data,
    };
    VkMemoryAllocateInfo info = {
        .sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
        .pNext = &import_info,
        .allocationSize = length,
        .memoryTypeIndex = index,
    };
    result = vkAllocateMemory(device->device, &info, NULL, &memory->memory);
    if (result != VK_SUCCESS) {
      memory->memory = VK_NULL_HANDLE;
      status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                               "importing host memory failed (%s); it is "
                               "copied",
                               irhal_vulkan_result_name(result));
    }
  }
  if (!status) {
    memory->host_ptr = data;
    status = irhal_vulkan_buffer_finish(
        device, memory,
        device->memory_properties.memoryTypes[index].propertyFlags, usage,
        access, length, out_buffer);
  }
  if (status) {
    irhal_vulkan_buffer_abort(device, memory);
    return status;
  }
  memory->release = release;  // only once the import succeeded
  return IRT_OK;
}
