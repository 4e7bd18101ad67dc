// Queue operations (HAL spec 1.8.3): the unit of work a device queue
// executes after its wait fence is reached, signalling its signal fence when
// done (or failing it on error).
//
// The HAL builds ops from validated arguments (device.h) and hands them to
// the device, which owns them from then on and must finish each with
// irhal_queue_op_complete exactly once.
#ifndef IRHAL_QUEUE_H
#define IRHAL_QUEUE_H

#include "hal/command_buffer.h"
#include "hal/fence.h"
#include "hal/file.h"

typedef enum irhal_queue_op_kind_e {
  IRHAL_QUEUE_OP_BARRIER = 0,  // also alloca/dealloca ordering
  IRHAL_QUEUE_OP_FILL = 1,
  IRHAL_QUEUE_OP_UPDATE = 2,
  IRHAL_QUEUE_OP_COPY = 3,
  IRHAL_QUEUE_OP_READ = 4,   // file -> buffer
  IRHAL_QUEUE_OP_WRITE = 5,  // buffer -> file
  IRHAL_QUEUE_OP_EXECUTE = 6,
} irhal_queue_op_kind_t;

typedef struct irhal_queue_op_s {
  irhal_queue_op_kind_t kind;
  irt_allocator_t host_allocator;
  uint64_t queue_affinity;
  irhal_fence_t* wait_fence;    // retained; NULL = nothing to wait for
  irhal_fence_t* signal_fence;  // retained; NULL = nothing to signal
  union {
    struct {
      irhal_buffer_t* target;  // retained
      irhal_device_size_t offset, length;
      uint64_t pattern;
      uint32_t pattern_length;
    } fill;
    struct {
      uint8_t* data;  // owned copy of the host bytes
      irhal_buffer_t* target;
      irhal_device_size_t offset, length;
    } update;
    struct {
      irhal_buffer_t* source;
      irhal_device_size_t source_offset;
      irhal_buffer_t* target;
      irhal_device_size_t target_offset, length;
    } copy;
    struct {
      irhal_file_t* file;  // retained
      uint64_t file_offset;
      irhal_buffer_t* buffer;
      irhal_device_size_t buffer_offset, length;
    } transfer;  // READ and WRITE
    struct {
      irhal_command_buffer_t* command_buffer;  // retained
      irhal_binding_table_t binding_table;     // owned copy, buffers retained
    } execute;
  };
} irhal_queue_op_t;

// Allocates a zeroed op of |kind| retaining the fences.
irt_status_t irhal_queue_op_create(irhal_queue_op_kind_t kind,
                                   uint64_t queue_affinity,
                                   irhal_fence_t* wait_fence,
                                   irhal_fence_t* signal_fence,
                                   irt_allocator_t host_allocator,
                                   irhal_queue_op_t** out_op) IRT_MUST_USE;
// Releases everything the op holds and frees it.
void irhal_queue_op_destroy(irhal_queue_op_t* op);
// Signals the op's signal fence (status OK) or fails it with |status|
// (taken over), then destroys the op.
void irhal_queue_op_complete(irhal_queue_op_t* op, irt_status_t status);

#endif  // IRHAL_QUEUE_H
