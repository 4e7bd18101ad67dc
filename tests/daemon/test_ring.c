// The shared-memory submission ring end to end (proto/ring.h, daemon/ring.c)
// against a real daemon, driven by hand so that the tests control every
// byte the daemon reads: invocations through the ring (several in flight,
// inputs and outputs in regions, errors in the slot, replies too large for
// a slot and requests for models that are not ready on the socket), and a
// hostile client (bad slot indices, sizes and bytes, a queue head far
// ahead, a second ring, a bad header, replies left unread, a client killed
// with requests queued) that costs nobody else anything.
//
// usage: test_ring PATH/TO/ireed   (uses the bundled sample model)
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/ring.h"
#include "tests/daemon/daemon_testing.h"
#include "tests/daemon/spin_module.h"

#define SLOTS 8u
#define SLOT_SIZE 4096u  // replies above ~4 KiB go on the socket

static const char* g_ireed_binary;
static ireed_test_daemon_t g_daemon;
static char g_sample[600];

typedef struct test_ring_s {
  int fd;
  uint8_t* base;
  ireed_ring_layout_t layout;
  uint32_t head;
} test_ring_t;

static int setup_daemon(void** state) {
  (void)state;
  const char* build = getenv("IREED_BUILD_DIR");
  snprintf(g_sample, sizeof(g_sample), "%s/runtime/samples/sample.vmfb",
           build ? build : ".");
  ireed_test_daemon_start(&g_daemon, g_ireed_binary, "--log-level=debug", NULL);
  return 0;
}

static int teardown_daemon(void** state) {
  (void)state;
  return ireed_test_daemon_stop(&g_daemon) == 0 ? 0 : -1;
}

// Connects, loads the sample model as "sample" and registers a 64 KiB
// region (returned in *out_region, mapped at *out_memory).
static void connect_with_model(ireed_test_client_t* client,
                               uint64_t* out_region, uint8_t** out_memory) {
  ireed_test_client_connect(client, &g_daemon);
  const char* modules[1] = {g_sample};
  Ireed__Frame* reply =
      ireed_test_load(client, "sample", "local-sync", modules, 1, NULL, NULL);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("loading %s: %s", g_sample, reply->error->message);
  }
  ireed__frame__free_unpacked(reply, NULL);
  int fd = ireed_test_memfd(1 << 16, F_SEAL_SHRINK, out_memory);
  *out_region = ireed_test_register(client, fd, 1 << 16);
  close(fd);
}

// A formatted ring sent with AttachRingRequest; returns the reply.
static Ireed__Frame* attach(ireed_test_client_t* client, test_ring_t* ring,
                            uint32_t slot_count, uint32_t slot_size) {
  ring->layout = (ireed_ring_layout_t){slot_count, slot_size,
                                       ireed_ring_size(slot_count, slot_size)};
  ring->fd = ireed_test_memfd(ring->layout.size, F_SEAL_SHRINK, &ring->base);
  ring->head = 0;
  ireed_ring_format(ring->base, &ring->layout);
  Ireed__AttachRingRequest request = IREED__ATTACH_RING_REQUEST__INIT;
  request.size = ring->layout.size;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_ATTACH_RING;
  frame.attach_ring = &request;
  return ireed_test_client_call(client, &frame, ring->fd);
}

