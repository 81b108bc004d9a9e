/*
 * Uplink estimators and health: tables of (event -> expected srtt, rttvar,
 * RTO, loss, health) rows applied in order, each table from a fresh uplink,
 * then the properties tables cannot show well: no flapping around a
 * threshold, recovery exactly at the margin, the rate EMA, app-limited
 * samples, the queueing delay and losses to congestion.
 */
#include "check.h"
#include "core/uplink.h"

#include <stdint.h>
#include <string.h>

enum kind { E_INIT, E_RTT, E_TIMEOUT, E_FEEDBACK, E_DOWN };

#define SKIP (-1)

struct row {
    enum kind kind;
    tg_time arg;       /* RTT sample (E_RTT) */
    uint32_t expected; /* E_FEEDBACK */
    uint32_t received;
    int64_t srtt, rttvar, rto; /* expected, us; SKIP: not checked */
    int loss_pct;              /* expected loss in whole percent; SKIP */
    int health;                /* expected enum tg_health; SKIP */
    int line;
};

/* clang-format off */
#define INIT(h, rto)           {E_INIT, 0, 0, 0, SKIP, SKIP, (rto), SKIP, (h), __LINE__}
#define RTT(r, s, v, rto, h)   {E_RTT, (r), 0, 0, (s), (v), (rto), SKIP, (h), __LINE__}
#define RTT_S(r, s, h)         {E_RTT, (r), 0, 0, (s), SKIP, SKIP, SKIP, (h), __LINE__}
#define RTT_H(r, h)            {E_RTT, (r), 0, 0, SKIP, SKIP, SKIP, SKIP, (h), __LINE__}
#define TO(rto, h)             {E_TIMEOUT, 0, 0, 0, SKIP, SKIP, (rto), SKIP, (h), __LINE__}
#define FB(e, r, pct, h)       {E_FEEDBACK, 0, (e), (r), SKIP, SKIP, SKIP, (pct), (h), __LINE__}
#define DOWN(h)                {E_DOWN, 0, 0, 0, SKIP, SKIP, SKIP, SKIP, (h), __LINE__}
/* clang-format on */

#define UNK TG_HEALTH_UNKNOWN
#define OK_ TG_HEALTH_HEALTHY
#define DEG TG_HEALTH_DEGRADED
#define BAD TG_HEALTH_UNHEALTHY
#define DWN TG_HEALTH_DOWN

#define MS(x) ((tg_time)(x)*1000)

/* Loss accounting only: no bytes, no interval, no one-way delay. */
static void feedback(struct tg_uplink_est *u, uint32_t expected, uint32_t received, tg_time now)
{
    const struct tg_uplink_feedback fb = {.expected = expected, .received = received};
    tg_uplink_on_feedback(u, &fb, now);
}

static void run(const char *name, const struct tg_uplink_config *cfg, const struct row *rows,
                size_t count)
{
    struct tg_uplink_est u;
    tg_time now = 0;
    for (size_t i = 0; i < count; i++) {
        const struct row *r = &rows[i];
        now += MS(10);
        switch (r->kind) {
        case E_INIT:
            tg_uplink_init(&u, cfg, now);
            break;
        case E_RTT:
            tg_uplink_on_rtt(&u, r->arg, now);
            break;
        case E_TIMEOUT:
            tg_uplink_on_probe_timeout(&u, now);
            break;
        case E_FEEDBACK:
            feedback(&u, r->expected, r->received, now);
            break;
        case E_DOWN:
            tg_uplink_set_down(&u, now);
            break;
        }
        int bad = check_failures;
        if (r->srtt != SKIP)
            CHECK_EQ(u.srtt_us, r->srtt);
        if (r->rttvar != SKIP)
            CHECK_EQ(u.rttvar_us, r->rttvar);
        if (r->rto != SKIP)
            CHECK_EQ(u.rto_us, r->rto);
        if (r->loss_pct != SKIP)
            CHECK_EQ(u.loss_lost * 100, (uint32_t)r->loss_pct * u.loss_count);
        if (r->health != SKIP)
            CHECK_EQ(u.health, r->health);
        if (check_failures != bad)
            fprintf(stderr, "  in table %s, row at line %d\n", name, r->line);
    }
}

#define RUN(cfg, rows) run(#rows, (cfg), (rows), sizeof(rows) / sizeof((rows)[0]))

/* RFC 6298 §2 on a known sequence (integer microseconds, truncated), the RTO
 * clamps and the §5.5 back-off. Default config: G = 1 ms, RTO in
 * [200 ms, 3 s], initial 1 s. */
