// daemon/config.c: the example config and a full config parse to the
// expected values; each class of mistake gives a "FILE:LINE:COL: KEY: "
// message; `ireed --check-config` prints "FILE: ok" or the error.
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "daemon/config.h"
#include "tests/support/test_files.h"

static const char* g_ireed_binary;
static const char* g_example_config;

static irt_status_t parse(const char* text, ireed_config_t* config) {
  return ireed_config_parse("test.yaml", "/etc/ireed", (const uint8_t*)text,
                            strlen(text), irt_allocator_system(), config);
}

// Asserts |text| fails with a message starting with |prefix| and
// containing |detail|.
static void expect_error(const char* text, const char* prefix,
                         const char* detail) {
  ireed_config_t config;
  irt_status_t status = parse(text, &config);
  assert_false(irt_status_is_ok(status));
  const char* message = irt_status_message(status);
  if (strncmp(message, prefix, strlen(prefix)) != 0 ||
      !strstr(message, detail)) {
    fail_msg("for:\n%s\nexpected '%s...%s', got '%s'", text, prefix, detail,
             message);
  }
  assert_int_equal(irt_status_code(status), IRT_STATUS_INVALID_ARGUMENT);
  irt_status_free(status);
  assert_int_equal(config.model_count, 0);  // left empty
  ireed_config_deinitialize(&config);
}

static void test_full_config(void** state) {
  (void)state;
  const char* text =
      "socket:\n"
      "  path: /run/ireed/ireed.sock\n"
      "  mode: \"0640\"\n"
      "  group: 0\n"
      "workers: 8\n"
      "access:\n"
      "  admin: {uids: [0, 1000], users: [root], groups: [root]}\n"
      "  client:\n"
      "    groups: [0, 27]\n"
      "devices:\n"
      "  - uri: local-task\n"
      "    workers: 3\n"
      "    staging_size: 64MiB\n"
      "  - uri: local-sync\n"
      "    staging_size: 1048576\n"
      "    pipeline_cache_dir: cache\n"
      "models:\n"
      "  - name: sample\n"
      "    module: samples/sample.vmfb\n"
      "    pinned: yes\n"
      "  - name: big\n"
      "    module: /models/big.vmfb\n"
      "    parameters:\n"
      "      - {scope: model, path: /models/big.irpa}\n"
      "      - path: extra.gguf\n"
      "    device: local-sync\n"
      "    idle_unload_seconds: 300\n"
      "limits:\n"
      "  max_clients: 100\n"
      "  max_inflight_per_client: 8\n"
      "  max_frame_size: 1MiB\n"
      "  queue_depth: 256\n"
      "  drain_timeout_seconds: 10\n"
      "logging: {level: debug, format: json}\n";
  ireed_config_t config;
  irt_status_t status = parse(text, &config);
  if (!irt_status_is_ok(status)) fail_msg("%s", irt_status_message(status));
  assert_string_equal(config.socket_path, "/run/ireed/ireed.sock");
  assert_int_equal(config.socket_mode, 0640);
  assert_string_equal(config.socket_group, "0");
  assert_int_equal(config.socket_gid, 0);
  assert_int_equal(config.worker_count, 8);
  assert_true(config.access.enabled);
  assert_int_equal(config.access.admin.role, IREED_ROLE_ADMIN);
  assert_int_equal(config.access.admin.uid_count, 3);
  assert_int_equal(config.access.admin.uids[1], 1000);
  assert_int_equal(config.access.admin.uids[2], 0);  // root
  assert_int_equal(config.access.admin.gid_count, 1);
  assert_int_equal(config.access.client.role, IREED_ROLE_CLIENT);
  assert_int_equal(config.access.client.uid_count, 0);
  assert_int_equal(config.access.client.gid_count, 2);
  assert_int_equal(config.access.client.gids[1], 27);
  assert_int_equal(config.device_count, 2);
  assert_string_equal(config.devices[0].uri, "local-task");
  assert_int_equal(config.devices[0].worker_count, 3);
  assert_int_equal(config.devices[0].staging_size, 64u << 20);
  assert_null(config.devices[0].pipeline_cache_dir);
  assert_int_equal(config.devices[1].staging_size, 1u << 20);
  assert_string_equal(config.devices[1].pipeline_cache_dir, "/etc/ireed/cache");
  assert_int_equal(config.model_count, 2);
  assert_string_equal(config.models[0].name, "sample");
  assert_string_equal(config.models[0].module_path,
                      "/etc/ireed/samples/sample.vmfb");
  assert_true(config.models[0].pinned);
  assert_null(config.models[0].device);
  assert_string_equal(ireed_config_model_device(&config, &config.models[0]),
                      "local-task");
  assert_int_equal(config.models[1].parameter_count, 2);
  assert_string_equal(config.models[1].parameters[0].scope, "model");
  assert_string_equal(config.models[1].parameters[1].scope, "");
  assert_string_equal(config.models[1].parameters[1].path,
                      "/etc/ireed/extra.gguf");
  assert_string_equal(config.models[1].device, "local-sync");
  assert_false(config.models[1].pinned);
  assert_int_equal(config.models[1].idle_unload_seconds, 300);
  assert_int_equal(config.limits.max_clients, 100);
  assert_int_equal(config.limits.max_inflight_per_client, 8);
  assert_int_equal(config.limits.max_frame_size, 1u << 20);
  assert_int_equal(config.limits.queue_depth, 256);
  assert_int_equal(config.limits.drain_timeout_seconds, 10);
  assert_string_equal(config.logging.level, "debug");
  assert_true(config.logging.json);
  assert_false(ireed_config_model_same_load(&config, &config.models[0], &config,
                                            &config.models[1]));
  assert_true(ireed_config_model_same_load(&config, &config.models[1], &config,
                                           &config.models[1]));
  ireed_config_deinitialize(&config);
}

