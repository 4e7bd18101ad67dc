// libFuzzer target for the YAML config parser (daemon/config.c): any bytes
// either parse into a config or fail with a "test.yaml:LINE:COL: " message;
// nothing may read out of bounds, leak or trip UBSan. Built with
// -Dfuzzing=true (clang); seed it with the example config:
//   build-fuzz/tests/fuzz/fuzz_config -dict=tests/fuzz/config.dict \
//     -max_len=4096 CORPUS build-fuzz/config/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "daemon/config.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ireed_config_t config;
  irt_status_t status = ireed_config_parse(
      "test.yaml", "/etc/ireed", data, size, irt_allocator_system(), &config);
  if (irt_status_is_ok(status)) {
    // Every model and device the parser accepted is complete.
    for (size_t i = 0; i < config.model_count; ++i) {
      const ireed_model_config_t* model = &config.models[i];
      if (!model->name[0] || model->module_path[0] != '/') __builtin_trap();
      for (size_t j = 0; j < model->parameter_count; ++j) {
        if (!model->parameters[j].scope ||
            model->parameters[j].path[0] != '/') {
          __builtin_trap();
        }
      }
    }
    for (size_t i = 0; i < config.device_count; ++i) {
      if (!config.devices[i].uri[0]) __builtin_trap();
    }
    ireed_config_deinitialize(&config);
  } else {
    if (strncmp(irt_status_message(status), "test.yaml:", 10) != 0) {
      __builtin_trap();
    }
    irt_status_free(status);
  }
  return 0;
}
