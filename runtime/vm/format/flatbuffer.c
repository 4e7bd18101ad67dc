#include "runtime/vm/format/flatbuffer.h"

#include <string.h>

#include "runtime/base/math.h"

#define IRVM_FB_ERROR(...) \
  irt_make_status(IRT_STATUS_INVALID_ARGUMENT, __VA_ARGS__)

irt_status_t irvm_fb_reader_init(irvm_fb_reader_t* reader, const uint8_t* data,
                                 size_t size, bool size_prefixed) {
  memset(reader, 0, sizeof(*reader));
  if (size < 8) {
    return IRVM_FB_ERROR("FlatBuffer of %zu bytes is too small (minimum 8)",
                         size);
  }
  if (size > UINT32_MAX) {
    return IRVM_FB_ERROR("FlatBuffer of %zu bytes exceeds the 4 GiB limit",
                         size);
  }
  reader->data = data;
  reader->size = (uint32_t)size;
  reader->alignment_origin = size_prefixed ? 4 : 0;
  // Generous for any tree (at most one node per 4 bytes) yet linear.
  reader->nodes_left = size / 2 + 1024;
  return IRT_OK;
}

static irt_status_t irvm_fb_charge(irvm_fb_reader_t* reader, uint64_t nodes) {
  if (nodes > reader->nodes_left) {
    return IRVM_FB_ERROR(
        "FlatBuffer of %u bytes references too many tables, strings and "
        "vector elements (shared subtrees are not accepted)",
        reader->size);
  }
  reader->nodes_left -= nodes;
  return IRT_OK;
}

// Reads the uoffset stored at |slot| (already known to be in bounds) and
// checks that its target leaves room for |min_size| bytes and is 4-aligned.
static irt_status_t irvm_fb_follow(const irvm_fb_reader_t* reader,
                                   uint32_t slot, uint32_t min_size,
                                   const char* what, uint32_t* out_target) {
  uint64_t target = (uint64_t)slot + irvm_load_u32(reader->data + slot);
  if (!irt_range_fits(target, min_size, reader->size)) {
    return IRVM_FB_ERROR(
        "%s offset at 0x%X points to 0x%llX, outside the "
        "%u-byte FlatBuffer",
        what, slot, (unsigned long long)target, reader->size);
  }
  if (target % 4 != 0) {
    return IRVM_FB_ERROR("%s at 0x%llX is not 4-byte aligned", what,
                         (unsigned long long)target);
  }
  *out_target = (uint32_t)target;
  return IRT_OK;
}

static irt_status_t irvm_fb_verify_table(irvm_fb_reader_t* reader,
                                         uint32_t position, uint32_t depth,
                                         irvm_fb_table_t* out_table) {
  memset(out_table, 0, sizeof(*out_table));
  if (depth > IRVM_FB_MAX_DEPTH) {
    return IRVM_FB_ERROR("table at 0x%X nests deeper than %d levels", position,
                         IRVM_FB_MAX_DEPTH);
  }
  IRT_RETURN_IF_ERROR(irvm_fb_charge(reader, 1));
  // |position| came from irvm_fb_follow: 4 bytes in bounds and aligned.
  int32_t soffset = (int32_t)irvm_load_u32(reader->data + position);
  int64_t vtable = (int64_t)position - soffset;
  if (vtable < 0 || !irt_range_fits((uint64_t)vtable, 4, reader->size)) {
    return IRVM_FB_ERROR(
        "table at 0x%X has its vtable at %lld, outside the "
        "%u-byte FlatBuffer",
        position, (long long)vtable, reader->size);
  }
  if (vtable % 2 != 0) {
    return IRVM_FB_ERROR("vtable of the table at 0x%X is misaligned (0x%llX)",
                         position, (unsigned long long)vtable);
  }
  const uint8_t* header = reader->data + vtable;
  uint16_t vtable_size = irvm_load_u16(header);
  uint16_t table_size = irvm_load_u16(header + 2);
  if (vtable_size < 4 || vtable_size % 2 != 0 ||
      !irt_range_fits((uint64_t)vtable, vtable_size, reader->size)) {
    return IRVM_FB_ERROR(
        "vtable at 0x%llX of the table at 0x%X has an invalid "
        "size %u",
        (unsigned long long)vtable, position, vtable_size);
  }
  if (table_size < 4 || !irt_range_fits(position, table_size, reader->size)) {
    return IRVM_FB_ERROR(
        "table at 0x%X declares %u bytes, beyond the %u-byte "
        "FlatBuffer or smaller than its header",
        position, table_size, reader->size);
  }
  out_table->reader = reader;
  out_table->position = position;
  out_table->vtable = (uint32_t)vtable;
  out_table->vtable_size = vtable_size;
  out_table->table_size = table_size;
  out_table->depth = depth;
  return IRT_OK;
}

