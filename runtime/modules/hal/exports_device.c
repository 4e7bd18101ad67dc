// hal.device.*, hal.ex.file.from_memory and hal.executable.create (HAL spec
// 1.5.6, 1.5.8, 1.5.9).
#include <inttypes.h>

#include "runtime/modules/hal/module_internal.h"

irt_status_t irmod_hal_device_allocator(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_device_t* device = irmod_hal_arg_device(&args, "device");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_allocator_t* allocator = NULL;
  IRT_RETURN_IF_ERROR(irhal_allocator_create(device, &allocator));
  irmod_hal_result_ref(call, allocator, irhal_allocator_type());
  return IRT_OK;
}

irt_status_t irmod_hal_device_query_i64(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_device_t* device = irmod_hal_arg_device(&args, "device");
  irvm_buffer_t* category = irmod_hal_arg_vm_buffer(&args, "category");
  irvm_buffer_t* key = irmod_hal_arg_vm_buffer(&args, "key");
  IRT_RETURN_IF_ERROR(args.status);
  bool ok = false;
  int64_t value = 0;
  IRT_RETURN_IF_ERROR(irhal_device_query_i64(
      device, irmod_hal_string(category), irmod_hal_string(key), &ok, &value));
  irvm_abi_write_i32(&call->results, ok ? 1 : 0);
  irvm_abi_write_i64(&call->results, ok ? value : 0);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Queue operations
//===----------------------------------------------------------------------===//

// The leading (device, queue_affinity, wait_fence, signal_fence) every
// queue export takes.
typedef struct irmod_hal_queue_args_s {
  irhal_device_t* device;
  uint64_t affinity;
  irhal_fence_t* wait;
  irhal_fence_t* signal;
} irmod_hal_queue_args_t;

static irmod_hal_queue_args_t irmod_hal_arg_queue(irmod_hal_args_t* args) {
  irmod_hal_queue_args_t queue;
  queue.device = irmod_hal_arg_device(args, "device");
  queue.affinity = (uint64_t)irmod_hal_arg_i64(args);
  queue.wait = irmod_hal_arg_fence_or_null(args, "wait_fence");
  queue.signal = irmod_hal_arg_fence_or_null(args, "signal_fence");
  return queue;
}

irt_status_t irmod_hal_device_queue_alloca(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  (void)irmod_hal_arg_i64(&args);  // pool: only the default pool exists
  uint32_t memory_types = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t buffer_usage = (uint32_t)irmod_hal_arg_i32(&args);
  uint64_t allocation_size = (uint64_t)irmod_hal_arg_i64(&args);
  // Flags: INDETERMINATE_LIFETIME needs no handling because memory is only
  // ever freed with its last reference.
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(irhal_device_queue_alloca(
      q.device, q.affinity, q.wait, q.signal, memory_types, buffer_usage,
      allocation_size, &buffer));
  irmod_hal_result_ref(call, buffer, irhal_buffer_type());
  return IRT_OK;
}

irt_status_t irmod_hal_device_queue_dealloca(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_dealloca(q.device, q.affinity, q.wait, q.signal,
                                     buffer);
}

irt_status_t irmod_hal_device_queue_barrier(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_barrier(q.device, q.affinity, q.wait, q.signal);
}

irt_status_t irmod_hal_device_queue_fill(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer(&args, "target_buffer");
  uint64_t target_offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t length = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t pattern = (uint64_t)irmod_hal_arg_i64(&args);
  uint32_t pattern_length = (uint32_t)irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_fill(q.device, q.affinity, q.wait, q.signal, target,
                                 target_offset, length, pattern,
                                 pattern_length);
}

irt_status_t irmod_hal_device_queue_update(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irvm_buffer_t* source = irmod_hal_arg_vm_buffer(&args, "source_buffer");
  int64_t source_offset = irmod_hal_arg_i64(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer(&args, "target_buffer");
  uint64_t target_offset = (uint64_t)irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  const uint8_t* data = NULL;
  uint64_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_vm_buffer_range(
      source, source_offset, length, IRT_STATUS_OUT_OF_RANGE,
      "queue.update source", &data, &byte_length));
  // The HAL captures the bytes during the call.
  return irhal_device_queue_update(q.device, q.affinity, q.wait, q.signal, data,
                                   target, target_offset, byte_length);
}

irt_status_t irmod_hal_device_queue_copy(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_buffer_t* source = irmod_hal_arg_buffer(&args, "source_buffer");
  uint64_t source_offset = (uint64_t)irmod_hal_arg_i64(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer(&args, "target_buffer");
  uint64_t target_offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t length = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_copy(q.device, q.affinity, q.wait, q.signal, source,
                                 source_offset, target, target_offset, length);
}

irt_status_t irmod_hal_device_queue_read(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_file_t* source = irmod_hal_arg_file(&args, "source_file");
  uint64_t source_offset = (uint64_t)irmod_hal_arg_i64(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer(&args, "target_buffer");
  uint64_t target_offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t length = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_read(q.device, q.affinity, q.wait, q.signal, source,
                                 source_offset, target, target_offset, length);
}

irt_status_t irmod_hal_device_queue_write(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_buffer_t* source = irmod_hal_arg_buffer(&args, "source_buffer");
  uint64_t source_offset = (uint64_t)irmod_hal_arg_i64(&args);
  irhal_file_t* target = irmod_hal_arg_file(&args, "target_file");
  uint64_t target_offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t length = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_device_queue_write(q.device, q.affinity, q.wait, q.signal,
                                  source, source_offset, target, target_offset,
                                  length);
}

irt_status_t irmod_hal_device_queue_execute(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_binding_table_t empty_table = {0, NULL};
  return irhal_device_queue_execute(q.device, q.affinity, q.wait, q.signal,
                                    command_buffer, &empty_table);
}

irt_status_t irmod_hal_device_queue_execute_indirect(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irmod_hal_queue_args_t q = irmod_hal_arg_queue(&args);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  (void)irmod_hal_arg_i64(&args);  // flags
  irvm_abi_span_t span = irmod_hal_arg_span(&args, "rII");
  IRT_RETURN_IF_ERROR(args.status);

  // The HAL copies the table (and retains its buffers) during the call.
  irt_allocator_t host_allocator = irmod_hal_module(call)->host_allocator;
  irhal_buffer_ref_t* entries = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      host_allocator, span.count, sizeof(*entries), (void**)&entries));
  irt_status_t status = IRT_OK;
  for (uint32_t i = 0; i < span.count && irt_status_is_ok(status); ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    void* buffer = NULL;
    status = irmod_hal_deref(irvm_abi_read_ref(&element), irhal_buffer_type(),
                             true, "binding_table", i, &buffer);
    entries[i].buffer = buffer;
    entries[i].offset = (uint64_t)irvm_abi_read_i64(&element);
    entries[i].length = (uint64_t)irvm_abi_read_i64(&element);
  }
  if (irt_status_is_ok(status)) {
    irhal_binding_table_t table = {span.count, entries};
    status = irhal_device_queue_execute(q.device, q.affinity, q.wait, q.signal,
                                        command_buffer, &table);
  }
  irt_allocator_free(host_allocator, entries);
  return status;
}

// Submissions start immediately, so there is nothing to flush.
irt_status_t irmod_hal_device_queue_flush(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_device(&args, "device");
  return args.status;
}

//===----------------------------------------------------------------------===//
// Files and executables
//===----------------------------------------------------------------------===//

irt_status_t irmod_hal_ex_file_from_memory(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_device(&args, "device");
  (void)irmod_hal_arg_i64(&args);  // queue affinity
  uint32_t access = (uint32_t)irmod_hal_arg_i32(&args);
  irvm_buffer_t* source = irmod_hal_arg_vm_buffer(&args, "buffer");
  int64_t offset = irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  if (access & ~(uint32_t)IRHAL_MEMORY_ACCESS_READ) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "memory files are read-only; access 0x%X requested",
                           access);
  }
  const uint8_t* data = NULL;
  uint64_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_vm_buffer_range(
      source, offset, length, IRT_STATUS_OUT_OF_RANGE,
      "ex.file.from_memory buffer", &data, &byte_length));

  // The file keeps the vm.buffer alive until it is destroyed.
  irvm_buffer_retain(source);
  irhal_release_callback_t release = {irmod_hal_release_vm_buffer, source};
  irhal_file_t* file = NULL;
  irt_status_t status = irhal_file_create_from_memory(
      (void*)data, byte_length, access, release,
      irmod_hal_module(call)->host_allocator, &file);
  if (!irt_status_is_ok(status)) {
    irvm_buffer_release(source);  // a failed create never calls |release|
    return status;
  }
  irmod_hal_result_ref(call, file, irhal_file_type());
  return IRT_OK;
}

