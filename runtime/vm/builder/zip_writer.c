#include "runtime/vm/builder/zip_writer.h"

#include <string.h>

#include "runtime/vm/builder/growable.h"

#define IRVM_ZIP_LOCAL_SIGNATURE 0x04034B50u
#define IRVM_ZIP_CENTRAL_SIGNATURE 0x02014B50u
#define IRVM_ZIP64_END_SIGNATURE 0x06064B50u
#define IRVM_ZIP64_LOCATOR_SIGNATURE 0x07064B50u
#define IRVM_ZIP_END_SIGNATURE 0x06054B50u

#define IRVM_ZIP_VERSION_NEEDED 0x002D   // 4.5: zip64
#define IRVM_ZIP_VERSION_MADE_BY 0x031E  // unix, 3.0
#define IRVM_ZIP_DOS_DATE 0x0021         // 1980-01-01
#define IRVM_ZIP_PADDING_ID 0xFECA
#define IRVM_ZIP64_ID 0x0001

#define IRVM_ZIP_LOCAL_FIXED 30u
#define IRVM_ZIP_CENTRAL_FIXED 46u
#define IRVM_ZIP_LOCAL_ZIP64_EXTRA 20u    // id, size, 2 x u64
#define IRVM_ZIP_CENTRAL_ZIP64_EXTRA 28u  // id, size, 3 x u64
#define IRVM_ZIP64_END_SIZE 56u
#define IRVM_ZIP64_LOCATOR_SIZE 20u
#define IRVM_ZIP_END_SIZE 22u

uint32_t irvm_crc32(uint32_t crc, const uint8_t* data, size_t length) {
  // 256 entries cost ~2K operations to build: cheaper than any lazy global
  // initialization would be to get right across threads.
  uint32_t table[256];
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  crc = ~crc;
  for (size_t i = 0; i < length; ++i) {
    crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  }
  return ~crc;
}

uint16_t irvm_zip_padding_for(uint64_t header_offset, size_t name_length,
                              uint64_t alignment) {
  uint64_t unpadded = header_offset + IRVM_ZIP_LOCAL_FIXED + name_length + 4 +
                      IRVM_ZIP_LOCAL_ZIP64_EXTRA;
  return (uint16_t)((0 - unpadded) & (alignment - 1));
}

uint64_t irvm_zip_local_header_size(const irvm_zip_entry_t* entry) {
  return IRVM_ZIP_LOCAL_FIXED + entry->name_length + 4 + entry->padding +
         IRVM_ZIP_LOCAL_ZIP64_EXTRA;
}

// Sequential little-endian writer over a buffer sized by the caller.
typedef struct irvm_zip_cursor_s {
  uint8_t* p;
} irvm_zip_cursor_t;

static void put16(irvm_zip_cursor_t* c, uint16_t v) {
  irvm_store_u16le(c->p, v);
  c->p += 2;
}
static void put32(irvm_zip_cursor_t* c, uint32_t v) {
  irvm_store_u32le(c->p, v);
  c->p += 4;
}
static void put64(irvm_zip_cursor_t* c, uint64_t v) {
  irvm_store_u64le(c->p, v);
  c->p += 8;
}
static void put_bytes(irvm_zip_cursor_t* c, const void* data, size_t length) {
  if (data) {
    memcpy(c->p, data, length);
  } else {
    memset(c->p, 0, length);
  }
  c->p += length;
}

// The fields shared by local and central headers, from "version needed".
static void put_common(irvm_zip_cursor_t* c, const irvm_zip_entry_t* entry,
                       uint16_t extra_length) {
  put16(c, IRVM_ZIP_VERSION_NEEDED);
  put16(c, 0);  // flags
  put16(c, 0);  // stored
  put16(c, 0);  // time
  put16(c, IRVM_ZIP_DOS_DATE);
  put32(c, entry->crc32);
  put32(c, 0xFFFFFFFFu);  // compressed size: see zip64 extra
  put32(c, 0xFFFFFFFFu);  // uncompressed size: see zip64 extra
  put16(c, (uint16_t)entry->name_length);
  put16(c, extra_length);
}