static void attach_ok(ireed_test_client_t* client, test_ring_t* ring) {
  Ireed__Frame* reply = attach(client, ring, SLOTS, SLOT_SIZE);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("attaching a ring: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_ATTACH_RING_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
}

static ireed_ring_slot_t* slot_at(test_ring_t* ring, uint32_t index) {
  return ireed_ring_slot(ring->base, &ring->layout, index);
}

// Queues |index| (whatever the slot holds) and wakes the daemon.
static void push(test_ring_t* ring, uint32_t index) {
  ireed_ring_header_t* header = (ireed_ring_header_t*)ring->base;
  if (index < ring->layout.slot_count) {
    atomic_store(&slot_at(ring, index)->state, IREED_RING_SLOT_SUBMITTED);
  }
  atomic_store(&header->queue[ring->head % ring->layout.slot_count], index);
  atomic_store(&header->submit_head, ++ring->head);
  ireed_futex_wake(&header->submit_head, 1);
}

// Writes raw request bytes into slot |index| and queues it.
static void submit_bytes(test_ring_t* ring, uint32_t index, const void* bytes,
                         uint32_t size) {
  ireed_ring_slot_t* slot = slot_at(ring, index);
  memcpy(slot->data, bytes, size);
  atomic_store(&slot->request_size, size);
  push(ring, index);
}

static void submit(test_ring_t* ring, uint32_t index,
                   const ireed_test_invoke_t* invoke, uint64_t request_id) {
  uint8_t bytes[SLOT_SIZE];
  size_t size = 0;
  assert_true(ireed_ring_encode_request(&invoke->request, request_id, bytes,
                                        sizeof(bytes), &size));
  submit_bytes(ring, index, bytes, (uint32_t)size);
}

// Waits up to |ms| for slot |index| to leave SUBMITTED; returns its state
// (SUBMITTED after the time).
static uint32_t poll_slot(test_ring_t* ring, uint32_t index, int ms) {
  ireed_ring_slot_t* slot = slot_at(ring, index);
  for (int i = 0; i < ms * 10; ++i) {
    uint32_t state = atomic_load(&slot->state);
    if (state != IREED_RING_SLOT_SUBMITTED) return state;
    usleep(100);
  }
  return IREED_RING_SLOT_SUBMITTED;
}

// Waits (up to 20 s) for slot |index| to leave SUBMITTED; returns its state.
static uint32_t wait_slot(test_ring_t* ring, uint32_t index) {
  uint32_t state = poll_slot(ring, index, 20000);
  if (state == IREED_RING_SLOT_SUBMITTED) {
    fail_msg("ring slot %u was never answered", index);
  }
  return state;
}

// The reply in slot |index| (asserting it is DONE).
static Ireed__Frame* reply_at(test_ring_t* ring, uint32_t index) {
  assert_int_equal(wait_slot(ring, index), IREED_RING_SLOT_DONE);
  ireed_ring_slot_t* slot = slot_at(ring, index);
  Ireed__Frame* frame = NULL;
  irt_status_t status = ireed_ring_decode_reply(
      slot->data, atomic_load(&slot->reply_size), NULL, &frame);
  assert_true(irt_status_is_ok(status));
  return frame;
}

static void detach(test_ring_t* ring) {
  munmap(ring->base, ring->layout.size);
  close(ring->fd);
}

// simple_mul(a, b) of |count| floats in |region|: a at 0, b after it.
static void make_mul(ireed_test_invoke_t* invoke, ireed_test_tensor_t* inputs,
                     uint8_t* memory, uint64_t region, size_t count,
                     float scale) {
  float* a = (float*)memory;
  float* b = a + count;
  for (size_t i = 0; i < count; ++i) {
    a[i] = (float)i;
    b[i] = scale;
  }
  ireed_test_tensor_shm(&inputs[0], count, region, 0);
  ireed_test_tensor_shm(&inputs[1], count, region, count * sizeof(float));
  ireed_test_invoke_init(invoke, "sample", "simple_mul", inputs, 2);
}

static void expect_mul(const Ireed__Frame* reply, size_t count, float scale) {
  float expected[64];
  assert_true(count <= 64);
  for (size_t i = 0; i < count; ++i) expected[i] = (float)i * scale;
  ireed_test_expect_f32(reply, 0, expected, count);
}

// A connection with the model, a region and a ring, and simple_mul of
// |count| floats (b = |scale|) ready to submit.
typedef struct session_s {
  ireed_test_client_t client;
  uint64_t region;
  uint8_t* memory;
  test_ring_t ring;
  ireed_test_tensor_t inputs[2];
  ireed_test_invoke_t invoke;
} session_t;

static void session_open(session_t* session, size_t count, float scale) {
  connect_with_model(&session->client, &session->region, &session->memory);
  attach_ok(&session->client, &session->ring);
  make_mul(&session->invoke, session->inputs, session->memory, session->region,
           count, scale);
}

static void session_close(session_t* session) {
  detach(&session->ring);
  ireed_test_client_close(&session->client);
}

// A new connection with a new ring is served normally (scaling by |scale|):
// what the test before did to the daemon left it healthy.
static void expect_fresh_session_serves(float scale) {
  session_t session;
  session_open(&session, 4, scale);
  submit(&session.ring, 0, &session.invoke, 1);
  Ireed__Frame* reply = reply_at(&session.ring, 0);
  expect_mul(reply, 4, scale);
  ireed__frame__free_unpacked(reply, NULL);
  session_close(&session);
}

// Submits |invoke| in slot 3 and expects the Error on the socket.
static void expect_socket_error(session_t* session, ireed_test_invoke_t* invoke,
                                uint64_t request_id, uint32_t code,
                                const char* text) {
  submit(&session->ring, 3, invoke, request_id);
  assert_int_equal(wait_slot(&session->ring, 3),
                   IREED_RING_SLOT_REPLIED_ON_SOCKET);
  Ireed__Frame* reply = ireed_test_client_receive(&session->client);
  assert_non_null(reply);
  assert_int_equal(reply->request_id, request_id);
  ireed_test_expect_error(reply, code, text);
}

//===----------------------------------------------------------------------===//
// Serving
//===----------------------------------------------------------------------===//

static void test_invocations(void** state) {
  (void)state;
  session_t session;
  session_open(&session, 8, 3.0f);
  // One at a time, then every slot at once (the ring's requests are
  // answered in order; each slot holds its own reply).
  for (int round = 0; round < 20; ++round) {
    submit(&session.ring, 0, &session.invoke, 100 + (uint64_t)round);
    Ireed__Frame* reply = reply_at(&session.ring, 0);
    expect_mul(reply, 8, 3.0f);
    ireed__frame__free_unpacked(reply, NULL);
  }
  for (uint32_t i = 0; i < SLOTS; ++i)
    submit(&session.ring, i, &session.invoke, 200 + i);
  for (uint32_t i = 0; i < SLOTS; ++i) {
    Ireed__Frame* reply = reply_at(&session.ring, i);
    expect_mul(reply, 8, 3.0f);
    ireed__frame__free_unpacked(reply, NULL);
  }
  // Errors come back in the slot, as Frames.
  ireed_test_invoke_t bad;
  ireed_test_invoke_init(&bad, "sample", "simple_mul", session.inputs, 1);
  submit(&session.ring, 1, &bad, 7);
  Ireed__Frame* reply = reply_at(&session.ring, 1);
  assert_int_equal(reply->request_id, 7);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "takes 2 inputs");
  // Requests for models that are not ready take the socket's path (which
  // waits for loads): answered on the socket.
  ireed_test_invoke_init(&bad, "nope", "simple_mul", session.inputs, 2);
  expect_socket_error(&session, &bad, 17, IRT_STATUS_NOT_FOUND,
                      "no model named 'nope'");
  // An output region works as on the socket.
  ireed_test_invoke_output_shm(&session.invoke, 0, session.region, 4096, 32);
  submit(&session.ring, 2, &session.invoke, 8);
  reply = reply_at(&session.ring, 2);
  const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
  assert_int_equal(tensor->data_case, IREED__TENSOR__DATA_SHM);
  assert_true(((float*)(session.memory + 4096))[5] == 15.0f);
  ireed__frame__free_unpacked(reply, NULL);
  // Unloading answers once nothing runs; the ring then finds no model.
  Ireed__UnloadModelRequest unload = IREED__UNLOAD_MODEL_REQUEST__INIT;
  unload.name = "sample";
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL;
  frame.unload_model = &unload;
  reply = ireed_test_client_call(&session.client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_UNLOAD_MODEL_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  expect_socket_error(&session, &session.invoke, 9, IRT_STATUS_NOT_FOUND,
                      "no model named 'sample'");
  session_close(&session);
}

// Each ring has a thread of its own: a long invocation on one connection's
// ring does not hold up another connection's (a shared executor running
// requests inline did, for as long as the long one ran).
static Ireed__Frame* spin_on_ring(test_ring_t* ring, uint32_t index,
                                  int32_t iterations, uint64_t request_id) {
  Ireed__Value value;
  ireed_test_invoke_t invoke;
  ireed_test_invoke_i32(&invoke, "spin", "spin", &value, iterations);
  submit(ring, index, &invoke, request_id);
  return reply_at(ring, index);
}

static void test_rings_run_concurrently(void** state) {
  (void)state;
  ireed_test_client_t spinner;
  ireed_test_client_connect(&spinner, &g_daemon);
  char path[160];
  assert_null(spin_module_write(g_daemon.directory, path, sizeof(path)));
  const char* modules[1] = {path};
  Ireed__Frame* reply =
      ireed_test_load(&spinner, "spin", "local-sync", modules, 1, NULL, NULL);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("loading the spin module: %s", reply->error->message);
  }
  ireed__frame__free_unpacked(reply, NULL);
  test_ring_t spin_ring;
  attach_ok(&spinner, &spin_ring);
  // Times a probe to size a spin of about two seconds.
  enum { kProbe = 1 << 21 };
  reply = spin_on_ring(&spin_ring, 0, kProbe, 1);
  uint64_t probe_ns = reply->invoke_reply->execute_ns;
  ireed__frame__free_unpacked(reply, NULL);
  double scaled = (double)kProbe * 2e9 / (double)(probe_ns ? probe_ns : 1);
  int32_t long_spin = scaled > INT32_MAX ? INT32_MAX : (int32_t)scaled;

  Ireed__Value value;
  ireed_test_invoke_t invoke;
  ireed_test_invoke_i32(&invoke, "spin", "spin", &value, long_spin);
  submit(&spin_ring, 1, &invoke, 2);
  session_t other;
  session_open(&other, 8, 2.0f);
  for (int round = 0; round < 5; ++round) {
    submit(&other.ring, 0, &other.invoke, 10 + (uint64_t)round);
    reply = reply_at(&other.ring, 0);
    expect_mul(reply, 8, 2.0f);
    ireed__frame__free_unpacked(reply, NULL);
  }
  // The other connection was served while the long spin still ran.
  assert_int_equal(atomic_load(&slot_at(&spin_ring, 1)->state),
                   IREED_RING_SLOT_SUBMITTED);
  reply = reply_at(&spin_ring, 1);
  assert_int_equal(reply->invoke_reply->outputs[0]->i32, long_spin);
  ireed__frame__free_unpacked(reply, NULL);
  session_close(&other);
  detach(&spin_ring);
  ireed_test_client_close(&spinner);
}

