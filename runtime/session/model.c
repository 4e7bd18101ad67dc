#include "runtime/session/model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/cpu/cpu_device.h"
#include "ireed_config.h"
#if IREED_HAVE_VULKAN
#include "hal/vulkan/vulkan_device.h"
#endif
#if IREED_HAVE_CUDA
#include "hal/cuda/cuda_device.h"
#endif
#include "runtime/base/ref_count.h"
#include "runtime/io/file_mapping.h"
#include "runtime/modules/hal/hal_module.h"
#include "runtime/modules/io_parameters/io_parameters_module.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/invoke.h"

#define IRSESS_DEFAULT_DEVICE "local-task"

//===----------------------------------------------------------------------===//
// Runtime
//===----------------------------------------------------------------------===//

// Devices are created on first use and shared, one per canonical URI
// ("local-sync", "local-task", "vulkan://0", "vulkan://NAME").
#define IRSESS_MAX_DEVICES 16
#define IRSESS_DEVICE_KEY_SIZE 80

// A device, or the settings of one not created yet (|key| set, |device|
// NULL); free slots have an empty key.
typedef struct irsess_device_slot_s {
  char key[IRSESS_DEVICE_KEY_SIZE];
  irhal_device_t* device;
  uint32_t worker_count;
  uint64_t staging_size;
  char* pipeline_cache_dir;  // NULL: the runtime's
} irsess_device_slot_t;

struct irsess_runtime_s {
  irt_allocator_t allocator;
  irvm_instance_t* instance;
  pthread_mutex_t mutex;  // guards |devices|
  irsess_device_slot_t devices[IRSESS_MAX_DEVICES];
  char* pipeline_cache_dir;  // Vulkan devices created from now on; NULL: none
};

irt_status_t irsess_runtime_create(irt_allocator_t allocator,
                                   irsess_runtime_t** out_runtime) {
  *out_runtime = NULL;
  irsess_runtime_t* runtime = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*runtime), (void**)&runtime));
  runtime->allocator = allocator;
  pthread_mutex_init(&runtime->mutex, NULL);
  irt_status_t status = irvm_instance_create(allocator, &runtime->instance);
  // Registered once up front: later registrations by the module constructors
  // then only read the type table, so models may load on many threads.
  if (irt_status_is_ok(status)) {
    status = irmod_hal_register_types(runtime->instance);
  }
  if (!irt_status_is_ok(status)) {
    irsess_runtime_destroy(runtime);
    return status;
  }
  *out_runtime = runtime;
  return IRT_OK;
}

void irsess_runtime_destroy(irsess_runtime_t* runtime) {
  if (!runtime) return;
  for (size_t i = 0; i < IRSESS_MAX_DEVICES; ++i) {
    if (runtime->devices[i].device) {
      irhal_device_release(runtime->devices[i].device);
    }
    free(runtime->devices[i].pipeline_cache_dir);
  }
  free(runtime->pipeline_cache_dir);
  if (runtime->instance) irvm_instance_destroy(runtime->instance);
  pthread_mutex_destroy(&runtime->mutex);
  irt_allocator_free(runtime->allocator, runtime);
}

irvm_instance_t* irsess_runtime_instance(const irsess_runtime_t* runtime) {
  return runtime->instance;
}

irt_status_t irsess_runtime_set_pipeline_cache_dir(irsess_runtime_t* runtime,
                                                   const char* directory) {
  char* copy = NULL;
  if (directory && *directory) {
    copy = strdup(directory);
    if (!copy) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
  }
  pthread_mutex_lock(&runtime->mutex);
  free(runtime->pipeline_cache_dir);
  runtime->pipeline_cache_dir = copy;
  pthread_mutex_unlock(&runtime->mutex);
  return IRT_OK;
}

