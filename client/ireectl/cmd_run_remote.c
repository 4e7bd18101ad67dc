// `ireectl run` through the daemon (the default; `run --local` runs in this
// process, cmd_run.c). Takes run --local's flags and prints exactly what it
// prints; the inputs are parsed here (files are read by ireectl, not by the
// daemon) and travel inline or in shared memory.
//
//   ireectl run NAME --function=F --input=...         a loaded model
//   ireectl run --module=M.vmfb --function=F ...      loads M as a transient
//                                                     model, runs, unloads
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/remote.h"
#include "runtime/tooling/function_io.h"

static const char kRunUsage[] =
    "usage: ireectl [--socket PATH] run [NAME] [--module=PATH]...\n"
    "           --function=NAME [--input=SPEC]... [--output=SPEC]...\n"
    "           [--parameters=[SCOPE=]PATH]... [--device=DEVICE]\n"
    "           [--output_max_element_count=N]\n"
    "       ireectl run --local ... (in this process; see run --local --help)\n"
    "\n"
    "Runs a function through ireed and prints its results like\n"
    "iree-run-module: of the loaded model NAME, or of --module files loaded\n"
    "as a transient model (on --device, local-task by default) and unloaded\n"
    "afterwards. --input and --output take the same specs as run --local;\n"
    "files are read and written by ireectl.\n";

// Values point into argv.
typedef struct ireectl_remote_run_options_s {
  const char* model;
  const char* device;
  const char* function;
  size_t max_element_count;
  const char** modules;
  size_t module_count;
  const char** inputs;
  size_t input_count;
  const char** outputs;
  size_t output_count;
  const char** parameters;
  size_t parameter_count;
} ireectl_remote_run_options_t;

static int ireectl_remote_run_usage_error(const char* format, ...)
    IRT_PRINTF_LIKE(1, 2);
static int ireectl_remote_run_usage_error(const char* format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "ireectl run: ");
  vfprintf(stderr, format, args);
  fprintf(stderr, "\n%s", kRunUsage);
  va_end(args);
  return 2;
}

// Parses argv[1..]; returns -1 to go on, else the exit status.
static int ireectl_remote_run_parse(int argc, char** argv,
                                    ireectl_remote_run_options_t* options) {
  const char*** lists[] = {&options->modules, &options->inputs,
                           &options->outputs, &options->parameters};
  for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); ++i) {
    *lists[i] = calloc((size_t)argc, sizeof(char*));
    if (!*lists[i]) return ireectl_remote_run_usage_error("out of memory");
  }
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = NULL;
    bool missing = false;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(kRunUsage, stdout);
      return 0;
    }
    if (ireectl_flag_value(argc, argv, &i, "module", &value, &missing)) {
      if (value) options->modules[options->module_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "input", &value, &missing)) {
      if (value) options->inputs[options->input_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "output", &value, &missing)) {
      if (value) options->outputs[options->output_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "parameters", &value,
                                  &missing)) {
      if (value) options->parameters[options->parameter_count++] = value;
    } else if (ireectl_flag_value(argc, argv, &i, "function", &value,
                                  &missing)) {
      options->function = value;
    } else if (ireectl_flag_value(argc, argv, &i, "device", &value, &missing)) {
      options->device = value;
    } else if (ireectl_flag_value(argc, argv, &i, "socket", &value, &missing)) {
      ireectl_socket_path = value;
    } else if (ireectl_flag_value(argc, argv, &i, "output_max_element_count",
                                  &value, &missing)) {
      if (value) {
        char* end = NULL;
        unsigned long long count = strtoull(value, &end, 10);
        if (!*value || *end || value[0] == '-' || count > SIZE_MAX) {
          return ireectl_remote_run_usage_error(
              "--output_max_element_count needs a count, not '%s'", value);
        }
        options->max_element_count = (size_t)count;
      }
    } else if (arg[0] != '-' && !options->model) {
      options->model = arg;
    } else {
      return ireectl_remote_run_usage_error("unexpected argument '%s'", arg);
    }
    if (missing) {
      return ireectl_remote_run_usage_error("flag '%s' needs a value", arg);
    }
  }
  if (!options->function) {
    return ireectl_remote_run_usage_error("no --function given");
  }
  if (!options->model == !options->module_count) {
    return ireectl_remote_run_usage_error(
        options->model ? "give a model NAME or --module files, not both"
                       : "no model NAME or --module given");
  }
  if (options->model && (options->parameter_count || options->device)) {
    return ireectl_remote_run_usage_error(
        "--parameters and --device belong to the load of a model: use them "
        "with --module (or `ireectl load`)");
  }
  return -1;
}

