// hal.allocator.*, hal.buffer.* and hal.buffer_view.*.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/modules_hal/hal_fixture.h"

static int setup(void** state) {
  hal_fixture_t* fixture = malloc(sizeof(*fixture));
  hal_fixture_init(fixture);
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  hal_fixture_deinit(*state);
  free(*state);
  return 0;
}

static irvm_ref_t make_allocator(hal_fixture_t* fixture) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_results_t results;
  HAL_OK(hal_call(fixture, "device.allocator", &args, &results));
  irvm_ref_t allocator = hal_results_ref(&results);
  assert_ptr_equal(allocator.type, irhal_allocator_type());
  return allocator;
}

static irt_status_t allocate(hal_fixture_t* fixture, irvm_ref_t allocator,
                             int32_t memory_types, int32_t usage, int64_t size,
                             irvm_ref_t* out_buffer) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, allocator);
  hal_args_i64(&args, -1);
  hal_args_i32(&args, memory_types);
  hal_args_i32(&args, usage);
  hal_args_i64(&args, size);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "allocator.allocate", &args, &results));
  *out_buffer = hal_results_ref(&results);
  return IRT_OK;
}

// A 16-byte DEVICE_LOCAL buffer with the default usage.
static irvm_ref_t make_buffer(hal_fixture_t* fixture, int64_t size) {
  irvm_ref_t allocator = make_allocator(fixture);
  irvm_ref_t buffer = irvm_ref_null();
  HAL_OK(allocate(fixture, allocator, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                  IRHAL_BUFFER_USAGE_DEFAULT, size, &buffer));
  irvm_ref_release(&allocator);
  return buffer;
}

static void test_allocate(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t buffer = make_buffer(fixture, 40);
  irhal_buffer_t* hal_buffer = irhal_buffer_deref(&buffer);
  assert_non_null(hal_buffer);
  assert_int_equal(hal_buffer->byte_length, 40);
  assert_int_equal(hal_buffer->memory_type & IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                   IRHAL_MEMORY_TYPE_DEVICE_LOCAL);
  assert_int_equal(hal_buffer->allowed_usage & IRHAL_BUFFER_USAGE_DEFAULT,
                   IRHAL_BUFFER_USAGE_DEFAULT);
  irvm_ref_release(&buffer);
}

static irt_status_t import(hal_fixture_t* fixture, irvm_ref_t allocator,
                           int32_t try_import, int32_t usage, irvm_ref_t source,
                           int64_t offset, int64_t length,
                           irvm_ref_t* out_buffer) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, allocator);
  hal_args_i32(&args, try_import);
  hal_args_i64(&args, -1);
  hal_args_i32(&args, IRHAL_MEMORY_TYPE_DEVICE_LOCAL);
  hal_args_i32(&args, usage);
  hal_args_ref(&args, source);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "allocator.import", &args, &results));
  *out_buffer = hal_results_ref(&results);
  return IRT_OK;
}

#define IMMUTABLE_USAGE \
  (IRHAL_BUFFER_USAGE_DEFAULT | IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE)

