#include "tests/hal_cpu/vmfb_elf.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "tests/support/test_files.h"

#define ZIP_LOCAL_HEADER_SIZE 30
#define ZIP_LOCAL_SIGNATURE 0x04034B50u
#define ZIP64_EXTRA_ID 0x0001u

static uint16_t read_u16(const uint8_t* p) {
  uint16_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static uint32_t read_u32(const uint8_t* p) {
  uint32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

// The entry's data size: the header's own field, or the zip64 extra record's
// uncompressed size when the header says 0xFFFFFFFF.
static bool entry_size(const uint8_t* extra, size_t extra_size,
                       uint32_t header_size, uint64_t* out_size) {
  *out_size = header_size;
  if (header_size != UINT32_MAX) return true;
  for (size_t i = 0; i + 4 <= extra_size;) {
    uint16_t id = read_u16(extra + i);
    uint16_t length = read_u16(extra + i + 2);
    if (i + 4 + length > extra_size) return false;
    if (id == ZIP64_EXTRA_ID && length >= 8) {
      *out_size = read_u64(extra + i + 4);
      return true;
    }
    i += 4 + (size_t)length;
  }
  return false;
}

static bool find_so_entry(test_elf_t* elf, size_t file_size) {
  const uint8_t* file = elf->file;
  for (size_t i = 0; i + ZIP_LOCAL_HEADER_SIZE <= file_size; ++i) {
    if (read_u32(file + i) != ZIP_LOCAL_SIGNATURE) continue;
    size_t name_length = read_u16(file + i + 26);
    size_t extra_length = read_u16(file + i + 28);
    size_t data_offset = i + ZIP_LOCAL_HEADER_SIZE + name_length + extra_length;
    if (data_offset > file_size) continue;
    const char* name = (const char*)file + i + ZIP_LOCAL_HEADER_SIZE;
    if (name_length < 3 || memcmp(name + name_length - 3, ".so", 3) != 0) {
      continue;
    }
    uint64_t size = 0;
    if (!entry_size(file + i + ZIP_LOCAL_HEADER_SIZE + name_length,
                    extra_length, read_u32(file + i + 22), &size) ||
        size > file_size - data_offset) {
      continue;
    }
    snprintf(elf->name, sizeof(elf->name), "%.*s", (int)name_length, name);
    elf->data = file + data_offset;
    elf->size = (size_t)size;
    return true;
  }
  return false;
}

bool test_elf_load(const char* relative, test_elf_t* out_elf) {
  memset(out_elf, 0, sizeof(*out_elf));
  char path[1024];
  char full[512];
  snprintf(full, sizeof(full), "conformance/%s", relative);
  if (!ireed_test_shared_path(full, path, sizeof(path))) return false;
  size_t file_size = 0;
  if (!ireed_test_read_file(path, &out_elf->file, &file_size)) {
    fail_msg("cannot read %s", path);
  }
  if (!find_so_entry(out_elf, file_size)) {
    free(out_elf->file);
    fail_msg("%s has no .so ZIP entry", path);
  }
  return true;
}

void test_elf_free(test_elf_t* elf) {
  free(elf->file);
  memset(elf, 0, sizeof(*elf));
}

uint8_t* test_copy_misaligned(const uint8_t* data, size_t size,
                              uint8_t** out_allocation) {
  // Exactly one byte of slack in front, none behind: ASan reports any read
  // past |size|.
  uint8_t* allocation = malloc(size + 1);
  assert_non_null(allocation);
  uint8_t* copy = allocation + 1;  // malloc is 16-aligned: +1 never is
  if (size) memcpy(copy, data, size);
  *out_allocation = allocation;
  return copy;
}
