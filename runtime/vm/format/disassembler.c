#include "runtime/vm/format/disassembler.h"

#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

// An snprintf-style text accumulator: |length| counts what the full text
// needs even when |capacity| is exhausted.
typedef struct irvm_text_s {
  char* data;
  size_t capacity;
  size_t length;
} irvm_text_t;

IRT_PRINTF_LIKE(2, 3)
static void irvm_text_append(irvm_text_t* text, const char* format, ...) {
  size_t room =
      text->length < text->capacity ? text->capacity - text->length : 0;
  va_list args;
  va_start(args, format);
  int written =
      vsnprintf(room ? text->data + text->length : NULL, room, format, args);
  va_end(args);
  if (written > 0) text->length += (size_t)written;
}

// Drops everything appended after |length| (to undo a failed attempt).
static void irvm_text_truncate(irvm_text_t* text, size_t length) {
  text->length = length;
  if (length < text->capacity) text->data[length] = 0;
}

// Printable ASCII as is, quotes and backslashes escaped, the rest as \xHH.
static void irvm_text_quoted(irvm_text_t* text, const char* data, size_t size) {
  irvm_text_append(text, "\"");
  for (size_t i = 0; i < size; ++i) {
    unsigned char c = (unsigned char)data[i];
    if (c == '"' || c == '\\') {
      irvm_text_append(text, "\\%c", c);
    } else if (c >= 0x20 && c < 0x7F) {
      irvm_text_append(text, "%c", c);
    } else {
      irvm_text_append(text, "\\x%02X", c);
    }
  }
  irvm_text_append(text, "\"");
}

static void irvm_text_register(irvm_text_t* text, uint16_t reg, bool pair) {
  if (irvm_register_is_ref(reg)) {
    irvm_text_append(text, "%%%c%u", irvm_register_is_move(reg) ? 'R' : 'r',
                     irvm_register_ordinal(reg));
  } else if (pair) {
    irvm_text_append(text, "%%i%u:%u", irvm_register_ordinal(reg),
                     irvm_register_ordinal(reg) + 1u);
  } else {
    irvm_text_append(text, "%%i%u", irvm_register_ordinal(reg));
  }
}

// Immediates: small magnitudes in decimal, bit patterns in hex.
static void irvm_text_immediate(irvm_text_t* text, int64_t value,
                                uint64_t bits) {
  if (value > -65536 && value < 65536) {
    irvm_text_append(text, "%lld", (long long)value);
  } else {
    irvm_text_append(text, "0x%llX", (unsigned long long)bits);
  }
}

size_t irvm_function_name(const irvm_module_def_t* def, uint32_t function,
                          char* buffer, size_t capacity) {
  irvm_text_t text = {buffer, capacity, 0};
  if (capacity) buffer[0] = 0;
  if (function & IRVM_FUNCTION_IMPORT_BIT) {
    uint32_t ordinal = function & ~IRVM_FUNCTION_IMPORT_BIT;
    if (ordinal < def->import_count) {
      irvm_text_append(&text, "%.*s",
                       IRT_SV_ARG(def->imports[ordinal].full_name));
    } else {
      irvm_text_append(&text, "<import %u out of range>", ordinal);
    }
    return text.length;
  }
  for (uint32_t i = 0; i < def->export_count; ++i) {
    if (def->exports[i].internal_ordinal == function) {
      irvm_text_append(&text, "%.*s", IRT_SV_ARG(def->exports[i].local_name));
      return text.length;
    }
  }
  irvm_text_append(&text, "%.*s@%u", IRT_SV_ARG(def->name), function);
  return text.length;
}

static irt_string_view_t irvm_function_cconv(const irvm_module_def_t* def,
                                             uint32_t function) {
  if (function & IRVM_FUNCTION_IMPORT_BIT) {
    uint32_t ordinal = function & ~IRVM_FUNCTION_IMPORT_BIT;
    if (ordinal < def->import_count) {
      return def->imports[ordinal].signature.calling_convention;
    }
  } else if (function < def->function_count) {
    return def->function_signatures[function].calling_convention;
  }
  return irt_make_string_view("", 0);
}

