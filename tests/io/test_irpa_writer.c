// The IRPA writer: the conformance archives rebuilt from their own entries
// come out byte-identical (the layout IREE's tools write), and what it
// writes reads back.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/irpa_writer.h"
#include "tests/io/io_testing.h"

// Writes |entries| into memory; the caller frees *out_data.
static irt_status_t io_write(const irio_irpa_writer_entry_t* entries,
                             size_t count, uint8_t** out_data,
                             size_t* out_size) {
  char* buffer = NULL;
  FILE* file = open_memstream(&buffer, out_size);
  assert_non_null(file);
  irt_status_t status = irio_irpa_write(entries, count, file, "memory");
  assert_int_equal(fclose(file), 0);
  *out_data = (uint8_t*)buffer;
  return status;
}

static void test_conformance_archives_rebuild_identically(void** state) {
  (void)state;
  for (size_t i = 0; i < io_archive_case_count; ++i) {
    const io_archive_case_t* archive = &io_archive_cases[i];
    if (archive->format != IRIO_ARCHIVE_FORMAT_IRPA) continue;
    uint8_t* original = NULL;
    size_t size = 0;
    if (!io_read_shared(archive->path, &original, &size)) skip();
    io_entries_t entries;
    io_expect_ok(io_parse(archive->format, original, size, &entries));
    irio_irpa_writer_entry_t rebuilt[IO_MAX_ENTRIES];
    for (size_t e = 0; e < entries.count; ++e) {
      const irio_entry_t* entry = &entries.items[e];
      rebuilt[e] = (irio_irpa_writer_entry_t){
          .key = entry->key,
          .metadata = entry->metadata,
          .storage = entry->storage,
          .length = entry->length,
          .data = original + entry->file_offset,
          .pattern_length = entry->pattern_length,
      };
      memcpy(rebuilt[e].pattern, entry->pattern, sizeof(entry->pattern));
    }
    uint8_t* written = NULL;
    size_t written_size = 0;
    io_expect_ok(io_write(rebuilt, entries.count, &written, &written_size));
    if (written_size != size || memcmp(written, original, size) != 0) {
      size_t at = 0;
      while (at < size && at < written_size && written[at] == original[at]) {
        ++at;
      }
      fail_msg("%s: rebuilt archive differs at byte %zu (%zu vs %zu bytes)",
               archive->path, at, written_size, size);
    }
    free(written);
    free(original);
  }
}

static void test_round_trip(void** state) {
  (void)state;
  static const char kPayload[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  irio_irpa_writer_entry_t entries[5] = {
      {.key = irt_make_cstring_view("text"),
       .metadata = irt_make_cstring_view("PYTORCH:{\"shape\": [36]}"),
       .storage = IRIO_ENTRY_STORAGE_FILE,
       .length = 36,
       .data = kPayload},
      {.key = irt_make_string_view("", 0),  // empty keys are allowed
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 32,
       .pattern_length = 16,
       .pattern = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
      {.key = irt_make_cstring_view("empty"),
       .storage = IRIO_ENTRY_STORAGE_FILE,
       .length = 0,
       .data = NULL},
      {.key = irt_make_cstring_view("tail"),
       .storage = IRIO_ENTRY_STORAGE_FILE,
       .length = 3,
       .data = "xyz"},
      {.key = irt_make_cstring_view("big splat"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = UINT64_C(1) << 40,
       .pattern_length = 2,
       .pattern = {0xAB, 0xCD}},
  };
  uint8_t* data = NULL;
  size_t size = 0;
  io_expect_ok(io_write(entries, 5, &data, &size));
  assert_int_equal(size % 4096, 0);
  io_entries_t parsed;
  io_expect_ok(io_parse(IRIO_ARCHIVE_FORMAT_IRPA, data, size, &parsed));
  assert_int_equal(parsed.count, 5);
  for (size_t i = 0; i < 5; ++i) {
    assert_true(irt_string_view_equal(parsed.items[i].key, entries[i].key));
    assert_true(
        irt_string_view_equal(parsed.items[i].metadata, entries[i].metadata));
    assert_int_equal(parsed.items[i].storage, entries[i].storage);
    assert_int_equal(parsed.items[i].length, entries[i].length);
    if (entries[i].storage == IRIO_ENTRY_STORAGE_SPLAT) {
      assert_int_equal(parsed.items[i].pattern_length,
                       entries[i].pattern_length);
      assert_memory_equal(parsed.items[i].pattern, entries[i].pattern,
                          entries[i].pattern_length);
    } else if (entries[i].length) {
      // Payloads are 64-byte aligned.
      assert_int_equal(parsed.items[i].file_offset % 64, 0);
      assert_memory_equal(data + parsed.items[i].file_offset, entries[i].data,
                          entries[i].length);
    }
  }
  free(data);
}

static void test_rejects_bad_splats(void** state) {
  (void)state;
  const struct {
    uint8_t pattern_length;
    uint64_t length;
  } kBad[] = {{0, 0}, {3, 6}, {32, 32}, {4, 6}};
  for (size_t i = 0; i < sizeof(kBad) / sizeof(kBad[0]); ++i) {
    irio_irpa_writer_entry_t entry = {
        .key = irt_make_cstring_view("bad"),
        .storage = IRIO_ENTRY_STORAGE_SPLAT,
        .length = kBad[i].length,
        .pattern_length = kBad[i].pattern_length,
    };
    uint8_t* data = NULL;
    size_t size = 0;
    io_expect_error(io_write(&entry, 1, &data, &size),
                    IRT_STATUS_INVALID_ARGUMENT, "entry 0 ('bad')");
    assert_int_equal(size, 0);  // nothing written
    free(data);
  }
}

static void test_reports_write_failures(void** state) {
  (void)state;
  FILE* full = fopen("/dev/full", "wb");
  if (!full) skip();
  irio_irpa_writer_entry_t entry = {.key = irt_make_cstring_view("k"),
                                    .storage = IRIO_ENTRY_STORAGE_FILE,
                                    .length = 4,
                                    .data = "abcd"};
  io_expect_error(irio_irpa_write(&entry, 1, full, "full.irpa"),
                  IRT_STATUS_DATA_LOSS, "writing 'full.irpa'");
  fclose(full);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conformance_archives_rebuild_identically),
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_rejects_bad_splats),
      cmocka_unit_test(test_reports_write_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
