// A HAL device for testing the `hal` module without hardware: host memory
// buffers, executables that only record what they were given, and a queue
// that runs each op inline as soon as its wait fence is reached (on the
// thread that reaches it). Dispatches are recorded, not run.
#ifndef IREED_TESTS_MODULES_HAL_FAKE_DEVICE_H
#define IREED_TESTS_MODULES_HAL_FAKE_DEVICE_H

#include "hal/api.h"

#define FAKE_DEVICE_ID "local-fake"
// The format the fake device loads (plus any added with |extra_format|).
#define FAKE_DEVICE_FORMAT "fake-format"
// Every export of a FAKE_DEVICE_FORMAT executable takes one constant and two
// bindings; executables of the extra format have unchecked counts.
#define FAKE_EXECUTABLE_EXPORT_COUNT 2

typedef struct fake_dispatch_s {
  uint32_t export_ordinal;
  uint32_t workgroup_count[3];  // as executed (indirect counts read)
  uint64_t flags;
  uint32_t constant_count;
  uint32_t constants[8];
  uint32_t binding_count;
  irhal_resolved_ref_t bindings[IRHAL_MAX_DISPATCH_BINDINGS];
} fake_dispatch_t;

typedef struct fake_device_s {
  irhal_device_t base;
  const char* extra_format;  // also loadable, e.g. "embedded-elf-x86_64"
  bool refuse_import;        // import_host_buffer fails with UNAVAILABLE
  // What the device saw.
  uint32_t dispatch_count;
  fake_dispatch_t dispatches[4];  // the first ones executed
  uint32_t executable_count;
  bool last_executable_aliased;  // it retained the data owner
  uint32_t last_executable_constant_count;
  uint32_t last_executable_constants[4];
  uint32_t submit_count;
} fake_device_t;

irt_status_t fake_device_create(irt_allocator_t host_allocator,
                                fake_device_t** out_device);

#endif  // IREED_TESTS_MODULES_HAL_FAKE_DEVICE_H
