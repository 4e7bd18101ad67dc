#include "tests/vm/vm_fixture.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

static void vm_fixture_release_data(void* user_data, const uint8_t* data,
                                    size_t size) {
  (void)size;
  irt_allocator_free(irt_allocator_system(), (void*)data);
  (void)user_data;
}

void vm_fixture_load(vm_fixture_t* fixture, irvm_module_builder_t* builder,
                     irvm_module_t* const* natives, size_t native_count,
                     bool expect_failure) {
  memset(fixture, 0, sizeof(*fixture));
  irt_allocator_t allocator = irt_allocator_system();
  uint8_t* data = NULL;
  size_t size = 0;
  VM_CHECK(irvm_module_builder_finish(builder, NULL, allocator, &data, &size));
  irvm_module_builder_destroy(builder);
  vm_coverage_record(data, size);
  VM_CHECK(irvm_instance_create(allocator, &fixture->instance));
  VM_CHECK(irvm_context_create(fixture->instance, allocator, &fixture->context));
  if (native_count) {
    VM_CHECK(irvm_context_register_modules(fixture->context, natives,
                                           native_count));
  }
  irvm_bytecode_module_options_t options = {vm_fixture_release_data, NULL};
  irt_status_t status = irvm_bytecode_module_create(
      fixture->instance, data, size, &options, allocator, &fixture->module);
  if (irt_status_is_ok(status)) {
    status = irvm_context_register_modules(fixture->context, &fixture->module, 1);
  } else {
    irt_allocator_free(allocator, data);
  }
  if (expect_failure) {
    assert_false(irt_status_is_ok(status));
    fixture->load_status = status;
    return;
  }
  VM_CHECK(status);
}

void vm_fixture_free(vm_fixture_t* fixture) {
  irt_status_free(fixture->load_status);
  if (fixture->module) irvm_module_release(fixture->module);
  irvm_context_destroy(fixture->context);
  irvm_instance_destroy(fixture->instance);
  memset(fixture, 0, sizeof(*fixture));
}

irt_status_t vm_fixture_call(vm_fixture_t* fixture, const char* name,
                             const irvm_variant_t* args, size_t arg_count,
                             irvm_variant_t* results, size_t* result_count) {
  irvm_function_t function;
  IRT_RETURN_IF_ERROR(irvm_context_resolve_function(
      fixture->context, irt_make_cstring_view(name), &function));
  return irvm_invoke(&function, NULL, args, arg_count, results, 8, result_count,
                     irt_allocator_system());
}