irt_status_t irvm_fb_reader_root(irvm_fb_reader_t* reader,
                                 const char identifier[4],
                                 irvm_fb_table_t* out_table) {
  memset(out_table, 0, sizeof(*out_table));
  if (memcmp(reader->data + 4, identifier, 4) != 0) {
    char found[5] = {0};
    for (int i = 0; i < 4; ++i) {
      uint8_t c = reader->data[4 + i];
      found[i] = (c >= 0x20 && c < 0x7F) ? (char)c : '?';
    }
    return IRVM_FB_ERROR("FlatBuffer identifier is '%s', expected '%.4s'",
                         found, identifier);
  }
  uint32_t root = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_follow(reader, 0, 4, "root table", &root));
  return irvm_fb_verify_table(reader, root, 1, out_table);
}

// The vtable slot of field |id|, or 0 when the field is absent.
static uint16_t irvm_fb_field_offset(const irvm_fb_table_t* table,
                                     uint16_t id) {
  uint32_t slot = 4u + 2u * id;
  if (slot + 2u > table->vtable_size) return 0;
  return irvm_load_u16(table->reader->data + table->vtable + slot);
}

bool irvm_fb_table_has(const irvm_fb_table_t* table, uint16_t id) {
  return irvm_fb_field_offset(table, id) != 0;
}

// Locates a present field of |size| bytes aligned to |alignment|;
// *out_position is 0 when the field is absent.
static irt_status_t irvm_fb_field_aligned(const irvm_fb_table_t* table,
                                          uint16_t id, uint32_t size,
                                          uint32_t alignment,
                                          uint32_t* out_position) {
  *out_position = 0;
  uint16_t offset = irvm_fb_field_offset(table, id);
  if (offset == 0) return IRT_OK;
  if ((uint32_t)offset + size > table->table_size) {
    return IRVM_FB_ERROR(
        "field %u of the table at 0x%X (offset %u, %u bytes) "
        "lies outside the table's %u bytes",
        id, table->position, offset, size, table->table_size);
  }
  uint32_t position = table->position + offset;
  if ((position + table->reader->alignment_origin) % alignment != 0) {
    return IRVM_FB_ERROR("field %u of the table at 0x%X is misaligned (0x%X)",
                         id, table->position, position);
  }
  *out_position = position;
  return IRT_OK;
}

// A scalar field: aligned to its size.
static irt_status_t irvm_fb_field(const irvm_fb_table_t* table, uint16_t id,
                                  uint32_t size, uint32_t* out_position) {
  return irvm_fb_field_aligned(table, id, size, size, out_position);
}

irt_status_t irvm_fb_table_struct(const irvm_fb_table_t* table, uint16_t id,
                                  uint32_t size, uint32_t alignment,
                                  const uint8_t** out_data) {
  uint32_t position = 0;
  *out_data = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_fb_field_aligned(table, id, size, alignment, &position));
  if (position) *out_data = table->reader->data + position;
  return IRT_OK;
}

irt_status_t irvm_fb_table_u8(const irvm_fb_table_t* table, uint16_t id,
                              uint8_t default_value, uint8_t* out_value) {
  uint32_t position = 0;
  *out_value = default_value;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 1, &position));
  if (position) *out_value = table->reader->data[position];
  return IRT_OK;
}

