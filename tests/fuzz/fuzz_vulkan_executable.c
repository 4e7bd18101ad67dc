// libFuzzer target for the Vulkan executable format reader
// (hal/vulkan/vulkan_executable_def.h: the VKE1 container and the
// iree.hal.vulkan ExecutableDef). Nothing may read out of bounds, leak or
// trip UBSan, and everything an accepted executable references must lie
// within the input with in-range ordinals. Built with -Dfuzzing=true
// (clang); seed it with the executables of the Vulkan fixtures, e.g. the
// `fixture_dispatch.fb` entry of build/tests/fixtures/ops_vulkan.vmfb
// (`unzip -p ops_vulkan.vmfb fixture_dispatch.fb > seeds/vke1`):
//   build-fuzz/tests/fuzz/fuzz_vulkan_executable CORPUS SEEDS
#include <stddef.h>
#include <stdint.h>

#include "hal/vulkan/vulkan_executable_def.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static void fuzz_check(bool condition) {
  if (!condition) __builtin_trap();
}

static bool fuzz_within(const uint8_t* data, size_t size, const void* p,
                        size_t length) {
  const uint8_t* start = p;
  return start >= data && length <= size &&
         (size_t)(start - data) <= size - length;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  irhal_vulkan_executable_def_t def;
  irt_status_t status =
      irhal_vulkan_executable_def_parse(data, size, irt_allocator_system(), &def);
  if (status) {
    irt_status_free(status);
    return 0;
  }
  for (uint32_t i = 0; i < def.shader_module_count; ++i) {
    const irhal_vulkan_shader_module_def_t* module = &def.shader_modules[i];
    fuzz_check(module->word_count > 0 &&
               fuzz_within(data, size, module->code,
                           (size_t)module->word_count * 4));
  }
  for (uint32_t i = 0; i < def.pipeline_count; ++i) {
    const irhal_vulkan_pipeline_def_t* pipeline = &def.pipelines[i];
    fuzz_check(pipeline->shader_module_ordinal < def.shader_module_count);
    fuzz_check(pipeline->pipeline_layout_ordinal < def.pipeline_layout_count);
    fuzz_check(fuzz_within(data, size, pipeline->entry_point.data,
                           pipeline->entry_point.size + 1) &&
               pipeline->entry_point.data[pipeline->entry_point.size] == 0);
  }
  for (uint32_t i = 0; i < def.pipeline_layout_count; ++i) {
    const irhal_vulkan_pipeline_layout_def_t* layout = &def.pipeline_layouts[i];
    fuzz_check(layout->set_count > 0);
    for (uint32_t s = 0; s < layout->set_count; ++s) {
      fuzz_check(layout->set_layout_ordinals[s] < def.set_layout_count);
    }
  }
  irhal_vulkan_executable_def_deinitialize(&def);
  return 0;
}
