// The cmocka fixture of tests that check every allocation is freed: each
// test allocates through allocator() (a counting allocator reset by setup)
// and teardown fails the test when anything is still live. Header only: it
// defines the fixture's state, so include it once, in a test program's one
// source file, after <cmocka.h>.
#ifndef IREED_TESTS_SUPPORT_COUNTING_FIXTURE_H
#define IREED_TESTS_SUPPORT_COUNTING_FIXTURE_H

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

static irt_counting_allocator_t counter;

static inline int setup(void** state) {
  (void)state;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  return 0;
}

static inline int teardown(void** state) {
  (void)state;
  return counter.live_allocations == 0 ? 0 : -1;
}

static inline irt_allocator_t allocator(void) {
  return irt_counting_allocator(&counter);
}

// Asserts that |status| has |code| and frees it.
static inline void assert_code(irt_status_t status, irt_status_code_t code) {
  assert_int_equal(irt_status_consume_code(status), code);
}

#endif  // IREED_TESTS_SUPPORT_COUNTING_FIXTURE_H
