// The parsed, verified contents of a `.vmfb` file (BytecodeModuleDef).
//
// irvm_module_def_parse() walks the container (optional ZIP local header,
// size prefix, FlatBuffer, rodata base), verifies every FlatBuffer offset,
// vtable, string and vector before reading it, applies the load-time checks
// of the spec (section 3.7, except type resolution and bytecode
// verification, which need a runtime), and fills plain C arrays. Strings,
// rodata and bytecode point into the caller's file data, which must outlive
// the definition; the arrays live in the definition's arena.
#ifndef IRVM_FORMAT_MODULE_DEF_H
#define IRVM_FORMAT_MODULE_DEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/base/arena.h"
#include "runtime/base/status.h"
#include "runtime/base/string_view.h"

// FeatureBits.
#define IRVM_FEATURE_EXT_F32 0x1u
#define IRVM_FEATURE_EXT_F64 0x2u
#define IRVM_FEATURE_YIELD 0x4u
#define IRVM_FEATURE_UNWIND 0x8u
#define IRVM_FEATURES_ALL 0xFu

// ModuleDependencyFlagBits and ImportFlagBits (absent field = REQUIRED).
#define IRVM_FLAG_REQUIRED 0x1u
#define IRVM_FLAG_OPTIONAL 0x2u

// Function references in bytecode: bit 31 selects the import table.
#define IRVM_FUNCTION_IMPORT_BIT 0x80000000u

typedef struct irvm_attr_def_s {
  irt_string_view_t key;
  irt_string_view_t value;
} irvm_attr_def_t;

typedef struct irvm_signature_def_s {
  irt_string_view_t calling_convention;  // "" when absent
  uint32_t attr_count;
  const irvm_attr_def_t* attrs;
} irvm_signature_def_t;

typedef struct irvm_dependency_def_s {
  irt_string_view_t name;
  uint32_t minimum_version;
  uint32_t flags;
} irvm_dependency_def_t;

typedef struct irvm_import_def_s {
  irt_string_view_t full_name;  // "hal.buffer_view.create"
  irvm_signature_def_t signature;
  uint32_t flags;
} irvm_import_def_t;

typedef struct irvm_export_def_s {
  irt_string_view_t local_name;
  uint32_t internal_ordinal;  // verified < function_count
} irvm_export_def_t;

typedef struct irvm_rodata_def_s {
  const uint8_t* data;  // into the file (embedded or external)
  uint64_t length;
  bool is_external;
  uint64_t external_offset;  // external_data_offset (from rodata_base)
  uint64_t file_offset;      // absolute offset of |data| in the file
} irvm_rodata_def_t;

// FunctionDescriptor, decoded (the struct in the file is 20 bytes, 4-aligned).
typedef struct irvm_function_descriptor_s {
  uint32_t bytecode_offset;  // verified: offset + length <= bytecode_size
  uint32_t bytecode_length;  // verified != 0
  uint32_t requirements;
  uint16_t block_count;         // verified != 0
  uint16_t i32_register_count;  // verified <= 0x7FFF
  uint16_t ref_register_count;  // verified <= 0x3FFF
} irvm_function_descriptor_t;

typedef enum irvm_location_kind_e {
  IRVM_LOCATION_NONE = 0,
  IRVM_LOCATION_CALL_SITE = 1,
  IRVM_LOCATION_FILE_LINE_COL = 2,
  IRVM_LOCATION_FUSED = 3,
  IRVM_LOCATION_NAME = 4,
} irvm_location_kind_t;

// One location-table entry. Indices into the table are NOT verified against
// the table size (the database is advisory): users bounds-check them.
typedef struct irvm_location_def_s {
  irvm_location_kind_t kind;
  union {
    struct {
      int32_t callee, caller;
    } call_site;
    struct {
      irt_string_view_t filename;
      int32_t line, column;
    } file_line_col;
    struct {
      irt_string_view_t metadata;
      uint32_t count;
      const int32_t* locations;
    } fused;
    struct {
      irt_string_view_t name;
      int32_t child_location;
      bool has_child;
    } name;
  };
} irvm_location_def_t;

typedef struct irvm_source_map_entry_s {
  int32_t bytecode_offset;
  int32_t location;
} irvm_source_map_entry_t;

typedef struct irvm_source_map_def_s {
  irt_string_view_t local_name;
  uint32_t entry_count;
  const irvm_source_map_entry_t* entries;  // sorted by bytecode_offset
} irvm_source_map_def_t;

typedef struct irvm_debug_database_def_s {
  uint32_t location_count;
  const irvm_location_def_t* locations;
  uint32_t function_count;  // often 1 regardless of functions (spec 3.9)
  const irvm_source_map_def_t* functions;
} irvm_debug_database_def_t;

typedef struct irvm_module_def_s {
  irt_arena_t arena;  // owns every array below

  // The container.
  const uint8_t* file_data;
  size_t file_size;
  bool has_zip_header;
  uint64_t flatbuffer_offset;  // F: file offset of the FlatBuffer's byte 0
  uint64_t flatbuffer_size;    // L: the size prefix
  uint64_t rodata_base;        // R: align(F + L, 64)

  irt_string_view_t name;
  uint32_t version;
  uint32_t requirements;      // FeatureBits
  uint32_t bytecode_version;  // major << 16 | minor (verified 17.0)

  uint32_t attr_count;
  const irvm_attr_def_t* attrs;
  uint32_t type_count;
  const irt_string_view_t* types;  // full_name of each TypeDef (non-empty)
  uint32_t dependency_count;
  const irvm_dependency_def_t* dependencies;
  uint32_t import_count;
  const irvm_import_def_t* imports;
  uint32_t export_count;
  const irvm_export_def_t* exports;
  // Internal functions: signatures and descriptors are parallel arrays.
  uint32_t function_count;
  const irvm_signature_def_t* function_signatures;
  const irvm_function_descriptor_t* function_descriptors;
  uint32_t rodata_count;
  const irvm_rodata_def_t* rodata;

  uint32_t global_bytes_capacity;
  uint32_t global_ref_count;

  const uint8_t* bytecode_data;
  size_t bytecode_size;

  bool has_debug_database;
  irvm_debug_database_def_t debug_database;
} irvm_module_def_t;

// Parses |size| bytes at |data| (the whole file; keep it alive and
// unmodified). Errors are INVALID_ARGUMENT with a message naming the field
// and the reason, e.g. "bytecode version 16.0 is not supported (expected
// 17.0)" or "exported_functions[1].internal_ordinal 9 out of range (3
// functions)". On failure |out_def| needs no deinit.
irt_status_t irvm_module_def_parse(const uint8_t* data, size_t size,
                                   irt_allocator_t allocator,
                                   irvm_module_def_t* out_def) IRT_MUST_USE;
void irvm_module_def_deinit(irvm_module_def_t* def);

// Looks up an export by local name; returns its index or -1.
int32_t irvm_module_def_find_export(const irvm_module_def_t* def,
                                    irt_string_view_t name);
// Looks up an attribute value by key in |attrs|; returns false (and an
// empty value) if absent.
bool irvm_attrs_lookup(uint32_t attr_count, const irvm_attr_def_t* attrs,
                       const char* key, irt_string_view_t* out_value);

// Formats FeatureBits as "EXT_F32|YIELD" ("none" for 0, unknown bits in hex)
// like snprintf: returns the length the full text needs.
size_t irvm_features_format(uint32_t features, char* buffer, size_t capacity);

#endif  // IRVM_FORMAT_MODULE_DEF_H
