// The daemon's worker pool: every job runs once, on any worker, FIFO per
// submitter; scratch memory is zeroed, aligned, distinct within a job and
// reused across jobs (large requests included); destroying the pool runs
// what was queued first.
#include <setjmp.h>
#include <stdalign.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "daemon/worker_pool.h"

typedef struct counted_job_s {
  ireed_job_t job;
  atomic_int* runs;
  size_t scratch_size;
  int bad_scratch;
} counted_job_t;

static void counted_run(ireed_job_t* base, ireed_worker_t* worker) {
  counted_job_t* job = (counted_job_t*)base;
  // Three blocks: zeroed, aligned and not overlapping.
  uint8_t* blocks[3];
  size_t sizes[3] = {job->scratch_size, 24, job->scratch_size / 2 + 1};
  for (int i = 0; i < 3; ++i) {
    blocks[i] = ireed_worker_scratch(worker, sizes[i]);
    if (!blocks[i] || (uintptr_t)blocks[i] % alignof(max_align_t)) {
      job->bad_scratch = 1;
      return;
    }
    for (size_t k = 0; k < sizes[i]; ++k) {
      if (blocks[i][k]) job->bad_scratch = 1;
    }
    memset(blocks[i], 0xA5, sizes[i]);
  }
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) {
      if (i != j && blocks[i] < blocks[j] + sizes[j] &&
          blocks[j] < blocks[i] + sizes[i]) {
        job->bad_scratch = 1;
      }
    }
  }
  atomic_fetch_add(job->runs, 1);
}

static void test_jobs_and_scratch(void** state) {
  (void)state;
  ireed_worker_pool_t* pool = NULL;
  assert_null(ireed_worker_pool_create(4, irt_allocator_system(), &pool));
  assert_int_equal(ireed_worker_pool_size(pool), 4);
  enum { kJobs = 2000 };
  counted_job_t* jobs = calloc(kJobs, sizeof(*jobs));
  atomic_int runs;
  atomic_init(&runs, 0);
  for (int i = 0; i < kJobs; ++i) {
    jobs[i].job.run = counted_run;
    jobs[i].runs = &runs;
    // Mostly small, now and then beyond a scratch block (64 KiB).
    jobs[i].scratch_size = i % 97 == 0 ? 200000 : (size_t)(i % 5000) + 1;
    ireed_worker_pool_submit(pool, &jobs[i].job);
  }
  // Destroying runs everything queued.
  ireed_worker_pool_destroy(pool);
  assert_int_equal(atomic_load(&runs), kJobs);
  for (int i = 0; i < kJobs; ++i) assert_int_equal(jobs[i].bad_scratch, 0);
  free(jobs);
}

typedef struct order_job_s {
  ireed_job_t job;
  int* log;
  atomic_int* next;
  int value;
} order_job_t;

static void order_run(ireed_job_t* base, ireed_worker_t* worker) {
  (void)worker;
  order_job_t* job = (order_job_t*)base;
  job->log[atomic_fetch_add(job->next, 1)] = job->value;
}

// One worker: jobs run in submission order.
static void test_fifo(void** state) {
  (void)state;
  ireed_worker_pool_t* pool = NULL;
  assert_null(ireed_worker_pool_create(1, irt_allocator_system(), &pool));
  enum { kJobs = 100 };
  order_job_t jobs[kJobs];
  int log[kJobs];
  atomic_int next;
  atomic_init(&next, 0);
  for (int i = 0; i < kJobs; ++i) {
    jobs[i] = (order_job_t){
        .job.run = order_run, .log = log, .next = &next, .value = i};
    ireed_worker_pool_submit(pool, &jobs[i].job);
  }
  ireed_worker_pool_destroy(pool);
  for (int i = 0; i < kJobs; ++i) assert_int_equal(log[i], i);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_jobs_and_scratch),
      cmocka_unit_test(test_fifo),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
