#include "runtime/vm/builder/flatbuffer_builder.h"

#include <string.h>

#include "runtime/base/math.h"

void irvm_fb_builder_init(irvm_fb_builder_t* fbb, irt_allocator_t allocator) {
  memset(fbb, 0, sizeof(*fbb));
  fbb->allocator = allocator;
  fbb->min_align = 1;
}

void irvm_fb_builder_deinit(irvm_fb_builder_t* fbb) {
  irt_allocator_free(fbb->allocator, fbb->buffer);
  irvm_growable_free(&fbb->vtables, fbb->allocator);
  memset(fbb, 0, sizeof(*fbb));
}

static irt_status_t irvm_fb_check_open(irvm_fb_builder_t* fbb, bool in_table,
                                       const char* what) {
  if (fbb->finished) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "FlatBuffer %s after finish", what);
  }
  if (fbb->in_table != in_table) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           in_table ? "FlatBuffer %s outside a table"
                                    : "FlatBuffer %s inside a table (objects "
                                      "must be created before the table)",
                           what);
  }
  return IRT_OK;
}

// Ensures |additional| more bytes fit, moving the data to the end of a
// larger buffer when growing.
static irt_status_t irvm_fb_reserve(irvm_fb_builder_t* fbb, size_t additional) {
  if (additional > IRVM_FB_MAX_SIZE - fbb->size) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer would exceed %u bytes (%zu + %zu)",
                           IRVM_FB_MAX_SIZE, fbb->size, additional);
  }
  size_t needed = fbb->size + additional;
  if (needed <= fbb->capacity) return IRT_OK;
  size_t capacity = fbb->capacity ? fbb->capacity : 256;
  while (capacity < needed) capacity *= 2;  // needed < 2^31: cannot overflow
  void* grown = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(fbb->allocator, capacity, &grown));
  if (fbb->size) {
    memcpy((uint8_t*)grown + capacity - fbb->size,
           fbb->buffer + fbb->capacity - fbb->size, fbb->size);
  }
  irt_allocator_free(fbb->allocator, fbb->buffer);
  fbb->buffer = grown;
  fbb->capacity = capacity;
  return IRT_OK;
}

// Pads with zeros so that after |additional| more bytes the size is a
// multiple of |alignment|, and reserves room for those bytes.
static irt_status_t irvm_fb_prep(irvm_fb_builder_t* fbb, size_t alignment,
                                 size_t additional) {
  if (alignment > fbb->min_align) fbb->min_align = alignment;
  if (additional > IRVM_FB_MAX_SIZE) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer object of %zu bytes is too large",
                           additional);
  }
  size_t pad = (0 - (fbb->size + additional)) & (alignment - 1);
  IRT_RETURN_IF_ERROR(irvm_fb_reserve(fbb, pad + additional));
  fbb->size += pad;
  memset(fbb->buffer + fbb->capacity - fbb->size, 0, pad);
  return IRT_OK;
}

// Writes |length| bytes in front of the data; room must be reserved.
static void irvm_fb_push(irvm_fb_builder_t* fbb, const void* data,
                         size_t length) {
  fbb->size += length;
  if (length) memcpy(fbb->buffer + fbb->capacity - fbb->size, data, length);
}

static uint8_t* irvm_fb_at(irvm_fb_builder_t* fbb, size_t ref) {
  return fbb->buffer + fbb->capacity - ref;
}

static void irvm_fb_push_u32(irvm_fb_builder_t* fbb, uint32_t value) {
  uint8_t bytes[4];
  irvm_store_u32le(bytes, value);
  irvm_fb_push(fbb, bytes, sizeof(bytes));
}

// Pushes a uoffset to |ref|, which must already be written (uoffsets point
// forward, i.e. toward the end of the buffer).
static irt_status_t irvm_fb_push_uoffset(irvm_fb_builder_t* fbb,
                                         irvm_fb_ref_t ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, 4, 4));
  if (ref == 0 || ref > fbb->size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer reference %u is not a written object",
                           ref);
  }
  irvm_fb_push_u32(fbb, (uint32_t)(fbb->size + 4 - ref));
  return IRT_OK;
}

irt_status_t irvm_fb_create_string(irvm_fb_builder_t* fbb, const char* data,
                                   size_t length, irvm_fb_ref_t* out_ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, false, "string"));
  if (length > IRVM_FB_MAX_SIZE - 8) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer string of %zu bytes is too large",
                           length);
  }
  // The u32 length in front of the bytes and NUL must be 4-aligned.
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, 4, length + 1));
  IRT_RETURN_IF_ERROR(irvm_fb_reserve(fbb, length + 1 + 4));
  irvm_fb_push(fbb, "", 1);
  irvm_fb_push(fbb, data, length);
  irvm_fb_push_u32(fbb, (uint32_t)length);
  *out_ref = (irvm_fb_ref_t)fbb->size;
  return IRT_OK;
}

