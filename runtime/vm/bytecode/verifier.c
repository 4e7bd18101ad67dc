// Bytecode verification (VM spec 6.4), run on every function at load time so
// the interpreter can decode without bounds checks: every field lies inside
// the function, every register fits its (power-of-two) bank, every ordinal
// indexes its table, calls match their callee's cconv, and every block ends
// in a terminator whose targets are block markers.
#include <stdio.h>

#include "runtime/base/math.h"
#include "runtime/vm/bytecode/internal.h"
#include "runtime/vm/format/decoder.h"

// Spec 5.2 limits after rounding to a power of two.
#define IRVM_MAX_I32_BANK 0x4000u
#define IRVM_MAX_REF_BANK 0x2000u
#define IRVM_MAX_BLOCK_PC 0x00FFFFFFu

typedef struct irvm_verifier_s {
  const irvm_bytecode_module_t* module;
  const irvm_function_descriptor_t* descriptor;
  uint32_t length;
  uint32_t i32_limit;  // ordinals must be below these
  uint32_t ref_limit;
  uint8_t* block_starts;  // bitmaps over pcs
  uint8_t* targets;
  uint32_t pc;  // instruction being verified, for messages
} irvm_verifier_t;

static inline void irvm_bitmap_set(uint8_t* bitmap, uint32_t bit) {
  bitmap[bit >> 3] |= (uint8_t)(1u << (bit & 7));
}
static inline bool irvm_bitmap_test(const uint8_t* bitmap, uint32_t bit) {
  return (bitmap[bit >> 3] >> (bit & 7)) & 1u;
}

//===----------------------------------------------------------------------===//
// Operands
//===----------------------------------------------------------------------===//

static irt_status_t irvm_verify_i32_register(const irvm_verifier_t* v,
                                             uint16_t reg, bool pair) {
  if (irvm_register_is_ref(reg)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "register 0x%04X is a ref where an %s is expected",
                           reg, pair ? "i64 pair" : "i32");
  }
  if (pair && (reg & 1u)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "64-bit register %%i%u is not an even pair", reg);
  }
  uint32_t last = (uint32_t)reg + (pair ? 1u : 0u);
  if (last >= v->i32_limit) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "i32 register %u out of range (bank of %u)", last,
                           v->i32_limit);
  }
  return IRT_OK;
}

static irt_status_t irvm_verify_ref_register(const irvm_verifier_t* v,
                                             uint16_t reg, bool move_allowed) {
  if (!irvm_register_is_ref(reg)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "register %%i%u is an i32 where a ref is expected",
                           reg);
  }
  if (!move_allowed && (reg & IRVM_REGISTER_MOVE_BIT)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "ref register 0x%04X may not carry MOVE here", reg);
  }
  if ((reg & 0x3FFFu) >= v->ref_limit) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "ref register %u out of range (bank of %u)",
                           reg & 0x3FFFu, v->ref_limit);
  }
  return IRT_OK;
}

// A register of whichever bank its bit 15 selects.
static irt_status_t irvm_verify_any_register(const irvm_verifier_t* v,
                                             uint16_t reg) {
  return irvm_register_is_ref(reg) ? irvm_verify_ref_register(v, reg, true)
                                   : irvm_verify_i32_register(v, reg, false);
}

// Checks a register against a cconv kind char.
static irt_status_t irvm_verify_cconv_register(const irvm_verifier_t* v,
                                               char kind, uint16_t reg) {
  switch (kind) {
    case 'i':
    case 'f':
      return irvm_verify_i32_register(v, reg, false);
    case 'I':
    case 'F':
      return irvm_verify_i32_register(v, reg, true);
    default:
      return irvm_verify_ref_register(v, reg, true);
  }
}

static irt_status_t irvm_verify_branch(irvm_verifier_t* v,
                                       const irvm_branch_t* branch) {
  if (branch->target >= IRVM_MAX_BLOCK_PC || branch->target >= v->length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "branch target %04X out of range", branch->target);
  }
  irvm_bitmap_set(v->targets, branch->target);
  for (uint16_t i = 0; i < branch->remap_count; ++i) {
    uint16_t src = 0, dst = 0;
    irvm_branch_remap(branch, i, &src, &dst);
    if (irvm_register_is_ref(src) != irvm_register_is_ref(dst)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "remap %u mixes register banks", i);
    }
    IRT_RETURN_IF_ERROR(irvm_verify_any_register(v, src));
    IRT_RETURN_IF_ERROR(irvm_verify_any_register(v, dst));
  }
  return IRT_OK;
}

