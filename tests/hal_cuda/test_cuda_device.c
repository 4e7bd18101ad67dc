// The CUDA device through the HAL API (hal/cuda): names, the no-driver
// error, and on a machine with a GPU: transfers in every direction, a
// hand-written PTX kernel packaged as a CDA1 executable and launched with
// the spec 8.4 parameter layout, JIT and export errors, staged file reads
// and pinned host memory used in place. GPU cases skip with a message when
// no CUDA device is present (CI has none).
// clang-format off: cmocka needs these first.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on

#include <stdio.h>
#include <string.h>

#include "hal/api.h"
#include "hal/cuda/cuda_device.h"
#include "hal/cuda/cuda_executable_def.h"
#include "hal/file_transfer.h"
#include "runtime/vm/builder/gpu_executable_writer.h"

// out[i] = a[i] * b[i] + bits_as_float(scale) for i < n.
static const char kPtx[] =
    ".version 7.0\n.target sm_50\n.address_size 64\n"
    ".visible .entry mul_add(.param .u64 a, .param .u64 b, .param .u64 out,\n"
    "    .param .u32 scale, .param .u32 n) {\n"
    "  .reg .pred %p<2>; .reg .b32 %r<8>; .reg .f32 %f<5>; .reg .b64 %rd<10>;\n"
    "  ld.param.u64 %rd1, [a]; ld.param.u64 %rd2, [b];\n"
    "  ld.param.u64 %rd3, [out]; ld.param.u32 %r1, [scale];\n"
    "  ld.param.u32 %r2, [n];\n"
    "  mov.u32 %r3, %ctaid.x; mov.u32 %r4, %ntid.x; mov.u32 %r5, %tid.x;\n"
    "  mad.lo.s32 %r6, %r3, %r4, %r5;\n"
    "  setp.ge.u32 %p1, %r6, %r2; @%p1 bra DONE;\n"
    "  cvta.to.global.u64 %rd4, %rd1; cvta.to.global.u64 %rd5, %rd2;\n"
    "  cvta.to.global.u64 %rd6, %rd3; mul.wide.u32 %rd7, %r6, 4;\n"
    "  add.s64 %rd8, %rd4, %rd7; ld.global.f32 %f1, [%rd8];\n"
    "  add.s64 %rd8, %rd5, %rd7; ld.global.f32 %f2, [%rd8];\n"
    "  mov.b32 %f3, %r1; fma.rn.f32 %f4, %f1, %f2, %f3;\n"
    "  add.s64 %rd8, %rd6, %rd7; st.global.f32 [%rd8], %f4;\n"
    "DONE:\n  ret;\n}\n";

static irhal_device_t* g_device;
static char g_why[512];

static int group_setup(void** state) {
  (void)state;
  irt_status_t status =
      irhal_cuda_device_create(0, irt_allocator_system(), &g_device);
  if (status) {
    irt_status_format_brief(status, g_why, sizeof(g_why));
    irt_status_free(status);
  }
  return 0;
}

static int group_teardown(void** state) {
  (void)state;
  if (g_device) irhal_device_release(g_device);
  return 0;
}

#define REQUIRE_GPU()                                      \
  do {                                                     \
    if (!g_device) {                                       \
      print_message("SKIP: no CUDA device (%s)\n", g_why); \
      skip();                                              \
    }                                                      \
  } while (0)

static void test_names(void** state) {
  (void)state;
  int ordinal = -1;
  assert_true(
      irhal_cuda_device_parse_name(irt_make_cstring_view("cuda"), &ordinal));
  assert_int_equal(ordinal, 0);
  assert_true(irhal_cuda_device_parse_name(irt_make_cstring_view("cuda://12"),
                                           &ordinal));
  assert_int_equal(ordinal, 12);
  assert_false(
      irhal_cuda_device_parse_name(irt_make_cstring_view("cuda://"), &ordinal));
  assert_false(irhal_cuda_device_parse_name(irt_make_cstring_view("cuda://x"),
                                            &ordinal));
  assert_false(
      irhal_cuda_device_parse_name(irt_make_cstring_view("cudax"), &ordinal));
}

