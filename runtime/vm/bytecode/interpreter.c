// The bytecode interpreter (VM spec sections 5 and 7).
//
// Functions run on an explicit frame stack (irvm_stack_t), so internal calls
// do not recurse on the C stack. Every function was verified at load time
// (verifier.c); on top of that each register access is masked to the
// frame's power-of-two bank size, so even a verifier bug cannot reach
// outside the frame.
//
// ireed runs each invocation on its own thread, so there is no cooperative
// scheduling: `vm.yield` continues at once (the host would resume it
// immediately anyway) and yieldable imports complete before returning.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/vm/bytecode/internal.h"
#include "runtime/vm/opcodes.h"

typedef struct irvm_bc_frame_s {
  struct irvm_bc_frame_s* caller;
  const irvm_bc_function_t* function;
  uint32_t ordinal;
  uint32_t pc;              // caller frames: where execution continues
  uint32_t result_list_pc;  // caller frames: the call's result list
  size_t stack_mark;
  uint32_t* i32;
  irvm_ref_t* refs;
} irvm_bc_frame_t;

#define IRVM_REG_REF_BIT 0x8000u
#define IRVM_REG_MOVE_BIT 0x4000u

static inline uint16_t irvm_load_u16(const uint8_t* p) {
  uint16_t v;
  memcpy(&v, p, 2);
  return v;
}
static inline uint32_t irvm_load_u32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, 4);
  return v;
}
static inline uint64_t irvm_load_u64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, 8);
  return v;
}
static inline float irvm_bits_f32(uint32_t bits) {
  float v;
  memcpy(&v, &bits, 4);
  return v;
}
static inline uint32_t irvm_f32_bits(float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  return bits;
}
static inline double irvm_bits_f64(uint64_t bits) {
  double v;
  memcpy(&v, &bits, 8);
  return v;
}
static inline uint64_t irvm_f64_bits(double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  return bits;
}

// Register banks of the running frame.
typedef struct irvm_bc_regs_s {
  uint32_t* i32;
  irvm_ref_t* refs;
  uint32_t i32_mask;
  uint32_t pair_mask;  // i32_mask with bit 0 cleared
  uint32_t ref_mask;
} irvm_bc_regs_t;

static inline irvm_bc_regs_t irvm_bc_frame_regs(const irvm_bc_frame_t* frame) {
  irvm_bc_regs_t regs = {frame->i32, frame->refs, frame->function->i32_mask,
                         frame->function->i32_mask & ~1u,
                         frame->function->ref_mask};
  return regs;
}

#define R32(ord) (regs.i32[(ord) & regs.i32_mask])
#define RREF(ord) (&regs.refs[(ord) & regs.ref_mask])

static inline uint64_t irvm_reg_load_i64(const irvm_bc_regs_t* regs,
                                         uint16_t ord) {
  uint64_t v;
  memcpy(&v, &regs->i32[ord & regs->pair_mask], 8);
  return v;
}
static inline void irvm_reg_store_i64(const irvm_bc_regs_t* regs, uint16_t ord,
                                      uint64_t v) {
  memcpy(&regs->i32[ord & regs->pair_mask], &v, 8);
}
#define R64(ord) irvm_reg_load_i64(&regs, (ord))
#define W64(ord, v) irvm_reg_store_i64(&regs, (ord), (v))

// Copies |src| into ref register |dst_ord|: moved when the operand carries
// MOVE, else retained.
static inline void irvm_reg_assign_ref(const irvm_bc_regs_t* regs,
                                       uint16_t src_operand, irvm_ref_t* dst) {
  irvm_ref_t* src = &regs->refs[src_operand & regs->ref_mask];
  if (src_operand & IRVM_REG_MOVE_BIT) {
    irvm_ref_move_to(src, dst);
  } else {
    irvm_ref_retain_to(src, dst);
  }
}

//===----------------------------------------------------------------------===//
// Frames
//===----------------------------------------------------------------------===//

static irt_status_t irvm_bc_push_frame(irvm_stack_t* stack,
                                       const irvm_bytecode_module_t* module,
                                       uint32_t ordinal,
                                       irvm_bc_frame_t* caller,
                                       irvm_bc_frame_t** out_frame) {
  const irvm_bc_function_t* function = &module->functions[ordinal];
  void* memory = NULL;
  size_t mark = 0;
  IRT_RETURN_IF_ERROR(
      irvm_stack_push(stack, function->frame_size, &memory, &mark));
  irvm_bc_frame_t* frame = memory;
  frame->caller = caller;
  frame->function = function;
  frame->ordinal = ordinal;
  frame->pc = 0;
  frame->stack_mark = mark;
  uint8_t* banks = (uint8_t*)memory + irt_align_size(sizeof(*frame), 16);
  frame->i32 = (uint32_t*)banks;
  frame->refs = (irvm_ref_t*)(banks + irt_align_size(
                                          (function->i32_mask + 1) * 4u, 16));
  ++stack->depth;
  *out_frame = frame;
  return IRT_OK;
}

// Releases every ref the frame still holds and pops it.
static void irvm_bc_pop_frame(irvm_stack_t* stack, irvm_bc_frame_t* frame) {
  uint32_t ref_count = frame->function->ref_mask + 1;
  for (uint32_t i = 0; i < ref_count; ++i) irvm_ref_release(&frame->refs[i]);
  --stack->depth;
  irvm_stack_pop(stack, frame->stack_mark);
}

//===----------------------------------------------------------------------===//
// Moving values between registers and ABI buffers / other frames
//===----------------------------------------------------------------------===//

// Unpacks an ABI argument buffer into a fresh frame (spec 5.3, 9.4): refs
// are retained (the caller keeps the buffer's references).
static void irvm_bc_unpack_arguments(irvm_bc_frame_t* frame,
                                     const uint8_t* arguments) {
  irvm_bc_regs_t regs = irvm_bc_frame_regs(frame);
  irt_string_view_t cconv = frame->function->cconv.arguments;
  irvm_abi_cursor_t cursor = irvm_abi_cursor((void*)arguments);
  uint32_t ni = 0, nr = 0;
  for (size_t i = 0; i < cconv.size; ++i) {
    switch (cconv.data[i]) {
      case 'i':
      case 'f':
        R32(ni++) = (uint32_t)irvm_abi_read_i32(&cursor);
        break;
      case 'I':
      case 'F':
        ni = (ni + 1u) & ~1u;
        W64(ni, (uint64_t)irvm_abi_read_i64(&cursor));
        ni += 2;
        break;
      case 'r':
        irvm_ref_retain_to(irvm_abi_read_ref(&cursor), RREF(nr++));
        break;
    }
  }
}

// Writes the registers listed at |list| into an ABI result buffer per the
// cconv results; refs with MOVE are moved, others retained.
static void irvm_bc_pack_results(const irvm_bc_regs_t* regs_in,
                                 irt_string_view_t cconv, const uint8_t* list,
                                 uint16_t list_count, uint8_t* results) {
  irvm_bc_regs_t regs = *regs_in;
  irvm_abi_cursor_t cursor = irvm_abi_cursor(results);
  for (size_t i = 0; i < cconv.size && i < list_count; ++i) {
    uint16_t reg = irvm_load_u16(list + 2 * i);
    switch (cconv.data[i]) {
      case 'i':
      case 'f':
        irvm_abi_write_i32(&cursor, (int32_t)R32(reg));
        break;
      case 'I':
      case 'F':
        irvm_abi_write_i64(&cursor, (int64_t)R64(reg));
        break;
      case 'r': {
        irvm_ref_t* slot = irvm_abi_read_ref(&cursor);
        irvm_reg_assign_ref(&regs, reg, slot);
        break;
      }
    }
  }
}

