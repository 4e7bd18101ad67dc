// The one code path behind io_parameters.load, gather and scatter (HAL spec
// 2.2-2.4): a batch of N (key, span) entries resolved against the parameter
// index and turned into queue operations on the caller's device, ordered
// after the caller's wait fence and joined into its signal fence.
//
// Scheduling: each entry goes to one of up to IRMOD_PARAMS_MAX_TIMELINES
// private timelines (a semaphore each), the least loaded in bytes; the first
// step of a timeline waits on the batch's wait fence, later steps on the
// previous step, so one entry's steps (alloca + read, or a splat written in
// several copies) stay ordered while entries run concurrently on devices
// that execute queue operations in parallel. A final barrier waits on every
// timeline and signals the batch's signal fence.
#ifndef IRMOD_IO_PARAMETERS_BATCH_H
#define IRMOD_IO_PARAMETERS_BATCH_H

#include "hal/api.h"
#include "runtime/io/parameter_index.h"
#include "runtime/vm/buffer.h"

#define IRMOD_PARAMS_MAX_TIMELINES 8

// The module's |self|: immutable after creation, shared by every context.
typedef struct irmod_params_module_s {
  irt_allocator_t host_allocator;
  irio_parameter_index_t* index;  // retained
  // One read-only (or read-write) memory file per archive of the index,
  // aliasing its mapping: what queue reads and writes transfer through.
  size_t file_count;
  irhal_file_t** files;
} irmod_params_module_t;

typedef enum irmod_params_op_e {
  IRMOD_PARAMS_LOAD = 0,     // parameter -> new buffer per entry
  IRMOD_PARAMS_GATHER = 1,   // parameter -> |buffer|
  IRMOD_PARAMS_SCATTER = 2,  // |buffer| -> parameter
} irmod_params_op_t;

typedef struct irmod_params_request_s {
  irmod_params_op_t op;
  const char* name;  // "io_parameters.load", for messages
  irhal_device_t* device;
  uint64_t queue_affinity;
  irhal_fence_t* wait_fence;    // may be NULL
  irhal_fence_t* signal_fence;  // may be NULL
  irt_string_view_t scope;
  irvm_const_byte_span_t key_table;  // N x {u32 offset, u32 length}
  irvm_const_byte_span_t key_data;
  irvm_const_byte_span_t spans;  // N x {u64 parameter, u64 buffer, u64 length}
  // LOAD: the parameters of the buffers made.
  uint64_t target_queue_affinity;
  uint32_t target_memory_type;
  uint32_t target_buffer_usage;
  // GATHER: the target; SCATTER: the source.
  irhal_buffer_t* buffer;
} irmod_params_request_t;

// N, after checking the spans and key table sizes (INVALID_ARGUMENT).
irt_status_t irmod_params_batch_count(const irmod_params_request_t* request,
                                      uint32_t* out_count) IRT_MUST_USE;

// Issues the batch. LOAD stores entry i's buffer (owned) in out_buffers[i]
// (|out_buffers| has N NULL slots; on failure they are released and NULL
// again). Any failure also fails the signal fence with the same status.
irt_status_t irmod_params_batch_run(const irmod_params_module_t* module,
                                    const irmod_params_request_t* request,
                                    irhal_buffer_t** out_buffers) IRT_MUST_USE;

// Fails |signal_fence| (if any) with a copy of a non-OK |status|, which is
// returned: for errors found before a batch runs.
irt_status_t irmod_params_fail_signal(irhal_fence_t* signal_fence,
                                      irt_status_t status) IRT_MUST_USE;

#endif  // IRMOD_IO_PARAMETERS_BATCH_H
