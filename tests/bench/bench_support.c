#include "tests/bench/bench_support.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void bench_check(irt_status_t status, const char* what) {
  if (irt_status_is_ok(status)) return;
  char text[2048];
  irt_status_format(status, text, sizeof(text));
  fprintf(stderr, "bench: %s: %s\n", what, text);
  irt_status_free(status);
  exit(1);
}

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_compare_doubles(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

double bench_quantile(double* values, size_t count, double q) {
  if (count == 0) return 0;
  qsort(values, count, sizeof(double), bench_compare_doubles);
  size_t index = (size_t)(q * (double)(count - 1) + 0.5);
  return values[index < count ? index : count - 1];
}

bool bench_target(bool ok, const char* format, ...) {
  char text[512];
  va_list args;
  va_start(args, format);
  vsnprintf(text, sizeof(text), format, args);
  va_end(args);
  printf("target: %s: %s\n", text, ok ? "PASS" : "FAIL");
  fflush(stdout);
  return ok;
}

static bool bench_socket_accepts(const char* path) {
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  struct sockaddr_un address = {.sun_family = AF_UNIX};
  snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
  bool ok = connect(fd, (struct sockaddr*)&address, sizeof(address)) == 0;
  close(fd);
  return ok;
}

bool bench_daemon_start(bench_daemon_t* daemon, const char* binary) {
  const char* base = getenv("TMPDIR");
  snprintf(daemon->socket_path, sizeof(daemon->socket_path),
           "%s/ireed-bench-%d.sock", base && *base ? base : "/tmp",
           (int)getpid());
  unlink(daemon->socket_path);
  char socket_flag[160];
  snprintf(socket_flag, sizeof(socket_flag), "--socket=%s",
           daemon->socket_path);
  daemon->pid = fork();
  if (daemon->pid == 0) {
    execl(binary, binary, socket_flag, "--log-level=warning", (char*)NULL);
    fprintf(stderr, "bench: cannot run %s: %s\n", binary, strerror(errno));
    _exit(127);
  }
  if (daemon->pid < 0) return false;
  for (int i = 0; i < 2000; ++i) {
    if (bench_socket_accepts(daemon->socket_path)) return true;
    int status = 0;
    if (waitpid(daemon->pid, &status, WNOHANG) == daemon->pid) break;
    usleep(10000);
  }
  fprintf(stderr, "bench: %s did not start listening on %s\n", binary,
          daemon->socket_path);
  bench_daemon_stop(daemon);
  return false;
}

void bench_daemon_stop(bench_daemon_t* daemon) {
  if (daemon->pid <= 0) return;
  kill(daemon->pid, SIGTERM);
  int status = 0;
  waitpid(daemon->pid, &status, 0);
  daemon->pid = 0;
  unlink(daemon->socket_path);
}

uint64_t bench_rss_bytes(void) {
  FILE* file = fopen("/proc/self/status", "r");
  if (!file) return 0;
  char line[256];
  uint64_t kib = 0;
  while (fgets(line, sizeof(line), file)) {
    if (strncmp(line, "VmRSS:", 6) == 0) {
      kib = strtoull(line + 6, NULL, 10);
      break;
    }
  }
  fclose(file);
  return kib * 1024;
}
