#include "hal/cpu/cpu_queue.h"

#include <inttypes.h>
#include <string.h>

#include "hal/cpu/cpu_executable.h"
#include "hal/cpu/dispatch.h"
#include "runtime/base/math.h"

// Per-slot workgroup local memory blocks start on this boundary, like the
// buffers compiled code expects.
#define IRHAL_CPU_LOCAL_MEMORY_ALIGNMENT 64

static irt_status_t irhal_cpu_map(irhal_buffer_t* buffer, uint32_t access,
                                  irhal_device_size_t offset,
                                  irhal_device_size_t length,
                                  uint8_t** out_ptr) {
  void* ptr = NULL;
  IRT_RETURN_IF_ERROR(irhal_buffer_map(buffer, access, offset, length, &ptr));
  *out_ptr = ptr;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Transfers
//===----------------------------------------------------------------------===//

// Writes the pattern once, then doubles the filled prefix with memcpy.
static void irhal_cpu_fill_bytes(uint8_t* target, size_t length,
                                 uint64_t pattern, uint32_t pattern_length) {
  if (length == 0) return;
  if (pattern_length == 1) {
    memset(target, (uint8_t)pattern, length);
    return;
  }
  // The pattern's own bytes in memory order (its low bits), like a store of
  // the narrowed integer.
  uint16_t pattern16 = (uint16_t)pattern;
  uint32_t pattern32 = (uint32_t)pattern;
  memcpy(target, pattern_length == 2 ? (const void*)&pattern16 : &pattern32,
         pattern_length);
  size_t filled = pattern_length;
  while (filled < length) {
    size_t chunk = filled < length - filled ? filled : length - filled;
    memcpy(target + filled, target, chunk);
    filled += chunk;
  }
}

static irt_status_t irhal_cpu_fill(irhal_buffer_t* buffer,
                                   irhal_device_size_t offset,
                                   irhal_device_size_t length, uint64_t pattern,
                                   uint32_t pattern_length) {
  IRT_RETURN_IF_ERROR(irhal_check_fill_pattern(offset, length, pattern_length));
  uint8_t* target = NULL;
  IRT_RETURN_IF_ERROR(irhal_cpu_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, offset,
                                    length, &target));
  irhal_cpu_fill_bytes(target, (size_t)length, pattern, pattern_length);
  return IRT_OK;
}

static irt_status_t irhal_cpu_update(const uint8_t* data,
                                     irhal_buffer_t* buffer,
                                     irhal_device_size_t offset,
                                     irhal_device_size_t length) {
  uint8_t* target = NULL;
  IRT_RETURN_IF_ERROR(irhal_cpu_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, offset,
                                    length, &target));
  if (length) memcpy(target, data, (size_t)length);
  return IRT_OK;
}

// memmove: source and target may be ranges of the same buffer.
static irt_status_t irhal_cpu_copy(irhal_buffer_t* source,
                                   irhal_device_size_t source_offset,
                                   irhal_buffer_t* target,
                                   irhal_device_size_t target_offset,
                                   irhal_device_size_t length) {
  uint8_t* from = NULL;
  uint8_t* to = NULL;
  IRT_RETURN_IF_ERROR(irhal_cpu_map(source, IRHAL_MEMORY_ACCESS_READ,
                                    source_offset, length, &from));
  IRT_RETURN_IF_ERROR(irhal_cpu_map(target, IRHAL_MEMORY_ACCESS_WRITE,
                                    target_offset, length, &to));
  if (length) memmove(to, from, (size_t)length);
  return IRT_OK;
}

// Buffers are host memory, so a file transfer is one synchronous read or
// write straight into/out of the buffer: a memcpy for memory files, pread or
// pwrite for fd files. No staging is needed (spec 4.3 allows direct paths).
static irt_status_t irhal_cpu_transfer(irhal_queue_op_t* op) {
  bool read = op->kind == IRHAL_QUEUE_OP_READ;
  uint8_t* data = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_cpu_map(op->transfer.buffer,
                    read ? IRHAL_MEMORY_ACCESS_WRITE : IRHAL_MEMORY_ACCESS_READ,
                    op->transfer.buffer_offset, op->transfer.length, &data));
  return read ? irhal_file_read(op->transfer.file, op->transfer.file_offset,
                                data, op->transfer.length)
              : irhal_file_write(op->transfer.file, op->transfer.file_offset,
                                 data, op->transfer.length);
}

//===----------------------------------------------------------------------===//
// Command buffer replay
//===----------------------------------------------------------------------===//

// Workgroups of one dispatch run as chunks of a parallel-for; each slot has
// its own block of local memory.
typedef struct irhal_cpu_tiles_s {
  const irhal_cpu_dispatch_t* dispatch;
  uint8_t* local_memory;
  size_t local_memory_stride;
} irhal_cpu_tiles_t;

