#include "hal/file_transfer.h"

#include <inttypes.h>
#include <pthread.h>

#include "runtime/base/math.h"

// Staging memory (spec 4.3): OPTIMAL_FOR_HOST | DEVICE_VISIBLE, written
// sequentially by the host for reads; read back (cached) for writes.
#define IRHAL_STAGING_MEMORY_TYPE                             \
  (IRHAL_MEMORY_TYPE_OPTIMAL | IRHAL_MEMORY_TYPE_HOST_LOCAL | \
   IRHAL_MEMORY_TYPE_DEVICE_VISIBLE)
#define IRHAL_STAGING_READ_USAGE                                     \
  (IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING_SCOPED | \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_SEQUENTIAL_WRITE)
#define IRHAL_STAGING_WRITE_USAGE                                    \
  (IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING_SCOPED | \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_RANDOM)

// One slot: chunks through it are copied in order, each copy advancing the
// slot's timeline, so the host reuses the slot once |value| is reached.
typedef struct irhal_staging_slot_s {
  irhal_semaphore_t* semaphore;
  uint64_t value;  // signalled by the last copy through the slot
  uint8_t* data;   // the slot's bytes, mapped for the host
} irhal_staging_slot_t;

// The state of one transfer, on the caller's stack.
typedef struct irhal_staging_ring_s {
  irhal_device_t* device;
  uint64_t affinity;
  bool read;  // file -> buffer
  irhal_file_t* file;
  uint64_t file_offset;
  irhal_buffer_t* buffer;  // the transfer's device buffer
  irhal_device_size_t buffer_offset;
  irhal_device_size_t length;
  irhal_buffer_t* staging;  // depth x chunk_size
  irhal_staging_stats_t stats;
  irhal_staging_slot_t slots[IRHAL_STAGING_MAX_DEPTH];
  // Reads fill the slots from one host thread per slot (the calling thread
  // and depth - 1 helpers) so file reads keep up with fast copy engines.
  // Guards the slots' |value|, |stats| and |failure| while they run.
  pthread_mutex_t mutex;
  // The failure of the earliest chunk that failed (readers stop at later
  // chunks but finish earlier ones, so the report does not depend on
  // timing), and that chunk's index (UINT64_MAX: none).
  irt_status_t failure;
  uint64_t failed_chunk;
} irhal_staging_ring_t;

//===----------------------------------------------------------------------===//
// Ring
//===----------------------------------------------------------------------===//

// Chunk size, depth and chunk count for |length| bytes: the requested ring
// clamped to what the transfer needs, so small transfers stage little.
static irt_status_t irhal_staging_plan(const irhal_staging_options_t* options,
                                       irhal_device_size_t length,
                                       irhal_staging_stats_t* out_stats) {
  irhal_device_size_t chunk_size = options && options->chunk_size
                                       ? options->chunk_size
                                       : IRHAL_STAGING_DEFAULT_CHUNK_SIZE;
  uint32_t depth =
      options && options->depth ? options->depth : IRHAL_STAGING_DEFAULT_DEPTH;
  if (chunk_size % IRHAL_STAGING_ALIGNMENT) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "staging chunk size %" PRIu64
                           " is not a multiple of %u bytes",
                           chunk_size, IRHAL_STAGING_ALIGNMENT);
  }
  if (depth < 2 || depth > IRHAL_STAGING_MAX_DEPTH) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "staging depth %" PRIu32
                           " is outside [2, %u]: one slot cannot overlap file "
                           "I/O with device copies",
                           depth, IRHAL_STAGING_MAX_DEPTH);
  }
  *out_stats = (irhal_staging_stats_t){0};
  if (length == 0) return IRT_OK;
  uint64_t chunk_count = length / chunk_size + (length % chunk_size != 0);
  if (chunk_count == 1) {
    // One chunk: as much staging as the bytes need, kept aligned.
    chunk_size = irt_align_size((size_t)length, IRHAL_STAGING_ALIGNMENT);
  }
  if (chunk_count < depth) depth = (uint32_t)chunk_count;
  if (!irt_mul_u64(chunk_size, depth, &out_stats->peak_staging_bytes)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "%" PRIu32 " staging slots of %" PRIu64
                           " bytes exceed the address space",
                           depth, chunk_size);
  }
  out_stats->chunk_size = chunk_size;
  out_stats->depth = depth;
  out_stats->chunk_count = chunk_count;
  return IRT_OK;
}

