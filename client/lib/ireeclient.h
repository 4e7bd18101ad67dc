// libireeclient: the C client library of ireed.
//
// A connection speaks the ireed protocol (proto/ireed.proto) over the
// daemon's Unix socket: it manages models, registers shared-memory regions
// and invokes functions, synchronously or asynchronously. Framing, request
// ids and file-descriptor passing are hidden.
//
// Errors are irt_status_t values (runtime/base/status.h): NULL (IRT_OK) is
// success; anything else is owned by the caller, who frees it with
// irt_status_free. A request the daemon refuses comes back with the daemon's
// code and message unchanged; irt_status_format_brief gives one line.
//
// Threads: every function may be called from any thread, and any number of
// invocations may be in flight on one connection at once (replies are
// matched by request id and may arrive in any order). Completion callbacks
// run on the connection's receive thread: they must not block on replies of
// the same connection (no synchronous calls and no ireeclient_disconnect
// from a callback). A shm region's allocator (ireeclient_shm_allocate/reset)
// is the exception: one thread at a time per region.
//
// Sketch:
//
//   ireeclient_connection_t* c;
//   IRT_RETURN_IF_ERROR(ireeclient_connect(NULL, &c));  // $IREED_SOCKET
//   ireeclient_invocation_t* inv;
//   IRT_RETURN_IF_ERROR(ireeclient_invocation_create(c, "sample",
//                                                    "simple_mul", &inv));
//   const uint64_t shape[1] = {4};
//   ireeclient_invocation_add_tensor(inv, IREECLIENT_ELEMENT_TYPE_FLOAT_32,
//                                    shape, 1, a, sizeof(a));  // and b
//   irt_status_t status = ireeclient_invoke(inv);
//   ireeclient_value_t result;
//   if (!status) status = ireeclient_invocation_result(inv, 0, &result);
//   ... result.tensor.data ...
//   ireeclient_invocation_destroy(inv);
//   ireeclient_disconnect(c);
#ifndef IREECLIENT_H
#define IREECLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define IREECLIENT_API __attribute__((visibility("default")))

// The system daemon's socket: used when neither the options nor
// $IREED_SOCKET name one and no per-user daemon listens at
// $XDG_RUNTIME_DIR/ireed.sock.
#define IREECLIENT_DEFAULT_SOCKET "/run/ireed/ireed.sock"
// Tensors of at least this many bytes travel in shared memory by default.
#define IREECLIENT_DEFAULT_INLINE_THRESHOLD (64u * 1024u)
// Offsets handed out by ireeclient_shm_allocate are multiples of this.
#define IREECLIENT_SHM_ALIGNMENT 64u

// HAL element types (hal-abi.md 9.1) of the common cases; any 32-bit
// element type value is accepted.
#define IREECLIENT_ELEMENT_TYPE_INT_8 0x10000008u
#define IREECLIENT_ELEMENT_TYPE_INT_32 0x10000020u
#define IREECLIENT_ELEMENT_TYPE_INT_64 0x10000040u
#define IREECLIENT_ELEMENT_TYPE_FLOAT_16 0x21000010u
#define IREECLIENT_ELEMENT_TYPE_FLOAT_32 0x21000020u
#define IREECLIENT_ELEMENT_TYPE_FLOAT_64 0x21000040u

typedef struct ireeclient_connection_s ireeclient_connection_t;
typedef struct ireeclient_shm_s ireeclient_shm_t;
typedef struct ireeclient_invocation_s ireeclient_invocation_t;

//===----------------------------------------------------------------------===//
// Connections
//===----------------------------------------------------------------------===//

typedef struct ireeclient_options_s {
  // The daemon's socket; NULL: $IREED_SOCKET, else
  // $XDG_RUNTIME_DIR/ireed.sock if it exists, else IREECLIENT_DEFAULT_SOCKET.
  const char* socket_path;
  // Hello.software; NULL: "libireeclient <version>".
  const char* software;
  // Tensors of at least this many bytes are copied into shared memory
  // instead of the request; 0: IREECLIENT_DEFAULT_INLINE_THRESHOLD.
  uint64_t inline_threshold;
} ireeclient_options_t;

