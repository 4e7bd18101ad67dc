#include "hal/cuda/cuda_device.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hal/cuda/cuda_buffer.h"
#include "hal/cuda/cuda_executable.h"
#include "hal/cuda/cuda_file.h"

// An operation between its acceptance and its completion.
typedef struct irhal_cuda_submission_s {
  struct irhal_cuda_submission_s* next;  // completion FIFO
  struct irhal_cuda_device_s* device;
  irhal_queue_op_t* op;
  CUevent event;        // recorded on the stream after the op's work
  irt_status_t status;  // why issuing failed, if it did
} irhal_cuda_submission_t;

typedef struct irhal_cuda_device_s {
  irhal_device_t base;
  irhal_cuda_context_t* context;
  irhal_cuda_file_driver_t* file_driver;  // NULL without libcufile
  // Serializes issuing to the stream with appending to the FIFO, so the
  // FIFO is in stream order.
  pthread_mutex_t issue_mutex;
  // Guards the FIFO, |pending_count| and |stopping|.
  pthread_mutex_t mutex;
  pthread_cond_t cond;
  irhal_cuda_submission_t* head;
  irhal_cuda_submission_t* tail;
  uint64_t pending_count;  // accepted and not yet completed
  bool stopping;
  pthread_t completion_thread;
} irhal_cuda_device_t;

static irhal_cuda_device_t* irhal_cuda_device_cast(irhal_device_t* base) {
  return (irhal_cuda_device_t*)base;
}

//===----------------------------------------------------------------------===//
// Issuing operations to the stream
//===----------------------------------------------------------------------===//

static irt_status_t irhal_cuda_fill(irhal_cuda_context_t* context,
                                    irhal_buffer_t* buffer,
                                    irhal_device_size_t offset,
                                    irhal_device_size_t length,
                                    uint64_t pattern, uint32_t pattern_length) {
  IRT_RETURN_IF_ERROR(irhal_check_fill_pattern(offset, length, pattern_length));
  if (length == 0) return IRT_OK;
  CUdeviceptr target = 0;
  IRT_RETURN_IF_ERROR(
      irhal_cuda_buffer_address(buffer, offset, length, &target, NULL));
  const irhal_cuda_symbols_t* cu = context->cu;
  if (target % pattern_length) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "fill target address 0x%llx is not %" PRIu32
                           "-byte aligned",
                           (unsigned long long)target, pattern_length);
  }
  size_t count = (size_t)(length / pattern_length);
  switch (pattern_length) {
    case 1:
      return IRHAL_CUDA_CALL(
          cu, cuMemsetD8Async,
          (target, (unsigned char)pattern, count, context->stream));
    case 2:
      return IRHAL_CUDA_CALL(
          cu, cuMemsetD16Async,
          (target, (unsigned short)pattern, count, context->stream));
    default:
      return IRHAL_CUDA_CALL(
          cu, cuMemsetD32Async,
          (target, (unsigned int)pattern, count, context->stream));
  }
}

// Any direction: unified addressing tells host from device memory.
static irt_status_t irhal_cuda_copy(irhal_cuda_context_t* context,
                                    irhal_buffer_t* source,
                                    irhal_device_size_t source_offset,
                                    irhal_buffer_t* target,
                                    irhal_device_size_t target_offset,
                                    irhal_device_size_t length) {
  if (length == 0) return IRT_OK;
  CUdeviceptr from = 0, to = 0;
  bool pageable = false;
  IRT_RETURN_IF_ERROR(irhal_cuda_buffer_address(source, source_offset, length,
                                                &from, &pageable));
  IRT_RETURN_IF_ERROR(
      irhal_cuda_buffer_address(target, target_offset, length, &to, &pageable));
  return IRHAL_CUDA_CALL(context->cu, cuMemcpyAsync,
                         (to, from, (size_t)length, context->stream));
}

