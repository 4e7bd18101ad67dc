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

#endif  // IREECTL_COMMANDS_H
