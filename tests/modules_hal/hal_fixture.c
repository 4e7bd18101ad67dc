#include "tests/modules_hal/hal_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

void hal_fixture_init(hal_fixture_t* fixture) {
  memset(fixture, 0, sizeof(*fixture));
  irt_counting_allocator_init(&fixture->counter, irt_allocator_system());
  fixture->allocator = irt_counting_allocator(&fixture->counter);
  HAL_OK(irvm_instance_create(fixture->allocator, &fixture->instance));
  HAL_OK(fake_device_create(fixture->allocator, &fixture->device));
  irhal_device_t* devices[] = {&fixture->device->base};
  HAL_OK(irmod_hal_module_create(fixture->instance, devices, 1,
                                 fixture->allocator, &fixture->module));
  irvm_stack_initialize(&fixture->stack, fixture->allocator,
                        IRVM_STACK_DEFAULT_LIMIT);
}

void hal_fixture_deinit(hal_fixture_t* fixture) {
  irvm_stack_deinitialize(&fixture->stack);
  irvm_module_release(fixture->module);
  irhal_device_release(&fixture->device->base);
  irvm_instance_destroy(fixture->instance);
  assert_int_equal(fixture->counter.live_allocations, 0);
}

//===----------------------------------------------------------------------===//
// Packing
//===----------------------------------------------------------------------===//

void hal_args_begin(hal_args_t* args) {
  memset(args->data, 0, sizeof(args->data));
  args->cursor = irvm_abi_cursor(args->data);
}

void hal_args_i32(hal_args_t* args, int32_t value) {
  irvm_abi_write_i32(&args->cursor, value);
}

void hal_args_i64(hal_args_t* args, int64_t value) {
  irvm_abi_write_i64(&args->cursor, value);
}

void hal_span_ref(irvm_abi_cursor_t* element, irvm_ref_t ref) {
  *irvm_abi_read_ref(element) = ref;
}

void hal_args_ref(hal_args_t* args, irvm_ref_t ref) {
  hal_span_ref(&args->cursor, ref);
}

irvm_abi_span_t hal_args_span(hal_args_t* args, uint32_t count,
                              const char* tuple) {
  return irvm_abi_begin_span(&args->cursor, count,
                             irt_make_cstring_view(tuple));
}

static void hal_args_uniform_chars(irvm_abi_cursor_t* cursor, const char* chars,
                                   size_t length, irvm_ref_t ref) {
  for (size_t i = 0; i < length; ++i) {
    switch (chars[i]) {
      case 'i':
        irvm_abi_write_i32(cursor, 0);
        break;
      case 'I':
        irvm_abi_write_i64(cursor, 0);
        break;
      case 'r':
        hal_span_ref(cursor, ref);
        break;
      default:
        fail_msg("unexpected cconv char '%c'", chars[i]);
    }
  }
}

void hal_args_uniform(hal_args_t* args, const char* fragment, irvm_ref_t ref,
                      uint32_t span_count) {
  hal_args_begin(args);
  for (const char* c = fragment; *c; ++c) {
    if (*c != 'C') {
      hal_args_uniform_chars(&args->cursor, c, 1, ref);
      continue;
    }
    const char* end = strchr(c, 'D');
    char tuple[16];
    snprintf(tuple, sizeof(tuple), "%.*s", (int)(end - c - 1), c + 1);
    irvm_abi_span_t span = hal_args_span(args, span_count, tuple);
    for (uint32_t i = 0; i < span_count; ++i) {
      irvm_abi_cursor_t element = irvm_abi_span_element(span, i);
      hal_args_uniform_chars(&element, tuple, strlen(tuple), ref);
    }
    c = end;
  }
  assert_true(args->cursor.offset <= sizeof(args->data));
}

//===----------------------------------------------------------------------===//
// Results
//===----------------------------------------------------------------------===//

int32_t hal_results_i32(hal_results_t* results) {
  return irvm_abi_read_i32(&results->cursor);
}

int64_t hal_results_i64(hal_results_t* results) {
  return irvm_abi_read_i64(&results->cursor);
}

irvm_ref_t hal_results_ref(hal_results_t* results) {
  irvm_ref_t* slot = irvm_abi_read_ref(&results->cursor);
  irvm_ref_t ref = *slot;
  *slot = irvm_ref_null();
  return ref;
}

