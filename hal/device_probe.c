#include "hal/device_probe.h"

#include "ireed_config.h"

void irhal_probe_devices(irhal_probe_fn_t callback, void* user_data) {
  irhal_cpu_probe(callback, user_data);
#if IREED_HAVE_VULKAN
  irhal_vulkan_probe(callback, user_data);
#endif
#if IREED_HAVE_CUDA
  irhal_cuda_probe(callback, user_data);
#endif
}
