// Internal to runtime/vm/builder: the state behind module_builder.h, shared
// by module_builder.c (metadata and file writing) and function_builder.c
// (instruction encoding).
#ifndef IRVM_BUILDER_MODULE_BUILDER_INTERNAL_H
#define IRVM_BUILDER_MODULE_BUILDER_INTERNAL_H

#include "runtime/base/arena.h"
#include "runtime/vm/builder/growable.h"
#include "runtime/vm/builder/module_builder.h"

typedef struct irvm_attr_entry_s {
  const char* key;
  const char* value;
} irvm_attr_entry_t;

typedef struct irvm_dependency_entry_s {
  const char* name;
  uint32_t minimum_version;
  uint32_t flags;
} irvm_dependency_entry_t;

typedef struct irvm_import_entry_s {
  const char* full_name;
  const char* cconv;  // NULL: no signature table
  uint32_t flags;
} irvm_import_entry_t;

typedef struct irvm_export_entry_s {
  const char* local_name;
  uint32_t internal_ordinal;
} irvm_export_entry_t;

typedef struct irvm_rodata_entry_s {
  const uint8_t* data;  // arena copy
  size_t length;
  bool external;
  uint32_t alignment;
  const char* entry_name;  // ZIP entry name of external data
} irvm_rodata_entry_t;

typedef struct irvm_location_entry_s {
  uint8_t kind;              // LocationTypeDef union tag (1..4)
  int32_t a, b;              // callee/caller, line/column, child (b < 0: none)
  const char* text;          // filename, name or metadata (NULL: none)
  const int32_t* locations;  // fused children (arena)
  size_t location_count;
} irvm_location_entry_t;

#define IRVM_LOCATION_TAG_CALL_SITE 1
#define IRVM_LOCATION_TAG_FILE_LINE_COL 2
#define IRVM_LOCATION_TAG_FUSED 3
#define IRVM_LOCATION_TAG_NAME 4

struct irvm_module_builder_s {
  irt_allocator_t allocator;
  irt_arena_t arena;  // every copied string and rodata segment
  const char* name;
  uint32_t version;
  uint32_t global_bytes_capacity;
  uint32_t global_ref_count;
  irvm_module_overrides_t overrides;
  irvm_growable_t attrs;         // irvm_attr_entry_t
  irvm_growable_t types;         // const char*, indexed by handle
  irvm_growable_t dependencies;  // irvm_dependency_entry_t
  irvm_growable_t imports;       // irvm_import_entry_t
  irvm_growable_t exports;       // irvm_export_entry_t
  irvm_growable_t rodata;        // irvm_rodata_entry_t
  irvm_growable_t locations;     // irvm_location_entry_t
  irvm_growable_t functions;     // irvm_function_builder_t*
};

// Places of the code that finish patches (offsets from the function start).
typedef struct irvm_code_fixup_s {
  uint32_t offset;
  uint32_t value;  // label index or type handle
} irvm_code_fixup_t;

// An ordinal operand checked against the module tables at finish.
typedef struct irvm_code_reference_s {
  uint32_t pc;          // of the instruction
  uint32_t value;       // the ordinal / function reference / byte offset
  char letter;          // layout letter: f d g G
  uint8_t access_size;  // g: bytes accessed (4 or 8)
} irvm_code_reference_t;

typedef struct irvm_source_map_pair_s {
  int32_t pc;
  int32_t location;
} irvm_source_map_pair_t;

#define IRVM_LABEL_UNBOUND UINT32_MAX

struct irvm_function_builder_s {
  irvm_module_builder_t* module;
  uint32_t ordinal;
  uint32_t flags;  // IRVM_FUNCTION_*
  const char* cconv;
  const char* debug_name;
  irvm_growable_t code;
  irvm_growable_t labels;        // uint32_t pc of each label's marker
  irvm_growable_t label_fixups;  // irvm_code_fixup_t: u32 target fields
  irvm_growable_t type_fixups;   // irvm_code_fixup_t: u32 type fields
  irvm_growable_t references;    // irvm_code_reference_t
  irvm_growable_t source_map;    // irvm_source_map_pair_t
  irvm_growable_t attrs;         // irvm_attr_entry_t
  int32_t pending_location;      // < 0: none
  uint32_t i32_register_count;   // highest i32 cell used + 1
  uint32_t ref_register_count;   // highest ref used + 1
  uint32_t requirements;         // FeatureBits of the emitted instructions
  uint32_t block_count;          // markers emitted
  bool in_block;                 // a block is open (not yet terminated)
  irvm_function_overrides_t overrides;
};

// Copies |text| into the builder's arena.
irt_status_t irvm_module_builder_strdup(irvm_module_builder_t* builder,
                                        const char* text,
                                        const char** out_copy) IRT_MUST_USE;

// Validates a calling-convention string (spec 4.2) and returns the i32 and
// ref registers its arguments occupy (spec 5.3). Spans are accepted only
// when |allow_spans| (imports). |what| names the string in errors.
irt_status_t irvm_builder_check_cconv(const char* cconv, bool allow_spans,
                                      const char* what, uint32_t* out_i32_count,
                                      uint32_t* out_ref_count) IRT_MUST_USE;

irt_status_t irvm_function_builder_create(
    irvm_module_builder_t* builder, const char* cconv, uint32_t flags,
    uint32_t ordinal, irvm_function_builder_t** out_fn) IRT_MUST_USE;
void irvm_function_builder_destroy(irvm_function_builder_t* fn);

// Checks the function can be encoded (blocks closed, labels bound, and,
// unless |skip_reference_checks|, ordinals in range of the module tables).
irt_status_t irvm_function_builder_check(
    const irvm_function_builder_t* fn, bool skip_reference_checks) IRT_MUST_USE;
// Copies the code to |out| (bytecode length bytes) with branch targets and
// type ids patched; |type_ranks| maps type handles to sorted indices.
void irvm_function_builder_write_code(const irvm_function_builder_t* fn,
                                      const uint32_t* type_ranks, uint8_t* out);

#endif  // IRVM_BUILDER_MODULE_BUILDER_INTERNAL_H
