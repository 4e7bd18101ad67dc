// A tiny ireed stand-in for libireeclient's tests: one connection over a
// socketpair, served by a thread with proto/frame.c. It knows one model,
// "fake", whose function "mul" multiplies two f32 tensors elementwise, and
// a few triggers for failure paths.
#ifndef IREED_TESTS_CLIENT_FAKE_SERVER_H
#define IREED_TESTS_CLIENT_FAKE_SERVER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/lib/ireeclient.h"

// Function names with special behaviour (model "fake"):
//   "mul"   f32 a * b -> one f32 tensor (shm or inline, as asked)
//   "fail"  Error reply INVALID_ARGUMENT "fake failure of 'fail'"
//   "busy"  Error reply RESOURCE_EXHAUSTED, the daemon's busy message
//           (not listed among the model's functions)
//   "close" an Error with request id 0 ("fake server going away"), then the
//           server closes the connection
//   "junk"  the server writes bytes that are not a frame
#define FAKE_MODEL "fake"
#define FAKE_ERROR_MESSAGE "fake failure of 'fail'"
#define FAKE_CLOSE_MESSAGE "fake server going away"
#define FAKE_BUSY_MESSAGE \
  "ireed is busy: 256 invocations in flight (limits.max_inflight_per_client)"

typedef struct fake_server_options_s {
  uint32_t protocol_major;  // 0: the real one
  // Invoke replies are held until this many invokes arrived, then sent in
  // reverse order (0 or 1: reply at once).
  int hold_invokes;
} fake_server_options_t;

typedef struct fake_server_s {
  fake_server_options_t options;
  int fd;  // the server's end
  pthread_t thread;
  // Counters the tests look at (written by the server thread; read after
  // fake_server_stop or once replies were seen).
  int registrations;
  int unregistrations;
  int invokes;
  int inline_inputs;
  int shm_inputs;
  uint32_t shm_seals;  // seals of the last registered memfd
} fake_server_t;

// Starts a server thread; *out_client_fd is the client's end.
void fake_server_start(fake_server_t* server,
                       const fake_server_options_t* options,
                       int* out_client_fd);
// Waits for the server thread (it ends when the client disconnects).
void fake_server_stop(fake_server_t* server);

// Connects a client to a new fake server.
ireeclient_connection_t* fake_server_connect(
    fake_server_t* server, const fake_server_options_t* options,
    uint64_t inline_threshold);

#endif  // IREED_TESTS_CLIENT_FAKE_SERVER_H