// Internal call arguments: walk the callee's cconv (not 32-bit cells, see
// spec 5.5 quirk) so 64-bit values land in aligned pairs.
static void irvm_bc_pass_arguments(const irvm_bc_regs_t* caller_regs,
                                   const uint8_t* list, uint16_t list_count,
                                   irvm_bc_frame_t* callee) {
  irvm_bc_regs_t regs = irvm_bc_frame_regs(callee);
  irt_string_view_t cconv = callee->function->cconv.arguments;
  uint32_t ni = 0, nr = 0;
  for (size_t i = 0; i < cconv.size && i < list_count; ++i) {
    uint16_t src = irvm_load_u16(list + 2 * i);
    switch (cconv.data[i]) {
      case 'i':
      case 'f':
        R32(ni++) = caller_regs->i32[src & caller_regs->i32_mask];
        break;
      case 'I':
      case 'F':
        ni = (ni + 1u) & ~1u;
        W64(ni, irvm_reg_load_i64(caller_regs, src));
        ni += 2;
        break;
      case 'r':
        irvm_reg_assign_ref(caller_regs, src, RREF(nr++));
        break;
    }
  }
}

// Internal return: copies the callee's returned registers into the caller's
// result registers, by the callee's cconv results.
static void irvm_bc_return_values(const irvm_bc_regs_t* callee_regs,
                                  irt_string_view_t cconv,
                                  const uint8_t* return_list,
                                  uint16_t return_count,
                                  const irvm_bc_regs_t* caller_regs,
                                  const uint8_t* result_list,
                                  uint16_t result_count) {
  for (size_t i = 0; i < cconv.size && i < return_count && i < result_count;
       ++i) {
    uint16_t src = irvm_load_u16(return_list + 2 * i);
    uint16_t dst = irvm_load_u16(result_list + 2 * i);
    switch (cconv.data[i]) {
      case 'i':
      case 'f':
        caller_regs->i32[dst & caller_regs->i32_mask] =
            callee_regs->i32[src & callee_regs->i32_mask];
        break;
      case 'I':
      case 'F':
        irvm_reg_store_i64(caller_regs, dst,
                           irvm_reg_load_i64(callee_regs, src));
        break;
      case 'r':
        irvm_reg_assign_ref(callee_regs, src,
                            &caller_regs->refs[dst & caller_regs->ref_mask]);
        break;
    }
  }
}

//===----------------------------------------------------------------------===//
// Import calls (spec 9.3)
//===----------------------------------------------------------------------===//

// A register list as found in the bytecode.
typedef struct irvm_bc_list_s {
  const uint8_t* entries;
  uint16_t count;
} irvm_bc_list_t;

static inline uint16_t irvm_bc_list_at(irvm_bc_list_t list, uint32_t index) {
  return irvm_load_u16(list.entries + 2 * index);
}

// Marshals one plain value from register |reg| into |cursor|. Refs are
// lent, not retained: a callee keeps what it needs by retaining (the
// native call contract, cconv.h), and the caller's register holds the
// reference until the call returns. Retaining here would write the ref
// count of every device and executable a call names -- objects that all
// concurrent invocations share, so the count's cache line would bounce
// between the CPUs running them (a MOVE operand is released after the
// call instead: irvm_bc_release_moved_arguments).
static void irvm_bc_marshal_value(const irvm_bc_regs_t* regs_in, char kind,
                                  uint16_t reg, irvm_abi_cursor_t* cursor) {
  irvm_bc_regs_t regs = *regs_in;
  switch (kind) {
    case 'i':
    case 'f':
      irvm_abi_write_i32(cursor, (int32_t)R32(reg));
      break;
    case 'I':
    case 'F':
      irvm_abi_write_i64(cursor, (int64_t)R64(reg));
      break;
    case 'r':
      *irvm_abi_read_ref(cursor) = *RREF(reg);
      break;
  }
}

// Ends the lifetime of the ref registers an operand list marks MOVE (an
// import call's arguments, which the call only borrowed; trace operands).
static void irvm_bc_release_moved_arguments(const irvm_bc_regs_t* regs_in,
                                            irvm_bc_list_t arguments) {
  irvm_bc_regs_t regs = *regs_in;
  for (uint32_t i = 0; i < arguments.count; ++i) {
    uint16_t reg = irvm_bc_list_at(arguments, i);
    if ((reg & IRVM_REG_REF_BIT) && (reg & IRVM_REG_MOVE_BIT)) {
      irvm_ref_release(RREF(reg));
    }
  }
}

// Computes the argument buffer size for a (possibly variadic) call.
static irt_status_t irvm_bc_import_argument_size(const irvm_bc_import_t* import,
                                                 irvm_bc_list_t segments,
                                                 bool variadic,
                                                 size_t* out_size) {
  if (!variadic) {
    *out_size = import->argument_size;
    return IRT_OK;
  }
  uint32_t span_counts[16];
  uint32_t span_count = 0;
  irt_string_view_t cconv = import->cconv.arguments;
  uint32_t value_index = 0;
  for (size_t i = 0; i < cconv.size; ++i) {
    if (cconv.data[i] == 'C') {
      if (span_count == 16) {
        return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                               "more than 16 variadic spans in one call");
      }
      int16_t count = (int16_t)irvm_bc_list_at(segments, value_index);
      span_counts[span_count++] = count < 0 ? 0 : (uint32_t)count;
      while (cconv.data[i] != 'D') ++i;
    }
    ++value_index;
  }
  if (!irvm_cconv_buffer_size(cconv, span_counts, out_size)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "variadic argument buffer too large");
  }
  return IRT_OK;
}

static void irvm_bc_marshal_arguments(const irvm_bc_regs_t* regs,
                                      const irvm_bc_import_t* import,
                                      irvm_bc_list_t segments, bool variadic,
                                      irvm_bc_list_t arguments,
                                      uint8_t* buffer) {
  irt_string_view_t cconv = import->cconv.arguments;
  irvm_abi_cursor_t cursor = irvm_abi_cursor(buffer);
  uint32_t value_index = 0;
  uint32_t reg_index = 0;
  for (size_t i = 0; i < cconv.size; ++i, ++value_index) {
    if (cconv.data[i] != 'C') {
      irvm_bc_marshal_value(regs, cconv.data[i],
                            irvm_bc_list_at(arguments, reg_index++), &cursor);
      continue;
    }
    size_t start = i + 1;
    while (cconv.data[i] != 'D') ++i;
    irt_string_view_t tuple = irt_make_string_view(cconv.data + start, i - start);
    int16_t count = variadic ? (int16_t)irvm_bc_list_at(segments, value_index) : 0;
    irvm_abi_span_t span =
        irvm_abi_begin_span(&cursor, count < 0 ? 0 : (uint32_t)count, tuple);
    for (uint32_t k = 0; k < span.count; ++k) {
      irvm_abi_cursor_t element = irvm_abi_span_element(span, k);
      for (size_t c = 0; c < tuple.size; ++c) {
        irvm_bc_marshal_value(regs, tuple.data[c],
                              irvm_bc_list_at(arguments, reg_index++), &element);
      }
    }
  }
}

