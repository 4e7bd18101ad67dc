// Control flow, calls (internal, imported, variadic, yieldable), failures
// and reference handling in the interpreter.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>

#include "runtime/vm/buffer.h"
#include "runtime/vm/native_module.h"
#include "tests/vm/interpreter_tests.h"
#include "tests/vm/vm_fixture.h"

#define R(n) irvm_reg_i32(n)
#define P(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)

static irvm_variant_t vi32(int32_t v) {
  return irvm_variant_from_value(irvm_value_make_i32(v));
}
static irvm_variant_t vi64(int64_t v) {
  return irvm_variant_from_value(irvm_value_make_i64(v));
}

static irvm_module_builder_t* new_builder(const char* name) {
  irvm_module_builder_t* b = NULL;
  VM_CHECK(irvm_module_builder_create(irt_allocator_system(), name, 0, &b));
  return b;
}

// Calls |name| and returns its single i32/i64 result.
static int64_t call_int(vm_fixture_t* f, const char* name,
                        const irvm_variant_t* args, size_t count) {
  irvm_variant_t results[8];
  size_t result_count = 0;
  VM_CHECK(vm_fixture_call(f, name, args, count, results, &result_count));
  assert_int_equal(result_count, 1);
  return results[0].value.type == IRVM_VALUE_TYPE_I64 ? results[0].value.i64
                                                      : results[0].value.i32;
}

//===----------------------------------------------------------------------===//
// Branches
//===----------------------------------------------------------------------===//

// sum(n) = 1 + ... + n with a loop whose back edge passes values through a
// remap list.
static void build_sum_loop(irvm_module_builder_t* b) {
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "sum", "0i_i", &fn));
  irvm_label_t loop, body, exit;
  VM_CHECK(irvm_fn_new_label(fn, &loop));
  VM_CHECK(irvm_fn_new_label(fn, &body));
  VM_CHECK(irvm_fn_new_label(fn, &exit));
  VM_CHECK(irvm_fn_const_i32(fn, R(1), 0));  // acc
  VM_CHECK(irvm_fn_const_i32(fn, R(2), 1));  // i
  VM_CHECK(irvm_fn_const_i32(fn, R(4), 1));
  VM_CHECK(irvm_fn_br(fn, loop));
  VM_CHECK(irvm_fn_bind_label(fn, loop));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_CMP_LT_I32_S, R(3), R(0), R(2)));
  VM_CHECK(irvm_fn_cond_br(fn, R(3), exit, body));
  VM_CHECK(irvm_fn_bind_label(fn, body));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(5), R(1), R(2)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(6), R(2), R(4)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BR,
                     IRVM_BRANCH(loop, {R(5), R(1)}, {R(6), R(2)})));
  VM_CHECK(irvm_fn_bind_label(fn, exit));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(1)}, 1));
}

// pick(i) = 10, 11 for cases 0, 1, else 99: vm.br_table.
static void build_br_table(irvm_module_builder_t* b) {
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "pick", "0i_i", &fn));
  irvm_label_t labels[3];
  for (int i = 0; i < 3; ++i) VM_CHECK(irvm_fn_new_label(fn, &labels[i]));
  irvm_branch_target_t cases[2] = {{labels[0], NULL, 0}, {labels[1], NULL, 0}};
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BR_TABLE, irvm_opnd_i32(0),
                     IRVM_GOTO(labels[2]), irvm_opnd_branch_table(cases, 2)));
  const int32_t values[3] = {10, 11, 99};
  for (int i = 0; i < 3; ++i) {
    VM_CHECK(irvm_fn_bind_label(fn, labels[i]));
    VM_CHECK(irvm_fn_const_i32(fn, R(1), values[i]));
    VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(1)}, 1));
  }
}

