// Device entry points through a fake device implementing the vtable:
// queries, the queue operations' validation, the ops they submit, op
// completion (signal / failure propagation / resource release), the
// hal.allocator object and the registered ref types.
//
// The fake device either holds submitted ops for inspection or runs each one
// on host memory once its wait fence is reached (via irhal_fence_notify),
// which is the scheduling model real drivers follow.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/api.h"
#include "tests/support/counting_fixture.h"

//===----------------------------------------------------------------------===//
// The fake device
//===----------------------------------------------------------------------===//

#define MAX_HELD 8

typedef struct {
  irhal_device_t base;
  bool hold;            // keep ops in |held| instead of running them
  bool refuse;          // queue_submit rejects every op
  bool answer_queries;  // query_i64 answers "test" :: "answer"
  int submits;
  irhal_queue_op_t* held[MAX_HELD];
  int held_count;
  int* destroyed;
} fake_device_t;

static void fake_destroy(irhal_device_t* device) {
  fake_device_t* fake = (fake_device_t*)device;
  if (fake->destroyed) ++*fake->destroyed;
  irt_allocator_free(device->host_allocator, fake);
}

static irt_status_t fake_query_i64(irhal_device_t* device,
                                   irt_string_view_t category,
                                   irt_string_view_t key, int64_t* out_value) {
  fake_device_t* fake = (fake_device_t*)device;
  if (irt_string_view_equal_cstring(category, "test") &&
      irt_string_view_equal_cstring(key, "answer") && fake->answer_queries) {
    *out_value = 42;
    return IRT_OK;
  }
  if (irt_string_view_equal_cstring(category, "test") &&
      irt_string_view_equal_cstring(key, "broken")) {
    return irt_make_status(IRT_STATUS_INTERNAL, "query failed");
  }
  return irt_make_status(IRT_STATUS_NOT_FOUND, "unknown query");
}

static bool fake_supports_format(irhal_device_t* device,
                                 irt_string_view_t format) {
  return irt_string_view_starts_with(format, "fake-elf-");
}

static irt_status_t fake_allocate_buffer(irhal_device_t* device,
                                         uint32_t memory_type, uint32_t usage,
                                         irhal_device_size_t size,
                                         irhal_buffer_t** out_buffer) {
  return irhal_host_buffer_allocate(
      device->host_allocator, memory_type | IRHAL_MEMORY_TYPE_HOST_VISIBLE,
      usage, size, out_buffer);
}

static void fill_bytes(uint8_t* bytes, irhal_device_size_t length,
                       uint64_t pattern, uint32_t pattern_length) {
  for (irhal_device_size_t i = 0; i < length; ++i) {
    bytes[i] = (uint8_t)(pattern >> (8 * (i % pattern_length)));
  }
}

static irt_status_t map_range(irhal_buffer_t* buffer,
                              irhal_device_size_t offset,
                              irhal_device_size_t length, uint8_t** out) {
  return irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_ANY, offset, length,
                          (void**)out);
}

// Replays a command buffer on host memory with the op's binding table.
static irt_status_t run_commands(const irhal_command_buffer_t* cb,
                                 const irhal_binding_table_t* table) {
  for (uint32_t i = 0; i < irhal_command_buffer_command_count(cb); ++i) {
    const irhal_command_t* command = irhal_command_buffer_command(cb, i);
    irhal_resolved_ref_t target = {0};
    irhal_resolved_ref_t source = {0};
    uint8_t* t = NULL;
    uint8_t* s = NULL;
    switch (command->kind) {
      case IRHAL_COMMAND_BARRIER:
        break;
      case IRHAL_COMMAND_FILL:
        IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(&command->fill.target,
                                                         table, &target));
        IRT_RETURN_IF_ERROR(
            map_range(target.buffer, target.offset, target.length, &t));
        fill_bytes(t, target.length, command->fill.pattern,
                   command->fill.pattern_length);
        break;
      case IRHAL_COMMAND_UPDATE:
        IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(
            &command->update.target, table, &target));
        IRT_RETURN_IF_ERROR(
            map_range(target.buffer, target.offset, target.length, &t));
        memcpy(t, command->update.data, target.length);
        break;
      case IRHAL_COMMAND_COPY:
        IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(&command->copy.source,
                                                         table, &source));
        IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(&command->copy.target,
                                                         table, &target));
        IRT_RETURN_IF_ERROR(
            map_range(source.buffer, source.offset, source.length, &s));
        IRT_RETURN_IF_ERROR(
            map_range(target.buffer, target.offset, source.length, &t));
        memcpy(t, s, source.length);
        break;
      case IRHAL_COMMAND_DISPATCH:
        for (uint32_t b = 0; b < command->dispatch.binding_count; ++b) {
          IRT_RETURN_IF_ERROR(irhal_command_buffer_resolve(
              &command->dispatch.bindings[b], table, &target));
          if (!target.buffer) {
            return irt_make_status(IRT_STATUS_FAILED_PRECONDITION,
                                   "dispatch binding %u has no buffer", b);
          }
        }
        break;
    }
  }
  return IRT_OK;
}

