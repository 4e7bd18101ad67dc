#include <stdio.h>

#include "hal/cuda/cuda_dynamic_symbols.h"
#include "hal/device_probe.h"

static void irhal_cuda_report_none(irhal_probe_fn_t callback, void* user_data,
                                   irt_status_t status) {
  irhal_device_info_t info = {.driver = "cuda"};
  snprintf(info.uri, sizeof(info.uri), "cuda");
  irt_status_format_brief(status, info.detail, sizeof(info.detail));
  irt_status_free(status);
  callback(user_data, false, &info);
}

void irhal_cuda_probe(irhal_probe_fn_t callback, void* user_data) {
  const irhal_cuda_symbols_t* cu = NULL;
  irt_status_t status = irhal_cuda_symbols_get(&cu);
  int count = 0;
  int driver_version = 0;
  if (irt_status_is_ok(status)) {
    status = IRHAL_CUDA_CALL(cu, cuDeviceGetCount, (&count));
  }
  if (!irt_status_is_ok(status)) {
    irhal_cuda_report_none(callback, user_data, status);
    return;
  }
  if (count == 0) {
    irhal_cuda_report_none(
        callback, user_data,
        irt_make_status(IRT_STATUS_UNAVAILABLE, "no CUDA devices"));
    return;
  }
  cu->cuDriverGetVersion(&driver_version);
  for (int i = 0; i < count; ++i) {
    CUdevice device = 0;
    size_t total_memory = 0;
    int major = 0, minor = 0;
    irhal_device_info_t info = {.driver = "cuda"};
    snprintf(info.uri, sizeof(info.uri), "cuda://%d", i);
    if (cu->cuDeviceGet(&device, i) != CUDA_SUCCESS) continue;
    cu->cuDeviceGetName(info.name, (int)sizeof(info.name), device);
    cu->cuDeviceTotalMem(&total_memory, device);
    cu->cuDeviceGetAttribute(
        &major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
    cu->cuDeviceGetAttribute(
        &minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
    snprintf(info.detail, sizeof(info.detail), "%zu MiB, sm_%d%d, driver %d.%d",
             total_memory >> 20, major, minor, driver_version / 1000,
             (driver_version % 1000) / 10);
    callback(user_data, true, &info);
  }
}
