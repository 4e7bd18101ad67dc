// Timeline semaphores: payload rules, failure, blocking waits with
// deadlines, one-shot notifications, and all of it under concurrency.
//
// Single-threaded tests count allocations; the threaded ones use the system
// heap (the counting allocator is not thread-safe) and rely on the
// sanitizer builds for leaks and races.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "hal/semaphore.h"
#include "tests/support/counting_fixture.h"

static irhal_semaphore_t* create(uint64_t value, irt_allocator_t host) {
  irhal_semaphore_t* semaphore = NULL;
  assert_null(irhal_semaphore_create(value, host, &semaphore));
  return semaphore;
}

static uint64_t query_value(irhal_semaphore_t* semaphore) {
  uint64_t value = 0;
  assert_null(irhal_semaphore_query(semaphore, &value));
  return value;
}

//===----------------------------------------------------------------------===//
// Payloads and failure
//===----------------------------------------------------------------------===//

static void test_create_and_signal(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(5, allocator());
  assert_int_equal(query_value(semaphore), 5);
  assert_null(irhal_semaphore_signal(semaphore, 6));
  assert_null(irhal_semaphore_signal(semaphore, 100));
  assert_int_equal(query_value(semaphore), 100);
  // Payloads strictly increase and stay below the failure threshold.
  assert_code(irhal_semaphore_signal(semaphore, 100), IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_semaphore_signal(semaphore, 99), IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_semaphore_signal(semaphore, IRHAL_SEMAPHORE_FAILURE_VALUE),
              IRT_STATUS_OUT_OF_RANGE);
  assert_null(irhal_semaphore_signal(semaphore, IRHAL_SEMAPHORE_MAX_VALUE));
  assert_int_equal(query_value(semaphore), IRHAL_SEMAPHORE_MAX_VALUE);
  assert_string_equal(irhal_semaphore_type()->name, "hal.semaphore");
  irhal_semaphore_release(semaphore);
}

static void test_create_errors(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = (irhal_semaphore_t*)1;
  assert_code(irhal_semaphore_create(IRHAL_SEMAPHORE_MAX_VALUE + 1, allocator(),
                                     &semaphore),
              IRT_STATUS_OUT_OF_RANGE);
  assert_null(semaphore);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_semaphore_create(0, allocator(), &semaphore),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
}

static void test_fail_keeps_first_status(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  irhal_semaphore_fail(semaphore,
                       irt_make_status(IRT_STATUS_ABORTED, "first failure"));
  irhal_semaphore_fail(semaphore,
                       irt_make_status(IRT_STATUS_INTERNAL, "second failure"));
  uint64_t value = 0;
  for (int i = 0; i < 2; ++i) {  // every query gets its own copy
    irt_status_t status = irhal_semaphore_query(semaphore, &value);
    assert_int_equal(irt_status_code(status), IRT_STATUS_ABORTED);
    assert_string_equal(irt_status_message(status), "first failure");
    irt_status_free(status);
    assert_true(value >= IRHAL_SEMAPHORE_FAILURE_VALUE);
  }
  irt_status_t status = irhal_semaphore_signal(semaphore, 1);
  assert_int_equal(irt_status_code(status), IRT_STATUS_ABORTED);
  irt_status_free(status);
  assert_code(irhal_semaphore_wait(semaphore, 1, INT64_MAX),
              IRT_STATUS_ABORTED);
  // Even values the semaphore "reached" before failing report the failure.
  assert_code(irhal_semaphore_wait(semaphore, 0, 0), IRT_STATUS_ABORTED);
  irhal_semaphore_release(semaphore);
}

static void test_fail_without_status(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  irhal_semaphore_fail(semaphore, IRT_OK);
  uint64_t value = 0;
  assert_code(irhal_semaphore_query(semaphore, &value), IRT_STATUS_UNKNOWN);
  irhal_semaphore_release(semaphore);
}

//===----------------------------------------------------------------------===//
// Waits
//===----------------------------------------------------------------------===//

static void test_wait_reached_and_poll(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(3, allocator());
  assert_null(irhal_semaphore_wait(semaphore, 3, 0));
  assert_null(irhal_semaphore_wait(semaphore, 1, INT64_MAX));
  assert_code(irhal_semaphore_wait(semaphore, 4, 0),
              IRT_STATUS_DEADLINE_EXCEEDED);
  assert_code(irhal_semaphore_wait(semaphore, 4, -5),
              IRT_STATUS_DEADLINE_EXCEEDED);
  assert_code(irhal_semaphore_wait(semaphore, 4, irhal_time_now_ns() - 1000),
              IRT_STATUS_DEADLINE_EXCEEDED);
  irhal_semaphore_release(semaphore);
}

