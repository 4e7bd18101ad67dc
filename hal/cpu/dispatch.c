#include "hal/cpu/dispatch.h"

#include <sched.h>
#include <string.h>

#include "runtime/base/math.h"

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

// Local memory blocks handed out by irhal_cpu_dispatch_run are aligned for
// the widest vector loads generated code may use.
#define DISPATCH_LOCAL_MEMORY_ALIGNMENT 64

//===----------------------------------------------------------------------===//
// Floating-point environment (hal-abi.md 5.8 step 6)
//===----------------------------------------------------------------------===//

#if defined(__x86_64__)
typedef unsigned fp_state_t;
#define MXCSR_FTZ_DAZ 0x8040u
static fp_state_t fp_enter(void) {
  fp_state_t saved = _mm_getcsr();
  _mm_setcsr(saved | MXCSR_FTZ_DAZ);
  return saved;
}
static void fp_leave(fp_state_t saved) { _mm_setcsr(saved); }
#elif defined(__aarch64__)
typedef uint64_t fp_state_t;
#define FPCR_FZ_FZ16 0x1080000ull
static fp_state_t fp_enter(void) {
  fp_state_t saved;
  __asm__ volatile("mrs %0, fpcr" : "=r"(saved));
  fp_state_t flushed = saved | FPCR_FZ_FZ16;
  __asm__ volatile("msr fpcr, %0" : : "r"(flushed));
  return saved;
}
static void fp_leave(fp_state_t saved) {
  __asm__ volatile("msr fpcr, %0" : : "r"(saved));
}
#else
typedef int fp_state_t;
static fp_state_t fp_enter(void) { return 0; }
static void fp_leave(fp_state_t saved) { (void)saved; }
#endif

//===----------------------------------------------------------------------===//
// Preparation
//===----------------------------------------------------------------------===//

static irt_status_t dispatch_check_arguments(
    const irhal_cpu_dispatch_params_t* params,
    const irhal_executable_dispatch_attrs_v0_t* attrs, const char* name) {
  if (params->constant_count != attrs->constant_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of '%s' got %zu constants; the export "
                           "takes %u",
                           name, params->constant_count, attrs->constant_count);
  }
  if (params->binding_count != attrs->binding_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of '%s' got %zu bindings; the export "
                           "takes %u",
                           name, params->binding_count, attrs->binding_count);
  }
  if (params->constant_count && !params->constants) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of '%s' has no constant values", name);
  }
  if (params->binding_count &&
      (!params->binding_ptrs || !params->binding_lengths)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch of '%s' has no binding pointers/lengths",
                           name);
  }
  for (size_t i = 0; i < params->binding_count; ++i) {
    if (!params->binding_ptrs[i]) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "dispatch of '%s': binding %zu is NULL; all "
                             "bindings must have a valid pointer",
                             name, i);
    }
  }
  if (params->workgroup_count[2] > UINT16_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch of '%s': workgroup count z %u exceeds "
                           "65535",
                           name, params->workgroup_count[2]);
  }
  return IRT_OK;
}

static uint32_t size_or_one(uint32_t size) { return size ? size : 1; }

irt_status_t irhal_cpu_dispatch_prepare(
    const irhal_cpu_dispatch_params_t* params,
    irhal_cpu_dispatch_t* out_dispatch) {
  memset(out_dispatch, 0, sizeof(*out_dispatch));
  const irhal_cpu_library_t* library = params->library;
  uint32_t export_count = irhal_cpu_library_export_count(library);
  if (params->export_ordinal >= export_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch export ordinal %u is out of range; "
                           "library '%s' has %u exports",
                           params->export_ordinal,
                           irhal_cpu_library_name(library), export_count);
  }
  const irhal_executable_dispatch_attrs_v0_t* attrs =
      irhal_cpu_library_export_attrs(library, params->export_ordinal);
  const char* name =
      irhal_cpu_library_export_name(library, params->export_ordinal);
  IRT_RETURN_IF_ERROR(
      dispatch_check_arguments(params, attrs, name ? name : ""));

  uint64_t total = 0;
  if (!irt_mul_u64((uint64_t)params->workgroup_count[0],
                   params->workgroup_count[1], &total) ||
      !irt_mul_u64(total, params->workgroup_count[2], &total)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch grid %ux%ux%u has more workgroups than a "
                           "64-bit count holds",
                           params->workgroup_count[0],
                           params->workgroup_count[1],
                           params->workgroup_count[2]);
  }

  irhal_executable_dispatch_state_v0_t* state = &out_dispatch->state;
  state->workgroup_size_x = size_or_one(attrs->workgroup_size_x);
  state->workgroup_size_y = size_or_one(attrs->workgroup_size_y);
  state->workgroup_size_z = (uint16_t)size_or_one(attrs->workgroup_size_z);
  state->constant_count = attrs->constant_count;
  state->workgroup_count_x = params->workgroup_count[0];
  state->workgroup_count_y = params->workgroup_count[1];
  state->workgroup_count_z = (uint16_t)params->workgroup_count[2];
  uint32_t concurrency = params->max_concurrency ? params->max_concurrency : 1;
  state->max_concurrency =
      (uint8_t)(concurrency > UINT8_MAX ? UINT8_MAX : concurrency);
  state->binding_count = attrs->binding_count;
  state->constants = params->constants;
  state->binding_ptrs = params->binding_ptrs;
  state->binding_lengths = params->binding_lengths;

  out_dispatch->library = library;
  out_dispatch->export_ordinal = params->export_ordinal;
  out_dispatch->workgroup_total = total;
  out_dispatch->local_memory_size = (size_t)attrs->local_memory_pages *
                                    IRHAL_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Execution
