// irvm_module_def_parse on the conformance corpus: known facts (spec 10.1,
// 10.2), the version and field-naming errors, and robustness against
// truncated and corrupted files (run under AddressSanitizer too).
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
// clang-format on
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/vm/format/flatbuffer.h"
#include "runtime/vm/format/module_def.h"
#include "tests/vm_format/corpus.h"

// Parses |data| and expects a failure whose brief text contains |needle|.
static void expect_parse_error(const uint8_t* data, size_t size,
                               irt_status_code_t code, const char* needle) {
  irvm_module_def_t def;
  irt_status_t status =
      irvm_module_def_parse(data, size, irt_allocator_system(), &def);
  if (status == IRT_OK) {
    irvm_module_def_deinit(&def);
    fail_msg("parse succeeded; expected an error containing '%s'", needle);
  }
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t actual = irt_status_code(status);
  irt_status_free(status);
  if (!strstr(text, needle)) {
    fail_msg("error '%s' does not contain '%s'", text, needle);
  }
  assert_int_equal(actual, code);
}

static void assert_sv(irt_string_view_t view, const char* expected) {
  if (!irt_string_view_equal_cstring(view, expected)) {
    fail_msg("got '%.*s', expected '%s'", IRT_SV_ARG(view), expected);
  }
}

static void test_identity_i64(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* data = irvm_test_read_corpus_file("v3.11/identity_i64.vmfb", &size);
  assert_int_equal(size, 821);
  irvm_module_def_t def;
  irvm_test_parse_ok(data, size, &def);
  assert_true(def.has_zip_header);
  assert_int_equal(def.flatbuffer_offset, 0x44);
  assert_int_equal(def.flatbuffer_size, 0x23C);
  assert_int_equal(def.rodata_base, 0x280);
  assert_sv(def.name, "module");
  assert_int_equal(def.version, 0);
  assert_int_equal(def.requirements, 0);
  assert_int_equal(def.bytecode_version, 0x00110000);
  assert_int_equal(def.attr_count, 0);
  assert_int_equal(def.type_count, 1);
  assert_sv(def.types[0], "!hal.buffer_view");
  assert_int_equal(def.dependency_count, 0);
  assert_int_equal(def.import_count, 0);
  assert_int_equal(def.export_count, 1);
  assert_sv(def.exports[0].local_name, "identity_i64");
  assert_int_equal(def.exports[0].internal_ordinal, 0);
  assert_int_equal(def.function_count, 1);
  assert_sv(def.function_signatures[0].calling_convention, "0r_r");
  irt_string_view_t declaration;
  assert_true(irvm_attrs_lookup(def.function_signatures[0].attr_count,
                                def.function_signatures[0].attrs,
                                "iree.abi.declaration", &declaration));
  assert_sv(declaration,
            "sync func @identity_i64(%input0: tensor<4xi64>) -> (%output0: "
            "tensor<4xi64>)");
  assert_false(irvm_attrs_lookup(def.function_signatures[0].attr_count,
                                 def.function_signatures[0].attrs, "iree.abi",
                                 &declaration));
  const irvm_function_descriptor_t* descriptor = &def.function_descriptors[0];
  assert_int_equal(descriptor->bytecode_offset, 0);
  assert_int_equal(descriptor->bytecode_length, 6);
  assert_int_equal(descriptor->requirements, 0);
  assert_int_equal(descriptor->block_count, 1);
  assert_int_equal(descriptor->i32_register_count, 0);
  assert_int_equal(descriptor->ref_register_count, 1);
  assert_int_equal(def.bytecode_size, 8);
  assert_int_equal(def.bytecode_data - data, 0x204);
  static const uint8_t code[] = {0x79, 0x5A, 0x01, 0x00, 0x00, 0xC0, 0, 0};
  assert_memory_equal(def.bytecode_data, code, sizeof(code));
  assert_int_equal(def.rodata_count, 0);
  assert_int_equal(def.global_bytes_capacity, 0);
  assert_int_equal(def.global_ref_count, 0);
  assert_true(def.has_debug_database);
  assert_int_equal(def.debug_database.location_count, 1);
  const irvm_location_def_t* location = &def.debug_database.locations[0];
  assert_int_equal(location->kind, IRVM_LOCATION_FILE_LINE_COL);
  assert_sv(location->file_line_col.filename, "identity_i64.mlir");
  assert_int_equal(location->file_line_col.line, 5);
  assert_int_equal(location->file_line_col.column, 1);
  assert_int_equal(def.debug_database.function_count, 1);
  const irvm_source_map_def_t* map = &def.debug_database.functions[0];
  assert_sv(map->local_name, "identity_i64");
  assert_int_equal(map->entry_count, 1);
  assert_int_equal(map->entries[0].bytecode_offset, 1);
  assert_int_equal(map->entries[0].location, 0);
  assert_int_equal(
      irvm_module_def_find_export(&def, irt_make_cstring_view("identity_i64")),
      0);
  assert_int_equal(
      irvm_module_def_find_export(&def, irt_make_cstring_view("identity")), -1);
  irvm_module_def_deinit(&def);
  free(data);
}

