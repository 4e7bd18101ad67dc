// The CPU executable library ABI, version 0.6 (hal-abi.md 5.5-5.7).
//
// Every CPU executable format (embedded ELF, system shared library, static
// library) exposes the same thing: a query function that returns a library
// struct describing exported dispatch functions. This header is the layout of
// that contract, byte for byte, on LP64 hosts (x86_64, aarch64). Compiled code
// reads and writes these structs directly, so nothing here may change size or
// field offset; the _Static_asserts at the bottom pin them.
//
// Lifecycle as seen by a CPU device:
//   1. load the image (executable_library_loader.h picks the loader),
//   2. fill an environment (executable-level constants + processor data) and
//      call the query function with IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST,
//   3. resolve the library's imports into the environment,
//   4. per dispatch: fill one dispatch state, then call the export's function
//      once per workgroup with its own workgroup state (dispatch.h).
#ifndef IRHAL_CPU_EXECUTABLE_LIBRARY_H
#define IRHAL_CPU_EXECUTABLE_LIBRARY_H

#include <stddef.h>
#include <stdint.h>

//===----------------------------------------------------------------------===//
// Versioning and the query function (5.5.1)
//===----------------------------------------------------------------------===//

// Compiler-generated query functions answer only when asked for exactly this
// version (and return NULL otherwise), so runtimes always pass it verbatim.
#define IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6 0x00000006u
#define IRHAL_EXECUTABLE_LIBRARY_VERSION_LATEST \
  IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6

// Name of the one symbol every library exports.
#define IRHAL_EXECUTABLE_LIBRARY_QUERY_SYMBOL \
  "iree_hal_executable_library_query"

typedef struct irhal_executable_library_header_s
    irhal_executable_library_header_t;
typedef struct irhal_executable_environment_v0_s
    irhal_executable_environment_v0_t;

// Returns a pointer to the library struct (whose first field is the header
// pointer, hence the double indirection) or NULL when |max_version| is not
// supported. |environment| is the object later passed to every dispatch; the
// library may keep the pointer.
typedef const irhal_executable_library_header_t** (
    *irhal_executable_library_query_fn_t)(
    uint32_t max_version, const irhal_executable_environment_v0_t* environment);

//===----------------------------------------------------------------------===//
// Library header (5.5.2)
//===----------------------------------------------------------------------===//

typedef enum irhal_executable_library_sanitizer_e {
  IRHAL_EXECUTABLE_LIBRARY_SANITIZER_NONE = 0,
  IRHAL_EXECUTABLE_LIBRARY_SANITIZER_ADDRESS = 1,
  IRHAL_EXECUTABLE_LIBRARY_SANITIZER_MEMORY = 2,
  IRHAL_EXECUTABLE_LIBRARY_SANITIZER_THREAD = 3,
  IRHAL_EXECUTABLE_LIBRARY_SANITIZER_UNDEFINED = 4,
} irhal_executable_library_sanitizer_t;

// No feature bits are defined by version 0.6.
#define IRHAL_EXECUTABLE_LIBRARY_FEATURE_NONE 0u

struct irhal_executable_library_header_s {
  uint32_t version;  // IRHAL_EXECUTABLE_LIBRARY_VERSION_*
  // NUL-terminated identifier; the lookup key for `static` libraries.
  const char* name;
  uint32_t features;  // IRHAL_EXECUTABLE_LIBRARY_FEATURE_* bits
  // The sanitizer the library was compiled with; embedded ELFs must be NONE,
  // system libraries may only match the host's own sanitizer.
  int32_t sanitizer;  // irhal_executable_library_sanitizer_t
};

//===----------------------------------------------------------------------===//
// Imports (5.5.4, 5.6.1)
//===----------------------------------------------------------------------===//

// An import function: returns 0 on success, anything else is a fatal device
// error. |params| and |context| are opaque to the runtime.
typedef int (*irhal_executable_import_v0_t)(void* params, void* context,
                                            void* reserved);

// Every import call made by the library goes through this thunk, which lets a
// host adapt calling conventions; a plain `return fn(params, context,
// reserved)` suffices on Linux.
typedef int (*irhal_executable_import_thunk_v0_t)(
    irhal_executable_import_v0_t fn, void* params, void* context,
    void* reserved);

