// The verifying FlatBuffer reader on hand-built buffers: every accessor's
// happy path and each rule of spec 2.2 it enforces.
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/format/flatbuffer.h"

static void w16(uint8_t* buffer, size_t offset, uint16_t value) {
  buffer[offset] = (uint8_t)value;
  buffer[offset + 1] = (uint8_t)(value >> 8);
}
static void w32(uint8_t* buffer, size_t offset, uint32_t value) {
  for (int i = 0; i < 4; ++i) buffer[offset + i] = (uint8_t)(value >> (8 * i));
}

static void expect_error(irt_status_t status, const char* needle) {
  assert_non_null(status);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t code = irt_status_code(status);
  irt_status_free(status);
  if (!strstr(text, needle)) fail_msg("'%s' lacks '%s'", text, needle);
  assert_int_equal(code, IRT_STATUS_INVALID_ARGUMENT);
}

// A table with fields 0 u8, 1 u32, 2 string, 3 [u32], 4 table (whose field
// 0 is an i32); field 5 is absent.
#define BASE_SIZE 88
static void build_base(uint8_t* b) {
  memset(b, 0, BASE_SIZE);
  w32(b, 0, 24);  // root
  memcpy(b + 4, "TEST", 4);
  w16(b, 8, 16);  // vtable: size, table size, 6 field slots
  w16(b, 10, 24);
  w16(b, 12, 4);
  w16(b, 14, 8);
  w16(b, 16, 12);
  w16(b, 18, 16);
  w16(b, 20, 20);
  w16(b, 22, 0);
  w32(b, 24, 16);  // root table: vtable at 24 - 16
  b[28] = 7;
  w32(b, 32, 0xDEADBEEF);
  w32(b, 36, 12);  // -> string at 48
  w32(b, 40, 16);  // -> vector at 56
  w32(b, 44, 28);  // -> table at 72
  w32(b, 48, 3);
  memcpy(b + 52, "abc", 4);
  w32(b, 56, 2);
  w32(b, 60, 1);
  w32(b, 64, 2);
  w32(b, 72, (uint32_t)-8);  // child: vtable at 80
  w32(b, 76, 42);
  w16(b, 80, 6);
  w16(b, 82, 8);
  w16(b, 84, 4);
}

static irt_status_t open_root(irvm_fb_reader_t* reader, const uint8_t* b,
                              size_t size, irvm_fb_table_t* root) {
  IRT_RETURN_IF_ERROR(irvm_fb_reader_init(reader, b, size, false));
  return irvm_fb_reader_root(reader, "TEST", root);
}

static void test_reads_fields(void** state) {
  (void)state;
  uint8_t* b = malloc(BASE_SIZE);
  build_base(b);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  assert_null(open_root(&reader, b, BASE_SIZE, &root));
  uint8_t u8 = 0;
  assert_null(irvm_fb_table_u8(&root, 0, 9, &u8));
  assert_int_equal(u8, 7);
  uint32_t u32 = 0;
  assert_null(irvm_fb_table_u32(&root, 1, 0, &u32));
  assert_int_equal(u32, 0xDEADBEEF);
  irt_string_view_t text;
  bool present = false;
  assert_null(irvm_fb_table_string(&root, 2, &text, &present));
  assert_true(present);
  assert_int_equal(text.size, 3);
  assert_memory_equal(text.data, "abc", 3);
  irvm_fb_vector_t vector;
  assert_null(irvm_fb_table_vector(&root, 3, 4, 4, &vector));
  assert_true(vector.present);
  assert_int_equal(vector.count, 2);
  assert_int_equal(irvm_load_u32(irvm_fb_vector_element(&vector, 1)), 2);
  irvm_fb_table_t child;
  assert_null(irvm_fb_table_table(&root, 4, &child, &present));
  assert_true(present);
  assert_int_equal(child.depth, 2);
  int32_t i32 = 0;
  assert_null(irvm_fb_table_i32(&child, 0, 0, &i32));
  assert_int_equal(i32, 42);
  // Absent fields (a zero slot, or beyond the vtable) read as defaults.
  uint64_t u64 = 0;
  assert_false(irvm_fb_table_has(&root, 5));
  assert_null(irvm_fb_table_u64(&root, 5, 77, &u64));
  assert_int_equal(u64, 77);
  assert_null(irvm_fb_table_u32(&root, 40, 5, &u32));
  assert_int_equal(u32, 5);
  assert_null(irvm_fb_table_string(&child, 3, &text, &present));
  assert_false(present);
  assert_non_null(text.data);
  assert_int_equal(text.size, 0);
  assert_null(irvm_fb_table_vector(&child, 3, 4, 4, &vector));
  assert_false(vector.present);
  assert_int_equal(vector.count, 0);
  assert_null(irvm_fb_table_table(&child, 1, &child, &present));
  assert_false(present);
  free(b);
}

