// The disassembler's text: the spec 10.2 listing of simple_mul_elodin and
// hand-built instructions against a hand-built module definition.
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

#include "runtime/vm/format/disassembler.h"
#include "tests/vm_format/corpus.h"

static void test_simple_mul_elodin_listing(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* data =
      irvm_test_read_corpus_file("v3.11/simple_mul_elodin.vmfb", &size);
  irvm_module_def_t def;
  irvm_test_parse_ok(data, size, &def);
  char* text = NULL;
  size_t length = 0;
  FILE* out = open_memstream(&text, &length);
  assert_non_null(out);
  assert_null(irvm_disassemble_function(&def, 1, "", out));
  fclose(out);
  static const char* const lines[] = {
      "0000  ^0000:\n",
      "0001  %i0 = vm.const.i32 16\n",
      "000F  %i2 = vm.const.i32 0x21000020\n",
      "0024  %i6:7 = vm.const.i64 4\n",
      "003A  %i10:11 = vm.const.i64.zero\n",
      "003D  %i12:13 = vm.const.i64 -1\n",
      "0048  %r2 = vm.const.ref.zero\n",
      "0052  %r3 = vm.global.load.ref @gref0, !hal.device\n",
      "0068  %r5 = vm.const.ref.rodata @rodata5  // \"input0\"\n",
      "006F  vm.call.variadic @hal.buffer_view.assert(%r0, %R5, %i2, %i1, "
      "[%i6:7])\n",
      "008E  %r5 = vm.call @hal.buffer_view.buffer(%R0)\n",
      "00FA  vm.call @hal.buffer.assert(%r7, %R6, %R0, %i8:9, %i0, %i3)\n",
      "014E  vm.call.variadic @hal.device.queue.execute.indirect(%R3, "
      "%i12:13, %R0, %r2, %R4, %i10:11, [(%R5, %i10:11, %i8:9), (%R7, "
      "%i10:11, %i8:9), (%r1, %i10:11, %i8:9)])\n",
      "0186  %i0 = vm.call.variadic.yieldable @hal.fence.await(%i5, %i10:11, "
      "[%R2]) -> ^01A4\n",
      "01A4  ^01A4:\n",
      "01A5  vm.cond_br %i0, ^01E0, ^01B4\n",
      "01DA  vm.return %R0\n",
      "01E1  vm.discard.refs %r1\n",
      "01E6  vm.fail %i0, \"failed to wait on timepoint\"\n",
  };
  for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); ++i) {
    if (!strstr(text, lines[i])) fail_msg("missing line: %s", lines[i]);
  }
  free(text);

  // __init calls internal function 0, which has no export: module@0.
  out = open_memstream(&text, &length);
  assert_null(irvm_disassemble_function(&def, 2, "  ", out));
  fclose(out);
  assert_non_null(strstr(text, "  03D3  %r1 = vm.call @module@0()\n"));
  assert_non_null(
      strstr(text,
             "vm.br ^0064(%r1 -> %r2, %i6 -> %i10, %i7 -> %i11, %i6 -> %i14, "
             "%i7 -> %i15)\n"));
  free(text);
  irvm_module_def_deinit(&def);
  free(data);
}

// A minimal definition: one import "ext.f" (0iICrD_r), one internal function
// "main" (0I_I) holding |code|.
typedef struct fake_module_s {
  irvm_module_def_t def;
  irvm_import_def_t import;
  irvm_export_def_t export;
  irvm_signature_def_t signature;
  irvm_function_descriptor_t descriptor;
  irt_string_view_t types[1];
  irvm_rodata_def_t rodata[1];
} fake_module_t;

static void fake_module_init(fake_module_t* module, const uint8_t* code,
                             uint32_t length) {
  memset(module, 0, sizeof(*module));
  irvm_module_def_t* def = &module->def;
  def->name = irt_make_cstring_view("fake");
  module->import.full_name = irt_make_cstring_view("ext.f");
  module->import.signature.calling_convention =
      irt_make_cstring_view("0iICrD_r");
  def->import_count = 1;
  def->imports = &module->import;
  module->export.local_name = irt_make_cstring_view("main");
  def->export_count = 1;
  def->exports = &module->export;
  module->signature.calling_convention = irt_make_cstring_view("0I_I");
  module->descriptor.bytecode_length = length;
  module->descriptor.block_count = 1;
  def->function_count = 1;
  def->function_signatures = &module->signature;
  def->function_descriptors = &module->descriptor;
  module->types[0] = irt_make_cstring_view("!vm.list<i32>");
  def->type_count = 1;
  def->types = module->types;
  module->rodata[0].data = (const uint8_t*)"\x01\x02";
  module->rodata[0].length = 2;
  def->rodata_count = 1;
  def->rodata = module->rodata;
  def->bytecode_data = code;
  def->bytecode_size = length;
}

