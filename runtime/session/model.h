// Loaded models: what `ireectl run --local` and the daemon share to turn
// compiled modules into callable functions.
//
// A runtime (irsess_runtime_t) is the per-process part: one VM instance with
// every ref type registered, and one device per name, created on first use
// and shared by all models (so models on "local-task" share one worker
// pool). Module files are mapped with runtime/io's process-wide mappings, so
// a file loaded by several models (same device and inode) is mapped once;
// parameter archives are shared the same way by the parameter index.
//
// A model (irsess_model_t) is a context of the `hal` module over its device,
// the `io_parameters` module over its parameter index and the user modules
// in order, plus a table of the user modules' public functions with their
// signatures. Models are reference-counted and immutable once loaded; any
// number of threads may invoke their functions at once.
#ifndef IRSESS_MODEL_H
#define IRSESS_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "hal/device.h"
#include "hal/fence.h"
#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"
#include "runtime/io/parameter_index.h"
#include "runtime/vm/context.h"
#include "runtime/vm/list.h"
#include "runtime/vm/stack.h"

typedef struct irsess_runtime_s irsess_runtime_t;
typedef struct irsess_model_s irsess_model_t;

//===----------------------------------------------------------------------===//
// Runtime
//===----------------------------------------------------------------------===//

irt_status_t irsess_runtime_create(irt_allocator_t allocator,
                                   irsess_runtime_t** out_runtime) IRT_MUST_USE;
// Releases the devices. Every model of the runtime must be released first.
void irsess_runtime_destroy(irsess_runtime_t* runtime);
irvm_instance_t* irsess_runtime_instance(const irsess_runtime_t* runtime);

// The device named |name| ("local-sync", "local-task", and in builds with
// Vulkan "vulkan", "vulkan://N", "vulkan://NAME", with CUDA "cuda" =
// "cuda://0", "cuda://N"), created on first use; *out_device is a new
// reference. NOT_FOUND, listing the names, for unknown names; a driver's
// own error ("no CUDA driver: ...") when it cannot create the device.
// Thread-safe.
irt_status_t irsess_runtime_device(irsess_runtime_t* runtime,
                                   irt_string_view_t name,
                                   irhal_device_t** out_device) IRT_MUST_USE;

// Settings of a device, applied when it is created.
typedef struct irsess_device_options_s {
  const char* name;       // a device name as irsess_runtime_device takes
  uint32_t worker_count;  // local-task workers; 0: one per online CPU
  // Staging ring of streamed file transfers (hal/file_transfer.h); 0: the
  // default. Devices that read files in place (the CPU devices) use none.
  uint64_t staging_size;
  // Vulkan: where the device persists its pipeline cache; NULL: as
  // irsess_runtime_set_pipeline_cache_dir says.
  const char* pipeline_cache_dir;
} irsess_device_options_t;

// Sets the options of the device options->name for when it is created.
// NOT_FOUND for unknown names (listing them); FAILED_PRECONDITION once the
// device exists. Thread-safe.
irt_status_t irsess_runtime_configure_device(
    irsess_runtime_t* runtime,
    const irsess_device_options_t* options) IRT_MUST_USE;

// Where Vulkan devices created from now on persist their pipeline cache
// (NULL: nowhere, unless $IREED_VULKAN_PIPELINE_CACHE_DIR names a
// directory).
irt_status_t irsess_runtime_set_pipeline_cache_dir(
    irsess_runtime_t* runtime, const char* directory) IRT_MUST_USE;

//===----------------------------------------------------------------------===//
// Models
//===----------------------------------------------------------------------===//

typedef struct irsess_model_options_s {
  const char* device;  // NULL: "local-task"
  // .vmfb paths in registration order; the last one is the model's main
  // module (bare function names resolve there).
  const char* const* module_paths;
  size_t module_count;
  // Served by the io_parameters module (retained); NULL serves no scope.
  irio_parameter_index_t* parameters;
  // When set, receives module_count identities: those of the module files
  // as mapped, for hosts that later check whether a path was replaced.
  irio_file_identity_t* module_identities;
} irsess_model_options_t;

