// The local-task worker pool: task submission and draining, parallel-for
// coverage and slot exclusivity, failure, nesting inside tasks (every worker
// inside its own parallel-for at once) and idling without spinning.
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

// cmocka needs the headers above.
#include <cmocka.h>

#include "hal/cpu/task_pool.h"
#include "tests/hal_cpu_device/device_testing.h"

static irhal_cpu_task_pool_t* pool_create(uint32_t workers) {
  irhal_cpu_task_pool_t* pool = NULL;
  TEST_OK(irhal_cpu_task_pool_create(workers, irt_allocator_system(), &pool));
  assert_int_equal(irhal_cpu_task_pool_worker_count(pool), workers);
  return pool;
}

static void test_worker_count_limits(void** state) {
  (void)state;
  irhal_cpu_task_pool_t* pool = NULL;
  test_expect_status(
      irhal_cpu_task_pool_create(0, irt_allocator_system(), &pool),
      IRT_STATUS_OUT_OF_RANGE, "worker count 0 is not within 1..1024");
  test_expect_status(
      irhal_cpu_task_pool_create(IRHAL_CPU_TASK_POOL_MAX_WORKERS + 1,
                                 irt_allocator_system(), &pool),
      IRT_STATUS_OUT_OF_RANGE, "worker count 1025");
  assert_null(pool);
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  for (size_t fail = 0; fail < 2; ++fail) {
    counter.fail_after = fail;
    test_expect_status(
        irhal_cpu_task_pool_create(2, irt_counting_allocator(&counter), &pool),
        IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
    assert_int_equal(counter.live_allocations, 0);
  }
}

//===----------------------------------------------------------------------===//
// Tasks
//===----------------------------------------------------------------------===//

// A task that counts itself and, while |depth| > 0, submits a child.
typedef struct counted_task_s {
  irhal_cpu_task_t task;
  irhal_cpu_task_pool_t* pool;
  atomic_int* counter;
  int depth;
} counted_task_t;

static void counted_task_run(void* arg) {
  counted_task_t* task = arg;
  atomic_fetch_add(task->counter, 1);
  if (task->depth > 0) {
    counted_task_t* child = malloc(sizeof(*child));
    *child = *task;
    child->task.fn = counted_task_run;
    child->task.arg = child;
    --child->depth;
    irhal_cpu_task_pool_submit(task->pool, &child->task);
  }
  free(task);  // tasks may free themselves
}

static void submit_counted(irhal_cpu_task_pool_t* pool, atomic_int* counter,
                           int depth) {
  counted_task_t* task = malloc(sizeof(*task));
  *task = (counted_task_t){
      .task = {.fn = counted_task_run},
      .pool = pool,
      .counter = counter,
      .depth = depth,
  };
  task->task.arg = task;
  irhal_cpu_task_pool_submit(pool, &task->task);
}

// Destroy runs everything queued, including what queued tasks submit while
// the pool is stopping.
static void test_destroy_drains_tasks(void** state) {
  (void)state;
  for (uint32_t workers = 1; workers <= 4; workers += 3) {
    irhal_cpu_task_pool_t* pool = pool_create(workers);
    atomic_int counter;
    atomic_init(&counter, 0);
    for (int i = 0; i < 5000; ++i) submit_counted(pool, &counter, 0);
    for (int i = 0; i < 10; ++i) submit_counted(pool, &counter, 100);
    irhal_cpu_task_pool_destroy(pool);
    assert_int_equal(atomic_load(&counter), 5000 + 10 * 101);
  }
}

//===----------------------------------------------------------------------===//
// Parallel-for
//===----------------------------------------------------------------------===//

#define RANGE_MAX 20000

typedef struct range_state_s {
  uint32_t slot_limit;
  atomic_uchar visits[RANGE_MAX];
  atomic_bool slot_busy[IRHAL_CPU_TASK_POOL_MAX_WORKERS + 1];
  atomic_int calls;
  atomic_bool violation;
  uint64_t fail_at;  // UINT64_MAX: never
} range_state_t;

static range_state_t* range_state_create(uint32_t slot_limit) {
  range_state_t* range = calloc(1, sizeof(*range));
  range->slot_limit = slot_limit;
  range->fail_at = UINT64_MAX;
  return range;
}

static irt_status_t range_visit(void* arg, uint32_t slot, uint64_t first,
                                uint64_t count) {
  range_state_t* range = arg;
  atomic_fetch_add(&range->calls, 1);
  if (slot >= range->slot_limit ||
      atomic_exchange(&range->slot_busy[slot], 1)) {
    atomic_store(&range->violation, true);
  }
  irt_status_t status = IRT_OK;
  for (uint64_t i = first; i < first + count; ++i) {
    atomic_fetch_add(&range->visits[i], 1);
    if (i == range->fail_at) {
      status = irt_make_status(IRT_STATUS_DATA_LOSS, "item %llu failed",
                               (unsigned long long)i);
    }
  }
  atomic_store(&range->slot_busy[slot < range->slot_limit ? slot : 0], 0);
  return status;
}

static void range_expect_each_once(range_state_t* range, uint64_t count) {
  assert_false(atomic_load(&range->violation));
  for (uint64_t i = 0; i < count; ++i) {
    if (atomic_load(&range->visits[i]) != 1) {
      fail_msg("item %llu visited %d times", (unsigned long long)i,
               (int)atomic_load(&range->visits[i]));
    }
  }
}

static void test_parallel_for_covers_the_range(void** state) {
  (void)state;
  irhal_cpu_task_pool_t* pool = pool_create(4);
  const uint64_t counts[] = {1, 2, 5, 17, 64, 1000, RANGE_MAX};
  for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); ++c) {
    // The caller is one of the pool's 4 threads, never a fifth.
    uint32_t limit = irhal_cpu_task_pool_participant_limit(pool, counts[c]);
    assert_int_equal(limit, counts[c] < 4 ? counts[c] : 4);
    range_state_t* range = range_state_create(limit);
    TEST_OK(
        irhal_cpu_task_pool_parallel_for(pool, counts[c], range_visit, range));
    range_expect_each_once(range, counts[c]);
    free(range);
  }
  assert_int_equal(irhal_cpu_task_pool_participant_limit(pool, 0), 0);
  TEST_OK(irhal_cpu_task_pool_parallel_for(pool, 0, range_visit, NULL));
  irhal_cpu_task_pool_destroy(pool);
}

