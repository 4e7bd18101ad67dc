// hal.command_buffer.* recording and hal.device.queue.* submission, run by
// the fake device.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/modules_hal/hal_fixture.h"

static int setup(void** state) {
  hal_fixture_t* fixture = malloc(sizeof(*fixture));
  hal_fixture_init(fixture);
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  hal_fixture_deinit(*state);
  free(*state);
  return 0;
}

//===----------------------------------------------------------------------===//
// Helpers
//===----------------------------------------------------------------------===//

static irvm_ref_t make_buffer(hal_fixture_t* fixture, uint64_t size,
                              uint32_t usage) {
  irhal_buffer_t* buffer = NULL;
  HAL_OK(irhal_host_buffer_allocate(
      fixture->allocator,
      IRHAL_MEMORY_TYPE_DEVICE_LOCAL | IRHAL_MEMORY_TYPE_HOST_VISIBLE, usage,
      size, &buffer));
  return hal_ref(buffer, irhal_buffer_type());
}

static uint8_t* bytes_of(irvm_ref_t buffer) {
  irhal_buffer_t* hal_buffer = irhal_buffer_deref(&buffer);
  void* ptr = NULL;
  HAL_OK(irhal_buffer_map(hal_buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                          hal_buffer->byte_length, &ptr));
  return ptr;
}

static irvm_ref_t make_fence(hal_fixture_t* fixture) {
  irhal_fence_t* fence = NULL;
  HAL_OK(irhal_fence_create_single(fixture->allocator, &fence));
  return hal_ref(fence, irhal_fence_type());
}

static int32_t await_fence(hal_fixture_t* fixture, irvm_ref_t fence,
                           irt_status_t* out_status) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i32(&args, -1);
  hal_args_i64(&args, 0);
  irvm_abi_span_t span = hal_args_span(&args, 1, "r");
  irvm_abi_cursor_t element = irvm_abi_span_element(span, 0);
  hal_span_ref(&element, fence);
  hal_results_t results;
  *out_status = hal_call(fixture, "fence.await", &args, &results);
  return irt_status_is_ok(*out_status) ? hal_results_i32(&results) : -1;
}

static void expect_reached(hal_fixture_t* fixture, irvm_ref_t fence) {
  irt_status_t status = IRT_OK;
  int32_t result = await_fence(fixture, fence, &status);
  HAL_OK(status);
  assert_int_equal(result, 0);
}

static irvm_ref_t make_executable(hal_fixture_t* fixture) {
  irvm_ref_t format = hal_vm_text(fixture, FAKE_DEVICE_FORMAT);
  irvm_ref_t data = hal_vm_text(fixture, "code");
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  hal_args_ref(&args, format);
  hal_args_ref(&args, data);
  hal_args_ref(&args, irvm_ref_null());
  hal_results_t results;
  HAL_OK(hal_call(fixture, "executable.create", &args, &results));
  irvm_ref_release(&format);
  irvm_ref_release(&data);
  return hal_results_ref(&results);
}

static irt_status_t cb_create(hal_fixture_t* fixture, int32_t mode,
                              int32_t binding_capacity, irvm_ref_t* out_cb) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i32(&args, mode);
  hal_args_i32(
      &args, IRHAL_COMMAND_CATEGORY_TRANSFER | IRHAL_COMMAND_CATEGORY_DISPATCH);
  hal_args_i64(&args, -1);
  hal_args_i32(&args, binding_capacity);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(
      hal_call(fixture, "command_buffer.create", &args, &results));
  *out_cb = hal_results_ref(&results);
  return IRT_OK;
}

static irt_status_t cb_simple(hal_fixture_t* fixture, const char* name,
                              irvm_ref_t cb) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  return hal_call(fixture, name, &args, NULL);
}

static irt_status_t cb_fill(hal_fixture_t* fixture, irvm_ref_t cb,
                            irvm_ref_t target, int32_t slot, int64_t offset,
                            int64_t length, int64_t pattern,
                            int32_t pattern_length) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, target);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_args_i32(&args, slot);
  hal_args_i64(&args, pattern);
  hal_args_i32(&args, pattern_length);
  hal_args_i64(&args, 0);
  return hal_call(fixture, "command_buffer.fill_buffer", &args, NULL);
}

