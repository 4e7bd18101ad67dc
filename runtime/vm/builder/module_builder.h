// Writes genuine IREE v3.11 `.vmfb` files (VM bytecode 17.0) from C: the
// module metadata (types, imports, exports, rodata, globals, attributes,
// debug locations) and function bodies emitted instruction by instruction.
// docs/module-builder.md has a complete example.
//
// Shape of a build:
//
//   irvm_module_builder_t* b;
//   IRT_RETURN_IF_ERROR(irvm_module_builder_create(allocator, "m", 0, &b));
//   irvm_function_builder_t* fn;
//   IRT_RETURN_IF_ERROR(irvm_module_builder_begin_exported_function(
//       b, "add", "0ii_i", &fn));            // args land in %i0, %i1
//   IRT_RETURN_IF_ERROR(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, irvm_reg_i32(2),
//                                   irvm_reg_i32(0), irvm_reg_i32(1)));
//   IRT_RETURN_IF_ERROR(IRVM_EMIT(fn, IRVM_INSN_RETURN,
//                                 IRVM_LIST(irvm_reg_i32(2))));
//   IRT_RETURN_IF_ERROR(irvm_module_builder_finish(b, NULL, allocator,
//                                                  &data, &size));
//   irvm_module_builder_destroy(b);
//
// Encoding is driven by the opcode table (runtime/vm/opcodes.h): every
// instruction is described by its layout string, and irvm_fn_emit() checks
// each operand against its layout letter before writing anything, so a
// wrong operand kind is a clear INVALID_ARGUMENT instead of a bad module.
// The builder takes care of what the compiler does implicitly:
//   * 2-byte alignment padding before lists and remap counts (spec 6.2,
//     relative to the function start, prefix bytes included);
//   * block markers: each function starts with one (the entry block) and
//     irvm_fn_bind_label() emits one per further block; branch targets are
//     labels patched at finish;
//   * register counts (highest ordinal used + 1, pairs counting both halves,
//     at least what the cconv arguments occupy, spec 5.3), block counts and
//     requirements (EXT_F32/EXT_F64 for prefixed ops; UNWIND for functions
//     that call or fail; YIELD for functions that yield or make yieldable
//     calls; the module's requirements are the OR of its functions');
//   * the type table sorted like the compiler's (names not starting with
//     '!' first, then by name): irvm_module_builder_add_type() hands out
//     stable handles and every `type` field is rewritten to the sorted index
//     at finish, so types may be declared at any time;
//   * the container: ZIP polyglot form (default) or flat form, 64-aligned
//     rodata base, external rodata files, ZIP central directory.
//
// Structural mistakes are rejected early: an instruction after a terminator
// without a new block, a block started before the previous one ended, a
// function ending in an open block, a label bound twice or used but never
// bound, a MOVE bit where the layout forbids it, an odd register for a
// 64-bit operand. Cross references (function/import/rodata/global ordinals,
// export targets) are checked at finish (OUT_OF_RANGE, unless disabled).
//
// Malformed modules for verifier tests: begin a function with
// IRVM_FUNCTION_UNCHECKED to get no entry block and no block-structure
// checks, append arbitrary bytes with irvm_fn_emit_bytes(), override any
// descriptor/signature field with irvm_fn_set_overrides() and the module's
// bytecode version or requirements with irvm_module_builder_set_overrides();
// finish with skip_reference_checks to keep out-of-range ordinals.
//
// All strings and data passed in are copied. Every function returns a status
// (INVALID_ARGUMENT for misuse, RESOURCE_EXHAUSTED for allocation failure);
// a rejected instruction leaves its function unchanged, so a test can probe
// an error and keep building.
#ifndef IRVM_BUILDER_MODULE_BUILDER_H
#define IRVM_BUILDER_MODULE_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/format/module_def.h"  // IRVM_FEATURE_*, IRVM_FLAG_*
#include "runtime/vm/opcodes.h"

