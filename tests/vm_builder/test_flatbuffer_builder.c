// The FlatBuffer writer, read back with the project's verifying reader.
#include <stdio.h>

#include "runtime/vm/builder/flatbuffer_builder.h"
#include "runtime/vm/format/flatbuffer.h"
#include "tests/vm_builder/builder_test.h"

typedef struct fb_test_s {
  irvm_fb_builder_t fbb;
  const uint8_t* data;
  size_t size;
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
} fb_test_t;

static void fb_begin(fb_test_t* t) {
  memset(t, 0, sizeof(*t));
  irvm_fb_builder_init(&t->fbb, irt_allocator_system());
}

static void fb_end(fb_test_t* t, irvm_fb_ref_t root, bool size_prefixed) {
  ASSERT_OK(
      irvm_fb_finish(&t->fbb, root, "TEST", size_prefixed, &t->data, &t->size));
  const uint8_t* fb = t->data + (size_prefixed ? 4 : 0);
  size_t fb_size = t->size - (size_prefixed ? 4 : 0);
  if (size_prefixed) assert_int_equal(irvm_load_u32(t->data), fb_size);
  ASSERT_OK(irvm_fb_reader_init(&t->reader, fb, fb_size, size_prefixed));
  ASSERT_OK(irvm_fb_reader_root(&t->reader, "TEST", &t->root));
}

static void test_scalars_strings_and_defaults(void** state) {
  (void)state;
  fb_test_t t;
  fb_begin(&t);
  irvm_fb_ref_t name = 0;
  ASSERT_OK(irvm_fb_create_string(&t.fbb, "hello", 5, &name));
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 0, name));
  ASSERT_OK(irvm_fb_table_add_u8(&t.fbb, 1, 7, 0));
  ASSERT_OK(irvm_fb_table_add_u32(&t.fbb, 2, 1, 1));  // default: omitted
  ASSERT_OK(irvm_fb_table_add_i32(&t.fbb, 3, -5, 0));
  ASSERT_OK(irvm_fb_table_add_u64(&t.fbb, 4, 0x1122334455667788ull, 0));
  ASSERT_OK(irvm_fb_table_add_scalar(&t.fbb, 5, 0, 4));  // forced default
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 6, 0));     // null: omitted
  irvm_fb_ref_t root = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &root));
  fb_end(&t, root, false);

  irt_string_view_t text;
  bool present = false;
  ASSERT_OK(irvm_fb_table_string(&t.root, 0, &text, &present));
  assert_true(present);
  ASSERT_SV(text, "hello");
  uint8_t u8 = 0;
  ASSERT_OK(irvm_fb_table_u8(&t.root, 1, 0, &u8));
  assert_int_equal(u8, 7);
  assert_false(irvm_fb_table_has(&t.root, 2));
  int32_t i32 = 0;
  ASSERT_OK(irvm_fb_table_i32(&t.root, 3, 0, &i32));
  assert_int_equal(i32, -5);
  uint64_t u64 = 0;  // the reader also checks its 8-byte alignment
  ASSERT_OK(irvm_fb_table_u64(&t.root, 4, 0, &u64));
  assert_true(u64 == 0x1122334455667788ull);
  assert_true(irvm_fb_table_has(&t.root, 5));
  assert_false(irvm_fb_table_has(&t.root, 6));
  assert_int_equal(t.size % 8, 0);  // padded to the largest alignment
  irvm_fb_builder_deinit(&t.fbb);
}

