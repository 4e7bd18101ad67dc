// Helpers shared by the runtime/io and io_parameters tests: collecting
// parsed entries, the conformance archives and their expected listings
// (HAL spec 3.5), status assertions and scratch files.
#ifndef IREED_TESTS_IO_IO_TESTING_H
#define IREED_TESTS_IO_IO_TESTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/io/archive.h"

#define IO_MAX_ENTRIES 16

typedef struct io_entries_s {
  size_t count;
  irio_entry_t items[IO_MAX_ENTRIES];
} io_entries_t;

// An irio_entry_fn_t appending to an io_entries_t (fails past the capacity).
irt_status_t io_collect(void* user_data, const irio_entry_t* entry);

// Parses |size| bytes of |format| into |entries| (reset first).
irt_status_t io_parse(irio_archive_format_t format, const uint8_t* data,
                      size_t size, io_entries_t* entries);

// An expected entry: FILE [offset, offset + length) or a splat.
typedef struct io_expected_entry_s {
  const char* key;
  bool splat;
  uint64_t offset;
  uint64_t length;
  const char* pattern_hex;  // splats: "66", "ffffffffffffff7f"
} io_expected_entry_t;

typedef struct io_archive_case_s {
  const char* path;  // relative to $IREED_SHARED_DIR
  irio_archive_format_t format;
  size_t count;
  io_expected_entry_t entries[4];
} io_archive_case_t;

// Every archive of conformance/params and v3.11, with what it must list.
extern const io_archive_case_t io_archive_cases[];
extern const size_t io_archive_case_count;

// Asserts |entries| match |expected| exactly.
void io_expect_entries(const io_entries_t* entries,
                       const io_archive_case_t* expected);

// Reads "$IREED_SHARED_DIR/<relative>"; false (with a message) when the
// corpus is absent, so the caller skips.
bool io_read_shared(const char* relative, uint8_t** out_data, size_t* out_size);

// Consumes |status|, asserting its code and that its message contains
// |part| (may be NULL).
void io_expect_error(irt_status_t status, irt_status_code_t code,
                     const char* part);
void io_expect_ok(irt_status_t status);

// A fresh temporary directory (removed by io_remove_dir) and files in it.
void io_make_temp_dir(char* buffer, size_t capacity);
void io_write_file(const char* path, const void* data, size_t size);
void io_remove_dir(const char* dir);

#endif  // IREED_TESTS_IO_IO_TESTING_H