irt_status_t irvm_fb_table_u16(const irvm_fb_table_t* table, uint16_t id,
                               uint16_t default_value, uint16_t* out_value) {
  uint32_t position = 0;
  *out_value = default_value;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 2, &position));
  if (position) *out_value = irvm_load_u16(table->reader->data + position);
  return IRT_OK;
}

irt_status_t irvm_fb_table_u32(const irvm_fb_table_t* table, uint16_t id,
                               uint32_t default_value, uint32_t* out_value) {
  uint32_t position = 0;
  *out_value = default_value;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 4, &position));
  if (position) *out_value = irvm_load_u32(table->reader->data + position);
  return IRT_OK;
}

irt_status_t irvm_fb_table_i32(const irvm_fb_table_t* table, uint16_t id,
                               int32_t default_value, int32_t* out_value) {
  uint32_t value = 0;
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_u32(table, id, (uint32_t)default_value, &value));
  *out_value = (int32_t)value;
  return IRT_OK;
}

irt_status_t irvm_fb_table_u64(const irvm_fb_table_t* table, uint16_t id,
                               uint64_t default_value, uint64_t* out_value) {
  uint32_t position = 0;
  *out_value = default_value;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 8, &position));
  if (position) *out_value = irvm_load_u64(table->reader->data + position);
  return IRT_OK;
}

// Verifies the string whose uoffset is stored at |slot|.
static irt_status_t irvm_fb_string_at(irvm_fb_reader_t* reader, uint32_t slot,
                                      irt_string_view_t* out_string) {
  uint32_t target = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_follow(reader, slot, 4, "string", &target));
  IRT_RETURN_IF_ERROR(irvm_fb_charge(reader, 1));
  uint32_t length = irvm_load_u32(reader->data + target);
  // The length, the bytes and the NUL terminator.
  if (!irt_range_fits((uint64_t)target + 4, (uint64_t)length + 1,
                      reader->size)) {
    return IRVM_FB_ERROR(
        "string at 0x%X of %u bytes runs past the end of the "
        "%u-byte FlatBuffer",
        target, length, reader->size);
  }
  const char* text = (const char*)reader->data + target + 4;
  if (text[length] != 0) {
    return IRVM_FB_ERROR("string at 0x%X of %u bytes lacks its NUL terminator",
                         target, length);
  }
  *out_string = irt_make_string_view(text, length);
  return IRT_OK;
}

irt_status_t irvm_fb_table_string(const irvm_fb_table_t* table, uint16_t id,
                                  irt_string_view_t* out_string,
                                  bool* out_present) {
  *out_string = irt_make_string_view("", 0);
  if (out_present) *out_present = false;
  uint32_t slot = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 4, &slot));
  if (!slot) return IRT_OK;
  IRT_RETURN_IF_ERROR(irvm_fb_string_at(table->reader, slot, out_string));
  if (out_present) *out_present = true;
  return IRT_OK;
}

irt_status_t irvm_fb_table_table(const irvm_fb_table_t* table, uint16_t id,
                                 irvm_fb_table_t* out_table,
                                 bool* out_present) {
  // |out_table| may alias |table| (walking down a chain).
  irvm_fb_table_t child;
  memset(&child, 0, sizeof(child));
  *out_present = false;
  uint32_t slot = 0;
  irt_status_t status = irvm_fb_field(table, id, 4, &slot);
  if (status == IRT_OK && slot) {
    uint32_t target = 0;
    status = irvm_fb_follow(table->reader, slot, 4, "table", &target);
    if (status == IRT_OK) {
      status =
          irvm_fb_verify_table(table->reader, target, table->depth + 1, &child);
    }
    *out_present = status == IRT_OK;
  }
  *out_table = child;
  return status;
}

