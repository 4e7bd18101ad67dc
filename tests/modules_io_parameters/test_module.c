// The io_parameters module called through the module interface with packed
// ABI buffers on the real CPU devices (local-sync and local-task): identity
// and cconvs, load (zero-copy imports of mapped IRPA data, copies of
// unaligned or mutable targets), gather, scatter into a writable archive,
// splats of every pattern size at any phase and offset, fence ordering,
// batches larger than the timeline count, and every error with its fence
// failure. Every test checks for leaked memory and mappings.
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/api.h"
#include "hal/cpu/cpu_device.h"
#include "runtime/io/irpa_writer.h"
#include "runtime/modules/io_parameters/io_parameters_module.h"
#include "runtime/vm/buffer.h"
#include "runtime/vm/cconv.h"
#include "runtime/vm/list.h"
#include "runtime/vm/stack.h"
#include "tests/io/io_testing.h"
#include "tests/support/test_files.h"

#define KEY_COUNT_MAX 64
#define USAGE_IMMUTABLE 0x80C03  // what compiled code passes
#define USAGE_MUTABLE 0xC03
#define MEMORY_TYPE 0x30

//===----------------------------------------------------------------------===//
// Archives
//===----------------------------------------------------------------------===//

static char g_dir[256], g_model[300], g_tensors[300], g_rw[300];
static uint8_t g_d64[64];
static const char kOdd[] = "odd!!";

