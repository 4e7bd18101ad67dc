// libireeclient against a real ireed running the bundled sample model
// (runtime/samples): loads, inline and shared-memory tensors, output
// regions, concurrent synchronous and asynchronous invocations, batches
// (ireeclient_invoke_all: through the ring, in rounds, with failures,
// socket fallbacks and refused arguments), and the daemon's own error
// messages; stats; a busy daemon and a refused user as
// libireeclient and ireectl report them.
//
// usage: test_client_daemon IREED SAMPLE.vmfb IREECTL
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/lib/ireeclient.h"
#include "tests/daemon/daemon_testing.h"

static const char* g_ireed;
static const char* g_sample;
static const char* g_ireectl;

typedef struct fixture_s {
  ireed_test_daemon_t daemon;
  ireeclient_connection_t* connection;
} fixture_t;

static void check_ok(irt_status_t status, const char* what) {
  if (!status) return;
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("%s: %s", what, text);
}

static void check_error(irt_status_t status, irt_status_code_t code,
                        const char* fragment) {
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  if (irt_status_code(status) != code || !strstr(text, fragment)) {
    fail_msg("expected %s containing '%s', got %s: %s",
             irt_status_code_string(code), fragment,
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

static int setup(void** state) {
  fixture_t* fixture = calloc(1, sizeof(*fixture));
  ireed_test_daemon_start(&fixture->daemon, g_ireed, "--log-level=warning",
                          NULL);
  ireeclient_options_t options = {.socket_path = fixture->daemon.socket_path};
  irt_status_t status = ireeclient_connect(&options, &fixture->connection);
  if (!status) {
    const char* paths[1] = {g_sample};
    ireeclient_load_options_t load = {
        .name = "sample", .module_paths = paths, .module_count = 1};
    status = ireeclient_load_model(fixture->connection, &load, NULL);
  }
  if (status) {
    // cmocka skips the teardown of a failed setup: stop the daemon here.
    ireeclient_disconnect(fixture->connection);
    ireed_test_daemon_stop(&fixture->daemon);
    free(fixture);
    check_ok(status, "setup");
  }
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  fixture_t* fixture = *state;
  ireeclient_disconnect(fixture->connection);
  // How cleanly ireed exits is the daemon's tests' business (under LSan a
  // third-party Vulkan driver's leak makes it exit with 1); a daemon killed
  // by a signal, though, means these requests crashed it.
  int exit_status = ireed_test_daemon_stop(&fixture->daemon);
  free(fixture);
  return exit_status < 128 ? 0 : -1;
}

static irt_status_t connect_to(const ireed_test_daemon_t* daemon,
                               ireeclient_connection_t** out_connection) {
  ireeclient_options_t options = {.socket_path = daemon->socket_path};
  return ireeclient_connect(&options, out_connection);
}

// simple_mul(a, b) with a[i] = i, b[i] = 3 over |count| floats; inputs are
// copied (inline or staged per the connection's threshold).
static ireeclient_invocation_t* make_mul(ireeclient_connection_t* connection,
                                         size_t count) {
  float* a = malloc(count * sizeof(float));
  float* b = malloc(count * sizeof(float));
  for (size_t i = 0; i < count; ++i) {
    a[i] = (float)i;
    b[i] = 3.0f;
  }
  ireeclient_invocation_t* invocation = NULL;
  check_ok(ireeclient_invocation_create(connection, "sample", "simple_mul",
                                        &invocation),
           "create");
  const uint64_t shape[1] = {count};
  check_ok(ireeclient_invocation_add_tensor(invocation,
                                            IREECLIENT_ELEMENT_TYPE_FLOAT_32,
                                            shape, 1, a, count * sizeof(float)),
           "input 0");
  check_ok(ireeclient_invocation_add_tensor(invocation,
                                            IREECLIENT_ELEMENT_TYPE_FLOAT_32,
                                            shape, 1, b, count * sizeof(float)),
           "input 1");
  free(a);
  free(b);
  return invocation;
}

static void check_product(const ireeclient_invocation_t* invocation,
                          size_t count) {
  assert_int_equal(ireeclient_invocation_result_count(invocation), 1);
  ireeclient_value_t value;
  check_ok(ireeclient_invocation_result(invocation, 0, &value), "result");
  assert_int_equal(value.type, IREECLIENT_VALUE_TENSOR);
  assert_int_equal(value.tensor.element_type, IREECLIENT_ELEMENT_TYPE_FLOAT_32);
  assert_int_equal(value.tensor.rank, 1);
  assert_int_equal(value.tensor.shape[0], count);
  assert_int_equal(value.tensor.byte_length, count * sizeof(float));
  const float* data = value.tensor.data;
  for (size_t i = 0; i < count; ++i) {
    if (data[i] != 3.0f * (float)i) fail_msg("element %zu is %f", i, data[i]);
  }
}

// simple_mul with shapes that disagree: fails in the module's own assert.
static ireeclient_invocation_t* make_mismatch(
    ireeclient_connection_t* connection) {
  ireeclient_invocation_t* invocation = NULL;
  check_ok(ireeclient_invocation_create(connection, "sample", "simple_mul",
                                        &invocation),
           "create");
  const float a[4] = {1, 2, 3, 4};
  const uint64_t shape4[1] = {4}, shape3[1] = {3};
  check_ok(ireeclient_invocation_add_tensor(invocation,
                                            IREECLIENT_ELEMENT_TYPE_FLOAT_32,
                                            shape4, 1, a, sizeof(a)),
           "a");
  check_ok(ireeclient_invocation_add_tensor(invocation,
                                            IREECLIENT_ELEMENT_TYPE_FLOAT_32,
                                            shape3, 1, a, 3 * sizeof(float)),
           "b");
  return invocation;
}

static void test_model_info(void** state) {
  fixture_t* fixture = *state;
  ireeclient_model_list_t* list = NULL;
  check_ok(ireeclient_list_models(fixture->connection, &list), "list");
  assert_int_equal(list->count, 1);
  const ireeclient_model_info_t* model = &list->models[0];
  assert_string_equal(model->name, "sample");
  assert_string_equal(model->device, "local-task");
  const ireeclient_function_info_t* function =
      ireeclient_model_find_function(model, "simple_mul");
  assert_non_null(function);
  assert_string_equal(function->calling_convention, "0rr_r");
  assert_non_null(strstr(function->declaration, "tensor<?xf32>"));
  ireeclient_model_list_free(list);

  ireeclient_server_status_t* status = NULL;
  check_ok(ireeclient_server_status(fixture->connection, &status), "status");
  assert_int_equal(status->models, 1);
  assert_true(status->device_count >= 2);
  ireeclient_server_status_free(status);
}

static void test_inline_and_staged(void** state) {
  fixture_t* fixture = *state;
  // 4 floats inline; 256 Ki floats (1 MiB each) through staging regions,
  // twice to reuse them.
  const size_t counts[] = {4, 256 * 1024, 256 * 1024};
  for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); ++i) {
    ireeclient_invocation_t* invocation =
        make_mul(fixture->connection, counts[i]);
    check_ok(ireeclient_invoke(invocation), "invoke");
    check_product(invocation, counts[i]);
    ireeclient_invocation_destroy(invocation);
  }
}

static void test_user_region_in_and_out(void** state) {
  fixture_t* fixture = *state;
  const size_t count = 1000;
  const uint64_t bytes = count * sizeof(float);
  ireeclient_shm_t* shm = NULL;
  check_ok(ireeclient_shm_create(fixture->connection, 3 * 4096 + 256, &shm),
           "shm");
  uint64_t a_offset = 0, b_offset = 0, out_offset = 0;
  check_ok(ireeclient_shm_allocate(shm, bytes, &a_offset), "a");
  check_ok(ireeclient_shm_allocate(shm, bytes, &b_offset), "b");
  check_ok(ireeclient_shm_allocate(shm, bytes, &out_offset), "out");
  uint8_t* base = ireeclient_shm_data(shm);
  float* a = (float*)(base + a_offset);
  float* b = (float*)(base + b_offset);
  for (size_t i = 0; i < count; ++i) {
    a[i] = (float)i;
    b[i] = 3.0f;
  }
  ireeclient_invocation_t* invocation = NULL;
  check_ok(ireeclient_invocation_create(fixture->connection, "sample",
                                        "simple_mul", &invocation),
           "create");
  const uint64_t shape[1] = {count};
  check_ok(ireeclient_invocation_add_tensor_shm(
               invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, shm,
               a_offset, bytes),
           "a");
  check_ok(ireeclient_invocation_add_tensor_shm(
               invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, shape, 1, shm,
               b_offset, bytes),
           "b");
  check_ok(ireeclient_invocation_set_output_shm(invocation, 0, shm, out_offset,
                                                bytes),
           "output");
  check_ok(ireeclient_invoke(invocation), "invoke");
  check_product(invocation, count);
  ireeclient_value_t value;
  check_ok(ireeclient_invocation_result(invocation, 0, &value), "result");
  assert_ptr_equal(value.tensor.data, base + out_offset);
  ireeclient_invocation_destroy(invocation);
  ireeclient_shm_release(shm);
}

#define THREADS 4
#define PER_THREAD 16

static void* invoke_many(void* arg) {
  ireeclient_connection_t* connection = arg;
  for (int i = 0; i < PER_THREAD; ++i) {
    size_t count = 1 + (size_t)(i * 4099) % 40000;  // inline and staged
    ireeclient_invocation_t* invocation = make_mul(connection, count);
    check_ok(ireeclient_invoke(invocation), "invoke");
    check_product(invocation, count);
    ireeclient_invocation_destroy(invocation);
  }
  return NULL;
}

static void test_concurrent_sync(void** state) {
  fixture_t* fixture = *state;
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    assert_int_equal(
        pthread_create(&threads[i], NULL, invoke_many, fixture->connection), 0);
  }
  for (int i = 0; i < THREADS; ++i) pthread_join(threads[i], NULL);
}

