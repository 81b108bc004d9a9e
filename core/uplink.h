/*
 * uplink.h: what the sender knows about one uplink: estimators and health.
 *
 * Fed by the session with what it observes (probe answers, probe timeouts,
 * receiver feedback, traffic received), it keeps:
 *   - RTT by Jacobson/Karels with RFC 6298 gains (alpha 1/8, beta 1/4):
 *     the first sample R sets srtt = R, rttvar = R/2; later ones
 *     rttvar = 3/4 rttvar + 1/4 |srtt - R|, then srtt = 7/8 srtt + 1/8 R
 *     (integer microseconds, truncated). RTO = srtt + max(G, 4 rttvar)
 *     clamped to [rto_min_us, rto_max_us], G = `clock_granularity_us` (the
 *     runtime's timers tick in milliseconds). A probe timeout doubles the RTO
 *     (RFC 6298 §5.5, still clamped); the next sample recomputes it. Samples
 *     above 2^40 us (12 days) are counted as 2^40 us so nothing overflows.
 *     min_rtt_us is the smallest sample ever seen (0 before the first).
 *   - loss over a sliding window of the last `loss_window` outcomes: each
 *     answered probe is one delivered outcome, each probe timeout one lost
 *     outcome, each feedback adds `expected` outcomes of which
 *     expected - received are lost, spread evenly over the call. A feedback
 *     bigger than the window is scaled down to the window, keeping its loss
 *     fraction (rounded to whole packets).
 *   - one-way delay as reported by the receiver (receiver clock - sender
 *     clock: only differences between uplinks mean anything), and its
 *     windowed minimum (two buckets of `owd_window_us`, so clock drift is
 *     forgotten); the excess over the minimum is the queueing delay. The
 *     uplink is "congested" while that excess is above the largest of
 *     `congestion_delay_us`, min_rtt / 4 and 2 rttvar (jitter is not a queue).
 *   - congestion: packets lost while the uplink is congested, or reported
 *     within 4 srtt of the last sample that found a queue or of the last
 *     packet the sender held back for it (pace.h: by its model the queue
 *     was then at the tunnel's limit), were dropped by a full queue the
 *     tunnel itself filled, not by the link: they are counted
 *     in `congestion_lost` and kept out of the loss window, so an uplink that
 *     a TCP slow start overran is not marked unhealthy. (A receiver learns of
 *     an overflow from the packets after it, which often meet a queue the
 *     sender has already let drain, and reports it a feedback later; a
 *     shorter window counted part of a burst's losses on a train's cellular
 *     links against their health.) A queue here needs more than
 *     `congestion_delay_us` and 2 rttvar but not min_rtt / 4: on a 100 ms
 *     path a 64 KB buffer at 50 Mbit/s overflows at 10 ms.
 *   - delivery rate in bits per second, an EMA (alpha `rate_alpha`, 0.2) of
 *     samples bytes * 8 / interval, each gathered over feedbacks until the
 *     interval reaches `rate_interval_us`. The interval is the longer of the
 *     time between the arrivals, at the receiver, of the packets the
 *     feedbacks report (their send times plus the one-way delays reported; a
 *     feedback without a delay adds no time, the next with one spans it;
 *     before the first, the time between the feedbacks' own arrivals, which
 *     the way back jitters: over 10 ms a millisecond of it is 10%, and
 *     samples that high raised the estimate for good) and the time
 *     between their sends (as BBR does: acknowledgements bunched on the way
 *     back cannot make an uplink look faster than it was fed). A
 *     sample above the estimate replaces it (the uplink carried at least
 *     that much); one below lowers it, by the EMA, only while the uplink is
 *     congested: a sample taken while the sender kept the uplink idle
 *     measures the sender, not the uplink, and an uplink the scheduler
 *     stopped using would otherwise look slower and slower and never be
 *     used again. While congested, every sample goes through the EMA, and so
 *     does one of at least half the estimate that spans losses counted as
 *     the queue's overflow (a short queue on a long path overflows below
 *     the congestion threshold, and jitter had raised the estimate above
 *     what the uplink carries). The first sample initialises. A gathered
 *     interval that carried no data is no sample at all (probes keep
 *     feedback flowing on an idle uplink), and "congested" ends when no
 *     one-way delay has come for 2 srtt + 100 ms: a queue seen at the end
 *     of a download says nothing about the uplink a while later, and kept
 *     as it was it let idle samples pull the estimate down to 0 for good.
 *     `rate_queued` says a sample of a full packet or more came while the
 *     uplink showed a queue (losses would count as its overflow): until
 *     then the estimate is only the most the sender fed it, and the
 *     scheduler does not judge the uplink by it when it is a trickle
 *     (sched.h, rate_floor). A queue seen on probes and acknowledgements
 *     alone does not count: a cellular link's delay swings by tens of ms
 *     unloaded, and judged at its trickle an uplink is never used again.
 *   - health, one explicit state machine:
 *       target from failures:  >= 10 consecutive -> Down, >= 6 Unhealthy,
 *                              >= 3 Degraded, else Healthy;
 *       target from quality:   loss > 30% or srtt > 5 s -> Unhealthy,
 *                              loss > 10% or srtt > 1 s -> Degraded
 *                              (the loss rule needs `loss_min_samples`
 *                              outcomes in the window, so one lost probe on
 *                              a fresh uplink is not "100% loss");
 *       the worse of the two is the "down target": the state moves DOWN to
 *       it at once whenever it is worse than the current state. Moving UP
 *       needs `recover_successes` consecutive successes and goes to the
 *       "up target": the same rules with the quality thresholds lowered by
 *       the margins (a loss state is left only once loss < threshold -
 *       loss_margin, an RTT state once srtt < threshold * (1 - rtt_margin)).
 *       It may jump several levels at once (Down -> Healthy after 3
 *       successes on a clean uplink). Between the two targets it stays put:
 *       that band is what stops flapping. Unknown -> the down target on the
 *       first success (normally Healthy), or earlier if failures alone push
 *       the target below Healthy. A success clears the failure count and a
 *       failure the success count.
 * Not here: sending probes (the session decides when, and keeps probing Down
 * uplinks so they come back), choosing uplinks (sched.h). Pure: time comes in
 * as `now`, nothing allocates.
 */
