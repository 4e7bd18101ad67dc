// `ireectl stats` (a readable table) and `ireectl metrics` (Prometheus text
// exposition, format 0.0.4), both from one StatsReply of ireed. The metrics
// text is generated here and nowhere else; scrape it with e.g. a node
// exporter textfile collector or an exec-based exporter.
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "client/ireectl/commands.h"
#include "client/ireectl/remote.h"

// Fetches the daemon's stats; on failure reports it and returns the exit
// status in *out_exit_code.
static ireeclient_stats_t* ireectl_fetch_stats(const char* command,
                                               int* out_exit_code) {
  ireeclient_connection_t* connection = NULL;
  irt_status_t status = ireectl_remote_connect(&connection);
  ireeclient_stats_t* stats = NULL;
  if (!status) status = ireeclient_server_stats(connection, &stats);
  ireeclient_disconnect(connection);
  if (status) *out_exit_code = ireectl_report_error(command, status);
  return stats;
}

//===----------------------------------------------------------------------===//
// stats
//===----------------------------------------------------------------------===//

static const char kStatsUsage[] =
    "usage: ireectl [--socket PATH] stats\n"
    "\n"
    "Prints ireed's counters since it started: per model, invocations,\n"
    "errors, busy rejections, queue-wait and execute latency (p50/p90/p99),\n"
    "input bytes imported from shared memory without a copy vs staged; per\n"
    "device, memory in use. An admin request when access control is on.\n";

// "850ns", "12.3us", "4.56ms", "1.23s".
static void ireectl_format_duration(uint64_t ns, char* buffer, size_t size) {
  if (ns < 1000) {
    snprintf(buffer, size, "%" PRIu64 "ns", ns);
  } else if (ns < 1000000) {
    snprintf(buffer, size, "%.1fus", (double)ns / 1e3);
  } else if (ns < 1000000000) {
    snprintf(buffer, size, "%.2fms", (double)ns / 1e6);
  } else {
    snprintf(buffer, size, "%.2fs", (double)ns / 1e9);
  }
}

// "123B", "1.5KiB", "2.0MiB", "3.1GiB".
static void ireectl_format_bytes(uint64_t bytes, char* buffer, size_t size) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) {
    snprintf(buffer, size, "%" PRIu64 "B", bytes);
    return;
  }
  double value = (double)bytes / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    value /= 1024.0;
    ++unit;
  }
  snprintf(buffer, size, "%.1f%s", value, kUnits[unit]);
}

// "p50/p90/p99" of |latency|, or "-" when nothing was recorded.
static void ireectl_format_latency(const ireeclient_latency_t* latency,
                                   char* buffer, size_t size) {
  if (latency->count == 0) {
    snprintf(buffer, size, "-");
    return;
  }
  char p50[16], p90[16], p99[16];
  ireectl_format_duration(latency->p50_ns, p50, sizeof(p50));
  ireectl_format_duration(latency->p90_ns, p90, sizeof(p90));
  ireectl_format_duration(latency->p99_ns, p99, sizeof(p99));
  snprintf(buffer, size, "%s/%s/%s", p50, p90, p99);
}

static void ireectl_print_stats(const ireeclient_stats_t* stats) {
  uint64_t seconds = stats->uptime_ms / 1000;
  printf("uptime %" PRIu64 "d %02" PRIu64 ":%02" PRIu64 ":%02" PRIu64
         ", %" PRIu32 " clients (%" PRIu64 " accepted, %" PRIu64
         " refused), %" PRIu32 " workers, %" PRIu32 " queued\n",
         seconds / 86400, seconds / 3600 % 24, seconds / 60 % 60, seconds % 60,
         stats->clients, stats->connections_accepted,
         stats->connections_refused, stats->workers, stats->queued);
  printf("\n%-16s %-12s %10s %8s %8s %6s  %-26s %-26s %10s %10s\n", "MODEL",
         "DEVICE", "INVOKED", "ERRORS", "BUSY", "ACTIVE", "QUEUE p50/p90/p99",
         "EXECUTE p50/p90/p99", "ZERO-COPY", "STAGED");
  for (size_t i = 0; i < stats->model_count; ++i) {
    const ireeclient_model_stats_t* model = &stats->models[i];
    char queue[64], execute[64], zero_copy[16], staged[16];
    ireectl_format_latency(&model->queue, queue, sizeof(queue));
    ireectl_format_latency(&model->execute, execute, sizeof(execute));
    ireectl_format_bytes(model->bytes_zero_copy, zero_copy, sizeof(zero_copy));
    ireectl_format_bytes(model->bytes_staged, staged, sizeof(staged));
    printf("%-16s %-12s %10" PRIu64 " %8" PRIu64 " %8" PRIu64 " %6" PRIu32
           "  %-26s %-26s %10s %10s\n",
           model->name, model->device, model->invocations, model->errors,
           model->busy_rejections, model->in_flight, queue, execute, zero_copy,
           staged);
  }
  if (stats->model_count == 0) printf("(no models)\n");
  printf("\n%-16s %10s %10s %12s\n", "DEVICE", "IN USE", "PEAK", "ALLOCATIONS");
  for (size_t i = 0; i < stats->device_count; ++i) {
    const ireeclient_device_stats_t* device = &stats->devices[i];
    char in_use[16], peak[16];
    ireectl_format_bytes(device->memory_in_use, in_use, sizeof(in_use));
    ireectl_format_bytes(device->memory_peak, peak, sizeof(peak));
    printf("%-16s %10s %10s %12" PRIu64 "\n", device->uri, in_use, peak,
           device->allocations);
  }
  if (stats->device_count == 0) printf("(no device memory allocated yet)\n");
}

