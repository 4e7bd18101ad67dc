// Module metadata, rodata and the container (ZIP polyglot and flat forms),
// read back with the format reader; escape hatches; allocation failures.
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runtime/base/math.h"
#include "runtime/vm/builder/hal_imports.h"
#include "runtime/vm/builder/zip_writer.h"
#include "runtime/vm/format/flatbuffer.h"
#include "tests/support/test_files.h"
#include "tests/vm_builder/builder_test.h"

static irvm_module_builder_t* new_builder(const char* name, uint32_t version) {
  irvm_module_builder_t* builder = NULL;
  ASSERT_OK(irvm_module_builder_create(irt_allocator_system(), name, version,
                                       &builder));
  return builder;
}

// A function `0v_v` that just returns.
static irvm_function_builder_t* add_void_function(
    irvm_module_builder_t* builder, const char* export_name) {
  irvm_function_builder_t* fn = NULL;
  if (export_name) {
    ASSERT_OK(irvm_module_builder_begin_exported_function(builder, export_name,
                                                          "0v_v", &fn));
  } else {
    ASSERT_OK(irvm_module_builder_begin_function(builder, "0v_v", &fn));
  }
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  return fn;
}

static void test_crc32(void** state) {
  (void)state;
  const char* text = "123456789";
  assert_int_equal(irvm_crc32(0, (const uint8_t*)text, 9), 0xCBF43926u);
  uint32_t crc = irvm_crc32(0, (const uint8_t*)text, 4);
  assert_int_equal(irvm_crc32(crc, (const uint8_t*)text + 4, 5), 0xCBF43926u);
  assert_int_equal(irvm_crc32(0, NULL, 0), 0);
}

