#include "proto/ring.h"

#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void ireed_ring_format(uint8_t* base, const ireed_ring_layout_t* layout) {
  memset(base, 0, IREED_RING_SLOTS_OFFSET);
  ireed_ring_header_t* header = (ireed_ring_header_t*)base;
  header->magic = IREED_RING_MAGIC;
  header->version = IREED_RING_VERSION;
  header->slot_count = layout->slot_count;
  header->slot_size = layout->slot_size;
}

irt_status_t ireed_ring_read_layout(const uint8_t* base, uint64_t size,
                                    ireed_ring_layout_t* out_layout) {
  memset(out_layout, 0, sizeof(*out_layout));
  if (size < IREED_RING_SLOTS_OFFSET) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring of %llu bytes is smaller than its header",
                           (unsigned long long)size);
  }
  // Copied out once: the client may change the shared bytes at any time.
  uint32_t words[4];
  memcpy(words, base, sizeof(words));
  uint32_t magic = words[0], version = words[1], slot_count = words[2],
           slot_size = words[3];
  if (magic != IREED_RING_MAGIC || version != IREED_RING_VERSION) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring header: magic 0x%08x version %u (expected "
                           "0x%08x version %u)",
                           magic, version, IREED_RING_MAGIC,
                           IREED_RING_VERSION);
  }
  if (slot_count == 0 || slot_count > IREED_RING_MAX_SLOTS) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring header: %u slots (1 to %u allowed)",
                           slot_count, IREED_RING_MAX_SLOTS);
  }
  if (slot_size < IREED_RING_MIN_SLOT_SIZE ||
      slot_size > IREED_RING_MAX_SLOT_SIZE || slot_size % 64 != 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring header: slot size %u (a multiple of 64 from "
                           "%u to %u allowed)",
                           slot_size, IREED_RING_MIN_SLOT_SIZE,
                           IREED_RING_MAX_SLOT_SIZE);
  }
  uint64_t needed = ireed_ring_size(slot_count, slot_size);
  if (needed > size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring header: %u slots of %u bytes need %llu bytes "
                           "but the ring has %llu",
                           slot_count, slot_size, (unsigned long long)needed,
                           (unsigned long long)size);
  }
  out_layout->slot_count = slot_count;
  out_layout->slot_size = slot_size;
  out_layout->size = needed;
  return IRT_OK;
}

// Starts loading the header and the first request bytes of slot |index|
// (untrusted: ignored when out of range) so that they arrive alongside the
// queue entry instead of after it.
static void ireed_ring_prefetch_slot(const uint8_t* base,
                                     const ireed_ring_layout_t* layout,
                                     uint32_t index) {
  if (index >= layout->slot_count) return;
  const uint8_t* slot = base + IREED_RING_SLOTS_OFFSET +
                        (uint64_t)index * layout->slot_size;
  for (uint32_t line = 0; line < 4; ++line) {
    __builtin_prefetch(slot + 64 * line);
  }
}

irt_status_t ireed_ring_take(uint8_t* base, const ireed_ring_layout_t* layout,
                             uint32_t* tail, uint8_t* buffer,
                             uint32_t* out_slot, uint32_t* out_size,
                             bool* out_taken) {
  *out_slot = IREED_RING_NO_SLOT;
  *out_size = 0;
  *out_taken = false;
  ireed_ring_header_t* header = (ireed_ring_header_t*)base;
  uint32_t head =
      atomic_load_explicit(&header->submit_head, memory_order_acquire);
  uint32_t pending = head - *tail;  // wraps like the counters
  if (pending == 0) return IRT_OK;
  ireed_ring_prefetch_slot(
      base, layout,
      atomic_load_explicit(&header->submit_hint, memory_order_relaxed));
  if (pending > layout->slot_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "ring: submit_head %u is %u entries ahead of the "
                           "daemon's position %u (at most %u)",
                           head, pending, *tail, layout->slot_count);
  }
  uint32_t index = atomic_load_explicit(
      &header->queue[*tail % layout->slot_count], memory_order_relaxed);
  ++*tail;
  atomic_store_explicit(&header->submit_tail, *tail, memory_order_release);
  *out_taken = true;
  if (index >= layout->slot_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring: queue entry names slot %u of %u", index,
                           layout->slot_count);
  }
  *out_slot = index;
  ireed_ring_slot_t* slot = ireed_ring_slot(base, layout, index);
  uint32_t size =
      atomic_load_explicit(&slot->request_size, memory_order_relaxed);
  uint32_t capacity = ireed_ring_slot_capacity(layout);
  if (size == 0 || size > capacity) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ring: slot %u holds a request of %u bytes (1 to "
                           "%u allowed)",
                           index, size, capacity);
  }
  memcpy(buffer, slot->data, size);
  *out_size = size;
  return IRT_OK;
}

