/*
 * Scheduler: for each strategy a table of (uplink views -> chosen mask)
 * rows, each row on a fresh scheduler; then the behaviour over many picks:
 * smooth WRR counts and order, bandwidth shares, ECMP consistency and
 * spread, flow stickiness and expiry under `none`, earliest-arrival striping
 * under `full`, and the `adaptive` aggregation switch at 100 ms.
 */
#include "check.h"
#include "core/sched.h"

#include <stdint.h>
#include <string.h>

#define UNK TG_HEALTH_UNKNOWN
#define OK_ TG_HEALTH_HEALTHY
#define DEG TG_HEALTH_DEGRADED
#define BAD TG_HEALTH_UNHEALTHY
#define DWN TG_HEALTH_DOWN

/* clang-format off */
/* A present uplink: health, srtt in ms, loss fraction, rate in Mbit/s, then
 * any other fields as designated initializers. */
#define VX(h_, ms_, loss_, mbps_, ...)                                                   \
    {.present = true, .health = (h_), .srtt_us = (tg_time)(ms_) * 1000, .loss = (loss_), \
     .rate_bps = (mbps_) * 1e6, __VA_ARGS__}
#define VW(h_, ms_, loss_, mbps_) VX(h_, ms_, loss_, mbps_, .behind_nat = false)
#define OFF {.present = false}

struct row {
    size_t n;
    struct tg_sched_view v[4];
    uint64_t hash;
    int err;       /* expected return */
    uint32_t mask; /* expected mask */
    int line;
};

#define ROW(n_, mask_, ...)        {(n_), {__VA_ARGS__}, 0, TG_OK, (mask_), __LINE__}
#define ROWH(n_, h_, mask_, ...)   {(n_), {__VA_ARGS__}, (h_), TG_OK, (mask_), __LINE__}
#define NOUP(n_, ...)              {(n_), {__VA_ARGS__}, 0, TG_ERR_STATE, 0, __LINE__}
/* clang-format on */

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct tg_sched *make(enum tg_strategy st, enum tg_aggregation agg)
{
    struct tg_sched_config c;
    tg_sched_config_default(&c);
    c.strategy = st;
    c.aggregation = agg;
    struct tg_sched *s = NULL;
    int err = tg_sched_new(&c, NULL, &s);
    CHECK_EQ(err, TG_OK);
    return s;
}

static void run(const char *name, enum tg_strategy st, enum tg_aggregation agg,
                const struct row *rows, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        const struct row *r = &rows[i];
        struct tg_sched *s = make(st, agg);
        if (s == NULL)
            return;
        uint32_t mask = 0xdead;
        int err = tg_sched_pick(s, r->v, r->n, r->hash, 1000, 1000000, &mask);
        int bad = check_failures;
        CHECK_EQ(err, r->err);
        CHECK_EQ(mask, r->mask);
        if (check_failures != bad)
            fprintf(stderr, "  in table %s (%s, %s), row at line %d\n", name, tg_strategy_name(st),
                    tg_aggregation_name(agg), r->line);
        tg_sched_free(s);
    }
}

#define RUN(st, agg, rows) run(#rows, (st), (agg), (rows), COUNT(rows))

/* ------------------------------------------------ single-choice tables */

static const struct row lowest_latency[] = {
    ROW(2, 0x2, VW(OK_, 50, 0, 10), VW(OK_, 30, 0, 10)),
    ROW(2, 0x1, VW(OK_, 30, 0, 10), VW(OK_, 30, 0, 10)), /* tie: lower index */
    ROW(2, 0x1, VW(OK_, 50, 0, 10), VW(DEG, 10, 0, 10)), /* Degraded avoided */
    ROW(2, 0x2, VW(UNK, 0, 0, 0), VW(OK_, 40, 0, 10)),   /* unknown srtt ranks last */
    ROW(2, 0x1, VW(UNK, 0, 0, 0), VW(UNK, 0, 0, 0)),
    ROW(2, 0x1, VW(UNK, 60, 0, 0), VW(OK_, 70, 0, 10)), /* Unknown ranks with Healthy */
    ROW(3, 0x2, VW(DEG, 50, 0, 10), VW(DEG, 30, 0, 10), VW(BAD, 10, 0, 10)),
    ROW(3, 0x2, VW(BAD, 50, 0, 10), VW(BAD, 30, 0, 10), VW(DWN, 5, 0, 10)),
    ROW(2, 0x2, OFF, VW(OK_, 50, 0, 10)), /* absent slot */
    ROW(4, 0x8, VW(DWN, 5, 0, 10), VW(BAD, 6, 0, 10), VW(DEG, 7, 0, 10), VW(OK_, 100, 0, 10)),
    NOUP(2, VW(DWN, 5, 0, 10), VW(DWN, 6, 0, 10)),
    NOUP(2, OFF, OFF),
    NOUP(0, OFF),
};

static const struct row lowest_loss[] = {
    ROW(2, 0x2, VW(OK_, 50, 0.01, 10), VW(OK_, 80, 0.005, 10)),
    ROW(2, 0x2, VW(OK_, 50, 0.01, 10), VW(OK_, 30, 0.01, 10)), /* tie: lower srtt */
    ROW(2, 0x1, VW(OK_, 30, 0.01, 10), VW(OK_, 30, 0.01, 10)), /* full tie: lower index */
    ROW(2, 0x1, VW(OK_, 50, 0.05, 10), VW(DEG, 50, 0.0, 10)),  /* Degraded avoided */
    ROW(2, 0x2, VW(UNK, 0, 0.0, 0), VW(OK_, 40, 0.0, 10)),     /* unknown srtt last */
    ROW(3, 0x1, VW(BAD, 90, 0.4, 10), VW(BAD, 10, 0.5, 10), VW(DWN, 5, 0.0, 10)),
    ROW(3, 0x4, VW(BAD, 90, 0.0, 10), VW(DEG, 10, 0.3, 10), VW(DEG, 5, 0.2, 10)),
    NOUP(3, VW(DWN, 5, 0, 10), OFF, VW(DWN, 5, 0, 10)),
};