static void test_metadata_round_trips(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder("mymod", 7);
  ASSERT_OK(irvm_module_builder_add_attr(builder, "k1", "v1"));
  ASSERT_OK(irvm_module_builder_add_attr(builder, "k2", ""));
  ASSERT_OK(irvm_module_builder_add_dependency(builder, "io_parameters", 0,
                                               IRVM_FLAG_OPTIONAL));
  ASSERT_OK(irvm_module_builder_add_dependency(builder, "hal", 6,
                                               IRVM_FLAG_REQUIRED));
  uint32_t ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_import(
      builder, "hal.fence.await", "0iICrD_i", IRVM_FLAG_REQUIRED, &ordinal));
  assert_int_equal(ordinal, 0);
  ASSERT_OK(irvm_module_builder_add_import(builder, "io_parameters.load",
                                           "0rIrrrIiirrr_r", IRVM_FLAG_OPTIONAL,
                                           &ordinal));
  ASSERT_OK(irvm_module_builder_add_import(builder, "hal.devices.count", NULL,
                                           IRVM_FLAG_REQUIRED, &ordinal));
  assert_int_equal(ordinal, 2);
  ASSERT_OK(irvm_module_builder_set_module_state(builder, 16, 3));
  irvm_function_builder_t* main_fn = add_void_function(builder, "main");
  ASSERT_OK(irvm_fn_add_attr(main_fn, "iree.abi.declaration",
                             "sync func @main() -> ()"));
  ASSERT_OK(irvm_fn_add_attr(main_fn, "iree.abi.model", "coarse-fences"));
  uint32_t export_ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_export(builder, "main$async", 0,
                                           &export_ordinal));
  assert_int_equal(export_ordinal, 1);
  add_void_function(builder, NULL);
  add_void_function(builder, "__init");

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  const irvm_module_def_t* def = &m.def;
  ASSERT_SV(def->name, "mymod");
  assert_int_equal(def->version, 7);
  assert_int_equal(def->bytecode_version, 0x00110000);
  assert_int_equal(def->attr_count, 2);
  ASSERT_SV(def->attrs[0].key, "k1");
  ASSERT_SV(def->attrs[0].value, "v1");
  ASSERT_SV(def->attrs[1].value, "");
  assert_int_equal(def->dependency_count, 2);
  ASSERT_SV(def->dependencies[0].name, "io_parameters");
  assert_int_equal(def->dependencies[0].flags, IRVM_FLAG_OPTIONAL);
  ASSERT_SV(def->dependencies[1].name, "hal");
  assert_int_equal(def->dependencies[1].minimum_version, 6);
  assert_int_equal(def->dependencies[1].flags, IRVM_FLAG_REQUIRED);
  assert_int_equal(def->import_count, 3);
  ASSERT_SV(def->imports[0].full_name, "hal.fence.await");
  ASSERT_SV(def->imports[0].signature.calling_convention, "0iICrD_i");
  assert_int_equal(def->imports[0].flags, IRVM_FLAG_REQUIRED);
  assert_int_equal(def->imports[1].flags, IRVM_FLAG_OPTIONAL);
  ASSERT_SV(def->imports[2].signature.calling_convention, "");
  assert_int_equal(def->export_count, 3);
  ASSERT_SV(def->exports[0].local_name, "main");
  assert_int_equal(def->exports[0].internal_ordinal, 0);
  ASSERT_SV(def->exports[1].local_name, "main$async");
  assert_int_equal(def->exports[1].internal_ordinal, 0);
  ASSERT_SV(def->exports[2].local_name, "__init");
  assert_int_equal(def->exports[2].internal_ordinal, 2);
  assert_int_equal(def->function_count, 3);
  ASSERT_SV(def->function_signatures[1].calling_convention, "0v_v");
  irt_string_view_t value;
  assert_true(irvm_attrs_lookup(def->function_signatures[0].attr_count,
                                def->function_signatures[0].attrs,
                                "iree.abi.model", &value));
  ASSERT_SV(value, "coarse-fences");
  assert_int_equal(def->function_signatures[2].attr_count, 0);
  assert_int_equal(def->global_bytes_capacity, 16);
  assert_int_equal(def->global_ref_count, 3);
  assert_false(def->has_debug_database);
  assert_int_equal(def->rodata_count, 0);

  // Like the compiler, fields equal to their default are not written: the
  // REQUIRED flags (default 1), export ordinal 0, the module version... 0.
  irvm_fb_reader_t reader;
  irvm_fb_table_t root, table;
  ASSERT_OK(irvm_fb_reader_init(&reader, m.data + def->flatbuffer_offset,
                                def->flatbuffer_size, true));
  ASSERT_OK(irvm_fb_reader_root(&reader, "IREE", &root));
  assert_true(irvm_fb_table_has(&root, 1));    // version 7
  assert_false(irvm_fb_table_has(&root, 2));   // requirements 0
  assert_false(irvm_fb_table_has(&root, 9));   // no rodata: no vector
  assert_false(irvm_fb_table_has(&root, 10));  // rwdata never written
  irvm_fb_vector_t vector;
  ASSERT_OK(irvm_fb_table_vector(&root, 5, 4, 4, &vector));
  ASSERT_OK(irvm_fb_vector_table(&vector, 0, &table));
  assert_true(irvm_fb_table_has(&table, 2));   // OPTIONAL
  assert_false(irvm_fb_table_has(&table, 1));  // minimum_version 0
  ASSERT_OK(irvm_fb_vector_table(&vector, 1, &table));
  assert_false(irvm_fb_table_has(&table, 2));  // REQUIRED
  ASSERT_OK(irvm_fb_table_vector(&root, 7, 4, 4, &vector));
  ASSERT_OK(irvm_fb_vector_table(&vector, 0, &table));
  assert_false(irvm_fb_table_has(&table, 1));  // internal ordinal 0
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Declared hal imports get consecutive ordinals after earlier imports, in
// the order asked, with their table cconvs and the "hal" dependency.
static void test_hal_imports_declare(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder("m", 0);
  uint32_t ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_import(builder, "other.f", "0v_v",
                                           IRVM_FLAG_REQUIRED, &ordinal));
  static const irvm_hal_import_t kUsed[] = {IRVM_HAL_FENCE_CREATE,
                                            IRVM_HAL_DEVICES_GET};
  irvm_hal_imports_t hal;
  ASSERT_OK(irvm_hal_imports_declare(builder, kUsed, 2, &hal));
  assert_int_equal(hal.ordinals[IRVM_HAL_FENCE_CREATE], 1);
  assert_int_equal(hal.ordinals[IRVM_HAL_DEVICES_GET], 2);
  assert_int_equal(hal.ordinals[IRVM_HAL_FENCE_AWAIT], UINT32_MAX);
  assert_int_equal(irvm_hal_import(&hal, IRVM_HAL_DEVICES_GET).u32,
                   2 | IRVM_FUNCTION_IMPORT_BIT);
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.dependency_count, 1);
  assert_true(irt_string_view_equal_cstring(m.def.dependencies[0].name, "hal"));
  assert_int_equal(m.def.dependencies[0].minimum_version, 6);
  assert_int_equal(m.def.import_count, 3);
  assert_true(irt_string_view_equal_cstring(m.def.imports[2].full_name,
                                            "hal.devices.get"));
  assert_true(irt_string_view_equal_cstring(
      m.def.imports[1].signature.calling_convention, "0rI_r"));
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);

  builder = new_builder("m", 0);
  static const irvm_hal_import_t kTwice[] = {IRVM_HAL_DEVICES_GET,
                                             IRVM_HAL_DEVICES_GET};
  ASSERT_STATUS(irvm_hal_imports_declare(builder, kTwice, 2, &hal),
                IRT_STATUS_INVALID_ARGUMENT, "hal.devices.get declared twice");
  irvm_module_builder_destroy(builder);
  builder = new_builder("m", 0);
  const irvm_hal_import_t unknown[] = {IRVM_HAL_IMPORT_COUNT};
  ASSERT_STATUS(irvm_hal_imports_declare(builder, unknown, 1, &hal),
                IRT_STATUS_INVALID_ARGUMENT, "unknown import");
  irvm_module_builder_destroy(builder);
}

