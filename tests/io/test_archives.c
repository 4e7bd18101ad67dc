// The archive readers: the conformance archives list what HAL spec 3.5 says;
// every truncation and many byte flips of them parse cleanly or fail with a
// status (never a crash, never an entry outside the file); each parsing rule
// of spec 3.2.6, 3.3 and 3.4 on hand-built files.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/bytes.h"
#include "runtime/io/irpa_format.h"
#include "runtime/io/irpa_writer.h"
#include "tests/io/io_testing.h"

//===----------------------------------------------------------------------===//
// Conformance archives
//===----------------------------------------------------------------------===//

static void test_conformance_listings(void** state) {
  (void)state;
  for (size_t i = 0; i < io_archive_case_count; ++i) {
    const io_archive_case_t* expected = &io_archive_cases[i];
    uint8_t* data = NULL;
    size_t size = 0;
    if (!io_read_shared(expected->path, &data, &size)) skip();
    io_entries_t entries;
    io_expect_ok(io_parse(expected->format, data, size, &entries));
    io_expect_entries(&entries, expected);
    if (strstr(expected->path, "iree_turbine")) {
      assert_int_equal(entries.items[0].metadata.size, 181);
      assert_memory_equal(entries.items[0].metadata.data, "PYTORCH:{", 9);
    }
    free(data);
  }
}

// The smallest prefix of a conformance archive that still parses: the end of
// every structure the reader must see, and of every entry's data.
static uint64_t io_required_size(const io_archive_case_t* archive,
                                 const uint8_t* data,
                                 const io_entries_t* entries) {
  uint64_t required = 0;
  switch (archive->format) {
    case IRIO_ARCHIVE_FORMAT_IRPA: {
      required = IRIO_IRPA_HEADER_V0_SIZE;
      const uint32_t segments[] = {IRIO_IRPA_ENTRY_SEGMENT_OFFSET,
                                   IRIO_IRPA_METADATA_SEGMENT_OFFSET,
                                   IRIO_IRPA_STORAGE_SEGMENT_OFFSET};
      for (size_t i = 0; i < 3; ++i) {
        uint64_t length = irio_load_le64(data + segments[i] + 8);
        uint64_t end = irio_load_le64(data + segments[i]) + length;
        if (length && end > required) required = end;
      }
      break;
    }
    case IRIO_ARCHIVE_FORMAT_GGUF:
      required = 24;  // the header; with tensors their data ends later
      break;
    case IRIO_ARCHIVE_FORMAT_SAFETENSORS:
      required = 8 + irio_load_le64(data);
      break;
  }
  for (size_t i = 0; i < entries->count; ++i) {
    const irio_entry_t* entry = &entries->items[i];
    if (entry->storage != IRIO_ENTRY_STORAGE_FILE) continue;
    uint64_t end = entry->file_offset + entry->length;
    if (end > required) required = end;
  }
  return required;
}

// What every successful parse guarantees, whatever the input.
static void io_expect_sane(const io_entries_t* entries, const uint8_t* data,
                           size_t size) {
  for (size_t i = 0; i < entries->count; ++i) {
    const irio_entry_t* entry = &entries->items[i];
    if (entry->key.size) {
      assert_true((const uint8_t*)entry->key.data >= data);
      assert_true((const uint8_t*)entry->key.data + entry->key.size <=
                  data + size);
    }
    if (entry->storage == IRIO_ENTRY_STORAGE_FILE) {
      assert_true(entry->file_offset <= size);
      assert_true(entry->length <= size - entry->file_offset);
    } else {
      assert_true(entry->pattern_length >= 1 && entry->pattern_length <= 16);
      assert_int_equal(entry->pattern_length & (entry->pattern_length - 1), 0);
      assert_int_equal(entry->length % entry->pattern_length, 0);
    }
  }
}

// A failure names the file.
static void io_expect_clean_failure(irt_status_t status) {
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "'test'"));
  assert_null(strchr(text, '\n'));
  irt_status_free(status);
}

