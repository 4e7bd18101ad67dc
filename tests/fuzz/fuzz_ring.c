// libFuzzer target for what the daemon reads from a client's submission
// ring (proto/ring.c): the input is taken as ring memory, whose header is
// checked (ireed_ring_read_layout) and whose queue is drained with
// ireed_ring_take exactly as the daemon's thread does, each request it
// copies out then decoded (ireed_ring_decode_request); the whole input is
// also decoded as a request and as a reply (ireed_ring_decode_reply with
// malloc and into an arena: the client's side). Nothing may read out of
// bounds, leak or trip UBSan, and a decoded request must say no more than
// its bytes could hold. Built with -Dfuzzing=true (clang):
//   build-fuzz/tests/fuzz/fuzz_ring CORPUS
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/ring.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

// An arena for decoded requests, as the daemon's worker scratch is.
typedef struct fuzz_arena_s {
  void* blocks[4096];
  size_t count;
} fuzz_arena_t;

static void* fuzz_alloc(void* user_data, size_t size) {
  fuzz_arena_t* arena = user_data;
  if (arena->count == sizeof(arena->blocks) / sizeof(arena->blocks[0])) {
    return NULL;
  }
  void* block = malloc(size);
  if (block) arena->blocks[arena->count++] = block;
  return block;
}

static void fuzz_free(void* user_data, void* pointer) {
  (void)user_data;
  (void)pointer;  // the arena frees everything at once
}

static void fuzz_decode_request(const uint8_t* data, size_t size) {
  fuzz_arena_t arena = {.count = 0};
  ProtobufCAllocator allocator = {fuzz_alloc, fuzz_free, &arena};
  uint64_t request_id = 0;
  Ireed__InvokeRequest* request = NULL;
  irt_status_t status =
      ireed_ring_decode_request(data, size, &allocator, &request_id, &request);
  if (irt_status_is_ok(status)) {
    // Every value took at least 4 bytes of the request.
    if ((request->n_inputs + request->n_outputs) * 4 > size) __builtin_trap();
    for (size_t i = 0; i < request->n_inputs; ++i) {
      const Ireed__Value* value = request->inputs[i];
      if (value->kind_case == IREED__VALUE__KIND_TENSOR &&
          value->tensor->data_case == IREED__TENSOR__DATA_INLINE_DATA &&
          (value->tensor->inline_data.data < data ||
           value->tensor->inline_data.data + value->tensor->inline_data.len >
               data + size)) {
        __builtin_trap();
      }
    }
  }
  irt_status_free(status);
  for (size_t i = 0; i < arena.count; ++i) free(arena.blocks[i]);
}

// A reply decoded into an arena, as libireeclient decodes them.
static void fuzz_decode_reply_in_arena(const uint8_t* data, size_t size) {
  fuzz_arena_t arena = {.count = 0};
  ProtobufCAllocator allocator = {fuzz_alloc, fuzz_free, &arena};
  Ireed__Frame* frame = NULL;
  irt_status_free(ireed_ring_decode_reply(data, size, &allocator, &frame));
  for (size_t i = 0; i < arena.count; ++i) free(arena.blocks[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fuzz_decode_request(data, size);
  fuzz_decode_reply_in_arena(data, size);
  Ireed__Frame* frame = NULL;
  irt_status_t status = ireed_ring_decode_reply(data, size, NULL, &frame);
  if (frame) ireed__frame__free_unpacked(frame, NULL);
  irt_status_free(status);

  // As ring memory: a private, aligned, writable copy (the daemon maps the
  // client's memfd read-write and publishes its tail in it).
  uint8_t* memory = aligned_alloc(64, (size + 63) / 64 * 64 + 64);
  if (!memory) return 0;
  memcpy(memory, data, size);
  ireed_ring_layout_t layout;
  status = ireed_ring_read_layout(memory, size, &layout);
  if (irt_status_is_ok(status)) {
    uint8_t* buffer = malloc(ireed_ring_slot_capacity(&layout));
    uint32_t tail = 0;
    for (int i = 0; i < 64 && buffer; ++i) {
      uint32_t slot = IREED_RING_NO_SLOT, request_size = 0;
      bool taken = false;
      status = ireed_ring_take(memory, &layout, &tail, buffer, &slot,
                               &request_size, &taken);
      if (!taken) break;
      if (irt_status_is_ok(status)) {
        if (slot >= layout.slot_count) __builtin_trap();
        fuzz_decode_request(buffer, request_size);
      }
      irt_status_free(status);
      status = IRT_OK;
    }
    free(buffer);
  }
  irt_status_free(status);
  free(memory);
  return 0;
}
