// libFuzzer target for what the daemon does with a client's bytes before
// any model runs: the frame reader (proto/frame.c) fed in chunks whose size
// comes from the input, protobuf decoding of every complete frame, and the
// daemon's request checks (daemon/invocation.c) of each InvokeRequest
// against a fixed signature and a real registered region. Nothing may read
// out of bounds, leak or trip UBSan; a request that passes the checks must
// name only ranges inside its region. Built with -Dfuzzing=true (clang):
//   build-fuzz/tests/fuzz/fuzz_frame -dict=tests/fuzz/frame.dict CORPUS
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/invocation.h"
#include "daemon/region.h"
#include "proto/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

#define FUZZ_REGION_SIZE 4096

// One region registered once per process (a sealed memfd, as clients make).
static ireed_region_table_t* fuzz_regions(void) {
  static ireed_region_table_t table;
  static int initialized;
  if (initialized) return &table;
  initialized = 1;
  ireed_region_table_initialize(&table, irt_allocator_system());
  int fd = memfd_create("fuzz", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate(fd, FUZZ_REGION_SIZE) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) != 0) {
    __builtin_trap();
  }
  ireed_region_t* region = NULL;
  irt_status_t status = ireed_region_map(fd, FUZZ_REGION_SIZE, 1,
                                         irt_allocator_system(), &region);
  if (status || ireed_region_table_insert(&table, region)) __builtin_trap();
  close(fd);
  return &table;
}

// Every range a checked request names lies inside the region.
static void fuzz_check_slice(const Ireed__ShmSlice* slice) {
  if (slice->offset > FUZZ_REGION_SIZE ||
      slice->length > FUZZ_REGION_SIZE - slice->offset) {
    __builtin_trap();
  }
}

static void fuzz_prepare(const Ireed__InvokeRequest* request) {
  // A function taking two tensors, an i32 and an f64, returning two values.
  irsess_function_t function = {0};
  function.name = irt_make_cstring_view("f");
  function.arguments = irt_make_cstring_view("rriF");
  function.results = irt_make_cstring_view("rr");
  ireed_region_t* regions[6];
  irt_status_t status =
      ireed_invocation_prepare(request, &function, fuzz_regions(), regions);
  if (status) {
    irt_status_free(status);
    return;
  }
  for (size_t i = 0; i < request->n_inputs; ++i) {
    const Ireed__Value* value = request->inputs[i];
    if (value->kind_case == IREED__VALUE__KIND_TENSOR &&
        value->tensor->data_case == IREED__TENSOR__DATA_SHM) {
      if (!regions[i]) __builtin_trap();
      fuzz_check_slice(value->tensor->shm);
    }
  }
  for (size_t i = 0; i < request->n_outputs; ++i) {
    if (request->outputs[i]->shm) fuzz_check_slice(request->outputs[i]->shm);
  }
  for (size_t i = 0; i < request->n_inputs + request->n_outputs; ++i) {
    ireed_region_release(regions[i]);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks how the stream arrives: in chunks of 1..256 bytes.
  size_t chunk = (size_t)data[0] + 1;
  ++data;
  --size;
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, 1u << 20, irt_allocator_system());
  for (size_t offset = 0; offset < size;) {
    size_t length = size - offset < chunk ? size - offset : chunk;
    irt_status_t status =
        ireed_frame_reader_append(&reader, data + offset, length);
    offset += length;
    if (status) {
      irt_status_free(status);
      break;  // the daemon closes the connection here
    }
    for (;;) {
      Ireed__Frame* frame = NULL;
      status = ireed_frame_reader_next(&reader, &frame);
      if (status) {
        irt_status_free(status);
        offset = size;  // closed
        break;
      }
      if (!frame) break;
      if (frame->body_case == IREED__FRAME__BODY_INVOKE) {
        fuzz_prepare(frame->invoke);
      }
      ireed__frame__free_unpacked(frame, NULL);
    }
  }
  ireed_frame_reader_deinitialize(&reader);
  // The whole input as one payload as well.
  Ireed__Frame* frame = NULL;
  irt_status_t status = ireed_frame_decode_payload(data, size, &frame);
  if (status) {
    irt_status_free(status);
  } else {
    if (frame->body_case == IREED__FRAME__BODY_INVOKE) {
      fuzz_prepare(frame->invoke);
    }
    ireed__frame__free_unpacked(frame, NULL);
  }
  return 0;
}
