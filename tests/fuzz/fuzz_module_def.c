// libFuzzer target for the .vmfb reading path: irvm_module_def_parse on
// arbitrary bytes, then every function of an accepted module decoded and
// disassembled, then the whole bytecode loader (type resolution and the
// verifier) with placeholder HAL types. Nothing may read out of bounds, leak
// or trip UBSan. Built with -Dfuzzing=true (clang); run it with scripts/fuzz.
#include <stddef.h>
#include <stdint.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/disassembler.h"
#include "runtime/vm/format/module_def.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/context.h"

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

static void irvm_fuzz_placeholder_destroy(void* object) { (void)object; }

// Names compiled modules mention, registered so fuzzed modules get past
// type resolution into the verifier.
static const irvm_ref_type_t irvm_fuzz_types[] = {
    {"hal.allocator", irvm_fuzz_placeholder_destroy},
    {"hal.buffer", irvm_fuzz_placeholder_destroy},
    {"hal.buffer_view", irvm_fuzz_placeholder_destroy},
    {"hal.command_buffer", irvm_fuzz_placeholder_destroy},
    {"hal.device", irvm_fuzz_placeholder_destroy},
    {"hal.executable", irvm_fuzz_placeholder_destroy},
    {"hal.fence", irvm_fuzz_placeholder_destroy},
    {"hal.file", irvm_fuzz_placeholder_destroy},
};

// Loads the module as the runtime does: verification of every function.
static void irvm_fuzz_load_and_verify(const uint8_t* data, size_t size) {
  static irvm_instance_t* instance;
  if (!instance) {
    if (irvm_instance_create(irt_allocator_system(), &instance) != IRT_OK) {
      __builtin_trap();
    }
    for (size_t i = 0; i < sizeof(irvm_fuzz_types) / sizeof(irvm_fuzz_types[0]);
         ++i) {
      if (irvm_instance_register_type(instance, &irvm_fuzz_types[i]) != IRT_OK) {
        __builtin_trap();
      }
    }
  }
  irvm_module_t* module = NULL;
  irt_status_t status = irvm_bytecode_module_create(
      instance, data, size, NULL, irt_allocator_system(), &module);
  if (status != IRT_OK) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    return;
  }
  irvm_module_release(module);
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
  irvm_fuzz_load_and_verify(data, size);
  return 0;
}
