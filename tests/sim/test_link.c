/* test_link: the simulated link delivers what its capacity model allows
 * (fixed, scheduled, Mahimahi and throughput traces, measured against the
 * real traces in ../shared/data), loses what its loss model says, honours
 * outages, queue limits and FIFO jitter; the trace loaders reject malformed
 * files naming path:line. Usage: test_link SHARED_DATA_DIR */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "check.h"
#include "sim/link.h"
#include "sim/trace.h"
#include "simtest.h"

static const char *data_dir;
static char tmp_dir[256];
static char tmp_files[32][600];
static size_t n_tmp_files;

/* ---- harness: a sink recording deliveries, a periodic source ---- */

struct rec {
    uint32_t seq;
    tg_time sent_us, at_us;
    size_t len;
};

struct sink {
    struct rec *r;
    size_t n, cap;
};

struct run {
    struct sim_evq q;
    gsl_rng *loss_rng, *jitter_rng;
    struct sim_link *l;
    struct sink sink;
    /* periodic source */
    tg_time every_us, until_us;
    size_t len;
    uint32_t next_seq;
};

static void make_pkt(uint8_t *buf, uint32_t seq, tg_time now)
{
    memcpy(buf, &seq, sizeof seq);
    memcpy(buf + 4, &now, sizeof now);
}

static void record(void *ctx, uint8_t *pkt, size_t len, tg_time now)
{
    struct sink *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 4096;
        s->r = realloc(s->r, s->cap * sizeof *s->r);
        if (!s->r) {
            fprintf(stderr, "test_link: out of memory\n");
            exit(1);
        }
    }
    struct rec *r = &s->r[s->n++];
    memcpy(&r->seq, pkt, sizeof r->seq);
    memcpy(&r->sent_us, pkt + 4, sizeof r->sent_us);
    r->at_us = now;
    r->len = len;
}

static bool send_one(struct run *r, size_t len)
{
    uint8_t buf[SIM_PKT_MAX];
    memset(buf, 0xab, sizeof buf);
    make_pkt(buf, r->next_seq++, r->q.now);
    return sim_link_send(r->l, buf, len);
}

static void on_source(void *ctx, uint64_t arg, tg_time now)
{
    struct run *r = ctx;
    send_one(r, r->len);
    bool pushed = now + r->every_us >= r->until_us ||
                  sim_evq_push(&r->q, now + r->every_us, on_source, r, 0) == 0;
    if (!pushed) /* a CHECK per event would make millions of checks */
        CHECK(pushed);
}

static bool run_init(struct run *r, const struct sim_link_config *c, unsigned long seed)
{
    memset(r, 0, sizeof *r);
    CHECK(sim_evq_init(&r->q, 64) == 0);
    r->loss_rng = gsl_rng_alloc(gsl_rng_mt19937);
    r->jitter_rng = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r->loss_rng, seed);
    gsl_rng_set(r->jitter_rng, seed + 1);
    r->l = sim_link_new(c, &r->q, r->loss_rng, r->jitter_rng, record, &r->sink);
    CHECK(r->l != NULL);
    return r->l != NULL;
}

/* Offer `len`-byte packets every `every_us` from now until `until_us`. */
static void run_source(struct run *r, size_t len, tg_time every_us, tg_time until_us)
{
    r->len = len;
    r->every_us = every_us;
    r->until_us = until_us;
    CHECK(sim_evq_push(&r->q, r->q.now, on_source, r, 0) == 0);
}

static void run_clear(struct run *r)
{
    sim_evq_clear(&r->q); /* before the link: pending events point at it */
    sim_link_free(r->l);
    gsl_rng_free(r->loss_rng);
    gsl_rng_free(r->jitter_rng);
    free(r->sink.r);
    memset(r, 0, sizeof *r);
}

/* Bytes delivered at times in [a, b). */
static uint64_t bytes_between(const struct sink *s, tg_time a, tg_time b)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->r[i].at_us >= a && s->r[i].at_us < b)
            sum += s->r[i].len;
    return sum;
}

static double rel_err(double got, double want)
{
    return fabs(got - want) / want;
}

static const char *write_tmp(const char *name, const char *content)
{
    if (n_tmp_files == sizeof tmp_files / sizeof tmp_files[0])
        return NULL;
    char *path = tmp_files[n_tmp_files++];
    simtest_path(path, sizeof tmp_files[0], tmp_dir, name);
    CHECK(simtest_write(path, content) == 0);
    return path;
}

/* ---- fixed rate ---- */

static void test_fixed_rate(void)
{
    /* clang-format off */
    static const struct {
        double rate_bps;
        tg_time every_us, delay_us, first_at_us;
    } rows[] = {
        /* 1500-byte packets offered at 1.2x the rate for 10 s */
        {1e6, 10000, 20000, 12000 + 20000},
        {10e6, 1000, 20000, 1200 + 20000},
        {50e6, 200, 5000, 240 + 5000},
        {3e6, 3333, 0, 4000},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {.rate_bps = rows[i].rate_bps, .delay_us = rows[i].delay_us};
        struct run r;
        if (!run_init(&r, &c, 1))
            continue;
        run_source(&r, 1500, rows[i].every_us, TG_SEC(10));
        sim_evq_run(&r.q, TG_SEC(11));
        CHECK(r.sink.n > 0);
        if (r.sink.n > 0) {
            CHECK_EQ(r.sink.r[0].seq, 0);
            CHECK_EQ(r.sink.r[0].at_us, rows[i].first_at_us);
        }
        tg_time a = TG_SEC(1) + rows[i].delay_us, b = TG_SEC(10) + rows[i].delay_us;
        double bps = (double)bytes_between(&r.sink, a, b) * 8.0 / 9.0;
        printf("fixed %.0f bit/s: delivered %.0f bit/s, first at %llu us\n", rows[i].rate_bps, bps,
               r.sink.n ? (unsigned long long)r.sink.r[0].at_us : 0ull);
        CHECK(rel_err(bps, rows[i].rate_bps) <= 0.01);
        CHECK(sim_link_stats(r.l)->drop_queue > 0); /* it was saturated */
        run_clear(&r);
    }
}

/* ---- scheduled rate ---- */

