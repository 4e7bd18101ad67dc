// The Vulkan device through the HAL API (hal/vulkan/vulkan_device.h):
// URIs and selection, memory types and mapping, every queue operation with
// unaligned fills and updates, command buffers against binding tables,
// failure propagation, host imports, malformed executables, staged file
// reads within the ring, and the persisted pipeline cache. Dispatch results
// are compared with the CPU build by the fixtures tests. Tests skip when
// this machine has no Vulkan device.
//
//   test_hal_vulkan_device <ops_vulkan.vmfb>
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// cmocka needs the headers above.
#include <cmocka.h>

#include "hal/api.h"
#include "hal/file_transfer.h"
#include "hal/vulkan/vulkan_device.h"
#include "runtime/session/model.h"

static irhal_device_t* g_device;
static const char* g_ops_vmfb;

#define ASSERT_OK(expr)                                   \
  do {                                                    \
    irt_status_t status_ = (expr);                        \
    if (status_) {                                        \
      char text_[1024];                                   \
      irt_status_format(status_, text_, sizeof(text_));   \
      print_error("%s: %s\n", #expr, text_);              \
      irt_status_free(status_);                           \
      fail();                                             \
    }                                                     \
  } while (0)

// Expects |status| to fail with |code| and a message containing |text|.
static void assert_status(irt_status_t status, irt_status_code_t code,
                          const char* text) {
  assert_non_null(status);
  char message[2048];
  irt_status_format(status, message, sizeof(message));
  if (irt_status_code(status) != code || !strstr(message, text)) {
    print_error("expected %s containing '%s', got %s\n",
                irt_status_code_string(code), text, message);
    fail();
  }
  irt_status_free(status);
}

#define REQUIRE_DEVICE()                                           \
  do {                                                             \
    if (!g_device) {                                               \
      print_message("no Vulkan device on this machine: skipped\n"); \
      skip();                                                      \
    }                                                              \
  } while (0)

static irhal_buffer_t* allocate(uint32_t memory_type, uint64_t size) {
  irhal_buffer_t* buffer = NULL;
  ASSERT_OK(g_device->vtable->allocate_buffer(
      g_device, memory_type, IRHAL_BUFFER_USAGE_DEFAULT, size, &buffer));
  return buffer;
}

// The bytes of |buffer| as the host sees them (mapped or downloaded).
static const uint8_t* read_bytes(irhal_buffer_t* buffer) {
  void* data = NULL;
  ASSERT_OK(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                             buffer->byte_length, &data));
  return data;
}

static irhal_fence_t* new_fence(void) {
  irhal_fence_t* fence = NULL;
  ASSERT_OK(irhal_fence_create_single(irt_allocator_system(), &fence));
  return fence;
}

static void wait_and_release(irhal_fence_t* fence) {
  ASSERT_OK(irhal_fence_wait(fence, INT64_MAX));
  irhal_fence_release(fence);
}

//===----------------------------------------------------------------------===//
// URIs and selection
//===----------------------------------------------------------------------===//

static void test_parse_uri(void** state) {
  (void)state;
  char name[32];
  irhal_vulkan_device_options_t options = {0};
  ASSERT_OK(irhal_vulkan_parse_uri(irt_make_cstring_view("vulkan"), name,
                                   sizeof(name), &options));
  assert_int_equal(options.index, 0);
  assert_null(options.name);
  ASSERT_OK(irhal_vulkan_parse_uri(irt_make_cstring_view("vulkan://3"), name,
                                   sizeof(name), &options));
  assert_int_equal(options.index, 3);
  ASSERT_OK(irhal_vulkan_parse_uri(irt_make_cstring_view("vulkan://llvmpipe"),
                                   name, sizeof(name), &options));
  assert_string_equal(options.name, "llvmpipe");
  assert_status(irhal_vulkan_parse_uri(irt_make_cstring_view("vulkan://"),
                                       name, sizeof(name), &options),
                IRT_STATUS_INVALID_ARGUMENT, "names no device");
  assert_status(irhal_vulkan_parse_uri(irt_make_cstring_view("cuda"), name,
                                       sizeof(name), &options),
                IRT_STATUS_NOT_FOUND, "not a Vulkan device");
  assert_false(irhal_vulkan_is_uri(irt_make_cstring_view("vulkanx")));
}

