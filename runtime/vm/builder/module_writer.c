// irvm_module_builder_finish: lays out the bytecode and the external rodata,
// encodes the BytecodeModuleDef FlatBuffer (field ids: spec 3.2-3.5) and
// wraps it in the `.vmfb` container (spec 1).
//
// Like the compiler, bulky data (bytecode, descriptors, rodata) is created
// first so that it ends up at the end of the FlatBuffer, and the small
// metadata tables end up near the front.
#include <inttypes.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/vm/builder/flatbuffer_builder.h"
#include "runtime/vm/builder/module_builder_internal.h"
#include "runtime/vm/builder/zip_writer.h"

#define IRVM_FUNCTION_ALIGNMENT 8
#define IRVM_CONTAINER_ALIGNMENT 64
#define IRVM_MODULE_ENTRY_NAME "module.fb"
#define IRVM_DESCRIPTOR_SIZE 20
#define IRVM_SOURCE_LOCATION_SIZE 8

// BytecodeModuleDef field ids.
enum {
  kModuleName = 0,
  kModuleVersion = 1,
  kModuleRequirements = 2,
  kModuleAttrs = 3,
  kModuleTypes = 4,
  kModuleDependencies = 5,
  kModuleImports = 6,
  kModuleExports = 7,
  kModuleSignatures = 8,
  kModuleRodata = 9,
  kModuleState = 11,
  kModuleDescriptors = 12,
  kModuleBytecodeVersion = 13,
  kModuleBytecodeData = 14,
  kModuleDebugDatabase = 15,
};

typedef struct irvm_writer_s {
  irvm_module_builder_t* builder;
  irvm_finish_options_t options;
  irvm_fb_builder_t fbb;
  size_t function_count;
  size_t rodata_count;
  uint32_t* type_ranks;        // by handle
  uint32_t* type_order;        // handles by rank
  uint32_t* function_offsets;  // in bytecode_data
  uint8_t* bytecode;
  size_t bytecode_size;
  uint64_t* rodata_offsets;  // external data offset from the rodata base
  uint16_t* rodata_padding;  // ZIP padding record payload per segment
  uint64_t external_size;    // bytes from the rodata base to the end of data
} irvm_writer_t;

static irvm_function_builder_t* irvm_writer_function(const irvm_writer_t* w,
                                                     size_t i) {
  return *IRVM_GROWABLE_AT(w->builder->functions, irvm_function_builder_t*, i);
}

static const irvm_rodata_entry_t* irvm_writer_rodata(const irvm_writer_t* w,
                                                     size_t i) {
  return IRVM_GROWABLE_AT(w->builder->rodata, irvm_rodata_entry_t, i);
}

static irt_status_t irvm_writer_alloc(irvm_writer_t* w, size_t count,
                                      size_t element_size, void** out) {
  return irt_allocator_calloc_array(w->builder->allocator, count ? count : 1,
                                    element_size, out);
}

static void irvm_writer_deinit(irvm_writer_t* w) {
  irt_allocator_t allocator = w->builder->allocator;
  irvm_fb_builder_deinit(&w->fbb);
  void* arrays[] = {w->type_ranks, w->type_order,     w->function_offsets,
                    w->bytecode,   w->rodata_offsets, w->rodata_padding};
  for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); ++i) {
    irt_allocator_free(allocator, arrays[i]);
  }
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

static irt_status_t irvm_writer_check(irvm_writer_t* w) {
  for (size_t i = 0; i < w->function_count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_function_builder_check(
        irvm_writer_function(w, i), w->options.skip_reference_checks));
  }
  if (w->options.skip_reference_checks) return IRT_OK;
  size_t export_count =
      IRVM_GROWABLE_COUNT(w->builder->exports, irvm_export_entry_t);
  for (size_t i = 0; i < export_count; ++i) {
    const irvm_export_entry_t* entry =
        IRVM_GROWABLE_AT(w->builder->exports, irvm_export_entry_t, i);
    if (entry->internal_ordinal >= w->function_count) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "export '%s' names internal function %u but the "
                             "module has %zu",
                             entry->local_name, entry->internal_ordinal,
                             w->function_count);
    }
  }
  return IRT_OK;
}

