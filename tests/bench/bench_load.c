// Loading a model whose parameters are a 1 GiB IRPA archive on the CPU
// (local-task): the parameter is imported from the archive's mapping, so a
// load costs the entry table and the module, never the gigabyte. Reports
// the time and the resident memory a load adds (VmRSS), and what a second
// model on the same archive adds (the mapping is shared: about nothing).
// Targets: first model <= 20 ms and <= 16 MiB; second <= 20 ms and <= 1 MiB.
//
// The archive is written at run time with the IRPA writer into $TMPDIR (or
// /tmp) as a sparse file: zero blocks become holes, so making it costs no
// gigabyte of disk either; the reader maps it like any other archive.
//
//   bench_load [MIB]   (parameter size, default 1024)
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime/io/irpa_writer.h"
#include "runtime/io/parameter_index.h"
#include "runtime/session/model.h"
#include "tests/bench/bench_support.h"
#include "tests/hal_staging/params_module.h"

#define MIB ((uint64_t)1 << 20)
#define LOAD_TIME_TARGET_MS 20.0
#define FIRST_RSS_TARGET (16 * MIB)
#define SECOND_RSS_TARGET (1 * MIB)

static char g_dir[512];
static char g_irpa_path[600];
static char g_vmfb_path[600];

static void cleanup(void) {
  if (g_irpa_path[0]) unlink(g_irpa_path);
  if (g_vmfb_path[0]) unlink(g_vmfb_path);
  if (g_dir[0]) rmdir(g_dir);
}

//===----------------------------------------------------------------------===//
// A sparse FILE*: zero blocks are skipped (holes), the rest written.
//===----------------------------------------------------------------------===//

typedef struct sparse_file_s {
  int fd;
  off_t offset;
} sparse_file_t;

static bool all_zero(const char* bytes, size_t size) {
  static const char kZeros[4096];
  return memcmp(bytes, kZeros, size) == 0;
}

static ssize_t sparse_write(void* cookie, const char* buffer, size_t size) {
  sparse_file_t* file = cookie;
  enum { kBlock = 4096 };
  for (size_t done = 0; done < size;) {
    size_t n = size - done < kBlock ? size - done : kBlock;
    if (!all_zero(buffer + done, n) &&
        pwrite(file->fd, buffer + done, n, file->offset) != (ssize_t)n) {
      return -1;
    }
    file->offset += (off_t)n;
    done += n;
  }
  return (ssize_t)size;
}

static int sparse_close(void* cookie) {
  sparse_file_t* file = cookie;
  int result = ftruncate(file->fd, file->offset);
  result |= close(file->fd);
  free(file);
  return result;
}

