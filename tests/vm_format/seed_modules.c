#include "tests/vm_format/seed_modules.h"

#include <string.h>

#include "runtime/vm/builder/module_builder.h"

// Fields for one instruction of |info|, derived from its layout letters.
// Branches go to |target| (the next block). Pointed-to arrays are static.
static size_t irvm_seed_operands(const irvm_op_info_t* info, irvm_type_t type,
                                 irvm_label_t target, irvm_opnd_t* operands) {
  static const irvm_reg_t any[] = {{IRVM_REG_I32, false, 1},
                                   {IRVM_REG_I64, false, 2},
                                   {IRVM_REG_REF, false, 0},
                                   {IRVM_REG_REF, true, 1}};
  static const irvm_reg_t refs[] = {{IRVM_REG_REF, false, 2},
                                    {IRVM_REG_REF, false, 3}};
  static const irvm_reg_t moved[] = {{IRVM_REG_REF, true, 2}};
  static const irvm_reg_t i32s[] = {{IRVM_REG_I32, false, 3},
                                    {IRVM_REG_I32, false, 4}};
  static const irvm_reg_t i64s[] = {{IRVM_REG_I64, false, 6}};
  static const int16_t segments[] = {-1, -1, 1};
  static irvm_remap_t remaps[] = {
      {{IRVM_REG_I32, false, 1}, {IRVM_REG_I32, false, 5}},
      {{IRVM_REG_REF, true, 0}, {IRVM_REG_REF, false, 4}}};
  static irvm_branch_target_t cases[2];
  cases[0] = (irvm_branch_target_t){target, remaps, 1};
  cases[1] = (irvm_branch_target_t){target, NULL, 0};
  size_t count = 0;
  for (const char* kind = info->layout; *kind; ++kind) {
    irvm_opnd_t* operand = &operands[count];
    switch (*kind) {
      case '>':
        continue;
      case 'i':
        *operand = irvm_opnd_i32(1);
        break;
      case 'I':
        *operand = irvm_opnd_i64(2);
        break;
      case 'r':
        *operand = irvm_opnd_ref(0);
        break;
      case 'R':
        *operand = irvm_opnd_ref_move(1);
        break;
      case 'c':
        *operand = irvm_opnd_imm_i32(-77);
        break;
      case 'C':
        *operand = irvm_opnd_imm_i64(0x123456789ll);
        break;
      case 'g':
        *operand = irvm_opnd_global(8);
        break;
      case 'G':
        *operand = irvm_opnd_global_ref(1);
        break;
      case 'd':
        *operand = irvm_opnd_rodata(0);
        break;
      case 't':
        *operand = irvm_opnd_type(type);
        break;
      case 'f':
        *operand = irvm_opnd_import(0);
        break;
      case 's':
        *operand = irvm_opnd_string("seed \"text\"\n");
        break;
      case 'L':
        *operand = irvm_opnd_list(any, 4);
        break;
      case 'Q':
        *operand = irvm_opnd_list(refs, 2);
        break;
      case 'M':
        *operand = irvm_opnd_list(moved, 1);
        break;
      case 'J':
        *operand = irvm_opnd_list(i32s, 2);
        break;
      case 'K':
        *operand = irvm_opnd_list(i64s, 1);
        break;
      case 'S':
        *operand = irvm_opnd_segments(segments, 3);
        break;
      case 'B':
        *operand = irvm_opnd_branch(target, remaps, 2);
        break;
      case 'b':
        *operand = irvm_opnd_branch(target, NULL, 0);
        break;
      case 'T':
        *operand = irvm_opnd_branch_table(cases, 2);
        break;
      default:
        break;
    }
    ++count;
  }
  return count;
}

// One function holding every opcode of |table| once (block markers aside);
// each terminator ends a block that the next instruction starts.
static irt_status_t irvm_seed_emit_table(irvm_module_builder_t* builder,
                                         irvm_op_table_t table,
                                         irvm_type_t type) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_function(builder, "0v_v", &fn));
  irvm_label_t next;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &next));
  for (unsigned opcode = 0; opcode < 256; ++opcode) {
    const irvm_op_info_t* info = irvm_op_info(table, (uint8_t)opcode);
    if (!info || (table == IRVM_OP_TABLE_CORE && opcode == IRVM_OP_BLOCK)) {
      continue;
    }
    irvm_opnd_t operands[8];
    size_t count = irvm_seed_operands(info, type, next, operands);
    IRT_RETURN_IF_ERROR_CTX(
        irvm_fn_emit(fn, irvm_insn_make(table, (uint8_t)opcode), operands,
                     count),
        "emitting %s", info->mnemonic);
    if (info->flags & IRVM_OPF_TERMINATOR) {
      IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, next));
      IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &next));
    }
  }
  return irvm_fn_return(fn, NULL, 0);
}