// model.irpa: DATA "d64" (0..63), "odd" (5 bytes), "" (4 bytes); splats of
// every pattern size ("s1" .. "s16", "zero8" whose 8-byte pattern is 0).
static const irio_irpa_writer_entry_t* model_entries(size_t* count) {
  static irio_irpa_writer_entry_t entries[9];
  for (size_t i = 0; i < sizeof(g_d64); ++i) g_d64[i] = (uint8_t)i;
  irio_irpa_writer_entry_t list[] = {
      {.key = irt_make_cstring_view("d64"), .length = 64, .data = g_d64},
      {.key = irt_make_cstring_view("odd"), .length = 5, .data = kOdd},
      {.key = irt_make_string_view("", 0), .length = 4, .data = "anon"},
      {.key = irt_make_cstring_view("s1"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 100,
       .pattern_length = 1,
       .pattern = {0x5A}},
      {.key = irt_make_cstring_view("s2"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 64,
       .pattern_length = 2,
       .pattern = {0x34, 0x12}},
      {.key = irt_make_cstring_view("s4"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 16,
       .pattern_length = 4,
       .pattern = {0, 0, 0, 0x40}},
      {.key = irt_make_cstring_view("s8"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 40000,
       .pattern_length = 8,
       .pattern = {1, 2, 3, 4, 5, 6, 7, 8}},
      {.key = irt_make_cstring_view("s16"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 64,
       .pattern_length = 16,
       .pattern = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}},
      {.key = irt_make_cstring_view("zero8"),
       .storage = IRIO_ENTRY_STORAGE_SPLAT,
       .length = 32,
       .pattern_length = 8},
  };
  memcpy(entries, list, sizeof(list));
  *count = sizeof(list) / sizeof(list[0]);
  return entries;
}

static void write_irpa(const char* path, const irio_irpa_writer_entry_t* e,
                       size_t count) {
  FILE* file = fopen(path, "wb");
  assert_non_null(file);
  io_expect_ok(irio_irpa_write(e, count, file, path));
  fclose(file);
}

static int group_setup(void** state) {
  (void)state;
  io_make_temp_dir(g_dir, sizeof(g_dir));
  snprintf(g_model, sizeof(g_model), "%s/model.irpa", g_dir);
  size_t count = 0;
  const irio_irpa_writer_entry_t* entries = model_entries(&count);
  write_irpa(g_model, entries, count);
  // safetensors: "u" = 24 bytes 100..123 at an odd file offset.
  snprintf(g_tensors, sizeof(g_tensors), "%s/t.safetensors", g_dir);
  const char json[] = "{\"u\":{\"data_offsets\":[0,24]}}";
  uint8_t bytes[8 + sizeof(json) - 1 + 24];
  uint64_t json_length = sizeof(json) - 1;
  memcpy(bytes, &json_length, 8);
  memcpy(bytes + 8, json, json_length);
  for (int i = 0; i < 24; ++i) bytes[8 + json_length + i] = (uint8_t)(100 + i);
  io_write_file(g_tensors, bytes, sizeof(bytes));
  return 0;
}

static int group_teardown(void** state) {
  (void)state;
  io_remove_dir(g_dir);
  return 0;
}

//===----------------------------------------------------------------------===//
// Fixture
//===----------------------------------------------------------------------===//

// irt_counting_allocator_t is not thread-safe and local-task workers
// allocate and free concurrently: the counter is used under a lock.
typedef struct locked_counter_s {
  pthread_mutex_t mutex;
  irt_counting_allocator_t counter;
} locked_counter_t;

static void* locked_realloc(void* self, void* ptr, size_t size) {
  locked_counter_t* locked = self;
  irt_allocator_t inner = irt_counting_allocator(&locked->counter);
  pthread_mutex_lock(&locked->mutex);
  void* result = inner.vtable->realloc(inner.self, ptr, size);
  pthread_mutex_unlock(&locked->mutex);
  return result;
}

static void locked_free(void* self, void* ptr) {
  locked_counter_t* locked = self;
  irt_allocator_t inner = irt_counting_allocator(&locked->counter);
  pthread_mutex_lock(&locked->mutex);
  inner.vtable->free(inner.self, ptr);
  pthread_mutex_unlock(&locked->mutex);
}

static const irt_allocator_vtable_t locked_vtable = {locked_realloc,
                                                     locked_free};

typedef struct fixture_s {
  irhal_cpu_device_kind_t kind;
  locked_counter_t counter;
  irt_allocator_t allocator;
  size_t live_mappings;
  irvm_instance_t* instance;
  irhal_device_t* device;
  irio_parameter_index_t* index;
  irvm_module_t* module;
  irvm_stack_t stack;
} fixture_t;

static int fixture_setup(void** state) {
  fixture_t* f = calloc(1, sizeof(*f));
  f->kind = (irhal_cpu_device_kind_t)(uintptr_t)*state;
  pthread_mutex_init(&f->counter.mutex, NULL);
  irt_counting_allocator_init(&f->counter.counter, irt_allocator_system());
  f->allocator = (irt_allocator_t){&locked_vtable, &f->counter};
  f->live_mappings = irio_file_mapping_live_count();
  io_expect_ok(irvm_instance_create(f->allocator, &f->instance));
  irhal_cpu_device_options_t options = {f->kind, 3};
  io_expect_ok(irhal_cpu_device_create(&options, f->allocator, &f->device));
  // A writable copy of a small archive for scatter.
  snprintf(g_rw, sizeof(g_rw), "%s/rw.irpa", g_dir);
  irio_irpa_writer_entry_t rw = {.key = irt_make_cstring_view("w"),
                                 .length = 16,
                                 .data = "0123456789abcdef"};
  write_irpa(g_rw, &rw, 1);
  io_expect_ok(irio_parameter_index_create(f->allocator, &f->index));
  io_expect_ok(irio_parameter_index_add_file(
      f->index, irt_make_cstring_view("model"), g_model, IRIO_FILE_MODE_READ));
  io_expect_ok(irio_parameter_index_add_file(
      f->index, irt_make_cstring_view("st"), g_tensors, IRIO_FILE_MODE_READ));
  io_expect_ok(irio_parameter_index_add_file(
      f->index, irt_make_cstring_view("rw"), g_rw, IRIO_FILE_MODE_READ_WRITE));
  io_expect_ok(irmod_io_parameters_module_create(f->instance, f->index,
                                                 f->allocator, &f->module));
  irvm_stack_initialize(&f->stack, f->allocator, IRVM_STACK_DEFAULT_LIMIT);
  *state = f;
  return 0;
}

static int fixture_teardown(void** state) {
  fixture_t* f = *state;
  irvm_stack_deinitialize(&f->stack);
  irvm_module_release(f->module);
  irio_parameter_index_release(f->index);
  irhal_device_release(f->device);
  irvm_instance_destroy(f->instance);
  assert_int_equal(f->counter.counter.live_allocations, 0);
  assert_int_equal(irio_file_mapping_live_count(), f->live_mappings);
  pthread_mutex_destroy(&f->counter.mutex);
  free(f);
  return 0;
}

//===----------------------------------------------------------------------===//
// Calls
//===----------------------------------------------------------------------===//

// A batch: keys and spans {parameter_offset, buffer_offset, length}.
typedef struct batch_s {
  size_t count;
  const char* keys[KEY_COUNT_MAX];
  uint64_t spans[KEY_COUNT_MAX][3];
} batch_t;

static void batch_add(batch_t* batch, const char* key, uint64_t parameter,
                      uint64_t buffer, uint64_t length) {
  assert_true(batch->count < KEY_COUNT_MAX);
  batch->keys[batch->count] = key;
  batch->spans[batch->count][0] = parameter;
  batch->spans[batch->count][1] = buffer;
  batch->spans[batch->count][2] = length;
  ++batch->count;
}

static irvm_ref_t vm_bytes(fixture_t* f, const void* data, size_t size) {
  irvm_buffer_t* buffer = NULL;
  io_expect_ok(irvm_buffer_create(size, 0, f->allocator, &buffer));
  if (size) memcpy(buffer->data, data, size);
  return irvm_ref_wrap(buffer, irvm_buffer_type());
}

// The three vm.buffers of |batch|: [0] key table, [1] key data, [2] spans.
static void batch_buffers(fixture_t* f, const batch_t* batch,
                          irvm_ref_t* out_refs) {
  uint32_t table[KEY_COUNT_MAX][2];
  char data[KEY_COUNT_MAX * 16];
  size_t used = 0;
  for (size_t i = 0; i < batch->count; ++i) {
    size_t length = strlen(batch->keys[i]);
    table[i][0] = (uint32_t)used;
    table[i][1] = (uint32_t)length;
    memcpy(data + used, batch->keys[i], length);
    used += length;
  }
  out_refs[0] = vm_bytes(f, table, batch->count * 8);
  out_refs[1] = vm_bytes(f, data, used);
  out_refs[2] = vm_bytes(f, batch->spans, batch->count * 24);
}

static irvm_ref_t ref_of(void* object, const irvm_ref_type_t* type) {
  return object ? irvm_ref_wrap(object, type) : irvm_ref_null();
}

typedef struct call_s {
  _Alignas(16) uint8_t args[512];
  irvm_abi_cursor_t cursor;
  irvm_ref_t owned[8];  // released after the call
  size_t owned_count;
} call_t;

static void call_begin(call_t* call, fixture_t* f, irhal_fence_t* wait,
                       irhal_fence_t* signal) {
  memset(call, 0, sizeof(*call));
  call->cursor = irvm_abi_cursor(call->args);
  *irvm_abi_read_ref(&call->cursor) = ref_of(f->device, irhal_device_type());
  irvm_abi_write_i64(&call->cursor, -1);
  *irvm_abi_read_ref(&call->cursor) = ref_of(wait, irhal_fence_type());
  *irvm_abi_read_ref(&call->cursor) = ref_of(signal, irhal_fence_type());
}

static void call_ref(call_t* call, irvm_ref_t ref, bool owned) {
  *irvm_abi_read_ref(&call->cursor) = ref;
  if (owned) call->owned[call->owned_count++] = ref;
}

static void call_scope(call_t* call, fixture_t* f, const char* scope) {
  call_ref(call, scope ? vm_bytes(f, scope, strlen(scope)) : irvm_ref_null(),
           scope != NULL);
}

static void call_batch(call_t* call, fixture_t* f, const batch_t* batch) {
  irvm_ref_t refs[3];
  batch_buffers(f, batch, refs);
  for (int i = 0; i < 3; ++i) call_ref(call, refs[i], true);
}

static irt_status_t call_run(call_t* call, fixture_t* f, const char* name,
                             uint8_t* results) {
  uint32_t ordinal = 0;
  io_expect_ok(irvm_module_lookup_export(f->module, irt_make_cstring_view(name),
                                         &ordinal));
  irt_status_t status = f->module->vtable->call(f->module, NULL, ordinal,
                                                &f->stack, call->args, results);
  for (size_t i = 0; i < call->owned_count; ++i) {
    irvm_ref_release(&call->owned[i]);
  }
  return status;
}

// io_parameters.load of |batch| from |scope| with |usage|; on success
// *out_list holds the result.
static irt_status_t load(fixture_t* f, const char* scope, const batch_t* batch,
                         uint32_t usage, irhal_fence_t* wait,
                         irhal_fence_t* signal, irvm_list_t** out_list) {
  call_t call;
  call_begin(&call, f, wait, signal);
  call_scope(&call, f, scope);
  irvm_abi_write_i64(&call.cursor, -1);
  irvm_abi_write_i32(&call.cursor, MEMORY_TYPE);
  irvm_abi_write_i32(&call.cursor, (int32_t)usage);
  call_batch(&call, f, batch);
  _Alignas(16) uint8_t results[16] = {0};
  irt_status_t status = call_run(&call, f, "load", results);
  irvm_ref_t* result = (irvm_ref_t*)results;
  *out_list = NULL;
  if (irt_status_is_ok(status)) {
    *out_list = irvm_list_deref(result);
    assert_non_null(*out_list);
  } else {
    assert_null(result->ptr);
  }
  return status;
}

// gather into |target| (name "gather") or scatter from it ("scatter").
static irt_status_t transfer(fixture_t* f, const char* name, const char* scope,
                             irhal_buffer_t* buffer, const batch_t* batch,
                             irhal_fence_t* signal) {
  call_t call;
  call_begin(&call, f, NULL, signal);
  bool gather = strcmp(name, "gather") == 0;
  if (gather) call_scope(&call, f, scope);
  call_ref(&call, ref_of(buffer, irhal_buffer_type()), false);
  if (!gather) call_scope(&call, f, scope);
  call_batch(&call, f, batch);
  return call_run(&call, f, name, NULL);
}

static irhal_fence_t* new_fence(fixture_t* f) {
  irhal_fence_t* fence = NULL;
  io_expect_ok(irhal_fence_create_single(f->allocator, &fence));
  return fence;
}

static void await(irhal_fence_t* fence) {
  io_expect_ok(irhal_fence_wait(fence, INT64_MAX));
}

static const uint8_t* mapped(irhal_buffer_t* buffer) {
  void* ptr = NULL;
  io_expect_ok(irhal_buffer_map(buffer, IRHAL_MEMORY_ACCESS_READ, 0,
                                buffer->byte_length, &ptr));
  return ptr;
}

static irhal_buffer_t* list_buffer(irvm_list_t* list, uint32_t index) {
  irvm_ref_t ref = irvm_ref_null();
  io_expect_ok(irvm_list_get_ref(list, index, irhal_buffer_type(), &ref));
  irhal_buffer_t* buffer = irhal_buffer_deref(&ref);
  assert_non_null(buffer);
  irhal_buffer_release(buffer);  // the list keeps it alive
  return buffer;
}

// The bytes parameter |key| of model.irpa holds at [offset, offset + n).
static void expected_bytes(const char* key, uint64_t offset, size_t n,
                           uint8_t* out) {
  size_t count = 0;
  const irio_irpa_writer_entry_t* entries = model_entries(&count);
  for (size_t i = 0; i < count; ++i) {
    if (!irt_string_view_equal_cstring(entries[i].key, key)) continue;
    for (size_t b = 0; b < n; ++b) {
      out[b] =
          entries[i].storage == IRIO_ENTRY_STORAGE_SPLAT
              ? entries[i].pattern[(offset + b) % entries[i].pattern_length]
              : ((const uint8_t*)entries[i].data)[offset + b];
    }
    return;
  }
  fail_msg("no parameter '%s'", key);
}

//===----------------------------------------------------------------------===//
// Tests
//===----------------------------------------------------------------------===//

static void test_identity(void** state) {
  fixture_t* f = *state;
  assert_true(irt_string_view_equal_cstring(f->module->name, "io_parameters"));
  assert_int_equal(f->module->version, 0);
  const char* names[] = {"gather", "load", "scatter"};
  const char* cconvs[] = {"0rIrrrrrrr_v", "0rIrrrIiirrr_r", "0rIrrrrrrr_v"};
  assert_int_equal(f->module->export_count, 3);
  for (uint32_t i = 0; i < 3; ++i) {
    irvm_export_info_t info;
    io_expect_ok(f->module->vtable->export_info(f->module, i, &info));
    assert_true(irt_string_view_equal_cstring(info.name, names[i]));
    assert_true(
        irt_string_view_equal_cstring(info.calling_convention, cconvs[i]));
  }
}

static void test_load_imports_mapped_data(void** state) {
  fixture_t* f = *state;
  batch_t batch = {0};
  batch_add(&batch, "d64", 0, 0, 64);
  batch_add(&batch, "d64", 8, 0, 16);  // a 64-byte aligned address + 8
  irhal_fence_t* signal = new_fence(f);
  irvm_list_t* list = NULL;
  io_expect_ok(load(f, "model", &batch, USAGE_IMMUTABLE, NULL, signal, &list));
  await(signal);
  uint32_t size = 0;
  io_expect_ok(irvm_list_size(list, &size));
  assert_int_equal(size, 2);
  const irio_parameter_t* parameter = irio_parameter_index_find(
      f->index, irt_make_cstring_view("model"), irt_make_cstring_view("d64"));
  const uint8_t* file_bytes =
      irio_file_mapping_data(irio_parameter_index_archive(f->index, 0)) +
      parameter->entry.file_offset;
  // Zero-copy: the buffer is the mapped file.
  assert_ptr_equal(mapped(list_buffer(list, 0)), file_bytes);
  assert_memory_equal(mapped(list_buffer(list, 0)), g_d64, 64);
  // 8 bytes in is only 8-byte aligned: CPU devices refuse it, so it is
  // copied.
  assert_ptr_not_equal(mapped(list_buffer(list, 1)), file_bytes + 8);
  assert_memory_equal(mapped(list_buffer(list, 1)), g_d64 + 8, 16);
  // The imported buffer keeps the mapping alive past the module and index.
  irhal_buffer_t* imported = list_buffer(list, 0);
  irhal_buffer_retain(imported);
  irvm_list_release(list);
  irhal_fence_release(signal);
  irvm_module_release(f->module);
  irio_parameter_index_release(f->index);
  assert_int_equal(irio_file_mapping_live_count(), f->live_mappings + 1);
  assert_memory_equal(mapped(imported), g_d64, 64);
  irhal_buffer_release(imported);
  assert_int_equal(irio_file_mapping_live_count(), f->live_mappings);
  // Rebuild what the teardown releases.
  io_expect_ok(irio_parameter_index_create(f->allocator, &f->index));
  io_expect_ok(irmod_io_parameters_module_create(f->instance, NULL,
                                                 f->allocator, &f->module));
}

static void test_load_copies(void** state) {
  fixture_t* f = *state;
  // Mutable targets never alias the shared read-only mapping.
  batch_t batch = {0};
  batch_add(&batch, "d64", 0, 0, 64);
  batch_add(&batch, "odd", 1, 0, 4);
  batch_add(&batch, "", 0, 0, 4);  // the empty key is a key
  batch_add(&batch, "d64", 10, 0, 0);
  irhal_fence_t* signal = new_fence(f);
  irvm_list_t* list = NULL;
  io_expect_ok(load(f, "model", &batch, USAGE_MUTABLE, NULL, signal, &list));
  await(signal);
  const uint8_t* d64 = mapped(list_buffer(list, 0));
  assert_memory_equal(d64, g_d64, 64);
  const uint8_t* file_bytes =
      irio_file_mapping_data(irio_parameter_index_archive(f->index, 0));
  uint64_t file_size =
      irio_file_mapping_size(irio_parameter_index_archive(f->index, 0));
  assert_true(d64 < file_bytes || d64 >= file_bytes + file_size);
  assert_memory_equal(mapped(list_buffer(list, 1)), "dd!!", 4);
  assert_memory_equal(mapped(list_buffer(list, 2)), "anon", 4);
  assert_int_equal(list_buffer(list, 3)->byte_length, 0);
  irvm_list_release(list);
  irhal_fence_release(signal);

  // safetensors payloads are unaligned: copied even for immutable targets.
  batch_t tensors = {0};
  batch_add(&tensors, "u", 0, 0, 24);
  batch_add(&tensors, "u", 5, 0, 3);
  signal = new_fence(f);
  io_expect_ok(load(f, "st", &tensors, USAGE_IMMUTABLE, NULL, signal, &list));
  await(signal);
  const uint8_t* u = mapped(list_buffer(list, 0));
  for (int i = 0; i < 24; ++i) assert_int_equal(u[i], 100 + i);
  assert_memory_equal(mapped(list_buffer(list, 1)), "\x69\x6a\x6b", 3);
  irvm_list_release(list);
  irhal_fence_release(signal);
}

// Every splat at several phases (parameter offsets) and lengths, through
// load (buffer offset 0) and gather (odd and even target offsets).
static void test_splats(void** state) {
  fixture_t* f = *state;
  const char* keys[] = {"s1", "s2", "s4", "s8", "s16", "zero8"};
  const uint64_t lengths[] = {100, 64, 16, 40000, 64, 32};
  batch_t batch = {0};
  for (size_t k = 0; k < 6; ++k) {
    for (uint64_t phase = 0; phase < 3; ++phase) {
      batch_add(&batch, keys[k], phase, 0, lengths[k] - phase);
    }
  }
  irhal_fence_t* signal = new_fence(f);
  irvm_list_t* list = NULL;
  io_expect_ok(load(f, "model", &batch, USAGE_IMMUTABLE, NULL, signal, &list));
  await(signal);
  static uint8_t want[40000];
  for (size_t i = 0; i < batch.count; ++i) {
    irhal_buffer_t* buffer = list_buffer(list, (uint32_t)i);
    assert_int_equal(buffer->byte_length, batch.spans[i][2]);
    expected_bytes(batch.keys[i], batch.spans[i][0], batch.spans[i][2], want);
    assert_memory_equal(mapped(buffer), want, batch.spans[i][2]);
  }
  irvm_list_release(list);
  irhal_fence_release(signal);

  // gather at unaligned target offsets; the gaps stay zero.
  irhal_buffer_t* target = NULL;
  io_expect_ok(irhal_device_queue_alloca(f->device, -1, NULL, NULL, MEMORY_TYPE,
                                         USAGE_MUTABLE, 41000, &target));
  batch_t gather = {0};
  batch_add(&gather, "s4", 1, 1, 11);
  batch_add(&gather, "s2", 0, 13, 8);
  batch_add(&gather, "s8", 3, 100, 40000 - 3);
  batch_add(&gather, "d64", 2, 40200, 30);
  signal = new_fence(f);
  io_expect_ok(transfer(f, "gather", "model", target, &gather, signal));
  await(signal);
  const uint8_t* bytes = mapped(target);
  assert_int_equal(bytes[0], 0);
  assert_int_equal(bytes[12], 0);
  assert_int_equal(bytes[99], 0);
  assert_int_equal(bytes[40199], 0);
  for (size_t i = 0; i < gather.count; ++i) {
    expected_bytes(gather.keys[i], gather.spans[i][0], gather.spans[i][2],
                   want);
    assert_memory_equal(bytes + gather.spans[i][1], want, gather.spans[i][2]);
  }
  irhal_fence_release(signal);
  irhal_buffer_release(target);
}

// More entries than timelines, with a wait fence released later (local-task
// only: local-sync blocks the submitting thread on it).
static void test_ordering_and_large_batches(void** state) {
  fixture_t* f = *state;
  batch_t batch = {0};
  for (uint64_t i = 0; i < 40; ++i) {
    batch_add(&batch, i % 2 ? "d64" : "s8", i, 0, 24);
  }
  irhal_fence_t* wait = new_fence(f);
  irhal_fence_t* signal = new_fence(f);
  if (f->kind == IRHAL_CPU_DEVICE_LOCAL_SYNC)
    io_expect_ok(irhal_fence_signal(wait));
  irvm_list_t* list = NULL;
  io_expect_ok(load(f, "model", &batch, USAGE_MUTABLE, wait, signal, &list));
  if (f->kind == IRHAL_CPU_DEVICE_LOCAL_TASK) {
    // Nothing runs before the wait fence.
    io_expect_error(irhal_fence_query(signal), IRT_STATUS_DEFERRED, NULL);
    assert_int_equal(mapped(list_buffer(list, 0))[0], 0);
    io_expect_ok(irhal_fence_signal(wait));
  }
  await(signal);
  uint8_t want[24];
  for (size_t i = 0; i < batch.count; ++i) {
    expected_bytes(batch.keys[i], batch.spans[i][0], 24, want);
    assert_memory_equal(mapped(list_buffer(list, (uint32_t)i)), want, 24);
  }
  irvm_list_release(list);
  irhal_fence_release(signal);
  irhal_fence_release(wait);
}

static void test_empty_batch_signals(void** state) {
  fixture_t* f = *state;
  batch_t batch = {0};
  irhal_fence_t* signal = new_fence(f);
  irvm_list_t* list = NULL;
  io_expect_ok(load(f, "model", &batch, USAGE_IMMUTABLE, NULL, signal, &list));
  await(signal);
  uint32_t size = 1;
  io_expect_ok(irvm_list_size(list, &size));
  assert_int_equal(size, 0);
  irvm_list_release(list);
  irhal_fence_release(signal);
  // A null scope is the anonymous scope, which no archive serves here.
  batch_add(&batch, "d64", 0, 0, 1);
  io_expect_error(load(f, NULL, &batch, USAGE_IMMUTABLE, NULL, NULL, &list),
                  IRT_STATUS_NOT_FOUND, "handles scope ''");
}

static void test_scatter(void** state) {
  fixture_t* f = *state;
  irhal_buffer_t* source = NULL;
  io_expect_ok(irhal_device_queue_alloca(f->device, -1, NULL, NULL, MEMORY_TYPE,
                                         USAGE_MUTABLE, 8, &source));
  void* ptr = NULL;
  io_expect_ok(irhal_buffer_map(source, IRHAL_MEMORY_ACCESS_WRITE, 0, 8, &ptr));
  memcpy(ptr, "ABCDEFGH", 8);
  batch_t batch = {0};
  batch_add(&batch, "w", 2, 1, 5);  // "BCDEF" -> parameter bytes 2..6
  irhal_fence_t* signal = new_fence(f);
  io_expect_ok(transfer(f, "scatter", "rw", source, &batch, signal));
  await(signal);
  irhal_fence_release(signal);
  // The archive file changed.
  uint8_t* data = NULL;
  size_t size = 0;
  assert_true(ireed_test_read_file(g_rw, &data, &size));
  const irio_parameter_t* w = irio_parameter_index_find(
      f->index, irt_make_cstring_view("rw"), irt_make_cstring_view("w"));
  assert_memory_equal(data + w->entry.file_offset, "01BCDEF789abcdef", 16);
  free(data);
  // Read-only archives and splats refuse writes; the signal fence fails.
  signal = new_fence(f);
  io_expect_error(transfer(f, "scatter", "model", source, &batch, signal),
                  IRT_STATUS_NOT_FOUND, "parameter 'w' not found");
  io_expect_error(irhal_fence_wait(signal, INT64_MAX), IRT_STATUS_NOT_FOUND,
                  "parameter 'w'");
  irhal_fence_release(signal);
  batch_t read_only = {0};
  batch_add(&read_only, "d64", 0, 0, 8);
  io_expect_error(transfer(f, "scatter", "model", source, &read_only, NULL),
                  IRT_STATUS_PERMISSION_DENIED, "is open read-only");
  batch_t splat = {0};
  batch_add(&splat, "s4", 0, 0, 4);
  io_expect_error(transfer(f, "scatter", "model", source, &splat, NULL),
                  IRT_STATUS_FAILED_PRECONDITION, "splat parameters are read");
  irhal_buffer_release(source);
}

static void test_errors_fail_the_signal_fence(void** state) {
  fixture_t* f = *state;
  struct {
    const char* scope;
    const char* key;
    uint64_t offset, length;
    irt_status_code_t code;
    const char* part;
  } kCases[] = {
      {"bias", "offset", 0, 4, IRT_STATUS_NOT_FOUND,
       "no provider registered that handles scope 'bias'"},
      {"model", "weight", 0, 4, IRT_STATUS_NOT_FOUND,
       "parameter 'weight' not found in scope 'model'"},
      {"model", "odd", 1, 5, IRT_STATUS_OUT_OF_RANGE,
       "span [1, +5) exceeds the 5-byte parameter; io_parameters.load entry 1 "
       "(key 'odd' in scope 'model')"},
      {"model", "s4", UINT64_MAX, 2, IRT_STATUS_OUT_OF_RANGE,
       "exceeds the 16-byte parameter"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    batch_t batch = {0};
    batch_add(&batch, "d64", 0, 0, 64);  // issued before the failure
    batch_add(&batch, kCases[i].key, kCases[i].offset, 0, kCases[i].length);
    irhal_fence_t* signal = new_fence(f);
    irvm_list_t* list = NULL;
    io_expect_error(
        load(f, kCases[i].scope, &batch, USAGE_MUTABLE, NULL, signal, &list),
        kCases[i].code, kCases[i].part);
    io_expect_error(irhal_fence_wait(signal, INT64_MAX), kCases[i].code,
                    kCases[i].part);
    irhal_fence_release(signal);
  }
}

// Malformed batches and arguments.
static void test_bad_arguments(void** state) {
  fixture_t* f = *state;
  batch_t batch = {0};
  batch_add(&batch, "d64", 0, 0, 8);
  irvm_ref_t refs[3];
  _Alignas(16) uint8_t results[16];

  // spans not a multiple of 24; key table too short; a key past the data.
  const struct {
    size_t table_bytes, data_bytes, span_bytes;
    uint32_t key_offset;
    irt_status_code_t code;
    const char* part;
  } kCases[] = {
      {8, 3, 23, 0, IRT_STATUS_INVALID_ARGUMENT, "not a whole number"},
      {7, 3, 24, 0, IRT_STATUS_INVALID_ARGUMENT, "key table of 7 bytes"},
      {8, 3, 24, 1, IRT_STATUS_OUT_OF_RANGE, "key [1, +3) exceeds the 3"},
      {8, 3, 24, 4, IRT_STATUS_OUT_OF_RANGE, "key [4, +3)"},
  };
  for (size_t i = 0; i < sizeof(kCases) / sizeof(kCases[0]); ++i) {
    uint32_t table[2] = {kCases[i].key_offset, 3};
    call_t call;
    irhal_fence_t* signal = new_fence(f);
    call_begin(&call, f, NULL, signal);
    call_scope(&call, f, "model");
    irvm_abi_write_i64(&call.cursor, -1);
    irvm_abi_write_i32(&call.cursor, MEMORY_TYPE);
    irvm_abi_write_i32(&call.cursor, USAGE_MUTABLE);
    call_ref(&call, vm_bytes(f, table, kCases[i].table_bytes), true);
    call_ref(&call, vm_bytes(f, "d64", kCases[i].data_bytes), true);
    call_ref(&call, vm_bytes(f, batch.spans, kCases[i].span_bytes), true);
    memset(results, 0, sizeof(results));
    io_expect_error(call_run(&call, f, "load", results), kCases[i].code,
                    kCases[i].part);
    io_expect_error(irhal_fence_query(signal), kCases[i].code, NULL);
    irhal_fence_release(signal);
  }

  // Wrong ref types name the argument.
  call_t call;
  call_begin(&call, f, NULL, NULL);
  call_scope(&call, f, "model");
  call_ref(&call, ref_of(f->device, irhal_device_type()), false);
  batch_buffers(f, &batch, refs);
  for (int i = 0; i < 3; ++i) call_ref(&call, refs[i], true);
  io_expect_error(call_run(&call, f, "gather", NULL),
                  IRT_STATUS_INVALID_ARGUMENT,
                  "argument 'target_buffer' must be a hal.buffer, got "
                  "hal.device");
  call_begin(&call, f, NULL, NULL);
  *irvm_abi_read_ref(&call.cursor) = irvm_ref_null();  // no key table
  call.cursor = irvm_abi_cursor(call.args);
  *irvm_abi_read_ref(&call.cursor) = irvm_ref_null();  // no device
  io_expect_error(call_run(&call, f, "scatter", NULL),
                  IRT_STATUS_INVALID_ARGUMENT,
                  "io_parameters.scatter: argument 'device' must be a "
                  "hal.device, got null");
  // A gather target too small for a span: the HAL's range check.
  irhal_buffer_t* target = NULL;
  io_expect_ok(irhal_device_queue_alloca(f->device, -1, NULL, NULL, MEMORY_TYPE,
                                         USAGE_MUTABLE, 4, &target));
  io_expect_error(transfer(f, "gather", "model", target, &batch, NULL),
                  IRT_STATUS_OUT_OF_RANGE, "io_parameters.gather entry 0");
  irhal_buffer_release(target);
}

static void test_module_from_flags(void** state) {
  fixture_t* f = *state;
  irvm_module_t* module = NULL;
  char flag[400];
  snprintf(flag, sizeof(flag), "model=%s/none.irpa", g_dir);
  const char* flags[] = {flag};
  io_expect_error(irmod_io_parameters_module_create_from_flags(
                      f->instance, flags, 1, f->allocator, &module),
                  IRT_STATUS_NOT_FOUND, "--parameters=model=");
  assert_null(module);
  snprintf(flag, sizeof(flag), "x=%s", g_model);
  io_expect_ok(irmod_io_parameters_module_create_from_flags(
      f->instance, flags, 1, f->allocator, &module));
  irvm_module_release(module);
  // Allocation failures while creating the module leak nothing.
  for (size_t fail_after = 0;; ++fail_after) {
    irt_counting_allocator_t counter;
    irt_counting_allocator_init(&counter, irt_allocator_system());
    counter.fail_after = fail_after;
    irt_status_t status = irmod_io_parameters_module_create(
        f->instance, f->index, irt_counting_allocator(&counter), &module);
    bool done = irt_status_is_ok(status);
    if (done) irvm_module_release(module);
    irt_status_free(status);
    assert_int_equal(counter.live_allocations, 0);
    if (done) break;
  }
}

#define DEVICE_TESTS(kind)                                                     \
  cmocka_unit_test_prestate_setup_teardown(test_identity, fixture_setup,       \
                                           fixture_teardown, (void*)(kind)),   \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_load_imports_mapped_data, fixture_setup, fixture_teardown,      \
          (void*)(kind)),                                                      \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_load_copies, fixture_setup, fixture_teardown, (void*)(kind)),   \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_splats, fixture_setup, fixture_teardown, (void*)(kind)),        \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_ordering_and_large_batches, fixture_setup, fixture_teardown,    \
          (void*)(kind)),                                                      \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_empty_batch_signals, fixture_setup, fixture_teardown,           \
          (void*)(kind)),                                                      \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_scatter, fixture_setup, fixture_teardown, (void*)(kind)),       \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_errors_fail_the_signal_fence, fixture_setup, fixture_teardown,  \
          (void*)(kind)),                                                      \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_bad_arguments, fixture_setup, fixture_teardown, (void*)(kind)), \
      cmocka_unit_test_prestate_setup_teardown(                                \
          test_module_from_flags, fixture_setup, fixture_teardown,             \
          (void*)(kind))

int main(void) {
  const struct CMUnitTest tests[] = {
      DEVICE_TESTS(IRHAL_CPU_DEVICE_LOCAL_SYNC),
      DEVICE_TESTS(IRHAL_CPU_DEVICE_LOCAL_TASK),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
