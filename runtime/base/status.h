// Status values: a code, a formatted message and the chain of places it
// passed through on its way up.
//
// IRT_OK (NULL) means success and costs nothing. Any other status is an owned
// heap object: whoever receives one must either return it to its caller
// (after optionally annotating it), or consume it with irt_status_free /
// irt_status_ignore. Allocation failure while building a status yields a
// static RESOURCE_EXHAUSTED status, so error paths never fail themselves.
#ifndef IRT_BASE_STATUS_H
#define IRT_BASE_STATUS_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

// Codes match IREE's (and absl's) numbering so that `vm.fail` codes and
// statuses crossing module boundaries keep their meaning.
typedef enum irt_status_code_e {
  IRT_STATUS_OK = 0,
  IRT_STATUS_CANCELLED = 1,
  IRT_STATUS_UNKNOWN = 2,
  IRT_STATUS_INVALID_ARGUMENT = 3,
  IRT_STATUS_DEADLINE_EXCEEDED = 4,
  IRT_STATUS_NOT_FOUND = 5,
  IRT_STATUS_ALREADY_EXISTS = 6,
  IRT_STATUS_PERMISSION_DENIED = 7,
  IRT_STATUS_RESOURCE_EXHAUSTED = 8,
  IRT_STATUS_FAILED_PRECONDITION = 9,
  IRT_STATUS_ABORTED = 10,
  IRT_STATUS_OUT_OF_RANGE = 11,
  IRT_STATUS_UNIMPLEMENTED = 12,
  IRT_STATUS_INTERNAL = 13,
  IRT_STATUS_UNAVAILABLE = 14,
  IRT_STATUS_DATA_LOSS = 15,
  IRT_STATUS_UNAUTHENTICATED = 16,
  IRT_STATUS_DEFERRED = 17,
  IRT_STATUS_INCOMPATIBLE = 18,
  IRT_STATUS_CODE_COUNT,
} irt_status_code_t;

typedef struct irt_status_s* irt_status_t;
#define IRT_OK ((irt_status_t)NULL)

#if defined(__GNUC__)
#define IRT_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define IRT_MUST_USE __attribute__((warn_unused_result))
#else
#define IRT_PRINTF_LIKE(f, a)
#define IRT_MUST_USE
#endif

// Creates a status with |code| (not OK) and a printf-style message, recording
// |file|:|line| as its origin. Use the irt_make_status macro.
irt_status_t irt_status_create(irt_status_code_t code, const char* file,
                               int line, const char* format, ...)
    IRT_PRINTF_LIKE(4, 5) IRT_MUST_USE;
irt_status_t irt_status_createv(irt_status_code_t code, const char* file,
                                int line, const char* format, va_list args)
    IRT_PRINTF_LIKE(4, 0) IRT_MUST_USE;

#define irt_make_status(code, ...) \
  irt_status_create((code), __FILE__, __LINE__, __VA_ARGS__)

// Adds a line of context ("while loading x") recorded at |file|:|line|.
// Returns |status| (OK stays OK and the message is not formatted).
irt_status_t irt_status_annotate_at(irt_status_t status, const char* file,
                                    int line, const char* format, ...)
    IRT_PRINTF_LIKE(4, 5) IRT_MUST_USE;
#define irt_status_annotate(status, ...) \
  irt_status_annotate_at((status), __FILE__, __LINE__, __VA_ARGS__)

// Records that |status| passed through |file|:|line| (no message).
irt_status_t irt_status_annotate_location(irt_status_t status,
                                          const char* file, int line)
    IRT_MUST_USE;

// Evaluates |expr|; on failure records the caller's location on the status
// and returns it from the current function.
#define IRT_RETURN_IF_ERROR(expr)                                     \
  do {                                                                \
    irt_status_t irt_status_tmp_ = (expr);                            \
    if (irt_status_tmp_ != IRT_OK) {                                  \
      return irt_status_annotate_location(irt_status_tmp_, __FILE__,  \
                                          __LINE__);                  \
    }                                                                 \
  } while (0)

// Same, adding a printf-style note: IRT_RETURN_IF_ERROR_CTX(f(), "in %s", x).
#define IRT_RETURN_IF_ERROR_CTX(expr, ...)                              \
  do {                                                                  \
    irt_status_t irt_status_tmp_ = (expr);                              \
    if (irt_status_tmp_ != IRT_OK) {                                    \
      return irt_status_annotate_at(irt_status_tmp_, __FILE__, __LINE__, \
                                    __VA_ARGS__);                        \
    }                                                                   \
  } while (0)

static inline bool irt_status_is_ok(irt_status_t status) {
  return status == IRT_OK;
}
irt_status_code_t irt_status_code(irt_status_t status);
// The message given at creation (without annotations); "" for OK.
const char* irt_status_message(irt_status_t status);
// "INVALID_ARGUMENT" etc.
const char* irt_status_code_string(irt_status_code_t code);

// Formats "CODE; message" followed by one "\n  at file:line: note" per
// annotation, innermost first. Returns the length the full text needs
// (excluding the NUL), like snprintf.
size_t irt_status_format(irt_status_t status, char* buffer, size_t capacity);
// The same text on one line, without source locations: "message; note; note".
// Meant for users (CLI output, error replies).
size_t irt_status_format_brief(irt_status_t status, char* buffer,
                               size_t capacity);

// An independent copy of |status| (code, message, origin and annotations),
// for handing one stored failure to many receivers. OK stays OK; when the
// copy cannot be allocated the result is the static out-of-memory status.
irt_status_t irt_status_clone(irt_status_t status) IRT_MUST_USE;

// Releases the status (no-op for OK).
void irt_status_free(irt_status_t status);
// Releases the status and returns its code: for callers that only branch on it.
irt_status_code_t irt_status_consume_code(irt_status_t status);
static inline void irt_status_ignore(irt_status_t status) {
  irt_status_free(status);
}

#endif  // IRT_BASE_STATUS_H
