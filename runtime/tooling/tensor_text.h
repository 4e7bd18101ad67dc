// The textual tensor format of the command-line tools (HAL spec 9.5): element
// type names, `SHAPExTYPE=elements` specs parsed into dense row-major bytes,
// and tensors formatted back the way iree-run-module prints results.
//
// Only byte-aligned element types can be held; element values are stored in
// host byte order (little-endian on every supported host). Uses the element
// type names of hal/buffer_view.h: link irhal_dep with irtool_dep.
#ifndef IRTOOL_TENSOR_TEXT_H
#define IRTOOL_TENSOR_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hal/buffer_view.h"
#include "hal/types.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// Largest rank the text parser accepts (HAL spec appendix C).
#define IRTOOL_MAX_RANK 128
// Room for any element type name and its NUL ("f8E5M2FNUZ", "*255").
#define IRTOOL_ELEMENT_TYPE_NAME_CAPACITY 16
// Default --output_max_element_count of the reference tool.
#define IRTOOL_DEFAULT_MAX_ELEMENT_COUNT 1024

// Parses an element type name of the spec 9.5.1 grammar: the names of
// irhal_element_type_parse ("f32", "i1", "*8", "f8E4M3FN") plus opaque types
// spelled "x<bits>". Names are printed with irhal_element_type_format.
bool irtool_element_type_parse(irt_string_view_t text,
                               irhal_element_type_t* out_element_type);

// A dense row-major tensor in host memory.
typedef struct irtool_tensor_s {
  irhal_element_type_t element_type;
  uint32_t rank;
  uint64_t shape[IRTOOL_MAX_RANK];
  uint8_t* data;
  size_t byte_length;
  // Frees |data|; vtable NULL when the data is borrowed (e.g. a mapping).
  irt_allocator_t allocator;
} irtool_tensor_t;

// Element count (1 for rank 0); OUT_OF_RANGE on overflow.
irt_status_t irtool_tensor_element_count(const irtool_tensor_t* tensor,
                                         uint64_t* out_count) IRT_MUST_USE;
// Dense byte length for the tensor's shape and type: UNIMPLEMENTED for types
// that are not byte-aligned (or 0 bits wide), OUT_OF_RANGE on overflow.
irt_status_t irtool_tensor_dense_byte_length(const irtool_tensor_t* tensor,
                                             size_t* out_length) IRT_MUST_USE;
// Allocates zero-filled data of the dense byte length (owned by |tensor|).
irt_status_t irtool_tensor_allocate(irtool_tensor_t* tensor,
                                    irt_allocator_t allocator) IRT_MUST_USE;
// Frees owned data; the tensor keeps its shape and has no data after.
void irtool_tensor_free_data(irtool_tensor_t* tensor);

// Writes "4x2xf32" ("f32" for rank 0).
void irtool_tensor_format_shape_type(const irtool_tensor_t* tensor, FILE* out);

// Where a spec's contents come from.
typedef enum irtool_contents_kind_e {
  IRTOOL_CONTENTS_ELEMENTS,       // element list (possibly empty: zeros)
  IRTOOL_CONTENTS_FILE,           // "@path": raw bytes from the file start
  IRTOOL_CONTENTS_FILE_CONTINUE,  // "+path": raw bytes where the last read
                                  // of the same path stopped
} irtool_contents_kind_t;

// A parsed `[""]SHAPExTYPE[=contents][""]` spec (leading and trailing
// whitespace and one pair of double quotes are stripped).
typedef struct irtool_tensor_spec_s {
  irtool_tensor_t tensor;  // element type and shape; no data
  irtool_contents_kind_t contents_kind;
  irt_string_view_t contents;  // the element list or the path
} irtool_tensor_spec_t;

// Parses the metadata of a tensor spec; the contents are not looked at.
// INVALID_ARGUMENT for malformed text (naming the offending part),
// RESOURCE_EXHAUSTED above IRTOOL_MAX_RANK, UNIMPLEMENTED for element types
// that are not byte-aligned.
irt_status_t irtool_tensor_spec_parse(irt_string_view_t text,
                                      irtool_tensor_spec_t* out_spec)
    IRT_MUST_USE;

// Parses |text| (tokens separated by whitespace, ',', '[' and ']') into the
// allocated data of |tensor|: zero tokens leave the data zero-filled, one
// token with several elements is a splat, otherwise the token count must
// match the element count (OUT_OF_RANGE, "expected 4 elements for 4xf32 but
// got 3"). Bad tokens are INVALID_ARGUMENT naming the token and its index.
irt_status_t irtool_tensor_parse_elements(irtool_tensor_t* tensor,
                                          irt_string_view_t text) IRT_MUST_USE;

// Parses a whole spec whose contents are an element list into a new tensor
// (owned data). File contents are FAILED_PRECONDITION here: reading files is
// the job of function_io.h.
irt_status_t irtool_tensor_parse(irt_string_view_t text,
                                 irt_allocator_t allocator,
                                 irtool_tensor_t* out_tensor) IRT_MUST_USE;

// Writes one element at |element| in the result format: integers in
// decimal (unsigned types unsigned), floats widened to f32/f64 with %G,
// everything else as uppercase hex bytes in memory order.
void irtool_element_format(irhal_element_type_t element_type,
                           const uint8_t* element, FILE* out);

// Writes "<shape>x<type>=<elements>" with '[' ']' around each slice of rank
// >= 2, at most |max_element_count| elements in total ("..." ends a list that
// was cut short). OUT_OF_RANGE when the data is shorter than the shape needs.
irt_status_t irtool_tensor_format(const irtool_tensor_t* tensor,
                                  size_t max_element_count,
                                  FILE* out) IRT_MUST_USE;

#endif  // IRTOOL_TENSOR_TEXT_H
