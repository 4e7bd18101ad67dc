#include "tests/modules_hal/fake_device.h"

#include <string.h>

//===----------------------------------------------------------------------===//
// Executables
//===----------------------------------------------------------------------===//

typedef struct fake_executable_s {
  irhal_executable_t base;
  irt_allocator_t host_allocator;
  irvm_ref_t data_owner;  // retained when the loader "aliases" the data
} fake_executable_t;

static const uint16_t fake_constant_counts[FAKE_EXECUTABLE_EXPORT_COUNT] = {1,
                                                                            1};
static const uint16_t fake_binding_counts[FAKE_EXECUTABLE_EXPORT_COUNT] = {2,
                                                                           2};

static void fake_executable_destroy(irhal_executable_t* base) {
  fake_executable_t* executable = (fake_executable_t*)base;
  irvm_ref_release(&executable->data_owner);
  irt_allocator_free(executable->host_allocator, executable);
}

static const irhal_executable_vtable_t fake_executable_vtable = {
    fake_executable_destroy};

static irt_status_t fake_device_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  fake_device_t* device = (fake_device_t*)base;
  if (!base->vtable->supports_format(base, format)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no loader for executable format '%.*s'",
                           IRT_SV_ARG(format));
  }
  fake_executable_t* executable = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      base->host_allocator, sizeof(*executable), (void**)&executable));
  irhal_executable_initialize(&executable->base, &fake_executable_vtable);
  executable->host_allocator = base->host_allocator;
  executable->base.export_count = FAKE_EXECUTABLE_EXPORT_COUNT;
  // Executables of real modules (the extra format) have unchecked counts.
  (void)data;
  (void)size;
  if (irt_string_view_equal_cstring(format, FAKE_DEVICE_FORMAT)) {
    executable->base.export_constant_counts = fake_constant_counts;
    executable->base.export_binding_counts = fake_binding_counts;
  }
  if (data_owner) irvm_ref_retain_to(data_owner, &executable->data_owner);
  ++device->executable_count;
  device->last_executable_aliased = data_owner != NULL;
  device->last_executable_constant_count = constant_count;
  for (uint32_t i = 0; i < constant_count && i < 4; ++i) {
    device->last_executable_constants[i] = constants[i];
  }
  *out_executable = &executable->base;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Queries and memory
//===----------------------------------------------------------------------===//

static irt_status_t fake_device_query_i64(irhal_device_t* base,
                                          irt_string_view_t category,
                                          irt_string_view_t key,
                                          int64_t* out_value) {
  (void)base;
  if (irt_string_view_equal_cstring(category, "hal.device") &&
      irt_string_view_equal_cstring(key, "concurrency")) {
    *out_value = 3;
    return IRT_OK;
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND, "unknown query '%.*s' '%.*s'",
                         IRT_SV_ARG(category), IRT_SV_ARG(key));
}

static bool fake_device_supports_format(irhal_device_t* base,
                                        irt_string_view_t format) {
  fake_device_t* device = (fake_device_t*)base;
  return irt_string_view_equal_cstring(format, FAKE_DEVICE_FORMAT) ||
         (device->extra_format &&
          irt_string_view_equal_cstring(format, device->extra_format));
}

// Host memory is what a CPU device hands out: visible and coherent too.
#define FAKE_HOST_MEMORY \
  (IRHAL_MEMORY_TYPE_HOST_VISIBLE | IRHAL_MEMORY_TYPE_HOST_COHERENT)

static irt_status_t fake_device_allocate_buffer(irhal_device_t* base,
                                                uint32_t memory_type,
                                                uint32_t usage,
                                                irhal_device_size_t size,
                                                irhal_buffer_t** out_buffer) {
  return irhal_host_buffer_allocate(base->host_allocator,
                                    memory_type | FAKE_HOST_MEMORY, usage, size,
                                    out_buffer);
}

static irt_status_t fake_device_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  if (((fake_device_t*)base)->refuse_import) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "the fake device refuses host memory");
  }
  return irhal_host_buffer_wrap(base->host_allocator, data, length,
                                memory_type | FAKE_HOST_MEMORY, usage, access,
                                release, out_buffer);
}

//===----------------------------------------------------------------------===//
// Queue: ops run inline once their wait fence is reached
//===----------------------------------------------------------------------===//

static irt_status_t fake_map(irhal_buffer_t* buffer, uint32_t access,
                             irhal_device_size_t offset,
                             irhal_device_size_t length, uint8_t** out_ptr) {
  void* ptr = NULL;
  IRT_RETURN_IF_ERROR(irhal_buffer_map(buffer, access, offset, length, &ptr));
  *out_ptr = ptr;
  return IRT_OK;
}

