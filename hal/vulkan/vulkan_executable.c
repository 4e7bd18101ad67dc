// Vulkan executables (HAL spec 7.4): set layouts, pipeline layouts and one
// compute pipeline per export, created through the device's pipeline cache;
// and that cache's file.
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hal/vulkan/vulkan_internal.h"
#include "runtime/base/log.h"

typedef struct irhal_vulkan_executable_s {
  irhal_executable_t base;
  irhal_vulkan_device_t* device;  // retained
  uint32_t set_layout_count;
  VkDescriptorSetLayout* set_layouts;
  uint32_t layout_count;
  VkPipelineLayout* layouts;
  irhal_vulkan_pipeline_t* pipelines;  // export_count
  uint16_t* constant_counts;           // export_count
  uint16_t* binding_counts;            // export_count
  uint32_t* descriptor_types;          // per export, its set-0 bindings
} irhal_vulkan_executable_t;

static const irhal_executable_vtable_t irhal_vulkan_executable_vtable;

static void irhal_vulkan_executable_destroy(irhal_executable_t* base) {
  irhal_vulkan_executable_t* executable = (irhal_vulkan_executable_t*)base;
  irhal_vulkan_device_t* device = executable->device;
  VkDevice vk = device->device;
  irt_allocator_t allocator = device->base.host_allocator;
  if (executable->pipelines) {
    for (uint32_t i = 0; i < base->export_count; ++i) {
      vkDestroyPipeline(vk, executable->pipelines[i].pipeline, NULL);
    }
  }
  for (uint32_t i = 0; i < executable->layout_count; ++i) {
    vkDestroyPipelineLayout(vk, executable->layouts[i], NULL);
  }
  for (uint32_t i = 0; i < executable->set_layout_count; ++i) {
    vkDestroyDescriptorSetLayout(vk, executable->set_layouts[i], NULL);
  }
  irt_allocator_free(allocator, executable->set_layouts);
  irt_allocator_free(allocator, executable->layouts);
  irt_allocator_free(allocator, executable->pipelines);
  irt_allocator_free(allocator, executable->constant_counts);
  irt_allocator_free(allocator, executable->binding_counts);
  irt_allocator_free(allocator, executable->descriptor_types);
  irt_allocator_free(allocator, executable);
  irhal_device_release(&device->base);
}

static const irhal_executable_vtable_t irhal_vulkan_executable_vtable = {
    .destroy = irhal_vulkan_executable_destroy,
};

bool irhal_vulkan_supports_format(irhal_device_t* base,
                                  irt_string_view_t format) {
  (void)base;
  return irt_string_view_equal_cstring(format, "vulkan-spirv-fb");
}

// The device limits of spec 7.4 for one pipeline layout.
static irt_status_t irhal_vulkan_check_limits(
    const irhal_vulkan_device_t* device,
    const irhal_vulkan_pipeline_layout_def_t* layout) {
  const VkPhysicalDeviceLimits* limits = &device->properties.limits;
  if (layout->uniform_count > limits->maxPerStageDescriptorUniformBuffers ||
      layout->storage_count > limits->maxPerStageDescriptorStorageBuffers) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "it uses %" PRIu32 " uniform and %" PRIu32
        " storage buffers; the device allows %" PRIu32 " and %" PRIu32,
        layout->uniform_count, layout->storage_count,
        limits->maxPerStageDescriptorUniformBuffers,
        limits->maxPerStageDescriptorStorageBuffers);
  }
  if (layout->constant_count * 4 > limits->maxPushConstantsSize) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "its %" PRIu32
                           " bytes of push constants exceed the device's "
                           "%" PRIu32,
                           layout->constant_count * 4,
                           limits->maxPushConstantsSize);
  }
  return IRT_OK;
}

