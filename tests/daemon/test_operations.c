// Operating ireed, each test against its own daemon process (configured
// with a YAML file where it needs limits or access rules):
//   limits: connections beyond limits.max_clients, invocations beyond
//     limits.max_inflight_per_client or limits.queue_depth get an immediate
//     "busy" error (RESOURCE_EXHAUSTED) and nothing is queued for them;
//   draining: on SIGTERM/SIGINT new connections and new invocations get
//     "shutting down" (UNAVAILABLE), every invocation in flight (also one
//     waiting for its model's load) is answered, and the daemon exits 0 (1 when limits.drain_timeout_seconds
//     ran out first);
//   stats: counters, latency percentiles, zero-copy vs staged bytes and
//     device memory in the StatsReply;
//   access control: a peer whose uid matches no rule is refused at accept,
//     a client-role peer is refused admin requests, and no connection can
//     use another's shared-memory region (the tests that switch uids need
//     root and skip otherwise).
//
// The work in flight comes from spin_module.h, timed against the daemon's
// own execute_ns so the tests hold on slow (sanitized) builds.
//
// usage: test_operations PATH/TO/ireed
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "proto/ring.h"
#include "runtime/base/status.h"
#include "tests/daemon/async_module.h"
#include "tests/daemon/daemon_testing.h"
#include "tests/daemon/spin_module.h"

static const char* g_ireed_binary;

// Loads spin_module.h's module as "spin".
static void load_spin(ireed_test_client_t* client,
                      const ireed_test_daemon_t* daemon) {
  char path[160];
  assert_null(spin_module_write(daemon->directory, path, sizeof(path)));
  const char* modules[1] = {path};
  Ireed__Frame* reply =
      ireed_test_load(client, "spin", "local-sync", modules, 1, NULL, NULL);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("loading the spin module: %s", reply->error->message);
  }
  ireed__frame__free_unpacked(reply, NULL);
}

static uint64_t send_spin(ireed_test_client_t* client, int32_t iterations) {
  Ireed__Value value;
  ireed_test_invoke_t invoke;
  ireed_test_invoke_i32(&invoke, "spin", "spin", &value, iterations);
  return ireed_test_client_send(client, &invoke.frame, -1);
}