static void test_simple_mul_elodin(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* data =
      irvm_test_read_corpus_file("v3.11/simple_mul_elodin.vmfb", &size);
  irvm_module_def_t def;
  irvm_test_parse_ok(data, size, &def);
  assert_int_equal(def.flatbuffer_offset, 68);
  assert_int_equal(def.flatbuffer_size, 4860);
  assert_int_equal(def.rodata_base, 4928);
  assert_int_equal(def.requirements & ~IRVM_FEATURES_ALL, 0);

  static const char* const types[] = {"i32",
                                      "i64",
                                      "!hal.allocator",
                                      "!hal.buffer",
                                      "!hal.buffer_view",
                                      "!hal.command_buffer",
                                      "!hal.device",
                                      "!hal.executable",
                                      "!hal.fence",
                                      "!vm.buffer"};
  assert_int_equal(def.type_count, 10);
  for (uint32_t i = 0; i < 10; ++i) assert_sv(def.types[i], types[i]);

  assert_int_equal(def.dependency_count, 1);
  assert_sv(def.dependencies[0].name, "hal");
  assert_int_equal(def.dependencies[0].minimum_version, 6);
  assert_int_equal(def.dependencies[0].flags, IRVM_FLAG_REQUIRED);

  assert_int_equal(def.import_count, 17);
  static const struct {
    uint32_t ordinal;
    const char* name;
    const char* cconv;
  } imports[] = {
      {0, "hal.buffer.assert", "0rrrIii_v"},
      {1, "hal.buffer_view.create", "0rIIiiCID_r"},
      {2, "hal.buffer_view.assert", "0rriiCID_v"},
      {3, "hal.buffer_view.buffer", "0r_r"},
      {8, "hal.device.allocator", "0r_r"},
      {10, "hal.device.queue.alloca", "0rIrrIiiII_r"},
      {11, "hal.device.queue.execute.indirect", "0rIrrrICrIID_v"},
      {15, "hal.fence.create", "0rI_r"},
      {16, "hal.fence.await", "0iICrD_i"},
  };
  for (size_t i = 0; i < sizeof(imports) / sizeof(imports[0]); ++i) {
    const irvm_import_def_t* import = &def.imports[imports[i].ordinal];
    assert_sv(import->full_name, imports[i].name);
    assert_sv(import->signature.calling_convention, imports[i].cconv);
  }
  for (uint32_t i = 0; i < def.import_count; ++i) {
    assert_true(irt_string_view_starts_with(def.imports[i].full_name, "hal."));
    assert_int_equal(def.imports[i].flags, IRVM_FLAG_REQUIRED);
  }

  assert_int_equal(def.global_bytes_capacity, 0);
  assert_int_equal(def.global_ref_count, 3);

  assert_int_equal(def.export_count, 2);
  assert_sv(def.exports[0].local_name, "simple_mul");
  assert_int_equal(def.exports[0].internal_ordinal, 1);
  assert_sv(def.exports[1].local_name, "__init");
  assert_int_equal(def.exports[1].internal_ordinal, 2);
  assert_int_equal(def.function_count, 3);
  assert_sv(def.function_signatures[0].calling_convention, "0v_r");
  assert_sv(def.function_signatures[1].calling_convention, "0rr_r");
  assert_sv(def.function_signatures[2].calling_convention, "0v_v");

  const irvm_function_descriptor_t* descriptor = &def.function_descriptors[1];
  assert_int_equal(descriptor->bytecode_offset, 224);
  assert_int_equal(descriptor->bytecode_length, 518);
  assert_int_equal(descriptor->requirements,
                   IRVM_FEATURE_YIELD | IRVM_FEATURE_UNWIND);
  assert_int_equal(descriptor->block_count, 4);
  assert_int_equal(descriptor->i32_register_count, 14);
  assert_int_equal(descriptor->ref_register_count, 8);
  assert_int_equal(def.bytecode_data + descriptor->bytecode_offset - data,
                   3096);
  assert_int_equal(def.function_descriptors[2].bytecode_offset, 744);

  static const char* const strings[] = {"hal.device.id",
                                        "local*",
                                        "hal.executable.format",
                                        "embedded-elf-x86_64",
                                        NULL,
                                        "input0",
                                        "tensor",
                                        "input1"};
  assert_int_equal(def.rodata_count, 8);
  for (uint32_t i = 0; i < 8; ++i) {
    const irvm_rodata_def_t* segment = &def.rodata[i];
    if (!strings[i]) continue;
    assert_false(segment->is_external);
    assert_int_equal(segment->length, strlen(strings[i]));
    assert_memory_equal(segment->data, strings[i], segment->length);
    assert_int_equal(segment->data - data, segment->file_offset);
  }
  const irvm_rodata_def_t* elf = &def.rodata[4];
  assert_true(elf->is_external);
  assert_int_equal(elf->external_offset, 112);
  assert_int_equal(elf->length, 3592);
  assert_int_equal(elf->file_offset, 5040);
  assert_ptr_equal(elf->data, data + 5040);
  assert_memory_equal(elf->data,
                      "\x7F"
                      "ELF",
                      4);
  assert_memory_equal(data + 4928, "PK\x03\x04", 4);

  assert_true(def.has_debug_database);
  assert_int_equal(def.debug_database.function_count, 1);
  assert_sv(def.debug_database.functions[0].local_name, "__init");
  irvm_module_def_deinit(&def);
  free(data);
}

