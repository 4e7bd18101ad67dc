// Access to the shared conformance corpus ($IREED_SHARED_DIR/conformance)
// for the vm_format tests. Tests that need it call IRVM_TEST_REQUIRE_CORPUS()
// first, which skips them with a message when the corpus is absent.
#ifndef IRVM_TESTS_VM_FORMAT_CORPUS_H
#define IRVM_TESTS_VM_FORMAT_CORPUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/vm/format/module_def.h"

// Writes "$IREED_SHARED_DIR/conformance/<relative>" into |path|; false (after
// printing why, once) when the corpus directory is missing.
bool irvm_test_corpus_path(const char* relative, char* path, size_t capacity);

#define IRVM_TEST_REQUIRE_CORPUS()                           \
  do {                                                       \
    char irvm_corpus_path_[512];                             \
    if (!irvm_test_corpus_path("", irvm_corpus_path_,        \
                               sizeof(irvm_corpus_path_))) { \
      skip();                                                \
    }                                                        \
  } while (0)

// Reads a whole file into a 64-byte aligned allocation of exactly its size
// (so that AddressSanitizer catches any read past the end). Fails the test on
// error. Free with free().
uint8_t* irvm_test_read_file(const char* path, size_t* out_size);
// Same for a corpus file given relative to the corpus directory.
uint8_t* irvm_test_read_corpus_file(const char* relative, size_t* out_size);

// A copy of |size| bytes of |data| in an exact-size allocation.
uint8_t* irvm_test_copy(const uint8_t* data, size_t size);

// Corpus-relative paths ("v3.11/add.vmfb") of every .vmfb in |subdir|,
// sorted, as a NULL-terminated array; free with irvm_test_free_list.
char** irvm_test_list_modules(const char* subdir);
void irvm_test_free_list(char** list);

// Parses |data| with the system allocator, failing the test on error.
void irvm_test_parse_ok(const uint8_t* data, size_t size,
                        irvm_module_def_t* out_def);

// Walks every instruction of every function of |def| (and, if |format|,
// formats it with the disassembler); returns the number of functions that
// failed to decode.
uint32_t irvm_test_decode_all(const irvm_module_def_t* def, bool format);

#endif  // IRVM_TESTS_VM_FORMAT_CORPUS_H
