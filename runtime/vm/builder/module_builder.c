// Module metadata and the file writer of module_builder.h. Instruction
// encoding lives in function_builder.c.
#include <stdio.h>
#include <string.h>

#include "runtime/base/math.h"
#include "runtime/vm/builder/flatbuffer_builder.h"
#include "runtime/vm/builder/module_builder_internal.h"
#include "runtime/vm/cconv.h"

// Rodata of at least this size is stored outside the FlatBuffer (spec 1.4).
#define IRVM_RODATA_EXTERNAL_THRESHOLD 4096
#define IRVM_RODATA_DEFAULT_ALIGNMENT 16
#define IRVM_RODATA_MAX_ALIGNMENT 4096

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

irt_status_t irvm_module_builder_strdup(irvm_module_builder_t* builder,
                                        const char* text,
                                        const char** out_copy) {
  if (!text) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module builder: NULL string argument");
  }
  char* copy = NULL;
  IRT_RETURN_IF_ERROR(
      irt_arena_strndup(&builder->arena, text, strlen(text), &copy));
  *out_copy = copy;
  return IRT_OK;
}

static irt_status_t irvm_check_nonempty(const char* text, const char* what) {
  if (!text || !*text) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s must be non-empty",
                           what);
  }
  return IRT_OK;
}

static irt_status_t irvm_check_flags(uint32_t flags, const char* what,
                                     const char* name) {
  if (flags != IRVM_FLAG_REQUIRED && flags != IRVM_FLAG_OPTIONAL) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s '%s': flags 0x%X must be IRVM_FLAG_REQUIRED or "
                           "IRVM_FLAG_OPTIONAL",
                           what, name, flags);
  }
  return IRT_OK;
}

irt_status_t irvm_builder_check_cconv(const char* cconv, bool allow_spans,
                                      const char* what, uint32_t* out_i32_count,
                                      uint32_t* out_ref_count) {
  *out_i32_count = 0;
  *out_ref_count = 0;
  if (!cconv) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT, "%s is NULL", what);
  }
  irvm_cconv_t parsed;
  IRT_RETURN_IF_ERROR_CTX(
      irvm_cconv_parse(irt_make_cstring_view(cconv), &parsed), "%s", what);
  irvm_register_usage_t usage = {0, 0};
  if (!irvm_cconv_register_usage(parsed.arguments, &usage) && !allow_spans) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "%s \"%s\": variadic spans (C...D) are only "
                           "allowed in import signatures",
                           what, cconv);
  }
  *out_i32_count = usage.i32_count;
  *out_ref_count = usage.ref_count;
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Module pieces
//===----------------------------------------------------------------------===//

irt_status_t irvm_module_builder_create(irt_allocator_t allocator,
                                        const char* name, uint32_t version,
                                        irvm_module_builder_t** out_builder) {
  *out_builder = NULL;
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(name, "module name"));
  irvm_module_builder_t* builder = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(allocator, sizeof(*builder), (void**)&builder));
  builder->allocator = allocator;
  irt_arena_init(&builder->arena, allocator, 0);
  builder->version = version;
  irt_status_t status =
      irvm_module_builder_strdup(builder, name, &builder->name);
  if (status != IRT_OK) {
    irvm_module_builder_destroy(builder);
    return status;
  }
  *out_builder = builder;
  return IRT_OK;
}

void irvm_module_builder_destroy(irvm_module_builder_t* builder) {
  if (!builder) return;
  size_t count =
      IRVM_GROWABLE_COUNT(builder->functions, irvm_function_builder_t*);
  for (size_t i = 0; i < count; ++i) {
    irvm_function_builder_destroy(
        *IRVM_GROWABLE_AT(builder->functions, irvm_function_builder_t*, i));
  }
  irvm_growable_t* arrays[] = {
      &builder->attrs,     &builder->types,     &builder->dependencies,
      &builder->imports,   &builder->exports,   &builder->rodata,
      &builder->locations, &builder->functions,
  };
  for (size_t i = 0; i < sizeof(arrays) / sizeof(arrays[0]); ++i) {
    irvm_growable_free(arrays[i], builder->allocator);
  }
  irt_arena_deinit(&builder->arena);
  irt_allocator_free(builder->allocator, builder);
}

static irt_status_t irvm_push(irvm_module_builder_t* builder,
                              irvm_growable_t* array, const void* entry,
                              size_t size) {
  return irvm_growable_append(array, builder->allocator, entry, size, NULL);
}