static const struct row rfc6298[] = {
    INIT(UNK, 1000000),
    /* first sample: srtt = R, rttvar = R/2, RTO = srtt + 4 rttvar */
    RTT(MS(100), 100000, 50000, 300000, OK_),
    /* rttvar = (3*50000 + |100000-200000|)/4, srtt = (7*100000 + 200000)/8 */
    RTT(MS(200), 112500, 62500, 362500, OK_),
    RTT(MS(100), 110937, 50000, 310937, OK_), /* srtt 110937.5 truncated */
    RTT(MS(100), 109569, 40234, 270505, OK_), /* rto = 109569 + 4*40234 */
    RTT(MS(50), 102122, 45067, 282390, OK_),
    /* back-off doubles, clamped at 3 s; failures 1..4 (3 -> Degraded) */
    TO(564780, OK_),
    TO(1129560, OK_),
    TO(2259120, DEG),
    TO(3000000, DEG),
    TO(3000000, DEG),
    /* a sample recomputes the RTO from srtt and rttvar */
    RTT(MS(100), 101856, 34330, 239176, DEG),

    /* small RTT: srtt + max(G, 4 rttvar) = 3 ms, clamped up to 200 ms */
    INIT(UNK, 1000000),
    RTT(1000, 1000, 500, 200000, OK_),
    RTT(1000, 1000, 375, 200000, OK_),
    /* large RTT: 2 s + 4 s clamped down to 3 s; srtt > 1 s: Degraded */
    INIT(UNK, 1000000),
    RTT(MS(2000), 2000000, 1000000, 3000000, DEG),
    /* zero-delay sample: the granularity floor then the clamp */
    INIT(UNK, 1000000),
    RTT(0, 0, 0, 200000, OK_),
};

/* Consecutive failures 3/6/10, and the way back. Default config (the loss
 * rule needs 20 outcomes, so these short runs are about failures only). */
static const struct row failures[] = {
    INIT(UNK, SKIP),
    TO(SKIP, UNK), /* one lost probe on a fresh uplink is not "100% loss" */
    TO(SKIP, UNK),
    TO(SKIP, DEG), /* 3 */
    TO(SKIP, DEG),
    TO(SKIP, DEG),
    TO(SKIP, BAD), /* 6 */
    TO(SKIP, BAD),
    TO(SKIP, BAD),
    TO(SKIP, BAD),
    TO(SKIP, DWN), /* 10 */
    TO(SKIP, DWN),
    RTT_H(MS(50), DWN), /* 1 success: not yet */
    RTT_H(MS(50), DWN),
    TO(SKIP, DWN), /* a failure restarts the run */
    RTT_H(MS(50), DWN),
    RTT_H(MS(50), DWN),
    RTT_H(MS(50), OK_), /* 3 in a row: straight to what the numbers say */

    INIT(UNK, SKIP),
    RTT_H(MS(50), OK_), /* Unknown -> Healthy on the first success */
    TO(SKIP, OK_),
    TO(SKIP, OK_),
    TO(SKIP, DEG),
    RTT_H(MS(50), DEG),
    RTT_H(MS(50), DEG),
    RTT_H(MS(50), OK_),
    /* feedback with nothing received is a failure too (1-packet feedbacks,
     * too few outcomes for the loss rule) */
    INIT(UNK, SKIP),
    FB(1, 0, SKIP, UNK),
    FB(1, 0, SKIP, UNK),
    FB(1, 0, SKIP, DEG),
    FB(1, 1, SKIP, DEG), /* something arrived: a success */
    FB(0, 0, SKIP, DEG), /* nothing sent, nothing heard: no event */
    FB(1, 1, SKIP, DEG),
    FB(1, 1, SKIP, OK_),
    /* 20 packets all lost: the loss rule sees 100% before 3 failures */
    INIT(UNK, SKIP),
    FB(10, 0, SKIP, UNK),
    FB(10, 0, SKIP, BAD),
};

/* Loss thresholds (10% / 30%) and margins (3 points) with a 100-packet
 * window, so each 100-packet feedback replaces the whole window. */
static const struct row loss[] = {
    INIT(UNK, SKIP), FB(100, 88, 12, DEG),    /* first success, but 12% > 10% */
    FB(100, 92, 8, DEG), FB(100, 92, 8, DEG), /* 3 successes, but 8% is not below 7% */
    FB(100, 94, 6, OK_), FB(100, 91, 9, OK_), /* 9% does not enter */
    FB(100, 89, 11, DEG), FB(100, 65, 35, BAD), FB(100, 72, 28, BAD), /* not below 27% */
    FB(100, 74, 26, DEG),                      /* below 27%, still above 7% */
    FB(100, 95, 5, OK_), FB(100, 0, 100, BAD), /* one failure, but 100% loss */
    FB(100, 100, 0, BAD), FB(100, 100, 0, BAD), FB(100, 100, 0, OK_),
    /* a feedback larger than the window keeps its loss fraction */
    FB(1000, 880, 12, DEG), FB(50, 50, 6, OK_), /* evenly spread: the 50 oldest held 6 of the 12 */
    FB(10, 12, 5, OK_),                         /* more received than expected: no loss */
};

