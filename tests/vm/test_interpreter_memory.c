// Globals, constants, selects/switches, vm.buffer and vm.list instructions.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "runtime/vm/buffer.h"
#include "tests/vm/interpreter_tests.h"
#include "tests/vm/vm_fixture.h"

#define R(n) irvm_reg_i32(n)
#define P(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)
#define O(n) irvm_opnd_i32(n)
#define OP(n) irvm_opnd_i64(n)
#define OR(n) irvm_opnd_ref(n)

static irvm_module_builder_t* new_builder(const char* name) {
  irvm_module_builder_t* b = NULL;
  VM_CHECK(irvm_module_builder_create(irt_allocator_system(), name, 0, &b));
  return b;
}

// Returns the i64 result of a "0v_I"-style function.
static int64_t call_i64(vm_fixture_t* f, const char* name) {
  irvm_variant_t results[8];
  size_t result_count = 0;
  VM_CHECK(vm_fixture_call(f, name, NULL, 0, results, &result_count));
  assert_int_equal(result_count, 1);
  return results[0].value.type == IRVM_VALUE_TYPE_I64 ? results[0].value.i64
                                                      : results[0].value.i32;
}


// Calls |name| expecting failure with |code|.
static void expect_failure(vm_fixture_t* f, const char* name,
                           irt_status_code_t code) {
  irvm_variant_t results[8];
  size_t result_count = 0;
  irt_status_t status = vm_fixture_call(f, name, NULL, 0, results, &result_count);
  if (irt_status_code(status) != code) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    fail_msg("%s: expected %s, got %s (%s)", name, irt_status_code_string(code),
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

//===----------------------------------------------------------------------===//
// Globals and constants
//===----------------------------------------------------------------------===//

static void test_globals(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("globals");
  VM_CHECK(irvm_module_builder_set_module_state(b, 32, 2));
  irvm_type_t buffer_type;
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.buffer", &buffer_type));
  irvm_function_builder_t* fn = NULL;
  // prims() stores and reloads each primitive global kind and returns the
  // sum of the integer parts.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "prims", "0v_I", &fn));
  VM_CHECK(irvm_fn_const_i32(fn, R(0), 5));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_I32, irvm_opnd_global(0), O(0)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_I32, irvm_opnd_global(0), O(1)));
  VM_CHECK(irvm_fn_const_i64(fn, P(2), 1ll << 40));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_I64, irvm_opnd_global(8), OP(2)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_I64, irvm_opnd_global(8), OP(4)));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), 4));  // byte offset 4
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_INDIRECT_I32, O(6), O(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_I32, O(6), O(7)));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), 16));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_INDIRECT_I64, O(6), OP(4)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_I64, O(6), OP(8)));
  VM_CHECK(irvm_fn_const_f32(fn, R(10), 2.5f));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_F32, irvm_opnd_global(24), O(10)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_F32, irvm_opnd_global(24), O(11)));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), 28));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_INDIRECT_F32, O(6), O(11)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_F32, O(6), O(12)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F32_SI32, R(12), R(12)));  // 3
  VM_CHECK(irvm_fn_const_f64(fn, P(14), 6.0));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_F64, irvm_opnd_global(16), OP(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_F64, irvm_opnd_global(16), OP(16)));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), 8));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_INDIRECT_F64, O(6), OP(16)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_F64, O(6), OP(18)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F64_SI64, P(18), P(18)));  // 6
  // 5 + 2^40 + 3 + 6
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_S, P(20), R(7)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(20), P(20), P(8)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_S, P(22), R(12)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(20), P(20), P(22)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(20), P(20), P(18)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(20)}, 1));
  // refs() stores a new buffer into ref global 0, moves it to global 1
  // through the indirect forms and returns its length.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "refs", "0v_I", &fn));
  VM_CHECK(irvm_fn_const_i64(fn, P(0), 24));
  VM_CHECK(irvm_fn_const_i32(fn, R(2), 0));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_ALLOC, OP(0), O(2), OR(0)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_REF, irvm_opnd_global_ref(0),
                     irvm_opnd_type(buffer_type), irvm_opnd_ref_move(0)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(0),
                     irvm_opnd_type(buffer_type), OR(1)));
  VM_CHECK(irvm_fn_const_i32(fn, R(3), 1));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_INDIRECT_REF, O(3),
                     irvm_opnd_type(buffer_type), irvm_opnd_ref_move(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_REF, O(3),
                     irvm_opnd_type(buffer_type), OR(2)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LENGTH, OR(2), OP(4)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(4)}, 1));
  // bad_indirect() reads past the global storage.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "bad_indirect", "0v_i", &fn));
  VM_CHECK(irvm_fn_const_i32(fn, R(0), 30));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_INDIRECT_I32, O(0), O(1)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(1)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  assert_int_equal(call_i64(&f, "prims"), 5 + (1ll << 40) + 3 + 6);
  assert_int_equal(call_i64(&f, "refs"), 24);
  expect_failure(&f, "bad_indirect", IRT_STATUS_OUT_OF_RANGE);
  vm_fixture_free(&f);
}

