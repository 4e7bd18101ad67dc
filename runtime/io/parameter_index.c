#include "runtime/io/parameter_index.h"

#include "runtime/base/math.h"
#include "runtime/base/ref_count.h"

typedef struct irio_index_scope_s {
  char* data;  // owned copy
  size_t size;
} irio_index_scope_t;

typedef struct irio_index_archive_s {
  irio_file_mapping_t* mapping;  // retained
  irio_archive_format_t format;
} irio_index_archive_t;

struct irio_parameter_index_s {
  irt_ref_count_t references;
  irt_allocator_t allocator;
  irio_index_scope_t* scopes;
  size_t scope_count, scope_capacity;
  irio_index_archive_t* archives;
  size_t archive_count, archive_capacity;
  irio_parameter_t* entries;
  size_t entry_count, entry_capacity;
  // Open addressing over (scope, key): entry index + 1, 0 = empty. Holds the
  // first entry of each distinct pair; at most half full.
  uint32_t* slots;
  size_t slot_capacity;  // a power of two (or 0)
};

irt_status_t irio_parameter_index_create(irt_allocator_t allocator,
                                         irio_parameter_index_t** out_index) {
  *out_index = NULL;
  irio_parameter_index_t* index = NULL;
  IRT_RETURN_IF_ERROR_CTX(
      irt_allocator_calloc(allocator, sizeof(*index), (void**)&index),
      "allocating a parameter index");
  irt_ref_count_init(&index->references);
  index->allocator = allocator;
  *out_index = index;
  return IRT_OK;
}

void irio_parameter_index_retain(irio_parameter_index_t* index) {
  irt_ref_count_retain(&index->references);
}

void irio_parameter_index_release(irio_parameter_index_t* index) {
  if (!index || !irt_ref_count_release(&index->references)) return;
  irt_allocator_t allocator = index->allocator;
  for (size_t i = 0; i < index->scope_count; ++i) {
    irt_allocator_free(allocator, index->scopes[i].data);
  }
  for (size_t i = 0; i < index->archive_count; ++i) {
    irio_file_mapping_release(index->archives[i].mapping);
  }
  irt_allocator_free(allocator, index->scopes);
  irt_allocator_free(allocator, index->archives);
  irt_allocator_free(allocator, index->entries);
  irt_allocator_free(allocator, index->slots);
  irt_allocator_free(allocator, index);
}

//===----------------------------------------------------------------------===//
// Hash table
//===----------------------------------------------------------------------===//

// FNV-1a over the scope index and the key bytes.
static uint64_t irio_index_hash(uint32_t scope_index, irt_string_view_t key) {
  uint64_t hash = 0xcbf29ce484222325ull ^ scope_index;
  for (size_t i = 0; i < key.size; ++i) {
    hash = (hash ^ (uint8_t)key.data[i]) * 0x100000001b3ull;
  }
  return hash;
}

// The slot holding (scope_index, key), or the empty slot where it belongs.
static uint32_t* irio_index_probe(uint32_t* slots, size_t capacity,
                                  const irio_parameter_t* entries,
                                  uint32_t scope_index, irt_string_view_t key) {
  size_t mask = capacity - 1;
  for (size_t i = (size_t)irio_index_hash(scope_index, key) & mask;;
       i = (i + 1) & mask) {
    if (slots[i] == 0) return &slots[i];
    const irio_parameter_t* entry = &entries[slots[i] - 1];
    if (entry->scope_index == scope_index &&
        irt_string_view_equal(entry->entry.key, key)) {
      return &slots[i];
    }
  }
}

// Adds entries [first, count) to |slots|, keeping earlier entries of a pair.
static void irio_index_insert(uint32_t* slots, size_t capacity,
                              const irio_parameter_t* entries, size_t first,
                              size_t count) {
  for (size_t i = first; i < count; ++i) {
    uint32_t* slot = irio_index_probe(
        slots, capacity, entries, entries[i].scope_index, entries[i].entry.key);
    if (*slot == 0) *slot = (uint32_t)(i + 1);
  }
}

