#include "runtime/io/irpa_writer.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/io/irpa_format.h"

// Where everything goes, computed before writing.
typedef struct irio_irpa_layout_s {
  uint64_t entry_table_offset;
  uint64_t entry_table_length;  // up to the end of the last entry, unpadded
  uint64_t metadata_offset;
  uint64_t metadata_length;
  uint64_t storage_offset;
  uint64_t storage_length;  // up to the end of the last payload
  uint64_t file_size;
} irio_irpa_layout_t;

static uint64_t irio_irpa_entry_size(const irio_irpa_writer_entry_t* entry) {
  return entry->storage == IRIO_ENTRY_STORAGE_SPLAT ? IRIO_IRPA_SPLAT_ENTRY_SIZE
                                                    : IRIO_IRPA_DATA_ENTRY_SIZE;
}

static irt_status_t irio_irpa_check_entry(const irio_irpa_writer_entry_t* entry,
                                          size_t index, const char* name) {
  if (entry->storage != IRIO_ENTRY_STORAGE_SPLAT) return IRT_OK;
  if (entry->pattern_length > IRIO_SPLAT_PATTERN_CAPACITY ||
      !irt_is_pow2(entry->pattern_length) ||
      entry->length % entry->pattern_length) {
    char key[64];
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': entry %zu ('%s'): a splat needs a 1, 2, 4, 8 "
                           "or 16-byte pattern dividing its length (got %u "
                           "bytes for %" PRIu64 ")",
                           name, index,
                           irio_format_key(entry->key, key, sizeof(key)),
                           entry->pattern_length, entry->length);
  }
  return IRT_OK;
}

// Lays the archive out; *out_payload_offsets[i] is entry i's offset in the
// storage segment (DATA entries only).
static irt_status_t irio_irpa_plan(const irio_irpa_writer_entry_t* entries,
                                   size_t count, const char* name,
                                   uint64_t* payload_offsets,
                                   irio_irpa_layout_t* out_layout) {
  irio_irpa_layout_t layout = {0};
  layout.entry_table_offset =
      irt_align_size(IRIO_IRPA_HEADER_V0_SIZE, IRIO_IRPA_HEADER_ALIGNMENT);
  uint64_t table = 0, metadata = 0, storage = 0;
  bool overflow = false, has_data = false;
  for (size_t i = 0; i < count; ++i) {
    const irio_irpa_writer_entry_t* entry = &entries[i];
    IRT_RETURN_IF_ERROR(irio_irpa_check_entry(entry, i, name));
    table = irt_align_size((size_t)table, IRIO_IRPA_ENTRY_ALIGNMENT);
    layout.entry_table_length = table + irio_irpa_entry_size(entry);
    table = layout.entry_table_length;
    overflow |= !irt_add_u64(metadata, entry->key.size, &metadata) ||
                !irt_add_u64(metadata, entry->metadata.size, &metadata);
    if (entry->storage == IRIO_ENTRY_STORAGE_SPLAT) continue;
    has_data = true;
    overflow |= !irt_align_up_u64(storage, IRIO_IRPA_DATA_ALIGNMENT, &storage);
    payload_offsets[i] = storage;
    overflow |= !irt_add_u64(storage, entry->length, &storage);
  }
  layout.metadata_offset =
      layout.entry_table_offset + layout.entry_table_length;
  layout.metadata_length = metadata;
  layout.storage_length = storage;
  overflow |=
      !irt_add_u64(layout.metadata_offset, metadata, &layout.storage_offset);
  // The storage segment is aligned to its first payload's alignment.
  if (has_data) {
    overflow |=
        !irt_align_up_u64(layout.storage_offset, IRIO_IRPA_DATA_ALIGNMENT,
                          &layout.storage_offset);
  }
  overflow |= !irt_add_u64(layout.storage_offset, storage, &layout.file_size) ||
              !irt_align_up_u64(layout.file_size, IRIO_IRPA_FILE_ALIGNMENT,
                                &layout.file_size);
  if (overflow || layout.storage_offset > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "'%s': the archive's size overflows", name);
  }
  *out_layout = layout;
  return IRT_OK;
}

static void irio_irpa_store_segment(uint8_t* p, uint64_t offset,
                                    uint64_t length) {
  irio_store_le64(p, offset);
  irio_store_le64(p + 8, length);
}

