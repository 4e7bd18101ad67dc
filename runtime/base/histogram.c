#include "runtime/base/histogram.h"

#include <string.h>

void irt_histogram_initialize(irt_histogram_t* histogram) {
  atomic_init(&histogram->count, 0);
  atomic_init(&histogram->sum, 0);
  for (size_t i = 0; i < IRT_HISTOGRAM_BUCKET_COUNT; ++i) {
    atomic_init(&histogram->buckets[i], 0);
  }
}

size_t irt_histogram_bucket_index(uint64_t value) {
  if (value < IRT_HISTOGRAM_SUB_BUCKETS) return (size_t)value;
  unsigned exponent = 63u - (unsigned)__builtin_clzll(value);
  unsigned shift = exponent - IRT_HISTOGRAM_SUB_BUCKET_BITS;
  size_t sub = (size_t)(value >> shift) & (IRT_HISTOGRAM_SUB_BUCKETS - 1);
  return IRT_HISTOGRAM_SUB_BUCKETS + shift * IRT_HISTOGRAM_SUB_BUCKETS + sub;
}

uint64_t irt_histogram_bucket_upper_bound(size_t index) {
  if (index < IRT_HISTOGRAM_SUB_BUCKETS) return index;
  size_t shift =
      (index - IRT_HISTOGRAM_SUB_BUCKETS) / IRT_HISTOGRAM_SUB_BUCKETS;
  uint64_t sub =
      (index - IRT_HISTOGRAM_SUB_BUCKETS) % IRT_HISTOGRAM_SUB_BUCKETS;
  uint64_t lower = (IRT_HISTOGRAM_SUB_BUCKETS + sub) << shift;
  return lower + ((1ull << shift) - 1);
}

void irt_histogram_record(irt_histogram_t* histogram, uint64_t value) {
  atomic_fetch_add_explicit(
      &histogram->buckets[irt_histogram_bucket_index(value)], 1,
      memory_order_relaxed);
  atomic_fetch_add_explicit(&histogram->sum, value, memory_order_relaxed);
  atomic_fetch_add_explicit(&histogram->count, 1, memory_order_relaxed);
}

// The upper bound of the bucket holding the value of rank ceil(q * total).
static uint64_t irt_histogram_quantile(const uint64_t* buckets, uint64_t total,
                                       double q) {
  if (total == 0) return 0;
  uint64_t rank = (uint64_t)(q * (double)total);
  if ((double)rank < q * (double)total) ++rank;
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < IRT_HISTOGRAM_BUCKET_COUNT; ++i) {
    seen += buckets[i];
    if (seen >= rank) return irt_histogram_bucket_upper_bound(i);
  }
  return irt_histogram_bucket_upper_bound(IRT_HISTOGRAM_BUCKET_COUNT - 1);
}

void irt_histogram_summarize(const irt_histogram_t* histogram,
                             irt_histogram_summary_t* out_summary) {
  irt_histogram_summarize_all(&histogram, 1, out_summary);
}

void irt_histogram_summarize_all(const irt_histogram_t* const* histograms,
                                 size_t count,
                                 irt_histogram_summary_t* out_summary) {
  uint64_t buckets[IRT_HISTOGRAM_BUCKET_COUNT] = {0};
  uint64_t total = 0;
  memset(out_summary, 0, sizeof(*out_summary));
  for (size_t h = 0; h < count; ++h) {
    const irt_histogram_t* histogram = histograms[h];
    for (size_t i = 0; i < IRT_HISTOGRAM_BUCKET_COUNT; ++i) {
      uint64_t n =
          atomic_load_explicit(&histogram->buckets[i], memory_order_relaxed);
      buckets[i] += n;
      total += n;
    }
    // Quantiles use the buckets' own total: records racing with this read
    // may have reached the count but not their bucket yet.
    out_summary->count +=
        atomic_load_explicit(&histogram->count, memory_order_relaxed);
    out_summary->sum +=
        atomic_load_explicit(&histogram->sum, memory_order_relaxed);
  }
  out_summary->p50 = irt_histogram_quantile(buckets, total, 0.50);
  out_summary->p90 = irt_histogram_quantile(buckets, total, 0.90);
  out_summary->p99 = irt_histogram_quantile(buckets, total, 0.99);
}
