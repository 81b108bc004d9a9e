/* test_db: the results database with synthetic run results. A run is stored
 * whole or not at all (a writer killed with SIGKILL at random moments leaves
 * only complete runs, and finishing afterwards gives exactly the rows of an
 * uninterrupted writer); the run key refuses duplicates; shards merge into
 * the database one writer would have produced; files that are not results
 * databases are refused with their path. */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "sim/db.h"
#include "simtest.h"
#include "testrng.h"

#define N_RUNS 60
#define N_KILL 4000 /* runs of the campaign that gets killed: enough to outlast the kills */

static char dir[256];
static char err[1024];

/* The i-th run of the synthetic campaign: 2 strategies x 2 aggregations x
 * iterations, seeds as a campaign would draw them. */
static struct sim_db_run_key key_of(unsigned i)
{
    struct sim_db_run_key k = {
        .scenario_hash = 0xfeedfacecafebeefu,
        .strategy = (i % 2) ? TG_STRATEGY_REDUNDANT : TG_STRATEGY_ADAPTIVE,
        .aggregation = (i / 2 % 2) ? TG_AGG_FULL : TG_AGG_NONE,
        .iteration = i / 4,
    };
    rng_state = 1000 + k.iteration;
    k.seed = rnd(); /* the same for every strategy of an iteration; often above INT64_MAX */
    return k;
}

static size_t n_uplinks_of(unsigned i)
{
    return 1 + i % 3;
}
static size_t n_flows_of(unsigned i)
{
    return 1 + i % 5;
}
static size_t n_events_of(unsigned i)
{
    return i % 4;
}

static double rnd_real(double scale)
{
    return (double)(rnd() >> 11) * 0x1p-53 * scale;
}

/* Deterministic contents for run i. */
static void fill(struct sim_run_result *r, unsigned i)
{
    memset(r, 0, sizeof *r);
    rng_state = 77 + i;
    r->goodput_bps = rnd_real(100e6);
    r->goodput_down_bps = rnd_real(80e6);
    r->goodput_up_bps = rnd_real(20e6);
    r->capacity_bps = 120e6;
    r->efficiency = r->goodput_bps / r->capacity_bps;
    r->owd_p50_us = rnd_real(50e3);
    r->owd_p95_us = r->owd_p50_us * 2;
    r->owd_p99_us = r->owd_p50_us * 3;
    r->jitter_us = rnd_real(5e3);
    r->loss = rnd_real(0.05);
    r->reorder_peak = rnd() % 500;
    r->longest_stall_us = rnd() % 5000000;
    r->failovers = (uint32_t)(rnd() % 10);
    r->failover_us = i % 7 == 3 ? TG_TIME_NEVER : rnd() % 2000000;
    r->redundancy_overhead = rnd_real(1.0);
    r->defining_events = (uint32_t)(rnd() % 4);
    r->session_up_us = i % 11 == 0 ? TG_TIME_NEVER : 30000 + rnd() % 1000;
    r->sim_events = rnd() % 10000000;
    r->packets = rnd() % 1000000;
    r->n_uplinks = n_uplinks_of(i);
    for (size_t u = 0; u < r->n_uplinks; u++) {
        struct sim_uplink_result *x = &r->uplinks[u];
        snprintf(x->name, sizeof x->name, "uplink-%zu", u);
        x->bytes_up = rnd() % 1000000000;
        x->bytes_down = rnd() % 1000000000;
        x->delivered_up = x->bytes_up / 2;
        x->delivered_down = x->bytes_down / 2;
        x->drops_up = rnd() % 1000;
        x->drops_down = rnd() % 1000;
        x->capacity_up_bps = rnd_real(50e6);
        x->capacity_down_bps = rnd_real(50e6);
        x->down_us = rnd() % 10000000;
        x->outages = (uint32_t)(rnd() % 5);
    }
    r->n_flows = n_flows_of(i);
    for (size_t f = 0; f < r->n_flows; f++) {
        struct sim_flow_result *x = &r->flows[f];
        x->id = (unsigned)f;
        x->kind = (enum sim_flow_kind)(SIM_FLOW_TCP + (int)(f % 5));
        x->cc = (enum sim_cc)(f % 3);
        x->dir = (enum sim_dir)(f % 2);
        x->bytes_delivered = rnd() % 100000000;
        x->goodput_bps = rnd_real(50e6);
        x->completion_us = f % 2 ? TG_TIME_NEVER : rnd() % 60000000;
        x->owd_p50_us = rnd_real(40e3);
        x->owd_p95_us = x->owd_p50_us * 1.5;
        x->owd_p99_us = x->owd_p50_us * 2;
        x->jitter_us = rnd_real(3e3);
        x->loss = rnd_real(0.1);
        x->longest_stall_us = rnd() % 3000000;
        x->retransmits = rnd() % 100;
        x->spurious_retransmits = rnd() % 50;
        x->rto_count = rnd() % 5;
        x->objects_done = rnd() % 30;
    }
    r->n_events = n_events_of(i);
    for (size_t e = 0; e < r->n_events; e++) {
        snprintf(r->events[e].name, sizeof r->events[e].name, "event-%zu", e);
        r->events[e].occurrences = (uint32_t)(rnd() % 20);
        r->events[e].total_us = rnd() % 30000000;
    }
}

