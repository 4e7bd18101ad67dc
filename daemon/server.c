#include "daemon/server.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/access.h"
#include "daemon/config.h"
#include "daemon/invocation.h"
#include "daemon/models.h"
#include "daemon/protocol.h"
#include "daemon/region.h"
#include "daemon/ring.h"
#include "daemon/worker_pool.h"
#include "hal/device_probe.h"
#include "proto/frame.h"
#include "runtime/base/log.h"
#include "runtime/base/math.h"
#include "runtime/base/version.h"

#define IREED_LOG "ireed"

// Descriptors received and not yet claimed by a RegisterShm frame.
#define IREED_CONNECTION_MAX_PENDING_FDS 16
#define IREED_CONNECTION_MAX_REGIONS 4096
#define IREED_READ_BUFFER_SIZE (256u * 1024u)
#define IREED_MAX_FDS_PER_READ 8
#define IREED_WRITE_BATCH 64
#define IREED_MAX_FREE_WRITES 1024
#define IREED_MAX_DEVICES 16
// After EMFILE and friends, accepting resumes after this long.
#define IREED_ACCEPT_RETRY_MS 100

typedef struct ireed_conn_s ireed_conn_t;
typedef struct ireed_write_s ireed_write_t;

// One encoded frame waiting to be written.
struct ireed_write_s {
  ireed_write_t* next;
  uint8_t* data;  // from the server's allocator
  size_t size;
  size_t offset;  // bytes already written
};

struct ireed_conn_s {
  ireed_conn_t* prev;
  ireed_conn_t* next;
  ireed_server_t* server;
  uint64_t id;
  int fd;
  uv_poll_t poll;
  int events;  // what |poll| watches now
  // One reference while the handle is open, one per job or reply waiting.
  uint32_t refs;
  bool open;     // false once closing started
  bool failing;  // an error was sent: close once written, ignore input
  bool hello;    // the client's Hello arrived
  // The peer (SO_PEERCRED) and the role it was given at accept.
  uid_t uid;
  gid_t gid;
  pid_t pid;
  ireed_role_t role;
  ireed_frame_reader_t reader;
  ireed_write_t* write_head;
  ireed_write_t* write_tail;
  size_t write_bytes;
  int fds[IREED_CONNECTION_MAX_PENDING_FDS];  // FIFO
  size_t fd_count;
  ireed_region_table_t regions;
  uint32_t in_flight;  // invocations
  // The submission ring (ring.h) and the job its thread's exit posts.
  ireed_ring_t* ring;
  void* ring_exit_job;
  bool ring_closed;  // under shared_mutex: the connection is closing
};

// What a refused connection or request is told while draining.
#define IREED_SHUTTING_DOWN "ireed is shutting down"

typedef struct ireed_device_entry_s {
  bool available;
  irhal_device_info_t info;
} ireed_device_entry_t;

struct ireed_server_s {
  uv_loop_t* loop;
  irt_allocator_t allocator;
  irsess_runtime_t* runtime;
  ireed_worker_pool_t* pool;
  ireed_ring_pollers_t ring_pollers;
  size_t max_frame_size;
  ireed_limits_config_t limits;  // zeros replaced by the defaults
  ireed_access_config_t access;  // the server's copy
  char* socket_path;
  uint64_t start_ns;
  int listen_fd;
  bool adopted;  // listen_fd came from systemd
  uv_poll_t listen_poll;
  uv_timer_t accept_timer;
  uv_async_t wakeup;
  uv_timer_t drain_timer;
  bool stopping;      // draining
  bool finished;      // no job left: connections close, handles close
  bool drain_forced;  // the drain timeout expired with jobs running
  // Invocations submitted and not yet started by a worker (limits.queue_depth).
  atomic_uint queued;
  // Jobs finished by workers, waiting for the loop.
  pthread_mutex_t completed_mutex;
  ireed_job_t* completed_head;
  ireed_job_t* completed_tail;
  uint32_t jobs_in_flight;
  ireed_conn_t* connections;
  uint32_t connection_count;
  uint64_t next_connection_id;
  uint64_t connections_accepted;
  uint64_t connections_refused;
  // Region ids are unique across connections, so an id never names another
  // connection's region by accident (lookups are per connection anyway).
  uint64_t next_region_id;
  // What submission rings' threads read besides the loop: the model list,
  // each entry's state and in_flight count, connections' region tables and
  // |stopping|. The loop changes them under this lock (and reads them
  // without it).
  pthread_mutex_t shared_mutex;
  ireed_model_entry_t* models;
  // Configured models: the config they come from, the reload (or start-up
  // preload) running, and the idle-unload check.
  ireed_config_t config;
  ireed_config_hook_t on_config;
  void* on_config_user_data;
  struct ireed_reload_s* reload;
  bool reload_again;  // SIGHUP during a reload: run another after it
  void (*on_ready)(void* user_data);  // ireed_server_preload's
  void* on_ready_user_data;
  uv_timer_t idle_timer;
  ireed_write_t* free_writes;
  size_t free_write_count;
  size_t device_count;
  ireed_device_entry_t devices[IREED_MAX_DEVICES];
  uint8_t* read_buffer;
};

// A job that reports back to the loop: its base.next links the completion
// queue once run.
typedef struct ireed_server_job_s ireed_server_job_t;
struct ireed_server_job_s {
  ireed_job_t base;
  ireed_server_t* server;
  void (*complete)(ireed_server_job_t* job);  // loop thread
};

// A reply owed to a client once a model changes state.
typedef struct ireed_waiter_s ireed_waiter_t;
struct ireed_waiter_s {
  ireed_waiter_t* next;
  ireed_conn_t* conn;  // referenced
  uint64_t request_id;
  Ireed__Frame* frame;  // a parked InvokeRequest (owned), or NULL
};

static void ireed_conn_close(ireed_conn_t* conn);
static void ireed_conn_update_poll(ireed_conn_t* conn);
static void ireed_conn_resume(ireed_conn_t* conn);
static void ireed_server_maybe_finish(ireed_server_t* server);
static void ireed_reload_load_done(ireed_server_t* server,
                                   ireed_model_entry_t* entry,
                                   irt_status_t status);
static void ireed_reload_maybe_settle(ireed_server_t* server);
static void ireed_server_unpark(ireed_server_t* server, ireed_waiter_t* parked,
                                irt_status_t status);

//===----------------------------------------------------------------------===//
// Completions
//===----------------------------------------------------------------------===//

// Worker side: queues |job| for the loop.
static void ireed_server_post(ireed_server_job_t* job) {
  ireed_server_t* server = job->server;
  pthread_mutex_lock(&server->completed_mutex);
  job->base.next = NULL;
  if (server->completed_tail) {
    server->completed_tail->next = &job->base;
  } else {
    server->completed_head = &job->base;
  }
  server->completed_tail = &job->base;
  // Sent under the lock: the loop cannot take this job, finish and close
  // the async handle before the send returns.
  uv_async_send(&server->wakeup);
  pthread_mutex_unlock(&server->completed_mutex);
}

static void ireed_server_on_wakeup(uv_async_t* handle) {
  ireed_server_t* server = handle->data;
  pthread_mutex_lock(&server->completed_mutex);
  ireed_job_t* job = server->completed_head;
  server->completed_head = server->completed_tail = NULL;
  pthread_mutex_unlock(&server->completed_mutex);
  while (job) {
    ireed_job_t* next = job->next;
    ireed_server_job_t* server_job = (ireed_server_job_t*)job;
    server_job->complete(server_job);
    job = next;
  }
}

static void ireed_server_submit(ireed_server_t* server, ireed_server_job_t* job,
                                void (*run)(ireed_job_t*, ireed_worker_t*),
                                void (*complete)(ireed_server_job_t*)) {
  job->base.run = run;
  job->server = server;
  job->complete = complete;
  ++server->jobs_in_flight;
  ireed_worker_pool_submit(server->pool, &job->base);
}

static void ireed_server_job_done(ireed_server_t* server) {
  --server->jobs_in_flight;
  ireed_server_maybe_finish(server);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

static void ireed_conn_ref(ireed_conn_t* conn) { ++conn->refs; }

static void ireed_conn_unref(ireed_conn_t* conn) {
  if (--conn->refs) return;
  irt_allocator_free(conn->server->allocator, conn);
}

static void ireed_server_free_write(ireed_server_t* server,
                                    ireed_write_t* write) {
  irt_allocator_free(server->allocator, write->data);
  if (server->free_write_count < IREED_MAX_FREE_WRITES) {
    write->next = server->free_writes;
    server->free_writes = write;
    ++server->free_write_count;
  } else {
    irt_allocator_free(server->allocator, write);
  }
}

// Writes what the socket takes now. May close the connection.
static void ireed_conn_flush(ireed_conn_t* conn) {
  ireed_server_t* server = conn->server;
  while (conn->write_head) {
    struct iovec iov[IREED_WRITE_BATCH];
    int count = 0;
    for (ireed_write_t* write = conn->write_head;
         write && count < IREED_WRITE_BATCH; write = write->next, ++count) {
      iov[count].iov_base = write->data + write->offset;
      iov[count].iov_len = write->size - write->offset;
    }
    struct msghdr message = {.msg_iov = iov, .msg_iovlen = (size_t)count};
    ssize_t written = sendmsg(conn->fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      irt_log(IRT_LOG_DEBUG, IREED_LOG, "connection %" PRIu64 ": write: %s",
              conn->id, strerror(errno));
      ireed_conn_close(conn);
      return;
    }
    conn->write_bytes -= (size_t)written;
    size_t left = (size_t)written;
    while (left) {
      ireed_write_t* write = conn->write_head;
      size_t pending = write->size - write->offset;
      if (left < pending) {
        write->offset += left;
        break;
      }
      left -= pending;
      conn->write_head = write->next;
      if (!conn->write_head) conn->write_tail = NULL;
      ireed_server_free_write(server, write);
    }
  }
  if (conn->failing && !conn->write_head) ireed_conn_close(conn);
}

// Queues an encoded frame (taking |data|) and writes at once when nothing
// is ahead of it. A closed connection just frees it.
static void ireed_conn_send_bytes(ireed_conn_t* conn, uint8_t* data,
                                  size_t size) {
  ireed_server_t* server = conn->server;
  if (!conn->open) {
    irt_allocator_free(server->allocator, data);
    return;
  }
  ireed_write_t* write = server->free_writes;
  if (write) {
    server->free_writes = write->next;
    --server->free_write_count;
  } else {
    irt_status_t status =
        irt_allocator_malloc(server->allocator, sizeof(*write), (void**)&write);
    if (!irt_status_is_ok(status)) {
      irt_status_free(status);
      irt_allocator_free(server->allocator, data);
      irt_log(IRT_LOG_ERROR, IREED_LOG,
              "connection %" PRIu64 ": out of memory queuing a reply",
              conn->id);
      ireed_conn_close(conn);  // a reply is lost: never leave a client hanging
      return;
    }
  }
  write->next = NULL;
  write->data = data;
  write->size = size;
  write->offset = 0;
  bool idle = conn->write_head == NULL;
  if (conn->write_tail) {
    conn->write_tail->next = write;
  } else {
    conn->write_head = write;
  }
  conn->write_tail = write;
  conn->write_bytes += size;
  if (idle) ireed_conn_flush(conn);
  if (conn->open) ireed_conn_update_poll(conn);
}

// Encodes and sends |frame|; an encoding failure is sent as an Error.
static void ireed_conn_send_frame(ireed_conn_t* conn,
                                  const Ireed__Frame* frame);

static void ireed_conn_send_error(ireed_conn_t* conn, uint64_t request_id,
                                  irt_status_t status) {
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t encode_status = ireed_encode_error(
      request_id, status, conn->server->allocator, &data, &size);
  irt_status_free(status);
  if (!irt_status_is_ok(encode_status)) {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG, "encoding an error reply",
                   encode_status);
    irt_status_free(encode_status);
    ireed_conn_close(conn);
    return;
  }
  ireed_conn_send_bytes(conn, data, size);
}

static void ireed_conn_send_frame(ireed_conn_t* conn,
                                  const Ireed__Frame* frame) {
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status =
      ireed_frame_encode(frame, conn->server->max_frame_size,
                         conn->server->allocator, &data, &size);
  if (!irt_status_is_ok(status)) {
    ireed_conn_send_error(conn, frame->request_id, status);
    return;
  }
  ireed_conn_send_bytes(conn, data, size);
}

// Sends an Error and closes the connection once it is written.
// ireed_conn_fail, logged as |event| ("connection.failed",
// "connection.refused").
static void ireed_conn_end(ireed_conn_t* conn, uint64_t request_id,
                           irt_status_t status, const char* event) {
  char text[256];
  irt_status_format_brief(status, text, sizeof(text));
  IRT_LOG_EVENT(IRT_LOG_WARNING, IREED_LOG, event,
                IRT_LOG_U64("conn", conn->id), IRT_LOG_U64("uid", conn->uid),
                IRT_LOG_I64("pid", conn->pid), IRT_LOG_STR("error", text));
  conn->failing = true;
  ireed_frame_reader_deinitialize(&conn->reader);
  ireed_frame_reader_initialize(&conn->reader, conn->server->max_frame_size,
                                conn->server->allocator);
  ireed_conn_send_error(conn, request_id, status);
  if (conn->open && !conn->write_head) ireed_conn_close(conn);
}