// The bytecode version written by default: 17.0.
#define IRVM_BUILDER_BYTECODE_VERSION 0x00110000u

typedef struct irvm_module_builder_s irvm_module_builder_t;
typedef struct irvm_function_builder_s irvm_function_builder_t;

//===----------------------------------------------------------------------===//
// Instructions
//===----------------------------------------------------------------------===//

// An instruction selector: opcode table and opcode in one value, generated
// from the opcode table so that an ExtF32 opcode can never be emitted from
// the core table by mistake: IRVM_INSN_ADD_I32, IRVM_INSN_ADD_F32, ...
#define IRVM_INSN_ENTRY_(table, opcode, name) \
  IRVM_INSN_##name = ((table) << 8) | (opcode),
#define IRVM_INSN_CORE_(opcode, name, mnemonic, layout, flags) \
  IRVM_INSN_ENTRY_(IRVM_OP_TABLE_CORE, opcode, name)
#define IRVM_INSN_F32_(opcode, name, mnemonic, layout, flags) \
  IRVM_INSN_ENTRY_(IRVM_OP_TABLE_EXT_F32, opcode, name)
#define IRVM_INSN_F64_(opcode, name, mnemonic, layout, flags) \
  IRVM_INSN_ENTRY_(IRVM_OP_TABLE_EXT_F64, opcode, name)
// clang-format off
typedef enum irvm_insn_e {
  IRVM_CORE_OPS(IRVM_INSN_CORE_)
  IRVM_EXT_F32_OPS(IRVM_INSN_F32_)
  IRVM_EXT_F64_OPS(IRVM_INSN_F64_)
} irvm_insn_t;
// clang-format on
#undef IRVM_INSN_ENTRY_
#undef IRVM_INSN_CORE_
#undef IRVM_INSN_F32_
#undef IRVM_INSN_F64_

// For table-driven code (e.g. iterating irvm_op_info rows).
static inline irvm_insn_t irvm_insn_make(irvm_op_table_t table,
                                         uint8_t opcode) {
  return (irvm_insn_t)(((unsigned)table << 8) | opcode);
}

//===----------------------------------------------------------------------===//
// Registers and operands
//===----------------------------------------------------------------------===//

typedef enum irvm_reg_kind_e {
  IRVM_REG_INVALID = 0,  // a zero-initialized irvm_reg_t is rejected
  IRVM_REG_I32 = 1,      // one i32-bank cell (i32 or f32)
  IRVM_REG_I64 = 2,      // an even i32-bank pair (i64 or f64), low ordinal
  IRVM_REG_REF = 3,      // a ref-bank register
} irvm_reg_kind_t;

typedef struct irvm_reg_s {
  uint8_t kind;  // irvm_reg_kind_t
  bool move;     // ref only: MOVE bit (last use, ownership transferred)
  uint16_t ordinal;
} irvm_reg_t;

static inline irvm_reg_t irvm_reg_i32(uint16_t ordinal) {
  return (irvm_reg_t){IRVM_REG_I32, false, ordinal};
}
static inline irvm_reg_t irvm_reg_f32(uint16_t ordinal) {
  return irvm_reg_i32(ordinal);
}
// A pair (ordinal, ordinal + 1); |ordinal| must be even.
static inline irvm_reg_t irvm_reg_i64(uint16_t ordinal) {
  return (irvm_reg_t){IRVM_REG_I64, false, ordinal};
}
static inline irvm_reg_t irvm_reg_f64(uint16_t ordinal) {
  return irvm_reg_i64(ordinal);
}
static inline irvm_reg_t irvm_reg_ref(uint16_t ordinal) {
  return (irvm_reg_t){IRVM_REG_REF, false, ordinal};
}
// A ref operand with the MOVE bit (only where the layout allows it).
static inline irvm_reg_t irvm_reg_ref_move(uint16_t ordinal) {
  return (irvm_reg_t){IRVM_REG_REF, true, ordinal};
}