static const enum tg_strategy strategies[] = {TG_STRATEGY_ADAPTIVE, TG_STRATEGY_REDUNDANT};
static const enum tg_aggregation aggregations[] = {TG_AGG_NONE, TG_AGG_FULL};

static struct sim_db_campaign_scenario scenario = {
    .name = "synthetic",
    .file = "scenarios/synthetic.scn",
    .hash = 0xfeedfacecafebeefu,
    .strategies = strategies,
    .n_strategies = 2,
    .aggregations = aggregations,
    .n_aggregations = 2,
    .iterations = N_RUNS / 4,
    .base_seed = 1000,
};

static struct sim_db_campaign_scenario scenario_n;

/* The campaign of runs 0..n-1. */
static struct sim_db_campaign campaign(unsigned n, const char *command)
{
    scenario_n = scenario;
    scenario_n.iterations = n / 4;
    return (struct sim_db_campaign){&scenario_n, 1, n, command};
}

/* Open `path` and store the runs i < n with i % step == phase that are not
 * stored yet (a campaign resuming). Returns the number stored, -1 on error. */
static int write_runs(const char *path, unsigned n, unsigned step, unsigned phase,
                      const char *command)
{
    struct sim_db *db;
    if (sim_db_open(path, &db, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    struct sim_db_campaign c = campaign(n, command);
    int64_t cid;
    int stored = 0;
    static struct sim_run_result res;
    if (sim_db_campaign(db, &c, &cid, err, sizeof err) != 0)
        goto fail;
    for (unsigned i = 0; i < n; i++) {
        if (i % step != phase)
            continue;
        struct sim_db_run run = {
            .campaign_id = cid,
            .scenario = scenario.name,
            .scenario_file = scenario.file,
            .key = key_of(i),
            .duration_s = 60,
            .wall_s = 0.5 + i,
        };
        bool found;
        if (sim_db_has_run(db, &run.key, &found, err, sizeof err) != 0)
            goto fail;
        if (found)
            continue;
        fill(&res, i);
        int rc = sim_db_insert_run(db, &run, &res, err, sizeof err);
        if (rc < 0)
            goto fail;
        stored += rc;
    }
    sim_db_close(db);
    return stored;
fail:
    fprintf(stderr, "%s\n", err);
    sim_db_close(db);
    return -1;
}

/* Every stored run has exactly its rows: one metrics row, its uplinks, flows
 * and events (run i's counts follow from its key). Returns the number of runs. */
static int64_t check_whole(const char *path)
{
    sqlite3 *h;
    if (access(path, F_OK) != 0)
        return 0; /* killed before it created the file */
    CHECK(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    if (simtest_db_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'runs'") != 1) {
        sqlite3_close(h); /* killed before it created the schema */
        return 0;
    }
    int64_t runs = simtest_db_int(h, "SELECT count(*) FROM runs");
    int64_t broken =
        simtest_db_int(h, "WITH k AS (SELECT id, iteration * 4 + (aggregation = 'full') * 2 "
                          "+ (strategy = 'redundant') AS i FROM runs) "
                          "SELECT count(*) FROM k WHERE "
                          "(SELECT count(*) FROM metrics WHERE run_id = k.id) != 1 "
                          "OR (SELECT count(*) FROM uplink_results WHERE run_id = k.id) "
                          "!= 1 + k.i % 3 "
                          "OR (SELECT count(*) FROM flow_results WHERE run_id = k.id) "
                          "!= 1 + k.i % 5 "
                          "OR (SELECT count(*) FROM event_counts WHERE run_id = k.id) "
                          "!= k.i % 4");
    CHECK_EQ(broken, 0);
    /* and no orphans */
    CHECK_EQ(simtest_db_int(
                 h, "SELECT (SELECT count(*) FROM metrics) + (SELECT count(*) FROM "
                    "uplink_results) + (SELECT count(*) FROM flow_results) + (SELECT count(*) "
                    "FROM event_counts) - (SELECT count(*) FROM metrics m JOIN runs r ON r.id "
                    "= m.run_id) - (SELECT count(*) FROM uplink_results m JOIN runs r ON r.id "
                    "= m.run_id) - (SELECT count(*) FROM flow_results m JOIN runs r ON r.id = "
                    "m.run_id) - (SELECT count(*) FROM event_counts m JOIN runs r ON r.id = "
                    "m.run_id)"),
             0);
    sqlite3_close(h);
    return runs;
}

static void test_insert(void)
{
    char path[512];
    simtest_path(path, sizeof path, dir, "a.db");
    CHECK_EQ(write_runs(path, N_RUNS, 1, 0, "first"), N_RUNS);
    CHECK_EQ(check_whole(path), N_RUNS);
    /* again: everything is found stored, nothing is written */
    CHECK_EQ(write_runs(path, N_RUNS, 1, 0, "again"), 0);

    struct sim_db *db, *db2;
    CHECK(sim_db_open(path, &db, err, sizeof err) == 0);
    CHECK(sim_db_open(path, &db2, err, sizeof err) == 0);
    struct sim_db_campaign c = campaign(N_RUNS, "x");
    int64_t id1 = 0, id2 = 0;
    CHECK(sim_db_campaign(db, &c, &id1, err, sizeof err) == 0);
    CHECK(sim_db_campaign(db2, &c, &id2, err, sizeof err) == 0);
    CHECK(id1 > 0 && id1 == id2); /* one row per plan */
    struct sim_db_campaign_scenario other = scenario;
    other.iterations++;
    struct sim_db_campaign c2 = {&other, 1, N_RUNS + 4, "x"};
    CHECK(sim_db_campaign_key(&c) != sim_db_campaign_key(&c2));
    int64_t id3 = 0;
    CHECK(sim_db_campaign(db, &c2, &id3, err, sizeof err) == 0);
    CHECK(id3 != id1);

    bool found = false;
    struct sim_db_run_key k = key_of(5);
    CHECK(sim_db_has_run(db, &k, &found, err, sizeof err) == 0 && found);
    k.iteration = 999;
    CHECK(sim_db_has_run(db, &k, &found, err, sizeof err) == 0 && !found);
    k = key_of(5);
    k.seed ^= 1;
    CHECK(sim_db_has_run(db, &k, &found, err, sizeof err) == 0 && !found);

    /* the same key again, from another connection: refused without writing */
    static struct sim_run_result res;
    fill(&res, 5);
    struct sim_db_run run = {id1, "synthetic", "f.scn", key_of(5), 60, 1, NULL, NULL, 0};
    CHECK_EQ(sim_db_insert_run(db2, &run, &res, err, sizeof err), 0);
    run.key.iteration = 1000;
    fill(&res, 1000 * 4 + 1); /* redundant/none of iteration 1000 */
    CHECK_EQ(sim_db_insert_run(db2, &run, &res, err, sizeof err), 1);
    CHECK_EQ(sim_db_insert_run(db, &run, &res, err, sizeof err), 0);
    sim_db_close(db);
    sim_db_close(db2);

    /* what was written, in human units */
    sqlite3 *h;
    CHECK(sqlite3_open_v2(path, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM runs"), N_RUNS + 1);
    CHECK_EQ(simtest_db_int(h, "PRAGMA user_version"), SIM_DB_SCHEMA_VERSION);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM run_summary"), N_RUNS + 1);
    fill(&res, 3);
    struct sim_db_run_key k3 = key_of(3);
    sqlite3_stmt *st;
    CHECK(sqlite3_prepare_v2(h,
                             "SELECT m.goodput_mbps, m.owd_p95_ms, m.stall_max_ms, "
                             "m.failover_max_ms, r.seed, s.seed_hex, r.scenario_hash, r.strategy, "
                             "r.aggregation, r.version, m.session_up_ms "
                             "FROM runs r JOIN metrics m ON m.run_id = r.id JOIN run_summary s "
                             "ON s.run_id = r.id WHERE r.iteration = 0 AND r.strategy = "
                             "'redundant' AND r.aggregation = 'full'",
                             -1, &st, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(st) == SQLITE_ROW);
    CHECK(fabs(sqlite3_column_double(st, 0) - res.goodput_bps / 1e6) < 1e-9);
    CHECK(fabs(sqlite3_column_double(st, 1) - res.owd_p95_us / 1e3) < 1e-9);
    CHECK(fabs(sqlite3_column_double(st, 2) - (double)res.longest_stall_us / 1e3) < 1e-9);
    CHECK(sqlite3_column_type(st, 3) == SQLITE_NULL); /* run 3: failover never */
    uint64_t seed;
    int64_t sseed = sqlite3_column_int64(st, 4);
    memcpy(&seed, &sseed, sizeof seed);
    CHECK(seed == k3.seed);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx", (unsigned long long)k3.seed);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 5), hex) == 0);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 6), "feedfacecafebeef") == 0);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 7), "redundant") == 0);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 8), "full") == 0);
    CHECK(strcmp((const char *)sqlite3_column_text(st, 9), sim_version) == 0);
    CHECK(sqlite3_column_type(st, 10) == SQLITE_FLOAT);
    sqlite3_finalize(st);
    /* flows: names and "never" as NULL */
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM flow_results WHERE completion_ms IS NULL AND "
                               "flow % 2 = 0"),
             0);
    CHECK(simtest_db_int(h, "SELECT count(*) FROM flow_results WHERE completion_ms IS NULL") > 0);
    CHECK_EQ(simtest_db_int(h,
                            "SELECT count(*) FROM flow_results WHERE kind NOT IN ('tcp', 'voice', "
                            "'video', 'keys', 'web') OR direction NOT IN ('up', 'down')"),
             0);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM flow_results WHERE (cc IS NULL) != (kind IN "
                               "('voice', 'video', 'keys'))"),
             0);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM campaigns"), 2);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM campaign_scenarios WHERE strategies = "
                               "'adaptive,redundant' AND aggregations = 'none,full'"),
             2);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM strategy_summary"), 4);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM paired a JOIN paired b USING (pair) WHERE "
                               "a.strategy = 'adaptive' AND b.strategy = 'redundant' AND "
                               "a.aggregation = b.aggregation"),
             N_RUNS / 2);
    sqlite3_close(h);

    /* reopening keeps everything */
    CHECK_EQ(check_whole(path), N_RUNS + 1);
}

