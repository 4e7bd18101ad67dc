#include "runtime/io/file_mapping.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

struct irio_file_mapping_s {
  irio_file_mapping_t* next;  // in the registry
  size_t references;          // guarded by the registry lock
  irt_allocator_t allocator;
  // What makes a second open reuse this mapping.
  irio_file_identity_t identity;
  irio_file_mode_t mode;
  uint8_t* data;
  uint64_t size;
  char path[];
};

// Every live mapping. Lookups and reference count changes take the lock, so
// a mapping found in the list can never be in the middle of being unmapped.
static pthread_mutex_t irio_registry_lock = PTHREAD_MUTEX_INITIALIZER;
static irio_file_mapping_t* irio_registry_head = NULL;

static irio_file_identity_t irio_file_identity_from_stat(
    const struct stat* info) {
  return (irio_file_identity_t){
      .device = (uint64_t)info->st_dev,
      .inode = (uint64_t)info->st_ino,
      .size = (uint64_t)info->st_size,
      .modified_seconds = (int64_t)info->st_mtim.tv_sec,
      .modified_nanoseconds = (int64_t)info->st_mtim.tv_nsec,
  };
}

bool irio_file_identity_equal(const irio_file_identity_t* a,
                              const irio_file_identity_t* b) {
  return a->device == b->device && a->inode == b->inode &&
         a->size == b->size && a->modified_seconds == b->modified_seconds &&
         a->modified_nanoseconds == b->modified_nanoseconds;
}

static irt_status_code_t irio_file_error_code(int error) {
  return error == ENOENT || error == ENOTDIR ? IRT_STATUS_NOT_FOUND
         : error == EACCES || error == EPERM || error == EROFS
             ? IRT_STATUS_PERMISSION_DENIED
             : IRT_STATUS_UNAVAILABLE;
}

static irt_status_t irio_file_open_error(const char* path, int error) {
  return irt_make_status(irio_file_error_code(error), "cannot open '%s': %s",
                         path, strerror(error));
}

irt_status_t irio_file_identity_of_path(const char* path,
                                        irio_file_identity_t* out_identity) {
  struct stat info;
  if (stat(path, &info) != 0) {
    int error = errno;
    return irt_make_status(irio_file_error_code(error), "cannot stat '%s': %s",
                           path, strerror(error));
  }
  *out_identity = irio_file_identity_from_stat(&info);
  return IRT_OK;
}

static bool irio_file_mapping_matches(const irio_file_mapping_t* mapping,
                                      const irio_file_identity_t* identity,
                                      irio_file_mode_t mode) {
  return irio_file_identity_equal(&mapping->identity, identity) &&
         mapping->mode == mode;
}

// Creates a mapping of the open file |fd| (called with the lock held so two
// racing opens cannot both map it).
static irt_status_t irio_file_mapping_create(
    const char* path, int fd, const struct stat* info, irio_file_mode_t mode,
    irt_allocator_t allocator, irio_file_mapping_t** out_mapping) {
  if ((uint64_t)info->st_size > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "'%s' (%" PRIu64
                           " bytes) does not fit the address "
                           "space",
                           path, (uint64_t)info->st_size);
  }
  size_t path_length = strlen(path);
  irio_file_mapping_t* mapping = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(allocator, sizeof(*mapping) + path_length + 1,
                           (void**)&mapping),
      "mapping '%s'", path);
  size_t size = (size_t)info->st_size;
  if (size > 0) {
    bool writable = mode == IRIO_FILE_MODE_READ_WRITE;
    void* data = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
                      writable ? MAP_SHARED : MAP_PRIVATE, fd, 0);
    if (data == MAP_FAILED) {
      int error = errno;
      irt_allocator_free(allocator, mapping);
      return irt_make_status(IRT_STATUS_UNAVAILABLE, "cannot map '%s': %s",
                             path, strerror(error));
    }
    mapping->data = data;
  }
  mapping->references = 1;
  mapping->allocator = allocator;
  mapping->identity = irio_file_identity_from_stat(info);
  mapping->mode = mode;
  mapping->size = size;
  memcpy(mapping->path, path, path_length + 1);
  *out_mapping = mapping;
  return IRT_OK;
}

