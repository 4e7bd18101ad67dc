// One InvokeRequest on its way through the daemon: checked against the
// function's signature and the connection's regions on the event loop
// (ireed_invocation_prepare, cheap and allocation-free on success), then run
// on workers (ireed_invocation_start, ireed_invocation_finish), which end
// with the encoded reply.
//
// Inputs: scalars become VM values; tensors become dense row-major buffer
// views whose bytes are imported from the shared-memory region without a
// copy when the device accepts the memory (CPU devices: 64-byte aligned
// ranges), and are copied otherwise (inline data is always copied).
// Results: scalars and tensors go back inline, or into the output region
// slice given for that result index (one copy out of the result buffer).
//
// Functions with a coarse-fences form ("f$async") run through it: start
// schedules the work and returns at once, and the signal fence calls
// |on_ready| when the results are ready, so no worker waits on the device
// and invocations of one device pipeline. Others run to completion in start.
#ifndef IREED_DAEMON_INVOCATION_H
#define IREED_DAEMON_INVOCATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "daemon/region.h"
#include "daemon/stats.h"
#include "daemon/worker_pool.h"
#include "ireed.pb-c.h"
#include "runtime/session/model.h"

typedef struct ireed_invocation_s ireed_invocation_t;
struct ireed_invocation_s {
  // Set by the caller.
  uint64_t request_id;
  size_t max_frame_size;       // of the reply
  irsess_model_t* model;       // kept alive by the caller
  ireed_model_stats_t* stats;  // the model's; finish records into it
  const irsess_function_t* function;
  const Ireed__InvokeRequest* request;  // owned by the caller
  // Set by ireed_invocation_prepare: the region of each input (n_inputs
  // slots) then of each output target (n_outputs slots), retained, or NULL.
  ireed_region_t** regions;
  // Room for function->arguments.size and function->results.size variants
  // that live as long as the invocation (device work may use them until the
  // signal fence is reached).
  irvm_variant_t* arguments;
  irvm_variant_t* results;
  // Called once (on any thread) when a pending invocation's results are
  // ready or failed; the caller then runs ireed_invocation_finish on a
  // worker.
  void (*on_ready)(ireed_invocation_t* invocation);
  // Runs the synchronous form even when a coarse-fences variant exists (the
  // caller's thread waits for the results anyway: a submission ring's).
  bool synchronous;
  // When set, encodes a successful reply instead of the Frame encoding
  // into |reply| (a submission ring writes its own encoding into the
  // request's slot); it may still set |reply|. Errors are always Frames.
  irt_status_t (*encode_reply)(ireed_invocation_t* invocation,
                               const Ireed__InvokeReply* reply);
  void* encode_user_data;
  // When the request was queued (monotonic); 0: never queued (a ring's
  // request runs on the thread that took it).
  uint64_t queued_ns;
  // State between start and finish.
  size_t argument_count;
  size_t result_count;
  irt_status_t status;
  uint64_t start_ns;
  uint64_t execute_start_ns;
  uint64_t ready_ns;
  uint64_t bytes_zero_copy;  // input tensor bytes imported from regions
  uint64_t bytes_staged;     // input tensor bytes copied to the device
  // Set by ireed_invocation_finish: the encoded reply frame (an InvokeReply
  // or an Error), owned by the caller (free with the run's allocator).
  uint8_t* reply;
  size_t reply_size;
};

// Checks the request's inputs and output targets against the function's
// signature and |table|, and retains the regions they name into |regions|
// (request->n_inputs + request->n_outputs slots, which the checks guarantee
// to be at most the function's argument plus result count; the counts are
// checked before any slot is written). On failure nothing stays
// retained and the status says which input or output is wrong and why.
irt_status_t ireed_invocation_prepare(const Ireed__InvokeRequest* request,
                                      const irsess_function_t* function,
                                      const ireed_region_table_t* table,
                                      ireed_region_t** regions) IRT_MUST_USE;

// Releases the regions retained by prepare.
void ireed_invocation_release_regions(ireed_invocation_t* invocation);

// Starts a prepared invocation on |worker|. *out_pending false: it ran to
// completion and the reply is encoded. *out_pending true: its device work
// is in flight and |on_ready| will be called (possibly before this
// returns); from then on the invocation belongs to that callback, and this
// thread must not touch it. Fails only when not even an error reply could
// be encoded (out of memory).
irt_status_t ireed_invocation_start(ireed_invocation_t* invocation,
                                    ireed_worker_t* worker,
                                    irt_allocator_t allocator,
                                    bool* out_pending) IRT_MUST_USE;

// Encodes the reply of a started invocation whose results are ready,
// releases its arguments and results, and records its latencies and input
// bytes in |stats|.
irt_status_t ireed_invocation_finish(ireed_invocation_t* invocation,
                                     ireed_worker_t* worker,
                                     irt_allocator_t allocator) IRT_MUST_USE;

// Encodes |reply| as the Frame of |invocation|'s reply into
// invocation->reply (what happens without encode_reply).
irt_status_t ireed_invocation_encode_frame(
    ireed_invocation_t* invocation, const Ireed__InvokeReply* reply,
    irt_allocator_t allocator) IRT_MUST_USE;

// Monotonic clock in nanoseconds. A read costs about 50 ns in some virtual
// machines (kvm-clock), a few percent of a small model's invocation.
uint64_t ireed_now_ns(void);

// The same clock to within a scheduler tick (a few ms), for a fraction of
// the cost: for times compared in seconds, such as a model's idleness.
uint64_t ireed_coarse_now_ns(void);

#endif  // IREED_DAEMON_INVOCATION_H
