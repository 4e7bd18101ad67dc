// Invocations: inputs staged inline or in shared memory, one request in
// flight at a time, completion by waiting, callback or pollable eventfd;
// synchronous batches through the submission ring.
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client/lib/connection.h"
#include "runtime/base/arena.h"
#include "runtime/base/math.h"

// One argument as it goes on the wire, with the storage it points to.
typedef struct ireeclient_input_s {
  Ireed__Value value;
  Ireed__Tensor tensor;
  Ireed__ShmSlice slice;
  uint64_t* shape;
  uint8_t* inline_data;
  ireeclient_shm_t* staging;  // owned: a pool region holding the data
} ireeclient_input_t;

// Where result |index| goes; shm NULL = inline in the reply.
typedef struct ireeclient_output_s {
  Ireed__OutputTarget target;
  Ireed__ShmSlice slice;
  ireeclient_shm_t* shm;  // borrowed from the caller
} ireeclient_output_t;

struct ireeclient_invocation_s {
  ireeclient_connection_t* connection;  // retained
  char* model;
  char* function;
  ireeclient_input_t** inputs;
  size_t input_count;
  size_t input_capacity;
  ireeclient_output_t** outputs;
  size_t output_count;

  ireeclient_request_t request;
  int event_fd;  // -1 until asked for
  // Guarded by the connection's mutex; waiters use its condition variable.
  bool in_flight;
  bool callback_running;
  bool destroy_requested;  // by the callback itself
  ireeclient_completion_fn_t callback;
  void* user_data;

  // The last completed invocation's outcome. A reply that came in the ring
  // lives in |arena| (reply_in_arena), one from the socket is malloc'ed.
  irt_status_t status;
  Ireed__Frame* reply;
  bool reply_in_arena;
  // Memory of the current call, dropped at once when the next starts: the
  // request's pointer arrays and a ring reply (no malloc and free per
  // message, no protobuf-c walk to free them).
  irt_arena_t arena;
  ProtobufCAllocator arena_allocator;
};

static void* ireeclient_arena_alloc(void* arena, size_t size) {
  void* memory = NULL;
  irt_status_t status = irt_arena_alloc(arena, size, alignof(max_align_t),
                                        &memory);
  irt_status_free(status);
  return memory;
}

static void ireeclient_arena_free(void* arena, void* pointer) {
  (void)arena;
  (void)pointer;  // the arena is reset as a whole
}

irt_status_t ireeclient_invocation_create(
    ireeclient_connection_t* connection, const char* model,
    const char* function, ireeclient_invocation_t** out_invocation) {
  *out_invocation = NULL;
  ireeclient_invocation_t* invocation = calloc(1, sizeof(*invocation));
  if (!invocation) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  invocation->event_fd = -1;
  irt_arena_init(&invocation->arena, irt_allocator_system(), 0);
  invocation->arena_allocator = (ProtobufCAllocator){
      ireeclient_arena_alloc, ireeclient_arena_free, &invocation->arena};
  invocation->request.reply_allocator = &invocation->arena_allocator;
  irt_status_t status = ireeclient_strdup(model, &invocation->model);
  if (!status) status = ireeclient_strdup(function, &invocation->function);
  if (status) {
    free(invocation->model);
    free(invocation);
    return status;
  }
  invocation->connection = connection;
  ireeclient_connection_retain(connection);
  *out_invocation = invocation;
  return IRT_OK;
}

static void ireeclient_invocation_clear_results(
    ireeclient_invocation_t* invocation) {
  irt_status_free(invocation->status);
  invocation->status = IRT_OK;
  if (invocation->reply && !invocation->reply_in_arena) {
    ireed__frame__free_unpacked(invocation->reply, NULL);
  }
  invocation->reply = NULL;
  irt_arena_rewind(&invocation->arena);
}

void ireeclient_invocation_reset(ireeclient_invocation_t* invocation) {
  for (size_t i = 0; i < invocation->input_count; ++i) {
    ireeclient_input_t* input = invocation->inputs[i];
    if (input->staging) ireeclient_staging_release(input->staging);
    free(input->shape);
    free(input->inline_data);
    free(input);
  }
  invocation->input_count = 0;
  for (size_t i = 0; i < invocation->output_count; ++i) {
    free(invocation->outputs[i]);
  }
  free(invocation->outputs);
  invocation->outputs = NULL;
  invocation->output_count = 0;
  ireeclient_invocation_clear_results(invocation);
}

