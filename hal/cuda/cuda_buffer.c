#include "hal/cuda/cuda_buffer.h"

#include <inttypes.h>
#include <string.h>

//===----------------------------------------------------------------------===//
// Context
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cuda_context_query_limits(
    irhal_cuda_context_t* context) {
  const irhal_cuda_symbols_t* cu = context->cu;
  static const CUdevice_attribute kAttributes[5] = {
      CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X, CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y,
      CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z,
      CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
      CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED};
  int values[5] = {0};
  for (int i = 0; i < 5; ++i) {
    IRT_RETURN_IF_ERROR(
        IRHAL_CUDA_CALL(cu, cuDeviceGetAttribute,
                        (&values[i], kAttributes[i], context->device)));
  }
  for (int i = 0; i < 3; ++i) {
    context->limits.max_block_dims[i] = (uint32_t)values[i];
  }
  context->limits.max_shared_memory = (uint32_t)values[3];
  context->memory_pools = values[4] != 0;
  return IRT_OK;
}

// Freed memory stays in the default pool instead of going back to the
// driver at every synchronization: queue.alloca/dealloca in a loop then
// costs no driver allocation after the first round.
static irt_status_t irhal_cuda_context_keep_pool(
    irhal_cuda_context_t* context) {
  if (!context->memory_pools) return IRT_OK;
  const irhal_cuda_symbols_t* cu = context->cu;
  CUmemoryPool pool = NULL;
  IRT_RETURN_IF_ERROR(
      IRHAL_CUDA_CALL(cu, cuDeviceGetDefaultMemPool, (&pool, context->device)));
  cuuint64_t threshold = UINT64_MAX;
  return IRHAL_CUDA_CALL(cu, cuMemPoolSetAttribute,
                         (pool, CU_MEMPOOL_ATTR_RELEASE_THRESHOLD, &threshold));
}

irt_status_t irhal_cuda_context_create(const irhal_cuda_symbols_t* cu,
                                       int ordinal,
                                       irt_allocator_t host_allocator,
                                       irhal_cuda_context_t** out_context) {
  *out_context = NULL;
  int count = 0;
  IRT_RETURN_IF_ERROR(IRHAL_CUDA_CALL(cu, cuDeviceGetCount, (&count)));
  if (ordinal < 0 || ordinal >= count) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no CUDA device %d (this machine has %d)", ordinal,
                           count);
  }
  irhal_cuda_context_t* context = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*context), (void**)&context));
  irt_ref_count_init(&context->ref_count);
  context->host_allocator = host_allocator;
  context->cu = cu;
  context->ordinal = ordinal;
  irt_status_t status =
      IRHAL_CUDA_CALL(cu, cuDeviceGet, (&context->device, ordinal));
  if (!status) {
    status = IRHAL_CUDA_CALL(cu, cuDevicePrimaryCtxRetain,
                             (&context->context, context->device));
  }
  if (!status) status = irhal_cuda_context_bind(context);
  if (!status) status = irhal_cuda_context_query_limits(context);
  if (!status) status = irhal_cuda_context_keep_pool(context);
  if (!status) {
    // Non-blocking: the legacy default stream, which other libraries in the
    // process may use, never serializes against the queue.
    status = IRHAL_CUDA_CALL(cu, cuStreamCreate,
                             (&context->stream, CU_STREAM_NON_BLOCKING));
  }
  if (status) {
    irhal_cuda_context_release(context);
    return irt_status_annotate(status, "opening CUDA device %d", ordinal);
  }
  *out_context = context;
  return IRT_OK;
}

void irhal_cuda_context_retain(irhal_cuda_context_t* context) {
  irt_ref_count_retain(&context->ref_count);
}

void irhal_cuda_context_release(irhal_cuda_context_t* context) {
  if (!context || !irt_ref_count_release(&context->ref_count)) return;
  const irhal_cuda_symbols_t* cu = context->cu;
  if (context->context) cu->cuCtxSetCurrent(context->context);
  if (context->stream) {
    // Stream-ordered frees queued by the last buffers complete first.
    cu->cuStreamSynchronize(context->stream);
    cu->cuStreamDestroy(context->stream);
  }
  if (context->context) cu->cuDevicePrimaryCtxRelease(context->device);
  irt_allocator_free(context->host_allocator, context);
}

