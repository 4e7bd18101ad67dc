// ireectl's daemon commands other than run: status, ps/list, load, unload,
// reload.
// Each connects to ireed (--socket, $IREED_SOCKET or the default socket),
// sends one request and prints the reply; any failure is one line on stderr
// and exit status 1, usage errors exit with 2.
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/remote.h"

static int ireectl_usage_error(const char* command, const char* usage,
                               const char* format, ...) IRT_PRINTF_LIKE(3, 4);
static int ireectl_usage_error(const char* command, const char* usage,
                               const char* format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "ireectl %s: ", command);
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n%s", usage);
  va_end(args);
  return 2;
}

static bool ireectl_is_help(const char* arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int ireectl_parse_simple(int argc, char** argv, const char* usage,
                                bool* verbose, const char** positional,
                                int max_positional, int* out_positional) {
  *out_positional = 0;
  for (int i = 1; i < argc; ++i) {
    bool missing = false;
    if (ireectl_is_help(argv[i])) {
      fputs(usage, stdout);
      return 0;
    }
    if (ireectl_flag_value(argc, argv, &i, "socket", &ireectl_socket_path,
                           &missing)) {
      if (missing) {
        return ireectl_usage_error(argv[0], usage, "--socket needs a path");
      }
      continue;
    }
    if (verbose &&
        (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--functions") == 0)) {
      *verbose = true;
      continue;
    }
    if (argv[i][0] == '-' || *out_positional == max_positional) {
      return ireectl_usage_error(argv[0], usage, "unexpected argument '%s'",
                                 argv[i]);
    }
    positional[(*out_positional)++] = argv[i];
  }
  return -1;
}

static void ireectl_print_functions(const ireeclient_model_info_t* model) {
  for (size_t i = 0; i < model->function_count; ++i) {
    const ireeclient_function_info_t* function = &model->functions[i];
    printf("    %-24s %s%s%s\n", function->name, function->calling_convention,
           *function->declaration ? "  " : "", function->declaration);
  }
}

//===----------------------------------------------------------------------===//
// status
//===----------------------------------------------------------------------===//

static const char kStatusUsage[] =
    "usage: ireectl [--socket PATH] status\n"
    "\n"
    "Prints the daemon's version, uptime, clients, models and devices.\n";

int ireectl_cmd_status(int argc, char** argv) {
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kStatusUsage, NULL, NULL, 0,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireectl_remote_connect(&connection);
  ireeclient_server_status_t* server = NULL;
  if (!status) status = ireeclient_server_status(connection, &server);
  ireeclient_disconnect(connection);
  if (status) return ireectl_report_error("status", status);
  uint64_t seconds = server->uptime_ms / 1000;
  printf("%s\n", server->software);
  printf("uptime:  %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64 "\n",
         seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60);
  printf("clients: %" PRIu32 "\n", server->clients);
  printf("models:  %" PRIu32 "\n", server->models);
  printf("devices:\n");
  for (size_t i = 0; i < server->device_count; ++i) {
    const ireeclient_device_info_t* device = &server->devices[i];
    printf("  %-12s %s%s%s%s\n", device->uri,
           device->available ? "" : "(unavailable) ", device->name,
           *device->name && *device->detail ? ": " : "", device->detail);
  }
  ireeclient_server_status_free(server);
  return 0;
}

//===----------------------------------------------------------------------===//
// ps / list
//===----------------------------------------------------------------------===//

static const char kPsUsage[] =
    "usage: ireectl [--socket PATH] ps [-v|--functions]\n"
    "\n"
    "Lists the models ireed has loaded (`list` is the same command);\n"
    "-v also lists each model's functions.\n";

int ireectl_cmd_ps(int argc, char** argv) {
  bool verbose = false;
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kPsUsage, &verbose, NULL, 0,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireectl_remote_connect(&connection);
  ireeclient_model_list_t* list = NULL;
  if (!status) status = ireeclient_list_models(connection, &list);
  ireeclient_disconnect(connection);
  if (status) return ireectl_report_error(argv[0], status);
  printf("%-20s %-12s %12s %8s  %s\n", "NAME", "DEVICE", "INVOCATIONS",
         "ERRORS", "MODULES");
  for (size_t i = 0; i < list->count; ++i) {
    const ireeclient_model_info_t* model = &list->models[i];
    printf("%-20s %-12s %12" PRIu64 " %8" PRIu64 " ", model->name,
           model->device, model->invocations, model->errors);
    for (size_t j = 0; j < model->module_count; ++j) {
      printf(" %s", model->module_paths[j]);
    }
    putchar('\n');
    if (verbose) ireectl_print_functions(model);
  }
  ireeclient_model_list_free(list);
  return 0;
}

//===----------------------------------------------------------------------===//
// load
//===----------------------------------------------------------------------===//

static const char kLoadUsage[] =
    "usage: ireectl [--socket PATH] load NAME --module=PATH...\n"
    "           [--parameters=[SCOPE=]PATH]... [--device=DEVICE]\n"
    "\n"
    "Loads the modules (in registration order; the last is the model) into\n"
    "ireed as model NAME, on DEVICE (local-task by default).\n";

int ireectl_cmd_load(int argc, char** argv) {
  const char* name = NULL;
  const char* device = NULL;
  const char** modules = calloc((size_t)argc, sizeof(char*));
  const char** parameters = calloc((size_t)argc, sizeof(char*));
  size_t module_count = 0, parameter_count = 0;
  int exit_code = -1;
  if (!modules || !parameters) {
    exit_code = ireectl_usage_error("load", kLoadUsage, "out of memory");
  }
  for (int i = 1; i < argc && exit_code < 0; ++i) {
    const char* value = NULL;
    bool missing = false;
    if (ireectl_is_help(argv[i])) {
      fputs(kLoadUsage, stdout);
      exit_code = 0;
    } else if (ireectl_flag_value(argc, argv, &i, "module", &value, &missing)) {
      if (value) modules[module_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "parameters", &value,
                                  &missing)) {
      if (value) parameters[parameter_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "device", &value, &missing)) {
      device = value;
    } else if (ireectl_flag_value(argc, argv, &i, "socket", &value, &missing)) {
      ireectl_socket_path = value;
    } else if (argv[i][0] != '-' && !name) {
      name = argv[i];
    } else {
      exit_code = ireectl_usage_error("load", kLoadUsage,
                                      "unexpected argument '%s'", argv[i]);
    }
    if (missing) {
      exit_code = ireectl_usage_error("load", kLoadUsage,
                                      "flag '%s' needs a value", argv[i]);
    }
  }
  if (exit_code < 0 && !name) {
    exit_code = ireectl_usage_error("load", kLoadUsage, "no model NAME given");
  }
  if (exit_code < 0 && module_count == 0) {
    exit_code = ireectl_usage_error("load", kLoadUsage, "no --module given");
  }
  if (exit_code < 0) {
    ireectl_model_source_t source;
    irt_status_t status = ireectl_model_source_resolve(
        modules, module_count, parameters, parameter_count, &source);
    ireeclient_connection_t* connection = NULL;
    if (!status) status = ireectl_remote_connect(&connection);
    ireeclient_model_list_t* loaded = NULL;
    if (!status) {
      ireeclient_load_options_t options = {
          .name = name,
          .module_paths = source.module_paths,
          .module_count = source.module_count,
          .parameters = source.parameters,
          .parameter_count = source.parameter_count,
          .device = device,
      };
      status = ireeclient_load_model(connection, &options, &loaded);
      ireectl_model_source_free(&source);
    }
    ireeclient_disconnect(connection);
    if (status) {
      exit_code = ireectl_report_error("load", status);
    } else {
      const ireeclient_model_info_t* model = &loaded->models[0];
      printf("loaded %s on %s (%zu function%s)\n", model->name, model->device,
             model->function_count, model->function_count == 1 ? "" : "s");
      ireectl_print_functions(model);
      ireeclient_model_list_free(loaded);
      exit_code = 0;
    }
  }
  free(modules);
  free(parameters);
  return exit_code;
}

//===----------------------------------------------------------------------===//
// unload
//===----------------------------------------------------------------------===//

static const char kUnloadUsage[] =
    "usage: ireectl [--socket PATH] unload NAME\n"
    "\n"
    "Unloads model NAME; invocations in flight finish first.\n";

int ireectl_cmd_unload(int argc, char** argv) {
  const char* name = NULL;
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kUnloadUsage, NULL, &name, 1,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  if (!name) {
    return ireectl_usage_error("unload", kUnloadUsage, "no model NAME given");
  }
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireectl_remote_connect(&connection);
  if (!status) status = ireeclient_unload_model(connection, name);
  ireeclient_disconnect(connection);
  if (status) return ireectl_report_error("unload", status);
  printf("unloaded %s\n", name);
  return 0;
}

//===----------------------------------------------------------------------===//
// reload
//===----------------------------------------------------------------------===//

static const char kReloadUsage[] =
    "usage: ireectl [--socket PATH] reload\n"
    "\n"
    "Makes ireed re-read its config file (as SIGHUP does) and apply the\n"
    "difference: added models are loaded, removed ones unloaded, changed ones\n"
    "swapped in without failing invocations in flight. Prints what changed;\n"
    "exits 1 when a model failed to load or the config is invalid.\n";

static void ireectl_print_names(const char* label, const char* const* names,
                                size_t count) {
  if (!count) return;
  printf("%-9s", label);
  for (size_t i = 0; i < count; ++i) printf(" %s", names[i]);
  printf("\n");
}

int ireectl_cmd_reload(int argc, char** argv) {
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kReloadUsage, NULL, NULL, 0,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireectl_remote_connect(&connection);
  ireeclient_reload_result_t* result = NULL;
  if (!status) status = ireeclient_reload(connection, &result);
  ireeclient_disconnect(connection);
  if (status) return ireectl_report_error("reload", status);
  printf("reloaded %s\n", result->config_path);
  ireectl_print_names("loaded:", result->loaded, result->loaded_count);
  ireectl_print_names("replaced:", result->replaced, result->replaced_count);
  ireectl_print_names("unloaded:", result->unloaded, result->unloaded_count);
  for (size_t i = 0; i < result->failed_count; ++i) {
    fprintf(stderr, "ireectl: reload: %s\n", result->failed[i]);
  }
  exit_code = result->failed_count ? 1 : 0;
  ireeclient_reload_result_free(result);
  return exit_code;
}