static const struct row primary_backup[] = {
    ROW(2, 0x2, VX(OK_, 50, 0, 10, .priority = 1), VX(OK_, 50, 0, 10, .priority = 0)),
    ROW(2, 0x2, VX(DEG, 50, 0, 10, .priority = 0), VX(OK_, 50, 0, 10, .priority = 1)),
    ROW(2, 0x1, VX(UNK, 0, 0, 0, .priority = 0), VX(OK_, 50, 0, 10, .priority = 1)),
    ROW(2, 0x1, VX(DEG, 50, 0, 10, .priority = 2), VX(BAD, 50, 0, 10, .priority = 1)),
    ROW(3, 0x4, VX(DWN, 50, 0, 10, .priority = 0), VX(OK_, 50, 0, 10, .priority = 5),
        VX(OK_, 50, 0, 10, .priority = 3)),
    ROW(3, 0x2, VX(BAD, 50, 0, 10, .priority = 0), VX(OK_, 50, 0, 10, .priority = 7),
        VX(OK_, 50, 0, 10, .priority = 7)), /* tie: lower index */
    ROW(2, 0x2, VX(BAD, 50, 0, 10, .priority = 1), VX(BAD, 50, 0, 10, .priority = 0)),
    NOUP(2, VX(DWN, 50, 0, 10, .priority = 0), OFF),
};

static const struct row redundant[] = {
    ROW(3, 0x7, VW(OK_, 10, 0, 10), VW(OK_, 20, 0, 10), VW(UNK, 0, 0, 0)),
    ROW(4, 0x3, VW(OK_, 10, 0, 10), VW(DEG, 20, 0, 10), VW(BAD, 5, 0, 10), VW(DWN, 5, 0, 10)),
    ROW(2, 0x1, VW(UNK, 0, 0, 0), VW(BAD, 5, 0, 10)),
    ROW(3, 0x3, VW(BAD, 10, 0, 10), VW(BAD, 20, 0, 10), VW(DWN, 5, 0, 10)),
    ROW(2, 0x2, OFF, VW(OK_, 10, 0, 10)),
    ROW(2, 0x2, VW(DWN, 10, 0, 10), VW(DEG, 10, 0, 10)),
    NOUP(2, VW(DWN, 10, 0, 10), VW(DWN, 10, 0, 10)),
};

/* adaptive, first pick of a fresh scheduler under `none`: the best score. */
static const struct row adaptive[] = {
    ROW(2, 0x1, VW(OK_, 20, 0, 10), VW(OK_, 100, 0, 10)),
    ROW(2, 0x2, VW(OK_, 50, 0.05, 10), VW(OK_, 50, 0, 10)),
    ROW(2, 0x2, VX(OK_, 50, 0, 10, .behind_nat = true), VW(OK_, 50, 0, 10)),
    ROW(2, 0x2, VW(OK_, 50, 0, 10), VW(OK_, 50, 0, 50)),
    /* 40 ms 10 Mbit/s: .35*.8 + .2*.8 = .44; 50 ms 50 Mbit/s: .35 */
    ROW(2, 0x2, VW(OK_, 40, 0, 10), VW(OK_, 50, 0, 50)),
    /* loss floor 1%: 0.1% vs 0.2% weighs .035 vs .07, less than 50 vs 40 ms */
    ROW(2, 0x2, VW(OK_, 50, 0.001, 10), VW(OK_, 40, 0.002, 10)),
    /* but 10% vs 20% decides: .35+.175 vs .28+.35 */
    ROW(2, 0x1, VW(OK_, 50, 0.10, 10), VW(OK_, 40, 0.20, 10)),
    ROW(2, 0x1, VW(OK_, 90, 0.02, 10), VW(DEG, 10, 0, 100)), /* Degraded avoided */
    /* unknown srtt and rate take the means: 20 ms beats them */
    ROW(3, 0x1, VW(OK_, 20, 0, 10), VW(OK_, 60, 0, 10), VW(UNK, 0, 0, 0)),
    /* unknown srtt takes the mean rtt' (.667, not 1): .233 beats .297 */
    ROW(3, 0x4, VW(OK_, 20, 0, 10), VW(OK_, 60, 0, 10), VW(UNK, 0, 0, 100)),
    ROW(3, 0x4, VW(BAD, 20, 0, 10), VW(DWN, 10, 0, 10), VW(DEG, 300, 0.2, 1)),
    ROW(2, 0x1, VW(UNK, 0, 0, 0), VW(UNK, 0, 0, 0)),
    NOUP(1, VW(DWN, 10, 0, 10)),
};