static void irvm_bc_unmarshal_results(const irvm_bc_regs_t* regs_in,
                                      const irvm_bc_import_t* import,
                                      irvm_bc_list_t results,
                                      uint8_t* buffer) {
  irvm_bc_regs_t regs = *regs_in;
  irt_string_view_t cconv = import->cconv.results;
  irvm_abi_cursor_t cursor = irvm_abi_cursor(buffer);
  for (size_t i = 0; i < cconv.size; ++i) {
    bool listed = i < results.count;
    uint16_t reg = listed ? irvm_bc_list_at(results, (uint32_t)i) : 0;
    switch (cconv.data[i]) {
      case 'i':
      case 'f': {
        int32_t value = irvm_abi_read_i32(&cursor);
        if (listed) R32(reg) = (uint32_t)value;
        break;
      }
      case 'I':
      case 'F': {
        int64_t value = irvm_abi_read_i64(&cursor);
        if (listed) W64(reg, (uint64_t)value);
        break;
      }
      case 'r': {
        irvm_ref_t* slot = irvm_abi_read_ref(&cursor);
        if (listed) {
          irvm_ref_move_to(slot, RREF(reg));
        } else {
          irvm_ref_release(slot);  // unlisted results would leak otherwise
        }
        break;
      }
    }
  }
}

static irt_status_t irvm_bc_call_import(irvm_bc_state_t* state,
                                        irvm_stack_t* stack,
                                        const irvm_bc_regs_t* regs,
                                        uint32_t import_ordinal,
                                        irvm_bc_list_t segments, bool variadic,
                                        irvm_bc_list_t arguments,
                                        irvm_bc_list_t results) {
  const irvm_bc_import_t* import = &state->imports[import_ordinal];
  const irvm_import_def_t* def = &state->module->def.imports[import_ordinal];
  if (!import->resolved) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "optional import '%.*s' (ordinal %u) not resolved",
                           IRT_SV_ARG(def->full_name), import_ordinal);
  }
  size_t argument_size = 0;
  IRT_RETURN_IF_ERROR(irvm_bc_import_argument_size(import, segments, variadic,
                                                   &argument_size));
  void* memory = NULL;
  size_t mark = 0;
  IRT_RETURN_IF_ERROR(irvm_stack_push(
      stack, irt_align_size(argument_size, 16) + import->result_size, &memory,
      &mark));
  uint8_t* argument_buffer = memory;
  uint8_t* result_buffer = argument_buffer + irt_align_size(argument_size, 16);
  irvm_bc_marshal_arguments(regs, import, segments, variadic, arguments,
                            argument_buffer);
  irt_status_t status = irvm_function_call(&import->function, stack,
                                           argument_buffer, result_buffer);
  // Before the results land: one may reuse a moved argument's register.
  irvm_bc_release_moved_arguments(regs, arguments);
  if (irt_status_is_ok(status)) {
    irvm_bc_unmarshal_results(regs, import, results, result_buffer);
  } else {
    irvm_abi_release_refs(import->cconv.results, result_buffer);
    status = irt_status_annotate(status, "while calling import '%.*s'",
                                 IRT_SV_ARG(def->full_name));
  }
  irvm_stack_pop(stack, mark);
  return status;
}

//===----------------------------------------------------------------------===//
// Arithmetic helpers with the spec's edge cases
//===----------------------------------------------------------------------===//

static irt_status_t irvm_division_by_zero(void) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "division by zero");
}

// Signed division/remainder that never traps: x/0 fails, MIN/-1 = MIN and
// MIN%-1 = 0 (spec 7.6).
#define IRVM_DEFINE_SIGNED_DIVREM(bits)                                     \
  static inline int##bits##_t irvm_div_s##bits(int##bits##_t a,             \
                                               int##bits##_t b) {           \
    if (b == -1) return (int##bits##_t)(0u - (uint##bits##_t)a);            \
    return a / b;                                                           \
  }                                                                         \
  static inline int##bits##_t irvm_rem_s##bits(int##bits##_t a,             \
                                               int##bits##_t b) {           \
    if (b == -1) return 0;                                                  \
    return a % b;                                                           \
  }
IRVM_DEFINE_SIGNED_DIVREM(32)
IRVM_DEFINE_SIGNED_DIVREM(64)

// Float -> integer casts round half away from zero (spec 7.13). Values
// outside the target range are unspecified by the spec; we saturate instead
// of invoking undefined behaviour (NaN gives 0).
static inline int64_t irvm_round_to_i64(double x) {
  if (!(x == x)) return 0;
  double r = round(x);
  if (r >= 9223372036854775808.0) return INT64_MAX;
  if (r < -9223372036854775808.0) return INT64_MIN;
  return (int64_t)r;
}
static inline uint64_t irvm_round_to_u64(double x) {
  if (!(x == x)) return 0;
  double r = round(x);
  if (r <= 0.0) return (uint64_t)irvm_round_to_i64(r);  // wraps as C would
  if (r >= 18446744073709551616.0) return UINT64_MAX;
  return (uint64_t)r;
}

// Spec 7.13: min/max return the first operand when either is NaN.
static inline float irvm_min_f32(float a, float b) { return b < a ? b : a; }
static inline float irvm_max_f32(float a, float b) { return a < b ? b : a; }
static inline double irvm_min_f64(double a, double b) { return b < a ? b : a; }
static inline double irvm_max_f64(double a, double b) { return a < b ? b : a; }

static inline uint32_t irvm_ctlz32(uint32_t x) {
  return x ? (uint32_t)__builtin_clz(x) : 32u;
}
static inline uint64_t irvm_ctlz64(uint64_t x) {
  return x ? (uint64_t)__builtin_clzll(x) : 64u;
}

//===----------------------------------------------------------------------===//
// The dispatch loop
//===----------------------------------------------------------------------===//

// Decoding the running function's bytecode. |pc| is the offset of the next
// unread byte; verification guarantees every field is in bounds.
#define RD_U8() (code[pc++])
#define RD_U16() (pc += 2, irvm_load_u16(code + pc - 2))
#define RD_U32() (pc += 4, irvm_load_u32(code + pc - 4))
#define RD_U64() (pc += 8, irvm_load_u64(code + pc - 8))
#define ALIGN_PC() (pc = (pc + 1u) & ~1u)
#define RD_LIST(list)                                \
  do {                                               \
    ALIGN_PC();                                      \
    (list).count = RD_U16();                         \
    (list).entries = code + pc;                      \
    pc += 2u * (list).count;                         \
  } while (0)

#define FAIL_WITH(expr)  \
  do {                   \
    status = (expr);     \
    goto fail;           \
  } while (0)
#define CHECK(expr)                             \
  do {                                          \
    status = (expr);                            \
    if (__builtin_expect(status != IRT_OK, 0)) goto fail; \
  } while (0)

// Binary/unary/ternary op shapes.
#define OP_I32_2(expr)              \
  {                                 \
    uint32_t a = R32(RD_U16());     \
    uint32_t b = R32(RD_U16());     \
    R32(RD_U16()) = (uint32_t)(expr); \
    break;                          \
  }