/* srtt thresholds 1 s / 5 s, margins 20% (0.8 s / 4 s). */
static const struct row rtt[] = {
    INIT(UNK, SKIP),
    RTT_S(MS(1500), 1500000, DEG),
    INIT(UNK, SKIP),
    RTT_S(MS(1000), 1000000, OK_), /* exactly 1 s is not above */
    RTT_S(MS(1008), 1001000, DEG),
    INIT(UNK, SKIP),
    RTT_S(MS(6000), 6000000, BAD),
    RTT_S(MS(3000), 5625000, BAD),
    RTT_S(MS(3000), 5296875, BAD),
    RTT_S(MS(3000), 5009765, BAD),
    RTT_S(MS(3000), 4758544, BAD), /* below 5 s, not below 4 s */
    RTT_S(MS(3000), 4538726, BAD),
    RTT_S(MS(3000), 4346385, BAD),
    RTT_S(MS(3000), 4178086, BAD),
    RTT_S(MS(3000), 4030825, BAD),
    RTT_S(MS(3000), 3901971, DEG), /* below 4 s; 3.9 s is still Degraded */
    /* leaving needs srtt strictly below 0.8 s: exactly 0.8 s stays */
    INIT(UNK, SKIP),
    TO(SKIP, UNK),
    TO(SKIP, UNK),
    TO(SKIP, DEG),
    RTT_S(MS(800), 800000, DEG),
    RTT_S(MS(800), 800000, DEG),
    RTT_S(MS(800), 800000, DEG), /* 3 successes, srtt == 0.8 s */
    RTT_S(799992, 799999, OK_),
};

/* The host's "link down", then recovery through the hysteresis. */
static const struct row down[] = {
    INIT(UNK, SKIP),    RTT_H(MS(40), OK_), DOWN(DWN),          TO(SKIP, DWN),
    RTT_H(MS(40), DWN), RTT_H(MS(40), DWN), DOWN(DWN), /* again: the run of successes restarts */
    RTT_H(MS(40), DWN), RTT_H(MS(40), DWN), RTT_H(MS(40), OK_), INIT(UNK, SKIP),
    DOWN(DWN), /* an uplink never heard from can go Down too */
    RTT_H(MS(40), DWN), RTT_H(MS(40), DWN), RTT_H(MS(40), OK_),
};

static void test_tables(void)
{
    struct tg_uplink_config cfg;
    tg_uplink_config_default(&cfg);
    RUN(&cfg, rfc6298);
    RUN(&cfg, failures);
    RUN(&cfg, rtt);
    RUN(&cfg, down);
    cfg.loss_window = 100;
    RUN(&cfg, loss);
}

static void test_defaults(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    CHECK_EQ(c.degraded_failures, 3);
    CHECK_EQ(c.unhealthy_failures, 6);
    CHECK_EQ(c.down_failures, 10);
    CHECK(c.degraded_loss == 0.10 && c.unhealthy_loss == 0.30);
    CHECK_EQ(c.degraded_rtt_us, 1000000);
    CHECK_EQ(c.unhealthy_rtt_us, 5000000);
    CHECK(c.loss_margin == 0.03 && c.rtt_margin == 0.2 && c.rate_alpha == 0.2);
    CHECK_EQ(c.recover_successes, 3);
    CHECK_EQ(c.loss_window, 256);
    CHECK_EQ(c.rto_min_us, 200000);
    CHECK_EQ(c.rto_max_us, 3000000);
    CHECK_EQ(c.initial_rto_us, 1000000);

    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 777);
    CHECK_EQ(u.health, TG_HEALTH_UNKNOWN);
    CHECK_EQ(u.health_since, 777);
    CHECK(!u.has_rtt && !u.has_rate && !u.has_owd);
    CHECK(tg_uplink_loss(&u) == 0.0);

    /* the window is clamped to what the ring holds */
    c.loss_window = 5000;
    tg_uplink_init(&u, &c, 0);
    CHECK_EQ(u.cfg.loss_window, TG_LOSS_WINDOW_MAX);
    feedback(&u, 3000, 0, 1);
    CHECK_EQ(u.loss_count, TG_LOSS_WINDOW_MAX);
    CHECK_EQ(u.loss_lost, TG_LOSS_WINDOW_MAX);
    c.loss_window = 0;
    tg_uplink_init(&u, &c, 0);
    CHECK_EQ(u.cfg.loss_window, 1);
}

/* With constant samples rttvar decays to 0: RTO = srtt + G, not srtt. */
static void test_granularity(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    for (int i = 0; i < 100; i++)
        tg_uplink_on_rtt(&u, MS(300), (tg_time)i);
    CHECK_EQ(u.srtt_us, 300000);
    CHECK_EQ(u.rttvar_us, 0);
    CHECK_EQ(u.rto_us, 301000);
    CHECK_EQ(u.min_rtt_us, 300000);
    tg_uplink_on_rtt(&u, MS(250), 100);
    tg_uplink_on_rtt(&u, MS(400), 101);
    CHECK_EQ(u.min_rtt_us, 250000);
    CHECK_EQ(u.latest_rtt_us, 400000);
}

/* Counts health changes over a run of events. */
struct watch {
    struct tg_uplink_est u;
    tg_time now;
    int changes;
};

static void watch_step(struct watch *w, enum tg_health before)
{
    if (w->u.health != before) {
        w->changes++;
        CHECK_EQ(w->u.health_since, w->now);
    }
}

static void w_rtt(struct watch *w, tg_time r)
{
    enum tg_health h = w->u.health;
    tg_uplink_on_rtt(&w->u, r, ++w->now);
    watch_step(w, h);
}