// Branch targets. A label belongs to one function; the entry block has a
// label too (irvm_fn_entry_label).
typedef struct irvm_label_s {
  uint32_t function;  // internal ordinal of the owning function
  uint32_t index;
} irvm_label_t;

// One block-argument copy of a branch. A 64-bit pair is given once and
// written as two (src, dst) pairs, low halves first, as the compiler does.
typedef struct irvm_remap_s {
  irvm_reg_t src;  // a ref source may carry MOVE
  irvm_reg_t dst;
} irvm_remap_t;

typedef struct irvm_branch_target_s {
  irvm_label_t label;
  const irvm_remap_t* remaps;
  size_t remap_count;
} irvm_branch_target_t;

// A type table entry, as handed out by irvm_module_builder_add_type().
typedef struct irvm_type_s {
  uint32_t handle;
} irvm_type_t;

typedef enum irvm_opnd_kind_e {
  IRVM_OPND_INVALID = 0,
  IRVM_OPND_REG,           // i I r R (and list entries)
  IRVM_OPND_IMM32,         // c
  IRVM_OPND_IMM64,         // C
  IRVM_OPND_GLOBAL,        // g: byte offset of a primitive global
  IRVM_OPND_GLOBAL_REF,    // G: ordinal of a ref global
  IRVM_OPND_RODATA,        // d: rodata ordinal
  IRVM_OPND_TYPE,          // t: a type handle (remapped at finish)
  IRVM_OPND_TYPE_ID,       // t: a final type id written verbatim
  IRVM_OPND_FUNC,          // f: function reference (bit 31 = import)
  IRVM_OPND_STRING,        // s
  IRVM_OPND_LIST,          // L Q J K M
  IRVM_OPND_SEGMENTS,      // S
  IRVM_OPND_BRANCH,        // B, or b when it has no remaps
  IRVM_OPND_BRANCH_TABLE,  // T
} irvm_opnd_kind_t;

// One instruction field. Build them with the constructors below; the
// pointers they hold (lists, strings, remaps) are only read during the
// irvm_fn_emit call.
typedef struct irvm_opnd_s {
  irvm_opnd_kind_t kind;
  union {
    irvm_reg_t reg;
    uint32_t u32;  // IMM32 bits, ordinals, type handle/id, function ref
    uint64_t u64;  // IMM64 bits
    struct {
      const char* data;
      size_t length;
    } string;
    struct {
      const irvm_reg_t* regs;
      size_t count;
    } list;
    struct {
      const int16_t* sizes;
      size_t count;
    } segments;
    irvm_branch_target_t branch;
    struct {
      const irvm_branch_target_t* cases;
      size_t count;
    } table;
  };
} irvm_opnd_t;

