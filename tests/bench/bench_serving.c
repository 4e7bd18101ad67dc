// Serving overhead: the same invocations through ireed (libireeclient,
// tensors in shared memory) and in this process (the session machinery
// ireectl run --local uses, in a loop: no process start), measured in the
// same run on the same device.
//
//   bench_serving invoke IREED SAMPLE_VMFB [CONFORMANCE_DIR]
//       round-trip latency (p50, p99) of the sample model and of the shared
//       conformance simple_mul and matmul (skipped with a message when the
//       directory is absent); target: daemon p50 <= 2.0x in process. The
//       daemon is reached through the submission ring (libireeclient's
//       default); the socket path (IREECLIENT_RING=0) is reported too.
//   bench_serving throughput IREED SAMPLE_VMFB
//       1, 2, 8 and 32 client processes invoking one model as fast as they
//       can, first one synchronous call at a time (ireeclient_invoke: for
//       information), then in batches of THROUGHPUT_BATCH invocations
//       (ireeclient_invoke_all: the same call as THROUGHPUT_BATCH separate
//       invocations, each with its own inputs in shared memory); target:
//       the batched invocations/s at 8 clients >= 0.8x one in-process
//       loop's rate (one call at a time). Each client's last result is
//       compared with the in-process one.
//
// invoke runs on local-sync and local-task, throughput on local-sync (the
// cheapest call, so the most demanding ratio); $IREED_BENCH_DEVICE picks
// one device for both. Every figure is the median of BENCH_RUNS runs; invoke
// interleaves the runs of the in-process, ring and socket paths.
// Exits 1 when a target is missed.
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client/lib/ireeclient.h"
#include "hal/buffer_view.h"
#include "runtime/session/model.h"
#include "runtime/session/tensor.h"
#include "tests/bench/bench_support.h"

#define MAX_INPUTS 2
#define MAX_ELEMENTS 16
#define LATENCY_WARMUP 300
#define LATENCY_ITERATIONS 3000
#define THROUGHPUT_WARMUP 100
#define THROUGHPUT_MS 400
#define INVOKE_TARGET 2.0
#define THROUGHPUT_TARGET 0.8
#define THROUGHPUT_TARGET_CLIENTS 8
// Invocations a throughput client submits together (ireeclient_invoke_all).
#define THROUGHPUT_BATCH 16

// One benchmarked call: a module, a function and its f32 inputs.
typedef struct bench_case_s {
  const char* label;
  char path[PATH_MAX];
  const char* function;
  size_t input_count;
  struct {
    uint32_t rank;
    uint64_t shape[2];
  } inputs[MAX_INPUTS];
} bench_case_t;

static uint64_t bench_case_elements(const bench_case_t* c, size_t input) {
  uint64_t n = 1;
  for (uint32_t d = 0; d < c->inputs[input].rank; ++d) {
    n *= c->inputs[input].shape[d];
  }
  return n;
}

static const char* g_device = "local-sync";

static const char* bench_device(void) { return g_device; }

// The device(s) of a suite: $IREED_BENCH_DEVICE, else |defaults|.
static size_t bench_devices(const char** defaults, size_t count,
                            const char*** out_devices) {
  static const char* chosen[1];
  const char* device = getenv("IREED_BENCH_DEVICE");
  if (device && *device) {
    chosen[0] = device;
    *out_devices = chosen;
    return 1;
  }
  *out_devices = defaults;
  return count;
}

// Models are loaded in the daemon as "<label>-<device>".
static void model_name(const bench_case_t* c, char* name, size_t capacity) {
  snprintf(name, capacity, "%s-%s", c->label, bench_device());
}

//===----------------------------------------------------------------------===//
// In process
//===----------------------------------------------------------------------===//

typedef struct local_s {
  irsess_runtime_t* runtime;
  irsess_model_t* model;
  const irsess_function_t* function;
  irhal_device_t* device;
  irvm_stack_t stack;
  const bench_case_t* c;
  _Alignas(64) float inputs[MAX_INPUTS][MAX_ELEMENTS];
  float output[MAX_ELEMENTS];
} local_t;

