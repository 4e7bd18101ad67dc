#include "runtime/vm/cconv.h"

#include "runtime/base/math.h"

#define IRVM_REF_SIZE sizeof(irvm_ref_t)
#define IRVM_REF_ALIGN _Alignof(irvm_ref_t)

static bool irvm_cconv_is_plain(char c) {
  return c == 'i' || c == 'I' || c == 'f' || c == 'F' || c == 'r';
}

// Validates a fragment: plain chars and non-empty, non-nested C...D spans.
static irt_status_t irvm_cconv_validate_fragment(irt_string_view_t fragment,
                                                 bool allow_spans,
                                                 irt_string_view_t whole) {
  bool in_span = false;
  size_t span_length = 0;
  for (size_t i = 0; i < fragment.size; ++i) {
    char c = fragment.data[i];
    if (irvm_cconv_is_plain(c)) {
      ++span_length;
      continue;
    }
    if (c == 'C' && allow_spans && !in_span) {
      in_span = true;
      span_length = 0;
      continue;
    }
    if (c == 'D' && in_span && span_length > 0) {
      in_span = false;
      continue;
    }
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "calling convention '%.*s': unexpected '%c'",
                           IRT_SV_ARG(whole), c);
  }
  if (in_span) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "calling convention '%.*s': unterminated span",
                           IRT_SV_ARG(whole));
  }
  return IRT_OK;
}

static irt_string_view_t irvm_cconv_normalize(irt_string_view_t fragment) {
  if (fragment.size == 1 && fragment.data[0] == 'v') {
    return irt_make_string_view(fragment.data, 0);
  }
  return fragment;
}

irt_status_t irvm_cconv_parse(irt_string_view_t text, irvm_cconv_t* out_cconv) {
  out_cconv->arguments = irt_make_string_view("", 0);
  out_cconv->results = irt_make_string_view("", 0);
  if (text.size == 0) return IRT_OK;  // () -> ()
  if (text.data[0] != '0') {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "unsupported cconv version '%c' in '%.*s'",
                           text.data[0], IRT_SV_ARG(text));
  }
  irt_string_view_t rest = irt_make_string_view(text.data + 1, text.size - 1);
  const char* split = memchr(rest.data, '_', rest.size);
  irt_string_view_t arguments = rest;
  irt_string_view_t results = irt_make_string_view(rest.data, 0);
  if (split) {
    arguments = irt_make_string_view(rest.data, (size_t)(split - rest.data));
    results = irt_make_string_view(split + 1,
                                   rest.size - arguments.size - 1);
  }
  arguments = irvm_cconv_normalize(arguments);
  results = irvm_cconv_normalize(results);
  IRT_RETURN_IF_ERROR(irvm_cconv_validate_fragment(arguments, true, text));
  IRT_RETURN_IF_ERROR(irvm_cconv_validate_fragment(results, false, text));
  out_cconv->arguments = arguments;
  out_cconv->results = results;
  return IRT_OK;
}

uint32_t irvm_cconv_fragment_value_count(irt_string_view_t fragment) {
  uint32_t count = 0;
  bool in_span = false;
  for (size_t i = 0; i < fragment.size; ++i) {
    char c = fragment.data[i];
    if (c == 'C') {
      in_span = true;
      ++count;
    } else if (c == 'D') {
      in_span = false;
    } else if (!in_span) {
      ++count;
    }
  }
  return count;
}

static void irvm_cconv_char_layout(char c, size_t* size, size_t* alignment) {
  switch (c) {
    case 'I':
    case 'F':
      *size = 8;
      *alignment = 8;
      break;
    case 'r':
      *size = IRVM_REF_SIZE;
      *alignment = IRVM_REF_ALIGN;
      break;
    default:
      *size = 4;
      *alignment = 4;
      break;
  }
}

// Element layout of a span's tuple: size without tail padding, alignment
// at least 4.
static void irvm_cconv_tuple_layout(irt_string_view_t tuple, size_t* out_size,
                                    size_t* out_alignment) {
  size_t offset = 0;
  size_t max_alignment = 4;
  for (size_t i = 0; i < tuple.size; ++i) {
    size_t size = 0, alignment = 0;
    irvm_cconv_char_layout(tuple.data[i], &size, &alignment);
    offset = irt_align_size(offset, alignment) + size;
    if (alignment > max_alignment) max_alignment = alignment;
  }
  *out_size = offset;
  *out_alignment = max_alignment;
}

// The chars between a 'C' at |start| and its 'D'.
static irt_string_view_t irvm_cconv_span_at(irt_string_view_t fragment,
                                            size_t start) {
  const char* end = memchr(fragment.data + start, 'D', fragment.size - start);
  return irt_make_string_view(fragment.data + start + 1,
                              (size_t)(end - fragment.data) - start - 1);
}

