/*
 * test_env: the environment sim/env.h exports for the emulator is the one a
 * simulated run meets. For bus.scn (WiFi whose backhaul hands over, drawn
 * per iteration) and several iterations: the outages of the env's link
 * config are the outages sim_run counts on that uplink; building it twice
 * gives the same configs; another iteration gives other draws.
 */
#include <stdio.h>
#include <string.h>

#include "sim/env.h"
#include "sim/run.h"
#include "sim/scenario.h"

static int failures;

#define CHECK(c)                                                                                   \
    do {                                                                                           \
        if (!(c)) {                                                                                \
            fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #c);                 \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

static uint32_t outages(const struct sim_link_config *c, tg_time dur)
{
    uint32_t n = 0;
    for (size_t k = 0; k < c->n_down; k++)
        n += c->down[k].start_us < dur;
    return n;
}

int main(void)
{
    struct sim_scenario *sc = NULL;
    char err[1024];
    if (sim_scenario_load(TG_SOURCE_DIR "/scenarios/bus.scn", NULL, &sc, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    uint32_t seen_total = 0;
    tg_time first_start[4] = {0};
    for (uint32_t it = 0; it < 4; it++) {
        uint64_t seed = sim_iteration_seed(sc->seed, sc, it);
        struct sim_env a, b;
        CHECK(sim_env_build(sc, seed, &a) == 0);
        CHECK(sim_env_build(sc, seed, &b) == 0);
        CHECK(a.n_uplinks == sc->n_uplinks);
        const struct sim_link_config *ca = &a.up[0].cfg[0], *cb = &b.up[0].cfg[0];
        CHECK(ca->n_down == cb->n_down);
        CHECK(ca->n_down == 0 ||
              memcmp(ca->down, cb->down, ca->n_down * sizeof ca->down[0]) == 0);
        CHECK(ca->rate_bps == cb->rate_bps && ca->delay_us == cb->delay_us &&
              ca->queue_bytes == cb->queue_bytes);
        CHECK(a.up[0].cfg[1].n_down == ca->n_down);
        struct sim_run_spec spec = {.sc = sc, .strategy = TG_STRATEGY_ADAPTIVE,
                                    .aggregation = TG_AGG_ADAPTIVE, .iteration = it,
                                    .seed = seed};
        static struct sim_run_result res;
        CHECK(sim_run(&spec, &res, err, sizeof err) == 0);
        uint32_t mine = outages(ca, sc->duration_us);
        printf("iteration %u: env %u outages, run %u\n", it, mine, res.uplinks[0].outages);
        CHECK(mine == res.uplinks[0].outages);
        seen_total += mine;
        first_start[it] = ca->n_down ? ca->down[0].start_us : 0;
        sim_env_free(&a);
        sim_env_free(&b);
    }
    CHECK(seen_total > 0);
    CHECK(first_start[0] != first_start[1] || first_start[1] != first_start[2]);
    sim_scenario_free(sc);
    if (failures)
        fprintf(stderr, "%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
