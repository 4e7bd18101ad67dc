#include "runtime/vm/format/module_def.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/base/version.h"
#include "runtime/vm/format/flatbuffer.h"

#define IRVM_ZIP_LOCAL_HEADER_SIGNATURE 0x04034B50u
#define IRVM_ZIP_LOCAL_HEADER_SIZE 30u
#define IRVM_RODATA_BASE_ALIGNMENT 64u
#define IRVM_SUPPORTED_BYTECODE_VERSION              \
  (((uint32_t)IRT_VM_BYTECODE_VERSION_MAJOR << 16) | \
   (uint32_t)IRT_VM_BYTECODE_VERSION_MINOR)

// BytecodeModuleDef field ids (spec 3.2).
enum {
  IRVM_MODULE_NAME = 0,
  IRVM_MODULE_VERSION = 1,
  IRVM_MODULE_REQUIREMENTS = 2,
  IRVM_MODULE_ATTRS = 3,
  IRVM_MODULE_TYPES = 4,
  IRVM_MODULE_DEPENDENCIES = 5,
  IRVM_MODULE_IMPORTED_FUNCTIONS = 6,
  IRVM_MODULE_EXPORTED_FUNCTIONS = 7,
  IRVM_MODULE_FUNCTION_SIGNATURES = 8,
  IRVM_MODULE_RODATA_SEGMENTS = 9,
  IRVM_MODULE_RWDATA_SEGMENTS = 10,
  IRVM_MODULE_MODULE_STATE = 11,
  IRVM_MODULE_FUNCTION_DESCRIPTORS = 12,
  IRVM_MODULE_BYTECODE_VERSION = 13,
  IRVM_MODULE_BYTECODE_DATA = 14,
  IRVM_MODULE_DEBUG_DATABASE = 15,
};

#define IRVM_FUNCTION_DESCRIPTOR_SIZE 20u
#define IRVM_BYTECODE_LOCATION_SIZE 8u

// Parser state: the reader, the definition being filled and the path of the
// field being read, so every error names it ("imported_functions[3].name").
typedef struct irvm_parser_s {
  irvm_fb_reader_t fb;
  irvm_module_def_t* def;
  char path[256];
  size_t path_length;
  // The two parallel tables, until check 8 of spec 3.7 proves them equal.
  uint32_t signature_count;
  uint32_t descriptor_count;
} irvm_parser_t;

// Appends a path segment (".name" or "[i]" style text given by |format|);
// returns the previous length for irvm_path_pop.
IRT_PRINTF_LIKE(2, 3)
static size_t irvm_path_push(irvm_parser_t* p, const char* format, ...) {
  size_t previous = p->path_length;
  size_t room = sizeof(p->path) - p->path_length;
  if (p->path_length && format[0] != '[' && room > 1) {
    p->path[p->path_length++] = '.';
    --room;
  }
  va_list args;
  va_start(args, format);
  int written = vsnprintf(p->path + p->path_length, room, format, args);
  va_end(args);
  if (written > 0) {
    p->path_length += (size_t)written < room ? (size_t)written : room - 1;
  }
  return previous;
}

static void irvm_path_pop(irvm_parser_t* p, size_t length) {
  p->path_length = length;
  p->path[length] = 0;
}

// Names the field |field| (relative to the current path) on |status|.
static irt_status_t irvm_field_error(irvm_parser_t* p, irt_status_t status,
                                     const char* field) {
  return irt_status_annotate(status, "in %s%s%s", p->path,
                             (p->path_length && field[0]) ? "." : "", field);
}

#define IRVM_READ(p, expr, field)                               \
  do {                                                          \
    irt_status_t irvm_read_status_ = (expr);                    \
    if (irvm_read_status_ != IRT_OK) {                          \
      return irvm_field_error((p), irvm_read_status_, (field)); \
    }                                                           \
  } while (0)

static irt_status_t irvm_alloc_array(irvm_parser_t* p, uint32_t count,
                                     size_t element_size, void** out_array) {
  size_t bytes = 0;
  if (!irt_mul_size(count, element_size, &bytes)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "%s: %u elements overflow the address space",
                           p->path, count);
  }
  IRT_RETURN_IF_ERROR(irt_arena_alloc(&p->def->arena, bytes, 8, out_array));
  if (bytes) memset(*out_array, 0, bytes);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Leaf tables
//===----------------------------------------------------------------------===//

