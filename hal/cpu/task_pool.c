#include "hal/cpu/task_pool.h"

#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hal/semaphore.h"

// Chunks each participant of a parallel-for gets on average: enough for
// uneven chunk costs to even out, few enough to keep claiming cheap.
#define IRHAL_CPU_CHUNKS_PER_PARTICIPANT 8
// A parallel-for whose work would be done in less than this after its first
// chunk runs on its caller alone: waking a worker costs the waker a system
// call and the worker several microseconds before it starts (tens in a
// virtual machine), so helpers would arrive when the work is over. On the
// 16-core machine of docs/benchmarks.md, 1024 workgroups of 15 ns each took
// 80-200 us with every worker woken against 21 us on the caller alone.
#define IRHAL_CPU_INLINE_RANGE_NS 25000

// One parallel-for in progress. It lives on its caller's stack and is linked
// into the pool's job list while workers may still join it; the caller
// unlinks it and waits for |running| to drop to zero before returning.
typedef struct irhal_cpu_job_s {
  struct irhal_cpu_job_s* next;
  irhal_cpu_range_fn_t fn;
  void* arg;
  uint64_t count;
  uint64_t grain;
  _Atomic uint64_t next_index;  // first item no thread has claimed yet
  atomic_bool failed;           // set by the first failing chunk
  // Guarded by the pool mutex.
  bool linked;
  uint32_t participant_limit;
  uint32_t joined;      // slots handed out (the caller holds slot 0)
  uint32_t running;     // participants that have not left yet
  irt_status_t status;  // first failure
} irhal_cpu_job_t;

struct irhal_cpu_task_pool_s {
  irt_allocator_t allocator;
  uint32_t worker_count;
  uint32_t started_count;
  pthread_t* threads;
  pthread_mutex_t mutex;
  pthread_cond_t work_cond;  // workers: a task, a job or stopping
  pthread_cond_t job_cond;   // parallel-for callers: a participant left
  // Guarded by |mutex|.
  irhal_cpu_task_t* task_head;
  irhal_cpu_task_t* task_tail;
  irhal_cpu_job_t* jobs;
  uint32_t idle_count;
  bool stopping;
};

//===----------------------------------------------------------------------===//
// Parallel-for jobs
//===----------------------------------------------------------------------===//

// Claims the next chunk; false once the range is exhausted or failed.
// Relaxed ordering suffices: chunk data is published through the pool mutex
// every participant takes when joining and leaving.
static bool irhal_cpu_job_claim(irhal_cpu_job_t* job, uint64_t* out_first,
                                uint64_t* out_count) {
  if (atomic_load_explicit(&job->failed, memory_order_relaxed)) return false;
  uint64_t first = atomic_load_explicit(&job->next_index, memory_order_relaxed);
  uint64_t count = 0;
  do {
    if (first >= job->count) return false;
    count = job->count - first < job->grain ? job->count - first : job->grain;
  } while (!atomic_compare_exchange_weak_explicit(
      &job->next_index, &first, first + count, memory_order_relaxed,
      memory_order_relaxed));
  *out_first = first;
  *out_count = count;
  return true;
}

static bool irhal_cpu_job_exhausted(irhal_cpu_job_t* job) {
  return atomic_load_explicit(&job->failed, memory_order_relaxed) ||
         atomic_load_explicit(&job->next_index, memory_order_relaxed) >=
             job->count;
}

// Runs chunks until none are left; returns this thread's failure, if any.
static irt_status_t irhal_cpu_job_work(irhal_cpu_job_t* job, uint32_t slot) {
  uint64_t first = 0, count = 0;
  while (irhal_cpu_job_claim(job, &first, &count)) {
    irt_status_t status = job->fn(job->arg, slot, first, count);
    if (status) {
      atomic_store_explicit(&job->failed, true, memory_order_relaxed);
      return status;
    }
  }
  return IRT_OK;
}

// Called with the mutex held when a participant stops working on |job|.
static void irhal_cpu_job_leave(irhal_cpu_task_pool_t* pool,
                                irhal_cpu_job_t* job, irt_status_t status) {
  if (status && !job->status) {
    job->status = status;
  } else {
    irt_status_free(status);
  }
  if (--job->running == 0) pthread_cond_broadcast(&pool->job_cond);
}

// Called with the mutex held.
static void irhal_cpu_job_unlink(irhal_cpu_task_pool_t* pool,
                                 irhal_cpu_job_t* job) {
  for (irhal_cpu_job_t** link = &pool->jobs; *link; link = &(*link)->next) {
    if (*link == job) {
      *link = job->next;
      job->linked = false;
      return;
    }
  }
}

