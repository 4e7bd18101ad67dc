// ireectl's subcommands. Each takes the arguments after its name and returns
// the process exit status (0 ok, 1 failure, 2 usage error).
#ifndef IREECTL_COMMANDS_H
#define IREECTL_COMMANDS_H

typedef struct ireectl_command_s {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
} ireectl_command_t;

int ireectl_cmd_version(int argc, char** argv);
int ireectl_cmd_devices(int argc, char** argv);
int ireectl_cmd_inspect(int argc, char** argv);
int ireectl_cmd_run(int argc, char** argv);
int ireectl_cmd_params(int argc, char** argv);
// Daemon commands (cmd_remote.c, cmd_run_remote.c).
int ireectl_cmd_status(int argc, char** argv);
int ireectl_cmd_ps(int argc, char** argv);
int ireectl_cmd_load(int argc, char** argv);
int ireectl_cmd_unload(int argc, char** argv);
// cmd_stats.c
int ireectl_cmd_stats(int argc, char** argv);
int ireectl_cmd_metrics(int argc, char** argv);
int ireectl_cmd_reload(int argc, char** argv);
// `run`: through the daemon, or ireectl_cmd_run when --local is given.
int ireectl_cmd_run_dispatch(int argc, char** argv);

#endif  // IREECTL_COMMANDS_H