static irt_status_t run_op(irhal_queue_op_t* op) {
  uint8_t* s = NULL;
  uint8_t* t = NULL;
  switch (op->kind) {
    case IRHAL_QUEUE_OP_BARRIER:
      return IRT_OK;
    case IRHAL_QUEUE_OP_FILL:
      IRT_RETURN_IF_ERROR(
          map_range(op->fill.target, op->fill.offset, op->fill.length, &t));
      fill_bytes(t, op->fill.length, op->fill.pattern, op->fill.pattern_length);
      return IRT_OK;
    case IRHAL_QUEUE_OP_UPDATE:
      IRT_RETURN_IF_ERROR(map_range(op->update.target, op->update.offset,
                                    op->update.length, &t));
      memcpy(t, op->update.data, op->update.length);
      return IRT_OK;
    case IRHAL_QUEUE_OP_COPY:
      IRT_RETURN_IF_ERROR(map_range(op->copy.source, op->copy.source_offset,
                                    op->copy.length, &s));
      IRT_RETURN_IF_ERROR(map_range(op->copy.target, op->copy.target_offset,
                                    op->copy.length, &t));
      memcpy(t, s, op->copy.length);
      return IRT_OK;
    case IRHAL_QUEUE_OP_READ:
      IRT_RETURN_IF_ERROR(map_range(op->transfer.buffer,
                                    op->transfer.buffer_offset,
                                    op->transfer.length, &t));
      return irhal_file_read(op->transfer.file, op->transfer.file_offset, t,
                             op->transfer.length);
    case IRHAL_QUEUE_OP_WRITE:
      IRT_RETURN_IF_ERROR(map_range(op->transfer.buffer,
                                    op->transfer.buffer_offset,
                                    op->transfer.length, &s));
      return irhal_file_write(op->transfer.file, op->transfer.file_offset, s,
                              op->transfer.length);
    case IRHAL_QUEUE_OP_EXECUTE:
      return run_commands(op->execute.command_buffer,
                          &op->execute.binding_table);
  }
  return irt_make_status(IRT_STATUS_INTERNAL, "unknown op kind");
}

// Wait fence reached (or failed): run the op unless its wait failed.
static void on_wait_done(void* user_data, irt_status_t status) {
  irhal_queue_op_t* op = user_data;
  if (!status) status = run_op(op);
  irhal_queue_op_complete(op, status);
}

static irt_status_t fake_queue_submit(irhal_device_t* device,
                                      irhal_queue_op_t* op) {
  fake_device_t* fake = (fake_device_t*)device;
  ++fake->submits;
  if (fake->refuse) {
    return irt_make_status(IRT_STATUS_UNAVAILABLE, "queue is shut down");
  }
  if (fake->hold) {
    assert_true(fake->held_count < MAX_HELD);
    fake->held[fake->held_count++] = op;
    return IRT_OK;
  }
  return irhal_fence_notify(op->wait_fence, on_wait_done, op);
}

static const irhal_device_vtable_t fake_vtable = {
    .destroy = fake_destroy,
    .query_i64 = fake_query_i64,
    .supports_format = fake_supports_format,
    .allocate_buffer = fake_allocate_buffer,
    .queue_submit = fake_queue_submit,
};

static fake_device_t* create_device(irt_allocator_t host) {
  fake_device_t* fake = NULL;
  assert_null(irt_allocator_calloc(host, sizeof(*fake), (void**)&fake));
  irhal_device_initialize(&fake->base, &fake_vtable,
                          irt_make_cstring_view("local-sync"), host);
  return fake;
}

static irhal_queue_op_t* take_held(fake_device_t* fake) {
  assert_true(fake->held_count > 0);
  irhal_queue_op_t* op = fake->held[0];
  memmove(fake->held, fake->held + 1,
          (size_t)(fake->held_count - 1) * sizeof(fake->held[0]));
  --fake->held_count;
  return op;
}

static irhal_buffer_t* allocate_with_usage(irhal_device_size_t size,
                                           uint32_t usage) {
  irhal_buffer_t* buffer = NULL;
  assert_null(irhal_host_buffer_allocate(
      allocator(), IRHAL_MEMORY_TYPE_HOST_LOCAL, usage, size, &buffer));
  return buffer;
}

static irhal_buffer_t* allocate(irhal_device_size_t size) {
  return allocate_with_usage(size, IRHAL_BUFFER_USAGE_DEFAULT);
}

static uint8_t* bytes_of(irhal_buffer_t* buffer) {
  uint8_t* bytes = NULL;
  assert_null(map_range(buffer, 0, IRHAL_WHOLE_LENGTH, &bytes));
  return bytes;
}

static irhal_fence_t* new_fence(void) {
  irhal_fence_t* fence = NULL;
  assert_null(irhal_fence_create_single(allocator(), &fence));
  return fence;
}

//===----------------------------------------------------------------------===//
// Device object and queries
//===----------------------------------------------------------------------===//

static void test_device_lifetime(void** state) {
  (void)state;
  int destroyed = 0;
  fake_device_t* fake = create_device(allocator());
  fake->destroyed = &destroyed;
  irvm_ref_t ref = irvm_ref_wrap(&fake->base, irhal_device_type());
  assert_ptr_equal(irhal_device_deref(&ref), &fake->base);
  assert_string_equal(irhal_device_type()->name, "hal.device");
  irhal_allocator_t* hal_allocator = NULL;
  assert_null(irhal_allocator_create(&fake->base, &hal_allocator));
  assert_ptr_equal(hal_allocator->device, &fake->base);
  irvm_ref_release(&ref);
  assert_int_equal(destroyed, 0);  // the allocator holds the device
  irvm_ref_t allocator_ref =
      irvm_ref_wrap(hal_allocator, irhal_allocator_type());
  assert_ptr_equal(irhal_allocator_deref(&allocator_ref), hal_allocator);
  assert_string_equal(irhal_allocator_type()->name, "hal.allocator");
  irvm_ref_release(&allocator_ref);
  assert_int_equal(destroyed, 1);
}

