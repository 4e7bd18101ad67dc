// CPU kernels through the HAL against plain in-process execution: one
// kernel (bench_kernel.c, an embedded ELF) dispatched by a command buffer on
// local-sync and local-task, and the same machine code called directly by a
// C loop over the workgroups (the ELF loaded here, its export called with a
// dispatch state filled in by hand).
//
// Two shapes: many tiny workgroups (16 elements each: what dispatching a
// workgroup costs) and a few large ones (64 Ki elements each: tiling across
// local-task's workers). Targets: the HAL is no slower than the direct loop
// on the large shape (within 10%, the noise of a shared machine), and on
// the tiny shape dispatching costs at most 100 ns per workgroup beyond the
// direct loop (command buffer, submission and fence included).
//
//   bench_compute KERNEL_ELF ELF_FORMAT
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hal/api.h"
#include "hal/cpu/cpu_device.h"
#include "hal/cpu/elf_loader.h"
#include "hal/cpu/executable_library.h"
#include "runtime/session/tensor.h"
#include "tests/bench/bench_support.h"

#define LARGE_TARGET 1.10
#define OVERHEAD_TARGET_NS 100.0

typedef struct shape_s {
  const char* label;
  uint32_t elements;
  uint32_t tile;
  uint32_t repetitions;  // per timed run
} shape_t;

static const shape_t kShapes[] = {
    {"tiny workgroups", 16 * 1024, 16, 200},
    {"large workgroups", 4 * 1024 * 1024, 64 * 1024, 10},
};

typedef struct buffers_s {
  float* in;
  float* out;
  uint32_t elements;
} buffers_t;

static void* aligned_zeroed(size_t size) {
  void* p = NULL;
  if (posix_memalign(&p, 64, size) != 0) exit(1);
  memset(p, 0, size);
  return p;
}

//===----------------------------------------------------------------------===//
// Direct
//===----------------------------------------------------------------------===//

// The export's function pointer from the ELF loaded in this process.
static irhal_executable_dispatch_v0_t load_direct(const uint8_t* elf,
                                                  size_t size,
                                                  irhal_elf_module_t** out) {
  BENCH_CHECK(
      irhal_elf_module_load(irt_allocator_system(), elf, size, NULL, out));
  void* query = NULL;
  BENCH_CHECK(irhal_elf_module_lookup(*out, "iree_hal_executable_library_query",
                                      &query));
  irhal_executable_environment_v0_t environment;
  memset(&environment, 0, sizeof(environment));
  typedef const irhal_executable_library_header_t** (*query_fn_t)(
      uint32_t, const irhal_executable_environment_v0_t*);
  query_fn_t query_fn;
  memcpy(&query_fn, &query, sizeof(query_fn));  // ISO C: no direct cast
  const irhal_executable_library_header_t** header =
      query_fn(IRHAL_EXECUTABLE_LIBRARY_VERSION_0_6, &environment);
  if (!header) {
    fprintf(stderr, "bench_compute: the kernel library refused the query\n");
    exit(1);
  }
  const irhal_executable_library_v0_t* library =
      (const irhal_executable_library_v0_t*)header;
  return library->exports.ptrs[0];
}

static double direct_seconds(irhal_executable_dispatch_v0_t fn,
                             const shape_t* shape, buffers_t* b) {
  uint32_t count = shape->elements / shape->tile;
  uint32_t constants[1] = {shape->tile};
  void* ptrs[2] = {b->in, b->out};
  size_t lengths[2] = {(size_t)shape->elements * 4,
                       (size_t)shape->elements * 4};
  irhal_executable_environment_v0_t environment;
  memset(&environment, 0, sizeof(environment));
  irhal_executable_dispatch_state_v0_t dispatch = {
      .workgroup_size_x = 1,
      .workgroup_size_y = 1,
      .workgroup_size_z = 1,
      .constant_count = 1,
      .workgroup_count_x = count,
      .workgroup_count_y = 1,
      .workgroup_count_z = 1,
      .max_concurrency = 1,
      .binding_count = 2,
      .constants = constants,
      .binding_ptrs = ptrs,
      .binding_lengths = lengths,
  };
  irhal_executable_workgroup_state_v0_t workgroup;
  memset(&workgroup, 0, sizeof(workgroup));
  uint64_t start = bench_now_ns();
  for (uint32_t r = 0; r < shape->repetitions; ++r) {
    for (uint32_t x = 0; x < count; ++x) {
      workgroup.workgroup_id_x = x;
      if (fn(&environment, &dispatch, &workgroup) != 0) exit(1);
    }
  }
  return (double)(bench_now_ns() - start) * 1e-9 / shape->repetitions;
}

