// The local-sync and local-task devices through the HAL API: identity and
// queries, memory, every queue operation with fences chained in and out of
// order, failure propagation, command buffer replay against binding tables,
// and dispatches of the fixture library and of real compiled executables
// (hal-abi.md 1.6-1.8, 4.3, 5.8). Every test runs once per device.
//
//   test_hal_cpu_device_cpu_device <embedded fixture .so>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

// cmocka needs the headers above.
#include <cmocka.h>

#include "hal/cpu/processor.h"
#include "tests/hal_cpu/fixture_library.h"
#include "tests/hal_cpu/vmfb_elf.h"
#include "tests/hal_cpu_device/device_testing.h"

static test_fixture_t fixture;

// Worker count of the local-task devices under test (not a power of two, so
// the tiling has remainders).
#define TASK_WORKERS 3

typedef struct device_case_s {
  const char* label;
  irhal_cpu_device_kind_t kind;
  irhal_device_t* device;
} device_case_t;

static int device_case_setup(void** state) {
  device_case_t* c = *state;
  c->device = test_device_create(c->kind, TASK_WORKERS);
  return 0;
}

static int device_case_teardown(void** state) {
  device_case_t* c = *state;
  irhal_device_release(c->device);
  c->device = NULL;
  return 0;
}

static irhal_device_t* case_device(void** state) {
  return ((device_case_t*)*state)->device;
}

static uint32_t case_workers(void** state) {
  return ((device_case_t*)*state)->kind == IRHAL_CPU_DEVICE_LOCAL_TASK
             ? TASK_WORKERS
             : 1;
}

//===----------------------------------------------------------------------===//
// Identity, queries, creation
//===----------------------------------------------------------------------===//

static void expect_query(irhal_device_t* device, const char* category,
                         const char* key, bool ok, int64_t value) {
  bool actual_ok = !ok;
  int64_t actual = -1;
  TEST_OK(irhal_device_query_i64(device, irt_make_cstring_view(category),
                                 irt_make_cstring_view(key), &actual_ok,
                                 &actual));
  if (actual_ok != ok || actual != value) {
    fail_msg("query %s :: %s gave (%d, %lld), expected (%d, %lld)", category,
             key, actual_ok, (long long)actual, ok, (long long)value);
  }
}

static void test_queries(void** state) {
  device_case_t* c = *state;
  irhal_device_t* device = c->device;
  bool task = c->kind == IRHAL_CPU_DEVICE_LOCAL_TASK;
  assert_true(irt_string_view_equal_cstring(
      device->id, task ? "local-task" : "local-sync"));
  // Identifier patterns (answered by the HAL core from device->id).
  expect_query(device, "hal.device.id", "local*", true, 1);
  expect_query(device, "hal.device.id", task ? "local-task" : "local-sync",
               true, 1);
  expect_query(device, "hal.device.id", task ? "local-sync" : "local-task",
               true, 0);
  expect_query(device, "hal.device.id", "local-?????", true, 0);
  expect_query(device, "hal.device.id", "local-????", true, 1);
  expect_query(device, "hal.device.id", "*", true, 1);
  expect_query(device, "hal.device.id", "vulkan", true, 0);
  // Formats.
  const char* arch = irhal_cpu_host_arch_name();
  if (arch) {
    char format[64];
    snprintf(format, sizeof(format), "embedded-elf-%s", arch);
    expect_query(device, "hal.executable.format", format, true, 1);
    snprintf(format, sizeof(format), "system-elf-%s", arch);
    expect_query(device, "hal.executable.format", format, true, 1);
  }
  expect_query(device, "hal.executable.format", "embedded-elf-unknown", true,
               0);
  expect_query(device, "hal.executable.format", "vulkan-spirv-fb", true, 0);
  expect_query(device, "hal.executable.format", "static", true, 0);
  // Concurrency.
  expect_query(device, "hal.device", "concurrency", true, 1);
  expect_query(device, "hal.dispatch", "concurrency", true,
               case_workers(state));
  // CPU features answer the processor bits; unknown names are not found.
  irhal_processor_v0_t processor;
  irhal_cpu_processor_query(&processor);
  const char* features[] = {"avx2", "avx512f", "sse4.1", "fp-armv8", "dotprod"};
  for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); ++i) {
    int bit = 0;
    if (!irhal_cpu_feature_bit(irt_make_cstring_view(features[i]), &bit)) {
      expect_query(device, "hal.cpu", features[i], false, 0);
      continue;
    }
    expect_query(device, "hal.cpu", features[i], true,
                 (int64_t)((processor.data[0] >> bit) & 1));
  }
  expect_query(device, "hal.cpu", "no-such-feature", false, 0);
  expect_query(device, "hal.dispatch", "subgroup.ops", false, 0);
  expect_query(device, "cuda.device", "compute_capability_major", false, 0);
  expect_query(device, "hal.device", "nope", false, 0);
}

static void test_create_by_name(void** state) {
  (void)state;
  irhal_device_t* device = NULL;
  TEST_OK(irhal_cpu_device_create_by_name(irt_make_cstring_view("local-sync"),
                                          0, irt_allocator_system(), &device));
  assert_true(irt_string_view_equal_cstring(device->id, "local-sync"));
  expect_query(device, "hal.dispatch", "concurrency", true, 1);
  irhal_device_release(device);
  TEST_OK(irhal_cpu_device_create_by_name(irt_make_cstring_view("local-task"),
                                          2, irt_allocator_system(), &device));
  assert_true(irt_string_view_equal_cstring(device->id, "local-task"));
  expect_query(device, "hal.dispatch", "concurrency", true, 2);
  irhal_device_release(device);
  // 0 workers: one per online CPU.
  TEST_OK(irhal_cpu_device_create_by_name(irt_make_cstring_view("local-task"),
                                          0, irt_allocator_system(), &device));
  expect_query(device, "hal.dispatch", "concurrency", true,
               sysconf(_SC_NPROCESSORS_ONLN));
  irhal_device_release(device);

  test_expect_status(
      irhal_cpu_device_create_by_name(irt_make_cstring_view("cuda"), 0,
                                      irt_allocator_system(), &device),
      IRT_STATUS_NOT_FOUND,
      "no CPU device named 'cuda' (expected 'local-sync' or 'local-task')");
  assert_null(device);
  irhal_cpu_device_options_t options = {.kind = 7};
  test_expect_status(
      irhal_cpu_device_create(&options, irt_allocator_system(), &device),
      IRT_STATUS_INVALID_ARGUMENT, "unknown CPU device kind 7");
  options = (irhal_cpu_device_options_t){IRHAL_CPU_DEVICE_LOCAL_TASK, 5000};
  test_expect_status(
      irhal_cpu_device_create(&options, irt_allocator_system(), &device),
      IRT_STATUS_OUT_OF_RANGE, "worker count 5000");
}