#define OP_I32_1(expr)              \
  {                                 \
    uint32_t a = R32(RD_U16());     \
    R32(RD_U16()) = (uint32_t)(expr); \
    break;                          \
  }
#define OP_I64_2(expr)              \
  {                                 \
    uint64_t a = R64(RD_U16());     \
    uint64_t b = R64(RD_U16());     \
    W64(RD_U16(), (uint64_t)(expr)); \
    break;                          \
  }
#define OP_I64_1(expr)              \
  {                                 \
    uint64_t a = R64(RD_U16());     \
    W64(RD_U16(), (uint64_t)(expr)); \
    break;                          \
  }
#define OP_I64_CMP(expr)            \
  {                                 \
    uint64_t a = R64(RD_U16());     \
    uint64_t b = R64(RD_U16());     \
    R32(RD_U16()) = (expr) ? 1u : 0u; \
    break;                          \
  }
#define OP_F32_2(expr)                            \
  {                                               \
    float a = irvm_bits_f32(R32(RD_U16()));       \
    float b = irvm_bits_f32(R32(RD_U16()));       \
    R32(RD_U16()) = irvm_f32_bits(expr);          \
    break;                                        \
  }
#define OP_F32_1(expr)                            \
  {                                               \
    float a = irvm_bits_f32(R32(RD_U16()));       \
    R32(RD_U16()) = irvm_f32_bits(expr);          \
    break;                                        \
  }
#define OP_F32_CMP(expr)                          \
  {                                               \
    float a = irvm_bits_f32(R32(RD_U16()));       \
    float b = irvm_bits_f32(R32(RD_U16()));       \
    R32(RD_U16()) = (expr) ? 1u : 0u;             \
    break;                                        \
  }
#define OP_F64_2(expr)                            \
  {                                               \
    double a = irvm_bits_f64(R64(RD_U16()));      \
    double b = irvm_bits_f64(R64(RD_U16()));      \
    W64(RD_U16(), irvm_f64_bits(expr));           \
    break;                                        \
  }
#define OP_F64_1(expr)                            \
  {                                               \
    double a = irvm_bits_f64(R64(RD_U16()));      \
    W64(RD_U16(), irvm_f64_bits(expr));           \
    break;                                        \
  }
#define OP_F64_CMP(expr)                          \
  {                                               \
    double a = irvm_bits_f64(R64(RD_U16()));      \
    double b = irvm_bits_f64(R64(RD_U16()));      \
    R32(RD_U16()) = (expr) ? 1u : 0u;             \
    break;                                        \
  }

// Switches |regs|, |code| and the masks to |frame|.
#define ENTER_FRAME(frame_expr)               \
  do {                                        \
    frame = (frame_expr);                     \
    regs = irvm_bc_frame_regs(frame);         \
    code = frame->function->code;             \
  } while (0)

// Applies a remap list at |pc| (count then (src, dst) pairs, spec 5.4) in
// order, then leaves |pc| after it.
static inline uint32_t irvm_bc_apply_remaps(const irvm_bc_regs_t* regs_in,
                                            const uint8_t* code, uint32_t pc) {
  irvm_bc_regs_t regs = *regs_in;
  ALIGN_PC();
  uint16_t count = RD_U16();
  for (uint16_t i = 0; i < count; ++i) {
    uint16_t src = RD_U16();
    uint16_t dst = RD_U16();
    if (src & IRVM_REG_REF_BIT) {
      irvm_reg_assign_ref(&regs, src, RREF(dst));
    } else {
      R32(dst) = R32(src);
    }
  }
  return pc;
}

// Skips a ^blk(remap) field without applying it.
static inline uint32_t irvm_bc_skip_branch(const uint8_t* code, uint32_t pc) {
  pc += 4;
  ALIGN_PC();
  uint16_t count = RD_U16();
  return pc + 4u * count;
}

// Takes the ^blk(remap) branch at |pc|: returns the pc to continue at.
static inline uint32_t irvm_bc_take_branch(const irvm_bc_regs_t* regs,
                                           const uint8_t* code, uint32_t pc) {
  uint32_t target = irvm_load_u32(code + pc);
  irvm_bc_apply_remaps(regs, code, pc + 4);
  return target + 1;  // skip the block marker
}

// Resolves a type-checked ref for global/select/switch/cast (spec 7.1): a
// non-null value must have exactly the type |type_id| names.
static inline bool irvm_bc_ref_matches(const irvm_bytecode_module_t* module,
                                       uint32_t type_id,
                                       const irvm_ref_t* ref) {
  if (irvm_ref_is_null(ref)) return true;
  const irvm_bc_type_t* type = &module->types[type_id];
  return type->kind == IRVM_BC_TYPE_REF && type->ref_type == ref->type;
}

static irt_status_t irvm_bc_type_mismatch(const irvm_bytecode_module_t* module,
                                          uint32_t type_id,
                                          const irvm_ref_t* ref) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "source ref type mismatch: have '%s', expected '%.*s'",
                         ref->type ? ref->type->name : "null",
                         IRT_SV_ARG(module->def.types[type_id]));
}

// Appends "[depth] bytecode module.function:pc" lines for every live frame
// (spec 5.8) to |status|.
static irt_status_t irvm_bc_annotate_backtrace(irt_status_t status,
                                               const irvm_bytecode_module_t* module,
                                               const irvm_bc_frame_t* frame,
                                               uint32_t pc) {
  char label[160];
  uint32_t depth = 0;
  for (; frame; frame = frame->caller, ++depth) {
    irvm_bc_function_label(module, frame->ordinal, label, sizeof(label));
    status = irt_status_annotate(status, "[%u] bytecode %s:%04X", depth, label,
                                 depth == 0 ? pc : frame->pc);
  }
  return status;
}

