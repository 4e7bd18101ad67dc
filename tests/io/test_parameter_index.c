// The parameter index: scopes, first-match lookup across files, the
// --parameters convention, failures that leave the index unchanged, and
// allocation failure at every step.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/io/irpa_writer.h"
#include "runtime/io/parameter_index.h"
#include "tests/io/io_testing.h"
#include "tests/support/test_files.h"

typedef struct io_index_fixture_s {
  char dir[256];
  char many[300];  // 1000 entries "p0".."p999" of 4 bytes each (+ dup "p7")
  char bad[300];   // an IRPA with a damaged second entry
} io_index_fixture_t;

static void io_write_many(const char* path) {
  enum { kCount = 1001 };
  static irio_irpa_writer_entry_t entries[kCount];
  static char keys[kCount][8];
  static uint32_t values[kCount];
  for (size_t i = 0; i < kCount; ++i) {
    size_t id = i < kCount - 1 ? i : 7;  // the last one repeats "p7"
    snprintf(keys[i], sizeof(keys[i]), "p%zu", id);
    values[i] = (uint32_t)i;
    entries[i] =
        (irio_irpa_writer_entry_t){.key = irt_make_cstring_view(keys[i]),
                                   .storage = IRIO_ENTRY_STORAGE_FILE,
                                   .length = 4,
                                   .data = &values[i]};
  }
  FILE* file = fopen(path, "wb");
  assert_non_null(file);
  io_expect_ok(irio_irpa_write(entries, kCount, file, path));
  fclose(file);
}

