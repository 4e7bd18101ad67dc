// Writes a module made with the module builder to a file, for the daemon
// tests' builder-made modules (async_module.h, spin_module.h).
#ifndef IREED_TESTS_DAEMON_BUILT_MODULE_H
#define IREED_TESTS_DAEMON_BUILT_MODULE_H

#include <stddef.h>

#include "runtime/base/status.h"
#include "runtime/vm/builder/module_builder.h"

// Builds module |name| with |define| and writes it to
// "|directory|/|name|.vmfb", whose path goes to |path| (|capacity| bytes).
irt_status_t built_module_write(const char* directory, const char* name,
                                irt_status_t (*define)(irvm_module_builder_t*),
                                char* path, size_t capacity) IRT_MUST_USE;

#endif  // IREED_TESTS_DAEMON_BUILT_MODULE_H