static void test_allocator_create_failure(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_allocator_t* hal_allocator = (irhal_allocator_t*)1;
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_allocator_create(&fake->base, &hal_allocator),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_null(hal_allocator);
  irhal_allocator_retain(NULL);  // null-safe like every HAL retain/release
  irhal_allocator_release(NULL);
  irhal_device_release(&fake->base);
}

static bool query(irhal_device_t* device, const char* category, const char* key,
                  int64_t* out_value) {
  bool ok = true;
  *out_value = -1;
  assert_null(irhal_device_query_i64(device, irt_make_cstring_view(category),
                                     irt_make_cstring_view(key), &ok,
                                     out_value));
  return ok;
}

static void test_query_device_id_glob(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  const struct {
    const char* pattern;
    int64_t match;
  } cases[] = {
      {"local*", 1},
      {"local-sync", 1},
      {"local-?ync", 1},
      {"*", 1},
      {"**", 1},
      {"*sync", 1},
      {"l*l*c", 1},
      {"*-*", 1},
      {"?????"
       "-????",
       1},
      {"local", 0},
      {"vulkan", 0},
      {"", 0},
      {"local-sync?", 0},
      {"*task", 0},
      {"l*x*", 0},
      {"LOCAL*", 0},
      {"?", 0},
      {"local-sync*", 1},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    int64_t value = 0;
    assert_true(query(&fake->base, "hal.device.id", cases[i].pattern, &value));
    if (value != cases[i].match) fail_msg("pattern '%s'", cases[i].pattern);
  }
  irhal_device_release(&fake->base);
}

static void test_query_formats_and_vtable(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  int64_t value = 0;
  assert_true(
      query(&fake->base, "hal.executable.format", "fake-elf-x86_64", &value));
  assert_int_equal(value, 1);
  assert_true(
      query(&fake->base, "hal.executable.format", "vulkan-spirv-fb", &value));
  assert_int_equal(value, 0);
  // Device-specific keys go to the vtable; NOT_FOUND means "not answered".
  assert_false(query(&fake->base, "test", "answer", &value));
  assert_int_equal(value, 0);
  fake->answer_queries = true;
  assert_true(query(&fake->base, "test", "answer", &value));
  assert_int_equal(value, 42);
  assert_false(query(&fake->base, "hal.device", "nonsense", &value));
  bool ok = true;
  irt_status_t status =
      irhal_device_query_i64(&fake->base, irt_make_cstring_view("test"),
                             irt_make_cstring_view("broken"), &ok, &value);
  assert_false(ok);
  assert_code(status, IRT_STATUS_INTERNAL);
  irhal_device_release(&fake->base);

  // A device without a query function answers only the mandatory pair.
  static const irhal_device_vtable_t minimal_vtable = {
      .destroy = fake_destroy,
      .supports_format = fake_supports_format,
  };
  fake = create_device(allocator());
  fake->base.vtable = &minimal_vtable;
  assert_false(query(&fake->base, "test", "answer", &value));
  assert_true(query(&fake->base, "hal.device.id", "local*", &value));
  irhal_device_release(&fake->base);
}

static void test_ref_types(void** state) {
  (void)state;
  const char* names[IRHAL_REF_TYPE_COUNT] = {
      "hal.allocator",      "hal.buffer", "hal.buffer_view", "hal.channel",
      "hal.command_buffer", "hal.device", "hal.event",       "hal.executable",
      "hal.fence",          "hal.file",   "hal.semaphore",
  };
  for (int i = 0; i < IRHAL_REF_TYPE_COUNT; ++i) {
    assert_string_equal(irhal_ref_types[i]->name, names[i]);
    assert_non_null(irhal_ref_types[i]->destroy);
  }
  assert_ptr_equal(irhal_ref_types[3], &irhal_channel_type_descriptor);
  assert_ptr_equal(irhal_ref_types[6], &irhal_event_type_descriptor);
}

//===----------------------------------------------------------------------===//
// Barriers, alloca, dealloca
//===----------------------------------------------------------------------===//

