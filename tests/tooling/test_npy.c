// .npy files: round trips, the header variants real writers produce
// (versions 1.0-3.0, quoting, Python 2 longs), refused dtypes and orders, and
// corrupted or truncated files that must fail cleanly.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "runtime/tooling/npy.h"
#include "tests/tooling/test_util.h"

// Builds a .npy file in memory: magic, version, the header dict padded with
// spaces to |alignment| and a newline, then |data|. The caller frees it.
static uint8_t* make_npy(uint8_t major, const char* dict, size_t alignment,
                         const void* data, size_t data_size,
                         size_t* out_size) {
  size_t length_size = major == 1 ? 2 : 4;
  size_t prefix = 8 + length_size;
  size_t header = strlen(dict) + 1;
  while ((prefix + header) % alignment) ++header;
  size_t size = prefix + header + data_size;
  uint8_t* file = calloc(1, size);
  memcpy(file, "\x93NUMPY", 6);
  file[6] = major;
  file[7] = 0;
  for (size_t i = 0; i < length_size; ++i) {
    file[8 + i] = (uint8_t)(header >> (8 * i));
  }
  memset(file + prefix, ' ', header);
  memcpy(file + prefix, dict, strlen(dict));
  file[prefix + header - 1] = '\n';
  if (data_size) memcpy(file + prefix + header, data, data_size);
  *out_size = size;
  return file;
}

// Reads one array from |size| bytes at |data|.
static irt_status_t read_npy(const uint8_t* data, size_t size,
                             irtool_tensor_t* out_tensor) {
  FILE* stream = fmemopen((void*)data, size, "rb");
  if (!stream) abort();
  irt_status_t status =
      irtool_npy_read(stream, "mem.npy", irt_allocator_system(), out_tensor);
  fclose(stream);
  return status;
}

static void assert_tensor_text(const irtool_tensor_t* tensor,
                               const char* expected) {
  capture_t capture;
  capture_begin(&capture);
  assert_ok(irtool_tensor_format(tensor, 1024, capture.stream));
  assert_string_equal(capture_end(&capture), expected);
  capture_free(&capture);
}

// Writes each spec's tensor to one stream, checks the header layout, then
// reads them all back in order.
static void test_round_trips(void** state) {
  (void)state;
  static const char* kSpecs[] = {
      "2x3xf32=1 2 3 4 5 6",
      "i8=-5",
      "4xui16=0 1 65535 7",
      "3xi1=01 00 01",
      "2xf64=0.1 -1e300",
      "2xsi64=-9223372036854775808 9223372036854775807",
      "4xi32=1 2 3 4",
      "cf64=0000803F00000040",
      "2x*32=DEADBEEF 01020304",
      "0x2xf32",
      "1x1x1x1x1xf16=1.5",
  };
  static const char* kReadBack[] = {
      "2x3xf32=[1 2 3][4 5 6]",
      "si8=-5",  // signless integers are written as 'i'
      "4xui16=0 1 65535 7",
      "3xi1=01 00 01",
      "2xf64=0.1 -1E+300",
      "2xsi64=-9223372036854775808 9223372036854775807",
      "4xsi32=1 2 3 4",
      "cf64=0000803F00000040",
      "2x*32=DEADBEEF 01020304",
      "0x2xf32=",
      "1x1x1x1x1xf16=[[[[1.5]]]]",
  };
  const size_t count = sizeof(kSpecs) / sizeof(kSpecs[0]);
  char* bytes = NULL;
  size_t size = 0;
  FILE* out = open_memstream(&bytes, &size);
  for (size_t i = 0; i < count; ++i) {
    irtool_tensor_t tensor;
    assert_ok(irtool_tensor_parse(SV(kSpecs[i]), irt_allocator_system(),
                                  &tensor));
    long start = ftell(out);
    assert_ok(irtool_npy_write(out, "out.npy", &tensor));
    fflush(out);
    // Each array's header ends on a 64-byte boundary (relative to its start).
    irtool_tensor_t header;
    size_t data_offset = 0;
    assert_ok(irtool_npy_parse_header((const uint8_t*)bytes + start,
                                      size - (size_t)start, &header,
                                      &data_offset));
    assert_int_equal(data_offset % 64, 0);
    assert_int_equal(bytes[start + 6], 1);  // version 1.0
    assert_int_equal(bytes[start + data_offset - 1], '\n');
    irtool_tensor_free_data(&tensor);
  }
  fclose(out);

  FILE* in = fmemopen(bytes, size, "rb");
  for (size_t i = 0; i < count; ++i) {
    irtool_tensor_t tensor;
    assert_ok(irtool_npy_read(in, "out.npy", irt_allocator_system(), &tensor));
    assert_tensor_text(&tensor, kReadBack[i]);
    irtool_tensor_free_data(&tensor);
  }
  assert_int_equal(fgetc(in), EOF);
  fclose(in);
  free(bytes);
}

