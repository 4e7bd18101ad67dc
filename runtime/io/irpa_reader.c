// IRPA reader (HAL spec 3.2.6, with the recommended stricter checks: splat
// patterns of 1/2/4/8/16 bytes dividing the length, no overflow anywhere).
// Linked archives (next_header_offset) are followed iteratively; offsets only
// grow, so a chain cannot cycle.
#include <inttypes.h>

#include "runtime/base/math.h"
#include "runtime/io/archive.h"
#include "runtime/io/irpa_format.h"

typedef struct irio_segment_s {
  uint64_t offset;  // relative to the archive header
  uint64_t length;
} irio_segment_t;

// One archive header within the file and what its entries reference.
typedef struct irio_irpa_archive_s {
  const uint8_t* data;  // the whole file
  uint64_t size;
  const char* name;
  uint64_t base;  // absolute offset of the header
  uint64_t entry_count;
  irio_segment_t entries, metadata, storage;
} irio_irpa_archive_t;

static irio_segment_t irio_irpa_load_segment(const uint8_t* p) {
  irio_segment_t segment = {irio_load_le64(p), irio_load_le64(p + 8)};
  return segment;
}

// Rule 7: a non-empty segment lies within the file.
static irt_status_t irio_irpa_check_segment(const irio_irpa_archive_t* archive,
                                            irio_segment_t segment,
                                            const char* what) {
  uint64_t start = 0;
  if (segment.length == 0) return IRT_OK;
  if (!irt_add_u64(archive->base, segment.offset, &start) ||
      !irt_range_fits(start, segment.length, archive->size)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': irpa header at %" PRIu64
                           ": %s segment [%" PRIu64 ", +%" PRIu64
                           ") exceeds the %" PRIu64 "-byte file",
                           archive->name, archive->base, what, segment.offset,
                           segment.length, archive->size);
  }
  return IRT_OK;
}

// Rules 1-7 for the header at |base|; *out_next is its next_header_offset.
static irt_status_t irio_irpa_read_header(irio_irpa_archive_t* archive,
                                          uint64_t* out_next) {
  const uint64_t available = archive->size - archive->base;
  const uint8_t* header = archive->data + archive->base;
  if (available < IRIO_IRPA_PREFIX_SIZE) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': file of %" PRIu64
                           " bytes is shorter than "
                           "the %d-byte irpa header",
                           archive->name, archive->size, IRIO_IRPA_PREFIX_SIZE);
  }
  uint32_t magic = irio_load_le32(header + IRIO_IRPA_MAGIC_OFFSET);
  if (magic != IRIO_IRPA_MAGIC) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': irpa header at %" PRIu64
                           ": magic 0x%08" PRIx32 " is not 'IRPA'",
                           archive->name, archive->base, magic);
  }
  uint64_t header_size = irio_load_le64(header + IRIO_IRPA_HEADER_SIZE_OFFSET);
  if (header_size > available) {
    return irt_make_status(
        IRT_STATUS_OUT_OF_RANGE,
        "'%s': irpa header at %" PRIu64 ": header_size %" PRIu64
        " exceeds the %" PRIu64 " bytes left in the file",
        archive->name, archive->base, header_size, available);
  }
  uint64_t next = irio_load_le64(header + IRIO_IRPA_NEXT_HEADER_OFFSET);
  if (next != 0 &&
      (next >= available || available - next < IRIO_IRPA_PREFIX_SIZE)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': irpa header at %" PRIu64
                           ": next_header_offset %" PRIu64
                           " leaves no room for a header in the file",
                           archive->name, archive->base, next);
  }
  uint16_t major = irio_load_le16(header + IRIO_IRPA_VERSION_MAJOR_OFFSET);
  uint16_t minor = irio_load_le16(header + IRIO_IRPA_VERSION_MINOR_OFFSET);
  if (major != 0 || minor != 0) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "'%s': irpa header at %" PRIu64
                           ": version %u.%u is not supported (only 0.0)",
                           archive->name, archive->base, major, minor);
  }
  if (header_size != IRIO_IRPA_HEADER_V0_SIZE) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': irpa header at %" PRIu64
                           ": header_size %" PRIu64 " is not %d for version 0",
                           archive->name, archive->base, header_size,
                           IRIO_IRPA_HEADER_V0_SIZE);
  }
  archive->entry_count = irio_load_le64(header + IRIO_IRPA_ENTRY_COUNT_OFFSET);
  archive->entries =
      irio_irpa_load_segment(header + IRIO_IRPA_ENTRY_SEGMENT_OFFSET);
  archive->metadata =
      irio_irpa_load_segment(header + IRIO_IRPA_METADATA_SEGMENT_OFFSET);
  archive->storage =
      irio_irpa_load_segment(header + IRIO_IRPA_STORAGE_SEGMENT_OFFSET);
  IRT_RETURN_IF_ERROR(
      irio_irpa_check_segment(archive, archive->entries, "entry"));
  IRT_RETURN_IF_ERROR(
      irio_irpa_check_segment(archive, archive->metadata, "metadata"));
  IRT_RETURN_IF_ERROR(
      irio_irpa_check_segment(archive, archive->storage, "storage"));
  *out_next = next;
  return IRT_OK;
}