// How many idle workers a participant of |job| wakes: a few, and more only
// while chunks are left and the job has room. Each participant that joins
// wakes its share in turn, so the wake-ups (a system call each, several
// microseconds in a VM) spread over the threads and stop once the work runs
// out: a small dispatch ends on the caller before most workers would even
// have woken. Called with the mutex held; the caller signals after
// unlocking.
#define IRHAL_CPU_WAKES_PER_PARTICIPANT 2
static uint32_t irhal_cpu_job_wakes(const irhal_cpu_task_pool_t* pool,
                                    irhal_cpu_job_t* job) {
  if (irhal_cpu_job_exhausted(job)) return 0;
  uint32_t wakes = IRHAL_CPU_WAKES_PER_PARTICIPANT;
  uint32_t room = job->participant_limit - job->joined;
  if (wakes > room) wakes = room;
  if (wakes > pool->idle_count) wakes = pool->idle_count;
  return wakes;
}

static void irhal_cpu_pool_signal(irhal_cpu_task_pool_t* pool,
                                  uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) pthread_cond_signal(&pool->work_cond);
}

// Finds a job a worker can join and gives it a slot, dropping exhausted
// jobs from the list on the way. Called with the mutex held.
static irhal_cpu_job_t* irhal_cpu_pool_join_job(irhal_cpu_task_pool_t* pool,
                                                uint32_t* out_slot) {
  irhal_cpu_job_t** link = &pool->jobs;
  while (*link) {
    irhal_cpu_job_t* job = *link;
    if (irhal_cpu_job_exhausted(job)) {
      *link = job->next;
      job->linked = false;
      continue;
    }
    if (job->joined < job->participant_limit) {
      *out_slot = job->joined++;
      ++job->running;
      return job;
    }
    link = &job->next;
  }
  return NULL;
}

//===----------------------------------------------------------------------===//
// Workers
//===----------------------------------------------------------------------===//

// Parallel-for chunks come first (their callers are waiting), then queued
// tasks in order; the worker sleeps when there is neither and exits once the
// pool is stopping and the queue is drained.
static void* irhal_cpu_worker_main(void* arg) {
  irhal_cpu_task_pool_t* pool = arg;
  pthread_mutex_lock(&pool->mutex);
  for (;;) {
    uint32_t slot = 0;
    irhal_cpu_job_t* job = irhal_cpu_pool_join_job(pool, &slot);
    if (job) {
      uint32_t wakes = irhal_cpu_job_wakes(pool, job);
      pthread_mutex_unlock(&pool->mutex);
      irhal_cpu_pool_signal(pool, wakes);
      irt_status_t status = irhal_cpu_job_work(job, slot);
      pthread_mutex_lock(&pool->mutex);
      irhal_cpu_job_leave(pool, job, status);
      continue;
    }
    irhal_cpu_task_t* task = pool->task_head;
    if (task) {
      pool->task_head = task->next;
      if (!pool->task_head) pool->task_tail = NULL;
      pthread_mutex_unlock(&pool->mutex);
      task->fn(task->arg);  // may free |task|
      pthread_mutex_lock(&pool->mutex);
      continue;
    }
    if (pool->stopping) break;
    ++pool->idle_count;
    pthread_cond_wait(&pool->work_cond, &pool->mutex);
    --pool->idle_count;
  }
  pthread_mutex_unlock(&pool->mutex);
  return NULL;
}

// Workers block every asynchronous signal so the process's signal handling
// (the daemon's event loop) never runs on them.
static int irhal_cpu_pool_start_worker(irhal_cpu_task_pool_t* pool,
                                       uint32_t index) {
  sigset_t all, saved;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &saved);
  int error =
      pthread_create(&pool->threads[index], NULL, irhal_cpu_worker_main, pool);
  pthread_sigmask(SIG_SETMASK, &saved, NULL);
  if (!error) {
    char name[16];
    snprintf(name, sizeof(name), "ireed-cpu-%" PRIu32, index);
    pthread_setname_np(pool->threads[index], name);
  }
  return error;
}

irt_status_t irhal_cpu_task_pool_create(uint32_t worker_count,
                                        irt_allocator_t allocator,
                                        irhal_cpu_task_pool_t** out_pool) {
  *out_pool = NULL;
  if (worker_count == 0 || worker_count > IRHAL_CPU_TASK_POOL_MAX_WORKERS) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "task pool worker count %" PRIu32
                           " is not within 1..%d",
                           worker_count, IRHAL_CPU_TASK_POOL_MAX_WORKERS);
  }
  irhal_cpu_task_pool_t* pool = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(allocator, sizeof(*pool), (void**)&pool),
      "allocating a task pool");
  irt_status_t status = irt_allocator_calloc_array(
      allocator, worker_count, sizeof(pthread_t), (void**)&pool->threads);
  if (status) {
    irt_allocator_free(allocator, pool);
    return irt_status_annotate(status, "allocating %" PRIu32 " worker handles",
                               worker_count);
  }
  pool->allocator = allocator;
  pool->worker_count = worker_count;
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->work_cond, NULL);
  pthread_cond_init(&pool->job_cond, NULL);
  for (uint32_t i = 0; i < worker_count; ++i) {
    int error = irhal_cpu_pool_start_worker(pool, i);
    if (error) {
      irhal_cpu_task_pool_destroy(pool);
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "starting CPU worker thread %" PRIu32
                             " of %" PRIu32 ": %s",
                             i, worker_count, strerror(error));
    }
    pool->started_count = i + 1;
  }
  *out_pool = pool;
  return IRT_OK;
}