static void w_timeout(struct watch *w)
{
    enum tg_health h = w->u.health;
    tg_uplink_on_probe_timeout(&w->u, ++w->now);
    watch_step(w, h);
}

static void w_feedback(struct watch *w, uint32_t expected, uint32_t received)
{
    enum tg_health h = w->u.health;
    feedback(&w->u, expected, received, ++w->now);
    watch_step(w, h);
}

static void w_start(struct watch *w, const struct tg_uplink_config *c)
{
    memset(w, 0, sizeof *w);
    tg_uplink_init(&w->u, c, 0);
}

static void test_no_flapping(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct watch w;

    /* Two failures, then success/failure alternating just below the
     * Degraded threshold: never a change. Successes are 50-packet clean
     * feedbacks, so the lost probes keep the loss fraction small. */
    w_start(&w, &c);
    w_feedback(&w, 50, 50);
    CHECK_EQ(w.u.health, TG_HEALTH_HEALTHY);
    w.changes = 0;
    w_timeout(&w);
    w_timeout(&w);
    for (int i = 0; i < 100; i++) {
        w_feedback(&w, 50, 50);
        w_timeout(&w);
        w_timeout(&w);
    }
    CHECK_EQ(w.changes, 0);

    /* Degraded by failures, then two successes and a failure, repeated: the
     * run of successes never reaches 3, so it stays Degraded. */
    w_start(&w, &c);
    w_feedback(&w, 50, 50);
    w.changes = 0;
    for (int i = 0; i < 3; i++)
        w_timeout(&w);
    for (int i = 0; i < 100; i++) {
        w_feedback(&w, 50, 50);
        w_feedback(&w, 50, 50);
        w_timeout(&w);
    }
    CHECK(tg_uplink_loss(&w.u) < 0.05);
    CHECK_EQ(w.changes, 1);
    CHECK_EQ(w.u.health, TG_HEALTH_DEGRADED);

    /* Loss hovering 9%..11% around the 10% threshold (window 100, lost per
     * 10-packet feedback 2,1,0,2,1,0...): one change, no way back. */
    c.loss_window = 100;
    w_start(&w, &c);
    for (int i = 0; i < 10; i++)
        w_feedback(&w, 10, 9);
    CHECK_EQ(w.u.health, TG_HEALTH_HEALTHY);
    w.changes = 0;
    int seen_low = 0, seen_high = 0;
    for (int i = 0; i < 300; i++) {
        w_feedback(&w, 10, (uint32_t)(8 + i % 3));
        double l = tg_uplink_loss(&w.u);
        seen_low |= l < 0.095;
        seen_high |= l > 0.105;
    }
    CHECK(seen_low && seen_high); /* it did cross the threshold both ways */
    CHECK_EQ(w.changes, 1);
    CHECK_EQ(w.u.health, TG_HEALTH_DEGRADED);

    /* srtt hovering around 1 s (samples 1.1 s / 0.9 s): one change at most. */
    tg_uplink_config_default(&c);
    w_start(&w, &c);
    w_rtt(&w, MS(1000));
    CHECK_EQ(w.u.health, TG_HEALTH_HEALTHY);
    w.changes = 0;
    int above = 0, below = 0;
    for (int i = 0; i < 200; i++) {
        w_rtt(&w, i % 2 ? MS(900) : MS(1100));
        above |= w.u.srtt_us > MS(1000);
        below |= w.u.srtt_us < MS(1000);
    }
    CHECK(above && below);
    CHECK_EQ(w.changes, 1);
}

/* Recovery from an RTT state happens exactly when srtt drops below the
 * threshold minus the margin (0.8 s), not when it drops below 1 s. */
static void test_rtt_recovery_margin(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    tg_uplink_on_rtt(&u, MS(1500), 1);
    CHECK_EQ(u.health, TG_HEALTH_DEGRADED);
    int steps = 0, below_1s_degraded = 0;
    for (tg_time t = 2; t < 100 && u.health == TG_HEALTH_DEGRADED; t++) {
        tg_uplink_on_rtt(&u, MS(500), t);
        steps++;
        if (u.health == TG_HEALTH_DEGRADED)
            CHECK(u.srtt_us >= 800000);
        if (u.health == TG_HEALTH_DEGRADED && u.srtt_us < 1000000)
            below_1s_degraded++;
    }
    CHECK_EQ(u.health, TG_HEALTH_HEALTHY);
    CHECK(u.srtt_us < 800000);
    CHECK(below_1s_degraded > 0); /* the band was actually crossed */
    CHECK(steps > 3);
}

/* One rate feedback: `bytes` over `ack_ms` (and `send_ms` of sending), with
 * a one-way delay of `owd_ms`. */
static void rate_fb(struct tg_uplink_est *u, uint64_t bytes, double ack_ms, double send_ms,
                    double owd_ms, tg_time now)
{
    const struct tg_uplink_feedback fb = {.expected = 10,
                                          .received = 10,
                                          .bytes = bytes,
                                          .ack_interval_us = (tg_time)(ack_ms * 1000),
                                          .send_interval_us = (tg_time)(send_ms * 1000),
                                          .has_owd = true,
                                          .owd_us = (int64_t)(owd_ms * 1000)};
    tg_uplink_on_feedback(u, &fb, now);
}