static irt_status_t irvm_bc_run(irvm_bc_state_t* state, irvm_stack_t* stack,
                                irvm_bc_frame_t* entry_frame,
                                uint8_t* results) {
  const irvm_bytecode_module_t* module = state->module;
  irt_allocator_t allocator = module->allocator;
  irvm_bc_frame_t* frame = NULL;
  irvm_bc_regs_t regs;
  const uint8_t* code = NULL;
  ENTER_FRAME(entry_frame);
  uint32_t pc = 0;
  uint32_t op_pc = 0;
  irt_status_t status = IRT_OK;

  for (;;) {
    op_pc = pc;
    uint8_t opcode = RD_U8();
    switch (opcode) {
      //===--- Globals (spec 7.1) -----------------------------------------===//
      case IRVM_OP_GLOBAL_LOAD_I32:
      case IRVM_OP_GLOBAL_STORE_I32:
      case IRVM_OP_GLOBAL_LOAD_I64:
      case IRVM_OP_GLOBAL_STORE_I64:
      case IRVM_OP_GLOBAL_LOAD_INDIRECT_I32:
      case IRVM_OP_GLOBAL_STORE_INDIRECT_I32:
      case IRVM_OP_GLOBAL_LOAD_INDIRECT_I64:
      case IRVM_OP_GLOBAL_STORE_INDIRECT_I64: {
        bool indirect = opcode == IRVM_OP_GLOBAL_LOAD_INDIRECT_I32 ||
                        opcode == IRVM_OP_GLOBAL_STORE_INDIRECT_I32 ||
                        opcode == IRVM_OP_GLOBAL_LOAD_INDIRECT_I64 ||
                        opcode == IRVM_OP_GLOBAL_STORE_INDIRECT_I64;
        bool wide = opcode >= IRVM_OP_GLOBAL_LOAD_I64;
        bool store = opcode & 1u;
        uint64_t offset = indirect ? R32(RD_U16()) : RD_U32();
        size_t size = wide ? 8 : 4;
        if (!irt_range_fits(offset, size, module->def.global_bytes_capacity)) {
          FAIL_WITH(irt_make_status(
              IRT_STATUS_OUT_OF_RANGE,
              "global byte offset %llu (+%zu) out of range (%u bytes)",
              (unsigned long long)offset, size,
              module->def.global_bytes_capacity));
        }
        uint8_t* slot = state->global_bytes + offset;
        uint16_t reg = RD_U16();
        if (store) {
          memcpy(slot, wide ? (void*)&regs.i32[reg & regs.pair_mask]
                            : (void*)&R32(reg), size);
        } else {
          memcpy(wide ? (void*)&regs.i32[reg & regs.pair_mask] : (void*)&R32(reg),
                 slot, size);
        }
        break;
      }
      case IRVM_OP_GLOBAL_LOAD_REF:
      case IRVM_OP_GLOBAL_STORE_REF:
      case IRVM_OP_GLOBAL_LOAD_INDIRECT_REF:
      case IRVM_OP_GLOBAL_STORE_INDIRECT_REF: {
        bool indirect = opcode >= IRVM_OP_GLOBAL_LOAD_INDIRECT_REF;
        bool store = opcode & 1u;
        uint32_t ordinal = indirect ? R32(RD_U16()) : RD_U32();
        uint32_t type_id = RD_U32();
        uint16_t reg = RD_U16();
        if (ordinal >= module->def.global_ref_count) {
          FAIL_WITH(irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                                    "ref global %u out of range (%u globals)",
                                    ordinal, module->def.global_ref_count));
        }
        irvm_ref_t* global = &state->global_refs[ordinal];
        irvm_ref_t* value = store ? RREF(reg) : global;
        if (!irvm_bc_ref_matches(module, type_id, value)) {
          FAIL_WITH(irvm_bc_type_mismatch(module, type_id, value));
        }
        if (store) {
          irvm_reg_assign_ref(&regs, reg, global);
        } else if (reg & IRVM_REG_MOVE_BIT) {
          irvm_ref_move_to(global, RREF(reg));
        } else {
          irvm_ref_retain_to(global, RREF(reg));
        }
        break;
      }

      //===--- Constants (spec 7.2) ---------------------------------------===//
      case IRVM_OP_CONST_I32_ZERO:
        R32(RD_U16()) = 0;
        break;
      case IRVM_OP_CONST_I32: {
        uint32_t value = RD_U32();
        R32(RD_U16()) = value;
        break;
      }
      case IRVM_OP_CONST_I64_ZERO:
        W64(RD_U16(), 0);
        break;
      case IRVM_OP_CONST_I64: {
        uint64_t value = RD_U64();
        W64(RD_U16(), value);
        break;
      }
      case IRVM_OP_CONST_REF_ZERO:
        irvm_ref_release(RREF(RD_U16()));
        break;
      case IRVM_OP_CONST_REF_RODATA: {
        uint32_t ordinal = RD_U32();
        irvm_ref_t* dst = RREF(RD_U16());
        irvm_buffer_t* buffer = module->rodata[ordinal];
        irvm_buffer_retain(buffer);
        irvm_ref_release(dst);
        *dst = irvm_ref_wrap(buffer, irvm_buffer_type());
        break;
      }
      case IRVM_OP_DISCARD_REFS: {
        irvm_bc_list_t list;
        RD_LIST(list);
        for (uint16_t i = 0; i < list.count; ++i) {
          irvm_ref_release(RREF(irvm_bc_list_at(list, i)));
        }
        break;
      }
      case IRVM_OP_ASSIGN_REF: {
        uint16_t src = RD_U16();
        uint16_t dst = RD_U16();
        if ((src & regs.ref_mask) != (dst & regs.ref_mask)) {
          irvm_reg_assign_ref(&regs, src, RREF(dst));
        }
        break;
      }

      //===--- Buffers (spec 7.3) -----------------------------------------===//
#define BUFFER_LOAD(fn, result_t, store_result)                   \
  {                                                               \
    irvm_buffer_t* buffer = irvm_buffer_deref(RREF(RD_U16()));    \
    uint64_t index = R64(RD_U16());                               \
    result_t value;                                               \
    CHECK(irvm_buffer_load_##fn(buffer, index, &value));          \
    uint16_t dst = RD_U16();                                      \
    store_result;                                                 \
    break;                                                        \
  }
      case IRVM_OP_BUFFER_LOAD_I8_U: BUFFER_LOAD(u8, int32_t, R32(dst) = (uint32_t)value)
      case IRVM_OP_BUFFER_LOAD_I8_S: BUFFER_LOAD(i8, int32_t, R32(dst) = (uint32_t)value)
      case IRVM_OP_BUFFER_LOAD_I16_U: BUFFER_LOAD(u16, int32_t, R32(dst) = (uint32_t)value)
      case IRVM_OP_BUFFER_LOAD_I16_S: BUFFER_LOAD(i16, int32_t, R32(dst) = (uint32_t)value)
      case IRVM_OP_BUFFER_LOAD_I32: BUFFER_LOAD(i32, int32_t, R32(dst) = (uint32_t)value)
      case IRVM_OP_BUFFER_LOAD_I64: BUFFER_LOAD(i64, int64_t, W64(dst, (uint64_t)value))
#define BUFFER_STORE(fn, read_value)                              \
  {                                                               \
    irvm_buffer_t* buffer = irvm_buffer_deref(RREF(RD_U16()));    \
    uint64_t index = R64(RD_U16());                               \
    uint16_t src = RD_U16();                                      \
    CHECK(irvm_buffer_store_##fn(buffer, index, read_value));     \
    break;                                                        \
  }
      case IRVM_OP_BUFFER_STORE_I8: BUFFER_STORE(i8, (int32_t)R32(src))
      case IRVM_OP_BUFFER_STORE_I16: BUFFER_STORE(i16, (int32_t)R32(src))
      case IRVM_OP_BUFFER_STORE_I32: BUFFER_STORE(i32, (int32_t)R32(src))
      case IRVM_OP_BUFFER_STORE_I64: BUFFER_STORE(i64, (int64_t)R64(src))
#define BUFFER_FILL(fn, read_value)                               \
  {                                                               \
    irvm_buffer_t* buffer = irvm_buffer_deref(RREF(RD_U16()));    \
    uint64_t offset = R64(RD_U16());                              \
    uint64_t count = R64(RD_U16());                               \
    uint16_t src = RD_U16();                                      \
    CHECK(irvm_buffer_fill_##fn(buffer, offset, count, read_value)); \
    break;                                                        \
  }
      case IRVM_OP_BUFFER_FILL_I8: BUFFER_FILL(i8, (int32_t)R32(src))
      case IRVM_OP_BUFFER_FILL_I16: BUFFER_FILL(i16, (int32_t)R32(src))
      case IRVM_OP_BUFFER_FILL_I32: BUFFER_FILL(i32, (int32_t)R32(src))
      case IRVM_OP_BUFFER_FILL_I64: BUFFER_FILL(i64, (int64_t)R64(src))
      case IRVM_OP_BUFFER_ALLOC: {
        uint64_t length = R64(RD_U16());
        uint32_t alignment = R32(RD_U16());
        irvm_ref_t* dst = RREF(RD_U16());
        irvm_buffer_t* buffer = NULL;
        CHECK(irvm_buffer_create(length, alignment, allocator, &buffer));
        irvm_ref_release(dst);
        *dst = irvm_ref_wrap(buffer, irvm_buffer_type());
        break;
      }
      case IRVM_OP_BUFFER_CLONE: {
        irvm_buffer_t* source = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t offset = R64(RD_U16());
        uint64_t length = R64(RD_U16());
        uint32_t alignment = R32(RD_U16());
        irvm_ref_t* dst = RREF(RD_U16());
        irvm_buffer_t* buffer = NULL;
        CHECK(irvm_buffer_clone(source, offset, length, alignment, allocator,
                                &buffer));
        irvm_ref_release(dst);
        *dst = irvm_ref_wrap(buffer, irvm_buffer_type());
        break;
      }
      case IRVM_OP_BUFFER_LENGTH: {
        irvm_buffer_t* buffer = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t length = 0;
        CHECK(irvm_buffer_length(buffer, &length));
        W64(RD_U16(), length);
        break;
      }
      case IRVM_OP_BUFFER_COPY: {
        irvm_buffer_t* source = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t source_offset = R64(RD_U16());
        irvm_buffer_t* target = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t target_offset = R64(RD_U16());
        uint64_t length = R64(RD_U16());
        CHECK(irvm_buffer_copy(source, source_offset, target, target_offset,
                               length));
        break;
      }
      case IRVM_OP_BUFFER_COMPARE: {
        irvm_buffer_t* lhs = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t lhs_offset = R64(RD_U16());
        irvm_buffer_t* rhs = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t rhs_offset = R64(RD_U16());
        uint64_t length = R64(RD_U16());
        bool equal = false;
        CHECK(irvm_buffer_compare(lhs, lhs_offset, rhs, rhs_offset, length,
                                  &equal));
        R32(RD_U16()) = equal ? 1u : 0u;
        break;
      }
      case IRVM_OP_BUFFER_HASH: {
        irvm_buffer_t* buffer = irvm_buffer_deref(RREF(RD_U16()));
        uint64_t offset = R64(RD_U16());
        uint64_t length = R64(RD_U16());
        uint64_t hash = 0;
        CHECK(irvm_buffer_hash(buffer, offset, length, &hash));
        W64(RD_U16(), hash);
        break;
      }

      //===--- Lists (spec 7.4) -------------------------------------------===//
#include "runtime/vm/bytecode/interpreter_lists.inc"

      //===--- Conditional assignment (spec 7.5) --------------------------===//
      case IRVM_OP_SELECT_I32: {
        uint32_t c = R32(RD_U16());
        uint32_t t = R32(RD_U16());
        uint32_t f = R32(RD_U16());
        R32(RD_U16()) = c ? t : f;
        break;
      }
      case IRVM_OP_SELECT_I64: {
        uint32_t c = R32(RD_U16());
        uint64_t t = R64(RD_U16());
        uint64_t f = R64(RD_U16());
        W64(RD_U16(), c ? t : f);
        break;
      }
      case IRVM_OP_SELECT_REF: {
        uint32_t c = R32(RD_U16());
        uint32_t type_id = RD_U32();
        uint16_t t = RD_U16();
        uint16_t f = RD_U16();
        uint16_t dst = RD_U16();
        uint16_t chosen = c ? t : f;
        uint16_t other = c ? f : t;
        if (!irvm_bc_ref_matches(module, type_id, RREF(chosen))) {
          FAIL_WITH(irvm_bc_type_mismatch(module, type_id, RREF(chosen)));
        }
        irvm_reg_assign_ref(&regs, chosen, RREF(dst));
        if ((other & IRVM_REG_MOVE_BIT) &&
            (other & regs.ref_mask) != (dst & regs.ref_mask)) {
          irvm_ref_release(RREF(other));
        }
        break;
      }
      case IRVM_OP_SWITCH_I32: {
        int32_t index = (int32_t)R32(RD_U16());
        uint32_t value = R32(RD_U16());
        irvm_bc_list_t list;
        RD_LIST(list);
        if (index >= 0 && index < list.count) {
          value = R32(irvm_bc_list_at(list, (uint32_t)index));
        }
        R32(RD_U16()) = value;
        break;
      }
      case IRVM_OP_SWITCH_I64: {
        int32_t index = (int32_t)R32(RD_U16());
        uint64_t value = R64(RD_U16());
        irvm_bc_list_t list;
        RD_LIST(list);
        if (index >= 0 && index < list.count) {
          value = R64(irvm_bc_list_at(list, (uint32_t)index));
        }
        W64(RD_U16(), value);
        break;
      }
      case IRVM_OP_SWITCH_REF: {
        int32_t index = (int32_t)R32(RD_U16());
        uint32_t type_id = RD_U32();
        uint16_t chosen = RD_U16();  // the default
        irvm_bc_list_t list;
        RD_LIST(list);
        uint16_t dst = RD_U16();
        uint16_t default_reg = chosen;
        if (index >= 0 && index < list.count) {
          chosen = irvm_bc_list_at(list, (uint32_t)index);
        }
        if (!irvm_bc_ref_matches(module, type_id, RREF(chosen))) {
          FAIL_WITH(irvm_bc_type_mismatch(module, type_id, RREF(chosen)));
        }
        irvm_reg_assign_ref(&regs, chosen, RREF(dst));
        // Release MOVE operands that were not chosen (spec 7.5 quirk fix).
        for (int32_t i = -1; i < (int32_t)list.count; ++i) {
          uint16_t reg = i < 0 ? default_reg : irvm_bc_list_at(list, (uint32_t)i);
          if (reg == chosen || !(reg & IRVM_REG_MOVE_BIT)) continue;
          if ((reg & regs.ref_mask) == (dst & regs.ref_mask)) continue;
          irvm_ref_release(RREF(reg));
        }
        break;
      }

      //===--- Integer arithmetic (spec 7.6-7.9) --------------------------===//
      case IRVM_OP_ADD_I32: OP_I32_2(a + b)
      case IRVM_OP_SUB_I32: OP_I32_2(a - b)
      case IRVM_OP_MUL_I32: OP_I32_2(a * b)
      case IRVM_OP_DIV_I32_S:
      case IRVM_OP_DIV_I32_U:
      case IRVM_OP_REM_I32_S:
      case IRVM_OP_REM_I32_U: {
        uint32_t a = R32(RD_U16());
        uint32_t b = R32(RD_U16());
        if (b == 0) FAIL_WITH(irvm_division_by_zero());
        uint32_t r = 0;
        switch (opcode) {
          case IRVM_OP_DIV_I32_S: r = (uint32_t)irvm_div_s32((int32_t)a, (int32_t)b); break;
          case IRVM_OP_DIV_I32_U: r = a / b; break;
          case IRVM_OP_REM_I32_S: r = (uint32_t)irvm_rem_s32((int32_t)a, (int32_t)b); break;
          default: r = a % b; break;
        }
        R32(RD_U16()) = r;
        break;
      }
      case IRVM_OP_FMA_I32: {
        uint32_t a = R32(RD_U16());
        uint32_t b = R32(RD_U16());
        uint32_t c = R32(RD_U16());
        R32(RD_U16()) = a * b + c;
        break;
      }
      case IRVM_OP_ADD_I64: OP_I64_2(a + b)
      case IRVM_OP_SUB_I64: OP_I64_2(a - b)
      case IRVM_OP_MUL_I64: OP_I64_2(a * b)
      case IRVM_OP_DIV_I64_S:
      case IRVM_OP_DIV_I64_U:
      case IRVM_OP_REM_I64_S:
      case IRVM_OP_REM_I64_U: {
        uint64_t a = R64(RD_U16());
        uint64_t b = R64(RD_U16());
        if (b == 0) FAIL_WITH(irvm_division_by_zero());
        uint64_t r = 0;
        switch (opcode) {
          case IRVM_OP_DIV_I64_S: r = (uint64_t)irvm_div_s64((int64_t)a, (int64_t)b); break;
          case IRVM_OP_DIV_I64_U: r = a / b; break;
          case IRVM_OP_REM_I64_S: r = (uint64_t)irvm_rem_s64((int64_t)a, (int64_t)b); break;
          default: r = a % b; break;
        }
        W64(RD_U16(), r);
        break;
      }
      case IRVM_OP_FMA_I64: {
        uint64_t a = R64(RD_U16());
        uint64_t b = R64(RD_U16());
        uint64_t c = R64(RD_U16());
        W64(RD_U16(), a * b + c);
        break;
      }
      case IRVM_OP_ABS_I32: OP_I32_1((int32_t)a < 0 ? 0u - a : a)
      case IRVM_OP_ABS_I64: OP_I64_1((int64_t)a < 0 ? 0u - a : a)
      case IRVM_OP_MIN_I32_S: OP_I32_2((int32_t)a < (int32_t)b ? a : b)
      case IRVM_OP_MIN_I32_U: OP_I32_2(a < b ? a : b)
      case IRVM_OP_MAX_I32_S: OP_I32_2((int32_t)a > (int32_t)b ? a : b)
      case IRVM_OP_MAX_I32_U: OP_I32_2(a > b ? a : b)
      case IRVM_OP_MIN_I64_S: OP_I64_2((int64_t)a < (int64_t)b ? a : b)
      case IRVM_OP_MIN_I64_U: OP_I64_2(a < b ? a : b)
      case IRVM_OP_MAX_I64_S: OP_I64_2((int64_t)a > (int64_t)b ? a : b)
      case IRVM_OP_MAX_I64_U: OP_I64_2(a > b ? a : b)
      case IRVM_OP_NOT_I32: OP_I32_1(~a)
      case IRVM_OP_AND_I32: OP_I32_2(a & b)
      case IRVM_OP_OR_I32: OP_I32_2(a | b)
      case IRVM_OP_XOR_I32: OP_I32_2(a ^ b)
      case IRVM_OP_NOT_I64: OP_I64_1(~a)
      case IRVM_OP_AND_I64: OP_I64_2(a & b)
      case IRVM_OP_OR_I64: OP_I64_2(a | b)
      case IRVM_OP_XOR_I64: OP_I64_2(a ^ b)
      case IRVM_OP_CTLZ_I32: OP_I32_1(irvm_ctlz32(a))
      case IRVM_OP_CTLZ_I64: OP_I64_1(irvm_ctlz64(a))
      case IRVM_OP_SHL_I32: OP_I32_2(a << (b & 31u))
      case IRVM_OP_SHR_I32_S: OP_I32_2((uint32_t)((int32_t)a >> (b & 31u)))
      case IRVM_OP_SHR_I32_U: OP_I32_2(a >> (b & 31u))
      case IRVM_OP_SHL_I64:
      case IRVM_OP_SHR_I64_S:
      case IRVM_OP_SHR_I64_U: {
        uint64_t a = R64(RD_U16());
        uint32_t amount = R32(RD_U16()) & 63u;
        uint64_t r = opcode == IRVM_OP_SHL_I64 ? a << amount
                     : opcode == IRVM_OP_SHR_I64_U
                         ? a >> amount
                         : (uint64_t)((int64_t)a >> amount);
        W64(RD_U16(), r);
        break;
      }
      case IRVM_OP_TRUNC_I32_I8: OP_I32_1(a & 0xFFu)
      case IRVM_OP_TRUNC_I32_I16: OP_I32_1(a & 0xFFFFu)
      case IRVM_OP_TRUNC_I64_I32: {
        uint64_t a = R64(RD_U16());
        R32(RD_U16()) = (uint32_t)a;
        break;
      }
      case IRVM_OP_EXT_I8_I32_S: OP_I32_1((uint32_t)(int32_t)(int8_t)a)
      case IRVM_OP_EXT_I8_I32_U: OP_I32_1(a & 0xFFu)
      case IRVM_OP_EXT_I16_I32_S: OP_I32_1((uint32_t)(int32_t)(int16_t)a)
      case IRVM_OP_EXT_I16_I32_U: OP_I32_1(a & 0xFFFFu)
      case IRVM_OP_EXT_I32_I64_S: {
        uint32_t a = R32(RD_U16());
        W64(RD_U16(), (uint64_t)(int64_t)(int32_t)a);
        break;
      }
      case IRVM_OP_EXT_I32_I64_U: {
        uint32_t a = R32(RD_U16());
        W64(RD_U16(), (uint64_t)a);
        break;
      }
      case IRVM_OP_CMP_EQ_I32: OP_I32_2(a == b)
      case IRVM_OP_CMP_NE_I32: OP_I32_2(a != b)
      case IRVM_OP_CMP_LT_I32_S: OP_I32_2((int32_t)a < (int32_t)b)
      case IRVM_OP_CMP_LT_I32_U: OP_I32_2(a < b)
      case IRVM_OP_CMP_NZ_I32: OP_I32_1(a != 0)
      case IRVM_OP_CMP_EQ_I64: OP_I64_CMP(a == b)
      case IRVM_OP_CMP_NE_I64: OP_I64_CMP(a != b)
      case IRVM_OP_CMP_LT_I64_S: OP_I64_CMP((int64_t)a < (int64_t)b)
      case IRVM_OP_CMP_LT_I64_U: OP_I64_CMP(a < b)
      case IRVM_OP_CMP_NZ_I64: {
        uint64_t a = R64(RD_U16());
        R32(RD_U16()) = a != 0;
        break;
      }
      case IRVM_OP_CMP_EQ_REF:
      case IRVM_OP_CMP_NE_REF: {
        uint16_t a = RD_U16();
        uint16_t b = RD_U16();
        const irvm_ref_t* lhs = RREF(a);
        const irvm_ref_t* rhs = RREF(b);
        bool equal = (a & regs.ref_mask) == (b & regs.ref_mask) ||
                     (lhs->ptr == rhs->ptr && lhs->type == rhs->type);
        R32(RD_U16()) = (opcode == IRVM_OP_CMP_EQ_REF) == equal;
        break;
      }
      case IRVM_OP_CMP_NZ_REF: {
        const irvm_ref_t* ref = RREF(RD_U16());
        R32(RD_U16()) = !irvm_ref_is_null(ref);
        break;
      }
      case IRVM_OP_CAST_ANY_REF: {
        uint16_t src = RD_U16();
        uint32_t type_id = RD_U32();
        uint16_t dst = RD_U16();
        if (!irvm_bc_ref_matches(module, type_id, RREF(src))) {
          FAIL_WITH(irvm_bc_type_mismatch(module, type_id, RREF(src)));
        }
        irvm_reg_assign_ref(&regs, src, RREF(dst));
        break;
      }

      //===--- Control flow (spec 7.10) -----------------------------------===//
      case IRVM_OP_BLOCK:
        break;
      case IRVM_OP_BR:
      case IRVM_OP_YIELD:  // resumed at once (see the file comment)
      case IRVM_OP_BREAK:
      case IRVM_OP_COND_BREAK:
        pc = irvm_bc_take_branch(&regs, code, pc);
        break;
      case IRVM_OP_COND_BR: {
        uint32_t condition = R32(RD_U16());
        if (condition) {
          pc = irvm_bc_take_branch(&regs, code, pc);
        } else {
          pc = irvm_bc_take_branch(&regs, code, irvm_bc_skip_branch(code, pc));
        }
        break;
      }
      case IRVM_OP_BR_TABLE: {
        int32_t index = (int32_t)R32(RD_U16());
        uint32_t default_pc = pc;
        pc = irvm_bc_skip_branch(code, pc);
        uint16_t case_count = RD_U16();
        if (index < 0 || index >= case_count) {
          pc = irvm_bc_take_branch(&regs, code, default_pc);
          break;
        }
        for (int32_t i = 0; i < index; ++i) pc = irvm_bc_skip_branch(code, pc);
        pc = irvm_bc_take_branch(&regs, code, pc);
        break;
      }
      case IRVM_OP_CALL:
      case IRVM_OP_CALL_VARIADIC:
      case IRVM_OP_CALL_YIELDABLE:
      case IRVM_OP_CALL_VARIADIC_YIELDABLE: {
        bool variadic = opcode == IRVM_OP_CALL_VARIADIC ||
                        opcode == IRVM_OP_CALL_VARIADIC_YIELDABLE;
        bool yieldable = opcode == IRVM_OP_CALL_YIELDABLE ||
                         opcode == IRVM_OP_CALL_VARIADIC_YIELDABLE;
        uint32_t callee = RD_U32();
        irvm_bc_list_t segments = {NULL, 0};
        if (variadic) RD_LIST(segments);
        irvm_bc_list_t arguments;
        RD_LIST(arguments);
        uint32_t resume_pc = 0;
        if (yieldable) resume_pc = RD_U32() + 1;
        ALIGN_PC();
        uint32_t result_list_pc = pc;  // where RETURN finds the result list
        irvm_bc_list_t result_list;
        RD_LIST(result_list);
        uint32_t continue_pc = yieldable ? resume_pc : pc;
        if (callee & IRVM_FUNCTION_IMPORT_BIT) {
          CHECK(irvm_bc_call_import(state, stack, &regs,
                                    callee & ~IRVM_FUNCTION_IMPORT_BIT,
                                    segments, variadic, arguments, result_list));
          pc = continue_pc;
          break;
        }
        // Internal call: push the callee's frame and continue there.
        irvm_bc_frame_t* callee_frame = NULL;
        CHECK(irvm_bc_push_frame(stack, module, callee, frame, &callee_frame));
        irvm_bc_pass_arguments(&regs, arguments.entries, arguments.count,
                               callee_frame);
        frame->pc = continue_pc;
        frame->result_list_pc = result_list_pc;
        ENTER_FRAME(callee_frame);
        pc = 0;
        break;
      }
      case IRVM_OP_RETURN: {
        irvm_bc_list_t values;
        RD_LIST(values);
        irvm_bc_frame_t* caller = frame->caller;
        if (!caller) {
          if (results) {
            irvm_bc_pack_results(&regs, frame->function->cconv.results,
                                 values.entries, values.count, results);
          }
          irvm_bc_pop_frame(stack, frame);
          return IRT_OK;
        }
        irvm_bc_regs_t caller_regs = irvm_bc_frame_regs(caller);
        uint32_t list_pc = caller->result_list_pc;
        const uint8_t* caller_code = caller->function->code;
        irvm_bc_list_t result_list = {caller_code + list_pc + 2,
                                      irvm_load_u16(caller_code + list_pc)};
        irvm_bc_return_values(&regs, frame->function->cconv.results,
                              values.entries, values.count, &caller_regs,
                              result_list.entries, result_list.count);
        irvm_bc_pop_frame(stack, frame);
        ENTER_FRAME(caller);
        pc = caller->pc;
        break;
      }
      case IRVM_OP_FAIL: {
        uint32_t code_value = R32(RD_U16());
        uint16_t length = RD_U16();
        const char* message = (const char*)code + pc;
        pc += length;
        // Code 0 continues (spec 7.10 quirk) into the next block, unless
        // this was the function's last instruction.
        if ((code_value & 0x1Fu) == 0) {
          if (pc < frame->function->code_length) break;
          FAIL_WITH(irt_make_status(IRT_STATUS_INTERNAL,
                                    "vm.fail with code 0 at the end of the "
                                    "function"));
        }
        FAIL_WITH(irt_make_status((irt_status_code_t)(code_value & 0x1Fu),
                                  "%.*s", (int)length, message));
      }
      case IRVM_OP_IMPORT_RESOLVED: {
        uint32_t callee = RD_U32();
        R32(RD_U16()) =
            state->imports[callee & ~IRVM_FUNCTION_IMPORT_BIT].resolved ? 1u : 0u;
        break;
      }
      case IRVM_OP_TRACE:
      case IRVM_OP_PRINT: {
        uint16_t length = RD_U16();
        pc += length;
        irvm_bc_list_t operands;
        RD_LIST(operands);
        irvm_bc_release_moved_arguments(&regs, operands);
        break;
      }

      //===--- Extensions (spec 7.13, 7.14) -------------------------------===//
      case IRVM_OP_PREFIX_EXT_F32:
        switch (RD_U8()) {
#include "runtime/vm/bytecode/interpreter_f32.inc"
          default:
            goto unknown_opcode;
        }
        break;
      case IRVM_OP_PREFIX_EXT_F64:
        switch (RD_U8()) {
#include "runtime/vm/bytecode/interpreter_f64.inc"
          default:
            goto unknown_opcode;
        }
        break;

      default:
        goto unknown_opcode;
    }
  }

unknown_opcode:
  status = irt_make_status(IRT_STATUS_INTERNAL,
                           "unverified opcode at pc %04X", op_pc);
fail:
  status = irvm_bc_annotate_backtrace(status, module, frame, op_pc);
  // Unwind every frame of this invocation, releasing their refs (spec 5.8).
  while (frame) {
    irvm_bc_frame_t* caller = frame->caller;
    irvm_bc_pop_frame(stack, frame);
    frame = caller;
  }
  return status;
}

irt_status_t irvm_bc_execute(irvm_bc_state_t* state, irvm_stack_t* stack,
                             uint32_t ordinal, const uint8_t* arguments,
                             uint8_t* results) {
  irvm_bc_frame_t* frame = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_bc_push_frame(stack, state->module, ordinal, NULL, &frame));
  if (arguments) irvm_bc_unpack_arguments(frame, arguments);
  return irvm_bc_run(state, stack, frame, results);
}
