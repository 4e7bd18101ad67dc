// The kernel of the bundled sample model (sample_module.c): a hand-written
// CPU executable library (hal-abi.md 5.5-5.7) with one export that multiplies
// two f32 buffers elementwise. Built freestanding as a plain shared library
// and embedded into sample.vmfb as a `system-elf-<arch>` executable.
#include <stddef.h>
#include <stdint.h>

#include "hal/cpu/executable_library.h"

#define SAMPLE_EXPORT __attribute__((visibility("default")))

// Bindings: 0 = a, 1 = b, 2 = a * b. One workgroup does the whole
// dispatch; the element count follows from the result binding's length.
static int sample_mul_f32(
    const irhal_executable_environment_v0_t* environment,
    const irhal_executable_dispatch_state_v0_t* dispatch,
    const irhal_executable_workgroup_state_v0_t* workgroup) {
  (void)environment;
  (void)workgroup;
  size_t length = dispatch->binding_lengths[2];
  if (dispatch->binding_lengths[0] < length ||
      dispatch->binding_lengths[1] < length) {
    return 1;
  }
  const float* a = dispatch->binding_ptrs[0];
  const float* b = dispatch->binding_ptrs[1];
  float* result = dispatch->binding_ptrs[2];
  for (size_t i = 0; i < length / sizeof(float); ++i) result[i] = a[i] * b[i];
  return 0;
}

static const irhal_executable_library_header_t kHeader = {
    .version = IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6,
    .name = "sample_dispatch_0",
};
static const irhal_executable_dispatch_v0_t kFunctions[] = {sample_mul_f32};
static const irhal_executable_dispatch_attrs_v0_t kAttrs[] = {
    {.binding_count = 3,
     .workgroup_size_x = 1,
     .workgroup_size_y = 1,
     .workgroup_size_z = 1},
};
static const char* const kNames[] = {"sample_dispatch_0_mul_f32"};

static const irhal_executable_library_v0_t kLibrary = {
    .header = &kHeader,
    .exports = {.count = 1,
                .ptrs = kFunctions,
                .attrs = kAttrs,
                .names = kNames},
};

SAMPLE_EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version, const irhal_executable_environment_v0_t* environment);

SAMPLE_EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version,
    const irhal_executable_environment_v0_t* environment) {
  (void)environment;
  if (max_version < IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6) return NULL;
  return (const irhal_executable_library_header_t**)&kLibrary;
}
