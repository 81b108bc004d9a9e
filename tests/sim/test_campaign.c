/* test_campaign: campaigns end to end through the triglav-sim program
 * (argv[1]). The same seed twice gives identical rows (whatever -j); a
 * campaign killed with SIGKILL mid-way and started again with the same
 * command ends with exactly the rows of an uninterrupted one; SIGINT stores
 * the runs in progress and exits 130 with the command to resume; two shards
 * merged equal one machine's database. Rows are compared with sim_db_dump
 * (everything but ids, wall-clock and creation times, command lines). */
#define _XOPEN_SOURCE 700

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "sim/db.h"
#include "simtest.h"

static const char *prog;
static char dir[256];
static char scn[512];
static char out_path[600], err_path[600]; /* the program's stdout and stderr */
static char text[65536];                  /* the last one read */

/* Small enough to run in seconds, long enough that a run takes a while:
 * 2 strategies x 8 iterations = 16 runs. */
static const char scenario_text[] = "[scenario]\n"
                                    "name = \"campaign-test\"\n"
                                    "description = \"test_campaign: two uplinks, one drops out\"\n"
                                    "duration = 10s\n"
                                    "iterations = 8\n"
                                    "strategies = [\"adaptive\", \"redundant\"]\n"
                                    "aggregation = [\"full\"]\n"
                                    "defining = \"dropout\"\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"wifi\"\n"
                                    "rate = uniform(5Mbit, 20Mbit)\n"
                                    "delay = normal(15ms, 3ms)\n"
                                    "loss = 0.2%\n"
                                    "\n"
                                    "[[uplink]]\n"
                                    "name = \"lte\"\n"
                                    "rate_down = uniform(10Mbit, 30Mbit)\n"
                                    "rate_up = 5Mbit\n"
                                    "delay = 35ms\n"
                                    "jitter = 5ms\n"
                                    "\n"
                                    "[[event]]\n"
                                    "name = \"dropout\"\n"
                                    "uplinks = [\"lte\"]\n"
                                    "every = exp(3s)\n"
                                    "length = 1s\n"
                                    "\n"
                                    "[[traffic]]\n"
                                    "kind = \"tcp\"\n"
                                    "\n"
                                    "[[traffic]]\n"
                                    "kind = \"voice\"\n";
#define PLAN_RUNS 16

/* Start `prog run ...` with stdout and stderr into out_path and err_path. */
static pid_t start(const char *const *args)
{
    return simtest_start(prog, args, out_path, err_path, NULL);
}

static int run(const char *const *args)
{
    return simtest_wait(start(args));
}

