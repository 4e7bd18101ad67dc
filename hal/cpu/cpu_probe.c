#include <stdio.h>
#include <unistd.h>

#include "hal/device_probe.h"

void irhal_cpu_probe(irhal_probe_fn_t callback, void* user_data) {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  irhal_device_info_t info = {.driver = "local-sync"};
  snprintf(info.uri, sizeof(info.uri), "local-sync");
  snprintf(info.name, sizeof(info.name), "CPU (inline, synchronous)");
  snprintf(info.detail, sizeof(info.detail), "1 thread");
  callback(user_data, true, &info);
  info.driver = "local-task";
  snprintf(info.uri, sizeof(info.uri), "local-task");
  snprintf(info.name, sizeof(info.name), "CPU (worker pool)");
  snprintf(info.detail, sizeof(info.detail), "%ld workers", cores);
  callback(user_data, true, &info);
}