// Asserts |reply| is spin's answer: |iterations| back.
static void expect_spun(const Ireed__Frame* reply, int32_t iterations) {
  assert_non_null(reply);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("spin failed: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
  assert_int_equal(reply->invoke_reply->n_outputs, 1);
  assert_int_equal(reply->invoke_reply->outputs[0]->kind_case,
                   IREED__VALUE__KIND_I32);
  assert_int_equal(reply->invoke_reply->outputs[0]->i32, iterations);
}

// Iterations of spin that keep a worker busy for about |milliseconds|,
// from the fastest of a few timed probes (the first ones pay for warming
// up, which would make the estimate short).
static int32_t spin_iterations(ireed_test_client_t* client,
                               uint32_t milliseconds) {
  enum { kProbe = 1 << 21 };
  uint64_t execute_ns = UINT64_MAX;
  for (int i = 0; i < 3; ++i) {
    send_spin(client, kProbe);
    Ireed__Frame* reply = ireed_test_client_receive(client);
    expect_spun(reply, kProbe);
    if (reply->invoke_reply->execute_ns < execute_ns) {
      execute_ns = reply->invoke_reply->execute_ns;
    }
    ireed__frame__free_unpacked(reply, NULL);
  }
  if (execute_ns == 0) execute_ns = 1;
  double iterations = (double)kProbe * milliseconds * 1e6 / (double)execute_ns;
  return iterations > INT32_MAX ? INT32_MAX : (int32_t)iterations + 1;
}

// Starts ireed with |option| (or none), connects |client| and loads the spin
// module; returns the iterations of spin that keep a worker busy for about
// |milliseconds|.
static int32_t start_with_spin(ireed_test_daemon_t* daemon, const char* option,
                               ireed_test_client_t* client,
                               uint32_t milliseconds) {
  ireed_test_daemon_start(daemon, g_ireed_binary, option, NULL);
  ireed_test_client_connect(client, daemon);
  load_spin(client, daemon);
  return spin_iterations(client, milliseconds);
}

// Connects, says Hello and returns the daemon's first answer.
static Ireed__Frame* hello_answer(const ireed_test_daemon_t* daemon,
                                  ireed_test_client_t* client) {
  ireed_test_client_open(client, daemon);
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  frame.request_id = client->next_request_id++;
  // A refusal at accept may close the connection before Hello goes out
  // (EPIPE on a Unix socket); the refusal is still there to read.
  uint8_t* data = NULL;
  size_t size = 0;
  assert_null(ireed_frame_encode(&frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                 irt_allocator_system(), &data, &size));
  (void)send(client->fd, data, size, MSG_NOSIGNAL);
  free(data);
  return ireed_test_client_receive(client);
}

static Ireed__Frame* request_stats(ireed_test_client_t* client) {
  Ireed__StatsRequest request = IREED__STATS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_STATS;
  frame.stats = &request;
  return ireed_test_client_call(client, &frame, -1);
}

static const Ireed__ModelStats* find_model_stats(const Ireed__StatsReply* reply,
                                                 const char* name) {
  for (size_t i = 0; i < reply->n_models; ++i) {
    if (strcmp(reply->models[i]->name, name) == 0) return reply->models[i];
  }
  fail_msg("no stats for model '%s'", name);
  return NULL;
}

// Waits (up to 10 s, asking through a connection of its own) until |model| has
// |in_flight| invocations of which |queued| wait for a worker.
static void wait_for_invocations(const ireed_test_daemon_t* daemon,
                                 const char* model, uint32_t in_flight,
                                 uint32_t queued) {
  ireed_test_client_t observer;
  ireed_test_client_connect(&observer, daemon);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    Ireed__Frame* reply = request_stats(&observer);
    assert_int_equal(reply->body_case, IREED__FRAME__BODY_STATS_REPLY);
    bool reached =
        reply->stats_reply->queued == queued &&
        find_model_stats(reply->stats_reply, model)->in_flight == in_flight;
    ireed__frame__free_unpacked(reply, NULL);
    if (reached) {
      ireed_test_client_close(&observer);
      return;
    }
    usleep(10 * 1000);
  }
  fail_msg("'%s' never had %u invocations in flight, %u queued", model,
           in_flight, queued);
}

//===----------------------------------------------------------------------===//
// Backpressure
//===----------------------------------------------------------------------===//

// One worker busy with a long invocation: of the invocations pipelined
// behind it, those beyond the per-connection limit are refused at once.
static void test_inflight_limit_is_busy(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_client_t client;
  int32_t long_spin =
      start_with_spin(&daemon, "--workers=1", &client, 1000);
  enum { kExtra = 5, kTotal = 256 + kExtra };  // the default limit: 256
  uint64_t first = send_spin(&client, long_spin);
  for (int i = 1; i < kTotal; ++i) send_spin(&client, 1);
  int busy = 0, answered = 0;
  for (int i = 0; i < kTotal; ++i) {
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    assert_non_null(reply);
    if (reply->body_case == IREED__FRAME__BODY_ERROR) {
      // Busy replies come before any result (the worker is still busy).
      assert_int_equal(answered, 0);
      ireed_test_expect_error(reply, IRT_STATUS_RESOURCE_EXHAUSTED,
                              "ireed is busy");
      ++busy;
      continue;
    }
    expect_spun(reply, reply->request_id == first ? long_spin : 1);
    ireed__frame__free_unpacked(reply, NULL);
    ++answered;
  }
  assert_int_equal(busy, kExtra);
  // Room again once the replies are in.
  send_spin(&client, 7);
  Ireed__Frame* reply = ireed_test_client_receive(&client);
  expect_spun(reply, 7);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
}

