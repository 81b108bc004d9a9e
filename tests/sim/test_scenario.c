/*
 * test_scenario: the .scn loader. Valid files load with the values they
 * say; broken ones are refused with file:line:col and what was expected
 * (one row per kind of mistake), never quoting what the file says; paths
 * that are not regular files are refused without blocking; the loader reads
 * text and traces from memory the same way; distributions draw what they
 * promise.
 */
#define _XOPEN_SOURCE 700

#include <errno.h>
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

/* What a scenario's author wrote is marked MARK; the loader's messages name
 * the place and what was expected, never quote the file (the parser's own
 * messages, core/conf.c, are the rows marked "parser"). */
#define MARK "Q7X"

static const struct bad_row bad[] = {
    {HEAD UPLINK TRAFFIC MARK "bogus = 1\n", 10, 1, "unknown key in [traffic], expected one of: kind, cc,"},
    {HEAD MARK "colour = \"red\"\n" UPLINK TRAFFIC, 4, 1, "unknown key in [scenario]"},
    {HEAD UPLINK MARK "rat = 5Mbit\n" TRAFFIC, 8, 1, "unknown key in [uplink]"},
    {HEAD UPLINK "delay_" MARK "sideways = 5ms\n" TRAFFIC, 8, 1, "unknown key in [uplink]"},
    {"[scenario]\ndescription = \"t\"\nduration = 10Mbit\n" UPLINK TRAFFIC, 3, 12, "duration"},
    {"[scenario]\ndescription = \"t\"\nduration = 0.5s\n" UPLINK TRAFFIC, 3, 0, "from 1s to 24h"},
    {"[scenario]\nduration = 10s\n" UPLINK TRAFFIC, 1, 0, "needs a description"},
    {"[scenario]\ndescription = \"t\"\n" UPLINK TRAFFIC, 1, 0, "needs a duration"},
    {HEAD "strategies = [\"" MARK "fastest\"]\n" UPLINK TRAFFIC, 4, 15,
     "unknown value, expected one of \"adaptive\","},
    {HEAD "strategies = \"" MARK "adaptive\"\n" UPLINK TRAFFIC, 4, 14,
     "expected a non-empty array of names like [\"adaptive\"], found string"},
    {HEAD "aggregation = [\"full\", \"full\"]\n" UPLINK TRAFFIC, 4, 0, "\"full\" is listed twice"},
    {HEAD "light_flows = 9Gbit\n" UPLINK TRAFFIC, 4, 15, "light_flows must be from 0 to 8Gbit"},
    {HEAD "light_flows = \"" MARK "\"\n" UPLINK TRAFFIC, 4, 15, "expected a rate"},
    {HEAD "[[uplink]]\nname = \"a\"\ndelay = 1ms\nrate = \"" MARK "\"\n" TRAFFIC, 7, 8,
     "expected a rate (e.g. 50Mbit), found a string"},
    {HEAD "iterations = 0\n" UPLINK TRAFFIC, 4, 14, "integer from 1"},
    {HEAD "iterations = \"" MARK "\"\n" UPLINK TRAFFIC, 4, 14, "integer from 1 to 1000000, found string"},
    {HEAD "defining = \"" MARK "nothing\"\n" UPLINK TRAFFIC, 4, 12, "expected defining to name an [[event]]"},
    {HEAD "[[uplink]]\nname = \"a\"\ndelay = 10ms\n" TRAFFIC, 4, 0, "no capacity for its up direction"},
    {HEAD "[[uplink]]\nname = \"a\"\nrate = 1Mbit\n" TRAFFIC, 4, 0, "needs a delay"},
    {HEAD "[[uplink]]\nrate = 1Mbit\ndelay = 1ms\n" TRAFFIC, 4, 0, "needs a name"},
    {HEAD "[[uplink]]\nname = \"" MARK "\"\nrate = 1Mbit\ndelay = 1ms\n"
          "[[uplink]]\nname = \"" MARK "\"\nrate = 1Mbit\ndelay = 1ms\n" TRAFFIC, 8, 0,
     "takes the name of an uplink above"},
    {HEAD UPLINK "loss = 150%\n" TRAFFIC, 8, 8, ""},
    {HEAD UPLINK "loss = ge(p_gb=1%)\n" TRAFFIC, 8, 8, "p_bg"},
    {HEAD UPLINK "loss = ge(q=1%, p_bg=2%)\n" TRAFFIC, 8, 0, "named arguments"},
    {HEAD UPLINK "delay_up = " MARK "gauss(1ms, 2ms)\n" TRAFFIC, 8, 12, "unknown distribution, expected uniform(),"},
    {HEAD UPLINK "jitter = uniform(5ms)\n" TRAFFIC, 8, 10, "uniform() takes 2 arguments"},
    {HEAD UPLINK "jitter = uniform(" MARK "=5ms, 1ms)\n" TRAFFIC, 8, 22, "uniform() takes plain arguments"},
    {HEAD UPLINK "jitter = uniform(5ms, 1ms)\n" TRAFFIC, 8, 10, "a <= b"},
    {HEAD UPLINK "rate_down = [[5s, 1Mbit]]\n" TRAFFIC, 8, 0, "starts at 0s"},
    {HEAD UPLINK "rate_down = [[0s, 1Mbit], [0s, 2Mbit]]\n" TRAFFIC, 8, 0, "must increase"},
    {HEAD UPLINK "rate_down = [[0s]]\n" TRAFFIC, 8, 0, "[time, rate] pair"},
    {HEAD UPLINK "trace_down = \"/nonexistent/trace.down\"\n" TRAFFIC, 8, 14,
     "cannot use trace: /nonexistent/trace.down: cannot read trace: No such file"},
    {HEAD UPLINK "trace_down = \"/dev/zero\"\n" TRAFFIC, 8, 14,
     "cannot use trace: /dev/zero: cannot read trace: not a regular file (a character device)"},
    {HEAD UPLINK "trace_down = \"secret.txt\"\n" TRAFFIC, 8, 14, "secret.txt:1: expected a whole number"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"" MARK "b\"]\nat = 1s\nlength = 1s\n" TRAFFIC, 10, 12,
     "expected the name of an [[uplink]] above"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\n" TRAFFIC, 8, 0, "needs a length"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\ncoverage = [10%, 20%]\nat = 1s\nlength = 1s\n" TRAFFIC,
     11, 12, "coverage needs one probability per uplink in uplinks (1), got 2"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\ncoverage = [150%]\nat = 1s\nlength = 1s\n" TRAFFIC,
     11, 13, ""},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\ncoverage = \"" MARK "all\"\nat = 1s\nlength = 1s\n" TRAFFIC,
     11, 12, "expected an array of probabilities, one per uplink in uplinks"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nlength = 1s\n" TRAFFIC, 8, 0,
     "needs at = ... or every"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nevery = 5s\nlength = 1s\n" TRAFFIC,
     11, 0, "either at, or first/every"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nlength = 1s\neffect = \"rate\"\n" TRAFFIC,
     8, 0, "needs factor"},
    {HEAD UPLINK "[[event]]\nname = \"e\"\nuplinks = [\"a\"]\nat = 1s\nlength = 1s\neffect = \"" MARK "melt\"\n" TRAFFIC,
     13, 10, "unknown value, expected one of \"down\", \"rate\", \"loss\""},
    {HEAD UPLINK "[[event]]\nname = \"" MARK "\"\nuplinks = [\"a\"]\nat = 1s\nlength = 1s\n"
          "[[event]]\nname = \"" MARK "\"\nuplinks = [\"a\"]\nat = 2s\nlength = 1s\n" TRAFFIC,
     13, 0, "takes the name of an event above"},
    {HEAD "[[uplink]]\nname = \"" MARK "\"\ntrace = \"t.mm\"\ndelay = 1ms\n" UPLINK
          "[[event]]\nname = \"e\"\nuplinks = [\"a\", \"" MARK "\"]\neffect = \"rate\"\n"
          "factor = 0.5\nat = 1s\nlength = 1s\n" TRAFFIC,
     12, 0, "cannot scale [[uplink]] number 1, which is trace-driven"},
    {HEAD UPLINK "[[traffic]]\ncc = \"bbr\"\n", 8, 0, "needs kind"},
    {HEAD UPLINK "[[traffic]]\nkind = \"" MARK "ftp\"\n", 9, 8, "unknown value, expected one of \"tcp\","},
    {HEAD UPLINK "[[traffic]]\nkind = \"tcp\"\nstart = 20s\n", 0, 0, "starts after the run ends"},
    {HEAD UPLINK, 1, 1, "no [[traffic]]"},
    {HEAD TRAFFIC, 1, 1, "no [[uplink]]"},
    {UPLINK TRAFFIC, 1, 1, "no [scenario]"},
    {MARK "duration = 10s\n" HEAD UPLINK TRAFFIC, 1, 1, "key outside any table"},
    {HEAD UPLINK TRAFFIC "[[" MARK "station]]\n", 10, 1, "unknown table, expected [scenario],"},
    {HEAD "[scenario]\n" UPLINK TRAFFIC, 4, 0, "[scenario]"},       /* parser: duplicate table */
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
    bool quoted = strstr(err + strlen(path), MARK) != NULL || strstr(err, "SECRET") != NULL;
    if (quoted)
        fprintf(stderr, "row %zu: \"%s\" quotes the file\n", i, err);
    CHECK(!quoted);
    /* the same text from memory, traces from the file system: the same message */
    struct sim_scenario *ms = NULL;
    char merr[600] = "";
    CHECK(sim_scenario_load_text(path, row->text, strlen(row->text), NULL, NULL, &ms, merr,
                                 sizeof merr) == -1);
    CHECK(ms == NULL);
    if (strcmp(merr, err) != 0)
        fprintf(stderr, "row %zu from memory: \"%s\"\n", i, merr);
    CHECK(strcmp(merr, err) == 0);
    sim_scenario_free(sc);
}