irt_status_t irvm_fb_create_vector(irvm_fb_builder_t* fbb, const void* elements,
                                   size_t count, size_t element_size,
                                   size_t alignment, irvm_fb_ref_t* out_ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, false, "vector"));
  if (!irt_is_pow2(alignment) || alignment > 256) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer vector alignment %zu is not a power of "
                           "two up to 256",
                           alignment);
  }
  size_t bytes = 0;
  if (!irt_mul_size(count, element_size, &bytes) ||
      bytes > IRVM_FB_MAX_SIZE - 4) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer vector of %zu x %zu bytes is too large",
                           count, element_size);
  }
  // Aligning the elements to max(alignment, 4) also leaves the u32 count in
  // front of them 4-aligned.
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, alignment < 4 ? 4 : alignment, bytes));
  IRT_RETURN_IF_ERROR(irvm_fb_reserve(fbb, bytes + 4));
  irvm_fb_push(fbb, elements, bytes);
  irvm_fb_push_u32(fbb, (uint32_t)count);
  *out_ref = (irvm_fb_ref_t)fbb->size;
  return IRT_OK;
}

irt_status_t irvm_fb_create_offset_vector(irvm_fb_builder_t* fbb,
                                          const irvm_fb_ref_t* refs,
                                          size_t count,
                                          irvm_fb_ref_t* out_ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, false, "vector"));
  if (count > (IRVM_FB_MAX_SIZE - 4) / 4) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer vector of %zu offsets is too large",
                           count);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, 4, count * 4 + 4));
  for (size_t i = count; i-- > 0;) {
    if (refs[i] == 0) {
      irvm_fb_push_u32(fbb, 0);
    } else {
      IRT_RETURN_IF_ERROR_CTX(irvm_fb_push_uoffset(fbb, refs[i]),
                              "offset vector element %zu", i);
    }
  }
  irvm_fb_push_u32(fbb, (uint32_t)count);
  *out_ref = (irvm_fb_ref_t)fbb->size;
  return IRT_OK;
}

irt_status_t irvm_fb_table_begin(irvm_fb_builder_t* fbb) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, false, "table_begin"));
  fbb->in_table = true;
  fbb->table_start = fbb->size;
  memset(fbb->field_end, 0, sizeof(fbb->field_end));
  fbb->field_limit = 0;
  return IRT_OK;
}

static irt_status_t irvm_fb_check_field(irvm_fb_builder_t* fbb,
                                        uint32_t field_id) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, true, "field"));
  if (field_id >= IRVM_FB_MAX_FIELDS) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer field id %u exceeds the maximum %u",
                           field_id, IRVM_FB_MAX_FIELDS - 1);
  }
  if (fbb->field_end[field_id]) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer field id %u added twice", field_id);
  }
  return IRT_OK;
}

static void irvm_fb_record_field(irvm_fb_builder_t* fbb, uint32_t field_id) {
  fbb->field_end[field_id] = (uint32_t)fbb->size;
  if (field_id + 1 > fbb->field_limit) fbb->field_limit = field_id + 1;
}

irt_status_t irvm_fb_table_add_scalar(irvm_fb_builder_t* fbb, uint32_t field_id,
                                      uint64_t bits, size_t size) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_field(fbb, field_id));
  if (size != 1 && size != 2 && size != 4 && size != 8) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer scalar size %zu (field %u) is not 1, 2, "
                           "4 or 8",
                           size, field_id);
  }
  uint8_t bytes[8];
  irvm_store_u64le(bytes, bits);
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, size, size));
  irvm_fb_push(fbb, bytes, size);
  irvm_fb_record_field(fbb, field_id);
  return IRT_OK;
}

irt_status_t irvm_fb_table_add_struct(irvm_fb_builder_t* fbb,
                                      uint32_t field_id, const void* bytes,
                                      size_t size, size_t alignment) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_field(fbb, field_id));
  if (alignment == 0 || (alignment & (alignment - 1)) || alignment > 8) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "FlatBuffer struct alignment %zu (field %u) is not "
                           "1, 2, 4 or 8",
                           alignment, field_id);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, alignment, size));
  irvm_fb_push(fbb, bytes, size);
  irvm_fb_record_field(fbb, field_id);
  return IRT_OK;
}

irt_status_t irvm_fb_table_add_u8(irvm_fb_builder_t* fbb, uint32_t field_id,
                                  uint8_t value, uint8_t default_value) {
  if (value == default_value) return irvm_fb_check_field(fbb, field_id);
  return irvm_fb_table_add_scalar(fbb, field_id, value, 1);
}

irt_status_t irvm_fb_table_add_u32(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   uint32_t value, uint32_t default_value) {
  if (value == default_value) return irvm_fb_check_field(fbb, field_id);
  return irvm_fb_table_add_scalar(fbb, field_id, value, 4);
}

irt_status_t irvm_fb_table_add_i32(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   int32_t value, int32_t default_value) {
  return irvm_fb_table_add_u32(fbb, field_id, (uint32_t)value,
                               (uint32_t)default_value);
}

