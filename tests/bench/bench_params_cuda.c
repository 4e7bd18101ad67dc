// Constant streaming into a CUDA device (scripts/bench params
// --device=cuda): a 1 GiB archive file streamed into device memory through
// the HAL's bounded staging ring of pinned memory (hal/file_transfer.h; or
// cuFile when libcufile is present and the file is an fd file), against the
// pinned host-to-device copy bandwidth measured in the same run.
//
//   bench_params_cuda [MIB]   (archive size, default 1024)
//
// PASS: streaming >= 90% of the pinned H2D bandwidth with peak staging
// <= 64 MiB and the bytes intact. Exits 77 without a CUDA device.
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "hal/api.h"
#include "hal/cuda/cuda_device.h"
#include "hal/file_transfer.h"
#include "tests/bench/bench_support.h"

#define MIB ((uint64_t)1 << 20)
#define RING_LIMIT (64 * MIB)

static char g_path[256];
static void cleanup(void) {
  if (g_path[0]) unlink(g_path);
}

// Seconds of the median of BENCH_RUNS runs -> GB/s for |size| bytes.
static double gbps(uint64_t size, double* seconds) {
  return (double)size / bench_median(seconds, BENCH_RUNS) / 1e9;
}

static uint32_t pattern(uint64_t index) {
  uint64_t x = index * 0x9E3779B97F4A7C15ull;
  return (uint32_t)(x ^ (x >> 29));
}

static irhal_fence_t* new_fence(void) {
  irhal_fence_t* fence = NULL;
  BENCH_CHECK(irhal_fence_create_single(irt_allocator_system(), &fence));
  return fence;
}

static void wait_release(irhal_fence_t* fence) {
  BENCH_CHECK(irhal_fence_wait(fence, INT64_MAX));
  irhal_fence_release(fence);
}

// Pinned H2D: 64 MiB of pinned memory copied over the whole target.
static double bench_pinned_h2d(irhal_device_t* device, irhal_buffer_t* target,
                               uint64_t size) {
  irhal_buffer_t* pinned = NULL;
  BENCH_CHECK(device->vtable->allocate_buffer(
      device, IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
      IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING, RING_LIMIT,
      &pinned));
  double seconds[BENCH_RUNS];
  for (int run = 0; run < BENCH_RUNS; ++run) {
    irhal_fence_t* done = new_fence();
    uint64_t start = bench_now_ns();
    for (uint64_t offset = 0; offset < size; offset += RING_LIMIT) {
      uint64_t length = size - offset < RING_LIMIT ? size - offset : RING_LIMIT;
      bool last = offset + length >= size;
      BENCH_CHECK(irhal_device_queue_copy(device, UINT64_MAX, NULL,
                                          last ? done : NULL, pinned, 0, target,
                                          offset, length));
    }
    wait_release(done);
    seconds[run] = (double)(bench_now_ns() - start) * 1e-9;
  }
  irhal_buffer_release(pinned);
  return gbps(size, seconds);
}

// Streams the file into |target| RUNS times; GB/s of the median run.
static double bench_stream(irhal_device_t* device, irhal_file_t* file,
                           irhal_buffer_t* target, uint64_t size,
                           const irhal_staging_options_t* options) {
  double seconds[BENCH_RUNS];
  for (int run = 0; run < BENCH_RUNS; ++run) {
    irhal_fence_t* done = new_fence();
    uint64_t start = bench_now_ns();
    BENCH_CHECK(irhal_file_transfer_read(device, UINT64_MAX, NULL, done, file,
                                         0, target, 0, size, options));
    wait_release(done);
    seconds[run] = (double)(bench_now_ns() - start) * 1e-9;
  }
  return gbps(size, seconds);
}

