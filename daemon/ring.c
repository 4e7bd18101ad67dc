#include "daemon/ring.h"

#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "daemon/invocation.h"
#include "daemon/protocol.h"
#include "daemon/worker_pool.h"
#include "proto/frame.h"
#include "proto/ring.h"
#include "runtime/base/log.h"

#define IREED_LOG "ireed"

struct ireed_ring_s {
  irt_allocator_t allocator;
  ireed_ring_host_t host;
  size_t max_frame_size;
  ireed_region_t* memory;  // the mapping
  ireed_ring_layout_t layout;
  uint8_t* request;  // the private copy of the request being served
  ireed_worker_t worker;
  // Decoded requests live in the worker's scratch memory, rewound after
  // each request (no malloc and free per message field).
  ProtobufCAllocator scratch;
  pthread_t thread;
  atomic_bool stopping;
  atomic_uint posts;  // sends and defers the host has not handled yet
};

// Hands |data| to the host's |post| (send or defer), counted.
static void ireed_ring_post(ireed_ring_t* ring,
                            bool (*post)(void*, uint8_t*, size_t),
                            uint8_t* data, size_t size) {
  atomic_fetch_add(&ring->posts, 1);
  if (!post(ring->host.user_data, data, size)) ireed_ring_post_done(ring);
}

void ireed_ring_post_done(ireed_ring_t* ring) {
  atomic_fetch_sub(&ring->posts, 1);
}

// Waits while the host has slot_count posts to handle (it handles them
// quickly unless the client stopped reading its socket).
static void ireed_ring_wait_for_host(ireed_ring_t* ring) {
  while (atomic_load(&ring->posts) >= ring->layout.slot_count &&
         !atomic_load(&ring->stopping)) {
    usleep(1000);
  }
}

// The slot being answered: encode_reply writes into it directly.
typedef struct ireed_ring_reply_s {
  ireed_ring_t* ring;
  ireed_ring_slot_t* slot;
  bool in_slot;  // the ring encoding of the reply is in the slot
} ireed_ring_reply_t;

static irt_status_t ireed_ring_encode_reply_hook(
    ireed_invocation_t* invocation, const Ireed__InvokeReply* reply) {
  ireed_ring_reply_t* target = invocation->encode_user_data;
  size_t size = 0;
  if (ireed_ring_encode_reply(reply, target->slot->data,
                              ireed_ring_slot_capacity(&target->ring->layout),
                              &size)) {
    atomic_store_explicit(&target->slot->reply_size, (uint32_t)size,
                          memory_order_relaxed);
    target->in_slot = true;
    return IRT_OK;
  }
  // Too large for the slot: a Frame for the socket.
  return ireed_invocation_encode_frame(invocation, reply,
                                       target->ring->allocator);
}

// A request |begin_status| (taken) refused as NOT_FOUND or UNAVAILABLE
// goes to the socket's path (*out_deferred); anything else is the error.
static irt_status_t ireed_ring_defer(ireed_ring_t* ring, uint64_t request_id,
                                     const Ireed__InvokeRequest* request,
                                     irt_status_t begin_status,
                                     bool* out_deferred) {
  irt_status_code_t code = irt_status_code(begin_status);
  if (code != IRT_STATUS_NOT_FOUND && code != IRT_STATUS_UNAVAILABLE) {
    return begin_status;
  }
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = request_id;
  frame.body_case = IREED__FRAME__BODY_INVOKE;
  frame.invoke = (Ireed__InvokeRequest*)request;
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status = ireed_frame_encode(
      &frame, IREED_FRAME_ABSOLUTE_MAX_SIZE, ring->allocator, &data, &size);
  if (!irt_status_is_ok(status)) {
    irt_status_free(status);
    return begin_status;
  }
  irt_status_free(begin_status);
  ireed_ring_post(ring, ring->host.defer, data, size);
  *out_deferred = true;
  return IRT_OK;
}

// Runs a decoded request through the host and the invocation path. The
// reply ends in the slot (target->in_slot) or in *out_reply (a Frame: an
// Error, or results too large for the slot).
static irt_status_t ireed_ring_invoke(ireed_ring_t* ring, uint64_t request_id,
                                      const Ireed__InvokeRequest* request,
                                      ireed_ring_reply_t* target,
                                      uint8_t** out_reply,
                                      size_t* out_reply_size,
                                      bool* out_deferred) {
  ireed_ring_call_t call = {0};
  irt_status_t begin_status =
      ring->host.begin(ring->host.user_data, request, &call);
  if (!irt_status_is_ok(begin_status)) {
    return ireed_ring_defer(ring, request_id, request, begin_status,
                            out_deferred);
  }
  ireed_invocation_t invocation = {
      .request_id = request_id,
      .max_frame_size = ring->max_frame_size,
      .model = call.model,
      .stats = call.stats,
      .function = call.function,
      .request = request,
      .regions = call.regions,
      .arguments = call.arguments,
      .results = call.results,
      .synchronous = true,
      .encode_reply = ireed_ring_encode_reply_hook,
      .encode_user_data = target,
  };
  bool pending = false;
  irt_status_t status = ireed_invocation_start(&invocation, &ring->worker,
                                               ring->allocator, &pending);
  ireed_invocation_release_regions(&invocation);
  ring->host.end(ring->host.user_data, &call);
  *out_reply = invocation.reply;
  *out_reply_size = invocation.reply_size;
  return status;
}

