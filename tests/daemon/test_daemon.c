// ireed end to end: a real daemon process driven over its socket. Protocol
// misuse (no Hello, wrong version, malformed, oversized and truncated
// frames) ends only the offending connection; models load once, list,
// invoke with inline and shared-memory tensors, and unload; regions survive
// unregistration while invocations use them; 32 clients x 1000 invocations
// run concurrently with every result checked; a client killed mid-invocation
// leaves the daemon serving the others; coarse-fences exports run through
// their fences; SIGTERM stops it cleanly.
//
// usage: test_daemon PATH/TO/ireed   (the module runs need the shared
// conformance corpus and are skipped without it)
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "runtime/base/status.h"
#include "tests/daemon/async_module.h"
#include "tests/daemon/daemon_testing.h"

static const char* g_ireed_binary;
static ireed_test_daemon_t g_daemon;

static int setup_daemon(void** state) {
  (void)state;
  ireed_test_daemon_start(&g_daemon, g_ireed_binary, "--log-level=debug", NULL);
  return 0;
}

static int teardown_daemon(void** state) {
  (void)state;
  int status = ireed_test_daemon_stop(&g_daemon);
  if (status != 0) {
    fprintf(stderr, "ireed stopped with status %d (254: socket left)\n",
            status);
  }
  return status == 0 ? 0 : -1;
}

// Loads simple_mul as |name| (asserting success); false (skip) without the
// corpus.
static bool load_simple_mul(ireed_test_client_t* client, const char* name,
                            const char* device) {
  char path[512];
  if (!ireed_test_corpus("v3.11/simple_mul.vmfb", path, sizeof(path))) {
    return false;
  }
  const char* modules[1] = {path};
  Ireed__Frame* reply =
      ireed_test_load(client, name, device, modules, 1, NULL, NULL);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("loading simple_mul: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
  const Ireed__ModelInfo* info = reply->load_model_reply->model;
  assert_string_equal(info->name, name);
  assert_int_equal(info->n_functions, 1);
  assert_string_equal(info->functions[0]->name, "simple_mul");
  assert_string_equal(info->functions[0]->calling_convention, "0rr_r");
  assert_non_null(strstr(info->functions[0]->declaration, "sync func"));
  ireed__frame__free_unpacked(reply, NULL);
  return true;
}

static Ireed__Frame* invoke_simple_mul(ireed_test_client_t* client,
                                       const char* model, const float* a,
                                       const float* b) {
  ireed_test_tensor_t inputs[2];
  ireed_test_tensor_inline(&inputs[0], a, 4);
  ireed_test_tensor_inline(&inputs[1], b, 4);
  ireed_test_invoke_t invoke;
  ireed_test_invoke_init(&invoke, model, "simple_mul", inputs, 2);
  return ireed_test_client_call(client, &invoke.frame, -1);
}

//===----------------------------------------------------------------------===//
// Protocol
//===----------------------------------------------------------------------===//

static void test_hello_and_status(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  Ireed__StatusRequest request = IREED__STATUS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_STATUS;
  frame.status = &request;
  Ireed__Frame* reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_STATUS_REPLY);
  assert_non_null(strstr(reply->status_reply->software, "ireed"));
  assert_true(reply->status_reply->clients >= 1);
  bool local_task = false;
  for (size_t i = 0; i < reply->status_reply->n_devices; ++i) {
    local_task |=
        strcmp(reply->status_reply->devices[i]->uri, "local-task") == 0;
  }
  assert_true(local_task);
  ireed__frame__free_unpacked(reply, NULL);
  // A second Hello is refused, the connection stays.
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_FAILED_PRECONDITION, "already");
  // Replies are not requests.
  Ireed__UnloadModelReply unload_reply = IREED__UNLOAD_MODEL_REPLY__INIT;
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL_REPLY;
  frame.unload_model_reply = &unload_reply;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_UNIMPLEMENTED, "UnloadModelReply");
  ireed_test_client_close(&client);
}

static void test_first_frame_must_be_hello(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_open(&client, &g_daemon);
  Ireed__ListModelsRequest request = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &request;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_FAILED_PRECONDITION, "must be Hello");
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
}

static void test_major_version_mismatch(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_open(&client, &g_daemon);
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 2;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_INCOMPATIBLE, "major version 2");
  assert_true(ireed_test_client_at_eof(&client));
  ireed_test_client_close(&client);
}

// Opens a connection that says Hello, then checks that |bytes| get an
// Error (request 0) and a close, while another connection keeps working.
static void expect_bad_bytes(const void* bytes, size_t size, const char* text,
                             bool close_after) {
  ireed_test_client_t bystander;
  ireed_test_client_connect(&bystander, &g_daemon);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  ireed_test_client_send_raw(&client, bytes, size);
  if (close_after) {
    ireed_test_client_close(&client);
  } else {
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    assert_non_null(reply);
    assert_int_equal(reply->request_id, 0);
    ireed_test_expect_error(reply, IRT_STATUS_INVALID_ARGUMENT, text);
    assert_true(ireed_test_client_at_eof(&client));
    ireed_test_client_close(&client);
  }
  // The daemon still serves everyone else.
  Ireed__ListModelsRequest request = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &request;
  Ireed__Frame* reply = ireed_test_client_call(&bystander, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LIST_MODELS_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&bystander);
}

