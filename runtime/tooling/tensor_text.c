#include "runtime/tooling/tensor_text.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/tooling/minifloat.h"

//===----------------------------------------------------------------------===//
// Element types
//===----------------------------------------------------------------------===//

bool irtool_element_type_parse(irt_string_view_t text,
                               irhal_element_type_t* out_element_type) {
  // The text format also spells opaque types with 'x' ("x8" for "*8").
  if (text.size >= 2 && text.data[0] == 'x' &&
      isdigit((unsigned char)text.data[1])) {
    char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
    if (text.size >= sizeof(name)) return false;
    name[0] = '*';
    memcpy(name + 1, text.data + 1, text.size - 1);
    return irhal_element_type_parse(irt_make_string_view(name, text.size),
                                    out_element_type);
  }
  return irhal_element_type_parse(text, out_element_type);
}

// How the text format reads and writes an element type (spec 9.5.1, 9.5.3).
typedef enum irtool_element_class_e {
  IRTOOL_ELEMENT_SIGNED,    // decimal; signless integers print signed
  IRTOOL_ELEMENT_UNSIGNED,  // decimal
  IRTOOL_ELEMENT_F32,
  IRTOOL_ELEMENT_F64,
  IRTOOL_ELEMENT_MINIFLOAT,  // through f32
  IRTOOL_ELEMENT_HEX,        // bytes in memory order
} irtool_element_class_t;

static irtool_element_class_t irtool_element_class(
    irhal_element_type_t element_type) {
  uint32_t bits = irhal_element_bit_count(element_type);
  bool integer_width = bits == 8 || bits == 16 || bits == 32 || bits == 64;
  irtool_minifloat_format_t format;
  switch (irhal_element_numerical_type(element_type)) {
    case IRHAL_NUMERICAL_TYPE_INTEGER:
    case IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED:
      return integer_width ? IRTOOL_ELEMENT_SIGNED : IRTOOL_ELEMENT_HEX;
    case IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED:
      return integer_width ? IRTOOL_ELEMENT_UNSIGNED : IRTOOL_ELEMENT_HEX;
    default:
      break;
  }
  if (element_type == IRHAL_ELEMENT_TYPE_FLOAT_32) return IRTOOL_ELEMENT_F32;
  if (element_type == IRHAL_ELEMENT_TYPE_FLOAT_64) return IRTOOL_ELEMENT_F64;
  if (irtool_minifloat_format_of(element_type, &format)) {
    return IRTOOL_ELEMENT_MINIFLOAT;
  }
  return IRTOOL_ELEMENT_HEX;
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

irt_status_t irtool_tensor_element_count(const irtool_tensor_t* tensor,
                                         uint64_t* out_count) {
  // A zero dim makes the product 0 however large the other dims are.
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    if (tensor->shape[i] == 0) {
      *out_count = 0;
      return IRT_OK;
    }
  }
  uint64_t count = 1;
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    if (!irt_mul_u64(count, tensor->shape[i], &count)) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "tensor element count overflows");
    }
  }
  *out_count = count;
  return IRT_OK;
}

irt_status_t irtool_tensor_dense_byte_length(const irtool_tensor_t* tensor,
                                             size_t* out_length) {
  uint32_t bits = irhal_element_bit_count(tensor->element_type);
  if (bits == 0 || bits % 8 != 0) {
    char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
    irhal_element_type_format(tensor->element_type, name, sizeof(name));
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "element type %s is not byte-aligned (%u bits)",
                           name, bits);
  }
  uint64_t count = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_element_count(tensor, &count));
  uint64_t length = 0;
  if (!irt_mul_u64(count, bits / 8, &length) || length > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "tensor byte length overflows");
  }
  *out_length = (size_t)length;
  return IRT_OK;
}

irt_status_t irtool_tensor_allocate(irtool_tensor_t* tensor,
                                    irt_allocator_t allocator) {
  size_t length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(tensor, &length));
  void* data = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(allocator, length, &data));
  tensor->data = data;
  tensor->byte_length = length;
  tensor->allocator = allocator;
  return IRT_OK;
}

void irtool_tensor_free_data(irtool_tensor_t* tensor) {
  if (tensor->allocator.vtable) {
    irt_allocator_free(tensor->allocator, tensor->data);
  }
  tensor->data = NULL;
  tensor->byte_length = 0;
  tensor->allocator.vtable = NULL;
  tensor->allocator.self = NULL;
}

