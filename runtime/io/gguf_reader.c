// GGUF v2/v3 reader (HAL spec 3.3): only tensor names and byte ranges are
// used; metadata values are skipped except `general.alignment`.
#include <inttypes.h>

#include "runtime/base/math.h"
#include "runtime/io/archive.h"
#include "runtime/io/bytes.h"

#define IRIO_GGUF_MAGIC 0x46554747u  // "GGUF"
#define IRIO_GGUF_DEFAULT_ALIGNMENT 32

enum {
  IRIO_GGUF_TYPE_UINT32 = 4,
  IRIO_GGUF_TYPE_STRING = 8,
  IRIO_GGUF_TYPE_ARRAY = 9,
  IRIO_GGUF_TYPE_COUNT = 13,
};

// A bounds-checked sequential reader over the file.
typedef struct irio_gguf_reader_s {
  const uint8_t* data;
  uint64_t size;
  uint64_t offset;
  const char* name;
} irio_gguf_reader_t;

static irt_status_t irio_gguf_take(irio_gguf_reader_t* reader, uint64_t length,
                                   const char* field,
                                   const uint8_t** out_bytes) {
  if (!irt_range_fits(reader->offset, length, reader->size)) {
    return irt_make_status(
        IRT_STATUS_OUT_OF_RANGE,
        "'%s': gguf %s at offset %" PRIu64 " (%" PRIu64
        " bytes) runs past the end of the %" PRIu64 "-byte file",
        reader->name, field, reader->offset, length, reader->size);
  }
  *out_bytes = reader->data + reader->offset;
  reader->offset += length;
  return IRT_OK;
}

static irt_status_t irio_gguf_u32(irio_gguf_reader_t* reader, const char* field,
                                  uint32_t* out_value) {
  const uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irio_gguf_take(reader, 4, field, &bytes));
  *out_value = irio_load_le32(bytes);
  return IRT_OK;
}

static irt_status_t irio_gguf_u64(irio_gguf_reader_t* reader, const char* field,
                                  uint64_t* out_value) {
  const uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irio_gguf_take(reader, 8, field, &bytes));
  *out_value = irio_load_le64(bytes);
  return IRT_OK;
}

static irt_status_t irio_gguf_string(irio_gguf_reader_t* reader,
                                     const char* field,
                                     irt_string_view_t* out_string) {
  uint64_t length = 0;
  const uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irio_gguf_u64(reader, field, &length));
  IRT_RETURN_IF_ERROR(irio_gguf_take(reader, length, field, &bytes));
  *out_string = irt_make_string_view((const char*)bytes, (size_t)length);
  return IRT_OK;
}

// Byte size of a scalar metadata value type; 0 for string, array, unknown.
static uint64_t irio_gguf_scalar_size(uint32_t type) {
  static const uint8_t kSizes[IRIO_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4,
                                                       1, 0, 0, 8, 8, 8};
  return type < IRIO_GGUF_TYPE_COUNT ? kSizes[type] : 0;
}

// Skips |count| values of |type| (no arrays: GGUF arrays do not nest).
static irt_status_t irio_gguf_skip_values(irio_gguf_reader_t* reader,
                                          uint32_t type, uint64_t count) {
  const uint8_t* bytes = NULL;
  if (type == IRIO_GGUF_TYPE_STRING) {
    // Each string takes at least 8 bytes, so a bogus count ends at the EOF.
    for (uint64_t i = 0; i < count; ++i) {
      irt_string_view_t ignored;
      IRT_RETURN_IF_ERROR(
          irio_gguf_string(reader, "metadata string", &ignored));
    }
    return IRT_OK;
  }
  uint64_t size = irio_gguf_scalar_size(type);
  uint64_t total = 0;
  if (size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': gguf metadata at offset %" PRIu64
                           ": %svalue type %" PRIu32 " is not supported",
                           reader->name, reader->offset,
                           type == IRIO_GGUF_TYPE_ARRAY ? "nested array " : "",
                           type);
  }
  if (!irt_mul_u64(size, count, &total)) total = UINT64_MAX;
  return irio_gguf_take(reader, total, "metadata value", &bytes);
}

