// Executables: device code loaded from a module's rodata, with exports
// addressed by ordinal (HAL spec 1.5.9, 5, 7, 8). Each device type subclasses
// this through the vtable.
#ifndef IRHAL_EXECUTABLE_H
#define IRHAL_EXECUTABLE_H

#include "runtime/base/allocator.h"
#include "runtime/vm/ref.h"

typedef struct irhal_executable_s irhal_executable_t;
typedef struct irhal_executable_cache_entry_s irhal_executable_cache_entry_t;

typedef struct irhal_executable_vtable_s {
  void (*destroy)(irhal_executable_t* executable);
} irhal_executable_vtable_t;

struct irhal_executable_s {
  irvm_ref_object_t header;
  const irhal_executable_vtable_t* vtable;
  uint32_t export_count;
  // Per export: the number of 32-bit constants and of bindings a dispatch
  // must pass (checked when a dispatch is recorded).
  const uint16_t* export_constant_counts;
  const uint16_t* export_binding_counts;
  // The executable cache entry that names this executable (weakly), or NULL.
  // Destroying the executable removes the entry first (executable_cache.h).
  irhal_executable_cache_entry_t* cache_entry;
};

extern const irvm_ref_type_t irhal_executable_type_descriptor;
static inline const irvm_ref_type_t* irhal_executable_type(void) {
  return &irhal_executable_type_descriptor;
}
static inline irhal_executable_t* irhal_executable_deref(
    const irvm_ref_t* ref) {
  return ref->type == &irhal_executable_type_descriptor
             ? (irhal_executable_t*)ref->ptr
             : NULL;
}
static inline void irhal_executable_retain(irhal_executable_t* executable) {
  irvm_object_retain(executable);
}
static inline void irhal_executable_release(irhal_executable_t* executable) {
  irvm_object_release(executable, &irhal_executable_type_descriptor);
}

void irhal_executable_initialize(irhal_executable_t* executable,
                                 const irhal_executable_vtable_t* vtable);

#endif  // IRHAL_EXECUTABLE_H