static irt_status_t irhal_vulkan_create_layouts(
    irhal_vulkan_executable_t* executable,
    const irhal_vulkan_executable_def_t* def) {
  irhal_vulkan_device_t* device = executable->device;
  irt_allocator_t allocator = device->base.host_allocator;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, (def->set_layout_count + 1) * sizeof(VkDescriptorSetLayout),
      (void**)&executable->set_layouts));
  for (uint32_t i = 0; i < def->set_layout_count; ++i) {
    const irhal_vulkan_set_layout_def_t* set = &def->set_layouts[i];
    VkDescriptorSetLayoutBinding bindings[64];
    if (set->binding_count > 64) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "descriptor set layout %" PRIu32
                             " has %" PRIu32 " bindings (at most 64)",
                             i, set->binding_count);
    }
    for (uint32_t b = 0; b < set->binding_count; ++b) {
      bindings[b] = (VkDescriptorSetLayoutBinding){
          .binding = set->bindings[b].binding,
          .descriptorType = (VkDescriptorType)set->bindings[b].descriptor_type,
          .descriptorCount = set->bindings[b].descriptor_count,
          .stageFlags = set->bindings[b].stage_flags,
      };
    }
    VkDescriptorSetLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO,
        .bindingCount = set->binding_count,
        .pBindings = bindings,
    };
    VkResult result = vkCreateDescriptorSetLayout(
        device->device, &info, NULL, &executable->set_layouts[i]);
    if (result != VK_SUCCESS) {
      return irhal_vulkan_result_status(result, "vkCreateDescriptorSetLayout");
    }
    executable->set_layout_count = i + 1;
  }
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, (def->pipeline_layout_count + 1) * sizeof(VkPipelineLayout),
      (void**)&executable->layouts));
  for (uint32_t i = 0; i < def->pipeline_layout_count; ++i) {
    const irhal_vulkan_pipeline_layout_def_t* layout =
        &def->pipeline_layouts[i];
    IRT_RETURN_IF_ERROR_CTX(irhal_vulkan_check_limits(device, layout),
                            "pipeline layout %" PRIu32, i);
    VkDescriptorSetLayout sets[8];
    VkPushConstantRange ranges[8];
    if (layout->set_count > 8 || layout->push_range_count > 8) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "pipeline layout %" PRIu32
                             " has more than 8 sets or push constant ranges",
                             i);
    }
    for (uint32_t s = 0; s < layout->set_count; ++s) {
      sets[s] = executable->set_layouts[layout->set_layout_ordinals[s]];
    }
    for (uint32_t r = 0; r < layout->push_range_count; ++r) {
      ranges[r] = (VkPushConstantRange){
          .stageFlags = layout->push_ranges[r].stage_flags,
          .offset = layout->push_ranges[r].offset,
          .size = layout->push_ranges[r].size,
      };
    }
    VkPipelineLayoutCreateInfo info = {
        .sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO,
        .setLayoutCount = layout->set_count,
        .pSetLayouts = sets,
        .pushConstantRangeCount = layout->push_range_count,
        .pPushConstantRanges = ranges,
    };
    VkResult result = vkCreatePipelineLayout(device->device, &info, NULL,
                                             &executable->layouts[i]);
    if (result != VK_SUCCESS) {
      return irhal_vulkan_result_status(result, "vkCreatePipelineLayout");
    }
    executable->layout_count = i + 1;
  }
  return IRT_OK;
}

