// hal.allocator.*, hal.buffer.* and hal.buffer_view.* (HAL spec 1.5.1-1.5.3).
#include <inttypes.h>
#include <stdio.h>

#include "runtime/base/math.h"
#include "runtime/modules/hal/module_internal.h"

//===----------------------------------------------------------------------===//
// Allocator
//===----------------------------------------------------------------------===//

irt_status_t irmod_hal_allocator_allocate(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_allocator_t* allocator = irmod_hal_arg_allocator(&args, "allocator");
  (void)irmod_hal_arg_i64(&args);  // queue affinity: one memory space
  uint32_t memory_types = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t buffer_usage = (uint32_t)irmod_hal_arg_i32(&args);
  uint64_t allocation_size = (uint64_t)irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);
  irhal_device_t* device = allocator->device;
  irhal_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_device_allocate_buffer(device, memory_types, buffer_usage,
                                   allocation_size, &buffer),
      "allocating a %" PRIu64 "-byte buffer (memory type 0x%X, usage 0x%X)",
      allocation_size, memory_types, buffer_usage);
  irmod_hal_result_ref(call, buffer, irhal_buffer_type());
  return IRT_OK;
}

// Access an import of |source| may allow (spec 1.5.1 allocator.import step
// 2): immutable VM memory must be imported as immutable.
static irt_status_t irmod_hal_import_access(const irvm_buffer_t* source,
                                            uint32_t buffer_usage,
                                            uint32_t* out_access) {
  bool immutable_usage =
      (buffer_usage & IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE) != 0;
  *out_access = IRHAL_MEMORY_ACCESS_READ;
  if (!(irvm_buffer_flags(source) & IRVM_BUFFER_MUTABLE)) {
    if (!immutable_usage) {
      return irt_make_status(
          IRT_STATUS_PERMISSION_DENIED,
          "importing a read-only vm.buffer requires SHARING_IMMUTABLE usage "
          "(0x%X); usage was 0x%X",
          IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE, buffer_usage);
    }
  } else if (!immutable_usage) {
    *out_access |= IRHAL_MEMORY_ACCESS_WRITE;
  }
  return IRT_OK;
}

irt_status_t irmod_hal_allocator_import(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_allocator_t* allocator = irmod_hal_arg_allocator(&args, "allocator");
  bool try_import = irmod_hal_arg_i32(&args) != 0;
  (void)irmod_hal_arg_i64(&args);  // queue affinity
  uint32_t memory_types = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t buffer_usage = (uint32_t)irmod_hal_arg_i32(&args);
  irvm_buffer_t* source = irmod_hal_arg_vm_buffer(&args, "source");
  int64_t offset = irmod_hal_arg_i64(&args);
  int64_t length = irmod_hal_arg_i64(&args);
  IRT_RETURN_IF_ERROR(args.status);

  // Range and permission errors fail even with |try_import| (spec B.13).
  const uint8_t* data = NULL;
  uint64_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_vm_buffer_range(
      source, offset, length, IRT_STATUS_INVALID_ARGUMENT,
      "allocator.import source", &data, &byte_length));
  uint32_t access = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_import_access(source, buffer_usage, &access));

  // The HAL buffer keeps the vm.buffer alive until it is destroyed.
  irvm_buffer_retain(source);
  irhal_release_callback_t release = {irmod_hal_release_vm_buffer, source};
  irhal_device_t* device = allocator->device;
  irhal_buffer_t* buffer = NULL;
  irt_status_t status = device->vtable->import_host_buffer(
      device, (void*)data, byte_length, memory_types, buffer_usage, access,
      release, &buffer);
  if (!irt_status_is_ok(status)) {
    irvm_buffer_release(source);  // a failed import never calls |release|
    if (!try_import) return status;
    irt_status_free(status);  // the caller falls back to allocate + copy
    buffer = NULL;
  }
  irmod_hal_result_ref(call, buffer, irhal_buffer_type());
  return IRT_OK;
}