#ifndef TG_UPLINK_H
#define TG_UPLINK_H

#include <stdbool.h>
#include <stdint.h>

#include "time.h"

/* Ordered from best to worst, except Unknown (no sample yet). */
enum tg_health {
    TG_HEALTH_UNKNOWN = 0,
    TG_HEALTH_HEALTHY = 1,
    TG_HEALTH_DEGRADED = 2,
    TG_HEALTH_UNHEALTHY = 3,
    TG_HEALTH_DOWN = 4,
};

#define TG_LOSS_WINDOW_MAX 1024

struct tg_uplink_config {
    uint32_t degraded_failures;   /* consecutive failures -> Degraded (3) */
    uint32_t unhealthy_failures;  /* -> Unhealthy (6) */
    uint32_t down_failures;       /* -> Down (10) */
    double degraded_loss;         /* loss fraction above which Degraded (0.10) */
    double unhealthy_loss;        /* (0.30) */
    tg_time degraded_rtt_us;      /* srtt above which Degraded (1 s) */
    tg_time unhealthy_rtt_us;     /* (5 s) */
    double loss_margin;           /* leave a loss state below threshold - margin (0.03) */
    double rtt_margin;            /* leave an RTT state below threshold * (1 - margin) (0.2) */
    uint32_t recover_successes;   /* consecutive successes to step back up (3) */
    uint32_t loss_window;         /* outcomes in the loss window (256; 1 .. TG_LOSS_WINDOW_MAX,
                                     out-of-range values are clamped) */
    uint32_t loss_min_samples;    /* outcomes in the window before the loss rule applies (20) */
    double rate_alpha;            /* delivery-rate EMA gain (0.2) */
    tg_time rate_interval_us;     /* shortest interval of one rate sample (10 ms) */
    tg_time owd_window_us;        /* one bucket of the one-way-delay minimum (5 s) */
    tg_time congestion_delay_us;  /* least queueing delay that is congestion (5 ms) */
    tg_time rto_min_us;           /* (200 ms) */
    tg_time rto_max_us;           /* (3 s) */
    tg_time initial_rto_us;       /* before any sample (1 s) */
    tg_time clock_granularity_us; /* G of RFC 6298 (1 ms) */
};

struct tg_uplink_est {
    struct tg_uplink_config cfg;
    /* RTT */
    bool has_rtt;
    tg_time srtt_us, rttvar_us;        /* smoothed RTT and its variation; 0 before a sample */
    tg_time rto_us;                    /* probe timeout (initial_rto_us before a sample) */
    tg_time min_rtt_us, latest_rtt_us; /* smallest and latest sample; 0 before a sample */
    /* loss: ring of outcomes, 1 bit each (1 = lost) */
    uint64_t loss_bits[TG_LOSS_WINDOW_MAX / 64];
    uint32_t loss_pos, loss_count, loss_lost; /* next slot, filled slots, lost among them */
    /* delivery rate */
    double rate_bps; /* EMA, bits per second; 0 until the first sample */
    bool has_rate;
    uint64_t acc_bytes;                   /* the sample being gathered */
    tg_time acc_ack_us, acc_send_us;
    bool acc_overflow;                    /* the sample spans losses counted as overflow */
    bool rate_queued;                     /* a sample of a full packet came while a queue showed:
                                             rate_bps is what the uplink carries, not only
                                             the most it was fed */
    /* one-way delay */
    bool has_owd;
    int64_t owd_us;                       /* latest receiver-reported one-way delay */
    int64_t owd_min_cur, owd_min_prev;    /* minimum of this bucket and of the last */
    bool owd_prev_valid;
    tg_time owd_bucket_start;
    int64_t owd_base_us;                  /* the windowed minimum */
    tg_time queue_delay_us;               /* owd_us - owd_base_us */
    bool congested;
    tg_time congested_at;                 /* the last sample that found a queue (more than
                                             congestion_delay_us and 2 rttvar, however long
                                             the path): losses soon after are its overflow */
    tg_time held_at;                      /* the sender last held packets back for it (pace.h):
                                             its bottleneck was as full as the tunnel lets it
                                             be, so losses soon after are its overflow too */
    tg_time owd_at;                       /* when the latest one-way delay came */
    /* health */
    enum tg_health health;
    uint32_t consecutive_failures, consecutive_successes;
    tg_time health_since; /* when the current health state began */
    /* counters */
    uint64_t successes, failures;
    uint64_t congestion_lost; /* lost while congested, kept out of the loss window */
};

