#include "runtime/tooling/npy.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "runtime/base/math.h"

static const uint8_t kIrtoolNpyMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
// Magic and version; the header length follows (u16 in v1, u32 after).
#define IRTOOL_NPY_PREFIX_LENGTH 8
#define IRTOOL_NPY_ALIGNMENT 64

//===----------------------------------------------------------------------===//
// Header dictionary
//===----------------------------------------------------------------------===//

// A cursor over the header's Python dict literal.
typedef struct irtool_npy_parser_s {
  const char* text;
  size_t size;
  size_t position;
} irtool_npy_parser_t;

static irt_status_t irtool_npy_error(const irtool_npy_parser_t* parser,
                                     const char* expected) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "invalid .npy header: expected %s at offset %zu of "
                         "'%.*s'",
                         expected, parser->position,
                         parser->size > 120 ? 120 : (int)parser->size,
                         parser->text);
}

static void irtool_npy_skip_space(irtool_npy_parser_t* parser) {
  while (parser->position < parser->size &&
         isspace((unsigned char)parser->text[parser->position])) {
    ++parser->position;
  }
}

// Consumes |c| (after whitespace) if it is next.
static bool irtool_npy_accept(irtool_npy_parser_t* parser, char c) {
  irtool_npy_skip_space(parser);
  if (parser->position < parser->size && parser->text[parser->position] == c) {
    ++parser->position;
    return true;
  }
  return false;
}

static bool irtool_npy_accept_word(irtool_npy_parser_t* parser,
                                   const char* word) {
  irtool_npy_skip_space(parser);
  size_t length = strlen(word);
  if (parser->size - parser->position >= length &&
      memcmp(parser->text + parser->position, word, length) == 0) {
    parser->position += length;
    return true;
  }
  return false;
}

// A '...' or "..." literal without escapes.
static irt_status_t irtool_npy_parse_string(irtool_npy_parser_t* parser,
                                            irt_string_view_t* out_string) {
  irtool_npy_skip_space(parser);
  if (parser->position >= parser->size ||
      (parser->text[parser->position] != '\'' &&
       parser->text[parser->position] != '"')) {
    return irtool_npy_error(parser, "a quoted string");
  }
  char quote = parser->text[parser->position++];
  size_t start = parser->position;
  while (parser->position < parser->size &&
         parser->text[parser->position] != quote) {
    if (parser->text[parser->position] == '\\') {
      return irtool_npy_error(parser, "a string without escapes");
    }
    ++parser->position;
  }
  if (parser->position >= parser->size) {
    return irtool_npy_error(parser, "a closing quote");
  }
  *out_string = irt_make_string_view(parser->text + start,
                                     parser->position - start);
  ++parser->position;
  return IRT_OK;
}

// A non-negative decimal; Python 2 writers may append 'L'.
static irt_status_t irtool_npy_parse_integer(irtool_npy_parser_t* parser,
                                             uint64_t* out_value) {
  irtool_npy_skip_space(parser);
  size_t start = parser->position;
  uint64_t value = 0;
  while (parser->position < parser->size &&
         isdigit((unsigned char)parser->text[parser->position])) {
    if (!irt_mul_u64(value, 10, &value) ||
        !irt_add_u64(value, (uint64_t)(parser->text[parser->position] - '0'),
                     &value)) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "invalid .npy header: dimension too large");
    }
    ++parser->position;
  }
  if (parser->position == start) {
    return irtool_npy_error(parser, "a non-negative integer");
  }
  if (parser->position < parser->size && parser->text[parser->position] == 'L') {
    ++parser->position;
  }
  *out_value = value;
  return IRT_OK;
}

static irt_status_t irtool_npy_parse_shape(irtool_npy_parser_t* parser,
                                           irtool_tensor_t* tensor) {
  if (!irtool_npy_accept(parser, '(')) return irtool_npy_error(parser, "'('");
  tensor->rank = 0;
  while (!irtool_npy_accept(parser, ')')) {
    if (tensor->rank == IRTOOL_MAX_RANK) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "invalid .npy header: shape rank exceeds %d",
                             IRTOOL_MAX_RANK);
    }
    IRT_RETURN_IF_ERROR(
        irtool_npy_parse_integer(parser, &tensor->shape[tensor->rank++]));
    if (!irtool_npy_accept(parser, ',')) {
      if (!irtool_npy_accept(parser, ')')) {
        return irtool_npy_error(parser, "',' or ')' in the shape");
      }
      break;
    }
  }
  return IRT_OK;
}

