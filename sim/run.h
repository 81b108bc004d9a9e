/*
 * run.h: one simulation run (DESIGN.md §5): one scenario, one strategy, one
 * aggregation mode, one iteration. It wires a real client core and a real
 * server core (crypto on) through the scenario's links, runs the traffic
 * models behind them in virtual time, and measures.
 *
 * Common random numbers: everything random in the environment (uplink
 * parameters, event times, loss and jitter, traffic) comes from GSL streams
 * seeded from (seed, stream number) only, never from the strategy, so every
 * strategy of a sweep meets the same draws. Per-packet loss and jitter
 * streams are consumed per packet, so they stay common only as long as two
 * strategies put the same packets on a link; the environment's events and
 * link parameters are common always.
 *
 * A run is a pure function of its spec: same spec, same result, on any
 * thread (each run owns all its state).
 */
#ifndef SIM_RUN_H
#define SIM_RUN_H

#include <stdint.h>

#include "hist.h"
#include "scenario.h"
#include "series.h"

/* Open-loop replay (sim/replay.h drives it): recorded IP packets go into
 * the cores' TUN sides instead of the scenario's [[traffic]] flows, which are
 * not started. Packet i goes in at session_up + pkts[i].at_us, on the client
 * core (from laptop) or the server core (from outside), fed directly from
 * its own event. Every packet the cores put out on a TUN side goes to
 * deliver() instead of the flows. The run lasts until the scenario's
 * duration or, if later, until the last packet's time + drain_us (when the
 * tunnel came up); what is still in flight then is lost. */
struct sim_replay_pkt {
    tg_time at_us;                  /* offset from the first packet, non-decreasing */
    enum sim_side from;             /* SIM_SIDE_LAPTOP: up; SIM_SIDE_OUTSIDE: down */
    const uint8_t *data;            /* the packet as the tunnel carries it (set by session_up) */
    size_t len;
};

struct sim_replay_src {
    const struct sim_replay_pkt *pkts; /* read only after session_up() was called */
    size_t n;
    tg_time drain_us;               /* the run goes on this long after the last packet */
    void *ctx;
    /* The tunnel is up with this client address: fill pkts[].data now. */
    void (*session_up)(void *ctx, const uint8_t tunnel_addr[4], tg_time now);
    /* Packet i went into its core: rc is TG_OK or the TG_ERR_* of the core's
     * drop; bit u of uplinks is set when uplink u was offered a datagram
     * while the core took the packet in (the uplinks that carry it). */
    void (*sent)(void *ctx, size_t i, int rc, uint32_t uplinks, tg_time now);
    /* A packet came out of a core's TUN side, at host `at` (valid during the call). */
    void (*deliver)(void *ctx, enum sim_side at, const uint8_t *pkt, size_t len, tg_time now);
};

struct sim_run_spec {
    const struct sim_scenario *sc;
    enum tg_strategy strategy;
    enum tg_aggregation aggregation;
    uint32_t iteration;
    uint64_t seed;          /* this iteration's seed (sim_iteration_seed) */
    struct sim_hist *dgram_sizes; /* if not NULL, the size of every datagram sent is added */
    const struct sim_replay_src *replay; /* if not NULL, replay instead of the flows (above) */
    tg_time series_interval_us;     /* > 0: sample a time series (series.h) this often; 0: none */
};

/* The seed of iteration `i` of a campaign with base seed `base` over scenario
 * `sc` (mixes the scenario's name, so two scenarios never share streams). */
uint64_t sim_iteration_seed(uint64_t base, const struct sim_scenario *sc, uint32_t i);

struct sim_uplink_result {
    char name[SIM_NAME_MAX];
    uint64_t bytes_up, bytes_down;          /* outer bytes offered to the link each way */
    uint64_t delivered_up, delivered_down;  /* outer bytes the link delivered */
    uint64_t drops_up, drops_down;          /* queue + loss + down */
    double capacity_up_bps, capacity_down_bps; /* mean capacity while up (from its config) */
    tg_time down_us;                        /* time down: events, plus stretches of >= 1 s with no capacity (trace gaps) */
    uint32_t outages;                       /* down periods (events and trace gaps) that started during the run */
};

struct sim_flow_result {
    unsigned id;
    enum sim_flow_kind kind;
    enum sim_cc cc;
    enum sim_dir dir;
    uint64_t bytes_delivered;
    double goodput_bps;                     /* bytes_delivered * 8 / active time */
    tg_time completion_us;                  /* TG_TIME_NEVER when not a sized transfer or unfinished */
    double owd_p50_us, owd_p95_us, owd_p99_us;
    double jitter_us;
    double loss;                            /* UDP: lost / sent; TCP: retransmits / segments sent */
    tg_time longest_stall_us;
    uint64_t retransmits, spurious_retransmits, rto_count;
    uint64_t objects_done;
};

struct sim_event_count {
    char name[SIM_NAME_MAX];
    uint32_t occurrences;                   /* occurrences that started within the run */
    tg_time total_us;                       /* summed length, clipped to the run */
};

struct sim_run_result {
    double goodput_bps;             /* all flows, both directions */
    double goodput_down_bps, goodput_up_bps;
    double capacity_bps;            /* sum of the uplinks' link rates in the bulk direction, averaged over the run (down = 0), outer packets */
    double efficiency;              /* bulk-direction goodput / capacity (sized transfers: over the time they took) */
    double owd_p50_us, owd_p95_us, owd_p99_us;  /* over every delivered packet of every flow */
    double jitter_us;               /* mean over UDP flows (0 if none) */
    double loss;                    /* UDP packets lost after the tunnel / sent (0 if no UDP) */
    uint64_t reorder_peak;          /* client and server reorder buffers, packets */
    tg_time longest_stall_us;       /* longest delivery gap of any flow */
    uint32_t failovers;             /* client + server scheduler failovers */
    tg_time failover_us;            /* longest delivery gap of one flow, while it had data outstanding, overlapping the 2 s after a down event starts (TG_TIME_NEVER: no down event) */
    double redundancy_overhead;     /* extra copies: IP bytes sent over all uplinks / IP bytes sent - 1 (0 when each packet went once) */
    uint32_t defining_events;       /* occurrences of the scenario's defining event */
    tg_time session_up_us;          /* when the tunnel came up */
    uint64_t sim_events;            /* events executed */
    uint64_t packets;               /* datagrams through the cores, both ways */
    struct sim_uplink_result uplinks[SIM_MAX_UPLINKS];
    size_t n_uplinks;
    struct sim_flow_result flows[SIM_MAX_FLOWS * 4];
    size_t n_flows;
    struct sim_event_count events[SIM_MAX_EVENTS];
    size_t n_events;
    struct sim_series *series;      /* spec.series_interval_us > 0: the run's time series, owned
                                       by the caller (sim_series_free); else NULL */
};

/* Run. Returns 0, or -1 with a message in err (out of memory, a core that
 * refused its configuration). */
int sim_run(const struct sim_run_spec *spec, struct sim_run_result *res, char *err, size_t errlen);

#endif
