// The VM bytecode 17.0 instruction set as data: one row per opcode with its
// mnemonic and operand layout. The verifier, the disassembler and the module
// builder's encoder all walk these layouts, so the encoding is written down
// exactly once. (The interpreter decodes inline for speed.)
//
// Layout strings list the fields after the opcode (and prefix), in encoding
// order. A '>' marks the start of the result fields. Field letters:
//   i  i32-bank register (i32 or f32)       I  i64-bank pair, even (i64/f64)
//   r  ref register, MOVE bit not allowed   R  ref register, MOVE allowed
//   c  #i32 immediate (4 bytes)             C  #i64 immediate (8 bytes)
//   g  @glob byte offset (u32)              G  @gref ref global ordinal (u32)
//   d  @rodata ordinal (u32)                t  type table index (u32)
//   f  @func reference (u32; bit 31 = import)
//   s  string: u16 length + bytes
//   L  [list] of registers of any bank      Q  [list] of ref registers
//   J  [list] of i32 registers              K  [list] of i64 pairs
//   M  [list] of ref registers, MOVE allowed
//   S  [segs] i16 segment sizes
//   B  ^blk(remap): u32 target, pc aligned to 2, u16 n, n (src,dst) pairs
//   b  ^blk: u32 target only
//   T  {table}: u16 m, then m x ^blk(remap)
// Lists (L Q J K M S) and remap counts start at a pc aligned to 2 (one pad
// byte is skipped when the pc is odd).
#ifndef IRVM_OPCODES_H
#define IRVM_OPCODES_H

#include <stdint.h>

// Flags of an opcode row.
#define IRVM_OPF_TERMINATOR 0x1u  // ends a block
#define IRVM_OPF_GLOBAL4 0x2u     // 'g' field accesses 4 bytes
#define IRVM_OPF_GLOBAL8 0x4u     // 'g' field accesses 8 bytes

#define IRVM_OP_PREFIX_EXT_F32 0xE0
#define IRVM_OP_PREFIX_EXT_F64 0xE1

