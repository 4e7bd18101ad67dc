// irvm_instruction_decode: hand-encoded instructions (alignment, prefixes,
// every operand shape, errors) and every function of the conformance corpus.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/module_def.h"
#include "tests/vm_format/corpus.h"

static irvm_instruction_t decode_ok(const uint8_t* code, uint32_t length,
                                    uint32_t pc) {
  irvm_instruction_t instruction;
  irt_status_t status = irvm_instruction_decode(code, length, pc, &instruction);
  if (status != IRT_OK) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("decode at pc %u failed: %s", pc, text);
  }
  return instruction;
}

static void expect_decode_error(const uint8_t* code, uint32_t length,
                                uint32_t pc, irt_status_code_t code_expected,
                                const char* needle) {
  irvm_instruction_t instruction;
  irt_status_t status = irvm_instruction_decode(code, length, pc, &instruction);
  assert_non_null(status);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t actual = irt_status_code(status);
  irt_status_free(status);
  if (!strstr(text, needle)) fail_msg("'%s' lacks '%s'", text, needle);
  assert_int_equal(actual, code_expected);
}

// Decoding any prefix of |code| shorter than |length| must fail with
// OUT_OF_RANGE, reading nothing beyond the prefix (exact-size copies).
static void expect_all_truncations_fail(const uint8_t* code, uint32_t length,
                                        uint32_t pc) {
  for (uint32_t cut = 0; cut < length; ++cut) {
    uint8_t* copy = irvm_test_copy(code, cut);
    expect_decode_error(copy, cut, pc, IRT_STATUS_OUT_OF_RANGE,
                        "bytecode data overrun at pc");
    free(copy);
  }
}

static void test_return_from_spec(void** state) {
  (void)state;
  // Spec 10.1: block marker, then vm.return [%R0].
  static const uint8_t code[] = {0x79, 0x5A, 0x01, 0x00, 0x00, 0xC0};
  irvm_instruction_t marker = decode_ok(code, sizeof(code), 0);
  assert_int_equal(marker.info->opcode, IRVM_OP_BLOCK);
  assert_int_equal(marker.operand_count, 0);
  assert_int_equal(marker.next_pc, 1);
  irvm_instruction_t ret = decode_ok(code, sizeof(code), 1);
  assert_string_equal(ret.info->mnemonic, "vm.return");
  assert_true(ret.info->flags & IRVM_OPF_TERMINATOR);
  assert_int_equal(ret.pc, 1);
  assert_int_equal(ret.next_pc, 6);
  assert_int_equal(ret.operand_count, 1);
  assert_int_equal(ret.operands[0].kind, 'L');
  assert_false(ret.operands[0].is_result);
  assert_int_equal(ret.operands[0].pc, 2);
  assert_int_equal(ret.operands[0].list.count, 1);
  uint16_t reg = irvm_operand_list_entry(&ret.operands[0], 0);
  assert_int_equal(reg, 0xC000);
  assert_true(irvm_register_is_ref(reg));
  assert_true(irvm_register_is_move(reg));
  assert_int_equal(irvm_register_ordinal(reg), 0);
  expect_all_truncations_fail(code, sizeof(code), 1);
}

static void test_list_alignment(void** state) {
  (void)state;
  // vm.return at pc 2: its count would be at odd pc 3, so a pad byte (of any
  // value) is skipped and the count sits at pc 4.
  static const uint8_t code[] = {0x79, 0x79, 0x5A, 0xEE, 0x02,
                                 0x00, 0x03, 0x00, 0x05, 0x80};
  irvm_instruction_t ret = decode_ok(code, sizeof(code), 2);
  assert_int_equal(ret.operands[0].pc, 4);
  assert_int_equal(ret.operands[0].list.count, 2);
  assert_int_equal(irvm_operand_list_entry(&ret.operands[0], 0), 3);
  assert_int_equal(irvm_operand_list_entry(&ret.operands[0], 1), 0x8005);
  assert_int_equal(ret.next_pc, 10);
  expect_all_truncations_fail(code, sizeof(code), 2);
}

