// Loading compiled v3.11 executables through the format-dispatching loader
// and running their dispatches on real inputs (hal-abi.md 5.8, Appendix D).
#include <elf.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hal/cpu/dispatch.h"
#include "hal/cpu/elf_loader.h"
#include "hal/cpu/executable_library_loader.h"
#include "hal/cpu/processor.h"
#include "tests/hal_cpu/vmfb_elf.h"

// Compiled dispatches use aligned vector loads/stores (movaps) on binding
// pointers, as IREE buffers are 64-byte aligned.
#define ALIGNED _Alignas(64)

static const irt_string_view_t kEmbeddedX86 = {"embedded-elf-x86_64", 19};

static bool host_is_x86_64(void) {
  return irhal_elf_host_machine() == EM_X86_64;
}

static void expect_status(irt_status_t status, irt_status_code_t code,
                          const char* substring) {
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  if (irt_status_code(status) != code ||
      (substring && !strstr(text, substring))) {
    fail_msg("expected %s containing '%s', got %s: %s",
             irt_status_code_string(code), substring ? substring : "",
             irt_status_code_string(irt_status_code(status)), text);
  }
  irt_status_free(status);
}

static void expect_ok(irt_status_t status) {
  if (irt_status_is_ok(status)) return;
  char text[1024];
  irt_status_format(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("%s", text);
}

// Loads the ELF of conformance/<relative> as |format|; false to skip.
static bool load_library(const char* relative, irt_string_view_t format,
                         irhal_cpu_library_t** out_library) {
  test_elf_t elf;
  if (!test_elf_load(relative, &elf)) return false;
  expect_ok(irhal_cpu_library_load(irt_allocator_system(), format, elf.data,
                                   elf.size, NULL, out_library));
  test_elf_free(&elf);  // the library must not depend on the input bytes
  return true;
}

// Runs a one-workgroup dispatch of |ordinal| with three bindings, the way
// the compiled elementwise and matmul dispatches expect them (inputs first,
// result last).
static void run_three_bindings(const irhal_cpu_library_t* library,
                               uint32_t ordinal, void* a, size_t a_size,
                               void* b, size_t b_size, void* c, size_t c_size) {
  void* const ptrs[3] = {a, b, c};
  const size_t lengths[3] = {a_size, b_size, c_size};
  irhal_cpu_dispatch_params_t params = {
      .library = library,
      .export_ordinal = ordinal,
      .workgroup_count = {1, 1, 1},
      .binding_ptrs = ptrs,
      .binding_lengths = lengths,
      .binding_count = 3,
  };
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &params));
}

static void expect_export(const irhal_cpu_library_t* library, uint32_t ordinal,
                          const char* name) {
  assert_string_equal(irhal_cpu_library_export_name(library, ordinal), name);
  const irhal_executable_dispatch_attrs_v0_t* attrs =
      irhal_cpu_library_export_attrs(library, ordinal);
  // hal-abi.md 5.8: every v3.11 sample export is {flags 0, pages 0,
  // constants 0, bindings 3, workgroup size 1x1x1, parameter_count 0}.
  assert_int_equal(attrs->flags, 0);
  assert_int_equal(attrs->local_memory_pages, 0);
  assert_int_equal(attrs->constant_count, 0);
  assert_int_equal(attrs->binding_count, 3);
  assert_int_equal(attrs->workgroup_size_x, 1);
  assert_int_equal(attrs->workgroup_size_y, 1);
  assert_int_equal(attrs->workgroup_size_z, 1);
  assert_int_equal(attrs->parameter_count, 0);
  assert_non_null(irhal_cpu_library_export_function(library, ordinal));
}

//===----------------------------------------------------------------------===//
// Conformance dispatches
//===----------------------------------------------------------------------===//

