// The textual tensor format: element type names, spec parsing, every element
// kind, count rules, errors and result formatting (HAL spec 9.5.1, 9.5.3).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/tooling/tensor_text.h"
#include "tests/tooling/test_util.h"

static irt_allocator_t test_allocator(void) { return irt_allocator_system(); }

// Parses |spec| and formats it back with |max_elements|.
static void assert_formats_as_limited(const char* spec, size_t max_elements,
                                      const char* expected) {
  irtool_tensor_t tensor;
  irt_status_t status = irtool_tensor_parse(SV(spec), test_allocator(), &tensor);
  if (!irt_status_is_ok(status)) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("parsing '%s': %s", spec, text);
  }
  capture_t capture;
  capture_begin(&capture);
  assert_ok(irtool_tensor_format(&tensor, max_elements, capture.stream));
  const char* text = capture_end(&capture);
  if (strcmp(text, expected) != 0) {
    fail_msg("'%s' formats as '%s', expected '%s'", spec, text, expected);
  }
  capture_free(&capture);
  irtool_tensor_free_data(&tensor);
}

static void assert_formats_as(const char* spec, const char* expected) {
  assert_formats_as_limited(spec, IRTOOL_DEFAULT_MAX_ELEMENT_COUNT, expected);
}

// Parses |spec| and compares the bytes it produced.
static void assert_bytes(const char* spec, const void* expected,
                         size_t length) {
  irtool_tensor_t tensor;
  assert_ok(irtool_tensor_parse(SV(spec), test_allocator(), &tensor));
  assert_int_equal(tensor.byte_length, length);
  assert_memory_equal(tensor.data, expected, length);
  irtool_tensor_free_data(&tensor);
}

static void assert_parse_fails(const char* spec, irt_status_code_t code,
                               const char* needle) {
  irtool_tensor_t tensor;
  assert_status(irtool_tensor_parse(SV(spec), test_allocator(), &tensor), code,
                needle);
}

static void test_element_type_names(void** state) {
  (void)state;
  static const struct {
    const char* name;
    irhal_element_type_t type;
  } kCases[] = {
      {"f32", 0x21000020},      {"f16", 0x21000010},
      {"f64", 0x21000040},      {"bf16", 0x22000010},
      {"i1", 0x13000008},       {"i8", 0x10000008},
      {"si8", 0x11000008},      {"ui8", 0x12000008},
      {"i64", 0x10000040},      {"ui64", 0x12000040},
      {"cf64", 0x23000040},     {"*8", 0x00000008},
      {"f8E5M2", 0x24000008},   {"f8E4M3FN", 0x25000008},
      {"f8E5M2FNUZ", 0x26000008}, {"f8E4M3FNUZ", 0x27000008},
      {"f8E8M0FNU", 0x28000008},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    irhal_element_type_t type = 0;
    assert_true(irtool_element_type_parse(SV(kCases[i].name), &type));
    assert_int_equal(type, kCases[i].type);
    char name[IRTOOL_ELEMENT_TYPE_NAME_CAPACITY];
    irhal_element_type_format(type, name, sizeof(name));
    assert_string_equal(name, kCases[i].name);
  }
  irhal_element_type_t type = 0;
  assert_true(irtool_element_type_parse(SV("x16"), &type));
  assert_int_equal(type, 0x00000010);
  const char* bad[] = {"", "f", "q32", "i256", "f32x", "x", "xf", "F32"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    assert_false(irtool_element_type_parse(SV(bad[i]), &type));
  }
}

