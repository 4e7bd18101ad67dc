#include "tests/hal_staging/params_module.h"

#include "runtime/vm/builder/hal_imports.h"
#include "runtime/vm/builder/module_builder.h"

#define I32(n) irvm_reg_i32(n)
#define I64(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)

// The hal imports, in ordinal order; io_parameters.load comes after them.
static const irvm_hal_import_t kHalImports[] = {
    IRVM_HAL_BUFFER_LOAD, IRVM_HAL_DEVICES_COUNT, IRVM_HAL_DEVICES_GET,
    IRVM_HAL_FENCE_CREATE, IRVM_HAL_FENCE_AWAIT};

typedef struct module_types_s {
  irvm_type_t device, buffer;
  irvm_hal_imports_t hal;
  uint32_t parameters_load;  // import ordinal
} module_types_t;

typedef struct module_rodata_s {
  uint32_t scope, key_table, key_data, spans;
} module_rodata_t;

// __init: device 0 into @gref0, then, like scale.vmfb,
//   %list = io_parameters.load(%device, -1, null, %fence, "model", -1,
//                              0x30, 0x80C03, key_table, "weight", spans)
// awaited, its buffer stored in @gref1.
static irt_status_t define_init(irvm_module_builder_t* b,
                                const module_types_t* types,
                                const module_rodata_t* rodata) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "__init", "0v_v", &fn));
  irvm_label_t have_device, no_device, resume, ok, failed;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &have_device));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &no_device));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &resume));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &ok));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &failed));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i64(fn, I64(2), -1));  // affinities
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I64_ZERO, I64(4)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(6), 48));  // DEVICE_LOCAL
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(7), 0x80C03));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(8), -1));  // no timeout
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, REF(0)));
  IRT_RETURN_IF_ERROR(
      irvm_fn_call(fn, irvm_hal_import(&types->hal, IRVM_HAL_DEVICES_COUNT),
                   NULL, 0, (const irvm_reg_t[]){I32(1)}, 1));
  IRT_RETURN_IF_ERROR(irvm_fn_cond_br(fn, I32(1), have_device, no_device));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, no_device));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(9), 18));  // INCOMPATIBLE
  IRT_RETURN_IF_ERROR(irvm_fn_fail(fn, I32(9), "no HAL device"));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, have_device));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(&types->hal, IRVM_HAL_DEVICES_GET),
      (const irvm_reg_t[]){I32(0)}, 1, (const irvm_reg_t[]){REF(1)}, 1));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_REF, irvm_opnd_global_ref(0),
                irvm_opnd_type(types->device), irvm_opnd_ref(1)));
  IRT_RETURN_IF_ERROR(
      irvm_fn_call(fn, irvm_hal_import(&types->hal, IRVM_HAL_FENCE_CREATE),
                   (const irvm_reg_t[]){REF(1), I64(4)}, 2,
                   (const irvm_reg_t[]){REF(2)}, 1));
  const uint32_t strings[4] = {rodata->scope, rodata->key_table,
                               rodata->key_data, rodata->spans};
  for (uint16_t i = 0; i < 4; ++i) {
    IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                                  irvm_opnd_rodata(strings[i]),
                                  irvm_opnd_ref((uint16_t)(3 + i))));
  }
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_opnd_import(types->parameters_load),
      (const irvm_reg_t[]){MOVE(1), I64(2), MOVE(0), REF(2), MOVE(3), I64(2),
                           I32(6), I32(7), MOVE(4), MOVE(5), MOVE(6)},
      11, (const irvm_reg_t[]){REF(7)}, 1));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_LIST_GET_REF, irvm_opnd_ref(7),
                                irvm_opnd_i32(0), irvm_opnd_type(types->buffer),
                                irvm_opnd_ref(8)));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(7))));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC_YIELDABLE,
                irvm_hal_import(&types->hal, IRVM_HAL_FENCE_AWAIT),
                IRVM_SEGMENTS(-1, -1, 1), IRVM_LIST(I32(8), I64(4), MOVE(2)),
                IRVM_GOTO(resume), IRVM_LIST(I32(9))));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, resume));
  IRT_RETURN_IF_ERROR(irvm_fn_cond_br(fn, I32(9), failed, ok));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, ok));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_REF, irvm_opnd_global_ref(1),
                irvm_opnd_type(types->buffer), irvm_opnd_ref(8)));
  IRT_RETURN_IF_ERROR(irvm_fn_return(fn, NULL, 0));

  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, failed));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(8))));
  return irvm_fn_fail(fn, I32(9), "failed to wait on timepoint");
}

