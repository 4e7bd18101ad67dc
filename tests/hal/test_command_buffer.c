// Command buffers: recording and its validation, captured data, retained
// resources, iteration, and binding-table resolution (spec 1.8.5).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hal/command_buffer.h"
#include "hal/executable.h"
#include "tests/support/counting_fixture.h"

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

static irhal_command_buffer_t* create(uint32_t categories, uint32_t capacity) {
  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(IRHAL_COMMAND_BUFFER_MODE_ONE_SHOT,
                                          categories, capacity, allocator(),
                                          &cb));
  return cb;
}

static irhal_buffer_ref_t direct(irhal_buffer_t* buffer,
                                 irhal_device_size_t offset,
                                 irhal_device_size_t length) {
  return (irhal_buffer_ref_t){buffer, 0, offset, length};
}

static irhal_buffer_ref_t slot(uint32_t slot, irhal_device_size_t offset,
                               irhal_device_size_t length) {
  return (irhal_buffer_ref_t){NULL, slot, offset, length};
}

// An executable with two exports: 2 constants + 3 bindings, 0 + 1.
static const uint16_t constant_counts[2] = {2, 0};
static const uint16_t binding_counts[2] = {3, 1};

static void fake_executable_destroy(irhal_executable_t* executable) {
  irt_allocator_free(allocator(), executable);
}
static const irhal_executable_vtable_t fake_executable_vtable = {
    .destroy = fake_executable_destroy,
};

static irhal_executable_t* create_executable(bool declared_counts) {
  irhal_executable_t* executable = NULL;
  assert_null(irt_allocator_malloc(allocator(), sizeof(*executable),
                                   (void**)&executable));
  irhal_executable_initialize(executable, &fake_executable_vtable);
  assert_int_equal(executable->export_count, 0);
  executable->export_count = 2;
  if (declared_counts) {
    executable->export_constant_counts = constant_counts;
    executable->export_binding_counts = binding_counts;
  }
  return executable;
}

//===----------------------------------------------------------------------===//
// Lifecycle
//===----------------------------------------------------------------------===//

static void test_create_finalize(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(0x11, 3, 4, allocator(), &cb));
  assert_int_equal(irhal_command_buffer_mode(cb), 0x11);
  assert_int_equal(irhal_command_buffer_binding_capacity(cb), 4);
  assert_false(irhal_command_buffer_is_finalized(cb));
  assert_null(irhal_command_buffer_barrier(cb));
  assert_null(irhal_command_buffer_finalize(cb));
  assert_true(irhal_command_buffer_is_finalized(cb));
  assert_code(irhal_command_buffer_finalize(cb),
              IRT_STATUS_FAILED_PRECONDITION);
  assert_code(irhal_command_buffer_barrier(cb), IRT_STATUS_FAILED_PRECONDITION);
  irhal_buffer_t* buffer = allocate(8);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 0, 8), 0, 1),
              IRT_STATUS_FAILED_PRECONDITION);
  assert_int_equal(irhal_command_buffer_command_count(cb), 1);
  assert_int_equal(irhal_command_buffer_command(cb, 0)->kind,
                   IRHAL_COMMAND_BARRIER);
  irvm_ref_t ref = irvm_ref_wrap(cb, irhal_command_buffer_type());
  assert_ptr_equal(irhal_command_buffer_deref(&ref), cb);
  assert_string_equal(irhal_command_buffer_type()->name, "hal.command_buffer");
  irvm_ref_release(&ref);
  irhal_buffer_release(buffer);

  counter.fail_after = counter.total_allocations;
  assert_code(irhal_command_buffer_create(0, 3, 0, allocator(), &cb),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(cb);
  counter.fail_after = SIZE_MAX;
}

static void test_many_commands_grow(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 0);
  irhal_buffer_t* buffer = allocate(4096);
  for (uint32_t i = 0; i < 100; ++i) {
    assert_null(irhal_command_buffer_fill(cb, direct(buffer, i * 4, 4), i, 4));
  }
  assert_int_equal(irhal_command_buffer_command_count(cb), 100);
  assert_int_equal(irhal_command_buffer_command(cb, 99)->fill.pattern, 99);
  irhal_buffer_release(buffer);
  // Growth failure leaves what was recorded.
  counter.fail_after = counter.total_allocations;
  for (uint32_t i = 0; i < 100; ++i) {
    irt_status_t status = irhal_command_buffer_barrier(cb);
    if (status) {
      assert_code(status, IRT_STATUS_RESOURCE_EXHAUSTED);
      break;
    }
  }
  counter.fail_after = SIZE_MAX;
  irhal_command_buffer_release(cb);
}