// debug(x) = x through vm.break, vm.cond_break and vm.yield, which all
// continue at their target.
static void build_debug_branches(irvm_module_builder_t* b) {
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "debug", "0i_i", &fn));
  irvm_label_t l1, l2, l3;
  VM_CHECK(irvm_fn_new_label(fn, &l1));
  VM_CHECK(irvm_fn_new_label(fn, &l2));
  VM_CHECK(irvm_fn_new_label(fn, &l3));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_BREAK, IRVM_BRANCH(l1, {R(0), R(1)})));
  VM_CHECK(irvm_fn_bind_label(fn, l1));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_COND_BREAK, IRVM_GOTO(l2)));
  VM_CHECK(irvm_fn_bind_label(fn, l2));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_YIELD, IRVM_BRANCH(l3, {R(1), R(2)})));
  VM_CHECK(irvm_fn_bind_label(fn, l3));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_TRACE, irvm_opnd_string("event"),
                     IRVM_LIST(R(2))));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_PRINT, irvm_opnd_string("value"),
                     IRVM_LIST(R(2))));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(2)}, 1));
}

static void test_branches(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("flow");
  build_sum_loop(b);
  build_br_table(b);
  build_debug_branches(b);
  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  irvm_variant_t arg = vi32(100);
  assert_int_equal(call_int(&f, "sum", &arg, 1), 5050);
  const int32_t picks[][2] = {{0, 10}, {1, 11}, {2, 99}, {-1, 99}};
  for (size_t i = 0; i < 4; ++i) {
    arg = vi32(picks[i][0]);
    assert_int_equal(call_int(&f, "pick", &arg, 1), picks[i][1]);
  }
  arg = vi32(42);
  assert_int_equal(call_int(&f, "debug", &arg, 1), 42);
  vm_fixture_free(&f);
}

//===----------------------------------------------------------------------===//
// Internal calls
//===----------------------------------------------------------------------===//

static void test_internal_calls_pass_64_bit_values(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("calls");
  // callee(i32 a, i64 b, i32 c) -> i64: b + a + c; a lands in %i0, b in
  // the pair %i2:3 (aligned), c in %i4 (spec 5.3).
  irvm_function_builder_t* callee = NULL;
  VM_CHECK(irvm_module_builder_begin_function(b, "0iIi_I", &callee));
  VM_CHECK(irvm_fn_op2(callee, IRVM_INSN_EXT_I32_I64_S, P(6), R(0)));
  VM_CHECK(irvm_fn_op3(callee, IRVM_INSN_ADD_I64, P(6), P(6), P(2)));
  VM_CHECK(irvm_fn_op2(callee, IRVM_INSN_EXT_I32_I64_U, P(8), R(4)));
  VM_CHECK(irvm_fn_op3(callee, IRVM_INSN_ADD_I64, P(6), P(6), P(8)));
  VM_CHECK(irvm_fn_return(callee, (irvm_reg_t[]){P(6)}, 1));
  uint32_t callee_ordinal = irvm_fn_ordinal(callee);

  // direct(a, b, c) = callee(a, b, c) via vm.call.
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "direct", "0iIi_I", &fn));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_func(callee_ordinal),
                        (irvm_reg_t[]){R(0), P(2), R(4)}, 3,
                        (irvm_reg_t[]){P(10)}, 1));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(10)}, 1));

  // yieldable(a, b, c): the same through vm.call.yieldable and its resume
  // block.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "yieldable", "0iIi_I", &fn));
  irvm_label_t resume;
  VM_CHECK(irvm_fn_new_label(fn, &resume));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CALL_YIELDABLE, irvm_opnd_func(callee_ordinal),
                     IRVM_LIST(R(0), P(2), R(4)), IRVM_GOTO(resume),
                     IRVM_LIST(P(10))));
  VM_CHECK(irvm_fn_bind_label(fn, resume));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(10)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  irvm_variant_t args[3] = {vi32(-1), vi64(1ll << 40), vi32(7)};
  assert_int_equal(call_int(&f, "direct", args, 3), (1ll << 40) + 6);
  assert_int_equal(call_int(&f, "yieldable", args, 3), (1ll << 40) + 6);
  vm_fixture_free(&f);
}