static void test_every_truncation(void** state) {
  (void)state;
  for (size_t i = 0; i < io_archive_case_count; ++i) {
    const io_archive_case_t* archive = &io_archive_cases[i];
    uint8_t* data = NULL;
    size_t size = 0;
    if (!io_read_shared(archive->path, &data, &size)) skip();
    io_entries_t entries;
    io_expect_ok(io_parse(archive->format, data, size, &entries));
    uint64_t required = io_required_size(archive, data, &entries);
    for (size_t length = 0; length < size; ++length) {
      // An exact-size copy, so reading past it trips ASan.
      uint8_t* copy = malloc(length ? length : 1);
      memcpy(copy, data, length);
      irt_status_t status = io_parse(archive->format, copy, length, &entries);
      if (length >= required) {
        io_expect_ok(status);
        io_expect_entries(&entries, archive);
      } else if (irt_status_is_ok(status)) {
        fail_msg("%s truncated to %zu of %" PRIu64 " required bytes parsed",
                 archive->path, length, required);
      } else {
        io_expect_clean_failure(status);
      }
      free(copy);
    }
    free(data);
  }
}

static void test_byte_flips(void** state) {
  (void)state;
  static const uint8_t kMasks[] = {0xFF, 0x01, 0x80, 0x40};
  for (size_t i = 0; i < io_archive_case_count; ++i) {
    const io_archive_case_t* archive = &io_archive_cases[i];
    uint8_t* data = NULL;
    size_t size = 0;
    if (!io_read_shared(archive->path, &data, &size)) skip();
    uint8_t* copy = malloc(size);
    for (size_t offset = 0; offset < size; ++offset) {
      for (size_t m = 0; m < sizeof(kMasks); ++m) {
        memcpy(copy, data, size);
        copy[offset] ^= kMasks[m];
        io_entries_t entries;
        irt_status_t status = io_parse(archive->format, copy, size, &entries);
        if (irt_status_is_ok(status)) {
          io_expect_sane(&entries, copy, size);
        } else {
          // A damaged magic is always refused.
          io_expect_clean_failure(status);
        }
        if (offset < 4 && archive->format != IRIO_ARCHIVE_FORMAT_SAFETENSORS) {
          assert_false(irt_status_is_ok(status));
        }
      }
    }
    free(copy);
    free(data);
  }
}

//===----------------------------------------------------------------------===//
// IRPA rules (spec 3.2.6)
//===----------------------------------------------------------------------===//

// An archive written by the writer into memory.
typedef struct io_image_s {
  uint8_t* data;
  size_t size;
} io_image_t;

static io_image_t io_write_irpa(const irio_irpa_writer_entry_t* entries,
                                size_t count) {
  io_image_t image = {NULL, 0};
  char* buffer = NULL;
  size_t size = 0;
  FILE* file = open_memstream(&buffer, &size);
  assert_non_null(file);
  io_expect_ok(irio_irpa_write(entries, count, file, "memory"));
  assert_int_equal(fclose(file), 0);
  image.data = (uint8_t*)buffer;
  image.size = size;
  return image;
}

