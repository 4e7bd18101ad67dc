// hal.buffer and hal.buffer_view: roots, subspans, host memory, ranges,
// mapping, preserve counts, element type names and shape formatting.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hal/buffer.h"
#include "hal/buffer_view.h"
#include "tests/support/counting_fixture.h"

static irhal_buffer_t* allocate(irhal_device_size_t size) {
  irhal_buffer_t* buffer = NULL;
  assert_null(irhal_host_buffer_allocate(
      allocator(),
      IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
      IRHAL_BUFFER_USAGE_DEFAULT, size, &buffer));
  return buffer;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

static void test_host_allocate_is_aligned_and_zeroed(void** state) {
  (void)state;
  for (irhal_device_size_t size = 0; size < 200; size += 37) {
    irhal_buffer_t* buffer = allocate(size);
    assert_ptr_equal(buffer->root, buffer);
    assert_int_equal(buffer->byte_length, size);
    assert_int_equal(buffer->allocation_size, size);
    assert_int_equal(buffer->byte_offset, 0);
    assert_int_equal(buffer->allowed_access, IRHAL_MEMORY_ACCESS_ALL);
    assert_int_equal((uintptr_t)buffer->storage % 64, 0);
    uint8_t* bytes = NULL;
    assert_null(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                                 IRHAL_WHOLE_LENGTH, (void**)&bytes));
    for (irhal_device_size_t i = 0; i < size; ++i)
      assert_int_equal(bytes[i], 0);
    irhal_buffer_release(buffer);
  }
}

static void test_host_allocate_failures(void** state) {
  (void)state;
  irhal_buffer_t* buffer = (irhal_buffer_t*)1;
  assert_code(
      irhal_host_buffer_allocate(allocator(), 0, 0, UINT64_MAX, &buffer),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(buffer);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_host_buffer_allocate(allocator(), 0, 0, 16, &buffer),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
}

static int release_calls;
static void count_release(void* user_data) {
  ++release_calls;
  assert_ptr_equal(user_data, &release_calls);
}

static void test_wrap_releases_once(void** state) {
  (void)state;
  release_calls = 0;
  uint8_t memory[32] = {1, 2, 3};
  irhal_buffer_t* buffer = NULL;
  assert_null(irhal_host_buffer_wrap(
      allocator(), memory, sizeof(memory), IRHAL_MEMORY_TYPE_HOST_LOCAL,
      IRHAL_BUFFER_USAGE_TRANSFER, IRHAL_MEMORY_ACCESS_READ,
      (irhal_release_callback_t){count_release, &release_calls}, &buffer));
  assert_ptr_equal(buffer->storage, memory);
  irhal_buffer_t* sub = NULL;
  assert_null(irhal_buffer_subspan(buffer, 1, 2, &sub));
  irhal_buffer_release(buffer);
  assert_int_equal(release_calls, 0);  // the subspan keeps the root
  uint8_t* bytes = NULL;
  assert_null(
      irhal_buffer_map(sub, IRHAL_MEMORY_ACCESS_READ, 0, 2, (void**)&bytes));
  assert_int_equal(bytes[0], 2);
  assert_int_equal(bytes[1], 3);
  // Read-only memory refuses writes; ANY bypasses the check.
  assert_code(
      irhal_buffer_map(sub, IRHAL_MEMORY_ACCESS_WRITE, 0, 1, (void**)&bytes),
      IRT_STATUS_PERMISSION_DENIED);
  assert_code(
      irhal_buffer_map(sub, IRHAL_MEMORY_ACCESS_DISCARD, 0, 1, (void**)&bytes),
      IRT_STATUS_PERMISSION_DENIED);
  assert_null(
      irhal_buffer_map(sub, IRHAL_MEMORY_ACCESS_ANY | IRHAL_MEMORY_ACCESS_WRITE,
                       0, 1, (void**)&bytes));
  irhal_buffer_release(sub);
  assert_int_equal(release_calls, 1);
}

static void test_wrap_rejects_null_data(void** state) {
  (void)state;
  irhal_buffer_t* buffer = NULL;
  assert_code(irhal_host_buffer_wrap(allocator(), NULL, 4, 0, 0, 0,
                                     (irhal_release_callback_t){0}, &buffer),
              IRT_STATUS_INVALID_ARGUMENT);
  // An empty range may have no memory at all, and maps to NULL.
  assert_null(irhal_host_buffer_wrap(allocator(), NULL, 0, 0, 0,
                                     IRHAL_MEMORY_ACCESS_ALL,
                                     (irhal_release_callback_t){0}, &buffer));
  void* ptr = (void*)1;
  assert_null(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                               IRHAL_WHOLE_LENGTH, &ptr));
  assert_null(ptr);
  irhal_buffer_release(buffer);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_host_buffer_wrap(allocator(), &ptr, 1, 0, 0, 0,
                                     (irhal_release_callback_t){0}, &buffer),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
}