static void test_wait_times_out_after_deadline(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  int64_t start = irhal_time_now_ns();
  int64_t deadline = irhal_deadline_after_ms(20);
  assert_true(deadline >= start + 20000000);
  assert_code(irhal_semaphore_wait(semaphore, 1, deadline),
              IRT_STATUS_DEADLINE_EXCEEDED);
  assert_true(irhal_time_now_ns() >= deadline);
  irhal_semaphore_release(semaphore);
}

static void test_deadline_helpers(void** state) {
  (void)state;
  assert_int_equal(irhal_deadline_after_ms(UINT32_MAX), INT64_MAX);
  assert_int_equal(irhal_deadline_after_ms(0), 0);
  int64_t now = irhal_time_now_ns();
  assert_true(now > 0);
  int64_t deadline = irhal_deadline_after_ms(UINT32_MAX - 1);
  assert_true(deadline >= now + (int64_t)(UINT32_MAX - 1) * 1000000);
}

//===----------------------------------------------------------------------===//
// Notifications
//===----------------------------------------------------------------------===//

typedef struct {
  int calls;
  irt_status_code_t code;
  irhal_semaphore_t* query_from_callback;  // queried inside (no deadlock)
  uint64_t queried_value;
  int order[8];
  int order_count;
} notify_log_t;

static void log_callback(void* user_data, irt_status_t status) {
  notify_log_t* log = user_data;
  ++log->calls;
  log->code = irt_status_consume_code(status);
  if (log->query_from_callback) {
    irt_status_ignore(
        irhal_semaphore_query(log->query_from_callback, &log->queried_value));
  }
}

typedef struct {
  notify_log_t* log;
  int id;
} ordered_entry_t;

static void ordered_callback(void* user_data, irt_status_t status) {
  ordered_entry_t* entry = user_data;
  irt_status_free(status);
  entry->log->order[entry->log->order_count++] = entry->id;
}

static void test_notify_when_already_due(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(2, allocator());
  notify_log_t log = {0};
  size_t before = counter.total_allocations;
  assert_null(irhal_semaphore_notify(semaphore, 2, log_callback, &log));
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.code, IRT_STATUS_OK);
  assert_int_equal(counter.total_allocations, before);  // nothing to store
  irhal_semaphore_fail(semaphore, irt_make_status(IRT_STATUS_CANCELLED, "x"));
  assert_null(irhal_semaphore_notify(semaphore, 100, log_callback, &log));
  assert_int_equal(log.calls, 2);
  assert_int_equal(log.code, IRT_STATUS_CANCELLED);
  irhal_semaphore_release(semaphore);
}

static void test_notify_on_signal_in_order(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  notify_log_t log = {0};
  ordered_entry_t entries[4] = {{&log, 0}, {&log, 1}, {&log, 2}, {&log, 3}};
  const uint64_t values[4] = {2, 1, 2, 5};
  for (int i = 0; i < 4; ++i) {
    assert_null(irhal_semaphore_notify(semaphore, values[i], ordered_callback,
                                       &entries[i]));
  }
  assert_int_equal(log.order_count, 0);
  assert_null(irhal_semaphore_signal(semaphore, 1));
  assert_int_equal(log.order_count, 1);
  assert_int_equal(log.order[0], 1);
  assert_null(irhal_semaphore_signal(semaphore, 4));
  assert_int_equal(log.order_count, 3);
  assert_int_equal(log.order[1], 0);  // registration order among the due
  assert_int_equal(log.order[2], 2);
  assert_null(irhal_semaphore_signal(semaphore, 5));
  assert_int_equal(log.order_count, 4);
  assert_int_equal(log.order[3], 3);
  irhal_semaphore_release(semaphore);
}

static void test_notify_runs_outside_the_lock(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  notify_log_t log = {.query_from_callback = semaphore};
  assert_null(irhal_semaphore_notify(semaphore, 1, log_callback, &log));
  assert_null(irhal_semaphore_signal(semaphore, 1));
  assert_int_equal(log.calls, 1);
  assert_int_equal(log.queried_value, 1);
  irhal_semaphore_release(semaphore);
}

// Re-entrant use: the callback registers another notification and signals
// the semaphore again.
typedef struct {
  irhal_semaphore_t* semaphore;
  int calls;
} reentrant_t;

