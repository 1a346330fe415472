/*
 * bench/lg_hist.c: a log-linear histogram for latencies in nanoseconds.
 *
 * Values below 128 have a bucket each; above, every power of two is split into 128
 * sub-buckets, so a bucket is at most 1/128 (< 0.8%) of its value wide: the error on a
 * reported percentile. Constant memory (about 30 KB), O(1) insert, no sorting, which
 * matters at a million deliveries per second. The maximum is kept exactly.
 */
#include <string.h>

#include "lg.h"

void lg_hist_reset(lg_hist_t *h) { memset(h, 0, sizeof *h); }

static unsigned bucket(uint64_t v) {
  if (v < 128) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= 7 */
  unsigned sub = (unsigned)(v >> (e - 7)) & 127u;
  return (e - 6) * 128u + sub;
}

/* The middle of bucket i's value range. */
static uint64_t bucket_mid(unsigned i) {
  if (i < 128) return i;
  unsigned e = i / 128 + 6, sub = i % 128;
  uint64_t lo = (uint64_t)(128 + sub) << (e - 7);
  return lo + ((1ull << (e - 7)) >> 1);
}

void lg_hist_add(lg_hist_t *h, uint64_t v) {
  h->b[bucket(v)]++;
  h->count++;
  h->sum += v;
  if (v > h->max) h->max = v;
}

uint64_t lg_hist_quantile(const lg_hist_t *h, double q) {
  if (h->count == 0) return 0;
  /* The smallest value with at least q of the samples at or below it. */
  uint64_t rank = (uint64_t)(q * (double)h->count + 0.999999);
  if (rank == 0) rank = 1;
  if (rank >= h->count) return h->max;
  uint64_t seen = 0;
  for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
    seen += h->b[i];
    if (seen >= rank) {
      uint64_t m = bucket_mid(i);
      return m > h->max ? h->max : m;
    }
  }
  return h->max;
}