static void test_subspans_reference_the_root(void** state) {
  (void)state;
  irhal_buffer_t* root = allocate(100);
  irhal_buffer_t* whole = NULL;
  assert_null(irhal_buffer_subspan(root, 0, IRHAL_WHOLE_LENGTH, &whole));
  assert_ptr_equal(whole, root);  // the source itself, retained
  irhal_buffer_release(whole);
  assert_null(irhal_buffer_subspan(root, 0, 100, &whole));
  assert_ptr_equal(whole, root);
  irhal_buffer_release(whole);

  irhal_buffer_t* a = NULL;
  assert_null(irhal_buffer_subspan(root, 10, 80, &a));
  assert_ptr_not_equal(a, root);
  assert_ptr_equal(a->root, root);
  assert_int_equal(a->byte_offset, 10);
  assert_int_equal(a->byte_length, 80);
  assert_int_equal(a->allocation_size, 100);
  irhal_buffer_t* b = NULL;
  assert_null(irhal_buffer_subspan(a, 5, IRHAL_WHOLE_LENGTH, &b));
  assert_ptr_equal(b->root, root);  // not a
  assert_int_equal(b->byte_offset, 15);
  assert_int_equal(b->byte_length, 75);
  irhal_buffer_t* same = NULL;
  assert_null(irhal_buffer_subspan(b, 0, 75, &same));
  assert_ptr_equal(same, b);
  irhal_buffer_release(same);
  irhal_buffer_t* empty = NULL;
  assert_null(irhal_buffer_subspan(b, 75, 0, &empty));
  assert_int_equal(empty->byte_length, 0);
  irhal_buffer_release(empty);

  uint8_t* root_bytes = NULL;
  uint8_t* b_bytes = NULL;
  assert_null(irhal_buffer_map(root, IRHAL_MEMORY_ACCESS_WRITE, 0,
                               IRHAL_WHOLE_LENGTH, (void**)&root_bytes));
  assert_null(
      irhal_buffer_map(b, IRHAL_MEMORY_ACCESS_READ, 2, 1, (void**)&b_bytes));
  assert_ptr_equal(b_bytes, root_bytes + 17);

  irhal_buffer_release(root);
  irhal_buffer_release(a);
  assert_int_not_equal(counter.live_allocations, 0);  // b holds the root
  irhal_buffer_release(b);
}

static void test_subspan_ranges(void** state) {
  (void)state;
  irhal_buffer_t* root = allocate(16);
  irhal_buffer_t* sub = (irhal_buffer_t*)1;
  assert_code(irhal_buffer_subspan(root, 17, IRHAL_WHOLE_LENGTH, &sub),
              IRT_STATUS_OUT_OF_RANGE);
  assert_null(sub);
  assert_code(irhal_buffer_subspan(root, 8, 9, &sub), IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_buffer_subspan(root, 8, UINT64_MAX - 4, &sub),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_buffer_subspan(root, UINT64_MAX, 2, &sub),
              IRT_STATUS_OUT_OF_RANGE);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_buffer_subspan(root, 1, 2, &sub),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  irhal_buffer_release(root);
}