// Skips one metadata value of |type|.
static irt_status_t irio_gguf_skip_value(irio_gguf_reader_t* reader,
                                         uint32_t type) {
  if (type != IRIO_GGUF_TYPE_ARRAY) {
    return irio_gguf_skip_values(reader, type, 1);
  }
  uint32_t element_type = 0;
  uint64_t count = 0;
  IRT_RETURN_IF_ERROR(
      irio_gguf_u32(reader, "array element type", &element_type));
  IRT_RETURN_IF_ERROR(irio_gguf_u64(reader, "array count", &count));
  return irio_gguf_skip_values(reader, element_type, count);
}

// Reads the metadata key/value pairs for `general.alignment`.
static irt_status_t irio_gguf_read_metadata(irio_gguf_reader_t* reader,
                                            uint64_t kv_count,
                                            uint64_t* out_alignment) {
  *out_alignment = IRIO_GGUF_DEFAULT_ALIGNMENT;
  for (uint64_t i = 0; i < kv_count; ++i) {
    irt_string_view_t key;
    uint32_t type = 0;
    IRT_RETURN_IF_ERROR(irio_gguf_string(reader, "metadata key", &key));
    IRT_RETURN_IF_ERROR(irio_gguf_u32(reader, "metadata value type", &type));
    if (!irt_string_view_equal_cstring(key, "general.alignment")) {
      IRT_RETURN_IF_ERROR(irio_gguf_skip_value(reader, type));
      continue;
    }
    uint32_t alignment = 0;
    if (type != IRIO_GGUF_TYPE_UINT32) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "'%s': gguf general.alignment has value type "
                             "%" PRIu32 ", not uint32",
                             reader->name, type);
    }
    IRT_RETURN_IF_ERROR(irio_gguf_u32(reader, "general.alignment", &alignment));
    if (!irt_is_pow2(alignment)) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "'%s': gguf general.alignment %" PRIu32
                             " is not a power of two",
                             reader->name, alignment);
    }
    *out_alignment = alignment;
  }
  return IRT_OK;
}

typedef struct irio_gguf_tensor_s {
  irt_string_view_t name;
  uint64_t offset;  // relative to the tensor data
  uint64_t size;
} irio_gguf_tensor_t;

// (block size, type size) per ggml type id; {0, 0} for removed ids 4 and 5.
static const uint16_t kIrioGgmlTypes[][2] = {
    {1, 4},     {1, 2},     {32, 18},   {32, 20},   {0, 0},
    {0, 0},     {32, 22},   {32, 24},   {32, 34},   {32, 40},
    {256, 84},  {256, 110}, {256, 144}, {256, 176}, {256, 210},
    {256, 292}, {1, 1},     {1, 2},     {1, 4},
};
#define IRIO_GGML_TYPE_COUNT \
  (sizeof(kIrioGgmlTypes) / sizeof(kIrioGgmlTypes[0]))

// Byte size of tensor |name|: |elements| elements of ggml type |type|.
static irt_status_t irio_gguf_tensor_size(const irio_gguf_reader_t* reader,
                                          irt_string_view_t name,
                                          uint64_t elements, uint32_t type,
                                          uint64_t* out_size) {
  char key[64];
  if (type >= IRIO_GGML_TYPE_COUNT || kIrioGgmlTypes[type][0] == 0) {
    return irt_make_status(
        IRT_STATUS_UNIMPLEMENTED,
        "'%s': gguf tensor '%s': ggml type %" PRIu32 " is not supported",
        reader->name, irio_format_key(name, key, sizeof(key)), type);
  }
  uint64_t block = kIrioGgmlTypes[type][0];
  if (elements % block ||
      !irt_mul_u64(elements / block, kIrioGgmlTypes[type][1], out_size)) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "'%s': gguf tensor '%s': %" PRIu64
        " elements do not form whole %" PRIu64
        "-element blocks of type %" PRIu32 " (or the size overflows)",
        reader->name, irio_format_key(name, key, sizeof(key)), elements, block,
        type);
  }
  return IRT_OK;
}

