// The builder against real iree-compile v3.11 output:
//  * simple_mul_elodin's `simple_mul` function (spec 10.2) written by hand
//    with the builder API reproduces the spec's bytes (always) and the
//    corpus file's 518 bytes (when the corpus is present);
//  * every module of the corpus is rebuilt from its parsed definition and
//    decoded instructions: the bytecode of every function is byte-identical,
//    the computed descriptors and requirements equal the compiler's, and the
//    metadata and external rodata offsets read back the same.
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/vm/format/decoder.h"
#include "tests/support/test_files.h"
#include "tests/vm_builder/builder_test.h"

//===----------------------------------------------------------------------===//
// Spec 10.2 by hand
//===----------------------------------------------------------------------===//

static const struct {
  const char* name;
  const char* cconv;
} kHalImports[] = {
    {"hal.buffer.assert", "0rrrIii_v"},
    {"hal.buffer_view.create", "0rIIiiCID_r"},
    {"hal.buffer_view.assert", "0rriiCID_v"},
    {"hal.buffer_view.buffer", "0r_r"},
    {"hal.command_buffer.create", "0riiIi_r"},
    {"hal.command_buffer.finalize", "0r_v"},
    {"hal.command_buffer.execution_barrier", "0riiI_v"},
    {"hal.command_buffer.dispatch", "0rriiiiICiDCiirIID_v"},
    {"hal.device.allocator", "0r_r"},
    {"hal.device.query.i64", "0rrr_iI"},
    {"hal.device.queue.alloca", "0rIrrIiiII_r"},
    {"hal.device.queue.execute.indirect", "0rIrrrICrIID_v"},
    {"hal.devices.count", "0v_i"},
    {"hal.devices.get", "0i_r"},
    {"hal.executable.create", "0rIrrr_r"},
    {"hal.fence.create", "0rI_r"},
    {"hal.fence.await", "0iICrD_i"},
};
enum {
  kBufferAssert = 0,
  kBufferViewCreate = 1,
  kBufferViewAssert = 2,
  kBufferViewBuffer = 3,
  kDeviceAllocator = 8,
  kQueueAlloca = 10,
  kQueueExecuteIndirect = 11,
  kFenceCreate = 15,
  kFenceAwait = 16,
};

#define I32(n) irvm_reg_i32(n)
#define I64(n) irvm_reg_i64(n)
#define REF(n) irvm_reg_ref(n)
#define MOVE(n) irvm_reg_ref_move(n)