// Allocates and maps the staging buffer and creates the slot timelines.
// On failure the ring holds what was made (irhal_staging_ring_release).
static irt_status_t irhal_staging_ring_allocate(irhal_staging_ring_t* ring) {
  irhal_device_t* device = ring->device;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_device_queue_alloca(
          device, ring->affinity, NULL, NULL,
          IRHAL_STAGING_MEMORY_TYPE |
              (ring->read ? 0 : IRHAL_MEMORY_TYPE_HOST_CACHED),
          ring->read ? IRHAL_STAGING_READ_USAGE : IRHAL_STAGING_WRITE_USAGE,
          ring->stats.peak_staging_bytes, &ring->staging),
      "allocating %" PRIu32 " x %" PRIu64 " bytes of staging",
      ring->stats.depth, ring->stats.chunk_size);
  void* data = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_buffer_map(
          ring->staging,
          ring->read ? IRHAL_MEMORY_ACCESS_WRITE : IRHAL_MEMORY_ACCESS_READ, 0,
          ring->stats.peak_staging_bytes, &data),
      "mapping the staging buffer of device '%.*s' for the host",
      IRT_SV_ARG(device->id));
  for (uint32_t i = 0; i < ring->stats.depth; ++i) {
    ring->slots[i].data = (uint8_t*)data + (size_t)i * ring->stats.chunk_size;
    IRT_RETURN_IF_ERROR(irhal_semaphore_create(0, device->host_allocator,
                                               &ring->slots[i].semaphore));
  }
  return IRT_OK;
}

// Drops the ring's references; queued copies hold their own.
static void irhal_staging_ring_release(irhal_staging_ring_t* ring) {
  for (uint32_t i = 0; i < ring->stats.depth; ++i) {
    if (ring->slots[i].semaphore) {
      irhal_semaphore_release(ring->slots[i].semaphore);
    }
  }
  if (ring->staging) irhal_buffer_release(ring->staging);
}

// Bytes of chunk |index| (the last one may be short).
static irhal_device_size_t irhal_staging_chunk_length(
    const irhal_staging_ring_t* ring, uint64_t index) {
  irhal_device_size_t offset = index * ring->stats.chunk_size;
  return ring->length - offset < ring->stats.chunk_size
             ? ring->length - offset
             : ring->stats.chunk_size;
}

// Blocks until every copy through |slot| completed; their failure if any.
static irt_status_t irhal_staging_slot_wait(const irhal_staging_slot_t* slot) {
  return irhal_semaphore_wait(slot->semaphore, slot->value, INT64_MAX);
}

// Copies queued and not yet complete (failed ones are complete).
static uint32_t irhal_staging_in_flight(const irhal_staging_ring_t* ring) {
  uint32_t count = 0;
  for (uint32_t i = 0; i < ring->stats.depth; ++i) {
    uint64_t value = 0;
    irt_status_t status =
        irhal_semaphore_query(ring->slots[i].semaphore, &value);
    if (status) {
      irt_status_free(status);
      continue;
    }
    count += value < ring->slots[i].value;
  }
  return count;
}

// Queues the device copy of chunk |index| between the transfer's buffer and
// its slot, after |wait|; it advances the slot's timeline.
static irt_status_t irhal_staging_copy(irhal_staging_ring_t* ring,
                                       uint64_t index, irhal_fence_t* wait) {
  uint32_t slot_index = (uint32_t)(index % ring->stats.depth);
  irhal_staging_slot_t* slot = &ring->slots[slot_index];
  irhal_device_size_t offset = index * ring->stats.chunk_size;
  irhal_device_size_t length = irhal_staging_chunk_length(ring, index);
  irhal_device_size_t slot_offset =
      (irhal_device_size_t)slot_index * ring->stats.chunk_size;
  irhal_fence_t* signal = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_fence_create(1, ring->device->host_allocator, &signal));
  irt_status_t status =
      irhal_fence_insert(signal, slot->semaphore, slot->value + 1);
  if (!status) {
    status = ring->read
                 ? irhal_device_queue_copy(ring->device, ring->affinity, wait,
                                           signal, ring->staging, slot_offset,
                                           ring->buffer,
                                           ring->buffer_offset + offset, length)
                 : irhal_device_queue_copy(ring->device, ring->affinity, wait,
                                           signal, ring->buffer,
                                           ring->buffer_offset + offset,
                                           ring->staging, slot_offset, length);
  }
  irhal_fence_release(signal);
  IRT_RETURN_IF_ERROR_CTX(status, "queueing the device copy of chunk %" PRIu64,
                          index);
  pthread_mutex_lock(&ring->mutex);
  ++slot->value;
  uint32_t in_flight = irhal_staging_in_flight(ring);
  if (in_flight > ring->stats.max_copies_in_flight) {
    ring->stats.max_copies_in_flight = in_flight;
  }
  pthread_mutex_unlock(&ring->mutex);
  return IRT_OK;
}

