// The client's end of the shared-memory submission ring (proto/ring.h):
// synchronous invocations go through it when the daemon accepted one at
// connect time, and through the socket otherwise (or when every slot is
// busy, or the request does not fit a slot). The calling thread writes the
// requests of a batch (one, for ireeclient_invoke) into slots, publishes
// them at once and waits on the last one itself (spinning briefly, then
// sleeping on its futex): no receive-thread hop, one wake-up per batch.
#include "proto/ring.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "client/lib/connection.h"

// How long a waiter polls its slot before sleeping, and how long each sleep
// lasts at most (so a broken connection is noticed).
#define IREECLIENT_RING_SPIN_NS 50000
#define IREECLIENT_RING_SLEEP_NS 50000000

struct ireeclient_ring_s {
  int fd;
  uint8_t* base;
  ireed_ring_layout_t layout;
  pthread_mutex_t mutex;  // the free slots and the queue's head
  uint32_t free_slots[IREECLIENT_RING_SLOTS];
  uint32_t free_count;
  uint32_t head;
  atomic_bool broken;
  // What one request recently took the daemon (a moving average, ns, from
  // submission to its answer, not to this side's wake-up). A wait expected
  // to outlast the pause phase sleeps at once: spinning through a batch's
  // whole round trip only takes the CPU from the daemon.
  atomic_uint_fast64_t recent_ns;
};

static uint64_t ireeclient_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

void ireeclient_ring_free(ireeclient_ring_t* ring) {
  if (!ring) return;
  munmap(ring->base, (size_t)ring->layout.size);
  close(ring->fd);
  pthread_mutex_destroy(&ring->mutex);
  free(ring);
}

static irt_status_t ireeclient_ring_create(ireeclient_ring_t** out_ring) {
  *out_ring = NULL;
  ireeclient_ring_t* ring = calloc(1, sizeof(*ring));
  if (!ring) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  ring->layout.slot_count = IREECLIENT_RING_SLOTS;
  ring->layout.slot_size = IREECLIENT_RING_SLOT_SIZE;
  ring->layout.size =
      ireed_ring_size(IREECLIENT_RING_SLOTS, IREECLIENT_RING_SLOT_SIZE);
  pthread_mutex_init(&ring->mutex, NULL);
  ring->fd = memfd_create("ireeclient-ring", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  void* base = MAP_FAILED;
  if (ring->fd >= 0 && ftruncate(ring->fd, (off_t)ring->layout.size) == 0 &&
      fcntl(ring->fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) ==
          0) {
    base = mmap(NULL, (size_t)ring->layout.size, PROT_READ | PROT_WRITE,
                MAP_SHARED, ring->fd, 0);
  }
  if (base == MAP_FAILED) {
    int error = errno;
    if (ring->fd >= 0) close(ring->fd);
    pthread_mutex_destroy(&ring->mutex);
    free(ring);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot create a submission ring: %s",
                           strerror(error));
  }
  ring->base = base;
  ireed_ring_format(ring->base, &ring->layout);
  for (uint32_t i = 0; i < IREECLIENT_RING_SLOTS; ++i) {
    ring->free_slots[i] = IREECLIENT_RING_SLOTS - 1 - i;
  }
  ring->free_count = IREECLIENT_RING_SLOTS;
  *out_ring = ring;
  return IRT_OK;
}

void ireeclient_ring_attach(ireeclient_connection_t* connection) {
  const char* setting = getenv("IREECLIENT_RING");
  if ((setting && strcmp(setting, "0") == 0) ||
      connection->server_minor < IREED_PROTOCOL_MINOR_RING) {
    return;
  }
  ireeclient_ring_t* ring = NULL;
  irt_status_t status = ireeclient_ring_create(&ring);
  if (!status) {
    Ireed__AttachRingRequest request = IREED__ATTACH_RING_REQUEST__INIT;
    request.size = ring->layout.size;
    Ireed__Frame frame = IREED__FRAME__INIT;
    frame.body_case = IREED__FRAME__BODY_ATTACH_RING;
    frame.attach_ring = &request;
    Ireed__Frame* reply = NULL;
    status = ireeclient_connection_call(connection, &frame, ring->fd,
                                        IREED__FRAME__BODY_ATTACH_RING_REPLY,
                                        &reply);
    if (reply) ireed__frame__free_unpacked(reply, NULL);
  }
  if (status) {
    // An older daemon, or no memory for a ring: the socket serves.
    irt_status_free(status);
    ireeclient_ring_free(ring);
    return;
  }
  connection->ring = ring;
}

