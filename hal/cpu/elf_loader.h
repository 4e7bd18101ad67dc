// In-process loader for embedded ELF executables (hal-abi.md 5.3, 5.4).
//
// The compiler links CPU dispatch code into a self-contained ELF64 shared
// object (no libc, no undefined symbols, only RELATIVE relocations). This
// loader maps such an image from a byte range without touching the
// filesystem or the platform dynamic loader, treating every byte as
// untrusted: each header, table and relocation is bounds-checked before use.
// Memory is never writable and executable at once: segments are mapped
// read/write, filled and relocated, and only then switched to their final
// read-only or read/execute protection.
#ifndef IRHAL_CPU_ELF_LOADER_H
#define IRHAL_CPU_ELF_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "hal/cpu/image.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// The ELF e_machine of the host (EM_X86_64 / EM_AARCH64), 0 if the host can
// run no embedded ELF.
uint16_t irhal_elf_host_machine(void);

// "x86_64", "aarch64", "arm", ... or "unknown"; for messages.
const char* irhal_elf_machine_name(uint16_t machine);

// Checks the ELF header of |data| against |machine| (0 = the host): magic,
// 64-bit class, little-endian, version, machine, ET_DYN, header entry sizes
// and that the program/section header tables lie inside the data. Errors
// (FAILED_PRECONDITION) start with |kind| and name what the image is and
// what the host needs, e.g.
// "embedded ELF is for aarch64 (EM 183); this host runs x86_64".
irt_status_t irhal_elf_check_header(const void* data, size_t size,
                                    uint16_t machine,
                                    const char* kind) IRT_MUST_USE;

// If |data| is a FatELF bundle, selects the ELF built for |machine| (0 = the
// host) and returns its byte range; anything else passes through unchanged.
irt_status_t irhal_fatelf_select(const void* data, size_t size,
                                 uint16_t machine, const void** out_data,
                                 size_t* out_size) IRT_MUST_USE;

typedef struct irhal_elf_module_s irhal_elf_module_t;

typedef struct irhal_elf_load_options_s {
  // ELF machine to accept; 0 = the host. Loading another architecture's
  // image maps and relocates it for inspection only: its code cannot run
  // here and its initializers are skipped.
  uint16_t machine;
} irhal_elf_load_options_t;

// Maps the ELF in |data| (optionally a FatELF bundle) into fresh pages and
// runs its initializers. |data| is only read during the call. |options| may be
// NULL. Errors follow the spec: FAILED_PRECONDITION for malformed or foreign
// images, UNAVAILABLE for undefined symbols, UNIMPLEMENTED for unsupported
// relocation kinds, OUT_OF_RANGE for out-of-bounds references.
irt_status_t irhal_elf_module_load(
    irt_allocator_t allocator, const void* data, size_t size,
    const irhal_elf_load_options_t* options,
    irhal_elf_module_t** out_module) IRT_MUST_USE;

// Releases the mapping (finalizers are not run). NULL is a no-op.
void irhal_elf_module_unload(irhal_elf_module_t* module);

// Finds a GLOBAL or WEAK dynamic symbol by name and returns its loaded
// address; NOT_FOUND if absent.
irt_status_t irhal_elf_module_lookup(const irhal_elf_module_t* module,
                                     const char* name,
                                     void** out_address) IRT_MUST_USE;

// The loaded PT_LOAD segments with their final protections; valid until
// unload.
irhal_cpu_image_t irhal_elf_module_image(const irhal_elf_module_t* module);

#endif  // IRHAL_CPU_ELF_LOADER_H