static bool write_archive(uint64_t length) {
  sparse_file_t* cookie = malloc(sizeof(*cookie));
  if (!cookie) return false;
  cookie->fd =
      open(g_irpa_path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  cookie->offset = 0;
  if (cookie->fd < 0) {
    free(cookie);
    return false;
  }
  FILE* file = fopencookie(
      cookie, "w",
      (cookie_io_functions_t){.write = sparse_write, .close = sparse_close});
  if (!file) {
    close(cookie->fd);
    free(cookie);
    return false;
  }
  // Zero pages of an untouched anonymous mapping: read, never resident.
  void* zeros = mmap(NULL, length, PROT_READ,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  bool ok = zeros != MAP_FAILED;
  if (ok) {
    // Huge zero pages where the kernel has them: 512x fewer faults.
    madvise(zeros, length, MADV_HUGEPAGE);
    irio_irpa_writer_entry_t entry = {
        .key = irt_make_cstring_view("weight"),
        .storage = IRIO_ENTRY_STORAGE_FILE,
        .length = length,
        .data = zeros,
    };
    irt_status_t status = irio_irpa_write(&entry, 1, file, g_irpa_path);
    ok = irt_status_is_ok(status);
    if (!ok) bench_check(status, "irio_irpa_write");
    munmap(zeros, length);
  }
  return fclose(file) == 0 && ok;
}

static bool write_module(uint64_t length) {
  irt_allocator_t allocator = irt_allocator_system();
  uint8_t* data = NULL;
  size_t size = 0;
  BENCH_CHECK(params_module_build(allocator, length, &data, &size));
  FILE* file = fopen(g_vmfb_path, "wb");
  bool ok = file && fwrite(data, 1, size, file) == size;
  if (file) ok &= fclose(file) == 0;
  irt_allocator_free(allocator, data);
  return ok;
}

//===----------------------------------------------------------------------===//
// Loads
//===----------------------------------------------------------------------===//

typedef struct load_s {
  double ms;
  int64_t rss_delta;
} load_t;

// A model over the archive: its own parameter index (the archive's mapping
// is process-wide) and the builder-made module whose __init loads the
// parameter.
static irsess_model_t* load_model(irsess_runtime_t* runtime, load_t* out) {
  uint64_t rss = bench_rss_bytes();
  uint64_t start = bench_now_ns();
  irio_parameter_index_t* index = NULL;
  BENCH_CHECK(irio_parameter_index_create(irt_allocator_system(), &index));
  BENCH_CHECK(irio_parameter_index_add_file(
      index, irt_make_cstring_view("model"), g_irpa_path, IRIO_FILE_MODE_READ));
  const char* paths[] = {g_vmfb_path};
  irsess_model_options_t options = {.device = "local-task",
                                    .module_paths = paths,
                                    .module_count = 1,
                                    .parameters = index};
  irsess_model_t* model = NULL;
  BENCH_CHECK(
      irsess_model_load(runtime, &options, irt_allocator_system(), &model));
  irio_parameter_index_release(index);  // the model keeps it
  out->ms = (double)(bench_now_ns() - start) * 1e-6;
  out->rss_delta = (int64_t)bench_rss_bytes() - (int64_t)rss;
  return model;
}

// Reads 4 bytes of the loaded parameter back (the archive is all zeros).
static bool probe_model(irsess_model_t* model, uint64_t offset) {
  const irsess_function_t* probe = NULL;
  BENCH_CHECK(irsess_model_find_function(model, irt_make_cstring_view("probe"),
                                         &probe));
  irvm_variant_t arg =
      irvm_variant_from_value(irvm_value_make_i64((int64_t)offset));
  irvm_variant_t result;
  size_t result_count = 0;
  BENCH_CHECK(irsess_model_invoke(model, probe, NULL, &arg, 1, &result, 1,
                                  &result_count));
  return result_count == 1 && result.value.i32 == 0;
}

static double as_mib(double bytes) { return bytes / (double)MIB; }

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
  if (mib == 0) mib = 1;
  uint64_t length = mib * MIB;
  const char* base = getenv("TMPDIR");
  snprintf(g_dir, sizeof(g_dir), "%s/ireed-bench-load-XXXXXX",
           base && *base ? base : "/tmp");
  if (!mkdtemp(g_dir)) {
    fprintf(stderr, "bench_load: cannot make a temporary directory\n");
    return 77;
  }
  atexit(cleanup);
  snprintf(g_irpa_path, sizeof(g_irpa_path), "%s/weights.irpa", g_dir);
  snprintf(g_vmfb_path, sizeof(g_vmfb_path), "%s/params.vmfb", g_dir);
  uint64_t start = bench_now_ns();
  if (!write_archive(length) || !write_module(length)) {
    fprintf(stderr, "bench_load: cannot write %s: %s\n", g_dir,
            strerror(errno));
    return 1;
  }
  printf("load: %" PRIu64
         " MiB parameter, sparse IRPA written in %.0f ms; "
         "local-task, median of %d runs\n",
         mib, (double)(bench_now_ns() - start) * 1e-6, BENCH_RUNS);

  irsess_runtime_t* runtime = NULL;
  BENCH_CHECK(irsess_runtime_create(irt_allocator_system(), &runtime));
  // The device is the daemon's long before any model: create it first.
  irhal_device_t* device = NULL;
  BENCH_CHECK(irsess_runtime_device(
      runtime, irt_make_cstring_view("local-task"), &device));
  irhal_device_release(device);
  double first_ms[BENCH_RUNS], second_ms[BENCH_RUNS];
  double first_rss[BENCH_RUNS], second_rss[BENCH_RUNS];
  for (int run = 0; run < BENCH_RUNS; ++run) {
    load_t first, second;
    irsess_model_t* a = load_model(runtime, &first);
    irsess_model_t* b = load_model(runtime, &second);
    first_ms[run] = first.ms;
    second_ms[run] = second.ms;
    first_rss[run] = (double)first.rss_delta;
    second_rss[run] = (double)second.rss_delta;
    if (run == 0 && !(probe_model(a, 0) && probe_model(b, length - 4))) {
      fprintf(stderr, "bench_load: the parameter does not read back\n");
      return 1;
    }
    irsess_model_release(b);
    irsess_model_release(a);
  }
  irsess_runtime_destroy(runtime);
  double t1 = bench_median(first_ms, BENCH_RUNS);
  double t2 = bench_median(second_ms, BENCH_RUNS);
  double r1 = bench_median(first_rss, BENCH_RUNS);
  double r2 = bench_median(second_rss, BENCH_RUNS);
  printf("load: first model  %7.2f ms, RSS %+8.2f MiB\n", t1, as_mib(r1));
  printf("load: second model %7.2f ms, RSS %+8.2f MiB (same archive)\n", t2,
         as_mib(r2));
  bool ok = bench_target(t1 <= LOAD_TIME_TARGET_MS && r1 <= FIRST_RSS_TARGET,
                         "load %" PRIu64
                         " MiB model %.2f ms <= %.0f ms, RSS %+.2f MiB <= "
                         "%.0f MiB",
                         mib, t1, LOAD_TIME_TARGET_MS, as_mib(r1),
                         as_mib(FIRST_RSS_TARGET));
  ok &= bench_target(t2 <= LOAD_TIME_TARGET_MS && r2 <= SECOND_RSS_TARGET,
                     "load second model on the same archive %.2f ms, RSS "
                     "%+.2f MiB <= %.0f MiB",
                     t2, as_mib(r2), as_mib(SECOND_RSS_TARGET));
  return ok ? 0 : 1;
}