static inline irvm_opnd_t irvm_opnd_reg(irvm_reg_t reg) {
  return (irvm_opnd_t){.kind = IRVM_OPND_REG, .reg = reg};
}
static inline irvm_opnd_t irvm_opnd_i32(uint16_t ordinal) {
  return irvm_opnd_reg(irvm_reg_i32(ordinal));
}
static inline irvm_opnd_t irvm_opnd_i64(uint16_t ordinal) {
  return irvm_opnd_reg(irvm_reg_i64(ordinal));
}
static inline irvm_opnd_t irvm_opnd_ref(uint16_t ordinal) {
  return irvm_opnd_reg(irvm_reg_ref(ordinal));
}
static inline irvm_opnd_t irvm_opnd_ref_move(uint16_t ordinal) {
  return irvm_opnd_reg(irvm_reg_ref_move(ordinal));
}
static inline irvm_opnd_t irvm_opnd_imm_i32(int32_t value) {
  return (irvm_opnd_t){.kind = IRVM_OPND_IMM32, .u32 = (uint32_t)value};
}
static inline irvm_opnd_t irvm_opnd_imm_f32(float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return (irvm_opnd_t){.kind = IRVM_OPND_IMM32, .u32 = bits};
}
static inline irvm_opnd_t irvm_opnd_imm_i64(int64_t value) {
  return (irvm_opnd_t){.kind = IRVM_OPND_IMM64, .u64 = (uint64_t)value};
}
static inline irvm_opnd_t irvm_opnd_imm_f64(double value) {
  uint64_t bits;
  memcpy(&bits, &value, sizeof(bits));
  return (irvm_opnd_t){.kind = IRVM_OPND_IMM64, .u64 = bits};
}
static inline irvm_opnd_t irvm_opnd_global(uint32_t byte_offset) {
  return (irvm_opnd_t){.kind = IRVM_OPND_GLOBAL, .u32 = byte_offset};
}
static inline irvm_opnd_t irvm_opnd_global_ref(uint32_t ordinal) {
  return (irvm_opnd_t){.kind = IRVM_OPND_GLOBAL_REF, .u32 = ordinal};
}
static inline irvm_opnd_t irvm_opnd_rodata(uint32_t ordinal) {
  return (irvm_opnd_t){.kind = IRVM_OPND_RODATA, .u32 = ordinal};
}
static inline irvm_opnd_t irvm_opnd_type(irvm_type_t type) {
  return (irvm_opnd_t){.kind = IRVM_OPND_TYPE, .u32 = type.handle};
}
// A type id written as is (not remapped): for deliberately invalid ids.
static inline irvm_opnd_t irvm_opnd_type_id(uint32_t id) {
  return (irvm_opnd_t){.kind = IRVM_OPND_TYPE_ID, .u32 = id};
}
// An internal function (ordinal from begin_function).
static inline irvm_opnd_t irvm_opnd_func(uint32_t internal_ordinal) {
  return (irvm_opnd_t){.kind = IRVM_OPND_FUNC, .u32 = internal_ordinal};
}
// An imported function (ordinal from add_import); sets bit 31.
static inline irvm_opnd_t irvm_opnd_import(uint32_t import_ordinal) {
  return (irvm_opnd_t){.kind = IRVM_OPND_FUNC,
                       .u32 = import_ordinal | IRVM_FUNCTION_IMPORT_BIT};
}
static inline irvm_opnd_t irvm_opnd_string_n(const char* data, size_t length) {
  return (irvm_opnd_t){.kind = IRVM_OPND_STRING, .string = {data, length}};
}
static inline irvm_opnd_t irvm_opnd_string(const char* text) {
  return irvm_opnd_string_n(text, strlen(text));
}
static inline irvm_opnd_t irvm_opnd_list(const irvm_reg_t* regs, size_t count) {
  return (irvm_opnd_t){.kind = IRVM_OPND_LIST, .list = {regs, count}};
}
static inline irvm_opnd_t irvm_opnd_segments(const int16_t* sizes,
                                             size_t count) {
  return (irvm_opnd_t){.kind = IRVM_OPND_SEGMENTS, .segments = {sizes, count}};
}
static inline irvm_opnd_t irvm_opnd_branch(irvm_label_t label,
                                           const irvm_remap_t* remaps,
                                           size_t remap_count) {
  return (irvm_opnd_t){.kind = IRVM_OPND_BRANCH,
                       .branch = {label, remaps, remap_count}};
}
static inline irvm_opnd_t irvm_opnd_branch_table(
    const irvm_branch_target_t* cases, size_t count) {
  return (irvm_opnd_t){.kind = IRVM_OPND_BRANCH_TABLE, .table = {cases, count}};
}

// Array literals for the common cases (at least one element each):
//   IRVM_LIST(irvm_reg_ref_move(0), irvm_reg_i32(2))   register list
//   IRVM_SEGMENTS(-1, -1, 2)                           segment sizes
//   IRVM_BRANCH(label, {src, dst}, ...)                branch with remaps
#define IRVM_LIST(...)                   \
  irvm_opnd_list(                        \
      (const irvm_reg_t[]){__VA_ARGS__}, \
      sizeof((const irvm_reg_t[]){__VA_ARGS__}) / sizeof(irvm_reg_t))