// Without a pool the caller runs the range as one chunk in slot 0.
static void test_parallel_for_without_pool(void** state) {
  (void)state;
  assert_int_equal(irhal_cpu_task_pool_participant_limit(NULL, 1000), 1);
  range_state_t* range = range_state_create(1);
  TEST_OK(irhal_cpu_task_pool_parallel_for(NULL, 1000, range_visit, range));
  range_expect_each_once(range, 1000);
  assert_int_equal(atomic_load(&range->calls), 1);
  free(range);
}

static void test_parallel_for_failure(void** state) {
  (void)state;
  irhal_cpu_task_pool_t* pool = pool_create(3);
  for (uint64_t fail_at = 0; fail_at < 1000; fail_at += 333) {
    range_state_t* range = range_state_create(4);
    range->fail_at = fail_at;
    test_expect_status(
        irhal_cpu_task_pool_parallel_for(pool, 1000, range_visit, range),
        IRT_STATUS_DATA_LOSS, "failed");
    assert_int_equal(atomic_load(&range->visits[fail_at]), 1);
    assert_false(atomic_load(&range->violation));
    free(range);
  }
  irhal_cpu_task_pool_destroy(pool);
}

// Every worker runs a task that does its own parallel-for while the host
// thread does one too: callers only wait for chunks already running, so
// this finishes even though no worker is free to help anyone.
typedef struct nested_task_s {
  irhal_cpu_task_t task;
  irhal_cpu_task_pool_t* pool;
  range_state_t* range;
  atomic_int* done;
  atomic_bool* failed;
} nested_task_t;

static void nested_task_run(void* arg) {
  nested_task_t* nested = arg;
  irt_status_t status = irhal_cpu_task_pool_parallel_for(
      nested->pool, RANGE_MAX, range_visit, nested->range);
  if (status) atomic_store(nested->failed, true);
  irt_status_free(status);
  atomic_fetch_add(nested->done, 1);
}