typedef void (*mutation_fn)(uint8_t* b);

static void expect_root_error(mutation_fn mutate, const char* needle) {
  uint8_t* b = malloc(BASE_SIZE);
  build_base(b);
  mutate(b);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  expect_error(open_root(&reader, b, BASE_SIZE, &root), needle);
  free(b);
}

static void root_out_of_bounds(uint8_t* b) { w32(b, 0, BASE_SIZE); }
static void root_misaligned(uint8_t* b) { w32(b, 0, 26); }
static void vtable_after_end(uint8_t* b) { w32(b, 24, (uint32_t)-1000); }
static void vtable_before_start(uint8_t* b) { w32(b, 24, 1000); }
static void vtable_odd(uint8_t* b) { w32(b, 24, 15); }
static void vtable_size_odd(uint8_t* b) { w16(b, 8, 15); }
static void vtable_size_small(uint8_t* b) { w16(b, 8, 2); }
static void vtable_past_end(uint8_t* b) { w16(b, 8, 200); }
static void table_past_end(uint8_t* b) { w16(b, 10, 100); }
static void wrong_identifier(uint8_t* b) { memcpy(b + 4, "TES\x01", 4); }

static void test_table_rules(void** state) {
  (void)state;
  expect_root_error(root_out_of_bounds, "root table offset at 0x0 points to");
  expect_root_error(root_misaligned, "not 4-byte aligned");
  expect_root_error(vtable_after_end, "has its vtable at 1024");
  expect_root_error(vtable_before_start, "has its vtable at -976");
  expect_root_error(vtable_odd, "is misaligned");
  expect_root_error(vtable_size_odd, "invalid size 15");
  expect_root_error(vtable_size_small, "invalid size 2");
  expect_root_error(vtable_past_end, "invalid size 200");
  expect_root_error(table_past_end, "declares 100 bytes");
  expect_root_error(wrong_identifier, "identifier is 'TES?', expected 'TEST'");
  irvm_fb_reader_t reader;
  expect_error(
      irvm_fb_reader_init(&reader, (const uint8_t*)"1234567", 7, false),
      "too small");
}

// Applies |mutate| and expects reading field |field| of the root (through
// |read|) to fail with |needle|.
typedef irt_status_t (*read_fn)(const irvm_fb_table_t* root);

static irt_status_t read_u32(const irvm_fb_table_t* root) {
  uint32_t value = 0;
  return irvm_fb_table_u32(root, 1, 0, &value);
}
static irt_status_t read_string(const irvm_fb_table_t* root) {
  irt_string_view_t text;
  return irvm_fb_table_string(root, 2, &text, NULL);
}
static irt_status_t read_vector(const irvm_fb_table_t* root) {
  irvm_fb_vector_t vector;
  return irvm_fb_table_vector(root, 3, 4, 4, &vector);
}
static irt_status_t read_vector_u64(const irvm_fb_table_t* root) {
  irvm_fb_vector_t vector;
  return irvm_fb_table_vector(root, 3, 8, 8, &vector);
}
static irt_status_t read_table(const irvm_fb_table_t* root) {
  irvm_fb_table_t child;
  bool present = false;
  return irvm_fb_table_table(root, 4, &child, &present);
}

static void expect_field_error(mutation_fn mutate, read_fn read,
                               const char* needle) {
  uint8_t* b = malloc(BASE_SIZE);
  build_base(b);
  if (mutate) mutate(b);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  assert_null(open_root(&reader, b, BASE_SIZE, &root));
  expect_error(read(&root), needle);
  free(b);
}

