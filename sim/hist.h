/*
 * hist.h: a log-linear histogram of non-negative values (delays in µs, gaps,
 * sizes) with fixed memory and about 1.6% relative error: values below 64 are
 * exact, above that each power of two is split into 64 buckets. Recording is
 * O(1); quantiles are read by walking the buckets. Exact mean, min and max
 * are kept beside the buckets.
 */
#ifndef SIM_HIST_H
#define SIM_HIST_H

#include <stdint.h>

#define SIM_HIST_SUB 64
#define SIM_HIST_BUCKETS (SIM_HIST_SUB * 40)

struct sim_hist {
    uint64_t count;
    double sum;
    uint64_t min, max;
    uint32_t bucket[SIM_HIST_BUCKETS];
};

void sim_hist_init(struct sim_hist *h);
void sim_hist_add(struct sim_hist *h, uint64_t v);
/* Merge b into a. */
void sim_hist_merge(struct sim_hist *a, const struct sim_hist *b);
/* The q-quantile (0..1) as the midpoint of its bucket, clamped to [min,max];
 * 0 when empty. */
double sim_hist_quantile(const struct sim_hist *h, double q);
double sim_hist_mean(const struct sim_hist *h);

#endif
