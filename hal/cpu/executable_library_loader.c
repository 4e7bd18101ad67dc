#include "hal/cpu/executable_library_loader.h"

#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "hal/cpu/elf_loader.h"
#include "hal/cpu/image.h"
#include "hal/cpu/processor.h"
#include "hal/cpu/system_library_loader.h"
#include "runtime/base/math.h"

// The environment must be 16-byte aligned and lives inside a heap object.
_Static_assert(alignof(max_align_t) >= IRHAL_EXECUTABLE_ABI_ALIGNMENT,
               "heap allocations must satisfy the dispatch ABI alignment");
_Static_assert(sizeof(void*) == sizeof(irhal_executable_library_query_fn_t),
               "symbol addresses must convert to function pointers");

//===----------------------------------------------------------------------===//
// Loader backends (hal-abi.md 5.1)
//===----------------------------------------------------------------------===//

typedef struct loader_backend_s {
  const char* format_prefix;  // followed by the architecture name
  // Whether the library may have been built with the host's sanitizer.
  bool allows_host_sanitizer;
  irt_status_t (*load)(irt_allocator_t allocator, const void* data, size_t size,
                       void** out_handle);
  void (*unload)(void* handle);
  irt_status_t (*lookup)(const void* handle, const char* name,
                         void** out_address);
  irhal_cpu_image_t (*image)(const void* handle);
} loader_backend_t;

static irt_status_t embedded_load(irt_allocator_t allocator, const void* data,
                                  size_t size, void** out_handle) {
  irhal_elf_module_t* module = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_elf_module_load(allocator, data, size, NULL, &module));
  *out_handle = module;
  return IRT_OK;
}
static void embedded_unload(void* handle) { irhal_elf_module_unload(handle); }
static irt_status_t embedded_lookup(const void* handle, const char* name,
                                    void** out_address) {
  return irhal_elf_module_lookup(handle, name, out_address);
}
static irhal_cpu_image_t embedded_image(const void* handle) {
  return irhal_elf_module_image(handle);
}

static irt_status_t system_load(irt_allocator_t allocator, const void* data,
                                size_t size, void** out_handle) {
  irhal_system_library_t* library = NULL;
  IRT_RETURN_IF_ERROR(
      irhal_system_library_load(allocator, data, size, &library));
  *out_handle = library;
  return IRT_OK;
}
static void system_unload(void* handle) { irhal_system_library_unload(handle); }
static irt_status_t system_lookup(const void* handle, const char* name,
                                  void** out_address) {
  return irhal_system_library_lookup(handle, name, out_address);
}
static irhal_cpu_image_t system_image(const void* handle) {
  return irhal_system_library_image(handle);
}

static const loader_backend_t kBackends[] = {
    {"embedded-elf-", false, embedded_load, embedded_unload, embedded_lookup,
     embedded_image},
    {"system-elf-", true, system_load, system_unload, system_lookup,
     system_image},
};

static const loader_backend_t* find_backend(irt_string_view_t format) {
  for (size_t i = 0; i < sizeof(kBackends) / sizeof(kBackends[0]); ++i) {
    if (irt_string_view_starts_with(format, kBackends[i].format_prefix)) {
      return &kBackends[i];
    }
  }
  return NULL;
}

bool irhal_cpu_executable_format_supported(irt_string_view_t format) {
  const loader_backend_t* backend = find_backend(format);
  const char* arch = irhal_cpu_host_arch_name();
  if (!backend || !arch) return false;
  size_t prefix = strlen(backend->format_prefix);
  irt_string_view_t suffix =
      irt_make_string_view(format.data + prefix, format.size - prefix);
  return irt_string_view_equal_cstring(suffix, arch);
}

//===----------------------------------------------------------------------===//
// The loaded library
//===----------------------------------------------------------------------===//

struct irhal_cpu_library_s {
  irt_allocator_t allocator;
  const loader_backend_t* backend;
  void* handle;
  irhal_cpu_image_t image;
  const irhal_executable_library_v0_t* library;
  uint32_t* constants;
  irhal_executable_import_v0_t* import_functions;
  const void** import_contexts;
  alignas(IRHAL_EXECUTABLE_ABI_ALIGNMENT)
      irhal_executable_environment_v0_t environment;
};

static int library_import_thunk(irhal_executable_import_v0_t fn, void* params,
                                void* context, void* reserved) {
  return fn(params, context, reserved);
}