// Connects, retrying while the daemon answers "busy" (it notices closed
// connections on its next loop turn).
static void connect_when_admitted(const ireed_test_daemon_t* daemon,
                                  ireed_test_client_t* client) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    Ireed__Frame* answer = hello_answer(daemon, client);
    assert_non_null(answer);
    bool admitted = answer->body_case == IREED__FRAME__BODY_HELLO;
    ireed__frame__free_unpacked(answer, NULL);
    if (admitted) return;
    ireed_test_client_close(client);
    usleep(10 * 1000);
  }
  fail_msg("ireed kept refusing connections");
}

// limits.max_clients: the connection beyond it is told "busy" and closed;
// once a client leaves there is room again.
static void test_max_clients(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary,
                                 "limits:\n  max_clients: 1\n", NULL);
  ireed_test_daemon_t* daemon = &configured;
  // The start-up probe's connection may not be closed yet.
  ireed_test_client_t first;
  connect_when_admitted(daemon, &first);
  ireed_test_client_t second;
  Ireed__Frame* answer = hello_answer(daemon, &second);
  assert_non_null(answer);
  assert_int_equal(answer->request_id, 0);
  ireed_test_expect_error(answer, IRT_STATUS_RESOURCE_EXHAUSTED,
                          "ireed is busy: 1 clients are connected "
                          "(limits.max_clients)");
  assert_true(ireed_test_client_at_eof(&second));
  ireed_test_client_close(&second);
  ireed_test_client_close(&first);
  ireed_test_client_t third;
  connect_when_admitted(daemon, &third);
  ireed_test_client_close(&third);
  assert_int_equal(ireed_test_daemon_stop(&configured), 0);
}

// limits.queue_depth counts invocations of every connection waiting for a
// worker.
static void test_queue_depth(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary,
                                 "limits:\n  queue_depth: 1\n", "--workers=1");
  ireed_test_daemon_t* daemon = &configured;
  ireed_test_client_t a, b;
  ireed_test_client_connect(&a, daemon);
  ireed_test_client_connect(&b, daemon);
  load_spin(&a, daemon);
  int32_t long_spin = spin_iterations(&a, 1000);
  uint64_t running = send_spin(&a, long_spin);
  wait_for_invocations(daemon, "spin", 1, 0);  // the worker took it
  uint64_t waiting = send_spin(&a, 1);
  Ireed__Frame* reply = NULL;
  send_spin(&b, 2);
  ireed_test_expect_error(ireed_test_client_receive(&b),
                          IRT_STATUS_RESOURCE_EXHAUSTED,
                          "1 invocations wait for a worker "
                          "(limits.queue_depth)");
  for (int i = 0; i < 2; ++i) {
    reply = ireed_test_client_receive(&a);
    assert_true(reply->request_id == running || reply->request_id == waiting);
    expect_spun(reply, reply->request_id == running ? long_spin : 1);
    ireed__frame__free_unpacked(reply, NULL);
  }
  ireed_test_client_close(&a);
  ireed_test_client_close(&b);
  assert_int_equal(ireed_test_daemon_stop(&configured), 0);
}

//===----------------------------------------------------------------------===//
// Stats
//===----------------------------------------------------------------------===//