// Without a GPU the error says so plainly.
static void test_no_driver_error(void** state) {
  (void)state;
  if (g_device) {
    print_message("SKIP: a CUDA device is present\n");
    skip();
  }
  assert_non_null(strstr(g_why, "no CUDA"));
}

// Writes one PTX image and the first export of |descs| and expects the
// parser to refuse the container as INVALID_ARGUMENT.
static void expect_def_refused(const char* const* images,
                               const irvm_cuda_export_desc_t* descs) {
  uint8_t* data = NULL;
  size_t size = 0;
  assert_null(irvm_cuda_executable_write(images, 1, descs, 1,
                                         irt_allocator_system(), &data, &size));
  irhal_cuda_executable_def_t def;
  irt_status_t status = irhal_cuda_executable_def_parse(
      data, size, NULL, irt_allocator_system(), &def);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  irt_allocator_free(irt_allocator_system(), data);
}

// The format reader needs no GPU: a written executable reads back; the
// spec 8.3 checks name the export.
static void test_executable_def(void** state) {
  (void)state;
  irvm_cuda_export_desc_t descs[2] = {
      {.kernel_name = "a", .block_dims = {64, 2, 1}, .constant_count = 3,
       .binding_count = 2, .shared_memory_size = 128},
      {.kernel_name = "b", .block_dims = {1024, 1, 1}},
  };
  const char* images[1] = {kPtx};
  uint8_t* data = NULL;
  size_t size = 0;
  assert_null(irvm_cuda_executable_write(images, 1, descs, 2,
                                         irt_allocator_system(), &data, &size));
  irhal_cuda_executable_def_t def;
  assert_null(irhal_cuda_executable_def_parse(data, size, NULL,
                                              irt_allocator_system(), &def));
  assert_int_equal(def.module_count, 1);
  assert_string_equal(def.ptx_images[0].data, kPtx);
  assert_int_equal(def.export_count, 2);
  assert_true(irt_string_view_equal_cstring(def.exports[0].kernel_name, "a"));
  assert_int_equal(def.exports[0].block_dims[1], 2);
  assert_int_equal(def.exports[0].constant_count, 3);
  assert_int_equal(def.exports[0].binding_count, 2);
  assert_int_equal(def.exports[0].shared_memory_size, 128);
  irhal_cuda_executable_def_deinitialize(&def);
  // A device allowing 512 threads in x refuses export 1.
  irhal_cuda_limits_t limits = {{512, 512, 64}, 1 << 16};
  irt_status_t status = irhal_cuda_executable_def_parse(
      data, size, &limits, irt_allocator_system(), &def);
  char text[512];
  irt_status_format_brief(status, text, sizeof(text));
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  assert_non_null(strstr(text, "exports[1]"));
  assert_non_null(strstr(text, "block_dims.x = 1024 exceeds 512"));
  irt_status_free(status);
  data[0] = 'X';  // magic
  status = irhal_cuda_executable_def_parse(data, size, NULL,
                                           irt_allocator_system(), &def);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  irt_allocator_free(irt_allocator_system(), data);
  // Spec limits: constants, module ordinals.
  descs[0].constant_count = 65;
  expect_def_refused(images, descs);
  descs[0].constant_count = 0;
  descs[0].module_ordinal = 1;
  expect_def_refused(images, descs);
}

// A fence with one new timepoint, waited for and released.
static void submit_wait(irhal_fence_t* fence) {
  assert_null(irhal_fence_wait(fence, INT64_MAX));
  irhal_fence_release(fence);
}

static irhal_fence_t* new_fence(void) {
  irhal_fence_t* fence = NULL;
  assert_null(irhal_fence_create_single(irt_allocator_system(), &fence));
  return fence;
}

static irhal_buffer_t* device_buffer(size_t size) {
  irhal_buffer_t* buffer = NULL;
  assert_null(g_device->vtable->allocate_buffer(
      g_device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL, IRHAL_BUFFER_USAGE_DEFAULT,
      size, &buffer));
  return buffer;
}