static void test_vectors(void** state) {
  (void)state;
  fb_test_t t;
  fb_begin(&t);
  const uint8_t bytes[3] = {1, 2, 3};
  const uint8_t structs[2][8] = {{1, 0, 0, 0, 0, 0, 0, 0},
                                 {2, 0, 0, 0, 0, 0, 0, 0}};
  irvm_fb_ref_t byte_vector = 0, struct_vector = 0, strings[2] = {0, 0};
  ASSERT_OK(irvm_fb_create_vector(&t.fbb, bytes, 3, 1, 1, &byte_vector));
  ASSERT_OK(irvm_fb_create_vector(&t.fbb, structs, 2, 8, 8, &struct_vector));
  ASSERT_OK(irvm_fb_create_string(&t.fbb, "a", 1, &strings[0]));
  ASSERT_OK(irvm_fb_create_string(&t.fbb, "", 0, &strings[1]));
  irvm_fb_ref_t string_vector = 0;
  ASSERT_OK(irvm_fb_create_offset_vector(&t.fbb, strings, 2, &string_vector));
  // A vector of unions: tags [1, 0] and values [table, none].
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  irvm_fb_ref_t member = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &member));
  const uint8_t tags[2] = {1, 0};
  irvm_fb_ref_t values[2] = {member, 0};
  irvm_fb_ref_t tag_vector = 0, value_vector = 0, empty = 0;
  ASSERT_OK(irvm_fb_create_vector(&t.fbb, tags, 2, 1, 1, &tag_vector));
  ASSERT_OK(irvm_fb_create_offset_vector(&t.fbb, values, 2, &value_vector));
  ASSERT_OK(irvm_fb_create_vector(&t.fbb, NULL, 0, 4, 4, &empty));
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 0, byte_vector));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 1, struct_vector));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 2, string_vector));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 3, tag_vector));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 4, value_vector));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 5, empty));
  irvm_fb_ref_t root = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &root));
  fb_end(&t, root, false);

  irvm_fb_vector_t vector;
  ASSERT_OK(irvm_fb_table_vector(&t.root, 0, 1, 1, &vector));
  assert_int_equal(vector.count, 3);
  ASSERT_BYTES(irvm_fb_vector_element(&vector, 0), 3, 1, 2, 3);
  ASSERT_OK(irvm_fb_table_vector(&t.root, 1, 8, 8, &vector));
  assert_int_equal(vector.count, 2);
  assert_int_equal(vector.position % 8, 0);
  assert_int_equal(irvm_load_u64(irvm_fb_vector_element(&vector, 1)), 2);
  ASSERT_OK(irvm_fb_table_vector(&t.root, 2, 4, 4, &vector));
  irt_string_view_t text;
  ASSERT_OK(irvm_fb_vector_string(&vector, 0, &text));
  ASSERT_SV(text, "a");
  ASSERT_OK(irvm_fb_vector_string(&vector, 1, &text));
  ASSERT_SV(text, "");
  irvm_fb_vector_t tag_view, value_view;
  ASSERT_OK(irvm_fb_table_union_vector(&t.root, 3, &tag_view, &value_view));
  uint8_t tag = 0;
  irvm_fb_table_t value;
  bool present = false;
  ASSERT_OK(irvm_fb_union_vector_get(&tag_view, &value_view, 0, &tag, &value,
                                     &present));
  assert_int_equal(tag, 1);
  assert_true(present);
  ASSERT_OK(irvm_fb_union_vector_get(&tag_view, &value_view, 1, &tag, &value,
                                     &present));
  assert_int_equal(tag, 0);
  assert_false(present);
  ASSERT_OK(irvm_fb_table_vector(&t.root, 5, 4, 4, &vector));
  assert_true(vector.present);
  assert_int_equal(vector.count, 0);
  irvm_fb_builder_deinit(&t.fbb);
}

static irvm_fb_ref_t fb_pair_table(irvm_fb_builder_t* fbb, uint32_t a,
                                   uint32_t b) {
  irvm_fb_ref_t ref = 0;
  ASSERT_OK(irvm_fb_table_begin(fbb));
  ASSERT_OK(irvm_fb_table_add_u32(fbb, 0, a, 0));
  ASSERT_OK(irvm_fb_table_add_u32(fbb, 1, b, 0));
  ASSERT_OK(irvm_fb_table_end(fbb, &ref));
  return ref;
}

