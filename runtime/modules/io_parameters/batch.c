#include "runtime/modules/io_parameters/batch.h"

#include <inttypes.h>

#include "runtime/base/math.h"
#include "runtime/io/bytes.h"

#define IRMOD_PARAMS_KEY_TABLE_ENTRY_SIZE 8
#define IRMOD_PARAMS_SPAN_SIZE 24
// Splats that a HAL fill cannot write are written as this many bytes of
// expanded pattern, then doubled with copies (a multiple of every period).
#define IRMOD_PARAMS_SPLAT_PREFIX_SIZE 4096
// Zero-copy imports need at least this alignment (spec 2.3 step 3).
#define IRMOD_PARAMS_IMPORT_ALIGNMENT 16

typedef struct irmod_params_timeline_s {
  irhal_semaphore_t* semaphore;
  uint64_t value;       // reached by the last step issued
  uint64_t bytes;       // scheduled so far
  irhal_fence_t* tail;  // (semaphore, value), retained; NULL before a step
} irmod_params_timeline_t;

typedef struct irmod_params_batch_s {
  const irmod_params_module_t* module;
  const irmod_params_request_t* request;
  uint32_t timeline_count;
  irmod_params_timeline_t timelines[IRMOD_PARAMS_MAX_TIMELINES];
} irmod_params_batch_t;

// One resolved entry of the batch.
typedef struct irmod_params_entry_s {
  uint32_t index;
  irt_string_view_t key;
  const irio_parameter_t* parameter;
  uint64_t parameter_offset;
  uint64_t buffer_offset;
  uint64_t length;
} irmod_params_entry_t;

irt_status_t irmod_params_fail_signal(irhal_fence_t* signal_fence,
                                      irt_status_t status) {
  if (!irt_status_is_ok(status) && signal_fence) {
    irhal_fence_fail(signal_fence, irt_status_clone(status));
  }
  return status;
}

irt_status_t irmod_params_batch_count(const irmod_params_request_t* request,
                                      uint32_t* out_count) {
  *out_count = 0;
  size_t count = request->spans.length / IRMOD_PARAMS_SPAN_SIZE;
  if (request->spans.length % IRMOD_PARAMS_SPAN_SIZE || count > UINT32_MAX) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s: spans buffer of %zu bytes is not a whole "
                           "number of 24-byte spans",
                           request->name, request->spans.length);
  }
  if (request->key_table.length / IRMOD_PARAMS_KEY_TABLE_ENTRY_SIZE < count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s: key table of %zu bytes holds fewer than the "
                           "%zu keys the spans need",
                           request->name, request->key_table.length, count);
  }
  *out_count = (uint32_t)count;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Timelines
//===----------------------------------------------------------------------===//

// A new timeline while fewer than the maximum exist, else the least loaded;
// charges it |bytes|.
static irt_status_t irmod_params_pick_timeline(
    irmod_params_batch_t* batch, uint64_t bytes,
    irmod_params_timeline_t** out_timeline) {
  irmod_params_timeline_t* timeline = NULL;
  if (batch->timeline_count < IRMOD_PARAMS_MAX_TIMELINES) {
    timeline = &batch->timelines[batch->timeline_count];
    IRT_RETURN_IF_ERROR(irhal_semaphore_create(0, batch->module->host_allocator,
                                               &timeline->semaphore));
    ++batch->timeline_count;
  } else {
    timeline = &batch->timelines[0];
    for (uint32_t i = 1; i < batch->timeline_count; ++i) {
      if (batch->timelines[i].bytes < timeline->bytes) {
        timeline = &batch->timelines[i];
      }
    }
  }
  timeline->bytes += bytes;
  *out_timeline = timeline;
  return IRT_OK;
}

// The fences of the next step on |timeline|: it waits for the previous step
// (or the batch's wait fence) and signals a new fence (owned by the caller
// until irmod_params_advance).
static irt_status_t irmod_params_step(irmod_params_batch_t* batch,
                                      irmod_params_timeline_t* timeline,
                                      irhal_fence_t** out_wait,
                                      irhal_fence_t** out_signal) {
  *out_wait = timeline->tail ? timeline->tail : batch->request->wait_fence;
  *out_signal = NULL;
  irhal_fence_t* signal = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_fence_create(1, batch->module->host_allocator, &signal));
  irt_status_t status =
      irhal_fence_insert(signal, timeline->semaphore, timeline->value + 1);
  if (!irt_status_is_ok(status)) {
    irhal_fence_release(signal);
    return status;
  }
  *out_signal = signal;
  return IRT_OK;
}