static void local_open(local_t* local, const bench_case_t* c) {
  irt_allocator_t allocator = irt_allocator_system();
  memset(local, 0, sizeof(*local));
  local->c = c;
  BENCH_CHECK(irsess_runtime_create(allocator, &local->runtime));
  const char* paths[] = {c->path};
  irsess_model_options_t options = {
      .device = bench_device(), .module_paths = paths, .module_count = 1};
  BENCH_CHECK(
      irsess_model_load(local->runtime, &options, allocator, &local->model));
  BENCH_CHECK(irsess_model_find_function(
      local->model, irt_make_cstring_view(c->function), &local->function));
  local->device = irsess_model_device(local->model);
  irvm_stack_initialize(&local->stack, allocator, 0);
  for (size_t i = 0; i < c->input_count; ++i) {
    for (uint64_t e = 0; e < bench_case_elements(c, i); ++e) {
      local->inputs[i][e] = (float)(e + 1);
    }
  }
}

static void local_close(local_t* local) {
  irvm_stack_deinitialize(&local->stack);
  irsess_model_release(local->model);
  irsess_runtime_destroy(local->runtime);
}

// What the daemon does for one request, minus the IPC: inputs imported from
// host memory as buffer views, the call, the result copied out.
static void local_invoke(local_t* local) {
  const bench_case_t* c = local->c;
  irt_allocator_t allocator = irt_allocator_system();
  irvm_variant_t arguments[MAX_INPUTS];
  for (size_t i = 0; i < c->input_count; ++i) {
    irhal_buffer_t* buffer = NULL;
    bool imported = false;
    BENCH_CHECK(irsess_buffer_import(local->device, local->inputs[i],
                                     bench_case_elements(c, i) * sizeof(float),
                                     (irhal_release_callback_t){0}, &buffer,
                                     &imported));
    irhal_buffer_view_t* view = NULL;
    BENCH_CHECK(irhal_buffer_view_create(
        buffer, c->inputs[i].rank, c->inputs[i].shape,
        IRHAL_ELEMENT_TYPE_FLOAT_32, IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR,
        allocator, &view));
    irhal_buffer_release(buffer);
    arguments[i] =
        irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
  }
  irvm_variant_t result;
  size_t result_count = 0;
  BENCH_CHECK(irsess_model_invoke(local->model, local->function, &local->stack,
                                  arguments, c->input_count, &result, 1,
                                  &result_count));
  irtool_tensor_t host;
  BENCH_CHECK(irsess_buffer_view_read(irsess_model_device(local->model),
                                      irhal_buffer_view_deref(&result.ref),
                                      irt_allocator_system(), &host));
  memcpy(local->output, host.data,
         host.byte_length < sizeof(local->output) ? host.byte_length
                                                  : sizeof(local->output));
  irtool_tensor_free_data(&host);
  irvm_variant_release(&result);
  for (size_t i = 0; i < c->input_count; ++i) {
    irvm_variant_release(&arguments[i]);
  }
}

//===----------------------------------------------------------------------===//
// Through the daemon
//===----------------------------------------------------------------------===//

// A connection and |batch| invocations of the same call, each with its own
// inputs in one shm region, invoked together.
typedef struct remote_s {
  ireeclient_connection_t* connection;
  ireeclient_shm_t* shm;
  ireeclient_invocation_t* invocations[THROUGHPUT_BATCH];
  size_t batch;
  const bench_case_t* c;
  float output[MAX_ELEMENTS];  // the last invocation's result
} remote_t;

// Adds |c|'s inputs (e + 1 in element e) to |invocation|, in |remote|'s
// region.
static void remote_add_inputs(remote_t* remote,
                              ireeclient_invocation_t* invocation) {
  const bench_case_t* c = remote->c;
  for (size_t i = 0; i < c->input_count; ++i) {
    uint64_t length = bench_case_elements(c, i) * sizeof(float);
    uint64_t offset = 0;
    BENCH_CHECK(ireeclient_shm_allocate(remote->shm, length, &offset));
    float* values =
        (float*)((uint8_t*)ireeclient_shm_data(remote->shm) + offset);
    for (uint64_t e = 0; e < bench_case_elements(c, i); ++e) {
      values[e] = (float)(e + 1);
    }
    BENCH_CHECK(ireeclient_invocation_add_tensor_shm(
        invocation, IREECLIENT_ELEMENT_TYPE_FLOAT_32, c->inputs[i].shape,
        c->inputs[i].rank, remote->shm, offset, length));
  }
}

