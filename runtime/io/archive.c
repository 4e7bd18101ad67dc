#include "runtime/io/archive.h"

#include <stdio.h>
#include <strings.h>

const char* irio_archive_format_name(irio_archive_format_t format) {
  switch (format) {
    case IRIO_ARCHIVE_FORMAT_IRPA:
      return "irpa";
    case IRIO_ARCHIVE_FORMAT_GGUF:
      return "gguf";
    case IRIO_ARCHIVE_FORMAT_SAFETENSORS:
      return "safetensors";
  }
  return "unknown";
}

irt_status_t irio_archive_format_from_path(const char* path,
                                           irio_archive_format_t* out_format) {
  const char* base = strrchr(path, '/');
  base = base ? base + 1 : path;
  const char* dot = strrchr(base, '.');
  const char* extension = dot ? dot + 1 : base;
  static const irio_archive_format_t kFormats[] = {
      IRIO_ARCHIVE_FORMAT_IRPA, IRIO_ARCHIVE_FORMAT_GGUF,
      IRIO_ARCHIVE_FORMAT_SAFETENSORS};
  for (size_t i = 0; i < sizeof(kFormats) / sizeof(kFormats[0]); ++i) {
    if (strcasecmp(extension, irio_archive_format_name(kFormats[i])) == 0) {
      *out_format = kFormats[i];
      return IRT_OK;
    }
  }
  return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                         "'%s': unsupported file format (the extension must "
                         "be .irpa, .gguf or .safetensors)",
                         path);
}

irt_status_t irio_archive_parse(irio_archive_format_t format,
                                const uint8_t* data, uint64_t size,
                                const char* name, irio_entry_fn_t fn,
                                void* user_data) {
  switch (format) {
    case IRIO_ARCHIVE_FORMAT_IRPA:
      return irio_irpa_parse(data, size, name, fn, user_data);
    case IRIO_ARCHIVE_FORMAT_GGUF:
      return irio_gguf_parse(data, size, name, fn, user_data);
    case IRIO_ARCHIVE_FORMAT_SAFETENSORS:
      return irio_safetensors_parse(data, size, name, fn, user_data);
  }
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "'%s': unknown archive format %d", name, (int)format);
}

// Writes byte |c| as it appears in messages; returns its length (1 or 4).
static int irio_format_key_byte(unsigned char c, char piece[5]) {
  return c >= 0x20 && c < 0x7F && c != '\\' ? snprintf(piece, 5, "%c", c)
                                            : snprintf(piece, 5, "\\x%02x", c);
}

char* irio_format_key(irt_string_view_t key, char* buffer, size_t capacity) {
  if (capacity == 0) return buffer;
  char piece[5];
  size_t total = 0;
  for (size_t i = 0; i < key.size; ++i) {
    total += (size_t)irio_format_key_byte((unsigned char)key.data[i], piece);
  }
  // Text that does not fit is cut, leaving room for "...".
  bool cut = total >= capacity;
  size_t limit = cut ? (capacity > 4 ? capacity - 4 : 0) : total;
  size_t used = 0;
  for (size_t i = 0; i < key.size; ++i) {
    int length = irio_format_key_byte((unsigned char)key.data[i], piece);
    if (used + (size_t)length > limit) break;
    memcpy(buffer + used, piece, (size_t)length);
    used += (size_t)length;
  }
  snprintf(buffer + used, capacity - used, "%s", cut ? "..." : "");
  return buffer;
}