static irt_status_t irhal_cpu_run_tiles(void* arg, uint32_t slot,
                                        uint64_t first, uint64_t count) {
  const irhal_cpu_tiles_t* tiles = arg;
  uint8_t* local_memory =
      tiles->local_memory
          ? tiles->local_memory + (size_t)slot * tiles->local_memory_stride
          : NULL;
  return irhal_cpu_dispatch_run_range(tiles->dispatch, first, count,
                                      local_memory,
                                      tiles->dispatch->local_memory_size);
}

// Runs every workgroup of a prepared dispatch (spec 5.8 steps 5-7).
static irt_status_t irhal_cpu_run_workgroups(
    const irhal_cpu_executor_t* executor,
    const irhal_cpu_dispatch_t* dispatch) {
  uint32_t slots = irhal_cpu_task_pool_participant_limit(
      executor->pool, dispatch->workgroup_total);
  if (slots == 0) return IRT_OK;  // an empty grid runs nothing
  irhal_cpu_tiles_t tiles = {.dispatch = dispatch};
  void* allocation = NULL;
  if (dispatch->local_memory_size) {
    tiles.local_memory_stride = irt_align_size(
        dispatch->local_memory_size, IRHAL_CPU_LOCAL_MEMORY_ALIGNMENT);
    size_t total = 0;
    if (!irt_mul_size(tiles.local_memory_stride, slots, &total) ||
        !irt_add_size(total, IRHAL_CPU_LOCAL_MEMORY_ALIGNMENT - 1, &total)) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "%" PRIu32
                             " blocks of %zu bytes of workgroup "
                             "local memory exceed the address space",
                             slots, dispatch->local_memory_size);
    }
    IRT_RETURN_IF_ERROR_CTX(
        irt_allocator_malloc(executor->host_allocator, total, &allocation),
        "allocating %" PRIu32 " blocks of %zu bytes of workgroup local memory",
        slots, dispatch->local_memory_size);
    tiles.local_memory = (uint8_t*)irt_align_size(
        (uintptr_t)allocation, IRHAL_CPU_LOCAL_MEMORY_ALIGNMENT);
  }
  irt_status_t status = irhal_cpu_task_pool_parallel_for(
      executor->pool, dispatch->workgroup_total, irhal_cpu_run_tiles, &tiles);
  irt_allocator_free(executor->host_allocator, allocation);
  return status;
}

static irt_status_t irhal_cpu_dispatch(const irhal_cpu_executor_t* executor,
                                       const irhal_command_t* command,
                                       const irhal_binding_table_t* table) {
  const irhal_cpu_library_t* library =
      irhal_cpu_executable_library(command->dispatch.executable);
  if (!library) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch executable was not created by a CPU "
                           "device");
  }
  uint32_t workgroup_count[3];
  memcpy(workgroup_count, command->dispatch.workgroup_count,
         sizeof(workgroup_count));
  if (command->dispatch.indirect) {
    // Read now, at execution time: earlier commands may have written them.
    irhal_resolved_ref_t counts;
    IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->dispatch.workgroups_ref,
                                          table, "workgroup count buffer",
                                          &counts));
    uint8_t* data = NULL;
    IRT_RETURN_IF_ERROR(irhal_cpu_map(counts.buffer, IRHAL_MEMORY_ACCESS_READ,
                                      counts.offset, sizeof(workgroup_count),
                                      &data));
    memcpy(workgroup_count, data, sizeof(workgroup_count));
  }

  // The executable decides whether it reads or writes each binding, so
  // mapping skips the access check (ANY); CPU buffers are host memory.
  void* binding_ptrs[IRHAL_MAX_DISPATCH_BINDINGS];
  size_t binding_lengths[IRHAL_MAX_DISPATCH_BINDINGS];
  uint32_t binding_count = command->dispatch.binding_count;
  for (uint32_t i = 0; i < binding_count; ++i) {
    const irhal_buffer_ref_t* ref = &command->dispatch.bindings[i];
    irhal_resolved_ref_t binding;
    IRT_RETURN_IF_ERROR_CTX(irhal_command_buffer_resolve(ref, table, &binding),
                            "resolving dispatch binding %" PRIu32, i);
    if (!binding.buffer) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "dispatch binding %" PRIu32 " (slot %" PRIu32
                             ") resolves to no buffer; all bindings must "
                             "have a valid pointer",
                             i, ref->slot);
    }
    uint8_t* data = NULL;
    IRT_RETURN_IF_ERROR_CTX(
        irhal_cpu_map(binding.buffer, IRHAL_MEMORY_ACCESS_ANY, binding.offset,
                      binding.length, &data),
        "mapping dispatch binding %" PRIu32, i);
    binding_ptrs[i] = data;
    binding_lengths[i] = (size_t)binding.length;
  }

  irhal_cpu_dispatch_params_t params = {
      .library = library,
      .export_ordinal = command->dispatch.export_ordinal,
      .workgroup_count = {workgroup_count[0], workgroup_count[1],
                          workgroup_count[2]},
      .constants = command->dispatch.constants,
      .constant_count = command->dispatch.constant_count,
      .binding_ptrs = binding_ptrs,
      .binding_lengths = binding_lengths,
      .binding_count = binding_count,
      .max_concurrency =
          executor->pool ? irhal_cpu_task_pool_worker_count(executor->pool) : 1,
  };
  irhal_cpu_dispatch_t dispatch;
  IRT_RETURN_IF_ERROR(irhal_cpu_dispatch_prepare(&params, &dispatch));
  return irhal_cpu_run_workgroups(executor, &dispatch);
}