void ireed_futex_wait(_Atomic uint32_t* word, uint32_t expected,
                      int64_t timeout_ns) {
  struct timespec timeout = {
      .tv_sec = (time_t)(timeout_ns / 1000000000),
      .tv_nsec = (long)(timeout_ns % 1000000000),
  };
  syscall(SYS_futex, (uint32_t*)word, FUTEX_WAIT, expected,
          timeout_ns > 0 ? &timeout : NULL, NULL, 0);
}

void ireed_futex_wake(_Atomic uint32_t* word, int count) {
  syscall(SYS_futex, (uint32_t*)word, FUTEX_WAKE, count, NULL, NULL, 0);
}

//===----------------------------------------------------------------------===//
// Ring encoding
//===----------------------------------------------------------------------===//

typedef struct ireed_ring_writer_s {
  uint8_t* p;
  size_t left;
  bool ok;
} ireed_ring_writer_t;

static void ireed_ring_put(ireed_ring_writer_t* w, const void* bytes,
                           size_t size) {
  if (!w->ok || size > w->left) {
    w->ok = false;
    return;
  }
  memcpy(w->p, bytes, size);
  w->p += size;
  w->left -= size;
}

static void ireed_ring_put_u32(ireed_ring_writer_t* w, uint32_t value) {
  ireed_ring_put(w, &value, sizeof(value));
}

static void ireed_ring_put_u64(ireed_ring_writer_t* w, uint64_t value) {
  ireed_ring_put(w, &value, sizeof(value));
}

static void ireed_ring_put_slice(ireed_ring_writer_t* w,
                                 const Ireed__ShmSlice* slice) {
  ireed_ring_put_u64(w, slice->region_id);
  ireed_ring_put_u64(w, slice->offset);
  ireed_ring_put_u64(w, slice->length);
}

static void ireed_ring_put_value(ireed_ring_writer_t* w,
                                 const Ireed__Value* value) {
  ireed_ring_put_u32(w, (uint32_t)value->kind_case);
  uint64_t bits = 0;
  switch (value->kind_case) {
    case IREED__VALUE__KIND_I32:
      memcpy(&bits, &value->i32, sizeof(value->i32));
      break;
    case IREED__VALUE__KIND_I64:
      memcpy(&bits, &value->i64, sizeof(value->i64));
      break;
    case IREED__VALUE__KIND_F32:
      memcpy(&bits, &value->f32, sizeof(value->f32));
      break;
    case IREED__VALUE__KIND_F64:
      memcpy(&bits, &value->f64, sizeof(value->f64));
      break;
    case IREED__VALUE__KIND_TENSOR: {
      const Ireed__Tensor* tensor = value->tensor;
      ireed_ring_put_u32(w, tensor->element_type);
      ireed_ring_put_u32(w, (uint32_t)tensor->n_shape);
      ireed_ring_put(w, tensor->shape, tensor->n_shape * sizeof(uint64_t));
      ireed_ring_put_u32(w, (uint32_t)tensor->data_case);
      if (tensor->data_case == IREED__TENSOR__DATA_SHM) {
        ireed_ring_put_slice(w, tensor->shm);
      } else {
        ireed_ring_put_u64(w, tensor->inline_data.len);
        ireed_ring_put(w, tensor->inline_data.data, tensor->inline_data.len);
      }
      return;
    }
    default:
      return;
  }
  ireed_ring_put_u64(w, bits);
}

