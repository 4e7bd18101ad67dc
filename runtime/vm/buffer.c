#include "runtime/vm/buffer.h"

#include <inttypes.h>

#include "runtime/base/math.h"

static void irvm_buffer_destroy(void* object) {
  irvm_buffer_t* buffer = object;
  if (buffer->release.fn) {
    buffer->release.fn(buffer->release.user_data, buffer->data);
  }
  irt_allocator_free(buffer->allocator, buffer);
}

const irvm_ref_type_t irvm_buffer_type_descriptor = {
    .name = "vm.buffer",
    .destroy = irvm_buffer_destroy,
};

// Validates every buffer operand of an instruction: |buffer| is non-NULL,
// writable when |write|, and elements [offset, offset + count) of size
// 1 << |size_log2| lie within it. On success *out_ptr points at the first.
// |role| names the operand in messages ("source buffer").
static irt_status_t irvm_buffer_check_access(const irvm_buffer_t* buffer,
                                             const char* role, uint64_t offset,
                                             uint64_t count, unsigned size_log2,
                                             bool write, uint8_t** out_ptr) {
  if (!buffer) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s is null", role);
  }
  if (write && !(buffer->flags & IRVM_BUFFER_MUTABLE)) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%s is read-only (flags 0x%x): write not allowed",
                           role, buffer->flags);
  }
  // Whole elements that fit: comparing element counts avoids multiplying
  // untrusted 64-bit operands.
  uint64_t capacity = (uint64_t)buffer->length >> size_log2;
  if (!irt_range_fits(offset, count, capacity)) {
    if (size_log2 == 0) {
      return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                             "out-of-bounds access: %s bytes [%" PRIu64
                             ", +%" PRIu64 ") exceed its length %zu",
                             role, offset, count, buffer->length);
    }
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "out-of-bounds access: %s elements [%" PRIu64
                           ", +%" PRIu64 ") of %u bytes exceed its length %zu",
                           role, offset, count, 1u << size_log2,
                           buffer->length);
  }
  // An empty range is never dereferenced; skipping the arithmetic keeps an
  // empty wrapped buffer's NULL data legal.
  *out_ptr = buffer->data;
  if (count) *out_ptr += (size_t)offset << size_log2;
  return IRT_OK;
}

irt_status_t irvm_buffer_element_error(const irvm_buffer_t* buffer,
                                       uint64_t index, unsigned size_log2,
                                       bool write) {
  uint8_t* ptr = NULL;
  return irvm_buffer_check_access(buffer, "buffer", index, 1, size_log2, write,
                                  &ptr);
}

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

// The object and its zeroed data share one block.
irt_status_t irvm_buffer_create(uint64_t length, uint32_t alignment,
                                irt_allocator_t allocator,
                                irvm_buffer_t** out_buffer) {
  *out_buffer = NULL;
  if (alignment != 0 && !irt_is_pow2(alignment)) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "buffer alignment %" PRIu32 " is not 0 or a power of two", alignment);
  }
  size_t align = _Alignof(max_align_t);
  if (alignment > align) align = alignment;
  // The allocator only guarantees max_align_t, so reserve room to slide the
  // data up to a stricter alignment.
  uint64_t total = 0;
  if (length > SIZE_MAX ||
      !irt_add_u64(sizeof(irvm_buffer_t) + (align - 1), length, &total) ||
      total > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "buffer of %" PRIu64
                           " bytes (alignment %zu) does not fit in memory",
                           length, align);
  }
  irvm_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(allocator, (size_t)total, (void**)&buffer),
      "allocating a buffer of %" PRIu64 " bytes", length);
  memset(buffer, 0, sizeof(*buffer));
  irt_ref_count_init(&buffer->header.count);
  uintptr_t data = (uintptr_t)(buffer + 1);
  data = (data + (align - 1)) & ~(uintptr_t)(align - 1);
  buffer->data = (uint8_t*)data;
  // Zero only the data: the padding of a large alignment stays untouched.
  memset(buffer->data, 0, (size_t)length);
  buffer->length = (size_t)length;
  buffer->flags = IRVM_BUFFER_MUTABLE | IRVM_BUFFER_ORIGIN_GUEST;
  buffer->allocator = allocator;
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t irvm_buffer_wrap(void* data, size_t length, uint32_t flags,
                              irvm_buffer_release_t release,
                              irt_allocator_t allocator,
                              irvm_buffer_t** out_buffer) {
  *out_buffer = NULL;
  if (flags & ~(uint32_t)IRVM_BUFFER_FLAGS_ALL) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "buffer flags 0x%x have unknown bits", flags);
  }
  if (!data && length != 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "wrapped buffer data is null but length is %zu",
                           length);
  }
  irvm_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*buffer), (void**)&buffer));
  irt_ref_count_init(&buffer->header.count);
  buffer->data = data;
  buffer->length = length;
  buffer->flags = flags;
  buffer->allocator = allocator;
  buffer->release = release;
  *out_buffer = buffer;
  return IRT_OK;
}