// Invocations, busy rejections, latency percentiles, zero-copy vs staged
// input bytes and device memory, as the StatsReply reports them.
static void test_stats(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary,
                                 "limits:\n  max_inflight_per_client: 1\n",
                                 NULL);
  ireed_test_daemon_t* daemon = &configured;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, daemon);
  load_spin(&client, daemon);
  int32_t iterations = spin_iterations(&client, 20);
  for (int i = 0; i < 3; ++i) {
    send_spin(&client, iterations);
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    expect_spun(reply, iterations);
    ireed__frame__free_unpacked(reply, NULL);
  }
  // One in flight at most: the second is busy.
  int32_t long_spin = spin_iterations(&client, 500);
  send_spin(&client, long_spin);
  send_spin(&client, 1);
  ireed_test_expect_error(ireed_test_client_receive(&client),
                          IRT_STATUS_RESOURCE_EXHAUSTED,
                          "limits.max_inflight_per_client");
  Ireed__Frame* reply = ireed_test_client_receive(&client);
  expect_spun(reply, long_spin);
  ireed__frame__free_unpacked(reply, NULL);

  // Tensor inputs: inline (staged) and an aligned region slice (imported).
  char path[160];
  assert_null(async_module_write(daemon->directory, path, sizeof(path)));
  const char* modules[1] = {path};
  reply =
      ireed_test_load(&client, "pipe", "local-sync", modules, 1, NULL, NULL);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  uint8_t* memory = NULL;
  int fd = ireed_test_memfd(4096, F_SEAL_SHRINK, &memory);
  uint64_t region = ireed_test_register(&client, fd, 4096);
  close(fd);
  static const float values[4] = {1, 2, 3, 4};
  memcpy(memory + 64, values, sizeof(values));
  ireed_test_tensor_t input;
  ireed_test_invoke_t invoke;
  ireed_test_tensor_inline(&input, values, 4);
  ireed_test_invoke_init(&invoke, "pipe", "echo", &input, 1);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, values, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_tensor_shm(&input, 4, region, 64);
  ireed_test_invoke_init(&invoke, "pipe", "echo", &input, 1);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, values, 4);
  ireed__frame__free_unpacked(reply, NULL);
  munmap(memory, 4096);

  reply = request_stats(&client);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_STATS_REPLY);
  const Ireed__StatsReply* stats = reply->stats_reply;
  assert_int_equal(stats->clients, 1);
  assert_true(stats->connections_accepted >= 1);
  assert_int_equal(stats->queued, 0);
  assert_true(stats->workers >= 1);
  const Ireed__ModelStats* spin = find_model_stats(stats, "spin");
  assert_string_equal(spin->device, "local-sync");
  // 2 x 3 probes, 3, and 1 of 2.
  assert_int_equal(spin->invocations, 10);
  assert_int_equal(spin->errors, 0);
  assert_int_equal(spin->busy_rejections, 1);
  assert_int_equal(spin->in_flight, 0);
  assert_int_equal(spin->execute->count, 10);
  assert_int_equal(spin->queue->count, 10);
  assert_true(spin->execute->p50_ns > 0);
  assert_true(spin->execute->p50_ns <= spin->execute->p90_ns);
  assert_true(spin->execute->p90_ns <= spin->execute->p99_ns);
  assert_true(spin->execute->sum_ns >= spin->execute->p50_ns);
  assert_int_equal(spin->bytes_zero_copy + spin->bytes_staged, 0);
  const Ireed__ModelStats* pipe = find_model_stats(stats, "pipe");
  assert_int_equal(pipe->invocations, 2);
  assert_int_equal(pipe->bytes_staged, 16);
  assert_int_equal(pipe->bytes_zero_copy, 16);
  bool device_found = false;
  for (size_t i = 0; i < stats->n_devices; ++i) {
    if (strcmp(stats->devices[i]->uri, "local-sync") != 0) continue;
    device_found = true;
    assert_true(stats->devices[i]->allocations >= 1);
    assert_true(stats->devices[i]->memory_peak >= 16);
    assert_true(stats->devices[i]->memory_in_use <=
                stats->devices[i]->memory_peak);
  }
  assert_true(device_found);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&configured), 0);
}

// True when the daemon's log has a line containing every string of
// |fragments| (NULL-terminated), within 5 s.
static bool log_has_line(const ireed_test_daemon_t* daemon,
                         const char* const* fragments) {
  for (int attempt = 0; attempt < 500; ++attempt) {
    FILE* log = fopen(daemon->log_path, "r");
    assert_non_null(log);
    char line[2048];
    bool found = false;
    while (!found && fgets(line, sizeof(line), log)) {
      found = true;
      for (const char* const* f = fragments; *f && found; ++f) {
        found = strstr(line, *f) != NULL;
      }
    }
    fclose(log);
    if (found) return true;
    usleep(10 * 1000);
  }
  return false;
}