// irhal_device_queue_read of the whole file RUNS times (the device decides
// the path); GB/s of the median run.
static double bench_queue_read(irhal_device_t* device, irhal_file_t* file,
                               irhal_buffer_t* target, uint64_t size) {
  double seconds[BENCH_RUNS];
  for (int run = 0; run < BENCH_RUNS; ++run) {
    irhal_fence_t* done = new_fence();
    uint64_t start = bench_now_ns();
    BENCH_CHECK(irhal_device_queue_read(device, UINT64_MAX, NULL, done, file, 0,
                                        target, 0, size));
    wait_release(done);
    seconds[run] = (double)(bench_now_ns() - start) * 1e-9;
  }
  return gbps(size, seconds);
}

// Samples the streamed bytes: a 4-byte read back every 1 MiB.
static bool check_contents(irhal_device_t* device, irhal_buffer_t* target,
                           uint64_t size) {
  irhal_buffer_t* host = NULL;
  BENCH_CHECK(device->vtable->allocate_buffer(
      device, IRHAL_MEMORY_TYPE_HOST_LOCAL | IRHAL_MEMORY_TYPE_DEVICE_VISIBLE,
      IRHAL_BUFFER_USAGE_TRANSFER | IRHAL_BUFFER_USAGE_MAPPING, 4096, &host));
  uint32_t* mapped = NULL;
  BENCH_CHECK(irhal_buffer_map(host, IRHAL_MEMORY_ACCESS_READ, 0, 4096,
                               (void**)&mapped));
  bool ok = true;
  for (uint64_t offset = 0; ok && offset < size; offset += MIB + 4) {
    irhal_fence_t* done = new_fence();
    BENCH_CHECK(irhal_device_queue_copy(device, UINT64_MAX, NULL, done, target,
                                        offset & ~3ull, host, 0, 4));
    wait_release(done);
    ok = mapped[0] == pattern((offset & ~3ull) / 4);
  }
  irhal_buffer_release(host);
  return ok;
}

