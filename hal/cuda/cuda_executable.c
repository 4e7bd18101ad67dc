#include "hal/cuda/cuda_executable.h"

#include <inttypes.h>
#include <string.h>

#include "hal/executable_container.h"

#define IRHAL_CUDA_FORMAT "cuda-nvptx-fb"
#define IRHAL_CUDA_IDENTIFIER "CDA1"

// Schema slots (spec 8.2).
enum {
  IRHAL_CUDA_EXECUTABLE_EXPORTS = 0,
  IRHAL_CUDA_EXECUTABLE_MODULES = 1,
  IRHAL_CUDA_MODULE_PTX_IMAGE = 0,
  IRHAL_CUDA_EXPORT_MODULE_ORDINAL = 0,
  IRHAL_CUDA_EXPORT_KERNEL_NAME = 1,
  IRHAL_CUDA_EXPORT_BLOCK_DIMS = 2,
  IRHAL_CUDA_EXPORT_SHARED_MEMORY = 3,
  IRHAL_CUDA_EXPORT_CONSTANT_COUNT = 4,
  IRHAL_CUDA_EXPORT_BINDING_FLAGS = 5,
};

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
    if (executable->modules[i])
      context->cu->cuModuleUnload(executable->modules[i]);
  }
  irt_allocator_free(context->host_allocator, executable);
  irhal_cuda_context_release(context);
}

static const irhal_executable_vtable_t irhal_cuda_executable_vtable = {
    .destroy = irhal_cuda_executable_destroy,
};

//===----------------------------------------------------------------------===//
// Verification (spec 6, 8.3 step 2)
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cuda_invalid(const char* what) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "CUDA executable: %s",
                         what);
}

// Export |index|: its fields checked against the module count and the
// device limits.
static irt_status_t irhal_cuda_read_export(const irhal_cuda_context_t* context,
                                           const irvm_fb_table_t* table,
                                           uint32_t module_count,
                                           uint32_t* out_module_ordinal,
                                           irt_string_view_t* out_name,
                                           irhal_cuda_kernel_t* out_kernel) {
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(table, IRHAL_CUDA_EXPORT_MODULE_ORDINAL,
                                        0, out_module_ordinal));
  if (*out_module_ordinal >= module_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module_ordinal %" PRIu32
                           " is not below the %" PRIu32 " modules",
                           *out_module_ordinal, module_count);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_string(table, IRHAL_CUDA_EXPORT_KERNEL_NAME,
                                           out_name, NULL));
  if (out_name->size == 0) return irhal_cuda_invalid("kernel_name is empty");
  const uint8_t* dims = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_struct(table, IRHAL_CUDA_EXPORT_BLOCK_DIMS, 12, 4, &dims));
  if (!dims) return irhal_cuda_invalid("block_dims is missing (required)");
  for (int i = 0; i < 3; ++i) {
    out_kernel->block_dims[i] = irvm_load_u32(dims + 4 * i);
    if (out_kernel->block_dims[i] == 0 ||
        out_kernel->block_dims[i] > (uint32_t)context->max_block_dims[i]) {
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "block_dims.%c = %" PRIu32 " is outside 1..%d (the device maximum)",
          "xyz"[i], out_kernel -> block_dims[i], context -> max_block_dims[i]);
    }
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(table, IRHAL_CUDA_EXPORT_SHARED_MEMORY,
                                        0, &out_kernel->shared_memory_size));
  if (out_kernel->shared_memory_size >
      (uint32_t)context->max_shared_memory_optin) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "block_shared_memory_size %" PRIu32 " exceeds the device's %d bytes",
        out_kernel->shared_memory_size, context->max_shared_memory_optin);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(table, IRHAL_CUDA_EXPORT_CONSTANT_COUNT,
                                        0, &out_kernel->constant_count));
  if (out_kernel->constant_count > IRHAL_CUDA_MAX_CONSTANTS) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT, "constant_count %" PRIu32 " exceeds %d",
        out_kernel->constant_count, IRHAL_CUDA_MAX_CONSTANTS);
  }
  irvm_fb_vector_t flags;
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(
      table, IRHAL_CUDA_EXPORT_BINDING_FLAGS, 8, 8, &flags));
  if (flags.count > IRHAL_CUDA_MAX_BINDINGS) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%" PRIu32 " bindings exceed %d", flags.count,
                           IRHAL_CUDA_MAX_BINDINGS);
  }
  out_kernel->binding_count = flags.count;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Loading (spec 8.3 steps 3-4)
//===----------------------------------------------------------------------===//

// JIT-compiles one PTX module; a failure carries the JIT's error log.
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