// The executable cache of |device|, or NULL when it is not in the group.
static irhal_executable_cache_t* irmod_hal_module_executable_cache(
    const irmod_hal_module_t* module, const irhal_device_t* device) {
  for (size_t i = 0; i < module->device_count; ++i) {
    if (module->devices[i] == device) return module->executable_caches[i];
  }
  return NULL;
}

// Copies the specialization constants out of |constants| (which need not be
// 4-byte aligned); *out_values is NULL when there are none.
static irt_status_t irmod_hal_read_constants(irt_allocator_t host_allocator,
                                             const irvm_buffer_t* constants,
                                             uint32_t** out_values,
                                             uint32_t* out_count) {
  *out_values = NULL;
  *out_count = 0;
  if (!constants) return IRT_OK;
  irvm_const_byte_span_t bytes = irvm_buffer_data(constants);
  if (bytes.length % sizeof(uint32_t) != 0 ||
      bytes.length / sizeof(uint32_t) > UINT32_MAX) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "argument 'constants' is %zu bytes; expected a "
                           "multiple of 4",
                           bytes.length);
  }
  if (bytes.length == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR(
      irt_allocator_malloc(host_allocator, bytes.length, (void**)out_values));
  memcpy(*out_values, bytes.data, bytes.length);
  *out_count = (uint32_t)(bytes.length / sizeof(uint32_t));
  return IRT_OK;
}

