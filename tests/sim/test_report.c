/*
 * test_report.c: the statistics of `triglav-sim report` and the errors of
 * `triglav-sim query`, on a small results database built by hand (real
 * schema, chosen metric values), checked against values computed by hand:
 *
 *   goodput, scenario alpha, iterations 0..4 (seeds 100..104):
 *     adaptive            1    2    3    4    5     mean 3, sd 1.5811
 *     redundant           2    3.2  3.8  5.1  5.9   = adaptive + (1, 1.2, 0.8, 1.1, 0.9)
 *     lowest_latency      1.5  1.5  4    3    5     = adaptive + (0.5, -0.5, 1, -1, 0)
 *     weighted_round_robin 0.5 (iteration 0 only)
 *
 *   t(0.975, 4) = 2.776445; half-width of adaptive's CI = 2.776445 * 1.581139 / sqrt(5)
 *   = 1.963243; p50 = 3, p95 = 4.8, p99 = 4.96 (linear interpolation).
 *   redundant: mean 4, sd 1.541104, half-width 1.913527.
 *   redundant - adaptive: mean 1, sd 0.158114, half-width 0.196324 -> better.
 *   lowest_latency - adaptive: mean 0 -> not distinguishable.
 *   lowest_latency - redundant: (-0.5, -1.7, 0.2, -2.1, -0.9), mean -1, sd 0.921954,
 *   half-width 1.144758: CI [-2.1448, 0.1448] includes 0 -> tier 1 with redundant;
 *   adaptive - redundant: CI [-1.196, -0.804] -> tier 2; weighted_round_robin has one
 *   pair -> cannot be told apart -> tier 1.
 *
 * Usage: test_report PATH/TO/triglav-sim
 */
#define _XOPEN_SOURCE 700

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/dataset.h"
#include "analysis/dbread.h"
#include "analysis/query.h"
#include "analysis/report.h"
#include "analysis/stats.h"
#include "check.h"
#include "sim/db.h"
#include "simtest.h"

static char dir[512];
static const char *prog;

#define CHECK_NEAR(a, b, tol)                                                                \
    do {                                                                                     \
        double check_x_ = (a), check_y_ = (b);                                               \
        check_count++;                                                                       \
        if (!(fabs(check_x_ - check_y_) <= (tol))) {                                         \
            check_failures++;                                                                \
            fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s == %s (%.9g != %.9g)\n", __FILE__, \
                    __LINE__, #a, #b, check_x_, check_y_);                                   \
        }                                                                                    \
    } while (0)

/* ------------------------------------------------------------ the database */

struct row {
    const char *scenario, *hash, *strategy;
    int iteration;
    double goodput;
    double failover_ms; /* NaN: NULL */
};

static const struct row rows[] = {
    {"alpha", "aaaaaaaa00000001", "adaptive", 0, 1.0, 100},
    {"alpha", "aaaaaaaa00000001", "adaptive", 1, 2.0, NAN},
    {"alpha", "aaaaaaaa00000001", "adaptive", 2, 3.0, 300},
    {"alpha", "aaaaaaaa00000001", "adaptive", 3, 4.0, NAN},
    {"alpha", "aaaaaaaa00000001", "adaptive", 4, 5.0, 500},
    {"alpha", "aaaaaaaa00000001", "redundant", 0, 2.0, 50},
    {"alpha", "aaaaaaaa00000001", "redundant", 1, 3.2, NAN},
    {"alpha", "aaaaaaaa00000001", "redundant", 2, 3.8, 100},
    {"alpha", "aaaaaaaa00000001", "redundant", 3, 5.1, NAN},
    {"alpha", "aaaaaaaa00000001", "redundant", 4, 5.9, 200},
    {"alpha", "aaaaaaaa00000001", "lowest_latency", 0, 1.5, NAN},
    {"alpha", "aaaaaaaa00000001", "lowest_latency", 1, 1.5, NAN},
    {"alpha", "aaaaaaaa00000001", "lowest_latency", 2, 4.0, NAN},
    {"alpha", "aaaaaaaa00000001", "lowest_latency", 3, 3.0, NAN},
    {"alpha", "aaaaaaaa00000001", "lowest_latency", 4, 5.0, NAN},
    {"alpha", "aaaaaaaa00000001", "weighted_round_robin", 0, 0.5, NAN},
    /* the same name with other content: another experiment */
    {"alpha", "bbbbbbbb00000002", "adaptive", 0, 7.0, NAN},
};
#define N_ROWS (sizeof rows / sizeof rows[0])

static int exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "%s: %s\n", sql, msg);
    sqlite3_free(msg);
    return rc;
}