static void ireed_conn_fail(ireed_conn_t* conn, uint64_t request_id,
                            irt_status_t status) {
  ireed_conn_end(conn, request_id, status, "connection.failed");
}

//===----------------------------------------------------------------------===//
// Connections
//===----------------------------------------------------------------------===//

static bool ireed_conn_paused(const ireed_conn_t* conn) {
  return conn->write_bytes >= IREED_CONNECTION_MAX_QUEUED_BYTES;
}

static void ireed_conn_on_poll(uv_poll_t* handle, int status, int events);

static void ireed_conn_update_poll(ireed_conn_t* conn) {
  if (!conn->open) return;
  int events = 0;
  // A failing connection still reads (and drops) input to notice the close.
  if (conn->failing || !ireed_conn_paused(conn)) events |= UV_READABLE;
  if (conn->write_head) events |= UV_WRITABLE;
  if (events == conn->events) return;
  conn->events = events;
  if (events) {
    uv_poll_start(&conn->poll, events, ireed_conn_on_poll);
  } else {
    uv_poll_stop(&conn->poll);
  }
}

static void ireed_conn_on_closed(uv_handle_t* handle) {
  ireed_conn_t* conn = handle->data;
  close(conn->fd);
  ireed_conn_unref(conn);
}

static void ireed_server_close_drain_timer(ireed_server_t* server) {
  if (!uv_is_closing((uv_handle_t*)&server->drain_timer)) {
    uv_close((uv_handle_t*)&server->drain_timer, NULL);
  }
}

static void ireed_conn_close(ireed_conn_t* conn) {
  if (!conn->open) return;
  ireed_server_t* server = conn->server;
  conn->open = false;
  IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "connection.closed",
                IRT_LOG_U64("conn", conn->id), IRT_LOG_U64("uid", conn->uid),
                IRT_LOG_I64("pid", conn->pid));
  if (conn->prev) {
    conn->prev->next = conn->next;
  } else {
    server->connections = conn->next;
  }
  if (conn->next) conn->next->prev = conn->prev;
  --server->connection_count;
  while (conn->write_head) {
    ireed_write_t* write = conn->write_head;
    conn->write_head = write->next;
    ireed_server_free_write(server, write);
  }
  conn->write_tail = NULL;
  conn->write_bytes = 0;
  for (size_t i = 0; i < conn->fd_count; ++i) close(conn->fds[i]);
  conn->fd_count = 0;
  if (conn->ring) ireed_ring_stop(conn->ring);
  // In-flight invocations hold their own region references.
  pthread_mutex_lock(&server->shared_mutex);
  conn->ring_closed = true;
  ireed_region_table_deinitialize(&conn->regions);
  pthread_mutex_unlock(&server->shared_mutex);
  ireed_frame_reader_deinitialize(&conn->reader);
  uv_close((uv_handle_t*)&conn->poll, ireed_conn_on_closed);
  // The drain timer outlives the connections still writing at the end.
  if (server->finished && !server->connections) {
    ireed_server_close_drain_timer(server);
  }
}

static void ireed_conn_handle(ireed_conn_t* conn, Ireed__Frame* frame);

// Handles the complete frames already received, while not paused.
static void ireed_conn_process(ireed_conn_t* conn) {
  while (conn->open && !conn->failing && !ireed_conn_paused(conn)) {
    Ireed__Frame* frame = NULL;
    irt_status_t status = ireed_frame_reader_next(&conn->reader, &frame);
    if (!irt_status_is_ok(status)) {
      ireed_conn_fail(conn, 0, status);
      return;
    }
    if (!frame) return;
    ireed_conn_handle(conn, frame);
  }
}

static void ireed_conn_resume(ireed_conn_t* conn) {
  ireed_conn_process(conn);
  ireed_conn_update_poll(conn);
}

// Moves the descriptors of |message| into the connection's FIFO. False when
// they do not fit (they are closed).
static bool ireed_conn_take_fds(ireed_conn_t* conn, struct msghdr* message) {
  bool ok = (message->msg_flags & MSG_CTRUNC) == 0;
  for (struct cmsghdr* header = CMSG_FIRSTHDR(message); header;
       header = CMSG_NXTHDR(message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const uint8_t* data = CMSG_DATA(header);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      memcpy(&fd, data + i * sizeof(int), sizeof(int));
      if (ok && !conn->failing &&
          conn->fd_count < IREED_CONNECTION_MAX_PENDING_FDS) {
        conn->fds[conn->fd_count++] = fd;
      } else {
        close(fd);
        ok = false;
      }
    }
  }
  return ok || conn->failing;  // a failing connection drops everything
}

static void ireed_conn_read(ireed_conn_t* conn) {
  ireed_server_t* server = conn->server;
  for (int round = 0; round < 16 && conn->open; ++round) {
    if (!conn->failing && ireed_conn_paused(conn)) break;
    struct iovec iov = {server->read_buffer, IREED_READ_BUFFER_SIZE};
    union {
      struct cmsghdr align;
      char buffer[CMSG_SPACE(sizeof(int) * IREED_MAX_FDS_PER_READ)];
    } control;
    struct msghdr message = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.buffer,
        .msg_controllen = sizeof(control.buffer),
    };
    ssize_t received =
        recvmsg(conn->fd, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (received < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      irt_log(IRT_LOG_DEBUG, IREED_LOG, "connection %" PRIu64 ": read: %s",
              conn->id, strerror(errno));
      ireed_conn_close(conn);
      return;
    }
    if (!ireed_conn_take_fds(conn, &message)) {
      ireed_conn_fail(
          conn, 0,
          irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                          "too many file descriptors received (at most %d "
                          "may wait for their RegisterShm frames)",
                          IREED_CONNECTION_MAX_PENDING_FDS));
      continue;
    }
    if (received == 0) {
      if (conn->reader.size && !conn->failing) {
        irt_log(IRT_LOG_WARNING, IREED_LOG,
                "connection %" PRIu64
                " closed in the middle of a frame (%zu bytes of it received)",
                conn->id, conn->reader.size);
      }
      ireed_conn_close(conn);
      return;
    }
    if (conn->failing) continue;  // dropped
    irt_status_t status = ireed_frame_reader_append(
        &conn->reader, server->read_buffer, (size_t)received);
    if (!irt_status_is_ok(status)) {
      ireed_conn_fail(conn, 0, status);
      continue;
    }
    ireed_conn_process(conn);
    if ((size_t)received < IREED_READ_BUFFER_SIZE) break;
  }
}

static void ireed_conn_on_poll(uv_poll_t* handle, int status, int events) {
  ireed_conn_t* conn = handle->data;
  if (status < 0) {
    irt_log(IRT_LOG_DEBUG, IREED_LOG, "connection %" PRIu64 ": poll: %s",
            conn->id, uv_strerror(status));
    ireed_conn_close(conn);
    return;
  }
  if ((events & UV_WRITABLE) && conn->open) ireed_conn_flush(conn);
  if ((events & UV_READABLE) && conn->open) ireed_conn_read(conn);
  if (conn->open) ireed_conn_resume(conn);
}

// Whether the connection just added may stay: OK, or why not.
static irt_status_t ireed_server_admit(const ireed_server_t* server,
                                       const ireed_conn_t* conn) {
  if (server->stopping) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           IREED_SHUTTING_DOWN "; connect again later");
  }
  if (conn->role == IREED_ROLE_NONE) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "uid %u (gid %u, pid %d) may not use ireed: no "
                           "access rule (access.admin, access.client) matches "
                           "its uid or groups",
                           (unsigned)conn->uid, (unsigned)conn->gid,
                           (int)conn->pid);
  }
  if (server->limits.max_clients &&
      server->connection_count > server->limits.max_clients) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           IREED_BUSY_PREFIX
                           "%u clients are connected "
                           "(limits.max_clients); connect again later",
                           server->limits.max_clients);
  }
  return IRT_OK;
}

static void ireed_server_accept_one(ireed_server_t* server, int fd) {
  ireed_conn_t* conn = NULL;
  irt_status_t status =
      irt_allocator_calloc(server->allocator, sizeof(*conn), (void**)&conn);
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG, "accepting a connection", status);
    irt_status_free(status);
    close(fd);
    return;
  }
  int error = uv_poll_init(server->loop, &conn->poll, fd);
  if (error) {
    irt_log(IRT_LOG_ERROR, IREED_LOG, "accepting a connection: %s",
            uv_strerror(error));
    irt_allocator_free(server->allocator, conn);
    close(fd);
    return;
  }
  conn->poll.data = conn;
  conn->server = server;
  conn->id = ++server->next_connection_id;
  conn->fd = fd;
  conn->refs = 1;
  conn->open = true;
  ireed_frame_reader_initialize(&conn->reader, server->max_frame_size,
                                server->allocator);
  ireed_region_table_initialize(&conn->regions, server->allocator);
  conn->next = server->connections;
  if (conn->next) conn->next->prev = conn;
  server->connections = conn;
  ++server->connection_count;
  ++server->connections_accepted;
  ireed_peer_t peer;
  irt_status_t refusal =
      ireed_peer_read(fd, ireed_access_uses_groups(&server->access), &peer);
  conn->uid = peer.uid;
  conn->gid = peer.gid;
  conn->pid = peer.pid;
  conn->role = irt_status_is_ok(refusal)
                   ? ireed_access_role(&server->access, &peer)
                   : IREED_ROLE_NONE;
  if (irt_status_is_ok(refusal)) refusal = ireed_server_admit(server, conn);
  if (!irt_status_is_ok(refusal)) {
    ++server->connections_refused;
    ireed_conn_end(conn, 0, refusal, "connection.refused");
    return;
  }
  IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "connection.accepted",
                IRT_LOG_U64("conn", conn->id), IRT_LOG_U64("uid", conn->uid),
                IRT_LOG_U64("gid", conn->gid), IRT_LOG_I64("pid", conn->pid),
                IRT_LOG_STR("role", ireed_role_name(conn->role)));
  ireed_conn_update_poll(conn);
}

static void ireed_server_on_listen(uv_poll_t* handle, int status, int events);

static void ireed_server_on_accept_timer(uv_timer_t* timer) {
  ireed_server_t* server = timer->data;
  if (!server->finished) {
    uv_poll_start(&server->listen_poll, UV_READABLE, ireed_server_on_listen);
  }
}

static void ireed_server_on_listen(uv_poll_t* handle, int status, int events) {
  (void)events;
  ireed_server_t* server = handle->data;
  if (status < 0) {
    irt_log(IRT_LOG_ERROR, IREED_LOG, "listening socket: %s",
            uv_strerror(status));
    return;
  }
  for (;;) {
    int fd =
        accept4(server->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      ireed_server_accept_one(server, fd);
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    // Out of descriptors or memory: pause accepting instead of spinning.
    irt_log(IRT_LOG_WARNING, IREED_LOG,
            "cannot accept connections: %s; retrying in %d ms", strerror(errno),
            IREED_ACCEPT_RETRY_MS);
    uv_poll_stop(&server->listen_poll);
    uv_timer_start(&server->accept_timer, ireed_server_on_accept_timer,
                   IREED_ACCEPT_RETRY_MS, 0);
    return;
  }
}

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

static ireed_model_entry_t* ireed_server_find_model(ireed_server_t* server,
                                                    const char* name) {
  for (ireed_model_entry_t* entry = server->models; entry;
       entry = entry->next) {
    // Versions being replaced and replacements still loading have no name.
    if (entry->retired || entry->replaces) continue;
    if (strcmp(entry->name, name) == 0) return entry;
  }
  return NULL;
}

// The entry loading to take |entry|'s name, or NULL.
static ireed_model_entry_t* ireed_server_find_replacement(
    ireed_server_t* server, const ireed_model_entry_t* entry) {
  for (ireed_model_entry_t* other = server->models; other;
       other = other->next) {
    if (other->replaces == entry) return other;
  }
  return NULL;
}

static void ireed_server_remove_model(ireed_server_t* server,
                                      ireed_model_entry_t* entry) {
  pthread_mutex_lock(&server->shared_mutex);
  for (ireed_model_entry_t** link = &server->models; *link;
       link = &(*link)->next) {
    if (*link == entry) {
      *link = entry->next;
      break;
    }
  }
  // A replacement of this entry now loads as a plain model.
  for (ireed_model_entry_t* other = server->models; other;
       other = other->next) {
    if (other->replaces == entry) other->replaces = NULL;
  }
  pthread_mutex_unlock(&server->shared_mutex);
  // Parked invocations of a load that never completed (a forced drain).
  ireed_waiter_t* parked = entry->parked;
  while (parked) {
    ireed_waiter_t* next = parked->next;
    ireed__frame__free_unpacked(parked->frame, NULL);
    ireed_conn_unref(parked->conn);
    irt_allocator_free(server->allocator, parked);
    parked = next;
  }
  irt_allocator_free(server->allocator, entry->job);
  ireed_model_entry_destroy(entry);
}

// Appends a reply owed to |conn| to |list|.
static irt_status_t ireed_waiter_push(ireed_waiter_t** list, ireed_conn_t* conn,
                                      uint64_t request_id) {
  ireed_waiter_t* waiter = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(conn->server->allocator,
                                           sizeof(*waiter), (void**)&waiter));
  waiter->conn = conn;
  waiter->request_id = request_id;
  waiter->frame = NULL;
  waiter->next = NULL;
  // Appended: replies go out in request order.
  while (*list) list = &(*list)->next;
  *list = waiter;
  ireed_conn_ref(conn);
  return IRT_OK;
}