static void test_fail_reports_code_message_and_backtrace(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("failing");
  irvm_function_builder_t* inner = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "inner", "0i_v", &inner));
  VM_CHECK(irvm_fn_fail(inner, R(0), "the input was rejected"));
  irvm_function_builder_t* outer = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "outer", "0i_v", &outer));
  VM_CHECK(irvm_fn_call(outer, irvm_opnd_func(irvm_fn_ordinal(inner)),
                        (irvm_reg_t[]){R(0)}, 1, NULL, 0));
  VM_CHECK(irvm_fn_return(outer, NULL, 0));
  // A zero code does not stop execution (spec 7.10): it continues into the
  // next block.
  irvm_function_builder_t* zero = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "zero", "0v_i", &zero));
  irvm_label_t next;
  VM_CHECK(irvm_fn_new_label(zero, &next));
  VM_CHECK(irvm_fn_const_i32(zero, R(0), 0));
  VM_CHECK(irvm_fn_fail(zero, R(0), "not a failure"));
  VM_CHECK(irvm_fn_bind_label(zero, next));
  VM_CHECK(irvm_fn_const_i32(zero, R(1), 7));
  VM_CHECK(irvm_fn_return(zero, (irvm_reg_t[]){R(1)}, 1));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  irvm_variant_t arg = vi32(IRT_STATUS_NOT_FOUND);
  irvm_variant_t results[8];
  size_t result_count = 0;
  irt_status_t status = vm_fixture_call(&f, "outer", &arg, 1, results, &result_count);
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "the input was rejected"));
  assert_non_null(strstr(text, "[0] bytecode failing.inner"));
  assert_non_null(strstr(text, "[1] bytecode failing.outer"));
  irt_status_free(status);
  assert_int_equal(call_int(&f, "zero", NULL, 0), 7);
  vm_fixture_free(&f);
}

//===----------------------------------------------------------------------===//
// Imports from a native module
//===----------------------------------------------------------------------===//

static irt_status_t native_add(irvm_native_call_t* call) {
  int32_t a = irvm_abi_read_i32(&call->arguments);
  int32_t b = irvm_abi_read_i32(&call->arguments);
  irvm_abi_write_i32(&call->results, a + b);
  return IRT_OK;
}

// sum(scale: i64, values: list of i32) -> i64.
static irt_status_t native_sum(irvm_native_call_t* call) {
  int64_t scale = irvm_abi_read_i64(&call->arguments);
  irvm_abi_span_t span =
      irvm_abi_read_span(&call->arguments, irt_make_cstring_view("i"));
  int64_t total = 0;
  for (uint32_t i = 0; i < span.count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    total += irvm_abi_read_i32(&element);
  }
  irvm_abi_write_i64(&call->results, total * scale);
  return IRT_OK;
}

static irt_status_t native_reject(irvm_native_call_t* call) {
  (void)call;
  return irt_make_status(IRT_STATUS_PERMISSION_DENIED, "rejected by native");
}

static const irvm_native_export_t native_exports[] = {
    {"add", "0ii_i", native_add},
    {"reject", "0v_v", native_reject},
    {"sum", "0ICiD_I", native_sum},
};
static const irvm_native_module_desc_t native_desc = {
    .name = "native",
    .version = 3,
    .export_count = 3,
    .exports = native_exports,
};