static irhal_executable_library_sanitizer_t host_sanitizer(void) {
#if defined(__SANITIZE_ADDRESS__)
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_ADDRESS;
#elif defined(__SANITIZE_THREAD__)
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_THREAD;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_ADDRESS;
#elif __has_feature(thread_sanitizer)
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_THREAD;
#else
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_NONE;
#endif
#else
  return IRHAL_EXECUTABLE_LIBRARY_SANITIZER_NONE;
#endif
}

//===----------------------------------------------------------------------===//
// Verification of what the query function returned (hal-abi.md 5.5)
//===----------------------------------------------------------------------===//

static bool in_image(const irhal_cpu_library_t* library, const void* ptr,
                     uint64_t count, size_t element_size) {
  uint64_t size = 0;
  return ptr && irt_mul_u64(count, element_size, &size) && size <= SIZE_MAX &&
         irhal_cpu_image_contains(&library->image, ptr, (size_t)size,
                                  IRHAL_CPU_ACCESS_READ);
}

static bool is_image_string(const irhal_cpu_library_t* library,
                            const char* text) {
  size_t length = 0;
  return text && irhal_cpu_image_string(&library->image, text, &length);
}

static irt_status_t out_of_image(const char* what) {
  return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                         "executable library %s points outside the loaded "
                         "image",
                         what);
}

static irt_status_t verify_header(
    const irhal_cpu_library_t* library,
    const irhal_executable_library_header_t** returned) {
  if (!returned) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "executable library query returned NULL for ABI "
                           "version %u: the library does not support it",
                           IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST);
  }
  if (!in_image(library, returned, 1, sizeof(*returned))) {
    return out_of_image("query result");
  }
  const irhal_executable_library_header_t* header = *returned;
  if (!in_image(library, header, 1, sizeof(*header))) {
    return out_of_image("header");
  }
  if (header->version != IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "executable library has ABI version %u, expected "
                           "%u",
                           header->version,
                           IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST);
  }
  if (!in_image(library, returned, 1, sizeof(irhal_executable_library_v0_t))) {
    return out_of_image("v0 library struct");
  }
  if (!is_image_string(library, header->name)) {
    return out_of_image("name");
  }
  if (header->features != IRHAL_EXECUTABLE_LIBRARY_FEATURE_NONE) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "executable library '%s' requires features 0x%x "
                           "this runtime does not provide",
                           header->name, header->features);
  }
  bool sanitizer_ok =
      header->sanitizer == IRHAL_EXECUTABLE_LIBRARY_SANITIZER_NONE ||
      (library->backend->allows_host_sanitizer &&
       header->sanitizer == (int32_t)host_sanitizer());
  if (!sanitizer_ok) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE,
                           "executable library '%s' was built with sanitizer "
                           "%d, which this %s host cannot run",
                           header->name, header->sanitizer,
                           library->backend->format_prefix);
  }
  return IRT_OK;
}

static irt_status_t verify_string_array(const irhal_cpu_library_t* library,
                                        const char* const* strings,
                                        uint32_t count, bool allow_null,
                                        const char* what) {
  if (!in_image(library, strings, count, sizeof(*strings))) {
    return out_of_image(what);
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (!strings[i] && allow_null) continue;
    if (!is_image_string(library, strings[i])) {
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "executable library %s[%u] is not a string in "
                             "the loaded image",
                             what, i);
    }
  }
  return IRT_OK;
}

static irt_status_t verify_export(const irhal_cpu_library_t* library,
                                  uint32_t ordinal) {
  const irhal_executable_export_table_v0_t* exports =
      &library->library->exports;
  const irhal_executable_dispatch_attrs_v0_t* attrs = &exports->attrs[ordinal];
  const char* name = exports->names ? exports->names[ordinal] : "";
  uintptr_t function = (uintptr_t)exports->ptrs[ordinal];
  if (!function ||
      !irhal_cpu_image_contains(&library->image, (const void*)function, 1,
                                IRHAL_CPU_ACCESS_EXECUTE)) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "executable library export %u '%s' function is "
                           "not in an executable segment of the image",
                           ordinal, name);
  }
  if (attrs->constant_count > IRHAL_EXECUTABLE_MAX_CONSTANT_COUNT ||
      attrs->binding_count > IRHAL_EXECUTABLE_MAX_BINDING_COUNT) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "executable library export %u '%s' declares %u "
                           "constants and %u bindings; at most %d of each "
                           "are supported",
                           ordinal, name, attrs->constant_count,
                           attrs->binding_count,
                           IRHAL_EXECUTABLE_MAX_BINDING_COUNT);
  }
  if (exports->params && exports->params[ordinal] &&
      !in_image(library, exports->params[ordinal], attrs->parameter_count,
                sizeof(irhal_executable_dispatch_parameter_v0_t))) {
    return out_of_image("export parameter table");
  }
  return IRT_OK;
}

