// What `ireectl run --local` (cmd_run.c) and `ireectl run` through the daemon
// (cmd_run_remote.c) share: iree-run-module's flags, parsing --input specs
// against a signature and emitting results, so both print the same bytes.
#ifndef IREECTL_RUN_FLAGS_H
#define IREECTL_RUN_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runtime/base/status.h"
#include "runtime/base/string_view.h"
#include "runtime/tooling/function_io.h"

// Values point into argv.
typedef struct ireectl_string_list_s {
  const char** items;
  size_t count;
} ireectl_string_list_t;

typedef struct ireectl_run_flags_s {
  const char* usage;  // printed after every usage error
  const char* device;
  const char* function;
  size_t max_element_count;
  ireectl_string_list_t modules;
  ireectl_string_list_t inputs;
  ireectl_string_list_t outputs;
  ireectl_string_list_t parameters;
} ireectl_run_flags_t;

// Prints "ireectl run: <message>" and |usage| on stderr; returns 2.
int ireectl_run_usage_error(const char* usage, const char* format, ...)
    IRT_PRINTF_LIKE(2, 3);

// Makes room for |argc| values in every list (device and function NULL,
// the default element count). Returns -1 to go on, else the exit status.
int ireectl_run_flags_initialize(int argc, const char* usage,
                                 ireectl_run_flags_t* out_flags);
void ireectl_run_flags_deinitialize(ireectl_run_flags_t* flags);

// If argv[*index] is --device, --function, --module, --input, --output,
// --parameters or --output_max_element_count (`--NAME=VALUE`, or `--NAME`
// with the value next, which advances *index), stores it and returns true
// with *out_exit_code -1, or the exit status of a usage error. False for
// any other argument.
bool ireectl_run_flags_parse(int argc, char** argv, int* index,
                             ireectl_run_flags_t* flags, int* out_exit_code);

// Replaces |status| with one whose message starts with "FLAG INDEX: ".
irt_status_t ireectl_run_flag_status(irt_status_t status, const char* flag,
                                     size_t index);

// Parses every --input into |inputs| (initialized on |signature| by the
// caller) and checks that they give one argument per signature entry.
irt_status_t ireectl_run_parse_inputs(const ireectl_run_flags_t* flags,
                                      irt_string_view_t signature,
                                      irtool_inputs_t* inputs) IRT_MUST_USE;

// The results of one call, however the caller holds them.
typedef struct ireectl_run_results_s {
  void* self;
  size_t count;
  // Readies result |index| for the calls below; errors are reported as they
  // are (not as an --output's). May be NULL.
  irt_status_t (*fetch)(void* self, size_t index);
  // Writes the textual form of result |index| (HAL spec 9.5.3).
  irt_status_t (*print)(void* self, size_t index, size_t max_element_count,
                        FILE* out);
  // Result |index| as a tensor for an --output file (its data freed with
  // irtool_tensor_free_data once written).
  irt_status_t (*tensor)(void* self, size_t index, irtool_tensor_t* out_tensor);
} ireectl_run_results_t;

// Prints "hal.buffer_view", |tensor| and a newline (HAL spec 9.5.3).
irt_status_t ireectl_run_print_tensor(const irtool_tensor_t* tensor,
                                      size_t max_element_count, FILE* out);

// Without --output flags prints "result[i]: " and each result on stdout;
// with them (one per result) discards, prints ('-') or writes each result.
irt_status_t ireectl_run_emit_results(const ireectl_run_flags_t* flags,
                                      const ireectl_run_results_t* results);

#endif  // IREECTL_RUN_FLAGS_H