static void remote_open(remote_t* remote, const char* socket_path,
                        const bench_case_t* c, bool load, size_t batch) {
  memset(remote, 0, sizeof(*remote));
  remote->c = c;
  remote->batch = batch;
  char name[128];
  model_name(c, name, sizeof(name));
  ireeclient_options_t options = {.socket_path = socket_path};
  BENCH_CHECK(ireeclient_connect(&options, &remote->connection));
  if (load) {
    const char* paths[] = {c->path};
    ireeclient_load_options_t load_options = {.name = name,
                                              .module_paths = paths,
                                              .module_count = 1,
                                              .device = bench_device()};
    BENCH_CHECK(ireeclient_load_model(remote->connection, &load_options, NULL));
  }
  BENCH_CHECK(ireeclient_shm_create(remote->connection, 4096 * batch,
                                     &remote->shm));
  for (size_t b = 0; b < batch; ++b) {
    BENCH_CHECK(ireeclient_invocation_create(
        remote->connection, name, c->function, &remote->invocations[b]));
    remote_add_inputs(remote, remote->invocations[b]);
  }
}

static void remote_close(remote_t* remote) {
  for (size_t b = 0; b < remote->batch; ++b) {
    ireeclient_invocation_destroy(remote->invocations[b]);
  }
  ireeclient_shm_release(remote->shm);
  ireeclient_disconnect(remote->connection);
}

// One ireeclient_invoke, or the batch's ireeclient_invoke_all.
static void remote_invoke(remote_t* remote) {
  if (remote->batch == 1) {
    BENCH_CHECK(ireeclient_invoke(remote->invocations[0]));
  } else {
    BENCH_CHECK(ireeclient_invoke_all(remote->invocations, remote->batch));
  }
  ireeclient_value_t value;
  BENCH_CHECK(ireeclient_invocation_result(
      remote->invocations[remote->batch - 1], 0, &value));
  memcpy(remote->output, value.tensor.data,
         value.tensor.byte_length < sizeof(remote->output)
             ? value.tensor.byte_length
             : sizeof(remote->output));
}

//===----------------------------------------------------------------------===//
// invoke
//===----------------------------------------------------------------------===//

typedef struct latency_s {
  double p50_us, p99_us;
  double execute_p50_us;  // the daemon's execute_ns (0 in process)
} latency_t;

// Calls per run: LATENCY_ITERATIONS, or fewer from $IREED_BENCH_ITERATIONS
// (for profiling under valgrind).
static int latency_iterations(void) {
  const char* text = getenv("IREED_BENCH_ITERATIONS");
  int n = text ? atoi(text) : 0;
  return n > 0 && n < LATENCY_ITERATIONS ? n : LATENCY_ITERATIONS;
}

// A timed path: the call and its state; for a call through the daemon
// also the time the daemon says the model itself ran (its execute_ns), so
// that the round trip's overhead shows apart from the call.
typedef struct latency_subject_s {
  void (*invoke)(void*);
  void* state;
  double (*execute_us)(void*);  // NULL for the in-process call
  double p50[BENCH_RUNS], p99[BENCH_RUNS], execute_p50[BENCH_RUNS];
} latency_subject_t;

// One run of |subject|: its p50 and p99 over the run's calls go to slot |run|.
static void measure_run(latency_subject_t* subject, int run) {
  static double samples[LATENCY_ITERATIONS], executes[LATENCY_ITERATIONS];
  int iterations = latency_iterations();
  for (int i = 0; i < iterations; ++i) {
    uint64_t start = bench_now_ns();
    subject->invoke(subject->state);
    samples[i] = (double)(bench_now_ns() - start) * 1e-3;
    executes[i] = subject->execute_us ? subject->execute_us(subject->state) : 0;
  }
  subject->p50[run] = bench_quantile(samples, (size_t)iterations, 0.5);
  subject->p99[run] = bench_quantile(samples, (size_t)iterations, 0.99);
  subject->execute_p50[run] = bench_quantile(executes, (size_t)iterations, 0.5);
}

