// The IREE Vulkan executable format (`vulkan-spirv-fb`, HAL spec 7.2-7.4)
// read into plain structures: SPIR-V modules, descriptor set layouts,
// pipeline layouts with push constant ranges, and one pipeline per export.
// Parsing needs no Vulkan device (so it is fuzzed on its own); the limits
// of a particular device are checked when pipelines are created.
#ifndef IRHAL_VULKAN_VULKAN_EXECUTABLE_DEF_H
#define IRHAL_VULKAN_VULKAN_EXECUTABLE_DEF_H

#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// Values equal to Vulkan's.
#define IRHAL_VULKAN_DESCRIPTOR_TYPE_UNIFORM_BUFFER 6u
#define IRHAL_VULKAN_DESCRIPTOR_TYPE_STORAGE_BUFFER 7u
#define IRHAL_VULKAN_SHADER_STAGE_COMPUTE 0x20u
#define IRHAL_VULKAN_SHADER_STAGE_ALL 0x7FFFFFFFu

typedef struct irhal_vulkan_binding_def_s {
  uint32_t binding;
  uint32_t descriptor_type;  // UNIFORM_BUFFER or STORAGE_BUFFER
  uint32_t descriptor_count;
  uint32_t stage_flags;
} irhal_vulkan_binding_def_t;

typedef struct irhal_vulkan_set_layout_def_s {
  uint32_t binding_count;
  irhal_vulkan_binding_def_t* bindings;
} irhal_vulkan_set_layout_def_t;

typedef struct irhal_vulkan_push_range_def_s {
  uint32_t stage_flags, offset, size;
} irhal_vulkan_push_range_def_t;

typedef struct irhal_vulkan_pipeline_layout_def_s {
  uint32_t set_count;
  uint32_t* set_layout_ordinals;  // each < set_layout_count
  uint32_t push_range_count;
  irhal_vulkan_push_range_def_t* push_ranges;
  // Derived: set 0's descriptor count (the bindings a dispatch passes) and
  // the 32-bit push constants (end of the furthest range / 4).
  uint32_t binding_count;
  uint32_t constant_count;
  uint32_t uniform_count, storage_count;  // over all sets
} irhal_vulkan_pipeline_layout_def_t;

typedef struct irhal_vulkan_shader_module_def_s {
  const uint8_t* code;  // in the executable data; 4-byte words, unaligned
  uint32_t word_count;  // > 0
} irhal_vulkan_shader_module_def_t;

typedef struct irhal_vulkan_pipeline_def_s {
  uint32_t shader_module_ordinal;
  irt_string_view_t entry_point;  // NUL-terminated in the data
  uint32_t pipeline_layout_ordinal;
  uint32_t subgroup_size;  // 0 = unspecified
} irhal_vulkan_pipeline_def_t;

typedef struct irhal_vulkan_executable_def_s {
  irt_allocator_t allocator;
  uint32_t set_layout_count;
  irhal_vulkan_set_layout_def_t* set_layouts;
  uint32_t pipeline_layout_count;
  irhal_vulkan_pipeline_layout_def_t* pipeline_layouts;
  uint32_t shader_module_count;
  irhal_vulkan_shader_module_def_t* shader_modules;
  uint32_t pipeline_count;  // = exports
  irhal_vulkan_pipeline_def_t* pipelines;
} irhal_vulkan_executable_def_t;

// Parses and verifies |size| bytes at |data| (container + ExecutableDef).
// |out_def| points into |data|, which must outlive it. INVALID_ARGUMENT
// naming the offending table and index on any violation of spec 7.4
// (other than device limits).
irt_status_t irhal_vulkan_executable_def_parse(
    const uint8_t* data, size_t size, irt_allocator_t allocator,
    irhal_vulkan_executable_def_t* out_def) IRT_MUST_USE;

void irhal_vulkan_executable_def_deinitialize(
    irhal_vulkan_executable_def_t* def);

#endif  // IRHAL_VULKAN_VULKAN_EXECUTABLE_DEF_H