static void test_barrier(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  fake->hold = true;
  irhal_fence_t* wait = new_fence();
  irhal_fence_t* signal = new_fence();
  // Without a signal fence nothing observes a barrier: elided.
  assert_null(irhal_device_queue_barrier(&fake->base, ~0ull, wait, NULL));
  assert_int_equal(fake->submits, 0);
  assert_null(irhal_device_queue_barrier(&fake->base, 2, wait, signal));
  irhal_queue_op_t* op = take_held(fake);
  assert_int_equal(op->kind, IRHAL_QUEUE_OP_BARRIER);
  assert_int_equal(op->queue_affinity, 2);
  assert_ptr_equal(op->wait_fence, wait);
  assert_ptr_equal(op->signal_fence, signal);
  irhal_fence_release(wait);  // the op holds both fences
  irhal_queue_op_complete(op, IRT_OK);
  assert_null(irhal_fence_query(signal));
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_alloca_and_dealloca(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_fence_t* wait = new_fence();
  irhal_fence_t* allocated = new_fence();
  irhal_buffer_t* buffer = NULL;
  assert_null(irhal_device_queue_alloca(
      &fake->base, ~0ull, wait, allocated, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
      IRHAL_BUFFER_USAGE_DEFAULT, 256, &buffer));
  // Returned immediately; usable only after |allocated|, which follows |wait|.
  assert_int_equal(buffer->byte_length, 256);
  assert_true(buffer->memory_type & IRHAL_MEMORY_TYPE_DEVICE_LOCAL);
  assert_code(irhal_fence_query(allocated), IRT_STATUS_DEFERRED);
  assert_null(irhal_fence_signal(wait));
  assert_null(irhal_fence_wait(allocated, 0));

  irhal_fence_t* freed = new_fence();
  assert_null(irhal_device_queue_dealloca(&fake->base, ~0ull, allocated, freed,
                                          buffer));
  assert_null(irhal_fence_wait(freed, 0));
  // The memory lives while references remain.
  bytes_of(buffer)[255] = 1;
  irhal_buffer_release(buffer);
  assert_code(
      irhal_device_queue_dealloca(&fake->base, ~0ull, NULL, freed, NULL),
      IRT_STATUS_INVALID_ARGUMENT);
  irhal_fence_release(wait);
  irhal_fence_release(allocated);
  irhal_fence_release(freed);
  irhal_device_release(&fake->base);
}

static void test_alloca_failures(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_fence_t* signal = new_fence();
  irhal_buffer_t* buffer = (irhal_buffer_t*)1;
  assert_code(irhal_device_queue_alloca(&fake->base, ~0ull, NULL, signal, 0, 0,
                                        UINT64_MAX, &buffer),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(buffer);
  // A refused barrier gives the memory back.
  fake->refuse = true;
  assert_code(irhal_device_queue_alloca(&fake->base, ~0ull, NULL, signal, 0, 0,
                                        64, &buffer),
              IRT_STATUS_UNAVAILABLE);
  assert_null(buffer);
  // The op itself cannot be allocated (the buffer can).
  fake->refuse = false;
  counter.fail_after = counter.total_allocations + 1;
  assert_code(irhal_device_queue_alloca(&fake->base, ~0ull, NULL, signal, 0, 0,
                                        64, &buffer),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_code(irhal_fence_query(signal), IRT_STATUS_DEFERRED);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

//===----------------------------------------------------------------------===//
// Transfers
//===----------------------------------------------------------------------===//

static void test_fill(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_buffer_t* buffer = allocate(16);
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_fill(&fake->base, ~0ull, NULL, signal, buffer,
                                      4, IRHAL_WHOLE_LENGTH, 0x1122, 2));
  assert_null(irhal_fence_wait(signal, 0));
  const uint8_t expected[16] = {0,    0,    0,    0,    0x22, 0x11, 0x22, 0x11,
                                0x22, 0x11, 0x22, 0x11, 0x22, 0x11, 0x22, 0x11};
  assert_memory_equal(bytes_of(buffer), expected, 16);

  irhal_buffer_t* source_only =
      allocate_with_usage(16, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE);
  assert_code(
      irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL, NULL, 0, 4, 0, 4),
      IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL,
                                      source_only, 0, 4, 0, 4),
              IRT_STATUS_PERMISSION_DENIED);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL, buffer, 8,
                                      12, 0, 4),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL, buffer, 0,
                                      4, 0, 3),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL, buffer, 2,
                                      4, 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, NULL, buffer, 2,
                                      IRHAL_WHOLE_LENGTH, 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);  // the resolved 14 bytes
  assert_int_equal(fake->submits, 1);
  irhal_buffer_release(source_only);
  irhal_buffer_release(buffer);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_update_captures_host_bytes(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  fake->hold = true;
  irhal_buffer_t* buffer = allocate(8);
  irhal_fence_t* signal = new_fence();
  uint8_t data[4] = {9, 8, 7, 6};
  assert_null(irhal_device_queue_update(&fake->base, ~0ull, NULL, signal, data,
                                        buffer, 4, 4));
  memset(data, 0, sizeof(data));
  irhal_queue_op_t* op = take_held(fake);
  assert_int_equal(op->kind, IRHAL_QUEUE_OP_UPDATE);
  assert_int_equal(op->update.length, 4);
  on_wait_done(op, IRT_OK);
  assert_null(irhal_fence_wait(signal, 0));
  const uint8_t expected[8] = {0, 0, 0, 0, 9, 8, 7, 6};
  assert_memory_equal(bytes_of(buffer), expected, 8);

  assert_null(irhal_device_queue_update(&fake->base, ~0ull, NULL, NULL, NULL,
                                        buffer, 8, IRHAL_WHOLE_LENGTH));
  irhal_queue_op_destroy(take_held(fake));
  assert_code(irhal_device_queue_update(&fake->base, ~0ull, NULL, NULL, NULL,
                                        buffer, 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_device_queue_update(&fake->base, ~0ull, NULL, NULL, data,
                                        buffer, 6, 4),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_device_queue_update(&fake->base, ~0ull, NULL, NULL, data,
                                        NULL, 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  // Op allocation, then the data copy, fail.
  for (size_t n = 0; n < 2; ++n) {
    counter.fail_after = counter.total_allocations + n;
    assert_code(irhal_device_queue_update(&fake->base, ~0ull, NULL, NULL, data,
                                          buffer, 0, 4),
                IRT_STATUS_RESOURCE_EXHAUSTED);
  }
  counter.fail_after = SIZE_MAX;
  irhal_buffer_release(buffer);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_copy(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_buffer_t* source =
      allocate_with_usage(8, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE);
  irhal_buffer_t* target =
      allocate_with_usage(16, IRHAL_BUFFER_USAGE_TRANSFER_TARGET);
  for (int i = 0; i < 8; ++i) bytes_of(source)[i] = (uint8_t)(i + 1);
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_copy(&fake->base, ~0ull, NULL, signal, source,
                                      2, target, 10, IRHAL_WHOLE_LENGTH));
  assert_null(irhal_fence_wait(signal, 0));
  const uint8_t expected[6] = {3, 4, 5, 6, 7, 8};
  assert_memory_equal(bytes_of(target) + 10, expected, 6);

  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, NULL, target, 0,
                                      target, 8, 8),
              IRT_STATUS_PERMISSION_DENIED);
  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, NULL, source, 0,
                                      source, 0, 8),
              IRT_STATUS_PERMISSION_DENIED);
  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, NULL, source, 0,
                                      target, 12, 8),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, NULL, source, 4,
                                      target, 0, 8),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, NULL, NULL, 0,
                                      target, 0, 8),
              IRT_STATUS_INVALID_ARGUMENT);
  irhal_buffer_release(source);
  irhal_buffer_release(target);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_read_write_files(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  uint8_t rodata[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  irhal_file_t* memory_file = NULL;
  assert_null(irhal_file_create_from_memory(
      rodata, sizeof(rodata), IRHAL_MEMORY_ACCESS_READ,
      (irhal_release_callback_t){0}, allocator(), &memory_file));
  irhal_buffer_t* buffer = allocate(8);
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_read(&fake->base, ~0ull, NULL, signal,
                                      memory_file, 2, buffer, 0, 6));
  assert_null(irhal_fence_wait(signal, 0));
  assert_memory_equal(bytes_of(buffer), rodata + 2, 6);
  irhal_fence_release(signal);

  // Writes need WRITE access on the file.
  assert_code(irhal_device_queue_write(&fake->base, ~0ull, NULL, NULL, buffer,
                                       0, memory_file, 0, 4),
              IRT_STATUS_PERMISSION_DENIED);
  assert_code(irhal_device_queue_read(&fake->base, ~0ull, NULL, NULL,
                                      memory_file, 4, buffer, 0, 6),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_device_queue_read(&fake->base, ~0ull, NULL, NULL, NULL, 0,
                                      buffer, 0, 6),
              IRT_STATUS_INVALID_ARGUMENT);
  irhal_buffer_t* no_target =
      allocate_with_usage(8, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE);
  assert_code(irhal_device_queue_read(&fake->base, ~0ull, NULL, NULL,
                                      memory_file, 0, no_target, 0, 4),
              IRT_STATUS_PERMISSION_DENIED);

  // An fd file round trip: write the buffer out, read it back elsewhere.
  char path[] = "/tmp/irhal_device_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(ftruncate(fd, 16), 0);
  irhal_file_t* fd_file = NULL;
  assert_null(irhal_file_create_from_fd(
      fd, 16, IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE, allocator(),
      &fd_file));
  close(fd);
  signal = new_fence();
  assert_null(irhal_device_queue_write(&fake->base, ~0ull, NULL, signal, buffer,
                                       0, fd_file, 8, IRHAL_WHOLE_LENGTH));
  assert_null(irhal_fence_wait(signal, 0));
  irhal_fence_release(signal);
  irhal_buffer_t* back = allocate(8);
  signal = new_fence();
  assert_null(irhal_device_queue_read(&fake->base, ~0ull, NULL, signal, fd_file,
                                      8, back, 0, 8));
  assert_null(irhal_fence_wait(signal, 0));
  assert_memory_equal(bytes_of(back), bytes_of(buffer), 8);
  assert_code(irhal_device_queue_write(&fake->base, ~0ull, NULL, NULL,
                                       no_target, 0, fd_file, 12, 8),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_fence_release(signal);
  irhal_buffer_release(back);
  irhal_buffer_release(no_target);
  irhal_buffer_release(buffer);
  irhal_file_release(fd_file);
  irhal_file_release(memory_file);
  irhal_device_release(&fake->base);
}

static void test_read_failure_fails_signal(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  int fd = open("/dev/null", O_RDONLY);
  irhal_file_t* file = NULL;
  // Claims 8 bytes; reading hits end of file while the op runs.
  assert_null(irhal_file_create_from_fd(fd, 8, IRHAL_MEMORY_ACCESS_READ,
                                        allocator(), &file));
  close(fd);
  irhal_buffer_t* buffer = allocate(8);
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_read(&fake->base, ~0ull, NULL, signal, file, 0,
                                      buffer, 0, 8));
  assert_code(irhal_fence_wait(signal, INT64_MAX), IRT_STATUS_DATA_LOSS);
  irhal_fence_release(signal);
  irhal_buffer_release(buffer);
  irhal_file_release(file);
  irhal_device_release(&fake->base);
}