irt_status_t irmod_hal_allocator_select(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  (void)irmod_hal_arg_i32(&args);  // memory types: no selection policy
  (void)irmod_hal_arg_i32(&args);  // buffer usage
  (void)irmod_hal_arg_i64(&args);  // flags
  irvm_abi_span_t from = irmod_hal_arg_span(&args, "rI");
  if (from.count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "allocator.select: argument 'from' is empty");
  }
  // Without a host selection policy the first pair wins; every entry must
  // still be a device.
  irhal_device_t* first = NULL;
  int64_t first_affinity = 0;
  for (uint32_t i = 0; i < from.count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(from, i);
    void* device = NULL;
    IRT_RETURN_IF_ERROR(irmod_hal_deref(irvm_abi_read_ref(&element),
                                        irhal_device_type(), false, "from", i,
                                        &device));
    if (i == 0) {
      first = device;
      first_affinity = irvm_abi_read_i64(&element);
    }
  }
  irhal_device_retain(first);
  irmod_hal_result_ref(call, first, irhal_device_type());
  irvm_abi_write_i64(&call->results, first_affinity);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Buffer
//===----------------------------------------------------------------------===//

// Returns |predicate| of the buffer argument as an i32 0 or 1.
static irt_status_t irmod_hal_buffer_allocation_predicate(
    irvm_native_call_t* call, bool (*predicate)(irhal_buffer_t* buffer)) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  IRT_RETURN_IF_ERROR(args.status);
  irvm_abi_write_i32(&call->results, predicate(buffer) ? 1 : 0);
  return IRT_OK;
}

// Every subspan shares its root allocation's preserve count.
irt_status_t irmod_hal_buffer_allocation_discard(irvm_native_call_t* call) {
  return irmod_hal_buffer_allocation_predicate(call,
                                               irhal_buffer_allocation_discard);
}

irt_status_t irmod_hal_buffer_allocation_is_terminal(irvm_native_call_t* call) {
  return irmod_hal_buffer_allocation_predicate(
      call, irhal_buffer_allocation_is_terminal);
}

irt_status_t irmod_hal_buffer_allocation_preserve(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_allocation_preserve(buffer);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_assert(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  irvm_buffer_t* message = irmod_hal_arg_vm_buffer(&args, "message");
  (void)irmod_hal_arg_allocator(&args, "allocator");  // type-checked only
  uint64_t minimum_length = (uint64_t)irmod_hal_arg_i64(&args);
  uint32_t memory_types = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t buffer_usage = (uint32_t)irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  irt_string_view_t label = irmod_hal_string(message);
  if (buffer->byte_length < minimum_length) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%.*s buffer is too small: %" PRIu64
                           " bytes but at least %" PRIu64 " are required",
                           IRT_SV_ARG(label), buffer->byte_length,
                           minimum_length);
  }
  if ((buffer->memory_type & memory_types) != memory_types) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%.*s buffer memory type 0x%X lacks required bits "
                           "0x%X (expected 0x%X)",
                           IRT_SV_ARG(label), buffer->memory_type,
                           memory_types & ~buffer->memory_type, memory_types);
  }
  if ((buffer->allowed_usage & buffer_usage) != buffer_usage) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%.*s buffer usage 0x%X lacks required bits 0x%X "
                           "(expected 0x%X)",
                           IRT_SV_ARG(label), buffer->allowed_usage,
                           buffer_usage & ~buffer->allowed_usage, buffer_usage);
  }
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_length(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  IRT_RETURN_IF_ERROR(args.status);
  irvm_abi_write_i64(&call->results, (int64_t)buffer->byte_length);
  return IRT_OK;
}

static irt_status_t irmod_hal_check_scalar_width(int32_t length) {
  if (length < 1 || length > 4) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "argument 'length' must be 1 to 4 bytes, got %d",
                           length);
  }
  return IRT_OK;
}

// Maps [offset, offset + length) of |buffer| for a scalar load or store.
static irt_status_t irmod_hal_map_scalar(irhal_buffer_t* buffer,
                                         uint32_t access, int64_t offset,
                                         int32_t length, void** out_ptr) {
  IRT_RETURN_IF_ERROR(irmod_hal_check_scalar_width(length));
  irhal_device_size_t checked_length = (irhal_device_size_t)length;
  IRT_RETURN_IF_ERROR(irhal_buffer_check_range(
      buffer, (irhal_device_size_t)offset, &checked_length, "scalar access"));
  return irhal_buffer_map(buffer, access, (irhal_device_size_t)offset,
                          checked_length, out_ptr);
}

