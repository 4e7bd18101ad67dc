// The IREE CUDA executable format (`cuda-nvptx-fb`, HAL spec 6, 8.2-8.3)
// read into plain structures: PTX modules and one export per kernel.
// Parsing needs no GPU (so it is fuzzed on its own); a device's limits are
// checked when given.
#ifndef IRHAL_CUDA_CUDA_EXECUTABLE_DEF_H
#define IRHAL_CUDA_CUDA_EXECUTABLE_DEF_H

#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// Spec 8.3 limits of every CUDA executable.
#define IRHAL_CUDA_MAX_CONSTANTS 64
#define IRHAL_CUDA_MAX_BINDINGS 16

typedef struct irhal_cuda_export_def_s {
  uint32_t module_ordinal;        // < module_count
  irt_string_view_t kernel_name;  // non-empty, NUL-terminated in the data
  uint32_t block_dims[3];         // each >= 1
  uint32_t shared_memory_size;    // dynamic shared memory per block
  uint32_t constant_count;        // <= IRHAL_CUDA_MAX_CONSTANTS
  uint32_t binding_count;         // <= IRHAL_CUDA_MAX_BINDINGS
} irhal_cuda_export_def_t;

typedef struct irhal_cuda_executable_def_s {
  irt_allocator_t allocator;
  uint32_t module_count;
  irt_string_view_t* ptx_images;  // non-empty, NUL-terminated in the data
  uint32_t export_count;
  irhal_cuda_export_def_t* exports;
} irhal_cuda_executable_def_t;

// A device's limits (spec 8.3 step 1).
typedef struct irhal_cuda_limits_s {
  uint32_t max_block_dims[3];
  uint32_t max_shared_memory;  // opt-in maximum per block
} irhal_cuda_limits_t;

// Parses and verifies |size| bytes at |data| (container + ExecutableDef)
// against |limits| (NULL: only the format's own). |out_def| points into
// |data|, which must outlive it. INVALID_ARGUMENT naming the export or
// module on any violation (container errors as hal/executable_container.h
// lists them).
irt_status_t irhal_cuda_executable_def_parse(
    const uint8_t* data, size_t size, const irhal_cuda_limits_t* limits,
    irt_allocator_t allocator,
    irhal_cuda_executable_def_t* out_def) IRT_MUST_USE;
void irhal_cuda_executable_def_deinitialize(irhal_cuda_executable_def_t* def);

#endif  // IRHAL_CUDA_CUDA_EXECUTABLE_DEF_H