static bool near(double got, double want)
{
    double d = got - want;
    return (d < 0 ? -d : d) <= 1e-6 * (want > 1 ? want : 1);
}

/* Delivery rate: samples gathered over >= 10 ms, the interval being the
 * longer of the ack and send intervals; a higher sample replaces the
 * estimate, and only while congested does the EMA (alpha 0.2) move it. */
static void test_rate(void)
{
    static const struct {
        uint64_t bytes;
        double ack_ms, send_ms, owd_ms;
        double want_bps;
        int line;
    } rows[] = {
        {12500, 100, 0, 10, 1000000.0, __LINE__},    /* first: 1 Mbit/s */
        {25000, 100, 0, 10, 2000000.0, __LINE__},    /* 2 Mbit/s carried: at least that */
        {0, 100, 0, 10, 2000000.0, __LINE__},        /* idle, not queued: kept */
        {6250, 100, 0, 30, 1700000.0, __LINE__},     /* 0.5 Mbit/s, 20 ms queue: EMA down */
        {7500, 10, 0, 30, 2560000.0, __LINE__},      /* 6 Mbit/s, queued: EMA up */
        {625, 5, 0, 10, 2560000.0, __LINE__},        /* 5 ms: still gathering */
        {625, 5, 0, 10, 2560000.0, __LINE__},        /* 10 ms in all: 1 Mbit/s, no queue: kept */
        {125000, 1, 100, 10, 10000000.0, __LINE__},  /* bunched acks: over the send interval */
        {250000, 100, 1, 10, 20000000.0, __LINE__},  /* a burst sent at once: the ack interval */
    };
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    CHECK(!u.has_rate && u.rate_bps == 0.0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        rate_fb(&u, rows[i].bytes, rows[i].ack_ms, rows[i].send_ms, rows[i].owd_ms, (tg_time)i);
        CHECK(u.has_rate);
        CHECK(near(u.rate_bps, rows[i].want_bps));
        if (!near(u.rate_bps, rows[i].want_bps))
            fprintf(stderr, "  rate row at line %d: %.3f\n", rows[i].line, u.rate_bps);
    }
}

/* An uplink the sender feeds little keeps the rate it showed while busy:
 * app-limited samples never lower it, however long they go on. Once the
 * uplink queues again, samples bring a real drop in capacity through. */
static void test_rate_app_limited(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    tg_time now = 0;
    rate_fb(&u, 50000, 10, 10, 10, now); /* 40 Mbit/s, the base delay 10 ms */
    for (int i = 0; i < 50; i++) /* 40 Mbit/s with a 30 ms queue */
        rate_fb(&u, 50000, 10, 10, 40, now += MS(10));
    CHECK(near(u.rate_bps, 40e6));
    CHECK(u.congested);
    for (int i = 0; i < 1000; i++) /* 10 s of 0.4 Mbit/s, no queue */
        rate_fb(&u, 500, 10, 10, 10, now += MS(10));
    CHECK(!u.congested);
    CHECK(near(u.rate_bps, 40e6));
    for (int i = 0; i < 100; i++) /* the link now carries 10 Mbit/s, queued */
        rate_fb(&u, 12500, 10, 10, 60, now += MS(10));
    CHECK(u.rate_bps < 10.01e6 && u.rate_bps > 9.99e6);
}

/* A download ends while the uplink is queued; afterwards only probes flow
 * (feedback with no data, no one-way delay). The estimate must not sink:
 * an interval without data is no sample, and the old queue stops counting
 * as congestion after 2 srtt + 100 ms, so a trickle later does not pull the
 * rate down through the EMA either (this froze an uplink at 0 live). */
static void test_rate_after_queue(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    tg_time now = 0;
    tg_uplink_on_rtt(&u, MS(20), now);
    rate_fb(&u, 50000, 10, 10, 10, now);
    for (int i = 0; i < 50; i++) /* 40 Mbit/s, ending with a 30 ms queue */
        rate_fb(&u, 50000, 10, 10, 40, now += MS(10));
    CHECK(u.congested);
    for (int i = 0; i < 200; i++) { /* 20 s of probes only */
        const struct tg_uplink_feedback fb = {.expected = 1, .received = 1,
                                              .ack_interval_us = MS(100)};
        tg_uplink_on_feedback(&u, &fb, now += MS(100));
    }
    CHECK(!u.congested);
    CHECK(near(u.rate_bps, 40e6));
    const struct tg_uplink_feedback trickle = {.expected = 1, .received = 1, .bytes = 100,
                                               .ack_interval_us = MS(100)};
    tg_uplink_on_feedback(&u, &trickle, now += MS(100)); /* app-limited, no owd */
    CHECK(near(u.rate_bps, 40e6));
}

/* The one-way delay minimum is kept over two buckets of owd_window_us, so
 * the queueing delay follows a drifting clock offset; congestion needs more
 * queue than congestion_delay_us, min_rtt / 4 and 2 rttvar. */