static void test_malformed_frame(void** state) {
  (void)state;
  static const uint8_t kGarbage[] = {8,    0,    0,    0,    0xFF, 0xFF,
                                     0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  expect_bad_bytes(kGarbage, sizeof(kGarbage), "not a valid", false);
}

static void test_oversized_frame(void** state) {
  (void)state;
  static const uint8_t kHuge[] = {0, 0, 0, 0x40, 1, 2, 3};  // 1 GiB
  expect_bad_bytes(kHuge, sizeof(kHuge), "maximum frame size", false);
}

static void test_truncated_frame(void** state) {
  (void)state;
  static const uint8_t kHalf[] = {100, 0, 0, 0, 0x08, 0x01};
  expect_bad_bytes(kHalf, sizeof(kHalf), "", true);
}

//===----------------------------------------------------------------------===//
// Models and invocations
//===----------------------------------------------------------------------===//

static void test_load_list_invoke(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  // Loading the same files again under the name shares the model.
  assert_true(load_simple_mul(&client, "mul", NULL));
  static const float a[4] = {1, 2, 3, 4}, b[4] = {10, 20, 30, 40};
  static const float product[4] = {10, 40, 90, 160};
  Ireed__Frame* reply = invoke_simple_mul(&client, "mul", a, b);
  ireed_test_expect_f32(reply, 0, product, 4);
  ireed__frame__free_unpacked(reply, NULL);

  Ireed__ListModelsRequest list = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &list;
  reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LIST_MODELS_REPLY);
  bool found = false;
  for (size_t i = 0; i < reply->list_models_reply->n_models; ++i) {
    const Ireed__ModelInfo* info = reply->list_models_reply->models[i];
    if (strcmp(info->name, "mul") != 0) continue;
    found = true;
    assert_string_equal(info->device, "local-task");
    assert_int_equal(info->n_module_paths, 1);
    assert_true(info->invocations >= 1);
  }
  assert_true(found);
  ireed__frame__free_unpacked(reply, NULL);

  // "module.function" names work too.
  ireed_test_tensor_t inputs[3];
  ireed_test_tensor_inline(&inputs[0], a, 4);
  ireed_test_tensor_inline(&inputs[1], b, 4);
  ireed_test_invoke_t invoke;
  ireed_test_invoke_init(&invoke, "mul", "module.simple_mul", inputs, 2);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, product, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
}

static void test_invoke_errors(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  static const float a[5] = {1, 2, 3, 4, 5};
  ireed_test_tensor_t inputs[3];
  ireed_test_tensor_inline(&inputs[0], a, 4);
  ireed_test_tensor_inline(&inputs[1], a, 4);
  ireed_test_tensor_inline(&inputs[2], a, 4);
  ireed_test_invoke_t invoke;

  ireed_test_invoke_init(&invoke, "nope", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_NOT_FOUND, "no model named 'nope'");
  ireed_test_invoke_init(&invoke, "mul", "nope", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_NOT_FOUND, "no function 'nope'");
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 3);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "takes 2 inputs");
  // A scalar where a tensor goes.
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  Ireed__Value scalar = IREED__VALUE__INIT;
  scalar.kind_case = IREED__VALUE__KIND_F32;
  scalar.f32 = 2;
  invoke.inputs[1] = &scalar;
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "must be a tensor");
  // Bytes that do not match the shape.
  ireed_test_tensor_inline(&inputs[1], a, 4);
  inputs[1].tensor.inline_data.len = 12;
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "need 16 bytes");
  // A shape the function refuses (checked by the compiled code).
  ireed_test_tensor_inline(&inputs[1], a, 5);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  Ireed__Frame* reply = ireed_test_client_call(&client, &invoke.frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_ERROR);
  assert_non_null(strstr(reply->error->message, "shape"));
  ireed__frame__free_unpacked(reply, NULL);
  // No data at all; a sub-byte element type.
  ireed_test_tensor_inline(&inputs[1], a, 4);
  inputs[1].tensor.data_case = IREED__TENSOR__DATA__NOT_SET;
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "has no data");
  ireed_test_tensor_inline(&inputs[1], a, 4);
  inputs[1].tensor.element_type = 0x10000001u;  // i1
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "whole number of bytes");
  // Unknown regions, too many outputs.
  ireed_test_tensor_shm(&inputs[1], 4, 999, 0);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_NOT_FOUND, "region 999");
  ireed_test_tensor_inline(&inputs[1], a, 4);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_invoke_output_shm(&invoke, 1, 1, 0, 16);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT, "2 output targets");
  // The connection is fine after all that.
  static const float squares[4] = {1, 4, 9, 16};
  reply = invoke_simple_mul(&client, "mul", a, a);
  ireed_test_expect_f32(reply, 0, squares, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
}