// The canonical URI of the device |name| names: its key in the runtime.
static irt_status_t irsess_device_key(irt_string_view_t name,
                                      char key[IRSESS_DEVICE_KEY_SIZE]) {
  if (irt_string_view_equal_cstring(name, "local-sync") ||
      irt_string_view_equal_cstring(name, "local-task")) {
    snprintf(key, IRSESS_DEVICE_KEY_SIZE, "%.*s", IRT_SV_ARG(name));
    return IRT_OK;
  }
#if IREED_HAVE_VULKAN
  if (irhal_vulkan_is_uri(name)) {
    char device_name[IRSESS_DEVICE_KEY_SIZE - 16];
    irhal_vulkan_device_options_t options = {0};
    IRT_RETURN_IF_ERROR(irhal_vulkan_parse_uri(name, device_name,
                                               sizeof(device_name), &options));
    if (options.name) {
      snprintf(key, IRSESS_DEVICE_KEY_SIZE, "vulkan://%s", options.name);
    } else {
      snprintf(key, IRSESS_DEVICE_KEY_SIZE, "vulkan://%u", options.index);
    }
    return IRT_OK;
  }
#endif  // IREED_HAVE_VULKAN
#if IREED_HAVE_CUDA
  int ordinal = 0;
  if (irhal_cuda_device_parse_name(name, &ordinal)) {
    snprintf(key, IRSESS_DEVICE_KEY_SIZE, "cuda://%d", ordinal);
    return IRT_OK;
  }
#endif  // IREED_HAVE_CUDA
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "unknown device '%.*s' (devices: local-sync, "
                         "local-task%s%s)",
                         IRT_SV_ARG(name),
                         IREED_HAVE_VULKAN ? ", vulkan, vulkan://N" : "",
                         IREED_HAVE_CUDA ? ", cuda, cuda://N" : "");
}

// Creates the device of |slot| (its key is the canonical URI).
static irt_status_t irsess_create_device(irsess_runtime_t* runtime,
                                         const irsess_device_slot_t* slot,
                                         irhal_device_t** out_device) {
  irt_string_view_t uri = irt_make_cstring_view(slot->key);
#if IREED_HAVE_VULKAN
  if (irhal_vulkan_is_uri(uri)) {
    char device_name[IRSESS_DEVICE_KEY_SIZE];
    irhal_vulkan_device_options_t options = {0};
    IRT_RETURN_IF_ERROR(irhal_vulkan_parse_uri(uri, device_name,
                                               sizeof(device_name), &options));
    options.pipeline_cache_dir =
        slot->pipeline_cache_dir ? slot->pipeline_cache_dir
        : runtime->pipeline_cache_dir
            ? runtime->pipeline_cache_dir
            : getenv("IREED_VULKAN_PIPELINE_CACHE_DIR");
    return irhal_vulkan_device_create(&options, runtime->allocator, out_device);
  }
#endif  // IREED_HAVE_VULKAN
#if IREED_HAVE_CUDA
  int ordinal = 0;
  if (irhal_cuda_device_parse_name(uri, &ordinal)) {
    return irhal_cuda_device_create(ordinal, runtime->allocator, out_device);
  }
#endif  // IREED_HAVE_CUDA
  // local-task: one worker per online CPU unless configured.
  return irhal_cpu_device_create_by_name(uri, slot->worker_count,
                                         runtime->allocator, out_device);
}

// The slot of |key|, or a free one; RESOURCE_EXHAUSTED when all are taken.
// Locked.
static irt_status_t irsess_find_slot(irsess_runtime_t* runtime, const char* key,
                                     irsess_device_slot_t** out_slot) {
  *out_slot = NULL;
  for (size_t i = 0; i < IRSESS_MAX_DEVICES; ++i) {
    irsess_device_slot_t* slot = &runtime->devices[i];
    if (strcmp(slot->key, key) == 0) {
      *out_slot = slot;
      return IRT_OK;
    }
    if (!slot->key[0] && !*out_slot) *out_slot = slot;
  }
  if (*out_slot) return IRT_OK;
  return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                         "more than %d devices in one process",
                         IRSESS_MAX_DEVICES);
}

