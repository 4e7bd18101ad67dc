// hal.command_buffer.* and hal.channel.* (HAL spec 1.5.4, 1.5.5).
#include "runtime/modules/hal/module_internal.h"

static irhal_buffer_ref_t irmod_hal_buffer_ref(irhal_buffer_t* buffer,
                                               int32_t slot, int64_t offset,
                                               int64_t length) {
  irhal_buffer_ref_t ref = {buffer, (uint32_t)slot, (uint64_t)offset,
                            (uint64_t)length};
  return ref;
}

//===----------------------------------------------------------------------===//
// Channels: no collective support
//===----------------------------------------------------------------------===//

static irt_status_t irmod_hal_no_collectives(const char* what) {
  return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                         "%s: collective operations are not supported", what);
}

irt_status_t irmod_hal_channel_create(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_device(&args, "device");
  IRT_RETURN_IF_ERROR(args.status);
  return irmod_hal_no_collectives("channel.create");
}

// Exports on a channel: the argument is still checked first.
static irt_status_t irmod_hal_channel_export(irvm_native_call_t* call,
                                             const char* what) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_channel(&args, "channel");
  IRT_RETURN_IF_ERROR(args.status);
  return irmod_hal_no_collectives(what);
}

irt_status_t irmod_hal_channel_rank_and_count(irvm_native_call_t* call) {
  return irmod_hal_channel_export(call, "channel.rank_and_count");
}

irt_status_t irmod_hal_channel_split(irvm_native_call_t* call) {
  return irmod_hal_channel_export(call, "channel.split");
}

irt_status_t irmod_hal_command_buffer_collective(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_command_buffer(&args, "command_buffer");
  IRT_RETURN_IF_ERROR(args.status);
  return irmod_hal_no_collectives("command_buffer.collective");
}

//===----------------------------------------------------------------------===//
// Recording
//===----------------------------------------------------------------------===//

irt_status_t irmod_hal_command_buffer_create(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_device(&args, "device");
  uint32_t modes = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t categories = (uint32_t)irmod_hal_arg_i32(&args);
  (void)irmod_hal_arg_i64(&args);  // queue affinity: chosen at submission
  int32_t binding_capacity = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  if (binding_capacity < 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "argument 'binding_capacity' must not be negative, "
                           "got %d",
                           binding_capacity);
  }
  irhal_command_buffer_t* command_buffer = NULL;
  IRT_RETURN_IF_ERROR(irhal_command_buffer_create(
      modes, categories, (uint32_t)binding_capacity,
      irmod_hal_module(call)->host_allocator, &command_buffer));
  irmod_hal_result_ref(call, command_buffer, irhal_command_buffer_type());
  return IRT_OK;
}

irt_status_t irmod_hal_command_buffer_finalize(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_command_buffer_finalize(command_buffer);
}

// Debug groups and advice are annotations only (spec 1.5.5).
irt_status_t irmod_hal_command_buffer_begin_debug_group(
    irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_command_buffer(&args, "command_buffer");
  (void)irmod_hal_arg_vm_buffer(&args, "label");
  return args.status;
}

irt_status_t irmod_hal_command_buffer_end_debug_group(
    irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_command_buffer(&args, "command_buffer");
  return args.status;
}

irt_status_t irmod_hal_command_buffer_advise_buffer(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_command_buffer(&args, "command_buffer");
  (void)irmod_hal_arg_buffer_or_null(&args, "buffer");
  return args.status;
}

irt_status_t irmod_hal_command_buffer_execution_barrier(
    irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  // Stage masks and flags: every barrier is a full dependency (spec 1.4.6).
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_command_buffer_barrier(command_buffer);
}

irt_status_t irmod_hal_command_buffer_fill_buffer(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  irhal_buffer_t* target = irmod_hal_arg_buffer_or_null(&args, "target_buffer");
  int64_t target_offset = irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  int32_t target_slot = irmod_hal_arg_i32(&args);
  uint64_t pattern = (uint64_t)irmod_hal_arg_i64(&args);
  uint32_t pattern_length = (uint32_t)irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_command_buffer_fill(
      command_buffer,
      irmod_hal_buffer_ref(target, target_slot, target_offset, length), pattern,
      pattern_length);
}

irt_status_t irmod_hal_command_buffer_update_buffer(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  irvm_buffer_t* source = irmod_hal_arg_vm_buffer(&args, "source_buffer");
  int64_t source_offset = irmod_hal_arg_i64(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer_or_null(&args, "target_buffer");
  int64_t target_offset = irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  int32_t target_slot = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  const uint8_t* data = NULL;
  uint64_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_vm_buffer_range(
      source, source_offset, length, IRT_STATUS_OUT_OF_RANGE,
      "update_buffer source", &data, &byte_length));
  // The HAL copies the bytes now: the vm.buffer may change afterwards.
  return irhal_command_buffer_update(
      command_buffer, data,
      irmod_hal_buffer_ref(target, target_slot, target_offset,
                           (int64_t)byte_length));
}

