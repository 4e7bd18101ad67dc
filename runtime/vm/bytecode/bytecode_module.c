// Loading a bytecode module: parse, resolve types, wrap rodata, verify, and
// serve the module interface (exports, per-context state, import linking).
#include <stdio.h>

#include "runtime/base/math.h"
#include "runtime/vm/bytecode/internal.h"

static irvm_bytecode_module_t* irvm_bc_cast(irvm_module_t* module) {
  return (irvm_bytecode_module_t*)module;
}

void irvm_bc_function_label(const irvm_bytecode_module_t* module,
                            uint32_t ordinal, char* buffer, size_t capacity) {
  irt_string_view_t name = ordinal < module->def.function_count
                               ? module->functions[ordinal].name
                               : irt_make_string_view("", 0);
  if (name.size) {
    snprintf(buffer, capacity, "%.*s.%.*s", IRT_SV_ARG(module->def.name),
             IRT_SV_ARG(name));
  } else {
    snprintf(buffer, capacity, "%.*s@%u", IRT_SV_ARG(module->def.name),
             ordinal);
  }
}

//===----------------------------------------------------------------------===//
// Load-time resolution
//===----------------------------------------------------------------------===//

// Spec 8.1: the type table names value types, !vm.opaque, lists and
// registered ref types.
static irt_status_t irvm_bc_resolve_type(const irvm_instance_t* instance,
                                         irt_string_view_t name,
                                         irvm_bc_type_t* out_type) {
  static const struct {
    const char* name;
    irvm_value_type_t type;
  } value_types[] = {
      {"i8", IRVM_VALUE_TYPE_I8},   {"i16", IRVM_VALUE_TYPE_I16},
      {"i32", IRVM_VALUE_TYPE_I32}, {"i64", IRVM_VALUE_TYPE_I64},
      {"f32", IRVM_VALUE_TYPE_F32}, {"f64", IRVM_VALUE_TYPE_F64},
  };
  memset(out_type, 0, sizeof(*out_type));
  for (size_t i = 0; i < sizeof(value_types) / sizeof(value_types[0]); ++i) {
    if (irt_string_view_equal_cstring(name, value_types[i].name)) {
      out_type->kind = IRVM_BC_TYPE_VALUE;
      out_type->value_type = value_types[i].type;
      return IRT_OK;
    }
  }
  if (irt_string_view_equal_cstring(name, "!vm.opaque")) {
    out_type->kind = IRVM_BC_TYPE_OPAQUE;
    return IRT_OK;
  }
  const irvm_ref_type_t* ref_type = NULL;
  if (irt_string_view_starts_with(name, "!vm.list")) {
    ref_type = irvm_list_type();
  } else if (name.size > 1 && name.data[0] == '!') {
    ref_type = irvm_instance_lookup_type(
        instance, irt_make_string_view(name.data + 1, name.size - 1));
  }
  if (!ref_type) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no type registered with name '%.*s'",
                           IRT_SV_ARG(name));
  }
  out_type->kind = IRVM_BC_TYPE_REF;
  out_type->ref_type = ref_type;
  return IRT_OK;
}

static irt_status_t irvm_bc_resolve_types(irvm_bytecode_module_t* module) {
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      module->allocator, module->def.type_count ? module->def.type_count : 1,
      sizeof(irvm_bc_type_t), (void**)&module->types));
  for (uint32_t i = 0; i < module->def.type_count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        irvm_bc_resolve_type(module->instance, module->def.types[i],
                             &module->types[i]),
        "types[%u]", i);
  }
  return IRT_OK;
}

// Rodata buffers alias the file; they hold no reference to the module, so
// the module outlives them only if users keep the module alive while they
// hold rodata refs (contexts do: they retain their modules).
static irt_status_t irvm_bc_wrap_rodata(irvm_bytecode_module_t* module) {
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      module->allocator, module->def.rodata_count ? module->def.rodata_count : 1,
      sizeof(irvm_buffer_t*), (void**)&module->rodata));
  for (uint32_t i = 0; i < module->def.rodata_count; ++i) {
    const irvm_rodata_def_t* segment = &module->def.rodata[i];
    irvm_buffer_release_t no_release = {NULL, NULL};
    IRT_RETURN_IF_ERROR(irvm_buffer_wrap(
        (void*)segment->data, (size_t)segment->length,
        IRVM_BUFFER_ORIGIN_MODULE, no_release, module->allocator,
        &module->rodata[i]));
  }
  return IRT_OK;
}