// Opens the vector of tables |field| (id |id|) of |table| and allocates
// |element_size| * count bytes for the parsed elements.
static irt_status_t irvm_open_table_vector(irvm_parser_t* p,
                                           const irvm_fb_table_t* table,
                                           uint16_t id, const char* field,
                                           size_t element_size,
                                           irvm_fb_vector_t* out_vector,
                                           void** out_array) {
  IRVM_READ(p, irvm_fb_table_vector(table, id, 4, 4, out_vector), field);
  size_t path = irvm_path_push(p, "%s", field);
  irt_status_t status =
      irvm_alloc_array(p, out_vector->count, element_size, out_array);
  irvm_path_pop(p, path);
  return status;
}

// Element |index| of a table vector named |field|; pushes "field[index]"
// onto the path (the caller pops it to |*out_path|).
static irt_status_t irvm_vector_element(irvm_parser_t* p,
                                        const irvm_fb_vector_t* vector,
                                        const char* field, uint32_t index,
                                        irvm_fb_table_t* out_table,
                                        size_t* out_path) {
  *out_path = irvm_path_push(p, "%s[%u]", field, index);
  IRVM_READ(p, irvm_fb_vector_table(vector, index, out_table), "");
  return IRT_OK;
}

// AttrDef: 0 key, 1 value.
static irt_status_t irvm_parse_attrs(irvm_parser_t* p,
                                     const irvm_fb_table_t* table, uint16_t id,
                                     uint32_t* out_count,
                                     const irvm_attr_def_t** out_attrs) {
  irvm_fb_vector_t vector;
  irvm_attr_def_t* attrs = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, table, id, "attrs", sizeof(*attrs), &vector, (void**)&attrs));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t attr;
    size_t path = 0;
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "attrs", i, &attr, &path));
    IRVM_READ(p, irvm_fb_table_string(&attr, 0, &attrs[i].key, NULL), "key");
    IRVM_READ(p, irvm_fb_table_string(&attr, 1, &attrs[i].value, NULL),
              "value");
    irvm_path_pop(p, path);
  }
  *out_count = vector.count;
  *out_attrs = attrs;
  return IRT_OK;
}

// FunctionSignatureDef: 0 calling_convention, 1 attrs.
static irt_status_t irvm_parse_signature(irvm_parser_t* p,
                                         const irvm_fb_table_t* table,
                                         irvm_signature_def_t* out_signature) {
  IRVM_READ(
      p,
      irvm_fb_table_string(table, 0, &out_signature->calling_convention, NULL),
      "calling_convention");
  return irvm_parse_attrs(p, table, 1, &out_signature->attr_count,
                          &out_signature->attrs);
}

static irt_status_t irvm_parse_types(irvm_parser_t* p,
                                     const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_vector_t vector;
  irt_string_view_t* types = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(p, root, IRVM_MODULE_TYPES,
                                             "types", sizeof(*types), &vector,
                                             (void**)&types));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t type;
    size_t path = 0;
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "types", i, &type, &path));
    IRVM_READ(p, irvm_fb_table_string(&type, 0, &types[i], NULL), "full_name");
    irvm_path_pop(p, path);
  }
  def->type_count = vector.count;
  def->types = types;
  return IRT_OK;
}

static irt_status_t irvm_parse_dependencies(irvm_parser_t* p,
                                            const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_vector_t vector;
  irvm_dependency_def_t* dependencies = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, root, IRVM_MODULE_DEPENDENCIES, "dependencies", sizeof(*dependencies),
      &vector, (void**)&dependencies));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    irvm_dependency_def_t* dependency = &dependencies[i];
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "dependencies", i, &table, &path));
    IRVM_READ(p, irvm_fb_table_string(&table, 0, &dependency->name, NULL),
              "name");
    IRVM_READ(p, irvm_fb_table_u32(&table, 1, 0, &dependency->minimum_version),
              "minimum_version");
    IRVM_READ(
        p, irvm_fb_table_u32(&table, 2, IRVM_FLAG_REQUIRED, &dependency->flags),
        "flags");
    irvm_path_pop(p, path);
  }
  def->dependency_count = vector.count;
  def->dependencies = dependencies;
  return IRT_OK;
}

