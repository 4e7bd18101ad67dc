// Calls `hal` module exports directly through the module interface with
// hand-packed ABI buffers, over a fake device, with leak checking.
#ifndef IREED_TESTS_MODULES_HAL_HAL_FIXTURE_H
#define IREED_TESTS_MODULES_HAL_HAL_FIXTURE_H

#include "runtime/modules/hal/hal_module.h"
#include "runtime/vm/buffer.h"
#include "runtime/vm/cconv.h"
#include "runtime/vm/stack.h"
#include "tests/modules_hal/fake_device.h"

typedef struct hal_fixture_s {
  irt_counting_allocator_t counter;  // every allocation: leak check
  irt_allocator_t allocator;
  irvm_instance_t* instance;
  fake_device_t* device;
  irvm_module_t* module;
  irvm_stack_t stack;
} hal_fixture_t;

void hal_fixture_init(hal_fixture_t* fixture);
// Releases everything and asserts nothing leaked.
void hal_fixture_deinit(hal_fixture_t* fixture);

// An argument buffer being packed in cconv order.
typedef struct hal_args_s {
  _Alignas(16) uint8_t data[4096];
  irvm_abi_cursor_t cursor;
} hal_args_t;

void hal_args_begin(hal_args_t* args);
void hal_args_i32(hal_args_t* args, int32_t value);
void hal_args_i64(hal_args_t* args, int64_t value);
// Refs are borrowed: the test keeps ownership.
void hal_args_ref(hal_args_t* args, irvm_ref_t ref);
// Starts a span of |count| tuples of |tuple| chars; fill each element with
// hal_span_element + the irvm_abi_write_* functions.
irvm_abi_span_t hal_args_span(hal_args_t* args, uint32_t count,
                              const char* tuple);
void hal_span_ref(irvm_abi_cursor_t* element, irvm_ref_t ref);
// Packs zeros for every value of |fragment| and |ref| for every ref; spans
// get |span_count| tuples.
void hal_args_uniform(hal_args_t* args, const char* fragment, irvm_ref_t ref,
                      uint32_t span_count);

// Results of a call; refs are owned by the results until taken.
typedef struct hal_results_s {
  _Alignas(16) uint8_t data[256];
  irvm_abi_cursor_t cursor;
  irt_string_view_t fragment;
} hal_results_t;

int32_t hal_results_i32(hal_results_t* results);
int64_t hal_results_i64(hal_results_t* results);
// Moves the next ref out (the caller releases it).
irvm_ref_t hal_results_ref(hal_results_t* results);
// Releases refs not taken.
void hal_results_release(hal_results_t* results);

// Calls export |name|. |results| may be NULL when the call has none.
irt_status_t hal_call(hal_fixture_t* fixture, const char* name,
                      hal_args_t* args, hal_results_t* results);
// Argument fragment of export |name| ("rIi").
irt_string_view_t hal_export_arguments(hal_fixture_t* fixture,
                                       const char* name);

// Refs for arguments.
irvm_ref_t hal_ref(void* object, const irvm_ref_type_t* type);
irvm_ref_t hal_device_ref(hal_fixture_t* fixture);
// A vm.buffer over a copy of |size| bytes, mutable or read-only (like
// module rodata). Owned by the caller.
irvm_ref_t hal_vm_bytes(hal_fixture_t* fixture, const void* data, size_t size,
                        bool mutable_buffer);
irvm_ref_t hal_vm_text(hal_fixture_t* fixture, const char* text);

// Assertions on statuses: consumes |status|.
void hal_expect_ok(irt_status_t status, const char* what);
void hal_expect_error(irt_status_t status, irt_status_code_t code,
                      const char* message_part, const char* what);
#define HAL_OK(expr) hal_expect_ok((expr), #expr)
#define HAL_ERROR(expr, code, part) \
  hal_expect_error((expr), (code), (part), #expr)

#endif  // IREED_TESTS_MODULES_HAL_HAL_FIXTURE_H
