#include "daemon/invocation.h"

#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "daemon/protocol.h"
#include "hal/buffer_view.h"
#include "proto/frame.h"
#include "runtime/base/log.h"
#include "runtime/base/math.h"
#include "runtime/session/tensor.h"

static uint64_t ireed_clock_ns(clockid_t clock) {
  struct timespec now;
  clock_gettime(clock, &now);
  return (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
}

uint64_t ireed_now_ns(void) { return ireed_clock_ns(CLOCK_MONOTONIC); }

uint64_t ireed_coarse_now_ns(void) {
  return ireed_clock_ns(CLOCK_MONOTONIC_COARSE);
}

//===----------------------------------------------------------------------===//
// Checking requests (event loop)
//===----------------------------------------------------------------------===//

// The bytes a tensor's shape and element type need, or an error naming
// |what|.
static irt_status_t ireed_tensor_byte_length(const Ireed__Tensor* tensor,
                                             const char* what, size_t index,
                                             uint64_t* out_length) {
  if (tensor->n_shape > IRHAL_MAX_RANK) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s %zu: rank %zu exceeds %d", what, index,
                           tensor->n_shape, IRHAL_MAX_RANK);
  }
  irhal_element_type_t type = tensor->element_type;
  uint32_t bits = irhal_element_bit_count(type);
  if (bits == 0 || bits % 8 != 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s %zu: element type 0x%08" PRIx32
                           " is not a whole number of bytes",
                           what, index, type);
  }
  uint64_t length = bits / 8;
  for (size_t i = 0; i < tensor->n_shape; ++i) {
    if (!irt_mul_u64(length, tensor->shape[i], &length)) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "%s %zu: the shape's byte size overflows", what,
                             index);
    }
  }
  *out_length = length;
  return IRT_OK;
}

// Finds the region of |slice| in |table| and checks the range (and write
// access for outputs).
static irt_status_t ireed_check_slice(const Ireed__ShmSlice* slice,
                                      const ireed_region_table_t* table,
                                      bool for_output, const char* what,
                                      size_t index,
                                      ireed_region_t** out_region) {
  ireed_region_t* region = ireed_region_table_find(table, slice->region_id);
  if (!region) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "%s %zu: no shared-memory region %" PRIu64
                           " is registered on this connection",
                           what, index, slice->region_id);
  }
  if (!ireed_region_contains(region, slice->offset, slice->length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s %zu: range [%" PRIu64 ", +%" PRIu64
                           ") exceeds region %" PRIu64 " of %" PRIu64 " bytes",
                           what, index, slice->offset, slice->length,
                           region->id, region->size);
  }
  if (for_output && !region->writable) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%s %zu: region %" PRIu64
                           " is sealed against writes",
                           what, index, region->id);
  }
  *out_region = region;
  return IRT_OK;
}

static const char* ireed_value_kind_name(Ireed__Value__KindCase kind) {
  switch (kind) {
    case IREED__VALUE__KIND_I32:
      return "an i32";
    case IREED__VALUE__KIND_I64:
      return "an i64";
    case IREED__VALUE__KIND_F32:
      return "an f32";
    case IREED__VALUE__KIND_F64:
      return "an f64";
    case IREED__VALUE__KIND_TENSOR:
      return "a tensor";
    default:
      return "no value";
  }
}

static irt_status_t ireed_check_input(const Ireed__Value* value, char kind,
                                      const irsess_function_t* function,
                                      const ireed_region_table_t* table,
                                      size_t index,
                                      ireed_region_t** out_region) {
  *out_region = NULL;
  bool is_tensor = value->kind_case == IREED__VALUE__KIND_TENSOR;
  if (kind == 'r') {
    // An empty value passes a null reference.
    if (!is_tensor && value->kind_case != IREED__VALUE__KIND__NOT_SET) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "input %zu of '%.*s' must be a tensor (signature "
                             "'%.*s'), got %s",
                             index, IRT_SV_ARG(function->name),
                             IRT_SV_ARG(function->arguments),
                             ireed_value_kind_name(value->kind_case));
    }
  } else if (is_tensor || value->kind_case == IREED__VALUE__KIND__NOT_SET) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "input %zu of '%.*s' must be a scalar (signature "
                           "'%.*s'), got %s",
                           index, IRT_SV_ARG(function->name),
                           IRT_SV_ARG(function->arguments),
                           ireed_value_kind_name(value->kind_case));
  }
  if (!is_tensor) return IRT_OK;
  const Ireed__Tensor* tensor = value->tensor;
  uint64_t expected = 0;
  IRT_RETURN_IF_ERROR(
      ireed_tensor_byte_length(tensor, "input", index, &expected));
  uint64_t given = 0;
  switch (tensor->data_case) {
    case IREED__TENSOR__DATA_INLINE_DATA:
      given = tensor->inline_data.len;
      break;
    case IREED__TENSOR__DATA_SHM:
      given = tensor->shm->length;
      break;
    default:
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "input %zu: the tensor has no data (neither "
                             "inline_data nor shm)",
                             index);
  }
  if (given != expected) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "input %zu: the tensor's shape and element type "
                           "need %" PRIu64 " bytes but %" PRIu64 " were given",
                           index, expected, given);
  }
  if (tensor->data_case == IREED__TENSOR__DATA_SHM) {
    IRT_RETURN_IF_ERROR(ireed_check_slice(tensor->shm, table, false, "input",
                                          index, out_region));
    ireed_region_retain(*out_region);
  }
  return IRT_OK;
}