// ImportFunctionDef: 0 full_name, 1 signature, 2 flags.
static irt_status_t irvm_parse_imports(irvm_parser_t* p,
                                       const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_vector_t vector;
  irvm_import_def_t* imports = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, root, IRVM_MODULE_IMPORTED_FUNCTIONS, "imported_functions",
      sizeof(*imports), &vector, (void**)&imports));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    irvm_import_def_t* import = &imports[i];
    IRT_RETURN_IF_ERROR(irvm_vector_element(p, &vector, "imported_functions", i,
                                            &table, &path));
    IRVM_READ(p, irvm_fb_table_string(&table, 0, &import->full_name, NULL),
              "full_name");
    irvm_fb_table_t signature;
    bool has_signature = false;
    IRVM_READ(p, irvm_fb_table_table(&table, 1, &signature, &has_signature),
              "signature");
    import->signature.calling_convention = irt_make_string_view("", 0);
    if (has_signature) {
      size_t signature_path = irvm_path_push(p, "signature");
      IRT_RETURN_IF_ERROR(
          irvm_parse_signature(p, &signature, &import->signature));
      irvm_path_pop(p, signature_path);
    }
    IRVM_READ(p,
              irvm_fb_table_u32(&table, 2, IRVM_FLAG_REQUIRED, &import->flags),
              "flags");
    irvm_path_pop(p, path);
  }
  def->import_count = vector.count;
  def->imports = imports;
  return IRT_OK;
}

// ExportFunctionDef: 0 local_name, 1 internal_ordinal (range-checked later).
static irt_status_t irvm_parse_exports(irvm_parser_t* p,
                                       const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_vector_t vector;
  irvm_export_def_t* exports = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, root, IRVM_MODULE_EXPORTED_FUNCTIONS, "exported_functions",
      sizeof(*exports), &vector, (void**)&exports));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    IRT_RETURN_IF_ERROR(irvm_vector_element(p, &vector, "exported_functions", i,
                                            &table, &path));
    IRVM_READ(p, irvm_fb_table_string(&table, 0, &exports[i].local_name, NULL),
              "local_name");
    IRVM_READ(p, irvm_fb_table_u32(&table, 1, 0, &exports[i].internal_ordinal),
              "internal_ordinal");
    irvm_path_pop(p, path);
  }
  def->export_count = vector.count;
  def->exports = exports;
  return IRT_OK;
}

static irt_status_t irvm_parse_signatures(irvm_parser_t* p,
                                          const irvm_fb_table_t* root,
                                          uint32_t* out_count) {
  irvm_fb_vector_t vector;
  irvm_signature_def_t* signatures = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, root, IRVM_MODULE_FUNCTION_SIGNATURES, "function_signatures",
      sizeof(*signatures), &vector, (void**)&signatures));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    IRT_RETURN_IF_ERROR(irvm_vector_element(p, &vector, "function_signatures",
                                            i, &table, &path));
    IRT_RETURN_IF_ERROR(irvm_parse_signature(p, &table, &signatures[i]));
    irvm_path_pop(p, path);
  }
  p->def->function_signatures = signatures;
  *out_count = vector.count;
  return IRT_OK;
}

// RodataSegmentDef: 0/1 compression_type union (verified, ignored),
// 2 embedded_data, 3 external_data_offset, 4 external_data_length. External
// ranges are resolved by the load-time checks.
static irt_status_t irvm_parse_rodata(irvm_parser_t* p,
                                      const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_vector_t vector;
  irvm_rodata_def_t* segments = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, root, IRVM_MODULE_RODATA_SEGMENTS, "rodata_segments",
      sizeof(*segments), &vector, (void**)&segments));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    irvm_rodata_def_t* segment = &segments[i];
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "rodata_segments", i, &table, &path));
    uint8_t compression_tag = 0;
    irvm_fb_table_t compression;
    bool has_compression = false;
    IRVM_READ(p,
              irvm_fb_table_union(&table, 0, &compression_tag, &compression,
                                  &has_compression),
              "compression_type");
    irvm_fb_vector_t embedded;
    IRVM_READ(p, irvm_fb_table_vector(&table, 2, 1, 1, &embedded),
              "embedded_data");
    if (embedded.present) {
      segment->data = irvm_fb_vector_element(&embedded, 0);
      segment->length = embedded.count;
      segment->file_offset = def->flatbuffer_offset + embedded.position;
    } else {
      segment->is_external = true;
      IRVM_READ(p, irvm_fb_table_u64(&table, 3, 0, &segment->external_offset),
                "external_data_offset");
      IRVM_READ(p, irvm_fb_table_u64(&table, 4, 0, &segment->length),
                "external_data_length");
    }
    irvm_path_pop(p, path);
  }
  def->rodata_count = vector.count;
  def->rodata = segments;
  return IRT_OK;
}

