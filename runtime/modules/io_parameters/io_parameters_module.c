#include "runtime/modules/io_parameters/io_parameters_module.h"

#include "runtime/modules/hal/hal_module.h"
#include "runtime/modules/io_parameters/batch.h"
#include "runtime/vm/list.h"
#include "runtime/vm/native_module.h"

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

// Reads a call's arguments in order, keeping the first failure; later reads
// return NULL so an export reads everything and checks once.
typedef struct irmod_params_args_s {
  irvm_abi_cursor_t* cursor;
  const char* export_name;
  irt_status_t status;
} irmod_params_args_t;

static void* irmod_params_arg_ref(irmod_params_args_t* args,
                                  const irvm_ref_type_t* type, bool nullable,
                                  const char* name) {
  const irvm_ref_t* ref = irvm_abi_read_ref(args->cursor);
  if (!irt_status_is_ok(args->status)) return NULL;
  if (irvm_ref_is_type(ref, type)) return ref->ptr;
  if (irvm_ref_is_null(ref) && nullable) return NULL;
  args->status = irt_make_status(
      IRT_STATUS_INVALID_ARGUMENT, "%s: argument '%s' must be a %s%s, got %s",
      args->export_name, name, type->name, nullable ? " or null" : "",
      irvm_ref_is_null(ref)          ? "null"
      : ref->type && ref->type->name ? ref->type->name
                                     : "an untyped ref");
  return NULL;
}

static irvm_const_byte_span_t irmod_params_arg_bytes(irmod_params_args_t* args,
                                                     const char* name) {
  irvm_buffer_t* buffer = (irvm_buffer_t*)irmod_params_arg_ref(
      args, irvm_buffer_type(), false, name);
  irvm_const_byte_span_t empty = {NULL, 0};
  return buffer ? irvm_buffer_data(buffer) : empty;
}

// A scope string: a vm.buffer, or null for the anonymous scope "".
static irt_string_view_t irmod_params_arg_scope(irmod_params_args_t* args,
                                                const char* name) {
  irvm_buffer_t* buffer = (irvm_buffer_t*)irmod_params_arg_ref(
      args, irvm_buffer_type(), true, name);
  if (!buffer) return irt_make_string_view("", 0);
  irvm_const_byte_span_t bytes = irvm_buffer_data(buffer);
  return irt_make_string_view((const char*)bytes.data, bytes.length);
}

// The leading (device, queue_affinity, wait_fence, signal_fence) of every
// export.
static void irmod_params_arg_queue(irmod_params_args_t* args,
                                   irmod_params_request_t* request) {
  request->device = (irhal_device_t*)irmod_params_arg_ref(
      args, irhal_device_type(), false, "device");
  request->queue_affinity = (uint64_t)irvm_abi_read_i64(args->cursor);
  request->wait_fence = (irhal_fence_t*)irmod_params_arg_ref(
      args, irhal_fence_type(), true, "wait_fence");
  request->signal_fence = (irhal_fence_t*)irmod_params_arg_ref(
      args, irhal_fence_type(), true, "signal_fence");
}

// The trailing (key_table, key_data, spans) of every export.
static void irmod_params_arg_batch(irmod_params_args_t* args,
                                   irmod_params_request_t* request) {
  request->key_table = irmod_params_arg_bytes(args, "key_table");
  request->key_data = irmod_params_arg_bytes(args, "key_data");
  request->spans = irmod_params_arg_bytes(args, "spans");
}

static irmod_params_args_t irmod_params_args(irvm_native_call_t* call,
                                             irmod_params_request_t* request) {
  irmod_params_args_t args = {&call->arguments, request->name, IRT_OK};
  return args;
}

//===----------------------------------------------------------------------===//
// Exports
//===----------------------------------------------------------------------===//

// Moves |count| buffers into a new list<hal.buffer> result.
static void irmod_params_result_list(irvm_native_call_t* call,
                                     irvm_list_t* list,
                                     irhal_buffer_t** buffers, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    irvm_ref_t ref = irvm_ref_wrap(buffers[i], irhal_buffer_type());
    // Cannot fail: the list has room and the element type matches.
    irt_status_ignore(irvm_list_set_ref_move(list, i, &ref));
  }
  irvm_ref_t result = irvm_ref_wrap(list, irvm_list_type());
  irvm_abi_write_ref_move(&call->results, &result);
}

