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
  irhal_cuda_symbols_t cu;
  irt_status_t status = irhal_cuda_symbols_load(&cu);
  if (!irt_status_is_ok(status)) {
    irhal_cuda_report_none(callback, user_data, status);
    return;
  }
  int count = 0;
  int driver_version = 0;
  status = irhal_cuda_result_to_status(&cu, cu.cuInit(0), "cuInit");
  if (irt_status_is_ok(status)) {
    status = irhal_cuda_result_to_status(&cu, cu.cuDeviceGetCount(&count),
                                         "cuDeviceGetCount");
  }
  if (irt_status_is_ok(status)) cu.cuDriverGetVersion(&driver_version);
  if (!irt_status_is_ok(status)) {
    irhal_cuda_report_none(callback, user_data, status);
  } else if (count == 0) {
    irhal_cuda_report_none(
        callback, user_data,
        irt_make_status(IRT_STATUS_UNAVAILABLE, "no CUDA devices"));
  }
  for (int i = 0; irt_status_is_ok(status) && i < count; ++i) {
    CUdevice device = 0;
    size_t total_memory = 0;
    irhal_device_info_t info = {.driver = "cuda"};
    snprintf(info.uri, sizeof(info.uri), "cuda://%d", i);
    if (cu.cuDeviceGet(&device, i) != CUDA_SUCCESS) continue;
    cu.cuDeviceGetName(info.name, (int)sizeof(info.name), device);
    cu.cuDeviceTotalMem(&total_memory, device);
    snprintf(info.detail, sizeof(info.detail), "%zu MiB, driver %d.%d",
             total_memory >> 20, driver_version / 1000,
             (driver_version % 1000) / 10);
    callback(user_data, true, &info);
  }
  irhal_cuda_symbols_unload(&cu);
}