static void test_load_errors(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  char path[512], other[512];
  if (!ireed_test_corpus("v3.11/simple_mul.vmfb", path, sizeof(path)) ||
      !ireed_test_corpus("v3.11/add.vmfb", other, sizeof(other))) {
    ireed_test_client_close(&client);
    skip();
  }
  const char* relative[1] = {"simple_mul.vmfb"};
  ireed_test_expect_error(
      ireed_test_load(&client, "r", NULL, relative, 1, NULL, NULL),
      IRT_STATUS_INVALID_ARGUMENT, "not absolute");
  const char* missing[1] = {"/nonexistent/x.vmfb"};
  ireed_test_expect_error(
      ireed_test_load(&client, "m", NULL, missing, 1, NULL, NULL),
      IRT_STATUS_NOT_FOUND, "cannot open module '/nonexistent/x.vmfb'");
  const char* modules[1] = {path};
  ireed_test_expect_error(
      ireed_test_load(&client, "d", "tpu", modules, 1, NULL, NULL),
      IRT_STATUS_NOT_FOUND, "unknown device 'tpu'");
  ireed_test_expect_error(
      ireed_test_load(&client, "", NULL, modules, 1, NULL, NULL),
      IRT_STATUS_INVALID_ARGUMENT, "model name");
  ireed_test_expect_error(
      ireed_test_load(&client, "n", NULL, modules, 0, NULL, NULL),
      IRT_STATUS_INVALID_ARGUMENT, "names no module");
  char negative[512];
  if (ireed_test_corpus("negative/add_hal7.vmfb", negative, sizeof(negative))) {
    const char* hal7[1] = {negative};
    Ireed__Frame* reply =
        ireed_test_load(&client, "hal7", NULL, hal7, 1, NULL, NULL);
    assert_int_equal(reply->body_case, IREED__FRAME__BODY_ERROR);
    assert_non_null(strstr(reply->error->message, "loading model 'hal7'"));
    ireed__frame__free_unpacked(reply, NULL);
  }
  // A name already taken by other files.
  assert_true(load_simple_mul(&client, "taken", "local-sync"));
  const char* adds[1] = {other};
  ireed_test_expect_error(
      ireed_test_load(&client, "taken", "local-sync", adds, 1, NULL, NULL),
      IRT_STATUS_ALREADY_EXISTS, "already loaded");
  ireed_test_expect_error(
      ireed_test_load(&client, "taken", "local-task", modules, 1, NULL, NULL),
      IRT_STATUS_ALREADY_EXISTS, "already loaded");
  // The failed loads left nothing behind: their names are free.
  assert_true(load_simple_mul(&client, "m", NULL));
  ireed_test_client_close(&client);
}

static void test_parameters(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  char module[512], weights[512], zero[512];
  if (!ireed_test_corpus("v3.11/scale.vmfb", module, sizeof(module)) ||
      !ireed_test_corpus("v3.11/scale_weights.irpa", weights,
                         sizeof(weights)) ||
      !ireed_test_corpus("v3.11/scale_weights_zero.irpa", zero, sizeof(zero))) {
    ireed_test_client_close(&client);
    skip();
  }
  const char* modules[1] = {module};
  Ireed__Frame* reply =
      ireed_test_load(&client, "scale", NULL, modules, 1, "model", weights);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  reply = ireed_test_load(&client, "scale0", "local-sync", modules, 1, "model",
                          zero);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LOAD_MODEL_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  static const float x[4] = {1, 2, 3, 4}, doubled[4] = {2, 4, 6, 8},
                     zeros[4] = {0, 0, 0, 0};
  ireed_test_tensor_t input;
  ireed_test_tensor_inline(&input, x, 4);
  ireed_test_invoke_t invoke;
  ireed_test_invoke_init(&invoke, "scale", "scale", &input, 1);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, doubled, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_invoke_init(&invoke, "scale0", "scale", &input, 1);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, zeros, 4);
  ireed__frame__free_unpacked(reply, NULL);
  // Without its archive the module's initializer fails the load.
  reply =
      ireed_test_load(&client, "scale_missing", NULL, modules, 1, NULL, NULL);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_ERROR);
  assert_non_null(strstr(reply->error->message, "scope"));
  ireed__frame__free_unpacked(reply, NULL);
  const char* bad = "/nonexistent/w.irpa";
  ireed_test_expect_error(
      ireed_test_load(&client, "scale_bad", NULL, modules, 1, "model", bad),
      IRT_STATUS_NOT_FOUND, "parameter archive '/nonexistent/w.irpa'");
  ireed_test_client_close(&client);
}