// Structured events: key=value text by default, JSON lines with
// logging.format json.
static void test_log_events(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &daemon);
  ireed_test_client_close(&client);
  char uid[32];
  snprintf(uid, sizeof(uid), "uid=%u ", (unsigned)getuid());
  const char* const text[] = {"info ireed: connection.accepted conn=", uid,
                              "role=admin", NULL};
  assert_true(log_has_line(&daemon, text));
  const char* const closed[] = {"info ireed: connection.closed conn=", uid,
                                NULL};
  assert_true(log_has_line(&daemon, closed));
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);

  ireed_test_daemon_start_config(&daemon, g_ireed_binary,
                                 "logging:\n  format: json\n", NULL);
  ireed_test_client_connect(&client, &daemon);
  ireed_test_client_close(&client);
  snprintf(uid, sizeof(uid), "\"uid\":%u,", (unsigned)getuid());
  const char* const json[] = {
      "{\"level\":\"info\",\"component\":\"ireed\",\"event\":"
      "\"connection.accepted\",\"conn\":",
      uid, "\"role\":\"admin\"}", NULL};
  assert_true(log_has_line(&daemon, json));
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
}

//===----------------------------------------------------------------------===//
// Access control
//===----------------------------------------------------------------------===//

enum {
  kOtherUid = 65534,   // nobody: no rule matches it
  kClientUid = 65533,  // a client through its supplementary group
  kClientGroup = 4242,
};

static const char kAccessConfig[] =
    "socket:\n"
    "  mode: \"0666\"\n"
    "access:\n"
    "  admin:\n"
    "    uids: [0]\n"
    "  client:\n"
    "    groups: [4242]\n";

// A uid no rule names is refused at accept, before its Hello.
static void test_unknown_uid_refused(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary, kAccessConfig,
                                 NULL);
  ireed_test_daemon_open_to_all(&configured);
  ireed_test_client_t stranger;
  if (!ireed_test_client_open_as(&stranger, &configured, kOtherUid, kOtherUid,
                                 NULL, 0)) {
    assert_int_equal(ireed_test_daemon_stop(&configured), 0);
    skip();
  }
  Ireed__Frame* answer = ireed_test_client_receive(&stranger);
  assert_non_null(answer);
  assert_int_equal(answer->request_id, 0);
  ireed_test_expect_error(answer, IRT_STATUS_PERMISSION_DENIED,
                          "uid 65534 (gid 65534");
  assert_true(ireed_test_client_at_eof(&stranger));
  ireed_test_client_close(&stranger);
  // The owner (root, an admin) is served as before.
  ireed_test_client_t admin;
  ireed_test_client_connect(&admin, &configured);
  Ireed__Frame* reply = request_stats(&admin);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_STATS_REPLY);
  assert_int_equal(reply->stats_reply->connections_refused, 1);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&admin);
  assert_int_equal(ireed_test_daemon_stop(&configured), 0);
}

// A client (matched through a supplementary group) may list and invoke but
// not load, unload or read stats; its connection survives the refusals.
static void test_client_role(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary, kAccessConfig,
                                 NULL);
  ireed_test_daemon_t* daemon = &configured;
  ireed_test_daemon_open_to_all(daemon);
  ireed_test_client_t client;
  const gid_t groups[1] = {kClientGroup};
  if (!ireed_test_client_open_as(&client, daemon, kClientUid, kClientUid,
                                 groups, 1)) {
    assert_int_equal(ireed_test_daemon_stop(&configured), 0);
    skip();
  }
  ireed_test_client_t admin;
  ireed_test_client_connect(&admin, daemon);
  load_spin(&admin, daemon);
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  Ireed__Frame* reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_HELLO);
  ireed__frame__free_unpacked(reply, NULL);
  // Admin-only requests.
  const char* modules[1] = {"/nonexistent.vmfb"};
  ireed_test_expect_error(
      ireed_test_load(&client, "x", NULL, modules, 1, NULL, NULL),
      IRT_STATUS_PERMISSION_DENIED,
      "uid 65533 (role client) may not send LoadModelRequest");
  ireed_test_expect_error(request_stats(&client), IRT_STATUS_PERMISSION_DENIED,
                          "may not send StatsRequest");
  Ireed__UnloadModelRequest unload = IREED__UNLOAD_MODEL_REQUEST__INIT;
  unload.name = "spin";
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL;
  frame.unload_model = &unload;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_PERMISSION_DENIED,
                          "may not send UnloadModelRequest");
  // What clients may do.
  Ireed__ListModelsRequest list = IREED__LIST_MODELS_REQUEST__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &list;
  reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LIST_MODELS_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  send_spin(&client, 3);
  reply = ireed_test_client_receive(&client);
  expect_spun(reply, 3);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
  ireed_test_client_close(&admin);
  assert_int_equal(ireed_test_daemon_stop(&configured), 0);
}

