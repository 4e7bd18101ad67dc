// Contract between the fixture executable library (fixture_library.c, built
// both as an embedded ELF and as a system shared library) and its tests.
//
// The executable-level constant 0 selects which library the query function
// returns, so one binary covers the happy path and every malformed-library
// case the verifier must reject.
#ifndef IREED_TESTS_HAL_CPU_FIXTURE_LIBRARY_H
#define IREED_TESTS_HAL_CPU_FIXTURE_LIBRARY_H

enum {
  FIXTURE_PLAIN = 0,              // exports CHECK_STATE and FAIL_AT_TWO
  FIXTURE_IMPORTS = 1,            // + CALL_IMPORT; imports below
  FIXTURE_QUERY_NULL = 2,         // query returns NULL
  FIXTURE_BAD_VERSION = 3,        // header version 5
  FIXTURE_NO_ATTRS = 4,           // attrs == NULL
  FIXTURE_TOO_MANY_BINDINGS = 5,  // binding_count 65
  FIXTURE_NULL_NAME = 6,          // names[0] == NULL
  FIXTURE_SANITIZER = 7,          // header sanitizer THREAD
  FIXTURE_NULL_FUNCTION = 8,      // ptrs[0] == NULL
  FIXTURE_FEATURES = 9,           // header features 0x1
  FIXTURE_VARIANT_COUNT,
};

// Export ordinals.
enum {
  FIXTURE_EXPORT_CHECK_STATE = 0,
  FIXTURE_EXPORT_FAIL_AT_TWO = 1,
  FIXTURE_EXPORT_CALL_IMPORT = 2,
};

// CHECK_STATE: 2 constants, 2 bindings, 1 page of local memory, workgroup
// size 4x2x1. Binding 0 is u32[count_x*count_y*count_z]; each workgroup
// stores constants[0] + x + 10*y + 100*z at its linear index. Binding 1 is
// u32[FIXTURE_STATS_COUNT] of running statistics. Returns a FIXTURE_ERROR_*
// code when the state it receives breaks the ABI.
enum {
  FIXTURE_STATS_CALLS = 0,           // incremented through a GOT reference
  FIXTURE_STATS_CALLS_VIA_DATA = 1,  // same counter read through a data pointer
  FIXTURE_STATS_MXCSR = 2,           // x86_64 MXCSR seen by the last call
  FIXTURE_STATS_MAX_CONCURRENCY = 3,
  FIXTURE_STATS_COUNT = 4,
};
enum {
  FIXTURE_ERROR_ALIGNMENT = 101,
  FIXTURE_ERROR_SIZES = 102,
  FIXTURE_ERROR_COUNTS = 103,
  FIXTURE_ERROR_LOCAL_MEMORY = 104,
  FIXTURE_ERROR_IDS = 105,
  FIXTURE_ERROR_ENVIRONMENT = 106,
  FIXTURE_ERROR_BINDING_LENGTH = 107,
};

// FAIL_AT_TWO: 1 binding (u32 counter incremented per call), returns
// FIXTURE_FAIL_CODE from workgroup x == 2.
#define FIXTURE_FAIL_CODE 7

// CALL_IMPORT: 1 binding (u32[4]) handed as params to import 1; import 0 is
// optional and must have resolved to NULL (else FIXTURE_ERROR_IMPORTS).
#define FIXTURE_IMPORT_OPTIONAL "?fixture_missing_v0"
#define FIXTURE_IMPORT_REQUIRED "fixture_host_add_v0"
#define FIXTURE_ERROR_IMPORTS 108

#endif  // IREED_TESTS_HAL_CPU_FIXTURE_LIBRARY_H
