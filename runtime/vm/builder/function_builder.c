// Instruction encoding for irvm_function_builder_t, driven by the layout
// strings of runtime/vm/opcodes.h (field kinds and alignment: spec 6.2).
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/vm/builder/module_builder_internal.h"

#define IRVM_MAX_I32_ORDINAL 0x7FFFu
#define IRVM_MAX_REF_ORDINAL 0x3FFFu
#define IRVM_REG_REF_BIT 0x8000u
#define IRVM_REG_MOVE_BIT 0x4000u

//===----------------------------------------------------------------------===//
// Creation and simple accessors
//===----------------------------------------------------------------------===//

static irt_allocator_t irvm_fn_allocator(const irvm_function_builder_t* fn) {
  return fn->module->allocator;
}

static uint32_t* irvm_fn_label_pc(const irvm_function_builder_t* fn,
                                  uint32_t index) {
  return IRVM_GROWABLE_AT(fn->labels, uint32_t, index);
}

irt_status_t irvm_function_builder_create(irvm_module_builder_t* builder,
                                          const char* cconv, uint32_t flags,
                                          uint32_t ordinal,
                                          irvm_function_builder_t** out_fn) {
  *out_fn = NULL;
  uint32_t arg_i32 = 0, arg_ref = 0;
  if (flags & IRVM_FUNCTION_UNCHECKED) {
    // Register needs of a malformed cconv are unknowable; the caller can
    // still set counts with irvm_fn_set_overrides.
    if (cconv) {
      irt_status_ignore(
          irvm_builder_check_cconv(cconv, true, "cconv", &arg_i32, &arg_ref));
    }
  } else {
    IRT_RETURN_IF_ERROR(irvm_builder_check_cconv(
        cconv, false, "function calling convention", &arg_i32, &arg_ref));
  }
  const char* cconv_copy = NULL;
  if (cconv) {
    IRT_RETURN_IF_ERROR(
        irvm_module_builder_strdup(builder, cconv, &cconv_copy));
  }
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(builder->allocator, sizeof(*fn), (void**)&fn));
  fn->module = builder;
  fn->ordinal = ordinal;
  fn->flags = flags;
  fn->cconv = cconv_copy;
  fn->pending_location = -1;
  fn->i32_register_count = arg_i32;
  fn->ref_register_count = arg_ref;
  // Label 0 is the entry block.
  uint32_t unbound = IRVM_LABEL_UNBOUND;
  irt_status_t status = irvm_growable_append(&fn->labels, builder->allocator,
                                             &unbound, sizeof(unbound), NULL);
  if (status == IRT_OK && !(flags & IRVM_FUNCTION_UNCHECKED)) {
    status = irvm_fn_bind_label(fn, irvm_fn_entry_label(fn));
  }
  if (status != IRT_OK) {
    irvm_function_builder_destroy(fn);
    return status;
  }
  *out_fn = fn;
  return IRT_OK;
}

void irvm_function_builder_destroy(irvm_function_builder_t* fn) {
  if (!fn) return;
  irt_allocator_t allocator = irvm_fn_allocator(fn);
  irvm_growable_t* arrays[] = {
      &fn->code,       &fn->labels,     &fn->label_fixups, &fn->type_fixups,
      &fn->references, &fn->source_map, &fn->attrs};
  for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); ++i) {
    irvm_growable_free(arrays[i], allocator);
  }
  irt_allocator_free(allocator, fn);
}

uint32_t irvm_fn_ordinal(const irvm_function_builder_t* fn) {
  return fn->ordinal;
}

uint32_t irvm_fn_pc(const irvm_function_builder_t* fn) {
  return (uint32_t)fn->code.size;
}

irt_status_t irvm_fn_add_attr(irvm_function_builder_t* fn, const char* key,
                              const char* value) {
  irvm_attr_entry_t attr;
  IRT_RETURN_IF_ERROR(irvm_module_builder_strdup(fn->module, key, &attr.key));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_strdup(fn->module, value, &attr.value));
  return irvm_growable_append(&fn->attrs, irvm_fn_allocator(fn), &attr,
                              sizeof(attr), NULL);
}

irt_status_t irvm_fn_set_debug_name(irvm_function_builder_t* fn,
                                    const char* name) {
  return irvm_module_builder_strdup(fn->module, name, &fn->debug_name);
}

void irvm_fn_set_location(irvm_function_builder_t* fn, int32_t location) {
  fn->pending_location = location;
}

