#include "tests/daemon/daemon_testing.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "tests/support/test_files.h"

#define IREED_TEST_RECEIVE_TIMEOUT_MS 30000

//===----------------------------------------------------------------------===//
// The daemon process
//===----------------------------------------------------------------------===//

static bool ireed_test_try_connect(const char* path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
  bool ok = connect(fd, (struct sockaddr*)&address, sizeof(address)) == 0;
  close(fd);
  return ok;
}

// A new temporary directory for the socket and the log.
static void ireed_test_daemon_prepare(ireed_test_daemon_t* daemon) {
  snprintf(daemon->directory, sizeof(daemon->directory),
           "/tmp/ireed-test.XXXXXX");
  assert_non_null(mkdtemp(daemon->directory));
  snprintf(daemon->socket_path, sizeof(daemon->socket_path), "%s/ireed.sock",
           daemon->directory);
  snprintf(daemon->log_path, sizeof(daemon->log_path), "%s/ireed.log",
           daemon->directory);
}

// Runs argv[0] with its output in the log (and |listener| as descriptor 3,
// announced as systemd does, when >= 0), then waits until it accepts.
static void ireed_test_daemon_run(ireed_test_daemon_t* daemon,
                                  const char* const* argv, int listener) {
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int log = open(daemon->log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (log >= 0) {
      dup2(log, STDOUT_FILENO);
      dup2(log, STDERR_FILENO);
    }
    if (listener >= 0) {
      // dup2 onto itself keeps FD_CLOEXEC: clear it either way.
      if (dup2(listener, 3) != 3 || fcntl(3, F_SETFD, 0) != 0) _exit(126);
      char pid_text[32];
      snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
      setenv("LISTEN_PID", pid_text, 1);
      setenv("LISTEN_FDS", "1", 1);
    }
    execv(argv[0], (char* const*)argv);
    _exit(127);
  }
  if (listener >= 0) close(listener);
  daemon->pid = pid;
  for (int i = 0; i < 2000; ++i) {
    if (ireed_test_try_connect(daemon->socket_path)) return;
    int status;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      ireed_test_daemon_dump_log(daemon);
      fail_msg("ireed exited during start-up (status 0x%x)", status);
    }
    usleep(10000);
  }
  ireed_test_daemon_dump_log(daemon);
  fail_msg("ireed did not listen on %s within 20 s", daemon->socket_path);
}

// Starts |binary| with --socket and |extra| arguments (see
// ireed_test_daemon_start).
static void ireed_test_daemon_spawn(ireed_test_daemon_t* daemon,
                                    const char* binary,
                                    const char* const* extra,
                                    size_t extra_count) {
  ireed_test_daemon_prepare(daemon);
  const char* argv[16];
  size_t argc = 0;
  char socket_flag[160];
  snprintf(socket_flag, sizeof(socket_flag), "--socket=%s",
           daemon->socket_path);
  argv[argc++] = binary;
  argv[argc++] = socket_flag;
  for (size_t i = 0; i < extra_count && argc < 15; ++i) {
    argv[argc++] = extra[i];
  }
  argv[argc] = NULL;
  ireed_test_daemon_run(daemon, argv, -1);
}

// The NULL-terminated arguments after |binary| into |extra| (at most 13).
static size_t ireed_test_daemon_extra(va_list args, const char** extra) {
  size_t count = 0;
  const char* arg;
  while ((arg = va_arg(args, const char*)) != NULL && count < 13) {
    extra[count++] = arg;
  }
  return count;
}

void ireed_test_daemon_start(ireed_test_daemon_t* daemon, const char* binary,
                             ...) {
  daemon->config_path[0] = '\0';
  const char* extra[13];
  va_list args;
  va_start(args, binary);
  size_t count = ireed_test_daemon_extra(args, extra);
  va_end(args);
  ireed_test_daemon_spawn(daemon, binary, extra, count);
}