// "<f4", "|b1", "=i8": byte order, kind and width in bytes.
static irt_status_t irtool_npy_parse_descr(irt_string_view_t descr,
                                           irhal_element_type_t* out_type) {
  irt_string_view_t rest = descr;
  if (rest.size && strchr("<|=>", rest.data[0])) {
    if (rest.data[0] == '>') {
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             ".npy dtype '%.*s' is big-endian; only "
                             "little-endian data is supported",
                             IRT_SV_ARG(descr));
    }
    ++rest.data;
    --rest.size;
  }
  uint32_t numerical_type = 0;
  switch (rest.size ? rest.data[0] : 0) {
    case 'b': numerical_type = IRHAL_NUMERICAL_TYPE_BOOLEAN; break;
    case 'i': numerical_type = IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED; break;
    case 'u': numerical_type = IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED; break;
    case 'f': numerical_type = IRHAL_NUMERICAL_TYPE_FLOAT_IEEE; break;
    case 'c': numerical_type = IRHAL_NUMERICAL_TYPE_FLOAT_COMPLEX; break;
    case 'V': numerical_type = IRHAL_NUMERICAL_TYPE_UNKNOWN; break;
    default:
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             "unsupported .npy dtype '%.*s' (kinds b, i, u, "
                             "f, c and V are supported)",
                             IRT_SV_ARG(descr));
  }
  uint32_t width = 0;
  size_t i = 1;
  for (; i < rest.size && i < 4 && isdigit((unsigned char)rest.data[i]); ++i) {
    width = width * 10 + (uint32_t)(rest.data[i] - '0');
  }
  if (i == 1 || i != rest.size || width == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid .npy dtype '%.*s'", IRT_SV_ARG(descr));
  }
  if (width * 8 > 255) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           ".npy dtype '%.*s' is wider than 31 bytes",
                           IRT_SV_ARG(descr));
  }
  *out_type = IRHAL_ELEMENT_TYPE(numerical_type, width * 8);
  return IRT_OK;
}

static irt_status_t irtool_npy_parse_dict(irtool_npy_parser_t* parser,
                                          irtool_tensor_t* tensor) {
  enum { kDescr = 1, kFortranOrder = 2, kShape = 4, kAll = 7 };
  unsigned seen = 0;
  if (!irtool_npy_accept(parser, '{')) return irtool_npy_error(parser, "'{'");
  while (!irtool_npy_accept(parser, '}')) {
    irt_string_view_t key;
    IRT_RETURN_IF_ERROR(irtool_npy_parse_string(parser, &key));
    if (!irtool_npy_accept(parser, ':')) {
      return irtool_npy_error(parser, "':' after a key");
    }
    unsigned field = irt_string_view_equal_cstring(key, "descr")   ? kDescr
                     : irt_string_view_equal_cstring(key, "shape") ? kShape
                     : irt_string_view_equal_cstring(key, "fortran_order")
                         ? kFortranOrder
                         : 0;
    if (field == 0 || (seen & field)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "invalid .npy header: %s key '%.*s'",
                             field ? "duplicate" : "unexpected",
                             IRT_SV_ARG(key));
    }
    seen |= field;
    if (field == kDescr) {
      irt_string_view_t descr;
      irtool_npy_skip_space(parser);
      if (parser->position < parser->size &&
          parser->text[parser->position] == '[') {
        return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                               "structured .npy dtypes are not supported");
      }
      IRT_RETURN_IF_ERROR(irtool_npy_parse_string(parser, &descr));
      IRT_RETURN_IF_ERROR(irtool_npy_parse_descr(descr, &tensor->element_type));
    } else if (field == kShape) {
      IRT_RETURN_IF_ERROR(irtool_npy_parse_shape(parser, tensor));
    } else if (irtool_npy_accept_word(parser, "True")) {
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             "Fortran-order .npy arrays are not supported");
    } else if (!irtool_npy_accept_word(parser, "False")) {
      return irtool_npy_error(parser, "True or False");
    }
    if (!irtool_npy_accept(parser, ',')) {
      if (!irtool_npy_accept(parser, '}')) {
        return irtool_npy_error(parser, "',' or '}'");
      }
      break;
    }
  }
  irtool_npy_skip_space(parser);
  if (parser->position != parser->size) {
    return irtool_npy_error(parser, "only padding after '}'");
  }
  if (seen != kAll) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid .npy header: missing '%s'",
                           !(seen & kDescr)   ? "descr"
                           : !(seen & kShape) ? "shape"
                                              : "fortran_order");
  }
  return IRT_OK;
}

// Validates the fixed prefix; *out_length_size is 2 (v1) or 4 (v2, v3).
static irt_status_t irtool_npy_parse_prefix(const uint8_t* prefix,
                                            size_t* out_length_size) {
  if (memcmp(prefix, kIrtoolNpyMagic, sizeof(kIrtoolNpyMagic)) != 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "not a .npy array (bad magic)");
  }
  uint8_t major = prefix[6];
  if (major < 1 || major > 3) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "unsupported .npy format version %u.%u", major,
                           prefix[7]);
  }
  *out_length_size = major == 1 ? 2 : 4;
  return IRT_OK;
}