// Sorted type table: rank of each handle and handle of each rank.
static irt_status_t irvm_writer_sort_types(irvm_writer_t* w) {
  size_t count = IRVM_GROWABLE_COUNT(w->builder->types, const char*);
  IRT_RETURN_IF_ERROR(
      irvm_writer_alloc(w, count, sizeof(uint32_t), (void**)&w->type_ranks));
  IRT_RETURN_IF_ERROR(
      irvm_writer_alloc(w, count, sizeof(uint32_t), (void**)&w->type_order));
  for (size_t i = 0; i < count; ++i) {
    uint32_t rank =
        irvm_module_builder_type_id(w->builder, (irvm_type_t){(uint32_t)i});
    w->type_ranks[i] = rank;
    w->type_order[rank] = (uint32_t)i;  // names are unique: ranks are too
  }
  return IRT_OK;
}

// Functions at 8-aligned offsets, zero-padded (spec 3.5, 6.3).
static irt_status_t irvm_writer_layout_bytecode(irvm_writer_t* w) {
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, w->function_count, sizeof(uint32_t),
                                        (void**)&w->function_offsets));
  size_t size = 0;
  for (size_t i = 0; i < w->function_count; ++i) {
    size_t length = irvm_writer_function(w, i)->code.size;
    if (length > INT32_MAX ||
        size > INT32_MAX - IRVM_FUNCTION_ALIGNMENT - length) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "bytecode of function %zu does not fit the i32 "
                             "descriptor fields",
                             i);
    }
    w->function_offsets[i] = (uint32_t)size;
    size = irt_align_size(size + length, IRVM_FUNCTION_ALIGNMENT);
  }
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, size, 1, (void**)&w->bytecode));
  for (size_t i = 0; i < w->function_count; ++i) {
    irvm_function_builder_write_code(irvm_writer_function(w, i), w->type_ranks,
                                     w->bytecode + w->function_offsets[i]);
  }
  w->bytecode_size = size;
  return IRT_OK;
}

// External rodata offsets from the rodata base R (64-aligned in the file):
// in the ZIP form each segment is preceded by its local header whose padding
// record aligns the data; in the flat form the data is simply aligned.
static irt_status_t irvm_writer_layout_rodata(irvm_writer_t* w) {
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, w->rodata_count, sizeof(uint64_t),
                                        (void**)&w->rodata_offsets));
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, w->rodata_count, sizeof(uint16_t),
                                        (void**)&w->rodata_padding));
  uint64_t position = 0;
  for (size_t i = 0; i < w->rodata_count; ++i) {
    const irvm_rodata_entry_t* entry = irvm_writer_rodata(w, i);
    if (!entry->external) continue;
    uint64_t data_offset = 0;
    if (w->options.flat) {
      if (!irt_align_up_u64(position, entry->alignment, &data_offset)) {
        return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                               "external rodata offsets overflow");
      }
    } else {
      irvm_zip_entry_t zip = {
          .name_length = strlen(entry->entry_name),
          .padding = irvm_zip_padding_for(position, strlen(entry->entry_name),
                                          entry->alignment),
      };
      w->rodata_padding[i] = zip.padding;
      data_offset = position + irvm_zip_local_header_size(&zip);
    }
    w->rodata_offsets[i] = data_offset;
    if (!irt_add_u64(data_offset, entry->length, &position)) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "external rodata offsets overflow");
    }
  }
  w->external_size = position;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// FlatBuffer
//===----------------------------------------------------------------------===//

static irt_status_t irvm_fb_cstring(irvm_fb_builder_t* fbb, const char* text,
                                    irvm_fb_ref_t* out_ref) {
  *out_ref = 0;
  if (!text) return IRT_OK;
  return irvm_fb_create_string(fbb, text, strlen(text), out_ref);
}

// Builds |count| tables with |build_one| and a vector of them (0 when
// empty, so that empty tables are omitted like the compiler does).
typedef irt_status_t (*irvm_table_fn_t)(irvm_writer_t* w, size_t index,
                                        const void* context,
                                        irvm_fb_ref_t* out_ref);