// Two entries: a DATA "d" of 16 bytes (entry at 96) and a SPLAT "s" of 8
// bytes of a 4-byte pattern (entry at 176).
static io_image_t io_sample_irpa(void) {
  static const uint8_t kBytes[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                     9, 10, 11, 12, 13, 14, 15, 16};
  irio_irpa_writer_entry_t entries[2] = {
      {.key = irt_make_cstring_view("d"),
       .storage = IRIO_ENTRY_STORAGE_FILE,
       .length = sizeof(kBytes),
       .data = kBytes},
      {.key = irt_make_cstring_view("s"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 8,
       .pattern_length = 4,
       .pattern = {0xAA, 0xBB, 0xCC, 0xDD}},
  };
  return io_write_irpa(entries, 2);
}

#define IO_DATA_ENTRY 96
#define IO_SPLAT_ENTRY 176

static void io_expect_irpa_error(io_image_t image, irt_status_code_t code,
                                 const char* part) {
  io_entries_t entries;
  io_expect_error(
      io_parse(IRIO_ARCHIVE_FORMAT_IRPA, image.data, image.size, &entries),
      code, part);
  free(image.data);
}

static void test_irpa_sample_parses(void** state) {
  (void)state;
  io_image_t image = io_sample_irpa();
  io_entries_t entries;
  io_expect_ok(
      io_parse(IRIO_ARCHIVE_FORMAT_IRPA, image.data, image.size, &entries));
  assert_int_equal(entries.count, 2);
  assert_int_equal(entries.items[0].file_offset, 320);
  assert_memory_equal(image.data + 320, "\x01\x02\x03", 3);
  assert_int_equal(entries.items[1].pattern_length, 4);
  free(image.data);
}

static void test_irpa_header_rules(void** state) {
  (void)state;
  io_image_t image = io_sample_irpa();
  image.size = 31;
  io_expect_irpa_error(image, IRT_STATUS_INVALID_ARGUMENT, "shorter than");
  image = io_sample_irpa();
  image.data[0] = 'X';
  io_expect_irpa_error(image, IRT_STATUS_INVALID_ARGUMENT, "magic");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_HEADER_SIZE_OFFSET, 5000);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "header_size 5000");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_NEXT_HEADER_OFFSET, 4090);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "next_header_offset");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_NEXT_HEADER_OFFSET, UINT64_MAX);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "next_header_offset");
  image = io_sample_irpa();
  irio_store_le16(image.data + IRIO_IRPA_VERSION_MAJOR_OFFSET, 1);
  io_expect_irpa_error(image, IRT_STATUS_UNIMPLEMENTED, "version 1.0");
  image = io_sample_irpa();
  irio_store_le16(image.data + IRIO_IRPA_VERSION_MINOR_OFFSET, 1);
  io_expect_irpa_error(image, IRT_STATUS_UNIMPLEMENTED, "version 0.1");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_HEADER_SIZE_OFFSET, 96);
  io_expect_irpa_error(image, IRT_STATUS_INVALID_ARGUMENT, "header_size 96");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_METADATA_SEGMENT_OFFSET + 8, 5000);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "metadata segment");
  image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_STORAGE_SEGMENT_OFFSET, UINT64_MAX);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "storage segment");
}

static void test_irpa_entry_rules(void** state) {
  (void)state;
  io_image_t image = io_sample_irpa();
  irio_store_le64(image.data + IRIO_IRPA_ENTRY_COUNT_OFFSET, 3);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "entry table truncated");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_DATA_ENTRY, 59);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "entry_size 59");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_SPLAT_ENTRY, 2000);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "entry 1 at offset 176");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_DATA_ENTRY + IRIO_IRPA_ENTRY_NAME_OFFSET + 8,
                  3);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "name range [0, +3)");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_ENTRY_METADATA_OFFSET,
                  UINT64_MAX);
  irio_store_le64(
      image.data + IO_SPLAT_ENTRY + IRIO_IRPA_ENTRY_METADATA_OFFSET + 8, 2);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "metadata range");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_SPLAT_ENTRY, 76);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "too small for a splat");
  image = io_sample_irpa();
  irio_store_le32(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_ENTRY_TYPE_OFFSET,
                  IRIO_IRPA_ENTRY_DATA);
  irio_store_le64(image.data + IO_SPLAT_ENTRY, 61);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "too small for a data");
  const uint8_t kBadPatterns[] = {0, 3, 17, 255};
  for (size_t i = 0; i < sizeof(kBadPatterns); ++i) {
    image = io_sample_irpa();
    image.data[IO_SPLAT_ENTRY + IRIO_IRPA_SPLAT_PATTERN_LENGTH_OFFSET] =
        kBadPatterns[i];
    io_expect_irpa_error(image, IRT_STATUS_INVALID_ARGUMENT, "pattern_length");
  }
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_SPLAT_LENGTH_OFFSET,
                  6);
  io_expect_irpa_error(image, IRT_STATUS_INVALID_ARGUMENT, "not a multiple");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_DATA_ENTRY + IRIO_IRPA_DATA_STORAGE_OFFSET,
                  1);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE,
                       "storage range [1, +16)");
  image = io_sample_irpa();
  irio_store_le64(image.data + IO_DATA_ENTRY + IRIO_IRPA_DATA_STORAGE_OFFSET,
                  UINT64_MAX);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "storage range");
  image = io_sample_irpa();
  irio_store_le32(image.data + IO_DATA_ENTRY + IRIO_IRPA_ENTRY_TYPE_OFFSET,
                  IRIO_IRPA_ENTRY_EXTERNAL);
  io_expect_irpa_error(image, IRT_STATUS_UNIMPLEMENTED, "external entries");
  image = io_sample_irpa();
  irio_store_le32(image.data + IO_DATA_ENTRY + IRIO_IRPA_ENTRY_TYPE_OFFSET, 9);
  io_expect_irpa_error(image, IRT_STATUS_UNIMPLEMENTED, "unknown entry type 9");
}

