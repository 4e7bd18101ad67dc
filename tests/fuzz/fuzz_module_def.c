// libFuzzer target for the .vmfb reading path: irvm_module_def_parse on
// arbitrary bytes, then every function of an accepted module decoded and
// disassembled. Nothing may read out of bounds, leak or trip UBSan. Built
// with -Dfuzzing=true (clang); run it with scripts/fuzz.
#include <stddef.h>
#include <stdint.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/disassembler.h"
#include "runtime/vm/format/module_def.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void irvm_fuzz_walk_functions(const irvm_module_def_t* def) {
  char text[512];
  for (uint32_t f = 0; f < def->function_count; ++f) {
    const irvm_function_descriptor_t* descriptor =
        &def->function_descriptors[f];
    const uint8_t* code = def->bytecode_data + descriptor->bytecode_offset;
    irvm_instruction_t instruction;
    for (uint32_t pc = 0; pc < descriptor->bytecode_length;
         pc = instruction.next_pc) {
      irt_status_t status = irvm_instruction_decode(
          code, descriptor->bytecode_length, pc, &instruction);
      if (status != IRT_OK) {
        irt_status_format_brief(status, text, sizeof(text));
        irt_status_free(status);
        break;
      }
      if (instruction.next_pc <= pc) __builtin_trap();  // would loop forever
      irvm_disassemble_instruction(def, f, &instruction, text, sizeof(text));
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  irvm_module_def_t def;
  irt_status_t status =
      irvm_module_def_parse(data, size, irt_allocator_system(), &def);
  if (status != IRT_OK) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));  // exercises the text
    irt_status_free(status);
    return 0;
  }
  irvm_fuzz_walk_functions(&def);
  for (uint32_t i = 0; i < def.export_count; ++i) {
    if (irvm_module_def_find_export(&def, def.exports[i].local_name) < 0) {
      __builtin_trap();
    }
  }
  irvm_module_def_deinit(&def);
  return 0;
}
