// The daemon's end of a connection's shared-memory submission ring
// (proto/ring.h), served by a small pool of executor threads that the
// server owns (default: half the online CPUs, at least one). An executor
// serves its rings round robin: every pending request of every ring, back
// to back, each run inline with no hand-off to the worker pool (the round
// trip is the point: a call that the device finishes in microseconds is
// answered in microseconds), its reply written into the request's slot.
// When several clients are waiting, one executor answers them all without
// a context switch between requests.
//
// An idle executor polls for IREED_RING_SPIN_NS after its last request,
// so a client in a tight loop never pays for a wake-up, then sleeps on
// all its rings' submit futexes at once (futex_waitv, Linux 5.16; older
// kernels wait on one ring at a time for a bounded time and rescan).
// futex_waitv waits on at most 128 words: one is the executor's own kick
// word, so an executor serves at most IREED_RING_EXECUTOR_MAX_RINGS rings
// and attaching beyond what all executors serve is refused as busy (the
// client keeps the socket).
//
// Requests are checked and resolved through the server (the host below),
// under the same rules as requests from the socket. Everything read from
// shared memory is untrusted (see proto/ring.h): a ring whose queue is
// corrupt is detached, and only its own client notices. A ring takes at
// most slot_count requests per round, so a busy client cannot starve the
// executor's other rings, and a ring whose client leaves slot_count
// replies unread on the socket is skipped until the host catches up.
// What an executor cannot bound is one invocation itself: a slow model
// delays the other rings of its executor for that long.
#ifndef IREED_DAEMON_RING_H
#define IREED_DAEMON_RING_H

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

// How long an executor polls after its last request before sleeping.
#define IREED_RING_SPIN_NS 50000
// Sleeps end after this long at most (so a stop is never missed).
#define IREED_RING_SLEEP_NS 200000000
// Without futex_waitv, sleeps that miss some rings' wake-ups end after
// this long at most.
#define IREED_RING_FALLBACK_SLEEP_NS 1000000
// Rings one executor serves at most (FUTEX_WAITV_MAX less its kick word).
#define IREED_RING_EXECUTOR_MAX_RINGS 127u

typedef struct ireed_ring_s ireed_ring_t;
typedef struct ireed_ring_pool_s ireed_ring_pool_t;

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
// executor.
typedef struct ireed_ring_host_s {
  void* user_data;
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
  // The executor let the ring go (after ireed_ring_stop, or when the ring
  // broke) and touches it no more: the host then calls ireed_ring_destroy
  // from its own thread.
  void (*exited)(void* user_data);
} ireed_ring_host_t;

// Executors by default: half the online CPUs, at least one.
uint32_t ireed_ring_default_executor_count(void);

// Starts |executor_count| executors (0: one).
irt_status_t ireed_ring_pool_create(uint32_t executor_count,
                                    irt_allocator_t allocator,
                                    ireed_ring_pool_t** out_pool) IRT_MUST_USE;

// Stops and joins the executors; every ring was stopped and exited first.
void ireed_ring_pool_destroy(ireed_ring_pool_t* pool);

// Maps the ring in |fd| (|size| bytes; sealed against shrinking, like a
// region), checks its layout and hands it to the executor of |pool| that
// serves the fewest rings (RESOURCE_EXHAUSTED when all serve
// IREED_RING_EXECUTOR_MAX_RINGS). Replies are framed with at most
// |max_frame_size| bytes. Only one thread (the server's loop) attaches.
irt_status_t ireed_ring_create(ireed_ring_pool_t* pool, int fd, uint64_t size,
                               const ireed_ring_host_t* host,
                               size_t max_frame_size, irt_allocator_t allocator,
                               ireed_ring_t** out_ring) IRT_MUST_USE;

// Asks the executor to let the ring go (after the request it is running);
// exited follows. Any thread.
void ireed_ring_stop(ireed_ring_t* ring);

// The host handled one send or defer (any thread). At most slot_count of
// them wait for the host at a time; the ring is skipped until the host
// catches up, so a client cannot queue work or replies in the daemon
// without bound.
void ireed_ring_post_done(ireed_ring_t* ring);

// Unmaps the ring (after exited).
void ireed_ring_destroy(ireed_ring_t* ring);

#endif  // IREED_DAEMON_RING_H