// Every allocation of creation and teardown is freed, and each failing one
// is reported cleanly.
static void test_create_allocation_failures(void** state) {
  (void)state;
  for (int kind = 0; kind < 2; ++kind) {
    irhal_cpu_device_options_t options = {.kind = kind, .worker_count = 2};
    for (size_t fail = 0;; ++fail) {
      irt_counting_allocator_t counter;
      irt_counting_allocator_init(&counter, irt_allocator_system());
      counter.fail_after = fail;
      irhal_device_t* device = NULL;
      irt_status_t status = irhal_cpu_device_create(
          &options, irt_counting_allocator(&counter), &device);
      if (!status) {
        irhal_device_release(device);
        assert_int_equal(counter.live_allocations, 0);
        break;
      }
      test_expect_status(status, IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
      assert_int_equal(counter.live_allocations, 0);
    }
  }
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

static uint64_t memory_in_use(const irhal_device_t* device) {
  return atomic_load(&device->memory_stats->bytes_in_use);
}

static void test_allocation(void** state) {
  irhal_device_t* device = case_device(state);
  // Allocations are counted while they live (hal/memory_stats.h).
  uint64_t in_use = memory_in_use(device);
  uint64_t allocations = atomic_load(&device->memory_stats->allocations);
  irhal_buffer_t* buffer = NULL;
  TEST_OK(irhal_device_allocate_buffer(device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                                       0x80C03, 100, &buffer));
  assert_int_equal(memory_in_use(device), in_use + 100);
  assert_int_equal(atomic_load(&device->memory_stats->allocations),
                   allocations + 1);
  assert_true(atomic_load(&device->memory_stats->peak_bytes) >= in_use + 100);
  assert_int_equal(buffer->memory_type, 0x76);
  assert_int_equal(buffer->memory_type & IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
                   IRHAL_MEMORY_TYPE_DEVICE_VISIBLE);
  assert_int_equal(buffer->allowed_usage & 0x80C03, 0x80C03);
  assert_int_equal(buffer->allowed_usage, IRHAL_CPU_BUFFER_USAGE);
  assert_int_equal(buffer->allowed_usage, 0x1F0F3F03);
  assert_int_equal(buffer->byte_length, 100);
  uint8_t* data = test_buffer_data(buffer);
  assert_int_equal((uintptr_t)data % 64, 0);
  for (int i = 0; i < 100; ++i) assert_int_equal(data[i], 0);
  irhal_buffer_release(buffer);

  // queue.alloca: usable after its signal fence.
  irhal_fence_t* signal = test_fence_create();
  TEST_OK(irhal_device_queue_alloca(device, -1, NULL, signal,
                                    IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                                    IRHAL_BUFFER_USAGE_DEFAULT, 4096, &buffer));
  test_fence_wait_ok(signal);
  assert_int_equal(buffer->memory_type, 0x76);
  assert_int_equal((uintptr_t)test_buffer_data(buffer) % 64, 0);
  assert_int_equal(memory_in_use(device), in_use + 4096);
  irhal_fence_release(signal);
  irhal_buffer_release(buffer);
  assert_int_equal(memory_in_use(device), in_use);

  // Zero-sized buffers exist too.
  TEST_OK(
      device->vtable->allocate_buffer(device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                                      IRHAL_BUFFER_USAGE_DEFAULT, 0, &buffer));
  assert_int_equal(buffer->byte_length, 0);
  irhal_buffer_release(buffer);
}

static void count_release(void* user_data) { ++*(int*)user_data; }

static void test_import_host_memory(void** state) {
  irhal_device_t* device = case_device(state);
  _Alignas(64) static uint8_t host[256];
  int releases = 0;
  irhal_release_callback_t release = {count_release, &releases};
  irhal_buffer_t* buffer = NULL;
  TEST_OK(device->vtable->import_host_buffer(
      device, host, sizeof(host), IRHAL_MEMORY_TYPE_DEVICE_LOCAL, 0x80C03,
      IRHAL_MEMORY_ACCESS_READ, release, &buffer));
  assert_int_equal(buffer->memory_type, 0x76);
  assert_int_equal(buffer->allowed_access, IRHAL_MEMORY_ACCESS_READ);
  void* mapped = NULL;
  TEST_OK(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 64, 16, &mapped));
  assert_ptr_equal(mapped, host + 64);  // zero-copy
  assert_int_equal(memory_in_use(device), 0);  // not device memory
  test_expect_status(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0, 16, &mapped),
      IRT_STATUS_PERMISSION_DENIED, NULL);
  irhal_buffer_release(buffer);
  assert_int_equal(releases, 1);

  // Misaligned memory is refused so allocator.import(try=1) falls back to a
  // copy; the release callback stays with the caller.
  test_expect_status(device->vtable->import_host_buffer(
                         device, host + 16, 64, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                         0x80C03, IRHAL_MEMORY_ACCESS_READ, release, &buffer),
                     IRT_STATUS_UNAVAILABLE, "is not 64-byte aligned");
  assert_null(buffer);
  assert_int_equal(releases, 1);
}

//===----------------------------------------------------------------------===//
// Queue operations
//===----------------------------------------------------------------------===//

static void expect_bytes(const uint8_t* data, size_t offset, size_t length,
                         uint8_t value) {
  for (size_t i = offset; i < offset + length; ++i) {
    if (data[i] != value) {
      fail_msg("byte %zu is 0x%02x, expected 0x%02x", i, data[i], value);
    }
  }
}

static void test_fill_update_copy(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* a = test_buffer_allocate(device, 256);
  irhal_buffer_t* b = test_buffer_allocate(device, 256);
  uint8_t* a_data = test_buffer_data(a);
  uint8_t* b_data = test_buffer_data(b);
  irhal_fence_t* fence = test_fence_create();

  TEST_OK(irhal_device_queue_fill(device, -1, NULL, fence, a, 0,
                                  IRHAL_WHOLE_LENGTH, 0xAB, 1));
  test_fence_wait_ok(fence);
  expect_bytes(a_data, 0, 256, 0xAB);
  irhal_fence_release(fence);

  // 2- and 4-byte patterns are stored in memory order of the narrowed
  // value; each fill touches exactly its range.
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_fill(device, -1, NULL, fence, a, 16, 34,
                                  0xFFFF1234, 2));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_fill(device, -1, NULL, fence, a, 64, 68,
                                  0x1122334455667788ull, 4));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  expect_bytes(a_data, 0, 16, 0xAB);
  for (int i = 16; i < 50; i += 2) {
    assert_int_equal(a_data[i], 0x34);
    assert_int_equal(a_data[i + 1], 0x12);
  }
  expect_bytes(a_data, 50, 14, 0xAB);
  for (int i = 64; i < 132; i += 4) {
    uint32_t word;
    memcpy(&word, a_data + i, 4);
    assert_int_equal(word, 0x55667788);
  }
  expect_bytes(a_data, 132, 124, 0xAB);

  // Update captures the host bytes at the call.
  uint8_t host[24];
  for (int i = 0; i < 24; ++i) host[i] = (uint8_t)(i + 1);
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_update(device, -1, NULL, fence, host, b, 8, 24));
  memset(host, 0, sizeof(host));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  expect_bytes(b_data, 0, 8, 0);
  for (int i = 0; i < 24; ++i) assert_int_equal(b_data[8 + i], i + 1);
  expect_bytes(b_data, 32, 224, 0);

  // Copy between buffers, then an overlapping copy within one.
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_copy(device, -1, NULL, fence, a, 0, b, 128, 64));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  assert_memory_equal(b_data + 128, a_data, 64);
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_copy(device, -1, NULL, fence, b, 8, b, 12, 24));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  for (int i = 0; i < 24; ++i) assert_int_equal(b_data[12 + i], i + 1);

  // Arguments are checked synchronously.
  test_expect_status(
      irhal_device_queue_fill(device, -1, NULL, NULL, a, 1, 4, 0, 2),
      IRT_STATUS_INVALID_ARGUMENT, "not aligned");
  test_expect_status(
      irhal_device_queue_copy(device, -1, NULL, NULL, a, 250, b, 0, 16),
      IRT_STATUS_OUT_OF_RANGE, NULL);

  // A barrier only orders: its signal follows its wait.
  irhal_fence_t* wait = test_fence_create();
  fence = test_fence_create();
  if (((device_case_t*)*state)->kind == IRHAL_CPU_DEVICE_LOCAL_TASK) {
    TEST_OK(irhal_device_queue_barrier(device, -1, wait, fence));
    assert_true(test_fence_is_pending(fence));
    TEST_OK(irhal_fence_signal(wait));
  } else {
    TEST_OK(irhal_fence_signal(wait));
    TEST_OK(irhal_device_queue_barrier(device, -1, wait, fence));
  }
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  irhal_fence_release(wait);

  irhal_buffer_release(a);
  irhal_buffer_release(b);
}

