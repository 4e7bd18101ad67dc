// The local CPU devices (HAL spec 1.6-1.8, 5.8): `local-sync` runs each queue
// operation on the thread that submits it, after blocking on its wait fence;
// `local-task` schedules operations on a worker pool once their wait fence
// is reached (no thread waits for it) and spreads each dispatch's workgroups
// over all workers.
//
// Both allocate 64-byte aligned host memory (compiled dispatches use aligned
// vector loads on bindings), import host memory without copying and load
// executables through the CPU executable library loader.
#ifndef IRHAL_CPU_CPU_DEVICE_H
#define IRHAL_CPU_CPU_DEVICE_H

#include <stdint.h>

#include "hal/device.h"

typedef enum irhal_cpu_device_kind_e {
  IRHAL_CPU_DEVICE_LOCAL_SYNC = 0,  // identifier "local-sync"
  IRHAL_CPU_DEVICE_LOCAL_TASK = 1,  // identifier "local-task"
} irhal_cpu_device_kind_t;

typedef struct irhal_cpu_device_options_s {
  irhal_cpu_device_kind_t kind;
  // local-task workers: 0 = one per online CPU (at most
  // IRHAL_CPU_TASK_POOL_MAX_WORKERS). Ignored by local-sync.
  uint32_t worker_count;
} irhal_cpu_device_options_t;

// Memory type and usage of every buffer the CPU devices hand out: host
// memory is device-local, host-visible and coherent, and allows every use.
#define IRHAL_CPU_MEMORY_TYPE \
  (IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_LOCAL)
#define IRHAL_CPU_BUFFER_USAGE                                                \
  (IRHAL_BUFFER_USAGE_TRANSFER |                                              \
   IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS |                          \
   IRHAL_BUFFER_USAGE_DISPATCH_UNIFORM_READ |                                 \
   IRHAL_BUFFER_USAGE_DISPATCH_STORAGE | IRHAL_BUFFER_USAGE_DISPATCH_IMAGE |  \
   IRHAL_BUFFER_USAGE_SHARING_EXPORT | IRHAL_BUFFER_USAGE_SHARING_REPLICATE | \
   IRHAL_BUFFER_USAGE_SHARING_CONCURRENT |                                    \
   IRHAL_BUFFER_USAGE_SHARING_IMMUTABLE | IRHAL_BUFFER_USAGE_MAPPING_SCOPED | \
   IRHAL_BUFFER_USAGE_MAPPING_PERSISTENT |                                    \
   IRHAL_BUFFER_USAGE_MAPPING_OPTIONAL |                                      \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_RANDOM |                                 \
   IRHAL_BUFFER_USAGE_MAPPING_ACCESS_SEQUENTIAL_WRITE)

// Host memory imported without copying must be aligned like allocations;
// misaligned memory is refused with UNAVAILABLE (callers then copy it).
#define IRHAL_CPU_BUFFER_ALIGNMENT 64

// Creates a device with one reference. Releasing the last reference waits
// for every operation already submitted to complete, so it must not happen
// on a thread those operations wait for.
irt_status_t irhal_cpu_device_create(const irhal_cpu_device_options_t* options,
                                     irt_allocator_t host_allocator,
                                     irhal_device_t** out_device) IRT_MUST_USE;

// The same from a device identifier: "local-sync" or "local-task" (with
// |worker_count| as in the options); any other name is NOT_FOUND.
irt_status_t irhal_cpu_device_create_by_name(
    irt_string_view_t name, uint32_t worker_count,
    irt_allocator_t host_allocator, irhal_device_t** out_device) IRT_MUST_USE;

#endif  // IRHAL_CPU_CPU_DEVICE_H