static irt_status_t fake_fill(irhal_buffer_t* buffer,
                              irhal_device_size_t offset,
                              irhal_device_size_t length, uint64_t pattern,
                              uint32_t pattern_length) {
  uint8_t* ptr = NULL;
  IRT_RETURN_IF_ERROR(
      fake_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, offset, length, &ptr));
  for (irhal_device_size_t i = 0; i < length; i += pattern_length) {
    memcpy(ptr + i, &pattern, pattern_length);
  }
  return IRT_OK;
}

static irt_status_t fake_copy(irhal_buffer_t* source,
                              irhal_device_size_t source_offset,
                              irhal_buffer_t* target,
                              irhal_device_size_t target_offset,
                              irhal_device_size_t length) {
  uint8_t* from = NULL;
  uint8_t* to = NULL;
  IRT_RETURN_IF_ERROR(
      fake_map(source, IRHAL_MEMORY_ACCESS_READ, source_offset, length, &from));
  IRT_RETURN_IF_ERROR(
      fake_map(target, IRHAL_MEMORY_ACCESS_WRITE, target_offset, length, &to));
  memmove(to, from, (size_t)length);
  return IRT_OK;
}

static irt_status_t fake_resolve(const irhal_buffer_ref_t* ref,
                                 const irhal_binding_table_t* table,
                                 irhal_resolved_ref_t* out) {
  IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(ref, table, out));
  if (!out->buffer) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "indirect reference to slot %u without a binding "
                           "table",
                           ref->slot);
  }
  return IRT_OK;
}

static irt_status_t fake_dispatch(fake_device_t* device,
                                  const irhal_command_t* command,
                                  const irhal_binding_table_t* table) {
  fake_dispatch_t record;
  memset(&record, 0, sizeof(record));
  record.export_ordinal = command->dispatch.export_ordinal;
  memcpy(record.workgroup_count, command->dispatch.workgroup_count,
         sizeof(record.workgroup_count));
  record.flags = command->dispatch.flags;
  if (command->dispatch.indirect) {
    irhal_resolved_ref_t counts;
    IRT_RETURN_IF_ERROR(
        fake_resolve(&command->dispatch.workgroups_ref, table, &counts));
    uint8_t* ptr = NULL;
    IRT_RETURN_IF_ERROR(fake_map(counts.buffer, IRHAL_MEMORY_ACCESS_READ,
                                 counts.offset, sizeof(record.workgroup_count),
                                 &ptr));
    memcpy(record.workgroup_count, ptr, sizeof(record.workgroup_count));
  }
  record.constant_count = command->dispatch.constant_count;
  for (uint32_t i = 0; i < record.constant_count && i < 8; ++i) {
    record.constants[i] = command->dispatch.constants[i];
  }
  record.binding_count = command->dispatch.binding_count;
  for (uint32_t i = 0; i < record.binding_count; ++i) {
    IRT_RETURN_IF_ERROR(fake_resolve(&command->dispatch.bindings[i], table,
                                     &record.bindings[i]));
  }
  if (device->dispatch_count < 4) {
    device->dispatches[device->dispatch_count] = record;
  }
  ++device->dispatch_count;
  return IRT_OK;
}

static irt_status_t fake_run_command(fake_device_t* device,
                                     const irhal_command_t* command,
                                     const irhal_binding_table_t* table) {
  irhal_resolved_ref_t a, b;
  switch (command->kind) {
    case IRHAL_COMMAND_BARRIER:
      return IRT_OK;  // commands run in order anyway
    case IRHAL_COMMAND_FILL:
      IRT_RETURN_IF_ERROR(fake_resolve(&command->fill.target, table, &a));
      return fake_fill(a.buffer, a.offset, a.length, command->fill.pattern,
                       command->fill.pattern_length);
    case IRHAL_COMMAND_UPDATE: {
      IRT_RETURN_IF_ERROR(fake_resolve(&command->update.target, table, &a));
      uint8_t* ptr = NULL;
      IRT_RETURN_IF_ERROR(fake_map(a.buffer, IRHAL_MEMORY_ACCESS_WRITE,
                                   a.offset, a.length, &ptr));
      memcpy(ptr, command->update.data, (size_t)a.length);
      return IRT_OK;
    }
    case IRHAL_COMMAND_COPY:
      IRT_RETURN_IF_ERROR(fake_resolve(&command->copy.source, table, &a));
      IRT_RETURN_IF_ERROR(fake_resolve(&command->copy.target, table, &b));
      return fake_copy(a.buffer, a.offset, b.buffer, b.offset, a.length);
    case IRHAL_COMMAND_DISPATCH:
      return fake_dispatch(device, command, table);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown command kind %d",
                         (int)command->kind);
}