static void ireectl_remote_run_options_free(
    ireectl_remote_run_options_t* options) {
  free(options->modules);
  free(options->inputs);
  free(options->outputs);
  free(options->parameters);
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

// Replaces |status| with one whose message starts with "--input N: ".
static irt_status_t ireectl_remote_prefix(irt_status_t status, const char* flag,
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

static irt_status_t ireectl_remote_add_input(
    ireeclient_invocation_t* invocation, const irtool_input_t* input) {
  switch (input->kind) {
    case IRTOOL_INPUT_VALUE:
      switch (input->value.type) {
        case IRVM_VALUE_TYPE_I32:
          return ireeclient_invocation_add_i32(invocation, input->value.i32);
        case IRVM_VALUE_TYPE_I64:
          return ireeclient_invocation_add_i64(invocation, input->value.i64);
        case IRVM_VALUE_TYPE_F32:
          return ireeclient_invocation_add_f32(invocation, input->value.f32);
        case IRVM_VALUE_TYPE_F64:
          return ireeclient_invocation_add_f64(invocation, input->value.f64);
        default:
          break;
      }
      break;
    case IRTOOL_INPUT_TENSOR:
      return ireeclient_invocation_add_tensor(
          invocation, input->tensor.element_type, input->tensor.shape,
          input->tensor.rank, input->tensor.data, input->tensor.byte_length);
    default:
      break;
  }
  return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                         "%s arguments cannot be passed through ireed (the "
                         "protocol carries i32, i64, f32, f64 and tensors); "
                         "use run --local",
                         input->kind == IRTOOL_INPUT_NULL     ? "null"
                         : input->kind == IRTOOL_INPUT_BUFFER ? "'&' buffer"
                                                              : "this");
}

// Parses every --input against the function's argument fragment and adds
// them to |invocation|.
static irt_status_t ireectl_remote_add_inputs(
    const ireectl_remote_run_options_t* options,
    const ireeclient_function_info_t* function,
    ireeclient_invocation_t* invocation) {
  // "0rr_r": the argument fragment lies between the version and '_'; "v"
  // stands for none.
  const char* cconv = function->calling_convention;
  const char* underscore = strchr(cconv, '_');
  irt_string_view_t signature = irt_make_string_view(
      cconv + 1, underscore ? (size_t)(underscore - cconv - 1) : 0);
  if (irt_string_view_equal_cstring(signature, "v")) signature.size = 0;
  irtool_inputs_t inputs;
  irtool_inputs_initialize(signature, irt_allocator_system(), &inputs);
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < options->input_count && !status; ++i) {
    status =
        irtool_inputs_parse(&inputs, irt_make_cstring_view(options->inputs[i]));
    if (status) status = ireectl_remote_prefix(status, "--input", i + 1);
  }
  if (!status && inputs.count != signature.size) {
    status = irt_make_status(
        IRT_STATUS_INVALID_ARGUMENT,
        "function '%s' takes %zu argument%s (signature '%.*s') but the "
        "--input flags give %zu",
        options->function, signature.size, signature.size == 1 ? "" : "s",
        IRT_SV_ARG(signature), inputs.count);
  }
  for (size_t i = 0; i < inputs.count && !status; ++i) {
    status = ireectl_remote_add_input(invocation, &inputs.items[i]);
    if (status) status = irt_status_annotate(status, "making argument %zu", i);
  }
  irtool_inputs_deinitialize(&inputs);
  return status;
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

// |value| as a tensor borrowing its bytes (primitives as rank 0).
static irt_status_t ireectl_remote_value_tensor(const ireeclient_value_t* value,
                                                irtool_tensor_t* out_tensor) {
  memset(out_tensor, 0, sizeof(*out_tensor));
  switch (value->type) {
    case IREECLIENT_VALUE_I32:
      out_tensor->element_type = IRHAL_ELEMENT_TYPE_INT_32;
      out_tensor->data = (uint8_t*)&value->i32;
      out_tensor->byte_length = sizeof(value->i32);
      return IRT_OK;
    case IREECLIENT_VALUE_I64:
      out_tensor->element_type = IRHAL_ELEMENT_TYPE_INT_64;
      out_tensor->data = (uint8_t*)&value->i64;
      out_tensor->byte_length = sizeof(value->i64);
      return IRT_OK;
    case IREECLIENT_VALUE_F32:
      out_tensor->element_type = IRHAL_ELEMENT_TYPE_FLOAT_32;
      out_tensor->data = (uint8_t*)&value->f32;
      out_tensor->byte_length = sizeof(value->f32);
      return IRT_OK;
    case IREECLIENT_VALUE_F64:
      out_tensor->element_type = IRHAL_ELEMENT_TYPE_FLOAT_64;
      out_tensor->data = (uint8_t*)&value->f64;
      out_tensor->byte_length = sizeof(value->f64);
      return IRT_OK;
    case IREECLIENT_VALUE_TENSOR:
      break;
    default:
      return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                             "a null result cannot be written to a file");
  }
  const ireeclient_tensor_t* tensor = &value->tensor;
  if (tensor->rank > IRTOOL_MAX_RANK || tensor->byte_length > SIZE_MAX) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "result tensor of rank %zu and %" PRIu64
                           " bytes is beyond what ireectl prints",
                           tensor->rank, tensor->byte_length);
  }
  out_tensor->element_type = tensor->element_type;
  out_tensor->rank = (uint32_t)tensor->rank;
  if (tensor->rank) {
    memcpy(out_tensor->shape, tensor->shape, tensor->rank * sizeof(uint64_t));
  }
  out_tensor->data = (uint8_t*)tensor->data;
  out_tensor->byte_length = (size_t)tensor->byte_length;
  return IRT_OK;
}

