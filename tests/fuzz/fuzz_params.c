// libFuzzer target for the parameter archive readers (runtime/io): the same
// bytes parsed as IRPA, GGUF and safetensors. Nothing may read out of
// bounds, leak or trip UBSan, and every accepted entry must lie within the
// input (FILE ranges, keys, metadata) with a valid splat pattern. Built with
// -Dfuzzing=true (clang); seed it with the archives of
// $IREED_SHARED_DIR/conformance/params and v3.11/*.irpa:
//   build-fuzz/tests/fuzz/fuzz_params -dict=tests/fuzz/params.dict CORPUS SEEDS
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime/io/archive.h"

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

typedef struct fuzz_bounds_s {
  const uint8_t* data;
  size_t size;
} fuzz_bounds_t;

static void fuzz_check_view(const fuzz_bounds_t* bounds,
                            irt_string_view_t view) {
  if (view.size == 0) return;
  const uint8_t* start = (const uint8_t*)view.data;
  if (start < bounds->data || view.size > bounds->size ||
      start - bounds->data > (ptrdiff_t)(bounds->size - view.size)) {
    __builtin_trap();
  }
}

static irt_status_t fuzz_check_entry(void* user_data,
                                     const irio_entry_t* entry) {
  const fuzz_bounds_t* bounds = user_data;
  fuzz_check_view(bounds, entry->key);
  fuzz_check_view(bounds, entry->metadata);
  if (entry->storage == IRIO_ENTRY_STORAGE_FILE) {
    if (entry->file_offset > bounds->size ||
        entry->length > bounds->size - entry->file_offset) {
      __builtin_trap();
    }
  } else {
    uint8_t n = entry->pattern_length;
    if (n == 0 || n > IRIO_SPLAT_PATTERN_CAPACITY || (n & (n - 1)) ||
        entry->length % n) {
      __builtin_trap();
    }
  }
  return IRT_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // An exact-size copy so ASan sees reads past the end.
  uint8_t* copy = malloc(size ? size : 1);
  if (!copy) return 0;
  for (size_t i = 0; i < size; ++i) copy[i] = data[i];
  fuzz_bounds_t bounds = {copy, size};
  static const irio_archive_format_t kFormats[] = {
      IRIO_ARCHIVE_FORMAT_IRPA, IRIO_ARCHIVE_FORMAT_GGUF,
      IRIO_ARCHIVE_FORMAT_SAFETENSORS};
  for (size_t i = 0; i < sizeof(kFormats) / sizeof(kFormats[0]); ++i) {
    irt_status_free(irio_archive_parse(kFormats[i], copy, size, "fuzz",
                                       fuzz_check_entry, &bounds));
  }
  free(copy);
  return 0;
}
