// Shared by the `hal` module's export files: the module object, checked
// argument readers and the export functions the table in hal_module.c lists.
#ifndef IRMOD_HAL_MODULE_INTERNAL_H
#define IRMOD_HAL_MODULE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "hal/api.h"
#include "hal/executable_cache.h"
#include "runtime/vm/buffer.h"
#include "runtime/vm/native_module.h"

// The module's |self|: the device group, immutable after creation, so every
// context shares it, and each device's shared executable cache (spec 1.1),
// which other modules over the same device object share too.
typedef struct irmod_hal_module_s {
  irt_allocator_t host_allocator;
  size_t device_count;
  irhal_device_t** devices;                      // retained
  irhal_executable_cache_t** executable_caches;  // per device, acquired
} irmod_hal_module_t;

static inline irmod_hal_module_t* irmod_hal_module(irvm_native_call_t* call) {
  return (irmod_hal_module_t*)call->self;
}

//===----------------------------------------------------------------------===//
// Argument readers
//===----------------------------------------------------------------------===//

// The object |ref| points to when it is a |type| (or null, if |nullable|);
// otherwise INVALID_ARGUMENT naming |name| (and |index| >= 0 as
// "name[index]") with the expected and the actual type.
irt_status_t irmod_hal_deref(const irvm_ref_t* ref, const irvm_ref_type_t* type,
                             bool nullable, const char* name, int64_t index,
                             void** out_object) IRT_MUST_USE;

// Reads a call's arguments in order. The first failed check is kept in
// |status| and later reads return NULL / 0, so an export reads everything
// and then checks once.
typedef struct irmod_hal_args_s {
  irvm_abi_cursor_t* cursor;
  irt_status_t status;
} irmod_hal_args_t;

static inline irmod_hal_args_t irmod_hal_args(irvm_native_call_t* call) {
  irmod_hal_args_t args = {&call->arguments, IRT_OK};
  return args;
}
static inline int32_t irmod_hal_arg_i32(irmod_hal_args_t* args) {
  return irvm_abi_read_i32(args->cursor);
}
static inline int64_t irmod_hal_arg_i64(irmod_hal_args_t* args) {
  return irvm_abi_read_i64(args->cursor);
}
static inline irvm_abi_span_t irmod_hal_arg_span(irmod_hal_args_t* args,
                                                 const char* tuple) {
  return irvm_abi_read_span(args->cursor, irt_make_cstring_view(tuple));
}
// Checks |ref| (already read) as argument |name|; records a failure.
void* irmod_hal_args_check(irmod_hal_args_t* args, const irvm_ref_t* ref,
                           const irvm_ref_type_t* type, bool nullable,
                           const char* name);
static inline void* irmod_hal_arg_ref(irmod_hal_args_t* args,
                                      const irvm_ref_type_t* type,
                                      bool nullable, const char* name) {
  return irmod_hal_args_check(args, irvm_abi_read_ref(args->cursor), type,
                              nullable, name);
}

#define IRMOD_HAL_DEFINE_ARG_(suffix, object_t, type_descriptor)              \
  static inline object_t* irmod_hal_arg_##suffix(irmod_hal_args_t* args,      \
                                                 const char* name) {          \
    return (object_t*)irmod_hal_arg_ref(args, &type_descriptor, false, name); \
  }                                                                           \
  static inline object_t* irmod_hal_arg_##suffix##_or_null(                   \
      irmod_hal_args_t* args, const char* name) {                             \
    return (object_t*)irmod_hal_arg_ref(args, &type_descriptor, true, name);  \
  }
