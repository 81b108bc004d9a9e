/* test_aggregation: the aggregation cases (scenarios/agg_*.scn) with a bound
 * each, run in process for 10 s, iteration 0, the default strategy and
 * aggregation (adaptive, adaptive; lowest_latency for its own case). Where
 * the engine reaches the goal (the efficiency kernel MPTCP shows, issue
 * table), the bound is the goal; where it does not yet, the bound is the
 * figure measured now minus a margin, a regression guard, and the row names
 * both so the gap stays visible. Figures are for 10 s; the full 20 s runs
 * are tests/bench/bench_aggregation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/sched.h"
#include "sim/run.h"
#include "sim/scenario.h"

static const struct {
    const char *scn;
    enum tg_strategy strategy;
    enum tg_aggregation agg;
    double bound; /* efficiency at least */
    double goal;  /* what the case should reach */
} rows[] = {
    /* Three cases reach their goal (4 x 50, BBR over 50 + 50, random loss): the
     * bound is the goal. The others are short of it: bound = the figure of a
     * 10 s run minus about 20 %, so a regression fails and an improvement lets
     * the bound rise. The runs last 10 s, not 5: the first seconds, while the rate
     * estimates rise, weigh less (measured by the receiver's own spacing of
     * the packets, the estimates rise more slowly than they did by the
     * feedbacks' bunched arrivals: 8 x 50 in 5 s 0.876 -> 0.851, over 20 s
     * unchanged). The runs are deterministic: the same in the Release and the
     * sanitizer builds. "now": the 10 s figure on 2026-12-07.
     *  case           strategy              aggregation      bound goal   now */
    {"agg_skew_cubic", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.61, 0.93}, /* 0.855 */
    {"agg_skew_bbr", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.48, 0.90},   /* 0.598 */
    {"agg_skew_q64", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.68, 0.85},   /* 0.848 */
    {"agg_4x50", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.90, 0.90},       /* 0.917 */
    {"agg_8x50", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.70, 0.90},       /* 0.886 */
    {"agg_bbr_50_50", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.90, 0.90},  /* 0.921 */
    {"agg_loss", TG_STRATEGY_ADAPTIVE, TG_AGG_ADAPTIVE, 0.80, 0.80},       /* 0.889 */
    /* never below the best single path (100 of 150 Mbit/s at 0.9) */
    {"agg_lowest_latency", TG_STRATEGY_LOWEST_LATENCY, TG_AGG_NONE, 0.34, 0.60}, /* 0.400 */
};

int main(int argc, char **argv)
{
    const char *src = argc > 1 ? argv[1] : TG_SOURCE_DIR;
    setvbuf(stdout, NULL, _IONBF, 0);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        char path[1024], err[600];
        snprintf(path, sizeof path, "%s/scenarios/%s.scn", src, rows[k].scn);
        struct sim_scenario *sc = NULL;
        if (sim_scenario_load(path, NULL, &sc, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        sc->duration_us = TG_SEC(10);
        struct sim_run_spec spec = {.sc = sc, .strategy = rows[k].strategy,
                                    .aggregation = rows[k].agg, .iteration = 0,
                                    .seed = sim_iteration_seed(sc->seed, sc, 0)};
        struct sim_run_result *res = calloc(1, sizeof *res);
        CHECK(res != NULL);
        if (!res)
            return 1;
        int rc = sim_run(&spec, res, err, sizeof err);
        if (rc)
            fprintf(stderr, "%s: %s\n", rows[k].scn, err);
        CHECK(rc == 0);
        printf("%s %s/%s: efficiency %.3f (bound %.2f, goal %.2f)\n", rows[k].scn,
               tg_strategy_name(rows[k].strategy), tg_aggregation_name(rows[k].agg),
               res->efficiency, rows[k].bound, rows[k].goal);
        CHECK(res->efficiency >= rows[k].bound);
        free(res);
        sim_scenario_free(sc);
    }
    return check_exit("test_aggregation");
}
