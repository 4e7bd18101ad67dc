// The parameter index (HAL spec 2.5, 3.1): every entry of the archives given
// for each scope, looked up by (scope, key). Archives are memory-mapped once
// (file_mapping.h) and entries point into the mappings, so an index over a
// many-gigabyte model costs only its entry table.
//
// Several files may feed one scope; lookups return the first entry added
// for a key (no duplicate detection). Each scope with at least one archive
// acts as the parameter provider for exactly that scope string.
//
// Thread safety: build the index first (add_*), then share it: lookups on a
// complete index may run concurrently.
#ifndef IRIO_PARAMETER_INDEX_H
#define IRIO_PARAMETER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/base/allocator.h"
#include "runtime/io/archive.h"
#include "runtime/io/file_mapping.h"

typedef struct irio_parameter_index_s irio_parameter_index_t;

// An indexed entry.
typedef struct irio_parameter_s {
  irio_entry_t entry;      // key/metadata point into the archive's mapping
  uint32_t scope_index;    // irio_parameter_index_scope
  uint32_t archive_index;  // irio_parameter_index_archive
} irio_parameter_t;

// An empty index with one reference.
irt_status_t irio_parameter_index_create(
    irt_allocator_t allocator, irio_parameter_index_t** out_index) IRT_MUST_USE;
void irio_parameter_index_retain(irio_parameter_index_t* index);
void irio_parameter_index_release(irio_parameter_index_t* index);

// Maps |path| in |mode|, parses it (the format comes from its extension)
// and appends its entries under |scope|. On failure the index is unchanged.
irt_status_t irio_parameter_index_add_file(irio_parameter_index_t* index,
                                           irt_string_view_t scope,
                                           const char* path,
                                           irio_file_mode_t mode) IRT_MUST_USE;

// Splits the command-line form "[SCOPE=]PATH" at the first '=' (no '='
// means the anonymous scope ""). INVALID_ARGUMENT when PATH is empty.
irt_status_t irio_parameter_split_flag(const char* flag_value,
                                       irt_string_view_t* out_scope,
                                       const char** out_path) IRT_MUST_USE;

// Adds "[SCOPE=]PATH" read-only (--parameters=, spec 2.5); errors end with
// "; --parameters=VALUE".
irt_status_t irio_parameter_index_add_flag(irio_parameter_index_t* index,
                                           const char* flag_value) IRT_MUST_USE;

// Scopes in order of first use.
size_t irio_parameter_index_scope_count(const irio_parameter_index_t* index);
irt_string_view_t irio_parameter_index_scope(
    const irio_parameter_index_t* index, size_t scope_index);
// True when some archive was added under exactly |scope|.
bool irio_parameter_index_has_scope(const irio_parameter_index_t* index,
                                    irt_string_view_t scope);

// Archives in order of addition, and the format each was parsed as.
size_t irio_parameter_index_archive_count(const irio_parameter_index_t* index);
irio_file_mapping_t* irio_parameter_index_archive(
    const irio_parameter_index_t* index, size_t archive_index);
irio_archive_format_t irio_parameter_index_archive_format(
    const irio_parameter_index_t* index, size_t archive_index);

// Entries in order of addition (duplicates included).
size_t irio_parameter_index_count(const irio_parameter_index_t* index);
const irio_parameter_t* irio_parameter_index_at(
    const irio_parameter_index_t* index, size_t entry_index);

// The first entry for (|scope|, |key|), or NULL.
const irio_parameter_t* irio_parameter_index_find(
    const irio_parameter_index_t* index, irt_string_view_t scope,
    irt_string_view_t key);

// The same as a status: NOT_FOUND naming the scope when no archive serves
// it ("no provider registered that handles scope 'x'"), or naming the key.
irt_status_t irio_parameter_index_lookup(
    const irio_parameter_index_t* index, irt_string_view_t scope,
    irt_string_view_t key, const irio_parameter_t** out_parameter) IRT_MUST_USE;

#endif  // IRIO_PARAMETER_INDEX_H