static irt_status_t cb_update(hal_fixture_t* fixture, irvm_ref_t cb,
                              irvm_ref_t source, int64_t source_offset,
                              irvm_ref_t target, int32_t slot,
                              int64_t target_offset, int64_t length) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, source);
  hal_args_i64(&args, source_offset);
  hal_args_ref(&args, target);
  hal_args_i64(&args, target_offset);
  hal_args_i64(&args, length);
  hal_args_i32(&args, slot);
  hal_args_i64(&args, 0);
  return hal_call(fixture, "command_buffer.update_buffer", &args, NULL);
}

static irt_status_t cb_copy(hal_fixture_t* fixture, irvm_ref_t cb,
                            int32_t source_slot, irvm_ref_t source,
                            int64_t source_offset, int32_t target_slot,
                            irvm_ref_t target, int64_t target_offset,
                            int64_t length) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_i32(&args, source_slot);
  hal_args_i32(&args, target_slot);
  hal_args_ref(&args, source);
  hal_args_i64(&args, source_offset);
  hal_args_ref(&args, target);
  hal_args_i64(&args, target_offset);
  hal_args_i64(&args, length);
  hal_args_i64(&args, 0);
  return hal_call(fixture, "command_buffer.copy_buffer", &args, NULL);
}

static irt_status_t cb_barrier(hal_fixture_t* fixture, irvm_ref_t cb) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_i32(&args, 0x1C);
  hal_args_i32(&args, 0x0D);
  hal_args_i64(&args, 0);
  return hal_call(fixture, "command_buffer.execution_barrier", &args, NULL);
}

typedef struct binding_s {
  int32_t slot;
  irvm_ref_t buffer;
  int64_t offset;
  int64_t length;
} binding_t;

// Packs the constants and bindings lists shared by both dispatch exports.
static void pack_dispatch_lists(hal_args_t* args, const int32_t* constants,
                                uint32_t constant_count,
                                const binding_t* bindings,
                                uint32_t binding_count) {
  irvm_abi_span_t span = hal_args_span(args, constant_count, "i");
  for (uint32_t i = 0; i < constant_count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    irvm_abi_write_i32(&element, constants[i]);
  }
  span = hal_args_span(args, binding_count, "iirII");
  for (uint32_t i = 0; i < binding_count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    irvm_abi_write_i32(&element, 0);  // reserved
    irvm_abi_write_i32(&element, bindings[i].slot);
    hal_span_ref(&element, bindings[i].buffer);
    irvm_abi_write_i64(&element, bindings[i].offset);
    irvm_abi_write_i64(&element, bindings[i].length);
  }
}

static irt_status_t cb_dispatch(hal_fixture_t* fixture, irvm_ref_t cb,
                                irvm_ref_t executable, int32_t ordinal,
                                const int32_t workgroups[3], int64_t flags,
                                const int32_t* constants,
                                uint32_t constant_count,
                                const binding_t* bindings,
                                uint32_t binding_count) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, executable);
  hal_args_i32(&args, ordinal);
  for (int i = 0; i < 3; ++i) hal_args_i32(&args, workgroups[i]);
  hal_args_i64(&args, flags);
  pack_dispatch_lists(&args, constants, constant_count, bindings,
                      binding_count);
  return hal_call(fixture, "command_buffer.dispatch", &args, NULL);
}

static irt_status_t cb_dispatch_indirect(
    hal_fixture_t* fixture, irvm_ref_t cb, irvm_ref_t executable,
    int32_t ordinal, int32_t workgroups_slot, irvm_ref_t workgroups,
    int64_t workgroups_offset, const int32_t* constants,
    uint32_t constant_count, const binding_t* bindings,
    uint32_t binding_count) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, executable);
  hal_args_i32(&args, ordinal);
  hal_args_i32(&args, workgroups_slot);
  hal_args_ref(&args, workgroups);
  hal_args_i64(&args, workgroups_offset);
  hal_args_i64(&args, 0);
  pack_dispatch_lists(&args, constants, constant_count, bindings,
                      binding_count);
  return hal_call(fixture, "command_buffer.dispatch.indirect", &args, NULL);
}

typedef struct table_entry_s {
  irvm_ref_t buffer;
  int64_t offset;
  int64_t length;
} table_entry_t;

