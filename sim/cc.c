/* cc.c: see cc.h. Windows are in bytes; CUBIC computes in segments as
 * RFC 8312 does; BBR rates are bytes per µs. */
#include "cc.h"

#include <math.h>

#define INIT_CWND_SEGS 10

#define CUBIC_C    0.4
#define CUBIC_BETA 0.7

#define HYSTART_LOW_WINDOW 16
#define HYSTART_SAMPLES    8
#define HYSTART_MIN_US     TG_MSEC(4)
#define HYSTART_MAX_US     TG_MSEC(16)

#define BBR_HIGH_GAIN      2.89
#define BBR_MIN_RTT_WIN_US TG_SEC(10)
#define BBR_PROBE_RTT_US   TG_MSEC(200)
#define BBR_MIN_CWND_SEGS  4

enum { BBR_STARTUP, BBR_DRAIN, BBR_PROBE_BW, BBR_PROBE_RTT };

static const double bbr_gains[SIM_CC_BBR_CYCLE] = {1.25, 0.75, 1, 1, 1, 1, 1, 1};

/* ---- CUBIC and Reno ---- */

/* The cubic curve is read one round trip ahead, W_cubic(t + RTT), with the
 * connection's minimum RTT as Linux does (delay_min), not the smoothed one:
 * with a bloated queue the smoothed RTT is several times the minimum and would
 * run the curve that much further ahead of the clock. */
static void cubic_avoid(struct sim_cc_state *cc, double acked, tg_time rtt, tg_time now)
{
    double mss = cc->mss, w = cc->cwnd / mss;
    if (cc->cubic.epoch == TG_TIME_NEVER) {
        cc->cubic.epoch = now;
        if (w < cc->cubic.w_max) {
            cc->cubic.k = cbrt((cc->cubic.w_max - w) / CUBIC_C);
            cc->cubic.origin = cc->cubic.w_max;
        } else {
            cc->cubic.k = 0;
            cc->cubic.origin = w;
        }
        cc->cubic.w_est = w;
    }
    double t = (double)(now - cc->cubic.epoch + rtt) / 1e6 - cc->cubic.k; /* W_cubic(t + RTT) */
    double target = CUBIC_C * t * t * t + cc->cubic.origin;
    if (target > 1.5 * w)
        target = 1.5 * w;
    double segs = acked / mss;
    cc->cubic.w_est += 3 * (1 - CUBIC_BETA) / (1 + CUBIC_BETA) * segs / w;
    if (target < cc->cubic.w_est) {
        if (cc->cubic.w_est > w)
            cc->cwnd = cc->cubic.w_est * mss; /* TCP-friendly region */
    } else if (target > w) {
        cc->cwnd += mss * (target - w) / w * segs;
    } else {
        cc->cwnd += mss * 0.01 * segs / w;
    }
    /* Linux: until a loss has set a maximum (w_max 0: none yet, or reset by a
     * timeout) the window grows at least 5% per round trip (cnt <= 20), as
     * the cubic curve from the window where slow start ended is flat */
    if (cc->cubic.w_max == 0 && cc->cwnd < (w + segs / 20) * mss)
        cc->cwnd = (w + segs / 20) * mss;
}

/* Linux CUBIC's HyStart (delay increase): leave slow start when the first
 * RTT samples of a round are clamp(min_rtt/8, 4 ms, 16 ms) above min_rtt,
 * before a drop-tail queue overflows by a whole window. */
static void hystart(struct sim_cc_state *cc, const struct sim_cc_ack *a)
{
    if (cc->cwnd >= cc->ssthresh)
        return;
    if (a->una >= cc->cubic.hs_end) {
        cc->cubic.hs_end = a->nxt;
        cc->cubic.hs_rtt = TG_TIME_NEVER;
        cc->cubic.hs_samples = 0;
    }
    if (a->rtt_us == TG_TIME_NEVER || a->min_rtt_us == TG_TIME_NEVER ||
        cc->cwnd < HYSTART_LOW_WINDOW * cc->mss || cc->cubic.hs_samples >= HYSTART_SAMPLES)
        return;
    tg_time thresh = a->min_rtt_us / 8;
    thresh = thresh < HYSTART_MIN_US   ? HYSTART_MIN_US
             : thresh > HYSTART_MAX_US ? HYSTART_MAX_US
                                       : thresh;
    if (a->rtt_us < cc->cubic.hs_rtt)
        cc->cubic.hs_rtt = a->rtt_us;
    if (++cc->cubic.hs_samples == HYSTART_SAMPLES && cc->cubic.hs_rtt > a->min_rtt_us + thresh)
        cc->ssthresh = cc->cwnd;
}

