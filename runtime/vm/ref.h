// Typed, reference-counted object references: the values held in ref
// registers, ref globals, lists and ABI buffers.
//
// A ref is (object pointer, type descriptor); null is (NULL, NULL). Every
// object a ref can point to begins with an irvm_ref_object_t header, so
// retain/release work on any type. Types are identified by the address of
// their descriptor, registered by name with the instance (section 8.1 of the
// VM spec): "vm.buffer", "vm.list", "hal.buffer_view", ...
#ifndef IRVM_REF_H
#define IRVM_REF_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/base/ref_count.h"

typedef struct irvm_ref_type_s {
  const char* name;              // registered name without '!', "vm.buffer"
  void (*destroy)(void* object);  // called when the last reference drops
} irvm_ref_type_t;

// The header every ref-able object starts with.
typedef struct irvm_ref_object_s {
  irt_ref_count_t count;
} irvm_ref_object_t;

// 16 bytes, 8-aligned on 64-bit hosts: the RS/RA of the ABI buffers.
typedef struct irvm_ref_s {
  void* ptr;
  const irvm_ref_type_t* type;
} irvm_ref_t;

static inline irvm_ref_t irvm_ref_null(void) {
  irvm_ref_t ref = {NULL, NULL};
  return ref;
}

static inline bool irvm_ref_is_null(const irvm_ref_t* ref) {
  return ref->ptr == NULL;
}

// True when |ref| is non-null and of |type|.
static inline bool irvm_ref_is_type(const irvm_ref_t* ref,
                                    const irvm_ref_type_t* type) {
  return ref->ptr != NULL && ref->type == type;
}

// Wraps a newly created object (ref count 1) without retaining: the ref
// takes over the creator's reference.
static inline irvm_ref_t irvm_ref_wrap(void* object,
                                       const irvm_ref_type_t* type) {
  irvm_ref_t ref = {object, type};
  return ref;
}

static inline void irvm_object_retain(void* object) {
  if (object) irt_ref_count_retain(&((irvm_ref_object_t*)object)->count);
}

static inline void irvm_object_release(void* object,
                                       const irvm_ref_type_t* type) {
  if (object && irt_ref_count_release(&((irvm_ref_object_t*)object)->count)) {
    type->destroy(object);
  }
}

// Releases the reference held by |ref| (if any) and nulls it.
static inline void irvm_ref_release(irvm_ref_t* ref) {
  void* ptr = ref->ptr;
  const irvm_ref_type_t* type = ref->type;
  ref->ptr = NULL;
  ref->type = NULL;
  irvm_object_release(ptr, type);
}

// *dst = src with a new reference (src unchanged); releases what dst held.
// Safe when dst and src alias.
static inline void irvm_ref_retain_to(const irvm_ref_t* src, irvm_ref_t* dst) {
  irvm_ref_t copy = *src;
  irvm_object_retain(copy.ptr);
  irvm_ref_release(dst);
  *dst = copy;
}

// *dst = *src transferring ownership; src becomes null; releases what dst
// held. A no-op when dst == src.
static inline void irvm_ref_move_to(irvm_ref_t* src, irvm_ref_t* dst) {
  if (src == dst) return;
  irvm_ref_t moved = *src;
  src->ptr = NULL;
  src->type = NULL;
  irvm_ref_release(dst);
  *dst = moved;
}

#endif  // IRVM_REF_H