// Connects and exchanges Hello. |options| may be NULL. UNAVAILABLE when
// nothing listens on the socket, INCOMPATIBLE when the daemon speaks another
// protocol major version.
IREECLIENT_API irt_status_t
ireeclient_connect(const ireeclient_options_t* options,
                   ireeclient_connection_t** out_connection) IRT_MUST_USE;

// Same over an already connected stream socket |fd| (e.g. one end of a
// socketpair), which the connection takes over even on failure.
IREECLIENT_API irt_status_t
ireeclient_connect_fd(int fd, const ireeclient_options_t* options,
                      ireeclient_connection_t** out_connection) IRT_MUST_USE;

// Closes the connection: invocations still in flight complete with
// CANCELLED. Invocations and regions created on it stay valid objects (their
// calls fail with CANCELLED) until destroyed; the memory of the connection
// goes with the last of them. NULL is a no-op.
IREECLIENT_API void ireeclient_disconnect(ireeclient_connection_t* connection);

// The daemon's Hello: its software string and frame size limit.
IREECLIENT_API const char* ireeclient_server_software(
    const ireeclient_connection_t* connection);
IREECLIENT_API uint32_t
ireeclient_max_frame_size(const ireeclient_connection_t* connection);

// True when |status| is the daemon's "busy" refusal: RESOURCE_EXHAUSTED
// with a message starting "ireed is busy: " (a limit such as
// limits.max_inflight_per_client was reached and nothing was queued).
// Retrying later is the cure; other RESOURCE_EXHAUSTED errors are not
// busy.
IREECLIENT_API bool ireeclient_status_is_busy(irt_status_t status);

//===----------------------------------------------------------------------===//
// Daemon status and models
//===----------------------------------------------------------------------===//

typedef struct ireeclient_function_info_s {
  const char* name;
  const char* calling_convention;  // "0rr_r"
  const char* declaration;         // "" when the module has none
} ireeclient_function_info_t;

typedef struct ireeclient_model_info_s {
  const char* name;
  const char* device;
  size_t module_count;
  const char* const* module_paths;
  size_t function_count;
  const ireeclient_function_info_t* functions;
  uint64_t invocations;
  uint64_t errors;
} ireeclient_model_info_t;

// Models as the daemon reported them; free with ireeclient_model_list_free.
typedef struct ireeclient_model_list_s {
  size_t count;
  ireeclient_model_info_t* models;
  void* storage;  // internal
} ireeclient_model_list_t;
IREECLIENT_API void ireeclient_model_list_free(ireeclient_model_list_t* list);

typedef struct ireeclient_parameter_archive_s {
  const char* scope;  // NULL or "": the default scope
  const char* path;   // as the daemon sees it (absolute paths are safest)
} ireeclient_parameter_archive_t;

typedef struct ireeclient_load_options_s {
  const char* name;
  // In registration order; the last is the model. Paths are opened by the
  // daemon: make them absolute.
  const char* const* module_paths;
  size_t module_count;
  const ireeclient_parameter_archive_t* parameters;
  size_t parameter_count;
  const char* device;  // NULL: the daemon's default ("local-task")
} ireeclient_load_options_t;

// Loads a model. |out_model| (optional) receives a list of one model.
IREECLIENT_API irt_status_t
ireeclient_load_model(ireeclient_connection_t* connection,
                      const ireeclient_load_options_t* options,
                      ireeclient_model_list_t** out_model) IRT_MUST_USE;
IREECLIENT_API irt_status_t ireeclient_unload_model(
    ireeclient_connection_t* connection, const char* name) IRT_MUST_USE;
IREECLIENT_API irt_status_t
ireeclient_list_models(ireeclient_connection_t* connection,
                       ireeclient_model_list_t** out_list) IRT_MUST_USE;

// Finds |function| in |model|: an exact name, or "fn" for "module.fn" and
// vice versa. NULL when absent.
IREECLIENT_API const ireeclient_function_info_t* ireeclient_model_find_function(
    const ireeclient_model_info_t* model, const char* function);

typedef struct ireeclient_device_info_s {
  const char* uri;
  const char* name;
  const char* detail;
  bool available;
} ireeclient_device_info_t;

