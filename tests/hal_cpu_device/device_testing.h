// Helpers shared by the CPU device tests: status checks, devices, buffers,
// fences, the fixture library and submissions made from a helper thread
// (local-sync blocks the submitting thread until the wait fence is reached,
// so out-of-order submissions need a second thread there).
#ifndef IREED_TESTS_HAL_CPU_DEVICE_DEVICE_TESTING_H
#define IREED_TESTS_HAL_CPU_DEVICE_DEVICE_TESTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/api.h"
#include "hal/cpu/cpu_device.h"

// How long a test waits on a fence before declaring a hang.
#define TEST_FENCE_TIMEOUT_MS 60000

void test_expect_ok_at(irt_status_t status, const char* file, int line);
#define TEST_OK(expr) test_expect_ok_at((expr), __FILE__, __LINE__)
// Consumes |status|, failing unless it has |code| and its brief text
// contains |substring| (NULL: any text).
void test_expect_status(irt_status_t status, irt_status_code_t code,
                        const char* substring);

// A device of |kind| on the system allocator (|workers| for local-task).
irhal_device_t* test_device_create(irhal_cpu_device_kind_t kind,
                                   uint32_t workers);

// A fresh device buffer of |size| bytes and a host pointer to its bytes.
irhal_buffer_t* test_buffer_allocate(irhal_device_t* device, size_t size);
uint8_t* test_buffer_data(irhal_buffer_t* buffer);

// A fence with one new semaphore (0 -> 1), as hal.fence.create makes.
irhal_fence_t* test_fence_create(void);
void test_fence_wait_ok(irhal_fence_t* fence);
// Waits on |fence| and expects it to fail with |code| / |substring|.
void test_fence_expect_failure(irhal_fence_t* fence, irt_status_code_t code,
                               const char* substring);
bool test_fence_is_pending(irhal_fence_t* fence);

// The embedded fixture library (tests/hal_cpu/fixture_library.c) given as
// the test program's argument, and its format string for this host.
typedef struct test_fixture_s {
  uint8_t* data;
  size_t size;
  char format[64];
} test_fixture_t;
bool test_fixture_load(const char* path, test_fixture_t* out_fixture);
void test_fixture_free(test_fixture_t* fixture);

// Runs |fn(arg)| (a submission) on its own thread.
typedef irt_status_t (*test_submit_fn_t)(void* arg);
typedef struct test_async_s {
  pthread_t thread;
  test_submit_fn_t fn;
  void* arg;
  irt_status_t status;
} test_async_t;
void test_async_start(test_async_t* async, test_submit_fn_t fn, void* arg);
// Joins the thread and returns what |fn| returned.
irt_status_t test_async_join(test_async_t* async);

#endif  // IREED_TESTS_HAL_CPU_DEVICE_DEVICE_TESTING_H
