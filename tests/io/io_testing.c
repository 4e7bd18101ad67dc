#include "tests/io/io_testing.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/support/test_files.h"

irt_status_t io_collect(void* user_data, const irio_entry_t* entry) {
  io_entries_t* entries = (io_entries_t*)user_data;
  if (entries->count == IO_MAX_ENTRIES) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "too many entries");
  }
  entries->items[entries->count++] = *entry;
  return IRT_OK;
}

irt_status_t io_parse(irio_archive_format_t format, const uint8_t* data,
                      size_t size, io_entries_t* entries) {
  entries->count = 0;
  return irio_archive_parse(format, data, size, "test", io_collect, entries);
}

#define IO_FILE(key, offset, length) \
  { key, false, offset, length, NULL }
#define IO_SPLAT(key, length, hex) \
  { key, true, 0, length, hex }

// HAL spec 3.5, plus the archives of the v3.11 scale case.
const io_archive_case_t io_archive_cases[] = {
    {"conformance/params/irpa_single.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     1,
     {IO_FILE("key0", 192, 16)}},
    {"conformance/params/irpa_multiple.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     2,
     {IO_FILE("key0", 320, 16), IO_FILE("key1", 384, 5)}},
    {"conformance/params/irpa_mixed.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     4,
     {IO_SPLAT("key2", 1, "66"), IO_SPLAT("key3", 33554432, "ffffffffffffff7f"),
      IO_FILE("key0", 512, 16), IO_FILE("key1", 576, 5)}},
    {"conformance/params/irpa_empty.irpa", IRIO_ARCHIVE_FORMAT_IRPA, 0, {{0}}},
    {"conformance/params/tensor_saved_with_iree_turbine.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     1,
     {IO_FILE("the_torch_tensor", 384, 4)}},
    {"conformance/v3.11/scale_weights.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     1,
     {IO_SPLAT("weight", 16, "00000040")}},
    {"conformance/v3.11/scale_weights_zero.irpa",
     IRIO_ARCHIVE_FORMAT_IRPA,
     1,
     {IO_FILE("weight", 192, 16)}},
    {"conformance/params/gguf_multiple.gguf",
     IRIO_ARCHIVE_FORMAT_GGUF,
     3,
     {IO_FILE("tensor0", 448, 16), IO_FILE("tensor1", 512, 8),
      IO_FILE("tensor2", 576, 48)}},
    {"conformance/params/gguf_single.gguf",
     IRIO_ARCHIVE_FORMAT_GGUF,
     1,
     {IO_FILE("tensor0", 384, 16)}},
    {"conformance/params/gguf_single_v2.gguf",
     IRIO_ARCHIVE_FORMAT_GGUF,
     1,
     {IO_FILE("tensor0", 384, 16)}},
    {"conformance/params/gguf_empty.gguf", IRIO_ARCHIVE_FORMAT_GGUF, 0, {{0}}},
    {"conformance/params/parameter_weight_bias_1.gguf",
     IRIO_ARCHIVE_FORMAT_GGUF,
     2,
     {IO_FILE("weight", 384, 2400), IO_FILE("bias", 2816, 120)}},
    {"conformance/params/safetensors_multiple.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     3,
     {IO_FILE("tensor0", 200, 16), IO_FILE("tensor1", 216, 8),
      IO_FILE("tensor2", 224, 48)}},
    {"conformance/params/safetensors_single.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     1,
     {IO_FILE("tensor0", 72, 16)}},
    {"conformance/params/safetensors_empty.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     0,
     {{0}}},
    {"conformance/params/parameter_weight_bias_1.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     2,
     {IO_FILE("bias", 136, 120), IO_FILE("weight", 256, 2400)}},
    {"conformance/params/parameters_a.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     2,
     {IO_FILE("a0", 120, 32), IO_FILE("a1", 152, 32)}},
    {"conformance/params/parameters_b.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     2,
     {IO_FILE("b0", 128, 64), IO_FILE("b1", 192, 128)}},
    {"conformance/params/parameters_dynamic.safetensors",
     IRIO_ARCHIVE_FORMAT_SAFETENSORS,
     4,
     {IO_FILE("param0", 256, 32), IO_FILE("param1", 288, 32),
      IO_FILE("param2", 320, 32), IO_FILE("param3", 352, 32)}},
};
const size_t io_archive_case_count =
    sizeof(io_archive_cases) / sizeof(io_archive_cases[0]);