irt_status_t irvm_fn_set_overrides(irvm_function_builder_t* fn,
                                   const irvm_function_overrides_t* overrides) {
  irvm_function_overrides_t copy = *overrides;
  if ((copy.fields & IRVM_FN_OVERRIDE_CALLING_CONVENTION) &&
      copy.calling_convention) {
    IRT_RETURN_IF_ERROR(irvm_module_builder_strdup(
        fn->module, copy.calling_convention, &copy.calling_convention));
  }
  fn->overrides = copy;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Labels and blocks
//===----------------------------------------------------------------------===//

irvm_label_t irvm_fn_entry_label(const irvm_function_builder_t* fn) {
  return (irvm_label_t){fn->ordinal, 0};
}

irt_status_t irvm_fn_new_label(irvm_function_builder_t* fn,
                               irvm_label_t* out_label) {
  uint32_t unbound = IRVM_LABEL_UNBOUND;
  uint32_t index = (uint32_t)IRVM_GROWABLE_COUNT(fn->labels, uint32_t);
  IRT_RETURN_IF_ERROR(irvm_growable_append(&fn->labels, irvm_fn_allocator(fn),
                                           &unbound, sizeof(unbound), NULL));
  *out_label = (irvm_label_t){fn->ordinal, index};
  return IRT_OK;
}

static irt_status_t irvm_fn_check_label(const irvm_function_builder_t* fn,
                                        irvm_label_t label) {
  if (label.function != fn->ordinal ||
      label.index >= IRVM_GROWABLE_COUNT(fn->labels, uint32_t)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "label %u of function %u is not a label of "
                           "function %u",
                           label.index, label.function, fn->ordinal);
  }
  return IRT_OK;
}

irt_status_t irvm_fn_bind_label(irvm_function_builder_t* fn,
                                irvm_label_t label) {
  IRT_RETURN_IF_ERROR(irvm_fn_check_label(fn, label));
  uint32_t pc = irvm_fn_pc(fn);
  uint32_t bound_pc = *irvm_fn_label_pc(fn, label.index);
  if (bound_pc != IRVM_LABEL_UNBOUND) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u: label %u is already bound at pc "
                           "0x%04X",
                           fn->ordinal, label.index, bound_pc);
  }
  if (fn->in_block && !(fn->flags & IRVM_FUNCTION_UNCHECKED)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u pc 0x%04X: cannot start a block: the "
                           "previous block has no terminator",
                           fn->ordinal, pc);
  }
  const uint8_t marker = IRVM_OP_BLOCK;
  IRT_RETURN_IF_ERROR(
      irvm_growable_append(&fn->code, irvm_fn_allocator(fn), &marker, 1, NULL));
  *irvm_fn_label_pc(fn, label.index) = pc;
  ++fn->block_count;
  fn->in_block = true;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Operand encoding
//===----------------------------------------------------------------------===//

// One irvm_fn_emit call: where it is and what it has used so far.
typedef struct irvm_emit_s {
  irvm_function_builder_t* fn;
  const irvm_op_info_t* info;
  uint32_t pc;           // of the instruction's first byte
  size_t operand_index;  // for messages
  char letter;           // layout letter being encoded
  uint32_t i32_count;    // register needs including this instruction
  uint32_t ref_count;
} irvm_emit_t;

// "function 0 pc 0x0001: vm.add.i32 operand 2 ('i' in "ii>i"): <message>"
static irt_status_t irvm_emit_error(const irvm_emit_t* e, const char* format,
                                    ...) IRT_PRINTF_LIKE(2, 3);
static irt_status_t irvm_emit_error(const irvm_emit_t* e, const char* format,
                                    ...) {
  char message[256];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "function %u pc 0x%04X: %s operand %zu ('%c' in "
                         "\"%s\"): %s",
                         e->fn->ordinal, e->pc, e->info->mnemonic,
                         e->operand_index, e->letter, e->info->layout, message);
}

static irt_status_t irvm_emit_bytes(irvm_emit_t* e, const void* data,
                                    size_t length) {
  return irvm_growable_append(&e->fn->code, irvm_fn_allocator(e->fn), data,
                              length, NULL);
}

static irt_status_t irvm_emit_u16(irvm_emit_t* e, uint16_t value) {
  uint8_t bytes[2];
  irvm_store_u16le(bytes, value);
  return irvm_emit_bytes(e, bytes, sizeof(bytes));
}

static irt_status_t irvm_emit_u32(irvm_emit_t* e, uint32_t value) {
  uint8_t bytes[4];
  irvm_store_u32le(bytes, value);
  return irvm_emit_bytes(e, bytes, sizeof(bytes));
}

static irt_status_t irvm_emit_u64(irvm_emit_t* e, uint64_t value) {
  uint8_t bytes[8];
  irvm_store_u64le(bytes, value);
  return irvm_emit_bytes(e, bytes, sizeof(bytes));
}

// Lists and remap counts start at an even pc (relative to the function
// start, so prefix bytes count): one zero byte is inserted when it is odd.
static irt_status_t irvm_emit_align2(irvm_emit_t* e) {
  if ((e->fn->code.size & 1) == 0) return IRT_OK;
  return irvm_emit_bytes(e, NULL, 1);
}

