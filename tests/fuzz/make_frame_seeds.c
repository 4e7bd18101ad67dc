// Writes seed inputs for fuzz_frame into a directory: framed requests of
// every kind, InvokeRequests that pass the daemon's checks (inline and
// region tensors, scalars, output targets) and ones that fail each check.
// Each seed starts with the chunk-size byte fuzz_frame reads first.
//   build-fuzz/tests/fuzz/fuzz_make_frame_seeds DIR
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

static const char* g_directory;
static int g_count;

static void write_seed(const Ireed__Frame* frame, uint8_t chunk) {
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status =
      ireed_frame_encode(frame, IREED_FRAME_DEFAULT_MAX_SIZE,
                         irt_allocator_system(), &data, &size);
  if (status) {
    irt_status_free(status);
    fprintf(stderr, "encoding seed %d failed\n", g_count);
    exit(1);
  }
  char path[4096];
  snprintf(path, sizeof(path), "%s/frame_%03d", g_directory, g_count++);
  FILE* file = fopen(path, "wb");
  if (!file || fwrite(&chunk, 1, 1, file) != 1 ||
      fwrite(data, 1, size, file) != size || fclose(file) != 0) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  free(data);
}

// An InvokeRequest for fuzz_frame's signature "rriF" (two tensors, an i32,
// an f64), with |shm_offset| for the second tensor and an output target.
static void write_invoke(uint64_t shm_offset, uint64_t shm_length,
                         uint32_t element_type, size_t input_count,
                         bool output) {
  static uint8_t bytes[16] = {1, 2, 3, 4};
  uint64_t shape[1] = {4};
  Ireed__Tensor inline_tensor = IREED__TENSOR__INIT;
  inline_tensor.element_type = element_type;
  inline_tensor.n_shape = 1;
  inline_tensor.shape = shape;
  inline_tensor.data_case = IREED__TENSOR__DATA_INLINE_DATA;
  inline_tensor.inline_data.data = bytes;
  inline_tensor.inline_data.len = sizeof(bytes);
  Ireed__ShmSlice slice = IREED__SHM_SLICE__INIT;
  slice.region_id = 1;
  slice.offset = shm_offset;
  slice.length = shm_length;
  Ireed__Tensor shm_tensor = inline_tensor;
  shm_tensor.data_case = IREED__TENSOR__DATA_SHM;
  shm_tensor.shm = &slice;
  Ireed__Value values[4] = {IREED__VALUE__INIT, IREED__VALUE__INIT,
                            IREED__VALUE__INIT, IREED__VALUE__INIT};
  values[0].kind_case = IREED__VALUE__KIND_TENSOR;
  values[0].tensor = &inline_tensor;
  values[1].kind_case = IREED__VALUE__KIND_TENSOR;
  values[1].tensor = &shm_tensor;
  values[2].kind_case = IREED__VALUE__KIND_I32;
  values[2].i32 = 7;
  values[3].kind_case = IREED__VALUE__KIND_F64;
  values[3].f64 = 0.5;
  Ireed__Value* inputs[4] = {&values[0], &values[1], &values[2], &values[3]};
  Ireed__ShmSlice target_slice = slice;
  target_slice.offset = 2048;
  Ireed__OutputTarget target = IREED__OUTPUT_TARGET__INIT;
  target.shm = &target_slice;
  Ireed__OutputTarget inline_target = IREED__OUTPUT_TARGET__INIT;
  Ireed__OutputTarget* outputs[2] = {&inline_target, &target};
  Ireed__InvokeRequest request = IREED__INVOKE_REQUEST__INIT;
  request.model = "m";
  request.function = "f";
  request.n_inputs = input_count;
  request.inputs = inputs;
  if (output) {
    request.n_outputs = 2;
    request.outputs = outputs;
  }
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = 1;
  frame.body_case = IREED__FRAME__BODY_INVOKE;
  frame.invoke = &request;
  write_seed(&frame, 255);
  write_seed(&frame, 3);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR\n", argv[0]);
    return 2;
  }
  g_directory = argv[1];
  const uint32_t kF32 = 0x21000020u;
  write_invoke(64, 16, kF32, 4, true);         // passes
  write_invoke(0, 16, kF32, 4, false);         // passes, no targets
  write_invoke(4090, 16, kF32, 4, true);       // out of range
  write_invoke(64, 12, kF32, 4, true);         // wrong length
  write_invoke(64, 16, 0x10000001u, 4, true);  // sub-byte type
  write_invoke(64, 16, kF32, 3, true);         // wrong count

  Ireed__Hello hello = IREED__HELLO__INIT;
  hello.protocol_major = 1;
  hello.software = "seed";
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_HELLO;
  frame.hello = &hello;
  write_seed(&frame, 255);
  Ireed__ParameterArchive archive = IREED__PARAMETER_ARCHIVE__INIT;
  archive.scope = "model";
  archive.path = "/w.irpa";
  Ireed__ParameterArchive* archives[1] = {&archive};
  char* paths[1] = {"/m.vmfb"};
  Ireed__LoadModelRequest load = IREED__LOAD_MODEL_REQUEST__INIT;
  load.name = "m";
  load.n_module_paths = 1;
  load.module_paths = paths;
  load.n_parameters = 1;
  load.parameters = archives;
  frame.body_case = IREED__FRAME__BODY_LOAD_MODEL;
  frame.load_model = &load;
  write_seed(&frame, 255);
  Ireed__RegisterShmRequest reg = IREED__REGISTER_SHM_REQUEST__INIT;
  reg.size = 4096;
  frame.body_case = IREED__FRAME__BODY_REGISTER_SHM;
  frame.register_shm = &reg;
  write_seed(&frame, 255);
  printf("%d seeds in %s\n", g_count, g_directory);
  return 0;
}