static void grow(struct sim_cc_state *cc, const struct sim_cc_ack *a, tg_time now)
{
    double acked = (double)a->acked;
    if (cc->algo == SIM_CC_CUBIC)
        hystart(cc, a);
    if (cc->cwnd < cc->ssthresh) { /* slow start */
        double ss = fmin(acked, cc->ssthresh - cc->cwnd);
        cc->cwnd += ss;
        acked -= ss;
        if (acked <= 0)
            return;
    }
    if (cc->algo == SIM_CC_RENO)
        cc->cwnd += cc->mss * acked / cc->cwnd;
    else
        cubic_avoid(cc, acked, a->min_rtt_us != TG_TIME_NEVER ? a->min_rtt_us : a->srtt_us, now);
}

/* ---- BBR ---- */

static double bdp(const struct sim_cc_state *cc, double gain)
{
    if (cc->bbr.max_bw <= 0 || cc->bbr.min_rtt == TG_TIME_NEVER)
        return INIT_CWND_SEGS * cc->mss;
    return gain * cc->bbr.max_bw * (double)cc->bbr.min_rtt;
}

static void bbr_enter(struct sim_cc_state *cc, int mode, tg_time now)
{
    cc->bbr.mode = mode;
    switch (mode) {
    case BBR_STARTUP:
        cc->bbr.pacing_gain = cc->bbr.cwnd_gain = BBR_HIGH_GAIN;
        break;
    case BBR_DRAIN:
        cc->bbr.pacing_gain = 1 / BBR_HIGH_GAIN;
        cc->bbr.cwnd_gain = BBR_HIGH_GAIN;
        break;
    case BBR_PROBE_BW:
        cc->bbr.cycle = 2;
        cc->bbr.cycle_stamp = now;
        cc->bbr.pacing_gain = bbr_gains[cc->bbr.cycle];
        cc->bbr.cwnd_gain = 2;
        break;
    default: /* BBR_PROBE_RTT */
        cc->bbr.pacing_gain = cc->bbr.cwnd_gain = 1;
        cc->bbr.probe_rtt_done = TG_TIME_NEVER;
        break;
    }
}

static void bbr_bandwidth(struct sim_cc_state *cc, const struct sim_cc_ack *a)
{
    if (!a->rs_valid || a->rs_interval_us == 0)
        return;
    double rate = (double)(a->delivered - a->rs_prior_delivered) / (double)a->rs_interval_us;
    if (rate <= 0 || (a->min_rtt_us != TG_TIME_NEVER && a->rs_interval_us < a->min_rtt_us) ||
        (a->rs_applim && rate < cc->bbr.max_bw))
        return;
    /* Windowed max over the last rounds that had samples: without samples
     * (application-limited) the estimate stays. */
    unsigned k = (unsigned)(cc->bbr.round % SIM_CC_BBR_ROUNDS);
    if (cc->bbr.bw_round[k] != cc->bbr.round) {
        cc->bbr.bw_round[k] = cc->bbr.round;
        cc->bbr.bw[k] = 0;
    }
    cc->bbr.bw[k] = fmax(cc->bbr.bw[k], rate);
    cc->bbr.max_bw = 0;
    for (unsigned i = 0; i < SIM_CC_BBR_ROUNDS; i++)
        if (cc->bbr.bw_round[i] + SIM_CC_BBR_ROUNDS > cc->bbr.round)
            cc->bbr.max_bw = fmax(cc->bbr.max_bw, cc->bbr.bw[i]);
}

static bool bbr_on_ack(struct sim_cc_state *cc, const struct sim_cc_ack *a, tg_time now)
{
    double mss = cc->mss, inflight = (double)a->inflight;
    bool round_start = false, applim = false;
    if (a->rs_valid && a->rs_prior_delivered >= cc->bbr.next_round_delivered) {
        cc->bbr.next_round_delivered = a->delivered;
        cc->bbr.round++;
        round_start = true;
    }
    bbr_bandwidth(cc, a);
    if (!cc->bbr.filled && round_start && !a->rs_applim) {
        if (cc->bbr.max_bw >= cc->bbr.full_bw * 1.25) {
            cc->bbr.full_bw = cc->bbr.max_bw;
            cc->bbr.full_cnt = 0;
        } else if (++cc->bbr.full_cnt >= 3) {
            cc->bbr.filled = true;
        }
    }
    if (a->rtt_us != TG_TIME_NEVER) {
        bool expired = now > cc->bbr.min_rtt_stamp + BBR_MIN_RTT_WIN_US;
        if (a->rtt_us < cc->bbr.min_rtt || expired) {
            cc->bbr.min_rtt = a->rtt_us;
            cc->bbr.min_rtt_stamp = now;
        }
        if (expired && cc->bbr.mode != BBR_PROBE_RTT)
            bbr_enter(cc, BBR_PROBE_RTT, now);
    }
    double one_bdp = bdp(cc, 1);
    switch (cc->bbr.mode) {
    case BBR_STARTUP:
        if (cc->bbr.filled)
            bbr_enter(cc, BBR_DRAIN, now);
        break;
    case BBR_DRAIN:
        if (inflight <= one_bdp)
            bbr_enter(cc, BBR_PROBE_BW, now);
        break;
    case BBR_PROBE_BW: {
        double g = bbr_gains[cc->bbr.cycle];
        bool elapsed = now - cc->bbr.cycle_stamp > cc->bbr.min_rtt;
        bool next = g > 1   ? elapsed && inflight >= g * one_bdp
                    : g < 1 ? elapsed || inflight <= one_bdp
                            : elapsed;
        if (next) {
            cc->bbr.cycle = (cc->bbr.cycle + 1) % SIM_CC_BBR_CYCLE;
            cc->bbr.cycle_stamp = now;
            cc->bbr.pacing_gain = bbr_gains[cc->bbr.cycle];
        }
        break;
    }
    default:           /* BBR_PROBE_RTT: hold 4 segments for 200 ms and a round */
        applim = true; /* as Linux: the low rates of this phase do not count */
        if (cc->bbr.probe_rtt_done == TG_TIME_NEVER) {
            if (inflight <= BBR_MIN_CWND_SEGS * mss) {
                cc->bbr.probe_rtt_done = now + BBR_PROBE_RTT_US;
                cc->bbr.probe_round_done = false;
                cc->bbr.next_round_delivered = a->delivered;
            }
        } else {
            if (round_start)
                cc->bbr.probe_round_done = true;
            if (cc->bbr.probe_round_done && now >= cc->bbr.probe_rtt_done) {
                cc->bbr.min_rtt_stamp = now;
                bbr_enter(cc, cc->bbr.filled ? BBR_PROBE_BW : BBR_STARTUP, now);
            }
        }
        break;
    }
    double target = bdp(cc, cc->bbr.cwnd_gain) + 3 * mss;
    if (cc->bbr.filled)
        cc->cwnd = fmin(cc->cwnd + (double)a->acked, target);
    else if (cc->cwnd < target)
        cc->cwnd += (double)a->acked;
    cc->cwnd = fmax(cc->cwnd, BBR_MIN_CWND_SEGS * mss);
    return applim;
}