static void emit_simple_mul(irvm_function_builder_t* fn, irvm_type_t device,
                            irvm_type_t command_buffer) {
  irvm_label_t resume, ok, failed;
  ASSERT_OK(irvm_fn_new_label(fn, &resume));
  ASSERT_OK(irvm_fn_new_label(fn, &failed));
  ASSERT_OK(irvm_fn_new_label(fn, &ok));
  ASSERT_OK(irvm_fn_const_i32(fn, I32(0), 16));
  ASSERT_OK(irvm_fn_const_i32(fn, I32(1), 1));
  ASSERT_OK(irvm_fn_const_i32(fn, I32(2), 0x21000020));  // f32 element type
  ASSERT_OK(irvm_fn_const_i32(fn, I32(3), 3075));
  ASSERT_OK(irvm_fn_const_i32(fn, I32(4), 48));
  ASSERT_OK(irvm_fn_const_i64(fn, I64(6), 4));
  ASSERT_OK(irvm_fn_const_i64(fn, I64(8), 16));
  ASSERT_OK(irvm_fn_op1(fn, IRVM_INSN_CONST_I64_ZERO, I64(10)));
  ASSERT_OK(irvm_fn_const_i64(fn, I64(12), -1));
  ASSERT_OK(irvm_fn_op1(fn, IRVM_INSN_CONST_REF_ZERO, REF(2)));
  ASSERT_OK(irvm_fn_const_i32(fn, I32(5), -1));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(0),
                      irvm_opnd_type(device), irvm_opnd_ref(3)));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(2),
                      irvm_opnd_type(command_buffer), irvm_opnd_ref(4)));
  // Both inputs: assert the shape, get the buffer, assert the buffer.
  for (int input = 0; input < 2; ++input) {
    uint16_t view = (uint16_t)input, name = input ? 7 : 5;
    uint16_t buffer = input ? 7 : 5;
    ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA,
                        irvm_opnd_rodata(input ? 7 : 5), irvm_opnd_ref(name)));
    ASSERT_OK(IRVM_EMIT(
        fn, IRVM_INSN_CALL_VARIADIC, irvm_opnd_import(kBufferViewAssert),
        IRVM_SEGMENTS(-1, -1, -1, -1, 1),
        IRVM_LIST(REF(view), MOVE(name), I32(2), I32(1), I64(6)),
        IRVM_EMPTY_LIST));
    ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(kBufferViewBuffer),
                           (const irvm_reg_t[]){MOVE(view)}, 1,
                           (const irvm_reg_t[]){REF(buffer)}, 1));
    if (input == 0) {
      ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(kDeviceAllocator),
                             (const irvm_reg_t[]){REF(3)}, 1,
                             (const irvm_reg_t[]){REF(0)}, 1));
      ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(6),
                          irvm_opnd_ref(6)));
    }
    irvm_reg_t tensor = input ? MOVE(6) : REF(6);
    irvm_reg_t allocator = input ? MOVE(0) : REF(0);
    ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(kBufferAssert),
                           (const irvm_reg_t[]){REF(buffer), tensor, allocator,
                                                I64(8), I32(0), I32(3)},
                           6, NULL, 0));
  }
  ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(kFenceCreate),
                         (const irvm_reg_t[]){REF(3), I64(10)}, 2,
                         (const irvm_reg_t[]){REF(0)}, 1));
  ASSERT_OK(irvm_fn_call(
      fn, irvm_opnd_import(kQueueAlloca),
      (const irvm_reg_t[]){REF(3), I64(12), MOVE(2), REF(0), I64(10), I32(4),
                           I32(3), I64(8), I64(10)},
      9, (const irvm_reg_t[]){REF(1)}, 1));
  ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(kFenceCreate),
                         (const irvm_reg_t[]){REF(3), I64(10)}, 2,
                         (const irvm_reg_t[]){REF(2)}, 1));
  ASSERT_OK(IRVM_EMIT(
      fn, IRVM_INSN_CALL_VARIADIC, irvm_opnd_import(kQueueExecuteIndirect),
      IRVM_SEGMENTS(-1, -1, -1, -1, -1, -1, 3),
      IRVM_LIST(MOVE(3), I64(12), MOVE(0), REF(2), MOVE(4), I64(10),  //
                MOVE(5), I64(10), I64(8),                             //
                MOVE(7), I64(10), I64(8),                             //
                REF(1), I64(10), I64(8)),
      IRVM_EMPTY_LIST));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_CALL_VARIADIC_YIELDABLE,
                      irvm_opnd_import(kFenceAwait), IRVM_SEGMENTS(-1, -1, 1),
                      IRVM_LIST(I32(5), I64(10), MOVE(2)), IRVM_GOTO(resume),
                      IRVM_LIST(I32(0))));
  ASSERT_OK(irvm_fn_bind_label(fn, resume));
  ASSERT_OK(irvm_fn_cond_br(fn, I32(0), failed, ok));
  ASSERT_OK(irvm_fn_bind_label(fn, ok));
  ASSERT_OK(IRVM_EMIT(
      fn, IRVM_INSN_CALL_VARIADIC, irvm_opnd_import(kBufferViewCreate),
      IRVM_SEGMENTS(-1, -1, -1, -1, -1, 1),
      IRVM_LIST(MOVE(1), I64(10), I64(8), I32(2), I32(1), I64(6)),
      IRVM_LIST(REF(0))));
  ASSERT_OK(irvm_fn_return(fn, (const irvm_reg_t[]){MOVE(0)}, 1));
  ASSERT_OK(irvm_fn_bind_label(fn, failed));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_DISCARD_REFS, IRVM_LIST(REF(1))));
  ASSERT_OK(irvm_fn_fail(fn, I32(0), "failed to wait on timepoint"));
}