static void test_categories(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(IRHAL_COMMAND_CATEGORY_DISPATCH, 0);
  irhal_buffer_t* buffer = allocate(8);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 0, 8), 0, 1),
              IRT_STATUS_FAILED_PRECONDITION);
  assert_code(
      irhal_command_buffer_copy(cb, direct(buffer, 0, 4), direct(buffer, 4, 4)),
      IRT_STATUS_FAILED_PRECONDITION);
  uint8_t data[4] = {0};
  assert_code(irhal_command_buffer_update(cb, data, direct(buffer, 0, 4)),
              IRT_STATUS_FAILED_PRECONDITION);
  assert_null(irhal_command_buffer_barrier(cb));  // any category
  irhal_command_buffer_release(cb);

  cb = create(IRHAL_COMMAND_CATEGORY_TRANSFER, 0);
  irhal_executable_t* executable = create_executable(false);
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  assert_code(irhal_command_buffer_dispatch(cb, &dispatch),
              IRT_STATUS_FAILED_PRECONDITION);
  irhal_executable_release(executable);
  irhal_command_buffer_release(cb);
  irhal_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Transfers
//===----------------------------------------------------------------------===//

static void test_fill_validation(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 2);
  irhal_buffer_t* buffer = allocate(16);
  assert_null(irhal_command_buffer_fill(
      cb, direct(buffer, 4, IRHAL_WHOLE_LENGTH), 0xAABBCCDD, 4));
  const irhal_command_t* command = irhal_command_buffer_command(cb, 0);
  assert_int_equal(command->kind, IRHAL_COMMAND_FILL);
  assert_int_equal(command->fill.target.length, 12);  // resolved now
  assert_int_equal(command->fill.pattern_length, 4);
  assert_null(irhal_command_buffer_fill(cb, direct(buffer, 16, 0), 0, 1));
  assert_null(
      irhal_command_buffer_fill(cb, slot(1, 2, IRHAL_WHOLE_LENGTH), 0, 2));
  const uint32_t bad_lengths[] = {0, 3, 8};
  for (size_t i = 0; i < 3; ++i) {
    assert_code(
        irhal_command_buffer_fill(cb, direct(buffer, 0, 4), 0, bad_lengths[i]),
        IRT_STATUS_INVALID_ARGUMENT);
  }
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 2, 4), 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 0, 6), 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 2, 12), 0, 4),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_fill(cb, slot(0, 1, 4), 0, 2),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 8, 12), 0, 4),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_command_buffer_fill(cb, direct(buffer, 20, 0), 0, 4),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_command_buffer_fill(cb, slot(2, 0, 4), 0, 4),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_t* no_target =
      allocate_with_usage(16, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE);
  assert_code(irhal_command_buffer_fill(cb, direct(no_target, 0, 4), 0, 4),
              IRT_STATUS_PERMISSION_DENIED);
  assert_int_equal(irhal_command_buffer_command_count(cb), 3);
  irhal_buffer_release(no_target);
  irhal_buffer_release(buffer);
  // The command buffer still holds the buffer of the direct fills.
  assert_ptr_equal(irhal_command_buffer_command(cb, 0)->fill.target.buffer,
                   buffer);
  irhal_command_buffer_release(cb);
}