bool irvm_cconv_buffer_size(irt_string_view_t fragment,
                            const uint32_t* span_counts, size_t* out_size) {
  uint64_t offset = 0;
  size_t max_alignment = 4;
  uint32_t span_index = 0;
  for (size_t i = 0; i < fragment.size; ++i) {
    char c = fragment.data[i];
    size_t size = 0, alignment = 0;
    if (c == 'C') {
      irt_string_view_t tuple = irvm_cconv_span_at(fragment, i);
      uint32_t count = span_counts ? span_counts[span_index] : 0;
      ++span_index;
      size_t element_size = 0, element_alignment = 0;
      irvm_cconv_tuple_layout(tuple, &element_size, &element_alignment);
      offset = irt_align_size(offset, 4) + 4;
      // The allocation aligns even for empty spans (spec 9.2).
      offset = irt_align_size(offset, element_alignment);
      uint64_t bytes = 0;
      if (!irt_mul_u64(count, element_size, &bytes) ||
          !irt_add_u64(offset, bytes, &offset)) {
        return false;
      }
      if (element_alignment > max_alignment) max_alignment = element_alignment;
      i += tuple.size + 1;  // skip to the 'D'
      continue;
    }
    irvm_cconv_char_layout(c, &size, &alignment);
    offset = irt_align_size(offset, alignment) + size;
    if (alignment > max_alignment) max_alignment = alignment;
  }
  uint64_t total = 0;
  if (!irt_align_up_u64(offset, max_alignment, &total) || total > SIZE_MAX) {
    return false;
  }
  *out_size = (size_t)total;
  return true;
}

bool irvm_cconv_register_usage(irt_string_view_t fragment,
                               irvm_register_usage_t* out_usage) {
  uint32_t i32_count = 0, ref_count = 0;
  for (size_t i = 0; i < fragment.size; ++i) {
    switch (fragment.data[i]) {
      case 'i':
      case 'f':
        ++i32_count;
        break;
      case 'I':
      case 'F':
        i32_count = (i32_count + 1u) & ~1u;
        i32_count += 2;
        break;
      case 'r':
        ++ref_count;
        break;
      default:
        return false;
    }
  }
  out_usage->i32_count = i32_count;
  out_usage->ref_count = ref_count;
  return true;
}

irvm_abi_span_t irvm_abi_read_span(irvm_abi_cursor_t* cursor,
                                   irt_string_view_t element_fragment) {
  irvm_abi_span_t span;
  span.count = (uint32_t)irvm_abi_read_i32(cursor);
  size_t alignment = 0;
  irvm_cconv_tuple_layout(element_fragment, &span.element_size, &alignment);
  if (span.count > 0) irvm_abi_cursor_next(cursor, 0, alignment);
  span.elements = cursor->base + cursor->offset;
  cursor->offset += (size_t)span.count * span.element_size;
  return span;
}

irvm_abi_span_t irvm_abi_begin_span(irvm_abi_cursor_t* cursor, uint32_t count,
                                    irt_string_view_t element_fragment) {
  irvm_abi_write_i32(cursor, (int32_t)count);
  cursor->offset -= 4;  // re-read the count we just wrote
  return irvm_abi_read_span(cursor, element_fragment);
}

static void irvm_abi_release_plain_refs(irt_string_view_t chars,
                                        irvm_abi_cursor_t* cursor) {
  for (size_t i = 0; i < chars.size; ++i) {
    size_t size = 0, alignment = 0;
    irvm_cconv_char_layout(chars.data[i], &size, &alignment);
    void* field = irvm_abi_cursor_next(cursor, size, alignment);
    if (chars.data[i] == 'r') irvm_ref_release((irvm_ref_t*)field);
  }
}

void irvm_abi_release_refs(irt_string_view_t fragment, void* buffer) {
  if (!memchr(fragment.data, 'r', fragment.size)) return;
  irvm_abi_cursor_t cursor = irvm_abi_cursor(buffer);
  for (size_t i = 0; i < fragment.size; ++i) {
    if (fragment.data[i] != 'C') {
      irvm_abi_release_plain_refs(irt_make_string_view(fragment.data + i, 1),
                                  &cursor);
      continue;
    }
    irt_string_view_t tuple = irvm_cconv_span_at(fragment, i);
    irvm_abi_span_t span = irvm_abi_read_span(&cursor, tuple);
    for (uint32_t k = 0; k < span.count; ++k) {
      irvm_abi_cursor_t element = irvm_abi_span_element(span, k);
      irvm_abi_release_plain_refs(tuple, &element);
    }
    i += tuple.size + 1;
  }
}