//===----------------------------------------------------------------------===//
// Execute
//===----------------------------------------------------------------------===//

static irhal_command_buffer_t* record_transfers(uint32_t capacity) {
  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(0, 3, capacity, allocator(), &cb));
  irhal_buffer_ref_t slot0 = {NULL, 0, 0, 8};
  assert_null(irhal_command_buffer_fill(cb, slot0, 0xAB, 1));
  assert_null(irhal_command_buffer_barrier(cb));
  slot0.length = 4;
  assert_null(irhal_command_buffer_copy(cb, slot0,
                                        (irhal_buffer_ref_t){NULL, 1, 0, 4}));
  const uint8_t data[2] = {0x55, 0x66};
  assert_null(irhal_command_buffer_update(cb, data,
                                          (irhal_buffer_ref_t){NULL, 1, 6, 2}));
  return cb;
}

static void test_execute_with_binding_table(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_command_buffer_t* cb = record_transfers(2);
  irhal_buffer_t* a = allocate(32);
  irhal_buffer_t* b = allocate(32);
  irhal_fence_t* signal = new_fence();
  assert_code(
      irhal_device_queue_execute(&fake->base, ~0ull, NULL, signal, cb, NULL),
      IRT_STATUS_FAILED_PRECONDITION);  // still recording
  assert_null(irhal_command_buffer_finalize(cb));
  irhal_buffer_ref_t entries[3] = {
      {a, 0, 16, 8}, {b, 0, 8, IRHAL_WHOLE_LENGTH}, {NULL, 0, 0, 0}};
  irhal_binding_table_t table = {3, entries};
  fake->hold = true;
  assert_null(
      irhal_device_queue_execute(&fake->base, ~0ull, NULL, signal, cb, &table));
  // The table was captured and its buffers retained.
  memset(entries, 0, sizeof(entries));
  irhal_command_buffer_release(cb);
  irhal_queue_op_t* op = take_held(fake);
  assert_int_equal(op->kind, IRHAL_QUEUE_OP_EXECUTE);
  assert_int_equal(op->execute.binding_table.count, 3);
  assert_ptr_equal(op->execute.binding_table.entries[1].buffer, b);
  on_wait_done(op, IRT_OK);
  assert_null(irhal_fence_wait(signal, 0));
  const uint8_t expected_b[8] = {0xAB, 0xAB, 0xAB, 0xAB, 0, 0, 0x55, 0x66};
  assert_memory_equal(bytes_of(b) + 8, expected_b, 8);
  assert_int_equal(bytes_of(a)[16], 0xAB);
  assert_int_equal(bytes_of(a)[23], 0xAB);
  assert_int_equal(bytes_of(a)[24], 0);
  irhal_buffer_release(a);
  irhal_buffer_release(b);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_execute_errors(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_command_buffer_t* cb = record_transfers(2);
  assert_null(irhal_command_buffer_finalize(cb));
  irhal_buffer_t* a = allocate(16);
  assert_code(
      irhal_device_queue_execute(&fake->base, ~0ull, NULL, NULL, NULL, NULL),
      IRT_STATUS_INVALID_ARGUMENT);
  irhal_buffer_ref_t bad[1] = {{a, 0, 8, 9}};
  irhal_binding_table_t bad_table = {1, bad};
  assert_code(irhal_device_queue_execute(&fake->base, ~0ull, NULL, NULL, cb,
                                         &bad_table),
              IRT_STATUS_OUT_OF_RANGE);
  counter.fail_after = counter.total_allocations + 1;  // op, then the table
  irhal_buffer_ref_t good[1] = {{a, 0, 0, 16}};
  irhal_binding_table_t good_table = {1, good};
  assert_code(irhal_device_queue_execute(&fake->base, ~0ull, NULL, NULL, cb,
                                         &good_table),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;

  // Errors found while executing fail the signal fence: a table too small
  // for the recorded slot 1.
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_execute(&fake->base, ~0ull, NULL, signal, cb,
                                         &good_table));
  assert_code(irhal_fence_wait(signal, 0), IRT_STATUS_OUT_OF_RANGE);
  irhal_fence_release(signal);

  // An indirect dispatch binding with an empty table resolves to no buffer,
  // which the dispatch rejects.
  irhal_command_buffer_t* dispatch_cb = NULL;
  assert_null(irhal_command_buffer_create(0, 3, 1, allocator(), &dispatch_cb));
  irhal_executable_t executable;
  memset(&executable, 0, sizeof(executable));
  executable.export_count = 1;
  irhal_buffer_ref_t binding = {NULL, 0, 0, IRHAL_WHOLE_LENGTH};
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = &executable;
  dispatch.dispatch.binding_count = 1;
  dispatch.dispatch.bindings = &binding;
  irt_ref_count_init(&executable.header.count);
  assert_null(irhal_command_buffer_dispatch(dispatch_cb, &dispatch));
  assert_null(irhal_command_buffer_finalize(dispatch_cb));
  signal = new_fence();
  assert_null(irhal_device_queue_execute(&fake->base, ~0ull, NULL, signal,
                                         dispatch_cb, NULL));
  assert_code(irhal_fence_wait(signal, 0), IRT_STATUS_FAILED_PRECONDITION);
  irhal_fence_release(signal);
  irhal_command_buffer_release(dispatch_cb);  // stack executable: count 2 -> 1

  irhal_buffer_release(a);
  irhal_command_buffer_release(cb);
  irhal_device_release(&fake->base);
}

//===----------------------------------------------------------------------===//
// Completion and ordering
//===----------------------------------------------------------------------===//

static void test_ops_wait_for_their_fence(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_buffer_t* buffer = allocate(4);
  irhal_fence_t* start = new_fence();
  irhal_fence_t* filled = new_fence();
  irhal_fence_t* copied = new_fence();
  irhal_buffer_t* target = allocate(4);
  // Submitted in reverse dependency order: the copy waits for the fill.
  assert_null(irhal_device_queue_copy(&fake->base, ~0ull, filled, copied,
                                      buffer, 0, target, 0, 4));
  assert_null(irhal_device_queue_fill(&fake->base, ~0ull, start, filled, buffer,
                                      0, 4, 0x7F, 1));
  assert_int_equal(bytes_of(target)[0], 0);
  assert_code(irhal_fence_query(copied), IRT_STATUS_DEFERRED);
  // Compiled code drops its references right after submission.
  irhal_buffer_release(buffer);
  irhal_fence_release(filled);
  assert_null(irhal_fence_signal(start));
  assert_null(irhal_fence_wait(copied, 0));
  assert_int_equal(bytes_of(target)[3], 0x7F);
  irhal_buffer_release(target);
  irhal_fence_release(start);
  irhal_fence_release(copied);
  irhal_device_release(&fake->base);
}

static void test_failure_propagates_along_chains(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_buffer_t* buffer = allocate(4);
  irhal_fence_t* start = new_fence();
  irhal_fence_t* middle = new_fence();
  irhal_fence_t* end = new_fence();
  assert_null(irhal_device_queue_fill(&fake->base, ~0ull, start, middle, buffer,
                                      0, 4, 1, 1));
  assert_null(irhal_device_queue_fill(&fake->base, ~0ull, middle, end, buffer,
                                      0, 4, 2, 1));
  irhal_fence_fail(start, irt_make_status(IRT_STATUS_ABORTED, "upstream"));
  assert_code(irhal_fence_wait(end, INT64_MAX), IRT_STATUS_ABORTED);
  assert_int_equal(bytes_of(buffer)[0], 0);  // neither op ran
  irhal_buffer_release(buffer);
  irhal_fence_release(start);
  irhal_fence_release(middle);
  irhal_fence_release(end);
  irhal_device_release(&fake->base);
}

static void test_complete_releases_before_signalling(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  fake->hold = true;
  irhal_buffer_t* source = allocate(8);
  irhal_buffer_t* target = allocate(8);
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_device_queue_copy(&fake->base, ~0ull, NULL, signal, source,
                                      0, target, 0, 8));
  irhal_buffer_release(source);
  irhal_buffer_release(target);
  size_t live_with_op = counter.live_allocations;
  irhal_queue_op_t* op = take_held(fake);
  // Both buffers (and the op) are still alive until completion.
  assert_ptr_equal(op->copy.source, source);
  irhal_queue_op_complete(op, IRT_OK);
  assert_int_equal(counter.live_allocations, live_with_op - 3);
  assert_null(irhal_fence_wait(signal, 0));
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_complete_edge_cases(void** state) {
  (void)state;
  irhal_queue_op_t* op = NULL;
  // No signal fence: a failure can only be logged.
  assert_null(irhal_queue_op_create(IRHAL_QUEUE_OP_BARRIER, ~0ull, NULL, NULL,
                                    allocator(), &op));
  irhal_queue_op_complete(op, irt_make_status(IRT_STATUS_INTERNAL, "lost"));
  assert_null(irhal_queue_op_create(IRHAL_QUEUE_OP_BARRIER, ~0ull, NULL, NULL,
                                    allocator(), &op));
  irhal_queue_op_complete(op, IRT_OK);
  // A signal fence that cannot be signalled (already past its payload) is
  // failed instead, so waiters never hang.
  irhal_fence_t* signal = new_fence();
  assert_null(irhal_fence_signal(signal));
  assert_null(irhal_queue_op_create(IRHAL_QUEUE_OP_BARRIER, ~0ull, NULL, signal,
                                    allocator(), &op));
  irhal_queue_op_complete(op, IRT_OK);
  assert_code(irhal_fence_wait(signal, 0), IRT_STATUS_OUT_OF_RANGE);
  irhal_fence_release(signal);
  // Destroying NULL is a no-op; allocation failure is reported.
  irhal_queue_op_destroy(NULL);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_queue_op_create(IRHAL_QUEUE_OP_FILL, 0, NULL, NULL,
                                    allocator(), &op),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_null(op);
}

static void test_refused_submissions_release_everything(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  fake->refuse = true;
  irhal_buffer_t* buffer = allocate(8);
  irhal_fence_t* signal = new_fence();
  uint8_t data[8] = {0};
  assert_code(irhal_device_queue_barrier(&fake->base, ~0ull, NULL, signal),
              IRT_STATUS_UNAVAILABLE);
  assert_code(irhal_device_queue_fill(&fake->base, ~0ull, NULL, signal, buffer,
                                      0, 8, 0, 4),
              IRT_STATUS_UNAVAILABLE);
  assert_code(irhal_device_queue_update(&fake->base, ~0ull, NULL, signal, data,
                                        buffer, 0, 8),
              IRT_STATUS_UNAVAILABLE);
  assert_code(irhal_device_queue_copy(&fake->base, ~0ull, NULL, signal, buffer,
                                      0, buffer, 0, 8),
              IRT_STATUS_UNAVAILABLE);
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_memory(
      data, sizeof(data), IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE,
      (irhal_release_callback_t){0}, allocator(), &file));
  assert_code(irhal_device_queue_read(&fake->base, ~0ull, NULL, signal, file, 0,
                                      buffer, 0, 8),
              IRT_STATUS_UNAVAILABLE);
  assert_code(irhal_device_queue_write(&fake->base, ~0ull, NULL, signal, buffer,
                                       0, file, 0, 8),
              IRT_STATUS_UNAVAILABLE);
  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(0, 3, 1, allocator(), &cb));
  assert_null(irhal_command_buffer_finalize(cb));
  irhal_buffer_ref_t entries[1] = {{buffer, 0, 0, 8}};
  irhal_binding_table_t table = {1, entries};
  assert_code(
      irhal_device_queue_execute(&fake->base, ~0ull, NULL, signal, cb, &table),
      IRT_STATUS_UNAVAILABLE);
  assert_int_equal(fake->submits, 7);
  // Everything the ops retained was released with them.
  irhal_command_buffer_release(cb);
  irhal_file_release(file);
  irhal_buffer_release(buffer);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