// Import names are sorted ascending (strcmp). A leading '?' marks an optional
// import whose function slot is NULL when unresolved.
#define IRHAL_EXECUTABLE_IMPORT_OPTIONAL_PREFIX '?'

typedef struct irhal_executable_import_table_v0_s {
  uint32_t count;
  const char* const* symbols;  // |count| names
} irhal_executable_import_table_v0_t;

//===----------------------------------------------------------------------===//
// Environment and processor data (5.6)
//===----------------------------------------------------------------------===//

#define IRHAL_PROCESSOR_DATA_WORD_COUNT 8

// Word 0 holds the architecture's feature bits (IRHAL_CPU_FEATURE_*); words
// 1-7 are reserved and zero. Generated code ORs its compile-time features
// into a copy of word 0, so zero is always safe (it only disables
// runtime-selected fast paths).
typedef struct irhal_processor_v0_s {
  uint64_t data[IRHAL_PROCESSOR_DATA_WORD_COUNT];
} irhal_processor_v0_t;

// Bit numbers of processor data word 0 (the names are LLVM's feature names
// and the keys of the `hal.cpu` device query).
enum {
  // x86_64
  IRHAL_CPU_FEATURE_X86_64_SSE3 = 0,
  IRHAL_CPU_FEATURE_X86_64_SSSE3 = 1,
  IRHAL_CPU_FEATURE_X86_64_SSE41 = 2,
  IRHAL_CPU_FEATURE_X86_64_SSE42 = 3,
  IRHAL_CPU_FEATURE_X86_64_SSE4A = 4,
  IRHAL_CPU_FEATURE_X86_64_AVX = 10,
  IRHAL_CPU_FEATURE_X86_64_FMA = 11,
  IRHAL_CPU_FEATURE_X86_64_FMA4 = 12,
  IRHAL_CPU_FEATURE_X86_64_XOP = 13,
  IRHAL_CPU_FEATURE_X86_64_F16C = 14,
  IRHAL_CPU_FEATURE_X86_64_AVX2 = 15,
  IRHAL_CPU_FEATURE_X86_64_AVX512F = 20,
  IRHAL_CPU_FEATURE_X86_64_AVX512CD = 21,
  IRHAL_CPU_FEATURE_X86_64_AVX512VL = 22,
  IRHAL_CPU_FEATURE_X86_64_AVX512DQ = 23,
  IRHAL_CPU_FEATURE_X86_64_AVX512BW = 24,
  IRHAL_CPU_FEATURE_X86_64_AVX512IFMA = 25,
  IRHAL_CPU_FEATURE_X86_64_AVX512VBMI = 26,
  IRHAL_CPU_FEATURE_X86_64_AVX512VPOPCNTDQ = 27,
  IRHAL_CPU_FEATURE_X86_64_AVX512VNNI = 28,
  IRHAL_CPU_FEATURE_X86_64_AVX512VBMI2 = 29,
  IRHAL_CPU_FEATURE_X86_64_AVX512BITALG = 30,
  IRHAL_CPU_FEATURE_X86_64_AVX512BF16 = 31,
  IRHAL_CPU_FEATURE_X86_64_AVX512FP16 = 32,
  IRHAL_CPU_FEATURE_X86_64_AMX_TILE = 50,
  IRHAL_CPU_FEATURE_X86_64_AMX_INT8 = 51,
  IRHAL_CPU_FEATURE_X86_64_AMX_BF16 = 52,
  // aarch64
  IRHAL_CPU_FEATURE_ARM_64_FP_ARMV8 = 0,
  IRHAL_CPU_FEATURE_ARM_64_LSE = 1,
  IRHAL_CPU_FEATURE_ARM_64_LSE128 = 2,
  IRHAL_CPU_FEATURE_ARM_64_FULLFP16 = 10,
  IRHAL_CPU_FEATURE_ARM_64_FP16FML = 11,
  IRHAL_CPU_FEATURE_ARM_64_DOTPROD = 12,
  IRHAL_CPU_FEATURE_ARM_64_I8MM = 13,
  IRHAL_CPU_FEATURE_ARM_64_BF16 = 14,
  IRHAL_CPU_FEATURE_ARM_64_SVE = 20,
  IRHAL_CPU_FEATURE_ARM_64_SVE2 = 21,
  IRHAL_CPU_FEATURE_ARM_64_SVE2P1 = 22,
  IRHAL_CPU_FEATURE_ARM_64_SVE2_BITPERM = 23,
  IRHAL_CPU_FEATURE_ARM_64_F32MM = 24,
  IRHAL_CPU_FEATURE_ARM_64_F64MM = 25,
  IRHAL_CPU_FEATURE_ARM_64_SME = 30,
  IRHAL_CPU_FEATURE_ARM_64_SME2 = 31,
  IRHAL_CPU_FEATURE_ARM_64_SME2P1 = 32,
  IRHAL_CPU_FEATURE_ARM_64_SME_F16F16 = 33,
  IRHAL_CPU_FEATURE_ARM_64_SME_F64F64 = 34,
  IRHAL_CPU_FEATURE_ARM_64_SME_I16I64 = 35,
  // riscv_64
  IRHAL_CPU_FEATURE_RISCV_64_V = 0,
  IRHAL_CPU_FEATURE_RISCV_64_ZVFHMIN = 1,
  IRHAL_CPU_FEATURE_RISCV_64_ZVFH = 2,
};