// Every v3.11 module and the negative modules that are well-formed parse;
// the old-bytecode ones fail with the version message.
static void test_corpus_parses(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  static const char* const subdirs[] = {"v3.11", "negative"};
  uint32_t parsed = 0;
  for (size_t s = 0; s < 2; ++s) {
    char** modules = irvm_test_list_modules(subdirs[s]);
    for (char** module = modules; *module; ++module) {
      size_t size = 0;
      uint8_t* data = irvm_test_read_corpus_file(*module, &size);
      if (strstr(*module, "bytecode") || strstr(*module, "rocm_only")) {
        expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                           "bytecode version");
      } else {
        irvm_module_def_t def;
        irvm_test_parse_ok(data, size, &def);
        assert_int_equal(irvm_test_decode_all(&def, true), 0);
        irvm_module_def_deinit(&def);
        ++parsed;
      }
      free(data);
    }
    irvm_test_free_list(modules);
  }
  assert_true(parsed >= 8);
}

static void test_old_bytecode_versions(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  static const struct {
    const char* path;
    const char* message;
  } cases[] = {
      {"negative/simple_mul_bytecode16.vmfb",
       "bytecode version 16.0 is not supported (expected 17.0)"},
      {"negative/bytecode13_custom_format.vmfb",
       "bytecode version 13.0 is not supported (expected 17.0)"},
      {"negative/rocm_only.vmfb",
       "bytecode version 15.0 is not supported (expected 17.0)"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    size_t size = 0;
    uint8_t* data = irvm_test_read_corpus_file(cases[i].path, &size);
    expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                       cases[i].message);
    free(data);
  }
}

// Targeted corruptions of identity_i64 (layout in spec 10.1) and
// simple_mul_elodin, each of which must name the field.
static void patch_u32(uint8_t* data, size_t offset, uint32_t value) {
  memcpy(data + offset, &value, 4);
}
static void patch_u16(uint8_t* data, size_t offset, uint16_t value) {
  memcpy(data + offset, &value, 2);
}