// Where an entry being parsed sits, for messages.
typedef struct irio_irpa_entry_site_s {
  const irio_irpa_archive_t* archive;
  uint64_t index;
  uint64_t offset;  // absolute
  const uint8_t* bytes;
  uint64_t size;  // entry_size
} irio_irpa_entry_site_t;

#define IRIO_IRPA_SITE_FORMAT "'%s': irpa entry %" PRIu64 " at offset %" PRIu64
#define IRIO_IRPA_SITE_ARGS(site) \
  (site)->archive->name, (site)->index, (site)->offset

// Rule 9: a {offset, length} reference into the metadata segment.
static irt_status_t irio_irpa_metadata_string(
    const irio_irpa_entry_site_t* site, uint32_t field_offset,
    const char* field, irt_string_view_t* out_string) {
  const irio_irpa_archive_t* archive = site->archive;
  irio_segment_t ref = irio_irpa_load_segment(site->bytes + field_offset);
  *out_string = irt_make_string_view("", 0);
  if (ref.length == 0) return IRT_OK;
  if (!irt_range_fits(ref.offset, ref.length, archive->metadata.length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           IRIO_IRPA_SITE_FORMAT
                           ": %s range [%" PRIu64 ", +%" PRIu64
                           ") exceeds the %" PRIu64 "-byte metadata segment",
                           IRIO_IRPA_SITE_ARGS(site), field, ref.offset,
                           ref.length, archive->metadata.length);
  }
  // The segment was checked against the file, so this cannot overflow.
  uint64_t start = archive->base + archive->metadata.offset + ref.offset;
  *out_string = irt_make_string_view((const char*)archive->data + start,
                                     (size_t)ref.length);
  return IRT_OK;
}

static irt_status_t irio_irpa_require_size(const irio_irpa_entry_site_t* site,
                                           uint64_t minimum, const char* type) {
  if (site->size >= minimum) return IRT_OK;
  return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                         IRIO_IRPA_SITE_FORMAT
                         ": entry_size %" PRIu64
                         " is too small for a %s entry (%" PRIu64 " bytes)",
                         IRIO_IRPA_SITE_ARGS(site), site->size, type, minimum);
}

// Rule 10 for SPLAT entries, plus the stricter pattern checks.
static irt_status_t irio_irpa_read_splat(const irio_irpa_entry_site_t* site,
                                         irio_entry_t* entry) {
  IRT_RETURN_IF_ERROR(
      irio_irpa_require_size(site, IRIO_IRPA_SPLAT_ENTRY_SIZE, "splat"));
  entry->storage = IRIO_ENTRY_STORAGE_SPLAT;
  entry->length = irio_load_le64(site->bytes + IRIO_IRPA_SPLAT_LENGTH_OFFSET);
  uint8_t pattern_length = site->bytes[IRIO_IRPA_SPLAT_PATTERN_LENGTH_OFFSET];
  if (pattern_length > IRIO_SPLAT_PATTERN_CAPACITY ||
      !irt_is_pow2(pattern_length)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           IRIO_IRPA_SITE_FORMAT
                           ": splat pattern_length %u is "
                           "not 1, 2, 4, 8 or 16",
                           IRIO_IRPA_SITE_ARGS(site), pattern_length);
  }
  if (entry->length % pattern_length) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        IRIO_IRPA_SITE_FORMAT ": splat length %" PRIu64
                              " is not a multiple of its %u-byte pattern",
        IRIO_IRPA_SITE_ARGS(site), entry->length, pattern_length);
  }
  entry->pattern_length = pattern_length;
  memcpy(entry->pattern, site->bytes + IRIO_IRPA_SPLAT_PATTERN_OFFSET,
         pattern_length);
  return IRT_OK;
}

// Rule 10 for DATA entries: the bytes lie within the storage segment (and
// so within the file; an empty entry's offset at most at the file's end).
static irt_status_t irio_irpa_read_data(const irio_irpa_entry_site_t* site,
                                        irio_entry_t* entry) {
  const irio_irpa_archive_t* archive = site->archive;
  IRT_RETURN_IF_ERROR(
      irio_irpa_require_size(site, IRIO_IRPA_DATA_ENTRY_SIZE, "data"));
  irio_segment_t storage =
      irio_irpa_load_segment(site->bytes + IRIO_IRPA_DATA_STORAGE_OFFSET);
  uint64_t start = 0;
  bool fits =
      storage.length == 0 ||
      irt_range_fits(storage.offset, storage.length, archive->storage.length);
  fits = fits &&
         irt_add_u64(archive->base + archive->storage.offset, storage.offset,
                     &start) &&
         irt_range_fits(start, storage.length, archive->size);
  if (!fits) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           IRIO_IRPA_SITE_FORMAT
                           ": storage range [%" PRIu64 ", +%" PRIu64
                           ") exceeds the %" PRIu64 "-byte storage segment",
                           IRIO_IRPA_SITE_ARGS(site), storage.offset,
                           storage.length, archive->storage.length);
  }
  entry->storage = IRIO_ENTRY_STORAGE_FILE;
  entry->length = storage.length;
  entry->file_offset = start;
  return IRT_OK;
}

