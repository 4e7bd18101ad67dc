// --input specs in every form (values, nulls, tensors, storage buffers, raw
// and .npy files with stream positions) and --output file specs.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/tooling/function_io.h"
#include "runtime/tooling/npy.h"
#include "tests/tooling/test_util.h"

typedef struct fixture_s {
  char dir[512];
} fixture_t;

static int setup(void** state) {
  fixture_t* fixture = calloc(1, sizeof(*fixture));
  scratch_dir_create(fixture->dir, sizeof(fixture->dir));
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  fixture_t* fixture = *state;
  scratch_dir_remove(fixture->dir);
  free(fixture);
  return 0;
}

static void path_in(const fixture_t* fixture, const char* name, char* buffer,
                    size_t capacity) {
  snprintf(buffer, capacity, "%s/%s", fixture->dir, name);
}

static void assert_tensor_text(const irtool_tensor_t* tensor,
                               const char* expected) {
  capture_t capture;
  capture_begin(&capture);
  assert_ok(irtool_tensor_format(tensor, 1024, capture.stream));
  assert_string_equal(capture_end(&capture), expected);
  capture_free(&capture);
}

// Parses |spec| with a printf-style format (for paths).
static irt_status_t parse_input(irtool_inputs_t* inputs, const char* format,
                                ...) IRT_PRINTF_LIKE(2, 3);
static irt_status_t parse_input(irtool_inputs_t* inputs, const char* format,
                                ...) {
  char spec[1024];
  va_list args;
  va_start(args, format);
  vsnprintf(spec, sizeof(spec), format, args);
  va_end(args);
  return irtool_inputs_parse(inputs, SV(spec));
}

static void test_values_and_nulls(void** state) {
  (void)state;
  irtool_inputs_t inputs;
  irtool_inputs_initialize(SV("riIfFr"), irt_allocator_system(), &inputs);
  assert_ok(irtool_inputs_parse(&inputs, SV("(null)")));
  assert_ok(irtool_inputs_parse(&inputs, SV(" 7 ")));
  assert_ok(irtool_inputs_parse(&inputs, SV("i64=-9223372036854775808")));
  assert_ok(irtool_inputs_parse(&inputs, SV("(ignored)")));
  assert_ok(irtool_inputs_parse(&inputs, SV("0.25")));
  assert_ok(irtool_inputs_parse(&inputs, SV("(ignored)")));
  assert_int_equal(inputs.count, 6);
  assert_int_equal(inputs.items[0].kind, IRTOOL_INPUT_NULL);
  assert_int_equal(inputs.items[1].kind, IRTOOL_INPUT_VALUE);
  assert_int_equal(inputs.items[1].value.type, IRVM_VALUE_TYPE_I32);
  assert_int_equal(inputs.items[1].value.i32, 7);
  assert_int_equal(inputs.items[2].value.type, IRVM_VALUE_TYPE_I64);
  assert_true(inputs.items[2].value.i64 == INT64_MIN);
  assert_int_equal(inputs.items[3].value.type, IRVM_VALUE_TYPE_F32);
  assert_true(inputs.items[3].value.f32 == 0.0f);
  assert_int_equal(inputs.items[4].value.type, IRVM_VALUE_TYPE_F64);
  assert_true(inputs.items[4].value.f64 == 0.25);
  assert_int_equal(inputs.items[5].kind, IRTOOL_INPUT_NULL);
  irtool_inputs_deinitialize(&inputs);

  irtool_inputs_initialize(SV("i"), irt_allocator_system(), &inputs);
  assert_status(irtool_inputs_parse(&inputs, SV("")),
                IRT_STATUS_INVALID_ARGUMENT, "no value specified for input");
  assert_status(irtool_inputs_parse(&inputs, SV("  ")),
                IRT_STATUS_INVALID_ARGUMENT, "no value specified for input");
  assert_status(irtool_inputs_parse(&inputs, SV("f32=1")),
                IRT_STATUS_INVALID_ARGUMENT, "the argument is an i32");
  assert_status(irtool_inputs_parse(&inputs, SV("i32=")),
                IRT_STATUS_INVALID_ARGUMENT, "no i32 value");
  assert_status(irtool_inputs_parse(&inputs, SV("1.5")),
                IRT_STATUS_INVALID_ARGUMENT, "not an integer");
  assert_status(irtool_inputs_parse(&inputs, SV("1 2")),
                IRT_STATUS_OUT_OF_RANGE, "expected 1 element for i32 but got 2");
  assert_int_equal(inputs.count, 0);
  assert_ok(irtool_inputs_parse(&inputs, SV("i32=4294967295")));
  assert_int_equal(inputs.items[0].value.i32, -1);
  irtool_inputs_deinitialize(&inputs);
}

