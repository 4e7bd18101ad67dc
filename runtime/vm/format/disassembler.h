// Human-readable listings of bytecode functions.
//
// One line per instruction, "PPPP  text" with the hex pc, for example
//   0001  %i0 = vm.const.i32 16
//   006F  vm.call.variadic @hal.buffer_view.assert(%r0, %R5, %i2, %i1, [%i6:7])
//   01A5  vm.cond_br %i0, ^01E0, ^01B4
// Registers use the notation of spec 5.1: %iN (i32 bank), %iN:M (64-bit
// pair), %rN (ref), %RN (ref with MOVE). Block markers print as "^PPPP:"
// labels, the notation branch targets use. Call operands are grouped by the
// callee's calling convention (pairs, variadic spans in [...], tuples in
// (...)) when it matches the register lists; otherwise every entry is printed
// as found. Callee, type and rodata names come from the module definition.
#ifndef IRVM_FORMAT_DISASSEMBLER_H
#define IRVM_FORMAT_DISASSEMBLER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/base/status.h"
#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/module_def.h"

// Formats |instruction| (decoded from internal function |function_ordinal|
// of |def|, whose cconv names the vm.return values) without its pc, like
// snprintf: returns the length the full text needs.
size_t irvm_disassemble_instruction(const irvm_module_def_t* def,
                                    uint32_t function_ordinal,
                                    const irvm_instruction_t* instruction,
                                    char* buffer, size_t capacity);

// Prints every instruction of internal function |function_ordinal| (<
// def->function_count) to |out|, each line prefixed by |indent|. A decoding
// error is printed as the last line and returned, annotated with the
// function.
irt_status_t irvm_disassemble_function(const irvm_module_def_t* def,
                                       uint32_t function_ordinal,
                                       const char* indent,
                                       FILE* out) IRT_MUST_USE;

// Writes the display name of function reference |function| (bit 31 set: an
// import ordinal) like snprintf: the import's full name, the export name of
// an internal function, or "module@N" for an unexported internal function.
size_t irvm_function_name(const irvm_module_def_t* def, uint32_t function,
                          char* buffer, size_t capacity);

#endif  // IRVM_FORMAT_DISASSEMBLER_H