static void test_simple_mul_by_hand(void** state) {
  (void)state;
  irvm_module_builder_t* builder = NULL;
  ASSERT_OK(irvm_module_builder_create(irt_allocator_system(), "module", 0,
                                       &builder));
  irvm_type_t device, command_buffer, ignored;
  ASSERT_OK(irvm_module_builder_add_type(builder, "!hal.device", &device));
  ASSERT_OK(irvm_module_builder_add_type(builder, "!hal.command_buffer",
                                         &command_buffer));
  const char* other_types[] = {"i32",
                               "i64",
                               "!hal.allocator",
                               "!hal.buffer",
                               "!hal.buffer_view",
                               "!hal.executable",
                               "!hal.fence",
                               "!vm.buffer"};
  for (size_t i = 0; i < sizeof(other_types) / sizeof(other_types[0]); ++i) {
    ASSERT_OK(irvm_module_builder_add_type(builder, other_types[i], &ignored));
  }
  ASSERT_OK(irvm_module_builder_add_dependency(builder, "hal", 6,
                                               IRVM_FLAG_REQUIRED));
  for (uint32_t i = 0; i < sizeof(kHalImports) / sizeof(kHalImports[0]); ++i) {
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_import(builder, kHalImports[i].name,
                                             kHalImports[i].cconv,
                                             IRVM_FLAG_REQUIRED, &ordinal));
    assert_int_equal(ordinal, i);
  }
  const char* strings[] = {"hal.device.id",
                           "local*",
                           "hal.executable.format",
                           "embedded-elf-x86_64",
                           "",
                           "input0",
                           "tensor",
                           "input1"};
  for (uint32_t i = 0; i < 8; ++i) {
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_rodata(
        builder, strings[i], strlen(strings[i]), NULL, &ordinal));
  }
  ASSERT_OK(irvm_module_builder_set_module_state(builder, 0, 3));
  irvm_function_builder_t* unused = NULL;
  ASSERT_OK(irvm_module_builder_begin_function(builder, "0v_r", &unused));
  ASSERT_OK(irvm_fn_op1(unused, IRVM_INSN_CONST_REF_ZERO, REF(0)));
  ASSERT_OK(irvm_fn_return(unused, (const irvm_reg_t[]){MOVE(0)}, 1));
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(irvm_module_builder_begin_exported_function(builder, "simple_mul",
                                                        "0rr_r", &fn));
  emit_simple_mul(fn, device, command_buffer);

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  const irvm_function_descriptor_t* d = &m.def.function_descriptors[1];
  assert_int_equal(d->bytecode_length, 518);
  assert_int_equal(d->requirements, IRVM_FEATURE_YIELD | IRVM_FEATURE_UNWIND);
  assert_int_equal(d->block_count, 4);
  assert_int_equal(d->i32_register_count, 14);
  assert_int_equal(d->ref_register_count, 8);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 1, &length);
  // The instructions whose bytes spec 10.2 lists in full.
  ASSERT_BYTES(code + 0x01, 7, 0x0d, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00);
  ASSERT_BYTES(code + 0x0F, 7, 0x0d, 0x20, 0x00, 0x00, 0x21, 0x02, 0x00);
  ASSERT_BYTES(code + 0x24, 11, 0x0f, 0x04, 0, 0, 0, 0, 0, 0, 0, 0x06, 0x00);
  ASSERT_BYTES(code + 0x3A, 3, 0x0e, 0x0a, 0x00);
  ASSERT_BYTES(code + 0x48, 3, 0x10, 0x02, 0x80);
  ASSERT_BYTES(code + 0x52, 11, 0x08, 0, 0, 0, 0, 0x06, 0, 0, 0, 0x03, 0x80);
  ASSERT_BYTES(code + 0x5D, 11, 0x08, 0x02, 0, 0, 0, 0x05, 0, 0, 0, 0x04, 0x80);
  ASSERT_BYTES(code + 0x6F, 31, 0x59, 0x02, 0x00, 0x00, 0x80, 0x05, 0x00, 0xff,
               0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x05, 0x00,
               0x00, 0x80, 0x05, 0xc0, 0x02, 0x00, 0x01, 0x00, 0x06, 0x00, 0x00,
               0x00);
  ASSERT_BYTES(code + 0x8E, 14, 0x58, 0x03, 0x00, 0x00, 0x80, 0x00, 0x01, 0x00,
               0x00, 0xc0, 0x01, 0x00, 0x05, 0x80);
  ASSERT_BYTES(code + 0xB1, 21, 0x58, 0x00, 0x00, 0x00, 0x80, 0x06, 0x00, 0x05,
               0x80, 0x06, 0x80, 0x00, 0x80, 0x08, 0x00, 0x00, 0x00, 0x03, 0x00,
               0x00, 0x00);
  ASSERT_BYTES(code + 0x186, 30, 0x88, 0x10, 0x00, 0x00, 0x80, 0x00, 0x03, 0x00,
               0xff, 0xff, 0xff, 0xff, 0x01, 0x00, 0x03, 0x00, 0x05, 0x00, 0x0a,
               0x00, 0x02, 0xc0, 0xa4, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00,
               0x00);
  ASSERT_BYTES(code + 0x1A4, 16, 0x79, 0x57, 0x00, 0x00, 0xe0, 0x01, 0x00, 0x00,
               0x00, 0x00, 0xb4, 0x01, 0x00, 0x00, 0x00, 0x00);
  ASSERT_BYTES(code + 0x1DA, 6, 0x5a, 0x00, 0x01, 0x00, 0x00, 0xc0);
  ASSERT_BYTES(code + 0x1E0, 11, 0x79, 0x85, 0x01, 0x00, 0x01, 0x80, 0x5b, 0x00,
               0x00, 0x1b, 0x00);
  assert_memory_equal(code + 0x1EB, "failed to wait on timepoint", 27);

  char path[512];
  if (ireed_test_shared_path("conformance/v3.11/simple_mul_elodin.vmfb", path,
                             sizeof(path))) {
    uint8_t* data = NULL;
    size_t size = 0;
    assert_true(ireed_test_read_file(path, &data, &size));
    irvm_module_def_t original;
    ASSERT_OK(
        irvm_module_def_parse(data, size, irt_allocator_system(), &original));
    uint32_t original_length = 0;
    const uint8_t* original_code =
        bt_function_code(&original, 1, &original_length);
    bt_assert_bytes(code, length, original_code, original_length, __FILE__,
                    __LINE__);
    irvm_module_def_deinit(&original);
    free(data);
  }
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

