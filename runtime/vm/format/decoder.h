// A layout-driven instruction decoder over one function's bytecode.
//
// irvm_instruction_decode() reads the instruction at a pc using the layout
// strings of runtime/vm/opcodes.h and exposes every field in layout order.
// It allocates nothing and never reads outside [code, code + code_length):
// every field, padding byte, list, remap list and br_table case is bounds-
// checked before the instruction is returned, so the accessors below can
// read the pointed-to data without further checks.
//
// Decoding is purely structural: register banks, ordinals, MOVE bits, block
// targets, type/function/rodata indices and feature bits are reported as
// found, not validated. That is the verifier's job (spec 6.4).
//
// Walking a function:
//   for (uint32_t pc = 0; pc < length; pc = insn.next_pc) {
//     IRT_RETURN_IF_ERROR(irvm_instruction_decode(code, length, pc, &insn));
//     ...
//   }
#ifndef IRVM_FORMAT_DECODER_H
#define IRVM_FORMAT_DECODER_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"
#include "runtime/vm/format/flatbuffer.h"
#include "runtime/vm/opcodes.h"

// Register operands (spec 5.1).
#define IRVM_REGISTER_REF_BIT 0x8000u
#define IRVM_REGISTER_MOVE_BIT 0x4000u
static inline bool irvm_register_is_ref(uint16_t reg) {
  return (reg & IRVM_REGISTER_REF_BIT) != 0;
}
static inline bool irvm_register_is_move(uint16_t reg) {
  return (reg & (IRVM_REGISTER_REF_BIT | IRVM_REGISTER_MOVE_BIT)) ==
         (IRVM_REGISTER_REF_BIT | IRVM_REGISTER_MOVE_BIT);
}
// Bank ordinal: bits 0-14 for i32 registers, bits 0-13 for refs.
static inline uint16_t irvm_register_ordinal(uint16_t reg) {
  return irvm_register_is_ref(reg) ? (uint16_t)(reg & 0x3FFFu)
                                   : (uint16_t)(reg & 0x7FFFu);
}

// A branch target with its remap list: |remap_count| (src, dst) pairs of
// u16 registers at |remaps| (unaligned). A plain ^blk ('b') has no remaps.
typedef struct irvm_branch_s {
  uint32_t target;  // pc of the target block's marker byte
  const uint8_t* remaps;
  uint16_t remap_count;
} irvm_branch_t;

static inline void irvm_branch_remap(const irvm_branch_t* branch,
                                     uint16_t index, uint16_t* out_src,
                                     uint16_t* out_dst) {
  *out_src = irvm_load_u16(branch->remaps + 4u * index);
  *out_dst = irvm_load_u16(branch->remaps + 4u * index + 2u);
}

// One decoded field. |kind| is its layout letter (opcodes.h); which member
// of the union is set follows from it:
//   i I r R        reg (raw u16, bank/MOVE bits included)
//   c g G d t f    u32
//   C              u64
//   s              string (not NUL-terminated)
//   L Q J K M S    list: |count| u16 entries at |entries| (unaligned)
//   B b            branch ('b': remap_count 0)
//   T              table: |count| cases; iterate with irvm_br_table_*
typedef struct irvm_operand_s {
  char kind;
  bool is_result;  // after the '>' of the layout
  uint32_t pc;     // pc of the field's first byte, after any padding
  union {
    uint16_t reg;
    uint32_t u32;
    uint64_t u64;
    irt_string_view_t string;
    struct {
      const uint8_t* entries;
      uint16_t count;
    } list;
    irvm_branch_t branch;
    struct {
      const uint8_t* code;     // the function's first byte (for alignment)
      uint32_t first_case_pc;  // pc of case 0's target field
      uint16_t count;
    } table;
  };
} irvm_operand_t;

// Entry |index| (< count) of a list operand: a raw register, or for 'S' a
// segment size stored as i16 (cast it; -1 marks a non-variadic argument).
static inline uint16_t irvm_operand_list_entry(const irvm_operand_t* operand,
                                               uint16_t index) {
  return irvm_load_u16(operand->list.entries + 2u * index);
}

// The longest layout in opcodes.h has 6 fields.
#define IRVM_MAX_OPERANDS 8

typedef struct irvm_instruction_s {
  const irvm_op_info_t* info;  // mnemonic, layout, flags, table
  uint32_t pc;       // the prefix byte for extension ops, else the opcode
  uint32_t next_pc;  // the byte after the last field
  uint8_t operand_count;
  irvm_operand_t operands[IRVM_MAX_OPERANDS];
} irvm_instruction_t;

// Decodes the instruction at |pc| of the |code_length|-byte function |code|.
// Errors: OUT_OF_RANGE "bytecode data overrun at pc X ..." when |pc| or any
// field lies beyond |code_length|; INVALID_ARGUMENT "unrecognized opcode 0x..
// at pc X" for a reserved opcode or prefix (prefixes 0xE0/0xE1 select the
// ExtF32/ExtF64 tables). On error |out_instruction| is unspecified.
irt_status_t irvm_instruction_decode(
    const uint8_t* code, uint32_t code_length, uint32_t pc,
    irvm_instruction_t* out_instruction) IRT_MUST_USE;

// Iterates the cases of a decoded 'T' operand in order (cases have variable
// size, so there is no random access). Only valid on an operand returned by
// irvm_instruction_decode, which has bounds-checked every case.
typedef struct irvm_br_table_iterator_s {
  const uint8_t* code;
  uint32_t pc;
  uint16_t remaining;
} irvm_br_table_iterator_t;

void irvm_br_table_begin(const irvm_operand_t* table,
                         irvm_br_table_iterator_t* out_iterator);
// Returns false when all cases have been returned.
bool irvm_br_table_next(irvm_br_table_iterator_t* iterator,
                        irvm_branch_t* out_branch);
// Case |index| (< count), found by walking the preceding cases.
void irvm_br_table_case(const irvm_operand_t* table, uint16_t index,
                        irvm_branch_t* out_branch);

#endif  // IRVM_FORMAT_DECODER_H