static irt_status_t irvm_seed_every_op(irvm_module_builder_t* builder) {
  irvm_type_t type;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(builder, "!vm.buffer", &type));
  uint32_t ordinal = 0;
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      builder, "seed.f", "0iICrD_r", IRVM_FLAG_REQUIRED, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(builder, "seed", 1,
                                                         IRVM_FLAG_REQUIRED));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(builder, "seed", 4, NULL, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_set_module_state(builder, 16, 2));
  IRT_RETURN_IF_ERROR(irvm_seed_emit_table(builder, IRVM_OP_TABLE_CORE, type));
  IRT_RETURN_IF_ERROR(
      irvm_seed_emit_table(builder, IRVM_OP_TABLE_EXT_F32, type));
  IRT_RETURN_IF_ERROR(
      irvm_seed_emit_table(builder, IRVM_OP_TABLE_EXT_F64, type));
  return irvm_module_builder_add_export(builder, "core", 0, &ordinal);
}

// Metadata of every kind: attributes, optional imports and dependencies,
// external rodata with a MIME type, every debug location kind.
static irt_status_t irvm_seed_metadata(irvm_module_builder_t* builder) {
  uint32_t ordinal = 0;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_attr(builder, "iree.reflection.x", "1"));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(builder, "hal", 6,
                                                         IRVM_FLAG_REQUIRED));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(
      builder, "io_parameters", 1, IRVM_FLAG_OPTIONAL));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      builder, "hal.devices.count", "0v_i", IRVM_FLAG_REQUIRED, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      builder, "io_parameters.load", NULL, IRVM_FLAG_OPTIONAL, &ordinal));
  static const uint8_t elf[64] = {0x7F, 'E', 'L', 'F', 2, 1, 1};
  irvm_rodata_options_t options = {IRVM_RODATA_EXTERNAL, 64, "seed_elf",
                                   "application/x-elf"};
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(builder, elf, sizeof(elf),
                                                     &options, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(
      builder, "hal.executable.format", 21, NULL, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(
      builder, "embedded-elf-x86_64", 19, NULL, &ordinal));
  int32_t file = 0, name = 0, call = 0, fused = 0;
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_location_file_line_col(
      builder, "seed.mlir", 3, 7, &file));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_location_name(builder, "op", file, &name));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_location_call_site(builder, name, file, &call));
  const int32_t children[] = {file, name, call};
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_location_fused(
      builder, "meta", children, 3, &fused));

  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_exported_function(
      builder, "main", "0i_i", &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_add_attr(fn, "iree.abi.declaration",
                                       "sync func @main(%x: i32) -> i32"));
  irvm_fn_set_location(fn, fused);
  IRT_RETURN_IF_ERROR(
      irvm_fn_emit(fn, IRVM_INSN_CONST_REF_RODATA,
                   (irvm_opnd_t[]){irvm_opnd_rodata(1), irvm_opnd_ref(0)}, 2));
  IRT_RETURN_IF_ERROR(
      irvm_fn_emit(fn, IRVM_INSN_CONST_REF_RODATA,
                   (irvm_opnd_t[]){irvm_opnd_rodata(2), irvm_opnd_ref(1)}, 2));
  IRT_RETURN_IF_ERROR(irvm_fn_emit(
      fn, IRVM_INSN_DISCARD_REFS,
      (irvm_opnd_t[]){IRVM_LIST(irvm_reg_ref(0), irvm_reg_ref(1))}, 1));
  irvm_fn_set_location(fn, call);
  const irvm_reg_t result = irvm_reg_i32(1);
  IRT_RETURN_IF_ERROR(
      irvm_fn_call(fn, irvm_opnd_import(0), NULL, 0, &result, 1));
  IRT_RETURN_IF_ERROR(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, irvm_reg_i32(0),
                                  irvm_reg_i32(0), irvm_reg_i32(1)));
  return irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_i32(0)}, 1);
}

irt_status_t irvm_seed_module_build(uint32_t index, irt_allocator_t allocator,
                                    uint8_t** out_data, size_t* out_size,
                                    const char** out_name) {
  static const char* const names[IRVM_SEED_MODULE_COUNT] = {
      "every_op.vmfb", "every_op_flat.vmfb", "metadata.vmfb"};
  if (index >= IRVM_SEED_MODULE_COUNT) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE, "no seed module %u", index);
  }
  irvm_module_builder_t* builder = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_create(allocator, "seed", 1, &builder));
  irt_status_t status =
      index == 2 ? irvm_seed_metadata(builder) : irvm_seed_every_op(builder);
  if (status == IRT_OK) {
    irvm_finish_options_t options = {.flat = index == 1};
    status = irvm_module_builder_finish(builder, &options, allocator, out_data,
                                        out_size);
  }
  irvm_module_builder_destroy(builder);
  *out_name = names[index];
  return status;
}