static irt_status_t irvm_verify_list(const irvm_verifier_t* v,
                                     const irvm_operand_t* operand) {
  for (uint16_t i = 0; i < operand->list.count; ++i) {
    uint16_t reg = irvm_operand_list_entry(operand, i);
    switch (operand->kind) {
      case 'L':
        IRT_RETURN_IF_ERROR(irvm_verify_any_register(v, reg));
        break;
      case 'Q':
      case 'M':
        IRT_RETURN_IF_ERROR(irvm_verify_ref_register(v, reg, true));
        break;
      case 'J':
        IRT_RETURN_IF_ERROR(irvm_verify_i32_register(v, reg, false));
        break;
      case 'K':
        IRT_RETURN_IF_ERROR(irvm_verify_i32_register(v, reg, true));
        break;
      default:  // 'S': segment sizes, checked with the call
        break;
    }
  }
  return IRT_OK;
}

static irt_status_t irvm_verify_operand(irvm_verifier_t* v,
                                        const irvm_instruction_t* insn,
                                        const irvm_operand_t* operand) {
  const irvm_module_def_t* def = &v->module->def;
  switch (operand->kind) {
    case 'i':
      return irvm_verify_i32_register(v, operand->reg, false);
    case 'I':
      return irvm_verify_i32_register(v, operand->reg, true);
    case 'r':
      return irvm_verify_ref_register(v, operand->reg, false);
    case 'R':
      return irvm_verify_ref_register(v, operand->reg, true);
    case 'g': {
      uint64_t size = (insn->info->flags & IRVM_OPF_GLOBAL8) ? 8 : 4;
      if (!irt_range_fits(operand->u32, size, def->global_bytes_capacity)) {
        return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                               "global byte offset %u (+%u) out of range (%u "
                               "bytes)",
                               operand->u32, (unsigned)size,
                               def->global_bytes_capacity);
      }
      return IRT_OK;
    }
    case 'G':
      if (operand->u32 >= def->global_ref_count) {
        return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                               "ref global %u out of range (%u globals)",
                               operand->u32, def->global_ref_count);
      }
      return IRT_OK;
    case 'd':
      if (operand->u32 >= def->rodata_count) {
        return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                               "rodata %u out of range (%u segments)",
                               operand->u32, def->rodata_count);
      }
      return IRT_OK;
    case 't':
      if (operand->u32 >= def->type_count) {
        return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                               "type %u out of range (%u types)", operand->u32,
                               def->type_count);
      }
      return IRT_OK;
    case 'f': {
      uint32_t ordinal = operand->u32 & ~IRVM_FUNCTION_IMPORT_BIT;
      bool import = (operand->u32 & IRVM_FUNCTION_IMPORT_BIT) != 0;
      uint32_t limit = import ? def->import_count : def->function_count;
      if (ordinal >= limit) {
        return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "%s function %u out of range (%u)",
                               import ? "import" : "internal", ordinal, limit);
      }
      return IRT_OK;
    }
    case 'L':
    case 'Q':
    case 'J':
    case 'K':
    case 'M':
    case 'S':
      return irvm_verify_list(v, operand);
    case 'B':
    case 'b':
      return irvm_verify_branch(v, &operand->branch);
    case 'T': {
      irvm_br_table_iterator_t it;
      irvm_br_table_begin(operand, &it);
      irvm_branch_t branch;
      while (irvm_br_table_next(&it, &branch)) {
        IRT_RETURN_IF_ERROR(irvm_verify_branch(v, &branch));
      }
      return IRT_OK;
    }
    default:  // immediates and strings need no checks
      return IRT_OK;
  }
}

//===----------------------------------------------------------------------===//
// Calls and returns against calling conventions
//===----------------------------------------------------------------------===//

static irt_status_t irvm_verify_list_underflow(void) {
  return irt_make_status(IRT_STATUS_OUT_OF_RANGE, "register list underflow");
}