static irt_status_t irio_gguf_read_tensor(irio_gguf_reader_t* reader,
                                          irio_gguf_tensor_t* out_tensor) {
  uint32_t dim_count = 0, type = 0;
  uint64_t elements = 1;
  IRT_RETURN_IF_ERROR(
      irio_gguf_string(reader, "tensor name", &out_tensor->name));
  IRT_RETURN_IF_ERROR(irio_gguf_u32(reader, "tensor n_dims", &dim_count));
  bool overflow = false;
  for (uint32_t i = 0; i < dim_count; ++i) {
    uint64_t dim = 0;
    IRT_RETURN_IF_ERROR(irio_gguf_u64(reader, "tensor dimension", &dim));
    overflow = overflow || !irt_mul_u64(elements, dim, &elements);
  }
  IRT_RETURN_IF_ERROR(irio_gguf_u32(reader, "tensor type", &type));
  IRT_RETURN_IF_ERROR(
      irio_gguf_u64(reader, "tensor offset", &out_tensor->offset));
  if (overflow) {
    char key[64];
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': gguf tensor '%s': the element count "
                           "overflows 64 bits",
                           reader->name,
                           irio_format_key(out_tensor->name, key, sizeof(key)));
  }
  return irio_gguf_tensor_size(reader, out_tensor->name, elements, type,
                               &out_tensor->size);
}

// Reports each tensor as an entry; |reader| is at the first tensor info.
static irt_status_t irio_gguf_emit_tensors(irio_gguf_reader_t* reader,
                                           uint64_t count, uint64_t data_offset,
                                           irio_entry_fn_t fn,
                                           void* user_data) {
  uint64_t data_size = reader->size - data_offset;
  for (uint64_t i = 0; i < count; ++i) {
    irio_gguf_tensor_t tensor;
    IRT_RETURN_IF_ERROR(irio_gguf_read_tensor(reader, &tensor));
    if (!irt_range_fits(tensor.offset, tensor.size, data_size)) {
      char key[64];
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "'%s': gguf tensor '%s': data [%" PRIu64 ", +%" PRIu64
          ") exceeds the %" PRIu64 " bytes of tensor data",
          reader->name, irio_format_key(tensor.name, key, sizeof(key)),
          tensor.offset, tensor.size, data_size);
    }
    irio_entry_t entry = {
        .key = tensor.name,
        .metadata = irt_make_string_view("", 0),
        .storage = IRIO_ENTRY_STORAGE_FILE,
        .length = tensor.size,
        .file_offset = data_offset + tensor.offset,
    };
    IRT_RETURN_IF_ERROR(fn(user_data, &entry));
  }
  return IRT_OK;
}

irt_status_t irio_gguf_parse(const uint8_t* data, uint64_t size,
                             const char* name, irio_entry_fn_t fn,
                             void* user_data) {
  irio_gguf_reader_t reader = {data, size, 0, name};
  uint32_t magic = 0, version = 0;
  uint64_t tensor_count = 0, kv_count = 0;
  IRT_RETURN_IF_ERROR(irio_gguf_u32(&reader, "magic", &magic));
  if (magic != IRIO_GGUF_MAGIC) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': gguf magic 0x%08" PRIx32 " is not 'GGUF'",
                           name, magic);
  }
  IRT_RETURN_IF_ERROR(irio_gguf_u32(&reader, "version", &version));
  if (version != 2 && version != 3) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "'%s': gguf version %" PRIu32
                           " is not supported (only 2 and 3)",
                           name, version);
  }
  IRT_RETURN_IF_ERROR(irio_gguf_u64(&reader, "tensor_count", &tensor_count));
  IRT_RETURN_IF_ERROR(irio_gguf_u64(&reader, "metadata_kv_count", &kv_count));
  if (tensor_count == 0) return IRT_OK;  // the metadata is irrelevant

  uint64_t alignment = 0;
  IRT_RETURN_IF_ERROR(irio_gguf_read_metadata(&reader, kv_count, &alignment));
  // Tensor infos are read twice: the data offset depends on where they end.
  irio_gguf_reader_t infos = reader;
  for (uint64_t i = 0; i < tensor_count; ++i) {
    irio_gguf_tensor_t tensor;
    IRT_RETURN_IF_ERROR(irio_gguf_read_tensor(&reader, &tensor));
  }
  uint64_t data_offset = 0;
  if (!irt_align_up_u64(reader.offset, alignment, &data_offset) ||
      data_offset > size) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "'%s': gguf tensor data (after the tensor infos "
                           "ending at %" PRIu64 ", aligned to %" PRIu64
                           ") starts past the end of the %" PRIu64 "-byte file",
                           name, reader.offset, alignment, size);
  }
  return irio_gguf_emit_tensors(&infos, tensor_count, data_offset, fn,
                                user_data);
}