static void reentrant_callback(void* user_data, irt_status_t status) {
  reentrant_t* r = user_data;
  irt_status_free(status);
  if (++r->calls < 3) {
    assert_null(irhal_semaphore_notify(r->semaphore, (uint64_t)r->calls + 1,
                                       reentrant_callback, r));
    assert_null(irhal_semaphore_signal(r->semaphore, (uint64_t)r->calls + 1));
  }
}

static void test_notify_reentrant(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  reentrant_t r = {semaphore, 0};
  assert_null(irhal_semaphore_notify(semaphore, 1, reentrant_callback, &r));
  assert_null(irhal_semaphore_signal(semaphore, 1));
  assert_int_equal(r.calls, 3);
  assert_int_equal(query_value(semaphore), 3);
  irhal_semaphore_release(semaphore);
}

static void test_fail_delivers_to_every_notification(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  notify_log_t a = {0};
  notify_log_t b = {0};
  assert_null(irhal_semaphore_notify(semaphore, 1, log_callback, &a));
  assert_null(irhal_semaphore_notify(semaphore, 7, log_callback, &b));
  irhal_semaphore_fail(semaphore,
                       irt_make_status(IRT_STATUS_DATA_LOSS, "disk gone"));
  assert_int_equal(a.calls, 1);
  assert_int_equal(a.code, IRT_STATUS_DATA_LOSS);
  assert_int_equal(b.calls, 1);
  assert_int_equal(b.code, IRT_STATUS_DATA_LOSS);
  // Nothing is left to run later.
  irhal_semaphore_fail(semaphore, irt_make_status(IRT_STATUS_ABORTED, "y"));
  assert_int_equal(a.calls + b.calls, 2);
  irhal_semaphore_release(semaphore);
}

static void test_notification_keeps_semaphore_alive(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  notify_log_t log = {0};
  assert_null(irhal_semaphore_notify(semaphore, 1, log_callback, &log));
  irhal_semaphore_release(semaphore);  // the notification's reference remains
  assert_int_not_equal(counter.live_allocations, 0);
  assert_null(irhal_semaphore_signal(semaphore, 1));
  assert_int_equal(log.calls, 1);
  // Teardown checks the semaphore was destroyed with the notification.
}

static void test_notify_allocation_failure(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, allocator());
  notify_log_t log = {0};
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_semaphore_notify(semaphore, 1, log_callback, &log),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_null(irhal_semaphore_signal(semaphore, 1));
  assert_int_equal(log.calls, 0);  // an error return means "never called"
  irhal_semaphore_release(semaphore);
}

// An allocator that signals or fails a semaphore right before allocating:
// reproduces a notification becoming due while notify allocates its node.
static irhal_semaphore_t* interfering_semaphore;
static bool interfering_fail;

static void* interfering_realloc(void* self, void* ptr, size_t size) {
  irhal_semaphore_t* semaphore = interfering_semaphore;
  interfering_semaphore = NULL;
  if (semaphore && interfering_fail) {
    irhal_semaphore_fail(semaphore, irt_make_status(IRT_STATUS_ABORTED, "x"));
  } else if (semaphore) {
    irt_status_free(irhal_semaphore_signal(semaphore, 1));
  }
  irt_allocator_t base = allocator();
  return base.vtable->realloc(base.self, ptr, size);
}

static void interfering_free(void* self, void* ptr) {
  irt_allocator_free(allocator(), ptr);
}

static const irt_allocator_vtable_t interfering_vtable = {
    .realloc = interfering_realloc,
    .free = interfering_free,
};

static void test_notify_due_while_allocating(void** state) {
  (void)state;
  irt_allocator_t host = {&interfering_vtable, NULL};
  for (int fail = 0; fail < 2; ++fail) {
    irhal_semaphore_t* semaphore = create(0, host);
    notify_log_t log = {0};
    interfering_fail = fail;
    interfering_semaphore = semaphore;
    assert_null(irhal_semaphore_notify(semaphore, 1, log_callback, &log));
    assert_null(interfering_semaphore);  // the race happened
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.code, fail ? IRT_STATUS_ABORTED : IRT_STATUS_OK);
    irhal_semaphore_release(semaphore);
  }
}

//===----------------------------------------------------------------------===//
// Concurrency
//===----------------------------------------------------------------------===//

#define THREADS 8

typedef struct {
  irhal_semaphore_t* semaphore;
  uint64_t value;
  int64_t deadline;
  irt_status_code_t code;
} waiter_t;