static irt_status_t irvm_emit_fixup(irvm_emit_t* e, irvm_growable_t* fixups,
                                    uint32_t value) {
  irvm_code_fixup_t fixup = {(uint32_t)e->fn->code.size, value};
  IRT_RETURN_IF_ERROR(irvm_growable_append(fixups, irvm_fn_allocator(e->fn),
                                           &fixup, sizeof(fixup), NULL));
  return irvm_emit_u32(e, value);
}

static const char* irvm_reg_kind_name(uint8_t kind) {
  switch (kind) {
    case IRVM_REG_I32:
      return "an i32 register";
    case IRVM_REG_I64:
      return "an i64 register pair";
    case IRVM_REG_REF:
      return "a ref register";
    default:
      return "an invalid register (zero-initialized irvm_reg_t?)";
  }
}

#define IRVM_KIND_BIT(kind) (1u << (kind))
#define IRVM_KINDS_ANY                                         \
  (IRVM_KIND_BIT(IRVM_REG_I32) | IRVM_KIND_BIT(IRVM_REG_I64) | \
   IRVM_KIND_BIT(IRVM_REG_REF))

// Validates |reg| against the accepted kinds, records its register needs
// and returns its u16 encoding (spec 5.1).
static irt_status_t irvm_emit_check_reg(irvm_emit_t* e, irvm_reg_t reg,
                                        uint32_t kinds, bool move_allowed,
                                        const char* role, uint16_t* out_bits) {
  if (reg.kind > IRVM_REG_REF || !(kinds & IRVM_KIND_BIT(reg.kind))) {
    const char* expected =
        kinds == IRVM_KINDS_ANY                ? "a register"
        : kinds == IRVM_KIND_BIT(IRVM_REG_I32) ? "an i32 register"
        : kinds == IRVM_KIND_BIT(IRVM_REG_I64) ? "an i64 register pair"
                                               : "a ref register";
    return irvm_emit_error(e, "%s: expected %s, got %s", role, expected,
                           irvm_reg_kind_name(reg.kind));
  }
  if (reg.move && (reg.kind != IRVM_REG_REF || !move_allowed)) {
    return irvm_emit_error(e, "%s: the MOVE bit is not allowed here (ref %u)",
                           role, reg.ordinal);
  }
  switch (reg.kind) {
    case IRVM_REG_I32:
      if (reg.ordinal > IRVM_MAX_I32_ORDINAL) {
        return irvm_emit_error(e, "%s: i32 register %u exceeds %u", role,
                               reg.ordinal, IRVM_MAX_I32_ORDINAL);
      }
      if (reg.ordinal + 1u > e->i32_count) e->i32_count = reg.ordinal + 1u;
      *out_bits = reg.ordinal;
      return IRT_OK;
    case IRVM_REG_I64:
      if (reg.ordinal & 1) {
        return irvm_emit_error(e, "%s: i64 register pair %u:%u is not even",
                               role, reg.ordinal, reg.ordinal + 1u);
      }
      if (reg.ordinal + 1u > IRVM_MAX_I32_ORDINAL) {
        return irvm_emit_error(e, "%s: i64 register pair %u exceeds %u", role,
                               reg.ordinal, IRVM_MAX_I32_ORDINAL - 1);
      }
      if (reg.ordinal + 2u > e->i32_count) e->i32_count = reg.ordinal + 2u;
      *out_bits = reg.ordinal;
      return IRT_OK;
    default:
      if (reg.ordinal > IRVM_MAX_REF_ORDINAL) {
        return irvm_emit_error(e, "%s: ref register %u exceeds %u", role,
                               reg.ordinal, IRVM_MAX_REF_ORDINAL);
      }
      if (reg.ordinal + 1u > e->ref_count) e->ref_count = reg.ordinal + 1u;
      *out_bits = (uint16_t)(IRVM_REG_REF_BIT | reg.ordinal |
                             (reg.move ? IRVM_REG_MOVE_BIT : 0));
      return IRT_OK;
  }
}

static irt_status_t irvm_emit_reg(irvm_emit_t* e, irvm_reg_t reg,
                                  uint32_t kinds, bool move_allowed,
                                  const char* role) {
  uint16_t bits = 0;
  IRT_RETURN_IF_ERROR(
      irvm_emit_check_reg(e, reg, kinds, move_allowed, role, &bits));
  return irvm_emit_u16(e, bits);
}