int main(int argc, char** argv) {
  uint64_t mib = argc > 1 ? strtoull(argv[1], NULL, 10) : 1024;
  if (mib == 0) mib = 1;
  uint64_t size = mib * MIB;
  setvbuf(stdout, NULL, _IOLBF, 0);
  irt_allocator_t allocator = irt_allocator_system();
  irhal_device_t* device = NULL;
  irt_status_t status = irhal_cuda_device_create(0, allocator, &device);
  if (status) {
    char text[512];
    irt_status_format_brief(status, text, sizeof(text));
    printf("SKIP: params --device=cuda needs a CUDA device: %s\n", text);
    return 77;
  }
  atexit(cleanup);
  snprintf(g_path, sizeof(g_path), "/tmp/ireed-bench-cuda-%d.bin",
           (int)getpid());
  int fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  uint32_t* block = malloc(MIB);
  if (fd < 0 || !block) {
    fprintf(stderr, "bench_params_cuda: cannot write %s\n", g_path);
    return 77;
  }
  for (uint64_t offset = 0; offset < size; offset += MIB) {
    for (uint64_t i = 0; i < MIB / 4; ++i) block[i] = pattern(offset / 4 + i);
    if (pwrite(fd, block, MIB, (off_t)offset) != (ssize_t)MIB) return 77;
  }
  free(block);
  // The archive as io_parameters sees it: a shared read-only mapping.
  void* data = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) return 77;
  irhal_file_t* file = NULL;
  BENCH_CHECK(irhal_file_create_from_memory(
      data, size, IRHAL_MEMORY_ACCESS_READ, (irhal_release_callback_t){0},
      allocator, &file));
  irhal_buffer_t* target = NULL;
  BENCH_CHECK(device->vtable->allocate_buffer(
      device, IRHAL_MEMORY_TYPE_DEVICE_LOCAL, IRHAL_BUFFER_USAGE_DEFAULT, size,
      &target));
  double h2d = bench_pinned_h2d(device, target, size);

  // Other 64 MiB rings, for information: more, smaller slots mean more
  // reader threads.
  static const uint32_t kDepths[] = {8, 16};
  for (size_t i = 0; i < sizeof(kDepths) / sizeof(kDepths[0]); ++i) {
    irhal_staging_options_t ring = {RING_LIMIT / kDepths[i], kDepths[i], NULL};
    printf("params(cuda): ring %u x %" PRIu64 " MiB: %.2f GB/s\n", kDepths[i],
           RING_LIMIT / kDepths[i] / MIB,
           bench_stream(device, file, target, size, &ring));
  }
  irhal_staging_stats_t stats = {0};
  irhal_staging_options_t options = {0, 0, &stats};  // the default ring
  double staged = bench_stream(device, file, target, size, &options);
  bool contents_ok = check_contents(device, target, size);
  bool peak_ok = stats.peak_staging_bytes <= RING_LIMIT;
  printf(
      "params(cuda): pinned H2D %.2f GB/s (64 MiB pinned -> device, "
      "median of %d)\n",
      h2d, BENCH_RUNS);
  printf(
      "params(cuda): staged: %.2f GB/s = %.0f%% of pinned H2D; peak "
      "staging %.0f MiB (%" PRIu32 " x %" PRIu64 " MiB, up to %" PRIu32
      " copies in flight)\n",
      staged, 100.0 * staged / h2d, (double)stats.peak_staging_bytes / MIB,
      stats.depth, stats.chunk_size / MIB, stats.max_copies_in_flight);

  // The mapping pinned once (as ireed pins client regions), then each
  // stream is one DMA copy from the page cache: no staging at all.
  uint64_t start = bench_now_ns();
  bool registered = false;
  BENCH_CHECK(
      irhal_device_register_host_memory(device, data, size, &registered));
  double pin_seconds = (double)(bench_now_ns() - start) * 1e-9;
  double direct = bench_queue_read(device, file, target, size);
  bool direct_ok = check_contents(device, target, size);
  double first =
      (double)size / (pin_seconds + (double)size / direct / 1e9) / 1e9;
  irhal_device_unregister_host_memory(device, data);
  bool speed_ok = direct >= 0.9 * h2d;
  printf(
      "params(cuda): pinned mapping: pinning %.0f ms once, then %.2f "
      "GB/s (%.2f GB/s counting the pinning); peak staging 0 MiB\n",
      pin_seconds * 1e3, direct, first);
  bool ok = bench_target(speed_ok,
                         "params(cuda): %" PRIu64
                         " MiB archive streamed at %.2f GB/s = %.0f%% of "
                         "pinned H2D %.2f GB/s (>= 90%%)",
                         mib, direct, 100.0 * direct / h2d, h2d);
  ok &= bench_target(peak_ok, "params(cuda): peak staging %.0f MiB <= 64 MiB",
                     (double)stats.peak_staging_bytes / MIB);
  ok &= bench_target(contents_ok && direct_ok,
                     "params(cuda): streamed bytes intact");
  // For information, after the targets (an optional path must not keep
  // them from being measured): an fd file, read by the device itself
  // through cuFile when libcufile opened and accepts the file.
  irhal_file_t* fd_file = NULL;
  BENCH_CHECK(irhal_file_create_from_fd(fd, size, IRHAL_MEMORY_ACCESS_READ,
                                        allocator, &fd_file));
  bool cufile = device->vtable->transfers_file_directly(device, fd_file);
  double fd_speed = bench_queue_read(device, fd_file, target, size);
  printf("params(cuda): fd file via %s: %.2f GB/s = %.0f%% of pinned H2D\n",
         cufile ? "cuFile" : "the staging ring", fd_speed,
         100.0 * fd_speed / h2d);
  irhal_file_release(fd_file);
  irhal_buffer_release(target);
  irhal_file_release(file);
  munmap(data, size);
  close(fd);
  irhal_device_release(device);
  return ok ? 0 : 1;
}