typedef struct completion_s {
  atomic_int done;
  atomic_int failed;
} completion_t;

static void on_complete(void* user_data, ireeclient_invocation_t* invocation,
                        irt_status_t status) {
  (void)invocation;
  completion_t* completion = user_data;
  if (status) atomic_fetch_add(&completion->failed, 1);
  atomic_fetch_add(&completion->done, 1);
}

static void test_async_batch(void** state) {
  fixture_t* fixture = *state;
  enum { kCount = 32 };
  ireeclient_invocation_t* invocations[kCount];
  completion_t completion = {0};
  for (int i = 0; i < kCount; ++i) {
    invocations[i] = make_mul(fixture->connection, 64 + (size_t)i);
    check_ok(ireeclient_invoke_async(invocations[i], on_complete, &completion),
             "invoke_async");
  }
  for (int i = 0; i < kCount; ++i) {
    check_ok(ireeclient_invocation_wait(invocations[i]), "wait");
    check_product(invocations[i], 64 + (size_t)i);
    ireeclient_invocation_destroy(invocations[i]);
  }
  assert_int_equal(atomic_load(&completion.done), kCount);
  assert_int_equal(atomic_load(&completion.failed), 0);
}

static void test_daemon_errors(void** state) {
  fixture_t* fixture = *state;
  ireeclient_invocation_t* invocation = NULL;
  check_ok(ireeclient_invocation_create(fixture->connection, "sample", "nope",
                                        &invocation),
           "create");
  check_error(ireeclient_invoke(invocation), IRT_STATUS_NOT_FOUND, "nope");
  ireeclient_invocation_destroy(invocation);

  invocation = make_mismatch(fixture->connection);
  check_error(ireeclient_invoke(invocation), IRT_STATUS_INVALID_ARGUMENT,
              "input1 shape mismatch");
  ireeclient_invocation_destroy(invocation);

  const char* paths[1] = {"/nonexistent/model.vmfb"};
  ireeclient_load_options_t load = {
      .name = "missing", .module_paths = paths, .module_count = 1};
  check_error(ireeclient_load_model(fixture->connection, &load, NULL),
              IRT_STATUS_NOT_FOUND, "/nonexistent/model.vmfb");
  check_error(ireeclient_unload_model(fixture->connection, "missing"),
              IRT_STATUS_NOT_FOUND, "missing");

  // The connection stays usable after errors.
  invocation = make_mul(fixture->connection, 8);
  check_ok(ireeclient_invoke(invocation), "invoke");
  check_product(invocation, 8);
  ireeclient_invocation_destroy(invocation);
  check_ok(ireeclient_unload_model(fixture->connection, "sample"), "unload");
  ireeclient_model_list_t* list = NULL;
  check_ok(ireeclient_list_models(fixture->connection, &list), "list");
  assert_int_equal(list->count, 0);
  ireeclient_model_list_free(list);
}

