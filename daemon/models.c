#include "daemon/models.h"

#include <string.h>

#include "runtime/io/parameter_index.h"

static irt_status_t ireed_model_strdup(irt_arena_t* arena, const char* text,
                                       char** out_text) {
  return irt_arena_strndup(arena, text, strlen(text), out_text);
}

static irt_status_t ireed_model_strdup_view(irt_arena_t* arena,
                                            irt_string_view_t text,
                                            char** out_text) {
  return irt_arena_strndup(arena, text.data, text.size, out_text);
}

static irt_status_t ireed_model_check_path(const char* what, const char* path) {
  if (path[0] != '/') {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s path '%s' is not absolute (the daemon does not "
                           "share the client's working directory)",
                           what, path);
  }
  return IRT_OK;
}

irt_status_t ireed_model_check_name(const char* name) {
  size_t name_length = strlen(name);
  if (name_length == 0 || name_length > IREED_MODEL_NAME_MAX) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "a model name needs 1 to %d bytes, not %zu",
                           IREED_MODEL_NAME_MAX, name_length);
  }
  for (size_t i = 0; i < name_length; ++i) {
    unsigned char c = (unsigned char)name[i];
    if (c < 0x20 || c == 0x7F) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "model name has a control character at byte %zu",
                             i);
    }
  }
  return IRT_OK;
}

static irt_status_t ireed_model_check_request(
    const Ireed__LoadModelRequest* request) {
  IRT_RETURN_IF_ERROR(ireed_model_check_name(request->name));
  if (request->n_module_paths == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "model '%s' names no module", request->name);
  }
  for (size_t i = 0; i < request->n_module_paths; ++i) {
    IRT_RETURN_IF_ERROR(
        ireed_model_check_path("module", request->module_paths[i]));
  }
  for (size_t i = 0; i < request->n_parameters; ++i) {
    IRT_RETURN_IF_ERROR(ireed_model_check_path("parameter archive",
                                               request->parameters[i]->path));
  }
  return IRT_OK;
}

static const char* ireed_model_request_device(
    const Ireed__LoadModelRequest* request) {
  return request->device[0] ? request->device : IREED_DEFAULT_DEVICE;
}

static irt_status_t ireed_model_entry_copy(
    ireed_model_entry_t* entry, const Ireed__LoadModelRequest* request) {
  irt_arena_t* arena = &entry->arena;
  IRT_RETURN_IF_ERROR(ireed_model_strdup(arena, request->name, &entry->name));
  IRT_RETURN_IF_ERROR(ireed_model_strdup(
      arena, ireed_model_request_device(request), &entry->device));
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(arena, request->n_module_paths * sizeof(char*),
                      sizeof(char*), (void**)&entry->module_paths));
  for (size_t i = 0; i < request->n_module_paths; ++i) {
    IRT_RETURN_IF_ERROR(ireed_model_strdup(arena, request->module_paths[i],
                                           &entry->module_paths[i]));
  }
  entry->module_count = request->n_module_paths;
  size_t count = request->n_parameters;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(char*),
                                      sizeof(char*),
                                      (void**)&entry->parameter_scopes));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(arena, (count + 1) * sizeof(char*),
                                      sizeof(char*),
                                      (void**)&entry->parameter_paths));
  for (size_t i = 0; i < count; ++i) {
    IRT_RETURN_IF_ERROR(ireed_model_strdup(arena, request->parameters[i]->scope,
                                           &entry->parameter_scopes[i]));
    IRT_RETURN_IF_ERROR(ireed_model_strdup(arena, request->parameters[i]->path,
                                           &entry->parameter_paths[i]));
  }
  entry->parameter_count = count;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(
      arena, request->n_module_paths * sizeof(irio_file_identity_t),
      sizeof(uint64_t), (void**)&entry->module_identities));
  return irt_arena_alloc(arena, (count + 1) * sizeof(irio_file_identity_t),
                         sizeof(uint64_t),
                         (void**)&entry->parameter_identities);
}

irt_status_t ireed_model_entry_create(const Ireed__LoadModelRequest* request,
                                      irt_allocator_t allocator,
                                      ireed_model_entry_t** out_entry) {
  *out_entry = NULL;
  IRT_RETURN_IF_ERROR(ireed_model_check_request(request));
  ireed_model_entry_t* entry = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*entry), (void**)&entry));
  irt_arena_init(&entry->arena, allocator, 0);
  ireed_model_stats_initialize(&entry->stats);
  entry->state = IREED_MODEL_LOADING;
  irt_status_t status = ireed_model_entry_copy(entry, request);
  if (!irt_status_is_ok(status)) {
    ireed_model_entry_destroy(entry);
    return status;
  }
  *out_entry = entry;
  return IRT_OK;
}

void ireed_model_entry_destroy(ireed_model_entry_t* entry) {
  if (!entry) return;
  irsess_model_release(entry->model);
  irt_allocator_t allocator = entry->arena.allocator;
  irt_arena_deinit(&entry->arena);
  irt_allocator_free(allocator, entry);
}

bool ireed_model_entry_matches(const ireed_model_entry_t* entry,
                               const Ireed__LoadModelRequest* request) {
  if (strcmp(entry->device, ireed_model_request_device(request)) != 0 ||
      entry->module_count != request->n_module_paths ||
      entry->parameter_count != request->n_parameters) {
    return false;
  }
  for (size_t i = 0; i < entry->module_count; ++i) {
    if (strcmp(entry->module_paths[i], request->module_paths[i]) != 0) {
      return false;
    }
  }
  for (size_t i = 0; i < entry->parameter_count; ++i) {
    if (strcmp(entry->parameter_scopes[i], request->parameters[i]->scope) ||
        strcmp(entry->parameter_paths[i], request->parameters[i]->path)) {
      return false;
    }
  }
  return true;
}

