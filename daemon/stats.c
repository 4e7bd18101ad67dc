#include "daemon/stats.h"

#include <stdalign.h>
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

static uint64_t ireed_stats_load(const atomic_uint_fast64_t* counter) {
  return atomic_load_explicit(counter, memory_order_relaxed);
}

ireed_model_counts_t ireed_model_stats_counts(
    const ireed_model_stats_t* stats) {
  ireed_model_counts_t counts = {0, 0};
  for (size_t i = 0; i < IREED_MODEL_STATS_SHARDS; ++i) {
    counts.invocations += ireed_stats_load(&stats->shards[i].invocations);
    counts.errors += ireed_stats_load(&stats->shards[i].errors);
  }
  return counts;
}

// |histograms| (one per shard) summarized as one into |out_latency|.
static void ireed_latency_fill(const irt_histogram_t* const* histograms,
                               Ireed__LatencyStats* out_latency) {
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
  out_model->busy_rejections = 0;
  out_model->bytes_zero_copy = 0;
  out_model->bytes_staged = 0;
  const irt_histogram_t* queue[IREED_MODEL_STATS_SHARDS];
  const irt_histogram_t* execute[IREED_MODEL_STATS_SHARDS];
  for (size_t i = 0; i < IREED_MODEL_STATS_SHARDS; ++i) {
    const ireed_model_stats_shard_t* shard = &stats->shards[i];
    out_model->busy_rejections += ireed_stats_load(&shard->busy_rejections);
    out_model->bytes_zero_copy += ireed_stats_load(&shard->bytes_zero_copy);
    out_model->bytes_staged += ireed_stats_load(&shard->bytes_staged);
    queue[i] = &shard->queue_ns;
    execute[i] = &shard->execute_ns;
  }
  ireed_latency_fill(queue, out_queue);
  ireed_latency_fill(execute, out_execute);
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