// probe(offset: i64) -> i32: the 4 bytes of the loaded parameter at
// |offset|, read by the host through hal.buffer.load.
static irt_status_t define_probe(irvm_module_builder_t* b,
                                 const module_types_t* types) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "probe", "0I_i", &fn));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(1),
                irvm_opnd_type(types->buffer), irvm_opnd_ref(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(2), 4));
  IRT_RETURN_IF_ERROR(
      irvm_fn_call(fn, irvm_hal_import(&types->hal, IRVM_HAL_BUFFER_LOAD),
                   (const irvm_reg_t[]){MOVE(0), I64(0), I32(2)}, 3,
                   (const irvm_reg_t[]){I32(3)}, 1));
  return irvm_fn_return(fn, (const irvm_reg_t[]){I32(3)}, 1);
}

static irt_status_t define_weight(irvm_module_builder_t* b,
                                  const module_types_t* types) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "weight", "0v_r", &fn));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(1),
                irvm_opnd_type(types->buffer), irvm_opnd_ref(0)));
  return irvm_fn_return(fn, (const irvm_reg_t[]){MOVE(0)}, 1);
}

static irt_status_t define_module(irvm_module_builder_t* b,
                                  uint64_t parameter_length) {
  module_types_t types;
  irvm_type_t unused;
  const char* other_types[] = {"i32", "i64", "!hal.fence", "!vm.buffer",
                               "!vm.list<!vm.ref<!hal.buffer>>"};
  for (size_t i = 0; i < sizeof(other_types) / sizeof(other_types[0]); ++i) {
    IRT_RETURN_IF_ERROR(
        irvm_module_builder_add_type(b, other_types[i], &unused));
  }
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(b, "!hal.device", &types.device));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(b, "!hal.buffer", &types.buffer));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(b, "io_parameters", 0,
                                                         IRVM_FLAG_REQUIRED));
  IRT_RETURN_IF_ERROR(irvm_hal_imports_declare(
      b, kHalImports, sizeof(kHalImports) / sizeof(kHalImports[0]),
      &types.hal));
  // The cconv iree-compile v3.11 gives it (scale.vmfb).
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      b, "io_parameters.load", "0rIrrrIiirrr_r", IRVM_FLAG_REQUIRED,
      &types.parameters_load));
  // The io_parameters ABI buffers (HAL spec 2.2): key table {0, 6}, key
  // "weight", one span {parameter 0, buffer 0, length}.
  module_rodata_t rodata;
  uint8_t key_table[8] = {0, 0, 0, 0, 6, 0, 0, 0};
  uint8_t spans[24] = {0};
  for (int i = 0; i < 8; ++i) {
    spans[16 + i] = (uint8_t)(parameter_length >> (8 * i));
  }
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(b, "model", 5, NULL, &rodata.scope));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(
      b, key_table, sizeof(key_table), NULL, &rodata.key_table));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(b, "weight", 6, NULL, &rodata.key_data));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(b, spans, sizeof(spans),
                                                     NULL, &rodata.spans));
  IRT_RETURN_IF_ERROR(irvm_module_builder_set_module_state(b, 0, 2));
  IRT_RETURN_IF_ERROR(define_init(b, &types, &rodata));
  IRT_RETURN_IF_ERROR(define_probe(b, &types));
  return define_weight(b, &types);
}

irt_status_t params_module_build(irt_allocator_t allocator,
                                 uint64_t parameter_length, uint8_t** out_data,
                                 size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  irvm_module_builder_t* b = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_create(allocator, "params_probe", 0, &b));
  irt_status_t status = define_module(b, parameter_length);
  if (!status) {
    status = irvm_module_builder_finish(b, NULL, allocator, out_data, out_size);
  }
  irvm_module_builder_destroy(b);
  return status;
}