static irt_status_t ireed_add_waiter(ireed_conn_t* conn,
                                     ireed_model_entry_t* entry,
                                     uint64_t request_id) {
  return ireed_waiter_push((ireed_waiter_t**)&entry->waiters, conn, request_id);
}

// Answers every waiter of |entry|: with |frame| (its request_id replaced)
// when |status| is OK, else with an Error of |status| (consumed).
static void ireed_answer_list(ireed_server_t* server, ireed_waiter_t* waiter,
                              Ireed__Frame* frame, irt_status_t status) {
  while (waiter) {
    ireed_waiter_t* next = waiter->next;
    if (waiter->conn->open) {
      if (irt_status_is_ok(status)) {
        frame->request_id = waiter->request_id;
        ireed_conn_send_frame(waiter->conn, frame);
      } else {
        ireed_conn_send_error(waiter->conn, waiter->request_id,
                              irt_status_clone(status));
      }
    }
    ireed_conn_unref(waiter->conn);
    irt_allocator_free(server->allocator, waiter);
    waiter = next;
  }
  irt_status_free(status);
}

static void ireed_answer_waiters(ireed_server_t* server,
                                 ireed_model_entry_t* entry,
                                 Ireed__Frame* frame, irt_status_t status) {
  ireed_waiter_t* waiter = entry->waiters;
  entry->waiters = NULL;
  ireed_answer_list(server, waiter, frame, status);
}

typedef struct ireed_model_job_s {
  ireed_server_job_t job;
  ireed_model_entry_t* entry;
  irt_status_t status;
  uint64_t start_ns;
} ireed_model_job_t;

static void ireed_load_run(ireed_job_t* base, ireed_worker_t* worker) {
  (void)worker;
  ireed_model_job_t* job = (ireed_model_job_t*)base;
  ireed_server_t* server = job->job.server;
  job->status =
      ireed_model_entry_load(job->entry, server->runtime, server->allocator);
  ireed_server_post(&job->job);
}

static void ireed_load_complete(ireed_server_job_t* base) {
  ireed_model_job_t* job = (ireed_model_job_t*)base;
  ireed_server_t* server = base->server;
  ireed_model_entry_t* entry = job->entry;
  irt_status_t status = job->status;
  job->status = IRT_OK;
  uint64_t load_ms = (ireed_now_ns() - job->start_ns) / 1000000u;
  ireed_waiter_t* parked = entry->parked;
  entry->parked = NULL;
  irt_status_t parked_status = irt_status_clone(status);
  ireed_reload_load_done(server, entry, status);
  if (!irt_status_is_ok(status)) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    IRT_LOG_EVENT(IRT_LOG_WARNING, IREED_LOG, "model.load_failed",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_STR("device", entry->device),
                  IRT_LOG_STR("error", text));
    ireed_answer_waiters(server, entry, NULL, status);
    ireed_server_remove_model(server, entry);
  } else {
    pthread_mutex_lock(&server->shared_mutex);
    entry->state = IREED_MODEL_READY;
    entry->last_used_ns = ireed_coarse_now_ns();
    pthread_mutex_unlock(&server->shared_mutex);
    IRT_LOG_EVENT(
        IRT_LOG_INFO, IREED_LOG, "model.loaded",
        IRT_LOG_STR("model", entry->name), IRT_LOG_STR("device", entry->device),
        IRT_LOG_U64("ms", load_ms), IRT_LOG_U64("modules", entry->module_count),
        IRT_LOG_U64("parameter_archives", entry->parameter_count),
        IRT_LOG_U64("functions", entry->function_count));
    Ireed__ModelInfo info;
    ireed_model_entry_info(entry, &info);
    Ireed__LoadModelReply reply = IREED__LOAD_MODEL_REPLY__INIT;
    reply.model = &info;
    Ireed__Frame frame = IREED__FRAME__INIT;
    frame.body_case = IREED__FRAME__BODY_LOAD_MODEL_REPLY;
    frame.load_model_reply = &reply;
    ireed_answer_waiters(server, entry, &frame, IRT_OK);
  }
  ireed_server_unpark(server, parked, parked_status);
  ireed_reload_maybe_settle(server);
  ireed_server_job_done(server);
}

static void ireed_release_run(ireed_job_t* base, ireed_worker_t* worker) {
  (void)worker;
  ireed_model_job_t* job = (ireed_model_job_t*)base;
  // Destroying the context runs `__deinit` and may wait for the device.
  irsess_model_release(job->entry->model);
  job->entry->model = NULL;
  ireed_server_post(&job->job);
}

static void ireed_release_complete(ireed_server_job_t* base) {
  ireed_model_job_t* job = (ireed_model_job_t*)base;
  ireed_server_t* server = base->server;
  ireed_model_entry_t* entry = job->entry;
  IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.unloaded",
                IRT_LOG_STR("model", entry->name),
                IRT_LOG_STR("device", entry->device),
                IRT_LOG_U64("replaced", entry->retired));
  Ireed__UnloadModelReply reply = IREED__UNLOAD_MODEL_REPLY__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL_REPLY;
  frame.unload_model_reply = &reply;
  ireed_answer_waiters(server, entry, &frame, IRT_OK);
  ireed_server_remove_model(server, entry);
  ireed_server_job_done(server);
}

static void ireed_server_submit_model_job(
    ireed_server_t* server, ireed_model_entry_t* entry,
    void (*run)(ireed_job_t*, ireed_worker_t*),
    void (*complete)(ireed_server_job_t*)) {
  ireed_model_job_t* job = entry->job;
  job->entry = entry;
  job->status = IRT_OK;
  job->start_ns = ireed_now_ns();
  ireed_server_submit(server, &job->job, run, complete);
}

// The entry has no invocation left: release its model if it is unloading.
static void ireed_server_entry_idle(ireed_server_t* server,
                                    ireed_model_entry_t* entry) {
  pthread_mutex_lock(&server->shared_mutex);
  bool idle = entry->state == IREED_MODEL_UNLOADING && entry->in_flight == 0;
  pthread_mutex_unlock(&server->shared_mutex);
  if (idle) {
    ireed_server_submit_model_job(server, entry, ireed_release_run,
                                  ireed_release_complete);
  }
}

// Creates a LOADING entry for |request|, lists it and submits its load.
// |conn| asked for it, or NULL for the config.
static irt_status_t ireed_server_start_load(
    ireed_server_t* server, const Ireed__LoadModelRequest* request,
    const ireed_conn_t* conn, ireed_model_entry_t** out_entry) {
  ireed_model_entry_t* entry = NULL;
  IRT_RETURN_IF_ERROR(
      ireed_model_entry_create(request, server->allocator, &entry));
  irt_status_t status = irt_allocator_calloc(
      server->allocator, sizeof(ireed_model_job_t), &entry->job);
  if (!irt_status_is_ok(status)) {
    ireed_model_entry_destroy(entry);
    return status;
  }
  pthread_mutex_lock(&server->shared_mutex);
  entry->next = server->models;
  server->models = entry;
  pthread_mutex_unlock(&server->shared_mutex);
  const char* module = entry->module_paths[entry->module_count - 1];
  if (conn) {
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.loading",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_STR("device", entry->device),
                  IRT_LOG_STR("module", module), IRT_LOG_U64("conn", conn->id),
                  IRT_LOG_U64("uid", conn->uid));
  } else {
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.loading",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_STR("device", entry->device),
                  IRT_LOG_STR("module", module), IRT_LOG_STR("from", "config"));
  }
  ireed_server_submit_model_job(server, entry, ireed_load_run,
                                ireed_load_complete);
  *out_entry = entry;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Configured models: preload, reload, idle unload
//===----------------------------------------------------------------------===//

// What a reload (or the start-up preload) did, by outcome, for its reply.
typedef enum ireed_reload_outcome_e {
  IREED_RELOAD_LOADED = 0,
  IREED_RELOAD_REPLACED = 1,
  IREED_RELOAD_UNLOADED = 2,
  IREED_RELOAD_FAILED = 3,
  IREED_RELOAD_OUTCOME_COUNT = 4,
} ireed_reload_outcome_t;

typedef struct ireed_reload_s {
  irt_arena_t arena;  // everything below
  const char* config_path;
  char** names[IREED_RELOAD_OUTCOME_COUNT];  // "NAME: error" when failed
  size_t counts[IREED_RELOAD_OUTCOME_COUNT];
  size_t capacity;          // of each names array
  uint32_t loads;           // loads not finished yet
  ireed_waiter_t* waiters;  // ReloadRequests answered when it settles
  void (*on_settled)(void* user_data);
  void* user_data;
} ireed_reload_t;

#define IREED_IDLE_CHECK_MS 1000

static void ireed_reload_note(ireed_reload_t* reload,
                              ireed_reload_outcome_t outcome, const char* name,
                              irt_status_t status) {
  char text[1024];
  if (status) {
    char brief[768];
    irt_status_format_brief(status, brief, sizeof(brief));
    snprintf(text, sizeof(text), "%s: %s", name, brief);
    name = text;
  }
  char* copy = NULL;
  irt_status_t copy_status =
      irt_arena_strndup(&reload->arena, name, strlen(name), &copy);
  if (!irt_status_is_ok(copy_status) ||
      reload->counts[outcome] == reload->capacity) {
    irt_status_free(copy_status);  // the reply just names less
    return;
  }
  reload->names[outcome][reload->counts[outcome]++] = copy;
}

// Load completion of |entry| (a worker loaded it or failed): a replacement
// takes over its name, and the reload waiting for it counts it.
static void ireed_reload_load_done(ireed_server_t* server,
                                   ireed_model_entry_t* entry,
                                   irt_status_t status) {
  ireed_reload_t* reload = server->reload;
  ireed_model_entry_t* old = entry->replaces;
  if (irt_status_is_ok(status) && old) {
    pthread_mutex_lock(&server->shared_mutex);
    entry->replaces = NULL;
    old->retired = true;
    uint32_t old_in_flight = old->in_flight;
    bool unload = old->state == IREED_MODEL_READY;
    if (unload) old->state = IREED_MODEL_UNLOADING;
    pthread_mutex_unlock(&server->shared_mutex);
    IRT_LOG_EVENT(
        IRT_LOG_INFO, IREED_LOG, "model.replaced",
        IRT_LOG_STR("model", entry->name),
        IRT_LOG_STR("module", entry->module_paths[entry->module_count - 1]),
        IRT_LOG_U64("old_in_flight", old_in_flight));
    if (unload) ireed_server_entry_idle(server, old);
  }
  if (!entry->settles_reload) return;
  entry->settles_reload = false;
  --reload->loads;
  if (!irt_status_is_ok(status)) {
    ireed_reload_note(reload, IREED_RELOAD_FAILED, entry->name, status);
  } else {
    ireed_reload_note(reload, old ? IREED_RELOAD_REPLACED : IREED_RELOAD_LOADED,
                      entry->name, IRT_OK);
  }
}

static void ireed_server_start_reload(ireed_server_t* server,
                                      ireed_conn_t* conn, uint64_t request_id);

