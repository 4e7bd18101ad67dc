// Connections: the Hello handshake, sending frames (with a file descriptor
// when asked), and the receive thread that matches replies to requests.
#include "client/lib/connection.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "runtime/base/version.h"

// How long the daemon may take to answer Hello.
#define IREECLIENT_HELLO_TIMEOUT_MS 30000
// Bytes read from the socket at a time.
#define IREECLIENT_RECEIVE_CHUNK (64u * 1024u)
// File descriptors a single recvmsg may carry (the daemon sends none; any
// that arrive are closed).
#define IREECLIENT_MAX_RECEIVED_FDS 8

irt_status_t ireeclient_strdup(const char* text, char** out_copy) {
  *out_copy = strdup(text ? text : "");
  if (!*out_copy) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  return IRT_OK;
}

irt_status_t ireeclient_status_from_error(const Ireed__Error* error) {
  irt_status_code_t code = IRT_STATUS_UNKNOWN;
  if (error->code > IRT_STATUS_OK && error->code < IRT_STATUS_CODE_COUNT) {
    code = (irt_status_code_t)error->code;
  }
  const char* message = error->message && *error->message
                            ? error->message
                            : "ireed reported an error without a message";
  return irt_make_status(code, "%s", message);
}

bool ireeclient_status_is_busy(irt_status_t status) {
  return irt_status_code(status) == IRT_STATUS_RESOURCE_EXHAUSTED &&
         strncmp(irt_status_message(status), IREED_BUSY_PREFIX,
                 strlen(IREED_BUSY_PREFIX)) == 0;
}

//===----------------------------------------------------------------------===//
// Lifetime
//===----------------------------------------------------------------------===//

void ireeclient_connection_retain(ireeclient_connection_t* connection) {
  irt_ref_count_retain(&connection->ref_count);
}

void ireeclient_connection_release(ireeclient_connection_t* connection) {
  if (!connection || !irt_ref_count_release(&connection->ref_count)) return;
  ireeclient_staging_drain(connection);
  ireeclient_ring_free(connection->ring);
  if (connection->fd >= 0) close(connection->fd);
  irt_status_free(connection->broken);
  free(connection->last_error);
  free(connection->server_software);
  pthread_cond_destroy(&connection->completed);
  pthread_mutex_destroy(&connection->mutex);
  pthread_mutex_destroy(&connection->send_mutex);
  free(connection);
}

//===----------------------------------------------------------------------===//
// Sending
//===----------------------------------------------------------------------===//

// Writes all of |data|; |fd| >= 0 rides on the first sendmsg. A partial
// write leaves the stream corrupt, so any failure shuts the socket down
// (which makes the receive thread fail every pending request). Not during
// the handshake: a daemon that refuses a connection (busy, permission
// denied) sends an Error and closes, possibly before Hello is sent, and the
// handshake still reads that Error.
static irt_status_t ireeclient_send_bytes(ireeclient_connection_t* connection,
                                          const uint8_t* data, size_t size,
                                          int fd) {
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(int))];
  } control;
  size_t sent = 0;
  while (sent < size) {
    struct iovec iov = {(void*)(data + sent), size - sent};
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    if (fd >= 0 && sent == 0) {
      memset(&control, 0, sizeof(control));
      message.msg_control = control.space;
      message.msg_controllen = sizeof(control.space);
      struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
    }
    ssize_t written = sendmsg(connection->fd, &message, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      int error = errno;
      if (connection->receive_thread_started) {
        shutdown(connection->fd, SHUT_RDWR);
      }
      return irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "sending to ireed failed: %s", strerror(error));
    }
    sent += (size_t)written;
  }
  return IRT_OK;
}

static irt_status_t ireeclient_send_frame(ireeclient_connection_t* connection,
                                          const Ireed__Frame* frame, int fd) {
  uint8_t* data = NULL;
  size_t size = 0;
  IRT_RETURN_IF_ERROR(ireed_frame_encode(frame, connection->max_frame_size,
                                         irt_allocator_system(), &data, &size));
  pthread_mutex_lock(&connection->send_mutex);
  irt_status_t status = ireeclient_send_bytes(connection, data, size, fd);
  pthread_mutex_unlock(&connection->send_mutex);
  free(data);
  return status;
}

// Removes |request| from the table; false when the receive thread has
// already taken it.
static bool ireeclient_unlink_locked(ireeclient_connection_t* connection,
                                     ireeclient_request_t* request) {
  if (!request->linked) return false;
  if (request->prev) {
    request->prev->next = request->next;
  } else {
    connection->pending = request->next;
  }
  if (request->next) request->next->prev = request->prev;
  request->next = request->prev = NULL;
  request->linked = false;
  return true;
}

