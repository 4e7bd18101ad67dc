// Loader for `system-elf-<arch>` executables (hal-abi.md 5.9.1): ordinary
// platform shared libraries loaded with the system dynamic loader.
//
// The bytes never touch the filesystem: they go into an anonymous memfd that
// is dlopen'ed through /proc/self/fd/N with RTLD_LOCAL, so libraries with the
// same symbol names stay separate. A trailing 48-byte `IREEDBG\0` footer
// (debug database attached by the compiler) is stripped first.
#ifndef IRHAL_CPU_SYSTEM_LIBRARY_LOADER_H
#define IRHAL_CPU_SYSTEM_LIBRARY_LOADER_H

#include <stddef.h>

#include "hal/cpu/image.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

typedef struct irhal_system_library_s irhal_system_library_t;

// Loads the shared library in |data| (read only during the call). Foreign or
// malformed images fail with FAILED_PRECONDITION naming the architecture, a
// bad debug footer with OUT_OF_RANGE and loader errors with UNAVAILABLE
// carrying dlerror()'s text.
irt_status_t irhal_system_library_load(
    irt_allocator_t allocator, const void* data, size_t size,
    irhal_system_library_t** out_library) IRT_MUST_USE;

// dlclose()s the library. NULL is a no-op.
void irhal_system_library_unload(irhal_system_library_t* library);

// dlsym() within the library; NOT_FOUND when absent.
irt_status_t irhal_system_library_lookup(const irhal_system_library_t* library,
                                         const char* name,
                                         void** out_address) IRT_MUST_USE;

// The library's PT_LOAD segments as mapped by the system loader.
irhal_cpu_image_t irhal_system_library_image(
    const irhal_system_library_t* library);

#endif  // IRHAL_CPU_SYSTEM_LIBRARY_LOADER_H
