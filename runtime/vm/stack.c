#include "runtime/vm/stack.h"

#include <string.h>

#include "runtime/base/math.h"

void irvm_stack_initialize(irvm_stack_t* stack, irt_allocator_t allocator,
                           size_t limit) {
  stack->allocator = allocator;
  stack->storage = NULL;
  stack->used = 0;
  stack->limit = limit ? limit : IRVM_STACK_DEFAULT_LIMIT;
  stack->depth = 0;
}

void irvm_stack_deinitialize(irvm_stack_t* stack) {
  irt_allocator_free(stack->allocator, stack->storage);
  stack->storage = NULL;
}

irt_status_t irvm_stack_push(irvm_stack_t* stack, size_t size, void** out_ptr,
                             size_t* out_mark) {
  if (!stack->storage) {
    // One block for the whole invocation keeps frame pointers stable.
    IRT_RETURN_IF_ERROR(irt_allocator_malloc(stack->allocator, stack->limit,
                                             (void**)&stack->storage));
  }
  size_t aligned = irt_align_size(size, 16);
  if (aligned < size || aligned > stack->limit - stack->used) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "VM stack overflow (%zu bytes in use, limit %zu)",
                           stack->used, stack->limit);
  }
  *out_mark = stack->used;
  *out_ptr = stack->storage + stack->used;
  memset(*out_ptr, 0, aligned);
  stack->used += aligned;
  return IRT_OK;
}