//===----------------------------------------------------------------------===//
// The whole corpus, rebuilt
//===----------------------------------------------------------------------===//

// Register kinds of the values a cconv fragment passes, in list order, with
// spans expanded by their tuple counts from |segments| (NULL: no spans).
static size_t cconv_kinds(irt_string_view_t cconv, bool results,
                          const irvm_operand_t* segments, uint8_t* kinds,
                          size_t capacity) {
  const char* text = cconv.data;
  size_t length = cconv.size;
  const char* split = memchr(text, '_', length);
  size_t begin = 1, end = split ? (size_t)(split - text) : length;
  if (results) {
    if (!split) return 0;
    begin = end + 1;
    end = length;
  }
  size_t count = 0, top_level = 0;
  for (size_t i = begin; i < end; ++i) {
    char c = text[i];
    size_t span_end = i + 1, repeat = 1;
    if (c == 'C') {  // repeat the tuple segments[top_level] times
      span_end = (const char*)memchr(text + i, 'D', end - i) - text;
      repeat =
          segments && top_level < segments->list.count
              ? (uint16_t)irvm_operand_list_entry(segments, (uint16_t)top_level)
              : 0;
      ++i;
    }
    for (size_t r = 0; r < repeat; ++r) {
      for (size_t k = i; k < span_end && count < capacity; ++k) {
        char v = text[k];
        kinds[count++] = v == 'r'               ? IRVM_REG_REF
                         : v == 'I' || v == 'F' ? IRVM_REG_I64
                         : v == 'v'             ? IRVM_REG_INVALID
                                                : IRVM_REG_I32;
        if (v == 'v') --count;
      }
    }
    if (c == 'C') i = span_end;
    ++top_level;
  }
  return count;
}

static irvm_reg_t reg_from_bits(uint16_t bits, uint8_t kind) {
  if (bits & 0x8000) {
    return (irvm_reg_t){IRVM_REG_REF, (bits & 0x4000) != 0,
                        (uint16_t)(bits & 0x3FFF)};
  }
  return (irvm_reg_t){kind == IRVM_REG_I64 ? IRVM_REG_I64 : IRVM_REG_I32, false,
                      (uint16_t)(bits & 0x7FFF)};
}