static irt_status_t irvm_writer_table_vector(irvm_writer_t* w, size_t count,
                                             irvm_table_fn_t build_one,
                                             const void* context,
                                             irvm_fb_ref_t* out_ref) {
  *out_ref = 0;
  if (count == 0) return IRT_OK;
  irvm_fb_ref_t* refs = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_writer_alloc(w, count, sizeof(*refs), (void**)&refs));
  irt_status_t status = IRT_OK;
  for (size_t i = 0; status == IRT_OK && i < count; ++i) {
    status = build_one(w, i, context, &refs[i]);
  }
  if (status == IRT_OK) {
    status = irvm_fb_create_offset_vector(&w->fbb, refs, count, out_ref);
  }
  irt_allocator_free(w->builder->allocator, refs);
  return status;
}

// AttrDef { key, value } from a growable of irvm_attr_entry_t.
static irt_status_t irvm_writer_attr(irvm_writer_t* w, size_t index,
                                     const void* context,
                                     irvm_fb_ref_t* out_ref) {
  const irvm_attr_entry_t* attr = IRVM_GROWABLE_AT(
      *(const irvm_growable_t*)context, irvm_attr_entry_t, index);
  irvm_fb_ref_t key = 0, value = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, attr->key, &key));
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, attr->value, &value));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, key));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 1, value));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_attrs(irvm_writer_t* w,
                                      const irvm_growable_t* attrs,
                                      irvm_fb_ref_t* out_ref) {
  return irvm_writer_table_vector(
      w, IRVM_GROWABLE_COUNT(*attrs, irvm_attr_entry_t), irvm_writer_attr,
      attrs, out_ref);
}

// FunctionSignatureDef { calling_convention, attrs }.
static irt_status_t irvm_writer_signature_table(irvm_writer_t* w,
                                                const char* cconv,
                                                const irvm_growable_t* attrs,
                                                irvm_fb_ref_t* out_ref) {
  irvm_fb_ref_t cconv_ref = 0, attrs_ref = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, cconv, &cconv_ref));
  if (attrs) IRT_RETURN_IF_ERROR(irvm_writer_attrs(w, attrs, &attrs_ref));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, cconv_ref));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 1, attrs_ref));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static const char* irvm_function_cconv(const irvm_function_builder_t* fn) {
  return (fn->overrides.fields & IRVM_FN_OVERRIDE_CALLING_CONVENTION)
             ? fn->overrides.calling_convention
             : fn->cconv;
}

static irt_status_t irvm_writer_signature(irvm_writer_t* w, size_t index,
                                          const void* context,
                                          irvm_fb_ref_t* out_ref) {
  const irvm_function_builder_t* fn = irvm_writer_function(w, index);
  return irvm_writer_signature_table(w, irvm_function_cconv(fn), &fn->attrs,
                                     out_ref);
}

// RodataSegmentDef: embedded_data, or external_data_offset/length (both
// always written for external segments).
static irt_status_t irvm_writer_rodata_segment(irvm_writer_t* w, size_t index,
                                               const void* context,
                                               irvm_fb_ref_t* out_ref) {
  const irvm_rodata_entry_t* entry = irvm_writer_rodata(w, index);
  irvm_fb_ref_t data = 0;
  if (!entry->external) {
    IRT_RETURN_IF_ERROR(irvm_fb_create_vector(&w->fbb, entry->data,
                                              entry->length, 1, 1, &data));
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  if (entry->external) {
    IRT_RETURN_IF_ERROR(
        irvm_fb_table_add_scalar(&w->fbb, 3, w->rodata_offsets[index], 8));
    IRT_RETURN_IF_ERROR(irvm_fb_table_add_scalar(&w->fbb, 4, entry->length, 8));
  } else {
    IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 2, data));
  }
  return irvm_fb_table_end(&w->fbb, out_ref);
}

// Descriptor fields: computed, or overridden for malformed modules.
typedef struct irvm_descriptor_s {
  int32_t bytecode_offset;
  int32_t bytecode_length;
  uint32_t requirements;
  uint16_t reserved;
  uint16_t block_count;
  uint16_t i32_register_count;
  uint16_t ref_register_count;
} irvm_descriptor_t;