static void test_argument_errors(void** state) {
  (void)state;
  irvm_module_builder_t* builder = NULL;
  ASSERT_STATUS(
      irvm_module_builder_create(irt_allocator_system(), "", 0, &builder),
      IRT_STATUS_INVALID_ARGUMENT, "module name must be non-empty");
  builder = new_builder("m", 0);
  uint32_t ordinal = 0;
  ASSERT_STATUS(irvm_module_builder_add_import(builder, "nodot", "0v_v",
                                               IRVM_FLAG_REQUIRED, &ordinal),
                IRT_STATUS_INVALID_ARGUMENT, "module.function");
  ASSERT_STATUS(irvm_module_builder_add_import(builder, "hal.", "0v_v",
                                               IRVM_FLAG_REQUIRED, &ordinal),
                IRT_STATUS_INVALID_ARGUMENT, "module.function");
  ASSERT_STATUS(
      irvm_module_builder_add_import(builder, "hal.x", "0v_v", 0, &ordinal),
      IRT_STATUS_INVALID_ARGUMENT, "flags 0x0");
  ASSERT_STATUS(irvm_module_builder_add_import(builder, "hal.x", "0rC_v",
                                               IRVM_FLAG_REQUIRED, &ordinal),
                IRT_STATUS_INVALID_ARGUMENT, "import 'hal.x'");
  ASSERT_STATUS(
      irvm_module_builder_add_dependency(builder, "", 0, IRVM_FLAG_REQUIRED),
      IRT_STATUS_INVALID_ARGUMENT, "dependency name");
  ASSERT_STATUS(irvm_module_builder_add_dependency(builder, "hal", 0, 3),
                IRT_STATUS_INVALID_ARGUMENT, "flags 0x3");
  irvm_rodata_options_t options = {.alignment = 24};
  ASSERT_STATUS(
      irvm_module_builder_add_rodata(builder, "x", 1, &options, &ordinal),
      IRT_STATUS_INVALID_ARGUMENT, "alignment 24");
  options.alignment = 8192;
  ASSERT_STATUS(
      irvm_module_builder_add_rodata(builder, "x", 1, &options, &ordinal),
      IRT_STATUS_INVALID_ARGUMENT, "alignment 8192");
  ASSERT_STATUS(
      irvm_module_builder_add_rodata(builder, NULL, 1, NULL, &ordinal),
      IRT_STATUS_INVALID_ARGUMENT, "NULL data");
  ASSERT_STATUS(irvm_module_builder_add_export(builder, "", 0, NULL),
                IRT_STATUS_INVALID_ARGUMENT, "export name");
  ASSERT_STATUS(irvm_module_builder_set_module_state(builder, 0x80000000u, 0),
                IRT_STATUS_INVALID_ARGUMENT, "ModuleStateDef");
  irvm_type_t type;
  ASSERT_STATUS(irvm_module_builder_add_type(builder, "", &type),
                IRT_STATUS_INVALID_ARGUMENT, "type name");
  ASSERT_STATUS(irvm_module_builder_add_attr(builder, "", "x"),
                IRT_STATUS_INVALID_ARGUMENT, "attribute key");
  irvm_function_builder_t* fn = NULL;
  ASSERT_STATUS(
      irvm_module_builder_begin_exported_function(builder, "f", "0Z_v", &fn),
      IRT_STATUS_INVALID_ARGUMENT, "unexpected 'Z'");
  // Nothing was added by the failed calls.
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.import_count, 0);
  assert_int_equal(m.def.rodata_count, 0);
  assert_int_equal(m.def.function_count, 0);
  assert_int_equal(m.def.export_count, 0);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// The ZIP header of module.fb, byte for byte as iree-compile writes it
// (spec 1.2, 1.6): D = 64, a 1-byte padding record, the zip64 sizes, then
// the padded size prefix with D + 4 + L 64-aligned.
static void check_module_zip_header(const bt_module_t* m) {
  const uint8_t* d = m->data;
  uint32_t l = irvm_load_u32(d + 64);
  assert_true(m->def.has_zip_header);
  assert_int_equal(m->def.flatbuffer_offset, 68);
  assert_int_equal(m->def.flatbuffer_size, l);
  assert_int_equal((68 + l) % 64, 0);
  assert_int_equal(m->def.rodata_base, 68 + l);
  ASSERT_BYTES(d, 14, 0x50, 0x4B, 0x03, 0x04, 0x2D, 0x00, 0x00, 0x00, 0x00,
               0x00, 0x00, 0x00, 0x21, 0x00);
  assert_int_equal(irvm_load_u32(d + 14), irvm_crc32(0, d + 64, l));
  ASSERT_BYTES(d + 18, 13, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x09,
               0x00, 0x19, 0x00, 'm');
  assert_memory_equal(d + 30, "module.fb", 9);
  ASSERT_BYTES(d + 39, 9, 0xCA, 0xFE, 0x01, 0x00, 0x00, 0x01, 0x00, 0x10, 0x00);
  assert_int_equal(irvm_load_u64(d + 48), l);
  assert_int_equal(irvm_load_u64(d + 56), l);
  // The FlatBuffer padding is zeros: the region ends with 4..67 of them.
  assert_int_equal(irvm_load_u32(d + 64 + l), 0);
}

// The ZIP directory at the end: one central entry per file, zip64 end
// record, locator and end record (spec 1.4).
static void check_zip_directory(const bt_module_t* m, uint64_t directory,
                                uint32_t entry_count) {
  const uint8_t* end = m->data + m->size - 22;
  ASSERT_BYTES(end, 4, 0x50, 0x4B, 0x05, 0x06);
  assert_int_equal(irvm_load_u16(end + 8), entry_count);
  assert_int_equal(irvm_load_u16(end + 10), entry_count);
  assert_int_equal(irvm_load_u32(end + 16), 0xFFFFFFFFu);
  const uint8_t* locator = end - 20;
  assert_int_equal(irvm_load_u32(locator), 0x07064B50u);
  uint64_t zip64_end = irvm_load_u64(locator + 8);
  assert_int_equal(zip64_end, m->size - 22 - 20 - 56);
  const uint8_t* z = m->data + zip64_end;
  assert_int_equal(irvm_load_u32(z), 0x06064B50u);
  assert_int_equal(irvm_load_u64(z + 24), entry_count);
  assert_int_equal(irvm_load_u64(z + 40), zip64_end - directory);
  assert_int_equal(irvm_load_u64(z + 48), directory);
  assert_int_equal(irvm_load_u32(m->data + directory), 0x02014B50u);
}

