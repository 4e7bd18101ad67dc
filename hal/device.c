#include "hal/device.h"

#include <inttypes.h>
#include <string.h>

#include "hal/file_transfer.h"
#include "runtime/base/math.h"

static void irhal_device_destroy(void* object) {
  irhal_device_t* device = object;
  device->vtable->destroy(device);
}

const irvm_ref_type_t irhal_device_type_descriptor = {
    .name = "hal.device",
    .destroy = irhal_device_destroy,
};

void irhal_device_initialize(irhal_device_t* device,
                             const irhal_device_vtable_t* vtable,
                             irt_string_view_t id,
                             irt_allocator_t host_allocator) {
  irt_ref_count_init(&device->header.count);
  device->vtable = vtable;
  device->id = id;
  device->host_allocator = host_allocator;
  device->memory_stats = irhal_memory_stats_for(id);
}

irt_status_t irhal_device_allocate_buffer(irhal_device_t* device,
                                          uint32_t memory_type, uint32_t usage,
                                          irhal_device_size_t size,
                                          irhal_buffer_t** out_buffer) {
  IRT_RETURN_IF_ERROR(device->vtable->allocate_buffer(device, memory_type,
                                                      usage, size, out_buffer));
  irhal_buffer_t* root = (*out_buffer)->root;
  root->memory_stats = device->memory_stats;
  irhal_memory_stats_allocated(device->memory_stats, root->allocation_size);
  return IRT_OK;
}

void irhal_device_set_staging_size(irhal_device_t* device,
                                   irhal_device_size_t size) {
  device->staging_size = size;
}

//===----------------------------------------------------------------------===//
// Queries (spec 1.6)
//===----------------------------------------------------------------------===//

// Glob match: '*' matches any run (including none), '?' any one character.
// Backtracks only to the most recent '*', so time is O(|pattern| x |text|).
static bool irhal_glob_match(irt_string_view_t pattern,
                             irt_string_view_t text) {
  size_t p = 0, t = 0;
  size_t star_p = SIZE_MAX, star_t = 0;
  while (t < text.size) {
    if (p < pattern.size && pattern.data[p] == '*') {
      star_p = p++;
      star_t = t;
    } else if (p < pattern.size &&
               (pattern.data[p] == '?' || pattern.data[p] == text.data[t])) {
      ++p;
      ++t;
    } else if (star_p != SIZE_MAX) {
      p = star_p + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size && pattern.data[p] == '*') ++p;
  return p == pattern.size;
}

irt_status_t irhal_device_query_i64(irhal_device_t* device,
                                    irt_string_view_t category,
                                    irt_string_view_t key, bool* out_ok,
                                    int64_t* out_value) {
  *out_ok = false;
  *out_value = 0;
  if (irt_string_view_equal_cstring(category, "hal.device.id")) {
    *out_ok = true;
    *out_value = irhal_glob_match(key, device->id) ? 1 : 0;
    return IRT_OK;
  }
  if (irt_string_view_equal_cstring(category, "hal.executable.format")) {
    *out_ok = true;
    *out_value = device->vtable->supports_format(device, key) ? 1 : 0;
    return IRT_OK;
  }
  if (!device->vtable->query_i64) return IRT_OK;
  int64_t value = 0;
  irt_status_t status =
      device->vtable->query_i64(device, category, key, &value);
  if (irt_status_code(status) == IRT_STATUS_NOT_FOUND) {
    irt_status_free(status);
    return IRT_OK;
  }
  IRT_RETURN_IF_ERROR_CTX(status, "querying %.*s :: %.*s on device %.*s",
                          IRT_SV_ARG(category), IRT_SV_ARG(key),
                          IRT_SV_ARG(device->id));
  *out_ok = true;
  *out_value = value;
  return IRT_OK;
}

irt_status_t irhal_device_register_host_memory(irhal_device_t* device,
                                               void* data, size_t length,
                                               bool* out_registered) {
  *out_registered = false;
  if (!device->vtable->register_host_memory) return IRT_OK;
  IRT_RETURN_IF_ERROR_CTX(
      device->vtable->register_host_memory(device, data, length),
      "pinning %zu bytes of host memory for device '%.*s'", length,
      IRT_SV_ARG(device->id));
  *out_registered = true;
  return IRT_OK;
}

void irhal_device_unregister_host_memory(irhal_device_t* device, void* data) {
  if (device->vtable->unregister_host_memory) {
    device->vtable->unregister_host_memory(device, data);
  }
}

//===----------------------------------------------------------------------===//
// Queue operations
//===----------------------------------------------------------------------===//

static irt_status_t irhal_require_buffer(const irhal_buffer_t* buffer,
                                         const char* what) {
  if (!buffer) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s buffer is null",
                           what);
  }
  return IRT_OK;
}