static void test_owd_queue(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    const struct tg_uplink_feedback at = {.has_owd = true, .owd_us = -12345};
    tg_uplink_on_feedback(&u, &at, 1);
    CHECK(u.has_owd);
    CHECK_EQ(u.owd_us, -12345);
    CHECK_EQ(u.queue_delay_us, 0);
    struct tg_uplink_feedback fb = {.has_owd = true, .owd_us = -12345 + 5000};
    tg_uplink_on_feedback(&u, &fb, 2);
    CHECK_EQ(u.queue_delay_us, 5000);
    CHECK(!u.congested); /* exactly 5 ms is not more than 5 ms */
    fb.owd_us++;
    tg_uplink_on_feedback(&u, &fb, 3);
    CHECK(u.congested);
    /* the clock offset drifts by +1 ms: after two windows the old minimum is gone */
    fb.owd_us = -12345 + 1000;
    tg_uplink_on_feedback(&u, &fb, TG_SEC(5) + 3);
    CHECK_EQ(u.queue_delay_us, 1000); /* the previous bucket still holds -12345 */
    tg_uplink_on_feedback(&u, &fb, TG_SEC(10) + 3);
    CHECK_EQ(u.queue_delay_us, 0);
    /* a 40 ms min RTT asks for more than 10 ms of queue; jitter for more still */
    tg_uplink_on_rtt(&u, MS(40), TG_SEC(11));
    fb.owd_us = -12345 + 1000 + 10000;
    tg_uplink_on_feedback(&u, &fb, TG_SEC(11));
    CHECK(!u.congested); /* 10 ms; rttvar is 20 ms after the first sample: 40 needed */
    fb.owd_us += 30001;
    tg_uplink_on_feedback(&u, &fb, TG_SEC(11));
    CHECK(u.congested);
}

/* Packets lost while the uplink is congested are the tunnel's own queue
 * overflowing: counted apart, not in the loss window, so the uplink stays
 * healthy; the same losses without a queue make it unhealthy. */
static void test_congestion_loss(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    for (int queued = 0; queued < 2; queued++) {
        struct tg_uplink_est u;
        tg_uplink_init(&u, &c, 0);
        tg_uplink_on_rtt(&u, MS(2), 1);
        struct tg_uplink_feedback fb = {.expected = 10, .received = 10, .has_owd = true,
                                        .owd_us = 1000};
        tg_uplink_on_feedback(&u, &fb, 2);
        fb.received = 5;
        fb.owd_us = queued ? 1000 + MS(80) : 1000;
        for (int i = 0; i < 10; i++)
            tg_uplink_on_feedback(&u, &fb, 3 + (tg_time)i);
        if (queued) {
            CHECK_EQ(u.congestion_lost, 50);
            CHECK_EQ(u.loss_lost, 0);
            CHECK_EQ(u.loss_count, 61); /* the RTT sample, 10, then 50 delivered */
            CHECK_EQ(u.health, TG_HEALTH_HEALTHY);
        } else {
            CHECK_EQ(u.congestion_lost, 0);
            CHECK_EQ(u.loss_lost, 50);
            CHECK_EQ(u.health, TG_HEALTH_UNHEALTHY);
        }
    }
}

/* An overflow is learned from the packets after it, which often meet a queue
 * the sender already let drain: losses reported within 4 srtt of the last
 * congested sample are still the overflow (an uplink that read 8.6% loss
 * from one slow-start burst was left out of striping for seconds, live);
 * losses later than that count as the link's. */
static void test_overflow_learned_late(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    tg_time now = MS(1);
    tg_uplink_on_rtt(&u, MS(80), now);
    struct tg_uplink_feedback fb = {.expected = 10, .received = 10, .has_owd = true,
                                    .owd_us = MS(40)};
    tg_uplink_on_feedback(&u, &fb, now += MS(10));
    fb.owd_us = MS(140); /* a 100 ms queue */
    tg_uplink_on_feedback(&u, &fb, now += MS(10));
    CHECK(u.congested);
    fb.owd_us = MS(41); /* drained; 5 of 10 lost in the overflow */
    fb.received = 5;
    tg_uplink_on_feedback(&u, &fb, now += MS(100));
    CHECK(!u.congested);
    CHECK_EQ(u.congestion_lost, 5);
    CHECK_EQ(u.loss_lost, 0);
    tg_uplink_on_feedback(&u, &fb, now += 2 * u.srtt_us); /* a feedback later: still it */
    CHECK_EQ(u.congestion_lost, 10);
    CHECK_EQ(u.loss_lost, 0);
    tg_uplink_on_feedback(&u, &fb, now += 4 * u.srtt_us); /* long after: the link's */
    CHECK_EQ(u.congestion_lost, 10);
    CHECK_EQ(u.loss_lost, 5);
}

/* A default estimator after 20 probes answered in `rtt_us` each, 100 ms
 * apart; returns the time of the last. */
static tg_time settled(struct tg_uplink_est *u, tg_time rtt_us)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    tg_uplink_init(u, &c, 0);
    tg_time now = MS(1);
    for (int i = 0; i < 20; i++)
        tg_uplink_on_rtt(u, rtt_us, now += MS(100));
    return now;
}

