// The dispatch machinery and the library verifier against the fixture
// library (fixture_library.c), loaded both as an embedded ELF (our loader)
// and as a system library (memfd + dlopen). Usage:
//   test_hal_cpu_fixture_library <embedded fixture .so> <system fixture .so>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

#include "hal/cpu/dispatch.h"
#include "hal/cpu/executable_library_loader.h"
#include "hal/cpu/processor.h"
#include "tests/hal_cpu/fixture_library.h"
#include "tests/support/test_files.h"

typedef struct fixture_s {
  const char* label;
  char format[64];
  uint8_t* data;
  size_t size;
} fixture_t;

static fixture_t fixtures[2];

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

static irt_status_t load_variant(const fixture_t* fixture, uint32_t variant,
                                 const irhal_cpu_import_provider_t* provider,
                                 irhal_cpu_library_t** out_library) {
  irhal_cpu_library_options_t options = {
      .constants = &variant,
      .constant_count = 1,
      .import_provider = provider,
  };
  return irhal_cpu_library_load(
      irt_allocator_system(), irt_make_cstring_view(fixture->format),
      fixture->data, fixture->size, &options, out_library);
}

static irhal_cpu_library_t* load_plain(const fixture_t* fixture) {
  irhal_cpu_library_t* library = NULL;
  expect_ok(load_variant(fixture, FIXTURE_PLAIN, NULL, &library));
  return library;
}

//===----------------------------------------------------------------------===//
// Dispatch state and workgroup iteration
//===----------------------------------------------------------------------===//

enum {
  GRID_X = 3,
  GRID_Y = 2,
  GRID_Z = 2,
  GRID_TOTAL = GRID_X * GRID_Y * GRID_Z
};

typedef struct check_state_run_s {
  uint32_t constants[2];
  _Alignas(64) uint32_t out[GRID_TOTAL];
  _Alignas(64) uint32_t stats[FIXTURE_STATS_COUNT];
  void* ptrs[2];
  size_t lengths[2];
  irhal_cpu_dispatch_params_t params;
} check_state_run_t;

static void check_state_init(check_state_run_t* run,
                             const irhal_cpu_library_t* library) {
  memset(run, 0, sizeof(*run));
  run->constants[0] = 1000;
  run->constants[1] = 7;
  memset(run->out, 0xEE, sizeof(run->out));
  run->ptrs[0] = run->out;
  run->ptrs[1] = run->stats;
  run->lengths[0] = sizeof(run->out);
  run->lengths[1] = sizeof(run->stats);
  run->params = (irhal_cpu_dispatch_params_t){
      .library = library,
      .export_ordinal = FIXTURE_EXPORT_CHECK_STATE,
      .workgroup_count = {GRID_X, GRID_Y, GRID_Z},
      .constants = run->constants,
      .constant_count = 2,
      .binding_ptrs = run->ptrs,
      .binding_lengths = run->lengths,
      .binding_count = 2,
      .max_concurrency = 3,
  };
}

static void check_state_verify(const check_state_run_t* run,
                               uint32_t expected_calls) {
  for (uint32_t z = 0; z < GRID_Z; ++z) {
    for (uint32_t y = 0; y < GRID_Y; ++y) {
      for (uint32_t x = 0; x < GRID_X; ++x) {
        uint32_t linear = x + GRID_X * (y + GRID_Y * z);
        assert_int_equal(run->out[linear], 1000 + x + 10 * y + 100 * z);
      }
    }
  }
  assert_int_equal(run->stats[FIXTURE_STATS_CALLS], expected_calls);
  assert_int_equal(run->stats[FIXTURE_STATS_CALLS_VIA_DATA], expected_calls);
  assert_int_equal(run->stats[FIXTURE_STATS_MAX_CONCURRENCY], 3);
#if defined(__x86_64__)
  assert_int_equal(run->stats[FIXTURE_STATS_MXCSR] & 0x8040, 0x8040);
#endif
}

