// Shared file mappings: one mapping per file (and mode), reference counted
// across opens and threads, refreshed when the file changes; file
// identities.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/io/file_mapping.h"
#include "tests/io/io_testing.h"

typedef struct io_dir_s {
  char path[256];
  char file[300];
} io_dir_t;

static int io_setup(void** state) {
  static io_dir_t dir;
  io_make_temp_dir(dir.path, sizeof(dir.path));
  snprintf(dir.file, sizeof(dir.file), "%s/a.irpa", dir.path);
  io_write_file(dir.file, "0123456789", 10);
  *state = &dir;
  return 0;
}

static int io_teardown(void** state) {
  io_remove_dir(((io_dir_t*)*state)->path);
  return 0;
}

static void test_two_opens_share_one_mapping(void** state) {
  io_dir_t* dir = *state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  size_t live = irio_file_mapping_live_count();
  irio_file_mapping_t *first = NULL, *second = NULL;
  io_expect_ok(irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ, allocator,
                                      &first));
  // Another path naming the same file.
  char other[400];
  snprintf(other, sizeof(other), "%s/./a.irpa", dir->path);
  io_expect_ok(
      irio_file_mapping_open(other, IRIO_FILE_MODE_READ, allocator, &second));
  assert_ptr_equal(first, second);
  assert_ptr_equal(irio_file_mapping_data(first),
                   irio_file_mapping_data(second));
  assert_int_equal(irio_file_mapping_size(first), 10);
  assert_memory_equal(irio_file_mapping_data(first), "0123456789", 10);
  assert_string_equal(irio_file_mapping_path(second), dir->file);
  assert_int_equal(irio_file_mapping_live_count(), live + 1);
  assert_int_equal(counter.live_allocations, 1);
  irio_file_mapping_release(first);
  assert_int_equal(irio_file_mapping_live_count(), live + 1);
  assert_memory_equal(irio_file_mapping_data(second), "0123456789", 10);
  irio_file_mapping_release(second);
  assert_int_equal(irio_file_mapping_live_count(), live);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_modes_and_changes_get_their_own_mapping(void** state) {
  io_dir_t* dir = *state;
  irt_allocator_t allocator = irt_allocator_system();
  irio_file_mapping_t *reader = NULL, *writer = NULL, *again = NULL;
  io_expect_ok(irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ, allocator,
                                      &reader));
  io_expect_ok(irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ_WRITE,
                                      allocator, &writer));
  assert_ptr_not_equal(reader, writer);
  assert_int_equal(irio_file_mapping_mode(writer), IRIO_FILE_MODE_READ_WRITE);
  // Writes through a read-write mapping reach the file (and the page cache
  // every other mapping of it reads).
  irio_file_mapping_data(writer)[0] = 'X';
  irio_file_mapping_release(writer);
  FILE* file = fopen(dir->file, "rb");
  char first = 0;
  assert_int_equal(fread(&first, 1, 1, file), 1);
  fclose(file);
  assert_int_equal(first, 'X');
  // A rewritten file (new size) is mapped afresh.
  io_write_file(dir->file, "abcdefghijklmnop", 16);
  io_expect_ok(irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ, allocator,
                                      &again));
  assert_ptr_not_equal(reader, again);
  assert_int_equal(irio_file_mapping_size(again), 16);
  irio_file_mapping_release(again);
  irio_file_mapping_release(reader);
  io_write_file(dir->file, "0123456789", 10);
}

// A mapping's identity is its file's until another file is renamed over the
// path (what reloads compare); a missing path has none.
static void test_identities(void** state) {
  io_dir_t* dir = *state;
  irio_file_mapping_t* mapping = NULL;
  io_expect_ok(irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ,
                                      irt_allocator_system(), &mapping));
  irio_file_identity_t mapped = irio_file_mapping_identity(mapping);
  irio_file_identity_t now;
  io_expect_ok(irio_file_identity_of_path(dir->file, &now));
  assert_true(irio_file_identity_equal(&mapped, &now));
  assert_int_equal(mapped.size, 10);
  char other[400];
  snprintf(other, sizeof(other), "%s/b.irpa", dir->path);
  io_write_file(other, "0123456789", 10);  // the same bytes, another file
  assert_int_equal(rename(other, dir->file), 0);
  io_expect_ok(irio_file_identity_of_path(dir->file, &now));
  assert_false(irio_file_identity_equal(&mapped, &now));
  irio_file_mapping_release(mapping);
  io_expect_error(irio_file_identity_of_path(other, &now),
                  IRT_STATUS_NOT_FOUND, "b.irpa");
}