static irt_status_t queue_execute(hal_fixture_t* fixture, irvm_ref_t wait,
                                  irvm_ref_t signal, irvm_ref_t cb,
                                  const table_entry_t* table,
                                  uint32_t table_count) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  hal_args_ref(&args, wait);
  hal_args_ref(&args, signal);
  hal_args_ref(&args, cb);
  hal_args_i64(&args, 0);
  if (!table) return hal_call(fixture, "device.queue.execute", &args, NULL);
  irvm_abi_span_t span = hal_args_span(&args, table_count, "rII");
  for (uint32_t i = 0; i < table_count; ++i) {
    irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
    hal_span_ref(&element, table[i].buffer);
    irvm_abi_write_i64(&element, table[i].offset);
    irvm_abi_write_i64(&element, table[i].length);
  }
  return hal_call(fixture, "device.queue.execute.indirect", &args, NULL);
}

//===----------------------------------------------------------------------===//
// Command buffers
//===----------------------------------------------------------------------===//

#define USAGE_ALL \
  (IRHAL_BUFFER_USAGE_DEFAULT | IRHAL_BUFFER_USAGE_DISPATCH_INDIRECT_PARAMETERS)

static void test_record_and_execute(void** state) {
  hal_fixture_t* fixture = *state;
  fake_device_t* device = fixture->device;
  irvm_ref_t a = make_buffer(fixture, 64, USAGE_ALL);
  irvm_ref_t b = make_buffer(fixture, 64, USAGE_ALL);
  irvm_ref_t c = make_buffer(fixture, 64, USAGE_ALL);
  irvm_ref_t counts = make_buffer(fixture, 16, USAGE_ALL);
  uint32_t* count_words = (uint32_t*)bytes_of(counts);
  count_words[1] = 2;
  count_words[2] = 3;
  count_words[3] = 4;
  irvm_ref_t executable = make_executable(fixture);
  irvm_ref_t host = hal_vm_bytes(fixture, "hello world!", 12, true);
  irvm_ref_t label = hal_vm_text(fixture, "label");

  irvm_ref_t cb = irvm_ref_null();
  HAL_OK(cb_create(fixture, 0, 3, &cb));
  assert_ptr_equal(cb.type, irhal_command_buffer_type());
  assert_false(irhal_command_buffer_is_finalized(
      irhal_command_buffer_deref(&cb)));  // already recording

  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, label);
  HAL_OK(hal_call(fixture, "command_buffer.begin_debug_group", &args, NULL));
  // Slot 0 is B: fill B[0, 16) with 0xAB.
  HAL_OK(cb_fill(fixture, cb, irvm_ref_null(), 0, 0, 16, 0xAB, 1));
  // A[0, 6) = "world!", captured now.
  HAL_OK(cb_update(fixture, cb, host, 6, a, 0, 0, 6));
  memcpy(irvm_buffer_deref(&host)->data, "XXXXXXXXXXXX", 12);
  HAL_OK(cb_barrier(fixture, cb));
  // Slot 1 is C: C[4, 12) = B[0, 8).
  HAL_OK(cb_copy(fixture, cb, 0, irvm_ref_null(), 0, 1, irvm_ref_null(), 4, 8));
  HAL_OK(cb_fill(fixture, cb, a, 0, 8, 8, 0x11223344, 4));
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  hal_args_ref(&args, a);
  hal_args_i64(&args, 0);
  hal_args_i64(&args, 0);
  hal_args_i64(&args, 0);
  hal_args_i32(&args, 0);
  HAL_OK(hal_call(fixture, "command_buffer.advise_buffer", &args, NULL));
  HAL_OK(cb_barrier(fixture, cb));
  const int32_t workgroups[3] = {4, 5, 6};
  const int32_t constant42 = 42;
  binding_t bindings[2] = {{0, a, 0, 16}, {1, irvm_ref_null(), 8, -1}};
  HAL_OK(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, &constant42, 1,
                     bindings, 2));
  // Slot 2 holds the counts at offset 4.
  const int32_t constant7 = 7;
  binding_t more[2] = {{9, a, 0, -1}, {0, irvm_ref_null(), 0, 8}};
  HAL_OK(cb_dispatch_indirect(fixture, cb, executable, 1, 2, irvm_ref_null(), 4,
                              &constant7, 1, more, 2));
  HAL_OK(cb_simple(fixture, "command_buffer.end_debug_group", cb));
  HAL_OK(cb_simple(fixture, "command_buffer.finalize", cb));
  HAL_ERROR(cb_simple(fixture, "command_buffer.finalize", cb),
            IRT_STATUS_FAILED_PRECONDITION, NULL);
  HAL_ERROR(cb_fill(fixture, cb, a, 0, 0, 4, 0, 1),
            IRT_STATUS_FAILED_PRECONDITION, "finalized");

  irvm_ref_t signal = make_fence(fixture);
  const table_entry_t table[3] = {{b, 0, -1}, {c, 0, 64}, {counts, 0, -1}};
  HAL_OK(queue_execute(fixture, irvm_ref_null(), signal, cb, table, 3));
  expect_reached(fixture, signal);

  uint8_t expected_a[16] = {'w',  'o',  'r',  'l',  'd',  '!',  0,    0,
                            0x44, 0x33, 0x22, 0x11, 0x44, 0x33, 0x22, 0x11};
  assert_memory_equal(bytes_of(a), expected_a, 16);
  uint8_t expected_c[16] = {0,    0,    0,    0,    0xAB, 0xAB, 0xAB, 0xAB,
                            0xAB, 0xAB, 0xAB, 0xAB, 0,    0,    0,    0};
  assert_memory_equal(bytes_of(c), expected_c, 16);

  assert_int_equal(device->dispatch_count, 2);
  const fake_dispatch_t* first = &device->dispatches[0];
  assert_int_equal(first->export_ordinal, 0);
  assert_int_equal(first->workgroup_count[0], 4);
  assert_int_equal(first->workgroup_count[2], 6);
  assert_int_equal(first->constant_count, 1);
  assert_int_equal(first->constants[0], 42);
  assert_int_equal(first->binding_count, 2);
  assert_ptr_equal(first->bindings[0].buffer, a.ptr);  // direct: slot ignored
  assert_int_equal(first->bindings[0].length, 16);
  assert_ptr_equal(first->bindings[1].buffer, c.ptr);  // slot 1
  assert_int_equal(first->bindings[1].offset, 8);
  assert_int_equal(first->bindings[1].length, 56);
  const fake_dispatch_t* second = &device->dispatches[1];
  assert_int_equal(second->export_ordinal, 1);
  assert_int_equal(second->workgroup_count[0], 2);  // read from slot 2
  assert_int_equal(second->workgroup_count[1], 3);
  assert_int_equal(second->workgroup_count[2], 4);
  assert_true(second->flags & 1);  // DYNAMIC_INDIRECT_PARAMETERS
  assert_int_equal(second->constants[0], 7);
  assert_ptr_equal(second->bindings[0].buffer, a.ptr);
  assert_int_equal(second->bindings[0].length, 64);
  assert_ptr_equal(second->bindings[1].buffer, b.ptr);
  assert_int_equal(second->bindings[1].length, 8);

  // Reusable: a second submission with another table.
  irvm_ref_release(&signal);
  signal = make_fence(fixture);
  const table_entry_t swapped[3] = {{c, 0, -1}, {b, 0, 64}, {counts, 0, -1}};
  HAL_OK(queue_execute(fixture, irvm_ref_null(), signal, cb, swapped, 3));
  expect_reached(fixture, signal);
  assert_int_equal(device->dispatch_count, 4);
  assert_ptr_equal(device->dispatches[2].bindings[1].buffer, b.ptr);

  // Without a table the indirect references resolve to no buffer and the
  // submission fails, through the call or its signal fence.
  irvm_ref_release(&signal);
  signal = make_fence(fixture);
  irt_status_t status =
      queue_execute(fixture, irvm_ref_null(), signal, cb, NULL, 0);
  if (irt_status_is_ok(status)) {
    await_fence(fixture, signal, &status);
  }
  assert_false(irt_status_is_ok(status));
  irt_status_free(status);

  irvm_ref_release(&signal);
  irvm_ref_release(&cb);
  irvm_ref_release(&label);
  irvm_ref_release(&host);
  irvm_ref_release(&executable);
  irvm_ref_release(&counts);
  irvm_ref_release(&c);
  irvm_ref_release(&b);
  irvm_ref_release(&a);
}