static void test_library_shape(void** state) {
  const fixture_t* fixture = *state;
  irhal_cpu_library_t* library = load_plain(fixture);
  assert_string_equal(irhal_cpu_library_name(library), "fixture");
  assert_int_equal(irhal_cpu_library_export_count(library), 2);
  assert_string_equal(irhal_cpu_library_export_name(library, 0),
                      "fixture_check_state");
  assert_string_equal(irhal_cpu_library_export_name(library, 1),
                      "fixture_fail_at_two");
  const irhal_executable_dispatch_attrs_v0_t* attrs =
      irhal_cpu_library_export_attrs(library, FIXTURE_EXPORT_CHECK_STATE);
  assert_int_equal(attrs->local_memory_pages, 1);
  assert_int_equal(attrs->constant_count, 2);
  assert_int_equal(attrs->binding_count, 2);
  assert_int_equal(attrs->workgroup_size_x, 4);
  const irhal_executable_environment_v0_t* environment =
      irhal_cpu_library_environment(library);
  assert_int_equal(((uintptr_t)environment) % 16, 0);
  assert_int_equal(environment->constants[0], FIXTURE_PLAIN);
  assert_non_null(environment->import_thunk);
  irhal_processor_v0_t processor;
  irhal_cpu_processor_query(&processor);
  assert_memory_equal(&environment->processor, &processor, sizeof(processor));
  irhal_cpu_library_free(library);
}

static void test_dispatch_fills_the_abi_state(void** state) {
  const fixture_t* fixture = *state;
  irhal_cpu_library_t* library = load_plain(fixture);
  check_state_run_t run;
  check_state_init(&run, library);
#if defined(__x86_64__)
  unsigned mxcsr_before = _mm_getcsr();
#endif
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &run.params));
#if defined(__x86_64__)
  assert_int_equal(_mm_getcsr(), mxcsr_before);  // restored
#endif
  check_state_verify(&run, GRID_TOTAL);

  // The counter lives in the loaded image: a second dispatch continues it.
  check_state_init(&run, library);
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &run.params));
  check_state_verify(&run, 2 * GRID_TOTAL);
  irhal_cpu_library_free(library);
}

// A worker pool splits the linear range; each worker brings its own scratch.
static void test_dispatch_ranges_split_the_grid(void** state) {
  const fixture_t* fixture = *state;
  irhal_cpu_library_t* library = load_plain(fixture);
  check_state_run_t run;
  check_state_init(&run, library);
  irhal_cpu_dispatch_t dispatch;
  expect_ok(irhal_cpu_dispatch_prepare(&run.params, &dispatch));
  assert_int_equal(dispatch.workgroup_total, GRID_TOTAL);
  assert_int_equal(dispatch.local_memory_size, 4096);
  assert_int_equal(dispatch.state.workgroup_size_x, 4);
  assert_int_equal(dispatch.state.workgroup_count_z, GRID_Z);

  uint8_t* worker_a = malloc(4096);
  uint8_t* worker_b = malloc(8192);
  expect_ok(irhal_cpu_dispatch_run_range(&dispatch, 7, 5, worker_b, 8192));
  expect_ok(irhal_cpu_dispatch_run_range(&dispatch, 0, 7, worker_a, 4096));
  expect_ok(irhal_cpu_dispatch_run_range(&dispatch, 3, 0, NULL, 0));
  check_state_verify(&run, GRID_TOTAL);

  expect_status(irhal_cpu_dispatch_run_range(&dispatch, 0, 1, worker_a, 100),
                IRT_STATUS_RESOURCE_EXHAUSTED, "needs 4096 bytes");
  expect_status(irhal_cpu_dispatch_run_range(&dispatch, 0, 1, NULL, 4096),
                IRT_STATUS_RESOURCE_EXHAUSTED, "the worker has 0");
  expect_status(irhal_cpu_dispatch_run_range(&dispatch, 10, 3, worker_a, 4096),
                IRT_STATUS_OUT_OF_RANGE, "[10, +3)");
  expect_status(
      irhal_cpu_dispatch_run_range(&dispatch, UINT64_MAX, 2, worker_a, 4096),
      IRT_STATUS_OUT_OF_RANGE, NULL);
  free(worker_a);
  free(worker_b);
  irhal_cpu_library_free(library);
}

static void test_failing_workgroup_stops_the_dispatch(void** state) {
  const fixture_t* fixture = *state;
  irhal_cpu_library_t* library = load_plain(fixture);
  _Alignas(16) uint32_t counter = 0;
  void* ptrs[1] = {&counter};
  size_t lengths[1] = {sizeof(counter)};
  irhal_cpu_dispatch_params_t params = {
      .library = library,
      .export_ordinal = FIXTURE_EXPORT_FAIL_AT_TWO,
      .workgroup_count = {5, 1, 1},
      .binding_ptrs = ptrs,
      .binding_lengths = lengths,
      .binding_count = 1,
  };
  expect_status(irhal_cpu_dispatch_run(irt_allocator_system(), &params),
                IRT_STATUS_INTERNAL,
                "export 1 'fixture_fail_at_two' of library 'fixture' failed "
                "with code 7 in workgroup (2, 0, 0)");
  assert_int_equal(counter, 3);
  irhal_cpu_library_free(library);
}