static void test_irpa_skip_and_empty_entries(void** state) {
  (void)state;
  io_image_t image = io_sample_irpa();
  irio_store_le32(image.data + IO_DATA_ENTRY + IRIO_IRPA_ENTRY_TYPE_OFFSET,
                  IRIO_IRPA_ENTRY_SKIP);
  // An empty DATA entry may point anywhere within the file.
  irio_store_le64(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_ENTRY_TYPE_OFFSET,
                  IRIO_IRPA_ENTRY_DATA);
  io_entries_t entries;
  irio_store_le64(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_DATA_STORAGE_OFFSET,
                  100);
  irio_store_le64(
      image.data + IO_SPLAT_ENTRY + IRIO_IRPA_DATA_STORAGE_OFFSET + 8, 0);
  io_expect_ok(
      io_parse(IRIO_ARCHIVE_FORMAT_IRPA, image.data, image.size, &entries));
  assert_int_equal(entries.count, 1);
  assert_true(irt_string_view_equal_cstring(entries.items[0].key, "s"));
  assert_int_equal(entries.items[0].length, 0);
  assert_int_equal(entries.items[0].file_offset, 320 + 100);
  irio_store_le64(image.data + IO_SPLAT_ENTRY + IRIO_IRPA_DATA_STORAGE_OFFSET,
                  1u << 20);
  io_expect_irpa_error(image, IRT_STATUS_OUT_OF_RANGE, "storage range");
}

static void test_irpa_linked_archives(void** state) {
  (void)state;
  io_image_t first = io_sample_irpa();
  static const uint8_t kTail[5] = {'t', 'a', 'i', 'l', '!'};
  irio_irpa_writer_entry_t second_entries[1] = {
      {.key = irt_make_cstring_view("second"),
       .storage = IRIO_ENTRY_STORAGE_FILE,
       .length = sizeof(kTail),
       .data = kTail}};
  io_image_t second = io_write_irpa(second_entries, 1);
  uint8_t* joined = malloc(first.size + second.size);
  memcpy(joined, first.data, first.size);
  memcpy(joined + first.size, second.data, second.size);
  irio_store_le64(joined + IRIO_IRPA_NEXT_HEADER_OFFSET, first.size);
  io_entries_t entries;
  io_expect_ok(io_parse(IRIO_ARCHIVE_FORMAT_IRPA, joined,
                        first.size + second.size, &entries));
  assert_int_equal(entries.count, 3);
  assert_true(irt_string_view_equal_cstring(entries.items[2].key, "second"));
  assert_int_equal(entries.items[2].file_offset, first.size + 192);
  assert_memory_equal(joined + entries.items[2].file_offset, "tail!", 5);
  // The linked header's own rules apply (its magic is checked).
  joined[first.size] = 'X';
  io_expect_error(io_parse(IRIO_ARCHIVE_FORMAT_IRPA, joined,
                           first.size + second.size, &entries),
                  IRT_STATUS_INVALID_ARGUMENT, "irpa header at 4096");
  free(joined);
  free(first.data);
  free(second.data);
}

//===----------------------------------------------------------------------===//
// GGUF (spec 3.3)
//===----------------------------------------------------------------------===//

typedef struct io_builder_s {
  uint8_t data[1024];
  size_t size;
} io_builder_t;