/* Spreading strategies, first pick of a fresh scheduler under `none`. */
static const struct row wrr_first[] = {
    ROW(2, 0x2, VX(OK_, 10, 0, 10, .weight = 1), VX(OK_, 10, 0, 10, .weight = 3)),
    ROW(2, 0x1, VX(OK_, 10, 0, 10, .weight = 2), VX(OK_, 10, 0, 10, .weight = 2)),
    ROW(2, 0x2, VX(DWN, 10, 0, 10, .weight = 10), VX(OK_, 10, 0, 10, .weight = 1)),
    ROW(2, 0x2, VX(BAD, 10, 0, 10, .weight = 10), VX(OK_, 10, 0, 10, .weight = 1)),
    ROW(2, 0x1, VX(DEG, 10, 0, 10, .weight = 10), VX(OK_, 10, 0, 10, .weight = 1)),
    ROW(2, 0x1, VX(OK_, 10, 0, 10, .weight = 0), VX(OK_, 10, 0, 10, .weight = 0.5)),
    ROW(2, 0x2, VX(BAD, 10, 0, 10, .weight = 1), VX(BAD, 10, 0, 10, .weight = 3)),
    NOUP(2, VX(DWN, 10, 0, 10, .weight = 1), OFF),
};

static const struct row bandwidth_first[] = {
    ROW(2, 0x2, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 30)),
    ROW(2, 0x1, VW(OK_, 10, 0, 30), VW(OK_, 10, 0, 30)),
    ROW(3, 0x2, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 20), VW(UNK, 0, 0, 0)), /* unknown: 15 < 20 */
    ROW(3, 0x2, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 20), VW(DWN, 10, 0, 90)),
    ROW(2, 0x1, VW(UNK, 0, 0, 0), VW(UNK, 0, 0, 0)),
    NOUP(1, VW(DWN, 10, 0, 10)),
};

static const struct row ecmp_first[] = {
    ROWH(3, 0, 0x1, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10)),
    ROWH(3, 1, 0x2, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10)),
    ROWH(3, 5, 0x4, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10)),
    ROWH(3, 1, 0x4, VW(OK_, 10, 0, 10), VW(DWN, 10, 0, 10), VW(OK_, 10, 0, 10)),
    ROWH(3, 2, 0x1, VW(OK_, 10, 0, 10), VW(DWN, 10, 0, 10), VW(OK_, 10, 0, 10)),
    ROWH(3, 1, 0x4, VW(OK_, 10, 0, 10), VW(BAD, 10, 0, 10), VW(DEG, 10, 0, 10)),
    ROWH(3, 1, 0x2, VW(BAD, 10, 0, 10), VW(BAD, 10, 0, 10), VW(DWN, 10, 0, 10)),
    /* (2^64 - 1) mod 3 = 0: the first of {1, 2, 3} */
    ROWH(4, UINT64_MAX, 0x2, OFF, VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10), VW(OK_, 10, 0, 10)),
    NOUP(2, VW(DWN, 10, 0, 10), OFF),
};

/* `full`: the earliest expected arrival, len = 1000 bytes (8000 bits).
 * arrival = delay + (queued + 1000) * 8 / rate. */
static const struct row earliest[] = {
    /* owd 1 ms vs 21 ms, empty queues, 10 Mbit/s: 800 us vs 20800 us */
    ROW(2, 0x1, VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 1000),
        VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 21000)),
    /* 50 kB queued on the first: 40800 us vs 20800 us */
    ROW(2, 0x2, VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 1000, .queued_bytes = 50000),
        VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 21000)),
    /* 1 Mbit/s vs 100 Mbit/s: 8000 us vs 5000 + 80 us */
    ROW(2, 0x2, VX(OK_, 50, 0, 1, .has_owd = true, .owd_us = 0),
        VX(OK_, 50, 0, 100, .has_owd = true, .owd_us = 5000)),
    /* owd only relative: both shifted by -1 s, same answer */
    ROW(2, 0x2, VX(OK_, 50, 0, 1, .has_owd = true, .owd_us = -1000000),
        VX(OK_, 50, 0, 100, .has_owd = true, .owd_us = -995000)),
    /* one owd missing: srtt/2 for all (20000 vs 10000), owd ignored */
    ROW(2, 0x2, VX(OK_, 40, 0, 10, .has_owd = true, .owd_us = 0), VW(OK_, 20, 0, 10)),
    /* unknown rate = mean of known (20 Mbit/s): 40400, 24800, 16267 us + 10 ms */
    ROW(3, 0x4, VX(OK_, 20, 0, 0, .queued_bytes = 100000),
        VX(OK_, 20, 0, 10, .queued_bytes = 30000), VX(OK_, 20, 0, 30, .queued_bytes = 60000)),
    /* no rate known: default 1 Mbit/s: 10000 + 8000 vs 5000 + 24000 */
    ROW(2, 0x1, VW(OK_, 20, 0, 0), VX(OK_, 10, 0, 0, .queued_bytes = 2000)),
    /* unknown srtt = mean of known halves */
    ROW(3, 0x4, VX(OK_, 20, 0, 10, .queued_bytes = 20000), VW(OK_, 60, 0, 10), VW(UNK, 0, 0, 10)),
    /* Degraded uplinks are striped over; Unhealthy ones only as last resort */
    ROW(2, 0x2, VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 50000),
        VX(DEG, 50, 0, 10, .has_owd = true, .owd_us = 0)),
    ROW(2, 0x2, VX(BAD, 50, 0, 10, .has_owd = true, .owd_us = 0),
        VX(OK_, 50, 0, 10, .has_owd = true, .owd_us = 50000)),
    ROW(3, 0x1, VX(BAD, 50, 0, 10, .has_owd = true, .owd_us = 30000),
        VX(BAD, 50, 0, 10, .has_owd = true, .owd_us = 40000), VW(DWN, 1, 0, 100)),
    /* tie: lower index */
    ROW(2, 0x1, VW(OK_, 30, 0, 10), VW(OK_, 30, 0, 10)),
    NOUP(2, OFF, VW(DWN, 1, 0, 100)),
};

