// Model management and daemon status: requests built from the public
// option structs, replies turned into structs that borrow the reply's
// strings (the reply frame is kept as their storage).
#include <stdlib.h>
#include <string.h>

#include "client/lib/connection.h"

static const char* ireeclient_or_empty(const char* text) {
  return text ? text : "";
}

//===----------------------------------------------------------------------===//
// Model lists
//===----------------------------------------------------------------------===//

void ireeclient_model_list_free(ireeclient_model_list_t* list) {
  if (!list) return;
  for (size_t i = 0; i < list->count; ++i) {
    free((void*)list->models[i].functions);
  }
  free(list->models);
  if (list->storage) ireed__frame__free_unpacked(list->storage, NULL);
  free(list);
}

static irt_status_t ireeclient_model_info_fill(const Ireed__ModelInfo* source,
                                               ireeclient_model_info_t* info) {
  info->name = ireeclient_or_empty(source->name);
  info->device = ireeclient_or_empty(source->device);
  info->module_count = source->n_module_paths;
  info->module_paths = (const char* const*)source->module_paths;
  info->invocations = source->invocations;
  info->errors = source->errors;
  ireeclient_function_info_t* functions =
      calloc(source->n_functions ? source->n_functions : 1, sizeof(*functions));
  if (!functions) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; i < source->n_functions; ++i) {
    functions[i].name = ireeclient_or_empty(source->functions[i]->name);
    functions[i].calling_convention =
        ireeclient_or_empty(source->functions[i]->calling_convention);
    functions[i].declaration =
        ireeclient_or_empty(source->functions[i]->declaration);
  }
  info->functions = functions;
  info->function_count = source->n_functions;
  return IRT_OK;
}

// Builds a list over |models| and takes |reply| as its storage (freed on
// failure too).
static irt_status_t ireeclient_model_list_create(
    Ireed__Frame* reply, Ireed__ModelInfo* const* models, size_t count,
    ireeclient_model_list_t** out_list) {
  *out_list = NULL;
  ireeclient_model_list_t* list = calloc(1, sizeof(*list));
  if (list) list->models = calloc(count ? count : 1, sizeof(*list->models));
  if (!list || !list->models) {
    free(list);
    ireed__frame__free_unpacked(reply, NULL);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  list->storage = reply;
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < count && !status; ++i) {
    status = ireeclient_model_info_fill(models[i], &list->models[i]);
    if (!status) list->count = i + 1;
  }
  if (status) {
    ireeclient_model_list_free(list);
    return status;
  }
  *out_list = list;
  return IRT_OK;
}

const ireeclient_function_info_t* ireeclient_model_find_function(
    const ireeclient_model_info_t* model, const char* function) {
  for (size_t i = 0; i < model->function_count; ++i) {
    if (strcmp(model->functions[i].name, function) == 0) {
      return &model->functions[i];
    }
  }
  // Then "fn" matches "module.fn" and "module.fn" matches "fn".
  const char* own_dot = strrchr(function, '.');
  for (size_t i = 0; i < model->function_count; ++i) {
    const char* name = model->functions[i].name;
    const char* dot = strrchr(name, '.');
    if ((!own_dot && dot && strcmp(dot + 1, function) == 0) ||
        (own_dot && !dot && strcmp(own_dot + 1, name) == 0)) {
      return &model->functions[i];
    }
  }
  return NULL;
}

//===----------------------------------------------------------------------===//
// Requests
//===----------------------------------------------------------------------===//

