// HAL files: memory and fd files, access and bounds checks, positional I/O.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/file.h"
#include "tests/support/counting_fixture.h"

static int release_calls;
static void count_release(void* user_data) {
  assert_ptr_equal(user_data, &release_calls);
  ++release_calls;
}

enum { READ = IRHAL_MEMORY_ACCESS_READ, WRITE = IRHAL_MEMORY_ACCESS_WRITE };

//===----------------------------------------------------------------------===//
// Memory files
//===----------------------------------------------------------------------===//

static void test_memory_file_read_write(void** state) {
  (void)state;
  release_calls = 0;
  uint8_t bytes[8] = {0, 1, 2, 3, 4, 5, 6, 7};
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_memory(
      bytes, sizeof(bytes), READ | WRITE,
      (irhal_release_callback_t){count_release, &release_calls}, allocator(),
      &file));
  assert_int_equal(irhal_file_length(file), 8);
  assert_int_equal(irhal_file_access(file), READ | WRITE);
  assert_ptr_equal(irhal_file_host_data(file), bytes);
  uint8_t out[4] = {0};
  assert_null(irhal_file_read(file, 2, out, 4));
  assert_int_equal(out[0], 2);
  assert_int_equal(out[3], 5);
  const uint8_t in[2] = {0xAA, 0xBB};
  assert_null(irhal_file_write(file, 6, in, 2));
  assert_int_equal(bytes[7], 0xBB);
  // Zero-length transfers at the end are fine; beyond it are not.
  assert_null(irhal_file_read(file, 8, out, 0));
  assert_code(irhal_file_read(file, 8, out, 1), IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_file_read(file, 5, out, 4), IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_file_read(file, UINT64_MAX, out, 2),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_file_write(file, 4, in, UINT64_MAX - 1),
              IRT_STATUS_OUT_OF_RANGE);
  irvm_ref_t ref = irvm_ref_wrap(file, irhal_file_type());
  assert_ptr_equal(irhal_file_deref(&ref), file);
  assert_string_equal(irhal_file_type()->name, "hal.file");
  irvm_ref_release(&ref);
  assert_int_equal(release_calls, 1);
}

static void test_memory_file_access(void** state) {
  (void)state;
  uint8_t bytes[4] = {0};
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_memory(bytes, sizeof(bytes), READ,
                                            (irhal_release_callback_t){0},
                                            allocator(), &file));
  irt_status_t status = irhal_file_write(file, 0, bytes, 1);
  assert_non_null(strstr(irt_status_message(status), "write"));
  assert_code(status, IRT_STATUS_PERMISSION_DENIED);
  irhal_file_release(file);
  assert_null(irhal_file_create_from_memory(bytes, sizeof(bytes), WRITE,
                                            (irhal_release_callback_t){0},
                                            allocator(), &file));
  assert_code(irhal_file_read(file, 0, bytes, 1), IRT_STATUS_PERMISSION_DENIED);
  irhal_file_release(file);
}