// Shared by the query call and every dispatch of one loaded executable. The
// runtime fills |constants| and |processor| before the query and the three
// import fields after it. Must not move while the library is loaded.
struct irhal_executable_environment_v0_s {
  // Executable-level constants (the runtime's copy of the values given to
  // hal.executable.create); NULL when the library declares none.
  const uint32_t* constants;
  irhal_executable_import_thunk_v0_t import_thunk;
  // One entry per import, in import-table order; NULL for an unresolved
  // optional import.
  const irhal_executable_import_v0_t* import_funcs;
  const void* const* import_contexts;
  irhal_processor_v0_t processor;
};

//===----------------------------------------------------------------------===//
// Dispatch ABI (5.7)
//===----------------------------------------------------------------------===//

// Shared by all workgroups of one dispatch.
typedef struct irhal_executable_dispatch_state_v0_s {
  // The export's workgroup size, each dimension 1 when the export says 0
  // (LLVM-CPU code never reads these).
  uint32_t workgroup_size_x;
  uint32_t workgroup_size_y;
  uint16_t workgroup_size_z;
  uint16_t constant_count;  // the export's constant_count
  uint32_t workgroup_count_x;
  uint32_t workgroup_count_y;
  uint16_t workgroup_count_z;
  // Threads that may run workgroups of this dispatch at the same time.
  uint8_t max_concurrency;
  uint8_t binding_count;      // the export's binding_count
  const uint32_t* constants;  // |constant_count| words, in VM order
  // Host address of each binding's first byte and the byte length of its
  // range, |binding_count| entries each.
  void* const* binding_ptrs;
  const size_t* binding_lengths;
} irhal_executable_dispatch_state_v0_t;

// Unique to one workgroup invocation.
typedef struct irhal_executable_workgroup_state_v0_s {
  uint32_t workgroup_id_x;
  uint32_t workgroup_id_y;
  uint16_t workgroup_id_z;
  uint16_t reserved;  // 0
  // Logical CPU the calling thread runs on; informational only.
  uint32_t processor_id;
  // Scratch exclusive to this invocation (contents undefined on entry), or
  // NULL when the export requires none.
  void* local_memory;
  uint32_t local_memory_size;  // bytes at |local_memory|, >= required
} irhal_executable_workgroup_state_v0_t;

// A dispatch function executes exactly one workgroup. All three pointers are
// non-NULL, distinct and 16-byte aligned (compiled code assumes so). Returns
// 0 on success; anything else is a catastrophic failure of the dispatch.
typedef int (*irhal_executable_dispatch_v0_t)(
    const irhal_executable_environment_v0_t* environment,
    const irhal_executable_dispatch_state_v0_t* dispatch_state,
    const irhal_executable_workgroup_state_v0_t* workgroup_state);

// The alignment the three dispatch arguments must have.
#define IRHAL_EXECUTABLE_ABI_ALIGNMENT 16

