#include "hal/vulkan/vulkan_executable_def.h"

#include <inttypes.h>
#include <string.h>

#include "hal/executable_container.h"

static irt_status_t irhal_vulkan_def_calloc(irt_allocator_t allocator,
                                            size_t count, size_t size,
                                            void** out) {
  *out = NULL;
  if (count == 0) return IRT_OK;
  return irt_allocator_calloc(allocator, count * size, out);
}

static bool irhal_vulkan_stage_ok(uint32_t stage_flags) {
  return stage_flags == IRHAL_VULKAN_SHADER_STAGE_COMPUTE ||
         stage_flags == IRHAL_VULKAN_SHADER_STAGE_ALL;
}

// DescriptorSetLayoutDef: slot 0 bindings [DescriptorSetLayoutBindingDef].
static irt_status_t irhal_vulkan_parse_set_layout(
    const irvm_fb_table_t* table, irt_allocator_t allocator,
    irhal_vulkan_set_layout_def_t* out) {
  irvm_fb_vector_t bindings;
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(table, 0, 4, 4, &bindings));
  IRT_RETURN_IF_ERROR(irhal_vulkan_def_calloc(allocator, bindings.count,
                                              sizeof(*out->bindings),
                                              (void**)&out->bindings));
  out->binding_count = bindings.count;
  for (uint32_t i = 0; i < bindings.count; ++i) {
    irvm_fb_table_t binding;
    irhal_vulkan_binding_def_t* def = &out->bindings[i];
    IRT_RETURN_IF_ERROR_CTX(irvm_fb_vector_table(&bindings, i, &binding),
                            "binding %" PRIu32, i);
    IRT_RETURN_IF_ERROR(irvm_fb_table_u32(&binding, 0, 0, &def->binding));
    IRT_RETURN_IF_ERROR(
        irvm_fb_table_u32(&binding, 1, 0, &def->descriptor_type));
    IRT_RETURN_IF_ERROR(
        irvm_fb_table_u32(&binding, 2, 0, &def->descriptor_count));
    IRT_RETURN_IF_ERROR(irvm_fb_table_u32(&binding, 3, 0, &def->stage_flags));
    if (def->descriptor_type != IRHAL_VULKAN_DESCRIPTOR_TYPE_UNIFORM_BUFFER &&
        def->descriptor_type != IRHAL_VULKAN_DESCRIPTOR_TYPE_STORAGE_BUFFER) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "binding %" PRIu32 " has descriptor type %" PRIu32
                             " (only uniform (6) and storage (7) buffers)",
                             i, def->descriptor_type);
    }
    if (!irhal_vulkan_stage_ok(def->stage_flags)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "binding %" PRIu32 " has stage flags 0x%" PRIx32
                             " (only COMPUTE or ALL)",
                             i, def->stage_flags);
    }
  }
  return IRT_OK;
}

