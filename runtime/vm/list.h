// vm.list: reference-counted growable arrays with a fixed element type (VM
// spec sections 7.4 and 8.3).
//
// Three storage kinds, chosen by the element type at creation:
//  * value lists (i8..f64): packed raw values; list.get/set.* convert with
//    irvm_value_convert (value.h);
//  * ref lists (one ref type): typed refs; storing another type fails;
//  * variant lists (!vm.opaque, "list<?>"): each element is empty, a typed
//    value or a ref of any type; set.* stores a value with its own type.
//
// Each function implements one instruction's full semantics with its error
// codes: a NULL list (a null ref or a ref of another type: irvm_list_deref)
// is INVALID_ARGUMENT ("list is null"); indices are u32 and index >= size is
// OUT_OF_RANGE; using a value list for refs, a ref list for values, or a
// variant element of the other kind is FAILED_PRECONDITION. Nothing is
// allocated on a successful get or set.
#ifndef IRVM_LIST_H
#define IRVM_LIST_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/ref.h"
#include "runtime/vm/value.h"

typedef struct irvm_list_s irvm_list_t;

// A list element type: a value type, a ref type, or neither (variant).
typedef struct irvm_list_element_type_s {
  irvm_value_type_t value_type;     // value lists; NONE otherwise
  const irvm_ref_type_t* ref_type;  // ref lists; NULL otherwise
} irvm_list_element_type_t;

static inline irvm_list_element_type_t irvm_list_element_type_value(
    irvm_value_type_t type) {
  irvm_list_element_type_t element_type = {type, NULL};
  return element_type;
}
static inline irvm_list_element_type_t irvm_list_element_type_ref(
    const irvm_ref_type_t* type) {
  irvm_list_element_type_t element_type = {IRVM_VALUE_TYPE_NONE, type};
  return element_type;
}
static inline irvm_list_element_type_t irvm_list_element_type_variant(void) {
  irvm_list_element_type_t element_type = {IRVM_VALUE_TYPE_NONE, NULL};
  return element_type;
}

// One element of any list, as hosts see it: a value (value.type != NONE), a
// ref (ref.ptr != NULL, owning one reference) or empty (neither).
typedef struct irvm_variant_s {
  irvm_value_t value;
  irvm_ref_t ref;
} irvm_variant_t;

static inline irvm_variant_t irvm_variant_empty(void) {
  irvm_variant_t variant = {irvm_value_none(), {NULL, NULL}};
  return variant;
}
static inline irvm_variant_t irvm_variant_from_value(irvm_value_t value) {
  irvm_variant_t variant = {value, {NULL, NULL}};
  return variant;
}
// Takes over the reference held by |ref| (no retain).
static inline irvm_variant_t irvm_variant_from_ref(irvm_ref_t ref) {
  irvm_variant_t variant = {irvm_value_none(), ref};
  return variant;
}
static inline bool irvm_variant_is_value(const irvm_variant_t* variant) {
  return variant->value.type != IRVM_VALUE_TYPE_NONE;
}
static inline bool irvm_variant_is_ref(const irvm_variant_t* variant) {
  return variant->ref.ptr != NULL;
}
static inline bool irvm_variant_is_empty(const irvm_variant_t* variant) {
  return !irvm_variant_is_value(variant) && !irvm_variant_is_ref(variant);
}
// Releases the ref (if any); the variant becomes empty.
static inline void irvm_variant_release(irvm_variant_t* variant) {
  irvm_ref_release(&variant->ref);
  variant->value = irvm_value_none();
}

// The "vm.list" ref type (registered by the VM instance).
extern const irvm_ref_type_t irvm_list_type_descriptor;
static inline const irvm_ref_type_t* irvm_list_type(void) {
  return &irvm_list_type_descriptor;
}

// The list |ref| points to, or NULL when it is null or not a vm.list.
static inline irvm_list_t* irvm_list_deref(const irvm_ref_t* ref) {
  return ref->type == &irvm_list_type_descriptor ? (irvm_list_t*)ref->ptr
                                                 : NULL;
}

static inline void irvm_list_retain(irvm_list_t* list) {
  irvm_object_retain(list);
}
static inline void irvm_list_release(irvm_list_t* list) {
  irvm_object_release(list, &irvm_list_type_descriptor);
}

// vm.list.alloc: an empty list (one reference, owned by the caller) with
// room for at least |initial_capacity| elements. INVALID_ARGUMENT for an
// element type that is both a value and a ref type or an unknown value type.
irt_status_t irvm_list_create(irvm_list_element_type_t element_type,
                              uint32_t initial_capacity,
                              irt_allocator_t allocator,
                              irvm_list_t** out_list) IRT_MUST_USE;

