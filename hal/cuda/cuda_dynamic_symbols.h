// The CUDA driver API, loaded at run time with dlopen("libcuda.so.1") so the
// same binary runs on machines without a GPU. Only the entry points listed in
// cuda_symbol_table.h are resolved.
#ifndef IRHAL_CUDA_DYNAMIC_SYMBOLS_H
#define IRHAL_CUDA_DYNAMIC_SYMBOLS_H

#include <cuda.h>

#include "runtime/base/status.h"

typedef struct irhal_cuda_symbols_s {
  void* library;
#define IRHAL_CUDA_SYMBOL(name) __typeof__(&name) name;
#include "hal/cuda/cuda_symbol_table.h"
#undef IRHAL_CUDA_SYMBOL
} irhal_cuda_symbols_t;

// Opens libcuda and resolves every symbol. Fails with UNAVAILABLE
// ("no CUDA driver: ...") when the library is missing.
irt_status_t irhal_cuda_symbols_load(irhal_cuda_symbols_t* out_symbols);
void irhal_cuda_symbols_unload(irhal_cuda_symbols_t* symbols);

// Wraps a CUresult into a status naming the call.
irt_status_t irhal_cuda_result_to_status(const irhal_cuda_symbols_t* symbols,
                                         CUresult result, const char* call);

#endif  // IRHAL_CUDA_DYNAMIC_SYMBOLS_H