// Finds or creates the mapping of the open file |fd| under the lock.
static irt_status_t irio_file_mapping_share(const char* path, int fd,
                                            irio_file_mode_t mode,
                                            irt_allocator_t allocator,
                                            irio_file_mapping_t** out_mapping) {
  struct stat info;
  if (fstat(fd, &info) != 0) return irio_file_open_error(path, errno);
  if (!S_ISREG(info.st_mode)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s' is not a regular file", path);
  }
  irio_file_identity_t identity = irio_file_identity_from_stat(&info);
  pthread_mutex_lock(&irio_registry_lock);
  irio_file_mapping_t* mapping = irio_registry_head;
  while (mapping && !irio_file_mapping_matches(mapping, &identity, mode)) {
    mapping = mapping->next;
  }
  irt_status_t status = IRT_OK;
  if (mapping) {
    ++mapping->references;
  } else {
    status =
        irio_file_mapping_create(path, fd, &info, mode, allocator, &mapping);
    if (irt_status_is_ok(status)) {
      mapping->next = irio_registry_head;
      irio_registry_head = mapping;
    }
  }
  pthread_mutex_unlock(&irio_registry_lock);
  *out_mapping = mapping;
  return status;
}

irt_status_t irio_file_mapping_open(const char* path, irio_file_mode_t mode,
                                    irt_allocator_t allocator,
                                    irio_file_mapping_t** out_mapping) {
  *out_mapping = NULL;
  int flags =
      (mode == IRIO_FILE_MODE_READ_WRITE ? O_RDWR : O_RDONLY) | O_CLOEXEC;
  int fd = open(path, flags);
  if (fd < 0) return irio_file_open_error(path, errno);
  // The mapping outlives the descriptor.
  irt_status_t status =
      irio_file_mapping_share(path, fd, mode, allocator, out_mapping);
  close(fd);
  return status;
}

void irio_file_mapping_retain(irio_file_mapping_t* mapping) {
  pthread_mutex_lock(&irio_registry_lock);
  ++mapping->references;
  pthread_mutex_unlock(&irio_registry_lock);
}

void irio_file_mapping_release(irio_file_mapping_t* mapping) {
  if (!mapping) return;
  pthread_mutex_lock(&irio_registry_lock);
  bool last = --mapping->references == 0;
  if (last) {
    irio_file_mapping_t** link = &irio_registry_head;
    while (*link != mapping) link = &(*link)->next;
    *link = mapping->next;
  }
  pthread_mutex_unlock(&irio_registry_lock);
  if (!last) return;
  if (mapping->data) munmap(mapping->data, (size_t)mapping->size);
  irt_allocator_free(mapping->allocator, mapping);
}

void irio_file_mapping_release_callback(void* user_data) {
  irio_file_mapping_release((irio_file_mapping_t*)user_data);
}

uint8_t* irio_file_mapping_data(const irio_file_mapping_t* mapping) {
  return mapping->data;
}

uint64_t irio_file_mapping_size(const irio_file_mapping_t* mapping) {
  return mapping->size;
}

irio_file_mode_t irio_file_mapping_mode(const irio_file_mapping_t* mapping) {
  return mapping->mode;
}

const char* irio_file_mapping_path(const irio_file_mapping_t* mapping) {
  return mapping->path;
}

irio_file_identity_t irio_file_mapping_identity(
    const irio_file_mapping_t* mapping) {
  return mapping->identity;
}

size_t irio_file_mapping_live_count(void) {
  pthread_mutex_lock(&irio_registry_lock);
  size_t count = 0;
  for (irio_file_mapping_t* m = irio_registry_head; m; m = m->next) ++count;
  pthread_mutex_unlock(&irio_registry_lock);
  return count;
}