static irhal_buffer_t* host_buffer(size_t size, void** out_data) {
  irhal_buffer_t* buffer = NULL;
  assert_null(g_device->vtable->allocate_buffer(
      g_device, IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
      IRHAL_BUFFER_USAGE_DEFAULT | IRHAL_BUFFER_USAGE_MAPPING, size, &buffer));
  assert_null(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_ALL, 0, size, out_data));
  return buffer;
}

// update -> device, fill part of it, copy to pinned host memory; ordered by
// fences across ops.
static void test_transfers(void** state) {
  (void)state;
  REQUIRE_GPU();
  enum { N = 1024 };
  uint32_t values[N];
  for (uint32_t i = 0; i < N; ++i) values[i] = i * 3;
  irhal_buffer_t* device = device_buffer(sizeof(values));
  void* mapped = NULL;
  irhal_buffer_t* host = host_buffer(sizeof(values), &mapped);
  // Device memory cannot be mapped.
  void* ptr = NULL;
  irt_status_t status =
      irhal_buffer_map(device, IRHAL_MEMORY_ACCESS_READ, 0, 4, &ptr);
  assert_int_equal(irt_status_code(status), IRT_STATUS_FAILED_PRECONDITION);
  irt_status_free(status);

  irhal_fence_t* updated = new_fence();
  assert_null(irhal_device_queue_update(g_device, UINT64_MAX, NULL, updated,
                                        values, device, 0, sizeof(values)));
  irhal_fence_t* filled = new_fence();
  assert_null(irhal_device_queue_fill(g_device, UINT64_MAX, updated, filled,
                                      device, 16, 32, 0xABCD1234u, 4));
  irhal_fence_t* copied = new_fence();
  assert_null(irhal_device_queue_copy(g_device, UINT64_MAX, filled, copied,
                                      device, 0, host, 0, sizeof(values)));
  submit_wait(copied);
  irhal_fence_release(filled);
  irhal_fence_release(updated);
  const uint32_t* got = mapped;
  for (uint32_t i = 0; i < N; ++i) {
    uint32_t expected = (i >= 4 && i < 12) ? 0xABCD1234u : i * 3;
    assert_int_equal(got[i], expected);
  }
  irhal_buffer_release(host);
  irhal_buffer_release(device);
}

static irhal_executable_t* make_executable(const char* ptx,
                                           const char* kernel_name,
                                           irt_status_t* out_status) {
  irvm_cuda_export_desc_t desc = {
      .kernel_name = kernel_name,
      .block_dims = {64, 1, 1},
      .constant_count = 2,
      .binding_count = 3,
  };
  const char* images[1] = {ptx};
  uint8_t* data = NULL;
  size_t size = 0;
  assert_null(irvm_cuda_executable_write(images, 1, &desc, 1,
                                         irt_allocator_system(), &data, &size));
  irhal_executable_t* executable = NULL;
  *out_status = g_device->vtable->create_executable(
      g_device, irt_make_cstring_view("cuda-nvptx-fb"), data, size, NULL, NULL,
      0, &executable);
  irt_allocator_free(irt_allocator_system(), data);
  return executable;
}

