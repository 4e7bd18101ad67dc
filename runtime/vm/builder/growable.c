#include "runtime/vm/builder/growable.h"

#include <string.h>

#include "runtime/base/math.h"

irt_status_t irvm_growable_reserve(irvm_growable_t* g,
                                   irt_allocator_t allocator,
                                   size_t additional) {
  size_t needed = 0;
  if (!irt_add_size(g->size, additional, &needed)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "buffer size overflows (%zu + %zu bytes)", g->size,
                           additional);
  }
  if (needed <= g->capacity) return IRT_OK;
  size_t capacity = g->capacity ? g->capacity : 64;
  while (capacity < needed) {
    if (!irt_mul_size(capacity, 2, &capacity)) capacity = needed;
  }
  void* data = g->data;
  IRT_RETURN_IF_ERROR(irt_allocator_realloc(allocator, capacity, &data));
  g->data = data;
  g->capacity = capacity;
  return IRT_OK;
}

irt_status_t irvm_growable_append(irvm_growable_t* g, irt_allocator_t allocator,
                                  const void* data, size_t length,
                                  void** out_ptr) {
  if (length == 0) {  // no pointer arithmetic on a still-NULL buffer
    if (out_ptr) *out_ptr = g->data;
    return IRT_OK;
  }
  IRT_RETURN_IF_ERROR(irvm_growable_reserve(g, allocator, length));
  uint8_t* dst = g->data + g->size;
  if (data) {
    if (length) memcpy(dst, data, length);
  } else {
    memset(dst, 0, length);
  }
  g->size += length;
  if (out_ptr) *out_ptr = dst;
  return IRT_OK;
}

void irvm_growable_free(irvm_growable_t* g, irt_allocator_t allocator) {
  irt_allocator_free(allocator, g->data);
  g->data = NULL;
  g->size = 0;
  g->capacity = 0;
}
