#include "runtime/base/status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct irt_status_note_s {
  struct irt_status_note_s* next;
  const char* file;
  int line;
  char text[];
} irt_status_note_t;

struct irt_status_s {
  irt_status_code_t code;
  bool is_static;
  const char* file;
  int line;
  irt_status_note_t* notes_head;
  irt_status_note_t* notes_tail;
  char message[];
};

// Returned when a status itself cannot be allocated; never freed.
static struct irt_status_s irt_status_out_of_memory = {
    .code = IRT_STATUS_RESOURCE_EXHAUSTED,
    .is_static = true,
    .file = __FILE__,
    .line = __LINE__,
};

static const char* const irt_status_code_names[IRT_STATUS_CODE_COUNT] = {
    "OK",          "CANCELLED",          "UNKNOWN",
    "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS",   "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED",        "OUT_OF_RANGE",
    "UNIMPLEMENTED", "INTERNAL",             "UNAVAILABLE",
    "DATA_LOSS",     "UNAUTHENTICATED",      "DEFERRED",
    "INCOMPATIBLE",
};

const char* irt_status_code_string(irt_status_code_t code) {
  if ((unsigned)code < IRT_STATUS_CODE_COUNT) return irt_status_code_names[code];
  return "UNKNOWN_CODE";
}

// Formats into a fresh heap string placed |prefix| bytes into an allocation.
IRT_PRINTF_LIKE(2, 0)
static void* irt_vformat_alloc(size_t prefix, const char* format, va_list args,
                               size_t* out_length) {
  // GCC under -fsanitize=undefined at -O2 cannot prove |format| non-null
  // and warns (-Wformat-truncation); callers never pass NULL.
  if (!format) format = "";
  va_list copy;
  va_copy(copy, args);
  int n = vsnprintf(NULL, 0, format, copy);
  va_end(copy);
  if (n < 0) n = 0;
  char* block = malloc(prefix + (size_t)n + 1);
  if (!block) return NULL;
  vsnprintf(block + prefix, (size_t)n + 1, format, args);
  *out_length = (size_t)n;
  return block;
}

irt_status_t irt_status_createv(irt_status_code_t code, const char* file,
                                int line, const char* format, va_list args) {
  if (code == IRT_STATUS_OK) code = IRT_STATUS_UNKNOWN;  // never "fail with OK"
  size_t length = 0;
  struct irt_status_s* status = irt_vformat_alloc(
      offsetof(struct irt_status_s, message), format, args, &length);
  if (!status) return &irt_status_out_of_memory;
  status->code = code;
  status->is_static = false;
  status->file = file;
  status->line = line;
  status->notes_head = status->notes_tail = NULL;
  return status;
}

irt_status_t irt_status_create(irt_status_code_t code, const char* file,
                               int line, const char* format, ...) {
  va_list args;
  va_start(args, format);
  irt_status_t status = irt_status_createv(code, file, line, format, args);
  va_end(args);
  return status;
}

static irt_status_t irt_status_append_note(irt_status_t status,
                                           irt_status_note_t* note,
                                           const char* file, int line) {
  if (!note) return status;  // context is best-effort; keep the original error
  note->next = NULL;
  note->file = file;
  note->line = line;
  if (status->notes_tail) {
    status->notes_tail->next = note;
  } else {
    status->notes_head = note;
  }
  status->notes_tail = note;
  return status;
}

irt_status_t irt_status_annotate_at(irt_status_t status, const char* file,
                                    int line, const char* format, ...) {
  if (status == IRT_OK || status->is_static) return status;
  va_list args;
  va_start(args, format);
  size_t length = 0;
  irt_status_note_t* note = irt_vformat_alloc(offsetof(irt_status_note_t, text),
                                              format, args, &length);
  va_end(args);
  return irt_status_append_note(status, note, file, line);
}

irt_status_t irt_status_annotate_location(irt_status_t status,
                                          const char* file, int line) {
  if (status == IRT_OK || status->is_static) return status;
  irt_status_note_t* note = malloc(sizeof(irt_status_note_t) + 1);
  if (note) note->text[0] = '\0';
  return irt_status_append_note(status, note, file, line);
}

