// Streamed file transfers (HAL spec 4.3 step 3): queue reads and writes for
// devices whose buffers the host cannot map (discrete GPUs). The bytes move
// through a bounded ring of host-visible staging memory allocated from the
// device, one chunk per slot: for a read one host thread per slot fills it
// from the file while the device copies the other slots into the target (so
// file reads keep up with a copy engine faster than one memcpy); for a write the
// device copies chunks out of the source into slots ahead while the host
// writes an earlier slot to the file. Staging never exceeds the ring,
// however large the transfer (a 1 GiB parameter needs 64 MiB by default).
//
// irhal_device_queue_read/write take this path for devices whose vtable sets
// stage_file_transfers; drivers and tests may call it directly to choose
// the ring.
//
// Like the reference's inline loop, the transfer is driven by the calling
// thread: a read blocks until |wait| is reached (a file may be the target of
// earlier queued writes), a write until its first chunks are copied out.
// |wait| must therefore not depend on work the caller submits after the
// call. The call returns once the last chunk is handed over: for a read the
// device's last copies may still run (a final barrier signals |signal| after
// them); a write has written every byte when it returns and |signal| follows
// on the queue.
//
// Errors: invalid arguments, bad options and a failed staging allocation
// are returned before anything is issued, with |signal| untouched (like the
// other queue entry points). Once the transfer has started, failures (the
// wait fence failing, a file read or write failing, a device copy failing)
// stop it, let the copies already queued finish, and fail |signal| with the
// failure, so nothing waits forever; the call then returns OK.
#ifndef IRHAL_FILE_TRANSFER_H
#define IRHAL_FILE_TRANSFER_H

#include "hal/device.h"

// The default ring: 4 slots of 16 MiB (64 MiB), the reference's staging
// bound. Chunks and slot offsets keep the 64-byte staging alignment.
#define IRHAL_STAGING_DEFAULT_CHUNK_SIZE ((irhal_device_size_t)16 << 20)
#define IRHAL_STAGING_DEFAULT_DEPTH 4u
#define IRHAL_STAGING_ALIGNMENT 64u
// Enough slots to cover any device's copy latency, few enough to keep a
// transfer's bookkeeping on the caller's stack.
#define IRHAL_STAGING_MAX_DEPTH 64u

// What one transfer used, for tests and benchmarks.
typedef struct irhal_staging_stats_s {
  // The ring actually allocated: depth x chunk size, both clamped to what
  // the transfer needs (0 for an empty transfer). Staging is allocated once,
  // so this is also the peak.
  irhal_device_size_t peak_staging_bytes;
  irhal_device_size_t chunk_size;
  uint32_t depth;
  uint64_t chunk_count;
  // The most device copies handed to the queue and not yet complete at
  // once, sampled at each submission: >= 2 means file I/O and device copies
  // overlapped.
  uint32_t max_copies_in_flight;
} irhal_staging_stats_t;

typedef struct irhal_staging_options_s {
  // Bytes per slot: 0 = IRHAL_STAGING_DEFAULT_CHUNK_SIZE, otherwise a
  // multiple of IRHAL_STAGING_ALIGNMENT.
  irhal_device_size_t chunk_size;
  // Slots: 0 = IRHAL_STAGING_DEFAULT_DEPTH, otherwise 2 to
  // IRHAL_STAGING_MAX_DEPTH (one slot would serialize file I/O and copies).
  uint32_t depth;
  // Optional: filled when the call returns OK.
  irhal_staging_stats_t* stats;
} irhal_staging_options_t;

// queue.read: |length| bytes (IRHAL_WHOLE_LENGTH = the rest of |buffer|) of
// |file| at |file_offset| into |buffer| at |buffer_offset|, after |wait|,
// signalling |signal|. Arguments are checked as irhal_device_queue_read
// checks them. |options| NULL = the defaults.
irt_status_t irhal_file_transfer_read(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_file_t* file, uint64_t file_offset,
    irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t length,
    const irhal_staging_options_t* options) IRT_MUST_USE;

// queue.write: |length| bytes of |buffer| at |buffer_offset| into |file| at
// |file_offset| (the same operand order as the read).
irt_status_t irhal_file_transfer_write(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_file_t* file, uint64_t file_offset,
    irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t length,
    const irhal_staging_options_t* options) IRT_MUST_USE;

#endif  // IRHAL_FILE_TRANSFER_H