// Once the reload's loads have all finished: logs, answers and runs the
// next reload a SIGHUP asked for meanwhile.
static void ireed_reload_maybe_settle(ireed_server_t* server) {
  ireed_reload_t* reload = server->reload;
  if (!reload || reload->loads) return;
  server->reload = NULL;
  IRT_LOG_EVENT(
      reload->counts[IREED_RELOAD_FAILED] ? IRT_LOG_WARNING : IRT_LOG_INFO,
      IREED_LOG, "config.applied",
      IRT_LOG_STR("config", reload->config_path ? reload->config_path : ""),
      IRT_LOG_U64("loaded", reload->counts[IREED_RELOAD_LOADED]),
      IRT_LOG_U64("replaced", reload->counts[IREED_RELOAD_REPLACED]),
      IRT_LOG_U64("unloaded", reload->counts[IREED_RELOAD_UNLOADED]),
      IRT_LOG_U64("failed", reload->counts[IREED_RELOAD_FAILED]));
  Ireed__ReloadReply reply = IREED__RELOAD_REPLY__INIT;
  reply.config_path = (char*)(reload->config_path ? reload->config_path : "");
  reply.n_loaded = reload->counts[IREED_RELOAD_LOADED];
  reply.loaded = reload->names[IREED_RELOAD_LOADED];
  reply.n_replaced = reload->counts[IREED_RELOAD_REPLACED];
  reply.replaced = reload->names[IREED_RELOAD_REPLACED];
  reply.n_unloaded = reload->counts[IREED_RELOAD_UNLOADED];
  reply.unloaded = reload->names[IREED_RELOAD_UNLOADED];
  reply.n_failed = reload->counts[IREED_RELOAD_FAILED];
  reply.failed = reload->names[IREED_RELOAD_FAILED];
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_RELOAD_REPLY;
  frame.reload_reply = &reply;
  ireed_answer_list(server, reload->waiters, &frame, IRT_OK);
  if (reload->on_settled) reload->on_settled(reload->user_data);
  irt_arena_deinit(&reload->arena);
  irt_allocator_free(server->allocator, reload);
  if (server->reload_again && !server->stopping) {
    server->reload_again = false;
    ireed_server_start_reload(server, NULL, 0);
  }
}

// The LoadModelRequest that loads |model| of |config|; free *out_storage.
static irt_status_t ireed_config_request(ireed_server_t* server,
                                         const ireed_config_t* config,
                                         const ireed_model_config_t* model,
                                         Ireed__LoadModelRequest* request,
                                         void** out_storage) {
  size_t count = model->parameter_count;
  Ireed__ParameterArchive* archives = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      server->allocator, (count + 1) * (sizeof(*archives) + sizeof(void*)),
      (void**)&archives));
  Ireed__ParameterArchive** pointers =
      (Ireed__ParameterArchive**)(archives + count + 1);
  for (size_t i = 0; i < count; ++i) {
    ireed__parameter_archive__init(&archives[i]);
    archives[i].scope = model->parameters[i].scope;
    archives[i].path = model->parameters[i].path;
    pointers[i] = &archives[i];
  }
  ireed__load_model_request__init(request);
  request->name = model->name;
  request->n_module_paths = 1;
  request->module_paths = (char**)&model->module_path;
  request->n_parameters = count;
  request->parameters = pointers;
  request->device = (char*)ireed_config_model_device(config, model);
  *out_storage = archives;
  return IRT_OK;
}

// Starts loading |model| as a configured entry (replacing |old| when set).
// Starts loading |model| of |config| as a configured entry.
static irt_status_t ireed_server_load_configured(
    ireed_server_t* server, const ireed_config_t* config,
    const ireed_model_config_t* model, ireed_model_entry_t** out_entry) {
  Ireed__LoadModelRequest request;
  void* storage = NULL;
  IRT_RETURN_IF_ERROR(
      ireed_config_request(server, config, model, &request, &storage));
  irt_status_t status =
      ireed_server_start_load(server, &request, NULL, out_entry);
  irt_allocator_free(server->allocator, storage);
  IRT_RETURN_IF_ERROR(status);
  (*out_entry)->configured = true;
  (*out_entry)->pinned = model->pinned;
  (*out_entry)->idle_unload_seconds = model->idle_unload_seconds;
  return IRT_OK;
}

// Starts loading |model| for the running reload (replacing |old| when set).
static irt_status_t ireed_reload_start_load(ireed_server_t* server,
                                            const ireed_config_t* config,
                                            const ireed_model_config_t* model,
                                            ireed_model_entry_t* old) {
  ireed_model_entry_t* entry = NULL;
  IRT_RETURN_IF_ERROR(
      ireed_server_load_configured(server, config, model, &entry));
  entry->settles_reload = true;
  pthread_mutex_lock(&server->shared_mutex);
  entry->replaces = old;
  pthread_mutex_unlock(&server->shared_mutex);
  ++server->reload->loads;
  return IRT_OK;
}

static const ireed_model_config_t* ireed_config_find_model(
    const ireed_config_t* config, const char* name) {
  for (size_t i = 0; i < config->model_count; ++i) {
    if (strcmp(config->models[i].name, name) == 0) return &config->models[i];
  }
  return NULL;
}

// True when |entry| serves what |request| asks for: the same config and,
// once loaded, still the same files (an operator replaces a model by
// installing a new file at its path and reloading). Logs a changed file.
static bool ireed_reload_keeps(const ireed_model_entry_t* entry,
                               const Ireed__LoadModelRequest* request) {
  if (entry->state == IREED_MODEL_UNLOADING ||
      !ireed_model_entry_matches(entry, request)) {
    return false;
  }
  // A load still running: a worker is reading the files (and filling in
  // their identities); the next reload checks what it read.
  if (entry->state != IREED_MODEL_READY) return true;
  const char* changed = ireed_model_entry_changed_file(entry);
  if (changed) {
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.file_changed",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_STR("path", changed));
  }
  return !changed;
}

// Loads, replaces or keeps each model of |config|.
static void ireed_reload_apply_model(ireed_server_t* server,
                                     const ireed_config_t* config,
                                     const ireed_model_config_t* model) {
  ireed_reload_t* reload = server->reload;
  ireed_model_entry_t* entry = ireed_server_find_model(server, model->name);
  if (entry && entry->state == IREED_MODEL_UNLOADING) {
    // An invocation may already be loading the model again.
    ireed_model_entry_t* replacement =
        ireed_server_find_replacement(server, entry);
    if (replacement) entry = replacement;
  }
  Ireed__LoadModelRequest request;
  void* storage = NULL;
  irt_status_t status =
      ireed_config_request(server, config, model, &request, &storage);
  bool same = irt_status_is_ok(status) && entry &&
              ireed_reload_keeps(entry, &request);
  irt_allocator_free(server->allocator, storage);
  if (irt_status_is_ok(status) && same) {
    // The same files: keep serving it, with the new settings.
    entry->configured = true;
    entry->pinned = model->pinned;
    entry->idle_unload_seconds = model->idle_unload_seconds;
    if (entry->state == IREED_MODEL_LOADING && !entry->settles_reload) {
      entry->settles_reload = true;  // a client's load: wait for it
      ++reload->loads;
    }
    return;
  }
  if (irt_status_is_ok(status) && entry &&
      entry->state == IREED_MODEL_LOADING) {
    status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "other files are still loading under this name; "
                             "reload again once that finished");
  }
  if (irt_status_is_ok(status)) {
    // New, or changed: a replacement loads while the old version serves.
    status = ireed_reload_start_load(server, config, model, entry);
  }
  if (!irt_status_is_ok(status)) {
    ireed_reload_note(reload, IREED_RELOAD_FAILED, model->name, status);
    IRT_LOG_EVENT(IRT_LOG_WARNING, IREED_LOG, "model.load_failed",
                  IRT_LOG_STR("model", model->name),
                  IRT_LOG_STR("error", irt_status_message(status)));
    irt_status_free(status);
  }
}

// Applies |config| (moved into the server) to the models: loads what is
// new, replaces what changed, unloads configured models it no longer has.
static void ireed_reload_apply(ireed_server_t* server, ireed_config_t* config) {
  ireed_reload_t* reload = server->reload;
  for (size_t i = 0; i < config->model_count; ++i) {
    ireed_reload_apply_model(server, config, &config->models[i]);
  }
  for (ireed_model_entry_t* entry = server->models; entry;
       entry = entry->next) {
    if (!entry->configured || entry->retired || entry->replaces ||
        entry->state != IREED_MODEL_READY ||
        ireed_config_find_model(config, entry->name)) {
      continue;
    }
    pthread_mutex_lock(&server->shared_mutex);
    entry->state = IREED_MODEL_UNLOADING;
    uint32_t in_flight = entry->in_flight;
    pthread_mutex_unlock(&server->shared_mutex);
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.unloading",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_U64("in_flight", in_flight),
                  IRT_LOG_STR("reason", "not in the config"));
    ireed_reload_note(reload, IREED_RELOAD_UNLOADED, entry->name, IRT_OK);
    ireed_server_entry_idle(server, entry);
  }
  if (config != &server->config) {
    ireed_config_deinitialize(&server->config);
    server->config = *config;
    ireed_config_initialize(server->config.allocator, config);
    // The arena moved with the struct; |config| owns nothing now.
  }
  reload->config_path = server->config.source_path;
}

static irt_status_t ireed_reload_create(ireed_server_t* server,
                                        const ireed_config_t* config) {
  ireed_reload_t* reload = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(server->allocator, sizeof(*reload),
                                           (void**)&reload));
  irt_arena_init(&reload->arena, server->allocator, 0);
  size_t models = 0;
  for (ireed_model_entry_t* e = server->models; e; e = e->next) ++models;
  reload->capacity = config->model_count + models;
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < IREED_RELOAD_OUTCOME_COUNT && irt_status_is_ok(status);
       ++i) {
    status =
        irt_arena_alloc(&reload->arena, (reload->capacity + 1) * sizeof(char*),
                        sizeof(char*), (void**)&reload->names[i]);
  }
  if (!irt_status_is_ok(status)) {
    irt_arena_deinit(&reload->arena);
    irt_allocator_free(server->allocator, reload);
    return status;
  }
  server->reload = reload;
  return IRT_OK;
}

// The preloads finished: serve.
static void ireed_server_on_preloaded(void* user_data) {
  ireed_server_t* server = user_data;
  if (!server->stopping) {
    uv_poll_start(&server->listen_poll, UV_READABLE, ireed_server_on_listen);
  }
  server->on_ready(server->on_ready_user_data);
}

void ireed_server_preload(ireed_server_t* server, void (*on_ready)(void*),
                          void* user_data) {
  server->on_ready = on_ready;
  server->on_ready_user_data = user_data;
  irt_status_t status = ireed_reload_create(server, &server->config);
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG, "preloading models", status);
    irt_status_free(status);
    ireed_server_on_preloaded(server);
    return;
  }
  server->reload->on_settled = ireed_server_on_preloaded;
  server->reload->user_data = server;
  if (server->config.model_count) {
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "config.preloading",
                  IRT_LOG_U64("models", server->config.model_count));
  }
  ireed_reload_apply(server, &server->config);
  ireed_reload_maybe_settle(server);
}

// Re-reads the config file. |conn| (NULL for SIGHUP) gets the reply.
static void ireed_server_start_reload(ireed_server_t* server,
                                      ireed_conn_t* conn, uint64_t request_id) {
  if (!conn && server->reload && !server->stopping) {
    server->reload_again = true;  // after the running one
    return;
  }
  irt_status_t status = IRT_OK;
  if (server->stopping) {
    status = irt_make_status(IRT_STATUS_UNAVAILABLE, "ireed is stopping");
  } else if (server->reload) {
    status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "a reload is already running; try again once it "
                             "finished");
  } else if (!server->config.source_path) {
    status = irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "ireed was started without a config file; there "
                             "is nothing to reload");
  }
  ireed_config_t config;
  if (irt_status_is_ok(status)) {
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "config.reloading",
                  IRT_LOG_STR("config", server->config.source_path));
    status = ireed_config_load_file(server->config.source_path,
                                    server->allocator, &config);
    if (!irt_status_is_ok(status)) {
      irt_log_status(IRT_LOG_ERROR, IREED_LOG,
                     "reload failed; the config in use stays", status);
    } else {
      if (server->on_config) {
        server->on_config(server->on_config_user_data, &config);
      }
      status = ireed_reload_create(server, &config);
      if (!irt_status_is_ok(status)) ireed_config_deinitialize(&config);
    }
  }
  if (!irt_status_is_ok(status)) {
    if (conn) {
      ireed_conn_send_error(conn, request_id, status);
    } else {
      irt_status_free(status);
    }
    return;
  }
  // Connections accepted from now on get their roles from the new rules.
  status = ireed_server_set_access(server, &config.access);
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG,
                   "reload: the access rules stay as they were", status);
    irt_status_free(status);
  }
  server->reload->on_settled = server->on_ready;
  server->reload->user_data = server->on_ready_user_data;
  if (conn) {
    status = ireed_waiter_push(&server->reload->waiters, conn, request_id);
    // The reload goes on; only its reply is lost.
    if (!irt_status_is_ok(status))
      ireed_conn_send_error(conn, request_id, status);
  }
  ireed_reload_apply(server, &config);
  ireed_reload_maybe_settle(server);
}

void ireed_server_reload(ireed_server_t* server) {
  ireed_server_start_reload(server, NULL, 0);
}

static void ireed_handle_reload(ireed_conn_t* conn, const Ireed__Frame* frame) {
  ireed_server_start_reload(conn->server, conn, frame->request_id);
}