static void test_file_transfers(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* buffer = test_buffer_allocate(device, 128);
  uint8_t* data = test_buffer_data(buffer);

  // Memory files: a memcpy from/to the host bytes.
  uint8_t host[100];
  for (int i = 0; i < 100; ++i) host[i] = (uint8_t)(200 - i);
  irhal_file_t* file = NULL;
  TEST_OK(irhal_file_create_from_memory(
      host, sizeof(host), IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE,
      (irhal_release_callback_t){0}, irt_allocator_system(), &file));
  irhal_fence_t* fence = test_fence_create();
  TEST_OK(irhal_device_queue_read(device, -1, NULL, fence, file, 10, buffer, 64,
                                  40));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  assert_memory_equal(data + 64, host + 10, 40);
  expect_bytes(data, 0, 64, 0);
  memset(data, 0x5C, 16);
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_write(device, -1, NULL, fence, buffer, 0, file, 90,
                                   10));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  expect_bytes(host, 90, 10, 0x5C);
  assert_int_equal(host[89], 200 - 89);
  test_expect_status(
      irhal_device_queue_read(device, -1, NULL, NULL, file, 90, buffer, 0, 20),
      IRT_STATUS_OUT_OF_RANGE, "exceeds the file length");
  irhal_file_release(file);

  // Fd files: pread/pwrite straight into the buffer.
  int fd = memfd_create("hal_cpu_device_test", MFD_CLOEXEC);
  assert_true(fd >= 0);
  uint8_t contents[4096];
  for (size_t i = 0; i < sizeof(contents); ++i) contents[i] = (uint8_t)(i * 7);
  assert_int_equal(write(fd, contents, sizeof(contents)), sizeof(contents));
  TEST_OK(irhal_file_create_from_fd(
      fd, sizeof(contents),
      IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE,
      irt_allocator_system(), &file));
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_read(device, -1, NULL, fence, file, 1000, buffer,
                                  0, 128));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  assert_memory_equal(data, contents + 1000, 128);
  memset(data, 0xA5, 128);
  fence = test_fence_create();
  TEST_OK(irhal_device_queue_write(device, -1, NULL, fence, buffer, 32, file,
                                   4000, 96));
  test_fence_wait_ok(fence);
  irhal_fence_release(fence);
  uint8_t written[96];
  assert_int_equal(pread(fd, written, sizeof(written), 4000), 96);
  expect_bytes(written, 0, 96, 0xA5);
  irhal_file_release(file);

  // A read-only fd file refuses writes at submission.
  TEST_OK(irhal_file_create_from_fd(fd, sizeof(contents),
                                    IRHAL_MEMORY_ACCESS_READ,
                                    irt_allocator_system(), &file));
  test_expect_status(
      irhal_device_queue_write(device, -1, NULL, NULL, buffer, 0, file, 0, 16),
      IRT_STATUS_PERMISSION_DENIED, NULL);
  irhal_file_release(file);
  close(fd);
  irhal_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Fence chains
//===----------------------------------------------------------------------===//

typedef struct copy_submit_s {
  irhal_device_t* device;
  irhal_fence_t* wait;
  irhal_fence_t* signal;
  irhal_buffer_t* source;
  irhal_buffer_t* target;
} copy_submit_t;

static irt_status_t submit_copy(void* arg) {
  copy_submit_t* copy = arg;
  return irhal_device_queue_copy(copy->device, -1, copy->wait, copy->signal,
                                 copy->source, 0, copy->target, 0, 64);
}

typedef struct fill_submit_s {
  irhal_device_t* device;
  irhal_fence_t* wait;
  irhal_fence_t* signal;
  irhal_buffer_t* target;
  uint8_t value;
} fill_submit_t;

static irt_status_t submit_fill(void* arg) {
  fill_submit_t* fill = arg;
  return irhal_device_queue_fill(fill->device, -1, fill->wait, fill->signal,
                                 fill->target, 0, 64, fill->value, 1);
}

// op2 (copy A -> B, waiting on f1) is submitted before op1 (fill A,
// signalling f1): it must run after op1 anyway. local-sync blocks op2's
// submitter, so it submits from a helper thread (so does local-task, where
// the call returns at once).
static void test_out_of_order_submission(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* a = test_buffer_allocate(device, 64);
  irhal_buffer_t* b = test_buffer_allocate(device, 64);
  irhal_fence_t* f1 = test_fence_create();
  irhal_fence_t* f2 = test_fence_create();
  copy_submit_t copy = {device, f1, f2, a, b};
  test_async_t op2;
  test_async_start(&op2, submit_copy, &copy);
  assert_true(test_fence_is_pending(f2));
  fill_submit_t fill = {device, NULL, f1, a, 0x3C};
  TEST_OK(submit_fill(&fill));
  test_fence_wait_ok(f2);
  TEST_OK(test_async_join(&op2));
  expect_bytes(test_buffer_data(b), 0, 64, 0x3C);
  irhal_fence_release(f1);
  irhal_fence_release(f2);
  irhal_buffer_release(a);
  irhal_buffer_release(b);
}