void irvm_zip_write_local_header(const irvm_zip_entry_t* entry, uint8_t* out) {
  irvm_zip_cursor_t c = {out};
  put32(&c, IRVM_ZIP_LOCAL_SIGNATURE);
  put_common(&c, entry,
             (uint16_t)(4 + entry->padding + IRVM_ZIP_LOCAL_ZIP64_EXTRA));
  put_bytes(&c, entry->name, entry->name_length);
  put16(&c, IRVM_ZIP_PADDING_ID);
  put16(&c, entry->padding);
  put_bytes(&c, NULL, entry->padding);
  put16(&c, IRVM_ZIP64_ID);
  put16(&c, 16);
  put64(&c, entry->data_size);
  put64(&c, entry->data_size);
}

static uint64_t irvm_zip_central_size(const irvm_zip_entry_t* entries,
                                      size_t count) {
  uint64_t size = 0;
  for (size_t i = 0; i < count; ++i) {
    size += IRVM_ZIP_CENTRAL_FIXED + entries[i].name_length +
            IRVM_ZIP_CENTRAL_ZIP64_EXTRA;
  }
  return size;
}

uint64_t irvm_zip_directory_size(const irvm_zip_entry_t* entries,
                                 size_t count) {
  return irvm_zip_central_size(entries, count) + IRVM_ZIP64_END_SIZE +
         IRVM_ZIP64_LOCATOR_SIZE + IRVM_ZIP_END_SIZE;
}

void irvm_zip_write_directory(const irvm_zip_entry_t* entries, size_t count,
                              uint64_t directory_offset, uint8_t* out) {
  irvm_zip_cursor_t c = {out};
  for (size_t i = 0; i < count; ++i) {
    const irvm_zip_entry_t* entry = &entries[i];
    put32(&c, IRVM_ZIP_CENTRAL_SIGNATURE);
    put16(&c, IRVM_ZIP_VERSION_MADE_BY);
    put_common(&c, entry, IRVM_ZIP_CENTRAL_ZIP64_EXTRA);
    put16(&c, 0);            // comment length
    put16(&c, 0);            // disk number
    put16(&c, 0);            // internal attributes
    put32(&c, 0);            // external attributes
    put32(&c, 0xFFFFFFFFu);  // local header offset: see zip64 extra
    put_bytes(&c, entry->name, entry->name_length);
    put16(&c, IRVM_ZIP64_ID);
    put16(&c, 24);
    put64(&c, entry->data_size);
    put64(&c, entry->data_size);
    put64(&c, entry->header_offset);
  }
  uint64_t central_size = irvm_zip_central_size(entries, count);
  uint64_t zip64_end_offset = directory_offset + central_size;

  put32(&c, IRVM_ZIP64_END_SIGNATURE);
  put64(&c, IRVM_ZIP64_END_SIZE - 12);  // size of the rest of the record
  put16(&c, IRVM_ZIP_VERSION_NEEDED);   // made by
  put16(&c, IRVM_ZIP_VERSION_NEEDED);   // needed
  put32(&c, 0);                         // this disk
  put32(&c, 0);                         // disk with the directory
  put64(&c, count);
  put64(&c, count);
  put64(&c, central_size);
  put64(&c, directory_offset);

  put32(&c, IRVM_ZIP64_LOCATOR_SIGNATURE);
  put32(&c, 0);  // disk with the zip64 end record
  put64(&c, zip64_end_offset);
  put32(&c, 1);  // total disks

  uint16_t count16 = count > 0xFFFF ? 0xFFFF : (uint16_t)count;
  put32(&c, IRVM_ZIP_END_SIGNATURE);
  put16(&c, 0);
  put16(&c, 0);
  put16(&c, count16);
  put16(&c, count16);
  put32(&c, central_size > 0xFFFFFFFEu ? 0xFFFFFFFFu : (uint32_t)central_size);
  put32(&c, 0xFFFFFFFFu);  // directory offset: see the zip64 end record
  put16(&c, 0);            // comment length
}