// Records that the step signalling |signal| was issued (takes |signal|), or
// drops it when issuing failed.
static irt_status_t irmod_params_advance(irmod_params_timeline_t* timeline,
                                         irhal_fence_t* signal,
                                         irt_status_t status) {
  if (!irt_status_is_ok(status)) {
    irhal_fence_release(signal);
    return status;
  }
  irhal_fence_release(timeline->tail);
  timeline->tail = signal;
  ++timeline->value;
  return IRT_OK;
}

// Signals the batch's signal fence once every timeline's last step is done
// (or right after the wait fence when nothing was issued).
static irt_status_t irmod_params_finish(irmod_params_batch_t* batch) {
  const irmod_params_request_t* request = batch->request;
  if (batch->timeline_count == 0) {
    return irhal_device_queue_barrier(request->device, request->queue_affinity,
                                      request->wait_fence,
                                      request->signal_fence);
  }
  irhal_fence_t* tails[IRMOD_PARAMS_MAX_TIMELINES];
  for (uint32_t i = 0; i < batch->timeline_count; ++i) {
    tails[i] = batch->timelines[i].tail;
  }
  irhal_fence_t* joined = NULL;
  IRT_RETURN_IF_ERROR(irhal_fence_join(tails, batch->timeline_count,
                                       batch->module->host_allocator, &joined));
  // A timeline picked for empty entries only has no steps: wait for the
  // batch's wait fence instead.
  irt_status_t status = irhal_device_queue_barrier(
      request->device, request->queue_affinity,
      joined ? joined : request->wait_fence, request->signal_fence);
  irhal_fence_release(joined);
  return status;
}

static void irmod_params_batch_deinitialize(irmod_params_batch_t* batch) {
  for (uint32_t i = 0; i < batch->timeline_count; ++i) {
    irhal_fence_release(batch->timelines[i].tail);
    irhal_semaphore_release(batch->timelines[i].semaphore);
  }
}

//===----------------------------------------------------------------------===//
// Transfers
//===----------------------------------------------------------------------===//

// The splat pattern as it repeats from |phase| bytes into the parameter.
static void irmod_params_rotate_pattern(const irio_entry_t* entry,
                                        uint64_t phase, uint8_t* out_pattern) {
  for (uint32_t i = 0; i < entry->pattern_length; ++i) {
    out_pattern[i] = entry->pattern[(phase + i) % entry->pattern_length];
  }
}

// The shortest repeat (1, 2, 4, 8 or 16 bytes) of |pattern|.
static uint32_t irmod_params_pattern_period(const uint8_t* pattern,
                                            uint32_t length) {
  for (uint32_t period = 1; period < length; period *= 2) {
    bool repeats = true;
    for (uint32_t i = period; i < length && repeats; ++i) {
      repeats = pattern[i] == pattern[i % period];
    }
    if (repeats) return period;
  }
  return length;
}