// True unless the file at |path| is still |loaded| (a path that cannot be
// read counts as changed, so the reload tries it and reports why).
static bool ireed_model_file_changed(const char* path,
                                     const irio_file_identity_t* loaded) {
  irio_file_identity_t now;
  irt_status_t status = irio_file_identity_of_path(path, &now);
  bool changed = !irt_status_is_ok(status) ||
                 !irio_file_identity_equal(&now, loaded);
  irt_status_free(status);
  return changed;
}

const char* ireed_model_entry_changed_file(const ireed_model_entry_t* entry) {
  for (size_t i = 0; i < entry->module_count; ++i) {
    if (ireed_model_file_changed(entry->module_paths[i],
                                 &entry->module_identities[i])) {
      return entry->module_paths[i];
    }
  }
  for (size_t i = 0; i < entry->parameter_count; ++i) {
    if (ireed_model_file_changed(entry->parameter_paths[i],
                                 &entry->parameter_identities[i])) {
      return entry->parameter_paths[i];
    }
  }
  return NULL;
}

//===----------------------------------------------------------------------===//
// Loading (worker)
//===----------------------------------------------------------------------===//

static irt_status_t ireed_model_entry_build_infos(ireed_model_entry_t* entry) {
  irt_arena_t* arena = &entry->arena;
  size_t count = irsess_model_function_count(entry->model);
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(arena, (count + 1) * sizeof(*entry->functions),
                      sizeof(void*), (void**)&entry->functions));
  IRT_RETURN_IF_ERROR(
      irt_arena_alloc(arena, (count + 1) * sizeof(*entry->function_pointers),
                      sizeof(void*), (void**)&entry->function_pointers));
  for (size_t i = 0; i < count; ++i) {
    const irsess_function_t* function = irsess_model_function(entry->model, i);
    Ireed__FunctionInfo* info = &entry->functions[i];
    ireed__function_info__init(info);
    IRT_RETURN_IF_ERROR(
        ireed_model_strdup_view(arena, function->name, &info->name));
    IRT_RETURN_IF_ERROR(ireed_model_strdup_view(
        arena, function->calling_convention, &info->calling_convention));
    IRT_RETURN_IF_ERROR(ireed_model_strdup_view(arena, function->declaration,
                                                &info->declaration));
    entry->function_pointers[i] = info;
  }
  entry->function_count = count;
  return IRT_OK;
}

irt_status_t ireed_model_entry_load(ireed_model_entry_t* entry,
                                    irsess_runtime_t* runtime,
                                    irt_allocator_t allocator) {
  irio_parameter_index_t* parameters = NULL;
  IRT_RETURN_IF_ERROR(irio_parameter_index_create(allocator, &parameters));
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < entry->parameter_count && irt_status_is_ok(status);
       ++i) {
    status = irio_parameter_index_add_file(
        parameters, irt_make_cstring_view(entry->parameter_scopes[i]),
        entry->parameter_paths[i], IRIO_FILE_MODE_READ);
    if (!irt_status_is_ok(status)) {
      status = irt_status_annotate(
          status, "parameter archive '%s' (scope '%s')",
          entry->parameter_paths[i], entry->parameter_scopes[i]);
    } else {
      // From the mapping (fstat of the descriptor mapped), not a stat of the
      // path: it names exactly the bytes served, even when the file was
      // replaced in the middle of the load. Modules get theirs the same way.
      entry->parameter_identities[i] = irio_file_mapping_identity(
          irio_parameter_index_archive(parameters, i));
    }
  }
  if (irt_status_is_ok(status)) {
    irsess_model_options_t options = {
        .device = entry->device,
        .module_paths = (const char* const*)entry->module_paths,
        .module_count = entry->module_count,
        .parameters = parameters,
        .module_identities = entry->module_identities,
    };
    status = irsess_model_load(runtime, &options, allocator, &entry->model);
  }
  irio_parameter_index_release(parameters);  // the model keeps its own
  if (irt_status_is_ok(status)) {
    status = ireed_model_entry_build_infos(entry);
  }
  if (!irt_status_is_ok(status)) {
    irsess_model_release(entry->model);
    entry->model = NULL;
    return irt_status_annotate(status, "loading model '%s'", entry->name);
  }
  return IRT_OK;
}

bool ireed_model_entry_idle(const ireed_model_entry_t* entry,
                            uint64_t now_ns) {
  return entry->configured && !entry->pinned && entry->idle_unload_seconds &&
         entry->state == IREED_MODEL_READY && !entry->in_flight &&
         !entry->retired && now_ns >= entry->last_used_ns &&
         now_ns - entry->last_used_ns >=
             (uint64_t)entry->idle_unload_seconds * 1000000000u;
}

void ireed_model_entry_info(const ireed_model_entry_t* entry,
                            Ireed__ModelInfo* info) {
  ireed__model_info__init(info);
  info->name = entry->name;
  info->device = entry->device;
  info->n_module_paths = entry->module_count;
  info->module_paths = entry->module_paths;
  info->n_functions = entry->function_count;
  info->functions = entry->function_pointers;
  ireed_model_counts_t counts = ireed_model_stats_counts(&entry->stats);
  info->invocations = counts.invocations;
  info->errors = counts.errors;
}