// A buffer operand of a transfer: present, range in bounds (resolving a
// whole length) and allowing |usage|.
static irt_status_t irhal_check_transfer_buffer(const irhal_buffer_t* buffer,
                                                irhal_device_size_t offset,
                                                irhal_device_size_t* length,
                                                uint32_t usage,
                                                const char* what) {
  IRT_RETURN_IF_ERROR(irhal_require_buffer(buffer, what));
  IRT_RETURN_IF_ERROR(irhal_buffer_check_range(buffer, offset, length, what));
  return irhal_buffer_check_usage(buffer, usage, what);
}

static irt_status_t irhal_check_file(const irhal_file_t* file, uint32_t access,
                                     uint64_t offset, uint64_t length,
                                     const char* what) {
  if (!file) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s file is null",
                           what);
  }
  if (!(irhal_file_access(file) & access)) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%s file access 0x%x lacks 0x%x", what,
                           irhal_file_access(file), access);
  }
  if (!irt_range_fits(offset, length, irhal_file_length(file))) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s file range [%" PRIu64 ", +%" PRIu64
                           ") exceeds the file length %" PRIu64,
                           what, offset, length, irhal_file_length(file));
  }
  return IRT_OK;
}

static irt_status_t irhal_device_create_op(
    irhal_device_t* device, irhal_queue_op_kind_t kind, uint64_t affinity,
    irhal_fence_t* wait, irhal_fence_t* signal, irhal_queue_op_t** out_op) {
  return irhal_queue_op_create(kind, affinity, wait, signal,
                               device->host_allocator, out_op);
}

// Hands |op| to the driver; destroys it if the driver refuses it.
static irt_status_t irhal_device_submit(irhal_device_t* device,
                                        irhal_queue_op_t* op) {
  irt_status_t status = device->vtable->queue_submit(device, op);
  if (status) irhal_queue_op_destroy(op);
  return status;
}

irt_status_t irhal_device_queue_barrier(irhal_device_t* device,
                                        uint64_t affinity, irhal_fence_t* wait,
                                        irhal_fence_t* signal) {
  // Nothing observes a barrier without a signal fence (spec 1.8.3).
  if (!signal) return IRT_OK;
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_create_op(device, IRHAL_QUEUE_OP_BARRIER,
                                             affinity, wait, signal, &op));
  return irhal_device_submit(device, op);
}

irt_status_t irhal_device_queue_alloca(irhal_device_t* device,
                                       uint64_t affinity, irhal_fence_t* wait,
                                       irhal_fence_t* signal,
                                       uint32_t memory_type, uint32_t usage,
                                       irhal_device_size_t size,
                                       irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  // The memory is committed now; the barrier keeps the signal ordered after
  // the wait as the fence contract requires (spec 1.8.6).
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(irhal_device_allocate_buffer(device, memory_type,
                                                       usage, size, &buffer),
                          "queue.alloca of %" PRIu64
                          " bytes (memory type 0x%x, usage 0x%x)",
                          size, memory_type, usage);
  irt_status_t status =
      irhal_device_queue_barrier(device, affinity, wait, signal);
  if (status) {
    irhal_buffer_release(buffer);
    return status;
  }
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t irhal_device_queue_dealloca(irhal_device_t* device,
                                         uint64_t affinity, irhal_fence_t* wait,
                                         irhal_fence_t* signal,
                                         irhal_buffer_t* buffer) {
  IRT_RETURN_IF_ERROR(irhal_require_buffer(buffer, "queue.dealloca"));
  // Memory is reclaimed when the last reference drops, so work still using
  // the buffer (which retains it) can never see it freed early.
  return irhal_device_queue_barrier(device, affinity, wait, signal);
}

irt_status_t irhal_device_queue_fill(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_buffer_t* target, irhal_device_size_t offset,
    irhal_device_size_t length, uint64_t pattern, uint32_t pattern_length) {
  IRT_RETURN_IF_ERROR(irhal_check_transfer_buffer(
      target, offset, &length, IRHAL_BUFFER_USAGE_TRANSFER_TARGET,
      "queue.fill target"));
  IRT_RETURN_IF_ERROR(irhal_check_fill_pattern(offset, length, pattern_length));
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_create_op(device, IRHAL_QUEUE_OP_FILL,
                                             affinity, wait, signal, &op));
  irhal_buffer_retain(target);
  op->fill.target = target;
  op->fill.offset = offset;
  op->fill.length = length;
  op->fill.pattern = pattern;
  op->fill.pattern_length = pattern_length;
  return irhal_device_submit(device, op);
}