// Accessors for a non-NULL list.
irvm_list_element_type_t irvm_list_element_type(const irvm_list_t* list);
uint32_t irvm_list_capacity(const irvm_list_t* list);

// vm.list.reserve: capacity >= |capacity| (never shrinks; size unchanged).
irt_status_t irvm_list_reserve(irvm_list_t* list,
                               uint32_t capacity) IRT_MUST_USE;

// vm.list.size.
irt_status_t irvm_list_size(const irvm_list_t* list,
                            uint32_t* out_size) IRT_MUST_USE;

// vm.list.resize: new elements are zero / null / empty; shrinking releases
// the refs of removed elements. Growth is amortized (capacity at least
// doubles).
irt_status_t irvm_list_resize(irvm_list_t* list, uint32_t size) IRT_MUST_USE;

// vm.list.get.*: element |index| converted to |type| (a valid value type).
irt_status_t irvm_list_get_value(const irvm_list_t* list, uint32_t index,
                                 irvm_value_type_t type,
                                 irvm_value_t* out_value) IRT_MUST_USE;

// vm.list.set.*: a value list stores |value| converted to its element type;
// a variant list stores it with its own type (releasing a ref held there).
irt_status_t irvm_list_set_value(irvm_list_t* list, uint32_t index,
                                 irvm_value_t value) IRT_MUST_USE;

#define IRVM_LIST_VALUE_ACCESSORS_(name, c_type, TYPE)                      \
  static inline irt_status_t irvm_list_get_##name(                          \
      const irvm_list_t* list, uint32_t index, c_type* out_value) {         \
    irvm_value_t value;                                                     \
    irt_status_t status =                                                   \
        irvm_list_get_value(list, index, IRVM_VALUE_TYPE_##TYPE, &value);   \
    if (status == IRT_OK) *out_value = value.name;                          \
    return status;                                                          \
  }                                                                         \
  static inline irt_status_t irvm_list_set_##name(                          \
      irvm_list_t* list, uint32_t index, c_type value) {                    \
    return irvm_list_set_value(list, index, irvm_value_make_##name(value)); \
  }

IRVM_LIST_VALUE_ACCESSORS_(i32, int32_t, I32)
IRVM_LIST_VALUE_ACCESSORS_(i64, int64_t, I64)
IRVM_LIST_VALUE_ACCESSORS_(f32, float, F32)
IRVM_LIST_VALUE_ACCESSORS_(f64, double, F64)

#undef IRVM_LIST_VALUE_ACCESSORS_

// vm.list.get.ref: *out_ref (a valid ref whose old value is released)
// becomes a new reference to element |index| if that is non-null and of
// |type|; otherwise null (a type mismatch, or a NULL |type|, is not an
// error). A value list, or a variant element holding a value, fails.
irt_status_t irvm_list_get_ref(const irvm_list_t* list, uint32_t index,
                               const irvm_ref_type_t* type,
                               irvm_ref_t* out_ref) IRT_MUST_USE;

// vm.list.set.ref: stores |ref| (null allowed) at |index|, releasing the old
// element. A ref list requires |ref| null or of its element type, else
// INVALID_ARGUMENT ("source ref type mismatch"). _retain adds a reference;
// _move takes over |ref|'s (nulling it) and leaves it untouched on failure.
irt_status_t irvm_list_set_ref_retain(irvm_list_t* list, uint32_t index,
                                      const irvm_ref_t* ref) IRT_MUST_USE;
irt_status_t irvm_list_set_ref_move(irvm_list_t* list, uint32_t index,
                                    irvm_ref_t* ref) IRT_MUST_USE;

// Element |index| as a variant, for hosts: a value list gives a value of its
// element type, a ref list a ref (or empty for null). *out_variant (a valid
// variant whose old ref is released) owns a new reference to any ref.
irt_status_t irvm_list_get_variant(const irvm_list_t* list, uint32_t index,
                                   irvm_variant_t* out_variant) IRT_MUST_USE;

// Stores |variant| at |index| (retaining its ref) with the rules of
// irvm_list_set_value (a value) or irvm_list_set_ref_retain (a ref, or empty
// as a null ref). A variant holding both is INVALID_ARGUMENT.
irt_status_t irvm_list_set_variant(irvm_list_t* list, uint32_t index,
                                   const irvm_variant_t* variant) IRT_MUST_USE;

#endif  // IRVM_LIST_H
