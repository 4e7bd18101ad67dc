#include "hal/cuda/cuda_executable.h"

#include <inttypes.h>
#include <string.h>

#include "hal/cuda/cuda_executable_def.h"

#define IRHAL_CUDA_FORMAT "cuda-nvptx-fb"

// One allocation: the object, the kernels, the modules, then the constant
// and binding counts the HAL checks dispatches against.
typedef struct irhal_cuda_executable_s {
  irhal_executable_t base;
  irhal_cuda_context_t* context;  // retained
  uint32_t module_count;
  CUmodule* modules;
  irhal_cuda_kernel_t* kernels;
} irhal_cuda_executable_t;

bool irhal_cuda_executable_format_supported(irt_string_view_t format) {
  return irt_string_view_equal_cstring(format, IRHAL_CUDA_FORMAT);
}

static void irhal_cuda_executable_destroy(irhal_executable_t* base) {
  irhal_cuda_executable_t* executable = (irhal_cuda_executable_t*)base;
  irhal_cuda_context_t* context = executable->context;
  irt_status_free(irhal_cuda_context_bind(context));
  for (uint32_t i = 0; i < executable->module_count; ++i) {
    if (executable->modules[i]) {
      context->cu->cuModuleUnload(executable->modules[i]);
    }
  }
  irt_allocator_free(context->host_allocator, executable);
  irhal_cuda_context_release(context);
}

static const irhal_executable_vtable_t irhal_cuda_executable_vtable = {
    .destroy = irhal_cuda_executable_destroy,
};

// JIT-compiles one PTX module (spec 8.3 step 3); a failure carries the
// JIT's error log.
static irt_status_t irhal_cuda_load_module(irhal_cuda_context_t* context,
                                           irt_string_view_t ptx,
                                           CUmodule* out_module) {
  char log[IRHAL_CUDA_JIT_LOG_SIZE];
  log[0] = 0;
  CUjit_option options[2] = {CU_JIT_ERROR_LOG_BUFFER,
                             CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void* values[2] = {log, (void*)(uintptr_t)sizeof(log)};
  // The FlatBuffer string is NUL-terminated, so the PTX is a C string.
  irt_status_t status =
      IRHAL_CUDA_CALL(context->cu, cuModuleLoadDataEx,
                      (out_module, ptx.data, 2, options, values));
  if (status) {
    log[sizeof(log) - 1] = 0;
    status = irt_status_annotate(status,
                                 "JIT-compiling %zu bytes of PTX; JIT log: %s",
                                 ptx.size, log[0] ? log : "(empty)");
  }
  return status;
}

// Resolves export |index|'s function (spec 8.3 step 4).
static irt_status_t irhal_cuda_load_kernel(irhal_cuda_executable_t* executable,
                                           const irhal_cuda_export_def_t* def,
                                           uint32_t index) {
  irhal_cuda_context_t* context = executable->context;
  irhal_cuda_kernel_t* kernel = &executable->kernels[index];
  memcpy(kernel->block_dims, def->block_dims, sizeof(kernel->block_dims));
  kernel->shared_memory_size = def->shared_memory_size;
  kernel->constant_count = def->constant_count;
  kernel->binding_count = def->binding_count;
  irt_status_t status = IRHAL_CUDA_CALL(
      context->cu, cuModuleGetFunction,
      (&kernel->function, executable->modules[def->module_ordinal],
       def->kernel_name.data));
  if (status) {
    irt_status_free(status);
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "exports[%" PRIu32
                           "]: kernel '%.*s' is not in "
                           "PTX module %" PRIu32,
                           index, IRT_SV_ARG(def->kernel_name),
                           def->module_ordinal);
  }
  IRT_RETURN_IF_ERROR_CTX(
      IRHAL_CUDA_CALL(
          context->cu, cuFuncSetAttribute,
          (kernel->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
           (int)kernel->shared_memory_size)),
      "exports[%" PRIu32 "] '%.*s'", index, IRT_SV_ARG(def->kernel_name));
  return IRT_OK;
}

static irt_status_t irhal_cuda_executable_load(
    irhal_cuda_executable_t* executable,
    const irhal_cuda_executable_def_t* def) {
  irhal_cuda_context_t* context = executable->context;
  IRT_RETURN_IF_ERROR(irhal_cuda_context_bind(context));
  for (uint32_t i = 0; i < def->module_count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(irhal_cuda_load_module(context, def->ptx_images[i],
                                                   &executable->modules[i]),
                            "CUDA executable modules[%" PRIu32 "]", i);
    executable->module_count = i + 1;
  }
  for (uint32_t i = 0; i < def->export_count; ++i) {
    IRT_RETURN_IF_ERROR(
        irhal_cuda_load_kernel(executable, &def->exports[i], i));
  }
  return IRT_OK;
}

irt_status_t irhal_cuda_executable_create(irhal_cuda_context_t* context,
                                          const uint8_t* data, size_t size,
                                          irhal_executable_t** out_executable) {
  *out_executable = NULL;
  irhal_cuda_executable_def_t def;
  IRT_RETURN_IF_ERROR(irhal_cuda_executable_def_parse(
      data, size, &context->limits, context->host_allocator, &def));
  size_t total =
      sizeof(irhal_cuda_executable_t) +
      def.export_count * (sizeof(irhal_cuda_kernel_t) + 2 * sizeof(uint16_t)) +
      def.module_count * sizeof(CUmodule);
  irhal_cuda_executable_t* executable = NULL;
  irt_status_t status =
      irt_allocator_calloc(context->host_allocator, total, (void**)&executable);
  if (status) {
    irhal_cuda_executable_def_deinitialize(&def);
    return status;
  }
  irhal_executable_initialize(&executable->base, &irhal_cuda_executable_vtable);
  irhal_cuda_context_retain(context);
  executable->context = context;
  executable->kernels = (irhal_cuda_kernel_t*)(executable + 1);
  executable->modules = (CUmodule*)(executable->kernels + def.export_count);
  uint16_t* counts = (uint16_t*)(executable->modules + def.module_count);
  status = irhal_cuda_executable_load(executable, &def);
  for (uint32_t i = 0; !status && i < def.export_count; ++i) {
    counts[i] = (uint16_t)def.exports[i].constant_count;
    counts[def.export_count + i] = (uint16_t)def.exports[i].binding_count;
  }
  executable->base.export_count = def.export_count;
  executable->base.export_constant_counts = counts;
  executable->base.export_binding_counts = counts + def.export_count;
  irhal_cuda_executable_def_deinitialize(&def);
  if (status) {
    irhal_cuda_executable_destroy(&executable->base);
    return status;
  }
  *out_executable = &executable->base;
  return IRT_OK;
}

const irhal_cuda_kernel_t* irhal_cuda_executable_kernel(
    const irhal_executable_t* executable, uint32_t ordinal) {
  if (executable->vtable != &irhal_cuda_executable_vtable ||
      ordinal >= executable->export_count) {
    return NULL;
  }
  return &((const irhal_cuda_executable_t*)executable)->kernels[ordinal];
}
