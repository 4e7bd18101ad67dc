#include "hal/buffer.h"

#include <inttypes.h>
#include <string.h>

#include "hal/memory_stats.h"
#include "runtime/base/math.h"

// Device sizes index host memory directly (all supported hosts are LP64).
_Static_assert(sizeof(irhal_device_size_t) == sizeof(size_t),
               "device sizes must fit host sizes");

// Roots are destroyed by their vtable; subspans only hold their root.
static void irhal_buffer_destroy(void* object) {
  irhal_buffer_t* buffer = object;
  if (buffer->root == buffer) {
    if (buffer->memory_stats) {
      irhal_memory_stats_freed(buffer->memory_stats, buffer->allocation_size);
    }
    buffer->vtable->destroy(buffer);
    return;
  }
  irhal_buffer_t* root = buffer->root;
  irt_allocator_free(buffer->host_allocator, buffer);
  irhal_buffer_release(root);
}

const irvm_ref_type_t irhal_buffer_type_descriptor = {
    .name = "hal.buffer",
    .destroy = irhal_buffer_destroy,
};

void irhal_buffer_initialize_root(irhal_buffer_t* buffer,
                                  const irhal_buffer_vtable_t* vtable,
                                  irt_allocator_t host_allocator,
                                  uint32_t memory_type, uint32_t allowed_usage,
                                  uint32_t allowed_access,
                                  irhal_device_size_t allocation_size,
                                  void* storage) {
  irt_ref_count_init(&buffer->header.count);
  buffer->vtable = vtable;
  buffer->root = buffer;
  buffer->host_allocator = host_allocator;
  buffer->memory_type = memory_type;
  buffer->allowed_usage = allowed_usage;
  buffer->allowed_access = allowed_access;
  buffer->allocation_size = allocation_size;
  buffer->byte_offset = 0;
  buffer->byte_length = allocation_size;
  atomic_init(&buffer->preserve_count, 1);
  buffer->storage = storage;
  buffer->memory_stats = NULL;
}

//===----------------------------------------------------------------------===//
// Host memory
//===----------------------------------------------------------------------===//

// Allocated buffers keep object and data in one block (|release.fn| NULL);
// wrapped ones point at the caller's memory and call |release|.
typedef struct irhal_host_buffer_s {
  irhal_buffer_t base;
  irhal_release_callback_t release;
} irhal_host_buffer_t;

#define IRHAL_HOST_BUFFER_ALIGNMENT 64

static void irhal_host_buffer_destroy(irhal_buffer_t* root) {
  irhal_host_buffer_t* buffer = (irhal_host_buffer_t*)root;
  irhal_release_callback_t release = buffer->release;
  irt_allocator_free(root->host_allocator, buffer);
  if (release.fn) release.fn(release.user_data);
}

static irt_status_t irhal_host_buffer_map(irhal_buffer_t* root, uint32_t access,
                                          irhal_device_size_t offset,
                                          irhal_device_size_t length,
                                          void** out_ptr) {
  // Empty wrapped ranges may have NULL storage: never offset a NULL pointer.
  *out_ptr = length ? (uint8_t*)root->storage + offset : root->storage;
  return IRT_OK;
}

static const irhal_buffer_vtable_t irhal_host_buffer_vtable = {
    .destroy = irhal_host_buffer_destroy,
    .map = irhal_host_buffer_map,
};

irt_status_t irhal_host_buffer_allocate(irt_allocator_t host_allocator,
                                        uint32_t memory_type,
                                        uint32_t allowed_usage,
                                        irhal_device_size_t size,
                                        irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  // irt_allocator only promises max_align_t: over-allocate and align the data
  // inside the block.
  size_t header = sizeof(irhal_host_buffer_t) + IRHAL_HOST_BUFFER_ALIGNMENT - 1;
  size_t total = 0;
  if (!irt_add_size(header, size, &total)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "host buffer of %" PRIu64 " bytes is too large",
                           size);
  }
  irhal_host_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(host_allocator, total, (void**)&buffer),
      "allocating a host buffer of %" PRIu64 " bytes", size);
  uintptr_t data = (uintptr_t)(buffer + 1);
  data = (data + IRHAL_HOST_BUFFER_ALIGNMENT - 1) &
         ~(uintptr_t)(IRHAL_HOST_BUFFER_ALIGNMENT - 1);
  memset((void*)data, 0, (size_t)size);
  irhal_buffer_initialize_root(&buffer->base, &irhal_host_buffer_vtable,
                               host_allocator, memory_type, allowed_usage,
                               IRHAL_MEMORY_ACCESS_ALL, size, (void*)data);
  buffer->release = (irhal_release_callback_t){NULL, NULL};
  *out_buffer = &buffer->base;
  return IRT_OK;
}

irt_status_t irhal_host_buffer_wrap(
    irt_allocator_t host_allocator, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t allowed_usage, uint32_t allowed_access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  if (!data && length) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "wrapped host memory of %" PRIu64 " bytes has a NULL pointer", length);
  }
  irhal_host_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(host_allocator, sizeof(*buffer), (void**)&buffer),
      "wrapping %" PRIu64 " bytes of host memory", length);
  irhal_buffer_initialize_root(&buffer->base, &irhal_host_buffer_vtable,
                               host_allocator, memory_type, allowed_usage,
                               allowed_access, length, data);
  buffer->release = release;
  *out_buffer = &buffer->base;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Ranges and subspans