// A chain of copies, each waiting on the previous one's fence, gated on a
// fence the host signals last; with a joined wait fence at the end.
static void test_host_gated_chain(void** state) {
  enum { LENGTH = 5 };
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* buffers[LENGTH + 1];
  irhal_fence_t* fences[LENGTH + 1];
  for (int i = 0; i <= LENGTH; ++i) {
    buffers[i] = test_buffer_allocate(device, 64);
    fences[i] = test_fence_create();
  }
  memset(test_buffer_data(buffers[0]), 0x77, 64);
  copy_submit_t copies[LENGTH];
  test_async_t submits[LENGTH];
  for (int i = LENGTH - 1; i >= 0; --i) {  // last link first
    copies[i] = (copy_submit_t){device, fences[i], fences[i + 1], buffers[i],
                                buffers[i + 1]};
    test_async_start(&submits[i], submit_copy, &copies[i]);
  }
  // Nothing runs before the gate opens.
  assert_true(test_fence_is_pending(fences[LENGTH]));
  expect_bytes(test_buffer_data(buffers[LENGTH]), 0, 64, 0);
  TEST_OK(irhal_fence_signal(fences[0]));
  irhal_fence_t* joined = NULL;
  TEST_OK(
      irhal_fence_join(fences + 1, LENGTH, irt_allocator_system(), &joined));
  test_fence_wait_ok(joined);
  irhal_fence_release(joined);
  for (int i = 0; i < LENGTH; ++i) TEST_OK(test_async_join(&submits[i]));
  for (int i = 0; i <= LENGTH; ++i) {
    expect_bytes(test_buffer_data(buffers[i]), 0, 64, 0x77);
    irhal_buffer_release(buffers[i]);
    irhal_fence_release(fences[i]);
  }
}

// A wait fence of several timepoints: the op runs once all are reached and
// fails as soon as one fails.
static void test_joined_wait_fence(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* a = test_buffer_allocate(device, 64);
  irhal_fence_t* gates[3] = {test_fence_create(), test_fence_create(),
                             test_fence_create()};
  irhal_fence_t* joined = NULL;
  TEST_OK(irhal_fence_join(gates, 2, irt_allocator_system(), &joined));
  irhal_fence_t* done = test_fence_create();
  fill_submit_t fill = {device, joined, done, a, 0x21};
  test_async_t op;
  test_async_start(&op, submit_fill, &fill);
  TEST_OK(irhal_fence_signal(gates[1]));
  assert_true(test_fence_is_pending(done));
  expect_bytes(test_buffer_data(a), 0, 64, 0);
  TEST_OK(irhal_fence_signal(gates[0]));
  test_fence_wait_ok(done);
  TEST_OK(test_async_join(&op));
  expect_bytes(test_buffer_data(a), 0, 64, 0x21);
  irhal_fence_release(joined);
  irhal_fence_release(done);

  // One failed timepoint is enough to fail the op.
  TEST_OK(irhal_fence_join(gates + 1, 2, irt_allocator_system(), &joined));
  done = test_fence_create();
  fill = (fill_submit_t){device, joined, done, a, 0x22};
  test_async_start(&op, submit_fill, &fill);
  irhal_fence_fail(gates[2],
                   irt_make_status(IRT_STATUS_DATA_LOSS, "gate 2 broke"));
  test_fence_expect_failure(done, IRT_STATUS_DATA_LOSS, "gate 2 broke");
  TEST_OK(test_async_join(&op));
  expect_bytes(test_buffer_data(a), 0, 64, 0x21);
  irhal_fence_release(joined);
  irhal_fence_release(done);
  for (int i = 0; i < 3; ++i) irhal_fence_release(gates[i]);
  irhal_buffer_release(a);
}

// Failing a wait fence fails the op's signal fence without running the op,
// and the failure flows down the chain.
static void test_wait_failure_propagates(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* a = test_buffer_allocate(device, 64);
  irhal_buffer_t* b = test_buffer_allocate(device, 64);
  irhal_fence_t* gate = test_fence_create();
  irhal_fence_t* f1 = test_fence_create();
  irhal_fence_t* f2 = test_fence_create();
  fill_submit_t fill = {device, gate, f1, a, 0x99};
  copy_submit_t copy = {device, f1, f2, a, b};
  test_async_t op1, op2;
  test_async_start(&op2, submit_copy, &copy);
  test_async_start(&op1, submit_fill, &fill);
  irhal_fence_fail(gate, irt_make_status(IRT_STATUS_ABORTED, "host gave up"));
  test_fence_expect_failure(f2, IRT_STATUS_ABORTED, "host gave up");
  test_fence_expect_failure(f1, IRT_STATUS_ABORTED,
                            "host gave up; waiting for the operation's wait "
                            "fence; the operation did not run");
  TEST_OK(test_async_join(&op1));
  TEST_OK(test_async_join(&op2));
  expect_bytes(test_buffer_data(a), 0, 64, 0);
  expect_bytes(test_buffer_data(b), 0, 64, 0);

  // An already-failed wait fence fails the op at once.
  irhal_fence_t* f3 = test_fence_create();
  fill = (fill_submit_t){device, f2, f3, a, 0x11};
  TEST_OK(submit_fill(&fill));
  test_fence_expect_failure(f3, IRT_STATUS_ABORTED, "host gave up");
  expect_bytes(test_buffer_data(a), 0, 64, 0);
  irhal_fence_release(f3);

  irhal_fence_release(gate);
  irhal_fence_release(f1);
  irhal_fence_release(f2);
  irhal_buffer_release(a);
  irhal_buffer_release(b);
}

//===----------------------------------------------------------------------===//
// Command buffers
//===----------------------------------------------------------------------===//

static irhal_buffer_ref_t slot_ref(uint32_t slot, irhal_device_size_t offset,
                                   irhal_device_size_t length) {
  return (irhal_buffer_ref_t){NULL, slot, offset, length};
}

static irhal_buffer_ref_t direct_ref(irhal_buffer_t* buffer,
                                     irhal_device_size_t offset,
                                     irhal_device_size_t length) {
  return (irhal_buffer_ref_t){buffer, 0, offset, length};
}

// Submits |cb| with |entries| and waits; returns the fence's outcome.
static irt_status_t execute_and_wait(irhal_device_t* device,
                                     irhal_command_buffer_t* cb,
                                     const irhal_buffer_ref_t* entries,
                                     uint32_t count) {
  irhal_binding_table_t table = {count, entries};
  irhal_fence_t* fence = test_fence_create();
  irt_status_t status =
      irhal_device_queue_execute(device, -1, NULL, fence, cb, &table);
  if (!status) {
    status =
        irhal_fence_wait(fence, irhal_deadline_after_ms(TEST_FENCE_TIMEOUT_MS));
  }
  irhal_fence_release(fence);
  return status;
}

