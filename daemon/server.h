// The ireed server: a libuv event loop serving the protocol of
// proto/ireed.proto on a Unix stream socket.
//
// Threads. The loop thread accepts connections, reads and decodes frames,
// checks every request and answers the cheap ones (Hello, ListModels,
// Status, shared-memory registration, every validation error) itself.
// Model loads, unloads and invocations run on a fixed worker pool
// (worker_pool.h); a worker encodes its reply and hands it back through a
// completion queue and a uv_async wake-up. The loop never loads, invokes or
// waits for a device.
//
// Sockets. Connections are driven with uv_poll and plain recvmsg/sendmsg on
// the socket rather than uv_pipe streams: shared-memory registration passes
// a memfd with SCM_RIGHTS, and recvmsg on the connection's own fd is the
// only way to receive it together with the bytes it came with (libuv's IPC
// pipes turn received descriptors into libuv handles, which a memfd is not).
// Reading the socket ourselves also gives exact backpressure.
//
// Per connection: a frame reader (proto/frame.h), a write queue, and a FIFO
// of received descriptors (each RegisterShm takes the oldest; clients send
// exactly one descriptor with each RegisterShm frame). Reading pauses while
// the connection has too many invocations in flight or too many reply bytes
// queued, so a client that does not read its replies cannot grow the
// daemon's memory. A malformed, oversized or truncated frame gets an Error
// (request_id 0) and closes that connection only.
#ifndef IREED_DAEMON_SERVER_H
#define IREED_DAEMON_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/session/model.h"

typedef struct ireed_server_options_s {
  const char* socket_path;
  uint32_t socket_mode;   // permission bits of the socket file; 0: 0660
  bool set_socket_group;  // chown the socket file to |socket_gid|
  gid_t socket_gid;
  uint32_t worker_count;  // 0: two per online CPU (at least 4)
  size_t max_frame_size;  // 0: IREED_FRAME_DEFAULT_MAX_SIZE
} ireed_server_options_t;

typedef struct ireed_server_s ireed_server_t;

// Binds and listens on options->socket_path (a stale socket file nobody
// listens on is replaced; a live one is ALREADY_EXISTS), gives the socket
// file its mode and group, and starts the workers. |runtime| must outlive the
// server.
irt_status_t ireed_server_create(uv_loop_t* loop, irsess_runtime_t* runtime,
                                 const ireed_server_options_t* options,
                                 irt_allocator_t allocator,
                                 ireed_server_t** out_server) IRT_MUST_USE;

// Starts a clean shutdown (loop thread, e.g. from a signal handler): stops
// listening, removes the socket file, closes every connection, lets the
// running jobs finish and then closes the server's handles so uv_run
// returns.
void ireed_server_stop(ireed_server_t* server);

// Joins the workers and releases the models (after uv_run returned).
void ireed_server_destroy(ireed_server_t* server);

#endif  // IREED_DAEMON_SERVER_H
