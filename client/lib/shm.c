// Shared-memory regions: sealed memfds registered with the daemon, and the
// connection's pool of staging regions for large inputs.
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/lib/connection.h"
#include "runtime/base/math.h"

// Free staging regions kept per connection; more are released.
#define IREECLIENT_STAGING_POOL_LIMIT 8

static irt_status_t ireeclient_shm_register(ireeclient_connection_t* connection,
                                            ireeclient_shm_t* shm) {
  Ireed__RegisterShmRequest request = IREED__REGISTER_SHM_REQUEST__INIT;
  request.size = shm->size;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_REGISTER_SHM;
  frame.register_shm = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, shm->fd, IREED__FRAME__BODY_REGISTER_SHM_REPLY,
      &reply));
  shm->region_id = reply->register_shm_reply->region_id;
  ireed__frame__free_unpacked(reply, NULL);
  return IRT_OK;
}

// Maps |fd| (owned by the new object from here on) and registers it.
static irt_status_t ireeclient_shm_wrap(ireeclient_connection_t* connection,
                                        int fd, uint64_t size,
                                        ireeclient_shm_t** out_shm) {
  *out_shm = NULL;
  if (size == 0 || size > SIZE_MAX) {
    close(fd);
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "shared-memory region size %llu is out of range",
                           (unsigned long long)size);
  }
  ireeclient_shm_t* shm = calloc(1, sizeof(*shm));
  if (!shm) {
    close(fd);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  shm->fd = fd;
  shm->size = size;
  void* data =
      mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    int error = errno;
    close(fd);
    free(shm);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot map a %llu-byte shared-memory region: %s",
                           (unsigned long long)size, strerror(error));
  }
  shm->data = data;
  shm->connection = connection;
  ireeclient_connection_retain(connection);
  irt_status_t status = ireeclient_shm_register(connection, shm);
  if (status) {
    ireeclient_shm_free(shm);
    return irt_status_annotate(status, "registering a %llu-byte region",
                               (unsigned long long)size);
  }
  *out_shm = shm;
  return IRT_OK;
}

void ireeclient_shm_free(ireeclient_shm_t* shm) {
  munmap(shm->data, (size_t)shm->size);
  close(shm->fd);
  if (shm->connection) ireeclient_connection_release(shm->connection);
  free(shm);
}

irt_status_t ireeclient_shm_create(ireeclient_connection_t* connection,
                                   uint64_t size, ireeclient_shm_t** out_shm) {
  *out_shm = NULL;
  int fd = memfd_create("ireeclient", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "memfd_create failed: %s", strerror(errno));
  }
  // The daemon maps the region too: a shrink would make its accesses
  // fault, so the size is fixed before the fd leaves this process.
  if (size > (uint64_t)INT64_MAX || ftruncate(fd, (off_t)size) != 0 ||
      fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0) {
    int error = errno;
    close(fd);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot size and seal a %llu-byte memfd: %s",
                           (unsigned long long)size, strerror(error));
  }
  return ireeclient_shm_wrap(connection, fd, size, out_shm);
}

irt_status_t ireeclient_shm_register_fd(ireeclient_connection_t* connection,
                                        int fd, uint64_t size,
                                        ireeclient_shm_t** out_shm) {
  *out_shm = NULL;
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "fd %d is not a memfd sealed with F_SEAL_SHRINK",
                           fd);
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || (uint64_t)info.st_size < size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "memfd %d is smaller than the %llu bytes to "
                           "register",
                           fd, (unsigned long long)size);
  }
  int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot duplicate fd %d: %s", fd, strerror(errno));
  }
  return ireeclient_shm_wrap(connection, copy, size, out_shm);
}

static void ireeclient_shm_unregister_detached(ireeclient_shm_t* shm) {
  Ireed__UnregisterShmRequest request = IREED__UNREGISTER_SHM_REQUEST__INIT;
  request.region_id = shm->region_id;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNREGISTER_SHM;
  frame.unregister_shm = &request;
  ireeclient_connection_send_detached(shm->connection, &frame,
                                      IREED__FRAME__BODY_UNREGISTER_SHM_REPLY);
}

