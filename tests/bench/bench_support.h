// What the benchmark programs share: a monotonic clock, order statistics,
// the PASS/FAIL lines scripts/bench collects, and starting an ireed of the
// build on a private socket.
#ifndef IREED_TESTS_BENCH_BENCH_SUPPORT_H
#define IREED_TESTS_BENCH_BENCH_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runtime/base/status.h"

// Every figure is the median of this many runs (issue 10: at least 5).
#define BENCH_RUNS 5

// Exits 1 with |what| and the status's message when |expr| fails.
#define BENCH_CHECK(expr) bench_check((expr), #expr)
void bench_check(irt_status_t status, const char* what);

uint64_t bench_now_ns(void);

// The value at fraction |q| (0.5: median, 0.99: p99) of |values|, sorted in
// place.
double bench_quantile(double* values, size_t count, double q);
static inline double bench_median(double* values, size_t count) {
  return bench_quantile(values, count, 0.5);
}

// Prints "target: DESCRIPTION: PASS|FAIL" and returns |ok|; scripts/bench
// fails when any line says FAIL.
bool bench_target(bool ok, const char* format, ...)
    __attribute__((format(printf, 2, 3)));

// The daemon: BINARY --socket=SOCKET --log-level=warning, started and
// waited for until it accepts connections (20 s at most).
typedef struct bench_daemon_s {
  pid_t pid;
  char socket_path[108];
} bench_daemon_t;
bool bench_daemon_start(bench_daemon_t* daemon, const char* binary);
void bench_daemon_stop(bench_daemon_t* daemon);

// Resident memory of this process (VmRSS), in bytes.
uint64_t bench_rss_bytes(void);

#endif  // IREED_TESTS_BENCH_BENCH_SUPPORT_H