/* adaptive + full: candidates are the best class, less the uplinks losing
 * more than 2 x the lowest loss + stripe_loss_margin (0.01) beyond chance;
 * then earliest arrival. */
static const struct row adaptive_full[] = {
    /* 20 ms vs 200 ms: both candidates; 1 MB queued at 10 Mbit/s is 800 ms */
    ROW(2, 0x2, VX(OK_, 20, 0, 10, .queued_bytes = 1000000), VW(OK_, 200, 0, 10)),
    ROW(2, 0x1, VX(OK_, 20, 0, 10, .queued_bytes = 100000), VW(OK_, 200, 0, 10)),
    /* 5% loss against 1% over 1024 outcomes: more than 0.03 beyond chance,
     * no candidate even though the other has 1 MB queued; 2.5% is within the
     * limit; over 256 outcomes 5% could be chance (12.8 lost, 7.7 expected
     * at 3%, sd 2.7) */
    ROW(2, 0x1, VX(OK_, 20, 0.01, 10, .queued_bytes = 1000000),
        VX(OK_, 20, 0.05, 10, .loss_samples = 1024)),
    ROW(2, 0x2, VX(OK_, 20, 0.01, 10, .queued_bytes = 1000000),
        VX(OK_, 20, 0.025, 10, .loss_samples = 1024)),
    ROW(2, 0x2, VX(OK_, 20, 0.01, 10, .queued_bytes = 1000000),
        VX(OK_, 20, 0.05, 10, .loss_samples = 256)),
    /* 2% against none: 5 of 256 is chance at the 1% limit, 20 of 1024 is
     * not; an uplink with no outcomes yet is never cut */
    ROW(2, 0x2, VX(OK_, 20, 0, 10, .queued_bytes = 1000000),
        VX(OK_, 20, 0.02, 10, .loss_samples = 256)),
    ROW(2, 0x1, VX(OK_, 20, 0, 10, .queued_bytes = 1000000),
        VX(OK_, 20, 0.02, 10, .loss_samples = 1024)),
    ROW(2, 0x2, VX(OK_, 20, 0, 10, .queued_bytes = 1000000), VX(OK_, 20, 1.0, 10)),
    /* 40 ms vs 50 ms: both candidates: earliest arrival */
    ROW(2, 0x2, VX(OK_, 40, 0, 10, .queued_bytes = 1000000), VW(OK_, 50, 0, 10)),
    ROW(2, 0x1, VW(OK_, 40, 0, 10), VW(OK_, 50, 0, 10)),
    /* the best class only: a Degraded uplink is no candidate */
    ROW(2, 0x1, VX(OK_, 40, 0, 10, .queued_bytes = 1000000), VW(DEG, 40, 0, 10)),
    NOUP(1, VW(DWN, 10, 0, 10)),
};

static void test_tables(void)
{
    for (int agg = 0; agg < TG_AGG_COUNT; agg++) {
        /* these strategies ignore aggregation */
        RUN(TG_STRATEGY_LOWEST_LATENCY, (enum tg_aggregation)agg, lowest_latency);
        RUN(TG_STRATEGY_LOWEST_LOSS, (enum tg_aggregation)agg, lowest_loss);
        RUN(TG_STRATEGY_PRIMARY_BACKUP, (enum tg_aggregation)agg, primary_backup);
        RUN(TG_STRATEGY_REDUNDANT, (enum tg_aggregation)agg, redundant);
    }
    RUN(TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, adaptive);
    RUN(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_NONE, wrr_first);
    RUN(TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_NONE, bandwidth_first);
    RUN(TG_STRATEGY_ECMP_AWARE, TG_AGG_NONE, ecmp_first);
    /* `full` stripes the same way whatever the spreading strategy */
    RUN(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL, earliest);
    RUN(TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_FULL, earliest);
    RUN(TG_STRATEGY_ECMP_AWARE, TG_AGG_FULL, earliest);
    RUN(TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, adaptive_full);
}

/* ------------------------------------------------------ many picks */

static int pick1(struct tg_sched *s, const struct tg_sched_view *v, size_t n, uint64_t hash,
                 tg_time now)
{
    uint32_t mask = 0;
    int err = tg_sched_pick(s, v, n, hash, 1000, now, &mask);
    CHECK_EQ(err, TG_OK);
    if (err != TG_OK || mask == 0 || (mask & (mask - 1)) != 0)
        return -1;
    int i = 0;
    while (!(mask & 1u)) {
        mask >>= 1;
        i++;
    }
    return i;
}

static void view(struct tg_sched_view *v, enum tg_health h, tg_time srtt_us, double rate_bps)
{
    memset(v, 0, sizeof *v);
    v->present = true;
    v->health = h;
    v->srtt_us = srtt_us;
    v->rate_bps = rate_bps;
}

/* Smooth WRR: exact counts, nginx's order, no bursts on the light uplink.
 * Every pick is a new flow (distinct hashes, distinct table slots). */