// X(opcode, NAME, "mnemonic", "layout", flags)
#define IRVM_CORE_OPS(X)                                                    \
  X(0x00, GLOBAL_LOAD_I32, "vm.global.load.i32", "g>i", IRVM_OPF_GLOBAL4)   \
  X(0x01, GLOBAL_STORE_I32, "vm.global.store.i32", "gi", IRVM_OPF_GLOBAL4)  \
  X(0x02, GLOBAL_LOAD_INDIRECT_I32, "vm.global.load.indirect.i32", "i>i", 0) \
  X(0x03, GLOBAL_STORE_INDIRECT_I32, "vm.global.store.indirect.i32", "ii", 0) \
  X(0x04, GLOBAL_LOAD_I64, "vm.global.load.i64", "g>I", IRVM_OPF_GLOBAL8)   \
  X(0x05, GLOBAL_STORE_I64, "vm.global.store.i64", "gI", IRVM_OPF_GLOBAL8)  \
  X(0x06, GLOBAL_LOAD_INDIRECT_I64, "vm.global.load.indirect.i64", "i>I", 0) \
  X(0x07, GLOBAL_STORE_INDIRECT_I64, "vm.global.store.indirect.i64", "iI", 0) \
  X(0x08, GLOBAL_LOAD_REF, "vm.global.load.ref", "Gt>R", 0)                 \
  X(0x09, GLOBAL_STORE_REF, "vm.global.store.ref", "GtR", 0)                \
  X(0x0A, GLOBAL_LOAD_INDIRECT_REF, "vm.global.load.indirect.ref", "it>R", 0) \
  X(0x0B, GLOBAL_STORE_INDIRECT_REF, "vm.global.store.indirect.ref", "itR", 0) \
  X(0x0C, CONST_I32_ZERO, "vm.const.i32.zero", ">i", 0)                     \
  X(0x0D, CONST_I32, "vm.const.i32", "c>i", 0)                              \
  X(0x0E, CONST_I64_ZERO, "vm.const.i64.zero", ">I", 0)                     \
  X(0x0F, CONST_I64, "vm.const.i64", "C>I", 0)                              \
  X(0x10, CONST_REF_ZERO, "vm.const.ref.zero", ">R", 0)                     \
  X(0x11, CONST_REF_RODATA, "vm.const.ref.rodata", "d>R", 0)                \
  X(0x12, LIST_ALLOC, "vm.list.alloc", "ti>R", 0)                           \
  X(0x13, LIST_RESERVE, "vm.list.reserve", "ri", 0)                         \
  X(0x14, LIST_SIZE, "vm.list.size", "r>i", 0)                              \
  X(0x15, LIST_RESIZE, "vm.list.resize", "ri", 0)                           \
  X(0x16, LIST_GET_I32, "vm.list.get.i32", "ri>i", 0)                       \
  X(0x17, LIST_SET_I32, "vm.list.set.i32", "rii", 0)                        \
  X(0x18, LIST_GET_I64, "vm.list.get.i64", "ri>I", 0)                       \
  X(0x19, LIST_SET_I64, "vm.list.set.i64", "riI", 0)                        \
  X(0x1A, LIST_GET_REF, "vm.list.get.ref", "rit>R", 0)                      \
  X(0x1B, LIST_SET_REF, "vm.list.set.ref", "riR", 0)                        \
  X(0x1C, SELECT_I32, "vm.select.i32", "iii>i", 0)                          \
  X(0x1D, SELECT_I64, "vm.select.i64", "iII>I", 0)                          \
  X(0x1E, SELECT_REF, "vm.select.ref", "itRR>R", 0)                         \
  X(0x1F, SWITCH_I32, "vm.switch.i32", "iiJ>i", 0)                          \
  X(0x20, SWITCH_I64, "vm.switch.i64", "iIK>I", 0)                          \
  X(0x21, SWITCH_REF, "vm.switch.ref", "itRM>R", 0)                         \
  X(0x22, ADD_I32, "vm.add.i32", "ii>i", 0)                                 \
  X(0x23, SUB_I32, "vm.sub.i32", "ii>i", 0)                                 \
  X(0x24, MUL_I32, "vm.mul.i32", "ii>i", 0)                                 \
  X(0x25, DIV_I32_S, "vm.div.i32.s", "ii>i", 0)                             \
  X(0x26, DIV_I32_U, "vm.div.i32.u", "ii>i", 0)                             \
  X(0x27, REM_I32_S, "vm.rem.i32.s", "ii>i", 0)                             \
  X(0x28, REM_I32_U, "vm.rem.i32.u", "ii>i", 0)                             \
  X(0x29, FMA_I32, "vm.fma.i32", "iii>i", 0)                                \
  X(0x2A, ADD_I64, "vm.add.i64", "II>I", 0)                                 \
  X(0x2B, SUB_I64, "vm.sub.i64", "II>I", 0)                                 \
  X(0x2C, MUL_I64, "vm.mul.i64", "II>I", 0)                                 \
  X(0x2D, DIV_I64_S, "vm.div.i64.s", "II>I", 0)                             \
  X(0x2E, DIV_I64_U, "vm.div.i64.u", "II>I", 0)                             \
  X(0x2F, REM_I64_S, "vm.rem.i64.s", "II>I", 0)                             \
  X(0x30, REM_I64_U, "vm.rem.i64.u", "II>I", 0)                             \
  X(0x31, FMA_I64, "vm.fma.i64", "III>I", 0)                                \
  X(0x32, NOT_I32, "vm.not.i32", "i>i", 0)                                  \
  X(0x33, AND_I32, "vm.and.i32", "ii>i", 0)                                 \
  X(0x34, OR_I32, "vm.or.i32", "ii>i", 0)                                   \
  X(0x35, XOR_I32, "vm.xor.i32", "ii>i", 0)                                 \
  X(0x36, NOT_I64, "vm.not.i64", "I>I", 0)                                  \
  X(0x37, AND_I64, "vm.and.i64", "II>I", 0)                                 \
  X(0x38, OR_I64, "vm.or.i64", "II>I", 0)                                   \
  X(0x39, XOR_I64, "vm.xor.i64", "II>I", 0)                                 \
  X(0x3A, SHL_I32, "vm.shl.i32", "ii>i", 0)                                 \
  X(0x3B, SHR_I32_S, "vm.shr.i32.s", "ii>i", 0)                             \
  X(0x3C, SHR_I32_U, "vm.shr.i32.u", "ii>i", 0)                             \
  X(0x3D, SHL_I64, "vm.shl.i64", "Ii>I", 0)                                 \
  X(0x3E, SHR_I64_S, "vm.shr.i64.s", "Ii>I", 0)                             \
  X(0x3F, SHR_I64_U, "vm.shr.i64.u", "Ii>I", 0)                             \
  X(0x40, TRUNC_I32_I8, "vm.trunc.i32.i8", "i>i", 0)                        \
  X(0x41, TRUNC_I32_I16, "vm.trunc.i32.i16", "i>i", 0)                      \
  X(0x42, TRUNC_I64_I32, "vm.trunc.i64.i32", "I>i", 0)                      \
  X(0x43, EXT_I8_I32_S, "vm.ext.i8.i32.s", "i>i", 0)                        \
  X(0x44, EXT_I8_I32_U, "vm.ext.i8.i32.u", "i>i", 0)                        \
  X(0x45, EXT_I16_I32_S, "vm.ext.i16.i32.s", "i>i", 0)                      \
  X(0x46, EXT_I16_I32_U, "vm.ext.i16.i32.u", "i>i", 0)                      \
  X(0x47, EXT_I32_I64_S, "vm.ext.i32.i64.s", "i>I", 0)                      \
  X(0x48, EXT_I32_I64_U, "vm.ext.i32.i64.u", "i>I", 0)                      \
  X(0x49, CMP_EQ_I32, "vm.cmp.eq.i32", "ii>i", 0)                           \
  X(0x4A, CMP_NE_I32, "vm.cmp.ne.i32", "ii>i", 0)                           \
  X(0x4B, CMP_LT_I32_S, "vm.cmp.lt.i32.s", "ii>i", 0)                       \
  X(0x4C, CMP_LT_I32_U, "vm.cmp.lt.i32.u", "ii>i", 0)                       \
  X(0x4D, CMP_NZ_I32, "vm.cmp.nz.i32", "i>i", 0)                            \
  X(0x4E, CMP_EQ_I64, "vm.cmp.eq.i64", "II>i", 0)                           \
  X(0x4F, CMP_NE_I64, "vm.cmp.ne.i64", "II>i", 0)                           \
  X(0x50, CMP_LT_I64_S, "vm.cmp.lt.i64.s", "II>i", 0)                       \
  X(0x51, CMP_LT_I64_U, "vm.cmp.lt.i64.u", "II>i", 0)                       \
  X(0x52, CMP_NZ_I64, "vm.cmp.nz.i64", "I>i", 0)                            \
  X(0x53, CMP_EQ_REF, "vm.cmp.eq.ref", "rr>i", 0)                           \
  X(0x54, CMP_NE_REF, "vm.cmp.ne.ref", "rr>i", 0)                           \
  X(0x55, CMP_NZ_REF, "vm.cmp.nz.ref", "r>i", 0)                            \
  X(0x56, BR, "vm.br", "B", IRVM_OPF_TERMINATOR)                            \
  X(0x57, COND_BR, "vm.cond_br", "iBB", IRVM_OPF_TERMINATOR)                \
  X(0x58, CALL, "vm.call", "fL>L", 0)                                       \
  X(0x59, CALL_VARIADIC, "vm.call.variadic", "fSL>L", 0)                    \
  X(0x5A, RETURN, "vm.return", "L", IRVM_OPF_TERMINATOR)                    \
  X(0x5B, FAIL, "vm.fail", "is", IRVM_OPF_TERMINATOR)                       \
  X(0x5C, IMPORT_RESOLVED, "vm.import.resolved", "f>i", 0)                  \
  X(0x5D, YIELD, "vm.yield", "B", IRVM_OPF_TERMINATOR)                      \
  X(0x5E, TRACE, "vm.trace", "sL", 0)                                       \
  X(0x5F, PRINT, "vm.print", "sL", 0)                                       \
  /* The compiler encodes cond_break without its condition (spec 7.11). */  \
  X(0x60, COND_BREAK, "vm.cond_break", "B", IRVM_OPF_TERMINATOR)            \
  X(0x61, BREAK, "vm.break", "B", IRVM_OPF_TERMINATOR)                      \
  X(0x62, BUFFER_LOAD_I8_U, "vm.buffer.load.i8.u", "rI>i", 0)               \
  X(0x63, BUFFER_LOAD_I8_S, "vm.buffer.load.i8.s", "rI>i", 0)               \
  X(0x64, BUFFER_LOAD_I16_U, "vm.buffer.load.i16.u", "rI>i", 0)             \
  X(0x65, BUFFER_LOAD_I16_S, "vm.buffer.load.i16.s", "rI>i", 0)             \
  X(0x66, BUFFER_LOAD_I32, "vm.buffer.load.i32", "rI>i", 0)                 \
  X(0x67, BUFFER_LOAD_I64, "vm.buffer.load.i64", "rI>I", 0)                 \
  X(0x68, BUFFER_STORE_I8, "vm.buffer.store.i8", "rIi", 0)                  \
  X(0x69, BUFFER_STORE_I16, "vm.buffer.store.i16", "rIi", 0)                \
  X(0x6A, BUFFER_STORE_I32, "vm.buffer.store.i32", "rIi", 0)                \
  X(0x6B, BUFFER_STORE_I64, "vm.buffer.store.i64", "rII", 0)                \
  X(0x6C, BUFFER_ALLOC, "vm.buffer.alloc", "Ii>R", 0)                       \
  X(0x6D, BUFFER_CLONE, "vm.buffer.clone", "rIIi>R", 0)                     \
  X(0x6E, BUFFER_LENGTH, "vm.buffer.length", "r>I", 0)                      \
  X(0x6F, BUFFER_COPY, "vm.buffer.copy", "rIrII", 0)                        \
  X(0x70, BUFFER_COMPARE, "vm.buffer.compare", "rIrII>i", 0)                \
  X(0x71, BUFFER_FILL_I8, "vm.buffer.fill.i8", "rIIi", 0)                   \
  X(0x72, BUFFER_FILL_I16, "vm.buffer.fill.i16", "rIIi", 0)                 \
  X(0x73, BUFFER_FILL_I32, "vm.buffer.fill.i32", "rIIi", 0)                 \
  X(0x74, BUFFER_FILL_I64, "vm.buffer.fill.i64", "rIII", 0)                 \
  X(0x75, CTLZ_I32, "vm.ctlz.i32", "i>i", 0)                                \
  X(0x76, CTLZ_I64, "vm.ctlz.i64", "I>I", 0)                                \
  X(0x77, ABS_I32, "vm.abs.i32", "i>i", 0)                                  \
  X(0x78, ABS_I64, "vm.abs.i64", "I>I", 0)                                  \
  X(0x79, BLOCK, "vm.block", "", 0)                                         \
  X(0x7A, MIN_I32_S, "vm.min.i32.s", "ii>i", 0)                             \
  X(0x7B, MIN_I32_U, "vm.min.i32.u", "ii>i", 0)                             \
  X(0x7C, MAX_I32_S, "vm.max.i32.s", "ii>i", 0)                             \
  X(0x7D, MAX_I32_U, "vm.max.i32.u", "ii>i", 0)                             \
  X(0x7E, MIN_I64_S, "vm.min.i64.s", "II>I", 0)                             \
  X(0x7F, MIN_I64_U, "vm.min.i64.u", "II>I", 0)                             \
  X(0x80, MAX_I64_S, "vm.max.i64.s", "II>I", 0)                             \
  X(0x81, MAX_I64_U, "vm.max.i64.u", "II>I", 0)                             \
  X(0x82, CAST_ANY_REF, "vm.cast.any.ref", "Rt>R", 0)                       \
  X(0x83, BR_TABLE, "vm.br_table", "iBT", IRVM_OPF_TERMINATOR)              \
  X(0x84, BUFFER_HASH, "vm.buffer.hash", "rII>I", 0)                        \
  X(0x85, DISCARD_REFS, "vm.discard.refs", "Q", 0)                          \
  X(0x86, ASSIGN_REF, "vm.assign.ref", "R>R", 0)                            \
  X(0x87, CALL_YIELDABLE, "vm.call.yieldable", "fLb>L", IRVM_OPF_TERMINATOR) \
  X(0x88, CALL_VARIADIC_YIELDABLE, "vm.call.variadic.yieldable", "fSLb>L",  \
    IRVM_OPF_TERMINATOR)