static void test_spec_parse(void** state) {
  (void)state;
  irtool_tensor_spec_t spec;
  assert_ok(irtool_tensor_spec_parse(SV("  \"2x3xi8=1 2\"  "), &spec));
  assert_int_equal(spec.tensor.element_type, 0x10000008);
  assert_int_equal(spec.tensor.rank, 2);
  assert_int_equal(spec.tensor.shape[0], 2);
  assert_int_equal(spec.tensor.shape[1], 3);
  assert_int_equal(spec.contents_kind, IRTOOL_CONTENTS_ELEMENTS);
  assert_true(irt_string_view_equal_cstring(spec.contents, "1 2"));

  assert_ok(irtool_tensor_spec_parse(SV("f32=3.5"), &spec));
  assert_int_equal(spec.tensor.rank, 0);
  assert_int_equal(spec.tensor.element_type, IRHAL_ELEMENT_TYPE_FLOAT_32);

  assert_ok(irtool_tensor_spec_parse(SV("3x4xf32"), &spec));
  assert_int_equal(spec.tensor.rank, 2);
  assert_int_equal(spec.contents.size, 0);

  assert_ok(irtool_tensor_spec_parse(SV("1x49x40x1xui8=@features.bin"), &spec));
  assert_int_equal(spec.tensor.rank, 4);
  assert_int_equal(spec.tensor.element_type, 0x12000008);
  assert_int_equal(spec.contents_kind, IRTOOL_CONTENTS_FILE);
  assert_true(irt_string_view_equal_cstring(spec.contents, "features.bin"));

  // '+' starting the contents always means a file ("i32=+5" reads "5").
  assert_ok(irtool_tensor_spec_parse(SV("i32=+5"), &spec));
  assert_int_equal(spec.contents_kind, IRTOOL_CONTENTS_FILE_CONTINUE);
  assert_ok(irtool_tensor_spec_parse(SV("4xf32=+a=b.bin"), &spec));
  assert_int_equal(spec.contents_kind, IRTOOL_CONTENTS_FILE_CONTINUE);
  assert_true(irt_string_view_equal_cstring(spec.contents, "a=b.bin"));

  // Opaque tensors and scalars.
  assert_ok(irtool_tensor_spec_parse(SV("4x*16"), &spec));
  assert_int_equal(spec.tensor.element_type, 0x00000010);
  assert_ok(irtool_tensor_spec_parse(SV("x8=AB"), &spec));
  assert_int_equal(spec.tensor.rank, 0);
  assert_int_equal(spec.tensor.element_type, 0x00000008);
  // 0-sized dims are fine.
  assert_ok(irtool_tensor_spec_parse(SV("0x3xf32"), &spec));
  assert_int_equal(spec.tensor.shape[0], 0);
}