// Warms up the |count| subjects, then times BENCH_RUNS runs of each,
// interleaved (run 1 of each, then run 2 of each...): a machine whose speed
// drifts (frequency, vCPU placement) drifts under all of them alike, so
// their ratios hold. Each result is the median of the runs' p50 and p99.
static void measure_latencies(latency_subject_t* subjects, size_t count,
                              latency_t* out) {
  int warmup = LATENCY_WARMUP < latency_iterations() ? LATENCY_WARMUP
                                                     : latency_iterations();
  for (size_t k = 0; k < count; ++k) {
    for (int i = 0; i < warmup; ++i) subjects[k].invoke(subjects[k].state);
  }
  for (int run = 0; run < BENCH_RUNS; ++run) {
    for (size_t k = 0; k < count; ++k) measure_run(&subjects[k], run);
  }
  for (size_t k = 0; k < count; ++k) {
    out[k] = (latency_t){bench_median(subjects[k].p50, BENCH_RUNS),
                         bench_median(subjects[k].p99, BENCH_RUNS),
                         bench_median(subjects[k].execute_p50, BENCH_RUNS)};
  }
}

static void local_invoke_thunk(void* state) { local_invoke(state); }
static void remote_invoke_thunk(void* state) { remote_invoke(state); }
static double remote_execute_us(void* state) {
  remote_t* remote = state;
  uint64_t queue_ns = 0, execute_ns = 0;
  ireeclient_invocation_timing(remote->invocations[remote->batch - 1],
                               &queue_ns, &execute_ns);
  return (double)execute_ns * 1e-3;
}

static bool bench_invoke_case(const bench_daemon_t* daemon,
                              const bench_case_t* c) {
  local_t* local = calloc(1, sizeof(*local));
  local_open(local, c);
  remote_t remote, socket_remote;
  remote_open(&remote, daemon->socket_path, c, true, 1);
  // The socket path for comparison (no target): a connection without ring.
  setenv("IREECLIENT_RING", "0", 1);
  remote_open(&socket_remote, daemon->socket_path, c, false, 1);
  unsetenv("IREECLIENT_RING");
  latency_subject_t subjects[3] = {
      {.invoke = local_invoke_thunk, .state = local},
      {.invoke = remote_invoke_thunk,
       .state = &remote,
       .execute_us = remote_execute_us},
      {.invoke = remote_invoke_thunk, .state = &socket_remote}};
  latency_t measured[3];
  measure_latencies(subjects, 3, measured);
  latency_t in_process = measured[0], through_daemon = measured[1],
            socket = measured[2];
  bool same = memcmp(local->output, remote.output, sizeof(remote.output)) == 0 &&
              memcmp(local->output, socket_remote.output,
                     sizeof(socket_remote.output)) == 0;
  remote_close(&socket_remote);
  remote_close(&remote);
  local_close(local);
  free(local);

  double ratio = through_daemon.p50_us / in_process.p50_us;
  printf(
      "invoke %-10s %-10s in-process p50 %7.2f us p99 %7.2f us | daemon p50 "
      "%7.2f us p99 %7.2f us | ratio p50 %.2fx p99 %.2fx\n",
      c->label, bench_device(), in_process.p50_us, in_process.p99_us,
      through_daemon.p50_us, through_daemon.p99_us, ratio,
      through_daemon.p99_us / in_process.p99_us);
  printf("invoke %-10s %-10s the model's run inside ireed (execute_ns) p50 "
         "%7.2f us: the ring's round trip adds %.2f us\n",
         c->label, bench_device(), through_daemon.execute_p50_us,
         through_daemon.p50_us - through_daemon.execute_p50_us);
  printf("invoke %-10s %-10s socket path (no ring) p50 %7.2f us p99 %7.2f us "
         "(%.2fx)\n",
         c->label, bench_device(), socket.p50_us, socket.p99_us,
         socket.p50_us / in_process.p50_us);
  if (!same) printf("invoke %s: the daemon's result differs\n", c->label);
  return bench_target(same && ratio <= INVOKE_TARGET,
                      "invoke %s on %s daemon p50 %.2f us <= %.1fx in-process "
                      "%.2f us (%.2fx)",
                      c->label, bench_device(), through_daemon.p50_us,
                      INVOKE_TARGET, in_process.p50_us, ratio);
}