// Prefix 0xE0. Functions using these need the EXT_F32 requirement bit.
#define IRVM_EXT_F32_OPS(X)                                                 \
  X(0x00, GLOBAL_LOAD_F32, "vm.global.load.f32", "g>i", IRVM_OPF_GLOBAL4)   \
  X(0x01, GLOBAL_STORE_F32, "vm.global.store.f32", "gi", IRVM_OPF_GLOBAL4)  \
  X(0x02, GLOBAL_LOAD_INDIRECT_F32, "vm.global.load.indirect.f32", "i>i", 0) \
  X(0x03, GLOBAL_STORE_INDIRECT_F32, "vm.global.store.indirect.f32", "ii", 0) \
  X(0x04, CONST_F32_ZERO, "vm.const.f32.zero", ">i", 0)                     \
  X(0x05, CONST_F32, "vm.const.f32", "c>i", 0)                              \
  X(0x06, LIST_GET_F32, "vm.list.get.f32", "ri>i", 0)                       \
  X(0x07, LIST_SET_F32, "vm.list.set.f32", "rii", 0)                        \
  X(0x08, SELECT_F32, "vm.select.f32", "iii>i", 0)                          \
  X(0x09, SWITCH_F32, "vm.switch.f32", "iiJ>i", 0)                          \
  X(0x0A, ADD_F32, "vm.add.f32", "ii>i", 0)                                 \
  X(0x0B, SUB_F32, "vm.sub.f32", "ii>i", 0)                                 \
  X(0x0C, MUL_F32, "vm.mul.f32", "ii>i", 0)                                 \
  X(0x0D, DIV_F32, "vm.div.f32", "ii>i", 0)                                 \
  X(0x0E, REM_F32, "vm.rem.f32", "ii>i", 0)                                 \
  X(0x0F, FMA_F32, "vm.fma.f32", "iii>i", 0)                                \
  X(0x10, ABS_F32, "vm.abs.f32", "i>i", 0)                                  \
  X(0x11, NEG_F32, "vm.neg.f32", "i>i", 0)                                  \
  X(0x12, CEIL_F32, "vm.ceil.f32", "i>i", 0)                                \
  X(0x13, FLOOR_F32, "vm.floor.f32", "i>i", 0)                              \
  X(0x14, CAST_SI32_F32, "vm.cast.si32.f32", "i>i", 0)                      \
  X(0x15, CAST_UI32_F32, "vm.cast.ui32.f32", "i>i", 0)                      \
  X(0x16, CAST_F32_SI32, "vm.cast.f32.si32", "i>i", 0)                      \
  X(0x17, CAST_F32_UI32, "vm.cast.f32.ui32", "i>i", 0)                      \
  X(0x18, BITCAST_I32_F32, "vm.bitcast.i32.f32", "i>i", 0)                  \
  X(0x19, BITCAST_F32_I32, "vm.bitcast.f32.i32", "i>i", 0)                  \
  X(0x1A, ATAN_F32, "vm.atan.f32", "i>i", 0)                                \
  X(0x1B, ATAN2_F32, "vm.atan2.f32", "ii>i", 0)                             \
  X(0x1C, COS_F32, "vm.cos.f32", "i>i", 0)                                  \
  X(0x1D, SIN_F32, "vm.sin.f32", "i>i", 0)                                  \
  X(0x1E, EXP_F32, "vm.exp.f32", "i>i", 0)                                  \
  X(0x1F, EXP2_F32, "vm.exp2.f32", "i>i", 0)                                \
  X(0x20, EXPM1_F32, "vm.expm1.f32", "i>i", 0)                              \
  X(0x21, LOG_F32, "vm.log.f32", "i>i", 0)                                  \
  X(0x22, LOG10_F32, "vm.log10.f32", "i>i", 0)                              \
  X(0x23, LOG1P_F32, "vm.log1p.f32", "i>i", 0)                              \
  X(0x24, LOG2_F32, "vm.log2.f32", "i>i", 0)                                \
  X(0x25, POW_F32, "vm.pow.f32", "ii>i", 0)                                 \
  X(0x26, RSQRT_F32, "vm.rsqrt.f32", "i>i", 0)                              \
  X(0x27, SQRT_F32, "vm.sqrt.f32", "i>i", 0)                                \
  X(0x28, TANH_F32, "vm.tanh.f32", "i>i", 0)                                \
  X(0x29, ERF_F32, "vm.erf.f32", "i>i", 0)                                  \
  X(0x2A, CMP_EQ_F32_O, "vm.cmp.eq.f32.o", "ii>i", 0)                       \
  X(0x2B, CMP_EQ_F32_U, "vm.cmp.eq.f32.u", "ii>i", 0)                       \
  X(0x2C, CMP_NE_F32_O, "vm.cmp.ne.f32.o", "ii>i", 0)                       \
  X(0x2D, CMP_NE_F32_U, "vm.cmp.ne.f32.u", "ii>i", 0)                       \
  X(0x2E, CMP_LT_F32_O, "vm.cmp.lt.f32.o", "ii>i", 0)                       \
  X(0x2F, CMP_LT_F32_U, "vm.cmp.lt.f32.u", "ii>i", 0)                       \
  X(0x30, CMP_LTE_F32_O, "vm.cmp.lte.f32.o", "ii>i", 0)                     \
  X(0x31, CMP_LTE_F32_U, "vm.cmp.lte.f32.u", "ii>i", 0)                     \
  X(0x32, CMP_NAN_F32, "vm.cmp.nan.f32", "i>i", 0)                          \
  X(0x33, BUFFER_LOAD_F32, "vm.buffer.load.f32", "rI>i", 0)                 \
  X(0x34, BUFFER_STORE_F32, "vm.buffer.store.f32", "rIi", 0)                \
  X(0x35, BUFFER_FILL_F32, "vm.buffer.fill.f32", "rIIi", 0)                 \
  X(0x36, ROUND_F32, "vm.round.f32", "i>i", 0)                              \
  X(0x37, MIN_F32, "vm.min.f32", "ii>i", 0)                                 \
  X(0x38, MAX_F32, "vm.max.f32", "ii>i", 0)                                 \
  X(0x39, ROUND_F32_EVEN, "vm.round.f32.even", "i>i", 0)                    \
  X(0x3A, CAST_F32_SI64, "vm.cast.f32.si64", "i>I", 0)                      \
  X(0x3B, CAST_F32_UI64, "vm.cast.f32.ui64", "i>I", 0)                      \
  X(0x3C, CAST_SI64_F32, "vm.cast.si64.f32", "I>i", 0)                      \
  X(0x3D, CAST_UI64_F32, "vm.cast.ui64.f32", "I>i", 0)