// Splits a cconv ("0rIiCID_r") into its argument and result parts without
// the "v" placeholders; false for an unknown cconv version.
static bool irvm_cconv_split(irt_string_view_t cconv, irt_string_view_t* args,
                             irt_string_view_t* results) {
  *args = irt_make_string_view("", 0);
  *results = irt_make_string_view("", 0);
  if (cconv.size == 0) return true;
  if (cconv.data[0] != '0') return false;
  const char* begin = cconv.data + 1;
  const char* end = cconv.data + cconv.size;
  const char* split = memchr(begin, '_', (size_t)(end - begin));
  *args = irt_make_string_view(begin, (size_t)((split ? split : end) - begin));
  if (split)
    *results = irt_make_string_view(split + 1, (size_t)(end - split - 1));
  if (irt_string_view_equal_cstring(*args, "v")) args->size = 0;
  if (irt_string_view_equal_cstring(*results, "v")) results->size = 0;
  return true;
}

// Renders the registers of |list| grouped by the cconv part |types| (and the
// segment sizes |segs| for spans). Returns false, leaving |text| unchanged,
// when the list does not follow |types| exactly.
static bool irvm_text_cconv_list(irvm_text_t* text, irt_string_view_t types,
                                 const irvm_operand_t* list,
                                 const irvm_operand_t* segs) {
  size_t start = text->length;
  uint16_t entry = 0;
  uint16_t argument = 0;  // top-level index into |segs|
  for (size_t i = 0; i < types.size; ++i, ++argument) {
    char type = types.data[i];
    if (i) irvm_text_append(text, ", ");
    size_t span_begin = i, span_end = i + 1;
    uint32_t repeat = 1;
    bool is_span = type == 'C';
    if (is_span) {
      const char* close = memchr(types.data + i, 'D', types.size - i);
      if (!close || !segs || argument >= segs->list.count) goto mismatch;
      int16_t count = (int16_t)irvm_operand_list_entry(segs, argument);
      if (count < 0) goto mismatch;
      span_begin = i + 1;
      span_end = (size_t)(close - types.data);
      repeat = (uint32_t)count;
      i = span_end;
      irvm_text_append(text, "[");
    }
    bool tuple = is_span && span_end - span_begin > 1;
    for (uint32_t r = 0; r < repeat; ++r) {
      if (r) irvm_text_append(text, ", ");
      if (tuple) irvm_text_append(text, "(");
      for (size_t k = span_begin; k < span_end; ++k) {
        char element = types.data[k];
        if (!strchr("iIfFr", element) || entry >= list->list.count) {
          goto mismatch;
        }
        if (k > span_begin) irvm_text_append(text, ", ");
        irvm_text_register(text, irvm_operand_list_entry(list, entry++),
                           element == 'I' || element == 'F');
      }
      if (tuple) irvm_text_append(text, ")");
    }
    if (is_span) irvm_text_append(text, "]");
  }
  if (entry == list->list.count) return true;
mismatch:
  irvm_text_truncate(text, start);
  return false;
}

static void irvm_text_list(irvm_text_t* text, const irvm_operand_t* list) {
  for (uint16_t i = 0; i < list->list.count; ++i) {
    uint16_t entry = irvm_operand_list_entry(list, i);
    if (i) irvm_text_append(text, ", ");
    if (list->kind == 'S') {
      irvm_text_append(text, "%d", (int16_t)entry);
    } else {
      irvm_text_register(text, entry, list->kind == 'K');
    }
  }
}

// A list rendered by |cconv_part| when it matches (returns true), else
// entry by entry.
static bool irvm_text_typed_list(irvm_text_t* text, bool cconv_ok,
                                 irt_string_view_t cconv_part,
                                 const irvm_operand_t* list,
                                 const irvm_operand_t* segs) {
  if (cconv_ok && irvm_text_cconv_list(text, cconv_part, list, segs)) {
    return true;
  }
  irvm_text_list(text, list);
  return false;
}

static void irvm_text_branch(irvm_text_t* text, const irvm_branch_t* branch) {
  irvm_text_append(text, "^%04X", branch->target);
  if (branch->remap_count == 0) return;
  irvm_text_append(text, "(");
  for (uint16_t i = 0; i < branch->remap_count; ++i) {
    uint16_t src = 0, dst = 0;
    irvm_branch_remap(branch, i, &src, &dst);
    if (i) irvm_text_append(text, ", ");
    irvm_text_register(text, src, false);
    irvm_text_append(text, " -> ");
    irvm_text_register(text, dst, false);
  }
  irvm_text_append(text, ")");
}

