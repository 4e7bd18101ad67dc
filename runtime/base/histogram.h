// A fixed-size log-scale histogram of 64-bit values (latencies in
// nanoseconds) that many threads record into without locks, for quantiles
// such as p50/p90/p99 over everything recorded since start.
//
// Buckets: values 0..7 each have their own; above that every power of two
// is split into 8 equal buckets, so a bucket's upper bound is at most 1/8
// (12.5%) above any value in it. 496 buckets cover all of uint64_t: memory
// is fixed (about 4 KiB) however many values are recorded.
//
// Recording is three relaxed atomic additions. Summaries read the buckets
// one by one while others may record, so they are a consistent-enough view
// for monitoring, not a snapshot.
#ifndef IRT_BASE_HISTOGRAM_H
#define IRT_BASE_HISTOGRAM_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define IRT_HISTOGRAM_SUB_BUCKET_BITS 3
#define IRT_HISTOGRAM_SUB_BUCKETS (1u << IRT_HISTOGRAM_SUB_BUCKET_BITS)
#define IRT_HISTOGRAM_BUCKET_COUNT \
  (IRT_HISTOGRAM_SUB_BUCKETS +     \
   (64 - IRT_HISTOGRAM_SUB_BUCKET_BITS) * IRT_HISTOGRAM_SUB_BUCKETS)

typedef struct irt_histogram_s {
  atomic_uint_fast64_t count;
  atomic_uint_fast64_t sum;  // wraps after 2^64 (585 years of nanoseconds)
  atomic_uint_fast64_t buckets[IRT_HISTOGRAM_BUCKET_COUNT];
} irt_histogram_t;

// Zeroes |histogram| (memory from calloc is already initialized).
void irt_histogram_initialize(irt_histogram_t* histogram);

void irt_histogram_record(irt_histogram_t* histogram, uint64_t value);

// The bucket |value| falls in, and the largest value of bucket |index|.
size_t irt_histogram_bucket_index(uint64_t value);
uint64_t irt_histogram_bucket_upper_bound(size_t index);

typedef struct irt_histogram_summary_s {
  uint64_t count;
  uint64_t sum;
  uint64_t p50;  // upper bounds of the buckets the quantiles fall in; 0 when
  uint64_t p90;  // nothing was recorded
  uint64_t p99;
} irt_histogram_summary_t;

void irt_histogram_summarize(const irt_histogram_t* histogram,
                             irt_histogram_summary_t* out_summary);

// The summary of |count| histograms taken as one (shards that different
// threads record into, so that no two of them write the same cache line).
void irt_histogram_summarize_all(const irt_histogram_t* const* histograms,
                                 size_t count,
                                 irt_histogram_summary_t* out_summary);

#endif  // IRT_BASE_HISTOGRAM_H