//===----------------------------------------------------------------------===//

irt_status_t irhal_buffer_check_range(const irhal_buffer_t* buffer,
                                      irhal_device_size_t offset,
                                      irhal_device_size_t* inout_length,
                                      const char* what) {
  irhal_device_size_t length = *inout_length;
  if (offset > buffer->byte_length) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s offset %" PRIu64
                           " is beyond the end of the buffer (%" PRIu64
                           " bytes)",
                           what, offset, buffer->byte_length);
  }
  if (length == IRHAL_WHOLE_LENGTH) {
    *inout_length = buffer->byte_length - offset;
    return IRT_OK;
  }
  if (!irt_range_fits(offset, length, buffer->byte_length)) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%s range [%" PRIu64 ", +%" PRIu64
                           ") exceeds the buffer length %" PRIu64,
                           what, offset, length, buffer->byte_length);
  }
  return IRT_OK;
}

irt_status_t irhal_buffer_subspan(irhal_buffer_t* source,
                                  irhal_device_size_t offset,
                                  irhal_device_size_t length,
                                  irhal_buffer_t** out_buffer) {
  *out_buffer = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_buffer_check_range(source, offset, &length, "subspan"));
  if (offset == 0 && length == source->byte_length) {
    irhal_buffer_retain(source);
    *out_buffer = source;
    return IRT_OK;
  }
  irhal_buffer_t* root = source->root;
  irhal_buffer_t* subspan = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(root->host_allocator, sizeof(*subspan),
                           (void**)&subspan),
      "allocating a buffer subspan");
  irt_ref_count_init(&subspan->header.count);
  subspan->vtable = root->vtable;
  subspan->root = root;
  subspan->host_allocator = root->host_allocator;
  subspan->memory_type = source->memory_type;
  subspan->allowed_usage = source->allowed_usage;
  subspan->allowed_access = source->allowed_access;
  subspan->allocation_size = root->allocation_size;
  // Within the root, so the sum cannot overflow.
  subspan->byte_offset = source->byte_offset + offset;
  subspan->byte_length = length;
  atomic_init(&subspan->preserve_count, 0);  // unused: the root's counts
  subspan->storage = root->storage;
  irhal_buffer_retain(root);
  *out_buffer = subspan;
  return IRT_OK;
}

irt_status_t irhal_buffer_check_usage(const irhal_buffer_t* buffer,
                                      uint32_t usage, const char* what) {
  uint32_t missing = usage & ~buffer->allowed_usage;
  if (missing) {
    return irt_make_status(IRT_STATUS_PERMISSION_DENIED,
                           "%s buffer usage 0x%x lacks 0x%x", what,
                           buffer->allowed_usage, missing);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Allocation preserve count
//===----------------------------------------------------------------------===//

void irhal_buffer_allocation_preserve(irhal_buffer_t* buffer) {
  atomic_fetch_add_explicit(&buffer->root->preserve_count, 1,
                            memory_order_relaxed);
}

bool irhal_buffer_allocation_discard(irhal_buffer_t* buffer) {
  atomic_int* count = &buffer->root->preserve_count;
  int value = atomic_load_explicit(count, memory_order_relaxed);
  do {
    if (value == 0) return false;
  } while (!atomic_compare_exchange_weak_explicit(
      count, &value, value - 1, memory_order_acq_rel, memory_order_relaxed));
  return value == 1;
}

bool irhal_buffer_allocation_is_terminal(irhal_buffer_t* buffer) {
  return atomic_load_explicit(&buffer->root->preserve_count,
                              memory_order_acquire) == 1;
}

//===----------------------------------------------------------------------===//
// Mapping
//===----------------------------------------------------------------------===//

// DISCARD implies writing; ANY bypasses the check (spec 1.4.2).
static irt_status_t irhal_buffer_check_access(const irhal_buffer_t* buffer,
                                              uint32_t access) {
  if (access & IRHAL_MEMORY_ACCESS_ANY) return IRT_OK;
  uint32_t required =
      access & (IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE);
  if (access & IRHAL_MEMORY_ACCESS_DISCARD) {
    required |= IRHAL_MEMORY_ACCESS_WRITE;
  }
  uint32_t missing = required & ~buffer->allowed_access;
  if (missing) {
    return irt_make_status(
        IRT_STATUS_PERMISSION_DENIED,
        "buffer allows memory access 0x%x; mapping for access 0x%x needs 0x%x",
        buffer->allowed_access, access, missing);
  }
  return IRT_OK;
}

irt_status_t irhal_buffer_map(irhal_buffer_t* buffer, uint32_t access,
                              irhal_device_size_t offset,
                              irhal_device_size_t length, void** out_ptr) {
  *out_ptr = NULL;
  IRT_RETURN_IF_ERROR(irhal_buffer_check_access(buffer, access));
  IRT_RETURN_IF_ERROR(
      irhal_buffer_check_range(buffer, offset, &length, "mapped"));
  irhal_buffer_t* root = buffer->root;
  if (!root->vtable->map) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "buffer memory (type 0x%x) is not host-mappable",
                           buffer->memory_type);
  }
  return root->vtable->map(root, access, buffer->byte_offset + offset, length,
                           out_ptr);
}
