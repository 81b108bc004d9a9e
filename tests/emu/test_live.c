/*
 * test_live: the testnet's side of the simulator, through the program (no
 * root, no network):
 *
 *  - `live plan` prints the scenario's name, hash, uplinks and flows, and the
 *    seed of an iteration is the one `run` stores for it;
 *  - `live record` stores a live run under that key, `live has` sees it, a
 *    second record of the key keeps the first unless --replace; measurements
 *    come from options or a --from file of "KEY VALUE" lines;
 *  - broken record lines are refused with exit 2 (options) or 1 (--from
 *    file, naming FILE:LINE without echoing it) and store nothing;
 *  - the web and probe tools refuse bad usage before opening a socket;
 *  - a version 3 database is upgraded to hold live runs; `merge` carries them;
 *  - `report --fidelity` pairs a live run with its simulated twin and prints
 *    live / sim per metric (checked against the stored values), lists a live
 *    run without a twin, and refuses a database without live runs.
 *
 * Usage: test_live PATH/TO/triglav-sim
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
#include "sim/simtest.h"

static const char *prog;
static char dir[256];
static char out_path[600], err_path[600];
static char text[1 << 16], etext[8192];

static const char scenario_text[] = "[scenario]\n"
                                    "name = \"live-test\"\n"
                                    "description = \"test_live: two uplinks, bulk and voice\"\n"
                                    "duration = 2s\n"
                                    "iterations = 2\n"
                                    "strategies = [\"adaptive\"]\n"
                                    "aggregation = [\"full\"]\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"a\"\n"
                                    "rate = 8Mbit\n"
                                    "delay = 10ms\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"b\"\n"
                                    "rate = 4Mbit\n"
                                    "delay = 20ms\n"
                                    "\n"
                                    "[[traffic]]\n"
                                    "kind = \"tcp\"\n"
                                    "\n"
                                    "[[traffic]]\n"
                                    "kind = \"voice\"\n"
                                    "direction = \"down\"\n";

static int run(const char *const *args)
{
    int rc = simtest_wait_for(simtest_start(prog, args, out_path, err_path, NULL), 120);
    simtest_read(out_path, text, sizeof text);
    simtest_read(err_path, etext, sizeof etext);
    return rc;
}

static double db_real(sqlite3 *h, const char *sql)
{
    sqlite3_stmt *st;
    double v = NAN;
    if (sqlite3_prepare_v2(h, sql, -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(h));
        return NAN;
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_double(st, 0);
    sqlite3_finalize(st);
    return v;
}

static long long live_rows(const char *db)
{
    sqlite3 *h;
    long long n = -1;
    if (sqlite3_open(db, &h) == SQLITE_OK)
        n = simtest_db_int(h, "SELECT count(*) FROM live_runs");
    sqlite3_close(h);
    return n;
}

/* The value after `key` on the first line of text that starts with it
 * (after spaces), or NAN. */
static double plan_value(const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n%s ", key);
    const char *p = strstr(text, pat);
    return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* In report --fidelity's text: the ratio on the pair line of metric m. */
static double ratio_of(const char *m)
{
    char pat[64];
    snprintf(pat, sizeof pat, "    %s ", m);
    const char *p = strstr(text, pat), *r = p ? strstr(p, "ratio ") : NULL;
    return r ? strtod(r + 6, NULL) : NAN;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_live PATH/TO/triglav-sim\n");
        return 2;
    }
    prog = argv[1];
    if (simtest_mkdtemp(dir, sizeof dir, "test_live") != 0)
        return 1;
    char scn[512], db[512], db2[512], mdb[512], v3db[512], from[512];
    simtest_path(scn, sizeof scn, dir, "live.scn");
    simtest_path(db, sizeof db, dir, "a.db");
    simtest_path(db2, sizeof db2, dir, "b.db");
    simtest_path(mdb, sizeof mdb, dir, "merged.db");
    simtest_path(v3db, sizeof v3db, dir, "v3.db");
    simtest_path(from, sizeof from, dir, "measured.txt");
    simtest_path(out_path, sizeof out_path, dir, "out.txt");
    simtest_path(err_path, sizeof err_path, dir, "err.txt");
    CHECK(simtest_write(scn, scenario_text) == 0);

    /* ---- plan: what the testnet plays, and the seed `run` stores */
    CHECK_EQ(run((const char *[]){"live", "plan", scn, "--iteration", "1", NULL}), 0);
    CHECK(strstr(text, "scenario live-test\n") != NULL);
    CHECK(strstr(text, "\nuplink 0 a\nuplink 1 b\n") != NULL);
    CHECK(strstr(text, "\nflow 0 tcp down cubic 1 0.000 - ") != NULL);
    CHECK(strstr(text, "\nflow 1 voice down - 1 0.000 - 0 50 160 0.000 2500000 1360\n") != NULL);
    CHECK(fabs(plan_value("duration_s") - 2.0) < 1e-9);
    char seed1[32] = "";
    const char *sp = strstr(text, "\nseed 0x");
    CHECK(sp != NULL);
    if (sp)
        sscanf(sp + 8, "%16s", seed1);
    CHECK_EQ(run((const char *[]){"run", scn, "--db", db, "-j", "1", NULL}), 0);
    sqlite3 *h;
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM runs WHERE iteration = 1 AND printf('%%016x', seed) = '%s'",
             seed1);
    CHECK_EQ(simtest_db_int(h, sql), 1);
    double sim_goodput = db_real(h, "SELECT sum(f.goodput_mbps) FROM flow_results f JOIN runs r "
                                    "ON r.id = f.run_id WHERE r.iteration = 0 AND f.kind = 'tcp'");
    double sim_p50 = db_real(h, "SELECT f.owd_p50_ms FROM flow_results f JOIN runs r ON "
                                "r.id = f.run_id WHERE r.iteration = 0 AND f.kind = 'voice'");
    double sim_loss = db_real(h, "SELECT f.loss FROM flow_results f JOIN runs r ON "
                                 "r.id = f.run_id WHERE r.iteration = 0 AND f.kind = 'voice'");
    sqlite3_close(h);
    CHECK(sim_goodput > 1 && sim_p50 > 10 && sim_loss >= 0 && sim_loss < 0.9);

    /* ---- has / record / has, keep, replace */
    const char *key[] = {"--db",       db,         "--scenario",    scn,
                         "--strategy", "adaptive", "--aggregation", "full"};
