// Writes CUDA executables in the format v3.11 modules embed (HAL spec 6,
// 8.2): the 64-byte container header ("CDA1", version 0) and an
// `iree.hal.cuda` ExecutableDef FlatBuffer of PTX modules and exports. The
// test fixtures package nvcc's PTX with it; add the result to a module with
// irvm_builder_add_executable-style rodata (format "cuda-nvptx-fb").
#ifndef IRVM_BUILDER_CUDA_EXECUTABLE_WRITER_H
#define IRVM_BUILDER_CUDA_EXECUTABLE_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

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
irt_status_t irvm_cuda_executable_write(
    const char* const* ptx_images, size_t module_count,
    const irvm_cuda_export_desc_t* exports, size_t export_count,
    irt_allocator_t allocator, uint8_t** out_data,
    size_t* out_size) IRT_MUST_USE;

#endif  // IRVM_BUILDER_CUDA_EXECUTABLE_WRITER_H