static void test_wrr(void)
{
    struct tg_sched *s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_NONE);
    struct tg_sched_view v[3];
    view(&v[0], OK_, 10000, 0);
    view(&v[1], OK_, 10000, 0);
    v[0].weight = 3;
    v[1].weight = 1;
    int count[2] = {0, 0}, run_light = 0, max_run_light = 0, run_heavy = 0, max_run_heavy = 0;
    static const int first[] = {0, 0, 1, 0, 0, 0, 1, 0};
    for (uint64_t i = 0; i < 1000; i++) {
        int k = pick1(s, v, 2, i, 1);
        if (k < 0)
            break;
        count[k]++;
        if (i < COUNT(first))
            CHECK_EQ(k, first[i]);
        run_light = k == 1 ? run_light + 1 : 0;
        run_heavy = k == 0 ? run_heavy + 1 : 0;
        if (run_light > max_run_light)
            max_run_light = run_light;
        if (run_heavy > max_run_heavy)
            max_run_heavy = run_heavy;
    }
    CHECK_EQ(count[0], 750);
    CHECK_EQ(count[1], 250);
    CHECK_EQ(max_run_light, 1);
    CHECK_EQ(max_run_heavy, 3);
    tg_sched_free(s);

    /* nginx's example: weights 5,1,1 give a a b a c a a */
    s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_NONE);
    for (int i = 0; i < 3; i++)
        view(&v[i], OK_, 10000, 0);
    v[0].weight = 5;
    v[1].weight = 1;
    v[2].weight = 1;
    static const int seq[] = {0, 0, 1, 0, 2, 0, 0, 0, 0, 1, 0, 2, 0, 0};
    for (uint64_t i = 0; i < COUNT(seq); i++)
        CHECK_EQ(pick1(s, v, 3, 100 + i, 1), seq[i]);

    /* a set change restarts the credits: three picks into a cycle (a a b,
     * credits 1 -4 3) c goes Down, and the pair 5:1 starts from zero
     * (a a a b a a; stale credits would give a a a a a b) */
    for (uint64_t i = 0; i < 3; i++)
        CHECK_EQ(pick1(s, v, 3, 150 + i, 1), seq[i]);
    v[2].health = DWN;
    static const int seq2[] = {0, 0, 0, 1, 0, 0};
    for (uint64_t i = 0; i < COUNT(seq2); i++)
        CHECK_EQ(pick1(s, v, 3, 200 + i, 1), seq2[i]);
    tg_sched_free(s);
}

static void test_bandwidth_shares(void)
{
    struct tg_sched *s = make(TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_NONE);
    struct tg_sched_view v[3];
    view(&v[0], OK_, 10000, 30e6);
    view(&v[1], OK_, 10000, 10e6);
    int count[3] = {0, 0, 0};
    for (uint64_t i = 0; i < 1000; i++) {
        int k = pick1(s, v, 2, i, 1);
        if (k >= 0)
            count[k]++;
    }
    CHECK_EQ(count[0], 750);
    CHECK_EQ(count[1], 250);
    tg_sched_free(s);

    /* 20 : 10 : unknown (the mean, 15) over 900 picks */
    s = make(TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_NONE);
    view(&v[0], OK_, 10000, 20e6);
    view(&v[1], OK_, 10000, 10e6);
    view(&v[2], UNK, 0, 0);
    memset(count, 0, sizeof count);
    for (uint64_t i = 0; i < 900; i++) {
        int k = pick1(s, v, 3, i, 1);
        if (k >= 0)
            count[k]++;
    }
    CHECK_EQ(count[0], 400);
    CHECK_EQ(count[1], 200);
    CHECK_EQ(count[2], 300);
    tg_sched_free(s);

    /* no rate known: equal shares */
    s = make(TG_STRATEGY_BANDWIDTH_PROPORTIONAL, TG_AGG_NONE);
    view(&v[0], UNK, 0, 0);
    view(&v[1], UNK, 0, 0);
    memset(count, 0, sizeof count);
    for (uint64_t i = 0; i < 100; i++) {
        int k = pick1(s, v, 2, i, 1);
        if (k >= 0)
            count[k]++;
    }
    CHECK_EQ(count[0], 50);
    CHECK_EQ(count[1], 50);
    tg_sched_free(s);
}

/* A well-mixed hash whose low 12 bits are i: flows i < 4096 never share a
 * table slot, so the table keeps every one of them. */
static uint64_t mix(uint64_t i)
{
    uint64_t x = i;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x << 12 | i;
}

static void test_ecmp(void)
{
    struct tg_sched_view v[3];
    for (int i = 0; i < 3; i++)
        view(&v[i], OK_, 10000, 10e6);

    /* stateless: two schedulers, no shared table, same answers */
    struct tg_sched *a = make(TG_STRATEGY_ECMP_AWARE, TG_AGG_NONE);
    struct tg_sched *b = make(TG_STRATEGY_ECMP_AWARE, TG_AGG_NONE);
    int count[3] = {0, 0, 0};
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t h = mix(i);
        int ka = pick1(a, v, 3, h, 1), kb = pick1(b, v, 3, h, 1);
        CHECK_EQ(ka, kb);
        CHECK_EQ(ka, (int)(h % 3));
        CHECK_EQ(pick1(a, v, 3, h, 2), ka); /* again: same uplink */
        if (ka >= 0)
            count[ka]++;
    }
    for (int i = 0; i < 3; i++)
        CHECK(count[i] > 900 && count[i] < 1100);
    tg_sched_free(b);

    /* uplink 1 goes Down: its flows move, the others stay (the table keeps
     * them, although hash mod 2 would move some) */
    v[1].health = DWN;
    for (uint64_t i = 0; i < 3000; i++) {
        uint64_t h = mix(i);
        int was = (int)(h % 3);
        int k = pick1(a, v, 3, h, 3);
        if (was != 1)
            CHECK_EQ(k, was);
        else
            CHECK(k == 0 || k == 2);
    }
    tg_sched_free(a);
}