static void test_zip_container_without_rodata(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder("module", 0);
  add_void_function(builder, "f");
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  check_module_zip_header(&m);
  // No external data: the directory starts at the rodata base.
  check_zip_directory(&m, m.def.rodata_base, 1);
  assert_int_equal(m.size, m.def.rodata_base + 83 + 56 + 20 + 22);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// Runs |command| with the file's path substituted; returns its exit status
// and output, or -1 when the tool is missing.
static int run_tool(const char* tool, const char* arguments,
                    const bt_module_t* m, char* output, size_t capacity) {
  char check[128];
  snprintf(check, sizeof(check), "command -v %s >/dev/null 2>&1", tool);
  if (system(check) != 0) return -1;
  char path[] = "/tmp/irvm_builder_test_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, m->data, m->size), (ssize_t)m->size);
  close(fd);
  char command[512];
  snprintf(command, sizeof(command), "%s %s %s 2>&1", tool, arguments, path);
  FILE* pipe = popen(command, "r");
  assert_non_null(pipe);
  size_t length = fread(output, 1, capacity - 1, pipe);
  output[length] = '\0';
  int status = pclose(pipe);
  unlink(path);
  return status;
}

typedef struct rodata_case_s {
  size_t length;
  irvm_rodata_options_t options;
  bool external;
  const char* entry_name;  // of external data
} rodata_case_t;

static void test_rodata_in_both_forms(void** state) {
  (void)state;
  static uint8_t big[5000 + 16];  // case i reads from big + i
  for (size_t i = 0; i < sizeof(big); ++i) big[i] = (uint8_t)(i * 7 + 1);
  const rodata_case_t cases[] = {
      {13, {0}, false, NULL},
      {4096, {0}, true, "rodata_1.bin"},  // large: external
      {3592,
       {.name = "dispatch_0_embedded_elf_x86_64",
        .mime_type = "application/x-elf"},
       true,
       "dispatch_0_embedded_elf_x86_64.so"},  // MIME type: external
      {0, {0}, false, NULL},
      {10,
       {.placement = IRVM_RODATA_EXTERNAL, .alignment = 64, .name = "x"},
       true,
       "x.bin"},
      {5000, {.placement = IRVM_RODATA_EMBEDDED}, false, NULL},
      {7,
       {.placement = IRVM_RODATA_EXTERNAL, .mime_type = "application/json"},
       true,
       "rodata_6.json"},
  };
  const size_t count = sizeof(cases) / sizeof(cases[0]);
  irvm_module_builder_t* builder = new_builder("module", 0);
  for (size_t i = 0; i < count; ++i) {
    uint32_t ordinal = 0;
    ASSERT_OK(irvm_module_builder_add_rodata(builder, big + i, cases[i].length,
                                             &cases[i].options, &ordinal));
    assert_int_equal(ordinal, i);
  }
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(
      irvm_module_builder_begin_exported_function(builder, "f", "0v_r", &fn));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(6),
                      irvm_opnd_ref(0)));
  ASSERT_OK(irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_ref_move(0)}, 1));

  for (int flat = 0; flat <= 1; ++flat) {
    bt_module_t m;
    irvm_finish_options_t options = {.flat = flat};
    bt_finish(builder, &options, &m);
    const irvm_module_def_t* def = &m.def;
    assert_int_equal(def->rodata_count, count);
    assert_int_equal(def->rodata_base % 64, 0);
    uint64_t data_end = 0;
    for (size_t i = 0; i < count; ++i) {
      const irvm_rodata_def_t* r = &def->rodata[i];
      assert_int_equal(r->is_external, cases[i].external);
      assert_int_equal(r->length, cases[i].length);
      if (r->length) assert_memory_equal(r->data, big + i, r->length);
      if (!r->is_external) continue;
      uint32_t alignment =
          cases[i].options.alignment ? cases[i].options.alignment : 16;
      assert_int_equal(r->external_offset % alignment, 0);
      assert_int_equal(r->file_offset, def->rodata_base + r->external_offset);
      assert_true(r->external_offset >= data_end);
      if (flat) {
        // Back to back, just aligned; the first at the rodata base.
        uint64_t expected = 0;
        assert_true(irt_align_up_u64(data_end, alignment, &expected));
        assert_int_equal(r->external_offset, expected);
      } else {
        // Each preceded by its own local header, written right after the
        // previous data (the first one at the rodata base).
        size_t name_length = strlen(cases[i].entry_name);
        const uint8_t* header = m.data + def->rodata_base + data_end;
        assert_int_equal(irvm_load_u32(header), 0x04034B50u);
        assert_int_equal(irvm_load_u16(header + 26), name_length);
        assert_memory_equal(header + 30, cases[i].entry_name, name_length);
        uint16_t extra = irvm_load_u16(header + 28);
        assert_int_equal(header + 30 + name_length + extra - m.data,
                         r->file_offset);
        assert_int_equal(irvm_load_u32(header + 14),
                         irvm_crc32(0, r->data, r->length));
        assert_int_equal(irvm_load_u64(header + 30 + name_length + extra - 8),
                         r->length);
      }
      data_end = r->external_offset + r->length;
    }
    if (flat) {
      assert_false(def->has_zip_header);
      assert_int_equal(def->flatbuffer_offset, 4);
      assert_int_equal(def->rodata_base,
                       irt_align_size(4 + def->flatbuffer_size, 64));
      assert_int_equal(m.size, def->rodata_base + data_end);
    } else {
      check_module_zip_header(&m);
      check_zip_directory(&m, def->rodata_base + data_end, 5);
      char output[4096];
      int status = run_tool("unzip", "-l", &m, output, sizeof(output));
      if (status < 0) {
        print_message("unzip not found: skipping the ZIP listing check\n");
      } else {
        assert_int_equal(status, 0);
        assert_non_null(strstr(output, "module.fb"));
        for (size_t i = 0; i < count; ++i) {
          if (cases[i].entry_name) {
            assert_non_null(strstr(output, cases[i].entry_name));
          }
        }
        assert_non_null(strstr(output, "5 files"));
        assert_int_equal(run_tool("unzip", "-tq", &m, output, sizeof(output)),
                         0);
      }
    }
    bt_module_free(&m);
  }
  irvm_module_builder_destroy(builder);
}

