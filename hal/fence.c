#include "hal/fence.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

typedef struct irhal_timepoint_s {
  irhal_semaphore_t* semaphore;  // retained
  uint64_t value;
} irhal_timepoint_t;

struct irhal_fence_s {
  irvm_ref_object_t header;
  irt_allocator_t host_allocator;
  uint32_t count;
  uint32_t capacity;
  irhal_timepoint_t* timepoints;
};

static void irhal_fence_destroy(void* object) {
  irhal_fence_t* fence = object;
  for (uint32_t i = 0; i < fence->count; ++i) {
    irhal_semaphore_release(fence->timepoints[i].semaphore);
  }
  irt_allocator_free(fence->host_allocator, fence->timepoints);
  irt_allocator_free(fence->host_allocator, fence);
}

const irvm_ref_type_t irhal_fence_type_descriptor = {
    .name = "hal.fence",
    .destroy = irhal_fence_destroy,
};

irt_status_t irhal_fence_create(uint32_t capacity,
                                irt_allocator_t host_allocator,
                                irhal_fence_t** out_fence) {
  *out_fence = NULL;
  irhal_fence_t* fence = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*fence), (void**)&fence),
      "allocating a fence");
  if (capacity) {
    irt_status_t status = irt_allocator_calloc_array(
        host_allocator, capacity, sizeof(irhal_timepoint_t),
        (void**)&fence->timepoints);
    if (status) {
      irt_allocator_free(host_allocator, fence);
      return irt_status_annotate(status, "allocating %" PRIu32 " timepoints",
                                 capacity);
    }
  }
  irt_ref_count_init(&fence->header.count);
  fence->host_allocator = host_allocator;
  fence->capacity = capacity;
  *out_fence = fence;
  return IRT_OK;
}

irt_status_t irhal_fence_create_single(irt_allocator_t host_allocator,
                                       irhal_fence_t** out_fence) {
  *out_fence = NULL;
  irhal_semaphore_t* semaphore = NULL;
  IRT_RETURN_IF_ERROR(irhal_semaphore_create(0, host_allocator, &semaphore));
  irhal_fence_t* fence = NULL;
  irt_status_t status = irhal_fence_create(1, host_allocator, &fence);
  if (!status) status = irhal_fence_insert(fence, semaphore, 1);
  irhal_semaphore_release(semaphore);
  if (status) {
    irhal_fence_release(fence);
    return status;
  }
  *out_fence = fence;
  return IRT_OK;
}

irt_status_t irhal_fence_insert(irhal_fence_t* fence,
                                irhal_semaphore_t* semaphore, uint64_t value) {
  for (uint32_t i = 0; i < fence->count; ++i) {
    if (fence->timepoints[i].semaphore == semaphore) {
      if (value > fence->timepoints[i].value)
        fence->timepoints[i].value = value;
      return IRT_OK;
    }
  }
  if (fence->count == fence->capacity) {
    if (fence->capacity > UINT32_MAX / 2) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "fence cannot hold more than %" PRIu32
                             " timepoints",
                             fence->capacity);
    }
    uint32_t capacity = fence->capacity ? fence->capacity * 2 : 4;
    void* timepoints = fence->timepoints;
    IRT_RETURN_IF_ERROR_CTX(
        irt_allocator_realloc(fence->host_allocator,
                              (size_t)capacity * sizeof(irhal_timepoint_t),
                              &timepoints),
        "growing a fence to %" PRIu32 " timepoints", capacity);
    fence->timepoints = timepoints;
    fence->capacity = capacity;
  }
  irhal_semaphore_retain(semaphore);
  fence->timepoints[fence->count++] = (irhal_timepoint_t){semaphore, value};
  return IRT_OK;
}

uint32_t irhal_fence_timepoint_count(const irhal_fence_t* fence) {
  return fence ? fence->count : 0;
}

void irhal_fence_timepoint(const irhal_fence_t* fence, uint32_t index,
                           irhal_semaphore_t** out_semaphore,
                           uint64_t* out_value) {
  assert(index < fence->count);
  *out_semaphore = fence->timepoints[index].semaphore;
  *out_value = fence->timepoints[index].value;
}

