// The interpreter test groups, run by test_interpreter_main.c in one binary
// so the final check can assert that every opcode was exercised.
#ifndef IREED_TESTS_VM_INTERPRETER_TESTS_H
#define IREED_TESTS_VM_INTERPRETER_TESTS_H

#include <stddef.h>

struct CMUnitTest;
extern const struct CMUnitTest interpreter_op_tests[];
extern const size_t interpreter_op_test_count;
extern const struct CMUnitTest interpreter_flow_tests[];
extern const size_t interpreter_flow_test_count;
extern const struct CMUnitTest interpreter_memory_tests[];
extern const size_t interpreter_memory_test_count;

#endif  // IREED_TESTS_VM_INTERPRETER_TESTS_H