// Unused by the runtime; verified so that the whole buffer is.
static irt_status_t irvm_parse_rwdata(irvm_parser_t* p,
                                      const irvm_fb_table_t* root) {
  irvm_fb_vector_t vector;
  IRVM_READ(
      p, irvm_fb_table_vector(root, IRVM_MODULE_RWDATA_SEGMENTS, 4, 4, &vector),
      "rwdata_segments");
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    int32_t byte_size = 0;
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "rwdata_segments", i, &table, &path));
    IRVM_READ(p, irvm_fb_table_i32(&table, 0, 0, &byte_size), "byte_size");
    irvm_path_pop(p, path);
  }
  return IRT_OK;
}

static irt_status_t irvm_parse_module_state(irvm_parser_t* p,
                                            const irvm_fb_table_t* root) {
  irvm_fb_table_t table;
  bool present = false;
  IRVM_READ(
      p, irvm_fb_table_table(root, IRVM_MODULE_MODULE_STATE, &table, &present),
      "module_state");
  if (!present) return IRT_OK;
  int32_t capacity = 0, ref_count = 0;
  IRVM_READ(p, irvm_fb_table_i32(&table, 0, 0, &capacity),
            "module_state.global_bytes_capacity");
  IRVM_READ(p, irvm_fb_table_i32(&table, 1, 0, &ref_count),
            "module_state.global_ref_count");
  if (capacity < 0 || ref_count < 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module_state has a negative size "
                           "(global_bytes_capacity %d, global_ref_count %d)",
                           capacity, ref_count);
  }
  p->def->global_bytes_capacity = (uint32_t)capacity;
  p->def->global_ref_count = (uint32_t)ref_count;
  return IRT_OK;
}

// FunctionDescriptor structs (spec 3.5); values are checked later.
static irt_status_t irvm_parse_descriptors(irvm_parser_t* p,
                                           const irvm_fb_table_t* root,
                                           uint32_t* out_count) {
  irvm_fb_vector_t vector;
  IRVM_READ(p,
            irvm_fb_table_vector(root, IRVM_MODULE_FUNCTION_DESCRIPTORS,
                                 IRVM_FUNCTION_DESCRIPTOR_SIZE, 4, &vector),
            "function_descriptors");
  irvm_function_descriptor_t* descriptors = NULL;
  size_t path = irvm_path_push(p, "function_descriptors");
  IRT_RETURN_IF_ERROR(irvm_alloc_array(p, vector.count, sizeof(*descriptors),
                                       (void**)&descriptors));
  irvm_path_pop(p, path);
  for (uint32_t i = 0; i < vector.count; ++i) {
    const uint8_t* bytes = irvm_fb_vector_element(&vector, i);
    irvm_function_descriptor_t* descriptor = &descriptors[i];
    descriptor->bytecode_offset = irvm_load_u32(bytes + 0);
    descriptor->bytecode_length = irvm_load_u32(bytes + 4);
    descriptor->requirements = irvm_load_u32(bytes + 8);
    // bytes 12..13: reserved (not checked, like the reference).
    descriptor->block_count = irvm_load_u16(bytes + 14);
    descriptor->i32_register_count = irvm_load_u16(bytes + 16);
    descriptor->ref_register_count = irvm_load_u16(bytes + 18);
  }
  p->def->function_descriptors = descriptors;
  *out_count = vector.count;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Debug database (advisory: indices are not checked, spec 3.9)
//===----------------------------------------------------------------------===//

// Copies a [i32] vector into the arena.
static irt_status_t irvm_copy_i32_vector(irvm_parser_t* p,
                                         const irvm_fb_vector_t* vector,
                                         const int32_t** out_values) {
  int32_t* values = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_alloc_array(p, vector->count, sizeof(*values), (void**)&values));
  for (uint32_t i = 0; i < vector->count; ++i) {
    values[i] = (int32_t)irvm_load_u32(irvm_fb_vector_element(vector, i));
  }
  *out_values = values;
  return IRT_OK;
}

