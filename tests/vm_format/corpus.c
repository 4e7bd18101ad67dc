#include "tests/vm_format/corpus.h"

// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/vm/format/decoder.h"
#include "runtime/vm/format/disassembler.h"

bool irvm_test_corpus_path(const char* relative, char* path, size_t capacity) {
  static bool warned = false;
  const char* shared = getenv("IREED_SHARED_DIR");
  struct stat info;
  if (shared) snprintf(path, capacity, "%s/conformance", shared);
  if (!shared || stat(path, &info) != 0 || !S_ISDIR(info.st_mode)) {
    if (!warned) {
      fprintf(stderr,
              "skipping: the conformance corpus is absent ($IREED_SHARED_DIR "
              "is %s%s%s; expected <shared>/conformance)\n",
              shared ? "'" : "unset", shared ? shared : "", shared ? "'" : "");
      warned = true;
    }
    return false;
  }
  snprintf(path, capacity, "%s/conformance/%s", shared, relative);
  return true;
}

uint8_t* irvm_test_read_file(const char* path, size_t* out_size) {
  FILE* file = fopen(path, "rb");
  if (!file) fail_msg("cannot open %s", path);
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  void* data = NULL;
  assert_int_equal(posix_memalign(&data, 64, size > 0 ? (size_t)size : 1), 0);
  if (size > 0 && fread(data, 1, (size_t)size, file) != (size_t)size) {
    fail_msg("cannot read %s", path);
  }
  fclose(file);
  *out_size = (size_t)size;
  return data;
}

uint8_t* irvm_test_read_corpus_file(const char* relative, size_t* out_size) {
  char path[1024];
  assert_true(irvm_test_corpus_path(relative, path, sizeof(path)));
  return irvm_test_read_file(path, out_size);
}

uint8_t* irvm_test_copy(const uint8_t* data, size_t size) {
  void* copy = NULL;
  assert_int_equal(posix_memalign(&copy, 64, size ? size : 1), 0);
  if (size) memcpy(copy, data, size);
  return copy;
}

static int irvm_compare_strings(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

char** irvm_test_list_modules(const char* subdir) {
  char pattern[2048], base[1024];
  assert_true(irvm_test_corpus_path("", base, sizeof(base)));
  snprintf(pattern, sizeof(pattern), "%s%s/*.vmfb", base, subdir);
  glob_t found;
  memset(&found, 0, sizeof(found));
  int result = glob(pattern, 0, NULL, &found);
  assert_true(result == 0 || result == GLOB_NOMATCH);
  char** list = calloc(found.gl_pathc + 1, sizeof(char*));
  assert_non_null(list);
  for (size_t i = 0; i < found.gl_pathc; ++i) {
    list[i] = strdup(found.gl_pathv[i] + strlen(base));
  }
  qsort(list, found.gl_pathc, sizeof(char*), irvm_compare_strings);
  globfree(&found);
  return list;
}

void irvm_test_free_list(char** list) {
  for (char** entry = list; *entry; ++entry) free(*entry);
  free(list);
}

void irvm_test_parse_ok(const uint8_t* data, size_t size,
                        irvm_module_def_t* out_def) {
  irt_status_t status =
      irvm_module_def_parse(data, size, irt_allocator_system(), out_def);
  if (status != IRT_OK) {
    char text[1024];
    irt_status_format(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("parse failed: %s", text);
  }
}

uint32_t irvm_test_decode_all(const irvm_module_def_t* def, bool format) {
  uint32_t failures = 0;
  char text[512];
  for (uint32_t f = 0; f < def->function_count; ++f) {
    const irvm_function_descriptor_t* descriptor =
        &def->function_descriptors[f];
    const uint8_t* code = def->bytecode_data + descriptor->bytecode_offset;
    irvm_instruction_t instruction;
    uint32_t pc = 0;
    while (pc < descriptor->bytecode_length) {
      irt_status_t status = irvm_instruction_decode(
          code, descriptor->bytecode_length, pc, &instruction);
      if (status != IRT_OK) {
        irt_status_free(status);
        ++failures;
        break;
      }
      assert_true(instruction.next_pc > pc);
      assert_true(instruction.next_pc <= descriptor->bytecode_length);
      if (format) {
        irvm_disassemble_instruction(def, f, &instruction, text, sizeof(text));
      }
      pc = instruction.next_pc;
    }
  }
  return failures;
}
