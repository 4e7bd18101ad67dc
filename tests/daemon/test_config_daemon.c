// ireed driven by its config (a real daemon process): preloads (a failing
// one is logged, the rest served), the socket's mode, idle unloads, reloads
// by ReloadRequest and SIGHUP (added, removed and replaced models while
// clients invoke without pause: none may fail), module and parameter files
// replaced at their paths, reload errors, and socket activation (a
// listening socket passed as systemd does).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
// cmocka.h needs <setjmp.h>, <stdarg.h>, <stddef.h> and <stdint.h> first.
#include <cmocka.h>

#include "runtime/io/irpa_writer.h"
#include "tests/daemon/built_module.h"
#include "tests/daemon/daemon_testing.h"
#include "tests/support/test_files.h"

// Room for a model list: a few names and up to two paths.
enum { kListMax = 2 * PATH_MAX + 256 };

static const char* g_ireed;
static const char* g_ireectl;
static char g_sample[PATH_MAX];  // the build tree's sample.vmfb

typedef struct fixture_s {
  char directory[64];  // configs and module copies
  char config[PATH_MAX];
  char copy[PATH_MAX];  // another path to the sample's bytes
  ireed_test_daemon_t daemon;
} fixture_t;

static int setup(void** state) {
  fixture_t* f = calloc(1, sizeof(*f));
  snprintf(f->directory, sizeof(f->directory), "/tmp/ireed-config.XXXXXX");
  if (!mkdtemp(f->directory)) return -1;
  snprintf(f->config, sizeof(f->config), "%s/ireed.yaml", f->directory);
  snprintf(f->copy, sizeof(f->copy), "%s/copy.vmfb", f->directory);
  uint8_t* data = NULL;
  size_t size = 0;
  if (!ireed_test_read_file(g_sample, &data, &size)) return -1;
  FILE* file = fopen(f->copy, "wb");
  bool ok = file && fwrite(data, 1, size, file) == size;
  if (file) fclose(file);
  free(data);
  *state = f;
  return ok ? 0 : -1;
}

// Removes every file the test left in the fixture's directory, then it.
static void remove_directory(const char* directory) {
  DIR* dir = opendir(directory);
  if (!dir) return;
  struct dirent* item;
  while ((item = readdir(dir)) != NULL) {
    if (strcmp(item->d_name, ".") == 0 || strcmp(item->d_name, "..") == 0) {
      continue;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s", directory, item->d_name);
    unlink(path);
  }
  closedir(dir);
  rmdir(directory);
}

static int teardown(void** state) {
  fixture_t* f = *state;
  if (f->daemon.pid > 0) ireed_test_daemon_stop(&f->daemon);
  remove_directory(f->directory);
  free(f);
  return 0;
}

// Replaces the config file (atomically, as editors and tools do).
static void write_config(fixture_t* f, const char* format, ...)
    IRT_PRINTF_LIKE(2, 3);
static void write_config(fixture_t* f, const char* format, ...) {
  char temporary[PATH_MAX + 8];
  snprintf(temporary, sizeof(temporary), "%s.new", f->config);
  FILE* file = fopen(temporary, "w");
  assert_non_null(file);
  va_list args;
  va_start(args, format);
  vfprintf(file, format, args);
  va_end(args);
  assert_int_equal(fclose(file), 0);
  assert_int_equal(rename(temporary, f->config), 0);
}

// Starts ireed on the fixture's config, with |log_flag| (NULL: none).
static void start_logging(fixture_t* f, const char* log_flag) {
  char flag[PATH_MAX + 16];
  snprintf(flag, sizeof(flag), "--config=%s", f->config);
  ireed_test_daemon_start(&f->daemon, g_ireed, flag, log_flag, NULL);
}

static void start(fixture_t* f) { start_logging(f, "--log-level=debug"); }

static Ireed__Frame* list_models(ireed_test_client_t* client) {
  Ireed__ListModelsRequest list = IREED__LIST_MODELS_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_LIST_MODELS;
  frame.list_models = &list;
  Ireed__Frame* reply = ireed_test_client_call(client, &frame, -1);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_LIST_MODELS_REPLY);
  return reply;
}

static int compare_strings(const void* a, const void* b) {
  return strcmp(*(char* const*)a, *(char* const*)b);
}