static void test_header_text(void** state) {
  (void)state;
  irtool_tensor_t tensor;
  assert_ok(irtool_tensor_parse(SV("4xf32=1 2 3 4"), irt_allocator_system(),
                                &tensor));
  capture_t capture;
  capture_begin(&capture);
  assert_ok(irtool_npy_write(capture.stream, "x.npy", &tensor));
  fflush(capture.stream);
  const char* text = capture.text;
  const char kDict[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }";
  // Like numpy's own files: the data starts at 128, header length 118.
  assert_int_equal(capture.size, 128 + 16);
  assert_memory_equal(text, "\x93NUMPY\x01\x00\x76\x00", 10);
  assert_memory_equal(text + 10, kDict, sizeof(kDict) - 1);
  for (size_t i = 10 + sizeof(kDict) - 1; i < 127; ++i) {
    assert_int_equal(text[i], ' ');
  }
  assert_int_equal(text[127], '\n');
  capture_end(&capture);
  capture_free(&capture);

  // Byte-order-free 1-byte types and multi-dim shapes.
  irtool_tensor_free_data(&tensor);
  assert_ok(irtool_tensor_parse(SV("2x2xui8=1 2 3 4"), irt_allocator_system(),
                                &tensor));
  capture_begin(&capture);
  assert_ok(irtool_npy_write(capture.stream, "x.npy", &tensor));
  const char* written = capture_end(&capture);
  assert_non_null(strstr(written + 10,
                         "{'descr': '|u1', 'fortran_order': False, 'shape': "
                         "(2, 2), }"));
  capture_free(&capture);
  irtool_tensor_free_data(&tensor);

  assert_ok(irtool_tensor_parse(SV("f64=1"), irt_allocator_system(), &tensor));
  capture_begin(&capture);
  assert_ok(irtool_npy_write(capture.stream, "x.npy", &tensor));
  assert_non_null(strstr(capture_end(&capture) + 10, "'shape': (), }"));
  capture_free(&capture);
  irtool_tensor_free_data(&tensor);
}

