// A builder-made module that loads one parameter the way iree-compile v3.11
// output does (scale.vmfb's imports, calling conventions and `__init`
// sequence), for the params benchmark and the staged-load test:
//
//   __init:  device 0 of the hal module into a global, then
//            io_parameters.load(device, -1, null, fence, "model", -1, 0x30,
//                               0x80C03, {0, 6}, "weight", {0, 0, LENGTH})
//            awaited; its buffer is global @weight.
//   probe(offset: i64) -> i32   4 bytes of @weight at |offset| through
//                               hal.buffer.load (a host mapping).
//   weight() -> !hal.buffer     @weight itself.
#ifndef IREED_TESTS_HAL_STAGING_PARAMS_MODULE_H
#define IREED_TESTS_HAL_STAGING_PARAMS_MODULE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

// Writes the module (ZIP form) for a parameter of |parameter_length| bytes;
// free *out_data with irt_allocator_free(|allocator|, ...).
irt_status_t params_module_build(irt_allocator_t allocator,
                                 uint64_t parameter_length, uint8_t** out_data,
                                 size_t* out_size) IRT_MUST_USE;

#endif  // IREED_TESTS_HAL_STAGING_PARAMS_MODULE_H