// The host side of chunk |index|: waits for its slot (read: the previous
// copy out of it; write: its own copy in), then moves its bytes between the
// slot and the file.
static irt_status_t irhal_staging_file_io(irhal_staging_ring_t* ring,
                                          uint64_t index) {
  irhal_staging_slot_t* slot = &ring->slots[index % ring->stats.depth];
  IRT_RETURN_IF_ERROR_CTX(irhal_staging_slot_wait(slot),
                          "device copy through staging slot %" PRIu64,
                          index % ring->stats.depth);
  irhal_device_size_t offset = index * ring->stats.chunk_size;
  irhal_device_size_t length = irhal_staging_chunk_length(ring, index);
  uint64_t file_offset = ring->file_offset + offset;
  IRT_RETURN_IF_ERROR_CTX(
      ring->read
          ? irhal_file_read(ring->file, file_offset, slot->data, length)
          : irhal_file_write(ring->file, file_offset, slot->data, length),
      "%s chunk %" PRIu64 " of %" PRIu64 " at file offset %" PRIu64,
      ring->read ? "reading" : "writing", index, ring->stats.chunk_count,
      file_offset);
  return IRT_OK;
}

// Ends a started transfer. On success |signal| follows every copy on the
// queue; on failure the copies already queued finish first (they use the
// caller's buffer), then |signal| fails with |status|.
static void irhal_staging_finish(irhal_staging_ring_t* ring,
                                 irhal_fence_t* signal, irt_status_t status) {
  if (!status) {
    irhal_fence_t* copies = NULL;
    status = irhal_fence_create(ring->stats.depth, ring->device->host_allocator,
                                &copies);
    for (uint32_t i = 0; !status && i < ring->stats.depth; ++i) {
      status = irhal_fence_insert(copies, ring->slots[i].semaphore,
                                  ring->slots[i].value);
    }
    if (!status) {
      status = irhal_device_queue_barrier(ring->device, ring->affinity, copies,
                                          signal);
    }
    if (copies) irhal_fence_release(copies);
    if (!status) return;
  }
  for (uint32_t i = 0; i < ring->stats.depth; ++i) {
    irt_status_free(irhal_staging_slot_wait(&ring->slots[i]));
  }
  irhal_fence_fail(
      signal,
      irt_status_annotate(status,
                          "staged queue.%s of %" PRIu64
                          " bytes through %" PRIu32 " x %" PRIu64 "-byte slots",
                          ring->read ? "read" : "write", ring->length,
                          ring->stats.depth, ring->stats.chunk_size));
}

//===----------------------------------------------------------------------===//
// Transfers
//===----------------------------------------------------------------------===//

// One reader: the chunks of slot |first| (k = first, first + depth, ...),
// each read into the slot once its previous copy is done, then copied.
typedef struct irhal_staging_reader_s {
  irhal_staging_ring_t* ring;
  uint32_t first;
  pthread_t thread;
} irhal_staging_reader_t;

// True once a chunk before |index| failed.
static bool irhal_staging_failed_before(irhal_staging_ring_t* ring,
                                        uint64_t index) {
  pthread_mutex_lock(&ring->mutex);
  bool failed = ring->failed_chunk < index;
  pthread_mutex_unlock(&ring->mutex);
  return failed;
}

// Keeps |status| (taken over) when chunk |index| is the earliest failure.
static void irhal_staging_record_failure(irhal_staging_ring_t* ring,
                                         uint64_t index, irt_status_t status) {
  pthread_mutex_lock(&ring->mutex);
  if (index < ring->failed_chunk) {
    irt_status_free(ring->failure);
    ring->failure = status;
    ring->failed_chunk = index;
    status = IRT_OK;
  }
  pthread_mutex_unlock(&ring->mutex);
  irt_status_free(status);
}

static void* irhal_staging_reader_main(void* arg) {
  irhal_staging_reader_t* reader = arg;
  irhal_staging_ring_t* ring = reader->ring;
  for (uint64_t k = reader->first; k < ring->stats.chunk_count;
       k += ring->stats.depth) {
    if (irhal_staging_failed_before(ring, k)) break;
    irt_status_t status = irhal_staging_file_io(ring, k);
    if (!status) status = irhal_staging_copy(ring, k, NULL);
    if (status) {
      irhal_staging_record_failure(ring, k, status);
      break;
    }
  }
  return NULL;
}