static void io_put(io_builder_t* b, const void* bytes, size_t length) {
  assert_true(b->size + length <= sizeof(b->data));
  memcpy(b->data + b->size, bytes, length);
  b->size += length;
}
static void io_put_u32(io_builder_t* b, uint32_t value) {
  uint8_t bytes[4];
  irio_store_le32(bytes, value);
  io_put(b, bytes, 4);
}
static void io_put_u64(io_builder_t* b, uint64_t value) {
  uint8_t bytes[8];
  irio_store_le64(bytes, value);
  io_put(b, bytes, 8);
}
static void io_put_string(io_builder_t* b, const char* text) {
  io_put_u64(b, strlen(text));
  io_put(b, text, strlen(text));
}

static void io_gguf_header(io_builder_t* b, uint32_t version, uint64_t tensors,
                           uint64_t kvs) {
  b->size = 0;
  io_put(b, "GGUF", 4);
  io_put_u32(b, version);
  io_put_u64(b, tensors);
  io_put_u64(b, kvs);
}

static void io_gguf_tensor(io_builder_t* b, const char* name, uint64_t dim0,
                           uint64_t dim1, uint32_t type, uint64_t offset) {
  io_put_string(b, name);
  io_put_u32(b, 2);
  io_put_u64(b, dim0);
  io_put_u64(b, dim1);
  io_put_u32(b, type);
  io_put_u64(b, offset);
}

// Pads with zeros to |size| bytes (the tensor data).
static void io_pad_to(io_builder_t* b, size_t size) {
  assert_true(size <= sizeof(b->data) && size >= b->size);
  memset(b->data + b->size, 0, size - b->size);
  b->size = size;
}

static irt_status_t io_parse_builder(irio_archive_format_t format,
                                     const io_builder_t* b,
                                     io_entries_t* entries) {
  uint8_t* copy = malloc(b->size);
  memcpy(copy, b->data, b->size);
  irt_status_t status = io_parse(format, copy, b->size, entries);
  // Keys point into the copy: keep their text for the caller.
  static char keys[IO_MAX_ENTRIES][32];
  for (size_t i = 0; irt_status_is_ok(status) && i < entries->count; ++i) {
    snprintf(keys[i], sizeof(keys[i]), "%.*s",
             IRT_SV_ARG(entries->items[i].key));
    entries->items[i].key = irt_make_cstring_view(keys[i]);
  }
  free(copy);
  return status;
}

static void test_gguf_layout(void** state) {
  (void)state;
  io_builder_t b;
  // Default alignment 32; every metadata type skipped, string arrays too.
  io_gguf_header(&b, 3, 2, 3);
  io_put_string(&b, "a.u8");
  io_put_u32(&b, 0);
  io_put(&b, "\x07", 1);
  io_put_string(&b, "a.strings");
  io_put_u32(&b, 9);
  io_put_u32(&b, 8);
  io_put_u64(&b, 2);
  io_put_string(&b, "x");
  io_put_string(&b, "yz");
  io_put_string(&b, "a.f64s");
  io_put_u32(&b, 9);
  io_put_u32(&b, 12);
  io_put_u64(&b, 2);
  io_put_u64(&b, 0);
  io_put_u64(&b, 0);
  io_gguf_tensor(&b, "q", 64, 1, 2, 0);  // Q4_0: 2 blocks of 18 bytes
  io_gguf_tensor(&b, "f", 2, 3, 1, 64);  // F16: 12 bytes
  size_t data_offset = (b.size + 31) & ~(size_t)31;
  io_pad_to(&b, data_offset + 76);
  io_entries_t entries;
  io_expect_ok(io_parse_builder(IRIO_ARCHIVE_FORMAT_GGUF, &b, &entries));
  assert_int_equal(entries.count, 2);
  assert_int_equal(entries.items[0].file_offset, data_offset);
  assert_int_equal(entries.items[0].length, 36);
  assert_int_equal(entries.items[1].file_offset, data_offset + 64);
  assert_int_equal(entries.items[1].length, 12);
  // One byte short of the last tensor's data.
  b.size -= 1;
  io_expect_error(io_parse_builder(IRIO_ARCHIVE_FORMAT_GGUF, &b, &entries),
                  IRT_STATUS_INVALID_ARGUMENT, "tensor 'f': data [64, +12)");
}