static void test_import(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t allocator = make_allocator(fixture);
  irvm_ref_t rodata = hal_vm_bytes(fixture, "abcdefgh", 8, false);
  irvm_ref_t heap = hal_vm_bytes(fixture, "abcdefgh", 8, true);
  irvm_ref_t buffer = irvm_ref_null();

  // Read-only VM memory must be imported as immutable, even with try set.
  HAL_ERROR(import(fixture, allocator, 1, IRHAL_BUFFER_USAGE_DEFAULT, rodata, 0,
                   -1, &buffer),
            IRT_STATUS_PERMISSION_DENIED, "SHARING_IMMUTABLE");
  // Range errors fail even with try set.
  const int64_t bad_ranges[][2] = {
      {-1, 2}, {0, -2}, {9, -1}, {4, 5}, {INT64_MAX, 1}};
  for (size_t i = 0; i < sizeof(bad_ranges) / sizeof(bad_ranges[0]); ++i) {
    HAL_ERROR(import(fixture, allocator, 1, IMMUTABLE_USAGE, rodata,
                     bad_ranges[i][0], bad_ranges[i][1], &buffer),
              IRT_STATUS_INVALID_ARGUMENT, "allocator.import source");
  }

  // Zero-copy and read-only; the buffer keeps the vm.buffer alive.
  HAL_OK(
      import(fixture, allocator, 1, IMMUTABLE_USAGE, rodata, 2, -1, &buffer));
  irhal_buffer_t* hal_buffer = irhal_buffer_deref(&buffer);
  assert_non_null(hal_buffer);
  assert_int_equal(hal_buffer->byte_length, 6);
  assert_int_equal(hal_buffer->allowed_access, IRHAL_MEMORY_ACCESS_READ);
  void* ptr = NULL;
  HAL_OK(irhal_buffer_map(hal_buffer, IRHAL_MEMORY_ACCESS_READ, 0, 6, &ptr));
  assert_ptr_equal(ptr, irvm_buffer_deref(&rodata)->data + 2);
  irvm_ref_release(&rodata);
  assert_memory_equal(ptr, "cdefgh", 6);
  irvm_ref_release(&buffer);

  // Mutable VM memory is writable unless imported as immutable.
  HAL_OK(import(fixture, allocator, 0, IRHAL_BUFFER_USAGE_DEFAULT, heap, 0, 8,
                &buffer));
  assert_int_equal(irhal_buffer_deref(&buffer)->allowed_access,
                   IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE);
  irvm_ref_release(&buffer);
  HAL_OK(import(fixture, allocator, 0, IMMUTABLE_USAGE, heap, 0, 8, &buffer));
  assert_int_equal(irhal_buffer_deref(&buffer)->allowed_access,
                   IRHAL_MEMORY_ACCESS_READ);
  irvm_ref_release(&buffer);

  // A device that cannot use host memory: null with try, else the error.
  fixture->device->refuse_import = true;
  HAL_OK(import(fixture, allocator, 1, IMMUTABLE_USAGE, heap, 0, 8, &buffer));
  assert_true(irvm_ref_is_null(&buffer));
  HAL_ERROR(import(fixture, allocator, 0, IMMUTABLE_USAGE, heap, 0, 8, &buffer),
            IRT_STATUS_UNAVAILABLE, "refuses");
  irvm_ref_release(&heap);
  irvm_ref_release(&allocator);
}

static void test_select(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t text = hal_vm_text(fixture, "not a device");
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i32(&args, IRHAL_MEMORY_TYPE_DEVICE_LOCAL);
  hal_args_i32(&args, IRHAL_BUFFER_USAGE_DEFAULT);
  hal_args_i64(&args, 0);
  irvm_abi_span_t span = hal_args_span(&args, 2, "rI");
  irvm_abi_cursor_t element = irvm_abi_span_element(span, 0);
  hal_span_ref(&element, hal_device_ref(fixture));
  irvm_abi_write_i64(&element, 5);
  element = irvm_abi_span_element(span, 1);
  hal_span_ref(&element, hal_device_ref(fixture));
  irvm_abi_write_i64(&element, 6);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "allocator.select", &args, &results));
  irvm_ref_t device = hal_results_ref(&results);
  assert_ptr_equal(device.ptr, &fixture->device->base);
  assert_int_equal(hal_results_i64(&results), 5);
  irvm_ref_release(&device);

  element = irvm_abi_span_element(span, 1);
  hal_span_ref(&element, text);
  HAL_ERROR(hal_call(fixture, "allocator.select", &args, NULL),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'from[1]'");
  irvm_ref_release(&text);
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

static irt_status_t store(hal_fixture_t* fixture, irvm_ref_t buffer,
                          int32_t value, int64_t offset, int32_t length) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i32(&args, value);
  hal_args_ref(&args, buffer);
  hal_args_i64(&args, offset);
  hal_args_i32(&args, length);
  return hal_call(fixture, "buffer.store", &args, NULL);
}

static irt_status_t load(hal_fixture_t* fixture, irvm_ref_t buffer,
                         int64_t offset, int32_t length, int32_t* out_value) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_args_i64(&args, offset);
  hal_args_i32(&args, length);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "buffer.load", &args, &results));
  *out_value = hal_results_i32(&results);
  return IRT_OK;
}

