#include "runtime/vm/builder/gpu_executable_writer.h"

#include <string.h>

#include "runtime/vm/builder/flatbuffer_builder.h"

#define IRVM_GPU_CONTAINER_HEADER_SIZE 64

irt_status_t irvm_gpu_container_wrap(const char identifier[4],
                                     const uint8_t* content, size_t size,
                                     irt_allocator_t allocator,
                                     uint8_t** out_data, size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  uint8_t* data = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, IRVM_GPU_CONTAINER_HEADER_SIZE + size, (void**)&data));
  memcpy(data, identifier, 4);  // magic; version 0, reserved bytes zero
  irvm_store_u64le(data + 8, size);
  if (size) memcpy(data + IRVM_GPU_CONTAINER_HEADER_SIZE, content, size);
  *out_data = data;
  *out_size = IRVM_GPU_CONTAINER_HEADER_SIZE + size;
  return IRT_OK;
}

static irt_status_t irvm_cuda_write_export(irvm_fb_builder_t* fbb,
                                           const irvm_cuda_export_desc_t* desc,
                                           irvm_fb_ref_t* out_ref) {
  irvm_fb_ref_t name = 0, flags = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_create_string(fbb, desc->kernel_name,
                                            strlen(desc->kernel_name), &name));
  uint64_t zeros[16] = {0};
  if (desc->binding_count > 16) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%u bindings exceed 16",
                           desc->binding_count);
  }
  IRT_RETURN_IF_ERROR(
      irvm_fb_create_vector(fbb, zeros, desc->binding_count, 8, 8, &flags));
  uint8_t dims[12];
  for (int i = 0; i < 3; ++i)
    irvm_store_u32le(dims + 4 * i, desc->block_dims[i]);
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_u32(fbb, 0, desc->module_ordinal, 0));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 1, name));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_struct(fbb, 2, dims, 12, 4));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_add_u32(fbb, 3, desc->shared_memory_size, 0));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_u32(fbb, 4, desc->constant_count, 0));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 5, flags));
  return irvm_fb_table_end(fbb, out_ref);
}

static irt_status_t irvm_cuda_write_root(irvm_fb_builder_t* fbb,
                                         const char* const* ptx_images,
                                         size_t module_count,
                                         const irvm_cuda_export_desc_t* exports,
                                         size_t export_count,
                                         irvm_fb_ref_t* out_root) {
  irvm_fb_ref_t refs[64];
  if (module_count > 64 || export_count > 64) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "at most 64 modules and 64 exports");
  }
  for (size_t i = 0; i < module_count; ++i) {
    irvm_fb_ref_t ptx = 0;
    IRT_RETURN_IF_ERROR(
        irvm_fb_create_string(fbb, ptx_images[i], strlen(ptx_images[i]), &ptx));
    IRT_RETURN_IF_ERROR(irvm_fb_table_begin(fbb));
    IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 0, ptx));
    IRT_RETURN_IF_ERROR(irvm_fb_table_end(fbb, &refs[i]));
  }
  irvm_fb_ref_t modules = 0, exports_ref = 0;
  IRT_RETURN_IF_ERROR(
      irvm_fb_create_offset_vector(fbb, refs, module_count, &modules));
  for (size_t i = 0; i < export_count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_cuda_write_export(fbb, &exports[i], &refs[i]));
  }
  IRT_RETURN_IF_ERROR(
      irvm_fb_create_offset_vector(fbb, refs, export_count, &exports_ref));
  IRT_RETURN_IF_ERROR(irvm_fb_table_begin(fbb));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 0, exports_ref));
  IRT_RETURN_IF_ERROR(irvm_fb_table_add_offset(fbb, 1, modules));
  return irvm_fb_table_end(fbb, out_root);
}

irt_status_t irvm_cuda_executable_write(const char* const* ptx_images,
                                        size_t module_count,
                                        const irvm_cuda_export_desc_t* exports,
                                        size_t export_count,
                                        irt_allocator_t allocator,
                                        uint8_t** out_data, size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  irvm_fb_builder_t fbb;
  irvm_fb_builder_init(&fbb, allocator);
  irvm_fb_ref_t root = 0;
  const uint8_t* content = NULL;
  size_t content_size = 0;
  irt_status_t status = irvm_cuda_write_root(&fbb, ptx_images, module_count,
                                             exports, export_count, &root);
  if (!status) {
    status = irvm_fb_finish(&fbb, root, "CDA1", false, &content, &content_size);
  }
  if (!status) {
    status = irvm_gpu_container_wrap("CDA1", content, content_size, allocator,
                                     out_data, out_size);
  }
  irvm_fb_builder_deinit(&fbb);
  return status;
}