static void io_expect_gguf_error(io_builder_t* b, irt_status_code_t code,
                                 const char* part) {
  io_entries_t entries;
  io_expect_error(io_parse_builder(IRIO_ARCHIVE_FORMAT_GGUF, b, &entries), code,
                  part);
}

static void test_gguf_rules(void** state) {
  (void)state;
  io_builder_t b;
  io_gguf_header(&b, 1, 1, 0);
  io_expect_gguf_error(&b, IRT_STATUS_UNIMPLEMENTED, "version 1");
  io_gguf_header(&b, 3, 1, 0);
  b.data[0] = 'X';
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "magic");
  b.size = 10;
  b.data[0] = 'G';
  io_expect_gguf_error(&b, IRT_STATUS_OUT_OF_RANGE, "tensor_count");
  // No tensors: the metadata is not even read.
  io_gguf_header(&b, 2, 0, 1000);
  io_entries_t entries;
  io_expect_ok(io_parse_builder(IRIO_ARCHIVE_FORMAT_GGUF, &b, &entries));
  assert_int_equal(entries.count, 0);

  io_gguf_header(&b, 3, 1, 1);
  io_put_string(&b, "general.alignment");
  io_put_u32(&b, 10);
  io_put_u64(&b, 64);
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "not uint32");
  io_gguf_header(&b, 3, 1, 1);
  io_put_string(&b, "general.alignment");
  io_put_u32(&b, 4);
  io_put_u32(&b, 48);
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "power of two");
  io_gguf_header(&b, 3, 1, 1);
  io_put_string(&b, "nested");
  io_put_u32(&b, 9);
  io_put_u32(&b, 9);
  io_put_u64(&b, 1);
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "nested array");
  io_gguf_header(&b, 3, 1, 1);
  io_put_string(&b, "odd");
  io_put_u32(&b, 13);
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "value type 13");
  io_gguf_header(&b, 3, 1, 1);
  io_put_string(&b, "huge");
  io_put_u32(&b, 9);
  io_put_u32(&b, 11);
  io_put_u64(&b, UINT64_MAX / 4);
  io_expect_gguf_error(&b, IRT_STATUS_OUT_OF_RANGE, "metadata value");
  io_gguf_header(&b, 3, 1, 0);
  io_put_u64(&b, UINT64_MAX);  // a tensor name length
  io_expect_gguf_error(&b, IRT_STATUS_OUT_OF_RANGE, "tensor name");

  const struct {
    uint64_t dim0, dim1;
    uint32_t type;
    irt_status_code_t code;
    const char* part;
  } kTensors[] = {
      {4, 1, 4, IRT_STATUS_UNIMPLEMENTED, "ggml type 4"},
      {4, 1, 5, IRT_STATUS_UNIMPLEMENTED, "ggml type 5"},
      {4, 1, 19, IRT_STATUS_UNIMPLEMENTED, "ggml type 19"},
      {33, 1, 2, IRT_STATUS_INVALID_ARGUMENT, "whole 32-element blocks"},
      {UINT64_MAX, 2, 0, IRT_STATUS_INVALID_ARGUMENT, "overflows"},
      {UINT64_MAX / 2, 1, 0, IRT_STATUS_INVALID_ARGUMENT, "or the size"},
  };
  for (size_t i = 0; i < sizeof(kTensors) / sizeof(kTensors[0]); ++i) {
    io_gguf_header(&b, 3, 1, 0);
    io_gguf_tensor(&b, "t", kTensors[i].dim0, kTensors[i].dim1,
                   kTensors[i].type, 0);
    io_pad_to(&b, 512);
    io_expect_gguf_error(&b, kTensors[i].code, kTensors[i].part);
  }
  io_gguf_header(&b, 3, 1, 0);
  io_gguf_tensor(&b, "t", 4, 1, 0, UINT64_MAX - 8);
  io_pad_to(&b, 512);
  io_expect_gguf_error(&b, IRT_STATUS_INVALID_ARGUMENT, "exceeds the");
  // Tensor infos ending right at the file's end leave no room for data.
  io_gguf_header(&b, 3, 1, 0);
  io_gguf_tensor(&b, "t", 4, 1, 0, 0);
  io_expect_gguf_error(&b, IRT_STATUS_OUT_OF_RANGE, "past the end");
}

