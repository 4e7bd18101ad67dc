// Every register-only instruction (arithmetic, bitwise, shifts,
// conversions, comparisons, float math) run through the interpreter on
// builder-made functions, with the spec's edge cases.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>

#include "tests/vm/vm_fixture.h"
#include "tests/vm/interpreter_tests.h"

// One case: |insn| applied to the arguments of |cconv| ("0ii_i"), compared
// bitwise with |expected|. Values are raw bits (f32/f64 as their encoding).
typedef struct op_case_s {
  irvm_insn_t insn;
  const char* cconv;
  uint64_t args[3];
  uint64_t expected;
} op_case_t;

static uint64_t f32b(float v) {
  uint32_t b;
  memcpy(&b, &v, 4);
  return b;
}
static uint64_t f64b(double v) {
  uint64_t b;
  memcpy(&b, &v, 8);
  return b;
}
#define I32(v) ((uint64_t)(uint32_t)(int32_t)(v))
#define I64(v) ((uint64_t)(int64_t)(v))

// The register holding argument |index| of |arguments| (spec 5.3).
static irvm_reg_t arg_reg(const char* arguments, size_t index) {
  uint16_t ni = 0;
  for (size_t i = 0;; ++i) {
    char c = arguments[i];
    bool wide = c == 'I' || c == 'F';
    if (wide) ni = (uint16_t)((ni + 1u) & ~1u);
    if (i == index) return wide ? irvm_reg_i64(ni) : irvm_reg_i32(ni);
    ni = (uint16_t)(ni + (wide ? 2 : 1));
  }
}

static void build_case(irvm_module_builder_t* b, const op_case_t* c,
                       size_t index) {
  char name[32];
  snprintf(name, sizeof(name), "case%zu", index);
  irvm_function_builder_t* fn = NULL;
  VM_CHECK(irvm_module_builder_begin_exported_function(b, name, c->cconv, &fn));
  const char* arguments = c->cconv + 1;
  size_t arg_count = strcspn(arguments, "_");
  if (arg_count == 1 && arguments[0] == 'v') arg_count = 0;
  char result_kind = arguments[strcspn(arguments, "_") + 1];
  irvm_reg_t dst = (result_kind == 'I' || result_kind == 'F') ? irvm_reg_i64(8)
                                                             : irvm_reg_i32(8);
  switch (arg_count) {
    case 0: VM_CHECK(irvm_fn_op1(fn, c->insn, dst)); break;
    case 1: VM_CHECK(irvm_fn_op2(fn, c->insn, dst, arg_reg(arguments, 0))); break;
    case 2:
      VM_CHECK(irvm_fn_op3(fn, c->insn, dst, arg_reg(arguments, 0),
                           arg_reg(arguments, 1)));
      break;
    default:
      VM_CHECK(irvm_fn_op4(fn, c->insn, dst, arg_reg(arguments, 0),
                           arg_reg(arguments, 1), arg_reg(arguments, 2)));
      break;
  }
  VM_CHECK(irvm_fn_return(fn, &dst, 1));
}

static irvm_variant_t make_arg(char kind, uint64_t bits) {
  switch (kind) {
    case 'i': return irvm_variant_from_value(irvm_value_make_i32((int32_t)bits));
    case 'I': return irvm_variant_from_value(irvm_value_make_i64((int64_t)bits));
    case 'f': {
      float v;
      uint32_t b = (uint32_t)bits;
      memcpy(&v, &b, 4);
      return irvm_variant_from_value(irvm_value_make_f32(v));
    }
    default: {
      double v;
      memcpy(&v, &bits, 8);
      return irvm_variant_from_value(irvm_value_make_f64(v));
    }
  }
}

static uint64_t result_bits(const irvm_variant_t* result) {
  switch (result->value.type) {
    case IRVM_VALUE_TYPE_I32: return (uint32_t)result->value.i32;
    case IRVM_VALUE_TYPE_I64: return (uint64_t)result->value.i64;
    case IRVM_VALUE_TYPE_F32: return f32b(result->value.f32);
    case IRVM_VALUE_TYPE_F64: return f64b(result->value.f64);
    default: fail_msg("unexpected result type"); return 0;
  }
}