typedef struct ireeclient_server_status_s {
  const char* software;
  uint64_t uptime_ms;
  uint32_t clients;
  uint32_t models;
  size_t device_count;
  const ireeclient_device_info_t* devices;
  void* storage;  // internal
} ireeclient_server_status_t;

IREECLIENT_API irt_status_t
ireeclient_server_status(ireeclient_connection_t* connection,
                         ireeclient_server_status_t** out_status) IRT_MUST_USE;
IREECLIENT_API void ireeclient_server_status_free(
    ireeclient_server_status_t* status);

// Counters and latencies since the daemon started (StatsReply of
// proto/ireed.proto; an admin request when access control is on).
// Latency quantiles come from the daemon's log-scale histograms: each is
// the upper bound of its bucket, at most 1/8 above the true value.
typedef struct ireeclient_latency_s {
  uint64_t count;
  uint64_t sum_ns;
  uint64_t p50_ns;
  uint64_t p90_ns;
  uint64_t p99_ns;
} ireeclient_latency_t;

typedef struct ireeclient_model_stats_s {
  const char* name;
  const char* device;
  uint64_t invocations;      // run, successful or not
  uint64_t errors;           // of those, failed
  uint64_t busy_rejections;  // refused as busy before running
  uint32_t in_flight;
  ireeclient_latency_t queue;    // waiting for a worker
  ireeclient_latency_t execute;  // running
  uint64_t bytes_zero_copy;  // input bytes imported from shm without a copy
  uint64_t bytes_staged;     // input bytes copied (inline, unaligned)
} ireeclient_model_stats_t;

typedef struct ireeclient_device_stats_s {
  const char* uri;
  uint64_t memory_in_use;  // bytes of live device allocations
  uint64_t memory_peak;
  uint64_t allocations;
} ireeclient_device_stats_t;

typedef struct ireeclient_stats_s {
  uint64_t uptime_ms;
  uint32_t clients;
  uint64_t connections_accepted;
  uint64_t connections_refused;
  uint32_t queued;  // invocations waiting for a worker
  uint32_t workers;
  size_t model_count;
  const ireeclient_model_stats_t* models;
  size_t device_count;
  const ireeclient_device_stats_t* devices;
  void* storage;  // internal
} ireeclient_stats_t;

IREECLIENT_API irt_status_t ireeclient_server_stats(
    ireeclient_connection_t* connection,
    ireeclient_stats_t** out_stats) IRT_MUST_USE;
IREECLIENT_API void ireeclient_stats_free(ireeclient_stats_t* stats);

// What a reload did (admin only): the daemon re-read its config file and
// applied the difference to the configured models.
typedef struct ireeclient_reload_result_s {
  const char* config_path;
  // Model names by outcome; |failed| entries read "NAME: error" (a replaced
  // model's old version keeps serving when its new one fails).
  const char* const* loaded;
  size_t loaded_count;
  const char* const* replaced;
  size_t replaced_count;
  const char* const* unloaded;
  size_t unloaded_count;
  const char* const* failed;
  size_t failed_count;
  void* storage;  // internal
} ireeclient_reload_result_t;

// Asks ireed to reload its config (as SIGHUP does) and waits until every
// load it started finished. A config that does not parse is an
// INVALID_ARGUMENT error citing FILE:LINE:COL and changes nothing.
IREECLIENT_API irt_status_t
ireeclient_reload(ireeclient_connection_t* connection,
                  ireeclient_reload_result_t** out_result) IRT_MUST_USE;
IREECLIENT_API void ireeclient_reload_result_free(
    ireeclient_reload_result_t* result);

//===----------------------------------------------------------------------===//
// Shared memory
//===----------------------------------------------------------------------===//

// A memfd of |size| bytes sealed against shrinking and growing, mapped
// read-write here and registered with the daemon.
IREECLIENT_API irt_status_t
ireeclient_shm_create(ireeclient_connection_t* connection, uint64_t size,
                      ireeclient_shm_t** out_shm) IRT_MUST_USE;

// Registers the caller's memfd |fd| (duplicated; the caller keeps |fd|),
// which must carry F_SEAL_SHRINK and be at least |size| bytes.
IREECLIENT_API irt_status_t ireeclient_shm_register_fd(
    ireeclient_connection_t* connection, int fd, uint64_t size,
    ireeclient_shm_t** out_shm) IRT_MUST_USE;

