#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "runtime/base/arena.h"

static void test_alignment_and_growth(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_arena_t arena;
  irt_arena_init(&arena, irt_counting_allocator(&counter), 64);
  for (size_t i = 0; i < 100; ++i) {
    void* ptr = NULL;
    size_t alignment = (size_t)1 << (i % 7);
    assert_true(irt_status_is_ok(irt_arena_alloc(&arena, i, alignment, &ptr)));
    assert_int_equal((uintptr_t)ptr % alignment, 0);
    memset(ptr, 0xAB, i);
  }
  void* big = NULL;
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 10000, 16, &big)));
  memset(big, 0, 10000);
  assert_true(counter.live_allocations > 1);
  irt_arena_deinit(&arena);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_strndup(void** state) {
  (void)state;
  irt_arena_t arena;
  irt_arena_init(&arena, irt_allocator_system(), 0);
  char* text = NULL;
  assert_true(irt_status_is_ok(irt_arena_strndup(&arena, "hello world", 5, &text)));
  assert_string_equal(text, "hello");
  irt_arena_reset(&arena);
  assert_int_equal(arena.bytes_allocated, 0);
  irt_arena_deinit(&arena);
}

// Rewinding keeps the newest block and hands its memory out again.
static void test_rewind_keeps_one_block(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_arena_t arena;
  irt_arena_init(&arena, irt_counting_allocator(&counter), 256);
  irt_arena_rewind(&arena);  // nothing to keep
  assert_int_equal(counter.live_allocations, 0);
  void* first = NULL;
  void* ptr = NULL;
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 100, 16, &first)));
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 200, 16, &ptr)));
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 1000, 16, &ptr)));
  assert_int_equal(counter.live_allocations, 3);
  irt_arena_rewind(&arena);
  assert_int_equal(counter.live_allocations, 1);
  assert_int_equal(arena.bytes_allocated, 0);
  // The kept block (1000 bytes) serves these without allocating.
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 100, 16, &ptr)));
  assert_true(irt_status_is_ok(irt_arena_alloc(&arena, 800, 16, &ptr)));
  memset(ptr, 0xCD, 800);
  assert_int_equal(counter.live_allocations, 1);
  irt_arena_deinit(&arena);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_rejects_bad_requests(void** state) {
  (void)state;
  irt_arena_t arena;
  irt_arena_init(&arena, irt_allocator_system(), 0);
  void* ptr = NULL;
  assert_int_equal(irt_status_consume_code(irt_arena_alloc(&arena, 8, 3, &ptr)),
                   IRT_STATUS_INVALID_ARGUMENT);
  assert_int_equal(
      irt_status_consume_code(irt_arena_alloc(&arena, SIZE_MAX - 4, 16, &ptr)),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  irt_arena_deinit(&arena);
}

static void test_allocation_failure_is_reported(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  irt_arena_t arena;
  irt_arena_init(&arena, irt_counting_allocator(&counter), 0);
  void* ptr = NULL;
  assert_int_equal(irt_status_consume_code(irt_arena_alloc(&arena, 8, 8, &ptr)),
                   IRT_STATUS_RESOURCE_EXHAUSTED);
  irt_arena_deinit(&arena);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_alignment_and_growth),
      cmocka_unit_test(test_strndup),
      cmocka_unit_test(test_rewind_keeps_one_block),
      cmocka_unit_test(test_rejects_bad_requests),
      cmocka_unit_test(test_allocation_failure_is_reported),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