//===----------------------------------------------------------------------===//
// Shared memory
//===----------------------------------------------------------------------===//

static void test_shared_memory(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  uint8_t* memory = NULL;
  int fd = ireed_test_memfd(4096, F_SEAL_SHRINK, &memory);
  uint64_t region = ireed_test_register(&client, fd, 4096);
  float* floats = (float*)memory;
  for (int i = 0; i < 4; ++i) {
    floats[i] = (float)(i + 1);        // offset 0 (aligned)
    floats[16 + i] = 2.0f;             // offset 64 (aligned)
    floats[33 + i] = (float)(10 * i);  // offset 132 (misaligned: copied)
  }
  static const float product[4] = {2, 4, 6, 8};
  ireed_test_tensor_t inputs[2];
  ireed_test_tensor_shm(&inputs[0], 4, region, 0);
  ireed_test_tensor_shm(&inputs[1], 4, region, 64);
  ireed_test_invoke_t invoke;
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  Ireed__Frame* reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, product, 4);
  ireed__frame__free_unpacked(reply, NULL);

  // Misaligned input, result written into the region.
  static const float tens[4] = {0, 20, 40, 60};
  ireed_test_tensor_shm(&inputs[0], 4, region, 132);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_invoke_output_shm(&invoke, 0, region, 1024, 64);
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
  const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
  assert_int_equal(tensor->data_case, IREED__TENSOR__DATA_SHM);
  assert_int_equal(tensor->shm->region_id, region);
  assert_int_equal(tensor->shm->offset, 1024);
  assert_int_equal(tensor->shm->length, 16);
  assert_memory_equal(memory + 1024, tens, sizeof(tens));
  ireed__frame__free_unpacked(reply, NULL);

  // Output slices too small or out of range.
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_invoke_output_shm(&invoke, 0, region, 1024, 8);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_OUT_OF_RANGE, "holds 8");
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_invoke_output_shm(&invoke, 0, region, 4090, 16);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_OUT_OF_RANGE, "exceeds region");
  ireed_test_tensor_shm(&inputs[0], 4, region, 4088);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_OUT_OF_RANGE, "exceeds region");

  // Registration errors: no seal, no descriptor, too large a size.
  uint8_t* loose_memory = NULL;
  int loose = ireed_test_memfd(4096, 0, &loose_memory);
  Ireed__RegisterShmRequest request = IREED__REGISTER_SHM_REQUEST__INIT;
  request.size = 4096;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_REGISTER_SHM;
  frame.register_shm = &request;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, loose),
                          IRT_STATUS_FAILED_PRECONDITION, "F_SEAL_SHRINK");
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_INVALID_ARGUMENT,
                          "without a file descriptor");
  request.size = 8192;
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, fd),
                          IRT_STATUS_FAILED_PRECONDITION, "less than");
  // Write-sealed regions serve inputs but not outputs.
  uint8_t* sealed_memory = NULL;
  int sealed = ireed_test_memfd(4096, 0, &sealed_memory);
  memcpy(sealed_memory, product, sizeof(product));
  munmap(sealed_memory, 4096);
  assert_int_equal(
      fcntl(sealed, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE),
      0);
  uint64_t read_only = ireed_test_register(&client, sealed, 4096);
  ireed_test_tensor_shm(&inputs[0], 4, read_only, 0);
  ireed_test_tensor_shm(&inputs[1], 4, region, 64);
  ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
  static const float doubled[4] = {4, 8, 12, 16};
  reply = ireed_test_client_call(&client, &invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, doubled, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_invoke_output_shm(&invoke, 0, read_only, 0, 16);
  ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                          IRT_STATUS_PERMISSION_DENIED,
                          "sealed against writes");

  // Unregistering: once, then the id is unknown.
  Ireed__UnregisterShmRequest unregister = IREED__UNREGISTER_SHM_REQUEST__INIT;
  unregister.region_id = read_only;
  frame.body_case = IREED__FRAME__BODY_UNREGISTER_SHM;
  frame.unregister_shm = &unregister;
  reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_UNREGISTER_SHM_REPLY);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_NOT_FOUND, "no shared-memory region");
  close(sealed);
  close(loose);
  munmap(loose_memory, 4096);
  close(fd);
  munmap(memory, 4096);
  ireed_test_client_close(&client);
}