//===----------------------------------------------------------------------===//
// Through the HAL
//===----------------------------------------------------------------------===//

typedef struct hal_run_s {
  irhal_device_t* device;
  irhal_command_buffer_t* cb;
  irhal_buffer_t* in;
  irhal_buffer_t* out;
} hal_run_t;

static void hal_prepare(hal_run_t* run, const char* device_name,
                        const char* format, const uint8_t* elf, size_t size,
                        const shape_t* shape, buffers_t* b) {
  irt_allocator_t allocator = irt_allocator_system();
  BENCH_CHECK(irhal_cpu_device_create_by_name(
      irt_make_cstring_view(device_name), 0, allocator, &run->device));
  irhal_executable_t* executable = NULL;
  BENCH_CHECK(run->device->vtable->create_executable(
      run->device, irt_make_cstring_view(format), elf, size, NULL, NULL, 0,
      &executable));
  bool imported = false;
  size_t length = (size_t)shape->elements * 4;
  BENCH_CHECK(irsess_buffer_import(run->device, b->in, length,
                                   (irhal_release_callback_t){0}, &run->in,
                                   &imported));
  BENCH_CHECK(irsess_buffer_import(run->device, b->out, length,
                                   (irhal_release_callback_t){0}, &run->out,
                                   &imported));
  if (!imported) {
    fprintf(stderr, "bench_compute: %s copied the buffers\n", device_name);
    exit(1);
  }
  BENCH_CHECK(irhal_command_buffer_create(0, IRHAL_COMMAND_CATEGORY_DISPATCH, 0,
                                          allocator, &run->cb));
  const uint32_t constants[1] = {shape->tile};
  irhal_buffer_ref_t bindings[2] = {{run->in, 0, 0, IRHAL_WHOLE_LENGTH},
                                    {run->out, 0, 0, IRHAL_WHOLE_LENGTH}};
  irhal_command_t dispatch = {.kind = IRHAL_COMMAND_DISPATCH};
  dispatch.dispatch.executable = executable;
  dispatch.dispatch.workgroup_count[0] = shape->elements / shape->tile;
  dispatch.dispatch.workgroup_count[1] = 1;
  dispatch.dispatch.workgroup_count[2] = 1;
  dispatch.dispatch.constant_count = 1;
  dispatch.dispatch.constants = constants;
  dispatch.dispatch.binding_count = 2;
  dispatch.dispatch.bindings = bindings;
  BENCH_CHECK(irhal_command_buffer_dispatch(run->cb, &dispatch));
  BENCH_CHECK(irhal_command_buffer_finalize(run->cb));
  irhal_executable_release(executable);  // the command buffer retains it
}

static void hal_release(hal_run_t* run) {
  irhal_command_buffer_release(run->cb);
  irhal_buffer_release(run->in);
  irhal_buffer_release(run->out);
  irhal_device_release(run->device);
}

static double hal_seconds(hal_run_t* run, const shape_t* shape) {
  irt_allocator_t allocator = irt_allocator_system();
  uint64_t start = bench_now_ns();
  for (uint32_t r = 0; r < shape->repetitions; ++r) {
    irhal_fence_t* fence = NULL;
    BENCH_CHECK(irhal_fence_create_single(allocator, &fence));
    BENCH_CHECK(irhal_device_queue_execute(run->device, (uint64_t)-1, NULL,
                                           fence, run->cb, NULL));
    BENCH_CHECK(irhal_fence_wait(fence, INT64_MAX));
    irhal_fence_release(fence);
  }
  return (double)(bench_now_ns() - start) * 1e-9 / shape->repetitions;
}

//===----------------------------------------------------------------------===//
// Main
//===----------------------------------------------------------------------===//