#define IRVM_EMPTY_LIST irvm_opnd_list(NULL, 0)
#define IRVM_SEGMENTS(...)                           \
  irvm_opnd_segments((const int16_t[]){__VA_ARGS__}, \
                     sizeof((const int16_t[]){__VA_ARGS__}) / sizeof(int16_t))
#define IRVM_BRANCH(label, ...)                     \
  irvm_opnd_branch(                                 \
      (label), (const irvm_remap_t[]){__VA_ARGS__}, \
      sizeof((const irvm_remap_t[]){__VA_ARGS__}) / sizeof(irvm_remap_t))
#define IRVM_GOTO(label) irvm_opnd_branch((label), NULL, 0)

//===----------------------------------------------------------------------===//
// Module builder
//===----------------------------------------------------------------------===//

// |name| is the module namespace (non-empty), |version| its version.
irt_status_t irvm_module_builder_create(
    irt_allocator_t allocator, const char* name, uint32_t version,
    irvm_module_builder_t** out_builder) IRT_MUST_USE;
// Frees the builder and every function builder it handed out.
void irvm_module_builder_destroy(irvm_module_builder_t* builder);

// A module-level reflection attribute (e.g. "iree.reflection" entries).
irt_status_t irvm_module_builder_add_attr(irvm_module_builder_t* builder,
                                          const char* key,
                                          const char* value) IRT_MUST_USE;

// Declares a type by its full name ("!vm.buffer", "!vm.list<?>", "i32",
// "!hal.buffer_view"). Declaring the same name again returns the same
// handle. The index written into bytecode is the rank of the name in the
// sorted table, known only once all types are declared.
irt_status_t irvm_module_builder_add_type(irvm_module_builder_t* builder,
                                          const char* full_name,
                                          irvm_type_t* out_type) IRT_MUST_USE;
// The index |type| has in the sorted table given the types declared so far
// (UINT32_MAX for a handle this builder did not hand out).
uint32_t irvm_module_builder_type_id(const irvm_module_builder_t* builder,
                                     irvm_type_t type);

// A module this one imports from. |flags| is IRVM_FLAG_REQUIRED or
// IRVM_FLAG_OPTIONAL. Kept in declaration order.
irt_status_t irvm_module_builder_add_dependency(irvm_module_builder_t* builder,
                                                const char* name,
                                                uint32_t minimum_version,
                                                uint32_t flags) IRT_MUST_USE;

// An imported function "module.function" with its expected cconv (spans
// allowed; NULL writes no signature, which skips the loader's check).
// |flags|: IRVM_FLAG_REQUIRED or _OPTIONAL. Returns the import
// ordinal (use irvm_opnd_import to call it).
irt_status_t irvm_module_builder_add_import(irvm_module_builder_t* builder,
                                            const char* full_name,
                                            const char* cconv, uint32_t flags,
                                            uint32_t* out_ordinal) IRT_MUST_USE;

typedef enum irvm_rodata_placement_e {
  // As the compiler: external when 4096 bytes or more or when a MIME type
  // is given, embedded in the FlatBuffer otherwise.
  IRVM_RODATA_AUTO = 0,
  IRVM_RODATA_EMBEDDED = 1,
  IRVM_RODATA_EXTERNAL = 2,
} irvm_rodata_placement_t;

typedef struct irvm_rodata_options_s {
  irvm_rodata_placement_t placement;
  // Alignment of external data relative to the rodata base (a power of two
  // up to 4096; 0 = 16, the compiler's default). Embedded data has no
  // alignment guarantee (spec 3.6).
  uint32_t alignment;
  // Symbol name: the ZIP entry of external data is named |name| plus the
  // extension of |mime_type| (".so" for "application/x-elf", ".fb",
  // ".bin" (default), ".dll", ".dylib", ".wasm", ".json", ".yaml", ".txt").
  // NULL = "rodata_<ordinal>".
  const char* name;
  const char* mime_type;  // NULL = none
} irvm_rodata_options_t;