void ireed_test_daemon_start_config(ireed_test_daemon_t* daemon,
                                    const char* binary, const char* yaml,
                                    const char* flag) {
  snprintf(daemon->config_path, sizeof(daemon->config_path),
           "/tmp/ireed-test-config.XXXXXX");
  int fd = mkstemp(daemon->config_path);
  assert_true(fd >= 0);
  size_t length = strlen(yaml);
  assert_int_equal(write(fd, yaml, length), (ssize_t)length);
  close(fd);
  char config_flag[96];
  snprintf(config_flag, sizeof(config_flag), "--config=%s",
           daemon->config_path);
  const char* extra[2] = {config_flag, flag};
  ireed_test_daemon_spawn(daemon, binary, extra, flag ? 2 : 1);
}

void ireed_test_daemon_start_activated(ireed_test_daemon_t* daemon,
                                       const char* binary, ...) {
  daemon->config_path[0] = '\0';
  ireed_test_daemon_prepare(daemon);
  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(listener >= 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s",
           daemon->socket_path);
  assert_int_equal(bind(listener, (struct sockaddr*)&address, sizeof(address)),
                   0);
  assert_int_equal(listen(listener, 16), 0);
  const char* argv[15];
  argv[0] = binary;
  va_list args;
  va_start(args, binary);
  size_t count = ireed_test_daemon_extra(args, argv + 1);
  va_end(args);
  argv[count + 1] = NULL;
  ireed_test_daemon_run(daemon, argv, listener);
}

void ireed_test_daemon_dump_log(const ireed_test_daemon_t* daemon) {
  FILE* log = fopen(daemon->log_path, "r");
  if (!log) return;
  fprintf(stderr, "---- ireed log (%s) ----\n", daemon->log_path);
  char line[1024];
  while (fgets(line, sizeof(line), log)) fputs(line, stderr);
  fprintf(stderr, "---- end of ireed log ----\n");
  fclose(log);
}

int ireed_test_daemon_wait(ireed_test_daemon_t* daemon) {
  int result = 255;
  if (daemon->pid > 0) {
    int status = 0;
    // Up to 60 s: in-flight work finishes first.
    for (int i = 0; i < 6000; ++i) {
      if (waitpid(daemon->pid, &status, WNOHANG) == daemon->pid) break;
      if (i == 5999) {
        kill(daemon->pid, SIGKILL);
        waitpid(daemon->pid, &status, 0);
      }
      usleep(10000);
    }
    result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    daemon->pid = 0;
  }
  if (daemon->config_path[0]) unlink(daemon->config_path);
  daemon->config_path[0] = '\0';
  struct stat info;
  bool socket_left = stat(daemon->socket_path, &info) == 0;
  if (result != 0 || socket_left) ireed_test_daemon_dump_log(daemon);
  unlink(daemon->socket_path);
  unlink(daemon->log_path);
  rmdir(daemon->directory);
  return socket_left && result == 0 ? 254 : result;
}

int ireed_test_daemon_stop(ireed_test_daemon_t* daemon) {
  if (daemon->pid > 0) kill(daemon->pid, SIGTERM);
  return ireed_test_daemon_wait(daemon);
}

//===----------------------------------------------------------------------===//
// The client
//===----------------------------------------------------------------------===//

void ireed_test_client_open(ireed_test_client_t* client,
                            const ireed_test_daemon_t* daemon) {
  memset(client, 0, sizeof(*client));
  client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(client->fd >= 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s",
           daemon->socket_path);
  assert_int_equal(
      connect(client->fd, (struct sockaddr*)&address, sizeof(address)), 0);
  ireed_frame_reader_initialize(&client->reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  client->next_request_id = 1;
}

// sendmsg of |size| bytes of |data| with |fd| in SCM_RIGHTS.
static ssize_t ireed_test_send_fd(int socket_fd, const void* data, size_t size,
                                  int fd) {
  struct iovec iov = {(void*)data, size};
  union {
    struct cmsghdr align;
    char buffer[CMSG_SPACE(sizeof(int))];
  } control;
  memset(&control, 0, sizeof(control));
  struct msghdr message = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = control.buffer,
                           .msg_controllen = sizeof(control.buffer)};
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &fd, sizeof(int));
  return sendmsg(socket_fd, &message, MSG_NOSIGNAL);
}

