// Real v3.11 modules running against the hal module over the fake device:
// `__init` selects the device and records command buffers, and invocations
// go through buffer_view.assert, queue.alloca, queue.execute.indirect and
// fence.await exactly as compiled. (The fake device records dispatches
// instead of running them, so only the calls are checked, not the math.)
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/invoke.h"
#include "tests/modules_hal/hal_fixture.h"
#include "tests/support/test_files.h"

typedef struct compiled_s {
  hal_fixture_t hal;
  irvm_context_t* context;
  irvm_module_t* module;
} compiled_t;

static void release_file(void* user_data, const uint8_t* data, size_t size) {
  (void)user_data;
  (void)size;
  free((void*)data);
}

// Loads |relative| into a new context after the hal module. Skips the test
// when the corpus is absent.
static irt_status_t load(compiled_t* compiled, const char* relative,
                         const char* device_format) {
  char path[4096];
  if (!ireed_test_shared_path(relative, path, sizeof(path))) skip();
  uint8_t* data = NULL;
  size_t size = 0;
  assert_true(ireed_test_read_file(path, &data, &size));
  compiled->hal.device->extra_format = device_format;
  irvm_bytecode_module_options_t options = {release_file, NULL};
  irt_status_t status =
      irvm_bytecode_module_create(compiled->hal.instance, data, size, &options,
                                  compiled->hal.allocator, &compiled->module);
  if (!irt_status_is_ok(status)) {
    free(data);
    return status;
  }
  HAL_OK(irvm_context_create(compiled->hal.instance, compiled->hal.allocator,
                             &compiled->context));
  irvm_module_t* modules[] = {compiled->hal.module, compiled->module};
  return irvm_context_register_modules(compiled->context, modules, 2);
}

static int setup(void** state) {
  compiled_t* compiled = calloc(1, sizeof(*compiled));
  hal_fixture_init(&compiled->hal);
  *state = compiled;
  return 0;
}

static int teardown(void** state) {
  compiled_t* compiled = *state;
  if (compiled->context) irvm_context_destroy(compiled->context);
  if (compiled->module) irvm_module_release(compiled->module);
  hal_fixture_deinit(&compiled->hal);
  free(compiled);
  return 0;
}

static irvm_variant_t make_input(compiled_t* compiled, uint32_t element_type,
                                 uint64_t dim) {
  irhal_buffer_t* buffer = NULL;
  HAL_OK(irhal_host_buffer_allocate(
      compiled->hal.allocator,
      IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_VISIBLE,
      IRHAL_BUFFER_USAGE_DEFAULT, dim * 4, &buffer));
  irhal_buffer_view_t* view = NULL;
  HAL_OK(irhal_buffer_view_create(buffer, 1, &dim, element_type,
                                  IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR,
                                  compiled->hal.allocator, &view));
  irhal_buffer_release(buffer);
  return irvm_variant_from_ref(hal_ref(view, irhal_buffer_view_type()));
}

static irt_status_t invoke(compiled_t* compiled, const char* name,
                           irvm_variant_t* inputs, size_t input_count,
                           irvm_variant_t* results, size_t* result_count) {
  irvm_function_t function;
  HAL_OK(irvm_context_resolve_function(compiled->context,
                                       irt_make_cstring_view(name), &function));
  irt_status_t status =
      irvm_invoke(&function, NULL, inputs, input_count, results, 4,
                  result_count, compiled->hal.allocator);
  for (size_t i = 0; i < input_count; ++i) irvm_variant_release(&inputs[i]);
  return status;
}