/* A writer killed at random moments, then finished: only whole runs, and the
 * same rows as one uninterrupted writer. */
static void test_kill(void)
{
    char full[512], killed[512];
    simtest_path(full, sizeof full, dir, "full-kill.db");
    simtest_path(killed, sizeof killed, dir, "killed.db");
    CHECK_EQ(write_runs(full, N_KILL, 1, 0, "full"), N_KILL);

    rng_state = (uint64_t)time(NULL);
    uint64_t seed = rng_state;
    int kills = 0, midway = 0;
    int64_t stored = 0;
    /* at least 30 rounds, more (up to 200) until 3 kills landed mid-store; on a
     * loaded machine the writer may store nothing within the first delays,
     * so a round that stored nothing lengthens the next delays */
    long spread_ns = 20000000;
    for (int round = 0; round < 200 && stored < N_KILL && (round < 30 || midway < 3); round++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(write_runs(killed, N_KILL, 1, 0, "killed") < 0 ? 1 : 0);
        CHECK(pid > 0);
        rng_state = seed + (uint64_t)round;
        struct timespec ts = {0, (long)(2000000 + rnd() % (uint64_t)spread_ns)}; /* 2-22 ms at first */
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int status;
        CHECK(waitpid(pid, &status, 0) == pid);
        bool was_killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
        kills += was_killed;
        int64_t now = check_whole(killed);
        CHECK(now >= stored);
        midway += was_killed && now > stored && now < N_KILL; /* killed while storing runs */
        if (now == stored && spread_ns < 400000000)
            spread_ns = spread_ns * 3 / 2;
        stored = now;
    }
    printf("test_db: %d kills, %d while storing (seed %llu), %lld of %d runs stored before "
           "finishing\n",
           kills, midway, (unsigned long long)seed, (long long)stored, N_KILL);
    CHECK(midway >= 3);
    CHECK_EQ(write_runs(killed, N_KILL, 1, 0, "killed"), N_KILL - stored);
    CHECK_EQ(check_whole(killed), N_KILL);
    char *a = simtest_dump(full), *b = simtest_dump(killed);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    free(a);
    free(b);
}