// Loads every module, then resolves every export's function.
static irt_status_t irhal_cuda_executable_load(
    irhal_cuda_executable_t* executable, const irvm_fb_vector_t* modules,
    const irvm_fb_vector_t* exports) {
  irhal_cuda_context_t* context = executable->context;
  IRT_RETURN_IF_ERROR(irhal_cuda_context_bind(context));
  for (uint32_t i = 0; i < modules->count; ++i) {
    irvm_fb_table_t module;
    irt_string_view_t ptx;
    IRT_RETURN_IF_ERROR(irvm_fb_vector_table(modules, i, &module));
    IRT_RETURN_IF_ERROR(
        irvm_fb_table_string(&module, IRHAL_CUDA_MODULE_PTX_IMAGE, &ptx, NULL));
    if (ptx.size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "modules[%" PRIu32 "].ptx_image is empty", i);
    }
    IRT_RETURN_IF_ERROR_CTX(
        irhal_cuda_load_module(context, ptx, &executable->modules[i]),
        "modules[%" PRIu32 "]", i);
    executable->module_count = i + 1;
  }
  for (uint32_t i = 0; i < exports->count; ++i) {
    irvm_fb_table_t table;
    IRT_RETURN_IF_ERROR(irvm_fb_vector_table(exports, i, &table));
    irhal_cuda_kernel_t* kernel = &executable->kernels[i];
    uint32_t module_ordinal = 0;
    irt_string_view_t name;
    IRT_RETURN_IF_ERROR_CTX(
        irhal_cuda_read_export(context, &table, modules->count, &module_ordinal,
                               &name, kernel),
        "exports[%" PRIu32 "]", i);
    irt_status_t status = IRHAL_CUDA_CALL(
        context->cu, cuModuleGetFunction,
        (&kernel->function, executable->modules[module_ordinal], name.data));
    if (status) {
      irt_status_free(status);
      return irt_make_status(IRT_STATUS_NOT_FOUND,
                             "exports[%" PRIu32
                             "]: kernel '%.*s' is not in "
                             "PTX module %" PRIu32,
                             i, IRT_SV_ARG(name), module_ordinal);
    }
    IRT_RETURN_IF_ERROR_CTX(
        IRHAL_CUDA_CALL(
            context->cu, cuFuncSetAttribute,
            (kernel->function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
             (int)kernel->shared_memory_size)),
        "exports[%" PRIu32 "] '%.*s'", i, IRT_SV_ARG(name));
  }
  return IRT_OK;
}

irt_status_t irhal_cuda_executable_create(irhal_cuda_context_t* context,
                                          const uint8_t* data, size_t size,
                                          irhal_executable_t** out_executable) {
  *out_executable = NULL;
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  irvm_fb_vector_t exports, modules;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_executable_container_open(data, size, IRHAL_CUDA_IDENTIFIER,
                                      &reader, &root),
      "CUDA executable");
  IRT_RETURN_IF_ERROR_CTX(
      irvm_fb_table_vector(&root, IRHAL_CUDA_EXECUTABLE_EXPORTS, 4, 4,
                           &exports),
      "CUDA executable exports");
  IRT_RETURN_IF_ERROR_CTX(
      irvm_fb_table_vector(&root, IRHAL_CUDA_EXECUTABLE_MODULES, 4, 4,
                           &modules),
      "CUDA executable modules");
  if (modules.count == 0 && exports.count != 0) {
    return irhal_cuda_invalid("exports without modules");
  }
  // Counts are bounded by the verified buffer size (4 bytes per element).
  size_t total =
      sizeof(irhal_cuda_executable_t) +
      exports.count * (sizeof(irhal_cuda_kernel_t) + 2 * sizeof(uint16_t)) +
      modules.count * sizeof(CUmodule) + sizeof(void*);
  irhal_cuda_executable_t* executable = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(context->host_allocator, total,
                                           (void**)&executable));
  irhal_executable_initialize(&executable->base, &irhal_cuda_executable_vtable);
  irhal_cuda_context_retain(context);
  executable->context = context;
  executable->kernels = (irhal_cuda_kernel_t*)(executable + 1);
  executable->modules = (CUmodule*)(executable->kernels + exports.count);
  uint16_t* counts = (uint16_t*)(executable->modules + modules.count);
  irt_status_t status =
      irhal_cuda_executable_load(executable, &modules, &exports);
  if (status) {
    irhal_cuda_executable_destroy(&executable->base);
    return status;
  }
  for (uint32_t i = 0; i < exports.count; ++i) {
    counts[i] = (uint16_t)executable->kernels[i].constant_count;
    counts[exports.count + i] = (uint16_t)executable->kernels[i].binding_count;
  }
  executable->base.export_count = exports.count;
  executable->base.export_constant_counts = counts;
  executable->base.export_binding_counts = counts + exports.count;
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