irt_status_t ireed_invocation_prepare(const Ireed__InvokeRequest* request,
                                      const irsess_function_t* function,
                                      const ireed_region_table_t* table,
                                      ireed_region_t** regions) {
  irt_string_view_t arguments = function->arguments;
  if (request->n_inputs != arguments.size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function '%.*s' takes %zu input%s (signature "
                           "'%.*s') but %zu were given",
                           IRT_SV_ARG(function->name), arguments.size,
                           arguments.size == 1 ? "" : "s",
                           IRT_SV_ARG(arguments), request->n_inputs);
  }
  if (request->n_outputs > function->results.size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%zu output targets given but function '%.*s' "
                           "returns %zu result%s",
                           request->n_outputs, IRT_SV_ARG(function->name),
                           function->results.size,
                           function->results.size == 1 ? "" : "s");
  }
  size_t slot_count = request->n_inputs + request->n_outputs;
  for (size_t i = 0; i < slot_count; ++i) regions[i] = NULL;
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < request->n_inputs && irt_status_is_ok(status); ++i) {
    status = ireed_check_input(request->inputs[i], arguments.data[i], function,
                               table, i, &regions[i]);
  }
  for (size_t i = 0; i < request->n_outputs && irt_status_is_ok(status); ++i) {
    const Ireed__OutputTarget* target = request->outputs[i];
    if (!target->shm) continue;  // inline, the default
    status = ireed_check_slice(target->shm, table, true, "output", i,
                               &regions[request->n_inputs + i]);
    if (irt_status_is_ok(status)) {
      ireed_region_retain(regions[request->n_inputs + i]);
    }
  }
  if (!irt_status_is_ok(status)) {
    for (size_t i = 0; i < slot_count; ++i) {
      ireed_region_release(regions[i]);
      regions[i] = NULL;
    }
  }
  return status;
}

void ireed_invocation_release_regions(ireed_invocation_t* invocation) {
  if (!invocation->regions) return;
  size_t count = invocation->request->n_inputs + invocation->request->n_outputs;
  for (size_t i = 0; i < count; ++i) {
    ireed_region_release(invocation->regions[i]);
    invocation->regions[i] = NULL;
  }
}

//===----------------------------------------------------------------------===//
// Running (worker)
//===----------------------------------------------------------------------===//

// Pins |region| for |device| if it wants that; without it transfers go
// through staging, so a failure only costs speed.
static void ireed_pin_region(ireed_region_t* region, irhal_device_t* device) {
  irt_status_t status = ireed_region_pin(region, device);
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_WARNING, "ireed",
                   "a shared-memory region stays unpinned", status);
    irt_status_free(status);
  }
}

