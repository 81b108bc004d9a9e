/* test_campaign: campaigns end to end through the triglav-sim program
 * (argv[1]). The same seed twice gives identical rows (whatever -j); a
 * campaign killed with SIGKILL mid-way and started again with the same
 * command ends with exactly the rows of an uninterrupted one; SIGINT stores
 * the runs in progress and exits 130 with the command to resume; two shards
 * merged equal one machine's database. Rows are compared with sim_db_dump
 * (everything but ids, wall-clock and creation times, command lines). */
#define _POSIX_C_SOURCE 200809L

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "check.h"
#include "sim/db.h"

static const char *prog;
static char dir[256];
static char scn[512];
static char err[1024];

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

static void path_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Start `prog run ...` with stdout and stderr into files named after the db. */
static pid_t start(const char *const *args)
{
    char *argv[32];
    size_t n = 0;
    argv[n++] = strdup(prog);
    for (; *args != NULL && n < 31; args++)
        argv[n++] = strdup(*args); /* execv wants char *; freed by the exec or the exit */
    argv[n] = NULL;
    char out[600], errp[600];
    snprintf(out, sizeof out, "%s/stdout", dir);
    snprintf(errp, sizeof errp, "%s/stderr", dir);
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0)
            _exit(126);
        execv(prog, argv);
        _exit(127);
    }
    for (size_t i = 0; i < n; i++)
        free(argv[i]);
    return pid;
}

/* Exit status (128 + signal when killed). */
static int finish(pid_t pid)
{
    int status;
    if (waitpid(pid, &status, 0) != pid)
        return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(const char *const *args)
{
    return finish(start(args));
}

static char *slurp(const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "r");
    if (f == NULL)
        return strdup("");
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strdup(buf);
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

static char *dump(const char *path)
{
    struct sim_db *db;
    if (sim_db_open(path, &db, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return strdup("(cannot open)");
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (f == NULL || sim_db_dump(db, f, err, sizeof err) != 0)
        fprintf(stderr, "%s\n", err);
    if (f != NULL)
        fclose(f);
    sim_db_close(db);
    return buf;
}

static bool same_rows(const char *a, const char *b)
{
    char *x = dump(a), *y = dump(b);
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
    const char *tmp = getenv("TMPDIR");
    snprintf(dir, sizeof dir, "%s/test_campaign.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL) {
        perror(dir);
        return 1;
    }
    path_in(scn, sizeof scn, "campaign-test.scn");
    FILE *f = fopen(scn, "w");
    if (f == NULL || fputs(scenario_text, f) < 0 || fclose(f) != 0) {
        perror(scn);
        return 1;
    }
    char a[512], b[512], c[512], d[512], s1[512], s2[512], m[512], other[512];
    path_in(a, sizeof a, "a.db");
    path_in(b, sizeof b, "b.db");
    path_in(c, sizeof c, "c.db");
    path_in(d, sizeof d, "d.db");
    path_in(s1, sizeof s1, "s1.db");
    path_in(s2, sizeof s2, "s2.db");
    path_in(m, sizeof m, "m.db");
    path_in(other, sizeof other, "other.db");

    /* the reference, and the same seed again with another -j */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "2", "--db", a, NULL}), 0);
    char *out = slurp("stdout");
    printf("%s", out);
    CHECK(strstr(out, "16 runs (16 new, 0 already stored)") != NULL);
    free(out);
    CHECK_EQ(stored_runs(a), PLAN_RUNS);
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "1", "--db", b, NULL}), 0);
    CHECK(same_rows(a, b));
    /* the same command again stores nothing */
    CHECK_EQ(run((const char *[]){"run", scn, "--seed", "5", "-j", "2", "--db", a, NULL}), 0);
    out = slurp("stdout");
    CHECK(strstr(out, "16 runs (0 new, 16 already stored)") != NULL);
    free(out);

    /* SIGKILL twice mid-campaign, then the same command finishes it */
    const char *const cmd_c[] = {"run", scn, "--seed", "5", "-j", "2", "--db", c, NULL};
    for (int kill_no = 1; kill_no <= 2; kill_no++) {
        pid_t pid = start(cmd_c);
        bool midway = wait_for_runs(pid, c, stored_runs(c) + 2);
        CHECK(midway);
        kill(pid, SIGKILL);
        finish(pid);
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
    CHECK(wait_for_runs(pid, d, 1));
    kill(pid, SIGINT);
    CHECK_EQ(finish(pid), 130);
    char *errs = slurp("stderr");
    printf("%s", errs);
    CHECK(strstr(errs, "run the same command again to resume") != NULL);
    free(errs);
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
    char *x = dump(a), *y = dump(other);
    CHECK(strcmp(x, y) != 0);
    free(x);
    free(y);

    /* bad usage is refused with status 2 */
    CHECK_EQ(run((const char *[]){"run", scn, "-j", "0", NULL}), 2);
    CHECK_EQ(run((const char *[]){"run", scn, "--shard", "3/2", NULL}), 2);
    CHECK_EQ(run((const char *[]){"run", scn, "--strategy", "fastest", NULL}), 2);
    errs = slurp("stderr");
    CHECK(strstr(errs, "lowest_latency") != NULL); /* lists the valid names */
    free(errs);
    CHECK_EQ(run((const char *[]){"frobnicate", NULL}), 2);

    const char *names[] = {"a.db",   "b.db",     "c.db",
                           "d.db",   "s1.db",    "s2.db",
                           "m.db",   "other.db", "campaign-test.scn",
                           "stdout", "stderr"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[600];
        const char *suffix[] = {"", "-wal", "-shm"};
        for (size_t s = 0; s < 3; s++) {
            snprintf(p, sizeof p, "%s/%s%s", dir, names[i], suffix[s]);
            unlink(p);
        }
    }
    rmdir(dir);
    return check_exit("test_campaign");
}