void irhal_cpu_task_pool_destroy(irhal_cpu_task_pool_t* pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->mutex);
  pool->stopping = true;
  pthread_cond_broadcast(&pool->work_cond);
  pthread_mutex_unlock(&pool->mutex);
  for (uint32_t i = 0; i < pool->started_count; ++i) {
    pthread_join(pool->threads[i], NULL);
  }
  pthread_cond_destroy(&pool->job_cond);
  pthread_cond_destroy(&pool->work_cond);
  pthread_mutex_destroy(&pool->mutex);
  irt_allocator_free(pool->allocator, pool->threads);
  irt_allocator_free(pool->allocator, pool);
}

uint32_t irhal_cpu_task_pool_worker_count(const irhal_cpu_task_pool_t* pool) {
  return pool->worker_count;
}

void irhal_cpu_task_pool_submit(irhal_cpu_task_pool_t* pool,
                                irhal_cpu_task_t* task) {
  task->next = NULL;
  pthread_mutex_lock(&pool->mutex);
  if (pool->task_tail) {
    pool->task_tail->next = task;
  } else {
    pool->task_head = task;
  }
  pool->task_tail = task;
  if (pool->idle_count) pthread_cond_signal(&pool->work_cond);
  pthread_mutex_unlock(&pool->mutex);
}

//===----------------------------------------------------------------------===//
// Parallel-for
//===----------------------------------------------------------------------===//

uint32_t irhal_cpu_task_pool_participant_limit(
    const irhal_cpu_task_pool_t* pool, uint64_t count) {
  // The caller is one of the worker_count threads: one more would be one
  // more than the CPUs the pool is sized for, and a participant the
  // scheduler preempts in the middle of a chunk holds up the whole range.
  uint64_t threads = pool ? pool->worker_count : 1;
  return (uint32_t)(count < threads ? count : threads);
}

irt_status_t irhal_cpu_task_pool_parallel_for(irhal_cpu_task_pool_t* pool,
                                              uint64_t count,
                                              irhal_cpu_range_fn_t fn,
                                              void* arg) {
  uint32_t limit = irhal_cpu_task_pool_participant_limit(pool, count);
  if (limit == 0) return IRT_OK;
  if (limit == 1) return fn(arg, 0, 0, count);

  uint64_t grain = count / ((uint64_t)limit * IRHAL_CPU_CHUNKS_PER_PARTICIPANT);
  if (grain == 0) grain = 1;
  // The first chunk runs on the caller before any worker is involved,
  // timed: a range whose remaining chunks would take less than a worker's
  // wake-up is finished here alone.
  int64_t start_ns = irhal_time_now_ns();
  IRT_RETURN_IF_ERROR(fn(arg, 0, 0, grain));
  uint64_t chunk_ns = (uint64_t)(irhal_time_now_ns() - start_ns);
  uint64_t rest = count - grain;
  if (rest == 0) return IRT_OK;
  if (chunk_ns * ((rest + grain - 1) / grain) < IRHAL_CPU_INLINE_RANGE_NS) {
    return fn(arg, 0, grain, rest);
  }
  irhal_cpu_job_t job = {
      .fn = fn,
      .arg = arg,
      .count = count,
      .grain = grain,
      .linked = true,
      .participant_limit = limit,
      .joined = 1,
      .running = 1,
  };
  atomic_init(&job.next_index, grain);
  atomic_init(&job.failed, false);

  pthread_mutex_lock(&pool->mutex);
  job.next = pool->jobs;
  pool->jobs = &job;
  uint32_t wakes = irhal_cpu_job_wakes(pool, &job);
  pthread_mutex_unlock(&pool->mutex);
  irhal_cpu_pool_signal(pool, wakes);

  irt_status_t status = irhal_cpu_job_work(&job, 0);

  // No new participant can join once the job is unlinked; the ones that
  // joined are running chunks and finish without waiting on anything.
  pthread_mutex_lock(&pool->mutex);
  if (job.linked) irhal_cpu_job_unlink(pool, &job);
  irhal_cpu_job_leave(pool, &job, status);
  while (job.running) pthread_cond_wait(&pool->job_cond, &pool->mutex);
  pthread_mutex_unlock(&pool->mutex);
  return job.status;
}