irt_status_t irvm_module_builder_add_attr(irvm_module_builder_t* builder,
                                          const char* key, const char* value) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(key, "module attribute key"));
  irvm_attr_entry_t attr;
  IRT_RETURN_IF_ERROR(irvm_module_builder_strdup(builder, key, &attr.key));
  IRT_RETURN_IF_ERROR(irvm_module_builder_strdup(builder, value, &attr.value));
  return irvm_push(builder, &builder->attrs, &attr, sizeof(attr));
}

// The compiler's type table order: names not starting with '!' (value
// types) first, then bytewise by name.
static int irvm_type_name_compare(const char* a, const char* b) {
  bool a_ref = a[0] == '!', b_ref = b[0] == '!';
  if (a_ref != b_ref) return a_ref ? 1 : -1;
  return strcmp(a, b);
}

irt_status_t irvm_module_builder_add_type(irvm_module_builder_t* builder,
                                          const char* full_name,
                                          irvm_type_t* out_type) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(full_name, "type name"));
  size_t count = IRVM_GROWABLE_COUNT(builder->types, const char*);
  for (size_t i = 0; i < count; ++i) {
    if (strcmp(*IRVM_GROWABLE_AT(builder->types, const char*, i), full_name) ==
        0) {
      *out_type = (irvm_type_t){(uint32_t)i};
      return IRT_OK;
    }
  }
  const char* copy = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_strdup(builder, full_name, &copy));
  IRT_RETURN_IF_ERROR(irvm_push(builder, &builder->types, &copy, sizeof(copy)));
  *out_type = (irvm_type_t){(uint32_t)count};
  return IRT_OK;
}

uint32_t irvm_module_builder_type_id(const irvm_module_builder_t* builder,
                                     irvm_type_t type) {
  size_t count = IRVM_GROWABLE_COUNT(builder->types, const char*);
  if (type.handle >= count) return UINT32_MAX;
  const char* name =
      *IRVM_GROWABLE_AT(builder->types, const char*, type.handle);
  uint32_t rank = 0;
  for (size_t i = 0; i < count; ++i) {
    rank += irvm_type_name_compare(
                *IRVM_GROWABLE_AT(builder->types, const char*, i), name) < 0;
  }
  return rank;
}

irt_status_t irvm_module_builder_add_dependency(irvm_module_builder_t* builder,
                                                const char* name,
                                                uint32_t minimum_version,
                                                uint32_t flags) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(name, "dependency name"));
  IRT_RETURN_IF_ERROR(irvm_check_flags(flags, "dependency", name));
  irvm_dependency_entry_t dependency = {NULL, minimum_version, flags};
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_strdup(builder, name, &dependency.name));
  return irvm_push(builder, &builder->dependencies, &dependency,
                   sizeof(dependency));
}

irt_status_t irvm_module_builder_add_import(irvm_module_builder_t* builder,
                                            const char* full_name,
                                            const char* cconv, uint32_t flags,
                                            uint32_t* out_ordinal) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(full_name, "import name"));
  const char* dot = strchr(full_name, '.');
  if (!dot || dot == full_name || dot[1] == '\0') {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "import '%s' is not of the form module.function",
                           full_name);
  }
  IRT_RETURN_IF_ERROR(irvm_check_flags(flags, "import", full_name));
  size_t count = IRVM_GROWABLE_COUNT(builder->imports, irvm_import_entry_t);
  if (count >= IRVM_FUNCTION_IMPORT_BIT) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "too many imports");
  }
  irvm_import_entry_t import = {NULL, NULL, flags};
  if (cconv) {
    uint32_t i32_count = 0, ref_count = 0;
    IRT_RETURN_IF_ERROR_CTX(
        irvm_builder_check_cconv(cconv, true, "cconv", &i32_count, &ref_count),
        "import '%s'", full_name);
    IRT_RETURN_IF_ERROR(
        irvm_module_builder_strdup(builder, cconv, &import.cconv));
  }
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_strdup(builder, full_name, &import.full_name));
  IRT_RETURN_IF_ERROR(
      irvm_push(builder, &builder->imports, &import, sizeof(import)));
  *out_ordinal = (uint32_t)count;
  return IRT_OK;
}