// A reply larger than its slot travels on the socket with the request id.
static void test_large_reply_on_socket(void** state) {
  (void)state;
  enum { kCount = 2048 };  // 8 KiB of results
  session_t session;
  session_open(&session, kCount, 2.0f);
  submit(&session.ring, 3, &session.invoke, 4242);
  assert_int_equal(wait_slot(&session.ring, 3),
                   IREED_RING_SLOT_REPLIED_ON_SOCKET);
  Ireed__Frame* reply = ireed_test_client_receive(&session.client);
  assert_non_null(reply);
  assert_int_equal(reply->request_id, 4242);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
  const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
  assert_int_equal(tensor->inline_data.len, kCount * sizeof(float));
  assert_true(((const float*)tensor->inline_data.data)[kCount - 1] ==
              2.0f * (kCount - 1));
  ireed__frame__free_unpacked(reply, NULL);
  session_close(&session);
}

//===----------------------------------------------------------------------===//
// Hostile clients
//===----------------------------------------------------------------------===//

// Whatever the ring holds, the daemon answers what it can, ignores the
// rest, and keeps serving this connection's socket and everyone else.
static void test_hostile_ring(void** state) {
  (void)state;
  session_t session;
  session_open(&session, 4, 5.0f);

  // A queue entry naming a slot that does not exist is skipped.
  push(&session.ring, 999);
  // A request size beyond the slot: an Error in the slot.
  atomic_store(&slot_at(&session.ring, 1)->request_size, SLOT_SIZE * 4);
  push(&session.ring, 1);
  Ireed__Frame* reply = reply_at(&session.ring, 1);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "request of");
  // Garbage bytes, truncated requests, absurd counts: Errors.
  static const uint8_t kGarbage[40] = {1, 2, 3, 0xff, 0xff, 0xff, 0xff, 0x7f};
  submit_bytes(&session.ring, 2, kGarbage, sizeof(kGarbage));
  reply = reply_at(&session.ring, 2);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "malformed");
  uint8_t bytes[SLOT_SIZE];
  size_t size = 0;
  assert_true(ireed_ring_encode_request(&session.invoke.request, 9, bytes,
                                        sizeof(bytes), &size));
  for (size_t cut = 1; cut < size; cut += 7) {
    submit_bytes(&session.ring, 3, bytes, (uint32_t)cut);
    reply = reply_at(&session.ring, 3);
    ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "ring request");
  }
  // Slots rewritten while queued, the same slot queued twice: still served.
  submit(&session.ring, 4, &session.invoke, 10);
  push(&session.ring, 4);
  for (int i = 0; i < 2; ++i) {
    assert_int_equal(wait_slot(&session.ring, 4), IREED_RING_SLOT_DONE);
  }
  // A well-formed request after all that still works.
  submit(&session.ring, 5, &session.invoke, 11);
  reply = reply_at(&session.ring, 5);
  expect_mul(reply, 4, 5.0f);
  ireed__frame__free_unpacked(reply, NULL);

  // A second ring on the same connection is refused.
  test_ring_t second;
  reply = attach(&session.client, &second, SLOTS, SLOT_SIZE);
  ireed_test_expect_error(reply, IRT_STATUS_ALREADY_EXISTS, "ring already");
  detach(&second);

  // A head far ahead of the daemon breaks this ring only.
  ireed_ring_header_t* header = (ireed_ring_header_t*)session.ring.base;
  atomic_store(&header->submit_head, session.ring.head + 100000);
  ireed_futex_wake(&header->submit_head, 1);
  usleep(50000);
  reply = ireed_test_client_call(&session.client, &session.invoke.frame, -1);
  expect_mul(reply, 4, 5.0f);
  ireed__frame__free_unpacked(reply, NULL);

  session_close(&session);
}