// Host bytes the op owns until it completes (after the stream ran the copy).
static irt_status_t irhal_cuda_update(irhal_cuda_context_t* context,
                                      const uint8_t* data,
                                      irhal_buffer_t* target,
                                      irhal_device_size_t offset,
                                      irhal_device_size_t length) {
  if (length == 0) return IRT_OK;
  CUdeviceptr to = 0;
  bool pageable = false;
  IRT_RETURN_IF_ERROR(
      irhal_cuda_buffer_address(target, offset, length, &to, &pageable));
  return IRHAL_CUDA_CALL(
      context->cu, cuMemcpyAsync,
      (to, (CUdeviceptr)(uintptr_t)data, (size_t)length, context->stream));
}

// Spec 8.4: one 8-byte slot per binding (its device address) then one per
// constant (in the low 4 bytes), each passed by pointer.
static irt_status_t irhal_cuda_dispatch(irhal_cuda_context_t* context,
                                        const irhal_command_t* command,
                                        const irhal_binding_table_t* table) {
  const irhal_cuda_kernel_t* kernel = irhal_cuda_executable_kernel(
      command->dispatch.executable, command->dispatch.export_ordinal);
  if (!kernel) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch executable was not created by a CUDA "
                           "device");
  }
  if (command->dispatch.indirect || command->dispatch.flags) {
    return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                           "indirect and custom-argument dispatches are not "
                           "supported by CUDA executables (spec 8.4)");
  }
  uint32_t binding_count = command->dispatch.binding_count;
  uint32_t constant_count = command->dispatch.constant_count;
  uint64_t slots[IRHAL_MAX_DISPATCH_BINDINGS + IRHAL_CUDA_MAX_CONSTANTS];
  void* params[IRHAL_MAX_DISPATCH_BINDINGS + IRHAL_CUDA_MAX_CONSTANTS];
  if (binding_count > IRHAL_MAX_DISPATCH_BINDINGS ||
      constant_count > IRHAL_CUDA_MAX_CONSTANTS) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "dispatch with %" PRIu32 " bindings and %" PRIu32
                           " constants exceeds the CUDA limits",
                           binding_count, constant_count);
  }
  for (uint32_t i = 0; i < binding_count; ++i) {
    irhal_resolved_ref_t binding;
    IRT_RETURN_IF_ERROR_CTX(
        irhal_command_buffer_resolve(&command->dispatch.bindings[i], table,
                                     &binding),
        "resolving dispatch binding %" PRIu32, i);
    CUdeviceptr address = 0;
    if (binding.buffer) {
      IRT_RETURN_IF_ERROR_CTX(
          irhal_cuda_buffer_address(binding.buffer, binding.offset,
                                    binding.length, &address, NULL),
          "dispatch binding %" PRIu32, i);
    }
    slots[i] = address;
    params[i] = &slots[i];
  }
  for (uint32_t k = 0; k < constant_count; ++k) {
    slots[binding_count + k] = command->dispatch.constants[k];
    params[binding_count + k] = &slots[binding_count + k];
  }
  const uint32_t* grid = command->dispatch.workgroup_count;
  if (!grid[0] || !grid[1] || !grid[2]) return IRT_OK;  // an empty grid
  return IRHAL_CUDA_CALL(
      context->cu, cuLaunchKernel,
      (kernel->function, grid[0], grid[1], grid[2], kernel->block_dims[0],
       kernel->block_dims[1], kernel->block_dims[2], kernel->shared_memory_size,
       context->stream, params, NULL));
}

// irhal_command_fn_t: issues one recorded command with |table| resolved.
static irt_status_t irhal_cuda_issue_command(
    void* user_data, const irhal_command_t* command,
    const irhal_binding_table_t* table) {
  irhal_cuda_context_t* context = user_data;
  irhal_resolved_ref_t target, source;
  switch (command->kind) {
    case IRHAL_COMMAND_BARRIER:
      // One in-order stream: everything before finishes first.
      return IRT_OK;
    case IRHAL_COMMAND_FILL:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(
          &command->fill.target, table, "fill target", &target));
      return irhal_cuda_fill(context, target.buffer, target.offset,
                             target.length, command->fill.pattern,
                             command->fill.pattern_length);
    case IRHAL_COMMAND_UPDATE:
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(
          &command->update.target, table, "update target", &target));
      return irhal_cuda_update(context, command->update.data, target.buffer,
                               target.offset, target.length);
    case IRHAL_COMMAND_COPY: {
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(
          &command->copy.source, table, "copy source", &source));
      IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve_buffer(
          &command->copy.target, table, "copy target", &target));
      irhal_device_size_t length = 0;
      IRT_RETURN_IF_ERROR(
          irhal_command_copy_length(command, &source, &target, &length));
      return irhal_cuda_copy(context, source.buffer, source.offset,
                             target.buffer, target.offset, length);
    }
    case IRHAL_COMMAND_DISPATCH:
      return irhal_cuda_dispatch(context, command, table);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown command kind %d",
                         (int)command->kind);
}