static void test_steps(void)
{
    /* clang-format off */
    static const struct sim_rate_step steps[] = {
        {0, 2e6}, {TG_SEC(1), 8e6}, {TG_SEC(2), 0}, {TG_SEC(3), 4e6},
    };
    /* clang-format on */
    /* bytes delivered in each second, from the step in force (the last holds) */
    static const double want_bps[] = {2e6, 8e6, 0, 4e6, 4e6};
    struct sim_link_config c = {.steps = steps, .n_steps = 4};
    struct run r;
    if (!run_init(&r, &c, 2))
        return;
    run_source(&r, 1500, 1000, TG_SEC(5)); /* 12 Mbit/s */
    sim_evq_run(&r.q, TG_SEC(5));
    for (size_t s = 0; s < sizeof want_bps / sizeof want_bps[0]; s++) {
        double bps = (double)bytes_between(&r.sink, TG_SEC(s), TG_SEC(s + 1)) * 8.0;
        if (want_bps[s] == 0) {
            CHECK(bps == 0);
        } else {
            printf("step %zu: delivered %.0f bit/s, want %.0f\n", s, bps, want_bps[s]);
            CHECK(rel_err(bps, want_bps[s]) <= 0.02);
        }
    }
    run_clear(&r);

    /* a schedule ending at rate 0 holds the queue forever */
    static const struct sim_rate_step stop[] = {{0, 1e6}, {TG_MSEC(100), 0}};
    c = (struct sim_link_config){.steps = stop, .n_steps = 2};
    if (!run_init(&r, &c, 3))
        return;
    run_source(&r, 1000, 4000, TG_SEC(1));
    sim_evq_run(&r.q, TG_SEC(10));
    CHECK_EQ(r.sink.n, 12); /* 100 ms at 1 Mbit/s = 12.5 kB */
    CHECK(sim_link_stats(r.l)->queued_pkts > 0);
    CHECK(sim_evq_next(&r.q) == TG_TIME_NEVER); /* waiting costs no events */
    run_clear(&r);

    /* invalid schedules are refused */
    static const struct sim_rate_step late[] = {{5, 1e6}};
    static const struct sim_rate_step unsorted[] = {{0, 1e6}, {10, 1e6}, {5, 1e6}};
    static const struct sim_rate_step negative[] = {{0, -1}};
    struct sim_evq q;
    CHECK(sim_evq_init(&q, 4) == 0);
    c = (struct sim_link_config){.steps = late, .n_steps = 1};
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.steps = unsorted, .n_steps = 3};
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.steps = negative, .n_steps = 1};
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.rate_bps = NAN};
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.loss = SIM_LOSS_BERNOULLI, .loss_p = 0.1}; /* no rng */
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
    c = (struct sim_link_config){.loss = SIM_LOSS_BERNOULLI, .loss_p = 1.5};
    CHECK(sim_link_new(&c, &q, rng, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.loss = SIM_LOSS_GE, .ge = {0.1, NAN, 0, 1}};
    CHECK(sim_link_new(&c, &q, rng, NULL, NULL, NULL) == NULL);
    c = (struct sim_link_config){.jitter_us = 10}; /* no jitter rng */
    CHECK(sim_link_new(&c, &q, rng, NULL, NULL, NULL) == NULL);
    static const struct sim_interval overlap[] = {{10, 20}, {15, 30}};
    c = (struct sim_link_config){.down = overlap, .n_down = 2};
    CHECK(sim_link_new(&c, &q, NULL, NULL, NULL, NULL) == NULL);
    gsl_rng_free(rng);
    sim_evq_clear(&q);
}

/* ---- Mahimahi ---- */

/* Opportunities of trace `t` at trace times in [a, b), counted naively. */
static uint64_t count_opps(const struct sim_trace *t, tg_time a, tg_time b)
{
    uint64_t n = 0;
    for (tg_time k = 0; k * t->period_us < b; k++)
        for (size_t i = 0; i < t->n_opp; i++) {
            tg_time at = k * t->period_us + t->opp_us[i];
            n += at >= a && at < b;
        }
    return n;
}

