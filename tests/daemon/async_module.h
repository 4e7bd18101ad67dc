// A builder-made module with coarse-fences exports (VM spec 4.6), the ABI
// iree-compile uses for `$async` functions, for testing how the session and
// the daemon drive them (the conformance corpus has none):
//   echo$async(view, wait, signal) -> view: a queue barrier on device 0
//       from |wait| to |signal|, returning its input;
//   echo(view) -> view: the synchronous wrapper the compiler emits (fence
//       create, echo$async, fence await);
//   id$async(view, wait, signal) -> view: like echo$async, without a
//       synchronous form.
#ifndef IREED_TESTS_DAEMON_ASYNC_MODULE_H
#define IREED_TESTS_DAEMON_ASYNC_MODULE_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/base/status.h"

// Writes the module to a new file under |directory|; its path goes to
// |path| (|capacity| bytes).
irt_status_t async_module_write(const char* directory, char* path,
                                size_t capacity) IRT_MUST_USE;

#endif  // IREED_TESTS_DAEMON_ASYNC_MODULE_H