// Unregisters (without waiting for the daemon), unmaps and closes. Slices
// still named by invocations in flight stay readable by the daemon until
// they complete. NULL is a no-op.
IREECLIENT_API void ireeclient_shm_release(ireeclient_shm_t* shm);

IREECLIENT_API void* ireeclient_shm_data(const ireeclient_shm_t* shm);
IREECLIENT_API uint64_t ireeclient_shm_size(const ireeclient_shm_t* shm);
IREECLIENT_API uint64_t ireeclient_shm_region_id(const ireeclient_shm_t* shm);

// Hands out the next IREECLIENT_SHM_ALIGNMENT-aligned slice of |size| bytes
// (a bump allocator; ireeclient_shm_reset starts over). RESOURCE_EXHAUSTED
// when the region is full.
IREECLIENT_API irt_status_t ireeclient_shm_allocate(
    ireeclient_shm_t* shm, uint64_t size, uint64_t* out_offset) IRT_MUST_USE;
IREECLIENT_API void ireeclient_shm_reset(ireeclient_shm_t* shm);

//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

typedef enum ireeclient_value_type_e {
  IREECLIENT_VALUE_NONE = 0,
  IREECLIENT_VALUE_I32 = 1,
  IREECLIENT_VALUE_I64 = 2,
  IREECLIENT_VALUE_F32 = 3,
  IREECLIENT_VALUE_F64 = 4,
  IREECLIENT_VALUE_TENSOR = 5,
} ireeclient_value_type_t;

typedef struct ireeclient_tensor_s {
  uint32_t element_type;  // HAL element type
  size_t rank;
  const uint64_t* shape;
  const void* data;
  uint64_t byte_length;
} ireeclient_tensor_t;

typedef struct ireeclient_value_s {
  ireeclient_value_type_t type;
  union {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    ireeclient_tensor_t tensor;
  };
} ireeclient_value_t;

//===----------------------------------------------------------------------===//
// Invocations
//===----------------------------------------------------------------------===//

// One call of |function| of the loaded model |model|: inputs are added in
// argument order, then it is invoked (any number of times, one at a time).
IREECLIENT_API irt_status_t ireeclient_invocation_create(
    ireeclient_connection_t* connection, const char* model,
    const char* function,
    ireeclient_invocation_t** out_invocation) IRT_MUST_USE;
// Waits for an invocation in flight, then frees it. NULL is a no-op. May be
// called from the invocation's own completion callback.
IREECLIENT_API void ireeclient_invocation_destroy(
    ireeclient_invocation_t* invocation);

IREECLIENT_API irt_status_t ireeclient_invocation_add_i32(
    ireeclient_invocation_t* invocation, int32_t value) IRT_MUST_USE;
IREECLIENT_API irt_status_t ireeclient_invocation_add_i64(
    ireeclient_invocation_t* invocation, int64_t value) IRT_MUST_USE;
IREECLIENT_API irt_status_t ireeclient_invocation_add_f32(
    ireeclient_invocation_t* invocation, float value) IRT_MUST_USE;
IREECLIENT_API irt_status_t ireeclient_invocation_add_f64(
    ireeclient_invocation_t* invocation, double value) IRT_MUST_USE;

// Adds a dense row-major tensor, copying |data|: inline in the request below
// the connection's inline threshold, otherwise into a shared-memory region
// of the connection's staging pool (registered once, reused).
IREECLIENT_API irt_status_t ireeclient_invocation_add_tensor(
    ireeclient_invocation_t* invocation, uint32_t element_type,
    const uint64_t* shape, size_t rank, const void* data,
    uint64_t byte_length) IRT_MUST_USE;

// Adds a tensor already in |shm| at [offset, offset + length) (no copy).
// The bytes must stay put until the invocation completes.
IREECLIENT_API irt_status_t ireeclient_invocation_add_tensor_shm(
    ireeclient_invocation_t* invocation, uint32_t element_type,
    const uint64_t* shape, size_t rank, ireeclient_shm_t* shm, uint64_t offset,
    uint64_t length) IRT_MUST_USE;