static void test_unknown_device(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  irhal_vulkan_device_options_t options = {.name = "no-such-gpu"};
  irhal_device_t* device = NULL;
  assert_status(
      irhal_vulkan_device_create(&options, irt_allocator_system(), &device),
      IRT_STATUS_NOT_FOUND, "there are: vulkan://0");
  options = (irhal_vulkan_device_options_t){.index = 15};
  assert_status(
      irhal_vulkan_device_create(&options, irt_allocator_system(), &device),
      IRT_STATUS_NOT_FOUND, "no Vulkan device 15");
  assert_null(device);
}

static void test_queries(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  bool ok = false;
  int64_t value = 0;
  ASSERT_OK(irhal_device_query_i64(g_device,
                                   irt_make_cstring_view("hal.device.id"),
                                   irt_make_cstring_view("vulkan"), &ok,
                                   &value));
  assert_true(ok && value == 1);
  ASSERT_OK(irhal_device_query_i64(
      g_device, irt_make_cstring_view("hal.executable.format"),
      irt_make_cstring_view("vulkan-spirv-fb"), &ok, &value));
  assert_true(ok && value == 1);
  ASSERT_OK(irhal_device_query_i64(
      g_device, irt_make_cstring_view("hal.executable.format"),
      irt_make_cstring_view("embedded-elf-x86_64"), &ok, &value));
  assert_true(ok && value == 0);
  ASSERT_OK(irhal_device_query_i64(
      g_device, irt_make_cstring_view("hal.dispatch"),
      irt_make_cstring_view("compute.bitwidths.int"), &ok, &value));
  assert_true(ok);
}

//===----------------------------------------------------------------------===//
// Memory and queue operations
//===----------------------------------------------------------------------===//

static void test_host_visible_buffer(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  irhal_buffer_t* buffer = allocate(
      IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE, 100);
  assert_true(buffer->memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE);
  assert_true(buffer->memory_type & IRHAL_MEMORY_TYPE_DEVICE_VISIBLE);
  void* data = NULL;
  ASSERT_OK(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0, 100, &data));
  assert_int_equal(((uint8_t*)data)[99], 0);  // zeroed like CPU memory
  memset(data, 7, 100);
  assert_int_equal(read_bytes(buffer)[50], 7);
  irhal_buffer_release(buffer);
}

// Device-only memory (a discrete GPU's, or emulated): never mapped for
// writing; reads download the current contents each time.
static void test_device_only_memory(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  irhal_buffer_t* buffer = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, 256);
  if (buffer->memory_type & IRHAL_MEMORY_TYPE_HOST_VISIBLE) {
    irhal_buffer_release(buffer);
    print_message("device-local memory is host-visible here: skipped\n");
    skip();
  }
  void* data = NULL;
  assert_status(
      irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_WRITE, 0, 256, &data),
      IRT_STATUS_FAILED_PRECONDITION, "only be read back");
  for (uint32_t pattern = 1; pattern <= 2; ++pattern) {
    irhal_fence_t* fence = new_fence();
    ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, fence,
                                      buffer, 0, 256, pattern, 1));
    wait_and_release(fence);
    ASSERT_OK(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 128, 128,
                               &data));
    assert_int_equal(((uint8_t*)data)[127], pattern);
  }
  irhal_buffer_release(buffer);
}