static void test_command_buffer_transfers(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* direct = test_buffer_allocate(device, 16);
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(IRHAL_COMMAND_BUFFER_MODE_DEFAULT, 3, 3,
                                      irt_allocator_system(), &cb));
  // slot 0 [0, 32) <- 0x01020304; slot 1 [4, 12) <- update bytes;
  // slot 2 [16, 32) <- slot 0 [0, 16); direct [0, 8) <- 0xEE;
  // slot 2 [0, 8) <- direct [0, 8); slot 2 [32, whole) <- 0x7777.
  TEST_OK(irhal_command_buffer_fill(cb, slot_ref(0, 0, 32), 0x01020304, 4));
  const uint8_t update[8] = {9, 8, 7, 6, 5, 4, 3, 2};
  TEST_OK(irhal_command_buffer_update(cb, update, slot_ref(1, 4, 8)));
  TEST_OK(irhal_command_buffer_fill(cb, direct_ref(direct, 0, 8), 0xEE, 1));
  TEST_OK(irhal_command_buffer_barrier(cb));
  TEST_OK(
      irhal_command_buffer_copy(cb, slot_ref(0, 0, 16), slot_ref(2, 16, 16)));
  TEST_OK(irhal_command_buffer_copy(cb, direct_ref(direct, 0, 8),
                                    slot_ref(2, 0, 8)));
  TEST_OK(irhal_command_buffer_fill(cb, slot_ref(2, 32, IRHAL_WHOLE_LENGTH),
                                    0x7777, 2));
  TEST_OK(irhal_command_buffer_finalize(cb));

  // Reusable: two submissions with different tables. Entries have their
  // own offsets (table-relative references) and whole lengths.
  for (int round = 0; round < 2; ++round) {
    irhal_buffer_t* x = test_buffer_allocate(device, 256);
    irhal_buffer_t* y = test_buffer_allocate(device, 64);
    irhal_buffer_t* z = test_buffer_allocate(device, 256);
    irhal_device_size_t base = round ? 128 : 64;
    const irhal_buffer_ref_t entries[3] = {
        direct_ref(x, base, 64),
        direct_ref(y, 0, IRHAL_WHOLE_LENGTH),
        direct_ref(z, base, 64),
    };
    TEST_OK(execute_and_wait(device, cb, entries, 3));
    uint8_t* xd = test_buffer_data(x);
    uint8_t* yd = test_buffer_data(y);
    uint8_t* zd = test_buffer_data(z);
    expect_bytes(xd, 0, base, 0);
    for (int i = 0; i < 32; i += 4) {
      uint32_t word;
      memcpy(&word, xd + base + i, 4);
      assert_int_equal(word, 0x01020304);
    }
    expect_bytes(yd, 0, 4, 0);
    assert_memory_equal(yd + 4, update, 8);
    expect_bytes(zd, base, 8, 0xEE);
    expect_bytes(zd, base + 8, 8, 0);
    assert_memory_equal(zd + base + 16, xd + base, 16);
    for (int i = 32; i < 64; i += 2) {
      assert_int_equal(zd[base + i], 0x77);
    }
    expect_bytes(zd, base + 64, 256 - base - 64, 0);
    expect_bytes(zd, 0, base, 0);
    irhal_buffer_release(x);
    irhal_buffer_release(y);
    irhal_buffer_release(z);
  }

  // Resolution errors surface at execution as the signal fence's failure.
  irhal_buffer_t* small = test_buffer_allocate(device, 32);
  const irhal_buffer_ref_t entries[3] = {direct_ref(small, 0, 32),
                                         direct_ref(small, 0, 32),
                                         direct_ref(small, 0, 16)};
  test_expect_status(execute_and_wait(device, cb, entries, 2),
                     IRT_STATUS_OUT_OF_RANGE,
                     "binding slot 2 is outside the binding table of 2 "
                     "entries");
  test_expect_status(execute_and_wait(device, cb, entries, 3),
                     IRT_STATUS_OUT_OF_RANGE, "command 4 of 7");
  test_expect_status(execute_and_wait(device, cb, NULL, 0),
                     IRT_STATUS_FAILED_PRECONDITION,
                     "fill target refers to binding slot 0 but the "
                     "submission has no binding table");
  irhal_buffer_release(small);
  irhal_command_buffer_release(cb);
  irhal_buffer_release(direct);
}

// Copies whose lengths are "-1" (to the end of a table entry) take the
// explicit side's length and must fit both sides.
static void test_command_buffer_whole_lengths(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_buffer_t* direct = test_buffer_allocate(device, 8);
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 2, irt_allocator_system(), &cb));
  TEST_OK(irhal_command_buffer_copy(cb, slot_ref(0, 8, IRHAL_WHOLE_LENGTH),
                                    direct_ref(direct, 0, IRHAL_WHOLE_LENGTH)));
  TEST_OK(irhal_command_buffer_copy(cb, slot_ref(0, 0, IRHAL_WHOLE_LENGTH),
                                    slot_ref(1, 0, IRHAL_WHOLE_LENGTH)));
  TEST_OK(irhal_command_buffer_finalize(cb));
  irhal_buffer_t* source = test_buffer_allocate(device, 32);
  irhal_buffer_t* target = test_buffer_allocate(device, 64);
  uint8_t* data = test_buffer_data(source);
  for (int i = 0; i < 32; ++i) data[i] = (uint8_t)(i + 100);
  irhal_buffer_ref_t entries[2] = {direct_ref(source, 0, 32),
                                   direct_ref(target, 16, IRHAL_WHOLE_LENGTH)};
  TEST_OK(execute_and_wait(device, cb, entries, 2));
  assert_memory_equal(test_buffer_data(direct), data + 8, 8);
  assert_memory_equal(test_buffer_data(target) + 16, data, 32);
  expect_bytes(test_buffer_data(target), 48, 16, 0);
  entries[1] = direct_ref(target, 40, IRHAL_WHOLE_LENGTH);  // 24 bytes left
  test_expect_status(execute_and_wait(device, cb, entries, 2),
                     IRT_STATUS_OUT_OF_RANGE,
                     "copy of 32 bytes does not fit the 24 bytes the target "
                     "binding provides");
  irhal_buffer_release(source);
  irhal_buffer_release(target);
  irhal_buffer_release(direct);
  irhal_command_buffer_release(cb);
}

//===----------------------------------------------------------------------===//
// Dispatches of the fixture library
//===----------------------------------------------------------------------===//

static irhal_executable_t* fixture_executable(irhal_device_t* device) {
  const uint32_t variant = FIXTURE_PLAIN;
  irhal_executable_t* executable = NULL;
  TEST_OK(device->vtable->create_executable(
      device, irt_make_cstring_view(fixture.format), fixture.data, fixture.size,
      NULL, &variant, 1, &executable));
  return executable;
}

static irhal_command_t check_state_dispatch(irhal_executable_t* executable,
                                            const uint32_t* constants,
                                            irhal_buffer_ref_t* bindings) {
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.export_ordinal = FIXTURE_EXPORT_CHECK_STATE;
  dispatch.dispatch.constant_count = 2;
  dispatch.dispatch.constants = constants;
  dispatch.dispatch.binding_count = 2;
  dispatch.dispatch.bindings = bindings;
  return dispatch;
}

static void expect_grid(const uint32_t* out, uint32_t base, uint32_t cx,
                        uint32_t cy, uint32_t cz) {
  for (uint32_t z = 0; z < cz; ++z) {
    for (uint32_t y = 0; y < cy; ++y) {
      for (uint32_t x = 0; x < cx; ++x) {
        uint32_t linear = x + cx * (y + cy * z);
        uint32_t expected = base + x + 10 * y + 100 * z;
        if (out[linear] != expected) {
          fail_msg("workgroup (%u, %u, %u) wrote %u, expected %u", x, y, z,
                   out[linear], expected);
        }
      }
    }
  }
}

