// Writes the builder-made seed modules (tests/vm_format/seed_modules.h) into
// a directory: `fuzz_make_seeds DIR`. scripts/fuzz adds them to the
// conformance modules as the fuzzer's seed corpus.
#include <stdbool.h>
#include <stdio.h>

#include "tests/vm_format/seed_modules.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: fuzz_make_seeds DIR\n");
    return 2;
  }
  for (uint32_t i = 0; i < IRVM_SEED_MODULE_COUNT; ++i) {
    uint8_t* data = NULL;
    size_t size = 0;
    const char* name = NULL;
    irt_status_t status =
        irvm_seed_module_build(i, irt_allocator_system(), &data, &size, &name);
    if (status != IRT_OK) {
      char text[512];
      irt_status_format_brief(status, text, sizeof(text));
      irt_status_free(status);
      fprintf(stderr, "fuzz_make_seeds: seed %u: %s\n", i, text);
      return 1;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", argv[1], name);
    FILE* file = fopen(path, "wb");
    bool written = file && fwrite(data, 1, size, file) == size;
    if (file && fclose(file) != 0) written = false;
    irt_allocator_free(irt_allocator_system(), data);
    if (!written) {
      fprintf(stderr, "fuzz_make_seeds: cannot write %s\n", path);
      return 1;
    }
  }
  return 0;
}