bool ireed_ring_encode_request(const Ireed__InvokeRequest* request,
                               uint64_t request_id, uint8_t* out,
                               size_t capacity, size_t* out_size) {
  ireed_ring_writer_t w = {out, capacity, true};
  size_t model_length = strlen(request->model);
  size_t function_length = strlen(request->function);
  if (request->n_inputs > IREED_RING_MAX_VALUES ||
      request->n_outputs > IREED_RING_MAX_VALUES || model_length > UINT32_MAX ||
      function_length > UINT32_MAX) {
    return false;
  }
  ireed_ring_put_u64(&w, request_id);
  ireed_ring_put_u32(&w, (uint32_t)model_length);
  ireed_ring_put_u32(&w, (uint32_t)function_length);
  ireed_ring_put_u32(&w, (uint32_t)request->n_inputs);
  ireed_ring_put_u32(&w, (uint32_t)request->n_outputs);
  ireed_ring_put(&w, request->model, model_length);
  ireed_ring_put(&w, request->function, function_length);
  for (size_t i = 0; i < request->n_inputs; ++i) {
    ireed_ring_put_value(&w, request->inputs[i]);
  }
  for (size_t i = 0; i < request->n_outputs; ++i) {
    const Ireed__ShmSlice* slice = request->outputs[i]->shm;
    ireed_ring_put_u32(&w, slice ? 1 : 0);
    if (slice) ireed_ring_put_slice(&w, slice);
  }
  *out_size = capacity - w.left;
  return w.ok;
}

bool ireed_ring_encode_reply(const Ireed__InvokeReply* reply, uint8_t* out,
                             size_t capacity, size_t* out_size) {
  ireed_ring_writer_t w = {out, capacity, true};
  if (reply->n_outputs > IREED_RING_MAX_VALUES) return false;
  ireed_ring_put_u32(&w, IREED_RING_REPLY_OUTPUTS);
  ireed_ring_put_u64(&w, reply->queue_ns);
  ireed_ring_put_u64(&w, reply->execute_ns);
  ireed_ring_put_u32(&w, (uint32_t)reply->n_outputs);
  for (size_t i = 0; i < reply->n_outputs; ++i) {
    ireed_ring_put_value(&w, reply->outputs[i]);
  }
  *out_size = capacity - w.left;
  return w.ok;
}

// Reading: every read is checked against what is left; the first failure
// sticks and names what was being read.
typedef struct ireed_ring_reader_s {
  const uint8_t* p;
  size_t left;
  const char* failure;  // NULL while fine
  ProtobufCAllocator* allocator;
  bool copy_bytes;  // inline data copied (else it points into the input)
} ireed_ring_reader_t;

static bool ireed_ring_get(ireed_ring_reader_t* r, void* out, size_t size,
                           const char* what) {
  if (r->failure) return false;
  if (size > r->left) {
    r->failure = what;
    return false;
  }
  memcpy(out, r->p, size);
  r->p += size;
  r->left -= size;
  return true;
}

static uint32_t ireed_ring_get_u32(ireed_ring_reader_t* r, const char* what) {
  uint32_t value = 0;
  ireed_ring_get(r, &value, sizeof(value), what);
  return value;
}

static uint64_t ireed_ring_get_u64(ireed_ring_reader_t* r, const char* what) {
  uint64_t value = 0;
  ireed_ring_get(r, &value, sizeof(value), what);
  return value;
}

// |size| bytes from the reader's allocator (zeroed), or NULL (failure set).
static void* ireed_ring_alloc(ireed_ring_reader_t* r, size_t size) {
  if (r->failure) return NULL;
  void* memory =
      r->allocator->alloc(r->allocator->allocator_data, size ? size : 1);
  if (!memory) {
    r->failure = "memory (out of memory)";
    return NULL;
  }
  memset(memory, 0, size ? size : 1);
  return memory;
}

// A count of items of at least |min_item_size| bytes each that the rest of
// the message can hold.
static size_t ireed_ring_get_count(ireed_ring_reader_t* r, size_t limit,
                                   size_t min_item_size, const char* what) {
  uint32_t count = ireed_ring_get_u32(r, what);
  if (!r->failure && (count > limit || count * min_item_size > r->left)) {
    r->failure = what;
    return 0;
  }
  return count;
}

static char* ireed_ring_get_string(ireed_ring_reader_t* r, size_t length,
                                   const char* what) {
  if (!r->failure && length > r->left) r->failure = what;
  char* text = ireed_ring_alloc(r, length + 1);
  if (text && ireed_ring_get(r, text, length, what)) {
    if (memchr(text, 0, length)) r->failure = what;
  }
  return r->failure ? NULL : text;
}

