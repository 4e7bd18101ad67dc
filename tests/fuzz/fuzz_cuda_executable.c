// libFuzzer target for the CUDA executable format reader
// (hal/cuda/cuda_executable_def.h: the CDA1 container and the iree.hal.cuda
// ExecutableDef). Nothing may read out of bounds, leak or trip UBSan, and
// everything an accepted executable references must lie within the input
// with in-range ordinals. Built with -Dfuzzing=true (clang); seed it with
// the executable of the CUDA fixtures, e.g. the `fixture_dispatch.fb` entry
// of build/tests/fixtures/ops_cuda.vmfb:
//   build-fuzz/tests/fuzz/fuzz_cuda_executable CORPUS SEEDS
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hal/cuda/cuda_executable_def.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void fuzz_check(bool condition) {
  if (!condition) __builtin_trap();
}

// A NUL-terminated string inside the input.
static bool fuzz_string_within(const uint8_t* data, size_t size,
                               irt_string_view_t text) {
  const uint8_t* start = (const uint8_t*)text.data;
  return start >= data && text.size < size &&
         (size_t)(start - data) < size - text.size && start[text.size] == 0 &&
         memchr(start, 0, text.size) == NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  irhal_cuda_limits_t limits = {{1024, 1024, 64}, 227 << 10};
  irhal_cuda_executable_def_t def;
  irt_status_t status = irhal_cuda_executable_def_parse(
      data, size, &limits, irt_allocator_system(), &def);
  if (status) {
    irt_status_free(status);
    return 0;
  }
  for (uint32_t i = 0; i < def.module_count; ++i) {
    fuzz_check(def.ptx_images[i].size > 0 &&
               fuzz_string_within(data, size, def.ptx_images[i]));
  }
  for (uint32_t i = 0; i < def.export_count; ++i) {
    const irhal_cuda_export_def_t* e = &def.exports[i];
    fuzz_check(e->module_ordinal < def.module_count);
    fuzz_check(e->kernel_name.size > 0 &&
               fuzz_string_within(data, size, e->kernel_name));
    for (int d = 0; d < 3; ++d) {
      fuzz_check(e->block_dims[d] >= 1 &&
                 e->block_dims[d] <= limits.max_block_dims[d]);
    }
    fuzz_check(e->constant_count <= IRHAL_CUDA_MAX_CONSTANTS &&
               e->binding_count <= IRHAL_CUDA_MAX_BINDINGS);
  }
  irhal_cuda_executable_def_deinitialize(&def);
  return 0;
}