static void test_vtables_are_shared(void** state) {
  (void)state;
  fb_test_t t;
  fb_begin(&t);
  irvm_fb_ref_t tables[3] = {
      fb_pair_table(&t.fbb, 1, 2),
      fb_pair_table(&t.fbb, 3, 4),  // same shape: shares the first vtable
      fb_pair_table(&t.fbb, 5, 0),  // field 1 absent: a vtable of its own
  };
  irvm_fb_ref_t vector = 0;
  ASSERT_OK(irvm_fb_create_offset_vector(&t.fbb, tables, 3, &vector));
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 0, vector));
  irvm_fb_ref_t root = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &root));
  fb_end(&t, root, false);

  irvm_fb_vector_t view;
  ASSERT_OK(irvm_fb_table_vector(&t.root, 0, 4, 4, &view));
  irvm_fb_table_t read[3];
  for (uint32_t i = 0; i < 3; ++i) {
    ASSERT_OK(irvm_fb_vector_table(&view, i, &read[i]));
    uint32_t a = 0, b = 0;
    ASSERT_OK(irvm_fb_table_u32(&read[i], 0, 0, &a));
    ASSERT_OK(irvm_fb_table_u32(&read[i], 1, 0, &b));
    assert_int_equal(a, 2 * i + 1);
    assert_int_equal(b, i == 2 ? 0 : 2 * i + 2);
  }
  assert_int_equal(read[0].vtable, read[1].vtable);
  assert_true(read[1].vtable > read[1].position);  // negative soffset
  assert_true(read[0].vtable != read[2].vtable);
  irvm_fb_builder_deinit(&t.fbb);
}

static void test_size_prefixed_alignment(void** state) {
  (void)state;
  fb_test_t t;
  fb_begin(&t);
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  ASSERT_OK(irvm_fb_table_add_u64(&t.fbb, 0, 42, 0));
  irvm_fb_ref_t root = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &root));
  fb_end(&t, root, true);
  assert_int_equal(t.size % 8, 0);  // prefix included
  // The u64 lies at 4 mod 8 from the FlatBuffer's byte 0, like iree-compile.
  uint64_t value = 0;
  ASSERT_OK(irvm_fb_table_u64(&t.root, 0, 0, &value));
  assert_int_equal(value, 42);
  uint32_t field =
      t.root.position + irvm_load_u16(t.reader.data + t.root.vtable + 4);
  assert_int_equal(field % 8, 4);
  irvm_fb_builder_deinit(&t.fbb);
}

static void test_growth_keeps_references(void** state) {
  (void)state;
  fb_test_t t;
  fb_begin(&t);
  enum { kCount = 2000 };
  irvm_fb_ref_t refs[kCount];
  char text[32];
  for (int i = 0; i < kCount; ++i) {
    int length = snprintf(text, sizeof(text), "string-%d", i);
    ASSERT_OK(irvm_fb_create_string(&t.fbb, text, (size_t)length, &refs[i]));
  }
  irvm_fb_ref_t vector = 0;
  ASSERT_OK(irvm_fb_create_offset_vector(&t.fbb, refs, kCount, &vector));
  ASSERT_OK(irvm_fb_table_begin(&t.fbb));
  ASSERT_OK(irvm_fb_table_add_offset(&t.fbb, 0, vector));
  irvm_fb_ref_t root = 0;
  ASSERT_OK(irvm_fb_table_end(&t.fbb, &root));
  fb_end(&t, root, false);
  irvm_fb_vector_t view;
  ASSERT_OK(irvm_fb_table_vector(&t.root, 0, 4, 4, &view));
  assert_int_equal(view.count, kCount);
  for (int i = 0; i < kCount; i += 397) {
    irt_string_view_t read;
    ASSERT_OK(irvm_fb_vector_string(&view, (uint32_t)i, &read));
    snprintf(text, sizeof(text), "string-%d", i);
    ASSERT_SV(read, text);
  }
  irvm_fb_builder_deinit(&t.fbb);
}