static void test_simple_mul(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/simple_mul.vmfb", kEmbeddedX86, &library)) skip();
  assert_string_equal(irhal_cpu_library_name(library), "simple_mul_dispatch_0");
  assert_int_equal(irhal_cpu_library_export_count(library), 1);
  expect_export(library, 0, "simple_mul_dispatch_0_elementwise_4_f32");
  uint32_t ordinal = 99;
  expect_ok(irhal_cpu_library_find_export(
      library, "simple_mul_dispatch_0_elementwise_4_f32", &ordinal));
  assert_int_equal(ordinal, 0);
  expect_status(irhal_cpu_library_find_export(library, "nope", &ordinal),
                IRT_STATUS_NOT_FOUND, "no export named 'nope'");

  ALIGNED float a[4] = {1.0f, 1.1f, 1.2f, 1.3f};
  ALIGNED float b[4] = {10.0f, 100.0f, 1000.0f, 10000.0f};
  ALIGNED float c[4] = {0};
  run_three_bindings(library, 0, a, sizeof(a), b, sizeof(b), c, sizeof(c));
  for (int i = 0; i < 4; ++i) assert_true(c[i] == a[i] * b[i]);
  assert_true(c[0] == 10.0f && c[3] == 13000.0f);
  irhal_cpu_library_free(library);
}

static void test_add(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/add.vmfb", kEmbeddedX86, &library)) skip();
  expect_export(library, 0, "add_dispatch_0_elementwise_4_f32");
  ALIGNED float a[4] = {1, 2, 3, 4};
  ALIGNED float b[4] = {10, 20, 30, 40};
  ALIGNED float c[4] = {0};
  run_three_bindings(library, 0, a, sizeof(a), b, sizeof(b), c, sizeof(c));
  const float expected[4] = {11, 22, 33, 44};
  assert_memory_equal(c, expected, sizeof(c));
  irhal_cpu_library_free(library);
}

static void test_simple_add_f64(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/simple_add_f64.vmfb", kEmbeddedX86, &library)) {
    skip();
  }
  expect_export(library, 0, "simple_add_f64_dispatch_0_elementwise_4_f64");
  ALIGNED double a[4] = {1, 2, 3, 4};
  ALIGNED double b[4] = {0.1, 0.2, 0.3, 0.4};
  ALIGNED double c[4] = {0};
  run_three_bindings(library, 0, a, sizeof(a), b, sizeof(b), c, sizeof(c));
  for (int i = 0; i < 4; ++i) assert_true(c[i] == a[i] + b[i]);
  irhal_cpu_library_free(library);
}

static void test_matmul(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/matmul.vmfb", kEmbeddedX86, &library)) skip();
  expect_export(library, 0, "matmul_dispatch_0_matmul_3x2x4_f32");
  ALIGNED float lhs[3 * 4];
  ALIGNED float rhs[4 * 2];
  ALIGNED float result[3 * 2];
  for (int i = 0; i < 12; ++i) lhs[i] = (float)(i + 1);
  for (int i = 0; i < 8; ++i) rhs[i] = (float)(i + 1);
  memset(result, 0xFF, sizeof(result));  // the dispatch must overwrite all
  run_three_bindings(library, 0, lhs, sizeof(lhs), rhs, sizeof(rhs), result,
                     sizeof(result));
  const float expected[6] = {50, 60, 114, 140, 178, 220};
  assert_memory_equal(result, expected, sizeof(result));
  irhal_cpu_library_free(library);
}

