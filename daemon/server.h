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
// exactly one descriptor with each RegisterShm frame). A malformed,
// oversized or truncated frame gets an Error (request_id 0) and closes that
// connection only.
//
// Backpressure (limits in ireed_limits_config_t): work beyond a limit is
// refused at once with RESOURCE_EXHAUSTED, "ireed is busy: ..." naming the
// limit, and never queued:
//   max_clients              a connection beyond it gets the Error
//                            (request_id 0) and is closed;
//   max_inflight_per_client  an InvokeRequest while that many invocations
//                            of the connection are unanswered;
//   queue_depth              an InvokeRequest while that many invocations
//                            (all connections) wait for a worker.
// Only replies can still pile up: reading from a connection pauses while
// IREED_CONNECTION_MAX_QUEUED_BYTES of its replies are unsent, so a client
// that does not read cannot grow the daemon's memory (a busy Error would
// only add to the pile).
//
// Shutdown (ireed_server_stop, on SIGTERM/SIGINT) drains: new connections
// get UNAVAILABLE "ireed is shutting down" and are closed, and so do new
// InvokeRequest, LoadModel and RegisterShm requests on open connections;
// invocations and loads in flight finish and are answered; then every
// connection is closed once its replies are written and uv_run returns. If
// work is still running after limits.drain_timeout_seconds the loop stops
// anyway and ireed_server_drain_forced says so (ireed then exits 1 without
// waiting for it).
#ifndef IREED_DAEMON_SERVER_H
#define IREED_DAEMON_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "daemon/config.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/session/model.h"

// Defaults of the limits left at 0.
#define IREED_DEFAULT_MAX_INFLIGHT_PER_CLIENT 256
#define IREED_DEFAULT_QUEUE_DEPTH 4096
#define IREED_DEFAULT_DRAIN_TIMEOUT_SECONDS 30
// Reading from a connection pauses while this many reply bytes are unsent.
#define IREED_CONNECTION_MAX_QUEUED_BYTES (64u * 1024u * 1024u)

// Called with each config a reload read, before it is applied.
typedef void (*ireed_config_hook_t)(void* user_data, ireed_config_t* config);

typedef struct ireed_server_options_s {
  // The config (moved into the server, leaving *config empty; NULL: an
  // empty one). ireed_server_preload loads its models; reloads re-read
  // config->source_path.
  ireed_config_t* config;
  ireed_config_hook_t on_config;  // may be NULL
  void* on_config_user_data;
  // > 0: an already-listening socket to serve (systemd socket activation
  // passes descriptors from 3 on); socket_path then only names it, and the
  // socket file is neither created, changed nor removed.
  int listen_fd;
  const char* socket_path;
  uint32_t socket_mode;   // permission bits of the socket file; 0: 0660
  bool set_socket_group;  // chown the socket file to |socket_gid|
  gid_t socket_gid;
  uint32_t worker_count;  // 0: two per online CPU (at least 4)
  // max_frame_size 0: IREED_FRAME_DEFAULT_MAX_SIZE; other zeros: the
  // defaults above (max_clients 0: unlimited).
  ireed_limits_config_t limits;
  // Roles of peers (daemon/access.h; copied). NULL or not enabled: every
  // peer is admin.
  const ireed_access_config_t* access;
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

// Replaces the access rules (loop thread, e.g. on reload): connections
// accepted from now on get roles from |access|; open ones keep theirs.
irt_status_t ireed_server_set_access(
    ireed_server_t* server, const ireed_access_config_t* access) IRT_MUST_USE;

// Loads the config's models (loop thread, once, after create), then starts
// accepting connections (until then they wait in the socket's backlog) and
// runs |on_ready| on the loop thread: every load finished by then, failed
// or not (a failure is logged with the model's name). ireed then tells
// systemd it is ready. |on_ready| runs again each time a reload finished.
void ireed_server_preload(ireed_server_t* server, void (*on_ready)(void*),
                          void* user_data);

// Re-reads the config file and applies the difference (SIGHUP; clients send
// ReloadRequest): models added to the config are loaded, removed ones
// unloaded once their in-flight invocations finished, and a model whose
// module, parameters or device changed is loaded again under the same name
// and swapped in when ready: invocations in flight finish on the old
// version, later ones run on the new one, none fails. A config that does
// not parse is logged and changes nothing. A reload asked for while one
// runs follows it.
void ireed_server_reload(ireed_server_t* server);

// Starts draining (loop thread, e.g. from a signal handler; see above):
// uv_run returns once in-flight work was answered and every connection
// closed, or when the drain timeout expired. The socket file is removed
// then.
void ireed_server_stop(ireed_server_t* server);

// True when the drain timeout expired with work still running: the caller
// must not destroy the server (its workers may never finish).
bool ireed_server_drain_forced(const ireed_server_t* server);

// Joins the workers and releases the models (after uv_run returned).
void ireed_server_destroy(ireed_server_t* server);

#endif  // IREED_DAEMON_SERVER_H