// Makes room for every entry (rebuilding the table when it would be more
// than half full). Allocates; changes nothing on failure.
static irt_status_t irio_index_reserve_slots(irio_parameter_index_t* index) {
  size_t needed = 64;
  while (needed < index->entry_count * 2) needed *= 2;
  if (needed <= index->slot_capacity) return IRT_OK;
  uint32_t* slots = NULL;
  IRT_RETURN_IF_ERROR(irt_allocator_calloc_array(
      index->allocator, needed, sizeof(*slots), (void**)&slots));
  irt_allocator_free(index->allocator, index->slots);
  index->slots = slots;
  index->slot_capacity = needed;
  irio_index_insert(slots, needed, index->entries, 0, index->entry_count);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Adding archives
//===----------------------------------------------------------------------===//

// Grows |*items| (of |element_size|) to hold at least |count| elements.
static irt_status_t irio_index_grow(irt_allocator_t allocator, void** items,
                                    size_t* capacity, size_t count,
                                    size_t element_size) {
  if (count <= *capacity) return IRT_OK;
  size_t new_capacity = *capacity ? *capacity * 2 : 8;
  if (new_capacity < count) new_capacity = count;
  size_t bytes = 0;
  if (!irt_mul_size(new_capacity, element_size, &bytes)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "parameter index of %zu elements is too large",
                           new_capacity);
  }
  IRT_RETURN_IF_ERROR(irt_allocator_realloc(allocator, bytes, items));
  *capacity = new_capacity;
  return IRT_OK;
}

static int64_t irio_index_find_scope(const irio_parameter_index_t* index,
                                     irt_string_view_t scope) {
  for (size_t i = 0; i < index->scope_count; ++i) {
    irt_string_view_t known =
        irt_make_string_view(index->scopes[i].data, index->scopes[i].size);
    if (irt_string_view_equal(known, scope)) return (int64_t)i;
  }
  return -1;
}

// The parse callback: appends an entry of the archive being added.
typedef struct irio_index_append_s {
  irio_parameter_index_t* index;
  uint32_t scope_index;
  uint32_t archive_index;
} irio_index_append_t;

static irt_status_t irio_index_append(void* user_data,
                                      const irio_entry_t* entry) {
  irio_index_append_t* append = (irio_index_append_t*)user_data;
  irio_parameter_index_t* index = append->index;
  // Slots store index + 1 in 32 bits.
  if (index->entry_count >= UINT32_MAX - 1) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "a parameter index holds at most %u entries",
                           UINT32_MAX - 1);
  }
  IRT_RETURN_IF_ERROR(irio_index_grow(
      index->allocator, (void**)&index->entries, &index->entry_capacity,
      index->entry_count + 1, sizeof(*index->entries)));
  irio_parameter_t* parameter = &index->entries[index->entry_count++];
  parameter->entry = *entry;
  parameter->scope_index = append->scope_index;
  parameter->archive_index = append->archive_index;
  return IRT_OK;
}

// Parses |mapping| into new entries; on success reserves the table for them.
static irt_status_t irio_index_add_entries(irio_parameter_index_t* index,
                                           const irio_file_mapping_t* mapping,
                                           irio_archive_format_t format,
                                           uint32_t scope_index) {
  irio_index_append_t append = {index, scope_index,
                                (uint32_t)index->archive_count};
  IRT_RETURN_IF_ERROR(irio_archive_parse(
      format, irio_file_mapping_data(mapping), irio_file_mapping_size(mapping),
      irio_file_mapping_path(mapping), irio_index_append, &append));
  return irio_index_reserve_slots(index);
}

// Adds the entries of |mapping| under |scope|; everything that can fail
// happens before the index changes visibly.
static irt_status_t irio_index_add_mapping(irio_parameter_index_t* index,
                                           irt_string_view_t scope,
                                           irio_file_mapping_t* mapping,
                                           irio_archive_format_t format) {
  int64_t found = irio_index_find_scope(index, scope);
  size_t scope_index = found >= 0 ? (size_t)found : index->scope_count;
  char* scope_copy = NULL;
  if (found < 0) {
    IRT_RETURN_IF_ERROR(irio_index_grow(
        index->allocator, (void**)&index->scopes, &index->scope_capacity,
        index->scope_count + 1, sizeof(*index->scopes)));
    IRT_RETURN_IF_ERROR(irt_allocator_malloc(index->allocator, scope.size + 1,
                                             (void**)&scope_copy));
    if (scope.size) memcpy(scope_copy, scope.data, scope.size);
    scope_copy[scope.size] = '\0';
  }
  size_t first_entry = index->entry_count;
  irt_status_t status = irio_index_grow(
      index->allocator, (void**)&index->archives, &index->archive_capacity,
      index->archive_count + 1, sizeof(*index->archives));
  if (irt_status_is_ok(status)) {
    status =
        irio_index_add_entries(index, mapping, format, (uint32_t)scope_index);
  }
  if (!irt_status_is_ok(status)) {
    index->entry_count = first_entry;  // the table never saw them
    irt_allocator_free(index->allocator, scope_copy);
    return status;
  }
  if (scope_copy) {
    index->scopes[index->scope_count++] =
        (irio_index_scope_t){scope_copy, scope.size};
  }
  index->archives[index->archive_count++] =
      (irio_index_archive_t){mapping, format};
  irio_index_insert(index->slots, index->slot_capacity, index->entries,
                    first_entry, index->entry_count);
  return IRT_OK;
}