static void test_tensors(void** state) {
  (void)state;
  irtool_inputs_t inputs;
  irtool_inputs_initialize(SV("rrrr"), irt_allocator_system(), &inputs);
  assert_ok(irtool_inputs_parse(&inputs, SV("4xf32=1 2 3 4")));
  assert_ok(irtool_inputs_parse(&inputs, SV("&2xi32=5")));
  assert_ok(irtool_inputs_parse(&inputs, SV("f32=3.5")));
  assert_ok(irtool_inputs_parse(&inputs, SV("\"2x2xi8=[1 2][3 4]\"")));
  // Past the signature everything is a ref argument.
  assert_ok(irtool_inputs_parse(&inputs, SV("3xi1")));
  assert_int_equal(inputs.count, 5);
  assert_int_equal(inputs.items[0].kind, IRTOOL_INPUT_TENSOR);
  assert_tensor_text(&inputs.items[0].tensor, "4xf32=1 2 3 4");
  assert_int_equal(inputs.items[1].kind, IRTOOL_INPUT_BUFFER);
  assert_tensor_text(&inputs.items[1].tensor, "2xi32=5 5");
  assert_tensor_text(&inputs.items[2].tensor, "f32=3.5");
  assert_tensor_text(&inputs.items[3].tensor, "2x2xi8=[1 2][3 4]");
  assert_tensor_text(&inputs.items[4].tensor, "3xi1=00 00 00");

  assert_status(irtool_inputs_parse(&inputs, SV("f32")),
                IRT_STATUS_INVALID_ARGUMENT, "is not a tensor");
  assert_status(irtool_inputs_parse(&inputs, SV("7")),
                IRT_STATUS_INVALID_ARGUMENT, "is not a tensor");
  assert_status(irtool_inputs_parse(&inputs, SV("4xf32=1 2 3")),
                IRT_STATUS_OUT_OF_RANGE,
                "expected 4 elements for 4xf32 but got 3");
  assert_status(irtool_inputs_parse(&inputs, SV("@data.bin")),
                IRT_STATUS_UNIMPLEMENTED, "only .npy files");
  assert_status(irtool_inputs_parse(&inputs, SV("*")),
                IRT_STATUS_UNIMPLEMENTED, "only .npy files");
  assert_int_equal(inputs.count, 5);
  irtool_inputs_deinitialize(&inputs);
}