typedef struct rebuild_s {
  const irvm_module_def_t* def;
  uint32_t function;
  irvm_function_builder_t* fn;
  uint32_t* label_pcs;  // block marker pcs, index = label index
  size_t label_count;
  irvm_label_t* labels;
} rebuild_t;

static irvm_label_t label_at(const rebuild_t* r, uint32_t pc) {
  for (size_t i = 0; i < r->label_count; ++i) {
    if (r->label_pcs[i] == pc) return r->labels[i];
  }
  fail_msg("function %u: branch to pc 0x%04X, which is not a block",
           r->function, pc);
  return r->labels[0];
}

// The cconv that types the list at |index| of |insn| (NULL: untyped).
static irt_string_view_t callee_cconv(const rebuild_t* r,
                                      const irvm_instruction_t* insn) {
  uint32_t callee = insn->operands[0].u32;
  if (callee & IRVM_FUNCTION_IMPORT_BIT) {
    return r->def->imports[callee & ~IRVM_FUNCTION_IMPORT_BIT]
        .signature.calling_convention;
  }
  return r->def->function_signatures[callee].calling_convention;
}

typedef struct storage_s {
  irvm_reg_t regs[256];
  int16_t segments[64];
  irvm_remap_t remaps[64];
  irvm_branch_target_t cases[64];
  irvm_remap_t case_remaps[64][16];
} storage_t;

static irvm_branch_target_t branch_from(const rebuild_t* r,
                                        const irvm_branch_t* branch,
                                        irvm_remap_t* remaps) {
  assert_true(branch->remap_count <= 64);
  for (uint16_t i = 0; i < branch->remap_count; ++i) {
    uint16_t src = 0, dst = 0;
    irvm_branch_remap(branch, i, &src, &dst);
    remaps[i] = (irvm_remap_t){reg_from_bits(src, IRVM_REG_I32),
                               reg_from_bits(dst, IRVM_REG_I32)};
  }
  return (irvm_branch_target_t){label_at(r, branch->target), remaps,
                                branch->remap_count};
}

static void rebuild_instruction(const rebuild_t* r,
                                const irvm_instruction_t* insn, storage_t* s) {
  irvm_opnd_t operands[IRVM_MAX_OPERANDS];
  const irvm_op_info_t* info = insn->info;
  bool is_call =
      info->table == IRVM_OP_TABLE_CORE &&
      (info->opcode == IRVM_OP_CALL || info->opcode == IRVM_OP_CALL_VARIADIC ||
       info->opcode == IRVM_OP_CALL_YIELDABLE ||
       info->opcode == IRVM_OP_CALL_VARIADIC_YIELDABLE);
  bool is_return =
      info->table == IRVM_OP_TABLE_CORE && info->opcode == IRVM_OP_RETURN;
  const irvm_operand_t* segments = NULL;
  size_t reg_used = 0;
  int list_index = 0;
  for (uint8_t i = 0; i < insn->operand_count; ++i) {
    const irvm_operand_t* field = &insn->operands[i];
    switch (field->kind) {
      case 'i':
      case 'I':
      case 'r':
      case 'R':
        operands[i] = irvm_opnd_reg(reg_from_bits(
            field->reg, field->kind == 'I' ? IRVM_REG_I64 : IRVM_REG_I32));
        break;
      case 'c':
        operands[i] = irvm_opnd_imm_i32((int32_t)field->u32);
        break;
      case 'C':
        operands[i] = irvm_opnd_imm_i64((int64_t)field->u64);
        break;
      case 'g':
        operands[i] = irvm_opnd_global(field->u32);
        break;
      case 'G':
        operands[i] = irvm_opnd_global_ref(field->u32);
        break;
      case 'd':
        operands[i] = irvm_opnd_rodata(field->u32);
        break;
      case 't':  // handles equal sorted ids: the corpus tables are sorted
        operands[i] = irvm_opnd_type((irvm_type_t){field->u32});
        break;
      case 'f':
        operands[i] =
            field->u32 & IRVM_FUNCTION_IMPORT_BIT
                ? irvm_opnd_import(field->u32 & ~IRVM_FUNCTION_IMPORT_BIT)
                : irvm_opnd_func(field->u32);
        break;
      case 's':
        operands[i] =
            irvm_opnd_string_n(field->string.data, field->string.size);
        break;
      case 'S':
        segments = field;
        for (uint16_t k = 0; k < field->list.count; ++k) {
          s->segments[k] = (int16_t)irvm_operand_list_entry(field, k);
        }
        operands[i] = irvm_opnd_segments(s->segments, field->list.count);
        break;
      case 'B':
      case 'b': {
        irvm_branch_target_t target = branch_from(r, &field->branch, s->remaps);
        operands[i] =
            irvm_opnd_branch(target.label, target.remaps, target.remap_count);
        break;
      }
      case 'T': {
        irvm_br_table_iterator_t it;
        irvm_br_table_begin(field, &it);
        irvm_branch_t branch;
        size_t n = 0;
        while (irvm_br_table_next(&it, &branch)) {
          s->cases[n] = branch_from(r, &branch, s->case_remaps[n]);
          ++n;
        }
        operands[i] = irvm_opnd_branch_table(s->cases, n);
        break;
      }
      default: {  // register lists: typed by the callee / own cconv
        uint8_t kinds[256] = {0};
        if (is_call) {
          cconv_kinds(callee_cconv(r, insn), list_index == 1, segments, kinds,
                      256);
        } else if (is_return) {
          cconv_kinds(
              r->def->function_signatures[r->function].calling_convention, true,
              NULL, kinds, 256);
        } else if (field->kind == 'K') {
          memset(kinds, IRVM_REG_I64, sizeof(kinds));
        }
        irvm_reg_t* regs = &s->regs[reg_used];
        for (uint16_t k = 0; k < field->list.count; ++k) {
          regs[k] = reg_from_bits(irvm_operand_list_entry(field, k), kinds[k]);
        }
        reg_used += field->list.count;
        operands[i] = irvm_opnd_list(regs, field->list.count);
        ++list_index;
        break;
      }
    }
  }
  irvm_insn_t selector =
      irvm_insn_make((irvm_op_table_t)info->table, info->opcode);
  ASSERT_OK(irvm_fn_emit(r->fn, selector, operands, insn->operand_count));
}

