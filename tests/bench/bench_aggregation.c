/* bench_aggregation: the aggregation cases (scenarios/agg_*.scn: skew, 64 KB
 * queues, 4 and 8 uplinks, BBR, random loss, lowest_latency) run in process
 * through the simulator. Per case: the efficiency (bulk goodput / sum of the
 * uplinks' capacities) of the default combination (adaptive strategy,
 * adaptive aggregation) and of the best combination the scenario lists;
 * last, the worst default efficiency. Each combination runs ITERATIONS times
 * (iterations 0 .. ITERATIONS-1 with the scenario's seeds, 1 unless given;
 * the efficiency is their mean) for the scenario's duration (20 s), or
 * SECONDS from the command line. Some cases are chaotic (one window cut
 * more or less in 20 s moves the 64 KB-queue case by a fifth): compare
 * code with several iterations. Then two lines show what playout (opt-in)
 * does for one BBR download over the skewed pair, off and on. Release build:
 * ./tests/bench/bench_aggregation [SECONDS [ITERATIONS]] from the build tree
 * (about two minutes per iteration at 20 s). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sched.h"
#include "sim/run.h"
#include "sim/scenario.h"

static const char *const cases[] = {
    "agg_skew_cubic", "agg_skew_bbr",  "agg_skew_q64", "agg_4x50",
    "agg_8x50",       "agg_bbr_50_50", "agg_loss",     "agg_lowest_latency",
};

/* The mean efficiency of iterations 0 .. iterations-1; with `flow`, also the
 * means of the first flow's goodput over its active time / capacity and of
 * its packets' one-way delay p50 and p95 in ms. */
static int run_one(const struct sim_scenario *sc, enum tg_strategy s, enum tg_aggregation a,
                   unsigned iterations, double *eff, double flow[3])
{
    struct sim_run_result *res = calloc(1, sizeof *res);
    char err[300];
    if (!res)
        return -1;
    double sum = 0, f[3] = {0, 0, 0};
    int rc = 0;
    for (unsigned i = 0; i < iterations && rc == 0; i++) {
        struct sim_run_spec spec = {.sc = sc,
                                    .strategy = s,
                                    .aggregation = a,
                                    .iteration = i,
                                    .seed = sim_iteration_seed(sc->seed, sc, i)};
        memset(res, 0, sizeof *res);
        rc = sim_run(&spec, res, err, sizeof err);
        if (rc)
            fprintf(stderr, "%s: %s\n", sc->name, err);
        sum += res->efficiency;
        if (res->n_flows > 0 && res->capacity_bps > 0) {
            f[0] += res->flows[0].goodput_bps / res->capacity_bps;
            f[1] += res->flows[0].owd_p50_us / 1e3;
            f[2] += res->flows[0].owd_p95_us / 1e3;
        }
    }
    *eff = sum / iterations;
    for (int k = 0; flow && k < 3; k++)
        flow[k] = f[k] / iterations;
    free(res);
    return rc;
}

/* scenarios/NAME.scn, run for SECONDS when given (> 0); NULL when it fails
 * to load (said on stderr). */
static struct sim_scenario *load_case(const char *name, double seconds)
{
    char path[1024], err[600];
    snprintf(path, sizeof path, "%s/scenarios/%s.scn", TG_SOURCE_DIR, name);
    struct sim_scenario *sc = NULL;
    if (sim_scenario_load(path, NULL, &sc, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    if (seconds > 0)
        sc->duration_us = (tg_time)(seconds * 1e6);
    return sc;
}

/* What the tunnel can do for one BBR download over the skewed pair: playout
 * (runtime/README.md, opt-in for its cost in delay), the download started at
 * 1 s, once both uplinks are up, as a user starts one. Prints, off and on,
 * the download's goodput over its active time / capacity and its packets'
 * one-way delay (means of the iterations). */
static int playout_row(double seconds, unsigned iterations)
{
    struct sim_scenario *sc = load_case("agg_skew_bbr", seconds);
    if (!sc)
        return -1;
    sc->flows[0].cfg.start_us = TG_SEC(1);
    int rc = 0;
    for (int on = 0; on <= 1 && rc == 0; on++) {
        sc->playout_us = on ? TG_MSEC(100) : 0;
        double eff, f[3];
        rc = run_one(sc, TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, iterations, &eff, f);
        if (rc == 0)
            printf("agg_skew_bbr from 1 s, playout_max %s: %.3f over the download's time, "
                   "one-way delay p50 %.1f ms, p95 %.1f ms\n",
                   on ? "100 ms" : "off", f[0], f[1], f[2]);
    }
    sim_scenario_free(sc);
    return rc;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0;
    long its = argc > 2 ? strtol(argv[2], NULL, 10) : 1;
    if (argc > 3 || (argc > 1 && !(seconds > 0 && seconds <= 600)) || its < 1 || its > 100) {
        fprintf(stderr, "usage: bench_aggregation [SECONDS [ITERATIONS]]  (0 < SECONDS <= 600, "
                        "1 <= ITERATIONS <= 100)\n");
        return 2;
    }
    unsigned n = (unsigned)its;
    printf("bench_aggregation: efficiency = bulk goodput / sum of the uplinks' capacities, the "
           "mean of %u iteration%s per combination\n",
           n, n == 1 ? "" : "s");
    double worst = 2;
    const char *worst_case = "";
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct sim_scenario *sc = load_case(cases[k], seconds);
        if (!sc)
            return 1;
        double def = 0, best = -1;
        enum tg_strategy bs = TG_STRATEGY_ADAPTIVE;
        enum tg_aggregation ba = TG_AGG_ADAPTIVE;
        if (run_one(sc, TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, n, &def, NULL))
            return 1;
        for (size_t i = 0; i < sc->n_strategies; i++)
            for (size_t j = 0; j < sc->n_aggregations; j++) {
                double e = def;
                enum tg_strategy s = sc->strategies[i];
                enum tg_aggregation a = sc->aggregations[j];
                bool is_def = s == TG_STRATEGY_ADAPTIVE && a == TG_AGG_ADAPTIVE;
                if (!is_def && run_one(sc, s, a, n, &e, NULL))
                    return 1;
                if (e > best) {
                    best = e;
                    bs = s;
                    ba = a;
                }
            }
        if (def > best) {
            best = def;
            bs = TG_STRATEGY_ADAPTIVE;
            ba = TG_AGG_ADAPTIVE;
        }
        printf("%s: default %.3f, best %.3f (%s/%s), default/best %.3f\n", sc->name, def, best,
               tg_strategy_name(bs), tg_aggregation_name(ba), best > 0 ? def / best : 0);
        if (def < worst) {
            worst = def;
            worst_case = cases[k];
        }
        sim_scenario_free(sc);
    }
    printf("worst default efficiency: %.3f (%s)\n", worst, worst_case);
    return playout_row(seconds, n) ? 1 : 0;
}