// A file transfer the device runs itself (see irhal_cuda_device_reads_files):
// one DMA copy for a memory file whose bytes are pinned, cuFile for an fd
// file.
static irt_status_t irhal_cuda_issue_file_transfer(irhal_cuda_device_t* device,
                                                   irhal_queue_op_t* op) {
  irhal_cuda_context_t* context = device->context;
  uint8_t* host = irhal_file_host_data(op->transfer.file);
  if (!host) return irhal_cuda_file_transfer(device->file_driver, context, op);
  irhal_device_size_t length = op->transfer.length;
  if (length == 0) return IRT_OK;
  CUdeviceptr buffer = 0;
  IRT_RETURN_IF_ERROR(irhal_cuda_buffer_address(
      op->transfer.buffer, op->transfer.buffer_offset, length, &buffer, NULL));
  CUdeviceptr file = (CUdeviceptr)(uintptr_t)(host + op->transfer.file_offset);
  bool read = op->kind == IRHAL_QUEUE_OP_READ;
  return IRHAL_CUDA_CALL(context->cu, cuMemcpyAsync,
                         (read ? buffer : file, read ? file : buffer,
                          (size_t)length, context->stream));
}

// Queues the op's work on the stream (READ/WRITE reach here only for the
// files irhal_cuda_device_reads_files takes: the HAL stages the others).
static irt_status_t irhal_cuda_issue_op(irhal_cuda_device_t* device,
                                        irhal_queue_op_t* op) {
  irhal_cuda_context_t* context = device->context;
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return IRT_OK;
    case IRHAL_QUEUE_OP_FILL:
      return irhal_cuda_fill(context, op->fill.target, op->fill.offset,
                             op->fill.length, op->fill.pattern,
                             op->fill.pattern_length);
    case IRHAL_QUEUE_OP_UPDATE:
      return irhal_cuda_update(context, op->update.data, op->update.target,
                               op->update.offset, op->update.length);
    case IRHAL_QUEUE_OP_COPY:
      return irhal_cuda_copy(context, op->copy.source, op->copy.source_offset,
                             op->copy.target, op->copy.target_offset,
                             op->copy.length);
    case IRHAL_QUEUE_OP_READ:
    case IRHAL_QUEUE_OP_WRITE:
      return irhal_cuda_issue_file_transfer(device, op);
    case IRHAL_QUEUE_OP_EXECUTE:
      return irhal_command_buffer_replay(op->execute.command_buffer,
                                         &op->execute.binding_table,
                                         irhal_cuda_issue_command, context);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown queue operation %d",
                         (int)op->kind);
}

//===----------------------------------------------------------------------===//
// Submission and completion
//===----------------------------------------------------------------------===//

static void irhal_cuda_device_op_done(irhal_cuda_device_t* device) {
  pthread_mutex_lock(&device->mutex);
  if (--device->pending_count == 0) pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
}

// Completes the op with |status| and frees the submission. Our own state is
// gone before the fence is signalled, so a woken host sees none of it.
static void irhal_cuda_submission_finish(irhal_cuda_submission_t* submission,
                                         irt_status_t status) {
  irhal_cuda_device_t* device = submission->device;
  irhal_queue_op_t* op = submission->op;
  irt_allocator_free(device->base.host_allocator, submission);
  irhal_queue_op_complete(op, status);
  irhal_cuda_device_op_done(device);
}

