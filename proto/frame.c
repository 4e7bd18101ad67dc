#include "proto/frame.h"

#include <string.h>

#include "runtime/base/math.h"

static size_t ireed_frame_clamp_max(size_t max_size) {
  return max_size > IREED_FRAME_ABSOLUTE_MAX_SIZE
             ? IREED_FRAME_ABSOLUTE_MAX_SIZE
             : max_size;
}

static void ireed_frame_store_u32le(uint8_t* out, uint32_t value) {
  out[0] = (uint8_t)value;
  out[1] = (uint8_t)(value >> 8);
  out[2] = (uint8_t)(value >> 16);
  out[3] = (uint8_t)(value >> 24);
}

static uint32_t ireed_frame_load_u32le(const uint8_t* data) {
  return (uint32_t)data[0] | ((uint32_t)data[1] << 8) |
         ((uint32_t)data[2] << 16) | ((uint32_t)data[3] << 24);
}

irt_status_t ireed_frame_encode(const Ireed__Frame* frame, size_t max_size,
                                irt_allocator_t allocator, uint8_t** out_data,
                                size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  max_size = ireed_frame_clamp_max(max_size);
  size_t payload_size = ireed__frame__get_packed_size(frame);
  if (payload_size > max_size) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "frame of %zu bytes exceeds the maximum frame "
                           "size of %zu bytes",
                           payload_size, max_size);
  }
  uint8_t* data = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(
      allocator, IREED_FRAME_HEADER_SIZE + payload_size, (void**)&data));
  ireed_frame_store_u32le(data, (uint32_t)payload_size);
  size_t packed = ireed__frame__pack(frame, data + IREED_FRAME_HEADER_SIZE);
  if (packed != payload_size) {
    irt_allocator_free(allocator, data);
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "frame packed to %zu bytes, %zu expected", packed,
                           payload_size);
  }
  *out_data = data;
  *out_size = IREED_FRAME_HEADER_SIZE + payload_size;
  return IRT_OK;
}

void ireed_frame_reader_initialize(ireed_frame_reader_t* reader,
                                   size_t max_size, irt_allocator_t allocator) {
  memset(reader, 0, sizeof(*reader));
  reader->allocator = allocator;
  reader->max_size = ireed_frame_clamp_max(max_size);
}

void ireed_frame_reader_deinitialize(ireed_frame_reader_t* reader) {
  irt_allocator_free(reader->allocator, reader->buffer);
  memset(reader, 0, sizeof(*reader));
}

// Rejects an oversized declared length as soon as its header is complete, so
// a peer cannot make us buffer up to 4 GiB before we notice.
static irt_status_t ireed_frame_reader_check_header(
    const ireed_frame_reader_t* reader) {
  if (reader->size < IREED_FRAME_HEADER_SIZE) return IRT_OK;
  uint32_t declared = ireed_frame_load_u32le(reader->buffer);
  if (declared > reader->max_size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "frame header declares %u bytes, above the "
                           "maximum frame size of %zu bytes",
                           declared, reader->max_size);
  }
  return IRT_OK;
}

irt_status_t ireed_frame_reader_append(ireed_frame_reader_t* reader,
                                       const uint8_t* data, size_t size) {
  if (size == 0) return IRT_OK;
  size_t needed = 0;
  if (!irt_add_size(reader->size, size, &needed)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "frame reader buffer size overflows");
  }
  if (needed > reader->capacity) {
    size_t capacity = reader->capacity ? reader->capacity : 256;
    while (capacity < needed) {
      if (!irt_mul_size(capacity, 2, &capacity)) capacity = needed;
    }
    void* buffer = reader->buffer;
    IRT_RETURN_IF_ERROR(
        irt_allocator_realloc(reader->allocator, capacity, &buffer));
    reader->buffer = buffer;
    reader->capacity = capacity;
  }
  memcpy(reader->buffer + reader->size, data, size);
  reader->size = needed;
  return ireed_frame_reader_check_header(reader);
}

irt_status_t ireed_frame_decode_payload(const uint8_t* data, size_t size,
                                        Ireed__Frame** out_frame) {
  return ireed_frame_decode_payload_in(data, size, NULL, out_frame);
}

irt_status_t ireed_frame_decode_payload_in(const uint8_t* data, size_t size,
                                           ProtobufCAllocator* allocator,
                                           Ireed__Frame** out_frame) {
  *out_frame = ireed__frame__unpack(allocator, size, data);
  if (!*out_frame) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "frame payload of %zu bytes is not a valid "
                           "ireed.Frame",
                           size);
  }
  return IRT_OK;
}

irt_status_t ireed_frame_reader_next(ireed_frame_reader_t* reader,
                                     Ireed__Frame** out_frame) {
  *out_frame = NULL;
  if (reader->size < IREED_FRAME_HEADER_SIZE) return IRT_OK;
  IRT_RETURN_IF_ERROR(ireed_frame_reader_check_header(reader));
  size_t payload_size = ireed_frame_load_u32le(reader->buffer);
  size_t frame_size = IREED_FRAME_HEADER_SIZE + payload_size;
  if (reader->size < frame_size) return IRT_OK;
  IRT_RETURN_IF_ERROR(ireed_frame_decode_payload(
      reader->buffer + IREED_FRAME_HEADER_SIZE, payload_size, out_frame));
  memmove(reader->buffer, reader->buffer + frame_size,
          reader->size - frame_size);
  reader->size -= frame_size;
  return IRT_OK;
}