// Turns input |index| into an argument on |device|, counting its bytes in
// |invocation| as zero-copied or staged.
static irt_status_t ireed_make_argument(ireed_invocation_t* invocation,
                                        const Ireed__Value* value,
                                        ireed_region_t* region,
                                        irhal_device_t* device,
                                        irt_allocator_t allocator,
                                        irvm_variant_t* out_argument) {
  *out_argument = irvm_variant_empty();
  switch (value->kind_case) {
    case IREED__VALUE__KIND_I32:
      *out_argument = irvm_variant_from_value(irvm_value_make_i32(value->i32));
      return IRT_OK;
    case IREED__VALUE__KIND_I64:
      *out_argument = irvm_variant_from_value(irvm_value_make_i64(value->i64));
      return IRT_OK;
    case IREED__VALUE__KIND_F32:
      *out_argument = irvm_variant_from_value(irvm_value_make_f32(value->f32));
      return IRT_OK;
    case IREED__VALUE__KIND_F64:
      *out_argument = irvm_variant_from_value(irvm_value_make_f64(value->f64));
      return IRT_OK;
    case IREED__VALUE__KIND_TENSOR:
      break;
    default:
      return IRT_OK;  // a null reference
  }
  const Ireed__Tensor* tensor = value->tensor;
  irhal_buffer_t* buffer = NULL;
  if (region) {
    // Pinned regions are imported in place by devices that need it.
    ireed_pin_region(region, device);
    // The buffer holds a region reference while it may read the memory.
    ireed_region_retain(region);
    irhal_release_callback_t release = {ireed_region_release_callback, region};
    bool imported = false;
    irt_status_t status = irsess_buffer_import(
        device, region->data + tensor->shm->offset, (size_t)tensor->shm->length,
        release, &buffer, &imported);
    if (!imported) ireed_region_release(region);
    IRT_RETURN_IF_ERROR(status);
    if (imported) {
      invocation->bytes_zero_copy += tensor->shm->length;
    } else {
      invocation->bytes_staged += tensor->shm->length;
    }
  } else {
    IRT_RETURN_IF_ERROR(irsess_buffer_upload(device, tensor->inline_data.data,
                                             tensor->inline_data.len, &buffer));
    invocation->bytes_staged += tensor->inline_data.len;
  }
  irhal_buffer_view_t* view = NULL;
  irt_status_t status = irhal_buffer_view_create(
      buffer, (uint32_t)tensor->n_shape, tensor->shape, tensor->element_type,
      IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR, allocator, &view);
  irhal_buffer_release(buffer);  // the view holds its own reference
  IRT_RETURN_IF_ERROR(status);
  *out_argument =
      irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
  return IRT_OK;
}

// Describes |result| in |out_value| (memory from the worker's scratch; the
// tensor bytes stay in the result's buffer) or copies it into |region|.
static irt_status_t ireed_make_output(irhal_device_t* device,
                                      const irvm_variant_t* result,
                                      size_t index,
                                      const Ireed__OutputTarget* target,
                                      ireed_region_t* region,
                                      ireed_worker_t* worker,
                                      Ireed__Value* out_value) {
  ireed__value__init(out_value);
  if (irvm_variant_is_value(result)) {
    irvm_value_t value = result->value;
    switch (value.type) {
      case IRVM_VALUE_TYPE_I64:
        out_value->kind_case = IREED__VALUE__KIND_I64;
        out_value->i64 = value.i64;
        break;
      case IRVM_VALUE_TYPE_F32:
        out_value->kind_case = IREED__VALUE__KIND_F32;
        out_value->f32 = value.f32;
        break;
      case IRVM_VALUE_TYPE_F64:
        out_value->kind_case = IREED__VALUE__KIND_F64;
        out_value->f64 = value.f64;
        break;
      default:  // i8, i16, i32 widen to i32
        out_value->kind_case = IREED__VALUE__KIND_I32;
        out_value->i32 = irvm_value_convert(value, IRVM_VALUE_TYPE_I32).i32;
        break;
    }
    return IRT_OK;
  }
  if (!irvm_variant_is_ref(result)) return IRT_OK;  // null
  irtool_tensor_t host;
  irhal_buffer_view_t* view = irhal_buffer_view_deref(&result->ref);
  irhal_buffer_t* buffer = irhal_buffer_deref(&result->ref);
  if (view) {
    IRT_RETURN_IF_ERROR(irsess_buffer_view_describe(view, &host));
    buffer = view->buffer;
  } else if (buffer) {
    irsess_buffer_describe(buffer, &host);
  } else {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "result %zu is a %s; only tensors and scalars can "
                           "be returned",
                           index, result->ref.type->name);
  }
  Ireed__Tensor* tensor = ireed_worker_scratch(worker, sizeof(*tensor));
  uint64_t* shape = ireed_worker_scratch(
      worker, (host.rank ? host.rank : 1) * sizeof(*shape));
  if (!tensor || !shape) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  ireed__tensor__init(tensor);
  tensor->element_type = host.element_type;
  tensor->n_shape = host.rank;
  memcpy(shape, host.shape, host.rank * sizeof(*shape));
  tensor->shape = shape;
  if (region) {
    const Ireed__ShmSlice* slice = target->shm;
    if (host.byte_length > slice->length) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "result %zu has %zu bytes but its output slice "
                             "of region %" PRIu64 " holds %" PRIu64,
                             index, host.byte_length, slice->region_id,
                             slice->length);
    }
    // Device memory lands in the region by DMA once it is pinned.
    ireed_pin_region(region, device);
    IRT_RETURN_IF_ERROR(irsess_buffer_download(
        device, buffer, host.byte_length, region->data + slice->offset));
    Ireed__ShmSlice* written = ireed_worker_scratch(worker, sizeof(*written));
    if (!written) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    ireed__shm_slice__init(written);
    written->region_id = slice->region_id;
    written->offset = slice->offset;
    written->length = host.byte_length;
    tensor->data_case = IREED__TENSOR__DATA_SHM;
    tensor->shm = written;
  } else {
    // Borrowed from the result's mapping until the reply is encoded, or
    // downloaded into scratch when the host cannot map it.
    irt_status_t status = irsess_buffer_map_for_reading(buffer, &host);
    if (irt_status_code(status) == IRT_STATUS_FAILED_PRECONDITION) {
      irt_status_free(status);
      host.data = ireed_worker_scratch(worker, host.byte_length);
      status = host.data ? irsess_buffer_download(device, buffer,
                                                  host.byte_length, host.data)
                         : irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                                           "out of memory");
    }
    IRT_RETURN_IF_ERROR(status);
    tensor->data_case = IREED__TENSOR__DATA_INLINE_DATA;
    tensor->inline_data.data = host.data;
    tensor->inline_data.len = host.byte_length;
  }
  out_value->kind_case = IREED__VALUE__KIND_TENSOR;
  out_value->tensor = tensor;
  return IRT_OK;
}