static void test_header_variants(void** state) {
  (void)state;
  const float values[] = {1.0f, 2.5f};
  static const struct {
    uint8_t major;
    const char* dict;
    const char* expected;
  } kCases[] = {
      {1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
       "2xf32=1 2.5"},
      {2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
       "2xf32=1 2.5"},
      {3, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
       "2xf32=1 2.5"},
      // Key order, double quotes, no trailing commas, Python 2 longs.
      {1, "{\"shape\": (2L,), \"fortran_order\": False, \"descr\": \"=f4\"}",
       "2xf32=1 2.5"},
      {1, "{'descr':'<f4','fortran_order':False,'shape':(1,2)}",
       "1x2xf32=[1 2.5]"},
      {1, "  { 'descr' : '<u2' , 'fortran_order' : False , 'shape' : ( 4 , ) , }",
       "4xui16=0 16256 0 16416"},
      {1, "{'descr': '|V8', 'fortran_order': False, 'shape': (), }",
       "*64=0000803F00002040"},
      {1, "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
       "1xcf64=0000803F00002040"},
      {1, "{'descr': '|b1', 'fortran_order': False, 'shape': (8,), }",
       "8xi1=00 00 80 3F 00 00 20 40"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    size_t size = 0;
    uint8_t* file = make_npy(kCases[i].major, kCases[i].dict, 64, values,
                             sizeof(values), &size);
    irtool_tensor_t tensor;
    assert_ok(read_npy(file, size, &tensor));
    assert_tensor_text(&tensor, kCases[i].expected);
    irtool_tensor_free_data(&tensor);
    free(file);
  }
}

// |dict| fails to read with |code|; the header alone parses only when
// |header_ok| (the failure is then about the data).
static void assert_read_fails(const char* dict, bool header_ok,
                              irt_status_code_t code, const char* needle) {
  uint8_t data[64] = {0};
  size_t size = 0;
  uint8_t* file = make_npy(1, dict, 16, data, sizeof(data), &size);
  irtool_tensor_t tensor;
  assert_status(read_npy(file, size, &tensor), code, needle);
  size_t offset = 0;
  assert_int_equal(irt_status_consume_code(
                       irtool_npy_parse_header(file, size, &tensor, &offset)),
                   header_ok ? IRT_STATUS_OK : code);
  free(file);
}

static void assert_header_fails(const char* dict, irt_status_code_t code,
                                const char* needle) {
  assert_read_fails(dict, false, code, needle);
}

static void test_refused_headers(void** state) {
  (void)state;
  assert_header_fails("{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "big-endian");
  assert_header_fails("{'descr': '<f4', 'fortran_order': True, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "Fortran");
  assert_header_fails("{'descr': '<U4', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "'<U4'");
  assert_header_fails("{'descr': '<M8', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "unsupported .npy dtype");
  assert_header_fails("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "unsupported .npy dtype");
  assert_header_fails("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_UNIMPLEMENTED, "structured");
  assert_header_fails("{'descr': '<f64', 'fortran_order': False, 'shape': (1,), }",
                      IRT_STATUS_UNIMPLEMENTED, "wider than 31 bytes");
  assert_header_fails("{'descr': '<f', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "invalid .npy dtype");
  assert_header_fails("{'descr': '<f0', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "invalid .npy dtype");
  assert_header_fails("{'descr': '<f4x', 'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "invalid .npy dtype");
  assert_header_fails("{'descr': '<f4', 'shape': (2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "missing 'fortran_order'");
  assert_header_fails("{'fortran_order': False, 'shape': (2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "missing 'descr'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False}",
                      IRT_STATUS_INVALID_ARGUMENT, "missing 'shape'");
  assert_header_fails("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,)}",
                      IRT_STATUS_INVALID_ARGUMENT, "duplicate key 'descr'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
                      IRT_STATUS_INVALID_ARGUMENT, "unexpected key 'x'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }",
                      IRT_STATUS_INVALID_ARGUMENT, "non-negative integer");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2 3), }",
                      IRT_STATUS_INVALID_ARGUMENT, "',' or ')'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), } x",
                      IRT_STATUS_INVALID_ARGUMENT, "only padding");
  assert_header_fails("{'descr': '<f4' 'fortran_order': False, 'shape': (2,)}",
                      IRT_STATUS_INVALID_ARGUMENT, "',' or '}'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}",
                      IRT_STATUS_INVALID_ARGUMENT, "True or False");
  assert_header_fails("{'descr': 'a\\'b', 'fortran_order': False, 'shape': (2,)}",
                      IRT_STATUS_INVALID_ARGUMENT, "without escapes");
  assert_header_fails("{'descr: '<f4'}", IRT_STATUS_INVALID_ARGUMENT, NULL);
  assert_header_fails("['descr']", IRT_STATUS_INVALID_ARGUMENT, "'{'");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}",
                      IRT_STATUS_OUT_OF_RANGE, "too large");
  assert_header_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4)}",
                      IRT_STATUS_OUT_OF_RANGE, "overflows");
  // The header promises more data than the file holds: no allocation.
  assert_read_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000,)}",
                    true, IRT_STATUS_OUT_OF_RANGE, "truncated");
  assert_read_fails("{'descr': '<f4', 'fortran_order': False, 'shape': (17,)}",
                    true, IRT_STATUS_OUT_OF_RANGE, "68 bytes but 64 remain");

  char shape[1024] = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < 129; ++i) strcat(shape, "1,");
  strcat(shape, ")}");
  assert_header_fails(shape, IRT_STATUS_RESOURCE_EXHAUSTED, "rank");
}

