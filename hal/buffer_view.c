#include "hal/buffer_view.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "runtime/base/math.h"

static void irhal_buffer_view_destroy(void* object) {
  irhal_buffer_view_t* view = object;
  irhal_buffer_t* buffer = view->buffer;
  irt_allocator_free(view->host_allocator, view);
  irhal_buffer_release(buffer);
}

const irvm_ref_type_t irhal_buffer_view_type_descriptor = {
    .name = "hal.buffer_view",
    .destroy = irhal_buffer_view_destroy,
};

irt_status_t irhal_buffer_view_create(irhal_buffer_t* buffer, uint32_t rank,
                                      const irhal_device_size_t* shape,
                                      irhal_element_type_t element_type,
                                      uint32_t encoding_type,
                                      irt_allocator_t host_allocator,
                                      irhal_buffer_view_t** out_view) {
  *out_view = NULL;
  if (!buffer) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "buffer view needs a buffer");
  }
  if (rank > IRHAL_MAX_RANK) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "buffer view rank %" PRIu32 " exceeds the limit %d",
                           rank, IRHAL_MAX_RANK);
  }
  irhal_buffer_view_t* view = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(host_allocator,
                           sizeof(*view) + rank * sizeof(view->shape[0]),
                           (void**)&view),
      "allocating a rank-%" PRIu32 " buffer view", rank);
  irt_ref_count_init(&view->header.count);
  view->host_allocator = host_allocator;
  irhal_buffer_retain(buffer);
  view->buffer = buffer;
  view->element_type = element_type;
  view->encoding_type = encoding_type;
  view->rank = rank;
  for (uint32_t i = 0; i < rank; ++i) view->shape[i] = shape[i];
  *out_view = view;
  return IRT_OK;
}

bool irhal_buffer_view_element_count(const irhal_buffer_view_t* view,
                                     uint64_t* out_count) {
  uint64_t count = 1;
  for (uint32_t i = 0; i < view->rank; ++i) {
    if (!irt_mul_u64(count, view->shape[i], &count)) return false;
  }
  *out_count = count;
  return true;
}

irt_status_t irhal_buffer_view_byte_length(const irhal_buffer_view_t* view,
                                           irhal_device_size_t* out_length) {
  *out_length = 0;
  irhal_element_type_t type = view->element_type;
  if (irhal_element_type_is_opaque(type) ||
      irhal_element_bit_count(type) % 8 != 0) {
    char name[32];
    irhal_element_type_format(type, name, sizeof(name));
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "element type %s (0x%08" PRIx32 ") has no dense byte size", name, type);
  }
  uint64_t count = 0;
  if (!irhal_buffer_view_element_count(view, &count) ||
      !irt_mul_u64(count, irhal_element_byte_count(type), out_length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "byte length of a rank-%" PRIu32
                           " buffer view overflows 64 bits",
                           view->rank);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Element type names (spec 9.1)
//===----------------------------------------------------------------------===//

typedef struct irhal_element_type_name_s {
  irhal_element_type_t type;
  const char* name;
} irhal_element_type_name_t;

// Named types whose text is not just "<prefix><bits>" or whose prefix
// differs from the generic one of their numerical type.
static const irhal_element_type_name_t irhal_named_element_types[] = {
    {IRHAL_ELEMENT_TYPE(0x13, 8), "i1"},
    {IRHAL_ELEMENT_TYPE(0x24, 8), "f8E5M2"},
    {IRHAL_ELEMENT_TYPE(0x25, 8), "f8E4M3FN"},
    {IRHAL_ELEMENT_TYPE(0x26, 8), "f8E5M2FNUZ"},
    {IRHAL_ELEMENT_TYPE(0x27, 8), "f8E4M3FNUZ"},
    {IRHAL_ELEMENT_TYPE(0x28, 8), "f8E8M0FNU"},
};

// Numerical types written as "<prefix><bits>": i4, si32, ui8, f16, bf16,
// cf64...
typedef struct irhal_numerical_prefix_s {
  uint32_t numerical_type;
  const char* prefix;
} irhal_numerical_prefix_t;

static const irhal_numerical_prefix_t irhal_numerical_prefixes[] = {
    {IRHAL_NUMERICAL_TYPE_INTEGER_SIGNED, "si"},
    {IRHAL_NUMERICAL_TYPE_INTEGER_UNSIGNED, "ui"},
    {IRHAL_NUMERICAL_TYPE_INTEGER, "i"},
    {IRHAL_NUMERICAL_TYPE_FLOAT_BRAIN, "bf"},
    {IRHAL_NUMERICAL_TYPE_FLOAT_COMPLEX, "cf"},
    {IRHAL_NUMERICAL_TYPE_FLOAT_IEEE, "f"},
};

#define IRHAL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void irhal_element_type_format(irhal_element_type_t element_type, char* buffer,
                               size_t capacity) {
  if (!capacity) return;
  for (size_t i = 0; i < IRHAL_ARRAY_SIZE(irhal_named_element_types); ++i) {
    if (irhal_named_element_types[i].type == element_type) {
      snprintf(buffer, capacity, "%s", irhal_named_element_types[i].name);
      return;
    }
  }
  const char* prefix = "*";
  // Types with bits in the reserved middle byte are not well formed: opaque.
  if ((element_type & 0x00FFFF00u) == 0) {
    uint32_t numerical = irhal_element_numerical_type(element_type);
    for (size_t i = 0; i < IRHAL_ARRAY_SIZE(irhal_numerical_prefixes); ++i) {
      if (irhal_numerical_prefixes[i].numerical_type == numerical) {
        prefix = irhal_numerical_prefixes[i].prefix;
      }
    }
  }
  snprintf(buffer, capacity, "%s%" PRIu32, prefix,
           irhal_element_bit_count(element_type));
}