static const char* irvm_opnd_kind_name(irvm_opnd_kind_t kind) {
  switch (kind) {
    case IRVM_OPND_REG:
      return "a register";
    case IRVM_OPND_IMM32:
      return "a 32-bit immediate";
    case IRVM_OPND_IMM64:
      return "a 64-bit immediate";
    case IRVM_OPND_GLOBAL:
      return "a global byte offset";
    case IRVM_OPND_GLOBAL_REF:
      return "a ref global ordinal";
    case IRVM_OPND_RODATA:
      return "a rodata ordinal";
    case IRVM_OPND_TYPE:
    case IRVM_OPND_TYPE_ID:
      return "a type";
    case IRVM_OPND_FUNC:
      return "a function reference";
    case IRVM_OPND_STRING:
      return "a string";
    case IRVM_OPND_LIST:
      return "a register list";
    case IRVM_OPND_SEGMENTS:
      return "a segment size list";
    case IRVM_OPND_BRANCH:
      return "a branch target";
    case IRVM_OPND_BRANCH_TABLE:
      return "a branch table";
    default:
      return "an invalid operand (zero-initialized irvm_opnd_t?)";
  }
}

static irt_status_t irvm_emit_expect(irvm_emit_t* e, const irvm_opnd_t* operand,
                                     irvm_opnd_kind_t kind,
                                     irvm_opnd_kind_t alternative) {
  if (operand->kind == kind || operand->kind == alternative) return IRT_OK;
  return irvm_emit_error(e, "expected %s, got %s", irvm_opnd_kind_name(kind),
                         irvm_opnd_kind_name(operand->kind));
}

// Ordinals are recorded for the range checks done at finish.
static irt_status_t irvm_emit_reference(irvm_emit_t* e, uint32_t value) {
  irvm_code_reference_t reference = {
      .pc = e->pc,
      .value = value,
      .letter = e->letter,
      .access_size = (e->info->flags & IRVM_OPF_GLOBAL8) ? 8 : 4,
  };
  IRT_RETURN_IF_ERROR(irvm_growable_append(&e->fn->references,
                                           irvm_fn_allocator(e->fn), &reference,
                                           sizeof(reference), NULL));
  return irvm_emit_u32(e, value);
}

static irt_status_t irvm_emit_list(irvm_emit_t* e, const irvm_opnd_t* operand) {
  IRT_RETURN_IF_ERROR(
      irvm_emit_expect(e, operand, IRVM_OPND_LIST, IRVM_OPND_LIST));
  uint32_t kinds = IRVM_KINDS_ANY;
  bool move_allowed = true;
  switch (e->letter) {
    case 'Q':
      kinds = IRVM_KIND_BIT(IRVM_REG_REF);
      move_allowed = false;
      break;
    case 'M':
      kinds = IRVM_KIND_BIT(IRVM_REG_REF);
      break;
    case 'J':
      kinds = IRVM_KIND_BIT(IRVM_REG_I32);
      break;
    case 'K':
      kinds = IRVM_KIND_BIT(IRVM_REG_I64);
      break;
    default:
      break;  // 'L': any bank, MOVE allowed on refs
  }
  size_t count = operand->list.count;
  if (count > 0xFFFF || (count && !operand->list.regs)) {
    return irvm_emit_error(e, "register list of %zu entries is %s", count,
                           count > 0xFFFF ? "too long (max 65535)" : "NULL");
  }
  IRT_RETURN_IF_ERROR(irvm_emit_align2(e));
  IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)count));
  for (size_t i = 0; i < count; ++i) {
    char role[32];
    snprintf(role, sizeof(role), "list entry %zu", i);
    IRT_RETURN_IF_ERROR(
        irvm_emit_reg(e, operand->list.regs[i], kinds, move_allowed, role));
  }
  return IRT_OK;
}

static irt_status_t irvm_emit_segments(irvm_emit_t* e,
                                       const irvm_opnd_t* operand) {
  IRT_RETURN_IF_ERROR(
      irvm_emit_expect(e, operand, IRVM_OPND_SEGMENTS, IRVM_OPND_SEGMENTS));
  size_t count = operand->segments.count;
  if (count > 0xFFFF || (count && !operand->segments.sizes)) {
    return irvm_emit_error(e, "segment list of %zu entries is %s", count,
                           count > 0xFFFF ? "too long (max 65535)" : "NULL");
  }
  IRT_RETURN_IF_ERROR(irvm_emit_align2(e));
  IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)count));
  for (size_t i = 0; i < count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)operand->segments.sizes[i]));
  }
  return IRT_OK;
}

