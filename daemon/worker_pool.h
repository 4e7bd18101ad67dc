// The daemon's worker threads: a fixed pool that runs model loads and
// invocations off the event loop. Threads are created once at start-up (no
// thread per request); each keeps a VM stack and a scratch arena that its
// jobs reuse, so invocations allocate little.
//
// libuv's own thread pool (uv_queue_work) is not used: it is process-wide,
// shared with file-system requests, sized by an environment variable, and
// offers no per-thread state.
#ifndef IREED_DAEMON_WORKER_POOL_H
#define IREED_DAEMON_WORKER_POOL_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/stack.h"

typedef struct ireed_scratch_block_s ireed_scratch_block_t;

// What a job may use while it runs on a worker.
typedef struct ireed_worker_s {
  uint32_t index;  // the pool's workers from 0 up; picks a stats shard
  irt_allocator_t allocator;
  irvm_stack_t stack;  // for irsess_model_invoke
  // Scratch memory, rewound (not freed) after each job.
  ireed_scratch_block_t* blocks;
  ireed_scratch_block_t* current;
} ireed_worker_t;

// |size| zeroed bytes (max_align_t aligned) of the worker's scratch memory,
// valid until the job returns; NULL when out of memory.
void* ireed_worker_scratch(ireed_worker_t* worker, size_t size);

// A worker's state for a thread of another owner (a submission ring's):
// initialize once, rewind after each job, deinitialize at the end.
void ireed_worker_initialize(ireed_worker_t* worker, uint32_t index,
                             irt_allocator_t allocator);
void ireed_worker_rewind(ireed_worker_t* worker);
void ireed_worker_deinitialize(ireed_worker_t* worker);

typedef struct ireed_job_s ireed_job_t;
struct ireed_job_s {
  ireed_job_t* next;  // queue link (the pool's, then the owner's)
  void (*run)(ireed_job_t* job, ireed_worker_t* worker);
};

typedef struct ireed_worker_pool_s ireed_worker_pool_t;

// Starts |worker_count| threads (at least 1).
irt_status_t ireed_worker_pool_create(
    uint32_t worker_count, irt_allocator_t allocator,
    ireed_worker_pool_t** out_pool) IRT_MUST_USE;

// Runs every job already submitted, then joins the threads.
void ireed_worker_pool_destroy(ireed_worker_pool_t* pool);

uint32_t ireed_worker_pool_size(const ireed_worker_pool_t* pool);

// Queues |job| (FIFO); one worker runs job->run. Never blocks for long.
void ireed_worker_pool_submit(ireed_worker_pool_t* pool, ireed_job_t* job);

#endif  // IREED_DAEMON_WORKER_POOL_H