/* On a long path a small buffer overflows below the congestion threshold
 * (min_rtt / 4): 64 KB at 50 Mbit/s is 10 ms of queue on a 100 ms path.
 * The queue it showed still makes the losses after it an overflow, or the
 * uplink reads their loss and adaptive leaves it out of striping (it then
 * carries nothing to correct the estimate but probes). */
static void test_overflow_long_path(void)
{
    struct tg_uplink_est u;
    tg_time now = settled(&u, MS(100));
    struct tg_uplink_feedback fb = {.expected = 10, .received = 10, .has_owd = true,
                                    .owd_us = MS(50)};
    tg_uplink_on_feedback(&u, &fb, now += MS(10));
    fb.owd_us = MS(60); /* a 10 ms queue: not congestion on a 100 ms path */
    tg_uplink_on_feedback(&u, &fb, now += MS(10));
    CHECK(!u.congested);
    fb.received = 5; /* 5 of 10 lost as it overflowed */
    tg_uplink_on_feedback(&u, &fb, now += MS(20));
    CHECK_EQ(u.congestion_lost, 5);
    CHECK_EQ(u.loss_lost, 0);
}

/* A 64 KB queue at 100 Mbit/s overflows at 5 ms, about where a 20 ms path's
 * delay starts to read as a queue, and the receiver learns of the overflow
 * from packets that met a drained queue: the losses look like the link's.
 * Losses reported within 4 srtt of a packet the sender held back for the
 * uplink (its model said the queue was at the tunnel's limit) are the
 * overflow; later ones count as the link's. A hold alone does not make the
 * rate estimate "queued". Without it, 12 losses in one burst read 4.7% and
 * adaptive left the fast uplink of agg_skew_q64 out of striping for 2 s. */
static void test_overflow_after_hold(void)
{
    struct tg_uplink_est u;
    tg_time now = settled(&u, MS(20));
    struct tg_uplink_feedback fb = {.expected = 10, .received = 10, .has_owd = true,
                                    .owd_us = MS(10)};
    tg_uplink_on_feedback(&u, &fb, now += MS(10));
    tg_uplink_on_hold(&u, now += MS(1));
    fb.received = 4; /* 6 of 10 lost, no queue seen */
    fb.owd_us = MS(11);
    tg_uplink_on_feedback(&u, &fb, now += MS(20));
    CHECK(!u.congested);
    CHECK_EQ(u.congestion_lost, 6);
    CHECK_EQ(u.loss_lost, 0);
    CHECK(!u.rate_queued);
    tg_uplink_on_feedback(&u, &fb, now += 5 * u.srtt_us); /* long after the hold: the link's */
    CHECK_EQ(u.congestion_lost, 6);
    CHECK_EQ(u.loss_lost, 6);
}

/* 64 KB at 50 Mbit/s overflows at 10 ms of queue, below a 100 ms path's
 * congestion threshold: the uplink is never "congested", yet it carries less
 * than its estimate (the best of samples a millisecond of jitter raised). A
 * sample of at least half the estimate that spans losses counted as the
 * queue's overflow goes through the EMA; one without losses does not (the
 * sender may have fed it less), nor does one far below the estimate: the
 * sender's (an inner flow that backed off). Without this the scheduler fed
 * the uplink more than it carried, and it overflowed again and again
 * (agg_skew_q64: 100 + 50 Mbit/s, +40 ms, 64 KB queues). */
static void test_rate_overflow(void)
{
    struct tg_uplink_est u;
    tg_time now = settled(&u, MS(100));
    rate_fb(&u, 62500, 10, 10, 50, now += MS(10)); /* 50 Mbit/s, the base delay 50 ms */
    rate_fb(&u, 62500, 10, 10, 60, now += MS(10)); /* a 10 ms queue */
    CHECK(!u.congested);
    CHECK(near(u.rate_bps, 50e6));
    struct tg_uplink_feedback lossy = {.expected = 10, .received = 8, .bytes = 50000,
                                       .ack_interval_us = MS(10), .send_interval_us = MS(10),
                                       .has_owd = true, .owd_us = MS(60)};
    tg_uplink_on_feedback(&u, &lossy, now += MS(10)); /* 40 Mbit/s, 2 lost in the overflow */
    CHECK_EQ(u.congestion_lost, 2);
    CHECK(near(u.rate_bps, 48e6)); /* 50 + 0.2 * (40 - 50) */
    rate_fb(&u, 25000, 10, 10, 50, now += MS(10)); /* 20 Mbit/s, nothing lost: kept */
    CHECK(near(u.rate_bps, 48e6));
    lossy.bytes = 12500; /* 10 Mbit/s across overflow losses: the sender's */
    tg_uplink_on_feedback(&u, &lossy, now += MS(10));
    CHECK_EQ(u.congestion_lost, 4);
    CHECK(near(u.rate_bps, 48e6));
}