//===----------------------------------------------------------------------===//
// ireeclient_invoke_all
//===----------------------------------------------------------------------===//

#define BATCH_MAX 40  // more than the ring's 16 slots: it goes in rounds

// Invokes |count| invocations of make_mul(connection, sizes[i]) as one
// batch, twice (the invocations are reused), and checks every result.
static void invoke_batch_of_muls(ireeclient_connection_t* connection,
                                 const size_t* sizes, size_t count) {
  ireeclient_invocation_t* invocations[BATCH_MAX];
  assert_true(count <= BATCH_MAX);
  for (size_t i = 0; i < count; ++i) {
    invocations[i] = make_mul(connection, sizes[i]);
  }
  for (int round = 0; round < 2; ++round) {
    check_ok(ireeclient_invoke_all(invocations, count), "invoke_all");
    for (size_t i = 0; i < count; ++i) {
      assert_true(ireeclient_invocation_is_done(invocations[i]));
      check_ok(ireeclient_invocation_wait(invocations[i]), "wait");
      check_product(invocations[i], sizes[i]);
    }
  }
  for (size_t i = 0; i < count; ++i) {
    ireeclient_invocation_destroy(invocations[i]);
  }
}

// Batches of 1, 5, 16 (the ring's slots) and 40 (rounds): each invocation
// has its own size, so a result landing in the wrong one shows.
static void test_invoke_all(void** state) {
  fixture_t* fixture = *state;
  size_t sizes[BATCH_MAX];
  for (size_t i = 0; i < BATCH_MAX; ++i) sizes[i] = 1 + i;
  const size_t counts[] = {1, 5, 16, BATCH_MAX};
  for (size_t c = 0; c < sizeof(counts) / sizeof(counts[0]); ++c) {
    invoke_batch_of_muls(fixture->connection, sizes, counts[c]);
  }
  check_ok(ireeclient_invoke_all(NULL, 0), "an empty batch");
}

