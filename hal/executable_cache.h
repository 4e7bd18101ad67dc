// Executable caches (HAL spec 1.1, 1.5.9): the device-independent layer
// between `hal.executable.create` and a device's create_executable, so
// contexts that load the same executable bytes share one loaded executable
// instead of loading and relocating the same code again.
//
// Entries are keyed by (format, specialization constants, bytes): a 64-bit
// hash of all three picks the bucket and a full compare confirms a hit, so
// the same bytes at another address hit and a hash collision never does.
//
// The cache holds executables weakly: an entry lives exactly as long as its
// executable (destroying the executable removes its entry first, see
// irhal_executable_t.cache_entry), so the cache never keeps device code
// alive by itself. While an executable lives its entry keeps the key bytes
// (a reference on |data_owner| when one was given, else a copy) and a
// reference on the cache object.
//
// Thread-safe: any number of threads may prepare at once. Concurrent
// prepares of one key create the executable once; the others wait for it.
#ifndef IRHAL_EXECUTABLE_CACHE_H
#define IRHAL_EXECUTABLE_CACHE_H

#include <stdint.h>

#include "hal/device.h"
#include "hal/executable.h"

typedef struct irhal_executable_cache_s irhal_executable_cache_t;

typedef struct irhal_executable_cache_stats_s {
  uint64_t hits;     // prepares answered with a live executable
  uint64_t misses;   // prepares that called the device (failures included)
  uint64_t entries;  // executables in the cache now
} irhal_executable_cache_stats_t;

// A private cache for |device| with one user reference. The cache does not
// keep |device| alive: the caller must for as long as it prepares.
irt_status_t irhal_executable_cache_create(
    irhal_device_t* device, irt_allocator_t host_allocator,
    irhal_executable_cache_t** out_cache) IRT_MUST_USE;

// The process-wide shared cache of |device| (created on first use, from the
// device's host allocator) with a new user reference: every holder of the
// same device object gets the same cache, so separately created contexts
// (models) share executables. The cache retains |device| while it has users.
irt_status_t irhal_executable_cache_acquire_shared(
    irhal_device_t* device, irhal_executable_cache_t** out_cache) IRT_MUST_USE;

// Drops a user reference. Executables still alive keep the cache object
// (not the device) until they are destroyed; a shared cache without users is
// no longer handed out.
void irhal_executable_cache_release(irhal_executable_cache_t* cache);

// A retained executable for |data| in |format| with |constants|: the live
// one with the same key, or a new one from the device's create_executable
// (whose arguments these are; |data| stays valid while |data_owner| is
// retained, and the cache retains it too instead of copying |data|).
irt_status_t irhal_executable_cache_prepare(
    irhal_executable_cache_t* cache, irt_string_view_t format,
    const uint8_t* data, size_t size, const irvm_ref_t* data_owner,
    const uint32_t* constants, uint32_t constant_count,
    irhal_executable_t** out_executable) IRT_MUST_USE;

// Gives back index memory beyond what the live entries need (spec 1.1: the
// module trims caches on low memory). Executables are held weakly, so there
// is nothing else to drop.
void irhal_executable_cache_trim(irhal_executable_cache_t* cache);

irhal_executable_cache_stats_t irhal_executable_cache_stats(
    irhal_executable_cache_t* cache);

// Called by the executable's destroy, before the device frees it: removes
// its entry. Not for other callers.
void irhal_executable_cache_forget(irhal_executable_cache_entry_t* entry);

#endif  // IRHAL_EXECUTABLE_CACHE_H
