// A fixed pool of worker threads for the local-task CPU device: a FIFO of
// tasks (queue operations whose wait fence was reached) and a parallel-for
// that splits a range (the workgroups of a dispatch) among the calling thread
// and whichever workers are idle.
//
// Idle workers sleep on a condition variable; nothing spins. A parallel-for
// wakes a couple of them, and each that joins wakes a couple more while
// work is left (a tree of wake-ups, not one thread signalling them all). A
// parallel-for never waits for work that has not started: its caller runs
// chunks itself until none are left and then only waits for the chunks
// other threads are already running. Workers may therefore call
// parallel-for from a task without any risk of the pool deadlocking on
// itself.
#ifndef IRHAL_CPU_TASK_POOL_H
#define IRHAL_CPU_TASK_POOL_H

#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// The most workers one pool runs.
#define IRHAL_CPU_TASK_POOL_MAX_WORKERS 1024

typedef struct irhal_cpu_task_pool_s irhal_cpu_task_pool_t;

// A unit of work. The submitter provides the storage (typically embedded in
// its own per-operation state), so submitting never allocates or fails. The
// pool owns |next| from submission until |fn| is called; |fn| may free the
// task.
typedef struct irhal_cpu_task_s {
  void (*fn)(void* arg);
  void* arg;
  struct irhal_cpu_task_s* next;
} irhal_cpu_task_t;

// Starts |worker_count| threads (1 .. IRHAL_CPU_TASK_POOL_MAX_WORKERS).
irt_status_t irhal_cpu_task_pool_create(
    uint32_t worker_count, irt_allocator_t allocator,
    irhal_cpu_task_pool_t** out_pool) IRT_MUST_USE;

// Runs every task still queued (including tasks those tasks submit), then
// stops and joins the workers and frees the pool. Must not be called from a
// worker, nor while another thread may still submit or run a parallel-for.
void irhal_cpu_task_pool_destroy(irhal_cpu_task_pool_t* pool);

uint32_t irhal_cpu_task_pool_worker_count(const irhal_cpu_task_pool_t* pool);

// Queues |task| (fn and arg set by the caller); a sleeping worker picks it
// up. Safe from any thread, including workers and semaphore callbacks.
void irhal_cpu_task_pool_submit(irhal_cpu_task_pool_t* pool,
                                irhal_cpu_task_t* task);

// Called for consecutive chunks [first, first + count) of a parallel-for.
// |slot| identifies the participating thread: no two threads use the same
// slot during one parallel-for, and slot < the participant limit below, so
// per-slot scratch memory needs no locking.
typedef irt_status_t (*irhal_cpu_range_fn_t)(void* arg, uint32_t slot,
                                             uint64_t first, uint64_t count);

// How many threads (the caller and workers: worker_count in all) may take
// part in a parallel-for over |count| items: 0 for an empty range, never
// more than |count|, and 1 when |pool| is NULL.
uint32_t irhal_cpu_task_pool_participant_limit(
    const irhal_cpu_task_pool_t* pool, uint64_t count);

// Calls |fn| over [0, count) in chunks, from the calling thread (slot 0) and
// idle workers, and returns once every chunk has finished. The first chunk
// runs on the caller, timed; when the rest would take less than a worker
// needs to wake up, the caller runs it too, as one more call. After the first
// failure no new chunk starts and that failure is returned (later ones are
// dropped). |pool| may be NULL: then the caller runs the whole range as one
// chunk. Callable from any thread, workers included.
irt_status_t irhal_cpu_task_pool_parallel_for(irhal_cpu_task_pool_t* pool,
                                              uint64_t count,
                                              irhal_cpu_range_fn_t fn,
                                              void* arg) IRT_MUST_USE;

#endif  // IRHAL_CPU_TASK_POOL_H