static void test_raw_files(void** state) {
  fixture_t* fixture = *state;
  char path[600];
  path_in(fixture, "raw.bin", path, sizeof(path));
  const float values[] = {1, 2, 3, 4, 5};
  write_file(path, values, sizeof(values));

  irtool_inputs_t inputs;
  irtool_inputs_initialize(SV(""), irt_allocator_system(), &inputs);
  assert_ok(parse_input(&inputs, "2xf32=@%s", path));
  assert_ok(parse_input(&inputs, "2xf32=+%s", path));
  assert_ok(parse_input(&inputs, "f32=+%s", path));
  assert_ok(parse_input(&inputs, "1x1xf32=@%s", path));  // from the start
  assert_ok(parse_input(&inputs, "&2xi8=+%s", path));
  assert_tensor_text(&inputs.items[0].tensor, "2xf32=1 2");
  assert_tensor_text(&inputs.items[1].tensor, "2xf32=3 4");
  assert_tensor_text(&inputs.items[2].tensor, "f32=5");
  assert_tensor_text(&inputs.items[3].tensor, "1x1xf32=[1]");
  assert_int_equal(inputs.items[4].kind, IRTOOL_INPUT_BUFFER);
  assert_tensor_text(&inputs.items[4].tensor, "2xi8=0 0");  // bytes of 2.0f

  // Reading past the end names the file and the sizes.
  assert_status(parse_input(&inputs, "4xf32=+%s", path),
                IRT_STATUS_OUT_OF_RANGE, "has 14 bytes at offset 6");
  assert_status(parse_input(&inputs, "6xf32=@%s", path),
                IRT_STATUS_OUT_OF_RANGE, "but the tensor needs 24");
  // '+' on a path not read before starts at the beginning.
  char other[600];
  path_in(fixture, "other.bin", other, sizeof(other));
  write_file(other, values, sizeof(values));
  assert_ok(parse_input(&inputs, "f32=+%s", other));
  assert_tensor_text(&inputs.items[5].tensor, "f32=1");
  assert_status(parse_input(&inputs, "f32=@%s/missing.bin", fixture->dir),
                IRT_STATUS_NOT_FOUND, "cannot open");
  assert_int_equal(inputs.count, 6);
  irtool_inputs_deinitialize(&inputs);
}

static void write_npy_arrays(const char* path, const char* const* specs,
                             size_t count) {
  FILE* file = fopen(path, "wb");
  for (size_t i = 0; i < count; ++i) {
    irtool_tensor_t tensor;
    assert_ok(irtool_tensor_parse(SV(specs[i]), irt_allocator_system(),
                                  &tensor));
    assert_ok(irtool_npy_write(file, path, &tensor));
    irtool_tensor_free_data(&tensor);
  }
  fclose(file);
}

static void test_npy_files(void** state) {
  fixture_t* fixture = *state;
  char path[600];
  path_in(fixture, "arrays.npy", path, sizeof(path));
  static const char* kArrays[] = {"2xf32=1 2", "ui8=7", "2x2xsi32=1 2 3 4"};
  write_npy_arrays(path, kArrays, 3);

  irtool_inputs_t inputs;
  irtool_inputs_initialize(SV("rrrrrrr"), irt_allocator_system(), &inputs);
  assert_ok(parse_input(&inputs, "@%s", path));   // first
  assert_ok(parse_input(&inputs, "+%s", path));   // second
  assert_ok(parse_input(&inputs, "*%s", path));   // the rest: third
  assert_int_equal(inputs.count, 3);
  assert_ok(parse_input(&inputs, "*%s", path));   // nothing left
  assert_int_equal(inputs.count, 3);
  assert_ok(parse_input(&inputs, "@%s", path));   // first again
  assert_ok(parse_input(&inputs, "*%s", path));   // second and third
  assert_int_equal(inputs.count, 6);
  static const char* kExpected[] = {"2xf32=1 2", "ui8=7",
                                    "2x2xsi32=[1 2][3 4]", "2xf32=1 2",
                                    "ui8=7", "2x2xsi32=[1 2][3 4]"};
  for (size_t i = 0; i < 6; ++i) {
    assert_int_equal(inputs.items[i].kind, IRTOOL_INPUT_TENSOR);
    assert_tensor_text(&inputs.items[i].tensor, kExpected[i]);
  }
  // Past the last array '+' fails; '*' on a fresh path reads everything.
  assert_status(parse_input(&inputs, "+%s", path), IRT_STATUS_OUT_OF_RANGE,
                "truncated");
  assert_int_equal(inputs.count, 6);
  irtool_inputs_deinitialize(&inputs);

  irtool_inputs_initialize(SV(""), irt_allocator_system(), &inputs);
  assert_ok(parse_input(&inputs, "*%s", path));
  assert_int_equal(inputs.count, 3);
  irtool_inputs_deinitialize(&inputs);

  // A damaged array in the middle of '*' appends nothing.
  char broken[600];
  path_in(fixture, "broken.npy", broken, sizeof(broken));
  FILE* file = fopen(path, "rb");
  uint8_t bytes[4096];
  size_t size = fread(bytes, 1, sizeof(bytes), file);
  fclose(file);
  write_file(broken, bytes, size - 3);
  irtool_inputs_initialize(SV(""), irt_allocator_system(), &inputs);
  assert_status(parse_input(&inputs, "*%s", broken), IRT_STATUS_OUT_OF_RANGE,
                "truncated");
  assert_int_equal(inputs.count, 0);
  assert_status(parse_input(&inputs, "@%s/none.npy", fixture->dir),
                IRT_STATUS_NOT_FOUND, "cannot open");
  irtool_inputs_deinitialize(&inputs);
}

