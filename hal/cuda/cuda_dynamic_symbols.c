#include "hal/cuda/cuda_dynamic_symbols.h"

#include <dlfcn.h>
#include <string.h>

#define IRHAL_STRINGIFY_(x) #x
#define IRHAL_STRINGIFY(x) IRHAL_STRINGIFY_(x)

irt_status_t irhal_cuda_symbols_load(irhal_cuda_symbols_t* out_symbols) {
  memset(out_symbols, 0, sizeof(*out_symbols));
  void* library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "no CUDA driver: %s", dlerror());
  }
  out_symbols->library = library;
  // The macro expands e.g. cuDeviceTotalMem to cuDeviceTotalMem_v2, which is
  // the exported name of the current ABI; stringify after expansion.
#define IRHAL_CUDA_SYMBOL(name)                                         \
  *(void**)&out_symbols->name = dlsym(library, IRHAL_STRINGIFY(name));  \
  if (!out_symbols->name) {                                             \
    irhal_cuda_symbols_unload(out_symbols);                             \
    return irt_make_status(IRT_STATUS_UNAVAILABLE,                      \
                           "CUDA driver lacks %s", IRHAL_STRINGIFY(name)); \
  }
#include "hal/cuda/cuda_symbol_table.h"
#undef IRHAL_CUDA_SYMBOL
  return IRT_OK;
}

void irhal_cuda_symbols_unload(irhal_cuda_symbols_t* symbols) {
  if (symbols->library) dlclose(symbols->library);
  memset(symbols, 0, sizeof(*symbols));
}

irt_status_t irhal_cuda_result_to_status(const irhal_cuda_symbols_t* symbols,
                                         CUresult result, const char* call) {
  if (result == CUDA_SUCCESS) return IRT_OK;
  const char* name = "CUDA_ERROR_UNKNOWN";
  const char* text = "unknown error";
  if (symbols->cuGetErrorName) symbols->cuGetErrorName(result, &name);
  if (symbols->cuGetErrorString) symbols->cuGetErrorString(result, &text);
  irt_status_code_t code = IRT_STATUS_INTERNAL;
  switch (result) {
    case CUDA_ERROR_OUT_OF_MEMORY: code = IRT_STATUS_RESOURCE_EXHAUSTED; break;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED: code = IRT_STATUS_UNAVAILABLE; break;
    case CUDA_ERROR_INVALID_VALUE: code = IRT_STATUS_INVALID_ARGUMENT; break;
    default: break;
  }
  return irt_make_status(code, "%s failed: %s (%s)", call, name, text);
}
