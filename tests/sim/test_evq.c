/* test_evq: the event queue runs events in (time, insertion) order, against a
 * naive sorted list, and never goes back in time. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/evq.h"
#include "sim/hist.h"
#include "testrng.h"

#define N 20000

struct rec { tg_time at; uint64_t id; };
static struct rec ran[N * 2];
static size_t n_ran;

static void on_event(void *ctx, uint64_t arg, tg_time now)
{
    (void)ctx;
    ran[n_ran].at = now;
    ran[n_ran].id = arg;
    n_ran++;
}

static int cmp_rec(const void *a, const void *b)
{
    const struct rec *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* an event that schedules another one in the past: it runs at now */
static void reschedule(void *ctx, uint64_t arg, tg_time now)
{
    struct sim_evq *q = ctx;
    CHECK(sim_evq_push(q, now > 5 ? now - 5 : 0, on_event, NULL, arg + 1) == 0);
}

int main(void)
{
    struct sim_evq q;
    CHECK(sim_evq_init(&q, 4) == 0);
    rng_state = 12345;
    static struct rec want[N];
    for (uint64_t i = 0; i < N; i++) {
        tg_time at = rnd_below(1000); /* many ties */
        want[i] = (struct rec){at, i};
        CHECK(sim_evq_push(&q, at, on_event, NULL, i) == 0);
    }
    qsort(want, N, sizeof want[0], cmp_rec);
    CHECK_EQ(sim_evq_next(&q), want[0].at);
    size_t early = 0;
    while (early < N && want[early].at <= 499)
        early++;
    CHECK_EQ(sim_evq_run(&q, 499), early);
    CHECK_EQ(q.now, 499);
    sim_evq_run(&q, TG_TIME_NEVER);
    CHECK_EQ(n_ran, N);
    for (size_t i = 0; i < N; i++) {
        CHECK_EQ(ran[i].at, want[i].at);
        CHECK_EQ(ran[i].id, want[i].id);
    }
    CHECK_EQ(sim_evq_next(&q), TG_TIME_NEVER);

    /* the past is clamped to now */
    n_ran = 0;
    CHECK(sim_evq_push(&q, 2000, reschedule, &q, 100) == 0);
    sim_evq_run(&q, 3000);
    CHECK_EQ(n_ran, 1);
    CHECK_EQ(ran[0].at, 2000);
    CHECK_EQ(ran[0].id, 101);
    sim_evq_clear(&q);

    /* histogram: exact below 64, within 1.6% above, quantiles of a uniform set */
    static struct sim_hist h;
    sim_hist_init(&h);
    for (uint64_t v = 1; v <= 100000; v++)
        sim_hist_add(&h, v);
    CHECK_EQ(h.count, 100000);
    double p50 = sim_hist_quantile(&h, 0.5), p99 = sim_hist_quantile(&h, 0.99);
    CHECK(p50 > 50000 * 0.984 && p50 < 50000 * 1.016);
    CHECK(p99 > 99000 * 0.984 && p99 < 99000 * 1.016);
    CHECK(sim_hist_quantile(&h, 0) == 1);
    CHECK(sim_hist_quantile(&h, 1) == 100000);
    static struct sim_hist small;
    sim_hist_init(&small);
    sim_hist_add(&small, 7);
    sim_hist_add(&small, 9);
    sim_hist_add(&small, 11);
    CHECK(sim_hist_quantile(&small, 0.5) == 9);
    sim_hist_merge(&h, &small);
    CHECK_EQ(h.count, 100003);
    CHECK_EQ(h.min, 1);
    return check_exit("test_evq");
}