// Unloads unpinned configured models idle for their idle_unload_seconds.
static void ireed_server_on_idle_timer(uv_timer_t* timer) {
  ireed_server_t* server = timer->data;
  uint64_t now = ireed_now_ns();
  for (ireed_model_entry_t* entry = server->models; entry;
       entry = entry->next) {
    // Ring threads count invocations and use times too.
    pthread_mutex_lock(&server->shared_mutex);
    bool idle = ireed_model_entry_idle(entry, now);
    if (idle) entry->state = IREED_MODEL_UNLOADING;
    pthread_mutex_unlock(&server->shared_mutex);
    if (!idle) continue;
    IRT_LOG_EVENT(
        IRT_LOG_INFO, IREED_LOG, "model.unloading",
        IRT_LOG_STR("model", entry->name), IRT_LOG_STR("reason", "idle"),
        IRT_LOG_U64("idle_unload_seconds", entry->idle_unload_seconds));
    ireed_server_entry_idle(server, entry);
  }
}

//===----------------------------------------------------------------------===//
// Requests
//===----------------------------------------------------------------------===//

static void ireed_handle_hello(ireed_conn_t* conn, const Ireed__Frame* frame) {
  const Ireed__Hello* hello = frame->hello;
  if (conn->hello) {
    ireed_conn_send_error(conn, frame->request_id,
                          irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                                          "Hello was already exchanged"));
    return;
  }
  if (hello->protocol_major !=
      IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR) {
    ireed_conn_fail(
        conn, frame->request_id,
        irt_make_status(IRT_STATUS_INCOMPATIBLE,
                        "protocol major version %u is not supported; ireed %s "
                        "speaks version %d",
                        hello->protocol_major, irt_version_string(),
                        IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR));
    return;
  }
  conn->hello = true;
  irt_log(IRT_LOG_DEBUG, IREED_LOG, "connection %" PRIu64 ": hello from '%s'",
          conn->id, hello->software);
  char software[64];
  snprintf(software, sizeof(software), "ireed %s", irt_version_string());
  Ireed__Hello reply = IREED__HELLO__INIT;
  reply.protocol_major = IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR;
  reply.protocol_minor = IREED_PROTOCOL_MINOR_RING;
  reply.software = software;
  reply.max_frame_size = (uint32_t)conn->server->max_frame_size;
  Ireed__Frame out = IREED__FRAME__INIT;
  out.request_id = frame->request_id;
  out.body_case = IREED__FRAME__BODY_HELLO;
  out.hello = &reply;
  ireed_conn_send_frame(conn, &out);
}

static void ireed_handle_load(ireed_conn_t* conn, const Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  const Ireed__LoadModelRequest* request = frame->load_model;
  uint64_t request_id = frame->request_id;
  if (server->stopping) {
    ireed_conn_send_error(
        conn, request_id,
        irt_make_status(IRT_STATUS_UNAVAILABLE,
                        IREED_SHUTTING_DOWN "; no new loads"));
    return;
  }
  ireed_model_entry_t* entry = ireed_server_find_model(server, request->name);
  if (entry && !ireed_model_entry_matches(entry, request)) {
    ireed_conn_send_error(
        conn, request_id,
        irt_make_status(IRT_STATUS_ALREADY_EXISTS,
                        "model '%s' is already loaded from other files or on "
                        "another device (device '%s', main module '%s'); "
                        "unload it first or choose another name",
                        entry->name, entry->device,
                        entry->module_paths[entry->module_count - 1]));
    return;
  }
  if (entry && entry->state == IREED_MODEL_UNLOADING) {
    ireed_conn_send_error(conn, request_id,
                          irt_make_status(IRT_STATUS_UNAVAILABLE,
                                          "model '%s' is being unloaded; load "
                                          "it again once that finished",
                                          entry->name));
    return;
  }
  if (entry && entry->state == IREED_MODEL_READY) {
    Ireed__ModelInfo info;
    ireed_model_entry_info(entry, &info);
    Ireed__LoadModelReply reply = IREED__LOAD_MODEL_REPLY__INIT;
    reply.model = &info;
    Ireed__Frame out = IREED__FRAME__INIT;
    out.request_id = request_id;
    out.body_case = IREED__FRAME__BODY_LOAD_MODEL_REPLY;
    out.load_model_reply = &reply;
    ireed_conn_send_frame(conn, &out);
    return;
  }
  // Answered when the load (this one, or one running) finishes.
  irt_status_t status = IRT_OK;
  if (!entry) status = ireed_server_start_load(server, request, conn, &entry);
  if (irt_status_is_ok(status)) {
    status = ireed_add_waiter(conn, entry, request_id);
  }
  if (!irt_status_is_ok(status)) {
    ireed_conn_send_error(conn, request_id, status);
  }
}

static void ireed_handle_unload(ireed_conn_t* conn, const Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  const char* name = frame->unload_model->name;
  ireed_model_entry_t* entry = ireed_server_find_model(server, name);
  irt_status_t status = IRT_OK;
  if (!entry) {
    status = irt_make_status(IRT_STATUS_NOT_FOUND,
                             "no model named '%s' is loaded", name);
  } else if (entry->state == IREED_MODEL_LOADING) {
    status = irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "model '%s' is still loading; unload it once "
                             "its load finished",
                             name);
  } else {
    status = ireed_add_waiter(conn, entry, frame->request_id);
  }
  if (!irt_status_is_ok(status)) {
    ireed_conn_send_error(conn, frame->request_id, status);
    return;
  }
  if (entry->state == IREED_MODEL_READY) {
    // New invocations are refused from now on; the reply waits for the
    // ones in flight.
    pthread_mutex_lock(&server->shared_mutex);
    entry->state = IREED_MODEL_UNLOADING;
    IRT_LOG_EVENT(IRT_LOG_INFO, IREED_LOG, "model.unloading",
                  IRT_LOG_STR("model", entry->name),
                  IRT_LOG_U64("in_flight", entry->in_flight),
                  IRT_LOG_U64("conn", conn->id), IRT_LOG_U64("uid", conn->uid));
    pthread_mutex_unlock(&server->shared_mutex);
    ireed_server_entry_idle(server, entry);
  }
}

static void ireed_handle_list(ireed_conn_t* conn, const Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  size_t count = 0;
  for (ireed_model_entry_t* e = server->models; e; e = e->next) {
    count += e->state == IREED_MODEL_READY;
  }
  Ireed__ModelInfo* infos = NULL;
  Ireed__ModelInfo** pointers = NULL;
  irt_status_t status = irt_allocator_calloc_array(
      server->allocator, count + 1, sizeof(*infos), (void**)&infos);
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc_array(server->allocator, count + 1,
                                        sizeof(*pointers), (void**)&pointers);
  }
  if (irt_status_is_ok(status)) {
    size_t i = 0;
    for (ireed_model_entry_t* e = server->models; e; e = e->next) {
      if (e->state != IREED_MODEL_READY) continue;
      ireed_model_entry_info(e, &infos[i]);
      pointers[i] = &infos[i];
      ++i;
    }
    Ireed__ListModelsReply reply = IREED__LIST_MODELS_REPLY__INIT;
    reply.n_models = count;
    reply.models = pointers;
    Ireed__Frame out = IREED__FRAME__INIT;
    out.request_id = frame->request_id;
    out.body_case = IREED__FRAME__BODY_LIST_MODELS_REPLY;
    out.list_models_reply = &reply;
    ireed_conn_send_frame(conn, &out);
  } else {
    ireed_conn_send_error(conn, frame->request_id, status);
  }
  irt_allocator_free(server->allocator, infos);
  irt_allocator_free(server->allocator, pointers);
}

static void ireed_handle_status(ireed_conn_t* conn, const Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  Ireed__DeviceInfo devices[IREED_MAX_DEVICES];
  Ireed__DeviceInfo* pointers[IREED_MAX_DEVICES];
  for (size_t i = 0; i < server->device_count; ++i) {
    ireed__device_info__init(&devices[i]);
    devices[i].uri = server->devices[i].info.uri;
    devices[i].name = server->devices[i].info.name;
    devices[i].detail = server->devices[i].info.detail;
    devices[i].available = server->devices[i].available;
    pointers[i] = &devices[i];
  }
  uint32_t models = 0;
  for (ireed_model_entry_t* e = server->models; e; e = e->next) {
    models += e->state == IREED_MODEL_READY;
  }
  char software[64];
  snprintf(software, sizeof(software), "ireed %s", irt_version_string());
  Ireed__StatusReply reply = IREED__STATUS_REPLY__INIT;
  reply.software = software;
  reply.uptime_ms = (ireed_now_ns() - server->start_ns) / 1000000u;
  reply.clients = server->connection_count;
  reply.models = models;
  reply.n_devices = server->device_count;
  reply.devices = pointers;
  Ireed__Frame out = IREED__FRAME__INIT;
  out.request_id = frame->request_id;
  out.body_case = IREED__FRAME__BODY_STATUS_REPLY;
  out.status_reply = &reply;
  ireed_conn_send_frame(conn, &out);
}

// The StatsReply of |server| (storage from |arena|).
static irt_status_t ireed_server_fill_stats(ireed_server_t* server,
                                            irt_arena_t* arena,
                                            Ireed__StatsReply* reply) {
  reply->uptime_ms = (ireed_now_ns() - server->start_ns) / 1000000u;
  reply->clients = server->connection_count;
  reply->connections_accepted = server->connections_accepted;
  reply->connections_refused = server->connections_refused;
  reply->queued = atomic_load_explicit(&server->queued, memory_order_relaxed);
  reply->workers = ireed_worker_pool_size(server->pool);
  // READY models only: an unloading model's release job may be clearing
  // entry->model on a worker.
  size_t count = 0;
  for (ireed_model_entry_t* e = server->models; e; e = e->next) {
    count += e->state == IREED_MODEL_READY;
  }
  Ireed__ModelStats* models = NULL;
  Ireed__ModelStats** pointers = NULL;
  Ireed__LatencyStats* latencies = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(*models),
                                      alignof(Ireed__ModelStats),
                                      (void**)&models));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(*pointers),
                                      alignof(Ireed__ModelStats*),
                                      (void**)&pointers));
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(arena, (2 * count + 1) * sizeof(*latencies),
                      alignof(Ireed__LatencyStats), (void**)&latencies));
  size_t i = 0;
  for (ireed_model_entry_t* e = server->models; e; e = e->next) {
    if (e->state != IREED_MODEL_READY) continue;
    Ireed__ModelStats* model = &models[i];
    ireed__model_stats__init(model);
    model->name = e->name;
    model->device = e->device;
    pthread_mutex_lock(&server->shared_mutex);  // ring threads change it
    model->in_flight = e->in_flight;
    pthread_mutex_unlock(&server->shared_mutex);
    ireed_model_stats_fill(&e->stats, model, &latencies[2 * i],
                           &latencies[2 * i + 1]);
    pointers[i++] = model;
  }
  reply->n_models = count;
  reply->models = pointers;
  return ireed_stats_fill_devices(arena, reply);
}

static void ireed_handle_stats(ireed_conn_t* conn, const Ireed__Frame* frame) {
  irt_arena_t arena;
  irt_arena_init(&arena, conn->server->allocator, 0);
  Ireed__StatsReply reply = IREED__STATS_REPLY__INIT;
  irt_status_t status = ireed_server_fill_stats(conn->server, &arena, &reply);
  if (irt_status_is_ok(status)) {
    Ireed__Frame out = IREED__FRAME__INIT;
    out.request_id = frame->request_id;
    out.body_case = IREED__FRAME__BODY_STATS_REPLY;
    out.stats_reply = &reply;
    ireed_conn_send_frame(conn, &out);
  } else {
    ireed_conn_send_error(conn, frame->request_id, status);
  }
  irt_arena_deinit(&arena);
}

// The oldest descriptor received and not yet claimed, for the frame |what|.
static irt_status_t ireed_conn_take_fd(ireed_conn_t* conn, const char* what,
                                       int* out_fd) {
  if (conn->fd_count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s came without a file descriptor (send the memfd "
                           "with SCM_RIGHTS on the sendmsg that carries the "
                           "frame)",
                           what);
  }
  *out_fd = conn->fds[0];
  --conn->fd_count;
  memmove(conn->fds, conn->fds + 1, conn->fd_count * sizeof(conn->fds[0]));
  return IRT_OK;
}

static void ireed_handle_register(ireed_conn_t* conn,
                                  const Ireed__Frame* frame) {
  uint64_t request_id = frame->request_id;
  int fd = -1;
  irt_status_t take_status =
      ireed_conn_take_fd(conn, "RegisterShmRequest", &fd);
  if (!irt_status_is_ok(take_status)) {
    ireed_conn_send_error(conn, request_id, take_status);
    return;
  }
  irt_status_t status = IRT_OK;
  if (conn->server->stopping) {
    status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                             IREED_SHUTTING_DOWN "; no new regions");
  } else if (conn->regions.count >= IREED_CONNECTION_MAX_REGIONS) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "a connection may register at most %d regions",
                             IREED_CONNECTION_MAX_REGIONS);
  }
  if (!irt_status_is_ok(status)) {
    close(fd);
    ireed_conn_send_error(conn, request_id, status);
    return;
  }
  ireed_region_t* region = NULL;
  status = ireed_region_map(fd, frame->register_shm->size,
                            conn->server->next_region_id,
                            conn->server->allocator, &region);
  close(fd);  // the mapping keeps the memory
  if (irt_status_is_ok(status)) {
    pthread_mutex_lock(&conn->server->shared_mutex);
    status = ireed_region_table_insert(&conn->regions, region);
    pthread_mutex_unlock(&conn->server->shared_mutex);
    if (!irt_status_is_ok(status)) ireed_region_release(region);
  }
  if (!irt_status_is_ok(status)) {
    ireed_conn_send_error(conn, request_id,
                          irt_status_annotate(status, "registering a region"));
    return;
  }
  ++conn->server->next_region_id;
  Ireed__RegisterShmReply reply = IREED__REGISTER_SHM_REPLY__INIT;
  reply.region_id = region->id;
  Ireed__Frame out = IREED__FRAME__INIT;
  out.request_id = request_id;
  out.body_case = IREED__FRAME__BODY_REGISTER_SHM_REPLY;
  out.register_shm_reply = &reply;
  ireed_conn_send_frame(conn, &out);
}

