// Helpers shared by the vm.buffer / vm.list tests: a ref type whose objects
// count their destruction, status assertions, and an allocator that refuses
// huge requests (so size-limit paths never ask the real heap, or ASan, for
// terabytes).
#ifndef TESTS_VM_OBJECTS_TEST_UTIL_H
#define TESTS_VM_OBJECTS_TEST_UTIL_H

#include <stdlib.h>
#include <string.h>

#include "runtime/base/allocator.h"
#include "runtime/base/status.h"
#include "runtime/vm/ref.h"

// Consumes |status| and checks its code and that its message contains
// |needle| (may be NULL).
#define assert_status(expr, code, needle)                       \
  do {                                                          \
    irt_status_t status_ = (expr);                              \
    assert_int_equal(irt_status_code(status_), (code));         \
    const char* needle_ = (needle);                             \
    if (needle_) {                                              \
      const char* message_ = irt_status_message(status_);       \
      if (!strstr(message_, needle_)) {                         \
        fail_msg("message '%s' lacks '%s'", message_, needle_); \
      }                                                         \
    }                                                           \
    irt_status_free(status_);                                   \
  } while (0)

#define assert_ok(expr) assert_status((expr), IRT_STATUS_OK, NULL)

typedef struct test_object_s {
  irvm_ref_object_t header;
  int* destroyed;  // incremented when the object is destroyed
} test_object_t;

static inline void test_object_destroy(void* object) {
  test_object_t* test_object = object;
  ++*test_object->destroyed;
  free(test_object);
}

static inline const irvm_ref_type_t* test_type_a(void) {
  static const irvm_ref_type_t type = {"test.a", test_object_destroy};
  return &type;
}

static inline const irvm_ref_type_t* test_type_b(void) {
  static const irvm_ref_type_t type = {"test.b", test_object_destroy};
  return &type;
}

// A new object of |type| (one reference) counting into |destroyed|.
static inline irvm_ref_t test_object_new(const irvm_ref_type_t* type,
                                         int* destroyed) {
  test_object_t* object = calloc(1, sizeof(*object));
  irt_ref_count_init(&object->header.count);
  object->destroyed = destroyed;
  return irvm_ref_wrap(object, type);
}

static inline int32_t test_ref_count(const irvm_ref_t* ref) {
  return irt_ref_count_load(&((irvm_ref_object_t*)ref->ptr)->count);
}

// The system heap, refusing requests above 1 GiB.
static inline void* test_capped_realloc(void* self, void* ptr, size_t size) {
  (void)self;
  if (size > ((size_t)1 << 30)) return NULL;
  return realloc(ptr, size ? size : 1);
}
static inline void test_capped_free(void* self, void* ptr) {
  (void)self;
  free(ptr);
}
static inline irt_allocator_t test_capped_allocator(void) {
  static const irt_allocator_vtable_t vtable = {test_capped_realloc,
                                                test_capped_free};
  irt_allocator_t allocator = {&vtable, NULL};
  return allocator;
}

#endif  // TESTS_VM_OBJECTS_TEST_UTIL_H
