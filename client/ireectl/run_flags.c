#include "client/ireectl/run_flags.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/ireectl/remote.h"

int ireectl_run_usage_error(const char* usage, const char* format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "ireectl run: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n%s", usage);
  va_end(args);
  return 2;
}

int ireectl_run_flags_initialize(int argc, const char* usage,
                                 ireectl_run_flags_t* out_flags) {
  memset(out_flags, 0, sizeof(*out_flags));
  out_flags->usage = usage;
  out_flags->max_element_count = IRTOOL_DEFAULT_MAX_ELEMENT_COUNT;
  ireectl_string_list_t* lists[] = {&out_flags->modules, &out_flags->inputs,
                                    &out_flags->outputs,
                                    &out_flags->parameters};
  for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); ++i) {
    lists[i]->items = calloc((size_t)argc, sizeof(char*));
    if (!lists[i]->items)
      return ireectl_run_usage_error(usage, "out of memory");
  }
  return -1;
}

void ireectl_run_flags_deinitialize(ireectl_run_flags_t* flags) {
  free(flags->modules.items);
  free(flags->inputs.items);
  free(flags->outputs.items);
  free(flags->parameters.items);
}

// Stores |value| of the flag |name| (one of the names parsed below).
static int ireectl_run_flags_set(ireectl_run_flags_t* flags, const char* name,
                                 const char* value) {
  ireectl_string_list_t* list = NULL;
  if (strcmp(name, "device") == 0) {
    flags->device = value;
  } else if (strcmp(name, "function") == 0) {
    flags->function = value;
  } else if (strcmp(name, "module") == 0) {
    list = &flags->modules;
  } else if (strcmp(name, "input") == 0) {
    list = &flags->inputs;
  } else if (strcmp(name, "output") == 0) {
    list = &flags->outputs;
  } else if (strcmp(name, "parameters") == 0) {
    list = &flags->parameters;
  } else {
    char* end = NULL;
    errno = 0;
    unsigned long long count = strtoull(value, &end, 10);
    if (!*value || *end || errno || value[0] == '-' || count > SIZE_MAX) {
      return ireectl_run_usage_error(
          flags->usage, "--output_max_element_count needs a count, not '%s'",
          value);
    }
    flags->max_element_count = (size_t)count;
  }
  if (list) list->items[list->count++] = value;
  return -1;
}

bool ireectl_run_flags_parse(int argc, char** argv, int* index,
                             ireectl_run_flags_t* flags, int* out_exit_code) {
  static const char* kNames[] = {"device",
                                 "function",
                                 "module",
                                 "input",
                                 "output",
                                 "parameters",
                                 "output_max_element_count"};
  for (size_t i = 0; i < sizeof(kNames) / sizeof(kNames[0]); ++i) {
    const char* arg = argv[*index];
    const char* value = NULL;
    bool missing = false;
    if (!ireectl_flag_value(argc, argv, index, kNames[i], &value, &missing)) {
      continue;
    }
    *out_exit_code = missing ? ireectl_run_usage_error(
                                   flags->usage, "flag '%s' needs a value", arg)
                             : ireectl_run_flags_set(flags, kNames[i], value);
    return true;
  }
  return false;
}

irt_status_t ireectl_run_flag_status(irt_status_t status, const char* flag,
                                     size_t index) {
  size_t length = irt_status_format_brief(status, NULL, 0);
  char* text = malloc(length + 1);
  if (!text) return status;
  irt_status_format_brief(status, text, length + 1);
  irt_status_t prefixed =
      irt_make_status(irt_status_code(status), "%s %zu: %s", flag, index, text);
  free(text);
  irt_status_free(status);
  return prefixed;
}

irt_status_t ireectl_run_parse_inputs(const ireectl_run_flags_t* flags,
                                      irt_string_view_t signature,
                                      irtool_inputs_t* inputs) {
  for (size_t i = 0; i < flags->inputs.count; ++i) {
    irt_status_t status = irtool_inputs_parse(
        inputs, irt_make_cstring_view(flags->inputs.items[i]));
    if (status) return ireectl_run_flag_status(status, "--input", i + 1);
  }
  if (inputs->count != signature.size) {
    return irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "function '%s' takes %zu argument%s (signature '%.*s') but the "
        "--input flags give %zu",
        flags->function, signature.size, signature.size == 1 ? "" : "s",
        IRT_SV_ARG(signature), inputs->count);
  }
  return IRT_OK;
}

irt_status_t ireectl_run_print_tensor(const irtool_tensor_t* tensor,
                                      size_t max_element_count, FILE* out) {
  fputs("hal.buffer_view\n", out);
  IRT_RETURN_IF_ERROR(irtool_tensor_format(tensor, max_element_count, out));
  fputc('\n', out);
  return IRT_OK;
}

// Handles result |index| for the --output spec |spec|.
static irt_status_t ireectl_run_emit_output(
    const ireectl_run_flags_t* flags, const ireectl_run_results_t* results,
    size_t index, const char* spec) {
  if (strcmp(spec, "-") == 0) {
    return results->print(results->self, index, flags->max_element_count,
                          stdout);
  }
  if (!*spec) return IRT_OK;  // discarded
  irtool_tensor_t tensor;
  IRT_RETURN_IF_ERROR(results->tensor(results->self, index, &tensor));
  irt_status_t status = irtool_output_write(irt_make_cstring_view(spec), &tensor);
  irtool_tensor_free_data(&tensor);
  return status;
}

irt_status_t ireectl_run_emit_results(const ireectl_run_flags_t* flags,
                                      const ireectl_run_results_t* results) {
  size_t count = results->count;
  if (flags->outputs.count && flags->outputs.count != count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%zu --output flags given but the function returned "
                           "%zu result%s",
                           flags->outputs.count, count, count == 1 ? "" : "s");
  }
  for (size_t i = 0; i < count; ++i) {
    if (results->fetch) IRT_RETURN_IF_ERROR(results->fetch(results->self, i));
    if (!flags->outputs.count) {
      printf("result[%zu]: ", i);
      IRT_RETURN_IF_ERROR(
          results->print(results->self, i, flags->max_element_count, stdout));
      continue;
    }
    irt_status_t status =
        ireectl_run_emit_output(flags, results, i, flags->outputs.items[i]);
    if (status) return ireectl_run_flag_status(status, "--output", i + 1);
  }
  return IRT_OK;
}
