#include "runtime/vm/opcodes.h"

#include <stddef.h>

#define IRVM_CORE_ROW(opcode, name, mnemonic, layout, flags) \
  [opcode] = {opcode, IRVM_OP_TABLE_CORE, flags, mnemonic, layout},
#define IRVM_F32_ROW(opcode, name, mnemonic, layout, flags) \
  [opcode] = {opcode, IRVM_OP_TABLE_EXT_F32, flags, mnemonic, layout},
#define IRVM_F64_ROW(opcode, name, mnemonic, layout, flags) \
  [opcode] = {opcode, IRVM_OP_TABLE_EXT_F64, flags, mnemonic, layout},

static const irvm_op_info_t irvm_core_op_rows[256] = {IRVM_CORE_OPS(IRVM_CORE_ROW)};
static const irvm_op_info_t irvm_ext_f32_op_rows[256] = {IRVM_EXT_F32_OPS(IRVM_F32_ROW)};
static const irvm_op_info_t irvm_ext_f64_op_rows[256] = {IRVM_EXT_F64_OPS(IRVM_F64_ROW)};

const irvm_op_info_t* irvm_op_info(irvm_op_table_t table, uint8_t opcode) {
  const irvm_op_info_t* rows = NULL;
  switch (table) {
    case IRVM_OP_TABLE_CORE: rows = irvm_core_op_rows; break;
    case IRVM_OP_TABLE_EXT_F32: rows = irvm_ext_f32_op_rows; break;
    case IRVM_OP_TABLE_EXT_F64: rows = irvm_ext_f64_op_rows; break;
    default: return NULL;
  }
  const irvm_op_info_t* row = &rows[opcode];
  return row->mnemonic ? row : NULL;
}