// Invocations queued ahead of an unregister still read the region: the
// daemon keeps it mapped until they are done.
// A CUDA model (the cuda build of the GPU fixtures) served from a pinned
// region: inputs used in place, outputs copied into the region by DMA or
// returned inline. Skips without the fixture (no nvcc) or without a GPU.
static void test_shared_memory_cuda(void** state) {
  (void)state;
  const char* build = getenv("IREED_BUILD_DIR");
  char path[512];
  snprintf(path, sizeof(path), "%s/tests/fixtures/ops_cuda.vmfb",
           build ? build : ".");
  if (access(path, R_OK) != 0) {
    print_message("SKIP: no cuda fixtures at %s (nvcc was not found)\n", path);
    skip();
  }
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  const char* modules[1] = {path};
  Ireed__Frame* reply =
      ireed_test_load(&client, "gpu", "cuda", modules, 1, NULL, NULL);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    print_message("SKIP: no CUDA device: %s\n", reply->error->message);
    ireed__frame__free_unpacked(reply, NULL);
    ireed_test_client_close(&client);
    skip();
  }
  ireed__frame__free_unpacked(reply, NULL);
  enum { N = 1000 };
  uint8_t* memory = NULL;
  int fd = ireed_test_memfd(3 * 4096, F_SEAL_SHRINK, &memory);
  uint64_t region = ireed_test_register(&client, fd, 3 * 4096);
  float* floats = (float*)memory;
  float product[N];
  for (int i = 0; i < N; ++i) {
    floats[i] = (float)i;             // offset 0
    floats[1024 + i] = 3.0f;          // offset 4096
    product[i] = 3.0f * (float)i;
  }
  ireed_test_tensor_t inputs[2];
  ireed_test_tensor_shm(&inputs[0], N, region, 0);
  ireed_test_tensor_shm(&inputs[1], N, region, 4096);
  ireed_test_invoke_t invoke;
  for (int round = 0; round < 2; ++round) {
    ireed_test_invoke_init(&invoke, "gpu", "mul", inputs, 2);
    reply = ireed_test_client_call(&client, &invoke.frame, -1);
    ireed_test_expect_f32(reply, 0, product, N);  // inline
    ireed__frame__free_unpacked(reply, NULL);
    memset(memory + 8192, 0, 4096);
    ireed_test_invoke_init(&invoke, "gpu", "mul", inputs, 2);
    ireed_test_invoke_output_shm(&invoke, 0, region, 8192, 4096);
    reply = ireed_test_client_call(&client, &invoke.frame, -1);
    assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
    const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
    assert_int_equal(tensor->data_case, IREED__TENSOR__DATA_SHM);
    assert_int_equal(tensor->shm->length, sizeof(product));
    assert_memory_equal(memory + 8192, product, sizeof(product));
    ireed__frame__free_unpacked(reply, NULL);
  }
  close(fd);
  munmap(memory, 3 * 4096);
  ireed_test_client_close(&client);
}

static void test_unregister_while_in_use(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  enum { kRounds = 5, kInvocations = 64 };
  for (int round = 0; round < kRounds; ++round) {
    uint8_t* memory = NULL;
    int fd = ireed_test_memfd(65536, F_SEAL_SHRINK, &memory);
    uint64_t region = ireed_test_register(&client, fd, 65536);
    close(fd);  // the daemon's mapping is all that keeps it now
    float* floats = (float*)memory;
    for (int i = 0; i < kInvocations * 4; ++i) floats[i] = (float)i;
    uint64_t ids[kInvocations];
    for (int i = 0; i < kInvocations; ++i) {
      ireed_test_tensor_t inputs[2];
      ireed_test_tensor_shm(&inputs[0], 4, region, (uint64_t)i * 16);
      ireed_test_tensor_shm(&inputs[1], 4, region, (uint64_t)i * 16);
      ireed_test_invoke_t invoke;
      ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
      // Every other result lands in the region itself.
      if (i % 2) {
        ireed_test_invoke_output_shm(&invoke, 0, region,
                                     32768 + (uint64_t)i * 16, 16);
      }
      ids[i] = ireed_test_client_send(&client, &invoke.frame, -1);
    }
    Ireed__UnregisterShmRequest unregister =
        IREED__UNREGISTER_SHM_REQUEST__INIT;
    unregister.region_id = region;
    Ireed__Frame frame = IREED__FRAME__INIT;
    frame.body_case = IREED__FRAME__BODY_UNREGISTER_SHM;
    frame.unregister_shm = &unregister;
    uint64_t unregister_id = ireed_test_client_send(&client, &frame, -1);
    int answered = 0;
    bool unregistered = false;
    while (answered < kInvocations || !unregistered) {
      Ireed__Frame* reply = ireed_test_client_receive(&client);
      assert_non_null(reply);
      if (reply->request_id == unregister_id) {
        assert_int_equal(reply->body_case,
                         IREED__FRAME__BODY_UNREGISTER_SHM_REPLY);
        unregistered = true;
      } else {
        int i = -1;
        for (int j = 0; j < kInvocations; ++j) {
          if (ids[j] == reply->request_id) i = j;
        }
        assert_true(i >= 0);
        float expected[4];
        for (int k = 0; k < 4; ++k) {
          float x = (float)(i * 4 + k);
          expected[k] = x * x;
        }
        if (i % 2) {
          assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
          assert_memory_equal(memory + 32768 + i * 16, expected,
                              sizeof(expected));
        } else {
          ireed_test_expect_f32(reply, 0, expected, 4);
        }
        ++answered;
      }
      ireed__frame__free_unpacked(reply, NULL);
    }
    // The id is gone now.
    ireed_test_tensor_t inputs[2];
    ireed_test_tensor_shm(&inputs[0], 4, region, 0);
    ireed_test_tensor_shm(&inputs[1], 4, region, 0);
    ireed_test_invoke_t invoke;
    ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
    ireed_test_expect_error(ireed_test_client_call(&client, &invoke.frame, -1),
                            IRT_STATUS_NOT_FOUND, "no shared-memory region");
    munmap(memory, 65536);
  }
  ireed_test_client_close(&client);
}