void hal_results_release(hal_results_t* results) {
  irvm_abi_release_refs(results->fragment, results->data);
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

static uint32_t hal_export_ordinal(hal_fixture_t* fixture, const char* name,
                                   irvm_cconv_t* out_cconv) {
  uint32_t ordinal = 0;
  HAL_OK(irvm_module_lookup_export(fixture->module, irt_make_cstring_view(name),
                                   &ordinal));
  irvm_export_info_t info;
  HAL_OK(fixture->module->vtable->export_info(fixture->module, ordinal, &info));
  HAL_OK(irvm_cconv_parse(info.calling_convention, out_cconv));
  return ordinal;
}

irt_string_view_t hal_export_arguments(hal_fixture_t* fixture,
                                       const char* name) {
  irvm_cconv_t cconv;
  hal_export_ordinal(fixture, name, &cconv);
  return cconv.arguments;
}

irt_status_t hal_call(hal_fixture_t* fixture, const char* name,
                      hal_args_t* args, hal_results_t* results) {
  irvm_cconv_t cconv;
  uint32_t ordinal = hal_export_ordinal(fixture, name, &cconv);
  hal_results_t scratch;
  if (!results) results = &scratch;
  memset(results->data, 0, sizeof(results->data));
  results->cursor = irvm_abi_cursor(results->data);
  results->fragment = cconv.results;
  irt_status_t status =
      fixture->module->vtable->call(fixture->module, NULL, ordinal,
                                    &fixture->stack, args->data, results->data);
  // A failed call must not leave results behind; a successful one with no
  // reader must not leak them.
  if (!irt_status_is_ok(status) || results == &scratch) {
    hal_results_release(results);
  }
  return status;
}

//===----------------------------------------------------------------------===//
// Refs
//===----------------------------------------------------------------------===//

irvm_ref_t hal_ref(void* object, const irvm_ref_type_t* type) {
  return irvm_ref_wrap(object, type);
}

irvm_ref_t hal_device_ref(hal_fixture_t* fixture) {
  return hal_ref(&fixture->device->base, irhal_device_type());
}

static void hal_free_bytes(void* user_data, void* data) {
  irt_allocator_free(*(irt_allocator_t*)user_data, data);
}

irvm_ref_t hal_vm_bytes(hal_fixture_t* fixture, const void* data, size_t size,
                        bool mutable_buffer) {
  irvm_buffer_t* buffer = NULL;
  if (mutable_buffer) {
    HAL_OK(irvm_buffer_create(size, 0, fixture->allocator, &buffer));
    memcpy(buffer->data, data, size);
  } else {
    void* copy = NULL;
    HAL_OK(irt_allocator_malloc(fixture->allocator, size, &copy));
    memcpy(copy, data, size);
    irvm_buffer_release_t release = {hal_free_bytes, &fixture->allocator};
    HAL_OK(irvm_buffer_wrap(copy, size, IRVM_BUFFER_ORIGIN_MODULE, release,
                            fixture->allocator, &buffer));
  }
  return irvm_ref_wrap(buffer, irvm_buffer_type());
}

irvm_ref_t hal_vm_text(hal_fixture_t* fixture, const char* text) {
  return hal_vm_bytes(fixture, text, strlen(text), false);
}

//===----------------------------------------------------------------------===//
// Status assertions
//===----------------------------------------------------------------------===//

void hal_expect_ok(irt_status_t status, const char* what) {
  if (irt_status_is_ok(status)) return;
  char text[1024];
  irt_status_format(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("%s: %s", what, text);
}

void hal_expect_error(irt_status_t status, irt_status_code_t code,
                      const char* message_part, const char* what) {
  if (irt_status_is_ok(status)) fail_msg("%s: succeeded unexpectedly", what);
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t actual = irt_status_code(status);
  irt_status_free(status);
  if (actual != code) {
    fail_msg("%s: expected %s, got %s: %s", what, irt_status_code_string(code),
             irt_status_code_string(actual), text);
  }
  if (message_part && !strstr(text, message_part)) {
    fail_msg("%s: message '%s' lacks '%s'", what, text, message_part);
  }
}