static void test_import_calls(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("importer");
  VM_CHECK(irvm_module_builder_add_dependency(b, "native", 2, IRVM_FLAG_REQUIRED));
  uint32_t add = 0, sum = 0, reject = 0, missing = 0;
  VM_CHECK(irvm_module_builder_add_import(b, "native.add", "0ii_i",
                                          IRVM_FLAG_REQUIRED, &add));
  VM_CHECK(irvm_module_builder_add_import(b, "native.sum", "0ICiD_I",
                                          IRVM_FLAG_REQUIRED, &sum));
  VM_CHECK(irvm_module_builder_add_import(b, "native.reject", "0v_v",
                                          IRVM_FLAG_REQUIRED, &reject));
  VM_CHECK(irvm_module_builder_add_import(b, "native.missing", "0v_v",
                                          IRVM_FLAG_OPTIONAL, &missing));
  irvm_function_builder_t* fn = NULL;
  // calls(a, b) = add(a, b) + sum(2, [a, b, 1]) via every call form.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "calls", "0ii_I", &fn));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_import(add), (irvm_reg_t[]){R(0), R(1)}, 2,
                        (irvm_reg_t[]){R(2)}, 1));
  irvm_label_t after_add, after_sum;
  VM_CHECK(irvm_fn_new_label(fn, &after_add));
  VM_CHECK(irvm_fn_new_label(fn, &after_sum));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CALL_YIELDABLE, irvm_opnd_import(add),
                     IRVM_LIST(R(2), R(0)), IRVM_GOTO(after_add), IRVM_LIST(R(3))));
  VM_CHECK(irvm_fn_bind_label(fn, after_add));
  VM_CHECK(irvm_fn_const_i64(fn, P(4), 2));
  VM_CHECK(irvm_fn_const_i32(fn, R(6), 1));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC, irvm_opnd_import(sum),
                     IRVM_SEGMENTS(-1, 3), IRVM_LIST(P(4), R(0), R(1), R(6)),
                     IRVM_LIST(P(8))));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC_YIELDABLE, irvm_opnd_import(sum),
                     IRVM_SEGMENTS(-1, 1), IRVM_LIST(P(4), R(3)),
                     IRVM_GOTO(after_sum), IRVM_LIST(P(10))));
  VM_CHECK(irvm_fn_bind_label(fn, after_sum));
  // (a + b + a) ... result = sum(2,[a,b,1]) + sum(2,[2a+b])
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, P(8), P(8), P(10)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){P(8)}, 1));
  // resolved() = import.resolved(add) * 2 + import.resolved(missing)
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "resolved", "0v_i", &fn));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_IMPORT_RESOLVED, irvm_opnd_import(add),
                     irvm_opnd_i32(0)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_IMPORT_RESOLVED, irvm_opnd_import(missing),
                     irvm_opnd_i32(1)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(0), R(0), R(0)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, R(0), R(0), R(1)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(0)}, 1));
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "call_missing", "0v_v", &fn));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_import(missing), NULL, 0, NULL, 0));
  VM_CHECK(irvm_fn_return(fn, NULL, 0));
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "call_reject", "0v_v", &fn));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_import(reject), NULL, 0, NULL, 0));
  VM_CHECK(irvm_fn_return(fn, NULL, 0));

  irvm_module_t* native = NULL;
  VM_CHECK(irvm_native_module_create(&native_desc, NULL, irt_allocator_system(),
                                     &native));
  vm_fixture_t f;
  vm_fixture_load(&f, b, &native, 1, false);
  irvm_module_release(native);
  irvm_variant_t args[2] = {vi32(3), vi32(4)};
  // add = 7; add2 = 10; sum(2,[3,4,1]) = 16; sum(2,[10]) = 20.
  assert_int_equal(call_int(&f, "calls", args, 2), 36);
  assert_int_equal(call_int(&f, "resolved", NULL, 0), 2);
  irvm_variant_t results[8];
  size_t result_count = 0;
  irt_status_t status = vm_fixture_call(&f, "call_missing", NULL, 0, results,
                                        &result_count);
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  irt_status_free(status);
  status = vm_fixture_call(&f, "call_reject", NULL, 0, results, &result_count);
  assert_int_equal(irt_status_code(status), IRT_STATUS_PERMISSION_DENIED);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "while calling import 'native.reject'"));
  irt_status_free(status);
  vm_fixture_free(&f);
}

// count(r) -> the reference count of r's object during the call.
static irt_status_t native_count(irvm_native_call_t* call) {
  const irvm_ref_t* ref = irvm_abi_read_ref(&call->arguments);
  irvm_ref_object_t* object = ref->ptr;
  irvm_abi_write_i32(&call->results,
                     object ? irt_ref_count_load(&object->count) : -1);
  return IRT_OK;
}

static const irvm_native_export_t counting_exports[] = {
    {"count", "0r_i", native_count},
};
static const irvm_native_module_desc_t counting_desc = {
    .name = "counting",
    .version = 1,
    .export_count = 1,
    .exports = counting_exports,
};