static void test_update_captures_data(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 1);
  irhal_buffer_t* buffer = allocate(16);
  uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  assert_null(irhal_command_buffer_update(cb, data, direct(buffer, 8, 8)));
  assert_null(irhal_command_buffer_update(cb, data + 4, slot(0, 0, 4)));
  assert_null(irhal_command_buffer_update(cb, NULL, slot(0, 0, 0)));
  memset(data, 0, sizeof(data));  // recording copied the bytes
  const irhal_command_t* first = irhal_command_buffer_command(cb, 0);
  assert_int_equal(first->kind, IRHAL_COMMAND_UPDATE);
  assert_int_equal(first->update.data[7], 8);
  assert_ptr_equal(first->update.target.buffer, buffer);
  const irhal_command_t* second = irhal_command_buffer_command(cb, 1);
  assert_int_equal(second->update.data[0], 5);
  assert_null(second->update.target.buffer);

  assert_code(
      irhal_command_buffer_update(cb, data, slot(0, 0, IRHAL_WHOLE_LENGTH)),
      IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_update(cb, NULL, direct(buffer, 0, 4)),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_update(cb, data, direct(buffer, 12, 8)),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_command_buffer_update(cb, data, slot(1, 0, 4)),
              IRT_STATUS_OUT_OF_RANGE);
  counter.fail_after = counter.total_allocations;
  uint8_t big[8192] = {0};
  assert_code(irhal_command_buffer_update(cb, big, slot(0, 0, sizeof(big))),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  irhal_buffer_release(buffer);
  irhal_command_buffer_release(cb);
}

static void test_copy_validation(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 2);
  irhal_buffer_t* source =
      allocate_with_usage(16, IRHAL_BUFFER_USAGE_TRANSFER_SOURCE);
  irhal_buffer_t* target =
      allocate_with_usage(16, IRHAL_BUFFER_USAGE_TRANSFER_TARGET);
  assert_null(irhal_command_buffer_copy(cb, direct(source, 0, 8),
                                        direct(target, 8, 8)));
  assert_null(
      irhal_command_buffer_copy(cb, slot(0, 0, 4), direct(target, 0, 4)));
  assert_null(irhal_command_buffer_copy(cb,
                                        direct(source, 12, IRHAL_WHOLE_LENGTH),
                                        slot(1, 0, IRHAL_WHOLE_LENGTH)));
  const irhal_command_t* command = irhal_command_buffer_command(cb, 0);
  assert_int_equal(command->kind, IRHAL_COMMAND_COPY);
  assert_ptr_equal(command->copy.source.buffer, source);
  assert_int_equal(command->copy.target.offset, 8);
  assert_code(
      irhal_command_buffer_copy(cb, direct(target, 0, 4), direct(target, 4, 4)),
      IRT_STATUS_PERMISSION_DENIED);
  assert_code(
      irhal_command_buffer_copy(cb, direct(source, 0, 4), direct(source, 4, 4)),
      IRT_STATUS_PERMISSION_DENIED);
  assert_code(
      irhal_command_buffer_copy(cb, direct(source, 0, 4), direct(target, 0, 8)),
      IRT_STATUS_INVALID_ARGUMENT);
  assert_code(irhal_command_buffer_copy(cb, direct(source, 10, 8),
                                        direct(target, 0, 8)),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(
      irhal_command_buffer_copy(cb, slot(5, 0, 8), direct(target, 0, 8)),
      IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_release(source);
  irhal_buffer_release(target);
  irhal_command_buffer_release(cb);
}

//===----------------------------------------------------------------------===//
// Dispatches
//===----------------------------------------------------------------------===//

static irhal_command_t make_dispatch(irhal_executable_t* executable,
                                     uint32_t ordinal,
                                     const uint32_t* constants,
                                     uint32_t constant_count,
                                     irhal_buffer_ref_t* bindings,
                                     uint32_t binding_count) {
  irhal_command_t command = {.kind = IRHAL_COMMAND_DISPATCH};
  command.dispatch.executable = executable;
  command.dispatch.export_ordinal = ordinal;
  command.dispatch.workgroup_count[0] = 4;
  command.dispatch.workgroup_count[1] = 2;
  command.dispatch.workgroup_count[2] = 1;
  command.dispatch.constants = constants;
  command.dispatch.constant_count = constant_count;
  command.dispatch.bindings = bindings;
  command.dispatch.binding_count = binding_count;
  return command;
}

static void test_dispatch_records_copies(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 4);
  irhal_executable_t* executable = create_executable(true);
  irhal_buffer_t* buffer = allocate(64);
  uint32_t constants[2] = {7, 9};
  irhal_buffer_ref_t bindings[3] = {direct(buffer, 0, 16),
                                    slot(3, 4, IRHAL_WHOLE_LENGTH),
                                    direct(buffer, 16, IRHAL_WHOLE_LENGTH)};
  irhal_command_t command =
      make_dispatch(executable, 0, constants, 2, bindings, 3);
  assert_null(irhal_command_buffer_dispatch(cb, &command));
  // The caller's arrays may change or go away after recording.
  constants[0] = 0;
  memset(bindings, 0, sizeof(bindings));
  irhal_executable_release(executable);
  irhal_buffer_release(buffer);

  const irhal_command_t* recorded = irhal_command_buffer_command(cb, 0);
  assert_int_equal(recorded->kind, IRHAL_COMMAND_DISPATCH);
  assert_ptr_equal(recorded->dispatch.executable, executable);
  assert_int_equal(recorded->dispatch.workgroup_count[0], 4);
  assert_false(recorded->dispatch.indirect);
  assert_int_equal(recorded->dispatch.constant_count, 2);
  assert_int_equal(recorded->dispatch.constants[0], 7);
  assert_int_equal(recorded->dispatch.constants[1], 9);
  assert_int_equal(recorded->dispatch.binding_count, 3);
  assert_ptr_equal(recorded->dispatch.bindings[0].buffer, buffer);
  assert_int_equal(recorded->dispatch.bindings[1].slot, 3);
  assert_int_equal(recorded->dispatch.bindings[1].length, IRHAL_WHOLE_LENGTH);
  assert_int_equal(recorded->dispatch.bindings[2].length, 48);  // resolved
  assert_null(recorded->dispatch.workgroups_ref.buffer);
  irhal_command_buffer_release(cb);  // releases executable and buffer
}

