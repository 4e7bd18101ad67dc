// Instruction encoding: exact bytes against the spec's examples (sections
// 6.2, 10.1, 10.2), every opcode of every table decoded back with the
// format decoder, operand validation, block structure, register counts,
// requirements and type table remapping.
#include <stdio.h>

#include "runtime/vm/format/decoder.h"
#include "tests/vm_builder/builder_test.h"

static irvm_module_builder_t* new_builder(void) {
  irvm_module_builder_t* builder = NULL;
  ASSERT_OK(irvm_module_builder_create(irt_allocator_system(), "module", 0,
                                       &builder));
  return builder;
}

static irvm_function_builder_t* new_function(irvm_module_builder_t* builder,
                                             const char* cconv) {
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(irvm_module_builder_begin_function(builder, cconv, &fn));
  return fn;
}

static void add_imports(irvm_module_builder_t* builder, uint32_t count) {
  for (uint32_t i = 0; i < count; ++i) {
    char name[32];
    snprintf(name, sizeof(name), "other.f%u", i);
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_import(builder, name, "0v_v",
                                             IRVM_FLAG_REQUIRED, &ordinal));
    assert_int_equal(ordinal, i);
  }
}

// Spec 10.1: identity_i64's only function is `79 5A 01 00 00 C0`, padded to
// 8 bytes, with 1 block, 0 i32 and 1 ref register, no requirements.
static void test_identity_i64_body(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_type_t type;
  ASSERT_OK(irvm_module_builder_add_type(builder, "!hal.buffer_view", &type));
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(irvm_module_builder_begin_exported_function(builder, "identity_i64",
                                                        "0r_r", &fn));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_RETURN, IRVM_LIST(irvm_reg_ref_move(0))));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  ASSERT_BYTES(m.def.bytecode_data, m.def.bytecode_size, 0x79, 0x5A, 0x01, 0x00,
               0x00, 0xC0, 0x00, 0x00);
  const irvm_function_descriptor_t* d = &m.def.function_descriptors[0];
  assert_int_equal(d->bytecode_offset, 0);
  assert_int_equal(d->bytecode_length, 6);
  assert_int_equal(d->requirements, 0);
  assert_int_equal(d->block_count, 1);
  assert_int_equal(d->i32_register_count, 0);
  assert_int_equal(d->ref_register_count, 1);
  assert_int_equal(m.def.requirements, 0);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// The example of docs/module-builder.md, verbatim.
// The module's contents; any error is returned as is.
static irt_status_t define_example(irvm_module_builder_t* b) {
  irvm_function_builder_t* fn = NULL;

  // add: the arguments arrive in %i0 and %i1 (cconv "0ii_i", spec 5.3).
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "add", "0ii_i", &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_add_attr(
      fn, "iree.abi.declaration", "sync func @add(%a: i32, %b: i32) -> i32"));
  // %i2 = vm.add.i32 %i0, %i1
  IRT_RETURN_IF_ERROR(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, irvm_reg_i32(2),
                                  irvm_reg_i32(0), irvm_reg_i32(1)));
  // vm.return %i2
  IRT_RETURN_IF_ERROR(
      IRVM_EMIT(fn, IRVM_INSN_RETURN, IRVM_LIST(irvm_reg_i32(2))));

  // count_devices: %i0 = vm.call @hal.devices.count(); vm.return %i0
  uint32_t devices_count = 0;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_dependency(b, "hal", 6, IRVM_FLAG_REQUIRED));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      b, "hal.devices.count", "0v_i", IRVM_FLAG_REQUIRED, &devices_count));
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_exported_function(
      b, "count_devices", "0v_i", &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_call(fn, irvm_opnd_import(devices_count), NULL, 0,
                                   (const irvm_reg_t[]){irvm_reg_i32(0)}, 1));
  return irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_i32(0)}, 1);
}

// Writes the module (ZIP form); free *out_data with irt_allocator_free.
static irt_status_t build_example(irt_allocator_t allocator, uint8_t** out_data,
                                  size_t* out_size) {
  irvm_module_builder_t* b = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_create(allocator, "example", 0, &b));
  irt_status_t status = define_example(b);
  if (status == IRT_OK) {
    status = irvm_module_builder_finish(b, NULL, allocator, out_data, out_size);
  }
  irvm_module_builder_destroy(b);
  return status;
}

static void test_documented_example(void** state) {
  (void)state;
  irt_allocator_t allocator = irt_allocator_system();
  bt_module_t m = {0};
  ASSERT_OK(build_example(allocator, &m.data, &m.size));
  ASSERT_OK(irvm_module_def_parse(m.data, m.size, allocator, &m.def));
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  ASSERT_BYTES(code, length, 0x79, 0x22, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00,
               0x5A, 0x00, 0x01, 0x00, 0x02, 0x00);
  const irvm_function_descriptor_t* d = m.def.function_descriptors;
  assert_int_equal(d[0].block_count, 1);
  assert_int_equal(d[0].i32_register_count, 3);
  assert_int_equal(d[0].ref_register_count, 0);
  assert_int_equal(d[0].requirements, 0);
  assert_int_equal(d[1].bytecode_offset, 16);
  assert_int_equal(d[1].requirements, IRVM_FEATURE_UNWIND);
  assert_int_equal(m.def.export_count, 2);
  bt_module_free(&m);
}