// Failing invocations fail alone; the batch returns the first failure in
// array order.
static void test_invoke_all_errors(void** state) {
  fixture_t* fixture = *state;
  enum { kCount = 6, kUnknown = 2, kMismatch = 4 };
  ireeclient_invocation_t* invocations[kCount];
  for (size_t i = 0; i < kCount; ++i) {
    if (i == kUnknown) {
      check_ok(ireeclient_invocation_create(fixture->connection, "sample",
                                            "nope", &invocations[i]),
               "create");
    } else if (i == kMismatch) {
      invocations[i] = make_mismatch(fixture->connection);
    } else {
      invocations[i] = make_mul(fixture->connection, 4 + i);
    }
  }
  check_error(ireeclient_invoke_all(invocations, kCount), IRT_STATUS_NOT_FOUND,
              "nope");
  for (size_t i = 0; i < kCount; ++i) {
    irt_status_t status = ireeclient_invocation_wait(invocations[i]);
    if (i == kUnknown) {
      check_error(status, IRT_STATUS_NOT_FOUND, "nope");
    } else if (i == kMismatch) {
      check_error(status, IRT_STATUS_INVALID_ARGUMENT,
                  "input1 shape mismatch");
      assert_int_equal(ireeclient_invocation_result_count(invocations[i]), 0);
    } else {
      check_ok(status, "wait");
      check_product(invocations[i], 4 + i);
    }
  }
  // Without the unknown function the mismatch is the first failure.
  check_error(ireeclient_invoke_all(invocations + kUnknown + 1,
                                    kCount - kUnknown - 1),
              IRT_STATUS_INVALID_ARGUMENT, "input1 shape mismatch");
  for (size_t i = 0; i < kCount; ++i) {
    ireeclient_invocation_destroy(invocations[i]);
  }
}

