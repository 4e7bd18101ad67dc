// The Vulkan device: physical device selection, the logical device with
// the features compiled shaders may use, queries and the vtable.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/vulkan/vulkan_instance.h"
#include "hal/vulkan/vulkan_internal.h"

#define IRHAL_VULKAN_MAX_PHYSICAL_DEVICES 16

const char* irhal_vulkan_result_name(VkResult result) {
  switch (result) {
    case VK_SUCCESS:
      return "VK_SUCCESS";
    case VK_TIMEOUT:
      return "VK_TIMEOUT";
    case VK_ERROR_OUT_OF_HOST_MEMORY:
      return "VK_ERROR_OUT_OF_HOST_MEMORY";
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
      return "VK_ERROR_OUT_OF_DEVICE_MEMORY";
    case VK_ERROR_INITIALIZATION_FAILED:
      return "VK_ERROR_INITIALIZATION_FAILED";
    case VK_ERROR_DEVICE_LOST:
      return "VK_ERROR_DEVICE_LOST";
    case VK_ERROR_EXTENSION_NOT_PRESENT:
      return "VK_ERROR_EXTENSION_NOT_PRESENT";
    case VK_ERROR_FEATURE_NOT_PRESENT:
      return "VK_ERROR_FEATURE_NOT_PRESENT";
    case VK_ERROR_INCOMPATIBLE_DRIVER:
      return "VK_ERROR_INCOMPATIBLE_DRIVER";
    case VK_ERROR_INVALID_EXTERNAL_HANDLE:
      return "VK_ERROR_INVALID_EXTERNAL_HANDLE";
    default:
      return "VkResult";
  }
}

irt_status_t irhal_vulkan_result_status(VkResult result, const char* call) {
  irt_status_code_t code = IRT_STATUS_INTERNAL;
  if (result == VK_ERROR_DEVICE_LOST) code = IRT_STATUS_UNAVAILABLE;
  if (result == VK_ERROR_OUT_OF_HOST_MEMORY ||
      result == VK_ERROR_OUT_OF_DEVICE_MEMORY) {
    code = IRT_STATUS_RESOURCE_EXHAUSTED;
  }
  return irt_make_status(code, "%s failed: %s (%d)", call,
                         irhal_vulkan_result_name(result), (int)result);
}

//===----------------------------------------------------------------------===//
// URIs
//===----------------------------------------------------------------------===//

bool irhal_vulkan_is_uri(irt_string_view_t uri) {
  return irt_string_view_equal_cstring(uri, "vulkan") ||
         (uri.size >= 9 && memcmp(uri.data, "vulkan://", 9) == 0);
}

irt_status_t irhal_vulkan_parse_uri(irt_string_view_t uri, char* name_buffer,
                                    size_t name_capacity,
                                    irhal_vulkan_device_options_t* options) {
  options->index = 0;
  options->name = NULL;
  if (!irhal_vulkan_is_uri(uri)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "'%.*s' is not a Vulkan device (vulkan, "
                           "vulkan://N or vulkan://NAME)",
                           IRT_SV_ARG(uri));
  }
  if (uri.size <= 9) {
    if (uri.size == 9) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "'vulkan://' names no device (vulkan://N or "
                             "vulkan://NAME)");
    }
    return IRT_OK;
  }
  irt_string_view_t rest = {uri.data + 9, uri.size - 9};
  bool digits = true;
  uint64_t index = 0;
  for (size_t i = 0; i < rest.size && digits; ++i) {
    digits = rest.data[i] >= '0' && rest.data[i] <= '9';
    index = index * 10 + (uint64_t)(rest.data[i] - '0');
    if (index > IRHAL_VULKAN_MAX_PHYSICAL_DEVICES) digits = false;
  }
  if (digits) {
    options->index = (uint32_t)index;
    return IRT_OK;
  }
  if (rest.size >= name_capacity) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "Vulkan device name '%.*s' is too long",
                           IRT_SV_ARG(rest));
  }
  memcpy(name_buffer, rest.data, rest.size);
  name_buffer[rest.size] = 0;
  options->name = name_buffer;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Selection and features