irt_status_code_t irt_status_code(irt_status_t status) {
  return status ? status->code : IRT_STATUS_OK;
}

const char* irt_status_message(irt_status_t status) {
  if (!status) return "";
  if (status->is_static) return "out of memory";
  return status->message;
}

// Appends to a bounded buffer while counting the length the full text needs.
typedef struct {
  char* buffer;
  size_t capacity;
  size_t length;
} irt_text_sink_t;

static void irt_sink_printf(irt_text_sink_t* sink, const char* format, ...)
    IRT_PRINTF_LIKE(2, 3);
static void irt_sink_printf(irt_text_sink_t* sink, const char* format, ...) {
  va_list args;
  va_start(args, format);
  size_t room = sink->length < sink->capacity ? sink->capacity - sink->length : 0;
  int n = vsnprintf(room ? sink->buffer + sink->length : NULL, room, format, args);
  va_end(args);
  if (n > 0) sink->length += (size_t)n;
}

static size_t irt_sink_finish(irt_text_sink_t* sink) {
  if (sink->capacity) {
    size_t end = sink->length < sink->capacity ? sink->length : sink->capacity - 1;
    sink->buffer[end] = '\0';
  }
  return sink->length;
}

size_t irt_status_format(irt_status_t status, char* buffer, size_t capacity) {
  irt_text_sink_t sink = {buffer, capacity, 0};
  irt_sink_printf(&sink, "%s", irt_status_code_string(irt_status_code(status)));
  if (status) {
    irt_sink_printf(&sink, "; %s (%s:%d)", irt_status_message(status),
                    status->file, status->line);
    for (irt_status_note_t* n = status->is_static ? NULL : status->notes_head; n;
         n = n->next) {
      if (n->text[0]) {
        irt_sink_printf(&sink, "\n  at %s:%d: %s", n->file, n->line, n->text);
      } else {
        irt_sink_printf(&sink, "\n  at %s:%d", n->file, n->line);
      }
    }
  }
  return irt_sink_finish(&sink);
}

size_t irt_status_format_brief(irt_status_t status, char* buffer,
                               size_t capacity) {
  irt_text_sink_t sink = {buffer, capacity, 0};
  if (!status) {
    irt_sink_printf(&sink, "OK");
    return irt_sink_finish(&sink);
  }
  irt_sink_printf(&sink, "%s", irt_status_message(status));
  for (irt_status_note_t* n = status->is_static ? NULL : status->notes_head; n;
       n = n->next) {
    if (n->text[0]) irt_sink_printf(&sink, "; %s", n->text);
  }
  return irt_sink_finish(&sink);
}

irt_status_t irt_status_clone(irt_status_t status) {
  if (!status || status->is_static) return status;
  size_t message_size = strlen(status->message) + 1;
  struct irt_status_s* copy = malloc(sizeof(*copy) + message_size);
  if (!copy) return &irt_status_out_of_memory;
  *copy = *status;
  memcpy(copy->message, status->message, message_size);
  copy->notes_head = copy->notes_tail = NULL;
  for (irt_status_note_t* n = status->notes_head; n; n = n->next) {
    size_t text_size = strlen(n->text) + 1;
    irt_status_note_t* note = malloc(sizeof(*note) + text_size);
    if (!note) break;  // context is best-effort, as when annotating
    memcpy(note->text, n->text, text_size);
    copy = irt_status_append_note(copy, note, n->file, n->line);
  }
  return copy;
}

void irt_status_free(irt_status_t status) {
  if (!status || status->is_static) return;
  irt_status_note_t* note = status->notes_head;
  while (note) {
    irt_status_note_t* next = note->next;
    free(note);
    note = next;
  }
  free(status);
}

irt_status_code_t irt_status_consume_code(irt_status_t status) {
  irt_status_code_t code = irt_status_code(status);
  irt_status_free(status);
  return code;
}
