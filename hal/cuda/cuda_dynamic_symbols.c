#include "hal/cuda/cuda_dynamic_symbols.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define IRHAL_STRINGIFY_(x) #x
#define IRHAL_STRINGIFY(x) IRHAL_STRINGIFY_(x)

static struct {
  pthread_once_t once;
  irhal_cuda_symbols_t symbols;
  // Why the driver is unusable; empty when it loaded.
  irt_status_code_t code;
  char why[512];
} irhal_cuda_driver = {.once = PTHREAD_ONCE_INIT};

static bool irhal_cuda_resolve(irhal_cuda_symbols_t* symbols) {
  // The macro expands e.g. cuDeviceTotalMem to cuDeviceTotalMem_v2, which is
  // the exported name of the current ABI; stringify after expansion.
#define IRHAL_CUDA_SYMBOL(name)                                             \
  *(void**)&symbols->name = dlsym(symbols->library, IRHAL_STRINGIFY(name)); \
  if (!symbols->name) {                                                     \
    snprintf(irhal_cuda_driver.why, sizeof(irhal_cuda_driver.why),          \
             "no CUDA driver: libcuda.so.1 lacks %s (driver too old?)",     \
             IRHAL_STRINGIFY(name));                                        \
    return false;                                                           \
  }
#include "hal/cuda/cuda_symbol_table.h"
#undef IRHAL_CUDA_SYMBOL
  return true;
}

static void irhal_cuda_driver_load(void) {
  irhal_cuda_symbols_t* symbols = &irhal_cuda_driver.symbols;
  irhal_cuda_driver.code = IRT_STATUS_UNAVAILABLE;
  symbols->library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!symbols->library) {
    snprintf(irhal_cuda_driver.why, sizeof(irhal_cuda_driver.why),
             "no CUDA driver: %s", dlerror());
    return;
  }
  if (!irhal_cuda_resolve(symbols)) return;
  CUresult result = symbols->cuInit(0);
  if (result != CUDA_SUCCESS) {
    const char* name = "CUDA_ERROR_UNKNOWN";
    symbols->cuGetErrorName(result, &name);
    snprintf(irhal_cuda_driver.why, sizeof(irhal_cuda_driver.why),
             "no CUDA driver: cuInit failed with %s (no usable GPU)", name);
    return;
  }
  irhal_cuda_driver.code = IRT_STATUS_OK;
}

irt_status_t irhal_cuda_symbols_get(const irhal_cuda_symbols_t** out_symbols) {
  *out_symbols = NULL;
  pthread_once(&irhal_cuda_driver.once, irhal_cuda_driver_load);
  if (irhal_cuda_driver.code != IRT_STATUS_OK) {
    return irt_make_status(irhal_cuda_driver.code, "%s", irhal_cuda_driver.why);
  }
  *out_symbols = &irhal_cuda_driver.symbols;
  return IRT_OK;
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
    case CUDA_ERROR_OUT_OF_MEMORY:
      code = IRT_STATUS_RESOURCE_EXHAUSTED;
      break;
    case CUDA_ERROR_NO_DEVICE:
    case CUDA_ERROR_NOT_INITIALIZED:
    case CUDA_ERROR_DEINITIALIZED:
      code = IRT_STATUS_UNAVAILABLE;
      break;
    case CUDA_ERROR_INVALID_VALUE:
      code = IRT_STATUS_INVALID_ARGUMENT;
      break;
    case CUDA_ERROR_NOT_FOUND:
      code = IRT_STATUS_NOT_FOUND;
      break;
    default:
      break;
  }
  return irt_make_status(code, "%s failed: %s (%s)", call, name, text);
}