static void test_mahimahi_real(void)
{
    char path[600], err[700];
    snprintf(path, sizeof path, "%s/mahimahi/TMobile-LTE-short.down", data_dir);
    struct sim_trace tr;
    int rc = sim_trace_load(&tr, SIM_TRACE_MAHIMAHI, path, 0, err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    CHECK(rc == 0);
    if (rc < 0)
        return;
    CHECK_EQ(tr.n_opp, 194846);
    CHECK_EQ(tr.period_us, TG_MSEC(139986));
    CHECK(rel_err(tr.mean_bps, 16.7e6) < 0.01); /* the README's figure */

    /* clang-format off */
    static const struct {
        tg_time offset_us, from_us, to_us; /* window in sim time */
    } rows[] = {
        {0, 0, TG_MSEC(139986)},                              /* one period */
        {TG_USEC(50000123), 0, TG_MSEC(139986)},              /* one period, shifted */
        {0, TG_SEC(100), TG_SEC(100) + TG_MSEC(139986)},      /* across the repeat */
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {
            .trace = &tr, .trace_offset_us = rows[i].offset_us, .queue_bytes = 1 << 20};
        struct run r;
        if (!run_init(&r, &c, 4))
            continue;
        run_source(&r, 1500, 150, rows[i].to_us); /* 80 Mbit/s: always backlogged */
        sim_evq_run(&r.q, rows[i].to_us - 1);
        /* the first packet is sent at 0: opportunities at 0 come too early for it */
        tg_time from = rows[i].from_us > 0 ? rows[i].from_us : 1;
        uint64_t want =
            count_opps(&tr, from + rows[i].offset_us, rows[i].to_us + rows[i].offset_us) *
            SIM_MAHIMAHI_MTU;
        uint64_t got = bytes_between(&r.sink, rows[i].from_us, rows[i].to_us);
        printf("mahimahi row %zu: delivered %llu bytes, opportunities carry %llu\n", i,
               (unsigned long long)got, (unsigned long long)want);
        /* all but the part of the packet in service at the end */
        CHECK(got <= want + 1500 && got + 1500 >= want);
        if (rows[i].from_us == 0)
            CHECK(got <= want && want - got < 1500);
        run_clear(&r);
    }

    /* an idle link does not spend events on wasted opportunities */
    struct sim_link_config c = {.trace = &tr};
    struct run r;
    if (run_init(&r, &c, 5)) {
        run_source(&r, 1000, TG_SEC(1), TG_SEC(100));
        sim_evq_run(&r.q, TG_SEC(101));
        CHECK_EQ(r.sink.n, 100);
        printf("mahimahi idle: %llu events for 100 packets\n", (unsigned long long)r.q.executed);
        CHECK(r.q.executed <= 300);
        run_clear(&r);
    }
    sim_trace_clear(&tr);
    CHECK(tr.opp_us == NULL && tr.n_opp == 0);
}

struct script_row {
    tg_time send_us;
    size_t len;
    tg_time want_at_us; /* TG_TIME_NEVER: not delivered */
    bool accepted;      /* what sim_link_send returns */
};

struct script {
    struct run *r;
    const struct script_row *rows;
};

static void on_script(void *ctx, uint64_t i, tg_time now)
{
    struct script *s = ctx;
    bool ok = send_one(s->r, s->rows[i].len);
    if (ok != s->rows[i].accepted)
        fprintf(stderr, "script row %llu: send returned %d\n", (unsigned long long)i, ok);
    CHECK(ok == s->rows[i].accepted);
}

static void run_script(struct run *r, const struct script_row *rows, size_t n, tg_time until)
{
    struct script s = {r, rows};
    for (size_t i = 0; i < n; i++)
        CHECK(sim_evq_push(&r->q, rows[i].send_us, on_script, &s, i) == 0);
    sim_evq_run(&r->q, until);
    /* rows run in order, so a packet's sequence number is its row */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rows[i].want_at_us == TG_TIME_NEVER)
            continue;
        CHECK(k < r->sink.n);
        if (k >= r->sink.n)
            return;
        const struct rec *got = &r->sink.r[k++];
        CHECK_EQ(got->seq, i);
        if (got->at_us != rows[i].want_at_us)
            fprintf(stderr, "script row %zu: delivered at %llu, want %llu\n", i,
                    (unsigned long long)got->at_us, (unsigned long long)rows[i].want_at_us);
        CHECK_EQ(got->at_us, rows[i].want_at_us);
    }
    CHECK_EQ(r->sink.n, k);
}

static void test_mahimahi_tiny(void)
{
    /* opportunities at 1, 1, 2, 5 ms; repeats every 5 ms (6, 6, 7, 10, ...) */
    const char *path = write_tmp("tiny.mm", "1\n1\n2\n5\n");
    char err[700];
    struct sim_trace tr;
    int rc = sim_trace_load(&tr, SIM_TRACE_MAHIMAHI, path, 0, err, sizeof err);
    CHECK(rc == 0);
    if (rc < 0)
        return;
    CHECK_EQ(tr.period_us, 5000);
    CHECK_EQ(tr.n_opp, 4);
    /* clang-format off */
    static const struct script_row rows[] = {
        /* eight 1000-byte packets at 0: 3008 bytes at 1 ms, 1504 at 2, 1504 at 5, ... */
        {0, 1000, 1000, true}, {0, 1000, 1000, true}, {0, 1000, 1000, true}, /* 3000 */
        {0, 1000, 2000, true},                      /* 8 at 1 ms + 992 */
        {0, 1000, 5000, true}, {0, 1000, 5000, true}, /* 512 + 488, 1000 */
        {0, 1000, 6000, true}, {0, 1000, 6000, true}, /* 16 + 984, 1000; 1008 wasted */
        {6500, 1000, 7000, true},                   /* the next opportunity */
        {8000, 1000, 10000, true},
        {10500, 1600, 11000, true},                 /* both opportunities at 11 */
        {11500, 1600, 15000, true},                 /* 1504 at 12, 96 at 15 */
        {15500, 1000, 16000, true}, {15500, 1000, 16000, true}, /* 16, 16: 3008 */
        {15500, 1000, 16000, true}, {15500, 1000, 17000, true}, /* 8 + 992 */
        {20000, 1000, 21000, true},                 /* sent at 20: misses the one at 20 */
    };
    /* clang-format on */
    struct sim_link_config c = {.trace = &tr};
    struct run r;
    if (run_init(&r, &c, 6)) {
        run_script(&r, rows, sizeof rows / sizeof rows[0], TG_MSEC(30));
        run_clear(&r);
    }
    /* the strict "arrived before the opportunity" rule and the period seam */
    /* clang-format off */
    static const struct script_row edges[] = {
        {0, 1000, 1000, true},
        {1000, 1000, 2000, true}, /* queued at 1 ms before the link serves 1 ms: too late */
        {4999, 1000, 5000, true}, /* the opportunity at 5 ms closes period 0 */
        {9999, 1000, 10000, true},
    };
    /* clang-format on */
    if (run_init(&r, &c, 61)) {
        run_script(&r, edges, sizeof edges / sizeof edges[0], TG_MSEC(30));
        run_clear(&r);
    }
    /* shifted by 1.5 ms: sim time 0 is trace time 1.5 ms, the next opportunity
     * is at trace 2 ms (sim 0.5 ms), then 5 (3.5), 6, 6 (4.5) */
    /* clang-format off */
    static const struct script_row shifted[] = {
        {0, 1000, 500, true}, {0, 1000, 3500, true}, {0, 1000, 3500, true},
        {0, 1000, 4500, true},
    };
    /* clang-format on */
    c.trace_offset_us = 1500;
    if (run_init(&r, &c, 7)) {
        run_script(&r, shifted, sizeof shifted / sizeof shifted[0], TG_MSEC(30));
        run_clear(&r);
    }
    /* scaled x0.5: 752 bytes per opportunity: 752 + 248 at 1 ms, 504 + 496 at 2 */
    static const struct script_row half[] = {{0, 1000, 1000, true}, {0, 1000, 2000, true}};
    c = (struct sim_link_config){.trace = &tr, .trace_scale = 0.5};
    if (run_init(&r, &c, 8)) {
        run_script(&r, half, sizeof half / sizeof half[0], TG_MSEC(30));
        run_clear(&r);
    }
    sim_trace_clear(&tr);
}

