#include "daemon/stats.h"

#include <stdalign.h>
#include <string.h>

#include "hal/memory_stats.h"

void ireed_model_stats_initialize(ireed_model_stats_t* stats) {
  atomic_init(&stats->busy_rejections, 0);
  atomic_init(&stats->bytes_zero_copy, 0);
  atomic_init(&stats->bytes_staged, 0);
  irt_histogram_initialize(&stats->queue_ns);
  irt_histogram_initialize(&stats->execute_ns);
}

static void ireed_latency_fill(const irt_histogram_t* histogram,
                               Ireed__LatencyStats* out_latency) {
  ireed__latency_stats__init(out_latency);
  irt_histogram_summary_t summary;
  irt_histogram_summarize(histogram, &summary);
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
  out_model->busy_rejections =
      atomic_load_explicit(&stats->busy_rejections, memory_order_relaxed);
  out_model->bytes_zero_copy =
      atomic_load_explicit(&stats->bytes_zero_copy, memory_order_relaxed);
  out_model->bytes_staged =
      atomic_load_explicit(&stats->bytes_staged, memory_order_relaxed);
  ireed_latency_fill(&stats->queue_ns, out_queue);
  ireed_latency_fill(&stats->execute_ns, out_execute);
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