/* A scenario path that is not a regular file is refused at once, without
 * blocking (a FIFO) or reading (a device); a file above the size limit too. */
static void check_hostile_files(void)
{
    char fifo[600], big[600];
    simtest_path(fifo, sizeof fifo, dir, "fifo.scn");
    simtest_path(big, sizeof big, dir, "big.scn");
    CHECK(mkfifo(fifo, 0600) == 0);
    FILE *f = fopen(big, "w");
    CHECK(f != NULL && fputs(HEAD UPLINK TRAFFIC, f) >= 0 && fclose(f) == 0);
    CHECK(truncate(big, (off_t)SIM_SCENARIO_MAX_BYTES + 1) == 0);
    const struct {
        const char *path, *want;
    } rows[] = {
        {fifo, ": cannot read: not a regular file (a FIFO)"},
        {"/dev/zero", "/dev/zero: cannot read: not a regular file (a character device)"},
        {dir, ": cannot read: not a regular file (a folder)"},
        {big, ": cannot read: larger than 4 MiB"},
    };
    alarm(20); /* a FIFO that blocks fails the test instead of hanging it */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char err[600] = "";
        struct sim_scenario *sc = NULL;
        CHECK(sim_scenario_load(rows[i].path, NULL, &sc, err, sizeof err) == -1);
        CHECK(sc == NULL);
        bool ok = strncmp(err, rows[i].path, strlen(rows[i].path)) == 0 &&
                  strstr(err, rows[i].want) != NULL;
        if (!ok)
            fprintf(stderr, "hostile scenario %zu: got \"%s\", want \"%s...%s\"\n", i, err,
                    rows[i].path, rows[i].want);
        CHECK(ok);
    }
    alarm(0);
    unlink(fifo);
    unlink(big);
}

