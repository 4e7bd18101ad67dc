#include "hal/cpu/cpu_executable.h"

#include <inttypes.h>

// One allocation: the object followed by the constant counts and then the
// binding counts of every export.
typedef struct irhal_cpu_executable_s {
  irhal_executable_t base;
  irt_allocator_t host_allocator;
  irhal_cpu_library_t* library;
  uint16_t counts[];
} irhal_cpu_executable_t;

static void irhal_cpu_executable_destroy(irhal_executable_t* base) {
  irhal_cpu_executable_t* executable = (irhal_cpu_executable_t*)base;
  irhal_cpu_library_free(executable->library);
  irt_allocator_free(executable->host_allocator, executable);
}

static const irhal_executable_vtable_t irhal_cpu_executable_vtable = {
    .destroy = irhal_cpu_executable_destroy,
};

irt_status_t irhal_cpu_executable_create(irt_allocator_t host_allocator,
                                         irt_string_view_t format,
                                         const void* data, size_t size,
                                         const uint32_t* constants,
                                         uint32_t constant_count,
                                         irhal_executable_t** out_executable) {
  *out_executable = NULL;
  irhal_cpu_library_options_t options = {
      .constants = constants,
      .constant_count = constant_count,
  };
  irhal_cpu_library_t* library = NULL;
  IRT_RETURN_IF_ERROR(irhal_cpu_library_load(host_allocator, format, data, size,
                                             &options, &library));
  // The loader bounds the export count, so the size cannot overflow.
  uint32_t export_count = irhal_cpu_library_export_count(library);
  size_t size_bytes = sizeof(irhal_cpu_executable_t) +
                      2 * (size_t)export_count * sizeof(uint16_t);
  irhal_cpu_executable_t* executable = NULL;
  irt_status_t status =
      irt_allocator_malloc(host_allocator, size_bytes, (void**)&executable);
  if (status) {
    irhal_cpu_library_free(library);
    return irt_status_annotate(
        status, "allocating an executable of %" PRIu32 " exports",
        export_count);
  }
  irhal_executable_initialize(&executable->base, &irhal_cpu_executable_vtable);
  executable->host_allocator = host_allocator;
  executable->library = library;
  uint16_t* constant_counts = executable->counts;
  uint16_t* binding_counts = executable->counts + export_count;
  for (uint32_t i = 0; i < export_count; ++i) {
    const irhal_executable_dispatch_attrs_v0_t* attrs =
        irhal_cpu_library_export_attrs(library, i);
    constant_counts[i] = attrs->constant_count;
    binding_counts[i] = attrs->binding_count;
  }
  executable->base.export_count = export_count;
  executable->base.export_constant_counts = constant_counts;
  executable->base.export_binding_counts = binding_counts;
  *out_executable = &executable->base;
  return IRT_OK;
}

const irhal_cpu_library_t* irhal_cpu_executable_library(
    const irhal_executable_t* executable) {
  if (executable->vtable != &irhal_cpu_executable_vtable) return NULL;
  return ((const irhal_cpu_executable_t*)executable)->library;
}