static void test_recording_errors(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t a = make_buffer(fixture, 64, USAGE_ALL);
  irvm_ref_t executable = make_executable(fixture);
  irvm_ref_t host = hal_vm_bytes(fixture, "0123", 4, true);
  irvm_ref_t cb = irvm_ref_null();
  HAL_ERROR(cb_create(fixture, 0, -1, &cb), IRT_STATUS_INVALID_ARGUMENT,
            "binding_capacity");
  HAL_OK(cb_create(fixture, 0, 1, &cb));

  // The source range of an update lies within the vm.buffer.
  HAL_ERROR(cb_update(fixture, cb, host, 2, a, 0, 0, 4),
            IRT_STATUS_OUT_OF_RANGE, "update_buffer source");
  HAL_ERROR(cb_update(fixture, cb, host, -1, a, 0, 0, 1),
            IRT_STATUS_OUT_OF_RANGE, "update_buffer source");
  HAL_OK(cb_update(fixture, cb, host, 1, a, 0, 0, -1));  // the rest: 3 bytes
  // Slots beyond the binding capacity; bad fill patterns.
  HAL_ERROR(cb_fill(fixture, cb, irvm_ref_null(), 1, 0, 4, 0, 1),
            IRT_STATUS_OUT_OF_RANGE, NULL);
  HAL_ERROR(cb_fill(fixture, cb, a, 0, 0, 4, 0, 3), IRT_STATUS_INVALID_ARGUMENT,
            NULL);
  HAL_ERROR(cb_copy(fixture, cb, 0, a, 60, 0, a, 0, 8), IRT_STATUS_OUT_OF_RANGE,
            NULL);

  const int32_t workgroups[3] = {1, 1, 1};
  const int32_t constant = 0;
  binding_t bindings[33];
  for (int i = 0; i < 33; ++i) bindings[i] = (binding_t){0, a, 0, -1};
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, &constant, 1,
                        bindings, 33),
            IRT_STATUS_OUT_OF_RANGE, "33 bindings");
  irvm_ref_t text = hal_vm_text(fixture, "not a buffer");
  bindings[1].buffer = text;
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, &constant, 1,
                        bindings, 2),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'bindings[1]'");
  bindings[1].buffer = a;
  HAL_ERROR(cb_dispatch(fixture, cb, irvm_ref_null(), 0, workgroups, 0,
                        &constant, 1, bindings, 2),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'executable'");
  // The HAL checks the export: ordinal, constant and binding counts, flags.
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 2, workgroups, 0, &constant, 1,
                        bindings, 2),
            IRT_STATUS_OUT_OF_RANGE, NULL);
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, NULL, 0,
                        bindings, 2),
            IRT_STATUS_INVALID_ARGUMENT, "constants");
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, &constant, 1,
                        bindings, 1),
            IRT_STATUS_INVALID_ARGUMENT, "bindings");
  HAL_ERROR(cb_dispatch(fixture, cb, executable, 0, workgroups, 1 << 2,
                        &constant, 1, bindings, 2),
            IRT_STATUS_UNIMPLEMENTED, NULL);
  HAL_ERROR(cb_dispatch_indirect(fixture, cb, executable, 0, 0, a, 2, &constant,
                                 1, bindings, 2),
            IRT_STATUS_INVALID_ARGUMENT, "aligned");
  HAL_OK(cb_dispatch(fixture, cb, executable, 0, workgroups, 0, &constant, 1,
                     bindings, 2));

  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, cb);
  HAL_ERROR(hal_call(fixture, "command_buffer.collective", &args, NULL),
            IRT_STATUS_UNIMPLEMENTED, "collective");

  irvm_ref_release(&text);
  irvm_ref_release(&cb);
  irvm_ref_release(&host);
  irvm_ref_release(&executable);
  irvm_ref_release(&a);
}