/* ---- the API ---- */

void sim_cc_init(struct sim_cc_state *cc, enum sim_cc algo, uint32_t mss)
{
    *cc = (struct sim_cc_state){.algo = algo, .mss = mss};
    cc->cwnd = INIT_CWND_SEGS * cc->mss;
    cc->ssthresh = HUGE_VAL;
    cc->cubic.epoch = TG_TIME_NEVER;
    cc->bbr.min_rtt = TG_TIME_NEVER;
    bbr_enter(cc, BBR_STARTUP, 0);
}

bool sim_cc_on_ack(struct sim_cc_state *cc, const struct sim_cc_ack *a, tg_time now)
{
    if (cc->algo == SIM_CC_BBR)
        return bbr_on_ack(cc, a, now);
    if (a->grow)
        grow(cc, a, now);
    return false;
}

void sim_cc_on_loss(struct sim_cc_state *cc)
{
    if (cc->algo == SIM_CC_RENO) {
        cc->ssthresh = fmax(cc->cwnd / 2, 2 * cc->mss);
        cc->cwnd = cc->ssthresh;
    } else if (cc->algo == SIM_CC_CUBIC) {
        double w = cc->cwnd / cc->mss;
        /* fast convergence: give way when the last maximum was not reached */
        cc->cubic.w_max = w < cc->cubic.w_max ? w * (1 + CUBIC_BETA) / 2 : w;
        cc->ssthresh = fmax(cc->cwnd * CUBIC_BETA, 2 * cc->mss);
        cc->cwnd = cc->ssthresh;
        cc->cubic.epoch = TG_TIME_NEVER;
    }
    /* BBR: loss does not change the model. */
}

void sim_cc_on_rto(struct sim_cc_state *cc, bool new_episode)
{
    if (new_episode)
        sim_cc_on_loss(cc);
    cc->cwnd = cc->mss;
    if (cc->algo == SIM_CC_CUBIC)
        cc->cubic.w_max = 0; /* Linux resets CUBIC on a timeout (TCP_CA_Loss) */
}

void sim_cc_undo(struct sim_cc_state *cc, const struct sim_cc_state *prior)
{
    if (cc->algo == SIM_CC_BBR || prior->algo != cc->algo)
        return;
    cc->cwnd = fmax(cc->cwnd, prior->cwnd);
    cc->ssthresh = fmax(cc->ssthresh, prior->ssthresh);
    if (cc->algo == SIM_CC_CUBIC) {
        cc->cubic.w_max = fmax(cc->cubic.w_max, prior->cubic.w_max);
        cc->cubic.epoch = TG_TIME_NEVER;
    }
}

double sim_cc_cwnd(const struct sim_cc_state *cc)
{
    if (cc->algo == SIM_CC_BBR && cc->bbr.mode == BBR_PROBE_RTT)
        return fmin(cc->cwnd, BBR_MIN_CWND_SEGS * cc->mss);
    return cc->cwnd;
}

double sim_cc_pacing(const struct sim_cc_state *cc)
{
    if (cc->algo != SIM_CC_BBR)
        return 0;
    return cc->bbr.pacing_gain * cc->bbr.max_bw; /* 0 before the first sample: not paced */
}