// Spec 10.2 at pc 0x8E: `%r5 = vm.call @hal.buffer_view.buffer(%R0)` where
// the argument list would start at an odd pc, so one pad byte precedes it;
// and the variadic call at odd pc 0x6F whose segment list needs no pad.
static void test_call_list_padding(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  add_imports(builder, 4);
  irvm_function_builder_t* fn = new_function(builder, "0rr_v");
  // pc 1: vm.call.variadic (odd pc: the segment list starts at pc 6).
  ASSERT_OK(
      IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC, irvm_opnd_import(2),
                IRVM_SEGMENTS(-1, -1, -1, -1, 1),
                IRVM_LIST(irvm_reg_ref(0), irvm_reg_ref_move(5),
                          irvm_reg_i32(2), irvm_reg_i32(1), irvm_reg_i64(6)),
                IRVM_EMPTY_LIST));
  uint32_t call_pc = irvm_fn_pc(fn);
  assert_int_equal(call_pc % 2, 0);  // 1 + 31 bytes
  ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(3),
                         (const irvm_reg_t[]){irvm_reg_ref_move(0)}, 1,
                         (const irvm_reg_t[]){irvm_reg_ref(5)}, 1));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  ASSERT_BYTES(code + 1, 31, 0x59, 0x02, 0x00, 0x00, 0x80,  //
               0x05, 0x00, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01,
               0x00,  // segments
               0x05, 0x00, 0x00, 0x80, 0x05, 0xC0, 0x02, 0x00, 0x01, 0x00, 0x06,
               0x00,         // arguments
               0x00, 0x00);  // results
  ASSERT_BYTES(code + call_pc, 14, 0x58, 0x03, 0x00, 0x00, 0x80, 0x00, 0x01,
               0x00, 0x00, 0xC0, 0x01, 0x00, 0x05, 0x80);
  // vm.return [] at an odd pc: 5A, pad, count 0.
  assert_int_equal(length, call_pc + 14 + 4);
  ASSERT_BYTES(code + call_pc + 14, 4, 0x5A, 0x00, 0x00, 0x00);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Spec 10.2 at pc 0x1A5: `vm.cond_br %i0, ^t, ^f` at an odd pc needs no
// padding (each remap count lands on an even pc); at an even pc each count
// is preceded by one pad byte. A 64-bit remap becomes two cell pairs.
static void test_branch_remap_padding(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* fn = new_function(builder, "0iI_v");
  irvm_label_t t, f, join;
  ASSERT_OK(irvm_fn_new_label(fn, &t));
  ASSERT_OK(irvm_fn_new_label(fn, &f));
  ASSERT_OK(irvm_fn_new_label(fn, &join));
  ASSERT_OK(irvm_fn_cond_br(fn, irvm_reg_i32(0), t, f));  // pc 1
  ASSERT_OK(irvm_fn_bind_label(fn, t));                   // pc 14
  ASSERT_OK(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, irvm_reg_i32(1)));
  // pc 18 (even): cond_br with remaps.
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_COND_BR, irvm_opnd_i32(1),
                      IRVM_BRANCH(join, {irvm_reg_i64(2), irvm_reg_i64(4)}),
                      IRVM_BRANCH(join, {irvm_reg_ref_move(0), irvm_reg_ref(1)},
                                  {irvm_reg_i32(1), irvm_reg_i32(6)})));
  ASSERT_OK(irvm_fn_bind_label(fn, f));
  ASSERT_OK(irvm_fn_br(fn, join));
  ASSERT_OK(irvm_fn_bind_label(fn, join));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  // t = 16, f = 52, join = 60.
  ASSERT_BYTES(code, 18,  //
               0x79, 0x57, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x34,
               0x00, 0x00, 0x00, 0x00, 0x00,  // cond_br %i0 ^0010 ^0034
               0x79, 0x0C);                   // ^0010: const.i32.zero
  ASSERT_BYTES(code + 18, 34,                 //
               0x01, 0x00,                    // -> %i1
               0x57, 0x01, 0x00, 0x3C, 0x00, 0x00, 0x00,  // pc 20 (even)
               0x00,                                      // pad: pc 27 is odd
               0x02, 0x00, 0x02, 0x00, 0x04, 0x00, 0x03, 0x00, 0x05, 0x00, 0x3C,
               0x00, 0x00, 0x00,  // no pad: pc 42 is even
               0x02, 0x00, 0x00, 0xC0, 0x01, 0x80, 0x01, 0x00, 0x06, 0x00);
  ASSERT_BYTES(code + 52, 12, 0x79, 0x56, 0x3C, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x79, 0x5A, 0x00, 0x00);
  assert_int_equal(length, 64);
  assert_int_equal(m.def.function_descriptors[0].block_count, 4);
  assert_int_equal(m.def.function_descriptors[0].i32_register_count, 7);
  assert_int_equal(m.def.function_descriptors[0].ref_register_count, 2);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// br_table: the case count needs no alignment, each case's remap count does.