/* ---- throughput traces ---- */

static void test_throughput_loader(void)
{
    /* samples at 0, 1, 2 and 10 s; median spacing 1 s */
    const char *path = write_tmp("tiny.tput", "0 1\n1\t2\n\n2 1\r\n10 4\n");
    /* clang-format off */
    static const struct {
        tg_time gap_outage_us;
        size_t n_steps;
        struct sim_rate_step steps[5];
        double mean_bps;
    } rows[] = {
        {TG_SEC(5), 5, {{0, 1e6}, {TG_SEC(1), 2e6}, {TG_SEC(2), 1e6}, {TG_SEC(3), 0}, {TG_SEC(10), 4e6}},
         8e6 / 11},
        {0, 4, {{0, 1e6}, {TG_SEC(1), 2e6}, {TG_SEC(2), 1e6}, {TG_SEC(10), 4e6}}, 15e6 / 11},
        {TG_SEC(8), 4, {{0, 1e6}, {TG_SEC(1), 2e6}, {TG_SEC(2), 1e6}, {TG_SEC(10), 4e6}},
         15e6 / 11},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_trace tr;
        char err[700];
        int rc =
            sim_trace_load(&tr, SIM_TRACE_THROUGHPUT, path, rows[i].gap_outage_us, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "%s\n", err);
        CHECK(rc == 0);
        if (rc < 0)
            continue;
        CHECK_EQ(tr.period_us, TG_SEC(11));
        CHECK_EQ(tr.n_steps, rows[i].n_steps);
        for (size_t s = 0; s < rows[i].n_steps && s < tr.n_steps; s++) {
            CHECK_EQ(tr.steps[s].at_us, rows[i].steps[s].at_us);
            CHECK(tr.steps[s].rate_bps == rows[i].steps[s].rate_bps);
        }
        CHECK(rel_err(tr.mean_bps, rows[i].mean_bps) < 1e-9);
        sim_trace_clear(&tr);
    }
    /* a log whose first sample is late starts at it */
    path = write_tmp("late.tput", "100.5 3\n101.5 1\n");
    struct sim_trace tr;
    char err[700];
    CHECK(sim_trace_load(&tr, SIM_TRACE_THROUGHPUT, path, 0, err, sizeof err) == 0);
    CHECK_EQ(tr.steps[0].at_us, 0);
    CHECK_EQ(tr.steps[1].at_us, TG_SEC(1));
    CHECK_EQ(tr.period_us, TG_SEC(2));
    sim_trace_clear(&tr);
}

/* A trace with almost no capacity: a packet spans many periods. */
static void test_throughput_slow(void)
{
    /* 1 kbit/s for 1 s, then 0 for 1 s (1000 bits per 2 s period) */
    const char *path = write_tmp("slow.tput", "0 0.001\n1 0\n");
    struct sim_trace tr;
    char err[700];
    CHECK(sim_trace_load(&tr, SIM_TRACE_THROUGHPUT, path, 0, err, sizeof err) == 0);
    /* clang-format off */
    static const struct {
        double scale;
        tg_time offset_us;
        struct script_row rows[2];
    } rows[] = {
        /* 12000 bits: 11 whole periods and the active second of the 12th */
        {1, 0, {{0, 1500, TG_SEC(23), true}, {0, 1500, TG_SEC(47), true}}},
        {2, 0, {{0, 1500, TG_SEC(11), true}, {0, 1500, TG_SEC(23), true}}},
        /* starts in the idle half: active from 0.5 s */
        {1, TG_MSEC(1500), {{0, 1500, TG_SEC(23) + TG_MSEC(500), true},
                            {0, 1500, TG_SEC(47) + TG_MSEC(500), true}}},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {
            .trace = &tr, .trace_scale = rows[i].scale, .trace_offset_us = rows[i].offset_us};
        struct run r;
        if (run_init(&r, &c, 62)) {
            run_script(&r, rows[i].rows, 2, TG_SEC(100));
            run_clear(&r);
        }
    }
    sim_trace_clear(&tr);
}

static void test_throughput_real(void)
{
    char path[600], err[700];
    snprintf(path, sizeof path, "%s/train/norway_segments/norway_train_1", data_dir);
    struct sim_trace tr;
    int rc = sim_trace_load(&tr, SIM_TRACE_THROUGHPUT, path, TG_SEC(3), err, sizeof err);
    if (rc < 0)
        fprintf(stderr, "%s\n", err);
    CHECK(rc == 0);
    if (rc < 0)
        return;
    CHECK(tr.n_steps > 233); /* 233 samples and some outages */
    CHECK(tr.period_us > TG_SEC(298) && tr.period_us < TG_SEC(301));
    /* clang-format off */
    static const struct {
        tg_time offset_us;
        double scale;
    } rows[] = {{0, 1.0}, {TG_SEC(123), 1.0}, {0, 2.0}};
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {
            .trace = &tr, .trace_offset_us = rows[i].offset_us, .trace_scale = rows[i].scale};
        struct run r;
        if (!run_init(&r, &c, 9))
            continue;
        run_source(&r, 1500, 1000, tr.period_us); /* 12 Mbit/s, above the trace's peak */
        sim_evq_run(&r.q, tr.period_us - 1);
        double bps = (double)bytes_between(&r.sink, 0, tr.period_us) * 8e6 / (double)tr.period_us;
        double want = tr.mean_bps * rows[i].scale;
        printf("norway row %zu: delivered %.0f bit/s, trace mean %.0f\n", i, bps, want);
        CHECK(rel_err(bps, want) <= 0.03);
        run_clear(&r);
    }
    sim_trace_clear(&tr);
}

/* ---- loss ---- */

/* Offer n packets one per µs on an unlimited, delay-free link. */
static void offer_one_by_one(struct run *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        send_one(r, 100);
        sim_evq_run(&r->q, r->q.now + 1);
    }
}

