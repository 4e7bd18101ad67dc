// Helpers for the daemon's integration tests: a real `ireed` process on a
// temporary socket, and a minimal blocking client speaking proto/frame.h
// directly (descriptors passed with SCM_RIGHTS), so the tests see exactly
// the bytes a client would.
#ifndef IREED_TESTS_DAEMON_DAEMON_TESTING_H
#define IREED_TESTS_DAEMON_DAEMON_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "proto/frame.h"

#define IREED_F32 0x21000020u  // HAL element type of f32

typedef struct ireed_test_daemon_s {
  pid_t pid;
  char directory[64];     // temporary; holds the socket and the log
  char socket_path[100];  // fits sun_path
  char log_path[128];
  char config_path[64];  // "" unless started with a config
} ireed_test_daemon_t;

// Starts |binary| with --socket in a new temporary directory and waits (up
// to 20 s) until it accepts connections. Extra arguments follow |binary|
// (NULL-terminated).
void ireed_test_daemon_start(ireed_test_daemon_t* daemon, const char* binary,
                             ...);
// ireed_test_daemon_start with --config naming a temporary file that holds
// |yaml| (removed when the daemon is waited for) and one more flag (NULL:
// none).
void ireed_test_daemon_start_config(ireed_test_daemon_t* daemon,
                                    const char* binary, const char* yaml,
                                    const char* flag);
// Starts |binary| as systemd socket activation does: a socket listening in
// a new temporary directory is passed as descriptor 3 with LISTEN_FDS=1 and
// LISTEN_PID (no --socket). The socket file is not the daemon's: it stays
// when the daemon exits (ireed_test_daemon_wait then returns 254 for a
// clean exit).
void ireed_test_daemon_start_activated(ireed_test_daemon_t* daemon,
                                       const char* binary, ...);
// Waits (up to 60 s, then SIGKILL) for the daemon to exit: returns the exit
// status (or 128 + signal; 254 when it exited 0 but left its socket file).
// Removes the temporary directory, printing the log first when the status
// is not 0.
int ireed_test_daemon_wait(ireed_test_daemon_t* daemon);
// SIGTERM, then ireed_test_daemon_wait.
int ireed_test_daemon_stop(ireed_test_daemon_t* daemon);
// Prints the daemon's log to stderr (for failed tests).
void ireed_test_daemon_dump_log(const ireed_test_daemon_t* daemon);

typedef struct ireed_test_client_s {
  int fd;
  ireed_frame_reader_t reader;
  uint64_t next_request_id;
} ireed_test_client_t;

// Connects without saying anything.
void ireed_test_client_open(ireed_test_client_t* client,
                            const ireed_test_daemon_t* daemon);
// Connects as another user: a child process takes |uid|, |gid| and the
// supplementary |groups|, connects (the daemon reads credentials at
// connect) and hands the socket back. Only root can do this: false (the
// caller skips, a message says why) otherwise, or when root may not switch
// users here. The daemon's directory and socket must let that
// user in (ireed_test_daemon_open_to_all).
bool ireed_test_client_open_as(ireed_test_client_t* client,
                               const ireed_test_daemon_t* daemon, uid_t uid,
                               gid_t gid, const gid_t* groups,
                               size_t group_count);
// Lets every user reach the daemon's socket (directory 0755, socket 0666).
void ireed_test_daemon_open_to_all(const ireed_test_daemon_t* daemon);
// Connects and exchanges Hello (asserting the daemon's answer).
void ireed_test_client_connect(ireed_test_client_t* client,
                               const ireed_test_daemon_t* daemon);
void ireed_test_client_close(ireed_test_client_t* client);

// Sends raw bytes (asserting they all went out).
void ireed_test_client_send_raw(ireed_test_client_t* client, const void* data,
                                size_t size);
// Gives |frame| a fresh request id (returned) and sends it, with |fd| in
// SCM_RIGHTS when >= 0.
uint64_t ireed_test_client_send(ireed_test_client_t* client,
                                Ireed__Frame* frame, int fd);
