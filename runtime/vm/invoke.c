#include "runtime/vm/invoke.h"

#include "runtime/base/math.h"
#include "runtime/vm/cconv.h"

irt_status_t irvm_function_signature(const irvm_function_t* function,
                                     irt_string_view_t* out_arguments,
                                     irt_string_view_t* out_results) {
  irvm_export_info_t info;
  IRT_RETURN_IF_ERROR(function->module->vtable->export_info(
      function->module, function->export_ordinal, &info));
  irvm_cconv_t cconv;
  IRT_RETURN_IF_ERROR(irvm_cconv_parse(info.calling_convention, &cconv));
  *out_arguments = cconv.arguments;
  *out_results = cconv.results;
  return IRT_OK;
}

static irvm_value_type_t irvm_invoke_value_type(char kind) {
  switch (kind) {
    case 'i': return IRVM_VALUE_TYPE_I32;
    case 'I': return IRVM_VALUE_TYPE_I64;
    case 'f': return IRVM_VALUE_TYPE_F32;
    default: return IRVM_VALUE_TYPE_F64;
  }
}

static irt_status_t irvm_invoke_pack_arguments(irt_string_view_t cconv,
                                               const irvm_variant_t* arguments,
                                               size_t argument_count,
                                               uint8_t* buffer) {
  if (irvm_cconv_fragment_has_spans(cconv)) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "variadic exports cannot be invoked from the host");
  }
  if (argument_count != cconv.size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function takes %zu arguments, %zu given",
                           cconv.size, argument_count);
  }
  irvm_abi_cursor_t cursor = irvm_abi_cursor(buffer);
  for (size_t i = 0; i < cconv.size; ++i) {
    const irvm_variant_t* argument = &arguments[i];
    char kind = cconv.data[i];
    if (kind == 'r') {
      if (irvm_variant_is_value(argument)) {
        return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "argument %zu must be a reference, got a value", i);
      }
      // Borrowed: the buffer's refs are never released here.
      *irvm_abi_read_ref(&cursor) = argument->ref;
      continue;
    }
    if (!irvm_variant_is_value(argument)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "argument %zu must be a value, got %s", i,
                             irvm_variant_is_ref(argument) ? "a reference"
                                                           : "nothing");
    }
    irvm_value_t value =
        irvm_value_convert(argument->value, irvm_invoke_value_type(kind));
    switch (kind) {
      case 'i': irvm_abi_write_i32(&cursor, value.i32); break;
      case 'f': memcpy(irvm_abi_cursor_next(&cursor, 4, 4), &value.f32, 4); break;
      case 'I': irvm_abi_write_i64(&cursor, value.i64); break;
      default: memcpy(irvm_abi_cursor_next(&cursor, 8, 8), &value.f64, 8); break;
    }
  }
  return IRT_OK;
}

static void irvm_invoke_unpack_results(irt_string_view_t cconv, uint8_t* buffer,
                                       irvm_variant_t* results) {
  irvm_abi_cursor_t cursor = irvm_abi_cursor(buffer);
  for (size_t i = 0; i < cconv.size; ++i) {
    irvm_variant_t* result = &results[i];
    *result = irvm_variant_empty();
    switch (cconv.data[i]) {
      case 'i':
        result->value = irvm_value_make_i32(irvm_abi_read_i32(&cursor));
        break;
      case 'I':
        result->value = irvm_value_make_i64(irvm_abi_read_i64(&cursor));
        break;
      case 'f': {
        float value;
        memcpy(&value, irvm_abi_cursor_next(&cursor, 4, 4), 4);
        result->value = irvm_value_make_f32(value);
        break;
      }
      case 'F': {
        double value;
        memcpy(&value, irvm_abi_cursor_next(&cursor, 8, 8), 8);
        result->value = irvm_value_make_f64(value);
        break;
      }
      case 'r': {
        irvm_ref_t* slot = irvm_abi_read_ref(&cursor);
        irvm_ref_move_to(slot, &result->ref);
        break;
      }
    }
  }
}

irt_status_t irvm_invoke(const irvm_function_t* function, irvm_stack_t* stack,
                         const irvm_variant_t* arguments, size_t argument_count,
                         irvm_variant_t* results, size_t result_capacity,
                         size_t* out_result_count, irt_allocator_t allocator) {
  *out_result_count = 0;
  irt_string_view_t argument_cconv, result_cconv;
  IRT_RETURN_IF_ERROR(
      irvm_function_signature(function, &argument_cconv, &result_cconv));
  if (result_cconv.size > result_capacity) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "function returns %zu results; room for %zu",
                           result_cconv.size, result_capacity);
  }
  size_t argument_size = 0, result_size = 0;
  if (!irvm_cconv_buffer_size(argument_cconv, NULL, &argument_size) ||
      !irvm_cconv_buffer_size(result_cconv, NULL, &result_size)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function signature too large");
  }
  irvm_stack_t local_stack;
  if (!stack) {
    irvm_stack_initialize(&local_stack, allocator, 0);
    stack = &local_stack;
  }
  void* memory = NULL;
  size_t mark = 0;
  irt_status_t status = irvm_stack_push(
      stack, irt_align_size(argument_size, 16) + result_size, &memory, &mark);
  if (irt_status_is_ok(status)) {
    uint8_t* argument_buffer = memory;
    uint8_t* result_buffer = argument_buffer + irt_align_size(argument_size, 16);
    status = irvm_invoke_pack_arguments(argument_cconv, arguments,
                                        argument_count, argument_buffer);
    if (irt_status_is_ok(status)) {
      status = irvm_function_call(function, stack, argument_buffer, result_buffer);
    }
    if (irt_status_is_ok(status)) {
      irvm_invoke_unpack_results(result_cconv, result_buffer, results);
      *out_result_count = result_cconv.size;
    } else {
      irvm_abi_release_refs(result_cconv, result_buffer);
    }
    irvm_stack_pop(stack, mark);
  }
  if (stack == &local_stack) irvm_stack_deinitialize(&local_stack);
  return status;
}
