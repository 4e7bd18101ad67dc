// Internals of libireeclient shared by its files: the connection, its
// request table and receive thread, and the staging pool of shm regions.
#ifndef IREECLIENT_CONNECTION_H
#define IREECLIENT_CONNECTION_H

#include <pthread.h>

#include "client/lib/ireeclient.h"
#include "proto/frame.h"
#include "runtime/base/ref_count.h"

typedef struct ireeclient_ring_s ireeclient_ring_t;

// A request waiting for its reply. Owned by whoever sent it; the connection
// only links it into its table until completion.
typedef struct ireeclient_request_s ireeclient_request_t;
struct ireeclient_request_s {
  uint64_t id;
  Ireed__Frame__BodyCase reply_case;  // the reply body expected
  // The pending table's links (doubly linked: a batch's replies unlink
  // their requests in any order, each in O(1)).
  ireeclient_request_t* next;
  ireeclient_request_t* prev;
  bool linked;
  bool done;
  // Set when done: the reply frame (OK) or the failure; ownership passes to
  // the request's owner.
  irt_status_t status;
  Ireed__Frame* reply;
  // Where a reply that comes in the ring is decoded (set by the owner; NULL:
  // malloc). |reply_in_allocator| says, when done, that the reply is there
  // (else it is malloc'ed: free it with ireed__frame__free_unpacked).
  ProtobufCAllocator* reply_allocator;
  bool reply_in_allocator;
  // Called on the receive thread after done is set, outside the lock; NULL
  // for waiters that block on the connection's condition variable.
  void (*on_complete)(ireeclient_request_t* request);
};

struct ireeclient_connection_s {
  // The user's reference plus one per invocation and shm region.
  irt_ref_count_t ref_count;
  int fd;
  uint64_t inline_threshold;
  uint32_t max_frame_size;  // the daemon's
  uint32_t server_minor;    // the daemon's protocol minor version
  char* server_software;

  pthread_t receive_thread;
  bool receive_thread_started;

  pthread_mutex_t send_mutex;  // frames go out whole

  pthread_mutex_t mutex;  // everything below
  pthread_cond_t completed;
  uint64_t next_request_id;
  ireeclient_request_t* pending;
  // Set once the connection can no longer be used; requests fail with a
  // copy of it.
  irt_status_t broken;
  // The message of an Error frame that names no request (sent before the
  // daemon closes a connection), kept for the status of the closing.
  char* last_error;
  // Staging regions not in use by any invocation.
  ireeclient_shm_t* staging_free;
  size_t staging_free_count;
  // The shared-memory submission ring (ring.c), or NULL: set at connect.
  ireeclient_ring_t* ring;
};

struct ireeclient_shm_s {
  ireeclient_connection_t* connection;  // retained
  int fd;
  uint8_t* data;
  uint64_t size;
  uint64_t region_id;
  uint64_t used;                // ireeclient_shm_allocate's bump pointer
  ireeclient_shm_t* next_free;  // staging pool link
};

void ireeclient_connection_retain(ireeclient_connection_t* connection);
void ireeclient_connection_release(ireeclient_connection_t* connection);

// Sends |frame| (with a fresh request id) and links |request| into the
// table; |fd| >= 0 travels with it (SCM_RIGHTS). On failure nothing is
// pending.
irt_status_t ireeclient_connection_send(
    ireeclient_connection_t* connection, Ireed__Frame* frame, int fd,
    Ireed__Frame__BodyCase reply_case,
    ireeclient_request_t* request) IRT_MUST_USE;

// Gives |request| a fresh id (also set in |frame|) and links it into the
// table, so that a reply on the socket finds it. Fails when the connection
// is broken.
irt_status_t ireeclient_connection_link(
    ireeclient_connection_t* connection, Ireed__Frame* frame,
    Ireed__Frame__BodyCase reply_case,
    ireeclient_request_t* request) IRT_MUST_USE;
// Removes |request| from the table; false when the receive thread took it
// (it completes the request).
bool ireeclient_connection_unlink(ireeclient_connection_t* connection,
                                  ireeclient_request_t* request);
// Completes an unlinked |request| with |status| (taken) or, when OK, with
// |reply| (taken), which may be an Error of the daemon or the wrong body.
void ireeclient_connection_complete(ireeclient_connection_t* connection,
                                    ireeclient_request_t* request,
                                    irt_status_t status, Ireed__Frame* reply);