static irt_status_t verify_exports(const irhal_cpu_library_t* library) {
  const irhal_executable_export_table_v0_t* exports =
      &library->library->exports;
  uint32_t count = exports->count;
  if (count == 0) return IRT_OK;
  if (!exports->attrs) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "executable library declares %u exports but no "
                           "dispatch attributes",
                           count);
  }
  if (!in_image(library, exports->attrs, count, sizeof(*exports->attrs))) {
    return out_of_image("export attribute table");
  }
  if (!in_image(library, exports->ptrs, count, sizeof(*exports->ptrs))) {
    return out_of_image("export function table");
  }
  if (exports->names) {
    IRT_RETURN_IF_ERROR(verify_string_array(library, exports->names, count,
                                            false, "export names"));
  }
  if (exports->tags) {
    IRT_RETURN_IF_ERROR(verify_string_array(library, exports->tags, count, true,
                                            "export tags"));
  }
  if (exports->params &&
      !in_image(library, exports->params, count, sizeof(*exports->params))) {
    return out_of_image("export parameter array");
  }
  for (uint32_t i = 0; i < count; ++i) {
    IRT_RETURN_IF_ERROR(verify_export(library, i));
  }
  return IRT_OK;
}

static irt_status_t resolve_imports(
    irhal_cpu_library_t* library, const irhal_cpu_import_provider_t* provider) {
  const irhal_executable_import_table_v0_t* imports =
      &library->library->imports;
  if (imports->count == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR(verify_string_array(
      library, imports->symbols, imports->count, false, "import names"));
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      library->allocator, imports->count, sizeof(*library->import_functions),
      (void**)&library->import_functions));
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      library->allocator, imports->count, sizeof(*library->import_contexts),
      (void**)&library->import_contexts));
  for (uint32_t i = 0; i < imports->count; ++i) {
    const char* name = imports->symbols[i];
    bool optional = name[0] == IRHAL_EXECUTABLE_IMPORT_OPTIONAL_PREFIX;
    if (optional) ++name;
    if (!provider) {
      if (optional) continue;
      return irt_make_status(IRT_STATUS_UNAVAILABLE,
                             "executable library '%s' requires import '%s' "
                             "but no import provider is registered",
                             library->library->header->name, name);
    }
    irt_status_t status = provider->resolve(provider->user_data, name,
                                            &library->import_functions[i],
                                            &library->import_contexts[i]);
    if (optional && irt_status_code(status) == IRT_STATUS_NOT_FOUND) {
      irt_status_free(status);
      library->import_functions[i] = NULL;
      library->import_contexts[i] = NULL;
      continue;
    }
    IRT_RETURN_IF_ERROR_CTX(status, "resolving import '%s' of library '%s'",
                            name, library->library->header->name);
  }
  library->environment.import_funcs = library->import_functions;
  library->environment.import_contexts = library->import_contexts;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

static irt_status_t library_prepare_environment(
    irhal_cpu_library_t* library, const irhal_cpu_library_options_t* options) {
  irhal_executable_environment_v0_t* environment = &library->environment;
  environment->import_thunk = library_import_thunk;
  irhal_cpu_processor_query(&environment->processor);
  if (options->constant_count == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      library->allocator, options->constant_count, sizeof(uint32_t),
      (void**)&library->constants));
  memcpy(library->constants, options->constants,
         options->constant_count * sizeof(uint32_t));
  environment->constants = library->constants;
  return IRT_OK;
}

static irt_status_t library_query(irhal_cpu_library_t* library,
                                  const irhal_cpu_library_options_t* options) {
  void* address = NULL;
  IRT_RETURN_IF_ERROR(library->backend->lookup(
      library->handle, IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL, &address));
  if (!irhal_cpu_image_contains(&library->image, address, 1,
                                IRHAL_CPU_ACCESS_EXECUTE)) {
    return out_of_image("query function");
  }
  irhal_executable_library_query_fn_t query = NULL;
  memcpy(&query, &address, sizeof(query));
  const irhal_executable_library_header_t** returned =
      query(IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST, &library->environment);
  IRT_RETURN_IF_ERROR(verify_header(library, returned));
  library->library = (const irhal_executable_library_v0_t*)returned;
  if (library->library->constants.count != options->constant_count) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "executable library '%s' declares %u executable "
                           "constants but %zu were provided",
                           library->library->header->name,
                           library->library->constants.count,
                           options->constant_count);
  }
  IRT_RETURN_IF_ERROR(verify_exports(library));
  return resolve_imports(library, options->import_provider);
}