static int64_t stored_runs(const char *db)
{
    sqlite3 *h;
    int64_t v = 0;
    if (access(db, F_OK) != 0 || sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        return 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(h, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    sqlite3_close(h);
    return v;
}

/* Wait until `db` holds at least `n` runs or the child exits; returns false
 * if it exited first. */
static bool wait_for_runs(pid_t pid, const char *db, int64_t n)
{
    for (int i = 0; i < 60000; i++) {
        if (stored_runs(db) >= n)
            return true;
        if (waitpid(pid, NULL, WNOHANG) == pid)
            return false;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static bool same_rows(const char *a, const char *b)
{
    char *x = simtest_dump(a), *y = simtest_dump(b);
    bool same = x != NULL && y != NULL && strcmp(x, y) == 0 && strstr(x, "\nruns ") != NULL;
    if (!same)
        fprintf(stderr, "rows differ: %s and %s\n", a, b);
    free(x);
    free(y);
    return same;
}

int main(int argc, char **argv)
{
    if (argc < 2 || access(argv[1], X_OK) != 0) {
        fprintf(stderr, "usage: test_campaign PATH/TO/triglav-sim\n");
        return 77;
    }
    prog = argv[1];
    if (simtest_mkdtemp(dir, sizeof dir, "test_campaign") != 0) {
        perror(dir);
        return 1;
    }
    simtest_path(out_path, sizeof out_path, dir, "stdout");
    simtest_path(err_path, sizeof err_path, dir, "stderr");
    simtest_path(scn, sizeof scn, dir, "campaign-test.scn");
    if (simtest_write(scn, scenario_text) != 0) {
        perror(scn);
        return 1;
    }
    char a[512], b[512], c[512], d[512], s1[512], s2[512], m[512], other[512];
    simtest_path(a, sizeof a, dir, "a.db");
    simtest_path(b, sizeof b, dir, "b.db");
    simtest_path(c, sizeof c, dir, "c.db");
    simtest_path(d, sizeof d, dir, "d.db");
    simtest_path(s1, sizeof s1, dir, "s1.db");
    simtest_path(s2, sizeof s2, dir, "s2.db");
    simtest_path(m, sizeof m, dir, "m.db");
    simtest_path(other, sizeof other, dir, "other.db");

    /* the reference, and the same seed again with another -j */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "2", "--db", a, NULL}), 0);
    char *out = simtest_read(out_path, text, sizeof text);
    printf("%s", out);
    CHECK(strstr(out, "16 runs (16 new, 0 already stored)") != NULL);
    CHECK_EQ(stored_runs(a), PLAN_RUNS);
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "1", "--db", b, NULL}), 0);
    CHECK(same_rows(a, b));
    /* the same command again stores nothing */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "2", "--db", a, NULL}), 0);
    out = simtest_read(out_path, text, sizeof text);
    CHECK(strstr(out, "16 runs (0 new, 16 already stored)") != NULL);

    /* SIGKILL twice mid-campaign, then the same command finishes it */
    const char *const cmd_c[] = {"run", scn, "--seed", "5", "-j", "2", "--db", c, NULL};
    for (int kill_no = 1; kill_no <= 2; kill_no++) {
        pid_t pid = start(cmd_c);
        CHECK(pid > 0);
        if (pid <= 0)
            break; /* never kill(-1, ...) */
        bool midway = wait_for_runs(pid, c, stored_runs(c) + 2);
        CHECK(midway);
        kill(pid, SIGKILL);
        simtest_wait(pid);
        int64_t n = stored_runs(c);
        printf("killed with %lld of %d runs stored\n", (long long)n, PLAN_RUNS);
        CHECK(n > 0 && n < PLAN_RUNS);
    }
    CHECK_EQ(run(cmd_c), 0);
    CHECK_EQ(stored_runs(c), PLAN_RUNS);
    CHECK(same_rows(a, c));

    /* SIGINT: the runs in progress are stored, exit 130, resume hint */
    const char *const cmd_d[] = {"run", scn, "--seed", "5", "-j", "2", "--db", d, NULL};
    pid_t pid = start(cmd_d);
    CHECK(pid > 0);
    if (pid > 0) { /* never kill(-1, ...) */
        CHECK(wait_for_runs(pid, d, 1));
        kill(pid, SIGINT);
    }
    CHECK_EQ(simtest_wait(pid), 130);
    char *errs = simtest_read(err_path, text, sizeof text);
    printf("%s", errs);
    CHECK(strstr(errs, "run the same command again to resume") != NULL);
    CHECK(stored_runs(d) < PLAN_RUNS);
    CHECK_EQ(run(cmd_d), 0);
    CHECK(same_rows(a, d));

    /* two shards, merged */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "--shard", "1/2", "--db", s1, NULL}),
             0);
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "--shard", "2/2", "--db", s2, NULL}),
             0);
    CHECK_EQ(stored_runs(s1), PLAN_RUNS / 2);
    CHECK_EQ(run((const char *[]){"merge", m, s1, s2, NULL}), 0);
    CHECK(same_rows(a, m));

    /* another seed, other rows */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "6", "--db", other, NULL}), 0);
    char *x = simtest_dump(a), *y = simtest_dump(other);
    CHECK(x != NULL && y != NULL && strcmp(x, y) != 0);
    free(x);
    free(y);

    /* bad usage is refused with status 2 */
    CHECK_EQ(run((const char *[]){"run", scn, "-j", "0", NULL}), 2);
    CHECK_EQ(run((const char *[]){"run", scn, "--shard", "3/2", NULL}), 2);
    CHECK_EQ(run((const char *[]){"run", scn, "--strategy", "fastest", NULL}), 2);
    errs = simtest_read(err_path, text, sizeof text);
    CHECK(strstr(errs, "lowest_latency") != NULL); /* lists the valid names */
    CHECK_EQ(run((const char *[]){"frobnicate", NULL}), 2);

    if (simtest_rmtree(dir) != 0)
        perror(dir);
    return check_exit("test_campaign");
}