/* `none`: a flow stays where it started while that uplink is usable. */
static void test_sticky(void)
{
    struct tg_sched *s = make(TG_STRATEGY_ADAPTIVE, TG_AGG_NONE);
    struct tg_sched_view v[2];
    view(&v[0], OK_, 50000, 10e6);
    view(&v[1], OK_, 30000, 10e6);
    const uint64_t x = 42, y = 43;
    tg_time t = 1000;
    CHECK_EQ(pick1(s, v, 2, x, t), 1);
    v[1].srtt_us = 100000; /* 1 became worse: x stays, a new flow goes to 0 */
    CHECK_EQ(pick1(s, v, 2, x, ++t), 1);
    CHECK_EQ(pick1(s, v, 2, y, ++t), 0);
    v[1].health = DEG; /* still usable: x stays */
    CHECK_EQ(pick1(s, v, 2, x, ++t), 1);
    v[1].health = BAD; /* Unhealthy while a Healthy one exists: x moves */
    CHECK_EQ(pick1(s, v, 2, x, ++t), 0);
    v[1].health = OK_;
    v[1].srtt_us = 10000; /* 1 is best again: x stays on 0, new flows go to 1 */
    CHECK_EQ(pick1(s, v, 2, x, ++t), 0);
    CHECK_EQ(pick1(s, v, 2, 44, ++t), 1);
    v[0].health = DWN; /* x's uplink goes Down: x moves */
    CHECK_EQ(pick1(s, v, 2, x, ++t), 1);
    v[0].health = OK_;
    CHECK_EQ(pick1(s, v, 2, x, ++t), 1);
    v[0].present = false; /* gone: y moves */
    CHECK_EQ(pick1(s, v, 2, y, ++t), 1);
    /* Unhealthy is fine when nothing better exists */
    v[0].present = true;
    v[0].health = BAD;
    v[0].srtt_us = 1000;
    v[1].health = BAD;
    v[1].srtt_us = 90000;
    CHECK_EQ(pick1(s, v, 2, x, ++t), 1);
    /* a flow sharing x's slot evicts it: x is chosen afresh */
    CHECK_EQ(pick1(s, v, 2, x + TG_SCHED_FLOW_SLOTS, ++t), 0);
    CHECK_EQ(pick1(s, v, 2, x, ++t), 0);
    /* fewer uplinks than the entry's index (flow 44 is on 1): re-picked */
    view(&v[0], OK_, 10000, 10e6);
    CHECK_EQ(pick1(s, v, 1, 44, ++t), 0);
    tg_sched_free(s);
}

/* Expiry: an entry used at t is expired from t + flow_idle_us on. */
static void test_expiry(void)
{
    struct tg_sched_config c;
    tg_sched_config_default(&c);
    c.strategy = TG_STRATEGY_ADAPTIVE;
    c.aggregation = TG_AGG_NONE;
    CHECK_EQ(c.flow_idle_us, 30000000);
    struct tg_sched *s = NULL;
    CHECK_EQ(tg_sched_new(&c, NULL, &s), TG_OK);
    if (s == NULL)
        return;
    const tg_time idle = c.flow_idle_us;
    struct tg_sched_view v[2];
    view(&v[0], OK_, 50000, 10e6);
    view(&v[1], OK_, 30000, 10e6);
    tg_time t = 5000000;
    CHECK_EQ(pick1(s, v, 2, 7, t), 1);
    v[0].srtt_us = 10000; /* 0 is better from now on */
    t += idle - 1;        /* one microsecond before expiry: still sticky, refreshed */
    CHECK_EQ(pick1(s, v, 2, 7, t), 1);
    t += idle - 1;
    CHECK_EQ(pick1(s, v, 2, 7, t), 1);
    t += idle; /* exactly at expiry: chosen afresh */
    CHECK_EQ(pick1(s, v, 2, 7, t), 0);
    tg_sched_free(s);

    /* flow_idle_us = 0: nothing sticks */
    c.flow_idle_us = 0;
    CHECK_EQ(tg_sched_new(&c, NULL, &s), TG_OK);
    if (s == NULL)
        return;
    view(&v[0], OK_, 50000, 10e6);
    view(&v[1], OK_, 30000, 10e6);
    CHECK_EQ(pick1(s, v, 2, 7, 1), 1);
    v[0].srtt_us = 10000;
    CHECK_EQ(pick1(s, v, 2, 7, 1), 0);
    tg_sched_free(s);
}

/* `full` striping over many packets: the host adds each packet to the
 * queue of its uplink and drains the queues at their rates; the packets
 * spread in proportion to rate, and each goes where it arrives first. */
static void test_striping(void)
{
    struct tg_sched *s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL);
    struct tg_sched_view v[2];
    view(&v[0], OK_, 20000, 30e6);
    view(&v[1], OK_, 20000, 10e6);
    int count[2] = {0, 0};
    for (int i = 0; i < 4000; i++) {
        int k = pick1(s, v, 2, 1, (tg_time)i);
        if (k < 0)
            break;
        count[k]++;
        v[k].queued_bytes += 1000;
    }
    /* equal delays: queues fill in proportion to rate, 3:1 */
    CHECK(count[0] >= 2999 && count[0] <= 3001);
    CHECK_EQ(count[0] + count[1], 4000);
    tg_sched_free(s);
}

