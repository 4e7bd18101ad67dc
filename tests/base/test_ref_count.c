#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>

#include "runtime/base/ref_count.h"

static void test_single_thread(void** state) {
  (void)state;
  irt_ref_count_t count;
  irt_ref_count_init(&count);
  irt_ref_count_retain(&count);
  assert_int_equal(irt_ref_count_load(&count), 2);
  assert_false(irt_ref_count_release(&count));
  assert_true(irt_ref_count_release(&count));
}

enum { kThreads = 4, kIterations = 100000 };

static void* churn(void* arg) {
  irt_ref_count_t* count = arg;
  for (int i = 0; i < kIterations; ++i) {
    irt_ref_count_retain(count);
    irt_ref_count_release(count);
  }
  return NULL;
}

static void test_concurrent_retain_release(void** state) {
  (void)state;
  irt_ref_count_t count;
  irt_ref_count_init(&count);
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    assert_int_equal(pthread_create(&threads[i], NULL, churn, &count), 0);
  }
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  assert_int_equal(irt_ref_count_load(&count), 1);
  assert_true(irt_ref_count_release(&count));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_single_thread),
      cmocka_unit_test(test_concurrent_retain_release),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
