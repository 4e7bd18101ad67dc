// Host CPU description for executables: the processor data word 0 feature
// bits of hal-abi.md 5.6.2 and the names the `hal.cpu` device query uses for
// them.
#ifndef IRHAL_CPU_PROCESSOR_H
#define IRHAL_CPU_PROCESSOR_H

#include <stdbool.h>

#include "hal/cpu/executable_library.h"
#include "runtime/base/string_view.h"

// Fills |out_processor| for the calling host: word 0 gets the feature bits
// the CPU has *and* the OS lets user code use (e.g. AVX-512 only when the
// kernel saves its registers, AMX only after the process was granted tile
// data); words 1-7 are zero. Other architectures get all zeros.
void irhal_cpu_processor_query(irhal_processor_v0_t* out_processor);

// The host's name for its executable formats: "x86_64", "arm_64", or NULL
// when the host cannot run CPU executables.
const char* irhal_cpu_host_arch_name(void);

// Looks up a feature name of the host architecture ("avx2", "sve", ...) and
// returns its bit number in word 0; false for names the table lacks.
bool irhal_cpu_feature_bit(irt_string_view_t name, int* out_bit);

#endif  // IRHAL_CPU_PROCESSOR_H
