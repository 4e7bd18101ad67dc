// The daemon's end of a connection's shared-memory submission ring
// (proto/ring.h): one thread per ring takes the client's InvokeRequests in
// order and runs each inline, with no hand-off to the worker pool (the round
// trip is the point: a call that the device finishes in microseconds is
// answered in microseconds), then writes the reply into the request's slot.
//
// The thread spins for IREED_RING_SPIN_NS after its last request before it
// sleeps on the ring's futex, so a client in a tight loop never pays for a
// wake-up. Requests are checked and resolved through the server (the host
// below), under the same rules as requests from the socket. Everything read
// from shared memory is untrusted (see proto/ring.h); a ring whose queue is
// corrupt stops taking requests, and only its own client notices.
#ifndef IREED_DAEMON_RING_H
#define IREED_DAEMON_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/region.h"
#include "daemon/stats.h"
#include "ireed.pb-c.h"
#include "proto/ring.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/session/model.h"
#include "runtime/vm/list.h"

// How long a ring's thread polls after its last request before sleeping.
#define IREED_RING_SPIN_NS 50000
// Sleeps end after this long at most (so a stop is never missed).
#define IREED_RING_SLEEP_NS 200000000

typedef struct ireed_ring_s ireed_ring_t;

// How many of a server's ring threads may poll at once: pollers beyond the
// CPUs that can run them only take time from the threads doing work (on a
// busy 2-CPU machine one poller is plenty; the others sleep on their futex).
// The server owns one and shares it with every ring through the host.
typedef struct ireed_ring_pollers_s {
  atomic_uint active;
  unsigned limit;
} ireed_ring_pollers_t;

// Sets the limit from the online CPUs: half of them, at least one.
void ireed_ring_pollers_initialize(ireed_ring_pollers_t* pollers);

// One request resolved by the host: what the invocation needs, plus the
// host's pin on the model (released by end).
typedef struct ireed_ring_call_s {
  void* pin;
  irsess_model_t* model;
  ireed_model_stats_t* stats;  // the model's
  const irsess_function_t* function;
  // n_inputs + n_outputs region slots (filled by ireed_invocation_prepare),
  // then function->arguments.size + function->results.size variants; one
  // allocation owned by the call until end.
  ireed_region_t** regions;
  irvm_variant_t* arguments;
  irvm_variant_t* results;
} ireed_ring_call_t;

// What a ring needs from the server; every callback may run on the ring's
// thread.
typedef struct ireed_ring_host_s {
  void* user_data;
  // The number of the ring's worker (picks its shard of model stats): the
  // server numbers rings after its pool's workers.
  uint32_t worker_index;
  ireed_ring_pollers_t* pollers;  // the server's; outlives the ring
  // Resolves |request| (model, function, regions) and pins the model.
  irt_status_t (*begin)(void* user_data, const Ireed__InvokeRequest* request,
                        ireed_ring_call_t* call);
  // Drops what begin took (the regions were released already).
  void (*end)(void* user_data, ireed_ring_call_t* call);
  // Sends an encoded reply frame (length prefix included) on the socket,
  // taking |data|: replies too large for their slot go this way. False
  // when it could not even be queued (out of memory; |data| is freed).
  bool (*send)(void* user_data, uint8_t* data, size_t size);
  // Hands an encoded InvokeRequest frame (length prefix included, taken)
  // to the socket's path, which answers on the socket: requests begin
  // refused with NOT_FOUND or UNAVAILABLE go this way, so that a model
  // that is loading, or configured but unloaded, is waited for or loaded
  // exactly as for the socket (and errors read the same).
  // Returns as send does.
  bool (*defer)(void* user_data, uint8_t* data, size_t size);
  // The thread finished (after ireed_ring_stop, or when the ring broke);
  // the host then calls ireed_ring_destroy from its own thread.
  void (*exited)(void* user_data);
} ireed_ring_host_t;

// Maps the ring in |fd| (|size| bytes; sealed against shrinking, like a
// region), checks its layout and starts its thread. Replies are framed
// with at most |max_frame_size| bytes.
irt_status_t ireed_ring_create(int fd, uint64_t size,
                               const ireed_ring_host_t* host,
                               size_t max_frame_size, irt_allocator_t allocator,
                               ireed_ring_t** out_ring) IRT_MUST_USE;

// Asks the thread to finish (after the request it is running); exited
// follows. Any thread.
void ireed_ring_stop(ireed_ring_t* ring);

// The host handled one send or defer (any thread). At most slot_count of
// them wait for the host at a time; the thread waits for the rest, so a
// client cannot queue work or replies in the daemon without bound.
void ireed_ring_post_done(ireed_ring_t* ring);

// Joins the finished thread and unmaps the ring.
void ireed_ring_destroy(ireed_ring_t* ring);

#endif  // IREED_DAEMON_RING_H
