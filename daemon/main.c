// ireed: the model-serving daemon.
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "daemon/config.h"
#include "daemon/server.h"
#include "hal/device_probe.h"
#include "ireed.pb-c.h"
#include "ireed_config.h"
#include "proto/frame.h"
#include "runtime/base/log.h"
#include "runtime/base/version.h"
#include "runtime/session/model.h"

#define IREED_ROOT_SOCKET_DIR "/run/ireed"
#define IREED_DEFAULT_CONFIG IREED_SYSCONFDIR "/ireed/ireed.yaml"

static void ireed_print_usage(FILE* out) {
  fprintf(out,
          "usage: ireed [--config=FILE] [--socket=PATH] [--workers=N]\n"
          "             [--max-frame-size=BYTES] [--log-level=LEVEL]\n"
          "       ireed --check-config=FILE | --version | --list-devices\n"
          "\n"
          "Serves compiled models to ireectl and libireeclient on a Unix "
          "socket:\n"
          "$XDG_RUNTIME_DIR/ireed.sock by default, " IREED_ROOT_SOCKET_DIR
          "/ireed.sock as root.\n"
          "  --config          the YAML config (default: " IREED_DEFAULT_CONFIG
          " when it exists);\n"
          "                    the flags below override its values\n"
          "  --check-config    validate a config file, print 'FILE: ok' or the "
          "error, exit\n"
          "  --workers         threads running loads and invocations "
          "(default: 2 per CPU, at least 4)\n"
          "  --max-frame-size  largest protocol frame (default %u, at most "
          "%u)\n",
          IREED_FRAME_DEFAULT_MAX_SIZE, IREED_FRAME_ABSOLUTE_MAX_SIZE);
}

// --check-config: 0 when |path| is a valid config, 1 otherwise.
static int ireed_check_config(const char* path) {
  ireed_config_t config;
  irt_status_t status =
      ireed_config_load_file(path, irt_allocator_system(), &config);
  if (!irt_status_is_ok(status)) {
    char text[1024];
    irt_status_format_brief(status, text, sizeof(text));
    irt_status_free(status);
    fprintf(stderr, "%s\n", text);
    return 1;
  }
  ireed_config_deinitialize(&config);
  printf("%s: ok\n", path);
  return 0;
}

// Reads --config, or the default config when it exists (an empty config
// otherwise). False after printing why.
static bool ireed_read_config(const char* path, ireed_config_t* config) {
  if (!path) {
    if (access(IREED_DEFAULT_CONFIG, F_OK) != 0) {
      ireed_config_initialize(irt_allocator_system(), config);
      return true;
    }
    path = IREED_DEFAULT_CONFIG;
  }
  irt_status_t status =
      ireed_config_load_file(path, irt_allocator_system(), config);
  if (irt_status_is_ok(status)) return true;
  char text[1024];
  irt_status_format_brief(status, text, sizeof(text));
  irt_status_free(status);
  fprintf(stderr, "ireed: %s\n", text);
  return false;
}

static void ireed_log_device(void* user_data, bool available,
                             const irhal_device_info_t* info) {
  (void)user_data;
  printf("device %-12s %s%s%s\n", info->uri, available ? info->name : "",
         available ? ": " : "", info->detail);
}

// Parses a decimal count in [1, max]; false otherwise.
static bool ireed_parse_count(const char* text, unsigned long long max,
                              unsigned long long* out_value) {
  char* end = NULL;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (!*text || *end || errno || text[0] == '-' || value == 0 || value > max) {
    return false;
  }
  *out_value = value;
  return true;
}

// The default socket path into |buffer|; false (after saying why) when there
// is none.
static bool ireed_default_socket(char* buffer, size_t capacity) {
  if (geteuid() == 0) {
    if (mkdir(IREED_ROOT_SOCKET_DIR, 0755) != 0 && errno != EEXIST) {
      fprintf(stderr, "ireed: cannot create %s: %s\n", IREED_ROOT_SOCKET_DIR,
              strerror(errno));
      return false;
    }
    snprintf(buffer, capacity, "%s/ireed.sock", IREED_ROOT_SOCKET_DIR);
    return true;
  }
  const char* runtime_dir = getenv("XDG_RUNTIME_DIR");
  if (!runtime_dir || !*runtime_dir) {
    fprintf(stderr,
            "ireed: XDG_RUNTIME_DIR is not set; give the socket with "
            "--socket=PATH\n");
    return false;
  }
  snprintf(buffer, capacity, "%s/ireed.sock", runtime_dir);
  return true;
}

typedef struct ireed_signals_s {
  ireed_server_t* server;
  uv_signal_t interrupt;
  uv_signal_t terminate;
  uv_signal_t hangup;
} ireed_signals_t;

static void ireed_on_signal(uv_signal_t* handle, int signum) {
  ireed_signals_t* signals = handle->data;
  irt_log(IRT_LOG_INFO, "ireed", "%s received: draining", strsignal(signum));
  sd_notify(0, "STOPPING=1");
  ireed_server_stop(signals->server);
  // A second signal takes the default action (ends the process at once).
  uv_close((uv_handle_t*)&signals->interrupt, NULL);
  uv_close((uv_handle_t*)&signals->terminate, NULL);
  uv_close((uv_handle_t*)&signals->hangup, NULL);
}