//===----------------------------------------------------------------------===//
// Queue operations
//===----------------------------------------------------------------------===//

static void pack_queue(hal_fixture_t* fixture, hal_args_t* args,
                       irvm_ref_t wait, irvm_ref_t signal) {
  hal_args_begin(args);
  hal_args_ref(args, hal_device_ref(fixture));
  hal_args_i64(args, -1);
  hal_args_ref(args, wait);
  hal_args_ref(args, signal);
}

static irt_status_t queue_fill(hal_fixture_t* fixture, irvm_ref_t wait,
                               irvm_ref_t signal, irvm_ref_t target,
                               int64_t offset, int64_t length,
                               int64_t pattern) {
  hal_args_t args;
  pack_queue(fixture, &args, wait, signal);
  hal_args_ref(&args, target);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_args_i64(&args, pattern);
  hal_args_i32(&args, 1);
  hal_args_i64(&args, 0);
  return hal_call(fixture, "device.queue.fill", &args, NULL);
}

// (source, source offset, target, target offset, length): update, copy,
// read and write share this shape.
static irt_status_t queue_transfer(hal_fixture_t* fixture, const char* name,
                                   irvm_ref_t wait, irvm_ref_t signal,
                                   irvm_ref_t source, int64_t source_offset,
                                   irvm_ref_t target, int64_t target_offset,
                                   int64_t length) {
  hal_args_t args;
  pack_queue(fixture, &args, wait, signal);
  hal_args_ref(&args, source);
  hal_args_i64(&args, source_offset);
  hal_args_ref(&args, target);
  hal_args_i64(&args, target_offset);
  hal_args_i64(&args, length);
  hal_args_i64(&args, 0);
  return hal_call(fixture, name, &args, NULL);
}