// Time spent waiting for a worker, and running (after the inputs were
// made), as replies and stats report them.
static uint64_t ireed_invocation_queue_ns(
    const ireed_invocation_t* invocation) {
  return invocation->queued_ns && invocation->start_ns > invocation->queued_ns
             ? invocation->start_ns - invocation->queued_ns
             : 0;
}
static uint64_t ireed_invocation_execute_ns(
    const ireed_invocation_t* invocation) {
  return invocation->ready_ns - invocation->execute_start_ns;
}

// Encodes the InvokeReply of the invocation's results.
static irt_status_t ireed_encode_results(ireed_invocation_t* invocation,
                                         ireed_worker_t* worker,
                                         irt_allocator_t allocator) {
  const Ireed__InvokeRequest* request = invocation->request;
  size_t result_count = invocation->result_count;
  Ireed__Value* values =
      ireed_worker_scratch(worker, (result_count + 1) * sizeof(*values));
  Ireed__Value** pointers =
      ireed_worker_scratch(worker, (result_count + 1) * sizeof(*pointers));
  if (!values || !pointers) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; i < result_count; ++i) {
    bool targeted = i < request->n_outputs && request->outputs[i]->shm;
    IRT_RETURN_IF_ERROR(ireed_make_output(
        irsess_model_device(invocation->model), &invocation->results[i], i, targeted ? request->outputs[i] : NULL,
        targeted ? invocation->regions[request->n_inputs + i] : NULL, worker,
        &values[i]));
    pointers[i] = &values[i];
  }
  Ireed__InvokeReply reply = IREED__INVOKE_REPLY__INIT;
  reply.n_outputs = result_count;
  reply.outputs = pointers;
  reply.queue_ns = ireed_invocation_queue_ns(invocation);
  reply.execute_ns = ireed_invocation_execute_ns(invocation);
  if (invocation->encode_reply) {
    return invocation->encode_reply(invocation, &reply);
  }
  return ireed_invocation_encode_frame(invocation, &reply, allocator);
}

irt_status_t ireed_invocation_encode_frame(ireed_invocation_t* invocation,
                                           const Ireed__InvokeReply* reply,
                                           irt_allocator_t allocator) {
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.request_id = invocation->request_id;
  frame.body_case = IREED__FRAME__BODY_INVOKE_REPLY;
  frame.invoke_reply = (Ireed__InvokeReply*)reply;
  irt_status_t status =
      ireed_frame_encode(&frame, invocation->max_frame_size, allocator,
                         &invocation->reply, &invocation->reply_size);
  if (irt_status_code(status) == IRT_STATUS_RESOURCE_EXHAUSTED) {
    status = irt_status_annotate(status,
                                 "the results do not fit in one reply; "
                                 "give output regions for the large ones");
  }
  return status;
}

// The signal fence of a pending invocation was reached (or failed).
static void ireed_invocation_on_fence(void* user_data, irt_status_t status) {
  ireed_invocation_t* invocation = user_data;
  invocation->ready_ns = ireed_now_ns();
  invocation->status = status;
  invocation->on_ready(invocation);
}