void irtool_tensor_format_shape_type(const irtool_tensor_t* tensor, FILE* out) {
  for (uint32_t i = 0; i < tensor->rank; ++i) {
    fprintf(out, "%" PRIu64 "x", tensor->shape[i]);
  }
  char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
  irhal_element_type_format(tensor->element_type, name, sizeof(name));
  fputs(name, out);
}

//===----------------------------------------------------------------------===//
// Parsing
//===----------------------------------------------------------------------===//

static irt_string_view_t irtool_trim(irt_string_view_t text) {
  while (text.size && isspace((unsigned char)text.data[0])) {
    ++text.data;
    --text.size;
  }
  while (text.size && isspace((unsigned char)text.data[text.size - 1])) {
    --text.size;
  }
  return text;
}

// Parses "4x2x3" (non-empty decimal dims) into the tensor's shape.
static irt_status_t irtool_parse_dims(irt_string_view_t text,
                                      irtool_tensor_t* tensor) {
  tensor->rank = 0;
  size_t position = 0;
  while (true) {
    size_t start = position;
    uint64_t dim = 0;
    while (position < text.size && text.data[position] != 'x') {
      char c = text.data[position];
      if (!isdigit((unsigned char)c) || !irt_mul_u64(dim, 10, &dim) ||
          !irt_add_u64(dim, (uint64_t)(c - '0'), &dim)) {
        return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                               "invalid shape '%.*s' (dims are non-negative "
                               "decimal integers separated by 'x')",
                               IRT_SV_ARG(text));
      }
      ++position;
    }
    if (position == start) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "invalid shape '%.*s' (empty dimension)",
                             IRT_SV_ARG(text));
    }
    if (tensor->rank == IRTOOL_MAX_RANK) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                             "shape rank exceeds the limit of %d",
                             IRTOOL_MAX_RANK);
    }
    tensor->shape[tensor->rank++] = dim;
    if (position == text.size) return IRT_OK;
    ++position;  // the 'x'
  }
}

irt_status_t irtool_tensor_spec_parse(irt_string_view_t text,
                                      irtool_tensor_spec_t* out_spec) {
  memset(out_spec, 0, sizeof(*out_spec));
  text = irtool_trim(text);
  if (text.size >= 2 && text.data[0] == '"' && text.data[text.size - 1] == '"') {
    text = irt_make_string_view(text.data + 1, text.size - 2);
  }
  irt_string_view_t metadata = text;
  irt_string_view_t contents = irt_make_string_view(text.data + text.size, 0);
  const char* equals = memchr(text.data, '=', text.size);
  if (equals) {
    metadata = irt_make_string_view(text.data, (size_t)(equals - text.data));
    contents = irt_make_string_view(equals + 1,
                                    text.size - metadata.size - 1);
  }
  if (metadata.size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "missing shape and element type in '%.*s'",
                           IRT_SV_ARG(text));
  }

  // A bare type is a scalar; otherwise the type follows the last 'x' (so
  // opaque tensors are spelled "4x*8": in "4xx8" the type would be "8").
  irtool_tensor_t* tensor = &out_spec->tensor;
  if (!irtool_element_type_parse(metadata, &tensor->element_type)) {
    size_t split = metadata.size;
    while (split > 0 && metadata.data[split - 1] != 'x') --split;
    irt_string_view_t type_text =
        irt_make_string_view(metadata.data + split, metadata.size - split);
    if (split == 0 ||
        !irtool_element_type_parse(type_text, &tensor->element_type)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "unknown element type '%.*s' in '%.*s'",
                             IRT_SV_ARG(type_text), IRT_SV_ARG(metadata));
    }
    IRT_RETURN_IF_ERROR(irtool_parse_dims(
        irt_make_string_view(metadata.data, split - 1), tensor));
  }
  size_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(tensor, &byte_length));

  out_spec->contents_kind = IRTOOL_CONTENTS_ELEMENTS;
  if (contents.size && (contents.data[0] == '@' || contents.data[0] == '+')) {
    out_spec->contents_kind = contents.data[0] == '@'
                                  ? IRTOOL_CONTENTS_FILE
                                  : IRTOOL_CONTENTS_FILE_CONTINUE;
    contents = irt_make_string_view(contents.data + 1, contents.size - 1);
    if (contents.size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "missing file path after '%c' in '%.*s'",
                             contents.data[-1], IRT_SV_ARG(text));
    }
  }
  out_spec->contents = contents;
  return IRT_OK;
}

static bool irtool_is_separator(char c) {
  return isspace((unsigned char)c) || c == ',' || c == '[' || c == ']';
}

