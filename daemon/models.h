// The daemon's model registry: models by name, loaded once and shared by
// every client. Entries belong to the event loop thread; only the load job
// (ireed_model_entry_load, on a worker) fills an entry in, before the loop
// sees it again.
//
// Life of an entry: LOADING (a worker runs the load; LoadModel requests for
// the same name and the same files wait for it) -> READY (invocations run;
// each holds the entry through |in_flight|) -> UNLOADING (the name refuses
// new work; the UnloadModel reply waits until in-flight invocations have
// finished and a worker released the model) -> gone.
#ifndef IREED_DAEMON_MODELS_H
#define IREED_DAEMON_MODELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/stats.h"
#include "ireed.pb-c.h"
#include "runtime/base/arena.h"
#include "runtime/session/model.h"

typedef enum ireed_model_state_e {
  IREED_MODEL_LOADING = 0,
  IREED_MODEL_READY = 1,
  IREED_MODEL_UNLOADING = 2,
} ireed_model_state_t;

// Default device of LoadModel requests that name none.
#define IREED_DEFAULT_DEVICE "local-task"
// Longest model name accepted.
#define IREED_MODEL_NAME_MAX 256

typedef struct ireed_model_entry_s ireed_model_entry_t;
struct ireed_model_entry_s {
  ireed_model_entry_t* next;
  ireed_model_state_t state;
  irt_arena_t arena;  // the strings below
  // What was asked for (LoadModel), as ModelInfo reports it.
  char* name;
  char* device;
  size_t module_count;
  char** module_paths;
  size_t parameter_count;
  char** parameter_scopes;
  char** parameter_paths;
  // Set when READY: the identities of the module and parameter files as
  // they were mapped, against which reloads tell a replaced file.
  irio_file_identity_t* module_identities;
  irio_file_identity_t* parameter_identities;
  irsess_model_t* model;
  size_t function_count;
  Ireed__FunctionInfo* functions;
  Ireed__FunctionInfo** function_pointers;
  uint32_t in_flight;     // invocations holding the entry
  ireed_model_stats_t stats;  // since the entry was created
  // When the last invocation started (or the load), by the coarse clock.
  uint64_t last_used_ns;
  // Models of the config (the server's "Configured models"): reloads load,
  // replace and unload them; unpinned ones unload after idle_unload_seconds
  // without invocations.
  bool configured;
  bool settles_reload;  // the running reload waits for this load
  bool pinned;
  uint32_t idle_unload_seconds;
  // A new version loading for a reload: invisible by name until loaded,
  // then it takes over |replaces|' name.
  ireed_model_entry_t* replaces;
  // A replaced version: invisible by name, unloading once its in-flight
  // invocations finished.
  bool retired;
  // The server's: replies waiting on a state change, and the job that loads
  // and later releases the model (allocated with the entry, so starting an
  // unload cannot fail).
  void* waiters;
  void* parked;  // InvokeRequests waiting for the load
  void* job;
};

// Checks a model name: 1 to IREED_MODEL_NAME_MAX bytes, no control
// characters.
irt_status_t ireed_model_check_name(const char* name) IRT_MUST_USE;

// Checks a LoadModel request (a name, at least one module, absolute paths)
// and creates a LOADING entry from it.
irt_status_t ireed_model_entry_create(
    const Ireed__LoadModelRequest* request, irt_allocator_t allocator,
    ireed_model_entry_t** out_entry) IRT_MUST_USE;
void ireed_model_entry_destroy(ireed_model_entry_t* entry);

// True when |request| asks for exactly what |entry| holds (same device,
// modules and parameter archives), so it may share the entry. Only the
// request is compared, not the files: a LoadModel of a loaded name gets the
// version loaded even if a file was replaced since (LoadModel never swaps a
// model in use; a reload replaces a configured model whose files changed,
// ireed_model_entry_changed_file).
bool ireed_model_entry_matches(const ireed_model_entry_t* entry,
                               const Ireed__LoadModelRequest* request);

// For a READY entry: the first of its module and parameter paths whose file
// is no longer the one loaded (replaced, rewritten, or gone), or NULL when
// every path still names the file loaded (a stat of each path).
const char* ireed_model_entry_changed_file(const ireed_model_entry_t* entry);

// Loads the entry's model (worker thread): parameter archives, modules,
// device, then the FunctionInfo table.
irt_status_t ireed_model_entry_load(ireed_model_entry_t* entry,
                                    irsess_runtime_t* runtime,
                                    irt_allocator_t allocator) IRT_MUST_USE;

// True when |entry| may unload for idleness at |now_ns| (monotonic): a
// configured, unpinned, READY, current entry with an idle limit, nothing in
// flight and no use for idle_unload_seconds. A use stamped after |now_ns|
// (by a ring thread that ran after the caller read the clock) is recent, not
// 2^64 ns old. Call under the server's shared lock: ring threads change
// in_flight and last_used_ns.
bool ireed_model_entry_idle(const ireed_model_entry_t* entry, uint64_t now_ns);

// Fills |info| (borrowing the entry's strings; |info| must not outlive it).
void ireed_model_entry_info(const ireed_model_entry_t* entry,
                            Ireed__ModelInfo* info);

#endif  // IREED_DAEMON_MODELS_H
