// What ireed counts for `ireectl stats` and `ireectl metrics` (the
// StatsReply of proto/ireed.proto): per model, invocations, errors, busy
// rejections, bytes of inputs imported without a copy or staged, and
// queue-wait and execute latency histograms (runtime/base/histogram.h:
// fixed memory, lock-free); per device, memory in use from
// hal/memory_stats.h.
//
// Workers and ring threads record into a model's stats without locks while
// the loop thread reads them. Each records into its own shard (picked by
// its worker index): an atomic add to a cache line that another CPU wrote
// last waits for that line, and threads serving one model would otherwise
// pass the same lines back and forth on every invocation. Readers add the
// shards up.
#ifndef IREED_DAEMON_STATS_H
#define IREED_DAEMON_STATS_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ireed.pb-c.h"
#include "runtime/base/arena.h"
#include "runtime/base/histogram.h"
#include "runtime/base/status.h"

// More shards than threads that run at once on most machines; about 8 KiB
// each.
#define IREED_MODEL_STATS_SHARDS 16

typedef struct ireed_model_stats_shard_s {
  alignas(64) atomic_uint_fast64_t invocations;
  atomic_uint_fast64_t errors;
  atomic_uint_fast64_t busy_rejections;
  atomic_uint_fast64_t bytes_zero_copy;
  atomic_uint_fast64_t bytes_staged;
  irt_histogram_t queue_ns;
  irt_histogram_t execute_ns;
} ireed_model_stats_shard_t;

typedef struct ireed_model_stats_s {
  ireed_model_stats_shard_t shards[IREED_MODEL_STATS_SHARDS];
} ireed_model_stats_t;

void ireed_model_stats_initialize(ireed_model_stats_t* stats);

// The shard that the worker numbered |worker_index| records into.
static inline ireed_model_stats_shard_t* ireed_model_stats_shard(
    ireed_model_stats_t* stats, uint32_t worker_index) {
  return &stats->shards[worker_index % IREED_MODEL_STATS_SHARDS];
}

// Adding 0 is skipped: a locked add writes the counter's cache line, which
// every thread serving the model shares, even when it changes nothing.
static inline void ireed_model_stats_count(atomic_uint_fast64_t* counter,
                                           uint64_t amount) {
  if (amount) atomic_fetch_add_explicit(counter, amount, memory_order_relaxed);
}

typedef struct ireed_model_counts_s {
  uint64_t invocations;
  uint64_t errors;
} ireed_model_counts_t;

// Invocations and errors so far, over all shards.
ireed_model_counts_t ireed_model_stats_counts(const ireed_model_stats_t* stats);

// Fills |out_model| (strings borrowed) with |stats|'s values; the caller
// sets the name, device and in_flight.
// |out_queue| and |out_execute| are the LatencyStats it points to.
void ireed_model_stats_fill(const ireed_model_stats_t* stats,
                            Ireed__ModelStats* out_model,
                            Ireed__LatencyStats* out_queue,
                            Ireed__LatencyStats* out_execute);

// Appends every device's memory counters to |reply| (arrays from |arena|).
irt_status_t ireed_stats_fill_devices(irt_arena_t* arena,
                                      Ireed__StatsReply* reply) IRT_MUST_USE;

#endif  // IREED_DAEMON_STATS_H
