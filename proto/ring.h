// The shared-memory submission ring of the ireed protocol: the hot path of
// invocations, next to the socket (which stays for everything else and for
// what does not fit).
//
// A client creates one ring per connection: a memfd laid out as below,
// registered with an AttachRingRequest frame carrying the fd (SCM_RIGHTS),
// exactly like a shared-memory region. The ring holds |slot_count| slots of
// |slot_size| bytes; each slot carries one request at a time:
//
//   client: takes a FREE slot (its own bookkeeping), writes the request
//           (the ring encoding below) at slot.data and its size in
//           slot.request_size, sets slot.state = SUBMITTED, appends
//           the slot index to queue[submit_head % slot_count], sets
//           submit_hint to it and increments submit_head; when daemon_sleeping is set it wakes the daemon
//           with FUTEX_WAKE on submit_head.
//   daemon: takes indices from the queue in order (its own tail, published
//           in submit_tail), copies the request out of the slot before
//           looking at it, runs it, writes the reply (ring encoding) over
//           slot.data with its size in slot.reply_size and sets slot.state =
//           DONE, or REPLIED_ON_SOCKET when the reply did not fit (it then
//           travels on the socket as a Frame with the request's id); when
//           slot.client_waiting is set it wakes the client with FUTEX_WAKE
//           on slot.state.
//
// Both sides spin briefly before sleeping in FUTEX_WAIT (process-shared
// futexes on the mapping). The daemon trusts nothing in the ring: it reads
// the geometry once at attach time, keeps its own queue position, reads
// each shared word once, bounds-checks every index and size, and decodes
// only its private copy of a request. A client that corrupts its ring only
// loses its own requests.
#ifndef IREED_PROTO_RING_H
#define IREED_PROTO_RING_H

#include <sched.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ireed.pb-c.h"
#include "runtime/base/status.h"

// Daemons that accept AttachRingRequest say at least this protocol minor
// version in their Hello; clients attach a ring only to those.
#define IREED_PROTOCOL_MINOR_RING 1u

#define IREED_RING_MAGIC 0x31474e52u  // "RNG1"
#define IREED_RING_VERSION 1u
// Geometry limits the daemon accepts.
#define IREED_RING_MAX_SLOTS 256u
#define IREED_RING_MIN_SLOT_SIZE 4096u
#define IREED_RING_MAX_SLOT_SIZE (1u << 20)
// Slots start at this offset; the header and the queue fit before it.
#define IREED_RING_SLOTS_OFFSET 4096u
#define IREED_RING_SLOT_HEADER_SIZE 64u

enum {
  IREED_RING_SLOT_FREE = 0,
  IREED_RING_SLOT_SUBMITTED = 1,
  IREED_RING_SLOT_DONE = 2,
  IREED_RING_SLOT_REPLIED_ON_SOCKET = 3,
};

typedef struct ireed_ring_header_s {
  uint32_t magic;
  uint32_t version;
  uint32_t slot_count;
  uint32_t slot_size;  // bytes per slot, header included
  // Written by the client; a futex word.
  alignas(64) _Atomic uint32_t submit_head;
  // Written by the client before submit_head: the first slot of its latest
  // submission. Only a hint in the head's cache line: the daemon prefetches
  // that slot while it reads the queue entry (on a machine where a cache
  // line takes ~300 ns between cores, that hides two of the round trip's
  // dependent transfers). Older clients leave it 0.
  _Atomic uint32_t submit_hint;
  // Written by the daemon.
  alignas(64) _Atomic uint32_t submit_tail;
  _Atomic uint32_t daemon_sleeping;
  alignas(64) _Atomic uint32_t queue[IREED_RING_MAX_SLOTS];
} ireed_ring_header_t;

typedef struct ireed_ring_slot_s {
  _Atomic uint32_t state;  // a futex word
  _Atomic uint32_t client_waiting;
  _Atomic uint32_t request_size;
  _Atomic uint32_t reply_size;
  // CLOCK_MONOTONIC ns at which the daemon answered (0: not said). Lets the
  // client tell how long the call took apart from how long it took itself
  // to wake up, so a client that slept does not conclude spinning is futile.
  _Atomic uint64_t answered_ns;
  uint8_t reserved[IREED_RING_SLOT_HEADER_SIZE - 24];
  uint8_t data[];
} ireed_ring_slot_t;

_Static_assert(sizeof(ireed_ring_header_t) <= IREED_RING_SLOTS_OFFSET,
               "the ring header must fit before the slots");
_Static_assert(sizeof(ireed_ring_slot_t) == IREED_RING_SLOT_HEADER_SIZE,
               "slot headers are 64 bytes");

// The geometry of a ring, validated (a private copy: never re-read).
typedef struct ireed_ring_layout_s {
  uint32_t slot_count;
  uint32_t slot_size;
  uint64_t size;  // bytes the ring spans
} ireed_ring_layout_t;

// Bytes a ring of |slot_count| slots of |slot_size| bytes spans.
static inline uint64_t ireed_ring_size(uint32_t slot_count,
                                       uint32_t slot_size) {
  return IREED_RING_SLOTS_OFFSET + (uint64_t)slot_count * slot_size;
}

// Bytes of request or reply a slot of |layout| carries.
static inline uint32_t ireed_ring_slot_capacity(
    const ireed_ring_layout_t* layout) {
  return layout->slot_size - IREED_RING_SLOT_HEADER_SIZE;
}

