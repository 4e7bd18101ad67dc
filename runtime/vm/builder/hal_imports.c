#include "runtime/vm/builder/hal_imports.h"

#include <stdio.h>
#include <string.h>

// In enum order; tests/modules_hal/test_module.c checks each cconv
// against the hal module's export of the same name.
static const irvm_hal_import_info_t irvm_hal_import_table[] = {
    [IRVM_HAL_BUFFER_VIEW_ASSERT] = {"hal.buffer_view.assert", "0rriiCID_v"},
    [IRVM_HAL_BUFFER_VIEW_BUFFER] = {"hal.buffer_view.buffer", "0r_r"},
    [IRVM_HAL_BUFFER_VIEW_CREATE] = {"hal.buffer_view.create", "0rIIiiCID_r"},
    [IRVM_HAL_BUFFER_VIEW_DIM] = {"hal.buffer_view.dim", "0ri_I"},
    [IRVM_HAL_COMMAND_BUFFER_CREATE] = {"hal.command_buffer.create",
                                        "0riiIi_r"},
    [IRVM_HAL_COMMAND_BUFFER_DISPATCH] = {"hal.command_buffer.dispatch",
                                          "0rriiiiICiDCiirIID_v"},
    [IRVM_HAL_COMMAND_BUFFER_FINALIZE] = {"hal.command_buffer.finalize",
                                          "0r_v"},
    [IRVM_HAL_DEVICE_QUERY_I64] = {"hal.device.query.i64", "0rrr_iI"},
    [IRVM_HAL_DEVICE_QUEUE_ALLOCA] = {"hal.device.queue.alloca",
                                      "0rIrrIiiII_r"},
    [IRVM_HAL_DEVICE_QUEUE_EXECUTE] = {"hal.device.queue.execute", "0rIrrrI_v"},
    [IRVM_HAL_DEVICES_GET] = {"hal.devices.get", "0i_r"},
    [IRVM_HAL_EXECUTABLE_CREATE] = {"hal.executable.create", "0rIrrr_r"},
    [IRVM_HAL_FENCE_CREATE] = {"hal.fence.create", "0rI_r"},
    [IRVM_HAL_FENCE_AWAIT] = {"hal.fence.await", "0iICrD_i"},
    [IRVM_HAL_BUFFER_LOAD] = {"hal.buffer.load", "0rIi_i"},
    [IRVM_HAL_DEVICE_QUEUE_BARRIER] = {"hal.device.queue.barrier", "0rIrrI_v"},
    [IRVM_HAL_DEVICES_COUNT] = {"hal.devices.count", "0v_i"},
};
_Static_assert(sizeof(irvm_hal_import_table) /
                       sizeof(irvm_hal_import_table[0]) ==
                   IRVM_HAL_IMPORT_COUNT,
               "one table entry per irvm_hal_import_t");

const irvm_hal_import_info_t* irvm_hal_import_info(irvm_hal_import_t import) {
  if ((unsigned)import >= IRVM_HAL_IMPORT_COUNT) return NULL;
  return &irvm_hal_import_table[import];
}

irt_status_t irvm_hal_imports_declare(irvm_module_builder_t* builder,
                                      const irvm_hal_import_t* imports,
                                      size_t count,
                                      irvm_hal_imports_t* out_imports) {
  memset(out_imports->ordinals, 0xFF, sizeof(out_imports->ordinals));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(
      builder, "hal", IRVM_HAL_MODULE_VERSION, IRVM_FLAG_REQUIRED));
  for (size_t i = 0; i < count; ++i) {
    const irvm_hal_import_info_t* info = irvm_hal_import_info(imports[i]);
    if (!info) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "hal import %zu: unknown import %d", i,
                             (int)imports[i]);
    }
    uint32_t* ordinal = &out_imports->ordinals[imports[i]];
    if (*ordinal != UINT32_MAX) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "hal import %zu: %s declared twice", i,
                             info->name);
    }
    IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
        builder, info->name, info->cconv, IRVM_FLAG_REQUIRED, ordinal));
  }
  return IRT_OK;
}

irt_status_t irvm_hal_imports_declare_dispatch(
    irvm_module_builder_t* builder, irvm_hal_imports_t* out_imports) {
  irvm_hal_import_t imports[IRVM_HAL_DISPATCH_IMPORT_COUNT];
  for (int i = 0; i < IRVM_HAL_DISPATCH_IMPORT_COUNT; ++i) {
    imports[i] = (irvm_hal_import_t)i;
  }
  return irvm_hal_imports_declare(builder, imports,
                                  IRVM_HAL_DISPATCH_IMPORT_COUNT, out_imports);
}