static void test_merge(void)
{
    char full[512], s1[512], s2[512], s3[512], merged[512];
    simtest_path(full, sizeof full, dir, "full.db");
    simtest_path(s1, sizeof s1, dir, "shard1.db");
    simtest_path(s2, sizeof s2, dir, "shard2.db");
    simtest_path(s3, sizeof s3, dir, "shard3.db");
    simtest_path(merged, sizeof merged, dir, "merged.db");
    CHECK_EQ(write_runs(full, N_RUNS, 1, 0, "full"), N_RUNS);
    CHECK_EQ(write_runs(s1, N_RUNS, 3, 0, "--shard 1/3"), N_RUNS / 3);
    CHECK_EQ(write_runs(s2, N_RUNS, 3, 1, "--shard 2/3"), N_RUNS / 3);
    CHECK_EQ(write_runs(s3, N_RUNS, 3, 2, "--shard 3/3"), N_RUNS / 3);

    struct sim_db *db;
    CHECK(sim_db_open(merged, &db, err, sizeof err) == 0);
    const char *ins[] = {s1, s2, s3};
    struct sim_db_merge_stats st[3];
    CHECK(sim_db_merge(db, ins, 3, st, err, sizeof err) == 0);
    for (int i = 0; i < 3; i++) {
        CHECK_EQ(st[i].runs, N_RUNS / 3);
        CHECK_EQ(st[i].added, N_RUNS / 3);
    }
    /* merging again adds nothing */
    CHECK(sim_db_merge(db, ins, 2, st, err, sizeof err) == 0);
    CHECK_EQ(st[0].added, 0);
    CHECK_EQ(st[1].added, 0);
    sim_db_close(db);
    CHECK_EQ(check_whole(merged), N_RUNS);
    char *a = simtest_dump(full), *b = simtest_dump(merged);
    CHECK(a != NULL && b != NULL && strcmp(a, b) == 0);
    if (a && b && strcmp(a, b) != 0)
        fprintf(stderr, "--- full\n%.2000s\n--- merged\n%.2000s\n", a, b);
    free(a);
    free(b);
    sqlite3 *h;
    CHECK(sqlite3_open_v2(merged, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM campaigns"),
             1); /* shards share the campaign */
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM runs WHERE campaign_id != (SELECT id FROM "
                               "campaigns)"),
             0);
    sqlite3_close(h);

    /* a shard merged into the full database adds nothing */
    CHECK(sim_db_open(full, &db, err, sizeof err) == 0);
    CHECK(sim_db_merge(db, ins, 1, st, err, sizeof err) == 0);
    CHECK_EQ(st[0].added, 0);
    sim_db_close(db);
}