static void test_multi_output(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/multi_output.vmfb", kEmbeddedX86, &library)) {
    skip();
  }
  assert_string_equal(irhal_cpu_library_name(library), "multi_output_linked");
  assert_int_equal(irhal_cpu_library_export_count(library), 2);
  expect_export(library, 0, "multi_output_dispatch_0_elementwise_4_f32");
  expect_export(library, 1, "multi_output_dispatch_1_elementwise_4_f32");
  // Both results live in one buffer (binding 2): the compiler packs them
  // 64-byte aligned and bakes dispatch 1's offset into its code.
  ALIGNED float a[4] = {1, 2, 3, 4};
  ALIGNED float b[4] = {10, 20, 30, 40};
  ALIGNED float results[32] = {0};
  run_three_bindings(library, 0, a, sizeof(a), b, sizeof(b), results,
                     sizeof(results));
  run_three_bindings(library, 1, a, sizeof(a), b, sizeof(b), results,
                     sizeof(results));
  const float expected_sum[4] = {11, 22, 33, 44};
  const float expected_product[4] = {10, 40, 90, 160};
  assert_memory_equal(&results[0], expected_sum, sizeof(expected_sum));
  assert_memory_equal(&results[16], expected_product, sizeof(expected_product));
  irhal_cpu_library_free(library);
}

static void test_scale(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/scale.vmfb", kEmbeddedX86, &library)) skip();
  ALIGNED float input[4] = {1, 2, 3, 4};
  ALIGNED float weight[4] = {2, 2, 2, 2};
  ALIGNED float out[4] = {0};
  run_three_bindings(library, 0, input, sizeof(input), weight, sizeof(weight),
                     out, sizeof(out));
  const float expected[4] = {2, 4, 6, 8};
  assert_memory_equal(out, expected, sizeof(out));
  irhal_cpu_library_free(library);
}

// The compiler's embedded ELF is also a valid platform shared object, so the
// system-library path (memfd + dlopen) can run the very same code.
static void test_system_loader_runs_compiled_image(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/simple_mul.vmfb",
                    irt_make_cstring_view("system-elf-x86_64"), &library)) {
    skip();
  }
  expect_export(library, 0, "simple_mul_dispatch_0_elementwise_4_f32");
  ALIGNED float a[4] = {4, 4, 4, 4};
  ALIGNED float b[4] = {2, 2, 2, 2};
  ALIGNED float c[4] = {0};
  run_three_bindings(library, 0, a, sizeof(a), b, sizeof(b), c, sizeof(c));
  const float expected[4] = {8, 8, 8, 8};
  assert_memory_equal(c, expected, sizeof(c));
  irhal_cpu_library_free(library);
}

//===----------------------------------------------------------------------===//
// Formats and refusals
//===----------------------------------------------------------------------===//

static void test_format_support(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  assert_true(irhal_cpu_executable_format_supported(kEmbeddedX86));
  assert_true(irhal_cpu_executable_format_supported(
      irt_make_cstring_view("system-elf-x86_64")));
  const char* const unsupported[] = {
      "embedded-elf-arm_64", "embedded-elf-unknown", "embedded-elf-x86_64x",
      "system-elf-arm_64",   "system-dll-x86_64",    "static",
      "vmvx-bytecode-fb",    "rocm-hsaco-fb",        "",
  };
  for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); ++i) {
    if (irhal_cpu_executable_format_supported(
            irt_make_cstring_view(unsupported[i]))) {
      fail_msg("format '%s' claimed supported", unsupported[i]);
    }
  }
}

static void test_unknown_formats_are_refused(void** state) {
  (void)state;
  const char* const formats[] = {"static", "vmvx-bytecode-fb", "rocm-hsaco-fb",
                                 "pim-isr-fb", "system-dll-x86_64"};
  uint8_t data[4] = {0};
  for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); ++i) {
    irhal_cpu_library_t* library = NULL;
    char expected[128];
    snprintf(expected, sizeof(expected),
             "no device can run executable format '%s'", formats[i]);
    expect_status(irhal_cpu_library_load(irt_allocator_system(),
                                         irt_make_cstring_view(formats[i]),
                                         data, sizeof(data), NULL, &library),
                  IRT_STATUS_NOT_FOUND, expected);
    assert_null(library);
  }
}

