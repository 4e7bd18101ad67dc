// Executable caches (hal/executable_cache.h) over a counting fake device:
// hits for the same key at any address, misses for other formats, constants
// or bytes, weak entries that go with their executable, owners retained
// instead of copies, creation and allocation failures, shared caches per
// device, and many threads preparing the same keys at once.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hal/executable_cache.h"

//===----------------------------------------------------------------------===//
// A device that counts the executables it creates
//===----------------------------------------------------------------------===//

typedef struct counting_device_s {
  irhal_device_t base;
  atomic_int created;           // create_executable calls that succeeded
  atomic_int destroyed;         // executables destroyed
  long create_delay_ns;         // widens the window for concurrent prepares
  irt_status_code_t fail_code;  // IRT_STATUS_OK: create succeeds
  bool* destroyed_flag;         // set when the device goes
  // Where executables count their destruction: |destroyed| unless a test
  // lets executables outlive the device.
  atomic_int* destroyed_sink;
} counting_device_t;

typedef struct counting_executable_s {
  irhal_executable_t base;
  atomic_int* destroyed;
} counting_executable_t;

static void counting_executable_destroy(irhal_executable_t* base) {
  counting_executable_t* executable = (counting_executable_t*)base;
  atomic_fetch_add(executable->destroyed, 1);
  free(executable);
}

static const irhal_executable_vtable_t counting_executable_vtable = {
    counting_executable_destroy};

static irt_status_t counting_create_executable(
    irhal_device_t* base, irt_string_view_t format, const uint8_t* data,
    size_t size, const irvm_ref_t* data_owner, const uint32_t* constants,
    uint32_t constant_count, irhal_executable_t** out_executable) {
  (void)format, (void)data, (void)size, (void)data_owner, (void)constants,
      (void)constant_count;
  counting_device_t* device = (counting_device_t*)base;
  if (device->create_delay_ns) {
    struct timespec delay = {0, device->create_delay_ns};
    nanosleep(&delay, NULL);
  }
  if (device->fail_code != IRT_STATUS_OK) {
    return irt_make_status(device->fail_code, "counting device: refused");
  }
  counting_executable_t* executable = calloc(1, sizeof(*executable));
  assert_non_null(executable);
  irhal_executable_initialize(&executable->base, &counting_executable_vtable);
  executable->destroyed = device->destroyed_sink;
  atomic_fetch_add(&device->created, 1);
  *out_executable = &executable->base;
  return IRT_OK;
}

static void counting_device_destroy(irhal_device_t* base) {
  counting_device_t* device = (counting_device_t*)base;
  if (device->destroyed_flag) *device->destroyed_flag = true;
  free(device);
}

static const irhal_device_vtable_t counting_device_vtable = {
    .destroy = counting_device_destroy,
    .create_executable = counting_create_executable,
};

static counting_device_t* counting_device_create(irt_allocator_t allocator) {
  counting_device_t* device = calloc(1, sizeof(*device));
  assert_non_null(device);
  irhal_device_initialize(&device->base, &counting_device_vtable,
                          irt_make_cstring_view("counting"), allocator);
  device->destroyed_sink = &device->destroyed;
  return device;
}

//===----------------------------------------------------------------------===//
// Fixture: a device and a private cache, both on a counting allocator
//===----------------------------------------------------------------------===//

typedef struct fixture_s {
  irt_counting_allocator_t counter;
  counting_device_t* device;
  irhal_executable_cache_t* cache;
} fixture_t;

static void expect_ok(irt_status_t status) {
  if (irt_status_is_ok(status)) return;
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  fail_msg("unexpected error: %s", text);
}

static int setup(void** state) {
  fixture_t* fixture = calloc(1, sizeof(*fixture));
  irt_counting_allocator_init(&fixture->counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&fixture->counter);
  fixture->device = counting_device_create(allocator);
  expect_ok(irhal_executable_cache_create(&fixture->device->base, allocator,
                                          &fixture->cache));
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  fixture_t* fixture = *state;
  irhal_executable_cache_release(fixture->cache);
  irhal_device_release(&fixture->device->base);
  assert_int_equal(fixture->counter.live_allocations, 0);
  free(fixture);
  return 0;
}

static const irt_string_view_t kFormat = {"embedded-elf-x86_64", 19};
static const uint8_t kCode[] =
    "\x7f"
    "ELF some code that is longer than 32 bytes";

static irhal_executable_t* prepare(irhal_executable_cache_t* cache,
                                   irt_string_view_t format,
                                   const uint8_t* data, size_t size,
                                   const uint32_t* constants,
                                   uint32_t constant_count) {
  irhal_executable_t* executable = NULL;
  expect_ok(irhal_executable_cache_prepare(
      cache, format, data, size, NULL, constants, constant_count, &executable));
  assert_non_null(executable);
  return executable;
}