static irt_status_t irvm_writer_descriptor(const irvm_writer_t* w, size_t index,
                                           irvm_descriptor_t* out) {
  const irvm_function_builder_t* fn = irvm_writer_function(w, index);
  const irvm_function_overrides_t* o = &fn->overrides;
  uint32_t fields = o->fields;
  // The loader's limits (spec 3.7 check 11) apply to computed counts;
  // overrides may exceed them on purpose.
  if (fn->i32_register_count > 0x7FFF || fn->ref_register_count > 0x3FFF ||
      fn->block_count > 0x7FFF) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "function %zu needs %u i32 registers (max 32767), "
                           "%u ref registers (max 16383), %u blocks (max "
                           "32767)",
                           index, fn->i32_register_count,
                           fn->ref_register_count, fn->block_count);
  }
  uint16_t i32_count = (fields & IRVM_FN_OVERRIDE_I32_REGISTER_COUNT)
                           ? o->i32_register_count
                           : (uint16_t)fn->i32_register_count;
  uint16_t ref_count = (fields & IRVM_FN_OVERRIDE_REF_REGISTER_COUNT)
                           ? o->ref_register_count
                           : (uint16_t)fn->ref_register_count;
  uint16_t block_count = (fields & IRVM_FN_OVERRIDE_BLOCK_COUNT)
                             ? o->block_count
                             : (uint16_t)fn->block_count;
  *out = (irvm_descriptor_t){
      .bytecode_offset = (fields & IRVM_FN_OVERRIDE_BYTECODE_OFFSET)
                             ? o->bytecode_offset
                             : (int32_t)w->function_offsets[index],
      .bytecode_length = (fields & IRVM_FN_OVERRIDE_BYTECODE_LENGTH)
                             ? o->bytecode_length
                             : (int32_t)fn->code.size,
      .requirements = (fields & IRVM_FN_OVERRIDE_REQUIREMENTS)
                          ? o->requirements
                          : fn->requirements,
      .reserved = (fields & IRVM_FN_OVERRIDE_RESERVED) ? o->reserved : 0,
      .block_count = block_count,
      .i32_register_count = i32_count,
      .ref_register_count = ref_count,
  };
  return IRT_OK;
}

static irt_status_t irvm_writer_descriptors(irvm_writer_t* w,
                                            uint32_t* out_requirements,
                                            irvm_fb_ref_t* out_ref) {
  *out_requirements = 0;
  *out_ref = 0;
  if (w->function_count == 0) return IRT_OK;
  uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, w->function_count,
                                        IRVM_DESCRIPTOR_SIZE, (void**)&bytes));
  irt_status_t status = IRT_OK;
  for (size_t i = 0; status == IRT_OK && i < w->function_count; ++i) {
    irvm_descriptor_t d = {0};
    status = irvm_writer_descriptor(w, i, &d);
    if (status != IRT_OK) break;
    uint8_t* p = bytes + i * IRVM_DESCRIPTOR_SIZE;
    irvm_store_u32le(p + 0, (uint32_t)d.bytecode_offset);
    irvm_store_u32le(p + 4, (uint32_t)d.bytecode_length);
    irvm_store_u32le(p + 8, d.requirements);
    irvm_store_u16le(p + 12, d.reserved);
    irvm_store_u16le(p + 14, d.block_count);
    irvm_store_u16le(p + 16, d.i32_register_count);
    irvm_store_u16le(p + 18, d.ref_register_count);
    *out_requirements |= d.requirements;
  }
  if (status == IRT_OK) {
    status = irvm_fb_create_vector(&w->fbb, bytes, w->function_count,
                                   IRVM_DESCRIPTOR_SIZE, 4, out_ref);
  }
  irt_allocator_free(w->builder->allocator, bytes);
  return status;
}

