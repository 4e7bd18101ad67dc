// Explicit allocators. Every object that owns memory takes one, so callers can
// count, limit or fail allocations (tests inject failures this way).
#ifndef IRT_BASE_ALLOCATOR_H
#define IRT_BASE_ALLOCATOR_H

#include <stddef.h>

#include "runtime/base/status.h"

typedef struct irt_allocator_vtable_s {
  // Returns |new_size| bytes preserving the first min(old, new) bytes of |ptr|
  // (NULL ptr: fresh allocation), or NULL when out of memory. Alignment is
  // that of max_align_t.
  void* (*realloc)(void* self, void* ptr, size_t new_size);
  void (*free)(void* self, void* ptr);
} irt_allocator_vtable_t;

typedef struct irt_allocator_s {
  const irt_allocator_vtable_t* vtable;
  void* self;
} irt_allocator_t;

// The C library heap.
irt_allocator_t irt_allocator_system(void);

// Allocates |size| bytes (uninitialized) into |*out_ptr|. A zero size still
// returns a unique pointer.
irt_status_t irt_allocator_malloc(irt_allocator_t allocator, size_t size,
                                  void** out_ptr) IRT_MUST_USE;
// Same, zero-filled.
irt_status_t irt_allocator_calloc(irt_allocator_t allocator, size_t size,
                                  void** out_ptr) IRT_MUST_USE;
// Allocates |count| * |element_size| zeroed bytes, failing on overflow.
irt_status_t irt_allocator_calloc_array(irt_allocator_t allocator, size_t count,
                                        size_t element_size,
                                        void** out_ptr) IRT_MUST_USE;
// Resizes |*inout_ptr| in place of realloc; on failure |*inout_ptr| is kept.
irt_status_t irt_allocator_realloc(irt_allocator_t allocator, size_t size,
                                   void** inout_ptr) IRT_MUST_USE;
void irt_allocator_free(irt_allocator_t allocator, void* ptr);

// An allocator that counts live bytes and can fail the Nth allocation;
// wraps another allocator. Used by tests to prove error paths free memory.
typedef struct irt_counting_allocator_s {
  irt_allocator_t base;
  size_t live_allocations;
  size_t total_allocations;
  size_t fail_after;  // allocations allowed before failing; SIZE_MAX = never
} irt_counting_allocator_t;

void irt_counting_allocator_init(irt_counting_allocator_t* counter,
                                 irt_allocator_t base);
irt_allocator_t irt_counting_allocator(irt_counting_allocator_t* counter);

#endif  // IRT_BASE_ALLOCATOR_H
