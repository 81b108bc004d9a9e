/*
 * test_scenario: the .scn loader. Valid files load with the values they
 * say; broken ones are refused with file:line:col and what was expected
 * (one row per kind of mistake); distributions draw what they promise.
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "check.h"
#include "sim/scenario.h"
#include "simtest.h"

static char dir[256];

static const char *write_file(const char *name, const char *text)
{
    static char path[600];
    simtest_path(path, sizeof path, dir, name);
    if (simtest_write(path, text) != 0) {
        perror(path);
        exit(1);
    }
    return path;
}

#define HEAD "[scenario]\ndescription = \"t\"\nduration = 10s\n"
#define UPLINK "[[uplink]]\nname = \"a\"\nrate = 10Mbit\ndelay = 10ms\n"
#define TRAFFIC "[[traffic]]\nkind = \"tcp\"\n"

static const char valid[] =
    "# a comment\n"
    "[scenario]\n"
    "name = \"demo\"\n"
    "description = \"two uplinks\"\n"
    "duration = 2m\n"
    "iterations = 7\n"
    "seed = 42\n"
    "strategies = [\"adaptive\", \"redundant\"]\n"
    "aggregation = [\"full\", \"none\"]\n"
    "defining = \"tunnel\"\n"
    "\n"
    "[[uplink]]\n"
    "name = \"wifi\"\n"
    "kind = \"wifi\"\n"
    "rate = 20Mbit\n"
    "rate_up = 5Mbit\n"
    "delay = normal(15ms, 3ms)\n"
    "loss = 1%\n"
    "queue_down = 200KB\n"
    "\n"
    "[[uplink]]\n"
    "name = \"lte\"\n"
    "rate_down = [[0s, 30Mbit], [60s, 5Mbit]]\n"
    "rate_up = uniform(1Mbit, 3Mbit)\n"
    "delay = 35ms\n"
    "jitter_down = 5ms\n"
    "loss = ge(p_gb=1%, p_bg=30%, bad=100%)\n"
    "\n"
    "[[event]]\n"
    "name = \"tunnel\"\n"
    "uplinks = [\"lte\", \"wifi\"]\n"
    "first = uniform(5s, 20s)\n"
    "every = exp(40s)\n"
    "length = uniform(5s, 30s)\n"
    "count = 3\n"
    "\n"
    "[[event]]\n"
    "name = \"slow\"\n"
    "uplinks = [\"wifi\"]\n"
    "effect = \"rate\"\n"
    "factor = 0.1\n"
    "at = [10s, 70s]\n"
    "length = 5s\n"
    "\n"
    "[[traffic]]\n"
    "kind = \"tcp\"\n"
    "cc = \"bbr\"\n"
    "size = 5MB\n"
    "\n"
    "[[traffic]]\n"
    "kind = \"voice\"\n"
    "direction = \"up\"\n"
    "rate = 50\n"
    "packet = 160B\n"
    "count = 2\n";

struct bad_row {
    const char *text;
    int line, col;       /* col 0: do not check the column */
    const char *want;    /* substring of the message */
};