//===----------------------------------------------------------------------===//
// Imports
//===----------------------------------------------------------------------===//

// The host import: adds *context to each of the 4 words at params.
static int host_add(void* params, void* context, void* reserved) {
  (void)reserved;
  uint32_t* values = params;
  uint32_t amount = *(const uint32_t*)context;
  if (amount == 0) return 5;  // lets the test make the import fail
  for (int i = 0; i < 4; ++i) values[i] += amount;
  return 0;
}

typedef struct provider_state_s {
  uint32_t amount;
  irt_status_code_t required_result;  // OK: resolve, else fail with it
  int calls;
} provider_state_t;

static irt_status_t resolve_import(void* user_data, const char* name,
                                   irhal_executable_import_v0_t* out_function,
                                   const void** out_context) {
  provider_state_t* provider = user_data;
  ++provider->calls;
  if (strcmp(name, FIXTURE_IMPORT_REQUIRED) == 0 &&
      provider->required_result == IRT_STATUS_OK) {
    *out_function = host_add;
    *out_context = &provider->amount;
    return IRT_OK;
  }
  return irt_make_status(strcmp(name, FIXTURE_IMPORT_REQUIRED) == 0
                             ? provider->required_result
                             : IRT_STATUS_NOT_FOUND,
                         "no host function '%s'", name);
}

static irt_status_t run_call_import(const irhal_cpu_library_t* library,
                                    uint32_t* values) {
  void* ptrs[1] = {values};
  size_t lengths[1] = {4 * sizeof(uint32_t)};
  irhal_cpu_dispatch_params_t params = {
      .library = library,
      .export_ordinal = FIXTURE_EXPORT_CALL_IMPORT,
      .workgroup_count = {1, 1, 1},
      .binding_ptrs = ptrs,
      .binding_lengths = lengths,
      .binding_count = 1,
  };
  return irhal_cpu_dispatch_run(irt_allocator_system(), &params);
}

static void test_imports(void** state) {
  const fixture_t* fixture = *state;
  irhal_cpu_library_t* library = NULL;
  expect_status(load_variant(fixture, FIXTURE_IMPORTS, NULL, &library),
                IRT_STATUS_UNAVAILABLE,
                "requires import 'fixture_host_add_v0' but no import "
                "provider is registered");
  assert_null(library);

  provider_state_t provider_state = {.amount = 5};
  irhal_cpu_import_provider_t provider = {resolve_import, &provider_state};
  provider_state.required_result = IRT_STATUS_NOT_FOUND;
  expect_status(load_variant(fixture, FIXTURE_IMPORTS, &provider, &library),
                IRT_STATUS_NOT_FOUND,
                "resolving import 'fixture_host_add_v0' of library "
                "'fixture'");
  provider_state.required_result = IRT_STATUS_PERMISSION_DENIED;
  expect_status(load_variant(fixture, FIXTURE_IMPORTS, &provider, &library),
                IRT_STATUS_PERMISSION_DENIED, "no host function");

  provider_state.required_result = IRT_STATUS_OK;
  provider_state.calls = 0;
  expect_ok(load_variant(fixture, FIXTURE_IMPORTS, &provider, &library));
  assert_int_equal(provider_state.calls, 2);  // optional one asked, missing
  const irhal_executable_environment_v0_t* environment =
      irhal_cpu_library_environment(library);
  assert_null(environment->import_funcs[0]);
  assert_non_null(environment->import_funcs[1]);
  _Alignas(16) uint32_t values[4] = {1, 2, 3, 4};
  expect_ok(run_call_import(library, values));
  const uint32_t expected[4] = {6, 7, 8, 9};
  assert_memory_equal(values, expected, sizeof(values));
  provider_state.amount = 0;  // host_add now fails
  expect_status(run_call_import(library, values), IRT_STATUS_INTERNAL,
                "failed with code 5");
  irhal_cpu_library_free(library);
}

//===----------------------------------------------------------------------===//
// Library verification
//===----------------------------------------------------------------------===//

// A TSan build of the loader accepts libraries built for TSan (it is the
// host's sanitizer), so the sanitizer case only applies to other builds.
#if defined(__SANITIZE_THREAD__)
#define TEST_HOST_IS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_HOST_IS_TSAN 1
#endif
#endif
#ifndef TEST_HOST_IS_TSAN
#define TEST_HOST_IS_TSAN 0
#endif

