// Builder-made modules (seed_modules.h) through the reader, the decoder and
// the disassembler: every opcode of every table, every field shape, both
// containers and every kind of metadata.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/disassembler.h"
#include "runtime/vm/format/module_def.h"
#include "tests/vm_format/corpus.h"
#include "tests/vm_format/seed_modules.h"

static uint8_t* build_seed(uint32_t index, size_t* out_size) {
  uint8_t* data = NULL;
  const char* name = NULL;
  irt_status_t status = irvm_seed_module_build(index, irt_allocator_system(),
                                               &data, out_size, &name);
  if (status != IRT_OK) {
    char text[512];
    irt_status_format(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("building seed %u: %s", index, text);
  }
  // An exact-size copy so that AddressSanitizer sees any overread.
  uint8_t* copy = irvm_test_copy(data, *out_size);
  irt_allocator_free(irt_allocator_system(), data);
  return copy;
}

static size_t count_rows(irvm_op_table_t table) {
  size_t rows = 0;
  for (unsigned opcode = 0; opcode < 256; ++opcode) {
    if (irvm_op_info(table, (uint8_t)opcode)) ++rows;
  }
  return rows;
}

static void test_every_op(void** state) {
  (void)state;
  for (uint32_t index = 0; index < 2; ++index) {
    size_t size = 0;
    uint8_t* data = build_seed(index, &size);
    irvm_module_def_t def;
    irvm_test_parse_ok(data, size, &def);
    assert_int_equal(def.has_zip_header, index == 0);
    assert_int_equal(def.function_count, 3);
    bool seen[3][256];
    memset(seen, 0, sizeof(seen));
    char* text = NULL;
    size_t length = 0;
    FILE* out = open_memstream(&text, &length);
    for (uint32_t f = 0; f < def.function_count; ++f) {
      const irvm_function_descriptor_t* descriptor =
          &def.function_descriptors[f];
      const uint8_t* code = def.bytecode_data + descriptor->bytecode_offset;
      irvm_instruction_t insn;
      uint32_t pc = 0, blocks = 0;
      while (pc < descriptor->bytecode_length) {
        assert_null(irvm_instruction_decode(code, descriptor->bytecode_length,
                                            pc, &insn));
        seen[insn.info->table][insn.info->opcode] = true;
        if (insn.info->table == IRVM_OP_TABLE_CORE &&
            insn.info->opcode == IRVM_OP_BLOCK) {
          ++blocks;
        }
        pc = insn.next_pc;
      }
      assert_int_equal(pc, descriptor->bytecode_length);
      assert_int_equal(blocks, descriptor->block_count);
      assert_null(irvm_disassemble_function(&def, f, "", out));
    }
    fclose(out);
    for (int table = 0; table < 3; ++table) {
      size_t seen_count = 0;
      for (int opcode = 0; opcode < 256; ++opcode)
        seen_count += seen[table][opcode];
      assert_int_equal(seen_count, count_rows((irvm_op_table_t)table));
    }
    assert_true(def.function_descriptors[1].requirements &
                IRVM_FEATURE_EXT_F32);
    assert_true(def.function_descriptors[2].requirements &
                IRVM_FEATURE_EXT_F64);
    // A few shapes, as the disassembler prints them.
    static const char* const snippets[] = {
        "vm.br_table %i1, ^",
        "(%i1 -> %i5)",
        "vm.cond_break ^",
        "%i1 -> %i5, %R0 -> %r4)",
        "vm.print \"seed \\\"text\\\"\\x0A\", [%i1, %i2, %r0, %R1]",
        // The register lists do not follow the callee's cconv: as found.
        ("%i1, %i2, %r0, %R1 = vm.call.variadic.yieldable @seed.f(%i1, %i2, "
         "%r0, %R1) segs[-1, -1, 1] -> ^"),
        "vm.switch.f64 %i1, %i2:3, [%i6:7]",
        "vm.global.load.ref @gref1, !vm.buffer",
        "%i2:3 = vm.const.i64 0x123456789",
        "vm.const.ref.rodata @rodata0  // \"seed\"",
    };
    for (size_t i = 0; i < sizeof(snippets) / sizeof(snippets[0]); ++i) {
      if (!strstr(text, snippets[i])) fail_msg("missing: %s", snippets[i]);
    }
    free(text);
    irvm_module_def_deinit(&def);
    free(data);
  }
}

static void test_metadata(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* data = build_seed(2, &size);
  irvm_module_def_t def;
  irvm_test_parse_ok(data, size, &def);
  assert_int_equal(def.attr_count, 1);
  irt_string_view_t value;
  assert_true(irvm_attrs_lookup(def.attr_count, def.attrs, "iree.reflection.x",
                                &value));
  assert_true(irt_string_view_equal_cstring(value, "1"));
  assert_int_equal(def.dependency_count, 2);
  assert_int_equal(def.dependencies[1].flags, IRVM_FLAG_OPTIONAL);
  assert_int_equal(def.import_count, 2);
  assert_int_equal(def.imports[1].flags, IRVM_FLAG_OPTIONAL);
  assert_int_equal(def.imports[1].signature.calling_convention.size, 0);
  assert_true(def.rodata[0].is_external);
  assert_int_equal(def.rodata[0].length, 64);
  assert_int_equal(def.rodata[0].file_offset % 64, 0);
  assert_memory_equal(def.rodata[0].data,
                      "\x7F"
                      "ELF",
                      4);
  const irvm_debug_database_def_t* debug = &def.debug_database;
  assert_true(def.has_debug_database);
  assert_int_equal(debug->location_count, 4);
  assert_int_equal(debug->locations[0].kind, IRVM_LOCATION_FILE_LINE_COL);
  assert_int_equal(debug->locations[0].file_line_col.column, 7);
  assert_int_equal(debug->locations[1].kind, IRVM_LOCATION_NAME);
  assert_true(debug->locations[1].name.has_child);
  assert_int_equal(debug->locations[1].name.child_location, 0);
  assert_int_equal(debug->locations[2].kind, IRVM_LOCATION_CALL_SITE);
  assert_int_equal(debug->locations[2].call_site.callee, 1);
  assert_int_equal(debug->locations[3].kind, IRVM_LOCATION_FUSED);
  assert_int_equal(debug->locations[3].fused.count, 3);
  assert_int_equal(debug->locations[3].fused.locations[2], 2);
  assert_true(irt_string_view_equal_cstring(debug->locations[3].fused.metadata,
                                            "meta"));
  assert_int_equal(irvm_test_decode_all(&def, true), 0);
  irvm_module_def_deinit(&def);
  free(data);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_every_op),
      cmocka_unit_test(test_metadata),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
