#include "runtime/tooling/function_io.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/types.h>

#include "runtime/tooling/npy.h"

// Where the next '+' read of a path starts.
struct irtool_file_position_s {
  irtool_file_position_t* next;
  uint64_t offset;
  char path[];
};

void irtool_inputs_initialize(irt_string_view_t signature,
                              irt_allocator_t allocator,
                              irtool_inputs_t* out_inputs) {
  memset(out_inputs, 0, sizeof(*out_inputs));
  out_inputs->allocator = allocator;
  out_inputs->signature = signature;
}

void irtool_inputs_deinitialize(irtool_inputs_t* inputs) {
  for (size_t i = 0; i < inputs->count; ++i) {
    irtool_tensor_free_data(&inputs->items[i].tensor);
  }
  irt_allocator_free(inputs->allocator, inputs->items);
  irtool_file_position_t* file = inputs->files;
  while (file) {
    irtool_file_position_t* next = file->next;
    irt_allocator_free(inputs->allocator, file);
    file = next;
  }
  memset(inputs, 0, sizeof(*inputs));
}

// The position record of |path| (created at offset 0 on first use).
static irt_status_t irtool_inputs_file(irtool_inputs_t* inputs,
                                       irt_string_view_t path,
                                       irtool_file_position_t** out_file) {
  for (irtool_file_position_t* file = inputs->files; file; file = file->next) {
    if (irt_string_view_equal_cstring(path, file->path)) {
      *out_file = file;
      return IRT_OK;
    }
  }
  if (memchr(path.data, 0, path.size)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "file path contains a NUL byte");
  }
  irtool_file_position_t* file = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(
      inputs->allocator, sizeof(*file) + path.size + 1, (void**)&file));
  memcpy(file->path, path.data, path.size);
  file->next = inputs->files;
  inputs->files = file;
  *out_file = file;
  return IRT_OK;
}

// The status for a failed fopen of |path|, from errno.
static irt_status_t irtool_open_error(const char* path, const char* purpose) {
  int error = errno;
  irt_status_code_t code = IRT_STATUS_UNAVAILABLE;
  if (error == ENOENT || error == ENOTDIR) code = IRT_STATUS_NOT_FOUND;
  if (error == EACCES || error == EPERM || error == EROFS) {
    code = IRT_STATUS_PERMISSION_DENIED;
  }
  return irt_make_status(code, "cannot open '%s'%s: %s", path, purpose,
                         strerror(error));
}

static irt_status_t irtool_open_at(const irtool_file_position_t* file,
                                   FILE** out_stream) {
  FILE* stream = fopen(file->path, "rb");
  if (!stream) return irtool_open_error(file->path, "");
  if (fseeko(stream, (off_t)file->offset, SEEK_SET) != 0) {
    fclose(stream);
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "cannot seek to offset %" PRIu64 " of '%s'",
                           file->offset, file->path);
  }
  *out_stream = stream;
  return IRT_OK;
}

// Makes room for |extra| more items.
static irt_status_t irtool_inputs_reserve(irtool_inputs_t* inputs,
                                          size_t extra) {
  if (inputs->capacity - inputs->count >= extra) return IRT_OK;
  size_t capacity = inputs->capacity ? inputs->capacity * 2 : 8;
  while (capacity - inputs->count < extra) capacity *= 2;
  void* items = inputs->items;
  IRT_RETURN_IF_ERROR(irt_allocator_realloc(
      inputs->allocator, capacity * sizeof(irtool_input_t), &items));
  inputs->items = items;
  inputs->capacity = capacity;
  return IRT_OK;
}

// The primitive type of argument |index|, or NONE for a ref.
static irvm_value_type_t irtool_inputs_value_type(const irtool_inputs_t* inputs,
                                                  size_t index) {
  if (index >= inputs->signature.size) return IRVM_VALUE_TYPE_NONE;
  switch (inputs->signature.data[index]) {
    case 'i': return IRVM_VALUE_TYPE_I32;
    case 'I': return IRVM_VALUE_TYPE_I64;
    case 'f': return IRVM_VALUE_TYPE_F32;
    case 'F': return IRVM_VALUE_TYPE_F64;
    default: return IRVM_VALUE_TYPE_NONE;
  }
}

