// `ireectl run --local`: loads compiled modules into an in-process runtime,
// calls one function with iree-run-module's flags and prints the results the
// way iree-run-module does (HAL spec 9.5). Any failure ends in one message
// on stderr and exit status 1; usage errors exit with 2.
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/run_flags.h"
#include "runtime/io/parameter_index.h"
#include "runtime/session/model.h"
#include "runtime/session/tensor.h"
#include "runtime/tooling/function_io.h"

#define IREECTL_RUN_DEFAULT_DEVICE "local-sync"

static const char kIreectlRunUsage[] =
    "usage: ireectl run --local [--device=DEVICE]\n"
    "           --module=PATH... --function=NAME [--input=SPEC]...\n"
    "           [--output=SPEC]... [--parameters=[SCOPE=]PATH]...\n"
    "           [--output_max_element_count=N]\n"
    "\n"
    "Runs NAME (\"module.function\", or a function of the last --module) in\n"
    "this process and prints its results like iree-run-module.\n"
    "  --device  local-sync (default), local-task, vulkan, vulkan://N,\n"
    "            vulkan://NAME, cuda or cuda://N (see `ireectl devices`)\n"
    "  --input   4xf32=1 2 3 4 | 2x2xi32=[1 2][3 4] | f32=3.5 | 4xf32=2 (splat)\n"
    "            | 1x4xui8=@raw.bin | @array.npy | +next.npy | *all.npy | (null)\n"
    "  --output  one per result: '' (discard), '-' (print), @file.npy or\n"
    "            @file.bin (write), +file.npy or +file.bin (append)\n";

//===----------------------------------------------------------------------===//
// Flags
//===----------------------------------------------------------------------===//

// Parses argv[1..] into |flags|; returns -1 to go on, else the exit status.
static int ireectl_run_parse_flags(int argc, char** argv,
                                   ireectl_run_flags_t* flags,
                                   bool* out_local) {
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
      fputs(kIreectlRunUsage, stdout);
      return 0;
    }
    if (strcmp(arg, "--local") == 0) {
      *out_local = true;
      continue;
    }
    int exit_code = -1;
    if (ireectl_run_flags_parse(argc, argv, &i, flags, &exit_code)) {
      if (exit_code >= 0) return exit_code;
      continue;
    }
    return ireectl_run_usage_error(kIreectlRunUsage,
                                   strncmp(arg, "--", 2) == 0
                                       ? "unknown flag '%s'"
                                       : "unexpected argument '%s'",
                                   arg);
  }
  if (flags->modules.count == 0) {
    return ireectl_run_usage_error(kIreectlRunUsage, "no --module given");
  }
  if (!flags->function) {
    return ireectl_run_usage_error(kIreectlRunUsage, "no --function given");
  }
  return -1;
}

//===----------------------------------------------------------------------===//
// Arguments
//===----------------------------------------------------------------------===//

static irt_status_t ireectl_make_argument(irhal_device_t* device,
                                          const irtool_input_t* input,
                                          irt_allocator_t allocator,
                                          irvm_variant_t* out_argument) {
  *out_argument = irvm_variant_empty();
  switch (input->kind) {
    case IRTOOL_INPUT_NULL:
      return IRT_OK;
    case IRTOOL_INPUT_VALUE:
      *out_argument = irvm_variant_from_value(input->value);
      return IRT_OK;
    case IRTOOL_INPUT_BUFFER: {
      irhal_buffer_t* buffer = NULL;
      IRT_RETURN_IF_ERROR(
          irsess_buffer_upload(device, input->tensor.data,
                               input->tensor.byte_length, &buffer));
      *out_argument =
          irvm_variant_from_ref(irvm_ref_wrap(buffer, irhal_buffer_type()));
      return IRT_OK;
    }
    default: {
      irhal_buffer_view_t* view = NULL;
      IRT_RETURN_IF_ERROR(irsess_buffer_view_upload(
          device, &input->tensor, allocator, &view));
      *out_argument =
          irvm_variant_from_ref(irvm_ref_wrap(view, irhal_buffer_view_type()));
      return IRT_OK;
    }
  }
}

