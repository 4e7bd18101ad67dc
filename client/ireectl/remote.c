#include "client/ireectl/remote.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char* ireectl_socket_path = NULL;

irt_status_t ireectl_remote_connect(ireeclient_connection_t** out_connection) {
  char software[64];
  snprintf(software, sizeof(software), "ireectl %s", IREED_VERSION);
  ireeclient_options_t options = {
      .socket_path = ireectl_socket_path,
      .software = software,
  };
  return ireeclient_connect(&options, out_connection);
}

bool ireectl_flag_value(int argc, char** argv, int* index, const char* name,
                        const char** out_value, bool* out_missing) {
  const char* arg = argv[*index];
  size_t length = strlen(name);
  if (strncmp(arg, "--", 2) != 0 || strncmp(arg + 2, name, length) != 0) {
    return false;
  }
  const char* rest = arg + 2 + length;
  if (*rest == '=') {
    *out_value = rest + 1;
    return true;
  }
  if (*rest != '\0') return false;
  if (*index + 1 >= argc) {
    *out_missing = true;
    return true;
  }
  *out_value = argv[++*index];
  return true;
}

irt_status_t ireectl_absolute_path(const char* what, const char* path,
                                   char** out_path) {
  *out_path = realpath(path, NULL);
  if (!*out_path) {
    return irt_make_status(
        errno == ENOENT ? IRT_STATUS_NOT_FOUND : IRT_STATUS_PERMISSION_DENIED,
        "cannot open %s '%s': %s", what, path, strerror(errno));
  }
  return IRT_OK;
}

int ireectl_report_error(const char* command, irt_status_t status) {
  size_t length = irt_status_format_brief(status, NULL, 0);
  char* text = malloc(length + 1);
  if (text) irt_status_format_brief(status, text, length + 1);
  fflush(stdout);
  bool busy = ireeclient_status_is_busy(status);
  fprintf(stderr, "ireectl %s: %s: %s\n", command,
          busy ? "BUSY" : irt_status_code_string(irt_status_code(status)),
          text ? text : irt_status_message(status));
  free(text);
  irt_status_free(status);
  return busy ? IREECTL_EXIT_BUSY : 1;
}

// Splits "[SCOPE=]PATH" at the first '=' (HAL spec 2.5) and makes the path
// absolute; both strings are allocated.
static irt_status_t ireectl_parse_parameters(
    const char* flag, ireeclient_parameter_archive_t* out_archive) {
  const char* equals = strchr(flag, '=');
  char* scope = equals ? strndup(flag, (size_t)(equals - flag)) : strdup("");
  if (!scope) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  char* path = NULL;
  irt_status_t status = ireectl_absolute_path(
      "parameter archive", equals ? equals + 1 : flag, &path);
  if (status) {
    free(scope);
    return status;
  }
  out_archive->scope = scope;
  out_archive->path = path;
  return IRT_OK;
}

void ireectl_model_source_free(ireectl_model_source_t* source) {
  for (size_t i = 0; i < source->module_count; ++i) {
    free((char*)source->module_paths[i]);
  }
  free(source->module_paths);
  for (size_t i = 0; i < source->parameter_count; ++i) {
    free((char*)source->parameters[i].scope);
    free((char*)source->parameters[i].path);
  }
  free(source->parameters);
  memset(source, 0, sizeof(*source));
}

irt_status_t ireectl_model_source_resolve(const char* const* modules,
                                          size_t module_count,
                                          const char* const* parameters,
                                          size_t parameter_count,
                                          ireectl_model_source_t* out_source) {
  memset(out_source, 0, sizeof(*out_source));
  out_source->module_paths =
      calloc(module_count ? module_count : 1, sizeof(char*));
  out_source->parameters = calloc(parameter_count ? parameter_count : 1,
                                  sizeof(*out_source->parameters));
  irt_status_t status = IRT_OK;
  if (!out_source->module_paths || !out_source->parameters) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  for (size_t i = 0; !status && i < module_count; ++i) {
    char* path = NULL;
    status = ireectl_absolute_path("module", modules[i], &path);
    if (!status) out_source->module_paths[out_source->module_count++] = path;
  }
  for (size_t i = 0; !status && i < parameter_count; ++i) {
    status = ireectl_parse_parameters(
        parameters[i], &out_source->parameters[out_source->parameter_count]);
    if (!status) ++out_source->parameter_count;
  }
  if (status) ireectl_model_source_free(out_source);
  return status;
}