// ^blk(remap), or ^blk alone when |with_remaps| is false (spec 6.2).
static irt_status_t irvm_emit_branch(irvm_emit_t* e,
                                     const irvm_branch_target_t* target,
                                     bool with_remaps) {
  irt_status_t status = irvm_fn_check_label(e->fn, target->label);
  if (status != IRT_OK) {
    irt_status_free(status);
    return irvm_emit_error(e, "label %u of function %u does not belong here",
                           target->label.index, target->label.function);
  }
  if (target->remap_count && !target->remaps) {
    return irvm_emit_error(e, "%zu remaps given as NULL", target->remap_count);
  }
  if (!with_remaps && target->remap_count) {
    return irvm_emit_error(e, "this target takes no remaps (%zu given)",
                           target->remap_count);
  }
  IRT_RETURN_IF_ERROR(
      irvm_emit_fixup(e, &e->fn->label_fixups, target->label.index));
  if (!with_remaps) return IRT_OK;

  // A 64-bit pair is remapped as two cells, low halves first.
  size_t pair_count = 0;
  for (size_t i = 0; i < target->remap_count; ++i) {
    pair_count += target->remaps[i].src.kind == IRVM_REG_I64 ? 2 : 1;
  }
  if (pair_count > 0xFFFF) {
    return irvm_emit_error(e, "%zu remap pairs exceed 65535", pair_count);
  }
  IRT_RETURN_IF_ERROR(irvm_emit_align2(e));
  IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)pair_count));
  for (size_t i = 0; i < target->remap_count; ++i) {
    irvm_remap_t remap = target->remaps[i];
    char role[40];
    uint16_t src = 0, dst = 0;
    snprintf(role, sizeof(role), "remap %zu source", i);
    IRT_RETURN_IF_ERROR(
        irvm_emit_check_reg(e, remap.src, IRVM_KINDS_ANY, true, role, &src));
    snprintf(role, sizeof(role), "remap %zu destination", i);
    IRT_RETURN_IF_ERROR(irvm_emit_check_reg(
        e, remap.dst, IRVM_KIND_BIT(remap.src.kind), false, role, &dst));
    IRT_RETURN_IF_ERROR(irvm_emit_u16(e, src));
    IRT_RETURN_IF_ERROR(irvm_emit_u16(e, dst));
    if (remap.src.kind == IRVM_REG_I64) {
      IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)(src + 1)));
      IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)(dst + 1)));
    }
  }
  return IRT_OK;
}

static irt_status_t irvm_emit_operand(irvm_emit_t* e,
                                      const irvm_opnd_t* operand) {
  switch (e->letter) {
    case 'i':
    case 'I':
    case 'r':
    case 'R': {
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_REG, IRVM_OPND_REG));
      uint32_t kinds = e->letter == 'i'   ? IRVM_KIND_BIT(IRVM_REG_I32)
                       : e->letter == 'I' ? IRVM_KIND_BIT(IRVM_REG_I64)
                                          : IRVM_KIND_BIT(IRVM_REG_REF);
      return irvm_emit_reg(e, operand->reg, kinds, e->letter == 'R',
                           "register");
    }
    case 'c':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_IMM32, IRVM_OPND_IMM32));
      return irvm_emit_u32(e, operand->u32);
    case 'C':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_IMM64, IRVM_OPND_IMM64));
      return irvm_emit_u64(e, operand->u64);
    case 'g':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_GLOBAL, IRVM_OPND_GLOBAL));
      return irvm_emit_reference(e, operand->u32);
    case 'G':
      IRT_RETURN_IF_ERROR(irvm_emit_expect(e, operand, IRVM_OPND_GLOBAL_REF,
                                           IRVM_OPND_GLOBAL_REF));
      return irvm_emit_reference(e, operand->u32);
    case 'd':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_RODATA, IRVM_OPND_RODATA));
      return irvm_emit_reference(e, operand->u32);
    case 'f':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_FUNC, IRVM_OPND_FUNC));
      return irvm_emit_reference(e, operand->u32);
    case 't':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_TYPE, IRVM_OPND_TYPE_ID));
      if (operand->kind == IRVM_OPND_TYPE_ID) {
        return irvm_emit_u32(e, operand->u32);
      }
      if (operand->u32 >=
          IRVM_GROWABLE_COUNT(e->fn->module->types, const char*)) {
        return irvm_emit_error(e,
                               "type handle %u was not declared by this "
                               "module builder",
                               operand->u32);
      }
      return irvm_emit_fixup(e, &e->fn->type_fixups, operand->u32);
    case 's':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_STRING, IRVM_OPND_STRING));
      if (operand->string.length > 0xFFFF ||
          (operand->string.length && !operand->string.data)) {
        return irvm_emit_error(
            e, "string of %zu bytes is %s", operand->string.length,
            operand->string.length > 0xFFFF ? "too long (max 65535)" : "NULL");
      }
      IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)operand->string.length));
      return irvm_emit_bytes(e, operand->string.data, operand->string.length);
    case 'L':
    case 'Q':
    case 'J':
    case 'K':
    case 'M':
      return irvm_emit_list(e, operand);
    case 'S':
      return irvm_emit_segments(e, operand);
    case 'B':
    case 'b':
      IRT_RETURN_IF_ERROR(
          irvm_emit_expect(e, operand, IRVM_OPND_BRANCH, IRVM_OPND_BRANCH));
      return irvm_emit_branch(e, &operand->branch, e->letter == 'B');
    case 'T': {
      IRT_RETURN_IF_ERROR(irvm_emit_expect(e, operand, IRVM_OPND_BRANCH_TABLE,
                                           IRVM_OPND_BRANCH_TABLE));
      size_t count = operand->table.count;
      if (count > 0xFFFF || (count && !operand->table.cases)) {
        return irvm_emit_error(
            e, "branch table of %zu cases is %s", count,
            count > 0xFFFF ? "too long (max 65535)" : "NULL");
      }
      IRT_RETURN_IF_ERROR(irvm_emit_u16(e, (uint16_t)count));
      for (size_t i = 0; i < count; ++i) {
        IRT_RETURN_IF_ERROR_CTX(
            irvm_emit_branch(e, &operand->table.cases[i], true), "case %zu", i);
      }
      return IRT_OK;
    }
    default:
      return irvm_emit_error(e, "unknown layout letter");
  }
}

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

