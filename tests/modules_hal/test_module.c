// The hal module's shape (exports, cconvs, types), argument checking common
// to every export, the device group, queries, files and executables.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/builder/hal_imports.h"
#include "runtime/vm/format/module_def.h"
#include "tests/modules_hal/hal_fixture.h"
#include "tests/support/test_files.h"

static int setup(void** state) {
  hal_fixture_t* fixture = malloc(sizeof(*fixture));
  hal_fixture_init(fixture);
  *state = fixture;
  return 0;
}

static int teardown(void** state) {
  hal_fixture_deinit(*state);
  free(*state);
  return 0;
}

//===----------------------------------------------------------------------===//
// Shape of the module
//===----------------------------------------------------------------------===//

static void test_identity_and_sorted_exports(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_module_t* module = fixture->module;
  assert_true(irt_string_view_equal_cstring(module->name, "hal"));
  assert_int_equal(module->version, 6);
  assert_int_equal(module->export_count, 57);
  irt_string_view_t previous = {"", 0};
  for (uint32_t i = 0; i < module->export_count; ++i) {
    irvm_export_info_t info;
    HAL_OK(module->vtable->export_info(module, i, &info));
    // Byte-wise ascending: memcmp over the common prefix, then length.
    size_t common =
        info.name.size < previous.size ? info.name.size : previous.size;
    int order = memcmp(previous.data, info.name.data, common);
    assert_true(order < 0 || (order == 0 && previous.size < info.name.size));
    irvm_cconv_t cconv;
    HAL_OK(irvm_cconv_parse(info.calling_convention, &cconv));
    previous = info.name;
  }
}

static void test_types_registered(void** state) {
  hal_fixture_t* fixture = *state;
  static const char* const names[] = {
      "hal.allocator",      "hal.buffer", "hal.buffer_view", "hal.channel",
      "hal.command_buffer", "hal.device", "hal.event",       "hal.executable",
      "hal.fence",          "hal.file",   "hal.semaphore"};
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
    const irvm_ref_type_t* type = irvm_instance_lookup_type(
        fixture->instance, irt_make_cstring_view(names[i]));
    assert_non_null(type);
    assert_string_equal(type->name, names[i]);
  }
  // Registering again (another module, a tool) is harmless.
  HAL_OK(irmod_hal_register_types(fixture->instance));
}

// Every hal import of every conformance module resolves to an export with
// the very same cconv.
static void test_conformance_imports_match(void** state) {
  hal_fixture_t* fixture = *state;
  static const char* const modules[] = {"conformance/v3.11/simple_mul.vmfb",
                                        "conformance/v3.11/add.vmfb",
                                        "conformance/v3.11/matmul.vmfb",
                                        "conformance/v3.11/multi_output.vmfb",
                                        "conformance/v3.11/simple_add_f64.vmfb",
                                        "conformance/v3.11/scale.vmfb"};
  for (size_t m = 0; m < sizeof(modules) / sizeof(modules[0]); ++m) {
    char path[4096];
    if (!ireed_test_shared_path(modules[m], path, sizeof(path))) {
      skip();
    }
    uint8_t* data = NULL;
    size_t size = 0;
    assert_true(ireed_test_read_file(path, &data, &size));
    irvm_module_def_t def;
    HAL_OK(irvm_module_def_parse(data, size, irt_allocator_system(), &def));
    for (uint32_t i = 0; i < def.import_count; ++i) {
      irt_string_view_t name = def.imports[i].full_name;
      if (!irt_string_view_starts_with(name, "hal.")) continue;
      irt_string_view_t local = {name.data + 4, name.size - 4};
      uint32_t ordinal = 0;
      HAL_OK(irvm_module_lookup_export(fixture->module, local, &ordinal));
      irvm_export_info_t info;
      HAL_OK(fixture->module->vtable->export_info(fixture->module, ordinal,
                                                  &info));
      if (!irt_string_view_equal(info.calling_convention,
                                 def.imports[i].signature.calling_convention)) {
        fail_msg("%s: import %.*s is %.*s but the export is %.*s", modules[m],
                 IRT_SV_ARG(name),
                 IRT_SV_ARG(def.imports[i].signature.calling_convention),
                 IRT_SV_ARG(info.calling_convention));
      }
    }
    irvm_module_def_deinit(&def);
    free(data);
  }
}