static void test_dispatch_validation(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 2);
  irhal_executable_t* executable = create_executable(true);
  irhal_buffer_t* buffer = allocate(64);
  uint32_t constants[2] = {1, 2};
  irhal_buffer_ref_t bindings[IRHAL_MAX_DISPATCH_BINDINGS + 1];
  for (int i = 0; i <= IRHAL_MAX_DISPATCH_BINDINGS; ++i) {
    bindings[i] = direct(buffer, 0, 4);
  }
  irhal_command_t command = make_dispatch(NULL, 0, constants, 2, bindings, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command = make_dispatch(executable, 2, constants, 2, bindings, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_OUT_OF_RANGE);
  command = make_dispatch(executable, 0, constants, 1, bindings, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command = make_dispatch(executable, 0, constants, 2, bindings, 2);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command = make_dispatch(executable, 0, NULL, 2, bindings, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command = make_dispatch(executable, 0, constants, 2, NULL, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command = make_dispatch(executable, 0, constants, 2, bindings,
                          IRHAL_MAX_DISPATCH_BINDINGS + 1);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_OUT_OF_RANGE);
  for (int bit = 2; bit <= 4; ++bit) {
    command = make_dispatch(executable, 0, constants, 2, bindings, 3);
    command.dispatch.flags = 1ull << bit;
    assert_code(irhal_command_buffer_dispatch(cb, &command),
                IRT_STATUS_UNIMPLEMENTED);
  }
  bindings[1] = slot(2, 0, 4);  // capacity 2
  command = make_dispatch(executable, 0, constants, 2, bindings, 3);
  irt_status_t status = irhal_command_buffer_dispatch(cb, &command);
  assert_non_null(strstr(irt_status_message(status), "slot 2"));
  assert_code(status, IRT_STATUS_OUT_OF_RANGE);
  bindings[1] = direct(buffer, 60, 8);
  command = make_dispatch(executable, 0, constants, 2, bindings, 3);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_OUT_OF_RANGE);
  assert_int_equal(irhal_command_buffer_command_count(cb), 0);

  // Without declared counts any counts up to the binding limit pass.
  irhal_executable_t* undeclared = create_executable(false);
  bindings[1] = direct(buffer, 0, 4);
  command = make_dispatch(undeclared, 1, constants, 1, bindings,
                          IRHAL_MAX_DISPATCH_BINDINGS);
  assert_null(irhal_command_buffer_dispatch(cb, &command));
  command = make_dispatch(undeclared, 1, NULL, 0, NULL, 0);
  assert_null(irhal_command_buffer_dispatch(cb, &command));
  irhal_executable_release(undeclared);
  irhal_executable_release(executable);
  irhal_buffer_release(buffer);
  irhal_command_buffer_release(cb);
}

static void test_dispatch_indirect(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 1);
  irhal_executable_t* executable = create_executable(true);
  irhal_buffer_t* counts = allocate(16);
  irhal_buffer_ref_t binding = slot(0, 0, IRHAL_WHOLE_LENGTH);
  irhal_command_t command = make_dispatch(executable, 1, NULL, 0, &binding, 1);
  command.dispatch.indirect = true;
  command.dispatch.workgroups_ref = direct(counts, 4, IRHAL_WHOLE_LENGTH);
  assert_null(irhal_command_buffer_dispatch(cb, &command));
  const irhal_command_t* recorded = irhal_command_buffer_command(cb, 0);
  assert_true(recorded->dispatch.indirect);
  assert_int_equal(recorded->dispatch.workgroups_ref.length, 12);
  assert_int_equal(recorded->dispatch.flags,
                   IRHAL_DISPATCH_FLAG_DYNAMIC_INDIRECT_PARAMETERS);
  command.dispatch.flags = IRHAL_DISPATCH_FLAG_STATIC_INDIRECT_PARAMETERS;
  command.dispatch.workgroups_ref = slot(0, 0, 12);
  assert_null(irhal_command_buffer_dispatch(cb, &command));
  assert_int_equal(irhal_command_buffer_command(cb, 1)->dispatch.flags,
                   IRHAL_DISPATCH_FLAG_STATIC_INDIRECT_PARAMETERS);
  command.dispatch.workgroups_ref = direct(counts, 2, 12);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_INVALID_ARGUMENT);
  command.dispatch.workgroups_ref = direct(counts, 8, 12);
  assert_code(irhal_command_buffer_dispatch(cb, &command),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_executable_release(executable);
  irhal_buffer_release(counts);
  irhal_command_buffer_release(cb);
}

