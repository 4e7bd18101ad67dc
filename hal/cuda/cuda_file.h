// GPUDirect Storage (cuFile): file reads straight into device memory and
// writes straight out of it, when libcufile is present (it is loaded with
// dlopen, never linked). Without it, or when its driver does not open (no
// nvidia-fs and compatibility mode off), every file transfer of a CUDA
// device streams through the HAL's staging ring (hal/file_transfer.h).
#ifndef IRHAL_CUDA_CUDA_FILE_H
#define IRHAL_CUDA_CUDA_FILE_H

#include "hal/cuda/cuda_buffer.h"
#include "hal/file.h"
#include "hal/queue.h"

typedef struct irhal_cuda_file_driver_s irhal_cuda_file_driver_t;

// Opens libcufile.so.0 and its driver; NULL when either is unavailable.
// IREED_CUFILE=0 in the environment disables it.
irhal_cuda_file_driver_t* irhal_cuda_file_driver_open(
    irt_allocator_t host_allocator);
void irhal_cuda_file_driver_release(irhal_cuda_file_driver_t* driver);

// True when |driver| (may be NULL) moves |file|'s bytes: fd files that
// cuFile accepts (a trial cuFileHandleRegister: it refuses files on file
// systems it does not support, e.g. overlayfs, which then go through the
// staging ring instead of failing).
bool irhal_cuda_file_driver_accepts(const irhal_cuda_file_driver_t* driver,
                                    const irhal_file_t* file);

// Executes a READ or WRITE op between its fd file and device memory (the
// transfer's buffer must be CUDA memory): waits
// for the stream (earlier work, the buffer's stream-ordered allocation),
// then transfers synchronously on the calling thread.
irt_status_t irhal_cuda_file_transfer(irhal_cuda_file_driver_t* driver,
                                      irhal_cuda_context_t* context,
                                      irhal_queue_op_t* op) IRT_MUST_USE;

#endif  // IRHAL_CUDA_CUDA_FILE_H