void ireeclient_shm_release(ireeclient_shm_t* shm) {
  if (!shm) return;
  ireeclient_shm_unregister_detached(shm);
  ireeclient_shm_free(shm);
}

void* ireeclient_shm_data(const ireeclient_shm_t* shm) { return shm->data; }
uint64_t ireeclient_shm_size(const ireeclient_shm_t* shm) { return shm->size; }
uint64_t ireeclient_shm_region_id(const ireeclient_shm_t* shm) {
  return shm->region_id;
}

irt_status_t ireeclient_shm_allocate(ireeclient_shm_t* shm, uint64_t size,
                                     uint64_t* out_offset) {
  uint64_t offset = 0;
  if (!irt_align_up_u64(shm->used, IREECLIENT_SHM_ALIGNMENT, &offset) ||
      !irt_range_fits(offset, size, shm->size)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "a %llu-byte slice does not fit in the %llu bytes "
                           "left of shared-memory region %llu",
                           (unsigned long long)size,
                           (unsigned long long)(shm->size - shm->used),
                           (unsigned long long)shm->region_id);
  }
  shm->used = offset + size;
  *out_offset = offset;
  return IRT_OK;
}

void ireeclient_shm_reset(ireeclient_shm_t* shm) { shm->used = 0; }

//===----------------------------------------------------------------------===//
// Staging pool
//===----------------------------------------------------------------------===//

// Regions in the pool hold no connection reference (the connection owns
// the pool); one is taken again when a region leaves it.

irt_status_t ireeclient_staging_acquire(ireeclient_connection_t* connection,
                                        uint64_t size,
                                        ireeclient_shm_t** out_shm) {
  *out_shm = NULL;
  pthread_mutex_lock(&connection->mutex);
  ireeclient_shm_t** best = NULL;
  for (ireeclient_shm_t** link = &connection->staging_free; *link;
       link = &(*link)->next_free) {
    if ((*link)->size >= size && (!best || (*link)->size < (*best)->size)) {
      best = link;
    }
  }
  ireeclient_shm_t* shm = NULL;
  if (best) {
    shm = *best;
    *best = shm->next_free;
    shm->next_free = NULL;
    --connection->staging_free_count;
    shm->connection = connection;
    ireeclient_connection_retain(connection);
  }
  pthread_mutex_unlock(&connection->mutex);
  if (shm) {
    *out_shm = shm;
    return IRT_OK;
  }
  // Power-of-two sizes let regions serve many tensors of similar sizes.
  uint64_t rounded = size;
  if (size <= (UINT64_C(1) << 62)) {
    rounded = 1;
    while (rounded < size) rounded <<= 1;
  }
  return ireeclient_shm_create(connection, rounded, out_shm);
}

void ireeclient_staging_release(ireeclient_shm_t* shm) {
  ireeclient_connection_t* connection = shm->connection;
  pthread_mutex_lock(&connection->mutex);
  bool keep = !connection->broken &&
              connection->staging_free_count < IREECLIENT_STAGING_POOL_LIMIT;
  if (keep) {
    shm->next_free = connection->staging_free;
    connection->staging_free = shm;
    ++connection->staging_free_count;
    shm->connection = NULL;
  }
  pthread_mutex_unlock(&connection->mutex);
  if (keep) {
    ireeclient_connection_release(connection);
  } else {
    ireeclient_shm_release(shm);
  }
}

void ireeclient_staging_drain(ireeclient_connection_t* connection) {
  pthread_mutex_lock(&connection->mutex);
  ireeclient_shm_t* shm = connection->staging_free;
  connection->staging_free = NULL;
  connection->staging_free_count = 0;
  pthread_mutex_unlock(&connection->mutex);
  // The daemon forgets a connection's regions when it closes.
  while (shm) {
    ireeclient_shm_t* next = shm->next_free;
    ireeclient_shm_free(shm);
    shm = next;
  }
}
