// Internal to runtime/vm/builder: a growable byte array (also used for arrays
// of small structs) and little-endian stores. Every size computation is
// overflow-checked; growth goes through an explicit irt_allocator_t.
#ifndef IRVM_BUILDER_GROWABLE_H
#define IRVM_BUILDER_GROWABLE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

typedef struct irvm_growable_s {
  uint8_t* data;
  size_t size;      // bytes in use
  size_t capacity;  // bytes allocated
} irvm_growable_t;

// Makes room for |additional| more bytes (capacity at least doubles).
irt_status_t irvm_growable_reserve(irvm_growable_t* g,
                                   irt_allocator_t allocator,
                                   size_t additional) IRT_MUST_USE;
// Appends |length| bytes (|data| NULL appends zeros) and optionally returns a
// pointer to them, valid until the next growth.
irt_status_t irvm_growable_append(irvm_growable_t* g, irt_allocator_t allocator,
                                  const void* data, size_t length,
                                  void** out_ptr) IRT_MUST_USE;
void irvm_growable_free(irvm_growable_t* g, irt_allocator_t allocator);

// Typed views for arrays of structs stored in a growable.
#define IRVM_GROWABLE_COUNT(g, type) ((g).size / sizeof(type))
#define IRVM_GROWABLE_AT(g, type, i) (&((type*)(g).data)[i])

// Little-endian stores into |p| (no alignment required).
static inline void irvm_store_u16le(uint8_t* p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void irvm_store_u32le(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void irvm_store_u64le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (uint8_t)(v >> (8 * i));
}

#endif  // IRVM_BUILDER_GROWABLE_H