// PipelineLayoutDef: slot 0 set layout ordinals [u32], slot 1 push
// constant ranges [PushConstantRange (12-byte struct)].
static irt_status_t irhal_vulkan_parse_pipeline_layout(
    const irvm_fb_table_t* table, const irhal_vulkan_executable_def_t* def,
    irhal_vulkan_pipeline_layout_def_t* out) {
  irvm_fb_vector_t ordinals, ranges;
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(table, 0, 4, 4, &ordinals));
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(table, 1, 12, 4, &ranges));
  if (ordinals.count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "it has no descriptor set layout");
  }
  IRT_RETURN_IF_ERROR(irhal_vulkan_def_calloc(
      def->allocator, ordinals.count, sizeof(*out->set_layout_ordinals),
      (void**)&out->set_layout_ordinals));
  out->set_count = ordinals.count;
  uint32_t total_descriptors = 0;
  for (uint32_t i = 0; i < ordinals.count; ++i) {
    uint32_t ordinal = irvm_load_u32(irvm_fb_vector_element(&ordinals, i));
    if (ordinal >= def->set_layout_count) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "set %" PRIu32 " names descriptor set layout %" PRIu32
                             " of %" PRIu32,
                             i, ordinal, def->set_layout_count);
    }
    out->set_layout_ordinals[i] = ordinal;
    const irhal_vulkan_set_layout_def_t* set = &def->set_layouts[ordinal];
    for (uint32_t b = 0; b < set->binding_count; ++b) {
      uint32_t count = set->bindings[b].descriptor_count;
      if (set->bindings[b].descriptor_type ==
          IRHAL_VULKAN_DESCRIPTOR_TYPE_UNIFORM_BUFFER) {
        out->uniform_count += count;
      } else {
        out->storage_count += count;
      }
      if (i == 0) out->binding_count += count;
      total_descriptors += count;
      if (total_descriptors > UINT16_MAX) {
        return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "it declares more than %d descriptors",
                               UINT16_MAX);
      }
    }
  }
  if (total_descriptors == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "it declares no descriptor");
  }
  IRT_RETURN_IF_ERROR(irhal_vulkan_def_calloc(def->allocator, ranges.count,
                                              sizeof(*out->push_ranges),
                                              (void**)&out->push_ranges));
  out->push_range_count = ranges.count;
  for (uint32_t i = 0; i < ranges.count; ++i) {
    const uint8_t* element = irvm_fb_vector_element(&ranges, i);
    irhal_vulkan_push_range_def_t* range = &out->push_ranges[i];
    range->stage_flags = irvm_load_u32(element);
    range->offset = irvm_load_u32(element + 4);
    range->size = irvm_load_u32(element + 8);
    uint64_t end = (uint64_t)range->offset + range->size;
    if (!irhal_vulkan_stage_ok(range->stage_flags) || end > UINT16_MAX * 4u) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "push constant range %" PRIu32
                             " (stages 0x%" PRIx32 ", [%" PRIu32 ", +%" PRIu32
                             ")) is not a compute range of sane size",
                             i, range->stage_flags, range->offset,
                             range->size);
    }
    if (end / 4 > out->constant_count) out->constant_count = (uint32_t)(end / 4);
  }
  return IRT_OK;
}

// ShaderModuleDef: slot 0 spirv_code [u32].
static irt_status_t irhal_vulkan_parse_shader_module(
    const irvm_fb_table_t* table, irhal_vulkan_shader_module_def_t* out) {
  irvm_fb_vector_t code;
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(table, 0, 4, 4, &code));
  if (code.count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "it has no SPIR-V");
  }
  out->code = irvm_fb_vector_element(&code, 0);
  out->word_count = code.count;
  return IRT_OK;
}

// PipelineDef: 0 shader module ordinal, 1 entry point, 2 pipeline layout
// ordinal, 3 subgroup size (4: debug info, not read).
static irt_status_t irhal_vulkan_parse_pipeline(
    const irvm_fb_table_t* table, const irhal_vulkan_executable_def_t* def,
    irhal_vulkan_pipeline_def_t* out) {
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_u32(table, 0, 0, &out->shader_module_ordinal));
  IRT_RETURN_IF_ERROR(irvm_fb_table_string(table, 1, &out->entry_point, NULL));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_u32(table, 2, 0, &out->pipeline_layout_ordinal));
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(table, 3, 0, &out->subgroup_size));
  if (out->shader_module_ordinal >= def->shader_module_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "shader module ordinal %" PRIu32 " of %" PRIu32,
                           out->shader_module_ordinal,
                           def->shader_module_count);
  }
  if (out->pipeline_layout_ordinal >= def->pipeline_layout_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "pipeline layout ordinal %" PRIu32 " of %" PRIu32,
                           out->pipeline_layout_ordinal,
                           def->pipeline_layout_count);
  }
  if (out->entry_point.size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "it has no entry point name");
  }
  return IRT_OK;
}

// Parses the vector of tables in slot |slot| of |root| into |*out_items|
// (|item_size| bytes each) with |parse_one|.
typedef irt_status_t (*irhal_vulkan_parse_fn_t)(
    const irvm_fb_table_t* table, irhal_vulkan_executable_def_t* def,
    void* out_item);

static irt_status_t irhal_vulkan_parse_tables(
    const irvm_fb_table_t* root, uint16_t slot, const char* what,
    irhal_vulkan_executable_def_t* def, size_t item_size,
    irhal_vulkan_parse_fn_t parse_one, uint32_t* out_count, void** out_items) {
  irvm_fb_vector_t tables;
  IRT_RETURN_IF_ERROR_CTX(irvm_fb_table_vector(root, slot, 4, 4, &tables),
                          "reading %ss", what);
  IRT_RETURN_IF_ERROR(irhal_vulkan_def_calloc(def->allocator, tables.count,
                                              item_size, out_items));
  *out_count = tables.count;
  for (uint32_t i = 0; i < tables.count; ++i) {
    irvm_fb_table_t table;
    irt_status_t status = irvm_fb_vector_table(&tables, i, &table);
    if (!status) {
      status = parse_one(&table, def, (uint8_t*)*out_items + i * item_size);
    }
    IRT_RETURN_IF_ERROR_CTX(status, "%s %" PRIu32, what, i);
  }
  return IRT_OK;
}

