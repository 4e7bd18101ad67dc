#include "hal/cuda/cuda_executable_def.h"

#include <inttypes.h>
#include <string.h>

#include "hal/executable_container.h"

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

static irt_status_t irhal_cuda_read_module(const irvm_fb_vector_t* modules,
                                           uint32_t index,
                                           irt_string_view_t* out_ptx) {
  irvm_fb_table_t module;
  IRT_RETURN_IF_ERROR(irvm_fb_vector_table(modules, index, &module));
  IRT_RETURN_IF_ERROR(irvm_fb_table_string(&module, IRHAL_CUDA_MODULE_PTX_IMAGE,
                                           out_ptx, NULL));
  if (out_ptx->size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "ptx_image is empty");
  }
  return IRT_OK;
}

static irt_status_t irhal_cuda_check_limit(const char* field, uint32_t value,
                                           uint32_t limit) {
  if (value <= limit) return IRT_OK;
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "%s = %" PRIu32 " exceeds %" PRIu32, field, value,
                         limit);
}

static irt_status_t irhal_cuda_read_export(const irvm_fb_vector_t* exports,
                                           uint32_t index,
                                           uint32_t module_count,
                                           const irhal_cuda_limits_t* limits,
                                           irhal_cuda_export_def_t* out) {
  irvm_fb_table_t table;
  IRT_RETURN_IF_ERROR(irvm_fb_vector_table(exports, index, &table));
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(
      &table, IRHAL_CUDA_EXPORT_MODULE_ORDINAL, 0, &out->module_ordinal));
  if (out->module_ordinal >= module_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module_ordinal %" PRIu32
                           " is not below the %" PRIu32 " modules",
                           out->module_ordinal, module_count);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_string(
      &table, IRHAL_CUDA_EXPORT_KERNEL_NAME, &out->kernel_name, NULL));
  if (out->kernel_name.size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "kernel_name is empty");
  }
  const uint8_t* dims = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_struct(&table, IRHAL_CUDA_EXPORT_BLOCK_DIMS, 12, 4, &dims));
  if (!dims) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "block_dims is missing (required)");
  }
  static const char* const kDims[3] = {"block_dims.x", "block_dims.y",
                                       "block_dims.z"};
  for (int i = 0; i < 3; ++i) {
    out->block_dims[i] = irvm_load_u32(dims + 4 * i);
    if (out->block_dims[i] == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s is 0", kDims[i]);
    }
    if (limits) {
      IRT_RETURN_IF_ERROR(irhal_cuda_check_limit(kDims[i], out->block_dims[i],
                                                 limits->max_block_dims[i]));
    }
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(&table, IRHAL_CUDA_EXPORT_SHARED_MEMORY,
                                        0, &out->shared_memory_size));
  if (limits) {
    IRT_RETURN_IF_ERROR(irhal_cuda_check_limit("block_shared_memory_size",
                                               out->shared_memory_size,
                                               limits->max_shared_memory));
  }
  IRT_RETURN_IF_ERROR(irvm_fb_table_u32(
      &table, IRHAL_CUDA_EXPORT_CONSTANT_COUNT, 0, &out->constant_count));
  IRT_RETURN_IF_ERROR(irhal_cuda_check_limit(
      "constant_count", out->constant_count, IRHAL_CUDA_MAX_CONSTANTS));
  irvm_fb_vector_t flags;
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(
      &table, IRHAL_CUDA_EXPORT_BINDING_FLAGS, 8, 8, &flags));
  out->binding_count = flags.count;
  return irhal_cuda_check_limit("binding count", out->binding_count,
                                IRHAL_CUDA_MAX_BINDINGS);
}

static irt_status_t irhal_cuda_read_def(const irvm_fb_table_t* root,
                                        const irhal_cuda_limits_t* limits,
                                        irhal_cuda_executable_def_t* def) {
  irvm_fb_vector_t exports, modules;
  IRT_RETURN_IF_ERROR_CTX(
      irvm_fb_table_vector(root, IRHAL_CUDA_EXECUTABLE_EXPORTS, 4, 4, &exports),
      "exports");
  IRT_RETURN_IF_ERROR_CTX(
      irvm_fb_table_vector(root, IRHAL_CUDA_EXECUTABLE_MODULES, 4, 4, &modules),
      "modules");
  // Counts are bounded by the verified buffer (4 bytes per element).
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      def->allocator, modules.count + 1, sizeof(*def->ptx_images),
      (void**)&def->ptx_images));
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc_array(def->allocator, exports.count + 1,
                                 sizeof(*def->exports), (void**)&def->exports));
  for (uint32_t i = 0; i < modules.count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        irhal_cuda_read_module(&modules, i, &def->ptx_images[i]),
        "modules[%" PRIu32 "]", i);
    def->module_count = i + 1;
  }
  for (uint32_t i = 0; i < exports.count; ++i) {
    IRT_RETURN_IF_ERROR_CTX(irhal_cuda_read_export(&exports, i, modules.count,
                                                   limits, &def->exports[i]),
                            "exports[%" PRIu32 "]", i);
    def->export_count = i + 1;
  }
  return IRT_OK;
}

irt_status_t irhal_cuda_executable_def_parse(
    const uint8_t* data, size_t size, const irhal_cuda_limits_t* limits,
    irt_allocator_t allocator, irhal_cuda_executable_def_t* out_def) {
  memset(out_def, 0, sizeof(*out_def));
  out_def->allocator = allocator;
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_executable_container_open(data, size, IRHAL_CUDA_IDENTIFIER,
                                      &reader, &root),
      "CUDA executable");
  irt_status_t status = irhal_cuda_read_def(&root, limits, out_def);
  if (status) {
    irhal_cuda_executable_def_deinitialize(out_def);
    return irt_status_annotate(status, "CUDA executable");
  }
  return IRT_OK;
}

void irhal_cuda_executable_def_deinitialize(irhal_cuda_executable_def_t* def) {
  irt_allocator_free(def->allocator, def->ptx_images);
  irt_allocator_free(def->allocator, def->exports);
  def->ptx_images = NULL;
  def->exports = NULL;
  def->module_count = def->export_count = 0;
}