static inline ireed_ring_slot_t* ireed_ring_slot(
    uint8_t* base, const ireed_ring_layout_t* layout, uint32_t index) {
  return (ireed_ring_slot_t*)(base + IREED_RING_SLOTS_OFFSET +
                              (uint64_t)index * layout->slot_size);
}

// Writes a fresh header for the given geometry into |base|.
void ireed_ring_format(uint8_t* base, const ireed_ring_layout_t* layout);

// Reads the header of the |size| bytes at |base| once and checks it: magic,
// version, slot count (1..IREED_RING_MAX_SLOTS), slot size (a multiple of 64
// within the limits) and that the slots fit in |size|.
irt_status_t ireed_ring_read_layout(const uint8_t* base, uint64_t size,
                                    ireed_ring_layout_t* out_layout)
    IRT_MUST_USE;

// Takes the next submission (daemon side): with |*tail| the daemon's own
// position, reads submit_head once. Returns false when the queue is empty.
// Otherwise advances *tail, publishes it in submit_tail, and sets
// *out_slot to the slot named by the queue entry and copies its request
// (request_size read once) into |buffer| (ireed_ring_slot_capacity bytes):
// *out_size is its size. Errors: OUT_OF_RANGE for a head more than
// slot_count ahead of the tail (the ring is then unusable), INVALID_ARGUMENT
// for a slot index or request size out of range (*out_slot is
// IREED_RING_NO_SLOT when the index was bad; the entry is consumed).
#define IREED_RING_NO_SLOT UINT32_MAX
irt_status_t ireed_ring_take(uint8_t* base, const ireed_ring_layout_t* layout,
                             uint32_t* tail, uint8_t* buffer,
                             uint32_t* out_slot, uint32_t* out_size,
                             bool* out_taken) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Ring encoding of requests and replies
//===----------------------------------------------------------------------===//
//
// Protobuf costs more than a small invocation itself, so the ring carries
// a flat little-endian encoding of the same messages instead:
//
//   request: u64 request_id, u32 model length, u32 function length,
//            u32 input count, u32 output count, the model and function
//            names, each input as a value, each output target as u32 0
//            (inline) or u32 1 + a slice.
//   value:   u32 kind (Value's oneof number: 0 none, 1 i32, 2 i64, 3 f32,
//            4 f64, 5 tensor); scalars: u64 bits; tensors: u32 element
//            type, u32 rank, rank x u64 dims, then u32 3 + u64 length +
//            the bytes (inline) or u32 4 + a slice.
//   slice:   u64 region id, u64 offset, u64 length.
//   reply:   u32 IREED_RING_REPLY_OUTPUTS, u64 queue_ns, u64 execute_ns,
//            u32 output count, each output as a value; or
//            u32 IREED_RING_REPLY_FRAME and an encoded Frame (Errors).
//
// Decoders check every count and length against the bytes they have.

#define IREED_RING_REPLY_OUTPUTS 1u
#define IREED_RING_REPLY_FRAME 2u
// At most this many inputs, outputs or results in one ring message.
#define IREED_RING_MAX_VALUES 1024u

// Encodes |request| with |request_id| into |out| (|capacity| bytes); false
// when it does not fit.
bool ireed_ring_encode_request(const Ireed__InvokeRequest* request,
                               uint64_t request_id, uint8_t* out,
                               size_t capacity, size_t* out_size);

// Decodes a request into messages allocated from |allocator| (an arena:
// nothing is freed on failure) that point into |data|, which must outlive
// them. INVALID_ARGUMENT names what is malformed.
irt_status_t ireed_ring_decode_request(
    const uint8_t* data, size_t size, ProtobufCAllocator* allocator,
    uint64_t* out_request_id, Ireed__InvokeRequest** out_request) IRT_MUST_USE;

// Encodes |reply| (outputs and timings) into |out|; false when it does not
// fit.
bool ireed_ring_encode_reply(const Ireed__InvokeReply* reply, uint8_t* out,
                             size_t capacity, size_t* out_size);

// Decodes a reply into a Frame (an InvokeReply, or the Frame a
// REPLY_FRAME carries) owned by the caller, its messages and bytes
// allocated from |allocator|: NULL for malloc (free the frame with
// ireed__frame__free_unpacked(frame, NULL)), or an arena whose reset frees
// it at once, without protobuf-c's walk over the message.
irt_status_t ireed_ring_decode_reply(const uint8_t* data, size_t size,
                                     ProtobufCAllocator* allocator,
                                     Ireed__Frame** out_frame) IRT_MUST_USE;

// Process-shared futex operations on a word of a MAP_SHARED mapping.
// ireed_futex_wait returns after a wake-up, a change of the word, a signal
// or |timeout_ns| (<= 0: no timeout).
void ireed_futex_wait(_Atomic uint32_t* word, uint32_t expected,
                      int64_t timeout_ns);
void ireed_futex_wake(_Atomic uint32_t* word, int count);

// One step of a spin-wait that has lasted |spun_ns|: a pause while the
// other side is likely running on another core, then yielding the CPU (on a
// busy machine the other side may be waiting for this very core). The
// pause phase covers a small invocation's whole round trip: a sched_yield
// costs a microsecond or more (far more in a virtual machine), so yielding
// early doubled the round trip of a 2 us call.
#define IREED_RING_PAUSE_NS 20000
static inline void ireed_ring_backoff(uint64_t spun_ns) {
  if (spun_ns < IREED_RING_PAUSE_NS) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
  } else {
    sched_yield();
  }
}

#endif  // IREED_PROTO_RING_H
