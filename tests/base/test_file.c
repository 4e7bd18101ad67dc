// irt_file_read_all: contents and terminator, growth past the first chunk,
// and every error path naming the file without leaking.
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/base/file.h"

// Writes |size| bytes of a pattern to a new temporary file.
static void make_file(char* path, size_t size) {
  strcpy(path, "/tmp/irt-file-test.XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  for (size_t i = 0; i < size; ++i) {
    uint8_t byte = (uint8_t)(i * 7 + 1);
    assert_int_equal(write(fd, &byte, 1), 1);
  }
  close(fd);
}

static void test_reads_whole_file(void** state) {
  (void)state;
  const size_t sizes[] = {0, 5, 65535, 65536, 200000};
  for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); ++s) {
    char path[64];
    make_file(path, sizes[s]);
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    irt_allocator_t allocator = irt_counting_allocator(&counter);
    uint8_t* data = NULL;
    size_t size = 0;
    assert_null(irt_file_read_all(path, allocator, &data, &size));
    assert_int_equal(size, sizes[s]);
    for (size_t i = 0; i < size; ++i) {
      assert_int_equal(data[i], (uint8_t)(i * 7 + 1));
    }
    assert_int_equal(data[size], 0);  // usable as a C string
    irt_allocator_free(allocator, data);
    assert_int_equal(counter.live_allocations, 0);
    unlink(path);
  }
}

static void expect_error(irt_status_t status, irt_status_code_t code,
                         const char* path) {
  assert_non_null(status);
  assert_int_equal(irt_status_code(status), code);
  assert_non_null(strstr(irt_status_message(status), path));
  irt_status_free(status);
}

static void test_errors_name_the_file(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  uint8_t* data = (uint8_t*)&counter;
  size_t size = 1;
  expect_error(
      irt_file_read_all("/nonexistent/irt-file", allocator, &data, &size),
      IRT_STATUS_NOT_FOUND, "/nonexistent/irt-file");
  assert_null(data);
  assert_int_equal(size, 0);
  // A directory opens but cannot be read.
  expect_error(irt_file_read_all("/tmp", allocator, &data, &size),
               IRT_STATUS_DATA_LOSS, "/tmp");
  // Out of memory while growing: nothing is kept.
  char path[64];
  make_file(path, 100000);
  counter.fail_after = 1;
  assert_int_equal(
      irt_status_consume_code(irt_file_read_all(path, allocator, &data, &size)),
      IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(data);
  assert_int_equal(counter.live_allocations, 0);
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_whole_file),
      cmocka_unit_test(test_errors_name_the_file),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
