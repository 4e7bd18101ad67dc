#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "runtime/base/allocator.h"

static void test_system_calloc_zeroes(void** state) {
  (void)state;
  irt_allocator_t allocator = irt_allocator_system();
  unsigned char* bytes = NULL;
  assert_true(irt_status_is_ok(irt_allocator_calloc(allocator, 64, (void**)&bytes)));
  for (int i = 0; i < 64; ++i) assert_int_equal(bytes[i], 0);
  assert_true(irt_status_is_ok(irt_allocator_realloc(allocator, 128, (void**)&bytes)));
  irt_allocator_free(allocator, bytes);
}

static void test_calloc_array_overflow(void** state) {
  (void)state;
  void* ptr = (void*)1;
  irt_status_t status = irt_allocator_calloc_array(irt_allocator_system(),
                                                   SIZE_MAX / 2, 4, &ptr);
  assert_int_equal(irt_status_consume_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(ptr);
}

static void test_counting_allocator_fails_on_demand(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  counter.fail_after = 1;
  void* first = NULL;
  void* second = NULL;
  assert_true(irt_status_is_ok(irt_allocator_malloc(allocator, 8, &first)));
  assert_int_equal(counter.live_allocations, 1);
  irt_status_t status = irt_allocator_malloc(allocator, 8, &second);
  assert_int_equal(irt_status_consume_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
  // A failed realloc leaves the original allocation in place.
  status = irt_allocator_realloc(allocator, 64, &first);
  assert_int_equal(irt_status_consume_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_non_null(first);
  irt_allocator_free(allocator, first);
  assert_int_equal(counter.live_allocations, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_system_calloc_zeroes),
      cmocka_unit_test(test_calloc_array_overflow),
      cmocka_unit_test(test_counting_allocator_fails_on_demand),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
