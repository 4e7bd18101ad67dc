// X-macro list of the CUDA driver entry points ireed uses. Each must exist in
// every driver we support (CUDA 12+); versioned names are resolved through
// the macros of cuda.h (e.g. cuMemAlloc -> cuMemAlloc_v2).
IRHAL_CUDA_SYMBOL(cuInit)
IRHAL_CUDA_SYMBOL(cuDriverGetVersion)
IRHAL_CUDA_SYMBOL(cuDeviceGetCount)
IRHAL_CUDA_SYMBOL(cuDeviceGet)
IRHAL_CUDA_SYMBOL(cuDeviceGetName)
IRHAL_CUDA_SYMBOL(cuDeviceTotalMem)
IRHAL_CUDA_SYMBOL(cuGetErrorName)
IRHAL_CUDA_SYMBOL(cuGetErrorString)