irt_status_t ireeclient_connection_link(ireeclient_connection_t* connection,
                                        Ireed__Frame* frame,
                                        Ireed__Frame__BodyCase reply_case,
                                        ireeclient_request_t* request) {
  request->reply_case = reply_case;
  request->done = false;
  request->status = IRT_OK;
  request->reply = NULL;
  request->reply_in_allocator = false;
  pthread_mutex_lock(&connection->mutex);
  if (connection->broken) {
    irt_status_t status = irt_status_clone(connection->broken);
    pthread_mutex_unlock(&connection->mutex);
    return status;
  }
  request->id = connection->next_request_id++;
  request->prev = NULL;
  request->next = connection->pending;
  if (request->next) request->next->prev = request;
  connection->pending = request;
  request->linked = true;
  pthread_mutex_unlock(&connection->mutex);
  frame->request_id = request->id;
  return IRT_OK;
}

bool ireeclient_connection_unlink(ireeclient_connection_t* connection,
                                  ireeclient_request_t* request) {
  pthread_mutex_lock(&connection->mutex);
  bool unlinked = ireeclient_unlink_locked(connection, request);
  pthread_mutex_unlock(&connection->mutex);
  return unlinked;
}

irt_status_t ireeclient_connection_send(ireeclient_connection_t* connection,
                                        Ireed__Frame* frame, int fd,
                                        Ireed__Frame__BodyCase reply_case,
                                        ireeclient_request_t* request) {
  // Linked before sending: the reply may arrive before send returns.
  IRT_RETURN_IF_ERROR(
      ireeclient_connection_link(connection, frame, reply_case, request));
  irt_status_t status = ireeclient_send_frame(connection, frame, fd);
  if (status && !ireeclient_connection_unlink(connection, request)) {
    // The receive thread failed it already (the connection broke): the
    // request completes through the normal path with that failure.
    irt_status_free(status);
    return IRT_OK;
  }
  return status;
}

void ireeclient_connection_wait(ireeclient_connection_t* connection,
                                ireeclient_request_t* request) {
  pthread_mutex_lock(&connection->mutex);
  while (!request->done) {
    pthread_cond_wait(&connection->completed, &connection->mutex);
  }
  pthread_mutex_unlock(&connection->mutex);
}

irt_status_t ireeclient_connection_call(ireeclient_connection_t* connection,
                                        Ireed__Frame* frame, int fd,
                                        Ireed__Frame__BodyCase reply_case,
                                        Ireed__Frame** out_reply) {
  *out_reply = NULL;
  ireeclient_request_t request = {0};
  IRT_RETURN_IF_ERROR(
      ireeclient_connection_send(connection, frame, fd, reply_case, &request));
  ireeclient_connection_wait(connection, &request);
  *out_reply = request.reply;
  return request.status;
}

static void ireeclient_detached_complete(ireeclient_request_t* request) {
  irt_status_free(request->status);
  if (request->reply) ireed__frame__free_unpacked(request->reply, NULL);
  free(request);
}

void ireeclient_connection_send_detached(ireeclient_connection_t* connection,
                                         Ireed__Frame* frame,
                                         Ireed__Frame__BodyCase reply_case) {
  ireeclient_request_t* request = calloc(1, sizeof(*request));
  if (!request) return;  // the daemon cleans up when the connection closes
  request->on_complete = ireeclient_detached_complete;
  irt_status_t status =
      ireeclient_connection_send(connection, frame, -1, reply_case, request);
  if (status) {
    irt_status_free(status);
    free(request);
  }
}

//===----------------------------------------------------------------------===//
// Receiving
//===----------------------------------------------------------------------===//

static void ireeclient_request_complete(ireeclient_connection_t* connection,
                                        ireeclient_request_t* request,
                                        irt_status_t status,
                                        Ireed__Frame* reply) {
  request->status = status;
  request->reply = reply;
  if (request->on_complete) {
    // The owner marks it done itself; it may be gone after this call.
    request->on_complete(request);
    return;
  }
  pthread_mutex_lock(&connection->mutex);
  request->done = true;
  pthread_cond_broadcast(&connection->completed);
  pthread_mutex_unlock(&connection->mutex);
}

