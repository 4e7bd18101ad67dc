#include "runtime/vm/module.h"

static void irvm_module_destroy_object(void* object) {
  irvm_module_t* module = object;
  module->vtable->destroy(module);
}

// Modules are released through their vtable; the ref type only routes the
// final release there.
static const irvm_ref_type_t irvm_module_ref_type = {
    .name = "vm.module",
    .destroy = irvm_module_destroy_object,
};

void irvm_module_initialize(irvm_module_t* module,
                            const irvm_module_vtable_t* vtable,
                            irt_string_view_t name, uint32_t version,
                            uint32_t export_count) {
  irt_ref_count_init(&module->header.count);
  module->vtable = vtable;
  module->name = name;
  module->version = version;
  module->export_count = export_count;
  module->dependency_count = 0;
  module->dependencies = NULL;
}

void irvm_module_release(irvm_module_t* module) {
  irvm_object_release(module, &irvm_module_ref_type);
}

irt_status_t irvm_module_lookup_export(irvm_module_t* module,
                                       irt_string_view_t name,
                                       uint32_t* out_ordinal) {
  for (uint32_t i = 0; i < module->export_count; ++i) {
    irvm_export_info_t info;
    IRT_RETURN_IF_ERROR(module->vtable->export_info(module, i, &info));
    if (irt_string_view_equal(info.name, name)) {
      *out_ordinal = i;
      return IRT_OK;
    }
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "module '%.*s' has no function '%.*s'",
                         IRT_SV_ARG(module->name), IRT_SV_ARG(name));
}
