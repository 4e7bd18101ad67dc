// Helpers shared by the tooling tests: status assertions, capturing what a
// formatter writes, and scratch files.
#ifndef TESTS_TOOLING_TEST_UTIL_H
#define TESTS_TOOLING_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// Consumes |status| and checks its code and that its brief text contains
// |needle| (may be NULL).
#define assert_status(expr, code, needle)                             \
  do {                                                                \
    irt_status_t status_ = (expr);                                    \
    char text_[1024];                                                 \
    irt_status_format_brief(status_, text_, sizeof(text_));           \
    if (irt_status_code(status_) != (code)) {                         \
      fail_msg("expected %s, got %s: %s",                             \
               irt_status_code_string(code),                          \
               irt_status_code_string(irt_status_code(status_)),      \
               text_);                                                \
    }                                                                 \
    const char* needle_ = (needle);                                   \
    if (needle_ && !strstr(text_, needle_)) {                         \
      fail_msg("message '%s' lacks '%s'", text_, needle_);            \
    }                                                                 \
    irt_status_free(status_);                                         \
  } while (0)

#define assert_ok(expr) assert_status((expr), IRT_STATUS_OK, NULL)

#define SV(text) irt_make_cstring_view(text)

// Collects what is written to |stream| (a memory stream) as a string.
typedef struct capture_s {
  char* text;
  size_t size;
  FILE* stream;
} capture_t;

static inline void capture_begin(capture_t* capture) {
  capture->text = NULL;
  capture->size = 0;
  capture->stream = open_memstream(&capture->text, &capture->size);
  if (!capture->stream) abort();
}

// Returns the text (owned by |capture| until capture_free).
static inline const char* capture_end(capture_t* capture) {
  fclose(capture->stream);
  capture->stream = NULL;
  return capture->text;
}

static inline void capture_free(capture_t* capture) {
  free(capture->text);
  capture->text = NULL;
}

// A fresh scratch directory under $TMPDIR (or /tmp): |buffer| receives its
// path. Removed (with its files) by scratch_dir_remove.
static inline void scratch_dir_create(char* buffer, size_t capacity) {
  const char* base = getenv("TMPDIR");
  snprintf(buffer, capacity, "%s/irtool-test-XXXXXX",
           base && *base ? base : "/tmp");
  if (!mkdtemp(buffer)) abort();
}

static inline void scratch_dir_remove(const char* path) {
  char command[1100];
  snprintf(command, sizeof(command), "rm -rf '%s'", path);
  if (system(command) != 0) abort();
}

static inline void write_file(const char* path, const void* data,
                              size_t size) {
  FILE* file = fopen(path, "wb");
  if (!file || (size && fwrite(data, 1, size, file) != size)) abort();
  fclose(file);
}

#endif  // TESTS_TOOLING_TEST_UTIL_H