static void test_identity_i64_corruptions(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* original =
      irvm_test_read_corpus_file("v3.11/identity_i64.vmfb", &size);
  static const struct {
    size_t offset;
    int width;  // 2 or 4
    uint32_t value;
    irt_status_code_t code;
    const char* message;
  } cases[] = {
      // bytecode_version (root slot at 0x64).
      {0x64, 4, 0x00100000, IRT_STATUS_INVALID_ARGUMENT,
       "bytecode version 16.0 is not supported (expected 17.0)"},
      {0x64, 4, 0x00110001, IRT_STATUS_INVALID_ARGUMENT,
       "bytecode version 17.1 is not supported"},
      // The size prefix and the identifier.
      {0x40, 4, 0x100000, IRT_STATUS_INVALID_ARGUMENT,
       "FlatBuffer length prefix 1048576 out of bounds"},
      {0x48, 4, 0x41505249, IRT_STATUS_INVALID_ARGUMENT,
       "not a VM bytecode module: FlatBuffer identifier is 'IRPA'"},
      {0x44, 4, 0x1000, IRT_STATUS_INVALID_ARGUMENT, "root table offset"},
      // The root's vtable: an odd size, and requirements (field 2) aliased
      // onto bytecode_version's slot (0x00110000 has unknown feature bits).
      {0x224, 2, 37, IRT_STATUS_INVALID_ARGUMENT, "invalid size 37"},
      {0x22C, 2, 0x18, IRT_STATUS_INVALID_ARGUMENT,
       "required module features [0x10000|0x100000] are not available"},
      // The name string (length at 0x70): too long, or without its NUL.
      {0x70, 4, 0x7FFFFFF0, IRT_STATUS_INVALID_ARGUMENT, "in name"},
      {0x70, 4, 5, IRT_STATUS_INVALID_ARGUMENT, "lacks its NUL terminator"},
      // The function descriptor at 0x1EC.
      {0x1F0, 4, 0, IRT_STATUS_INVALID_ARGUMENT,
       "function_descriptors[0].bytecode_length 0 is not positive"},
      {0x1F0, 4, 9, IRT_STATUS_INVALID_ARGUMENT,
       "function_descriptors[0] bytecode range [0, 9) exceeds the 8 bytes of "
       "bytecode_data"},
      {0x1EC, 4, 0xFFFFFFFF, IRT_STATUS_INVALID_ARGUMENT,
       "function_descriptors[0].bytecode_offset -1 is negative"},
      {0x1FA, 2, 0, IRT_STATUS_INVALID_ARGUMENT,
       "function_descriptors[0].block_count is 0"},
      {0x1FC, 2, 0x8000, IRT_STATUS_INVALID_ARGUMENT,
       "function_descriptors[0] register counts 32768 (i32)"},
      // The descriptor vector's count (at 0x1E8) now disagrees with the
      // signatures, then overruns the buffer.
      {0x1E8, 4, 0, IRT_STATUS_INVALID_ARGUMENT,
       "function_signatures has 1 entries but function_descriptors has 0"},
      {0x1E8, 4, 0x10000000, IRT_STATUS_INVALID_ARGUMENT,
       "in function_descriptors"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); ++i) {
    uint8_t* data = irvm_test_copy(original, size);
    if (cases[i].width == 2) {
      patch_u16(data, cases[i].offset, (uint16_t)cases[i].value);
    } else {
      patch_u32(data, cases[i].offset, cases[i].value);
    }
    expect_parse_error(data, size, cases[i].code, cases[i].message);
    free(data);
  }
  // An empty name (length 0, NUL right after).
  uint8_t* data = irvm_test_copy(original, size);
  patch_u32(data, 0x70, 0);
  data[0x74] = 0;
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "module missing name field");
  free(data);
  // A ZIP header whose name length runs past the end of the file.
  data = irvm_test_copy(original, size);
  patch_u16(data, 26, 0xFFFF);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "archive self-reports as a zip but does not have enough "
                     "data");
  free(data);
  free(original);
}

// Empties or breaks the string |view| (which points into |data|).
static void empty_string(uint8_t* data, const uint8_t* original,
                         irt_string_view_t view) {
  size_t offset = (size_t)((const uint8_t*)view.data - original);
  patch_u32(data, offset - 4, 0);
  data[offset] = 0;
}

