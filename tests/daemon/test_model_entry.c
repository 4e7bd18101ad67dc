// A model entry's bookkeeping outside the daemon's threads: when it counts
// as idle, and its stats added up over the workers' shards.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "daemon/models.h"
#include "daemon/stats.h"

#define SECOND 1000000000ull

// A READY configured entry, idle after 5 s, last used at 100 s.
static ireed_model_entry_t* idle_entry_create(void) {
  ireed_model_entry_t* entry = calloc(1, sizeof(*entry));
  entry->state = IREED_MODEL_READY;
  entry->configured = true;
  entry->idle_unload_seconds = 5;
  entry->last_used_ns = 100 * SECOND;
  return entry;
}

static void test_idle_after_its_limit(void** state) {
  (void)state;
  ireed_model_entry_t* entry = idle_entry_create();
  assert_false(ireed_model_entry_idle(entry, 104 * SECOND));
  assert_true(ireed_model_entry_idle(entry, 105 * SECOND));
  // In flight, pinned, unlimited, not configured, or not READY: never idle.
  entry->in_flight = 1;
  assert_false(ireed_model_entry_idle(entry, 200 * SECOND));
  entry->in_flight = 0;
  entry->pinned = true;
  assert_false(ireed_model_entry_idle(entry, 200 * SECOND));
  entry->pinned = false;
  entry->idle_unload_seconds = 0;
  assert_false(ireed_model_entry_idle(entry, 200 * SECOND));
  entry->idle_unload_seconds = 5;
  entry->state = IREED_MODEL_LOADING;
  assert_false(ireed_model_entry_idle(entry, 200 * SECOND));
  free(entry);
}

// Regression: the idle timer reads the clock before it takes the lock, so a
// ring thread may stamp a use later than the timer's |now|. The unsigned
// difference made that use 2^64 ns old, and the model unloaded right after
// it was used.
static void test_use_after_the_timers_clock_is_recent(void** state) {
  (void)state;
  ireed_model_entry_t* entry = idle_entry_create();
  assert_false(ireed_model_entry_idle(entry, 100 * SECOND - 1));
  assert_false(ireed_model_entry_idle(entry, 0));
  free(entry);
}

// Workers record into their own shards; the counts and latencies read as
// one model's.
static void test_stats_add_up_over_shards(void** state) {
  (void)state;
  ireed_model_stats_t* stats = malloc(sizeof(*stats));
  ireed_model_stats_initialize(stats);
  for (uint32_t worker = 0; worker < 2 * IREED_MODEL_STATS_SHARDS; ++worker) {
    ireed_model_stats_shard_t* shard = ireed_model_stats_shard(stats, worker);
    ireed_model_stats_count(&shard->invocations, 1);
    ireed_model_stats_count(&shard->errors, worker % 4 == 0);
    ireed_model_stats_count(&shard->bytes_staged, 10);
    irt_histogram_record(&shard->execute_ns, 1000);
  }
  ireed_model_counts_t counts = ireed_model_stats_counts(stats);
  assert_int_equal(counts.invocations, 2 * IREED_MODEL_STATS_SHARDS);
  assert_int_equal(counts.errors, 2 * IREED_MODEL_STATS_SHARDS / 4);
  Ireed__ModelStats model = IREED__MODEL_STATS__INIT;
  Ireed__LatencyStats queue, execute;
  ireed_model_stats_fill(stats, &model, &queue, &execute);
  assert_int_equal(model.invocations, counts.invocations);
  assert_int_equal(model.errors, counts.errors);
  assert_int_equal(model.bytes_staged, 20 * IREED_MODEL_STATS_SHARDS);
  assert_int_equal(execute.count, 2 * IREED_MODEL_STATS_SHARDS);
  assert_int_equal(execute.sum_ns, 2000 * IREED_MODEL_STATS_SHARDS);
  assert_true(execute.p50_ns >= 1000 && execute.p50_ns <= 1000 * 9 / 8);
  assert_int_equal(queue.count, 0);
  free(stats);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_idle_after_its_limit),
      cmocka_unit_test(test_use_after_the_timers_clock_is_recent),
      cmocka_unit_test(test_stats_add_up_over_shards),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