static void ireed_handle_unregister(ireed_conn_t* conn,
                                    const Ireed__Frame* frame) {
  uint64_t id = frame->unregister_shm->region_id;
  pthread_mutex_lock(&conn->server->shared_mutex);
  bool removed = ireed_region_table_remove(&conn->regions, id);
  pthread_mutex_unlock(&conn->server->shared_mutex);
  if (!removed) {
    ireed_conn_send_error(conn, frame->request_id,
                          irt_make_status(IRT_STATUS_NOT_FOUND,
                                          "no shared-memory region %" PRIu64
                                          " is registered on this connection",
                                          id));
    return;
  }
  Ireed__UnregisterShmReply reply = IREED__UNREGISTER_SHM_REPLY__INIT;
  Ireed__Frame out = IREED__FRAME__INIT;
  out.request_id = frame->request_id;
  out.body_case = IREED__FRAME__BODY_UNREGISTER_SHM_REPLY;
  out.unregister_shm_reply = &reply;
  ireed_conn_send_frame(conn, &out);
}

typedef struct ireed_invoke_job_s {
  ireed_server_job_t job;
  ireed_conn_t* conn;
  ireed_model_entry_t* entry;
  Ireed__Frame* frame;
  irt_status_t failure;  // not even an Error reply could be encoded
  ireed_invocation_t invocation;
  // Regions (function argument + result count slots), then the argument and
  // result variants.
  ireed_region_t* regions[];
} ireed_invoke_job_t;

// Worker: the invocation's reply is encoded (or failed to be).
static void ireed_invoke_done(ireed_invoke_job_t* job, irt_status_t failure) {
  job->failure = failure;
  // Done with the request: drop its regions and bytes here rather than on
  // the loop (unmapping a large region takes a while).
  ireed_invocation_release_regions(&job->invocation);
  ireed__frame__free_unpacked(job->frame, NULL);
  job->frame = NULL;
  job->invocation.request = NULL;
  ireed_server_post(&job->job);
}

static void ireed_invoke_finish_run(ireed_job_t* base, ireed_worker_t* worker) {
  ireed_invoke_job_t* job = (ireed_invoke_job_t*)base;
  ireed_invoke_done(job, ireed_invocation_finish(&job->invocation, worker,
                                                 job->job.server->allocator));
}

// Any thread: the device finished a pending invocation; a worker encodes
// its reply (the device's own thread has better things to do).
static void ireed_invoke_on_ready(ireed_invocation_t* invocation) {
  ireed_invoke_job_t* job =
      (ireed_invoke_job_t*)((uint8_t*)invocation -
                            offsetof(ireed_invoke_job_t, invocation));
  job->job.base.run = ireed_invoke_finish_run;
  ireed_worker_pool_submit(job->job.server->pool, &job->job.base);
}

static void ireed_invoke_run(ireed_job_t* base, ireed_worker_t* worker) {
  ireed_invoke_job_t* job = (ireed_invoke_job_t*)base;
  atomic_fetch_sub_explicit(&job->job.server->queued, 1, memory_order_relaxed);
  bool pending = false;
  irt_status_t failure = ireed_invocation_start(
      &job->invocation, worker, job->job.server->allocator, &pending);
  if (!pending) ireed_invoke_done(job, failure);
}

static void ireed_invoke_complete(ireed_server_job_t* base) {
  ireed_invoke_job_t* job = (ireed_invoke_job_t*)base;
  ireed_server_t* server = base->server;
  ireed_conn_t* conn = job->conn;
  --conn->in_flight;
  if (job->invocation.reply) {
    ireed_conn_send_bytes(conn, job->invocation.reply,
                          job->invocation.reply_size);
  } else {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG, "encoding an invocation reply",
                   job->failure);
    irt_status_free(job->failure);
    ireed_conn_close(conn);  // the client sees the close, not a hang
  }
  if (conn->open) ireed_conn_resume(conn);
  ireed_conn_unref(conn);
  ireed_model_entry_t* entry = job->entry;
  pthread_mutex_lock(&server->shared_mutex);
  --entry->in_flight;
  pthread_mutex_unlock(&server->shared_mutex);
  irt_allocator_free(server->allocator, job);
  ireed_server_entry_idle(server, entry);
  ireed_server_job_done(server);
}

// RESOURCE_EXHAUSTED when one more invocation of |conn| would exceed a
// limit (server.h).
static irt_status_t ireed_server_check_busy(const ireed_conn_t* conn) {
  const ireed_server_t* server = conn->server;
  if (conn->in_flight >= server->limits.max_inflight_per_client) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           IREED_BUSY_PREFIX
                           "this connection has %u invocations "
                           "in flight (limits.max_inflight_per_client); wait "
                           "for a reply and retry",
                           conn->in_flight);
  }
  unsigned queued = atomic_load_explicit(&server->queued, memory_order_relaxed);
  if (queued >= server->limits.queue_depth) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           IREED_BUSY_PREFIX
                           "%u invocations wait for a worker "
                           "(limits.queue_depth); retry later",
                           queued);
  }
  return IRT_OK;
}

static void ireed_start_invoke(ireed_conn_t* conn, Ireed__Frame* frame,
                               bool admitted);

// Invocations of a model that is loading wait for the load (parked) rather
// than fail; the first invocation of a configured model that is not loaded
// (or being unloaded, e.g. for idleness) loads it again. Parked invocations
// count as in flight for the connection's limit. True when |frame| was
// taken.
static bool ireed_server_park_invoke(ireed_conn_t* conn, Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  const char* name = frame->invoke->model;
  ireed_model_entry_t* entry = ireed_server_find_model(server, name);
  const ireed_model_config_t* model =
      ireed_config_find_model(&server->config, name);
  // The load to wait for; NULL with |load| set: one to start.
  ireed_model_entry_t* target = NULL;
  bool load = false;
  if (entry && entry->state == IREED_MODEL_LOADING) {
    target = entry;
  } else if (entry && entry->state == IREED_MODEL_UNLOADING && model) {
    target = ireed_server_find_replacement(server, entry);
    load = !target;
  } else {
    load = !entry && model;
  }
  if (server->stopping || (!target && !load)) return false;
  uint64_t request_id = frame->request_id;
  irt_status_t status = ireed_server_check_busy(conn);
  if (irt_status_is_ok(status) && load) {
    status =
        ireed_server_load_configured(server, &server->config, model, &target);
    // Invisible by name until loaded: the unloading version keeps it.
    if (irt_status_is_ok(status)) {
      pthread_mutex_lock(&server->shared_mutex);
      target->replaces = entry;
      pthread_mutex_unlock(&server->shared_mutex);
    }
  }
  if (irt_status_is_ok(status)) {
    status =
        ireed_waiter_push((ireed_waiter_t**)&target->parked, conn, request_id);
  }
  if (!irt_status_is_ok(status)) {
    ireed__frame__free_unpacked(frame, NULL);
    ireed_conn_send_error(conn, request_id, status);
    return true;
  }
  ireed_waiter_t* waiter = target->parked;
  while (waiter->next) waiter = waiter->next;
  waiter->frame = frame;
  ++conn->in_flight;
  return true;
}

// The load the |parked| invocations waited for finished with |status|
// (taken): they run now, even while draining (they were accepted before
// it began), or get its error.
static void ireed_server_unpark(ireed_server_t* server, ireed_waiter_t* parked,
                                irt_status_t status) {
  while (parked) {
    ireed_waiter_t* next = parked->next;
    ireed_conn_t* conn = parked->conn;
    --conn->in_flight;
    if (!conn->open) {
      ireed__frame__free_unpacked(parked->frame, NULL);
    } else if (irt_status_is_ok(status)) {
      ireed_start_invoke(conn, parked->frame, true);
    } else {
      ireed__frame__free_unpacked(parked->frame, NULL);
      ireed_conn_send_error(conn, parked->request_id, irt_status_clone(status));
    }
    ireed_conn_unref(conn);
    irt_allocator_free(server->allocator, parked);
    parked = next;
  }
  irt_status_free(status);
}

// An InvokeRequest of |conn| (from the socket or its ring) resolved: the
// model entry (READY, counted in its in_flight), the function, and one
// allocation of |header_size| bytes followed by the region slots (the
// regions the request names retained) and the argument and result
// variants. Requests from the socket also pass the busy limits (a ring runs
// one request at a time). Takes the shared lock: ring threads call it too.
typedef struct ireed_resolved_s {
  ireed_model_entry_t* entry;
  const irsess_function_t* function;
  void* block;
  ireed_region_t** regions;
  irvm_variant_t* variants;
} ireed_resolved_t;

// |admitted|: accepted before a drain began (a parked invocation), so it
// runs even while draining.
static irt_status_t ireed_invoke_resolve_locked(
    ireed_conn_t* conn, const Ireed__InvokeRequest* request, bool from_socket,
    bool admitted, size_t header_size, ireed_resolved_t* out) {
  ireed_server_t* server = conn->server;
  if (server->stopping && !admitted) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           IREED_SHUTTING_DOWN "; no new invocations");
  }
  if (conn->ring_closed) {
    return irt_make_status(IRT_STATUS_CANCELLED, "the connection is closing");
  }
  ireed_model_entry_t* entry = ireed_server_find_model(server, request->model);
  if (!entry) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no model named '%s' is loaded", request->model);
  }
  if (entry->state != IREED_MODEL_READY) {
    return irt_make_status(
        IRT_STATUS_UNAVAILABLE, "model '%s' is %s", request->model,
        entry->state == IREED_MODEL_LOADING ? "still loading"
                                            : "being unloaded");
  }
  if (from_socket) {
    irt_status_t status = ireed_server_check_busy(conn);
    if (!irt_status_is_ok(status)) {
      // Rare: any shard does.
      ireed_model_stats_count(
          &ireed_model_stats_shard(&entry->stats, 0)->busy_rejections, 1);
      return status;
    }
  }
  const irsess_function_t* function = NULL;
  IRT_RETURN_IF_ERROR(irsess_model_find_function(
      entry->model, irt_make_cstring_view(request->function), &function));
  // Room for the most regions a valid request can name (prepare refuses
  // requests with more inputs or outputs before using the slots).
  size_t slots = function->arguments.size + function->results.size;
  size_t regions_end = irt_align_size(
      header_size + slots * sizeof(ireed_region_t*), alignof(max_align_t));
  uint8_t* block = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(
      server->allocator, regions_end + slots * sizeof(irvm_variant_t),
      (void**)&block));
  ireed_region_t** regions = (ireed_region_t**)(block + header_size);
  irt_status_t status =
      ireed_invocation_prepare(request, function, &conn->regions, regions);
  if (!irt_status_is_ok(status)) {
    irt_allocator_free(server->allocator, block);
    return status;
  }
  ++entry->in_flight;
  entry->last_used_ns = ireed_coarse_now_ns();
  *out = (ireed_resolved_t){entry, function, block, regions,
                            (irvm_variant_t*)(block + regions_end)};
  return IRT_OK;
}

static irt_status_t ireed_invoke_resolve(ireed_conn_t* conn,
                                         const Ireed__InvokeRequest* request,
                                         bool from_socket, bool admitted,
                                         size_t header_size,
                                         ireed_resolved_t* out) {
  pthread_mutex_lock(&conn->server->shared_mutex);
  irt_status_t status = ireed_invoke_resolve_locked(
      conn, request, from_socket, admitted, header_size, out);
  pthread_mutex_unlock(&conn->server->shared_mutex);
  return status;
}

