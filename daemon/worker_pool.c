#include "daemon/worker_pool.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "runtime/base/math.h"

#define IREED_SCRATCH_BLOCK_SIZE (64 * 1024)

struct ireed_scratch_block_s {
  ireed_scratch_block_t* next;
  size_t capacity;
  size_t used;
  alignas(max_align_t) uint8_t data[];
};

// A worker's state follows a pointer back to its pool so that the thread
// entry needs nothing else.
typedef struct ireed_worker_slot_s {
  ireed_worker_pool_t* pool;
  pthread_t thread;
  ireed_worker_t worker;
} ireed_worker_slot_t;

struct ireed_worker_pool_s {
  irt_allocator_t allocator;
  pthread_mutex_t mutex;
  pthread_cond_t available;
  ireed_job_t* head;  // FIFO of queued jobs
  ireed_job_t* tail;
  bool stopping;
  uint32_t worker_count;  // threads started
  ireed_worker_slot_t* slots;
};

//===----------------------------------------------------------------------===//
// Scratch memory
//===----------------------------------------------------------------------===//

void* ireed_worker_scratch(ireed_worker_t* worker, size_t size) {
  size = irt_align_size(size ? size : 1, alignof(max_align_t));
  // Blocks are kept across jobs: look for room in this one or a later one.
  ireed_scratch_block_t* block = worker->current;
  while (block && block->capacity - block->used < size) {
    block = block->next;
    if (block) block->used = 0;
  }
  if (!block) {
    size_t capacity =
        size > IREED_SCRATCH_BLOCK_SIZE ? size : IREED_SCRATCH_BLOCK_SIZE;
    irt_status_t status = irt_allocator_malloc(
        worker->allocator, sizeof(*block) + capacity, (void**)&block);
    if (!irt_status_is_ok(status)) {
      irt_status_free(status);
      return NULL;
    }
    block->capacity = capacity;
    block->used = 0;
    // Appended after the current block so rewinding reaches it again.
    ireed_scratch_block_t* tail = worker->current;
    if (tail) {
      while (tail->next) tail = tail->next;
      block->next = NULL;
      tail->next = block;
    } else {
      block->next = worker->blocks;
      worker->blocks = block;
    }
  }
  worker->current = block;
  void* memory = block->data + block->used;
  block->used += size;
  memset(memory, 0, size);
  return memory;
}

void ireed_worker_initialize(ireed_worker_t* worker, uint32_t index,
                             irt_allocator_t allocator) {
  memset(worker, 0, sizeof(*worker));
  worker->index = index;
  worker->allocator = allocator;
  irvm_stack_initialize(&worker->stack, allocator, 0);
}

void ireed_worker_rewind(ireed_worker_t* worker) {
  worker->current = worker->blocks;
  if (worker->current) worker->current->used = 0;
}

void ireed_worker_deinitialize(ireed_worker_t* worker) {
  while (worker->blocks) {
    ireed_scratch_block_t* next = worker->blocks->next;
    irt_allocator_free(worker->allocator, worker->blocks);
    worker->blocks = next;
  }
  irvm_stack_deinitialize(&worker->stack);
}

//===----------------------------------------------------------------------===//
// Pool
//===----------------------------------------------------------------------===//

static void* ireed_worker_thread(void* arg) {
  ireed_worker_slot_t* slot = arg;
  ireed_worker_pool_t* pool = slot->pool;
  pthread_mutex_lock(&pool->mutex);
  for (;;) {
    while (!pool->head && !pool->stopping) {
      pthread_cond_wait(&pool->available, &pool->mutex);
    }
    ireed_job_t* job = pool->head;
    if (!job) break;  // stopping, and every queued job ran
    pool->head = job->next;
    if (!pool->head) pool->tail = NULL;
    pthread_mutex_unlock(&pool->mutex);
    job->next = NULL;
    job->run(job, &slot->worker);
    ireed_worker_rewind(&slot->worker);
    pthread_mutex_lock(&pool->mutex);
  }
  pthread_mutex_unlock(&pool->mutex);
  return NULL;
}

irt_status_t ireed_worker_pool_create(uint32_t worker_count,
                                      irt_allocator_t allocator,
                                      ireed_worker_pool_t** out_pool) {
  *out_pool = NULL;
  if (worker_count == 0) worker_count = 1;
  ireed_worker_pool_t* pool = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*pool), (void**)&pool));
  pool->allocator = allocator;
  pthread_mutex_init(&pool->mutex, NULL);
  pthread_cond_init(&pool->available, NULL);
  irt_status_t status = irt_allocator_calloc_array(
      allocator, worker_count, sizeof(*pool->slots), (void**)&pool->slots);
  for (uint32_t i = 0; i < worker_count && irt_status_is_ok(status); ++i) {
    ireed_worker_slot_t* slot = &pool->slots[i];
    slot->pool = pool;
    ireed_worker_initialize(&slot->worker, i, allocator);
    int error = pthread_create(&slot->thread, NULL, ireed_worker_thread, slot);
    if (error) {
      ireed_worker_deinitialize(&slot->worker);
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                               "cannot start worker thread %u of %u: %s", i,
                               worker_count, strerror(error));
      break;
    }
    pool->worker_count = i + 1;
  }
  if (!irt_status_is_ok(status)) {
    ireed_worker_pool_destroy(pool);
    return status;
  }
  *out_pool = pool;
  return IRT_OK;
}

void ireed_worker_pool_destroy(ireed_worker_pool_t* pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->mutex);
  pool->stopping = true;
  pthread_cond_broadcast(&pool->available);
  pthread_mutex_unlock(&pool->mutex);
  for (uint32_t i = 0; i < pool->worker_count; ++i) {
    pthread_join(pool->slots[i].thread, NULL);
    ireed_worker_deinitialize(&pool->slots[i].worker);
  }
  pthread_cond_destroy(&pool->available);
  pthread_mutex_destroy(&pool->mutex);
  irt_allocator_free(pool->allocator, pool->slots);
  irt_allocator_free(pool->allocator, pool);
}

uint32_t ireed_worker_pool_size(const ireed_worker_pool_t* pool) {
  return pool->worker_count;
}

void ireed_worker_pool_submit(ireed_worker_pool_t* pool, ireed_job_t* job) {
  job->next = NULL;
  pthread_mutex_lock(&pool->mutex);
  if (pool->tail) {
    pool->tail->next = job;
  } else {
    pool->head = job;
  }
  pool->tail = job;
  pthread_cond_signal(&pool->available);
  pthread_mutex_unlock(&pool->mutex);
}