static irt_status_t irvm_parse_location(irvm_parser_t* p, uint8_t tag,
                                        const irvm_fb_table_t* table,
                                        irvm_location_def_t* out_location) {
  switch (tag) {
    case IRVM_LOCATION_CALL_SITE:
      IRVM_READ(p,
                irvm_fb_table_i32(table, 0, 0, &out_location->call_site.callee),
                "callee");
      IRVM_READ(p,
                irvm_fb_table_i32(table, 1, 0, &out_location->call_site.caller),
                "caller");
      break;
    case IRVM_LOCATION_FILE_LINE_COL:
      IRVM_READ(p,
                irvm_fb_table_string(
                    table, 0, &out_location->file_line_col.filename, NULL),
                "filename");
      IRVM_READ(
          p, irvm_fb_table_i32(table, 1, 0, &out_location->file_line_col.line),
          "line");
      IRVM_READ(
          p,
          irvm_fb_table_i32(table, 2, 0, &out_location->file_line_col.column),
          "column");
      break;
    case IRVM_LOCATION_FUSED: {
      IRVM_READ(
          p,
          irvm_fb_table_string(table, 0, &out_location->fused.metadata, NULL),
          "metadata");
      irvm_fb_vector_t locations;
      IRVM_READ(p, irvm_fb_table_vector(table, 1, 4, 4, &locations),
                "locations");
      IRT_RETURN_IF_ERROR(
          irvm_copy_i32_vector(p, &locations, &out_location->fused.locations));
      out_location->fused.count = locations.count;
      break;
    }
    case IRVM_LOCATION_NAME:
      IRVM_READ(p,
                irvm_fb_table_string(table, 0, &out_location->name.name, NULL),
                "name");
      out_location->name.has_child = irvm_fb_table_has(table, 1);
      IRVM_READ(
          p, irvm_fb_table_i32(table, 1, 0, &out_location->name.child_location),
          "child_location");
      break;
    default:
      // Unknown kinds (newer compilers) stay NONE: the database is advisory.
      return IRT_OK;
  }
  out_location->kind = (irvm_location_kind_t)tag;
  return IRT_OK;
}

static irt_status_t irvm_parse_source_maps(irvm_parser_t* p,
                                           const irvm_fb_table_t* database,
                                           irvm_debug_database_def_t* out_db) {
  irvm_fb_vector_t vector;
  irvm_source_map_def_t* maps = NULL;
  IRT_RETURN_IF_ERROR(irvm_open_table_vector(
      p, database, 2, "functions", sizeof(*maps), &vector, (void**)&maps));
  for (uint32_t i = 0; i < vector.count; ++i) {
    irvm_fb_table_t table;
    size_t path = 0;
    IRT_RETURN_IF_ERROR(
        irvm_vector_element(p, &vector, "functions", i, &table, &path));
    IRVM_READ(p, irvm_fb_table_string(&table, 0, &maps[i].local_name, NULL),
              "local_name");
    irvm_fb_vector_t entries;
    IRVM_READ(p,
              irvm_fb_table_vector(&table, 1, IRVM_BYTECODE_LOCATION_SIZE, 4,
                                   &entries),
              "locations");
    irvm_source_map_entry_t* copies = NULL;
    IRT_RETURN_IF_ERROR(
        irvm_alloc_array(p, entries.count, sizeof(*copies), (void**)&copies));
    for (uint32_t k = 0; k < entries.count; ++k) {
      const uint8_t* bytes = irvm_fb_vector_element(&entries, k);
      copies[k].bytecode_offset = (int32_t)irvm_load_u32(bytes);
      copies[k].location = (int32_t)irvm_load_u32(bytes + 4);
    }
    maps[i].entry_count = entries.count;
    maps[i].entries = copies;
    irvm_path_pop(p, path);
  }
  out_db->function_count = vector.count;
  out_db->functions = maps;
  return IRT_OK;
}

