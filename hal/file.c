#include "hal/file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "runtime/base/math.h"

struct irhal_file_s {
  irvm_ref_object_t header;
  irt_allocator_t host_allocator;
  uint32_t access;
  uint64_t length;
  // Memory files: |data| (|release| on destroy). Fd files: |fd| >= 0.
  uint8_t* data;
  irhal_release_callback_t release;
  int fd;
};

static void irhal_file_destroy(void* object) {
  irhal_file_t* file = object;
  irhal_release_callback_t release = file->release;
  if (file->fd >= 0) close(file->fd);
  irt_allocator_free(file->host_allocator, file);
  if (release.fn) release.fn(release.user_data);
}

const irvm_ref_type_t irhal_file_type_descriptor = {
    .name = "hal.file",
    .destroy = irhal_file_destroy,
};

static irt_status_t irhal_file_allocate(uint32_t access, uint64_t length,
                                        irt_allocator_t host_allocator,
                                        irhal_file_t** out_file) {
  *out_file = NULL;
  const uint32_t allowed = IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE;
  if (access & ~allowed) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "file access 0x%x has bits other than READ|WRITE",
                           access);
  }
  irhal_file_t* file = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*file), (void**)&file),
      "allocating a file");
  irt_ref_count_init(&file->header.count);
  file->host_allocator = host_allocator;
  file->access = access;
  file->length = length;
  file->fd = -1;
  *out_file = file;
  return IRT_OK;
}

irt_status_t irhal_file_create_from_memory(void* data, uint64_t length,
                                           uint32_t access,
                                           irhal_release_callback_t release,
                                           irt_allocator_t host_allocator,
                                           irhal_file_t** out_file) {
  *out_file = NULL;
  if (!data && length) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "memory file of %" PRIu64 " bytes has a NULL pointer", length);
  }
  IRT_RETURN_IF_ERROR(
      irhal_file_allocate(access, length, host_allocator, out_file));
  (*out_file)->data = data;
  (*out_file)->release = release;
  return IRT_OK;
}

irt_status_t irhal_file_create_from_fd(int fd, uint64_t length, uint32_t access,
                                       irt_allocator_t host_allocator,
                                       irhal_file_t** out_file) {
  *out_file = NULL;
  if (length > INT64_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "file length %" PRIu64 " exceeds the off_t range",
                           length);
  }
  irhal_file_t* file = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_file_allocate(access, length, host_allocator, &file));
  file->fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (file->fd < 0) {
    int error = errno;
    irhal_file_release(file);
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "duplicating file descriptor %d: %s", fd,
                           strerror(error));
  }
  *out_file = file;
  return IRT_OK;
}

uint64_t irhal_file_length(const irhal_file_t* file) { return file->length; }

uint32_t irhal_file_access(const irhal_file_t* file) { return file->access; }

void* irhal_file_host_data(const irhal_file_t* file) {
  return file->fd >= 0 ? NULL : file->data;
}

int irhal_file_fd(const irhal_file_t* file) { return file->fd; }

static irt_status_t irhal_file_check(const irhal_file_t* file, uint32_t access,
                                     uint64_t offset, uint64_t length,
                                     const char* what) {
  if (!(file->access & access)) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "file does not allow %s (access 0x%x)", what,
                           file->access);
  }
  if (!irt_range_fits(offset, length, file->length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "file %s of [%" PRIu64 ", +%" PRIu64
                           ") exceeds the file length %" PRIu64,
                           what, offset, length, file->length);
  }
  return IRT_OK;
}

// Bounds each syscall so the count always fits ssize_t.
#define IRHAL_FILE_IO_CHUNK ((size_t)1 << 30)

irt_status_t irhal_file_read(irhal_file_t* file, uint64_t offset, void* target,
                             uint64_t length) {
  IRT_RETURN_IF_ERROR(
      irhal_file_check(file, IRHAL_MEMORY_ACCESS_READ, offset, length, "read"));
  if (length == 0) return IRT_OK;
  if (file->fd < 0) {
    memcpy(target, file->data + offset, (size_t)length);
    return IRT_OK;
  }
  uint8_t* bytes = target;
  uint64_t done = 0;
  while (done < length) {
    size_t chunk = length - done < IRHAL_FILE_IO_CHUNK ? (size_t)(length - done)
                                                       : IRHAL_FILE_IO_CHUNK;
    ssize_t n = pread(file->fd, bytes + done, chunk, (off_t)(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return irt_make_status(IRT_STATUS_DATA_LOSS,
                             "reading %zu bytes at file offset %" PRIu64 ": %s",
                             chunk, offset + done, strerror(errno));
    }
    if (n == 0) {
      return irt_make_status(IRT_STATUS_DATA_LOSS,
                             "file ends at %" PRIu64 " before the %" PRIu64
                             " bytes read at %" PRIu64,
                             offset + done, length, offset);
    }
    done += (uint64_t)n;
  }
  return IRT_OK;
}

irt_status_t irhal_file_write(irhal_file_t* file, uint64_t offset,
                              const void* source, uint64_t length) {
  IRT_RETURN_IF_ERROR(irhal_file_check(file, IRHAL_MEMORY_ACCESS_WRITE, offset,
                                       length, "write"));
  if (length == 0) return IRT_OK;
  if (file->fd < 0) {
    memcpy(file->data + offset, source, (size_t)length);
    return IRT_OK;
  }
  const uint8_t* bytes = source;
  uint64_t done = 0;
  while (done < length) {
    size_t chunk = length - done < IRHAL_FILE_IO_CHUNK ? (size_t)(length - done)
                                                       : IRHAL_FILE_IO_CHUNK;
    ssize_t n = pwrite(file->fd, bytes + done, chunk, (off_t)(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return irt_make_status(IRT_STATUS_DATA_LOSS,
                             "writing %zu bytes at file offset %" PRIu64 ": %s",
                             chunk, offset + done,
                             n < 0 ? strerror(errno) : "nothing written");
    }
    done += (uint64_t)n;
  }
  return IRT_OK;
}
