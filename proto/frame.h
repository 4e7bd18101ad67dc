// Framing of the ireed protocol (proto/ireed.proto): a u32 little-endian
// length, then that many bytes of an encoded ireed.Frame. Shared by the
// daemon and libireeclient; both sides enforce a hard maximum frame size.
#ifndef IREED_PROTO_FRAME_H
#define IREED_PROTO_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "ireed.pb-c.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// The default and the absolute upper bound of a frame's payload.
#define IREED_FRAME_DEFAULT_MAX_SIZE (16u * 1024u * 1024u)
#define IREED_FRAME_ABSOLUTE_MAX_SIZE (64u * 1024u * 1024u)
#define IREED_FRAME_HEADER_SIZE 4u
// How the message of a "busy" Error (RESOURCE_EXHAUSTED: a limit was
// reached and the request was not queued) begins (ireed.proto ErrorCode).
#define IREED_BUSY_PREFIX "ireed is busy: "

// Encodes |frame| with its length prefix into a new allocation
// (*out_data, *out_size include the 4-byte header). RESOURCE_EXHAUSTED when
// the encoded frame exceeds |max_size|.
irt_status_t ireed_frame_encode(const Ireed__Frame* frame, size_t max_size,
                                irt_allocator_t allocator, uint8_t** out_data,
                                size_t* out_size) IRT_MUST_USE;

// Incremental decoder for a byte stream: feed whatever arrived, take out
// complete frames. A declared length above |max_size| or bytes that do not
// decode as a Frame are errors after which the stream must be closed.
typedef struct ireed_frame_reader_s {
  irt_allocator_t allocator;
  size_t max_size;
  uint8_t* buffer;  // pending bytes
  size_t size;
  size_t capacity;
} ireed_frame_reader_t;

void ireed_frame_reader_initialize(ireed_frame_reader_t* reader,
                                   size_t max_size, irt_allocator_t allocator);
void ireed_frame_reader_deinitialize(ireed_frame_reader_t* reader);

// Appends |size| received bytes. Fails (INVALID_ARGUMENT, naming the
// declared length) as soon as a header announces an oversized frame.
irt_status_t ireed_frame_reader_append(ireed_frame_reader_t* reader,
                                       const uint8_t* data, size_t size)
    IRT_MUST_USE;

// Decodes the next complete frame into *out_frame (free it with
// ireed__frame__free_unpacked(frame, NULL)), or sets *out_frame to NULL
// when more bytes are needed. INVALID_ARGUMENT for undecodable bytes.
irt_status_t ireed_frame_reader_next(ireed_frame_reader_t* reader,
                                     Ireed__Frame** out_frame) IRT_MUST_USE;

// Decodes one frame payload (without the header); for fuzzing and tests.
irt_status_t ireed_frame_decode_payload(const uint8_t* data, size_t size,
                                        Ireed__Frame** out_frame) IRT_MUST_USE;
// The same with the frame's memory from |allocator| (NULL: malloc); free
// it with ireed__frame__free_unpacked(frame, allocator), or drop it with an
// arena.
irt_status_t ireed_frame_decode_payload_in(
    const uint8_t* data, size_t size, ProtobufCAllocator* allocator,
    Ireed__Frame** out_frame) IRT_MUST_USE;

#endif  // IREED_PROTO_FRAME_H