// Fills with every pattern width at unaligned offsets, an update at an odd
// offset and a copy between subspans, checked against the same edits on
// host memory.
static void test_queue_transfers(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  enum { kSize = 96 };
  uint8_t expected[kSize];
  memset(expected, 0, kSize);
  irhal_buffer_t* target = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, kSize);
  irhal_buffer_t* source = allocate(
      IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE, kSize);
  void* source_data = NULL;
  ASSERT_OK(irhal_buffer_map(source, IRHAL_MEMORY_ACCESS_WRITE, 0, kSize,
                             &source_data));
  for (int i = 0; i < kSize; ++i) ((uint8_t*)source_data)[i] = (uint8_t)i;

  irhal_fence_t* fence = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, fence, target,
                                    0, kSize, 0xDDCCBBAA, 4));
  wait_and_release(fence);
  for (int i = 0; i < kSize; ++i) expected[i] = (uint8_t)(0xAA + 0x11 * (i % 4));

  fence = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, fence, target,
                                    1, 6, 0x5A, 1));
  wait_and_release(fence);
  memset(expected + 1, 0x5A, 6);

  fence = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, fence, target,
                                    10, 14, 0x1234, 2));
  wait_and_release(fence);
  for (int i = 10; i < 24; i += 2) {
    expected[i] = 0x34;
    expected[i + 1] = 0x12;
  }

  const uint8_t update[7] = {1, 2, 3, 4, 5, 6, 7};
  fence = new_fence();
  ASSERT_OK(irhal_device_queue_update(g_device, UINT64_MAX, NULL, fence,
                                      update, target, 33, sizeof(update)));
  wait_and_release(fence);
  memcpy(expected + 33, update, sizeof(update));

  irhal_buffer_t* window = NULL;
  ASSERT_OK(irhal_buffer_subspan(target, 64, 32, &window));
  fence = new_fence();
  ASSERT_OK(irhal_device_queue_copy(g_device, UINT64_MAX, NULL, fence, source,
                                    5, window, 3, 20));
  wait_and_release(fence);
  for (int i = 0; i < 20; ++i) expected[64 + 3 + i] = (uint8_t)(5 + i);

  assert_memory_equal(read_bytes(target), expected, kSize);
  irhal_buffer_release(window);
  irhal_buffer_release(source);
  irhal_buffer_release(target);
}

// A reusable command buffer (fill, barrier, copy between binding slots)
// executed twice against different tables.
static void test_command_buffer_replay(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  irhal_command_buffer_t* cb = NULL;
  ASSERT_OK(irhal_command_buffer_create(0, 3, 2, irt_allocator_system(), &cb));
  ASSERT_OK(irhal_command_buffer_fill(
      cb, (irhal_buffer_ref_t){NULL, 0, 0, 16}, 0x11223344, 4));
  ASSERT_OK(irhal_command_buffer_barrier(cb));
  ASSERT_OK(irhal_command_buffer_copy(cb, (irhal_buffer_ref_t){NULL, 0, 0, 16},
                                      (irhal_buffer_ref_t){NULL, 1, 4, 16}));
  ASSERT_OK(irhal_command_buffer_finalize(cb));
  for (int run = 0; run < 2; ++run) {
    irhal_buffer_t* a = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, 16);
    irhal_buffer_t* b = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, 32);
    irhal_buffer_ref_t entries[2] = {{a, 0, 0, IRHAL_WHOLE_LENGTH},
                                     {b, 0, 0, IRHAL_WHOLE_LENGTH}};
    irhal_binding_table_t table = {2, entries};
    irhal_fence_t* fence = new_fence();
    ASSERT_OK(irhal_device_queue_execute(g_device, UINT64_MAX, NULL, fence, cb,
                                         &table));
    wait_and_release(fence);
    // Only the copied range: device-only memory starts undefined.
    uint8_t expected[16];
    for (int i = 0; i < 16; i += 4) {
      const uint32_t word = 0x11223344;
      memcpy(expected + i, &word, 4);
    }
    assert_memory_equal(read_bytes(b) + 4, expected, 16);
    irhal_buffer_release(a);
    irhal_buffer_release(b);
  }
  irhal_command_buffer_release(cb);
}

// An op whose wait fence fails does not run and fails its signal fence.
static void test_wait_failure_propagates(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  irhal_buffer_t* target = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, 16);
  irhal_fence_t* filled = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, filled, target,
                                    0, 16, 0x11, 1));
  wait_and_release(filled);
  irhal_fence_t* wait = new_fence();
  irhal_fence_t* signal = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, wait, signal, target,
                                    0, 16, 0xFF, 1));
  irhal_fence_fail(wait, irt_make_status(IRT_STATUS_ABORTED, "upstream"));
  assert_status(irhal_fence_wait(signal, INT64_MAX), IRT_STATUS_ABORTED,
                "upstream");
  assert_int_equal(read_bytes(target)[0], 0x11);  // the fill never ran
  irhal_fence_release(wait);
  irhal_fence_release(signal);
  irhal_buffer_release(target);
}

static int g_released;
static void count_release(void* user_data) {
  (void)user_data;
  ++g_released;
}