// Requests too large for a ring slot (160 KB inline, on a connection whose
// inline threshold keeps them in the request) and replies too large for
// one (a 160 KB result) take the socket, in batches of small ones.
static void test_invoke_all_large(void** state) {
  fixture_t* fixture = *state;
  const size_t sizes[] = {4, 40000, 8, 40000, 16};
  invoke_batch_of_muls(fixture->connection, sizes, 5);
  ireeclient_options_t options = {.socket_path = fixture->daemon.socket_path,
                                  .inline_threshold = 1u << 20};
  ireeclient_connection_t* connection = NULL;
  check_ok(ireeclient_connect(&options, &connection), "connect");
  invoke_batch_of_muls(connection, sizes, 5);
  ireeclient_disconnect(connection);
}

// Without a ring (IREECLIENT_RING=0) a batch goes on the socket.
static void test_invoke_all_without_ring(void** state) {
  fixture_t* fixture = *state;
  setenv("IREECLIENT_RING", "0", 1);
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = connect_to(&fixture->daemon, &connection);
  unsetenv("IREECLIENT_RING");
  check_ok(status, "connect");
  size_t sizes[BATCH_MAX];
  for (size_t i = 0; i < BATCH_MAX; ++i) sizes[i] = 1 + i;
  invoke_batch_of_muls(connection, sizes, 20);
  ireeclient_invocation_t* invocations[2] = {make_mul(connection, 4),
                                             make_mismatch(connection)};
  check_error(ireeclient_invoke_all(invocations, 2),
              IRT_STATUS_INVALID_ARGUMENT, "input1 shape mismatch");
  check_product(invocations[0], 4);
  ireeclient_invocation_destroy(invocations[0]);
  ireeclient_invocation_destroy(invocations[1]);
  ireeclient_disconnect(connection);
}

// Batches the call refuses before invoking anything: invocations of two
// connections, NULL entries, an invocation listed twice.
static void test_invoke_all_refused(void** state) {
  fixture_t* fixture = *state;
  ireeclient_connection_t* other = NULL;
  check_ok(connect_to(&fixture->daemon, &other), "connect");
  ireeclient_invocation_t* mine = make_mul(fixture->connection, 4);
  ireeclient_invocation_t* theirs = make_mul(other, 4);
  ireeclient_invocation_t* mixed[2] = {mine, theirs};
  check_error(ireeclient_invoke_all(mixed, 2), IRT_STATUS_INVALID_ARGUMENT,
              "invocation 1 of the batch ('simple_mul') belongs to another "
              "connection");
  ireeclient_invocation_t* with_null[2] = {mine, NULL};
  check_error(ireeclient_invoke_all(with_null, 2),
              IRT_STATUS_INVALID_ARGUMENT, "invocation 1 of the batch is NULL");
  check_error(ireeclient_invoke_all(NULL, 3), IRT_STATUS_INVALID_ARGUMENT,
              "NULL");
  ireeclient_invocation_t* twice[2] = {mine, mine};
  check_error(ireeclient_invoke_all(twice, 2), IRT_STATUS_FAILED_PRECONDITION,
              "listed twice");
  // Nothing ran, and nothing is left in flight.
  assert_true(ireeclient_invocation_is_done(mine));
  assert_true(ireeclient_invocation_is_done(theirs));
  assert_int_equal(ireeclient_invocation_result_count(mine), 0);
  assert_int_equal(ireeclient_invocation_result_count(theirs), 0);
  check_ok(ireeclient_invoke_all(&mine, 1), "invoke_all");
  check_product(mine, 4);
  ireeclient_invocation_destroy(mine);
  ireeclient_invocation_destroy(theirs);
  ireeclient_disconnect(other);
}