irt_status_t irhal_fence_join(irhal_fence_t* const* fences, uint32_t count,
                              irt_allocator_t host_allocator,
                              irhal_fence_t** out_fence) {
  *out_fence = NULL;
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i)
    total += irhal_fence_timepoint_count(fences[i]);
  if (total == 0) return IRT_OK;  // "already reached"
  // Duplicates collapse, so the total only bounds the initial capacity.
  irhal_fence_t* joined = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_fence_create(total > UINT32_MAX ? UINT32_MAX : (uint32_t)total,
                         host_allocator, &joined));
  for (uint32_t i = 0; i < count; ++i) {
    for (uint32_t j = 0; j < irhal_fence_timepoint_count(fences[i]); ++j) {
      irhal_timepoint_t* tp = &fences[i]->timepoints[j];
      irt_status_t status =
          irhal_fence_insert(joined, tp->semaphore, tp->value);
      if (status) {
        irhal_fence_release(joined);
        return status;
      }
    }
  }
  *out_fence = joined;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Query, signal, fail
//===----------------------------------------------------------------------===//

// Polls every timepoint: returns the first failure found, else OK with the
// number of pending timepoints and the index of the last one.
static irt_status_t irhal_fence_poll(irhal_fence_t* fence,
                                     uint32_t* out_pending,
                                     uint32_t* out_pending_index) {
  *out_pending = 0;
  for (uint32_t i = 0; i < irhal_fence_timepoint_count(fence); ++i) {
    uint64_t value = 0;
    IRT_RETURN_IF_ERROR(
        irhal_semaphore_query(fence->timepoints[i].semaphore, &value));
    if (value < fence->timepoints[i].value) {
      ++*out_pending;
      *out_pending_index = i;
    }
  }
  return IRT_OK;
}

irt_status_t irhal_fence_query(irhal_fence_t* fence) {
  uint32_t pending = 0;
  uint32_t index = 0;
  IRT_RETURN_IF_ERROR(irhal_fence_poll(fence, &pending, &index));
  if (pending) {
    return irt_make_status(IRT_STATUS_DEFERRED,
                           "%" PRIu32 " of %" PRIu32
                           " fence timepoints not yet reached",
                           pending, fence->count);
  }
  return IRT_OK;
}

irt_status_t irhal_fence_signal(irhal_fence_t* fence) {
  for (uint32_t i = 0; i < irhal_fence_timepoint_count(fence); ++i) {
    IRT_RETURN_IF_ERROR_CTX(
        irhal_semaphore_signal(fence->timepoints[i].semaphore,
                               fence->timepoints[i].value),
        "signalling fence timepoint %" PRIu32, i);
  }
  return IRT_OK;
}

void irhal_fence_fail(irhal_fence_t* fence, irt_status_t status) {
  for (uint32_t i = 0; i < irhal_fence_timepoint_count(fence); ++i) {
    irhal_semaphore_fail(fence->timepoints[i].semaphore,
                         irt_status_clone(status));
  }
  irt_status_free(status);
}

//===----------------------------------------------------------------------===//
// Notify and wait
//===----------------------------------------------------------------------===//

// Counts the per-semaphore callbacks down; the first failure, or the last
// success, delivers the single fence-level callback. |remaining| includes
// one guard reference held while registering, so the state cannot complete
// (and be freed) before every semaphore has been asked.
typedef struct irhal_fence_notify_state_s {
  atomic_uint remaining;
  atomic_bool delivered;
  irt_allocator_t host_allocator;
  irhal_semaphore_callback_t fn;
  void* user_data;
} irhal_fence_notify_state_t;

static void irhal_fence_notify_timepoint(void* user_data, irt_status_t status) {
  irhal_fence_notify_state_t* state = user_data;
  if (status) {
    if (!atomic_exchange(&state->delivered, true)) {
      state->fn(state->user_data, status);
    } else {
      irt_status_free(status);
    }
  }
  if (atomic_fetch_sub(&state->remaining, 1) == 1) {
    if (!atomic_exchange(&state->delivered, true)) {
      state->fn(state->user_data, IRT_OK);
    }
    irt_allocator_free(state->host_allocator, state);
  }
}

irt_status_t irhal_fence_notify(irhal_fence_t* fence,
                                irhal_semaphore_callback_t fn,
                                void* user_data) {
  uint32_t count = irhal_fence_timepoint_count(fence);
  if (count == 0) {
    fn(user_data, IRT_OK);
    return IRT_OK;
  }
  if (count == 1) {
    return irhal_semaphore_notify(fence->timepoints[0].semaphore,
                                  fence->timepoints[0].value, fn, user_data);
  }
  irhal_fence_notify_state_t* state = NULL;
  IRT_RETURN_IF_ERROR_CTX(irt_allocator_malloc(fence->host_allocator,
                                               sizeof(*state), (void**)&state),
                          "allocating a fence notification");
  atomic_init(&state->remaining, count + 1);
  atomic_init(&state->delivered, false);
  state->host_allocator = fence->host_allocator;
  state->fn = fn;
  state->user_data = user_data;
  for (uint32_t i = 0; i < count; ++i) {
    irt_status_t status = irhal_semaphore_notify(
        fence->timepoints[i].semaphore, fence->timepoints[i].value,
        irhal_fence_notify_timepoint, state);
    // Earlier registrations may already have fired, so a registration
    // failure is delivered like a semaphore failure rather than returned.
    if (status) irhal_fence_notify_timepoint(state, status);
  }
  irhal_fence_notify_timepoint(state, IRT_OK);  // drops the guard
  return IRT_OK;
}

