// ireed's limits and shutdown, each test against its own daemon process:
// invocations beyond limits.max_inflight_per_client get an immediate "busy"
// error (RESOURCE_EXHAUSTED) and nothing is queued for them; SIGTERM drains:
// new connections and new invocations get "shutting down" (UNAVAILABLE),
// every invocation in flight is answered, and the daemon exits 0.
//
// The work in flight comes from spin_module.h, timed against the daemon's
// own execute_ns so the tests hold on slow (sanitized) builds.
//
// usage: test_limits PATH/TO/ireed
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "runtime/base/status.h"
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

// Iterations of spin that keep a worker busy for about |milliseconds|.
static int32_t spin_iterations(ireed_test_client_t* client,
                               uint32_t milliseconds) {
  enum { kProbe = 1 << 20 };
  send_spin(client, kProbe);
  Ireed__Frame* reply = ireed_test_client_receive(client);
  expect_spun(reply, kProbe);
  uint64_t execute_ns = reply->invoke_reply->execute_ns;
  ireed__frame__free_unpacked(reply, NULL);
  if (execute_ns == 0) execute_ns = 1;
  double iterations = (double)kProbe * milliseconds * 1e6 / (double)execute_ns;
  return iterations > INT32_MAX ? INT32_MAX : (int32_t)iterations + 1;
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
  ireed_test_client_send(client, &frame, -1);
  return ireed_test_client_receive(client);
}

//===----------------------------------------------------------------------===//
// Backpressure
//===----------------------------------------------------------------------===//

// One worker busy with a long invocation: of the invocations pipelined
// behind it, those beyond the per-connection limit are refused at once.
static void test_inflight_limit_is_busy(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, "--workers=1", NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &daemon);
  load_spin(&client, &daemon);
  int32_t long_spin = spin_iterations(&client, 1000);
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

//===----------------------------------------------------------------------===//
// Draining
//===----------------------------------------------------------------------===//

// SIGTERM with invocations running and queued: new connections and new
// invocations are refused, every invocation in flight is answered, then the
// daemon closes the connection and exits 0.
static void test_sigterm_drains(void** state) {
  (void)state;
  ireed_test_daemon_t daemon;
  ireed_test_daemon_start(&daemon, g_ireed_binary, "--workers=2", NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &daemon);
  load_spin(&client, &daemon);
  int32_t iterations = spin_iterations(&client, 600);
  enum { kInFlight = 4 };  // two running, two waiting for a worker
  uint64_t ids[kInFlight];
  for (int i = 0; i < kInFlight; ++i) ids[i] = send_spin(&client, iterations);
  usleep(100 * 1000);
  assert_int_equal(kill(daemon.pid, SIGTERM), 0);
  // Once the signal is handled, new connections are refused.
  bool refused = false;
  for (int attempt = 0; attempt < 100 && !refused; ++attempt) {
    ireed_test_client_t late;
    Ireed__Frame* answer = hello_answer(&daemon, &late);
    assert_non_null(answer);
    if (answer->body_case == IREED__FRAME__BODY_HELLO) {
      ireed__frame__free_unpacked(answer, NULL);
      usleep(10 * 1000);
    } else {
      assert_int_equal(answer->request_id, 0);
      ireed_test_expect_error(answer, IRT_STATUS_UNAVAILABLE, "shutting down");
      assert_true(ireed_test_client_at_eof(&late));
      refused = true;
    }
    ireed_test_client_close(&late);
  }
  assert_true(refused);
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

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH/TO/ireed\n", argv[0]);
    return 2;
  }
  g_ireed_binary = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_inflight_limit_is_busy),
      cmocka_unit_test(test_sigterm_drains),
      cmocka_unit_test(test_sigint_idle),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