// Asks the daemon to write result |index| into |shm| at
// [offset, offset + length) instead of the reply.
IREECLIENT_API irt_status_t ireeclient_invocation_set_output_shm(
    ireeclient_invocation_t* invocation, size_t index, ireeclient_shm_t* shm,
    uint64_t offset, uint64_t length) IRT_MUST_USE;

// Drops every input and output target (returning staging memory).
IREECLIENT_API void ireeclient_invocation_reset(
    ireeclient_invocation_t* invocation);

// Invokes and waits. The result is also what ireeclient_invocation_wait
// returns afterwards. The same as ireeclient_invoke_all(&invocation, 1).
IREECLIENT_API irt_status_t
ireeclient_invoke(ireeclient_invocation_t* invocation) IRT_MUST_USE;

// Invokes each of the |count| |invocations| (all created on one
// connection) and returns once every one has completed. Through the
// submission ring the requests are written into slots and submitted
// together: the batch costs one wake-up of the daemon and one of the
// caller instead of one of each per invocation, which is what makes many
// small invocations cheap (a batch larger than the ring's 16 slots goes in
// rounds). What the ring cannot take goes on the socket as
// ireeclient_invoke_async would send it: everything without a ring
// (an older daemon, IREECLIENT_RING=0), a request larger than a slot, one
// that finds every slot busy with other threads' calls.
//
// Each invocation's own outcome is then what ireeclient_invocation_wait
// returns, and its results read as usual; one failing does not stop the
// others. Returns:
//   INVALID_ARGUMENT, nothing invoked: |invocations| is NULL, an entry is
//     NULL, or an entry belongs to another connection than invocations[0];
//   FAILED_PRECONDITION, nothing invoked: an invocation is in flight
//     already, or listed twice;
//   otherwise, after all completed: OK when every invocation succeeded,
//     else a copy of the outcome of the first one, in array order, that
//     failed.
// |count| 0 is OK and does nothing.
IREECLIENT_API irt_status_t ireeclient_invoke_all(
    ireeclient_invocation_t** invocations, size_t count) IRT_MUST_USE;

// Called once when an asynchronous invocation completes, on the
// connection's receive thread; |status| is borrowed for the call.
typedef void (*ireeclient_completion_fn_t)(void* user_data,
                                           ireeclient_invocation_t* invocation,
                                           irt_status_t status);

// Sends the request and returns; |callback| (may be NULL) runs on
// completion. FAILED_PRECONDITION while the invocation is in flight.
IREECLIENT_API irt_status_t ireeclient_invoke_async(
    ireeclient_invocation_t* invocation, ireeclient_completion_fn_t callback,
    void* user_data) IRT_MUST_USE;

// A file descriptor (owned by the invocation) that polls readable once the
// current invocation completed, for event loops. It stays readable until
// the invocation is invoked again.
IREECLIENT_API irt_status_t ireeclient_invocation_fd(
    ireeclient_invocation_t* invocation, int* out_fd) IRT_MUST_USE;

IREECLIENT_API bool ireeclient_invocation_is_done(
    ireeclient_invocation_t* invocation);

// Waits for completion and returns the outcome (a copy each call; OK for an
// invocation never invoked).
IREECLIENT_API irt_status_t
ireeclient_invocation_wait(ireeclient_invocation_t* invocation) IRT_MUST_USE;

// Results of a successful invocation. Tensor data points into the reply or
// into the caller's region for shm outputs, valid until the invocation is
// invoked again, reset or destroyed.
IREECLIENT_API size_t
ireeclient_invocation_result_count(const ireeclient_invocation_t* invocation);
IREECLIENT_API irt_status_t ireeclient_invocation_result(
    const ireeclient_invocation_t* invocation, size_t index,
    ireeclient_value_t* out_value) IRT_MUST_USE;
// Time the daemon spent queueing and running the last invocation.
IREECLIENT_API void ireeclient_invocation_timing(
    const ireeclient_invocation_t* invocation, uint64_t* out_queue_ns,
    uint64_t* out_execute_ns);

#ifdef __cplusplus
}  // extern "C"
#endif

#endif  // IREECLIENT_H
