// Runs every interpreter test group, then checks opcode coverage.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/vm/interpreter_tests.h"
#include "tests/vm/vm_fixture.h"

static void test_every_opcode_is_covered(void** state) {
  (void)state;
  vm_coverage_assert_complete();
}

int main(void) {
  const struct {
    const struct CMUnitTest* tests;
    size_t count;
  } groups[] = {
      {interpreter_op_tests, interpreter_op_test_count},
      {interpreter_flow_tests, interpreter_flow_test_count},
      {interpreter_memory_tests, interpreter_memory_test_count},
  };
  size_t total = 1;
  for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); ++g) {
    total += groups[g].count;
  }
  struct CMUnitTest* all = calloc(total, sizeof(*all));
  size_t n = 0;
  for (size_t g = 0; g < sizeof(groups) / sizeof(groups[0]); ++g) {
    memcpy(all + n, groups[g].tests, groups[g].count * sizeof(*all));
    n += groups[g].count;
  }
  all[n++] = (struct CMUnitTest)cmocka_unit_test(test_every_opcode_is_covered);
  int failures = _cmocka_run_group_tests("interpreter", all, n, NULL, NULL);
  free(all);
  return failures;
}
