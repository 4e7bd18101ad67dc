// The daemon's configuration (config/ireed.yaml documents every key): what
// the YAML file says, with defaults for what it leaves out. The parser
// (config.c) fills it; the server, access control, limits and preloads read
// it. Command-line flags given to ireed override the matching fields.
//
// Strings and arrays are owned by the config and freed by
// ireed_config_deinitialize.
#ifndef IREED_DAEMON_CONFIG_H
#define IREED_DAEMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/base/allocator.h"
#include "runtime/base/arena.h"
#include "runtime/base/status.h"

// A role granted to the peers a rule matches (SO_PEERCRED uid and gids).
// admin: load/unload/reload/stats/metrics and everything a client may do.
// client: list, invoke, register and unregister its own shm regions.
typedef enum ireed_role_e {
  IREED_ROLE_NONE = 0,
  IREED_ROLE_CLIENT = 1,
  IREED_ROLE_ADMIN = 2,
} ireed_role_t;

typedef struct ireed_access_rule_s {
  ireed_role_t role;
  uid_t* uids;  // resolved numeric ids (names are looked up while parsing)
  size_t uid_count;
  gid_t* gids;
  size_t gid_count;
} ireed_access_rule_t;

typedef struct ireed_access_config_s {
  // false (no `access:` key): every peer is admin, as before access control
  // existed; fine for a per-user daemon on a 0600 socket.
  bool enabled;
  ireed_access_rule_t admin;
  ireed_access_rule_t client;
} ireed_access_config_t;

typedef struct ireed_device_config_s {
  char* uri;                 // "local-sync", "local-task", "vulkan://0", "cuda"
  uint32_t worker_count;     // local-task workers; 0: driver default
  uint64_t staging_size;     // bytes of the file-transfer ring; 0: default
  char* pipeline_cache_dir;  // vulkan: persisted pipeline cache; NULL: none
} ireed_device_config_t;

typedef struct ireed_parameter_config_s {
  char* scope;  // "" for the default scope
  char* path;   // .irpa / .gguf / .safetensors
} ireed_parameter_config_t;

typedef struct ireed_model_config_s {
  char* name;
  char* module_path;
  ireed_parameter_config_t* parameters;
  size_t parameter_count;
  char* device;  // a device uri; NULL: the first configured device
  bool pinned;   // never unloaded for idleness
  uint32_t idle_unload_seconds;  // 0: never (pinned implies 0)
} ireed_model_config_t;

// Beyond a limit work is refused with a "busy" error, never queued
// (daemon/server.h); the defaults of zeros are defined there.
typedef struct ireed_limits_config_s {
  uint32_t max_clients;              // 0: unlimited
  uint32_t max_inflight_per_client;  // invocations; 0: default (256)
  size_t max_frame_size;             // 0: IREED_FRAME_DEFAULT_MAX_SIZE
  uint32_t queue_depth;              // invocations waiting for a worker; 0: 4096
  // SIGTERM: time left to in-flight work; 0: 30.
  uint32_t drain_timeout_seconds;
} ireed_limits_config_t;

typedef struct ireed_logging_config_s {
  char* level;  // "error", "warn", "info", "debug"; NULL: info
  bool json;    // structured JSON lines instead of key=value text
} ireed_logging_config_t;

typedef struct ireed_config_s {
  irt_allocator_t allocator;
  irt_arena_t arena;  // every string and array below
  char* source_path;  // the file it was read from (for reload), or NULL

  char* socket_path;     // NULL: the built-in default
  uint32_t socket_mode;  // permission bits of the socket file; 0: 0660
  char* socket_group;    // group owning the socket file; NULL: unchanged
  gid_t socket_gid;      // socket_group resolved (valid when it is set)

  uint32_t worker_count;  // invocation workers; 0: default
  ireed_access_config_t access;
  ireed_device_config_t* devices;
  size_t device_count;
  ireed_model_config_t* models;
  size_t model_count;
  ireed_limits_config_t limits;
  ireed_logging_config_t logging;
} ireed_config_t;

// An empty config: every field at its default.
void ireed_config_initialize(irt_allocator_t allocator, ireed_config_t* config);

// Module and parameter paths in the file may be relative: they are resolved
// against the directory of the config file, so the config holds absolute
// paths only.
//
// Parses |path|. Errors are INVALID_ARGUMENT (or the I/O error) with a
// message that starts "PATH:LINE:COL: " and names the key: unknown keys,
// wrong types, bad values, duplicates. On error |out_config| is left
// initialized and empty.
irt_status_t ireed_config_load_file(const char* path, irt_allocator_t allocator,
                                    ireed_config_t* out_config) IRT_MUST_USE;

// Parses |size| bytes of YAML named |source_name| in messages, resolving
// relative paths against |base_dir| (absolute). As ireed_config_load_file
// otherwise; source_path stays NULL.
irt_status_t ireed_config_parse(const char* source_name, const char* base_dir,
                                const uint8_t* data, size_t size,
                                irt_allocator_t allocator,
                                ireed_config_t* out_config) IRT_MUST_USE;

void ireed_config_deinitialize(ireed_config_t* config);

// The device a model runs on: its own, else the first configured device,
// else the daemon's default (local-task).
const char* ireed_config_model_device(const ireed_config_t* config,
                                      const ireed_model_config_t* model);

// True when |a| and |b| load the same thing: modules, parameters (scopes
// and paths, in order) and device. Pinning and idle times may differ.
bool ireed_config_model_same_load(const ireed_config_t* config_a,
                                  const ireed_model_config_t* a,
                                  const ireed_config_t* config_b,
                                  const ireed_model_config_t* b);

#endif  // IREED_DAEMON_CONFIG_H