static void io_hex(const uint8_t* bytes, size_t length, char* out) {
  for (size_t i = 0; i < length; ++i) sprintf(out + 2 * i, "%02x", bytes[i]);
  out[2 * length] = '\0';
}

void io_expect_entries(const io_entries_t* entries,
                       const io_archive_case_t* expected) {
  if (entries->count != expected->count) {
    fail_msg("%s: %zu entries, expected %zu", expected->path, entries->count,
             expected->count);
  }
  for (size_t i = 0; i < expected->count; ++i) {
    const irio_entry_t* entry = &entries->items[i];
    const io_expected_entry_t* want = &expected->entries[i];
    if (!irt_string_view_equal_cstring(entry->key, want->key)) {
      fail_msg("%s entry %zu: key '%.*s', expected '%s'", expected->path, i,
               IRT_SV_ARG(entry->key), want->key);
    }
    assert_int_equal(entry->length, want->length);
    if (want->splat) {
      assert_int_equal(entry->storage, IRIO_ENTRY_STORAGE_SPLAT);
      char hex[2 * IRIO_SPLAT_PATTERN_CAPACITY + 1];
      io_hex(entry->pattern, entry->pattern_length, hex);
      assert_string_equal(hex, want->pattern_hex);
    } else {
      assert_int_equal(entry->storage, IRIO_ENTRY_STORAGE_FILE);
      assert_int_equal(entry->file_offset, want->offset);
    }
  }
}

bool io_read_shared(const char* relative, uint8_t** out_data,
                    size_t* out_size) {
  char path[4096];
  if (!ireed_test_shared_path(relative, path, sizeof(path))) return false;
  if (!ireed_test_read_file(path, out_data, out_size)) {
    fail_msg("cannot read %s", path);
  }
  return true;
}

void io_expect_error(irt_status_t status, irt_status_code_t code,
                     const char* part) {
  char text[2048];
  irt_status_format_brief(status, text, sizeof(text));
  if (irt_status_code(status) != code || (part && !strstr(text, part))) {
    fail_msg("expected %s containing '%s', got %s: %s",
             irt_status_code_string(code), part ? part : "",
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

void io_expect_ok(irt_status_t status) {
  if (!irt_status_is_ok(status)) {
    char text[2048];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("unexpected error: %s", text);
  }
}

void io_make_temp_dir(char* buffer, size_t capacity) {
  const char* base = getenv("TMPDIR");
  snprintf(buffer, capacity, "%s/ireed-io-XXXXXX",
           base && *base ? base : "/tmp");
  assert_non_null(mkdtemp(buffer));
}

void io_write_file(const char* path, const void* data, size_t size) {
  FILE* file = fopen(path, "wb");
  assert_non_null(file);
  assert_int_equal(fwrite(data, 1, size, file), size);
  assert_int_equal(fclose(file), 0);
}

void io_remove_dir(const char* dir) {
  DIR* handle = opendir(dir);
  if (!handle) return;
  struct dirent* item;
  char path[4096];
  while ((item = readdir(handle))) {
    if (strcmp(item->d_name, ".") == 0 || strcmp(item->d_name, "..") == 0) {
      continue;
    }
    snprintf(path, sizeof(path), "%s/%s", dir, item->d_name);
    unlink(path);
  }
  closedir(handle);
  rmdir(dir);
}