static const struct bad_row bad[] = {
    {HEAD UPLINK TRAFFIC "bogus = 1\n", 10, 1, "unknown key \"bogus\" in [traffic]"},
    {HEAD "colour = \"red\"\n" UPLINK TRAFFIC, 4, 1, "unknown key \"colour\" in [scenario]"},
    {HEAD UPLINK "rat = 5Mbit\n" TRAFFIC, 8, 1, "unknown key \"rat\" in [uplink]"},
    {HEAD UPLINK "delay_sideways = 5ms\n" TRAFFIC, 8, 1, "unknown key \"delay_sideways\""},
    {"[scenario]\ndescription = \"t\"\nduration = 10Mbit\n" UPLINK TRAFFIC, 3, 12, "duration"},
    {"[scenario]\ndescription = \"t\"\nduration = 0.5s\n" UPLINK TRAFFIC, 3, 0, "from 1s to 24h"},
    {"[scenario]\nduration = 10s\n" UPLINK TRAFFIC, 1, 0, "needs a description"},
    {"[scenario]\ndescription = \"t\"\n" UPLINK TRAFFIC, 1, 0, "needs a duration"},
    {HEAD "strategies = [\"fastest\"]\n" UPLINK TRAFFIC, 4, 0, "unknown value \"fastest\""},
    {HEAD "aggregation = [\"full\", \"full\"]\n" UPLINK TRAFFIC, 4, 0, "listed twice"},
    {HEAD "iterations = 0\n" UPLINK TRAFFIC, 4, 14, "integer from 1"},
    {HEAD "defining = \"nothing\"\n" UPLINK TRAFFIC, 4, 12, "not an event"},
    {HEAD "[[uplink]]\nname = \"a\"\ndelay = 10ms\n" TRAFFIC, 4, 0, "no capacity"},
    {HEAD "[[uplink]]\nname = \"a\"\nrate = 1Mbit\n" TRAFFIC, 4, 0, "needs a delay"},
    {HEAD "[[uplink]]\nrate = 1Mbit\ndelay = 1ms\n" TRAFFIC, 4, 0, "needs a name"},
    {HEAD UPLINK UPLINK TRAFFIC, 8, 0, "defined twice"},
    {HEAD UPLINK "loss = 150%\n" TRAFFIC, 8, 8, ""},
    {HEAD UPLINK "loss = ge(p_gb=1%)\n" TRAFFIC, 8, 8, "p_bg"},
    {HEAD UPLINK "loss = ge(q=1%, p_bg=2%)\n" TRAFFIC, 8, 0, "named arguments"},
    {HEAD UPLINK "delay_up = gauss(1ms, 2ms)\n" TRAFFIC, 8, 12, "unknown distribution gauss()"},
    {HEAD UPLINK "jitter = uniform(5ms)\n" TRAFFIC, 8, 10, "takes 2 arguments"},
    {HEAD UPLINK "jitter = uniform(5ms, 1ms)\n" TRAFFIC, 8, 10, "a <= b"},
    {HEAD UPLINK "rate_down = [[5s, 1Mbit]]\n" TRAFFIC, 8, 0, "starts at 0s"},
    {HEAD UPLINK "rate_down = [[0s, 1Mbit], [0s, 2Mbit]]\n" TRAFFIC, 8, 0, "must increase"},
    {HEAD UPLINK "rate_down = [[0s]]\n" TRAFFIC, 8, 0, "[time, rate] pair"},
    {HEAD UPLINK "trace_down = \"/nonexistent/trace.down\"\n" TRAFFIC, 8, 14, "cannot use trace"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"b\"]\nat = 1s\nlength = 1s\n" TRAFFIC, 10, 0,
     "no uplink named \"b\""},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\n" TRAFFIC, 8, 0, "needs a length"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nlength = 1s\n" TRAFFIC, 8, 0,
     "needs at = ... or every"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nevery = 5s\nlength = 1s\n" TRAFFIC,
     11, 0, "either at, or first/every"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nlength = 1s\neffect = \"rate\"\n" TRAFFIC,
     8, 0, "needs factor"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nlength = 1s\neffect = \"melt\"\n" TRAFFIC,
     13, 10, "unknown value \"melt\""},
    {HEAD UPLINK "[[traffic]]\ncc = \"bbr\"\n", 8, 0, "needs kind"},
    {HEAD UPLINK "[[traffic]]\nkind = \"ftp\"\n", 9, 8, "unknown value \"ftp\""},
    {HEAD UPLINK "[[traffic]]\nkind = \"tcp\"\nstart = 20s\n", 0, 0, "starts after the run ends"},
    {HEAD UPLINK, 1, 1, "no [[traffic]]"},
    {HEAD TRAFFIC, 1, 1, "no [[uplink]]"},
    {UPLINK TRAFFIC, 1, 1, "no [scenario]"},
    {"duration = 10s\n" HEAD UPLINK TRAFFIC, 1, 1, "outside any table"},
    {HEAD UPLINK TRAFFIC "[[station]]\n", 10, 1, "unknown table [[station]]"},
    {HEAD "[scenario]\n" UPLINK TRAFFIC, 4, 0, "[scenario]"},       /* the parser's duplicate table */
    {HEAD UPLINK "rate = 10Mbit\n" TRAFFIC, 8, 0, "duplicate key \"rate\""}, /* parser */
    {HEAD UPLINK "delay = 10ms 5ms\n" TRAFFIC, 8, 0, ""},                   /* parser: trailing junk */
};