static void test_immediates_and_registers(void** state) {
  (void)state;
  static const uint8_t code[] = {
      // %i6:7 = vm.const.i64 -1
      0x0F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x06, 0x00,
      // %r3 = vm.global.load.ref @gref2, type 6
      0x08, 0x02, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x03, 0x80,
      // %i1 = vm.const.i32 0x21000020
      0x0D, 0x20, 0x00, 0x00, 0x21, 0x01, 0x00};
  irvm_instruction_t insn = decode_ok(code, sizeof(code), 0);
  assert_int_equal(insn.info->opcode, IRVM_OP_CONST_I64);
  assert_int_equal(insn.operands[0].kind, 'C');
  assert_true(insn.operands[0].u64 == UINT64_MAX);
  assert_int_equal(insn.operands[1].kind, 'I');
  assert_true(insn.operands[1].is_result);
  assert_int_equal(insn.operands[1].reg, 6);
  assert_int_equal(insn.next_pc, 11);
  insn = decode_ok(code, sizeof(code), 11);
  assert_int_equal(insn.operand_count, 3);
  assert_int_equal(insn.operands[0].kind, 'G');
  assert_int_equal(insn.operands[0].u32, 2);
  assert_int_equal(insn.operands[1].kind, 't');
  assert_int_equal(insn.operands[1].u32, 6);
  assert_int_equal(insn.operands[2].kind, 'R');
  assert_int_equal(insn.operands[2].reg, 0x8003);
  assert_int_equal(insn.operands[2].pc, 20);
  assert_int_equal(insn.next_pc, 22);
  insn = decode_ok(code, sizeof(code), 22);
  assert_int_equal(insn.operands[0].u32, 0x21000020);
  assert_int_equal(insn.next_pc, sizeof(code));
  expect_all_truncations_fail(code, 22, 11);
}

static void test_extension_prefixes(void** state) {
  (void)state;
  static const uint8_t code[] = {
      0x79,
      // pc 1: %i3 = vm.add.f32 %i1, %i2
      0xE0, 0x0A, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00,
      // pc 9: %i8:9 = vm.switch.f64 %i0, %i2:3, [%i4:5, %i6:7]: the list
      // count would be at odd pc 15 (the prefix byte counts), so pad.
      0xE1, 0x09, 0x00, 0x00, 0x02, 0x00, 0x00, 0x02, 0x00, 0x04, 0x00, 0x06,
      0x00, 0x08, 0x00};
  irvm_instruction_t insn = decode_ok(code, sizeof(code), 1);
  assert_int_equal(insn.info->table, IRVM_OP_TABLE_EXT_F32);
  assert_string_equal(insn.info->mnemonic, "vm.add.f32");
  assert_int_equal(insn.pc, 1);
  assert_int_equal(insn.next_pc, 9);
  assert_int_equal(insn.operands[2].reg, 3);
  assert_true(insn.operands[2].is_result);
  insn = decode_ok(code, sizeof(code), 9);
  assert_int_equal(insn.info->table, IRVM_OP_TABLE_EXT_F64);
  assert_string_equal(insn.info->mnemonic, "vm.switch.f64");
  assert_int_equal(insn.operands[2].kind, 'K');
  assert_int_equal(insn.operands[2].pc, 16);
  assert_int_equal(insn.operands[2].list.count, 2);
  assert_int_equal(irvm_operand_list_entry(&insn.operands[2], 1), 6);
  assert_int_equal(insn.operands[3].reg, 8);
  assert_int_equal(insn.next_pc, sizeof(code));
  expect_all_truncations_fail(code, sizeof(code), 9);
}

