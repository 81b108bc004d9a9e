/*
 * stats.h: an endpoint's counters and uplinks as text: log lines at exit,
 * the `triglav status` table, the throughput measured between samples of
 * the byte counters, and the Prometheus text exposition format (version
 * 0.0.4: every family with `# HELP` and `# TYPE`, its samples together).
 * The metric names, types and labels are documented in runtime/README.md
 * ("Metrics"); nothing here touches a socket.
 */
#ifndef RT_STATS_H
#define RT_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "core/endpoint.h"

void rt_stats_log(const char *who, const struct tg_endpoint_counters *c,
                  const struct tg_uplink_snapshot *up, size_t n);
/* One client of a server at exit: the sums over its uplinks, then one line
 * per uplink (what this client sent and received, not the server's). */
void rt_stats_log_peer(const char *who, const struct tg_uplink_snapshot *up, size_t n);
const char *rt_health_name(enum tg_health h);

/* An output buffer that never overflows (text is cut at the end; a cut
 * text has len == cap - 1). */
struct rt_text {
    char *buf;
    size_t cap, len;
};
void rt_text_add(struct rt_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ throughput */

/* Throughput measured from an ever-growing byte counter: the counter is
 * sampled at least RT_RATE_INTERVAL_US apart and the rate is the one over
 * the last whole interval; when no sample was taken for longer than that,
 * the rate is over the time since the last sample, up to now. A counter
 * that goes back (its uplink slot was reused) starts again from 0. */
#define RT_RATE_INTERVAL_US TG_SEC(1)
struct rt_rate {
    bool have;      /* a first sample was taken */
    tg_time at;     /* the last sample */
    uint64_t bytes; /* ... its value */
    double bps;     /* bits per second over the interval before it */
};
/* Take a sample if the last one is at least RT_RATE_INTERVAL_US old. */
void rt_rate_update(struct rt_rate *r, tg_time now, uint64_t bytes);
/* Bits per second now, given the counter's current value; 0 before a
 * first sample. */
double rt_rate_bps(const struct rt_rate *r, tg_time now, uint64_t bytes);

/* The measured send and receive rates of each uplink slot of a client. */
struct rt_uplink_rates {
    struct rt_rate tx[TG_MAX_UPLINKS], rx[TG_MAX_UPLINKS];
    tg_time next; /* the next sample is due then */
};
/* Is a sample due (so that a loop takes snapshots only then)? */
bool rt_uplink_rates_due(const struct rt_uplink_rates *r, tg_time now);
/* Sample the uplinks' tx_bytes and rx_bytes. */
void rt_uplink_rates_update(struct rt_uplink_rates *r, tg_time now,
                            const struct tg_uplink_snapshot *up, size_t n);

/* The uplink table of `triglav status`; names[i] is uplink i's interface
 * (NULL: none). With rates (NULL: not measured) the measured send and
 * receive throughput of each uplink is shown beside the core's estimate of
 * its delivery rate. */
void rt_stats_table(struct rt_text *t, const struct tg_uplink_snapshot *up, size_t n,
                    const char *const names[TG_MAX_UPLINKS], const struct rt_uplink_rates *rates,
                    tg_time now);

/* ------------------------------------------------------------ Prometheus */

/* The uplinks of one peer: on a client its session, on a server one client
 * (addr: its tunnel address). */
struct rt_metrics_peer {
    uint8_t addr[4];
    const struct tg_uplink_snapshot *up;
    size_t n;
};

struct rt_metrics {
    bool server;
    const struct tg_endpoint_counters *counters; /* the whole endpoint */
    /* client */
    int connection_state; /* RT_CONN_* */
    uint32_t nat_entries;
    const char *const *names; /* [TG_MAX_UPLINKS]: interface of each uplink slot */
    /* server */
    uint32_t sessions;
    /* client: one peer (n_peers 0 before the session is up); server: one
     * per live session */
    const struct rt_metrics_peer *peers;
    size_t n_peers;
};

enum { RT_CONN_CONNECTING = 0, RT_CONN_CONNECTED = 1, RT_CONN_NO_PATH = 2 };
/* A session's state for triglav_connection_state: connecting without a
 * session, else connected while some uplink is keyed and not Down. */
int rt_stats_connection_state(bool session_up, const struct tg_uplink_snapshot *up, size_t n);
/* Uplinks that carry traffic: keyed and not Down. */
unsigned rt_stats_active_uplinks(const struct tg_uplink_snapshot *up, size_t n);

/* The whole Prometheus text of one endpoint. */
void rt_stats_prometheus(struct rt_text *t, const struct rt_metrics *m);

/* ------------------------------------------------- a server's clients */

/* Measured throughput per client of a server: the byte sums over each
 * session's uplinks sampled once an interval, matched by tunnel address
 * with the sample before. O(sessions) per sample. */
struct rt_peer_rate {
    uint8_t addr[4];
    uint64_t tx, rx;       /* sums of tx_bytes and rx_bytes at the sample */
    double tx_bps, rx_bps; /* over the interval before it (0 for a new client) */
};
struct rt_peer_rates {
    struct rt_peer_rate *v; /* sorted by address */
    size_t n;
    tg_time at, next;
};
bool rt_peer_rates_due(const struct rt_peer_rates *r, tg_time now);
/* Replace the samples by now's; peers sorted by address. Returns false
 * without memory (the old samples stay). */
bool rt_peer_rates_update(struct rt_peer_rates *r, tg_time now, const struct rt_metrics_peer *peers,
                          size_t n);
/* The rates of the client at addr (false, zeros: not sampled yet). */
bool rt_peer_rates_get(const struct rt_peer_rates *r, const uint8_t addr[4], double *tx_bps,
                       double *rx_bps);
void rt_peer_rates_free(struct rt_peer_rates *r);

#endif
