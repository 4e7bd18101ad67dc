// Device memory accounting: bytes of live device allocations, the peak, and
// the number of allocations made, per device id ("local-task", "vulkan"),
// for the daemon's stats and metrics.
//
// Counters live in a process-wide table that is never freed, so buffers may
// outlive their device (and devices be re-created) without dangling
// pointers; devices with the same id share counters. Only allocations made
// through irhal_device_allocate_buffer count (imports of host memory and a
// driver's private staging do not).
#ifndef IRHAL_MEMORY_STATS_H
#define IRHAL_MEMORY_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/string_view.h"

// Ids beyond this many share the last slot ("other").
#define IRHAL_MEMORY_STATS_MAX_DEVICES 16
#define IRHAL_MEMORY_STATS_ID_MAX 32

typedef struct irhal_memory_stats_s {
  char id[IRHAL_MEMORY_STATS_ID_MAX];
  atomic_uint_fast64_t bytes_in_use;
  atomic_uint_fast64_t peak_bytes;
  atomic_uint_fast64_t allocations;
} irhal_memory_stats_t;

// The counters of device id |id|, created on first use (never NULL).
irhal_memory_stats_t* irhal_memory_stats_for(irt_string_view_t id);

// An allocation of |bytes| was made / freed.
void irhal_memory_stats_allocated(irhal_memory_stats_t* stats, uint64_t bytes);
void irhal_memory_stats_freed(irhal_memory_stats_t* stats, uint64_t bytes);

typedef struct irhal_memory_stats_value_s {
  const char* id;
  uint64_t bytes_in_use;
  uint64_t peak_bytes;
  uint64_t allocations;
} irhal_memory_stats_value_t;

// Copies up to |capacity| devices' counters into |out_values|; returns how
// many there are.
size_t irhal_memory_stats_list(irhal_memory_stats_value_t* out_values,
                               size_t capacity);

#endif  // IRHAL_MEMORY_STATS_H
