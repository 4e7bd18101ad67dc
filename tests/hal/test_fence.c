// Fences: timepoint sets, join, query, signal, fail, waits on several
// semaphores and fence-level notifications, single-threaded and under
// concurrency.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hal/fence.h"
#include "tests/support/counting_fixture.h"

static irhal_semaphore_t* create_semaphore(uint64_t value,
                                           irt_allocator_t host) {
  irhal_semaphore_t* semaphore = NULL;
  assert_null(irhal_semaphore_create(value, host, &semaphore));
  return semaphore;
}

static uint64_t query_value(irhal_semaphore_t* semaphore) {
  uint64_t value = 0;
  irt_status_free(irhal_semaphore_query(semaphore, &value));
  return value;
}

// A fence over |count| new semaphores at 0 with targets 1..count. The fence
// holds the only references; |out| borrows them.
static irhal_fence_t* create_fence(uint32_t count, irt_allocator_t host,
                                   irhal_semaphore_t** out) {
  irhal_fence_t* fence = NULL;
  assert_null(irhal_fence_create(0, host, &fence));
  for (uint32_t i = 0; i < count; ++i) {
    irhal_semaphore_t* semaphore = create_semaphore(0, host);
    assert_null(irhal_fence_insert(fence, semaphore, i + 1));
    irhal_semaphore_release(semaphore);
    if (out) out[i] = semaphore;
  }
  return fence;
}

//===----------------------------------------------------------------------===//
// Timepoint sets
//===----------------------------------------------------------------------===//

static void test_insert_dedupes_keeping_max(void** state) {
  (void)state;
  irhal_semaphore_t* a = create_semaphore(0, allocator());
  irhal_semaphore_t* b = create_semaphore(0, allocator());
  irhal_fence_t* fence = NULL;
  assert_null(irhal_fence_create(1, allocator(), &fence));
  assert_int_equal(irhal_fence_timepoint_count(fence), 0);
  assert_null(irhal_fence_insert(fence, a, 5));
  assert_null(irhal_fence_insert(fence, b, 2));  // grows past capacity 1
  assert_null(irhal_fence_insert(fence, a, 3));
  assert_null(irhal_fence_insert(fence, b, 9));
  assert_int_equal(irhal_fence_timepoint_count(fence), 2);
  irhal_semaphore_t* semaphore = NULL;
  uint64_t value = 0;
  irhal_fence_timepoint(fence, 0, &semaphore, &value);
  assert_ptr_equal(semaphore, a);
  assert_int_equal(value, 5);
  irhal_fence_timepoint(fence, 1, &semaphore, &value);
  assert_ptr_equal(semaphore, b);
  assert_int_equal(value, 9);
  irhal_semaphore_release(a);
  irhal_semaphore_release(b);
  assert_int_not_equal(counter.live_allocations, 0);  // the fence holds them
  irvm_ref_t ref = irvm_ref_wrap(fence, irhal_fence_type());
  assert_ptr_equal(irhal_fence_deref(&ref), fence);
  assert_string_equal(irhal_fence_type()->name, "hal.fence");
  irvm_ref_release(&ref);
}

static void test_insert_grows_many(void** state) {
  (void)state;
  irhal_semaphore_t* semaphores[40];
  irhal_fence_t* fence = create_fence(40, allocator(), semaphores);
  assert_int_equal(irhal_fence_timepoint_count(fence), 40);
  for (uint32_t i = 0; i < 40; ++i) {
    irhal_semaphore_t* semaphore = NULL;
    uint64_t value = 0;
    irhal_fence_timepoint(fence, i, &semaphore, &value);
    assert_ptr_equal(semaphore, semaphores[i]);
    assert_int_equal(value, i + 1);
  }
  irhal_fence_release(fence);
}

