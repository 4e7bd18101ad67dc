// The interface every module implements, bytecode or native (VM spec 9.1).
//
// A module is a reference-counted, immutable description (name, version,
// exports); each context that uses it gets its own state (globals, resolved
// imports). Calls pass ABI buffers laid out from the callee's cconv
// (cconv.h): the caller owns argument refs, the callee writes owned refs
// into the results.
#ifndef IRVM_MODULE_H
#define IRVM_MODULE_H

#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"
#include "runtime/vm/format/module_def.h"
#include "runtime/vm/ref.h"

typedef struct irvm_module_s irvm_module_t;
typedef struct irvm_context_s irvm_context_t;
typedef struct irvm_stack_s irvm_stack_t;

typedef struct irvm_export_info_s {
  irt_string_view_t name;                // local name, "simple_mul"
  irt_string_view_t calling_convention;  // "0rr_r"
  uint32_t attr_count;                   // reflection attributes
  const irvm_attr_def_t* attrs;
} irvm_export_info_t;

// A callable export of a module within a context.
typedef struct irvm_function_s {
  irvm_module_t* module;  // borrowed; the context keeps it alive
  void* module_state;
  uint32_t export_ordinal;
} irvm_function_t;

typedef struct irvm_module_vtable_s {
  void (*destroy)(irvm_module_t* module);
  irt_status_t (*export_info)(irvm_module_t* module, uint32_t ordinal,
                              irvm_export_info_t* out_info);
  // Per-context state; |*out_state| may be NULL for stateless modules.
  irt_status_t (*create_state)(irvm_module_t* module, irvm_context_t* context,
                               irt_allocator_t allocator, void** out_state);
  void (*destroy_state)(irvm_module_t* module, void* state);
  // Links the module's imports against the modules already in |context|
  // (spec 4.4 steps 3-5). NULL for modules without imports.
  irt_status_t (*resolve_imports)(irvm_module_t* module, void* state,
                                  irvm_context_t* context);
  // Runs export |ordinal| to completion.
  irt_status_t (*call)(irvm_module_t* module, void* state, uint32_t ordinal,
                       irvm_stack_t* stack, uint8_t* arguments,
                       uint8_t* results);
} irvm_module_vtable_t;

struct irvm_module_s {
  irvm_ref_object_t header;
  const irvm_module_vtable_t* vtable;
  irt_string_view_t name;
  uint32_t version;
  uint32_t export_count;
  uint32_t dependency_count;
  const irvm_dependency_def_t* dependencies;
};

// Initializes the common fields of a module implementation (ref count 1).
void irvm_module_initialize(irvm_module_t* module,
                            const irvm_module_vtable_t* vtable,
                            irt_string_view_t name, uint32_t version,
                            uint32_t export_count);

static inline void irvm_module_retain(irvm_module_t* module) {
  irvm_object_retain(module);
}
void irvm_module_release(irvm_module_t* module);

// Finds export |name|; NOT_FOUND names the module and the function.
irt_status_t irvm_module_lookup_export(irvm_module_t* module,
                                       irt_string_view_t name,
                                       uint32_t* out_ordinal);

// Calls |function| with buffers laid out from its cconv. See stack.h for the
// execution stack every invocation carries.
static inline irt_status_t irvm_function_call(const irvm_function_t* function,
                                              irvm_stack_t* stack,
                                              uint8_t* arguments,
                                              uint8_t* results) {
  return function->module->vtable->call(function->module,
                                        function->module_state,
                                        function->export_ordinal, stack,
                                        arguments, results);
}

#endif  // IRVM_MODULE_H
