/* hist.c: see hist.h. Bucket b < 64 holds value b; above, bucket index is
 * 64*(e-5) + (v >> (e-6)) for v with highest set bit e (e >= 6). */
#include "hist.h"

#include <string.h>

void sim_hist_init(struct sim_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static unsigned index_of(uint64_t v)
{
    if (v < SIM_HIST_SUB)
        return (unsigned)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);            /* >= 6 */
    unsigned idx = SIM_HIST_SUB * (e - 5) + (unsigned)((v >> (e - 6)) - SIM_HIST_SUB);
    return idx < SIM_HIST_BUCKETS ? idx : SIM_HIST_BUCKETS - 1;
}

/* [lo, hi) of bucket i */
static void bounds(unsigned i, double *lo, double *hi)
{
    if (i < SIM_HIST_SUB) {
        *lo = i;
        *hi = i + 1.0;
        return;
    }
    unsigned e = i / SIM_HIST_SUB + 5, m = i % SIM_HIST_SUB + SIM_HIST_SUB;
    double w = (double)(1ull << (e - 6));
    *lo = m * w;
    *hi = (m + 1) * w;
}

void sim_hist_add(struct sim_hist *h, uint64_t v)
{
    h->bucket[index_of(v)]++;
    h->count++;
    h->sum += (double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void sim_hist_merge(struct sim_hist *a, const struct sim_hist *b)
{
    for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++)
        a->bucket[i] += b->bucket[i];
    a->count += b->count;
    a->sum += b->sum;
    if (b->min < a->min)
        a->min = b->min;
    if (b->max > a->max)
        a->max = b->max;
}

double sim_hist_quantile(const struct sim_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return (double)h->min;
    if (q >= 1)
        return (double)h->max;
    uint64_t rank = (uint64_t)(q * (double)(h->count - 1)) + 1, seen = 0;
    for (unsigned i = 0; i < SIM_HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen >= rank) {
            double lo, hi;
            bounds(i, &lo, &hi);
            double v = i < SIM_HIST_SUB ? lo : (lo + hi) / 2;
            if (v < (double)h->min)
                v = (double)h->min;
            if (v > (double)h->max)
                v = (double)h->max;
            return v;
        }
    }
    return (double)h->max;
}

double sim_hist_mean(const struct sim_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0;
}