// Import arguments are lent to the callee, not retained (a shared object's
// count is never written by a call that names it), and a MOVE operand's
// register is empty after the call.
static void test_import_ref_arguments_are_lent(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("lender");
  VM_CHECK(irvm_module_builder_add_dependency(b, "counting", 1,
                                              IRVM_FLAG_REQUIRED));
  uint32_t count = 0;
  VM_CHECK(irvm_module_builder_add_import(b, "counting.count", "0r_i",
                                          IRVM_FLAG_REQUIRED, &count));
  irvm_function_builder_t* fn = NULL;
  // lend(buf) -> (count lent, count moved, buf still held after the move)
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "lend", "0r_iii", &fn));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_import(count), (irvm_reg_t[]){REF(0)}, 1,
                        (irvm_reg_t[]){R(0)}, 1));
  VM_CHECK(irvm_fn_call(fn, irvm_opnd_import(count), (irvm_reg_t[]){MOVE(0)},
                        1, (irvm_reg_t[]){R(1)}, 1));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_REF, R(2), REF(0)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(0), R(1), R(2)}, 3));

  irvm_module_t* counting = NULL;
  VM_CHECK(irvm_native_module_create(&counting_desc, NULL,
                                     irt_allocator_system(), &counting));
  vm_fixture_t f;
  vm_fixture_load(&f, b, &counting, 1, false);
  irvm_module_release(counting);
  irvm_buffer_t* buffer = NULL;
  VM_CHECK(irvm_buffer_create(8, 0, irt_allocator_system(), &buffer));
  irvm_variant_t arg =
      irvm_variant_from_ref(irvm_ref_wrap(buffer, irvm_buffer_type()));
  irvm_variant_t results[3];
  size_t result_count = 0;
  VM_CHECK(vm_fixture_call(&f, "lend", &arg, 1, results, &result_count));
  // The host's reference and the frame's register: 2 during both calls.
  assert_int_equal(results[0].value.i32, 2);
  assert_int_equal(results[1].value.i32, 2);
  assert_int_equal(results[2].value.i32, 0);
  irvm_ref_object_t* object = (irvm_ref_object_t*)buffer;
  assert_int_equal(irt_ref_count_load(&object->count), 1);
  irvm_variant_release(&arg);
  vm_fixture_free(&f);
}

static void test_dependency_version_is_checked(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("too_new");
  VM_CHECK(irvm_module_builder_add_dependency(b, "native", 4, IRVM_FLAG_REQUIRED));
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "f", "0v_v", &fn));
  VM_CHECK(irvm_fn_return(fn, NULL, 0));
  irvm_module_t* native = NULL;
  VM_CHECK(irvm_native_module_create(&native_desc, NULL, irt_allocator_system(),
                                     &native));
  vm_fixture_t f;
  vm_fixture_load(&f, b, &native, 1, true);
  irvm_module_release(native);
  assert_int_equal(irt_status_code(f.load_status), IRT_STATUS_NOT_FOUND);
  char text[512];
  irt_status_format_brief(f.load_status, text, sizeof(text));
  assert_non_null(strstr(text, "version >= 4"));
  vm_fixture_free(&f);
}

//===----------------------------------------------------------------------===//
// References
//===----------------------------------------------------------------------===//