static void test_fixture_executable_counts(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = fixture_executable(device);
  assert_int_equal(executable->export_count, 2);
  assert_int_equal(executable->export_constant_counts[0], 2);
  assert_int_equal(executable->export_binding_counts[0], 2);
  assert_int_equal(executable->export_constant_counts[1], 0);
  assert_int_equal(executable->export_binding_counts[1], 1);

  // Recording checks dispatches against those counts.
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 2, irt_allocator_system(), &cb));
  const uint32_t constants[2] = {0, 0};
  irhal_buffer_ref_t bindings[2] = {slot_ref(0, 0, 4), slot_ref(1, 0, 16)};
  irhal_command_t dispatch =
      check_state_dispatch(executable, constants, bindings);
  dispatch.dispatch.binding_count = 1;
  test_expect_status(irhal_command_buffer_dispatch(cb, &dispatch),
                     IRT_STATUS_INVALID_ARGUMENT,
                     "passes 1 bindings; the export declares 2");
  dispatch.dispatch.binding_count = 2;
  dispatch.dispatch.constant_count = 1;
  test_expect_status(irhal_command_buffer_dispatch(cb, &dispatch),
                     IRT_STATUS_INVALID_ARGUMENT,
                     "passes 1 constants; the export declares 2");
  irhal_command_buffer_release(cb);

  // Executable-level constants must match the library's count.
  irhal_executable_t* bad = NULL;
  test_expect_status(device->vtable->create_executable(
                         device, irt_make_cstring_view(fixture.format),
                         fixture.data, fixture.size, NULL, NULL, 0, &bad),
                     IRT_STATUS_FAILED_PRECONDITION,
                     "declares 1 executable constants but 0 were provided");
  test_expect_status(device->vtable->create_executable(
                         device, irt_make_cstring_view("embedded-elf-unknown"),
                         fixture.data, fixture.size, NULL, NULL, 0, &bad),
                     IRT_STATUS_NOT_FOUND,
                     "cannot load executable format 'embedded-elf-unknown'");
  assert_null(bad);
  irhal_executable_release(executable);
}

// A multi-dimensional grid tiled over the workers: every workgroup runs
// once with its ids, local memory and the FTZ/DAZ floating-point mode.
static void test_fixture_dispatch_grid(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = fixture_executable(device);
  enum { CX = 7, CY = 5, CZ = 3, TOTAL = CX * CY * CZ };
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 2, irt_allocator_system(), &cb));
  const uint32_t constants[2] = {1000, 7};
  irhal_buffer_ref_t bindings[2] = {slot_ref(0, 0, IRHAL_WHOLE_LENGTH),
                                    slot_ref(1, 0, 16)};
  irhal_command_t dispatch =
      check_state_dispatch(executable, constants, bindings);
  dispatch.dispatch.workgroup_count[0] = CX;
  dispatch.dispatch.workgroup_count[1] = CY;
  dispatch.dispatch.workgroup_count[2] = CZ;
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  // The same export again with an empty grid: nothing runs.
  dispatch.dispatch.workgroup_count[1] = 0;
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_finalize(cb));

  irhal_buffer_t* out = test_buffer_allocate(device, TOTAL * 4);
  irhal_buffer_t* stats = test_buffer_allocate(device, 64);
  const irhal_buffer_ref_t entries[2] = {
      direct_ref(out, 0, IRHAL_WHOLE_LENGTH),
      direct_ref(stats, 0, IRHAL_WHOLE_LENGTH)};
  TEST_OK(execute_and_wait(device, cb, entries, 2));
  expect_grid((const uint32_t*)test_buffer_data(out), 1000, CX, CY, CZ);
  const uint32_t* s = (const uint32_t*)test_buffer_data(stats);
  assert_int_equal(s[FIXTURE_STATS_MAX_CONCURRENCY], case_workers(state));
#if defined(__x86_64__)
  assert_int_equal(s[FIXTURE_STATS_MXCSR] & 0x8040, 0x8040);
#endif
  if (case_workers(state) == 1) {
    assert_int_equal(s[FIXTURE_STATS_CALLS_VIA_DATA], s[FIXTURE_STATS_CALLS]);
  }
  irhal_buffer_release(out);
  irhal_buffer_release(stats);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
}

// Indirect dispatch: the workgroup counts are read when the dispatch runs,
// after the update recorded before it wrote them.
static void test_fixture_dispatch_indirect(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = fixture_executable(device);
  irhal_buffer_t* counts = test_buffer_allocate(device, 64);
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 3, irt_allocator_system(), &cb));
  const uint32_t grid[3] = {4, 3, 2};
  TEST_OK(irhal_command_buffer_update(cb, grid, slot_ref(2, 12, 12)));
  TEST_OK(irhal_command_buffer_barrier(cb));
  const uint32_t constants[2] = {50, 0};
  irhal_buffer_ref_t bindings[2] = {slot_ref(0, 0, 96), slot_ref(1, 0, 16)};
  irhal_command_t dispatch =
      check_state_dispatch(executable, constants, bindings);
  dispatch.dispatch.indirect = true;
  dispatch.dispatch.workgroups_ref = slot_ref(2, 12, 12);
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_barrier(cb));
  // A direct counts buffer, whose contents the host sets before submitting.
  const uint32_t constants2[2] = {9000, 0};
  irhal_buffer_ref_t bindings2[2] = {slot_ref(0, 96, 32), slot_ref(1, 0, 16)};
  dispatch = check_state_dispatch(executable, constants2, bindings2);
  dispatch.dispatch.indirect = true;
  dispatch.dispatch.workgroups_ref = direct_ref(counts, 0, 12);
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_finalize(cb));

  const uint32_t direct_grid[3] = {8, 1, 1};
  memcpy(test_buffer_data(counts), direct_grid, sizeof(direct_grid));
  irhal_buffer_t* out = test_buffer_allocate(device, 128);
  irhal_buffer_t* stats = test_buffer_allocate(device, 16);
  irhal_buffer_t* params = test_buffer_allocate(device, 64);
  const irhal_buffer_ref_t entries[3] = {
      direct_ref(out, 0, IRHAL_WHOLE_LENGTH),
      direct_ref(stats, 0, IRHAL_WHOLE_LENGTH),
      direct_ref(params, 0, IRHAL_WHOLE_LENGTH)};
  TEST_OK(execute_and_wait(device, cb, entries, 3));
  const uint32_t* o = (const uint32_t*)test_buffer_data(out);
  expect_grid(o, 50, 4, 3, 2);
  expect_grid(o + 24, 9000, 8, 1, 1);
  irhal_buffer_release(out);
  irhal_buffer_release(stats);
  irhal_buffer_release(params);
  irhal_buffer_release(counts);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
}