static void read_back(const char* path, const char* const* expected,
                      size_t count) {
  FILE* file = fopen(path, "rb");
  assert_non_null(file);
  for (size_t i = 0; i < count; ++i) {
    irtool_tensor_t tensor;
    assert_ok(irtool_npy_read(file, path, irt_allocator_system(), &tensor));
    assert_tensor_text(&tensor, expected[i]);
    irtool_tensor_free_data(&tensor);
  }
  assert_int_equal(fgetc(file), EOF);
  fclose(file);
}

static void test_outputs(void** state) {
  fixture_t* fixture = *state;
  irtool_tensor_t a, b;
  assert_ok(irtool_tensor_parse(SV("2xf32=1 2"), irt_allocator_system(), &a));
  assert_ok(irtool_tensor_parse(SV("i32=-3"), irt_allocator_system(), &b));
  char spec[700], path[600];
  path_in(fixture, "out.npy", path, sizeof(path));
  snprintf(spec, sizeof(spec), "@%s", path);
  assert_ok(irtool_output_write(SV(spec), &b));
  assert_ok(irtool_output_write(SV(spec), &a));  // truncates
  snprintf(spec, sizeof(spec), "+%s", path);
  assert_ok(irtool_output_write(SV(spec), &b));  // appends
  static const char* kExpected[] = {"2xf32=1 2", "si32=-3"};
  read_back(path, kExpected, 2);

  path_in(fixture, "out.bin", path, sizeof(path));
  snprintf(spec, sizeof(spec), "@%s", path);
  assert_ok(irtool_output_write(SV(spec), &a));
  snprintf(spec, sizeof(spec), "+%s", path);
  assert_ok(irtool_output_write(SV(spec), &b));
  uint8_t bytes[64];
  FILE* file = fopen(path, "rb");
  size_t size = fread(bytes, 1, sizeof(bytes), file);
  fclose(file);
  assert_int_equal(size, 12);
  assert_memory_equal(bytes, a.data, 8);
  assert_memory_equal(bytes + 8, b.data, 4);

  assert_status(irtool_output_write(SV("out.npy"), &a),
                IRT_STATUS_INVALID_ARGUMENT, "invalid output");
  assert_status(irtool_output_write(SV("@"), &a), IRT_STATUS_INVALID_ARGUMENT,
                "invalid output");
  snprintf(spec, sizeof(spec), "@%s/no/such/dir.npy", fixture->dir);
  assert_status(irtool_output_write(SV(spec), &a), IRT_STATUS_NOT_FOUND,
                "cannot open");
  irtool_tensor_free_data(&a);
  irtool_tensor_free_data(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_values_and_nulls),
      cmocka_unit_test(test_tensors),
      cmocka_unit_test_setup_teardown(test_raw_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_npy_files, setup, teardown),
      cmocka_unit_test_setup_teardown(test_outputs, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