// Issues the op and records its event; both go to the completion thread even
// when issuing failed part way, so the op's buffers outlive whatever was
// queued before the failure.
static void irhal_cuda_submission_issue(irhal_cuda_submission_t* submission) {
  irhal_cuda_device_t* device = submission->device;
  irhal_cuda_context_t* context = device->context;
  const irhal_cuda_symbols_t* cu = context->cu;
  pthread_mutex_lock(&device->issue_mutex);
  irt_status_t status = irhal_cuda_context_bind(context);
  if (!status) status = irhal_cuda_issue_op(device, submission->op);
  submission->status = status;
  // Not blocking-sync: while work is outstanding the completion thread
  // waits the context's way (spinning while the machine has idle cores), so
  // a finished copy is noticed in microseconds, not a scheduler tick; the
  // staging ring's readers wait on exactly that. With nothing outstanding
  // it sleeps on a condition variable.
  irt_status_t event_status = IRHAL_CUDA_CALL(
      cu, cuEventCreate, (&submission->event, CU_EVENT_DISABLE_TIMING));
  if (!event_status) {
    event_status = IRHAL_CUDA_CALL(cu, cuEventRecord,
                                   (submission->event, context->stream));
  }
  if (event_status) {
    // Without an event, waiting for the whole stream is the fallback.
    if (submission->event) cu->cuEventDestroy(submission->event);
    submission->event = NULL;
    cu->cuStreamSynchronize(context->stream);
    if (!submission->status)
      submission->status = event_status;
    else
      irt_status_free(event_status);
  }
  pthread_mutex_lock(&device->mutex);
  if (device->tail) {
    device->tail->next = submission;
  } else {
    device->head = submission;
  }
  device->tail = submission;
  pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
  pthread_mutex_unlock(&device->issue_mutex);
}

static irt_status_t irhal_cuda_wait_failed(irt_status_t status) {
  return irt_status_annotate(status,
                             "waiting for the operation's wait fence; the "
                             "operation did not run");
}

// Fence callback: runs on whichever thread reached or failed the fence.
static void irhal_cuda_submission_ready(void* user_data, irt_status_t status) {
  irhal_cuda_submission_t* submission = user_data;
  if (status) {
    irhal_cuda_submission_finish(submission, irhal_cuda_wait_failed(status));
    return;
  }
  irhal_cuda_submission_issue(submission);
}

// Completes submissions in stream order as their events fire.
static void* irhal_cuda_completion_main(void* arg) {
  irhal_cuda_device_t* device = arg;
  const irhal_cuda_symbols_t* cu = device->context->cu;
  irt_status_free(irhal_cuda_context_bind(device->context));
  for (;;) {
    pthread_mutex_lock(&device->mutex);
    while (!device->head && !device->stopping) {
      pthread_cond_wait(&device->cond, &device->mutex);
    }
    irhal_cuda_submission_t* submission = device->head;
    if (!submission) {
      pthread_mutex_unlock(&device->mutex);
      return NULL;  // stopping with nothing left
    }
    device->head = submission->next;
    if (!device->head) device->tail = NULL;
    pthread_mutex_unlock(&device->mutex);
    irt_status_t status = submission->status;
    if (submission->event) {
      irt_status_t event_status =
          IRHAL_CUDA_CALL(cu, cuEventSynchronize, (submission->event));
      cu->cuEventDestroy(submission->event);
      if (!status)
        status = event_status;
      else
        irt_status_free(event_status);
    }
    irhal_cuda_submission_finish(submission, status);
  }
}

static irt_status_t irhal_cuda_queue_submit(irhal_device_t* base,
                                            irhal_queue_op_t* op) {
  irhal_cuda_device_t* device = irhal_cuda_device_cast(base);
  irhal_cuda_submission_t* submission = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(base->host_allocator, sizeof(*submission),
                           (void**)&submission),
      "allocating a queue operation record");
  submission->device = device;
  submission->op = op;
  pthread_mutex_lock(&device->mutex);
  ++device->pending_count;
  pthread_mutex_unlock(&device->mutex);
  irt_status_t status = irhal_fence_notify(
      op->wait_fence, irhal_cuda_submission_ready, submission);
  if (status) {
    // Not registered: the callback never runs and the caller keeps |op|.
    irt_allocator_free(base->host_allocator, submission);
    irhal_cuda_device_op_done(device);
  }
  return status;
}

