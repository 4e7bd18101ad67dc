// Bytecode modules: a verified `.vmfb` served through the module interface.
#ifndef IRVM_BYTECODE_MODULE_H
#define IRVM_BYTECODE_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/vm/context.h"
#include "runtime/vm/module.h"

// Called once the module no longer needs the file bytes (e.g. munmap).
typedef void (*irvm_file_release_fn_t)(void* user_data, const uint8_t* data,
                                       size_t size);

typedef struct irvm_bytecode_module_options_s {
  irvm_file_release_fn_t release;  // NULL: the caller keeps the bytes alive
  void* release_user_data;         // until the module is destroyed
} irvm_bytecode_module_options_t;

// Parses, resolves types against |instance| and verifies every function of
// the module in |data| (the whole file; kept alive by the module). Errors
// name the module, function, pc and reason. On failure the release callback
// has NOT been called: the caller still owns the bytes.
irt_status_t irvm_bytecode_module_create(
    irvm_instance_t* instance, const uint8_t* data, size_t size,
    const irvm_bytecode_module_options_t* options, irt_allocator_t allocator,
    irvm_module_t** out_module) IRT_MUST_USE;

// The parsed definition of a bytecode module (for inspection tools).
const irvm_module_def_t* irvm_bytecode_module_def(const irvm_module_t* module);

#endif  // IRVM_BYTECODE_MODULE_H