/* The schema through the simulator's own open (so it is the real one),
 * then rows written with plain SQL. */
static int make_db(const char *path)
{
    struct sim_db *sdb;
    char err[512];
    if (sim_db_open(path, &sdb, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    sim_db_close(sdb);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    int rc = exec(db, "BEGIN; INSERT INTO campaigns (key, planned_runs, version, command) "
                      "VALUES ('00000000000000c1', 17, '0.1.0 (test)', 'handmade');"
                      "INSERT INTO campaign_scenarios VALUES (1, 0, 'alpha', 'alpha.scn', "
                      "'aaaaaaaa00000001', 'adaptive', 'adaptive', 5, 7)");
    sqlite3_stmt *run = NULL, *met = NULL;
    rc |= sqlite3_prepare_v2(db,
                             "INSERT INTO runs (campaign_id, scenario, scenario_file, "
                             "scenario_hash, strategy, aggregation, iteration, seed, version, "
                             "duration_s, wall_s, sim_events) VALUES (1, ?, 'alpha.scn', ?, ?, "
                             "'adaptive', ?, ?, '0.1.0 (test)', 60, 1, 1000)",
                             -1, &run, NULL);
    rc |= sqlite3_prepare_v2(db,
                             "INSERT INTO metrics (run_id, goodput_mbps, owd_p50_ms, owd_p95_ms, "
                             "failover_max_ms) VALUES (?, ?, 20, 80, ?)",
                             -1, &met, NULL);
    for (size_t i = 0; rc == SQLITE_OK && i < N_ROWS; i++) {
        sqlite3_bind_text(run, 1, rows[i].scenario, -1, SQLITE_STATIC);
        sqlite3_bind_text(run, 2, rows[i].hash, -1, SQLITE_STATIC);
        sqlite3_bind_text(run, 3, rows[i].strategy, -1, SQLITE_STATIC);
        sqlite3_bind_int(run, 4, rows[i].iteration);
        sqlite3_bind_int(run, 5, 100 + rows[i].iteration);
        rc |= sqlite3_step(run) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(run);
        sqlite3_bind_int64(met, 1, sqlite3_last_insert_rowid(db));
        sqlite3_bind_double(met, 2, rows[i].goodput);
        if (isnan(rows[i].failover_ms))
            sqlite3_bind_null(met, 3);
        else
            sqlite3_bind_double(met, 3, rows[i].failover_ms);
        rc |= sqlite3_step(met) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(met);
    }
    sqlite3_finalize(run);
    sqlite3_finalize(met);
    rc |= exec(db, "INSERT INTO uplink_results (run_id, uplink, name, delivered_up_bytes, "
                   "delivered_down_bytes) VALUES (1, 0, 'wifi', 1000000, 3000000), "
                   "(1, 1, 'lte', 0, 1000000); COMMIT");
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

/* ------------------------------------------------------------ statistics */

static void test_stats(void)
{
    CHECK_NEAR(an_t_quantile(0.975, 4), 2.776445, 1e-6);
    CHECK_NEAR(an_t_quantile(0.975, 1), 12.706205, 1e-6);
    double x[] = {5, 3, NAN, 1, 4, 2};
    struct an_summary s;
    an_summarize(x, 6, &s);
    CHECK_EQ(s.n, 5);
    CHECK_NEAR(s.mean, 3.0, 1e-12);
    CHECK_NEAR(s.sd, 1.5811388, 1e-6);
    CHECK_NEAR(s.ci_half, 1.9632432, 1e-6);
    CHECK_NEAR(s.p50, 3.0, 1e-12);
    CHECK_NEAR(s.p95, 4.8, 1e-12);
    CHECK_NEAR(s.p99, 4.96, 1e-12);
    CHECK(!an_ci_includes_zero(&s));

    double one[] = {2.5};
    an_summarize(one, 1, &s);
    CHECK_EQ(s.n, 1);
    CHECK_NEAR(s.mean, 2.5, 0);
    CHECK(isnan(s.ci_half));
    CHECK(an_ci_includes_zero(&s)); /* one value tells nothing apart */
    an_summarize(NULL, 0, &s);
    CHECK_EQ(s.n, 0);
    CHECK(isnan(s.mean));

    double a[] = {2, 3.2, 3.8, 5.1, 5.9}, b[] = {1, 2, 3, 4, 5}, tmp[5];
    an_summarize_diff(a, b, 5, tmp, &s);
    CHECK_NEAR(s.mean, 1.0, 1e-12);
    CHECK_NEAR(s.ci_half, 0.1963243, 1e-6);
}

static long group(const struct an_dataset *ds, size_t sc, const char *strategy)
{
    return an_dataset_group(ds, sc, strategy, "adaptive");
}

static void test_dataset(const char *db)
{
    const char *metrics[] = {"goodput_mbps", "failover_max_ms"};
    struct an_dataset *ds = NULL;
    char err[512] = "";
    CHECK(an_dataset_load(db, metrics, 2, &ds, err, sizeof err) == 0);
    if (ds == NULL) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ(ds->n_runs, N_ROWS);
    CHECK_EQ(ds->n_scenarios, 2);
    CHECK_EQ(ds->n_groups, 5);
    CHECK(strcmp(ds->scenarios[0].label, "alpha@aaaaaaaa") == 0);
    CHECK(strcmp(ds->scenarios[1].label, "alpha@bbbbbbbb") == 0);

    long ad = group(ds, 0, "adaptive"), re = group(ds, 0, "redundant");
    long ll = group(ds, 0, "lowest_latency"), wr = group(ds, 0, "weighted_round_robin");
    CHECK(ad >= 0 && re >= 0 && ll >= 0 && wr >= 0);
    CHECK(group(ds, 1, "redundant") < 0);
    if (ad < 0 || re < 0 || ll < 0 || wr < 0)
        goto out;

    struct an_summary s;
    an_group_summary(ds, (size_t)ad, 0, &s);
    CHECK_EQ(s.n, 5);
    CHECK_NEAR(s.mean, 3.0, 1e-12);
    CHECK_NEAR(s.ci_half, 1.9632432, 1e-6);
    CHECK_NEAR(s.p50, 3.0, 1e-12);
    CHECK_NEAR(s.p95, 4.8, 1e-12);
    CHECK_NEAR(s.p99, 4.96, 1e-12);
    /* NULL failover times are left out: 100, 300, 500 */
    an_group_summary(ds, (size_t)ad, 1, &s);
    CHECK_EQ(s.n, 3);
    CHECK_NEAR(s.mean, 300.0, 1e-9);
    CHECK_NEAR(s.ci_half, 4.302653 * 200.0 / sqrt(3.0), 1e-4);

    /* paired, by (iteration, seed) */
    an_group_diff(ds, (size_t)re, (size_t)ad, 0, &s);
    CHECK_EQ(s.n, 5);
    CHECK_NEAR(s.mean, 1.0, 1e-12);
    CHECK_NEAR(s.sd, 0.1581139, 1e-6);
    CHECK_NEAR(s.ci_half, 0.1963243, 1e-6);
    CHECK(!an_ci_includes_zero(&s));
    an_group_diff(ds, (size_t)ll, (size_t)ad, 0, &s);
    CHECK_NEAR(s.mean, 0.0, 1e-12);
    CHECK(an_ci_includes_zero(&s));
    an_group_diff(ds, (size_t)wr, (size_t)ad, 0, &s);
    CHECK_EQ(s.n, 1); /* only iteration 0 pairs */
    CHECK_NEAR(s.mean, -0.5, 1e-12);
    /* pairs with a NULL side are left out: iterations 0, 2, 4 */
    an_group_diff(ds, (size_t)re, (size_t)ad, 1, &s);
    CHECK_EQ(s.n, 3);
    CHECK_NEAR(s.mean, (-50.0 - 200.0 - 300.0) / 3.0, 1e-9);

    /* ranking: tier 1 redundant, lowest_latency, weighted_round_robin
     * (one pair), tier 2 adaptive */
    struct an_rank r[8];
    size_t n = an_rank_scenario(ds, 0, 0, r);
    CHECK_EQ(n, 4);
    static const struct {
        const char *strategy;
        size_t tier;
        double vs_best, vs_best_half;
    } want[] = {
        {"redundant", 1, 0.0, 0.0},
        {"lowest_latency", 1, -1.0, 1.1447576},
        {"weighted_round_robin", 1, -1.5, NAN},
        {"adaptive", 2, -1.0, 0.1963243},
    };
    for (size_t i = 0; i < n && i < 4; i++) {
        const struct an_group *g = &ds->groups[r[i].group];
        CHECK(strcmp(g->strategy, want[i].strategy) == 0);
        CHECK_EQ(r[i].tier, want[i].tier);
        CHECK_NEAR(r[i].vs_best.mean, want[i].vs_best, 1e-9);
        if (isnan(want[i].vs_best_half))
            CHECK(isnan(r[i].vs_best.ci_half));
        else
            CHECK_NEAR(r[i].vs_best.ci_half, want[i].vs_best_half, 1e-6);
    }
    /* lower is better for failover times: redundant (116.7) leads */
    n = an_rank_scenario(ds, 0, 1, r);
    CHECK_EQ(n, 2); /* groups without a value are not ranked */
    CHECK(n > 0 && strcmp(ds->groups[r[0].group].strategy, "redundant") == 0);
out:
    an_dataset_free(ds);

    /* errors */
    CHECK(an_dataset_load("/nonexistent/x.db", metrics, 2, &ds, err, sizeof err) < 0);
    CHECK(strstr(err, "No such file") != NULL);
    const char *bad[] = {"goodput_mbps; DROP TABLE runs"};
    CHECK(an_dataset_load(db, bad, 1, &ds, err, sizeof err) < 0);
    CHECK(strstr(err, "unknown metric") != NULL);
}

/* ------------------------------------------------------------ query */

static void test_query_api(const char *path)
{
    sqlite3 *db;
    char err[512] = "";
    CHECK(an_db_open(path, &db, err, sizeof err) == 0);
    FILE *f = tmpfile();
    CHECK(an_query_run(db, "SELEC strategy FROM runs", NULL, f, err, sizeof err) == -1);
    CHECK(strstr(err, "near \"SELEC\": syntax error") != NULL);
    CHECK(an_query_run(db, "SELECT nope FROM runs", NULL, f, err, sizeof err) == -1);
    CHECK(strstr(err, "no such column: nope") != NULL);
    CHECK(an_query_run(db, "-- nothing", NULL, f, err, sizeof err) == -1);
    /* read-only: results cannot be changed by a query */
    CHECK(an_query_run(db, "DELETE FROM runs", NULL, f, err, sizeof err) == -1);
    CHECK(strstr(err, "readonly") != NULL);
    struct an_param p = {"s", "redundant"};
    struct an_query_opts o = {.csv = true, .params = &p, .n_params = 1};
    rewind(f);
    CHECK(an_query_run(db,
                       "SELECT strategy, count(*) AS n, avg(goodput_mbps) AS g FROM run_summary "
                       "WHERE strategy = :s GROUP BY strategy",
                       &o, f, err, sizeof err) == 1);
    fflush(f);
    rewind(f);
    char buf[256] = "";
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    buf[got] = '\0';
    CHECK(strcmp(buf, "strategy,n,g\r\nredundant,5,4\r\n") == 0);
    fclose(f);
    sqlite3_close(db);
}

/* Run prog with args, stdout and stderr into dir/out and dir/err; with
 * TG_GNUPLOT set to gnuplot when not NULL. Returns the exit status. */
static int run(const char *const *args, const char *gnuplot)
{
    char out[600], errp[600];
    simtest_path(out, sizeof out, dir, "out");
    simtest_path(errp, sizeof errp, dir, "err");
    const char *const env[] = {"TG_GNUPLOT", gnuplot, NULL};
    return simtest_wait(simtest_start(prog, args, out, errp, gnuplot != NULL ? env : NULL));
}

static char *slurp(const char *path)
{
    static char buf[1 << 17];
    return simtest_read(path, buf, sizeof buf);
}

static char *slurp_in(const char *name)
{
    char p[600];
    simtest_path(p, sizeof p, dir, name);
    return slurp(p);
}

static void test_query_program(const char *db)
{
    CHECK_EQ(run((const char *[]){"query", db, "SELEC * FROM runs", NULL}, NULL), 1);
    CHECK(strstr(slurp_in("err"), "near \"SELEC\": syntax error") != NULL);
    CHECK_EQ(run((const char *[]){"query", "/nonexistent/x.db", "SELECT 1", NULL}, NULL), 1);
    CHECK(strstr(slurp_in("err"), "/nonexistent/x.db: No such file or directory") != NULL);
    CHECK_EQ(run((const char *[]){"query", db, NULL}, NULL), 2);
    CHECK_EQ(run((const char *[]){"query", db, "--saved", "no_such_query", NULL}, NULL), 1);
    CHECK(strstr(slurp_in("err"), "no saved query 'no_such_query'") != NULL);
    /* strategy_summary groups by scenario name: alpha's two contents together */
    CHECK_EQ(run((const char *[]){"query", db,
                                  "SELECT strategy, runs FROM strategy_summary ORDER BY 1", NULL},
                 NULL),
             0);
    CHECK(strstr(slurp_in("out"), "strategy              runs\n"
                                  "--------------------  ----\n"
                                  "adaptive                 6\n") != NULL);
    CHECK(strstr(slurp_in("out"), "(4 rows)") != NULL);
    /* every saved query runs on a database of the real schema */
    CHECK_EQ(run((const char *[]){"query", "--list", NULL}, NULL), 0);
    char list[8192];
    snprintf(list, sizeof list, "%s", slurp_in("out"));
    size_t saved = 0;
    for (char *save = NULL, *line = strtok_r(list, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        char name[128];
        if (sscanf(line, "%127s", name) != 1)
            continue;
        saved++;
        int rc = run((const char *[]){"query", db, "--saved", name, NULL}, NULL);
        if (rc != 0)
            fprintf(stderr, "saved query %s: %s", name, slurp_in("err"));
        CHECK_EQ(rc, 0);
    }
    CHECK(saved >= 5);
}

/* ------------------------------------------------------------ report */

static void test_report(const char *db)
{
    char out[600], md[700];
    simtest_path(out, sizeof out, dir, "report");
    simtest_path(md, sizeof md, out, "report.md");
    /* without gnuplot: the tables and the note */
    CHECK_EQ(run((const char *[]){"report", db, "--out", out, NULL}, "none"), 0);
    const char *r = slurp(md);
    CHECK(strstr(r, "Plots were skipped") != NULL);
    CHECK(strstr(r, "TG_GNUPLOT=none") != NULL);
    CHECK(strstr(r, ".svg") == NULL);
    CHECK(strstr(r, "| goodput_mbps | adaptive | adaptive | 5 | 3.00 | [1.04, 4.96] | 3.00 | 4.80 | "
                    "4.96 |") != NULL);
    CHECK(strstr(r, "| 1 | redundant | adaptive | 5 | 4.00 ± 1.91 | best |") != NULL);
    CHECK(strstr(r, "| 2 | adaptive | adaptive | 5 | 3.00 ± 1.96 | -1.00 | [-1.20, -0.804] |") !=
          NULL);
    CHECK(strstr(r, "| goodput_mbps | redundant | adaptive | 5 | 3.00 | 1.00 | +33.3% | "
                    "[0.804, 1.20] | **better** |") != NULL);
    CHECK(strstr(r, "| goodput_mbps | lowest_latency | adaptive | 5 | 3.00 | 0 | +0.0% | ") != NULL);
    CHECK(strstr(r, "not distinguishable") != NULL);
    CHECK(strstr(r, "alpha@bbbbbbbb") != NULL);
    CHECK(strstr(r, "| **1** | adaptive | adaptive | wifi | 3.00 | 1.00 | 80% |") != NULL);

    /* the same through the API, forced off by the option */
    const char *metrics[] = {"goodput_mbps"};
    struct an_report_opts o = {.db_path = db, .out_dir = out, .baseline = "adaptive",
                               .metrics = metrics, .n_metrics = 1, .gnuplot = "none"};
    struct an_report_result res;
    char err[512];
    CHECK(an_report_write(&o, &res, err, sizeof err) == 0);
    CHECK(res.plots_skipped);
    CHECK_EQ(res.plots, 0);
    CHECK_EQ(res.runs, N_ROWS);
    o.gnuplot = "/nonexistent/gnuplot";
    CHECK(an_report_write(&o, &res, err, sizeof err) == 0);
    CHECK(strstr(slurp(md), "gnuplot was not found at /nonexistent/gnuplot") != NULL);
    o.run_id = 999;
    CHECK(an_report_write(&o, &res, err, sizeof err) < 0);
    CHECK(strstr(err, "--run 999: no such run") != NULL);

    /* bad usage and bad input */
    CHECK_EQ(run((const char *[]){"report", db, "--metric", "nope", NULL}, "none"), 2);
    CHECK(strstr(slurp_in("err"), "unknown metric 'nope'") != NULL);
    CHECK_EQ(run((const char *[]){"report", db, "--out", out, "--baseline", "nope", NULL},
                 "none"),
             1);
    CHECK(strstr(slurp_in("err"), "--baseline nope: no run of that strategy") != NULL);
    CHECK_EQ(run((const char *[]){"report", "/nonexistent/x.db", NULL}, "none"), 1);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s PATH/TO/triglav-sim\n", argv[0]);
        return 2;
    }
    prog = argv[1];
    if (simtest_mkdtemp(dir, sizeof dir, "test_report") != 0) {
        perror("mkdtemp");
        return 1;
    }
    char db[600];
    simtest_path(db, sizeof db, dir, "hand.db");
    if (make_db(db) != 0) {
        fprintf(stderr, "could not build the test database\n");
        return 1;
    }
    test_stats();
    test_dataset(db);
    test_query_api(db);
    test_query_program(db);
    test_report(db);
    if (check_failures == 0 && simtest_rmtree(dir) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return check_exit("test_report");
}
