// vm.buffer: creation, flags, element loads/stores/fills, byte-range ops,
// SipHash vectors, and every error path (spec 7.3, 8.2).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
// cmocka needs the headers above first.
#include <cmocka.h>
#include <string.h>

#include "runtime/vm/buffer.h"
#include "tests/vm_objects/test_util.h"

static const char kOob[] = "out-of-bounds access";

static irvm_buffer_t* new_buffer(uint64_t length) {
  irvm_buffer_t* buffer = NULL;
  assert_ok(irvm_buffer_create(length, 0, irt_allocator_system(), &buffer));
  return buffer;
}

// A buffer holding bytes 0, 1, 2, ... (mod 256).
static irvm_buffer_t* new_counting_buffer(uint64_t length) {
  irvm_buffer_t* buffer = new_buffer(length);
  for (size_t i = 0; i < length; ++i) buffer->data[i] = (uint8_t)i;
  return buffer;
}

typedef struct release_record_s {
  int calls;
  void* data;
} release_record_t;

static void record_release(void* user_data, void* data) {
  release_record_t* record = user_data;
  ++record->calls;
  record->data = data;
}

static const uint8_t kRodata[16] = {1, 2,  3,  4,  5,  6,  7,  8,
                                    9, 10, 11, 12, 13, 14, 15, 16};

// A read-only module-owned buffer over kRodata, as rodata segments are.
static irvm_buffer_t* new_rodata(release_record_t* record) {
  irvm_buffer_t* buffer = NULL;
  irvm_buffer_release_t release = {record_release, record};
  assert_ok(irvm_buffer_wrap((void*)kRodata, sizeof(kRodata),
                             IRVM_BUFFER_ORIGIN_MODULE, release,
                             irt_allocator_system(), &buffer));
  return buffer;
}

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

static void test_type_and_deref(void** state) {
  (void)state;
  assert_string_equal(irvm_buffer_type()->name, "vm.buffer");
  irvm_buffer_t* buffer = new_buffer(4);
  irvm_ref_t ref = irvm_ref_wrap(buffer, irvm_buffer_type());
  assert_ptr_equal(irvm_buffer_deref(&ref), buffer);
  irvm_ref_t null_ref = irvm_ref_null();
  assert_null(irvm_buffer_deref(&null_ref));
  // A ref of another type counts as null.
  irvm_ref_t wrong = irvm_ref_wrap(buffer, test_type_a());
  assert_null(irvm_buffer_deref(&wrong));
  irvm_ref_release(&ref);
  assert_null(ref.ptr);
}

static void test_create_defaults(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(100);
  assert_int_equal(irvm_buffer_flags(buffer),
                   IRVM_BUFFER_MUTABLE | IRVM_BUFFER_ORIGIN_GUEST);
  uint64_t length = 0;
  assert_ok(irvm_buffer_length(buffer, &length));
  assert_int_equal(length, 100);
  irvm_const_byte_span_t span = irvm_buffer_data(buffer);
  assert_int_equal(span.length, 100);
  assert_int_equal((uintptr_t)span.data % _Alignof(max_align_t), 0);
  for (size_t i = 0; i < 100; ++i) assert_int_equal(span.data[i], 0);
  irvm_byte_span_t mutable_span = {NULL, 0};
  assert_ok(irvm_buffer_mutable_data(buffer, &mutable_span));
  assert_ptr_equal(mutable_span.data, span.data);
  assert_int_equal(mutable_span.length, 100);
  irvm_buffer_release(buffer);
}

static void test_create_alignment(void** state) {
  (void)state;
  uint32_t alignments[] = {1, 2, 8, 16, 64, 4096, 65536, 1u << 20};
  for (size_t i = 0; i < sizeof(alignments) / sizeof(alignments[0]); ++i) {
    irvm_buffer_t* buffer = NULL;
    assert_ok(
        irvm_buffer_create(33, alignments[i], irt_allocator_system(), &buffer));
    uintptr_t align = alignments[i] > _Alignof(max_align_t)
                          ? alignments[i]
                          : _Alignof(max_align_t);
    assert_int_equal((uintptr_t)buffer->data % align, 0);
    // The whole (zeroed) range is usable.
    assert_ok(irvm_buffer_fill_i8(buffer, 0, 33, 0x5A));
    irvm_buffer_release(buffer);
  }
}

static void test_create_bad_alignment(void** state) {
  (void)state;
  uint32_t bad[] = {3, 6, 48, 0xFFFFFFFFu, 0x80000001u};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); ++i) {
    irvm_buffer_t* buffer = (irvm_buffer_t*)1;
    assert_status(
        irvm_buffer_create(8, bad[i], irt_allocator_system(), &buffer),
        IRT_STATUS_INVALID_ARGUMENT, "power of two");
    assert_null(buffer);
  }
}