irt_status_t irsess_runtime_configure_device(
    irsess_runtime_t* runtime, const irsess_device_options_t* options) {
  char key[IRSESS_DEVICE_KEY_SIZE];
  IRT_RETURN_IF_ERROR(
      irsess_device_key(irt_make_cstring_view(options->name), key));
  char* cache_dir = NULL;
  if (options->pipeline_cache_dir) {
    cache_dir = strdup(options->pipeline_cache_dir);
    if (!cache_dir) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
  }
  pthread_mutex_lock(&runtime->mutex);
  irsess_device_slot_t* slot = NULL;
  irt_status_t status = irsess_find_slot(runtime, key, &slot);
  if (irt_status_is_ok(status) && slot->device) {
    status = irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "device '%s' is already in use; its settings "
                             "apply when it is created",
                             options->name);
  } else if (irt_status_is_ok(status)) {
    memcpy(slot->key, key, sizeof(key));
    slot->worker_count = options->worker_count;
    slot->staging_size = options->staging_size;
    free(slot->pipeline_cache_dir);
    slot->pipeline_cache_dir = cache_dir;
    cache_dir = NULL;
  }
  pthread_mutex_unlock(&runtime->mutex);
  free(cache_dir);
  return status;
}

irt_status_t irsess_runtime_device(irsess_runtime_t* runtime,
                                   irt_string_view_t name,
                                   irhal_device_t** out_device) {
  *out_device = NULL;
  char key[IRSESS_DEVICE_KEY_SIZE];
  IRT_RETURN_IF_ERROR(irsess_device_key(name, key));
  // Devices are few and created once: creating under the lock keeps two
  // threads from making the same one.
  pthread_mutex_lock(&runtime->mutex);
  irsess_device_slot_t* slot = NULL;
  irt_status_t status = irsess_find_slot(runtime, key, &slot);
  if (irt_status_is_ok(status) && !slot->device) {
    memcpy(slot->key, key, sizeof(key));
    status = irsess_create_device(runtime, slot, &slot->device);
    if (!status) {
      irhal_device_set_staging_size(slot->device, slot->staging_size);
    } else if (!slot->worker_count && !slot->staging_size &&
               !slot->pipeline_cache_dir) {
      slot->key[0] = '\0';  // nothing to keep
    }
  }
  if (!status) {
    irhal_device_retain(slot->device);
    *out_device = slot->device;
  }
  pthread_mutex_unlock(&runtime->mutex);
  return status;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

struct irsess_model_s {
  irt_ref_count_t ref_count;
  irt_allocator_t allocator;
  irhal_device_t* device;
  irvm_context_t* context;
  size_t function_count;
  irsess_function_t* functions;
  char* names;  // storage of the qualified function names
};

static void irsess_release_mapping(void* user_data, const uint8_t* data,
                                   size_t size) {
  (void)data;
  (void)size;
  irio_file_mapping_release((irio_file_mapping_t*)user_data);
}

// Creates a bytecode module over the shared mapping of |path|; the mapped
// file's identity goes to |out_identity| when set.
static irt_status_t irsess_load_module(irvm_instance_t* instance,
                                       const char* path,
                                       irt_allocator_t allocator,
                                       irvm_module_t** out_module,
                                       irio_file_identity_t* out_identity) {
  irio_file_mapping_t* mapping = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irio_file_mapping_open(path, IRIO_FILE_MODE_READ, allocator, &mapping),
      "cannot open module '%s'", path);
  if (out_identity) *out_identity = irio_file_mapping_identity(mapping);
  if (irio_file_mapping_size(mapping) == 0 ||
      irio_file_mapping_size(mapping) > SIZE_MAX) {
    irio_file_mapping_release(mapping);
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module '%s' is not a non-empty regular file", path);
  }
  irvm_bytecode_module_options_t module_options = {irsess_release_mapping,
                                                   mapping};
  irt_status_t status =
      irvm_bytecode_module_create(instance, irio_file_mapping_data(mapping),
                                  (size_t)irio_file_mapping_size(mapping),
                                  &module_options, allocator, out_module);
  if (!irt_status_is_ok(status)) {
    irio_file_mapping_release(mapping);  // still ours on failure
    return irt_status_annotate(status, "loading module '%s'", path);
  }
  return IRT_OK;
}