static void test_simple_mul_elodin_corruptions(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* original =
      irvm_test_read_corpus_file("v3.11/simple_mul_elodin.vmfb", &size);
  irvm_module_def_t def;
  irvm_test_parse_ok(original, size, &def);

  uint8_t* data = irvm_test_copy(original, size);
  empty_string(data, original, def.imports[3].full_name);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "imported_functions[3].full_name is empty");
  free(data);

  data = irvm_test_copy(original, size);
  patch_u32(
      data,
      (size_t)((const uint8_t*)def.imports[3].full_name.data - original) - 4,
      0x7FFFFFFF);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "in imported_functions[3].full_name");
  free(data);

  data = irvm_test_copy(original, size);
  patch_u32(data,
            (size_t)((const uint8_t*)def.imports[16]
                         .signature.calling_convention.data -
                     original) -
                4,
            0x7FFFFFFF);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "in imported_functions[16].signature.calling_convention");
  free(data);

  data = irvm_test_copy(original, size);
  empty_string(data, original, def.types[4]);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "types[4].full_name is empty");
  free(data);

  data = irvm_test_copy(original, size);
  empty_string(data, original, def.dependencies[0].name);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "dependencies[0].name is empty");
  free(data);

  data = irvm_test_copy(original, size);
  empty_string(data, original, def.exports[1].local_name);
  expect_parse_error(data, size, IRT_STATUS_INVALID_ARGUMENT,
                     "exported_functions[1].local_name is empty");
  free(data);

  // Cut inside the external ELF segment.
  data = irvm_test_copy(original, 6000);
  expect_parse_error(data, 6000, IRT_STATUS_INVALID_ARGUMENT,
                     "rodata_segments[4] external data out of range (offset "
                     "112, length 3592");
  free(data);
  irvm_module_def_deinit(&def);
  free(original);
}

// Truncating a module anywhere must fail cleanly (the trailing ZIP central
// directory is not needed, so lengths from the used size on still parse).
static void test_truncation(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  char** modules = irvm_test_list_modules("v3.11");
  for (char** module = modules; *module; ++module) {
    size_t size = 0;
    uint8_t* original = irvm_test_read_corpus_file(*module, &size);
    irvm_module_def_t def;
    irvm_test_parse_ok(original, size, &def);
    uint64_t used = def.flatbuffer_offset + def.flatbuffer_size;
    for (uint32_t i = 0; i < def.rodata_count; ++i) {
      if (def.rodata[i].is_external &&
          def.rodata[i].file_offset + def.rodata[i].length > used) {
        used = def.rodata[i].file_offset + def.rodata[i].length;
      }
    }
    irvm_module_def_deinit(&def);
    for (size_t length = 0; length < size; ++length) {
      uint8_t* data = irvm_test_copy(original, length);
      irvm_module_def_t truncated;
      irt_status_t status = irvm_module_def_parse(
          data, length, irt_allocator_system(), &truncated);
      if (length < used) {
        if (status == IRT_OK) fail_msg("%s cut at %zu parsed", *module, length);
        irt_status_free(status);
      } else {
        assert_null(status);
        irvm_module_def_deinit(&truncated);
      }
      free(data);
    }
    free(original);
  }
  irvm_test_free_list(modules);
}

// Truncating the FlatBuffer itself (with a size prefix that agrees) must not
// read out of bounds either; what still parses must decode.
static void test_flatbuffer_truncation(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  char** modules = irvm_test_list_modules("v3.11");
  for (char** module = modules; *module; ++module) {
    size_t size = 0;
    uint8_t* original = irvm_test_read_corpus_file(*module, &size);
    const size_t start = 64;  // after the ZIP local header (spec 1.2)
    uint32_t length = 0;
    memcpy(&length, original + start, 4);
    uint32_t failures = 0;
    for (uint32_t cut = 0; cut < length; ++cut) {
      uint8_t* data = irvm_test_copy(original, start + 4 + cut);
      patch_u32(data, start, cut);
      irvm_module_def_t def;
      irt_status_t status = irvm_module_def_parse(data, start + 4 + cut,
                                                  irt_allocator_system(), &def);
      if (status == IRT_OK) {
        irvm_test_decode_all(&def, true);
        irvm_module_def_deinit(&def);
      } else {
        irt_status_free(status);
        ++failures;
      }
      free(data);
    }
    // Only the zero padding at the end may go.
    assert_true(failures + 68 >= length);
    free(original);
  }
  irvm_test_free_list(modules);
}