static irt_status_t irvm_insn_info(irvm_insn_t insn,
                                   const irvm_op_info_t** out_info) {
  unsigned table = (unsigned)insn >> 8;
  *out_info = table <= IRVM_OP_TABLE_EXT_F64
                  ? irvm_op_info((irvm_op_table_t)table, (uint8_t)insn)
                  : NULL;
  if (!*out_info) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "instruction selector 0x%X names no opcode",
                           (unsigned)insn);
  }
  return IRT_OK;
}

static size_t irvm_layout_field_count(const char* layout) {
  size_t count = 0;
  for (const char* p = layout; *p; ++p) count += *p != '>';
  return count;
}

// Features an instruction adds to its function's requirements. UNWIND and
// YIELD follow the compiler's output: functions that call or fail need
// UNWIND, functions that can suspend need YIELD (spec 3.1).
static uint32_t irvm_insn_requirements(const irvm_op_info_t* info) {
  if (info->table == IRVM_OP_TABLE_EXT_F32) return IRVM_FEATURE_EXT_F32;
  if (info->table == IRVM_OP_TABLE_EXT_F64) return IRVM_FEATURE_EXT_F64;
  switch (info->opcode) {
    case IRVM_OP_CALL:
    case IRVM_OP_CALL_VARIADIC:
    case IRVM_OP_FAIL:
      return IRVM_FEATURE_UNWIND;
    case IRVM_OP_CALL_YIELDABLE:
    case IRVM_OP_CALL_VARIADIC_YIELDABLE:
      return IRVM_FEATURE_UNWIND | IRVM_FEATURE_YIELD;
    case IRVM_OP_YIELD:
      return IRVM_FEATURE_YIELD;
    default:
      return 0;
  }
}

irt_status_t irvm_fn_emit(irvm_function_builder_t* fn, irvm_insn_t insn,
                          const irvm_opnd_t* operands, size_t operand_count) {
  const irvm_op_info_t* info = NULL;
  IRT_RETURN_IF_ERROR(irvm_insn_info(insn, &info));
  uint32_t pc = irvm_fn_pc(fn);
  if (info->table == IRVM_OP_TABLE_CORE && info->opcode == IRVM_OP_BLOCK) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u pc 0x%04X: block markers are emitted "
                           "by irvm_fn_bind_label",
                           fn->ordinal, pc);
  }
  bool checked = !(fn->flags & IRVM_FUNCTION_UNCHECKED);
  if (checked && !fn->in_block) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u pc 0x%04X: %s follows a terminator; "
                           "bind a label to start a new block first",
                           fn->ordinal, pc, info->mnemonic);
  }
  size_t field_count = irvm_layout_field_count(info->layout);
  if (operand_count != field_count || (operand_count && !operands)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u pc 0x%04X: %s takes %zu operands "
                           "(layout \"%s\"), got %zu",
                           fn->ordinal, pc, info->mnemonic, field_count,
                           info->layout, operand_count);
  }

  // Everything appended below is rolled back if an operand is rejected.
  size_t saved_sizes[] = {fn->code.size, fn->label_fixups.size,
                          fn->type_fixups.size, fn->references.size};
  irvm_emit_t e = {
      .fn = fn,
      .info = info,
      .pc = pc,
      .i32_count = fn->i32_register_count,
      .ref_count = fn->ref_register_count,
  };
  irt_status_t status = IRT_OK;
  if (info->table != IRVM_OP_TABLE_CORE) {
    const uint8_t prefix[1] = {info->table == IRVM_OP_TABLE_EXT_F32
                                   ? IRVM_OP_PREFIX_EXT_F32
                                   : IRVM_OP_PREFIX_EXT_F64};
    status = irvm_emit_bytes(&e, prefix, 1);
  }
  if (status == IRT_OK) status = irvm_emit_bytes(&e, &info->opcode, 1);
  for (const char* p = info->layout; status == IRT_OK && *p; ++p) {
    if (*p == '>') continue;
    e.letter = *p;
    status = irvm_emit_operand(&e, &operands[e.operand_index]);
    ++e.operand_index;
  }
  if (status == IRT_OK && fn->pending_location >= 0) {
    irvm_source_map_pair_t pair = {(int32_t)pc, fn->pending_location};
    status = irvm_growable_append(&fn->source_map, irvm_fn_allocator(fn), &pair,
                                  sizeof(pair), NULL);
  }
  if (status != IRT_OK) {
    fn->code.size = saved_sizes[0];
    fn->label_fixups.size = saved_sizes[1];
    fn->type_fixups.size = saved_sizes[2];
    fn->references.size = saved_sizes[3];
    return status;
  }
  fn->pending_location = -1;
  fn->i32_register_count = e.i32_count;
  fn->ref_register_count = e.ref_count;
  fn->requirements |= irvm_insn_requirements(info);
  if (info->flags & IRVM_OPF_TERMINATOR) fn->in_block = false;
  return IRT_OK;
}