static bool contains(const char *s, const char *part)
{
    return strstr(s, part) != NULL;
}

static void test_refuse(void)
{
    char junk[512], foreign[512], future[512], missing[512], ok[512];
    simtest_path(junk, sizeof junk, dir, "junk.db");
    simtest_path(foreign, sizeof foreign, dir, "foreign.db");
    simtest_path(future, sizeof future, dir, "future.db");
    simtest_path(missing, sizeof missing, dir, "missing.db");
    simtest_path(ok, sizeof ok, dir, "ok.db");
    FILE *f = fopen(junk, "w");
    CHECK(f != NULL);
    for (int i = 0; f && i < 200; i++)
        fputs("this is a text file, not a database\n", f);
    if (f)
        fclose(f);
    sqlite3 *h;
    CHECK(sqlite3_open(foreign, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(h);
    CHECK(sqlite3_open(future, &h) == SQLITE_OK);
    CHECK(sqlite3_exec(h, "CREATE TABLE runs (x); PRAGMA user_version = 99", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(h);

    struct sim_db *db = (struct sim_db *)1;
    err[0] = '\0';
    CHECK(sim_db_open(junk, &db, err, sizeof err) == -1 && db == NULL);
    CHECK(contains(err, junk) && contains(err, "not a database"));
    printf("junk file: %s\n", err);
    CHECK(sim_db_open(foreign, &db, err, sizeof err) == -1);
    CHECK(contains(err, foreign) && contains(err, "not a triglav-sim results database"));
    printf("foreign: %s\n", err);
    CHECK(sim_db_open(future, &db, err, sizeof err) == -1);
    CHECK(contains(err, future) && contains(err, "version 99"));
    printf("future: %s\n", err);
    CHECK(sim_db_open(dir, &db, err, sizeof err) == -1);
    CHECK(contains(err, dir));
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.db", dir);
    CHECK(sim_db_open(nodir, &db, err, sizeof err) == -1);
    CHECK(contains(err, nodir));
    printf("no folder: %s\n", err);

    CHECK(sim_db_open(ok, &db, err, sizeof err) == 0);
    const char *ins[] = {junk, foreign, future, missing};
    for (int i = 0; i < 4; i++) {
        CHECK(sim_db_merge(db, &ins[i], 1, NULL, err, sizeof err) == -1);
        CHECK(contains(err, ins[i]));
        printf("merge: %s\n", err);
    }
    /* still usable after the failures */
    CHECK(sim_db_merge(db, ins, 0, NULL, err, sizeof err) == 0);
    sim_db_close(db);
    sim_db_close(NULL);
    CHECK_EQ(write_runs(ok, 4, 1, 0, "after"), 4);
    /* the junk file is untouched */
    struct stat sb;
    CHECK(stat(junk, &sb) == 0 && sb.st_size == 200 * 36);
}

/* A copy of the shard at src, named name in dir, changed by sql (run with
 * writable_schema on, so that a schema can be damaged). */
static const char *hostile_copy(const char *src, const char *name, const char *sql)
{
    static char paths[8][512];
    static size_t n;
    char *path = paths[n++ % 8];
    simtest_path(path, sizeof paths[0], dir, name);
    sqlite3 *h;
    CHECK(sqlite3_open(src, &h) == SQLITE_OK);
    char *vac = sqlite3_mprintf("VACUUM INTO %Q", path);
    CHECK(vac != NULL && sqlite3_exec(h, vac, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_free(vac);
    sqlite3_close(h);
    CHECK(sqlite3_open(path, &h) == SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(h, sql, NULL, NULL, &msg) != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", name, msg);
    CHECK(msg == NULL);
    sqlite3_free(msg);
    sqlite3_close(h);
    return path;
}

/* An input is data: a shard whose metrics table was swapped for a view that
 * never ends (a recursive CTE), a virtual table, a generated column (an
 * expression run on every read), a trigger, a missing column, or a damaged
 * schema is refused before any of its rows is read, quickly, with a message
 * naming the input and this program's table or column, never the input's
 * own words. */
static void test_hostile_merge(void)
{
    char src[512], out[512];
    simtest_path(src, sizeof src, dir, "shard1.db");
    simtest_path(out, sizeof out, dir, "hostile-out.db");
    const struct {
        const char *name, *sql, *want;
    } rows[] = {
        {"view.db",
         /* every column of metrics, each row repeated for ever: it ran for ever */
         "ALTER TABLE metrics RENAME TO m0; CREATE VIEW metrics AS WITH RECURSIVE "
         "c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT m0.* FROM c, m0",
         "expected a table metrics (a plain table"},
        {"trigger.db", "CREATE TRIGGER t AFTER INSERT ON runs BEGIN SELECT 1; END", "has triggers"},
        {"virtual.db",
         "DROP TABLE event_counts; CREATE VIRTUAL TABLE event_counts USING "
         "fts5(run_id, name, occurrences, total_s)",
         "expected a table event_counts (a plain table"},
        {"generated.db",
         "ALTER TABLE metrics ADD COLUMN SECRET_g GENERATED ALWAYS AS (zeroblob(1000)) VIRTUAL",
         "expected plain columns in table metrics, found a generated one"},
        {"column.db", "ALTER TABLE flow_results DROP COLUMN rto_count",
         "expected a column rto_count in table flow_results"},
        {"damaged.db",
         "PRAGMA writable_schema = ON; UPDATE sqlite_master SET name = 'SECRET_x', sql = "
         "'CREATE INDEX SECRET_x ON (' WHERE name = 'runs_campaign'",
         ": cannot open (database disk image is malformed)"},
    };
    struct sim_db *db;
    CHECK(sim_db_open(out, &db, err, sizeof err) == 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const char *in = hostile_copy(src, rows[i].name, rows[i].sql);
        const char *ins[] = {in};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        CHECK(sim_db_merge(db, ins, 1, NULL, err, sizeof err) == -1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        bool ok = strncmp(err, in, strlen(in)) == 0 && contains(err, rows[i].want) &&
                  !contains(err, "SECRET");
        if (!ok)
            fprintf(stderr, "hostile merge %s: got \"%s\", want \"%s\"\n", rows[i].name, err,
                    rows[i].want);
        CHECK(ok);
        CHECK(s < 5);
        printf("hostile merge: %s (%.3f s)\n", err, s);
    }
    sim_db_close(db);
    sqlite3 *h;
    CHECK(sqlite3_open(out, &h) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM runs"), 0);
    sqlite3_close(h);
    /* the connection is as it was: a good shard still merges after them */
    CHECK(sim_db_open(out, &db, err, sizeof err) == 0);
    const char *good[] = {src};
    CHECK(sim_db_merge(db, good, 1, NULL, err, sizeof err) == 0);
    sim_db_close(db);
}

int main(void)
{
    if (simtest_mkdtemp(dir, sizeof dir, "test_db") != 0) {
        perror(dir);
        return 1;
    }
    test_insert();
    test_kill();
    test_merge();
    test_refuse();
    test_hostile_merge();
    if (simtest_rmtree(dir) != 0)
        perror(dir);
    return check_exit("test_db");
}