static void set_case(bench_case_t* c, const char* label, const char* dir,
                     const char* file, const char* function) {
  c->label = label;
  int n =
      snprintf(c->path, sizeof(c->path), "%s%s%s", dir, *dir ? "/" : "", file);
  if (n < 0 || (size_t)n >= sizeof(c->path)) {
    fprintf(stderr, "bench: path too long: %s/%s\n", dir, file);
    exit(1);
  }
  c->function = function;
}

static void make_cases(const char* sample, const char* conformance,
                       bench_case_t* cases, size_t* out_count) {
  size_t n = 0;
  char absolute[PATH_MAX];
  set_case(&cases[n], "sample", "",
           realpath(sample, absolute) ? absolute : sample, "simple_mul");
  cases[n].input_count = 2;
  cases[n].inputs[0].rank = cases[n].inputs[1].rank = 1;
  cases[n].inputs[0].shape[0] = cases[n].inputs[1].shape[0] = 4;
  ++n;
  char dir[PATH_MAX];
  if (!conformance) {
    *out_count = n;
    return;
  }
  if (!realpath(conformance, dir)) {
    printf(
        "invoke: skipping simple_mul and matmul: no conformance corpus "
        "(%s)\n",
        conformance);
    *out_count = n;
    return;
  }
  set_case(&cases[n], "simple_mul", dir, "v3.11/simple_mul.vmfb", "simple_mul");
  cases[n].input_count = 2;
  cases[n].inputs[0].rank = cases[n].inputs[1].rank = 1;
  cases[n].inputs[0].shape[0] = cases[n].inputs[1].shape[0] = 4;
  ++n;
  set_case(&cases[n], "matmul", dir, "v3.11/matmul.vmfb", "matmul");
  cases[n].input_count = 2;
  cases[n].inputs[0].rank = cases[n].inputs[1].rank = 2;
  cases[n].inputs[0].shape[0] = 3;
  cases[n].inputs[0].shape[1] = 4;
  cases[n].inputs[1].shape[0] = 4;
  cases[n].inputs[1].shape[1] = 2;
  ++n;
  *out_count = n;
}

static int bench_invoke(const char* ireed, const char* sample,
                        const char* conformance) {
  bench_case_t cases[3];
  size_t count = 0;
  make_cases(sample, conformance, cases, &count);
  bench_daemon_t daemon;
  if (!bench_daemon_start(&daemon, ireed)) return 1;
  printf(
      "invoke: %d runs of %d calls each (after %d warm-up), median of the "
      "runs' p50 and p99\n",
      BENCH_RUNS, latency_iterations(), LATENCY_WARMUP);
  static const char* kDevices[] = {"local-sync", "local-task"};
  const char** devices = NULL;
  size_t device_count = bench_devices(kDevices, 2, &devices);
  bool ok = true;
  for (size_t d = 0; d < device_count; ++d) {
    g_device = devices[d];
    for (size_t i = 0; i < count; ++i) {
      ok &= bench_invoke_case(&daemon, &cases[i]);
    }
  }
  bench_daemon_stop(&daemon);
  return ok ? 0 : 1;
}

//===----------------------------------------------------------------------===//
// throughput
//===----------------------------------------------------------------------===//

// What a client process reports: invocations done and its last result.
typedef struct client_report_s {
  uint64_t invocations;
  float output[MAX_ELEMENTS];
} client_report_t;
_Static_assert(sizeof(client_report_t) <= PIPE_BUF,
               "reports of concurrent clients must not interleave");