// Queues the invocation |frame| (taken) for a worker.
static void ireed_start_invoke(ireed_conn_t* conn, Ireed__Frame* frame,
                               bool admitted) {
  ireed_server_t* server = conn->server;
  const Ireed__InvokeRequest* request = frame->invoke;
  uint64_t request_id = frame->request_id;
  ireed_resolved_t resolved = {0};
  irt_status_t status =
      ireed_invoke_resolve(conn, request, true, admitted,
                           offsetof(ireed_invoke_job_t, regions), &resolved);
  if (!irt_status_is_ok(status)) {
    ireed__frame__free_unpacked(frame, NULL);
    ireed_conn_send_error(conn, request_id, status);
    return;
  }
  ireed_invoke_job_t* job = resolved.block;
  job->conn = conn;
  job->entry = resolved.entry;
  job->frame = frame;
  job->failure = IRT_OK;
  job->invocation = (ireed_invocation_t){
      .request_id = request_id,
      .max_frame_size = server->max_frame_size,
      .model = resolved.entry->model,
      .stats = &resolved.entry->stats,
      .function = resolved.function,
      .request = request,
      .regions = resolved.regions,
      .arguments = resolved.variants,
      .results = resolved.variants + resolved.function->arguments.size,
      .on_ready = ireed_invoke_on_ready,
      .queued_ns = ireed_now_ns(),
  };
  ireed_conn_ref(conn);
  ++conn->in_flight;
  atomic_fetch_add_explicit(&server->queued, 1, memory_order_relaxed);
  ireed_server_submit(server, &job->job, ireed_invoke_run,
                      ireed_invoke_complete);
}

// An InvokeRequest (taken): parked when its model is loading, else queued.
static void ireed_handle_invoke(ireed_conn_t* conn, Ireed__Frame* frame) {
  if (!ireed_server_park_invoke(conn, frame)) {
    ireed_start_invoke(conn, frame, false);
  }
}

// PERMISSION_DENIED for a request the connection's role does not allow.
static void ireed_conn_deny(ireed_conn_t* conn, const Ireed__Frame* frame) {
  const char* request = ireed_body_name(frame->body_case);
  IRT_LOG_EVENT(IRT_LOG_WARNING, IREED_LOG, "request.denied",
                IRT_LOG_U64("conn", conn->id), IRT_LOG_U64("uid", conn->uid),
                IRT_LOG_STR("role", ireed_role_name(conn->role)),
                IRT_LOG_STR("request", request));
  ireed_conn_send_error(
      conn, frame->request_id,
      irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                      "uid %u (role %s) may not send %s: it needs the admin "
                      "role (access.admin in the config)",
                      (unsigned)conn->uid, ireed_role_name(conn->role),
                      request));
}

//===----------------------------------------------------------------------===//
// Submission rings
//===----------------------------------------------------------------------===//

// A ring's thread hands the loop an idle entry, a reply, or its own exit.
typedef struct ireed_ring_post_s {
  ireed_server_job_t job;
  ireed_conn_t* conn;
  uint8_t* data;
  size_t size;
} ireed_ring_post_t;

static irt_status_t ireed_ring_host_begin(void* user_data,
                                          const Ireed__InvokeRequest* request,
                                          ireed_ring_call_t* call) {
  ireed_resolved_t resolved = {0};
  IRT_RETURN_IF_ERROR(
      ireed_invoke_resolve(user_data, request, false, false, 0, &resolved));
  call->pin = resolved.entry;
  call->model = resolved.entry->model;
  call->stats = &resolved.entry->stats;
  call->function = resolved.function;
  call->regions = resolved.regions;
  call->arguments = resolved.variants;
  call->results = resolved.variants + resolved.function->arguments.size;
  return IRT_OK;
}

static void ireed_ring_idle_complete(ireed_server_job_t* base) {
  ireed_model_job_t* job = (ireed_model_job_t*)base;
  ireed_server_entry_idle(base->server, job->entry);
}

static void ireed_ring_host_end(void* user_data, ireed_ring_call_t* call) {
  ireed_conn_t* conn = user_data;
  ireed_server_t* server = conn->server;
  ireed_model_entry_t* entry = call->pin;
  pthread_mutex_lock(&server->shared_mutex);
  bool idle = --entry->in_flight == 0 && entry->state == IREED_MODEL_UNLOADING;
  pthread_mutex_unlock(&server->shared_mutex);
  irt_allocator_free(server->allocator, call->regions);  // the block
  if (idle) {
    // The unload waits for this: the entry's own job (idle until the
    // release is submitted) carries it to the loop.
    ireed_model_job_t* job = entry->job;
    job->entry = entry;
    job->job.server = server;
    job->job.complete = ireed_ring_idle_complete;
    ireed_server_post(&job->job);
  }
}

// A ring's post reached the loop: counted done, and refused when the
// connection is going away, or closed at once (dropping what it queued)
// when the client leaves IREED_CONNECTION_MAX_QUEUED_BYTES of replies
// unread: its ring would otherwise pile them up here, and a client that
// does not read would never see an Error either.
static bool ireed_ring_post_accepted(ireed_ring_post_t* post) {
  ireed_conn_t* conn = post->conn;
  ireed_ring_post_done(conn->ring);
  if (conn->open && !conn->failing && ireed_conn_paused(conn)) {
    IRT_LOG_EVENT(IRT_LOG_WARNING, IREED_LOG, "connection.unread",
                  IRT_LOG_U64("conn", conn->id),
                  IRT_LOG_U64("unread_bytes", conn->write_bytes));
    ireed_conn_close(conn);
  }
  if (conn->open && !conn->failing) return true;
  irt_allocator_free(post->job.server->allocator, post->data);
  irt_allocator_free(post->job.server->allocator, post);
  return false;
}

static void ireed_ring_send_complete(ireed_server_job_t* base) {
  ireed_ring_post_t* post = (ireed_ring_post_t*)base;
  if (!ireed_ring_post_accepted(post)) return;
  ireed_conn_send_bytes(post->conn, post->data, post->size);
  irt_allocator_free(base->server->allocator, post);
}

static void ireed_ring_defer_complete(ireed_server_job_t* base) {
  ireed_ring_post_t* post = (ireed_ring_post_t*)base;
  if (!ireed_ring_post_accepted(post)) return;
  ireed_conn_t* conn = post->conn;
  Ireed__Frame* frame = NULL;
  irt_status_t status =
      ireed_frame_decode_payload(post->data + IREED_FRAME_HEADER_SIZE,
                                 post->size - IREED_FRAME_HEADER_SIZE, &frame);
  irt_allocator_free(base->server->allocator, post->data);
  irt_allocator_free(base->server->allocator, post);
  if (!irt_status_is_ok(status) || !conn->open) {
    irt_status_free(status);  // encoded by the ring itself: cannot fail
    if (frame) ireed__frame__free_unpacked(frame, NULL);
    return;
  }
  ireed_handle_invoke(conn, frame);
}

// Posts |data| (taken) to the loop, where |complete| handles it.
static bool ireed_ring_post(ireed_conn_t* conn, uint8_t* data, size_t size,
                            void (*complete)(ireed_server_job_t*)) {
  ireed_ring_post_t* post = NULL;
  irt_status_t status = irt_allocator_calloc(conn->server->allocator,
                                             sizeof(*post), (void**)&post);
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_ERROR, IREED_LOG, "ring: queuing for the socket",
                   status);
    irt_status_free(status);
    irt_allocator_free(conn->server->allocator, data);
    return false;
  }
  post->job.server = conn->server;
  post->job.complete = complete;
  post->conn = conn;
  post->data = data;
  post->size = size;
  ireed_server_post(&post->job);
  return true;
}

static bool ireed_ring_host_send(void* user_data, uint8_t* data, size_t size) {
  return ireed_ring_post(user_data, data, size, ireed_ring_send_complete);
}

static bool ireed_ring_host_defer(void* user_data, uint8_t* data,
                                  size_t size) {
  return ireed_ring_post(user_data, data, size, ireed_ring_defer_complete);
}

static void ireed_ring_exit_complete(ireed_server_job_t* base) {
  ireed_ring_post_t* post = (ireed_ring_post_t*)base;
  ireed_conn_t* conn = post->conn;
  ireed_server_t* server = base->server;
  ireed_ring_destroy(conn->ring);
  conn->ring = NULL;
  conn->ring_exit_job = NULL;
  irt_allocator_free(server->allocator, post);
  ireed_conn_unref(conn);
  ireed_server_job_done(server);
}

static void ireed_ring_host_exited(void* user_data) {
  ireed_conn_t* conn = user_data;
  ireed_server_post(conn->ring_exit_job);
}

static void ireed_handle_attach_ring(ireed_conn_t* conn,
                                     const Ireed__Frame* frame) {
  ireed_server_t* server = conn->server;
  int fd = -1;
  irt_status_t status = ireed_conn_take_fd(conn, "AttachRingRequest", &fd);
  if (irt_status_is_ok(status) && server->stopping) {
    // The drain stopped the rings when it began; a ring thread started now
    // would be a job nothing stops, holding the drain to its timeout.
    status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                             IREED_SHUTTING_DOWN "; no new submission rings");
  }
  if (irt_status_is_ok(status) && conn->ring) {
    status = irt_make_status(IRT_STATUS_ALREADY_EXISTS,
                             "this connection has a submission ring already");
  }
  ireed_ring_post_t* exit_job = NULL;
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc(server->allocator, sizeof(*exit_job),
                                  (void**)&exit_job);
  }
  if (irt_status_is_ok(status)) {
    exit_job->job.server = server;
    exit_job->job.complete = ireed_ring_exit_complete;
    exit_job->conn = conn;
    conn->ring_exit_job = exit_job;  // before the thread can exit
    ireed_ring_host_t host = {
        .user_data = conn,
        .worker_index =
            ireed_worker_pool_size(server->pool) + (uint32_t)conn->id,
        .pollers = &server->ring_pollers,
        .begin = ireed_ring_host_begin,
        .end = ireed_ring_host_end,
        .send = ireed_ring_host_send,
        .defer = ireed_ring_host_defer,
        .exited = ireed_ring_host_exited,
    };
    status = ireed_ring_create(fd, frame->attach_ring->size, &host,
                               server->max_frame_size, server->allocator,
                               &conn->ring);
    if (!irt_status_is_ok(status)) {
      conn->ring_exit_job = NULL;
      irt_allocator_free(server->allocator, exit_job);
    }
  }
  if (fd >= 0) close(fd);  // the mapping keeps the memory
  if (!irt_status_is_ok(status)) {
    ireed_conn_send_error(
        conn, frame->request_id,
        irt_status_annotate(status, "attaching a submission ring"));
    return;
  }
  ireed_conn_ref(conn);      // dropped when the thread has exited
  ++server->jobs_in_flight;  // the thread counts as a job
  Ireed__AttachRingReply reply = IREED__ATTACH_RING_REPLY__INIT;
  Ireed__Frame out = IREED__FRAME__INIT;
  out.request_id = frame->request_id;
  out.body_case = IREED__FRAME__BODY_ATTACH_RING_REPLY;
  out.attach_ring_reply = &reply;
  ireed_conn_send_frame(conn, &out);
}

// Takes |frame|.
static void ireed_conn_handle(ireed_conn_t* conn, Ireed__Frame* frame) {
  if (!conn->hello && frame->body_case != IREED__FRAME__BODY_HELLO) {
    ireed_conn_fail(conn, frame->request_id,
                    irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                                    "the first frame must be Hello, not %s",
                                    ireed_body_name(frame->body_case)));
    ireed__frame__free_unpacked(frame, NULL);
    return;
  }
  if (!ireed_access_allows(conn->role, frame->body_case)) {
    ireed_conn_deny(conn, frame);
    ireed__frame__free_unpacked(frame, NULL);
    return;
  }
  switch (frame->body_case) {
    case IREED__FRAME__BODY_INVOKE:
      ireed_handle_invoke(conn, frame);
      return;  // the job owns the frame
    case IREED__FRAME__BODY_HELLO:
      ireed_handle_hello(conn, frame);
      break;
    case IREED__FRAME__BODY_LOAD_MODEL:
      ireed_handle_load(conn, frame);
      break;
    case IREED__FRAME__BODY_UNLOAD_MODEL:
      ireed_handle_unload(conn, frame);
      break;
    case IREED__FRAME__BODY_LIST_MODELS:
      ireed_handle_list(conn, frame);
      break;
    case IREED__FRAME__BODY_STATUS:
      ireed_handle_status(conn, frame);
      break;
    case IREED__FRAME__BODY_STATS:
      ireed_handle_stats(conn, frame);
      break;
    case IREED__FRAME__BODY_RELOAD:
      ireed_handle_reload(conn, frame);
      break;
    case IREED__FRAME__BODY_REGISTER_SHM:
      ireed_handle_register(conn, frame);
      break;
    case IREED__FRAME__BODY_UNREGISTER_SHM:
      ireed_handle_unregister(conn, frame);
      break;
    case IREED__FRAME__BODY_ATTACH_RING:
      ireed_handle_attach_ring(conn, frame);
      break;
    default:
      ireed_conn_send_error(
          conn, frame->request_id,
          irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                          "ireed does not accept %s from clients",
                          ireed_body_name(frame->body_case)));
      break;
  }
  ireed__frame__free_unpacked(frame, NULL);
}

//===----------------------------------------------------------------------===//
// Server
//===----------------------------------------------------------------------===//