irt_status_t irvm_buffer_clone(const irvm_buffer_t* source, uint64_t offset,
                               uint64_t length, uint32_t alignment,
                               irt_allocator_t allocator,
                               irvm_buffer_t** out_buffer) {
  *out_buffer = NULL;
  uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(source, "source buffer", offset,
                                               length, 0, false, &bytes));
  IRT_RETURN_IF_ERROR(
      irvm_buffer_create(length, alignment, allocator, out_buffer));
  if (length) memcpy((*out_buffer)->data, bytes, (size_t)length);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Whole-buffer access
//===----------------------------------------------------------------------===//

irt_status_t irvm_buffer_length(const irvm_buffer_t* buffer,
                                uint64_t* out_length) {
  uint8_t* ptr = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_buffer_check_access(buffer, "buffer", 0, 0, 0, false, &ptr));
  *out_length = buffer->length;
  return IRT_OK;
}

irt_status_t irvm_buffer_mutable_data(irvm_buffer_t* buffer,
                                      irvm_byte_span_t* out_span) {
  uint8_t* ptr = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_buffer_check_access(buffer, "buffer", 0, 0, 0, true, &ptr));
  out_span->data = buffer->data;
  out_span->length = buffer->length;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Byte-range operations
//===----------------------------------------------------------------------===//

irt_status_t irvm_buffer_copy(const irvm_buffer_t* source,
                              uint64_t source_offset, irvm_buffer_t* target,
                              uint64_t target_offset, uint64_t length) {
  uint8_t* from = NULL;
  uint8_t* to = NULL;
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(
      source, "source buffer", source_offset, length, 0, false, &from));
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(
      target, "target buffer", target_offset, length, 0, true, &to));
  if (length) memmove(to, from, (size_t)length);
  return IRT_OK;
}

irt_status_t irvm_buffer_compare(const irvm_buffer_t* lhs, uint64_t lhs_offset,
                                 const irvm_buffer_t* rhs, uint64_t rhs_offset,
                                 uint64_t length, bool* out_equal) {
  uint8_t* lhs_bytes = NULL;
  uint8_t* rhs_bytes = NULL;
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(lhs, "lhs buffer", lhs_offset,
                                               length, 0, false, &lhs_bytes));
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(rhs, "rhs buffer", rhs_offset,
                                               length, 0, false, &rhs_bytes));
  *out_equal = length == 0 || memcmp(lhs_bytes, rhs_bytes, (size_t)length) == 0;
  return IRT_OK;
}

static inline uint64_t irvm_rotl64(uint64_t x, unsigned bits) {
  return (x << bits) | (x >> (64 - bits));
}

static inline uint64_t irvm_load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// One SipRound over the state v[0..3].
static inline void irvm_sip_round(uint64_t v[4]) {
  v[0] += v[1];
  v[1] = irvm_rotl64(v[1], 13) ^ v[0];
  v[0] = irvm_rotl64(v[0], 32);
  v[2] += v[3];
  v[3] = irvm_rotl64(v[3], 16) ^ v[2];
  v[0] += v[3];
  v[3] = irvm_rotl64(v[3], 21) ^ v[0];
  v[2] += v[1];
  v[1] = irvm_rotl64(v[1], 17) ^ v[2];
  v[2] = irvm_rotl64(v[2], 32);
}