static void rebuild_function(const irvm_module_def_t* def, uint32_t ordinal,
                             irvm_function_builder_t* fn) {
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(def, ordinal, &length);
  rebuild_t r = {.def = def, .function = ordinal, .fn = fn};
  // A label per block marker (found by walking the instructions).
  r.label_pcs = calloc(length, sizeof(uint32_t));
  r.labels = calloc(length, sizeof(irvm_label_t));
  irvm_instruction_t insn;
  for (uint32_t pc = 0; pc < length;) {
    ASSERT_OK(irvm_instruction_decode(code, length, pc, &insn));
    if (insn.info->table == IRVM_OP_TABLE_CORE &&
        insn.info->opcode == IRVM_OP_BLOCK) {
      r.label_pcs[r.label_count] = pc;
      if (pc == 0) {
        r.labels[r.label_count] = irvm_fn_entry_label(fn);
      } else {
        ASSERT_OK(irvm_fn_new_label(fn, &r.labels[r.label_count]));
      }
      ++r.label_count;
    }
    pc = insn.next_pc;
  }
  storage_t* storage = malloc(sizeof(*storage));
  for (uint32_t pc = 0; pc < length;) {
    ASSERT_OK(irvm_instruction_decode(code, length, pc, &insn));
    if (insn.info->table == IRVM_OP_TABLE_CORE &&
        insn.info->opcode == IRVM_OP_BLOCK) {
      if (pc != 0) ASSERT_OK(irvm_fn_bind_label(fn, label_at(&r, pc)));
    } else {
      rebuild_instruction(&r, &insn, storage);
    }
    assert_int_equal(irvm_fn_pc(fn), insn.next_pc);
    pc = insn.next_pc;
  }
  free(storage);
  free(r.label_pcs);
  free(r.labels);
}