static void ireeclient_invocation_free(ireeclient_invocation_t* invocation) {
  ireeclient_invocation_reset(invocation);
  irt_arena_deinit(&invocation->arena);
  free(invocation->inputs);
  if (invocation->event_fd >= 0) close(invocation->event_fd);
  free(invocation->model);
  free(invocation->function);
  ireeclient_connection_release(invocation->connection);
  free(invocation);
}

void ireeclient_invocation_destroy(ireeclient_invocation_t* invocation) {
  if (!invocation) return;
  ireeclient_connection_t* connection = invocation->connection;
  pthread_mutex_lock(&connection->mutex);
  if (invocation->callback_running &&
      pthread_equal(pthread_self(), connection->receive_thread)) {
    // Called from its own callback: freed once the callback returns.
    invocation->destroy_requested = true;
    pthread_mutex_unlock(&connection->mutex);
    return;
  }
  while (invocation->in_flight || invocation->callback_running) {
    pthread_cond_wait(&connection->completed, &connection->mutex);
  }
  pthread_mutex_unlock(&connection->mutex);
  ireeclient_invocation_free(invocation);
}

//===----------------------------------------------------------------------===//
// Inputs and outputs
//===----------------------------------------------------------------------===//

static irt_status_t ireeclient_check_idle(ireeclient_invocation_t* invocation) {
  pthread_mutex_lock(&invocation->connection->mutex);
  bool busy = invocation->in_flight || invocation->callback_running;
  pthread_mutex_unlock(&invocation->connection->mutex);
  if (busy) {
    return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                           "invocation of '%s' is still in flight",
                           invocation->function);
  }
  return IRT_OK;
}

// Appends a new zeroed input.
static irt_status_t ireeclient_push_input(ireeclient_invocation_t* invocation,
                                          ireeclient_input_t** out_input) {
  *out_input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_check_idle(invocation));
  if (invocation->input_count == invocation->input_capacity) {
    size_t capacity =
        invocation->input_capacity ? invocation->input_capacity * 2 : 4;
    ireeclient_input_t** inputs =
        realloc(invocation->inputs, capacity * sizeof(*inputs));
    if (!inputs) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    invocation->inputs = inputs;
    invocation->input_capacity = capacity;
  }
  ireeclient_input_t* input = calloc(1, sizeof(*input));
  if (!input) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  ireed__value__init(&input->value);
  invocation->inputs[invocation->input_count++] = input;
  *out_input = input;
  return IRT_OK;
}

// Drops the last input after a failure to fill it.
static void ireeclient_pop_input(ireeclient_invocation_t* invocation) {
  ireeclient_input_t* input = invocation->inputs[--invocation->input_count];
  if (input->staging) ireeclient_staging_release(input->staging);
  free(input->shape);
  free(input->inline_data);
  free(input);
}

irt_status_t ireeclient_invocation_add_i32(ireeclient_invocation_t* invocation,
                                           int32_t value) {
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_push_input(invocation, &input));
  input->value.kind_case = IREED__VALUE__KIND_I32;
  input->value.i32 = value;
  return IRT_OK;
}

irt_status_t ireeclient_invocation_add_i64(ireeclient_invocation_t* invocation,
                                           int64_t value) {
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_push_input(invocation, &input));
  input->value.kind_case = IREED__VALUE__KIND_I64;
  input->value.i64 = value;
  return IRT_OK;
}

irt_status_t ireeclient_invocation_add_f32(ireeclient_invocation_t* invocation,
                                           float value) {
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_push_input(invocation, &input));
  input->value.kind_case = IREED__VALUE__KIND_F32;
  input->value.f32 = value;
  return IRT_OK;
}

irt_status_t ireeclient_invocation_add_f64(ireeclient_invocation_t* invocation,
                                           double value) {
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_push_input(invocation, &input));
  input->value.kind_case = IREED__VALUE__KIND_F64;
  input->value.f64 = value;
  return IRT_OK;
}

// Starts a tensor input: element type and a copy of the shape.
static irt_status_t ireeclient_push_tensor(ireeclient_invocation_t* invocation,
                                           uint32_t element_type,
                                           const uint64_t* shape, size_t rank,
                                           ireeclient_input_t** out_input) {
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(ireeclient_push_input(invocation, &input));
  input->shape = malloc(rank ? rank * sizeof(uint64_t) : 1);
  if (!input->shape) {
    ireeclient_pop_input(invocation);
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  }
  if (rank) memcpy(input->shape, shape, rank * sizeof(uint64_t));
  ireed__tensor__init(&input->tensor);
  input->tensor.element_type = element_type;
  input->tensor.n_shape = rank;
  input->tensor.shape = input->shape;
  input->value.kind_case = IREED__VALUE__KIND_TENSOR;
  input->value.tensor = &input->tensor;
  *out_input = input;
  return IRT_OK;
}