// Adds a rodata segment (copied) and returns its ordinal. |options| NULL =
// all defaults.
irt_status_t irvm_module_builder_add_rodata(
    irvm_module_builder_t* builder, const void* data, size_t length,
    const irvm_rodata_options_t* options, uint32_t* out_ordinal) IRT_MUST_USE;

// Per-context global storage (ModuleStateDef): primitive globals are
// addressed by byte offset (irvm_opnd_global), ref globals by ordinal
// (irvm_opnd_global_ref). Written only when not both zero.
irt_status_t irvm_module_builder_set_module_state(
    irvm_module_builder_t* builder, uint32_t global_bytes_capacity,
    uint32_t global_ref_count) IRT_MUST_USE;

// Exports internal function |internal_ordinal| as |local_name|. Reflection
// attributes belong to the function (irvm_fn_add_attr).
irt_status_t irvm_module_builder_add_export(
    irvm_module_builder_t* builder, const char* local_name,
    uint32_t internal_ordinal, uint32_t* out_export_ordinal) IRT_MUST_USE;

// Debug locations (DebugDatabaseDef.location_table); each returns the
// location's index. Indices are not checked (the database is advisory).
irt_status_t irvm_module_builder_add_location_file_line_col(
    irvm_module_builder_t* builder, const char* filename, int32_t line,
    int32_t column, int32_t* out_location) IRT_MUST_USE;
// |child_location| < 0: none.
irt_status_t irvm_module_builder_add_location_name(
    irvm_module_builder_t* builder, const char* name, int32_t child_location,
    int32_t* out_location) IRT_MUST_USE;
irt_status_t irvm_module_builder_add_location_call_site(
    irvm_module_builder_t* builder, int32_t callee, int32_t caller,
    int32_t* out_location) IRT_MUST_USE;
// |metadata| NULL: none.
irt_status_t irvm_module_builder_add_location_fused(
    irvm_module_builder_t* builder, const char* metadata,
    const int32_t* locations, size_t count, int32_t* out_location) IRT_MUST_USE;

// Escape hatch: fields written instead of the computed ones.
#define IRVM_MODULE_OVERRIDE_BYTECODE_VERSION 0x1u
#define IRVM_MODULE_OVERRIDE_REQUIREMENTS 0x2u
typedef struct irvm_module_overrides_s {
  uint32_t fields;            // IRVM_MODULE_OVERRIDE_* bits
  uint32_t bytecode_version;  // major << 16 | minor
  uint32_t requirements;
} irvm_module_overrides_t;
void irvm_module_builder_set_overrides(
    irvm_module_builder_t* builder, const irvm_module_overrides_t* overrides);

typedef struct irvm_finish_options_s {
  // Writes the flat form (size prefix first, no ZIP records) instead of the
  // ZIP polyglot form iree-compile writes by default.
  bool flat;
  // Keeps function/import/rodata/global ordinals and export targets that
  // are out of range (for verifier tests) instead of failing.
  bool skip_reference_checks;
} irvm_finish_options_t;

// Encodes the module. |options| NULL = ZIP form with all checks. The file is
// allocated from |allocator| (free it with irt_allocator_free), so it is
// only max_align_t-aligned: copy it to a 64-byte aligned block when rodata
// alignment must carry over to memory. The builder is unchanged and may be
// finished again or extended.
irt_status_t irvm_module_builder_finish(irvm_module_builder_t* builder,
                                        const irvm_finish_options_t* options,
                                        irt_allocator_t allocator,
                                        uint8_t** out_data,
                                        size_t* out_size) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

// No entry block marker, no block-structure checks, cconv not validated,
// irvm_fn_emit_bytes allowed: for building malformed functions.
#define IRVM_FUNCTION_UNCHECKED 0x1u