static void test_bad_prefix(void** state) {
  (void)state;
  uint8_t data[16] = {0};
  size_t size = 0;
  uint8_t* file = make_npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,)}",
                           64, data, sizeof(data), &size);
  irtool_tensor_t tensor;
  size_t offset = 0;
  file[0] = 0x92;
  assert_status(read_npy(file, size, &tensor), IRT_STATUS_INVALID_ARGUMENT,
                "bad magic");
  file[0] = 0x93;
  file[6] = 4;
  assert_status(read_npy(file, size, &tensor), IRT_STATUS_UNIMPLEMENTED,
                "version 4.0");
  file[6] = 0;
  assert_status(irtool_npy_parse_header(file, size, &tensor, &offset),
                IRT_STATUS_UNIMPLEMENTED, "version 0.0");
  // A v2 length above the cap is refused before allocating it.
  file[6] = 2;
  file[8] = file[9] = file[10] = file[11] = 0xFF;
  assert_status(read_npy(file, size, &tensor), IRT_STATUS_OUT_OF_RANGE,
                "exceeds the limit");
  assert_status(irtool_npy_parse_header(file, size, &tensor, &offset),
                IRT_STATUS_OUT_OF_RANGE, "exceeds the limit");
  // A v1 length past the end of the file.
  file[6] = 1;
  file[8] = 0xFF;
  file[9] = 0x7F;
  assert_status(read_npy(file, size, &tensor), IRT_STATUS_OUT_OF_RANGE,
                "truncated");
  assert_status(irtool_npy_parse_header(file, size, &tensor, &offset),
                IRT_STATUS_OUT_OF_RANGE, "truncated");
  free(file);
}

static void test_write_errors(void** state) {
  (void)state;
  static const char* kSpecs[] = {"2xbf16=1 2", "f8E4M3FN=1", "f8E8M0FNU=1"};
  for (size_t i = 0; i < sizeof(kSpecs) / sizeof(kSpecs[0]); ++i) {
    irtool_tensor_t tensor;
    assert_ok(irtool_tensor_parse(SV(kSpecs[i]), irt_allocator_system(),
                                  &tensor));
    capture_t capture;
    capture_begin(&capture);
    assert_status(irtool_npy_write(capture.stream, "x.npy", &tensor),
                  IRT_STATUS_UNIMPLEMENTED, "cannot be written to .npy");
    assert_int_equal(strlen(capture_end(&capture)), 0);
    capture_free(&capture);
    irtool_tensor_free_data(&tensor);
  }
}

// A small deterministic PRNG (xorshift) so failures reproduce.
static uint32_t next_random(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

// Parses or reads |size| bytes; any outcome but a crash, leak or
// out-of-bounds access is fine.
static void try_all_ways(const uint8_t* file, size_t size) {
  irtool_tensor_t tensor;
  size_t offset = 0;
  irt_status_t status = irtool_npy_parse_header(file, size, &tensor, &offset);
  if (irt_status_is_ok(status)) assert_true(offset <= size);
  irt_status_free(status);
  if (size == 0) return;  // fmemopen refuses empty buffers
  status = read_npy(file, size, &tensor);
  if (irt_status_is_ok(status)) irtool_tensor_free_data(&tensor);
  irt_status_free(status);
}

static void test_corruption_never_crashes(void** state) {
  (void)state;
  const float values[] = {1, 2, 3, 4, 5, 6};
  size_t size = 0;
  uint8_t* file = make_npy(
      1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", 64,
      values, sizeof(values), &size);
  // Every truncation.
  for (size_t length = 0; length <= size; ++length) {
    uint8_t* copy = malloc(length ? length : 1);
    memcpy(copy, file, length);
    try_all_ways(copy, length);
    free(copy);
  }
  // Random byte damage over the header, favouring its syntax characters.
  static const char kSyntax[] = "{}()[],:'\" 0123456789L<>|fFT";
  uint8_t* copy = malloc(size);
  uint32_t random = 0x12345678u;
  for (int round = 0; round < 20000; ++round) {
    memcpy(copy, file, size);
    int changes = 1 + (int)(next_random(&random) % 4);
    for (int i = 0; i < changes; ++i) {
      size_t at = next_random(&random) % 64;
      uint32_t kind = next_random(&random) % 4;
      copy[at] = kind == 0   ? (uint8_t)next_random(&random)
                 : kind == 1 ? (uint8_t)kSyntax[next_random(&random) %
                                                (sizeof(kSyntax) - 1)]
                 : kind == 2 ? 0xFF
                             : 0;
    }
    try_all_ways(copy, size);
  }
  free(copy);
  free(file);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trips),
      cmocka_unit_test(test_header_text),
      cmocka_unit_test(test_header_variants),
      cmocka_unit_test(test_refused_headers),
      cmocka_unit_test(test_bad_prefix),
      cmocka_unit_test(test_write_errors),
      cmocka_unit_test(test_corruption_never_crashes),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