static void* wait_thread(void* arg) {
  waiter_t* w = arg;
  w->code = irt_status_consume_code(
      irhal_semaphore_wait(w->semaphore, w->value, w->deadline));
  return NULL;
}

static void test_threads_wait_for_increasing_signals(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, irt_allocator_system());
  pthread_t threads[THREADS];
  waiter_t waiters[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    waiters[i] = (waiter_t){semaphore, (uint64_t)(i % 4) + 1, INT64_MAX, -1};
    pthread_create(&threads[i], NULL, wait_thread, &waiters[i]);
  }
  for (uint64_t v = 1; v <= 4; ++v) {
    assert_null(irhal_semaphore_signal(semaphore, v));
  }
  for (int i = 0; i < THREADS; ++i) {
    pthread_join(threads[i], NULL);
    assert_int_equal(waiters[i].code, IRT_STATUS_OK);
  }
  irhal_semaphore_release(semaphore);
}

static void test_threads_observe_failure(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, irt_allocator_system());
  pthread_t threads[THREADS];
  waiter_t waiters[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    // Half block forever, half with a generous deadline.
    waiters[i] = (waiter_t){
        semaphore, 10, i % 2 ? INT64_MAX : irhal_deadline_after_ms(60000), -1};
    pthread_create(&threads[i], NULL, wait_thread, &waiters[i]);
  }
  assert_null(irhal_semaphore_signal(semaphore, 1));
  irhal_semaphore_fail(semaphore,
                       irt_make_status(IRT_STATUS_UNAVAILABLE, "device lost"));
  for (int i = 0; i < THREADS; ++i) {
    pthread_join(threads[i], NULL);
    assert_int_equal(waiters[i].code, IRT_STATUS_UNAVAILABLE);
  }
  irhal_semaphore_release(semaphore);
}

static void test_threads_time_out(void** state) {
  (void)state;
  irhal_semaphore_t* semaphore = create(0, irt_allocator_system());
  pthread_t threads[THREADS];
  waiter_t waiters[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    waiters[i] = (waiter_t){semaphore, 1, irhal_deadline_after_ms(10), -1};
    pthread_create(&threads[i], NULL, wait_thread, &waiters[i]);
  }
  for (int i = 0; i < THREADS; ++i) {
    pthread_join(threads[i], NULL);
    assert_int_equal(waiters[i].code, IRT_STATUS_DEADLINE_EXCEEDED);
  }
  irhal_semaphore_release(semaphore);
}

// Two threads alternate through two semaphores: each waits for its turn and
// signals the other's.
#define PING_PONG_ROUNDS 2000

typedef struct {
  irhal_semaphore_t* mine;
  irhal_semaphore_t* theirs;
  uint64_t first;
  bool ok;
} ping_pong_t;

static void* ping_pong_thread(void* arg) {
  ping_pong_t* p = arg;
  p->ok = true;
  for (uint64_t v = p->first; v < p->first + 2 * PING_PONG_ROUNDS; v += 2) {
    irt_status_t status = irhal_semaphore_wait(p->mine, v, INT64_MAX);
    if (!status) status = irhal_semaphore_signal(p->theirs, v + 1);
    if (status) {
      irt_status_free(status);
      p->ok = false;
      return NULL;
    }
  }
  return NULL;
}

static void test_threads_ping_pong(void** state) {
  (void)state;
  irhal_semaphore_t* a = create(0, irt_allocator_system());
  irhal_semaphore_t* b = create(0, irt_allocator_system());
  // a carries odd values to thread 1, b even values to thread 2.
  ping_pong_t one = {a, b, 1, false};
  ping_pong_t two = {b, a, 2, false};
  pthread_t threads[2];
  pthread_create(&threads[0], NULL, ping_pong_thread, &one);
  pthread_create(&threads[1], NULL, ping_pong_thread, &two);
  assert_null(irhal_semaphore_signal(a, 1));
  pthread_join(threads[0], NULL);
  pthread_join(threads[1], NULL);
  assert_true(one.ok);
  assert_true(two.ok);
  assert_int_equal(query_value(b), 2 * PING_PONG_ROUNDS);
  irhal_semaphore_release(a);
  irhal_semaphore_release(b);
}

// Many threads register notifications while others signal and finally one
// fails the semaphore: every notification runs exactly once.
#define NOTIFIES_PER_THREAD 500