// The executable of simple_mul_elodin.vmfb stored the way the compiler does
// gets the same local header and offset (spec 10.2: offset 112).
static void test_external_rodata_matches_the_compiler(void** state) {
  (void)state;
  char path[512];
  if (!ireed_test_shared_path("conformance/v3.11/simple_mul_elodin.vmfb", path,
                              sizeof(path))) {
    skip();
  }
  uint8_t* original = NULL;
  size_t original_size = 0;
  assert_true(ireed_test_read_file(path, &original, &original_size));
  irvm_module_def_t def;
  ASSERT_OK(irvm_module_def_parse(original, original_size,
                                  irt_allocator_system(), &def));
  const irvm_rodata_def_t* elf = &def.rodata[4];
  assert_true(elf->is_external);
  assert_int_equal(elf->external_offset, 112);

  irvm_module_builder_t* builder = new_builder("module", 0);
  irvm_rodata_options_t options = {
      .name = "simple_mul_dispatch_0_embedded_elf_x86_64",
      .mime_type = "application/x-elf",
  };
  uint32_t ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_rodata(builder, elf->data, elf->length,
                                           &options, &ordinal));
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.rodata[0].external_offset, 112);
  assert_memory_equal(m.data + m.def.rodata_base, original + def.rodata_base,
                      112 + elf->length);
  // The central directory entry of the executable, too (the offset of its
  // local header differs with the FlatBuffer size).
  const uint8_t* ours = m.data + m.def.rodata_base + 112 + elf->length + 83;
  const uint8_t* theirs = original + def.rodata_base + 112 + elf->length + 83;
  assert_memory_equal(ours, theirs, 46 + 44 + 20);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
  irvm_module_def_deinit(&def);
  free(original);
}

static void test_debug_database(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder("module", 0);
  int32_t loc[6];
  ASSERT_OK(irvm_module_builder_add_location_file_line_col(builder, "a.mlir", 5,
                                                           1, &loc[0]));
  ASSERT_OK(irvm_module_builder_add_location_name(builder, "n", 0, &loc[1]));
  ASSERT_OK(
      irvm_module_builder_add_location_name(builder, "lone", -1, &loc[2]));
  ASSERT_OK(irvm_module_builder_add_location_call_site(builder, 0, 1, &loc[3]));
  ASSERT_OK(irvm_module_builder_add_location_fused(
      builder, "meta", (const int32_t[]){0, 1}, 2, &loc[4]));
  ASSERT_OK(
      irvm_module_builder_add_location_fused(builder, NULL, NULL, 0, &loc[5]));
  for (int i = 0; i < 6; ++i) assert_int_equal(loc[i], i);
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(
      irvm_module_builder_begin_exported_function(builder, "f", "0v_i", &fn));
  irvm_fn_set_location(fn, 0);
  ASSERT_OK(irvm_fn_const_i32(fn, irvm_reg_i32(0), 1));  // pc 1
  irvm_fn_set_location(fn, 4);
  ASSERT_OK(irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_i32(0)}, 1));
  irvm_function_builder_t* helper = add_void_function(builder, NULL);
  ASSERT_OK(irvm_fn_set_debug_name(helper, "helper"));

  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_true(m.def.has_debug_database);
  const irvm_debug_database_def_t* db = &m.def.debug_database;
  assert_int_equal(db->location_count, 6);
  const irvm_location_def_t* l = db->locations;
  assert_int_equal(l[0].kind, IRVM_LOCATION_FILE_LINE_COL);
  ASSERT_SV(l[0].file_line_col.filename, "a.mlir");
  assert_int_equal(l[0].file_line_col.line, 5);
  assert_int_equal(l[0].file_line_col.column, 1);
  assert_int_equal(l[1].kind, IRVM_LOCATION_NAME);
  ASSERT_SV(l[1].name.name, "n");
  assert_true(l[1].name.has_child);
  assert_int_equal(l[1].name.child_location, 0);
  assert_false(l[2].name.has_child);
  assert_int_equal(l[3].kind, IRVM_LOCATION_CALL_SITE);
  assert_int_equal(l[3].call_site.callee, 0);
  assert_int_equal(l[3].call_site.caller, 1);
  assert_int_equal(l[4].kind, IRVM_LOCATION_FUSED);
  ASSERT_SV(l[4].fused.metadata, "meta");
  assert_int_equal(l[4].fused.count, 2);
  assert_int_equal(l[4].fused.locations[1], 1);
  assert_int_equal(l[5].fused.count, 0);
  assert_int_equal(db->function_count, 2);
  ASSERT_SV(db->functions[0].local_name, "f");
  assert_int_equal(db->functions[0].entry_count, 2);
  assert_int_equal(db->functions[0].entries[0].bytecode_offset, 1);
  assert_int_equal(db->functions[0].entries[0].location, 0);
  assert_int_equal(db->functions[0].entries[1].bytecode_offset, 8);
  assert_int_equal(db->functions[0].entries[1].location, 4);
  ASSERT_SV(db->functions[1].local_name, "helper");
  assert_int_equal(db->functions[1].entry_count, 0);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