static void test_foreign_images_are_refused(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  static const struct {
    const char* file;
    const char* format;
    const char* message;
  } kCases[] = {
      {"negative/matmul_aarch64.vmfb", "embedded-elf-arm_64",
       "embedded ELF is for aarch64 (EM 183); this host runs x86_64"},
      {"negative/simple_mul_arm32.vmfb", "embedded-elf-unknown",
       "embedded ELF is 32-bit (ELFCLASS32) for arm (EM 40)"},
      {"negative/matmul_aarch64.vmfb", "system-elf-arm_64",
       "system library is for aarch64 (EM 183); this host runs x86_64"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    test_elf_t elf;
    if (!test_elf_load(kCases[i].file, &elf)) skip();
    irhal_cpu_library_t* library = NULL;
    expect_status(
        irhal_cpu_library_load(irt_allocator_system(),
                               irt_make_cstring_view(kCases[i].format),
                               elf.data, elf.size, NULL, &library),
        IRT_STATUS_FAILED_PRECONDITION, kCases[i].message);
    test_elf_free(&elf);
  }
}

static void test_executable_constants_must_match(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  const uint32_t constants[1] = {42};
  irhal_cpu_library_options_t options = {.constants = constants,
                                         .constant_count = 1};
  irhal_cpu_library_t* library = NULL;
  expect_status(irhal_cpu_library_load(irt_allocator_system(), kEmbeddedX86,
                                       elf.data, elf.size, &options, &library),
                IRT_STATUS_FAILED_PRECONDITION,
                "declares 0 executable constants but 1 were provided");
  test_elf_free(&elf);
}

// Failing each allocation in turn must fail cleanly without leaks.
static void test_allocation_failures(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  test_elf_t elf;
  if (!test_elf_load("v3.11/simple_mul.vmfb", &elf)) skip();
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irhal_cpu_library_t* library = NULL;
    irt_status_t status =
        irhal_cpu_library_load(irt_counting_allocator(&counter), kEmbeddedX86,
                               elf.data, elf.size, NULL, &library);
    if (irt_status_is_ok(status)) {
      irhal_cpu_library_free(library);
      assert_int_equal(counter.live_allocations, 0);
      break;
    }
    expect_status(status, IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
    assert_int_equal(counter.live_allocations, 0);
    assert_true(fail_after < 16);
  }
  test_elf_free(&elf);
}

//===----------------------------------------------------------------------===//
// Dispatch argument checks
//===----------------------------------------------------------------------===//

static void test_dispatch_arguments_are_checked(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  irhal_cpu_library_t* library = NULL;
  if (!load_library("v3.11/simple_mul.vmfb", kEmbeddedX86, &library)) skip();
  ALIGNED float a[4] = {1, 2, 3, 4};
  ALIGNED float b[4] = {1, 1, 1, 1};
  ALIGNED float c[4] = {0};
  void* ptrs[3] = {a, b, c};
  const size_t lengths[3] = {sizeof(a), sizeof(b), sizeof(c)};
  const uint32_t constant = 1;
  irhal_cpu_dispatch_params_t valid = {
      .library = library,
      .workgroup_count = {1, 1, 1},
      .binding_ptrs = ptrs,
      .binding_lengths = lengths,
      .binding_count = 3,
  };
  irhal_cpu_dispatch_params_t params = valid;
  params.binding_count = 2;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_INVALID_ARGUMENT,
                "got 2 bindings; the export takes 3");
  params = valid;
  params.constants = &constant;
  params.constant_count = 1;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_INVALID_ARGUMENT, "got 1 constants");
  params = valid;
  params.export_ordinal = 1;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_OUT_OF_RANGE, "ordinal 1");
  params = valid;
  params.workgroup_count[2] = 65536;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_OUT_OF_RANGE, "65535");
  params = valid;
  params.workgroup_count[0] = UINT32_MAX;
  params.workgroup_count[1] = UINT32_MAX;
  params.workgroup_count[2] = UINT16_MAX;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_OUT_OF_RANGE, "64-bit");
  ptrs[1] = NULL;
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &valid),
                IRT_STATUS_FAILED_PRECONDITION, "binding 1 is NULL");
  ptrs[1] = b;

  // Any zero dimension: nothing runs.
  for (int axis = 0; axis < 3; ++axis) {
    params = valid;
    params.workgroup_count[axis] = 0;
    expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &params));
    assert_true(c[0] == 0.0f);
  }

  irhal_cpu_dispatch_t dispatch;
  expect_ok(irhal_cpu_dispatch_prepare(&valid, &dispatch));
  assert_int_equal(dispatch.workgroup_total, 1);
  assert_int_equal(dispatch.local_memory_size, 0);
  assert_int_equal(dispatch.state.max_concurrency, 1);
  expect_status(irhal_cpu_dispatch_run_range(&dispatch, 1, 1, NULL, 0),
                IRT_STATUS_OUT_OF_RANGE, "outside the dispatch's 1");
  expect_ok(irhal_cpu_dispatch_run_range(&dispatch, 0, 1, NULL, 0));
  assert_true(c[3] == 4.0f);
  irhal_cpu_library_free(library);
}