static void test_branches(void** state) {
  (void)state;
  static const uint8_t code[] = {
      // pc 0: vm.cond_br %i1, ^0x20(%i2 -> %i3), ^0x30
      0x57, 0x01, 0x00, 0x20, 0x00, 0x00, 0x00,  // pc 3: target; pc 7 odd: pad
      0x00, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x30, 0x00, 0x00,
      0x00,  // pc 14: target; pc 18 even
      0x00, 0x00,
      // pc 20: vm.cond_break ^0x40 (compiler layout: no condition)
      0x60, 0x40, 0x00, 0x00, 0x00, 0x00 /* pad at 25 */, 0x00, 0x00};
  irvm_instruction_t insn = decode_ok(code, sizeof(code), 0);
  assert_int_equal(insn.operand_count, 3);
  const irvm_branch_t* taken = &insn.operands[1].branch;
  assert_int_equal(taken->target, 0x20);
  assert_int_equal(taken->remap_count, 1);
  uint16_t src = 0, dst = 0;
  irvm_branch_remap(taken, 0, &src, &dst);
  assert_int_equal(src, 2);
  assert_int_equal(dst, 3);
  assert_int_equal(insn.operands[2].branch.target, 0x30);
  assert_int_equal(insn.operands[2].branch.remap_count, 0);
  assert_int_equal(insn.next_pc, 20);
  expect_all_truncations_fail(code, 20, 0);
  insn = decode_ok(code, sizeof(code), 20);
  assert_string_equal(insn.info->mnemonic, "vm.cond_break");
  assert_int_equal(insn.operand_count, 1);
  assert_int_equal(insn.operands[0].branch.target, 0x40);
  assert_int_equal(insn.next_pc, sizeof(code));
}

static void test_br_table(void** state) {
  (void)state;
  static const uint8_t code[] = {
      0x83, 0x01, 0x00,                    // vm.br_table %i1
      0x10, 0x00, 0x00, 0x00, 0xAA,        // default ^0x10, pad at odd pc 7
      0x00, 0x00,                          // no remaps
      0x02, 0x00,                          // 2 cases
      0x20, 0x00, 0x00, 0x00,              // case 0: ^0x20 (pc 16 even)
      0x01, 0x00, 0x01, 0x00, 0x02, 0x00,  // (%i1 -> %i2)
      0x30, 0x00, 0x00, 0x00,              // case 1: ^0x30
      0x00, 0x00};
  irvm_instruction_t insn = decode_ok(code, sizeof(code), 0);
  assert_int_equal(insn.next_pc, sizeof(code));
  assert_int_equal(insn.operands[1].branch.target, 0x10);
  const irvm_operand_t* table = &insn.operands[2];
  assert_int_equal(table->kind, 'T');
  assert_int_equal(table->table.count, 2);
  irvm_br_table_iterator_t iterator;
  irvm_branch_t branch;
  irvm_br_table_begin(table, &iterator);
  assert_true(irvm_br_table_next(&iterator, &branch));
  assert_int_equal(branch.target, 0x20);
  assert_int_equal(branch.remap_count, 1);
  assert_true(irvm_br_table_next(&iterator, &branch));
  assert_int_equal(branch.target, 0x30);
  assert_int_equal(branch.remap_count, 0);
  assert_false(irvm_br_table_next(&iterator, &branch));
  irvm_br_table_case(table, 1, &branch);
  assert_int_equal(branch.target, 0x30);
  irvm_br_table_case(table, 0, &branch);
  uint16_t src = 0, dst = 0;
  irvm_branch_remap(&branch, 0, &src, &dst);
  assert_int_equal(src, 1);
  assert_int_equal(dst, 2);
  expect_all_truncations_fail(code, sizeof(code), 0);
}

static void test_calls_and_strings(void** state) {
  (void)state;
  static const uint8_t code[] = {
      // pc 0: %i0 = vm.call.variadic.yieldable @import16(%i5, %i10:11,
      // [%R2]) -> ^0x1E (segs -1, -1, 1)
      0x88, 0x10, 0x00, 0x00, 0x80, 0x00, 0x03, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
      0x01, 0x00, 0x03, 0x00, 0x05, 0x00, 0x0A, 0x00, 0x02, 0xC0, 0x1E, 0x00,
      0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
      // pc 30: vm.fail %i0, "ab\n"
      0x5B, 0x00, 0x00, 0x03, 0x00, 'a', 'b', '\n'};
  irvm_instruction_t insn = decode_ok(code, sizeof(code), 0);
  assert_int_equal(insn.operand_count, 5);
  assert_int_equal(insn.operands[0].u32, 0x80000010u);
  assert_int_equal(insn.operands[1].kind, 'S');
  assert_int_equal((int16_t)irvm_operand_list_entry(&insn.operands[1], 0), -1);
  assert_int_equal((int16_t)irvm_operand_list_entry(&insn.operands[1], 2), 1);
  assert_int_equal(insn.operands[2].list.count, 3);
  assert_int_equal(insn.operands[3].kind, 'b');
  assert_int_equal(insn.operands[3].branch.target, 0x1E);
  assert_int_equal(insn.operands[3].branch.remap_count, 0);
  assert_true(insn.operands[4].is_result);
  assert_int_equal(insn.operands[4].list.count, 1);
  assert_int_equal(insn.next_pc, 30);
  expect_all_truncations_fail(code, 30, 0);
  insn = decode_ok(code, sizeof(code), 30);
  assert_int_equal(insn.operands[1].kind, 's');
  assert_int_equal(insn.operands[1].string.size, 3);
  assert_memory_equal(insn.operands[1].string.data, "ab\n", 3);
  assert_int_equal(insn.next_pc, sizeof(code));
  expect_all_truncations_fail(code + 30, sizeof(code) - 30, 0);
}