// Prefix 0xE1. Functions using these need the EXT_F64 requirement bit.
#define IRVM_EXT_F64_OPS(X)                                                 \
  X(0x00, GLOBAL_LOAD_F64, "vm.global.load.f64", "g>I", IRVM_OPF_GLOBAL8)   \
  X(0x01, GLOBAL_STORE_F64, "vm.global.store.f64", "gI", IRVM_OPF_GLOBAL8)  \
  X(0x02, GLOBAL_LOAD_INDIRECT_F64, "vm.global.load.indirect.f64", "i>I", 0) \
  X(0x03, GLOBAL_STORE_INDIRECT_F64, "vm.global.store.indirect.f64", "iI", 0) \
  X(0x04, CONST_F64_ZERO, "vm.const.f64.zero", ">I", 0)                     \
  X(0x05, CONST_F64, "vm.const.f64", "C>I", 0)                              \
  X(0x06, LIST_GET_F64, "vm.list.get.f64", "ri>I", 0)                       \
  X(0x07, LIST_SET_F64, "vm.list.set.f64", "riI", 0)                        \
  X(0x08, SELECT_F64, "vm.select.f64", "iII>I", 0)                          \
  X(0x09, SWITCH_F64, "vm.switch.f64", "iIK>I", 0)                          \
  X(0x0A, ADD_F64, "vm.add.f64", "II>I", 0)                                 \
  X(0x0B, SUB_F64, "vm.sub.f64", "II>I", 0)                                 \
  X(0x0C, MUL_F64, "vm.mul.f64", "II>I", 0)                                 \
  X(0x0D, DIV_F64, "vm.div.f64", "II>I", 0)                                 \
  X(0x0E, REM_F64, "vm.rem.f64", "II>I", 0)                                 \
  X(0x0F, FMA_F64, "vm.fma.f64", "III>I", 0)                                \
  X(0x10, ABS_F64, "vm.abs.f64", "I>I", 0)                                  \
  X(0x11, NEG_F64, "vm.neg.f64", "I>I", 0)                                  \
  X(0x12, CEIL_F64, "vm.ceil.f64", "I>I", 0)                                \
  X(0x13, FLOOR_F64, "vm.floor.f64", "I>I", 0)                              \
  X(0x14, TRUNC_F64_F32, "vm.trunc.f64.f32", "I>i", 0)                      \
  X(0x15, EXT_F32_F64, "vm.ext.f32.f64", "i>I", 0)                          \
  X(0x16, CAST_SI32_F64, "vm.cast.si32.f64", "i>I", 0)                      \
  X(0x17, CAST_UI32_F64, "vm.cast.ui32.f64", "i>I", 0)                      \
  X(0x18, CAST_F64_SI32, "vm.cast.f64.si32", "I>i", 0)                      \
  X(0x19, CAST_F64_UI32, "vm.cast.f64.ui32", "I>i", 0)                      \
  X(0x1A, CAST_SI64_F64, "vm.cast.si64.f64", "I>I", 0)                      \
  X(0x1B, CAST_UI64_F64, "vm.cast.ui64.f64", "I>I", 0)                      \
  X(0x1C, CAST_F64_SI64, "vm.cast.f64.si64", "I>I", 0)                      \
  X(0x1D, CAST_F64_UI64, "vm.cast.f64.ui64", "I>I", 0)                      \
  X(0x1E, BITCAST_I64_F64, "vm.bitcast.i64.f64", "I>I", 0)                  \
  X(0x1F, BITCAST_F64_I64, "vm.bitcast.f64.i64", "I>I", 0)                  \
  X(0x20, ATAN_F64, "vm.atan.f64", "I>I", 0)                                \
  X(0x21, ATAN2_F64, "vm.atan2.f64", "II>I", 0)                             \
  X(0x22, COS_F64, "vm.cos.f64", "I>I", 0)                                  \
  X(0x23, SIN_F64, "vm.sin.f64", "I>I", 0)                                  \
  X(0x24, EXP_F64, "vm.exp.f64", "I>I", 0)                                  \
  X(0x25, EXP2_F64, "vm.exp2.f64", "I>I", 0)                                \
  X(0x26, EXPM1_F64, "vm.expm1.f64", "I>I", 0)                              \
  X(0x27, LOG_F64, "vm.log.f64", "I>I", 0)                                  \
  X(0x28, LOG10_F64, "vm.log10.f64", "I>I", 0)                              \
  X(0x29, LOG1P_F64, "vm.log1p.f64", "I>I", 0)                              \
  X(0x2A, LOG2_F64, "vm.log2.f64", "I>I", 0)                                \
  X(0x2B, POW_F64, "vm.pow.f64", "II>I", 0)                                 \
  X(0x2C, RSQRT_F64, "vm.rsqrt.f64", "I>I", 0)                              \
  X(0x2D, SQRT_F64, "vm.sqrt.f64", "I>I", 0)                                \
  X(0x2E, TANH_F64, "vm.tanh.f64", "I>I", 0)                                \
  X(0x2F, ERF_F64, "vm.erf.f64", "I>I", 0)                                  \
  X(0x30, CMP_EQ_F64_O, "vm.cmp.eq.f64.o", "II>i", 0)                       \
  X(0x31, CMP_EQ_F64_U, "vm.cmp.eq.f64.u", "II>i", 0)                       \
  X(0x32, CMP_NE_F64_O, "vm.cmp.ne.f64.o", "II>i", 0)                       \
  X(0x33, CMP_NE_F64_U, "vm.cmp.ne.f64.u", "II>i", 0)                       \
  X(0x34, CMP_LT_F64_O, "vm.cmp.lt.f64.o", "II>i", 0)                       \
  X(0x35, CMP_LT_F64_U, "vm.cmp.lt.f64.u", "II>i", 0)                       \
  X(0x36, CMP_LTE_F64_O, "vm.cmp.lte.f64.o", "II>i", 0)                     \
  X(0x37, CMP_LTE_F64_U, "vm.cmp.lte.f64.u", "II>i", 0)                     \
  X(0x38, CMP_NAN_F64, "vm.cmp.nan.f64", "I>i", 0)                          \
  X(0x39, BUFFER_LOAD_F64, "vm.buffer.load.f64", "rI>I", 0)                 \
  X(0x3A, BUFFER_STORE_F64, "vm.buffer.store.f64", "rII", 0)                \
  X(0x3B, BUFFER_FILL_F64, "vm.buffer.fill.f64", "rIII", 0)                 \
  X(0x3C, ROUND_F64, "vm.round.f64", "I>I", 0)                              \
  X(0x3D, MIN_F64, "vm.min.f64", "II>I", 0)                                 \
  X(0x3E, MAX_F64, "vm.max.f64", "II>I", 0)                                 \
  X(0x3F, ROUND_F64_EVEN, "vm.round.f64.even", "I>I", 0)