irt_status_t ireeclient_load_model(ireeclient_connection_t* connection,
                                   const ireeclient_load_options_t* options,
                                   ireeclient_model_list_t** out_model) {
  if (out_model) *out_model = NULL;
  if (!options->name || !*options->name || options->module_count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "loading a model needs a name and at least one "
                           "module");
  }
  Ireed__ParameterArchive* archives =
      calloc(options->parameter_count ? options->parameter_count : 1,
             sizeof(*archives));
  Ireed__ParameterArchive** archive_list =
      calloc(options->parameter_count ? options->parameter_count : 1,
             sizeof(*archive_list));
  irt_status_t status = IRT_OK;
  if (!archives || !archive_list) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  Ireed__Frame* reply = NULL;
  if (!status) {
    for (size_t i = 0; i < options->parameter_count; ++i) {
      ireed__parameter_archive__init(&archives[i]);
      archives[i].scope =
          (char*)ireeclient_or_empty(options->parameters[i].scope);
      archives[i].path =
          (char*)ireeclient_or_empty(options->parameters[i].path);
      archive_list[i] = &archives[i];
    }
    Ireed__LoadModelRequest request = IREED__LOAD_MODEL_REQUEST__INIT;
    request.name = (char*)options->name;
    request.n_module_paths = options->module_count;
    request.module_paths = (char**)options->module_paths;
    request.n_parameters = options->parameter_count;
    request.parameters = archive_list;
    request.device = (char*)ireeclient_or_empty(options->device);
    Ireed__Frame frame = IREED__FRAME__INIT;
    frame.body_case = IREED__FRAME__BODY_LOAD_MODEL;
    frame.load_model = &request;
    status = ireeclient_connection_call(
        connection, &frame, -1, IREED__FRAME__BODY_LOAD_MODEL_REPLY, &reply);
  }
  free(archives);
  free(archive_list);
  if (status) return status;
  if (!out_model) {
    ireed__frame__free_unpacked(reply, NULL);
    return IRT_OK;
  }
  Ireed__ModelInfo* model = reply->load_model_reply->model;
  if (!model) {
    ireed__frame__free_unpacked(reply, NULL);
    return irt_make_status(IRT_STATUS_INTERNAL,
                           "ireed loaded '%s' but described no model",
                           options->name);
  }
  return ireeclient_model_list_create(reply, &model, 1, out_model);
}

irt_status_t ireeclient_unload_model(ireeclient_connection_t* connection,
                                     const char* name) {
  Ireed__UnloadModelRequest request = IREED__UNLOAD_MODEL_REQUEST__INIT;
  request.name = (char*)name;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_UNLOAD_MODEL;
  frame.unload_model = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, -1, IREED__FRAME__BODY_UNLOAD_MODEL_REPLY, &reply));
  ireed__frame__free_unpacked(reply, NULL);
  return IRT_OK;
}

irt_status_t ireeclient_list_models(ireeclient_connection_t* connection,
                                    ireeclient_model_list_t** out_list) {
  *out_list = NULL;
  Ireed__ListModelsRequest request = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, -1, IREED__FRAME__BODY_LIST_MODELS_REPLY, &reply));
  return ireeclient_model_list_create(reply, reply->list_models_reply->models,
                                      reply->list_models_reply->n_models,
                                      out_list);
}

//===----------------------------------------------------------------------===//
// Status
//===----------------------------------------------------------------------===//

void ireeclient_server_status_free(ireeclient_server_status_t* status) {
  if (!status) return;
  free((void*)status->devices);
  if (status->storage) ireed__frame__free_unpacked(status->storage, NULL);
  free(status);
}

irt_status_t ireeclient_server_status(ireeclient_connection_t* connection,
                                      ireeclient_server_status_t** out_status) {
  *out_status = NULL;
  Ireed__StatusRequest request = IREED__STATUS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_STATUS;
  frame.status = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, -1, IREED__FRAME__BODY_STATUS_REPLY, &reply));
  const Ireed__StatusReply* source = reply->status_reply;
  ireeclient_server_status_t* status = calloc(1, sizeof(*status));
  ireeclient_device_info_t* devices =
      calloc(source->n_devices ? source->n_devices : 1, sizeof(*devices));
  if (!status || !devices) {
    free(status);
    free(devices);
    ireed__frame__free_unpacked(reply, NULL);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; i < source->n_devices; ++i) {
    devices[i].uri = ireeclient_or_empty(source->devices[i]->uri);
    devices[i].name = ireeclient_or_empty(source->devices[i]->name);
    devices[i].detail = ireeclient_or_empty(source->devices[i]->detail);
    devices[i].available = source->devices[i]->available;
  }
  status->software = ireeclient_or_empty(source->software);
  status->uptime_ms = source->uptime_ms;
  status->clients = source->clients;
  status->models = source->models;
  status->device_count = source->n_devices;
  status->devices = devices;
  status->storage = reply;
  *out_status = status;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Stats
//===----------------------------------------------------------------------===//

void ireeclient_stats_free(ireeclient_stats_t* stats) {
  if (!stats) return;
  free((void*)stats->models);
  free((void*)stats->devices);
  if (stats->storage) ireed__frame__free_unpacked(stats->storage, NULL);
  free(stats);
}