// One compute pipeline; the shader module lives only for the call. SPIR-V
// is copied to aligned memory (the executable data need not be).
static irt_status_t irhal_vulkan_create_pipeline(
    irhal_vulkan_executable_t* executable,
    const irhal_vulkan_executable_def_t* def, uint32_t ordinal,
    const VkSpecializationInfo* specialization) {
  irhal_vulkan_device_t* device = executable->device;
  const irhal_vulkan_pipeline_def_t* pipeline_def = &def->pipelines[ordinal];
  const irhal_vulkan_shader_module_def_t* module_def =
      &def->shader_modules[pipeline_def->shader_module_ordinal];
  size_t code_size = (size_t)module_def->word_count * 4;
  uint32_t* code = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(device->base.host_allocator,
                                           code_size, (void**)&code));
  memcpy(code, module_def->code, code_size);
  VkShaderModuleCreateInfo module_info = {
      .sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO,
      .codeSize = code_size,
      .pCode = code,
  };
  VkShaderModule module = VK_NULL_HANDLE;
  VkResult result =
      vkCreateShaderModule(device->device, &module_info, NULL, &module);
  irt_allocator_free(device->base.host_allocator, code);
  if (result != VK_SUCCESS) {
    return irhal_vulkan_result_status(result, "vkCreateShaderModule");
  }
  VkPipelineShaderStageRequiredSubgroupSizeCreateInfo subgroup = {
      .sType =
          VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO,
      .requiredSubgroupSize = pipeline_def->subgroup_size,
  };
  VkComputePipelineCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO,
      .stage =
          {
              .sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO,
              .pNext = pipeline_def->subgroup_size ? &subgroup : NULL,
              .stage = VK_SHADER_STAGE_COMPUTE_BIT,
              .module = module,
              .pName = pipeline_def->entry_point.data,
              .pSpecializationInfo = specialization,
          },
      .layout = executable->layouts[pipeline_def->pipeline_layout_ordinal],
  };
  irhal_vulkan_pipeline_t* pipeline = &executable->pipelines[ordinal];
  result = vkCreateComputePipelines(device->device, device->pipeline_cache, 1,
                                    &info, NULL, &pipeline->pipeline);
  vkDestroyShaderModule(device->device, module, NULL);
  if (result != VK_SUCCESS) {
    pipeline->pipeline = VK_NULL_HANDLE;
    return irhal_vulkan_result_status(result, "vkCreateComputePipelines");
  }
  return IRT_OK;
}

// Per-export facts a dispatch needs: layout, set 0 and its descriptor
// types, constant and binding counts.
static irt_status_t irhal_vulkan_describe_exports(
    irhal_vulkan_executable_t* executable,
    const irhal_vulkan_executable_def_t* def) {
  irt_allocator_t allocator = executable->device->base.host_allocator;
  uint32_t count = def->pipeline_count;
  size_t total_bindings = 0;
  for (uint32_t i = 0; i < count; ++i) {
    total_bindings +=
        def->pipeline_layouts[def->pipelines[i].pipeline_layout_ordinal]
            .binding_count;
  }
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, count * sizeof(irhal_vulkan_pipeline_t),
      (void**)&executable->pipelines));
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(allocator, count * sizeof(uint16_t),
                                           (void**)&executable->constant_counts));
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(allocator, count * sizeof(uint16_t),
                                           (void**)&executable->binding_counts));
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, (total_bindings + 1) * sizeof(uint32_t),
      (void**)&executable->descriptor_types));
  uint32_t* types = executable->descriptor_types;
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t layout_ordinal = def->pipelines[i].pipeline_layout_ordinal;
    const irhal_vulkan_pipeline_layout_def_t* layout =
        &def->pipeline_layouts[layout_ordinal];
    const irhal_vulkan_set_layout_def_t* set =
        &def->set_layouts[layout->set_layout_ordinals[0]];
    irhal_vulkan_pipeline_t* pipeline = &executable->pipelines[i];
    pipeline->layout = executable->layouts[layout_ordinal];
    pipeline->set_layout = executable->set_layouts[layout->set_layout_ordinals[0]];
    pipeline->binding_count = layout->binding_count;
    pipeline->constant_count = layout->constant_count;
    pipeline->descriptor_types = types;
    // Bindings are addressed by their binding number (spec 7.3: i).
    for (uint32_t b = 0; b < set->binding_count; ++b) {
      for (uint32_t d = 0; d < set->bindings[b].descriptor_count; ++d) {
        *types++ = set->bindings[b].descriptor_type;
      }
    }
    if (layout->binding_count > IRHAL_MAX_DISPATCH_BINDINGS) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "export %" PRIu32 " has %" PRIu32
                             " bindings (at most %d)",
                             i, layout->binding_count,
                             IRHAL_MAX_DISPATCH_BINDINGS);
    }
    executable->constant_counts[i] = (uint16_t)layout->constant_count;
    executable->binding_counts[i] = (uint16_t)layout->binding_count;
  }
  executable->base.export_count = count;
  executable->base.export_constant_counts = executable->constant_counts;
  executable->base.export_binding_counts = executable->binding_counts;
  return IRT_OK;
}