//===----------------------------------------------------------------------===//
// safetensors (spec 3.4)
//===----------------------------------------------------------------------===//

static void io_safetensors(io_builder_t* b, const char* json,
                           size_t data_size) {
  b->size = 0;
  io_put_u64(b, strlen(json));
  io_put(b, json, strlen(json));
  io_pad_to(b, b->size + data_size);
}

static void io_expect_safetensors_error(const char* json,
                                        irt_status_code_t code,
                                        const char* part) {
  io_builder_t b;
  io_safetensors(&b, json, 16);
  io_entries_t entries;
  io_expect_error(
      io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries), code,
      part);
}

static void test_safetensors_lenient_json(void** state) {
  (void)state;
  io_builder_t b;
  const char* json =
      "/* header */ {\"__metadata__\": {\"format\": \"pt\", },\n"
      "  \"a\\\"b\": {\"dtype\": \"F32\", \"shape\": [[1], {}], "
      "\"data_offsets\": [0, 8,],}, // last\n"
      "  \"e\": {\"data_offsets\": [8, 8], \"data_offsets\": [0, 99]},\n"
      "  \"z\": {\"x\": -1.5e3, \"y\": [true, false, null], "
      "\"data_offsets\": [8, 16]},\n"
      "}   ";
  io_safetensors(&b, json, 16);
  io_entries_t entries;
  io_expect_ok(io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries));
  assert_int_equal(entries.count, 3);
  // The raw text between the quotes: escapes are kept.
  assert_true(irt_string_view_equal_cstring(entries.items[0].key, "a\\\"b"));
  assert_int_equal(entries.items[0].file_offset, 8 + strlen(json));
  assert_int_equal(entries.items[0].length, 8);
  assert_int_equal(entries.items[1].length, 0);  // the first data_offsets
  assert_int_equal(entries.items[2].file_offset, 8 + strlen(json) + 8);

  io_safetensors(&b, "{}", 0);
  io_expect_ok(io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries));
  assert_int_equal(entries.count, 0);
}