static void test_create_zero_length(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(0);
  uint64_t length = 1;
  assert_ok(irvm_buffer_length(buffer, &length));
  assert_int_equal(length, 0);
  int32_t value = 0;
  assert_status(irvm_buffer_load_u8(buffer, 0, &value), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_ok(irvm_buffer_fill_i8(buffer, 0, 0, 1));
  irvm_buffer_release(buffer);
}

static void test_create_too_large(void** state) {
  (void)state;
  irvm_buffer_t* buffer = NULL;
  assert_status(
      irvm_buffer_create(UINT64_MAX, 0, test_capped_allocator(), &buffer),
      IRT_STATUS_RESOURCE_EXHAUSTED, "does not fit");
  assert_status(
      irvm_buffer_create(UINT64_MAX - 8, 64, test_capped_allocator(), &buffer),
      IRT_STATUS_RESOURCE_EXHAUSTED, "does not fit");
  assert_status(irvm_buffer_create((uint64_t)1 << 40, 0,
                                   test_capped_allocator(), &buffer),
                IRT_STATUS_RESOURCE_EXHAUSTED, "out of memory");
  assert_null(buffer);
}

static void test_create_out_of_memory(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  irvm_buffer_t* buffer = NULL;
  assert_status(irvm_buffer_create(16, 0, allocator, &buffer),
                IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  release_record_t record = {0, NULL};
  irvm_buffer_release_t release = {record_release, &record};
  assert_status(
      irvm_buffer_wrap((void*)kRodata, 4, 0, release, allocator, &buffer),
      IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_int_equal(record.calls, 0);  // the caller keeps ownership
  irvm_buffer_t* source = new_counting_buffer(8);
  assert_status(irvm_buffer_clone(source, 0, 8, 0, allocator, &buffer),
                IRT_STATUS_RESOURCE_EXHAUSTED, NULL);
  assert_null(buffer);
  assert_int_equal(counter.live_allocations, 0);
  irvm_buffer_release(source);
}

static void test_counted_allocator_frees_everything(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  irt_allocator_t allocator = irt_counting_allocator(&counter);
  irvm_buffer_t* buffer = NULL;
  assert_ok(irvm_buffer_create(64, 256, allocator, &buffer));
  irvm_buffer_t* clone = NULL;
  assert_ok(irvm_buffer_clone(buffer, 8, 8, 0, allocator, &clone));
  assert_int_equal(counter.live_allocations, 2);
  irvm_buffer_retain(buffer);
  irvm_buffer_release(buffer);
  assert_int_equal(counter.live_allocations, 2);
  irvm_buffer_release(buffer);
  irvm_buffer_release(clone);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_wrap_rodata(void** state) {
  (void)state;
  release_record_t record = {0, NULL};
  irvm_buffer_t* buffer = new_rodata(&record);
  assert_int_equal(irvm_buffer_flags(buffer), IRVM_BUFFER_ORIGIN_MODULE);
  assert_ptr_equal(irvm_buffer_data(buffer).data, kRodata);
  int32_t value = 0;
  assert_ok(irvm_buffer_load_u8(buffer, 15, &value));
  assert_int_equal(value, 16);
  // Every write path is refused on a buffer without MUTABLE.
  assert_status(irvm_buffer_store_i8(buffer, 0, 1),
                IRT_STATUS_PERMISSION_DENIED, "read-only");
  assert_status(irvm_buffer_store_f64(buffer, 0, 1.0),
                IRT_STATUS_PERMISSION_DENIED, "read-only");
  assert_status(irvm_buffer_fill_i32(buffer, 0, 1, 0),
                IRT_STATUS_PERMISSION_DENIED, "read-only");
  irvm_buffer_t* target = new_buffer(16);
  assert_status(irvm_buffer_copy(target, 0, buffer, 0, 1),
                IRT_STATUS_PERMISSION_DENIED, "target buffer is read-only");
  assert_ok(irvm_buffer_copy(buffer, 0, target, 0, 16));  // as a source: fine
  assert_int_equal(memcmp(target->data, kRodata, 16), 0);
  irvm_byte_span_t span;
  assert_status(irvm_buffer_mutable_data(buffer, &span),
                IRT_STATUS_PERMISSION_DENIED, NULL);
  // Even an out-of-range write reports the permission problem first.
  assert_status(irvm_buffer_store_i32(buffer, 1000, 1),
                IRT_STATUS_PERMISSION_DENIED, NULL);
  assert_int_equal(memcmp(kRodata, "\x01\x02\x03\x04", 4), 0);

  irvm_buffer_retain(buffer);
  irvm_buffer_release(buffer);
  assert_int_equal(record.calls, 0);
  irvm_buffer_release(buffer);
  assert_int_equal(record.calls, 1);
  assert_ptr_equal(record.data, kRodata);
  irvm_buffer_release(target);
}

static void test_wrap_host_mutable_unaligned(void** state) {
  (void)state;
  uint8_t storage[32] = {0};
  irvm_buffer_t* buffer = NULL;
  irvm_buffer_release_t no_release = {NULL, NULL};
  // Offset by one: element accesses must not assume aligned data.
  assert_ok(irvm_buffer_wrap(storage + 1, 24,
                             IRVM_BUFFER_MUTABLE | IRVM_BUFFER_ORIGIN_HOST,
                             no_release, irt_allocator_system(), &buffer));
  assert_ok(irvm_buffer_store_i64(buffer, 1, 0x0102030405060708ll));
  int64_t value = 0;
  assert_ok(irvm_buffer_load_i64(buffer, 1, &value));
  assert_int_equal(value, 0x0102030405060708ll);
  int64_t expected = 0x0102030405060708ll;
  assert_int_equal(memcmp(storage + 9, &expected, 8), 0);
  assert_ok(irvm_buffer_fill_f32(buffer, 0, 6, 2.5f));
  float f = 0;
  assert_ok(irvm_buffer_load_f32(buffer, 5, &f));
  assert_true(f == 2.5f);
  irvm_buffer_release(buffer);
}

static void test_wrap_invalid(void** state) {
  (void)state;
  irvm_buffer_t* buffer = NULL;
  irvm_buffer_release_t no_release = {NULL, NULL};
  assert_status(irvm_buffer_wrap((void*)kRodata, 4, 0x10, no_release,
                                 irt_allocator_system(), &buffer),
                IRT_STATUS_INVALID_ARGUMENT, "unknown bits");
  assert_status(
      irvm_buffer_wrap(NULL, 4, 0, no_release, irt_allocator_system(), &buffer),
      IRT_STATUS_INVALID_ARGUMENT, "null");
  assert_null(buffer);
  // An empty wrap needs no memory.
  assert_ok(irvm_buffer_wrap(NULL, 0, IRVM_BUFFER_ORIGIN_HOST, no_release,
                             irt_allocator_system(), &buffer));
  uint64_t length = 1;
  assert_ok(irvm_buffer_length(buffer, &length));
  assert_int_equal(length, 0);
  // Empty ranges of it are fine everywhere (no arithmetic on its NULL data).
  irvm_buffer_t* clone = NULL;
  assert_ok(irvm_buffer_clone(buffer, 0, 0, 0, irt_allocator_system(), &clone));
  assert_ok(irvm_buffer_copy(buffer, 0, clone, 0, 0));
  bool equal = false;
  assert_ok(irvm_buffer_compare(buffer, 0, clone, 0, 0, &equal));
  assert_true(equal);
  uint64_t hash = 0;
  assert_ok(irvm_buffer_hash(buffer, 0, 0, &hash));
  assert_int_equal(hash, 0x726fdb47dd0e0e31ull);
  irvm_buffer_release(clone);
  irvm_buffer_release(buffer);
}

static void test_clone(void** state) {
  (void)state;
  release_record_t record = {0, NULL};
  irvm_buffer_t* source = new_rodata(&record);
  irvm_buffer_t* clone = NULL;
  assert_ok(
      irvm_buffer_clone(source, 4, 8, 128, irt_allocator_system(), &clone));
  assert_int_equal(irvm_buffer_flags(clone),
                   IRVM_BUFFER_MUTABLE | IRVM_BUFFER_ORIGIN_GUEST);
  assert_int_equal(clone->length, 8);
  assert_int_equal((uintptr_t)clone->data % 128, 0);
  assert_int_equal(memcmp(clone->data, kRodata + 4, 8), 0);
  assert_ok(irvm_buffer_store_i8(clone, 0, 0x7F));  // the clone is writable
  irvm_buffer_release(clone);

  assert_ok(
      irvm_buffer_clone(source, 16, 0, 0, irt_allocator_system(), &clone));
  assert_int_equal(clone->length, 0);
  irvm_buffer_release(clone);

  assert_status(
      irvm_buffer_clone(source, 9, 8, 0, irt_allocator_system(), &clone),
      IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_clone(source, UINT64_MAX, 2, 0,
                                  irt_allocator_system(), &clone),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_clone(source, 2, UINT64_MAX - 1, 0,
                                  irt_allocator_system(), &clone),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(
      irvm_buffer_clone(source, 0, 4, 12, irt_allocator_system(), &clone),
      IRT_STATUS_INVALID_ARGUMENT, "power of two");
  assert_status(
      irvm_buffer_clone(NULL, 0, 0, 0, irt_allocator_system(), &clone),
      IRT_STATUS_INVALID_ARGUMENT, "source buffer is null");
  assert_null(clone);
  irvm_buffer_release(source);
}

static void test_null_buffer_operands(void** state) {
  (void)state;
  uint64_t u64 = 0;
  int32_t i32 = 0;
  int64_t i64 = 0;
  float f32 = 0;
  double f64 = 0;
  bool equal = false;
  irvm_byte_span_t span;
  irvm_buffer_t* buffer = new_buffer(8);
  assert_status(irvm_buffer_length(NULL, &u64), IRT_STATUS_INVALID_ARGUMENT,
                "buffer is null");
  assert_status(irvm_buffer_mutable_data(NULL, &span),
                IRT_STATUS_INVALID_ARGUMENT, "buffer is null");
  assert_status(irvm_buffer_load_u8(NULL, 0, &i32), IRT_STATUS_INVALID_ARGUMENT,
                "buffer is null");
  assert_status(irvm_buffer_load_i16(NULL, 0, &i32),
                IRT_STATUS_INVALID_ARGUMENT, NULL);
  assert_status(irvm_buffer_load_i64(NULL, 0, &i64),
                IRT_STATUS_INVALID_ARGUMENT, NULL);
  assert_status(irvm_buffer_load_f32(NULL, 0, &f32),
                IRT_STATUS_INVALID_ARGUMENT, NULL);
  assert_status(irvm_buffer_load_f64(NULL, 0, &f64),
                IRT_STATUS_INVALID_ARGUMENT, NULL);
  assert_status(irvm_buffer_store_i32(NULL, 0, 0), IRT_STATUS_INVALID_ARGUMENT,
                "buffer is null");
  assert_status(irvm_buffer_fill_i64(NULL, 0, 0, 0),
                IRT_STATUS_INVALID_ARGUMENT, "buffer is null");
  assert_status(irvm_buffer_copy(NULL, 0, buffer, 0, 0),
                IRT_STATUS_INVALID_ARGUMENT, "source buffer is null");
  assert_status(irvm_buffer_copy(buffer, 0, NULL, 0, 0),
                IRT_STATUS_INVALID_ARGUMENT, "target buffer is null");
  assert_status(irvm_buffer_compare(NULL, 0, buffer, 0, 0, &equal),
                IRT_STATUS_INVALID_ARGUMENT, "lhs buffer is null");
  assert_status(irvm_buffer_compare(buffer, 0, NULL, 0, 0, &equal),
                IRT_STATUS_INVALID_ARGUMENT, "rhs buffer is null");
  assert_status(irvm_buffer_hash(NULL, 0, 0, &u64), IRT_STATUS_INVALID_ARGUMENT,
                "buffer is null");
  irvm_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Element loads and stores
//===----------------------------------------------------------------------===//

static void test_load_extension(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(16);
  uint8_t bytes[16] = {0x80, 0x7F, 0xFE, 0xFF, 0x00, 0x80, 0x34, 0x12,
                       0xF0, 0xDE, 0xBC, 0x9A, 0x78, 0x56, 0x34, 0x12};
  memcpy(buffer->data, bytes, 16);
  int32_t v = 0;
  assert_ok(irvm_buffer_load_u8(buffer, 0, &v));
  assert_int_equal(v, 0x80);
  assert_ok(irvm_buffer_load_i8(buffer, 0, &v));
  assert_int_equal(v, -128);
  assert_ok(irvm_buffer_load_i8(buffer, 1, &v));
  assert_int_equal(v, 0x7F);
  // Element 1 of size 2 is bytes 2..3.
  uint16_t u16 = 0;
  memcpy(&u16, bytes + 2, 2);
  assert_ok(irvm_buffer_load_u16(buffer, 1, &v));
  assert_int_equal(v, u16);
  assert_ok(irvm_buffer_load_i16(buffer, 1, &v));
  assert_int_equal(v, (int16_t)u16);
  assert_true(v < 0);
  int32_t i32 = 0;
  memcpy(&i32, bytes + 4, 4);
  assert_ok(irvm_buffer_load_i32(buffer, 1, &v));
  assert_int_equal(v, i32);
  int64_t i64 = 0, expected64 = 0;
  memcpy(&expected64, bytes + 8, 8);
  assert_ok(irvm_buffer_load_i64(buffer, 1, &i64));
  assert_int_equal(i64, expected64);
  irvm_buffer_release(buffer);
}

static void test_store_element_indexing(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(32);
  assert_ok(irvm_buffer_store_i8(buffer, 3, 0x1AB));  // low 8 bits
  assert_int_equal(buffer->data[3], 0xAB);
  assert_ok(irvm_buffer_store_i16(buffer, 2, 0x7FFF1234));  // bytes 4..5
  uint16_t u16 = 0;
  memcpy(&u16, buffer->data + 4, 2);
  assert_int_equal(u16, 0x1234);
  assert_int_equal(buffer->data[6], 0);
  assert_ok(irvm_buffer_store_i32(buffer, 2, -2));  // bytes 8..11
  int32_t i32 = 0;
  memcpy(&i32, buffer->data + 8, 4);
  assert_int_equal(i32, -2);
  assert_ok(irvm_buffer_store_i64(buffer, 2, INT64_MIN));  // bytes 16..23
  int64_t i64 = 0;
  memcpy(&i64, buffer->data + 16, 8);
  assert_int_equal(i64, INT64_MIN);
  assert_ok(irvm_buffer_store_f32(buffer, 7, -1.25f));  // bytes 28..31
  float f32 = 0;
  assert_ok(irvm_buffer_load_f32(buffer, 7, &f32));
  assert_true(f32 == -1.25f);
  assert_ok(irvm_buffer_store_f64(buffer, 3, 3.5));  // bytes 24..31
  double f64 = 0;
  assert_ok(irvm_buffer_load_f64(buffer, 3, &f64));
  assert_true(f64 == 3.5);
  memcpy(&f64, buffer->data + 24, 8);
  assert_true(f64 == 3.5);
  irvm_buffer_release(buffer);
}

static void test_element_bounds(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(7);  // not a multiple of 2, 4 or 8
  int32_t v = 0;
  int64_t v64 = 0;
  double f64 = 0;
  assert_ok(irvm_buffer_load_u8(buffer, 6, &v));
  assert_status(irvm_buffer_load_u8(buffer, 7, &v), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_ok(irvm_buffer_load_i16(buffer, 2, &v));  // bytes 4..5
  assert_status(irvm_buffer_load_i16(buffer, 3, &v), IRT_STATUS_OUT_OF_RANGE,
                kOob);  // bytes 6..7: one past the end
  assert_ok(irvm_buffer_load_i32(buffer, 0, &v));
  assert_status(irvm_buffer_load_i32(buffer, 1, &v), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_load_i64(buffer, 0, &v64), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_load_f64(buffer, 0, &f64), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_store_i16(buffer, 3, 0), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_store_i64(buffer, 0, 0), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  for (size_t i = 0; i < 7; ++i) assert_int_equal(buffer->data[i], 0);
  irvm_buffer_release(buffer);
}

// Offsets whose byte position (offset x size) wraps around 2^64 to a small,
// in-range value must still fail.
static void test_element_offset_overflow(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(64);
  int32_t v = 0;
  int64_t v64 = 0;
  assert_status(irvm_buffer_load_u8(buffer, UINT64_MAX, &v),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_load_i16(buffer, (uint64_t)1 << 63, &v),
                IRT_STATUS_OUT_OF_RANGE, kOob);  // x2 wraps to 0
  assert_status(irvm_buffer_load_i32(buffer, (uint64_t)1 << 62, &v),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_store_i32(buffer, ((uint64_t)1 << 62) + 1, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);  // wraps to byte 4
  assert_status(irvm_buffer_load_i64(buffer, (uint64_t)1 << 61, &v64),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_store_i64(buffer, UINT64_MAX, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  for (size_t i = 0; i < 64; ++i) assert_int_equal(buffer->data[i], 0);
  irvm_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Fills
//===----------------------------------------------------------------------===//

static void test_fill_each_size(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(64);
  assert_ok(irvm_buffer_fill_i8(buffer, 1, 2, 0x1CC));
  assert_int_equal(buffer->data[0], 0);
  assert_int_equal(buffer->data[1], 0xCC);
  assert_int_equal(buffer->data[2], 0xCC);
  assert_int_equal(buffer->data[3], 0);

  assert_ok(irvm_buffer_fill_i16(buffer, 2, 2, 0x7FFFABCD));  // bytes 4..7
  int32_t v = 0;
  assert_ok(irvm_buffer_load_u16(buffer, 2, &v));
  assert_int_equal(v, 0xABCD);
  assert_ok(irvm_buffer_load_u16(buffer, 3, &v));
  assert_int_equal(v, 0xABCD);
  assert_ok(irvm_buffer_load_u16(buffer, 4, &v));
  assert_int_equal(v, 0);

  assert_ok(irvm_buffer_fill_i32(buffer, 3, 2, -7));  // bytes 12..19
  for (uint64_t i = 3; i < 5; ++i) {
    assert_ok(irvm_buffer_load_i32(buffer, i, &v));
    assert_int_equal(v, -7);
  }
  assert_ok(irvm_buffer_load_i32(buffer, 5, &v));
  assert_int_equal(v, 0);

  assert_ok(irvm_buffer_fill_i64(buffer, 3, 2, 0x1122334455667788ll));
  int64_t v64 = 0;
  assert_ok(irvm_buffer_load_i64(buffer, 4, &v64));
  assert_int_equal(v64, 0x1122334455667788ll);
  assert_ok(irvm_buffer_load_i64(buffer, 5, &v64));
  assert_int_equal(v64, 0);

  assert_ok(irvm_buffer_fill_f32(buffer, 12, 4, 0.5f));  // bytes 48..63
  float f = 0;
  assert_ok(irvm_buffer_load_f32(buffer, 15, &f));
  assert_true(f == 0.5f);
  assert_ok(irvm_buffer_fill_f64(buffer, 7, 1, -2.0));  // bytes 56..63
  double d = 0;
  assert_ok(irvm_buffer_load_f64(buffer, 7, &d));
  assert_true(d == -2.0);
  assert_ok(irvm_buffer_load_f32(buffer, 12, &f));
  assert_true(f == 0.5f);
  irvm_buffer_release(buffer);
}

static void test_fill_bounds(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_buffer(30);  // 7 whole i32 elements
  assert_ok(irvm_buffer_fill_i32(buffer, 0, 7, 1));
  assert_ok(irvm_buffer_fill_i32(buffer, 7, 0, 1));  // empty, at the end
  assert_status(irvm_buffer_fill_i32(buffer, 8, 0, 1), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_fill_i32(buffer, 1, 7, 1), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_fill_i64(buffer, 0, 4, 1), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_fill_i8(buffer, 1, 30, 1), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  // offset + count and count x size overflows.
  assert_status(irvm_buffer_fill_i8(buffer, 1, UINT64_MAX, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_fill_i8(buffer, UINT64_MAX, 2, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_fill_i32(buffer, 0, (uint64_t)1 << 62, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(
      irvm_buffer_fill_i16(buffer, (uint64_t)1 << 63, (uint64_t)1 << 63, 1),
      IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_fill_f64(buffer, UINT64_MAX / 8, 1, 1.0),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_int_equal(buffer->data[28], 0);
  irvm_buffer_release(buffer);
}

//===----------------------------------------------------------------------===//
// Copy and compare
//===----------------------------------------------------------------------===//

static void test_copy(void** state) {
  (void)state;
  irvm_buffer_t* source = new_counting_buffer(16);
  irvm_buffer_t* target = new_buffer(16);
  assert_ok(irvm_buffer_copy(source, 4, target, 8, 8));
  for (int i = 0; i < 8; ++i) assert_int_equal(target->data[i], 0);
  for (int i = 0; i < 8; ++i) assert_int_equal(target->data[8 + i], 4 + i);
  assert_ok(irvm_buffer_copy(source, 16, target, 16, 0));  // empty at the end
  assert_status(irvm_buffer_copy(source, 17, target, 0, 0),
                IRT_STATUS_OUT_OF_RANGE, "source buffer bytes");
  assert_status(irvm_buffer_copy(source, 0, target, 9, 8),
                IRT_STATUS_OUT_OF_RANGE, "target buffer bytes");
  assert_status(irvm_buffer_copy(source, 9, target, 0, 8),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_copy(source, UINT64_MAX, target, 0, 1),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_copy(source, 1, target, 0, UINT64_MAX),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_copy(source, 0, target, UINT64_MAX - 2, 4),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  irvm_buffer_release(source);
  irvm_buffer_release(target);
}

static void test_copy_overlapping(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_counting_buffer(16);
  assert_ok(irvm_buffer_copy(buffer, 0, buffer, 2, 8));  // forward overlap
  const uint8_t forward[16] = {0, 1, 0,  1,  2,  3,  4,  5,
                               6, 7, 10, 11, 12, 13, 14, 15};
  assert_memory_equal(buffer->data, forward, 16);
  assert_ok(irvm_buffer_copy(buffer, 4, buffer, 0, 8));  // backward overlap
  const uint8_t backward[16] = {2, 3, 4,  5,  6,  7,  10, 11,
                                6, 7, 10, 11, 12, 13, 14, 15};
  assert_memory_equal(buffer->data, backward, 16);
  irvm_buffer_release(buffer);
}

static void test_compare(void** state) {
  (void)state;
  irvm_buffer_t* a = new_counting_buffer(16);
  irvm_buffer_t* b = new_counting_buffer(32);
  bool equal = false;
  assert_ok(irvm_buffer_compare(a, 0, b, 0, 16, &equal));
  assert_true(equal);
  assert_ok(irvm_buffer_compare(a, 1, b, 0, 8, &equal));
  assert_false(equal);
  assert_ok(irvm_buffer_compare(a, 4, b, 4, 12, &equal));
  assert_true(equal);
  equal = false;
  assert_ok(irvm_buffer_compare(a, 16, b, 32, 0, &equal));
  assert_true(equal);  // empty ranges are equal
  b->data[15] = 0xFF;
  assert_ok(irvm_buffer_compare(a, 0, b, 0, 16, &equal));
  assert_false(equal);
  assert_status(irvm_buffer_compare(a, 0, b, 0, 17, &equal),
                IRT_STATUS_OUT_OF_RANGE, "lhs buffer bytes");
  assert_status(irvm_buffer_compare(a, 0, b, 20, 13, &equal),
                IRT_STATUS_OUT_OF_RANGE, "rhs buffer bytes");
  assert_status(irvm_buffer_compare(a, UINT64_MAX, b, 0, 1, &equal),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_compare(a, 8, b, 0, UINT64_MAX - 4, &equal),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  // Read-only buffers can be compared.
  release_record_t record = {0, NULL};
  irvm_buffer_t* rodata = new_rodata(&record);
  irvm_buffer_t* copy = NULL;
  assert_ok(irvm_buffer_clone(rodata, 0, 16, 0, irt_allocator_system(), &copy));
  assert_ok(irvm_buffer_compare(rodata, 0, copy, 0, 16, &equal));
  assert_true(equal);
  irvm_buffer_release(copy);
  irvm_buffer_release(rodata);
  irvm_buffer_release(a);
  irvm_buffer_release(b);
}

//===----------------------------------------------------------------------===//
// Hash
//===----------------------------------------------------------------------===//

// The reference SipHash-2-4 vectors (64-bit output): key 00 01 .. 0F, message
// i = the bytes 00 01 .. (i-1); each digest as its 8 little-endian bytes.
static const uint8_t kSipHashVectors[64][8] = {
    {0x31, 0x0e, 0x0e, 0xdd, 0x47, 0xdb, 0x6f, 0x72},
    {0xfd, 0x67, 0xdc, 0x93, 0xc5, 0x39, 0xf8, 0x74},
    {0x5a, 0x4f, 0xa9, 0xd9, 0x09, 0x80, 0x6c, 0x0d},
    {0x2d, 0x7e, 0xfb, 0xd7, 0x96, 0x66, 0x67, 0x85},
    {0xb7, 0x87, 0x71, 0x27, 0xe0, 0x94, 0x27, 0xcf},
    {0x8d, 0xa6, 0x99, 0xcd, 0x64, 0x55, 0x76, 0x18},
    {0xce, 0xe3, 0xfe, 0x58, 0x6e, 0x46, 0xc9, 0xcb},
    {0x37, 0xd1, 0x01, 0x8b, 0xf5, 0x00, 0x02, 0xab},
    {0x62, 0x24, 0x93, 0x9a, 0x79, 0xf5, 0xf5, 0x93},
    {0xb0, 0xe4, 0xa9, 0x0b, 0xdf, 0x82, 0x00, 0x9e},
    {0xf3, 0xb9, 0xdd, 0x94, 0xc5, 0xbb, 0x5d, 0x7a},
    {0xa7, 0xad, 0x6b, 0x22, 0x46, 0x2f, 0xb3, 0xf4},
    {0xfb, 0xe5, 0x0e, 0x86, 0xbc, 0x8f, 0x1e, 0x75},
    {0x90, 0x3d, 0x84, 0xc0, 0x27, 0x56, 0xea, 0x14},
    {0xee, 0xf2, 0x7a, 0x8e, 0x90, 0xca, 0x23, 0xf7},
    {0xe5, 0x45, 0xbe, 0x49, 0x61, 0xca, 0x29, 0xa1},
    {0xdb, 0x9b, 0xc2, 0x57, 0x7f, 0xcc, 0x2a, 0x3f},
    {0x94, 0x47, 0xbe, 0x2c, 0xf5, 0xe9, 0x9a, 0x69},
    {0x9c, 0xd3, 0x8d, 0x96, 0xf0, 0xb3, 0xc1, 0x4b},
    {0xbd, 0x61, 0x79, 0xa7, 0x1d, 0xc9, 0x6d, 0xbb},
    {0x98, 0xee, 0xa2, 0x1a, 0xf2, 0x5c, 0xd6, 0xbe},
    {0xc7, 0x67, 0x3b, 0x2e, 0xb0, 0xcb, 0xf2, 0xd0},
    {0x88, 0x3e, 0xa3, 0xe3, 0x95, 0x67, 0x53, 0x93},
    {0xc8, 0xce, 0x5c, 0xcd, 0x8c, 0x03, 0x0c, 0xa8},
    {0x94, 0xaf, 0x49, 0xf6, 0xc6, 0x50, 0xad, 0xb8},
    {0xea, 0xb8, 0x85, 0x8a, 0xde, 0x92, 0xe1, 0xbc},
    {0xf3, 0x15, 0xbb, 0x5b, 0xb8, 0x35, 0xd8, 0x17},
    {0xad, 0xcf, 0x6b, 0x07, 0x63, 0x61, 0x2e, 0x2f},
    {0xa5, 0xc9, 0x1d, 0xa7, 0xac, 0xaa, 0x4d, 0xde},
    {0x71, 0x65, 0x95, 0x87, 0x66, 0x50, 0xa2, 0xa6},
    {0x28, 0xef, 0x49, 0x5c, 0x53, 0xa3, 0x87, 0xad},
    {0x42, 0xc3, 0x41, 0xd8, 0xfa, 0x92, 0xd8, 0x32},
    {0xce, 0x7c, 0xf2, 0x72, 0x2f, 0x51, 0x27, 0x71},
    {0xe3, 0x78, 0x59, 0xf9, 0x46, 0x23, 0xf3, 0xa7},
    {0x38, 0x12, 0x05, 0xbb, 0x1a, 0xb0, 0xe0, 0x12},
    {0xae, 0x97, 0xa1, 0x0f, 0xd4, 0x34, 0xe0, 0x15},
    {0xb4, 0xa3, 0x15, 0x08, 0xbe, 0xff, 0x4d, 0x31},
    {0x81, 0x39, 0x62, 0x29, 0xf0, 0x90, 0x79, 0x02},
    {0x4d, 0x0c, 0xf4, 0x9e, 0xe5, 0xd4, 0xdc, 0xca},
    {0x5c, 0x73, 0x33, 0x6a, 0x76, 0xd8, 0xbf, 0x9a},
    {0xd0, 0xa7, 0x04, 0x53, 0x6b, 0xa9, 0x3e, 0x0e},
    {0x92, 0x59, 0x58, 0xfc, 0xd6, 0x42, 0x0c, 0xad},
    {0xa9, 0x15, 0xc2, 0x9b, 0xc8, 0x06, 0x73, 0x18},
    {0x95, 0x2b, 0x79, 0xf3, 0xbc, 0x0a, 0xa6, 0xd4},
    {0xf2, 0x1d, 0xf2, 0xe4, 0x1d, 0x45, 0x35, 0xf9},
    {0x87, 0x57, 0x75, 0x19, 0x04, 0x8f, 0x53, 0xa9},
    {0x10, 0xa5, 0x6c, 0xf5, 0xdf, 0xcd, 0x9a, 0xdb},
    {0xeb, 0x75, 0x09, 0x5c, 0xcd, 0x98, 0x6c, 0xd0},
    {0x51, 0xa9, 0xcb, 0x9e, 0xcb, 0xa3, 0x12, 0xe6},
    {0x96, 0xaf, 0xad, 0xfc, 0x2c, 0xe6, 0x66, 0xc7},
    {0x72, 0xfe, 0x52, 0x97, 0x5a, 0x43, 0x64, 0xee},
    {0x5a, 0x16, 0x45, 0xb2, 0x76, 0xd5, 0x92, 0xa1},
    {0xb2, 0x74, 0xcb, 0x8e, 0xbf, 0x87, 0x87, 0x0a},
    {0x6f, 0x9b, 0xb4, 0x20, 0x3d, 0xe7, 0xb3, 0x81},
    {0xea, 0xec, 0xb2, 0xa3, 0x0b, 0x22, 0xa8, 0x7f},
    {0x99, 0x24, 0xa4, 0x3c, 0xc1, 0x31, 0x57, 0x24},
    {0xbd, 0x83, 0x8d, 0x3a, 0xaf, 0xbf, 0x8d, 0xb7},
    {0x0b, 0x1a, 0x2a, 0x32, 0x65, 0xd5, 0x1a, 0xea},
    {0x13, 0x50, 0x79, 0xa3, 0x23, 0x1c, 0xe6, 0x60},
    {0x93, 0x2b, 0x28, 0x46, 0xe4, 0xd7, 0x06, 0x66},
    {0xe1, 0x91, 0x5f, 0x5c, 0xb1, 0xec, 0xa4, 0x6c},
    {0xf3, 0x25, 0x96, 0x5c, 0xa1, 0x6d, 0x62, 0x9f},
    {0x57, 0x5f, 0xf2, 0x8e, 0x60, 0x38, 0x1b, 0xe5},
    {0x72, 0x45, 0x06, 0xeb, 0x4c, 0x32, 0x8a, 0x95},
};

static uint64_t le64(const uint8_t bytes[8]) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | bytes[i];
  return value;
}

static void test_hash_reference_vectors(void** state) {
  (void)state;
  irvm_buffer_t* buffer = new_counting_buffer(64);
  for (uint64_t length = 0; length < 64; ++length) {
    uint64_t hash = 0;
    assert_ok(irvm_buffer_hash(buffer, 0, length, &hash));
    assert_int_equal(hash, le64(kSipHashVectors[length]));
  }
  // The paper's worked example: 15 bytes, 0xa129ca6149be45e5.
  uint64_t hash = 0;
  assert_ok(irvm_buffer_hash(buffer, 0, 15, &hash));
  assert_int_equal(hash, 0xa129ca6149be45e5ull);
  irvm_buffer_release(buffer);
}

static void test_hash_range(void** state) {
  (void)state;
  // The same message at offset 5 of a larger buffer hashes the same.
  irvm_buffer_t* buffer = new_buffer(80);
  for (size_t i = 0; i < 40; ++i) buffer->data[5 + i] = (uint8_t)i;
  uint64_t hash = 0;
  assert_ok(irvm_buffer_hash(buffer, 5, 40, &hash));
  assert_int_equal(hash, le64(kSipHashVectors[40]));
  assert_ok(irvm_buffer_hash(buffer, 80, 0, &hash));
  assert_int_equal(hash, le64(kSipHashVectors[0]));
  assert_status(irvm_buffer_hash(buffer, 41, 40, &hash),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  assert_status(irvm_buffer_hash(buffer, 81, 0, &hash), IRT_STATUS_OUT_OF_RANGE,
                kOob);
  assert_status(irvm_buffer_hash(buffer, 2, UINT64_MAX - 1, &hash),
                IRT_STATUS_OUT_OF_RANGE, kOob);
  irvm_buffer_release(buffer);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_type_and_deref),
      cmocka_unit_test(test_create_defaults),
      cmocka_unit_test(test_create_alignment),
      cmocka_unit_test(test_create_bad_alignment),
      cmocka_unit_test(test_create_zero_length),
      cmocka_unit_test(test_create_too_large),
      cmocka_unit_test(test_create_out_of_memory),
      cmocka_unit_test(test_counted_allocator_frees_everything),
      cmocka_unit_test(test_wrap_rodata),
      cmocka_unit_test(test_wrap_host_mutable_unaligned),
      cmocka_unit_test(test_wrap_invalid),
      cmocka_unit_test(test_clone),
      cmocka_unit_test(test_null_buffer_operands),
      cmocka_unit_test(test_load_extension),
      cmocka_unit_test(test_store_element_indexing),
      cmocka_unit_test(test_element_bounds),
      cmocka_unit_test(test_element_offset_overflow),
      cmocka_unit_test(test_fill_each_size),
      cmocka_unit_test(test_fill_bounds),
      cmocka_unit_test(test_copy),
      cmocka_unit_test(test_copy_overlapping),
      cmocka_unit_test(test_compare),
      cmocka_unit_test(test_hash_reference_vectors),
      cmocka_unit_test(test_hash_range),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
