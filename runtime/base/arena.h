// A bump allocator for many small allocations freed together (parsed tables,
// per-request scratch). Blocks come from an irt_allocator_t; nothing is freed
// individually.
#ifndef IRT_BASE_ARENA_H
#define IRT_BASE_ARENA_H

#include <stddef.h>

#include "runtime/base/allocator.h"

typedef struct irt_arena_block_s irt_arena_block_t;

typedef struct irt_arena_s {
  irt_allocator_t allocator;
  size_t block_size;  // default size of new blocks
  irt_arena_block_t* blocks;
  size_t bytes_allocated;  // sum of all requested sizes (for accounting)
} irt_arena_t;

// |block_size| 0 selects 4 KiB.
void irt_arena_init(irt_arena_t* arena, irt_allocator_t allocator,
                    size_t block_size);
// Frees every block.
void irt_arena_deinit(irt_arena_t* arena);
// Frees every block but keeps the arena usable.
void irt_arena_reset(irt_arena_t* arena);
// Frees every block but the newest, which is emptied for reuse: an arena
// serving one request after another allocates only when one outgrows it.
void irt_arena_rewind(irt_arena_t* arena);

// Returns |size| bytes aligned to |alignment| (a power of two, at most 4096).
irt_status_t irt_arena_alloc(irt_arena_t* arena, size_t size, size_t alignment,
                             void** out_ptr) IRT_MUST_USE;
// Copies |length| bytes of |text| into the arena with a NUL terminator.
irt_status_t irt_arena_strndup(irt_arena_t* arena, const char* text,
                               size_t length, char** out_text) IRT_MUST_USE;

#endif  // IRT_BASE_ARENA_H