static irt_status_t irvm_bc_prepare_functions(irvm_bytecode_module_t* module) {
  const irvm_module_def_t* def = &module->def;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      module->allocator, def->function_count ? def->function_count : 1,
      sizeof(irvm_bc_function_t), (void**)&module->functions));
  for (uint32_t i = 0; i < def->function_count; ++i) {
    const irvm_function_descriptor_t* descriptor = &def->function_descriptors[i];
    irvm_bc_function_t* function = &module->functions[i];
    function->code = def->bytecode_data + descriptor->bytecode_offset;
    function->code_length = descriptor->bytecode_length;
    uint64_t i32_cells = irt_pow2_ceil_u32(descriptor->i32_register_count);
    if (i32_cells < 2) i32_cells = 2;
    uint64_t ref_cells = irt_pow2_ceil_u32(descriptor->ref_register_count);
    function->i32_mask = (uint32_t)(i32_cells - 1);
    function->ref_mask = (uint32_t)(ref_cells - 1);
    function->frame_size = 64 + irt_align_size((size_t)i32_cells * 4, 16) +
                           (size_t)ref_cells * sizeof(irvm_ref_t);
    IRT_RETURN_IF_ERROR_CTX(
        irvm_cconv_parse(def->function_signatures[i].calling_convention,
                         &function->cconv),
        "function_signatures[%u]", i);
  }
  // Name functions after their exports (first export wins) for messages.
  for (uint32_t i = 0; i < def->export_count; ++i) {
    irvm_bc_function_t* function =
        &module->functions[def->exports[i].internal_ordinal];
    if (!function->name.size) function->name = def->exports[i].local_name;
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// The module interface
//===----------------------------------------------------------------------===//

static void irvm_bc_module_destroy(irvm_module_t* base) {
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  if (module->rodata) {
    for (uint32_t i = 0; i < module->def.rodata_count; ++i) {
      if (module->rodata[i]) irvm_buffer_release(module->rodata[i]);
    }
  }
  irt_allocator_free(module->allocator, module->rodata);
  irt_allocator_free(module->allocator, module->functions);
  irt_allocator_free(module->allocator, module->types);
  const uint8_t* data = module->def.file_data;
  size_t size = module->def.file_size;
  irvm_module_def_deinit(&module->def);
  if (module->options.release) {
    module->options.release(module->options.release_user_data, data, size);
  }
  irt_allocator_free(module->allocator, module);
}

static irt_status_t irvm_bc_module_export_info(irvm_module_t* base,
                                               uint32_t ordinal,
                                               irvm_export_info_t* out_info) {
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  if (ordinal >= module->def.export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "export ordinal %u out of range", ordinal);
  }
  const irvm_export_def_t* entry = &module->def.exports[ordinal];
  const irvm_signature_def_t* signature =
      &module->def.function_signatures[entry->internal_ordinal];
  out_info->name = entry->local_name;
  out_info->calling_convention = signature->calling_convention;
  out_info->attr_count = signature->attr_count;
  out_info->attrs = signature->attrs;
  return IRT_OK;
}

static void irvm_bc_module_destroy_state(irvm_module_t* base, void* opaque) {
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  irvm_bc_state_t* state = opaque;
  if (!state) return;
  if (state->global_refs) {
    for (uint32_t i = 0; i < module->def.global_ref_count; ++i) {
      irvm_ref_release(&state->global_refs[i]);
    }
  }
  irt_allocator_free(module->allocator, state->global_refs);
  irt_allocator_free(module->allocator, state->global_bytes);
  irt_allocator_free(module->allocator, state->imports);
  irt_allocator_free(module->allocator, state);
}

static irt_status_t irvm_bc_module_create_state(irvm_module_t* base,
                                                irvm_context_t* context,
                                                irt_allocator_t allocator,
                                                void** out_state) {
  (void)context;
  (void)allocator;  // states live with the module's allocator
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  irvm_bc_state_t* state = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(module->allocator, sizeof(*state),
                                           (void**)&state));
  state->module = module;
  irt_status_t status = irt_allocator_calloc(
      module->allocator, irt_align_size(module->def.global_bytes_capacity, 16) + 16,
      (void**)&state->global_bytes);
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc_array(module->allocator,
                                        module->def.global_ref_count + 1u,
                                        sizeof(irvm_ref_t),
                                        (void**)&state->global_refs);
  }
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc_array(module->allocator,
                                        module->def.import_count + 1u,
                                        sizeof(irvm_bc_import_t),
                                        (void**)&state->imports);
  }
  if (!irt_status_is_ok(status)) {
    irvm_bc_module_destroy_state(base, state);
    return status;
  }
  *out_state = state;
  return IRT_OK;
}

