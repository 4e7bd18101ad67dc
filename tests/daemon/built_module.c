#include "tests/daemon/built_module.h"

#include <stdbool.h>
#include <stdio.h>

irt_status_t built_module_write(const char* directory, const char* name,
                                irt_status_t (*define)(irvm_module_builder_t*),
                                char* path, size_t capacity) {
  irt_allocator_t allocator = irt_allocator_system();
  irvm_module_builder_t* b = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_create(allocator, name, 0, &b));
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status = define(b);
  if (irt_status_is_ok(status)) {
    status = irvm_module_builder_finish(b, NULL, allocator, &data, &size);
  }
  irvm_module_builder_destroy(b);
  IRT_RETURN_IF_ERROR(status);
  snprintf(path, capacity, "%s/%s.vmfb", directory, name);
  FILE* file = fopen(path, "wb");
  bool ok = file && fwrite(data, 1, size, file) == size;
  if (file && fclose(file) != 0) ok = false;
  irt_allocator_free(allocator, data);
  if (!ok) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE, "cannot write '%s'", path);
  }
  return IRT_OK;
}
