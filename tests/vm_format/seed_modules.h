// Builder-made modules that cover what the conformance corpus does not:
// every opcode of the three tables (each field shape, prefixes, br_table,
// cond_break, padding), every debug location kind, optional imports and
// dependencies, attributes, external rodata, the flat container. The
// vm_format tests decode them; the fuzzer (tests/fuzz) uses them as seeds.
#ifndef IRVM_TESTS_VM_FORMAT_SEED_MODULES_H
#define IRVM_TESTS_VM_FORMAT_SEED_MODULES_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"

#define IRVM_SEED_MODULE_COUNT 3

// Builds seed |index| (< IRVM_SEED_MODULE_COUNT) into a file allocated from
// |allocator| (free with irt_allocator_free); *out_name is a file name for
// it ("every_op.vmfb").
irt_status_t irvm_seed_module_build(uint32_t index, irt_allocator_t allocator,
                                    uint8_t** out_data, size_t* out_size,
                                    const char** out_name) IRT_MUST_USE;

#endif  // IRVM_TESTS_VM_FORMAT_SEED_MODULES_H