static void ireeclient_input_set_slice(ireeclient_input_t* input,
                                       uint64_t region_id, uint64_t offset,
                                       uint64_t length) {
  ireed__shm_slice__init(&input->slice);
  input->slice.region_id = region_id;
  input->slice.offset = offset;
  input->slice.length = length;
  input->tensor.data_case = IREED__TENSOR__DATA_SHM;
  input->tensor.shm = &input->slice;
}

irt_status_t ireeclient_invocation_add_tensor(
    ireeclient_invocation_t* invocation, uint32_t element_type,
    const uint64_t* shape, size_t rank, const void* data,
    uint64_t byte_length) {
  if (byte_length > SIZE_MAX || (byte_length && !data)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "tensor input %zu has no data for its %llu bytes",
                           invocation->input_count,
                           (unsigned long long)byte_length);
  }
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(
      ireeclient_push_tensor(invocation, element_type, shape, rank, &input));
  irt_status_t status = IRT_OK;
  if (byte_length >= invocation->connection->inline_threshold) {
    status = ireeclient_staging_acquire(invocation->connection, byte_length,
                                        &input->staging);
    if (!status) {
      memcpy(input->staging->data, data, (size_t)byte_length);
      ireeclient_input_set_slice(input, input->staging->region_id, 0,
                                 byte_length);
    }
  } else {
    input->inline_data = malloc(byte_length ? (size_t)byte_length : 1);
    if (!input->inline_data) {
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    } else {
      if (byte_length) memcpy(input->inline_data, data, (size_t)byte_length);
      input->tensor.data_case = IREED__TENSOR__DATA_INLINE_DATA;
      input->tensor.inline_data.data = input->inline_data;
      input->tensor.inline_data.len = (size_t)byte_length;
    }
  }
  if (status) ireeclient_pop_input(invocation);
  return status;
}

static irt_status_t ireeclient_check_slice(
    const ireeclient_invocation_t* invocation, const ireeclient_shm_t* shm,
    uint64_t offset, uint64_t length, const char* what) {
  if (shm->connection != invocation->connection) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s: shared-memory region %llu belongs to another "
                           "connection",
                           what, (unsigned long long)shm->region_id);
  }
  if (!irt_range_fits(offset, length, shm->size)) {
    return irt_make_status(
        IRT_STATUS_OUT_OF_RANGE,
        "%s: slice [%llu, +%llu) exceeds the %llu bytes of "
        "shared-memory region %llu",
        what, (unsigned long long)offset, (unsigned long long)length,
        (unsigned long long)shm->size, (unsigned long long)shm->region_id);
  }
  return IRT_OK;
}

irt_status_t ireeclient_invocation_add_tensor_shm(
    ireeclient_invocation_t* invocation, uint32_t element_type,
    const uint64_t* shape, size_t rank, ireeclient_shm_t* shm, uint64_t offset,
    uint64_t length) {
  IRT_RETURN_IF_ERROR(
      ireeclient_check_slice(invocation, shm, offset, length, "tensor input"));
  ireeclient_input_t* input = NULL;
  IRT_RETURN_IF_ERROR(
      ireeclient_push_tensor(invocation, element_type, shape, rank, &input));
  ireeclient_input_set_slice(input, shm->region_id, offset, length);
  return IRT_OK;
}