static void field_past_table(uint8_t* b) { w16(b, 14, 22); }
static void field_misaligned(uint8_t* b) { w16(b, 14, 6); }
static void string_too_long(uint8_t* b) { w32(b, 48, 0xFFFFFFF0); }
static void string_unterminated(uint8_t* b) { b[55] = 'd'; }
static void string_past_end(uint8_t* b) { w32(b, 36, 0x1000); }
static void vector_too_long(uint8_t* b) { w32(b, 56, 0x40000000); }
static void table_offset_past_end(uint8_t* b) { w32(b, 44, 0xFFFFFFF0); }
static void child_vtable_bad(uint8_t* b) { w16(b, 80, 1); }

static void test_field_rules(void** state) {
  (void)state;
  expect_field_error(field_past_table, read_u32,
                     "field 1 of the table at 0x18 (offset 22, 4 bytes) lies "
                     "outside the table's 24 bytes");
  expect_field_error(field_misaligned, read_u32, "is misaligned (0x1E)");
  expect_field_error(string_too_long, read_string, "runs past the end");
  expect_field_error(string_unterminated, read_string,
                     "lacks its NUL terminator");
  expect_field_error(string_past_end, read_string,
                     "string offset at 0x24 points to 0x1024");
  expect_field_error(vector_too_long, read_vector,
                     "vector at 0x38 of 1073741824 elements of 4 bytes runs "
                     "past the end");
  // The vector's elements start at 60: not 8-aligned.
  expect_field_error(NULL, read_vector_u64, "not aligned to its 8-byte");
  expect_field_error(table_offset_past_end, read_table, "outside the 88-byte");
  expect_field_error(child_vtable_bad, read_table, "invalid size 1");
}

// A size-prefixed buffer aligns 8-byte data relative to its prefix.
static void test_size_prefixed_alignment(void** state) {
  (void)state;
  uint8_t* b = malloc(BASE_SIZE);
  build_base(b);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  assert_null(irvm_fb_reader_init(&reader, b, BASE_SIZE, true));
  assert_null(irvm_fb_reader_root(&reader, "TEST", &root));
  irvm_fb_vector_t vector;
  assert_null(irvm_fb_table_vector(&root, 3, 8, 8, &vector));
  assert_int_equal(vector.count, 2);
  free(b);
}

// Union and union-vector fields (spec 2.1).
#define UNION_SIZE 80
static void build_unions(uint8_t* b) {
  memset(b, 0, UNION_SIZE);
  w32(b, 0, 20);
  memcpy(b + 4, "TEST", 4);
  w16(b, 8, 12);  // vtable: tags, values, single union tag, single value
  w16(b, 10, 20);
  w16(b, 12, 4);
  w16(b, 14, 8);
  w16(b, 16, 12);
  w16(b, 18, 16);
  w32(b, 20, 12);  // root table at 20, vtable at 8
  w32(b, 24, 16);  // -> tags at 40
  w32(b, 28, 20);  // -> values at 48
  b[32] = 1;       // single union: tag 1
  w32(b, 36, 28);  // -> table at 64
  w32(b, 40, 2);   // tags [1, 0]
  b[44] = 1;
  w32(b, 48, 2);  // values [-> 64, none]
  w32(b, 52, 12);
  w32(b, 64, (uint32_t)-8);  // leaf table, vtable at 72
  w32(b, 68, 5);
  w16(b, 72, 6);
  w16(b, 74, 8);
  w16(b, 76, 4);
}