irt_status_t irhal_device_queue_update(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, const void* source, irhal_buffer_t* target,
    irhal_device_size_t offset, irhal_device_size_t length) {
  IRT_RETURN_IF_ERROR(irhal_check_transfer_buffer(
      target, offset, &length, IRHAL_BUFFER_USAGE_TRANSFER_TARGET,
      "queue.update target"));
  if (!source && length) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "queue.update of %" PRIu64 " bytes has no source",
                           length);
  }
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_create_op(device, IRHAL_QUEUE_OP_UPDATE,
                                             affinity, wait, signal, &op));
  // The host bytes are captured now (spec 1.8.8 rule 5).
  irt_status_t status = irt_allocator_malloc(op->host_allocator, (size_t)length,
                                             (void**)&op->update.data);
  if (status) {
    irhal_queue_op_destroy(op);
    return irt_status_annotate(
        status, "capturing %" PRIu64 " bytes for queue.update", length);
  }
  if (length) memcpy(op->update.data, source, (size_t)length);
  irhal_buffer_retain(target);
  op->update.target = target;
  op->update.offset = offset;
  op->update.length = length;
  return irhal_device_submit(device, op);
}

irt_status_t irhal_device_queue_copy(irhal_device_t* device, uint64_t affinity,
                                     irhal_fence_t* wait, irhal_fence_t* signal,
                                     irhal_buffer_t* source,
                                     irhal_device_size_t source_offset,
                                     irhal_buffer_t* target,
                                     irhal_device_size_t target_offset,
                                     irhal_device_size_t length) {
  IRT_RETURN_IF_ERROR(irhal_check_transfer_buffer(
      source, source_offset, &length, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE,
      "queue.copy source"));
  IRT_RETURN_IF_ERROR(irhal_check_transfer_buffer(
      target, target_offset, &length, IRHAL_BUFFER_USAGE_TRANSFER_TARGET,
      "queue.copy target"));
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_create_op(device, IRHAL_QUEUE_OP_COPY,
                                             affinity, wait, signal, &op));
  irhal_buffer_retain(source);
  irhal_buffer_retain(target);
  op->copy.source = source;
  op->copy.source_offset = source_offset;
  op->copy.target = target;
  op->copy.target_offset = target_offset;
  op->copy.length = length;
  return irhal_device_submit(device, op);
}

irt_status_t irhal_device_check_file_transfer(
    bool read, const irhal_file_t* file, uint64_t file_offset,
    const irhal_buffer_t* buffer, irhal_device_size_t buffer_offset,
    irhal_device_size_t* inout_length) {
  IRT_RETURN_IF_ERROR(irhal_check_transfer_buffer(
      buffer, buffer_offset, inout_length,
      read ? IRHAL_BUFFER_USAGE_TRANSFER_TARGET
           : IRHAL_BUFFER_USAGE_TRANSFER_SOURCE,
      read ? "queue.read target" : "queue.write source"));
  return irhal_check_file(
      file, read ? IRHAL_MEMORY_ACCESS_READ : IRHAL_MEMORY_ACCESS_WRITE,
      file_offset, *inout_length,
      read ? "queue.read source" : "queue.write target");
}