// A region registered on one connection is invisible to every other: using
// or unregistering its id elsewhere is NOT_FOUND, and ids are never reused
// across connections.
static void test_regions_are_private(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, NULL);
  ireed_test_client_t owner, other;
  ireed_test_client_connect(&owner, &daemon);
  ireed_test_client_connect(&other, &daemon);
  char path[160];
  assert_null(async_module_write(daemon.directory, path, sizeof(path)));
  const char* modules[1] = {path};
  Ireed__Frame* reply =
      ireed_test_load(&owner, "pipe", "local-sync", modules, 1, NULL, NULL);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  uint8_t* memory = NULL;
  int fd = ireed_test_memfd(4096, F_SEAL_SHRINK, &memory);
  uint64_t region = ireed_test_register(&owner, fd, 4096);
  uint64_t other_region = ireed_test_register(&other, fd, 4096);
  close(fd);
  assert_true(other_region != region);
  static const float values[4] = {5, 6, 7, 8};
  memcpy(memory, values, sizeof(values));
  ireed_test_tensor_t input;
  ireed_test_invoke_t invoke;
  ireed_test_tensor_shm(&input, 4, region, 0);
  ireed_test_invoke_init(&invoke, "pipe", "echo", &input, 1);
  ireed_test_expect_error(ireed_test_client_call(&other, &invoke.frame, -1),
                          IRT_STATUS_NOT_FOUND, "no shared-memory region");
  // Nor as an output target.
  ireed_test_tensor_shm(&input, 4, other_region, 0);
  ireed_test_invoke_init(&invoke, "pipe", "echo", &input, 1);
  ireed_test_invoke_output_shm(&invoke, 0, region, 1024, 16);
  ireed_test_expect_error(ireed_test_client_call(&other, &invoke.frame, -1),
                          IRT_STATUS_NOT_FOUND, "no shared-memory region");
  Ireed__UnregisterShmRequest unregister = IREED__UNREGISTER_SHM_REQUEST__INIT;
  unregister.region_id = region;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNREGISTER_SHM;
  frame.unregister_shm = &unregister;
  ireed_test_expect_error(ireed_test_client_call(&other, &frame, -1),
                          IRT_STATUS_NOT_FOUND, "no shared-memory region");
  // The owner still uses it.
  ireed_test_tensor_shm(&input, 4, region, 0);
  ireed_test_invoke_init(&invoke, "pipe", "echo", &input, 1);
  reply = ireed_test_client_call(&owner, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, values, 4);
  ireed__frame__free_unpacked(reply, NULL);
  munmap(memory, 4096);
  ireed_test_client_close(&owner);
  ireed_test_client_close(&other);
  assert_int_equal(ireed_test_daemon_stop(&daemon), 0);
}

//===----------------------------------------------------------------------===//
// Draining
//===----------------------------------------------------------------------===//