static void run_cases(const op_case_t* cases, size_t count) {
  irvm_module_builder_t* b = NULL;
  VM_CHECK(irvm_module_builder_create(irt_allocator_system(), "ops", 0, &b));
  for (size_t i = 0; i < count; ++i) build_case(b, &cases[i], i);
  vm_fixture_t f;
  vm_fixture_load(&f, b, NULL, 0, false);
  for (size_t i = 0; i < count; ++i) {
    const op_case_t* c = &cases[i];
    const char* arguments = c->cconv + 1;
    size_t arg_count = strcspn(arguments, "_");
    if (arg_count == 1 && arguments[0] == 'v') arg_count = 0;
    irvm_variant_t args[3];
    for (size_t a = 0; a < arg_count; ++a) args[a] = make_arg(arguments[a], c->args[a]);
    char name[32];
    snprintf(name, sizeof(name), "case%zu", i);
    irvm_variant_t results[8];
    size_t result_count = 0;
    VM_CHECK(vm_fixture_call(&f, name, args, arg_count, results, &result_count));
    assert_int_equal(result_count, 1);
    uint64_t actual = result_bits(&results[0]);
    if (actual != c->expected) {
      irvm_op_info_t const* info = irvm_op_info((irvm_op_table_t)(c->insn >> 8),
                                                (uint8_t)c->insn);
      fail_msg("case %zu (%s): expected 0x%llx, got 0x%llx", i, info->mnemonic,
               (unsigned long long)c->expected, (unsigned long long)actual);
    }
  }
  vm_fixture_free(&f);
}