// Writes a splat as one HAL fill when the pattern's period is 1, 2 or 4
// bytes and the range is aligned to it; otherwise as an expanded prefix
// (queue.update) doubled with queue.copy, all on |timeline|.
static irt_status_t irmod_params_write_splat(irmod_params_batch_t* batch,
                                             irmod_params_timeline_t* timeline,
                                             const irmod_params_entry_t* entry,
                                             irhal_buffer_t* target) {
  const irmod_params_request_t* request = batch->request;
  const irio_entry_t* splat = &entry->parameter->entry;
  uint8_t pattern[IRIO_SPLAT_PATTERN_CAPACITY];
  irmod_params_rotate_pattern(splat, entry->parameter_offset, pattern);
  uint32_t period = irmod_params_pattern_period(pattern, splat->pattern_length);
  irhal_fence_t *wait = NULL, *signal = NULL;
  if (period <= 4 && entry->buffer_offset % period == 0 &&
      entry->length % period == 0) {
    uint64_t value = 0;  // the pattern's bytes in memory order (LE hosts)
    memcpy(&value, pattern, period);
    IRT_RETURN_IF_ERROR(irmod_params_step(batch, timeline, &wait, &signal));
    return irmod_params_advance(
        timeline, signal,
        irhal_device_queue_fill(request->device, request->queue_affinity, wait,
                                signal, target, entry->buffer_offset,
                                entry->length, value, period));
  }
  uint8_t prefix[IRMOD_PARAMS_SPLAT_PREFIX_SIZE];
  uint64_t filled =
      entry->length < sizeof(prefix) ? entry->length : sizeof(prefix);
  for (uint64_t i = 0; i < filled; ++i) {
    prefix[i] = pattern[i % splat->pattern_length];
  }
  IRT_RETURN_IF_ERROR(irmod_params_step(batch, timeline, &wait, &signal));
  IRT_RETURN_IF_ERROR(irmod_params_advance(
      timeline, signal,
      irhal_device_queue_update(request->device, request->queue_affinity, wait,
                                signal, prefix, target, entry->buffer_offset,
                                filled)));
  // The filled prefix is a whole number of patterns, so copies keep phase.
  while (filled < entry->length) {
    uint64_t chunk =
        filled < entry->length - filled ? filled : entry->length - filled;
    IRT_RETURN_IF_ERROR(irmod_params_step(batch, timeline, &wait, &signal));
    IRT_RETURN_IF_ERROR(irmod_params_advance(
        timeline, signal,
        irhal_device_queue_copy(request->device, request->queue_affinity, wait,
                                signal, target, entry->buffer_offset, target,
                                entry->buffer_offset + filled, chunk)));
    filled += chunk;
  }
  return IRT_OK;
}

// The archive's HAL file of |parameter|.
static irt_status_t irmod_params_file(const irmod_params_batch_t* batch,
                                      const irio_parameter_t* parameter,
                                      irhal_file_t** out_file) {
  if (parameter->archive_index >= batch->module->file_count) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "the parameter's archive was added to the index "
                           "after the module was created");
  }
  *out_file = batch->module->files[parameter->archive_index];
  return IRT_OK;
}

// Parameter bytes -> |target| at the entry's buffer offset.
static irt_status_t irmod_params_transfer_in(irmod_params_batch_t* batch,
                                             const irmod_params_entry_t* entry,
                                             irhal_buffer_t* target) {
  if (entry->length == 0) return IRT_OK;
  const irmod_params_request_t* request = batch->request;
  irmod_params_timeline_t* timeline = NULL;
  IRT_RETURN_IF_ERROR(
      irmod_params_pick_timeline(batch, entry->length, &timeline));
  if (entry->parameter->entry.storage == IRIO_ENTRY_STORAGE_SPLAT) {
    return irmod_params_write_splat(batch, timeline, entry, target);
  }
  irhal_file_t* file = NULL;
  IRT_RETURN_IF_ERROR(irmod_params_file(batch, entry->parameter, &file));
  irhal_fence_t *wait = NULL, *signal = NULL;
  IRT_RETURN_IF_ERROR(irmod_params_step(batch, timeline, &wait, &signal));
  return irmod_params_advance(
      timeline, signal,
      irhal_device_queue_read(
          request->device, request->queue_affinity, wait, signal, file,
          entry->parameter->entry.file_offset + entry->parameter_offset, target,
          entry->buffer_offset, entry->length));
}

