// The execution stack of one invocation: bump-allocated frame storage shared
// by every module the call passes through, with a hard size limit so runaway
// recursion fails with RESOURCE_EXHAUSTED instead of crashing.
#ifndef IRVM_STACK_H
#define IRVM_STACK_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

#define IRVM_STACK_DEFAULT_LIMIT (1024 * 1024)

struct irvm_stack_s {
  irt_allocator_t allocator;
  uint8_t* storage;  // one allocation of |limit| bytes, made lazily
  size_t used;
  size_t limit;
  uint32_t depth;  // frames currently pushed (all modules)
};
typedef struct irvm_stack_s irvm_stack_t;

void irvm_stack_initialize(irvm_stack_t* stack, irt_allocator_t allocator,
                           size_t limit);
void irvm_stack_deinitialize(irvm_stack_t* stack);

// Reserves |size| bytes (16-byte aligned, zero-filled). Frames are popped in
// LIFO order by restoring the mark returned in |out_mark|.
irt_status_t irvm_stack_push(irvm_stack_t* stack, size_t size, void** out_ptr,
                             size_t* out_mark) IRT_MUST_USE;
static inline void irvm_stack_pop(irvm_stack_t* stack, size_t mark) {
  stack->used = mark;
}

#endif  // IRVM_STACK_H
