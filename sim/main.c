/*
 * main.c: the triglav-sim command line. Parses and validates arguments, then
 * hands over to campaign.c (run), scenario.c (check, list), db.c (merge) or
 * analysis/ (query, report).
 * Exit status: 0 success, 1 failure, 2 bad usage, 128+signal when a
 * campaign was stopped by SIGINT or SIGTERM.
 */
#define _XOPEN_SOURCE 700 /* realpath */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis_cmd.h"
#include "campaign.h"
#include "series.h"
#include "sweep.h"
#include "cli.h"
#include "completions.h"
#include "db.h"
#include "emu.h"
#include "list.h"
#include "replay.h"
#include "scenario.h"
#include "share.h"
#include "testnet.h"

#define DEFAULT_DB        "results/triglav.db"
#define MAX_ITERATIONS    10000000u
#define MAX_JOBS          1024u

static const char usage_main[] =
    "usage: triglav-sim COMMAND [ARGS...]\n"
    "\n"
    "The Triglav simulator: runs the real client and server cores over simulated\n"
    "uplinks in virtual time, Monte Carlo iterations of scenario files (.scn,\n"
    "scenarios/README.md), and stores one row per run in a SQLite database\n"
    "(results/README.md).\n"
    "\n"
    "commands:\n"
    "  run FILE.scn...          run campaigns and store the results\n"
    "  check FILE.scn...        validate scenario files\n"
    "  list [DIR]               list the scenarios in DIR (default ./scenarios, else\n"
    "                           the bundled ones)\n"
    "  paths                    where the bundled scenarios, queries and traces are\n"
    "  merge OUT.db IN.db...    merge results databases (shards of a campaign)\n"
    "  replay FILE.pcap --scenario FILE.scn   replay a capture through the tunnel\n"
    "  emulate FILE.scn --link NAME=IF_A,IF_B  the scenario's links in real time\n"
    "                           between interfaces (root)\n"
    "  live plan|has|record|probe  the testnet's side: store live runs beside\n"
    "                           simulated ones (scripts/testnet.sh)\n"
    "  query DB 'SQL'           query a results database (--saved NAME, --list)\n"
    "  report DB [--out DIR]    Markdown report with confidence intervals and plots\n"
    "  completions bash|zsh|fish  print a shell completion script\n"
    "\n"
    "A scenario may be given by name (`ice` or `ice.scn`): found here, in\n"
    "./scenarios, or among the bundled ones (`triglav-sim paths`).\n"
    "\n"
    "  triglav-sim COMMAND --help    a command's options and examples\n"
    "  triglav-sim --version         the version\n"
    "\n"
    "example:\n"
    "  triglav-sim run ice.scn\n"
    "  sqlite3 results/triglav.db 'SELECT * FROM strategy_summary'\n";