// Empty files and empty sections are the defaults.
static void test_defaults(void** state) {
  (void)state;
  const char* texts[] = {"", "# nothing\n", "socket:\nmodels:\nlimits: ~\n",
                         "models: []\ndevices: []\n"};
  for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); ++i) {
    ireed_config_t config;
    irt_status_t status = parse(texts[i], &config);
    if (!irt_status_is_ok(status)) fail_msg("%s", irt_status_message(status));
    assert_null(config.socket_path);
    assert_int_equal(config.socket_mode, 0);
    assert_false(config.access.enabled);
    assert_int_equal(config.model_count, 0);
    assert_int_equal(config.device_count, 0);
    assert_false(config.logging.json);
    ireed_config_deinitialize(&config);
  }
}

static void test_syntax_errors(void** state) {
  (void)state;
  expect_error("workers: [1\n", "test.yaml:2:1: (syntax): ", "flow sequence");
  expect_error("a: b: c\n", "test.yaml:1:5: (syntax): ", "mapping values");
  expect_error("workers: 1\n---\nworkers: 2\n",
               "test.yaml:2:1: (top level): ", "one YAML document");
  expect_error("- 1\n", "test.yaml:1:1: (top level): ", "must be a mapping");
  expect_error("logging: &x {level: info}\nlimits: *x\n",
               "test.yaml:1:10: limits: ", "aliases are not supported");
}

static void test_unknown_and_duplicate_keys(void** state) {
  (void)state;
  expect_error("workers: 1\nworker: 2\n", "test.yaml:2:1: worker: ",
               "unknown key (known here: socket, workers,");
  expect_error("socket:\n  paht: /x\n", "test.yaml:2:3: socket.paht: ",
               "unknown key (known here: path, mode, group)");
  expect_error(
      "models:\n  - name: a\n    module: /a\n    pinned: true\n"
      "    pinned: false\n",
      "test.yaml:5:5: models[0].pinned: ", "duplicate key (first at line 4)");
  expect_error(
      "models:\n  - name: a\n    module: /a\n  - name: a\n    module: /b\n",
      "test.yaml:4:11: models[1].name: ", "duplicate model name 'a'");
  expect_error("devices:\n  - uri: local-task\n  - uri: local-task\n",
               "test.yaml:3:10: devices[1].uri: ", "configured twice");
  expect_error("? [a]\n: 1\n",
               "test.yaml:1:3: (top level): ", "keys must be scalars");
}