//===----------------------------------------------------------------------===//
// Device
//===----------------------------------------------------------------------===//

static void irhal_cuda_device_destroy(irhal_device_t* base) {
  irhal_cuda_device_t* device = irhal_cuda_device_cast(base);
  pthread_mutex_lock(&device->mutex);
  while (device->pending_count) {
    pthread_cond_wait(&device->cond, &device->mutex);
  }
  device->stopping = true;
  pthread_cond_broadcast(&device->cond);
  pthread_mutex_unlock(&device->mutex);
  pthread_join(device->completion_thread, NULL);
  irhal_cuda_file_driver_release(device->file_driver);
  irhal_cuda_context_release(device->context);
  pthread_cond_destroy(&device->cond);
  pthread_mutex_destroy(&device->mutex);
  pthread_mutex_destroy(&device->issue_mutex);
  irt_allocator_free(base->host_allocator, device);
}

static irt_status_t irhal_cuda_device_query_i64(irhal_device_t* base,
                                                irt_string_view_t category,
                                                irt_string_view_t key,
                                                int64_t* out_value) {
  if (irt_string_view_equal_cstring(category, "hal.device") &&
      irt_string_view_equal_cstring(key, "concurrency")) {
    *out_value = 1;  // one queue (stream)
    return IRT_OK;
  }
  return irt_make_status(
      IRT_STATUS_NOT_FOUND, "device '%.*s' does not answer %.*s :: %.*s",
      IRT_SV_ARG(base->id), IRT_SV_ARG(category), IRT_SV_ARG(key));
}

static bool irhal_cuda_device_supports_format(irhal_device_t* base,
                                              irt_string_view_t format) {
  (void)base;
  return irhal_cuda_executable_format_supported(format);
}

static irt_status_t irhal_cuda_device_allocate_buffer(
    irhal_device_t* base, uint32_t memory_type, uint32_t usage,
    irhal_device_size_t size, irhal_buffer_t** out_buffer) {
  return irhal_cuda_buffer_allocate(irhal_cuda_device_cast(base)->context,
                                    memory_type, usage, size, out_buffer);
}

static irt_status_t irhal_cuda_device_import_host_buffer(
    irhal_device_t* base, void* data, irhal_device_size_t length,
    uint32_t memory_type, uint32_t usage, uint32_t access,
    irhal_release_callback_t release, irhal_buffer_t** out_buffer) {
  (void)memory_type;
  return irhal_cuda_buffer_import(irhal_cuda_device_cast(base)->context, data,
                                  length, usage, access, release, out_buffer);
}

// The PTX is JIT-compiled into the context, so |data| is not aliased.
static irt_status_t irhal_cuda_device_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  (void)data_owner;
  (void)constants;
  (void)constant_count;  // not used by CUDA executables (spec 8.3 step 5)
  *out_executable = NULL;
  if (!irhal_cuda_executable_format_supported(format)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "device '%.*s' cannot load executable format "
                           "'%.*s' (it loads cuda-nvptx-fb)",
                           IRT_SV_ARG(base->id), IRT_SV_ARG(format));
  }
  return irhal_cuda_executable_create(irhal_cuda_device_cast(base)->context,
                                      data, size, out_executable);
}

static irt_status_t irhal_cuda_device_register_host_memory(irhal_device_t* base,
                                                           void* data,
                                                           size_t length) {
  irhal_cuda_context_t* context = irhal_cuda_device_cast(base)->context;
  IRT_RETURN_IF_ERROR(irhal_cuda_context_bind(context));
  // Portable: every context of the process may use it; device-mapped: it
  // can be a dispatch binding in place. Read-only mappings (archives, write-
  // sealed regions) can only be pinned read-only.
  unsigned int flags =
      CU_MEMHOSTREGISTER_PORTABLE | CU_MEMHOSTREGISTER_DEVICEMAP;
  if (context->cu->cuMemHostRegister(data, length, flags) == CUDA_SUCCESS) {
    return IRT_OK;
  }
  return IRHAL_CUDA_CALL(context->cu, cuMemHostRegister,
                         (data, length, flags | CU_MEMHOSTREGISTER_READ_ONLY));
}