static const char usage_run[] =
    "usage: triglav-sim run FILE.scn... [OPTIONS]\n"
    "\n"
    "Runs every iteration x strategy x aggregation of each scenario file and stores\n"
    "each run, whole, in its own transaction. Iteration i of a scenario gets a seed\n"
    "derived from (base seed, scenario name, i) that every strategy shares, so\n"
    "strategies meet the same environment. Runs already in the database are\n"
    "skipped: rerunning the same command after an interruption, even a kill -9,\n"
    "runs only what is missing and ends with the rows an uninterrupted campaign\n"
    "would have.\n"
    "\n"
    "A FILE that does not exist and has no '/' is a scenario's name: NAME.scn here,\n"
    "else in ./scenarios, else among the bundled scenarios (`triglav-sim list`).\n"
    "\n"
    "options:\n"
    "  --iterations N      iterations per strategy x aggregation\n"
    "                      (default: each scenario's `iterations`)\n"
    "  --seed S            base seed, decimal or 0x-hex (default: each scenario's `seed`)\n"
    "  --strategy LIST     comma-separated strategies, or `all` (default: each\n"
    "                      scenario's `strategies`): adaptive, lowest_latency,\n"
    "                      lowest_loss, weighted_round_robin, bandwidth_proportional,\n"
    "                      redundant, primary_backup, ecmp_aware\n"
    "  --aggregation LIST  comma-separated aggregation modes, or `all` (default: each\n"
    "                      scenario's `aggregation`): none, full, adaptive\n"
    "  -j, --jobs N        runs in parallel (default: the number of CPUs)\n"
    "  --db PATH           results database, created with its folder if missing\n"
    "                      (default " DEFAULT_DB ")\n"
    "  --shard K/N         run only part K of N (1 <= K <= N): the runs whose number in\n"
    "                      the plan, modulo N, is K-1; merge the N databases afterwards\n"
    "                      with `triglav-sim merge`\n"
    "  --data-dir DIR      folder of `data:` trace paths (default: $TRIGLAV_DATA, else\n"
    "                      the share folder's data/, else the one the build was\n"
    "                      configured with)\n"
    "  --share-dir DIR     folder of the bundled scenarios, queries and traces\n"
    "                      (default: $TRIGLAV_SHARE, else ../share/triglav from the\n"
    "                      program's folder, else the source tree; `triglav-sim paths`)\n"
    "  --series-interval MS  store each run's time series, sampled every MS\n"
    "                      milliseconds of simulated time (0: none, the default, which\n"
    "                      keeps campaigns' databases small): per uplink, per flow and\n"
    "                      for the tunnel (`report DB --series RUN_ID` draws them)\n"
    "  --series            the same at 100 ms\n"
    "  --sweep KEY=V1,V2,...  run each scenario once per value, with KEY set to it:\n"
    "                      scenario.KEY, uplink.SEL.KEY, event.SEL.KEY or\n"
    "                      traffic.SEL.KEY (SEL: a name, an index from 0, or *), or\n"
    "                      uplinks (their number); the values are paired (same seeds)\n"
    "                      and stored with the runs (`report DB --sweep` plots them)\n"
    "  -h, --help          this text\n"
    "\n"
    "On a terminal, stderr shows a progress line (runs done, runs/s, ETA). The last\n"
    "line on stdout sums up: campaign id, runs, new and already stored, time.\n"
    "Ctrl-C or SIGTERM stops handing out runs, stores the runs in progress and\n"
    "exits with status 130 (SIGINT) or 143 (SIGTERM); a second one stops at once.\n"
    "Exit status: 0 every run stored, 1 error, 2 bad usage.\n"
    "\n"
    "examples:\n"
    "  triglav-sim run scenarios/ice.scn\n"
    "  triglav-sim run scenarios/*.scn --iterations 20 --strategy adaptive,redundant -j 4\n"
    "  triglav-sim run scenarios/ice.scn --seed 7 --db /tmp/ice.db\n"
    "  triglav-sim run scenarios/ice.scn --shard 3/8 --db shard3.db   # one of 8 machines\n"
    "  triglav-sim run agg_skew_cubic --sweep uplink.path2.delay=10ms,30ms,50ms,90ms\n"
    "  triglav-sim run agg_skew_cubic --iterations 1 --strategy adaptive --series-interval 100\n";

static const char usage_check[] =
    "usage: triglav-sim check FILE.scn... [--data-dir DIR] [--share-dir DIR]\n"
    "\n"
    "Loads and checks each scenario file (format: scenarios/README.md), including the\n"
    "traces it names, and prints `FILE: ok (name, uplinks, duration, iterations)`, or\n"
    "the error as `file:line:col: message` on stderr. A FILE may be a scenario's\n"
    "name, found as `run` finds it.\n"
    "\n"
    "options:\n"
    "  --data-dir DIR      folder of `data:` trace paths (default: $TRIGLAV_DATA, else\n"
    "                      the share folder's data/, else the one the build was\n"
    "                      configured with)\n"
    "  --share-dir DIR     folder of the bundled scenarios, queries and traces\n"
    "                      (default: $TRIGLAV_SHARE, else ../share/triglav from the\n"
    "                      program's folder, else the source tree; `triglav-sim paths`)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 all files are valid, 1 at least one is not, 2 bad usage.\n"
    "\n"
    "example:\n"
    "  triglav-sim check scenarios/*.scn\n";

static const char usage_merge[] =
    "usage: triglav-sim merge OUT.db IN.db...\n"
    "\n"
    "Copies every campaign and run of each input into OUT.db (created if missing).\n"
    "Runs already in OUT.db (same scenario content, strategy, aggregation,\n"
    "iteration and seed) are skipped, so merging the shards of a campaign gives the\n"
    "database one machine would have written, and merging twice changes nothing.\n"
    "Each input is merged in one transaction. Inputs are not modified.\n"
    "\n"
    "Exit status: 0 success, 1 error (inputs before the failing one stay merged),\n"
    "2 bad usage.\n"
    "\n"
    "example (a Slurm job array of 8 tasks, then one merge):\n"
    "  sbatch --array=1-8 --wrap \\\n"
    "    'triglav-sim run scenarios/*.scn --shard $SLURM_ARRAY_TASK_ID/8 \\\n"
    "       --db shard-$SLURM_ARRAY_TASK_ID.db -j $SLURM_CPUS_ON_NODE'\n"
    "  triglav-sim merge results/triglav.db shard-*.db\n";

