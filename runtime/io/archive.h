// Parameter archives (HAL spec 3): IRPA, GGUF (v2, v3) and safetensors files
// parsed into entries, each a key and either a byte range of the file or a
// splat pattern. Parsers read from memory (a mapped file), check every
// offset and length against it without overflow, and never copy: keys and
// metadata point into the bytes.
//
// Every failure is one line naming the file, the structure and the field:
//   'w.irpa': irpa entry 2 at offset 288: name range [4, +9) exceeds the
//   16-byte metadata segment
#ifndef IRIO_ARCHIVE_H
#define IRIO_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

typedef enum irio_archive_format_e {
  IRIO_ARCHIVE_FORMAT_IRPA = 0,
  IRIO_ARCHIVE_FORMAT_GGUF = 1,
  IRIO_ARCHIVE_FORMAT_SAFETENSORS = 2,
} irio_archive_format_t;

// "irpa", "gguf" or "safetensors".
const char* irio_archive_format_name(irio_archive_format_t format);

// The format named by |path|'s extension, compared case-insensitively (the
// whole base name when there is no extension, so a bare "irpa" works);
// UNIMPLEMENTED "unsupported file format" otherwise (spec 2.5).
irt_status_t irio_archive_format_from_path(
    const char* path, irio_archive_format_t* out_format) IRT_MUST_USE;

typedef enum irio_entry_storage_e {
  IRIO_ENTRY_STORAGE_FILE = 0,   // |length| bytes at |file_offset|
  IRIO_ENTRY_STORAGE_SPLAT = 1,  // |pattern| repeated to |length| bytes
} irio_entry_storage_t;

#define IRIO_SPLAT_PATTERN_CAPACITY 16

// One parameter of an archive (spec 3.1).
typedef struct irio_entry_s {
  irt_string_view_t key;       // arbitrary bytes, compared byte-exactly
  irt_string_view_t metadata;  // opaque (IRPA only); empty when none
  irio_entry_storage_t storage;
  uint64_t length;       // logical size in bytes
  uint64_t file_offset;  // FILE: absolute offset; [offset, +length) fits
  // SPLAT: 1, 2, 4, 8 or 16 bytes in memory order; |length| is a multiple.
  uint8_t pattern_length;
  uint8_t pattern[IRIO_SPLAT_PATTERN_CAPACITY];
} irio_entry_t;

// Receives each entry in file order; a failure stops the parse and is
// returned by it.
typedef irt_status_t (*irio_entry_fn_t)(void* user_data,
                                        const irio_entry_t* entry);

// Parses the |size| bytes at |data| as |format| (|name| labels errors, usually
// the path). Entries reported before a failure are not retracted: callers
// that keep them roll back themselves.
irt_status_t irio_archive_parse(irio_archive_format_t format,
                                const uint8_t* data, uint64_t size,
                                const char* name, irio_entry_fn_t fn,
                                void* user_data) IRT_MUST_USE;

irt_status_t irio_irpa_parse(const uint8_t* data, uint64_t size,
                             const char* name, irio_entry_fn_t fn,
                             void* user_data) IRT_MUST_USE;
irt_status_t irio_gguf_parse(const uint8_t* data, uint64_t size,
                             const char* name, irio_entry_fn_t fn,
                             void* user_data) IRT_MUST_USE;
irt_status_t irio_safetensors_parse(const uint8_t* data, uint64_t size,
                                    const char* name, irio_entry_fn_t fn,
                                    void* user_data) IRT_MUST_USE;

// Writes |key| for messages into |buffer| (always terminated): printable
// ASCII as is, other bytes as \xNN, cut with "..." when it does not fit.
// Returns |buffer|.
char* irio_format_key(irt_string_view_t key, char* buffer, size_t capacity);

#endif  // IRIO_ARCHIVE_H