static void test_wrong_types(void** state) {
  (void)state;
  expect_error("workers: [1]\n",
               "test.yaml:1:10: workers: ", "must be a scalar, not a list");
  expect_error("socket: /run/x.sock\n",
               "test.yaml:1:9: socket: ", "must be a mapping, not a scalar");
  expect_error("models:\n  name: a\n",
               "test.yaml:2:3: models: ", "must be a list, not a mapping");
  expect_error("models:\n  - name: {a: 1}\n    module: /a\n",
               "test.yaml:2:11: models[0].name: ", "must be a scalar");
  expect_error("models:\n  - name: a\n    module: /a\n    pinned: maybe\n",
               "test.yaml:4:13: models[0].pinned: ", "not a boolean");
  expect_error("access:\n  admin:\n    uids: [root]\n",
               "test.yaml:3:12: access.admin.uids[0]: ", "not a whole number");
}

static void test_bad_values(void** state) {
  (void)state;
  expect_error("workers: 0\n",
               "test.yaml:1:10: workers: ", "0 is out of range (1 to 1024)");
  expect_error("workers: -3\n",
               "test.yaml:1:10: workers: ", "not a whole number");
  expect_error("workers: 99999999999999999999999\n",
               "test.yaml:1:10: workers: ", "not a whole number");
  expect_error("socket:\n  mode: \"0968\"\n",
               "test.yaml:2:9: socket.mode: ", "not an octal permission mode");
  expect_error("socket:\n  mode: 1777\n",
               "test.yaml:2:9: socket.mode: ", "not an octal permission mode");
  expect_error("socket:\n  mode: rw-rw----\n",
               "test.yaml:2:9: socket.mode: ", "not an octal permission mode");
  expect_error("socket:\n  path: \"\"\n",
               "test.yaml:2:9: socket.path: ", "must not be empty");
  expect_error(
      "socket:\n  path: "
      "/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
      "test.yaml:2:9: socket.path: ", "at most 107 bytes");
  expect_error(
      "socket:\n  group: no-such-group-here\n",
      "test.yaml:2:10: socket.group: ", "unknown group 'no-such-group-here'");
  expect_error("access:\n  client:\n    users: [no-such-user-here]\n",
               "test.yaml:3:13: access.client.users[0]: ",
               "unknown user 'no-such-user-here'");
  expect_error("devices:\n  - uri: local-task\n    staging_size: 64 MiB\n",
               "test.yaml:3:19: devices[0].staging_size: ", "not a size");
  expect_error("devices:\n  - uri: local-task\n    staging_size: 1KiB\n",
               "test.yaml:3:19: devices[0].staging_size: ", "out of range");
  expect_error(
      "devices:\n  - uri: local-task\n    staging_size: 99999999999G\n",
      "test.yaml:3:19: devices[0].staging_size: ", "too large");
  expect_error("devices:\n  - uri: local-task\n    workers: 0\n",
               "test.yaml:3:14: devices[0].workers: ", "out of range");
  expect_error("models:\n  - name: \"\"\n    module: /a\n",
               "test.yaml:2:11: models[0].name: ", "must not be empty");
  expect_error("models:\n  - name: \"a\\tb\"\n    module: /a\n",
               "test.yaml:2:11: models[0].name: ", "control character");
  expect_error(
      "models:\n  - name: a\n    module: /a\n    device: vulkan\n"
      "devices:\n  - uri: local-task\n",
      "test.yaml:4:13: models[0].device: ",
      "'vulkan' is not in the devices list");
  expect_error(
      "models:\n  - name: a\n    module: /a\n    pinned: true\n"
      "    idle_unload_seconds: 5\n",
      "test.yaml:5:26: models[0].idle_unload_seconds: ",
      "pinned model is never unloaded");
  expect_error("limits:\n  max_frame_size: 128MiB\n",
               "test.yaml:2:19: limits.max_frame_size: ", "out of range");
  expect_error("logging:\n  level: loud\n",
               "test.yaml:2:10: logging.level: ", "unknown level 'loud'");
  expect_error("logging:\n  format: xml\n", "test.yaml:2:11: logging.format: ",
               "unknown format 'xml' (text or json)");
  expect_error("workers: \"1\\u00002\"\n",
               "test.yaml:1:10: workers: ", "NUL character");
}