irt_status_t irmod_hal_executable_create(irvm_native_call_t* call) {
  irmod_hal_module_t* module = irmod_hal_module(call);
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_device_t* device = irmod_hal_arg_device(&args, "device");
  (void)irmod_hal_arg_i64(&args);  // queue affinity
  irvm_buffer_t* format = irmod_hal_arg_vm_buffer(&args, "executable_format");
  // The ref itself is kept: loaders that alias the bytes retain it.
  const irvm_ref_t* data_ref = irvm_abi_read_ref(args.cursor);
  irvm_buffer_t* data = irmod_hal_args_check(
      &args, data_ref, irvm_buffer_type(), false, "executable_data");
  irvm_buffer_t* constants =
      irmod_hal_arg_vm_buffer_or_null(&args, "constants");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_executable_cache_t* cache =
      irmod_hal_module_executable_cache(module, device);
  if (!cache) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "device '%.*s' is not in the hal module's device "
                           "group",
                           IRT_SV_ARG(device->id));
  }
  uint32_t* constant_values = NULL;
  uint32_t constant_count = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_read_constants(
      module->host_allocator, constants, &constant_values, &constant_count));

  // Only immutable bytes (module rodata) may be aliased by the loader and the
  // cache's key, which then retain |data_ref| to keep them alive; mutable
  // ones must be copied.
  bool immutable = !(irvm_buffer_flags(data) & IRVM_BUFFER_MUTABLE);
  irvm_const_byte_span_t bytes = irvm_buffer_data(data);
  irt_string_view_t format_name = irmod_hal_string(format);
  irhal_executable_t* executable = NULL;
  irt_status_t status = irhal_executable_cache_prepare(
      cache, format_name, bytes.data, bytes.length, immutable ? data_ref : NULL,
      constant_values, constant_count, &executable);
  irt_allocator_free(module->host_allocator, constant_values);
  IRT_RETURN_IF_ERROR_CTX(status, "creating a '%.*s' executable (%zu bytes)",
                          IRT_SV_ARG(format_name), bytes.length);
  irmod_hal_result_ref(call, executable, irhal_executable_type());
  return IRT_OK;
}
