// Writes IRPA v0 archives laid out the way IREE's tools write them (HAL spec
// 3.2.4): header, entry table at 96, names and metadata right after it,
// storage aligned to 64 with every payload 64-byte aligned, file padded to a
// multiple of 4096. The same entries give byte-identical files.
#ifndef IRIO_IRPA_WRITER_H
#define IRIO_IRPA_WRITER_H

#include <stdio.h>

#include "runtime/io/archive.h"

typedef struct irio_irpa_writer_entry_s {
  irt_string_view_t key;
  irt_string_view_t metadata;  // may be empty
  irio_entry_storage_t storage;
  uint64_t length;
  // FILE (written as a DATA entry): |length| bytes to store.
  const void* data;
  // SPLAT: 1, 2, 4, 8 or 16 pattern bytes; |length| a multiple of them.
  uint8_t pattern_length;
  uint8_t pattern[IRIO_SPLAT_PATTERN_CAPACITY];
} irio_irpa_writer_entry_t;

// Writes |count| entries in order to |file| (at its current position, which
// should be the start). |name| labels errors. INVALID_ARGUMENT for a bad
// splat; DATA_LOSS when writing fails.
irt_status_t irio_irpa_write(const irio_irpa_writer_entry_t* entries,
                             size_t count, FILE* file,
                             const char* name) IRT_MUST_USE;

#endif  // IRIO_IRPA_WRITER_H