static void test_br_table_layout(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* fn = new_function(builder, "0i_v");
  irvm_label_t a, b;
  ASSERT_OK(irvm_fn_new_label(fn, &a));
  ASSERT_OK(irvm_fn_new_label(fn, &b));
  const irvm_remap_t remap = {irvm_reg_i32(0), irvm_reg_i32(1)};
  const irvm_branch_target_t cases[2] = {{b, NULL, 0}, {a, &remap, 1}};
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_BR_TABLE, irvm_opnd_i32(0), IRVM_GOTO(a),
                      irvm_opnd_branch_table(cases, 2)));
  ASSERT_OK(irvm_fn_bind_label(fn, a));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  ASSERT_OK(irvm_fn_bind_label(fn, b));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  // 83 @1, idx @2, dflt target @4, count @8 (even), table count @10,
  // case 0 target @12, count @16, case 1 target @18, count @22, pair @24;
  // ^a = 28, ^b = 32.
  ASSERT_BYTES(code, 36,  //
               0x79, 0x83, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
               0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x00,
               0x01, 0x00, 0x00, 0x00, 0x01, 0x00,  //
               0x79, 0x5A, 0x00, 0x00,              // ^a: return
               0x79, 0x5A, 0x00, 0x00);             // ^b: return
  assert_int_equal(length, 36);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Extension instructions: the prefix counts for list alignment, and the