// Aligned host memory is imported without a copy where the device has
// VK_EXT_external_memory_host; misaligned memory is refused (UNAVAILABLE).
static void test_host_import(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  enum { kSize = 1 << 16 };
  uint8_t* memory = NULL;
  assert_int_equal(posix_memalign((void**)&memory, kSize, kSize), 0);
  memset(memory, 0, kSize);
  irhal_buffer_t* buffer = NULL;
  irhal_release_callback_t release = {count_release, NULL};
  assert_status(g_device->vtable->import_host_buffer(
                    g_device, memory + 1, 4096, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
                    IRHAL_BUFFER_USAGE_DEFAULT, IRHAL_MEMORY_ACCESS_ALL,
                    release, &buffer),
                IRT_STATUS_UNAVAILABLE, "");
  irt_status_t status = g_device->vtable->import_host_buffer(
      g_device, memory, kSize, IRHAL_MEMORY_TYPE_DEVICE_LOCAL,
      IRHAL_BUFFER_USAGE_DEFAULT, IRHAL_MEMORY_ACCESS_ALL, release, &buffer);
  if (irt_status_code(status) == IRT_STATUS_UNAVAILABLE) {
    irt_status_free(status);
    free(memory);
    print_message("no host import on this device: skipped\n");
    skip();
  }
  ASSERT_OK(status);
  assert_ptr_equal(read_bytes(buffer), memory);
  irhal_fence_t* fence = new_fence();
  ASSERT_OK(irhal_device_queue_fill(g_device, UINT64_MAX, NULL, fence, buffer,
                                    4096, 8, 0x3C, 1));
  wait_and_release(fence);
  assert_int_equal(memory[4096], 0x3C);  // the device wrote host memory
  assert_int_equal(memory[4104], 0);
  g_released = 0;
  irhal_buffer_release(buffer);
  assert_int_equal(g_released, 1);
  free(memory);
}

// A read through a small ring: staging never exceeds it, bytes arrive.
static void test_staged_read(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  enum { kSize = 1 << 20, kChunk = 64 << 10 };
  uint8_t* data = malloc(kSize);
  for (int i = 0; i < kSize; ++i) data[i] = (uint8_t)(i * 7 + (i >> 12));
  irhal_file_t* file = NULL;
  ASSERT_OK(irhal_file_create_from_memory(data, kSize, IRHAL_MEMORY_ACCESS_READ,
                                          (irhal_release_callback_t){0},
                                          irt_allocator_system(), &file));
  irhal_buffer_t* target = allocate(IRHAL_MEMORY_TYPE_DEVICE_LOCAL, kSize);
  irhal_staging_stats_t stats = {0};
  irhal_staging_options_t options = {kChunk, 3, &stats};
  irhal_fence_t* fence = new_fence();
  ASSERT_OK(irhal_file_transfer_read(g_device, UINT64_MAX, NULL, fence, file,
                                     0, target, 0, kSize, &options));
  wait_and_release(fence);
  assert_true(stats.peak_staging_bytes <= 3 * kChunk);
  assert_int_equal(stats.chunk_count, kSize / kChunk);
  assert_memory_equal(read_bytes(target), data, kSize);
  irhal_buffer_release(target);
  irhal_file_release(file);
  free(data);
}

//===----------------------------------------------------------------------===//
// Executables
//===----------------------------------------------------------------------===//

static irt_status_t create_executable(const char* format, const uint8_t* data,
                                      size_t size) {
  irhal_executable_t* executable = NULL;
  irt_status_t status = g_device->vtable->create_executable(
      g_device, irt_make_cstring_view(format), data, size, NULL, NULL, 0,
      &executable);
  assert_null(executable);
  return status;
}