static void irvm_text_operand(irvm_text_t* text, const irvm_module_def_t* def,
                              const irvm_operand_t* operand) {
  char name[256];
  switch (operand->kind) {
    case 'i':
    case 'r':
    case 'R':
      irvm_text_register(text, operand->reg, false);
      break;
    case 'I':
      irvm_text_register(text, operand->reg, true);
      break;
    case 'c':
      irvm_text_immediate(text, (int32_t)operand->u32, operand->u32);
      break;
    case 'C':
      irvm_text_immediate(text, (int64_t)operand->u64, operand->u64);
      break;
    case 'g':
      irvm_text_append(text, "@glob+%u", operand->u32);
      break;
    case 'G':
      irvm_text_append(text, "@gref%u", operand->u32);
      break;
    case 'd':
      irvm_text_append(text, "@rodata%u", operand->u32);
      break;
    case 't':
      if (operand->u32 < def->type_count) {
        irvm_text_append(text, "%.*s", IRT_SV_ARG(def->types[operand->u32]));
      } else {
        irvm_text_append(text, "<type %u out of range>", operand->u32);
      }
      break;
    case 'f':
      irvm_function_name(def, operand->u32, name, sizeof(name));
      irvm_text_append(text, "@%s", name);
      break;
    case 's':
      irvm_text_quoted(text, operand->string.data, operand->string.size);
      break;
    case 'L':
    case 'Q':
    case 'J':
    case 'K':
    case 'M':
    case 'S':
      irvm_text_append(text, "[");
      irvm_text_list(text, operand);
      irvm_text_append(text, "]");
      break;
    case 'B':
    case 'b':
      irvm_text_branch(text, &operand->branch);
      break;
    case 'T': {
      irvm_br_table_iterator_t iterator;
      irvm_branch_t branch;
      irvm_br_table_begin(operand, &iterator);
      irvm_text_append(text, "[");
      for (uint32_t i = 0; irvm_br_table_next(&iterator, &branch); ++i) {
        irvm_text_append(text, "%s%u: ", i ? ", " : "", i);
        irvm_text_branch(text, &branch);
      }
      irvm_text_append(text, "]");
      break;
    }
    default:
      irvm_text_append(text, "<?>");
      break;
  }
}

// Short printable rodata (keys, format names) is shown as a comment.
static void irvm_text_rodata_comment(irvm_text_t* text,
                                     const irvm_module_def_t* def,
                                     uint32_t ordinal) {
  if (ordinal >= def->rodata_count) return;
  const irvm_rodata_def_t* segment = &def->rodata[ordinal];
  if (segment->length == 0 || segment->length > 64) return;
  for (uint64_t i = 0; i < segment->length; ++i) {
    if (segment->data[i] < 0x20 || segment->data[i] >= 0x7F) return;
  }
  irvm_text_append(text, "  // ");
  irvm_text_quoted(text, (const char*)segment->data, (size_t)segment->length);
}

static bool irvm_is_call(const irvm_instruction_t* instruction) {
  if (instruction->info->table != IRVM_OP_TABLE_CORE) return false;
  switch (instruction->info->opcode) {
    case IRVM_OP_CALL:
    case IRVM_OP_CALL_VARIADIC:
    case IRVM_OP_CALL_YIELDABLE:
    case IRVM_OP_CALL_VARIADIC_YIELDABLE:
      return true;
    default:
      return false;
  }
}

// "%r0 = vm.call @callee(args) -> ^resume", operands grouped by the callee's
// cconv.
static void irvm_text_call(irvm_text_t* text, const irvm_module_def_t* def,
                           const irvm_instruction_t* instruction) {
  const irvm_operand_t* callee = NULL;
  const irvm_operand_t* segs = NULL;
  const irvm_operand_t* args = NULL;
  const irvm_operand_t* resume = NULL;
  const irvm_operand_t* results = NULL;
  for (uint8_t i = 0; i < instruction->operand_count; ++i) {
    const irvm_operand_t* operand = &instruction->operands[i];
    switch (operand->kind) {
      case 'f':
        callee = operand;
        break;
      case 'S':
        segs = operand;
        break;
      case 'b':
        resume = operand;
        break;
      case 'L':
        *(operand->is_result ? &results : &args) = operand;
        break;
      default:
        break;
    }
  }
  irt_string_view_t cconv_args, cconv_results;
  bool cconv_ok = irvm_cconv_split(irvm_function_cconv(def, callee->u32),
                                   &cconv_args, &cconv_results);
  if (results->list.count) {
    irvm_text_typed_list(text, cconv_ok, cconv_results, results, NULL);
    irvm_text_append(text, " = ");
  }
  irvm_text_append(text, "%s ", instruction->info->mnemonic);
  irvm_text_operand(text, def, callee);
  irvm_text_append(text, "(");
  bool grouped = irvm_text_typed_list(text, cconv_ok, cconv_args, args, segs);
  irvm_text_append(text, ")");
  if (segs && !grouped) {
    irvm_text_append(text, " segs[");
    irvm_text_list(text, segs);
    irvm_text_append(text, "]");
  }
  if (resume) {
    irvm_text_append(text, " -> ");
    irvm_text_branch(text, &resume->branch);
  }
}