static irt_status_t fake_execute(fake_device_t* device, irhal_queue_op_t* op) {
  irhal_command_buffer_t* cb = op->execute.command_buffer;
  for (uint32_t i = 0; i < irhal_command_buffer_command_count(cb); ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        fake_run_command(device, irhal_command_buffer_command(cb, i),
                         &op->execute.binding_table),
        "command %u", i);
  }
  return IRT_OK;
}

static irt_status_t fake_transfer(irhal_queue_op_t* op, bool read) {
  uint8_t* ptr = NULL;
  IRT_RETURN_IF_ERROR(
      fake_map(op->transfer.buffer,
               read ? IRHAL_MEMORY_ACCESS_WRITE : IRHAL_MEMORY_ACCESS_READ,
               op->transfer.buffer_offset, op->transfer.length, &ptr));
  return read ? irhal_file_read(op->transfer.file, op->transfer.file_offset,
                                ptr, op->transfer.length)
              : irhal_file_write(op->transfer.file, op->transfer.file_offset,
                                 ptr, op->transfer.length);
}

static irt_status_t fake_run_op(fake_device_t* device, irhal_queue_op_t* op) {
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return IRT_OK;
    case IRHAL_QUEUE_OP_FILL:
      return fake_fill(op->fill.target, op->fill.offset, op->fill.length,
                       op->fill.pattern, op->fill.pattern_length);
    case IRHAL_QUEUE_OP_UPDATE: {
      uint8_t* ptr = NULL;
      IRT_RETURN_IF_ERROR(fake_map(op->update.target, IRHAL_MEMORY_ACCESS_WRITE,
                                   op->update.offset, op->update.length, &ptr));
      memcpy(ptr, op->update.data, (size_t)op->update.length);
      return IRT_OK;
    }
    case IRHAL_QUEUE_OP_COPY:
      return fake_copy(op->copy.source, op->copy.source_offset, op->copy.target,
                       op->copy.target_offset, op->copy.length);
    case IRHAL_QUEUE_OP_READ:
      return fake_transfer(op, true);
    case IRHAL_QUEUE_OP_WRITE:
      return fake_transfer(op, false);
    case IRHAL_QUEUE_OP_EXECUTE:
      return fake_execute(device, op);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown queue op %d",
                         (int)op->kind);
}

typedef struct fake_pending_s {
  fake_device_t* device;
  irhal_queue_op_t* op;
} fake_pending_t;

// Runs when the op's wait fence is reached or fails; a failed wait fails the
// op's signal fence without running it.
static void fake_wait_done(void* user_data, irt_status_t status) {
  fake_pending_t pending = *(fake_pending_t*)user_data;
  irt_allocator_free(pending.op->host_allocator, user_data);
  if (irt_status_is_ok(status))
    status = fake_run_op(pending.device, pending.op);
  irhal_queue_op_complete(pending.op, status);
}

static irt_status_t fake_device_queue_submit(irhal_device_t* base,
                                             irhal_queue_op_t* op) {
  fake_device_t* device = (fake_device_t*)base;
  fake_pending_t* pending = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(op->host_allocator, sizeof(*pending),
                                           (void**)&pending));
  pending->device = device;
  pending->op = op;
  ++device->submit_count;
  irt_status_t status =
      irhal_fence_notify(op->wait_fence, fake_wait_done, pending);
  if (!irt_status_is_ok(status)) {
    irt_allocator_free(op->host_allocator, pending);
  }
  return status;
}

static void fake_device_destroy(irhal_device_t* base) {
  irt_allocator_free(base->host_allocator, base);
}

static const irhal_device_vtable_t fake_device_vtable = {
    .destroy = fake_device_destroy,
    .query_i64 = fake_device_query_i64,
    .supports_format = fake_device_supports_format,
    .allocate_buffer = fake_device_allocate_buffer,
    .import_host_buffer = fake_device_import_host_buffer,
    .create_executable = fake_device_create_executable,
    .queue_submit = fake_device_queue_submit,
};

irt_status_t fake_device_create(irt_allocator_t host_allocator,
                                fake_device_t** out_device) {
  fake_device_t* device = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*device), (void**)&device));
  irhal_device_initialize(&device->base, &fake_device_vtable,
                          irt_make_cstring_view(FAKE_DEVICE_ID),
                          host_allocator);
  *out_device = device;
  return IRT_OK;
}