//===----------------------------------------------------------------------===//
// Load
//===----------------------------------------------------------------------===//

enum { kClients = 32, kInvocationsPerClient = 1000 };

typedef struct concurrent_client_s {
  pthread_t thread;
  int index;
  int failures;
  char message[256];
} concurrent_client_t;

static void concurrent_fail(concurrent_client_t* client, const char* what) {
  if (client->failures++ == 0) {
    snprintf(client->message, sizeof(client->message), "client %d: %s",
             client->index, what);
  }
}

// No cmocka asserts on these threads: failures are counted and reported by
// the main thread.
static void* concurrent_client_main(void* arg) {
  concurrent_client_t* self = arg;
  ireed_test_client_t client;
  memset(&client, 0, sizeof(client));
  client.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s",
           g_daemon.socket_path);
  if (connect(client.fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
    concurrent_fail(self, "connect failed");
    close(client.fd);
    return NULL;
  }
  ireed_frame_reader_initialize(&client.reader, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                                irt_allocator_system());
  // Hello, then the invocations back to back.
  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  Ireed__Frame hello_frame = IREED__FRAME__INIT;
  hello_frame.body_case = IREED__FRAME__BODY_HELLO;
  hello_frame.hello = &hello;
  uint8_t* data = NULL;
  size_t size = 0;
  if (ireed_frame_encode(&hello_frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                         irt_allocator_system(), &data, &size) != IRT_OK ||
      send(client.fd, data, size, MSG_NOSIGNAL) != (ssize_t)size) {
    concurrent_fail(self, "sending Hello failed");
  }
  free(data);
  bool hello_answered = false;
  for (int i = 0; i < kInvocationsPerClient && !self->failures; ++i) {
    float a[4], b[4], expected[4];
    for (int k = 0; k < 4; ++k) {
      a[k] = (float)(self->index + 1);
      b[k] = (float)(i * 4 + k);
      expected[k] = a[k] * b[k];
    }
    ireed_test_tensor_t inputs[2];
    ireed_test_tensor_inline(&inputs[0], a, 4);
    ireed_test_tensor_inline(&inputs[1], b, 4);
    ireed_test_invoke_t invoke;
    ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
    invoke.frame.request_id = (uint64_t)i + 1000;
    if (ireed_frame_encode(&invoke.frame, IREED_FRAME_ABSOLUTE_MAX_SIZE,
                           irt_allocator_system(), &data, &size) != IRT_OK ||
        send(client.fd, data, size, MSG_NOSIGNAL) != (ssize_t)size) {
      concurrent_fail(self, "sending an invocation failed");
    }
    free(data);
    // Read until this invocation's reply arrived.
    for (;;) {
      Ireed__Frame* reply = NULL;
      if (ireed_frame_reader_next(&client.reader, &reply) != IRT_OK) {
        concurrent_fail(self, "undecodable reply");
        break;
      }
      if (!reply) {
        uint8_t buffer[4096];
        ssize_t received = recv(client.fd, buffer, sizeof(buffer), 0);
        if (received <= 0) {
          concurrent_fail(self, "connection closed");
          break;
        }
        if (ireed_frame_reader_append(&client.reader, buffer,
                                      (size_t)received) != IRT_OK) {
          concurrent_fail(self, "reader failed");
          break;
        }
        continue;
      }
      bool done = false;
      if (reply->body_case == IREED__FRAME__BODY_HELLO && !hello_answered) {
        hello_answered = true;
      } else if (reply->request_id != (uint64_t)i + 1000 ||
                 reply->body_case != IREED__FRAME__BODY_INVOKE_REPLY) {
        concurrent_fail(self, reply->body_case == IREED__FRAME__BODY_ERROR
                                  ? reply->error->message
                                  : "unexpected reply");
        done = true;
      } else {
        const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
        if (tensor->inline_data.len != sizeof(expected) ||
            memcmp(tensor->inline_data.data, expected, sizeof(expected))) {
          concurrent_fail(self, "wrong result");
        }
        done = true;
      }
      ireed__frame__free_unpacked(reply, NULL);
      if (done) break;
    }
  }
  ireed_test_client_close(&client);
  return NULL;
}

