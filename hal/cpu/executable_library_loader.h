// Loads a CPU executable of any supported format and verifies the library it
// exposes (hal-abi.md 5.1, 5.5, 5.6).
//
// One call takes the executable format string and bytes from
// `hal.executable.create`, picks the loader (`embedded-elf-*` -> our own ELF
// loader, `system-elf-*` -> the platform loader), prepares the environment
// (executable constants, processor features), calls the query function with
// ABI version 6, checks every table the library returned and resolves its
// imports. The result answers the questions a CPU device asks: how many
// exports, their names, attributes and entry points.
#ifndef IRHAL_CPU_EXECUTABLE_LIBRARY_LOADER_H
#define IRHAL_CPU_EXECUTABLE_LIBRARY_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/cpu/executable_library.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// True when this host can load |format| ("embedded-elf-x86_64" and
// "system-elf-x86_64" on x86_64 hosts); answers `hal.executable.format`.
bool irhal_cpu_executable_format_supported(irt_string_view_t format);

// Resolves library imports (executable plugins, host functions). |name| is
// the import name without the optional-import '?' prefix. Return NOT_FOUND
// for unknown names; for optional imports that leaves the slot NULL, for
// required ones it fails the load.
typedef struct irhal_cpu_import_provider_s {
  irt_status_t (*resolve)(void* user_data, const char* name,
                          irhal_executable_import_v0_t* out_function,
                          const void** out_context);
  void* user_data;
} irhal_cpu_import_provider_t;

typedef struct irhal_cpu_library_options_s {
  // Executable-level constants from hal.executable.create; their count must
  // equal the library's constants.count. Copied.
  const uint32_t* constants;
  size_t constant_count;
  // NULL: no provider, so any required import fails with UNAVAILABLE.
  const irhal_cpu_import_provider_t* import_provider;
} irhal_cpu_library_options_t;

typedef struct irhal_cpu_library_s irhal_cpu_library_t;

// Loads |data| as executable |format| and verifies its library. |data| is
// only read during the call. |options| may be NULL (no constants, no
// imports). Unknown formats fail with NOT_FOUND "no device can run executable
// format '...'"; loader and verification errors keep the spec's codes.
irt_status_t irhal_cpu_library_load(
    irt_allocator_t allocator, irt_string_view_t format, const void* data,
    size_t size, const irhal_cpu_library_options_t* options,
    irhal_cpu_library_t** out_library) IRT_MUST_USE;

// Unloads the image and frees the object. NULL is a no-op. No dispatch may
// be running.
void irhal_cpu_library_free(irhal_cpu_library_t* library);

// The header's library name.
const char* irhal_cpu_library_name(const irhal_cpu_library_t* library);

uint32_t irhal_cpu_library_export_count(const irhal_cpu_library_t* library);

// The export's name, or NULL when the library carries no name table.
// |ordinal| must be below the export count (as for all accessors below).
const char* irhal_cpu_library_export_name(const irhal_cpu_library_t* library,
                                          uint32_t ordinal);

// Finds an export by name; NOT_FOUND if absent (or the library has no names).
irt_status_t irhal_cpu_library_find_export(const irhal_cpu_library_t* library,
                                           const char* name,
                                           uint32_t* out_ordinal) IRT_MUST_USE;

const irhal_executable_dispatch_attrs_v0_t* irhal_cpu_library_export_attrs(
    const irhal_cpu_library_t* library, uint32_t ordinal);

irhal_executable_dispatch_v0_t irhal_cpu_library_export_function(
    const irhal_cpu_library_t* library, uint32_t ordinal);

// The environment given to the query function; every dispatch of this
// library receives this same object.
const irhal_executable_environment_v0_t* irhal_cpu_library_environment(
    const irhal_cpu_library_t* library);

// Runs one workgroup of export |ordinal|. The states must be 16-byte aligned
// (IRHAL_EXECUTABLE_ABI_ALIGNMENT) and filled per hal-abi.md 5.7; dispatch.h
// does that. A non-zero return from the entry point becomes INTERNAL naming
// the export and workgroup.
irt_status_t irhal_cpu_library_run_workgroup(
    const irhal_cpu_library_t* library, uint32_t ordinal,
    const irhal_executable_dispatch_state_v0_t* dispatch_state,
    const irhal_executable_workgroup_state_v0_t* workgroup_state) IRT_MUST_USE;

#endif  // IRHAL_CPU_EXECUTABLE_LIBRARY_LOADER_H
