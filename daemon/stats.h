// What ireed counts for `ireectl stats` and `ireectl metrics` (the
// StatsReply of proto/ireed.proto): per model, busy rejections, bytes of
// inputs imported without a copy or staged, and queue-wait and execute
// latency histograms (runtime/base/histogram.h: fixed memory, lock-free);
// invocations and errors come from the session's own counters; per device,
// memory in use from hal/memory_stats.h.
//
// Workers record into a model's stats without locks while the loop thread
// reads them.
#ifndef IREED_DAEMON_STATS_H
#define IREED_DAEMON_STATS_H

#include <stdatomic.h>
#include <stdint.h>

#include "ireed.pb-c.h"
#include "runtime/base/arena.h"
#include "runtime/base/histogram.h"
#include "runtime/base/status.h"

typedef struct ireed_model_stats_s {
  atomic_uint_fast64_t busy_rejections;
  atomic_uint_fast64_t bytes_zero_copy;
  atomic_uint_fast64_t bytes_staged;
  irt_histogram_t queue_ns;
  irt_histogram_t execute_ns;
} ireed_model_stats_t;

void ireed_model_stats_initialize(ireed_model_stats_t* stats);

// Adding 0 is skipped: a locked add writes the counter's cache line, which
// every thread serving the model shares, even when it changes nothing.
static inline void ireed_model_stats_count(atomic_uint_fast64_t* counter,
                                           uint64_t amount) {
  if (amount) atomic_fetch_add_explicit(counter, amount, memory_order_relaxed);
}

// Fills |out_model| (strings borrowed) with |stats|'s values; the caller
// sets the name, device, invocations, errors and in_flight.
// |out_queue| and |out_execute| are the LatencyStats it points to.
void ireed_model_stats_fill(const ireed_model_stats_t* stats,
                            Ireed__ModelStats* out_model,
                            Ireed__LatencyStats* out_queue,
                            Ireed__LatencyStats* out_execute);

// Appends every device's memory counters to |reply| (arrays from |arena|).
irt_status_t ireed_stats_fill_devices(irt_arena_t* arena,
                                      Ireed__StatsReply* reply) IRT_MUST_USE;

#endif  // IREED_DAEMON_STATS_H