static Ireed__ShmSlice* ireed_ring_get_slice(ireed_ring_reader_t* r) {
  Ireed__ShmSlice* slice = ireed_ring_alloc(r, sizeof(*slice));
  if (!slice) return NULL;
  ireed__shm_slice__init(slice);
  slice->region_id = ireed_ring_get_u64(r, "a slice's region id");
  slice->offset = ireed_ring_get_u64(r, "a slice's offset");
  slice->length = ireed_ring_get_u64(r, "a slice's length");
  return slice;
}

static void ireed_ring_get_tensor(ireed_ring_reader_t* r,
                                  Ireed__Tensor* tensor) {
  ireed__tensor__init(tensor);
  tensor->element_type = ireed_ring_get_u32(r, "a tensor's element type");
  size_t rank =
      ireed_ring_get_count(r, 128, sizeof(uint64_t), "a tensor's rank");
  tensor->shape = ireed_ring_alloc(r, rank * sizeof(uint64_t));
  if (!tensor->shape) return;
  ireed_ring_get(r, tensor->shape, rank * sizeof(uint64_t), "a tensor's shape");
  tensor->n_shape = rank;
  uint32_t data_case = ireed_ring_get_u32(r, "a tensor's data kind");
  if (data_case == IREED__TENSOR__DATA_SHM) {
    tensor->shm = ireed_ring_get_slice(r);
    if (tensor->shm) tensor->data_case = IREED__TENSOR__DATA_SHM;
  } else if (data_case == IREED__TENSOR__DATA_INLINE_DATA) {
    uint64_t length = ireed_ring_get_u64(r, "a tensor's inline length");
    if (!r->failure && length > r->left) r->failure = "a tensor's inline data";
    if (r->failure) return;
    if (r->copy_bytes) {
      tensor->inline_data.data = ireed_ring_alloc(r, (size_t)length);
      if (!tensor->inline_data.data) return;
      memcpy(tensor->inline_data.data, r->p, (size_t)length);
    } else {
      tensor->inline_data.data = (uint8_t*)r->p;
    }
    tensor->inline_data.len = (size_t)length;
    r->p += length;
    r->left -= (size_t)length;
    tensor->data_case = IREED__TENSOR__DATA_INLINE_DATA;
  } else if (!r->failure) {
    r->failure = "a tensor's data kind";
  }
}

static Ireed__Value* ireed_ring_get_value(ireed_ring_reader_t* r) {
  Ireed__Value* value = ireed_ring_alloc(r, sizeof(*value));
  if (!value) return NULL;
  ireed__value__init(value);
  uint32_t kind = ireed_ring_get_u32(r, "a value's kind");
  if (r->failure) return value;
  uint64_t bits = 0;
  switch (kind) {
    case IREED__VALUE__KIND__NOT_SET:
      return value;
    case IREED__VALUE__KIND_I32:
    case IREED__VALUE__KIND_I64:
    case IREED__VALUE__KIND_F32:
    case IREED__VALUE__KIND_F64:
      bits = ireed_ring_get_u64(r, "a scalar value");
      value->kind_case = (Ireed__Value__KindCase)kind;
      memcpy(kind == IREED__VALUE__KIND_I32   ? (void*)&value->i32
             : kind == IREED__VALUE__KIND_I64 ? (void*)&value->i64
             : kind == IREED__VALUE__KIND_F32 ? (void*)&value->f32
                                              : (void*)&value->f64,
             &bits,
             kind == IREED__VALUE__KIND_I32 || kind == IREED__VALUE__KIND_F32
                 ? 4
                 : 8);
      return value;
    case IREED__VALUE__KIND_TENSOR:
      value->tensor = ireed_ring_alloc(r, sizeof(*value->tensor));
      if (value->tensor) {
        value->kind_case = IREED__VALUE__KIND_TENSOR;
        ireed_ring_get_tensor(r, value->tensor);
      }
      return value;
    default:
      r->failure = "a value's kind";
      return value;
  }
}

static irt_status_t ireed_ring_failure(const ireed_ring_reader_t* r,
                                       const char* message) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "%s: %s is malformed or truncated", message,
                         r->failure);
}

