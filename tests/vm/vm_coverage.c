// Opcode coverage of the interpreter tests: every module a test builds is
// decoded and its opcodes recorded; the last test asserts none is missing.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/module_def.h"
#include "tests/vm/vm_fixture.h"

static bool vm_coverage_seen[3][256];

void vm_coverage_record(const uint8_t* module_data, size_t module_size) {
  irvm_module_def_t def;
  if (!irt_status_is_ok(irvm_module_def_parse(module_data, module_size,
                                              irt_allocator_system(), &def))) {
    return;  // the loader reports it
  }
  for (uint32_t f = 0; f < def.function_count; ++f) {
    const irvm_function_descriptor_t* d = &def.function_descriptors[f];
    const uint8_t* code = def.bytecode_data + d->bytecode_offset;
    irvm_instruction_t insn;
    for (uint32_t pc = 0; pc < d->bytecode_length; pc = insn.next_pc) {
      irt_status_t status =
          irvm_instruction_decode(code, d->bytecode_length, pc, &insn);
      if (!irt_status_is_ok(status)) {
        irt_status_free(status);
        break;
      }
      vm_coverage_seen[insn.info->table][insn.info->opcode] = true;
    }
  }
  irvm_module_def_deinit(&def);
}

void vm_coverage_assert_complete(void) {
  char missing[4096] = "";
  size_t length = 0;
  for (int table = 0; table < 3; ++table) {
    for (int opcode = 0; opcode < 256; ++opcode) {
      const irvm_op_info_t* info =
          irvm_op_info((irvm_op_table_t)table, (uint8_t)opcode);
      if (!info || vm_coverage_seen[table][opcode]) continue;
      int n = snprintf(missing + length, sizeof(missing) - length, " %s",
                       info->mnemonic);
      if (n > 0 && (size_t)n < sizeof(missing) - length) length += (size_t)n;
    }
  }
  if (length) fail_msg("opcodes without an interpreter test:%s", missing);
}