irt_status_t ireeclient_invocation_set_output_shm(
    ireeclient_invocation_t* invocation, size_t index, ireeclient_shm_t* shm,
    uint64_t offset, uint64_t length) {
  IRT_RETURN_IF_ERROR(ireeclient_check_idle(invocation));
  IRT_RETURN_IF_ERROR(
      ireeclient_check_slice(invocation, shm, offset, length, "output"));
  if (index >= invocation->output_count) {
    ireeclient_output_t** outputs =
        realloc(invocation->outputs, (index + 1) * sizeof(*outputs));
    if (!outputs) {
      return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
    }
    invocation->outputs = outputs;
    for (size_t i = invocation->output_count; i <= index; ++i) {
      outputs[i] = calloc(1, sizeof(**outputs));
      if (!outputs[i]) {
        invocation->output_count = i;
        return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
      }
      ireed__output_target__init(&outputs[i]->target);
    }
    invocation->output_count = index + 1;
  }
  ireeclient_output_t* output = invocation->outputs[index];
  ireed__shm_slice__init(&output->slice);
  output->slice.region_id = shm->region_id;
  output->slice.offset = offset;
  output->slice.length = length;
  output->target.shm = &output->slice;
  output->shm = shm;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Invoking
//===----------------------------------------------------------------------===//

// Runs on the receive thread.
static void ireeclient_invocation_complete(ireeclient_request_t* request) {
  ireeclient_invocation_t* invocation =
      (ireeclient_invocation_t*)((char*)request -
                                 offsetof(ireeclient_invocation_t, request));
  ireeclient_connection_t* connection = invocation->connection;
  pthread_mutex_lock(&connection->mutex);
  invocation->status = request->status;
  invocation->reply = request->reply;
  invocation->reply_in_arena = request->reply_in_allocator;
  invocation->in_flight = false;
  ireeclient_completion_fn_t callback = invocation->callback;
  invocation->callback_running = callback != NULL;
  if (invocation->event_fd >= 0) eventfd_write(invocation->event_fd, 1);
  pthread_cond_broadcast(&connection->completed);
  pthread_mutex_unlock(&connection->mutex);
  if (!callback) return;

  callback(invocation->user_data, invocation, invocation->status);
  pthread_mutex_lock(&connection->mutex);
  invocation->callback_running = false;
  bool destroy = invocation->destroy_requested;
  pthread_cond_broadcast(&connection->completed);
  pthread_mutex_unlock(&connection->mutex);
  if (destroy) ireeclient_invocation_free(invocation);
}

// Marks every one of |invocations| in flight, or none: FAILED_PRECONDITION
// when one is in flight already (or listed twice).
static irt_status_t ireeclient_invocations_claim(
    ireeclient_invocation_t** invocations, size_t count,
    ireeclient_completion_fn_t callback, void* user_data) {
  ireeclient_connection_t* connection = invocations[0]->connection;
  pthread_mutex_lock(&connection->mutex);
  for (size_t i = 0; i < count; ++i) {
    ireeclient_invocation_t* invocation = invocations[i];
    if (invocation->in_flight || invocation->callback_running) {
      for (size_t j = 0; j < i; ++j) invocations[j]->in_flight = false;
      pthread_mutex_unlock(&connection->mutex);
      if (count == 1) {
        return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                               "invocation of '%s' is already in flight",
                               invocation->function);
      }
      return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                             "invocation %zu of the batch ('%s') is already "
                             "in flight or listed twice; nothing was invoked",
                             i, invocation->function);
    }
    invocation->in_flight = true;
    invocation->callback = callback;
    invocation->user_data = user_data;
    if (invocation->event_fd >= 0) {
      eventfd_t drained;
      eventfd_read(invocation->event_fd, &drained);  // nonblocking
    }
  }
  pthread_mutex_unlock(&connection->mutex);
  for (size_t i = 0; i < count; ++i) {
    ireeclient_invocation_clear_results(invocations[i]);
  }
  return IRT_OK;
}

// Ends the claim of an invocation whose request could not be sent: a copy
// of |status| becomes its outcome. Returns |status|.
static irt_status_t ireeclient_invocation_fail(
    ireeclient_invocation_t* invocation, irt_status_t status) {
  ireeclient_connection_t* connection = invocation->connection;
  pthread_mutex_lock(&connection->mutex);
  invocation->status = irt_status_clone(status);
  invocation->in_flight = false;
  if (invocation->event_fd >= 0) eventfd_write(invocation->event_fd, 1);
  pthread_cond_broadcast(&connection->completed);
  pthread_mutex_unlock(&connection->mutex);
  return status;
}

