// Framing: round trips, byte-at-a-time delivery, several frames per read,
// and the failures a hostile peer can provoke (oversized declared lengths,
// truncated streams, garbage payloads).
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "proto/frame.h"

static uint8_t* encode_invoke(const char* model, size_t inline_size,
                              size_t* out_size) {
  Ireed__Frame frame = IREED__FRAME__INIT;
  Ireed__InvokeRequest invoke = IREED__INVOKE_REQUEST__INIT;
  Ireed__Value value = IREED__VALUE__INIT;
  Ireed__Tensor tensor = IREED__TENSOR__INIT;
  Ireed__Value* inputs[1] = {&value};
  uint64_t shape[1] = {inline_size / 4};
  uint8_t* bytes = calloc(1, inline_size ? inline_size : 1);
  for (size_t i = 0; i < inline_size; ++i) bytes[i] = (uint8_t)i;
  tensor.element_type = 0x20000011u;
  tensor.n_shape = 1;
  tensor.shape = shape;
  tensor.data_case = IREED__TENSOR__DATA_INLINE_DATA;
  tensor.inline_data.data = bytes;
  tensor.inline_data.len = inline_size;
  value.kind_case = IREED__VALUE__KIND_TENSOR;
  value.tensor = &tensor;
  invoke.model = (char*)model;
  invoke.function = "simple_mul";
  invoke.n_inputs = 1;
  invoke.inputs = inputs;
  frame.request_id = 42;
  frame.body_case = IREED__FRAME__BODY_INVOKE;
  frame.invoke = &invoke;
  uint8_t* data = NULL;
  assert_null(ireed_frame_encode(&frame, IREED_FRAME_DEFAULT_MAX_SIZE,
                                 irt_allocator_system(), &data, out_size));
  free(bytes);
  return data;
}

static void check_invoke(const Ireed__Frame* frame, const char* model,
                         size_t inline_size) {
  assert_non_null(frame);
  assert_int_equal(frame->request_id, 42);
  assert_int_equal(frame->body_case, IREED__FRAME__BODY_INVOKE);
  assert_string_equal(frame->invoke->model, model);
  assert_int_equal(frame->invoke->n_inputs, 1);
  const Ireed__Tensor* tensor = frame->invoke->inputs[0]->tensor;
  assert_int_equal(tensor->inline_data.len, inline_size);
  for (size_t i = 0; i < inline_size; ++i) {
    assert_int_equal(tensor->inline_data.data[i], (uint8_t)i);
  }
}

static void test_round_trip(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* data = encode_invoke("m", 64, &size);
  uint32_t declared = (uint32_t)data[0] | (uint32_t)data[1] << 8 |
                      (uint32_t)data[2] << 16 | (uint32_t)data[3] << 24;
  assert_int_equal(declared + IREED_FRAME_HEADER_SIZE, size);
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, IREED_FRAME_DEFAULT_MAX_SIZE,
                                irt_allocator_system());
  assert_null(ireed_frame_reader_append(&reader, data, size));
  Ireed__Frame* frame = NULL;
  assert_null(ireed_frame_reader_next(&reader, &frame));
  check_invoke(frame, "m", 64);
  ireed__frame__free_unpacked(frame, NULL);
  assert_null(ireed_frame_reader_next(&reader, &frame));
  assert_null(frame);
  assert_int_equal(reader.size, 0);
  ireed_frame_reader_deinitialize(&reader);
  free(data);
}

static void test_byte_at_a_time_and_back_to_back(void** state) {
  (void)state;
  size_t size_a = 0, size_b = 0;
  uint8_t* a = encode_invoke("first", 1000, &size_a);
  uint8_t* b = encode_invoke("second", 3, &size_b);
  uint8_t* stream = malloc(size_a + size_b);
  memcpy(stream, a, size_a);
  memcpy(stream + size_a, b, size_b);
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, IREED_FRAME_DEFAULT_MAX_SIZE,
                                irt_counting_allocator(&counter));
  int decoded = 0;
  for (size_t i = 0; i < size_a + size_b; ++i) {
    assert_null(ireed_frame_reader_append(&reader, stream + i, 1));
    Ireed__Frame* frame = NULL;
    assert_null(ireed_frame_reader_next(&reader, &frame));
    if (i == size_a - 1) {
      check_invoke(frame, "first", 1000);
    } else if (i == size_a + size_b - 1) {
      check_invoke(frame, "second", 3);
    } else {
      assert_null(frame);
      continue;
    }
    ++decoded;
    ireed__frame__free_unpacked(frame, NULL);
  }
  assert_int_equal(decoded, 2);
  ireed_frame_reader_deinitialize(&reader);
  assert_int_equal(counter.live_allocations, 0);

  // Both frames in one read come out one after the other.
  ireed_frame_reader_initialize(&reader, IREED_FRAME_DEFAULT_MAX_SIZE,
                                irt_allocator_system());
  assert_null(ireed_frame_reader_append(&reader, stream, size_a + size_b));
  Ireed__Frame* frame = NULL;
  assert_null(ireed_frame_reader_next(&reader, &frame));
  check_invoke(frame, "first", 1000);
  ireed__frame__free_unpacked(frame, NULL);
  assert_null(ireed_frame_reader_next(&reader, &frame));
  check_invoke(frame, "second", 3);
  ireed__frame__free_unpacked(frame, NULL);
  ireed_frame_reader_deinitialize(&reader);
  free(stream);
  free(a);
  free(b);
}