static irt_status_t irvm_writer_export(irvm_writer_t* w, size_t index,
                                       const void* context,
                                       irvm_fb_ref_t* out_ref) {
  const irvm_export_entry_t* entry =
      IRVM_GROWABLE_AT(w->builder->exports, irvm_export_entry_t, index);
  irvm_fb_ref_t name = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, entry->local_name, &name));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, name));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_i32(&w->fbb, 1, (int32_t)entry->internal_ordinal, 0));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_import(irvm_writer_t* w, size_t index,
                                       const void* context,
                                       irvm_fb_ref_t* out_ref) {
  const irvm_import_entry_t* entry =
      IRVM_GROWABLE_AT(w->builder->imports, irvm_import_entry_t, index);
  irvm_fb_ref_t name = 0, signature = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, entry->full_name, &name));
  if (entry->cconv) {
    IRT_RETURN_IF_ERROR(
        irvm_writer_signature_table(w, entry->cconv, NULL, &signature));
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, name));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 1, signature));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(&w->fbb, 2, entry->flags, IRVM_FLAG_REQUIRED));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_dependency(irvm_writer_t* w, size_t index,
                                           const void* context,
                                           irvm_fb_ref_t* out_ref) {
  const irvm_dependency_entry_t* entry = IRVM_GROWABLE_AT(
      w->builder->dependencies, irvm_dependency_entry_t, index);
  irvm_fb_ref_t name = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, entry->name, &name));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, name));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(&w->fbb, 1, entry->minimum_version, 0));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(&w->fbb, 2, entry->flags, IRVM_FLAG_REQUIRED));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_type(irvm_writer_t* w, size_t rank,
                                     const void* context,
                                     irvm_fb_ref_t* out_ref) {
  const char* name =
      *IRVM_GROWABLE_AT(w->builder->types, const char*, w->type_order[rank]);
  irvm_fb_ref_t name_ref = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, name, &name_ref));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, name_ref));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_module_state(irvm_writer_t* w,
                                             irvm_fb_ref_t* out_ref) {
  *out_ref = 0;
  const irvm_module_builder_t* b = w->builder;
  if (!b->global_bytes_capacity && !b->global_ref_count) return IRT_OK;
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_i32(&w->fbb, 0, (int32_t)b->global_bytes_capacity, 0));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_i32(&w->fbb, 1, (int32_t)b->global_ref_count, 0));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

// One LocationTypeDef union value.
static irt_status_t irvm_writer_location(irvm_writer_t* w, size_t index,
                                         const void* context,
                                         irvm_fb_ref_t* out_ref) {
  const irvm_location_entry_t* entry =
      IRVM_GROWABLE_AT(w->builder->locations, irvm_location_entry_t, index);
  irvm_fb_builder_t* fbb = &w->fbb;
  irvm_fb_ref_t text = 0, children = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(fbb, entry->text, &text));
  if (entry->kind == IRVM_LOCATION_TAG_FUSED) {
    uint8_t* bytes = NULL;
    IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, entry->location_count,
                                          sizeof(int32_t), (void**)&bytes));
    for (size_t i = 0; i < entry->location_count; ++i) {
      irvm_store_u32le(bytes + 4 * i, (uint32_t)entry->locations[i]);
    }
    irt_status_t status = irvm_fb_create_vector(
        fbb, bytes, entry->location_count, sizeof(int32_t), 4, &children);
    irt_allocator_free(w->builder->allocator, bytes);
    IRT_RETURN_IF_ERROR(status);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(fbb));
  switch (entry->kind) {
    case IRVM_LOCATION_TAG_CALL_SITE:
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_i32(fbb, 0, entry->a, 0));
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_i32(fbb, 1, entry->b, 0));
      break;
    case IRVM_LOCATION_TAG_FILE_LINE_COL:
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 0, text));
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_i32(fbb, 1, entry->a, 0));
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_i32(fbb, 2, entry->b, 0));
      break;
    case IRVM_LOCATION_TAG_FUSED:
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 0, text));
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 1, children));
      break;
    default:  // NAME: the child is optional, so its presence is the signal
      IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 0, text));
      if (entry->b >= 0) {
        IRT_RETURN_IF_ERROR(
            irvm_fb_table_add_scalar(fbb, 1, (uint32_t)entry->b, 4));
      }
      break;
  }
  return irvm_fb_table_end(fbb, out_ref);
}