/* ------------------------------------------------------------ parsing */

/* "a,b,c" of strategy names or "all"; duplicates are dropped. */
static bool parse_strategies(const char *list, enum tg_strategy *out, size_t *n)
{
    *n = 0;
    if (strcmp(list, "all") == 0) {
        for (int s = 0; s < TG_STRATEGY_COUNT; s++)
            out[(*n)++] = (enum tg_strategy)s;
        return true;
    }
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        sim_usage_error("--strategy: list too long");
        return false;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        enum tg_strategy s;
        if (tg_strategy_parse(t, &s) != TG_OK) {
            fprintf(stderr, "%s: --strategy: unknown strategy '%s'; valid: all", sim_cmd_name, t);
            for (int v = 0; v < TG_STRATEGY_COUNT; v++)
                fprintf(stderr, ", %s", tg_strategy_name((enum tg_strategy)v));
            fprintf(stderr, "\nTry '%s --help'.\n", sim_cmd_name);
            return false;
        }
        bool seen = false;
        for (size_t j = 0; j < *n; j++)
            seen |= out[j] == s;
        if (!seen)
            out[(*n)++] = s;
    }
    if (*n == 0) {
        sim_usage_error("--strategy: empty list");
        return false;
    }
    return true;
}

static bool parse_aggregations(const char *list, enum tg_aggregation *out, size_t *n)
{
    *n = 0;
    if (strcmp(list, "all") == 0) {
        for (int a = 0; a < TG_AGG_COUNT; a++)
            out[(*n)++] = (enum tg_aggregation)a;
        return true;
    }
    char buf[512];
    if (snprintf(buf, sizeof buf, "%s", list) >= (int)sizeof buf) {
        sim_usage_error("--aggregation: list too long");
        return false;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        enum tg_aggregation a;
        if (tg_aggregation_parse(t, &a) != TG_OK) {
            fprintf(stderr, "%s: --aggregation: unknown aggregation mode '%s'; valid: all",
                    sim_cmd_name, t);
            for (int v = 0; v < TG_AGG_COUNT; v++)
                fprintf(stderr, ", %s", tg_aggregation_name((enum tg_aggregation)v));
            fprintf(stderr, "\nTry '%s --help'.\n", sim_cmd_name);
            return false;
        }
        bool seen = false;
        for (size_t j = 0; j < *n; j++)
            seen |= out[j] == a;
        if (!seen)
            out[(*n)++] = a;
    }
    if (*n == 0) {
        sim_usage_error("--aggregation: empty list");
        return false;
    }
    return true;
}

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* A readable regular file, or a message and false. */
static bool check_file(const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        bool name = errno == ENOENT && strchr(path, '/') == NULL;
        fprintf(stderr, "%s: %s%s\n", path, strerror(errno),
                name ? " (nor in ./scenarios or the bundled scenarios: `triglav-sim list` "
                       "shows them)"
                     : "");
        return false;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "%s: not a regular file\n", path);
        return false;
    }
    return true;
}

static bool check_dir(const char *what, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) != 0) {
        sim_usage_error("%s %s: %s", what, path, strerror(errno));
        return false;
    }
    if (!S_ISDIR(sb.st_mode)) {
        sim_usage_error("%s %s: not a folder", what, path);
        return false;
    }
    return true;
}

/* Each argument replaced by the scenario file it names (share.h); the paths
 * live in the returned buffer (free() it after the last use of files). NULL
 * when memory runs out. */