void ireeclient_connection_complete(ireeclient_connection_t* connection,
                                    ireeclient_request_t* request,
                                    irt_status_t status, Ireed__Frame* reply) {
  // A reply the ring decoded into the owner's allocator is the owner's to
  // drop; protobuf-c's walk then only calls its no-op free.
  ProtobufCAllocator* allocator =
      request->reply_in_allocator ? request->reply_allocator : NULL;
  if (status) {
    ireeclient_request_complete(connection, request, status, NULL);
  } else if (reply->body_case == IREED__FRAME__BODY_ERROR && reply->error) {
    status = ireeclient_status_from_error(reply->error);
    ireed__frame__free_unpacked(reply, allocator);
    ireeclient_request_complete(connection, request, status, NULL);
  } else if (reply->body_case != request->reply_case) {
    int body = (int)reply->body_case;
    ireed__frame__free_unpacked(reply, allocator);
    ireeclient_request_complete(
        connection, request,
        irt_make_status(IRT_STATUS_INTERNAL,
                        "ireed answered request %llu with a frame of body "
                        "%d where body %d was expected",
                        (unsigned long long)request->id, body,
                        (int)request->reply_case),
        NULL);
  } else {
    ireeclient_request_complete(connection, request, IRT_OK, reply);
  }
}

// Completes every pending request with a copy of |status| and refuses new
// ones. Takes |status|.
static void ireeclient_fail_all(ireeclient_connection_t* connection,
                                irt_status_t status) {
  pthread_mutex_lock(&connection->mutex);
  if (!connection->broken) {
    connection->broken = status;
  } else {
    irt_status_free(status);
  }
  ireeclient_request_t* pending = connection->pending;
  connection->pending = NULL;
  // Taken from the table here, under the lock: a concurrent unlink then
  // leaves them (and the chain walked below) alone.
  for (ireeclient_request_t* request = pending; request;
       request = request->next) {
    request->linked = false;
  }
  irt_status_t broken = connection->broken;
  pthread_mutex_unlock(&connection->mutex);
  ireeclient_ring_fail(connection->ring);
  while (pending) {
    ireeclient_request_t* next = pending->next;
    pending->next = pending->prev = NULL;
    ireeclient_request_complete(connection, pending, irt_status_clone(broken),
                                NULL);
    pending = next;
  }
}

// Routes one frame to its request. Fails on protocol violations.
static irt_status_t ireeclient_dispatch(ireeclient_connection_t* connection,
                                        Ireed__Frame* frame) {
  if (frame->request_id == 0) {
    // Not a reply: an Error about the connection itself, sent before the
    // daemon closes it. Kept for the status of the closing.
    if (frame->body_case == IREED__FRAME__BODY_ERROR && frame->error) {
      irt_status_t error = ireeclient_status_from_error(frame->error);
      pthread_mutex_lock(&connection->mutex);
      free(connection->last_error);
      connection->last_error = strdup(irt_status_message(error));
      pthread_mutex_unlock(&connection->mutex);
      irt_status_free(error);
    }
    ireed__frame__free_unpacked(frame, NULL);
    return IRT_OK;
  }
  pthread_mutex_lock(&connection->mutex);
  ireeclient_request_t* request = connection->pending;
  while (request && request->id != frame->request_id) request = request->next;
  if (request) ireeclient_unlink_locked(connection, request);
  pthread_mutex_unlock(&connection->mutex);
  uint64_t request_id = frame->request_id;
  if (!request) {
    ireed__frame__free_unpacked(frame, NULL);
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "ireed replied to request %llu, which is not "
                           "pending",
                           (unsigned long long)request_id);
  }
  ireeclient_connection_complete(connection, request, IRT_OK, frame);
  return IRT_OK;
}

// Reads what is available into |reader|. |*out_closed| on end of stream.
static irt_status_t ireeclient_receive_some(int fd,
                                            ireed_frame_reader_t* reader,
                                            uint8_t* buffer, bool* out_closed) {
  *out_closed = false;
  union {
    struct cmsghdr header;
    char space[CMSG_SPACE(sizeof(int) * IREECLIENT_MAX_RECEIVED_FDS)];
  } control;
  struct iovec iov = {buffer, IREECLIENT_RECEIVE_CHUNK};
  struct msghdr message = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = control.space,
                           .msg_controllen = sizeof(control.space)};
  ssize_t received;
  do {
    received = recvmsg(fd, &message, MSG_CMSG_CLOEXEC);
  } while (received < 0 && errno == EINTR);
  if (received < 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "receiving from ireed failed: %s", strerror(errno));
  }
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg;
       cmsg = CMSG_NXTHDR(&message, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) {
      continue;
    }
    size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int unexpected;
      memcpy(&unexpected, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
      close(unexpected);
    }
  }
  if (received == 0) {
    *out_closed = true;
    return IRT_OK;
  }
  return ireed_frame_reader_append(reader, buffer, (size_t)received);
}