static void test_encode_rejects_oversized(void** state) {
  (void)state;
  Ireed__Frame frame = IREED__FRAME__INIT;
  Ireed__LoadModelRequest load = IREED__LOAD_MODEL_REQUEST__INIT;
  char name[200];
  memset(name, 'x', sizeof(name) - 1);
  name[sizeof(name) - 1] = 0;
  load.name = name;
  frame.body_case = IREED__FRAME__BODY_LOAD_MODEL;
  frame.load_model = &load;
  uint8_t* data = (uint8_t*)1;
  size_t size = 1;
  irt_status_t status =
      ireed_frame_encode(&frame, 100, irt_allocator_system(), &data, &size);
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(data);
  assert_int_equal(size, 0);
}

static void test_encode_allocation_failure(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  Ireed__Frame frame = IREED__FRAME__INIT;
  uint8_t* data = NULL;
  size_t size = 0;
  irt_status_t status = ireed_frame_encode(
      &frame, 1024, irt_counting_allocator(&counter), &data, &size);
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_null(data);
  assert_int_equal(counter.live_allocations, 0);
}

static void test_oversized_header_fails_on_append(void** state) {
  (void)state;
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, 1024, irt_allocator_system());
  // 1025 bytes declared, one above the limit: refused before any payload.
  const uint8_t header[4] = {0x01, 0x04, 0x00, 0x00};
  assert_null(ireed_frame_reader_append(&reader, header, 3));
  irt_status_t status = ireed_frame_reader_append(&reader, header + 3, 1);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  char text[256];
  irt_status_format_brief(status, text, sizeof(text));
  assert_non_null(strstr(text, "1025"));
  irt_status_free(status);
  ireed_frame_reader_deinitialize(&reader);

  // A huge declared length (4 GiB - 1) never allocates for its payload.
  ireed_frame_reader_initialize(&reader, SIZE_MAX, irt_allocator_system());
  assert_int_equal(reader.max_size, IREED_FRAME_ABSOLUTE_MAX_SIZE);
  const uint8_t huge[4] = {0xff, 0xff, 0xff, 0xff};
  status = ireed_frame_reader_append(&reader, huge, sizeof(huge));
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_INVALID_ARGUMENT);
  ireed_frame_reader_deinitialize(&reader);
}

static void test_oversized_second_frame_fails_on_next(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* data = encode_invoke("m", 8, &size);
  uint8_t* stream = malloc(size + 4);
  memcpy(stream, data, size);
  const uint8_t header[4] = {0x00, 0x00, 0x10, 0x00};  // 1 MiB
  memcpy(stream + size, header, 4);
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, 4096, irt_allocator_system());
  // The first header is fine, so append accepts the whole read...
  assert_null(ireed_frame_reader_append(&reader, stream, size + 4));
  Ireed__Frame* frame = NULL;
  assert_null(ireed_frame_reader_next(&reader, &frame));
  check_invoke(frame, "m", 8);
  ireed__frame__free_unpacked(frame, NULL);
  // ...and the second one fails as soon as it is at the front.
  irt_status_t status = ireed_frame_reader_next(&reader, &frame);
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_INVALID_ARGUMENT);
  assert_null(frame);
  ireed_frame_reader_deinitialize(&reader);
  free(stream);
  free(data);
}

static void test_truncated_stream_waits(void** state) {
  (void)state;
  size_t size = 0;
  uint8_t* data = encode_invoke("m", 100, &size);
  for (size_t cut = 0; cut < size; ++cut) {
    ireed_frame_reader_t reader;
    ireed_frame_reader_initialize(&reader, IREED_FRAME_DEFAULT_MAX_SIZE,
                                  irt_allocator_system());
    assert_null(ireed_frame_reader_append(&reader, data, cut));
    Ireed__Frame* frame = NULL;
    assert_null(ireed_frame_reader_next(&reader, &frame));
    assert_null(frame);
    assert_int_equal(reader.size, cut);
    ireed_frame_reader_deinitialize(&reader);
  }
  free(data);
}