// FunctionSourceMapDef { local_name, locations: [BytecodeLocationDef] }.
static irt_status_t irvm_writer_source_map(irvm_writer_t* w, size_t index,
                                           const void* context,
                                           irvm_fb_ref_t* out_ref) {
  const irvm_function_builder_t* fn = irvm_writer_function(w, index);
  irvm_fb_ref_t name = 0, locations = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(&w->fbb, fn->debug_name, &name));
  size_t count = IRVM_GROWABLE_COUNT(fn->source_map, irvm_source_map_pair_t);
  if (count) {
    uint8_t* bytes = NULL;
    IRT_RETURN_IF_ERROR(
        irvm_writer_alloc(w, count, IRVM_SOURCE_LOCATION_SIZE, (void**)&bytes));
    for (size_t i = 0; i < count; ++i) {
      const irvm_source_map_pair_t* pair =
          IRVM_GROWABLE_AT(fn->source_map, irvm_source_map_pair_t, i);
      irvm_store_u32le(bytes + 8 * i, (uint32_t)pair->pc);
      irvm_store_u32le(bytes + 8 * i + 4, (uint32_t)pair->location);
    }
    irt_status_t status = irvm_fb_create_vector(
        &w->fbb, bytes, count, IRVM_SOURCE_LOCATION_SIZE, 4, &locations);
    irt_allocator_free(w->builder->allocator, bytes);
    IRT_RETURN_IF_ERROR(status);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, name));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 1, locations));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

// DebugDatabaseDef, written when any location or source map entry exists.
static irt_status_t irvm_writer_debug_database(irvm_writer_t* w,
                                               irvm_fb_ref_t* out_ref) {
  *out_ref = 0;
  size_t location_count =
      IRVM_GROWABLE_COUNT(w->builder->locations, irvm_location_entry_t);
  bool any_map = false;
  for (size_t i = 0; i < w->function_count; ++i) {
    any_map |= irvm_writer_function(w, i)->source_map.size != 0;
  }
  if (!location_count && !any_map) return IRT_OK;

  irvm_fb_ref_t functions = 0, tags = 0, values = 0;
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, w->function_count, irvm_writer_source_map, NULL, &functions));
  if (location_count) {
    uint8_t* tag_bytes = NULL;
    IRT_RETURN_IF_ERROR(
        irvm_writer_alloc(w, location_count, 1, (void**)&tag_bytes));
    for (size_t i = 0; i < location_count; ++i) {
      tag_bytes[i] =
          IRVM_GROWABLE_AT(w->builder->locations, irvm_location_entry_t, i)
              ->kind;
    }
    irt_status_t status =
        irvm_fb_create_vector(&w->fbb, tag_bytes, location_count, 1, 1, &tags);
    irt_allocator_free(w->builder->allocator, tag_bytes);
    IRT_RETURN_IF_ERROR(status);
    IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
        w, location_count, irvm_writer_location, NULL, &values));
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(&w->fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 0, tags));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 1, values));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(&w->fbb, 2, functions));
  return irvm_fb_table_end(&w->fbb, out_ref);
}