irt_status_t irvm_fb_table_vector(const irvm_fb_table_t* table, uint16_t id,
                                  uint32_t element_size,
                                  uint32_t element_alignment,
                                  irvm_fb_vector_t* out_vector) {
  irvm_fb_reader_t* reader = table->reader;
  memset(out_vector, 0, sizeof(*out_vector));
  out_vector->reader = reader;
  out_vector->element_size = element_size;
  out_vector->depth = table->depth;
  uint32_t slot = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_field(table, id, 4, &slot));
  if (!slot) return IRT_OK;
  uint32_t target = 0;
  IRT_RETURN_IF_ERROR(irvm_fb_follow(reader, slot, 4, "vector", &target));
  uint32_t count = irvm_load_u32(reader->data + target);
  uint64_t bytes = (uint64_t)count * element_size;  // < 2^64: both are u32
  uint32_t first = target + 4;
  if (!irt_range_fits(first, bytes, reader->size)) {
    return IRVM_FB_ERROR(
        "vector at 0x%X of %u elements of %u bytes runs past "
        "the end of the %u-byte FlatBuffer",
        target, count, element_size, reader->size);
  }
  if ((first + reader->alignment_origin) % element_alignment != 0) {
    return IRVM_FB_ERROR(
        "vector at 0x%X is not aligned to its %u-byte "
        "elements",
        target, element_alignment);
  }
  IRT_RETURN_IF_ERROR(
      irvm_fb_charge(reader, 1 + (element_size >= 4 ? (uint64_t)count : 0)));
  out_vector->position = first;
  out_vector->count = count;
  out_vector->present = true;
  return IRT_OK;
}

irt_status_t irvm_fb_vector_table(const irvm_fb_vector_t* vector,
                                  uint32_t index, irvm_fb_table_t* out_table) {
  uint32_t slot = vector->position + index * 4u;
  uint32_t target = 0;
  IRT_RETURN_IF_ERROR(
      irvm_fb_follow(vector->reader, slot, 4, "table", &target));
  return irvm_fb_verify_table(vector->reader, target, vector->depth + 1,
                              out_table);
}

irt_status_t irvm_fb_vector_string(const irvm_fb_vector_t* vector,
                                   uint32_t index,
                                   irt_string_view_t* out_string) {
  return irvm_fb_string_at(vector->reader, vector->position + index * 4u,
                           out_string);
}

irt_status_t irvm_fb_table_union(const irvm_fb_table_t* table, uint16_t type_id,
                                 uint8_t* out_tag, irvm_fb_table_t* out_value,
                                 bool* out_present) {
  *out_present = false;
  IRT_RETURN_IF_ERROR(irvm_fb_table_u8(table, type_id, 0, out_tag));
  if (*out_tag == 0) {
    memset(out_value, 0, sizeof(*out_value));
    return IRT_OK;
  }
  return irvm_fb_table_table(table, (uint16_t)(type_id + 1), out_value,
                             out_present);
}

irt_status_t irvm_fb_table_union_vector(const irvm_fb_table_t* table,
                                        uint16_t type_id,
                                        irvm_fb_vector_t* out_tags,
                                        irvm_fb_vector_t* out_values) {
  IRT_RETURN_IF_ERROR(irvm_fb_table_vector(table, type_id, 1, 1, out_tags));
  IRT_RETURN_IF_ERROR(
      irvm_fb_table_vector(table, (uint16_t)(type_id + 1), 4, 4, out_values));
  if (out_tags->count != out_values->count) {
    return IRVM_FB_ERROR(
        "union vector of the table at 0x%X has %u type tags "
        "but %u values",
        table->position, out_tags->count, out_values->count);
  }
  return IRT_OK;
}

irt_status_t irvm_fb_union_vector_get(const irvm_fb_vector_t* tags,
                                      const irvm_fb_vector_t* values,
                                      uint32_t index, uint8_t* out_tag,
                                      irvm_fb_table_t* out_value,
                                      bool* out_present) {
  memset(out_value, 0, sizeof(*out_value));
  *out_present = false;
  *out_tag = *irvm_fb_vector_element(tags, index);
  if (*out_tag == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR(irvm_fb_vector_table(values, index, out_value));
  *out_present = true;
  return IRT_OK;
}