static char *resolve_scenarios(const char **files, size_t n)
{
    char *buf = malloc(n * PATH_MAX + 1);
    if (buf == NULL) {
        fprintf(stderr, "%s: out of memory\n", sim_cmd_name);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        files[i] = sim_share_scenario(files[i], buf + i * PATH_MAX, PATH_MAX);
    return buf;
}

/* ------------------------------------------------------------ run */

static int cmd_run(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim run";
    const char **files = calloc((size_t)argc, sizeof *files);
    if (files == NULL)
        return 1;
    size_t n_files = 0;
    char *resolved = NULL; /* the scenario files the arguments name */
    enum tg_strategy strategies[TG_STRATEGY_COUNT];
    enum tg_aggregation aggregations[TG_AGG_COUNT];
    struct sim_campaign_opts o = {
        .strategies = strategies,
        .aggregations = aggregations,
        .shard_k = 1,
        .shard_n = 1,
        .db_path = DEFAULT_DB,
    };
    struct sim_sweep sweep = {0};
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    o.jobs = cpus > 0 ? (unsigned)(cpus < MAX_JOBS ? cpus : MAX_JOBS) : 1;
    int ret = 2;
    bool options = true;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int m;
        uint64_t x;
        if (!options || a[0] != '-' || strcmp(a, "-") == 0) {
            files[n_files++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            options = false;
        } else if (is_help(a)) {
            fputs(usage_run, stdout);
            ret = 0;
            goto out;
        } else if ((m = sim_opt_value(argc, argv, &i, "--iterations", &v)) != 0) {
            if (m < 0)
                goto out;
            if (!sim_parse_u64(v, 1, MAX_ITERATIONS, false, &x)) {
                sim_usage_error("--iterations: expected a whole number from 1 to %u, got '%s'",
                            MAX_ITERATIONS, v);
                goto out;
            }
            o.iterations = (uint32_t)x;
        } else if ((m = sim_opt_seed(argc, argv, &i, &o.seed)) != 0) {
            if (m < 0)
                goto out;
            o.has_seed = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--strategy", &v)) != 0) {
            if (m < 0 || !parse_strategies(v, strategies, &o.n_strategies))
                goto out;
        } else if ((m = sim_opt_value(argc, argv, &i, "--aggregation", &v)) != 0) {
            if (m < 0 || !parse_aggregations(v, aggregations, &o.n_aggregations))
                goto out;
        } else if ((m = sim_opt_value(argc, argv, &i, "-j", &v)) != 0 ||
                   (m = sim_opt_value(argc, argv, &i, "--jobs", &v)) != 0 ||
                   (strncmp(a, "-j", 2) == 0 && a[2] >= '0' && a[2] <= '9' && (v = a + 2))) {
            if (m < 0)
                goto out;
            if (!sim_parse_u64(v, 1, MAX_JOBS, false, &x)) {
                sim_usage_error("-j: expected a number of parallel runs from 1 to %u, got '%s'",
                            MAX_JOBS, v);
                goto out;
            }
            o.jobs = (unsigned)x;
        } else if ((m = sim_opt_value(argc, argv, &i, "--db", &v)) != 0) {
            if (m < 0)
                goto out;
            if (*v == '\0') {
                sim_usage_error("--db: expected a database path");
                goto out;
            }
            o.db_path = v;
        } else if ((m = sim_opt_value(argc, argv, &i, "--shard", &v)) != 0) {
            if (m < 0)
                goto out;
            char k[32], n[32];
            const char *slash = strchr(v, '/');
            uint64_t kk, nn;
            if (slash == NULL || (size_t)(slash - v) >= sizeof k || strlen(slash + 1) >= sizeof n) {
                sim_usage_error("--shard: expected K/N (part K of N, 1 <= K <= N), got '%s'", v);
                goto out;
            }
            memcpy(k, v, (size_t)(slash - v));
            k[slash - v] = '\0';
            snprintf(n, sizeof n, "%s", slash + 1);
            if (!sim_parse_u64(k, 1, UINT32_MAX, false, &kk) ||
                !sim_parse_u64(n, 1, UINT32_MAX, false, &nn) || kk > nn) {
                sim_usage_error("--shard: expected K/N with 1 <= K <= N, got '%s'", v);
                goto out;
            }
            o.shard_k = (uint32_t)kk;
            o.shard_n = (uint32_t)nn;
        } else if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0 || !check_dir("--data-dir", v))
                goto out;
            o.data_dir = v;
        } else if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                goto out;
        } else if ((m = sim_opt_value(argc, argv, &i, "--series-interval", &v)) != 0) {
            if (m < 0)
                goto out;
            if (!sim_parse_u64(v, 0, 3600000, false, &x)) {
                sim_usage_error("--series-interval: expected milliseconds from 1 to 3600000, or "
                                "0 for none, got '%s'", v);
                goto out;
            }
            o.series_interval_us = (tg_time)x * 1000;
        } else if (strcmp(a, "--series") == 0) {
            o.series_interval_us = SIM_SERIES_DEFAULT_US;
        } else if ((m = sim_opt_value(argc, argv, &i, "--sweep", &v)) != 0) {
            if (m < 0)
                goto out;
            if (sweep.key != NULL) {
                sim_usage_error("--sweep: given twice; a campaign sweeps one key");
                goto out;
            }
            char why[512];
            if (sim_sweep_parse(v, &sweep, why, sizeof why)) {
                sim_usage_error("%s", why);
                goto out;
            }
            o.sweep = &sweep;
        } else {
            sim_usage_error("unknown option '%s'", a);
            goto out;
        }
    }
    if (n_files == 0) {
        sim_usage_error("no scenario file given (e.g. scenarios/ice.scn)");
        goto out;
    }
    if ((resolved = resolve_scenarios(files, n_files)) == NULL)
        goto out;
    bool ok = true;
    for (size_t i = 0; i < n_files; i++)
        ok &= check_file(files[i]);
    if (!ok)
        goto out;
    if (sim_make_parent(o.db_path) != 0) {
        ret = 1;
        goto out;
    }

    char *command = sim_command_line(argv[0], argc - 1, argv + 1);
    o.files = files;
    o.n_files = n_files;
    o.command = command;
    o.progress = isatty(STDERR_FILENO);
    struct sim_campaign_summary sum;
    char err[1024] = "";
    int rc = sim_campaign_run(&o, &sum, err, sizeof err);
    char shard[64] = "";
    if (o.shard_n > 1)
        snprintf(shard, sizeof shard, ", shard %" PRIu32 "/%" PRIu32, o.shard_k, o.shard_n);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        if (sum.added > 0)
            fprintf(stderr,
                    "%" PRIu64 " run(s) were stored; after fixing the cause, the same command "
                    "resumes:\n  %s\n",
                    sum.added, command ? command : "");
        ret = 1;
    } else if (rc > 0) {
        fprintf(stderr,
                "stopped: %" PRIu64 " of %" PRIu64 " runs stored (%" PRIu64
                " new); run the same command again to resume:\n  %s\n",
                sum.already + sum.added + sum.raced, sum.planned, sum.added,
                command ? command : "");
        ret = 128 + sum.signal;
    } else {
        char raced[64] = "";
        if (sum.raced > 0)
            snprintf(raced, sizeof raced, ", %" PRIu64 " stored meanwhile by another process",
                     sum.raced);
        printf("campaign %" PRId64 "%s: %" PRIu64 " runs (%" PRIu64 " new, %" PRIu64
               " already stored%s) in %.1f s -> %s\n",
               sum.campaign_id, shard, sum.planned, sum.added, sum.already, raced, sum.wall_s,
               o.db_path);
        ret = 0;
    }
    free(command);