static void test_select_and_switch(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("choose");
  irvm_function_builder_t* fn = NULL;
  // choose(c) = select/switch of each width; returns a packed checksum.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "choose", "0i_I", &fn));
  VM_CHECK(irvm_fn_const_i32(fn, R(1), 10));
  VM_CHECK(irvm_fn_const_i32(fn, R(2), 20));
  VM_CHECK(irvm_fn_op4(fn, IRVM_INSN_SELECT_I32, R(3), R(0), R(1), R(2)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SWITCH_I32, O(0), O(1), IRVM_LIST(R(1), R(2)),
                     O(4)));
  VM_CHECK(irvm_fn_const_i64(fn, P(6), 1ll << 40));
  VM_CHECK(irvm_fn_const_i64(fn, P(8), 1ll << 41));
  VM_CHECK(irvm_fn_op4(fn, IRVM_INSN_SELECT_I64, P(10), R(0), P(6), P(8)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SWITCH_I64, O(0), OP(6), IRVM_LIST(P(6), P(8)),
                     OP(12)));
  VM_CHECK(irvm_fn_const_f32(fn, R(14), 1.0f));
  VM_CHECK(irvm_fn_const_f32(fn, R(15), 2.0f));
  VM_CHECK(irvm_fn_op4(fn, IRVM_INSN_SELECT_F32, R(16), R(0), R(14), R(15)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SWITCH_F32, O(0), O(14), IRVM_LIST(R(14), R(15)),
                     O(17)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_F32, R(16), R(16), R(17)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F32_SI32, R(16), R(16)));
  VM_CHECK(irvm_fn_const_f64(fn, P(18), 100.0));
  VM_CHECK(irvm_fn_const_f64(fn, P(20), 200.0));
  VM_CHECK(irvm_fn_op4(fn, IRVM_INSN_SELECT_F64, P(22), R(0), P(18), P(20)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SWITCH_F64, O(0), OP(18), IRVM_LIST(P(18), P(20)),
                     OP(24)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_F64, P(22), P(22), P(24)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F64_SI64, P(22), P(22)));
  // checksum = i32s + i64s + f32s + f64s
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(3), R(3), R(4)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(3), R(3), R(16)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_S, P(26), R(3)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(26), P(26), P(10)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(26), P(26), P(12)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(26), P(26), P(22)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(26)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  irvm_variant_t results[8];
  size_t result_count = 0;
  // c = 1: select picks the first, switch index 1 picks the second.
  irvm_variant_t arg = irvm_variant_from_value(irvm_value_make_i32(1));
  VM_CHECK(vm_fixture_call(&f, "choose", &arg, 1, results, &result_count));
  assert_int_equal(results[0].value.i64,
                   (10 + 20 + 3) + (1ll << 40) + (1ll << 41) + 300);
  // c = 5: select picks the first, switch falls back to the default.
  arg = irvm_variant_from_value(irvm_value_make_i32(5));
  VM_CHECK(vm_fixture_call(&f, "choose", &arg, 1, results, &result_count));
  assert_int_equal(results[0].value.i64,
                   (10 + 10 + 2) + (1ll << 40) + (1ll << 40) + 200);
  vm_fixture_free(&f);
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

static void test_buffers(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("buffers");
  static const uint8_t rodata[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  uint32_t rodata_ordinal = 0;
  VM_CHECK(irvm_module_builder_add_rodata(b, rodata, sizeof(rodata), NULL,
                                          &rodata_ordinal));
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "roundtrip", "0v_I", &fn));
  VM_CHECK(irvm_fn_const_i64(fn, P(0), 64));
  VM_CHECK(irvm_fn_const_i32(fn, R(2), 16));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_ALLOC, OP(0), O(2), OR(0)));
  VM_CHECK(irvm_fn_const_i64(fn, P(4), 0));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), -1));
  // Element stores/loads of every width at index 1.
  VM_CHECK(irvm_fn_const_i64(fn, P(8), 1));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_I8, OR(0), OP(8), O(6)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I8_U, OR(0), OP(8), O(10)));   // 255
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I8_S, OR(0), OP(8), O(11)));   // -1
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_I16, OR(0), OP(8), O(6)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I16_U, OR(0), OP(8), O(12)));  // 65535
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I16_S, OR(0), OP(8), O(13)));  // -1
  VM_CHECK(irvm_fn_const_i32(fn, R(14), 1000));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_I32, OR(0), OP(8), O(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I32, OR(0), OP(8), O(15)));    // 1000
  VM_CHECK(irvm_fn_const_i64(fn, P(16), 1ll << 40));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_I64, OR(0), OP(8), OP(16)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I64, OR(0), OP(8), OP(18)));   // 2^40
  VM_CHECK(irvm_fn_const_f32(fn, R(20), 4.0f));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_F32, OR(0), OP(8), O(20)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_F32, OR(0), OP(8), O(21)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F32_SI32, R(21), R(21)));            // 4
  VM_CHECK(irvm_fn_const_f64(fn, P(22), 8.0));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_F64, OR(0), OP(8), OP(22)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_F64, OR(0), OP(8), OP(24)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F64_SI64, P(24), P(24)));            // 8
  // Fills: 2 elements from index 4 of each size.
  VM_CHECK(irvm_fn_const_i64(fn, P(26), 4));
  VM_CHECK(irvm_fn_const_i64(fn, P(28), 2));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_I8, OR(0), OP(26), OP(28), O(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_I16, OR(0), OP(26), OP(28), O(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_I32, OR(0), OP(26), OP(28), O(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_I64, OR(0), OP(26), OP(28), OP(16)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_F32, OR(0), OP(26), OP(28), O(20)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_FILL_F64, OR(0), OP(26), OP(28), OP(22)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I64, OR(0), OP(26), OP(30)));  // f64 8.0 bits
  // Rodata, copy, compare, clone, hash, length.
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(rodata_ordinal),
                     OR(1)));
  VM_CHECK(irvm_fn_const_i64(fn, P(32), 8));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_COPY, OR(1), OP(4), OR(0), OP(4), OP(32)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_COMPARE, OR(0), OP(4), OR(1), OP(4),
                     OP(32), O(34)));                                          // 1
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_CLONE, OR(1), OP(4), OP(32), O(2), OR(2)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_HASH, OR(2), OP(4), OP(32), OP(36)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_HASH, OR(1), OP(4), OP(32), OP(38)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_CMP_EQ_I64, R(35), P(36), P(38)));        // 1
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LENGTH, OR(2), OP(40)));            // 8
  // total = 255 + -1 + 65535 + -1 + 1000 + 2^40 + 4 + 8 + 1 + 1 + 8 and the
  // fill check (element 4 as i64 holds 8.0's bits).
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(11)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(12)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(13)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(15)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(21)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(34)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(10), R(10), R(35)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_S, P(42), R(10)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(42), P(42), P(18)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(42), P(42), P(24)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(42), P(42), P(40)));
  VM_CHECK(irvm_fn_const_i64(fn, P(44), 0x4020000000000000ll));  // 8.0
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_CMP_EQ_I64, R(46), P(30), P(44)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_U, P(44), R(46)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(42), P(42), P(44)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(0), REF(1), REF(2))));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(42)}, 1));
  // write_rodata() stores into a read-only rodata buffer.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "write_rodata", "0v_v", &fn));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(rodata_ordinal),
                     OR(0)));
  VM_CHECK(irvm_fn_const_i64(fn, P(0), 0));
  VM_CHECK(irvm_fn_const_i32(fn, R(2), 1));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_STORE_I8, OR(0), OP(0), O(2)));
  VM_CHECK(irvm_fn_return(fn, NULL, 0));
  // out_of_bounds() loads element 2 of an 8-byte buffer as i32.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "out_of_bounds", "0v_i", &fn));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(rodata_ordinal),
                     OR(0)));
  VM_CHECK(irvm_fn_const_i64(fn, P(0), 2));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I32, OR(0), OP(0), O(2)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(2)}, 1));
  // null_buffer() loads from a null ref.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "null_buffer", "0v_i", &fn));
  VM_CHECK(irvm_fn_const_i64(fn, P(0), 0));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LOAD_I32, OR(0), OP(0), O(2)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(2)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  assert_int_equal(call_i64(&f, "roundtrip"),
                   255 - 1 + 65535 - 1 + 1000 + 4 + 1 + 1 + (1ll << 40) + 8 + 8 + 1);
  expect_failure(&f, "write_rodata", IRT_STATUS_PERMISSION_DENIED);
  expect_failure(&f, "out_of_bounds", IRT_STATUS_OUT_OF_RANGE);
  expect_failure(&f, "null_buffer", IRT_STATUS_INVALID_ARGUMENT);
  vm_fixture_free(&f);
}