irt_status_t irvm_fb_table_add_u64(irvm_fb_builder_t* fbb, uint32_t field_id,
                                   uint64_t value, uint64_t default_value) {
  if (value == default_value) return irvm_fb_check_field(fbb, field_id);
  return irvm_fb_table_add_scalar(fbb, field_id, value, 8);
}

irt_status_t irvm_fb_table_add_offset(irvm_fb_builder_t* fbb, uint32_t field_id,
                                      irvm_fb_ref_t ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_field(fbb, field_id));
  if (ref == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR_CTX(irvm_fb_push_uoffset(fbb, ref), "field %u", field_id);
  irvm_fb_record_field(fbb, field_id);
  return IRT_OK;
}

// Returns the distance of an already written vtable equal to |vtable|, or 0.
static uint32_t irvm_fb_find_vtable(irvm_fb_builder_t* fbb,
                                    const uint8_t* vtable, size_t length) {
  size_t count = IRVM_GROWABLE_COUNT(fbb->vtables, uint32_t);
  for (size_t i = 0; i < count; ++i) {
    uint32_t ref = *IRVM_GROWABLE_AT(fbb->vtables, uint32_t, i);
    const uint8_t* existing = irvm_fb_at(fbb, ref);
    if (existing[0] == vtable[0] && existing[1] == vtable[1] &&
        memcmp(existing, vtable, length) == 0) {
      return ref;
    }
  }
  return 0;
}

irt_status_t irvm_fb_table_end(irvm_fb_builder_t* fbb, irvm_fb_ref_t* out_ref) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, true, "table_end"));
  // The table starts with an soffset to its vtable, patched below.
  IRT_RETURN_IF_ERROR(irvm_fb_prep(fbb, 4, 4));
  irvm_fb_push_u32(fbb, 0);
  size_t table_ref = fbb->size;

  uint8_t vtable[4 + 2 * IRVM_FB_MAX_FIELDS];
  size_t vtable_size = 4 + 2 * (size_t)fbb->field_limit;
  size_t table_size = table_ref - fbb->table_start;
  if (table_size > 0xFFFF) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "FlatBuffer table of %zu inline bytes exceeds the "
                           "vtable limit of 65535",
                           table_size);
  }
  irvm_store_u16le(vtable, (uint16_t)vtable_size);
  irvm_store_u16le(vtable + 2, (uint16_t)table_size);
  for (uint32_t id = 0; id < fbb->field_limit; ++id) {
    uint32_t end = fbb->field_end[id];
    irvm_store_u16le(vtable + 4 + 2 * id,
                     end ? (uint16_t)(table_ref - end) : 0);
  }

  uint32_t vtable_ref = irvm_fb_find_vtable(fbb, vtable, vtable_size);
  if (!vtable_ref) {
    IRT_RETURN_IF_ERROR(
        irvm_growable_reserve(&fbb->vtables, fbb->allocator, sizeof(uint32_t)));
    IRT_RETURN_IF_ERROR(irvm_fb_reserve(fbb, vtable_size));
    irvm_fb_push(fbb, vtable, vtable_size);
    vtable_ref = (uint32_t)fbb->size;
    IRT_RETURN_IF_ERROR(irvm_growable_append(
        &fbb->vtables, fbb->allocator, &vtable_ref, sizeof(vtable_ref), NULL));
  }
  // soffset = table position - vtable position (negative when the vtable
  // lies after the table).
  int64_t soffset = (int64_t)vtable_ref - (int64_t)table_ref;
  irvm_store_u32le(irvm_fb_at(fbb, table_ref), (uint32_t)(int32_t)soffset);
  fbb->in_table = false;
  *out_ref = (irvm_fb_ref_t)table_ref;
  return IRT_OK;
}

irt_status_t irvm_fb_finish(irvm_fb_builder_t* fbb, irvm_fb_ref_t root,
                            const char* identifier, bool size_prefixed,
                            const uint8_t** out_data, size_t* out_size) {
  IRT_RETURN_IF_ERROR(irvm_fb_check_open(fbb, false, "finish"));
  size_t header = 4 + (identifier ? 4 : 0) + (size_prefixed ? 4 : 0);
  IRT_RETURN_IF_ERROR(
      irvm_fb_prep(fbb, fbb->min_align < 4 ? 4 : fbb->min_align, header));
  if (identifier) irvm_fb_push(fbb, identifier, 4);
  IRT_RETURN_IF_ERROR_CTX(irvm_fb_push_uoffset(fbb, root), "root table");
  if (size_prefixed) {
    IRT_RETURN_IF_ERROR(irvm_fb_reserve(fbb, 4));
    irvm_fb_push_u32(fbb, (uint32_t)fbb->size);
  }
  fbb->finished = true;
  *out_data = irvm_fb_at(fbb, fbb->size);
  *out_size = fbb->size;
  return IRT_OK;
}
