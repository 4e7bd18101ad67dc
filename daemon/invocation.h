// One InvokeRequest on its way through the daemon: checked against the
// function's signature and the connection's regions on the event loop
// (ireed_invocation_prepare, cheap and allocation-free on success), then run
// on a worker (ireed_invocation_run), which ends with the encoded reply.
//
// Inputs: scalars become VM values; tensors become dense row-major buffer
// views whose bytes are imported from the shared-memory region without a
// copy when the device accepts the memory (CPU devices: 64-byte aligned
// ranges), and are copied otherwise (inline data is always copied).
// Results: scalars and tensors go back inline, or into the output region
// slice given for that result index (one copy out of the result buffer).
#ifndef IREED_DAEMON_INVOCATION_H
#define IREED_DAEMON_INVOCATION_H

#include <stddef.h>
#include <stdint.h>

#include "daemon/region.h"
#include "daemon/worker_pool.h"
#include "ireed.pb-c.h"
#include "runtime/session/model.h"

typedef struct ireed_invocation_s {
  // Set by the caller.
  uint64_t request_id;
  size_t max_frame_size;          // of the reply
  irsess_model_t* model;          // kept alive by the caller
  const irsess_function_t* function;
  const Ireed__InvokeRequest* request;  // owned by the caller
  // Set by ireed_invocation_prepare: the region of each input (n_inputs
  // slots) then of each output target (n_outputs slots), retained, or NULL.
  ireed_region_t** regions;
  // Set by ireed_invocation_run: the encoded reply frame (an InvokeReply or
  // an Error), owned by the caller (free with the run's allocator).
  uint8_t* reply;
  size_t reply_size;
  uint64_t queued_ns;  // when the request was queued (monotonic)
} ireed_invocation_t;

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

// Runs a prepared invocation on |worker| and encodes its reply (the
// function's failure becomes an Error reply). Fails only when not even an
// error reply could be encoded (out of memory).
irt_status_t ireed_invocation_run(ireed_invocation_t* invocation,
                                  ireed_worker_t* worker,
                                  irt_allocator_t allocator) IRT_MUST_USE;

// Monotonic clock in nanoseconds.
uint64_t ireed_now_ns(void);

#endif  // IREED_DAEMON_INVOCATION_H