static void test_open_errors(void** state) {
  io_dir_t* dir = *state;
  irt_allocator_t allocator = irt_allocator_system();
  irio_file_mapping_t* mapping = NULL;
  char path[400];
  snprintf(path, sizeof(path), "%s/missing.irpa", dir->path);
  io_expect_error(
      irio_file_mapping_open(path, IRIO_FILE_MODE_READ, allocator, &mapping),
      IRT_STATUS_NOT_FOUND, "missing.irpa");
  assert_null(mapping);
  io_expect_error(irio_file_mapping_open(dir->path, IRIO_FILE_MODE_READ,
                                         allocator, &mapping),
                  IRT_STATUS_INVALID_ARGUMENT, "not a regular file");
  snprintf(path, sizeof(path), "%s/locked.irpa", dir->path);
  io_write_file(path, "x", 1);
  chmod(path, 0);
  if (geteuid() != 0) {  // root opens anything
    io_expect_error(
        irio_file_mapping_open(path, IRIO_FILE_MODE_READ, allocator, &mapping),
        IRT_STATUS_PERMISSION_DENIED, "locked.irpa");
  }
  // Empty files map to no bytes.
  snprintf(path, sizeof(path), "%s/empty.irpa", dir->path);
  io_write_file(path, "", 0);
  io_expect_ok(
      irio_file_mapping_open(path, IRIO_FILE_MODE_READ, allocator, &mapping));
  assert_null(irio_file_mapping_data(mapping));
  assert_int_equal(irio_file_mapping_size(mapping), 0);
  irio_file_mapping_release(mapping);
  // Allocation failure leaves nothing behind.
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  size_t live = irio_file_mapping_live_count();
  io_expect_error(
      irio_file_mapping_open(dir->file, IRIO_FILE_MODE_READ,
                             irt_counting_allocator(&counter), &mapping),
      IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_int_equal(irio_file_mapping_live_count(), live);
}

#define IO_THREADS 8
#define IO_ROUNDS 2000

static void* io_open_release_loop(void* arg) {
  const char* path = arg;
  for (int i = 0; i < IO_ROUNDS; ++i) {
    irio_file_mapping_t* mapping = NULL;
    irt_status_t status = irio_file_mapping_open(
        path, IRIO_FILE_MODE_READ, irt_allocator_system(), &mapping);
    if (status) return status;
    if (memcmp(irio_file_mapping_data(mapping), "0123456789", 10) != 0) {
      return irt_make_status(IRT_STATUS_DATA_LOSS, "wrong bytes");
    }
    irio_file_mapping_retain(mapping);
    irio_file_mapping_release(mapping);
    irio_file_mapping_release(mapping);
  }
  return NULL;
}

static void test_concurrent_opens(void** state) {
  io_dir_t* dir = *state;
  size_t live = irio_file_mapping_live_count();
  pthread_t threads[IO_THREADS];
  for (int i = 0; i < IO_THREADS; ++i) {
    assert_int_equal(
        pthread_create(&threads[i], NULL, io_open_release_loop, dir->file), 0);
  }
  for (int i = 0; i < IO_THREADS; ++i) {
    void* result = NULL;
    pthread_join(threads[i], &result);
    io_expect_ok((irt_status_t)result);
  }
  assert_int_equal(irio_file_mapping_live_count(), live);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_two_opens_share_one_mapping),
      cmocka_unit_test(test_modes_and_changes_get_their_own_mapping),
      cmocka_unit_test(test_identities),
      cmocka_unit_test(test_open_errors),
      cmocka_unit_test(test_concurrent_opens),
  };
  return cmocka_run_group_tests(tests, io_setup, io_teardown);
}