// Spec 4.4 steps 3-5 for import |ordinal|.
static irt_status_t irvm_bc_resolve_import(irvm_bytecode_module_t* module,
                                           irvm_bc_state_t* state,
                                           irvm_context_t* context,
                                           uint32_t ordinal) {
  const irvm_import_def_t* def = &module->def.imports[ordinal];
  irvm_bc_import_t* import = &state->imports[ordinal];
  const char* dot = memchr(def->full_name.data, '.', def->full_name.size);
  if (!dot) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "import '%.*s' has no module prefix",
                           IRT_SV_ARG(def->full_name));
  }
  irt_string_view_t module_name = irt_make_string_view(
      def->full_name.data, (size_t)(dot - def->full_name.data));
  irt_string_view_t function_name = irt_make_string_view(
      dot + 1, def->full_name.size - module_name.size - 1);
  if (!irvm_context_find_export(context, module_name, function_name,
                                &import->function)) {
    if (def->flags & IRVM_FLAG_OPTIONAL) return IRT_OK;
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "required import '%.*s' not found in the context",
                           IRT_SV_ARG(def->full_name));
  }
  irvm_export_info_t info;
  IRT_RETURN_IF_ERROR(import->function.module->vtable->export_info(
      import->function.module, import->function.export_ordinal, &info));
  irt_string_view_t expected = def->signature.calling_convention;
  if (expected.size && !irt_string_view_equal(expected, info.calling_convention)) {
    return irt_make_status(
        IRT_STATUS_INTERNAL,
        "import '%.*s' signature mismatch: the module expects '%.*s' but "
        "'%.*s' provides '%.*s'",
        IRT_SV_ARG(def->full_name), IRT_SV_ARG(expected),
        IRT_SV_ARG(module_name), IRT_SV_ARG(info.calling_convention));
  }
  IRT_RETURN_IF_ERROR(irvm_cconv_parse(info.calling_convention, &import->cconv));
  bool fixed_ok = irvm_cconv_buffer_size(import->cconv.arguments, NULL,
                                         &import->argument_size) &&
                  irvm_cconv_buffer_size(import->cconv.results, NULL,
                                         &import->result_size);
  if (!fixed_ok || import->argument_size > IRVM_ABI_MAX_FIXED_BUFFER_SIZE ||
      import->result_size > IRVM_ABI_MAX_FIXED_BUFFER_SIZE) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ABI marshaling buffer overflow on import %u", ordinal);
  }
  import->resolved = true;
  return IRT_OK;
}

static irt_status_t irvm_bc_module_resolve_imports(irvm_module_t* base,
                                                   void* opaque,
                                                   irvm_context_t* context) {
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  for (uint32_t i = 0; i < module->def.import_count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_bc_resolve_import(module, opaque, context, i));
  }
  return IRT_OK;
}

static irt_status_t irvm_bc_module_call(irvm_module_t* base, void* opaque,
                                        uint32_t ordinal, irvm_stack_t* stack,
                                        uint8_t* arguments, uint8_t* results) {
  irvm_bytecode_module_t* module = irvm_bc_cast(base);
  if (ordinal >= module->def.export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "export ordinal %u out of range", ordinal);
  }
  return irvm_bc_execute(opaque, stack, module->def.exports[ordinal].internal_ordinal,
                         arguments, results);
}

static const irvm_module_vtable_t irvm_bc_module_vtable = {
    .destroy = irvm_bc_module_destroy,
    .export_info = irvm_bc_module_export_info,
    .create_state = irvm_bc_module_create_state,
    .destroy_state = irvm_bc_module_destroy_state,
    .resolve_imports = irvm_bc_module_resolve_imports,
    .call = irvm_bc_module_call,
};

irt_status_t irvm_bytecode_module_create(
    irvm_instance_t* instance, const uint8_t* data, size_t size,
    const irvm_bytecode_module_options_t* options, irt_allocator_t allocator,
    irvm_module_t** out_module) {
  *out_module = NULL;
  irvm_bytecode_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*module), (void**)&module));
  irt_status_t status =
      irvm_module_def_parse(data, size, allocator, &module->def);
  if (!irt_status_is_ok(status)) {
    irt_allocator_free(allocator, module);
    return status;
  }
  irvm_module_initialize(&module->base, &irvm_bc_module_vtable, module->def.name,
                         module->def.version, module->def.export_count);
  module->base.dependency_count = module->def.dependency_count;
  module->base.dependencies = module->def.dependencies;
  module->allocator = allocator;
  module->instance = instance;
  status = irvm_bc_resolve_types(module);
  if (irt_status_is_ok(status)) status = irvm_bc_wrap_rodata(module);
  if (irt_status_is_ok(status)) status = irvm_bc_prepare_functions(module);
  for (uint32_t i = 0; irt_status_is_ok(status) && i < module->def.function_count;
       ++i) {
    status = irvm_bc_verify_function(module, i);
  }
  if (!irt_status_is_ok(status)) {
    status = irt_status_annotate(status, "in module '%.*s'",
                                 IRT_SV_ARG(module->def.name));
    irvm_bc_module_destroy(&module->base);  // options not set: data untouched
    return status;
  }
  if (options) module->options = *options;
  *out_module = &module->base;
  return IRT_OK;
}

const irvm_module_def_t* irvm_bytecode_module_def(const irvm_module_t* module) {
  return &((const irvm_bytecode_module_t*)module)->def;
}
