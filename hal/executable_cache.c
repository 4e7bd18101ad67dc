#include "hal/executable_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "runtime/base/math.h"

//===----------------------------------------------------------------------===//
// Keys
//===----------------------------------------------------------------------===//

// A 64-bit hash in the style of XXH64 (four multiply-rotate lanes over
// 32-byte stripes, then a tail and an avalanche). Hits are confirmed byte by
// byte, so it only has to spread keys over buckets, quickly.
#define IRHAL_P1 0x9E3779B185EBCA87ull
#define IRHAL_P2 0xC2B2AE3D27D4EB4Full
#define IRHAL_P3 0x165667B19E3779F9ull
#define IRHAL_P4 0x85EBCA77C2B2AE63ull
#define IRHAL_P5 0x27D4EB2F165667C5ull

static uint64_t irhal_rotl64(uint64_t x, int r) {
  return (x << r) | (x >> (64 - r));
}
static uint64_t irhal_read64(const uint8_t* p) {
  uint64_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}
static uint64_t irhal_hash_round(uint64_t acc, uint64_t input) {
  return irhal_rotl64(acc + input * IRHAL_P2, 31) * IRHAL_P1;
}
static uint64_t irhal_hash_merge(uint64_t acc, uint64_t lane) {
  return (acc ^ irhal_hash_round(0, lane)) * IRHAL_P1 + IRHAL_P4;
}

static uint64_t irhal_hash_bytes(const uint8_t* p, size_t n, uint64_t seed) {
  // Empty inputs may come as NULL, and NULL + 0 is undefined behaviour.
  static const uint8_t kEmpty[1] = {0};
  if (n == 0) p = kEmpty;
  const uint8_t* end = p + n;
  uint64_t h;
  if (n >= 32) {
    uint64_t v[4] = {seed + IRHAL_P1 + IRHAL_P2, seed + IRHAL_P2, seed,
                     seed - IRHAL_P1};
    for (; end - p >= 32; p += 32) {
      for (int i = 0; i < 4; ++i)
        v[i] = irhal_hash_round(v[i], irhal_read64(p + 8 * i));
    }
    h = irhal_rotl64(v[0], 1) + irhal_rotl64(v[1], 7) + irhal_rotl64(v[2], 12) +
        irhal_rotl64(v[3], 18);
    for (int i = 0; i < 4; ++i) h = irhal_hash_merge(h, v[i]);
  } else {
    h = seed + IRHAL_P5;
  }
  h += (uint64_t)n;
  for (; end - p >= 8; p += 8) {
    h = irhal_rotl64(h ^ irhal_hash_round(0, irhal_read64(p)), 27) * IRHAL_P1 +
        IRHAL_P4;
  }
  for (; p < end; ++p) h = irhal_rotl64(h ^ (*p * IRHAL_P5), 11) * IRHAL_P1;
  h ^= h >> 33;
  h *= IRHAL_P2;
  h ^= h >> 29;
  h *= IRHAL_P3;
  return h ^ (h >> 32);
}

typedef struct irhal_executable_key_s {
  uint64_t hash;
  irt_string_view_t format;
  const uint8_t* data;
  size_t size;
  const uint32_t* constants;
  uint32_t constant_count;
} irhal_executable_key_t;

static irhal_executable_key_t irhal_executable_key(irt_string_view_t format,
                                                   const uint8_t* data,
                                                   size_t size,
                                                   const uint32_t* constants,
                                                   uint32_t constant_count) {
  irhal_executable_key_t key = {0,    format,    data,
                                size, constants, constant_count};
  uint64_t hash = irhal_hash_bytes(data, size, 0);
  hash = irhal_hash_bytes((const uint8_t*)constants,
                          constant_count * sizeof(uint32_t), hash);
  key.hash = irhal_hash_bytes((const uint8_t*)format.data, format.size, hash);
  return key;
}

//===----------------------------------------------------------------------===//
// Entries
//===----------------------------------------------------------------------===//

struct irhal_executable_cache_entry_s {
  irhal_executable_cache_entry_t* next;  // in its bucket
  irhal_executable_cache_t* cache;       // retained
  // NULL while the prepare that made the entry creates it; the others wait.
  irhal_executable_t* executable;
  // |key|'s bytes: in |data_owner| (retained) or copied after the entry,
  // like the constants and the format.
  irhal_executable_key_t key;
  irvm_ref_t data_owner;
};

