// The `io_parameters` native module, version 0 (HAL spec 2): compiled
// modules load, gather and scatter parameters by (scope, key) from the
// archives of a parameter index (runtime/io/parameter_index.h). Every scope
// of the index is a provider for exactly that scope string.
//
// Archives are memory-mapped; queue reads go through HAL memory files over
// the mappings, and loads into immutable buffers import the mapped bytes
// directly when the device accepts host memory (CPU devices do, for 64-byte
// aligned data such as IRPA payloads): no copy at all.
#ifndef IRMOD_IO_PARAMETERS_IO_PARAMETERS_MODULE_H
#define IRMOD_IO_PARAMETERS_IO_PARAMETERS_MODULE_H

#include <stddef.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/io/parameter_index.h"
#include "runtime/vm/context.h"
#include "runtime/vm/module.h"

#define IRMOD_IO_PARAMETERS_MODULE_VERSION 0u

// Registers the HAL ref types with |instance| (the module's arguments and
// results are HAL objects) and creates the "io_parameters" module serving
// |index| (retained; it must not change afterwards). A NULL |index| serves
// no scope: every call fails with NOT_FOUND naming the scope.
irt_status_t irmod_io_parameters_module_create(
    irvm_instance_t* instance, irio_parameter_index_t* index,
    irt_allocator_t host_allocator, irvm_module_t** out_module) IRT_MUST_USE;

// The same over an index built from command-line values "[SCOPE=]PATH"
// (--parameters, spec 2.5), in order. Errors name the failing value.
irt_status_t irmod_io_parameters_module_create_from_flags(
    irvm_instance_t* instance, const char* const* flag_values,
    size_t flag_count, irt_allocator_t host_allocator,
    irvm_module_t** out_module) IRT_MUST_USE;

#endif  // IRMOD_IO_PARAMETERS_IO_PARAMETERS_MODULE_H