irt_status_t irvm_hal_add_executable_rodata(
    irvm_module_builder_t* builder, const char* format, const void* data,
    size_t size, const irvm_rodata_options_t* options,
    irvm_hal_executable_rodata_t* out_rodata) {
  static const char kCategory[] = "hal.executable.format";
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(builder, kCategory, sizeof(kCategory) - 1,
                                     NULL, &out_rodata->format_category));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(
      builder, format, strlen(format), NULL, &out_rodata->format));
  return irvm_module_builder_add_rodata(builder, data, size, options,
                                        &out_rodata->executable);
}

#define I32(n) irvm_reg_i32(n)
#define I64(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)

// %r0 = devices.get(0); (%i1, %i2:3) = query(%r0, "hal.executable.format",
// format) with the format in %r2; branches to |found| when both are
// non-zero, to |missing| otherwise.
static irt_status_t emit_query_format(irvm_function_builder_t* fn,
                                      const irvm_hal_init_t* init,
                                      irvm_label_t found,
                                      irvm_label_t missing) {
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, I32(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(init->imports, IRVM_HAL_DEVICES_GET),
      (const irvm_reg_t[]){I32(0)}, 1, (const irvm_reg_t[]){REF(0)}, 1));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                                irvm_opnd_rodata(init->rodata.format_category),
                                irvm_opnd_ref(1)));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                                irvm_opnd_rodata(init->rodata.format),
                                irvm_opnd_ref(2)));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(init->imports, IRVM_HAL_DEVICE_QUERY_I64),
      (const irvm_reg_t[]){REF(0), MOVE(1), REF(2)}, 3,
      (const irvm_reg_t[]){I32(1), I64(2)}, 2));
  IRT_RETURN_IF_ERROR(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_I64, I32(4), I64(2)));
  IRT_RETURN_IF_ERROR(
      irvm_fn_op3(fn, IRVM_INSN_AND_I32, I32(1), I32(1), I32(4)));
  return irvm_fn_cond_br(fn, I32(1), found, missing);
}

irt_status_t irvm_hal_begin_init_executable(irvm_module_builder_t* builder,
                                            const irvm_hal_init_t* init,
                                            irvm_function_builder_t** out_fn) {
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_exported_function(
      builder, "__init", "0v_v", out_fn));
  irvm_function_builder_t* fn = *out_fn;
  irvm_type_t device_type, executable_type;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(builder, "!hal.device", &device_type));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_type(builder, "!hal.executable",
                                                   &executable_type));
  irvm_label_t found, missing;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &found));
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &missing));
  IRT_RETURN_IF_ERROR(emit_query_format(fn, init, found, missing));

  // The compiler's INCOMPATIBLE failure when device 0 lacks the format.
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, missing));
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(0), REF(2))));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, I32(5), 18));
  char message[256];
  snprintf(message, sizeof(message),
           "HAL device `__device_0` not found or unavailable: %s running %s",
           init->requirement, init->format);
  IRT_RETURN_IF_ERROR(irvm_fn_fail(fn, I32(5), message));

  // Stores the device, creates the executable (any queue, no constants).
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, found));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_REF,
                                irvm_opnd_global_ref(init->device_global),
                                irvm_opnd_type(device_type), irvm_opnd_ref(0)));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i64(fn, I64(6), -1));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                                irvm_opnd_rodata(init->rodata.executable),
                                irvm_opnd_ref(3)));
  IRT_RETURN_IF_ERROR(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, REF(4)));
  IRT_RETURN_IF_ERROR(irvm_fn_call(
      fn, irvm_hal_import(init->imports, IRVM_HAL_EXECUTABLE_CREATE),
      (const irvm_reg_t[]){REF(0), I64(6), MOVE(2), MOVE(3), MOVE(4)}, 5,
      (const irvm_reg_t[]){REF(5)}, 1));
  return IRVM_EMIT(fn, IRVM_INSN_GLOBAL_STORE_REF,
                   irvm_opnd_global_ref(init->executable_global),
                   irvm_opnd_type(executable_type), irvm_opnd_ref_move(5));
}