// Starts the next internal function (see irvm_fn_ordinal) with calling
// convention |cconv| (e.g. "0rI_r"; spans are not allowed here). Its entry
// block marker is emitted at pc 0. |fn| is owned by |builder| and stays
// valid (and writable) until the builder is destroyed; any number of
// functions may be under construction at once.
irt_status_t irvm_module_builder_begin_function(
    irvm_module_builder_t* builder, const char* cconv,
    irvm_function_builder_t** out_fn) IRT_MUST_USE;
irt_status_t irvm_module_builder_begin_function_ex(
    irvm_module_builder_t* builder, const char* cconv, uint32_t flags,
    irvm_function_builder_t** out_fn) IRT_MUST_USE;
// begin_function + add_export(|name|) + debug name |name|.
irt_status_t irvm_module_builder_begin_exported_function(
    irvm_module_builder_t* builder, const char* name, const char* cconv,
    irvm_function_builder_t** out_fn) IRT_MUST_USE;

uint32_t irvm_fn_ordinal(const irvm_function_builder_t* fn);
// Current pc: the offset the next emitted byte will have.
uint32_t irvm_fn_pc(const irvm_function_builder_t* fn);

// A reflection attribute on the function's signature (e.g.
// "iree.abi.declaration", "iree.abi.model"): visible to hosts for exports.
irt_status_t irvm_fn_add_attr(irvm_function_builder_t* fn, const char* key,
                              const char* value) IRT_MUST_USE;
// FunctionSourceMapDef.local_name in the debug database.
irt_status_t irvm_fn_set_debug_name(irvm_function_builder_t* fn,
                                    const char* name) IRT_MUST_USE;
// Attaches debug location |location| to the next emitted instruction.
void irvm_fn_set_location(irvm_function_builder_t* fn, int32_t location);

// Labels: create, use in branches, bind where the block starts. Binding
// emits the 0x79 block marker; the previous block must have ended with a
// terminator (branch, return, fail, yield, yieldable call, break).
irvm_label_t irvm_fn_entry_label(const irvm_function_builder_t* fn);
irt_status_t irvm_fn_new_label(irvm_function_builder_t* fn,
                               irvm_label_t* out_label) IRT_MUST_USE;
irt_status_t irvm_fn_bind_label(irvm_function_builder_t* fn,
                                irvm_label_t label) IRT_MUST_USE;

// The generic emitter: |operands| are the fields of |insn|'s layout in
// layout order (results, after the '>', included). Each operand must match
// its layout letter:
//   i/I     IRVM_OPND_REG of kind I32 / I64 (even ordinal)
//   r/R     REG of kind REF; MOVE only for R
//   c/C     IMM32 / IMM64
//   g/G/d   GLOBAL / GLOBAL_REF / RODATA
//   t       TYPE or TYPE_ID
//   f       FUNC
//   s       STRING (at most 65535 bytes)
//   L       LIST of any registers (MOVE allowed on refs; give 64-bit
//           values as irvm_reg_i64 so the count covers both halves)
//   Q/M     LIST of refs, without / with MOVE allowed
//   J/K     LIST of I32 / I64 registers
//   S       SEGMENTS
//   B/b     BRANCH (b: no remaps)
//   T       BRANCH_TABLE
// On error nothing is emitted.
irt_status_t irvm_fn_emit(irvm_function_builder_t* fn, irvm_insn_t insn,
                          const irvm_opnd_t* operands,
                          size_t operand_count) IRT_MUST_USE;
// irvm_fn_emit with an operand list literal:
//   IRVM_EMIT(fn, IRVM_INSN_CONST_I32, irvm_opnd_imm_i32(7), irvm_opnd_i32(0))
#define IRVM_EMIT(fn, insn, ...)                        \
  irvm_fn_emit(                                         \
      (fn), (insn), (const irvm_opnd_t[]){__VA_ARGS__}, \
      sizeof((const irvm_opnd_t[]){__VA_ARGS__}) / sizeof(irvm_opnd_t))

