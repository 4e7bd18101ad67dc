// The CPU devices under concurrent use (meant to run under TSan as well):
// many host threads submitting fence chains, producers and consumers linked
// only by fences, one reusable command buffer executed from many threads at
// once with different binding tables, failure fan-out, and device teardown
// while work still waits on a fence.
//
//   test_hal_cpu_device_concurrency <embedded fixture .so>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cmocka needs the headers above.
#include <cmocka.h>

#include "hal/cpu/processor.h"
#include "tests/hal_cpu/fixture_library.h"
#include "tests/hal_cpu_device/device_testing.h"

static test_fixture_t fixture;

// Worker threads cannot use cmocka's assertions: they record the first
// problem here and the test thread fails with it.
static pthread_mutex_t problem_mutex = PTHREAD_MUTEX_INITIALIZER;
static char problem[1024];
static atomic_bool has_problem;

static void report(const char* format, ...) IRT_PRINTF_LIKE(1, 2);
static void report(const char* format, ...) {
  pthread_mutex_lock(&problem_mutex);
  if (!atomic_load(&has_problem)) {
    va_list args;
    va_start(args, format);
    vsnprintf(problem, sizeof(problem), format, args);
    va_end(args);
    atomic_store(&has_problem, true);
  }
  pthread_mutex_unlock(&problem_mutex);
}

// Consumes |status|; false (after reporting) when it failed.
static bool check(irt_status_t status, const char* what) {
  if (irt_status_is_ok(status)) return true;
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  report("%s: %s", what, text);
  return false;
}

static void expect_no_problem(void) {
  if (atomic_load(&has_problem)) fail_msg("%s", problem);
}

static irhal_fence_t* fence_or_report(void) {
  irhal_fence_t* fence = NULL;
  check(irhal_fence_create_single(irt_allocator_system(), &fence),
        "creating a fence");
  return fence;
}

static irt_status_t wait_long(irhal_fence_t* fence) {
  return irhal_fence_wait(fence,
                          irhal_deadline_after_ms(TEST_FENCE_TIMEOUT_MS));
}

static void run_threads(int count, void* (*fn)(void*), void* args,
                        size_t arg_size) {
  pthread_t threads[64];
  assert_true(count <= 64);
  for (int i = 0; i < count; ++i) {
    assert_int_equal(pthread_create(&threads[i], NULL, fn,
                                    (uint8_t*)args + (size_t)i * arg_size),
                     0);
  }
  for (int i = 0; i < count; ++i) pthread_join(threads[i], NULL);
  expect_no_problem();
}

static irhal_cpu_device_kind_t case_kind(void** state) {
  return (irhal_cpu_device_kind_t)(uintptr_t)*state;
}

//===----------------------------------------------------------------------===//
// Chains from many threads
//===----------------------------------------------------------------------===//

enum { CHAIN_THREADS = 8, CHAIN_ROUNDS = 60 };

typedef struct chain_thread_s {
  irhal_device_t* device;
  bool out_of_order;
  uint32_t index;
} chain_thread_t;

// Per round: update src <- value; copy src -> dst; fill dst[32, 64) <- ~value,
// linked by fences. On local-task the ops are submitted last-first.
static void* chain_thread_main(void* arg) {
  chain_thread_t* t = arg;
  irhal_device_t* device = t->device;
  irhal_buffer_t* src = NULL;
  irhal_buffer_t* dst = NULL;
  if (!check(device->vtable->allocate_buffer(device, 0x30, 0xC03, 64, &src),
             "allocating") ||
      !check(device->vtable->allocate_buffer(device, 0x30, 0xC03, 64, &dst),
             "allocating")) {
    return NULL;
  }
  void* dst_data = NULL;
  check(irhal_buffer_map(dst, IRHAL_MEMORY_ACCESS_READ, 0, 64, &dst_data),
        "mapping");
  for (uint32_t round = 0; round < CHAIN_ROUNDS; ++round) {
    uint8_t value = (uint8_t)(t->index * 31 + round);
    uint8_t bytes[64];
    memset(bytes, value, sizeof(bytes));
    irhal_fence_t* f1 = fence_or_report();
    irhal_fence_t* f2 = fence_or_report();
    irhal_fence_t* f3 = fence_or_report();
    for (int step = 0; step < 3; ++step) {
      int op = t->out_of_order ? 2 - step : step;
      irt_status_t status = IRT_OK;
      if (op == 0) {
        status =
            irhal_device_queue_update(device, -1, NULL, f1, bytes, src, 0, 64);
      } else if (op == 1) {
        status =
            irhal_device_queue_copy(device, -1, f1, f2, src, 0, dst, 0, 64);
      } else {
        status = irhal_device_queue_fill(device, -1, f2, f3, dst, 32, 32,
                                         (uint8_t)~value, 1);
      }
      check(status, "submitting");
    }
    if (check(wait_long(f3), "waiting for the chain")) {
      const uint8_t* d = dst_data;
      for (int i = 0; i < 64; ++i) {
        uint8_t expected = i < 32 ? value : (uint8_t)~value;
        if (d[i] != expected) {
          report("thread %u round %u byte %d: 0x%02x, expected 0x%02x",
                 t->index, round, i, d[i], expected);
          break;
        }
      }
    }
    irhal_fence_release(f1);
    irhal_fence_release(f2);
    irhal_fence_release(f3);
    if (atomic_load(&has_problem)) break;
  }
  irhal_buffer_release(src);
  irhal_buffer_release(dst);
  return NULL;
}