// Threads batching on one connection compete for the ring's 16 slots: a
// request that finds none takes the socket.
static void* invoke_batches(void* arg) {
  ireeclient_connection_t* connection = arg;
  const size_t sizes[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  for (int i = 0; i < 5; ++i) invoke_batch_of_muls(connection, sizes, 12);
  return NULL;
}

static void test_invoke_all_concurrent(void** state) {
  fixture_t* fixture = *state;
  pthread_t threads[THREADS];
  for (int i = 0; i < THREADS; ++i) {
    assert_int_equal(pthread_create(&threads[i], NULL, invoke_batches,
                                    fixture->connection),
                     0);
  }
  for (int i = 0; i < THREADS; ++i) pthread_join(threads[i], NULL);
}

// ireeclient_server_stats after a few invocations.
static void test_stats(void** state) {
  fixture_t* fixture = *state;
  for (int i = 0; i < 3; ++i) {
    ireeclient_invocation_t* invocation = make_mul(fixture->connection, 8);
    check_ok(ireeclient_invoke(invocation), "invoke");
    ireeclient_invocation_destroy(invocation);
  }
  ireeclient_stats_t* stats = NULL;
  check_ok(ireeclient_server_stats(fixture->connection, &stats), "stats");
  assert_int_equal(stats->clients, 1);
  assert_true(stats->workers >= 1);
  assert_int_equal(stats->model_count, 1);
  const ireeclient_model_stats_t* model = &stats->models[0];
  assert_string_equal(model->name, "sample");
  assert_string_equal(model->device, "local-task");
  assert_int_equal(model->invocations, 3);
  assert_int_equal(model->execute.count, 3);
  assert_true(model->execute.p50_ns > 0);
  assert_true(model->execute.p99_ns >= model->execute.p50_ns);
  assert_int_equal(model->bytes_staged, 3 * 2 * 8 * sizeof(float));
  bool device_found = false;
  for (size_t i = 0; i < stats->device_count; ++i) {
    device_found |= strcmp(stats->devices[i].uri, "local-task") == 0 &&
                    stats->devices[i].allocations > 0;
  }
  assert_true(device_found);
  ireeclient_stats_free(stats);
}

// Runs `ireectl --socket SOCKET status` (as |uid| when not 0) and returns
// its exit status; its stderr goes to |output|.
static int run_ireectl_status(const ireed_test_daemon_t* daemon, uid_t uid,
                              char* output, size_t capacity) {
  char path[160];
  snprintf(path, sizeof(path), "%s/ireectl.err", daemon->directory);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0 || dup2(fd, STDERR_FILENO) < 0) _exit(126);
    int null_fd = open("/dev/null", O_WRONLY);
    if (null_fd >= 0) dup2(null_fd, STDOUT_FILENO);
    if (uid &&
        (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)) {
      _exit(126);
    }
    execl(g_ireectl, g_ireectl, "--socket", daemon->socket_path, "status",
          (char*)NULL);
    _exit(127);
  }
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  FILE* file = fopen(path, "r");
  assert_non_null(file);
  size_t length = fread(output, 1, capacity - 1, file);
  output[length] = '\0';
  fclose(file);
  unlink(path);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A daemon at limits.max_clients: libireeclient's connect says busy
// (ireeclient_status_is_busy) and ireectl prints BUSY and exits 75.
static void test_busy_daemon(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start_config(&daemon, g_ireed,
                                 "limits:\n  max_clients: 1\n", NULL);
  // The start-up probe's connection may still count for a moment.
  ireeclient_connection_t* holder = NULL;
  irt_status_t status = IRT_OK;
  for (int attempt = 0; attempt < 200; ++attempt) {
    status = connect_to(&daemon, &holder);
    if (!ireeclient_status_is_busy(status)) break;
    irt_status_free(status);
    usleep(10 * 1000);
  }
  check_ok(status, "first connection");
  ireeclient_connection_t* refused = NULL;
  status = connect_to(&daemon, &refused);
  assert_null(refused);
  assert_true(ireeclient_status_is_busy(status));
  check_error(status, IRT_STATUS_RESOURCE_EXHAUSTED, "limits.max_clients");
  char output[1024];
  assert_int_equal(run_ireectl_status(&daemon, 0, output, sizeof(output)), 75);
  assert_non_null(strstr(output,
                         "ireectl status: BUSY: ireed is busy: 1 "
                         "clients are connected"));
  ireeclient_disconnect(holder);
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
}