static void test_loss(void)
{
    /* clang-format off */
    static const struct {
        double p;
        uint32_t n;
    } bern[] = {{0, 10000}, {0.05, 200000}, {0.3, 200000}, {1, 1000}};
    /* clang-format on */
    for (size_t i = 0; i < sizeof bern / sizeof bern[0]; i++) {
        struct sim_link_config c = {.loss = SIM_LOSS_BERNOULLI, .loss_p = bern[i].p};
        struct run r;
        if (!run_init(&r, &c, 10 + i))
            continue;
        offer_one_by_one(&r, bern[i].n);
        const struct sim_link_stats *st = sim_link_stats(r.l);
        double rate = (double)st->drop_loss / bern[i].n;
        printf("bernoulli %.2f: lost %.4f\n", bern[i].p, rate);
        CHECK(fabs(rate - bern[i].p) <= 0.003);
        CHECK_EQ(st->drop_loss + st->delivered_pkts, bern[i].n);
        CHECK_EQ(r.sink.n, st->delivered_pkts);
        run_clear(&r);
    }

    /* clang-format off */
    static const struct {
        struct sim_ge ge;
        uint32_t n;
    } ge[] = {
        {{0.01, 0.2, 0, 1}, 400000},
        {{0.05, 0.5, 0, 1}, 400000},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof ge / sizeof ge[0]; i++) {
        struct sim_link_config c = {.loss = SIM_LOSS_GE, .ge = ge[i].ge};
        struct run r;
        if (!run_init(&r, &c, 20 + i))
            continue;
        offer_one_by_one(&r, ge[i].n);
        /* bursts: runs of missing sequence numbers */
        uint64_t lost = 0, bursts = 0;
        uint32_t expect = 0;
        for (size_t k = 0; k <= r.sink.n; k++) {
            uint32_t seq = k < r.sink.n ? r.sink.r[k].seq : ge[i].n;
            if (seq > expect) {
                lost += seq - expect;
                bursts++;
            }
            expect = seq + 1;
        }
        double stationary = ge[i].ge.p_gb / (ge[i].ge.p_gb + ge[i].ge.p_bg);
        double rate = (double)lost / ge[i].n, burst = (double)lost / (double)bursts;
        printf("gilbert-elliott %zu: lost %.4f (stationary %.4f), mean burst %.2f (want %.2f)\n", i,
               rate, stationary, burst, 1 / ge[i].ge.p_bg);
        CHECK_EQ(lost, sim_link_stats(r.l)->drop_loss);
        CHECK(rel_err(rate, stationary) <= 0.10);
        CHECK(rel_err(burst, 1 / ge[i].ge.p_bg) <= 0.10);
        run_clear(&r);
    }
}

/* ---- outages ---- */