// Checks |list| against a cconv fragment; |segments| (may be NULL) gives
// span tuple counts per top-level value for variadic calls.
static irt_status_t irvm_verify_list_against_cconv(
    const irvm_verifier_t* v, irt_string_view_t cconv,
    const irvm_operand_t* segments, const irvm_operand_t* list) {
  uint32_t entry = 0;
  uint32_t value_index = 0;
  for (size_t i = 0; i < cconv.size; ++i, ++value_index) {
    if (cconv.data[i] != 'C') {
      if (entry >= list->list.count) return irvm_verify_list_underflow();
      IRT_RETURN_IF_ERROR(irvm_verify_cconv_register(
          v, cconv.data[i], irvm_operand_list_entry(list, (uint16_t)entry++)));
      continue;
    }
    size_t start = i + 1;
    while (cconv.data[i] != 'D') ++i;
    if (!segments) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "variadic callee called without segment sizes");
    }
    if (value_index >= segments->list.count) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "segment size list underflow");
    }
    int16_t count =
        (int16_t)irvm_operand_list_entry(segments, (uint16_t)value_index);
    if (count < 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "negative tuple count %d for a variadic argument",
                             count);
    }
    for (int16_t t = 0; t < count; ++t) {
      for (size_t c = start; c < i; ++c) {
        if (entry >= list->list.count) return irvm_verify_list_underflow();
        IRT_RETURN_IF_ERROR(irvm_verify_cconv_register(
            v, cconv.data[c],
            irvm_operand_list_entry(list, (uint16_t)entry++)));
      }
    }
  }
  return IRT_OK;
}

static irt_status_t irvm_verify_call(const irvm_verifier_t* v,
                                     const irvm_instruction_t* insn) {
  const irvm_operand_t* callee = &insn->operands[0];
  bool variadic = insn->info->opcode == IRVM_OP_CALL_VARIADIC ||
                  insn->info->opcode == IRVM_OP_CALL_VARIADIC_YIELDABLE;
  const irvm_operand_t* segments = variadic ? &insn->operands[1] : NULL;
  const irvm_operand_t* arguments = &insn->operands[variadic ? 2 : 1];
  const irvm_operand_t* results = &insn->operands[insn->operand_count - 1];
  uint32_t ordinal = callee->u32 & ~IRVM_FUNCTION_IMPORT_BIT;
  irvm_cconv_t cconv;
  if (callee->u32 & IRVM_FUNCTION_IMPORT_BIT) {
    const irvm_import_def_t* import = &v->module->def.imports[ordinal];
    if (!import->signature.calling_convention.size) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "call to import '%.*s', which declares no "
                             "signature",
                             IRT_SV_ARG(import->full_name));
    }
    IRT_RETURN_IF_ERROR(
        irvm_cconv_parse(import->signature.calling_convention, &cconv));
  } else {
    if (variadic) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "variadic call to internal function %u", ordinal);
    }
    cconv = v->module->functions[ordinal].cconv;
  }
  IRT_RETURN_IF_ERROR_CTX(
      irvm_verify_list_against_cconv(v, cconv.arguments, segments, arguments),
      "call arguments");
  return irt_status_annotate(
      irvm_verify_list_against_cconv(v, cconv.results, NULL, results),
      "call results");
}

static irt_status_t irvm_verify_semantics(const irvm_verifier_t* v,
                                          const irvm_instruction_t* insn,
                                          const irvm_cconv_t* own_cconv) {
  if (insn->info->table != IRVM_OP_TABLE_CORE) return IRT_OK;
  switch (insn->info->opcode) {
    case IRVM_OP_CALL:
    case IRVM_OP_CALL_VARIADIC:
    case IRVM_OP_CALL_YIELDABLE:
    case IRVM_OP_CALL_VARIADIC_YIELDABLE:
      return irvm_verify_call(v, insn);
    case IRVM_OP_RETURN:
      return irt_status_annotate(
          irvm_verify_list_against_cconv(v, own_cconv->results, NULL,
                                         &insn->operands[0]),
          "return values");
    case IRVM_OP_IMPORT_RESOLVED:
      if (!(insn->operands[0].u32 & IRVM_FUNCTION_IMPORT_BIT)) {
        return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "vm.import.resolved of an internal function");
      }
      return IRT_OK;
    default:
      return IRT_OK;
  }
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