static void test_concurrent_clients(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  concurrent_client_t clients[kClients];
  for (int i = 0; i < kClients; ++i) {
    memset(&clients[i], 0, sizeof(clients[i]));
    clients[i].index = i;
    assert_int_equal(pthread_create(&clients[i].thread, NULL,
                                    concurrent_client_main, &clients[i]),
                     0);
  }
  int failures = 0;
  for (int i = 0; i < kClients; ++i) {
    pthread_join(clients[i].thread, NULL);
    if (clients[i].failures) {
      fprintf(stderr, "%s\n", clients[i].message);
      ++failures;
    }
  }
  assert_int_equal(failures, 0);
  // Every invocation reached the model.
  Ireed__ListModelsRequest list = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &list;
  Ireed__Frame* reply = ireed_test_client_call(&client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LIST_MODELS_REPLY);
  uint64_t invocations = 0;
  for (size_t i = 0; i < reply->list_models_reply->n_models; ++i) {
    const Ireed__ModelInfo* info = reply->list_models_reply->models[i];
    if (strcmp(info->name, "mul") == 0) invocations = info->invocations;
  }
  assert_true(invocations >= kClients * kInvocationsPerClient);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
}

// The victim of test_client_killed: 256 invocations in flight, their
// inputs and outputs in its region.
static void flood_invocations(int ready_fd) {
  ireed_test_client_t victim;
  ireed_test_client_connect(&victim, &g_daemon);
  uint8_t* memory = NULL;
  int fd = ireed_test_memfd(1 << 20, F_SEAL_SHRINK, &memory);
  uint64_t region = ireed_test_register(&victim, fd, 1 << 20);
  for (int i = 0; i < 256; ++i) {
    ireed_test_tensor_t inputs[2];
    ireed_test_tensor_shm(&inputs[0], 4, region, (uint64_t)i * 64);
    ireed_test_tensor_shm(&inputs[1], 4, region, (uint64_t)i * 64);
    ireed_test_invoke_t invoke;
    ireed_test_invoke_init(&invoke, "mul", "simple_mul", inputs, 2);
    ireed_test_invoke_output_shm(&invoke, 0, region,
                                 (1 << 19) + (uint64_t)i * 64, 16);
    ireed_test_client_send(&victim, &invoke.frame, -1);
    if (i == 16) (void)!write(ready_fd, "x", 1);
  }
  for (;;) pause();
}

// A client killed with invocations in flight (and its region in use) leaves
// the daemon serving everyone else.
static void test_client_killed(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "mul", NULL)) {
    ireed_test_client_close(&client);
    skip();
  }
  for (unsigned round = 0; round < 4; ++round) {
    ireed_test_kill_child(flood_invocations, 1000 * round);
    static const float a[4] = {1, 2, 3, 4}, squares[4] = {1, 4, 9, 16};
    Ireed__Frame* reply = invoke_simple_mul(&client, "mul", a, a);
    ireed_test_expect_f32(reply, 0, squares, 4);
    ireed__frame__free_unpacked(reply, NULL);
  }
  ireed_test_client_close(&client);
}

// Unload waits for the invocations in flight; afterwards the name is free.
static void test_unload(void** state) {
  (void)state;
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  if (!load_simple_mul(&client, "gone", "local-sync")) {
    ireed_test_client_close(&client);
    skip();
  }
  static const float a[4] = {1, 2, 3, 4}, squares[4] = {1, 4, 9, 16};
  enum { kInvocations = 32 };
  for (int i = 0; i < kInvocations; ++i) {
    ireed_test_tensor_t inputs[2];
    ireed_test_tensor_inline(&inputs[0], a, 4);
    ireed_test_tensor_inline(&inputs[1], a, 4);
    ireed_test_invoke_t invoke;
    ireed_test_invoke_init(&invoke, "gone", "simple_mul", inputs, 2);
    ireed_test_client_send(&client, &invoke.frame, -1);
  }
  Ireed__UnloadModelRequest unload = IREED__UNLOAD_MODEL_REQUEST__INIT;
  unload.name = "gone";
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL;
  frame.unload_model = &unload;
  uint64_t unload_id = ireed_test_client_send(&client, &frame, -1);
  int invocations = 0;
  for (;;) {
    Ireed__Frame* reply = ireed_test_client_receive(&client);
    assert_non_null(reply);
    if (reply->request_id == unload_id) {
      assert_int_equal(reply->body_case, IREED__FRAME__BODY_UNLOAD_MODEL_REPLY);
      ireed__frame__free_unpacked(reply, NULL);
      break;
    }
    ireed_test_expect_f32(reply, 0, squares, 4);
    ireed__frame__free_unpacked(reply, NULL);
    ++invocations;
  }
  // Every invocation sent before the unload was answered before it.
  assert_int_equal(invocations, kInvocations);
  Ireed__Frame* reply = invoke_simple_mul(&client, "gone", a, a);
  ireed_test_expect_error(reply, IRT_STATUS_NOT_FOUND, "no model named");
  ireed_test_expect_error(ireed_test_client_call(&client, &frame, -1),
                          IRT_STATUS_NOT_FOUND, "no model named 'gone'");
  // Load it again, on another device this time.
  assert_true(load_simple_mul(&client, "gone", "local-task"));
  reply = invoke_simple_mul(&client, "gone", a, a);
  ireed_test_expect_f32(reply, 0, squares, 4);
  ireed__frame__free_unpacked(reply, NULL);
  ireed_test_client_close(&client);
}

