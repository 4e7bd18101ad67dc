// runtime/session in process: models from the conformance corpus and from
// a builder-made module with coarse-fences exports; function tables and
// lookup; invocation from many threads; the shared file mappings; failed
// loads that leak nothing.
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "hal/buffer_view.h"
#include "runtime/io/file_mapping.h"
#include "runtime/session/model.h"
#include "runtime/session/tensor.h"
#include "tests/daemon/async_module.h"
#include "tests/daemon/daemon_testing.h"

typedef struct session_fixture_s {
  irsess_runtime_t* runtime;
  char directory[64];
  char async_path[128];
} session_fixture_t;

static int setup(void** state) {
  session_fixture_t* fixture = calloc(1, sizeof(*fixture));
  assert_null(irsess_runtime_create(irt_allocator_system(), &fixture->runtime));
  snprintf(fixture->directory, sizeof(fixture->directory),
           "/tmp/ireed-session.XXXXXX");
  assert_non_null(mkdtemp(fixture->directory));
  assert_null(async_module_write(fixture->directory, fixture->async_path,
                                 sizeof(fixture->async_path)));
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  session_fixture_t* fixture = *state;
  irsess_runtime_destroy(fixture->runtime);
  unlink(fixture->async_path);
  rmdir(fixture->directory);
  free(fixture);
  return 0;
}

static irsess_model_t* load(session_fixture_t* fixture, const char* path,
                            const char* device) {
  const char* paths[1] = {path};
  irsess_model_options_t options = {
      .device = device, .module_paths = paths, .module_count = 1};
  irsess_model_t* model = NULL;
  irt_status_t status = irsess_model_load(fixture->runtime, &options,
                                          irt_allocator_system(), &model);
  if (status) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("loading '%s': %s", path, text);
  }
  return model;
}

// A 4xf32 buffer view argument holding |values|.
static irvm_variant_t make_view(irsess_model_t* model, const float* values) {
  irtool_tensor_t tensor;
  memset(&tensor, 0, sizeof(tensor));
  tensor.element_type = IREED_F32;
  tensor.rank = 1;
  tensor.shape[0] = 4;
  tensor.data = (uint8_t*)values;
  tensor.byte_length = 4 * sizeof(float);
  irhal_buffer_view_t* view = NULL;
  assert_null(irsess_buffer_view_upload(irsess_model_device(model), &tensor,
                                        irt_allocator_system(), &view));
  return irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
}

static void expect_view(irsess_model_t* model, const irvm_variant_t* result,
                        const float* expected) {
  irhal_buffer_view_t* view = irhal_buffer_view_deref(&result->ref);
  assert_non_null(view);
  irtool_tensor_t tensor;
  assert_null(irsess_buffer_view_read(irsess_model_device(model), view,
                                      irt_allocator_system(), &tensor));
  assert_int_equal(tensor.rank, 1);
  assert_int_equal(tensor.shape[0], 4);
  assert_memory_equal(tensor.data, expected, 4 * sizeof(float));
  irtool_tensor_free_data(&tensor);
}

static void test_conformance_model(void** state) {
  session_fixture_t* fixture = *state;
  char path[512];
  if (!ireed_test_corpus("v3.11/simple_mul.vmfb", path, sizeof(path))) skip();
  irsess_model_t* model = load(fixture, path, "local-task");
  assert_int_equal(irsess_model_function_count(model), 1);
  const irsess_function_t* function = irsess_model_function(model, 0);
  assert_true(irt_string_view_equal_cstring(function->name, "simple_mul"));
  assert_true(irt_string_view_equal_cstring(function->arguments, "rr"));
  assert_true(irt_string_view_equal_cstring(function->results, "r"));
  assert_false(function->coarse_fences);
  assert_null(function->async_variant);
  const irsess_function_t* found = NULL;
  assert_null(irsess_model_find_function(
      model, irt_make_cstring_view("module.simple_mul"), &found));
  assert_ptr_equal(found, function);
  irt_status_t status =
      irsess_model_find_function(model, irt_make_cstring_view("nope"), &found);
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  char text[256];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "no function 'nope'"));
  assert_non_null(strstr(text, "simple_mul"));
  irt_status_free(status);

  static const float a[4] = {1, 2, 3, 4}, product[4] = {1, 4, 9, 16};
  irvm_variant_t arguments[2] = {make_view(model, a), make_view(model, a)};
  irvm_variant_t results[1];
  size_t result_count = 0;
  assert_null(irsess_model_invoke(model, function, NULL, arguments, 2, results,
                                  1, &result_count));
  assert_int_equal(result_count, 1);
  expect_view(model, &results[0], product);
  irvm_variant_release(&results[0]);
  // The wrong count is refused before the VM sees it.
  status = irsess_model_invoke(model, function, NULL, arguments, 1, results, 1,
                               &result_count);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  irvm_variant_release(&arguments[0]);
  irvm_variant_release(&arguments[1]);
  irsess_model_release(model);
}