// The textual form of a result, as run --local prints it (HAL spec 9.5.3).
static irt_status_t ireectl_remote_print_value(const ireeclient_value_t* value,
                                               size_t max_element_count,
                                               FILE* out) {
  switch (value->type) {
    case IREECLIENT_VALUE_I32:
      fprintf(out, "i32=%" PRId32 "\n", value->i32);
      return IRT_OK;
    case IREECLIENT_VALUE_I64:
      fprintf(out, "i64=%" PRId64 "\n", value->i64);
      return IRT_OK;
    case IREECLIENT_VALUE_F32:
      fprintf(out, "f32=%g\n", (double)value->f32);
      return IRT_OK;
    case IREECLIENT_VALUE_F64:
      fprintf(out, "f64=%g\n", value->f64);
      return IRT_OK;
    case IREECLIENT_VALUE_TENSOR:
      break;
    default:
      fputs("(null)\n", out);
      return IRT_OK;
  }
  irtool_tensor_t tensor;
  IRT_RETURN_IF_ERROR(ireectl_remote_value_tensor(value, &tensor));
  fputs("hal.buffer_view\n", out);
  IRT_RETURN_IF_ERROR(irtool_tensor_format(&tensor, max_element_count, out));
  fputc('\n', out);
  return IRT_OK;
}

static irt_status_t ireectl_remote_emit_results(
    const ireectl_remote_run_options_t* options,
    const ireeclient_invocation_t* invocation) {
  size_t count = ireeclient_invocation_result_count(invocation);
  if (options->output_count && options->output_count != count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%zu --output flags given but the function returned "
                           "%zu result%s",
                           options->output_count, count, count == 1 ? "" : "s");
  }
  for (size_t i = 0; i < count; ++i) {
    ireeclient_value_t value;
    IRT_RETURN_IF_ERROR(ireeclient_invocation_result(invocation, i, &value));
    if (!options->output_count) {
      printf("result[%zu]: ", i);
      IRT_RETURN_IF_ERROR(ireectl_remote_print_value(
          &value, options->max_element_count, stdout));
      continue;
    }
    const char* spec = options->outputs[i];
    irt_status_t status = IRT_OK;
    if (strcmp(spec, "-") == 0) {
      status = ireectl_remote_print_value(&value, options->max_element_count,
                                          stdout);
    } else if (*spec) {
      irtool_tensor_t tensor;
      status = ireectl_remote_value_tensor(&value, &tensor);
      if (!status) {
        status = irtool_output_write(irt_make_cstring_view(spec), &tensor);
      }
    }
    if (status) return ireectl_remote_prefix(status, "--output", i + 1);
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

// NOT_FOUND listing the model's functions, worded like run --local's.
static irt_status_t ireectl_remote_no_function(
    const ireectl_remote_run_options_t* options,
    const ireeclient_model_info_t* model) {
  size_t length = 1;
  for (size_t i = 0; i < model->function_count; ++i) {
    length += strlen(model->functions[i].name) + 2;
  }
  char* names = malloc(length);
  if (!names) {
    return irt_make_status(IRT_STATUS_NOT_FOUND, "no function '%s'",
                           options->function);
  }
  names[0] = '\0';
  for (size_t i = 0; i < model->function_count; ++i) {
    if (i) strcat(names, ", ");
    strcat(names, model->functions[i].name);
  }
  irt_status_t status =
      options->model
          ? irt_make_status(IRT_STATUS_NOT_FOUND,
                            "no function '%s' in model '%s' (functions: %s)",
                            options->function, model->name, names)
          : irt_make_status(IRT_STATUS_NOT_FOUND,
                            "no function '%s' in the model (functions: %s)",
                            options->function, names);
  free(names);
  return status;
}

static irt_status_t ireectl_remote_invoke(
    const ireectl_remote_run_options_t* options,
    ireeclient_connection_t* connection, const ireeclient_model_info_t* model) {
  const ireeclient_function_info_t* function =
      ireeclient_model_find_function(model, options->function);
  if (!function) return ireectl_remote_no_function(options, model);
  ireeclient_invocation_t* invocation = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_invocation_create(
      connection, model->name, function->name, &invocation));
  irt_status_t status =
      ireectl_remote_add_inputs(options, function, invocation);
  if (!status) {
    printf("EXEC @%s\n", options->function);
    status = ireeclient_invoke(invocation);
  }
  if (!status) status = ireectl_remote_emit_results(options, invocation);
  ireeclient_invocation_destroy(invocation);
  return status;
}