// Flips every byte of every module in a few ways; nothing may crash and
// whatever still parses must decode (or fail to decode) cleanly.
static void test_byte_flips(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  static const uint8_t patterns[] = {0xFF, 0x01, 0x80};
  char** modules = irvm_test_list_modules("v3.11");
  uint64_t failures = 0, attempts = 0;
  for (char** module = modules; *module; ++module) {
    size_t size = 0;
    uint8_t* original = irvm_test_read_corpus_file(*module, &size);
    uint8_t* data = irvm_test_copy(original, size);
    for (size_t p = 0; p < sizeof(patterns); ++p) {
      for (size_t offset = 0; offset < size; ++offset) {
        data[offset] ^= patterns[p];
        irvm_module_def_t def;
        irt_status_t status =
            irvm_module_def_parse(data, size, irt_allocator_system(), &def);
        if (status == IRT_OK) {
          // Formatting is the slow part: once per position is enough.
          irvm_test_decode_all(&def, p == 0);
          irvm_module_def_deinit(&def);
        } else {
          irt_status_free(status);
          ++failures;
        }
        ++attempts;
        data[offset] = original[offset];
      }
    }
    // The root offset and the identifier always matter. (A changed size
    // prefix may still describe a valid module: a longer FlatBuffer region
    // moves the rodata base, and nothing checks what the bytes mean.)
    for (size_t offset = 68; offset < 76; ++offset) {
      data[offset] ^= 0xFF;
      irvm_module_def_t def;
      irt_status_t status =
          irvm_module_def_parse(data, size, irt_allocator_system(), &def);
      assert_non_null(status);
      irt_status_free(status);
      data[offset] = original[offset];
    }
    free(data);
    free(original);
  }
  irvm_test_free_list(modules);
  assert_true(failures > attempts / 20);
}

// Allocation failures at every point are reported and leak nothing.
static void test_allocation_failures(void** state) {
  (void)state;
  IRVM_TEST_REQUIRE_CORPUS();
  size_t size = 0;
  uint8_t* data =
      irvm_test_read_corpus_file("v3.11/simple_mul_elodin.vmfb", &size);
  irt_counting_allocator_t counter;
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irvm_module_def_t def;
    irt_status_t status = irvm_module_def_parse(
        data, size, irt_counting_allocator(&counter), &def);
    if (status == IRT_OK) {
      irvm_module_def_deinit(&def);
      assert_int_equal(counter.live_allocations, 0);
      break;
    }
    assert_int_equal(irt_status_code(status), IRT_STATUS_RESOURCE_EXHAUSTED);
    irt_status_free(status);
    assert_int_equal(counter.live_allocations, 0);
    assert_true(fail_after < 100);
  }
  free(data);
}

// Inputs that are not modules at all.
static void test_not_a_module(void** state) {
  (void)state;
  expect_parse_error(NULL, 0, IRT_STATUS_INVALID_ARGUMENT,
                     "FlatBuffer data is not present or less than 16 bytes");
  static const uint8_t text[] = "GGUF\x03\0\0\0 not a module at all";
  expect_parse_error(text, sizeof(text), IRT_STATUS_INVALID_ARGUMENT,
                     "FlatBuffer length prefix");
  // A flat (non-ZIP) FlatBuffer whose prefix fits but holds garbage.
  static const uint8_t flat[20] = {16, 0, 0, 0, 8, 0, 0, 0, 'I', 'R', 'P', 'A'};
  expect_parse_error(flat, sizeof(flat), IRT_STATUS_INVALID_ARGUMENT,
                     "not a VM bytecode module: FlatBuffer identifier is "
                     "'IRPA', expected 'IREE'");
  // A bare ZIP local header.
  static const uint8_t zip[30] = {'P', 'K', 3, 4};
  expect_parse_error(zip, sizeof(zip), IRT_STATUS_INVALID_ARGUMENT,
                     "less than 16 bytes (0 bytes)");
}

static void test_features_format(void** state) {
  (void)state;
  char text[64];
  irvm_features_format(0, text, sizeof(text));
  assert_string_equal(text, "none");
  irvm_features_format(IRVM_FEATURES_ALL, text, sizeof(text));
  assert_string_equal(text, "EXT_F32|EXT_F64|YIELD|UNWIND");
  assert_int_equal(irvm_features_format(0x8000000C, text, 8),
                   strlen("YIELD|UNWIND|0x80000000"));
  assert_string_equal(text, "YIELD|U");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_identity_i64),
      cmocka_unit_test(test_simple_mul_elodin),
      cmocka_unit_test(test_corpus_parses),
      cmocka_unit_test(test_old_bytecode_versions),
      cmocka_unit_test(test_identity_i64_corruptions),
      cmocka_unit_test(test_simple_mul_elodin_corruptions),
      cmocka_unit_test(test_truncation),
      cmocka_unit_test(test_flatbuffer_truncation),
      cmocka_unit_test(test_byte_flips),
      cmocka_unit_test(test_allocation_failures),
      cmocka_unit_test(test_not_a_module),
      cmocka_unit_test(test_features_format),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