static irt_status_t irvm_writer_flatbuffer(irvm_writer_t* w,
                                           const uint8_t** out_data,
                                           size_t* out_size) {
  irvm_module_builder_t* b = w->builder;
  irvm_fb_builder_t* fbb = &w->fbb;
  irvm_fb_ref_t bytecode = 0, descriptors = 0, rodata = 0, signatures = 0,
                exports = 0, imports = 0, dependencies = 0, types = 0,
                attrs = 0, state = 0, debug = 0, name = 0, root = 0;
  uint32_t requirements = 0;
  if (w->bytecode_size) {
    IRT_RETURN_IF_ERROR(
        irvm_fb_create_vector(fbb, w->bytecode, w->bytecode_size, 1,
                              IRVM_FUNCTION_ALIGNMENT, &bytecode));
  }
  IRT_RETURN_IF_ERROR(irvm_writer_descriptors(w, &requirements, &descriptors));
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, w->rodata_count, irvm_writer_rodata_segment, NULL, &rodata));
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, w->function_count, irvm_writer_signature, NULL, &signatures));
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, IRVM_GROWABLE_COUNT(b->exports, irvm_export_entry_t),
      irvm_writer_export, NULL, &exports));
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, IRVM_GROWABLE_COUNT(b->imports, irvm_import_entry_t),
      irvm_writer_import, NULL, &imports));
  IRT_RETURN_IF_ERROR(irvm_writer_table_vector(
      w, IRVM_GROWABLE_COUNT(b->dependencies, irvm_dependency_entry_t),
      irvm_writer_dependency, NULL, &dependencies));
  IRT_RETURN_IF_ERROR(
      irvm_writer_table_vector(w, IRVM_GROWABLE_COUNT(b->types, const char*),
                               irvm_writer_type, NULL, &types));
  IRT_RETURN_IF_ERROR(irvm_writer_attrs(w, &b->attrs, &attrs));
  IRT_RETURN_IF_ERROR(irvm_writer_module_state(w, &state));
  IRT_RETURN_IF_ERROR(irvm_writer_debug_database(w, &debug));
  IRT_RETURN_IF_ERROR(irvm_fb_cstring(fbb, b->name, &name));

  const irvm_module_overrides_t* o = &b->overrides;
  if (o->fields & IRVM_MODULE_OVERRIDE_REQUIREMENTS) {
    requirements = o->requirements;
  }
  uint32_t bytecode_version =
      (o->fields & IRVM_MODULE_OVERRIDE_BYTECODE_VERSION)
          ? o->bytecode_version
          : IRVM_BUILDER_BYTECODE_VERSION;
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleName, name));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(fbb, kModuleVersion, b->version, 0));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(fbb, kModuleRequirements, requirements, 0));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleAttrs, attrs));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleTypes, types));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_offset(fbb, kModuleDependencies, dependencies));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleImports, imports));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleExports, exports));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_offset(fbb, kModuleSignatures, signatures));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleRodata, rodata));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, kModuleState, state));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_offset(fbb, kModuleDescriptors, descriptors));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(fbb, kModuleBytecodeVersion, bytecode_version, 0));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_offset(fbb, kModuleBytecodeData, bytecode));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_offset(fbb, kModuleDebugDatabase, debug));
  IRT_RETURN_IF_ERROR(irvm_fb_table_end(fbb, &root));
  return irvm_fb_finish(fbb, root, "IREE", /*size_prefixed=*/true, out_data,
                        out_size);
}

//===----------------------------------------------------------------------===//
// Container
//===----------------------------------------------------------------------===//