static void test_i32_ops(void** state) {
  (void)state;
  static const op_case_t cases[] = {
      {IRVM_INSN_ADD_I32, "0ii_i", {I32(INT32_MAX), 1}, I32(INT32_MIN)},
      {IRVM_INSN_SUB_I32, "0ii_i", {5, 7}, I32(-2)},
      {IRVM_INSN_MUL_I32, "0ii_i", {I32(-3), 7}, I32(-21)},
      {IRVM_INSN_DIV_I32_S, "0ii_i", {I32(-7), 2}, I32(-3)},
      {IRVM_INSN_DIV_I32_S, "0ii_i", {I32(INT32_MIN), I32(-1)}, I32(INT32_MIN)},
      {IRVM_INSN_DIV_I32_U, "0ii_i", {I32(-7), 2}, 0x7FFFFFFCu},
      {IRVM_INSN_REM_I32_S, "0ii_i", {I32(-7), 2}, I32(-1)},
      {IRVM_INSN_REM_I32_S, "0ii_i", {I32(INT32_MIN), I32(-1)}, 0},
      {IRVM_INSN_REM_I32_U, "0ii_i", {I32(-7), 2}, 1},
      {IRVM_INSN_FMA_I32, "0iii_i", {3, 4, 5}, 17},
      {IRVM_INSN_ABS_I32, "0i_i", {I32(-5)}, 5},
      {IRVM_INSN_ABS_I32, "0i_i", {I32(INT32_MIN)}, I32(INT32_MIN)},
      {IRVM_INSN_MIN_I32_S, "0ii_i", {I32(-1), 1}, I32(-1)},
      {IRVM_INSN_MIN_I32_U, "0ii_i", {I32(-1), 1}, 1},
      {IRVM_INSN_MAX_I32_S, "0ii_i", {I32(-1), 1}, 1},
      {IRVM_INSN_MAX_I32_U, "0ii_i", {I32(-1), 1}, I32(-1)},
      {IRVM_INSN_NOT_I32, "0i_i", {0}, I32(-1)},
      {IRVM_INSN_AND_I32, "0ii_i", {0xF0F0, 0xFF00}, 0xF000},
      {IRVM_INSN_OR_I32, "0ii_i", {0xF0F0, 0x0F00}, 0xFFF0},
      {IRVM_INSN_XOR_I32, "0ii_i", {0xFF, 0x0F}, 0xF0},
      {IRVM_INSN_CTLZ_I32, "0i_i", {0}, 32},
      {IRVM_INSN_CTLZ_I32, "0i_i", {1}, 31},
      {IRVM_INSN_SHL_I32, "0ii_i", {1, 33}, 2},  // amount & 31
      {IRVM_INSN_SHR_I32_S, "0ii_i", {I32(-8), 1}, I32(-4)},
      {IRVM_INSN_SHR_I32_U, "0ii_i", {I32(-8), 28}, 0xF},
      {IRVM_INSN_TRUNC_I32_I8, "0i_i", {0x1234}, 0x34},
      {IRVM_INSN_TRUNC_I32_I16, "0i_i", {0x123456}, 0x3456},
      {IRVM_INSN_EXT_I8_I32_S, "0i_i", {0x80}, I32(-128)},
      {IRVM_INSN_EXT_I8_I32_U, "0i_i", {0x180}, 0x80},
      {IRVM_INSN_EXT_I16_I32_S, "0i_i", {0x8000}, I32(-32768)},
      {IRVM_INSN_EXT_I16_I32_U, "0i_i", {0x18000}, 0x8000},
      {IRVM_INSN_CMP_EQ_I32, "0ii_i", {3, 3}, 1},
      {IRVM_INSN_CMP_NE_I32, "0ii_i", {3, 3}, 0},
      {IRVM_INSN_CMP_LT_I32_S, "0ii_i", {I32(-1), 0}, 1},
      {IRVM_INSN_CMP_LT_I32_U, "0ii_i", {I32(-1), 0}, 0},
      {IRVM_INSN_CMP_NZ_I32, "0i_i", {9}, 1},
      {IRVM_INSN_CONST_I32_ZERO, "0v_i", {0}, 0},
  };
  run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_i64_ops(void** state) {
  (void)state;
  static const op_case_t cases[] = {
      {IRVM_INSN_ADD_I64, "0II_I", {I64(INT64_MAX), 1}, I64(INT64_MIN)},
      {IRVM_INSN_SUB_I64, "0II_I", {5, 7}, I64(-2)},
      {IRVM_INSN_MUL_I64, "0II_I", {1ull << 40, 1ull << 20}, 1ull << 60},
      {IRVM_INSN_DIV_I64_S, "0II_I", {I64(-7), 2}, I64(-3)},
      {IRVM_INSN_DIV_I64_S, "0II_I", {I64(INT64_MIN), I64(-1)}, I64(INT64_MIN)},
      {IRVM_INSN_DIV_I64_U, "0II_I", {I64(-1), 2}, 0x7FFFFFFFFFFFFFFFull},
      {IRVM_INSN_REM_I64_S, "0II_I", {I64(-7), 2}, I64(-1)},
      {IRVM_INSN_REM_I64_U, "0II_I", {7, 4}, 3},
      {IRVM_INSN_FMA_I64, "0III_I", {3, 1ull << 33, 1}, (3ull << 33) + 1},
      {IRVM_INSN_ABS_I64, "0I_I", {I64(-5)}, 5},
      {IRVM_INSN_MIN_I64_S, "0II_I", {I64(-1), 1}, I64(-1)},
      {IRVM_INSN_MIN_I64_U, "0II_I", {I64(-1), 1}, 1},
      {IRVM_INSN_MAX_I64_S, "0II_I", {I64(-1), 1}, 1},
      {IRVM_INSN_MAX_I64_U, "0II_I", {I64(-1), 1}, I64(-1)},
      {IRVM_INSN_NOT_I64, "0I_I", {0}, I64(-1)},
      {IRVM_INSN_AND_I64, "0II_I", {0xFF00000000ull, 0xF000000000ull}, 0xF000000000ull},
      {IRVM_INSN_OR_I64, "0II_I", {1ull << 40, 1}, (1ull << 40) | 1},
      {IRVM_INSN_XOR_I64, "0II_I", {3, 1}, 2},
      {IRVM_INSN_CTLZ_I64, "0I_I", {0}, 64},
      {IRVM_INSN_CTLZ_I64, "0I_I", {1ull << 40}, 23},
      {IRVM_INSN_SHL_I64, "0Ii_I", {1, 65}, 2},
      {IRVM_INSN_SHR_I64_S, "0Ii_I", {I64(-8), 1}, I64(-4)},
      {IRVM_INSN_SHR_I64_U, "0Ii_I", {I64(-1), 60}, 0xF},
      {IRVM_INSN_TRUNC_I64_I32, "0I_i", {0x1234567890ull}, 0x34567890},
      {IRVM_INSN_EXT_I32_I64_S, "0i_I", {I32(-2)}, I64(-2)},
      {IRVM_INSN_EXT_I32_I64_U, "0i_I", {I32(-2)}, 0xFFFFFFFEull},
      {IRVM_INSN_CMP_EQ_I64, "0II_i", {1ull << 40, 1ull << 40}, 1},
      {IRVM_INSN_CMP_NE_I64, "0II_i", {1ull << 40, 1}, 1},
      {IRVM_INSN_CMP_LT_I64_S, "0II_i", {I64(-1), 0}, 1},
      {IRVM_INSN_CMP_LT_I64_U, "0II_i", {I64(-1), 0}, 0},
      {IRVM_INSN_CMP_NZ_I64, "0I_i", {1ull << 40}, 1},
      {IRVM_INSN_CONST_I64_ZERO, "0v_I", {0}, 0},
  };
  run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_f32_ops(void** state) {
  (void)state;
  const uint64_t nan = f32b(NAN);
  const op_case_t cases[] = {
      {IRVM_INSN_ADD_F32, "0ff_f", {f32b(1.5f), f32b(2.25f)}, f32b(3.75f)},
      {IRVM_INSN_SUB_F32, "0ff_f", {f32b(1.5f), f32b(2.5f)}, f32b(-1.0f)},
      {IRVM_INSN_MUL_F32, "0ff_f", {f32b(1.5f), f32b(2.0f)}, f32b(3.0f)},
      {IRVM_INSN_DIV_F32, "0ff_f", {f32b(1.0f), f32b(0.0f)}, f32b(INFINITY)},
      {IRVM_INSN_REM_F32, "0ff_f", {f32b(5.0f), f32b(3.0f)}, f32b(-1.0f)},
      {IRVM_INSN_FMA_F32, "0fff_f", {f32b(2.0f), f32b(3.0f), f32b(1.0f)}, f32b(7.0f)},
      {IRVM_INSN_ABS_F32, "0f_f", {f32b(-2.0f)}, f32b(2.0f)},
      {IRVM_INSN_NEG_F32, "0f_f", {f32b(2.0f)}, f32b(-2.0f)},
      {IRVM_INSN_CEIL_F32, "0f_f", {f32b(1.25f)}, f32b(2.0f)},
      {IRVM_INSN_FLOOR_F32, "0f_f", {f32b(-1.25f)}, f32b(-2.0f)},
      {IRVM_INSN_ROUND_F32, "0f_f", {f32b(2.5f)}, f32b(3.0f)},
      {IRVM_INSN_ROUND_F32_EVEN, "0f_f", {f32b(2.5f)}, f32b(2.0f)},
      {IRVM_INSN_MIN_F32, "0ff_f", {nan, f32b(1.0f)}, nan},
      {IRVM_INSN_MAX_F32, "0ff_f", {f32b(1.0f), f32b(2.0f)}, f32b(2.0f)},
      {IRVM_INSN_CAST_SI32_F32, "0i_f", {I32(-3)}, f32b(-3.0f)},
      {IRVM_INSN_CAST_UI32_F32, "0i_f", {0xFFFFFFFFu}, f32b(4294967295.0f)},
      {IRVM_INSN_CAST_F32_SI32, "0f_i", {f32b(-2.5f)}, I32(-3)},
      {IRVM_INSN_CAST_F32_UI32, "0f_i", {f32b(2.5f)}, 3},
      {IRVM_INSN_CAST_F32_SI64, "0f_I", {f32b(-2.5f)}, I64(-3)},
      {IRVM_INSN_CAST_F32_UI64, "0f_I", {f32b(2.5f)}, 3},
      {IRVM_INSN_CAST_SI64_F32, "0I_f", {I64(-4)}, f32b(-4.0f)},
      {IRVM_INSN_CAST_UI64_F32, "0I_f", {1ull << 40}, f32b(1099511627776.0f)},
      {IRVM_INSN_BITCAST_I32_F32, "0i_f", {0x3F800000u}, f32b(1.0f)},
      {IRVM_INSN_BITCAST_F32_I32, "0f_i", {f32b(1.0f)}, 0x3F800000u},
      {IRVM_INSN_ATAN_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_ATAN2_F32, "0ff_f", {f32b(0.0f), f32b(1.0f)}, f32b(0.0f)},
      {IRVM_INSN_COS_F32, "0f_f", {f32b(0.0f)}, f32b(1.0f)},
      {IRVM_INSN_SIN_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_EXP_F32, "0f_f", {f32b(0.0f)}, f32b(1.0f)},
      {IRVM_INSN_EXP2_F32, "0f_f", {f32b(3.0f)}, f32b(8.0f)},
      {IRVM_INSN_EXPM1_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_LOG_F32, "0f_f", {f32b(1.0f)}, f32b(0.0f)},
      {IRVM_INSN_LOG10_F32, "0f_f", {f32b(100.0f)}, f32b(2.0f)},
      {IRVM_INSN_LOG1P_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_LOG2_F32, "0f_f", {f32b(8.0f)}, f32b(3.0f)},
      {IRVM_INSN_POW_F32, "0ff_f", {f32b(2.0f), f32b(10.0f)}, f32b(1024.0f)},
      {IRVM_INSN_RSQRT_F32, "0f_f", {f32b(4.0f)}, f32b(0.5f)},
      {IRVM_INSN_SQRT_F32, "0f_f", {f32b(9.0f)}, f32b(3.0f)},
      {IRVM_INSN_TANH_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_ERF_F32, "0f_f", {f32b(0.0f)}, f32b(0.0f)},
      {IRVM_INSN_CMP_EQ_F32_O, "0ff_i", {nan, nan}, 0},
      {IRVM_INSN_CMP_EQ_F32_U, "0ff_i", {nan, f32b(1.0f)}, 1},
      {IRVM_INSN_CMP_NE_F32_O, "0ff_i", {nan, f32b(1.0f)}, 1},  // quirk
      {IRVM_INSN_CMP_NE_F32_U, "0ff_i", {f32b(1.0f), f32b(1.0f)}, 0},
      {IRVM_INSN_CMP_LT_F32_O, "0ff_i", {nan, f32b(1.0f)}, 0},
      {IRVM_INSN_CMP_LT_F32_U, "0ff_i", {nan, f32b(1.0f)}, 1},
      {IRVM_INSN_CMP_LTE_F32_O, "0ff_i", {f32b(1.0f), f32b(1.0f)}, 1},
      {IRVM_INSN_CMP_LTE_F32_U, "0ff_i", {f32b(2.0f), f32b(1.0f)}, 0},
      {IRVM_INSN_CMP_NAN_F32, "0f_i", {nan}, 1},
      {IRVM_INSN_CONST_F32_ZERO, "0v_f", {0}, 0},
  };
  run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

static void test_f64_ops(void** state) {
  (void)state;
  const uint64_t nan = f64b(NAN);
  const op_case_t cases[] = {
      {IRVM_INSN_ADD_F64, "0FF_F", {f64b(1.5), f64b(2.25)}, f64b(3.75)},
      {IRVM_INSN_SUB_F64, "0FF_F", {f64b(1.5), f64b(2.5)}, f64b(-1.0)},
      {IRVM_INSN_MUL_F64, "0FF_F", {f64b(1.5), f64b(2.0)}, f64b(3.0)},
      {IRVM_INSN_DIV_F64, "0FF_F", {f64b(1.0), f64b(4.0)}, f64b(0.25)},
      {IRVM_INSN_REM_F64, "0FF_F", {f64b(5.0), f64b(3.0)}, f64b(-1.0)},
      {IRVM_INSN_FMA_F64, "0FFF_F", {f64b(2.0), f64b(3.0), f64b(1.0)}, f64b(7.0)},
      {IRVM_INSN_ABS_F64, "0F_F", {f64b(-2.0)}, f64b(2.0)},
      {IRVM_INSN_NEG_F64, "0F_F", {f64b(2.0)}, f64b(-2.0)},
      {IRVM_INSN_CEIL_F64, "0F_F", {f64b(1.25)}, f64b(2.0)},
      {IRVM_INSN_FLOOR_F64, "0F_F", {f64b(-1.25)}, f64b(-2.0)},
      {IRVM_INSN_ROUND_F64, "0F_F", {f64b(-2.5)}, f64b(-3.0)},
      {IRVM_INSN_ROUND_F64_EVEN, "0F_F", {f64b(3.5)}, f64b(4.0)},
      {IRVM_INSN_MIN_F64, "0FF_F", {f64b(1.0), f64b(-1.0)}, f64b(-1.0)},
      {IRVM_INSN_MAX_F64, "0FF_F", {nan, f64b(1.0)}, nan},
      {IRVM_INSN_TRUNC_F64_F32, "0F_f", {f64b(1.5)}, f32b(1.5f)},
      {IRVM_INSN_EXT_F32_F64, "0f_F", {f32b(1.5f)}, f64b(1.5)},
      {IRVM_INSN_CAST_SI32_F64, "0i_F", {I32(-3)}, f64b(-3.0)},
      {IRVM_INSN_CAST_UI32_F64, "0i_F", {0xFFFFFFFFu}, f64b(4294967295.0)},
      {IRVM_INSN_CAST_F64_SI32, "0F_i", {f64b(-2.5)}, I32(-3)},
      {IRVM_INSN_CAST_F64_UI32, "0F_i", {f64b(2.5)}, 3},
      {IRVM_INSN_CAST_SI64_F64, "0I_F", {I64(-4)}, f64b(-4.0)},
      {IRVM_INSN_CAST_UI64_F64, "0I_F", {1ull << 40}, f64b(1099511627776.0)},
      {IRVM_INSN_CAST_F64_SI64, "0F_I", {f64b(-2.5)}, I64(-3)},
      {IRVM_INSN_CAST_F64_UI64, "0F_I", {f64b(2.5)}, 3},
      {IRVM_INSN_BITCAST_I64_F64, "0I_F", {0x3FF0000000000000ull}, f64b(1.0)},
      {IRVM_INSN_BITCAST_F64_I64, "0F_I", {f64b(1.0)}, 0x3FF0000000000000ull},
      {IRVM_INSN_ATAN_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_ATAN2_F64, "0FF_F", {f64b(0.0), f64b(1.0)}, f64b(0.0)},
      {IRVM_INSN_COS_F64, "0F_F", {f64b(0.0)}, f64b(1.0)},
      {IRVM_INSN_SIN_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_EXP_F64, "0F_F", {f64b(0.0)}, f64b(1.0)},
      {IRVM_INSN_EXP2_F64, "0F_F", {f64b(3.0)}, f64b(8.0)},
      {IRVM_INSN_EXPM1_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_LOG_F64, "0F_F", {f64b(1.0)}, f64b(0.0)},
      {IRVM_INSN_LOG10_F64, "0F_F", {f64b(1000.0)}, f64b(3.0)},
      {IRVM_INSN_LOG1P_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_LOG2_F64, "0F_F", {f64b(8.0)}, f64b(3.0)},
      {IRVM_INSN_POW_F64, "0FF_F", {f64b(2.0), f64b(10.0)}, f64b(1024.0)},
      {IRVM_INSN_RSQRT_F64, "0F_F", {f64b(4.0)}, f64b(0.5)},
      {IRVM_INSN_SQRT_F64, "0F_F", {f64b(9.0)}, f64b(3.0)},
      {IRVM_INSN_TANH_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_ERF_F64, "0F_F", {f64b(0.0)}, f64b(0.0)},
      {IRVM_INSN_CMP_EQ_F64_O, "0FF_i", {nan, nan}, 0},
      {IRVM_INSN_CMP_EQ_F64_U, "0FF_i", {nan, f64b(1.0)}, 1},
      {IRVM_INSN_CMP_NE_F64_O, "0FF_i", {nan, f64b(1.0)}, 1},
      {IRVM_INSN_CMP_NE_F64_U, "0FF_i", {f64b(1.0), f64b(1.0)}, 0},
      {IRVM_INSN_CMP_LT_F64_O, "0FF_i", {f64b(1.0), f64b(2.0)}, 1},
      {IRVM_INSN_CMP_LT_F64_U, "0FF_i", {nan, f64b(2.0)}, 1},
      {IRVM_INSN_CMP_LTE_F64_O, "0FF_i", {nan, f64b(2.0)}, 0},
      {IRVM_INSN_CMP_LTE_F64_U, "0FF_i", {f64b(3.0), f64b(2.0)}, 0},
      {IRVM_INSN_CMP_NAN_F64, "0F_i", {nan}, 1},
      {IRVM_INSN_CONST_F64_ZERO, "0v_F", {0}, 0},
  };
  run_cases(cases, sizeof(cases) / sizeof(cases[0]));
}

// Division by zero fails the invocation with a clear message and a
// backtrace naming the function.
static void test_division_by_zero_fails(void** state) {
  (void)state;
  static const irvm_insn_t ops[] = {IRVM_INSN_DIV_I32_S, IRVM_INSN_DIV_I32_U,
                                    IRVM_INSN_REM_I32_S, IRVM_INSN_REM_I32_U,
                                    IRVM_INSN_DIV_I64_S, IRVM_INSN_REM_I64_U};
  for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); ++i) {
    bool wide = i >= 4;
    op_case_t c = {ops[i], wide ? "0II_I" : "0ii_i", {1, 0}, 0};
    irvm_module_builder_t* b = NULL;
    VM_CHECK(irvm_module_builder_create(irt_allocator_system(), "div", 0, &b));
    build_case(b, &c, 0);
    vm_fixture_t f;
    vm_fixture_load(&f, b, NULL, 0, false);
    irvm_variant_t args[2] = {make_arg(wide ? 'I' : 'i', 1),
                              make_arg(wide ? 'I' : 'i', 0)};
    irvm_variant_t results[8];
    size_t result_count = 0;
    irt_status_t status = vm_fixture_call(&f, "case0", args, 2, results, &result_count);
    assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    assert_non_null(strstr(text, "division by zero"));
    assert_non_null(strstr(text, "div.case0"));
    irt_status_free(status);
    vm_fixture_free(&f);
  }
}

const struct CMUnitTest interpreter_op_tests[] = {
    cmocka_unit_test(test_i32_ops),
    cmocka_unit_test(test_i64_ops),
    cmocka_unit_test(test_f32_ops),
    cmocka_unit_test(test_f64_ops),
    cmocka_unit_test(test_division_by_zero_fails),
};
const size_t interpreter_op_test_count =
    sizeof(interpreter_op_tests) / sizeof(interpreter_op_tests[0]);