// The module builder's hal import table (runtime/vm/builder/hal_imports.c)
// names real exports with their very cconvs, so builder-made modules load.
static void test_builder_imports_match(void** state) {
  hal_fixture_t* fixture = *state;
  for (int i = 0; i < IRVM_HAL_IMPORT_COUNT; ++i) {
    const irvm_hal_import_info_t* import =
        irvm_hal_import_info((irvm_hal_import_t)i);
    assert_non_null(import);
    irt_string_view_t name = irt_make_cstring_view(import->name);
    assert_true(irt_string_view_starts_with(name, "hal."));
    irt_string_view_t local = {name.data + 4, name.size - 4};
    uint32_t ordinal = 0;
    HAL_OK(irvm_module_lookup_export(fixture->module, local, &ordinal));
    irvm_export_info_t info;
    HAL_OK(
        fixture->module->vtable->export_info(fixture->module, ordinal, &info));
    if (!irt_string_view_equal_cstring(info.calling_convention,
                                       import->cconv)) {
      fail_msg("builder import %s is %s but the export is %.*s", import->name,
               import->cconv, IRT_SV_ARG(info.calling_convention));
    }
  }
  assert_null(irvm_hal_import_info(IRVM_HAL_IMPORT_COUNT));
}

//===----------------------------------------------------------------------===//
// Bad arguments never crash
//===----------------------------------------------------------------------===//

static bool has_ref(const char* chars, bool in_spans) {
  bool in_span = false;
  for (const char* c = chars; *c; ++c) {
    if (*c == 'C' || *c == 'D') in_span = *c == 'C';
    if (*c == 'r' && in_span == in_spans) return true;
  }
  return false;
}

// Whether a call whose every ref argument (and |span_count| list entries
// each) is |ref| must fail with INVALID_ARGUMENT naming an argument.
static bool must_reject(const char* name, const char* chars,
                        uint32_t span_count, bool null_refs) {
  if (strcmp(name, "allocator.select") == 0) return true;    // empty or bad
  if (strcmp(name, "buffer_view.trace") == 0) return false;  // no sink: no-op
  bool null_fences_ok =
      strcmp(name, "fence.await") == 0 || strcmp(name, "fence.join") == 0;
  if (null_refs && null_fences_ok) return false;
  return has_ref(chars, false) || (span_count > 0 && has_ref(chars, true));
}

static void call_every_export(hal_fixture_t* fixture, irvm_ref_t ref,
                              uint32_t span_count, bool null_refs) {
  for (uint32_t i = 0; i < fixture->module->export_count; ++i) {
    irvm_export_info_t info;
    HAL_OK(fixture->module->vtable->export_info(fixture->module, i, &info));
    char name[64];
    snprintf(name, sizeof(name), "%.*s", IRT_SV_ARG(info.name));
    irt_string_view_t fragment = hal_export_arguments(fixture, name);
    char chars[32];
    snprintf(chars, sizeof(chars), "%.*s", IRT_SV_ARG(fragment));
    hal_args_t args;
    hal_args_uniform(&args, chars, ref, span_count);
    irt_status_t status = hal_call(fixture, name, &args, NULL);
    if (!must_reject(name, chars, span_count, null_refs)) {
      hal_expect_ok(status, name);
      continue;
    }
    hal_expect_error(status, IRT_STATUS_INVALID_ARGUMENT, "argument '", name);
  }
}

static void test_null_refs_are_rejected(void** state) {
  call_every_export(*state, irvm_ref_null(), 0, true);
  call_every_export(*state, irvm_ref_null(), 2, true);
}

// A hal.semaphore is never a valid argument of any export, so every ref
// argument (and list entry) is of the wrong type.
static void test_wrong_ref_types_are_rejected(void** state) {
  hal_fixture_t* fixture = *state;
  irhal_semaphore_t* semaphore = NULL;
  HAL_OK(irhal_semaphore_create(0, fixture->allocator, &semaphore));
  irvm_ref_t ref = hal_ref(semaphore, irhal_semaphore_type());
  call_every_export(fixture, ref, 0, false);
  call_every_export(fixture, ref, 2, false);
  irhal_semaphore_release(semaphore);
}