static void test_outage(void)
{
    static const struct sim_interval down[] = {{TG_SEC(2), TG_SEC(5)}};
    /* 1 Mbit/s, 1000-byte packets every 5 ms (1.6 Mbit/s): the queue is full */
    struct sim_link_config c = {
        .rate_bps = 1e6, .delay_us = TG_MSEC(10), .down = down, .n_down = 1};
    struct run r;
    if (!run_init(&r, &c, 30))
        return;
    /* clang-format off */
    static const struct {
        tg_time t;
        bool up;
    } up[] = {{0, true}, {TG_SEC(2) - 1, true}, {TG_SEC(2), false}, {TG_SEC(5) - 1, false},
              {TG_SEC(5), true}, {TG_TIME_NEVER - 1, true}};
    for (size_t i = 0; i < sizeof up / sizeof up[0]; i++)
        CHECK(sim_link_is_up(r.l, up[i].t) == up[i].up);

    run_source(&r, 1000, 5000, TG_SEC(8));
    sim_evq_run(&r.q, TG_SEC(2) - 1);
    const struct sim_link_stats *st = sim_link_stats(r.l);
    uint64_t queued = st->queued_pkts;
    CHECK(queued > 50);
    CHECK_EQ(st->drop_down, 0);
    sim_evq_run(&r.q, TG_SEC(2));
    /* the packet whose last bit left at exactly 2 s (250 x 8 ms) got out; the
     * rest of the queue is flushed; the packet offered at 2 s is dropped */
    CHECK_EQ(st->drop_down, queued - 1 + 1);
    CHECK_EQ(st->queued_pkts, 0);
    CHECK_EQ(st->queued_bytes, 0);
    sim_evq_run(&r.q, TG_SEC(9));
    CHECK_EQ(st->drop_down, queued - 1 + 600); /* + sends at 2.000 ... 4.995 s */
    bool any_after = false;
    tg_time first_after = TG_TIME_NEVER;
    for (size_t i = 0; i < r.sink.n; i++) {
        const struct rec *p = &r.sink.r[i];
        CHECK(p->sent_us < TG_SEC(2) || p->sent_us >= TG_SEC(5));
        if (p->at_us > TG_SEC(2) + TG_MSEC(10) && p->at_us < first_after)
            first_after = p->at_us;
        any_after |= p->sent_us >= TG_SEC(5);
    }
    CHECK(any_after);
    /* the first packet after the outage was offered at 5 s */
    CHECK_EQ(first_after, TG_SEC(5) + 8000 + TG_MSEC(10));
    /* the last before it left at 2 s */
    CHECK(bytes_between(&r.sink, TG_SEC(2) + TG_MSEC(10), TG_SEC(2) + TG_MSEC(10) + 1) == 1000);
    run_clear(&r);

    /* outages on a Mahimahi link: opportunities during it are not used */
    const char *path = write_tmp("every_ms.mm", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    struct sim_trace tr;
    char err[700];
    CHECK(sim_trace_load(&tr, SIM_TRACE_MAHIMAHI, path, 0, err, sizeof err) == 0);
    static const struct sim_interval down2[] = {{TG_MSEC(3), TG_MSEC(6)}, {TG_MSEC(8), TG_MSEC(9)}};
    c = (struct sim_link_config){.trace = &tr, .down = down2, .n_down = 2};
    if (run_init(&r, &c, 31)) {
        static const struct script_row rows[] = {
            {0, 1500, 1000, true},          /* 1500 of the 1504 at 1 ms */
            {0, 1500, 2000, true},          /* 4 + 1496 */
            {0, 1500, TG_TIME_NEVER, true}, /* 8 at 2 ms, then flushed at 3 ms */
            {TG_MSEC(4), 1500, TG_TIME_NEVER, false}, /* offered while down */
            {TG_MSEC(6), 1500, TG_MSEC(7), true},     /* up at 6; misses the one at 6 */
            {TG_MSEC(7) + 500, 1500, TG_TIME_NEVER, true}, /* the one at 8 is down: flushed */
            {TG_MSEC(9), 1500, TG_MSEC(10), true},
        };
        run_script(&r, rows, sizeof rows / sizeof rows[0], TG_MSEC(30));
        CHECK_EQ(sim_link_stats(r.l)->drop_down, 3);
        run_clear(&r);
    }
    sim_trace_clear(&tr);
}

/* ---- queue limit ---- */

static void test_queue_limit(void)
{
    static const struct {
        uint64_t queue_bytes;
        size_t len;
        uint32_t n, accepted;
    } rows[] = {
        {30000, 1000, 100, 30}, {30000, 1500, 100, 20}, {30000, 1400, 100, 21},
        {30000, 1000, 30, 30},  {0, 1500, 100, 43},     {1000, 1001, 5, 0},
        {100000, SIM_PKT_MAX + 1, 3, 0},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {.rate_bps = 1e6, .queue_bytes = rows[i].queue_bytes};
        struct run r;
        if (!run_init(&r, &c, 40))
            continue;
        uint32_t accepted = 0;
        for (uint32_t k = 0; k < rows[i].n; k++) {
            uint8_t buf[SIM_PKT_MAX + 1] = {0};
            make_pkt(buf, k, 0);
            bool ok = sim_link_send(r.l, buf, rows[i].len);
            CHECK(ok == (k < rows[i].accepted)); /* the first ones fit, then none */
            accepted += ok;
        }
        const struct sim_link_stats *st = sim_link_stats(r.l);
        CHECK_EQ(accepted, rows[i].accepted);
        CHECK_EQ(st->drop_queue, rows[i].n - rows[i].accepted);
        CHECK_EQ(st->max_queue_bytes, rows[i].accepted * rows[i].len);
        sim_evq_run(&r.q, TG_SEC(10));
        CHECK_EQ(st->delivered_pkts, rows[i].accepted);
        CHECK_EQ(st->queued_bytes, 0);
        r.next_seq = rows[i].n;
        CHECK(send_one(&r, 1000)); /* room again */
        run_clear(&r);
    }
}

/* ---- jitter ---- */

static void test_jitter(void)
{
    /* clang-format off */
    static const struct {
        double rate_bps;
        tg_time every_us, delay_us, jitter_us, ser_us;
        bool idle; /* packets further apart than the jitter range */
    } rows[] = {
        {0, 50000, TG_MSEC(20), TG_MSEC(5), 0, true},
        {0, 1000, TG_MSEC(20), TG_MSEC(5), 0, false},
        {10e6, 2000, TG_MSEC(5), TG_MSEC(10), 1200, false},
        {0, 100, 0, 300, 0, false},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_link_config c = {.rate_bps = rows[i].rate_bps,
                                    .delay_us = rows[i].delay_us,
                                    .jitter_us = rows[i].jitter_us};
        struct run r;
        if (!run_init(&r, &c, 50 + i))
            continue;
        run_source(&r, 1500, rows[i].every_us, rows[i].every_us * 2000);
        sim_evq_run(&r.q, TG_TIME_NEVER);
        CHECK_EQ(r.sink.n, 2000);
        tg_time lo = rows[i].delay_us + rows[i].ser_us, hi = lo + 2 * rows[i].jitter_us;
        tg_time min = TG_TIME_NEVER, max = 0;
        double sum = 0;
        bool in_order = true, in_range = true;
        for (size_t k = 0; k < r.sink.n; k++) {
            tg_time d = r.sink.r[k].at_us - r.sink.r[k].sent_us;
            in_order &= r.sink.r[k].seq == k;
            in_range &= d >= lo && d <= hi;
            min = d < min ? d : min;
            max = d > max ? d : max;
            sum += (double)d;
        }
        printf("jitter row %zu: delay %llu..%llu, allowed %llu..%llu\n", i, (unsigned long long)min,
               (unsigned long long)max, (unsigned long long)lo, (unsigned long long)hi);
        CHECK(in_order);
        CHECK(in_range);
        CHECK((double)max > (double)hi - 0.1 * (double)rows[i].jitter_us);
        if (rows[i].idle) { /* not held back by the packet ahead: uniform */
            CHECK((double)min < (double)lo + 0.1 * (double)rows[i].jitter_us);
            CHECK(fabs(sum / (double)r.sink.n - (double)(lo + rows[i].jitter_us)) <
                  0.1 * (double)rows[i].jitter_us);
        }
        run_clear(&r);
    }
}

/* ---- re-entrancy: deliver() sends on the same link and on another ---- */

struct bounce {
    struct sim_link *self, *other;
    struct sink *sink;
    unsigned n;
};

static void on_bounce(void *ctx, uint8_t *pkt, size_t len, tg_time now)
{
    struct bounce *b = ctx;
    b->n++;
    pkt[12]++; /* modify in place, then send the very buffer on */
    if (pkt[12] < 4)
        CHECK(sim_link_send(b->self, pkt, len));
    else
        CHECK(sim_link_send(b->other, pkt, len));
}

static void test_reentrancy(void)
{
    /* clang-format off */
    static const struct {
        double rate_bps;
        tg_time delay_us;
        tg_time want_at_us; /* arrival on the second link */
    } rows[] = {
        {0, 0, 0},                    /* everything happens inline at t = 0 */
        {0, 1000, 4000},              /* 4 hops of 1 ms */
        {8e6, 1000, 4 * 1000 + 4 * 1000 + 0}, /* 1000 B at 8 Mbit/s = 1 ms per hop */
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct sim_evq q;
        CHECK(sim_evq_init(&q, 4) == 0);
        struct sink sink = {0};
        struct bounce b = {0};
        struct sim_link_config c = {.rate_bps = rows[i].rate_bps, .delay_us = rows[i].delay_us};
        struct sim_link_config c0 = {0};
        b.self = sim_link_new(&c, &q, NULL, NULL, on_bounce, &b);
        b.other = sim_link_new(&c0, &q, NULL, NULL, record, &sink);
        CHECK(b.self && b.other);
        if (b.self && b.other) {
            uint8_t buf[1000] = {0};
            make_pkt(buf, 7, 0);
            CHECK(sim_link_send(b.self, buf, sizeof buf));
            sim_evq_run(&q, TG_SEC(1));
            CHECK_EQ(b.n, 4);
            CHECK_EQ(sink.n, 1);
            if (sink.n == 1) {
                CHECK_EQ(sink.r[0].seq, 7);
                CHECK_EQ(sink.r[0].at_us, rows[i].want_at_us);
            }
        }
        sim_evq_clear(&q);
        sim_link_free(b.self);
        sim_link_free(b.other);
        free(sink.r);
    }
}

/* ---- malformed traces ---- */

/* Load a trace from a file, or from the same bytes in memory (named by the
 * path): both give the same verdict and the same message. */
static int load_both(struct sim_trace *tr, enum sim_trace_kind kind, const char *path,
                     const char *text, size_t len, char *err, size_t errlen)
{
    int rc = sim_trace_load(tr, kind, path, 0, err, errlen);
    if (text == NULL)
        return rc;
    struct sim_trace mt;
    char merr[700] = "";
    memset(&mt, 0x55, sizeof mt);
    int mrc = sim_trace_load_text(&mt, kind, path, text, len, 0, merr, sizeof merr);
    CHECK_EQ(mrc, rc);
    if (rc != 0) {
        if (strcmp(merr, err) != 0)
            fprintf(stderr, "from memory: \"%s\"\n  from the file: \"%s\"\n", merr, err);
        CHECK(strcmp(merr, err) == 0);
        CHECK(mt.opp_us == NULL && mt.steps == NULL && mt.n_opp == 0 && mt.n_steps == 0);
    } else {
        CHECK(mt.kind == tr->kind && mt.n_opp == tr->n_opp && mt.n_steps == tr->n_steps &&
              mt.period_us == tr->period_us && mt.mean_bps == tr->mean_bps);
        CHECK(strcmp(mt.path, path) == 0);
    }
    sim_trace_clear(&mt);
    return rc;
}

static void test_bad_traces(void)
{
    /* clang-format off */
    static const struct {
        enum sim_trace_kind kind;
        const char *content; /* NULL: no such file */
        const char *want;    /* after "path" */
        const char *secret;  /* never in the message (NULL: nothing to check) */
    } rows[] = {
        {SIM_TRACE_MAHIMAHI, "1\n2\nx\n", ":3: expected", NULL},
        {SIM_TRACE_MAHIMAHI, "1\n2\n3 4\n", ":3: expected", NULL},
        {SIM_TRACE_MAHIMAHI, "1\n\n1.5\n", ":3: expected", "1.5"},
        {SIM_TRACE_MAHIMAHI, "1\n-2\n", ":2: expected", "-2"},
        /* neither the timestamp nor the one before it is quoted */
        {SIM_TRACE_MAHIMAHI, "5\n7777\n3333\n", ":3: expected a timestamp not below the previous", "33"},
        {SIM_TRACE_MAHIMAHI, "5\n7777\n3333\n", ":3: expected", "77"},
        {SIM_TRACE_MAHIMAHI, "", ":1: expected", NULL},
        {SIM_TRACE_MAHIMAHI, "\n\n", ":2: expected", NULL},
        {SIM_TRACE_MAHIMAHI, "0\n0\n", ":2: expected a last timestamp above 0", NULL},
        {SIM_TRACE_MAHIMAHI, "99999999999999999999999\n", ":1: expected", "9999"},
        {SIM_TRACE_MAHIMAHI, NULL, ": cannot read trace: ", NULL},
        {SIM_TRACE_THROUGHPUT, "0 1\n1\n", ":2: expected", NULL},
        {SIM_TRACE_THROUGHPUT, "0 1\n1 xyzzy\n", ":2: expected", "xyzzy"},
        {SIM_TRACE_THROUGHPUT, "0 1\n1 2 3\n", ":2: expected", NULL},
        {SIM_TRACE_THROUGHPUT, "0 1\n1 nan\n", ":2: expected", "nan"},
        {SIM_TRACE_THROUGHPUT, "0 1\n2222 1\n1111 1\n", ":3: expected a time not below the previous", "11"},
        {SIM_TRACE_THROUGHPUT, "0 1\n2222 1\n1111 1\n", ":3: expected", "22"},
        {SIM_TRACE_THROUGHPUT, "0 -1234\n1 1\n", ":1: expected non-negative", "1234"},
        {SIM_TRACE_THROUGHPUT, "", ":1: expected", NULL},
        {SIM_TRACE_THROUGHPUT, "0 1\n", ":1: expected at least two samples", NULL},
        {SIM_TRACE_THROUGHPUT, "3 1\n3 2\n", ":2: expected samples at more than one time", NULL},
        {SIM_TRACE_THROUGHPUT, NULL, ": cannot read trace: ", NULL},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char name[32], path[600], want[700], err[700] = "";
        snprintf(name, sizeof name, "bad%zu", i);
        if (rows[i].content) {
            snprintf(path, sizeof path, "%s", write_tmp(name, rows[i].content));
        } else {
            snprintf(path, sizeof path, "%s/missing%zu", tmp_dir, i);
        }
        snprintf(want, sizeof want, "%s%s", path, rows[i].want);
        struct sim_trace tr;
        memset(&tr, 0x55, sizeof tr);
        const char *c = rows[i].content;
        int rc = load_both(&tr, rows[i].kind, path, c, c ? strlen(c) : 0, err, sizeof err);
        CHECK_EQ(rc, -1);
        if (strncmp(err, want, strlen(want)) != 0)
            fprintf(stderr, "bad trace row %zu: got \"%s\", want \"%s...\"\n", i, err, want);
        CHECK(strncmp(err, want, strlen(want)) == 0);
        if (rows[i].secret && strstr(err + strlen(path), rows[i].secret) != NULL)
            fprintf(stderr, "bad trace row %zu: \"%s\" quotes the file (%s)\n", i, err,
                    rows[i].secret);
        CHECK(rows[i].secret == NULL || strstr(err + strlen(path), rows[i].secret) == NULL);
        if (!rows[i].content)
            CHECK(strstr(err, strerror(ENOENT)) != NULL);
        CHECK(tr.opp_us == NULL && tr.steps == NULL && tr.n_opp == 0 && tr.n_steps == 0);
        sim_trace_clear(&tr);
    }
    /* Hostile paths: a device is never read (it spun forever), a FIFO never
     * blocks, a file above the size limit is refused from its size (a sparse
     * one here: it takes no room), a binary file stops at its first NUL byte,
     * and no error quotes the file's bytes (a trace path naming a secret file
     * printed its start). */
    char fifo[600], nul_path[600], big[600];
    snprintf(fifo, sizeof fifo, "%s/trace.fifo", tmp_dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    static const char nul_bytes[] = "1\n2\0\0\0\n3\n";
    snprintf(nul_path, sizeof nul_path, "%s/nul.mm", tmp_dir);
    FILE *nf = fopen(nul_path, "wb");
    CHECK(nf != NULL && fwrite(nul_bytes, 1, sizeof nul_bytes - 1, nf) == sizeof nul_bytes - 1);
    if (nf)
        fclose(nf);
    snprintf(big, sizeof big, "%s/big.mm", tmp_dir);
    FILE *bf = fopen(big, "wb");
    CHECK(bf != NULL && fputs("1\n2\n", bf) >= 0 && fclose(bf) == 0);
    CHECK(truncate(big, (off_t)SIM_TRACE_MAX_BYTES + 1) == 0);
    const struct {
        const char *path, *want;
        const char *text; /* also loaded from memory */
        size_t len;
    } hostile[] = {
        {"/dev/zero", "/dev/zero: cannot read trace: not a regular file (a character device)", NULL,
         0},
        {fifo, ": cannot read trace: not a regular file (a FIFO)", NULL, 0},
        {tmp_dir, ": cannot read trace: not a regular file (a folder)", NULL, 0},
        {big, ": cannot read trace: larger than 256 MiB", NULL, 0},
        {nul_path, ":2: expected text, found a NUL byte", nul_bytes, sizeof nul_bytes - 1},
        {write_tmp("secret.mm", "SECRET-PASSWORD-1234 and more\n"), ":1: expected",
         "SECRET-PASSWORD-1234 and more\n", 30},
        {write_tmp("secret.tp", "0 1\nSECRET-PASSWORD-1234\n"), ":2: expected",
         "0 1\nSECRET-PASSWORD-1234\n", 25},
    };
    for (size_t i = 0; i < sizeof hostile / sizeof hostile[0]; i++) {
        struct sim_trace tr;
        char err[700] = "";
        enum sim_trace_kind kind = i == 6 ? SIM_TRACE_THROUGHPUT : SIM_TRACE_MAHIMAHI;
        CHECK_EQ(
            load_both(&tr, kind, hostile[i].path, hostile[i].text, hostile[i].len, err, sizeof err),
            -1);
        if (strstr(err, hostile[i].want) == NULL)
            fprintf(stderr, "hostile trace %zu: got \"%s\", want \"...%s\"\n", i, err,
                    hostile[i].want);
        CHECK(strstr(err, hostile[i].want) != NULL);
        CHECK(strstr(err, "SECRET") == NULL);
        sim_trace_clear(&tr);
    }
    unlink(fifo);
    unlink(big);
    /* blank lines, CRLF and surrounding blanks are fine */
    static const char crlf[] = "  1\r\n\r\n3 \r\n";
    const char *path = write_tmp("crlf.mm", crlf);
    struct sim_trace tr;
    char err[700];
    CHECK(load_both(&tr, SIM_TRACE_MAHIMAHI, path, crlf, sizeof crlf - 1, err, sizeof err) == 0);
    CHECK_EQ(tr.n_opp, 2);
    CHECK_EQ(tr.period_us, 3000);
    CHECK_EQ(tr.kind, SIM_TRACE_MAHIMAHI);
    CHECK(strcmp(tr.path, path) == 0);
    sim_trace_clear(&tr);
    /* a last line without its newline, and one of exactly the longest length */
    char longest[1100];
    memset(longest, ' ', sizeof longest);
    memcpy(longest + 1021, "7\n", 2); /* 1022 characters and a newline */
    memcpy(longest + 1023, "9", 2);
    CHECK(sim_trace_load_text(&tr, SIM_TRACE_MAHIMAHI, "mem.mm", longest, strlen(longest), 0, err,
                              sizeof err) == 0);
    CHECK_EQ(tr.n_opp, 2);
    CHECK_EQ(tr.period_us, 9000);
    sim_trace_clear(&tr);
    memset(longest, ' ', sizeof longest);
    memcpy(longest + 1030, "7\n", 3);
    CHECK(sim_trace_load_text(&tr, SIM_TRACE_MAHIMAHI, "mem.mm", longest, strlen(longest), 0, err,
                              sizeof err) == -1);
    CHECK(strstr(err, "mem.mm:1: expected a line shorter than 1023 characters") != NULL);
}

int main(int argc, char **argv)
{
    data_dir = argc > 1 ? argv[1] : "../shared/data";
    struct stat sb;
    if (stat(data_dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr,
                "test_link: the shared data folder %s is missing (%s); the Mahimahi and "
                "Norway traces live there (set TG_SHARED_DATA)\n",
                data_dir, strerror(errno ? errno : ENOTDIR));
        return 1;
    }
    if (simtest_mkdtemp(tmp_dir, sizeof tmp_dir, "test_link") != 0) {
        fprintf(stderr, "test_link: cannot create %s: %s\n", tmp_dir, strerror(errno));
        return 1;
    }
    test_bad_traces();
    test_fixed_rate();
    test_steps();
    test_mahimahi_tiny();
    test_mahimahi_real();
    test_throughput_loader();
    test_throughput_slow();
    test_throughput_real();
    test_loss();
    test_outage();
    test_queue_limit();
    test_jitter();
    test_reentrancy();
    if (simtest_rmtree(tmp_dir) != 0)
        fprintf(stderr, "test_link: cannot remove %s: %s\n", tmp_dir, strerror(errno));
    return check_exit("test_link");
}
