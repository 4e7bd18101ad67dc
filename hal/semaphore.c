#include "hal/semaphore.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

// A pending notify: runs once when |value| is reached or the semaphore
// fails. Kept in registration order.
typedef struct irhal_semaphore_notification_s {
  struct irhal_semaphore_notification_s* next;
  uint64_t value;
  irhal_semaphore_callback_t fn;
  void* user_data;
} irhal_semaphore_notification_t;

// Signal and wait take the mutex once and allocate nothing; the condition
// variable is only broadcast when a thread is blocked on it.
struct irhal_semaphore_s {
  irvm_ref_object_t header;
  irt_allocator_t host_allocator;
  pthread_mutex_t mutex;
  pthread_cond_t cond;  // on CLOCK_MONOTONIC, for absolute deadlines
  // Guarded by |mutex|.
  uint64_t value;
  irt_status_t failure;  // set once; value is then the failure value
  uint32_t waiter_count;
  irhal_semaphore_notification_t* notifications_head;
  irhal_semaphore_notification_t* notifications_tail;
};

static void irhal_semaphore_destroy(void* object) {
  irhal_semaphore_t* semaphore = object;
  // Pending notifications retain the semaphore, so none are left here.
  irt_status_free(semaphore->failure);
  pthread_cond_destroy(&semaphore->cond);
  pthread_mutex_destroy(&semaphore->mutex);
  irt_allocator_free(semaphore->host_allocator, semaphore);
}

const irvm_ref_type_t irhal_semaphore_type_descriptor = {
    .name = "hal.semaphore",
    .destroy = irhal_semaphore_destroy,
};

irt_status_t irhal_semaphore_create(uint64_t initial_value,
                                    irt_allocator_t host_allocator,
                                    irhal_semaphore_t** out_semaphore) {
  *out_semaphore = NULL;
  if (initial_value > IRHAL_SEMAPHORE_MAX_VALUE) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "semaphore initial value %" PRIu64
                           " exceeds the maximum payload %llu",
                           initial_value, IRHAL_SEMAPHORE_MAX_VALUE);
  }
  irhal_semaphore_t* semaphore = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*semaphore),
                           (void**)&semaphore),
      "allocating a semaphore");
  pthread_condattr_t attr;
  pthread_condattr_init(&attr);
  pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  int cond_error = pthread_cond_init(&semaphore->cond, &attr);
  pthread_condattr_destroy(&attr);
  if (cond_error) {
    irt_allocator_free(host_allocator, semaphore);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "creating a semaphore condition variable: %s",
                           strerror(cond_error));
  }
  pthread_mutex_init(&semaphore->mutex, NULL);
  irt_ref_count_init(&semaphore->header.count);
  semaphore->host_allocator = host_allocator;
  semaphore->value = initial_value;
  *out_semaphore = semaphore;
  return IRT_OK;
}

irt_status_t irhal_semaphore_query(irhal_semaphore_t* semaphore,
                                   uint64_t* out_value) {
  pthread_mutex_lock(&semaphore->mutex);
  *out_value = semaphore->value;
  irt_status_t status = irt_status_clone(semaphore->failure);
  pthread_mutex_unlock(&semaphore->mutex);
  return status;
}

// Moves the notifications that are due (all of them when the semaphore
// failed) out of the list, keeping their order. Called with the lock held.
static irhal_semaphore_notification_t* irhal_semaphore_take_due(
    irhal_semaphore_t* semaphore) {
  irhal_semaphore_notification_t* due_head = NULL;
  irhal_semaphore_notification_t** due_tail = &due_head;
  irhal_semaphore_notification_t** link = &semaphore->notifications_head;
  semaphore->notifications_tail = NULL;
  while (*link) {
    irhal_semaphore_notification_t* n = *link;
    if (semaphore->failure || n->value <= semaphore->value) {
      *link = n->next;
      n->next = NULL;
      *due_tail = n;
      due_tail = &n->next;
    } else {
      semaphore->notifications_tail = n;
      link = &n->next;
    }
  }
  return due_head;
}

// Runs detached notifications outside the lock: each gets OK or its own copy
// of |failure|, then drops the reference its registration took.
static void irhal_semaphore_run_notifications(
    irhal_semaphore_t* semaphore, irhal_semaphore_notification_t* list,
    irt_status_t failure) {
  while (list) {
    irhal_semaphore_notification_t* next = list->next;
    list->fn(list->user_data, irt_status_clone(failure));
    irt_allocator_free(semaphore->host_allocator, list);
    irhal_semaphore_release(semaphore);
    list = next;
  }
}