static void test_dispatch(void** state) {
  (void)state;
  REQUIRE_GPU();
  enum { N = 1000 };
  irt_status_t status = IRT_OK;
  irhal_executable_t* executable = make_executable(kPtx, "mul_add", &status);
  assert_null(status);
  float a[N], b[N];
  for (int i = 0; i < N; ++i) {
    a[i] = (float)i;
    b[i] = 0.5f;
  }
  irhal_buffer_t* in_a = device_buffer(sizeof(a));
  irhal_buffer_t* in_b = device_buffer(sizeof(b));
  irhal_buffer_t* out = device_buffer(sizeof(a));
  void* mapped = NULL;
  irhal_buffer_t* host = host_buffer(sizeof(a), &mapped);

  irhal_command_buffer_t* cb = NULL;
  assert_null(irhal_command_buffer_create(0, IRHAL_COMMAND_CATEGORY_TRANSFER | IRHAL_COMMAND_CATEGORY_DISPATCH, 3,
                                          irt_allocator_system(), &cb));
  assert_null(irhal_command_buffer_update(
      cb, a, (irhal_buffer_ref_t){.slot = 0, .length = sizeof(a)}));
  assert_null(irhal_command_buffer_update(
      cb, b, (irhal_buffer_ref_t){.slot = 1, .length = sizeof(b)}));
  assert_null(irhal_command_buffer_barrier(cb));
  float scale = 2.0f;
  uint32_t constants[2];
  memcpy(&constants[0], &scale, 4);
  constants[1] = N;
  irhal_buffer_ref_t bindings[3] = {{.slot = 0, .length = IRHAL_WHOLE_LENGTH},
                                    {.slot = 1, .length = IRHAL_WHOLE_LENGTH},
                                    {.slot = 2, .length = IRHAL_WHOLE_LENGTH}};
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.workgroup_count[0] = (N + 63) / 64;
  dispatch.dispatch.workgroup_count[1] = 1;
  dispatch.dispatch.workgroup_count[2] = 1;
  dispatch.dispatch.constant_count = 2;
  dispatch.dispatch.constants = constants;
  dispatch.dispatch.binding_count = 3;
  dispatch.dispatch.bindings = bindings;
  assert_null(irhal_command_buffer_dispatch(cb, &dispatch));
  assert_null(irhal_command_buffer_barrier(cb));
  assert_null(irhal_command_buffer_copy(
      cb, (irhal_buffer_ref_t){.slot = 2, .length = IRHAL_WHOLE_LENGTH},
      (irhal_buffer_ref_t){.buffer = host, .length = IRHAL_WHOLE_LENGTH}));
  assert_null(irhal_command_buffer_finalize(cb));
  irhal_buffer_ref_t entries[3] = {
      {.buffer = in_a, .length = IRHAL_WHOLE_LENGTH},
      {.buffer = in_b, .length = IRHAL_WHOLE_LENGTH},
      {.buffer = out, .length = IRHAL_WHOLE_LENGTH}};
  irhal_binding_table_t table = {3, entries};
  // Twice: a reusable command buffer replays.
  for (int round = 0; round < 2; ++round) {
    memset(mapped, 0, sizeof(a));
    irhal_fence_t* done = new_fence();
    assert_null(irhal_device_queue_execute(g_device, UINT64_MAX, NULL, done, cb,
                                           &table));
    submit_wait(done);
    const float* got = mapped;
    for (int i = 0; i < N; ++i) assert_true(got[i] == a[i] * 0.5f + 2.0f);
  }
  irhal_command_buffer_release(cb);
  irhal_buffer_release(host);
  irhal_buffer_release(out);
  irhal_buffer_release(in_b);
  irhal_buffer_release(in_a);
  irhal_executable_release(executable);
}

// Bad PTX reports the JIT log; a missing kernel is NOT_FOUND; a bad
// container is INVALID_ARGUMENT.
static void test_executable_errors(void** state) {
  (void)state;
  REQUIRE_GPU();
  irt_status_t status = IRT_OK;
  assert_null(make_executable(".version 7.0\n.target sm_50\nbogus;\n",
                              "mul_add", &status));
  char text[4096];
  irt_status_format(status, text, sizeof(text));
  assert_non_null(strstr(text, "JIT log"));
  irt_status_free(status);
  assert_null(make_executable(kPtx, "absent", &status));
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  irt_status_free(status);
  uint8_t junk[80] = "CDA1";
  irhal_executable_t* executable = NULL;
  status = g_device->vtable->create_executable(
      g_device, irt_make_cstring_view("cuda-nvptx-fb"), junk, sizeof(junk),
      NULL, NULL, 0, &executable);
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
}