// File extension of external rodata by MIME type (".bin" when unknown).
static const char* irvm_rodata_extension(const char* mime_type) {
  static const struct {
    const char* mime_type;
    const char* extension;
  } kExtensions[] = {
      {"application/x-flatbuffers", ".fb"},
      {"application/octet-stream", ".bin"},
      {"application/x-elf", ".so"},
      {"application/x-msdownload", ".dll"},
      {"application/x-dylib", ".dylib"},
      {"application/wasm", ".wasm"},
      {"application/json", ".json"},
      {"application/x-yaml", ".yaml"},
      {"text/plain", ".txt"},
  };
  for (size_t i = 0;
       mime_type && i < sizeof(kExtensions) / sizeof(kExtensions[0]); ++i) {
    if (strcmp(mime_type, kExtensions[i].mime_type) == 0) {
      return kExtensions[i].extension;
    }
  }
  return ".bin";
}

irt_status_t irvm_module_builder_add_rodata(
    irvm_module_builder_t* builder, const void* data, size_t length,
    const irvm_rodata_options_t* options, uint32_t* out_ordinal) {
  irvm_rodata_options_t opts = options ? *options : (irvm_rodata_options_t){0};
  uint32_t ordinal =
      (uint32_t)IRVM_GROWABLE_COUNT(builder->rodata, irvm_rodata_entry_t);
  if (length && !data) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "rodata %u: NULL data of %zu bytes", ordinal,
                           length);
  }
  if (length > IRVM_FB_MAX_SIZE) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "rodata %u: %zu bytes exceed the 2 GiB limit",
                           ordinal, length);
  }
  uint32_t alignment =
      opts.alignment ? opts.alignment : IRVM_RODATA_DEFAULT_ALIGNMENT;
  if (!irt_is_pow2(alignment) || alignment > IRVM_RODATA_MAX_ALIGNMENT) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "rodata %u: alignment %u is not a power of two up "
                           "to %u",
                           ordinal, alignment, IRVM_RODATA_MAX_ALIGNMENT);
  }
  irvm_rodata_entry_t entry = {.length = length, .alignment = alignment};
  switch (opts.placement) {
    case IRVM_RODATA_AUTO:
      entry.external =
          length >= IRVM_RODATA_EXTERNAL_THRESHOLD || opts.mime_type != NULL;
      break;
    case IRVM_RODATA_EMBEDDED:
      entry.external = false;
      break;
    case IRVM_RODATA_EXTERNAL:
      entry.external = true;
      break;
    default:
      return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                             "rodata %u: unknown placement %d", ordinal,
                             (int)opts.placement);
  }
  char default_name[32];
  snprintf(default_name, sizeof(default_name), "rodata_%u", ordinal);
  const char* name = opts.name ? opts.name : default_name;
  const char* extension = irvm_rodata_extension(opts.mime_type);
  size_t name_length = strlen(name) + strlen(extension);
  if (name_length > 0xFFFF) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "rodata %u: name of %zu bytes is too long for ZIP",
                           ordinal, name_length);
  }
  char* entry_name = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(&builder->arena, name_length + 1, 1,
                                      (void**)&entry_name));
  snprintf(entry_name, name_length + 1, "%s%s", name, extension);
  entry.entry_name = entry_name;
  void* copy = NULL;
  IRT_RETURN_IF_ERROR(irt_arena_alloc(&builder->arena, length, 16, &copy));
  if (length) memcpy(copy, data, length);
  entry.data = copy;
  IRT_RETURN_IF_ERROR(
      irvm_push(builder, &builder->rodata, &entry, sizeof(entry)));
  *out_ordinal = ordinal;
  return IRT_OK;
}

irt_status_t irvm_module_builder_set_module_state(
    irvm_module_builder_t* builder, uint32_t global_bytes_capacity,
    uint32_t global_ref_count) {
  if (global_bytes_capacity > INT32_MAX || global_ref_count > INT32_MAX) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "module state %u bytes / %u refs exceeds the i32 "
                           "fields of ModuleStateDef",
                           global_bytes_capacity, global_ref_count);
  }
  builder->global_bytes_capacity = global_bytes_capacity;
  builder->global_ref_count = global_ref_count;
  return IRT_OK;
}

irt_status_t irvm_module_builder_add_export(irvm_module_builder_t* builder,
                                            const char* local_name,
                                            uint32_t internal_ordinal,
                                            uint32_t* out_export_ordinal) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(local_name, "export name"));
  if (internal_ordinal > INT32_MAX) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "export '%s': internal ordinal %u exceeds i32",
                           local_name, internal_ordinal);
  }
  irvm_export_entry_t entry = {NULL, internal_ordinal};
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_strdup(builder, local_name, &entry.local_name));
  size_t count = IRVM_GROWABLE_COUNT(builder->exports, irvm_export_entry_t);
  IRT_RETURN_IF_ERROR(
      irvm_push(builder, &builder->exports, &entry, sizeof(entry)));
  if (out_export_ordinal) *out_export_ordinal = (uint32_t)count;
  return IRT_OK;
}

