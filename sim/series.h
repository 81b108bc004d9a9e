/*
 * series.h: time series of one run, sampled every `interval` of simulated
 * time (`triglav-sim run --series-interval MS`): what each uplink, each flow
 * and the tunnel did in the interval that ends at the sample's time.
 *
 * Everything comes from what a run can observe without reaching into the
 * cores: the links' counters (sim/link.h), the cores' public snapshots and
 * counters (core/endpoint.h) and the traffic models (sim/traffic.h). Rates
 * are over the interval; queues, windows and estimates are the value at the
 * sample's instant. Stored in the results database's series tables
 * (results/schema.sql) and drawn by `triglav-sim report --series`.
 */
#ifndef SIM_SERIES_H
#define SIM_SERIES_H

#include <stddef.h>
#include <stdint.h>

#include "core/endpoint.h"
#include "core/time.h"
#include "link.h"
#include "scenario.h"
#include "traffic.h"

/* The smallest interval accepted, and the default of --series. */
#define SIM_SERIES_MIN_US     1000
#define SIM_SERIES_DEFAULT_US 100000

/* One uplink in one interval. "up" is laptop -> server. */
struct sim_series_uplink {
    tg_time t_us;                       /* end of the interval, since the run started */
    uint32_t uplink;
    double up_bps, down_bps;            /* outer bytes the link delivered, as a rate */
    double share_up, share_down;        /* this uplink's part of the outer bytes the tunnel
                                           put on all uplinks in that direction (NAN: none) */
    uint64_t queue_up_bytes, queue_down_bytes; /* link queues at the instant */
    double owd_up_us, owd_down_us;      /* one-way delay the sending core's estimator holds
                                           (client: up, server: down; NAN: none yet) */
    double srtt_us;                     /* client's smoothed RTT of the uplink (NAN: none) */
    double rate_est_up_bps;             /* delivery-rate estimates the schedulers go by: the */
    double rate_est_down_bps;           /* client's (up) and the server's (down) */
    uint64_t drops;                     /* packets the link dropped, both directions */
    int health;                         /* enum tg_health, client side */
};

/* One flow in one interval. */
struct sim_series_flow {
    tg_time t_us;
    uint32_t flow;
    double goodput_bps;                 /* application bytes delivered, as a rate */
    double owd_us;                      /* mean one-way delay of what was delivered (NAN: nothing) */
    double cwnd_bytes;                  /* TCP/web: sender's window at the instant (NAN: not TCP) */
    uint64_t inflight_bytes;
    uint64_t retransmits;               /* TCP retransmissions in the interval */
};

/* The tunnel in one interval (client and server together). */
struct sim_series_tunnel {
    tg_time t_us;
    uint64_t reorder_peak_pkts;         /* the cores' reorder-buffer peak so far */
    uint64_t retransmitted;             /* packets the tunnel sent again after a NACK */
    uint64_t nacks;                     /* NACK frames sent */
    uint64_t late_drops;                /* packets that came after the reorder buffer gave up */
};

struct sim_series {
    tg_time interval_us;
    struct sim_series_uplink *up;
    size_t n_up, cap_up;
    struct sim_series_flow *flow;
    size_t n_flow, cap_flow;
    struct sim_series_tunnel *tun;
    size_t n_tun, cap_tun;
    /* the counters at the previous sample */
    tg_time last_us;
    uint64_t prev_link_delivered[SIM_MAX_UPLINKS][2];
    uint64_t prev_link_sent[SIM_MAX_UPLINKS][2];
    uint64_t prev_link_drops[SIM_MAX_UPLINKS];
    uint64_t *prev_flow;                /* per flow: bytes, retransmits, owd count, owd sum bits */
    size_t n_prev_flow;
    uint64_t prev_retx, prev_nacks, prev_late;
};

/* What a sample reads (valid during the call). */
struct sim_series_view {
    const struct sim_link *const (*links)[2]; /* [uplink][0 up, 1 down] */
    size_t n_uplinks;
    struct sim_flow *const *flows;
    size_t n_flows;
    const struct tg_client *client;
    const struct tg_server *server;
    const uint8_t *laptop_addr;         /* the session's tunnel address (NULL: not up yet) */
    int64_t clock_offset_us;            /* server core's clock - client core's (run.c) */
};

/* A series sampling every interval_us (>= SIM_SERIES_MIN_US), or NULL when
 * memory runs out. */
struct sim_series *sim_series_new(tg_time interval_us);
void sim_series_free(struct sim_series *s); /* NULL is fine */

/* Take the sample of the interval ending at `now`. Returns 0, or -1 when
 * memory runs out (the series then stops growing). */
int sim_series_sample(struct sim_series *s, const struct sim_series_view *v, tg_time now);

#endif
