// hal.fence.* (HAL spec 1.5.10, 1.8.2).
#include "runtime/modules/hal/module_internal.h"

// Spec Appendix C: fences one fence.await may wait on.
#define IRMOD_HAL_MAX_AWAIT_FENCES 32

irt_status_t irmod_hal_fence_create(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_device(&args, "device");  // semaphores live on the host
  IRT_RETURN_IF_ERROR(args.status);
  irhal_fence_t* fence = NULL;
  IRT_RETURN_IF_ERROR(irhal_fence_create_single(
      irmod_hal_module(call)->host_allocator, &fence));
  irmod_hal_result_ref(call, fence, irhal_fence_type());
  return IRT_OK;
}

// Reads a list of fences (null entries allowed) into |fences|.
static irt_status_t irmod_hal_read_fences(irvm_abi_span_t span,
                                          irhal_fence_t** fences) {
  for (uint32_t i = 0; i < span.count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    void* fence = NULL;
    IRT_RETURN_IF_ERROR(irmod_hal_deref(irvm_abi_read_ref(&element),
                                        irhal_fence_type(), true, "fences", i,
                                        &fence));
    fences[i] = fence;
  }
  return IRT_OK;
}

irt_status_t irmod_hal_fence_join(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_i64(&args);  // flags
  irvm_abi_span_t span = irmod_hal_arg_span(&args, "r");
  irt_allocator_t host_allocator = irmod_hal_module(call)->host_allocator;
  irhal_fence_t** fences = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      host_allocator, span.count, sizeof(*fences), (void**)&fences));
  irhal_fence_t* joined = NULL;
  irt_status_t status = irmod_hal_read_fences(span, fences);
  if (irt_status_is_ok(status)) {
    // An empty union is NULL: a null fence, "already reached".
    status = irhal_fence_join(fences, span.count, host_allocator, &joined);
  }
  irt_allocator_free(host_allocator, fences);
  IRT_RETURN_IF_ERROR(status);
  irmod_hal_result_ref(call, joined, irhal_fence_type());
  return IRT_OK;
}

irt_status_t irmod_hal_fence_query(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_fence_t* fence = irmod_hal_arg_fence(&args, "fence");
  IRT_RETURN_IF_ERROR(args.status);
  // The status becomes the result (OK, DEFERRED or the failure's code);
  // the call itself never fails.
  irt_status_code_t code = irt_status_consume_code(irhal_fence_query(fence));
  irvm_abi_write_i32(&call->results, (int32_t)code);
  return IRT_OK;
}

irt_status_t irmod_hal_fence_signal(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_fence_t* fence = irmod_hal_arg_fence(&args, "fence");
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_fence_signal(fence);
}

irt_status_t irmod_hal_fence_fail(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_fence_t* fence = irmod_hal_arg_fence(&args, "fence");
  int32_t status_value = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  // Failing with OK would leave waiters unable to tell it from success, so
  // code 0 fails as UNKNOWN; waiters must still wake up.
  irt_status_code_t code = (irt_status_code_t)(status_value & 0x1F);
  if (code == IRT_STATUS_OK || code >= IRT_STATUS_CODE_COUNT) {
    code = IRT_STATUS_UNKNOWN;
  }
  irhal_fence_fail(fence, irt_make_status(code,
                                          "fence failed by the program with "
                                          "status %d",
                                          status_value & 0x1F));
  return IRT_OK;
}

// Returns the failure of the first failed fence, or OK (pending or reached
// fences are left to the wait).
static irt_status_t irmod_hal_first_failure(irhal_fence_t* const* fences,
                                            uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    irt_status_t status = irhal_fence_query(fences[i]);
    if (irt_status_code(status) == IRT_STATUS_DEFERRED) {
      irt_status_free(status);
      continue;
    }
    IRT_RETURN_IF_ERROR_CTX(status, "waiting on fences[%u]", i);
  }
  return IRT_OK;
}

// Waits for every fence until |deadline_ns|: OK, DEADLINE_EXCEEDED as
// *out_timed_out, or a semaphore failure as the returned status.
static irt_status_t irmod_hal_wait_fences(irhal_fence_t* const* fences,
                                          uint32_t count, int64_t deadline_ns,
                                          bool* out_timed_out) {
  *out_timed_out = false;
  // A failure anywhere fails the call even when an earlier fence would time
  // out first.
  IRT_RETURN_IF_ERROR(irmod_hal_first_failure(fences, count));
  for (uint32_t i = 0; i < count; ++i) {
    irt_status_t status = irhal_fence_wait(fences[i], deadline_ns);
    if (irt_status_code(status) == IRT_STATUS_DEADLINE_EXCEEDED) {
      irt_status_free(status);
      *out_timed_out = true;
      return irmod_hal_first_failure(fences + i, count - i);
    }
    IRT_RETURN_IF_ERROR_CTX(status, "waiting on fences[%u]", i);
  }
  return IRT_OK;
}

irt_status_t irmod_hal_fence_await(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  uint32_t timeout_ms = (uint32_t)irmod_hal_arg_i32(&args);
  // The deadline starts at entry, before any argument work.
  int64_t deadline_ns = irhal_deadline_after_ms(timeout_ms);
  (void)irmod_hal_arg_i64(&args);  // flags
  irvm_abi_span_t span = irmod_hal_arg_span(&args, "r");
  if (span.count > IRMOD_HAL_MAX_AWAIT_FENCES) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "fence.await given %u fences; at most %u are "
                           "supported",
                           span.count, IRMOD_HAL_MAX_AWAIT_FENCES);
  }
  irhal_fence_t* fences[IRMOD_HAL_MAX_AWAIT_FENCES];
  IRT_RETURN_IF_ERROR(irmod_hal_read_fences(span, fences));
  bool timed_out = false;
  IRT_RETURN_IF_ERROR(
      irmod_hal_wait_fences(fences, span.count, deadline_ns, &timed_out));
  irvm_abi_write_i32(&call->results,
                     timed_out ? IRT_STATUS_DEADLINE_EXCEEDED : IRT_STATUS_OK);
  return IRT_OK;
}
