/*
 * link.h: one direction of one simulated uplink (DESIGN.md §5): a byte-limited
 * drop-tail queue in front of a bottleneck whose rate is fixed, scheduled, or
 * driven by a trace; then propagation delay with jitter; a loss model
 * (Bernoulli or Gilbert-Elliott); and an up/down schedule.
 *
 * Order of things for one packet: it arrives (sim_link_send); if the link is
 * down it is dropped (DOWN); if the queue would exceed queue_bytes it is
 * dropped (QUEUE); otherwise it waits its turn and is serialised at the
 * current rate (it uses capacity even if it is then lost); the loss model
 * decides (LOSS); then it propagates delay + jitter and is handed to the
 * deliver callback. Delivery is FIFO per link: jitter never reorders packets
 * on one link (cellular and WiFi links deliver in order; reordering in a
 * multipath run comes from the paths' differences, as in reality). When an
 * outage starts the queue is flushed (counted as DOWN) and packets already in
 * flight still arrive. While down, nothing is serialised.
 *
 * What a packet costs is its IP packet: the simulator hands the link UDP
 * payloads (header_bytes = SIM_UDP4_HEADERS, which every datagram carries on
 * a real uplink), the emulator Ethernet frames (header_bytes =
 * -SIM_ETH_HEADER), so a scenario's rate, queue and trace mean the same on both sides
 * (Mahimahi's traces count IP packets too). At least 1 byte is charged.
 *
 * Randomness comes from two GSL streams owned by the caller (loss, jitter),
 * so each random process of a run has its own stream. Packets are copied
 * into buffers from the link's own pool, which grows in chunks of 64 and
 * never shrinks; in the steady state the hot path does not allocate.
 *
 * Boundaries, so results do not depend on event order at equal times:
 *  - the packet being serialised still counts toward queue_bytes;
 *  - a packet whose last bit leaves exactly at an outage start gets out; a
 *    Mahimahi opportunity at exactly an outage start is not used;
 *  - Mahimahi: an opportunity at time t serves only packets that arrived
 *    before t (Mahimahi advances its clock before enqueueing), so a packet
 *    sent at exactly t waits for a later one. Bytes per opportunity are
 *    1504 x trace_scale (rounded);
 *  - a departure at a fractional µs (rate path) is rounded up to the next µs;
 *    finish times themselves are kept exact, so rates do not drift.
 * Gilbert-Elliott starts in the good state; per packet, the current state
 * decides the loss, then the state moves (two draws per packet).
 *
 * Events: the link keeps at most one transmitter, one delivery and one
 * outage event pending. They point at the link, so once it is freed the
 * event queue must not be run again (clear it first, or free links after
 * the run).
 */
#ifndef SIM_LINK_H
#define SIM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "evq.h"
#include "trace.h"

#define SIM_PKT_MAX 1600
#define SIM_UDP4_HEADERS 28 /* IPv4 + UDP: a datagram's cost beyond its payload */
#define SIM_ETH_HEADER   14 /* what an Ethernet frame carries beyond its IP packet */

enum sim_loss_model { SIM_LOSS_NONE = 0, SIM_LOSS_BERNOULLI, SIM_LOSS_GE };

struct sim_ge {
    double p_gb;        /* P(good -> bad) per packet */
    double p_bg;        /* P(bad -> good) per packet */
    double loss_good;   /* loss probability in the good state (often 0) */
    double loss_bad;    /* loss probability in the bad state (often 1) */
};

struct sim_interval { tg_time start_us, end_us; }; /* [start, end) */

struct sim_link_config {
    /* capacity: trace if set, else schedule if n_steps > 0, else rate_bps */
    double rate_bps;                    /* 0 = unlimited (no serialisation delay) */
    const struct sim_rate_step *steps;  /* piecewise-constant rate; steps[0].at_us must
                                           be 0; the last holds forever; copied */
    size_t n_steps;
    const struct sim_trace *trace;      /* shared, must outlive the link */
    tg_time trace_offset_us;            /* position in the trace at t=0 */
    double trace_scale;                 /* capacity multiplier for the trace (0 = 1.0) */
    tg_time delay_us;                   /* propagation, one way */
    tg_time jitter_us;                  /* extra delay per packet, uniform in [0, 2*jitter] */
    enum sim_loss_model loss;
    double loss_p;                      /* Bernoulli */
    struct sim_ge ge;                   /* Gilbert-Elliott */
    uint64_t queue_bytes;               /* drop-tail limit (0 = 64 KB) */
    int32_t header_bytes;               /* what a packet costs beyond the bytes handed to
                                           sim_link_send (queue, serialisation, trace
                                           opportunities, byte counts): see below */
    const struct sim_interval *down;    /* sorted, non-overlapping; copied */
    size_t n_down;
};

/* pkt points into the link's buffer: valid during the call only, and the
 * callee may modify it in place. */
typedef void (*sim_deliver_fn)(void *ctx, uint8_t *pkt, size_t len, tg_time now);

struct sim_link_stats {
    uint64_t sent_pkts, sent_bytes;         /* offered to the link */
    uint64_t delivered_pkts, delivered_bytes;
    uint64_t drop_queue, drop_loss, drop_down;
    uint64_t max_queue_bytes;
    uint64_t queued_bytes, queued_pkts;     /* in the queue now (incl. the one being served) */
    uint64_t alloc_fail;                    /* buffers or events that could not be allocated
                                               (nonzero: sim_run fails the run) */
};

struct sim_link;

/* Create a link scheduling on `q`, delivering to deliver(ctx, ...) (NULL:
 * only count). loss_rng / jitter_rng may be NULL when the model does not need
 * them. Returns NULL when memory runs out or the config is invalid (NaN,
 * negative, probabilities outside [0,1], unsorted steps or intervals, a
 * needed rng missing). */
struct sim_link *sim_link_new(const struct sim_link_config *c, struct sim_evq *q,
                              gsl_rng *loss_rng, gsl_rng *jitter_rng,
                              sim_deliver_fn deliver, void *ctx);
void sim_link_free(struct sim_link *l);

/* Offer a packet (len <= SIM_PKT_MAX) at the queue's current time. Returns
 * true if accepted into the queue, false if dropped (counted: DOWN while
 * down, QUEUE when it would not fit or len > SIM_PKT_MAX). May be called
 * from any deliver callback, including this link's own. */
bool sim_link_send(struct sim_link *l, const uint8_t *pkt, size_t len);

/* Is the link up at time t (per its down schedule)? */
bool sim_link_is_up(const struct sim_link *l, tg_time t);

const struct sim_link_stats *sim_link_stats(const struct sim_link *l);

#endif