void ireed_test_daemon_open_to_all(const ireed_test_daemon_t* daemon) {
  assert_int_equal(chmod(daemon->directory, 0755), 0);
  assert_int_equal(chmod(daemon->socket_path, 0666), 0);
}

// The child of ireed_test_client_open_as: no cmocka here, only an exit
// status (1: dropping privileges failed, 2: connect failed, 3: passing the
// socket back failed).
static void ireed_test_connect_child(const char* socket_path, int channel,
                                     uid_t uid, gid_t gid, const gid_t* groups,
                                     size_t group_count) {
  if (setgroups(group_count, groups) != 0 || setgid(gid) != 0 ||
      setuid(uid) != 0) {
    _exit(1);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path);
  if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    _exit(2);
  }
  _exit(ireed_test_send_fd(channel, "x", 1, fd) == 1 ? 0 : 3);
}

bool ireed_test_client_open_as(ireed_test_client_t* client,
                               const ireed_test_daemon_t* daemon, uid_t uid,
                               gid_t gid, const gid_t* groups,
                               size_t group_count) {
  if (geteuid() != 0) {
    fprintf(stderr,
            "skipping: connecting as uid %u needs root (this test runs as "
            "uid %u)\n",
            (unsigned)uid, (unsigned)geteuid());
    return false;
  }
  int channel[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel),
                   0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(channel[0]);
    ireed_test_connect_child(daemon->socket_path, channel[1], uid, gid, groups,
                             group_count);
  }
  close(channel[1]);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 1) {
    close(channel[0]);
    fprintf(stderr,
            "skipping: root here cannot switch to uid %u (no CAP_SETUID or "
            "CAP_SETGID)\n",
            (unsigned)uid);
    return false;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    close(channel[0]);
    fail_msg("connecting as uid %u failed in the child (status 0x%x)",
             (unsigned)uid, status);
  }
  char byte;
  struct iovec iov = {&byte, 1};
  union {
    struct cmsghdr align;
    char buffer[CMSG_SPACE(sizeof(int))];
  } control;
  struct msghdr message = {.msg_iov = &iov,
                           .msg_iovlen = 1,
                           .msg_control = control.buffer,
                           .msg_controllen = sizeof(control.buffer)};
  assert_int_equal(recvmsg(channel[0], &message, MSG_CMSG_CLOEXEC), 1);
  close(channel[0]);
  struct cmsghdr* header = CMSG_FIRSTHDR(&message);
  assert_non_null(header);
  assert_int_equal(header->cmsg_type, SCM_RIGHTS);
  memset(client, 0, sizeof(*client));
  memcpy(&client->fd, CMSG_DATA(header), sizeof(int));
  ireed_frame_reader_initialize(&client->reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  client->next_request_id = 1;
  return true;
}

void ireed_test_client_connect(ireed_test_client_t* client,
                               const ireed_test_daemon_t* daemon) {
  ireed_test_client_open(client, daemon);
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  hello.software = "daemon tests";
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  Ireed__Frame* reply = ireed_test_client_call(client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_HELLO);
  assert_int_equal(reply->hello->protocol_major, 1);
  assert_non_null(strstr(reply->hello->software, "ireed"));
  assert_true(reply->hello->max_frame_size >= 4096);
  ireed__frame__free_unpacked(reply, NULL);
}

void ireed_test_client_close(ireed_test_client_t* client) {
  if (client->fd >= 0) close(client->fd);
  client->fd = -1;
  ireed_frame_reader_deinitialize(&client->reader);
}

