// vm.list: storage kinds, growth, value conversions, ref ownership and every
// error path (spec 7.4, 8.3).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka needs the headers above first.
#include <cmocka.h>
#include <string.h>

#include "runtime/vm/list.h"
#include "tests/vm_objects/test_util.h"

static irvm_list_t* new_list(irvm_list_element_type_t element_type,
                             uint32_t size) {
  irvm_list_t* list = NULL;
  assert_ok(irvm_list_create(element_type, 0, irt_allocator_system(), &list));
  assert_ok(irvm_list_resize(list, size));
  return list;
}

static irvm_list_t* new_value_list(irvm_value_type_t type, uint32_t size) {
  return new_list(irvm_list_element_type_value(type), size);
}

static uint32_t list_size(const irvm_list_t* list) {
  uint32_t size = UINT32_MAX;
  assert_ok(irvm_list_size(list, &size));
  return size;
}

//===----------------------------------------------------------------------===//
// Creation and sizing
//===----------------------------------------------------------------------===//

static void test_type_and_deref(void** state) {
  (void)state;
  assert_string_equal(irvm_list_type()->name, "vm.list");
  irvm_list_t* list = new_list(irvm_list_element_type_variant(), 0);
  irvm_ref_t ref = irvm_ref_wrap(list, irvm_list_type());
  assert_ptr_equal(irvm_list_deref(&ref), list);
  irvm_ref_t null_ref = irvm_ref_null();
  assert_null(irvm_list_deref(&null_ref));
  irvm_ref_t wrong = irvm_ref_wrap(list, test_type_a());
  assert_null(irvm_list_deref(&wrong));
  irvm_ref_release(&ref);
}

static void test_create_kinds(void** state) {
  (void)state;
  irvm_list_t* list = NULL;
  assert_ok(irvm_list_create(irvm_list_element_type_value(IRVM_VALUE_TYPE_I16),
                             10, irt_allocator_system(), &list));
  assert_int_equal(list_size(list), 0);
  assert_true(irvm_list_capacity(list) >= 10);
  assert_int_equal(irvm_list_element_type(list).value_type,
                   IRVM_VALUE_TYPE_I16);
  assert_null(irvm_list_element_type(list).ref_type);
  irvm_list_release(list);

  assert_ok(irvm_list_create(irvm_list_element_type_ref(test_type_a()), 3,
                             irt_allocator_system(), &list));
  assert_ptr_equal(irvm_list_element_type(list).ref_type, test_type_a());
  assert_int_equal(irvm_list_element_type(list).value_type,
                   IRVM_VALUE_TYPE_NONE);
  irvm_list_release(list);

  assert_ok(irvm_list_create(irvm_list_element_type_variant(), 0,
                             irt_allocator_system(), &list));
  assert_int_equal(irvm_list_capacity(list), 0);
  irvm_list_release(list);
}

static void test_create_invalid_element_type(void** state) {
  (void)state;
  irvm_list_t* list = (irvm_list_t*)1;
  irvm_list_element_type_t bad = {IRVM_VALUE_TYPE_COUNT, NULL};
  assert_status(irvm_list_create(bad, 0, irt_allocator_system(), &list),
                IRT_STATUS_INVALID_ARGUMENT, "element type");
  irvm_list_element_type_t both = {IRVM_VALUE_TYPE_I32, test_type_a()};
  assert_status(irvm_list_create(both, 0, irt_allocator_system(), &list),
                IRT_STATUS_INVALID_ARGUMENT, "element type");
  assert_null(list);
}