// Sends SIGTERM's drain a moment to begin: returns once (within about a
// second) new connections get "shutting down".
static void wait_until_refusing(const ireed_test_daemon_t* daemon) {
  for (int attempt = 0; attempt < 100; ++attempt) {
    ireed_test_client_t late;
    Ireed__Frame* answer = hello_answer(daemon, &late);
    assert_non_null(answer);
    bool refused = answer->body_case != IREED__FRAME__BODY_HELLO;
    if (refused) {
      assert_int_equal(answer->request_id, 0);
      ireed_test_expect_error(answer, IRT_STATUS_UNAVAILABLE, "shutting down");
      assert_true(ireed_test_client_at_eof(&late));
    } else {
      ireed__frame__free_unpacked(answer, NULL);
      usleep(10 * 1000);
    }
    ireed_test_client_close(&late);
    if (refused) return;
  }
  fail_msg("ireed never refused a connection after SIGTERM");
}

// SIGTERM with invocations running and queued: new connections and new
// invocations are refused, every invocation in flight is answered, then the
// daemon closes the connection and exits 0.
static void test_sigterm_drains(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_client_t client;
  int32_t iterations =
      start_with_spin(&daemon, "--workers=2", &client, 1500);
  enum { kInFlight = 4 };  // two running, two waiting for a worker
  uint64_t ids[kInFlight];
  for (int i = 0; i < kInFlight; ++i) ids[i] = send_spin(&client, iterations);
  wait_for_invocations(&daemon, "spin", kInFlight, kInFlight - 2);
  assert_int_equal(kill(daemon.pid, SIGTERM), 0);
  wait_until_refusing(&daemon);
  // So are new invocations on open connections.
  uint64_t late_id = send_spin(&client, 1);
  int answered = 0;
  bool late_refused = false;
  for (int i = 0; i < kInFlight + 1; ++i) {
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    assert_non_null(reply);
    if (reply->request_id == late_id) {
      ireed_test_expect_error(reply, IRT_STATUS_UNAVAILABLE, "shutting down");
      late_refused = true;
      continue;
    }
    bool known = false;
    for (int k = 0; k < kInFlight; ++k) known |= ids[k] == reply->request_id;
    assert_true(known);
    expect_spun(reply, iterations);
    ireed__frame__free_unpacked(reply, NULL);
    ++answered;
  }
  assert_true(late_refused);
  assert_int_equal(answered, kInFlight);
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_wait(&daemon), 0);
}

// A submission ring attached during the drain is refused: its thread would
// be a job nothing stops (the drain stops the rings when it begins), and
// the daemon would wait for it until limits.drain_timeout_seconds and exit
// 1. The invocation in flight is still answered and the daemon exits 0.
static void test_no_ring_while_draining(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &daemon);
  load_spin(&client, &daemon);
  int32_t iterations = spin_iterations(&client, 1500);
  uint64_t spin_id = send_spin(&client, iterations);
  wait_for_invocations(&daemon, "spin", 1, 0);
  assert_int_equal(kill(daemon.pid, SIGTERM), 0);
  wait_until_refusing(&daemon);
  ireed_ring_layout_t layout = {4, 4096, ireed_ring_size(4, 4096)};
  uint8_t* base = NULL;
  int fd = ireed_test_memfd(layout.size, F_SEAL_SHRINK, &base);
  ireed_ring_format(base, &layout);
  Ireed__AttachRingRequest request = IREED__ATTACH_RING_REQUEST__INIT;
  request.size = layout.size;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_ATTACH_RING;
  frame.attach_ring = &request;
  uint64_t attach_id = ireed_test_client_send(&client, &frame, fd);
  close(fd);
  Ireed__Frame* reply = ireed_test_client_receive(&client);
  assert_non_null(reply);
  assert_int_equal(reply->request_id, attach_id);
  ireed_test_expect_error(reply, IRT_STATUS_UNAVAILABLE, "no new submission");
  reply = ireed_test_client_receive(&client);
  assert_non_null(reply);
  assert_int_equal(reply->request_id, spin_id);
  expect_spun(reply, iterations);
  ireed__frame__free_unpacked(reply, NULL);
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
  munmap(base, layout.size);
  assert_int_equal(ireed_test_daemon_wait(&daemon), 0);
}