// DebugDatabaseDef: 0/1 location_table (union vector), 2 functions.
static irt_status_t irvm_parse_debug_database(irvm_parser_t* p,
                                              const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  irvm_fb_table_t database;
  IRVM_READ(p,
            irvm_fb_table_table(root, IRVM_MODULE_DEBUG_DATABASE, &database,
                                &def->has_debug_database),
            "debug_database");
  if (!def->has_debug_database) return IRT_OK;
  size_t path = irvm_path_push(p, "debug_database");
  irvm_fb_vector_t tags, values;
  IRVM_READ(p, irvm_fb_table_union_vector(&database, 0, &tags, &values),
            "location_table");
  irvm_location_def_t* locations = NULL;
  IRT_RETURN_IF_ERROR(irvm_alloc_array(p, values.count, sizeof(*locations),
                                       (void**)&locations));
  for (uint32_t i = 0; i < values.count; ++i) {
    size_t element_path = irvm_path_push(p, "location_table[%u]", i);
    uint8_t tag = 0;
    irvm_fb_table_t table;
    bool present = false;
    IRVM_READ(
        p, irvm_fb_union_vector_get(&tags, &values, i, &tag, &table, &present),
        "");
    if (present) {
      IRT_RETURN_IF_ERROR(irvm_parse_location(p, tag, &table, &locations[i]));
    }
    irvm_path_pop(p, element_path);
  }
  def->debug_database.location_count = values.count;
  def->debug_database.locations = locations;
  IRT_RETURN_IF_ERROR(
      irvm_parse_source_maps(p, &database, &def->debug_database));
  irvm_path_pop(p, path);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Container and root
//===----------------------------------------------------------------------===//

// Spec 1.2-1.3: skips the ZIP local header and locates F, L and R.
static irt_status_t irvm_parse_container(irvm_module_def_t* def) {
  const uint8_t* data = def->file_data;
  size_t size = def->file_size;
  uint64_t start = 0;
  if (size >= IRVM_ZIP_LOCAL_HEADER_SIZE &&
      irvm_load_u32(data) == IRVM_ZIP_LOCAL_HEADER_SIGNATURE) {
    start = IRVM_ZIP_LOCAL_HEADER_SIZE + (uint64_t)irvm_load_u16(data + 26) +
            irvm_load_u16(data + 28);
    if (start > size) {
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "archive self-reports as a zip but does not have enough data (its "
          "first entry starts at %llu, the file has %zu bytes)",
          (unsigned long long)start, size);
    }
    def->has_zip_header = true;
  }
  uint64_t available = size - start;
  if (available < 16) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "not a VM bytecode module: FlatBuffer data is not "
                           "present or less than 16 bytes (%llu bytes)",
                           (unsigned long long)available);
  }
  uint32_t length = irvm_load_u32(data + start);
  if (length > available - 4) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "not a VM bytecode module: FlatBuffer length prefix "
                           "%u out of bounds (%llu bytes follow it)",
                           length, (unsigned long long)(available - 4));
  }
  def->flatbuffer_offset = start + 4;
  def->flatbuffer_size = length;
  // Cannot overflow: both terms are below 2^33.
  irt_align_up_u64(def->flatbuffer_offset + length, IRVM_RODATA_BASE_ALIGNMENT,
                   &def->rodata_base);
  return IRT_OK;
}

