// Shared between the bytecode module's loader, verifier and interpreter.
#ifndef IRVM_BYTECODE_INTERNAL_H
#define IRVM_BYTECODE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/vm/buffer.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/cconv.h"
#include "runtime/vm/format/module_def.h"
#include "runtime/vm/list.h"
#include "runtime/vm/stack.h"

// What a type-table entry resolved to (spec 8.1).
typedef enum irvm_bc_type_kind_e {
  IRVM_BC_TYPE_VALUE = 0,   // i8..f64: a list element type
  IRVM_BC_TYPE_REF = 1,     // a registered ref type
  IRVM_BC_TYPE_OPAQUE = 2,  // !vm.opaque: any
} irvm_bc_type_kind_t;

typedef struct irvm_bc_type_s {
  irvm_bc_type_kind_t kind;
  irvm_value_type_t value_type;     // for VALUE
  const irvm_ref_type_t* ref_type;  // for REF
} irvm_bc_type_t;

typedef struct irvm_bc_function_s {
  const uint8_t* code;
  uint32_t code_length;
  // Bank sizes allocated per frame: pow2ceil of the declared counts (at
  // least 2 i32 cells so that an even pair always fits), so masking any
  // register ordinal keeps accesses inside the frame.
  uint32_t i32_mask;
  uint32_t ref_mask;
  size_t frame_size;  // header + banks, 16-byte aligned
  irvm_cconv_t cconv;
  irt_string_view_t name;  // the export name if exported, else ""
} irvm_bc_function_t;

typedef struct irvm_bytecode_module_s {
  irvm_module_t base;
  irt_allocator_t allocator;
  irvm_instance_t* instance;
  irvm_module_def_t def;
  irvm_bytecode_module_options_t options;
  irvm_bc_type_t* types;
  irvm_bc_function_t* functions;
  irvm_buffer_t** rodata;  // one read-only buffer aliasing each segment
} irvm_bytecode_module_t;

typedef struct irvm_bc_import_s {
  bool resolved;
  irvm_function_t function;
  irvm_cconv_t cconv;  // the exporter's
  size_t argument_size;  // for non-variadic arguments
  size_t result_size;
} irvm_bc_import_t;

typedef struct irvm_bc_state_s {
  irvm_bytecode_module_t* module;
  uint8_t* global_bytes;
  irvm_ref_t* global_refs;
  irvm_bc_import_t* imports;
} irvm_bc_state_t;

// Verifies function |ordinal| (spec 6.4).
irt_status_t irvm_bc_verify_function(const irvm_bytecode_module_t* module,
                                     uint32_t ordinal);

// Runs internal function |ordinal| to completion with ABI buffers laid out
// from its cconv.
irt_status_t irvm_bc_execute(irvm_bc_state_t* state, irvm_stack_t* stack,
                             uint32_t ordinal, const uint8_t* arguments,
                             uint8_t* results);

// "module.function" or "module@ordinal" for messages.
void irvm_bc_function_label(const irvm_bytecode_module_t* module,
                            uint32_t ordinal, char* buffer, size_t capacity);

#endif  // IRVM_BYTECODE_INTERNAL_H