static void test_load_store(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t buffer = make_buffer(fixture, 16);
  HAL_OK(store(fixture, buffer, (int32_t)0xA1B2C3D4, 0, 4));
  HAL_OK(store(fixture, buffer, 0x7F6E, 4, 2));
  HAL_OK(store(fixture, buffer, 0x1234FF, 6, 1));  // only the low byte
  HAL_OK(store(fixture, buffer, 0x0BADF00D, 13, 3));
  const uint8_t expected[16] = {0xD4, 0xC3, 0xB2, 0xA1, 0x6E, 0x7F, 0xFF, 0,
                                0,    0,    0,    0,    0,    0x0D, 0xF0, 0xAD};
  void* ptr = NULL;
  HAL_OK(irhal_buffer_map(irhal_buffer_deref(&buffer), IRHAL_MEMORY_ACCESS_READ,
                          0, 16, &ptr));
  assert_memory_equal(ptr, expected, 16);

  int32_t value = 0;
  HAL_OK(load(fixture, buffer, 0, 4, &value));
  assert_int_equal((uint32_t)value, 0xA1B2C3D4);
  HAL_OK(load(fixture, buffer, 6, 1, &value));
  assert_int_equal(value, 0xFF);  // zero-extended
  HAL_OK(load(fixture, buffer, 2, 3, &value));
  assert_int_equal(value, 0x6EA1B2);
  HAL_OK(load(fixture, buffer, 13, 3, &value));
  assert_int_equal(value, 0xADF00D);

  HAL_ERROR(load(fixture, buffer, 0, 5, &value), IRT_STATUS_INVALID_ARGUMENT,
            "1 to 4");
  HAL_ERROR(load(fixture, buffer, 0, 0, &value), IRT_STATUS_INVALID_ARGUMENT,
            "1 to 4");
  HAL_ERROR(store(fixture, buffer, 0, 0, -1), IRT_STATUS_INVALID_ARGUMENT,
            "1 to 4");
  HAL_ERROR(load(fixture, buffer, 13, 4, &value), IRT_STATUS_OUT_OF_RANGE,
            NULL);
  HAL_ERROR(load(fixture, buffer, -1, 1, &value), IRT_STATUS_OUT_OF_RANGE,
            NULL);
  HAL_ERROR(store(fixture, buffer, 0, 16, 1), IRT_STATUS_OUT_OF_RANGE, NULL);
  HAL_ERROR(store(fixture, buffer, 0, INT64_MAX, 2), IRT_STATUS_OUT_OF_RANGE,
            NULL);
  irvm_ref_release(&buffer);
}

static irt_status_t subspan(hal_fixture_t* fixture, irvm_ref_t buffer,
                            int64_t offset, int64_t length,
                            irvm_ref_t* out_buffer) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "buffer.subspan", &args, &results));
  *out_buffer = hal_results_ref(&results);
  return IRT_OK;
}

static int64_t length_of(hal_fixture_t* fixture, irvm_ref_t buffer) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "buffer.length", &args, &results));
  return hal_results_i64(&results);
}

static void test_subspan_and_length(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t buffer = make_buffer(fixture, 32);
  assert_int_equal(length_of(fixture, buffer), 32);
  irvm_ref_t span = irvm_ref_null();
  HAL_OK(subspan(fixture, buffer, 0, -1, &span));
  assert_ptr_equal(span.ptr, buffer.ptr);  // the whole buffer is itself
  irvm_ref_release(&span);
  HAL_OK(subspan(fixture, buffer, 8, -1, &span));
  assert_int_equal(length_of(fixture, span), 24);
  irvm_ref_t inner = irvm_ref_null();
  HAL_OK(subspan(fixture, span, 4, 8, &inner));
  assert_int_equal(length_of(fixture, inner), 8);
  // Subspans of subspans reference the root.
  assert_ptr_equal(irhal_buffer_deref(&inner)->root, buffer.ptr);
  assert_int_equal(irhal_buffer_deref(&inner)->byte_offset, 12);
  HAL_OK(store(fixture, inner, 0x55, 0, 1));
  int32_t value = 0;
  HAL_OK(load(fixture, buffer, 12, 1, &value));
  assert_int_equal(value, 0x55);
  HAL_ERROR(subspan(fixture, span, 25, -1, &inner), IRT_STATUS_OUT_OF_RANGE,
            NULL);
  HAL_ERROR(subspan(fixture, span, 20, 5, &inner), IRT_STATUS_OUT_OF_RANGE,
            NULL);
  irvm_ref_release(&inner);
  irvm_ref_release(&span);
  irvm_ref_release(&buffer);
}