// Register-only instructions, result first ("dst = op a b"), for layouts
// made of N-1 register fields followed by one result register (e.g.
// "ii>i", "I>i", ">I"). Anything else is INVALID_ARGUMENT.
irt_status_t irvm_fn_op1(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst) IRT_MUST_USE;
irt_status_t irvm_fn_op2(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t x) IRT_MUST_USE;
irt_status_t irvm_fn_op3(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t a,
                         irvm_reg_t b) IRT_MUST_USE;
irt_status_t irvm_fn_op4(irvm_function_builder_t* fn, irvm_insn_t insn,
                         irvm_reg_t dst, irvm_reg_t a, irvm_reg_t b,
                         irvm_reg_t c) IRT_MUST_USE;

// Shorthands over irvm_fn_emit.
irt_status_t irvm_fn_const_i32(irvm_function_builder_t* fn, irvm_reg_t dst,
                               int32_t value) IRT_MUST_USE;
irt_status_t irvm_fn_const_i64(irvm_function_builder_t* fn, irvm_reg_t dst,
                               int64_t value) IRT_MUST_USE;
irt_status_t irvm_fn_const_f32(irvm_function_builder_t* fn, irvm_reg_t dst,
                               float value) IRT_MUST_USE;
irt_status_t irvm_fn_const_f64(irvm_function_builder_t* fn, irvm_reg_t dst,
                               double value) IRT_MUST_USE;
irt_status_t irvm_fn_return(irvm_function_builder_t* fn, const irvm_reg_t* regs,
                            size_t count) IRT_MUST_USE;
irt_status_t irvm_fn_br(irvm_function_builder_t* fn,
                        irvm_label_t target) IRT_MUST_USE;
irt_status_t irvm_fn_cond_br(irvm_function_builder_t* fn, irvm_reg_t condition,
                             irvm_label_t true_target,
                             irvm_label_t false_target) IRT_MUST_USE;
// vm.call of |callee| (irvm_opnd_func or irvm_opnd_import).
irt_status_t irvm_fn_call(irvm_function_builder_t* fn, irvm_opnd_t callee,
                          const irvm_reg_t* args, size_t arg_count,
                          const irvm_reg_t* results,
                          size_t result_count) IRT_MUST_USE;
irt_status_t irvm_fn_fail(irvm_function_builder_t* fn, irvm_reg_t code,
                          const char* message) IRT_MUST_USE;

// Escape hatch (IRVM_FUNCTION_UNCHECKED functions only): appends raw bytes.
irt_status_t irvm_fn_emit_bytes(irvm_function_builder_t* fn, const void* data,
                                size_t length) IRT_MUST_USE;

// Escape hatch: descriptor and signature fields written instead of the
// computed ones.
#define IRVM_FN_OVERRIDE_REQUIREMENTS 0x01u
#define IRVM_FN_OVERRIDE_BLOCK_COUNT 0x02u
#define IRVM_FN_OVERRIDE_I32_REGISTER_COUNT 0x04u
#define IRVM_FN_OVERRIDE_REF_REGISTER_COUNT 0x08u
#define IRVM_FN_OVERRIDE_BYTECODE_OFFSET 0x10u
#define IRVM_FN_OVERRIDE_BYTECODE_LENGTH 0x20u
#define IRVM_FN_OVERRIDE_RESERVED 0x40u
#define IRVM_FN_OVERRIDE_CALLING_CONVENTION 0x80u
typedef struct irvm_function_overrides_s {
  uint32_t fields;  // IRVM_FN_OVERRIDE_* bits
  uint32_t requirements;
  uint16_t block_count;
  uint16_t i32_register_count;
  uint16_t ref_register_count;
  uint16_t reserved;
  int32_t bytecode_offset;
  int32_t bytecode_length;
  const char* calling_convention;  // copied; NULL writes no string
} irvm_function_overrides_t;
irt_status_t irvm_fn_set_overrides(irvm_function_builder_t* fn,
                                   const irvm_function_overrides_t* overrides)
    IRT_MUST_USE;

#endif  // IRVM_BUILDER_MODULE_BUILDER_H
