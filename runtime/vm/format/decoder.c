#include "runtime/vm/format/decoder.h"

#include <string.h>

typedef struct irvm_cursor_s {
  const uint8_t* code;
  uint32_t length;
  uint32_t pc;       // next byte to read
  uint32_t insn_pc;  // start of the instruction, for messages
  const char* mnemonic;
} irvm_cursor_t;

// Fails unless |bytes| more bytes are available at the cursor.
static irt_status_t irvm_cursor_need(const irvm_cursor_t* cursor,
                                     uint32_t bytes) {
  if (cursor->pc <= cursor->length && bytes <= cursor->length - cursor->pc) {
    return IRT_OK;
  }
  return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                         "bytecode data overrun at pc 0x%04X (%s needs %u "
                         "bytes at pc 0x%04X; the function has %u bytes)",
                         cursor->insn_pc, cursor->mnemonic, bytes, cursor->pc,
                         cursor->length);
}

// Lists and remap counts start at an even pc (relative to the function
// start); the padding byte's value is not checked (spec 6.2).
static void irvm_cursor_align2(irvm_cursor_t* cursor) {
  cursor->pc += cursor->pc & 1u;
}

static irt_status_t irvm_cursor_u16(irvm_cursor_t* cursor, uint16_t* out) {
  IRT_RETURN_IF_ERROR(irvm_cursor_need(cursor, 2));
  *out = irvm_load_u16(cursor->code + cursor->pc);
  cursor->pc += 2;
  return IRT_OK;
}

static irt_status_t irvm_cursor_u32(irvm_cursor_t* cursor, uint32_t* out) {
  IRT_RETURN_IF_ERROR(irvm_cursor_need(cursor, 4));
  *out = irvm_load_u32(cursor->code + cursor->pc);
  cursor->pc += 4;
  return IRT_OK;
}

// u16 count (at an even pc) then |count| entries of |entry_size| bytes.
static irt_status_t irvm_cursor_counted(irvm_cursor_t* cursor,
                                        uint32_t entry_size,
                                        const uint8_t** out_entries,
                                        uint16_t* out_count) {
  irvm_cursor_align2(cursor);
  IRT_RETURN_IF_ERROR(irvm_cursor_u16(cursor, out_count));
  uint32_t bytes = (uint32_t)*out_count * entry_size;
  IRT_RETURN_IF_ERROR(irvm_cursor_need(cursor, bytes));
  *out_entries = cursor->code + cursor->pc;
  cursor->pc += bytes;
  return IRT_OK;
}

// ^blk(remap): u32 target, then an aligned u16 count of (src, dst) pairs.
static irt_status_t irvm_cursor_branch(irvm_cursor_t* cursor, bool has_remaps,
                                       irvm_branch_t* out_branch) {
  memset(out_branch, 0, sizeof(*out_branch));
  IRT_RETURN_IF_ERROR(irvm_cursor_u32(cursor, &out_branch->target));
  out_branch->remaps = cursor->code + cursor->pc;
  if (!has_remaps) return IRT_OK;
  return irvm_cursor_counted(cursor, 4, &out_branch->remaps,
                             &out_branch->remap_count);
}

static irt_status_t irvm_cursor_operand(irvm_cursor_t* cursor, char kind,
                                        irvm_operand_t* out_operand) {
  out_operand->kind = kind;
  out_operand->pc = cursor->pc;
  switch (kind) {
    case 'i':
    case 'I':
    case 'r':
    case 'R':
      return irvm_cursor_u16(cursor, &out_operand->reg);
    case 'c':
    case 'g':
    case 'G':
    case 'd':
    case 't':
    case 'f':
      return irvm_cursor_u32(cursor, &out_operand->u32);
    case 'C':
      IRT_RETURN_IF_ERROR(irvm_cursor_need(cursor, 8));
      out_operand->u64 = irvm_load_u64(cursor->code + cursor->pc);
      cursor->pc += 8;
      return IRT_OK;
    case 's': {
      uint16_t length = 0;
      IRT_RETURN_IF_ERROR(irvm_cursor_u16(cursor, &length));
      IRT_RETURN_IF_ERROR(irvm_cursor_need(cursor, length));
      out_operand->string =
          irt_make_string_view((const char*)cursor->code + cursor->pc, length);
      cursor->pc += length;
      return IRT_OK;
    }
    case 'L':
    case 'Q':
    case 'J':
    case 'K':
    case 'M':
    case 'S':
      IRT_RETURN_IF_ERROR(irvm_cursor_counted(
          cursor, 2, &out_operand->list.entries, &out_operand->list.count));
      out_operand->pc =
          (uint32_t)(out_operand->list.entries - cursor->code) - 2;
      return IRT_OK;
    case 'B':
    case 'b':
      return irvm_cursor_branch(cursor, kind == 'B', &out_operand->branch);
    case 'T': {
      IRT_RETURN_IF_ERROR(irvm_cursor_u16(cursor, &out_operand->table.count));
      out_operand->table.code = cursor->code;
      out_operand->table.first_case_pc = cursor->pc;
      for (uint16_t i = 0; i < out_operand->table.count; ++i) {
        irvm_branch_t branch;
        IRT_RETURN_IF_ERROR(irvm_cursor_branch(cursor, true, &branch));
      }
      return IRT_OK;
    }
    default:
      // Only reachable if opcodes.h gains a letter this decoder lacks.
      return irt_make_status(IRT_STATUS_INTERNAL,
                             "%s layout has unknown field kind '%c'",
                             cursor->mnemonic, kind);
  }
}

