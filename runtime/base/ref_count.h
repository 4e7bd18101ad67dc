// Atomic reference counts for objects shared across threads.
//
// Objects embed an irt_ref_count_t, start at 1 when created, and destroy
// themselves when irt_ref_count_release returns true.
#ifndef IRT_BASE_REF_COUNT_H
#define IRT_BASE_REF_COUNT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct irt_ref_count_s {
  atomic_int_fast32_t value;
} irt_ref_count_t;

static inline void irt_ref_count_init(irt_ref_count_t* count) {
  atomic_init(&count->value, 1);
}

static inline void irt_ref_count_retain(irt_ref_count_t* count) {
  // Relaxed is enough: a new reference can only be made from an existing one.
  atomic_fetch_add_explicit(&count->value, 1, memory_order_relaxed);
}

// Returns true when the last reference was dropped and the owner must be
// destroyed. The acq_rel ordering makes every write by other holders visible
// to the destroying thread.
static inline bool irt_ref_count_release(irt_ref_count_t* count) {
  return atomic_fetch_sub_explicit(&count->value, 1, memory_order_acq_rel) == 1;
}

static inline int32_t irt_ref_count_load(irt_ref_count_t* count) {
  return (int32_t)atomic_load_explicit(&count->value, memory_order_acquire);
}

#endif  // IRT_BASE_REF_COUNT_H
