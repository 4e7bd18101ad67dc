// The IRPA v0 on-disk layout (HAL spec 3.2), shared by the reader and the
// writer. All integers are little-endian and all structures packed; offsets
// below are byte offsets within each structure.
#ifndef IRIO_IRPA_FORMAT_H
#define IRIO_IRPA_FORMAT_H

#include "runtime/io/bytes.h"

#define IRIO_IRPA_MAGIC 0x41505249u  // "IRPA"

// Header prefix (all versions).
#define IRIO_IRPA_PREFIX_SIZE 32
#define IRIO_IRPA_MAGIC_OFFSET 0
#define IRIO_IRPA_VERSION_MAJOR_OFFSET 4
#define IRIO_IRPA_VERSION_MINOR_OFFSET 6
#define IRIO_IRPA_HEADER_SIZE_OFFSET 8
#define IRIO_IRPA_NEXT_HEADER_OFFSET 16
#define IRIO_IRPA_FLAGS_OFFSET 24

// Version 0 header: the prefix, the entry count and three segments, each an
// {offset, length} pair relative to the header.
#define IRIO_IRPA_HEADER_V0_SIZE 88
#define IRIO_IRPA_ENTRY_COUNT_OFFSET 32
#define IRIO_IRPA_ENTRY_SEGMENT_OFFSET 40
#define IRIO_IRPA_METADATA_SEGMENT_OFFSET 56
#define IRIO_IRPA_STORAGE_SEGMENT_OFFSET 72

// Entries: a common header, then the type's fields.
#define IRIO_IRPA_ENTRY_HEADER_SIZE 60
#define IRIO_IRPA_ENTRY_SIZE_OFFSET 0
#define IRIO_IRPA_ENTRY_TYPE_OFFSET 8
#define IRIO_IRPA_ENTRY_FLAGS_OFFSET 12
#define IRIO_IRPA_ENTRY_NAME_OFFSET 20      // {offset, length} in metadata
#define IRIO_IRPA_ENTRY_METADATA_OFFSET 36  // {offset, length} in metadata
#define IRIO_IRPA_ENTRY_ALIGNMENT_OFFSET 52

#define IRIO_IRPA_SPLAT_ENTRY_SIZE 85
#define IRIO_IRPA_SPLAT_LENGTH_OFFSET 60
#define IRIO_IRPA_SPLAT_PATTERN_OFFSET 68
#define IRIO_IRPA_SPLAT_PATTERN_LENGTH_OFFSET 84

#define IRIO_IRPA_DATA_ENTRY_SIZE 76
#define IRIO_IRPA_DATA_STORAGE_OFFSET 60  // {offset, length} in storage

enum {
  IRIO_IRPA_ENTRY_SKIP = 0,
  IRIO_IRPA_ENTRY_SPLAT = 1,
  IRIO_IRPA_ENTRY_DATA = 2,
  IRIO_IRPA_ENTRY_EXTERNAL = 3,
};

// Layout constants of the writer (what IREE's tools produce).
#define IRIO_IRPA_HEADER_ALIGNMENT 16
#define IRIO_IRPA_ENTRY_ALIGNMENT 16
#define IRIO_IRPA_DATA_ALIGNMENT 64
#define IRIO_IRPA_FILE_ALIGNMENT 4096

#endif  // IRIO_IRPA_FORMAT_H