static bool read_file(const char* path, uint8_t** out_data, size_t* out_size) {
  FILE* file = fopen(path, "rb");
  if (!file) return false;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  *out_data = malloc(size > 0 ? (size_t)size : 1);
  bool ok = *out_data && size > 0 &&
            fread(*out_data, 1, (size_t)size, file) == (size_t)size;
  fclose(file);
  *out_size = (size_t)size;
  return ok;
}

static bool check_output(const buffers_t* b) {
  for (uint32_t i = 0; i < b->elements; i += 997) {
    if (b->out[i] != b->in[i] * 3.0f + 1.0f) return false;
  }
  return true;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: bench_compute KERNEL_ELF ELF_FORMAT\n");
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint8_t* elf = NULL;
  size_t elf_size = 0;
  if (!read_file(argv[1], &elf, &elf_size)) {
    fprintf(stderr, "bench_compute: cannot read %s\n", argv[1]);
    return 1;
  }
  irhal_elf_module_t* module = NULL;
  irhal_executable_dispatch_v0_t fn = load_direct(elf, elf_size, &module);
  printf("compute: out = in * 3 + 1 over f32 tiles, median of %d runs\n",
         BENCH_RUNS);
  bool ok = true;
  static const char* kDevices[] = {"local-sync", "local-task"};
  for (size_t s = 0; s < sizeof(kShapes) / sizeof(kShapes[0]); ++s) {
    const shape_t* shape = &kShapes[s];
    uint32_t workgroups = shape->elements / shape->tile;
    buffers_t b = {aligned_zeroed((size_t)shape->elements * 4),
                   aligned_zeroed((size_t)shape->elements * 4),
                   shape->elements};
    for (uint32_t i = 0; i < shape->elements; ++i) b.in[i] = (float)(i % 1000);
    // Correct results first, then the runs interleaved (direct, local-sync,
    // local-task, again), so that whatever else the machine is doing
    // weighs on all three alike.
    hal_run_t runs[2];
    bool correct[2];
    for (size_t d = 0; d < 2; ++d) {
      hal_prepare(&runs[d], kDevices[d], argv[2], elf, elf_size, shape, &b);
      memset(b.out, 0, (size_t)shape->elements * 4);
      hal_seconds(&runs[d], shape);  // also the warm-up
      correct[d] = check_output(&b);
    }
    direct_seconds(fn, shape, &b);  // warm-up
    double direct_times[BENCH_RUNS], hal_times[2][BENCH_RUNS];
    for (int r = 0; r < BENCH_RUNS; ++r) {
      direct_times[r] = direct_seconds(fn, shape, &b);
      for (size_t d = 0; d < 2; ++d)
        hal_times[d][r] = hal_seconds(&runs[d], shape);
    }
    double direct = bench_median(direct_times, BENCH_RUNS);
    printf(
        "compute %-16s %7u workgroups x %6u elements: direct C loop "
        "%9.1f us\n",
        shape->label, workgroups, shape->tile, direct * 1e6);
    for (size_t d = 0; d < 2; ++d) {
      hal_release(&runs[d]);
      double hal = bench_median(hal_times[d], BENCH_RUNS);
      double ratio = hal / direct;
      double overhead_ns = (hal - direct) * 1e9 / workgroups;
      printf(
          "compute %-16s %-10s %9.1f us (%.2fx direct; %+.0f ns per "
          "workgroup)%s\n",
          shape->label, kDevices[d], hal * 1e6, ratio, overhead_ns,
          correct[d] ? "" : " WRONG RESULTS");
      ok &= correct[d];
      if (s == 0) {
        ok &= bench_target(correct[d] && overhead_ns <= OVERHEAD_TARGET_NS,
                           "compute dispatch overhead on %s %.0f ns per "
                           "workgroup <= %.0f ns",
                           kDevices[d], overhead_ns, OVERHEAD_TARGET_NS);
      } else {
        ok &= bench_target(correct[d] && ratio <= LARGE_TARGET,
                           "compute %s on %s no slower than the direct loop "
                           "(%.2fx <= %.2fx)",
                           shape->label, kDevices[d], ratio, LARGE_TARGET);
      }
    }
    free(b.in);
    free(b.out);
  }
  irhal_elf_module_unload(module);
  free(elf);
  return ok ? 0 : 1;
}