static void test_chains_from_many_threads(void** state) {
  irhal_cpu_device_kind_t kind = case_kind(state);
  irhal_device_t* device = test_device_create(kind, 4);
  chain_thread_t threads[CHAIN_THREADS];
  for (uint32_t i = 0; i < CHAIN_THREADS; ++i) {
    threads[i] =
        (chain_thread_t){device, kind == IRHAL_CPU_DEVICE_LOCAL_TASK, i};
  }
  run_threads(CHAIN_THREADS, chain_thread_main, threads, sizeof(threads[0]));
  irhal_device_release(device);
}

//===----------------------------------------------------------------------===//
// Producer and consumer threads linked only by fences
//===----------------------------------------------------------------------===//

enum { PIPELINE_DEPTH = 200 };

typedef struct pipeline_s {
  irhal_device_t* device;
  irhal_buffer_t* a[PIPELINE_DEPTH];
  irhal_buffer_t* b[PIPELINE_DEPTH];
  irhal_fence_t* produced[PIPELINE_DEPTH];
  irhal_fence_t* consumed[PIPELINE_DEPTH];
} pipeline_t;

// The consumer submits first: each copy waits on a fill the producer has
// perhaps not submitted yet.
static void* consumer_main(void* arg) {
  pipeline_t* p = arg;
  for (int i = 0; i < PIPELINE_DEPTH; ++i) {
    check(irhal_device_queue_copy(p->device, -1, p->produced[i], p->consumed[i],
                                  p->a[i], 0, p->b[i], 0, 16),
          "submitting a copy");
  }
  return NULL;
}

static void* producer_main(void* arg) {
  pipeline_t* p = arg;
  for (int i = 0; i < PIPELINE_DEPTH; ++i) {
    check(irhal_device_queue_fill(p->device, -1, NULL, p->produced[i], p->a[i],
                                  0, 16, (uint32_t)i * 0x01010101u, 4),
          "submitting a fill");
  }
  return NULL;
}

static void test_producer_consumer(void** state) {
  pipeline_t* p = calloc(1, sizeof(*p));
  p->device = test_device_create(case_kind(state), 4);
  for (int i = 0; i < PIPELINE_DEPTH; ++i) {
    p->a[i] = test_buffer_allocate(p->device, 16);
    p->b[i] = test_buffer_allocate(p->device, 16);
    p->produced[i] = test_fence_create();
    p->consumed[i] = test_fence_create();
  }
  pthread_t consumer, producer;
  assert_int_equal(pthread_create(&consumer, NULL, consumer_main, p), 0);
  assert_int_equal(pthread_create(&producer, NULL, producer_main, p), 0);
  irhal_fence_t* all = NULL;
  TEST_OK(irhal_fence_join(p->consumed, PIPELINE_DEPTH, irt_allocator_system(),
                           &all));
  test_fence_wait_ok(all);
  irhal_fence_release(all);
  pthread_join(consumer, NULL);
  pthread_join(producer, NULL);
  expect_no_problem();
  for (int i = 0; i < PIPELINE_DEPTH; ++i) {
    const uint8_t* data = test_buffer_data(p->b[i]);
    for (int j = 0; j < 16; ++j) assert_int_equal(data[j], (uint8_t)i);
    irhal_buffer_release(p->a[i]);
    irhal_buffer_release(p->b[i]);
    irhal_fence_release(p->produced[i]);
    irhal_fence_release(p->consumed[i]);
  }
  irhal_device_release(p->device);
  free(p);
}

//===----------------------------------------------------------------------===//
// One reusable command buffer, many concurrent submissions
//===----------------------------------------------------------------------===//

enum { SHARED_THREADS = 6, SHARED_ROUNDS = 25, GRID_X = 16, GRID_Y = 4 };