static irt_status_t irvm_add_location(irvm_module_builder_t* builder,
                                      irvm_location_entry_t* entry,
                                      const char* text, int32_t* out_location) {
  if (text) {
    IRT_RETURN_IF_ERROR(
        irvm_module_builder_strdup(builder, text, &entry->text));
  }
  size_t count = IRVM_GROWABLE_COUNT(builder->locations, irvm_location_entry_t);
  if (count >= INT32_MAX) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "too many locations");
  }
  IRT_RETURN_IF_ERROR(
      irvm_push(builder, &builder->locations, entry, sizeof(*entry)));
  *out_location = (int32_t)count;
  return IRT_OK;
}

irt_status_t irvm_module_builder_add_location_file_line_col(
    irvm_module_builder_t* builder, const char* filename, int32_t line,
    int32_t column, int32_t* out_location) {
  irvm_location_entry_t entry = {
      .kind = IRVM_LOCATION_TAG_FILE_LINE_COL, .a = line, .b = column};
  return irvm_add_location(builder, &entry, filename, out_location);
}

irt_status_t irvm_module_builder_add_location_name(
    irvm_module_builder_t* builder, const char* name, int32_t child_location,
    int32_t* out_location) {
  irvm_location_entry_t entry = {.kind = IRVM_LOCATION_TAG_NAME,
                                 .b = child_location};
  return irvm_add_location(builder, &entry, name, out_location);
}

irt_status_t irvm_module_builder_add_location_call_site(
    irvm_module_builder_t* builder, int32_t callee, int32_t caller,
    int32_t* out_location) {
  irvm_location_entry_t entry = {
      .kind = IRVM_LOCATION_TAG_CALL_SITE, .a = callee, .b = caller};
  return irvm_add_location(builder, &entry, NULL, out_location);
}

irt_status_t irvm_module_builder_add_location_fused(
    irvm_module_builder_t* builder, const char* metadata,
    const int32_t* locations, size_t count, int32_t* out_location) {
  if (count && !locations) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "fused location: NULL list of %zu locations", count);
  }
  irvm_location_entry_t entry = {.kind = IRVM_LOCATION_TAG_FUSED,
                                 .location_count = count};
  void* copy = NULL;
  size_t bytes = 0;
  if (!irt_mul_size(count, sizeof(int32_t), &bytes)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "fused location list too long");
  }
  IRT_RETURN_IF_ERROR(irt_arena_alloc(&builder->arena, bytes, 4, &copy));
  if (bytes) memcpy(copy, locations, bytes);
  entry.locations = copy;
  return irvm_add_location(builder, &entry, metadata, out_location);
}

void irvm_module_builder_set_overrides(
    irvm_module_builder_t* builder, const irvm_module_overrides_t* overrides) {
  builder->overrides = *overrides;
}

irt_status_t irvm_module_builder_begin_function_ex(
    irvm_module_builder_t* builder, const char* cconv, uint32_t flags,
    irvm_function_builder_t** out_fn) {
  *out_fn = NULL;
  size_t count =
      IRVM_GROWABLE_COUNT(builder->functions, irvm_function_builder_t*);
  if (count >= INT32_MAX) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED, "too many functions");
  }
  IRT_RETURN_IF_ERROR(irvm_growable_reserve(&builder->functions,
                                            builder->allocator,
                                            sizeof(irvm_function_builder_t*)));
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_function_builder_create(builder, cconv, flags,
                                                   (uint32_t)count, &fn));
  // Cannot fail: room was reserved above.
  irt_status_ignore(irvm_push(builder, &builder->functions, &fn, sizeof(fn)));
  *out_fn = fn;
  return IRT_OK;
}

irt_status_t irvm_module_builder_begin_function(
    irvm_module_builder_t* builder, const char* cconv,
    irvm_function_builder_t** out_fn) {
  return irvm_module_builder_begin_function_ex(builder, cconv, 0, out_fn);
}

irt_status_t irvm_module_builder_begin_exported_function(
    irvm_module_builder_t* builder, const char* name, const char* cconv,
    irvm_function_builder_t** out_fn) {
  IRT_RETURN_IF_ERROR(irvm_check_nonempty(name, "export name"));
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(irvm_module_builder_begin_function(builder, cconv, &fn));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_export(builder, name, fn->ordinal, NULL));
  IRT_RETURN_IF_ERROR(irvm_fn_set_debug_name(fn, name));
  *out_fn = fn;
  return IRT_OK;
}