static void test_dispatch_allocation_failures(void** state) {
  (void)state;
  irhal_command_buffer_t* cb = create(3, 4);
  irhal_executable_t* executable = create_executable(true);
  irhal_buffer_t* buffer = allocate(64);
  uint32_t constants[2] = {1, 2};
  irhal_buffer_ref_t bindings[3] = {direct(buffer, 0, 4), slot(0, 0, 4),
                                    slot(1, 0, 4)};
  irhal_command_t command =
      make_dispatch(executable, 0, constants, 2, bindings, 3);
  for (size_t n = 0; n < 3; ++n) {  // commands, bindings block, constants
    irhal_command_buffer_t* fresh = create(3, 4);
    counter.fail_after = counter.total_allocations + n;
    irt_status_t status = irhal_command_buffer_dispatch(fresh, &command);
    counter.fail_after = SIZE_MAX;
    if (status) {
      assert_code(status, IRT_STATUS_RESOURCE_EXHAUSTED);
      assert_int_equal(irhal_command_buffer_command_count(fresh), 0);
    }
    irhal_command_buffer_release(fresh);
  }
  irhal_executable_release(executable);
  irhal_buffer_release(buffer);
  irhal_command_buffer_release(cb);
}

//===----------------------------------------------------------------------===//
// Resolution (spec 1.8.5)
//===----------------------------------------------------------------------===//

static void test_resolve_direct(void** state) {
  (void)state;
  irhal_buffer_t* buffer = allocate(32);
  irhal_resolved_ref_t resolved;
  irhal_buffer_ref_t ref = direct(buffer, 8, 16);
  assert_null(irhal_command_buffer_resolve(&ref, NULL, &resolved));
  assert_ptr_equal(resolved.buffer, buffer);
  assert_int_equal(resolved.offset, 8);
  assert_int_equal(resolved.length, 16);
  ref = direct(buffer, 8, IRHAL_WHOLE_LENGTH);
  irhal_buffer_ref_t entries[1] = {direct(NULL, 0, 0)};
  irhal_binding_table_t table = {1, entries};  // ignored for direct refs
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));
  assert_int_equal(resolved.length, 24);
  ref = direct(buffer, 40, 0);
  assert_code(irhal_command_buffer_resolve(&ref, NULL, &resolved),
              IRT_STATUS_OUT_OF_RANGE);
  irhal_buffer_release(buffer);
}

