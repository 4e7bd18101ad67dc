#include "daemon/region.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "runtime/base/math.h"

irt_status_t ireed_region_map(int fd, uint64_t size, uint64_t id,
                              irt_allocator_t allocator,
                              ireed_region_t** out_region) {
  *out_region = NULL;
  if (size == 0 || size > IREED_REGION_MAX_SIZE || size > SIZE_MAX) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "region size %" PRIu64 " is not within 1 byte .. 1 TiB", size);
  }
  int seals = fcntl(fd, F_GET_SEALS);
  if (seals < 0 || !(seals & F_SEAL_SHRINK)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "the region's file is not sealed against shrinking "
                           "(create it with memfd_create(MFD_ALLOW_SEALING) "
                           "and add F_SEAL_SHRINK)%s%s",
                           seals < 0 ? ": " : "",
                           seals < 0 ? strerror(errno) : "");
  }
  struct stat info;
  if (fstat(fd, &info) != 0 || (uint64_t)info.st_size < size) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "the region's file holds %" PRIu64
                           " bytes, less than the %" PRIu64 " registered",
                           (uint64_t)info.st_size, size);
  }
  // Write access lets outputs land in the region; a memfd sealed against
  // writes can still serve inputs.
  bool writable = true;
  void* data =
      mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED && (errno == EACCES || errno == EPERM)) {
    writable = false;
    data = mmap(NULL, (size_t)size, PROT_READ, MAP_SHARED, fd, 0);
  }
  if (data == MAP_FAILED) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot map a %" PRIu64 "-byte region: %s", size,
                           strerror(errno));
  }
  ireed_region_t* region = NULL;
  irt_status_t status =
      irt_allocator_malloc(allocator, sizeof(*region), (void**)&region);
  if (!irt_status_is_ok(status)) {
    munmap(data, (size_t)size);
    return status;
  }
  irt_ref_count_init(&region->ref_count);
  pthread_mutex_init(&region->pin_mutex, NULL);
  region->pinned_device = NULL;
  region->allocator = allocator;
  region->id = id;
  region->data = data;
  region->size = size;
  region->writable = writable;
  *out_region = region;
  return IRT_OK;
}

void ireed_region_release(ireed_region_t* region) {
  if (region && irt_ref_count_release(&region->ref_count)) {
    if (region->pinned_device) {
      irhal_device_unregister_host_memory(region->pinned_device, region->data);
      irhal_device_release(region->pinned_device);
    }
    pthread_mutex_destroy(&region->pin_mutex);
    munmap(region->data, (size_t)region->size);
    irt_allocator_free(region->allocator, region);
  }
}

irt_status_t ireed_region_pin(ireed_region_t* region,
                              irhal_device_t* device) {
  if (!device->vtable->register_host_memory) return IRT_OK;
  irt_status_t status = IRT_OK;
  pthread_mutex_lock(&region->pin_mutex);
  if (!region->pinned_device) {
    bool registered = false;
    status = irhal_device_register_host_memory(
        device, region->data, (size_t)region->size, &registered);
    if (registered) {
      irhal_device_retain(device);
      region->pinned_device = device;
    }
  }
  pthread_mutex_unlock(&region->pin_mutex);
  return status;
}

void ireed_region_release_callback(void* user_data) {
  ireed_region_release((ireed_region_t*)user_data);
}

bool ireed_region_contains(const ireed_region_t* region, uint64_t offset,
                           uint64_t length) {
  return irt_range_fits(offset, length, region->size);
}

//===----------------------------------------------------------------------===//
// Table
//===----------------------------------------------------------------------===//

void ireed_region_table_initialize(ireed_region_table_t* table,
                                   irt_allocator_t allocator) {
  memset(table, 0, sizeof(*table));
  table->allocator = allocator;
}

void ireed_region_table_deinitialize(ireed_region_table_t* table) {
  for (size_t i = 0; i < table->count; ++i) {
    ireed_region_release(table->regions[i]);
  }
  irt_allocator_free(table->allocator, table->regions);
  table->regions = NULL;
  table->count = table->capacity = 0;
}

irt_status_t ireed_region_table_insert(ireed_region_table_t* table,
                                       ireed_region_t* region) {
  if (table->count == table->capacity) {
    size_t capacity = table->capacity ? table->capacity * 2 : 8;
    void* regions = table->regions;
    IRT_RETURN_IF_ERROR(irt_allocator_realloc(
        table->allocator, capacity * sizeof(*table->regions), &regions));
    table->regions = regions;
    table->capacity = capacity;
  }
  table->regions[table->count++] = region;
  return IRT_OK;
}

// Index of region |id|, or table->count.
static size_t ireed_region_table_index(const ireed_region_table_t* table,
                                       uint64_t id) {
  size_t low = 0, high = table->count;
  while (low < high) {
    size_t middle = low + (high - low) / 2;
    uint64_t middle_id = table->regions[middle]->id;
    if (middle_id == id) return middle;
    if (middle_id < id) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return table->count;
}

ireed_region_t* ireed_region_table_find(const ireed_region_table_t* table,
                                        uint64_t id) {
  size_t index = ireed_region_table_index(table, id);
  return index < table->count ? table->regions[index] : NULL;
}

bool ireed_region_table_remove(ireed_region_table_t* table, uint64_t id) {
  size_t index = ireed_region_table_index(table, id);
  if (index == table->count) return false;
  ireed_region_t* region = table->regions[index];
  memmove(&table->regions[index], &table->regions[index + 1],
          (table->count - index - 1) * sizeof(*table->regions));
  --table->count;
  ireed_region_release(region);
  return true;
}