static void test_malformed_libraries_are_rejected(void** state) {
  const fixture_t* fixture = *state;
  static const struct {
    uint32_t variant;
    irt_status_code_t code;
    const char* message;
  } kCases[] = {
      {FIXTURE_QUERY_NULL, IRT_STATUS_FAILED_PRECONDITION,
       "query returned NULL for ABI version 6"},
      {FIXTURE_VARIANT_COUNT + 5, IRT_STATUS_FAILED_PRECONDITION,
       "returned NULL"},
      {FIXTURE_BAD_VERSION, IRT_STATUS_FAILED_PRECONDITION,
       "has ABI version 5, expected 6"},
      {FIXTURE_NO_ATTRS, IRT_STATUS_FAILED_PRECONDITION,
       "no dispatch attributes"},
      {FIXTURE_TOO_MANY_BINDINGS, IRT_STATUS_OUT_OF_RANGE, "65 bindings"},
      {FIXTURE_NULL_NAME, IRT_STATUS_FAILED_PRECONDITION,
       "export names[0] is not a string"},
      {FIXTURE_SANITIZER, IRT_STATUS_UNAVAILABLE, "sanitizer 3"},
      {FIXTURE_NULL_FUNCTION, IRT_STATUS_FAILED_PRECONDITION,
       "function is not in an executable segment"},
      {FIXTURE_FEATURES, IRT_STATUS_UNAVAILABLE, "requires features 0x1"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    if (TEST_HOST_IS_TSAN && kCases[i].variant == FIXTURE_SANITIZER) continue;
    irhal_cpu_library_t* library = NULL;
    irt_status_t status =
        load_variant(fixture, kCases[i].variant, NULL, &library);
    char text[1024];
    irt_status_format_brief(status, text, sizeof(text));
    if (irt_status_code(status) != kCases[i].code ||
        !strstr(text, kCases[i].message)) {
      fail_msg("variant %u: expected %s containing '%s', got %s: %s",
               kCases[i].variant, irt_status_code_string(kCases[i].code),
               kCases[i].message,
               irt_status_code_string(irt_status_code(status)), text);
    }
    irt_status_free(status);
    assert_null(library);
  }

  irhal_cpu_library_t* library = NULL;
  expect_status(
      irhal_cpu_library_load(irt_allocator_system(),
                             irt_make_cstring_view(fixture->format),
                             fixture->data, fixture->size, NULL, &library),
      IRT_STATUS_FAILED_PRECONDITION,
      "declares 1 executable constants but 0 were provided");
}

//===----------------------------------------------------------------------===//
// System-library specifics
//===----------------------------------------------------------------------===//

// Two loads of the same bytes are separate libraries (RTLD_LOCAL, distinct
// memfds): each has its own counter.
static void test_system_libraries_are_independent(void** state) {
  (void)state;
  const fixture_t* fixture = &fixtures[1];
  irhal_cpu_library_t* first = load_plain(fixture);
  irhal_cpu_library_t* second = load_plain(fixture);
  check_state_run_t run;
  check_state_init(&run, first);
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &run.params));
  check_state_verify(&run, GRID_TOTAL);
  check_state_init(&run, second);
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &run.params));
  check_state_verify(&run, GRID_TOTAL);
  irhal_cpu_library_free(first);
  // Reloading after an unload gets fresh state, not the unloaded library.
  irhal_cpu_library_t* third = load_plain(fixture);
  check_state_init(&run, third);
  expect_ok(irhal_cpu_dispatch_run(irt_allocator_system(), &run.params));
  check_state_verify(&run, GRID_TOTAL);
  irhal_cpu_library_free(third);
  irhal_cpu_library_free(second);
}

// A trailing IREEDBG footer (hal-abi.md 5.9.1) is stripped before loading.
static void test_system_library_debug_footer(void** state) {
  (void)state;
  const fixture_t* fixture = &fixtures[1];
  const size_t debug_size = 100;
  size_t size = fixture->size + debug_size + 48;
  uint8_t* data = calloc(1, size);
  memcpy(data, fixture->data, fixture->size);
  memset(data + fixture->size, 0xDB, debug_size);
  uint8_t* footer = data + size - 48;
  memcpy(footer, "IREEDBG", 8);
  uint64_t library_size = fixture->size, debug_offset = fixture->size;
  uint64_t debug_length = debug_size;
  memcpy(footer + 24, &library_size, 8);
  memcpy(footer + 32, &debug_offset, 8);
  memcpy(footer + 40, &debug_length, 8);
  uint32_t variant = FIXTURE_PLAIN;
  irhal_cpu_library_options_t options = {.constants = &variant,
                                         .constant_count = 1};
  irhal_cpu_library_t* library = NULL;
  expect_ok(irhal_cpu_library_load(irt_allocator_system(),
                                   irt_make_cstring_view(fixture->format), data,
                                   size, &options, &library));
  irhal_cpu_library_free(library);

  debug_length = debug_size + 1;  // past the footer
  memcpy(footer + 40, &debug_length, 8);
  expect_status(irhal_cpu_library_load(irt_allocator_system(),
                                       irt_make_cstring_view(fixture->format),
                                       data, size, &options, &library),
                IRT_STATUS_OUT_OF_RANGE, "debug footer");
  free(data);
}