static void test_parallel_for_inside_tasks(void** state) {
  (void)state;
  enum { WORKERS = 4, TASKS = 12 };
  irhal_cpu_task_pool_t* pool = pool_create(WORKERS);
  atomic_int done;
  atomic_init(&done, 0);
  atomic_bool failed;
  atomic_init(&failed, false);
  nested_task_t tasks[TASKS];
  for (int i = 0; i < TASKS; ++i) {
    tasks[i] = (nested_task_t){
        .task = {.fn = nested_task_run, .arg = &tasks[i]},
        .pool = pool,
        .range = range_state_create(WORKERS + 1),
        .done = &done,
        .failed = &failed,
    };
    irhal_cpu_task_pool_submit(pool, &tasks[i].task);
  }
  range_state_t* host_range = range_state_create(WORKERS + 1);
  TEST_OK(irhal_cpu_task_pool_parallel_for(pool, RANGE_MAX, range_visit,
                                           host_range));
  range_expect_each_once(host_range, RANGE_MAX);
  free(host_range);
  irhal_cpu_task_pool_destroy(pool);  // drains the tasks
  assert_int_equal(atomic_load(&done), TASKS);
  assert_false(atomic_load(&failed));
  for (int i = 0; i < TASKS; ++i) {
    range_expect_each_once(tasks[i].range, RANGE_MAX);
    free(tasks[i].range);
  }
}

// Several host threads run parallel-fors on one pool at once.
typedef struct host_caller_s {
  pthread_t thread;
  irhal_cpu_task_pool_t* pool;
  range_state_t* range;
  irt_status_t status;
} host_caller_t;

static void* host_caller_main(void* arg) {
  host_caller_t* caller = arg;
  for (int round = 0; round < 20 && !caller->status; ++round) {
    memset(caller->range->visits, 0, sizeof(caller->range->visits));
    caller->status = irhal_cpu_task_pool_parallel_for(
        caller->pool, 5000, range_visit, caller->range);
  }
  return NULL;
}

static void test_parallel_for_from_many_threads(void** state) {
  (void)state;
  enum { CALLERS = 6 };
  irhal_cpu_task_pool_t* pool = pool_create(3);
  host_caller_t callers[CALLERS];
  for (int i = 0; i < CALLERS; ++i) {
    callers[i] = (host_caller_t){.pool = pool, .range = range_state_create(4)};
    assert_int_equal(
        pthread_create(&callers[i].thread, NULL, host_caller_main, &callers[i]),
        0);
  }
  for (int i = 0; i < CALLERS; ++i) {
    pthread_join(callers[i].thread, NULL);
    TEST_OK(callers[i].status);
    range_expect_each_once(callers[i].range, 5000);
    free(callers[i].range);
  }
  irhal_cpu_task_pool_destroy(pool);
}

// Idle workers sleep: a pool doing nothing uses (almost) no CPU time.
static double process_cpu_seconds(void) {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return (double)(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         (double)(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

static void test_idle_workers_sleep(void** state) {
  (void)state;
  irhal_cpu_task_pool_t* pool = pool_create(8);
  double before = process_cpu_seconds();
  struct timespec pause = {.tv_sec = 0, .tv_nsec = 300 * 1000 * 1000};
  nanosleep(&pause, NULL);
  double used = process_cpu_seconds() - before;
  irhal_cpu_task_pool_destroy(pool);
  // Eight spinning workers would burn about 2.4 s in that time.
  if (used > 0.1) fail_msg("idle pool used %.3f s of CPU in 0.3 s", used);
}

// A range that the caller finishes in less time than a worker takes to wake
// runs on the caller alone (slot 0; a worker would take slot 1 or more): its
// first chunk, timed, then the rest in one call. A preemption inside the
// timed chunk makes it look slow, so a loaded machine gets a few tries.
static void test_small_range_stays_on_the_caller(void** state) {
  (void)state;
  irhal_cpu_task_pool_t* pool = pool_create(4);
  bool alone = false;
  for (int attempt = 0; attempt < 20 && !alone; ++attempt) {
    range_state_t* range = range_state_create(1);
    TEST_OK(irhal_cpu_task_pool_parallel_for(pool, 64, range_visit, range));
    alone = !atomic_load(&range->violation) && atomic_load(&range->calls) == 2;
    range->violation = false;  // slots past 0 are fine for the coverage
    range->slot_limit = 4;
    range_expect_each_once(range, 64);
    free(range);
  }
  assert_true(alone);
  irhal_cpu_task_pool_destroy(pool);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_worker_count_limits),
      cmocka_unit_test(test_destroy_drains_tasks),
      cmocka_unit_test(test_parallel_for_covers_the_range),
      cmocka_unit_test(test_parallel_for_without_pool),
      cmocka_unit_test(test_parallel_for_failure),
      cmocka_unit_test(test_small_range_stays_on_the_caller),
      cmocka_unit_test(test_parallel_for_inside_tasks),
      cmocka_unit_test(test_parallel_for_from_many_threads),
      cmocka_unit_test(test_idle_workers_sleep),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