// Parses every --input against the signature and makes the arguments.
static irt_status_t ireectl_make_arguments(const ireectl_run_flags_t* flags,
                                           irt_string_view_t signature,
                                           irhal_device_t* device,
                                           irt_allocator_t allocator,
                                           irvm_variant_t** out_arguments,
                                           size_t* out_count) {
  irtool_inputs_t inputs;
  irtool_inputs_initialize(signature, allocator, &inputs);
  irt_status_t status = ireectl_run_parse_inputs(flags, signature, &inputs);
  irvm_variant_t* arguments = NULL;
  if (irt_status_is_ok(status)) {
    arguments = calloc(inputs.count ? inputs.count : 1, sizeof(*arguments));
    if (!arguments) {
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
  }
  for (size_t i = 0; arguments && i < inputs.count; ++i) {
    status = ireectl_make_argument(device, &inputs.items[i], allocator,
                                   &arguments[i]);
    if (!irt_status_is_ok(status)) {
      status = irt_status_annotate(status, "making argument %zu", i);
      for (size_t j = 0; j < i; ++j) irvm_variant_release(&arguments[j]);
      free(arguments);
      arguments = NULL;
    }
  }
  *out_arguments = arguments;
  *out_count = arguments ? inputs.count : 0;
  irtool_inputs_deinitialize(&inputs);
  return status;
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

// A primitive result as a rank-0 tensor (for --output files).
static void ireectl_value_tensor(const irvm_value_t* value,
                                 irtool_tensor_t* out_tensor) {
  static const irhal_element_type_t kTypes[IRVM_VALUE_TYPE_COUNT] = {
      [IRVM_VALUE_TYPE_I8] = IRHAL_ELEMENT_TYPE_INT_8,
      [IRVM_VALUE_TYPE_I16] = IRHAL_ELEMENT_TYPE_INT_16,
      [IRVM_VALUE_TYPE_I32] = IRHAL_ELEMENT_TYPE_INT_32,
      [IRVM_VALUE_TYPE_I64] = IRHAL_ELEMENT_TYPE_INT_64,
      [IRVM_VALUE_TYPE_F32] = IRHAL_ELEMENT_TYPE_FLOAT_32,
      [IRVM_VALUE_TYPE_F64] = IRHAL_ELEMENT_TYPE_FLOAT_64,
  };
  memset(out_tensor, 0, sizeof(*out_tensor));
  out_tensor->element_type = kTypes[value->type];
  out_tensor->data = (uint8_t*)&value->i64;  // union members share it
  out_tensor->byte_length = irvm_value_type_size(value->type);
}

static void ireectl_print_value(const irvm_value_t* value, FILE* out) {
  switch (value->type) {
    case IRVM_VALUE_TYPE_I8: fprintf(out, "i8=%d\n", value->i8); break;
    case IRVM_VALUE_TYPE_I16: fprintf(out, "i16=%d\n", value->i16); break;
    case IRVM_VALUE_TYPE_I32: fprintf(out, "i32=%" PRId32 "\n", value->i32); break;
    case IRVM_VALUE_TYPE_I64: fprintf(out, "i64=%" PRId64 "\n", value->i64); break;
    case IRVM_VALUE_TYPE_F32: fprintf(out, "f32=%g\n", (double)value->f32); break;
    default: fprintf(out, "f64=%g\n", value->f64); break;
  }
}

// Writes the textual form of |variant| (HAL spec 9.5.3), lists recursively.
static irt_status_t ireectl_print_variant(irhal_device_t* device,
                                          const irvm_variant_t* variant,
                                          size_t max_element_count, FILE* out) {
  if (irvm_variant_is_value(variant)) {
    ireectl_print_value(&variant->value, out);
    return IRT_OK;
  }
  if (!irvm_variant_is_ref(variant)) {
    fputs("(null)\n", out);
    return IRT_OK;
  }
  irhal_buffer_view_t* view = irhal_buffer_view_deref(&variant->ref);
  if (view) {
    irtool_tensor_t tensor;
    IRT_RETURN_IF_ERROR(irsess_buffer_view_read(
        device, view, irt_allocator_system(), &tensor));
    irt_status_t status =
        ireectl_run_print_tensor(&tensor, max_element_count, out);
    irtool_tensor_free_data(&tensor);
    return status;
  }
  irvm_list_t* list = irvm_list_deref(&variant->ref);
  if (!list) {
    fprintf(out, "%s\n(no printer)\n", variant->ref.type->name);
    return IRT_OK;
  }
  uint32_t size = 0;
  IRT_RETURN_IF_ERROR(irvm_list_size(list, &size));
  fputs("vm.list\n", out);
  for (uint32_t i = 0; i < size; ++i) {
    irvm_variant_t element = irvm_variant_empty();
    IRT_RETURN_IF_ERROR(irvm_list_get_variant(list, i, &element));
    fprintf(out, "child_list[%" PRIu32 "]: ", i);
    irt_status_t status =
        ireectl_print_variant(device, &element, max_element_count, out);
    irvm_variant_release(&element);
    IRT_RETURN_IF_ERROR(status);
  }
  return IRT_OK;
}

// Result |variant| as a tensor for an --output file.
static irt_status_t ireectl_result_tensor(irhal_device_t* device,
                                          const irvm_variant_t* variant,
                                          irtool_tensor_t* out_tensor) {
  irhal_buffer_view_t* view = irhal_buffer_view_deref(&variant->ref);
  irhal_buffer_t* buffer = irhal_buffer_deref(&variant->ref);
  if (irvm_variant_is_value(variant)) {
    ireectl_value_tensor(&variant->value, out_tensor);
    return IRT_OK;
  }
  irt_allocator_t allocator = irt_allocator_system();
  if (view) return irsess_buffer_view_read(device, view, allocator, out_tensor);
  if (buffer) return irsess_buffer_read(device, buffer, allocator, out_tensor);
  return irt_make_status(IRT_STATUS_UNIMPLEMENTED,
                         "a %s result cannot be written to a file",
                         irvm_variant_is_ref(variant) ? variant->ref.type->name
                                                      : "null");
}

// ireectl_run_results_t over an array of variants of |device|.
typedef struct ireectl_local_results_s {
  irhal_device_t* device;
  const irvm_variant_t* values;
} ireectl_local_results_t;

static irt_status_t ireectl_results_print(void* self, size_t index,
                                          size_t max_element_count,
                                          FILE* out) {
  const ireectl_local_results_t* results = self;
  return ireectl_print_variant(results->device, &results->values[index],
                               max_element_count, out);
}

static irt_status_t ireectl_results_tensor(void* self, size_t index,
                                           irtool_tensor_t* out_tensor) {
  const ireectl_local_results_t* results = self;
  return ireectl_result_tensor(results->device, &results->values[index],
                               out_tensor);
}

static irt_status_t ireectl_emit_results(const ireectl_run_flags_t* flags,
                                         irhal_device_t* device,
                                         irvm_variant_t* results,
                                         size_t count) {
  ireectl_local_results_t local = {device, results};
  ireectl_run_results_t emitted = {
      .self = &local,
      .count = count,
      .print = ireectl_results_print,
      .tensor = ireectl_results_tensor,
  };
  return ireectl_run_emit_results(flags, &emitted);
}

//===----------------------------------------------------------------------===//
// Running
//===----------------------------------------------------------------------===//

static irt_status_t ireectl_invoke(const ireectl_run_flags_t* flags,
                                   irsess_model_t* model,
                                   irt_allocator_t allocator) {
  const irsess_function_t* function = NULL;
  IRT_RETURN_IF_ERROR(irsess_model_find_function(
      model, irt_make_cstring_view(flags->function), &function));
  irvm_variant_t* arguments = NULL;
  size_t argument_count = 0;
  IRT_RETURN_IF_ERROR(ireectl_make_arguments(
      flags, function->arguments, irsess_model_device(model), allocator,
      &arguments, &argument_count));
  size_t result_capacity = function->results.size;
  irvm_variant_t* results =
      calloc(result_capacity ? result_capacity : 1, sizeof(*results));
  size_t result_count = 0;
  irt_status_t status = IRT_OK;
  if (!results) {
    status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  if (irt_status_is_ok(status)) {
    printf("EXEC @%s\n", flags->function);
    status = irsess_model_invoke(model, function, NULL, arguments,
                                 argument_count, results, result_capacity,
                                 &result_count);
  }
  for (size_t i = 0; i < argument_count; ++i) {
    irvm_variant_release(&arguments[i]);
  }
  free(arguments);
  if (irt_status_is_ok(status)) {
    status = ireectl_emit_results(flags, irsess_model_device(model), results,
                                  result_count);
  }
  for (size_t i = 0; i < result_count; ++i) irvm_variant_release(&results[i]);
  free(results);
  return status;
}

// Loads the model (--parameters archives first, then the modules, then the
// device) and runs the function.
static irt_status_t ireectl_run_local(const ireectl_run_flags_t* flags) {
  irt_allocator_t allocator = irt_allocator_system();
  irio_parameter_index_t* parameters = NULL;
  IRT_RETURN_IF_ERROR(irio_parameter_index_create(allocator, &parameters));
  irt_status_t status = IRT_OK;
  for (size_t i = 0; i < flags->parameters.count && irt_status_is_ok(status);
       ++i) {
    status =
        irio_parameter_index_add_flag(parameters, flags->parameters.items[i]);
  }
  irsess_runtime_t* runtime = NULL;
  if (irt_status_is_ok(status)) {
    status = irsess_runtime_create(allocator, &runtime);
  }
  irsess_model_t* model = NULL;
  if (irt_status_is_ok(status)) {
    irsess_model_options_t model_options = {
        .device = flags->device,
        .module_paths = flags->modules.items,
        .module_count = flags->modules.count,
        .parameters = parameters,
    };
    status = irsess_model_load(runtime, &model_options, allocator, &model);
  }
  irio_parameter_index_release(parameters);  // the model keeps its own
  if (irt_status_is_ok(status)) {
    status = ireectl_invoke(flags, model, allocator);
  }
  irsess_model_release(model);
  irsess_runtime_destroy(runtime);
  return status;
}

// Prints |status| as the one error message of the run.
static int ireectl_run_report(irt_status_t status) {
  size_t length = irt_status_format_brief(status, NULL, 0);
  char* text = malloc(length + 1);
  if (text) irt_status_format_brief(status, text, length + 1);
  fflush(stdout);
  fprintf(stderr, "ireectl run: %s: %s\n",
          irt_status_code_string(irt_status_code(status)),
          text ? text : irt_status_message(status));
  free(text);
  irt_status_free(status);
  return 1;
}

int ireectl_cmd_run(int argc, char** argv) {
  ireectl_run_flags_t flags;
  bool local = false;
  int exit_code = ireectl_run_flags_initialize(argc, kIreectlRunUsage, &flags);
  flags.device = IREECTL_RUN_DEFAULT_DEVICE;
  if (exit_code < 0) {
    exit_code = ireectl_run_parse_flags(argc, argv, &flags, &local);
  }
  if (exit_code < 0 && !local) {
    exit_code = ireectl_run_usage_error(
        kIreectlRunUsage,
        "only --local runs are supported (the daemon cannot run functions "
        "yet)");
  }
  if (exit_code < 0) {
    irt_status_t status = ireectl_run_local(&flags);
    exit_code = irt_status_is_ok(status) ? 0 : ireectl_run_report(status);
  }
  ireectl_run_flags_deinitialize(&flags);
  return exit_code;
}