typedef struct shared_thread_s {
  irhal_device_t* device;
  irhal_command_buffer_t* cb;
  uint32_t index;
} shared_thread_t;

static void* shared_thread_main(void* arg) {
  shared_thread_t* t = arg;
  irhal_device_t* device = t->device;
  irhal_buffer_t* out = NULL;
  irhal_buffer_t* stats = NULL;
  irhal_buffer_t* grid = NULL;
  if (!check(device->vtable->allocate_buffer(device, 0x30, 0xC03,
                                             GRID_X * GRID_Y * 4, &out),
             "allocating") ||
      !check(device->vtable->allocate_buffer(device, 0x30, 0xC03, 16, &stats),
             "allocating") ||
      !check(device->vtable->allocate_buffer(device, 0x30, 0xC03, 12, &grid),
             "allocating")) {
    return NULL;
  }
  void* out_data = NULL;
  void* grid_data = NULL;
  check(irhal_buffer_map(out, IRHAL_MEMORY_ACCESS_ALL, 0, IRHAL_WHOLE_LENGTH,
                         &out_data),
        "mapping");
  check(irhal_buffer_map(grid, IRHAL_MEMORY_ACCESS_ALL, 0, IRHAL_WHOLE_LENGTH,
                         &grid_data),
        "mapping");
  const irhal_buffer_ref_t entries[3] = {
      {out, 0, 0, IRHAL_WHOLE_LENGTH},
      {stats, 0, 0, IRHAL_WHOLE_LENGTH},
      {grid, 0, 0, IRHAL_WHOLE_LENGTH},
  };
  irhal_binding_table_t table = {3, entries};
  for (uint32_t round = 0; round < SHARED_ROUNDS; ++round) {
    // Each thread dispatches a grid of its own size (indirect counts).
    uint32_t cx = 1 + (t->index + round) % GRID_X;
    uint32_t cy = 1 + round % GRID_Y;
    const uint32_t counts[3] = {cx, cy, 1};
    memcpy(grid_data, counts, sizeof(counts));
    memset(out_data, 0, GRID_X * GRID_Y * 4);
    irhal_fence_t* fence = fence_or_report();
    if (!check(
            irhal_device_queue_execute(device, -1, NULL, fence, t->cb, &table),
            "submitting") ||
        !check(wait_long(fence), "executing")) {
      irhal_fence_release(fence);
      break;
    }
    irhal_fence_release(fence);
    const uint32_t* o = out_data;
    for (uint32_t y = 0; y < cy; ++y) {
      for (uint32_t x = 0; x < cx; ++x) {
        uint32_t expected = 500 + x + 10 * y;
        if (o[x + cx * y] != expected) {
          report("thread %u round %u workgroup (%u, %u): %u, expected %u",
                 t->index, round, x, y, o[x + cx * y], expected);
          goto done;
        }
      }
    }
  }
done:
  irhal_buffer_release(out);
  irhal_buffer_release(stats);
  irhal_buffer_release(grid);
  return NULL;
}

static void test_shared_command_buffer(void** state) {
  irhal_device_t* device = test_device_create(case_kind(state), 4);
  const uint32_t variant = FIXTURE_PLAIN;
  irhal_executable_t* executable = NULL;
  TEST_OK(device->vtable->create_executable(
      device, irt_make_cstring_view(fixture.format), fixture.data, fixture.size,
      NULL, &variant, 1, &executable));
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 3, irt_allocator_system(), &cb));
  const uint32_t constants[2] = {500, 0};
  irhal_buffer_ref_t bindings[2] = {{NULL, 0, 0, IRHAL_WHOLE_LENGTH},
                                    {NULL, 1, 0, 16}};
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.export_ordinal = FIXTURE_EXPORT_CHECK_STATE;
  dispatch.dispatch.indirect = true;
  dispatch.dispatch.workgroups_ref = (irhal_buffer_ref_t){NULL, 2, 0, 12};
  dispatch.dispatch.constant_count = 2;
  dispatch.dispatch.constants = constants;
  dispatch.dispatch.binding_count = 2;
  dispatch.dispatch.bindings = bindings;
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_finalize(cb));
  irhal_executable_release(executable);  // the command buffer keeps it

  shared_thread_t threads[SHARED_THREADS];
  for (uint32_t i = 0; i < SHARED_THREADS; ++i) {
    threads[i] = (shared_thread_t){device, cb, i};
  }
  run_threads(SHARED_THREADS, shared_thread_main, threads, sizeof(threads[0]));
  irhal_command_buffer_release(cb);
  irhal_device_release(device);
}

