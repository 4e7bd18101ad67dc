// `ireectl version` and `ireectl devices`.
#include <stdio.h>

#include "client/ireectl/commands.h"
#include "hal/device_probe.h"
#include "runtime/base/version.h"

int ireectl_cmd_version(int argc, char** argv) {
  (void)argc;
  (void)argv;
  printf("ireectl %s\n", irt_version_string());
  printf("vm bytecode %d.%d, hal module %d\n", IRT_VM_BYTECODE_VERSION_MAJOR,
         IRT_VM_BYTECODE_VERSION_MINOR, IRT_HAL_MODULE_VERSION);
  return 0;
}

static void ireectl_print_device(void* user_data, bool available,
                                 const irhal_device_info_t* info) {
  (void)user_data;
  if (available) {
    printf("%-12s %-40s %s\n", info->uri, info->name, info->detail);
  } else {
    printf("%-12s %-40s %s\n", info->uri, "(none)", info->detail);
  }
}

int ireectl_cmd_devices(int argc, char** argv) {
  (void)argc;
  (void)argv;
  irhal_probe_devices(ireectl_print_device, NULL);
  return 0;
}