// Read: each slot's reader fills it from the file while the other slots'
// copies run; the calling thread reads slot 0. A helper that cannot start
// fails the transfer (its chunks would be missing).
static irt_status_t irhal_staging_run_read(irhal_staging_ring_t* ring,
                                           irhal_fence_t* wait) {
  // The file bytes may come from queued writes: nothing is read before.
  IRT_RETURN_IF_ERROR_CTX(irhal_fence_wait(wait, INT64_MAX),
                          "waiting for the wait fence; nothing was read");
  irhal_staging_reader_t readers[IRHAL_STAGING_MAX_DEPTH];
  uint32_t started = 1;
  for (uint32_t i = 0; i < ring->stats.depth; ++i) {
    readers[i] = (irhal_staging_reader_t){.ring = ring, .first = i};
  }
  for (; started < ring->stats.depth; ++started) {
    if (pthread_create(&readers[started].thread, NULL,
                       irhal_staging_reader_main, &readers[started]) != 0) {
      // Its first chunk would be missing.
      irhal_staging_record_failure(
          ring, started,
          irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                          "cannot start a staging reader"));
      break;
    }
  }
  irhal_staging_reader_main(&readers[0]);
  for (uint32_t i = 1; i < started; ++i) {
    pthread_join(readers[i].thread, NULL);
  }
  irt_status_t failure = ring->failure;
  ring->failure = IRT_OK;
  ring->failed_chunk = UINT64_MAX;
  return failure;
}

// Write: copies fill the first slots after |wait|; each slot written to the
// file is refilled with the chunk |depth| ahead.
static irt_status_t irhal_staging_run_write(irhal_staging_ring_t* ring,
                                            irhal_fence_t* wait) {
  uint32_t depth = ring->stats.depth;
  for (uint32_t k = 0; k < depth; ++k) {
    IRT_RETURN_IF_ERROR(irhal_staging_copy(ring, k, wait));
  }
  for (uint64_t k = 0; k < ring->stats.chunk_count; ++k) {
    IRT_RETURN_IF_ERROR(irhal_staging_file_io(ring, k));
    if (k + depth < ring->stats.chunk_count) {
      IRT_RETURN_IF_ERROR(irhal_staging_copy(ring, k + depth, NULL));
    }
  }
  return IRT_OK;
}

static irt_status_t irhal_staging_transfer(
    bool read, irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_file_t* file, uint64_t file_offset,
    irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t length, const irhal_staging_options_t* options) {
  IRT_RETURN_IF_ERROR(irhal_device_check_file_transfer(
      read, file, file_offset, buffer, buffer_offset, &length));
  irhal_staging_ring_t ring = {
      .device = device,
      .affinity = affinity,
      .read = read,
      .file = file,
      .file_offset = file_offset,
      .buffer = buffer,
      .buffer_offset = buffer_offset,
      .length = length,
  };
  IRT_RETURN_IF_ERROR(irhal_staging_plan(options, length, &ring.stats));
  if (length == 0) {
    IRT_RETURN_IF_ERROR(
        irhal_device_queue_barrier(device, affinity, wait, signal));
  } else {
    pthread_mutex_init(&ring.mutex, NULL);
    ring.failed_chunk = UINT64_MAX;
    irt_status_t status = irhal_staging_ring_allocate(&ring);
    if (!status) {
      // From here on failures fail |signal| instead of being returned.
      irhal_staging_finish(&ring, signal,
                           read ? irhal_staging_run_read(&ring, wait)
                                : irhal_staging_run_write(&ring, wait));
    }
    irhal_staging_ring_release(&ring);
    pthread_mutex_destroy(&ring.mutex);
    IRT_RETURN_IF_ERROR(status);
  }
  if (options && options->stats) *options->stats = ring.stats;
  return IRT_OK;
}

irt_status_t irhal_file_transfer_read(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_file_t* file, uint64_t file_offset,
    irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t length, const irhal_staging_options_t* options) {
  return irhal_staging_transfer(true, device, affinity, wait, signal, file,
                                file_offset, buffer, buffer_offset, length,
                                options);
}

irt_status_t irhal_file_transfer_write(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_file_t* file, uint64_t file_offset,
    irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t length, const irhal_staging_options_t* options) {
  return irhal_staging_transfer(false, device, affinity, wait, signal, file,
                                file_offset, buffer, buffer_offset, length,
                                options);
}