//===----------------------------------------------------------------------===//

static irt_status_t irhal_vulkan_select_physical_device(
    const irhal_vulkan_device_options_t* options,
    VkPhysicalDevice* out_physical_device) {
  VkInstance instance = VK_NULL_HANDLE;
  VkResult result = irhal_vulkan_instance(&instance);
  if (result != VK_SUCCESS) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "no Vulkan driver: vkCreateInstance failed with %s",
                           irhal_vulkan_result_name(result));
  }
  VkPhysicalDevice devices[IRHAL_VULKAN_MAX_PHYSICAL_DEVICES];
  uint32_t count = IRHAL_VULKAN_MAX_PHYSICAL_DEVICES;
  result = vkEnumeratePhysicalDevices(instance, &count, devices);
  if ((result != VK_SUCCESS && result != VK_INCOMPLETE) || count == 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "no Vulkan device on this machine");
  }
  char names[512] = "";
  size_t used = 0;
  for (uint32_t i = 0; i < count; ++i) {
    VkPhysicalDeviceProperties properties;
    vkGetPhysicalDeviceProperties(devices[i], &properties);
    bool match = options->name && *options->name
                     ? strstr(properties.deviceName, options->name) != NULL
                     : i == options->index;
    if (match) {
      *out_physical_device = devices[i];
      return IRT_OK;
    }
    int n = snprintf(names + used, sizeof(names) - used, "%svulkan://%u (%s)",
                     i ? ", " : "", i, properties.deviceName);
    if (n > 0 && used + (size_t)n < sizeof(names)) used += (size_t)n;
  }
  if (options->name && *options->name) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no Vulkan device named '*%s*'; there are: %s",
                           options->name, names);
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "no Vulkan device %u; there are: %s", options->index,
                         names);
}

static bool irhal_vulkan_has_extension(const VkExtensionProperties* extensions,
                                       uint32_t count, const char* name) {
  for (uint32_t i = 0; i < count; ++i) {
    if (strcmp(extensions[i].extensionName, name) == 0) return true;
  }
  return false;
}

// The features the driver enables: what shaders may need and the device
// has (spec 7.6), plus timeline semaphores, which are required.
typedef struct irhal_vulkan_features_s {
  VkPhysicalDeviceFeatures2 features2;
  VkPhysicalDeviceVulkan11Features vulkan11;
  VkPhysicalDeviceVulkan12Features vulkan12;
} irhal_vulkan_features_t;

static void irhal_vulkan_query_features(VkPhysicalDevice physical_device,
                                        irhal_vulkan_features_t* out) {
  memset(out, 0, sizeof(*out));
  out->vulkan12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  out->vulkan11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  out->vulkan11.pNext = &out->vulkan12;
  out->features2.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
  out->features2.pNext = &out->vulkan11;
  vkGetPhysicalDeviceFeatures2(physical_device, &out->features2);
}

// Keeps only what is enabled: |have| as reported, the result in place.
static void irhal_vulkan_choose_features(irhal_vulkan_features_t* have) {
  VkPhysicalDeviceFeatures reported = have->features2.features;
  VkPhysicalDeviceVulkan11Features v11 = have->vulkan11;
  VkPhysicalDeviceVulkan12Features v12 = have->vulkan12;
  memset(&have->features2.features, 0, sizeof(have->features2.features));
  have->features2.features.shaderInt64 = reported.shaderInt64;
  have->features2.features.shaderInt16 = reported.shaderInt16;
  have->features2.features.shaderFloat64 = reported.shaderFloat64;
  void* next11 = have->vulkan11.pNext;
  memset(&have->vulkan11, 0, sizeof(have->vulkan11));
  have->vulkan11.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES;
  have->vulkan11.pNext = next11;
  have->vulkan11.storageBuffer16BitAccess = v11.storageBuffer16BitAccess;
  have->vulkan11.uniformAndStorageBuffer16BitAccess =
      v11.uniformAndStorageBuffer16BitAccess;
  memset(&have->vulkan12, 0, sizeof(have->vulkan12));
  have->vulkan12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
  have->vulkan12.timelineSemaphore = v12.timelineSemaphore;
  have->vulkan12.storageBuffer8BitAccess = v12.storageBuffer8BitAccess;
  have->vulkan12.uniformAndStorageBuffer8BitAccess =
      v12.uniformAndStorageBuffer8BitAccess;
  have->vulkan12.shaderFloat16 = v12.shaderFloat16;
  have->vulkan12.shaderInt8 = v12.shaderInt8;
}

