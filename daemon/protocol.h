// Small helpers for the daemon's side of proto/ireed.proto.
#ifndef IREED_DAEMON_PROTOCOL_H
#define IREED_DAEMON_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "ireed.pb-c.h"
#include "proto/frame.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// Error messages are cut to this many bytes (one line for users).
#define IREED_ERROR_MESSAGE_MAX 4096

// Encodes an Error frame answering |request_id| with |status|'s code and
// one-line message (|status| is not consumed).
irt_status_t ireed_encode_error(uint64_t request_id, irt_status_t status,
                                irt_allocator_t allocator, uint8_t** out_data,
                                size_t* out_size) IRT_MUST_USE;

// "what" a frame body is, for messages: "InvokeRequest", "body 99".
const char* ireed_body_name(Ireed__Frame__BodyCase body_case);

#endif  // IREED_DAEMON_PROTOCOL_H
