#include "tests/hal_staging/discrete_device.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "runtime/base/math.h"

#define DISCRETE_ALIGNMENT 64

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

// Host-visible byte counts, shared by the device and its staging buffers
// (which may outlive it).
typedef struct discrete_heap_s {
  atomic_int references;
  irt_allocator_t allocator;
  pthread_mutex_t mutex;
  uint64_t live_bytes;
  uint64_t peak_bytes;
} discrete_heap_t;

static void discrete_heap_release(discrete_heap_t* heap) {
  if (atomic_fetch_sub(&heap->references, 1) != 1) return;
  pthread_mutex_destroy(&heap->mutex);
  irt_allocator_free(heap->allocator, heap);
}

static void discrete_heap_add(discrete_heap_t* heap, uint64_t bytes) {
  pthread_mutex_lock(&heap->mutex);
  heap->live_bytes += bytes;
  if (heap->live_bytes > heap->peak_bytes) heap->peak_bytes = heap->live_bytes;
  pthread_mutex_unlock(&heap->mutex);
}

typedef struct discrete_buffer_s {
  irhal_buffer_t base;
  discrete_heap_t* heap;  // host-visible buffers only (retained)
  void* block;            // the allocation |base.storage| is aligned within
} discrete_buffer_t;

static void discrete_buffer_destroy(irhal_buffer_t* root) {
  discrete_buffer_t* buffer = (discrete_buffer_t*)root;
  irt_allocator_t allocator = root->host_allocator;
  if (buffer->heap) {
    pthread_mutex_lock(&buffer->heap->mutex);
    buffer->heap->live_bytes -= root->allocation_size;
    pthread_mutex_unlock(&buffer->heap->mutex);
    discrete_heap_release(buffer->heap);
  }
  irt_allocator_free(allocator, buffer->block);
  irt_allocator_free(allocator, buffer);
}

static irt_status_t discrete_buffer_map(irhal_buffer_t* root, uint32_t access,
                                        irhal_device_size_t offset,
                                        irhal_device_size_t length,
                                        void** out_ptr) {
  (void)access;
  (void)length;
  *out_ptr = (uint8_t*)root->storage + offset;
  return IRT_OK;
}

static const irhal_buffer_vtable_t discrete_host_visible_vtable = {
    .destroy = discrete_buffer_destroy,
    .map = discrete_buffer_map,
};

// No map: the host cannot reach device-local memory.
static const irhal_buffer_vtable_t discrete_device_local_vtable = {
    .destroy = discrete_buffer_destroy,
};

uint8_t* discrete_device_buffer_bytes(irhal_buffer_t* buffer) {
  return (uint8_t*)buffer->root->storage + buffer->byte_offset;
}

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

typedef struct discrete_node_s {
  struct discrete_node_s* next;
  irhal_queue_op_t* op;
} discrete_node_t;

typedef struct discrete_device_s {
  irhal_device_t base;
  discrete_device_options_t options;
  discrete_heap_t* heap;
  pthread_t engine;
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  bool stopping;
  discrete_node_t* head;
  discrete_node_t* tail;
  // Counters (under |mutex|).
  uint64_t copies;
  uint32_t queued_copies;
  uint32_t max_queued_copies;
  uint64_t direct_transfers;
} discrete_device_t;

static discrete_device_t* discrete_cast(irhal_device_t* base) {
  return (discrete_device_t*)base;
}

static void discrete_destroy(irhal_device_t* base) {
  discrete_device_t* device = discrete_cast(base);
  pthread_mutex_lock(&device->mutex);
  device->stopping = true;
  pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
  pthread_join(device->engine, NULL);
  pthread_cond_destroy(&device->cond);
  pthread_mutex_destroy(&device->mutex);
  discrete_heap_release(device->heap);
  irt_allocator_free(base->host_allocator, device);
}

static bool discrete_supports_format(irhal_device_t* base,
                                     irt_string_view_t format) {
  (void)base;
  (void)format;
  return false;
}

