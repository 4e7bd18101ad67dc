#include "hal/executable_container.h"

#include <inttypes.h>
#include <string.h>

irt_status_t irhal_executable_container_open(const uint8_t* data, size_t size,
                                             const char identifier[4],
                                             irvm_fb_reader_t* reader,
                                             irvm_fb_table_t* out_root) {
  if (size < IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%.4s executable of %zu bytes is shorter than its "
                           "%d-byte container header",
                           identifier, size,
                           IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE);
  }
  if (memcmp(data, identifier, 4) != 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "executable container magic is not '%.4s'",
                           identifier);
  }
  uint32_t version = irvm_load_u32(data + 4);
  uint64_t content_size = irvm_load_u64(data + 8);
  if (content_size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%.4s executable container is empty", identifier);
  }
  if (version != 0) {
    return irt_make_status(IRT_STATUS_INCOMPATIBLE,
                           "%.4s executable container version %" PRIu32
                           " (only 0 is supported)",
                           identifier, version);
  }
  if (content_size > size - IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "%.4s executable content of %" PRIu64
                           " bytes exceeds the %zu bytes after its header",
                           identifier, content_size,
                           size - IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE);
  }
  IRT_RETURN_IF_ERROR_CTX(
      irvm_fb_reader_init(reader, data + IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE,
                          (size_t)content_size, false),
      "reading the %.4s executable FlatBuffer", identifier);
  IRT_RETURN_IF_ERROR_CTX(irvm_fb_reader_root(reader, identifier, out_root),
                          "reading the %.4s executable FlatBuffer", identifier);
  return IRT_OK;
}