static void test_simple_mul(void** state) {
  compiled_t* compiled = *state;
  fake_device_t* device = compiled->hal.device;
  HAL_OK(load(compiled, "conformance/v3.11/simple_mul.vmfb",
              "embedded-elf-x86_64"));
  assert_int_equal(device->executable_count, 1);
  assert_true(device->last_executable_aliased);  // module rodata

  irvm_variant_t inputs[2] = {
      make_input(compiled, IRHAL_ELEMENT_TYPE_FLOAT_32, 4),
      make_input(compiled, IRHAL_ELEMENT_TYPE_FLOAT_32, 4)};
  irhal_buffer_t* lhs = irhal_buffer_view_deref(&inputs[0].ref)->buffer;
  irhal_buffer_retain(lhs);  // the call releases the inputs
  irvm_variant_t results[4];
  size_t result_count = 0;
  HAL_OK(invoke(compiled, "simple_mul", inputs, 2, results, &result_count));
  assert_int_equal(result_count, 1);
  irhal_buffer_view_t* output = irhal_buffer_view_deref(&results[0].ref);
  assert_non_null(output);
  assert_int_equal(output->element_type, IRHAL_ELEMENT_TYPE_FLOAT_32);
  assert_int_equal(output->rank, 1);
  assert_int_equal(output->shape[0], 4);
  // One dispatch over the inputs and the output, bound through the table.
  assert_int_equal(device->dispatch_count, 1);
  const fake_dispatch_t* dispatch = &device->dispatches[0];
  assert_int_equal(dispatch->binding_count, 3);
  assert_ptr_equal(dispatch->bindings[0].buffer, lhs);
  assert_ptr_equal(dispatch->bindings[2].buffer, output->buffer);
  irhal_buffer_release(lhs);
  irvm_variant_release(&results[0]);
}

static void test_mismatched_inputs(void** state) {
  compiled_t* compiled = *state;
  HAL_OK(load(compiled, "conformance/v3.11/simple_mul.vmfb",
              "embedded-elf-x86_64"));
  irvm_variant_t results[4];
  size_t result_count = 0;
  irvm_variant_t wrong_shape[2] = {
      make_input(compiled, IRHAL_ELEMENT_TYPE_FLOAT_32, 5),
      make_input(compiled, IRHAL_ELEMENT_TYPE_FLOAT_32, 4)};
  HAL_ERROR(
      invoke(compiled, "simple_mul", wrong_shape, 2, results, &result_count),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 shape mismatch: expected 4xf32 but got 5xf32");
  irvm_variant_t wrong_type[2] = {
      make_input(compiled, IRHAL_ELEMENT_TYPE_INT_32, 4),
      make_input(compiled, IRHAL_ELEMENT_TYPE_FLOAT_32, 4)};
  HAL_ERROR(
      invoke(compiled, "simple_mul", wrong_type, 2, results, &result_count),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 element type mismatch: expected f32 but got i32");
  assert_int_equal(compiled->hal.device->dispatch_count, 0);
}

// `__init` finds no device that loads the module's format.
static void test_no_matching_format(void** state) {
  compiled_t* compiled = *state;
  HAL_ERROR(load(compiled, "conformance/v3.11/simple_mul.vmfb", NULL),
            IRT_STATUS_INCOMPATIBLE, NULL);
  assert_int_equal(compiled->hal.device->executable_count, 0);
}

static void test_aarch64_module_on_x86_64_device(void** state) {
  compiled_t* compiled = *state;
  HAL_ERROR(load(compiled, "conformance/negative/matmul_aarch64.vmfb",
                 "embedded-elf-x86_64"),
            IRT_STATUS_INCOMPATIBLE, NULL);
}

// A module built against hal >= 7 is refused by this version-6 module.
static void test_newer_hal_version_rejected(void** state) {
  compiled_t* compiled = *state;
  irt_status_t status = load(compiled, "conformance/negative/add_hal7.vmfb",
                             "embedded-elf-x86_64");
  assert_false(irt_status_is_ok(status));
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  if (!strstr(text, "hal")) fail_msg("unexpected error: %s", text);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_simple_mul, setup, teardown),
      cmocka_unit_test_setup_teardown(test_mismatched_inputs, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_matching_format, setup, teardown),
      cmocka_unit_test_setup_teardown(test_aarch64_module_on_x86_64_device,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_newer_hal_version_rejected, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