// Advances |rest| past the next token; false when none is left.
static bool irtool_next_token(irt_string_view_t* rest,
                              irt_string_view_t* out_token) {
  size_t i = 0;
  while (i < rest->size && irtool_is_separator(rest->data[i])) ++i;
  size_t start = i;
  while (i < rest->size && !irtool_is_separator(rest->data[i])) ++i;
  *out_token = irt_make_string_view(rest->data + start, i - start);
  *rest = irt_make_string_view(rest->data + i, rest->size - i);
  return out_token->size > 0;
}

// Tokens longer than this cannot be a valid number and are rejected before
// being copied for strto*.
#define IRTOOL_MAX_NUMBER_TOKEN 80

static irt_status_t irtool_bad_element(irhal_element_type_t element_type,
                                       irt_string_view_t token, uint64_t index,
                                       const char* reason) {
  char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
  irhal_element_type_format(element_type, name, sizeof(name));
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "invalid %s element '%.*s' at index %" PRIu64 " (%s)",
                         name, token.size > 40 ? 40 : (int)token.size,
                         token.data, index, reason);
}

static irt_status_t irtool_parse_integer(irhal_element_type_t element_type,
                                         irt_string_view_t token,
                                         uint64_t index, uint8_t* out) {
  char text[IRTOOL_MAX_NUMBER_TOKEN + 1];
  if (token.size > IRTOOL_MAX_NUMBER_TOKEN) {
    return irtool_bad_element(element_type, token, index, "too long");
  }
  memcpy(text, token.data, token.size);
  text[token.size] = 0;
  uint32_t bits = irhal_element_bit_count(element_type);
  uint32_t numerical_type = irhal_element_numerical_type(element_type);
  // Accepted range: signless integers take both the signed and the
  // unsigned spelling of every bit pattern.
  int64_t min = numerical_type == IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED
                    ? 0
                    : (int64_t)(UINT64_MAX << (bits - 1));
  uint64_t max = numerical_type == IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED
                     ? UINT64_MAX >> (65 - bits)
                     : UINT64_MAX >> (64 - bits);
  char* end = NULL;
  errno = 0;
  uint64_t value = 0;
  bool in_range = false;
  if (text[0] == '-') {
    long long parsed = strtoll(text, &end, 10);
    in_range = errno != ERANGE && parsed >= min;
    value = (uint64_t)parsed;
  } else {
    unsigned long long parsed = strtoull(text, &end, 10);
    in_range = errno != ERANGE && parsed <= max;
    value = parsed;
  }
  if (end == text || *end != 0) {
    return irtool_bad_element(element_type, token, index, "not an integer");
  }
  if (!in_range) {
    return irtool_bad_element(element_type, token, index, "out of range");
  }
  switch (bits) {
    case 8: { uint8_t v = (uint8_t)value; memcpy(out, &v, 1); break; }
    case 16: { uint16_t v = (uint16_t)value; memcpy(out, &v, 2); break; }
    case 32: { uint32_t v = (uint32_t)value; memcpy(out, &v, 4); break; }
    default: memcpy(out, &value, 8); break;
  }
  return IRT_OK;
}

static irt_status_t irtool_parse_float(irhal_element_type_t element_type,
                                       irtool_element_class_t element_class,
                                       irt_string_view_t token, uint64_t index,
                                       uint8_t* out) {
  char text[IRTOOL_MAX_NUMBER_TOKEN + 1];
  if (token.size > IRTOOL_MAX_NUMBER_TOKEN) {
    return irtool_bad_element(element_type, token, index, "too long");
  }
  memcpy(text, token.data, token.size);
  text[token.size] = 0;
  char* end = NULL;
  if (element_class == IRTOOL_ELEMENT_F64) {
    double value = strtod(text, &end);
    memcpy(out, &value, sizeof(value));
  } else {
    float value = strtof(text, &end);
    if (element_class == IRTOOL_ELEMENT_F32) {
      memcpy(out, &value, sizeof(value));
    } else {
      irtool_minifloat_format_t format;
      irtool_minifloat_format_of(element_type, &format);
      uint32_t bits = irtool_minifloat_from_f32(&format, value);
      if (irhal_element_byte_count(element_type) == 2) {
        uint16_t narrow = (uint16_t)bits;
        memcpy(out, &narrow, 2);
      } else {
        *out = (uint8_t)bits;
      }
    }
  }
  if (end == text || *end != 0) {
    return irtool_bad_element(element_type, token, index, "not a number");
  }
  return IRT_OK;
}