// function and module get the feature bits.
static void test_extension_prefix_and_requirements(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* f32 = new_function(builder, "0i_i");
  // pc 1: E0 09 idx dflt [vals] r: the list starts at pc 7 -> one pad.
  ASSERT_OK(IRVM_EMIT(f32, IRVM_INSN_SWITCH_F32, irvm_opnd_i32(0),
                      irvm_opnd_i32(0), IRVM_LIST(irvm_reg_f32(1)),
                      irvm_opnd_i32(2)));
  ASSERT_OK(irvm_fn_return(f32, (const irvm_reg_t[]){irvm_reg_i32(2)}, 1));
  irvm_function_builder_t* f64 = new_function(builder, "0F_F");
  ASSERT_OK(irvm_fn_op3(f64, IRVM_INSN_ADD_F64, irvm_reg_f64(2),
                        irvm_reg_f64(0), irvm_reg_f64(0)));
  ASSERT_OK(irvm_fn_return(f64, (const irvm_reg_t[]){irvm_reg_f64(2)}, 1));
  irvm_function_builder_t* yielding = new_function(builder, "0v_v");
  irvm_label_t next;
  ASSERT_OK(irvm_fn_new_label(yielding, &next));
  ASSERT_OK(IRVM_EMIT(yielding, IRVM_INSN_YIELD, IRVM_GOTO(next)));
  ASSERT_OK(irvm_fn_bind_label(yielding, next));
  ASSERT_OK(irvm_fn_return(yielding, NULL, 0));
  irvm_function_builder_t* calling = new_function(builder, "0v_v");
  ASSERT_OK(irvm_fn_call(calling, irvm_opnd_func(2), NULL, 0, NULL, 0));
  ASSERT_OK(irvm_fn_return(calling, NULL, 0));

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  ASSERT_BYTES(code, 14, 0x79, 0xE0, 0x09, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
               0x00, 0x01, 0x00, 0x02, 0x00);
  code = bt_function_code(&m.def, 1, &length);
  ASSERT_BYTES(code, 8, 0x79, 0xE1, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x02);
  const irvm_function_descriptor_t* d = m.def.function_descriptors;
  assert_int_equal(d[0].requirements, IRVM_FEATURE_EXT_F32);
  assert_int_equal(d[1].requirements, IRVM_FEATURE_EXT_F64);
  assert_int_equal(d[1].i32_register_count, 4);
  assert_int_equal(d[2].requirements, IRVM_FEATURE_YIELD);
  assert_int_equal(d[2].block_count, 2);
  assert_int_equal(d[3].requirements, IRVM_FEATURE_UNWIND);
  assert_int_equal(m.def.requirements, IRVM_FEATURES_ALL);
  // Functions start 8-aligned in bytecode_data.
  for (uint32_t i = 0; i < m.def.function_count; ++i) {
    assert_int_equal(d[i].bytecode_offset % 8, 0);
  }
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Spec 5.3: `0rIiiI_r` places r0, i0:1, i2, i3, i4:5, so the banks need 6
// i32 cells and 1 ref even if the body uses none of them.
static void test_register_counts_cover_arguments(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* fn = new_function(builder, "0rIiiI_r");
  ASSERT_OK(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, irvm_reg_ref(0)));
  ASSERT_OK(irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_ref_move(0)}, 1));
  irvm_function_builder_t* wide = new_function(builder, "0i_v");
  ASSERT_OK(irvm_fn_const_i64(wide, irvm_reg_i64(10), -1));
  ASSERT_OK(irvm_fn_const_i32(wide, irvm_reg_i32(3), 5));
  ASSERT_OK(irvm_fn_op1(wide, IRVM_INSN_CONST_REF_ZERO, irvm_reg_ref(7)));
  ASSERT_OK(
      IRVM_EMIT(wide, IRVM_INSN_DISCARD_REFS, IRVM_LIST(irvm_reg_ref(7))));
  ASSERT_OK(irvm_fn_return(wide, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  const irvm_function_descriptor_t* d = m.def.function_descriptors;
  assert_int_equal(d[0].i32_register_count, 6);
  assert_int_equal(d[0].ref_register_count, 1);
  assert_int_equal(d[1].i32_register_count, 12);  // the pair 10:11
  assert_int_equal(d[1].ref_register_count, 8);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Types get sorted like the compiler's table (value types first, then by
// name) and every type field is rewritten, whenever the type was declared.
static void test_type_ids_follow_the_sorted_table(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_type_t list_type, buffer_type, i64_type, again;
  ASSERT_OK(irvm_module_builder_add_type(builder, "!vm.list<?>", &list_type));
  ASSERT_OK(irvm_module_builder_add_type(builder, "!vm.buffer", &buffer_type));
  ASSERT_OK(irvm_module_builder_set_module_state(builder, 0, 1));
  irvm_function_builder_t* fn = new_function(builder, "0v_v");
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(list_type),
                      irvm_opnd_i32(0), irvm_opnd_ref(0)));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(0),
                      irvm_opnd_type(buffer_type), irvm_opnd_ref(1)));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS,
                      IRVM_LIST(irvm_reg_ref(0), irvm_reg_ref(1))));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  // Declared after use; shifts both ids above.
  ASSERT_OK(irvm_module_builder_add_type(builder, "i64", &i64_type));
  ASSERT_OK(irvm_module_builder_add_type(builder, "!hal.buffer", &again));
  ASSERT_OK(irvm_module_builder_add_type(builder, "!vm.buffer", &again));
  assert_int_equal(again.handle, buffer_type.handle);  // deduplicated
  assert_int_equal(irvm_module_builder_type_id(builder, i64_type), 0);
  assert_int_equal(irvm_module_builder_type_id(builder, buffer_type), 2);
  assert_int_equal(irvm_module_builder_type_id(builder, list_type), 3);

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.type_count, 4);
  ASSERT_SV(m.def.types[0], "i64");
  ASSERT_SV(m.def.types[1], "!hal.buffer");
  ASSERT_SV(m.def.types[2], "!vm.buffer");
  ASSERT_SV(m.def.types[3], "!vm.list<?>");
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  irvm_instruction_t insn;
  ASSERT_OK(irvm_instruction_decode(code, length, 1, &insn));
  assert_int_equal(insn.operands[0].u32, 3);  // list.alloc type
  ASSERT_OK(irvm_instruction_decode(code, length, insn.next_pc, &insn));
  assert_int_equal(insn.operands[1].u32, 2);  // global.load.ref type
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

//===----------------------------------------------------------------------===//
// Every opcode, decoded back
//===----------------------------------------------------------------------===//

// Deterministic operands for one layout letter; |seed| varies the values.
// Registers stay small (i32 < 32, even pairs, refs < 16) so the banks are
// small; ordinals stay inside the tables set up by the test.
typedef struct opnd_storage_s {
  irvm_reg_t regs[3];
  int16_t segments[3];
  irvm_remap_t remaps[2];
  irvm_branch_target_t cases[2];
} opnd_storage_t;