// With access control on, a user no rule names gets PERMISSION_DENIED
// naming its uid from ireectl (exit 1). Needs root to switch users.
static void test_permission_denied(void** state) {
  (void)state;
  if (geteuid() != 0) {
    fprintf(stderr, "skipping: running ireectl as another user needs root\n");
    skip();
  }
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start_config(&daemon, g_ireed,
                                 "socket:\n  mode: \"0666\"\n"
                                 "access:\n  admin:\n    uids: [0]\n",
                                 NULL);
  ireed_test_daemon_open_to_all(&daemon);
  char output[1024];
  int exit_status = run_ireectl_status(&daemon, 65534, output, sizeof(output));
  if (exit_status == 126 || exit_status == 127) {
    // Root may not switch users here, or the build tree is private to its
    // owner (e.g. under /root).
    assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
    fprintf(stderr, "skipping: cannot run %s as uid 65534 (status %d)\n",
            g_ireectl, exit_status);
    skip();
  }
  assert_int_equal(exit_status, 1);
  if (!strstr(output, "ireectl status: PERMISSION_DENIED: ") ||
      !strstr(output, "uid 65534")) {
    fail_msg("ireectl as uid 65534 said: %s", output);
  }
  // Root (admin) is still served.
  ireeclient_connection_t* connection = NULL;
  check_ok(connect_to(&daemon, &connection), "admin connection");
  ireeclient_disconnect(connection);
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
}

// A daemon that dies while a synchronous invocation waits in the ring (or
// before it is submitted): the call fails instead of hanging.
static void test_daemon_killed(void** state) {
  (void)state;
  void* fixture_state = NULL;
  assert_int_equal(setup(&fixture_state), 0);
  fixture_t* fixture = fixture_state;
  ireeclient_invocation_t* invocation = make_mul(fixture->connection, 4);
  check_ok(ireeclient_invoke(invocation), "invoke");
  kill(fixture->daemon.pid, SIGKILL);
  assert_int_equal(ireed_test_daemon_wait(&fixture->daemon), 128 + SIGKILL);
  for (int i = 0; i < 3; ++i) {
    irt_status_t status = ireeclient_invoke(invocation);
    assert_true(irt_status_code(status) == IRT_STATUS_UNAVAILABLE ||
                irt_status_code(status) == IRT_STATUS_CANCELLED);
    irt_status_free(status);
  }
  ireeclient_invocation_t* batch[2] = {invocation,
                                       make_mul(fixture->connection, 4)};
  irt_status_t status = ireeclient_invoke_all(batch, 2);
  assert_true(irt_status_code(status) == IRT_STATUS_UNAVAILABLE ||
              irt_status_code(status) == IRT_STATUS_CANCELLED);
  irt_status_free(status);
  status = ireeclient_invocation_wait(batch[1]);
  assert_true(irt_status_code(status) == IRT_STATUS_UNAVAILABLE ||
              irt_status_code(status) == IRT_STATUS_CANCELLED);
  irt_status_free(status);
  ireeclient_invocation_destroy(batch[1]);
  ireeclient_invocation_destroy(invocation);
  ireeclient_disconnect(fixture->connection);
  free(fixture);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: test_client_daemon IREED SAMPLE.vmfb IREECTL\n");
    return 2;
  }
  g_ireed = argv[1];
  g_ireectl = argv[3];
  // The daemon opens modules by absolute path only.
  g_sample = realpath(argv[2], NULL);
  if (!g_sample) {
    fprintf(stderr, "test_client_daemon: no sample model at '%s'\n", argv[2]);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_model_info, setup, teardown),
      cmocka_unit_test_setup_teardown(test_inline_and_staged, setup, teardown),
      cmocka_unit_test_setup_teardown(test_user_region_in_and_out, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_sync, setup, teardown),
      cmocka_unit_test_setup_teardown(test_async_batch, setup, teardown),
      cmocka_unit_test_setup_teardown(test_daemon_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all_large, setup, teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all_without_ring, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all_refused, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_invoke_all_concurrent, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
      cmocka_unit_test(test_busy_daemon),
      cmocka_unit_test(test_permission_denied),
      cmocka_unit_test(test_daemon_killed),
  };
  int failures = cmocka_run_group_tests(tests, NULL, NULL);
  free((char*)g_sample);
  return failures;
}