// Writes the file: [ZIP header] L [FlatBuffer] pad | R: [ZIP header] data
// ... [ZIP directory] (spec 1.1-1.4). |prefixed| is the size-prefixed
// FlatBuffer, aligned as a whole.
static irt_status_t irvm_writer_container(
    irvm_writer_t* w, const uint8_t* prefixed, size_t prefixed_size,
    irt_allocator_t allocator, uint8_t** out_data, size_t* out_size) {
  bool zip = !w->options.flat;
  size_t external_count = 0;
  for (size_t i = 0; i < w->rodata_count; ++i) {
    external_count += irvm_writer_rodata(w, i)->external;
  }
  // Entry 0 is module.fb; then one per external segment, in ordinal order.
  irvm_zip_entry_t* entries = NULL;
  IRT_RETURN_IF_ERROR(irvm_writer_alloc(w, external_count + 1, sizeof(*entries),
                                        (void**)&entries));
  entries[0] = (irvm_zip_entry_t){
      .name = IRVM_MODULE_ENTRY_NAME,
      .name_length = strlen(IRVM_MODULE_ENTRY_NAME),
      .padding = irvm_zip_padding_for(0, strlen(IRVM_MODULE_ENTRY_NAME),
                                      IRVM_CONTAINER_ALIGNMENT),
  };
  // D: the size prefix; L: the FlatBuffer region. In the ZIP form the region
  // is padded with 4 to 67 zero bytes so that D + 4 + L is 64-aligned and the
  // entry [D, D + L) covers all of the FlatBuffer.
  uint64_t d = zip ? irvm_zip_local_header_size(&entries[0]) : 0;
  uint64_t l = prefixed_size - 4;
  if (zip) {
    l = irt_align_size(d + prefixed_size + 4, IRVM_CONTAINER_ALIGNMENT) -
        (d + 4);
  }
  uint64_t rodata_base = irt_align_size(d + 4 + l, IRVM_CONTAINER_ALIGNMENT);
  uint64_t directory_offset = 0, total = 0;
  irt_status_t status = IRT_OK;
  if (!irt_add_u64(rodata_base, w->external_size, &directory_offset)) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "module file size overflows");
  }
  size_t e = 1;
  for (size_t i = 0; status == IRT_OK && i < w->rodata_count; ++i) {
    const irvm_rodata_entry_t* entry = irvm_writer_rodata(w, i);
    if (!entry->external) continue;
    entries[e++] = (irvm_zip_entry_t){
        .name = entry->entry_name,
        .name_length = strlen(entry->entry_name),
        .padding = w->rodata_padding[i],
        .data_size = entry->length,
        .crc32 = irvm_crc32(0, entry->data, entry->length),
    };
    entries[e - 1].header_offset = rodata_base + w->rodata_offsets[i] -
                                   irvm_zip_local_header_size(&entries[e - 1]);
  }
  total = directory_offset;
  if (status == IRT_OK && zip &&
      !irt_add_u64(directory_offset,
                   irvm_zip_directory_size(entries, external_count + 1),
                   &total)) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "module file size overflows");
  }
  if (status == IRT_OK && total > SIZE_MAX) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "module file of %" PRIu64
                             " bytes does not fit "
                             "in memory",
                             total);
  }
  uint8_t* file = NULL;
  if (status == IRT_OK) {
    status = irt_allocator_calloc(allocator, (size_t)total, (void**)&file);
  }
  if (status != IRT_OK) {
    irt_allocator_free(w->builder->allocator, entries);
    return status;
  }

  memcpy(file + d, prefixed, prefixed_size);
  irvm_store_u32le(file + d, (uint32_t)l);  // the padded length in ZIP form
  for (size_t i = 0; i < w->rodata_count; ++i) {
    const irvm_rodata_entry_t* entry = irvm_writer_rodata(w, i);
    if (entry->external && entry->length) {
      memcpy(file + rodata_base + w->rodata_offsets[i], entry->data,
             entry->length);
    }
  }
  if (zip) {
    entries[0].data_size = l;
    entries[0].crc32 = irvm_crc32(0, file + d, (size_t)l);
    for (size_t i = 0; i <= external_count; ++i) {
      irvm_zip_write_local_header(&entries[i], file + entries[i].header_offset);
    }
    irvm_zip_write_directory(entries, external_count + 1, directory_offset,
                             file + directory_offset);
  }
  irt_allocator_free(w->builder->allocator, entries);
  *out_data = file;
  *out_size = (size_t)total;
  return IRT_OK;
}

irt_status_t irvm_module_builder_finish(irvm_module_builder_t* builder,
                                        const irvm_finish_options_t* options,
                                        irt_allocator_t allocator,
                                        uint8_t** out_data, size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  irvm_writer_t w = {
      .builder = builder,
      .options = options ? *options : (irvm_finish_options_t){0},
      .function_count =
          IRVM_GROWABLE_COUNT(builder->functions, irvm_function_builder_t*),
      .rodata_count = IRVM_GROWABLE_COUNT(builder->rodata, irvm_rodata_entry_t),
  };
  irvm_fb_builder_init(&w.fbb, builder->allocator);
  const uint8_t* prefixed = NULL;  // the size prefix, then the FlatBuffer
  size_t prefixed_size = 0;
  irt_status_t status = irvm_writer_check(&w);
  if (status == IRT_OK) status = irvm_writer_sort_types(&w);
  if (status == IRT_OK) status = irvm_writer_layout_bytecode(&w);
  if (status == IRT_OK) status = irvm_writer_layout_rodata(&w);
  if (status == IRT_OK) {
    status = irvm_writer_flatbuffer(&w, &prefixed, &prefixed_size);
  }
  if (status == IRT_OK) {
    status = irvm_writer_container(&w, prefixed, prefixed_size, allocator,
                                   out_data, out_size);
  }
  irvm_writer_deinit(&w);
  return status;
}
