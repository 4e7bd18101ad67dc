// ireed: the model-serving daemon.
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "hal/device_probe.h"
#include "ireed.pb-c.h"
#include "runtime/base/log.h"
#include "runtime/base/version.h"

static void ireed_print_usage(FILE* out) {
  fprintf(out,
          "usage: ireed [--version] [--list-devices] [--log-level=LEVEL]\n");
}

static void ireed_log_device(void* user_data, bool available,
                             const irhal_device_info_t* info) {
  (void)user_data;
  printf("device %-12s %s%s%s\n", info->uri, available ? info->name : "",
         available ? ": " : "", info->detail);
}

int main(int argc, char** argv) {
  static const struct option options[] = {
      {"version", no_argument, NULL, 'V'},
      {"list-devices", no_argument, NULL, 'D'},
      {"log-level", required_argument, NULL, 'l'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  irt_log_config_t log_config = {.level = IRT_LOG_INFO};
  int opt;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
      case 'V':
        printf("ireed %s (protocol %d, vm bytecode %d.%d, hal module %d)\n",
               irt_version_string(), IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR,
               IRT_VM_BYTECODE_VERSION_MAJOR, IRT_VM_BYTECODE_VERSION_MINOR,
               IRT_HAL_MODULE_VERSION);
        return 0;
      case 'D':
        irhal_probe_devices(ireed_log_device, NULL);
        return 0;
      case 'l':
        if (!irt_log_level_parse(optarg, &log_config.level)) {
          fprintf(stderr, "ireed: --log-level: unknown level '%s'\n", optarg);
          return 2;
        }
        break;
      case 'h':
        ireed_print_usage(stdout);
        return 0;
      default:
        ireed_print_usage(stderr);
        return 2;
    }
  }
  irt_log_configure(&log_config);
  fprintf(stderr, "ireed: serving is not implemented yet\n");
  return 1;
}
