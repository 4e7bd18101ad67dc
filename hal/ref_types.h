// The ref types the `hal` module registers with the VM (HAL spec 1.2). Each
// object header declares its own descriptor; channels and events have no
// objects in this runtime (collectives are unimplemented and v6 exports never
// create events) but are registered so modules that name them load.
#ifndef IRHAL_REF_TYPES_H
#define IRHAL_REF_TYPES_H

#include <stddef.h>

#include "runtime/vm/ref.h"

extern const irvm_ref_type_t irhal_channel_type_descriptor;
extern const irvm_ref_type_t irhal_event_type_descriptor;

// Every HAL ref type, in the order of spec 1.2 (sorted by name).
#define IRHAL_REF_TYPE_COUNT 11
extern const irvm_ref_type_t* const irhal_ref_types[IRHAL_REF_TYPE_COUNT];

#endif  // IRHAL_REF_TYPES_H