//===----------------------------------------------------------------------===//
// Lists
//===----------------------------------------------------------------------===//

static void test_lists(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("lists");
  irvm_type_t i32_type, buffer_type, opaque_type;
  VM_CHECK(irvm_module_builder_add_type(b, "i32", &i32_type));
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.buffer", &buffer_type));
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.opaque", &opaque_type));
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.list<?>", &(irvm_type_t){0}));
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "values", "0v_I", &fn));
  VM_CHECK(irvm_fn_const_i32(fn, R(0), 2));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(i32_type), O(0), OR(0)));
  VM_CHECK(irvm_fn_const_i32(fn, R(1), 8));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_RESERVE, OR(0), O(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_RESIZE, OR(0), O(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SIZE, OR(0), O(2)));                 // 8
  VM_CHECK(irvm_fn_const_i32(fn, R(3), 1));
  VM_CHECK(irvm_fn_const_i32(fn, R(4), -7));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SET_I32, OR(0), O(3), O(4)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_I32, OR(0), O(3), O(5)));        // -7
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_I64, OR(0), O(3), OP(6)));       // -7
  VM_CHECK(irvm_fn_const_i64(fn, P(8), (1ll << 33) + 9));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SET_I64, OR(0), O(3), OP(8)));       // truncated
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_I32, OR(0), O(3), O(10)));       // 9
  // A variant list keeps each value's own type.
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(opaque_type), O(0),
                     OR(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_RESIZE, OR(1), O(0)));
  VM_CHECK(irvm_fn_const_f32(fn, R(11), 1.5f));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SET_F32, OR(1), O(3), O(11)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_F32, OR(1), O(3), O(12)));
  VM_CHECK(irvm_fn_const_f32(fn, R(13), 2.0f));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_MUL_F32, R(12), R(12), R(13)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F32_SI32, R(12), R(12)));         // 3
  VM_CHECK(irvm_fn_const_f64(fn, P(14), 5.0));
  VM_CHECK(irvm_fn_const_i32(fn, R(16), 0));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SET_F64, OR(1), O(16), OP(14)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_F64, OR(1), O(16), OP(18)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CAST_F64_SI64, P(18), P(18)));         // 5
  // A ref list of buffers.
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(buffer_type), O(0),
                     OR(2)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_RESIZE, OR(2), O(0)));
  VM_CHECK(irvm_fn_const_i64(fn, P(20), 12));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_ALLOC, OP(20), O(16), OR(3)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_SET_REF, OR(2), O(3), irvm_opnd_ref_move(3)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_REF, OR(2), O(3),
                     irvm_opnd_type(buffer_type), OR(4)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BUFFER_LENGTH, OR(4), OP(22)));          // 12
  // total = 8 + -7 + -7 + 9 + 3 + 5 + 12
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(2), R(2), R(5)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(2), R(2), R(10)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(2), R(2), R(12)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_EXT_I32_I64_S, P(24), R(2)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(24), P(24), P(6)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(24), P(24), P(18)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(24), P(24), P(22)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(24)}, 1));
  // out_of_range() reads index 5 of an empty list.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "out_of_range", "0v_i", &fn));
  VM_CHECK(irvm_fn_const_i32(fn, R(0), 5));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(i32_type), O(0), OR(0)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_I32, OR(0), O(0), O(1)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(1)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  assert_int_equal(call_i64(&f, "values"), 8 - 7 - 7 + 9 + 3 + 5 + 12);
  expect_failure(&f, "out_of_range", IRT_STATUS_OUT_OF_RANGE);
  vm_fixture_free(&f);
}

const struct CMUnitTest interpreter_memory_tests[] = {
    cmocka_unit_test(test_globals),
    cmocka_unit_test(test_select_and_switch),
    cmocka_unit_test(test_buffers),
    cmocka_unit_test(test_lists),
};
const size_t interpreter_memory_test_count =
    sizeof(interpreter_memory_tests) / sizeof(interpreter_memory_tests[0]);