// queue.read of a memory file streams through pinned staging (more chunks
// than slots), or is one DMA copy once the file's bytes are pinned; both
// checked after a copy back.
static void test_staged_read(void** state) {
  (void)state;
  REQUIRE_GPU();
  enum { SIZE = 1 << 20 };
  static uint8_t bytes[SIZE] __attribute__((aligned(4096)));
  for (size_t i = 0; i < SIZE; ++i) bytes[i] = (uint8_t)(i * 7 + 1);
  irhal_file_t* file = NULL;
  assert_null(irhal_file_create_from_memory(
      bytes, SIZE, IRHAL_MEMORY_ACCESS_READ, (irhal_release_callback_t){0},
      irt_allocator_system(), &file));
  irhal_buffer_t* device = device_buffer(SIZE);
  irhal_staging_stats_t stats;
  irhal_staging_options_t options = {
      .chunk_size = 64 << 10, .depth = 3, .stats = &stats};
  irhal_fence_t* read = new_fence();
  assert_null(irhal_file_transfer_read(g_device, UINT64_MAX, NULL, read, file,
                                       0, device, 0, SIZE, &options));
  assert_int_equal(stats.chunk_count, 16);
  void* mapped = NULL;
  irhal_buffer_t* host = host_buffer(SIZE, &mapped);
  irhal_fence_t* copied = new_fence();
  assert_null(irhal_device_queue_copy(g_device, UINT64_MAX, read, copied,
                                      device, 0, host, 0, SIZE));
  submit_wait(copied);
  irhal_fence_release(read);
  assert_memory_equal(mapped, bytes, SIZE);

  // Once the file's bytes are pinned, queue.read is one DMA copy.
  bool registered = false;
  assert_null(
      irhal_device_register_host_memory(g_device, bytes, SIZE, &registered));
  assert_true(g_device->vtable->transfers_file_directly(g_device, file));
  memset(mapped, 0, SIZE);
  irhal_fence_t* filled = new_fence();
  assert_null(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, filled,
                                      device, 0, SIZE, 0, 1));
  read = new_fence();
  assert_null(irhal_device_queue_read(g_device, UINT64_MAX, filled, read, file,
                                      4096, device, 0, SIZE - 4096));
  copied = new_fence();
  assert_null(irhal_device_queue_copy(g_device, UINT64_MAX, read, copied,
                                      device, 0, host, 0, SIZE));
  submit_wait(copied);
  irhal_fence_release(read);
  irhal_fence_release(filled);
  assert_memory_equal(mapped, bytes + 4096, SIZE - 4096);
  irhal_device_unregister_host_memory(g_device, bytes);
  irhal_buffer_release(host);
  irhal_buffer_release(device);
  irhal_file_release(file);
}

// Registered host memory is imported in place (a DMA target); other host
// memory is refused with UNAVAILABLE so callers copy.
static void test_registered_import(void** state) {
  (void)state;
  REQUIRE_GPU();
  enum { SIZE = 1 << 16 };
  static uint8_t region[SIZE] __attribute__((aligned(4096)));
  irhal_buffer_t* buffer = NULL;
  irt_status_t status = g_device->vtable->import_host_buffer(
      g_device, region, SIZE, 0, IRHAL_BUFFER_USAGE_DEFAULT,
      IRHAL_MEMORY_ACCESS_ALL, (irhal_release_callback_t){0}, &buffer);
  assert_int_equal(irt_status_code(status), IRT_STATUS_UNAVAILABLE);
  irt_status_free(status);
  bool registered = false;
  assert_null(
      irhal_device_register_host_memory(g_device, region, SIZE, &registered));
  assert_true(registered);
  assert_null(g_device->vtable->import_host_buffer(
      g_device, region + 256, 1024, 0, IRHAL_BUFFER_USAGE_DEFAULT,
      IRHAL_MEMORY_ACCESS_ALL, (irhal_release_callback_t){0}, &buffer));
  irhal_fence_t* filled = new_fence();
  assert_null(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, filled,
                                      buffer, 0, 1024, 0x5A, 1));
  submit_wait(filled);
  assert_int_equal(region[255], 0);
  assert_int_equal(region[256], 0x5A);
  assert_int_equal(region[256 + 1023], 0x5A);
  assert_int_equal(region[256 + 1024], 0);
  irhal_buffer_release(buffer);
  irhal_device_unregister_host_memory(g_device, region);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_names),
      cmocka_unit_test(test_no_driver_error),
      cmocka_unit_test(test_executable_def),
      cmocka_unit_test(test_transfers),
      cmocka_unit_test(test_dispatch),
      cmocka_unit_test(test_executable_errors),
      cmocka_unit_test(test_staged_read),
      cmocka_unit_test(test_registered_import),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