// Fills the function table with the public exports of modules[first..count)
// (names starting with "__" are the VM's lifecycle hooks, not functions).
static irt_status_t irsess_model_build_functions(irsess_model_t* model,
                                                 irvm_module_t* const* modules,
                                                 size_t first, size_t count) {
  size_t function_count = 0, name_bytes = 0;
  for (int pass = 0; pass < 2; ++pass) {
    size_t index = 0;
    char* name_cursor = model->names;
    for (size_t m = first; m < count; ++m) {
      irvm_module_t* module = modules[m];
      bool main_module = m + 1 == count;
      for (uint32_t ordinal = 0; ordinal < module->export_count; ++ordinal) {
        irvm_export_info_t info;
        IRT_RETURN_IF_ERROR(
            module->vtable->export_info(module, ordinal, &info));
        if (irt_string_view_starts_with(info.name, "__")) continue;
        if (pass == 0) {
          ++function_count;
          if (!main_module)
            name_bytes += module->name.size + 1 + info.name.size;
          continue;
        }
        irsess_function_t* function = &model->functions[index++];
        function->module_name = module->name;
        function->local_name = info.name;
        function->calling_convention = info.calling_convention;
        irvm_attrs_lookup(info.attr_count, info.attrs, "iree.abi.declaration",
                          &function->declaration);
        if (main_module) {
          function->name = info.name;
        } else {
          size_t size = module->name.size + 1 + info.name.size;
          memcpy(name_cursor, module->name.data, module->name.size);
          name_cursor[module->name.size] = '.';
          memcpy(name_cursor + module->name.size + 1, info.name.data,
                 info.name.size);
          function->name = irt_make_string_view(name_cursor, size);
          name_cursor += size;
        }
        // The context may shadow an earlier module of the same name; calls
        // go where the context resolves them.
        if (!irvm_context_find_export(model->context, module->name, info.name,
                                      &function->function)) {
          function->function.module = module;
          function->function.export_ordinal = ordinal;
        }
        IRT_RETURN_IF_ERROR(irvm_function_signature(
            &function->function, &function->arguments, &function->results));
        irt_string_view_t abi_model;
        irvm_attrs_lookup(info.attr_count, info.attrs, "iree.abi.model",
                          &abi_model);
        if (irt_string_view_equal_cstring(abi_model, "coarse-fences") &&
            function->arguments.size >= 2 &&
            memcmp(function->arguments.data + function->arguments.size - 2,
                   "rr", 2) == 0) {
          function->coarse_fences = true;
          function->arguments.size -= 2;  // the fences are the session's
          function->async_variant = function;
        }
      }
    }
    if (pass == 0) {
      IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
          model->allocator, function_count ? function_count : 1,
          sizeof(*model->functions), (void**)&model->functions));
      IRT_RETURN_IF_ERROR(irt_allocator_malloc(model->allocator, name_bytes,
                                               (void**)&model->names));
      model->function_count = function_count;
    }
  }
  return IRT_OK;
}

// Whether |async| is the "$async" form of |function|: same module, name
// plus "$async", same arguments (fences aside) and results.
static bool irsess_is_async_form(const irsess_function_t* function,
                                 const irsess_function_t* async) {
  static const char kSuffix[] = "$async";
  size_t suffix = sizeof(kSuffix) - 1;
  irt_string_view_t name = async->local_name;
  return async->coarse_fences && !function->coarse_fences &&
         function->function.module == async->function.module &&
         name.size == function->local_name.size + suffix &&
         memcmp(name.data, function->local_name.data,
                function->local_name.size) == 0 &&
         memcmp(name.data + function->local_name.size, kSuffix, suffix) == 0 &&
         irt_string_view_equal(function->arguments, async->arguments) &&
         irt_string_view_equal(function->results, async->results);
}