static ireeclient_latency_t ireeclient_latency_from(
    const Ireed__LatencyStats* source) {
  ireeclient_latency_t latency = {0};
  if (source) {
    latency.count = source->count;
    latency.sum_ns = source->sum_ns;
    latency.p50_ns = source->p50_ns;
    latency.p90_ns = source->p90_ns;
    latency.p99_ns = source->p99_ns;
  }
  return latency;
}

static void ireeclient_model_stats_from(const Ireed__ModelStats* source,
                                        ireeclient_model_stats_t* model) {
  model->name = ireeclient_or_empty(source->name);
  model->device = ireeclient_or_empty(source->device);
  model->invocations = source->invocations;
  model->errors = source->errors;
  model->busy_rejections = source->busy_rejections;
  model->in_flight = source->in_flight;
  model->queue = ireeclient_latency_from(source->queue);
  model->execute = ireeclient_latency_from(source->execute);
  model->bytes_zero_copy = source->bytes_zero_copy;
  model->bytes_staged = source->bytes_staged;
}

irt_status_t ireeclient_server_stats(ireeclient_connection_t* connection,
                                     ireeclient_stats_t** out_stats) {
  *out_stats = NULL;
  Ireed__StatsRequest request = IREED__STATS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_STATS;
  frame.stats = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, -1, IREED__FRAME__BODY_STATS_REPLY, &reply));
  const Ireed__StatsReply* source = reply->stats_reply;
  ireeclient_stats_t* stats = calloc(1, sizeof(*stats));
  ireeclient_model_stats_t* models =
      calloc(source->n_models ? source->n_models : 1, sizeof(*models));
  ireeclient_device_stats_t* devices =
      calloc(source->n_devices ? source->n_devices : 1, sizeof(*devices));
  if (!stats || !models || !devices) {
    free(stats);
    free(models);
    free(devices);
    ireed__frame__free_unpacked(reply, NULL);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; i < source->n_models; ++i) {
    ireeclient_model_stats_from(source->models[i], &models[i]);
  }
  for (size_t i = 0; i < source->n_devices; ++i) {
    devices[i].uri = ireeclient_or_empty(source->devices[i]->uri);
    devices[i].memory_in_use = source->devices[i]->memory_in_use;
    devices[i].memory_peak = source->devices[i]->memory_peak;
    devices[i].allocations = source->devices[i]->allocations;
  }
  stats->uptime_ms = source->uptime_ms;
  stats->clients = source->clients;
  stats->connections_accepted = source->connections_accepted;
  stats->connections_refused = source->connections_refused;
  stats->queued = source->queued;
  stats->workers = source->workers;
  stats->model_count = source->n_models;
  stats->models = models;
  stats->device_count = source->n_devices;
  stats->devices = devices;
  stats->storage = reply;
  *out_stats = stats;
  return IRT_OK;
}
// Reload
//===----------------------------------------------------------------------===//

irt_status_t ireeclient_reload(ireeclient_connection_t* connection,
                               ireeclient_reload_result_t** out_result) {
  *out_result = NULL;
  Ireed__ReloadRequest request = IREED__RELOAD_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_RELOAD;
  frame.reload = &request;
  Ireed__Frame* reply = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_connection_call(
      connection, &frame, -1, IREED__FRAME__BODY_RELOAD_REPLY, &reply));
  ireeclient_reload_result_t* result = calloc(1, sizeof(*result));
  if (!result) {
    ireed__frame__free_unpacked(reply, NULL);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  const Ireed__ReloadReply* source = reply->reload_reply;
  result->config_path = ireeclient_or_empty(source->config_path);
  result->loaded = (const char* const*)source->loaded;
  result->loaded_count = source->n_loaded;
  result->replaced = (const char* const*)source->replaced;
  result->replaced_count = source->n_replaced;
  result->unloaded = (const char* const*)source->unloaded;
  result->unloaded_count = source->n_unloaded;
  result->failed = (const char* const*)source->failed;
  result->failed_count = source->n_failed;
  result->storage = reply;
  *out_result = result;
  return IRT_OK;
}

void ireeclient_reload_result_free(ireeclient_reload_result_t* result) {
  if (!result) return;
  if (result->storage) ireed__frame__free_unpacked(result->storage, NULL);
  free(result);
}
