#include "daemon/ring.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "daemon/invocation.h"
#include "daemon/protocol.h"
#include "daemon/worker_pool.h"
#include "proto/frame.h"
#include "proto/ring.h"
#include "runtime/base/log.h"

#define IREED_LOG "ireed"

#ifndef SYS_futex_waitv
#define SYS_futex_waitv 449  // the same number on every architecture
#endif

typedef struct ireed_ring_executor_s ireed_ring_executor_t;

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
  ireed_ring_executor_t* executor;  // the one serving it
  ireed_ring_t* next;               // in the executor's incoming list
  uint32_t tail;                    // the executor's queue position
  atomic_bool stopping;
  atomic_uint posts;  // sends and defers the host has not handled yet
};

// A thread serving up to IREED_RING_EXECUTOR_MAX_RINGS rings.
struct ireed_ring_executor_s {
  ireed_ring_pool_t* pool;
  pthread_t thread;
  // Bumped (and woken, a private futex) by attach, stop, a host that
  // caught up, and the pool's stop.
  _Atomic uint32_t kicks;
  atomic_bool has_incoming;
  pthread_mutex_t mutex;   // guards incoming and attached
  ireed_ring_t* incoming;  // attached, not yet adopted by the thread
  uint32_t attached;       // rings attached and not yet detached
  // The thread's own.
  ireed_ring_t* rings[IREED_RING_EXECUTOR_MAX_RINGS];
  uint32_t count;
};

struct ireed_ring_pool_s {
  irt_allocator_t allocator;
  atomic_bool stopping;
  atomic_bool no_waitv;  // the kernel lacks futex_waitv (ENOSYS)
  uint32_t executor_count;
  ireed_ring_executor_t executors[];
};

// Hands |data| to the host's |post| (send or defer), counted.
static void ireed_ring_post(ireed_ring_t* ring,
                            bool (*post)(void*, uint8_t*, size_t),
                            uint8_t* data, size_t size) {
  atomic_fetch_add(&ring->posts, 1);
  if (!post(ring->host.user_data, data, size)) ireed_ring_post_done(ring);
}

static void ireed_ring_executor_kick(ireed_ring_executor_t* executor);

void ireed_ring_post_done(ireed_ring_t* ring) {
  // The ring waited for this one (ireed_ring_host_busy).
  if (atomic_fetch_sub(&ring->posts, 1) == ring->layout.slot_count) {
    ireed_ring_executor_kick(ring->executor);
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
      .queued_ns = ireed_now_ns(),
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

// Sets the slot's final |state| and wakes its client if it sleeps.
static void ireed_ring_publish(ireed_ring_reply_t* target, uint32_t state) {
  // Sequentially consistent with the client's store of client_waiting:
  // either it sees the new state or this sees it waiting.
  atomic_store(&target->slot->state, state);
  if (atomic_load(&target->slot->client_waiting)) {
    ireed_futex_wake(&target->slot->state, INT_MAX);
  }
}

// Finishes slot |index|: its reply is in the slot already, or |reply| (a
// framed Frame, taken) goes into it as IREED_RING_REPLY_FRAME when it
// fits, else on the socket.
static void ireed_ring_answer(ireed_ring_t* ring, ireed_ring_reply_t* target,
                              uint8_t* reply, size_t reply_size) {
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
  ireed_ring_publish(target, state);
}

// Serves the request copied out of slot |index| (|size| bytes). Every
// failure becomes an Error reply.
static void ireed_ring_serve(ireed_ring_t* ring, uint32_t index, uint32_t size,
                             irt_status_t take_status) {
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
    ireed_ring_publish(&target, IREED_RING_SLOT_REPLIED_ON_SOCKET);
    return;
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
      return;
    }
  }
  ireed_ring_answer(ring, &target, reply, reply_size);
}

//===----------------------------------------------------------------------===//
// Executors
//===----------------------------------------------------------------------===//

static void ireed_ring_executor_kick(ireed_ring_executor_t* executor) {
  atomic_fetch_add(&executor->kicks, 1);
  syscall(SYS_futex, (uint32_t*)&executor->kicks,
          FUTEX_WAKE | FUTEX_PRIVATE_FLAG, 1, NULL, NULL, 0);
}

// The host has slot_count posts to handle: the ring waits (it is skipped)
// until ireed_ring_post_done kicks its executor.
static bool ireed_ring_host_busy(ireed_ring_t* ring) {
  return atomic_load(&ring->posts) >= ring->layout.slot_count;
}