// READ and WRITE share everything but the direction.
static irt_status_t irhal_device_queue_transfer(
    irhal_device_t* device, irhal_queue_op_kind_t kind, uint64_t affinity,
    irhal_fence_t* wait, irhal_fence_t* signal, irhal_file_t* file,
    uint64_t file_offset, irhal_buffer_t* buffer,
    irhal_device_size_t buffer_offset, irhal_device_size_t length) {
  bool read = kind == IRHAL_QUEUE_OP_READ;
  bool staged = device->vtable->stage_file_transfers &&
                !(file && device->vtable->transfers_file_directly &&
                  device->vtable->transfers_file_directly(device, file));
  if (staged) {
    // The configured ring: the default depth of equal, aligned slots.
    irhal_staging_options_t options = {0};
    if (device->staging_size) {
      options.depth = IRHAL_STAGING_DEFAULT_DEPTH;
      options.chunk_size = device->staging_size / options.depth /
                           IRHAL_STAGING_ALIGNMENT * IRHAL_STAGING_ALIGNMENT;
      if (!options.chunk_size) options.chunk_size = IRHAL_STAGING_ALIGNMENT;
    }
    // Checks its operands itself.
    return read ? irhal_file_transfer_read(device, affinity, wait, signal, file,
                                           file_offset, buffer, buffer_offset,
                                           length, &options)
                : irhal_file_transfer_write(device, affinity, wait, signal,
                                            file, file_offset, buffer,
                                            buffer_offset, length, &options);
  }
  IRT_RETURN_IF_ERROR(irhal_device_check_file_transfer(
      read, file, file_offset, buffer, buffer_offset, &length));
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_device_create_op(device, kind, affinity, wait, signal, &op));
  irhal_file_retain(file);
  irhal_buffer_retain(buffer);
  op->transfer.file = file;
  op->transfer.file_offset = file_offset;
  op->transfer.buffer = buffer;
  op->transfer.buffer_offset = buffer_offset;
  op->transfer.length = length;
  return irhal_device_submit(device, op);
}

irt_status_t irhal_device_queue_read(irhal_device_t* device, uint64_t affinity,
                                     irhal_fence_t* wait, irhal_fence_t* signal,
                                     irhal_file_t* source, uint64_t file_offset,
                                     irhal_buffer_t* target,
                                     irhal_device_size_t target_offset,
                                     irhal_device_size_t length) {
  return irhal_device_queue_transfer(device, IRHAL_QUEUE_OP_READ, affinity,
                                     wait, signal, source, file_offset, target,
                                     target_offset, length);
}

irt_status_t irhal_device_queue_write(
    irhal_device_t* device, uint64_t affinity, irhal_fence_t* wait,
    irhal_fence_t* signal, irhal_buffer_t* source,
    irhal_device_size_t source_offset, irhal_file_t* target,
    uint64_t file_offset, irhal_device_size_t length) {
  return irhal_device_queue_transfer(device, IRHAL_QUEUE_OP_WRITE, affinity,
                                     wait, signal, target, file_offset, source,
                                     source_offset, length);
}

irt_status_t irhal_device_queue_execute(irhal_device_t* device,
                                        uint64_t affinity, irhal_fence_t* wait,
                                        irhal_fence_t* signal,
                                        irhal_command_buffer_t* command_buffer,
                                        const irhal_binding_table_t* table) {
  if (!command_buffer) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "queue.execute command buffer is null");
  }
  if (!irhal_command_buffer_is_finalized(command_buffer)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "queue.execute of a command buffer still recording");
  }
  uint32_t count = table ? table->count : 0;
  for (uint32_t i = 0; i < count; ++i) {
    const irhal_buffer_ref_t* entry = &table->entries[i];
    if (!entry->buffer) continue;  // only an error if a command uses it
    irhal_device_size_t length = entry->length;
    IRT_RETURN_IF_ERROR_CTX(
        irhal_buffer_check_range(entry->buffer, entry->offset, &length,
                                 "binding"),
        "queue.execute binding table slot %" PRIu32, i);
  }
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_create_op(device, IRHAL_QUEUE_OP_EXECUTE,
                                             affinity, wait, signal, &op));
  if (count) {
    // Captured now: the caller's table need not outlive the call.
    irhal_buffer_ref_t* entries = NULL;
    irt_status_t status = irt_allocator_calloc_array(
        op->host_allocator, count, sizeof(*entries), (void**)&entries);
    if (status) {
      irhal_queue_op_destroy(op);
      return irt_status_annotate(
          status, "capturing a binding table of %" PRIu32 " entries", count);
    }
    memcpy(entries, table->entries, count * sizeof(*entries));
    for (uint32_t i = 0; i < count; ++i) irhal_buffer_retain(entries[i].buffer);
    op->execute.binding_table = (irhal_binding_table_t){count, entries};
  }
  irhal_command_buffer_retain(command_buffer);
  op->execute.command_buffer = command_buffer;
  return irhal_device_submit(device, op);
}