static void* ireeclient_receive_main(void* arg) {
  ireeclient_connection_t* connection = arg;
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  uint8_t* buffer = malloc(IREECLIENT_RECEIVE_CHUNK);
  irt_status_t status =
      buffer ? IRT_OK
             : irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  bool closed = false;
  while (!status && !closed) {
    status = ireeclient_receive_some(connection->fd, &reader, buffer, &closed);
    Ireed__Frame* frame = NULL;
    while (!status && !(status = ireed_frame_reader_next(&reader, &frame)) &&
           frame) {
      status = ireeclient_dispatch(connection, frame);
    }
  }
  free(buffer);
  ireed_frame_reader_deinitialize(&reader);
  if (closed) {
    pthread_mutex_lock(&connection->mutex);
    status = connection->broken ? irt_status_clone(connection->broken)
             : connection->last_error
                 ? irt_make_status(IRT_STATUS_UNAVAILABLE,
                                   "ireed closed the connection: %s",
                                   connection->last_error)
                 : irt_make_status(IRT_STATUS_UNAVAILABLE,
                                   "ireed closed the connection");
    pthread_mutex_unlock(&connection->mutex);
  }
  // Whatever went wrong, the stream is unusable now: let the daemon see it.
  shutdown(connection->fd, SHUT_RDWR);
  ireeclient_fail_all(connection, status);
  return NULL;
}

//===----------------------------------------------------------------------===//
// Connecting
//===----------------------------------------------------------------------===//

// Sends Hello and reads the daemon's before the receive thread starts.
static irt_status_t ireeclient_handshake(ireeclient_connection_t* connection,
                                         const ireeclient_options_t* options) {
  char software[64];
  snprintf(software, sizeof(software), "libireeclient %s",
           irt_version_string());
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR;
  hello.protocol_minor = 0;
  hello.software =
      (char*)(options && options->software ? options->software : software);
  hello.max_frame_size = IREED_FRAME_DEFAULT_MAX_SIZE;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  irt_status_t send_status = ireeclient_send_frame(connection, &frame, -1);

  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  uint8_t* buffer = malloc(IREECLIENT_RECEIVE_CHUNK);
  irt_status_t status =
      buffer ? IRT_OK
             : irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  Ireed__Frame* reply = NULL;
  while (!status && !reply) {
    struct pollfd poll_fd = {.fd = connection->fd, .events = POLLIN};
    int ready = poll(&poll_fd, 1, IREECLIENT_HELLO_TIMEOUT_MS);
    if (ready == 0) {
      status = irt_make_status(IRT_STATUS_DEADLINE_EXCEEDED,
                               "ireed did not answer Hello within %d s",
                               IREECLIENT_HELLO_TIMEOUT_MS / 1000);
      break;
    }
    if (ready < 0 && errno == EINTR) continue;
    bool closed = false;
    status = ireeclient_receive_some(connection->fd, &reader, buffer, &closed);
    if (!status && closed) {
      status = irt_make_status(IRT_STATUS_UNAVAILABLE,
                               "ireed closed the connection during Hello");
    }
    if (!status) status = ireed_frame_reader_next(&reader, &reply);
  }
  free(buffer);
  // The daemon speaks only after our first request, so nothing is left over.
  ireed_frame_reader_deinitialize(&reader);
  if (send_status) {
    // Hello did not go out: only a refusal the daemon sent first explains
    // more than the broken pipe.
    if (!status && reply->body_case == IREED__FRAME__BODY_ERROR &&
        reply->error) {
      irt_status_free(send_status);
      status = ireeclient_status_from_error(reply->error);
    } else {
      irt_status_free(status);
      status = send_status;
    }
    if (reply) ireed__frame__free_unpacked(reply, NULL);
    return status;
  }
  if (status) return status;

  if (reply->body_case == IREED__FRAME__BODY_ERROR && reply->error) {
    status = ireeclient_status_from_error(reply->error);
  } else if (reply->body_case != IREED__FRAME__BODY_HELLO || !reply->hello) {
    status = irt_make_status(IRT_STATUS_INTERNAL,
                             "ireed answered Hello with a frame of body %d",
                             (int)reply->body_case);
  } else if (reply->hello->protocol_major !=
             IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR) {
    status = irt_make_status(IRT_STATUS_INCOMPATIBLE,
                             "ireed speaks protocol %u.%u, this client %d.0",
                             reply->hello->protocol_major,
                             reply->hello->protocol_minor,
                             IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR);
  } else {
    uint32_t limit = reply->hello->max_frame_size;
    if (limit == 0 || limit > IREED_FRAME_ABSOLUTE_MAX_SIZE) {
      limit =
          limit ? IREED_FRAME_ABSOLUTE_MAX_SIZE : IREED_FRAME_DEFAULT_MAX_SIZE;
    }
    connection->max_frame_size = limit;
    connection->server_minor = reply->hello->protocol_minor;
    status =
        ireeclient_strdup(reply->hello->software, &connection->server_software);
  }
  ireed__frame__free_unpacked(reply, NULL);
  return status;
}