static void test_reference_checks(void** state) {
  (void)state;
  irvm_module_builder_t* builder = new_builder("module", 0);
  uint32_t ordinal = 0;
  ASSERT_OK(irvm_module_builder_add_import(builder, "a.b", "0v_v",
                                           IRVM_FLAG_REQUIRED, &ordinal));
  ASSERT_OK(irvm_module_builder_set_module_state(builder, 16, 1));
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(irvm_module_builder_begin_function(builder, "0v_v", &fn));
  ASSERT_OK(irvm_fn_call(fn, irvm_opnd_import(5), NULL, 0, NULL, 0));
  ASSERT_OK(irvm_fn_return(fn, NULL, 0));
  const irvm_finish_options_t skip = {.skip_reference_checks = true};
  uint8_t* data = NULL;
  size_t size = 0;
  irt_allocator_t allocator = irt_allocator_system();
  ASSERT_STATUS(
      irvm_module_builder_finish(builder, NULL, allocator, &data, &size),
      IRT_STATUS_OUT_OF_RANGE,
      "function 0 pc 0x0001: import ordinal 5 out of range "
      "(limit 1)");
  bt_module_t m;
  bt_finish(builder, &skip, &m);  // the reader does not look at bytecode
  bt_module_free(&m);

  const struct {
    irvm_insn_t insn;
    irvm_opnd_t ordinal;
    irvm_reg_t result;
    const char* message;
  } cases[] = {
      {IRVM_INSN_CALL, irvm_opnd_func(9), {0}, "internal function ordinal 9"},
      {IRVM_INSN_CONST_REF_RODATA, irvm_opnd_rodata(0), irvm_reg_ref(0),
       "rodata ordinal 0 out of range (limit 0)"},
      {IRVM_INSN_GLOBAL_LOAD_I64, irvm_opnd_global(12), irvm_reg_i64(0),
       "global byte offset (+ access size - 1) 19 out of range (limit 16)"},
      {IRVM_INSN_GLOBAL_LOAD_F64, irvm_opnd_global(9), irvm_reg_i64(0),
       "16 out of range (limit 16)"},
      {IRVM_INSN_GLOBAL_LOAD_REF, irvm_opnd_global_ref(1), irvm_reg_ref(0),
       "ref global ordinal 1 out of range (limit 1)"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    irvm_module_builder_t* b = new_builder("module", 0);
    irvm_type_t type;
    ASSERT_OK(irvm_module_builder_add_type(b, "!vm.buffer", &type));
    ASSERT_OK(irvm_module_builder_set_module_state(b, 16, 1));
    ASSERT_OK(irvm_module_builder_begin_function(b, "0v_v", &fn));
    if (cases[i].insn == IRVM_INSN_CALL) {
      ASSERT_OK(irvm_fn_call(fn, cases[i].ordinal, NULL, 0, NULL, 0));
    } else if (cases[i].insn == IRVM_INSN_GLOBAL_LOAD_REF) {
      ASSERT_OK(IRVM_EMIT(fn, cases[i].insn, cases[i].ordinal,
                          irvm_opnd_type(type),
                          irvm_opnd_reg(cases[i].result)));
    } else {
      ASSERT_OK(IRVM_EMIT(fn, cases[i].insn, cases[i].ordinal,
                          irvm_opnd_reg(cases[i].result)));
    }
    ASSERT_OK(irvm_fn_return(fn, NULL, 0));
    ASSERT_STATUS(irvm_module_builder_finish(b, NULL, allocator, &data, &size),
                  IRT_STATUS_OUT_OF_RANGE, cases[i].message);
    irvm_module_builder_destroy(b);
  }

  irvm_module_builder_destroy(builder);

  // Exports must name a function; with the checks skipped the reader
  // refuses the file instead.
  builder = new_builder("module", 0);
  add_void_function(builder, NULL);
  ASSERT_OK(irvm_module_builder_add_export(builder, "ghost", 3, NULL));
  ASSERT_STATUS(
      irvm_module_builder_finish(builder, NULL, allocator, &data, &size),
      IRT_STATUS_OUT_OF_RANGE,
      "export 'ghost' names internal function 3 but the module "
      "has 1");
  ASSERT_OK(
      irvm_module_builder_finish(builder, &skip, allocator, &data, &size));
  irvm_module_def_t def;
  ASSERT_STATUS(irvm_module_def_parse(data, size, allocator, &def),
                IRT_STATUS_INVALID_ARGUMENT, "internal_ordinal");
  irt_allocator_free(allocator, data);
  irvm_module_builder_destroy(builder);
}

static void test_overrides_build_malformed_modules(void** state) {
  (void)state;
  irt_allocator_t allocator = irt_allocator_system();
  // A module from IREE 3.10 (bytecode 16.0) is refused by the reader.
  irvm_module_builder_t* builder = new_builder("module", 0);
  add_void_function(builder, "f");
  irvm_module_builder_set_overrides(
      builder, &(irvm_module_overrides_t){
                   .fields = IRVM_MODULE_OVERRIDE_BYTECODE_VERSION |
                             IRVM_MODULE_OVERRIDE_REQUIREMENTS,
                   .bytecode_version = 0x00100000,
                   .requirements = IRVM_FEATURE_EXT_F64,
               });
  uint8_t* data = NULL;
  size_t size = 0;
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &data, &size));
  irvm_module_def_t def;
  ASSERT_STATUS(irvm_module_def_parse(data, size, allocator, &def),
                IRT_STATUS_INVALID_ARGUMENT, "16.0");
  irt_allocator_free(allocator, data);
  irvm_module_builder_set_overrides(
      builder, &(irvm_module_overrides_t){
                   .fields = IRVM_MODULE_OVERRIDE_REQUIREMENTS,
                   .requirements = IRVM_FEATURE_EXT_F64,
               });
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.requirements, IRVM_FEATURE_EXT_F64);
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);

  // Descriptor and signature fields of a checked function.
  builder = new_builder("module", 0);
  irvm_function_builder_t* fn = add_void_function(builder, "f");
  ASSERT_OK(irvm_fn_set_overrides(
      fn, &(irvm_function_overrides_t){
              .fields = IRVM_FN_OVERRIDE_BLOCK_COUNT |
                        IRVM_FN_OVERRIDE_I32_REGISTER_COUNT |
                        IRVM_FN_OVERRIDE_REF_REGISTER_COUNT |
                        IRVM_FN_OVERRIDE_REQUIREMENTS |
                        IRVM_FN_OVERRIDE_CALLING_CONVENTION,
              .block_count = 5,
              .i32_register_count = 0x7FFF,
              .ref_register_count = 3,
              .requirements = IRVM_FEATURE_YIELD,
              .calling_convention = "0iCiD_v",
          }));
  // An unchecked function: raw bytes, no entry block, invalid cconv.
  irvm_function_builder_t* raw = NULL;
  ASSERT_OK(irvm_module_builder_begin_function_ex(
      builder, "bogus", IRVM_FUNCTION_UNCHECKED, &raw));
  ASSERT_OK(irvm_fn_emit_bytes(raw, (const uint8_t[]){0x79, 0x5A, 0x00}, 3));
  ASSERT_OK(irvm_fn_op1(raw, IRVM_INSN_CONST_I32_ZERO, irvm_reg_i32(3)));
  ASSERT_OK(irvm_fn_const_i32(raw, irvm_reg_i32(0), 1));  // after a return
  irvm_function_overrides_t one_block = {
      .fields = IRVM_FN_OVERRIDE_BLOCK_COUNT,
      .block_count = 1,
  };
  ASSERT_OK(irvm_fn_set_overrides(raw, &one_block));
  bt_finish(builder, NULL, &m);
  const irvm_function_descriptor_t* d = m.def.function_descriptors;
  assert_int_equal(d[0].block_count, 5);
  assert_int_equal(d[0].i32_register_count, 0x7FFF);
  assert_int_equal(d[0].ref_register_count, 3);
  assert_int_equal(d[0].requirements, IRVM_FEATURE_YIELD);
  ASSERT_SV(m.def.function_signatures[0].calling_convention, "0iCiD_v");
  ASSERT_SV(m.def.function_signatures[1].calling_convention, "bogus");
  assert_int_equal(m.def.requirements, IRVM_FEATURE_YIELD);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 1, &length);
  ASSERT_BYTES(code, length, 0x79, 0x5A, 0x00, 0x0C, 0x03, 0x00, 0x0D, 0x01,
               0x00, 0x00, 0x00, 0x00, 0x00);
  assert_int_equal(d[1].i32_register_count, 4);  // counted from emit calls
  bt_module_free(&m);
  // Without the override the block count is 0 (no label was bound), which
  // the reader refuses (spec 3.7 check 11).
  ASSERT_OK(irvm_fn_set_overrides(raw, &(irvm_function_overrides_t){0}));
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &data, &size));
  ASSERT_STATUS(irvm_module_def_parse(data, size, allocator, &def),
                IRT_STATUS_INVALID_ARGUMENT, "block");
  irt_allocator_free(allocator, data);
  // Descriptor offsets pointing outside the bytecode, likewise.
  ASSERT_OK(
      irvm_fn_set_overrides(raw, &(irvm_function_overrides_t){
                                     .fields = IRVM_FN_OVERRIDE_BLOCK_COUNT |
                                               IRVM_FN_OVERRIDE_BYTECODE_OFFSET,
                                     .block_count = 1,
                                     .bytecode_offset = 4096,
                                 }));
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &data, &size));
  ASSERT_STATUS(irvm_module_def_parse(data, size, allocator, &def),
                IRT_STATUS_INVALID_ARGUMENT, NULL);
  irt_allocator_free(allocator, data);
  // Overridden counts may exceed the loader's limits (the reader refuses
  // them); computed ones may not.
  ASSERT_OK(irvm_fn_set_overrides(
      raw, &(irvm_function_overrides_t){
               .fields = IRVM_FN_OVERRIDE_REF_REGISTER_COUNT |
                         IRVM_FN_OVERRIDE_BLOCK_COUNT,
               .block_count = 1,
               .ref_register_count = 0x4000,
           }));
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &data, &size));
  ASSERT_STATUS(irvm_module_def_parse(data, size, allocator, &def),
                IRT_STATUS_INVALID_ARGUMENT, "exceed the limits");
  irt_allocator_free(allocator, data);
  ASSERT_OK(irvm_fn_op1(raw, IRVM_INSN_CONST_REF_ZERO, irvm_reg_ref(0x3FFF)));
  ASSERT_STATUS(
      irvm_module_builder_finish(builder, NULL, allocator, &data, &size),
      IRT_STATUS_RESOURCE_EXHAUSTED, "16384 ref registers");
  irvm_module_builder_destroy(builder);
}