#define LIVE(verb, ...)                                                                            \
    run((const char *[]){"live", verb, key[0], key[1], key[2], key[3], key[4], key[5], key[6],     \
                         key[7], __VA_ARGS__, NULL})
    CHECK_EQ(LIVE("has", "--iteration", "0"), 0);
    CHECK(strcmp(text, "no\n") == 0);
    char goodput[32], p50[32];
    snprintf(goodput, sizeof goodput, "%.6f", sim_goodput * 0.9);
    snprintf(p50, sizeof p50, "%.6f", sim_p50 * 1.25);
    char loss[32];
    snprintf(loss, sizeof loss, "%.6f", sim_loss + 0.1);
    CHECK_EQ(LIVE("record", "--duration-s", "2", "--goodput-mbps", goodput, "--owd-p50-ms", p50,
                  "--loss", loss, "--method", "test"),
             0);
    CHECK(strstr(text, "stored") != NULL);
    CHECK_EQ(LIVE("has", "--iteration", "0"), 0);
    CHECK(strcmp(text, "yes\n") == 0);
    CHECK_EQ(LIVE("has", "--iteration", "1"), 0);
    CHECK(strcmp(text, "no\n") == 0);
    CHECK_EQ(LIVE("record", "--duration-s", "2", "--goodput-mbps", "1"), 0);
    CHECK(strstr(text, "already stored") != NULL);
    CHECK_EQ(live_rows(db), 1);
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    CHECK(fabs(db_real(h, "SELECT goodput_mbps FROM live_runs") - sim_goodput * 0.9) < 1e-5);
    CHECK(isnan(db_real(h, "SELECT owd_p95_ms FROM live_runs"))); /* not given: NULL */
    sqlite3_close(h);

    /* ---- broken record lines: refused, nothing stored */
    static const struct {
        const char *opt, *val, *says;
    } bad[] = {
        {"--goodput-mbps", "12x", "--goodput-mbps: expected a number"},
        {"--goodput-mbps", "-3", "--goodput-mbps: expected a number"},
        {"--goodput-mbps", "nan", "--goodput-mbps: expected a number"},
        {"--loss", "1.5", "--loss: expected a number from 0 to 1"},
        {"--owd-p95-ms", "", "--owd-p95-ms: expected a number"},
        {"--iteration", "-1", "--iteration: expected a whole number"},
        {"--bogus", "1", "unknown option '--bogus'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(LIVE("record", "--duration-s", "2", "--iteration", "1", bad[i].opt, bad[i].val),
                 2);
        if (strstr(etext, bad[i].says) == NULL)
            fprintf(stderr, "row %zu: stderr was: %s\n", i, etext);
        CHECK(strstr(etext, bad[i].says) != NULL);
    }
    CHECK_EQ(LIVE("record", "--iteration", "1", "--goodput-mbps", "3"), 2);
    CHECK(strstr(etext, "no --duration-s") != NULL);
    CHECK_EQ(LIVE("record", "--duration-s", "2", "--goodput-mbps", "3", "--goodput-mbps", "4"), 2);
    CHECK(strstr(etext, "given twice") != NULL);
    CHECK_EQ(run((const char *[]){"live", "record", "--db", db, "--scenario", scn, "--strategy",
                                  "fastest", "--aggregation", "full", "--duration-s", "1", NULL}),
             2);
    CHECK(strstr(etext, "no strategy 'fastest'") != NULL);
    char missing[600];
    simtest_path(missing, sizeof missing, dir, "nope.scn");
    CHECK_EQ(run((const char *[]){"live", "record", "--db", db, "--scenario", missing, "--strategy",
                                  "adaptive", "--aggregation", "full", "--duration-s", "1", NULL}),
             1);
    CHECK(strstr(etext, "nope.scn") != NULL);
    static const struct {
        const char *file, *says;
    } bad_from[] = {
        {"duration_s 2\ngoodput_mbps 3 4\n", ":2: goodput_mbps: expected 'KEY VALUE'"},
        {"duration_s 2\n\n# note\nsecret_token 3\n", ":4: unknown key"},
        {"loss 2\n", ":1: loss: expected 'KEY VALUE' with one number from 0 to 1"},
        {"duration_s 2\nduration_s 3\n", ":2: duration_s given twice"},
        {"goodput_mbps\n", ":1: goodput_mbps: expected"},
    };
    for (size_t i = 0; i < sizeof bad_from / sizeof bad_from[0]; i++) {
        CHECK(simtest_write(from, bad_from[i].file) == 0);
        CHECK_EQ(LIVE("record", "--iteration", "1", "--from", from), 1);
        if (strstr(etext, bad_from[i].says) == NULL)
            fprintf(stderr, "file row %zu: stderr was: %s\n", i, etext);
        CHECK(strstr(etext, bad_from[i].says) != NULL);
        CHECK(strstr(etext, "measured.txt") != NULL);
        CHECK(strstr(etext, "secret_token") == NULL); /* never echoes the file */
    }
    CHECK_EQ(LIVE("record", "--iteration", "1", "--from", "/dev/zero"), 1);
    CHECK(strstr(etext, "not a regular file") != NULL);
    CHECK_EQ(live_rows(db), 1);

    /* ---- --from and --replace */
    CHECK(simtest_write(from, "# iteration 1\nduration_s 2\ngoodput_mbps 5\nloss 0.01\n") == 0);
    CHECK_EQ(LIVE("record", "--iteration", "1", "--from", from), 0);
    CHECK_EQ(LIVE("record", "--iteration", "1", "--from", from, "--goodput-mbps", "6"), 1);
    CHECK(strstr(etext, "goodput_mbps given twice") != NULL);
    CHECK(simtest_write(from, "duration_s 2\n") == 0);
    CHECK_EQ(LIVE("record", "--iteration", "1", "--from", from, "--goodput-mbps", "6", "--replace"),
             0);
    CHECK_EQ(live_rows(db), 2);
    CHECK(sqlite3_open(db, &h) == SQLITE_OK);
    CHECK(fabs(db_real(h, "SELECT goodput_mbps FROM live_runs WHERE iteration = 1") - 6) < 1e-9);
    CHECK(isnan(db_real(h, "SELECT loss FROM live_runs WHERE iteration = 1")));
    sqlite3_close(h);

    /* ---- report --fidelity: the ratios are live / sim of the stored values */
    CHECK_EQ(run((const char *[]){"report", db, "--fidelity", NULL}), 0);
    CHECK(strstr(text, "live-test adaptive/full") != NULL);
    CHECK(fabs(ratio_of("goodput_mbps") - 0.9) < 0.0015);
    CHECK(fabs(ratio_of("owd_p50_ms") - 1.25) < 0.0015);
    CHECK(strstr(text, "    owd_p95_ms     live         -") != NULL);
    CHECK(strstr(text, "summary: 2 pairs") != NULL);
    CHECK(strstr(text, "    owd_p50_ms         1   1.250") != NULL);
    /* the voice loss as a difference, live - sim, not a ratio */
    const char *vl = strstr(text, "    voice_loss     live ");
    CHECK(vl != NULL && strstr(vl, "diff +0.100\n") != NULL);
    CHECK(strstr(text, "    voice_loss         1  +0.100") != NULL);
    CHECK_EQ(run((const char *[]){"report", db, "--fidelity", "--sweep", NULL}), 2);
    CHECK_EQ(run((const char *[]){"query", db, "--saved", "fidelity", "--csv", NULL}), 0);
    CHECK(strstr(text, "live-test,adaptive,full,0,") != NULL);
    CHECK(strstr(text, ",0.9,") != NULL); /* goodput_ratio, rounded to 3 places */

    /* ---- a live run without its simulated twin is listed, not paired */
    CHECK_EQ(run((const char *[]){"live", "record", "--db", db2, "--scenario", scn, "--strategy",
                                  "redundant", "--aggregation", "none", "--duration-s", "2",
                                  "--goodput-mbps", "3", NULL}),
             0);
    CHECK_EQ(run((const char *[]){"run", scn, "--db", db2, "--iterations", "1", "-j", "1", NULL}),
             0);
    CHECK_EQ(run((const char *[]){"report", db2, "--fidelity", NULL}), 0);
    CHECK(strstr(text, "no simulated run of this key") != NULL);
    CHECK(strstr(text, "summary: 0 pairs, 1 live run without a simulated twin") != NULL);

    /* ---- the web and probe tools refuse bad usage before any socket */
    CHECK_EQ(run((const char *[]){"live", "web", NULL}), 2);
    CHECK_EQ(run((const char *[]){"live", "web", "serve", NULL}), 2);
    CHECK(strstr(etext, "no --port given") != NULL);
    CHECK_EQ(run((const char *[]){"live", "web", "fetch", "--to", "192.0.2.1:80", "--size", "0",
                                  "--duration", "1", NULL}),
             2);
    CHECK(strstr(etext, "--size: expected 1 to") != NULL);
    CHECK_EQ(run((const char *[]){"live", "web", "fetch", "--to", "192.0.2.1", "--size", "10",
                                  "--duration", "1", NULL}),
             2);
    CHECK(strstr(etext, "--to: expected IPv4:PORT") != NULL);
    CHECK_EQ(run((const char *[]){"live", "probe", "send", "--to", "192.0.2.1:9", NULL}), 2);
    CHECK(strstr(etext, "no --count given") != NULL);
    CHECK_EQ(run((const char *[]){"live", "web", "fetch", "--to", "192.0.2.1:80", "--size", "2000",
                                  "--duration", "1", "--keys", NULL}),
             2);
    CHECK(strstr(etext, "--keys: at most 1500 bytes") != NULL);
    CHECK_EQ(run((const char *[]){"live", "probe", "send", "--to", "192.0.2.1:9", "--count", "3",
                                  "--video", "10", NULL}),
             2);
    CHECK(strstr(etext, "--video: expected 1000 to") != NULL);
    CHECK_EQ(run((const char *[]){"live", "probe", "send", "--to", "192.0.2.1:9", "--count", "3",
                                  "--video", "1e6", "--mss", "2000", NULL}),
             2);
    CHECK(strstr(etext, "--mss: expected 64 to 1460") != NULL);
    CHECK_EQ(run((const char *[]){"live", "web", "--help", NULL}), 0);
    CHECK(strstr(text, "log-normal") != NULL);

    /* ---- merge carries live runs (once) */
    CHECK_EQ(run((const char *[]){"merge", mdb, db, db2, db, NULL}), 0);
    CHECK_EQ(live_rows(mdb), 3);

    /* ---- a version 3 database: no live runs to report; upgraded by record */
    {
        const char *v4 = strstr(sim_db_schema, "\n-- @version 4:");
        CHECK(v4 != NULL);
        char *v3 = strndup(sim_db_schema, v4 != NULL ? (size_t)(v4 - sim_db_schema) : 0);
        CHECK(sqlite3_open(v3db, &h) == SQLITE_OK);
        CHECK(sqlite3_exec(h, v3, NULL, NULL, NULL) == SQLITE_OK);
        CHECK(sqlite3_exec(h, "PRAGMA user_version = 3", NULL, NULL, NULL) == SQLITE_OK);
        sqlite3_close(h);
        free(v3);
        CHECK_EQ(run((const char *[]){"report", v3db, "--fidelity", NULL}), 1);
        CHECK(strstr(etext, "no live runs stored") != NULL);
        CHECK_EQ(run((const char *[]){"query", v3db, "--saved", "fidelity", NULL}), 0);
        CHECK(strstr(text, "(0 rows)") != NULL);
        CHECK_EQ(
            run((const char *[]){"live", "record", "--db", v3db, "--scenario", scn, "--strategy",
                                 "adaptive", "--aggregation", "full", "--duration-s", "2", NULL}),
            0);
        CHECK(sqlite3_open(v3db, &h) == SQLITE_OK);
        CHECK_EQ(simtest_db_int(h, "PRAGMA user_version"), SIM_DB_SCHEMA_VERSION);
        CHECK_EQ(simtest_db_int(h, "SELECT count(*) FROM live_runs"), 1);
        sqlite3_close(h);
    }

    if (check_failures == 0)
        simtest_rmtree(dir);
    return check_exit("test_live");
}
