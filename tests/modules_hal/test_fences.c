// hal.fence.*: creation, joins, host signals and failures, and awaits that
// poll, time out, block until another thread signals, or fail.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "tests/modules_hal/hal_fixture.h"

static int setup(void** state) {
  hal_fixture_t* fixture = malloc(sizeof(*fixture));
  hal_fixture_init(fixture);
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  hal_fixture_deinit(*state);
  free(*state);
  return 0;
}

static irvm_ref_t fence_create(hal_fixture_t* fixture) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, 0);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "fence.create", &args, &results));
  irvm_ref_t fence = hal_results_ref(&results);
  assert_ptr_equal(fence.type, irhal_fence_type());
  return fence;
}

static int32_t fence_query(hal_fixture_t* fixture, irvm_ref_t fence) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, fence);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "fence.query", &args, &results));
  return hal_results_i32(&results);
}

static irt_status_t fence_signal(hal_fixture_t* fixture, irvm_ref_t fence) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, fence);
  return hal_call(fixture, "fence.signal", &args, NULL);
}

static void fence_fail(hal_fixture_t* fixture, irvm_ref_t fence, int32_t code) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, fence);
  hal_args_i32(&args, code);
  HAL_OK(hal_call(fixture, "fence.fail", &args, NULL));
}

static void pack_fences(hal_args_t* args, const irvm_ref_t* fences,
                        uint32_t count) {
  irvm_abi_span_t span = hal_args_span(args, count, "r");
  for (uint32_t i = 0; i < count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    hal_span_ref(&element, fences[i]);
  }
}

static irt_status_t fence_await(hal_fixture_t* fixture, uint32_t timeout_ms,
                                const irvm_ref_t* fences, uint32_t count,
                                int32_t* out_result) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i32(&args, (int32_t)timeout_ms);
  hal_args_i64(&args, 0);
  pack_fences(&args, fences, count);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "fence.await", &args, &results));
  *out_result = hal_results_i32(&results);
  return IRT_OK;
}

static irvm_ref_t fence_join(hal_fixture_t* fixture, const irvm_ref_t* fences,
                             uint32_t count) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i64(&args, 0);
  pack_fences(&args, fences, count);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "fence.join", &args, &results));
  return hal_results_ref(&results);
}

static void test_create_query_signal(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t fence = fence_create(fixture);
  irhal_fence_t* hal_fence = irhal_fence_deref(&fence);
  assert_int_equal(irhal_fence_timepoint_count(hal_fence), 1);
  irhal_semaphore_t* semaphore = NULL;
  uint64_t value = 0;
  irhal_fence_timepoint(hal_fence, 0, &semaphore, &value);
  assert_int_equal(value, 1);
  HAL_OK(irhal_semaphore_query(semaphore, &value));
  assert_int_equal(value, 0);

  assert_int_equal(fence_query(fixture, fence), IRT_STATUS_DEFERRED);
  HAL_OK(fence_signal(fixture, fence));
  assert_int_equal(fence_query(fixture, fence), IRT_STATUS_OK);
  // Payloads strictly increase.
  HAL_ERROR(fence_signal(fixture, fence), IRT_STATUS_OUT_OF_RANGE, NULL);
  // Every fence.create makes a new semaphore.
  irvm_ref_t other = fence_create(fixture);
  irhal_semaphore_t* other_semaphore = NULL;
  irhal_fence_timepoint(irhal_fence_deref(&other), 0, &other_semaphore, &value);
  assert_ptr_not_equal(other_semaphore, semaphore);
  irvm_ref_release(&other);
  irvm_ref_release(&fence);
}