irt_status_t irhal_cuda_context_bind(irhal_cuda_context_t* context) {
  return IRHAL_CUDA_CALL(context->cu, cuCtxSetCurrent, (context->context));
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

typedef enum irhal_cuda_memory_kind_e {
  IRHAL_CUDA_MEMORY_DEVICE = 0,    // cuMemAllocAsync
  IRHAL_CUDA_MEMORY_HOST = 1,      // cuMemHostAlloc
  IRHAL_CUDA_MEMORY_IMPORTED = 2,  // registered by someone else
} irhal_cuda_memory_kind_t;

typedef struct irhal_cuda_buffer_s {
  irhal_buffer_t base;            // storage: the host pointer of host kinds
  irhal_cuda_context_t* context;  // retained
  irhal_cuda_memory_kind_t kind;
  CUdeviceptr address;
  irhal_release_callback_t release;  // imported memory
} irhal_cuda_buffer_t;

static const irhal_buffer_vtable_t irhal_cuda_buffer_vtable;

static void irhal_cuda_buffer_destroy(irhal_buffer_t* root) {
  irhal_cuda_buffer_t* buffer = (irhal_cuda_buffer_t*)root;
  irhal_cuda_context_t* context = buffer->context;
  const irhal_cuda_symbols_t* cu = context->cu;
  // Nothing to report to: a failed free leaks the memory at worst.
  irt_status_free(irhal_cuda_context_bind(context));
  switch (buffer->kind) {
    case IRHAL_CUDA_MEMORY_DEVICE:
      if (!buffer->address) break;
      if (context->memory_pools) {
        cu->cuMemFreeAsync(buffer->address, context->stream);
      } else {
        cu->cuStreamSynchronize(context->stream);
        cu->cuMemFree(buffer->address);
      }
      break;
    case IRHAL_CUDA_MEMORY_HOST:
      if (root->storage) cu->cuMemFreeHost(root->storage);
      break;
    case IRHAL_CUDA_MEMORY_IMPORTED:
      break;
  }
  irhal_release_callback_t release = buffer->release;
  irt_allocator_free(root->host_allocator, buffer);
  irhal_cuda_context_release(context);
  if (release.fn) release.fn(release.user_data);
}

static irt_status_t irhal_cuda_buffer_map(irhal_buffer_t* root, uint32_t access,
                                          irhal_device_size_t offset,
                                          irhal_device_size_t length,
                                          void** out_ptr) {
  *out_ptr = NULL;
  if (!root->storage) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "CUDA device memory is not host-visible; copy it "
                           "to a host-visible buffer first");
  }
  *out_ptr = (uint8_t*)root->storage + offset;
  return IRT_OK;
}

static const irhal_buffer_vtable_t irhal_cuda_buffer_vtable = {
    .destroy = irhal_cuda_buffer_destroy,
    .map = irhal_cuda_buffer_map,
};

static irt_status_t irhal_cuda_buffer_create(irhal_cuda_context_t* context,
                                             irhal_cuda_memory_kind_t kind,
                                             irhal_cuda_buffer_t** out_buffer) {
  irhal_cuda_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(context->host_allocator,
                                           sizeof(*buffer), (void**)&buffer));
  irhal_cuda_context_retain(context);
  buffer->context = context;
  buffer->kind = kind;
  *out_buffer = buffer;
  return IRT_OK;
}

// Every use is allowed: the memory kinds differ in speed, not capability.
#define IRHAL_CUDA_BUFFER_USAGE                                              \
  (IRHAL_BUFFER_USAGE_TRANSFER |                                             \
   IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS |                         \
   IRHAL_BUFFER_USAGE_DISPATCH_UNIFORM_READ |                                \
   IRHAL_BUFFER_USAGE_DISPATCH_STORAGE | IRHAL_BUFFER_USAGE_SHARING_EXPORT | \
   IRHAL_BUFFER_USAGE_SHARING_REPLICATE |                                    \
   IRHAL_BUFFER_USAGE_SHARING_CONCURRENT |                                   \
   IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE)
#define IRHAL_CUDA_HOST_BUFFER_USAGE                             \
  (IRHAL_CUDA_BUFFER_USAGE | IRHAL_BUFFER_USAGE_MAPPING_SCOPED | \
   IRHAL_BUFFER_USAGE_MAPPING_PERSISTENT |                       \
   IRHAL_BUFFER_USAGE_MAPPING_OPTIONAL |                         \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_RANDOM |                    \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_SEQUENTIAL_WRITE)