static void test_missing_required(void** state) {
  (void)state;
  expect_error("models:\n  - name: a\n", "test.yaml:2:5: models[0].module: ",
               "missing required key 'module'");
  expect_error("models:\n  - module: /a\n", "test.yaml:2:5: models[0].name: ",
               "missing required key 'name'");
  expect_error(
      "models:\n  - name: a\n    module:\n",
      "test.yaml:3:12: models[0].module: ", "missing required key 'module'");
  expect_error("devices:\n  - workers: 2\n",
               "test.yaml:2:5: devices[0].uri: ", "missing required key 'uri'");
  expect_error(
      "models:\n  - name: a\n    module: /a\n    parameters:\n"
      "      - scope: s\n",
      "test.yaml:5:9: models[0].parameters[0].path: ",
      "missing required key 'path'");
}

// Relative paths in a file resolve against its directory; the example
// config is valid.
static void test_load_file(void** state) {
  (void)state;
  char directory[] = "/tmp/ireed-config-test.XXXXXX";
  assert_non_null(mkdtemp(directory));
  char path[PATH_MAX];
  snprintf(path, sizeof(path), "%s/ireed.yaml", directory);
  FILE* file = fopen(path, "w");
  assert_non_null(file);
  fputs("models:\n  - name: m\n    module: m.vmfb\n", file);
  fclose(file);
  ireed_config_t config;
  irt_status_t status =
      ireed_config_load_file(path, irt_allocator_system(), &config);
  if (!irt_status_is_ok(status)) fail_msg("%s", irt_status_message(status));
  char expected[PATH_MAX];
  assert_non_null(realpath(directory, expected));
  strcat(expected, "/m.vmfb");
  assert_string_equal(config.models[0].module_path, expected);
  assert_non_null(config.source_path);
  ireed_config_deinitialize(&config);
  unlink(path);

  status = ireed_config_load_file(path, irt_allocator_system(), &config);
  assert_int_equal(irt_status_code(status), IRT_STATUS_NOT_FOUND);
  assert_non_null(strstr(irt_status_message(status), path));
  irt_status_free(status);
  rmdir(directory);

  status =
      ireed_config_load_file(g_example_config, irt_allocator_system(), &config);
  if (!irt_status_is_ok(status)) fail_msg("%s", irt_status_message(status));
  assert_true(config.model_count >= 1);
  ireed_config_deinitialize(&config);
}

// Runs `ireed --check-config PATH`; returns its exit code and output.
static int run_check(const char* path, char* output, size_t capacity) {
  char command[PATH_MAX * 2];
  snprintf(command, sizeof(command), "'%s' --check-config '%s' 2>&1",
           g_ireed_binary, path);
  return ireed_test_run_command(command, output, capacity);
}

static void test_check_config_flag(void** state) {
  (void)state;
  char output[1024];
  assert_int_equal(run_check(g_example_config, output, sizeof(output)), 0);
  char expected[PATH_MAX + 8];
  snprintf(expected, sizeof(expected), "%s: ok\n", g_example_config);
  assert_string_equal(output, expected);

  char path[] = "/tmp/ireed-config-test-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char bad[] = "limits:\n  queue_depth: lots\n";
  assert_int_equal(write(fd, bad, sizeof(bad) - 1), (ssize_t)sizeof(bad) - 1);
  close(fd);
  assert_int_equal(run_check(path, output, sizeof(output)), 1);
  snprintf(expected, sizeof(expected),
           "%s:2:16: limits.queue_depth: 'lots' is not a whole number\n", path);
  assert_string_equal(output, expected);
  unlink(path);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: test_config IREED_BINARY EXAMPLE_CONFIG\n");
    return 2;
  }
  g_ireed_binary = argv[1];
  g_example_config = argv[2];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_config),
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_syntax_errors),
      cmocka_unit_test(test_unknown_and_duplicate_keys),
      cmocka_unit_test(test_wrong_types),
      cmocka_unit_test(test_bad_values),
      cmocka_unit_test(test_missing_required),
      cmocka_unit_test(test_load_file),
      cmocka_unit_test(test_check_config_flag),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