// For other threads, where cmocka cannot fail a test: NULL on failure.
static irhal_executable_t* try_prepare(irhal_executable_cache_t* cache,
                                       const uint8_t* data, size_t size,
                                       const uint32_t* constants,
                                       uint32_t constant_count) {
  irhal_executable_t* executable = NULL;
  irt_status_t status = irhal_executable_cache_prepare(
      cache, kFormat, data, size, NULL, constants, constant_count, &executable);
  if (!irt_status_is_ok(status)) irt_status_free(status);
  return executable;
}

static void expect_stats(irhal_executable_cache_t* cache, uint64_t hits,
                         uint64_t misses, uint64_t entries) {
  irhal_executable_cache_stats_t stats = irhal_executable_cache_stats(cache);
  assert_int_equal(stats.hits, hits);
  assert_int_equal(stats.misses, misses);
  assert_int_equal(stats.entries, entries);
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

static void test_hits_and_misses(void** state) {
  fixture_t* fixture = *state;
  irhal_executable_cache_t* cache = fixture->cache;
  const uint32_t constants[2] = {1, 2};
  const uint32_t other_constants[2] = {1, 3};

  irhal_executable_t* first =
      prepare(cache, kFormat, kCode, sizeof(kCode), constants, 2);
  expect_stats(cache, 0, 1, 1);

  // The same bytes elsewhere in memory: the same executable.
  uint8_t* copy = malloc(sizeof(kCode));
  memcpy(copy, kCode, sizeof(kCode));
  irhal_executable_t* again =
      prepare(cache, kFormat, copy, sizeof(kCode), constants, 2);
  assert_ptr_equal(again, first);
  expect_stats(cache, 1, 1, 1);

  // Other constants, fewer constants, another format, one flipped byte, a
  // shorter prefix: each its own executable.
  irhal_executable_t* others[5];
  others[0] = prepare(cache, kFormat, kCode, sizeof(kCode), other_constants, 2);
  others[1] = prepare(cache, kFormat, kCode, sizeof(kCode), constants, 1);
  others[2] = prepare(cache, irt_make_cstring_view("vmvx-bytecode-fb"), kCode,
                      sizeof(kCode), constants, 2);
  copy[20] ^= 1;
  others[3] = prepare(cache, kFormat, copy, sizeof(kCode), constants, 2);
  others[4] = prepare(cache, kFormat, kCode, sizeof(kCode) - 1, constants, 2);
  for (int i = 0; i < 5; ++i) {
    assert_ptr_not_equal(others[i], first);
    for (int j = 0; j < i; ++j) assert_ptr_not_equal(others[i], others[j]);
  }
  expect_stats(cache, 1, 6, 6);
  assert_int_equal(atomic_load(&fixture->device->created), 6);

  // Each again: all hits; the copy was changed after its entry was made
  // (entries without an owner keep their own copy of the bytes).
  copy[20] ^= 1;
  irhal_executable_t* flipped =
      prepare(cache, kFormat, copy, sizeof(kCode), constants, 2);
  assert_ptr_equal(flipped, first);
  copy[20] ^= 1;
  irhal_executable_t* flipped_again =
      prepare(cache, kFormat, copy, sizeof(kCode), constants, 2);
  assert_ptr_equal(flipped_again, others[3]);
  expect_stats(cache, 3, 6, 6);

  free(copy);
  irhal_executable_release(first);
  irhal_executable_release(again);
  irhal_executable_release(flipped);
  irhal_executable_release(flipped_again);
  for (int i = 0; i < 5; ++i) irhal_executable_release(others[i]);
  expect_stats(cache, 3, 6, 0);
  assert_int_equal(atomic_load(&fixture->device->destroyed), 6);
}

static void test_entries_go_with_the_last_user(void** state) {
  fixture_t* fixture = *state;
  irhal_executable_cache_t* cache = fixture->cache;
  irhal_executable_t* a =
      prepare(cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  irhal_executable_t* b =
      prepare(cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  assert_ptr_equal(a, b);
  irhal_executable_release(a);
  expect_stats(cache, 1, 1, 1);  // |b| still holds it
  irhal_executable_release(b);
  expect_stats(cache, 1, 1, 0);
  assert_int_equal(atomic_load(&fixture->device->destroyed), 1);

  // Nothing kept it alive: preparing again creates it again.
  irhal_executable_t* c =
      prepare(cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  expect_stats(cache, 1, 2, 1);
  assert_int_equal(atomic_load(&fixture->device->created), 2);
  irhal_executable_release(c);

  // Trim gives the table back; the cache works on.
  irhal_executable_cache_trim(cache);
  expect_stats(cache, 1, 2, 0);
  c = prepare(cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  irhal_executable_cache_trim(cache);
  irhal_executable_t* d =
      prepare(cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  assert_ptr_equal(c, d);
  irhal_executable_release(c);
  irhal_executable_release(d);
}

// A ref-able owner of the bytes, counting its references.
typedef struct owner_s {
  irvm_ref_object_t header;
  bool destroyed;
} owner_t;

static void owner_destroy(void* object) {
  ((owner_t*)object)->destroyed = true;
}
static const irvm_ref_type_t owner_type = {"test.owner", owner_destroy};

static void test_owner_retained_instead_of_copy(void** state) {
  fixture_t* fixture = *state;
  owner_t owner;
  irt_ref_count_init(&owner.header.count);
  owner.destroyed = false;
  irvm_ref_t owner_ref = irvm_ref_wrap(&owner, &owner_type);
  irhal_executable_t* executable = NULL;
  expect_ok(irhal_executable_cache_prepare(fixture->cache, kFormat, kCode,
                                           sizeof(kCode), &owner_ref, NULL, 0,
                                           &executable));
  assert_int_equal(irt_ref_count_load(&owner.header.count), 2);
  // A hit from a copy without an owner compares against the owner's bytes.
  uint8_t copy[sizeof(kCode)];
  memcpy(copy, kCode, sizeof(kCode));
  irhal_executable_t* hit =
      prepare(fixture->cache, kFormat, copy, sizeof(copy), NULL, 0);
  assert_ptr_equal(hit, executable);
  irhal_executable_release(hit);
  irhal_executable_release(executable);
  // The entry let go of the owner with the executable.
  assert_int_equal(irt_ref_count_load(&owner.header.count), 1);
  irvm_ref_release(&owner_ref);
  assert_true(owner.destroyed);
}

static void test_create_failure_is_not_cached(void** state) {
  fixture_t* fixture = *state;
  fixture->device->fail_code = IRT_STATUS_INVALID_ARGUMENT;
  irhal_executable_t* executable = NULL;
  for (int i = 0; i < 2; ++i) {
    irt_status_t status = irhal_executable_cache_prepare(
        fixture->cache, kFormat, kCode, sizeof(kCode), NULL, NULL, 0,
        &executable);
    assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
    irt_status_free(status);
    assert_null(executable);
  }
  expect_stats(fixture->cache, 0, 2, 0);
  fixture->device->fail_code = IRT_STATUS_OK;
  executable = prepare(fixture->cache, kFormat, kCode, sizeof(kCode), NULL, 0);
  expect_stats(fixture->cache, 0, 3, 1);
  irhal_executable_release(executable);
}

// Every allocation the cache makes may fail: the error comes back and
// nothing leaks (teardown checks).
static void test_allocation_failures(void** state) {
  fixture_t* fixture = *state;
  for (size_t fail_after = 0;; ++fail_after) {
    fixture->counter.fail_after =
        fixture->counter.total_allocations + fail_after;
    irhal_executable_t* executable = NULL;
    irt_status_t status = irhal_executable_cache_prepare(
        fixture->cache, kFormat, kCode, sizeof(kCode), NULL, NULL, 0,
        &executable);
    fixture->counter.fail_after = SIZE_MAX;
    if (irt_status_is_ok(status)) {
      irhal_executable_release(executable);
      irhal_executable_cache_trim(fixture->cache);
      break;
    }
    assert_int_equal(irt_status_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
    irt_status_free(status);
    assert_true(fail_after < 8);
  }
  assert_int_equal(irhal_executable_cache_stats(fixture->cache).entries, 0);
}

static void test_shared_cache_per_device(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  bool destroyed = false;
  counting_device_t* device =
      counting_device_create(irt_counting_allocator(&counter));
  device->destroyed_flag = &destroyed;
  atomic_int executables_destroyed = 0;
  device->destroyed_sink = &executables_destroyed;
  counting_device_t* other =
      counting_device_create(irt_counting_allocator(&counter));

  irhal_executable_cache_t* a = NULL;
  irhal_executable_cache_t* b = NULL;
  irhal_executable_cache_t* c = NULL;
  expect_ok(irhal_executable_cache_acquire_shared(&device->base, &a));
  expect_ok(irhal_executable_cache_acquire_shared(&device->base, &b));
  expect_ok(irhal_executable_cache_acquire_shared(&other->base, &c));
  assert_ptr_equal(a, b);
  assert_ptr_not_equal(a, c);
  irhal_executable_cache_release(c);
  irhal_device_release(&other->base);

  // The cache keeps the device while it has users; the executable outlives
  // both and then gives the cache (from the device's allocator) back.
  irhal_device_release(&device->base);
  assert_false(destroyed);
  irhal_executable_t* executable =
      prepare(a, kFormat, kCode, sizeof(kCode), NULL, 0);
  irhal_executable_cache_release(a);
  assert_false(destroyed);
  irhal_executable_cache_release(b);
  assert_true(destroyed);
  assert_int_not_equal(counter.live_allocations, 0);
  irhal_executable_release(executable);
  assert_int_equal(atomic_load(&executables_destroyed), 1);
  assert_int_equal(counter.live_allocations, 0);
}

//===----------------------------------------------------------------------===//
// Concurrency
//===----------------------------------------------------------------------===//

enum { kThreads = 16, kKeys = 4, kRounds = 300 };

typedef struct racer_s {
  irhal_executable_cache_t* cache;
  pthread_barrier_t* start;
  int index;
  irhal_executable_t* result;
  int failures;
} racer_t;

static void* race_one_key(void* user_data) {
  racer_t* racer = user_data;
  // Each thread has the bytes at its own address.
  uint8_t copy[sizeof(kCode)];
  memcpy(copy, kCode, sizeof(copy));
  pthread_barrier_wait(racer->start);
  racer->result = try_prepare(racer->cache, copy, sizeof(copy), NULL, 0);
  return NULL;
}

static void test_concurrent_prepare_creates_once(void** state) {
  fixture_t* fixture = *state;
  // The counting allocator is not thread-safe: this cache uses the heap.
  irhal_executable_cache_t* cache = NULL;
  expect_ok(irhal_executable_cache_create(&fixture->device->base,
                                          irt_allocator_system(), &cache));
  fixture->device->create_delay_ns = 20 * 1000 * 1000;
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, kThreads);
  pthread_t threads[kThreads];
  racer_t racers[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    racers[i] = (racer_t){cache, &start, i, NULL, 0};
    assert_int_equal(
        pthread_create(&threads[i], NULL, race_one_key, &racers[i]), 0);
  }
  for (int i = 0; i < kThreads; ++i) pthread_join(threads[i], NULL);
  pthread_barrier_destroy(&start);
  assert_int_equal(atomic_load(&fixture->device->created), 1);
  assert_non_null(racers[0].result);
  for (int i = 0; i < kThreads; ++i) {
    assert_ptr_equal(racers[i].result, racers[0].result);
  }
  expect_stats(cache, kThreads - 1, 1, 1);
  for (int i = 0; i < kThreads; ++i) irhal_executable_release(racers[i].result);
  expect_stats(cache, kThreads - 1, 1, 0);
  irhal_executable_cache_release(cache);
}

// Threads prepare and drop a few keys over and over, so last releases race
// with hits on the same entry.
static void* churn(void* user_data) {
  racer_t* racer = user_data;
  pthread_barrier_wait(racer->start);
  for (int round = 0; round < kRounds; ++round) {
    uint32_t constant = (uint32_t)((round + racer->index) % kKeys);
    irhal_executable_t* executable =
        try_prepare(racer->cache, kCode, sizeof(kCode), &constant, 1);
    irhal_executable_t* again =
        try_prepare(racer->cache, kCode, sizeof(kCode), &constant, 1);
    if (!executable || executable != again) ++racer->failures;
    if (again) irhal_executable_release(again);
    if (executable) irhal_executable_release(executable);
  }
  return NULL;
}

static void test_concurrent_churn(void** state) {
  fixture_t* fixture = *state;
  irhal_executable_cache_t* cache = NULL;
  expect_ok(irhal_executable_cache_create(&fixture->device->base,
                                          irt_allocator_system(), &cache));
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, kThreads);
  pthread_t threads[kThreads];
  racer_t racers[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    racers[i] = (racer_t){cache, &start, i, NULL, 0};
    assert_int_equal(pthread_create(&threads[i], NULL, churn, &racers[i]), 0);
  }
  for (int i = 0; i < kThreads; ++i) {
    pthread_join(threads[i], NULL);
    assert_int_equal(racers[i].failures, 0);
  }
  pthread_barrier_destroy(&start);
  irhal_executable_cache_stats_t stats = irhal_executable_cache_stats(cache);
  assert_int_equal(stats.entries, 0);
  assert_int_equal(stats.hits + stats.misses, 2ull * kThreads * kRounds);
  assert_int_equal(stats.misses,
                   (uint64_t)atomic_load(&fixture->device->created));
  assert_int_equal(atomic_load(&fixture->device->created),
                   atomic_load(&fixture->device->destroyed));
  irhal_executable_cache_release(cache);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_hits_and_misses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_entries_go_with_the_last_user, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_owner_retained_instead_of_copy,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_create_failure_is_not_cached, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_allocation_failures, setup,
                                      teardown),
      cmocka_unit_test(test_shared_cache_per_device),
      cmocka_unit_test_setup_teardown(test_concurrent_prepare_creates_once,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_concurrent_churn, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
