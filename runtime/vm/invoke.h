// Calling an export from the host with variants (values and refs), the way
// tools and the daemon run a model's functions (VM spec 9.4).
#ifndef IRVM_INVOKE_H
#define IRVM_INVOKE_H

#include <stddef.h>

#include "runtime/vm/list.h"
#include "runtime/vm/module.h"
#include "runtime/vm/stack.h"

// The argument and result signature of an export, for argument checking and
// printing: the cconv fragments ("rr", "r").
irt_status_t irvm_function_signature(const irvm_function_t* function,
                                     irt_string_view_t* out_arguments,
                                     irt_string_view_t* out_results)
    IRT_MUST_USE;

// Invokes |function| with |arguments| converted to its cconv (values by the
// list conversion rules of spec 8.3; refs borrowed). On success
// |results[0..*out_result_count)| own the results (release each with
// irvm_variant_release). |stack| may be NULL (one is made for the call);
// passing a long-lived stack avoids allocating per call.
irt_status_t irvm_invoke(const irvm_function_t* function, irvm_stack_t* stack,
                         const irvm_variant_t* arguments, size_t argument_count,
                         irvm_variant_t* results, size_t result_capacity,
                         size_t* out_result_count,
                         irt_allocator_t allocator) IRT_MUST_USE;

#endif  // IRVM_INVOKE_H