static void test_ref_operations(void** state) {
  (void)state;
  irvm_module_builder_t* b = new_builder("refs");
  irvm_type_t buffer_type, list_type;
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.buffer", &buffer_type));
  VM_CHECK(irvm_module_builder_add_type(b, "!vm.list<i32>", &list_type));
  irvm_function_builder_t* fn = NULL;
  // refs(buf, sel) -> (i32 flags, buf): exercises the ref instructions and
  // returns a bit per check.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "refs", "0ri_ir", &fn));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_ZERO, irvm_opnd_ref(1)));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_ASSIGN_REF, irvm_opnd_ref(0), irvm_opnd_ref(2)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_CMP_EQ_REF, R(1), REF(0), REF(2)));  // 1
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_CMP_NE_REF, R(2), REF(0), REF(1)));  // 1
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_REF, R(3), REF(1)));          // 0
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CAST_ANY_REF, irvm_opnd_ref(2),
                     irvm_opnd_type(buffer_type), irvm_opnd_ref(3)));
  // select.ref: sel ? r3 : null
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SELECT_REF, irvm_opnd_i32(0),
                     irvm_opnd_type(buffer_type), irvm_opnd_ref(3),
                     irvm_opnd_ref(1), irvm_opnd_ref(4)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_REF, R(4), REF(4)));  // sel != 0
  // switch.ref: index sel into [null, r3], default null.
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_SWITCH_REF, irvm_opnd_i32(0),
                     irvm_opnd_type(buffer_type), irvm_opnd_ref(1),
                     IRVM_LIST(REF(1), MOVE(3)), irvm_opnd_ref(5)));
  VM_CHECK(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_REF, R(5), REF(5)));  // sel == 1
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(2), REF(4), REF(5))));
  // flags = r1 | r2<<1 | r3<<2 | r4<<3 | r5<<4
  VM_CHECK(irvm_fn_const_i32(fn, R(9), 1));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_SHL_I32, R(2), R(2), R(9)));
  VM_CHECK(irvm_fn_const_i32(fn, R(9), 2));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_SHL_I32, R(3), R(3), R(9)));
  VM_CHECK(irvm_fn_const_i32(fn, R(9), 3));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_SHL_I32, R(4), R(4), R(9)));
  VM_CHECK(irvm_fn_const_i32(fn, R(9), 4));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_SHL_I32, R(5), R(5), R(9)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_OR_I32, R(1), R(1), R(2)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_OR_I32, R(1), R(1), R(3)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_OR_I32, R(1), R(1), R(4)));
  VM_CHECK(irvm_fn_op3(fn, IRVM_INSN_OR_I32, R(1), R(1), R(5)));
  VM_CHECK(irvm_fn_return(fn, (irvm_reg_t[]){R(1), MOVE(0)}, 2));
  // bad_cast(buf) casts a buffer to a list: a type mismatch error.
  VM_CHECK(irvm_module_builder_begin_exported_function(b, "bad_cast", "0r_v", &fn));
  VM_CHECK(IRVM_EMIT(fn, IRVM_INSN_CAST_ANY_REF, irvm_opnd_ref(0),
                     irvm_opnd_type(list_type), irvm_opnd_ref(1)));
  VM_CHECK(irvm_fn_return(fn, NULL, 0));

  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  irvm_buffer_t* buffer = NULL;
  VM_CHECK(irvm_buffer_create(8, 0, irt_allocator_system(), &buffer));
  irvm_variant_t args[2] = {
      irvm_variant_from_ref(irvm_ref_wrap(buffer, irvm_buffer_type())), vi32(1)};
  irvm_variant_t results[8];
  size_t result_count = 0;
  VM_CHECK(vm_fixture_call(&f, "refs", args, 2, results, &result_count));
  assert_int_equal(results[0].value.i32, 1 | 2 | 8 | 16);
  assert_ptr_equal(results[1].ref.ptr, buffer);
  irvm_variant_release(&results[1]);
  args[1] = vi32(0);
  VM_CHECK(vm_fixture_call(&f, "refs", args, 2, results, &result_count));
  assert_int_equal(results[0].value.i32, 1 | 2);
  irvm_variant_release(&results[1]);
  irt_status_t status = vm_fixture_call(&f, "bad_cast", args, 1, results, &result_count);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  irvm_variant_release(&args[0]);
  vm_fixture_free(&f);
}

const struct CMUnitTest interpreter_flow_tests[] = {
    cmocka_unit_test(test_branches),
    cmocka_unit_test(test_internal_calls_pass_64_bit_values),
    cmocka_unit_test(test_fail_reports_code_message_and_backtrace),
    cmocka_unit_test(test_import_calls),
    cmocka_unit_test(test_import_ref_arguments_are_lent),
    cmocka_unit_test(test_dependency_version_is_checked),
    cmocka_unit_test(test_ref_operations),
};
const size_t interpreter_flow_test_count =
    sizeof(interpreter_flow_tests) / sizeof(interpreter_flow_tests[0]);