// A client process (this program run as "client SOCKET SAMPLE READY_FD
// GO_FD RESULT_FD DEVICE BATCH"): connects, warms up, says ready, waits for
// the go, then invokes for THROUGHPUT_MS, BATCH invocations at a time, and
// reports.
static int bench_client(char** argv) {
  bench_case_t cases[3];
  size_t count = 0;
  make_cases(argv[1], NULL, cases, &count);
  g_device = argv[5];
  int ready_fd = atoi(argv[2]), go_fd = atoi(argv[3]),
      result_fd = atoi(argv[4]);
  size_t batch = (size_t)atoi(argv[6]);
  if (batch < 1 || batch > THROUGHPUT_BATCH) return 2;
  remote_t remote;
  remote_open(&remote, argv[0], &cases[0], false, batch);
  for (int i = 0; i < THROUGHPUT_WARMUP; ++i) remote_invoke(&remote);
  char byte = 'r';
  if (write(ready_fd, &byte, 1) != 1 || read(go_fd, &byte, 1) != 1) return 1;
  client_report_t report = {0};
  uint64_t end = bench_now_ns() + THROUGHPUT_MS * 1000000ull;
  do {
    remote_invoke(&remote);
    report.invocations += batch;
  } while (bench_now_ns() < end);
  memcpy(report.output, remote.output, sizeof(report.output));
  remote_close(&remote);
  return write(result_fd, &report, sizeof(report)) == sizeof(report) ? 0 : 1;
}

