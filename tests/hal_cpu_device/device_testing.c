#include "tests/hal_cpu_device/device_testing.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// cmocka needs the headers above.
#include <cmocka.h>

#include "hal/cpu/processor.h"
#include "tests/support/test_files.h"

void test_expect_ok_at(irt_status_t status, const char* file, int line) {
  if (irt_status_is_ok(status)) return;
  char text[2048];
  irt_status_format(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("%s:%d: %s", file, line, text);
}

void test_expect_status(irt_status_t status, irt_status_code_t code,
                        const char* substring) {
  char text[2048];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t actual = irt_status_code(status);
  irt_status_free(status);
  if (actual != code || (substring && !strstr(text, substring))) {
    fail_msg("expected %s containing '%s', got %s: %s",
             irt_status_code_string(code), substring ? substring : "",
             irt_status_code_string(actual), text);
  }
}

irhal_device_t* test_device_create(irhal_cpu_device_kind_t kind,
                                   uint32_t workers) {
  irhal_cpu_device_options_t options = {.kind = kind, .worker_count = workers};
  irhal_device_t* device = NULL;
  TEST_OK(irhal_cpu_device_create(&options, irt_allocator_system(), &device));
  return device;
}

irhal_buffer_t* test_buffer_allocate(irhal_device_t* device, size_t size) {
  irhal_buffer_t* buffer = NULL;
  TEST_OK(device->vtable->allocate_buffer(
      device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL, IRHAL_BUFFER_USAGE_DEFAULT, size,
      &buffer));
  return buffer;
}

uint8_t* test_buffer_data(irhal_buffer_t* buffer) {
  void* data = NULL;
  TEST_OK(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_ANY, 0,
                           IRHAL_WHOLE_LENGTH, &data));
  return data;
}

irhal_fence_t* test_fence_create(void) {
  irhal_fence_t* fence = NULL;
  TEST_OK(irhal_fence_create_single(irt_allocator_system(), &fence));
  return fence;
}

void test_fence_wait_ok(irhal_fence_t* fence) {
  TEST_OK(
      irhal_fence_wait(fence, irhal_deadline_after_ms(TEST_FENCE_TIMEOUT_MS)));
}

void test_fence_expect_failure(irhal_fence_t* fence, irt_status_code_t code,
                               const char* substring) {
  test_expect_status(
      irhal_fence_wait(fence, irhal_deadline_after_ms(TEST_FENCE_TIMEOUT_MS)),
      code, substring);
}

bool test_fence_is_pending(irhal_fence_t* fence) {
  return irt_status_consume_code(irhal_fence_query(fence)) ==
         IRT_STATUS_DEFERRED;
}

bool test_fixture_load(const char* path, test_fixture_t* out_fixture) {
  memset(out_fixture, 0, sizeof(*out_fixture));
  if (!irhal_cpu_host_arch_name()) return false;
  snprintf(out_fixture->format, sizeof(out_fixture->format), "embedded-elf-%s",
           irhal_cpu_host_arch_name());
  return ireed_test_read_file(path, &out_fixture->data, &out_fixture->size);
}

void test_fixture_free(test_fixture_t* fixture) { free(fixture->data); }

static void* test_async_main(void* arg) {
  test_async_t* async = arg;
  async->status = async->fn(async->arg);
  return NULL;
}

void test_async_start(test_async_t* async, test_submit_fn_t fn, void* arg) {
  async->fn = fn;
  async->arg = arg;
  async->status = IRT_OK;
  assert_int_equal(pthread_create(&async->thread, NULL, test_async_main, async),
                   0);
}

irt_status_t test_async_join(test_async_t* async) {
  assert_int_equal(pthread_join(async->thread, NULL), 0);
  return async->status;
}