irt_status_t ireed_invocation_start(ireed_invocation_t* invocation,
                                    ireed_worker_t* worker,
                                    irt_allocator_t allocator,
                                    bool* out_pending) {
  *out_pending = false;
  invocation->start_ns = ireed_now_ns();
  invocation->status = IRT_OK;
  invocation->argument_count = 0;
  invocation->result_count = 0;
  invocation->bytes_zero_copy = 0;
  invocation->bytes_staged = 0;
  const Ireed__InvokeRequest* request = invocation->request;
  const irsess_function_t* function = invocation->function;
  irhal_device_t* device = irsess_model_device(invocation->model);
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < request->n_inputs && irt_status_is_ok(status); ++i) {
    status = ireed_make_argument(invocation, request->inputs[i],
                                 invocation->regions[i], device, allocator,
                                 &invocation->arguments[i]);
    if (irt_status_is_ok(status)) {
      invocation->argument_count = i + 1;
    } else {
      status = irt_status_annotate(status, "making input %zu", i);
    }
  }
  invocation->execute_start_ns = ireed_now_ns();
  if (irt_status_is_ok(status) && function->async_variant &&
      !invocation->synchronous) {
    irhal_fence_t* signal_fence = NULL;
    status = irsess_model_invoke_async(
        invocation->model, function, &worker->stack, invocation->arguments,
        invocation->argument_count, NULL, invocation->results,
        function->results.size, &invocation->result_count, &signal_fence);
    if (irt_status_is_ok(status)) {
      status = irhal_fence_notify(signal_fence, ireed_invocation_on_fence,
                                  invocation);
      if (irt_status_is_ok(status)) {
        // From here the callback owns the invocation (it may have run).
        irhal_fence_release(signal_fence);
        *out_pending = true;
        return IRT_OK;
      }
      // Never notified: wait for the work before releasing anything it may
      // use.
      irt_status_ignore(irhal_fence_wait(signal_fence, INT64_MAX));
      irhal_fence_release(signal_fence);
    }
  } else if (irt_status_is_ok(status)) {
    status = irsess_model_invoke(
        invocation->model, function, &worker->stack, invocation->arguments,
        invocation->argument_count, invocation->results, function->results.size,
        &invocation->result_count);
  }
  invocation->ready_ns = ireed_now_ns();
  invocation->status = status;
  return ireed_invocation_finish(invocation, worker, allocator);
}

// The invocation, whether it failed, its latencies and input bytes into
// |worker|'s shard of the model's stats (lock-free).
static void ireed_invocation_record(const ireed_invocation_t* invocation,
                                    const ireed_worker_t* worker, bool failed) {
  if (!invocation->stats) return;
  ireed_model_stats_shard_t* shard =
      ireed_model_stats_shard(invocation->stats, worker->index);
  ireed_model_stats_count(&shard->invocations, 1);
  ireed_model_stats_count(&shard->errors, failed);
  irt_histogram_record(&shard->queue_ns, ireed_invocation_queue_ns(invocation));
  irt_histogram_record(&shard->execute_ns,
                       ireed_invocation_execute_ns(invocation));
  ireed_model_stats_count(&shard->bytes_zero_copy, invocation->bytes_zero_copy);
  ireed_model_stats_count(&shard->bytes_staged, invocation->bytes_staged);
}

irt_status_t ireed_invocation_finish(ireed_invocation_t* invocation,
                                     ireed_worker_t* worker,
                                     irt_allocator_t allocator) {
  irt_status_t status = invocation->status;
  invocation->status = IRT_OK;
  for (size_t i = 0; i < invocation->argument_count; ++i) {
    irvm_variant_release(&invocation->arguments[i]);
  }
  invocation->argument_count = 0;
  if (irt_status_is_ok(status)) {
    status = ireed_encode_results(invocation, worker, allocator);
  }
  for (size_t i = 0; i < invocation->result_count; ++i) {
    irvm_variant_release(&invocation->results[i]);
  }
  invocation->result_count = 0;
  ireed_invocation_record(invocation, worker, !irt_status_is_ok(status));
  if (irt_status_is_ok(status)) return IRT_OK;
  if (irt_log_enabled(IRT_LOG_DEBUG)) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    IRT_LOG_EVENT(IRT_LOG_DEBUG, "ireed", "invocation.failed",
                  IRT_LOG_STR("model", invocation->request->model),
                  IRT_LOG_STR("function", invocation->request->function),
                  IRT_LOG_U64("request", invocation->request_id),
                  IRT_LOG_STR("error", text));
  }
  irt_status_t encode_status =
      ireed_encode_error(invocation->request_id, status, allocator,
                         &invocation->reply, &invocation->reply_size);
  irt_status_free(status);
  return encode_status;
}