// A failing workgroup fails the submission's signal fence (and what waits on
// it); a binding that resolves to nothing is FAILED_PRECONDITION.
static void test_fixture_dispatch_failures(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = fixture_executable(device);
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(irhal_command_buffer_create(0, 3, 1, irt_allocator_system(), &cb));
  irhal_buffer_ref_t binding = slot_ref(0, 0, 4);
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.export_ordinal = FIXTURE_EXPORT_FAIL_AT_TWO;
  dispatch.dispatch.workgroup_count[0] = 8;
  dispatch.dispatch.workgroup_count[1] = 1;
  dispatch.dispatch.workgroup_count[2] = 1;
  dispatch.dispatch.binding_count = 1;
  dispatch.dispatch.bindings = &binding;
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_finalize(cb));

  irhal_buffer_t* counter = test_buffer_allocate(device, 64);
  irhal_buffer_ref_t entry = direct_ref(counter, 0, 4);
  irhal_binding_table_t table = {1, &entry};
  irhal_fence_t* f1 = test_fence_create();
  irhal_fence_t* f2 = test_fence_create();
  TEST_OK(irhal_device_queue_execute(device, -1, NULL, f1, cb, &table));
  fill_submit_t after = {device, f1, f2, counter, 0xFF};
  test_async_t op2;
  test_async_start(&op2, submit_fill, &after);
  test_fence_expect_failure(f1, IRT_STATUS_INTERNAL, "fixture_fail_at_two");
  test_fence_expect_failure(f2, IRT_STATUS_INTERNAL, "fixture_fail_at_two");
  TEST_OK(test_async_join(&op2));
  uint32_t calls;
  memcpy(&calls, test_buffer_data(counter), 4);
  assert_true(calls != 0xFFFFFFFFu);  // the fill never ran
  if (case_workers(state) == 1) assert_int_equal(calls, 3);
  irhal_fence_release(f1);
  irhal_fence_release(f2);

  test_expect_status(execute_and_wait(device, cb, NULL, 0),
                     IRT_STATUS_FAILED_PRECONDITION,
                     "dispatch binding 0 (slot 0) resolves to no buffer; all "
                     "bindings must have a valid pointer");
  irhal_buffer_release(counter);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
}

//===----------------------------------------------------------------------===//
// Real compiled dispatches (conformance corpus)
//===----------------------------------------------------------------------===//

// Creates the executable of conformance/<relative> as |format_prefix|-<arch>;
// false when the corpus or an x86_64 host is missing.
static bool real_executable(irhal_device_t* device, const char* relative,
                            const char* format_prefix,
                            irhal_executable_t** out_executable) {
  const char* arch = irhal_cpu_host_arch_name();
  if (!arch || strcmp(arch, "x86_64") != 0) {
    fprintf(stderr, "skipping: the corpus ELFs are x86_64\n");
    return false;
  }
  test_elf_t elf;
  if (!test_elf_load(relative, &elf)) return false;
  char format[64];
  snprintf(format, sizeof(format), "%s-%s", format_prefix, arch);
  uint8_t* allocation = NULL;
  uint8_t* data = test_copy_misaligned(elf.data, elf.size, &allocation);
  TEST_OK(device->vtable->create_executable(
      device, irt_make_cstring_view(format), data, elf.size, NULL, NULL, 0,
      out_executable));
  free(allocation);  // the executable does not keep the bytes
  test_elf_free(&elf);
  return true;
}

// One dispatch of |executable| export 0 with three bindings given by
// |bindings| (inputs first, result last), recorded once and executed with
// |entries|.
static irhal_command_buffer_t* record_three_bindings(
    irhal_executable_t* executable, irhal_buffer_ref_t* bindings,
    uint32_t capacity) {
  assert_int_equal(executable->export_count, 1);
  assert_int_equal(executable->export_constant_counts[0], 0);
  assert_int_equal(executable->export_binding_counts[0], 3);
  irhal_command_buffer_t* cb = NULL;
  TEST_OK(
      irhal_command_buffer_create(0, 3, capacity, irt_allocator_system(), &cb));
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.workgroup_count[0] = 1;
  dispatch.dispatch.workgroup_count[1] = 1;
  dispatch.dispatch.workgroup_count[2] = 1;
  dispatch.dispatch.binding_count = 3;
  dispatch.dispatch.bindings = bindings;
  TEST_OK(irhal_command_buffer_dispatch(cb, &dispatch));
  TEST_OK(irhal_command_buffer_finalize(cb));
  return cb;
}

static irhal_buffer_t* buffer_with(irhal_device_t* device, const void* data,
                                   size_t size) {
  irhal_buffer_t* buffer = test_buffer_allocate(device, size);
  memcpy(test_buffer_data(buffer), data, size);
  return buffer;
}

static void run_simple_mul(void** state, const char* format_prefix) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = NULL;
  if (!real_executable(device, "v3.11/simple_mul.vmfb", format_prefix,
                       &executable)) {
    skip();
  }
  // Like the compiled module: all three bindings are table slots.
  irhal_buffer_ref_t bindings[3] = {slot_ref(0, 0, 16), slot_ref(1, 0, 16),
                                    slot_ref(2, 0, 16)};
  irhal_command_buffer_t* cb = record_three_bindings(executable, bindings, 3);
  const float a[4] = {1.0f, 1.1f, 1.2f, 1.3f};
  const float b[4] = {10.0f, 100.0f, 1000.0f, 10000.0f};
  irhal_buffer_t* lhs = buffer_with(device, a, sizeof(a));
  irhal_buffer_t* rhs = buffer_with(device, b, sizeof(b));
  // The result lands at a 64-byte aligned offset of a larger buffer.
  irhal_buffer_t* result = test_buffer_allocate(device, 128);
  const irhal_buffer_ref_t entries[3] = {direct_ref(lhs, 0, 16),
                                         direct_ref(rhs, 0, 16),
                                         direct_ref(result, 64, 16)};
  TEST_OK(execute_and_wait(device, cb, entries, 3));
  float c[4];
  memcpy(c, test_buffer_data(result) + 64, sizeof(c));
  for (int i = 0; i < 4; ++i) assert_true(c[i] == a[i] * b[i]);
  assert_true(c[0] == 10.0f && c[3] == 13000.0f);
  expect_bytes(test_buffer_data(result), 0, 64, 0);
  irhal_buffer_release(lhs);
  irhal_buffer_release(rhs);
  irhal_buffer_release(result);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
}

static void test_simple_mul_embedded(void** state) {
  run_simple_mul(state, "embedded-elf");
}

static void test_simple_mul_system(void** state) {
  run_simple_mul(state, "system-elf");
}

static void test_matmul(void** state) {
  irhal_device_t* device = case_device(state);
  irhal_executable_t* executable = NULL;
  if (!real_executable(device, "v3.11/matmul.vmfb", "embedded-elf",
                       &executable)) {
    skip();
  }
  float lhs_values[12], rhs_values[8];
  for (int i = 0; i < 12; ++i) lhs_values[i] = (float)(i + 1);
  for (int i = 0; i < 8; ++i) rhs_values[i] = (float)(i + 1);
  irhal_buffer_t* lhs = buffer_with(device, lhs_values, sizeof(lhs_values));
  // A direct binding (like a constant buffer) mixed with table slots.
  irhal_buffer_ref_t bindings[3] = {direct_ref(lhs, 0, 48), slot_ref(0, 0, 32),
                                    slot_ref(1, 0, 24)};
  irhal_command_buffer_t* cb = record_three_bindings(executable, bindings, 2);
  irhal_buffer_t* rhs = buffer_with(device, rhs_values, sizeof(rhs_values));
  irhal_buffer_t* result = test_buffer_allocate(device, 64);
  memset(test_buffer_data(result), 0xFF, 64);  // the dispatch overwrites it
  const irhal_buffer_ref_t entries[2] = {direct_ref(rhs, 0, 32),
                                         direct_ref(result, 0, 24)};
  const float expected[6] = {50, 60, 114, 140, 178, 220};
  for (int round = 0; round < 3; ++round) {  // replayed per submission
    memset(test_buffer_data(result), 0xFF, 24);
    TEST_OK(execute_and_wait(device, cb, entries, 2));
    assert_memory_equal(test_buffer_data(result), expected, sizeof(expected));
  }
  irhal_buffer_release(lhs);
  irhal_buffer_release(rhs);
  irhal_buffer_release(result);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
}

