// Builds a module with the module builder, loads it into a fresh context
// (after optional native modules) and calls its exports, for VM tests.
#ifndef IREED_TESTS_VM_VM_FIXTURE_H
#define IREED_TESTS_VM_VM_FIXTURE_H

#include "runtime/vm/builder/module_builder.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/context.h"
#include "runtime/vm/invoke.h"

typedef struct vm_fixture_s {
  irvm_instance_t* instance;
  irvm_context_t* context;
  irvm_module_t* module;
  irt_status_t load_status;  // why loading failed, when it did
} vm_fixture_t;

// Finishes and destroys |builder|, then loads the module into a new context
// after |natives|. Asserts success unless |expect_failure| (the status is
// then kept in fixture->load_status).
void vm_fixture_load(vm_fixture_t* fixture, irvm_module_builder_t* builder,
                     irvm_module_t* const* natives, size_t native_count,
                     bool expect_failure);
void vm_fixture_free(vm_fixture_t* fixture);

// Invokes export |name|; results are owned by the caller.
irt_status_t vm_fixture_call(vm_fixture_t* fixture, const char* name,
                             const irvm_variant_t* args, size_t arg_count,
                             irvm_variant_t* results, size_t* result_count);

// Records which opcodes the built modules contain and asserts at the end
// that every opcode of the three tables appeared in some test.
void vm_coverage_record(const uint8_t* module_data, size_t module_size);
void vm_coverage_assert_complete(void);

#define VM_CHECK(expr)                                               \
  do {                                                               \
    irt_status_t vm_check_status_ = (expr);                          \
    if (!irt_status_is_ok(vm_check_status_)) {                       \
      char vm_check_text_[1024];                                     \
      irt_status_format(vm_check_status_, vm_check_text_,            \
                        sizeof(vm_check_text_));                     \
      irt_status_free(vm_check_status_);                             \
      fail_msg("%s: %s", #expr, vm_check_text_);                     \
    }                                                                \
  } while (0)

#endif  // IREED_TESTS_VM_VM_FIXTURE_H
