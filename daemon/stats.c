#include "daemon/stats.h"

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "hal/memory_stats.h"

void ireed_model_stats_initialize(ireed_model_stats_t* stats) {
  for (size_t i = 0; i < IREED_MODEL_STATS_SHARDS; ++i) {
    ireed_model_stats_shard_t* shard = &stats->shards[i];
    atomic_init(&shard->invocations, 0);
    atomic_init(&shard->errors, 0);
    atomic_init(&shard->busy_rejections, 0);
    atomic_init(&shard->bytes_zero_copy, 0);
    atomic_init(&shard->bytes_staged, 0);
    irt_histogram_initialize(&shard->queue_ns);
    irt_histogram_initialize(&shard->execute_ns);
  }
}

#define SHARD_FIELD(field) offsetof(ireed_model_stats_shard_t, field)

// The sum of the counter at |offset| in every shard of |stats|.
static uint64_t ireed_model_stats_sum(const ireed_model_stats_t* stats,
                                      size_t offset) {
  uint64_t sum = 0;
  for (size_t i = 0; i < IREED_MODEL_STATS_SHARDS; ++i) {
    const atomic_uint_fast64_t* counter =
        (const atomic_uint_fast64_t*)((const uint8_t*)&stats->shards[i] +
                                      offset);
    sum += atomic_load_explicit(counter, memory_order_relaxed);
  }
  return sum;
}

ireed_model_counts_t ireed_model_stats_counts(
    const ireed_model_stats_t* stats) {
  ireed_model_counts_t counts = {
      ireed_model_stats_sum(stats, SHARD_FIELD(invocations)),
      ireed_model_stats_sum(stats, SHARD_FIELD(errors)),
  };
  return counts;
}

// The histogram at |offset| of every shard of |stats|, as one.
static void ireed_latency_fill(const ireed_model_stats_t* stats, size_t offset,
                               Ireed__LatencyStats* out_latency) {
  const irt_histogram_t* histograms[IREED_MODEL_STATS_SHARDS];
  for (size_t i = 0; i < IREED_MODEL_STATS_SHARDS; ++i) {
    histograms[i] =
        (const irt_histogram_t*)((const uint8_t*)&stats->shards[i] + offset);
  }
  ireed__latency_stats__init(out_latency);
  irt_histogram_summary_t summary;
  irt_histogram_summarize_all(histograms, IREED_MODEL_STATS_SHARDS, &summary);
  out_latency->count = summary.count;
  out_latency->sum_ns = summary.sum;
  out_latency->p50_ns = summary.p50;
  out_latency->p90_ns = summary.p90;
  out_latency->p99_ns = summary.p99;
}

void ireed_model_stats_fill(const ireed_model_stats_t* stats,
                            Ireed__ModelStats* out_model,
                            Ireed__LatencyStats* out_queue,
                            Ireed__LatencyStats* out_execute) {
  ireed_model_counts_t counts = ireed_model_stats_counts(stats);
  out_model->invocations = counts.invocations;
  out_model->errors = counts.errors;
  out_model->busy_rejections =
      ireed_model_stats_sum(stats, SHARD_FIELD(busy_rejections));
  out_model->bytes_zero_copy =
      ireed_model_stats_sum(stats, SHARD_FIELD(bytes_zero_copy));
  out_model->bytes_staged =
      ireed_model_stats_sum(stats, SHARD_FIELD(bytes_staged));
  ireed_latency_fill(stats, SHARD_FIELD(queue_ns), out_queue);
  ireed_latency_fill(stats, SHARD_FIELD(execute_ns), out_execute);
  out_model->queue = out_queue;
  out_model->execute = out_execute;
}

irt_status_t ireed_stats_fill_devices(irt_arena_t* arena,
                                      Ireed__StatsReply* reply) {
  irhal_memory_stats_value_t values[IRHAL_MEMORY_STATS_MAX_DEVICES];
  size_t count =
      irhal_memory_stats_list(values, IRHAL_MEMORY_STATS_MAX_DEVICES);
  if (count > IRHAL_MEMORY_STATS_MAX_DEVICES) {
    count = IRHAL_MEMORY_STATS_MAX_DEVICES;
  }
  Ireed__DeviceStats* devices = NULL;
  Ireed__DeviceStats** pointers = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(*devices),
                                      alignof(Ireed__DeviceStats),
                                      (void**)&devices));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(*pointers),
                                      alignof(Ireed__DeviceStats*),
                                      (void**)&pointers));
  for (size_t i = 0; i < count; ++i) {
    ireed__device_stats__init(&devices[i]);
    devices[i].uri = (char*)values[i].id;
    devices[i].memory_in_use = values[i].bytes_in_use;
    devices[i].memory_peak = values[i].peak_bytes;
    devices[i].allocations = values[i].allocations;
    pointers[i] = &devices[i];
  }
  reply->n_devices = count;
  reply->devices = pointers;
  return IRT_OK;
}