// A host thread blocked on several semaphores at once. Reference counted
// between the waiter and the notification, which may fire after a timed-out
// waiter has left.
typedef struct irhal_fence_waiter_s {
  atomic_int references;
  irt_allocator_t host_allocator;
  pthread_mutex_t mutex;
  pthread_cond_t cond;  // on CLOCK_MONOTONIC
  bool done;
  irt_status_t status;
} irhal_fence_waiter_t;

static void irhal_fence_waiter_release(irhal_fence_waiter_t* waiter) {
  if (atomic_fetch_sub(&waiter->references, 1) != 1) return;
  irt_status_free(waiter->status);
  pthread_cond_destroy(&waiter->cond);
  pthread_mutex_destroy(&waiter->mutex);
  irt_allocator_free(waiter->host_allocator, waiter);
}

static void irhal_fence_waiter_wake(void* user_data, irt_status_t status) {
  irhal_fence_waiter_t* waiter = user_data;
  pthread_mutex_lock(&waiter->mutex);
  waiter->done = true;
  waiter->status = status;
  pthread_cond_signal(&waiter->cond);
  pthread_mutex_unlock(&waiter->mutex);
  irhal_fence_waiter_release(waiter);
}

static irt_status_t irhal_fence_wait_many(irhal_fence_t* fence,
                                          int64_t deadline_ns) {
  irhal_fence_waiter_t* waiter = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(fence->host_allocator, sizeof(*waiter),
                           (void**)&waiter),
      "allocating a fence waiter");
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int cond_error = pthread_cond_init(&waiter->cond, &attr);
  pthread_condattr_destroy(&attr);
  if (cond_error) {
    irt_allocator_free(fence->host_allocator, waiter);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "creating a fence waiter condition variable");
  }
  pthread_mutex_init(&waiter->mutex, NULL);
  atomic_init(&waiter->references, 2);
  waiter->host_allocator = fence->host_allocator;
  irt_status_t status =
      irhal_fence_notify(fence, irhal_fence_waiter_wake, waiter);
  if (status) {
    atomic_store(&waiter->references, 1);  // the notification never runs
    irhal_fence_waiter_release(waiter);
    return status;
  }
  struct timespec deadline = {
      .tv_sec = (time_t)(deadline_ns / 1000000000),
      .tv_nsec = (long)(deadline_ns % 1000000000),
  };
  pthread_mutex_lock(&waiter->mutex);
  while (!waiter->done) {
    if (deadline_ns == INT64_MAX) {
      pthread_cond_wait(&waiter->cond, &waiter->mutex);
    } else if (pthread_cond_timedwait(&waiter->cond, &waiter->mutex,
                                      &deadline) != 0 &&
               irhal_time_now_ns() >= deadline_ns) {
      break;
    }
  }
  if (waiter->done) {
    status = waiter->status;
    waiter->status = IRT_OK;
  } else {
    status = irt_make_status(IRT_STATUS_DEADLINE_EXCEEDED,
                             "fence of %" PRIu32
                             " timepoints not reached before the deadline",
                             fence->count);
  }
  pthread_mutex_unlock(&waiter->mutex);
  irhal_fence_waiter_release(waiter);
  return status;
}

irt_status_t irhal_fence_wait(irhal_fence_t* fence, int64_t deadline_ns) {
  uint32_t pending = 0;
  uint32_t index = 0;
  IRT_RETURN_IF_ERROR(irhal_fence_poll(fence, &pending, &index));
  if (pending == 0) return IRT_OK;
  if (pending == 1) {
    // The common case: one semaphore to block on, nothing to allocate.
    return irhal_semaphore_wait(fence->timepoints[index].semaphore,
                                fence->timepoints[index].value, deadline_ns);
  }
  if (deadline_ns <= 0) {
    return irt_make_status(IRT_STATUS_DEADLINE_EXCEEDED,
                           "%" PRIu32 " of %" PRIu32
                           " fence timepoints not yet reached",
                           pending, fence->count);
  }
  // Several pending: wake on whichever completes the fence or fails first.
  return irhal_fence_wait_many(fence, deadline_ns);
}
