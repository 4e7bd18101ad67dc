#include "hal/cpu/cpu_device.h"

#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>

#include "hal/cpu/cpu_executable.h"
#include "hal/cpu/cpu_queue.h"
#include "hal/cpu/processor.h"

typedef struct irhal_cpu_device_s {
  irhal_device_t base;
  uint32_t worker_count;  // threads one dispatch may use (1 for local-sync)
  irhal_processor_v0_t processor;
  irhal_cpu_executor_t executor;  // pool NULL for local-sync
  // local-task: operations accepted but not yet completed. The device is
  // not torn down before they are, as their fence callbacks and pool tasks
  // point at it.
  pthread_mutex_t mutex;
  pthread_cond_t idle_cond;
  uint64_t pending_count;
} irhal_cpu_device_t;

static irhal_cpu_device_t* irhal_cpu_device_cast(irhal_device_t* base) {
  return (irhal_cpu_device_t*)base;
}

static void irhal_cpu_device_destroy(irhal_device_t* base) {
  irhal_cpu_device_t* device = irhal_cpu_device_cast(base);
  pthread_mutex_lock(&device->mutex);
  while (device->pending_count) {
    pthread_cond_wait(&device->idle_cond, &device->mutex);
  }
  pthread_mutex_unlock(&device->mutex);
  irhal_cpu_task_pool_destroy(device->executor.pool);
  pthread_cond_destroy(&device->idle_cond);
  pthread_mutex_destroy(&device->mutex);
  irt_allocator_free(base->host_allocator, device);
}

//===----------------------------------------------------------------------===//
// Queries, memory and executables
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cpu_device_query_i64(irhal_device_t* base,
                                               irt_string_view_t category,
                                               irt_string_view_t key,
                                               int64_t* out_value) {
  irhal_cpu_device_t* device = irhal_cpu_device_cast(base);
  bool concurrency = irt_string_view_equal_cstring(key, "concurrency");
  if (concurrency && irt_string_view_equal_cstring(category, "hal.device")) {
    *out_value = 1;  // one queue
    return IRT_OK;
  }
  if (concurrency && irt_string_view_equal_cstring(category, "hal.dispatch")) {
    *out_value = device->worker_count;
    return IRT_OK;
  }
  int bit = 0;
  if (irt_string_view_equal_cstring(category, "hal.cpu") &&
      irhal_cpu_feature_bit(key, &bit)) {
    *out_value = (int64_t)((device->processor.data[0] >> bit) & 1);
    return IRT_OK;
  }
  return irt_make_status(
      IRT_STATUS_NOT_FOUND, "device '%.*s' does not answer %.*s :: %.*s",
      IRT_SV_ARG(base->id), IRT_SV_ARG(category), IRT_SV_ARG(key));
}

static bool irhal_cpu_device_supports_format(irhal_device_t* base,
                                             irt_string_view_t format) {
  (void)base;
  return irhal_cpu_executable_format_supported(format);
}

// Any requested memory type and usage is satisfied by host memory, so every
// buffer reports the full set (compiled code asserts DEVICE_VISIBLE and
// TRANSFER|DISPATCH_STORAGE on them).
static irt_status_t irhal_cpu_device_allocate_buffer(
    irhal_device_t* base, uint32_t memory_type, uint32_t usage,
    irhal_device_size_t size, irhal_buffer_t** out_buffer) {
  (void)memory_type;
  (void)usage;
  return irhal_host_buffer_allocate(base->host_allocator, IRHAL_CPU_MEMORY_TYPE,
                                    IRHAL_CPU_BUFFER_USAGE, size, out_buffer);
}

static irt_status_t irhal_cpu_device_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  (void)memory_type;
  (void)usage;
  *out_buffer = NULL;
  if ((uintptr_t)data % IRHAL_CPU_BUFFER_ALIGNMENT) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "host memory at %p is not %d-byte aligned; "
                           "compiled CPU dispatches need aligned bindings, so "
                           "it has to be copied",
                           data, IRHAL_CPU_BUFFER_ALIGNMENT);
  }
  return irhal_host_buffer_wrap(base->host_allocator, data, length,
                                IRHAL_CPU_MEMORY_TYPE, IRHAL_CPU_BUFFER_USAGE,
                                access, release, out_buffer);
}

