#include "hal/executable.h"

#include "hal/executable_cache.h"

static void irhal_executable_destroy(void* object) {
  irhal_executable_t* executable = object;
  if (executable->cache_entry) {
    irhal_executable_cache_forget(executable->cache_entry);
  }
  executable->vtable->destroy(executable);
}

const irvm_ref_type_t irhal_executable_type_descriptor = {
    .name = "hal.executable",
    .destroy = irhal_executable_destroy,
};

void irhal_executable_initialize(irhal_executable_t* executable,
                                 const irhal_executable_vtable_t* vtable) {
  irt_ref_count_init(&executable->header.count);
  executable->vtable = vtable;
  executable->export_count = 0;
  executable->export_constant_counts = NULL;
  executable->export_binding_counts = NULL;
  executable->cache_entry = NULL;
}