static void test_error_names_argument_and_types(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t text = hal_vm_text(fixture, "hal.device.id");
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, text);  // a vm.buffer where the device goes
  hal_args_ref(&args, text);
  hal_args_ref(&args, text);
  HAL_ERROR(hal_call(fixture, "device.query.i64", &args, NULL),
            IRT_STATUS_INVALID_ARGUMENT,
            "argument 'device' must be a hal.device, got vm.buffer");
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_ref(&args, text);
  hal_args_ref(&args, irvm_ref_null());
  HAL_ERROR(hal_call(fixture, "device.query.i64", &args, NULL),
            IRT_STATUS_INVALID_ARGUMENT,
            "argument 'key' must be a vm.buffer, got null");
  irvm_ref_release(&text);
}

//===----------------------------------------------------------------------===//
// Device group and queries
//===----------------------------------------------------------------------===//

static void test_devices_count_and_get(void** state) {
  hal_fixture_t* fixture = *state;
  hal_args_t args;
  hal_results_t results;
  hal_args_begin(&args);
  HAL_OK(hal_call(fixture, "devices.count", &args, &results));
  assert_int_equal(hal_results_i32(&results), 1);
  const int32_t indices[] = {0, 1, -1, INT32_MAX};
  for (size_t i = 0; i < 4; ++i) {
    hal_args_begin(&args);
    hal_args_i32(&args, indices[i]);
    HAL_OK(hal_call(fixture, "devices.get", &args, &results));
    irvm_ref_t device = hal_results_ref(&results);
    if (indices[i] == 0) {
      assert_ptr_equal(device.ptr, &fixture->device->base);
      assert_ptr_equal(device.type, irhal_device_type());
    } else {
      assert_true(irvm_ref_is_null(&device));  // out of range: null, no error
    }
    irvm_ref_release(&device);
  }
}

static void query(hal_fixture_t* fixture, const char* category, const char* key,
                  int32_t expected_ok, int64_t expected_value) {
  irvm_ref_t category_ref = hal_vm_text(fixture, category);
  irvm_ref_t key_ref = hal_vm_text(fixture, key);
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_ref(&args, category_ref);
  hal_args_ref(&args, key_ref);
  hal_results_t results;
  HAL_OK(hal_call(fixture, "device.query.i64", &args, &results));
  int32_t ok = hal_results_i32(&results);
  int64_t value = hal_results_i64(&results);
  if (ok != expected_ok || value != expected_value) {
    fail_msg("query(%s, %s) = (%d, %lld), expected (%d, %lld)", category, key,
             ok, (long long)value, expected_ok, (long long)expected_value);
  }
  irvm_ref_release(&category_ref);
  irvm_ref_release(&key_ref);
}

static void test_query_i64(void** state) {
  hal_fixture_t* fixture = *state;
  // Device id globs: '*' any run, '?' any one char; ok = 1 either way.
  query(fixture, "hal.device.id", "local*", 1, 1);
  query(fixture, "hal.device.id", "local-fake", 1, 1);
  query(fixture, "hal.device.id", "*fake", 1, 1);
  query(fixture, "hal.device.id", "local-?ake", 1, 1);
  query(fixture, "hal.device.id", "*", 1, 1);
  query(fixture, "hal.device.id", "vulkan", 1, 0);
  query(fixture, "hal.device.id", "local", 1, 0);
  query(fixture, "hal.device.id", "local-fake?", 1, 0);
  // Executable formats.
  query(fixture, "hal.executable.format", FAKE_DEVICE_FORMAT, 1, 1);
  query(fixture, "hal.executable.format", "embedded-elf-x86_64", 1, 0);
  // Device-specific keys; unknown pairs are (0, 0), never an error.
  query(fixture, "hal.device", "concurrency", 1, 3);
  query(fixture, "hal.device", "bogus", 0, 0);
  query(fixture, "hal.cpu", "avx512f", 0, 0);
}

//===----------------------------------------------------------------------===//
// Files, executables, channels
//===----------------------------------------------------------------------===//

static irt_status_t file_from_memory(hal_fixture_t* fixture, int32_t access,
                                     irvm_ref_t buffer, int64_t offset,
                                     int64_t length, irvm_ref_t* out_file) {
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  hal_args_i32(&args, access);
  hal_args_ref(&args, buffer);
  hal_args_i64(&args, offset);
  hal_args_i64(&args, length);
  hal_args_i32(&args, 0);
  hal_results_t results;
  IRT_RETURN_IF_ERROR(
      hal_call(fixture, "ex.file.from_memory", &args, &results));
  *out_file = hal_results_ref(&results);
  return IRT_OK;
}

