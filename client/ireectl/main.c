// ireectl: the command-line client of ireed.
#include <stdio.h>
#include <string.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/remote.h"
#include "runtime/base/version.h"

static const ireectl_command_t ireectl_commands[] = {
    {"version", "print the versions of ireectl and the formats it speaks",
     ireectl_cmd_version},
    {"devices", "list the devices each built-in driver can reach",
     ireectl_cmd_devices},
    {"inspect", "print the contents of a compiled module (.vmfb)",
     ireectl_cmd_inspect},
    {"run", "run a function through ireed (--local: in this process)",
     ireectl_cmd_run_dispatch},
    {"params", "list parameter archives (.irpa/.gguf/.safetensors), create .irpa",
     ireectl_cmd_params},
    {"status", "show ireed's version, uptime, clients and devices",
     ireectl_cmd_status},
    {"ps", "list the models ireed has loaded", ireectl_cmd_ps},
    {"list", "same as ps", ireectl_cmd_ps},
    {"load", "load a model into ireed", ireectl_cmd_load},
    {"unload", "unload a model from ireed", ireectl_cmd_unload},
    {"stats", "show ireed's counters, latencies and device memory",
     ireectl_cmd_stats},
    {"metrics", "print ireed's stats as Prometheus text", ireectl_cmd_metrics},
    {"reload", "make ireed re-read its config file", ireectl_cmd_reload},
};
#define IREECTL_COMMAND_COUNT \
  (sizeof(ireectl_commands) / sizeof(ireectl_commands[0]))

static void ireectl_print_usage(FILE* out) {
  fprintf(out,
          "usage: ireectl [--socket PATH] COMMAND [ARGS...]\n\n"
          "The daemon commands talk to ireed at --socket, $IREED_SOCKET,\n"
          "$XDG_RUNTIME_DIR/ireed.sock when it exists, or "
          "/run/ireed/ireed.sock.\n\ncommands:\n");
  for (size_t i = 0; i < IREECTL_COMMAND_COUNT; ++i) {
    fprintf(out, "  %-10s %s\n", ireectl_commands[i].name,
            ireectl_commands[i].summary);
  }
}

int main(int argc, char** argv) {
  if (argc < 2) {
    ireectl_print_usage(stderr);
    return 2;
  }
  // Global options before the command name.
  int first = 1;
  while (first < argc && strncmp(argv[first], "--socket", 8) == 0 &&
         (argv[first][8] == '=' || argv[first][8] == '\0')) {
    if (argv[first][8] == '=') {
      ireectl_socket_path = argv[first] + 9;
    } else if (first + 1 < argc) {
      ireectl_socket_path = argv[++first];
    } else {
      fprintf(stderr, "ireectl: --socket needs a path\n");
      return 2;
    }
    ++first;
  }
  if (first == argc) {
    ireectl_print_usage(stderr);
    return 2;
  }
  argc -= first - 1;
  argv += first - 1;
  const char* name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
      strcmp(name, "help") == 0) {
    ireectl_print_usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0) name = "version";
  for (size_t i = 0; i < IREECTL_COMMAND_COUNT; ++i) {
    if (strcmp(name, ireectl_commands[i].name) == 0) {
      return ireectl_commands[i].run(argc - 1, argv + 1);
    }
  }
  fprintf(stderr, "ireectl: unknown command '%s' (see 'ireectl --help')\n",
          name);
  return 2;
}
