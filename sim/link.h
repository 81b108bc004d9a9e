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
 * Randomness comes from two GSL streams owned by the caller (loss, jitter),
 * so each random process of a run has its own stream. Packets are copied
 * into buffers from the link's own pool, sized at creation; the hot path
 * does not allocate.
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
    const struct sim_rate_step *steps;  /* piecewise-constant rate from t=0 */
    size_t n_steps;
    const struct sim_trace *trace;
    tg_time trace_offset_us;            /* position in the trace at t=0 */
    double trace_scale;                 /* capacity multiplier for the trace (1.0) */
    tg_time delay_us;                   /* propagation, one way */
    tg_time jitter_us;                  /* extra delay per packet, uniform in [0, 2*jitter] */
    enum sim_loss_model loss;
    double loss_p;                      /* Bernoulli */
    struct sim_ge ge;                   /* Gilbert-Elliott */
    uint64_t queue_bytes;               /* drop-tail limit (0 = 64 KB) */
    const struct sim_interval *down;    /* sorted, non-overlapping */
    size_t n_down;
};

typedef void (*sim_deliver_fn)(void *ctx, uint8_t *pkt, size_t len, tg_time now);

struct sim_link_stats {
    uint64_t sent_pkts, sent_bytes;         /* offered to the link */
    uint64_t delivered_pkts, delivered_bytes;
    uint64_t drop_queue, drop_loss, drop_down;
    uint64_t max_queue_bytes;
};

struct sim_link;

/* Create a link scheduling on `q`, delivering to deliver(ctx, ...).
 * loss_rng / jitter_rng may be NULL when the model does not need them.
 * Returns NULL when memory runs out or the config is invalid (NaN, negative). */
struct sim_link *sim_link_new(const struct sim_link_config *c, struct sim_evq *q,
                              gsl_rng *loss_rng, gsl_rng *jitter_rng,
                              sim_deliver_fn deliver, void *ctx);
void sim_link_free(struct sim_link *l);

/* Offer a packet (len <= SIM_PKT_MAX) at the queue's current time. Returns
 * true if accepted into the queue, false if dropped (counted). */
bool sim_link_send(struct sim_link *l, const uint8_t *pkt, size_t len);

/* Is the link up at time t (per its down schedule)? */
bool sim_link_is_up(const struct sim_link *l, tg_time t);

const struct sim_link_stats *sim_link_stats(const struct sim_link *l);

#endif