static irt_status_t discrete_allocate_buffer(irhal_device_t* base,
                                             uint32_t memory_type,
                                             uint32_t usage,
                                             irhal_device_size_t size,
                                             irhal_buffer_t** out_buffer) {
  discrete_device_t* device = discrete_cast(base);
  *out_buffer = NULL;
  bool host_visible = memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE;
  discrete_buffer_t* buffer = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc(base->host_allocator,
                                           sizeof(*buffer), (void**)&buffer));
  irt_status_t status = irt_allocator_malloc(
      base->host_allocator, (size_t)size + DISCRETE_ALIGNMENT, &buffer->block);
  if (status) {
    irt_allocator_free(base->host_allocator, buffer);
    return status;
  }
  void* data =
      (void*)irt_align_size((uintptr_t)buffer->block, DISCRETE_ALIGNMENT);
  irhal_buffer_initialize_root(
      &buffer->base,
      host_visible ? &discrete_host_visible_vtable
                   : &discrete_device_local_vtable,
      base->host_allocator,
      host_visible ? memory_type : IRHAL_MEMORY_TYPE_DEVICE_LOCAL, usage,
      IRHAL_MEMORY_ACCESS_ALL, size, data);
  if (host_visible) {
    atomic_fetch_add(&device->heap->references, 1);
    buffer->heap = device->heap;
    discrete_heap_add(device->heap, size);
  }
  *out_buffer = &buffer->base;
  return IRT_OK;
}

static irt_status_t discrete_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  (void)base, (void)data, (void)length, (void)memory_type, (void)usage;
  (void)access, (void)release;
  *out_buffer = NULL;
  return irt_make_status(IRT_STATUS_UNAVAILABLE,
                         "the discrete test device cannot use host memory");
}

static irt_status_t discrete_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  (void)base, (void)data, (void)size, (void)data_owner, (void)constants;
  (void)constant_count;
  *out_executable = NULL;
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "the discrete test device loads no executables "
                         "('%.*s')",
                         IRT_SV_ARG(format));
}

//===----------------------------------------------------------------------===//
// Queue
//===----------------------------------------------------------------------===//

static irt_status_t discrete_copy(discrete_device_t* device,
                                  const irhal_queue_op_t* op) {
  pthread_mutex_lock(&device->mutex);
  uint64_t index = device->copies++;
  pthread_mutex_unlock(&device->mutex);
  if ((int64_t)index == device->options.fail_copy_index) {
    return irt_make_status(IRT_STATUS_DATA_LOSS,
                           "injected failure of copy %" PRIu64, index);
  }
  memmove(
      discrete_device_buffer_bytes(op->copy.target) + op->copy.target_offset,
      discrete_device_buffer_bytes(op->copy.source) + op->copy.source_offset,
      (size_t)op->copy.length);
  if (device->options.copy_delay_us) usleep(device->options.copy_delay_us);
  return IRT_OK;
}

static irt_status_t discrete_run(discrete_device_t* device,
                                 const irhal_queue_op_t* op) {
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return IRT_OK;
    case IRHAL_QUEUE_OP_COPY:
      return discrete_copy(device, op);
    case IRHAL_QUEUE_OP_READ:
    case IRHAL_QUEUE_OP_WRITE:
      pthread_mutex_lock(&device->mutex);
      ++device->direct_transfers;
      pthread_mutex_unlock(&device->mutex);
      return irt_make_status(IRT_STATUS_INTERNAL,
                             "a file transfer reached a device that stages "
                             "them");
    default:
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             "the discrete test device runs barriers and "
                             "copies only (op %d)",
                             (int)op->kind);
  }
}