static void test_errors(void** state) {
  (void)state;
  static const uint8_t reserved[] = {0x79, 0x89};
  expect_decode_error(reserved, 2, 1, IRT_STATUS_INVALID_ARGUMENT,
                      "unrecognized opcode 0x89 at pc 0x0001");
  static const uint8_t bad_prefix[] = {0xE2, 0x00};
  expect_decode_error(bad_prefix, 2, 0, IRT_STATUS_INVALID_ARGUMENT,
                      "unrecognized opcode 0xE2 at pc 0x0000");
  static const uint8_t bad_ext[] = {0xE0, 0x7F};
  expect_decode_error(bad_ext, 2, 0, IRT_STATUS_INVALID_ARGUMENT,
                      "unrecognized opcode 0xE0 0x7F at pc 0x0000");
  static const uint8_t bad_ext64[] = {0xE1, 0x40};
  expect_decode_error(bad_ext64, 2, 0, IRT_STATUS_INVALID_ARGUMENT,
                      "unrecognized opcode 0xE1 0x40");
  static const uint8_t lone_prefix[] = {0xE1};
  expect_decode_error(lone_prefix, 1, 0, IRT_STATUS_OUT_OF_RANGE,
                      "bytecode data overrun at pc 0x0000");
  static const uint8_t long_list[] = {0x5A, 0x00, 0xFF, 0xFF, 0x00, 0x00};
  expect_decode_error(long_list, sizeof(long_list), 0, IRT_STATUS_OUT_OF_RANGE,
                      "bytecode data overrun at pc 0x0000 (vm.return needs "
                      "131070 bytes at pc 0x0004");
  expect_decode_error(long_list, sizeof(long_list), 6, IRT_STATUS_OUT_OF_RANGE,
                      "bytecode data overrun at pc 0x0006");
  expect_decode_error(long_list, sizeof(long_list), UINT32_MAX,
                      IRT_STATUS_OUT_OF_RANGE, "bytecode data overrun");
  // Every byte value as an opcode, followed by zeros: decodes or fails.
  for (unsigned opcode = 0; opcode < 256; ++opcode) {
    for (unsigned second = 0; second < 256; second += 17) {
      uint8_t code[64] = {(uint8_t)opcode, (uint8_t)second};
      irvm_instruction_t insn;
      irt_status_t status =
          irvm_instruction_decode(code, sizeof(code), 0, &insn);
      if (status == IRT_OK) {
        assert_true(insn.next_pc <= sizeof(code));
      } else {
        irt_status_free(status);
      }
    }
  }
}