// The header, entry table and metadata segment: everything before storage.
static void irio_irpa_build_head(const irio_irpa_writer_entry_t* entries,
                                 size_t count, const uint64_t* payload_offsets,
                                 const irio_irpa_layout_t* layout,
                                 uint8_t* head) {
  irio_store_le32(head + IRIO_IRPA_MAGIC_OFFSET, IRIO_IRPA_MAGIC);
  irio_store_le64(head + IRIO_IRPA_HEADER_SIZE_OFFSET,
                  IRIO_IRPA_HEADER_V0_SIZE);
  irio_store_le64(head + IRIO_IRPA_ENTRY_COUNT_OFFSET, count);
  irio_irpa_store_segment(head + IRIO_IRPA_ENTRY_SEGMENT_OFFSET,
                          layout->entry_table_offset,
                          layout->entry_table_length);
  irio_irpa_store_segment(head + IRIO_IRPA_METADATA_SEGMENT_OFFSET,
                          layout->metadata_offset, layout->metadata_length);
  irio_irpa_store_segment(head + IRIO_IRPA_STORAGE_SEGMENT_OFFSET,
                          layout->storage_offset, layout->storage_length);
  uint8_t* entry_bytes = head + layout->entry_table_offset;
  uint8_t* metadata = head + layout->metadata_offset;
  uint64_t metadata_used = 0;
  for (size_t i = 0; i < count; ++i) {
    const irio_irpa_writer_entry_t* entry = &entries[i];
    bool splat = entry->storage == IRIO_ENTRY_STORAGE_SPLAT;
    uint64_t size = irio_irpa_entry_size(entry);
    irio_store_le64(entry_bytes + IRIO_IRPA_ENTRY_SIZE_OFFSET, size);
    irio_store_le32(entry_bytes + IRIO_IRPA_ENTRY_TYPE_OFFSET,
                    splat ? IRIO_IRPA_ENTRY_SPLAT : IRIO_IRPA_ENTRY_DATA);
    irio_irpa_store_segment(entry_bytes + IRIO_IRPA_ENTRY_NAME_OFFSET,
                            metadata_used, entry->key.size);
    if (entry->key.size) {
      memcpy(metadata + metadata_used, entry->key.data, entry->key.size);
    }
    metadata_used += entry->key.size;
    // Entries without metadata reference offset 0 (as IREE writes them).
    irio_irpa_store_segment(entry_bytes + IRIO_IRPA_ENTRY_METADATA_OFFSET,
                            entry->metadata.size ? metadata_used : 0,
                            entry->metadata.size);
    if (entry->metadata.size) {
      memcpy(metadata + metadata_used, entry->metadata.data,
             entry->metadata.size);
    }
    metadata_used += entry->metadata.size;
    if (splat) {
      irio_store_le64(entry_bytes + IRIO_IRPA_SPLAT_LENGTH_OFFSET,
                      entry->length);
      memcpy(entry_bytes + IRIO_IRPA_SPLAT_PATTERN_OFFSET, entry->pattern,
             entry->pattern_length);
      entry_bytes[IRIO_IRPA_SPLAT_PATTERN_LENGTH_OFFSET] =
          entry->pattern_length;
    } else {
      irio_store_le64(entry_bytes + IRIO_IRPA_ENTRY_ALIGNMENT_OFFSET,
                      IRIO_IRPA_DATA_ALIGNMENT);
      irio_irpa_store_segment(entry_bytes + IRIO_IRPA_DATA_STORAGE_OFFSET,
                              payload_offsets[i], entry->length);
    }
    entry_bytes += irt_align_size((size_t)size, IRIO_IRPA_ENTRY_ALIGNMENT);
  }
}

static irt_status_t irio_irpa_write_bytes(FILE* file, const void* data,
                                          uint64_t length, const char* name) {
  const uint8_t* bytes = data;
  static const uint8_t kZeros[4096];
  while (length > 0) {
    size_t chunk = length < sizeof(kZeros) ? (size_t)length : sizeof(kZeros);
    if (fwrite(bytes ? bytes : kZeros, 1, chunk, file) != chunk) {
      return irt_make_status(IRT_STATUS_DATA_LOSS, "writing '%s': %s", name,
                             strerror(errno));
    }
    if (bytes) bytes += chunk;
    length -= chunk;
  }
  return IRT_OK;
}

// The payloads, each at its offset in the storage segment, and the padding.
static irt_status_t irio_irpa_write_storage(
    const irio_irpa_writer_entry_t* entries, size_t count,
    const uint64_t* payload_offsets, const irio_irpa_layout_t* layout,
    FILE* file, const char* name) {
  uint64_t position = 0;  // within the storage segment
  for (size_t i = 0; i < count; ++i) {
    if (entries[i].storage == IRIO_ENTRY_STORAGE_SPLAT) continue;
    IRT_RETURN_IF_ERROR(
        irio_irpa_write_bytes(file, NULL, payload_offsets[i] - position, name));
    IRT_RETURN_IF_ERROR(
        irio_irpa_write_bytes(file, entries[i].data, entries[i].length, name));
    position = payload_offsets[i] + entries[i].length;
  }
  return irio_irpa_write_bytes(
      file, NULL, layout->file_size - layout->storage_offset - position, name);
}

irt_status_t irio_irpa_write(const irio_irpa_writer_entry_t* entries,
                             size_t count, FILE* file, const char* name) {
  uint64_t* payload_offsets = calloc(count ? count : 1, sizeof(uint64_t));
  uint8_t* head = NULL;
  irio_irpa_layout_t layout = {0};
  irt_status_t status =
      payload_offsets
          ? irio_irpa_plan(entries, count, name, payload_offsets, &layout)
          : irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                            "'%s': out of memory", name);
  if (irt_status_is_ok(status)) {
    // Zero-filled up to the storage segment, alignment padding included.
    head = calloc(1, (size_t)layout.storage_offset);
    if (!head) {
      status =
          irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                          "'%s': out of memory for %" PRIu64 " bytes of header",
                          name, layout.storage_offset);
    }
  }
  if (irt_status_is_ok(status)) {
    irio_irpa_build_head(entries, count, payload_offsets, &layout, head);
    status = irio_irpa_write_bytes(file, head, layout.storage_offset, name);
  }
  if (irt_status_is_ok(status)) {
    status = irio_irpa_write_storage(entries, count, payload_offsets, &layout,
                                     file, name);
  }
  if (irt_status_is_ok(status) && fflush(file) != 0) {
    status = irt_make_status(IRT_STATUS_DATA_LOSS, "writing '%s': %s", name,
                             strerror(errno));
  }
  free(head);
  free(payload_offsets);
  return status;
}