irt_status_t ireeclient_connect_fd(int fd, const ireeclient_options_t* options,
                                   ireeclient_connection_t** out_connection) {
  *out_connection = NULL;
  ireeclient_connection_t* connection = calloc(1, sizeof(*connection));
  if (!connection) {
    close(fd);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  irt_ref_count_init(&connection->ref_count);
  connection->fd = fd;
  connection->inline_threshold = options && options->inline_threshold
                                     ? options->inline_threshold
                                     : IREECLIENT_DEFAULT_INLINE_THRESHOLD;
  connection->max_frame_size = IREED_FRAME_DEFAULT_MAX_SIZE;
  connection->next_request_id = 1;
  pthread_mutex_init(&connection->send_mutex, NULL);
  pthread_mutex_init(&connection->mutex, NULL);
  pthread_cond_init(&connection->completed, NULL);

  irt_status_t status = ireeclient_handshake(connection, options);
  if (!status) {
    int error = pthread_create(&connection->receive_thread, NULL,
                               ireeclient_receive_main, connection);
    if (error) {
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                               "cannot start the receive thread: %s",
                               strerror(error));
    } else {
      connection->receive_thread_started = true;
      ireeclient_ring_attach(connection);
    }
  }
  if (status) {
    ireeclient_connection_release(connection);
    return status;
  }
  *out_connection = connection;
  return IRT_OK;
}

// The socket to connect to: the options', $IREED_SOCKET, a per-user daemon's
// ($XDG_RUNTIME_DIR/ireed.sock, where ireed listens when not run as root)
// when that socket exists, else the system daemon's.
static const char* ireeclient_socket_path(const ireeclient_options_t* options,
                                          char* buffer, size_t capacity) {
  const char* path = options ? options->socket_path : NULL;
  if (path && *path) return path;
  path = getenv("IREED_SOCKET");
  if (path && *path) return path;
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (runtime_dir && *runtime_dir) {
    int length = snprintf(buffer, capacity, "%s/ireed.sock", runtime_dir);
    if (length > 0 && (size_t)length < capacity && access(buffer, F_OK) == 0) {
      return buffer;
    }
  }
  return IREECLIENT_DEFAULT_SOCKET;
}

irt_status_t ireeclient_connect(const ireeclient_options_t* options,
                                ireeclient_connection_t** out_connection) {
  *out_connection = NULL;
  char user_socket[sizeof(((struct sockaddr_un*)0)->sun_path) + 32];
  const char* path =
      ireeclient_socket_path(options, user_socket, sizeof(user_socket));
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof(address.sun_path)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "socket path '%s' is longer than %zu bytes", path,
                           sizeof(address.sun_path) - 1);
  }
  memcpy(address.sun_path, path, strlen(path) + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE, "socket() failed: %s",
                           strerror(errno));
  }
  int result;
  do {
    result = connect(fd, (const struct sockaddr*)&address, sizeof(address));
  } while (result != 0 && errno == EINTR);
  if (result != 0) {
    int error = errno;
    close(fd);
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "cannot connect to ireed at '%s': %s (is ireed "
                           "running? --socket or $IREED_SOCKET name another "
                           "socket)",
                           path, strerror(error));
  }
  irt_status_t status = ireeclient_connect_fd(fd, options, out_connection);
  return irt_status_annotate(status, "connecting to ireed at '%s'", path);
}

void ireeclient_disconnect(ireeclient_connection_t* connection) {
  if (!connection) return;
  pthread_mutex_lock(&connection->mutex);
  if (!connection->broken) {
    connection->broken = irt_make_status(IRT_STATUS_CANCELLED,
                                         "the connection to ireed was closed");
  }
  pthread_mutex_unlock(&connection->mutex);
  // Ends the receive thread's recvmsg with end of stream; it then fails
  // whatever is still pending with the status above.
  shutdown(connection->fd, SHUT_RDWR);
  if (connection->receive_thread_started) {
    pthread_join(connection->receive_thread, NULL);
    connection->receive_thread_started = false;
  }
  ireeclient_connection_release(connection);
}

const char* ireeclient_server_software(
    const ireeclient_connection_t* connection) {
  return connection->server_software;
}

uint32_t ireeclient_max_frame_size(const ireeclient_connection_t* connection) {
  return connection->max_frame_size;
}