static void test_spec_errors(void** state) {
  (void)state;
  irtool_tensor_spec_t spec;
  assert_status(irtool_tensor_spec_parse(SV("4xq32=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "unknown element type 'q32'");
  assert_status(irtool_tensor_spec_parse(SV("xf32=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "empty dimension");
  assert_status(irtool_tensor_spec_parse(SV("4xxf32=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "empty dimension");
  assert_status(irtool_tensor_spec_parse(SV("-4xf32=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "invalid shape");
  assert_status(irtool_tensor_spec_parse(SV("4 xf32=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "invalid shape");
  assert_status(irtool_tensor_spec_parse(SV("99999999999999999999xf32"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "invalid shape");
  assert_status(irtool_tensor_spec_parse(SV("=1"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "missing shape");
  assert_status(irtool_tensor_spec_parse(SV(""), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "missing shape");
  assert_status(irtool_tensor_spec_parse(SV("4xf32=@"), &spec),
                IRT_STATUS_INVALID_ARGUMENT, "missing file path");
  assert_status(irtool_tensor_spec_parse(SV("4xi4=1"), &spec),
                IRT_STATUS_UNIMPLEMENTED, "not byte-aligned");
  assert_status(irtool_tensor_spec_parse(SV("4x*0"), &spec),
                IRT_STATUS_UNIMPLEMENTED, "not byte-aligned");
  assert_status(
      irtool_tensor_spec_parse(SV("4294967296x4294967296x2xf32"), &spec),
      IRT_STATUS_OUT_OF_RANGE, "overflows");

  // Rank limit: 128 dims parse, 129 do not.
  char text[600] = "";
  for (int i = 0; i < 128; ++i) strcat(text, "1x");
  strcat(text, "f32");
  assert_ok(irtool_tensor_spec_parse(SV(text), &spec));
  assert_int_equal(spec.tensor.rank, 128);
  memmove(text + 2, text, strlen(text) + 1);
  memcpy(text, "1x", 2);
  assert_status(irtool_tensor_spec_parse(SV(text), &spec),
                IRT_STATUS_RESOURCE_EXHAUSTED, "rank");
}

static void test_element_lists(void** state) {
  (void)state;
  assert_formats_as("4xf32=1 2 3 4", "4xf32=1 2 3 4");
  assert_formats_as("4xf32=1,2,3,4", "4xf32=1 2 3 4");
  assert_formats_as("\"4xf32=1 2 3 4\"", "4xf32=1 2 3 4");
  assert_formats_as("4xf32=1, 2,\t3 ,4", "4xf32=1 2 3 4");
  assert_formats_as("2x2xi32=[[1 2][3 4]]", "2x2xi32=[1 2][3 4]");
  assert_formats_as("2x2xi32=[1,2],[3,4]", "2x2xi32=[1 2][3 4]");
  // Splat, zeros, scalars.
  assert_formats_as("4xf32=2", "4xf32=2 2 2 2");
  assert_formats_as("4xf32=0.5", "4xf32=0.5 0.5 0.5 0.5");
  assert_formats_as("3x2xf32", "3x2xf32=[0 0][0 0][0 0]");
  assert_formats_as("3xi32=", "3xi32=0 0 0");
  assert_formats_as("f32=-3.5", "f32=-3.5");
  assert_formats_as("i32=7", "i32=7");
  assert_formats_as("1xf32=5", "1xf32=5");
  assert_formats_as("0xf32", "0xf32=");
  assert_formats_as("2x0xf32", "2x0xf32=[][]");
}

static void test_element_count_errors(void** state) {
  (void)state;
  assert_parse_fails("4xf32=1 2 3", IRT_STATUS_OUT_OF_RANGE,
                     "expected 4 elements for 4xf32 but got 3");
  assert_parse_fails("4xf32=1 2 3 4 5", IRT_STATUS_OUT_OF_RANGE,
                     "expected 4 elements for 4xf32 but got 5");
  assert_parse_fails("2x2xi8=[1 2][3]", IRT_STATUS_OUT_OF_RANGE,
                     "expected 4 elements for 2x2xi8 but got 3");
  assert_parse_fails("0xf32=1", IRT_STATUS_OUT_OF_RANGE,
                     "expected 0 elements for 0xf32 but got 1");
  assert_parse_fails("f32=1 2", IRT_STATUS_OUT_OF_RANGE,
                     "expected 1 element for f32 but got 2");
}

static void test_integers(void** state) {
  (void)state;
  // Signless types take signed and unsigned spellings and print signed.
  assert_formats_as("4xi8=-128 255 127 -1", "4xi8=-128 -1 127 -1");
  assert_formats_as("2xi16=-32768 65535", "2xi16=-32768 -1");
  assert_formats_as("2xi32=-2147483648 4294967295", "2xi32=-2147483648 -1");
  assert_formats_as("4xi64=1,-42,9223372036854775807,-9223372036854775808",
                    "4xi64=1 -42 9223372036854775807 -9223372036854775808");
  assert_formats_as("i64=18446744073709551615", "i64=-1");
  assert_formats_as("2xsi8=-128 127", "2xsi8=-128 127");
  assert_formats_as("2xui8=0 255", "2xui8=0 255");
  assert_formats_as("ui16=65535", "ui16=65535");
  assert_formats_as("ui32=4294967295", "ui32=4294967295");
  assert_formats_as("ui64=18446744073709551615", "ui64=18446744073709551615");
  assert_formats_as("si64=-9223372036854775808", "si64=-9223372036854775808");
  assert_formats_as("2xi32=-0 +5", "2xi32=0 5");
  const int16_t i16[] = {-2, 300};
  assert_bytes("2xi16=-2 300", i16, sizeof(i16));

  assert_parse_fails("i8=256", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("i8=-129", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("si8=128", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("ui8=-1", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("ui8=256", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("si16=32768", IRT_STATUS_INVALID_ARGUMENT, "out of range");
  assert_parse_fails("si32=2147483648", IRT_STATUS_INVALID_ARGUMENT,
                     "out of range");
  assert_parse_fails("ui32=4294967296", IRT_STATUS_INVALID_ARGUMENT,
                     "out of range");
  assert_parse_fails("si64=9223372036854775808", IRT_STATUS_INVALID_ARGUMENT,
                     "out of range");
  assert_parse_fails("i64=18446744073709551616", IRT_STATUS_INVALID_ARGUMENT,
                     "out of range");
  assert_parse_fails("i64=-9223372036854775809", IRT_STATUS_INVALID_ARGUMENT,
                     "out of range");
  assert_parse_fails("2xi32=1 2.5", IRT_STATUS_INVALID_ARGUMENT,
                     "invalid i32 element '2.5' at index 1");
  assert_parse_fails("i32=0x10", IRT_STATUS_INVALID_ARGUMENT, "not an integer");
  assert_parse_fails("i32=-", IRT_STATUS_INVALID_ARGUMENT, "not an integer");
  char long_token[200] = "i32=";
  memset(long_token + 4, '1', 150);
  assert_parse_fails(long_token, IRT_STATUS_INVALID_ARGUMENT, "too long");
}

static void test_floats(void** state) {
  (void)state;
  assert_formats_as("4xf32=1,1.1,1.2,1.3", "4xf32=1 1.1 1.2 1.3");
  assert_formats_as("4xf32=10 110 1200 13000", "4xf32=10 110 1200 13000");
  assert_formats_as("f32=1234567", "f32=1.23457E+06");
  assert_formats_as("f32=0.0001", "f32=0.0001");
  assert_formats_as("f32=0.00001", "f32=1E-05");
  assert_formats_as("3xf32=inf -inf nan", "3xf32=INF -INF NAN");
  assert_formats_as("4xf64=1.1 2.2 3.3 4.4", "4xf64=1.1 2.2 3.3 4.4");
  assert_formats_as("f64=0.1", "f64=0.1");
  assert_formats_as("f64=1e300", "f64=1E+300");
  const float f32[] = {0.1f, -2.0f};
  assert_bytes("2xf32=0.1 -2", f32, sizeof(f32));
  const double f64[] = {0.1, 1e-300};
  assert_bytes("2xf64=0.1 1e-300", f64, sizeof(f64));
  assert_parse_fails("f32=abc", IRT_STATUS_INVALID_ARGUMENT,
                     "invalid f32 element 'abc' at index 0 (not a number)");
  assert_parse_fails("f32=1.5x", IRT_STATUS_INVALID_ARGUMENT, "not a number");
  assert_formats_as("2xf16=", "2xf16=0 0");
}

static void test_narrow_floats(void** state) {
  (void)state;
  const uint16_t f16[] = {0x3E00, 0x7BFF, 0x7C00, 0x2E66, 0x0001, 0x0000,
                          0x8000};
  assert_bytes("7xf16=1.5 65504 65520 0.1 6e-8 1e-8 -0", f16, sizeof(f16));
  assert_formats_as("3xf16=1.5 0.1 65520", "3xf16=1.5 0.0999756 INF");
  // bf16 rounds to nearest even: 1 + 2^-8 is a tie that stays at 1.0;
  // 1 + 3 * 2^-8 is a tie that rounds up to the even 1 + 2^-6.
  const uint16_t bf16[] = {0x3FC0, 0x4049, 0x3F80, 0x3F82};
  assert_bytes("4xbf16=1.5 3.14159 1.00390625 1.01171875", bf16, sizeof(bf16));
  assert_formats_as("2xbf16=3.14159 -2", "2xbf16=3.14062 -2");

  const uint8_t e4m3fn[] = {0x7E, 0xC0, 0x7F, 0x38, 0x01};
  assert_bytes("5xf8E4M3FN=448 -2 1000 1 0.001953125", e4m3fn,
               sizeof(e4m3fn));
  assert_formats_as("3xf8E4M3FN=448 0.3 nan", "3xf8E4M3FN=448 0.3125 NAN");
  const uint8_t e5m2[] = {0x3C, 0x7B, 0x7C, 0xFC};
  assert_bytes("4xf8E5M2=1 57344 1e9 -inf", e5m2, sizeof(e5m2));
  const uint8_t e5m2fnuz[] = {0x40, 0x00, 0x80};
  assert_bytes("3xf8E5M2FNUZ=1 -0 nan", e5m2fnuz, sizeof(e5m2fnuz));
  const uint8_t e4m3fnuz[] = {0x40, 0xC0, 0x80};
  assert_bytes("3xf8E4M3FNUZ=1 -1 1e6", e4m3fnuz, sizeof(e4m3fnuz));
  const uint8_t e8m0[] = {0x7F, 0x7E, 0x81, 0xFF};
  assert_bytes("4xf8E8M0FNU=1 0.5 3 -1", e8m0, sizeof(e8m0));
  assert_formats_as("2xf8E8M0FNU=4 0.25", "2xf8E8M0FNU=4 0.25");
}

static void test_hex_types(void** state) {
  (void)state;
  const uint8_t bools[] = {1, 0, 1, 1};
  assert_bytes("4xi1=01 00 01 01", bools, sizeof(bools));
  assert_formats_as("4xi1=01,00,01,01", "4xi1=01 00 01 01");
  assert_formats_as("i1=01", "i1=01");
  assert_formats_as("cf64=0000803f00000040", "cf64=0000803F00000040");
  assert_formats_as("2x*16=ABCD 0102", "2x*16=ABCD 0102");
  // The type follows the last 'x', so "2xx8" has the type "8".
  assert_parse_fails("2xx8=", IRT_STATUS_INVALID_ARGUMENT,
                     "unknown element type '8'");
  assert_parse_fails("i1=1", IRT_STATUS_INVALID_ARGUMENT,
                     "expected 2 hex digits");
  assert_parse_fails("cf64=0000803F", IRT_STATUS_INVALID_ARGUMENT,
                     "expected 16 hex digits");
  assert_parse_fails("*8=GG", IRT_STATUS_INVALID_ARGUMENT, "not hex");
}

static void test_format_nesting(void** state) {
  (void)state;
  assert_formats_as("3x2xf32=50 60 114 140 178 220",
                    "3x2xf32=[50 60][114 140][178 220]");
  assert_formats_as("2x2x2xi8=1 2 3 4 5 6 7 8",
                    "2x2x2xi8=[[1 2][3 4]][[5 6][7 8]]");
  assert_formats_as("1x1x1x1xi32=9", "1x1x1x1xi32=[[[9]]]");
  assert_formats_as("2x1xi1=01 00", "2x1xi1=[01][00]");
}

static void test_format_truncation(void** state) {
  (void)state;
  assert_formats_as_limited("6xi32=0 1 2 3 4 5", 4, "6xi32=0 1 2 3...");
  assert_formats_as_limited("6xi32=0 1 2 3 4 5", 6, "6xi32=0 1 2 3 4 5");
  assert_formats_as_limited("3x3xi32=0 1 2 3 4 5 6 7 8", 4,
                            "3x3xi32=[0 1 2][3...][...]");
  assert_formats_as_limited("4xf32=1", 0, "4xf32=...");
  assert_formats_as_limited("f32=1", 0, "f32=...");

  // Data shorter than the shape needs is refused, not read past.
  irtool_tensor_t tensor;
  assert_ok(irtool_tensor_parse(SV("4xf32=1"), test_allocator(), &tensor));
  tensor.byte_length = 12;
  capture_t capture;
  capture_begin(&capture);
  assert_status(irtool_tensor_format(&tensor, 1024, capture.stream),
                IRT_STATUS_OUT_OF_RANGE, "needs 16");
  capture_end(&capture);
  capture_free(&capture);
  tensor.byte_length = 16;
  irtool_tensor_free_data(&tensor);

  // An empty tensor with absurd outer dims is printed without iterating them.
  irtool_tensor_t empty;
  memset(&empty, 0, sizeof(empty));
  empty.element_type = IRHAL_ELEMENT_TYPE_FLOAT_32;
  empty.rank = 3;
  empty.shape[0] = UINT64_C(1) << 62;
  empty.shape[1] = UINT64_C(1) << 62;
  empty.shape[2] = 0;
  capture_begin(&capture);
  assert_ok(irtool_tensor_format(&empty, 1024, capture.stream));
  assert_string_equal(capture_end(&capture),
                      "4611686018427387904x4611686018427387904x0xf32=...");
  capture_free(&capture);
}

static void test_allocation_failure(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  irtool_tensor_t tensor;
  assert_status(
      irtool_tensor_parse(SV("4xf32=1"), irt_counting_allocator(&counter),
                          &tensor),
      IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_int_equal(counter.live_allocations, 0);
  // A parse error after allocation frees the data.
  counter.fail_after = SIZE_MAX;
  assert_status(
      irtool_tensor_parse(SV("4xf32=1 2 x 4"), irt_counting_allocator(&counter),
                          &tensor),
      IRT_STATUS_INVALID_ARGUMENT, "index 2");
  assert_int_equal(counter.live_allocations, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_element_type_names),
      cmocka_unit_test(test_spec_parse),
      cmocka_unit_test(test_spec_errors),
      cmocka_unit_test(test_element_lists),
      cmocka_unit_test(test_element_count_errors),
      cmocka_unit_test(test_integers),
      cmocka_unit_test(test_floats),
      cmocka_unit_test(test_narrow_floats),
      cmocka_unit_test(test_hex_types),
      cmocka_unit_test(test_format_nesting),
      cmocka_unit_test(test_format_truncation),
      cmocka_unit_test(test_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
