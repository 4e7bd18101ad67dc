// The address ranges a loaded CPU executable occupies, with their final
// access rights. Loaders describe their mapping this way so the library
// verifier can check that every pointer the library hands out (names, tables,
// functions) lies inside the image with the right permissions, whichever
// loader mapped it.
#ifndef IRHAL_CPU_IMAGE_H
#define IRHAL_CPU_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
  IRHAL_CPU_ACCESS_READ = 1u << 0,
  IRHAL_CPU_ACCESS_WRITE = 1u << 1,
  IRHAL_CPU_ACCESS_EXECUTE = 1u << 2,
};

typedef struct irhal_cpu_image_segment_s {
  uintptr_t start;
  size_t size;
  uint32_t access;  // IRHAL_CPU_ACCESS_* bits
} irhal_cpu_image_segment_t;

typedef struct irhal_cpu_image_s {
  const irhal_cpu_image_segment_t* segments;
  size_t segment_count;
} irhal_cpu_image_t;

// Returns the segment holding all of [ptr, ptr + size) with at least
// |access|, or NULL.
static inline const irhal_cpu_image_segment_t* irhal_cpu_image_find(
    const irhal_cpu_image_t* image, const void* ptr, size_t size,
    uint32_t access) {
  uintptr_t address = (uintptr_t)ptr;
  for (size_t i = 0; i < image->segment_count; ++i) {
    const irhal_cpu_image_segment_t* segment = &image->segments[i];
    if ((segment->access & access) != access) continue;
    if (address < segment->start) continue;
    uintptr_t offset = address - segment->start;
    if (offset <= segment->size && size <= segment->size - offset) {
      return segment;
    }
  }
  return NULL;
}

static inline bool irhal_cpu_image_contains(const irhal_cpu_image_t* image,
                                            const void* ptr, size_t size,
                                            uint32_t access) {
  return irhal_cpu_image_find(image, ptr, size, access) != NULL;
}

// True when |text| is a NUL-terminated string wholly inside one readable
// segment; its length goes to |*out_length|.
static inline bool irhal_cpu_image_string(const irhal_cpu_image_t* image,
                                          const char* text,
                                          size_t* out_length) {
  const irhal_cpu_image_segment_t* segment =
      irhal_cpu_image_find(image, text, 1, IRHAL_CPU_ACCESS_READ);
  if (!segment) return false;
  size_t available = segment->size - ((uintptr_t)text - segment->start);
  size_t length = strnlen(text, available);
  if (length == available) return false;
  *out_length = length;
  return true;
}

#endif  // IRHAL_CPU_IMAGE_H