irt_status_t irmod_hal_buffer_load(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "source_buffer");
  int64_t offset = irmod_hal_arg_i64(&args);
  int32_t length = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  void* ptr = NULL;
  IRT_RETURN_IF_ERROR(irmod_hal_map_scalar(buffer, IRHAL_MEMORY_ACCESS_READ,
                                           offset, length, &ptr));
  // Zero-extends: the low |length| bytes of a little-endian word.
  uint32_t value = 0;
  memcpy(&value, ptr, (size_t)length);
  irvm_abi_write_i32(&call->results, (int32_t)value);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_store(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  uint32_t value = (uint32_t)irmod_hal_arg_i32(&args);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "target_buffer");
  int64_t offset = irmod_hal_arg_i64(&args);
  int32_t length = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  void* ptr = NULL;
  IRT_RETURN_IF_ERROR(irmod_hal_map_scalar(buffer, IRHAL_MEMORY_ACCESS_WRITE,
                                           offset, length, &ptr));
  memcpy(ptr, &value, (size_t)length);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_subspan(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* source = irmod_hal_arg_buffer(&args, "source_buffer");
  uint64_t offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t length = (uint64_t)irmod_hal_arg_i64(&args);  // -1: the rest
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_t* subspan = NULL;
  IRT_RETURN_IF_ERROR(irhal_buffer_subspan(source, offset, length, &subspan));
  irmod_hal_result_ref(call, subspan, irhal_buffer_type());
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Buffer view
//===----------------------------------------------------------------------===//

// Reads a shape list (spec: at most IRHAL_MAX_RANK dims, else OUT_OF_RANGE).
static irt_status_t irmod_hal_read_shape(irvm_abi_span_t span,
                                         irhal_device_size_t* shape,
                                         uint32_t* out_rank) {
  if (span.count > IRHAL_MAX_RANK) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "argument 'shape' has rank %u; at most %u "
                           "dimensions are supported",
                           span.count, IRHAL_MAX_RANK);
  }
  for (uint32_t i = 0; i < span.count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    shape[i] = (irhal_device_size_t)irvm_abi_read_i64(&element);
  }
  *out_rank = span.count;
  return IRT_OK;
}

static const char* irmod_hal_encoding_name(uint32_t encoding, char* buffer,
                                           size_t capacity) {
  switch (encoding) {
    case IRHAL_ENCODING_TYPE_OPAQUE:
      return "opaque";
    case IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR:
      return "dense_row_major";
    default:
      snprintf(buffer, capacity, "0x%08X", encoding);
      return buffer;
  }
}

// Spec 1.5.3: an opaque actual type passes, integer kinds of one width are
// interchangeable (ui8 data for an i8 parameter), otherwise exact match.
static bool irmod_hal_element_types_compatible(irhal_element_type_t actual,
                                               irhal_element_type_t expected) {
  if (irhal_element_type_is_opaque(actual) || actual == expected) return true;
  return irhal_element_type_is_integer(actual) &&
         irhal_element_type_is_integer(expected) &&
         irhal_element_bit_count(actual) == irhal_element_bit_count(expected);
}

static bool irmod_hal_shapes_equal(uint32_t rank,
                                   const irhal_device_size_t* lhs,
                                   const irhal_device_size_t* rhs) {
  for (uint32_t i = 0; i < rank; ++i) {
    if (lhs[i] != rhs[i]) return false;
  }
  return true;
}

// Room for IRHAL_MAX_RANK 20-digit dims, separators and the type.
#define IRMOD_HAL_SHAPE_TEXT_CAPACITY (IRHAL_MAX_RANK * 21 + 32)

static irt_status_t irmod_hal_shape_mismatch(
    irt_string_view_t label, const irhal_buffer_view_t* view,
    uint32_t expected_rank, const irhal_device_size_t* expected_shape,
    irhal_element_type_t expected_type) {
  char expected[IRMOD_HAL_SHAPE_TEXT_CAPACITY];
  char actual[IRMOD_HAL_SHAPE_TEXT_CAPACITY];
  irhal_format_shape_and_type(expected_rank, expected_shape, expected_type,
                              expected, sizeof(expected));
  irhal_format_shape_and_type(view->rank, view->shape, view->element_type,
                              actual, sizeof(actual));
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "%.*s shape mismatch: expected %s but got %s",
                         IRT_SV_ARG(label), expected, actual);
}