void tg_uplink_config_default(struct tg_uplink_config *c);
/* Start with no samples, health Unknown since `now`, RTO = initial_rto_us.
 * The config is copied (loss_window clamped to 1 .. TG_LOSS_WINDOW_MAX). */
void tg_uplink_init(struct tg_uplink_est *u, const struct tg_uplink_config *c, tg_time now);

/* An RTT sample (probe answered): a success and one delivered outcome. */
void tg_uplink_on_rtt(struct tg_uplink_est *u, tg_time rtt_us, tg_time now);
/* A probe went unanswered past its RTO: a failure, one lost outcome, and the
 * RTO doubles (clamped to rto_max_us). */
void tg_uplink_on_probe_timeout(struct tg_uplink_est *u, tg_time now);
/* The answer to a probe counted lost came after all: the lost outcome is
 * taken back (the newest one recorded). Its round trip is not sampled: a
 * pause that long is the link's, and a probe timeout stretched to fit it
 * would be slow to see an outage (sampling it cost tgv 21% of its goodput
 * and hotel 19% in simulation). The failure it counted stays. */
void tg_uplink_on_late_answer(struct tg_uplink_est *u, tg_time now);
/* The sender held packets back for this uplink (pace.h): by its queue model
 * the bottleneck holds what the tunnel allows. Losses reported within 4
 * srtt count as that queue's overflow, as after a queue the receiver saw:
 * the model can be wrong by a burst, and a 64 KB queue at 100 Mbit/s
 * overflows at 5 ms, before its delay reads as a queue. */
void tg_uplink_on_hold(struct tg_uplink_est *u, tg_time now);
/* What one receiver feedback says about the packets sent on the uplink
 * since the previous one. */
struct tg_uplink_feedback {
    uint32_t expected;         /* packets sent (by counter) since the last feedback */
    uint32_t received;         /* of which arrived (counted as at most expected) */
    uint32_t late;             /* arrivals beyond `expected`: packets below the previous
                                  feedback's highest counter, which it counted lost */
    uint64_t bytes;            /* bytes that arrived */
    tg_time ack_interval_us;   /* between the arrivals at the receiver of the packets the
                                  two feedbacks report (or of the feedbacks here) */
    tg_time send_interval_us;  /* between the sends of the newest packets they report
                                  (0 when unknown) */
    bool has_owd;
    int64_t owd_us;            /* one-way delay of the newest packet that arrived */
};

/* Feedback: received > 0 is a success, received == 0 with expected > 0 a
 * failure, 0 of 0 changes nothing but the one-way delay. `late` packets
 * arrived after a newer one was reported (reordered on the way): as many
 * losses recorded before are taken back, so reordering is not loss. */
void tg_uplink_on_feedback(struct tg_uplink_est *u, const struct tg_uplink_feedback *fb,
                           tg_time now);
/* A one-way delay sample outside a feedback (the receiver measured it on a
 * probe): the same as a feedback with only has_owd. */
void tg_uplink_on_owd(struct tg_uplink_est *u, int64_t owd_us, tg_time now);
/* The host says the uplink lost its link (interface down, socket error):
 * straight to Down. A later success brings it back through the hysteresis
 * (recover_successes consecutive successes). */
void tg_uplink_set_down(struct tg_uplink_est *u, tg_time now);

/* Empty the loss window. The session calls it when a Down uplink answers
 * again: the outage says nothing about the link that came back. */
void tg_uplink_forget_loss(struct tg_uplink_est *u);

/* Loss fraction over the window, 0 when empty. */
double tg_uplink_loss(const struct tg_uplink_est *u);
/* "unknown", "healthy", "degraded", "unhealthy", "down"; "invalid" for values
 * outside the enum. Never NULL. */
const char *tg_health_name(enum tg_health h);

#endif