typedef struct invoke_thread_s {
  pthread_t thread;
  irsess_model_t* model;
  const irsess_function_t* function;
  int index;
  int failures;
} invoke_thread_t;

// No cmocka asserts off the main thread: failures are counted.
static void* invoke_thread_main(void* arg) {
  invoke_thread_t* self = arg;
  irvm_stack_t stack;
  irvm_stack_initialize(&stack, irt_allocator_system(), 0);
  irhal_device_t* device = irsess_model_device(self->model);
  for (int i = 0; i < 200 && !self->failures; ++i) {
    float values[4], expected[4];
    for (int k = 0; k < 4; ++k) {
      values[k] = (float)(self->index * 1000 + i + k);
      expected[k] = values[k] * values[k];
    }
    irhal_buffer_t* buffer = NULL;
    irhal_buffer_view_t* view = NULL;
    irhal_device_size_t shape[1] = {4};
    if (irsess_buffer_upload(device, values, sizeof(values), &buffer) ||
        irhal_buffer_view_create(buffer, 1, shape, IREED_F32,
                                 IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR,
                                 irt_allocator_system(), &view)) {
      ++self->failures;
      break;
    }
    irhal_buffer_release(buffer);
    irvm_variant_t argument =
        irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
    irvm_variant_t arguments[2] = {argument, argument};
    irvm_variant_t result = irvm_variant_empty();
    size_t count = 0;
    irt_status_t status = irsess_model_invoke(
        self->model, self->function, &stack, arguments, 2, &result, 1, &count);
    irtool_tensor_t tensor;
    if (status || count != 1 ||
        irsess_buffer_view_read(device, irhal_buffer_view_deref(&result.ref),
                                irt_allocator_system(), &tensor) ||
        memcmp(tensor.data, expected, sizeof(expected)) != 0) {
      irt_status_free(status);
      ++self->failures;
    }
    irvm_variant_release(&result);
    irvm_variant_release(&argument);
  }
  irvm_stack_deinitialize(&stack);
  return NULL;
}

static void test_concurrent_invocations(void** state) {
  session_fixture_t* fixture = *state;
  char path[512];
  if (!ireed_test_corpus("v3.11/simple_mul.vmfb", path, sizeof(path))) skip();
  irsess_model_t* model = load(fixture, path, "local-task");
  invoke_thread_t threads[8];
  for (int i = 0; i < 8; ++i) {
    threads[i] = (invoke_thread_t){.model = model,
                                   .function = irsess_model_function(model, 0),
                                   .index = i};
    assert_int_equal(pthread_create(&threads[i].thread, NULL,
                                    invoke_thread_main, &threads[i]),
                     0);
  }
  for (int i = 0; i < 8; ++i) {
    pthread_join(threads[i].thread, NULL);
    assert_int_equal(threads[i].failures, 0);
  }
  irsess_model_release(model);
}

// Models of one file share its mapping; devices are shared by name.
static void test_shared_mappings_and_devices(void** state) {
  session_fixture_t* fixture = *state;
  size_t before = irio_file_mapping_live_count();
  irsess_model_t* first = load(fixture, fixture->async_path, "local-sync");
  assert_int_equal(irio_file_mapping_live_count(), before + 1);
  irsess_model_t* second = load(fixture, fixture->async_path, "local-sync");
  assert_int_equal(irio_file_mapping_live_count(), before + 1);
  assert_ptr_equal(irsess_model_device(first), irsess_model_device(second));
  irsess_model_t* third = load(fixture, fixture->async_path, "local-task");
  assert_ptr_not_equal(irsess_model_device(first), irsess_model_device(third));
  irsess_model_release(first);
  irsess_model_release(second);
  irsess_model_release(third);
  assert_int_equal(irio_file_mapping_live_count(), before);
}

// Device settings (the config's devices[]) apply when the device is
// created, and only then.
static void test_device_options(void** state) {
  (void)state;
  irsess_runtime_t* runtime = NULL;
  assert_true(irt_status_is_ok(
      irsess_runtime_create(irt_allocator_system(), &runtime)));
  irsess_device_options_t options = {
      .name = "local-task", .worker_count = 3, .staging_size = 1u << 20};
  assert_true(
      irt_status_is_ok(irsess_runtime_configure_device(runtime, &options)));
  irhal_device_t* device = NULL;
  assert_true(irt_status_is_ok(irsess_runtime_device(
      runtime, irt_make_cstring_view("local-task"), &device)));
  bool ok = false;
  int64_t workers = 0;
  assert_true(irt_status_is_ok(irhal_device_query_i64(
      device, irt_make_cstring_view("hal.dispatch"),
      irt_make_cstring_view("concurrency"), &ok, &workers)));
  assert_int_equal(workers, 3);
  assert_int_equal(device->staging_size, 1u << 20);
  irhal_device_release(device);
  assert_int_equal(irt_status_consume_code(
                       irsess_runtime_configure_device(runtime, &options)),
                   IRT_STATUS_FAILED_PRECONDITION);
  options.name = "vulcan";
  assert_int_equal(irt_status_consume_code(
                       irsess_runtime_configure_device(runtime, &options)),
                   IRT_STATUS_NOT_FOUND);
  irsess_runtime_destroy(runtime);
}

