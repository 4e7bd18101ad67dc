// Two models on one CPU device, as the daemon holds them: simple_mul.vmfb
// read twice (so its executable bytes lie at two addresses) and registered
// into two contexts, each after its own `hal` module over the same device.
// The second context's `__init` gets the first one's executable from the
// device's shared cache, both compute, and the executable goes with the
// last context that used it.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "hal/api.h"
#include "hal/cpu/cpu_device.h"
#include "hal/executable_cache.h"
#include "runtime/modules/hal/hal_module.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/invoke.h"
#include "runtime/vm/list.h"
#include "tests/support/test_files.h"

static void expect_ok(irt_status_t status) {
  if (irt_status_is_ok(status)) return;
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("unexpected error: %s", text);
}

static void release_file(void* user_data, const uint8_t* data, size_t size) {
  (void)user_data;
  (void)size;
  free((void*)data);
}

// A context of a fresh hal module over |device| and a fresh copy of the
// module at |path|.
static irvm_context_t* load_model(irvm_instance_t* instance,
                                  irhal_device_t* device, const char* path) {
  irt_allocator_t allocator = irt_allocator_system();
  uint8_t* data = NULL;
  size_t size = 0;
  assert_true(ireed_test_read_file(path, &data, &size));
  irvm_bytecode_module_options_t options = {release_file, NULL};
  irvm_module_t* modules[2] = {NULL, NULL};
  expect_ok(
      irmod_hal_module_create(instance, &device, 1, allocator, &modules[0]));
  expect_ok(irvm_bytecode_module_create(instance, data, size, &options,
                                        allocator, &modules[1]));
  irvm_context_t* context = NULL;
  expect_ok(irvm_context_create(instance, allocator, &context));
  expect_ok(irvm_context_register_modules(context, modules, 2));
  irvm_module_release(modules[0]);
  irvm_module_release(modules[1]);
  return context;
}

static irvm_variant_t make_input(const float values[4]) {
  irt_allocator_t allocator = irt_allocator_system();
  irhal_buffer_t* buffer = NULL;
  expect_ok(irhal_host_buffer_allocate(allocator, IRHAL_CPU_MEMORY_TYPE,
                                       IRHAL_CPU_BUFFER_USAGE, 16, &buffer));
  void* mapped = NULL;
  expect_ok(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0, 16, &mapped));
  memcpy(mapped, values, 16);
  uint64_t dim = 4;
  irhal_buffer_view_t* view = NULL;
  expect_ok(irhal_buffer_view_create(
      buffer, 1, &dim, IRHAL_ELEMENT_TYPE_FLOAT_32,
      IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR, allocator, &view));
  irhal_buffer_release(buffer);
  return irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
}

// simple_mul([1 1.1 1.2 1.3], [10 100 1000 10000]) in |context|.
static void expect_simple_mul(irvm_context_t* context) {
  static const float lhs[4] = {1.0f, 1.1f, 1.2f, 1.3f};
  static const float rhs[4] = {10.0f, 100.0f, 1000.0f, 10000.0f};
  irvm_function_t function;
  expect_ok(irvm_context_resolve_function(
      context, irt_make_cstring_view("simple_mul"), &function));
  irvm_variant_t inputs[2] = {make_input(lhs), make_input(rhs)};
  irvm_variant_t results[2];
  size_t result_count = 0;
  expect_ok(irvm_invoke(&function, NULL, inputs, 2, results, 2, &result_count,
                        irt_allocator_system()));
  irvm_variant_release(&inputs[0]);
  irvm_variant_release(&inputs[1]);
  assert_int_equal(result_count, 1);
  irhal_buffer_view_t* output = irhal_buffer_view_deref(&results[0].ref);
  assert_non_null(output);
  void* mapped = NULL;
  expect_ok(irhal_buffer_map(output->buffer, IRHAL_MEMORY_ACCESS_READ, 0, 16,
                             &mapped));
  const float* values = mapped;
  for (int i = 0; i < 4; ++i)
    assert_float_equal(values[i], lhs[i] * rhs[i], 1e-3);
  irvm_variant_release(&results[0]);
}

static void expect_stats(irhal_executable_cache_t* cache, uint64_t hits,
                         uint64_t misses, uint64_t entries) {
  irhal_executable_cache_stats_t stats = irhal_executable_cache_stats(cache);
  assert_int_equal(stats.hits, hits);
  assert_int_equal(stats.misses, misses);
  assert_int_equal(stats.entries, entries);
}

static void test_two_contexts_share_the_executable(void** state) {
  (void)state;
  char path[4096];
  if (!ireed_test_shared_path("conformance/v3.11/simple_mul.vmfb", path,
                              sizeof(path))) {
    skip();
  }
  irt_allocator_t allocator = irt_allocator_system();
  irvm_instance_t* instance = NULL;
  expect_ok(irvm_instance_create(allocator, &instance));
  irhal_cpu_device_options_t options = {IRHAL_CPU_DEVICE_LOCAL_SYNC, 0};
  irhal_device_t* device = NULL;
  expect_ok(irhal_cpu_device_create(&options, allocator, &device));
  // The same cache the hal modules over |device| use: to read its stats.
  irhal_executable_cache_t* cache = NULL;
  expect_ok(irhal_executable_cache_acquire_shared(device, &cache));

  irvm_context_t* first = load_model(instance, device, path);
  expect_stats(cache, 0, 1, 1);
  irvm_context_t* second = load_model(instance, device, path);
  expect_stats(cache, 1, 1, 1);  // created once, shared
  expect_simple_mul(first);
  expect_simple_mul(second);

  // The executable stays while the second context uses it.
  irvm_context_destroy(first);
  expect_stats(cache, 1, 1, 1);
  expect_simple_mul(second);
  irvm_context_destroy(second);
  expect_stats(cache, 1, 1, 0);

  irhal_executable_cache_release(cache);
  irhal_device_release(device);
  irvm_instance_destroy(instance);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_contexts_share_the_executable),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
