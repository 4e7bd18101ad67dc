// Instances and contexts (VM spec 4.4, 4.5, 8.1).
//
// An instance holds the registry of ref types by name; it outlives every
// module and context made with it. A context is an ordered set of modules
// linked together (imports resolved by name), each with its own state; its
// modules' `__init` ran when they were registered and `__deinit` runs when
// the context is destroyed. After registration a context is read-only, so
// many threads may invoke functions of one context at once.
#ifndef IRVM_CONTEXT_H
#define IRVM_CONTEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/module.h"
#include "runtime/vm/ref.h"

typedef struct irvm_instance_s irvm_instance_t;

// Creates an instance with the VM's own types (vm.buffer, vm.list).
irt_status_t irvm_instance_create(irt_allocator_t allocator,
                                  irvm_instance_t** out_instance) IRT_MUST_USE;
void irvm_instance_destroy(irvm_instance_t* instance);
irt_allocator_t irvm_instance_allocator(const irvm_instance_t* instance);

// Registers |type| (which must outlive the instance) under type->name.
// Registering the same descriptor twice is allowed; a different descriptor
// with an existing name is ALREADY_EXISTS.
irt_status_t irvm_instance_register_type(irvm_instance_t* instance,
                                         const irvm_ref_type_t* type)
    IRT_MUST_USE;
// Returns the type registered as |name| ("hal.buffer"), or NULL.
const irvm_ref_type_t* irvm_instance_lookup_type(
    const irvm_instance_t* instance, irt_string_view_t name);

irt_status_t irvm_context_create(irvm_instance_t* instance,
                                 irt_allocator_t allocator,
                                 irvm_context_t** out_context) IRT_MUST_USE;
// Runs `__deinit` of every module in reverse order, frees their states and
// releases them.
void irvm_context_destroy(irvm_context_t* context);
irvm_instance_t* irvm_context_instance(const irvm_context_t* context);

// Adds |modules| in order (retaining each): allocates state, checks
// dependencies, links imports and runs `__init`. If any step fails, the
// modules added by this call are torn down in reverse order and the context
// is as before.
irt_status_t irvm_context_register_modules(irvm_context_t* context,
                                           irvm_module_t* const* modules,
                                           size_t module_count) IRT_MUST_USE;

// Finds export |function_name| of the most recently registered module named
// |module_name|. Returns false (no error) when there is none.
bool irvm_context_find_export(const irvm_context_t* context,
                              irt_string_view_t module_name,
                              irt_string_view_t function_name,
                              irvm_function_t* out_function);

// Resolves "module.function" (split at the first '.'), or a bare
// "function" searched in the most recently registered module.
irt_status_t irvm_context_resolve_function(const irvm_context_t* context,
                                           irt_string_view_t name,
                                           irvm_function_t* out_function)
    IRT_MUST_USE;

#endif  // IRVM_CONTEXT_H