//===----------------------------------------------------------------------===//
// Exports (5.5.5-5.5.7)
//===----------------------------------------------------------------------===//

// Contiguous workgroups touch contiguous data: schedule neighbours together.
#define IRHAL_DISPATCH_ATTR_FLAG_SEQUENTIAL (1ull << 0)
#define IRHAL_DISPATCH_ATTR_FLAG_WORKGROUP_SIZE_DYNAMIC (1ull << 1)

// Workgroup local memory is requested in pages of this size.
#define IRHAL_WORKGROUP_LOCAL_MEMORY_PAGE_SIZE 4096u

// Load-time limits on each export (Appendix C).
#define IRHAL_EXECUTABLE_MAX_CONSTANT_COUNT 64
#define IRHAL_EXECUTABLE_MAX_BINDING_COUNT 64

typedef struct irhal_executable_dispatch_attrs_v0_s {
  uint64_t flags;               // IRHAL_DISPATCH_ATTR_FLAG_* bits
  uint16_t local_memory_pages;  // scratch per workgroup, in 4096-byte pages
  uint8_t constant_count;       // 32-bit dispatch constants the export reads
  uint8_t binding_count;        // buffer bindings the export reads/writes
  uint32_t workgroup_size_x;
  uint32_t workgroup_size_y;
  uint16_t workgroup_size_z;
  uint16_t parameter_count;  // length of this export's params array
  uint64_t reserved[5];      // zero
} irhal_executable_dispatch_attrs_v0_t;

typedef enum irhal_executable_parameter_type_e {
  IRHAL_EXECUTABLE_PARAMETER_TYPE_CONSTANT = 0,
  IRHAL_EXECUTABLE_PARAMETER_TYPE_BINDING = 1,
  IRHAL_EXECUTABLE_PARAMETER_TYPE_BUFFER_PTR = 2,
} irhal_executable_parameter_type_t;

#define IRHAL_EXECUTABLE_PARAMETER_UNNAMED 0xFFFFu

// Reflection only: compiler-generated libraries leave params NULL.
typedef struct irhal_executable_dispatch_parameter_v0_s {
  uint8_t type;    // irhal_executable_parameter_type_t
  uint8_t size;    // bytes, no padding
  uint16_t flags;  // 0
  uint16_t name;   // index into parameter_names or ..._UNNAMED
  // Byte offset into the constants (CONSTANT/BUFFER_PTR) or binding ordinal
  // (BINDING).
  uint16_t offset;
} irhal_executable_dispatch_parameter_v0_t;

typedef struct irhal_executable_source_location_v0_s {
  uint32_t line;
  uint32_t path_length;
  const char* path;
} irhal_executable_source_location_v0_t;

typedef struct irhal_executable_stage_location_table_v0_s {
  uint32_t count;
  const char* const* names;  // sorted
  const irhal_executable_source_location_v0_t* locations;
} irhal_executable_stage_location_table_v0_t;

// Every array has |count| entries indexed by export ordinal; all but |ptrs|
// and |attrs| may be NULL.
typedef struct irhal_executable_export_table_v0_s {
  uint32_t count;
  const irhal_executable_dispatch_v0_t* ptrs;
  const irhal_executable_dispatch_attrs_v0_t* attrs;  // required
  const irhal_executable_dispatch_parameter_v0_t* const* params;
  const uint32_t* occupancy;  // reserved
  const char* const* names;
  const char* const* tags;
  const char* const* parameter_names;
  const irhal_executable_source_location_v0_t* source_locations;
  const irhal_executable_stage_location_table_v0_t* stage_locations;
} irhal_executable_export_table_v0_t;

//===----------------------------------------------------------------------===//
// Library struct (5.5.3, 5.5.8)
//===----------------------------------------------------------------------===//

typedef struct irhal_executable_constant_table_v0_s {
  uint32_t count;  // must equal the constants given to executable.create
} irhal_executable_constant_table_v0_t;

typedef struct irhal_executable_source_file_v0_s {
  uint32_t path_length;
  const char* path;
  uint32_t content_length;
  const char* content;
} irhal_executable_source_file_v0_t;

