// safetensors reader (HAL spec 3.4): an 8-byte header length, a JSON object
// mapping tensor names to {dtype, shape, data_offsets}, then the data. Only
// `data_offsets` is used. The JSON scanner accepts what the reference does
// (comments, trailing commas) and keeps keys as the raw text between their
// quotes (escapes are not decoded).
#include <inttypes.h>

#include "runtime/base/math.h"
#include "runtime/io/archive.h"
#include "runtime/io/bytes.h"

#define IRIO_SAFETENSORS_PREFIX_SIZE 8
// Nesting allowed in skipped values (dtype/shape/metadata are shallow).
#define IRIO_JSON_MAX_DEPTH 32

typedef struct irio_json_s {
  const char* text;
  size_t size;
  size_t offset;
  const char* name;  // the file, for messages
} irio_json_t;

static irt_status_t irio_json_error(const irio_json_t* json, const char* what) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "'%s': safetensors header at byte %zu: %s", json->name,
                         IRIO_SAFETENSORS_PREFIX_SIZE + json->offset, what);
}

static int irio_json_peek(const irio_json_t* json) {
  return json->offset < json->size ? (unsigned char)json->text[json->offset]
                                   : -1;
}

static bool irio_json_starts_with(const irio_json_t* json, const char* text) {
  size_t length = strlen(text);
  return json->size - json->offset >= length &&
         memcmp(json->text + json->offset, text, length) == 0;
}

// Skips whitespace, // line comments and /* block comments */.
static void irio_json_skip_space(irio_json_t* json) {
  for (;;) {
    int c = irio_json_peek(json);
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++json->offset;
    } else if (irio_json_starts_with(json, "//")) {
      while (json->offset < json->size && json->text[json->offset] != '\n') {
        ++json->offset;
      }
    } else if (irio_json_starts_with(json, "/*")) {
      json->offset += 2;
      while (json->offset < json->size && !irio_json_starts_with(json, "*/")) {
        ++json->offset;
      }
      json->offset = json->offset < json->size ? json->offset + 2 : json->size;
    } else {
      return;
    }
  }
}

// Consumes |c| (after spaces) if it is next.
static bool irio_json_accept(irio_json_t* json, char c) {
  irio_json_skip_space(json);
  if (irio_json_peek(json) != (unsigned char)c) return false;
  ++json->offset;
  return true;
}

static irt_status_t irio_json_expect(irio_json_t* json, char c,
                                     const char* what) {
  return irio_json_accept(json, c) ? IRT_OK : irio_json_error(json, what);
}

// A string's raw text between its quotes.
static irt_status_t irio_json_string(irio_json_t* json,
                                     irt_string_view_t* out_text) {
  IRT_RETURN_IF_ERROR(irio_json_expect(json, '"', "expected a string"));
  size_t start = json->offset;
  while (json->offset < json->size && json->text[json->offset] != '"') {
    json->offset += json->text[json->offset] == '\\' ? 2 : 1;
  }
  if (json->offset >= json->size) {
    json->offset = start;
    return irio_json_error(json, "unterminated string");
  }
  *out_text = irt_make_string_view(json->text + start, json->offset - start);
  ++json->offset;
  return IRT_OK;
}

// Steps to the next member of an object whose '{' was consumed: *out_end
// when the object closed (a trailing comma is fine), else its key with the
// ':' consumed.
static irt_status_t irio_json_next_member(irio_json_t* json, bool first,
                                          irt_string_view_t* out_key,
                                          bool* out_end) {
  *out_end = irio_json_accept(json, '}');
  if (*out_end) return IRT_OK;
  if (!first) {
    IRT_RETURN_IF_ERROR(
        irio_json_expect(json, ',', "expected ',' or '}' after a member"));
    *out_end = irio_json_accept(json, '}');
    if (*out_end) return IRT_OK;
  }
  IRT_RETURN_IF_ERROR(irio_json_string(json, out_key));
  return irio_json_expect(json, ':', "expected ':' after a key");
}

static irt_status_t irio_json_skip_value(irio_json_t* json, int depth);

// Skips the elements of an array or the members of an object whose opening
// bracket was consumed.
static irt_status_t irio_json_skip_container(irio_json_t* json, char close,
                                             int depth) {
  for (bool first = true;; first = false) {
    if (irio_json_accept(json, close)) return IRT_OK;
    if (!first) {
      IRT_RETURN_IF_ERROR(irio_json_expect(json, ',', "expected ','"));
      if (irio_json_accept(json, close)) return IRT_OK;
    }
    if (close == '}') {
      irt_string_view_t key;
      IRT_RETURN_IF_ERROR(irio_json_string(json, &key));
      IRT_RETURN_IF_ERROR(irio_json_expect(json, ':', "expected ':'"));
    }
    IRT_RETURN_IF_ERROR(irio_json_skip_value(json, depth + 1));
  }
}

static irt_status_t irio_json_skip_value(irio_json_t* json, int depth) {
  if (depth > IRIO_JSON_MAX_DEPTH) {
    return irio_json_error(json, "values nested too deeply");
  }
  irio_json_skip_space(json);
  int c = irio_json_peek(json);
  if (c == '"') {
    irt_string_view_t ignored;
    return irio_json_string(json, &ignored);
  }
  if (c == '{' || c == '[') {
    ++json->offset;
    return irio_json_skip_container(json, c == '{' ? '}' : ']', depth);
  }
  // Numbers and the literals true/false/null.
  size_t start = json->offset;
  while (json->offset < json->size && json->text[json->offset] != '\0' &&
         strchr("+-.0123456789eEtrufalsn", json->text[json->offset])) {
    ++json->offset;
  }
  return json->offset > start ? IRT_OK
                              : irio_json_error(json, "expected a value");
}