static void test_file_from_memory(void** state) {
  hal_fixture_t* fixture = *state;
  irvm_ref_t rodata = hal_vm_bytes(fixture, "0123456789", 10, false);
  irvm_ref_t file = irvm_ref_null();
  HAL_ERROR(file_from_memory(fixture, IRHAL_MEMORY_ACCESS_WRITE, rodata, 0, 10,
                             &file),
            IRT_STATUS_PERMISSION_DENIED, "read-only");
  HAL_ERROR(
      file_from_memory(fixture, IRHAL_MEMORY_ACCESS_READ, rodata, 4, 7, &file),
      IRT_STATUS_OUT_OF_RANGE, "does not fit");
  HAL_ERROR(
      file_from_memory(fixture, IRHAL_MEMORY_ACCESS_READ, rodata, -1, 2, &file),
      IRT_STATUS_OUT_OF_RANGE, NULL);
  HAL_ERROR(file_from_memory(fixture, IRHAL_MEMORY_ACCESS_READ, rodata, 11, -1,
                             &file),
            IRT_STATUS_OUT_OF_RANGE, NULL);
  HAL_OK(file_from_memory(fixture, IRHAL_MEMORY_ACCESS_READ, rodata, 2, -1,
                          &file));
  // The file keeps the vm.buffer alive after the caller lets go of it.
  irvm_ref_release(&rodata);
  irhal_file_t* hal_file = irhal_file_deref(&file);
  assert_non_null(hal_file);
  assert_int_equal(irhal_file_length(hal_file), 8);
  char bytes[8];
  HAL_OK(irhal_file_read(hal_file, 0, bytes, 8));
  assert_memory_equal(bytes, "23456789", 8);
  irvm_ref_release(&file);
}

static irt_status_t create_executable(hal_fixture_t* fixture, irvm_ref_t device,
                                      const char* format, irvm_ref_t data,
                                      irvm_ref_t constants,
                                      irvm_ref_t* out_executable) {
  irvm_ref_t format_ref = hal_vm_text(fixture, format);
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, device);
  hal_args_i64(&args, -1);
  hal_args_ref(&args, format_ref);
  hal_args_ref(&args, data);
  hal_args_ref(&args, constants);
  hal_results_t results;
  irt_status_t status = hal_call(fixture, "executable.create", &args, &results);
  irvm_ref_release(&format_ref);
  IRT_RETURN_IF_ERROR(status);
  *out_executable = hal_results_ref(&results);
  return IRT_OK;
}

static void test_executable_create(void** state) {
  hal_fixture_t* fixture = *state;
  fake_device_t* device = fixture->device;
  irvm_ref_t device_ref = hal_device_ref(fixture);
  irvm_ref_t rodata = hal_vm_bytes(fixture, "code", 4, false);
  irvm_ref_t heap_data = hal_vm_bytes(fixture, "code", 4, true);
  const uint32_t words[2] = {7, 0xDEADBEEF};
  irvm_ref_t constants = hal_vm_bytes(fixture, words, 8, false);
  irvm_ref_t odd_constants = hal_vm_bytes(fixture, words, 6, false);
  irvm_ref_t executable = irvm_ref_null();

  // Module rodata may be aliased: the loader gets the owner and retains it.
  HAL_OK(create_executable(fixture, device_ref, FAKE_DEVICE_FORMAT, rodata,
                           constants, &executable));
  assert_ptr_equal(executable.type, irhal_executable_type());
  assert_true(device->last_executable_aliased);
  assert_int_equal(device->last_executable_constant_count, 2);
  assert_int_equal(device->last_executable_constants[0], 7);
  assert_int_equal(device->last_executable_constants[1], 0xDEADBEEF);
  irvm_ref_release(&rodata);  // the executable keeps it alive
  irvm_ref_release(&executable);

  // Mutable bytes may change: never aliased. No constants is fine.
  HAL_OK(create_executable(fixture, device_ref, FAKE_DEVICE_FORMAT, heap_data,
                           irvm_ref_null(), &executable));
  assert_false(device->last_executable_aliased);
  assert_int_equal(device->last_executable_constant_count, 0);
  irvm_ref_release(&executable);

  HAL_ERROR(create_executable(fixture, device_ref, FAKE_DEVICE_FORMAT,
                              heap_data, odd_constants, &executable),
            IRT_STATUS_INVALID_ARGUMENT, "multiple of 4");
  HAL_ERROR(create_executable(fixture, device_ref, "vulkan-spirv-fb", heap_data,
                              irvm_ref_null(), &executable),
            IRT_STATUS_NOT_FOUND, "vulkan-spirv-fb");
  HAL_ERROR(create_executable(fixture, device_ref, FAKE_DEVICE_FORMAT,
                              irvm_ref_null(), irvm_ref_null(), &executable),
            IRT_STATUS_INVALID_ARGUMENT, "executable_data");

  // A device outside the module's group.
  fake_device_t* stranger = NULL;
  HAL_OK(fake_device_create(fixture->allocator, &stranger));
  HAL_ERROR(create_executable(
                fixture, hal_ref(&stranger->base, irhal_device_type()),
                FAKE_DEVICE_FORMAT, heap_data, irvm_ref_null(), &executable),
            IRT_STATUS_NOT_FOUND, "device group");
  irhal_device_release(&stranger->base);
  irvm_ref_release(&heap_data);
  irvm_ref_release(&constants);
  irvm_ref_release(&odd_constants);
}

