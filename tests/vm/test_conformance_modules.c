// Loads (parses, resolves types, verifies) every real v3.11 module and runs
// the pure-VM one end to end.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/context.h"
#include "runtime/vm/invoke.h"
#include "tests/support/test_files.h"

// Stand-ins for the HAL's ref types, so modules load without the HAL.
static int placeholder_destroyed;
static void placeholder_destroy(void* object) {
  ++placeholder_destroyed;
  free(object);
}
#define PLACEHOLDER(name) {name, placeholder_destroy}
static const irvm_ref_type_t placeholder_types[] = {
    PLACEHOLDER("hal.allocator"),      PLACEHOLDER("hal.buffer"),
    PLACEHOLDER("hal.buffer_view"),    PLACEHOLDER("hal.channel"),
    PLACEHOLDER("hal.command_buffer"), PLACEHOLDER("hal.device"),
    PLACEHOLDER("hal.event"),          PLACEHOLDER("hal.executable"),
    PLACEHOLDER("hal.fence"),          PLACEHOLDER("hal.file"),
    PLACEHOLDER("hal.semaphore"),
};

static irvm_instance_t* make_instance(void) {
  irvm_instance_t* instance = NULL;
  assert_true(irt_status_is_ok(
      irvm_instance_create(irt_allocator_system(), &instance)));
  for (size_t i = 0; i < sizeof(placeholder_types) / sizeof(placeholder_types[0]);
       ++i) {
    assert_true(irt_status_is_ok(
        irvm_instance_register_type(instance, &placeholder_types[i])));
  }
  return instance;
}

static void release_file(void* user_data, const uint8_t* data, size_t size) {
  (void)user_data;
  (void)size;
  free((void*)data);
}

// Loads shared/<relative>; returns the status (module in *out_module).
static irt_status_t load_module(irvm_instance_t* instance, const char* path,
                                irvm_module_t** out_module) {
  uint8_t* data = NULL;
  size_t size = 0;
  assert_true(ireed_test_read_file(path, &data, &size));
  irvm_bytecode_module_options_t options = {release_file, NULL};
  irt_status_t status = irvm_bytecode_module_create(
      instance, data, size, &options, irt_allocator_system(), out_module);
  if (!irt_status_is_ok(status)) free(data);
  return status;
}

static const char* const v311_modules[] = {
    "add", "identity_i64", "matmul", "multi_output", "scale",
    "simple_add_f64", "simple_mul", "simple_mul_elodin",
};

static void test_every_v311_module_verifies(void** state) {
  (void)state;
  char path[4096];
  if (!ireed_test_shared_path("conformance/v3.11", path, sizeof(path))) skip();
  irvm_instance_t* instance = make_instance();
  for (size_t i = 0; i < sizeof(v311_modules) / sizeof(v311_modules[0]); ++i) {
    char relative[256];
    snprintf(relative, sizeof(relative), "conformance/v3.11/%s.vmfb",
             v311_modules[i]);
    assert_true(ireed_test_shared_path(relative, path, sizeof(path)));
    irvm_module_t* module = NULL;
    irt_status_t status = load_module(instance, path, &module);
    if (!irt_status_is_ok(status)) {
      char text[1024];
      irt_status_format(status, text, sizeof(text));
      fail_msg("%s: %s", v311_modules[i], text);
    }
    irvm_module_release(module);
  }
  irvm_instance_destroy(instance);
}

static void test_old_bytecode_is_refused(void** state) {
  (void)state;
  char path[4096];
  if (!ireed_test_shared_path("conformance/negative/simple_mul_bytecode16.vmfb",
                              path, sizeof(path))) {
    skip();
  }
  irvm_instance_t* instance = make_instance();
  irvm_module_t* module = NULL;
  irt_status_t status = load_module(instance, path, &module);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "bytecode version"));
  assert_non_null(strstr(text, "expected 17"));
  irt_status_free(status);
  irvm_instance_destroy(instance);
}

static void test_identity_i64_runs(void** state) {
  (void)state;
  char path[4096];
  if (!ireed_test_shared_path("conformance/v3.11/identity_i64.vmfb", path,
                              sizeof(path))) {
    skip();
  }
  irvm_instance_t* instance = make_instance();
  irvm_module_t* module = NULL;
  assert_true(irt_status_is_ok(load_module(instance, path, &module)));
  irvm_context_t* context = NULL;
  assert_true(irt_status_is_ok(
      irvm_context_create(instance, irt_allocator_system(), &context)));
  assert_true(irt_status_is_ok(irvm_context_register_modules(context, &module, 1)));
  irvm_module_release(module);

  irvm_function_t function;
  assert_true(irt_status_is_ok(irvm_context_resolve_function(
      context, irt_make_cstring_view("module.identity_i64"), &function)));
  // Any object of the right type works: the function returns its argument.
  irvm_ref_object_t* view = calloc(1, sizeof(*view));
  irt_ref_count_init(&view->count);
  irvm_variant_t argument = irvm_variant_from_ref(
      irvm_ref_wrap(view, &placeholder_types[2]));
  irvm_variant_t results[2];
  size_t result_count = 0;
  placeholder_destroyed = 0;
  irt_status_t status = irvm_invoke(&function, NULL, &argument, 1, results, 2,
                                    &result_count, irt_allocator_system());
  assert_true(irt_status_is_ok(status));
  assert_int_equal(result_count, 1);
  assert_ptr_equal(results[0].ref.ptr, view);
  irvm_variant_release(&results[0]);
  assert_int_equal(placeholder_destroyed, 0);
  irvm_variant_release(&argument);
  assert_int_equal(placeholder_destroyed, 1);

  // A wrong argument count is a clear error.
  status = irvm_invoke(&function, NULL, NULL, 0, results, 2, &result_count,
                       irt_allocator_system());
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  irvm_context_destroy(context);
  irvm_instance_destroy(instance);
}

static void test_missing_hal_module_is_reported(void** state) {
  (void)state;
  char path[4096];
  if (!ireed_test_shared_path("conformance/v3.11/simple_mul.vmfb", path,
                              sizeof(path))) {
    skip();
  }
  irvm_instance_t* instance = make_instance();
  irvm_module_t* module = NULL;
  assert_true(irt_status_is_ok(load_module(instance, path, &module)));
  irvm_context_t* context = NULL;
  assert_true(irt_status_is_ok(
      irvm_context_create(instance, irt_allocator_system(), &context)));
  irt_status_t status = irvm_context_register_modules(context, &module, 1);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  assert_non_null(strstr(text, "'hal'"));
  irt_status_free(status);
  irvm_module_release(module);
  irvm_context_destroy(context);
  irvm_instance_destroy(instance);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_v311_module_verifies),
      cmocka_unit_test(test_old_bytecode_is_refused),
      cmocka_unit_test(test_identity_i64_runs),
      cmocka_unit_test(test_missing_hal_module_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