void ireeclient_ring_fail(ireeclient_ring_t* ring) {
  if (!ring) return;
  atomic_store(&ring->broken, true);
  for (uint32_t i = 0; i < ring->layout.slot_count; ++i) {
    ireed_futex_wake(&ireed_ring_slot(ring->base, &ring->layout, i)->state,
                     INT_MAX);
  }
}

static bool ireeclient_ring_take_slot(ireeclient_ring_t* ring,
                                      uint32_t* out_index) {
  pthread_mutex_lock(&ring->mutex);
  bool ok = ring->free_count > 0 && !atomic_load(&ring->broken);
  if (ok) *out_index = ring->free_slots[--ring->free_count];
  pthread_mutex_unlock(&ring->mutex);
  return ok;
}

static void ireeclient_ring_give_slot(ireeclient_ring_t* ring, uint32_t index) {
  pthread_mutex_lock(&ring->mutex);
  ring->free_slots[ring->free_count++] = index;
  pthread_mutex_unlock(&ring->mutex);
}

// Queues the slots of |batch| in order, publishes them with one store of
// the head and wakes the daemon's thread if it sleeps.
static void ireeclient_ring_submit(ireeclient_ring_t* ring,
                                   const ireeclient_ring_batch_t* batch) {
  ireed_ring_header_t* header = (ireed_ring_header_t*)ring->base;
  for (uint32_t i = 0; i < batch->count; ++i) {
    ireed_ring_slot_t* slot =
        ireed_ring_slot(ring->base, &ring->layout, batch->slots[i]);
    atomic_store_explicit(&slot->client_waiting, 0, memory_order_relaxed);
    atomic_store_explicit(&slot->state, IREED_RING_SLOT_SUBMITTED,
                          memory_order_relaxed);
  }
  pthread_mutex_lock(&ring->mutex);
  for (uint32_t i = 0; i < batch->count; ++i) {
    atomic_store_explicit(&header->queue[ring->head % ring->layout.slot_count],
                          batch->slots[i], memory_order_relaxed);
    ++ring->head;
  }
  if (batch->count > 0) {
    atomic_store_explicit(&header->submit_hint, batch->slots[0],
                          memory_order_relaxed);
  }
  // Sequentially consistent with the daemon's store of daemon_sleeping:
  // either it sees the new head or this sees it asleep.
  atomic_store(&header->submit_head, ring->head);
  bool sleeping = atomic_load(&header->daemon_sleeping) != 0;
  pthread_mutex_unlock(&ring->mutex);
  if (sleeping) ireed_futex_wake(&header->submit_head, 1);
}

// Waits until the daemon answered slot |index|, the last of |requests|
// queued requests still unanswered; returns its final state, or
// IREED_RING_SLOT_SUBMITTED when the connection broke first.
static uint32_t ireeclient_ring_wait(ireeclient_ring_t* ring, uint32_t index,
                                     uint32_t requests) {
  ireed_ring_slot_t* slot = ireed_ring_slot(ring->base, &ring->layout, index);
  uint64_t start = ireeclient_now_ns();
  uint64_t expected =
      atomic_load_explicit(&ring->recent_ns, memory_order_relaxed) * requests;
  uint64_t budget = expected < IREED_RING_PAUSE_NS ? IREECLIENT_RING_SPIN_NS : 0;
  uint32_t state;
  while ((state = atomic_load_explicit(&slot->state, memory_order_acquire)) ==
         IREED_RING_SLOT_SUBMITTED) {
    uint64_t spun = ireeclient_now_ns() - start;
    if (spun >= budget) break;
    ireed_ring_backoff(spun);
  }
  while (state == IREED_RING_SLOT_SUBMITTED && !atomic_load(&ring->broken)) {
    atomic_store(&slot->client_waiting, 1);
    state = atomic_load(&slot->state);
    if (state != IREED_RING_SLOT_SUBMITTED) break;
    ireed_futex_wait(&slot->state, IREED_RING_SLOT_SUBMITTED,
                     IREECLIENT_RING_SLEEP_NS);
    state = atomic_load_explicit(&slot->state, memory_order_acquire);
  }
  uint64_t answered = atomic_load_explicit(&slot->answered_ns,
                                           memory_order_relaxed);
  uint64_t took =
      ((answered > start ? answered : ireeclient_now_ns()) - start) / requests;
  uint64_t recent = atomic_load_explicit(&ring->recent_ns, memory_order_relaxed);
  atomic_store_explicit(&ring->recent_ns, recent - recent / 8 + took / 8,
                        memory_order_relaxed);
  return state;
}