static void irsess_model_link_async_variants(irsess_model_t* model) {
  for (size_t i = 0; i < model->function_count; ++i) {
    irsess_function_t* function = &model->functions[i];
    for (size_t j = 0; j < model->function_count && !function->async_variant;
         ++j) {
      if (irsess_is_async_form(function, &model->functions[j])) {
        function->async_variant = &model->functions[j];
      }
    }
  }
}

static void irsess_model_destroy(irsess_model_t* model) {
  if (model->context) irvm_context_destroy(model->context);
  if (model->device) irhal_device_release(model->device);
  irt_allocator_free(model->allocator, model->functions);
  irt_allocator_free(model->allocator, model->names);
  irt_allocator_free(model->allocator, model);
}

// Compiled `__init` fails with INCOMPATIBLE when no device matches the
// module's targets and UNAVAILABLE when the device runs none of an
// executable's variants (HAL spec 1.7): typically a module compiled for CPU
// loaded on a GPU. Says so first, in terms of the device the user chose.
static irt_status_t irsess_explain_no_executable(irt_status_t status,
                                                 const char* device) {
  irt_status_code_t code = irt_status_code(status);
  if (code != IRT_STATUS_INCOMPATIBLE && code != IRT_STATUS_UNAVAILABLE) {
    return status;
  }
  char detail[1024];
  irt_status_format_brief(status, detail, sizeof(detail));
  irt_status_free(status);
  return irt_make_status(code,
                         "no executable for this device: the module has no "
                         "code device '%s' can run (%s)",
                         device, detail);
}

// Loads the files and builds the context; |modules| has module_count + 2
// slots: [0] the hal module, [1] io_parameters, then the user modules.
static irt_status_t irsess_model_build(irsess_runtime_t* runtime,
                                       const irsess_model_options_t* options,
                                       irsess_model_t* model,
                                       irvm_module_t** modules) {
  irvm_instance_t* instance = runtime->instance;
  size_t count = options->module_count + 2;
  for (size_t i = 2; i < count; ++i) {
    irio_file_identity_t* identity =
        options->module_identities ? &options->module_identities[i - 2] : NULL;
    IRT_RETURN_IF_ERROR(irsess_load_module(instance,
                                           options->module_paths[i - 2],
                                           model->allocator, &modules[i],
                                           identity));
  }
  IRT_RETURN_IF_ERROR(irmod_io_parameters_module_create(
      instance, options->parameters, model->allocator, &modules[1]));
  IRT_RETURN_IF_ERROR(irsess_runtime_device(
      runtime,
      irt_make_cstring_view(options->device ? options->device
                                            : IRSESS_DEFAULT_DEVICE),
      &model->device));
  IRT_RETURN_IF_ERROR(irmod_hal_module_create(instance, &model->device, 1,
                                              model->allocator, &modules[0]));
  IRT_RETURN_IF_ERROR(
      irvm_context_create(instance, model->allocator, &model->context));
  irt_status_t status =
      irvm_context_register_modules(model->context, modules, count);
  if (!irt_status_is_ok(status)) {
    irvm_context_destroy(model->context);
    model->context = NULL;
    return irsess_explain_no_executable(
        status, options->device ? options->device : IRSESS_DEFAULT_DEVICE);
  }
  IRT_RETURN_IF_ERROR(irsess_model_build_functions(model, modules, 2, count));
  irsess_model_link_async_variants(model);
  return IRT_OK;
}

irt_status_t irsess_model_load(irsess_runtime_t* runtime,
                               const irsess_model_options_t* options,
                               irt_allocator_t allocator,
                               irsess_model_t** out_model) {
  *out_model = NULL;
  if (options->module_count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "a model needs at least one module");
  }
  irsess_model_t* model = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*model), (void**)&model));
  irt_ref_count_init(&model->ref_count);
  model->allocator = allocator;
  irvm_module_t** modules = NULL;
  irt_status_t status = irt_allocator_calloc_array(
      allocator, options->module_count + 2, sizeof(*modules), (void**)&modules);
  if (irt_status_is_ok(status)) {
    status = irsess_model_build(runtime, options, model, modules);
    // The context retains what it registered.
    for (size_t i = 0; i < options->module_count + 2; ++i) {
      if (modules[i]) irvm_module_release(modules[i]);
    }
    irt_allocator_free(allocator, modules);
  }
  if (!irt_status_is_ok(status)) {
    irsess_model_destroy(model);
    return status;
  }
  *out_model = model;
  return IRT_OK;
}