irt_status_t irhal_cpu_library_load(irt_allocator_t allocator,
                                    irt_string_view_t format, const void* data,
                                    size_t size,
                                    const irhal_cpu_library_options_t* options,
                                    irhal_cpu_library_t** out_library) {
  *out_library = NULL;
  static const irhal_cpu_library_options_t kNoOptions = {0};
  if (!options) options = &kNoOptions;
  const loader_backend_t* backend = find_backend(format);
  if (!backend) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no device can run executable format '%.*s': the "
                           "CPU loaders accept embedded-elf-<arch> and "
                           "system-elf-<arch>",
                           IRT_SV_ARG(format));
  }
  irhal_cpu_library_t* library = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*library), (void**)&library));
  library->allocator = allocator;
  library->backend = backend;
  irt_status_t status = library_prepare_environment(library, options);
  if (irt_status_is_ok(status)) {
    status = backend->load(allocator, data, size, &library->handle);
  }
  if (irt_status_is_ok(status)) {
    library->image = backend->image(library->handle);
    status = library_query(library, options);
  }
  if (!irt_status_is_ok(status)) {
    irhal_cpu_library_free(library);
    return irt_status_annotate(status, "loading executable format '%.*s'",
                               IRT_SV_ARG(format));
  }
  *out_library = library;
  return IRT_OK;
}

void irhal_cpu_library_free(irhal_cpu_library_t* library) {
  if (!library) return;
  if (library->handle) library->backend->unload(library->handle);
  irt_allocator_free(library->allocator, library->import_contexts);
  irt_allocator_free(library->allocator, library->import_functions);
  irt_allocator_free(library->allocator, library->constants);
  irt_allocator_free(library->allocator, library);
}

//===----------------------------------------------------------------------===//
// Accessors
//===----------------------------------------------------------------------===//

const char* irhal_cpu_library_name(const irhal_cpu_library_t* library) {
  return library->library->header->name;
}

uint32_t irhal_cpu_library_export_count(const irhal_cpu_library_t* library) {
  return library->library->exports.count;
}

const char* irhal_cpu_library_export_name(const irhal_cpu_library_t* library,
                                          uint32_t ordinal) {
  const char* const* names = library->library->exports.names;
  return names ? names[ordinal] : NULL;
}

irt_status_t irhal_cpu_library_find_export(const irhal_cpu_library_t* library,
                                           const char* name,
                                           uint32_t* out_ordinal) {
  const irhal_executable_export_table_v0_t* exports =
      &library->library->exports;
  for (uint32_t i = 0; exports->names && i < exports->count; ++i) {
    if (strcmp(exports->names[i], name) == 0) {
      *out_ordinal = i;
      return IRT_OK;
    }
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND,
                         "executable library '%s' has no export named '%s'",
                         irhal_cpu_library_name(library), name);
}

const irhal_executable_dispatch_attrs_v0_t* irhal_cpu_library_export_attrs(
    const irhal_cpu_library_t* library, uint32_t ordinal) {
  return &library->library->exports.attrs[ordinal];
}

irhal_executable_dispatch_v0_t irhal_cpu_library_export_function(
    const irhal_cpu_library_t* library, uint32_t ordinal) {
  return library->library->exports.ptrs[ordinal];
}

const irhal_executable_environment_v0_t* irhal_cpu_library_environment(
    const irhal_cpu_library_t* library) {
  return &library->environment;
}

irt_status_t irhal_cpu_library_run_workgroup(
    const irhal_cpu_library_t* library, uint32_t ordinal,
    const irhal_executable_dispatch_state_v0_t* dispatch_state,
    const irhal_executable_workgroup_state_v0_t* workgroup_state) {
  int result = library->library->exports.ptrs[ordinal](
      &library->environment, dispatch_state, workgroup_state);
  if (result == 0) return IRT_OK;
  const char* name = irhal_cpu_library_export_name(library, ordinal);
  return irt_make_status(
      IRT_STATUS_INTERNAL,
      "dispatch of export %u '%s' of library '%s' failed "
      "with code %d in workgroup (%u, %u, %u)",
      ordinal, name ? name : "", irhal_cpu_library_name(library), result,
      workgroup_state->workgroup_id_x, workgroup_state->workgroup_id_y,
      workgroup_state->workgroup_id_z);
}
