// Whole-file reads for the build-time generators and tools that need a
// file's bytes in memory rather than mapped (runtime/io maps archives).
#ifndef IRT_BASE_FILE_H
#define IRT_BASE_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// Reads all of |path| into a new buffer from |allocator|, followed by a NUL
// byte that |*out_size| does not count (so text such as PTX can be used as a
// C string). Works on pipes and files whose size changes while read. Errors:
// NOT_FOUND (cannot open), DATA_LOSS (read error), RESOURCE_EXHAUSTED; each
// names |path|.
irt_status_t irt_file_read_all(const char* path, irt_allocator_t allocator,
                               uint8_t** out_data,
                               size_t* out_size) IRT_MUST_USE;

#endif  // IRT_BASE_FILE_H