// Sends the request of a claimed invocation: into |batch| when the ring
// takes it (ireeclient_ring_run then completes it; a batch holding every
// slot is run first to make room), else, or with |batch| NULL, on the
// socket.
static irt_status_t ireeclient_invocation_send(
    ireeclient_invocation_t* invocation, ireeclient_ring_batch_t* batch) {
  ireeclient_connection_t* connection = invocation->connection;
  Ireed__Value** values = NULL;
  Ireed__OutputTarget** targets = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(
      &invocation->arena, (invocation->input_count + 1) * sizeof(*values),
      alignof(void*), (void**)&values));
  IRT_RETURN_IF_ERROR(irt_arena_alloc(
      &invocation->arena, (invocation->output_count + 1) * sizeof(*targets),
      alignof(void*), (void**)&targets));
  for (size_t i = 0; i < invocation->input_count; ++i) {
    values[i] = &invocation->inputs[i]->value;
  }
  for (size_t i = 0; i < invocation->output_count; ++i) {
    targets[i] = &invocation->outputs[i]->target;
  }
  Ireed__InvokeRequest request = IREED__INVOKE_REQUEST__INIT;
  request.model = invocation->model;
  request.function = invocation->function;
  request.n_inputs = invocation->input_count;
  request.inputs = values;
  request.n_outputs = invocation->output_count;
  request.outputs = targets;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_INVOKE;
  frame.invoke = &request;
  invocation->request.on_complete = ireeclient_invocation_complete;
  ireeclient_ring_outcome_t outcome = IREECLIENT_RING_UNSUITABLE;
  irt_status_t status = IRT_OK;
  for (int attempt = 0; batch && attempt < 2; ++attempt) {
    status = ireeclient_ring_prepare(connection, &frame,
                                     IREED__FRAME__BODY_INVOKE_REPLY,
                                     &invocation->request, batch, &outcome);
    if (status || outcome != IREECLIENT_RING_FULL || batch->count == 0) break;
    ireeclient_ring_run(connection, batch);
  }
  if (!status && (outcome == IREECLIENT_RING_FULL ||
                  outcome == IREECLIENT_RING_UNSUITABLE)) {
    status = ireeclient_connection_send(connection, &frame, -1,
                                        IREED__FRAME__BODY_INVOKE_REPLY,
                                        &invocation->request);
  }
  return status;
}

// INVALID_ARGUMENT unless |invocations| holds |count| invocations of one
// connection.
static irt_status_t ireeclient_check_batch(
    ireeclient_invocation_t* const* invocations, size_t count) {
  if (!invocations) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "a batch of %zu invocations given as NULL", count);
  }
  for (size_t i = 0; i < count; ++i) {
    if (!invocations[i]) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "invocation %zu of the batch is NULL", i);
    }
    if (invocations[i]->connection != invocations[0]->connection) {
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "invocation %zu of the batch ('%s') belongs to another connection "
          "than invocation 0 ('%s'): a batch goes through one connection",
          i, invocations[i]->function, invocations[0]->function);
    }
  }
  return IRT_OK;
}

irt_status_t ireeclient_invoke_all(ireeclient_invocation_t** invocations,
                                   size_t count) {
  if (count == 0) return IRT_OK;
  IRT_RETURN_IF_ERROR(ireeclient_check_batch(invocations, count));
  IRT_RETURN_IF_ERROR(
      ireeclient_invocations_claim(invocations, count, NULL, NULL));
  ireeclient_ring_batch_t batch = {0};
  for (size_t i = 0; i < count; ++i) {
    irt_status_t status = ireeclient_invocation_send(invocations[i], &batch);
    if (status) {
      irt_status_free(ireeclient_invocation_fail(invocations[i], status));
    }
  }
  ireeclient_ring_run(invocations[0]->connection, &batch);
  irt_status_t first_failure = IRT_OK;
  for (size_t i = 0; i < count; ++i) {
    irt_status_t status = ireeclient_invocation_wait(invocations[i]);
    if (first_failure) {
      irt_status_free(status);
    } else {
      first_failure = status;
    }
  }
  return first_failure;
}

irt_status_t ireeclient_invoke(ireeclient_invocation_t* invocation) {
  return ireeclient_invoke_all(&invocation, 1);
}

irt_status_t ireeclient_invoke_async(ireeclient_invocation_t* invocation,
                                     ireeclient_completion_fn_t callback,
                                     void* user_data) {
  IRT_RETURN_IF_ERROR(
      ireeclient_invocations_claim(&invocation, 1, callback, user_data));
  irt_status_t status = ireeclient_invocation_send(invocation, NULL);
  return status ? ireeclient_invocation_fail(invocation, status) : IRT_OK;
}

irt_status_t ireeclient_invocation_fd(ireeclient_invocation_t* invocation,
                                      int* out_fd) {
  ireeclient_connection_t* connection = invocation->connection;
  irt_status_t status = IRT_OK;
  pthread_mutex_lock(&connection->mutex);
  if (invocation->event_fd < 0) {
    invocation->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (invocation->event_fd < 0) {
      status = irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                               "eventfd failed: %s", strerror(errno));
    } else if (!invocation->in_flight) {
      eventfd_write(invocation->event_fd, 1);  // already complete
    }
  }
  *out_fd = invocation->event_fd;
  pthread_mutex_unlock(&connection->mutex);
  return status;
}

