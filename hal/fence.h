// Fences (HAL spec 1.8.2): a set of (semaphore, payload) timepoints with
// unique semaphores. Null fences (NULL pointers) are always reached.
#ifndef IRHAL_FENCE_H
#define IRHAL_FENCE_H

#include "hal/semaphore.h"

typedef struct irhal_fence_s irhal_fence_t;

extern const irvm_ref_type_t irhal_fence_type_descriptor;
static inline const irvm_ref_type_t* irhal_fence_type(void) {
  return &irhal_fence_type_descriptor;
}
static inline irhal_fence_t* irhal_fence_deref(const irvm_ref_t* ref) {
  return ref->type == &irhal_fence_type_descriptor ? (irhal_fence_t*)ref->ptr
                                                   : NULL;
}
static inline void irhal_fence_retain(irhal_fence_t* fence) {
  irvm_object_retain(fence);
}
static inline void irhal_fence_release(irhal_fence_t* fence) {
  irvm_object_release(fence, &irhal_fence_type_descriptor);
}

// An empty fence with room for |capacity| timepoints (it grows as needed).
irt_status_t irhal_fence_create(uint32_t capacity,
                                irt_allocator_t host_allocator,
                                irhal_fence_t** out_fence) IRT_MUST_USE;
// A fence with one timepoint: a new semaphore at 0, target 1 (fence.create).
irt_status_t irhal_fence_create_single(irt_allocator_t host_allocator,
                                       irhal_fence_t** out_fence) IRT_MUST_USE;
// Adds (semaphore, value), keeping the maximum for a repeated semaphore.
irt_status_t irhal_fence_insert(irhal_fence_t* fence,
                                irhal_semaphore_t* semaphore, uint64_t value)
    IRT_MUST_USE;
uint32_t irhal_fence_timepoint_count(const irhal_fence_t* fence);
void irhal_fence_timepoint(const irhal_fence_t* fence, uint32_t index,
                           irhal_semaphore_t** out_semaphore,
                           uint64_t* out_value);

// The union of |fences| (NULLs skipped); *out_fence is NULL when empty.
irt_status_t irhal_fence_join(irhal_fence_t* const* fences, uint32_t count,
                              irt_allocator_t host_allocator,
                              irhal_fence_t** out_fence) IRT_MUST_USE;

// OK when every timepoint is reached, DEFERRED when one is pending, or the
// failure of a failed semaphore. NULL is reached.
irt_status_t irhal_fence_query(irhal_fence_t* fence) IRT_MUST_USE;
// Signals every timepoint from the host.
irt_status_t irhal_fence_signal(irhal_fence_t* fence) IRT_MUST_USE;
// Fails every semaphore of the fence with |status| (taken over; copied per
// semaphore).
void irhal_fence_fail(irhal_fence_t* fence, irt_status_t status);
// Blocks until all of |fences| are reached (see irhal_semaphore_wait).
irt_status_t irhal_fence_wait(irhal_fence_t* fence, int64_t deadline_ns)
    IRT_MUST_USE;
// Calls |fn| once when every timepoint is reached (OK) or any semaphore
// fails (the first failure). Immediately for NULL / empty fences. An error
// return means |fn| is never called; failures after registration started
// are delivered through |fn| instead. |fence| must stay alive during the
// call (not until the callback).
irt_status_t irhal_fence_notify(irhal_fence_t* fence,
                                irhal_semaphore_callback_t fn, void* user_data)
    IRT_MUST_USE;

#endif  // IRHAL_FENCE_H