static void test_bad_executables(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  uint8_t data[128] = {'V', 'K', 'E', '1'};
  assert_status(create_executable("embedded-elf-x86_64", data, sizeof(data)),
                IRT_STATUS_NOT_FOUND, "no executable for this device");
  assert_status(create_executable("vulkan-spirv-fb", data, 63),
                IRT_STATUS_INVALID_ARGUMENT, "shorter than");
  assert_status(create_executable("vulkan-spirv-fb", data, sizeof(data)),
                IRT_STATUS_INVALID_ARGUMENT, "is empty");
  data[8] = 64;  // content size
  data[4] = 1;   // version
  assert_status(create_executable("vulkan-spirv-fb", data, sizeof(data)),
                IRT_STATUS_INCOMPATIBLE, "version 1");
  data[4] = 0;
  data[8] = 65;
  assert_status(create_executable("vulkan-spirv-fb", data, sizeof(data)),
                IRT_STATUS_OUT_OF_RANGE, "exceeds");
  data[8] = 64;
  assert_status(create_executable("vulkan-spirv-fb", data, sizeof(data)),
                IRT_STATUS_INVALID_ARGUMENT, "FlatBuffer");
  data[0] = 'C';
  assert_status(create_executable("vulkan-spirv-fb", data, sizeof(data)),
                IRT_STATUS_INVALID_ARGUMENT, "magic");
}

// Loading a Vulkan module with a cache directory writes the cache; a
// second runtime (a restarted daemon) loads from it.
static void test_pipeline_cache_persisted(void** state) {
  (void)state;
  REQUIRE_DEVICE();
  char dir[] = "/tmp/vulkan-pipeline-cache-XXXXXX";
  assert_non_null(mkdtemp(dir));
  for (int run = 0; run < 2; ++run) {
    irsess_runtime_t* runtime = NULL;
    ASSERT_OK(irsess_runtime_create(irt_allocator_system(), &runtime));
    ASSERT_OK(irsess_runtime_set_pipeline_cache_dir(runtime, dir));
    irsess_model_options_t options = {
        .device = "vulkan",
        .module_paths = &g_ops_vmfb,
        .module_count = 1,
    };
    irsess_model_t* model = NULL;
    ASSERT_OK(irsess_model_load(runtime, &options, irt_allocator_system(),
                                &model));
    irsess_model_release(model);
    irsess_runtime_destroy(runtime);
  }
  DIR* listing = opendir(dir);
  assert_non_null(listing);
  int caches = 0;
  struct dirent* entry;
  while ((entry = readdir(listing))) {
    if (strncmp(entry->d_name, "vulkan-", 7) != 0) continue;
    ++caches;
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, entry->d_name);
    FILE* file = fopen(path, "rb");
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    assert_true(ftell(file) > 16);  // a header and some pipelines
    fclose(file);
    unlink(path);
  }
  closedir(listing);
  rmdir(dir);
  assert_int_equal(caches, 1);
}

//===----------------------------------------------------------------------===//

// Each group runs every test on device 0: as it is, then with device-local
// memory emulated as device-only (the discrete-GPU paths, on any device).
static bool g_emulate_discrete;
static bool g_device_found;

static int group_setup(void** state) {
  (void)state;
  irhal_vulkan_device_options_t options = {
      .emulate_discrete_memory = g_emulate_discrete,
  };
  irt_status_t status =
      irhal_vulkan_device_create(&options, irt_allocator_system(), &g_device);
  if (status) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    printf("no Vulkan device (%s): device tests skip\n", text);
    irt_status_free(status);
    g_device = NULL;
  }
  g_device_found |= g_device != NULL;
  return 0;
}

static int group_teardown(void** state) {
  (void)state;
  if (g_device) irhal_device_release(g_device);
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: test_hal_vulkan_device OPS_VULKAN_VMFB\n");
    return 2;
  }
  g_ops_vmfb = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_parse_uri),
      cmocka_unit_test(test_unknown_device),
      cmocka_unit_test(test_queries),
      cmocka_unit_test(test_host_visible_buffer),
      cmocka_unit_test(test_device_only_memory),
      cmocka_unit_test(test_queue_transfers),
      cmocka_unit_test(test_command_buffer_replay),
      cmocka_unit_test(test_wait_failure_propagates),
      cmocka_unit_test(test_host_import),
      cmocka_unit_test(test_staged_read),
      cmocka_unit_test(test_bad_executables),
      cmocka_unit_test(test_pipeline_cache_persisted),
  };
  int failures = cmocka_run_group_tests(tests, group_setup, group_teardown);
  g_emulate_discrete = true;
  failures += cmocka_run_group_tests(tests, group_setup, group_teardown);
  // Without a device only the URI test ran: report a skip, not a pass.
  return failures || g_device_found ? failures : 77;
}