static irt_status_t irio_json_u64(irio_json_t* json, uint64_t* out_value) {
  irio_json_skip_space(json);
  size_t start = json->offset;
  uint64_t value = 0;
  while (json->offset < json->size && json->text[json->offset] >= '0' &&
         json->text[json->offset] <= '9') {
    uint64_t digit = (uint64_t)(json->text[json->offset] - '0');
    if (!irt_mul_u64(value, 10, &value) || !irt_add_u64(value, digit, &value)) {
      json->offset = start;
      return irio_json_error(json, "data_offsets value overflows 64 bits");
    }
    ++json->offset;
  }
  if (json->offset == start) {
    return irio_json_error(json,
                           "data_offsets must be [begin, end] of unsigned "
                           "integers");
  }
  *out_value = value;
  return IRT_OK;
}

// `[begin, end]` (a trailing comma is fine).
static irt_status_t irio_json_offset_pair(irio_json_t* json,
                                          uint64_t* out_pair) {
  const char* what = "data_offsets must be [begin, end]";
  IRT_RETURN_IF_ERROR(irio_json_expect(json, '[', what));
  IRT_RETURN_IF_ERROR(irio_json_u64(json, &out_pair[0]));
  IRT_RETURN_IF_ERROR(irio_json_expect(json, ',', what));
  IRT_RETURN_IF_ERROR(irio_json_u64(json, &out_pair[1]));
  (void)irio_json_accept(json, ',');
  return irio_json_expect(json, ']', what);
}

// The value of tensor |key|: an object with data_offsets. Fills the entry's
// range relative to the data region.
static irt_status_t irio_safetensors_tensor(irio_json_t* json,
                                            irt_string_view_t key,
                                            uint64_t data_offset,
                                            uint64_t data_size,
                                            irio_entry_t* entry) {
  char label[64];
  irio_format_key(key, label, sizeof(label));
  if (!irio_json_accept(json, '{')) {
    return irio_json_error(json, "a tensor must be an object");
  }
  bool found = false;
  uint64_t range[2] = {0, 0};
  for (bool first = true;; first = false) {
    irt_string_view_t member;
    bool end = false;
    IRT_RETURN_IF_ERROR(irio_json_next_member(json, first, &member, &end));
    if (end) break;
    if (!found && irt_string_view_equal_cstring(member, "data_offsets")) {
      IRT_RETURN_IF_ERROR_CTX(irio_json_offset_pair(json, range), "tensor '%s'",
                              label);
      found = true;
    } else {
      IRT_RETURN_IF_ERROR(irio_json_skip_value(json, 1));
    }
  }
  if (!found) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "'%s': safetensors tensor '%s' has no data_offsets",
                           json->name, label);
  }
  if (range[0] > range[1] || range[1] > data_size) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "'%s': safetensors tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
        "] are not an ordered range within the "
        "%" PRIu64 " bytes of data",
        json->name, label, range[0], range[1], data_size);
  }
  *entry = (irio_entry_t){
      .key = key,
      .metadata = irt_make_string_view("", 0),
      .storage = IRIO_ENTRY_STORAGE_FILE,
      .length = range[1] - range[0],
      .file_offset = data_offset + range[0],
  };
  return IRT_OK;
}

irt_status_t irio_safetensors_parse(const uint8_t* data, uint64_t size,
                                    const char* name, irio_entry_fn_t fn,
                                    void* user_data) {
  if (size < IRIO_SAFETENSORS_PREFIX_SIZE) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': file of %" PRIu64
                           " bytes is shorter than "
                           "the 8-byte safetensors header length",
                           name, size);
  }
  uint64_t header_length = irio_load_le64(data);
  if (header_length > size - IRIO_SAFETENSORS_PREFIX_SIZE) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': safetensors header length %" PRIu64
                           " exceeds the %" PRIu64 " bytes after it",
                           name, header_length,
                           size - IRIO_SAFETENSORS_PREFIX_SIZE);
  }
  uint64_t data_offset = IRIO_SAFETENSORS_PREFIX_SIZE + header_length;
  irio_json_t json = {(const char*)data + IRIO_SAFETENSORS_PREFIX_SIZE,
                      (size_t)header_length, 0, name};
  if (!irio_json_accept(&json, '{')) {
    return irio_json_error(&json, "the header must be a JSON object");
  }
  for (bool first = true;; first = false) {
    irt_string_view_t key;
    bool end = false;
    IRT_RETURN_IF_ERROR(irio_json_next_member(&json, first, &key, &end));
    if (end) break;
    if (irt_string_view_equal_cstring(key, "__metadata__")) {
      IRT_RETURN_IF_ERROR(irio_json_skip_value(&json, 1));
      continue;
    }
    irio_entry_t entry;
    IRT_RETURN_IF_ERROR(irio_safetensors_tensor(&json, key, data_offset,
                                                size - data_offset, &entry));
    IRT_RETURN_IF_ERROR(fn(user_data, &entry));
  }
  irio_json_skip_space(&json);
  if (json.offset != json.size) {
    return irio_json_error(&json, "unexpected text after the header object");
  }
  return IRT_OK;
}