static void test_channels_unimplemented(void** state) {
  hal_fixture_t* fixture = *state;
  hal_args_t args;
  hal_args_begin(&args);
  hal_args_ref(&args, hal_device_ref(fixture));
  hal_args_i64(&args, -1);
  hal_args_i64(&args, 0);
  hal_args_ref(&args, irvm_ref_null());
  hal_args_ref(&args, irvm_ref_null());
  hal_args_i32(&args, -1);
  hal_args_i32(&args, -1);
  HAL_ERROR(hal_call(fixture, "channel.create", &args, NULL),
            IRT_STATUS_UNIMPLEMENTED, "collective");
}

//===----------------------------------------------------------------------===//
// Creation
//===----------------------------------------------------------------------===//

// Every allocation the module makes at creation may fail without leaks.
static void test_create_allocation_failures(void** state) {
  (void)state;
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    irt_allocator_t allocator = irt_counting_allocator(&counter);
    irvm_instance_t* instance = NULL;
    HAL_OK(irvm_instance_create(allocator, &instance));
    fake_device_t* device = NULL;
    HAL_OK(fake_device_create(allocator, &device));
    irhal_device_t* devices[] = {&device->base};
    counter.fail_after = counter.total_allocations + fail_after;
    irvm_module_t* module = NULL;
    irt_status_t status =
        irmod_hal_module_create(instance, devices, 1, allocator, &module);
    counter.fail_after = SIZE_MAX;
    bool done = irt_status_is_ok(status);
    irt_status_free(status);
    if (module) irvm_module_release(module);
    irhal_device_release(&device->base);
    irvm_instance_destroy(instance);
    assert_int_equal(counter.live_allocations, 0);
    if (done) break;
    assert_true(fail_after < 100);
  }
}

static void test_create_rejects_null_devices(void** state) {
  hal_fixture_t* fixture = *state;
  irhal_device_t* devices[] = {&fixture->device->base, NULL};
  irvm_module_t* module = NULL;
  HAL_ERROR(irmod_hal_module_create(fixture->instance, devices, 2,
                                    fixture->allocator, &module),
            IRT_STATUS_INVALID_ARGUMENT, "device 1 of 2");
  assert_null(module);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_identity_and_sorted_exports, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_types_registered, setup, teardown),
      cmocka_unit_test_setup_teardown(test_conformance_imports_match, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_builder_imports_match, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_null_refs_are_rejected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_wrong_ref_types_are_rejected, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_error_names_argument_and_types,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(test_devices_count_and_get, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_query_i64, setup, teardown),
      cmocka_unit_test_setup_teardown(test_file_from_memory, setup, teardown),
      cmocka_unit_test_setup_teardown(test_executable_create, setup, teardown),
      cmocka_unit_test_setup_teardown(test_channels_unimplemented, setup,
                                      teardown),
      cmocka_unit_test(test_create_allocation_failures),
      cmocka_unit_test_setup_teardown(test_create_rejects_null_devices, setup,
                                      teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
