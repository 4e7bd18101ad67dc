// Modules implemented in C: a table of exports, each a name, a cconv string
// and a function that reads its arguments and writes its results through ABI
// cursors (cconv.h). Used by the `hal` and `io_parameters` modules and tests.
#ifndef IRVM_NATIVE_MODULE_H
#define IRVM_NATIVE_MODULE_H

#include "runtime/vm/cconv.h"
#include "runtime/vm/module.h"

typedef struct irvm_native_call_s {
  void* self;         // the |self| given at module creation
  void* state;        // this context's state (create_state), or NULL
  irvm_stack_t* stack;
  irvm_abi_cursor_t arguments;  // borrowed refs: retain to keep
  irvm_abi_cursor_t results;    // write owned refs (irvm_abi_write_ref_move)
} irvm_native_call_t;

typedef irt_status_t (*irvm_native_fn_t)(irvm_native_call_t* call);

typedef struct irvm_native_export_s {
  const char* name;                // without the module prefix
  const char* calling_convention;  // "0rIIiiCID_r"
  irvm_native_fn_t fn;
} irvm_native_export_t;

typedef struct irvm_native_module_desc_s {
  const char* name;
  uint32_t version;
  uint32_t export_count;
  const irvm_native_export_t* exports;
  // Optional per-context state.
  irt_status_t (*create_state)(void* self, irvm_context_t* context,
                               irt_allocator_t allocator, void** out_state);
  void (*destroy_state)(void* self, void* state);
  // Optional; called when the module is destroyed.
  void (*destroy)(void* self);
} irvm_native_module_desc_t;

// Creates a module serving |desc| (which must outlive it) with |self| handed
// to every call. Validates every export's cconv up front.
irt_status_t irvm_native_module_create(const irvm_native_module_desc_t* desc,
                                       void* self, irt_allocator_t allocator,
                                       irvm_module_t** out_module) IRT_MUST_USE;

#endif  // IRVM_NATIVE_MODULE_H