static void test_memory_file_create_errors(void** state) {
  (void)state;
  release_calls = 0;
  uint8_t bytes[4] = {0};
  irhal_release_callback_t release = {count_release, &release_calls};
  irhal_file_t* file = (irhal_file_t*)1;
  assert_code(irhal_file_create_from_memory(bytes, 4, READ | 0x4, release,
                                            allocator(), &file),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_null(file);
  assert_code(
      irhal_file_create_from_memory(NULL, 4, READ, release, allocator(), &file),
      IRT_STATUS_INVALID_ARGUMENT);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_file_create_from_memory(bytes, 4, READ, release,
                                            allocator(), &file),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  // On failure the caller keeps ownership: nothing was released.
  assert_int_equal(release_calls, 0);
  // An empty file needs no memory.
  assert_null(irhal_file_create_from_memory(NULL, 0, READ, release, allocator(),
                                            &file));
  assert_null(irhal_file_read(file, 0, NULL, 0));
  irhal_file_release(file);
  assert_int_equal(release_calls, 1);
}

//===----------------------------------------------------------------------===//
// Fd files
//===----------------------------------------------------------------------===//

static int make_temp_file(const void* contents, size_t length) {
  char path[] = "/tmp/irhal_file_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  unlink(path);
  assert_int_equal(write(fd, contents, length), (ssize_t)length);
  return fd;
}

static void test_fd_file_read_write(void** state) {
  (void)state;
  const char text[] = "hello, positional world";
  int fd = make_temp_file(text, sizeof(text) - 1);
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_fd(fd, sizeof(text) - 1, READ | WRITE,
                                        allocator(), &file));
  close(fd);  // the file owns a duplicate
  assert_null(irhal_file_host_data(file));
  char out[16] = {0};
  assert_null(irhal_file_read(file, 7, out, 10));
  assert_string_equal(out, "positional");
  assert_null(irhal_file_write(file, 0, "HELLO", 5));
  assert_null(irhal_file_read(file, 0, out, 7));
  out[7] = 0;
  assert_string_equal(out, "HELLO, ");
  assert_code(irhal_file_read(file, 20, out, 4), IRT_STATUS_OUT_OF_RANGE);
  irhal_file_release(file);
}

static void test_fd_file_short_file_is_data_loss(void** state) {
  (void)state;
  int fd = make_temp_file("abc", 3);
  irhal_file_t* file = NULL;
  // The caller claims more bytes than the file has.
  assert_null(irhal_file_create_from_fd(fd, 10, READ, allocator(), &file));
  close(fd);
  char out[10];
  assert_null(irhal_file_read(file, 0, out, 3));
  irt_status_t status = irhal_file_read(file, 0, out, 10);
  assert_non_null(strstr(irt_status_message(status), "file ends at 3"));
  assert_code(status, IRT_STATUS_DATA_LOSS);
  assert_code(irhal_file_write(file, 0, out, 1), IRT_STATUS_PERMISSION_DENIED);
  irhal_file_release(file);
}

static void test_fd_file_io_errors(void** state) {
  (void)state;
  // A pipe cannot be read or written positionally.
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_fd(fds[0], 4, READ, allocator(), &file));
  char out[4];
  assert_code(irhal_file_read(file, 0, out, 4), IRT_STATUS_DATA_LOSS);
  irhal_file_release(file);
  assert_null(irhal_file_create_from_fd(fds[1], 4, WRITE, allocator(), &file));
  assert_code(irhal_file_write(file, 0, "abcd", 4), IRT_STATUS_DATA_LOSS);
  irhal_file_release(file);
  close(fds[0]);
  close(fds[1]);
}

static void test_fd_file_create_errors(void** state) {
  (void)state;
  irhal_file_t* file = (irhal_file_t*)1;
  assert_code(irhal_file_create_from_fd(-1, 4, READ, allocator(), &file),
              IRT_STATUS_INVALID_ARGUMENT);
  assert_null(file);
  int fd = make_temp_file("x", 1);
  assert_code(irhal_file_create_from_fd(fd, (uint64_t)INT64_MAX + 1, READ,
                                        allocator(), &file),
              IRT_STATUS_OUT_OF_RANGE);
  assert_code(irhal_file_create_from_fd(fd, 1, 0x10, allocator(), &file),
              IRT_STATUS_INVALID_ARGUMENT);
  counter.fail_after = counter.total_allocations;
  assert_code(irhal_file_create_from_fd(fd, 1, READ, allocator(), &file),
              IRT_STATUS_RESOURCE_EXHAUSTED);
  counter.fail_after = SIZE_MAX;
  close(fd);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_memory_file_read_write, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_memory_file_access, setup, teardown),
      cmocka_unit_test_setup_teardown(test_memory_file_create_errors, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_fd_file_read_write, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fd_file_short_file_is_data_loss,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_fd_file_io_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_fd_file_create_errors, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