// load(device, queue_affinity, wait, signal, source_scope,
//      target_queue_affinity, target_memory_type, target_buffer_usage,
//      key_table, key_data, spans) -> list<hal.buffer>
static irt_status_t irmod_params_load(irvm_native_call_t* call) {
  const irmod_params_module_t* module = call->self;
  irmod_params_request_t request = {.op = IRMOD_PARAMS_LOAD,
                                    .name = "io_parameters.load"};
  irmod_params_args_t args = irmod_params_args(call, &request);
  irmod_params_arg_queue(&args, &request);
  request.scope = irmod_params_arg_scope(&args, "source_scope");
  request.target_queue_affinity = (uint64_t)irvm_abi_read_i64(args.cursor);
  request.target_memory_type = (uint32_t)irvm_abi_read_i32(args.cursor);
  request.target_buffer_usage = (uint32_t)irvm_abi_read_i32(args.cursor);
  irmod_params_arg_batch(&args, &request);
  uint32_t count = 0;
  irt_status_t status = args.status;
  if (irt_status_is_ok(status)) {
    status = irmod_params_batch_count(&request, &count);
  }
  // The result list and buffer slots exist before any work is issued, so
  // nothing can fail after the batch ran.
  irvm_list_t* list = NULL;
  irhal_buffer_t** buffers = NULL;
  if (irt_status_is_ok(status)) {
    status = irvm_list_create(irvm_list_element_type_ref(irhal_buffer_type()),
                              count, module->host_allocator, &list);
  }
  if (irt_status_is_ok(status)) status = irvm_list_resize(list, count);
  if (irt_status_is_ok(status)) {
    status =
        irt_allocator_calloc_array(module->host_allocator, count ? count : 1,
                                   sizeof(*buffers), (void**)&buffers);
  }
  if (irt_status_is_ok(status)) {
    status = irmod_params_batch_run(module, &request, buffers);
  } else {
    status = irmod_params_fail_signal(request.signal_fence, status);
  }
  if (irt_status_is_ok(status)) {
    irmod_params_result_list(call, list, buffers, count);
  } else if (list) {
    irvm_list_release(list);
  }
  irt_allocator_free(module->host_allocator, buffers);
  return status;
}

// gather(device, queue_affinity, wait, signal, source_scope, target_buffer,
//        key_table, key_data, spans)
static irt_status_t irmod_params_gather(irvm_native_call_t* call) {
  irmod_params_request_t request = {.op = IRMOD_PARAMS_GATHER,
                                    .name = "io_parameters.gather"};
  irmod_params_args_t args = irmod_params_args(call, &request);
  irmod_params_arg_queue(&args, &request);
  request.scope = irmod_params_arg_scope(&args, "source_scope");
  request.buffer = (irhal_buffer_t*)irmod_params_arg_ref(
      &args, irhal_buffer_type(), false, "target_buffer");
  irmod_params_arg_batch(&args, &request);
  if (!irt_status_is_ok(args.status)) {
    return irmod_params_fail_signal(request.signal_fence, args.status);
  }
  return irmod_params_batch_run(call->self, &request, NULL);
}

// scatter(device, queue_affinity, wait, signal, source_buffer, target_scope,
//         key_table, key_data, spans)
static irt_status_t irmod_params_scatter(irvm_native_call_t* call) {
  irmod_params_request_t request = {.op = IRMOD_PARAMS_SCATTER,
                                    .name = "io_parameters.scatter"};
  irmod_params_args_t args = irmod_params_args(call, &request);
  irmod_params_arg_queue(&args, &request);
  request.buffer = (irhal_buffer_t*)irmod_params_arg_ref(
      &args, irhal_buffer_type(), false, "source_buffer");
  request.scope = irmod_params_arg_scope(&args, "target_scope");
  irmod_params_arg_batch(&args, &request);
  if (!irt_status_is_ok(args.status)) {
    return irmod_params_fail_signal(request.signal_fence, args.status);
  }
  return irmod_params_batch_run(call->self, &request, NULL);
}

