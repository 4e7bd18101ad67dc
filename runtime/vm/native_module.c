#include "runtime/vm/native_module.h"

typedef struct irvm_native_module_s {
  irvm_module_t base;
  irt_allocator_t allocator;
  const irvm_native_module_desc_t* desc;
  void* self;
} irvm_native_module_t;

static irvm_native_module_t* irvm_native_module_cast(irvm_module_t* module) {
  return (irvm_native_module_t*)module;
}

static void irvm_native_module_destroy(irvm_module_t* base) {
  irvm_native_module_t* module = irvm_native_module_cast(base);
  if (module->desc->destroy) module->desc->destroy(module->self);
  irt_allocator_free(module->allocator, module);
}

static irt_status_t irvm_native_module_export_info(irvm_module_t* base,
                                                   uint32_t ordinal,
                                                   irvm_export_info_t* out) {
  irvm_native_module_t* module = irvm_native_module_cast(base);
  if (ordinal >= module->desc->export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "export ordinal %u out of range in module '%s'",
                           ordinal, module->desc->name);
  }
  const irvm_native_export_t* entry = &module->desc->exports[ordinal];
  out->name = irt_make_cstring_view(entry->name);
  out->calling_convention = irt_make_cstring_view(entry->calling_convention);
  out->attr_count = 0;
  out->attrs = NULL;
  return IRT_OK;
}

static irt_status_t irvm_native_module_create_state(irvm_module_t* base,
                                                    irvm_context_t* context,
                                                    irt_allocator_t allocator,
                                                    void** out_state) {
  irvm_native_module_t* module = irvm_native_module_cast(base);
  *out_state = NULL;
  if (!module->desc->create_state) return IRT_OK;
  return module->desc->create_state(module->self, context, allocator,
                                    out_state);
}

static void irvm_native_module_destroy_state(irvm_module_t* base,
                                             void* state) {
  irvm_native_module_t* module = irvm_native_module_cast(base);
  if (module->desc->destroy_state) {
    module->desc->destroy_state(module->self, state);
  }
}

static irt_status_t irvm_native_module_call(irvm_module_t* base, void* state,
                                            uint32_t ordinal,
                                            irvm_stack_t* stack,
                                            uint8_t* arguments,
                                            uint8_t* results) {
  irvm_native_module_t* module = irvm_native_module_cast(base);
  if (ordinal >= module->desc->export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "export ordinal %u out of range in module '%s'",
                           ordinal, module->desc->name);
  }
  irvm_native_call_t call = {
      .self = module->self,
      .state = state,
      .stack = stack,
      .arguments = irvm_abi_cursor(arguments),
      .results = irvm_abi_cursor(results),
  };
  return module->desc->exports[ordinal].fn(&call);
}

static const irvm_module_vtable_t irvm_native_module_vtable = {
    .destroy = irvm_native_module_destroy,
    .export_info = irvm_native_module_export_info,
    .create_state = irvm_native_module_create_state,
    .destroy_state = irvm_native_module_destroy_state,
    .resolve_imports = NULL,
    .call = irvm_native_module_call,
};

irt_status_t irvm_native_module_create(const irvm_native_module_desc_t* desc,
                                       void* self, irt_allocator_t allocator,
                                       irvm_module_t** out_module) {
  *out_module = NULL;
  for (uint32_t i = 0; i < desc->export_count; ++i) {
    irvm_cconv_t cconv;
    IRT_RETURN_IF_ERROR_CTX(
        irvm_cconv_parse(
            irt_make_cstring_view(desc->exports[i].calling_convention), &cconv),
        "native module '%s' export '%s'", desc->name, desc->exports[i].name);
  }
  irvm_native_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*module), (void**)&module));
  irvm_module_initialize(&module->base, &irvm_native_module_vtable,
                         irt_make_cstring_view(desc->name), desc->version,
                         desc->export_count);
  module->allocator = allocator;
  module->desc = desc;
  module->self = self;
  *out_module = &module->base;
  return IRT_OK;
}
