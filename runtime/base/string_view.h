// Non-owning (pointer, length) strings. Parsed formats hand these out so
// names point into the mapped file instead of being copied.
#ifndef IRT_BASE_STRING_VIEW_H
#define IRT_BASE_STRING_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

typedef struct irt_string_view_s {
  const char* data;
  size_t size;
} irt_string_view_t;

static inline irt_string_view_t irt_make_string_view(const char* data,
                                                     size_t size) {
  irt_string_view_t view = {data, size};
  return view;
}

static inline irt_string_view_t irt_make_cstring_view(const char* text) {
  return irt_make_string_view(text, text ? strlen(text) : 0);
}

static inline bool irt_string_view_equal(irt_string_view_t a,
                                         irt_string_view_t b) {
  return a.size == b.size && (a.size == 0 || memcmp(a.data, b.data, a.size) == 0);
}

static inline bool irt_string_view_equal_cstring(irt_string_view_t a,
                                                 const char* b) {
  return irt_string_view_equal(a, irt_make_cstring_view(b));
}

static inline bool irt_string_view_starts_with(irt_string_view_t a,
                                               const char* prefix) {
  size_t n = strlen(prefix);
  return a.size >= n && memcmp(a.data, prefix, n) == 0;
}

// printf helper: printf("%.*s", IRT_SV_ARG(view)).
#define IRT_SV_ARG(view) (int)(view).size, (view).data

#endif  // IRT_BASE_STRING_VIEW_H