static void test_resolve_indirect(void** state) {
  (void)state;
  irhal_buffer_t* a = allocate(100);
  irhal_buffer_t* b = allocate(64);
  irhal_buffer_ref_t entries[3] = {
      direct(a, 10, 50),                  // M = 50 at 10
      direct(b, 16, IRHAL_WHOLE_LENGTH),  // M = 48 at 16
      direct(NULL, 0, 0),                 // empty slot
  };
  irhal_binding_table_t table = {3, entries};
  irhal_resolved_ref_t resolved;

  irhal_buffer_ref_t ref = slot(0, 4, 20);
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));
  assert_ptr_equal(resolved.buffer, a);
  assert_int_equal(resolved.offset, 14);  // b + o
  assert_int_equal(resolved.length, 20);
  ref = slot(0, 4, IRHAL_WHOLE_LENGTH);
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));
  assert_int_equal(resolved.length, 46);  // M - o
  ref = slot(1, 0, IRHAL_WHOLE_LENGTH);
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));
  assert_ptr_equal(resolved.buffer, b);
  assert_int_equal(resolved.offset, 16);
  assert_int_equal(resolved.length, 48);
  ref = slot(1, 48, IRHAL_WHOLE_LENGTH);  // o == M: empty, allowed
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));
  assert_int_equal(resolved.length, 0);
  ref = slot(0, 50, 0);
  assert_null(irhal_command_buffer_resolve(&ref, &table, &resolved));

  // Violations.
  ref = slot(0, 51, IRHAL_WHOLE_LENGTH);  // o > M
  assert_code(irhal_command_buffer_resolve(&ref, &table, &resolved),
              IRT_STATUS_OUT_OF_RANGE);
  ref = slot(0, 40, 11);  // o + E > M
  assert_code(irhal_command_buffer_resolve(&ref, &table, &resolved),
              IRT_STATUS_OUT_OF_RANGE);
  ref = slot(0, 8, UINT64_MAX - 4);  // overflowing o + E
  assert_code(irhal_command_buffer_resolve(&ref, &table, &resolved),
              IRT_STATUS_OUT_OF_RANGE);
  ref = slot(3, 0, 4);  // slot >= table size
  assert_code(irhal_command_buffer_resolve(&ref, &table, &resolved),
              IRT_STATUS_OUT_OF_RANGE);
  ref = slot(2, 0, 4);  // referenced slot without a buffer
  assert_code(irhal_command_buffer_resolve(&ref, &table, &resolved),
              IRT_STATUS_INVALID_ARGUMENT);
  // Table entries that do not fit their own buffer.
  irhal_buffer_ref_t bad_entries[2] = {direct(a, 90, 20),
                                       direct(b, 65, IRHAL_WHOLE_LENGTH)};
  irhal_binding_table_t bad_table = {2, bad_entries};
  for (uint32_t i = 0; i < 2; ++i) {
    ref = slot(i, 0, 1);
    assert_code(irhal_command_buffer_resolve(&ref, &bad_table, &resolved),
                IRT_STATUS_OUT_OF_RANGE);
  }
  irhal_buffer_release(a);
  irhal_buffer_release(b);
}

static void test_resolve_empty_table_is_no_buffer(void** state) {
  (void)state;
  irhal_resolved_ref_t resolved = {(irhal_buffer_t*)1, 0, 0};
  irhal_buffer_ref_t ref = slot(7, 4, 8);
  assert_null(irhal_command_buffer_resolve(&ref, NULL, &resolved));
  assert_null(resolved.buffer);
  irhal_binding_table_t empty = {0, NULL};
  resolved.buffer = (irhal_buffer_t*)1;
  assert_null(irhal_command_buffer_resolve(&ref, &empty, &resolved));
  assert_null(resolved.buffer);
}

int main(void) {
#define TEST(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
  const struct CMUnitTest tests[] = {
      TEST(test_create_finalize),
      TEST(test_many_commands_grow),
      TEST(test_categories),
      TEST(test_fill_validation),
      TEST(test_update_captures_data),
      TEST(test_copy_validation),
      TEST(test_dispatch_records_copies),
      TEST(test_dispatch_validation),
      TEST(test_dispatch_indirect),
      TEST(test_dispatch_allocation_failures),
      TEST(test_resolve_direct),
      TEST(test_resolve_indirect),
      TEST(test_resolve_empty_table_is_no_buffer),
  };
#undef TEST
  return cmocka_run_group_tests(tests, NULL, NULL);
}