void irsess_model_retain(irsess_model_t* model) {
  irt_ref_count_retain(&model->ref_count);
}

void irsess_model_release(irsess_model_t* model) {
  if (model && irt_ref_count_release(&model->ref_count)) {
    irsess_model_destroy(model);
  }
}

irhal_device_t* irsess_model_device(const irsess_model_t* model) {
  return model->device;
}

irvm_context_t* irsess_model_context(const irsess_model_t* model) {
  return model->context;
}

//===----------------------------------------------------------------------===//
// Functions
//===----------------------------------------------------------------------===//

size_t irsess_model_function_count(const irsess_model_t* model) {
  return model->function_count;
}

const irsess_function_t* irsess_model_function(const irsess_model_t* model,
                                               size_t index) {
  return index < model->function_count ? &model->functions[index] : NULL;
}

// True when |name| is "module.local" for |function|.
static bool irsess_is_qualified_name(const irsess_function_t* function,
                                     irt_string_view_t name) {
  size_t module_size = function->module_name.size;
  return name.size == module_size + 1 + function->local_name.size &&
         memcmp(name.data, function->module_name.data, module_size) == 0 &&
         name.data[module_size] == '.' &&
         memcmp(name.data + module_size + 1, function->local_name.data,
                function->local_name.size) == 0;
}

irt_status_t irsess_model_find_function(
    const irsess_model_t* model, irt_string_view_t name,
    const irsess_function_t** out_function) {
  *out_function = NULL;
  for (size_t i = 0; i < model->function_count; ++i) {
    const irsess_function_t* function = &model->functions[i];
    if (irt_string_view_equal(function->name, name) ||
        irsess_is_qualified_name(function, name)) {
      *out_function = function;
      return IRT_OK;
    }
  }
  // "f" for a module that exports only "f$async".
  for (size_t i = 0; i < model->function_count; ++i) {
    const irsess_function_t* function = &model->functions[i];
    irt_string_view_t full = function->name;
    if (function->coarse_fences && full.size == name.size + 6 &&
        memcmp(full.data, name.data, name.size) == 0 &&
        memcmp(full.data + name.size, "$async", 6) == 0) {
      *out_function = function;
      return IRT_OK;
    }
  }
  // List what there is (bounded, for one-line messages).
  char listing[256] = "none";
  size_t used = 0;
  for (size_t i = 0; i < model->function_count && used < sizeof(listing); ++i) {
    int n = snprintf(listing + used, sizeof(listing) - used, "%s%.*s",
                     i ? ", " : "", IRT_SV_ARG(model->functions[i].name));
    if (n < 0) break;
    used += (size_t)n;
  }
  if (used >= sizeof(listing)) {
    memcpy(listing + sizeof(listing) - 4, "...", 4);
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "no function '%.*s' in the model (functions: %s)",
                         IRT_SV_ARG(name), listing);
}

static irt_status_t irsess_check_argument_count(
    const irsess_function_t* function, size_t argument_count) {
  if (argument_count == function->arguments.size) return IRT_OK;
  return irt_make_status(
      IRT_STATUS_INVALID_ARGUMENT,
      "function '%.*s' takes %zu argument%s (signature '%.*s') but %zu "
      "were given",
      IRT_SV_ARG(function->name), function->arguments.size,
      function->arguments.size == 1 ? "" : "s", IRT_SV_ARG(function->arguments),
      argument_count);
}

// Arguments of a coarse-fences call held on the C stack up to this count.
#define IRSESS_INLINE_ARGUMENTS 16