static int irtool_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static irt_status_t irtool_parse_hex(irhal_element_type_t element_type,
                                     irt_string_view_t token, uint64_t index,
                                     uint8_t* out) {
  size_t byte_count = irhal_element_byte_count(element_type);
  if (token.size != 2 * byte_count) {
    char reason[64];
    snprintf(reason, sizeof(reason), "expected %zu hex digits", 2 * byte_count);
    return irtool_bad_element(element_type, token, index, reason);
  }
  for (size_t i = 0; i < byte_count; ++i) {
    int high = irtool_hex_digit(token.data[2 * i]);
    int low = irtool_hex_digit(token.data[2 * i + 1]);
    if (high < 0 || low < 0) {
      return irtool_bad_element(element_type, token, index, "not hex");
    }
    out[i] = (uint8_t)(high << 4 | low);
  }
  return IRT_OK;
}

static irt_status_t irtool_parse_element(irhal_element_type_t element_type,
                                         irt_string_view_t token,
                                         uint64_t index, uint8_t* out) {
  irtool_element_class_t element_class = irtool_element_class(element_type);
  switch (element_class) {
    case IRTOOL_ELEMENT_SIGNED:
    case IRTOOL_ELEMENT_UNSIGNED:
      return irtool_parse_integer(element_type, token, index, out);
    case IRTOOL_ELEMENT_F32:
    case IRTOOL_ELEMENT_F64:
    case IRTOOL_ELEMENT_MINIFLOAT:
      return irtool_parse_float(element_type, element_class, token, index, out);
    default:
      return irtool_parse_hex(element_type, token, index, out);
  }
}

irt_status_t irtool_tensor_parse_elements(irtool_tensor_t* tensor,
                                          irt_string_view_t text) {
  size_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(tensor, &byte_length));
  if (tensor->byte_length < byte_length) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "tensor data is not allocated");
  }
  uint64_t element_count = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_element_count(tensor, &element_count));
  size_t element_size = irhal_element_byte_count(tensor->element_type);
  // Count first so a count mismatch is reported before any token error.
  uint64_t token_count = 0;
  irt_string_view_t rest = text, token;
  while (irtool_next_token(&rest, &token)) ++token_count;
  if (token_count == 0) return IRT_OK;  // zero-filled by allocation
  bool splat = token_count == 1 && element_count > 1;
  if (!splat && token_count != element_count) {
    char* described = NULL;
    size_t described_size = 0;
    FILE* stream = open_memstream(&described, &described_size);
    if (stream) {
      irtool_tensor_format_shape_type(tensor, stream);
      fclose(stream);
    }
    irt_status_t status = irt_make_status(
        IRT_STATUS_OUT_OF_RANGE,
        "expected %" PRIu64 " element%s for %s but got %" PRIu64,
        element_count, element_count == 1 ? "" : "s",
        described ? described : "the tensor", token_count);
    free(described);
    return status;
  }
  rest = text;
  for (uint64_t index = 0; irtool_next_token(&rest, &token); ++index) {
    IRT_RETURN_IF_ERROR(irtool_parse_element(
        tensor->element_type, token, index, tensor->data + index * element_size));
  }
  for (uint64_t index = 1; splat && index < element_count; ++index) {
    memcpy(tensor->data + index * element_size, tensor->data, element_size);
  }
  return IRT_OK;
}

irt_status_t irtool_tensor_parse(irt_string_view_t text,
                                 irt_allocator_t allocator,
                                 irtool_tensor_t* out_tensor) {
  irtool_tensor_spec_t spec;
  IRT_RETURN_IF_ERROR(irtool_tensor_spec_parse(text, &spec));
  if (spec.contents_kind != IRTOOL_CONTENTS_ELEMENTS) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "file contents ('%.*s') need a file reader",
                           IRT_SV_ARG(spec.contents));
  }
  *out_tensor = spec.tensor;
  IRT_RETURN_IF_ERROR(irtool_tensor_allocate(out_tensor, allocator));
  irt_status_t status = irtool_tensor_parse_elements(out_tensor, spec.contents);
  if (!irt_status_is_ok(status)) irtool_tensor_free_data(out_tensor);
  return status;
}

//===----------------------------------------------------------------------===//
// Formatting
//===----------------------------------------------------------------------===//

