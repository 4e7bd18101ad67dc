// CPU executables as HAL objects: a loaded executable library
// (executable_library_loader.h) behind the irhal_executable_t interface, with
// the per-export constant and binding counts command buffer recording checks
// dispatches against.
#ifndef IRHAL_CPU_CPU_EXECUTABLE_H
#define IRHAL_CPU_CPU_EXECUTABLE_H

#include "hal/cpu/executable_library_loader.h"
#include "hal/executable.h"

// Loads |data| as |format| (see irhal_cpu_library_load; |data| is only read
// during the call) with the executable-level |constants|.
irt_status_t irhal_cpu_executable_create(
    irt_allocator_t host_allocator, irt_string_view_t format, const void* data,
    size_t size, const uint32_t* constants, uint32_t constant_count,
    irhal_executable_t** out_executable) IRT_MUST_USE;

// The library of a CPU executable, or NULL when |executable| was created by
// another kind of device.
const irhal_cpu_library_t* irhal_cpu_executable_library(
    const irhal_executable_t* executable);

#endif  // IRHAL_CPU_CPU_EXECUTABLE_H