static void test_queue_operations(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t f[8];
  for (int i = 0; i < 8; ++i) f[i] = make_fence(fixture);

  hal_args_t args;
  pack_queue(fixture, &args, irvm_ref_null(), f[0]);
  hal_args_i64(&args, 0);  // pool
  hal_args_i32(&args, IRHAL_MEMORY_TYPE_DEVICE_LOCAL);
  hal_args_i32(&args, IRHAL_BUFFER_USAGE_DEFAULT);
  hal_args_i64(&args, 32);
  hal_args_i64(&args, 0);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "device.queue.alloca", &args, &results));
  irvm_ref_t x = hal_results_ref(&results);
  assert_int_equal(irhal_buffer_deref(&x)->byte_length, 32);
  irvm_ref_t y = make_buffer(fixture, 32, USAGE_ALL);
  irvm_ref_t host = hal_vm_bytes(fixture, "abcdefgh", 8, true);
  irvm_ref_t rodata = hal_vm_bytes(fixture, "0123456789", 10, false);
  uint8_t file_bytes[8] = {0};
  irhal_file_t* file = NULL;
  HAL_OK(irhal_file_create_from_memory(
      file_bytes, 8, IRHAL_MEMORY_ACCESS_READ | IRHAL_MEMORY_ACCESS_WRITE,
      (irhal_release_callback_t){NULL, NULL}, fixture->allocator, &file));
  irvm_ref_t rw_file = hal_ref(file, irhal_file_type());
  irvm_ref_t ro_file = irvm_ref_null();
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  hal_args_i32(&args, IRHAL_MEMORY_ACCESS_READ);
  hal_args_ref(&args, rodata);
  hal_args_i64(&args, 0);
  hal_args_i64(&args, 10);
  hal_args_i32(&args, 0);
  HAL_OK(hal_call(fixture, "ex.file.from_memory", &args, &results));
  ro_file = hal_results_ref(&results);

  // A chain: every op waits on the previous one's fence.
  HAL_OK(queue_fill(fixture, f[0], f[1], x, 0, 32, 0x5A));
  HAL_OK(queue_transfer(fixture, "device.queue.update", f[1], f[2], host, 2, x,
                        4, 4));
  memcpy(irvm_buffer_deref(&host)->data, "XXXXXXXX", 8);  // captured already
  HAL_OK(
      queue_transfer(fixture, "device.queue.copy", f[2], f[3], x, 0, y, 0, 16));
  HAL_OK(queue_transfer(fixture, "device.queue.read", f[3], f[4], ro_file, 3, y,
                        16, 5));
  HAL_OK(queue_transfer(fixture, "device.queue.write", f[4], f[5], y, 0,
                        rw_file, 0, 8));
  pack_queue(fixture, &args, f[5], f[6]);
  hal_args_i64(&args, 0);
  HAL_OK(hal_call(fixture, "device.queue.barrier", &args, NULL));
  pack_queue(fixture, &args, f[6], f[7]);
  hal_args_ref(&args, x);
  hal_args_i64(&args, 0);
  HAL_OK(hal_call(fixture, "device.queue.dealloca", &args, NULL));
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  HAL_OK(hal_call(fixture, "device.queue.flush", &args, NULL));
  expect_reached(fixture, f[7]);

  const uint8_t expected_y[21] = {0x5A, 0x5A, 0x5A, 0x5A, 'c',  'd',  'e',
                                  'f',  0x5A, 0x5A, 0x5A, 0x5A, 0x5A, 0x5A,
                                  0x5A, 0x5A, '3',  '4',  '5',  '6',  '7'};
  assert_memory_equal(bytes_of(y), expected_y, 21);
  assert_memory_equal(file_bytes, expected_y, 8);

  // Argument errors are returned by the call.
  HAL_ERROR(queue_fill(fixture, irvm_ref_null(), irvm_ref_null(),
                       irvm_ref_null(), 0, 4, 0),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'target_buffer'");
  HAL_ERROR(queue_fill(fixture, host, irvm_ref_null(), y, 0, 4, 0),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'wait_fence'");
  HAL_ERROR(queue_transfer(fixture, "device.queue.update", irvm_ref_null(),
                           irvm_ref_null(), host, 4, y, 0, 8),
            IRT_STATUS_OUT_OF_RANGE, "queue.update source");
  HAL_ERROR(queue_transfer(fixture, "device.queue.read", irvm_ref_null(),
                           irvm_ref_null(), y, 0, y, 0, 8),
            IRT_STATUS_INVALID_ARGUMENT, "argument 'source_file'");
  HAL_ERROR(queue_fill(fixture, irvm_ref_null(), irvm_ref_null(), y, 30, 4, 0),
            IRT_STATUS_OUT_OF_RANGE, NULL);

  irvm_ref_release(&ro_file);
  irvm_ref_release(&rw_file);
  irvm_ref_release(&rodata);
  irvm_ref_release(&host);
  irvm_ref_release(&y);
  irvm_ref_release(&x);
  for (int i = 0; i < 8; ++i) irvm_ref_release(&f[i]);
}

static void test_queue_waits_and_failures(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t y = make_buffer(fixture, 8, USAGE_ALL);
  irvm_ref_t gate = make_fence(fixture);
  irvm_ref_t done = make_fence(fixture);
  // Nothing happens until the wait fence is reached.
  HAL_OK(queue_fill(fixture, gate, done, y, 0, 8, 0x77));
  assert_int_equal(bytes_of(y)[0], 0);
  irt_status_t status = IRT_OK;
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_i32(&args, 0);
  hal_args_i64(&args, 0);
  irvm_abi_span_t span = hal_args_span(&args, 1, "r");
  irvm_abi_cursor_t element = irvm_abi_span_element(span, 0);
  hal_span_ref(&element, done);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "fence.await", &args, &results));
  assert_int_equal(hal_results_i32(&results), IRT_STATUS_DEADLINE_EXCEEDED);
  hal_args_begin(&args);
  hal_args_ref(&args, gate);
  HAL_OK(hal_call(fixture, "fence.signal", &args, NULL));
  expect_reached(fixture, done);
  assert_int_equal(bytes_of(y)[7], 0x77);

  // A failed wait fence fails the op's signal fence; the op does not run.
  irvm_ref_t failed_gate = make_fence(fixture);
  irvm_ref_t failed_done = make_fence(fixture);
  HAL_OK(queue_fill(fixture, failed_gate, failed_done, y, 0, 8, 0x11));
  hal_args_begin(&args);
  hal_args_ref(&args, failed_gate);
  hal_args_i32(&args, IRT_STATUS_ABORTED);
  HAL_OK(hal_call(fixture, "fence.fail", &args, NULL));
  assert_int_equal(await_fence(fixture, failed_done, &status), -1);
  hal_expect_error(status, IRT_STATUS_ABORTED, NULL, "await failed_done");
  assert_int_equal(bytes_of(y)[0], 0x77);

  irvm_ref_release(&failed_done);
  irvm_ref_release(&failed_gate);
  irvm_ref_release(&done);
  irvm_ref_release(&gate);
  irvm_ref_release(&y);
}

static void test_execute_indirect_table_errors(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t cb = irvm_ref_null();
  HAL_OK(cb_create(fixture, IRHAL_COMMAND_BUFFER_MODE_ONE_SHOT, 1, &cb));
  HAL_OK(cb_simple(fixture, "command_buffer.finalize", cb));
  irvm_ref_t text = hal_vm_text(fixture, "not a buffer");
  const table_entry_t table[2] = {{irvm_ref_null(), 0, 0}, {text, 0, -1}};
  HAL_ERROR(
      queue_execute(fixture, irvm_ref_null(), irvm_ref_null(), cb, table, 2),
      IRT_STATUS_INVALID_ARGUMENT, "argument 'binding_table[1]'");
  irvm_ref_release(&text);
  irvm_ref_release(&cb);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_record_and_execute, setup, teardown),
      cmocka_unit_test_setup_teardown(test_recording_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_queue_operations, setup, teardown),
      cmocka_unit_test_setup_teardown(test_queue_waits_and_failures, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_execute_indirect_table_errors, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