irt_status_t irhal_cuda_buffer_allocate(irhal_cuda_context_t* context,
                                        uint32_t memory_type, uint32_t usage,
                                        irhal_device_size_t size,
                                        irhal_buffer_t** out_buffer) {
  (void)usage;
  *out_buffer = NULL;
  const irhal_cuda_symbols_t* cu = context->cu;
  bool host = (memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE) != 0;
  irhal_cuda_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(irhal_cuda_buffer_create(
      context, host ? IRHAL_CUDA_MEMORY_HOST : IRHAL_CUDA_MEMORY_DEVICE,
      &buffer));
  // Zero-byte buffers are valid HAL objects; the driver refuses them.
  size_t bytes = size ? (size_t)size : 1;
  void* host_ptr = NULL;
  irt_status_t status = irhal_cuda_context_bind(context);
  if (!status && host) {
    status =
        IRHAL_CUDA_CALL(cu, cuMemHostAlloc,
                        (&host_ptr, bytes,
                         CU_MEMHOSTALLOC_PORTABLE | CU_MEMHOSTALLOC_DEVICEMAP));
    if (!status) {
      buffer->base.storage = host_ptr;
      memset(host_ptr, 0, bytes);  // like every HAL allocation
      status = IRHAL_CUDA_CALL(cu, cuMemHostGetDevicePointer,
                               (&buffer->address, host_ptr, 0));
    }
  } else if (!status && context->memory_pools) {
    status = IRHAL_CUDA_CALL(cu, cuMemAllocAsync,
                             (&buffer->address, bytes, context->stream));
  } else if (!status) {
    status = IRHAL_CUDA_CALL(cu, cuMemAlloc, (&buffer->address, bytes));
  }
  irhal_buffer_initialize_root(
      &buffer->base, &irhal_cuda_buffer_vtable, context->host_allocator,
      host ? IRHAL_CUDA_HOST_MEMORY_TYPE : IRHAL_CUDA_DEVICE_MEMORY_TYPE,
      host ? IRHAL_CUDA_HOST_BUFFER_USAGE : IRHAL_CUDA_BUFFER_USAGE,
      IRHAL_MEMORY_ACCESS_ALL, size, host_ptr);
  if (status) {
    irhal_buffer_release(&buffer->base);
    return irt_status_annotate(
        status, "allocating %" PRIu64 " bytes of %s", size,
        host ? "pinned host memory" : "CUDA device memory");
  }
  *out_buffer = &buffer->base;
  return IRT_OK;
}

bool irhal_cuda_host_range_address(irhal_cuda_context_t* context,
                                   const void* data, uint64_t length,
                                   CUdeviceptr* out_address) {
  const irhal_cuda_symbols_t* cu = context->cu;
  // Succeeds only inside memory registered (or allocated) with the driver;
  // the range's end must be inside the same registration.
  CUdeviceptr end = 0;
  return data && length &&
         cu->cuMemHostGetDevicePointer(out_address, (void*)data, 0) ==
             CUDA_SUCCESS &&
         cu->cuMemHostGetDevicePointer(&end, (uint8_t*)data + length - 1, 0) ==
             CUDA_SUCCESS &&
         end - *out_address == length - 1;
}

irt_status_t irhal_cuda_buffer_import(irhal_cuda_context_t* context, void* data,
                                      irhal_device_size_t length,
                                      uint32_t usage, uint32_t access,
                                      irhal_release_callback_t release,
                                      irhal_buffer_t** out_buffer) {
  (void)usage;
  *out_buffer = NULL;
  IRT_RETURN_IF_ERROR(irhal_cuda_context_bind(context));
  CUdeviceptr address = 0;
  if (!irhal_cuda_host_range_address(context, data, length, &address)) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "host memory at %p is not pinned for CUDA device "
                           "%d; it has to be copied",
                           data, context->ordinal);
  }
  irhal_cuda_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_cuda_buffer_create(context, IRHAL_CUDA_MEMORY_IMPORTED, &buffer));
  irhal_buffer_initialize_root(
      &buffer->base, &irhal_cuda_buffer_vtable, context->host_allocator,
      IRHAL_CUDA_HOST_MEMORY_TYPE, IRHAL_CUDA_HOST_BUFFER_USAGE, access, length,
      data);
  buffer->address = address;
  buffer->release = release;
  *out_buffer = &buffer->base;
  return IRT_OK;
}

irt_status_t irhal_cuda_buffer_address(irhal_buffer_t* buffer,
                                       irhal_device_size_t offset,
                                       irhal_device_size_t length,
                                       CUdeviceptr* out_address,
                                       bool* out_pageable) {
  *out_address = 0;
  irhal_buffer_t* root = buffer->root;
  if (root->vtable == &irhal_cuda_buffer_vtable) {
    *out_address =
        ((irhal_cuda_buffer_t*)root)->address + buffer->byte_offset + offset;
    if (out_pageable) *out_pageable = false;
    return IRT_OK;
  }
  if (!out_pageable) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "buffer was not allocated by a CUDA device");
  }
  void* host = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_ANY, offset, length, &host),
      "a buffer of another device used in a CUDA copy");
  *out_address = (CUdeviceptr)(uintptr_t)host;
  *out_pageable = true;
  return IRT_OK;
}