static irvm_opnd_t make_operand(char letter, uint32_t seed, irvm_label_t next,
                                irvm_type_t type, opnd_storage_t* s) {
  uint16_t small = (uint16_t)(seed % 16);
  switch (letter) {
    case 'i':
      return irvm_opnd_i32(small);
    case 'I':
      return irvm_opnd_i64((uint16_t)(2 * small));
    case 'r':
      return irvm_opnd_ref(small);
    case 'R':
      return irvm_opnd_ref_move(small);
    case 'c':
      return irvm_opnd_imm_i32((int32_t)(0x01020304u * (seed + 1)));
    case 'C':
      return irvm_opnd_imm_i64((int64_t)(0x0102030405060708ull * seed));
    case 'g':
      return irvm_opnd_global(8 * (seed % 4));
    case 'G':
      return irvm_opnd_global_ref(seed % 2);
    case 'd':
      return irvm_opnd_rodata(seed % 2);
    case 't':
      return irvm_opnd_type(type);
    case 'f':
      return seed % 2 ? irvm_opnd_import(seed % 3) : irvm_opnd_func(0);
    case 's':
      return irvm_opnd_string(seed % 2 ? "odd" : "even!");
    case 'L':
      s->regs[0] = irvm_reg_i32(small);
      s->regs[1] = irvm_reg_ref_move(small);
      s->regs[2] = irvm_reg_i64(2);
      return irvm_opnd_list(s->regs, seed % 4);
    case 'Q':
    case 'M':
      s->regs[0] = letter == 'M' ? irvm_reg_ref_move(1) : irvm_reg_ref(1);
      s->regs[1] = irvm_reg_ref(small);
      return irvm_opnd_list(s->regs, 2);
    case 'J':
      s->regs[0] = irvm_reg_i32(small);
      return irvm_opnd_list(s->regs, 1);
    case 'K':
      s->regs[0] = irvm_reg_i64(4);
      s->regs[1] = irvm_reg_i64(6);
      return irvm_opnd_list(s->regs, 2);
    case 'S':
      s->segments[0] = -1;
      s->segments[1] = (int16_t)(seed % 5);
      return irvm_opnd_segments(s->segments, 2);
    case 'B':
      s->remaps[0] = (irvm_remap_t){irvm_reg_i32(small), irvm_reg_i32(3)};
      s->remaps[1] = (irvm_remap_t){irvm_reg_ref_move(2), irvm_reg_ref(3)};
      return irvm_opnd_branch(next, s->remaps, seed % 3);
    case 'b':
      return IRVM_GOTO(next);
    default:  // 'T'
      s->remaps[0] = (irvm_remap_t){irvm_reg_i64(8), irvm_reg_i64(10)};
      s->cases[0] = (irvm_branch_target_t){next, s->remaps, 1};
      s->cases[1] = (irvm_branch_target_t){next, NULL, 0};
      return irvm_opnd_branch_table(s->cases, 1 + seed % 2);
  }
}

// Compares one decoded field with the operand it was built from.
static void check_decoded(const irvm_operand_t* field, const irvm_opnd_t* op,
                          uint32_t label_pc, uint32_t type_id) {
  switch (field->kind) {
    case 'i':
    case 'I':
    case 'r':
    case 'R': {
      uint16_t expected = op->reg.ordinal;
      if (op->reg.kind == IRVM_REG_REF) {
        expected |= 0x8000 | (op->reg.move ? 0x4000 : 0);
      }
      assert_int_equal(field->reg, expected);
      break;
    }
    case 'c':
    case 'g':
    case 'G':
    case 'd':
    case 'f':
      assert_int_equal(field->u32, op->u32);
      break;
    case 't':
      assert_int_equal(field->u32, type_id);
      break;
    case 'C':
      assert_true(field->u64 == op->u64);
      break;
    case 's':
      assert_int_equal(field->string.size, op->string.length);
      assert_memory_equal(field->string.data, op->string.data,
                          op->string.length);
      break;
    case 'S':
      assert_int_equal(field->list.count, op->segments.count);
      for (uint16_t i = 0; i < field->list.count; ++i) {
        assert_int_equal((int16_t)irvm_operand_list_entry(field, i),
                         op->segments.sizes[i]);
      }
      break;
    case 'B':
    case 'b': {
      assert_int_equal(field->branch.target, label_pc);
      assert_int_equal(field->branch.remap_count, op->branch.remap_count);
      for (uint16_t i = 0; i < field->branch.remap_count; ++i) {
        uint16_t src = 0, dst = 0;
        irvm_branch_remap(&field->branch, i, &src, &dst);
        const irvm_remap_t* remap = &op->branch.remaps[i];
        assert_int_equal(src & 0x3FFF, remap->src.ordinal);
        assert_int_equal(dst & 0x3FFF, remap->dst.ordinal);
      }
      break;
    }
    case 'T': {
      assert_int_equal(field->table.count, op->table.count);
      irvm_br_table_iterator_t it;
      irvm_br_table_begin(field, &it);
      irvm_branch_t branch;
      for (size_t i = 0; irvm_br_table_next(&it, &branch); ++i) {
        assert_int_equal(branch.target, label_pc);
        // A 64-bit remap is written as two cell pairs.
        size_t pairs = 0;
        for (size_t k = 0; k < op->table.cases[i].remap_count; ++k) {
          pairs +=
              op->table.cases[i].remaps[k].src.kind == IRVM_REG_I64 ? 2 : 1;
        }
        assert_int_equal(branch.remap_count, pairs);
      }
      break;
    }
    default: {  // register lists
      assert_int_equal(field->list.count, op->list.count);
      for (uint16_t i = 0; i < field->list.count; ++i) {
        irvm_reg_t reg = op->list.regs[i];
        uint16_t expected = reg.ordinal;
        if (reg.kind == IRVM_REG_REF) {
          expected |= 0x8000 | (reg.move ? 0x4000 : 0);
        }
        assert_int_equal(irvm_operand_list_entry(field, i), expected);
      }
      break;
    }
  }
}

