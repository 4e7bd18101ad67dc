// A hand-written executable library exercising the ABI from the library side:
// built freestanding as an embedded ELF (no libc) and as a system library.
// It also carries what compiler output does not: an initializer
// (DT_INIT_ARRAY), symbol-based relocations (GOT and absolute pointers to an
// exported variable) and imports.
#include <stdint.h>

#include "hal/cpu/executable_library.h"
#include "tests/hal_cpu/fixture_library.h"

#define EXPORT __attribute__((visibility("default")))

// Set by the initializer; the query refuses to answer without it, proving
// that loaders run initializers.
static int initialized;

__attribute__((constructor)) static void fixture_initialize(void) {
  initialized = 1;
}

// Exported, hence preemptible: code reaches it through the GOT (GLOB_DAT)
// and calls_pointer holds its absolute address (R_X86_64_64 / ABS64);
// volatile keeps the compiler from folding the pointer away.
EXPORT uint32_t fixture_calls;
static uint32_t* volatile calls_pointer = &fixture_calls;

static uint32_t read_mxcsr(void) {
#if defined(__x86_64__)
  return __builtin_ia32_stmxcsr();
#else
  return 0;
#endif
}

static int check_state(const irhal_executable_environment_v0_t* environment,
                       const irhal_executable_dispatch_state_v0_t* dispatch,
                       const irhal_executable_workgroup_state_v0_t* workgroup) {
  if (((uintptr_t)environment | (uintptr_t)dispatch | (uintptr_t)workgroup) &
      (IRHAL_EXECUTABLE_ABI_ALIGNMENT - 1)) {
    return FIXTURE_ERROR_ALIGNMENT;
  }
  if (dispatch->workgroup_size_x != 4 || dispatch->workgroup_size_y != 2 ||
      dispatch->workgroup_size_z != 1) {
    return FIXTURE_ERROR_SIZES;
  }
  if (dispatch->constant_count != 2 || dispatch->binding_count != 2) {
    return FIXTURE_ERROR_COUNTS;
  }
  if (!environment->constants || environment->constants[0] != FIXTURE_PLAIN) {
    return FIXTURE_ERROR_ENVIRONMENT;
  }
  uint32_t x = workgroup->workgroup_id_x;
  uint32_t y = workgroup->workgroup_id_y;
  uint32_t z = workgroup->workgroup_id_z;
  if (x >= dispatch->workgroup_count_x || y >= dispatch->workgroup_count_y ||
      z >= dispatch->workgroup_count_z || workgroup->reserved != 0) {
    return FIXTURE_ERROR_IDS;
  }
  if (!workgroup->local_memory ||
      workgroup->local_memory_size < IRHAL_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE) {
    return FIXTURE_ERROR_LOCAL_MEMORY;
  }
  // Touch every byte of the required page (ASan sees overruns of heap
  // blocks) and check it reads back.
  volatile uint8_t* local = workgroup->local_memory;
  for (uint32_t i = 0; i < IRHAL_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE; ++i) {
    local[i] = (uint8_t)(i ^ x);
  }
  for (uint32_t i = 0; i < IRHAL_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE; ++i) {
    if (local[i] != (uint8_t)(i ^ x)) return FIXTURE_ERROR_LOCAL_MEMORY;
  }

  uint64_t linear = x + (uint64_t)dispatch->workgroup_count_x *
                            (y + (uint64_t)dispatch->workgroup_count_y * z);
  if ((linear + 1) * sizeof(uint32_t) > dispatch->binding_lengths[0] ||
      FIXTURE_STATS_COUNT * sizeof(uint32_t) > dispatch->binding_lengths[1]) {
    return FIXTURE_ERROR_BINDING_LENGTH;
  }
  uint32_t* out = dispatch->binding_ptrs[0];
  out[linear] = dispatch->constants[0] + x + 10 * y + 100 * z;
  uint32_t* stats = dispatch->binding_ptrs[1];
  ++fixture_calls;
  stats[FIXTURE_STATS_CALLS] = fixture_calls;
  stats[FIXTURE_STATS_CALLS_VIA_DATA] = *calls_pointer;
  stats[FIXTURE_STATS_MXCSR] = read_mxcsr();
  stats[FIXTURE_STATS_MAX_CONCURRENCY] = dispatch->max_concurrency;
  return 0;
}

static int fail_at_two(const irhal_executable_environment_v0_t* environment,
                       const irhal_executable_dispatch_state_v0_t* dispatch,
                       const irhal_executable_workgroup_state_v0_t* workgroup) {
  (void)environment;
  uint32_t* counter = dispatch->binding_ptrs[0];
  ++*counter;
  return workgroup->workgroup_id_x == 2 ? FIXTURE_FAIL_CODE : 0;
}