// The request's buffer -> parameter bytes (scatter).
static irt_status_t irmod_params_transfer_out(
    irmod_params_batch_t* batch, const irmod_params_entry_t* entry) {
  const irmod_params_request_t* request = batch->request;
  if (entry->parameter->entry.storage == IRIO_ENTRY_STORAGE_SPLAT) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "splat parameters are read-only");
  }
  irhal_file_t* file = NULL;
  IRT_RETURN_IF_ERROR(irmod_params_file(batch, entry->parameter, &file));
  if (!(irhal_file_access(file) & IRHAL_MEMORY_ACCESS_WRITE)) {
    return irt_make_status(
        IRT_STATUS_PERMISSION_DENIED, "archive '%s' is open read-only",
        irio_file_mapping_path(irio_parameter_index_archive(
            batch->module->index, entry->parameter->archive_index)));
  }
  if (entry->length == 0) return IRT_OK;
  irmod_params_timeline_t* timeline = NULL;
  IRT_RETURN_IF_ERROR(
      irmod_params_pick_timeline(batch, entry->length, &timeline));
  irhal_fence_t *wait = NULL, *signal = NULL;
  IRT_RETURN_IF_ERROR(irmod_params_step(batch, timeline, &wait, &signal));
  return irmod_params_advance(
      timeline, signal,
      irhal_device_queue_write(
          request->device, request->queue_affinity, wait, signal,
          request->buffer, entry->buffer_offset, file,
          entry->parameter->entry.file_offset + entry->parameter_offset,
          entry->length));
}

// Spec 2.3 step 3: a file parameter served as a buffer aliasing the mapped
// archive. Only for immutable targets (the mapping is read-only and shared
// by every load of the parameter) at a 16-byte aligned address; *out_buffer
// stays NULL when the device declines.
static void irmod_params_try_import(const irmod_params_batch_t* batch,
                                    const irmod_params_entry_t* entry,
                                    irhal_buffer_t** out_buffer) {
  const irmod_params_request_t* request = batch->request;
  const irio_entry_t* parameter = &entry->parameter->entry;
  *out_buffer = NULL;
  if (parameter->storage != IRIO_ENTRY_STORAGE_FILE || entry->length == 0 ||
      !(request->target_buffer_usage & IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE)) {
    return;
  }
  irio_file_mapping_t* mapping = irio_parameter_index_archive(
      batch->module->index, entry->parameter->archive_index);
  uint8_t* address = irio_file_mapping_data(mapping) + parameter->file_offset +
                     entry->parameter_offset;
  if ((uintptr_t)address % IRMOD_PARAMS_IMPORT_ALIGNMENT) return;
  // The buffer keeps the mapping alive.
  irio_file_mapping_retain(mapping);
  irhal_release_callback_t release = {irio_file_mapping_release_callback,
                                      mapping};
  irhal_device_t* device = request->device;
  irt_status_t status = device->vtable->import_host_buffer(
      device, address, entry->length, request->target_memory_type,
      request->target_buffer_usage, IRHAL_MEMORY_ACCESS_READ, release,
      out_buffer);
  if (!irt_status_is_ok(status)) {
    irio_file_mapping_release(mapping);  // a failed import never releases
    irt_status_free(status);             // the copy path takes over
    *out_buffer = NULL;
  }
}

// LOAD: a buffer holding the entry's bytes (imported or allocated + filled).
static irt_status_t irmod_params_load_entry(irmod_params_batch_t* batch,
                                            const irmod_params_entry_t* entry,
                                            irhal_buffer_t** out_buffer) {
  const irmod_params_request_t* request = batch->request;
  irmod_params_try_import(batch, entry, out_buffer);
  if (*out_buffer) return IRT_OK;
  // Allocated now (no fences: nothing to order); filled after the wait.
  IRT_RETURN_IF_ERROR(irhal_device_queue_alloca(
      request->device, request->target_queue_affinity, NULL, NULL,
      request->target_memory_type, request->target_buffer_usage, entry->length,
      out_buffer));
  irmod_params_entry_t placed = *entry;
  placed.buffer_offset = 0;  // the buffer is the parameter's slice
  return irmod_params_transfer_in(batch, &placed, *out_buffer);
}

//===----------------------------------------------------------------------===//
// Entries
//===----------------------------------------------------------------------===//

// Key |index| of the key table (spec 2.2 validation).
static irt_status_t irmod_params_read_key(const irmod_params_request_t* request,
                                          uint32_t index,
                                          irt_string_view_t* out_key) {
  const uint8_t* bytes = request->key_table.data +
                         (size_t)index * IRMOD_PARAMS_KEY_TABLE_ENTRY_SIZE;
  uint32_t offset = irio_load_le32(bytes);
  uint32_t length = irio_load_le32(bytes + 4);
  if (offset > request->key_data.length ||
      (length > 0 && length > request->key_data.length - offset)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s entry %" PRIu32 ": key [%" PRIu32 ", +%" PRIu32
                           ") exceeds the %zu bytes of key data",
                           request->name, index, offset, length,
                           request->key_data.length);
  }
  *out_key = irt_make_string_view(
      length ? (const char*)request->key_data.data + offset : "", length);
  return IRT_OK;
}