// Rules 8-11 for one entry; *out_present is false for SKIP entries.
static irt_status_t irio_irpa_read_entry(const irio_irpa_entry_site_t* site,
                                         irio_entry_t* entry,
                                         bool* out_present) {
  *out_present = false;
  memset(entry, 0, sizeof(*entry));
  uint32_t type = irio_load_le32(site->bytes + IRIO_IRPA_ENTRY_TYPE_OFFSET);
  if (type == IRIO_IRPA_ENTRY_SKIP) return IRT_OK;
  IRT_RETURN_IF_ERROR(irio_irpa_metadata_string(
      site, IRIO_IRPA_ENTRY_NAME_OFFSET, "name", &entry->key));
  IRT_RETURN_IF_ERROR(irio_irpa_metadata_string(
      site, IRIO_IRPA_ENTRY_METADATA_OFFSET, "metadata", &entry->metadata));
  switch (type) {
    case IRIO_IRPA_ENTRY_SPLAT:
      IRT_RETURN_IF_ERROR(irio_irpa_read_splat(site, entry));
      break;
    case IRIO_IRPA_ENTRY_DATA:
      IRT_RETURN_IF_ERROR(irio_irpa_read_data(site, entry));
      break;
    case IRIO_IRPA_ENTRY_EXTERNAL:
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             IRIO_IRPA_SITE_FORMAT
                             ": external entries (data "
                             "in another file) are not supported",
                             IRIO_IRPA_SITE_ARGS(site));
    default:
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             IRIO_IRPA_SITE_FORMAT
                             ": unknown entry type %" PRIu32,
                             IRIO_IRPA_SITE_ARGS(site), type);
  }
  *out_present = true;
  return IRT_OK;
}

// Rule 8: walks the entry table (each entry padded to 16 bytes).
static irt_status_t irio_irpa_read_entries(const irio_irpa_archive_t* archive,
                                           irio_entry_fn_t fn,
                                           void* user_data) {
  uint64_t offset = 0;  // within the entry segment
  for (uint64_t i = 0; i < archive->entry_count; ++i) {
    uint64_t remaining =
        offset < archive->entries.length ? archive->entries.length - offset : 0;
    irio_irpa_entry_site_t site = {
        archive, i, archive->base + archive->entries.offset + offset, NULL, 0};
    if (remaining < IRIO_IRPA_ENTRY_HEADER_SIZE) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             IRIO_IRPA_SITE_FORMAT
                             ": entry table truncated "
                             "(%" PRIu64 " of %" PRIu64
                             " entries fit its %" PRIu64 " bytes)",
                             IRIO_IRPA_SITE_ARGS(&site), i,
                             archive->entry_count, archive->entries.length);
    }
    site.bytes = archive->data + site.offset;
    site.size = irio_load_le64(site.bytes + IRIO_IRPA_ENTRY_SIZE_OFFSET);
    if (site.size < IRIO_IRPA_ENTRY_HEADER_SIZE || site.size > remaining) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             IRIO_IRPA_SITE_FORMAT
                             ": entry_size %" PRIu64
                             " is not within [%d, %" PRIu64
                             "] (entry table truncated)",
                             IRIO_IRPA_SITE_ARGS(&site), site.size,
                             IRIO_IRPA_ENTRY_HEADER_SIZE, remaining);
    }
    irio_entry_t entry;
    bool present = false;
    IRT_RETURN_IF_ERROR(irio_irpa_read_entry(&site, &entry, &present));
    if (present) IRT_RETURN_IF_ERROR(fn(user_data, &entry));
    // site.size <= remaining <= the file size: no overflow.
    offset += irt_align_size((size_t)site.size, IRIO_IRPA_ENTRY_ALIGNMENT);
  }
  return IRT_OK;
}

irt_status_t irio_irpa_parse(const uint8_t* data, uint64_t size,
                             const char* name, irio_entry_fn_t fn,
                             void* user_data) {
  irio_irpa_archive_t archive = {data, size,   name,   0,
                                 0,    {0, 0}, {0, 0}, {0, 0}};
  for (;;) {
    uint64_t next = 0;
    IRT_RETURN_IF_ERROR(irio_irpa_read_header(&archive, &next));
    IRT_RETURN_IF_ERROR(irio_irpa_read_entries(&archive, fn, user_data));
    if (next == 0) return IRT_OK;
    archive.base += next;  // checked to fit by irio_irpa_read_header
  }
}
