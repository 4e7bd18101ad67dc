// Test helper: pulls the embedded ELF out of a conformance .vmfb.
//
// The compiler stores each executable binary as its own ZIP entry after the
// FlatBuffer (vm-bytecode.md 1.4), e.g.
// `simple_mul_dispatch_0_embedded_elf_x86_64.so`. Until the real module
// reader can hand out rodata segments, tests locate it by scanning the ZIP
// local file headers for the first entry whose name ends in ".so".
#ifndef IREED_TESTS_HAL_CPU_VMFB_ELF_H
#define IREED_TESTS_HAL_CPU_VMFB_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct test_elf_s {
  uint8_t* file;        // whole .vmfb (free with test_elf_free)
  const uint8_t* data;  // the ELF inside |file|
  size_t size;
  char name[128];  // ZIP entry name
} test_elf_t;

// Reads "$IREED_SHARED_DIR/conformance/<relative>" and finds its ELF entry.
// Returns false when the corpus is absent (after printing why; the caller
// skips) and fails the test when the file has no ELF entry.
bool test_elf_load(const char* relative, test_elf_t* out_elf);
void test_elf_free(test_elf_t* elf);

// Copies |size| bytes of |data| to a fresh heap block at an address that is
// deliberately NOT 16-byte aligned (loaders must not assume alignment) and
// that ends exactly at the block's end (so ASan catches over-reads). Free
// |*out_allocation| with free().
uint8_t* test_copy_misaligned(const uint8_t* data, size_t size,
                              uint8_t** out_allocation);

#endif  // IREED_TESTS_HAL_CPU_VMFB_ELF_H
