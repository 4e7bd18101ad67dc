#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "runtime/base/histogram.h"

// Every value lies in its bucket, within 1/8 below the bucket's bound, and
// buckets are ordered.
static void test_buckets(void** state) {
  (void)state;
  for (uint64_t v = 0; v < 8; ++v) {
    assert_int_equal(irt_histogram_bucket_index(v), v);
    assert_int_equal(irt_histogram_bucket_upper_bound(v), v);
  }
  uint64_t values[] = {8,
                       9,
                       15,
                       16,
                       17,
                       1000,
                       1023,
                       1024,
                       123456789,
                       1ull << 40,
                       (1ull << 40) + 1,
                       UINT64_MAX / 3,
                       UINT64_MAX - 1,
                       UINT64_MAX};
  for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); ++i) {
    uint64_t v = values[i];
    size_t index = irt_histogram_bucket_index(v);
    assert_true(index < IRT_HISTOGRAM_BUCKET_COUNT);
    uint64_t upper = irt_histogram_bucket_upper_bound(index);
    assert_true(upper >= v);
    assert_true(upper - v <= v / 8);
    assert_true(irt_histogram_bucket_upper_bound(index - 1) < v);
  }
  assert_int_equal(irt_histogram_bucket_index(UINT64_MAX),
                   IRT_HISTOGRAM_BUCKET_COUNT - 1);
  assert_true(irt_histogram_bucket_upper_bound(IRT_HISTOGRAM_BUCKET_COUNT -
                                               1) == UINT64_MAX);
  for (size_t i = 1; i < IRT_HISTOGRAM_BUCKET_COUNT; ++i) {
    assert_true(irt_histogram_bucket_upper_bound(i) >
                irt_histogram_bucket_upper_bound(i - 1));
    assert_int_equal(
        irt_histogram_bucket_index(irt_histogram_bucket_upper_bound(i)), i);
  }
}

static void test_quantiles(void** state) {
  (void)state;
  irt_histogram_t* histogram = malloc(sizeof(*histogram));
  irt_histogram_initialize(histogram);
  irt_histogram_summary_t summary;
  irt_histogram_summarize(histogram, &summary);
  assert_int_equal(summary.count, 0);
  assert_int_equal(summary.p50, 0);
  assert_int_equal(summary.p99, 0);
  // 1..1000 µs: p50 ~ 500 µs, p90 ~ 900 µs, p99 ~ 990 µs, within 1/8.
  uint64_t sum = 0;
  for (uint64_t i = 1; i <= 1000; ++i) {
    irt_histogram_record(histogram, i * 1000);
    sum += i * 1000;
  }
  irt_histogram_summarize(histogram, &summary);
  assert_int_equal(summary.count, 1000);
  assert_int_equal(summary.sum, sum);
  assert_true(summary.p50 >= 500000 && summary.p50 <= 500000 * 9 / 8);
  assert_true(summary.p90 >= 900000 && summary.p90 <= 900000 * 9 / 8);
  assert_true(summary.p99 >= 990000 && summary.p99 <= 990000 * 9 / 8);
  free(histogram);
}

// Shards summarized together read as one histogram of all their values:
// the quantiles come from the merged buckets, not from any one shard.
static void test_summarize_all(void** state) {
  (void)state;
  irt_histogram_t* shards = malloc(2 * sizeof(*shards));
  irt_histogram_initialize(&shards[0]);
  irt_histogram_initialize(&shards[1]);
  // Shard 0 holds 1..900 µs, shard 1 901..1000 µs.
  for (uint64_t i = 1; i <= 1000; ++i) {
    irt_histogram_record(&shards[i <= 900 ? 0 : 1], i * 1000);
  }
  const irt_histogram_t* all[2] = {&shards[0], &shards[1]};
  irt_histogram_summary_t summary;
  irt_histogram_summarize_all(all, 2, &summary);
  assert_int_equal(summary.count, 1000);
  assert_int_equal(summary.sum, 1000 * 1001 / 2 * 1000);
  assert_true(summary.p50 >= 500000 && summary.p50 <= 500000 * 9 / 8);
  assert_true(summary.p99 >= 990000 && summary.p99 <= 990000 * 9 / 8);
  irt_histogram_summarize_all(all, 0, &summary);
  assert_int_equal(summary.count, 0);
  assert_int_equal(summary.p50, 0);
  free(shards);
}

enum { kThreads = 4, kRecords = 100000 };

static void* record_many(void* arg) {
  irt_histogram_t* histogram = arg;
  for (uint64_t i = 0; i < kRecords; ++i) irt_histogram_record(histogram, i);
  return NULL;
}

// Concurrent records are all counted.
static void test_concurrent(void** state) {
  (void)state;
  irt_histogram_t* histogram = malloc(sizeof(*histogram));
  irt_histogram_initialize(histogram);
  pthread_t threads[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    assert_int_equal(pthread_create(&threads[i], NULL, record_many, histogram),
                     0);
  }
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  irt_histogram_summary_t summary;
  irt_histogram_summarize(histogram, &summary);
  assert_int_equal(summary.count, kThreads * kRecords);
  assert_int_equal(summary.sum,
                   (uint64_t)kThreads * (kRecords - 1) * kRecords / 2);
  free(histogram);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_buckets),
      cmocka_unit_test(test_quantiles),
      cmocka_unit_test(test_summarize_all),
      cmocka_unit_test(test_concurrent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
