/*
 * test_instrument.c: the simulator as an instrument, through the program:
 *
 *  - `run --series-interval 200` stores one sample per 200 ms of simulated
 *    time per uplink and for the tunnel, at exactly those times, and the
 *    per-interval rates add up to what the run's totals say (each uplink's
 *    delivered bytes, each flow's delivered bytes) within 1%;
 *  - `run --sweep uplink.a.rate=4Mbit,16Mbit` stores two groups of paired
 *    runs (same seeds), each run with its key and value, and the faster
 *    value has the higher goodput; `--sweep uplinks=1,3` changes the number
 *    of uplinks;
 *  - `report --series` and `report --sweep` print them;
 *  - bad sweep keys and values, and series of runs that have none, are
 *    refused with a message naming what was wrong;
 *  - a version 2 database is upgraded, and `merge` carries series and sweeps.
 *
 * Usage: test_instrument PATH/TO/triglav-sim
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

#include "check.h"
#include "sim/db.h"
#include "simtest.h"

static const char *prog;
static char dir[256];
static char out_path[600], err_path[600];
static char text[1 << 16];

static const char scenario_text[] = "[scenario]\n"
                                    "name = \"instrument-test\"\n"
                                    "description = \"test_instrument: two uplinks\"\n"
                                    "duration = 4s\n"
                                    "iterations = 2\n"
                                    "strategies = [\"adaptive\"]\n"
                                    "aggregation = [\"full\"]\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"a\"\n"
                                    "rate = 8Mbit\n"
                                    "delay = 10ms\n"
                                    "jitter = 1ms   # a comment stays\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"b\"\n"
                                    "rate = 4Mbit\n"
                                    "delay = 20ms\n"
                                    "\n"
                                    "[[traffic]]\n"
                                    "kind = \"tcp\"\n";

static int run(const char *const *args)
{
    int rc = simtest_wait_for(simtest_start(prog, args, out_path, err_path, NULL), 120);
    simtest_read(out_path, text, sizeof text);
    return rc;
}

static const char *err_text(void)
{
    static char e[8192];
    return simtest_read(err_path, e, sizeof e);
}

static double db_real(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    double v = NAN;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
        return NAN;
    }
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* |a - b| <= tol * |b| */
static int near(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fabs(b);
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: test_instrument PATH/TO/triglav-sim\n");
        return 77;
    }
    prog = argv[1];
    if (simtest_mkdtemp(dir, sizeof dir, "test_instrument") != 0) {
        perror(dir);
        return 1;
    }
    char scn[512], sdb[512], wdb[512], udb[512], v2db[512], mdb[512], bad[512];
    simtest_path(out_path, sizeof out_path, dir, "stdout");
    simtest_path(err_path, sizeof err_path, dir, "stderr");
    simtest_path(scn, sizeof scn, dir, "instrument.scn");
    simtest_path(sdb, sizeof sdb, dir, "series.db");
    simtest_path(wdb, sizeof wdb, dir, "sweep.db");
    simtest_path(udb, sizeof udb, dir, "uplinks.db");
    simtest_path(v2db, sizeof v2db, dir, "v2.db");
    simtest_path(mdb, sizeof mdb, dir, "merged.db");
    simtest_path(bad, sizeof bad, dir, "bad.db");
    CHECK(simtest_write(scn, scenario_text) == 0);

    /* ---- time series at 200 ms */
    CHECK_EQ(run((const char *[]){"run", scn, "--iterations", "1", "--series-interval", "200",
                                  "--db", sdb, "-j", "1", NULL}),
             0);
    sqlite3 *h;
    CHECK(sqlite3_open(sdb, &h) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "PRAGMA user_version"), SIM_DB_SCHEMA_VERSION);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_tunnel"), 20);
    CHECK_EQ(simtest_db_int(h, "SELECT count(DISTINCT t_ms) FROM series_uplinks"), 20);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_uplinks"), 40);
    CHECK_EQ(simtest_db_int(h, "SELECT min(t_ms) FROM series_tunnel"), 200);
    CHECK_EQ(simtest_db_int(h, "SELECT max(t_ms) FROM series_tunnel"), 4000);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_tunnel WHERE "
                               "abs(t_ms / 200.0 - round(t_ms / 200.0)) > 1e-9"),
             0);
    /* every flow sample after the tunnel came up; a TCP flow has a window */
    int64_t flow_rows = simtest_db_int(h, "SELECT count(*) FROM series_flows");
    CHECK(flow_rows >= 18 && flow_rows <= 20);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_flows WHERE cwnd_bytes > 0"),
             flow_rows);
    /* the rates over the intervals add up to the run's totals */
    double link_bytes = db_real(h, "SELECT sum(delivered_down_bytes) FROM uplink_results");
    double series_link = db_real(h, "SELECT sum(down_mbps) * 0.2 * 1e6 / 8 FROM series_uplinks");
    CHECK(link_bytes > 1e6);
    CHECK(near(series_link, link_bytes, 0.01));
    for (int u = 0; u < 2; u++) {
        char q1[256], q2[256];
        snprintf(q1, sizeof q1, "SELECT delivered_up_bytes FROM uplink_results WHERE uplink = %d", u);
        snprintf(q2, sizeof q2, "SELECT sum(up_mbps) * 0.2 * 1e6 / 8 FROM series_uplinks WHERE "
                 "uplink = %d", u);
        CHECK(near(db_real(h, q2), db_real(h, q1), 0.01));
    }
    double flow_bytes = db_real(h, "SELECT sum(delivered_bytes) FROM flow_results");
    double series_flow = db_real(h, "SELECT sum(goodput_mbps) * 0.2 * 1e6 / 8 FROM series_flows");
    CHECK(flow_bytes > 1e6);
    CHECK(near(series_flow, flow_bytes, 0.01));
    /* shares of one direction add up to 1 where anything was sent */
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM (SELECT t_ms, sum(share_down) AS s FROM "
                               "series_uplinks GROUP BY t_ms HAVING s IS NOT NULL AND "
                               "abs(s - 1) > 1e-9)"),
             0);
    /* the cores' estimates and the links' queues are there once traffic flows */
    CHECK(simtest_db_int(h, "SELECT count(*) FROM series_uplinks WHERE rate_est_down_mbps > 0") > 0);
    CHECK(simtest_db_int(h, "SELECT count(owd_down_ms) FROM series_uplinks") > 0);
    CHECK(simtest_db_int(h, "SELECT max(queue_down_bytes) FROM series_uplinks") > 0);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_uplinks WHERE health IS NULL"), 0);
    sqlite3_close(h);

    CHECK_EQ(run((const char *[]){"report", sdb, "--series", "1", NULL}), 0);
    CHECK(strstr(text, "throughput (Mbit/s)") != NULL);
    CHECK(strstr(text, "a down") != NULL && strstr(text, "b down") != NULL);
    CHECK(strstr(text, "flow 0 (tcp cubic down) goodput") != NULL);
    CHECK(strstr(text, "time (s)") != NULL);
    CHECK_EQ(run((const char *[]){"report", sdb, "--series", "1", "--metric", "cwnd", NULL}), 0);
    CHECK(strstr(text, "cwnd (bytes)") != NULL);
    CHECK_EQ(run((const char *[]){"report", sdb, "--series", "1", "--metric", "speed", NULL}), 2);
    CHECK(strstr(err_text(), "'speed' is not a series metric") != NULL);
    CHECK_EQ(run((const char *[]){"report", sdb, "--series", "99", NULL}), 1);
    CHECK(strstr(err_text(), "no run 99") != NULL);
    CHECK_EQ(run((const char *[]){"report", sdb, "--sweep", NULL}), 1);
    CHECK(strstr(err_text(), "no swept runs") != NULL);

    /* ---- a sweep over one uplink's rate: two groups of paired runs */
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.a.rate=4Mbit,16Mbit", "--db",
                                  wdb, "-j", "2", NULL}),
             0);
    CHECK(sqlite3_open(wdb, &h) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM runs"), 4);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_tunnel"), 0); /* off by default */
    CHECK_EQ(simtest_db_int(h, "SELECT count(DISTINCT key) FROM sweeps"), 1);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM sweeps WHERE key = 'uplink.a.rate' AND "
                               "value = '4Mbit' AND position = 0"),
             2);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM sweeps WHERE value = '16Mbit' AND "
                               "position = 1"),
             2);
    CHECK_EQ(simtest_db_int(h, "SELECT count(DISTINCT r.scenario_hash) FROM runs r"), 2);
    CHECK_EQ(simtest_db_int(h, "SELECT count(DISTINCT seed) FROM runs"), 2); /* paired */
    CHECK_EQ(simtest_db_int(h, "SELECT count(DISTINCT scenario) FROM runs"), 1);
    double slow = db_real(h, "SELECT avg(m.goodput_mbps) FROM sweeps s JOIN metrics m USING "
                             "(run_id) WHERE s.position = 0");
    double fast = db_real(h, "SELECT avg(m.goodput_mbps) FROM sweeps s JOIN metrics m USING "
                             "(run_id) WHERE s.position = 1");
    CHECK(fast > slow * 1.3);
    /* the capacity the run measured is the swept one: 4 + 4 and 16 + 4 Mbit/s */
    CHECK(near(db_real(h, "SELECT avg(m.capacity_mbps) FROM sweeps s JOIN metrics m USING "
                          "(run_id) WHERE s.position = 0"),
               8, 0.01));
    CHECK(near(db_real(h, "SELECT avg(m.capacity_mbps) FROM sweeps s JOIN metrics m USING "
                          "(run_id) WHERE s.position = 1"),
               20, 0.01));
    sqlite3_close(h);
    CHECK_EQ(run((const char *[]){"report", wdb, "--sweep", "--metric", "goodput_mbps", NULL}), 0);
    CHECK(strstr(text, "against uplink.a.rate") != NULL);
    CHECK(strstr(text, "4Mbit") != NULL && strstr(text, "16Mbit") != NULL);
    CHECK(strstr(text, "adaptive") != NULL);
    CHECK(strstr(text, "(2)") != NULL); /* runs per cell */
    /* the Markdown report has a section for them */
    {
        char rep_dir[512], md[600];
        simtest_path(rep_dir, sizeof rep_dir, dir, "report");
        CHECK_EQ(run((const char *[]){"report", wdb, "--out", rep_dir, "--gnuplot", "none",
                                      NULL}),
                 0);
        snprintf(md, sizeof md, "%s/report.md", rep_dir);
        static char body[1 << 17];
        simtest_read(md, body, sizeof body);
        CHECK(strstr(body, "## Sweeps") != NULL);
        CHECK(strstr(body, "against uplink.a.rate") != NULL);
    }
    /* the saved query that reruns one run gives its value back */
    char param[64];
    CHECK(sqlite3_open(wdb, &h) == SQLITE_OK);
    snprintf(param, sizeof param, "run=%lld",
             (long long)simtest_db_int(h, "SELECT min(run_id) FROM sweeps WHERE position = 1"));
    sqlite3_close(h);
    CHECK_EQ(run((const char *[]){"query", wdb, "--saved", "reproduce", "--param", param, NULL}),
             0);
    CHECK(strstr(text, "--sweep 'uplink.a.rate=16Mbit'") != NULL);
    /* the same command again stores nothing new */
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.a.rate=4Mbit,16Mbit", "--db",
                                  wdb, "-j", "2", NULL}),
             0);
    CHECK(strstr(text, "0 new, 4 already stored") != NULL);

    /* ---- the number of uplinks */
    CHECK_EQ(run((const char *[]){"run", scn, "--iterations", "1", "--sweep", "uplinks=1,3",
                                  "--db", udb, "-j", "2", NULL}),
             0);
    CHECK(sqlite3_open(udb, &h) == SQLITE_OK);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM uplink_results u JOIN sweeps s USING "
                               "(run_id) WHERE s.value = '1'"),
             1);
    CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM uplink_results u JOIN sweeps s USING "
                               "(run_id) WHERE s.value = '3' AND u.name IN ('a', 'b', 'b_3')"),
             3);
    sqlite3_close(h);

    /* ---- bad sweeps: exit nonzero, the key named, nothing stored */
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "speed=1,2", "--db", bad, NULL}), 1);
    CHECK(strstr(err_text(), "--sweep speed") != NULL);
    CHECK(strstr(err_text(), "expected scenario.KEY, uplink.SEL.KEY") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.zz.rate=1Mbit", "--db", bad,
                                  NULL}),
             1);
    CHECK(strstr(err_text(), "no [[uplink]] named 'zz'") != NULL);
    CHECK(strstr(err_text(), "a, b") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.a.rate=fast,2Mbit", "--db", bad,
                                  NULL}),
             1);
    CHECK(strstr(err_text(), "--sweep uplink.a.rate=fast") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.a.rat=1Mbit", "--db", bad,
                                  NULL}),
             1);
    CHECK(strstr(err_text(), "uplink.a.rat=1Mbit") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplinks=0", "--db", bad, NULL}), 1);
    CHECK(strstr(err_text(), "from 1 to 8") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "uplink.a.rate=", "--db", bad, NULL}), 2);
    CHECK(strstr(err_text(), "--sweep uplink.a.rate") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--sweep", "rate", "--db", bad, NULL}), 2);
    CHECK(strstr(err_text(), "expected KEY=V1,V2") != NULL);
    CHECK_EQ(run((const char *[]){"run", scn, "--series-interval", "soon", "--db", bad, NULL}), 2);
    CHECK(strstr(err_text(), "--series-interval") != NULL);
    CHECK(access(bad, F_OK) != 0);

    /* ---- a version 2 database is upgraded; merge carries series and sweeps */
    {
        const char *v3 = strstr(sim_db_schema, "\n-- @version 3:");
        CHECK(v3 != NULL);
        char *v2 = strndup(sim_db_schema, v3 != NULL ? (size_t)(v3 - sim_db_schema) : 0);
        CHECK(sqlite3_open(v2db, &h) == SQLITE_OK);
        CHECK(sqlite3_exec(h, v2, NULL, NULL, NULL) == SQLITE_OK);
        CHECK(sqlite3_exec(h, "PRAGMA user_version = 2", NULL, NULL, NULL) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM sqlite_master WHERE name = 'sweeps'"), 0);
        sqlite3_close(h);
        free(v2);
        /* saved queries that read the sweeps table run on it (no rows, no error) */
        CHECK_EQ(run((const char *[]){"query", v2db, "--saved", "sweep", NULL}), 0);
        CHECK(strstr(text, "(0 rows)") != NULL);
        CHECK_EQ(run((const char *[]){"query", v2db, "--saved", "reproduce", NULL}), 0);
        /* a version 2 input merges (no series in it) */
        CHECK_EQ(run((const char *[]){"merge", mdb, v2db, NULL}), 0);
        CHECK_EQ(run((const char *[]){"merge", mdb, sdb, wdb, NULL}), 0);
        CHECK(sqlite3_open(mdb, &h) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_tunnel"), 20);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM sweeps"), 4);
        sqlite3_close(h);
        CHECK_EQ(run((const char *[]){"run", scn, "--iterations", "1", "--series", "--db", v2db,
                                      "-j", "1", NULL}),
                 0);
        CHECK(sqlite3_open(v2db, &h) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "PRAGMA user_version"), SIM_DB_SCHEMA_VERSION);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM series_tunnel"), 40); /* 100 ms */
        sqlite3_close(h);
    }

    if (check_failures == 0)
        simtest_rmtree(dir);
    return check_exit("test_instrument");
}
