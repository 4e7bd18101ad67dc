#include "hal/queue.h"

#include "runtime/base/log.h"

irt_status_t irhal_queue_op_create(irhal_queue_op_kind_t kind,
                                   uint64_t queue_affinity,
                                   irhal_fence_t* wait_fence,
                                   irhal_fence_t* signal_fence,
                                   irt_allocator_t host_allocator,
                                   irhal_queue_op_t** out_op) {
  *out_op = NULL;
  irhal_queue_op_t* op = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(host_allocator, sizeof(*op), (void**)&op),
      "allocating a queue operation");
  op->kind = kind;
  op->host_allocator = host_allocator;
  op->queue_affinity = queue_affinity;
  irhal_fence_retain(wait_fence);
  op->wait_fence = wait_fence;
  irhal_fence_retain(signal_fence);
  op->signal_fence = signal_fence;
  *out_op = op;
  return IRT_OK;
}

// Releases what the op's payload references (all fields may be NULL).
static void irhal_queue_op_release_payload(irhal_queue_op_t* op) {
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      break;
    case IRHAL_QUEUE_OP_FILL:
      irhal_buffer_release(op->fill.target);
      break;
    case IRHAL_QUEUE_OP_UPDATE:
      irt_allocator_free(op->host_allocator, op->update.data);
      irhal_buffer_release(op->update.target);
      break;
    case IRHAL_QUEUE_OP_COPY:
      irhal_buffer_release(op->copy.source);
      irhal_buffer_release(op->copy.target);
      break;
    case IRHAL_QUEUE_OP_READ:
    case IRHAL_QUEUE_OP_WRITE:
      irhal_file_release(op->transfer.file);
      irhal_buffer_release(op->transfer.buffer);
      break;
    case IRHAL_QUEUE_OP_EXECUTE: {
      irhal_binding_table_t* table = &op->execute.binding_table;
      for (uint32_t i = 0; i < table->count; ++i) {
        irhal_buffer_release(table->entries[i].buffer);
      }
      irt_allocator_free(op->host_allocator, (void*)table->entries);
      irhal_command_buffer_release(op->execute.command_buffer);
      break;
    }
  }
}

void irhal_queue_op_destroy(irhal_queue_op_t* op) {
  if (!op) return;
  irhal_queue_op_release_payload(op);
  irhal_fence_release(op->wait_fence);
  irhal_fence_release(op->signal_fence);
  irt_allocator_free(op->host_allocator, op);
}

void irhal_queue_op_complete(irhal_queue_op_t* op, irt_status_t status) {
  // Everything but the signal fence is released first, so a host woken by
  // the signal observes the op's resources already dropped.
  irhal_fence_t* signal = op->signal_fence;
  op->signal_fence = NULL;
  irhal_queue_op_destroy(op);
  if (!status) status = irhal_fence_signal(signal);
  if (status) {
    if (signal) {
      irhal_fence_fail(signal, status);
    } else {
      // Nobody observes this op: the failure can only be logged.
      irt_log_status(IRT_LOG_WARNING, "hal",
                     "queue operation without a signal fence failed", status);
      irt_status_free(status);
    }
  }
  irhal_fence_release(signal);
}