static void test_every_opcode_round_trips(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  add_imports(builder, 3);
  irvm_type_t type;
  ASSERT_OK(irvm_module_builder_add_type(builder, "!vm.buffer", &type));
  uint32_t ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_rodata(builder, "a", 1, NULL, &ordinal));
  ASSERT_OK(irvm_module_builder_add_rodata(builder, "b", 1, NULL, &ordinal));
  ASSERT_OK(irvm_module_builder_set_module_state(builder, 32, 2));

  // One function per opcode: the instruction, then (after a terminator) the
  // block every branch targets, then a return.
  typedef struct emitted_s {
    irvm_insn_t insn;
    uint32_t seed;
    irvm_label_t next;
  } emitted_t;
  static emitted_t emitted[3 * 256];
  size_t count = 0;
  for (int table = 0; table <= IRVM_OP_TABLE_EXT_F64; ++table) {
    for (int opcode = 0; opcode < 256; ++opcode) {
      const irvm_op_info_t* info =
          irvm_op_info((irvm_op_table_t)table, (uint8_t)opcode);
      if (!info || (table == IRVM_OP_TABLE_CORE && opcode == IRVM_OP_BLOCK)) {
        continue;
      }
      emitted_t* e = &emitted[count];
      e->insn = irvm_insn_make((irvm_op_table_t)table, (uint8_t)opcode);
      e->seed = (uint32_t)count;
      irvm_function_builder_t* fn = new_function(builder, "0v_v");
      assert_int_equal(irvm_fn_ordinal(fn), count);
      ASSERT_OK(irvm_fn_new_label(fn, &e->next));
      // An odd seed starts the instruction at an even pc (4).
      if (e->seed % 2) {
        ASSERT_OK(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, irvm_reg_i32(0)));
      }
      irvm_opnd_t operands[IRVM_MAX_OPERANDS];
      opnd_storage_t storage[IRVM_MAX_OPERANDS];
      size_t n = 0;
      for (const char* p = info->layout; *p; ++p) {
        if (*p == '>') continue;
        operands[n] =
            make_operand(*p, e->seed + (uint32_t)n, e->next, type, &storage[n]);
        ++n;
      }
      ASSERT_OK(irvm_fn_emit(fn, e->insn, operands, n));
      if (!(info->flags & IRVM_OPF_TERMINATOR))
        ASSERT_OK(irvm_fn_br(fn, e->next));
      ASSERT_OK(irvm_fn_bind_label(fn, e->next));
      ASSERT_OK(irvm_fn_return(fn, NULL, 0));
      ++count;
    }
  }
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.function_count, count);

  // Decode each function: the instruction under test must come back with
  // the same fields (rebuilt from the same deterministic operands).
  for (size_t i = 0; i < count; ++i) {
    const emitted_t* e = &emitted[i];
    uint32_t length = 0;
    const uint8_t* code = bt_function_code(&m.def, (uint32_t)i, &length);
    uint32_t pc = e->seed % 2 ? 4 : 1;
    irvm_instruction_t insn;
    ASSERT_OK(irvm_instruction_decode(code, length, pc, &insn));
    assert_int_equal(((unsigned)insn.info->table << 8) | insn.info->opcode,
                     (unsigned)e->insn);
    // |next| is the last block: 79 5A [pad] 00 00.
    uint32_t next_pc =
        code[length - 4] == IRVM_OP_BLOCK ? length - 4 : length - 5;
    assert_int_equal(code[next_pc], IRVM_OP_BLOCK);
    size_t n = 0;
    for (const char* p = insn.info->layout; *p; ++p) {
      if (*p == '>') continue;
      opnd_storage_t storage;
      irvm_opnd_t op =
          make_operand(*p, e->seed + (uint32_t)n, e->next, type, &storage);
      check_decoded(&insn.operands[n], &op, next_pc,
                    irvm_module_builder_type_id(builder, type));
      ++n;
    }
    assert_int_equal(insn.operand_count, n);
    uint32_t expected =
        insn.info->table == IRVM_OP_TABLE_EXT_F32   ? IRVM_FEATURE_EXT_F32
        : insn.info->table == IRVM_OP_TABLE_EXT_F64 ? IRVM_FEATURE_EXT_F64
                                                    : 0;
    assert_int_equal(m.def.function_descriptors[i].requirements &
                         ~(IRVM_FEATURE_YIELD | IRVM_FEATURE_UNWIND),
                     expected);
  }
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