static void ireed_on_hangup(uv_signal_t* handle, int signum) {
  ireed_signals_t* signals = handle->data;
  irt_log(IRT_LOG_INFO, "ireed", "%s received: reloading the config",
          strsignal(signum));
  // systemd shows the unit reloading until READY=1 follows (ireed_on_ready).
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
             (unsigned long long)now.tv_sec * 1000000ull +
                 (unsigned long long)now.tv_nsec / 1000u);
  ireed_server_reload(signals->server);
}

// After the preloads, and after each reload.
static void ireed_on_ready(void* user_data) {
  bool* started = user_data;
  if (!*started) irt_log(IRT_LOG_INFO, "ireed", "ready");
  *started = true;
  sd_notify(0, "READY=1");
}

// Device settings of the config; they apply when a device is first used.
static void ireed_configure_devices(irsess_runtime_t* runtime,
                                    const ireed_config_t* config) {
  for (size_t i = 0; i < config->device_count; ++i) {
    const ireed_device_config_t* device = &config->devices[i];
    irsess_device_options_t options = {
        .name = device->uri,
        .worker_count = device->worker_count,
        .staging_size = device->staging_size,
        .pipeline_cache_dir = device->pipeline_cache_dir,
    };
    irt_status_t status = irsess_runtime_configure_device(runtime, &options);
    if (!irt_status_is_ok(status)) {
      irt_log_status(IRT_LOG_WARNING, "ireed",
                     "device settings in the config are not used", status);
      irt_status_free(status);
    }
  }
}

static int ireed_serve(ireed_server_options_t* options) {
  irt_allocator_t allocator = irt_allocator_system();
  irsess_runtime_t* runtime = NULL;
  irt_status_t status = irsess_runtime_create(allocator, &runtime);
  uv_loop_t loop;
  uv_loop_init(&loop);
  ireed_server_t* server = NULL;
  if (irt_status_is_ok(status)) {
    ireed_configure_devices(runtime, options->config);
    status = ireed_server_create(&loop, runtime, options, allocator, &server);
  }
  if (!irt_status_is_ok(status)) {
    irt_log_status(IRT_LOG_ERROR, "ireed", "cannot start", status);
    irt_status_free(status);
    uv_loop_close(&loop);
    irsess_runtime_destroy(runtime);
    return 1;
  }
  signal(SIGPIPE, SIG_IGN);
  ireed_signals_t signals = {.server = server};
  uv_signal_init(&loop, &signals.interrupt);
  uv_signal_init(&loop, &signals.terminate);
  uv_signal_init(&loop, &signals.hangup);
  signals.interrupt.data = signals.terminate.data = signals.hangup.data =
      &signals;
  uv_signal_start(&signals.interrupt, ireed_on_signal, SIGINT);
  uv_signal_start(&signals.terminate, ireed_on_signal, SIGTERM);
  uv_signal_start(&signals.hangup, ireed_on_hangup, SIGHUP);
  bool started = false;
  ireed_server_preload(server, ireed_on_ready, &started);
  uv_run(&loop, UV_RUN_DEFAULT);
  if (ireed_server_drain_forced(server)) {
    // Workers may be stuck in device work: nothing can be torn down safely.
    irt_log(IRT_LOG_ERROR, "ireed", "stopped with work cancelled");
    fflush(NULL);
    _exit(1);
  }
  ireed_server_destroy(server);
  uv_loop_close(&loop);
  irsess_runtime_destroy(runtime);
  irt_log(IRT_LOG_INFO, "ireed", "stopped");
  return 0;
}

// What the command line says; unset fields leave the config's values.
typedef struct ireed_flags_s {
  const char* config_path;
  const char* socket_path;
  const char* log_level;
  uint32_t worker_count;
  size_t max_frame_size;
} ireed_flags_t;