static void test_check_range(void** state) {
  (void)state;
  irhal_buffer_t* root = allocate(16);
  irhal_device_size_t length = IRHAL_WHOLE_LENGTH;
  assert_null(irhal_buffer_check_range(root, 4, &length, "x"));
  assert_int_equal(length, 12);
  length = IRHAL_WHOLE_LENGTH;
  assert_null(irhal_buffer_check_range(root, 16, &length, "x"));
  assert_int_equal(length, 0);
  length = 0;
  assert_null(irhal_buffer_check_range(root, 16, &length, "x"));
  length = 1;
  irt_status_t status = irhal_buffer_check_range(root, 16, &length, "fill");
  assert_non_null(strstr(irt_status_message(status), "fill"));
  assert_code(status, IRT_STATUS_OUT_OF_RANGE);
  length = IRHAL_WHOLE_LENGTH - 1;
  assert_code(irhal_buffer_check_range(root, 2, &length, "x"),
              IRT_STATUS_OUT_OF_RANGE);
  void* ptr = NULL;
  assert_code(irhal_buffer_map(root, IRHAL_MEMORY_ACCESS_READ, 10, 7, &ptr),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_release(root);
}

static void test_usage_check(void** state) {
  (void)state;
  irhal_buffer_t* root = NULL;
  assert_null(irhal_host_buffer_allocate(
      allocator(), 0, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE, 4, &root));
  assert_null(
      irhal_buffer_check_usage(root, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE, "x"));
  irt_status_t status = irhal_buffer_check_usage(
      root, IRHAL_BUFFER_USAGE_TRANSFER, "copy target");
  assert_non_null(strstr(irt_status_message(status), "copy target"));
  assert_code(status, IRT_STATUS_PERMISSION_DENIED);
  irhal_buffer_release(root);
}

// Device-only memory: no map function.
static void device_only_destroy(irhal_buffer_t* root) {
  irt_allocator_free(root->host_allocator, root);
}
static const irhal_buffer_vtable_t device_only_vtable = {
    .destroy = device_only_destroy,
};

static void test_unmappable_memory(void** state) {
  (void)state;
  irhal_buffer_t* root = NULL;
  assert_null(irt_allocator_malloc(allocator(), sizeof(*root), (void**)&root));
  irhal_buffer_initialize_root(
      root, &device_only_vtable, allocator(), IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
      IRHAL_BUFFER_USAGE_DEFAULT, IRHAL_MEMORY_ACCESS_ALL, 64, NULL);
  void* ptr = NULL;
  assert_code(irhal_buffer_map(root, IRHAL_MEMORY_ACCESS_READ, 0, 1, &ptr),
              IRT_STATUS_FAILED_PRECONDITION);
  irhal_buffer_t* sub = NULL;
  assert_null(irhal_buffer_subspan(root, 8, 8, &sub));
  assert_code(irhal_buffer_map(sub, IRHAL_MEMORY_ACCESS_READ, 0, 1, &ptr),
              IRT_STATUS_FAILED_PRECONDITION);
  irhal_buffer_release(sub);
  irhal_buffer_release(root);
}

static void test_preserve_counts_are_per_allocation(void** state) {
  (void)state;
  irhal_buffer_t* root = allocate(16);
  irhal_buffer_t* sub = NULL;
  assert_null(irhal_buffer_subspan(root, 4, 4, &sub));
  assert_true(irhal_buffer_allocation_is_terminal(sub));
  irhal_buffer_allocation_preserve(sub);
  assert_false(irhal_buffer_allocation_is_terminal(root));
  assert_false(irhal_buffer_allocation_discard(root));  // 2 -> 1
  assert_true(irhal_buffer_allocation_is_terminal(root));
  assert_true(irhal_buffer_allocation_discard(sub));  // 1 -> 0: last owner
  assert_false(irhal_buffer_allocation_is_terminal(sub));
  assert_false(irhal_buffer_allocation_discard(sub));  // stays at 0
  irhal_buffer_release(sub);
  irhal_buffer_release(root);
}

static void test_deref_checks_type(void** state) {
  (void)state;
  irhal_buffer_t* root = allocate(1);
  irvm_ref_t ref = irvm_ref_wrap(root, irhal_buffer_type());
  assert_ptr_equal(irhal_buffer_deref(&ref), root);
  assert_string_equal(irhal_buffer_type()->name, "hal.buffer");
  irvm_ref_t other = {root, irhal_buffer_view_type()};
  assert_null(irhal_buffer_deref(&other));
  irvm_ref_release(&ref);
}

//===----------------------------------------------------------------------===//
// Buffer views
//===----------------------------------------------------------------------===//

static void test_view_create_and_sizes(void** state) {
  (void)state;
  irhal_buffer_t* buffer = allocate(24);
  irhal_device_size_t shape[2] = {3, 2};
  irhal_buffer_view_t* view = NULL;
  assert_null(irhal_buffer_view_create(
      buffer, 2, shape, IRHAL_ELEMENT_TYPE_FLOAT_32,
      IRHAL_ENCODING_TYPE_DENSE_ROW_MAJOR, allocator(), &view));
  irhal_buffer_release(buffer);  // the view keeps it
  assert_ptr_equal(view->buffer, buffer);
  assert_int_equal(view->rank, 2);
  assert_int_equal(view->shape[1], 2);
  uint64_t count = 0;
  assert_true(irhal_buffer_view_element_count(view, &count));
  assert_int_equal(count, 6);
  irhal_device_size_t length = 0;
  assert_null(irhal_buffer_view_byte_length(view, &length));
  assert_int_equal(length, 24);
  irvm_ref_t ref = irvm_ref_wrap(view, irhal_buffer_view_type());
  assert_ptr_equal(irhal_buffer_view_deref(&ref), view);
  irvm_ref_release(&ref);
}

static void test_view_scalar_and_limits(void** state) {
  (void)state;
  irhal_buffer_t* buffer = allocate(8);
  irhal_buffer_view_t* view = NULL;
  assert_null(irhal_buffer_view_create(
      buffer, 0, NULL, IRHAL_ELEMENT_TYPE_INT_64, 1, allocator(), &view));
  uint64_t count = 0;
  assert_true(irhal_buffer_view_element_count(view, &count));
  assert_int_equal(count, 1);
  irhal_device_size_t length = 0;
  assert_null(irhal_buffer_view_byte_length(view, &length));
  assert_int_equal(length, 8);
  irhal_buffer_view_release(view);

  irhal_device_size_t shape[IRHAL_MAX_RANK + 1] = {0};
  assert_code(
      irhal_buffer_view_create(buffer, IRHAL_MAX_RANK + 1, shape,
                               IRHAL_ELEMENT_TYPE_INT_8, 1, allocator(), &view),
      IRT_STATUS_OUT_OF_RANGE);
  assert_null(view);
  assert_code(irhal_buffer_view_create(NULL, 0, NULL, IRHAL_ELEMENT_TYPE_INT_8,
                                       1, allocator(), &view),
              IRT_STATUS_INVALID_ARGUMENT);
  counter.fail_after = counter.total_allocations;
  assert_code(
      irhal_buffer_view_create(buffer, 0, NULL, IRHAL_ELEMENT_TYPE_INT_8, 1,
                               allocator(), &view),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;

  // Max rank is fine; overflowing products are reported.
  for (int i = 0; i < IRHAL_MAX_RANK; ++i) shape[i] = 1u << 20;
  assert_null(irhal_buffer_view_create(buffer, IRHAL_MAX_RANK, shape,
                                       IRHAL_ELEMENT_TYPE_INT_8, 1, allocator(),
                                       &view));
  assert_false(irhal_buffer_view_element_count(view, &count));
  assert_code(irhal_buffer_view_byte_length(view, &length),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_view_release(view);
  // Elements x bytes overflowing on the last multiplication.
  shape[0] = UINT64_MAX / 2;
  assert_null(irhal_buffer_view_create(
      buffer, 1, shape, IRHAL_ELEMENT_TYPE_INT_32, 1, allocator(), &view));
  assert_true(irhal_buffer_view_element_count(view, &count));
  assert_code(irhal_buffer_view_byte_length(view, &length),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_view_release(view);
  irhal_buffer_release(buffer);
}

static void test_view_byte_length_needs_dense_type(void** state) {
  (void)state;
  irhal_buffer_t* buffer = allocate(8);
  irhal_device_size_t shape[1] = {4};
  const irhal_element_type_t types[] = {
      IRHAL_ELEMENT_TYPE(0x10, 4),  // i4: sub-byte
      IRHAL_ELEMENT_TYPE(0x00, 8),  // *8: opaque
      IRHAL_ELEMENT_TYPE(0x00, 0),  // *0
  };
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
    irhal_buffer_view_t* view = NULL;
    assert_null(irhal_buffer_view_create(buffer, 1, shape, types[i], 1,
                                         allocator(), &view));
    irhal_device_size_t length = 1;
    assert_code(irhal_buffer_view_byte_length(view, &length),
                IRT_STATUS_INVALID_ARGUMENT);
    assert_int_equal(length, 0);
    irhal_buffer_view_release(view);
  }
  irhal_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Element type names
//===----------------------------------------------------------------------===//

static const struct {
  irhal_element_type_t type;
  const char* text;
} named_types[] = {
    {0x00000000, "*0"},         {0x00000008, "*8"},
    {0x00000010, "*16"},        {0x00000020, "*32"},
    {0x00000040, "*64"},        {0x13000008, "i1"},
    {0x10000004, "i4"},         {0x11000004, "si4"},
    {0x12000004, "ui4"},        {0x10000008, "i8"},
    {0x11000008, "si8"},        {0x12000008, "ui8"},
    {0x10000010, "i16"},        {0x11000010, "si16"},
    {0x12000010, "ui16"},       {0x10000020, "i32"},
    {0x11000020, "si32"},       {0x12000020, "ui32"},
    {0x10000040, "i64"},        {0x11000040, "si64"},
    {0x12000040, "ui64"},       {0x21000010, "f16"},
    {0x21000020, "f32"},        {0x21000040, "f64"},
    {0x22000010, "bf16"},       {0x23000040, "cf64"},
    {0x23000080, "cf128"},      {0x24000008, "f8E5M2"},
    {0x25000008, "f8E4M3FN"},   {0x26000008, "f8E5M2FNUZ"},
    {0x27000008, "f8E4M3FNUZ"}, {0x28000008, "f8E8M0FNU"},
};

static void test_element_type_names_round_trip(void** state) {
  (void)state;
  for (size_t i = 0; i < sizeof(named_types) / sizeof(named_types[0]); ++i) {
    char text[32];
    irhal_element_type_format(named_types[i].type, text, sizeof(text));
    assert_string_equal(text, named_types[i].text);
    irhal_element_type_t parsed = 0xFFFFFFFF;
    assert_true(irhal_element_type_parse(
        irt_make_cstring_view(named_types[i].text), &parsed));
    assert_int_equal(parsed, named_types[i].type);
  }
}

static void test_element_type_unusual_values(void** state) {
  (void)state;
  char text[32];
  // Unnamed widths of known numerical types use the generic prefix.
  irhal_element_type_format(IRHAL_ELEMENT_TYPE(0x11, 24), text, sizeof(text));
  assert_string_equal(text, "si24");
  irhal_element_type_format(IRHAL_ELEMENT_TYPE(0x21, 8), text, sizeof(text));
  assert_string_equal(text, "f8");
  // Unknown numerical types, booleans of other widths and malformed values
  // (middle bits set) only show their width.
  irhal_element_type_format(IRHAL_ELEMENT_TYPE(0x55, 16), text, sizeof(text));
  assert_string_equal(text, "*16");
  irhal_element_type_format(IRHAL_ELEMENT_TYPE(0x13, 32), text, sizeof(text));
  assert_string_equal(text, "*32");
  irhal_element_type_format(0x21000120, text, sizeof(text));
  assert_string_equal(text, "*32");
  // Truncation keeps a terminated prefix; zero capacity writes nothing.
  char small[3];
  irhal_element_type_format(IRHAL_ELEMENT_TYPE_FLOAT_32, small, sizeof(small));
  assert_string_equal(small, "f3");
  irhal_element_type_format(IRHAL_ELEMENT_TYPE_FLOAT_32, NULL, 0);

  irhal_element_type_t type = 0;
  assert_true(irhal_element_type_parse(irt_make_cstring_view("ui24"), &type));
  assert_int_equal(type, IRHAL_ELEMENT_TYPE(0x12, 24));
  assert_true(irhal_element_type_parse(irt_make_cstring_view("*255"), &type));
  assert_int_equal(type, 0x000000FF);
  const char* bad[] = {"",     "f",    "x32", "*",    "*256", "i0",
                       "f032", "i-8",  "i8x", "f8E5", "bf",   "i1000",
                       "F32",  " i32", "si",  "*-1"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    type = 0x12345678;
    assert_false(
        irhal_element_type_parse(irt_make_cstring_view(bad[i]), &type));
    assert_int_equal(type, 0x12345678);
  }
  // Not NUL-terminated input: only the view's bytes count.
  assert_true(
      irhal_element_type_parse(irt_make_string_view("f32xyz", 3), &type));
  assert_int_equal(type, IRHAL_ELEMENT_TYPE_FLOAT_32);
}

static void test_format_shape_and_type(void** state) {
  (void)state;
  char text[64];
  irhal_device_size_t shape[3] = {3, 2, 0};
  irhal_format_shape_and_type(2, shape, IRHAL_ELEMENT_TYPE_FLOAT_32, text,
                              sizeof(text));
  assert_string_equal(text, "3x2xf32");
  irhal_format_shape_and_type(3, shape, IRHAL_ELEMENT_TYPE_BOOL_8, text,
                              sizeof(text));
  assert_string_equal(text, "3x2x0xi1");
  irhal_format_shape_and_type(0, NULL, IRHAL_ELEMENT_TYPE_FLOAT_32, text,
                              sizeof(text));
  assert_string_equal(text, "f32");
  irhal_device_size_t big[2] = {UINT64_MAX, 7};
  irhal_format_shape_and_type(2, big, IRHAL_ELEMENT_TYPE_INT_8, text,
                              sizeof(text));
  assert_string_equal(text, "18446744073709551615x7xi8");
  // Truncation at every capacity stays terminated and a prefix.
  const char* full = "18446744073709551615x7xi8";
  for (size_t capacity = 1; capacity <= strlen(full) + 1; ++capacity) {
    char small[64];
    memset(small, 'Z', sizeof(small));
    irhal_format_shape_and_type(2, big, IRHAL_ELEMENT_TYPE_INT_8, small,
                                capacity);
    assert_int_equal(strlen(small), capacity - 1);
    assert_memory_equal(small, full, capacity - 1);
  }
  irhal_format_shape_and_type(2, big, IRHAL_ELEMENT_TYPE_INT_8, NULL, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_host_allocate_is_aligned_and_zeroed,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_allocate_failures, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wrap_releases_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrap_rejects_null_data, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_subspans_reference_the_root, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_subspan_ranges, setup, teardown),
      cmocka_unit_test_setup_teardown(test_check_range, setup, teardown),
      cmocka_unit_test_setup_teardown(test_usage_check, setup, teardown),
      cmocka_unit_test_setup_teardown(test_unmappable_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_preserve_counts_are_per_allocation,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_deref_checks_type, setup, teardown),
      cmocka_unit_test_setup_teardown(test_view_create_and_sizes, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_view_scalar_and_limits, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_view_byte_length_needs_dense_type,
                                      setup, teardown),
      cmocka_unit_test(test_element_type_names_round_trip),
      cmocka_unit_test(test_element_type_unusual_values),
      cmocka_unit_test(test_format_shape_and_type),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
