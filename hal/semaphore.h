// Timeline semaphores (HAL spec 1.8.1): a monotonically increasing 64-bit
// payload that host threads and device queues wait on and signal.
//
// Semaphores live on the host; device queues signal them when work
// completes. Besides blocking waits they offer one-shot notifications
// ("call me when the payload reaches v or the semaphore fails"), which is how
// queues schedule work without parking a thread per pending operation.
#ifndef IRHAL_SEMAPHORE_H
#define IRHAL_SEMAPHORE_H

#include <stdint.h>

#include "hal/types.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/ref.h"

typedef struct irhal_semaphore_s irhal_semaphore_t;

extern const irvm_ref_type_t irhal_semaphore_type_descriptor;
static inline const irvm_ref_type_t* irhal_semaphore_type(void) {
  return &irhal_semaphore_type_descriptor;
}
static inline void irhal_semaphore_retain(irhal_semaphore_t* semaphore) {
  irvm_object_retain(semaphore);
}
static inline void irhal_semaphore_release(irhal_semaphore_t* semaphore) {
  irvm_object_release(semaphore, &irhal_semaphore_type_descriptor);
}

irt_status_t irhal_semaphore_create(uint64_t initial_value,
                                    irt_allocator_t host_allocator,
                                    irhal_semaphore_t** out_semaphore)
    IRT_MUST_USE;

// The current payload; on failure *out_value >= IRHAL_SEMAPHORE_FAILURE_VALUE
// and the returned status is a copy of the failure.
irt_status_t irhal_semaphore_query(irhal_semaphore_t* semaphore,
                                   uint64_t* out_value) IRT_MUST_USE;

// Advances the payload to |value|; it must be larger than the current one
// (OUT_OF_RANGE otherwise) and at most IRHAL_SEMAPHORE_MAX_VALUE. Wakes
// waiters and runs the notifications that became due.
irt_status_t irhal_semaphore_signal(irhal_semaphore_t* semaphore,
                                    uint64_t value) IRT_MUST_USE;

// Moves the semaphore to the failed state with |status| (taken over). Every
// current and future wait fails with a copy of it. Failing twice keeps the
// first failure.
void irhal_semaphore_fail(irhal_semaphore_t* semaphore, irt_status_t status);

// Blocks until the payload reaches |value|, the semaphore fails (returns a
// copy of the failure) or |deadline_ns| (CLOCK_MONOTONIC; INT64_MAX = never,
// 0 = poll) passes (DEADLINE_EXCEEDED).
irt_status_t irhal_semaphore_wait(irhal_semaphore_t* semaphore, uint64_t value,
                                  int64_t deadline_ns) IRT_MUST_USE;

// Calls |fn(user_data, status)| exactly once: when the payload reaches
// |value| (status OK) or the semaphore fails (a status the callee owns). May
// run synchronously inside this call when already due, otherwise on the
// thread that signals or fails the semaphore, always outside the
// semaphore's lock. The semaphore is retained until the callback ran. An
// error return (out of memory) means |fn| is never called.
typedef void (*irhal_semaphore_callback_t)(void* user_data,
                                           irt_status_t status);
irt_status_t irhal_semaphore_notify(irhal_semaphore_t* semaphore,
                                    uint64_t value,
                                    irhal_semaphore_callback_t fn,
                                    void* user_data) IRT_MUST_USE;

// Helpers for deadlines.
int64_t irhal_time_now_ns(void);
// Absolute deadline for a relative timeout in milliseconds (UINT32_MAX =
// infinite).
int64_t irhal_deadline_after_ms(uint32_t timeout_ms);

#endif  // IRHAL_SEMAPHORE_H