void irtool_element_format(irhal_element_type_t element_type,
                           const uint8_t* element, FILE* out) {
  size_t size = irhal_element_byte_count(element_type);
  irtool_element_class_t element_class = irtool_element_class(element_type);
  if (element_class == IRTOOL_ELEMENT_SIGNED ||
      element_class == IRTOOL_ELEMENT_UNSIGNED) {
    uint64_t bits = 0;
    int64_t value = 0;
    switch (size) {
      case 1: { int8_t v; memcpy(&v, element, 1); value = v; bits = (uint8_t)v; break; }
      case 2: { int16_t v; memcpy(&v, element, 2); value = v; bits = (uint16_t)v; break; }
      case 4: { int32_t v; memcpy(&v, element, 4); value = v; bits = (uint32_t)v; break; }
      default: memcpy(&value, element, 8); bits = (uint64_t)value; break;
    }
    if (element_class == IRTOOL_ELEMENT_UNSIGNED) {
      fprintf(out, "%" PRIu64, bits);
    } else {
      fprintf(out, "%" PRId64, value);
    }
    return;
  }
  if (element_class == IRTOOL_ELEMENT_F32) {
    float value;
    memcpy(&value, element, sizeof(value));
    fprintf(out, "%G", (double)value);
    return;
  }
  if (element_class == IRTOOL_ELEMENT_F64) {
    double value;
    memcpy(&value, element, sizeof(value));
    fprintf(out, "%G", value);
    return;
  }
  if (element_class == IRTOOL_ELEMENT_MINIFLOAT) {
    irtool_minifloat_format_t format;
    irtool_minifloat_format_of(element_type, &format);
    uint32_t bits = element[0];
    if (size == 2) {
      uint16_t narrow;
      memcpy(&narrow, element, 2);
      bits = narrow;
    }
    fprintf(out, "%G", (double)irtool_minifloat_to_f32(&format, bits));
    return;
  }
  for (size_t i = 0; i < size; ++i) fprintf(out, "%02X", element[i]);
}

typedef struct irtool_formatter_s {
  const irtool_tensor_t* tensor;
  size_t element_size;
  size_t remaining;  // element budget
  FILE* out;
} irtool_formatter_t;

// Writes the slice of dims [dim, rank) at |data|: nested brackets down to
// the innermost list, whose elements are space-separated.
static void irtool_format_slice(irtool_formatter_t* formatter, uint32_t dim,
                                const uint8_t* data) {
  const irtool_tensor_t* tensor = formatter->tensor;
  if (dim + 1 >= tensor->rank) {
    uint64_t count = tensor->rank == 0 ? 1 : tensor->shape[dim];
    uint64_t printed = count < formatter->remaining ? count : formatter->remaining;
    for (uint64_t i = 0; i < printed; ++i) {
      if (i) fputc(' ', formatter->out);
      irtool_element_format(tensor->element_type,
                            data + i * formatter->element_size, formatter->out);
    }
    formatter->remaining -= printed;
    if (printed < count) fputs("...", formatter->out);
    return;
  }
  // The element count is known not to overflow (checked by the caller).
  uint64_t stride = formatter->element_size;
  for (uint32_t i = dim + 1; i < tensor->rank; ++i) stride *= tensor->shape[i];
  for (uint64_t i = 0; i < tensor->shape[dim]; ++i) {
    fputc('[', formatter->out);
    irtool_format_slice(formatter, dim + 1, data + i * stride);
    fputc(']', formatter->out);
  }
}

irt_status_t irtool_tensor_format(const irtool_tensor_t* tensor,
                                  size_t max_element_count, FILE* out) {
  size_t byte_length = 0;
  IRT_RETURN_IF_ERROR(irtool_tensor_dense_byte_length(tensor, &byte_length));
  if (tensor->byte_length < byte_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "tensor data has %zu bytes; its shape needs %zu",
                           tensor->byte_length, byte_length);
  }
  irtool_tensor_format_shape_type(tensor, out);
  fputc('=', out);
  // With no elements the bracket nesting is all there is to print, and the
  // outer dims are not bounded by the data: skip absurd amounts of it.
  uint64_t list_count = 1;
  for (uint32_t i = 0; i + 1 < tensor->rank; ++i) {
    if (!irt_mul_u64(list_count, tensor->shape[i], &list_count)) {
      list_count = UINT64_MAX;
    }
  }
  if (byte_length == 0 && list_count > max_element_count) {
    fputs("...", out);
    return IRT_OK;
  }
  irtool_formatter_t formatter = {
      tensor, irhal_element_byte_count(tensor->element_type),
      max_element_count, out};
  irtool_format_slice(&formatter, 0, tensor->data);
  return IRT_OK;
}