irt_status_t irvm_fn_emit_bytes(irvm_function_builder_t* fn, const void* data,
                                size_t length) {
  if (!(fn->flags & IRVM_FUNCTION_UNCHECKED)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "function %u: raw bytes need a function begun with "
                           "IRVM_FUNCTION_UNCHECKED",
                           fn->ordinal);
  }
  return irvm_growable_append(&fn->code, irvm_fn_allocator(fn), data, length,
                              NULL);
}

// dst-first register instructions: |regs| = {dst, operands...}.
static irt_status_t irvm_fn_emit_regs(irvm_function_builder_t* fn,
                                      irvm_insn_t insn, const irvm_reg_t* regs,
                                      size_t count) {
  const irvm_op_info_t* info = NULL;
  IRT_RETURN_IF_ERROR(irvm_insn_info(insn, &info));
  const char* layout = info->layout;
  bool shaped = strlen(layout) == count + 1 && layout[count - 1] == '>';
  for (size_t i = 0; shaped && layout[i]; ++i) {
    shaped = i == count - 1 || strchr("iIrR", layout[i]) != NULL;
  }
  if (!shaped) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s (layout \"%s\") is not %zu register operands "
                           "and one result; use irvm_fn_emit",
                           info->mnemonic, layout, count - 1);
  }
  irvm_opnd_t operands[4];
  for (size_t i = 1; i < count; ++i) operands[i - 1] = irvm_opnd_reg(regs[i]);
  operands[count - 1] = irvm_opnd_reg(regs[0]);
  return irvm_fn_emit(fn, insn, operands, count);
}

irt_status_t irvm_fn_op1(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst) {
  return irvm_fn_emit_regs(fn, insn, (const irvm_reg_t[]){dst}, 1);
}

irt_status_t irvm_fn_op2(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t x) {
  return irvm_fn_emit_regs(fn, insn, (const irvm_reg_t[]){dst, x}, 2);
}

irt_status_t irvm_fn_op3(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t a, irvm_reg_t b) {
  return irvm_fn_emit_regs(fn, insn, (const irvm_reg_t[]){dst, a, b}, 3);
}

irt_status_t irvm_fn_op4(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t a, irvm_reg_t b,
                         irvm_reg_t c) {
  return irvm_fn_emit_regs(fn, insn, (const irvm_reg_t[]){dst, a, b, c}, 4);
}

irt_status_t irvm_fn_const_i32(irvm_function_builder_t* fn, irvm_reg_t dst,
                               int32_t value) {
  return IRVM_EMIT(fn, IRVM_INSN_CONST_I32, irvm_opnd_imm_i32(value),
                   irvm_opnd_reg(dst));
}

irt_status_t irvm_fn_const_i64(irvm_function_builder_t* fn, irvm_reg_t dst,
                               int64_t value) {
  return IRVM_EMIT(fn, IRVM_INSN_CONST_I64, irvm_opnd_imm_i64(value),
                   irvm_opnd_reg(dst));
}

irt_status_t irvm_fn_const_f32(irvm_function_builder_t* fn, irvm_reg_t dst,
                               float value) {
  return IRVM_EMIT(fn, IRVM_INSN_CONST_F32, irvm_opnd_imm_f32(value),
                   irvm_opnd_reg(dst));
}

irt_status_t irvm_fn_const_f64(irvm_function_builder_t* fn, irvm_reg_t dst,
                               double value) {
  return IRVM_EMIT(fn, IRVM_INSN_CONST_F64, irvm_opnd_imm_f64(value),
                   irvm_opnd_reg(dst));
}

irt_status_t irvm_fn_return(irvm_function_builder_t* fn, const irvm_reg_t* regs,
                            size_t count) {
  return IRVM_EMIT(fn, IRVM_INSN_RETURN, irvm_opnd_list(regs, count));
}

irt_status_t irvm_fn_br(irvm_function_builder_t* fn, irvm_label_t target) {
  return IRVM_EMIT(fn, IRVM_INSN_BR, IRVM_GOTO(target));
}