static uint32_t irtool_npy_read_length(const uint8_t* bytes, size_t size) {
  uint32_t length = 0;
  for (size_t i = size; i-- > 0;) length = length << 8 | bytes[i];
  return length;
}

irt_status_t irtool_npy_parse_header(const uint8_t* data, size_t size,
                                     irtool_tensor_t* out_tensor,
                                     size_t* out_data_offset) {
  memset(out_tensor, 0, sizeof(*out_tensor));
  if (size < IRTOOL_NPY_PREFIX_LENGTH) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           ".npy header truncated (%zu bytes)", size);
  }
  size_t length_size = 0;
  IRT_RETURN_IF_ERROR(irtool_npy_parse_prefix(data, &length_size));
  size_t prefix_length = IRTOOL_NPY_PREFIX_LENGTH + length_size;
  if (size < prefix_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           ".npy header truncated (%zu bytes)", size);
  }
  uint32_t header_length = irtool_npy_read_length(
      data + IRTOOL_NPY_PREFIX_LENGTH, length_size);
  if (header_length > IRTOOL_NPY_MAX_HEADER_LENGTH) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           ".npy header length %u exceeds the limit of %u",
                           header_length, IRTOOL_NPY_MAX_HEADER_LENGTH);
  }
  if (size - prefix_length < header_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           ".npy header truncated: %u bytes declared, %zu "
                           "present",
                           header_length, size - prefix_length);
  }
  irtool_npy_parser_t parser = {(const char*)data + prefix_length,
                                header_length, 0};
  IRT_RETURN_IF_ERROR(irtool_npy_parse_dict(&parser, out_tensor));
  size_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(out_tensor, &byte_length));
  *out_data_offset = prefix_length + header_length;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Files
//===----------------------------------------------------------------------===//

// Bytes left after the position of a seekable |file|.
static irt_status_t irtool_npy_remaining(FILE* file, const char* name,
                                         uint64_t* out_remaining) {
  off_t position = ftello(file);
  if (position < 0 || fseeko(file, 0, SEEK_END) != 0) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "'%s' is not a seekable file", name);
  }
  off_t end = ftello(file);
  if (end < position || fseeko(file, position, SEEK_SET) != 0) {
    return irt_make_status(IRT_STATUS_DATA_LOSS, "cannot seek in '%s'", name);
  }
  *out_remaining = (uint64_t)(end - position);
  return IRT_OK;
}

static irt_status_t irtool_npy_read_exactly(FILE* file, const char* name,
                                            void* buffer, size_t size,
                                            const char* what) {
  if (size && fread(buffer, 1, size, file) != size) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': %s truncated (end of file)", name, what);
  }
  return IRT_OK;
}

static irt_status_t irtool_npy_read_header(FILE* file, const char* name,
                                           irt_allocator_t allocator,
                                           irtool_tensor_t* out_tensor) {
  uint8_t prefix[IRTOOL_NPY_PREFIX_LENGTH + 4];
  IRT_RETURN_IF_ERROR(irtool_npy_read_exactly(
      file, name, prefix, IRTOOL_NPY_PREFIX_LENGTH, ".npy header"));
  size_t length_size = 0;
  IRT_RETURN_IF_ERROR(irtool_npy_parse_prefix(prefix, &length_size));
  IRT_RETURN_IF_ERROR(irtool_npy_read_exactly(
      file, name, prefix + IRTOOL_NPY_PREFIX_LENGTH, length_size,
      ".npy header"));
  size_t prefix_length = IRTOOL_NPY_PREFIX_LENGTH + length_size;
  uint32_t header_length = irtool_npy_read_length(
      prefix + IRTOOL_NPY_PREFIX_LENGTH, length_size);
  if (header_length > IRTOOL_NPY_MAX_HEADER_LENGTH) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           ".npy header length %u exceeds the limit of %u",
                           header_length, IRTOOL_NPY_MAX_HEADER_LENGTH);
  }
  uint8_t* header = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(
      allocator, prefix_length + header_length, (void**)&header));
  memcpy(header, prefix, prefix_length);
  size_t data_offset = 0;
  irt_status_t status = irtool_npy_read_exactly(
      file, name, header + prefix_length, header_length, ".npy header");
  if (irt_status_is_ok(status)) {
    status = irtool_npy_parse_header(header, prefix_length + header_length,
                                     out_tensor, &data_offset);
  }
  irt_allocator_free(allocator, header);
  return status;
}

