// Shared-memory regions registered by clients: a memfd passed once with
// SCM_RIGHTS, sealed against shrinking (so no access within the registered
// size can fault) and mapped once. Invocations name (region, offset, length)
// ranges of it for inputs and outputs.
//
// Regions are reference-counted across threads: the connection's table holds
// one reference, every in-flight invocation that names the region one more,
// and every device buffer importing its memory one more (dropped by the
// buffer's release callback). Unregistering or disconnecting only drops the
// table's reference, so the mapping outlives its last user.
#ifndef IREED_DAEMON_REGION_H
#define IREED_DAEMON_REGION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pthread.h>

#include "hal/device.h"
#include "runtime/base/allocator.h"
#include "runtime/base/ref_count.h"
#include "runtime/base/status.h"

// Registered sizes above this are refused (1 TiB).
#define IREED_REGION_MAX_SIZE (1ull << 40)

typedef struct ireed_region_s {
  irt_ref_count_t ref_count;
  irt_allocator_t allocator;
  uint64_t id;
  uint8_t* data;
  uint64_t size;
  bool writable;  // false when the memfd is sealed against writes
  // The device the mapping is pinned for (retained), or NULL. See
  // ireed_region_pin.
  pthread_mutex_t pin_mutex;
  irhal_device_t* pinned_device;
} ireed_region_t;

// Maps the first |size| bytes of |fd| (not closed here). FAILED_PRECONDITION
// when the file is not sealed with F_SEAL_SHRINK or is smaller than |size|;
// INVALID_ARGUMENT for a zero or oversized |size|.
irt_status_t ireed_region_map(int fd, uint64_t size, uint64_t id,
                              irt_allocator_t allocator,
                              ireed_region_t** out_region) IRT_MUST_USE;

static inline void ireed_region_retain(ireed_region_t* region) {
  irt_ref_count_retain(&region->ref_count);
}
void ireed_region_release(ireed_region_t* region);
// ireed_region_release with the region as |user_data| (buffer callbacks).
void ireed_region_release_callback(void* user_data);

// Pins the whole mapping for |device| once, when the device wants host
// memory registered (CUDA: cuMemHostRegister), so inputs in the region are
// used in place and outputs are copied into it by DMA. A no-op for devices
// that use host memory as is (CPU) and after the first pin (registration
// is process-wide). Unpinned when the region is destroyed. Thread-safe; a
// failure leaves the region unpinned (transfers then go through staging).
irt_status_t ireed_region_pin(ireed_region_t* region,
                              irhal_device_t* device) IRT_MUST_USE;

// True when [offset, offset + length) lies within the region.
bool ireed_region_contains(const ireed_region_t* region, uint64_t offset,
                           uint64_t length);

// A connection's regions by id (the daemon hands out ids in increasing
// order, unique across connections, so appending keeps the table sorted and
// lookups are binary searches). Loop thread only.
typedef struct ireed_region_table_s {
  irt_allocator_t allocator;
  ireed_region_t** regions;  // sorted by id, each holding a reference
  size_t count;
  size_t capacity;
} ireed_region_table_t;

void ireed_region_table_initialize(ireed_region_table_t* table,
                                   irt_allocator_t allocator);
// Releases every region's table reference.
void ireed_region_table_deinitialize(ireed_region_table_t* table);
// Takes over |region|'s reference (its id must be the largest yet).
irt_status_t ireed_region_table_insert(ireed_region_table_t* table,
                                       ireed_region_t* region) IRT_MUST_USE;
// The region |id| (borrowed), or NULL.
ireed_region_t* ireed_region_table_find(const ireed_region_table_t* table,
                                        uint64_t id);
// Drops region |id| and its table reference; false when there is none.
bool ireed_region_table_remove(ireed_region_table_t* table, uint64_t id);

#endif  // IREED_DAEMON_REGION_H
