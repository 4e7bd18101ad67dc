// CUDA executables (HAL spec 6, 8): the `cuda-nvptx-fb` format, a container
// header and an `iree.hal.cuda` FlatBuffer (identifier CDA1) holding PTX
// modules and one export per kernel. Modules are JIT-compiled by the driver
// when the executable is created.
#ifndef IRHAL_CUDA_CUDA_EXECUTABLE_H
#define IRHAL_CUDA_CUDA_EXECUTABLE_H

#include "hal/cuda/cuda_buffer.h"
#include "hal/cuda/cuda_executable_def.h"
#include "hal/executable.h"
#include "runtime/base/string_view.h"

// The JIT error log handed to cuModuleLoadDataEx.
#define IRHAL_CUDA_JIT_LOG_SIZE 8192

// What a launch needs of one export.
typedef struct irhal_cuda_kernel_s {
  CUfunction function;
  uint32_t block_dims[3];
  uint32_t shared_memory_size;
  uint32_t constant_count;
  uint32_t binding_count;
} irhal_cuda_kernel_t;

bool irhal_cuda_executable_format_supported(irt_string_view_t format);

// Verifies |data| (hal/cuda/cuda_executable_def.h, against the context's
// limits) and loads its modules into |context|. The bytes
// are not aliased once this returns.
irt_status_t irhal_cuda_executable_create(
    irhal_cuda_context_t* context, const uint8_t* data, size_t size,
    irhal_executable_t** out_executable) IRT_MUST_USE;

// Export |ordinal| of a CUDA executable; NULL for other executables.
const irhal_cuda_kernel_t* irhal_cuda_executable_kernel(
    const irhal_executable_t* executable, uint32_t ordinal);

#endif  // IRHAL_CUDA_CUDA_EXECUTABLE_H