/* An uplink that only ever carried acknowledgements reads a rate of a
 * trickle (0.1 of 25 Mbit/s, live): judged at it, a 1000-byte packet
 * would take 80 ms there and it would never be picked again, so its rate
 * would never grow. Until a queue has shown its capacity (rate_floor) it
 * is judged at the others' mean; once one has, at its own rate. */
static void test_rate_floor(void)
{
    struct tg_sched *s = make(TG_STRATEGY_ADAPTIVE, TG_AGG_FULL);
    struct tg_sched_view v[3];
    view(&v[0], OK_, 20000, 0.1e6);
    view(&v[1], OK_, 20000, 25e6);
    view(&v[2], OK_, 20000, 25e6);
    v[1].queued_bytes = v[2].queued_bytes = 20000; /* 6.4 ms each */
    v[0].rate_floor = true;
    CHECK_EQ(pick1(s, v, 3, 1, 1), 0);
    v[0].rate_floor = false; /* a queue showed it: 80 ms for the packet */
    CHECK(pick1(s, v, 3, 1, 2) != 0);
    v[0].rate_floor = true;
    v[0].rate_bps = 10e6; /* carried real traffic: its own rate */
    v[0].queued_bytes = 20000;
    CHECK(pick1(s, v, 3, 1, 3) != 0);
    tg_sched_free(s);
}

/* `adaptive` aggregation: full among the uplinks within 100 ms of the
 * lowest latency. Uplink 0 has a long queue, so uplink 1 is picked (earlier
 * arrival) while it is within the spread, never beyond it. */
static void test_adaptive_aggregation(void)
{
    static const struct {
        tg_time srtt1_us;
        bool owd;
        int64_t owd1_us;
        int want;
        int line;
    } rows[] = {
        {110000, false, 0, 1, __LINE__},     /* srtt 10 ms vs 110 ms: spread 100 ms: in */
        {110001, false, 0, 0, __LINE__},     /* 100 ms + 1 us: left out */
        {10000, false, 0, 1, __LINE__},      /* equal: in */
        {300000, true, 100000, 1, __LINE__}, /* owd decides when both have one */
        {300000, true, 100001, 0, __LINE__},
    };
    for (size_t i = 0; i < COUNT(rows); i++) {
        struct tg_sched *s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_ADAPTIVE);
        struct tg_sched_view v[2];
        view(&v[0], OK_, 10000, 10e6);
        view(&v[1], OK_, rows[i].srtt1_us, 10e6);
        v[0].queued_bytes = 1000000;
        if (rows[i].owd) {
            v[0].has_owd = v[1].has_owd = true;
            v[0].owd_us = 0;
            v[1].owd_us = rows[i].owd1_us;
        }
        int k = pick1(s, v, 2, 9, 1);
        CHECK_EQ(k, rows[i].want);
        if (k != rows[i].want)
            fprintf(stderr, "  adaptive aggregation row at line %d\n", rows[i].line);
        tg_sched_free(s);
    }

    /* the spread counts from the lowest latency, whichever uplink has it:
     * uplink 1 is 100 ms faster and has the long queue */
    for (int64_t d = 100000; d <= 100001; d++) {
        struct tg_sched *s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_ADAPTIVE);
        struct tg_sched_view v[2];
        view(&v[0], OK_, 10000, 10e6);
        view(&v[1], OK_, 10000, 10e6);
        v[0].has_owd = v[1].has_owd = true;
        v[1].owd_us = -d;
        v[1].queued_bytes = 1000000;
        CHECK_EQ(pick1(s, v, 2, 9, 1), d == 100000 ? 0 : 1);
        tg_sched_free(s);
    }

    /* a single candidate with a known latency: no spread, full */
    struct tg_sched *s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_ADAPTIVE);
    struct tg_sched_view v[2];
    view(&v[0], OK_, 10000, 10e6);
    view(&v[1], UNK, 0, 10e6);
    v[0].queued_bytes = 1000000;
    CHECK_EQ(pick1(s, v, 2, 9, 1), 1);
    tg_sched_free(s);

    /* three uplinks: the one 200 ms slower is left out, the other two share
     * by arrival time; the flow table is never used (a flow moves freely) */
    s = make(TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_ADAPTIVE);
    struct tg_sched_view w[3];
    view(&w[0], OK_, 10000, 10e6);
    view(&w[1], OK_, 60000, 10e6);
    view(&w[2], OK_, 210000, 100e6);
    unsigned count[3] = {0, 0, 0};
    for (tg_time p = 0; p < 1000; p++) {
        int k = pick1(s, w, 3, 9, p);
        if (k < 0)
            break;
        count[k]++;
        w[k].queued_bytes += 1500;
    }
    CHECK_EQ(count[2], 0);
    CHECK(count[0] > 400 && count[1] > 400);
    CHECK_EQ(count[0] + count[1], 1000);
    tg_sched_free(s);
}

/* -------------------------------------------------- names, arguments */

static int count_allocs, count_frees;

static void *counting_alloc(void *ctx, size_t size)
{
    (void)ctx;
    count_allocs++;
    static _Alignas(16) unsigned char pool[1 << 18];
    return size <= sizeof pool ? pool : NULL;
}

static void counting_free(void *ctx, void *ptr)
{
    (void)ctx;
    if (ptr)
        count_frees++;
}

