#include "runtime/base/arena.h"

#include <stdint.h>
#include <string.h>

#include "runtime/base/math.h"

struct irt_arena_block_s {
  irt_arena_block_t* next;
  size_t capacity;
  size_t used;
  _Alignas(16) unsigned char data[];
};

void irt_arena_init(irt_arena_t* arena, irt_allocator_t allocator,
                    size_t block_size) {
  arena->allocator = allocator;
  arena->block_size = block_size ? block_size : 4096;
  arena->blocks = NULL;
  arena->bytes_allocated = 0;
}

void irt_arena_reset(irt_arena_t* arena) {
  irt_arena_block_t* block = arena->blocks;
  while (block) {
    irt_arena_block_t* next = block->next;
    irt_allocator_free(arena->allocator, block);
    block = next;
  }
  arena->blocks = NULL;
  arena->bytes_allocated = 0;
}

void irt_arena_rewind(irt_arena_t* arena) {
  irt_arena_block_t* kept = arena->blocks;
  if (!kept) return;
  arena->blocks = kept->next;
  irt_arena_reset(arena);
  kept->next = NULL;
  kept->used = 0;
  arena->blocks = kept;
}

void irt_arena_deinit(irt_arena_t* arena) { irt_arena_reset(arena); }

irt_status_t irt_arena_alloc(irt_arena_t* arena, size_t size, size_t alignment,
                             void** out_ptr) {
  *out_ptr = NULL;
  if (!irt_is_pow2(alignment) || alignment > 4096) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "arena alignment %zu is not a power of two <= 4096",
                           alignment);
  }
  irt_arena_block_t* block = arena->blocks;
  if (block) {
    uintptr_t base = (uintptr_t)block->data;
    size_t start = irt_align_size(base + block->used, alignment) - base;
    if (start <= block->capacity && size <= block->capacity - start) {
      block->used = start + size;
      arena->bytes_allocated += size;
      *out_ptr = block->data + start;
      return IRT_OK;
    }
  }
  // A new block big enough for this request even at worst-case alignment.
  size_t capacity = 0;
  if (!irt_add_size(size, alignment, &capacity)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "arena allocation of %zu bytes overflows", size);
  }
  if (capacity < arena->block_size) capacity = arena->block_size;
  size_t total = 0;
  if (!irt_add_size(sizeof(irt_arena_block_t), capacity, &total)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "arena allocation of %zu bytes overflows", size);
  }
  void* memory = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_malloc(arena->allocator, total, &memory));
  block = memory;
  block->capacity = capacity;
  block->used = 0;
  block->next = arena->blocks;
  arena->blocks = block;
  uintptr_t base = (uintptr_t)block->data;
  size_t start = irt_align_size(base, alignment) - base;
  block->used = start + size;
  arena->bytes_allocated += size;
  *out_ptr = block->data + start;
  return IRT_OK;
}

irt_status_t irt_arena_strndup(irt_arena_t* arena, const char* text,
                               size_t length, char** out_text) {
  size_t size = 0;
  if (!irt_add_size(length, 1, &size)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "string too long");
  }
  void* memory = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, size, 1, &memory));
  memcpy(memory, text, length);
  ((char*)memory)[length] = '\0';
  *out_text = memory;
  return IRT_OK;
}