static void test_operand_mismatches_are_rejected(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* fn = new_function(builder, "0v_v");
  irvm_function_builder_t* other = new_function(builder, "0v_v");
  irvm_label_t foreign;
  ASSERT_OK(irvm_fn_new_label(other, &foreign));
  uint32_t pc = irvm_fn_pc(fn);

  ASSERT_STATUS(irvm_fn_op3(fn, IRVM_INSN_ADD_I32, irvm_reg_i32(0),
                            irvm_reg_ref(1), irvm_reg_i32(2)),
                IRT_STATUS_INVALID_ARGUMENT,
                "vm.add.i32 operand 0 ('i' in \"ii>i\"): register: expected an "
                "i32 register, got a ref register");
  ASSERT_STATUS(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, irvm_reg_i64(0),
                            irvm_reg_i64(3), irvm_reg_i64(2)),
                IRT_STATUS_INVALID_ARGUMENT, "pair 3:4 is not even");
  ASSERT_STATUS(irvm_fn_op3(fn, IRVM_INSN_ADD_I64, irvm_reg_i64(0),
                            irvm_reg_i32(2), irvm_reg_i64(2)),
                IRT_STATUS_INVALID_ARGUMENT, "expected an i64 register pair");
  ASSERT_STATUS(irvm_fn_op2(fn, IRVM_INSN_CMP_NZ_REF, irvm_reg_i32(0),
                            irvm_reg_ref_move(1)),
                IRT_STATUS_INVALID_ARGUMENT, "MOVE bit is not allowed");
  ASSERT_STATUS(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO,
                            (irvm_reg_t){IRVM_REG_I32, true, 0}),
                IRT_STATUS_INVALID_ARGUMENT, "MOVE bit is not allowed");
  ASSERT_STATUS(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, (irvm_reg_t){0}),
                IRT_STATUS_INVALID_ARGUMENT, "zero-initialized irvm_reg_t");
  ASSERT_STATUS(irvm_fn_op1(fn, IRVM_INSN_CONST_I32_ZERO, irvm_reg_i32(0x8000)),
                IRT_STATUS_INVALID_ARGUMENT, "i32 register 32768 exceeds");
  ASSERT_STATUS(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, irvm_reg_ref(0x4000)),
                IRT_STATUS_INVALID_ARGUMENT, "ref register 16384 exceeds");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_CONST_I32, irvm_opnd_imm_i64(1),
                          irvm_opnd_i32(0)),
                IRT_STATUS_INVALID_ARGUMENT,
                "expected a 32-bit immediate, got a 64-bit immediate");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_global(0),
                          irvm_opnd_ref(0)),
                IRT_STATUS_INVALID_ARGUMENT,
                "expected a rodata ordinal, got a global byte offset");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_func(0),
                          irvm_opnd_i32(0), irvm_opnd_ref(0)),
                IRT_STATUS_INVALID_ARGUMENT, "expected a type");
  ASSERT_STATUS(
      IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type((irvm_type_t){7}),
                irvm_opnd_i32(0), irvm_opnd_ref(0)),
      IRT_STATUS_INVALID_ARGUMENT, "type handle 7 was not declared");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_CONST_I32, irvm_opnd_imm_i32(1)),
                IRT_STATUS_INVALID_ARGUMENT,
                "vm.const.i32 takes 2 operands (layout \"c>i\"), got 1");
  ASSERT_STATUS(
      IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(irvm_reg_ref_move(0))),
      IRT_STATUS_INVALID_ARGUMENT, "list entry 0: the MOVE bit");
  ASSERT_STATUS(
      IRVM_EMIT(fn, IRVM_INSN_SWITCH_I64, irvm_opnd_i32(0), irvm_opnd_i64(0),
                IRVM_LIST(irvm_reg_i32(2)), irvm_opnd_i64(4)),
      IRT_STATUS_INVALID_ARGUMENT,
      "list entry 0: expected an i64 register pair");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_CALL_YIELDABLE, irvm_opnd_func(0),
                          IRVM_EMPTY_LIST,
                          IRVM_BRANCH(irvm_fn_entry_label(fn),
                                      {irvm_reg_i32(0), irvm_reg_i32(1)}),
                          IRVM_EMPTY_LIST),
                IRT_STATUS_INVALID_ARGUMENT, "takes no remaps");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_BR,
                          IRVM_BRANCH(irvm_fn_entry_label(fn),
                                      {irvm_reg_i64(0), irvm_reg_i32(1)})),
                IRT_STATUS_INVALID_ARGUMENT,
                "remap 0 destination: expected an i64 register pair");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_BR, IRVM_GOTO(foreign)),
                IRT_STATUS_INVALID_ARGUMENT, "does not belong here");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_BR, irvm_opnd_i32(0)),
                IRT_STATUS_INVALID_ARGUMENT,
                "expected a branch target, got a register");
  ASSERT_STATUS(IRVM_EMIT(fn, IRVM_INSN_FAIL, irvm_opnd_i32(0),
                          irvm_opnd_string_n("x", 70000)),
                IRT_STATUS_INVALID_ARGUMENT, "too long");
  ASSERT_STATUS(irvm_fn_emit(fn, (irvm_insn_t)0x00FF, NULL, 0),
                IRT_STATUS_INVALID_ARGUMENT, "names no opcode");
  ASSERT_STATUS(irvm_fn_emit(fn, (irvm_insn_t)0x0300, NULL, 0),
                IRT_STATUS_INVALID_ARGUMENT, "names no opcode");
  ASSERT_STATUS(irvm_fn_emit(fn, IRVM_INSN_BLOCK, NULL, 0),
                IRT_STATUS_INVALID_ARGUMENT, "irvm_fn_bind_label");
  ASSERT_STATUS(irvm_fn_op3(fn, IRVM_INSN_BUFFER_STORE_I32, irvm_reg_ref(0),
                            irvm_reg_i64(0), irvm_reg_i32(2)),
                IRT_STATUS_INVALID_ARGUMENT, "use irvm_fn_emit");
  ASSERT_STATUS(
      irvm_fn_op2(fn, IRVM_INSN_ADD_I32, irvm_reg_i32(0), irvm_reg_i32(1)),
      IRT_STATUS_INVALID_ARGUMENT, "use irvm_fn_emit");
  // Rejected instructions left nothing behind.
  assert_int_equal(irvm_fn_pc(fn), pc);
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  ASSERT_OK(irvm_fn_return(other, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.function_descriptors[0].i32_register_count, 0);
  assert_int_equal(m.def.function_descriptors[0].ref_register_count, 0);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

static void test_block_structure_is_enforced(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder();
  irvm_function_builder_t* unused = NULL;
  ASSERT_STATUS(irvm_module_builder_begin_function(builder, "0x_v", &unused),
                IRT_STATUS_INVALID_ARGUMENT, "unexpected 'x'");
  ASSERT_STATUS(irvm_module_builder_begin_function(builder, "0iCiD_v", &unused),
                IRT_STATUS_INVALID_ARGUMENT, "only allowed in import");
  ASSERT_STATUS(irvm_module_builder_begin_function(builder, "1v_v", &unused),
                IRT_STATUS_UNIMPLEMENTED, "version");
  assert_null(unused);
  irvm_function_builder_t* fn = new_function(builder, "0i_v");
  irvm_label_t label, unbound;
  ASSERT_OK(irvm_fn_new_label(fn, &label));
  ASSERT_OK(irvm_fn_new_label(fn, &unbound));
  ASSERT_STATUS(irvm_fn_bind_label(fn, label), IRT_STATUS_INVALID_ARGUMENT,
                "previous block has no terminator");
  ASSERT_STATUS(irvm_fn_bind_label(fn, irvm_fn_entry_label(fn)),
                IRT_STATUS_INVALID_ARGUMENT, "already bound at pc 0x0000");
  ASSERT_OK(irvm_fn_cond_br(fn, irvm_reg_i32(0), label, unbound));
  ASSERT_STATUS(irvm_fn_const_i32(fn, irvm_reg_i32(0), 1),
                IRT_STATUS_INVALID_ARGUMENT,
                "vm.const.i32 follows a terminator");
  ASSERT_STATUS(irvm_fn_emit_bytes(fn, "\x79", 1),
                IRT_STATUS_FAILED_PRECONDITION, "IRVM_FUNCTION_UNCHECKED");
  ASSERT_OK(irvm_fn_bind_label(fn, label));
  ASSERT_OK(irvm_fn_const_i32(fn, irvm_reg_i32(0), 1));
  uint8_t* data = NULL;
  size_t size = 0;
  ASSERT_STATUS(irvm_module_builder_finish(
                    builder, NULL, irt_allocator_system(), &data, &size),
                IRT_STATUS_INVALID_ARGUMENT,
                "function 0: the last block has no terminator");
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  ASSERT_STATUS(irvm_module_builder_finish(
                    builder, NULL, irt_allocator_system(), &data, &size),
                IRT_STATUS_INVALID_ARGUMENT,
                "label 2 is a branch target (field at pc 0x000A) but was "
                "never bound");
  assert_null(data);
  ASSERT_OK(irvm_fn_bind_label(fn, unbound));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.function_descriptors[0].block_count, 3);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity_i64_body),
      cmocka_unit_test(test_documented_example),
      cmocka_unit_test(test_call_list_padding),
      cmocka_unit_test(test_branch_remap_padding),
      cmocka_unit_test(test_br_table_layout),
      cmocka_unit_test(test_extension_prefix_and_requirements),
      cmocka_unit_test(test_register_counts_cover_arguments),
      cmocka_unit_test(test_type_ids_follow_the_sorted_table),
      cmocka_unit_test(test_every_opcode_round_trips),
      cmocka_unit_test(test_operand_mismatches_are_rejected),
      cmocka_unit_test(test_block_structure_is_enforced),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