/* An uplink that has carried only a trickle (acknowledgements, 64 bytes per
 * sample) keeps rate_queued false however its delay swings: on a cellular
 * trace the delay of its probes rose 40 ms, that counted as a queue, and the
 * scheduler then judged the uplink at its trickle rate (5 kbit/s) and never
 * used it again (live, 3 of 5 runs of the cellular fidelity case carried the
 * download on the wired uplink alone). A queue seen while it carries full
 * packets sets it: from then on the estimate is what the uplink carries. */
static void test_rate_queued(void)
{
    struct tg_uplink_est u;
    tg_time now = settled(&u, MS(60));
    rate_fb(&u, 64, 10, 10, 30, now += MS(10)); /* the base delay 30 ms */
    for (int i = 0; i < 20; i++) /* a trickle, the delay up 40 ms */
        rate_fb(&u, 64, 10, 10, 70, now += MS(10));
    CHECK(u.congested_at != 0);
    CHECK(!u.rate_queued);
    CHECK(u.rate_bps < 100e3);
    rate_fb(&u, 12500, 10, 10, 70, now += MS(10)); /* 10 Mbit/s, queued */
    CHECK(u.rate_queued);
}

/* Late is not lost. A probe answered after its timeout (a cellular link
 * that pauses longer than srtt + 4 rttvar) takes its lost outcome back;
 * packets reported after a newer one (reordered on the way) take back as
 * many losses. Without this, three late probes read 1.2% loss and cut a
 * live LTE uplink from striping for the rest of the session. */
static void test_late_not_lost(void)
{
    struct tg_uplink_est u;
    tg_time now = settled(&u, MS(60));
    tg_time rto = u.rto_us;
    tg_uplink_on_probe_timeout(&u, now += rto);
    tg_uplink_on_probe_timeout(&u, now += 2 * rto);
    CHECK_EQ(u.loss_lost, 2);
    tg_uplink_on_late_answer(&u, now += MS(10));
    CHECK_EQ(u.loss_lost, 1);
    CHECK_EQ(u.loss_count, 22); /* outcomes stay: one of them is no longer a loss */
    tg_uplink_on_late_answer(&u, now += MS(10));
    CHECK_EQ(u.loss_lost, 0);
    tg_uplink_on_late_answer(&u, now += MS(10)); /* nothing left to take back */
    CHECK_EQ(u.loss_lost, 0);
    CHECK(tg_uplink_loss(&u) == 0.0);

    /* data: 10 expected, 8 reported (2 overtaken), then the 2 come late */
    struct tg_uplink_feedback fb = {.expected = 10, .received = 8};
    tg_uplink_on_feedback(&u, &fb, now += MS(20));
    CHECK_EQ(u.loss_lost, 2);
    fb = (struct tg_uplink_feedback){.expected = 10, .received = 10, .late = 2};
    tg_uplink_on_feedback(&u, &fb, now += MS(20));
    CHECK_EQ(u.loss_lost, 0);
    fb = (struct tg_uplink_feedback){.expected = 0, .received = 0, .late = 5};
    tg_uplink_on_feedback(&u, &fb, now += MS(20)); /* more than was lost: no harm */
    CHECK_EQ(u.loss_lost, 0);
    CHECK_EQ(u.loss_count, 42);
}

static void test_names(void)
{
    CHECK(strcmp(tg_health_name(TG_HEALTH_UNKNOWN), "unknown") == 0);
    CHECK(strcmp(tg_health_name(TG_HEALTH_HEALTHY), "healthy") == 0);
    CHECK(strcmp(tg_health_name(TG_HEALTH_DEGRADED), "degraded") == 0);
    CHECK(strcmp(tg_health_name(TG_HEALTH_UNHEALTHY), "unhealthy") == 0);
    CHECK(strcmp(tg_health_name(TG_HEALTH_DOWN), "down") == 0);
    CHECK(strcmp(tg_health_name((enum tg_health)99), "invalid") == 0);
}

static void test_counters(void)
{
    struct tg_uplink_config c;
    tg_uplink_config_default(&c);
    struct tg_uplink_est u;
    tg_uplink_init(&u, &c, 0);
    tg_uplink_on_rtt(&u, MS(10), 1);
    tg_uplink_on_probe_timeout(&u, 2);
    feedback(&u, 5, 5, 3);
    feedback(&u, 5, 0, 4);
    feedback(&u, 0, 0, 5);
    CHECK_EQ(u.successes, 2);
    CHECK_EQ(u.failures, 2);
    CHECK_EQ(u.consecutive_failures, 1);
    CHECK_EQ(u.consecutive_successes, 0);
    CHECK_EQ(u.loss_count, 12);
    CHECK_EQ(u.loss_lost, 6);
}

int main(void)
{
    test_defaults();
    test_tables();
    test_granularity();
    test_no_flapping();
    test_rtt_recovery_margin();
    test_rate();
    test_rate_app_limited();
    test_rate_after_queue();
    test_owd_queue();
    test_congestion_loss();
    test_overflow_learned_late();
    test_overflow_long_path();
    test_overflow_after_hold();
    test_rate_overflow();
    test_rate_queued();
    test_late_not_lost();
    test_names();
    test_counters();
    return check_exit("test_uplink");
}
