// A builder-made module whose export keeps a worker busy for as long as the
// caller asks, for tests of work in flight (backpressure, draining):
//   spin(i32 n) -> i32: counts from 0 to n in a bytecode loop and returns n.
// Interpreters differ in speed (sanitizers), so tests time a small call
// and scale n from that.
#ifndef IREED_TESTS_DAEMON_SPIN_MODULE_H
#define IREED_TESTS_DAEMON_SPIN_MODULE_H

#include <stddef.h>

#include "runtime/base/status.h"

// Writes the module (module "spin") to a new file under |directory|; its
// path goes to |path| (|capacity| bytes).
irt_status_t spin_module_write(const char* directory, char* path,
                               size_t capacity) IRT_MUST_USE;

#endif  // IREED_TESTS_DAEMON_SPIN_MODULE_H