irt_status_t ireed_ring_decode_request(const uint8_t* data, size_t size,
                                       ProtobufCAllocator* allocator,
                                       uint64_t* out_request_id,
                                       Ireed__InvokeRequest** out_request) {
  *out_request = NULL;
  ireed_ring_reader_t r = {data, size, NULL, allocator, false};
  *out_request_id = ireed_ring_get_u64(&r, "the request id");
  uint32_t model_length = ireed_ring_get_u32(&r, "the model name's length");
  uint32_t function_length =
      ireed_ring_get_u32(&r, "the function name's length");
  size_t input_count = ireed_ring_get_u32(&r, "the input count");
  size_t output_count = ireed_ring_get_u32(&r, "the output count");
  if (!r.failure && (input_count > IREED_RING_MAX_VALUES ||
                     output_count > IREED_RING_MAX_VALUES)) {
    r.failure = "the input or output count";
  }
  Ireed__InvokeRequest* request = ireed_ring_alloc(&r, sizeof(*request));
  if (request) {
    ireed__invoke_request__init(request);
    request->model = ireed_ring_get_string(&r, model_length, "the model name");
    request->function =
        ireed_ring_get_string(&r, function_length, "the function name");
    request->inputs = ireed_ring_alloc(&r, input_count * sizeof(void*));
    request->outputs = ireed_ring_alloc(&r, output_count * sizeof(void*));
  }
  for (size_t i = 0; i < input_count && !r.failure; ++i) {
    request->inputs[i] = ireed_ring_get_value(&r);
    request->n_inputs = i + 1;
  }
  for (size_t i = 0; i < output_count && !r.failure; ++i) {
    Ireed__OutputTarget* target = ireed_ring_alloc(&r, sizeof(*target));
    if (!target) break;
    ireed__output_target__init(target);
    uint32_t has_slice = ireed_ring_get_u32(&r, "an output target");
    if (has_slice == 1) {
      target->shm = ireed_ring_get_slice(&r);
    } else if (has_slice != 0 && !r.failure) {
      r.failure = "an output target";
    }
    request->outputs[i] = target;
    request->n_outputs = i + 1;
  }
  if (!r.failure && r.left) r.failure = "the end (trailing bytes)";
  if (r.failure) return ireed_ring_failure(&r, "ring request");
  *out_request = request;
  return IRT_OK;
}

static void* ireed_ring_malloc(void* user_data, size_t size) {
  (void)user_data;
  return malloc(size);
}

static void ireed_ring_free_memory(void* user_data, void* pointer) {
  (void)user_data;
  free(pointer);
}

irt_status_t ireed_ring_decode_reply(const uint8_t* data, size_t size,
                                     ProtobufCAllocator* allocator,
                                     Ireed__Frame** out_frame) {
  *out_frame = NULL;
  ProtobufCAllocator system = {ireed_ring_malloc, ireed_ring_free_memory, NULL};
  ireed_ring_reader_t r = {data, size, NULL, allocator ? allocator : &system,
                           true};
  uint32_t format = ireed_ring_get_u32(&r, "the reply's format");
  if (format == IREED_RING_REPLY_FRAME && !r.failure) {
    *out_frame = ireed__frame__unpack(allocator, r.left, r.p);
    if (*out_frame) return IRT_OK;
    r.failure = "the reply's frame";
  } else if (format != IREED_RING_REPLY_OUTPUTS && !r.failure) {
    r.failure = "the reply's format";
  }
  Ireed__Frame* frame = r.failure ? NULL : ireed_ring_alloc(&r, sizeof(*frame));
  Ireed__InvokeReply* reply =
      frame ? ireed_ring_alloc(&r, sizeof(*reply)) : NULL;
  if (frame) ireed__frame__init(frame);
  if (reply) {
    ireed__invoke_reply__init(reply);
    frame->body_case = IREED__FRAME__BODY_INVOKE_REPLY;
    frame->invoke_reply = reply;
    reply->queue_ns = ireed_ring_get_u64(&r, "the queue time");
    reply->execute_ns = ireed_ring_get_u64(&r, "the execution time");
    size_t count =
        ireed_ring_get_count(&r, IREED_RING_MAX_VALUES, 4, "the output count");
    reply->outputs = ireed_ring_alloc(&r, count * sizeof(void*));
    for (size_t i = 0; i < count && reply->outputs && !r.failure; ++i) {
      Ireed__Value* value = ireed_ring_get_value(&r);
      if (!value) break;
      reply->outputs[i] = value;
      reply->n_outputs = i + 1;
    }
  }
  if (!r.failure && r.left) r.failure = "the end (trailing bytes)";
  if (r.failure) {
    if (frame) ireed__frame__free_unpacked(frame, allocator);
    return ireed_ring_failure(&r, "ring reply");
  }
  *out_frame = frame;
  return IRT_OK;
}