// Sets the slot's final |state| and wakes its client if it sleeps; returns
// the time it answered (the ring thread's idle time starts there too).
static uint64_t ireed_ring_publish(ireed_ring_reply_t* target,
                                   uint32_t state) {
  uint64_t now = ireed_now_ns();
  atomic_store_explicit(&target->slot->answered_ns, now, memory_order_relaxed);
  // Sequentially consistent with the client's store of client_waiting:
  // either it sees the new state or this sees it waiting.
  atomic_store(&target->slot->state, state);
  if (atomic_load(&target->slot->client_waiting)) {
    ireed_futex_wake(&target->slot->state, INT_MAX);
  }
  return now;
}

// Finishes slot |index|: its reply is in the slot already, or |reply| (a
// framed Frame, taken) goes into it as IREED_RING_REPLY_FRAME when it
// fits, else on the socket. Returns when it answered.
static uint64_t ireed_ring_answer(ireed_ring_t* ring,
                                  ireed_ring_reply_t* target, uint8_t* reply,
                                  size_t reply_size) {
  ireed_ring_slot_t* slot = target->slot;
  uint32_t state = IREED_RING_SLOT_DONE;
  if (reply) {
    size_t payload = reply_size - IREED_FRAME_HEADER_SIZE;
    if (sizeof(uint32_t) + payload <= ireed_ring_slot_capacity(&ring->layout)) {
      uint32_t format = IREED_RING_REPLY_FRAME;
      memcpy(slot->data, &format, sizeof(format));
      memcpy(slot->data + sizeof(format), reply + IREED_FRAME_HEADER_SIZE,
             payload);
      atomic_store_explicit(&slot->reply_size,
                            (uint32_t)(sizeof(format) + payload),
                            memory_order_relaxed);
      irt_allocator_free(ring->allocator, reply);
    } else {
      ireed_ring_post(ring, ring->host.send, reply, reply_size);
      state = IREED_RING_SLOT_REPLIED_ON_SOCKET;
    }
  }
  return ireed_ring_publish(target, state);
}

// Serves the request copied out of slot |index| (|size| bytes). Every
// failure becomes an Error reply. Returns when it answered.
static uint64_t ireed_ring_serve(ireed_ring_t* ring, uint32_t index,
                                 uint32_t size, irt_status_t take_status) {
  ireed_ring_reply_t target = {
      ring, ireed_ring_slot(ring->memory->data, &ring->layout, index), false};
  uint64_t request_id = 0;
  Ireed__InvokeRequest* request = NULL;
  irt_status_t status = take_status;
  if (irt_status_is_ok(status)) {
    status = ireed_ring_decode_request(ring->request, size, &ring->scratch,
                                       &request_id, &request);
  }
  uint8_t* reply = NULL;
  size_t reply_size = 0;
  bool deferred = false;
  if (irt_status_is_ok(status)) {
    status = ireed_ring_invoke(ring, request_id, request, &target, &reply,
                               &reply_size, &deferred);
  }
  ireed_worker_rewind(&ring->worker);  // drops |request|
  if (deferred) {
    return ireed_ring_publish(&target, IREED_RING_SLOT_REPLIED_ON_SOCKET);
  }
  if (!irt_status_is_ok(status)) {
    irt_allocator_free(ring->allocator, reply);
    reply = NULL;
    target.in_slot = false;
    irt_status_t encode_status = ireed_encode_error(
        request_id, status, ring->allocator, &reply, &reply_size);
    irt_status_free(status);
    if (!irt_status_is_ok(encode_status)) {
      // Out of memory even for an Error: the slot stays SUBMITTED and its
      // client waits until the connection closes.
      irt_log_status(IRT_LOG_ERROR, IREED_LOG, "ring: encoding an error",
                     encode_status);
      irt_status_free(encode_status);
      return ireed_now_ns();
    }
  }
  return ireed_ring_answer(ring, &target, reply, reply_size);
}

// Sleeps until the client submits (or the ring stops). The flag tells the
// client to wake us; the futex compares submit_head with |tail| so a
// submission between the check and the wait is not lost.
static void ireed_ring_sleep(ireed_ring_t* ring, uint32_t tail) {
  ireed_ring_header_t* header = (ireed_ring_header_t*)ring->memory->data;
  atomic_store(&header->daemon_sleeping, 1);
  if (atomic_load(&header->submit_head) == tail &&
      !atomic_load(&ring->stopping)) {
    ireed_futex_wait(&header->submit_head, tail, IREED_RING_SLEEP_NS);
  }
  atomic_store(&header->daemon_sleeping, 0);
}

void ireed_ring_pollers_initialize(ireed_ring_pollers_t* pollers) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  atomic_init(&pollers->active, 0);
  pollers->limit = cpus >= 4 ? (unsigned)cpus / 2 : 1;
}

