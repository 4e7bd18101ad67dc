// `ireectl run` through the daemon (the default; `run --local` runs in this
// process, cmd_run.c). Takes run --local's flags and prints exactly what it
// prints; the inputs are parsed here (files are read by ireectl, not by the
// daemon) and travel inline or in shared memory.
//
//   ireectl run NAME --function=F --input=...         a loaded model
//   ireectl run --module=M.vmfb --function=F ...      loads M as a transient
//                                                     model, runs, unloads
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/remote.h"
#include "client/ireectl/run_flags.h"
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

typedef struct ireectl_remote_run_options_s {
  const char* model;  // points into argv
  ireectl_run_flags_t flags;
} ireectl_remote_run_options_t;

// Parses argv[1..]; returns -1 to go on, else the exit status.
static int ireectl_remote_run_parse(int argc, char** argv,
                                    ireectl_remote_run_options_t* options) {
  ireectl_run_flags_t* flags = &options->flags;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = NULL;
    bool missing = false;
    int exit_code = -1;
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(kRunUsage, stdout);
      return 0;
    }
    if (ireectl_run_flags_parse(argc, argv, &i, flags, &exit_code)) {
      if (exit_code >= 0) return exit_code;
    } else if (ireectl_flag_value(argc, argv, &i, "socket", &value, &missing)) {
      ireectl_socket_path = value;
    } else if (arg[0] != '-' && !options->model) {
      options->model = arg;
    } else {
      return ireectl_run_usage_error(kRunUsage, "unexpected argument '%s'",
                                     arg);
    }
    if (missing) {
      return ireectl_run_usage_error(kRunUsage, "flag '%s' needs a value", arg);
    }
  }
  if (!flags->function) {
    return ireectl_run_usage_error(kRunUsage, "no --function given");
  }
  if (!options->model == !flags->modules.count) {
    return ireectl_run_usage_error(
        kRunUsage, options->model
                       ? "give a model NAME or --module files, not both"
                       : "no model NAME or --module given");
  }
  if (options->model && (flags->parameters.count || flags->device)) {
    return ireectl_run_usage_error(
        kRunUsage,
        "--parameters and --device belong to the load of a model: use them "
        "with --module (or `ireectl load`)");
  }
  return -1;
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

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
  irt_status_t status =
      ireectl_run_parse_inputs(&options->flags, signature, &inputs);
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
  return ireectl_run_print_tensor(&tensor, max_element_count, out);
}

// ireectl_run_results_t over an invocation's results, fetched one at a time.
typedef struct ireectl_remote_results_s {
  const ireeclient_invocation_t* invocation;
  ireeclient_value_t value;  // the result last fetched
} ireectl_remote_results_t;

static irt_status_t ireectl_remote_results_fetch(void* self, size_t index) {
  ireectl_remote_results_t* results = self;
  return ireeclient_invocation_result(results->invocation, index,
                                      &results->value);
}

static irt_status_t ireectl_remote_results_print(void* self, size_t index,
                                                 size_t max_element_count,
                                                 FILE* out) {
  (void)index;  // fetched
  ireectl_remote_results_t* results = self;
  return ireectl_remote_print_value(&results->value, max_element_count, out);
}

static irt_status_t ireectl_remote_results_tensor(void* self, size_t index,
                                                  irtool_tensor_t* out_tensor) {
  (void)index;  // fetched
  ireectl_remote_results_t* results = self;
  return ireectl_remote_value_tensor(&results->value, out_tensor);
}

static irt_status_t ireectl_remote_emit_results(
    const ireectl_remote_run_options_t* options,
    const ireeclient_invocation_t* invocation) {
  ireectl_remote_results_t results = {.invocation = invocation};
  ireectl_run_results_t emitted = {
      .self = &results,
      .count = ireeclient_invocation_result_count(invocation),
      .fetch = ireectl_remote_results_fetch,
      .print = ireectl_remote_results_print,
      .tensor = ireectl_remote_results_tensor,
  };
  return ireectl_run_emit_results(&options->flags, &emitted);
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
                           options->flags.function);
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
                            options->flags.function, model->name, names)
          : irt_make_status(IRT_STATUS_NOT_FOUND,
                            "no function '%s' in the model (functions: %s)",
                            options->flags.function, names);
  free(names);
  return status;
}

static irt_status_t ireectl_remote_invoke(
    const ireectl_remote_run_options_t* options,
    ireeclient_connection_t* connection, const ireeclient_model_info_t* model) {
  const ireeclient_function_info_t* function =
      ireeclient_model_find_function(model, options->flags.function);
  if (!function) return ireectl_remote_no_function(options, model);
  ireeclient_invocation_t* invocation = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_invocation_create(
      connection, model->name, function->name, &invocation));
  irt_status_t status =
      ireectl_remote_add_inputs(options, function, invocation);
  if (!status) {
    printf("EXEC @%s\n", options->flags.function);
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
      options->flags.modules.items, options->flags.modules.count,
      options->flags.parameters.items, options->flags.parameters.count,
      &source));
  char name[64];
  snprintf(name, sizeof(name), "ireectl-run-%ld", (long)getpid());
  ireeclient_load_options_t load = {
      .name = name,
      .module_paths = source.module_paths,
      .module_count = source.module_count,
      .parameters = source.parameters,
      .parameter_count = source.parameter_count,
      .device = options->flags.device,
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
  ireectl_remote_run_options_t options = {0};
  int exit_code = ireectl_run_flags_initialize(argc, kRunUsage, &options.flags);
  if (exit_code < 0) exit_code = ireectl_remote_run_parse(argc, argv, &options);
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
  ireectl_run_flags_deinitialize(&options.flags);
  return exit_code;
}

int ireectl_cmd_run_dispatch(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--local") == 0) return ireectl_cmd_run(argc, argv);
  }
  return ireectl_cmd_run_remote(argc, argv);
}
