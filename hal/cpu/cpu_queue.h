// The work of a CPU queue operation (HAL spec 1.8, 4.3, 5.8): transfers on
// host memory, file reads/writes and command buffer replay with the binding
// table resolved. Both CPU devices run ops through here; they differ only in
// where an op runs and in how a dispatch's workgroups are spread
// (|pool| NULL: all on the calling thread, in order).
#ifndef IRHAL_CPU_CPU_QUEUE_H
#define IRHAL_CPU_CPU_QUEUE_H

#include "hal/cpu/task_pool.h"
#include "hal/queue.h"

typedef struct irhal_cpu_executor_s {
  irt_allocator_t host_allocator;  // per-dispatch workgroup local memory
  irhal_cpu_task_pool_t* pool;     // NULL: run workgroups inline
} irhal_cpu_executor_t;

// Performs |op| (its wait fence already reached) and returns how it went.
// The caller completes the op with that status. Commands of an EXECUTE run
// in recorded order, each dispatch finishing all its workgroups before the
// next command starts, so recorded barriers hold trivially.
irt_status_t irhal_cpu_queue_run_op(const irhal_cpu_executor_t* executor,
                                    irhal_queue_op_t* op) IRT_MUST_USE;

#endif  // IRHAL_CPU_CPU_QUEUE_H