//===----------------------------------------------------------------------===//
// Failure fan-out and teardown with pending work (local-task)
//===----------------------------------------------------------------------===//

enum { FANOUT = 64 };

// Many ops on one gate, submitted from several threads; failing the gate
// fails all of them and runs none.
typedef struct fanout_thread_s {
  irhal_device_t* device;
  irhal_fence_t* gate;
  irhal_buffer_t* target;
  irhal_fence_t* signals[FANOUT / 4];
} fanout_thread_t;

static void* fanout_thread_main(void* arg) {
  fanout_thread_t* t = arg;
  for (int i = 0; i < FANOUT / 4; ++i) {
    check(irhal_device_queue_fill(t->device, -1, t->gate, t->signals[i],
                                  t->target, 0, 16, 0xFF, 1),
          "submitting");
  }
  return NULL;
}

static void test_failure_fanout(void** state) {
  (void)state;
  irhal_device_t* device = test_device_create(IRHAL_CPU_DEVICE_LOCAL_TASK, 4);
  irhal_fence_t* gate = test_fence_create();
  irhal_buffer_t* target = test_buffer_allocate(device, 16);
  fanout_thread_t threads[4];
  for (int i = 0; i < 4; ++i) {
    threads[i] = (fanout_thread_t){device, gate, target, {0}};
    for (int j = 0; j < FANOUT / 4; ++j) {
      threads[i].signals[j] = test_fence_create();
    }
  }
  run_threads(4, fanout_thread_main, threads, sizeof(threads[0]));
  irhal_fence_fail(gate, irt_make_status(IRT_STATUS_CANCELLED, "stop"));
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < FANOUT / 4; ++j) {
      test_fence_expect_failure(threads[i].signals[j], IRT_STATUS_CANCELLED,
                                "stop");
      irhal_fence_release(threads[i].signals[j]);
    }
  }
  const uint8_t* data = test_buffer_data(target);
  for (int i = 0; i < 16; ++i) assert_int_equal(data[i], 0);
  irhal_buffer_release(target);
  irhal_fence_release(gate);
  irhal_device_release(device);
}

static void* release_device_main(void* arg) {
  irhal_device_release(arg);
  return NULL;
}

// Releasing the last device reference waits for accepted operations, which
// still run once their fence is reached.
static void test_release_waits_for_pending_work(void** state) {
  (void)state;
  irhal_device_t* device = test_device_create(IRHAL_CPU_DEVICE_LOCAL_TASK, 2);
  irhal_fence_t* gate = test_fence_create();
  irhal_fence_t* done = test_fence_create();
  irhal_buffer_t* target = test_buffer_allocate(device, 32);
  TEST_OK(
      irhal_device_queue_fill(device, -1, gate, done, target, 0, 32, 0x5A, 1));
  pthread_t releaser;
  assert_int_equal(pthread_create(&releaser, NULL, release_device_main, device),
                   0);
  assert_true(test_fence_is_pending(done));
  TEST_OK(irhal_fence_signal(gate));
  pthread_join(releaser, NULL);
  TEST_OK(irhal_fence_query(done));
  const uint8_t* data = test_buffer_data(target);
  for (int i = 0; i < 32; ++i) assert_int_equal(data[i], 0x5A);
  irhal_buffer_release(target);
  irhal_fence_release(gate);
  irhal_fence_release(done);
}

int main(int argc, char** argv) {
  if (!irhal_cpu_host_arch_name()) {
    fprintf(stderr, "skipping: this host cannot run CPU executables\n");
    return 77;
  }
  if (argc < 2 || !test_fixture_load(argv[1], &fixture)) {
    fprintf(stderr, "usage: %s <embedded fixture library>\n", argv[0]);
    return 1;
  }
  void* sync = (void*)(uintptr_t)IRHAL_CPU_DEVICE_LOCAL_SYNC;
  void* task = (void*)(uintptr_t)IRHAL_CPU_DEVICE_LOCAL_TASK;
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_prestate(test_chains_from_many_threads, sync),
      cmocka_unit_test_prestate(test_chains_from_many_threads, task),
      cmocka_unit_test_prestate(test_producer_consumer, sync),
      cmocka_unit_test_prestate(test_producer_consumer, task),
      cmocka_unit_test_prestate(test_shared_command_buffer, sync),
      cmocka_unit_test_prestate(test_shared_command_buffer, task),
      cmocka_unit_test(test_failure_fanout),
      cmocka_unit_test(test_release_waits_for_pending_work),
  };
  int result = cmocka_run_group_tests(tests, NULL, NULL);
  test_fixture_free(&fixture);
  return result;
}
