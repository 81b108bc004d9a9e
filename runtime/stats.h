/*
 * stats.h: an endpoint's counters and uplinks as text: log lines at exit,
 * the `triglav status` table and the Prometheus exposition format.
 */
#ifndef RT_STATS_H
#define RT_STATS_H

#include <stddef.h>

#include "core/endpoint.h"

void rt_stats_log(const char *who, const struct tg_endpoint_counters *c,
                  const struct tg_uplink_snapshot *up, size_t n);
const char *rt_health_name(enum tg_health h);

/* An output buffer that never overflows (text is cut at the end). */
struct rt_text {
    char *buf;
    size_t cap, len;
};
void rt_text_add(struct rt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The uplink table of `triglav status`; names[i] is uplink i's interface
 * (NULL: none). */
void rt_stats_table(struct rt_text *t, const struct tg_uplink_snapshot *up, size_t n,
                    const char *const names[TG_MAX_UPLINKS]);
/* Prometheus samples. `labels` is put in every sample ("" or `client="..."`,
 * no braces); with counters == NULL only the uplinks are written. */
void rt_stats_prometheus(struct rt_text *t, const char *labels,
                         const struct tg_endpoint_counters *c, const struct tg_uplink_snapshot *up,
                         size_t n, const char *const names[TG_MAX_UPLINKS]);

#endif