// Runs on the loaded model |options->model|.
static irt_status_t ireectl_remote_run_loaded(
    const ireectl_remote_run_options_t* options,
    ireeclient_connection_t* connection) {
  ireeclient_model_list_t* list = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_list_models(connection, &list));
  const ireeclient_model_info_t* model = NULL;
  for (size_t i = 0; i < list->count && !model; ++i) {
    if (strcmp(list->models[i].name, options->model) == 0) {
      model = &list->models[i];
    }
  }
  irt_status_t status =
      model ? ireectl_remote_invoke(options, connection, model)
            : irt_make_status(IRT_STATUS_NOT_FOUND,
                              "ireed has no model named '%s' (see ireectl ps; "
                              "load one with ireectl load or pass --module)",
                              options->model);
  ireeclient_model_list_free(list);
  return status;
}

// Loads the --module files as a transient model, runs, unloads.
static irt_status_t ireectl_remote_run_transient(
    const ireectl_remote_run_options_t* options,
    ireeclient_connection_t* connection) {
  ireectl_model_source_t source;
  IRT_RETURN_IF_ERROR(ireectl_model_source_resolve(
      options->modules, options->module_count, options->parameters,
      options->parameter_count, &source));
  char name[64];
  snprintf(name, sizeof(name), "ireectl-run-%ld", (long)getpid());
  ireeclient_load_options_t load = {
      .name = name,
      .module_paths = source.module_paths,
      .module_count = source.module_count,
      .parameters = source.parameters,
      .parameter_count = source.parameter_count,
      .device = options->device,
  };
  ireeclient_model_list_t* loaded = NULL;
  irt_status_t status = ireeclient_load_model(connection, &load, &loaded);
  ireectl_model_source_free(&source);
  if (status) return status;
  status = ireectl_remote_invoke(options, connection, &loaded->models[0]);
  ireeclient_model_list_free(loaded);
  irt_status_t unload = ireeclient_unload_model(connection, name);
  if (!status) return unload;
  irt_status_free(unload);
  return status;
}

static int ireectl_cmd_run_remote(int argc, char** argv) {
  ireectl_remote_run_options_t options = {
      .max_element_count = IRTOOL_DEFAULT_MAX_ELEMENT_COUNT,
  };
  int exit_code = ireectl_remote_run_parse(argc, argv, &options);
  if (exit_code < 0) {
    ireeclient_connection_t* connection = NULL;
    irt_status_t status = ireectl_remote_connect(&connection);
    if (!status) {
      status = options.model
                   ? ireectl_remote_run_loaded(&options, connection)
                   : ireectl_remote_run_transient(&options, connection);
    }
    ireeclient_disconnect(connection);
    exit_code = status ? ireectl_report_error("run", status) : 0;
  }
  ireectl_remote_run_options_free(&options);
  return exit_code;
}

int ireectl_cmd_run_dispatch(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--local") == 0) return ireectl_cmd_run(argc, argv);
  }
  return ireectl_cmd_run_remote(argc, argv);
}