// Name and extension of the ZIP entry holding external rodata |r|.
static void rodata_entry(const irvm_module_def_t* def,
                         const irvm_rodata_def_t* r,
                         irvm_rodata_options_t* options, char* name,
                         size_t capacity) {
  // Walk the local headers from the rodata base to the one of |r|.
  const uint8_t* p = def->file_data + def->rodata_base;
  for (;;) {
    uint16_t name_length = irvm_load_u16(p + 26);
    uint16_t extra = irvm_load_u16(p + 28);
    const uint8_t* data = p + 30 + name_length + extra;
    if (data == r->data) {
      const char* dot = memrchr(p + 30, '.', name_length);
      size_t stem = dot ? (size_t)(dot - (const char*)(p + 30)) : name_length;
      assert_true(stem < capacity);
      memcpy(name, p + 30, stem);
      name[stem] = '\0';
      const char* extension = dot ? dot : "";
      options->mime_type =
          strncmp(extension, ".so", 3) == 0   ? "application/x-elf"
          : strncmp(extension, ".fb", 3) == 0 ? "application/x-flatbuffers"
                                              : NULL;
      options->name = name;
      return;
    }
    p = data + irvm_load_u64(p + 30 + name_length + extra - 8);
    assert_true(p < def->file_data + def->file_size);
  }
}

static void rebuild_module(const char* relative) {
  char path[512];
  assert_true(ireed_test_shared_path(relative, path, sizeof(path)));
  uint8_t* data = NULL;
  size_t size = 0;
  assert_true(ireed_test_read_file(path, &data, &size));
  irvm_module_def_t def;
  irt_status_t status =
      irvm_module_def_parse(data, size, irt_allocator_system(), &def);
  if (status != IRT_OK) {  // e.g. older bytecode versions
    irt_status_free(status);
    free(data);
    return;
  }
  print_message("rebuilding %s\n", relative);
  char name[256];
  snprintf(name, sizeof(name), "%.*s", IRT_SV_ARG(def.name));
  irvm_module_builder_t* builder = NULL;
  ASSERT_OK(irvm_module_builder_create(irt_allocator_system(), name,
                                       def.version, &builder));
  char key[1024], value[4096];
  for (uint32_t i = 0; i < def.attr_count; ++i) {
    snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(def.attrs[i].key));
    snprintf(value, sizeof(value), "%.*s", IRT_SV_ARG(def.attrs[i].value));
    ASSERT_OK(irvm_module_builder_add_attr(builder, key, value));
  }
  for (uint32_t i = 0; i < def.type_count; ++i) {
    snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(def.types[i]));
    irvm_type_t type;
    ASSERT_OK(irvm_module_builder_add_type(builder, key, &type));
    assert_int_equal(irvm_module_builder_type_id(builder, type), type.handle);
  }
  for (uint32_t i = 0; i < def.dependency_count; ++i) {
    snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(def.dependencies[i].name));
    ASSERT_OK(irvm_module_builder_add_dependency(
        builder, key, def.dependencies[i].minimum_version,
        def.dependencies[i].flags));
  }
  for (uint32_t i = 0; i < def.import_count; ++i) {
    const irvm_import_def_t* import = &def.imports[i];
    snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(import->full_name));
    snprintf(value, sizeof(value), "%.*s",
             IRT_SV_ARG(import->signature.calling_convention));
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_import(builder, key, value, import->flags,
                                             &ordinal));
  }
  for (uint32_t i = 0; i < def.rodata_count; ++i) {
    const irvm_rodata_def_t* r = &def.rodata[i];
    irvm_rodata_options_t options = {.placement = IRVM_RODATA_EMBEDDED};
    char entry[256];
    if (r->is_external) {
      options.placement = IRVM_RODATA_EXTERNAL;
      rodata_entry(&def, r, &options, entry, sizeof(entry));
    }
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_rodata(
        builder, r->data, (size_t)r->length, &options, &ordinal));
  }
  ASSERT_OK(irvm_module_builder_set_module_state(
      builder, def.global_bytes_capacity, def.global_ref_count));
  for (uint32_t i = 0; i < def.export_count; ++i) {
    snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(def.exports[i].local_name));
    ASSERT_OK(irvm_module_builder_add_export(
        builder, key, def.exports[i].internal_ordinal, NULL));
  }
  for (uint32_t f = 0; f < def.function_count; ++f) {
    const irvm_signature_def_t* signature = &def.function_signatures[f];
    snprintf(value, sizeof(value), "%.*s",
             IRT_SV_ARG(signature->calling_convention));
    irvm_function_builder_t* fn = NULL;
    ASSERT_OK(irvm_module_builder_begin_function(builder, value, &fn));
    for (uint32_t a = 0; a < signature->attr_count; ++a) {
      snprintf(key, sizeof(key), "%.*s", IRT_SV_ARG(signature->attrs[a].key));
      snprintf(value, sizeof(value), "%.*s",
               IRT_SV_ARG(signature->attrs[a].value));
      ASSERT_OK(irvm_fn_add_attr(fn, key, value));
    }
    rebuild_function(&def, f, fn);
  }

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  const irvm_module_def_t* copy = &m.def;
  assert_true(irt_string_view_equal(copy->name, def.name));
  assert_int_equal(copy->requirements, def.requirements);
  assert_int_equal(copy->import_count, def.import_count);
  assert_int_equal(copy->export_count, def.export_count);
  assert_int_equal(copy->type_count, def.type_count);
  for (uint32_t i = 0; i < def.type_count; ++i) {
    assert_true(irt_string_view_equal(copy->types[i], def.types[i]));
  }
  assert_int_equal(copy->function_count, def.function_count);
  for (uint32_t f = 0; f < def.function_count; ++f) {
    const irvm_function_descriptor_t* a = &def.function_descriptors[f];
    const irvm_function_descriptor_t* b = &copy->function_descriptors[f];
    assert_int_equal(b->bytecode_offset, a->bytecode_offset);
    assert_int_equal(b->bytecode_length, a->bytecode_length);
    assert_int_equal(b->requirements, a->requirements);
    assert_int_equal(b->block_count, a->block_count);
    assert_int_equal(b->i32_register_count, a->i32_register_count);
    assert_int_equal(b->ref_register_count, a->ref_register_count);
    assert_memory_equal(copy->bytecode_data + b->bytecode_offset,
                        def.bytecode_data + a->bytecode_offset,
                        a->bytecode_length);
    assert_true(
        irt_string_view_equal(copy->function_signatures[f].calling_convention,
                              def.function_signatures[f].calling_convention));
  }
  assert_int_equal(copy->bytecode_size, def.bytecode_size);
  assert_int_equal(copy->rodata_count, def.rodata_count);
  for (uint32_t i = 0; i < def.rodata_count; ++i) {
    assert_int_equal(copy->rodata[i].is_external, def.rodata[i].is_external);
    assert_int_equal(copy->rodata[i].length, def.rodata[i].length);
    assert_int_equal(copy->rodata[i].external_offset,
                     def.rodata[i].external_offset);
    if (def.rodata[i].length) {
      assert_memory_equal(copy->rodata[i].data, def.rodata[i].data,
                          def.rodata[i].length);
    }
  }
  // Everything after the FlatBuffer (external files and the ZIP directory,
  // whose local header offsets depend on the FlatBuffer size) has the same
  // length.
  assert_int_equal(m.size - copy->rodata_base, size - def.rodata_base);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
  irvm_module_def_deinit(&def);
  free(data);
}