void ireed_test_client_send_raw(ireed_test_client_t* client, const void* data,
                                size_t size) {
  const uint8_t* bytes = data;
  while (size) {
    ssize_t sent = send(client->fd, bytes, size, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    assert_true(sent > 0);
    bytes += sent;
    size -= (size_t)sent;
  }
}

uint64_t ireed_test_client_send(ireed_test_client_t* client,
                                Ireed__Frame* frame, int fd) {
  frame->request_id = client->next_request_id++;
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status =
      ireed_frame_encode(frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                         irt_allocator_system(), &data, &size);
  assert_null(status);
  size_t offset = 0;
  if (fd >= 0) {
    // The descriptor rides on the first bytes of the frame.
    ssize_t sent = ireed_test_send_fd(client->fd, data, size, fd);
    assert_true(sent > 0);
    offset = (size_t)sent;
  }
  ireed_test_client_send_raw(client, data + offset, size - offset);
  free(data);
  return frame->request_id;
}

// Reads more bytes into the reader; false at end of stream.
static bool ireed_test_client_fill(ireed_test_client_t* client) {
  struct pollfd poll_fd = {.fd = client->fd, .events = POLLIN};
  int ready = poll(&poll_fd, 1, IREED_TEST_RECEIVE_TIMEOUT_MS);
  if (ready == 0) fail_msg("no reply from ireed within 30 s");
  uint8_t buffer[65536];
  ssize_t received;
  do {
    received = recv(client->fd, buffer, sizeof(buffer), 0);
  } while (received < 0 && errno == EINTR);
  if (received < 0 && errno == ECONNRESET) return false;
  assert_true(received >= 0);
  if (received == 0) return false;
  assert_null(
      ireed_frame_reader_append(&client->reader, buffer, (size_t)received));
  return true;
}

Ireed__Frame* ireed_test_client_receive(ireed_test_client_t* client) {
  for (;;) {
    Ireed__Frame* frame = NULL;
    assert_null(ireed_frame_reader_next(&client->reader, &frame));
    if (frame) return frame;
    if (!ireed_test_client_fill(client)) {
      assert_int_equal(client->reader.size, 0);  // no partial frame at EOF
      return NULL;
    }
  }
}

Ireed__Frame* ireed_test_client_call(ireed_test_client_t* client,
                                     Ireed__Frame* frame, int fd) {
  uint64_t id = ireed_test_client_send(client, frame, fd);
  Ireed__Frame* reply = ireed_test_client_receive(client);
  assert_non_null(reply);
  assert_int_equal(reply->request_id, id);
  return reply;
}

bool ireed_test_client_at_eof(ireed_test_client_t* client) {
  Ireed__Frame* frame = ireed_test_client_receive(client);
  if (!frame) return true;
  ireed__frame__free_unpacked(frame, NULL);
  return false;
}

void ireed_test_expect_error(Ireed__Frame* reply, uint32_t code,
                             const char* text) {
  assert_non_null(reply);
  if (reply->body_case != IREED__FRAME__BODY_ERROR) {
    fail_msg("expected an Error containing '%s', got body %d", text,
             (int)reply->body_case);
  }
  if (reply->error->code != code || !strstr(reply->error->message, text)) {
    fail_msg("expected error %u containing '%s', got %u: %s", code, text,
             reply->error->code, reply->error->message);
  }
  ireed__frame__free_unpacked(reply, NULL);
}

//===----------------------------------------------------------------------===//
// Requests
//===----------------------------------------------------------------------===//

Ireed__Frame* ireed_test_load(ireed_test_client_t* client, const char* name,
                              const char* device, const char* const* modules,
                              size_t module_count, const char* scope,
                              const char* parameters) {
  Ireed__LoadModelRequest request = IREED__LOAD_MODEL_REQUEST__INIT;
  request.name = (char*)name;
  request.device = (char*)(device ? device : "");
  request.n_module_paths = module_count;
  request.module_paths = (char**)modules;
  Ireed__ParameterArchive archive = IREED__PARAMETER_ARCHIVE__INIT;
  Ireed__ParameterArchive* archives[1] = {&archive};
  if (parameters) {
    archive.scope = (char*)(scope ? scope : "");
    archive.path = (char*)parameters;
    request.n_parameters = 1;
    request.parameters = archives;
  }
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LOAD_MODEL;
  frame.load_model = &request;
  return ireed_test_client_call(client, &frame, -1);
}

void ireed_test_tensor_inline(ireed_test_tensor_t* t, const float* data,
                              size_t count) {
  ireed__value__init(&t->value);
  ireed__tensor__init(&t->tensor);
  t->shape[0] = count;
  t->tensor.element_type = IREED_F32;
  t->tensor.n_shape = 1;
  t->tensor.shape = t->shape;
  t->tensor.data_case = IREED__TENSOR__DATA_INLINE_DATA;
  t->tensor.inline_data.data = (uint8_t*)data;
  t->tensor.inline_data.len = count * sizeof(float);
  t->value.kind_case = IREED__VALUE__KIND_TENSOR;
  t->value.tensor = &t->tensor;
}

void ireed_test_tensor_shm(ireed_test_tensor_t* t, size_t count,
                           uint64_t region_id, uint64_t offset) {
  ireed_test_tensor_inline(t, NULL, count);
  ireed__shm_slice__init(&t->slice);
  t->slice.region_id = region_id;
  t->slice.offset = offset;
  t->slice.length = count * sizeof(float);
  t->tensor.data_case = IREED__TENSOR__DATA_SHM;
  t->tensor.shm = &t->slice;
}

void ireed_test_invoke_init(ireed_test_invoke_t* invoke, const char* model,
                            const char* function, ireed_test_tensor_t* inputs,
                            size_t input_count) {
  memset(invoke, 0, sizeof(*invoke));
  ireed__frame__init(&invoke->frame);
  ireed__invoke_request__init(&invoke->request);
  invoke->request.model = (char*)model;
  invoke->request.function = (char*)function;
  for (size_t i = 0; i < input_count; ++i) {
    invoke->inputs[i] = &inputs[i].value;
  }
  invoke->request.n_inputs = input_count;
  invoke->request.inputs = invoke->inputs;
  invoke->frame.body_case = IREED__FRAME__BODY_INVOKE;
  invoke->frame.invoke = &invoke->request;
}

void ireed_test_invoke_i32(ireed_test_invoke_t* invoke, const char* model,
                           const char* function, Ireed__Value* value,
                           int32_t input) {
  ireed__value__init(value);
  value->kind_case = IREED__VALUE__KIND_I32;
  value->i32 = input;
  ireed_test_invoke_init(invoke, model, function, NULL, 0);
  invoke->inputs[0] = value;
  invoke->request.n_inputs = 1;
}

void ireed_test_invoke_output_shm(ireed_test_invoke_t* invoke, size_t index,
                                  uint64_t region_id, uint64_t offset,
                                  uint64_t length) {
  for (size_t i = invoke->request.n_outputs; i <= index; ++i) {
    ireed__output_target__init(&invoke->targets[i]);
    invoke->outputs[i] = &invoke->targets[i];
  }
  ireed__shm_slice__init(&invoke->target_slices[index]);
  invoke->target_slices[index].region_id = region_id;
  invoke->target_slices[index].offset = offset;
  invoke->target_slices[index].length = length;
  invoke->targets[index].shm = &invoke->target_slices[index];
  if (invoke->request.n_outputs <= index) invoke->request.n_outputs = index + 1;
  invoke->request.outputs = invoke->outputs;
}

void ireed_test_expect_f32(const Ireed__Frame* reply, size_t index,
                           const float* expected, size_t count) {
  assert_non_null(reply);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("invocation failed: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
  assert_true(index < reply->invoke_reply->n_outputs);
  const Ireed__Value* value = reply->invoke_reply->outputs[index];
  assert_int_equal(value->kind_case, IREED__VALUE__KIND_TENSOR);
  const Ireed__Tensor* tensor = value->tensor;
  assert_int_equal(tensor->element_type, IREED_F32);
  assert_int_equal(tensor->n_shape, 1);
  assert_int_equal(tensor->shape[0], count);
  assert_int_equal(tensor->data_case, IREED__TENSOR__DATA_INLINE_DATA);
  assert_int_equal(tensor->inline_data.len, count * sizeof(float));
  assert_memory_equal(tensor->inline_data.data, expected,
                      count * sizeof(float));
}

int ireed_test_memfd(size_t size, int seals, uint8_t** out_data) {
  int fd = memfd_create("ireed-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  assert_true(fd >= 0);
  assert_int_equal(ftruncate(fd, (off_t)size), 0);
  void* data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  assert_true(data != MAP_FAILED);
  if (seals) assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
  *out_data = data;
  return fd;
}

uint64_t ireed_test_register(ireed_test_client_t* client, int fd,
                             uint64_t size) {
  Ireed__RegisterShmRequest request = IREED__REGISTER_SHM_REQUEST__INIT;
  request.size = size;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_REGISTER_SHM;
  frame.register_shm = &request;
  Ireed__Frame* reply = ireed_test_client_call(client, &frame, fd);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("RegisterShm failed: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_REGISTER_SHM_REPLY);
  uint64_t id = reply->register_shm_reply->region_id;
  assert_true(id != 0);
  ireed__frame__free_unpacked(reply, NULL);
  return id;
}

bool ireed_test_corpus(const char* relative, char* buffer, size_t capacity) {
  char path[512];
  snprintf(path, sizeof(path), "conformance/%s", relative);
  if (!ireed_test_shared_path(path, buffer, capacity)) return false;
  // The daemon wants absolute paths.
  char* resolved = realpath(buffer, NULL);
  if (!resolved) {
    fprintf(stderr, "skipping: %s is missing\n", buffer);
    return false;
  }
  snprintf(buffer, capacity, "%s", resolved);
  free(resolved);
  return true;
}

//===----------------------------------------------------------------------===//
// Clients on other threads
//===----------------------------------------------------------------------===//

static bool ireed_test_quiet_fail(char* error, size_t capacity,
                                  const char* what) {
  snprintf(error, capacity, "%s", what);
  return false;
}

bool ireed_test_quiet_call(ireed_test_client_t* client, Ireed__Frame* frame,
                           Ireed__Frame** out_reply, char* error,
                           size_t error_capacity) {
  *out_reply = NULL;
  frame->request_id = client->next_request_id++;
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status =
      ireed_frame_encode(frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                         irt_allocator_system(), &data, &size);
  bool sent = irt_status_is_ok(status) &&
              send(client->fd, data, size, MSG_NOSIGNAL) == (ssize_t)size;
  irt_status_free(status);
  free(data);
  if (!sent) return ireed_test_quiet_fail(error, error_capacity, "send failed");
  for (;;) {
    Ireed__Frame* reply = NULL;
    if (ireed_frame_reader_next(&client->reader, &reply) != IRT_OK) {
      return ireed_test_quiet_fail(error, error_capacity, "undecodable reply");
    }
    if (reply) {
      if (reply->request_id == frame->request_id) {
        *out_reply = reply;
        return true;
      }
      ireed__frame__free_unpacked(reply, NULL);
      return ireed_test_quiet_fail(error, error_capacity,
                                   "a reply to another request");
    }
    uint8_t buffer[4096];
    ssize_t received = recv(client->fd, buffer, sizeof(buffer), 0);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0 ||
        ireed_frame_reader_append(&client->reader, buffer, (size_t)received) !=
            IRT_OK) {
      return ireed_test_quiet_fail(error, error_capacity, "connection closed");
    }
  }
}

bool ireed_test_quiet_connect(ireed_test_client_t* client,
                              const char* socket_path, char* error,
                              size_t error_capacity) {
  memset(client, 0, sizeof(*client));
  client->next_request_id = 1;
  ireed_frame_reader_initialize(&client->reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  client->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", socket_path);
  if (client->fd < 0 ||
      connect(client->fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    return ireed_test_quiet_fail(error, error_capacity, "connect failed");
  }
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  Ireed__Frame* reply = NULL;
  if (!ireed_test_quiet_call(client, &frame, &reply, error, error_capacity)) {
    return false;
  }
  bool ok = reply->body_case == IREED__FRAME__BODY_HELLO;
  ireed__frame__free_unpacked(reply, NULL);
  return ok || ireed_test_quiet_fail(error, error_capacity, "Hello refused");
}

void ireed_test_kill_child(void (*child_main)(int ready_fd),
                           unsigned delay_us) {
  int ready[2];
  assert_int_equal(pipe(ready), 0);
  fflush(NULL);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(ready[0]);
    child_main(ready[1]);
    _exit(0);
  }
  close(ready[1]);
  char byte;
  assert_int_equal(read(ready[0], &byte, 1), 1);
  close(ready[0]);
  usleep(delay_us);
  kill(pid, SIGKILL);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
}
