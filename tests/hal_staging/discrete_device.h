// A fake "discrete" device for the staged file transfer path: its
// device-local buffers cannot be mapped by the host (only its own queue
// reaches their bytes, through an internal pointer), it refuses host
// imports, and its vtable asks for staged file transfers. Host-visible
// allocations (staging) are plain host memory, counted.
//
// One engine thread executes queue operations in submission order, each
// after its wait fence (a failed wait fails the op's signal fence), like a
// DMA queue: BARRIER and COPY only; it fails READ/WRITE ops, which must
// never reach a device that stages them. Used by tests/hal_staging and the
// params benchmark.
#ifndef IREED_TESTS_HAL_STAGING_DISCRETE_DEVICE_H
#define IREED_TESTS_HAL_STAGING_DISCRETE_DEVICE_H

#include "hal/api.h"

typedef struct discrete_device_options_s {
  // Sleep after each copy, so copies are reliably slower than the host's
  // file I/O and overlap is observable.
  uint32_t copy_delay_us;
  // The copy with this 0-based index fails with DATA_LOSS (-1: none).
  int64_t fail_copy_index;
} discrete_device_options_t;

typedef struct discrete_device_stats_s {
  uint64_t host_visible_live_bytes;  // staging allocated and not freed
  uint64_t host_visible_peak_bytes;
  uint64_t copies;             // executed (or failed) COPY ops
  uint32_t max_queued_copies;  // COPY ops submitted and not yet complete
  uint64_t direct_transfers;   // READ/WRITE ops that reached the queue
} discrete_device_stats_t;

irt_status_t discrete_device_create(const discrete_device_options_t* options,
                                    irt_allocator_t host_allocator,
                                    irhal_device_t** out_device) IRT_MUST_USE;

// Counters so far (host-visible bytes survive the device while staging
// buffers do; read them after the device's last operation completed).
void discrete_device_stats(irhal_device_t* device,
                           discrete_device_stats_t* out_stats);

// The bytes of a device-local |buffer| of this device (at its offset), for
// tests to fill and check what the queue transferred. The host may not
// touch them while queue operations use the buffer.
uint8_t* discrete_device_buffer_bytes(irhal_buffer_t* buffer);

#endif  // IREED_TESTS_HAL_STAGING_DISCRETE_DEVICE_H