// Decodes the reply the daemon left in slot |index| (bounds-checked: the
// daemon is trusted, its bytes are still checked) into |allocator|.
static irt_status_t ireeclient_ring_read_reply(ireeclient_ring_t* ring,
                                               uint32_t index,
                                               ProtobufCAllocator* allocator,
                                               Ireed__Frame** out_reply) {
  ireed_ring_slot_t* slot = ireed_ring_slot(ring->base, &ring->layout, index);
  uint32_t size = atomic_load_explicit(&slot->reply_size, memory_order_relaxed);
  if (size > ireed_ring_slot_capacity(&ring->layout)) {
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "ireed left a reply of %u bytes in ring slot %u",
                           size, index);
  }
  return ireed_ring_decode_reply(slot->data, size, allocator, out_reply);
}

irt_status_t ireeclient_ring_prepare(ireeclient_connection_t* connection,
                                     Ireed__Frame* frame,
                                     Ireed__Frame__BodyCase reply_case,
                                     ireeclient_request_t* request,
                                     ireeclient_ring_batch_t* batch,
                                     ireeclient_ring_outcome_t* out_outcome) {
  *out_outcome = IREECLIENT_RING_UNSUITABLE;
  ireeclient_ring_t* ring = connection->ring;
  if (!ring) return IRT_OK;
  uint32_t index = 0;
  if (!ireeclient_ring_take_slot(ring, &index)) {
    *out_outcome = IREECLIENT_RING_FULL;
    return IRT_OK;
  }
  // The request id goes into the encoding, so link first.
  irt_status_t status =
      ireeclient_connection_link(connection, frame, reply_case, request);
  if (status) {
    ireeclient_ring_give_slot(ring, index);
    return status;
  }
  ireed_ring_slot_t* slot = ireed_ring_slot(ring->base, &ring->layout, index);
  size_t size = 0;
  if (!ireed_ring_encode_request(frame->invoke, request->id, slot->data,
                                 ireed_ring_slot_capacity(&ring->layout),
                                 &size)) {
    ireeclient_ring_give_slot(ring, index);
    if (!ireeclient_connection_unlink(connection, request)) {
      *out_outcome = IREECLIENT_RING_COMPLETED;  // failed by the receive thread
    }
    return IRT_OK;
  }
  atomic_store_explicit(&slot->request_size, (uint32_t)size,
                        memory_order_relaxed);
  batch->slots[batch->count] = index;
  batch->requests[batch->count] = request;
  ++batch->count;
  *out_outcome = IREECLIENT_RING_QUEUED;
  return IRT_OK;
}

// Completes |request| from slot |index| in its final |state|.
static void ireeclient_ring_finish(ireeclient_connection_t* connection,
                                   uint32_t index,
                                   ireeclient_request_t* request,
                                   uint32_t state) {
  ireeclient_ring_t* ring = connection->ring;
  if (state == IREED_RING_SLOT_DONE &&
      ireeclient_connection_unlink(connection, request)) {
    Ireed__Frame* reply = NULL;
    irt_status_t status = ireeclient_ring_read_reply(
        ring, index, request->reply_allocator, &reply);
    request->reply_in_allocator = request->reply_allocator != NULL;
    ireeclient_ring_give_slot(ring, index);
    ireeclient_connection_complete(connection, request, status, reply);
    return;
  }
  // Answered on the socket, or the connection broke (the slot is then
  // never reused: the daemon may still write to it): the receive thread
  // completes the request.
  if (state == IREED_RING_SLOT_REPLIED_ON_SOCKET) {
    ireeclient_ring_give_slot(ring, index);
  }
}

void ireeclient_ring_run(ireeclient_connection_t* connection,
                         ireeclient_ring_batch_t* batch) {
  if (batch->count == 0) return;
  ireeclient_ring_t* ring = connection->ring;
  ireeclient_ring_submit(ring, batch);
  // The daemon serves a ring in queue order: once the last slot is
  // answered the others are too, so only the last one's futex is slept on
  // (one wake-up for the batch).
  uint32_t last = batch->count - 1;
  uint32_t last_state =
      ireeclient_ring_wait(ring, batch->slots[last], batch->count);
  for (uint32_t i = 0; i < batch->count; ++i) {
    uint32_t state = last_state;
    if (i != last) {
      ireed_ring_slot_t* slot =
          ireed_ring_slot(ring->base, &ring->layout, batch->slots[i]);
      state = atomic_load_explicit(&slot->state, memory_order_acquire);
      if (state == IREED_RING_SLOT_SUBMITTED) {
        state = ireeclient_ring_wait(ring, batch->slots[i], 1);
      }
    }
    ireeclient_ring_finish(connection, batch->slots[i], batch->requests[i],
                           state);
  }
  batch->count = 0;
}