bool ireeclient_invocation_is_done(ireeclient_invocation_t* invocation) {
  pthread_mutex_lock(&invocation->connection->mutex);
  bool done = !invocation->in_flight;
  pthread_mutex_unlock(&invocation->connection->mutex);
  return done;
}

irt_status_t ireeclient_invocation_wait(ireeclient_invocation_t* invocation) {
  ireeclient_connection_t* connection = invocation->connection;
  pthread_mutex_lock(&connection->mutex);
  while (invocation->in_flight) {
    pthread_cond_wait(&connection->completed, &connection->mutex);
  }
  irt_status_t status = irt_status_clone(invocation->status);
  pthread_mutex_unlock(&connection->mutex);
  return status;
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

size_t ireeclient_invocation_result_count(
    const ireeclient_invocation_t* invocation) {
  return invocation->reply ? invocation->reply->invoke_reply->n_outputs : 0;
}

// The bytes of a result the daemon wrote into one of our output regions.
static irt_status_t ireeclient_result_shm_data(
    const ireeclient_invocation_t* invocation, size_t index,
    const Ireed__ShmSlice* slice, const void** out_data) {
  const ireeclient_output_t* output =
      index < invocation->output_count ? invocation->outputs[index] : NULL;
  if (!output || !output->shm || output->shm->region_id != slice->region_id ||
      !irt_range_fits(slice->offset, slice->length, output->shm->size)) {
    return irt_make_status(
        IRT_STATUS_INTERNAL,
        "ireed placed result %zu at [%llu, +%llu) of region %llu, which is "
        "not the output target given for it",
        index, (unsigned long long)slice->offset,
        (unsigned long long)slice->length,
        (unsigned long long)slice->region_id);
  }
  *out_data = output->shm->data + slice->offset;
  return IRT_OK;
}

irt_status_t ireeclient_invocation_result(
    const ireeclient_invocation_t* invocation, size_t index,
    ireeclient_value_t* out_value) {
  memset(out_value, 0, sizeof(*out_value));
  size_t count = ireeclient_invocation_result_count(invocation);
  if (index >= count) {
    return irt_make_status(IRT_STATUS_OUT_OF_RANGE,
                           "result %zu of '%s' requested but it has %zu", index,
                           invocation->function, count);
  }
  const Ireed__Value* value = invocation->reply->invoke_reply->outputs[index];
  switch (value->kind_case) {
    case IREED__VALUE__KIND_I32:
      out_value->type = IREECLIENT_VALUE_I32;
      out_value->i32 = value->i32;
      return IRT_OK;
    case IREED__VALUE__KIND_I64:
      out_value->type = IREECLIENT_VALUE_I64;
      out_value->i64 = value->i64;
      return IRT_OK;
    case IREED__VALUE__KIND_F32:
      out_value->type = IREECLIENT_VALUE_F32;
      out_value->f32 = value->f32;
      return IRT_OK;
    case IREED__VALUE__KIND_F64:
      out_value->type = IREECLIENT_VALUE_F64;
      out_value->f64 = value->f64;
      return IRT_OK;
    case IREED__VALUE__KIND_TENSOR:
      break;
    default:
      return IRT_OK;  // IREECLIENT_VALUE_NONE
  }
  const Ireed__Tensor* tensor = value->tensor;
  ireeclient_tensor_t* out_tensor = &out_value->tensor;
  out_tensor->element_type = tensor->element_type;
  out_tensor->rank = tensor->n_shape;
  out_tensor->shape = tensor->shape;
  if (tensor->data_case == IREED__TENSOR__DATA_SHM && tensor->shm) {
    IRT_RETURN_IF_ERROR(ireeclient_result_shm_data(
        invocation, index, tensor->shm, &out_tensor->data));
    out_tensor->byte_length = tensor->shm->length;
  } else {
    out_tensor->data = tensor->inline_data.data;
    out_tensor->byte_length = tensor->inline_data.len;
  }
  out_value->type = IREECLIENT_VALUE_TENSOR;
  return IRT_OK;
}

void ireeclient_invocation_timing(const ireeclient_invocation_t* invocation,
                                  uint64_t* out_queue_ns,
                                  uint64_t* out_execute_ns) {
  const Ireed__InvokeReply* reply =
      invocation->reply ? invocation->reply->invoke_reply : NULL;
  *out_queue_ns = reply ? reply->queue_ns : 0;
  *out_execute_ns = reply ? reply->execute_ns : 0;
}