// Resolves entry |index|: key, parameter and a span within the parameter.
static irt_status_t irmod_params_resolve(const irmod_params_batch_t* batch,
                                         uint32_t index,
                                         irmod_params_entry_t* out_entry) {
  const irmod_params_request_t* request = batch->request;
  out_entry->index = index;
  IRT_RETURN_IF_ERROR(irmod_params_read_key(request, index, &out_entry->key));
  IRT_RETURN_IF_ERROR(
      irio_parameter_index_lookup(batch->module->index, request->scope,
                                  out_entry->key, &out_entry->parameter));
  const uint8_t* span =
      request->spans.data + (size_t)index * IRMOD_PARAMS_SPAN_SIZE;
  out_entry->parameter_offset = irio_load_le64(span);
  out_entry->buffer_offset = irio_load_le64(span + 8);
  out_entry->length = irio_load_le64(span + 16);
  uint64_t parameter_length = out_entry->parameter->entry.length;
  if (!irt_range_fits(out_entry->parameter_offset, out_entry->length,
                      parameter_length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "span [%" PRIu64 ", +%" PRIu64
                           ") exceeds the %" PRIu64 "-byte parameter",
                           out_entry->parameter_offset, out_entry->length,
                           parameter_length);
  }
  return IRT_OK;
}

static irt_status_t irmod_params_run_entry(irmod_params_batch_t* batch,
                                           uint32_t index,
                                           irhal_buffer_t** out_buffers) {
  irmod_params_entry_t entry;
  IRT_RETURN_IF_ERROR(irmod_params_resolve(batch, index, &entry));
  switch (batch->request->op) {
    case IRMOD_PARAMS_LOAD:
      return irmod_params_load_entry(batch, &entry, &out_buffers[index]);
    case IRMOD_PARAMS_GATHER:
      return irmod_params_transfer_in(batch, &entry, batch->request->buffer);
    case IRMOD_PARAMS_SCATTER:
      return irmod_params_transfer_out(batch, &entry);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown io_parameters op");
}

// Adds "NAME entry I (key 'K' in scope 'S')" to an entry's failure.
static irt_status_t irmod_params_annotate(const irmod_params_request_t* request,
                                          uint32_t index, irt_status_t status) {
  irt_string_view_t key;
  char key_text[96], scope_text[64];
  irio_format_key(request->scope, scope_text, sizeof(scope_text));
  irt_status_t key_status = irmod_params_read_key(request, index, &key);
  if (!irt_status_is_ok(key_status)) {
    irt_status_free(key_status);
    return irt_status_annotate(status, "%s entry %" PRIu32 " in scope '%s'",
                               request->name, index, scope_text);
  }
  return irt_status_annotate(
      status, "%s entry %" PRIu32 " (key '%s' in scope '%s')", request->name,
      index, irio_format_key(key, key_text, sizeof(key_text)), scope_text);
}

irt_status_t irmod_params_batch_run(const irmod_params_module_t* module,
                                    const irmod_params_request_t* request,
                                    irhal_buffer_t** out_buffers) {
  uint32_t count = 0;
  irt_status_t status = irmod_params_batch_count(request, &count);
  irmod_params_batch_t batch = {.module = module, .request = request};
  for (uint32_t i = 0; i < count && irt_status_is_ok(status); ++i) {
    status = irmod_params_run_entry(&batch, i, out_buffers);
    if (!irt_status_is_ok(status)) {
      status = irmod_params_annotate(request, i, status);
    }
  }
  if (irt_status_is_ok(status)) status = irmod_params_finish(&batch);
  irmod_params_batch_deinitialize(&batch);
  if (!irt_status_is_ok(status) && request->op == IRMOD_PARAMS_LOAD) {
    for (uint32_t i = 0; i < count; ++i) {
      irhal_buffer_release(out_buffers[i]);
      out_buffers[i] = NULL;
    }
  }
  return irmod_params_fail_signal(request->signal_fence, status);
}