// A client that never reads its socket while its ring sends replies there
// (results too large for a slot) is disconnected once 64 MiB of them wait
// (and they are dropped); the daemon serves everyone else.
static void test_unread_replies(void** state) {
  (void)state;
  enum { kCount = 2048 };  // 8 KiB of results: on the socket
  session_t session;
  session_open(&session, kCount, 2.0f);
  bool stopped = false;
  for (uint64_t i = 0; i < 20000 && !stopped; ++i) {
    uint32_t index = (uint32_t)(i % SLOTS);
    if (i >= SLOTS) {
      stopped =
          poll_slot(&session.ring, index, 2000) == IREED_RING_SLOT_SUBMITTED;
    }
    if (!stopped) submit(&session.ring, index, &session.invoke, i + 1);
  }
  assert_true(stopped);
  // The replies the socket holds, then the end.
  for (Ireed__Frame* frame;
       (frame = ireed_test_client_receive(&session.client));) {
    ireed__frame__free_unpacked(frame, NULL);
  }
  session_close(&session);
  expect_fresh_session_serves(7.0f);
}

static void test_bad_attach(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  // No descriptor.
  Ireed__AttachRingRequest request = IREED__ATTACH_RING_REQUEST__INIT;
  request.size = ireed_ring_size(SLOTS, SLOT_SIZE);
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_ATTACH_RING;
  frame.attach_ring = &request;
  Ireed__Frame* reply = ireed_test_client_call(&client, &frame, -1);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT,
                          "without a file descriptor");
  // Slot counts and sizes out of range, a bad magic, a short file.
  test_ring_t ring;
  reply = attach(&client, &ring, 0, SLOT_SIZE);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "0 slots");
  detach(&ring);
  reply = attach(&client, &ring, SLOTS, 100);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "slot size 100");
  detach(&ring);
  ring.layout = (ireed_ring_layout_t){SLOTS, SLOT_SIZE,
                                      ireed_ring_size(SLOTS, SLOT_SIZE)};
  ring.fd = ireed_test_memfd(ring.layout.size, F_SEAL_SHRINK, &ring.base);
  request.size = ring.layout.size;
  reply = ireed_test_client_call(&client, &frame, ring.fd);
  ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, "magic");
  detach(&ring);
  ireed_test_client_close(&client);
}