static void test_create_errors(void** state) {
  (void)state;
  irhal_fence_t* fence = (irhal_fence_t*)1;
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_fence_create(0, allocator(), &fence),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(fence);
  counter.fail_after = counter.total_allocations + 1;  // the timepoints
  assert_code(irhal_fence_create(4, allocator(), &fence),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  for (size_t n = 0; n < 3; ++n) {  // semaphore, fence, timepoints
    counter.fail_after = counter.total_allocations + n;
    assert_code(irhal_fence_create_single(allocator(), &fence),
                IRT_STATUS_RESOURCE_EXHAUSTED);
  }
  // Growth failure keeps the fence intact.
  counter.fail_after = SIZE_MAX;
  irhal_semaphore_t* semaphore = create_semaphore(0, allocator());
  assert_null(irhal_fence_create(0, allocator(), &fence));
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_fence_insert(fence, semaphore, 1),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_int_equal(irhal_fence_timepoint_count(fence), 0);
  irhal_fence_release(fence);
  irhal_semaphore_release(semaphore);
}

static void test_create_single(void** state) {
  (void)state;
  irhal_fence_t* fence = NULL;
  assert_null(irhal_fence_create_single(allocator(), &fence));
  assert_int_equal(irhal_fence_timepoint_count(fence), 1);
  irhal_semaphore_t* semaphore = NULL;
  uint64_t value = 0;
  irhal_fence_timepoint(fence, 0, &semaphore, &value);
  assert_int_equal(value, 1);
  assert_int_equal(query_value(semaphore), 0);
  assert_code(irhal_fence_query(fence), IRT_STATUS_DEFERRED);
  assert_null(irhal_fence_signal(fence));
  assert_null(irhal_fence_query(fence));
  irhal_fence_release(fence);
}

static void test_join(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* f1 = create_fence(2, allocator(), s);  // s0:1 s1:2
  irhal_fence_t* f2 = NULL;
  assert_null(irhal_fence_create(0, allocator(), &f2));
  s[2] = create_semaphore(0, allocator());
  assert_null(irhal_fence_insert(f2, s[1], 7));
  assert_null(irhal_fence_insert(f2, s[2], 3));
  assert_null(irhal_fence_insert(f2, s[0], 1));
  irhal_semaphore_release(s[2]);
  irhal_fence_t* empty = NULL;
  assert_null(irhal_fence_create(0, allocator(), &empty));

  irhal_fence_t* list[4] = {f1, NULL, f2, empty};
  irhal_fence_t* joined = NULL;
  assert_null(irhal_fence_join(list, 4, allocator(), &joined));
  assert_int_equal(irhal_fence_timepoint_count(joined), 3);
  const uint64_t expected[3] = {1, 7, 3};
  for (uint32_t i = 0; i < 3; ++i) {
    irhal_semaphore_t* semaphore = NULL;
    uint64_t value = 0;
    irhal_fence_timepoint(joined, i, &semaphore, &value);
    assert_ptr_equal(semaphore, s[i]);
    assert_int_equal(value, expected[i]);
  }
  irhal_fence_release(joined);

  // Nothing to join: null, not an empty fence.
  irhal_fence_t* nothing[3] = {NULL, empty, NULL};
  joined = (irhal_fence_t*)1;
  assert_null(irhal_fence_join(nothing, 3, allocator(), &joined));
  assert_null(joined);
  assert_null(irhal_fence_join(NULL, 0, allocator(), &joined));
  assert_null(joined);

  for (size_t n = 0; n < 2; ++n) {
    counter.fail_after = counter.total_allocations + n;
    assert_code(irhal_fence_join(list, 4, allocator(), &joined),
                IRT_STATUS_RESOURCE_EXHAUSTED);
    assert_null(joined);
  }
  counter.fail_after = SIZE_MAX;
  irhal_fence_release(f1);
  irhal_fence_release(f2);
  irhal_fence_release(empty);
}

//===----------------------------------------------------------------------===//
// Query, signal, fail
//===----------------------------------------------------------------------===//

static void test_null_fence_is_reached(void** state) {
  (void)state;
  assert_int_equal(irhal_fence_timepoint_count(NULL), 0);
  assert_null(irhal_fence_query(NULL));
  assert_null(irhal_fence_signal(NULL));
  assert_null(irhal_fence_wait(NULL, 0));
  irhal_fence_fail(NULL, irt_make_status(IRT_STATUS_ABORTED, "freed"));
}

static void test_query_signal_fail(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* fence = create_fence(3, allocator(), s);
  assert_code(irhal_fence_query(fence), IRT_STATUS_DEFERRED);
  assert_null(irhal_semaphore_signal(s[0], 1));
  assert_null(irhal_semaphore_signal(s[1], 5));  // beyond its target
  assert_code(irhal_fence_query(fence), IRT_STATUS_DEFERRED);
  assert_null(irhal_semaphore_signal(s[2], 3));
  assert_null(irhal_fence_query(fence));

  // Signalling again is not an increase.
  assert_code(irhal_fence_signal(fence), IRT_STATUS_OUT_OF_RANGE);
  irhal_fence_release(fence);

  fence = create_fence(3, allocator(), s);
  assert_null(irhal_fence_signal(fence));
  assert_int_equal(query_value(s[0]), 1);
  assert_int_equal(query_value(s[2]), 3);
  irhal_fence_release(fence);

  // A failure wins over pending timepoints.
  fence = create_fence(3, allocator(), s);
  irhal_semaphore_fail(s[2], irt_make_status(IRT_STATUS_INTERNAL, "boom"));
  assert_code(irhal_fence_query(fence), IRT_STATUS_INTERNAL);
  irhal_fence_fail(fence, irt_make_status(IRT_STATUS_CANCELLED, "stop"));
  uint64_t value = 0;
  assert_code(irhal_semaphore_query(s[0], &value), IRT_STATUS_CANCELLED);
  assert_code(irhal_semaphore_query(s[1], &value), IRT_STATUS_CANCELLED);
  assert_code(irhal_semaphore_query(s[2], &value), IRT_STATUS_INTERNAL);
  assert_code(irhal_fence_signal(fence), IRT_STATUS_CANCELLED);
  irhal_fence_release(fence);
}

//===----------------------------------------------------------------------===//
// Waits
//===----------------------------------------------------------------------===//

static void test_wait_single_thread_cases(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* fence = create_fence(3, allocator(), s);
  assert_code(irhal_fence_wait(fence, 0), IRT_STATUS_DEADLINE_EXCEEDED);
  // Several pending with a short deadline: the allocated waiter path.
  assert_code(irhal_fence_wait(fence, irhal_deadline_after_ms(5)),
              IRT_STATUS_DEADLINE_EXCEEDED);
  assert_null(irhal_semaphore_signal(s[0], 1));
  assert_null(irhal_semaphore_signal(s[1], 2));
  // One pending: a plain semaphore wait, nothing allocated.
  size_t before = counter.total_allocations;
  assert_code(irhal_fence_wait(fence, irhal_deadline_after_ms(5)),
              IRT_STATUS_DEADLINE_EXCEEDED);
  assert_int_equal(counter.total_allocations, before);
  assert_null(irhal_semaphore_signal(s[2], 3));
  before = counter.total_allocations;
  assert_null(irhal_fence_wait(fence, INT64_MAX));
  assert_null(irhal_fence_wait(fence, 0));
  assert_int_equal(counter.total_allocations, before);
  irhal_fence_release(fence);
}

static void test_wait_fails_fast_on_any_failure(void** state) {
  (void)state;
  irhal_semaphore_t* s[2];
  irhal_fence_t* fence = create_fence(2, allocator(), s);
  // s0 never signals; s1 failed: an infinite wait still returns.
  irhal_semaphore_fail(s[1], irt_make_status(IRT_STATUS_ABORTED, "upstream"));
  assert_code(irhal_fence_wait(fence, INT64_MAX), IRT_STATUS_ABORTED);
  irhal_fence_release(fence);
}

static void test_wait_many_allocation_failures(void** state) {
  (void)state;
  irhal_semaphore_t* s[2];
  irhal_fence_t* fence = create_fence(2, allocator(), s);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_fence_wait(fence, INT64_MAX),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = counter.total_allocations + 1;  // notify state
  assert_code(irhal_fence_wait(fence, INT64_MAX),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  // A semaphore notification fails: delivered as the wait's result.
  counter.fail_after = counter.total_allocations + 2;
  assert_code(irhal_fence_wait(fence, INT64_MAX),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  // Only the second fails: the first stays registered after the waiter
  // left, and signalling drains it.
  counter.fail_after = counter.total_allocations + 3;
  assert_code(irhal_fence_wait(fence, INT64_MAX),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_null(irhal_fence_signal(fence));
  irhal_fence_release(fence);
}

//===----------------------------------------------------------------------===//
// Notify
//===----------------------------------------------------------------------===//

typedef struct {
  int calls;
  irt_status_code_t code;
} notify_log_t;

static void log_callback(void* user_data, irt_status_t status) {
  notify_log_t* log = user_data;
  ++log->calls;
  log->code = irt_status_consume_code(status);
}

static void test_notify_empty_and_single(void** state) {
  (void)state;
  notify_log_t log = {0};
  assert_null(irhal_fence_notify(NULL, log_callback, &log));
  assert_int_equal(log.calls, 1);
  irhal_fence_t* fence = create_fence(0, allocator(), NULL);
  assert_null(irhal_fence_notify(fence, log_callback, &log));
  assert_int_equal(log.calls, 2);
  irhal_fence_release(fence);

  irhal_semaphore_t* s[1];
  fence = create_fence(1, allocator(), s);
  log = (notify_log_t){0};
  assert_null(irhal_fence_notify(fence, log_callback, &log));
  assert_int_equal(log.calls, 0);
  assert_null(irhal_fence_signal(fence));
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, IRT_STATUS_OK);
  irhal_fence_release(fence);
}

static void test_notify_counts_down(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* fence = create_fence(3, allocator(), s);
  assert_null(irhal_semaphore_signal(s[1], 2));  // already reached: fine
  notify_log_t log = {0};
  assert_null(irhal_fence_notify(fence, log_callback, &log));
  assert_null(irhal_semaphore_signal(s[0], 1));
  assert_int_equal(log.calls, 0);
  assert_null(irhal_semaphore_signal(s[2], 3));
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, IRT_STATUS_OK);
  irhal_fence_release(fence);
}

static void test_notify_first_failure_wins(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* fence = create_fence(3, allocator(), s);
  notify_log_t log = {0};
  assert_null(irhal_fence_notify(fence, log_callback, &log));
  irhal_semaphore_fail(s[1], irt_make_status(IRT_STATUS_DATA_LOSS, "first"));
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, IRT_STATUS_DATA_LOSS);
  irhal_semaphore_fail(s[0], irt_make_status(IRT_STATUS_ABORTED, "second"));
  assert_null(irhal_semaphore_signal(s[2], 3));
  assert_int_equal(log.calls, 1);
  irhal_fence_release(fence);  // teardown: the shared state was freed
}

static void test_notify_registration_failure(void** state) {
  (void)state;
  irhal_semaphore_t* s[3];
  irhal_fence_t* fence = create_fence(3, allocator(), s);
  notify_log_t log = {0};
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_fence_notify(fence, log_callback, &log),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_int_equal(log.calls, 0);  // an error return means "never called"
  // State and the first node allocate; the second node fails.
  counter.fail_after = counter.total_allocations + 2;
  assert_null(irhal_fence_notify(fence, log_callback, &log));
  counter.fail_after = SIZE_MAX;
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(irhal_fence_signal(fence));  // drains what did register
  assert_int_equal(log.calls, 1);
  irhal_fence_release(fence);
}

//===----------------------------------------------------------------------===//
// Concurrency
//===----------------------------------------------------------------------===//

#define THREADS 8

typedef struct {
  irhal_semaphore_t* semaphore;
  uint64_t value;
  bool fail;
} signaller_t;

static void* signal_thread(void* arg) {
  signaller_t* s = arg;
  if (s->fail) {
    irhal_semaphore_fail(s->semaphore,
                         irt_make_status(IRT_STATUS_UNAVAILABLE, "lost"));
  } else {
    irt_status_free(irhal_semaphore_signal(s->semaphore, s->value));
  }
  return NULL;
}

static void run_signallers(irhal_semaphore_t** s, int fail_index,
                           pthread_t* threads, signaller_t* signallers) {
  for (int i = 0; i < THREADS; ++i) {
    signallers[i] = (signaller_t){s[i], (uint64_t)i + 1, i == fail_index};
    pthread_create(&threads[i], NULL, signal_thread, &signallers[i]);
  }
}

static void join_all(pthread_t* threads) {
  for (int i = 0; i < THREADS; ++i) pthread_join(threads[i], NULL);
}

static void test_threads_wait_all(void** state) {
  (void)state;
  for (int round = 0; round < 50; ++round) {
    irhal_semaphore_t* s[THREADS];
    irhal_fence_t* fence = create_fence(THREADS, irt_allocator_system(), s);
    pthread_t threads[THREADS];
    signaller_t signallers[THREADS];
    run_signallers(s, -1, threads, signallers);
    assert_null(irhal_fence_wait(fence, INT64_MAX));
    join_all(threads);
    irhal_fence_release(fence);
  }
}

static void test_threads_wait_sees_failure(void** state) {
  (void)state;
  for (int round = 0; round < 50; ++round) {
    irhal_semaphore_t* s[THREADS];
    irhal_fence_t* fence = create_fence(THREADS, irt_allocator_system(), s);
    pthread_t threads[THREADS];
    signaller_t signallers[THREADS];
    run_signallers(s, round % THREADS, threads, signallers);
    assert_code(irhal_fence_wait(fence, INT64_MAX), IRT_STATUS_UNAVAILABLE);
    join_all(threads);
    irhal_fence_release(fence);
  }
}

static void test_threads_wait_timeout_then_signal(void** state) {
  (void)state;
  // The waiter leaves on timeout; the late notification must still be safe.
  irhal_semaphore_t* s[THREADS];
  irhal_fence_t* fence = create_fence(THREADS, irt_allocator_system(), s);
  assert_code(irhal_fence_wait(fence, irhal_deadline_after_ms(5)),
              IRT_STATUS_DEADLINE_EXCEEDED);
  pthread_t threads[THREADS];
  signaller_t signallers[THREADS];
  run_signallers(s, -1, threads, signallers);
  join_all(threads);
  assert_null(irhal_fence_query(fence));
  irhal_fence_release(fence);
}

typedef struct {
  atomic_int calls;
  atomic_int code;
} atomic_log_t;

static void atomic_callback(void* user_data, irt_status_t status) {
  atomic_log_t* log = user_data;
  atomic_store(&log->code, (int)irt_status_consume_code(status));
  atomic_fetch_add(&log->calls, 1);
}

static void test_threads_notify_exactly_once(void** state) {
  (void)state;
  for (int round = 0; round < 100; ++round) {
    irhal_semaphore_t* s[THREADS];
    irhal_fence_t* fence = create_fence(THREADS, irt_allocator_system(), s);
    pthread_t threads[THREADS];
    signaller_t signallers[THREADS];
    atomic_log_t log;
    atomic_init(&log.calls, 0);
    atomic_init(&log.code, -1);
    // Odd rounds have one failing signaller; registration races the signals.
    int fail_index = round % 2 ? round % THREADS : -1;
    run_signallers(s, fail_index, threads, signallers);
    assert_null(irhal_fence_notify(fence, atomic_callback, &log));
    join_all(threads);
    assert_int_equal(atomic_load(&log.calls), 1);
    assert_int_equal(atomic_load(&log.code),
                     fail_index >= 0 ? IRT_STATUS_UNAVAILABLE : IRT_STATUS_OK);
    irhal_fence_release(fence);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_insert_dedupes_keeping_max, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_insert_grows_many, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_single, setup, teardown),
      cmocka_unit_test_setup_teardown(test_join, setup, teardown),
      cmocka_unit_test_setup_teardown(test_null_fence_is_reached, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_query_signal_fail, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wait_single_thread_cases, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wait_fails_fast_on_any_failure,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_wait_many_allocation_failures, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_empty_and_single, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_counts_down, setup, teardown),
      cmocka_unit_test_setup_teardown(test_notify_first_failure_wins, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_registration_failure, setup,
                                      teardown),
      cmocka_unit_test(test_threads_wait_all),
      cmocka_unit_test(test_threads_wait_sees_failure),
      cmocka_unit_test(test_threads_wait_timeout_then_signal),
      cmocka_unit_test(test_threads_notify_exactly_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