static void test_api(void)
{
    static const char *const strategies[] = {
        "adaptive",
        "lowest_latency",
        "lowest_loss",
        "weighted_round_robin",
        "bandwidth_proportional",
        "redundant",
        "primary_backup",
        "ecmp_aware",
    };
    CHECK_EQ(COUNT(strategies), TG_STRATEGY_COUNT);
    for (int i = 0; i < TG_STRATEGY_COUNT; i++) {
        enum tg_strategy st = TG_STRATEGY_COUNT;
        CHECK(strcmp(tg_strategy_name((enum tg_strategy)i), strategies[i]) == 0);
        CHECK_EQ(tg_strategy_parse(strategies[i], &st), TG_OK);
        CHECK_EQ(st, i);
    }
    static const char *const aggs[] = {"none", "full", "adaptive"};
    for (int i = 0; i < TG_AGG_COUNT; i++) {
        enum tg_aggregation a = TG_AGG_COUNT;
        CHECK(strcmp(tg_aggregation_name((enum tg_aggregation)i), aggs[i]) == 0);
        CHECK_EQ(tg_aggregation_parse(aggs[i], &a), TG_OK);
        CHECK_EQ(a, i);
    }
    static const char *const bad[] = {"", "Adaptive", "round_robin", "adaptive ", "nonee", "ful"};
    for (size_t i = 0; i < COUNT(bad); i++) {
        enum tg_strategy st = TG_STRATEGY_REDUNDANT;
        enum tg_aggregation a = TG_AGG_FULL;
        CHECK_EQ(tg_strategy_parse(bad[i], &st), TG_ERR_INVAL);
        CHECK_EQ(tg_aggregation_parse(bad[i], &a), TG_ERR_INVAL);
        CHECK_EQ(st, TG_STRATEGY_REDUNDANT);
        CHECK_EQ(a, TG_AGG_FULL);
    }
    enum tg_strategy st;
    enum tg_aggregation ag;
    CHECK_EQ(tg_strategy_parse(NULL, &st), TG_ERR_INVAL);
    CHECK_EQ(tg_aggregation_parse(NULL, &ag), TG_ERR_INVAL);
    CHECK(strcmp(tg_strategy_name(TG_STRATEGY_COUNT), "invalid") == 0);
    CHECK(strcmp(tg_aggregation_name(TG_AGG_COUNT), "invalid") == 0);

    struct tg_sched_config c;
    tg_sched_config_default(&c);
    CHECK_EQ(c.strategy, TG_STRATEGY_ADAPTIVE);
    CHECK_EQ(c.aggregation, TG_AGG_ADAPTIVE);
    CHECK(c.w_rtt == 0.35 && c.w_loss == 0.35 && c.w_bw == 0.2 && c.w_nat == 0.1);
    CHECK_EQ(c.adaptive_spread_us, 100000);

    struct tg_sched *s = (struct tg_sched *)(uintptr_t)1; /* must be overwritten */
    c.strategy = TG_STRATEGY_COUNT;
    CHECK_EQ(tg_sched_new(&c, NULL, &s), TG_ERR_INVAL);
    CHECK(s == NULL);
    tg_sched_config_default(&c);
    c.aggregation = TG_AGG_COUNT;
    CHECK_EQ(tg_sched_new(&c, NULL, &s), TG_ERR_INVAL);
    CHECK_EQ(tg_sched_new(NULL, NULL, &s), TG_ERR_INVAL);
    tg_sched_config_default(&c);
    CHECK_EQ(tg_sched_new(&c, NULL, NULL), TG_ERR_INVAL);

    /* the allocator hook is used for the one allocation and its free */
    struct tg_allocator a = {counting_alloc, counting_free, NULL};
    CHECK_EQ(tg_sched_new(&c, &a, &s), TG_OK);
    CHECK_EQ(count_allocs, 1);
    struct tg_sched_view v[TG_SCHED_MAX_UPLINKS + 1];
    for (size_t i = 0; i < COUNT(v); i++)
        view(&v[i], OK_, 10000, 10e6);
    uint32_t mask = 0xdead;
    CHECK_EQ(tg_sched_pick(s, v, TG_SCHED_MAX_UPLINKS + 1, 1, 100, 1, &mask), TG_ERR_INVAL);
    CHECK_EQ(mask, 0);
    mask = 0xdead;
    CHECK_EQ(tg_sched_pick(s, NULL, 2, 1, 100, 1, &mask), TG_ERR_INVAL);
    CHECK_EQ(mask, 0);
    CHECK_EQ(tg_sched_pick(s, v, 0, 1, 100, 1, &mask), TG_ERR_STATE);
    CHECK_EQ(tg_sched_pick(s, v, TG_SCHED_MAX_UPLINKS, 1, 100, 1, &mask), TG_OK);
    CHECK(mask != 0 && (mask & (mask - 1)) == 0);
    tg_sched_free(s);
    CHECK_EQ(count_frees, 1);
    tg_sched_free(NULL);

    /* all 16 uplinks redundant: all 16 bits */
    c.strategy = TG_STRATEGY_REDUNDANT;
    CHECK_EQ(tg_sched_new(&c, NULL, &s), TG_OK);
    CHECK_EQ(tg_sched_pick(s, v, TG_SCHED_MAX_UPLINKS, 1, 100, 1, &mask), TG_OK);
    CHECK_EQ(mask, 0xffff);
    tg_sched_free(s);
}

int main(void)
{
    test_api();
    test_tables();
    test_wrr();
    test_bandwidth_shares();
    test_ecmp();
    test_sticky();
    test_expiry();
    test_striping();
    test_rate_floor();
    test_adaptive_aggregation();
    return check_exit("test_sched");
}