static int32_t allocation_call(hal_fixture_t* fixture, const char* name,
                               irvm_ref_t buffer) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_results_t results;
  HAL_OK(hal_call(fixture, name, &args, &results));
  return strcmp(name, "buffer.allocation.preserve") == 0
             ? 0
             : hal_results_i32(&results);
}

static void test_allocation_preserve_discard(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t buffer = make_buffer(fixture, 16);
  irvm_ref_t span = irvm_ref_null();
  HAL_OK(subspan(fixture, buffer, 4, 4, &span));
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.is_terminal", buffer), 1);
  // The subspan shares the root allocation's count.
  allocation_call(fixture, "buffer.allocation.preserve", span);
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.is_terminal", buffer), 0);
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.discard", buffer), 0);
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.is_terminal", span), 1);
  assert_int_equal(allocation_call(fixture, "buffer.allocation.discard", span),
                   1);  // the last preserving owner
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.discard", buffer), 0);
  assert_int_equal(
      allocation_call(fixture, "buffer.allocation.is_terminal", buffer), 0);
  irvm_ref_release(&span);
  irvm_ref_release(&buffer);
}

static irt_status_t buffer_assert(hal_fixture_t* fixture, irvm_ref_t buffer,
                                  irvm_ref_t allocator, int64_t minimum_length,
                                  int32_t memory_types, int32_t usage) {
  irvm_ref_t message = hal_vm_text(fixture, "input0");
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_args_ref(&args, message);
  hal_args_ref(&args, allocator);
  hal_args_i64(&args, minimum_length);
  hal_args_i32(&args, memory_types);
  hal_args_i32(&args, usage);
  irt_status_t status = hal_call(fixture, "buffer.assert", &args, NULL);
  irvm_ref_release(&message);
  return status;
}

static void test_buffer_assert(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t allocator = make_allocator(fixture);
  irvm_ref_t buffer = make_buffer(fixture, 16);
  HAL_OK(buffer_assert(fixture, buffer, allocator, 16,
                       IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
                       IRHAL_BUFFER_USAGE_DEFAULT));
  HAL_OK(buffer_assert(fixture, buffer, allocator, 0, 0, 0));
  // In order: length, then memory type, then usage.
  HAL_ERROR(
      buffer_assert(fixture, buffer, allocator, 17, 0x7FFFFFFF, 0x7FFFFFFF),
      IRT_STATUS_INVALID_ARGUMENT, "input0 buffer is too small");
  HAL_ERROR(
      buffer_assert(fixture, buffer, allocator, 16, 0x7FFFFFFF, 0x7FFFFFFF),
      IRT_STATUS_PERMISSION_DENIED, "input0 buffer memory type");
  HAL_ERROR(buffer_assert(fixture, buffer, allocator, 16,
                          IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
                          IRHAL_BUFFER_USAGE_DEFAULT |
                              IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS),
            IRT_STATUS_PERMISSION_DENIED, "input0 buffer usage");
  // The allocator is only type-checked.
  HAL_ERROR(buffer_assert(fixture, buffer, buffer, 16, 0, 0),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'allocator'");
  irvm_ref_release(&buffer);
  irvm_ref_release(&allocator);
}

//===----------------------------------------------------------------------===//
// Buffer views
//===----------------------------------------------------------------------===//

static irt_status_t view_create(hal_fixture_t* fixture, irvm_ref_t buffer,
                                int64_t offset, int64_t length,
                                uint32_t element_type, uint32_t encoding,
                                const int64_t* shape, uint32_t rank,
                                irvm_ref_t* out_view) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, buffer);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_args_i32(&args, (int32_t)element_type);
  hal_args_i32(&args, (int32_t)encoding);
  irvm_abi_span_t span = hal_args_span(&args, rank, "I");
  for (uint32_t i = 0; i < rank; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    irvm_abi_write_i64(&element, shape[i]);
  }
  hal_results_t results;
  IRT_RETURN_IF_ERROR(hal_call(fixture, "buffer_view.create", &args, &results));
  *out_view = hal_results_ref(&results);
  return IRT_OK;
}

static irt_status_t view_assert(hal_fixture_t* fixture, irvm_ref_t view,
                                uint32_t element_type, uint32_t encoding,
                                const int64_t* shape, uint32_t rank) {
  irvm_ref_t message = hal_vm_text(fixture, "input0");
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, view);
  hal_args_ref(&args, message);
  hal_args_i32(&args, (int32_t)element_type);
  hal_args_i32(&args, (int32_t)encoding);
  irvm_abi_span_t span = hal_args_span(&args, rank, "I");
  for (uint32_t i = 0; i < rank; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    irvm_abi_write_i64(&element, shape[i]);
  }
  irt_status_t status = hal_call(fixture, "buffer_view.assert", &args, NULL);
  irvm_ref_release(&message);
  return status;
}