//===----------------------------------------------------------------------===//

static irt_status_t dispatch_run_workgroups(
    const irhal_cpu_dispatch_t* dispatch, uint64_t first, uint64_t count,
    irhal_executable_workgroup_state_v0_t* workgroup) {
  const irhal_executable_dispatch_state_v0_t* state = &dispatch->state;
  uint64_t rest = first / state->workgroup_count_x;
  uint32_t x = (uint32_t)(first % state->workgroup_count_x);
  uint32_t y = (uint32_t)(rest % state->workgroup_count_y);
  uint32_t z = (uint32_t)(rest / state->workgroup_count_y);
  for (uint64_t i = 0; i < count; ++i) {
    workgroup->workgroup_id_x = x;
    workgroup->workgroup_id_y = y;
    workgroup->workgroup_id_z = (uint16_t)z;
    IRT_RETURN_IF_ERROR(irhal_cpu_library_run_workgroup(
        dispatch->library, dispatch->export_ordinal, state, workgroup));
    if (++x == state->workgroup_count_x) {
      x = 0;
      if (++y == state->workgroup_count_y) {
        y = 0;
        ++z;
      }
    }
  }
  return IRT_OK;
}

irt_status_t irhal_cpu_dispatch_run_range(const irhal_cpu_dispatch_t* dispatch,
                                          uint64_t first_workgroup,
                                          uint64_t workgroup_count,
                                          void* local_memory,
                                          size_t local_memory_size) {
  if (!irt_range_fits(first_workgroup, workgroup_count,
                      dispatch->workgroup_total)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "workgroup range [%llu, +%llu) is outside the "
                           "dispatch's %llu workgroups",
                           (unsigned long long)first_workgroup,
                           (unsigned long long)workgroup_count,
                           (unsigned long long)dispatch->workgroup_total);
  }
  if (workgroup_count == 0) return IRT_OK;
  if (local_memory_size < dispatch->local_memory_size ||
      (dispatch->local_memory_size && !local_memory)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "dispatch needs %zu bytes of workgroup local "
                           "memory; the worker has %zu",
                           dispatch->local_memory_size,
                           local_memory ? local_memory_size : 0);
  }
  int cpu = sched_getcpu();
  alignas(IRHAL_EXECUTABLE_ABI_ALIGNMENT)
      irhal_executable_workgroup_state_v0_t workgroup = {
          .processor_id = cpu < 0 ? 0 : (uint32_t)cpu,
          .local_memory = dispatch->local_memory_size ? local_memory : NULL,
          .local_memory_size = dispatch->local_memory_size
                                   ? (uint32_t)(local_memory_size > UINT32_MAX
                                                    ? UINT32_MAX
                                                    : local_memory_size)
                                   : 0,
      };
  fp_state_t saved = fp_enter();
  irt_status_t status = dispatch_run_workgroups(dispatch, first_workgroup,
                                                workgroup_count, &workgroup);
  fp_leave(saved);
  return status;
}

irt_status_t irhal_cpu_dispatch_run(irt_allocator_t allocator,
                                    const irhal_cpu_dispatch_params_t* params) {
  irhal_cpu_dispatch_t dispatch;
  IRT_RETURN_IF_ERROR(irhal_cpu_dispatch_prepare(params, &dispatch));
  if (dispatch.workgroup_total == 0) return IRT_OK;
  void* allocation = NULL;
  void* local_memory = NULL;
  if (dispatch.local_memory_size) {
    IRT_RETURN_IF_ERROR(irt_allocator_malloc(
        allocator,
        dispatch.local_memory_size + DISPATCH_LOCAL_MEMORY_ALIGNMENT - 1,
        &allocation));
    local_memory = (void*)irt_align_size((uintptr_t)allocation,
                                         DISPATCH_LOCAL_MEMORY_ALIGNMENT);
  }
  irt_status_t status =
      irhal_cpu_dispatch_run_range(&dispatch, 0, dispatch.workgroup_total,
                                   local_memory, dispatch.local_memory_size);
  irt_allocator_free(allocator, allocation);
  return status;
}
