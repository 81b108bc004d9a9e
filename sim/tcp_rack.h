/*
 * tcp_rack.h: RACK's adaptive reordering window (RFC 8985 section 6.2, as
 * Linux's tcp_rack_update_reo_wnd does it) for the simulator's TCP model.
 *
 * The window is counted in steps of min_rtt/4 and capped at the smoothed
 * RTT. A DSACK (a retransmission turned out spurious) widens it by one
 * step, at most once per round trip; after 16 loss recoveries without a
 * DSACK it falls back to one step. Pure state, no clock: the connection
 * feeds it what its ACKs said. Not the loss detection itself (tcp.c).
 */
#ifndef TRIGLAV_SIM_TCP_RACK_H
#define TRIGLAV_SIM_TCP_RACK_H

#include "traffic.h"

#include <stdbool.h>
#include <stdint.h>

#define SIM_RACK_STEPS_MAX     255u
#define SIM_RACK_RECOVERY_KEEP 16u /* recoveries a widened window outlives */

struct sim_rack_reo {
    unsigned steps;          /* window = steps x min_rtt/4, 1..SIM_RACK_STEPS_MAX */
    unsigned persist;        /* recoveries left before steps decays to 1 */
    bool dsack_seen;         /* a DSACK arrived since the last update */
    uint64_t last_delivered; /* bytes delivered when the window last grew */
};

/* One step, nothing seen. */
void sim_rack_reo_init(struct sim_rack_reo *r);

/* A DSACK reported a spurious retransmission. */
void sim_rack_reo_on_dsack(struct sim_rack_reo *r);

/* After an ACK that carried a rate sample: prior_delivered is the delivered
 * count when the newest acknowledged segment was sent, delivered the count
 * now. A DSACK seen within a round trip of the last widening is ignored. */
void sim_rack_reo_update(struct sim_rack_reo *r, uint64_t prior_delivered, uint64_t delivered);

/* A loss recovery began. */
void sim_rack_reo_on_recovery(struct sim_rack_reo *r);

/* The window in µs: min(steps x min_rtt/4, srtt); 0 without a min_rtt
 * (TG_TIME_NEVER). srtt 0 means no smoothed RTT yet (no cap). */
tg_time sim_rack_reo_wnd(const struct sim_rack_reo *r, tg_time min_rtt_us, tg_time srtt_us);

#endif
