// Memory-mapped archive files, shared process-wide: opening a file that is
// already mapped (same device and inode, unchanged size and modification
// time, same mode) returns the existing mapping with one more reference, so
// every index, module and buffer serving a file's parameters uses one
// mapping and nothing is copied. The mapping goes away with its last
// reference (the HAL files and zero-copy buffers over it hold references).
//
// As with any mapping, truncating a file while it is mapped makes accesses
// past the new end fault (SIGBUS): archives in use must be replaced by
// renaming a new file over them, never rewritten in place.
#ifndef IRIO_FILE_MAPPING_H
#define IRIO_FILE_MAPPING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

typedef struct irio_file_mapping_s irio_file_mapping_t;

// What tells one version of a file from another: a file renamed over the
// path is another inode, one rewritten in place has another size or
// modification time. (While a mapping holds the old inode, the file system
// cannot hand its number to a new file.)
typedef struct irio_file_identity_s {
  uint64_t device;
  uint64_t inode;
  uint64_t size;
  int64_t modified_seconds;
  int64_t modified_nanoseconds;
} irio_file_identity_t;

// The identity of the file at |path| now (stat, following symbolic links).
// Errors name the path: NOT_FOUND when it does not exist.
irt_status_t irio_file_identity_of_path(
    const char* path, irio_file_identity_t* out_identity) IRT_MUST_USE;
bool irio_file_identity_equal(const irio_file_identity_t* a,
                              const irio_file_identity_t* b);

typedef enum irio_file_mode_e {
  // PROT_READ, MAP_PRIVATE: the default for parameter archives.
  IRIO_FILE_MODE_READ = 0,
  // PROT_READ|PROT_WRITE, MAP_SHARED: writes (io_parameters.scatter) reach
  // the file.
  IRIO_FILE_MODE_READ_WRITE = 1,
} irio_file_mode_t;

// Maps |path| (a regular file) or retains its existing mapping. Errors name
// the path: NOT_FOUND when it does not exist, PERMISSION_DENIED when it
// cannot be opened in |mode|, INVALID_ARGUMENT for non-regular files.
// |allocator| holds the bookkeeping of a new mapping.
irt_status_t irio_file_mapping_open(
    const char* path, irio_file_mode_t mode, irt_allocator_t allocator,
    irio_file_mapping_t** out_mapping) IRT_MUST_USE;

void irio_file_mapping_retain(irio_file_mapping_t* mapping);
void irio_file_mapping_release(irio_file_mapping_t* mapping);
// irio_file_mapping_release with the mapping as |user_data|: the release
// callback of HAL files and buffers that alias the mapping.
void irio_file_mapping_release_callback(void* user_data);

// The file's bytes (NULL for an empty file) and size. Read-only mappings
// must not be written through.
uint8_t* irio_file_mapping_data(const irio_file_mapping_t* mapping);
uint64_t irio_file_mapping_size(const irio_file_mapping_t* mapping);
irio_file_mode_t irio_file_mapping_mode(const irio_file_mapping_t* mapping);
// The path it was first opened with.
const char* irio_file_mapping_path(const irio_file_mapping_t* mapping);
// The identity of the file mapped (fstat of the descriptor that was mapped,
// so it names exactly these bytes even if the path changed meanwhile).
irio_file_identity_t irio_file_mapping_identity(
    const irio_file_mapping_t* mapping);

// Number of mappings alive in the process (for leak checks in tests).
size_t irio_file_mapping_live_count(void);

#endif  // IRIO_FILE_MAPPING_H