irt_status_t irmod_hal_command_buffer_copy_buffer(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  int32_t source_slot = irmod_hal_arg_i32(&args);
  int32_t target_slot = irmod_hal_arg_i32(&args);
  irhal_buffer_t* source = irmod_hal_arg_buffer_or_null(&args, "source_buffer");
  int64_t source_offset = irmod_hal_arg_i64(&args);
  irhal_buffer_t* target = irmod_hal_arg_buffer_or_null(&args, "target_buffer");
  int64_t target_offset = irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  return irhal_command_buffer_copy(
      command_buffer,
      irmod_hal_buffer_ref(source, source_slot, source_offset, length),
      irmod_hal_buffer_ref(target, target_slot, target_offset, length));
}

//===----------------------------------------------------------------------===//
// Dispatch
//===----------------------------------------------------------------------===//

// Reads the two variadic segments shared by dispatch and dispatch.indirect:
// the i32 constants (pointing into the argument buffer; the HAL copies them)
// and the binding tuples (i32 reserved, i32 slot, ref, i64 offset, i64
// length) into |bindings|.
static irt_status_t irmod_hal_read_dispatch_lists(
    irmod_hal_args_t* args, irhal_command_t* dispatch,
    irhal_buffer_ref_t bindings[IRHAL_MAX_DISPATCH_BINDINGS]) {
  irvm_abi_span_t constants = irmod_hal_arg_span(args, "i");
  irvm_abi_span_t binding_span = irmod_hal_arg_span(args, "iirII");
  if (binding_span.count > IRHAL_MAX_DISPATCH_BINDINGS) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "dispatch has %u bindings; at most %u are supported",
                           binding_span.count, IRHAL_MAX_DISPATCH_BINDINGS);
  }
  dispatch->dispatch.constant_count = constants.count;
  dispatch->dispatch.constants = (const uint32_t*)constants.elements;
  for (uint32_t i = 0; i < binding_span.count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(binding_span, i);
    (void)irvm_abi_read_i32(&element);  // reserved
    int32_t slot = irvm_abi_read_i32(&element);
    void* buffer = NULL;
    IRT_RETURN_IF_ERROR(irmod_hal_deref(irvm_abi_read_ref(&element),
                                        irhal_buffer_type(), true, "bindings",
                                        i, &buffer));
    int64_t offset = irvm_abi_read_i64(&element);
    int64_t length = irvm_abi_read_i64(&element);
    bindings[i] = irmod_hal_buffer_ref(buffer, slot, offset, length);
  }
  dispatch->dispatch.binding_count = binding_span.count;
  dispatch->dispatch.bindings = bindings;
  return IRT_OK;
}

irt_status_t irmod_hal_command_buffer_dispatch(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = irmod_hal_arg_executable(&args, "executable");
  dispatch.dispatch.export_ordinal = (uint32_t)irmod_hal_arg_i32(&args);
  for (int i = 0; i < 3; ++i) {
    dispatch.dispatch.workgroup_count[i] = (uint32_t)irmod_hal_arg_i32(&args);
  }
  dispatch.dispatch.flags = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_ref_t bindings[IRHAL_MAX_DISPATCH_BINDINGS];
  IRT_RETURN_IF_ERROR(
      irmod_hal_read_dispatch_lists(&args, &dispatch, bindings));
  return irhal_command_buffer_dispatch(command_buffer, &dispatch);
}

irt_status_t irmod_hal_command_buffer_dispatch_indirect(
    irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_command_buffer_t* command_buffer =
      irmod_hal_arg_command_buffer(&args, "command_buffer");
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = irmod_hal_arg_executable(&args, "executable");
  dispatch.dispatch.export_ordinal = (uint32_t)irmod_hal_arg_i32(&args);
  int32_t workgroups_slot = irmod_hal_arg_i32(&args);
  irhal_buffer_t* workgroups =
      irmod_hal_arg_buffer_or_null(&args, "workgroups_buffer");
  int64_t workgroups_offset = irmod_hal_arg_i64(&args);
  dispatch.dispatch.flags = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_ref_t bindings[IRHAL_MAX_DISPATCH_BINDINGS];
  IRT_RETURN_IF_ERROR(
      irmod_hal_read_dispatch_lists(&args, &dispatch, bindings));
  // The HAL checks the alignment and marks the count DYNAMIC unless STATIC.
  dispatch.dispatch.indirect = true;
  dispatch.dispatch.workgroups_ref = irmod_hal_buffer_ref(
      workgroups, workgroups_slot, workgroups_offset, 3 * sizeof(uint32_t));
  return irhal_command_buffer_dispatch(command_buffer, &dispatch);
}