// "name=module,name=module" of the served models, by name.
static void served(ireed_test_client_t* client, char* buffer, size_t size) {
  Ireed__Frame* reply = list_models(client);
  size_t count = reply->list_models_reply->n_models;
  char* entries[16];
  assert_true(count <= 16);
  for (size_t i = 0; i < count; ++i) {
    const Ireed__ModelInfo* info = reply->list_models_reply->models[i];
    entries[i] = malloc(strlen(info->name) + strlen(info->module_paths[0]) + 2);
    sprintf(entries[i], "%s=%s", info->name, info->module_paths[0]);
  }
  qsort(entries, count, sizeof(entries[0]), compare_strings);
  buffer[0] = '\0';
  for (size_t i = 0; i < count; ++i) {
    size_t used = strlen(buffer);
    snprintf(buffer + used, size - used, "%s%s", i ? "," : "", entries[i]);
    free(entries[i]);
  }
  ireed__frame__free_unpacked(reply, NULL);
}

static bool log_contains(const fixture_t* f, const char* text) {
  uint8_t* data = NULL;
  size_t size = 0;
  if (!ireed_test_read_file(f->daemon.log_path, &data, &size)) return false;
  char* log = malloc(size + 1);
  memcpy(log, data, size);
  log[size] = '\0';
  bool found = strstr(log, text) != NULL;
  free(log);
  free(data);
  return found;
}

// simple_mul of the sample: its inputs and the product they give.
static const float kA[4] = {1, 2, 3, 4};
static const float kB[4] = {10, 20, 30, 40};
static const float kProduct[4] = {10, 40, 90, 160};

typedef struct sample_call_s {
  ireed_test_tensor_t inputs[2];
  ireed_test_invoke_t invoke;
} sample_call_t;

static void sample_call_init(sample_call_t* call, const char* model) {
  ireed_test_tensor_inline(&call->inputs[0], kA, 4);
  ireed_test_tensor_inline(&call->inputs[1], kB, 4);
  ireed_test_invoke_init(&call->invoke, model, "simple_mul", call->inputs, 2);
}

static void expect_invoke(ireed_test_client_t* client, const char* model) {
  sample_call_t call;
  sample_call_init(&call, model);
  Ireed__Frame* reply = ireed_test_client_call(client, &call.invoke.frame, -1);
  ireed_test_expect_f32(reply, 0, kProduct, 4);
  ireed__frame__free_unpacked(reply, NULL);
}

//===----------------------------------------------------------------------===//
// Start-up
//===----------------------------------------------------------------------===//