//===----------------------------------------------------------------------===//
// The module
//===----------------------------------------------------------------------===//

// Sorted by name (spec 2.1); the cconvs match compiled imports exactly.
static const irvm_native_export_t irmod_params_exports[] = {
    {"gather", "0rIrrrrrrr_v", irmod_params_gather},
    {"load", "0rIrrrIiirrr_r", irmod_params_load},
    {"scatter", "0rIrrrrrrr_v", irmod_params_scatter},
};

static void irmod_params_module_destroy(void* self) {
  irmod_params_module_t* module = (irmod_params_module_t*)self;
  for (size_t i = 0; i < module->file_count; ++i) {
    irhal_file_release(module->files[i]);
  }
  irt_allocator_free(module->host_allocator, module->files);
  irio_parameter_index_release(module->index);
  irt_allocator_free(module->host_allocator, module);
}

static const irvm_native_module_desc_t irmod_params_module_desc = {
    .name = "io_parameters",
    .version = IRMOD_IO_PARAMETERS_MODULE_VERSION,
    .export_count =
        sizeof(irmod_params_exports) / sizeof(irmod_params_exports[0]),
    .exports = irmod_params_exports,
    .destroy = irmod_params_module_destroy,
};

// One memory file per archive, aliasing its mapping (and retaining it).
static irt_status_t irmod_params_create_files(irmod_params_module_t* module) {
  size_t count = irio_parameter_index_archive_count(module->index);
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      module->host_allocator, count ? count : 1, sizeof(*module->files),
      (void**)&module->files));
  for (size_t i = 0; i < count; ++i) {
    irio_file_mapping_t* mapping =
        irio_parameter_index_archive(module->index, i);
    uint32_t access = IRHAL_MEMORY_ACCESS_READ;
    if (irio_file_mapping_mode(mapping) == IRIO_FILE_MODE_READ_WRITE) {
      access |= IRHAL_MEMORY_ACCESS_WRITE;
    }
    irio_file_mapping_retain(mapping);
    irhal_release_callback_t release = {irio_file_mapping_release_callback,
                                        mapping};
    irt_status_t status = irhal_file_create_from_memory(
        irio_file_mapping_data(mapping), irio_file_mapping_size(mapping),
        access, release, module->host_allocator, &module->files[i]);
    if (!irt_status_is_ok(status)) {
      irio_file_mapping_release(mapping);  // a failed create never releases
      return status;
    }
    module->file_count = i + 1;
  }
  return IRT_OK;
}

irt_status_t irmod_io_parameters_module_create(irvm_instance_t* instance,
                                               irio_parameter_index_t* index,
                                               irt_allocator_t host_allocator,
                                               irvm_module_t** out_module) {
  *out_module = NULL;
  IRT_RETURN_IF_ERROR(irmod_hal_register_types(instance));
  irmod_params_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*module), (void**)&module));
  module->host_allocator = host_allocator;
  irt_status_t status = IRT_OK;
  if (index) {
    irio_parameter_index_retain(index);
    module->index = index;
  } else {
    status = irio_parameter_index_create(host_allocator, &module->index);
  }
  if (irt_status_is_ok(status)) status = irmod_params_create_files(module);
  if (irt_status_is_ok(status)) {
    status = irvm_native_module_create(&irmod_params_module_desc, module,
                                       host_allocator, out_module);
  }
  if (!irt_status_is_ok(status)) irmod_params_module_destroy(module);
  return status;
}

irt_status_t irmod_io_parameters_module_create_from_flags(
    irvm_instance_t* instance, const char* const* flag_values,
    size_t flag_count, irt_allocator_t host_allocator,
    irvm_module_t** out_module) {
  *out_module = NULL;
  irio_parameter_index_t* index = NULL;
  IRT_RETURN_IF_ERROR(irio_parameter_index_create(host_allocator, &index));
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < flag_count && irt_status_is_ok(status); ++i) {
    status = irio_parameter_index_add_flag(index, flag_values[i]);
  }
  if (irt_status_is_ok(status)) {
    status = irmod_io_parameters_module_create(instance, index, host_allocator,
                                               out_module);
  }
  irio_parameter_index_release(index);
  return status;
}