// Coarse-fences exports run through their fences: the worker schedules the
// work and moves on; the reply goes out when the signal fence is reached.
static void test_async_exports(void** state) {
  (void)state;
  char path[160];
  assert_null(async_module_write(g_daemon.directory, path, sizeof(path)));
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &g_daemon);
  const char* modules[1] = {path};
  const char* devices[2] = {"local-task", "local-sync"};
  const char* names[2] = {"pipe", "pipe_sync"};
  for (int d = 0; d < 2; ++d) {
    Ireed__Frame* reply =
        ireed_test_load(&client, names[d], devices[d], modules, 1, NULL, NULL);
    if (reply->body_case == IREED__FRAME__BODY_ERROR) {
      fail_msg("loading the async module: %s", reply->error->message);
    }
    const Ireed__ModelInfo* info = reply->load_model_reply->model;
    assert_int_equal(info->n_functions, 3);
    ireed__frame__free_unpacked(reply, NULL);
    uint8_t* memory = NULL;
    int fd = ireed_test_memfd(65536, F_SEAL_SHRINK, &memory);
    uint64_t region = ireed_test_register(&client, fd, 65536);
    close(fd);
    // Pipelined on one connection: inline and zero-copy region inputs,
    // results inline and into the region, through all three exports.
    enum { kInvocations = 96 };
    static const char* kFunctions[3] = {"echo", "echo$async", "id"};
    uint64_t ids[kInvocations];
    for (int i = 0; i < kInvocations; ++i) {
      float* values = (float*)(memory + i * 64);
      for (int k = 0; k < 4; ++k) values[k] = (float)(i * 4 + k);
      ireed_test_tensor_t input;
      if (i % 2) {
        ireed_test_tensor_shm(&input, 4, region, (uint64_t)i * 64);
      } else {
        ireed_test_tensor_inline(&input, values, 4);
      }
      ireed_test_invoke_t invoke;
      ireed_test_invoke_init(&invoke, names[d], kFunctions[i % 3], &input, 1);
      if (i % 4 == 1) {
        ireed_test_invoke_output_shm(&invoke, 0, region,
                                     32768 + (uint64_t)i * 64, 16);
      }
      ids[i] = ireed_test_client_send(&client, &invoke.frame, -1);
    }
    for (int answered = 0; answered < kInvocations; ++answered) {
      reply = ireed_test_client_receive(&client);
      assert_non_null(reply);
      int i = -1;
      for (int j = 0; j < kInvocations; ++j) {
        if (ids[j] == reply->request_id) i = j;
      }
      assert_true(i >= 0);
      float expected[4];
      for (int k = 0; k < 4; ++k) expected[k] = (float)(i * 4 + k);
      if (i % 4 == 1) {
        if (reply->body_case == IREED__FRAME__BODY_ERROR) {
          fail_msg("invocation %d: %s", i, reply->error->message);
        }
        assert_memory_equal(memory + 32768 + i * 64, expected,
                            sizeof(expected));
      } else {
        ireed_test_expect_f32(reply, 0, expected, 4);
      }
      ireed__frame__free_unpacked(reply, NULL);
    }
    munmap(memory, 65536);
  }
  ireed_test_client_close(&client);
  unlink(path);
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s PATH/TO/ireed\n", argv[0]);
    return 2;
  }
  g_ireed_binary = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hello_and_status),
      cmocka_unit_test(test_first_frame_must_be_hello),
      cmocka_unit_test(test_major_version_mismatch),
      cmocka_unit_test(test_malformed_frame),
      cmocka_unit_test(test_oversized_frame),
      cmocka_unit_test(test_truncated_frame),
      cmocka_unit_test(test_load_list_invoke),
      cmocka_unit_test(test_invoke_errors),
      cmocka_unit_test(test_load_errors),
      cmocka_unit_test(test_parameters),
      cmocka_unit_test(test_shared_memory),
      cmocka_unit_test(test_shared_memory_cuda),
      cmocka_unit_test(test_unregister_while_in_use),
      cmocka_unit_test(test_concurrent_clients),
      cmocka_unit_test(test_client_killed),
      cmocka_unit_test(test_unload),
      cmocka_unit_test(test_async_exports),
  };
  return cmocka_run_group_tests(tests, setup_daemon, teardown_daemon);
}
