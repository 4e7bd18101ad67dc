// NumPy .npy arrays (HAL spec 9.5.2): reading the arrays of a file one after
// another, and writing (or appending) arrays.
//
// Reading accepts format versions 1.x (u16 header length) and 2.x/3.x (u32),
// little-endian or byte-order-free dtypes of kinds b, i, u, f, c and V, and
// C order only. Every header field is bounds-checked; malformed headers are
// INVALID_ARGUMENT, unsupported dtypes or Fortran order UNIMPLEMENTED,
// truncated files OUT_OF_RANGE.
#ifndef IRTOOL_NPY_H
#define IRTOOL_NPY_H

#include <stdio.h>

#include "runtime/tooling/tensor_text.h"

// Header dictionaries longer than this are refused (numpy's own writers stay
// far below it; the cap keeps a corrupted length from allocating gigabytes).
#define IRTOOL_NPY_MAX_HEADER_LENGTH (1u << 20)

// Parses the preamble and header dictionary at the start of |data| (|size|
// bytes available) into |out_tensor|'s element type and shape (no data) and
// the offset where the array data starts.
irt_status_t irtool_npy_parse_header(const uint8_t* data, size_t size,
                                     irtool_tensor_t* out_tensor,
                                     size_t* out_data_offset) IRT_MUST_USE;

// Reads the array at |file|'s position into a new tensor (owned data) and
// leaves the position after it. |file| must be seekable (the remaining size
// is checked before allocating). Errors name |name| (the file's path).
irt_status_t irtool_npy_read(FILE* file, const char* name,
                             irt_allocator_t allocator,
                             irtool_tensor_t* out_tensor) IRT_MUST_USE;

// Writes |tensor| as one array at |file|'s position: version 1.0 (2.0 only
// if the header needs it), data aligned to 64 bytes. UNIMPLEMENTED for
// element types .npy cannot describe (bf16, f8 types).
irt_status_t irtool_npy_write(FILE* file, const char* name,
                              const irtool_tensor_t* tensor) IRT_MUST_USE;

#endif  // IRTOOL_NPY_H