static void irhal_cuda_device_unregister_host_memory(irhal_device_t* base,
                                                     void* data) {
  irhal_cuda_context_t* context = irhal_cuda_device_cast(base)->context;
  irt_status_free(irhal_cuda_context_bind(context));
  context->cu->cuMemHostUnregister(data);
}

// Memory files pinned for the driver (an archive mapping registered with
// irhal_device_register_host_memory) need no staging: the copy engine reads
// them in place. Fd files go through cuFile when it is present.
static bool irhal_cuda_device_reads_files(irhal_device_t* base,
                                          const irhal_file_t* file) {
  irhal_cuda_device_t* device = irhal_cuda_device_cast(base);
  const void* host = irhal_file_host_data(file);
  if (!host) return irhal_cuda_file_driver_accepts(device->file_driver, file);
  CUdeviceptr address = 0;
  irt_status_t status = irhal_cuda_context_bind(device->context);
  if (status) {
    irt_status_free(status);
    return false;
  }
  return irhal_cuda_host_range_address(device->context, host,
                                       irhal_file_length(file), &address);
}

static const irhal_device_vtable_t irhal_cuda_device_vtable = {
    .destroy = irhal_cuda_device_destroy,
    .query_i64 = irhal_cuda_device_query_i64,
    .supports_format = irhal_cuda_device_supports_format,
    .allocate_buffer = irhal_cuda_device_allocate_buffer,
    .import_host_buffer = irhal_cuda_device_import_host_buffer,
    .create_executable = irhal_cuda_device_create_executable,
    .queue_submit = irhal_cuda_queue_submit,
    .register_host_memory = irhal_cuda_device_register_host_memory,
    .unregister_host_memory = irhal_cuda_device_unregister_host_memory,
    .stage_file_transfers = true,
    .transfers_file_directly = irhal_cuda_device_reads_files,
};

irt_status_t irhal_cuda_device_create(int ordinal,
                                      irt_allocator_t host_allocator,
                                      irhal_device_t** out_device) {
  *out_device = NULL;
  const irhal_cuda_symbols_t* cu = NULL;
  IRT_RETURN_IF_ERROR(irhal_cuda_symbols_get(&cu));
  irhal_cuda_device_t* device = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*device), (void**)&device),
      "allocating a CUDA device");
  irt_status_t status =
      irhal_cuda_context_create(cu, ordinal, host_allocator, &device->context);
  if (status) {
    irt_allocator_free(host_allocator, device);
    return status;
  }
  irhal_device_initialize(&device->base, &irhal_cuda_device_vtable,
                          irt_make_cstring_view("cuda"), host_allocator);
  pthread_mutex_init(&device->issue_mutex, NULL);
  pthread_mutex_init(&device->mutex, NULL);
  pthread_cond_init(&device->cond, NULL);
  // Optional: without libcufile every file transfer is staged.
  device->file_driver = irhal_cuda_file_driver_open(host_allocator);
  if (pthread_create(&device->completion_thread, NULL,
                     irhal_cuda_completion_main, device) != 0) {
    irhal_cuda_file_driver_release(device->file_driver);
    irhal_cuda_context_release(device->context);
    pthread_cond_destroy(&device->cond);
    pthread_mutex_destroy(&device->mutex);
    pthread_mutex_destroy(&device->issue_mutex);
    irt_allocator_free(host_allocator, device);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "cannot start the CUDA completion thread");
  }
  *out_device = &device->base;
  return IRT_OK;
}

bool irhal_cuda_device_parse_name(irt_string_view_t name, int* out_ordinal) {
  *out_ordinal = 0;
  if (irt_string_view_equal_cstring(name, "cuda")) return true;
  static const char kPrefix[] = "cuda://";
  size_t prefix = sizeof(kPrefix) - 1;
  if (name.size <= prefix || name.size > prefix + 4 ||
      memcmp(name.data, kPrefix, prefix) != 0) {
    return false;
  }
  int ordinal = 0;
  for (size_t i = prefix; i < name.size; ++i) {
    if (name.data[i] < '0' || name.data[i] > '9') return false;
    ordinal = ordinal * 10 + (name.data[i] - '0');
  }
  *out_ordinal = ordinal;
  return true;
}
