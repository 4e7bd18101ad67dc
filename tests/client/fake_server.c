#include "tests/client/fake_server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto/frame.h"

#define FAKE_MAX_REGIONS 32
#define FAKE_MAX_FDS 32
#define FAKE_MAX_HELD 64

typedef struct fake_region_s {
  uint64_t id;
  uint8_t* data;
  uint64_t size;
} fake_region_t;

typedef struct fake_state_s {
  fake_server_t* server;
  fake_region_t regions[FAKE_MAX_REGIONS];
  uint64_t next_region_id;
  int fds[FAKE_MAX_FDS];  // received, not yet claimed by a RegisterShm
  int fd_count;
  struct {
    uint8_t* data;
    size_t size;
  } held[FAKE_MAX_HELD];
  int held_count;
  bool closing;
} fake_state_t;

static void fake_write_all(int fd, const uint8_t* data, size_t size) {
  while (size) {
    ssize_t written = send(fd, data, size, MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // the client went away
    data += written;
    size -= (size_t)written;
  }
}

static void fake_send(fake_state_t* state, const Ireed__Frame* frame,
                      bool hold) {
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status =
      ireed_frame_encode(frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                         irt_allocator_system(), &data, &size);
  assert_null(status);
  if (!hold) {
    fake_write_all(state->server->fd, data, size);
    free(data);
    return;
  }
  state->held[state->held_count].data = data;
  state->held[state->held_count].size = size;
  if (++state->held_count < state->server->options.hold_invokes) return;
  while (state->held_count > 0) {
    --state->held_count;
    fake_write_all(state->server->fd, state->held[state->held_count].data,
                   state->held[state->held_count].size);
    free(state->held[state->held_count].data);
  }
}

static void fake_send_error(fake_state_t* state, uint64_t request_id,
                            irt_status_code_t code, const char* message) {
  Ireed__Error error = IREED__ERROR__INIT;
  error.code = code;
  error.message = (char*)message;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request_id;
  frame.body_case = IREED__FRAME__BODY_ERROR;
  frame.error = &error;
  fake_send(state, &frame, false);
}

static fake_region_t* fake_find_region(fake_state_t* state, uint64_t id) {
  for (int i = 0; i < FAKE_MAX_REGIONS; ++i) {
    if (state->regions[i].data && state->regions[i].id == id) {
      return &state->regions[i];
    }
  }
  return NULL;
}

//===----------------------------------------------------------------------===//
// Requests
//===----------------------------------------------------------------------===//

static void fake_hello(fake_state_t* state, const Ireed__Frame* request) {
  assert_int_equal(request->hello->protocol_major, 1);
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = state->server->options.protocol_major
                             ? state->server->options.protocol_major
                             : 1;
  hello.software = "fake-ireed 0";
  hello.max_frame_size = 1u << 20;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  fake_send(state, &frame, false);
}

static void fake_register(fake_state_t* state, const Ireed__Frame* request) {
  assert_true(state->fd_count > 0);
  int fd = state->fds[0];
  memmove(state->fds, state->fds + 1, --state->fd_count * sizeof(int));
  state->server->shm_seals = (uint32_t)fcntl(fd, F_GET_SEALS);
  uint64_t size = request->register_shm->size;
  void* data = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  assert_true(data != MAP_FAILED);
  fake_region_t* region = fake_find_region(state, 0);
  for (int i = 0; i < FAKE_MAX_REGIONS && !region; ++i) {
    if (!state->regions[i].data) region = &state->regions[i];
  }
  assert_non_null(region);
  region->id = state->next_region_id++;
  region->data = data;
  region->size = size;
  ++state->server->registrations;
  Ireed__RegisterShmReply reply = IREED__REGISTER_SHM_REPLY__INIT;
  reply.region_id = region->id;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request->request_id;
  frame.body_case = IREED__FRAME__BODY_REGISTER_SHM_REPLY;
  frame.register_shm_reply = &reply;
  fake_send(state, &frame, false);
}

static void fake_unregister(fake_state_t* state, const Ireed__Frame* request) {
  fake_region_t* region =
      fake_find_region(state, request->unregister_shm->region_id);
  if (!region) {
    fake_send_error(state, request->request_id, IRT_STATUS_NOT_FOUND,
                    "no such region");
    return;
  }
  munmap(region->data, region->size);
  memset(region, 0, sizeof(*region));
  ++state->server->unregistrations;
  Ireed__UnregisterShmReply reply = IREED__UNREGISTER_SHM_REPLY__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request->request_id;
  frame.body_case = IREED__FRAME__BODY_UNREGISTER_SHM_REPLY;
  frame.unregister_shm_reply = &reply;
  fake_send(state, &frame, false);
}

// Fills |model| (and the arrays it points to) with the fake model.
static void fake_model_info(const char* name, const char* device,
                            Ireed__ModelInfo* model,
                            Ireed__FunctionInfo functions[4],
                            Ireed__FunctionInfo* function_list[4]) {
  static const char* kNames[4] = {"mul", "fail", "close", "junk"};
  static char* kPaths[1] = {"/fake/fake.vmfb"};
  ireed__model_info__init(model);
  for (int i = 0; i < 4; ++i) {
    ireed__function_info__init(&functions[i]);
    functions[i].name = (char*)kNames[i];
    functions[i].calling_convention = "0rr_r";
    functions[i].declaration = i == 0 ? "sync func @mul" : "";
    function_list[i] = &functions[i];
  }
  model->name = (char*)name;
  model->device = (char*)device;
  model->n_module_paths = 1;
  model->module_paths = kPaths;
  model->n_functions = 4;
  model->functions = function_list;
  model->invocations = 7;
}

static void fake_load(fake_state_t* state, const Ireed__Frame* request) {
  const Ireed__LoadModelRequest* load = request->load_model;
  if (load->n_module_paths == 0 || strstr(load->module_paths[0], "missing")) {
    fake_send_error(state, request->request_id, IRT_STATUS_NOT_FOUND,
                    "cannot open module 'missing.vmfb'");
    return;
  }
  Ireed__ModelInfo model;
  Ireed__FunctionInfo functions[4];
  Ireed__FunctionInfo* function_list[4];
  fake_model_info(load->name, *load->device ? load->device : "local-task",
                  &model, functions, function_list);
  Ireed__LoadModelReply reply = IREED__LOAD_MODEL_REPLY__INIT;
  reply.model = &model;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request->request_id;
  frame.body_case = IREED__FRAME__BODY_LOAD_MODEL_REPLY;
  frame.load_model_reply = &reply;
  fake_send(state, &frame, false);
}

static void fake_simple_reply(fake_state_t* state,
                              const Ireed__Frame* request) {
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request->request_id;
  Ireed__UnloadModelReply unload = IREED__UNLOAD_MODEL_REPLY__INIT;
  Ireed__ListModelsReply list = IREED__LIST_MODELS_REPLY__INIT;
  Ireed__StatusReply status = IREED__STATUS_REPLY__INIT;
  Ireed__DeviceInfo device = IREED__DEVICE_INFO__INIT;
  Ireed__DeviceInfo* devices[1] = {&device};
  Ireed__ModelInfo model;
  Ireed__ModelInfo* models[1] = {&model};
  Ireed__FunctionInfo functions[4];
  Ireed__FunctionInfo* function_list[4];
  switch (request->body_case) {
    case IREED__FRAME__BODY_UNLOAD_MODEL:
      if (strcmp(request->unload_model->name, FAKE_MODEL) != 0) {
        fake_send_error(state, request->request_id, IRT_STATUS_NOT_FOUND,
                        "no model named 'other'");
        return;
      }
      frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL_REPLY;
      frame.unload_model_reply = &unload;
      break;
    case IREED__FRAME__BODY_LIST_MODELS:
      fake_model_info(FAKE_MODEL, "local-task", &model, functions,
                      function_list);
      list.n_models = 1;
      list.models = models;
      frame.body_case = IREED__FRAME__BODY_LIST_MODELS_REPLY;
      frame.list_models_reply = &list;
      break;
    default:
      device.uri = "local-task";
      device.name = "CPU";
      device.detail = "4 workers";
      device.available = true;
      status.software = "fake-ireed 0";
      status.uptime_ms = 1234;
      status.clients = 1;
      status.models = 1;
      status.n_devices = 1;
      status.devices = devices;
      frame.body_case = IREED__FRAME__BODY_STATUS_REPLY;
      frame.status_reply = &status;
      break;
  }
  fake_send(state, &frame, false);
}

// The bytes of a tensor input (inline or in a region); NULL if bad.
static const float* fake_tensor_data(fake_state_t* state,
                                     const Ireed__Tensor* tensor,
                                     size_t* out_length) {
  if (tensor->data_case == IREED__TENSOR__DATA_SHM) {
    ++state->server->shm_inputs;
    fake_region_t* region = fake_find_region(state, tensor->shm->region_id);
    if (!region || tensor->shm->offset % 64 != 0 ||
        tensor->shm->offset + tensor->shm->length > region->size) {
      return NULL;
    }
    *out_length = tensor->shm->length;
    return (const float*)(region->data + tensor->shm->offset);
  }
  ++state->server->inline_inputs;
  *out_length = tensor->inline_data.len;
  return (const float*)tensor->inline_data.data;
}

static void fake_mul(fake_state_t* state, const Ireed__Frame* request) {
  const Ireed__InvokeRequest* invoke = request->invoke;
  size_t length_a = 0, length_b = 0;
  const float* a = NULL;
  const float* b = NULL;
  if (invoke->n_inputs == 2 &&
      invoke->inputs[0]->kind_case == IREED__VALUE__KIND_TENSOR &&
      invoke->inputs[1]->kind_case == IREED__VALUE__KIND_TENSOR) {
    a = fake_tensor_data(state, invoke->inputs[0]->tensor, &length_a);
    b = fake_tensor_data(state, invoke->inputs[1]->tensor, &length_b);
  }
  if (!a || !b || length_a != length_b) {
    fake_send_error(state, request->request_id, IRT_STATUS_INVALID_ARGUMENT,
                    "mul needs two f32 tensors of one size");
    return;
  }
  float* product = malloc(length_a ? length_a : 1);
  for (size_t i = 0; i < length_a / sizeof(float); ++i)
    product[i] = a[i] * b[i];

  Ireed__ShmSlice slice = IREED__SHM_SLICE__INIT;
  Ireed__Tensor tensor = IREED__TENSOR__INIT;
  tensor.element_type = IREECLIENT_ELEMENT_TYPE_FLOAT_32;
  tensor.n_shape = invoke->inputs[0]->tensor->n_shape;
  tensor.shape = invoke->inputs[0]->tensor->shape;
  const Ireed__OutputTarget* target =
      invoke->n_outputs ? invoke->outputs[0] : NULL;
  if (target && target->shm) {
    fake_region_t* region = fake_find_region(state, target->shm->region_id);
    assert_non_null(region);
    assert_true(target->shm->offset + length_a <= region->size);
    memcpy(region->data + target->shm->offset, product, length_a);
    slice = *target->shm;
    slice.length = length_a;
    tensor.data_case = IREED__TENSOR__DATA_SHM;
    tensor.shm = &slice;
  } else {
    tensor.data_case = IREED__TENSOR__DATA_INLINE_DATA;
    tensor.inline_data.data = (uint8_t*)product;
    tensor.inline_data.len = length_a;
  }
  Ireed__Value value = IREED__VALUE__INIT;
  value.kind_case = IREED__VALUE__KIND_TENSOR;
  value.tensor = &tensor;
  Ireed__Value* outputs[1] = {&value};
  Ireed__InvokeReply reply = IREED__INVOKE_REPLY__INIT;
  reply.n_outputs = 1;
  reply.outputs = outputs;
  reply.queue_ns = 5;
  reply.execute_ns = 6;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request->request_id;
  frame.body_case = IREED__FRAME__BODY_INVOKE_REPLY;
  frame.invoke_reply = &reply;
  fake_send(state, &frame, state->server->options.hold_invokes > 1);
  free(product);
}

static void fake_invoke(fake_state_t* state, const Ireed__Frame* request) {
  ++state->server->invokes;
  const char* function = request->invoke->function;
  if (strcmp(request->invoke->model, FAKE_MODEL) != 0) {
    fake_send_error(state, request->request_id, IRT_STATUS_NOT_FOUND,
                    "no model named that");
  } else if (strcmp(function, "mul") == 0) {
    fake_mul(state, request);
  } else if (strcmp(function, "fail") == 0) {
    fake_send_error(state, request->request_id, IRT_STATUS_INVALID_ARGUMENT,
                    FAKE_ERROR_MESSAGE);
  } else if (strcmp(function, "busy") == 0) {
    fake_send_error(state, request->request_id, IRT_STATUS_RESOURCE_EXHAUSTED,
                    FAKE_BUSY_MESSAGE);
  } else if (strcmp(function, "close") == 0) {
    fake_send_error(state, 0, IRT_STATUS_UNAVAILABLE, FAKE_CLOSE_MESSAGE);
    state->closing = true;
  } else {
    // "junk": a header declaring 0xFFFFFFF0 bytes.
    static const uint8_t kJunk[8] = {0xf0, 0xff, 0xff, 0xff, 1, 2, 3, 4};
    fake_write_all(state->server->fd, kJunk, sizeof(kJunk));
  }
}

static void fake_handle(fake_state_t* state, const Ireed__Frame* frame) {
  switch (frame->body_case) {
    case IREED__FRAME__BODY_HELLO:
      fake_hello(state, frame);
      break;
    case IREED__FRAME__BODY_REGISTER_SHM:
      fake_register(state, frame);
      break;
    case IREED__FRAME__BODY_UNREGISTER_SHM:
      fake_unregister(state, frame);
      break;
    case IREED__FRAME__BODY_LOAD_MODEL:
      fake_load(state, frame);
      break;
    case IREED__FRAME__BODY_INVOKE:
      fake_invoke(state, frame);
      break;
    default:
      fake_simple_reply(state, frame);
      break;
  }
}

//===----------------------------------------------------------------------===//
// Thread
//===----------------------------------------------------------------------===//

static void* fake_server_main(void* arg) {
  fake_state_t state = {.server = arg, .next_region_id = 100};
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, IREED_FRAME_DEFAULT_MAX_SIZE,
                                irt_allocator_system());
  uint8_t* buffer = malloc(65536);
  assert_non_null(buffer);
  while (!state.closing) {
    union {
      struct cmsghdr header;
      char space[CMSG_SPACE(sizeof(int) * 4)];
    } control;
    struct iovec iov = {buffer, 65536};
    struct msghdr message = {.msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = control.space,
                             .msg_controllen = sizeof(control.space)};
    ssize_t received = recvmsg(state.server->fd, &message, MSG_CMSG_CLOEXEC);
    if (received < 0 && errno == EINTR) continue;
    if (received <= 0) break;
    for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg;
         cmsg = CMSG_NXTHDR(&message, cmsg)) {
      size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < count; ++i) {
        memcpy(&state.fds[state.fd_count++], CMSG_DATA(cmsg) + i * sizeof(int),
               sizeof(int));
      }
    }
    assert_null(ireed_frame_reader_append(&reader, buffer, (size_t)received));
    Ireed__Frame* frame = NULL;
    while (!state.closing) {
      assert_null(ireed_frame_reader_next(&reader, &frame));
      if (!frame) break;
      fake_handle(&state, frame);
      ireed__frame__free_unpacked(frame, NULL);
    }
  }
  shutdown(state.server->fd, SHUT_RDWR);
  free(buffer);
  ireed_frame_reader_deinitialize(&reader);
  for (int i = 0; i < FAKE_MAX_REGIONS; ++i) {
    if (state.regions[i].data) {
      munmap(state.regions[i].data, state.regions[i].size);
    }
  }
  for (int i = 0; i < state.fd_count; ++i) close(state.fds[i]);
  for (int i = 0; i < state.held_count; ++i) free(state.held[i].data);
  return NULL;
}

void fake_server_start(fake_server_t* server,
                       const fake_server_options_t* options,
                       int* out_client_fd) {
  memset(server, 0, sizeof(*server));
  if (options) server->options = *options;
  int fds[2];
  assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  server->fd = fds[0];
  *out_client_fd = fds[1];
  assert_int_equal(
      pthread_create(&server->thread, NULL, fake_server_main, server), 0);
}

void fake_server_stop(fake_server_t* server) {
  pthread_join(server->thread, NULL);
  close(server->fd);
}

ireeclient_connection_t* fake_server_connect(
    fake_server_t* server, const fake_server_options_t* options,
    uint64_t inline_threshold) {
  int fd = -1;
  fake_server_start(server, options, &fd);
  ireeclient_options_t client_options = {.inline_threshold = inline_threshold};
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireeclient_connect_fd(fd, &client_options, &connection);
  if (status) {
    char text[256];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("connect failed: %s", text);
  }
  return connection;
}