//===----------------------------------------------------------------------===//
// Leaks and allocation failures on a whole workflow
//===----------------------------------------------------------------------===//

// A counting allocator behind a mutex: local-task frees on worker threads.
typedef struct locked_counter_s {
  irt_counting_allocator_t counter;
  irt_allocator_t inner;
  pthread_mutex_t mutex;
} locked_counter_t;

static void* locked_realloc(void* self, void* ptr, size_t size) {
  locked_counter_t* locked = self;
  pthread_mutex_lock(&locked->mutex);
  void* result = locked->inner.vtable->realloc(locked->inner.self, ptr, size);
  pthread_mutex_unlock(&locked->mutex);
  return result;
}

static void locked_free(void* self, void* ptr) {
  locked_counter_t* locked = self;
  pthread_mutex_lock(&locked->mutex);
  locked->inner.vtable->free(locked->inner.self, ptr);
  pthread_mutex_unlock(&locked->mutex);
}

static const irt_allocator_vtable_t locked_vtable = {locked_realloc,
                                                     locked_free};

// Creates a device, fills a buffer through a queue op and runs a dispatch,
// on |allocator|; returns the first failure.
static irt_status_t run_workflow(irhal_cpu_device_kind_t kind,
                                 irt_allocator_t allocator) {
  irhal_cpu_device_options_t options = {.kind = kind, .worker_count = 2};
  irhal_device_t* device = NULL;
  IRT_RETURN_IF_ERROR(irhal_cpu_device_create(&options, allocator, &device));
  irhal_buffer_t* buffer = NULL;
  irhal_fence_t* fence = NULL;
  irhal_executable_t* executable = NULL;
  irhal_command_buffer_t* cb = NULL;
  const uint32_t variant = FIXTURE_PLAIN;
  irt_status_t status = device->vtable->allocate_buffer(
      device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL, IRHAL_BUFFER_USAGE_DEFAULT, 1024,
      &buffer);
  if (!status) status = irhal_fence_create_single(allocator, &fence);
  if (!status) {
    status = irhal_device_queue_fill(device, -1, NULL, fence, buffer, 0, 1024,
                                     0x42, 1);
  }
  if (!status) status = irhal_fence_wait(fence, INT64_MAX);
  if (!status) {
    status = device->vtable->create_executable(
        device, irt_make_cstring_view(fixture.format), fixture.data,
        fixture.size, NULL, &variant, 1, &executable);
  }
  if (!status) status = irhal_command_buffer_create(0, 3, 0, allocator, &cb);
  const uint32_t constants[2] = {1, 2};
  irhal_buffer_ref_t bindings[2] = {direct_ref(buffer, 0, 64),
                                    direct_ref(buffer, 64, 16)};
  if (!status) {
    irhal_command_t dispatch =
        check_state_dispatch(executable, constants, bindings);
    dispatch.dispatch.workgroup_count[0] = 16;
    dispatch.dispatch.workgroup_count[1] = 1;
    dispatch.dispatch.workgroup_count[2] = 1;
    status = irhal_command_buffer_dispatch(cb, &dispatch);
  }
  if (!status) status = irhal_command_buffer_finalize(cb);
  irhal_fence_release(fence);
  fence = NULL;
  if (!status) status = irhal_fence_create_single(allocator, &fence);
  if (!status) {
    status = irhal_device_queue_execute(device, -1, NULL, fence, cb, NULL);
  }
  if (!status) status = irhal_fence_wait(fence, INT64_MAX);
  irhal_command_buffer_release(cb);
  irhal_executable_release(executable);
  irhal_fence_release(fence);
  irhal_buffer_release(buffer);
  irhal_device_release(device);
  return status;
}

static void test_workflow_allocation_failures(void** state) {
  irhal_cpu_device_kind_t kind = ((device_case_t*)*state)->kind;
  locked_counter_t locked;
  pthread_mutex_init(&locked.mutex, NULL);
  irt_allocator_t allocator = {&locked_vtable, &locked};
  for (size_t fail = 0;; ++fail) {
    irt_counting_allocator_init(&locked.counter, irt_allocator_system());
    locked.counter.fail_after = fail;
    locked.inner = irt_counting_allocator(&locked.counter);
    irt_status_t status = run_workflow(kind, allocator);
    // Every allocation is freed once the device is gone.
    assert_int_equal(locked.counter.live_allocations, 0);
    if (!status) break;
    test_expect_status(status, IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
    if (fail > 1000) fail_msg("the workflow never succeeded");
  }
  pthread_mutex_destroy(&locked.mutex);
}

//===----------------------------------------------------------------------===//
// Setup
//===----------------------------------------------------------------------===//

#define DEVICE_TEST(fn, c)                                        \
  cmocka_unit_test_prestate_setup_teardown(fn, device_case_setup, \
                                           device_case_teardown, c)

static int run_device_tests(device_case_t* c) {
  const struct CMUnitTest tests[] = {
      DEVICE_TEST(test_queries, c),
      DEVICE_TEST(test_allocation, c),
      DEVICE_TEST(test_import_host_memory, c),
      DEVICE_TEST(test_fill_update_copy, c),
      DEVICE_TEST(test_file_transfers, c),
      DEVICE_TEST(test_out_of_order_submission, c),
      DEVICE_TEST(test_host_gated_chain, c),
      DEVICE_TEST(test_joined_wait_fence, c),
      DEVICE_TEST(test_wait_failure_propagates, c),
      DEVICE_TEST(test_command_buffer_transfers, c),
      DEVICE_TEST(test_command_buffer_whole_lengths, c),
      DEVICE_TEST(test_fixture_executable_counts, c),
      DEVICE_TEST(test_fixture_dispatch_grid, c),
      DEVICE_TEST(test_fixture_dispatch_indirect, c),
      DEVICE_TEST(test_fixture_dispatch_failures, c),
      DEVICE_TEST(test_simple_mul_embedded, c),
      DEVICE_TEST(test_simple_mul_system, c),
      DEVICE_TEST(test_matmul, c),
      cmocka_unit_test_prestate(test_workflow_allocation_failures, c),
  };
  return cmocka_run_group_tests_name(c->label, tests, NULL, NULL);
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
  const struct CMUnitTest creation_tests[] = {
      cmocka_unit_test(test_create_by_name),
      cmocka_unit_test(test_create_allocation_failures),
  };
  device_case_t sync_case = {"local-sync", IRHAL_CPU_DEVICE_LOCAL_SYNC, NULL};
  device_case_t task_case = {"local-task", IRHAL_CPU_DEVICE_LOCAL_TASK, NULL};
  int result =
      cmocka_run_group_tests_name("creation", creation_tests, NULL, NULL);
  result += run_device_tests(&sync_case);
  result += run_device_tests(&task_case);
  test_fixture_free(&fixture);
  return result;
}