static void ireed_server_collect_device(void* user_data, bool available,
                                        const irhal_device_info_t* info) {
  ireed_server_t* server = user_data;
  irt_log(IRT_LOG_INFO, IREED_LOG, "device %s: %s%s%s", info->uri,
          available ? info->name : "unavailable", info->detail[0] ? "; " : "",
          info->detail);
  if (server->device_count == IREED_MAX_DEVICES) return;
  server->devices[server->device_count].available = available;
  server->devices[server->device_count].info = *info;
  ++server->device_count;
}

// True when something accepts connections on |path|.
static bool ireed_socket_is_live(const struct sockaddr_un* address) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  bool live =
      connect(fd, (const struct sockaddr*)address, sizeof(*address)) == 0;
  close(fd);
  return live;
}

// The socket file's permissions decide who may connect at all.
static irt_status_t ireed_server_protect_socket(
    const char* path, const ireed_server_options_t* options) {
  mode_t mode = options->socket_mode ? options->socket_mode : 0660;
  if (chmod(path, mode) != 0) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "cannot set mode %04o on '%s': %s", (unsigned)mode,
                           path, strerror(errno));
  }
  if (options->set_socket_group &&
      chown(path, (uid_t)-1, options->socket_gid) != 0) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "cannot give '%s' to group %u: %s", path,
                           (unsigned)options->socket_gid, strerror(errno));
  }
  return IRT_OK;
}

static irt_status_t ireed_server_listen(ireed_server_t* server,
                                        const ireed_server_options_t* options) {
  const char* path = options->socket_path;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  size_t length = strlen(path);
  if (length == 0 || length >= sizeof(address.sun_path)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "socket path '%s' must have 1 to %zu bytes", path,
                           sizeof(address.sun_path) - 1);
  }
  memcpy(address.sun_path, path, length);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE, "socket: %s",
                           strerror(errno));
  }
  int result = bind(fd, (struct sockaddr*)&address, sizeof(address));
  if (result != 0 && errno == EADDRINUSE) {
    if (ireed_socket_is_live(&address)) {
      close(fd);
      return irt_make_status(IRT_STATUS_ALREADY_EXISTS,
                             "another daemon is listening on '%s'", path);
    }
    irt_log(IRT_LOG_INFO, IREED_LOG, "replacing stale socket '%s'", path);
    unlink(path);
    result = bind(fd, (struct sockaddr*)&address, sizeof(address));
  }
  if (result != 0 || listen(fd, SOMAXCONN) != 0) {
    int error = errno;
    close(fd);
    return irt_make_status(
        error == EACCES ? IRT_STATUS_PERMISSION_DENIED : IRT_STATUS_UNAVAILABLE,
        "cannot listen on '%s': %s", path, strerror(error));
  }
  server->listen_fd = fd;
  irt_status_t status = ireed_server_protect_socket(path, options);
  if (!irt_status_is_ok(status)) unlink(path);
  return status;
}

static uint32_t ireed_default_worker_count(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus < 1) cpus = 1;
  // Synchronous exports block their worker on the device's fences while the
  // device's own threads run the dispatches: two per CPU keep it busy.
  long count = cpus * 2 < 4 ? 4 : cpus * 2;
  return (uint32_t)(count > 256 ? 256 : count);
}

static void ireed_server_resolve_limits(const ireed_limits_config_t* given,
                                        ireed_limits_config_t* out_limits) {
  *out_limits = *given;
  if (!out_limits->max_frame_size) {
    out_limits->max_frame_size = IREED_FRAME_DEFAULT_MAX_SIZE;
  }
  if (out_limits->max_frame_size > IREED_FRAME_ABSOLUTE_MAX_SIZE) {
    out_limits->max_frame_size = IREED_FRAME_ABSOLUTE_MAX_SIZE;
  }
  if (!out_limits->max_inflight_per_client) {
    out_limits->max_inflight_per_client = IREED_DEFAULT_MAX_INFLIGHT_PER_CLIENT;
  }
  if (!out_limits->queue_depth) {
    out_limits->queue_depth = IREED_DEFAULT_QUEUE_DEPTH;
  }
  if (!out_limits->drain_timeout_seconds) {
    out_limits->drain_timeout_seconds = IREED_DEFAULT_DRAIN_TIMEOUT_SECONDS;
  }
}

static void ireed_server_free(ireed_server_t* server) {
  ireed_worker_pool_destroy(server->pool);
  // The loop is gone and every job finished: releasing the models here
  // (their `__deinit` may wait for the device) blocks nobody.
  while (server->models) ireed_server_remove_model(server, server->models);
  while (server->free_writes) {
    ireed_write_t* write = server->free_writes;
    server->free_writes = write->next;
    irt_allocator_free(server->allocator, write);
  }
  if (server->listen_fd >= 0) close(server->listen_fd);
  if (server->reload) {  // stopped before its loads settled
    irt_arena_deinit(&server->reload->arena);
    irt_allocator_free(server->allocator, server->reload);
  }
  ireed_config_deinitialize(&server->config);
  pthread_mutex_destroy(&server->completed_mutex);
  pthread_mutex_destroy(&server->shared_mutex);
  irt_allocator_free(server->allocator, server->read_buffer);
  irt_allocator_free(server->allocator, server->socket_path);
  ireed_access_deinitialize(&server->access, server->allocator);
  irt_allocator_free(server->allocator, server);
}

irt_status_t ireed_server_create(uv_loop_t* loop, irsess_runtime_t* runtime,
                                 const ireed_server_options_t* options,
                                 irt_allocator_t allocator,
                                 ireed_server_t** out_server) {
  *out_server = NULL;
  ireed_server_t* server = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*server), (void**)&server));
  server->loop = loop;
  server->allocator = allocator;
  server->runtime = runtime;
  server->listen_fd = -1;
  server->start_ns = ireed_now_ns();
  server->next_region_id = 1;
  ireed_ring_pollers_initialize(&server->ring_pollers);
  ireed_server_resolve_limits(&options->limits, &server->limits);
  server->max_frame_size = server->limits.max_frame_size;
  // Before the config moves: options->access may point into it.
  irt_status_t status =
      ireed_access_copy(options->access, allocator, &server->access);
  if (!irt_status_is_ok(status)) {
    irt_allocator_free(allocator, server);
    return status;
  }
  if (options->config) {
    server->config = *options->config;  // moved
    ireed_config_initialize(allocator, options->config);
  } else {
    ireed_config_initialize(allocator, &server->config);
  }
  server->on_config = options->on_config;
  server->on_config_user_data = options->on_config_user_data;
  pthread_mutex_init(&server->completed_mutex, NULL);
  // Ring threads take the shared lock twice per request for a few hundred
  // instructions: spinning a little before sleeping halves the futex calls
  // of 8 clients' rings on 2 CPUs (0.34 -> 0.20 per invocation).
  pthread_mutexattr_t shared_attributes;
  pthread_mutexattr_init(&shared_attributes);
  pthread_mutexattr_settype(&shared_attributes, PTHREAD_MUTEX_ADAPTIVE_NP);
  pthread_mutex_init(&server->shared_mutex, &shared_attributes);
  pthread_mutexattr_destroy(&shared_attributes);
  size_t path_length = strlen(options->socket_path);
  status = irt_allocator_malloc(allocator, path_length + 1,
                                (void**)&server->socket_path);
  if (irt_status_is_ok(status)) {
    memcpy(server->socket_path, options->socket_path, path_length + 1);
    status = irt_allocator_malloc(allocator, IREED_READ_BUFFER_SIZE,
                                  (void**)&server->read_buffer);
  }
  if (irt_status_is_ok(status)) {
    status = ireed_worker_pool_create(options->worker_count
                                          ? options->worker_count
                                          : ireed_default_worker_count(),
                                      allocator, &server->pool);
  }
  if (irt_status_is_ok(status) && options->listen_fd > 0) {
    server->listen_fd = options->listen_fd;  // adopted: systemd made it
    server->adopted = true;
  } else if (irt_status_is_ok(status)) {
    status = ireed_server_listen(server, options);
  }
  if (!irt_status_is_ok(status)) {
    ireed_server_free(server);
    return status;
  }
  irhal_probe_devices(ireed_server_collect_device, server);
  uv_async_init(loop, &server->wakeup, ireed_server_on_wakeup);
  server->wakeup.data = server;
  uv_timer_init(loop, &server->accept_timer);
  server->accept_timer.data = server;
  uv_timer_init(loop, &server->drain_timer);
  server->drain_timer.data = server;
  // Accepting starts once the preloads finished (ireed_server_preload):
  // until then connections wait in the socket's backlog.
  uv_poll_init(loop, &server->listen_poll, server->listen_fd);
  server->listen_poll.data = server;
  uv_timer_init(loop, &server->idle_timer);
  server->idle_timer.data = server;
  uv_timer_start(&server->idle_timer, ireed_server_on_idle_timer,
                 IREED_IDLE_CHECK_MS, IREED_IDLE_CHECK_MS);
  irt_log(IRT_LOG_INFO, IREED_LOG,
          "ireed %s listening on '%s'%s (%u workers, frames up to %zu bytes, "
          "%u clients%s, %u invocations in flight per client, queue depth "
          "%u)",
          irt_version_string(), server->socket_path,
          server->adopted ? " (passed by systemd)" : "",
          ireed_worker_pool_size(server->pool), server->max_frame_size,
          server->limits.max_clients,
          server->limits.max_clients ? "" : " (unlimited)",
          server->limits.max_inflight_per_client, server->limits.queue_depth);
  *out_server = server;
  return IRT_OK;
}

static void ireed_server_remove_socket(ireed_server_t* server) {
  // An adopted socket belongs to systemd, which may pass it again.
  if (!server->adopted) unlink(server->socket_path);
}

// Every job finished while draining: connections close once their replies
// are written, and the handles close so uv_run returns.
static void ireed_server_finish(ireed_server_t* server) {
  server->finished = true;
  irt_log(IRT_LOG_INFO, IREED_LOG, "drained: no work left");
  uv_close((uv_handle_t*)&server->listen_poll, NULL);
  uv_close((uv_handle_t*)&server->accept_timer, NULL);
  uv_close((uv_handle_t*)&server->wakeup, NULL);
  ireed_server_remove_socket(server);
  ireed_conn_t* conn = server->connections;
  while (conn) {
    ireed_conn_t* next = conn->next;
    conn->failing = true;  // input is dropped from now on
    if (!conn->write_head) {
      ireed_conn_close(conn);
    } else {
      ireed_conn_update_poll(conn);
    }
    conn = next;
  }
  if (!server->connections) ireed_server_close_drain_timer(server);
}

static void ireed_server_maybe_finish(ireed_server_t* server) {
  if (!server->stopping || server->finished || server->jobs_in_flight) return;
  ireed_server_finish(server);
}

static void ireed_server_on_drain_timeout(uv_timer_t* timer) {
  ireed_server_t* server = timer->data;
  if (server->finished) {
    // Only replies nobody reads are left: drop them.
    while (server->connections) ireed_conn_close(server->connections);
    return;
  }
  irt_log(IRT_LOG_ERROR, IREED_LOG,
          "drain timeout: %u job%s still running after %u s "
          "(limits.drain_timeout_seconds); exiting without them",
          server->jobs_in_flight, server->jobs_in_flight == 1 ? "" : "s",
          server->limits.drain_timeout_seconds);
  server->drain_forced = true;
  ireed_server_remove_socket(server);
  uv_stop(server->loop);
}

void ireed_server_stop(ireed_server_t* server) {
  if (server->stopping) return;
  pthread_mutex_lock(&server->shared_mutex);  // ring threads read it
  server->stopping = true;
  pthread_mutex_unlock(&server->shared_mutex);
  // Ring threads count as jobs until they exit: stop them now (what their
  // clients still submit fails once the connection closes).
  for (ireed_conn_t* conn = server->connections; conn; conn = conn->next) {
    if (conn->ring) ireed_ring_stop(conn->ring);
  }
  irt_log(IRT_LOG_INFO, IREED_LOG,
          "draining: %u connection%s, %u job%s in flight (up to %u s)",
          server->connection_count, server->connection_count == 1 ? "" : "s",
          server->jobs_in_flight, server->jobs_in_flight == 1 ? "" : "s",
          server->limits.drain_timeout_seconds);
  uv_timer_start(&server->drain_timer, ireed_server_on_drain_timeout,
                 (uint64_t)server->limits.drain_timeout_seconds * 1000u, 0);
  uv_close((uv_handle_t*)&server->idle_timer, NULL);
  ireed_server_maybe_finish(server);
}

irt_status_t ireed_server_set_access(ireed_server_t* server,
                                     const ireed_access_config_t* access) {
  ireed_access_config_t copy;
  IRT_RETURN_IF_ERROR(ireed_access_copy(access, server->allocator, &copy));
  ireed_access_deinitialize(&server->access, server->allocator);
  server->access = copy;
  return IRT_OK;
}

bool ireed_server_drain_forced(const ireed_server_t* server) {
  return server->drain_forced;
}

void ireed_server_destroy(ireed_server_t* server) {
  if (!server) return;
  ireed_server_free(server);
}