static irt_status_t irhal_vulkan_executable_build(
    irhal_vulkan_executable_t* executable,
    const irhal_vulkan_executable_def_t* def, const uint32_t* constants,
    uint32_t constant_count) {
  IRT_RETURN_IF_ERROR(irhal_vulkan_create_layouts(executable, def));
  IRT_RETURN_IF_ERROR(irhal_vulkan_describe_exports(executable, def));
  // Executable constants are specialization constants k at byte 4k.
  VkSpecializationMapEntry entries[64];
  if (constant_count > 64) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%" PRIu32 " executable constants (at most 64)",
                           constant_count);
  }
  for (uint32_t k = 0; k < constant_count; ++k) {
    entries[k] = (VkSpecializationMapEntry){k, 4 * k, 4};
  }
  VkSpecializationInfo specialization = {
      .mapEntryCount = constant_count,
      .pMapEntries = entries,
      .dataSize = 4 * (size_t)constant_count,
      .pData = constants,
  };
  for (uint32_t i = 0; i < def->pipeline_count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        irhal_vulkan_create_pipeline(executable, def, i,
                                     constant_count ? &specialization : NULL),
        "creating the pipeline of export %" PRIu32 " ('%.*s')", i,
        IRT_SV_ARG(def->pipelines[i].entry_point));
  }
  return IRT_OK;
}

irt_status_t irhal_vulkan_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  (void)data_owner;  // nothing is aliased past this call
  *out_executable = NULL;
  irhal_vulkan_device_t* device = irhal_vulkan_device_cast(base);
  if (!irhal_vulkan_supports_format(base, format)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no executable for this device: 'vulkan' loads "
                           "vulkan-spirv-fb executables, not '%.*s'",
                           IRT_SV_ARG(format));
  }
  irhal_vulkan_executable_def_t def;
  IRT_RETURN_IF_ERROR(irhal_vulkan_executable_def_parse(
      data, size, base->host_allocator, &def));
  irhal_vulkan_executable_t* executable = NULL;
  irt_status_t status = irt_allocator_calloc(
      base->host_allocator, sizeof(*executable), (void**)&executable);
  if (!status) {
    irhal_executable_initialize(&executable->base,
                                &irhal_vulkan_executable_vtable);
    executable->device = device;
    irhal_device_retain(base);
    status = irhal_vulkan_executable_build(executable, &def, constants,
                                           constant_count);
  }
  irhal_vulkan_executable_def_deinitialize(&def);
  if (status) {
    if (executable) irhal_vulkan_executable_destroy(&executable->base);
    return irt_status_annotate(status, "loading a vulkan-spirv-fb executable");
  }
  irhal_vulkan_pipeline_cache_save(device);
  *out_executable = &executable->base;
  return IRT_OK;
}

irt_status_t irhal_vulkan_executable_pipeline(
    irhal_vulkan_device_t* device, irhal_executable_t* base, uint32_t ordinal,
    const irhal_vulkan_pipeline_t** out_pipeline) {
  if (base->vtable != &irhal_vulkan_executable_vtable ||
      ((irhal_vulkan_executable_t*)base)->device != device) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch executable was not created by this "
                           "Vulkan device");
  }
  if (ordinal >= base->export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "export %" PRIu32 " of %" PRIu32, ordinal,
                           base->export_count);
  }
  *out_pipeline = &((irhal_vulkan_executable_t*)base)->pipelines[ordinal];
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Pipeline cache file
//===----------------------------------------------------------------------===//

// Reads the whole cache file, if there is one.
static void irhal_vulkan_read_cache_file(irhal_vulkan_device_t* device,
                                         uint8_t** out_data, size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  FILE* file = fopen(device->pipeline_cache_path, "rb");
  if (!file) return;
  long length = -1;
  if (fseek(file, 0, SEEK_END) == 0) length = ftell(file);
  uint8_t* data = NULL;
  if (length > 0 && fseek(file, 0, SEEK_SET) == 0) {
    irt_status_t status = irt_allocator_malloc(device->base.host_allocator,
                                               (size_t)length, (void**)&data);
    if (status) {
      irt_status_free(status);
    } else if (fread(data, 1, (size_t)length, file) == (size_t)length) {
      *out_data = data;
      *out_size = (size_t)length;
    } else {
      irt_allocator_free(device->base.host_allocator, data);
    }
  }
  fclose(file);
}

