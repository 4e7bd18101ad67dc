// libireeclient against the fake server: handshake, model requests, daemon
// errors, inline and shared-memory tensors, output regions, asynchronous
// completion (callback and fd), concurrent invocations with replies out of
// order, and connections that break.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client/lib/ireeclient.h"
#include "tests/client/fake_server.h"

static void assert_status_code(irt_status_t status, irt_status_code_t code) {
  if (irt_status_code(status) != code) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    fail_msg("expected %s, got %s: %s", irt_status_code_string(code),
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

static void assert_ok(irt_status_t status) {
  assert_status_code(status, IRT_STATUS_OK);
}

static void assert_message(irt_status_t status, irt_status_code_t code,
                           const char* fragment) {
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  if (!strstr(text, fragment)) {
    fail_msg("'%s' does not contain '%s'", text, fragment);
  }
  assert_status_code(status, code);
}

// Builds mul(a, b) for |count| floats: a[i] = i, b[i] = 2.
static ireeclient_invocation_t* make_mul(ireeclient_connection_t* connection,
                                         size_t count) {
  float* a = malloc(count * sizeof(float));
  float* b = malloc(count * sizeof(float));
  for (size_t i = 0; i < count; ++i) {
    a[i] = (float)i;
    b[i] = 2.0f;
  }
  ireeclient_invocation_t* invocation = NULL;
  assert_ok(
      ireeclient_invocation_create(connection, FAKE_MODEL, "mul", &invocation));
  const uint64_t shape[1] = {count};
  assert_ok(ireeclient_invocation_add_tensor(
      invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, a,
      count * sizeof(float)));
  assert_ok(ireeclient_invocation_add_tensor(
      invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, b,
      count * sizeof(float)));
  free(a);
  free(b);
  return invocation;
}

static void check_mul_result(ireeclient_invocation_t* invocation,
                             size_t count) {
  assert_int_equal(ireeclient_invocation_result_count(invocation), 1);
  ireeclient_value_t value;
  assert_ok(ireeclient_invocation_result(invocation, 0, &value));
  assert_int_equal(value.type, IREECLIENT_VALUE_TENSOR);
  assert_int_equal(value.tensor.element_type, IREECLIENT_ELEMENT_TYPE_FLOAT_32);
  assert_int_equal(value.tensor.rank, 1);
  assert_int_equal(value.tensor.shape[0], count);
  assert_int_equal(value.tensor.byte_length, count * sizeof(float));
  const float* data = value.tensor.data;
  for (size_t i = 0; i < count; ++i) {
    if (data[i] != 2.0f * (float)i) fail_msg("element %zu is %f", i, data[i]);
  }
}

//===----------------------------------------------------------------------===//
// Connections and models
//===----------------------------------------------------------------------===//

static void test_handshake(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  assert_string_equal(ireeclient_server_software(connection), "fake-ireed 0");
  assert_int_equal(ireeclient_max_frame_size(connection), 1u << 20);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

static void test_incompatible_major(void** state) {
  (void)state;
  fake_server_t server;
  fake_server_options_t options = {.protocol_major = 2};
  int fd = -1;
  fake_server_start(&server, &options, &fd);
  ireeclient_connection_t* connection = NULL;
  assert_message(ireeclient_connect_fd(fd, NULL, &connection),
                 IRT_STATUS_INCOMPATIBLE, "protocol 2");
  assert_null(connection);
  fake_server_stop(&server);
}

static void test_connect_missing_socket(void** state) {
  (void)state;
  ireeclient_options_t options = {.socket_path = "/nonexistent/ireed.sock"};
  ireeclient_connection_t* connection = NULL;
  assert_message(ireeclient_connect(&options, &connection),
                 IRT_STATUS_UNAVAILABLE, "/nonexistent/ireed.sock");
  setenv("IREED_SOCKET", "/nonexistent/env.sock", 1);
  assert_message(ireeclient_connect(NULL, &connection), IRT_STATUS_UNAVAILABLE,
                 "/nonexistent/env.sock");
  unsetenv("IREED_SOCKET");
}

static void test_models_and_status(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);

  const char* paths[1] = {"/models/a.vmfb"};
  ireeclient_parameter_archive_t archive = {"model", "/w.irpa"};
  ireeclient_load_options_t load = {.name = "m",
                                    .module_paths = paths,
                                    .module_count = 1,
                                    .parameters = &archive,
                                    .parameter_count = 1,
                                    .device = "local-sync"};
  ireeclient_model_list_t* loaded = NULL;
  assert_ok(ireeclient_load_model(connection, &load, &loaded));
  assert_int_equal(loaded->count, 1);
  assert_string_equal(loaded->models[0].name, "m");
  assert_string_equal(loaded->models[0].device, "local-sync");
  assert_int_equal(loaded->models[0].function_count, 4);
  assert_string_equal(loaded->models[0].functions[0].calling_convention,
                      "0rr_r");
  assert_string_equal(loaded->models[0].functions[0].declaration,
                      "sync func @mul");
  assert_non_null(ireeclient_model_find_function(&loaded->models[0], "mul"));
  assert_non_null(
      ireeclient_model_find_function(&loaded->models[0], "module.mul"));
  assert_null(ireeclient_model_find_function(&loaded->models[0], "nope"));
  ireeclient_model_list_free(loaded);

  // The daemon's error comes back with its code and message.
  paths[0] = "/models/missing.vmfb";
  assert_message(ireeclient_load_model(connection, &load, NULL),
                 IRT_STATUS_NOT_FOUND, "cannot open module 'missing.vmfb'");
  load.module_count = 0;
  assert_status_code(ireeclient_load_model(connection, &load, NULL),
                     IRT_STATUS_INVALID_ARGUMENT);

  ireeclient_model_list_t* list = NULL;
  assert_ok(ireeclient_list_models(connection, &list));
  assert_int_equal(list->count, 1);
  assert_string_equal(list->models[0].name, FAKE_MODEL);
  assert_int_equal(list->models[0].invocations, 7);
  assert_int_equal(list->models[0].module_count, 1);
  assert_string_equal(list->models[0].module_paths[0], "/fake/fake.vmfb");
  ireeclient_model_list_free(list);

  ireeclient_server_status_t* status = NULL;
  assert_ok(ireeclient_server_status(connection, &status));
  assert_string_equal(status->software, "fake-ireed 0");
  assert_int_equal(status->uptime_ms, 1234);
  assert_int_equal(status->device_count, 1);
  assert_string_equal(status->devices[0].uri, "local-task");
  assert_true(status->devices[0].available);
  ireeclient_server_status_free(status);

  assert_ok(ireeclient_unload_model(connection, FAKE_MODEL));
  assert_message(ireeclient_unload_model(connection, "other"),
                 IRT_STATUS_NOT_FOUND, "no model named 'other'");
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

//===----------------------------------------------------------------------===//
// Invocations
//===----------------------------------------------------------------------===//

static void test_invoke_inline(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_invocation_t* invocation = make_mul(connection, 4);
  assert_ok(ireeclient_invoke(invocation));
  check_mul_result(invocation, 4);
  uint64_t queue_ns = 0, execute_ns = 0;
  ireeclient_invocation_timing(invocation, &queue_ns, &execute_ns);
  assert_int_equal(queue_ns, 5);
  assert_int_equal(execute_ns, 6);
  ireeclient_value_t value;
  assert_status_code(ireeclient_invocation_result(invocation, 1, &value),
                     IRT_STATUS_OUT_OF_RANGE);
  // Invoking again reuses the inputs.
  assert_ok(ireeclient_invoke(invocation));
  check_mul_result(invocation, 4);
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
  assert_int_equal(server.inline_inputs, 4);
  assert_int_equal(server.shm_inputs, 0);
  assert_int_equal(server.registrations, 0);
}

static void test_invoke_errors(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_invocation_t* invocation = NULL;
  assert_ok(ireeclient_invocation_create(connection, FAKE_MODEL, "fail",
                                         &invocation));
  assert_message(ireeclient_invoke(invocation), IRT_STATUS_INVALID_ARGUMENT,
                 FAKE_ERROR_MESSAGE);
  // wait returns the same outcome again.
  assert_message(ireeclient_invocation_wait(invocation),
                 IRT_STATUS_INVALID_ARGUMENT, FAKE_ERROR_MESSAGE);
  assert_int_equal(ireeclient_invocation_result_count(invocation), 0);
  irt_status_t status = ireeclient_invocation_wait(invocation);
  assert_false(ireeclient_status_is_busy(status));
  irt_status_free(status);
  ireeclient_invocation_destroy(invocation);

  // The daemon's "busy" refusals are told apart from other errors.
  assert_ok(ireeclient_invocation_create(connection, FAKE_MODEL, "busy",
                                         &invocation));
  status = ireeclient_invoke(invocation);
  assert_true(ireeclient_status_is_busy(status));
  irt_status_free(status);
  ireeclient_invocation_destroy(invocation);
  status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  assert_false(ireeclient_status_is_busy(status));
  irt_status_free(status);
  assert_false(ireeclient_status_is_busy(IRT_OK));

  // Scalars travel too; the fake refuses them for mul.
  assert_ok(
      ireeclient_invocation_create(connection, FAKE_MODEL, "mul", &invocation));
  assert_ok(ireeclient_invocation_add_i32(invocation, 1));
  assert_ok(ireeclient_invocation_add_i64(invocation, 2));
  assert_ok(ireeclient_invocation_add_f32(invocation, 3.0f));
  assert_ok(ireeclient_invocation_add_f64(invocation, 4.0));
  assert_message(ireeclient_invoke(invocation), IRT_STATUS_INVALID_ARGUMENT,
                 "two f32 tensors");
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

static void test_large_inputs_use_staging(void** state) {
  (void)state;
  fake_server_t server;
  // 256-byte threshold: 100 floats (400 bytes) go through shared memory.
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 256);
  for (int round = 0; round < 3; ++round) {
    ireeclient_invocation_t* invocation = make_mul(connection, 100);
    assert_ok(ireeclient_invoke(invocation));
    check_mul_result(invocation, 100);
    ireeclient_invocation_destroy(invocation);
  }
  // Small ones stay inline next to large ones.
  ireeclient_invocation_t* invocation = make_mul(connection, 10);
  assert_ok(ireeclient_invoke(invocation));
  check_mul_result(invocation, 10);
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
  assert_int_equal(server.shm_inputs, 6);
  assert_int_equal(server.inline_inputs, 2);
  // Two regions for the two inputs of the first round, reused afterwards.
  assert_int_equal(server.registrations, 2);
  assert_int_equal(server.shm_seals & (F_SEAL_SHRINK | F_SEAL_GROW),
                   F_SEAL_SHRINK | F_SEAL_GROW);
}

static void test_user_regions(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_shm_t* shm = NULL;
  assert_ok(ireeclient_shm_create(connection, 4096, &shm));
  assert_int_equal(ireeclient_shm_size(shm), 4096);
  assert_int_equal(ireeclient_shm_region_id(shm), 100);

  uint64_t offsets[3];
  assert_ok(ireeclient_shm_allocate(shm, 10, &offsets[0]));
  assert_ok(ireeclient_shm_allocate(shm, 16, &offsets[1]));
  assert_ok(ireeclient_shm_allocate(shm, 16, &offsets[2]));
  assert_int_equal(offsets[0], 0);
  assert_int_equal(offsets[1], 64);
  assert_int_equal(offsets[2], 128);
  uint64_t too_far = 0;
  assert_status_code(ireeclient_shm_allocate(shm, 4000, &too_far),
                     IRT_STATUS_RESOURCE_EXHAUSTED);

  float* base = ireeclient_shm_data(shm);
  float* a = (float*)((uint8_t*)base + offsets[1]);
  float* b = (float*)((uint8_t*)base + offsets[2]);
  for (int i = 0; i < 4; ++i) {
    a[i] = (float)i;
    b[i] = 2.0f;
  }
  ireeclient_invocation_t* invocation = NULL;
  assert_ok(
      ireeclient_invocation_create(connection, FAKE_MODEL, "mul", &invocation));
  const uint64_t shape[1] = {4};
  assert_ok(ireeclient_invocation_add_tensor_shm(
      invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, shm, offsets[1],
      16));
  assert_ok(ireeclient_invocation_add_tensor_shm(
      invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, shm, offsets[2],
      16));
  assert_status_code(ireeclient_invocation_add_tensor_shm(
                         invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1,
                         shm, 4090, 16),
                     IRT_STATUS_OUT_OF_RANGE);
  uint64_t out_offset = 0;
  assert_ok(ireeclient_shm_allocate(shm, 16, &out_offset));
  assert_ok(
      ireeclient_invocation_set_output_shm(invocation, 0, shm, out_offset, 16));
  assert_ok(ireeclient_invoke(invocation));
  check_mul_result(invocation, 4);
  ireeclient_value_t value;
  assert_ok(ireeclient_invocation_result(invocation, 0, &value));
  assert_ptr_equal(value.tensor.data, (uint8_t*)base + out_offset);
  ireeclient_invocation_destroy(invocation);

  // A region of the caller's own memfd.
  int fd = memfd_create("test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, 8192), 0);
  ireeclient_shm_t* own = NULL;
  assert_status_code(ireeclient_shm_register_fd(connection, fd, 8192, &own),
                     IRT_STATUS_INVALID_ARGUMENT);  // not sealed yet
  assert_int_equal(fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0);
  assert_status_code(ireeclient_shm_register_fd(connection, fd, 9000, &own),
                     IRT_STATUS_INVALID_ARGUMENT);  // too small
  assert_ok(ireeclient_shm_register_fd(connection, fd, 8192, &own));
  close(fd);
  assert_int_equal(ireeclient_shm_size(own), 8192);
  ireeclient_shm_release(own);

  ireeclient_shm_release(shm);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
  assert_int_equal(server.registrations, 2);
  assert_int_equal(server.unregistrations, 2);
}

typedef struct callback_record_s {
  atomic_int calls;
  irt_status_code_t code;
  bool destroy;
} callback_record_t;

static void record_completion(void* user_data,
                              ireeclient_invocation_t* invocation,
                              irt_status_t status) {
  callback_record_t* record = user_data;
  record->code = irt_status_code(status);
  if (!status) check_mul_result(invocation, 8);
  if (record->destroy) ireeclient_invocation_destroy(invocation);
  atomic_fetch_add(&record->calls, 1);
}

static void test_async_callback_and_fd(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_invocation_t* invocation = make_mul(connection, 8);

  int fd = -1;
  assert_ok(ireeclient_invocation_fd(invocation, &fd));
  // Never invoked: readable at once.
  struct pollfd poll_fd = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&poll_fd, 1, 0), 1);

  callback_record_t record = {0};
  assert_ok(ireeclient_invoke_async(invocation, record_completion, &record));
  assert_int_equal(poll(&poll_fd, 1, 10000), 1);
  assert_true(ireeclient_invocation_is_done(invocation));
  assert_ok(ireeclient_invocation_wait(invocation));
  check_mul_result(invocation, 8);
  ireeclient_invocation_destroy(invocation);  // waits for the callback
  assert_int_equal(atomic_load(&record.calls), 1);
  assert_int_equal(record.code, IRT_STATUS_OK);

  // Destroying the invocation from its own callback.
  callback_record_t self_destroy = {.destroy = true};
  invocation = make_mul(connection, 8);
  assert_ok(
      ireeclient_invoke_async(invocation, record_completion, &self_destroy));
  while (atomic_load(&self_destroy.calls) == 0) usleep(1000);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

//===----------------------------------------------------------------------===//
// Concurrency
//===----------------------------------------------------------------------===//

#define CONCURRENT_THREADS 8

typedef struct worker_s {
  ireeclient_connection_t* connection;
  size_t count;
} worker_t;

static void* invoke_worker(void* arg) {
  worker_t* worker = arg;
  ireeclient_invocation_t* invocation =
      make_mul(worker->connection, worker->count);
  assert_ok(ireeclient_invoke(invocation));
  check_mul_result(invocation, worker->count);
  ireeclient_invocation_destroy(invocation);
  return NULL;
}

static void test_concurrent_invokes_out_of_order(void** state) {
  (void)state;
  fake_server_t server;
  // Replies come only once all eight requests arrived, last first.
  fake_server_options_t options = {.hold_invokes = CONCURRENT_THREADS};
  ireeclient_connection_t* connection =
      fake_server_connect(&server, &options, 256);
  pthread_t threads[CONCURRENT_THREADS];
  worker_t workers[CONCURRENT_THREADS];
  for (int i = 0; i < CONCURRENT_THREADS; ++i) {
    // Distinct sizes (some staged, some inline) make mixed-up replies show.
    workers[i] = (worker_t){connection, 3 + (size_t)i * 20};
    assert_int_equal(
        pthread_create(&threads[i], NULL, invoke_worker, &workers[i]), 0);
  }
  for (int i = 0; i < CONCURRENT_THREADS; ++i) {
    pthread_join(threads[i], NULL);
  }
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
  assert_int_equal(server.invokes, CONCURRENT_THREADS);
}

//===----------------------------------------------------------------------===//
// Broken connections
//===----------------------------------------------------------------------===//

static void test_server_closes(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_invocation_t* invocation = NULL;
  assert_ok(ireeclient_invocation_create(connection, FAKE_MODEL, "close",
                                         &invocation));
  assert_message(ireeclient_invoke(invocation), IRT_STATUS_UNAVAILABLE,
                 FAKE_CLOSE_MESSAGE);
  // Every later request fails the same way, without hanging.
  assert_message(ireeclient_unload_model(connection, FAKE_MODEL),
                 IRT_STATUS_UNAVAILABLE, "ireed closed the connection");
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

static void test_server_sends_garbage(void** state) {
  (void)state;
  fake_server_t server;
  ireeclient_connection_t* connection = fake_server_connect(&server, NULL, 0);
  ireeclient_invocation_t* invocation = NULL;
  assert_ok(ireeclient_invocation_create(connection, FAKE_MODEL, "junk",
                                         &invocation));
  assert_message(ireeclient_invoke(invocation), IRT_STATUS_INVALID_ARGUMENT,
                 "maximum frame size");
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(connection);
  fake_server_stop(&server);
}

static void test_disconnect_cancels_pending(void** state) {
  (void)state;
  fake_server_t server;
  // The fake holds replies until two invokes arrived: one never comes.
  fake_server_options_t options = {.hold_invokes = 2};
  ireeclient_connection_t* connection =
      fake_server_connect(&server, &options, 0);
  ireeclient_invocation_t* invocation = make_mul(connection, 4);
  assert_ok(ireeclient_invoke_async(invocation, NULL, NULL));
  assert_false(ireeclient_invocation_is_done(invocation));
  ireeclient_shm_t* shm = NULL;
  assert_ok(ireeclient_shm_create(connection, 128, &shm));
  ireeclient_disconnect(connection);
  assert_status_code(ireeclient_invocation_wait(invocation),
                     IRT_STATUS_CANCELLED);
  assert_status_code(ireeclient_invoke(invocation), IRT_STATUS_CANCELLED);
  // Objects outlive the connection and are freed on their own.
  ireeclient_shm_release(shm);
  ireeclient_invocation_destroy(invocation);
  fake_server_stop(&server);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_handshake),
      cmocka_unit_test(test_incompatible_major),
      cmocka_unit_test(test_connect_missing_socket),
      cmocka_unit_test(test_models_and_status),
      cmocka_unit_test(test_invoke_inline),
      cmocka_unit_test(test_invoke_errors),
      cmocka_unit_test(test_large_inputs_use_staging),
      cmocka_unit_test(test_user_regions),
      cmocka_unit_test(test_async_callback_and_fd),
      cmocka_unit_test(test_concurrent_invokes_out_of_order),
      cmocka_unit_test(test_server_closes),
      cmocka_unit_test(test_server_sends_garbage),
      cmocka_unit_test(test_disconnect_cancels_pending),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