irt_status_t irmod_hal_buffer_view_assert(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  irvm_buffer_t* message = irmod_hal_arg_vm_buffer(&args, "message");
  irhal_element_type_t element_type = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t encoding_type = (uint32_t)irmod_hal_arg_i32(&args);
  irvm_abi_span_t shape_span = irmod_hal_arg_span(&args, "I");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_device_size_t shape[IRHAL_MAX_RANK];
  uint32_t rank = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_read_shape(shape_span, shape, &rank));
  irt_string_view_t label = irmod_hal_string(message);

  if (view->encoding_type != IRHAL_ENCODING_TYPE_OPAQUE &&
      view->encoding_type != encoding_type) {
    char expected[16], actual[16];
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "%.*s encoding mismatch: expected %s but got %s", IRT_SV_ARG(label),
        irmod_hal_encoding_name(encoding_type, expected, sizeof(expected)),
        irmod_hal_encoding_name(view->encoding_type, actual, sizeof(actual)));
  }
  if (!irmod_hal_element_types_compatible(view->element_type, element_type)) {
    char expected[32], actual[32];
    irhal_element_type_format(element_type, expected, sizeof(expected));
    irhal_element_type_format(view->element_type, actual, sizeof(actual));
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%.*s element type mismatch: expected %s but got %s",
                           IRT_SV_ARG(label), expected, actual);
  }
  if (view->rank != rank || !irmod_hal_shapes_equal(rank, view->shape, shape)) {
    return irmod_hal_shape_mismatch(label, view, rank, shape, element_type);
  }
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_buffer(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_buffer_retain(view->buffer);
  irmod_hal_result_ref(call, view->buffer, irhal_buffer_type());
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_create(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_t* buffer = irmod_hal_arg_buffer(&args, "buffer");
  uint64_t source_offset = (uint64_t)irmod_hal_arg_i64(&args);
  uint64_t source_length = (uint64_t)irmod_hal_arg_i64(&args);
  irhal_element_type_t element_type = (uint32_t)irmod_hal_arg_i32(&args);
  uint32_t encoding_type = (uint32_t)irmod_hal_arg_i32(&args);
  irvm_abi_span_t shape_span = irmod_hal_arg_span(&args, "I");
  IRT_RETURN_IF_ERROR(args.status);
  irhal_device_size_t shape[IRHAL_MAX_RANK];
  uint32_t rank = 0;
  IRT_RETURN_IF_ERROR(irmod_hal_read_shape(shape_span, shape, &rank));

  // The whole buffer comes back as itself (retained); any other range is a
  // subspan.
  irhal_buffer_t* subspan = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_buffer_subspan(buffer, source_offset, source_length, &subspan));
  irhal_buffer_view_t* view = NULL;
  irt_status_t status = irhal_buffer_view_create(
      subspan, rank, shape, element_type, encoding_type,
      irmod_hal_module(call)->host_allocator, &view);
  irhal_buffer_release(subspan);
  IRT_RETURN_IF_ERROR(status);
  irmod_hal_result_ref(call, view, irhal_buffer_view_type());
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_dim(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  int32_t index = irmod_hal_arg_i32(&args);
  IRT_RETURN_IF_ERROR(args.status);
  // Out-of-range indices read as 0 (spec B.7).
  uint64_t dim =
      index >= 0 && (uint32_t)index < view->rank ? view->shape[index] : 0;
  irvm_abi_write_i64(&call->results, (int64_t)dim);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_element_type(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  IRT_RETURN_IF_ERROR(args.status);
  irvm_abi_write_i32(&call->results, (int32_t)view->element_type);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_encoding_type(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  IRT_RETURN_IF_ERROR(args.status);
  irvm_abi_write_i32(&call->results, (int32_t)view->encoding_type);
  return IRT_OK;
}

irt_status_t irmod_hal_buffer_view_rank(irvm_native_call_t* call) {
  irmod_hal_args_t args = irmod_hal_args(call);
  irhal_buffer_view_t* view = irmod_hal_arg_buffer_view(&args, "buffer_view");
  IRT_RETURN_IF_ERROR(args.status);
  irvm_abi_write_i32(&call->results, (int32_t)view->rank);
  return IRT_OK;
}

// No debug sink is configured, so tracing is a no-op (spec 1.5.3).
irt_status_t irmod_hal_buffer_view_trace(irvm_native_call_t* call) {
  (void)call;
  return IRT_OK;
}
