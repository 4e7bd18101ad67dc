#include "tests/vm_builder/builder_test.h"

#include <stdio.h>

void bt_assert_status(irt_status_t status, irt_status_code_t code,
                      const char* needle, const char* expression,
                      const char* file, int line) {
  if (status == IRT_OK) {
    fail_msg("%s:%d: %s succeeded, expected %s", file, line, expression,
             irt_status_code_string(code));
  }
  char text[2048];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_code_t actual = irt_status_code(status);
  irt_status_free(status);
  if (actual != code) {
    fail_msg("%s:%d: %s failed with %s (%s), expected %s", file, line,
             expression, irt_status_code_string(actual), text,
             irt_status_code_string(code));
  }
  if (needle && !strstr(text, needle)) {
    fail_msg("%s:%d: %s failed with \"%s\", which lacks \"%s\"", file, line,
             expression, text, needle);
  }
}

void bt_finish(irvm_module_builder_t* builder,
               const irvm_finish_options_t* options, bt_module_t* out_module) {
  memset(out_module, 0, sizeof(*out_module));
  irt_allocator_t allocator = irt_allocator_system();
  ASSERT_OK(irvm_module_builder_finish(builder, options, allocator,
                                       &out_module->data, &out_module->size));
  ASSERT_OK(irvm_module_def_parse(out_module->data, out_module->size, allocator,
                                  &out_module->def));
}

void bt_module_free(bt_module_t* module) {
  irvm_module_def_deinit(&module->def);
  irt_allocator_free(irt_allocator_system(), module->data);
  memset(module, 0, sizeof(*module));
}

const uint8_t* bt_function_code(const irvm_module_def_t* def, uint32_t ordinal,
                                uint32_t* out_length) {
  assert_true(ordinal < def->function_count);
  const irvm_function_descriptor_t* d = &def->function_descriptors[ordinal];
  *out_length = d->bytecode_length;
  return def->bytecode_data + d->bytecode_offset;
}

static void bt_print_hex(const char* label, const uint8_t* data,
                         size_t length) {
  fprintf(stderr, "%s (%zu bytes):", label, length);
  for (size_t i = 0; i < length; ++i) fprintf(stderr, " %02X", data[i]);
  fprintf(stderr, "\n");
}

void bt_assert_bytes(const uint8_t* actual, size_t actual_length,
                     const uint8_t* expected, size_t expected_length,
                     const char* file, int line) {
  if (actual_length == expected_length &&
      memcmp(actual, expected, expected_length) == 0) {
    return;
  }
  bt_print_hex("expected", expected, expected_length);
  bt_print_hex("actual  ", actual, actual_length);
  fail_msg("%s:%d: bytes differ", file, line);
}