static void test_create_out_of_memory(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  irvm_list_t* list = NULL;
  for (size_t fail_after = 0; fail_after < 2; ++fail_after) {
    counter.fail_after = fail_after;  // the object, then its storage
    assert_status(
        irvm_list_create(irvm_list_element_type_variant(), 4, allocator, &list),
        IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
    assert_null(list);
    assert_int_equal(counter.live_allocations, 0);
  }
}

static void test_null_list(void** state) {
  (void)state;
  uint32_t size = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  double f64 = 0;
  irvm_value_t value;
  irvm_ref_t ref = irvm_ref_null();
  irvm_variant_t variant = irvm_variant_empty();
  const char* null_message = "list is null";
  assert_status(irvm_list_size(NULL, &size), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_reserve(NULL, 4), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_resize(NULL, 4), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_i32(NULL, 0, &i32), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_i64(NULL, 0, &i64), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_f32(NULL, 0, &f32), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_f64(NULL, 0, &f64), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_value(NULL, 0, IRVM_VALUE_TYPE_I8, &value),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
  assert_status(irvm_list_set_i32(NULL, 0, 1), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_set_i64(NULL, 0, 1), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_set_f32(NULL, 0, 1), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_set_f64(NULL, 0, 1), IRT_STATUS_INVALID_ARGUMENT,
                null_message);
  assert_status(irvm_list_get_ref(NULL, 0, test_type_a(), &ref),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
  assert_status(irvm_list_set_ref_retain(NULL, 0, &ref),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
  assert_status(irvm_list_set_ref_move(NULL, 0, &ref),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
  assert_status(irvm_list_get_variant(NULL, 0, &variant),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
  assert_status(irvm_list_set_variant(NULL, 0, &variant),
                IRT_STATUS_INVALID_ARGUMENT, null_message);
}

static void test_reserve_and_resize(void** state) {
  (void)state;
  irvm_list_t* list = new_value_list(IRVM_VALUE_TYPE_I32, 0);
  assert_ok(irvm_list_reserve(list, 100));
  assert_true(irvm_list_capacity(list) >= 100);
  uint32_t capacity = irvm_list_capacity(list);
  assert_ok(irvm_list_reserve(list, 5));  // never shrinks
  assert_int_equal(irvm_list_capacity(list), capacity);
  assert_int_equal(list_size(list), 0);

  assert_ok(irvm_list_resize(list, 3));
  assert_int_equal(list_size(list), 3);
  for (uint32_t i = 0; i < 3; ++i) assert_ok(irvm_list_set_i32(list, i, -1));
  assert_ok(irvm_list_resize(list, 1));
  assert_ok(irvm_list_resize(list, 3));  // regrown elements are zero again
  int32_t value = 7;
  assert_ok(irvm_list_get_i32(list, 0, &value));
  assert_int_equal(value, -1);
  assert_ok(irvm_list_get_i32(list, 2, &value));
  assert_int_equal(value, 0);
  assert_ok(irvm_list_resize(list, 200));  // past the reserved capacity
  assert_ok(irvm_list_get_i32(list, 199, &value));
  assert_int_equal(value, 0);
  assert_ok(irvm_list_resize(list, 0));
  assert_int_equal(list_size(list), 0);
  irvm_list_release(list);
}

static void test_growth_is_amortized(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irvm_list_t* list = NULL;
  assert_ok(irvm_list_create(irvm_list_element_type_value(IRVM_VALUE_TYPE_I8),
                             0, irt_counting_allocator(&counter), &list));
  for (uint32_t size = 1; size <= 10000; ++size) {
    assert_ok(irvm_list_resize(list, size));
    assert_ok(irvm_list_set_i32(list, size - 1, (int32_t)size));
  }
  for (uint32_t size = 10001; size <= 20000; ++size) {
    assert_ok(irvm_list_reserve(list, size));
  }
  // 1 object + at most ~log2(20000 / 8) reallocations.
  assert_true(counter.total_allocations <= 16);
  int32_t value = 0;
  assert_ok(irvm_list_get_i32(list, 9999, &value));
  assert_int_equal(value, (int8_t)(uint8_t)10000);
  irvm_list_release(list);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_resize_out_of_memory(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irvm_list_t* list = NULL;
  assert_ok(irvm_list_create(irvm_list_element_type_value(IRVM_VALUE_TYPE_I64),
                             0, irt_counting_allocator(&counter), &list));
  assert_ok(irvm_list_resize(list, 2));
  assert_ok(irvm_list_set_i64(list, 1, 42));
  counter.fail_after = counter.total_allocations;
  assert_status(irvm_list_resize(list, 1000), IRT_STATUS_RESOURCE_EXHAUSTED,
                NULL);
  assert_status(irvm_list_reserve(list, 1000), IRT_STATUS_RESOURCE_EXHAUSTED,
                NULL);
  assert_int_equal(list_size(list), 2);  // unchanged
  int64_t value = 0;
  assert_ok(irvm_list_get_i64(list, 1, &value));
  assert_int_equal(value, 42);
  irvm_list_release(list);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_huge_capacity(void** state) {
  (void)state;
  irvm_list_t* list = NULL;
  assert_ok(irvm_list_create(irvm_list_element_type_variant(), 0,
                             test_capped_allocator(), &list));
  assert_status(irvm_list_reserve(list, UINT32_MAX),
                IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_status(irvm_list_resize(list, UINT32_MAX),
                IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_int_equal(list_size(list), 0);
  assert_int_equal(irvm_list_capacity(list), 0);
  irvm_list_release(list);
}

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

static void test_value_bounds(void** state) {
  (void)state;
  irvm_list_t* list = new_value_list(IRVM_VALUE_TYPE_I32, 2);
  int32_t value = 0;
  assert_ok(irvm_list_get_i32(list, 1, &value));
  assert_status(irvm_list_get_i32(list, 2, &value), IRT_STATUS_OUT_OF_RANGE,
                "index 2 out of range (size 2)");
  // A negative i32 index is a huge u32 index.
  assert_status(irvm_list_get_i32(list, (uint32_t)-1, &value),
                IRT_STATUS_OUT_OF_RANGE, NULL);
  assert_status(irvm_list_set_i32(list, 2, 1), IRT_STATUS_OUT_OF_RANGE, NULL);
  assert_status(irvm_list_set_f64(list, UINT32_MAX, 1), IRT_STATUS_OUT_OF_RANGE,
                NULL);
  irvm_list_release(list);
}

// Spec 8.3 conversions on value lists, in both directions.
static void test_value_list_conversions(void** state) {
  (void)state;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  double f64 = 0;

  irvm_list_t* list = new_value_list(IRVM_VALUE_TYPE_I8, 1);
  assert_ok(irvm_list_set_i32(list, 0, 0x1FF));  // narrowing truncates
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, -1);  // widening sign-extends
  assert_ok(irvm_list_get_i64(list, 0, &i64));
  assert_int_equal(i64, -1);
  assert_ok(irvm_list_set_i64(list, 0, 0x7F00000000000080ll));
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, -128);
  assert_ok(irvm_list_set_f32(list, 0, 3.0f));  // float -> int gives 0
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, 0);
  irvm_list_release(list);

  list = new_value_list(IRVM_VALUE_TYPE_I16, 1);
  assert_ok(irvm_list_set_i32(list, 0, 0x18000));
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, -32768);
  irvm_list_release(list);

  list = new_value_list(IRVM_VALUE_TYPE_I32, 1);
  assert_ok(irvm_list_set_i64(list, 0, 0x100000005ll));
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, 5);
  assert_ok(irvm_list_set_i32(list, 0, -9));
  assert_ok(irvm_list_get_i64(list, 0, &i64));
  assert_int_equal(i64, -9);
  assert_ok(irvm_list_get_f32(list, 0, &f32));  // int -> float gives 0
  assert_true(f32 == 0.0f);
  assert_ok(irvm_list_get_f64(list, 0, &f64));
  assert_true(f64 == 0.0);
  assert_ok(irvm_list_set_f64(list, 0, 2.5));
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, 0);
  irvm_list_release(list);

  list = new_value_list(IRVM_VALUE_TYPE_I64, 1);
  assert_ok(irvm_list_set_i64(list, 0, INT64_MIN));
  assert_ok(irvm_list_get_i64(list, 0, &i64));
  assert_int_equal(i64, INT64_MIN);
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, 0);
  irvm_list_release(list);

  list = new_value_list(IRVM_VALUE_TYPE_F32, 1);
  assert_ok(irvm_list_set_f64(list, 0, 0.1));  // C conversion
  assert_ok(irvm_list_get_f32(list, 0, &f32));
  assert_true(f32 == (float)0.1);
  assert_ok(irvm_list_get_f64(list, 0, &f64));
  assert_true(f64 == (double)(float)0.1);
  assert_ok(irvm_list_set_i32(list, 0, 12));
  assert_ok(irvm_list_get_f32(list, 0, &f32));
  assert_true(f32 == 0.0f);
  irvm_list_release(list);

  list = new_value_list(IRVM_VALUE_TYPE_F64, 1);
  assert_ok(irvm_list_set_f32(list, 0, 1.5f));
  assert_ok(irvm_list_get_f64(list, 0, &f64));
  assert_true(f64 == 1.5);
  assert_ok(irvm_list_get_i64(list, 0, &i64));
  assert_int_equal(i64, 0);
  irvm_list_release(list);
}

static void test_value_list_generic_access(void** state) {
  (void)state;
  irvm_list_t* list = new_value_list(IRVM_VALUE_TYPE_I16, 1);
  assert_ok(irvm_list_set_value(list, 0, irvm_value_make_i8(-3)));
  irvm_value_t value;
  assert_ok(irvm_list_get_value(list, 0, IRVM_VALUE_TYPE_I8, &value));
  assert_int_equal(value.type, IRVM_VALUE_TYPE_I8);
  assert_int_equal(value.i8, -3);
  assert_status(irvm_list_get_value(list, 0, IRVM_VALUE_TYPE_NONE, &value),
                IRT_STATUS_INVALID_ARGUMENT, "invalid");
  assert_status(irvm_list_set_value(list, 0, irvm_value_none()),
                IRT_STATUS_INVALID_ARGUMENT, "invalid");
  irvm_list_release(list);
}

static void test_values_on_ref_list(void** state) {
  (void)state;
  irvm_list_t* list = new_list(irvm_list_element_type_ref(test_type_a()), 1);
  int32_t i32 = 0;
  double f64 = 0;
  assert_status(irvm_list_get_i32(list, 0, &i32),
                IRT_STATUS_FAILED_PRECONDITION, "does not hold values");
  assert_status(irvm_list_get_f64(list, 0, &f64),
                IRT_STATUS_FAILED_PRECONDITION, NULL);
  assert_status(irvm_list_set_i64(list, 0, 1), IRT_STATUS_FAILED_PRECONDITION,
                "does not hold values");
  // Bounds are checked before the kind.
  assert_status(irvm_list_get_i32(list, 1, &i32), IRT_STATUS_OUT_OF_RANGE,
                NULL);
  irvm_list_release(list);
}

static void test_variant_list_values(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_t* list = new_list(irvm_list_element_type_variant(), 3);
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  // Empty elements hold no value.
  assert_status(irvm_list_get_i32(list, 0, &i32),
                IRT_STATUS_FAILED_PRECONDITION, "holds nothing");

  // Values keep their own type: an i32 read as i64 sign-extends.
  assert_ok(irvm_list_set_i32(list, 0, -5));
  assert_ok(irvm_list_get_i64(list, 0, &i64));
  assert_int_equal(i64, -5);
  irvm_variant_t variant = irvm_variant_empty();
  assert_ok(irvm_list_get_variant(list, 0, &variant));
  assert_int_equal(variant.value.type, IRVM_VALUE_TYPE_I32);
  // An i64 stored and read as i32 truncates.
  assert_ok(irvm_list_set_i64(list, 0, 0x1FFFFFFFFll));
  assert_ok(irvm_list_get_i32(list, 0, &i32));
  assert_int_equal(i32, -1);
  assert_ok(irvm_list_set_f32(list, 1, 4.5f));
  assert_ok(irvm_list_get_f32(list, 1, &f32));
  assert_true(f32 == 4.5f);
  assert_ok(irvm_list_get_i32(list, 1, &i32));
  assert_int_equal(i32, 0);

  // A ref element is not a value; overwriting it with a value releases it.
  irvm_ref_t ref = test_object_new(test_type_a(), &destroyed);
  assert_ok(irvm_list_set_ref_move(list, 2, &ref));
  assert_status(irvm_list_get_i32(list, 2, &i32),
                IRT_STATUS_FAILED_PRECONDITION, "holds a ref");
  assert_ok(irvm_list_set_i32(list, 2, 8));
  assert_int_equal(destroyed, 1);
  assert_ok(irvm_list_get_i32(list, 2, &i32));
  assert_int_equal(i32, 8);
  irvm_list_release(list);
}

//===----------------------------------------------------------------------===//
// Refs
//===----------------------------------------------------------------------===//

static void test_ref_list_set_and_get(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_t* list = new_list(irvm_list_element_type_ref(test_type_a()), 3);
  irvm_ref_t a = test_object_new(test_type_a(), &destroyed);

  assert_ok(irvm_list_set_ref_retain(list, 0, &a));
  assert_int_equal(test_ref_count(&a), 2);
  assert_ptr_not_equal(a.ptr, NULL);

  irvm_ref_t out = irvm_ref_null();
  assert_ok(irvm_list_get_ref(list, 0, test_type_a(), &out));
  assert_ptr_equal(out.ptr, a.ptr);
  assert_ptr_equal(out.type, test_type_a());
  assert_int_equal(test_ref_count(&a), 3);

  // Wrong requested type or no type: null, not an error; |out| is released.
  assert_ok(irvm_list_get_ref(list, 0, test_type_b(), &out));
  assert_null(out.ptr);
  assert_int_equal(test_ref_count(&a), 2);
  assert_ok(irvm_list_get_ref(list, 0, test_type_a(), &out));
  assert_ok(irvm_list_get_ref(list, 0, NULL, &out));
  assert_null(out.ptr);
  // A null element reads as null.
  assert_ok(irvm_list_get_ref(list, 1, test_type_a(), &out));
  assert_null(out.ptr);

  // Move: the source becomes null and keeps no reference.
  irvm_ref_t moved = a;
  irvm_object_retain(moved.ptr);
  assert_ok(irvm_list_set_ref_move(list, 1, &moved));
  assert_null(moved.ptr);
  assert_int_equal(test_ref_count(&a), 3);

  // Storing null is always allowed and releases the old element.
  irvm_ref_t null_ref = irvm_ref_null();
  assert_ok(irvm_list_set_ref_retain(list, 1, &null_ref));
  assert_int_equal(test_ref_count(&a), 2);

  irvm_ref_release(&a);
  assert_int_equal(destroyed, 0);  // the list still holds element 0
  irvm_list_release(list);
  assert_int_equal(destroyed, 1);
}

static void test_ref_list_type_mismatch(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_t* list = new_list(irvm_list_element_type_ref(test_type_a()), 1);
  irvm_ref_t a = test_object_new(test_type_a(), &destroyed);
  irvm_ref_t b = test_object_new(test_type_b(), &destroyed);
  assert_ok(irvm_list_set_ref_retain(list, 0, &a));
  assert_status(irvm_list_set_ref_retain(list, 0, &b),
                IRT_STATUS_INVALID_ARGUMENT, "source ref type mismatch");
  assert_status(irvm_list_set_ref_move(list, 0, &b),
                IRT_STATUS_INVALID_ARGUMENT, "source ref type mismatch");
  // Nothing changed: the move source kept its ref and the element stays.
  assert_non_null(b.ptr);
  assert_int_equal(test_ref_count(&b), 1);
  irvm_ref_t out = irvm_ref_null();
  assert_ok(irvm_list_get_ref(list, 0, test_type_a(), &out));
  assert_ptr_equal(out.ptr, a.ptr);
  irvm_ref_release(&out);
  // Bounds are checked first.
  assert_status(irvm_list_set_ref_retain(list, 1, &b), IRT_STATUS_OUT_OF_RANGE,
                NULL);
  assert_status(irvm_list_get_ref(list, 1, test_type_a(), &out),
                IRT_STATUS_OUT_OF_RANGE, NULL);
  irvm_ref_release(&a);
  irvm_ref_release(&b);
  assert_int_equal(destroyed, 1);
  irvm_list_release(list);
  assert_int_equal(destroyed, 2);
}

static void test_refs_on_value_list(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_t* list = new_value_list(IRVM_VALUE_TYPE_F32, 1);
  irvm_ref_t a = test_object_new(test_type_a(), &destroyed);
  irvm_ref_t out = irvm_ref_null();
  assert_status(irvm_list_get_ref(list, 0, test_type_a(), &out),
                IRT_STATUS_FAILED_PRECONDITION, "does not hold refs");
  assert_status(irvm_list_set_ref_retain(list, 0, &a),
                IRT_STATUS_FAILED_PRECONDITION, "does not hold refs");
  assert_status(irvm_list_set_ref_move(list, 0, &a),
                IRT_STATUS_FAILED_PRECONDITION, NULL);
  assert_non_null(a.ptr);
  assert_int_equal(test_ref_count(&a), 1);
  irvm_ref_release(&a);
  irvm_list_release(list);
}

static void test_variant_list_refs(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_t* list = new_list(irvm_list_element_type_variant(), 3);
  irvm_ref_t a = test_object_new(test_type_a(), &destroyed);
  irvm_ref_t b = test_object_new(test_type_b(), &destroyed);
  // Any ref type is accepted, each keeping its own type.
  assert_ok(irvm_list_set_ref_retain(list, 0, &a));
  assert_ok(irvm_list_set_ref_move(list, 1, &b));
  irvm_ref_t out = irvm_ref_null();
  assert_ok(irvm_list_get_ref(list, 1, test_type_b(), &out));
  assert_ptr_equal(out.type, test_type_b());
  assert_ok(irvm_list_get_ref(list, 1, test_type_a(), &out));
  assert_null(out.ptr);
  // An empty element yields null; a value element fails.
  assert_ok(irvm_list_get_ref(list, 2, test_type_a(), &out));
  assert_null(out.ptr);
  assert_ok(irvm_list_set_i32(list, 2, 1));
  assert_status(irvm_list_get_ref(list, 2, test_type_a(), &out),
                IRT_STATUS_FAILED_PRECONDITION, "holds an i32 value");
  // A ref replaces a value.
  assert_ok(irvm_list_set_ref_retain(list, 2, &a));
  int32_t i32 = 0;
  assert_status(irvm_list_get_i32(list, 2, &i32),
                IRT_STATUS_FAILED_PRECONDITION, NULL);
  assert_int_equal(test_ref_count(&a), 3);
  // Overwriting a ref with another releases the first.
  irvm_ref_t null_ref = irvm_ref_null();
  assert_ok(irvm_list_set_ref_retain(list, 0, &null_ref));
  assert_int_equal(test_ref_count(&a), 2);
  irvm_ref_release(&a);
  irvm_list_release(list);
  assert_int_equal(destroyed, 2);
}

static void test_shrink_releases_refs(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_list_element_type_t kinds[2] = {
      irvm_list_element_type_ref(test_type_a()),
      irvm_list_element_type_variant()};
  for (int k = 0; k < 2; ++k) {
    destroyed = 0;
    irvm_list_t* list = new_list(kinds[k], 4);
    for (uint32_t i = 0; i < 4; ++i) {
      irvm_ref_t ref = test_object_new(test_type_a(), &destroyed);
      assert_ok(irvm_list_set_ref_move(list, i, &ref));
    }
    assert_ok(irvm_list_resize(list, 1));
    assert_int_equal(destroyed, 3);
    assert_ok(irvm_list_resize(list, 4));  // regrown elements are null
    irvm_ref_t out = irvm_ref_null();
    assert_ok(irvm_list_get_ref(list, 3, test_type_a(), &out));
    assert_null(out.ptr);
    irvm_variant_t variant = irvm_variant_empty();
    assert_ok(irvm_list_get_variant(list, 3, &variant));
    assert_true(irvm_variant_is_empty(&variant));
    assert_ok(irvm_list_get_ref(list, 0, test_type_a(), &out));
    assert_non_null(out.ptr);
    irvm_ref_release(&out);
    irvm_list_release(list);  // destroy releases the rest
    assert_int_equal(destroyed, 4);
  }
}

static void test_list_of_lists(void** state) {
  (void)state;
  irvm_list_t* outer =
      new_list(irvm_list_element_type_ref(irvm_list_type()), 1);
  irvm_list_t* inner = new_value_list(IRVM_VALUE_TYPE_I32, 2);
  irvm_ref_t ref = irvm_ref_wrap(inner, irvm_list_type());
  assert_ok(irvm_list_set_ref_move(outer, 0, &ref));
  irvm_ref_t out = irvm_ref_null();
  assert_ok(irvm_list_get_ref(outer, 0, irvm_list_type(), &out));
  assert_ptr_equal(irvm_list_deref(&out), inner);
  assert_int_equal(list_size(irvm_list_deref(&out)), 2);
  irvm_ref_release(&out);
  irvm_list_release(outer);  // releases inner too (ASan checks)
}

//===----------------------------------------------------------------------===//
// Variants
//===----------------------------------------------------------------------===//

static void test_get_variant_each_kind(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_variant_t variant = irvm_variant_empty();

  irvm_list_t* values = new_value_list(IRVM_VALUE_TYPE_I16, 1);
  assert_ok(irvm_list_set_i32(values, 0, -2));
  assert_ok(irvm_list_get_variant(values, 0, &variant));
  assert_true(irvm_variant_is_value(&variant));
  assert_int_equal(variant.value.type, IRVM_VALUE_TYPE_I16);
  assert_int_equal(variant.value.i16, -2);
  assert_status(irvm_list_get_variant(values, 1, &variant),
                IRT_STATUS_OUT_OF_RANGE, NULL);
  irvm_list_release(values);

  irvm_list_t* refs = new_list(irvm_list_element_type_ref(test_type_a()), 2);
  irvm_ref_t a = test_object_new(test_type_a(), &destroyed);
  assert_ok(irvm_list_set_ref_move(refs, 0, &a));
  assert_ok(irvm_list_get_variant(refs, 0, &variant));
  assert_true(irvm_variant_is_ref(&variant));
  assert_false(irvm_variant_is_value(&variant));
  assert_int_equal(test_ref_count(&variant.ref), 2);
  // The old ref in |variant| is released when it is overwritten.
  assert_ok(irvm_list_get_variant(refs, 1, &variant));
  assert_true(irvm_variant_is_empty(&variant));
  irvm_list_release(refs);
  assert_int_equal(destroyed, 1);

  irvm_list_t* variants = new_list(irvm_list_element_type_variant(), 2);
  assert_ok(irvm_list_set_f64(variants, 0, 6.25));
  irvm_ref_t b = test_object_new(test_type_b(), &destroyed);
  assert_ok(irvm_list_set_ref_move(variants, 1, &b));
  assert_ok(irvm_list_get_variant(variants, 0, &variant));
  assert_int_equal(variant.value.type, IRVM_VALUE_TYPE_F64);
  assert_true(variant.value.f64 == 6.25);
  assert_ok(irvm_list_get_variant(variants, 1, &variant));
  assert_ptr_equal(variant.ref.type, test_type_b());
  irvm_list_release(variants);
  assert_int_equal(destroyed, 1);  // |variant| still holds b
  irvm_variant_release(&variant);
  assert_int_equal(destroyed, 2);
  assert_true(irvm_variant_is_empty(&variant));
}

static void test_set_variant_each_kind(void** state) {
  (void)state;
  int destroyed = 0;
  irvm_variant_t value = irvm_variant_from_value(irvm_value_make_i64(-1));
  irvm_variant_t a =
      irvm_variant_from_ref(test_object_new(test_type_a(), &destroyed));
  irvm_variant_t b =
      irvm_variant_from_ref(test_object_new(test_type_b(), &destroyed));
  irvm_variant_t empty = irvm_variant_empty();

  irvm_list_t* values = new_value_list(IRVM_VALUE_TYPE_I8, 1);
  assert_ok(irvm_list_set_variant(values, 0, &value));
  int32_t i32 = 0;
  assert_ok(irvm_list_get_i32(values, 0, &i32));
  assert_int_equal(i32, -1);
  assert_status(irvm_list_set_variant(values, 0, &a),
                IRT_STATUS_FAILED_PRECONDITION, NULL);
  assert_status(irvm_list_set_variant(values, 0, &empty),
                IRT_STATUS_FAILED_PRECONDITION, "empty");
  irvm_list_release(values);

  irvm_list_t* refs = new_list(irvm_list_element_type_ref(test_type_a()), 1);
  assert_ok(irvm_list_set_variant(refs, 0, &a));
  assert_int_equal(test_ref_count(&a.ref), 2);  // retained, not moved
  assert_status(irvm_list_set_variant(refs, 0, &b), IRT_STATUS_INVALID_ARGUMENT,
                "source ref type mismatch");
  assert_status(irvm_list_set_variant(refs, 0, &value),
                IRT_STATUS_FAILED_PRECONDITION, NULL);
  assert_ok(irvm_list_set_variant(refs, 0, &empty));  // stores null
  assert_int_equal(test_ref_count(&a.ref), 1);
  irvm_list_release(refs);

  irvm_list_t* variants = new_list(irvm_list_element_type_variant(), 2);
  assert_ok(irvm_list_set_variant(variants, 0, &b));
  assert_ok(irvm_list_set_variant(variants, 1, &value));
  irvm_variant_t out = irvm_variant_empty();
  assert_ok(irvm_list_get_variant(variants, 1, &out));
  assert_int_equal(out.value.type, IRVM_VALUE_TYPE_I64);
  assert_ok(irvm_list_set_variant(variants, 0, &empty));
  assert_ok(irvm_list_get_variant(variants, 0, &out));
  assert_true(irvm_variant_is_empty(&out));
  irvm_variant_t both = a;
  both.value = irvm_value_make_i32(1);
  assert_status(irvm_list_set_variant(variants, 0, &both),
                IRT_STATUS_INVALID_ARGUMENT, "both");
  irvm_list_release(variants);

  assert_int_equal(test_ref_count(&b.ref), 1);
  irvm_variant_release(&a);
  irvm_variant_release(&b);
  assert_int_equal(destroyed, 2);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_and_deref),
      cmocka_unit_test(test_create_kinds),
      cmocka_unit_test(test_create_invalid_element_type),
      cmocka_unit_test(test_create_out_of_memory),
      cmocka_unit_test(test_null_list),
      cmocka_unit_test(test_reserve_and_resize),
      cmocka_unit_test(test_growth_is_amortized),
      cmocka_unit_test(test_resize_out_of_memory),
      cmocka_unit_test(test_huge_capacity),
      cmocka_unit_test(test_value_bounds),
      cmocka_unit_test(test_value_list_conversions),
      cmocka_unit_test(test_value_list_generic_access),
      cmocka_unit_test(test_values_on_ref_list),
      cmocka_unit_test(test_variant_list_values),
      cmocka_unit_test(test_ref_list_set_and_get),
      cmocka_unit_test(test_ref_list_type_mismatch),
      cmocka_unit_test(test_refs_on_value_list),
      cmocka_unit_test(test_variant_list_refs),
      cmocka_unit_test(test_shrink_releases_refs),
      cmocka_unit_test(test_list_of_lists),
      cmocka_unit_test(test_get_variant_each_kind),
      cmocka_unit_test(test_set_variant_each_kind),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