#define IRVM_OP_ENUM_ENTRY(opcode, name, mnemonic, layout, flags) \
  IRVM_OP_##name = opcode,
typedef enum irvm_core_op_e { IRVM_CORE_OPS(IRVM_OP_ENUM_ENTRY) } irvm_core_op_t;
typedef enum irvm_ext_f32_op_e {
  IRVM_EXT_F32_OPS(IRVM_OP_ENUM_ENTRY)
} irvm_ext_f32_op_t;
typedef enum irvm_ext_f64_op_e {
  IRVM_EXT_F64_OPS(IRVM_OP_ENUM_ENTRY)
} irvm_ext_f64_op_t;
#undef IRVM_OP_ENUM_ENTRY

typedef enum irvm_op_table_e {
  IRVM_OP_TABLE_CORE = 0,
  IRVM_OP_TABLE_EXT_F32 = 1,
  IRVM_OP_TABLE_EXT_F64 = 2,
} irvm_op_table_t;

typedef struct irvm_op_info_s {
  uint8_t opcode;
  uint8_t table;  // irvm_op_table_t
  uint16_t flags;
  const char* mnemonic;
  const char* layout;
} irvm_op_info_t;

// The row for |opcode| in |table|, or NULL for a reserved opcode.
const irvm_op_info_t* irvm_op_info(irvm_op_table_t table, uint8_t opcode);

#endif  // IRVM_OPCODES_H
