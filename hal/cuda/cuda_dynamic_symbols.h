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

// The process-wide driver: opened, resolved and cuInit'ed once, never
// unloaded (libcuda keeps threads and state for the life of the process).
// UNAVAILABLE ("no CUDA driver: ...") when the library is missing, lacks a
// symbol or cuInit fails (no GPU); every call returns the same answer.
irt_status_t irhal_cuda_symbols_get(const irhal_cuda_symbols_t** out_symbols)
    IRT_MUST_USE;

// Wraps a CUresult into a status naming the call.
irt_status_t irhal_cuda_result_to_status(const irhal_cuda_symbols_t* symbols,
                                         CUresult result, const char* call);

// Calls cu->fn with the parenthesized |args| and converts the result:
//   IRT_RETURN_IF_ERROR(IRHAL_CUDA_CALL(cu, cuStreamSynchronize, (stream)));
#define IRHAL_CUDA_CALL(cu, fn, args) \
  irhal_cuda_result_to_status((cu), (cu)->fn args, #fn)

#endif  // IRHAL_CUDA_DYNAMIC_SYMBOLS_H
