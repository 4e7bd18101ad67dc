// The GPU executable container (HAL spec 6): a 64-byte header (4-byte magic
// equal to the FlatBuffer's file identifier, version 0, content size) in
// front of a FlatBuffer. Shared by the Vulkan (`VKE1`) and CUDA (`CDA1`)
// executable formats.
#ifndef IRHAL_EXECUTABLE_CONTAINER_H
#define IRHAL_EXECUTABLE_CONTAINER_H

#include "runtime/vm/format/flatbuffer.h"

#define IRHAL_EXECUTABLE_CONTAINER_HEADER_SIZE 64

// Checks the header of |data| for |identifier| and opens its FlatBuffer:
// |reader| is initialized over the content and *out_root is its verified
// root table. Errors as the spec lists them: short data, wrong magic or an
// empty content INVALID_ARGUMENT, a non-zero version INCOMPATIBLE, content
// past the data OUT_OF_RANGE; a bad FlatBuffer INVALID_ARGUMENT.
irt_status_t irhal_executable_container_open(const uint8_t* data, size_t size,
                                             const char identifier[4],
                                             irvm_fb_reader_t* reader,
                                             irvm_fb_table_t* out_root)
    IRT_MUST_USE;

#endif  // IRHAL_EXECUTABLE_CONTAINER_H