static int call_import(const irhal_executable_environment_v0_t* environment,
                       const irhal_executable_dispatch_state_v0_t* dispatch,
                       const irhal_executable_workgroup_state_v0_t* workgroup) {
  (void)workgroup;
  if (environment->import_funcs[0] != 0) return FIXTURE_ERROR_IMPORTS;
  return environment->import_thunk(environment->import_funcs[1],
                                   dispatch->binding_ptrs[0],
                                   (void*)environment->import_contexts[1], 0);
}

static const irhal_executable_library_header_t kHeader = {
    .version = IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6, .name = "fixture"};
static const irhal_executable_library_header_t kHeaderVersion5 = {
    .version = 5, .name = "fixture_v5"};
static const irhal_executable_library_header_t kHeaderThread = {
    .version = IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6,
    .name = "fixture_tsan",
    .sanitizer = IRHAL_EXECUTABLE_LIBRARY_SANITIZER_THREAD};
static const irhal_executable_library_header_t kHeaderFeatures = {
    .version = IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6,
    .name = "fixture_features",
    .features = 1};

static const irhal_executable_dispatch_v0_t kFunctions[] = {
    check_state, fail_at_two, call_import};
static const irhal_executable_dispatch_v0_t kNullFunctions[] = {0};
static const irhal_executable_dispatch_attrs_v0_t kAttrs[] = {
    {.local_memory_pages = 1,
     .constant_count = 2,
     .binding_count = 2,
     .workgroup_size_x = 4,
     .workgroup_size_y = 2,
     .workgroup_size_z = 1},
    {.binding_count = 1},
    {.binding_count = 1},
};
static const irhal_executable_dispatch_attrs_v0_t kTooManyBindings[] = {
    {.binding_count = 65}};
static const char* const kNames[] = {
    "fixture_check_state", "fixture_fail_at_two", "fixture_call_import"};
static const char* const kNullNames[] = {0};
static const char* const kImports[] = {FIXTURE_IMPORT_OPTIONAL,
                                       FIXTURE_IMPORT_REQUIRED};

#define EXPORTS(n, functions_, attrs_, names_) \
  { .count = (n), .ptrs = (functions_), .attrs = (attrs_), .names = (names_) }

static const irhal_executable_library_v0_t kLibraries[] = {
    [FIXTURE_PLAIN] = {.header = &kHeader,
                       .exports = EXPORTS(2, kFunctions, kAttrs, kNames),
                       .constants = {1}},
    [FIXTURE_IMPORTS] = {.header = &kHeader,
                         .imports = {2, kImports},
                         .exports = EXPORTS(3, kFunctions, kAttrs, kNames),
                         .constants = {1}},
    [FIXTURE_BAD_VERSION] = {.header = &kHeaderVersion5,
                             .exports = EXPORTS(1, kFunctions, kAttrs, kNames),
                             .constants = {1}},
    [FIXTURE_NO_ATTRS] = {.header = &kHeader,
                          .exports = EXPORTS(1, kFunctions, 0, kNames),
                          .constants = {1}},
    [FIXTURE_TOO_MANY_BINDINGS] = {.header = &kHeader,
                                   .exports = EXPORTS(1, kFunctions,
                                                      kTooManyBindings, kNames),
                                   .constants = {1}},
    [FIXTURE_NULL_NAME] = {.header = &kHeader,
                           .exports =
                               EXPORTS(1, kFunctions, kAttrs, kNullNames),
                           .constants = {1}},
    [FIXTURE_SANITIZER] = {.header = &kHeaderThread,
                           .exports = EXPORTS(1, kFunctions, kAttrs, kNames),
                           .constants = {1}},
    [FIXTURE_NULL_FUNCTION] = {.header = &kHeader,
                               .exports =
                                   EXPORTS(1, kNullFunctions, kAttrs, kNames),
                               .constants = {1}},
    [FIXTURE_FEATURES] = {.header = &kHeaderFeatures,
                          .exports = EXPORTS(1, kFunctions, kAttrs, kNames),
                          .constants = {1}},
};

EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version, const irhal_executable_environment_v0_t* environment);

EXPORT const irhal_executable_library_header_t**
iree_hal_executable_library_query(
    uint32_t max_version,
    const irhal_executable_environment_v0_t* environment) {
  if (!initialized || max_version != IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6) {
    return 0;
  }
  uint32_t variant = environment->constants ? environment->constants[0] : 0;
  if (variant >= FIXTURE_VARIANT_COUNT || variant == FIXTURE_QUERY_NULL) {
    return 0;
  }
  return (const irhal_executable_library_header_t**)&kLibraries[variant];
}
