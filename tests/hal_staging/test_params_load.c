// io_parameters.load on a device whose buffers the host cannot map: the
// builder-made scale.vmfb-style module (params_module.h) runs its `__init`
// against an IRPA archive on the fake discrete device, which refuses the
// zero-copy import, so the parameter is allocated device-local and filled by
// a queue.read that the HAL streams through the staging ring. Checks the
// bytes, that staging stayed within the default ring and was released, that
// no READ op reached the device, and that hal.buffer.load on the unmappable
// result fails as the spec says. Also the same module on local-task, where
// the load is zero-copy.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hal/cpu/cpu_device.h"
#include "hal/file_transfer.h"
#include "runtime/io/file_mapping.h"
#include "runtime/io/irpa_writer.h"
#include "runtime/modules/hal/hal_module.h"
#include "runtime/modules/io_parameters/io_parameters_module.h"
#include "runtime/vm/bytecode/bytecode_module.h"
#include "runtime/vm/context.h"
#include "runtime/vm/invoke.h"
#include "tests/hal_staging/discrete_device.h"
#include "tests/hal_staging/params_module.h"

// Two default chunks and an odd tail.
#define PARAMETER_LENGTH (IRHAL_STAGING_DEFAULT_CHUNK_SIZE * 2 + 4093)

static char g_dir[256];
static char g_irpa[300];
static uint8_t* g_payload;

static void expect_ok(irt_status_t status) {
  if (status) {
    char text[2048];
    irt_status_format(status, text, sizeof(text));
    irt_status_free(status);
    fail_msg("unexpected error: %s", text);
  }
}

static int group_setup(void** state) {
  (void)state;
  const char* base = getenv("TMPDIR");
  snprintf(g_dir, sizeof(g_dir), "%s/ireed-staging-params-XXXXXX",
           base && *base ? base : "/tmp");
  if (!mkdtemp(g_dir)) return -1;
  snprintf(g_irpa, sizeof(g_irpa), "%s/weights.irpa", g_dir);
  g_payload = malloc(PARAMETER_LENGTH);
  if (!g_payload) return -1;
  for (uint64_t i = 0; i < PARAMETER_LENGTH; ++i) {
    g_payload[i] = (uint8_t)((i * 131) ^ (i >> 12));
  }
  irio_irpa_writer_entry_t entry = {.key = irt_make_cstring_view("weight"),
                                    .length = PARAMETER_LENGTH,
                                    .data = g_payload};
  FILE* file = fopen(g_irpa, "wb");
  if (!file) return -1;
  irt_status_t status = irio_irpa_write(&entry, 1, file, g_irpa);
  fclose(file);
  if (status) {
    irt_status_free(status);
    return -1;
  }
  return 0;
}

static int group_teardown(void** state) {
  (void)state;
  unlink(g_irpa);
  rmdir(g_dir);
  free(g_payload);
  return 0;
}

// Frees module bytes made with the system allocator.
static void free_module_bytes(void* user_data, const uint8_t* data,
                              size_t size) {
  (void)user_data;
  (void)size;
  irt_allocator_free(irt_allocator_system(), (void*)data);
}

// An instance and a context of the hal module over |device|, io_parameters
// over the archive (scope "model") and the params module, whose __init has
// run (or failed: the status is returned, the context is then NULL).
typedef struct loaded_s {
  irvm_instance_t* instance;
  irvm_context_t* context;
} loaded_t;

static irt_status_t load(irhal_device_t* device, loaded_t* out_loaded) {
  irt_allocator_t allocator = irt_allocator_system();
  *out_loaded = (loaded_t){0};
  expect_ok(irvm_instance_create(allocator, &out_loaded->instance));
  expect_ok(irmod_hal_register_types(out_loaded->instance));
  uint8_t* data = NULL;
  size_t size = 0;
  expect_ok(params_module_build(allocator, PARAMETER_LENGTH, &data, &size));
  irvm_module_t* modules[3] = {NULL, NULL, NULL};
  irvm_bytecode_module_options_t options = {free_module_bytes, NULL};
  expect_ok(irvm_bytecode_module_create(out_loaded->instance, data, size,
                                        &options, allocator, &modules[2]));
  char flag[320];
  snprintf(flag, sizeof(flag), "model=%s", g_irpa);
  const char* flags[] = {flag};
  expect_ok(irmod_io_parameters_module_create_from_flags(
      out_loaded->instance, flags, 1, allocator, &modules[1]));
  expect_ok(irmod_hal_module_create(out_loaded->instance, &device, 1, allocator,
                                    &modules[0]));
  expect_ok(irvm_context_create(out_loaded->instance, allocator,
                                &out_loaded->context));
  irt_status_t status =
      irvm_context_register_modules(out_loaded->context, modules, 3);
  for (int i = 0; i < 3; ++i) irvm_module_release(modules[i]);
  return status;
}

