// The whole HAL API in one include.
#ifndef IRHAL_API_H
#define IRHAL_API_H

#include "hal/allocator.h"
#include "hal/buffer.h"
#include "hal/buffer_view.h"
#include "hal/command_buffer.h"
#include "hal/device.h"
#include "hal/executable.h"
#include "hal/fence.h"
#include "hal/file.h"
#include "hal/queue.h"
#include "hal/ref_types.h"
#include "hal/semaphore.h"
#include "hal/types.h"

#endif  // IRHAL_API_H