static irt_status_t irhal_cpu_run_command(const irhal_cpu_executor_t* executor,
                                          const irhal_command_t* command,
                                          const irhal_binding_table_t* table) {
  irhal_resolved_ref_t target, source;
  switch (command->kind) {
    case IRHAL_COMMAND_BARRIER:
      // Every command finishes before the next one starts.
      return IRT_OK;
    case IRHAL_COMMAND_FILL:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->fill.target, table,
                                            "fill target", &target));
      return irhal_cpu_fill(target.buffer, target.offset, target.length,
                            command->fill.pattern,
                            command->fill.pattern_length);
    case IRHAL_COMMAND_UPDATE:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->update.target, table,
                                            "update target", &target));
      return irhal_cpu_update(command->update.data, target.buffer,
                              target.offset, target.length);
    case IRHAL_COMMAND_COPY: {
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->copy.source, table,
                                            "copy source", &source));
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(&command->copy.target, table,
                                            "copy target", &target));
      irhal_device_size_t length = 0;
      IRT_RETURN_IF_ERROR(
          irhal_command_copy_length(command, &source, &target, &length));
      return irhal_cpu_copy(source.buffer, source.offset, target.buffer,
                            target.offset, length);
    }
    case IRHAL_COMMAND_DISPATCH:
      return irhal_cpu_dispatch(executor, command, table);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown command kind %d",
                         (int)command->kind);
}

static irt_status_t irhal_cpu_run_command_fn(
    void* executor, const irhal_command_t* command,
    const irhal_binding_table_t* table) {
  return irhal_cpu_run_command(executor, command, table);
}

static irt_status_t irhal_cpu_execute(const irhal_cpu_executor_t* executor,
                                      irhal_queue_op_t* op) {
  return irhal_command_buffer_replay(
      op->execute.command_buffer, &op->execute.binding_table,
      irhal_cpu_run_command_fn, (void*)executor);
}

//===----------------------------------------------------------------------===//
// Queue operations
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cpu_run_op_kind(const irhal_cpu_executor_t* executor,
                                          irhal_queue_op_t* op) {
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return IRT_OK;
    case IRHAL_QUEUE_OP_FILL:
      return irhal_cpu_fill(op->fill.target, op->fill.offset, op->fill.length,
                            op->fill.pattern, op->fill.pattern_length);
    case IRHAL_QUEUE_OP_UPDATE:
      return irhal_cpu_update(op->update.data, op->update.target,
                              op->update.offset, op->update.length);
    case IRHAL_QUEUE_OP_COPY:
      return irhal_cpu_copy(op->copy.source, op->copy.source_offset,
                            op->copy.target, op->copy.target_offset,
                            op->copy.length);
    case IRHAL_QUEUE_OP_READ:
    case IRHAL_QUEUE_OP_WRITE:
      return irhal_cpu_transfer(op);
    case IRHAL_QUEUE_OP_EXECUTE:
      return irhal_cpu_execute(executor, op);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown queue operation %d",
                         (int)op->kind);
}

static const char* irhal_cpu_op_name(irhal_queue_op_kind_t kind) {
  switch (kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return "queue.barrier";
    case IRHAL_QUEUE_OP_FILL:
      return "queue.fill";
    case IRHAL_QUEUE_OP_UPDATE:
      return "queue.update";
    case IRHAL_QUEUE_OP_COPY:
      return "queue.copy";
    case IRHAL_QUEUE_OP_READ:
      return "queue.read";
    case IRHAL_QUEUE_OP_WRITE:
      return "queue.write";
    case IRHAL_QUEUE_OP_EXECUTE:
      return "queue.execute";
  }
  return "queue operation";
}

irt_status_t irhal_cpu_queue_run_op(const irhal_cpu_executor_t* executor,
                                    irhal_queue_op_t* op) {
  IRT_RETURN_IF_ERROR_CTX(irhal_cpu_run_op_kind(executor, op), "running %s",
                          irhal_cpu_op_name(op->kind));
  return IRT_OK;
}