// The hal.dispatch answers of spec 1.6 from the enabled features.
static void irhal_vulkan_record_capabilities(
    irhal_vulkan_device_t* device, const irhal_vulkan_features_t* enabled) {
  const VkPhysicalDeviceFeatures* f = &enabled->features2.features;
  const VkPhysicalDeviceVulkan11Features* v11 = &enabled->vulkan11;
  const VkPhysicalDeviceVulkan12Features* v12 = &enabled->vulkan12;
  device->compute_bitwidths_fp =
      (v12->shaderFloat16 ? 1 : 0) | (f->shaderFloat64 ? 2 : 0);
  device->compute_bitwidths_int = (v12->shaderInt8 ? 1 : 0) |
                                  (f->shaderInt16 ? 2 : 0) |
                                  (f->shaderInt64 ? 4 : 0);
  device->storage_bitwidths =
      (v12->storageBuffer8BitAccess && v12->uniformAndStorageBuffer8BitAccess
           ? 1
           : 0) |
      (v11->storageBuffer16BitAccess && v11->uniformAndStorageBuffer16BitAccess
           ? 2
           : 0);
}

static irt_status_t irhal_vulkan_find_queue_family(
    VkPhysicalDevice physical_device, uint32_t* out_family) {
  VkQueueFamilyProperties families[16];
  uint32_t count = 16;
  vkGetPhysicalDeviceQueueFamilyProperties(physical_device, &count, families);
  // A compute queue, preferring one without graphics (a dedicated one).
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < count; ++i) {
    if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    if (best == UINT32_MAX ||
        !(families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT)) {
      best = i;
    }
  }
  if (best == UINT32_MAX) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "the Vulkan device has no compute queue");
  }
  *out_family = best;
  return IRT_OK;
}