static void test_async_exports(void** state) {
  session_fixture_t* fixture = *state;
  const char* devices[2] = {"local-sync", "local-task"};
  for (int d = 0; d < 2; ++d) {
    irsess_model_t* model = load(fixture, fixture->async_path, devices[d]);
    assert_int_equal(irsess_model_function_count(model), 3);
    const irsess_function_t *echo = NULL, *echo_async = NULL, *id = NULL;
    assert_null(irsess_model_find_function(model, irt_make_cstring_view("echo"),
                                           &echo));
    assert_null(irsess_model_find_function(
        model, irt_make_cstring_view("echo$async"), &echo_async));
    // Only "id$async" exists: "id" finds it.
    assert_null(
        irsess_model_find_function(model, irt_make_cstring_view("id"), &id));
    assert_true(irt_string_view_equal_cstring(id->name, "id$async"));
    assert_false(echo->coarse_fences);
    assert_true(echo_async->coarse_fences);
    assert_true(id->coarse_fences);
    assert_ptr_equal(echo->async_variant, echo_async);
    assert_ptr_equal(echo_async->async_variant, echo_async);
    assert_ptr_equal(id->async_variant, id);
    // The fences are not the caller's arguments.
    assert_true(irt_string_view_equal_cstring(echo_async->arguments, "r"));
    assert_true(irt_string_view_equal_cstring(id->arguments, "r"));
    assert_non_null(strstr(echo_async->declaration.data, "async func @echo"));

    static const float values[4] = {1.5f, -2, 3, 4};
    irvm_variant_t argument = make_view(model, values);
    const irsess_function_t* functions[3] = {echo, echo_async, id};
    for (int f = 0; f < 3; ++f) {
      // Synchronously (a coarse-fences export is waited for)...
      irvm_variant_t result = irvm_variant_empty();
      size_t count = 0;
      assert_null(irsess_model_invoke(model, functions[f], NULL, &argument, 1,
                                      &result, 1, &count));
      assert_int_equal(count, 1);
      expect_view(model, &result, values);
      irvm_variant_release(&result);
      // ...and through the fences.
      irhal_fence_t* fence = NULL;
      assert_null(irsess_model_invoke_async(model, functions[f], NULL,
                                            &argument, 1, NULL, &result, 1,
                                            &count, &fence));
      assert_non_null(fence);
      assert_null(irhal_fence_wait(fence, INT64_MAX));
      irhal_fence_release(fence);
      expect_view(model, &result, values);
      irvm_variant_release(&result);
    }
    irvm_variant_release(&argument);
    irsess_model_release(model);
  }
}

static void test_load_errors_leak_nothing(void** state) {
  session_fixture_t* fixture = *state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  size_t mappings = irio_file_mapping_live_count();
  const char* missing[1] = {"/nonexistent/m.vmfb"};
  const char* good[2] = {fixture->async_path, fixture->async_path};
  struct {
    const char* device;
    const char* const* paths;
    size_t count;
    irt_status_code_t code;
    const char* text;
  } cases[] = {
      {NULL, missing, 1, IRT_STATUS_NOT_FOUND, "cannot open module"},
      {"tpu", good, 1, IRT_STATUS_NOT_FOUND, "unknown device 'tpu'"},
      {NULL, good, 0, IRT_STATUS_INVALID_ARGUMENT, "at least one module"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    irsess_model_options_t options = {.device = cases[i].device,
                                      .module_paths = cases[i].paths,
                                      .module_count = cases[i].count};
    irsess_model_t* model = NULL;
    irt_status_t status =
        irsess_model_load(fixture->runtime, &options, allocator, &model);
    assert_null(model);
    assert_int_equal(irt_status_code(status), cases[i].code);
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    if (!strstr(text, cases[i].text)) fail_msg("case %zu: %s", i, text);
    irt_status_free(status);
  }
  // Every allocation failing in turn, until the load succeeds.
  for (size_t fail_after = 0;; ++fail_after) {
    counter.fail_after = counter.total_allocations + fail_after;
    irsess_model_options_t options = {
        .device = "local-sync", .module_paths = good, .module_count = 1};
    irsess_model_t* model = NULL;
    irt_status_t status =
        irsess_model_load(fixture->runtime, &options, allocator, &model);
    counter.fail_after = SIZE_MAX;
    if (!status) {
      irsess_model_release(model);
      break;
    }
    irt_status_free(status);
    assert_int_equal(counter.live_allocations, 0);
    assert_true(fail_after < 10000);
  }
  assert_int_equal(counter.live_allocations, 0);
  assert_int_equal(irio_file_mapping_live_count(), mappings);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conformance_model),
      cmocka_unit_test(test_concurrent_invocations),
      cmocka_unit_test(test_shared_mappings_and_devices),
      cmocka_unit_test(test_device_options),
      cmocka_unit_test(test_async_exports),
      cmocka_unit_test(test_load_errors_leak_nothing),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
