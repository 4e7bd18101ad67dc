#include "runtime/base/allocator.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void* irt_system_realloc(void* self, void* ptr, size_t new_size) {
  (void)self;
  return realloc(ptr, new_size ? new_size : 1);
}

static void irt_system_free(void* self, void* ptr) {
  (void)self;
  free(ptr);
}

static const irt_allocator_vtable_t irt_system_vtable = {
    .realloc = irt_system_realloc,
    .free = irt_system_free,
};

irt_allocator_t irt_allocator_system(void) {
  return (irt_allocator_t){&irt_system_vtable, NULL};
}

irt_status_t irt_allocator_malloc(irt_allocator_t allocator, size_t size,
                                  void** out_ptr) {
  *out_ptr = allocator.vtable->realloc(allocator.self, NULL, size);
  if (!*out_ptr) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "out of memory allocating %zu bytes", size);
  }
  return IRT_OK;
}

irt_status_t irt_allocator_calloc(irt_allocator_t allocator, size_t size,
                                  void** out_ptr) {
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(allocator, size, out_ptr));
  memset(*out_ptr, 0, size);
  return IRT_OK;
}

irt_status_t irt_allocator_calloc_array(irt_allocator_t allocator, size_t count,
                                        size_t element_size, void** out_ptr) {
  size_t size = 0;
  if (__builtin_mul_overflow(count, element_size, &size)) {
    *out_ptr = NULL;
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "array of %zu x %zu bytes overflows", count,
                           element_size);
  }
  return irt_allocator_calloc(allocator, size, out_ptr);
}

irt_status_t irt_allocator_realloc(irt_allocator_t allocator, size_t size,
                                   void** inout_ptr) {
  void* resized = allocator.vtable->realloc(allocator.self, *inout_ptr, size);
  if (!resized) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "out of memory reallocating to %zu bytes", size);
  }
  *inout_ptr = resized;
  return IRT_OK;
}

void irt_allocator_free(irt_allocator_t allocator, void* ptr) {
  if (ptr) allocator.vtable->free(allocator.self, ptr);
}

static void* irt_counting_realloc(void* self, void* ptr, size_t new_size) {
  irt_counting_allocator_t* counter = self;
  if (counter->total_allocations >= counter->fail_after) return NULL;
  void* result = counter->base.vtable->realloc(counter->base.self, ptr, new_size);
  if (result) {
    ++counter->total_allocations;
    if (!ptr) ++counter->live_allocations;
  }
  return result;
}

static void irt_counting_free(void* self, void* ptr) {
  irt_counting_allocator_t* counter = self;
  --counter->live_allocations;
  counter->base.vtable->free(counter->base.self, ptr);
}

static const irt_allocator_vtable_t irt_counting_vtable = {
    .realloc = irt_counting_realloc,
    .free = irt_counting_free,
};

void irt_counting_allocator_init(irt_counting_allocator_t* counter,
                                 irt_allocator_t base) {
  counter->base = base;
  counter->live_allocations = 0;
  counter->total_allocations = 0;
  counter->fail_after = SIZE_MAX;
}

irt_allocator_t irt_counting_allocator(irt_counting_allocator_t* counter) {
  return (irt_allocator_t){&irt_counting_vtable, counter};
}