typedef struct irhal_executable_source_file_table_v0_s {
  uint32_t count;
  const irhal_executable_source_file_v0_t* files;
} irhal_executable_source_file_table_v0_t;

typedef struct irhal_executable_library_v0_s {
  const irhal_executable_library_header_t* header;
  irhal_executable_import_table_v0_t imports;
  irhal_executable_export_table_v0_t exports;
  irhal_executable_constant_table_v0_t constants;
  irhal_executable_source_file_table_v0_t sources;
} irhal_executable_library_v0_t;

//===----------------------------------------------------------------------===//
// Layout pins (LP64)
//===----------------------------------------------------------------------===//

#define IRHAL_ABI_ASSERT_SIZE(type, size) \
  _Static_assert(sizeof(type) == (size), #type " must be " #size " bytes")
#define IRHAL_ABI_ASSERT_OFFSET(type, field, offset) \
  _Static_assert(offsetof(type, field) == (offset),  \
                 #type "." #field " must be at offset " #offset)

_Static_assert(sizeof(void*) == 8 && sizeof(size_t) == 8,
               "the executable library ABI is only defined for LP64 hosts");

IRHAL_ABI_ASSERT_SIZE(irhal_executable_library_header_t, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_header_t, name, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_header_t, features, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_header_t, sanitizer, 20);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_import_table_v0_t, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_import_table_v0_t, symbols, 8);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_export_table_v0_t, 80);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, ptrs, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, attrs, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, params, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, occupancy, 32);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, names, 40);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, tags, 48);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, parameter_names,
                        56);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, source_locations,
                        64);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_export_table_v0_t, stage_locations,
                        72);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_dispatch_attrs_v0_t, 64);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t,
                        local_memory_pages, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, constant_count,
                        10);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, binding_count,
                        11);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, workgroup_size_x,
                        12);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, workgroup_size_y,
                        16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, workgroup_size_z,
                        20);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, parameter_count,
                        22);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_attrs_v0_t, reserved, 24);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_dispatch_parameter_v0_t, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_parameter_v0_t, size, 1);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_parameter_v0_t, flags, 2);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_parameter_v0_t, name, 4);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_parameter_v0_t, offset, 6);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_source_location_v0_t, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_source_location_v0_t, path, 8);
IRHAL_ABI_ASSERT_SIZE(irhal_executable_stage_location_table_v0_t, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_stage_location_table_v0_t, names, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_stage_location_table_v0_t, locations,
                        16);
IRHAL_ABI_ASSERT_SIZE(irhal_executable_source_file_v0_t, 32);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_source_file_v0_t, path, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_source_file_v0_t, content_length, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_source_file_v0_t, content, 24);
IRHAL_ABI_ASSERT_SIZE(irhal_executable_source_file_table_v0_t, 16);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_library_v0_t, 128);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_v0_t, imports, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_v0_t, exports, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_v0_t, constants, 104);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_library_v0_t, sources, 112);

IRHAL_ABI_ASSERT_SIZE(irhal_processor_v0_t, 64);
IRHAL_ABI_ASSERT_SIZE(irhal_executable_environment_v0_t, 96);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_environment_v0_t, import_thunk, 8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_environment_v0_t, import_funcs, 16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_environment_v0_t, import_contexts, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_environment_v0_t, processor, 32);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_dispatch_state_v0_t, 48);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, workgroup_size_z,
                        8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, constant_count,
                        10);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, workgroup_count_x,
                        12);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, workgroup_count_y,
                        16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, workgroup_count_z,
                        20);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, max_concurrency,
                        22);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, binding_count,
                        23);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, constants, 24);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, binding_ptrs, 32);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_dispatch_state_v0_t, binding_lengths,
                        40);

IRHAL_ABI_ASSERT_SIZE(irhal_executable_workgroup_state_v0_t, 32);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_workgroup_state_v0_t, workgroup_id_z,
                        8);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_workgroup_state_v0_t, reserved, 10);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_workgroup_state_v0_t, processor_id,
                        12);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_workgroup_state_v0_t, local_memory,
                        16);
IRHAL_ABI_ASSERT_OFFSET(irhal_executable_workgroup_state_v0_t,
                        local_memory_size, 24);

#endif  // IRHAL_CPU_EXECUTABLE_LIBRARY_H