// <dir>/vulkan-<vendor>-<device>-<pipelineCacheUUID>.bin: one file per
// device model and driver build (drivers ignore foreign data anyway).
static void irhal_vulkan_set_cache_path(irhal_vulkan_device_t* device,
                                        const char* directory) {
  char path[4096];
  int n = snprintf(path, sizeof(path), "%s/vulkan-%04x-%04x-", directory,
                   device->properties.vendorID, device->properties.deviceID);
  for (uint32_t i = 0; i < VK_UUID_SIZE && n > 0 && (size_t)n < sizeof(path) - 8;
       ++i) {
    n += snprintf(path + n, sizeof(path) - (size_t)n, "%02x",
                  device->properties.pipelineCacheUUID[i]);
  }
  if (n <= 0 || (size_t)n >= sizeof(path) - 8) return;
  snprintf(path + n, sizeof(path) - (size_t)n, ".bin");
  mkdir(directory, 0755);  // EEXIST is fine; other failures show on save
  irt_status_t status =
      irt_allocator_malloc(device->base.host_allocator, strlen(path) + 1,
                           (void**)&device->pipeline_cache_path);
  if (status) {
    irt_status_free(status);
    device->pipeline_cache_path = NULL;
    return;
  }
  memcpy(device->pipeline_cache_path, path, strlen(path) + 1);
}

void irhal_vulkan_pipeline_cache_load(irhal_vulkan_device_t* device,
                                      const char* directory) {
  uint8_t* data = NULL;
  size_t size = 0;
  if (directory && *directory) {
    irhal_vulkan_set_cache_path(device, directory);
    if (device->pipeline_cache_path) {
      irhal_vulkan_read_cache_file(device, &data, &size);
    }
  }
  VkPipelineCacheCreateInfo info = {
      .sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
      .initialDataSize = size,
      .pInitialData = data,
  };
  VkResult result = vkCreatePipelineCache(device->device, &info, NULL,
                                          &device->pipeline_cache);
  if (result != VK_SUCCESS && size) {
    // Data the driver rejects outright: start empty.
    info.initialDataSize = 0;
    info.pInitialData = NULL;
    result = vkCreatePipelineCache(device->device, &info, NULL,
                                   &device->pipeline_cache);
  }
  if (result != VK_SUCCESS) device->pipeline_cache = VK_NULL_HANDLE;
  irt_allocator_free(device->base.host_allocator, data);
}

// Writes the cache next to its file and renames it over, so a reader never
// sees half a file.
void irhal_vulkan_pipeline_cache_save(irhal_vulkan_device_t* device) {
  if (!device->pipeline_cache_path || !device->pipeline_cache) return;
  size_t size = 0;
  if (vkGetPipelineCacheData(device->device, device->pipeline_cache, &size,
                             NULL) != VK_SUCCESS ||
      size == 0) {
    return;
  }
  uint8_t* data = NULL;
  irt_status_t status =
      irt_allocator_malloc(device->base.host_allocator, size, (void**)&data);
  if (status) {
    irt_status_free(status);
    return;
  }
  char temp[4200];
  snprintf(temp, sizeof(temp), "%s.%ld.tmp", device->pipeline_cache_path,
           (long)getpid());
  pthread_mutex_lock(&device->cache_mutex);
  bool ok = vkGetPipelineCacheData(device->device, device->pipeline_cache,
                                   &size, data) == VK_SUCCESS;
  FILE* file = ok ? fopen(temp, "wb") : NULL;
  ok = file && fwrite(data, 1, size, file) == size;
  if (file) ok = fclose(file) == 0 && ok;
  ok = ok && rename(temp, device->pipeline_cache_path) == 0;
  if (!ok) {
    irt_log(IRT_LOG_WARNING, "vulkan", "cannot save the pipeline cache to %s: %s",
            device->pipeline_cache_path, strerror(errno));
    unlink(temp);
  }
  pthread_mutex_unlock(&device->cache_mutex);
  irt_allocator_free(device->base.host_allocator, data);
}