static void check_bad(size_t i, const struct bad_row *row)
{
    char name[32];
    snprintf(name, sizeof name, "bad%zu.scn", i);
    const char *path = write_file(name, row->text);
    char want_prefix[700], err[600] = "";
    struct sim_scenario *sc = NULL;
    int rc = sim_scenario_load(path, NULL, &sc, err, sizeof err);
    CHECK(rc == -1);
    CHECK(sc == NULL);
    if (row->line && row->col)
        snprintf(want_prefix, sizeof want_prefix, "%s:%d:%d: ", path, row->line, row->col);
    else if (row->line)
        snprintf(want_prefix, sizeof want_prefix, "%s:%d:", path, row->line);
    else
        snprintf(want_prefix, sizeof want_prefix, "%s:", path);
    bool ok = strncmp(err, want_prefix, strlen(want_prefix)) == 0 && strstr(err, row->want);
    if (!ok)
        fprintf(stderr, "row %zu: got \"%s\"\n  want prefix \"%s\" and \"%s\"\n", i, err,
                want_prefix, row->want);
    CHECK(ok);
    sim_scenario_free(sc);
}

static void check_valid(void)
{
    const char *path = write_file("demo.scn", valid);
    char err[600] = "";
    struct sim_scenario *sc = NULL;
    int rc = sim_scenario_load(path, NULL, &sc, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    CHECK(rc == 0);
    if (rc)
        return;
    CHECK(strcmp(sc->name, "demo") == 0);
    CHECK_EQ(sc->duration_us, 120000000);
    CHECK_EQ(sc->iterations, 7);
    CHECK_EQ(sc->seed, 42);
    CHECK_EQ(sc->n_strategies, 2);
    CHECK_EQ(sc->strategies[1], TG_STRATEGY_REDUNDANT);
    CHECK_EQ(sc->n_aggregations, 2);
    CHECK_EQ(sc->aggregations[0], TG_AGG_FULL);
    CHECK_EQ(sc->aggregations[1], TG_AGG_NONE);
    CHECK(strcmp(sc->defining, "tunnel") == 0);
    CHECK_EQ(sc->n_uplinks, 2);
    const struct sim_uplink_spec *w = &sc->uplinks[0], *l = &sc->uplinks[1];
    CHECK(strcmp(w->kind, "wifi") == 0);
    CHECK(w->down.rate_bps.a == 20e6 && w->up.rate_bps.a == 5e6); /* _up overrides the general key */
    CHECK_EQ(w->down.delay_us.kind, SIM_DIST_NORMAL);
    CHECK(w->down.delay_us.a == 15000 && w->down.delay_us.b == 3000);
    CHECK_EQ(w->up.loss, SIM_LOSS_BERNOULLI);
    CHECK(fabs(w->up.loss_p.a - 0.01) < 1e-12);
    CHECK(w->down.queue_bytes.a == 200000 && w->up.queue_bytes.a == 64000);
    CHECK_EQ(l->down.rate_kind, SIM_RATE_SCHEDULE);
    CHECK_EQ(l->down.n_steps, 2);
    CHECK_EQ(l->down.steps[1].at_us, 60000000);
    CHECK(l->down.steps[1].rate_bps == 5e6);
    CHECK_EQ(l->up.rate_bps.kind, SIM_DIST_UNIFORM);
    CHECK(l->down.jitter_us.a == 5000 && l->up.jitter_us.a == 0);
    CHECK_EQ(l->up.loss, SIM_LOSS_GE);
    CHECK(fabs(l->up.ge.p_bg - 0.3) < 1e-12 && l->up.ge.loss_bad == 1 && l->up.ge.loss_good == 0);
    CHECK_EQ(sc->n_events, 2);
    CHECK_EQ(sc->events[0].uplink_mask, 3);
    CHECK_EQ(sc->events[0].count, 3);
    CHECK_EQ(sc->events[0].every_us.kind, SIM_DIST_EXP);
    CHECK_EQ(sc->events[1].effect, SIM_EFFECT_RATE);
    CHECK_EQ(sc->events[1].n_at, 2);
    CHECK_EQ(sc->events[1].at_us[1], 70000000);
    CHECK_EQ(sc->n_flows, 2);
    CHECK_EQ(sc->flows[0].cfg.kind, SIM_FLOW_TCP);
    CHECK_EQ(sc->flows[0].cfg.cc, SIM_CC_BBR);
    CHECK_EQ(sc->flows[0].cfg.bytes, 5000000);
    CHECK_EQ(sc->flows[1].cfg.kind, SIM_FLOW_VOICE);
    CHECK_EQ(sc->flows[1].cfg.dir, SIM_DIR_UP);
    CHECK_EQ(sc->flows[1].count, 2);
    CHECK_EQ(sc->flows[1].cfg.pkt_bytes, 160);
    uint64_t hash = sc->content_hash;
    sim_scenario_free(sc);

    /* the name defaults to the file name; the hash follows the bytes */
    const char *p2 = write_file("other.scn", HEAD UPLINK TRAFFIC);
    CHECK(sim_scenario_load(p2, NULL, &sc, err, sizeof err) == 0);
    if (sc) {
        CHECK(strcmp(sc->name, "other") == 0);
        CHECK(sc->content_hash != hash);
        CHECK_EQ(sc->iterations, 100);
        CHECK_EQ(sc->strategies[0], TG_STRATEGY_ADAPTIVE);
    }
    sim_scenario_free(sc);
}

/* Each distribution's sample mean is near its stated mean. */
static void check_distributions(void)
{
    const struct sim_dist rows[] = {
        {SIM_DIST_CONST, 5, 0, {0}, 0},       {SIM_DIST_UNIFORM, 2, 6, {0}, 0},
        {SIM_DIST_NORMAL, 100, 10, {0}, 0},   {SIM_DIST_LOGNORMAL, 50, 20, {0}, 0},
        {SIM_DIST_EXP, 40, 0, {0}, 0},        {SIM_DIST_PARETO, 10, 3, {0}, 0},
        {SIM_DIST_WEIBULL, 10, 2, {0}, 0},    {SIM_DIST_CHOICE, 0, 0, {1, 2, 6}, 3},
    };
    gsl_rng *g = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(g, 7);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        double sum = 0, lo = INFINITY;
        const int n = 200000;
        for (int k = 0; k < n; k++) {
            double x = sim_dist_draw(&rows[i], g);
            sum += x;
            if (x < lo)
                lo = x;
        }
        double mean = sum / n, want = sim_dist_mean(&rows[i]);
        if (fabs(mean - want) > 0.02 * want)
            fprintf(stderr, "distribution %zu: mean %g, want %g\n", i, mean, want);
        CHECK(fabs(mean - want) <= 0.02 * want);
        CHECK(lo >= 0);
    }
    gsl_rng_free(g);
}

int main(void)
{
    if (simtest_mkdtemp(dir, sizeof dir, "tg-scn") != 0) {
        perror("mkdtemp");
        return 1;
    }
    check_valid();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_bad(i, &bad[i]);
    check_distributions();
    if (simtest_rmtree(dir) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_scenario");
}