// Invocations per second of |clients| processes running at once, each
// submitting |batch| invocations at a time; 0 when a client failed or
// reported a result other than |expected|.
static double run_clients(const char* socket_path, const char* sample,
                          int clients, size_t batch, const float* expected) {
  int ready[2], go[2], result[2];
  if (pipe(ready) || pipe(go) || pipe(result)) return 0;
  char ready_text[16], go_text[16], result_text[16], batch_text[16];
  snprintf(ready_text, sizeof(ready_text), "%d", ready[1]);
  snprintf(go_text, sizeof(go_text), "%d", go[0]);
  snprintf(result_text, sizeof(result_text), "%d", result[1]);
  snprintf(batch_text, sizeof(batch_text), "%zu", batch);
  pid_t pids[64];
  for (int i = 0; i < clients; ++i) {
    pids[i] = fork();
    if (pids[i] == 0) {
      execl("/proc/self/exe", "bench_serving", "client", socket_path, sample,
            ready_text, go_text, result_text, bench_device(), batch_text,
            (char*)NULL);
      _exit(127);
    }
  }
  close(ready[1]);
  close(go[0]);
  close(result[1]);
  char byte;
  int ready_count = 0;
  while (ready_count < clients && read(ready[0], &byte, 1) == 1) ++ready_count;
  uint64_t start = bench_now_ns();
  for (int i = 0; i < clients; ++i) {
    if (write(go[1], "g", 1) != 1) break;
  }
  uint64_t total = 0;
  int reported = 0;
  bool same = true;
  client_report_t report;
  while (read(result[0], &report, sizeof(report)) == sizeof(report)) {
    total += report.invocations;
    same &= memcmp(report.output, expected, sizeof(report.output)) == 0;
    ++reported;
  }
  double seconds = (double)(bench_now_ns() - start) * 1e-9;
  bool all_ok = reported == clients;
  for (int i = 0; i < clients; ++i) {
    int status = 0;
    waitpid(pids[i], &status, 0);
    all_ok &= WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  close(ready[0]);
  close(go[1]);
  close(result[0]);
  if (!all_ok) {
    fprintf(stderr, "bench: %d of %d clients failed\n", clients - reported,
            clients);
    return 0;
  }
  if (!same) {
    fprintf(stderr, "bench: a client's result differs from in-process\n");
    return 0;
  }
  return (double)total / seconds;
}

static double local_rate(local_t* local) {
  uint64_t invocations = 0;
  uint64_t start = bench_now_ns();
  uint64_t end = start + THROUGHPUT_MS * 1000000ull;
  do {
    local_invoke(local);
    ++invocations;
  } while (bench_now_ns() < end);
  return (double)invocations / ((double)(bench_now_ns() - start) * 1e-9);
}

static int bench_throughput(const char* ireed, const char* sample) {
  bench_case_t cases[3];
  size_t count = 0;
  make_cases(sample, NULL, cases, &count);
  const bench_case_t* c = &cases[0];
  static const char* kDevices[] = {"local-sync"};
  const char** devices = NULL;
  bench_devices(kDevices, 1, &devices);
  g_device = devices[0];

  double rates[BENCH_RUNS], local_rates[BENCH_RUNS];
  local_t* local = calloc(1, sizeof(*local));
  local_open(local, c);
  for (int i = 0; i < THROUGHPUT_WARMUP; ++i) local_invoke(local);
  float expected[MAX_ELEMENTS];
  memcpy(expected, local->output, sizeof(expected));
  printf(
      "throughput: device %s, sample model, %d ms per run, median of %d "
      "runs; each run of the daemon follows a run of the in-process loop (1 "
      "thread), the baseline of its row\n",
      bench_device(), THROUGHPUT_MS, BENCH_RUNS);

  bench_daemon_t daemon;
  if (!bench_daemon_start(&daemon, ireed)) return 1;
  remote_t loader;
  remote_open(&loader, daemon.socket_path, c, true, 1);  // loads the model
  static const int kClients[] = {1, 2, 8, 32};
  static const size_t kBatches[] = {1, THROUGHPUT_BATCH};
  double at_target = 0, in_process = 0;
  bool ok = true;
  for (size_t b = 0; b < sizeof(kBatches) / sizeof(kBatches[0]); ++b) {
    printf("throughput: daemon, %s\n",
           kBatches[b] == 1 ? "synchronous clients (ireeclient_invoke, one "
                              "call at a time)"
                            : "batching clients (ireeclient_invoke_all)");
    for (size_t k = 0; k < sizeof(kClients) / sizeof(kClients[0]); ++k) {
      // Interleaved, so that a machine whose speed drifts drifts under both.
      for (int run = 0; run < BENCH_RUNS; ++run) {
        local_rates[run] = local_rate(local);
        rates[run] = run_clients(daemon.socket_path, sample, kClients[k],
                                 kBatches[b], expected);
        ok &= rates[run] > 0;
      }
      double rate = bench_median(rates, BENCH_RUNS);
      double baseline = bench_median(local_rates, BENCH_RUNS);
      printf(
          "throughput: daemon, %2d client processes, batch %2zu %10.0f "
          "invocations/s (%.2fx in-process %.0f/s)\n",
          kClients[k], kBatches[b], rate, rate / baseline, baseline);
      if (kClients[k] == THROUGHPUT_TARGET_CLIENTS &&
          kBatches[b] == THROUGHPUT_BATCH) {
        at_target = rate;
        in_process = baseline;
      }
    }
  }
  remote_close(&loader);
  bench_daemon_stop(&daemon);
  local_close(local);
  free(local);
  ok &= bench_target(at_target >= THROUGHPUT_TARGET * in_process,
                     "throughput at %d clients in batches of %d %.0f/s >= "
                     "%.1fx in-process %.0f/s (%.2fx)",
                     THROUGHPUT_TARGET_CLIENTS, THROUGHPUT_BATCH, at_target,
                     THROUGHPUT_TARGET, in_process, at_target / in_process);
  return ok ? 0 : 1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc >= 9 && strcmp(argv[1], "client") == 0) {
    return bench_client(argv + 2);
  }
  if (argc >= 4 && strcmp(argv[1], "invoke") == 0) {
    return bench_invoke(argv[2], argv[3], argc > 4 ? argv[4] : NULL);
  }
  if (argc >= 4 && strcmp(argv[1], "throughput") == 0) {
    return bench_throughput(argv[2], argv[3]);
  }
  fprintf(stderr,
          "usage: bench_serving invoke IREED SAMPLE_VMFB [CONFORMANCE_DIR]\n"
          "       bench_serving throughput IREED SAMPLE_VMFB\n");
  return 2;
}