// Calls the coarse-fences export |async| with |arguments| plus the fences.
static irt_status_t irsess_call_async(
    irsess_model_t* model, const irsess_function_t* async, irvm_stack_t* stack,
    const irvm_variant_t* arguments, size_t argument_count,
    irhal_fence_t* wait_fence, irvm_variant_t* results, size_t result_capacity,
    size_t* out_result_count, irhal_fence_t** out_signal_fence) {
  IRT_RETURN_IF_ERROR(irsess_check_argument_count(async, argument_count));
  irhal_fence_t* signal_fence = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_fence_create_single(model->allocator, &signal_fence));
  irvm_variant_t inline_arguments[IRSESS_INLINE_ARGUMENTS];
  irvm_variant_t* all = inline_arguments;
  size_t count = argument_count + 2;
  irt_status_t status = IRT_OK;
  if (count > IRSESS_INLINE_ARGUMENTS) {
    status = irt_allocator_malloc(model->allocator, count * sizeof(*all),
                                  (void**)&all);
  }
  if (irt_status_is_ok(status)) {
    // Borrowed, like every argument of irvm_invoke.
    if (argument_count) memcpy(all, arguments, argument_count * sizeof(*all));
    all[argument_count] = irvm_variant_from_ref(
        wait_fence ? irvm_ref_wrap(wait_fence, irhal_fence_type())
                   : irvm_ref_null());
    all[argument_count + 1] =
        irvm_variant_from_ref(irvm_ref_wrap(signal_fence, irhal_fence_type()));
    status = irvm_invoke(&async->function, stack, all, count, results,
                         result_capacity, out_result_count, model->allocator);
    if (all != inline_arguments) irt_allocator_free(model->allocator, all);
  }
  if (!irt_status_is_ok(status)) {
    irhal_fence_release(signal_fence);
    return status;
  }
  *out_signal_fence = signal_fence;
  return IRT_OK;
}

irt_status_t irsess_model_invoke(
    irsess_model_t* model, const irsess_function_t* function,
    irvm_stack_t* stack, const irvm_variant_t* arguments, size_t argument_count,
    irvm_variant_t* results, size_t result_capacity, size_t* out_result_count) {
  *out_result_count = 0;
  irt_status_t status = IRT_OK;
  if (function->coarse_fences) {
    irhal_fence_t* signal_fence = NULL;
    status = irsess_call_async(model, function, stack, arguments,
                               argument_count, NULL, results, result_capacity,
                               out_result_count, &signal_fence);
    if (irt_status_is_ok(status)) {
      status = irhal_fence_wait(signal_fence, INT64_MAX);
      irhal_fence_release(signal_fence);
    }
    if (!irt_status_is_ok(status)) {
      for (size_t i = 0; i < *out_result_count; ++i) {
        irvm_variant_release(&results[i]);
      }
      *out_result_count = 0;
    }
  } else {
    status = irsess_check_argument_count(function, argument_count);
    if (irt_status_is_ok(status)) {
      status = irvm_invoke(&function->function, stack, arguments,
                           argument_count, results, result_capacity,
                           out_result_count, model->allocator);
    }
  }
  return status;
}

irt_status_t irsess_model_invoke_async(
    irsess_model_t* model, const irsess_function_t* function,
    irvm_stack_t* stack, const irvm_variant_t* arguments, size_t argument_count,
    irhal_fence_t* wait_fence, irvm_variant_t* results, size_t result_capacity,
    size_t* out_result_count, irhal_fence_t** out_signal_fence) {
  *out_result_count = 0;
  *out_signal_fence = NULL;
  irt_status_t status = IRT_OK;
  if (!function->async_variant) {
    status = irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "function '%.*s' has no coarse-fences form",
                             IRT_SV_ARG(function->name));
  } else {
    status =
        irsess_call_async(model, function->async_variant, stack, arguments,
                          argument_count, wait_fence, results, result_capacity,
                          out_result_count, out_signal_fence);
  }
  return status;
}