// Reads every array from |file|'s position on ("*path.npy") or just the next
// one, appending them as tensors.
static irt_status_t irtool_inputs_read_npy(irtool_inputs_t* inputs,
                                           irtool_file_position_t* file,
                                           bool all) {
  FILE* stream = NULL;
  IRT_RETURN_IF_ERROR(irtool_open_at(file, &stream));
  size_t first = inputs->count;
  irt_status_t status = IRT_OK;
  do {
    if (all) {
      // Stop cleanly at the end of the file.
      int c = fgetc(stream);
      if (c == EOF) break;
      ungetc(c, stream);
    }
    status = irtool_inputs_reserve(inputs, 1);
    if (!irt_status_is_ok(status)) break;
    irtool_input_t* input = &inputs->items[inputs->count];
    memset(input, 0, sizeof(*input));
    input->kind = IRTOOL_INPUT_TENSOR;
    status = irtool_npy_read(stream, file->path, inputs->allocator,
                             &input->tensor);
    if (!irt_status_is_ok(status)) break;
    ++inputs->count;
  } while (all);
  off_t end = ftello(stream);
  fclose(stream);
  if (irt_status_is_ok(status)) {
    file->offset = (uint64_t)end;
    return IRT_OK;
  }
  while (inputs->count > first) {
    irtool_tensor_free_data(&inputs->items[--inputs->count].tensor);
  }
  return status;
}

// Fills |tensor|'s allocated data with raw bytes of |file| at its position.
static irt_status_t irtool_read_raw(irtool_file_position_t* file,
                                    irtool_tensor_t* tensor) {
  FILE* stream = NULL;
  IRT_RETURN_IF_ERROR(irtool_open_at(file, &stream));
  size_t read = tensor->byte_length
                    ? fread(tensor->data, 1, tensor->byte_length, stream)
                    : 0;
  fclose(stream);
  if (read != tensor->byte_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s' has %zu bytes at offset %" PRIu64
                           " but the tensor needs %zu",
                           file->path, read, file->offset, tensor->byte_length);
  }
  file->offset += read;
  return IRT_OK;
}

static irt_status_t irtool_inputs_parse_tensor(irtool_inputs_t* inputs,
                                               irt_string_view_t text,
                                               irtool_tensor_t* out_tensor) {
  irtool_tensor_spec_t spec;
  IRT_RETURN_IF_ERROR(irtool_tensor_spec_parse(text, &spec));
  irtool_file_position_t* file = NULL;
  if (spec.contents_kind != IRTOOL_CONTENTS_ELEMENTS) {
    IRT_RETURN_IF_ERROR(irtool_inputs_file(inputs, spec.contents, &file));
    if (spec.contents_kind == IRTOOL_CONTENTS_FILE) file->offset = 0;
  }
  *out_tensor = spec.tensor;
  IRT_RETURN_IF_ERROR(irtool_tensor_allocate(out_tensor, inputs->allocator));
  irt_status_t status =
      file ? irtool_read_raw(file, out_tensor)
           : irtool_tensor_parse_elements(out_tensor, spec.contents);
  if (!irt_status_is_ok(status)) irtool_tensor_free_data(out_tensor);
  return status;
}

// A primitive argument: "7", or "i32=7" naming the argument's own type.
static irt_status_t irtool_parse_value(irt_string_view_t text,
                                       irvm_value_type_t type,
                                       irvm_value_t* out_value) {
  const char* name = irvm_value_type_name(type);
  const char* equals = memchr(text.data, '=', text.size);
  if (equals) {
    irt_string_view_t prefix =
        irt_make_string_view(text.data, (size_t)(equals - text.data));
    if (!irt_string_view_equal_cstring(prefix, name)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "the argument is an %s; '%.*s' is not", name,
                             IRT_SV_ARG(text));
    }
    text = irt_make_string_view(equals + 1, text.size - prefix.size - 1);
  }
  // Parse as a scalar of the matching element type.
  irtool_tensor_t scalar;
  memset(&scalar, 0, sizeof(scalar));
  scalar.element_type =
      type == IRVM_VALUE_TYPE_I32   ? IRHAL_ELEMENT_TYPE_INT_32
      : type == IRVM_VALUE_TYPE_I64 ? IRHAL_ELEMENT_TYPE_INT_64
      : type == IRVM_VALUE_TYPE_F32 ? IRHAL_ELEMENT_TYPE_FLOAT_32
                                    : IRHAL_ELEMENT_TYPE_FLOAT_64;
  uint8_t bytes[8] = {0};
  scalar.data = bytes;
  scalar.byte_length = irhal_element_byte_count(scalar.element_type);
  size_t i = 0;
  while (i < text.size && isspace((unsigned char)text.data[i])) ++i;
  if (i == text.size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "no %s value specified", name);
  }
  IRT_RETURN_IF_ERROR(irtool_tensor_parse_elements(&scalar, text));
  *out_value = irvm_value_none();
  out_value->type = type;
  memcpy(&out_value->i64, bytes, scalar.byte_length);
  return IRT_OK;
}