// Creates the logical device with the chosen features and the optional
// extensions it has (external host memory; portability subset, which must
// be enabled when exposed).
static irt_status_t irhal_vulkan_create_logical_device(
    irhal_vulkan_device_t* device, bool want_host_import) {
  VkPhysicalDevice physical = device->physical_device;
  if (device->properties.apiVersion < VK_API_VERSION_1_2) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "Vulkan device '%s' supports Vulkan %u.%u; 1.2 is "
                           "required (timeline semaphores)",
                           device->properties.deviceName,
                           VK_API_VERSION_MAJOR(device->properties.apiVersion),
                           VK_API_VERSION_MINOR(device->properties.apiVersion));
  }
  irhal_vulkan_features_t features;
  irhal_vulkan_query_features(physical, &features);
  if (!features.vulkan12.timelineSemaphore) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "Vulkan device '%s' lacks timeline semaphores",
                           device->properties.deviceName);
  }
  irhal_vulkan_choose_features(&features);
  irhal_vulkan_record_capabilities(device, &features);
  IRT_RETURN_IF_ERROR(
      irhal_vulkan_find_queue_family(physical, &device->queue_family));

  VkExtensionProperties extensions[512];
  uint32_t extension_count = 512;
  VkResult result = vkEnumerateDeviceExtensionProperties(
      physical, NULL, &extension_count, extensions);
  if (result != VK_SUCCESS && result != VK_INCOMPLETE) extension_count = 0;
  const char* enabled[2];
  uint32_t enabled_count = 0;
  bool host_import = want_host_import &&
                     irhal_vulkan_has_extension(
                         extensions, extension_count,
                         VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME);
  if (host_import) enabled[enabled_count++] = VK_EXT_EXTERNAL_MEMORY_HOST_EXTENSION_NAME;
  if (irhal_vulkan_has_extension(extensions, extension_count,
                                 "VK_KHR_portability_subset")) {
    enabled[enabled_count++] = "VK_KHR_portability_subset";
  }
  float priority = 1.0f;
  VkDeviceQueueCreateInfo queue_info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
      .queueFamilyIndex = device->queue_family,
      .queueCount = 1,
      .pQueuePriorities = &priority,
  };
  VkDeviceCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
      .pNext = &features.features2,
      .queueCreateInfoCount = 1,
      .pQueueCreateInfos = &queue_info,
      .enabledExtensionCount = enabled_count,
      .ppEnabledExtensionNames = enabled,
  };
  result = vkCreateDevice(physical, &info, NULL, &device->device);
  if (result != VK_SUCCESS) {
    device->device = VK_NULL_HANDLE;
    return irhal_vulkan_result_status(result, "vkCreateDevice");
  }
  vkGetDeviceQueue(device->device, device->queue_family, 0, &device->queue);
  if (host_import) {
    VkPhysicalDeviceExternalMemoryHostPropertiesEXT host = {
        .sType =
            VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_EXTERNAL_MEMORY_HOST_PROPERTIES_EXT,
    };
    VkPhysicalDeviceProperties2 properties = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
        .pNext = &host,
    };
    vkGetPhysicalDeviceProperties2(physical, &properties);
    device->get_host_pointer_properties =
        (PFN_vkGetMemoryHostPointerPropertiesEXT)vkGetDeviceProcAddr(
            device->device, "vkGetMemoryHostPointerPropertiesEXT");
    if (device->get_host_pointer_properties) {
      device->host_import_alignment = host.minImportedHostPointerAlignment;
    }
  }
  return IRT_OK;
}

// The queue's timeline and command pool.
static irt_status_t irhal_vulkan_create_queue_objects(
    irhal_vulkan_device_t* device) {
  VkSemaphoreTypeCreateInfo type = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE,
      .initialValue = 0,
  };
  VkSemaphoreCreateInfo semaphore_info = {
      .sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
      .pNext = &type,
  };
  VkResult result = vkCreateSemaphore(device->device, &semaphore_info, NULL,
                                      &device->timeline);
  if (result != VK_SUCCESS) {
    device->timeline = VK_NULL_HANDLE;
    return irhal_vulkan_result_status(result, "vkCreateSemaphore");
  }
  VkCommandPoolCreateInfo pool_info = {
      .sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
      .flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT,
      .queueFamilyIndex = device->queue_family,
  };
  result = vkCreateCommandPool(device->device, &pool_info, NULL,
                               &device->command_pool);
  if (result != VK_SUCCESS) {
    device->command_pool = VK_NULL_HANDLE;
    return irhal_vulkan_result_status(result, "vkCreateCommandPool");
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Queries and the vtable
//===----------------------------------------------------------------------===//

static irt_status_t irhal_vulkan_query_i64(irhal_device_t* base,
                                           irt_string_view_t category,
                                           irt_string_view_t key,
                                           int64_t* out_value) {
  irhal_vulkan_device_t* device = irhal_vulkan_device_cast(base);
  if (irt_string_view_equal_cstring(category, "hal.dispatch")) {
    const struct {
      const char* key;
      int64_t value;
    } answers[] = {
        {"compute.bitwidths.fp", device->compute_bitwidths_fp},
        {"compute.bitwidths.int", device->compute_bitwidths_int},
        {"storage.bitwidths", device->storage_bitwidths},
        // Not enabled by this driver: variants needing them are skipped.
        {"subgroup.ops", 0},
        {"dotprod.ops", 0},
        {"coopmatrix.ops", 0},
        {"address.mode", 0},
    };
    for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); ++i) {
      if (irt_string_view_equal_cstring(key, answers[i].key)) {
        *out_value = answers[i].value;
        return IRT_OK;
      }
    }
  }
  if (irt_string_view_equal_cstring(category, "hal.device") &&
      irt_string_view_equal_cstring(key, "concurrency")) {
    *out_value = 1;  // one queue
    return IRT_OK;
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "device 'vulkan' does not answer %.*s :: %.*s",
                         IRT_SV_ARG(category), IRT_SV_ARG(key));
}