static bool ireed_ring_start_polling(ireed_ring_pollers_t* pollers) {
  if (atomic_fetch_add(&pollers->active, 1) < pollers->limit) return true;
  atomic_fetch_sub(&pollers->active, 1);
  return false;
}

static void ireed_ring_stop_polling(ireed_ring_pollers_t* pollers,
                                    bool* polling) {
  if (*polling) atomic_fetch_sub(&pollers->active, 1);
  *polling = false;
}

static void* ireed_ring_main(void* arg) {
  ireed_ring_t* ring = arg;
  uint32_t tail = 0;
  uint64_t idle_since = ireed_now_ns();
  bool polling = false;
  while (!atomic_load_explicit(&ring->stopping, memory_order_relaxed)) {
    ireed_ring_wait_for_host(ring);
    uint32_t index = IREED_RING_NO_SLOT, size = 0;
    bool taken = false;
    irt_status_t status =
        ireed_ring_take(ring->memory->data, &ring->layout, &tail, ring->request,
                        &index, &size, &taken);
    if (!taken && !irt_status_is_ok(status)) {
      irt_log_status(IRT_LOG_WARNING, IREED_LOG,
                     "submission ring broken; it takes no more requests",
                     status);
      irt_status_free(status);
      break;
    }
    if (!taken) {
      uint64_t idle = ireed_now_ns() - idle_since;
      if (!polling && idle < IREED_RING_SPIN_NS) {
        polling = ireed_ring_start_polling(ring->host.pollers);
      }
      if (polling && idle < IREED_RING_SPIN_NS) {
        ireed_ring_backoff(idle);
      } else {
        ireed_ring_stop_polling(ring->host.pollers, &polling);
        ireed_ring_sleep(ring, tail);
        idle_since = ireed_now_ns();
      }
      continue;
    }
    ireed_ring_stop_polling(ring->host.pollers, &polling);
    if (index == IREED_RING_NO_SLOT) {
      irt_log_status(IRT_LOG_WARNING, IREED_LOG, "submission ring", status);
      irt_status_free(status);
      idle_since = ireed_now_ns();
    } else {
      idle_since = ireed_ring_serve(ring, index, size, status);
    }
  }
  ireed_ring_stop_polling(ring->host.pollers, &polling);
  ring->host.exited(ring->host.user_data);
  return NULL;
}

static void* ireed_ring_scratch_alloc(void* worker, size_t size) {
  return ireed_worker_scratch(worker, size);
}

static void ireed_ring_scratch_free(void* worker, void* pointer) {
  (void)worker;
  (void)pointer;  // rewound with the worker
}

static void ireed_ring_free(ireed_ring_t* ring) {
  ireed_worker_deinitialize(&ring->worker);
  ireed_region_release(ring->memory);
  irt_allocator_free(ring->allocator, ring->request);
  irt_allocator_free(ring->allocator, ring);
}

irt_status_t ireed_ring_create(int fd, uint64_t size,
                               const ireed_ring_host_t* host,
                               size_t max_frame_size, irt_allocator_t allocator,
                               ireed_ring_t** out_ring) {
  *out_ring = NULL;
  ireed_ring_t* ring = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*ring), (void**)&ring));
  ring->allocator = allocator;
  ring->host = *host;
  ring->max_frame_size = max_frame_size;
  atomic_init(&ring->stopping, false);
  atomic_init(&ring->posts, 0);
  ireed_worker_initialize(&ring->worker, host->worker_index, allocator);
  ring->scratch = (ProtobufCAllocator){ireed_ring_scratch_alloc,
                                       ireed_ring_scratch_free, &ring->worker};
  irt_status_t status = ireed_region_map(fd, size, 0, allocator, &ring->memory);
  if (irt_status_is_ok(status) && !ring->memory->writable) {
    status = irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                             "the ring's memfd is sealed against writes");
  }
  if (irt_status_is_ok(status)) {
    status = ireed_ring_read_layout(ring->memory->data, ring->memory->size,
                                    &ring->layout);
  }
  if (irt_status_is_ok(status)) {
    status =
        irt_allocator_malloc(allocator, ireed_ring_slot_capacity(&ring->layout),
                             (void**)&ring->request);
  }
  if (irt_status_is_ok(status)) {
    int error = pthread_create(&ring->thread, NULL, ireed_ring_main, ring);
    if (error) {
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                               "cannot start the ring's thread: %s",
                               strerror(error));
    }
  }
  if (!irt_status_is_ok(status)) {
    ireed_ring_free(ring);
    return status;
  }
  *out_ring = ring;
  return IRT_OK;
}

void ireed_ring_stop(ireed_ring_t* ring) {
  atomic_store(&ring->stopping, true);
  ireed_ring_header_t* header = (ireed_ring_header_t*)ring->memory->data;
  ireed_futex_wake(&header->submit_head, INT_MAX);
}

void ireed_ring_destroy(ireed_ring_t* ring) {
  if (!ring) return;
  pthread_join(ring->thread, NULL);
  ireed_ring_free(ring);
}