static int64_t view_query(hal_fixture_t* fixture, const char* name,
                          irvm_ref_t view, int32_t index) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, view);
  bool dim = strcmp(name, "buffer_view.dim") == 0;
  if (dim) hal_args_i32(&args, index);
  hal_results_t results;
  HAL_OK(hal_call(fixture, name, &args, &results));
  return dim ? hal_results_i64(&results) : hal_results_i32(&results);
}

#define DENSE IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR

static void test_view_create_and_accessors(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t buffer = make_buffer(fixture, 64);
  const int64_t shape[] = {2, 3};
  irvm_ref_t view = irvm_ref_null();
  HAL_OK(view_create(fixture, buffer, 0, 64, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE,
                     shape, 2, &view));
  assert_ptr_equal(irhal_buffer_view_deref(&view)->buffer, buffer.ptr);
  assert_int_equal(view_query(fixture, "buffer_view.rank", view, 0), 2);
  assert_int_equal(view_query(fixture, "buffer_view.dim", view, 0), 2);
  assert_int_equal(view_query(fixture, "buffer_view.dim", view, 1), 3);
  assert_int_equal(view_query(fixture, "buffer_view.dim", view, 2), 0);
  assert_int_equal(view_query(fixture, "buffer_view.dim", view, -1), 0);
  assert_int_equal(view_query(fixture, "buffer_view.element_type", view, 0),
                   IRHAL_ELEMENT_TYPE_FLOAT_32);
  assert_int_equal(view_query(fixture, "buffer_view.encoding_type", view, 0),
                   DENSE);
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, view);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "buffer_view.buffer", &args, &results));
  irvm_ref_t backing = hal_results_ref(&results);
  assert_ptr_equal(backing.ptr, buffer.ptr);
  irvm_ref_release(&backing);
  irvm_ref_release(&view);

  // Another range views a subspan; rank 0 is a scalar.
  HAL_OK(view_create(fixture, buffer, 16, 4, IRHAL_ELEMENT_TYPE_INT_32, DENSE,
                     NULL, 0, &view));
  irhal_buffer_t* sub = irhal_buffer_view_deref(&view)->buffer;
  assert_ptr_not_equal(sub, buffer.ptr);
  assert_int_equal(sub->byte_offset, 16);
  assert_int_equal(sub->byte_length, 4);
  assert_int_equal(view_query(fixture, "buffer_view.rank", view, 0), 0);
  irvm_ref_release(&view);

  HAL_ERROR(view_create(fixture, buffer, 60, 8, IRHAL_ELEMENT_TYPE_INT_32,
                        DENSE, NULL, 0, &view),
            IRT_STATUS_OUT_OF_RANGE, NULL);
  int64_t big_shape[129];
  for (int i = 0; i < 129; ++i) big_shape[i] = 1;
  HAL_ERROR(view_create(fixture, buffer, 0, -1, IRHAL_ELEMENT_TYPE_INT_8, DENSE,
                        big_shape, 129, &view),
            IRT_STATUS_OUT_OF_RANGE, "rank 129");
  HAL_OK(view_create(fixture, buffer, 0, -1, IRHAL_ELEMENT_TYPE_INT_8, DENSE,
                     big_shape, 128, &view));
  irvm_ref_release(&view);
  irvm_ref_release(&buffer);
}

static irvm_ref_t make_view(hal_fixture_t* fixture, uint32_t element_type,
                            uint32_t encoding, const int64_t* shape,
                            uint32_t rank) {
  irvm_ref_t buffer = make_buffer(fixture, 64);
  irvm_ref_t view = irvm_ref_null();
  HAL_OK(view_create(fixture, buffer, 0, -1, element_type, encoding, shape,
                     rank, &view));
  irvm_ref_release(&buffer);
  return view;
}