// Serves what |ring| has pending, at most slot_count requests so that a
// busy client cannot starve the executor's other rings; *served counts
// them. False when the ring must be detached (stopped or broken).
static bool ireed_ring_run(ireed_ring_t* ring, uint32_t* served) {
  for (uint32_t n = 0; n < ring->layout.slot_count; ++n) {
    if (atomic_load_explicit(&ring->stopping, memory_order_relaxed)) {
      return false;
    }
    if (ireed_ring_host_busy(ring)) return true;
    uint32_t index = IREED_RING_NO_SLOT, size = 0;
    bool taken = false;
    irt_status_t status =
        ireed_ring_take(ring->memory->data, &ring->layout, &ring->tail,
                        ring->request, &index, &size, &taken);
    if (!taken && !irt_status_is_ok(status)) {
      irt_log_status(IRT_LOG_WARNING, IREED_LOG,
                     "submission ring broken; it takes no more requests",
                     status);
      irt_status_free(status);
      return false;
    }
    if (!taken) return true;
    ++*served;
    if (index == IREED_RING_NO_SLOT) {
      irt_log_status(IRT_LOG_WARNING, IREED_LOG, "submission ring", status);
      irt_status_free(status);
    } else {
      ireed_ring_serve(ring, index, size, status);
    }
  }
  return true;
}

// Takes the rings attached since the last round (under the mutex).
static void ireed_ring_executor_adopt(ireed_ring_executor_t* executor) {
  if (!atomic_load_explicit(&executor->has_incoming, memory_order_acquire)) {
    return;
  }
  pthread_mutex_lock(&executor->mutex);
  while (executor->incoming) {
    ireed_ring_t* ring = executor->incoming;
    executor->incoming = ring->next;
    executor->rings[executor->count++] = ring;
  }
  atomic_store_explicit(&executor->has_incoming, false, memory_order_relaxed);
  pthread_mutex_unlock(&executor->mutex);
}

// Drops rings[i]; the host may destroy it as soon as it hears.
static void ireed_ring_executor_detach(ireed_ring_executor_t* executor,
                                       uint32_t i) {
  ireed_ring_t* ring = executor->rings[i];
  executor->rings[i] = executor->rings[--executor->count];
  pthread_mutex_lock(&executor->mutex);
  --executor->attached;
  pthread_mutex_unlock(&executor->mutex);
  ring->host.exited(ring->host.user_data);
}

// One pass over every ring; returns the requests served.
static uint32_t ireed_ring_executor_round(ireed_ring_executor_t* executor) {
  uint32_t served = 0;
  for (uint32_t i = 0; i < executor->count;) {
    if (ireed_ring_run(executor->rings[i], &served)) {
      ++i;
    } else {
      ireed_ring_executor_detach(executor, i);  // rings[i] is another now
    }
  }
  return served;
}

// Sleeps in |count| futex waits at once (futex_waitv, Linux 5.16), or,
// where the kernel lacks it, on the last one alone for at most
// IREED_RING_FALLBACK_SLEEP_NS when there are several (the rescan finds
// what the others missed).
static void ireed_ring_wait_any(ireed_ring_pool_t* pool,
                                struct futex_waitv* waiters, uint32_t count) {
  if (!atomic_load_explicit(&pool->no_waitv, memory_order_relaxed)) {
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_nsec += IREED_RING_SLEEP_NS;
    deadline.tv_sec += deadline.tv_nsec / 1000000000;
    deadline.tv_nsec %= 1000000000;
    long result =
        syscall(SYS_futex_waitv, waiters, count, 0, &deadline, CLOCK_MONOTONIC);
    if (result >= 0 || errno != ENOSYS) return;
    atomic_store_explicit(&pool->no_waitv, true, memory_order_relaxed);
  }
  struct futex_waitv* last = &waiters[count - 1];
  ireed_futex_wait(
      (_Atomic uint32_t*)(uintptr_t)last->uaddr, (uint32_t)last->val,
      count > 1 ? IREED_RING_FALLBACK_SLEEP_NS : IREED_RING_SLEEP_NS);
}

// Sleeps until a client submits, or the executor is kicked (|kicks| is the
// count before the last round). Each ring's flag tells its client to wake
// us; the futexes compare submit_head with the tail (and the kick count),
// so what arrives between the check and the wait is not lost.
static void ireed_ring_executor_sleep(ireed_ring_executor_t* executor,
                                      uint32_t kicks) {
  struct futex_waitv waiters[IREED_RING_EXECUTOR_MAX_RINGS + 1];
  waiters[0] = (struct futex_waitv){
      .val = kicks,
      .uaddr = (uintptr_t)&executor->kicks,
      .flags = FUTEX_32 | FUTEX_PRIVATE_FLAG,
  };
  uint32_t count = 1;
  bool ready = false;
  for (uint32_t i = 0; i < executor->count && !ready; ++i) {
    ireed_ring_t* ring = executor->rings[i];
    if (ireed_ring_host_busy(ring)) continue;  // kicked when it is not
    ireed_ring_header_t* header = (ireed_ring_header_t*)ring->memory->data;
    // Sequentially consistent with the client's increment of submit_head:
    // either we see it or the client sees the flag.
    atomic_store(&header->daemon_sleeping, 1);
    ready = atomic_load(&header->submit_head) != ring->tail;
    waiters[count++] = (struct futex_waitv){
        .val = ring->tail,
        .uaddr = (uintptr_t)&header->submit_head,
        .flags = FUTEX_32,  // shared with the client
    };
  }
  if (!ready && !atomic_load(&executor->pool->stopping)) {
    ireed_ring_wait_any(executor->pool, waiters, count);
  }
  for (uint32_t i = 0; i < executor->count; ++i) {
    ireed_ring_header_t* header =
        (ireed_ring_header_t*)executor->rings[i]->memory->data;
    atomic_store(&header->daemon_sleeping, 0);
  }
}

