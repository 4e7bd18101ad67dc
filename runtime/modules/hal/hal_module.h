// The `hal` native module, version 6 (HAL spec 1): the 57 exports compiled
// v3.11 modules import, implemented on the HAL API (hal/api.h) over a fixed
// group of devices supplied by the host.
#ifndef IRMOD_HAL_HAL_MODULE_H
#define IRMOD_HAL_HAL_MODULE_H

#include <stddef.h>

#include "hal/device.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/context.h"
#include "runtime/vm/module.h"

#define IRMOD_HAL_MODULE_VERSION 6u

// Registers the 11 HAL ref types (spec 1.2: hal.allocator, hal.buffer, ...)
// with |instance|. Idempotent. Tools that load modules without devices (to
// inspect or verify them) call this alone so type names resolve.
irt_status_t irmod_hal_register_types(irvm_instance_t* instance) IRT_MUST_USE;

// Registers the HAL types with |instance| and creates the "hal" module whose
// device group is |devices| (retained, in order: hal.devices.get(i) returns
// devices[i]). An empty group is allowed (compiled `__init` then fails with
// INCOMPATIBLE). |host_allocator| backs the module and the objects it makes.
irt_status_t irmod_hal_module_create(irvm_instance_t* instance,
                                     irhal_device_t* const* devices,
                                     size_t device_count,
                                     irt_allocator_t host_allocator,
                                     irvm_module_t** out_module) IRT_MUST_USE;

#endif  // IRMOD_HAL_HAL_MODULE_H