// Parses a bit count of 1 to 3 decimal digits without sign or leading zeros
// ("0" alone is allowed) that fits the 8-bit field.
static bool irhal_parse_bit_count(irt_string_view_t text, uint32_t* out_bits) {
  if (text.size == 0 || text.size > 3) return false;
  if (text.data[0] == '0' && text.size > 1) return false;
  uint32_t bits = 0;
  for (size_t i = 0; i < text.size; ++i) {
    char c = text.data[i];
    if (c < '0' || c > '9') return false;
    bits = bits * 10 + (uint32_t)(c - '0');
  }
  if (bits > 0xFF) return false;
  *out_bits = bits;
  return true;
}

bool irhal_element_type_parse(irt_string_view_t text,
                              irhal_element_type_t* out_element_type) {
  for (size_t i = 0; i < IRHAL_ARRAY_SIZE(irhal_named_element_types); ++i) {
    if (irt_string_view_equal_cstring(text,
                                      irhal_named_element_types[i].name)) {
      *out_element_type = irhal_named_element_types[i].type;
      return true;
    }
  }
  uint32_t numerical = IRHAL_NUMERICAL_TYPE_UNKNOWN;
  size_t prefix_length = 0;
  if (irt_string_view_starts_with(text, "*")) {
    prefix_length = 1;
  } else {
    // The table lists "si"/"ui" before "i" and "bf"/"cf" before "f" so the
    // longest prefix wins.
    for (size_t i = 0; i < IRHAL_ARRAY_SIZE(irhal_numerical_prefixes); ++i) {
      if (irt_string_view_starts_with(text,
                                      irhal_numerical_prefixes[i].prefix)) {
        numerical = irhal_numerical_prefixes[i].numerical_type;
        prefix_length = strlen(irhal_numerical_prefixes[i].prefix);
        break;
      }
    }
    if (!prefix_length) return false;
  }
  uint32_t bits = 0;
  irt_string_view_t digits = irt_make_string_view(text.data + prefix_length,
                                                  text.size - prefix_length);
  if (!irhal_parse_bit_count(digits, &bits)) return false;
  // A typed element of zero bits means nothing; only "*0" (NONE) exists.
  if (numerical != IRHAL_NUMERICAL_TYPE_UNKNOWN && bits == 0) return false;
  *out_element_type = IRHAL_ELEMENT_TYPE(numerical, bits);
  return true;
}

void irhal_format_shape_and_type(uint32_t rank,
                                 const irhal_device_size_t* shape,
                                 irhal_element_type_t element_type,
                                 char* buffer, size_t capacity) {
  if (!capacity) return;
  size_t length = 0;
  for (uint32_t i = 0; i < rank && length < capacity; ++i) {
    int n =
        snprintf(buffer + length, capacity - length, "%" PRIu64 "x", shape[i]);
    if (n < 0) break;
    length += (size_t)n;
  }
  if (length < capacity) {
    irhal_element_type_format(element_type, buffer + length, capacity - length);
  }
}