// An invocation waiting for its model's load when the drain begins was
// accepted: it runs once the load is done and gets its result (it used to
// be answered "shutting down"). One worker, busy with a long spin, keeps
// the load queued until after SIGTERM.
static void test_drain_runs_parked_invocations(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_client_t client;
  int32_t iterations =
      start_with_spin(&daemon, "--workers=1", &client, 1500);
  uint64_t spin_id = send_spin(&client, iterations);
  wait_for_invocations(&daemon, "spin", 1, 0);
  // The module "spin" runs from (rewriting it would pull the bytes from
  // under the running invocation).
  char path[160];
  snprintf(path, sizeof(path), "%s/spin.vmfb", daemon.directory);
  const char* modules[1] = {path};
  Ireed__LoadModelRequest load = IREED__LOAD_MODEL_REQUEST__INIT;
  load.name = "later";
  load.device = "local-sync";
  load.n_module_paths = 1;
  load.module_paths = (char**)modules;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LOAD_MODEL;
  frame.load_model = &load;
  uint64_t load_id = ireed_test_client_send(&client, &frame, -1);
  Ireed__Value value;
  ireed_test_invoke_t invoke;
  ireed_test_invoke_i32(&invoke, "later", "spin", &value, 7);
  uint64_t parked_id = ireed_test_client_send(&client, &invoke.frame, -1);
  assert_int_equal(kill(daemon.pid, SIGTERM), 0);
  wait_until_refusing(&daemon);
  bool seen[3] = {false, false, false};
  for (int i = 0; i < 3; ++i) {
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    assert_non_null(reply);
    if (reply->request_id == spin_id) {
      expect_spun(reply, iterations);
      seen[0] = true;
    } else if (reply->request_id == load_id) {
      assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
      seen[1] = true;
    } else {
      assert_int_equal(reply->request_id, parked_id);
      expect_spun(reply, 7);
      seen[2] = true;
    }
    ireed__frame__free_unpacked(reply, NULL);
  }
  assert_true(seen[0] && seen[1] && seen[2]);
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_wait(&daemon), 0);
}

// SIGINT drains the same way; an idle daemon exits at once.
static void test_sigint_idle(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &daemon);
  assert_int_equal(kill(daemon.pid, SIGINT), 0);
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_wait(&daemon), 0);
}

// Work still running when limits.drain_timeout_seconds ends: the daemon
// says so and exits 1 without waiting for it.
static void test_drain_timeout(void** state) {
  (void)state;
  ireed_test_daemon_t configured;
  ireed_test_daemon_start_config(&configured, g_ireed_binary,
                                 "limits:\n  drain_timeout_seconds: 1\n", NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &configured);
  load_spin(&client, &configured);
  int32_t iterations = spin_iterations(&client, 5000);
  send_spin(&client, iterations);
  wait_for_invocations(&configured, "spin", 1, 0);
  assert_int_equal(kill(configured.pid, SIGTERM), 0);
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
  fprintf(stderr, "(a drain timeout is expected below)\n");
  assert_int_equal(ireed_test_daemon_wait(&configured), 1);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH/TO/ireed\n", argv[0]);
    return 2;
  }
  g_ireed_binary = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inflight_limit_is_busy),
      cmocka_unit_test(test_max_clients),
      cmocka_unit_test(test_queue_depth),
      cmocka_unit_test(test_stats),
      cmocka_unit_test(test_log_events),
      cmocka_unit_test(test_unknown_uid_refused),
      cmocka_unit_test(test_client_role),
      cmocka_unit_test(test_regions_are_private),
      cmocka_unit_test(test_sigterm_drains),
      cmocka_unit_test(test_no_ring_while_draining),
      cmocka_unit_test(test_drain_runs_parked_invocations),
      cmocka_unit_test(test_sigint_idle),
      cmocka_unit_test(test_drain_timeout),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