static void expect_text(const fake_module_t* module, const uint8_t* code,
                        uint32_t length, uint32_t pc, const char* expected) {
  irvm_instruction_t insn;
  irt_status_t status = irvm_instruction_decode(code, length, pc, &insn);
  assert_null(status);
  char text[512];
  size_t needed =
      irvm_disassemble_instruction(&module->def, 0, &insn, text, sizeof(text));
  assert_string_equal(text, expected);
  assert_int_equal(needed, strlen(expected));
}

static void test_hand_built(void** state) {
  (void)state;
  static const uint8_t code[] = {
      // pc 0: %r1 = vm.call @ext.f(%i1, %i2:3, [%r4, %R5]): matches the cconv.
      0x59, 0x00, 0x00, 0x00, 0x80, 0x00, 0x03, 0x00, 0xFF, 0xFF, 0xFF, 0xFF,
      0x02, 0x00, 0x04, 0x00, 0x01, 0x00, 0x02, 0x00, 0x04, 0x80, 0x05, 0xC0,
      0x01, 0x00, 0x01, 0x80,
      // pc 28: vm.call @ext.f(%i1): too few operands for the cconv.
      0x58, 0x00, 0x00, 0x00, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00,
      // pc 40: vm.return %i2:3 (the function's own cconv: 0I_I).
      0x5A, 0x00, 0x01, 0x00, 0x02, 0x00,
      // pc 46: %r0 = vm.list.alloc !vm.list<i32>, %i1
      0x12, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x80,
      // pc 55: vm.br_table %i0, ^0x10, [0: ^0x20(%i1 -> %i2)]
      0x83, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x20,
      0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x02, 0x00,
      // pc 76: vm.print "a\"\x01", [%i1]
      0x5F, 0x03, 0x00, 'a', '"', 0x01, 0x01, 0x00, 0x01, 0x00,
      // pc 86: %i3 = vm.mul.f32 %i1, %i2
      0xE0, 0x0C, 0x01, 0x00, 0x02, 0x00, 0x03, 0x00,
      // pc 94: %r0 = vm.const.ref.rodata @rodata0 (binary: no comment)
      0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80,
      // pc 101: a call to an import ordinal out of range.
      0x58, 0x05, 0x00, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00};
  fake_module_t module;
  fake_module_init(&module, code, sizeof(code));
  const uint32_t length = sizeof(code);
  expect_text(&module, code, length, 0,
              "%r1 = vm.call.variadic @ext.f(%i1, %i2:3, [%r4, %R5])");
  expect_text(&module, code, length, 28, "vm.call @ext.f(%i1)");
  expect_text(&module, code, length, 40, "vm.return %i2:3");
  expect_text(&module, code, length, 46,
              "%r0 = vm.list.alloc !vm.list<i32>, %i1");
  expect_text(&module, code, length, 55,
              "vm.br_table %i0, ^0010, [0: ^0020(%i1 -> %i2)]");
  expect_text(&module, code, length, 76, "vm.print \"a\\\"\\x01\", [%i1]");
  expect_text(&module, code, length, 86, "%i3 = vm.mul.f32 %i1, %i2");
  expect_text(&module, code, length, 94, "%r0 = vm.const.ref.rodata @rodata0");
  expect_text(&module, code, length, 101, "vm.call @<import 5 out of range>()");

  // Truncated output still reports the full length.
  irvm_instruction_t insn;
  assert_null(irvm_instruction_decode(code, length, 0, &insn));
  char small[8];
  size_t needed =
      irvm_disassemble_instruction(&module.def, 0, &insn, small, sizeof(small));
  assert_int_equal(needed, strlen("%r1 = vm.call.variadic @ext.f(%i1, %i2:3, "
                                  "[%r4, %R5])"));
  assert_string_equal(small, "%r1 = v");
}

static void test_decode_error_in_listing(void** state) {
  (void)state;
  static const uint8_t code[] = {0x79, 0x0D, 0x01};
  fake_module_t module;
  fake_module_init(&module, code, sizeof(code));
  char* text = NULL;
  size_t length = 0;
  FILE* out = open_memstream(&text, &length);
  irt_status_t status = irvm_disassemble_function(&module.def, 0, "", out);
  fclose(out);
  assert_int_equal(irt_status_code(status), IRT_STATUS_OUT_OF_RANGE);
  char brief[512];
  irt_status_format_brief(status, brief, sizeof(brief));
  irt_status_free(status);
  assert_non_null(strstr(brief, "in function main (internal 0)"));
  assert_non_null(strstr(text,
                         "0000  ^0000:\n0001  <error: bytecode data "
                         "overrun at pc 0x0001"));
  free(text);
  status = irvm_disassemble_function(&module.def, 1, "", stdout);
  assert_int_equal(irt_status_consume_code(status), IRT_STATUS_OUT_OF_RANGE);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_mul_elodin_listing),
      cmocka_unit_test(test_hand_built),
      cmocka_unit_test(test_decode_error_in_listing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