irt_status_t irhal_semaphore_signal(irhal_semaphore_t* semaphore,
                                    uint64_t value) {
  pthread_mutex_lock(&semaphore->mutex);
  if (semaphore->failure) {
    irt_status_t failure = irt_status_clone(semaphore->failure);
    pthread_mutex_unlock(&semaphore->mutex);
    return irt_status_annotate(
        failure, "signalling a failed semaphore to %" PRIu64, value);
  }
  if (value <= semaphore->value || value > IRHAL_SEMAPHORE_MAX_VALUE) {
    uint64_t current = semaphore->value;
    pthread_mutex_unlock(&semaphore->mutex);
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "semaphore signal to %" PRIu64
                           " must exceed the current payload %" PRIu64
                           " and be at most %llu",
                           value, current, IRHAL_SEMAPHORE_MAX_VALUE);
  }
  semaphore->value = value;
  if (semaphore->waiter_count) pthread_cond_broadcast(&semaphore->cond);
  irhal_semaphore_notification_t* due =
      semaphore->notifications_head ? irhal_semaphore_take_due(semaphore)
                                    : NULL;
  pthread_mutex_unlock(&semaphore->mutex);
  irhal_semaphore_run_notifications(semaphore, due, IRT_OK);
  return IRT_OK;
}

void irhal_semaphore_fail(irhal_semaphore_t* semaphore, irt_status_t status) {
  if (!status) {
    status = irt_make_status(IRT_STATUS_UNKNOWN,
                             "semaphore failed without a status");
  }
  pthread_mutex_lock(&semaphore->mutex);
  if (semaphore->failure) {
    pthread_mutex_unlock(&semaphore->mutex);
    irt_status_free(status);
    return;
  }
  semaphore->failure = status;
  semaphore->value = IRHAL_SEMAPHORE_FAILURE_VALUE;
  if (semaphore->waiter_count) pthread_cond_broadcast(&semaphore->cond);
  irhal_semaphore_notification_t* due = irhal_semaphore_take_due(semaphore);
  pthread_mutex_unlock(&semaphore->mutex);
  // The stored failure is never replaced, so reading it unlocked is safe.
  irhal_semaphore_run_notifications(semaphore, due, status);
}

irt_status_t irhal_semaphore_wait(irhal_semaphore_t* semaphore, uint64_t value,
                                  int64_t deadline_ns) {
  struct timespec deadline = {
      .tv_sec = (time_t)(deadline_ns / 1000000000),
      .tv_nsec = (long)(deadline_ns % 1000000000),
  };
  irt_status_t status = IRT_OK;
  pthread_mutex_lock(&semaphore->mutex);
  for (;;) {
    if (semaphore->failure) {
      status = irt_status_clone(semaphore->failure);
      break;
    }
    if (semaphore->value >= value) break;
    if (deadline_ns <= 0 ||
        (deadline_ns != INT64_MAX && irhal_time_now_ns() >= deadline_ns)) {
      status = irt_make_status(IRT_STATUS_DEADLINE_EXCEEDED,
                               "semaphore payload %" PRIu64
                               " did not reach %" PRIu64 " before the deadline",
                               semaphore->value, value);
      break;
    }
    ++semaphore->waiter_count;
    if (deadline_ns == INT64_MAX) {
      pthread_cond_wait(&semaphore->cond, &semaphore->mutex);
    } else {
      // ETIMEDOUT is rechecked against the clock by the loop.
      pthread_cond_timedwait(&semaphore->cond, &semaphore->mutex, &deadline);
    }
    --semaphore->waiter_count;
  }
  pthread_mutex_unlock(&semaphore->mutex);
  return status;
}

irt_status_t irhal_semaphore_notify(irhal_semaphore_t* semaphore,
                                    uint64_t value,
                                    irhal_semaphore_callback_t fn,
                                    void* user_data) {
  pthread_mutex_lock(&semaphore->mutex);
  if (semaphore->failure || semaphore->value >= value) {
    irt_status_t failure = irt_status_clone(semaphore->failure);
    pthread_mutex_unlock(&semaphore->mutex);
    fn(user_data, failure);
    return IRT_OK;
  }
  pthread_mutex_unlock(&semaphore->mutex);

  // Allocated unlocked: the allocator may be slow or take its own locks.
  irhal_semaphore_notification_t* n = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(semaphore->host_allocator, sizeof(*n), (void**)&n),
      "allocating a semaphore notification");
  n->next = NULL;
  n->value = value;
  n->fn = fn;
  n->user_data = user_data;
  irhal_semaphore_retain(semaphore);

  pthread_mutex_lock(&semaphore->mutex);
  if (semaphore->failure || semaphore->value >= value) {
    // Became due while allocating. A failure, once stored, never changes.
    irt_status_t failure = semaphore->failure;
    pthread_mutex_unlock(&semaphore->mutex);
    irhal_semaphore_run_notifications(semaphore, n, failure);
    return IRT_OK;
  }
  if (semaphore->notifications_tail) {
    semaphore->notifications_tail->next = n;
  } else {
    semaphore->notifications_head = n;
  }
  semaphore->notifications_tail = n;
  pthread_mutex_unlock(&semaphore->mutex);
  return IRT_OK;
}

int64_t irhal_time_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int64_t irhal_deadline_after_ms(uint32_t timeout_ms) {
  if (timeout_ms == UINT32_MAX) return INT64_MAX;
  if (timeout_ms == 0) return 0;
  return irhal_time_now_ns() + (int64_t)timeout_ms * 1000000;
}