typedef struct {
  atomic_int calls;
  atomic_int failures;
  atomic_int unexpected;  // signal errors other than losing a race
} notify_counts_t;

static notify_counts_t notify_counts;

static void counting_callback(void* user_data, irt_status_t status) {
  atomic_int* slot = user_data;
  if (status) atomic_fetch_add(&notify_counts.failures, 1);
  irt_status_free(status);
  atomic_fetch_add(slot, 1);
  atomic_fetch_add(&notify_counts.calls, 1);
}

typedef struct {
  irhal_semaphore_t* semaphore;
  atomic_int slots[NOTIFIES_PER_THREAD];
  int thread_index;
} notifier_t;

static void* notify_thread(void* arg) {
  notifier_t* n = arg;
  for (int i = 0; i < NOTIFIES_PER_THREAD; ++i) {
    uint64_t value = (uint64_t)(i * 7 + n->thread_index) % 300 + 1;
    irt_status_t status = irhal_semaphore_notify(
        n->semaphore, value, counting_callback, &n->slots[i]);
    if (status) {
      irt_status_free(status);
      atomic_store(&n->slots[i], -1000);
    }
  }
  return NULL;
}

static void* signal_thread(void* arg) {
  irhal_semaphore_t* semaphore = arg;
  for (uint64_t v = 1; v <= 200; ++v) {
    // Several signallers race: losing a race is OUT_OF_RANGE, not an error.
    uint64_t current = 0;
    irt_status_t status = irhal_semaphore_query(semaphore, &current);
    if (status || current >= v) {
      irt_status_free(status);
      continue;
    }
    status = irhal_semaphore_signal(semaphore, v);
    if (status && irt_status_code(status) != IRT_STATUS_OUT_OF_RANGE) {
      atomic_fetch_add(&notify_counts.unexpected, 1);
    }
    irt_status_free(status);
  }
  return NULL;
}

static void test_threads_notify_exactly_once(void** state) {
  (void)state;
  atomic_store(&notify_counts.calls, 0);
  atomic_store(&notify_counts.failures, 0);
  atomic_store(&notify_counts.unexpected, 0);
  irhal_semaphore_t* semaphore = create(0, irt_allocator_system());
  static notifier_t notifiers[THREADS];
  pthread_t threads[THREADS + 2];
  for (int i = 0; i < THREADS; ++i) {
    notifiers[i].semaphore = semaphore;
    notifiers[i].thread_index = i;
    for (int j = 0; j < NOTIFIES_PER_THREAD; ++j) {
      atomic_init(&notifiers[i].slots[j], 0);
    }
    pthread_create(&threads[i], NULL, notify_thread, &notifiers[i]);
  }
  pthread_create(&threads[THREADS], NULL, signal_thread, semaphore);
  pthread_create(&threads[THREADS + 1], NULL, signal_thread, semaphore);
  for (int i = 0; i < THREADS + 2; ++i) pthread_join(threads[i], NULL);
  // Values above 200 are still pending: failing runs them.
  irhal_semaphore_fail(semaphore, irt_make_status(IRT_STATUS_ABORTED, "stop"));
  assert_int_equal(atomic_load(&notify_counts.calls),
                   THREADS * NOTIFIES_PER_THREAD);
  assert_true(atomic_load(&notify_counts.failures) > 0);
  assert_int_equal(atomic_load(&notify_counts.unexpected), 0);
  for (int i = 0; i < THREADS; ++i) {
    for (int j = 0; j < NOTIFIES_PER_THREAD; ++j) {
      assert_int_equal(atomic_load(&notifiers[i].slots[j]), 1);
    }
  }
  irhal_semaphore_release(semaphore);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_create_and_signal, setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fail_keeps_first_status, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_fail_without_status, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wait_reached_and_poll, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wait_times_out_after_deadline, setup,
                                      teardown),
      cmocka_unit_test(test_deadline_helpers),
      cmocka_unit_test_setup_teardown(test_notify_when_already_due, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_on_signal_in_order, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_runs_outside_the_lock, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_reentrant, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fail_delivers_to_every_notification,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_notification_keeps_semaphore_alive,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_notify_allocation_failure, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_notify_due_while_allocating, setup,
                                      teardown),
      cmocka_unit_test(test_threads_wait_for_increasing_signals),
      cmocka_unit_test(test_threads_observe_failure),
      cmocka_unit_test(test_threads_time_out),
      cmocka_unit_test(test_threads_ping_pong),
      cmocka_unit_test(test_threads_notify_exactly_once),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
