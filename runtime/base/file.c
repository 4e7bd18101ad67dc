#include "runtime/base/file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

irt_status_t irt_file_read_all(const char* path, irt_allocator_t allocator,
                               uint8_t** out_data, size_t* out_size) {
  *out_data = NULL;
  *out_size = 0;
  FILE* file = fopen(path, "rb");
  if (!file) {
    return irt_make_status(IRT_STATUS_NOT_FOUND, "cannot open '%s': %s", path,
                           strerror(errno));
  }
  uint8_t* data = NULL;
  size_t size = 0, capacity = 0;
  irt_status_t status = IRT_OK;
  for (;;) {
    if (size + 1 >= capacity) {  // room for the terminating NUL
      capacity = capacity ? capacity * 2 : 65536;
      status = irt_allocator_realloc(allocator, capacity, (void**)&data);
      if (status) break;
    }
    size_t read = fread(data + size, 1, capacity - size - 1, file);
    size += read;
    if (read == 0) break;
  }
  if (!status && ferror(file)) {
    status = irt_make_status(IRT_STATUS_DATA_LOSS, "cannot read '%s'", path);
  }
  fclose(file);
  if (status) {
    irt_allocator_free(allocator, data);
    return status;
  }
  data[size] = 0;
  *out_data = data;
  *out_size = size;
  return IRT_OK;
}