/* Traces from memory (sim_scenario_files): the path asked for is the resolved
 * one; what the callback gives is loaded like a file's bytes; a refusal reads
 * like a missing file. */
struct mem_files {
    const char *path_wanted, *text;
    int calls;
};

static int mem_read(void *ctx, const char *path, const char **text, size_t *len)
{
    struct mem_files *m = ctx;
    m->calls++;
    if (strcmp(path, m->path_wanted) != 0) {
        errno = ENOENT;
        return -1;
    }
    *text = m->text;
    *len = strlen(m->text);
    return 0;
}

static void check_from_memory(void)
{
    static const char text[] = HEAD "[[uplink]]\nname = \"a\"\ntrace = \"t.mm\"\n"
                                    "trace_up = \"data:up.mm\"\ndelay = 1ms\n" TRAFFIC;
    struct mem_files m = {"mem/t.mm", "1\n2\n5\n", 0};
    const struct sim_scenario_files files = {mem_read, &m};
    struct sim_scenario *sc = NULL;
    char err[600] = "";
    /* data: paths resolve in the data folder given */
    CHECK(sim_scenario_load_text("mem/s.scn", text, sizeof text - 1, "/data", &files, &sc, err,
                                 sizeof err) == -1);
    CHECK(strcmp(err, "mem/s.scn:7:12: cannot use trace: /data/up.mm: cannot read trace: "
                      "No such file or directory") == 0);
    if (strncmp(err, "mem/s.scn:7:", 12) != 0)
        fprintf(stderr, "from memory: %s\n", err);
    CHECK(sc == NULL);
    m.calls = 0;
    m.path_wanted = "/data/up.mm";
    /* the same text with both paths served */
    static const char text2[] = HEAD "[[uplink]]\nname = \"a\"\ntrace = \"data:up.mm\"\n"
                                     "delay = 1ms\n" TRAFFIC;
    CHECK(sim_scenario_load_text("mem/s.scn", text2, sizeof text2 - 1, "/data", &files, &sc, err,
                                 sizeof err) == 0);
    CHECK_EQ(m.calls, 1);
    if (sc != NULL) {
        CHECK_EQ(sc->n_traces, 1);
        CHECK(sc->uplinks[0].down.trace == sc->uplinks[0].up.trace);
        CHECK_EQ(sc->uplinks[0].down.trace->n_opp, 3);
        CHECK_EQ(sc->uplinks[0].down.trace->period_us, 5000);
        CHECK(strcmp(sc->uplinks[0].down.trace->path, "/data/up.mm") == 0);
        CHECK(strcmp(sc->name, "s") == 0);
    }
    sim_scenario_free(sc);
    /* a trace's bytes never come back in a message, from memory either */
    m.text = "SECRET-1234\n";
    CHECK(sim_scenario_load_text("mem/s.scn", text2, sizeof text2 - 1, "/data", &files, &sc, err,
                                 sizeof err) == -1);
    CHECK(strstr(err, "mem/s.scn:6:9: cannot use trace: /data/up.mm:1: expected") == err);
    CHECK(strstr(err, "SECRET") == NULL);
    /* the text from memory and the file give the same scenario */
    const char *path = write_file("same.scn", valid);
    struct sim_scenario *a = NULL, *b = NULL;
    CHECK(sim_scenario_load(path, NULL, &a, err, sizeof err) == 0);
    CHECK(sim_scenario_load_text(path, valid, sizeof valid - 1, NULL, NULL, &b, err,
                                 sizeof err) == 0);
    if (a && b) {
        CHECK(a->content_hash == b->content_hash);
        CHECK(strcmp(a->name, b->name) == 0 && a->n_uplinks == b->n_uplinks &&
              a->n_events == b->n_events && a->n_flows == b->n_flows);
    }
    sim_scenario_free(a);
    sim_scenario_free(b);
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
    write_file("t.mm", "1\n2\n");
    write_file("secret.txt", "SECRET-PASSWORD-1234\n");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        check_bad(i, &bad[i]);
    check_hostile_files();
    check_from_memory();
    check_distributions();
    if (simtest_rmtree(dir) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_scenario");
}