// Reads every field of the verified root into |def| (spec 2.2, 3.2).
static irt_status_t irvm_parse_root(irvm_parser_t* p,
                                    const irvm_fb_table_t* root) {
  irvm_module_def_t* def = p->def;
  bool has_name = false;
  IRVM_READ(p,
            irvm_fb_table_string(root, IRVM_MODULE_NAME, &def->name, &has_name),
            "name");
  if (!has_name) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "required field name is missing");
  }
  IRVM_READ(p, irvm_fb_table_u32(root, IRVM_MODULE_VERSION, 0, &def->version),
            "version");
  IRVM_READ(
      p,
      irvm_fb_table_u32(root, IRVM_MODULE_REQUIREMENTS, 0, &def->requirements),
      "requirements");
  IRT_RETURN_IF_ERROR(irvm_parse_attrs(p, root, IRVM_MODULE_ATTRS,
                                       &def->attr_count, &def->attrs));
  IRT_RETURN_IF_ERROR(irvm_parse_types(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_dependencies(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_imports(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_exports(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_signatures(p, root, &p->signature_count));
  IRT_RETURN_IF_ERROR(irvm_parse_rodata(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_rwdata(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_module_state(p, root));
  IRT_RETURN_IF_ERROR(irvm_parse_descriptors(p, root, &p->descriptor_count));
  irvm_fb_vector_t bytecode;
  IRVM_READ(
      p, irvm_fb_table_vector(root, IRVM_MODULE_BYTECODE_DATA, 1, 1, &bytecode),
      "bytecode_data");
  def->bytecode_data = irvm_fb_vector_element(&bytecode, 0);
  def->bytecode_size = bytecode.count;
  return irvm_parse_debug_database(p, root);
}

//===----------------------------------------------------------------------===//
// Load-time checks (spec 3.7 items 1-9 and 11; item 10 runs first)
//===----------------------------------------------------------------------===//

// The version to report for a module whose bytecode_version is not 17.0.
// Modules of the bytecode 13 era (2023) used an older root layout with the
// version in field 11 and an offset in field 13; when field 13 cannot be a
// version (major 0) and field 11 looks like one, that is the better answer.
static uint32_t irvm_reported_bytecode_version(const irvm_fb_table_t* root,
                                               uint32_t version) {
  if (version >> 16 != 0) return version;
  uint32_t legacy = 0;
  irt_status_t status =
      irvm_fb_table_u32(root, IRVM_MODULE_MODULE_STATE, 0, &legacy);
  if (status != IRT_OK) {
    irt_status_free(status);
    return version;
  }
  uint32_t major = legacy >> 16;
  bool plausible = major > 0 && major < IRT_VM_BYTECODE_VERSION_MAJOR &&
                   (legacy & 0xFFFFu) < 16;
  return plausible ? legacy : version;
}

static irt_status_t irvm_bytecode_version_error(uint32_t version) {
  return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                         "bytecode version %u.%u is not supported (expected "
                         "%d.%d)",
                         version >> 16, version & 0xFFFFu,
                         IRT_VM_BYTECODE_VERSION_MAJOR,
                         IRT_VM_BYTECODE_VERSION_MINOR);
}

static irt_status_t irvm_check_rodata(const irvm_parser_t* p) {
  irvm_module_def_t* def = p->def;
  for (uint32_t i = 0; i < def->rodata_count; ++i) {
    irvm_rodata_def_t* segment = (irvm_rodata_def_t*)&def->rodata[i];
    if (!segment->is_external) continue;
    uint64_t start = 0;
    if (!irt_add_u64(def->rodata_base, segment->external_offset, &start) ||
        !irt_range_fits(start, segment->length, def->file_size)) {
      return irt_make_status(
          IRT_STATUS_INVALID_ARGUMENT,
          "rodata_segments[%u] external data out of range (offset %llu, "
          "length %llu from the rodata base %llu; the file has %zu bytes)",
          i, (unsigned long long)segment->external_offset,
          (unsigned long long)segment->length,
          (unsigned long long)def->rodata_base, def->file_size);
    }
    segment->file_offset = start;
    segment->data = def->file_data + start;
  }
  return IRT_OK;
}

static irt_status_t irvm_check_function_descriptor(const irvm_module_def_t* def,
                                                   uint32_t i) {
  const irvm_function_descriptor_t* descriptor = &def->function_descriptors[i];
  int32_t offset = (int32_t)descriptor->bytecode_offset;
  int32_t length = (int32_t)descriptor->bytecode_length;
  if (descriptor->block_count == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_descriptors[%u].block_count is 0", i);
  }
  if (length <= 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_descriptors[%u].bytecode_length %d is not "
                           "positive",
                           i, length);
  }
  if (offset < 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_descriptors[%u].bytecode_offset %d is "
                           "negative",
                           i, offset);
  }
  if (!irt_range_fits((uint64_t)offset, (uint64_t)length, def->bytecode_size)) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_descriptors[%u] bytecode range [%d, %lld) "
                           "exceeds the %zu bytes of bytecode_data",
                           i, offset, (long long)offset + length,
                           def->bytecode_size);
  }
  if (descriptor->i32_register_count > 0x7FFF ||
      descriptor->ref_register_count > 0x3FFF) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_descriptors[%u] register counts %u (i32) "
                           "and %u (ref) exceed the limits 32767 and 16383",
                           i, descriptor->i32_register_count,
                           descriptor->ref_register_count);
  }
  return IRT_OK;
}

static irt_status_t irvm_check_module(irvm_parser_t* p) {
  irvm_module_def_t* def = p->def;
  // 1. Features.
  uint32_t missing = def->requirements & ~IRVM_FEATURES_ALL;
  if (missing) {
    char text[128];
    irvm_features_format(missing, text, sizeof(text));
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "required module features [%s] are not available",
                           text);
  }
  // 2. Name.
  if (def->name.size == 0) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module missing name field (name is empty)");
  }
  // 3. Types.
  for (uint32_t i = 0; i < def->type_count; ++i) {
    if (def->types[i].size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "types[%u].full_name is empty", i);
    }
  }
  // 4. External rodata.
  IRT_RETURN_IF_ERROR(irvm_check_rodata(p));
  // 5. Dependencies.
  for (uint32_t i = 0; i < def->dependency_count; ++i) {
    if (def->dependencies[i].name.size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "dependencies[%u].name is empty", i);
    }
  }
  // 6 (signatures present) holds by construction: vector elements are tables.
  // 7. Imports.
  for (uint32_t i = 0; i < def->import_count; ++i) {
    if (def->imports[i].full_name.size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "imported_functions[%u].full_name is empty", i);
    }
  }
  // 8. Parallel function tables.
  if (p->signature_count != p->descriptor_count) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "function_signatures has %u entries but "
                           "function_descriptors has %u",
                           p->signature_count, p->descriptor_count);
  }
  def->function_count = p->descriptor_count;
  // 9. Exports.
  for (uint32_t i = 0; i < def->export_count; ++i) {
    const irvm_export_def_t* export = &def->exports[i];
    if (export->local_name.size == 0) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "exported_functions[%u].local_name is empty", i);
    }
    if (export->internal_ordinal >= def->function_count) {
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "exported_functions[%u].internal_ordinal %d out "
                             "of range (%u functions)",
                             i, (int32_t) export->internal_ordinal,
                             def->function_count);
    }
  }
  // 11. Function descriptors.
  for (uint32_t i = 0; i < def->function_count; ++i) {
    IRT_RETURN_IF_ERROR(irvm_check_function_descriptor(def, i));
  }
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// API
//===----------------------------------------------------------------------===//