static void test_safetensors_rules(void** state) {
  (void)state;
  io_builder_t b;
  io_entries_t entries;
  b.size = 7;
  memset(b.data, 0, 7);
  io_expect_error(
      io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries),
      IRT_STATUS_OUT_OF_RANGE, "shorter than the 8-byte");
  io_safetensors(&b, "{}", 0);
  irio_store_le64(b.data, 3);
  io_expect_error(
      io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries),
      IRT_STATUS_OUT_OF_RANGE, "header length 3");
  io_safetensors(&b, "{}", 0);
  irio_store_le64(b.data, UINT64_MAX);
  io_expect_error(
      io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &b, &entries),
      IRT_STATUS_OUT_OF_RANGE, "header length");

  io_expect_safetensors_error("{\"t\": {\"dtype\": \"F32\"}}",
                              IRT_STATUS_NOT_FOUND, "'t' has no data_offsets");
  const char* kBadOffsets[] = {
      "{\"t\": {\"data_offsets\": [1]}}",
      "{\"t\": {\"data_offsets\": [\"0\", 1]}}",
      "{\"t\": {\"data_offsets\": [0, 1, 2]}}",
      "{\"t\": {\"data_offsets\": [-1, 2]}}",
      "{\"t\": {\"data_offsets\": 5}}",
      "{\"t\": {\"data_offsets\": [0, 18446744073709551616]}}",
  };
  for (size_t i = 0; i < sizeof(kBadOffsets) / sizeof(kBadOffsets[0]); ++i) {
    io_expect_safetensors_error(kBadOffsets[i], IRT_STATUS_INVALID_ARGUMENT,
                                "data_offsets");
  }
  io_expect_safetensors_error("{\"t\": {\"data_offsets\": [9, 8]}}",
                              IRT_STATUS_INVALID_ARGUMENT, "[9, 8]");
  io_expect_safetensors_error("{\"t\": {\"data_offsets\": [0, 17]}}",
                              IRT_STATUS_INVALID_ARGUMENT, "16 bytes of data");
  const char* kMalformed[] = {
      "",
      "[]",
      "{",
      "{\"t\"",
      "{\"t\": ",
      "{\"t\": 5}",
      "{\"t\" {}}",
      "{\"t\": {\"data_offsets\": [0, 1]}} x",
      "{,}",
      "{\"t\": {\"data_offsets\": [0, 1]} \"u\": {}}",
      "{\"unterminated: {}}",
      "{\"t\": {\"x\": }}",
      "/* never closed",
  };
  for (size_t i = 0; i < sizeof(kMalformed) / sizeof(kMalformed[0]); ++i) {
    io_builder_t m;
    io_safetensors(&m, kMalformed[i], 0);
    irt_status_t status =
        io_parse_builder(IRIO_ARCHIVE_FORMAT_SAFETENSORS, &m, &entries);
    if (irt_status_code(status) != IRT_STATUS_INVALID_ARGUMENT) {
      fail_msg("'%s' gave %s", kMalformed[i],
               irt_status_code_string(irt_status_code(status)));
    }
    irt_status_free(status);
  }
  // Deep nesting fails instead of exhausting the stack.
  char deep[700];
  size_t n = (size_t)snprintf(deep, sizeof(deep), "{\"t\": {\"x\": ");
  for (int i = 0; i < 300; ++i) deep[n++] = '[';
  deep[n] = '\0';
  io_expect_safetensors_error(deep, IRT_STATUS_INVALID_ARGUMENT,
                              "nested too deeply");
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static void test_format_from_path(void** state) {
  (void)state;
  irio_archive_format_t format;
  io_expect_ok(irio_archive_format_from_path("a/b.IRPA", &format));
  assert_int_equal(format, IRIO_ARCHIVE_FORMAT_IRPA);
  io_expect_ok(irio_archive_format_from_path("x.GgUf", &format));
  assert_int_equal(format, IRIO_ARCHIVE_FORMAT_GGUF);
  io_expect_ok(irio_archive_format_from_path("m.safetensors", &format));
  assert_int_equal(format, IRIO_ARCHIVE_FORMAT_SAFETENSORS);
  // No extension: the base name itself.
  io_expect_ok(irio_archive_format_from_path("dir.v2/irpa", &format));
  assert_int_equal(format, IRIO_ARCHIVE_FORMAT_IRPA);
  io_expect_error(irio_archive_format_from_path("w.irpa.bak", &format),
                  IRT_STATUS_UNIMPLEMENTED, "unsupported file format");
  io_expect_error(irio_archive_format_from_path("dir.irpa/w", &format),
                  IRT_STATUS_UNIMPLEMENTED, "'dir.irpa/w'");
}

static void test_format_key(void** state) {
  (void)state;
  char text[16];
  irio_format_key(irt_make_string_view("a\0b\\", 4), text, sizeof(text));
  assert_string_equal(text, "a\\x00b\\x5c");
  irio_format_key(irt_make_cstring_view("0123456789abcdefghij"), text,
                  sizeof(text));
  assert_string_equal(text, "0123456789ab...");
  irio_format_key(irt_make_cstring_view("0123456789abcde"), text, sizeof(text));
  assert_string_equal(text, "0123456789abcde");
  irio_format_key(irt_make_string_view("", 0), text, sizeof(text));
  assert_string_equal(text, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_conformance_listings),
      cmocka_unit_test(test_every_truncation),
      cmocka_unit_test(test_byte_flips),
      cmocka_unit_test(test_irpa_sample_parses),
      cmocka_unit_test(test_irpa_header_rules),
      cmocka_unit_test(test_irpa_entry_rules),
      cmocka_unit_test(test_irpa_skip_and_empty_entries),
      cmocka_unit_test(test_irpa_linked_archives),
      cmocka_unit_test(test_gguf_layout),
      cmocka_unit_test(test_gguf_rules),
      cmocka_unit_test(test_safetensors_lenient_json),
      cmocka_unit_test(test_safetensors_rules),
      cmocka_unit_test(test_format_from_path),
      cmocka_unit_test(test_format_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