static void test_system_library_garbage(void** state) {
  (void)state;
  const char* format = fixtures[1].format;
  uint8_t garbage[256];
  memset(garbage, 0x5A, sizeof(garbage));
  irhal_cpu_library_t* library = NULL;
  expect_status(irhal_cpu_library_load(irt_allocator_system(),
                                       irt_make_cstring_view(format), garbage,
                                       sizeof(garbage), NULL, &library),
                IRT_STATUS_FAILED_PRECONDITION,
                "system library is not an ELF image");
  // A header that passes our checks but whose body is not loadable: the
  // platform loader's complaint comes back as UNAVAILABLE.
  size_t size = 4096;
  uint8_t* truncated = calloc(1, size);
  memcpy(truncated, fixtures[1].data, 64);
  uint16_t shnum = 1, phnum = 1;
  uint64_t shoff = 64;
  memcpy(truncated + 0x28, &shoff, 8);  // e_shoff
  memcpy(truncated + 0x38, &phnum, 2);  // e_phnum
  memcpy(truncated + 0x3C, &shnum, 2);  // e_shnum
  expect_status(irhal_cpu_library_load(irt_allocator_system(),
                                       irt_make_cstring_view(format), truncated,
                                       size, NULL, &library),
                IRT_STATUS_UNAVAILABLE, "dlopen");
  free(truncated);
}

//===----------------------------------------------------------------------===//
// Setup
//===----------------------------------------------------------------------===//

static bool read_fixture(const char* path, const char* label,
                         const char* format_prefix, fixture_t* out_fixture) {
  out_fixture->label = label;
  snprintf(out_fixture->format, sizeof(out_fixture->format), "%s%s",
           format_prefix, irhal_cpu_host_arch_name());
  if (!ireed_test_read_file(path, &out_fixture->data, &out_fixture->size)) {
    fprintf(stderr, "cannot read fixture %s\n", path);
    return false;
  }
  return true;
}

// The shared tests, once per loader, as a group named after it.
static int run_fixture_tests(fixture_t* fixture) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_prestate(test_library_shape, fixture),
      cmocka_unit_test_prestate(test_dispatch_fills_the_abi_state, fixture),
      cmocka_unit_test_prestate(test_dispatch_ranges_split_the_grid, fixture),
      cmocka_unit_test_prestate(test_failing_workgroup_stops_the_dispatch,
                                fixture),
      cmocka_unit_test_prestate(test_imports, fixture),
      cmocka_unit_test_prestate(test_malformed_libraries_are_rejected, fixture),
  };
  return cmocka_run_group_tests_name(fixture->label, tests, NULL, NULL);
}

int main(int argc, char** argv) {
  if (!irhal_cpu_host_arch_name()) {
    fprintf(stderr, "skipping: this host cannot run CPU executables\n");
    return 77;
  }
  if (argc < 3 ||
      !read_fixture(argv[1], "embedded ELF fixture", "embedded-elf-",
                    &fixtures[0]) ||
      !read_fixture(argv[2], "system library fixture", "system-elf-",
                    &fixtures[1])) {
    fprintf(stderr, "usage: %s <embedded fixture> <system fixture>\n", argv[0]);
    return 1;
  }
  const struct CMUnitTest system_tests[] = {
      cmocka_unit_test(test_system_libraries_are_independent),
      cmocka_unit_test(test_system_library_debug_footer),
      cmocka_unit_test(test_system_library_garbage),
  };
  int result = run_fixture_tests(&fixtures[0]);
  result += run_fixture_tests(&fixtures[1]);
  result +=
      cmocka_run_group_tests_name("system library", system_tests, NULL, NULL);
  free(fixtures[0].data);
  free(fixtures[1].data);
  return result;
}