size_t irvm_disassemble_instruction(const irvm_module_def_t* def,
                                    uint32_t function_ordinal,
                                    const irvm_instruction_t* instruction,
                                    char* buffer, size_t capacity) {
  irvm_text_t text = {buffer, capacity, 0};
  if (capacity) buffer[0] = 0;
  const irvm_op_info_t* info = instruction->info;
  if (info->table == IRVM_OP_TABLE_CORE && info->opcode == IRVM_OP_BLOCK) {
    irvm_text_append(&text, "^%04X:", instruction->pc);
    return text.length;
  }
  if (irvm_is_call(instruction)) {
    irvm_text_call(&text, def, instruction);
    return text.length;
  }
  if (info->table == IRVM_OP_TABLE_CORE && info->opcode == IRVM_OP_RETURN) {
    irt_string_view_t cconv_args, cconv_results;
    bool cconv_ok = irvm_cconv_split(irvm_function_cconv(def, function_ordinal),
                                     &cconv_args, &cconv_results);
    irvm_text_append(&text, "%s", info->mnemonic);
    if (instruction->operands[0].list.count) irvm_text_append(&text, " ");
    irvm_text_typed_list(&text, cconv_ok, cconv_results,
                         &instruction->operands[0], NULL);
    return text.length;
  }
  // Results first, then the mnemonic and the other operands in order.
  uint8_t result_count = 0, operand_count = 0;
  for (uint8_t i = 0; i < instruction->operand_count; ++i) {
    if (instruction->operands[i].is_result) {
      irvm_text_append(&text, "%s", result_count++ ? ", " : "");
      irvm_text_operand(&text, def, &instruction->operands[i]);
    } else {
      ++operand_count;
    }
  }
  if (result_count) irvm_text_append(&text, " = ");
  irvm_text_append(&text, "%s", info->mnemonic);
  uint8_t printed = 0;
  for (uint8_t i = 0; i < instruction->operand_count; ++i) {
    const irvm_operand_t* operand = &instruction->operands[i];
    if (operand->is_result) continue;
    irvm_text_append(&text, printed++ ? ", " : " ");
    bool lone_list = operand_count == 1 && strchr("LQJKM", operand->kind);
    if (lone_list) {
      irvm_text_list(&text, operand);
    } else {
      irvm_text_operand(&text, def, operand);
    }
  }
  for (uint8_t i = 0; i < instruction->operand_count; ++i) {
    if (instruction->operands[i].kind == 'd') {
      irvm_text_rodata_comment(&text, def, instruction->operands[i].u32);
    }
  }
  return text.length;
}

irt_status_t irvm_disassemble_function(const irvm_module_def_t* def,
                                       uint32_t function_ordinal,
                                       const char* indent, FILE* out) {
  if (function_ordinal >= def->function_count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "internal function %u out of range (%u functions)",
                           function_ordinal, def->function_count);
  }
  const irvm_function_descriptor_t* descriptor =
      &def->function_descriptors[function_ordinal];
  const uint8_t* code = def->bytecode_data + descriptor->bytecode_offset;
  uint32_t length = descriptor->bytecode_length;
  char line[1024];
  irvm_instruction_t instruction;
  for (uint32_t pc = 0; pc < length; pc = instruction.next_pc) {
    irt_status_t status =
        irvm_instruction_decode(code, length, pc, &instruction);
    if (status != IRT_OK) {
      char name[256];
      irvm_function_name(def, function_ordinal, name, sizeof(name));
      irt_status_format_brief(status, line, sizeof(line));
      fprintf(out, "%s%04X  <error: %s>\n", indent, pc, line);
      return irt_status_annotate(status, "in function %s (internal %u)", name,
                                 function_ordinal);
    }
    size_t needed = irvm_disassemble_instruction(
        def, function_ordinal, &instruction, line, sizeof(line));
    fprintf(out, "%s%04X  %s%s\n", indent, pc, line,
            needed >= sizeof(line) ? "..." : "");
  }
  return IRT_OK;
}