static void test_finish_is_repeatable(void** state) {
  (void)state;
  irt_allocator_t allocator = irt_allocator_system();
  irvm_module_builder_t* builder = new_builder("module", 0);
  irvm_type_t type;
  ASSERT_OK(irvm_module_builder_add_type(builder, "!vm.list<?>", &type));
  irvm_function_builder_t* fn = NULL;
  ASSERT_OK(
      irvm_module_builder_begin_exported_function(builder, "f", "0v_r", &fn));
  ASSERT_OK(IRVM_EMIT(fn, IRVM_INSN_LIST_ALLOC, irvm_opnd_type(type),
                      irvm_opnd_i32(0), irvm_opnd_ref(0)));
  ASSERT_OK(irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_ref_move(0)}, 1));
  uint8_t *first = NULL, *second = NULL;
  size_t first_size = 0, second_size = 0;
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &first,
                                       &first_size));
  ASSERT_OK(irvm_module_builder_finish(builder, NULL, allocator, &second,
                                       &second_size));
  bt_assert_bytes(second, second_size, first, first_size, __FILE__, __LINE__);
  irt_allocator_free(allocator, first);
  irt_allocator_free(allocator, second);

  // Still extensible: a new value type sorts first and moves the list type.
  irvm_type_t i32_type;
  ASSERT_OK(irvm_module_builder_add_type(builder, "i32", &i32_type));
  add_void_function(builder, "g");
  bt_module_t m;
  bt_finish(builder, NULL, &m);
  assert_int_equal(m.def.function_count, 2);
  uint32_t length = 0;
  const uint8_t* code = bt_function_code(&m.def, 0, &length);
  assert_int_equal(irvm_load_u32(code + 2), 1);  // list.alloc's type field
  bt_module_free(&m);
  irvm_module_builder_destroy(builder);
}

