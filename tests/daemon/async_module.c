#include "tests/daemon/async_module.h"

#include <stdio.h>

#include "runtime/vm/builder/hal_imports.h"
#include "runtime/vm/builder/module_builder.h"
#include "tests/daemon/built_module.h"

#define I32(n) irvm_reg_i32(n)
#define I64(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)

// The hal imports, in ordinal order.
static const irvm_hal_import_t kImports[] = {
    IRVM_HAL_DEVICES_GET, IRVM_HAL_DEVICE_QUEUE_BARRIER, IRVM_HAL_FENCE_CREATE,
    IRVM_HAL_FENCE_AWAIT};

// Begins export |name| declared as "|mode| func @|base_name|" of one
// tensor<4xf32> to one.
static irt_status_t begin_declared(irvm_module_builder_t* b, const char* name,
                                   const char* cconv, const char* mode,
                                   const char* base_name,
                                   irvm_function_builder_t** out_fn) {
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, name, cconv, out_fn));
  char declaration[256];
  snprintf(declaration, sizeof(declaration),
           "%s func @%s(%%input0: tensor<4xf32>) -> (%%output0: "
           "tensor<4xf32>)",
           mode, base_name);
  return irvm_fn_add_attr(*out_fn, "iree.abi.declaration", declaration);
}

// (view, wait, signal) -> view through a barrier on device 0.
static irt_status_t define_async(irvm_module_builder_t* b,
                                 const irvm_hal_imports_t* hal,
                                 const char* name, const char* base_name,
                                 uint32_t* out_ordinal) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      begin_declared(b, name, "0rrr_r", "async", base_name, &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_add_attr(fn, "iree.abi.model", "coarse-fences"));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i64(fn, I64(2), -1));  // any queue
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I64_ZERO, I64(4)));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(hal, IRVM_HAL_DEVICES_GET),
      (const irvm_reg_t[]){I32(0)}, 1, (const irvm_reg_t[]){REF(3)}, 1));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(hal, IRVM_HAL_DEVICE_QUEUE_BARRIER),
      (const irvm_reg_t[]){MOVE(3), I64(2), REF(1), REF(2), I64(4)}, 5, NULL,
      0));
  *out_ordinal = irvm_fn_ordinal(fn);
  return irvm_fn_return(fn, (const irvm_reg_t[]){MOVE(0)}, 1);
}

// The synchronous wrapper iree-compile emits around |async_ordinal|.
static irt_status_t define_sync(irvm_module_builder_t* b,
                                const irvm_hal_imports_t* hal, const char* name,
                                uint32_t async_ordinal) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(begin_declared(b, name, "0r_r", "sync", name, &fn));
  irvm_label_t resume, ok, failed;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &resume));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &ok));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &failed));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I64_ZERO, I64(2)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(4), -1));  // no timeout
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, REF(1)));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(hal, IRVM_HAL_DEVICES_GET),
      (const irvm_reg_t[]){I32(0)}, 1, (const irvm_reg_t[]){REF(2)}, 1));
  IRT_RETURN_IF_ERROR(irvm_fn_call(fn,
                                   irvm_hal_import(hal, IRVM_HAL_FENCE_CREATE),
                                   (const irvm_reg_t[]){MOVE(2), I64(2)}, 2,
                                   (const irvm_reg_t[]){REF(3)}, 1));
  IRT_RETURN_IF_ERROR(
      irvm_fn_call(fn, irvm_opnd_func(async_ordinal),
                   (const irvm_reg_t[]){MOVE(0), REF(1), REF(3)}, 3,
                   (const irvm_reg_t[]){REF(4)}, 1));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC_YIELDABLE,
                                irvm_hal_import(hal, IRVM_HAL_FENCE_AWAIT),
                                IRVM_SEGMENTS(-1, -1, 1),
                                IRVM_LIST(I32(4), I64(2), MOVE(3)),
                                IRVM_GOTO(resume), IRVM_LIST(I32(5))));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, resume));
  IRT_RETURN_IF_ERROR(irvm_fn_cond_br(fn, I32(5), failed, ok));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, ok));
  IRT_RETURN_IF_ERROR(irvm_fn_return(fn, (const irvm_reg_t[]){MOVE(4)}, 1));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, failed));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(4))));
  return irvm_fn_fail(fn, I32(5), "failed to wait on timepoint");
}

static irt_status_t define_module(irvm_module_builder_t* b) {
  const char* types[] = {"!hal.buffer_view", "!hal.device", "!hal.fence", "i32",
                         "i64"};
  for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); ++i) {
    irvm_type_t unused;
    IRT_RETURN_IF_ERROR(irvm_module_builder_add_type(b, types[i], &unused));
  }
  irvm_hal_imports_t hal;
  IRT_RETURN_IF_ERROR(irvm_hal_imports_declare(
      b, kImports, sizeof(kImports) / sizeof(kImports[0]), &hal));
  uint32_t echo_async = 0, id_async = 0;
  IRT_RETURN_IF_ERROR(define_async(b, &hal, "echo$async", "echo", &echo_async));
  IRT_RETURN_IF_ERROR(define_sync(b, &hal, "echo", echo_async));
  return define_async(b, &hal, "id$async", "id", &id_async);
}

irt_status_t async_module_write(const char* directory, char* path,
                                size_t capacity) {
  return built_module_write(directory, "pipe", define_module, path, capacity);
}
