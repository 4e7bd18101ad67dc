// HAL files (HAL spec 4): device-usable handles over host memory (module
// rodata, memory-mapped parameter archives) or a file descriptor, which
// queue reads/writes transfer to and from buffers.
#ifndef IRHAL_FILE_H
#define IRHAL_FILE_H

#include "hal/buffer.h"

typedef struct irhal_file_s irhal_file_t;

extern const irvm_ref_type_t irhal_file_type_descriptor;
static inline const irvm_ref_type_t* irhal_file_type(void) {
  return &irhal_file_type_descriptor;
}
static inline irhal_file_t* irhal_file_deref(const irvm_ref_t* ref) {
  return ref->type == &irhal_file_type_descriptor ? (irhal_file_t*)ref->ptr
                                                  : NULL;
}
static inline void irhal_file_retain(irhal_file_t* file) {
  irvm_object_retain(file);
}
static inline void irhal_file_release(irhal_file_t* file) {
  irvm_object_release(file, &irhal_file_type_descriptor);
}

// A memory file over |length| bytes at |data|; |release| runs on destroy
// (not on failure: the caller keeps ownership). |access| is a subset of
// READ | WRITE.
irt_status_t irhal_file_create_from_memory(void* data, uint64_t length,
                                           uint32_t access,
                                           irhal_release_callback_t release,
                                           irt_allocator_t host_allocator,
                                           irhal_file_t** out_file) IRT_MUST_USE;
// An fd file of |length| bytes (the fd is duplicated; the file owns the dup).
irt_status_t irhal_file_create_from_fd(int fd, uint64_t length, uint32_t access,
                                       irt_allocator_t host_allocator,
                                       irhal_file_t** out_file) IRT_MUST_USE;

uint64_t irhal_file_length(const irhal_file_t* file);
uint32_t irhal_file_access(const irhal_file_t* file);
// The host bytes of a memory file, or NULL for fd files.
void* irhal_file_host_data(const irhal_file_t* file);
// The descriptor of an fd file (owned by the file), or -1 for memory files.
int irhal_file_fd(const irhal_file_t* file);

// Synchronous positional transfers, bounds-checked against the file length.
irt_status_t irhal_file_read(irhal_file_t* file, uint64_t offset, void* target,
                             uint64_t length) IRT_MUST_USE;
irt_status_t irhal_file_write(irhal_file_t* file, uint64_t offset,
                              const void* source, uint64_t length) IRT_MUST_USE;

#endif  // IRHAL_FILE_H