// Configured models are loaded before the first client is served; one that
// fails is logged by name and the others are served anyway.
static void test_preload(void** state) {
  fixture_t* f = *state;
  write_config(f,
               "socket:\n  mode: \"0600\"\n"
               "models:\n"
               "  - name: sample\n    module: %s\n    pinned: true\n"
               "  - name: broken\n    module: missing.vmfb\n"
               "  - name: synced\n    module: %s\n    device: local-sync\n",
               g_sample, f->copy);
  start(f);
  struct stat info;
  assert_int_equal(stat(f->daemon.socket_path, &info), 0);
  assert_int_equal(info.st_mode & 0777, 0600);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  char models[kListMax];
  served(&client, models, sizeof(models));
  char expected[kListMax];
  snprintf(expected, sizeof(expected), "sample=%s,synced=%s", g_sample,
           f->copy);
  assert_string_equal(models, expected);
  expect_invoke(&client, "sample");
  expect_invoke(&client, "synced");
  ireed_test_client_close(&client);
  assert_true(log_contains(f, "model.load_failed model=broken"));
  assert_true(log_contains(f, "failed=1"));
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// socket.group owns the socket file; logging.level and logging.format
// apply (here: warnings and errors only, as JSON lines).
static void test_socket_group_and_logging(void** state) {
  fixture_t* f = *state;
  write_config(f,
               "socket:\n  mode: \"0640\"\n  group: %u\n"
               "logging:\n  level: warning\n  format: json\n"
               "models:\n"
               "  - name: sample\n    module: %s\n"
               "  - name: broken\n    module: missing.vmfb\n",
               (unsigned)getgid(), g_sample);
  start_logging(f, NULL);
  struct stat info;
  assert_int_equal(stat(f->daemon.socket_path, &info), 0);
  assert_int_equal(info.st_mode & 0777, 0640);
  assert_int_equal(info.st_gid, getgid());
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  expect_invoke(&client, "sample");
  ireed_test_client_close(&client);
  assert_true(log_contains(f, "\"event\":\"model.load_failed\""));
  assert_true(log_contains(f, "\"model\":\"broken\""));
  assert_false(log_contains(f, "model.loaded"));  // info
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// Unpinned models with idle_unload_seconds leave after that long without
// invocations; pinned ones stay. An unloaded one comes back on its next
// invocation.
static void test_idle_unload(void** state) {
  fixture_t* f = *state;
  write_config(f,
               "models:\n"
               "  - name: pinned\n    module: %s\n    pinned: true\n"
               "  - name: idle\n    module: %s\n    idle_unload_seconds: 1\n",
               g_sample, f->copy);
  start(f);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  expect_invoke(&client, "idle");
  char models[kListMax];
  char expected[kListMax];
  snprintf(expected, sizeof(expected), "pinned=%s", g_sample);
  for (int i = 0; i < 100; ++i) {  // unloaded within 1 to 2 s
    served(&client, models, sizeof(models));
    if (strcmp(models, expected) == 0) break;
    usleep(50000);
  }
  assert_string_equal(models, expected);
  assert_true(log_contains(
      f, "model.unloading model=idle reason=idle idle_unload_seconds=1"));
  // The next invocation loads it again and waits for it: no error.
  expect_invoke(&client, "idle");
  snprintf(expected, sizeof(expected), "idle=%s,pinned=%s", f->copy, g_sample);
  served(&client, models, sizeof(models));
  assert_string_equal(models, expected);
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

//===----------------------------------------------------------------------===//
// Reload
//===----------------------------------------------------------------------===//

enum { kReloadClients = 4 };

typedef struct invoker_s {
  pthread_t thread;
  const char* socket_path;
  atomic_bool* stop;
  uint64_t invocations;
  uint64_t failures;
  char error[256];
} invoker_t;

// Invokes model "m" back to back until told to stop, counting failures
// (no cmocka asserts on this thread).
static void* invoker_main(void* arg) {
  invoker_t* self = arg;
  ireed_test_client_t client;
  if (!ireed_test_quiet_connect(&client, self->socket_path, self->error,
                                sizeof(self->error))) {
    self->failures = 1;
    ireed_test_client_close(&client);
    return NULL;
  }
  while (!atomic_load(self->stop)) {
    sample_call_t call;
    sample_call_init(&call, "m");
    Ireed__Frame* reply = NULL;
    ++self->invocations;
    if (!ireed_test_quiet_call(&client, &call.invoke.frame, &reply, self->error,
                               sizeof(self->error))) {
      ++self->failures;
      break;
    }
    if (reply->body_case != IREED__FRAME__BODY_INVOKE_REPLY) {
      if (!self->failures++) {
        snprintf(self->error, sizeof(self->error), "%s",
                 reply->body_case == IREED__FRAME__BODY_ERROR
                     ? reply->error->message
                     : "unexpected reply");
      }
    } else {
      const Ireed__Tensor* tensor = reply->invoke_reply->outputs[0]->tensor;
      if (tensor->inline_data.len != sizeof(kProduct) ||
          memcmp(tensor->inline_data.data, kProduct, sizeof(kProduct)) != 0) {
        if (!self->failures++) snprintf(self->error, 64, "wrong result");
      }
    }
    ireed__frame__free_unpacked(reply, NULL);
  }
  ireed_test_client_close(&client);
  return NULL;
}

static Ireed__Frame* reload(ireed_test_client_t* client) {
  Ireed__ReloadRequest request = IREED__RELOAD_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_RELOAD;
  frame.reload = &request;
  return ireed_test_client_call(client, &frame, -1);
}

static void expect_names(char** names, size_t count, const char* expected) {
  char joined[256] = "";
  for (size_t i = 0; i < count; ++i) {
    size_t used = strlen(joined);
    snprintf(joined + used, sizeof(joined) - used, "%s%s", i ? "," : "",
             names[i]);
  }
  assert_string_equal(joined, expected);
}

// Waits until the served models read |expected|.
static void wait_served(ireed_test_client_t* client, const char* expected) {
  char models[kListMax] = "";
  for (int i = 0; i < 400; ++i) {
    served(client, models, sizeof(models));
    if (strcmp(models, expected) == 0) return;
    usleep(25000);
  }
  assert_string_equal(models, expected);
}

// Model "m" is swapped (to another module file and back) by ReloadRequest
// and by SIGHUP while clients invoke it without pause: no invocation fails.
// The reloads also add and remove models.
static void test_reload_under_load(void** state) {
  fixture_t* f = *state;
  write_config(f,
               "models:\n"
               "  - name: m\n    module: %s\n"
               "  - name: old\n    module: %s\n",
               g_sample, g_sample);
  start(f);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  atomic_bool stop = false;
  invoker_t invokers[kReloadClients];
  memset(invokers, 0, sizeof(invokers));
  for (int i = 0; i < kReloadClients; ++i) {
    invokers[i].socket_path = f->daemon.socket_path;
    invokers[i].stop = &stop;
    assert_int_equal(
        pthread_create(&invokers[i].thread, NULL, invoker_main, &invokers[i]),
        0);
  }
  usleep(200000);

  // ReloadRequest: m changes module, old leaves, n arrives.
  write_config(f,
               "models:\n"
               "  - name: m\n    module: %s\n"
               "  - name: n\n    module: %s\n",
               f->copy, g_sample);
  Ireed__ReloadRequest request = IREED__RELOAD_REQUEST__INIT;
  Ireed__Frame frame = IREED__FRAME__INIT;
  frame.body_case = IREED__FRAME__BODY_RELOAD;
  frame.reload = &request;
  uint64_t reload_id = ireed_test_client_send(&client, &frame, -1);
  // n is being loaded: an invocation waits for it rather than fail.
  ireed_test_client_t other;
  ireed_test_client_connect(&other, &f->daemon);
  expect_invoke(&other, "n");
  ireed_test_client_close(&other);
  Ireed__Frame* reply = ireed_test_client_receive(&client);
  assert_int_equal(reply->request_id, reload_id);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_RELOAD_REPLY);
  const Ireed__ReloadReply* result = reply->reload_reply;
  assert_non_null(strstr(result->config_path, "ireed.yaml"));
  expect_names(result->loaded, result->n_loaded, "n");
  expect_names(result->replaced, result->n_replaced, "m");
  expect_names(result->unloaded, result->n_unloaded, "old");
  expect_names(result->failed, result->n_failed, "");
  ireed__frame__free_unpacked(reply, NULL);
  char expected[kListMax];
  snprintf(expected, sizeof(expected), "m=%s,n=%s", f->copy, g_sample);
  wait_served(&client, expected);
  usleep(200000);

  // SIGHUP: m goes back to the first file.
  write_config(f,
               "models:\n"
               "  - name: m\n    module: %s\n"
               "  - name: n\n    module: %s\n",
               g_sample, g_sample);
  assert_int_equal(kill(f->daemon.pid, SIGHUP), 0);
  snprintf(expected, sizeof(expected), "m=%s,n=%s", g_sample, g_sample);
  wait_served(&client, expected);
  usleep(200000);

  atomic_store(&stop, true);
  uint64_t invocations = 0;
  for (int i = 0; i < kReloadClients; ++i) {
    pthread_join(invokers[i].thread, NULL);
    if (invokers[i].failures) {
      fail_msg("client %d: %llu of %llu invocations failed: %s", i,
               (unsigned long long)invokers[i].failures,
               (unsigned long long)invokers[i].invocations, invokers[i].error);
    }
    assert_true(invokers[i].invocations > 0);
    invocations += invokers[i].invocations;
  }
  fprintf(stderr, "reload under load: %llu invocations, 0 failed\n",
          (unsigned long long)invocations);
  assert_true(log_contains(f, "model.replaced model=m"));
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// `ireectl reload` against |daemon|: its exit code and output (both
// streams).
static int ireectl_reload(const ireed_test_daemon_t* daemon, char* output,
                          size_t capacity) {
  char command[PATH_MAX * 3];
  snprintf(command, sizeof(command), "'%s' --socket '%s' reload 2>&1",
           g_ireectl, daemon->socket_path);
  return ireed_test_run_command(command, output, capacity);
}

// `ireectl reload` prints what changed; a model that fails to load makes it
// exit 1 naming the model.
static void test_ireectl_reload(void** state) {
  fixture_t* f = *state;
  write_config(f, "models:\n  - name: m\n    module: %s\n", g_sample);
  start(f);
  write_config(f,
               "models:\n  - name: m\n    module: %s\n"
               "  - name: n\n    module: %s\n",
               g_sample, f->copy);
  char output[4096];
  assert_int_equal(ireectl_reload(&f->daemon, output, sizeof(output)), 0);
  char expected[PATH_MAX + 64];
  snprintf(expected, sizeof(expected), "reloaded %s\nloaded:   n\n", f->config);
  assert_string_equal(output, expected);
  write_config(f,
               "models:\n  - name: m\n    module: %s\n"
               "  - name: broken\n    module: missing.vmfb\n",
               g_sample);
  assert_int_equal(ireectl_reload(&f->daemon, output, sizeof(output)), 1);
  assert_non_null(strstr(output, "unloaded: n\n"));
  assert_non_null(strstr(output, "ireectl: reload: broken: "));
  assert_non_null(strstr(output, "missing.vmfb"));
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// Two versions of one model, told apart by what they return: builder-made
// modules whose export version(i32) -> i32 returns 1 or 2.
static irt_status_t define_version(irvm_module_builder_t* b, int32_t version) {
  irvm_function_builder_t* fn = NULL;
  IRT_RETURN_IF_ERROR(
      irvm_module_builder_begin_exported_function(b, "version", "0i_i", &fn));
  IRT_RETURN_IF_ERROR(irvm_fn_const_i32(fn, irvm_reg_i32(1), version));
  return irvm_fn_return(fn, (const irvm_reg_t[]){irvm_reg_i32(1)}, 1);
}
static irt_status_t define_version_1(irvm_module_builder_t* b) {
  return define_version(b, 1);
}
static irt_status_t define_version_2(irvm_module_builder_t* b) {
  return define_version(b, 2);
}

// Installs a file at |path| as operators should: written next to it, then
// renamed over it (a new inode; the daemon's mapping of the old one stays
// valid).
static void install(const char* written, const char* path) {
  assert_int_equal(rename(written, path), 0);
}

// Installs version |version| of the module at |path|.
static void install_version(const fixture_t* f, int version,
                            const char* path) {
  char written[PATH_MAX];
  assert_null(built_module_write(
      f->directory, version == 1 ? "version1" : "version2",
      version == 1 ? define_version_1 : define_version_2, written,
      sizeof(written)));
  install(written, path);
}

// Installs |size| bytes of |data| at |path|.
static void install_bytes(const char* path, const void* data, size_t size) {
  char written[PATH_MAX + 8];
  snprintf(written, sizeof(written), "%s.new", path);
  FILE* file = fopen(written, "wb");
  assert_non_null(file);
  assert_int_equal(fwrite(data, 1, size, file), size);
  assert_int_equal(fclose(file), 0);
  install(written, path);
}

// Installs an IRPA archive at |path| whose one parameter "w" is |value|.
static void install_archive(const char* path, uint32_t value) {
  char written[PATH_MAX + 8];
  snprintf(written, sizeof(written), "%s.new", path);
  irio_irpa_writer_entry_t entry = {.key = irt_make_cstring_view("w"),
                                    .storage = IRIO_ENTRY_STORAGE_FILE,
                                    .length = sizeof(value),
                                    .data = &value};
  FILE* file = fopen(written, "wb");
  assert_non_null(file);
  assert_null(irio_irpa_write(&entry, 1, file, written));
  assert_int_equal(fclose(file), 0);
  install(written, path);
}

static void expect_version(ireed_test_client_t* client, int32_t version) {
  Ireed__Value value;
  ireed_test_invoke_t invoke;
  ireed_test_invoke_i32(&invoke, "m", "version", &value, 0);
  Ireed__Frame* reply = ireed_test_client_call(client, &invoke.frame, -1);
  if (reply->body_case == IREED__FRAME__BODY_ERROR) {
    fail_msg("version failed: %s", reply->error->message);
  }
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_INVOKE_REPLY);
  assert_int_equal(reply->invoke_reply->n_outputs, 1);
  assert_int_equal(reply->invoke_reply->outputs[0]->i32, version);
  ireed__frame__free_unpacked(reply, NULL);
}

// Reloads: nothing loaded or unloaded, |replaced| replaced ("" or "m"), and
// when |failure| is set, m failed with an error containing it.
static void expect_reload(ireed_test_client_t* client, const char* replaced,
                          const char* failure) {
  Ireed__Frame* reply = reload(client);
  assert_int_equal(reply->body_case, IREED__FRAME__BODY_RELOAD_REPLY);
  const Ireed__ReloadReply* result = reply->reload_reply;
  expect_names(result->loaded, result->n_loaded, "");
  expect_names(result->replaced, result->n_replaced, replaced);
  expect_names(result->unloaded, result->n_unloaded, "");
  assert_int_equal(result->n_failed, failure ? 1 : 0);
  if (failure) {
    assert_true(strncmp(result->failed[0], "m: ", 3) == 0);
    if (!strstr(result->failed[0], failure)) {
      fail_msg("'%s' does not say '%s'", result->failed[0], failure);
    }
  }
  ireed__frame__free_unpacked(reply, NULL);
}

// Operators deploy a new version by installing a file at the same path and
// reloading: a module or parameter archive replaced by rename makes the
// reload replace the model; with nothing touched it replaces nothing. A
// replacement that cannot load (not a module, or no file at all) is
// reported, and the old version keeps serving.
static void test_reload_replaced_files(void** state) {
  fixture_t* f = *state;
  char module[PATH_MAX], archive[PATH_MAX];
  snprintf(module, sizeof(module), "%s/m.vmfb", f->directory);
  snprintf(archive, sizeof(archive), "%s/m.irpa", f->directory);
  install_version(f, 1, module);
  install_archive(archive, 1);
  write_config(f,
               "models:\n  - name: m\n    module: %s\n"
               "    device: local-sync\n"
               "    parameters:\n      - scope: m\n        path: %s\n",
               module, archive);
  start(f);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  expect_version(&client, 1);

  install_version(f, 2, module);
  expect_reload(&client, "m", NULL);
  expect_version(&client, 2);
  assert_true(log_contains(f, "model.file_changed model=m path="));
  expect_reload(&client, "", NULL);

  static const char kGarbage[] = "not a module, just bytes";
  install_bytes(module, kGarbage, sizeof(kGarbage));
  expect_reload(&client, "", module);
  expect_version(&client, 2);
  assert_int_equal(unlink(module), 0);
  expect_reload(&client, "", "No such file");
  expect_version(&client, 2);

  install_version(f, 1, module);
  expect_reload(&client, "m", NULL);
  expect_version(&client, 1);
  install_archive(archive, 2);
  expect_reload(&client, "m", NULL);
  expect_version(&client, 1);
  expect_reload(&client, "", NULL);
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// A config that no longer parses changes nothing: the reply is the error
// (FILE:LINE:COL: KEY), the log says it, the models keep serving.
static void test_reload_errors(void** state) {
  fixture_t* f = *state;
  write_config(f, "models:\n  - name: m\n    module: %s\n", g_sample);
  start(f);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  write_config(f, "models:\n  - name: m\n    modul: %s\n", f->copy);
  char expected[PATH_MAX + 64];
  snprintf(expected, sizeof(expected), "%s:3:5: models[0].modul: unknown key",
           f->config);
  ireed_test_expect_error(reload(&client), IRT_STATUS_INVALID_ARGUMENT,
                          expected);
  assert_true(log_contains(f, "reload failed; the config in use stays"));
  // SIGHUP with the same file: logged, nothing changes.
  assert_int_equal(kill(f->daemon.pid, SIGHUP), 0);
  snprintf(expected, sizeof(expected), "m=%s", g_sample);
  wait_served(&client, expected);
  expect_invoke(&client, "m");
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);

  // Without a config file there is nothing to reload.
  ireed_test_daemon_start(&f->daemon, g_ireed, NULL);
  ireed_test_client_connect(&client, &f->daemon);
  ireed_test_expect_error(reload(&client), IRT_STATUS_FAILED_PRECONDITION,
                          "started without a config file");
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// Reload is an admin request: a client-role peer is refused.
static void test_reload_needs_admin(void** state) {
  fixture_t* f = *state;
  write_config(f, "access:\n  client:\n    uids: [%u]\n", (unsigned)getuid());
  start(f);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  ireed_test_expect_error(reload(&client), IRT_STATUS_PERMISSION_DENIED,
                          "may not send ReloadRequest");
  ireed_test_client_close(&client);
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
}

// The next sd_notify message on |fd| (up to 20 s), NUL-terminated.
static void receive_notification(int fd, char* buffer, size_t capacity) {
  struct pollfd poll_fd = {.fd = fd, .events = POLLIN};
  assert_int_equal(poll(&poll_fd, 1, 20000), 1);
  ssize_t size = recv(fd, buffer, capacity - 1, 0);
  assert_true(size > 0);
  buffer[size] = '\0';
}

// systemd readiness (NOTIFY_SOCKET): READY=1 once the preloads are done;
// a SIGHUP reload is RELOADING=1, then READY=1 when it finished.
static void test_sd_notify(void** state) {
  fixture_t* f = *state;
  char notify_path[sizeof(f->directory) + 8];
  snprintf(notify_path, sizeof(notify_path), "%s/notify", f->directory);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  assert_true(fd >= 0);
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", notify_path);
  assert_int_equal(bind(fd, (struct sockaddr*)&address, sizeof(address)), 0);
  write_config(f, "models:\n  - name: m\n    module: %s\n", g_sample);
  setenv("NOTIFY_SOCKET", notify_path, 1);
  start(f);
  unsetenv("NOTIFY_SOCKET");
  char message[256];
  receive_notification(fd, message, sizeof(message));
  assert_string_equal(message, "READY=1");
  // Logged before READY=1.
  assert_true(log_contains(f, "model.loaded model=m"));
  write_config(f,
               "models:\n  - name: m\n    module: %s\n"
               "  - name: n\n    module: %s\n",
               g_sample, f->copy);
  assert_int_equal(kill(f->daemon.pid, SIGHUP), 0);
  receive_notification(fd, message, sizeof(message));
  assert_non_null(strstr(message, "RELOADING=1\nMONOTONIC_USEC="));
  receive_notification(fd, message, sizeof(message));
  assert_string_equal(message, "READY=1");
  assert_true(log_contains(f, "model.loaded model=n"));
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 0);
  receive_notification(fd, message, sizeof(message));
  assert_string_equal(message, "STOPPING=1");
  close(fd);
  unlink(notify_path);
}

//===----------------------------------------------------------------------===//
// Socket activation
//===----------------------------------------------------------------------===//

// ireed serves the listening socket it is passed as fd 3 (LISTEN_FDS=1,
// LISTEN_PID=its pid, as systemd sets them), and leaves the socket file
// alone when it stops.
static void test_socket_activation(void** state) {
  fixture_t* f = *state;
  write_config(f, "models:\n  - name: m\n    module: %s\n", g_sample);
  char config_flag[PATH_MAX + 16];
  snprintf(config_flag, sizeof(config_flag), "--config=%s", f->config);
  ireed_test_daemon_start_activated(&f->daemon, g_ireed, config_flag, NULL);
  ireed_test_client_t client;
  ireed_test_client_connect(&client, &f->daemon);
  expect_invoke(&client, "m");
  ireed_test_client_close(&client);
  assert_true(log_contains(f, "(passed by systemd)"));
  // 254: a clean exit, with the socket file (systemd's) left in place.
  assert_int_equal(ireed_test_daemon_stop(&f->daemon), 254);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: test_config_daemon IREED IREECTL SAMPLE_VMFB\n");
    return 2;
  }
  g_ireed = argv[1];
  g_ireectl = argv[2];
  if (!realpath(argv[3], g_sample)) {
    fprintf(stderr, "no sample model at %s\n", argv[3]);
    return 1;
  }
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_preload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_socket_group_and_logging, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_idle_unload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_under_load, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_replaced_files, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_reload_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ireectl_reload, setup, teardown),
      cmocka_unit_test_setup_teardown(test_reload_needs_admin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_sd_notify, setup, teardown),
      cmocka_unit_test_setup_teardown(test_socket_activation, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