irt_status_t irvm_instruction_decode(const uint8_t* code, uint32_t code_length,
                                     uint32_t pc,
                                     irvm_instruction_t* out_instruction) {
  irvm_cursor_t cursor = {code, code_length, pc, pc, "an instruction"};
  out_instruction->pc = pc;
  out_instruction->operand_count = 0;
  uint8_t opcode = 0;
  IRT_RETURN_IF_ERROR(irvm_cursor_need(&cursor, 1));
  opcode = code[cursor.pc++];
  irvm_op_table_t table = IRVM_OP_TABLE_CORE;
  if (opcode == IRVM_OP_PREFIX_EXT_F32 || opcode == IRVM_OP_PREFIX_EXT_F64) {
    table = opcode == IRVM_OP_PREFIX_EXT_F32 ? IRVM_OP_TABLE_EXT_F32
                                             : IRVM_OP_TABLE_EXT_F64;
    cursor.mnemonic = opcode == IRVM_OP_PREFIX_EXT_F32
                          ? "an ExtF32 instruction"
                          : "an ExtF64 instruction";
    IRT_RETURN_IF_ERROR(irvm_cursor_need(&cursor, 1));
    uint8_t prefix = opcode;
    opcode = code[cursor.pc++];
    out_instruction->info = irvm_op_info(table, opcode);
    if (!out_instruction->info) {
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "unrecognized opcode 0x%02X 0x%02X at pc 0x%04X "
          "(not in the %s table)",
          prefix, opcode, pc,
          table == IRVM_OP_TABLE_EXT_F32 ? "ExtF32" : "ExtF64");
    }
  } else {
    out_instruction->info = irvm_op_info(table, opcode);
    if (!out_instruction->info) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "unrecognized opcode 0x%02X at pc 0x%04X", opcode,
                             pc);
    }
  }
  cursor.mnemonic = out_instruction->info->mnemonic;
  bool is_result = false;
  for (const char* kind = out_instruction->info->layout; *kind; ++kind) {
    if (*kind == '>') {
      is_result = true;
      continue;
    }
    if (out_instruction->operand_count == IRVM_MAX_OPERANDS) {
      return irt_make_status(IRT_STATUS_INTERNAL,
                             "%s layout has more than %d fields",
                             cursor.mnemonic, IRVM_MAX_OPERANDS);
    }
    irvm_operand_t* operand =
        &out_instruction->operands[out_instruction->operand_count++];
    operand->is_result = is_result;
    IRT_RETURN_IF_ERROR(irvm_cursor_operand(&cursor, *kind, operand));
  }
  out_instruction->next_pc = cursor.pc;
  return IRT_OK;
}

void irvm_br_table_begin(const irvm_operand_t* table,
                         irvm_br_table_iterator_t* out_iterator) {
  out_iterator->code = table->table.code;
  out_iterator->pc = table->table.first_case_pc;
  out_iterator->remaining = table->table.count;
}

bool irvm_br_table_next(irvm_br_table_iterator_t* iterator,
                        irvm_branch_t* out_branch) {
  if (iterator->remaining == 0) return false;
  // Same walk as the decoder's, without checks: the decoder proved that
  // every case lies inside the function.
  const uint8_t* code = iterator->code;
  uint32_t pc = iterator->pc;
  out_branch->target = irvm_load_u32(code + pc);
  pc += 4;
  pc += pc & 1u;
  out_branch->remap_count = irvm_load_u16(code + pc);
  pc += 2;
  out_branch->remaps = code + pc;
  pc += 4u * out_branch->remap_count;
  iterator->pc = pc;
  --iterator->remaining;
  return true;
}

void irvm_br_table_case(const irvm_operand_t* table, uint16_t index,
                        irvm_branch_t* out_branch) {
  irvm_br_table_iterator_t iterator;
  irvm_br_table_begin(table, &iterator);
  for (uint32_t i = 0; i <= index; ++i) {
    if (!irvm_br_table_next(&iterator, out_branch)) return;
  }
}