static void test_unions(void** state) {
  (void)state;
  uint8_t* b = malloc(UNION_SIZE);
  build_unions(b);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root, value;
  assert_null(open_root(&reader, b, UNION_SIZE, &root));
  uint8_t tag = 0;
  bool present = false;
  assert_null(irvm_fb_table_union(&root, 2, &tag, &value, &present));
  assert_int_equal(tag, 1);
  assert_true(present);
  int32_t field = 0;
  assert_null(irvm_fb_table_i32(&value, 0, 0, &field));
  assert_int_equal(field, 5);
  irvm_fb_vector_t tags, values;
  assert_null(irvm_fb_table_union_vector(&root, 0, &tags, &values));
  assert_int_equal(tags.count, 2);
  assert_null(
      irvm_fb_union_vector_get(&tags, &values, 0, &tag, &value, &present));
  assert_int_equal(tag, 1);
  assert_true(present);
  assert_null(
      irvm_fb_union_vector_get(&tags, &values, 1, &tag, &value, &present));
  assert_int_equal(tag, 0);
  assert_false(present);

  // A tag vector longer than the value vector.
  w32(b, 40, 3);
  expect_error(irvm_fb_table_union_vector(&root, 0, &tags, &values),
               "has 3 type tags but 2 values");
  w32(b, 40, 2);
  // A union value pointing outside the buffer.
  w32(b, 52, 1000);
  assert_null(irvm_fb_table_union_vector(&root, 0, &tags, &values));
  expect_error(
      irvm_fb_union_vector_get(&tags, &values, 0, &tag, &value, &present),
      "outside the 80-byte FlatBuffer");
  // Tag 0 ignores the value field; a tag without a value yields nothing.
  b[32] = 0;
  w32(b, 36, 1000);
  assert_null(irvm_fb_table_union(&root, 2, &tag, &value, &present));
  assert_false(present);
  b[32] = 3;
  w16(b, 18, 0);
  assert_null(irvm_fb_table_union(&root, 2, &tag, &value, &present));
  assert_int_equal(tag, 3);
  assert_false(present);
  free(b);
}

// A chain of tables each pointing at the next: the depth limit stops it.
static void test_depth_limit(void** state) {
  (void)state;
  const uint32_t tables = 80;
  const size_t size = 16 + tables * 8;
  uint8_t* b = calloc(1, size);
  w32(b, 0, 16);
  memcpy(b + 4, "TEST", 4);
  w16(b, 8, 6);
  w16(b, 10, 8);
  w16(b, 12, 4);
  for (uint32_t i = 0; i < tables; ++i) {
    uint32_t position = 16 + i * 8;
    w32(b, position, position - 8);
    w32(b, position + 4, 4);
  }
  irvm_fb_reader_t reader;
  irvm_fb_table_t table;
  assert_null(open_root(&reader, b, size, &table));
  uint32_t descents = 0;
  irt_status_t status = IRT_OK;
  while (status == IRT_OK) {
    bool present = false;
    status = irvm_fb_table_table(&table, 0, &table, &present);
    if (status == IRT_OK) ++descents;
  }
  expect_error(status, "nests deeper than 64 levels");
  assert_int_equal(descents, IRVM_FB_MAX_DEPTH - 1);
  free(b);
}

// Many offsets to one table with a large vector: the node budget stops the
// quadratic walk.
static void test_node_budget(void** state) {
  (void)state;
  const uint32_t n = 500, m = 500;
  const uint32_t shared = 28 + 4 * n;
  const size_t size = shared + 12 + 4 * m;
  uint8_t* b = calloc(1, size);
  w32(b, 0, 16);
  memcpy(b + 4, "TEST", 4);
  w16(b, 8, 6);
  w16(b, 10, 8);
  w16(b, 12, 4);
  w32(b, 16, 8);  // root: field 0 -> vector at 24
  w32(b, 20, 4);
  w32(b, 24, n);
  for (uint32_t i = 0; i < n; ++i) w32(b, 28 + 4 * i, shared - (28 + 4 * i));
  w32(b, shared, shared - 8);  // the shared table: field 0 -> its vector
  w32(b, shared + 4, 4);
  w32(b, shared + 8, m);
  irvm_fb_reader_t reader;
  irvm_fb_table_t root;
  assert_null(open_root(&reader, b, size, &root));
  irvm_fb_vector_t tables;
  assert_null(irvm_fb_table_vector(&root, 0, 4, 4, &tables));
  irt_status_t status = IRT_OK;
  uint32_t visited = 0;
  for (uint32_t i = 0; i < tables.count && status == IRT_OK; ++i, ++visited) {
    irvm_fb_table_t table;
    status = irvm_fb_vector_table(&tables, i, &table);
    irvm_fb_vector_t values;
    if (status == IRT_OK) {
      status = irvm_fb_table_vector(&table, 0, 4, 4, &values);
    }
  }
  expect_error(status, "too many tables, strings and vector elements");
  assert_true(visited < 10);
  free(b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_reads_fields),
      cmocka_unit_test(test_table_rules),
      cmocka_unit_test(test_field_rules),
      cmocka_unit_test(test_size_prefixed_alignment),
      cmocka_unit_test(test_unions),
      cmocka_unit_test(test_depth_limit),
      cmocka_unit_test(test_node_budget),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