static irt_status_t irhal_vulkan_parse_set_layout_item(
    const irvm_fb_table_t* table, irhal_vulkan_executable_def_t* def,
    void* out) {
  return irhal_vulkan_parse_set_layout(table, def->allocator, out);
}
static irt_status_t irhal_vulkan_parse_pipeline_layout_item(
    const irvm_fb_table_t* table, irhal_vulkan_executable_def_t* def,
    void* out) {
  return irhal_vulkan_parse_pipeline_layout(table, def, out);
}
static irt_status_t irhal_vulkan_parse_shader_module_item(
    const irvm_fb_table_t* table, irhal_vulkan_executable_def_t* def,
    void* out) {
  (void)def;
  return irhal_vulkan_parse_shader_module(table, out);
}
static irt_status_t irhal_vulkan_parse_pipeline_item(
    const irvm_fb_table_t* table, irhal_vulkan_executable_def_t* def,
    void* out) {
  return irhal_vulkan_parse_pipeline(table, def, out);
}

// ExecutableDef: 0 pipelines, 1 descriptor set layouts, 2 pipeline layouts,
// 3 shader modules (4: source files, not read). Parsed in dependency order.
static irt_status_t irhal_vulkan_parse_root(const irvm_fb_table_t* root,
                                            irhal_vulkan_executable_def_t* def) {
  IRT_RETURN_IF_ERROR(irhal_vulkan_parse_tables(
      root, 1, "descriptor set layout", def, sizeof(*def->set_layouts),
      irhal_vulkan_parse_set_layout_item, &def->set_layout_count,
      (void**)&def->set_layouts));
  IRT_RETURN_IF_ERROR(irhal_vulkan_parse_tables(
      root, 2, "pipeline layout", def, sizeof(*def->pipeline_layouts),
      irhal_vulkan_parse_pipeline_layout_item, &def->pipeline_layout_count,
      (void**)&def->pipeline_layouts));
  IRT_RETURN_IF_ERROR(irhal_vulkan_parse_tables(
      root, 3, "shader module", def, sizeof(*def->shader_modules),
      irhal_vulkan_parse_shader_module_item, &def->shader_module_count,
      (void**)&def->shader_modules));
  IRT_RETURN_IF_ERROR(irhal_vulkan_parse_tables(
      root, 0, "pipeline", def, sizeof(*def->pipelines),
      irhal_vulkan_parse_pipeline_item, &def->pipeline_count,
      (void**)&def->pipelines));
  if (def->pipeline_count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "the executable has no pipelines");
  }
  return IRT_OK;
}

irt_status_t irhal_vulkan_executable_def_parse(
    const uint8_t* data, size_t size, irt_allocator_t allocator,
    irhal_vulkan_executable_def_t* out_def) {
  memset(out_def, 0, sizeof(*out_def));
  out_def->allocator = allocator;
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  irt_status_t status =
      irhal_executable_container_open(data, size, "VKE1", &reader, &root);
  if (!status) status = irhal_vulkan_parse_root(&root, out_def);
  if (status) {
    irhal_vulkan_executable_def_deinitialize(out_def);
    return irt_status_annotate(status, "loading a vulkan-spirv-fb executable");
  }
  return IRT_OK;
}

void irhal_vulkan_executable_def_deinitialize(
    irhal_vulkan_executable_def_t* def) {
  irt_allocator_t allocator = def->allocator;
  for (uint32_t i = 0; i < def->set_layout_count; ++i) {
    irt_allocator_free(allocator, def->set_layouts[i].bindings);
  }
  for (uint32_t i = 0; i < def->pipeline_layout_count; ++i) {
    irt_allocator_free(allocator, def->pipeline_layouts[i].set_layout_ordinals);
    irt_allocator_free(allocator, def->pipeline_layouts[i].push_ranges);
  }
  irt_allocator_free(allocator, def->set_layouts);
  irt_allocator_free(allocator, def->pipeline_layouts);
  irt_allocator_free(allocator, def->shader_modules);
  irt_allocator_free(allocator, def->pipelines);
  memset(def, 0, sizeof(*def));
  def->allocator = allocator;
}