// Spec 10.2: the instruction pcs of simple_mul_elodin's internal function 1.
static void test_simple_mul_elodin_pcs(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  static const uint32_t expected[] = {
      0x0000, 0x0001, 0x0008, 0x000F, 0x0016, 0x001D, 0x0024, 0x002F,
      0x003A, 0x003D, 0x0048, 0x004B, 0x0052, 0x005D, 0x0068, 0x006F,
      0x008E, 0x009C, 0x00AA, 0x00B1, 0x00C6, 0x00CD, 0x00EC, 0x00FA,
      0x0110, 0x0120, 0x013E, 0x014E, 0x0186, 0x01A4, 0x01A5, 0x01B4,
      0x01B5, 0x01DA, 0x01E0, 0x01E1, 0x01E6};
  const size_t count = sizeof(expected) / sizeof(expected[0]);
  size_t size = 0;
  uint8_t* data =
      irvm_test_read_corpus_file("v3.11/simple_mul_elodin.vmfb", &size);
  irvm_module_def_t def;
  irvm_test_parse_ok(data, size, &def);
  const irvm_function_descriptor_t* descriptor = &def.function_descriptors[1];
  const uint8_t* code = def.bytecode_data + descriptor->bytecode_offset;
  uint32_t pc = 0;
  size_t index = 0;
  uint32_t blocks = 0;
  while (pc < descriptor->bytecode_length) {
    irvm_instruction_t insn = decode_ok(code, descriptor->bytecode_length, pc);
    assert_true(index < count);
    assert_int_equal(pc, expected[index++]);
    if (insn.info->opcode == IRVM_OP_BLOCK) ++blocks;
    pc = insn.next_pc;
  }
  assert_int_equal(index, count);
  assert_int_equal(pc, 0x206);
  assert_int_equal(blocks, descriptor->block_count);

  // Spot checks: the yieldable await and the conditional branch.
  irvm_instruction_t await =
      decode_ok(code, descriptor->bytecode_length, 0x186);
  assert_int_equal(await.operands[0].u32, 0x80000010u);
  assert_int_equal(await.operands[3].branch.target, 0x1A4);
  irvm_instruction_t branch =
      decode_ok(code, descriptor->bytecode_length, 0x1A5);
  assert_int_equal(branch.operands[1].branch.target, 0x1E0);
  assert_int_equal(branch.operands[2].branch.target, 0x1B4);
  irvm_module_def_deinit(&def);
  free(data);
}

// Every function of every parseable corpus module decodes exactly up to its
// bytecode_length, with as many block markers as its descriptor says.
static void test_corpus_functions_decode(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  static const char* const subdirs[] = {"v3.11", "negative"};
  uint32_t functions = 0;
  for (size_t s = 0; s < 2; ++s) {
    char** modules = irvm_test_list_modules(subdirs[s]);
    for (char** module = modules; *module; ++module) {
      size_t size = 0;
      uint8_t* data = irvm_test_read_corpus_file(*module, &size);
      irvm_module_def_t def;
      irt_status_t status =
          irvm_module_def_parse(data, size, irt_allocator_system(), &def);
      if (status != IRT_OK) {  // old bytecode versions
        irt_status_free(status);
        free(data);
        continue;
      }
      for (uint32_t f = 0; f < def.function_count; ++f, ++functions) {
        const irvm_function_descriptor_t* descriptor =
            &def.function_descriptors[f];
        const uint8_t* code = def.bytecode_data + descriptor->bytecode_offset;
        uint32_t pc = 0, blocks = 0;
        while (pc < descriptor->bytecode_length) {
          irvm_instruction_t insn =
              decode_ok(code, descriptor->bytecode_length, pc);
          if (insn.info->table == IRVM_OP_TABLE_CORE &&
              insn.info->opcode == IRVM_OP_BLOCK) {
            ++blocks;
          }
          pc = insn.next_pc;
        }
        if (pc != descriptor->bytecode_length ||
            blocks != descriptor->block_count) {
          fail_msg("%s function %u: walk ended at %u of %u, %u of %u blocks",
                   *module, f, pc, descriptor->bytecode_length, blocks,
                   descriptor->block_count);
        }
      }
      irvm_module_def_deinit(&def);
      free(data);
    }
    irvm_test_free_list(modules);
  }
  assert_true(functions >= 24);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_return_from_spec),
      cmocka_unit_test(test_list_alignment),
      cmocka_unit_test(test_immediates_and_registers),
      cmocka_unit_test(test_extension_prefixes),
      cmocka_unit_test(test_branches),
      cmocka_unit_test(test_br_table),
      cmocka_unit_test(test_calls_and_strings),
      cmocka_unit_test(test_errors),
      cmocka_unit_test(test_simple_mul_elodin_pcs),
      cmocka_unit_test(test_corpus_functions_decode),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
