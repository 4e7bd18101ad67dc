#include "tests/daemon/spin_module.h"

#include "tests/daemon/built_module.h"

#define I32(n) irvm_reg_i32(n)

// i0: n, i1: counter, i2: 1, i3: counter < n.
static irt_status_t define_spin(irvm_module_builder_t* b) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "spin", "0i_i", &fn));
  irvm_label_t loop, body, done;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &loop));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &body));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &done));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(1)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(2), 1));
  IRT_RETURN_IF_ERROR(irvm_fn_br(fn, loop));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, loop));
  IRT_RETURN_IF_ERROR(
      irvm_fn_op3(fn, IRVM_INSN_CMP_LT_I32_S, I32(3), I32(1), I32(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_cond_br(fn, I32(3), body, done));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, body));
  IRT_RETURN_IF_ERROR(
      irvm_fn_op3(fn, IRVM_INSN_ADD_I32, I32(1), I32(1), I32(2)));
  IRT_RETURN_IF_ERROR(irvm_fn_br(fn, loop));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, done));
  return irvm_fn_return(fn, (const irvm_reg_t[]){I32(1)}, 1);
}

irt_status_t spin_module_write(const char* directory, char* path,
                               size_t capacity) {
  return built_module_write(directory, "spin", define_spin, path, capacity);
}