static void* discrete_engine_main(void* arg) {
  discrete_device_t* device = arg;
  pthread_mutex_lock(&device->mutex);
  for (;;) {
    while (!device->head && !device->stopping) {
      pthread_cond_wait(&device->cond, &device->mutex);
    }
    discrete_node_t* node = device->head;
    if (!node) break;  // stopping with nothing queued
    device->head = node->next;
    if (!device->head) device->tail = NULL;
    pthread_mutex_unlock(&device->mutex);

    irhal_queue_op_t* op = node->op;
    irt_allocator_free(device->base.host_allocator, node);
    bool copy = op->kind == IRHAL_QUEUE_OP_COPY;
    irt_status_t status = irhal_fence_wait(op->wait_fence, INT64_MAX);
    status = status ? irt_status_annotate(status, "wait failed; not run")
                    : discrete_run(device, op);
    // Counted out before anyone can observe the completion.
    pthread_mutex_lock(&device->mutex);
    if (copy) --device->queued_copies;
    pthread_mutex_unlock(&device->mutex);
    irhal_queue_op_complete(op, status);
    pthread_mutex_lock(&device->mutex);
  }
  pthread_mutex_unlock(&device->mutex);
  return NULL;
}

static irt_status_t discrete_queue_submit(irhal_device_t* base,
                                          irhal_queue_op_t* op) {
  discrete_device_t* device = discrete_cast(base);
  discrete_node_t* node = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(base->host_allocator, sizeof(*node), (void**)&node));
  node->op = op;
  pthread_mutex_lock(&device->mutex);
  if (device->tail) {
    device->tail->next = node;
  } else {
    device->head = node;
  }
  device->tail = node;
  if (op->kind == IRHAL_QUEUE_OP_COPY &&
      ++device->queued_copies > device->max_queued_copies) {
    device->max_queued_copies = device->queued_copies;
  }
  pthread_cond_signal(&device->cond);
  pthread_mutex_unlock(&device->mutex);
  return IRT_OK;
}

static const irhal_device_vtable_t discrete_vtable = {
    .destroy = discrete_destroy,
    .supports_format = discrete_supports_format,
    .allocate_buffer = discrete_allocate_buffer,
    .import_host_buffer = discrete_import_host_buffer,
    .create_executable = discrete_create_executable,
    .queue_submit = discrete_queue_submit,
    .stage_file_transfers = true,
};

irt_status_t discrete_device_create(const discrete_device_options_t* options,
                                    irt_allocator_t host_allocator,
                                    irhal_device_t** out_device) {
  *out_device = NULL;
  discrete_device_t* device = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*device), (void**)&device));
  irt_status_t status = irt_allocator_calloc(
      host_allocator, sizeof(*device->heap), (void**)&device->heap);
  if (status) {
    irt_allocator_free(host_allocator, device);
    return status;
  }
  atomic_init(&device->heap->references, 1);
  device->heap->allocator = host_allocator;
  pthread_mutex_init(&device->heap->mutex, NULL);
  device->options = *options;
  pthread_mutex_init(&device->mutex, NULL);
  pthread_cond_init(&device->cond, NULL);
  irhal_device_initialize(&device->base, &discrete_vtable,
                          irt_make_cstring_view("discrete-test"),
                          host_allocator);
  if (pthread_create(&device->engine, NULL, discrete_engine_main, device)) {
    pthread_cond_destroy(&device->cond);
    pthread_mutex_destroy(&device->mutex);
    discrete_heap_release(device->heap);
    irt_allocator_free(host_allocator, device);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot start the discrete device's engine thread");
  }
  *out_device = &device->base;
  return IRT_OK;
}

void discrete_device_stats(irhal_device_t* base,
                           discrete_device_stats_t* out_stats) {
  discrete_device_t* device = discrete_cast(base);
  pthread_mutex_lock(&device->mutex);
  out_stats->copies = device->copies;
  out_stats->max_queued_copies = device->max_queued_copies;
  out_stats->direct_transfers = device->direct_transfers;
  pthread_mutex_unlock(&device->mutex);
  pthread_mutex_lock(&device->heap->mutex);
  out_stats->host_visible_live_bytes = device->heap->live_bytes;
  out_stats->host_visible_peak_bytes = device->heap->peak_bytes;
  pthread_mutex_unlock(&device->heap->mutex);
}
