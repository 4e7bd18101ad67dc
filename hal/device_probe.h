// Discovery of the devices each built-in driver can reach on this machine,
// without creating them. Used by `ireectl devices` and the daemon's start-up
// log.
#ifndef IRHAL_DEVICE_PROBE_H
#define IRHAL_DEVICE_PROBE_H

#include <stdbool.h>

#include "runtime/base/status.h"

typedef struct irhal_device_info_s {
  const char* driver;  // "local-sync", "local-task", "vulkan", "cuda"
  char uri[64];        // what --device= takes, e.g. "vulkan://0"
  char name[256];      // human-readable device name
  char detail[256];    // memory size, driver version, worker count...
} irhal_device_info_t;

// Called once per device found; |available| false means the driver is built
// in but found nothing (|info->detail| says why: "no CUDA driver: ...").
typedef void (*irhal_probe_fn_t)(void* user_data, bool available,
                                 const irhal_device_info_t* info);

// Probes every driver compiled into this build, in a fixed order.
void irhal_probe_devices(irhal_probe_fn_t callback, void* user_data);

// The per-driver probes (each reports through |callback|).
void irhal_cpu_probe(irhal_probe_fn_t callback, void* user_data);
void irhal_vulkan_probe(irhal_probe_fn_t callback, void* user_data);
void irhal_cuda_probe(irhal_probe_fn_t callback, void* user_data);

#endif  // IRHAL_DEVICE_PROBE_H
