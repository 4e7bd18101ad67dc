// The `hal` module (v6) seen from a module builder: the imports builder-made
// modules call, with the calling conventions iree-compile v3.11 gives them,
// and the `__init` prologue compiled modules start with.
//
// The cconvs must equal the hal module's exports byte for byte (the loader
// matches them); tests/modules_hal/test_module.c checks every entry against
// runtime/modules/hal's export table, so the two cannot drift. Add an entry
// here when a builder needs another import.
//
//   irvm_hal_imports_t imports;
//   static const irvm_hal_import_t kUsed[] = {IRVM_HAL_DEVICES_GET,
//                                             IRVM_HAL_FENCE_AWAIT};
//   IRT_RETURN_IF_ERROR(irvm_hal_imports_declare(b, kUsed, 2, &imports));
//   ... irvm_fn_call(fn, irvm_hal_import(&imports, IRVM_HAL_DEVICES_GET), ...)
#ifndef IRVM_BUILDER_HAL_IMPORTS_H
#define IRVM_BUILDER_HAL_IMPORTS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/status.h"
#include "runtime/vm/builder/module_builder.h"

// The hal module version these imports belong to (the dependency to add).
#define IRVM_HAL_MODULE_VERSION 6u

// The imports of compiled dispatch code come first, in the order the sample
// and the GPU fixtures declare them (irvm_hal_imports_declare_dispatch).
typedef enum irvm_hal_import_e {
  IRVM_HAL_BUFFER_VIEW_ASSERT,
  IRVM_HAL_BUFFER_VIEW_BUFFER,
  IRVM_HAL_BUFFER_VIEW_CREATE,
  IRVM_HAL_BUFFER_VIEW_DIM,
  IRVM_HAL_COMMAND_BUFFER_CREATE,
  IRVM_HAL_COMMAND_BUFFER_DISPATCH,
  IRVM_HAL_COMMAND_BUFFER_FINALIZE,
  IRVM_HAL_DEVICE_QUERY_I64,
  IRVM_HAL_DEVICE_QUEUE_ALLOCA,
  IRVM_HAL_DEVICE_QUEUE_EXECUTE,
  IRVM_HAL_DEVICES_GET,
  IRVM_HAL_EXECUTABLE_CREATE,
  IRVM_HAL_FENCE_CREATE,
  IRVM_HAL_FENCE_AWAIT,
  // Others.
  IRVM_HAL_BUFFER_LOAD,
  IRVM_HAL_DEVICE_QUEUE_BARRIER,
  IRVM_HAL_DEVICES_COUNT,
  IRVM_HAL_IMPORT_COUNT,
} irvm_hal_import_t;
#define IRVM_HAL_DISPATCH_IMPORT_COUNT (IRVM_HAL_FENCE_AWAIT + 1)

typedef struct irvm_hal_import_info_s {
  const char* name;   // full name, "hal.devices.get"
  const char* cconv;  // "0i_r"
} irvm_hal_import_info_t;

// The name and cconv of |import| (NULL when out of range).
const irvm_hal_import_info_t* irvm_hal_import_info(irvm_hal_import_t import);

// Import ordinals of one module, by irvm_hal_import_t; UINT32_MAX where not
// declared (a call to one fails the builder's reference check at finish).
typedef struct irvm_hal_imports_s {
  uint32_t ordinals[IRVM_HAL_IMPORT_COUNT];
} irvm_hal_imports_t;

// Adds the required "hal" dependency (IRVM_HAL_MODULE_VERSION), then
// declares |count| imports as required, in the order given: their ordinals
// follow any imports declared before. Call it once per builder; an unknown
// or repeated import is INVALID_ARGUMENT.
irt_status_t irvm_hal_imports_declare(
    irvm_module_builder_t* builder, const irvm_hal_import_t* imports,
    size_t count, irvm_hal_imports_t* out_imports) IRT_MUST_USE;

// The callee operand of |import| (irvm_opnd_import of its ordinal).
static inline irvm_opnd_t irvm_hal_import(const irvm_hal_imports_t* imports,
                                          irvm_hal_import_t import) {
  return irvm_opnd_import(imports->ordinals[import]);
}

// irvm_hal_imports_declare of the first IRVM_HAL_DISPATCH_IMPORT_COUNT
// imports, in enum order: what a module importing like compiled dispatch
// code needs. Each export asserts its inputs' shapes, allocates the result
// in queue order, records one dispatch in a one-shot command buffer,
// executes it and awaits a fence; __init is irvm_hal_emit_init_executable.
irt_status_t irvm_hal_imports_declare_dispatch(irvm_module_builder_t* builder,
                                               irvm_hal_imports_t* out_imports)
    IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// The executable __init prologue
//===----------------------------------------------------------------------===//

// The rodata an executable-creating __init reads.
typedef struct irvm_hal_executable_rodata_s {
  uint32_t format_category;  // "hal.executable.format"
  uint32_t format;           // e.g. "system-elf-x86_64"
  uint32_t executable;       // the executable's bytes
} irvm_hal_executable_rodata_t;

// Adds the three rodata segments above, in that order: the strings embedded,
// |data| with |options| (e.g. external with a name and MIME type, as the
// compiler stores executables).
irt_status_t irvm_hal_add_executable_rodata(
    irvm_module_builder_t* builder, const char* format, const void* data,
    size_t size, const irvm_rodata_options_t* options,
    irvm_hal_executable_rodata_t* out_rodata) IRT_MUST_USE;

typedef struct irvm_hal_init_s {
  // Needs IRVM_HAL_DEVICES_GET, _DEVICE_QUERY_I64 and _EXECUTABLE_CREATE.
  const irvm_hal_imports_t* imports;
  irvm_hal_executable_rodata_t rodata;
  const char* format;      // what rodata.format holds
  uint32_t device_global;  // ref global ordinals
  uint32_t executable_global;
  // Who needs the device, for the INCOMPATIBLE failure when device 0 does
  // not run the format: "HAL device `__device_0` not found or unavailable:
  // <requirement> running <format>" ("the sample needs a CPU device").
  const char* requirement;
} irvm_hal_init_t;

// Begins the exported "__init" function ("0v_v") of |builder| with what
// compiled ones start with: device 0 (hal.devices.get),
// hal.device.query.i64 of ("hal.executable.format", format) that must
// answer ok and non-zero, else the function fails with INCOMPATIBLE (18);
// then the device is stored in its global and the executable created (any
// queue, no constants) and stored in its own. *|out_fn| is left in an open
// block with the device retained in %r0; the rest of __init follows (at
// least a discard of %r0 and a return). Registers used: i32 %i0..%i7, refs
// %r0..%r5. Declares the types "!hal.device" and "!hal.executable".
irt_status_t irvm_hal_begin_init_executable(
    irvm_module_builder_t* builder, const irvm_hal_init_t* init,
    irvm_function_builder_t** out_fn) IRT_MUST_USE;

#endif  // IRVM_BUILDER_HAL_IMPORTS_H
