// Executing one dispatch of a loaded CPU executable (hal-abi.md 5.7, 5.8).
//
// A dispatch is prepared once (arguments checked against the export, the
// shared dispatch state filled) and then its workgroups are run in ranges of
// the linearised grid, index = x + count_x * (y + count_y * z). A
// single-threaded device runs the whole range on the calling thread
// (irhal_cpu_dispatch_run); a worker pool splits [0, workgroup_total) among
// its workers, each calling irhal_cpu_dispatch_run_range with its own local
// memory block. Workgroups are independent, so any split and order is valid.
#ifndef IRHAL_CPU_DISPATCH_H
#define IRHAL_CPU_DISPATCH_H

#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/cpu/executable_library.h"
#include "hal/cpu/executable_library_loader.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

typedef struct irhal_cpu_dispatch_params_s {
  const irhal_cpu_library_t* library;
  uint32_t export_ordinal;
  // Grid size; any zero dimension means nothing runs. z is limited to 65535
  // by the ABI.
  uint32_t workgroup_count[3];
  // Dispatch constants in VM order; must be exactly the export's
  // constant_count words. (Callers holding a byte count reject one that is
  // not a multiple of 4 with FAILED_PRECONDITION first, hal-abi.md 5.8.)
  const uint32_t* constants;
  size_t constant_count;
  // Host address and byte length of each binding's range (buffer base +
  // buffer offset + binding offset); exactly the export's binding_count.
  void* const* binding_ptrs;
  const size_t* binding_lengths;
  size_t binding_count;
  // Threads that may run workgroups of this dispatch at once; 0 means 1.
  uint32_t max_concurrency;
} irhal_cpu_dispatch_params_t;

// A prepared dispatch. It references (does not copy) the library and the
// params' constant and binding arrays, which must outlive it. Read-only
// while workgroups run, so workers may share it.
typedef struct irhal_cpu_dispatch_s {
  alignas(IRHAL_EXECUTABLE_ABI_ALIGNMENT)
      irhal_executable_dispatch_state_v0_t state;
  const irhal_cpu_library_t* library;
  uint32_t export_ordinal;
  uint64_t workgroup_total;  // product of the grid dimensions
  // Scratch bytes each concurrently running workgroup needs (the export's
  // local_memory_pages x 4096).
  size_t local_memory_size;
} irhal_cpu_dispatch_t;

// Checks |params| against the export (INVALID_ARGUMENT for constant or
// binding count mismatches, FAILED_PRECONDITION for a NULL binding,
// OUT_OF_RANGE for an unrepresentable grid) and fills |out_dispatch|.
irt_status_t irhal_cpu_dispatch_prepare(
    const irhal_cpu_dispatch_params_t* params,
    irhal_cpu_dispatch_t* out_dispatch) IRT_MUST_USE;

// Runs workgroups [first_workgroup, first_workgroup + workgroup_count) of the
// linearised grid on the calling thread, x fastest, with denormals flushed to
// zero for the duration. |local_memory| is scratch exclusive to the caller of
// at least dispatch->local_memory_size bytes (may be NULL when that is 0);
// it is reused by each workgroup in turn. Stops at the first workgroup whose
// entry point fails (INTERNAL).
irt_status_t irhal_cpu_dispatch_run_range(
    const irhal_cpu_dispatch_t* dispatch, uint64_t first_workgroup,
    uint64_t workgroup_count, void* local_memory,
    size_t local_memory_size) IRT_MUST_USE;

// Prepares the dispatch, allocates its local memory from |allocator| and runs
// every workgroup on the calling thread.
irt_status_t irhal_cpu_dispatch_run(irt_allocator_t allocator,
                                    const irhal_cpu_dispatch_params_t* params)
    IRT_MUST_USE;

#endif  // IRHAL_CPU_DISPATCH_H