// The loaders copy what they need (segments are mapped, system libraries go
// through a memfd), so |data| is not aliased and |data_owner| not retained.
static irt_status_t irhal_cpu_device_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  (void)data_owner;
  *out_executable = NULL;
  if (!irhal_cpu_executable_format_supported(format)) {
    const char* arch = irhal_cpu_host_arch_name();
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "device '%.*s' cannot load executable format "
                           "'%.*s' (this host runs %s-%s)",
                           IRT_SV_ARG(base->id), IRT_SV_ARG(format),
                           arch ? "embedded-elf-* and system-elf" : "no CPU",
                           arch ? arch : "executables");
  }
  return irhal_cpu_executable_create(base->host_allocator, format, data, size,
                                     constants, constant_count, out_executable);
}

//===----------------------------------------------------------------------===//
// local-sync queue
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cpu_wait_failed(irt_status_t status) {
  return irt_status_annotate(status,
                             "waiting for the operation's wait fence; the "
                             "operation did not run");
}

// Blocks the submitting thread until the wait fence is reached, then runs
// the operation right here.
static irt_status_t irhal_cpu_sync_queue_submit(irhal_device_t* base,
                                                irhal_queue_op_t* op) {
  irhal_cpu_device_t* device = irhal_cpu_device_cast(base);
  irt_status_t status = irhal_fence_wait(op->wait_fence, INT64_MAX);
  status = status ? irhal_cpu_wait_failed(status)
                  : irhal_cpu_queue_run_op(&device->executor, op);
  irhal_queue_op_complete(op, status);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// local-task queue
//===----------------------------------------------------------------------===//

// An accepted operation: registered on its wait fence, then queued on the
// pool when the fence is reached or fails.
typedef struct irhal_cpu_pending_op_s {
  irhal_cpu_task_t task;
  irhal_cpu_device_t* device;
  irhal_queue_op_t* op;
  irt_status_t wait_status;
} irhal_cpu_pending_op_t;

static void irhal_cpu_device_op_done(irhal_cpu_device_t* device) {
  pthread_mutex_lock(&device->mutex);
  if (--device->pending_count == 0) {
    pthread_cond_broadcast(&device->idle_cond);
  }
  pthread_mutex_unlock(&device->mutex);
}

// Pool task: runs the operation unless its wait failed, then completes it
// (signalling or failing its signal fence). Our own state is freed before
// completion so nothing of it outlives what a woken host observes.
static void irhal_cpu_pending_op_run(void* arg) {
  irhal_cpu_pending_op_t* pending = arg;
  irhal_cpu_device_t* device = pending->device;
  irhal_queue_op_t* op = pending->op;
  irt_status_t status = pending->wait_status;
  irt_allocator_free(device->base.host_allocator, pending);
  status = status ? irhal_cpu_wait_failed(status)
                  : irhal_cpu_queue_run_op(&device->executor, op);
  irhal_queue_op_complete(op, status);
  irhal_cpu_device_op_done(device);
}

// Fence callback: runs on whichever thread reached or failed the fence (or
// inside irhal_fence_notify), so it only hands the operation to the pool.
static void irhal_cpu_pending_op_ready(void* user_data, irt_status_t status) {
  irhal_cpu_pending_op_t* pending = user_data;
  pending->wait_status = status;
  irhal_cpu_task_pool_submit(pending->device->executor.pool, &pending->task);
}

static irt_status_t irhal_cpu_task_queue_submit(irhal_device_t* base,
                                                irhal_queue_op_t* op) {
  irhal_cpu_device_t* device = irhal_cpu_device_cast(base);
  irhal_cpu_pending_op_t* pending = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_malloc(base->host_allocator, sizeof(*pending),
                           (void**)&pending),
      "allocating a queue operation record");
  pending->task.fn = irhal_cpu_pending_op_run;
  pending->task.arg = pending;
  pending->device = device;
  pending->op = op;
  pending->wait_status = IRT_OK;
  pthread_mutex_lock(&device->mutex);
  ++device->pending_count;
  pthread_mutex_unlock(&device->mutex);
  irt_status_t status =
      irhal_fence_notify(op->wait_fence, irhal_cpu_pending_op_ready, pending);
  if (status) {
    // Not registered: the callback never runs and the caller keeps |op|.
    irt_allocator_free(base->host_allocator, pending);
    irhal_cpu_device_op_done(device);
    return status;
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

static const irhal_device_vtable_t irhal_cpu_sync_device_vtable = {
    .destroy = irhal_cpu_device_destroy,
    .query_i64 = irhal_cpu_device_query_i64,
    .supports_format = irhal_cpu_device_supports_format,
    .allocate_buffer = irhal_cpu_device_allocate_buffer,
    .import_host_buffer = irhal_cpu_device_import_host_buffer,
    .create_executable = irhal_cpu_device_create_executable,
    .queue_submit = irhal_cpu_sync_queue_submit,
};

static const irhal_device_vtable_t irhal_cpu_task_device_vtable = {
    .destroy = irhal_cpu_device_destroy,
    .query_i64 = irhal_cpu_device_query_i64,
    .supports_format = irhal_cpu_device_supports_format,
    .allocate_buffer = irhal_cpu_device_allocate_buffer,
    .import_host_buffer = irhal_cpu_device_import_host_buffer,
    .create_executable = irhal_cpu_device_create_executable,
    .queue_submit = irhal_cpu_task_queue_submit,
};

static uint32_t irhal_cpu_online_count(void) {
  long count = sysconf(_SC_NPROCESSORS_ONLN);
  if (count < 1) return 1;
  if (count > IRHAL_CPU_TASK_POOL_MAX_WORKERS) {
    return IRHAL_CPU_TASK_POOL_MAX_WORKERS;
  }
  return (uint32_t)count;
}

irt_status_t irhal_cpu_device_create(const irhal_cpu_device_options_t* options,
                                     irt_allocator_t host_allocator,
                                     irhal_device_t** out_device) {
  *out_device = NULL;
  bool task = options->kind == IRHAL_CPU_DEVICE_LOCAL_TASK;
  if (!task && options->kind != IRHAL_CPU_DEVICE_LOCAL_SYNC) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "unknown CPU device kind %d", (int)options->kind);
  }
  irhal_cpu_device_t* device = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*device), (void**)&device),
      "allocating a CPU device");
  device->worker_count = 1;
  if (task) {
    device->worker_count = options->worker_count ? options->worker_count
                                                 : irhal_cpu_online_count();
    irt_status_t status = irhal_cpu_task_pool_create(
        device->worker_count, host_allocator, &device->executor.pool);
    if (status) {
      irt_allocator_free(host_allocator, device);
      return irt_status_annotate(status, "creating the local-task device");
    }
  }
  irhal_device_initialize(
      &device->base,
      task ? &irhal_cpu_task_device_vtable : &irhal_cpu_sync_device_vtable,
      irt_make_cstring_view(task ? "local-task" : "local-sync"),
      host_allocator);
  irhal_cpu_processor_query(&device->processor);
  device->executor.host_allocator = host_allocator;
  pthread_mutex_init(&device->mutex, NULL);
  pthread_cond_init(&device->idle_cond, NULL);
  *out_device = &device->base;
  return IRT_OK;
}

irt_status_t irhal_cpu_device_create_by_name(irt_string_view_t name,
                                             uint32_t worker_count,
                                             irt_allocator_t host_allocator,
                                             irhal_device_t** out_device) {
  *out_device = NULL;
  irhal_cpu_device_options_t options = {.worker_count = worker_count};
  if (irt_string_view_equal_cstring(name, "local-sync")) {
    options.kind = IRHAL_CPU_DEVICE_LOCAL_SYNC;
  } else if (irt_string_view_equal_cstring(name, "local-task")) {
    options.kind = IRHAL_CPU_DEVICE_LOCAL_TASK;
  } else {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no CPU device named '%.*s' (expected 'local-sync' "
                           "or 'local-task')",
                           IRT_SV_ARG(name));
  }
  return irhal_cpu_device_create(&options, host_allocator, out_device);
}
