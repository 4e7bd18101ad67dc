// Writes GPU executables in the form v3.11 modules embed them (HAL spec 6):
// the 64-byte container header before a FlatBuffer, and for CUDA (spec
// 8.2) the whole `iree.hal.cuda` ExecutableDef ("CDA1") of PTX modules and
// exports. The test fixtures package their kernels with it.
#ifndef IRVM_BUILDER_GPU_EXECUTABLE_WRITER_H
#define IRVM_BUILDER_GPU_EXECUTABLE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// The container header for |identifier| ("VKE1", "CDA1"; version 0) followed
// by the |size| bytes of |content|, in *out_data (from |allocator|).
irt_status_t irvm_gpu_container_wrap(const char identifier[4],
                                     const uint8_t* content, size_t size,
                                     irt_allocator_t allocator,
                                     uint8_t** out_data,
                                     size_t* out_size) IRT_MUST_USE;

// One export (kernel): field values as the compiler writes them.
typedef struct irvm_cuda_export_desc_s {
  uint32_t module_ordinal;
  const char* kernel_name;  // the PTX .entry name
  uint32_t block_dims[3];   // threads per block (the workgroup size)
  uint32_t shared_memory_size;
  uint32_t constant_count;
  uint32_t binding_count;  // binding_flags entries (all 0: read-write)
} irvm_cuda_export_desc_t;

// |module_count| NUL-terminated PTX texts and |export_count| exports.
// *out_data (allocated from |allocator|, 16-byte aligned content start) holds
// *out_size bytes; free it with irt_allocator_free.
irt_status_t irvm_cuda_executable_write(const char* const* ptx_images,
                                        size_t module_count,
                                        const irvm_cuda_export_desc_t* exports,
                                        size_t export_count,
                                        irt_allocator_t allocator,
                                        uint8_t** out_data,
                                        size_t* out_size) IRT_MUST_USE;

#endif  // IRVM_BUILDER_GPU_EXECUTABLE_WRITER_H
