/*
 * cc.h (private to the traffic models): congestion control of sim_tcp, i.e.
 * how many bytes may be in flight and how fast to pace them, from what ACKs,
 * losses and timeouts say. The connection keeps the scoreboard, detects
 * losses and calls these; this module never sees a packet.
 *
 *  - CUBIC (RFC 8312: C 0.4, beta 0.7, fast convergence, TCP-friendly
 *    region) with Linux's HyStart delay detection in slow start, and
 *    Linux's growth of at least 5% per round trip until a loss sets a
 *    maximum (again after a timeout);
 *  - Reno (RFC 5681: halve on loss, one segment per window per round trip);
 *  - BBR-like: bandwidth = max delivery rate over the last 10 rounds,
 *    min RTT over 10 s, startup at gain 2.89 until the bandwidth stops
 *    growing by 25% for 3 rounds, drain, then a gain cycle
 *    [1.25, 0.75, 1 x 6] of one min RTT each; cwnd = 2 x BDP; ProbeRTT
 *    (4 segments for 200 ms) when the min RTT is 10 s old. Loss does not
 *    change the model; an RTO drops cwnd to one segment, regrown by ACKs.
 * All start at 10 segments.
 */
#ifndef SIM_CC_H
#define SIM_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "traffic.h"

#define SIM_CC_BBR_CYCLE  8
#define SIM_CC_BBR_ROUNDS 10

/* What one ACK told congestion control. */
struct sim_cc_ack {
    uint64_t acked;              /* bytes newly ACKed, SACKed or DSACKed */
    uint64_t delivered;          /* connection total of the same, bytes */
    uint64_t inflight;           /* bytes in flight after this ACK */
    uint64_t una, nxt;           /* sequence numbers (HyStart's rounds) */
    tg_time rtt_us;              /* newest RTT sample of this ACK, or TG_TIME_NEVER */
    tg_time min_rtt_us;          /* the connection's, or TG_TIME_NEVER */
    tg_time srtt_us;             /* the connection's, 0 if unknown */
    bool grow;                   /* CUBIC/Reno: cwnd-limited and not in fast recovery */
    bool rs_valid, rs_applim;    /* a delivery-rate sample: bytes delivered since */
    uint64_t rs_prior_delivered; /* the connection had delivered this many, */
    tg_time rs_interval_us;      /* over this interval, app-limited or not */
};

struct sim_cc_state {
    enum sim_cc algo;
    double mss;
    double cwnd, ssthresh; /* bytes */
    struct {
        double w_max, k, origin, w_est; /* segments, seconds */
        tg_time epoch;                  /* TG_TIME_NEVER: a new epoch at the next ACK */
        uint64_t hs_end;                /* HyStart: the round ends when una reaches this */
        tg_time hs_rtt;                 /* min RTT of the round's first samples */
        unsigned hs_samples;
    } cubic;
    struct {
        int mode;
        double bw[SIM_CC_BBR_ROUNDS];         /* per-round max delivery rate, bytes/µs */
        uint64_t bw_round[SIM_CC_BBR_ROUNDS]; /* the round each slot holds */
        double max_bw;                        /* bytes/µs */
        uint64_t round, next_round_delivered;
        double full_bw;
        int full_cnt;
        bool filled; /* startup found the bottleneck */
        double pacing_gain, cwnd_gain;
        unsigned cycle;
        tg_time cycle_stamp;
        tg_time min_rtt, min_rtt_stamp, probe_rtt_done;
        bool probe_round_done;
    } bbr;
};

void sim_cc_init(struct sim_cc_state *cc, enum sim_cc algo, uint32_t mss);

/* An ACK delivered something (a->acked > 0). Returns true when the sender
 * should count itself application-limited (BBR's ProbeRTT, whose low rates
 * must not lower the bandwidth estimate). */
bool sim_cc_on_ack(struct sim_cc_state *cc, const struct sim_cc_ack *a, tg_time now);

/* A congestion event: fast recovery starts (CUBIC, Reno: reduce). */
void sim_cc_on_loss(struct sim_cc_state *cc);

/* A retransmission timeout: cwnd = 1 segment; ssthresh is reduced only for
 * a new episode (not already in recovery). */
void sim_cc_on_rto(struct sim_cc_state *cc, bool new_episode);

/* Undo a reduction that DSACKs proved spurious (Linux tcp_undo_cwnd_reduction):
 * cwnd and ssthresh go back to at least what prior (the state saved before
 * the reduction) held; CUBIC also gets its old maximum back. BBR: nothing. */
void sim_cc_undo(struct sim_cc_state *cc, const struct sim_cc_state *prior);

/* Bytes the sender may have in flight. */
double sim_cc_cwnd(const struct sim_cc_state *cc);

/* Pacing rate in bytes/µs; 0: not paced. */
double sim_cc_pacing(const struct sim_cc_state *cc);

#endif