static void irhal_vulkan_device_destroy(irhal_device_t* base) {
  irhal_vulkan_queue_destroy(irhal_vulkan_device_cast(base));
}

void irhal_vulkan_device_teardown(irhal_vulkan_device_t* device) {
  VkDevice vk = device->device;
  if (vk) {
    vkDeviceWaitIdle(vk);
    irhal_vulkan_pipeline_cache_save(device);
    if (device->pipeline_cache) {
      vkDestroyPipelineCache(vk, device->pipeline_cache, NULL);
    }
    if (device->command_pool) {
      vkDestroyCommandPool(vk, device->command_pool, NULL);
    }
    if (device->timeline) vkDestroySemaphore(vk, device->timeline, NULL);
    vkDestroyDevice(vk, NULL);
  }
  irt_allocator_t allocator = device->base.host_allocator;
  irt_allocator_free(allocator, device->pipeline_cache_path);
  pthread_cond_destroy(&device->cond);
  pthread_mutex_destroy(&device->mutex);
  pthread_mutex_destroy(&device->cache_mutex);
  irt_allocator_free(allocator, device);
}

static const irhal_device_vtable_t irhal_vulkan_device_vtable = {
    .destroy = irhal_vulkan_device_destroy,
    .query_i64 = irhal_vulkan_query_i64,
    .supports_format = irhal_vulkan_supports_format,
    .allocate_buffer = irhal_vulkan_allocate_buffer,
    .import_host_buffer = irhal_vulkan_import_host_buffer,
    .create_executable = irhal_vulkan_create_executable,
    .queue_submit = irhal_vulkan_queue_submit,
    // The host cannot map device-local memory on discrete GPUs.
    .stage_file_transfers = true,
};

irt_status_t irhal_vulkan_device_create(
    const irhal_vulkan_device_options_t* options,
    irt_allocator_t host_allocator, irhal_device_t** out_device) {
  *out_device = NULL;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  IRT_RETURN_IF_ERROR(irhal_vulkan_select_physical_device(options, &physical));
  irhal_vulkan_device_t* device = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*device), (void**)&device),
      "allocating a Vulkan device");
  irhal_device_initialize(&device->base, &irhal_vulkan_device_vtable,
                          irt_make_cstring_view("vulkan"), host_allocator);
  pthread_mutex_init(&device->mutex, NULL);
  pthread_mutex_init(&device->cache_mutex, NULL);
  pthread_cond_init(&device->cond, NULL);
  device->physical_device = physical;
  // The environment can ask for it too, so tests of whole programs
  // (ireectl, ireed) run the discrete-GPU paths on lavapipe.
  const char* emulate = getenv("IREED_VULKAN_EMULATE_DISCRETE");
  device->emulate_discrete_memory =
      options->emulate_discrete_memory || (emulate && strcmp(emulate, "1") == 0);
  vkGetPhysicalDeviceProperties(physical, &device->properties);
  vkGetPhysicalDeviceMemoryProperties(physical, &device->memory_properties);
  irt_status_t status =
      irhal_vulkan_create_logical_device(device, !options->disable_host_import);
  if (!status) status = irhal_vulkan_create_queue_objects(device);
  if (!status) {
    irhal_vulkan_pipeline_cache_load(device, options->pipeline_cache_dir);
    status = irhal_vulkan_queue_start(device);
  }
  if (status) {
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    memcpy(name, device->properties.deviceName, sizeof(name));
    irhal_vulkan_device_teardown(device);
    return irt_status_annotate(status, "creating Vulkan device '%s'", name);
  }
  *out_device = &device->base;
  return IRT_OK;
}