static void test_misuse_is_reported(void** state) {
  (void)state;
  irvm_fb_builder_t fbb;
  irvm_fb_builder_init(&fbb, irt_allocator_system());
  irvm_fb_ref_t ref = 0;
  ASSERT_STATUS(irvm_fb_table_add_u32(&fbb, 0, 1, 0),
                IRT_STATUS_FAILED_PRECONDITION, "outside a table");
  ASSERT_STATUS(irvm_fb_table_end(&fbb, &ref), IRT_STATUS_FAILED_PRECONDITION,
                "outside a table");
  ASSERT_OK(irvm_fb_table_begin(&fbb));
  ASSERT_STATUS(irvm_fb_create_string(&fbb, "x", 1, &ref),
                IRT_STATUS_FAILED_PRECONDITION, "inside a table");
  ASSERT_STATUS(irvm_fb_table_begin(&fbb), IRT_STATUS_FAILED_PRECONDITION,
                "inside a table");
  ASSERT_OK(irvm_fb_table_add_u32(&fbb, 1, 5, 0));
  ASSERT_STATUS(irvm_fb_table_add_u32(&fbb, 1, 6, 0),
                IRT_STATUS_INVALID_ARGUMENT, "added twice");
  ASSERT_STATUS(irvm_fb_table_add_u32(&fbb, IRVM_FB_MAX_FIELDS, 6, 0),
                IRT_STATUS_INVALID_ARGUMENT, "exceeds the maximum");
  ASSERT_STATUS(irvm_fb_table_add_scalar(&fbb, 2, 6, 3),
                IRT_STATUS_INVALID_ARGUMENT, "scalar size 3");
  ASSERT_STATUS(irvm_fb_table_add_offset(&fbb, 3, 4096),
                IRT_STATUS_INVALID_ARGUMENT, "not a written object");
  ASSERT_OK(irvm_fb_table_end(&fbb, &ref));
  ASSERT_STATUS(irvm_fb_create_vector(&fbb, NULL, 0, 4, 3, &ref),
                IRT_STATUS_INVALID_ARGUMENT, "alignment 3");
  const uint8_t* data = NULL;
  size_t size = 0;
  ASSERT_OK(irvm_fb_finish(&fbb, ref, NULL, false, &data, &size));
  ASSERT_STATUS(irvm_fb_create_string(&fbb, "x", 1, &ref),
                IRT_STATUS_FAILED_PRECONDITION, "after finish");
  irvm_fb_builder_deinit(&fbb);
}

// Every allocation the builder makes may fail: the error is reported and
// nothing leaks.
static void test_allocation_failures(void** state) {
  (void)state;
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irvm_fb_builder_t fbb;
    irvm_fb_builder_init(&fbb, irt_counting_allocator(&counter));
    irt_status_t status = IRT_OK;
    irvm_fb_ref_t refs[64] = {0}, ref = 0;
    for (int i = 0; status == IRT_OK && i < 64; ++i) {
      status = irvm_fb_create_string(&fbb, "0123456789abcdef", 16, &refs[i]);
      if (status == IRT_OK) status = irvm_fb_table_begin(&fbb);
      if (status == IRT_OK) {
        status = irvm_fb_table_add_u32(&fbb, (uint32_t)(i % 8), 1, 0);
      }
      if (status == IRT_OK) status = irvm_fb_table_end(&fbb, &refs[i]);
    }
    if (status == IRT_OK) {
      status = irvm_fb_create_offset_vector(&fbb, refs, 64, &ref);
    }
    const uint8_t* data = NULL;
    size_t size = 0;
    if (status == IRT_OK) {
      status = irvm_fb_finish(&fbb, ref, "IREE", true, &data, &size);
    }
    irvm_fb_builder_deinit(&fbb);
    assert_int_equal(counter.live_allocations, 0);
    if (status == IRT_OK) {
      assert_true(fail_after > 2);  // some failures were exercised
      break;
    }
    assert_int_equal(irt_status_consume_code(status),
                     IRT_STATUS_RESOURCE_EXHAUSTED);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_scalars_strings_and_defaults),
      cmocka_unit_test(test_vectors),
      cmocka_unit_test(test_vtables_are_shared),
      cmocka_unit_test(test_size_prefixed_alignment),
      cmocka_unit_test(test_growth_keeps_references),
      cmocka_unit_test(test_misuse_is_reported),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