int ireectl_cmd_stats(int argc, char** argv) {
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kStatsUsage, NULL, NULL, 0,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  ireeclient_stats_t* stats = ireectl_fetch_stats("stats", &exit_code);
  if (!stats) return exit_code;
  ireectl_print_stats(stats);
  ireeclient_stats_free(stats);
  return 0;
}

//===----------------------------------------------------------------------===//
// metrics
//===----------------------------------------------------------------------===//

static const char kMetricsUsage[] =
    "usage: ireectl [--socket PATH] metrics\n"
    "\n"
    "Prints ireed's stats in the Prometheus text exposition format (0.0.4):\n"
    "counters per model, queue and execute latency summaries (quantiles\n"
    "0.5, 0.9, 0.99) and device memory gauges. docs/operations.md lists the\n"
    "metrics.\n";

// A label value with backslash, double quote and newline escaped.
static void ireectl_print_label_value(FILE* out, const char* value) {
  for (const char* c = value; *c; ++c) {
    if (*c == '\\' || *c == '"') {
      fprintf(out, "\\%c", *c);
    } else if (*c == '\n') {
      fputs("\\n", out);
    } else {
      fputc(*c, out);
    }
  }
}

static void ireectl_print_family(FILE* out, const char* name, const char* type,
                                 const char* help) {
  fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

// `name{model="...",device="..."<extra>} ` (the value follows).
static void ireectl_print_model_sample(FILE* out, const char* name,
                                       const ireeclient_model_stats_t* model,
                                       const char* extra) {
  fprintf(out, "%s{model=\"", name);
  ireectl_print_label_value(out, model->name);
  fputs("\",device=\"", out);
  ireectl_print_label_value(out, model->device);
  fprintf(out, "\"%s} ", extra);
}

typedef enum ireectl_model_counter_e {
  IREECTL_INVOCATIONS,
  IREECTL_ERRORS,
  IREECTL_BUSY,
  IREECTL_IN_FLIGHT,
  IREECTL_ZERO_COPY,
  IREECTL_STAGED,
} ireectl_model_counter_t;

static uint64_t ireectl_model_counter(const ireeclient_model_stats_t* model,
                                      ireectl_model_counter_t counter) {
  switch (counter) {
    case IREECTL_INVOCATIONS:
      return model->invocations;
    case IREECTL_ERRORS:
      return model->errors;
    case IREECTL_BUSY:
      return model->busy_rejections;
    case IREECTL_IN_FLIGHT:
      return model->in_flight;
    case IREECTL_ZERO_COPY:
      return model->bytes_zero_copy;
    default:
      return model->bytes_staged;
  }
}

static void ireectl_print_model_counter(FILE* out,
                                        const ireeclient_stats_t* stats,
                                        const char* name, const char* type,
                                        const char* help,
                                        ireectl_model_counter_t counter) {
  ireectl_print_family(out, name, type, help);
  for (size_t i = 0; i < stats->model_count; ++i) {
    ireectl_print_model_sample(out, name, &stats->models[i], "");
    fprintf(out, "%" PRIu64 "\n",
            ireectl_model_counter(&stats->models[i], counter));
  }
}

// A summary in seconds: quantiles, _sum and _count per model.
static void ireectl_print_latency(FILE* out, const ireeclient_stats_t* stats,
                                  const char* name, const char* help,
                                  bool execute) {
  ireectl_print_family(out, name, "summary", help);
  char sum_name[96], count_name[96];
  snprintf(sum_name, sizeof(sum_name), "%s_sum", name);
  snprintf(count_name, sizeof(count_name), "%s_count", name);
  for (size_t i = 0; i < stats->model_count; ++i) {
    const ireeclient_model_stats_t* model = &stats->models[i];
    const ireeclient_latency_t* latency =
        execute ? &model->execute : &model->queue;
    const struct {
      const char* label;
      uint64_t ns;
    } quantiles[3] = {{",quantile=\"0.5\"", latency->p50_ns},
                      {",quantile=\"0.9\"", latency->p90_ns},
                      {",quantile=\"0.99\"", latency->p99_ns}};
    for (int q = 0; q < 3; ++q) {
      ireectl_print_model_sample(out, name, model, quantiles[q].label);
      if (latency->count) {
        fprintf(out, "%.9g\n", (double)quantiles[q].ns / 1e9);
      } else {
        fputs("NaN\n", out);
      }
    }
    ireectl_print_model_sample(out, sum_name, model, "");
    fprintf(out, "%.9g\n", (double)latency->sum_ns / 1e9);
    ireectl_print_model_sample(out, count_name, model, "");
    fprintf(out, "%" PRIu64 "\n", latency->count);
  }
}

static void ireectl_print_device_gauge(FILE* out,
                                       const ireeclient_stats_t* stats,
                                       const char* name, const char* type,
                                       const char* help, int which) {
  ireectl_print_family(out, name, type, help);
  for (size_t i = 0; i < stats->device_count; ++i) {
    const ireeclient_device_stats_t* device = &stats->devices[i];
    uint64_t value = which == 0   ? device->memory_in_use
                     : which == 1 ? device->memory_peak
                                  : device->allocations;
    fprintf(out, "%s{device=\"", name);
    ireectl_print_label_value(out, device->uri);
    fprintf(out, "\"} %" PRIu64 "\n", value);
  }
}

static void ireectl_print_server_value(FILE* out, const char* name,
                                       const char* type, const char* help,
                                       double value) {
  ireectl_print_family(out, name, type, help);
  fprintf(out, "%s %.15g\n", name, value);
}

static void ireectl_print_metrics(FILE* out, const ireeclient_stats_t* stats) {
  ireectl_print_server_value(out, "ireed_uptime_seconds", "gauge",
                             "Seconds since ireed started.",
                             (double)stats->uptime_ms / 1e3);
  ireectl_print_server_value(out, "ireed_clients", "gauge",
                             "Connections open now.", stats->clients);
  ireectl_print_server_value(out, "ireed_connections_accepted_total", "counter",
                             "Connections accepted.",
                             (double)stats->connections_accepted);
  ireectl_print_server_value(
      out, "ireed_connections_refused_total", "counter",
      "Connections refused (busy, permission denied, shutting down).",
      (double)stats->connections_refused);
  ireectl_print_server_value(out, "ireed_queued_invocations", "gauge",
                             "Invocations waiting for a worker.",
                             stats->queued);
  ireectl_print_server_value(out, "ireed_workers", "gauge", "Worker threads.",
                             stats->workers);
  ireectl_print_model_counter(out, stats, "ireed_invocations_total", "counter",
                              "Invocations run, successful or not.",
                              IREECTL_INVOCATIONS);
  ireectl_print_model_counter(out, stats, "ireed_invocation_errors_total",
                              "counter", "Invocations that failed.",
                              IREECTL_ERRORS);
  ireectl_print_model_counter(
      out, stats, "ireed_busy_rejections_total", "counter",
      "Invocations refused as busy (limits reached).", IREECTL_BUSY);
  ireectl_print_model_counter(out, stats, "ireed_invocations_in_flight",
                              "gauge", "Invocations queued or running.",
                              IREECTL_IN_FLIGHT);
  ireectl_print_latency(out, stats, "ireed_queue_seconds",
                        "Time invocations waited for a worker.", false);
  ireectl_print_latency(out, stats, "ireed_execute_seconds",
                        "Time invocations ran.", true);
  ireectl_print_model_counter(
      out, stats, "ireed_input_zero_copy_bytes_total", "counter",
      "Input bytes imported from shared memory without a copy.",
      IREECTL_ZERO_COPY);
  ireectl_print_model_counter(
      out, stats, "ireed_input_staged_bytes_total", "counter",
      "Input bytes copied into device buffers.", IREECTL_STAGED);
  ireectl_print_device_gauge(out, stats, "ireed_device_memory_bytes", "gauge",
                             "Bytes of live device allocations.", 0);
  ireectl_print_device_gauge(out, stats, "ireed_device_memory_peak_bytes",
                             "gauge", "Most bytes of device allocations.", 1);
  ireectl_print_device_gauge(out, stats, "ireed_device_allocations_total",
                             "counter", "Device allocations made.", 2);
}

int ireectl_cmd_metrics(int argc, char** argv) {
  int positional_count = 0;
  int exit_code = ireectl_parse_simple(argc, argv, kMetricsUsage, NULL, NULL, 0,
                                       &positional_count);
  if (exit_code >= 0) return exit_code;
  ireeclient_stats_t* stats = ireectl_fetch_stats("metrics", &exit_code);
  if (!stats) return exit_code;
  ireectl_print_metrics(stdout, stats);
  ireeclient_stats_free(stats);
  return 0;
}