out:
    sim_sweep_clear(&sweep);
    free(resolved);
    free(files);
    return ret;
}

/* ------------------------------------------------------------ check */

/* Parses [--data-dir DIR] and positional arguments (into pos). Returns -1
 * after printing help (exit 0), -2 on bad usage, else the count. */
static int parse_common(int argc, char **argv, const char *usage, const char **pos,
                        const char **data_dir)
{
    int n = 0;
    bool options = true;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!options || a[0] != '-' || strcmp(a, "-") == 0) {
            pos[n++] = a;
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (is_help(a)) {
            fputs(usage, stdout);
            return -1;
        } else if ((m = sim_opt_value(argc, argv, &i, "--data-dir", &v)) != 0) {
            if (m < 0 || !check_dir("--data-dir", v))
                return -2;
            *data_dir = v;
        } else if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                return -2;
        } else {
            sim_usage_error("unknown option '%s'", a);
            return -2;
        }
    }
    return n;
}

static int cmd_check(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim check";
    const char **files = calloc((size_t)argc, sizeof *files);
    const char *data_dir = NULL;
    if (files == NULL)
        return 1;
    char *resolved = NULL;
    int n = parse_common(argc, argv, usage_check, files, &data_dir);
    int ret = n == -1 ? 0 : 2;
    if (n == 0)
        sim_usage_error("no scenario file given");
    if (n <= 0)
        goto out;
    ret = 1;
    if ((resolved = resolve_scenarios(files, (size_t)n)) == NULL)
        goto out;
    ret = 0;
    for (int i = 0; i < n; i++) {
        struct sim_scenario *sc = NULL;
        char err[1024];
        if (!check_file(files[i])) {
            ret = 1;
            continue;
        }
        if (sim_scenario_load(files[i], data_dir, &sc, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            ret = 1;
            continue;
        }
        char dur[32];
        sim_fmt_duration(dur, sizeof dur, sc->duration_us);
        printf("%s: ok (%s, %zu uplink%s, %s, %" PRIu32 " iterations)\n", files[i], sc->name,
               sc->n_uplinks, sc->n_uplinks == 1 ? "" : "s", dur, sc->iterations);
        sim_scenario_free(sc);
    }
out:
    free(resolved);
    free(files);
    return ret;
}

/* ------------------------------------------------------------ merge */

static int cmd_merge(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim merge";
    for (int i = 2; i < argc; i++) {
        if (is_help(argv[i])) {
            fputs(usage_merge, stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return sim_usage_error("unknown option '%s'", argv[i]);
    }
    if (argc < 4)
        return sim_usage_error("expected OUT.db and at least one IN.db");
    const char *out = argv[2];
    char out_real[PATH_MAX], in_real[PATH_MAX];
    bool out_exists = realpath(out, out_real) != NULL;
    bool ok = true;
    for (int i = 3; i < argc; i++) {
        if (!check_file(argv[i]))
            ok = false;
        else if (out_exists && realpath(argv[i], in_real) != NULL && strcmp(in_real, out_real) == 0)
            return sim_usage_error("%s is both the output and an input", argv[i]);
    }
    if (!ok)
        return 1;
    if (sim_make_parent(out) != 0)
        return 1;
    struct sim_db *db;
    char err[1024];
    if (sim_db_open(out, &db, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
        return 1;
    }
    uint64_t runs = 0, added = 0;
    int ret = 0;
    for (int i = 3; i < argc; i++) {
        const char *in = argv[i];
        struct sim_db_merge_stats st;
        if (sim_db_merge(db, &in, 1, &st, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", sim_cmd_name, err);
            ret = 1;
            break;
        }
        printf("%s: %" PRIu64 " runs, %" PRIu64 " new\n", in, st.runs, st.added);
        runs += st.runs;
        added += st.added;
    }
    sim_db_close(db);
    if (ret == 0)
        printf("merged %d database%s into %s: %" PRIu64 " runs read, %" PRIu64 " new\n", argc - 3,
               argc == 4 ? "" : "s", out, runs, added);
    return ret;
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (is_help(cmd) || strcmp(cmd, "help") == 0) {
        if (argc > 2 && strcmp(cmd, "help") == 0) {
            const char *what = argv[2];
            if (strcmp(what, "run") == 0)
                fputs(usage_run, stdout);
            else if (strcmp(what, "check") == 0)
                fputs(usage_check, stdout);
            else if (strcmp(what, "list") == 0)
                fputs(sim_usage_list, stdout);
            else if (strcmp(what, "completions") == 0)
                return sim_completions_main(3, (char *[]){argv[0], argv[2], "--help", NULL});
            else if (strcmp(what, "paths") == 0)
                fputs(sim_usage_paths, stdout);
            else if (strcmp(what, "merge") == 0)
                fputs(usage_merge, stdout);
            else if (strcmp(what, "emulate") == 0)
                fputs(sim_usage_emulate, stdout);
            else if (strcmp(what, "live") == 0)
                fputs(sim_usage_live, stdout);
            else if (strcmp(what, "replay") == 0)
                return sim_replay_main(2, (char *[]){argv[2], "--help", NULL});
            else if (strcmp(what, "query") == 0)
                fputs(an_usage_query, stdout);
            else if (strcmp(what, "report") == 0)
                fputs(an_usage_report, stdout);
            else
                return sim_usage_error("no command '%s'", what);
            return 0;
        }
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("triglav-sim %s\n", sim_version);
        return 0;
    }
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc, argv);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc, argv);
    if (strcmp(cmd, "list") == 0)
        return sim_list_main(argc, argv);
    if (strcmp(cmd, "paths") == 0)
        return sim_paths_main(argc, argv);
    if (strcmp(cmd, "completions") == 0)
        return sim_completions_main(argc, argv);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc, argv);
    if (strcmp(cmd, "emulate") == 0)
        return sim_emulate_main(argc, argv);
    if (strcmp(cmd, "live") == 0)
        return sim_live_main(argc, argv);
    if (strcmp(cmd, "replay") == 0)
        return sim_replay_main(argc - 1, argv + 1);
    if (strcmp(cmd, "query") == 0)
        return an_query_main(argc, argv);
    if (strcmp(cmd, "report") == 0)
        return an_report_main(argc, argv, sim_version);
    if (cmd[0] == '-')
        return sim_usage_error("unknown option '%s'", cmd);
    return sim_usage_error("unknown command '%s' (commands: run, check, list, paths, merge, replay, emulate, live, query, report, completions)", cmd);
}