// Parses argv into |flags|; returns -1 to go on, or the exit code.
static int ireed_parse_flags(int argc, char** argv, ireed_flags_t* flags) {
  static const struct option options[] = {
      {"version", no_argument, NULL, 'V'},
      {"list-devices", no_argument, NULL, 'D'},
      {"config", required_argument, NULL, 'c'},
      {"check-config", required_argument, NULL, 'C'},
      {"log-level", required_argument, NULL, 'l'},
      {"socket", required_argument, NULL, 's'},
      {"workers", required_argument, NULL, 'w'},
      {"max-frame-size", required_argument, NULL, 'm'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  unsigned long long count = 0;
  irt_log_level_t level;
  int opt;
  while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
    switch (opt) {
      case 'V':
        printf("ireed %s (protocol %d, vm bytecode %d.%d, hal module %d)\n",
               irt_version_string(),
               IREED__PROTOCOL_VERSION__PROTOCOL_VERSION_MAJOR,
               IRT_VM_BYTECODE_VERSION_MAJOR, IRT_VM_BYTECODE_VERSION_MINOR,
               IRT_HAL_MODULE_VERSION);
        return 0;
      case 'D':
        irhal_probe_devices(ireed_log_device, NULL);
        return 0;
      case 'c':
        flags->config_path = optarg;
        break;
      case 'C':
        return ireed_check_config(optarg);
      case 'l':
        if (!irt_log_level_parse(optarg, &level)) {
          fprintf(stderr, "ireed: --log-level: unknown level '%s'\n", optarg);
          return 2;
        }
        flags->log_level = optarg;
        break;
      case 's':
        flags->socket_path = optarg;
        break;
      case 'w':
        if (!ireed_parse_count(optarg, 1024, &count)) {
          fprintf(stderr,
                  "ireed: --workers needs a count of 1 to 1024, not "
                  "'%s'\n",
                  optarg);
          return 2;
        }
        flags->worker_count = (uint32_t)count;
        break;
      case 'm':
        if (!ireed_parse_count(optarg, IREED_FRAME_ABSOLUTE_MAX_SIZE, &count) ||
            count < 4096) {
          fprintf(stderr,
                  "ireed: --max-frame-size needs 4096 to %u bytes, not '%s'\n",
                  IREED_FRAME_ABSOLUTE_MAX_SIZE, optarg);
          return 2;
        }
        flags->max_frame_size = (size_t)count;
        break;
      case 'h':
        ireed_print_usage(stdout);
        return 0;
      default:
        ireed_print_usage(stderr);
        return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "ireed: unexpected argument '%s'\n", argv[optind]);
    ireed_print_usage(stderr);
    return 2;
  }
  return -1;
}

// Flags override the config's values; the logging settings apply at once.
// Also run on each config a reload reads.
static void ireed_apply_flags(void* user_data, ireed_config_t* config) {
  const ireed_flags_t* flags = user_data;
  // argv outlives every config.
  if (flags->socket_path) config->socket_path = (char*)flags->socket_path;
  if (flags->log_level) config->logging.level = (char*)flags->log_level;
  if (flags->worker_count) config->worker_count = flags->worker_count;
  if (flags->max_frame_size) {
    config->limits.max_frame_size = flags->max_frame_size;
  }
  irt_log_config_t log_config = {.level = IRT_LOG_INFO,
                                 .json = config->logging.json};
  if (config->logging.level) {
    (void)irt_log_level_parse(config->logging.level, &log_config.level);
  }
  irt_log_configure(&log_config);
}

// Socket activation: the one listening socket systemd passed, or 0 when it
// passed none. -1 after saying what is wrong.
static int ireed_activation_socket(char* path, size_t capacity) {
  int count = sd_listen_fds(1);
  if (count == 0) return 0;
  if (count < 0) {
    fprintf(stderr, "ireed: cannot take the sockets systemd passed: %s\n",
            strerror(-count));
    return -1;
  }
  if (count != 1) {
    fprintf(stderr, "ireed: systemd passed %d sockets; ireed takes one\n",
            count);
    return -1;
  }
  int fd = SD_LISTEN_FDS_START;
  if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
    fprintf(stderr,
            "ireed: the socket systemd passed is not a listening Unix stream "
            "socket\n");
    return -1;
  }
  struct sockaddr_un address;
  socklen_t length = sizeof(address);
  memset(&address, 0, sizeof(address));
  if (getsockname(fd, (struct sockaddr*)&address, &length) == 0 &&
      address.sun_path[0]) {
    snprintf(path, capacity, "%s", address.sun_path);
  } else {
    snprintf(path, capacity, "(socket passed by systemd)");
  }
  // The server polls it with the rest of its descriptors.
  int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
}

int main(int argc, char** argv) {
  ireed_flags_t flags = {0};
  int exit_code = ireed_parse_flags(argc, argv, &flags);
  if (exit_code >= 0) return exit_code;
  ireed_config_t config;
  if (!ireed_read_config(flags.config_path, &config)) return 1;
  ireed_apply_flags(&flags, &config);
  char socket_path[PATH_MAX];
  ireed_server_options_t server_options = {
      .config = &config,
      .on_config = ireed_apply_flags,
      .on_config_user_data = &flags,
      .listen_fd = ireed_activation_socket(socket_path, sizeof(socket_path)),
      .socket_path = config.socket_path,
      .socket_mode = config.socket_mode,
      .set_socket_group = config.socket_group != NULL,
      .socket_gid = config.socket_gid,
      .worker_count = config.worker_count,
      .limits = config.limits,
      .access = &config.access,
  };
  if (server_options.listen_fd > 0) {
    server_options.socket_path = socket_path;
  } else if (server_options.listen_fd < 0 ||
             (!server_options.socket_path &&
              !ireed_default_socket(socket_path, sizeof(socket_path)))) {
    ireed_config_deinitialize(&config);
    return 1;
  } else if (!server_options.socket_path) {
    server_options.socket_path = socket_path;
  }
  exit_code = ireed_serve(&server_options);
  ireed_config_deinitialize(&config);
  return exit_code;
}
