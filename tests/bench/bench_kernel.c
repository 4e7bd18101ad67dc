// The compute benchmark's kernel: a CPU executable library (hal-abi.md
// 5.5-5.7) built freestanding as an embedded ELF. Export 0 computes
// out[i] = in[i] * 3 + 1 over one tile of constants[0] f32 elements per
// workgroup (tile x of the grid), so the tile size sets how much work each
// workgroup does against the cost of dispatching it.
#include <stddef.h>
#include <stdint.h>

#include "hal/cpu/executable_library.h"

#define BENCH_EXPORT __attribute__((visibility("default")))

static int bench_scale_tile(
    const irhal_executable_environment_v0_t* environment,
    const irhal_executable_dispatch_state_v0_t* dispatch,
    const irhal_executable_workgroup_state_v0_t* workgroup) {
  (void)environment;
  size_t tile = dispatch->constants[0];
  size_t first = (size_t)workgroup->workgroup_id_x * tile;
  size_t count = dispatch->binding_lengths[0] / sizeof(float);
  if (dispatch->binding_lengths[1] / sizeof(float) < count) return 1;
  if (first >= count) return 0;
  size_t end = first + tile < count ? first + tile : count;
  const float* in = dispatch->binding_ptrs[0];
  float* out = dispatch->binding_ptrs[1];
  for (size_t i = first; i < end; ++i) out[i] = in[i] * 3.0f + 1.0f;
  return 0;
}

static const irhal_executable_library_header_t kHeader = {
    .version = IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6,
    .name = "bench_dispatch_0",
};
static const irhal_executable_dispatch_v0_t kFunctions[] = {bench_scale_tile};
static const irhal_executable_dispatch_attrs_v0_t kAttrs[] = {
    {.constant_count = 1,
     .binding_count = 2,
     .workgroup_size_x = 1,
     .workgroup_size_y = 1,
     .workgroup_size_z = 1},
};
static const char* const kNames[] = {"bench_dispatch_0_scale_tile"};

static const irhal_executable_library_v0_t kLibrary = {
    .header = &kHeader,
    .exports = {.count = 1,
                .ptrs = kFunctions,
                .attrs = kAttrs,
                .names = kNames},
};

BENCH_EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version, const irhal_executable_environment_v0_t* environment);

BENCH_EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version,
    const irhal_executable_environment_v0_t* environment) {
  (void)environment;
  if (max_version < IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6) return NULL;
  return (const irhal_executable_library_header_t**)&kLibrary;
}
