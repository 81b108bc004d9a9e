/* stats.c: see stats.h. */
#include "stats.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>
#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    /* NaNs sort last so the first n values are the sample */
    if (isnan(x) || isnan(y))
        return isnan(x) - isnan(y);
    return (x > y) - (x < y);
}

double an_t_quantile(double p, double dof)
{
    return gsl_cdf_tdist_Pinv(p, dof);
}

void an_summarize(double *x, size_t n, struct an_summary *out)
{
    if (n > 0)
        qsort(x, n, sizeof *x, cmp_double);
    size_t k = 0;
    while (k < n && !isnan(x[k]))
        k++;
    *out = (struct an_summary){.n = k, .mean = NAN, .sd = NAN, .ci_half = NAN, .p50 = NAN,
                               .p95 = NAN, .p99 = NAN, .min = NAN, .max = NAN};
    if (k == 0)
        return;
    out->mean = gsl_stats_mean(x, 1, k);
    out->min = x[0];
    out->max = x[k - 1];
    out->p50 = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.50);
    out->p95 = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.95);
    out->p99 = gsl_stats_quantile_from_sorted_data(x, 1, k, 0.99);
    if (k < 2)
        return;
    out->sd = gsl_stats_sd_m(x, 1, k, out->mean);
    double t = an_t_quantile(1.0 - (1.0 - AN_CONFIDENCE) / 2.0, (double)(k - 1));
    out->ci_half = t * out->sd / sqrt((double)k);
}

void an_summarize_diff(const double *a, const double *b, size_t n, double *tmp,
                       struct an_summary *out)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = a[i] - b[i]; /* NaN on either side gives NaN: left out */
    an_summarize(tmp, n, out);
}

bool an_ci_includes_zero(const struct an_summary *s)
{
    if (s->n < 2 || isnan(s->ci_half))
        return true;
    return s->mean - s->ci_half <= 0.0 && s->mean + s->ci_half >= 0.0;
}