static void unload(loaded_t* loaded) {
  irvm_context_destroy(loaded->context);
  irvm_instance_destroy(loaded->instance);
}

// Calls export |name| with |argument| (NULL: none); one result.
static irt_status_t call(const loaded_t* loaded, const char* name,
                         const irvm_variant_t* argument,
                         irvm_variant_t* out_result) {
  irvm_function_t function;
  expect_ok(irvm_context_resolve_function(
      loaded->context, irt_make_cstring_view(name), &function));
  size_t result_count = 0;
  return irvm_invoke(&function, NULL, argument, argument ? 1 : 0, out_result, 1,
                     &result_count, irt_allocator_system());
}

static void test_load_streams_on_a_discrete_device(void** state) {
  (void)state;
  size_t mappings = irio_file_mapping_live_count();
  discrete_device_options_t options = {.fail_copy_index = -1};
  irhal_device_t* device = NULL;
  expect_ok(discrete_device_create(&options, irt_allocator_system(), &device));
  loaded_t loaded;
  expect_ok(load(device, &loaded));

  irvm_variant_t result;
  expect_ok(call(&loaded, "weight", NULL, &result));
  irhal_buffer_t* weight = irhal_buffer_deref(&result.ref);
  assert_non_null(weight);
  assert_int_equal(weight->byte_length, PARAMETER_LENGTH);
  assert_true(memcmp(discrete_device_buffer_bytes(weight), g_payload,
                     PARAMETER_LENGTH) == 0);
  irvm_variant_release(&result);

  discrete_device_stats_t stats;
  discrete_device_stats(device, &stats);
  assert_int_equal(stats.direct_transfers, 0);
  assert_int_equal(stats.copies, 3);  // one per chunk
  assert_int_equal(stats.host_visible_peak_bytes,
                   IRHAL_STAGING_DEFAULT_CHUNK_SIZE * 3);  // depth clamped
  assert_int_equal(stats.host_visible_live_bytes, 0);

  // hal.buffer.load maps the buffer on the host, which this device cannot.
  irvm_variant_t offset = irvm_variant_from_value(irvm_value_make_i64(0));
  irt_status_t status = call(&loaded, "probe", &offset, &result);
  assert_int_equal(irt_status_consume_code(status),
                   IRT_STATUS_FAILED_PRECONDITION);

  unload(&loaded);
  irhal_device_release(device);
  assert_int_equal(irio_file_mapping_live_count(), mappings);
}

// The same module on local-task imports the mapped archive: the parameter
// is the archive's bytes, read back through hal.buffer.load.
static void test_load_is_zero_copy_on_local_task(void** state) {
  (void)state;
  irhal_device_t* device = NULL;
  expect_ok(irhal_cpu_device_create_by_name(
      irt_make_cstring_view("local-task"), 2, irt_allocator_system(), &device));
  loaded_t loaded;
  expect_ok(load(device, &loaded));
  irvm_variant_t result;
  expect_ok(call(&loaded, "weight", NULL, &result));
  irhal_buffer_t* weight = irhal_buffer_deref(&result.ref);
  assert_non_null(weight);
  void* bytes = NULL;
  expect_ok(irhal_buffer_map(weight, IRHAL_MEMORY_ACCESS_READ, 0,
                             PARAMETER_LENGTH, &bytes));
  assert_true(memcmp(bytes, g_payload, PARAMETER_LENGTH) == 0);
  // Imported, not copied: the bytes are the archive's mapping (shared
  // process-wide, so opening the file again finds it).
  irio_file_mapping_t* mapping = NULL;
  expect_ok(irio_file_mapping_open(g_irpa, IRIO_FILE_MODE_READ,
                                   irt_allocator_system(), &mapping));
  const uint8_t* base = irio_file_mapping_data(mapping);
  assert_true((const uint8_t*)bytes >= base &&
              (const uint8_t*)bytes + PARAMETER_LENGTH <=
                  base + irio_file_mapping_size(mapping));
  irio_file_mapping_release(mapping);
  irvm_variant_release(&result);
  const uint64_t offsets[] = {0, PARAMETER_LENGTH / 2, PARAMETER_LENGTH - 4};
  for (size_t i = 0; i < 3; ++i) {
    irvm_variant_t offset =
        irvm_variant_from_value(irvm_value_make_i64((int64_t)offsets[i]));
    expect_ok(call(&loaded, "probe", &offset, &result));
    uint32_t expected = 0;
    memcpy(&expected, g_payload + offsets[i], 4);
    assert_int_equal((uint32_t)result.value.i32, expected);
  }
  unload(&loaded);
  irhal_device_release(device);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_load_streams_on_a_discrete_device),
      cmocka_unit_test(test_load_is_zero_copy_on_local_task),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