// Serves its rings back to back while any has requests, polls for
// IREED_RING_SPIN_NS after the last one, then sleeps on all of them.
static void* ireed_ring_executor_main(void* arg) {
  ireed_ring_executor_t* executor = arg;
  uint64_t idle_since = ireed_now_ns();
  while (
      !atomic_load_explicit(&executor->pool->stopping, memory_order_relaxed)) {
    uint32_t kicks = atomic_load(&executor->kicks);
    ireed_ring_executor_adopt(executor);
    if (ireed_ring_executor_round(executor)) {
      idle_since = ireed_now_ns();
      continue;
    }
    uint64_t idle = ireed_now_ns() - idle_since;
    if (idle < IREED_RING_SPIN_NS) {
      ireed_ring_backoff(idle);
    } else {
      ireed_ring_executor_sleep(executor, kicks);
      idle_since = ireed_now_ns();
    }
  }
  return NULL;
}

uint32_t ireed_ring_default_executor_count(void) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus >= 4 ? (uint32_t)(cpus / 2) : 1;
}

static void ireed_ring_pool_stop(ireed_ring_pool_t* pool, uint32_t started) {
  atomic_store(&pool->stopping, true);
  for (uint32_t i = 0; i < started; ++i) {
    ireed_ring_executor_kick(&pool->executors[i]);
    pthread_join(pool->executors[i].thread, NULL);
  }
  for (uint32_t i = 0; i < pool->executor_count; ++i) {
    pthread_mutex_destroy(&pool->executors[i].mutex);
  }
  irt_allocator_free(pool->allocator, pool);
}

irt_status_t ireed_ring_pool_create(uint32_t executor_count,
                                    irt_allocator_t allocator,
                                    ireed_ring_pool_t** out_pool) {
  *out_pool = NULL;
  if (!executor_count) executor_count = 1;
  ireed_ring_pool_t* pool = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      allocator, sizeof(*pool) + executor_count * sizeof(pool->executors[0]),
      (void**)&pool));
  pool->allocator = allocator;
  pool->executor_count = executor_count;
  atomic_init(&pool->stopping, false);
  atomic_init(&pool->no_waitv, false);
  for (uint32_t i = 0; i < executor_count; ++i) {
    ireed_ring_executor_t* executor = &pool->executors[i];
    executor->pool = pool;
    atomic_init(&executor->kicks, 0);
    atomic_init(&executor->has_incoming, false);
    pthread_mutex_init(&executor->mutex, NULL);
  }
  for (uint32_t i = 0; i < executor_count; ++i) {
    int error = pthread_create(&pool->executors[i].thread, NULL,
                               ireed_ring_executor_main, &pool->executors[i]);
    if (error) {
      ireed_ring_pool_stop(pool, i);
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "cannot start ring executor %u of %u: %s", i,
                             executor_count, strerror(error));
    }
  }
  *out_pool = pool;
  return IRT_OK;
}

void ireed_ring_pool_destroy(ireed_ring_pool_t* pool) {
  if (pool) ireed_ring_pool_stop(pool, pool->executor_count);
}

// Hands |ring| to the executor serving the fewest rings.
static irt_status_t ireed_ring_attach(ireed_ring_pool_t* pool,
                                      ireed_ring_t* ring) {
  ireed_ring_executor_t* best = NULL;
  uint32_t best_attached = IREED_RING_EXECUTOR_MAX_RINGS;
  for (uint32_t i = 0; i < pool->executor_count; ++i) {
    ireed_ring_executor_t* executor = &pool->executors[i];
    pthread_mutex_lock(&executor->mutex);
    if (executor->attached < best_attached) {
      best = executor;
      best_attached = executor->attached;
    }
    pthread_mutex_unlock(&executor->mutex);
  }
  if (!best) {
    return irt_make_status(
        IRT_STATUS_RESOURCE_EXHAUSTED,
        "the daemon is busy: its %u ring executor%s serve %u rings each, the "
        "most one can wait on; use the socket",
        pool->executor_count, pool->executor_count == 1 ? "" : "s",
        IREED_RING_EXECUTOR_MAX_RINGS);
  }
  // Only the server's loop attaches: |best| can only have lost rings since.
  pthread_mutex_lock(&best->mutex);
  ++best->attached;
  ring->executor = best;
  ring->next = best->incoming;
  best->incoming = ring;
  atomic_store_explicit(&best->has_incoming, true, memory_order_release);
  pthread_mutex_unlock(&best->mutex);
  ireed_ring_executor_kick(best);
  return IRT_OK;
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

irt_status_t ireed_ring_create(ireed_ring_pool_t* pool, int fd, uint64_t size,
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
  ireed_worker_initialize(&ring->worker, UINT32_MAX, allocator);
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
    status = ireed_ring_attach(pool, ring);
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
  ireed_ring_executor_kick(ring->executor);
}

void ireed_ring_destroy(ireed_ring_t* ring) {
  if (ring) ireed_ring_free(ring);
}
