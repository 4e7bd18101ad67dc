// What ireectl's daemon commands share: the socket to use, connecting,
// flag helpers and the one-line error report.
#ifndef IREECTL_REMOTE_H
#define IREECTL_REMOTE_H

#include <stdbool.h>
#include <stddef.h>

#include "client/lib/ireeclient.h"

// Set by main from `ireectl --socket PATH COMMAND ...`; a command's own
// --socket flag overrides it. NULL: $IREED_SOCKET, then the default.
extern const char* ireectl_socket_path;

// Connects to the daemon.
irt_status_t ireectl_remote_connect(ireeclient_connection_t** out_connection)
    IRT_MUST_USE;

// If |arg| is `--NAME=value` or `--NAME` (value in the next argument),
// stores the value and advances *index. Returns false for other arguments;
// a missing value sets *out_missing.
bool ireectl_flag_value(int argc, char** argv, int* index, const char* name,
                        const char** out_value, bool* out_missing);

// Parses commands whose only flags are --socket and, when |verbose| is
// given, -v/--functions; |*positional| receives up to |max_positional|
// plain arguments. Returns -1 to go on, else the exit status.
int ireectl_parse_simple(int argc, char** argv, const char* usage,
                         bool* verbose, const char** positional,
                         int max_positional, int* out_positional);

// Turns a path given on this command line into one the daemon can open
// (its working directory differs): absolute, symlinks resolved. NOT_FOUND
// naming |what| and the path when it does not exist. Free with free().
irt_status_t ireectl_absolute_path(const char* what, const char* path,
                                   char** out_path) IRT_MUST_USE;

// Module paths and parameter archives of a model to load, made absolute
// (see ireectl_absolute_path); strings and arrays are allocated.
typedef struct ireectl_model_source_s {
  const char** module_paths;
  size_t module_count;
  ireeclient_parameter_archive_t* parameters;
  size_t parameter_count;
} ireectl_model_source_t;

// Resolves --module paths and --parameters=[SCOPE=]PATH flags (split at the
// first '=', HAL spec 2.5). On failure nothing is left allocated.
irt_status_t ireectl_model_source_resolve(
    const char* const* modules, size_t module_count,
    const char* const* parameters, size_t parameter_count,
    ireectl_model_source_t* out_source) IRT_MUST_USE;
void ireectl_model_source_free(ireectl_model_source_t* source);

// Exit status of a command the daemon refused as busy (sysexits'
// EX_TEMPFAIL: try again later).
#define IREECTL_EXIT_BUSY 75

// Prints "ireectl COMMAND: CODE: message" on stderr (CODE "BUSY" for
// ireeclient_status_is_busy), frees |status| and returns 1, or
// IREECTL_EXIT_BUSY when busy.
int ireectl_report_error(const char* command, irt_status_t status);

#endif  // IREECTL_REMOTE_H