// A client killed with requests queued on its ring leaves the daemon
// serving everyone else.
// The victim of test_client_killed: submits as fast as it can.
static void submit_forever(int ready_fd) {
  session_t session;
  session_open(&session, 1024, 2.0f);
  for (uint64_t i = 0;; ++i) {
    submit(&session.ring, (uint32_t)(i % SLOTS), &session.invoke, i + 1);
    if (i == 16) (void)!write(ready_fd, "x", 1);
    if (i % SLOTS == SLOTS - 1) usleep(100);
  }
}

static void test_client_killed(void** state) {
  (void)state;
  for (unsigned round = 0; round < 3; ++round) {
    ireed_test_kill_child(submit_forever, 1000 * round);
  }
  expect_fresh_session_serves(6.0f);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: test_ring PATH/TO/ireed\n");
    return 2;
  }
  g_ireed_binary = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_invocations),
      cmocka_unit_test(test_rings_run_concurrently),
      cmocka_unit_test(test_large_reply_on_socket),
      cmocka_unit_test(test_hostile_ring),
      cmocka_unit_test(test_unread_replies),
      cmocka_unit_test(test_bad_attach),
      cmocka_unit_test(test_client_killed),
  };
  return cmocka_run_group_tests(tests, setup_daemon, teardown_daemon);
}