// SipHash-2-4 with the fixed key 00 01 .. 0F that vm.buffer.hash uses.
static uint64_t irvm_siphash24(const uint8_t* data, size_t length) {
  static const uint8_t kKey[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                   8, 9, 10, 11, 12, 13, 14, 15};
  uint64_t k0 = irvm_load_le64(kKey);
  uint64_t k1 = irvm_load_le64(kKey + 8);
  uint64_t v[4] = {k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull,
                   k0 ^ 0x6c7967656e657261ull, k1 ^ 0x7465646279746573ull};
  size_t whole = length & ~(size_t)7;
  for (size_t i = 0; i < whole; i += 8) {
    uint64_t m = irvm_load_le64(data + i);
    v[3] ^= m;
    irvm_sip_round(v);
    irvm_sip_round(v);
    v[0] ^= m;
  }
  // Last block: the 0..7 remaining bytes, with length mod 256 in the top byte.
  uint64_t m = (uint64_t)(length & 0xFF) << 56;
  for (size_t i = 0; i < (length & 7); ++i) {
    m |= (uint64_t)data[whole + i] << (8 * i);
  }
  v[3] ^= m;
  irvm_sip_round(v);
  irvm_sip_round(v);
  v[0] ^= m;
  v[2] ^= 0xFF;
  for (int i = 0; i < 4; ++i) irvm_sip_round(v);
  return v[0] ^ v[1] ^ v[2] ^ v[3];
}

irt_status_t irvm_buffer_hash(const irvm_buffer_t* buffer, uint64_t offset,
                              uint64_t length, uint64_t* out_hash) {
  uint8_t* bytes = NULL;
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(buffer, "buffer", offset, length,
                                               0, false, &bytes));
  *out_hash = irvm_siphash24(bytes, (size_t)length);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Element fills
//===----------------------------------------------------------------------===//

// Writes the (1 << |size_log2|)-byte |element| to elements
// [offset, offset + count). memcpy keeps unaligned wrapped data legal.
static irt_status_t irvm_buffer_fill(irvm_buffer_t* buffer, uint64_t offset,
                                     uint64_t count, unsigned size_log2,
                                     const void* element) {
  uint8_t* ptr = NULL;
  IRT_RETURN_IF_ERROR(irvm_buffer_check_access(buffer, "buffer", offset, count,
                                               size_log2, true, &ptr));
  if (count == 0) return IRT_OK;
  size_t size = (size_t)1 << size_log2;
  if (size == 1) {
    memset(ptr, *(const uint8_t*)element, (size_t)count);
    return IRT_OK;
  }
  for (size_t i = 0; i < (size_t)count; ++i) {
    memcpy(ptr + i * size, element, size);
  }
  return IRT_OK;
}

irt_status_t irvm_buffer_fill_i8(irvm_buffer_t* buffer, uint64_t offset,
                                 uint64_t count, int32_t value) {
  uint8_t element = (uint8_t)value;
  return irvm_buffer_fill(buffer, offset, count, 0, &element);
}

irt_status_t irvm_buffer_fill_i16(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int32_t value) {
  uint16_t element = (uint16_t)value;
  return irvm_buffer_fill(buffer, offset, count, 1, &element);
}

irt_status_t irvm_buffer_fill_i32(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int32_t value) {
  return irvm_buffer_fill(buffer, offset, count, 2, &value);
}

irt_status_t irvm_buffer_fill_i64(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, int64_t value) {
  return irvm_buffer_fill(buffer, offset, count, 3, &value);
}

irt_status_t irvm_buffer_fill_f32(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, float value) {
  return irvm_buffer_fill(buffer, offset, count, 2, &value);
}

irt_status_t irvm_buffer_fill_f64(irvm_buffer_t* buffer, uint64_t offset,
                                  uint64_t count, double value) {
  return irvm_buffer_fill(buffer, offset, count, 3, &value);
}