// Blocks until |request| is done.
void ireeclient_connection_wait(ireeclient_connection_t* connection,
                                ireeclient_request_t* request);

// Send + wait: on success *out_reply is the reply frame (free with
// ireed__frame__free_unpacked(reply, NULL)).
irt_status_t ireeclient_connection_call(ireeclient_connection_t* connection,
                                        Ireed__Frame* frame, int fd,
                                        Ireed__Frame__BodyCase reply_case,
                                        Ireed__Frame** out_reply) IRT_MUST_USE;

// Sends |frame| whose reply nobody waits for (the receive thread drops it).
void ireeclient_connection_send_detached(ireeclient_connection_t* connection,
                                         Ireed__Frame* frame,
                                         Ireed__Frame__BodyCase reply_case);

// The submission ring (ring.c). attach: creates one and registers it after
// the handshake; on any failure the connection keeps to the socket. fail:
// the connection broke; waiters on the ring give up. free: at release.
void ireeclient_ring_attach(ireeclient_connection_t* connection);
void ireeclient_ring_fail(ireeclient_ring_t* ring);
void ireeclient_ring_free(ireeclient_ring_t* ring);
// Geometry of the rings this library creates: 16 slots of 128 KiB (requests
// and replies up to 128 KiB - 64 bytes; larger ones use the socket).
#define IREECLIENT_RING_SLOTS 16u
#define IREECLIENT_RING_SLOT_SIZE (128u * 1024u)

// Requests written into ring slots, not yet submitted: ireeclient_ring_run
// publishes them together (one store of the queue's head, at most one
// wake-up of the daemon) and waits for them together.
typedef struct ireeclient_ring_batch_s {
  uint32_t count;
  uint32_t slots[IREECLIENT_RING_SLOTS];
  ireeclient_request_t* requests[IREECLIENT_RING_SLOTS];
} ireeclient_ring_batch_t;

// What ireeclient_ring_prepare did with a request.
typedef enum ireeclient_ring_outcome_e {
  // In the batch: ireeclient_ring_run completes it.
  IREECLIENT_RING_QUEUED = 0,
  // Completed already, with the failure of the connection, which broke.
  IREECLIENT_RING_COMPLETED,
  // Nothing happened: every slot is busy (running the batch frees its own).
  IREECLIENT_RING_FULL,
  // Nothing happened: no ring, or the request does not fit a slot.
  IREECLIENT_RING_UNSUITABLE,
} ireeclient_ring_outcome_t;

// Links |request| (a fresh id goes into |frame|, an InvokeRequest) and
// writes it into a free slot, adding it to |batch|. Fails, with nothing
// pending, when the connection is broken.
irt_status_t ireeclient_ring_prepare(
    ireeclient_connection_t* connection, Ireed__Frame* frame,
    Ireed__Frame__BodyCase reply_case, ireeclient_request_t* request,
    ireeclient_ring_batch_t* batch,
    ireeclient_ring_outcome_t* out_outcome) IRT_MUST_USE;
// Submits |batch| and waits until the daemon answered all of it; empties
// it. Every request of the batch is completed exactly once (its
// on_complete called): here when its reply came in the ring, else by the
// receive thread (a reply on the socket, or the connection broke).
void ireeclient_ring_run(ireeclient_connection_t* connection,
                         ireeclient_ring_batch_t* batch);

// A staging region of at least |size| bytes (from the pool, or a new one).
irt_status_t ireeclient_staging_acquire(
    ireeclient_connection_t* connection, uint64_t size,
    ireeclient_shm_t** out_shm) IRT_MUST_USE;
// Gives a staging region back to the pool (or releases it when the pool is
// full). Never blocks on the daemon.
void ireeclient_staging_release(ireeclient_shm_t* shm);
// Frees the pool (the connection is going away).
void ireeclient_staging_drain(ireeclient_connection_t* connection);

// Unmaps and closes a region whose unregistration was sent (or is moot),
// dropping its connection reference.
void ireeclient_shm_free(ireeclient_shm_t* shm);

// A status for an Error frame: the daemon's code (UNKNOWN when out of
// range) and message.
irt_status_t ireeclient_status_from_error(const Ireed__Error* error)
    IRT_MUST_USE;

// strdup that reports failure as a status.
irt_status_t ireeclient_strdup(const char* text, char** out_copy) IRT_MUST_USE;

#endif  // IREECLIENT_CONNECTION_H
