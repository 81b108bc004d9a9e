/*
 * stats.h: the statistics of a report (analysis/, DESIGN.md §1): summaries of
 * a sample of runs (mean with a Student-t confidence interval, percentiles)
 * and of paired differences. Pure functions over arrays, built on GSL; they
 * know nothing of databases (dataset.h loads the samples) or of output
 * (report.h writes them).
 *
 * Percentiles interpolate linearly between order statistics (GSL's
 * gsl_stats_quantile_from_sorted_data, R's type 7): p50 of 1..5 is 3, p95 is
 * 4.8.
 */
#ifndef AN_STATS_H
#define AN_STATS_H

#include <stdbool.h>
#include <stddef.h>

/* Confidence level of every interval in a report. */
#define AN_CONFIDENCE 0.95

/* A sample of n values (NaN values are left out and not counted). */
struct an_summary {
    size_t n;        /* values summarised */
    double mean;     /* NaN when n == 0 */
    double sd;       /* sample standard deviation (n - 1); NaN when n < 2 */
    double ci_half;  /* half-width of the 95% CI of the mean: t(0.975, n-1) sd / sqrt(n);
                        NaN when n < 2 */
    double p50, p95, p99; /* percentiles over the sample; NaN when n == 0 */
    double min, max;
};

/* Summarise x[0..n). Reorders x (sorts it, NaNs last). */
void an_summarize(double *x, size_t n, struct an_summary *out);

/* Summarise the paired differences a[i] - b[i]; pairs where either side is
 * NaN are left out. tmp has room for n values (may alias neither a nor b). */
void an_summarize_diff(const double *a, const double *b, size_t n, double *tmp,
                       struct an_summary *out);

/* Quantile p of Student's t distribution with dof degrees of freedom
 * (gsl_cdf_tdist_Pinv). */
double an_t_quantile(double p, double dof);

/* Does the confidence interval of s include 0? True when it is undefined
 * (n < 2): too few pairs to tell two strategies apart. */
bool an_ci_includes_zero(const struct an_summary *s);

#endif