// A public export of one of the model's user modules.
//
// Asynchronous exports (VM spec 4.6, HAL spec 1.9): an export whose
// iree.abi.model is "coarse-fences" ("f$async") takes a wait fence and a
// signal fence after its arguments and returns its results as soon as the
// work is scheduled. Hosts never pass those fences themselves: |arguments|
// leaves them out, and the session supplies them (irsess_model_invoke waits
// on the signal fence; irsess_model_invoke_async hands it to the caller).
typedef struct irsess_function_s irsess_function_t;
struct irsess_function_s {
  // "simple_mul" for the main module, "module.function" for the others.
  irt_string_view_t name;
  irt_string_view_t module_name;
  irt_string_view_t local_name;
  irt_string_view_t calling_convention;  // "0rr_r"
  // The cconv fragments of what callers pass and get: "rr", "r" (without
  // the fences of a coarse-fences export).
  irt_string_view_t arguments;
  irt_string_view_t results;
  irt_string_view_t declaration;  // iree.abi.declaration; empty if absent
  irvm_function_t function;
  bool coarse_fences;  // this export takes (wait, signal) fences last
  // The coarse-fences export to run this function through: itself, or for
  // a synchronous "f" the "f$async" of the same module with matching
  // arguments and results; NULL when there is none.
  const irsess_function_t* async_variant;
};

// Maps the modules, creates the device (after every file was read, so bad
// files are reported without starting one) and registers everything into a
// new context, which runs each module's `__init`. Errors name the failing
// file or device.
irt_status_t irsess_model_load(irsess_runtime_t* runtime,
                               const irsess_model_options_t* options,
                               irt_allocator_t allocator,
                               irsess_model_t** out_model) IRT_MUST_USE;

void irsess_model_retain(irsess_model_t* model);
// Dropping the last reference destroys the context (running `__deinit`);
// it must not happen on a thread the device's work waits for.
void irsess_model_release(irsess_model_t* model);

irhal_device_t* irsess_model_device(const irsess_model_t* model);
irvm_context_t* irsess_model_context(const irsess_model_t* model);

// The public functions, in module order then export order.
size_t irsess_model_function_count(const irsess_model_t* model);
const irsess_function_t* irsess_model_function(const irsess_model_t* model,
                                               size_t index);

// Finds |name|: a table name, or "module.function" of the main module; a
// name whose only export is its "$async" form finds that. NOT_FOUND names
// the function and lists what there is.
irt_status_t irsess_model_find_function(
    const irsess_model_t* model, irt_string_view_t name,
    const irsess_function_t** out_function) IRT_MUST_USE;

// Invokes |function| (of |model|) with |arguments| (borrowed) as
// irvm_invoke does, after checking their count against the signature, and
// returns once the results are ready (a coarse-fences export is waited
// for). |stack| may be NULL; threads that invoke often pass a stack of their
// own, which saves allocating one per call.
irt_status_t irsess_model_invoke(irsess_model_t* model,
                                 const irsess_function_t* function,
                                 irvm_stack_t* stack,
                                 const irvm_variant_t* arguments,
                                 size_t argument_count, irvm_variant_t* results,
                                 size_t result_capacity,
                                 size_t* out_result_count) IRT_MUST_USE;

// Starts function->async_variant (which must exist) ordered after
// |wait_fence| (NULL: nothing to wait for) and returns as soon as its work
// is scheduled: |results| are set, but their contents are valid only once
// *out_signal_fence (a new reference) is reached, and |arguments| must stay
// alive until then. A failure of the work itself fails the fence.
irt_status_t irsess_model_invoke_async(
    irsess_model_t* model, const irsess_function_t* function,
    irvm_stack_t* stack, const irvm_variant_t* arguments, size_t argument_count,
    irhal_fence_t* wait_fence, irvm_variant_t* results, size_t result_capacity,
    size_t* out_result_count, irhal_fence_t** out_signal_fence) IRT_MUST_USE;

#endif  // IRSESS_MODEL_H