static irt_status_t irvm_verify_header(irvm_verifier_t* v,
                                       const irvm_bc_function_t* function) {
  const irvm_function_descriptor_t* d = v->descriptor;
  if (d->requirements & ~IRVM_FEATURES_ALL) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "requires unavailable features 0x%X",
                           d->requirements & ~IRVM_FEATURES_ALL);
  }
  if (d->block_count == 0) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE, "no blocks defined");
  }
  v->i32_limit = (uint32_t)irt_pow2_ceil_u32(d->i32_register_count);
  v->ref_limit = (uint32_t)irt_pow2_ceil_u32(d->ref_register_count);
  if (v->i32_limit > IRVM_MAX_I32_BANK || v->ref_limit > IRVM_MAX_REF_BANK) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "register count overflow (%u i32, %u ref)",
                           d->i32_register_count, d->ref_register_count);
  }
  if (irvm_cconv_fragment_has_spans(function->cconv.arguments)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "internal functions cannot accept variadic arguments");
  }
  irvm_register_usage_t arguments, results;
  if (!irvm_cconv_register_usage(function->cconv.arguments, &arguments) ||
      !irvm_cconv_register_usage(function->cconv.results, &results)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid function signature");
  }
  if (arguments.i32_count > v->i32_limit || arguments.ref_count > v->ref_limit) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "insufficient register storage for function "
                           "arguments");
  }
  return IRT_OK;
}

static irt_status_t irvm_verify_walk(irvm_verifier_t* v,
                                     const irvm_bc_function_t* function) {
  const uint8_t* code = function->code;
  bool in_block = false;
  uint32_t block_count = 0;
  irvm_instruction_t insn;
  for (uint32_t pc = 0; pc < v->length; pc = insn.next_pc) {
    v->pc = pc;
    bool is_marker = code[pc] == IRVM_OP_BLOCK;
    if (!in_block && !is_marker) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "not in a block");
    }
    if (in_block && is_marker) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "block marker while still in a block");
    }
    IRT_RETURN_IF_ERROR(irvm_instruction_decode(code, v->length, pc, &insn));
    if (is_marker) {
      if (pc >= IRVM_MAX_BLOCK_PC) {
        return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                               "block at %04X out of range", pc);
      }
      irvm_bitmap_set(v->block_starts, pc);
      in_block = true;
      ++block_count;
      continue;
    }
    if (insn.info->table == IRVM_OP_TABLE_EXT_F32 &&
        !(v->descriptor->requirements & IRVM_FEATURE_EXT_F32)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "ExtF32 instruction without the EXT_F32 requirement");
    }
    if (insn.info->table == IRVM_OP_TABLE_EXT_F64 &&
        !(v->descriptor->requirements & IRVM_FEATURE_EXT_F64)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "ExtF64 instruction without the EXT_F64 requirement");
    }
    for (uint8_t i = 0; i < insn.operand_count; ++i) {
      IRT_RETURN_IF_ERROR_CTX(irvm_verify_operand(v, &insn, &insn.operands[i]),
                              "%s operand %u", insn.info->mnemonic, i);
    }
    IRT_RETURN_IF_ERROR_CTX(irvm_verify_semantics(v, &insn, &function->cconv),
                            "%s", insn.info->mnemonic);
    if (insn.info->flags & IRVM_OPF_TERMINATOR) in_block = false;
  }
  if (in_block) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function missing terminator in the last block");
  }
  if (block_count != v->descriptor->block_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid descriptor block count: %u declared, %u "
                           "found",
                           v->descriptor->block_count, block_count);
  }
  for (uint32_t pc = 0; pc < v->length; ++pc) {
    if (!irvm_bitmap_test(v->targets, pc)) continue;
    v->pc = pc;
    // A target must be a block marker with at least one byte after it.
    if (!irvm_bitmap_test(v->block_starts, pc) || pc + 1 >= v->length) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "branch target %04X is not a block", pc);
    }
  }
  return IRT_OK;
}

irt_status_t irvm_bc_verify_function(const irvm_bytecode_module_t* module,
                                     uint32_t ordinal) {
  const irvm_bc_function_t* function = &module->functions[ordinal];
  irvm_verifier_t v = {
      .module = module,
      .descriptor = &module->def.function_descriptors[ordinal],
      .length = function->code_length,
  };
  irt_status_t status = irvm_verify_header(&v, function);
  size_t bitmap_size = (v.length + 7u) / 8u;
  void* bitmaps = NULL;
  if (irt_status_is_ok(status)) {
    status = irt_allocator_calloc(module->allocator, bitmap_size * 2, &bitmaps);
  }
  if (irt_status_is_ok(status)) {
    v.block_starts = bitmaps;
    v.targets = (uint8_t*)bitmaps + bitmap_size;
    status = irvm_verify_walk(&v, function);
    irt_allocator_free(module->allocator, bitmaps);
  }
  if (!irt_status_is_ok(status)) {
    char label[160];
    irvm_bc_function_label(module, ordinal, label, sizeof(label));
    status = irt_status_annotate(status, "verifying %s+%08X", label, v.pc);
  }
  return status;
}
