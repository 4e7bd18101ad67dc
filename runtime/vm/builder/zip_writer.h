// Internal to runtime/vm/builder: the ZIP records of the polyglot `.vmfb`
// form, byte for byte as iree-compile writes them (VM spec 1.2-1.4):
//
//   local header:  version 4.5, stored, time 0, date 1980-01-01, real CRC,
//                  sizes 0xFFFFFFFF; extras = a 0xFECA padding record sized
//                  so the entry data lands on the requested alignment, then
//                  a zip64 record (u64 uncompressed, u64 compressed size).
//   central dir:   one entry per file (made by 0x031E, zip64 extra with the
//                  sizes and the local header offset), then a zip64 end
//                  record, a zip64 locator and an end record whose central
//                  directory offset is 0xFFFFFFFF.
#ifndef IRVM_BUILDER_ZIP_WRITER_H
#define IRVM_BUILDER_ZIP_WRITER_H

#include <stddef.h>
#include <stdint.h>

// Standard CRC-32 (reflected, polynomial 0xEDB88320). Pass 0 as |crc| for
// the first chunk and the previous result for the following ones.
uint32_t irvm_crc32(uint32_t crc, const uint8_t* data, size_t length);

typedef struct irvm_zip_entry_s {
  const char* name;
  size_t name_length;      // at most 0xFFFF
  uint64_t header_offset;  // file offset of the local header
  uint16_t padding;        // payload bytes of the 0xFECA record
  uint64_t data_size;
  uint32_t crc32;
} irvm_zip_entry_t;

// Payload size of the padding record for a local header at |header_offset|
// so that the entry data starts at a multiple of |alignment| (a power of two
// at most 0x8000). The record is always written, possibly empty.
uint16_t irvm_zip_padding_for(uint64_t header_offset, size_t name_length,
                              uint64_t alignment);
// Total size of |entry|'s local header (its data follows immediately).
uint64_t irvm_zip_local_header_size(const irvm_zip_entry_t* entry);
void irvm_zip_write_local_header(const irvm_zip_entry_t* entry, uint8_t* out);

// Size of the central directory and end records for |entries|.
uint64_t irvm_zip_directory_size(const irvm_zip_entry_t* entries, size_t count);
// Writes them at |out|, which is at file offset |directory_offset|.
void irvm_zip_write_directory(const irvm_zip_entry_t* entries, size_t count,
                              uint64_t directory_offset, uint8_t* out);

#endif  // IRVM_BUILDER_ZIP_WRITER_H