// The next frame (free with ireed__frame__free_unpacked), or NULL at end of
// stream. Fails the test on a timeout (30 s) or undecodable bytes.
Ireed__Frame* ireed_test_client_receive(ireed_test_client_t* client);
// Send + receive, asserting the reply answers the request.
Ireed__Frame* ireed_test_client_call(ireed_test_client_t* client,
                                     Ireed__Frame* frame, int fd);
// True when the daemon closed the connection (after any pending frames).
bool ireed_test_client_at_eof(ireed_test_client_t* client);

// Asserts |reply| is an Error with |code| whose message contains |text|;
// frees it.
void ireed_test_expect_error(Ireed__Frame* reply, uint32_t code,
                             const char* text);

// Requests.
Ireed__Frame* ireed_test_load(ireed_test_client_t* client, const char* name,
                              const char* device, const char* const* modules,
                              size_t module_count, const char* scope,
                              const char* parameters);

// An f32 tensor value: inline (|region_id| 0) or in a region.
typedef struct ireed_test_tensor_s {
  Ireed__Value value;
  Ireed__Tensor tensor;
  Ireed__ShmSlice slice;
  uint64_t shape[4];
} ireed_test_tensor_t;
void ireed_test_tensor_inline(ireed_test_tensor_t* t, const float* data,
                              size_t count);
void ireed_test_tensor_shm(ireed_test_tensor_t* t, size_t count,
                           uint64_t region_id, uint64_t offset);

// An InvokeRequest frame of |inputs| (|outputs| may be NULL).
typedef struct ireed_test_invoke_s {
  Ireed__Frame frame;
  Ireed__InvokeRequest request;
  Ireed__Value* inputs[8];
  Ireed__OutputTarget targets[4];
  Ireed__ShmSlice target_slices[4];
  Ireed__OutputTarget* outputs[4];
} ireed_test_invoke_t;
void ireed_test_invoke_init(ireed_test_invoke_t* invoke, const char* model,
                            const char* function, ireed_test_tensor_t* inputs,
                            size_t input_count);
// An InvokeRequest frame of one i32 |input| (held in |value|).
void ireed_test_invoke_i32(ireed_test_invoke_t* invoke, const char* model,
                           const char* function, Ireed__Value* value,
                           int32_t input);
void ireed_test_invoke_output_shm(ireed_test_invoke_t* invoke, size_t index,
                                  uint64_t region_id, uint64_t offset,
                                  uint64_t length);

// Asserts |reply| is an InvokeReply whose |index| result is an inline f32
// tensor equal to |expected|.
void ireed_test_expect_f32(const Ireed__Frame* reply, size_t index,
                           const float* expected, size_t count);

// Forks a child that runs |child_main| (no cmocka asserts there), waits
// until it writes a byte to |ready_fd|, lets it run |delay_us| longer, then
// SIGKILLs and reaps it: a client dying in the middle of its work.
void ireed_test_kill_child(void (*child_main)(int ready_fd),
                           unsigned delay_us);

// A memfd of |size| bytes sealed with |seals|, mapped read-write at
// *out_data.
int ireed_test_memfd(size_t size, int seals, uint8_t** out_data);
// Registers |fd| (|size| bytes); returns the region id (asserting success).
uint64_t ireed_test_register(ireed_test_client_t* client, int fd,
                             uint64_t size);

// The path of the conformance module |relative| (under conformance/), or
// false (skip) when the corpus is absent.
bool ireed_test_corpus(const char* relative, char* buffer, size_t capacity);

// Variants for client threads: no cmocka asserts (they must run on the
// test's thread); false on any failure, with a message in |error|.
// Connects to |socket_path| and exchanges Hello.
bool ireed_test_quiet_connect(ireed_test_client_t* client,
                              const char* socket_path, char* error,
                              size_t error_capacity);
// Sends |frame| (a fresh request id) and receives its reply.
bool ireed_test_quiet_call(ireed_test_client_t* client, Ireed__Frame* frame,
                           Ireed__Frame** out_reply, char* error,
                           size_t error_capacity);

#endif  // IREED_TESTS_DAEMON_DAEMON_TESTING_H