irt_status_t irvm_fn_cond_br(irvm_function_builder_t* fn, irvm_reg_t condition,
                             irvm_label_t true_target,
                             irvm_label_t false_target) {
  return IRVM_EMIT(fn, IRVM_INSN_COND_BR, irvm_opnd_reg(condition),
                   IRVM_GOTO(true_target), IRVM_GOTO(false_target));
}

irt_status_t irvm_fn_call(irvm_function_builder_t* fn, irvm_opnd_t callee,
                          const irvm_reg_t* args, size_t arg_count,
                          const irvm_reg_t* results, size_t result_count) {
  return IRVM_EMIT(fn, IRVM_INSN_CALL, callee, irvm_opnd_list(args, arg_count),
                   irvm_opnd_list(results, result_count));
}

irt_status_t irvm_fn_fail(irvm_function_builder_t* fn, irvm_reg_t code,
                          const char* message) {
  return IRVM_EMIT(fn, IRVM_INSN_FAIL, irvm_opnd_reg(code),
                   irvm_opnd_string(message));
}

//===----------------------------------------------------------------------===//
// Finish support
//===----------------------------------------------------------------------===//

static irt_status_t irvm_fn_check_reference(const irvm_function_builder_t* fn,
                                            const irvm_code_reference_t* ref) {
  const irvm_module_builder_t* m = fn->module;
  uint64_t limit = 0;
  const char* what = "";
  uint64_t value = ref->value;
  switch (ref->letter) {
    case 'f':
      if (value & IRVM_FUNCTION_IMPORT_BIT) {
        value &= ~(uint64_t)IRVM_FUNCTION_IMPORT_BIT;
        limit = IRVM_GROWABLE_COUNT(m->imports, irvm_import_entry_t);
        what = "import ordinal";
      } else {
        limit = IRVM_GROWABLE_COUNT(m->functions, irvm_function_builder_t*);
        what = "internal function ordinal";
      }
      break;
    case 'd':
      limit = IRVM_GROWABLE_COUNT(m->rodata, irvm_rodata_entry_t);
      what = "rodata ordinal";
      break;
    case 'G':
      limit = m->global_ref_count;
      what = "ref global ordinal";
      break;
    default:  // 'g': the accessed bytes must fit the global storage
      value += ref->access_size - 1;
      limit = m->global_bytes_capacity;
      what = "global byte offset (+ access size - 1)";
      break;
  }
  if (value < limit) return IRT_OK;
  return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                         "function %u pc 0x%04X: %s %" PRIu64
                         " out of range (limit %" PRIu64 ")",
                         fn->ordinal, ref->pc, what, value, limit);
}

irt_status_t irvm_function_builder_check(const irvm_function_builder_t* fn,
                                         bool skip_reference_checks) {
  if (fn->in_block && !(fn->flags & IRVM_FUNCTION_UNCHECKED)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function %u: the last block has no terminator "
                           "(pc 0x%04X)",
                           fn->ordinal, irvm_fn_pc(fn));
  }
  size_t fixup_count = IRVM_GROWABLE_COUNT(fn->label_fixups, irvm_code_fixup_t);
  for (size_t i = 0; i < fixup_count; ++i) {
    const irvm_code_fixup_t* fixup =
        IRVM_GROWABLE_AT(fn->label_fixups, irvm_code_fixup_t, i);
    if (*irvm_fn_label_pc(fn, fixup->value) == IRVM_LABEL_UNBOUND) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "function %u: label %u is a branch target "
                             "(field at pc 0x%04X) but was never bound",
                             fn->ordinal, fixup->value, fixup->offset);
    }
  }
  if (skip_reference_checks) return IRT_OK;
  size_t reference_count =
      IRVM_GROWABLE_COUNT(fn->references, irvm_code_reference_t);
  for (size_t i = 0; i < reference_count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_fn_check_reference(
        fn, IRVM_GROWABLE_AT(fn->references, irvm_code_reference_t, i)));
  }
  return IRT_OK;
}

void irvm_function_builder_write_code(const irvm_function_builder_t* fn,
                                      const uint32_t* type_ranks,
                                      uint8_t* out) {
  if (fn->code.size) memcpy(out, fn->code.data, fn->code.size);
  size_t count = IRVM_GROWABLE_COUNT(fn->label_fixups, irvm_code_fixup_t);
  for (size_t i = 0; i < count; ++i) {
    const irvm_code_fixup_t* fixup =
        IRVM_GROWABLE_AT(fn->label_fixups, irvm_code_fixup_t, i);
    irvm_store_u32le(out + fixup->offset, *irvm_fn_label_pc(fn, fixup->value));
  }
  count = IRVM_GROWABLE_COUNT(fn->type_fixups, irvm_code_fixup_t);
  for (size_t i = 0; i < count; ++i) {
    const irvm_code_fixup_t* fixup =
        IRVM_GROWABLE_AT(fn->type_fixups, irvm_code_fixup_t, i);
    irvm_store_u32le(out + fixup->offset, type_ranks[fixup->value]);
  }
}