struct irhal_executable_cache_s {
  irt_ref_count_t ref_count;  // one per user reference and per entry
  irt_allocator_t host_allocator;
  irhal_device_t* device;
  pthread_mutex_t mutex;
  pthread_cond_t settled;  // an entry's creation finished or failed
  irhal_executable_cache_entry_t** buckets;  // NULL or bucket_count chains
  size_t bucket_count;                       // a power of two
  size_t entry_count;                        // linked, pending ones included
  irhal_executable_cache_stats_t stats;
  // Under irhal_shared_caches_mutex.
  uint32_t users;
  bool shared;
  irhal_executable_cache_t* next_shared;
};

static void irhal_executable_cache_destroy(irhal_executable_cache_t* cache) {
  pthread_cond_destroy(&cache->settled);
  pthread_mutex_destroy(&cache->mutex);
  irt_allocator_free(cache->host_allocator, cache->buckets);
  irt_allocator_free(cache->host_allocator, cache);
}

static void irhal_executable_cache_unref(irhal_executable_cache_t* cache) {
  if (irt_ref_count_release(&cache->ref_count)) {
    irhal_executable_cache_destroy(cache);
  }
}

// Takes a reference on |executable| unless its last one is already gone
// (then its destroy is on the way to forget the entry).
static bool irhal_executable_try_retain(irhal_executable_t* executable) {
  atomic_int_fast32_t* count = &executable->header.count.value;
  int_fast32_t value = atomic_load_explicit(count, memory_order_relaxed);
  while (value > 0) {
    if (atomic_compare_exchange_weak_explicit(count, &value, value + 1,
                                              memory_order_acquire,
                                              memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

static bool irhal_executable_key_equal(const irhal_executable_key_t* a,
                                       const irhal_executable_key_t* b) {
  return a->hash == b->hash && a->size == b->size &&
         a->constant_count == b->constant_count &&
         irt_string_view_equal(a->format, b->format) &&
         (a->constant_count == 0 ||
          memcmp(a->constants, b->constants,
                 a->constant_count * sizeof(uint32_t)) == 0) &&
         (a->data == b->data || memcmp(a->data, b->data, a->size) == 0);
}

// An entry owning copies of |key|'s format and constants, and of its bytes
// unless |data_owner| keeps them alive.
static irt_status_t irhal_executable_cache_entry_create(
    irhal_executable_cache_t* cache, const irhal_executable_key_t* key,
    const irvm_ref_t* data_owner, irhal_executable_cache_entry_t** out_entry) {
  size_t constants_size = key->constant_count * sizeof(uint32_t);
  size_t data_copy_size = data_owner ? 0 : key->size;
  size_t total = 0;
  if (!irt_add_size(sizeof(irhal_executable_cache_entry_t), constants_size,
                    &total) ||
      !irt_add_size(total, key->format.size, &total) ||
      !irt_add_size(total, data_copy_size, &total)) {
    return irt_make_status(IRT_STATUS_RESOURCE_EXHAUSTED,
                           "executable cache: a %zu-byte executable key "
                           "overflows the entry size",
                           key->size);
  }
  irhal_executable_cache_entry_t* entry = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(cache->host_allocator, total, (void**)&entry));
  uint8_t* tail = (uint8_t*)(entry + 1);
  entry->key = *key;
  if (constants_size) memcpy(tail, key->constants, constants_size);
  entry->key.constants = (const uint32_t*)tail;
  tail += constants_size;
  if (key->format.size) memcpy(tail, key->format.data, key->format.size);
  entry->key.format = irt_make_string_view((const char*)tail, key->format.size);
  tail += key->format.size;
  if (data_owner) {
    irvm_ref_retain_to(data_owner, &entry->data_owner);
  } else {
    if (data_copy_size) memcpy(tail, key->data, data_copy_size);
    entry->key.data = tail;
  }
  entry->cache = cache;
  irt_ref_count_retain(&cache->ref_count);
  *out_entry = entry;
  return IRT_OK;
}

// Called without the cache's mutex: releasing the data owner may run
// arbitrary destroy code (a module's).
static void irhal_executable_cache_entry_free(
    irhal_executable_cache_entry_t* entry) {
  irhal_executable_cache_t* cache = entry->cache;
  irvm_ref_release(&entry->data_owner);
  irt_allocator_free(cache->host_allocator, entry);
  irhal_executable_cache_unref(cache);
}

//===----------------------------------------------------------------------===//
// The table (under the cache's mutex)
//===----------------------------------------------------------------------===//

static irhal_executable_cache_entry_t** irhal_executable_cache_bucket(
    irhal_executable_cache_t* cache, uint64_t hash) {
  return &cache->buckets[hash & (cache->bucket_count - 1)];
}

// Rehashes into |bucket_count| chains (0: frees the table, which must then
// be empty). On failure the table stays as it was.
static irt_status_t irhal_executable_cache_rehash(
    irhal_executable_cache_t* cache, size_t bucket_count) {
  irhal_executable_cache_entry_t** buckets = NULL;
  if (bucket_count) {
    IRT_RETURN_IF_ERROR(
        irt_allocator_calloc_array(cache->host_allocator, bucket_count,
                                   sizeof(*buckets), (void**)&buckets));
  }
  for (size_t i = 0; i < cache->bucket_count; ++i) {
    irhal_executable_cache_entry_t* entry = cache->buckets[i];
    while (entry) {
      irhal_executable_cache_entry_t* next = entry->next;
      irhal_executable_cache_entry_t** head =
          &buckets[entry->key.hash & (bucket_count - 1)];
      entry->next = *head;
      *head = entry;
      entry = next;
    }
  }
  irt_allocator_free(cache->host_allocator, cache->buckets);
  cache->buckets = buckets;
  cache->bucket_count = bucket_count;
  return IRT_OK;
}

// The smallest table (a power of two, at least 16) with a chain per entry.
static size_t irhal_executable_cache_fit(size_t entry_count) {
  size_t bucket_count = 16;
  while (bucket_count < entry_count) bucket_count *= 2;
  return bucket_count;
}

// Links |entry|, growing the table to keep chains about one entry long. Only
// a missing first table is an error: failing to grow leaves longer chains.
static irt_status_t irhal_executable_cache_link(
    irhal_executable_cache_t* cache, irhal_executable_cache_entry_t* entry) {
  if (cache->entry_count >= cache->bucket_count) {
    irt_status_t status = irhal_executable_cache_rehash(
        cache, irhal_executable_cache_fit(cache->entry_count + 1));
    if (!cache->bucket_count) return status;
    irt_status_free(status);
  }
  irhal_executable_cache_entry_t** head =
      irhal_executable_cache_bucket(cache, entry->key.hash);
  entry->next = *head;
  *head = entry;
  ++cache->entry_count;
  return IRT_OK;
}

static void irhal_executable_cache_unlink(
    irhal_executable_cache_t* cache, irhal_executable_cache_entry_t* entry) {
  irhal_executable_cache_entry_t** link =
      irhal_executable_cache_bucket(cache, entry->key.hash);
  while (*link != entry) link = &(*link)->next;
  *link = entry->next;
  --cache->entry_count;
}

// The entry for |key| whose executable could be retained (into
// *out_executable), or a pending one (*out_executable NULL), or NULL.
// Entries whose executable is being destroyed are passed over.
static irhal_executable_cache_entry_t* irhal_executable_cache_lookup(
    irhal_executable_cache_t* cache, const irhal_executable_key_t* key,
    irhal_executable_t** out_executable) {
  *out_executable = NULL;
  if (!cache->bucket_count) return NULL;
  for (irhal_executable_cache_entry_t* entry =
           *irhal_executable_cache_bucket(cache, key->hash);
       entry; entry = entry->next) {
    if (!irhal_executable_key_equal(&entry->key, key)) continue;
    if (!entry->executable) return entry;
    if (irhal_executable_try_retain(entry->executable)) {
      *out_executable = entry->executable;
      return entry;
    }
  }
  return NULL;
}

//===----------------------------------------------------------------------===//
// Caches
//===----------------------------------------------------------------------===//

irt_status_t irhal_executable_cache_create(
    irhal_device_t* device, irt_allocator_t host_allocator,
    irhal_executable_cache_t** out_cache) {
  *out_cache = NULL;
  irhal_executable_cache_t* cache = NULL;
  IRT_RETURN_IF_ERROR(
      irt_allocator_calloc(host_allocator, sizeof(*cache), (void**)&cache));
  irt_ref_count_init(&cache->ref_count);
  cache->host_allocator = host_allocator;
  cache->device = device;
  cache->users = 1;
  pthread_mutex_init(&cache->mutex, NULL);
  pthread_cond_init(&cache->settled, NULL);
  *out_cache = cache;
  return IRT_OK;
}

// Shared caches with users, by device. A cache leaves the list when its last
// user goes, so the device address it is keyed by is alive while listed.
static pthread_mutex_t irhal_shared_caches_mutex = PTHREAD_MUTEX_INITIALIZER;
static irhal_executable_cache_t* irhal_shared_caches = NULL;

irt_status_t irhal_executable_cache_acquire_shared(
    irhal_device_t* device, irhal_executable_cache_t** out_cache) {
  *out_cache = NULL;
  pthread_mutex_lock(&irhal_shared_caches_mutex);
  irhal_executable_cache_t* cache = irhal_shared_caches;
  while (cache && cache->device != device) cache = cache->next_shared;
  irt_status_t status = IRT_OK;
  if (cache) {
    ++cache->users;
    irt_ref_count_retain(&cache->ref_count);
  } else {
    status =
        irhal_executable_cache_create(device, device->host_allocator, &cache);
    if (irt_status_is_ok(status)) {
      irhal_device_retain(device);
      cache->shared = true;
      cache->next_shared = irhal_shared_caches;
      irhal_shared_caches = cache;
    }
  }
  pthread_mutex_unlock(&irhal_shared_caches_mutex);
  *out_cache = cache;
  return status;
}

void irhal_executable_cache_release(irhal_executable_cache_t* cache) {
  if (!cache) return;
  pthread_mutex_lock(&irhal_shared_caches_mutex);
  bool last_user = --cache->users == 0;
  if (last_user && cache->shared) {
    irhal_executable_cache_t** link = &irhal_shared_caches;
    while (*link != cache) link = &(*link)->next_shared;
    *link = cache->next_shared;
  }
  pthread_mutex_unlock(&irhal_shared_caches_mutex);
  if (last_user && cache->shared) irhal_device_release(cache->device);
  irhal_executable_cache_unref(cache);
}

irt_status_t irhal_executable_cache_prepare(
    irhal_executable_cache_t* cache, irt_string_view_t format,
    const uint8_t* data, size_t size, const irvm_ref_t* data_owner,
    const uint32_t* constants, uint32_t constant_count,
    irhal_executable_t** out_executable) {
  *out_executable = NULL;
  irhal_executable_key_t key =
      irhal_executable_key(format, data, size, constants, constant_count);

  pthread_mutex_lock(&cache->mutex);
  irhal_executable_cache_entry_t* entry = NULL;
  irhal_executable_t* executable = NULL;
  while ((entry = irhal_executable_cache_lookup(cache, &key, &executable)) &&
         !executable) {
    pthread_cond_wait(&cache->settled, &cache->mutex);
  }
  if (executable) {
    ++cache->stats.hits;
    pthread_mutex_unlock(&cache->mutex);
    *out_executable = executable;
    return IRT_OK;
  }
  ++cache->stats.misses;
  irt_status_t status =
      irhal_executable_cache_entry_create(cache, &key, data_owner, &entry);
  if (!irt_status_is_ok(status)) {
    pthread_mutex_unlock(&cache->mutex);
    return status;
  }
  // Pending: prepares of the same key wait instead of creating it again,
  // while other keys go on.
  status = irhal_executable_cache_link(cache, entry);
  pthread_mutex_unlock(&cache->mutex);
  if (!irt_status_is_ok(status)) {
    irhal_executable_cache_entry_free(entry);
    return status;
  }

  irhal_device_t* device = cache->device;
  status =
      device->vtable->create_executable(device, format, data, size, data_owner,
                                        constants, constant_count, &executable);

  pthread_mutex_lock(&cache->mutex);
  if (irt_status_is_ok(status)) {
    executable->cache_entry = entry;
    entry->executable = executable;
    ++cache->stats.entries;
  } else {
    irhal_executable_cache_unlink(cache, entry);
  }
  pthread_cond_broadcast(&cache->settled);
  pthread_mutex_unlock(&cache->mutex);
  if (!irt_status_is_ok(status)) {
    irhal_executable_cache_entry_free(entry);
    return status;
  }
  *out_executable = executable;
  return IRT_OK;
}

void irhal_executable_cache_forget(irhal_executable_cache_entry_t* entry) {
  irhal_executable_cache_t* cache = entry->cache;
  pthread_mutex_lock(&cache->mutex);
  irhal_executable_cache_unlink(cache, entry);
  --cache->stats.entries;
  pthread_mutex_unlock(&cache->mutex);
  irhal_executable_cache_entry_free(entry);
}

void irhal_executable_cache_trim(irhal_executable_cache_t* cache) {
  pthread_mutex_lock(&cache->mutex);
  size_t bucket_count =
      cache->entry_count ? irhal_executable_cache_fit(cache->entry_count) : 0;
  if (bucket_count < cache->bucket_count) {
    // Shrinking allocates the smaller table first; failing keeps the old.
    irt_status_free(irhal_executable_cache_rehash(cache, bucket_count));
  }
  pthread_mutex_unlock(&cache->mutex);
}

irhal_executable_cache_stats_t irhal_executable_cache_stats(
    irhal_executable_cache_t* cache) {
  pthread_mutex_lock(&cache->mutex);
  irhal_executable_cache_stats_t stats = cache->stats;
  pthread_mutex_unlock(&cache->mutex);
  return stats;
}