static irt_status_t irvm_module_def_parse_into(irvm_module_def_t* def) {
  IRT_RETURN_IF_ERROR(irvm_parse_container(def));
  irvm_parser_t p;
  memset(&p, 0, sizeof(p));
  p.def = def;
  irvm_fb_table_t root;
  irt_status_t status = irvm_fb_reader_init(
      &p.fb, def->file_data + def->flatbuffer_offset, def->flatbuffer_size,
      /*size_prefixed=*/true);
  if (status == IRT_OK) status = irvm_fb_reader_root(&p.fb, "IREE", &root);
  if (status != IRT_OK) {
    irt_status_t reworded =
        irt_make_status(irt_status_code(status), "not a VM bytecode module: %s",
                        irt_status_message(status));
    irt_status_free(status);
    return reworded;
  }
  IRVM_READ(&p,
            irvm_fb_table_u32(&root, IRVM_MODULE_BYTECODE_VERSION, 0,
                              &def->bytecode_version),
            "bytecode_version");
  status = irvm_parse_root(&p, &root);
  // An older schema may not even verify as this one: the version is the
  // better explanation then.
  if (def->bytecode_version != IRVM_SUPPORTED_BYTECODE_VERSION) {
    irt_status_free(status);
    return irvm_bytecode_version_error(
        irvm_reported_bytecode_version(&root, def->bytecode_version));
  }
  IRT_RETURN_IF_ERROR(status);
  return irvm_check_module(&p);
}

irt_status_t irvm_module_def_parse(const uint8_t* data, size_t size,
                                   irt_allocator_t allocator,
                                   irvm_module_def_t* out_def) {
  memset(out_def, 0, sizeof(*out_def));
  if (!data && size) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module data is NULL but its size is %zu", size);
  }
  static const uint8_t empty[1] = {0};
  out_def->file_data = data ? data : empty;
  out_def->file_size = size;
  irt_arena_init(&out_def->arena, allocator, 0);
  irt_status_t status = irvm_module_def_parse_into(out_def);
  if (status != IRT_OK) {
    irt_arena_deinit(&out_def->arena);
    memset(out_def, 0, sizeof(*out_def));
  }
  return status;
}

void irvm_module_def_deinit(irvm_module_def_t* def) {
  irt_arena_deinit(&def->arena);
  memset(def, 0, sizeof(*def));
}

int32_t irvm_module_def_find_export(const irvm_module_def_t* def,
                                    irt_string_view_t name) {
  for (uint32_t i = 0; i < def->export_count; ++i) {
    if (irt_string_view_equal(def->exports[i].local_name, name)) {
      return (int32_t)i;
    }
  }
  return -1;
}

bool irvm_attrs_lookup(uint32_t attr_count, const irvm_attr_def_t* attrs,
                       const char* key, irt_string_view_t* out_value) {
  for (uint32_t i = 0; i < attr_count; ++i) {
    if (irt_string_view_equal_cstring(attrs[i].key, key)) {
      *out_value = attrs[i].value;
      return true;
    }
  }
  *out_value = irt_make_string_view("", 0);
  return false;
}

size_t irvm_features_format(uint32_t features, char* buffer, size_t capacity) {
  static const char* const names[] = {"EXT_F32", "EXT_F64", "YIELD", "UNWIND"};
  size_t length = 0;
  int written = 0;
  if (capacity) buffer[0] = 0;
  for (uint32_t bit = 0; bit < 32; ++bit) {
    uint32_t mask = 1u << bit;
    if (!(features & mask)) continue;
    const char* separator = length ? "|" : "";
    size_t room = length < capacity ? capacity - length : 0;
    char* out = room ? buffer + length : NULL;
    written = bit < 4 ? snprintf(out, room, "%s%s", separator, names[bit])
                      : snprintf(out, room, "%s0x%X", separator, mask);
    if (written > 0) length += (size_t)written;
  }
  if (length == 0) {
    written = snprintf(buffer, capacity, "none");
    if (written > 0) length = (size_t)written;
  }
  return length;
}