static int compare_names(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

static void test_rebuild_corpus(void** state) {
  (void)state;
  const char* subdirs[] = {"conformance/v3.11", "conformance/negative"};
  size_t rebuilt = 0;
  for (size_t s = 0; s < 2; ++s) {
    char dir_path[512];
    if (!ireed_test_shared_path(subdirs[s], dir_path, sizeof(dir_path))) {
      skip();
    }
    DIR* dir = opendir(dir_path);
    assert_non_null(dir);
    char* names[64];
    size_t count = 0;
    struct dirent* entry;
    while ((entry = readdir(dir)) && count < 64) {
      size_t length = strlen(entry->d_name);
      if (length > 5 && strcmp(entry->d_name + length - 5, ".vmfb") == 0) {
        names[count++] = strdup(entry->d_name);
      }
    }
    closedir(dir);
    qsort(names, count, sizeof(names[0]), compare_names);
    for (size_t i = 0; i < count; ++i) {
      char relative[512];
      snprintf(relative, sizeof(relative), "%s/%s", subdirs[s], names[i]);
      rebuild_module(relative);
      free(names[i]);
      ++rebuilt;
    }
  }
  assert_true(rebuilt >= 8);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_mul_by_hand),
      cmocka_unit_test(test_rebuild_corpus),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