irt_status_t irio_parameter_index_add_file(irio_parameter_index_t* index,
                                           irt_string_view_t scope,
                                           const char* path,
                                           irio_file_mode_t mode) {
  irio_archive_format_t format;
  IRT_RETURN_IF_ERROR(irio_archive_format_from_path(path, &format));
  irio_file_mapping_t* mapping = NULL;
  IRT_RETURN_IF_ERROR(
      irio_file_mapping_open(path, mode, index->allocator, &mapping));
  irt_status_t status = irio_index_add_mapping(index, scope, mapping, format);
  if (!irt_status_is_ok(status)) irio_file_mapping_release(mapping);
  return status;
}

irt_status_t irio_parameter_split_flag(const char* flag_value,
                                       irt_string_view_t* out_scope,
                                       const char** out_path) {
  const char* equals = strchr(flag_value, '=');
  *out_scope =
      equals ? irt_make_string_view(flag_value, (size_t)(equals - flag_value))
             : irt_make_string_view("", 0);
  *out_path = equals ? equals + 1 : flag_value;
  if (!**out_path) {
    return irt_make_status(IRT_STATUS_INVALID_ARGUMENT,
                           "'%s': no file given (expected [SCOPE=]PATH)",
                           flag_value);
  }
  return IRT_OK;
}

irt_status_t irio_parameter_index_add_flag(irio_parameter_index_t* index,
                                           const char* flag_value) {
  irt_string_view_t scope;
  const char* path = NULL;
  irt_status_t status = irio_parameter_split_flag(flag_value, &scope, &path);
  if (irt_status_is_ok(status)) {
    status =
        irio_parameter_index_add_file(index, scope, path, IRIO_FILE_MODE_READ);
  }
  IRT_RETURN_IF_ERROR_CTX(status, "--parameters=%s", flag_value);
  return IRT_OK;
}

//===----------------------------------------------------------------------===//
// Queries
//===----------------------------------------------------------------------===//

size_t irio_parameter_index_scope_count(const irio_parameter_index_t* index) {
  return index->scope_count;
}

irt_string_view_t irio_parameter_index_scope(
    const irio_parameter_index_t* index, size_t scope_index) {
  return irt_make_string_view(index->scopes[scope_index].data,
                              index->scopes[scope_index].size);
}

bool irio_parameter_index_has_scope(const irio_parameter_index_t* index,
                                    irt_string_view_t scope) {
  return irio_index_find_scope(index, scope) >= 0;
}

size_t irio_parameter_index_archive_count(const irio_parameter_index_t* index) {
  return index->archive_count;
}

irio_file_mapping_t* irio_parameter_index_archive(
    const irio_parameter_index_t* index, size_t archive_index) {
  return index->archives[archive_index].mapping;
}

irio_archive_format_t irio_parameter_index_archive_format(
    const irio_parameter_index_t* index, size_t archive_index) {
  return index->archives[archive_index].format;
}

size_t irio_parameter_index_count(const irio_parameter_index_t* index) {
  return index->entry_count;
}

const irio_parameter_t* irio_parameter_index_at(
    const irio_parameter_index_t* index, size_t entry_index) {
  return &index->entries[entry_index];
}

const irio_parameter_t* irio_parameter_index_find(
    const irio_parameter_index_t* index, irt_string_view_t scope,
    irt_string_view_t key) {
  int64_t scope_index = irio_index_find_scope(index, scope);
  if (scope_index < 0 || index->slot_capacity == 0) return NULL;
  uint32_t slot = *irio_index_probe(index->slots, index->slot_capacity,
                                    index->entries, (uint32_t)scope_index, key);
  return slot ? &index->entries[slot - 1] : NULL;
}

irt_status_t irio_parameter_index_lookup(
    const irio_parameter_index_t* index, irt_string_view_t scope,
    irt_string_view_t key, const irio_parameter_t** out_parameter) {
  *out_parameter = irio_parameter_index_find(index, scope, key);
  if (*out_parameter) return IRT_OK;
  char scope_text[64], key_text[96];
  irio_format_key(scope, scope_text, sizeof(scope_text));
  if (!irio_parameter_index_has_scope(index, scope)) {
    return irt_make_status(IRT_STATUS_NOT_FOUND,
                           "no provider registered that handles scope '%s' "
                           "(no parameter archive was given for it)",
                           scope_text);
  }
  return irt_make_status(
      IRT_STATUS_NOT_FOUND, "parameter '%s' not found in scope '%s'",
      irio_format_key(key, key_text, sizeof(key_text)), scope_text);
}