static void test_op_allocation_failures(void** state) {
  (void)state;
  fake_device_t* fake = create_device(allocator());
  irhal_buffer_t* buffer = allocate(8);
  irhal_fence_t* signal = new_fence();
  irhal_file_t* file = NULL;
  uint8_t data[8] = {0};
  assert_null(irhal_file_create_from_memory(
      data, sizeof(data), IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE,
      (irhal_release_callback_t){0}, allocator(), &file));
  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(0, 3, 0, allocator(), &cb));
  assert_null(irhal_command_buffer_finalize(cb));
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_device_queue_barrier(&fake->base, 0, NULL, signal),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_code(
      irhal_device_queue_fill(&fake->base, 0, NULL, signal, buffer, 0, 8, 0, 1),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_code(irhal_device_queue_copy(&fake->base, 0, NULL, signal, buffer, 0,
                                      buffer, 0, 8),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_code(irhal_device_queue_read(&fake->base, 0, NULL, signal, file, 0,
                                      buffer, 0, 8),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_code(
      irhal_device_queue_execute(&fake->base, 0, NULL, signal, cb, NULL),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  assert_int_equal(fake->submits, 0);
  irhal_command_buffer_release(cb);
  irhal_file_release(file);
  irhal_buffer_release(buffer);
  irhal_fence_release(signal);
  irhal_device_release(&fake->base);
}

//===----------------------------------------------------------------------===//
// Concurrency: a chain of ops released by another thread
//===----------------------------------------------------------------------===//

#define CHAIN 64

static void* signal_fence_thread(void* arg) {
  irt_status_free(irhal_fence_signal(arg));
  return NULL;
}

static void test_threads_chain_of_ops(void** state) {
  (void)state;
  irt_allocator_t host = irt_allocator_system();
  for (int round = 0; round < 20; ++round) {
    fake_device_t* fake = create_device(host);
    irhal_buffer_t* buffer = NULL;
    assert_null(irhal_host_buffer_allocate(host, 0, IRHAL_BUFFER_USAGE_DEFAULT,
                                           CHAIN, &buffer));
    irhal_fence_t* fences[CHAIN + 1];
    for (int i = 0; i <= CHAIN; ++i) {
      assert_null(irhal_fence_create_single(host, &fences[i]));
    }
    pthread_t thread;
    // The first fence is signalled while the chain is still being built.
    pthread_create(&thread, NULL, signal_fence_thread, fences[0]);
    for (int i = 0; i < CHAIN; ++i) {
      uint8_t value = (uint8_t)(i + 1);
      assert_null(irhal_device_queue_update(&fake->base, ~0ull, fences[i],
                                            fences[i + 1], &value, buffer,
                                            (irhal_device_size_t)i, 1));
    }
    assert_null(irhal_fence_wait(fences[CHAIN], INT64_MAX));
    pthread_join(thread, NULL);
    for (int i = 0; i < CHAIN; ++i)
      assert_int_equal(bytes_of(buffer)[i], i + 1);
    for (int i = 0; i <= CHAIN; ++i) irhal_fence_release(fences[i]);
    irhal_buffer_release(buffer);
    irhal_device_release(&fake->base);
  }
}

int main(void) {
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_device_lifetime),
      TEST(test_allocator_create_failure),
      TEST(test_query_device_id_glob),
      TEST(test_query_formats_and_vtable),
      cmocka_unit_test(test_ref_types),
      TEST(test_barrier),
      TEST(test_alloca_and_dealloca),
      TEST(test_alloca_failures),
      TEST(test_fill),
      TEST(test_update_captures_host_bytes),
      TEST(test_copy),
      TEST(test_read_write_files),
      TEST(test_read_failure_fails_signal),
      TEST(test_execute_with_binding_table),
      TEST(test_execute_errors),
      TEST(test_ops_wait_for_their_fence),
      TEST(test_failure_propagates_along_chains),
      TEST(test_complete_releases_before_signalling),
      TEST(test_complete_edge_cases),
      TEST(test_refused_submissions_release_everything),
      TEST(test_op_allocation_failures),
      cmocka_unit_test(test_threads_chain_of_ops),
  };
#undef TEST
  return cmocka_run_group_tests(tests, NULL, NULL);
}