//===----------------------------------------------------------------------===//
// Processor data
//===----------------------------------------------------------------------===//

static void test_processor_features(void** state) {
  (void)state;
  if (!host_is_x86_64()) skip();
  assert_string_equal(irhal_cpu_host_arch_name(), "x86_64");
  int bit = -1;
  assert_true(irhal_cpu_feature_bit(irt_make_cstring_view("avx2"), &bit));
  assert_int_equal(bit, 15);
  assert_true(irhal_cpu_feature_bit(irt_make_cstring_view("amx-bf16"), &bit));
  assert_int_equal(bit, 52);
  assert_false(irhal_cpu_feature_bit(irt_make_cstring_view("sve"), &bit));

  irhal_processor_v0_t processor;
  irhal_cpu_processor_query(&processor);
  for (int i = 1; i < IRHAL_PROCESSOR_DATA_WORD_COUNT; ++i) {
    assert_int_equal(processor.data[i], 0);
  }
#if defined(__x86_64__)
  // The compiler runtime's own detection (CPUID + XGETBV) must agree.
#define FEATURE(name) \
  { name, __builtin_cpu_supports(name) != 0 }
  const struct {
    const char* name;
    bool supported;
  } checks[] = {
      FEATURE("sse3"),     FEATURE("ssse3"),    FEATURE("sse4.1"),
      FEATURE("sse4.2"),   FEATURE("avx"),      FEATURE("avx2"),
      FEATURE("fma"),      FEATURE("avx512f"),  FEATURE("avx512bw"),
      FEATURE("avx512vl"), FEATURE("avx512dq"), FEATURE("avx512cd"),
  };
#undef FEATURE
  for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); ++i) {
    assert_true(
        irhal_cpu_feature_bit(irt_make_cstring_view(checks[i].name), &bit));
    bool reported = (processor.data[0] >> bit) & 1;
    if (reported != checks[i].supported) {
      fail_msg("feature %s: processor data says %d, the compiler runtime %d",
               checks[i].name, reported, checks[i].supported);
    }
  }
#endif
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_simple_mul),
      cmocka_unit_test(test_add),
      cmocka_unit_test(test_simple_add_f64),
      cmocka_unit_test(test_matmul),
      cmocka_unit_test(test_multi_output),
      cmocka_unit_test(test_scale),
      cmocka_unit_test(test_system_loader_runs_compiled_image),
      cmocka_unit_test(test_format_support),
      cmocka_unit_test(test_unknown_formats_are_refused),
      cmocka_unit_test(test_foreign_images_are_refused),
      cmocka_unit_test(test_executable_constants_must_match),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_dispatch_arguments_are_checked),
      cmocka_unit_test(test_processor_features),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