static irt_status_t irtool_inputs_parse_one(irtool_inputs_t* inputs,
                                            irt_string_view_t spec,
                                            irtool_input_t* input) {
  irvm_value_type_t value_type = irtool_inputs_value_type(inputs, inputs->count);
  if (irt_string_view_equal_cstring(spec, "(null)") ||
      irt_string_view_equal_cstring(spec, "(ignored)")) {
    if (value_type == IRVM_VALUE_TYPE_NONE) {
      input->kind = IRTOOL_INPUT_NULL;
    } else {
      input->kind = IRTOOL_INPUT_VALUE;
      input->value = irvm_value_convert(irvm_value_make_i32(0), value_type);
    }
    return IRT_OK;
  }
  if (spec.data[0] == '&') {
    input->kind = IRTOOL_INPUT_BUFFER;
    return irtool_inputs_parse_tensor(
        inputs, irt_make_string_view(spec.data + 1, spec.size - 1),
        &input->tensor);
  }
  if (value_type != IRVM_VALUE_TYPE_NONE) {
    input->kind = IRTOOL_INPUT_VALUE;
    return irtool_parse_value(spec, value_type, &input->value);
  }
  if (!memchr(spec.data, '=', spec.size) && !memchr(spec.data, 'x', spec.size)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%.*s' is not a tensor (expected SHAPExTYPE=VALUES, "
                           "e.g. 4xf32=1 2 3 4, or TYPE=VALUE for a scalar)",
                           IRT_SV_ARG(spec));
  }
  input->kind = IRTOOL_INPUT_TENSOR;
  return irtool_inputs_parse_tensor(inputs, spec, &input->tensor);
}

irt_status_t irtool_inputs_parse(irtool_inputs_t* inputs,
                                 irt_string_view_t spec) {
  while (spec.size && isspace((unsigned char)spec.data[0])) {
    ++spec.data;
    --spec.size;
  }
  while (spec.size && isspace((unsigned char)spec.data[spec.size - 1])) {
    --spec.size;
  }
  if (spec.size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "no value specified for input");
  }
  char form = spec.data[0];
  if (form == '@' || form == '+' || form == '*') {
    irt_string_view_t path = irt_make_string_view(spec.data + 1, spec.size - 1);
    if (path.size < 4 ||
        memcmp(path.data + path.size - 4, ".npy", 4) != 0) {
      return irt_make_status(
          IRT_STATUS_UNIMPLEMENTED,
          "'%.*s': only .npy files can be read without a shape and type "
          "(raw files need SHAPExTYPE=@PATH)",
          IRT_SV_ARG(spec));
    }
    irtool_file_position_t* file = NULL;
    IRT_RETURN_IF_ERROR(irtool_inputs_file(inputs, path, &file));
    if (form == '@') file->offset = 0;
    return irtool_inputs_read_npy(inputs, file, form == '*');
  }
  IRT_RETURN_IF_ERROR(irtool_inputs_reserve(inputs, 1));
  irtool_input_t* input = &inputs->items[inputs->count];
  memset(input, 0, sizeof(*input));
  IRT_RETURN_IF_ERROR(irtool_inputs_parse_one(inputs, spec, input));
  ++inputs->count;
  return IRT_OK;
}

irt_status_t irtool_output_write(irt_string_view_t spec,
                                 const irtool_tensor_t* tensor) {
  if (spec.size < 2 || (spec.data[0] != '@' && spec.data[0] != '+')) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid output '%.*s' (expected '', '-', @PATH or "
                           "+PATH)",
                           IRT_SV_ARG(spec));
  }
  char path[4096];
  if (spec.size > sizeof(path) || memchr(spec.data, 0, spec.size)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "invalid output path in '%.*s'", IRT_SV_ARG(spec));
  }
  memcpy(path, spec.data + 1, spec.size - 1);
  path[spec.size - 1] = 0;
  size_t length = spec.size - 1;
  bool npy = length >= 4 && strcmp(path + length - 4, ".npy") == 0;
  FILE* stream = fopen(path, spec.data[0] == '@' ? "wb" : "ab");
  if (!stream) return irtool_open_error(path, " for writing");
  irt_status_t status = IRT_OK;
  if (npy) {
    status = irtool_npy_write(stream, path, tensor);
  } else if (tensor->byte_length &&
             fwrite(tensor->data, 1, tensor->byte_length, stream) !=
                 tensor->byte_length) {
    status = irt_make_status(IRT_STATUS_DATA_LOSS, "cannot write to '%s'", path);
  }
  if (fclose(stream) != 0 && irt_status_is_ok(status)) {
    status = irt_make_status(IRT_STATUS_DATA_LOSS, "cannot write to '%s'", path);
  }
  return status;
}