static void test_await(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t fences[3] = {fence_create(fixture), irvm_ref_null(),
                          fence_create(fixture)};
  int32_t result = -1;
  HAL_OK(fence_await(fixture, 0, fences, 3, &result));  // poll
  assert_int_equal(result, IRT_STATUS_DEADLINE_EXCEEDED);
  HAL_OK(fence_signal(fixture, fences[0]));
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  HAL_OK(fence_await(fixture, 20, fences, 3, &result));
  clock_gettime(CLOCK_MONOTONIC, &end);
  assert_int_equal(result, IRT_STATUS_DEADLINE_EXCEEDED);
  int64_t waited_ms = (end.tv_sec - start.tv_sec) * 1000 +
                      (end.tv_nsec - start.tv_nsec) / 1000000;
  assert_true(waited_ms >= 15);
  HAL_OK(fence_signal(fixture, fences[2]));
  HAL_OK(fence_await(fixture, UINT32_MAX, fences, 3, &result));
  assert_int_equal(result, IRT_STATUS_OK);
  // Null fences and empty lists are reached.
  HAL_OK(fence_await(fixture, 0, fences + 1, 1, &result));
  assert_int_equal(result, IRT_STATUS_OK);
  HAL_OK(fence_await(fixture, 0, NULL, 0, &result));
  assert_int_equal(result, IRT_STATUS_OK);

  // At most 32 fences; entries must be fences.
  irvm_ref_t many[33];
  for (int i = 0; i < 33; ++i) many[i] = fences[0];
  HAL_OK(fence_await(fixture, 0, many, 32, &result));
  assert_int_equal(result, IRT_STATUS_OK);
  HAL_ERROR(fence_await(fixture, 0, many, 33, &result), IRT_STATUS_OUT_OF_RANGE,
            "33 fences");
  irvm_ref_t text = hal_vm_text(fixture, "fence");
  irvm_ref_t mixed[2] = {fences[0], text};
  HAL_ERROR(fence_await(fixture, 0, mixed, 2, &result),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'fences[1]'");
  irvm_ref_release(&text);
  irvm_ref_release(&fences[0]);
  irvm_ref_release(&fences[2]);
}

typedef struct signal_later_s {
  irhal_fence_t* fence;
  irt_status_t status;
} signal_later_t;

static void* signal_later(void* user_data) {
  signal_later_t* later = user_data;
  struct timespec delay = {0, 20 * 1000 * 1000};
  nanosleep(&delay, NULL);
  later->status = irhal_fence_signal(later->fence);
  return NULL;
}

static void test_await_blocks_until_signalled(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t fence = fence_create(fixture);
  signal_later_t later = {irhal_fence_deref(&fence), IRT_OK};
  pthread_t thread;
  assert_int_equal(pthread_create(&thread, NULL, signal_later, &later), 0);
  int32_t result = -1;
  HAL_OK(fence_await(fixture, UINT32_MAX, &fence, 1, &result));
  assert_int_equal(result, IRT_STATUS_OK);
  pthread_join(thread, NULL);
  HAL_OK(later.status);
  irvm_ref_release(&fence);
}

static void test_fail(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t fences[2] = {fence_create(fixture), fence_create(fixture)};
  fence_fail(fixture, fences[1], 0x20 | IRT_STATUS_INTERNAL);  // masked
  assert_int_equal(fence_query(fixture, fences[1]), IRT_STATUS_INTERNAL);
  // A failure fails the await itself, even behind a pending fence that
  // would time out first.
  int32_t result = -1;
  HAL_ERROR(fence_await(fixture, 0, fences, 2, &result), IRT_STATUS_INTERNAL,
            "status 13");
  // Failing with OK still fails (waiters must wake up and see an error).
  fence_fail(fixture, fences[0], 0);
  assert_int_equal(fence_query(fixture, fences[0]), IRT_STATUS_UNKNOWN);
  HAL_ERROR(fence_await(fixture, UINT32_MAX, fences, 1, &result),
            IRT_STATUS_UNKNOWN, NULL);
  irvm_ref_release(&fences[0]);
  irvm_ref_release(&fences[1]);
}

static void test_join(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t nulls[2] = {irvm_ref_null(), irvm_ref_null()};
  irvm_ref_t joined = fence_join(fixture, NULL, 0);
  assert_true(irvm_ref_is_null(&joined));  // empty: "already reached"
  joined = fence_join(fixture, nulls, 2);
  assert_true(irvm_ref_is_null(&joined));

  irvm_ref_t fences[3] = {fence_create(fixture), irvm_ref_null(),
                          fence_create(fixture)};
  fences[1] = fences[0];  // a repeated semaphore keeps one timepoint
  joined = fence_join(fixture, fences, 3);
  assert_ptr_equal(joined.type, irhal_fence_type());
  assert_int_equal(irhal_fence_timepoint_count(irhal_fence_deref(&joined)), 2);
  assert_int_equal(fence_query(fixture, joined), IRT_STATUS_DEFERRED);
  HAL_OK(fence_signal(fixture, fences[0]));
  assert_int_equal(fence_query(fixture, joined), IRT_STATUS_DEFERRED);
  HAL_OK(fence_signal(fixture, fences[2]));
  assert_int_equal(fence_query(fixture, joined), IRT_STATUS_OK);
  irvm_ref_release(&joined);

  irvm_ref_t text = hal_vm_text(fixture, "fence");
  irvm_ref_t mixed[2] = {fences[0], text};
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i64(&args, 0);
  pack_fences(&args, mixed, 2);
  HAL_ERROR(hal_call(fixture, "fence.join", &args, NULL),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'fences[1]'");
  irvm_ref_release(&text);
  irvm_ref_release(&fences[0]);
  irvm_ref_release(&fences[2]);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_query_signal, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_await, setup, teardown),
      cmocka_unit_test_setup_teardown(test_await_blocks_until_signalled, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_fail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_join, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