static int io_setup(void** state) {
  static io_index_fixture_t fixture;
  io_make_temp_dir(fixture.dir, sizeof(fixture.dir));
  snprintf(fixture.many, sizeof(fixture.many), "%s/many.irpa", fixture.dir);
  io_write_many(fixture.many);
  // Two splats; the second's pattern length is damaged.
  irio_irpa_writer_entry_t entries[2] = {
      {.key = irt_make_cstring_view("ok"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 4,
       .pattern_length = 4},
      {.key = irt_make_cstring_view("broken"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 4,
       .pattern_length = 4},
  };
  snprintf(fixture.bad, sizeof(fixture.bad), "%s/bad.irpa", fixture.dir);
  FILE* file = fopen(fixture.bad, "w+b");
  io_expect_ok(irio_irpa_write(entries, 2, file, fixture.bad));
  fseek(file, 96 + 96 + 84, SEEK_SET);  // entry 1's pattern_length
  fputc(3, file);
  fclose(file);
  *state = &fixture;
  return 0;
}

static int io_teardown(void** state) {
  io_remove_dir(((io_index_fixture_t*)*state)->dir);
  return 0;
}

static const irio_parameter_t* io_find(const irio_parameter_index_t* index,
                                       const char* scope, const char* key) {
  return irio_parameter_index_find(index, irt_make_cstring_view(scope),
                                   irt_make_cstring_view(key));
}

static void test_scopes_and_first_match(void** state) {
  (void)state;
  char single[4096], multiple[4096], gguf[4096];
  if (!ireed_test_shared_path("conformance/params/irpa_single.irpa", single,
                              sizeof(single)) ||
      !ireed_test_shared_path("conformance/params/irpa_multiple.irpa", multiple,
                              sizeof(multiple)) ||
      !ireed_test_shared_path("conformance/params/gguf_multiple.gguf", gguf,
                              sizeof(gguf))) {
    skip();
  }
  irio_parameter_index_t* index = NULL;
  io_expect_ok(irio_parameter_index_create(irt_allocator_system(), &index));
  char flag[4200];
  snprintf(flag, sizeof(flag), "model=%s", single);
  io_expect_ok(irio_parameter_index_add_flag(index, flag));
  snprintf(flag, sizeof(flag), "model=%s", multiple);
  io_expect_ok(irio_parameter_index_add_flag(index, flag));
  io_expect_ok(irio_parameter_index_add_flag(index, gguf));  // scope ""
  assert_int_equal(irio_parameter_index_scope_count(index), 2);
  assert_true(irt_string_view_equal_cstring(
      irio_parameter_index_scope(index, 0), "model"));
  assert_int_equal(irio_parameter_index_scope(index, 1).size, 0);
  assert_int_equal(irio_parameter_index_archive_count(index), 3);
  assert_int_equal(irio_parameter_index_archive_format(index, 2),
                   IRIO_ARCHIVE_FORMAT_GGUF);
  assert_int_equal(irio_parameter_index_count(index), 1 + 2 + 3);

  // key0 exists in both model files: the first one added wins.
  const irio_parameter_t* key0 = io_find(index, "model", "key0");
  assert_non_null(key0);
  assert_int_equal(key0->archive_index, 0);
  assert_int_equal(key0->entry.file_offset, 192);
  assert_int_equal(io_find(index, "model", "key1")->entry.file_offset, 384);
  assert_int_equal(io_find(index, "", "tensor2")->entry.length, 48);
  // Scopes are exact: no prefix matching, no fallback to "".
  assert_null(io_find(index, "model", "tensor0"));
  assert_null(io_find(index, "mode", "key0"));
  assert_null(io_find(index, "", "key0"));

  const irio_parameter_t* found = NULL;
  io_expect_error(
      irio_parameter_index_lookup(index, irt_make_cstring_view("bias"),
                                  irt_make_cstring_view("offset"), &found),
      IRT_STATUS_NOT_FOUND, "no provider registered that handles scope 'bias'");
  io_expect_error(
      irio_parameter_index_lookup(index, irt_make_cstring_view("model"),
                                  irt_make_cstring_view("nope"), &found),
      IRT_STATUS_NOT_FOUND, "parameter 'nope' not found in scope 'model'");
  assert_null(found);
  irio_parameter_index_release(index);
}

static void test_many_entries(void** state) {
  io_index_fixture_t* fixture = *state;
  irio_parameter_index_t* index = NULL;
  io_expect_ok(irio_parameter_index_create(irt_allocator_system(), &index));
  io_expect_ok(irio_parameter_index_add_file(
      index, irt_make_cstring_view("s"), fixture->many, IRIO_FILE_MODE_READ));
  assert_int_equal(irio_parameter_index_count(index), 1001);
  const uint8_t* data =
      irio_file_mapping_data(irio_parameter_index_archive(index, 0));
  for (uint32_t i = 0; i < 1000; ++i) {
    char key[8];
    snprintf(key, sizeof(key), "p%u", i);
    const irio_parameter_t* parameter = io_find(index, "s", key);
    assert_non_null(parameter);
    uint32_t value = 0;
    memcpy(&value, data + parameter->entry.file_offset, 4);
    assert_int_equal(value, i);  // "p7" is the first of its two entries
  }
  irio_parameter_index_release(index);
}

static void test_flags(void** state) {
  io_index_fixture_t* fixture = *state;
  irio_parameter_index_t* index = NULL;
  io_expect_ok(irio_parameter_index_create(irt_allocator_system(), &index));
  irt_string_view_t scope;
  const char* path = NULL;
  io_expect_ok(irio_parameter_split_flag("a=b=c.irpa", &scope, &path));
  assert_true(irt_string_view_equal_cstring(scope, "a"));
  assert_string_equal(path, "b=c.irpa");
  io_expect_ok(irio_parameter_split_flag("=x.gguf", &scope, &path));
  assert_int_equal(scope.size, 0);
  assert_string_equal(path, "x.gguf");
  io_expect_error(irio_parameter_split_flag("model=", &scope, &path),
                  IRT_STATUS_INVALID_ARGUMENT, "no file given");
  io_expect_error(irio_parameter_index_add_flag(index, "model=w.bin"),
                  IRT_STATUS_UNIMPLEMENTED, "; --parameters=model=w.bin");
  char flag[400];
  snprintf(flag, sizeof(flag), "model=%s/none.irpa", fixture->dir);
  io_expect_error(irio_parameter_index_add_flag(index, flag),
                  IRT_STATUS_NOT_FOUND, "cannot open");
  irio_parameter_index_release(index);
}

static void test_failed_file_leaves_index_unchanged(void** state) {
  io_index_fixture_t* fixture = *state;
  size_t live = irio_file_mapping_live_count();
  irio_parameter_index_t* index = NULL;
  io_expect_ok(irio_parameter_index_create(irt_allocator_system(), &index));
  io_expect_error(
      irio_parameter_index_add_file(index, irt_make_cstring_view("new"),
                                    fixture->bad, IRIO_FILE_MODE_READ),
      IRT_STATUS_INVALID_ARGUMENT, "irpa entry 1 at offset 192");
  // Entry 0 ("ok") was parsed before the failure and must be gone.
  assert_int_equal(irio_parameter_index_count(index), 0);
  assert_int_equal(irio_parameter_index_scope_count(index), 0);
  assert_int_equal(irio_parameter_index_archive_count(index), 0);
  assert_false(
      irio_parameter_index_has_scope(index, irt_make_cstring_view("new")));
  assert_null(io_find(index, "new", "ok"));
  assert_int_equal(irio_file_mapping_live_count(), live);
  io_expect_ok(irio_parameter_index_add_file(
      index, irt_make_cstring_view("new"), fixture->many, IRIO_FILE_MODE_READ));
  assert_non_null(io_find(index, "new", "p999"));
  irio_parameter_index_release(index);
  assert_int_equal(irio_file_mapping_live_count(), live);
}

// Fails allocation N for N = 0, 1, ... until building succeeds: every
// failure is clean and leaks nothing.
static void test_allocation_failures(void** state) {
  io_index_fixture_t* fixture = *state;
  size_t live = irio_file_mapping_live_count();
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irio_parameter_index_t* index = NULL;
    irt_status_t status =
        irio_parameter_index_create(irt_counting_allocator(&counter), &index);
    const char* scopes[] = {"a", "b", "a"};
    for (size_t i = 0; i < 3 && irt_status_is_ok(status); ++i) {
      status =
          irio_parameter_index_add_file(index, irt_make_cstring_view(scopes[i]),
                                        fixture->many, IRIO_FILE_MODE_READ);
    }
    bool done = irt_status_is_ok(status);
    if (!done) {
      assert_int_equal(irt_status_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
      irt_status_free(status);
    } else {
      assert_int_equal(irio_parameter_index_count(index), 3003);
      assert_int_equal(io_find(index, "a", "p5")->archive_index, 0);
      assert_int_equal(io_find(index, "b", "p5")->archive_index, 1);
    }
    irio_parameter_index_release(index);
    assert_int_equal(counter.live_allocations, 0);
    assert_int_equal(irio_file_mapping_live_count(), live);
    if (done) break;
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scopes_and_first_match),
      cmocka_unit_test(test_many_entries),
      cmocka_unit_test(test_flags),
      cmocka_unit_test(test_failed_file_leaves_index_unchanged),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, io_setup, io_teardown);
}