static void test_truncated_payload_is_rejected(void** state) {
  (void)state;
  // A frame whose payload is cut short but whose header claims the shorter
  // length: the message itself is truncated.
  size_t size = 0;
  uint8_t* data = encode_invoke("model", 100, &size);
  size_t payload = size - IREED_FRAME_HEADER_SIZE;
  int rejected = 0;
  for (size_t cut = 1; cut < payload; ++cut) {
    Ireed__Frame* frame = NULL;
    irt_status_t status =
        ireed_frame_decode_payload(data + IREED_FRAME_HEADER_SIZE, cut, &frame);
    if (status) {
      assert_int_equal(irt_status_consume_code(status),
                       IRT_STATUS_INVALID_ARGUMENT);
      assert_null(frame);
      ++rejected;
    } else {
      // Cuts on a field boundary decode to a shorter, valid message.
      ireed__frame__free_unpacked(frame, NULL);
    }
  }
  assert_true(rejected > 0);
  free(data);
}

static void test_garbage_payloads(void** state) {
  (void)state;
  static const struct {
    const char* what;
    uint8_t bytes[12];
    size_t size;
  } kCases[] = {
      {"field 0", {0x00}, 1},
      {"reserved wire type 7", {0x0f, 0x00}, 2},
      {"endless varint",
       {0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
       12},
      {"length past the end", {0x22, 0x7f, 0x0a}, 3},
      {"bad nested message", {0x22, 0x02, 0x0f, 0x00}, 4},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    uint8_t stream[16];
    uint32_t size = (uint32_t)kCases[i].size;
    stream[0] = (uint8_t)size;
    stream[1] = stream[2] = stream[3] = 0;
    memcpy(stream + 4, kCases[i].bytes, size);
    ireed_frame_reader_t reader;
    ireed_frame_reader_initialize(&reader, 1024, irt_allocator_system());
    assert_null(ireed_frame_reader_append(&reader, stream, 4 + size));
    Ireed__Frame* frame = NULL;
    irt_status_t status = ireed_frame_reader_next(&reader, &frame);
    if (!status) fail_msg("garbage case '%s' decoded", kCases[i].what);
    assert_int_equal(irt_status_consume_code(status),
                     IRT_STATUS_INVALID_ARGUMENT);
    assert_null(frame);
    ireed_frame_reader_deinitialize(&reader);
  }
}

static void test_random_bytes_never_crash(void** state) {
  (void)state;
  uint32_t seed = 12345;
  for (int round = 0; round < 2000; ++round) {
    uint8_t bytes[64];
    size_t size = 0;
    seed = seed * 1103515245u + 12345u;
    size = (seed >> 16) % sizeof(bytes);
    for (size_t i = 0; i < size; ++i) {
      seed = seed * 1103515245u + 12345u;
      bytes[i] = (uint8_t)(seed >> 16);
    }
    Ireed__Frame* frame = NULL;
    irt_status_t status = ireed_frame_decode_payload(bytes, size, &frame);
    if (status) {
      irt_status_free(status);
      assert_null(frame);
    } else {
      ireed__frame__free_unpacked(frame, NULL);
    }
  }
}

static void test_empty_frame_decodes(void** state) {
  (void)state;
  // A zero-length payload is a valid Frame with no body: the receiver, not
  // the framing, decides that it is unexpected.
  const uint8_t stream[4] = {0, 0, 0, 0};
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, 1024, irt_allocator_system());
  assert_null(ireed_frame_reader_append(&reader, stream, sizeof(stream)));
  Ireed__Frame* frame = NULL;
  assert_null(ireed_frame_reader_next(&reader, &frame));
  assert_non_null(frame);
  assert_int_equal(frame->body_case, IREED__FRAME__BODY__NOT_SET);
  ireed__frame__free_unpacked(frame, NULL);
  ireed_frame_reader_deinitialize(&reader);
}

static void test_append_allocation_failure(void** state) {
  (void)state;
  irt_counting_allocator_t counter;
  irt_counting_allocator_init(&counter, irt_allocator_system());
  counter.fail_after = 0;
  ireed_frame_reader_t reader;
  ireed_frame_reader_initialize(&reader, 1024,
                                irt_counting_allocator(&counter));
  const uint8_t bytes[4] = {1, 0, 0, 0};
  irt_status_t status = ireed_frame_reader_append(&reader, bytes, 4);
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_RESOURCE_EXHAUSTED);
  assert_int_equal(reader.size, 0);
  ireed_frame_reader_deinitialize(&reader);
  assert_int_equal(counter.live_allocations, 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_round_trip),
      cmocka_unit_test(test_byte_at_a_time_and_back_to_back),
      cmocka_unit_test(test_encode_rejects_oversized),
      cmocka_unit_test(test_encode_allocation_failure),
      cmocka_unit_test(test_oversized_header_fails_on_append),
      cmocka_unit_test(test_oversized_second_frame_fails_on_next),
      cmocka_unit_test(test_truncated_stream_waits),
      cmocka_unit_test(test_truncated_payload_is_rejected),
      cmocka_unit_test(test_garbage_payloads),
      cmocka_unit_test(test_random_bytes_never_crash),
      cmocka_unit_test(test_empty_frame_decodes),
      cmocka_unit_test(test_append_allocation_failure),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