IRMOD_HAL_DEFINE_ARG_(allocator, irhal_allocator_t,
                      irhal_allocator_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(buffer, irhal_buffer_t, irhal_buffer_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(buffer_view, irhal_buffer_view_t,
                      irhal_buffer_view_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(channel, void, irhal_channel_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(command_buffer, irhal_command_buffer_t,
                      irhal_command_buffer_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(device, irhal_device_t, irhal_device_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(executable, irhal_executable_t,
                      irhal_executable_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(fence, irhal_fence_t, irhal_fence_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(file, irhal_file_t, irhal_file_type_descriptor)
IRMOD_HAL_DEFINE_ARG_(vm_buffer, irvm_buffer_t, irvm_buffer_type_descriptor)
#undef IRMOD_HAL_DEFINE_ARG_

// The bytes of a vm.buffer (strings arrive unterminated).
static inline irt_string_view_t irmod_hal_string(const irvm_buffer_t* buffer) {
  irvm_const_byte_span_t span = irvm_buffer_data(buffer);
  return irt_make_string_view((const char*)span.data, span.length);
}

// Resolves a signed (offset, length) pair from the VM against a host range
// of |total| bytes: length -1 means "the rest". Fails with |code| (naming
// |what|) for negative values or a range that does not fit.
irt_status_t irmod_hal_host_range(int64_t offset, int64_t length,
                                  uint64_t total, irt_status_code_t code,
                                  const char* what, uint64_t* out_offset,
                                  uint64_t* out_length) IRT_MUST_USE;

// The bytes [offset, offset + length) of |buffer|, resolved and checked as
// irmod_hal_host_range does: what exports that read or alias a vm.buffer's
// (offset, length) argument pair work on.
static inline irt_status_t irmod_hal_vm_buffer_range(
    const irvm_buffer_t* buffer, int64_t offset, int64_t length,
    irt_status_code_t code, const char* what, const uint8_t** out_data,
    uint64_t* out_length) {
  irvm_const_byte_span_t bytes = irvm_buffer_data(buffer);
  uint64_t byte_offset = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_host_range(offset, length, bytes.length, code,
                                           what, &byte_offset, out_length));
  *out_data = bytes.data + byte_offset;
  return IRT_OK;
}

// Releases a vm.buffer given as a release callback's user data: what keeps
// VM-owned bytes alive under HAL buffers and files that alias them.
void irmod_hal_release_vm_buffer(void* user_data);

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

// Moves a new reference to |object| (may be NULL: a null ref) into the next
// result slot.
static inline void irmod_hal_result_ref(irvm_native_call_t* call, void* object,
                                        const irvm_ref_type_t* type) {
  irvm_ref_t ref = object ? irvm_ref_wrap(object, type) : irvm_ref_null();
  irvm_abi_write_ref_move(&call->results, &ref);
}

//===----------------------------------------------------------------------===//
// Exports (one function per export; names follow the export with '.' -> '_')
//===----------------------------------------------------------------------===//

// exports_buffer.c
irt_status_t irmod_hal_allocator_allocate(irvm_native_call_t* call);
irt_status_t irmod_hal_allocator_import(irvm_native_call_t* call);
irt_status_t irmod_hal_allocator_select(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_allocation_discard(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_allocation_is_terminal(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_allocation_preserve(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_assert(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_length(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_load(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_store(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_subspan(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_assert(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_buffer(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_create(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_dim(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_element_type(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_encoding_type(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_rank(irvm_native_call_t* call);
irt_status_t irmod_hal_buffer_view_trace(irvm_native_call_t* call);

// exports_command_buffer.c
irt_status_t irmod_hal_channel_create(irvm_native_call_t* call);
irt_status_t irmod_hal_channel_rank_and_count(irvm_native_call_t* call);
irt_status_t irmod_hal_channel_split(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_advise_buffer(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_begin_debug_group(
    irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_collective(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_copy_buffer(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_create(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_dispatch(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_dispatch_indirect(
    irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_end_debug_group(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_execution_barrier(
    irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_fill_buffer(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_finalize(irvm_native_call_t* call);
irt_status_t irmod_hal_command_buffer_update_buffer(irvm_native_call_t* call);

// exports_device.c
irt_status_t irmod_hal_device_allocator(irvm_native_call_t* call);
irt_status_t irmod_hal_device_query_i64(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_alloca(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_barrier(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_copy(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_dealloca(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_execute(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_execute_indirect(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_fill(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_flush(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_read(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_update(irvm_native_call_t* call);
irt_status_t irmod_hal_device_queue_write(irvm_native_call_t* call);
irt_status_t irmod_hal_ex_file_from_memory(irvm_native_call_t* call);
irt_status_t irmod_hal_executable_create(irvm_native_call_t* call);

// exports_fence.c
irt_status_t irmod_hal_fence_await(irvm_native_call_t* call);
irt_status_t irmod_hal_fence_create(irvm_native_call_t* call);
irt_status_t irmod_hal_fence_fail(irvm_native_call_t* call);
irt_status_t irmod_hal_fence_join(irvm_native_call_t* call);
irt_status_t irmod_hal_fence_query(irvm_native_call_t* call);
irt_status_t irmod_hal_fence_signal(irvm_native_call_t* call);

// hal_module.c
irt_status_t irmod_hal_devices_count(irvm_native_call_t* call);
irt_status_t irmod_hal_devices_get(irvm_native_call_t* call);

#endif  // IRMOD_HAL_MODULE_INTERNAL_H