// A module using most of the API, built with |allocator|.
static irt_status_t build_sample(irt_allocator_t allocator,
                                 irvm_module_builder_t* builder,
                                 uint8_t** out_data, size_t* out_size) {
  uint32_t ordinal = 0;
  irvm_type_t type;
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_attr(builder, "k", "v"));
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_type(builder, "!vm.buffer", &type));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_dependency(builder, "hal", 6,
                                                         IRVM_FLAG_REQUIRED));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_import(
      builder, "hal.devices.count", "0v_i", IRVM_FLAG_REQUIRED, &ordinal));
  static const uint8_t blob[4500] = {1, 2, 3};
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_add_rodata(builder, blob, 4, NULL, &ordinal));
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_rodata(
      builder, blob, sizeof(blob), NULL, &ordinal));
  int32_t location = 0;
  IRT_RETURN_IF_ERROR(irvm_module_builder_add_location_fused(
      builder, "m", (const int32_t[]){0}, 1, &location));
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(builder, "f", "0i_i", &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_add_attr(fn, "iree.abi.declaration", "f"));
  irvm_label_t done;
  IRT_RETURN_IF_ERROR(irvm_fn_new_label(fn, &done));
  irvm_fn_set_location(fn, location);
  IRT_RETURN_IF_ERROR(irvm_fn_call(fn, irvm_opnd_import(0), NULL, 0,
                                   (const irvm_reg_t[]){irvm_reg_i32(1)}, 1));
  IRT_RETURN_IF_ERROR(IRVM_EMIT(
      fn, IRVM_INSN_BR, IRVM_BRANCH(done, {irvm_reg_i32(1), irvm_reg_i32(0)})));
  IRT_RETURN_IF_ERROR(irvm_fn_bind_label(fn, done));
  IRT_RETURN_IF_ERROR(
      irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_i32(0)}, 1));
  return irvm_module_builder_finish(builder, NULL, allocator, out_data,
                                    out_size);
}

// Every allocation may fail: the error comes back and nothing leaks.
static void test_allocation_failures(void** state) {
  (void)state;
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irt_allocator_t allocator = irt_counting_allocator(&counter);
    irvm_module_builder_t* builder = NULL;
    uint8_t* data = NULL;
    size_t size = 0;
    irt_status_t status =
        irvm_module_builder_create(allocator, "module", 0, &builder);
    if (status == IRT_OK) {
      status = build_sample(allocator, builder, &data, &size);
    }
    irvm_module_builder_destroy(builder);
    if (status == IRT_OK) {
      irvm_module_def_t def;
      ASSERT_OK(
          irvm_module_def_parse(data, size, irt_allocator_system(), &def));
      assert_int_equal(def.rodata_count, 2);
      irvm_module_def_deinit(&def);
      irt_allocator_free(allocator, data);
      assert_int_equal(counter.live_allocations, 0);
      assert_true(fail_after > 20);
      break;
    }
    assert_null(data);
    assert_int_equal(counter.live_allocations, 0);
    assert_int_equal(irt_status_consume_code(status),
                     IRT_STATUS_RESOURCE_EXHAUSTED);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_crc32),
      cmocka_unit_test(test_metadata_round_trips),
      cmocka_unit_test(test_argument_errors),
      cmocka_unit_test(test_hal_imports_declare),
      cmocka_unit_test(test_zip_container_without_rodata),
      cmocka_unit_test(test_rodata_in_both_forms),
      cmocka_unit_test(test_external_rodata_matches_the_compiler),
      cmocka_unit_test(test_debug_database),
      cmocka_unit_test(test_reference_checks),
      cmocka_unit_test(test_overrides_build_malformed_modules),
      cmocka_unit_test(test_finish_is_repeatable),
      cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