static void test_view_assert(void** state) {
  hal_fixture_t* fixture = *state;
  const int64_t four[] = {4};
  const int64_t five[] = {5};
  const int64_t two_by_two[] = {2, 2};
  irvm_ref_t f32 =
      make_view(fixture, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, five, 1);
  HAL_OK(
      view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, five, 1));
  HAL_ERROR(
      view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, four, 1),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 shape mismatch: expected 4xf32 but got 5xf32");
  HAL_ERROR(view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE,
                        two_by_two, 2),
            IRT_STATUS_INVALID_ARGUMENT,
            "input0 shape mismatch: expected 2x2xf32 but got 5xf32");
  HAL_ERROR(
      view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, NULL, 0),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 shape mismatch: expected f32 but got 5xf32");
  // The element type is checked before the shape.
  HAL_ERROR(
      view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_INT_32, DENSE, four, 1),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 element type mismatch: expected i32 but got f32");
  HAL_ERROR(
      view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_FLOAT_16, DENSE, five, 1),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 element type mismatch: expected f16 but got f32");
  // The encoding is checked first of all.
  HAL_ERROR(view_assert(fixture, f32, IRHAL_ELEMENT_TYPE_INT_32,
                        IRHAL_ENCODING_TYPE_OPAQUE, four, 1),
            IRT_STATUS_INVALID_ARGUMENT,
            "input0 encoding mismatch: expected opaque but got "
            "dense_row_major");
  irvm_ref_release(&f32);

  // An i32 parameter accepts every 32-bit integer kind, not other widths.
  irvm_ref_t i32 =
      make_view(fixture, IRHAL_ELEMENT_TYPE_INT_32, DENSE, four, 1);
  HAL_ERROR(
      view_assert(fixture, i32, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, four, 1),
      IRT_STATUS_INVALID_ARGUMENT,
      "input0 element type mismatch: expected f32 but got i32");
  HAL_ERROR(
      view_assert(fixture, i32, IRHAL_ELEMENT_TYPE_INT_16, DENSE, four, 1),
      IRT_STATUS_INVALID_ARGUMENT, "expected i16 but got i32");
  irvm_ref_release(&i32);
  const uint32_t integer_kinds[] = {IRHAL_ELEMENT_TYPE_SINT_32,
                                    IRHAL_ELEMENT_TYPE_UINT_32,
                                    IRHAL_ELEMENT_TYPE(0x13, 32)};
  for (size_t i = 0; i < 3; ++i) {
    irvm_ref_t view = make_view(fixture, integer_kinds[i], DENSE, four, 1);
    HAL_OK(
        view_assert(fixture, view, IRHAL_ELEMENT_TYPE_INT_32, DENSE, four, 1));
    irvm_ref_release(&view);
  }
  irvm_ref_t ui8 =
      make_view(fixture, IRHAL_ELEMENT_TYPE_UINT_8, DENSE, four, 1);
  HAL_OK(view_assert(fixture, ui8, IRHAL_ELEMENT_TYPE_INT_8, DENSE, four, 1));
  HAL_OK(view_assert(fixture, ui8, IRHAL_ELEMENT_TYPE_BOOL_8, DENSE, four, 1));
  irvm_ref_release(&ui8);

  // Opaque views pass the type and encoding checks, not the shape check.
  irvm_ref_t opaque = make_view(fixture, IRHAL_ELEMENT_TYPE(0, 32),
                                IRHAL_ENCODING_TYPE_OPAQUE, four, 1);
  HAL_OK(view_assert(fixture, opaque, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, four,
                     1));
  HAL_ERROR(
      view_assert(fixture, opaque, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE, five, 1),
      IRT_STATUS_INVALID_ARGUMENT, "input0 shape mismatch");
  int64_t big_shape[129] = {0};
  HAL_ERROR(view_assert(fixture, opaque, IRHAL_ELEMENT_TYPE_FLOAT_32, DENSE,
                        big_shape, 129),
            IRT_STATUS_OUT_OF_RANGE, "rank 129");
  irvm_ref_release(&opaque);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_allocate, setup, teardown),
      cmocka_unit_test_setup_teardown(test_import, setup, teardown),
      cmocka_unit_test_setup_teardown(test_select, setup, teardown),
      cmocka_unit_test_setup_teardown(test_load_store, setup, teardown),
      cmocka_unit_test_setup_teardown(test_subspan_and_length, setup, teardown),
      cmocka_unit_test_setup_teardown(test_allocation_preserve_discard, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_buffer_assert, setup, teardown),
      cmocka_unit_test_setup_teardown(test_view_create_and_accessors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_view_assert, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
