#include "hal/memory_stats.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
  pthread_mutex_t mutex;  // adding entries
  atomic_size_t count;
  irhal_memory_stats_t entries[IRHAL_MEMORY_STATS_MAX_DEVICES];
} irhal_memory_table = {.mutex = PTHREAD_MUTEX_INITIALIZER};

irhal_memory_stats_t* irhal_memory_stats_for(irt_string_view_t id) {
  char name[IRHAL_MEMORY_STATS_ID_MAX];
  snprintf(name, sizeof(name), "%.*s", IRT_SV_ARG(id));
  pthread_mutex_lock(&irhal_memory_table.mutex);
  size_t count = atomic_load(&irhal_memory_table.count);
  irhal_memory_stats_t* stats = NULL;
  for (size_t i = 0; i < count && !stats; ++i) {
    if (strcmp(irhal_memory_table.entries[i].id, name) == 0) {
      stats = &irhal_memory_table.entries[i];
    }
  }
  if (!stats && count == IRHAL_MEMORY_STATS_MAX_DEVICES) {
    stats = &irhal_memory_table.entries[count - 1];
    snprintf(stats->id, sizeof(stats->id), "other");
  } else if (!stats) {
    stats = &irhal_memory_table.entries[count];
    memcpy(stats->id, name, sizeof(name));
    // Published after the id is written: readers see whole entries.
    atomic_store(&irhal_memory_table.count, count + 1);
  }
  pthread_mutex_unlock(&irhal_memory_table.mutex);
  return stats;
}

void irhal_memory_stats_allocated(irhal_memory_stats_t* stats, uint64_t bytes) {
  uint64_t in_use = atomic_fetch_add_explicit(&stats->bytes_in_use, bytes,
                                              memory_order_relaxed) +
                    bytes;
  atomic_fetch_add_explicit(&stats->allocations, 1, memory_order_relaxed);
  uint64_t peak =
      atomic_load_explicit(&stats->peak_bytes, memory_order_relaxed);
  while (in_use > peak && !atomic_compare_exchange_weak_explicit(
                              &stats->peak_bytes, &peak, in_use,
                              memory_order_relaxed, memory_order_relaxed)) {
  }
}

void irhal_memory_stats_freed(irhal_memory_stats_t* stats, uint64_t bytes) {
  atomic_fetch_sub_explicit(&stats->bytes_in_use, bytes, memory_order_relaxed);
}

size_t irhal_memory_stats_list(irhal_memory_stats_value_t* out_values,
                               size_t capacity) {
  size_t count = atomic_load(&irhal_memory_table.count);
  for (size_t i = 0; i < count && i < capacity; ++i) {
    irhal_memory_stats_t* stats = &irhal_memory_table.entries[i];
    out_values[i].id = stats->id;
    out_values[i].bytes_in_use =
        atomic_load_explicit(&stats->bytes_in_use, memory_order_relaxed);
    out_values[i].peak_bytes =
        atomic_load_explicit(&stats->peak_bytes, memory_order_relaxed);
    out_values[i].allocations =
        atomic_load_explicit(&stats->allocations, memory_order_relaxed);
  }
  return count;
}