irt_status_t irtool_npy_read(FILE* file, const char* name,
                             irt_allocator_t allocator,
                             irtool_tensor_t* out_tensor) {
  memset(out_tensor, 0, sizeof(*out_tensor));
  IRT_RETURN_IF_ERROR_CTX(
      irtool_npy_read_header(file, name, allocator, out_tensor),
      "reading '%s'", name);
  size_t byte_length = 0;
  uint64_t remaining = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(out_tensor, &byte_length));
  IRT_RETURN_IF_ERROR(irtool_npy_remaining(file, name, &remaining));
  if (remaining < byte_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': .npy data truncated: the header describes "
                           "%zu bytes but %" PRIu64 " remain",
                           name, byte_length, remaining);
  }
  IRT_RETURN_IF_ERROR(irtool_tensor_allocate(out_tensor, allocator));
  irt_status_t status = irtool_npy_read_exactly(
      file, name, out_tensor->data, byte_length, ".npy data");
  if (!irt_status_is_ok(status)) irtool_tensor_free_data(out_tensor);
  return status;
}

static irt_status_t irtool_npy_descr(irhal_element_type_t element_type,
                                     char* buffer, size_t capacity) {
  char kind = 0;
  switch (irhal_element_numerical_type(element_type)) {
    case IRHAL_NUMERICAL_TYPE_INTEGER:
    case IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED: kind = 'i'; break;
    case IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED: kind = 'u'; break;
    case IRHAL_NUMERICAL_TYPE_BOOLEAN: kind = 'b'; break;
    case IRHAL_NUMERICAL_TYPE_FLOAT_IEEE: kind = 'f'; break;
    case IRHAL_NUMERICAL_TYPE_FLOAT_COMPLEX: kind = 'c'; break;
    case IRHAL_NUMERICAL_TYPE_UNKNOWN: kind = 'V'; break;
    default: break;
  }
  uint32_t bits = irhal_element_bit_count(element_type);
  if (!kind || bits == 0 || bits % 8 != 0 ||
      (element_type & 0x00FFFF00u) != 0) {
    char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
    irhal_element_type_format(element_type, name, sizeof(name));
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "element type %s cannot be written to .npy", name);
  }
  snprintf(buffer, capacity, "%c%c%u", bits == 8 ? '|' : '<', kind, bits / 8);
  return IRT_OK;
}

irt_status_t irtool_npy_write(FILE* file, const char* name,
                              const irtool_tensor_t* tensor) {
  size_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(tensor, &byte_length));
  if (tensor->byte_length < byte_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "tensor data has %zu bytes; its shape needs %zu",
                           tensor->byte_length, byte_length);
  }
  char descr[8];
  IRT_RETURN_IF_ERROR(
      irtool_npy_descr(tensor->element_type, descr, sizeof(descr)));

  // Build the dict in memory to learn its length before the prefix.
  char* header = NULL;
  size_t header_size = 0;
  FILE* stream = open_memstream(&header, &header_size);
  if (!stream) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "out of memory formatting a .npy header");
  }
  fprintf(stream, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    fprintf(stream, "%s%" PRIu64, i ? ", " : "", tensor->shape[i]);
  }
  fputs(tensor->rank == 1 ? ",), }" : "), }", stream);
  fclose(stream);

  // Pad with spaces and a final newline so the data is 64-byte aligned.
  size_t length_size =
      header_size + IRTOOL_NPY_ALIGNMENT <= 0xFFFF ? 2 : 4;
  size_t unpadded = IRTOOL_NPY_PREFIX_LENGTH + length_size + header_size + 1;
  size_t padding = irt_align_size(unpadded, IRTOOL_NPY_ALIGNMENT) - unpadded;
  uint32_t header_length = (uint32_t)(header_size + padding + 1);
  uint8_t prefix[IRTOOL_NPY_PREFIX_LENGTH + 4];
  memcpy(prefix, kIrtoolNpyMagic, sizeof(kIrtoolNpyMagic));
  prefix[6] = length_size == 2 ? 1 : 2;
  prefix[7] = 0;
  for (size_t i = 0; i < length_size; ++i) {
    prefix[IRTOOL_NPY_PREFIX_LENGTH + i] = (uint8_t)(header_length >> (8 * i));
  }
  bool ok = fwrite(prefix, 1, IRTOOL_NPY_PREFIX_LENGTH + length_size, file) ==
                IRTOOL_NPY_PREFIX_LENGTH + length_size &&
            fwrite(header, 1, header_size, file) == header_size;
  free(header);
  for (size_t i = 0; ok && i < padding; ++i) ok = fputc(' ', file) != EOF;
  ok = ok && fputc('\n', file) != EOF;
  ok = ok && (byte_length == 0 ||
              fwrite(tensor->data, 1, byte_length, file) == byte_length);
  if (!ok) {
    return irt_make_status(IRT_STATUS_DATA_LOSS, "cannot write to '%s'", name);
  }
  return IRT_OK;
}
