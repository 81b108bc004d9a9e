/* analysis_cmd.c: see analysis_cmd.h. */
#define _XOPEN_SOURCE 700 /* strdup, in C11 mode */

#include "analysis_cmd.h"
#include "cli.h"
#include "share.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/dataset.h"
#include "analysis/dbread.h"
#include "analysis/fidelity.h"
#include "analysis/query.h"
#include "analysis/instrument.h"
#include "analysis/report.h"

const char an_usage_query[] =
    "usage: triglav-sim query DB 'SQL' [--csv] [--param NAME=VALUE]...\n"
    "       triglav-sim query DB --saved NAME [--csv] [--param NAME=VALUE]...\n"
    "       triglav-sim query --list\n"
    "\n"
    "Runs SQL on a results database (tables and views: results/README.md) and prints\n"
    "the rows as an aligned table, or as CSV with --csv. The database is opened\n"
    "read-only. SQL may hold several statements; '-' reads it from standard input.\n"
    "Errors give SQLite's message and where in the statement it points.\n"
    "\n"
    "options:\n"
    "  --saved NAME        run the saved query NAME.sql (see --list)\n"
    "  --list              list the saved queries with what each one answers\n"
    "  --param NAME=VALUE  bind :NAME in the SQL (parameters not given are NULL)\n"
    "  --csv               CSV (RFC 4180) with a header row instead of a table\n"
    "  --queries DIR       folder of saved queries (default: $TRIGLAV_QUERIES, else\n"
    "                      results/queries/ here, else the share folder's)\n"
    "  --share-dir DIR     folder of the bundled files (`triglav-sim paths`)\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 success, 1 error (database, SQL), 2 bad usage.\n"
    "\n"
    "examples:\n"
    "  triglav-sim query results/triglav.db 'SELECT * FROM strategy_summary'\n"
    "  triglav-sim query results/triglav.db --saved ranking --param scenario=ice\n"
    "  triglav-sim query results/triglav.db --saved paired_vs_adaptive --csv > paired.csv\n";

const char an_usage_report[] =
    "usage: triglav-sim report DB [--out DIR] [--baseline STRATEGY] [--metric LIST]\n"
    "                          [--run ID] [--gnuplot PROGRAM|none]\n"
    "       triglav-sim report DB --series RUN_ID [--metric NAME]\n"
    "       triglav-sim report DB --sweep [--metric NAME]\n"
    "       triglav-sim report DB --fidelity\n"
    "\n"
    "Writes DIR/report.md: for each scenario x strategy x aggregation, n and the mean\n"
    "with its 95% confidence interval (Student t) and p50/p95/p99 over runs of each\n"
    "metric; paired differences from a baseline strategy over runs that met the same\n"
    "environment (same scenario, iteration, seed, aggregation) with their 95% CIs; and\n"
    "a ranking per scenario by the first metric, in tiers of strategies that cannot\n"
    "be told apart. With gnuplot installed, SVG plots beside it: goodput with CI bars\n"
    "and the CDF over runs of one-way delay per scenario, and per-uplink bytes for a\n"
    "chosen run; without it, the tables and a note. Runs stored with `run --sweep`\n"
    "add a section: the first metric against the swept value, per strategy.\n"
    "\n"
    "options:\n"
    "  --out DIR           output folder, created if missing (default: report)\n"
    "  --baseline S        strategy the others are compared with (default: adaptive)\n"
    "  --metric LIST       comma-separated metrics columns, or `all` (default:\n"
    "                      " AN_REPORT_METRICS ");\n"
    "                      the first one ranks\n"
    "  --run ID            run whose uplink use is shown (default: the first run)\n"
    "  --gnuplot PROGRAM   gnuplot to use, or `none` for no plots (default: $TG_GNUPLOT,\n"
    "                      else gnuplot in PATH)\n"
    "  --series RUN_ID     instead, draw run RUN_ID's time series as text on stdout\n"
    "                      (runs stored with `run --series-interval MS`); --metric\n"
    "                      picks one of " AN_SERIES_METRICS "\n"
    "                      (default: throughput)\n"
    "  --sweep             instead, draw a metrics column (--metric, default\n"
    "                      efficiency) against the swept value of the runs stored\n"
    "                      with `run --sweep`, per strategy, with 95% CIs, as text\n"
    "  --fidelity          instead, pair each live run (the testnet, scripts/testnet.sh)\n"
    "                      with the simulated run of the same key and print live, sim\n"
    "                      and live/sim per pair for goodput and voice one-way delay\n"
    "                      (p50, p95), then the mean ratio with its 95% CI per group\n"
    "  -h, --help          this text\n"
    "\n"
    "Exit status: 0 report written, 1 error, 2 bad usage.\n"
    "\n"
    "examples:\n"
    "  triglav-sim report results/triglav.db --out /tmp/report\n"
    "  triglav-sim report results/triglav.db --baseline redundant --metric stall_max_ms,goodput_mbps\n"
    "  triglav-sim report results/triglav.db --series 1 --metric share\n"
    "  triglav-sim report results/triglav.db --sweep --metric owd_p95_ms\n";

static bool is_help(const char *a)
{
    return strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0;
}

/* All of standard input, or NULL. */
static char *read_stdin(void)
{
    size_t len = 0, cap = 4096;
    char *buf = malloc(cap);
    while (buf != NULL) {
        size_t got = fread(buf + len, 1, cap - len - 1, stdin);
        len += got;
        if (got == 0)
            break;
        if (cap - len - 1 == 0) {
            char *b = realloc(buf, cap *= 2);
            if (b == NULL)
                free(buf);
            buf = b;
        }
    }
    if (buf != NULL)
        buf[len] = '\0';
    return buf;
}

/* ------------------------------------------------------------ query */

int an_query_main(int argc, char **argv)
{
    const char *cmd = sim_cmd_name = "triglav-sim query";
    const char *pos[2] = {NULL, NULL};
    int n_pos = 0;
    const char *saved = NULL, *dir = NULL;
    bool list = false, options = true;
    struct an_query_opts qo = {0};
    struct an_param *params = calloc((size_t)argc, sizeof *params);
    char *sql = NULL;
    sqlite3 *db = NULL;
    int ret = 2;
    if (params == NULL)
        return 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!options || a[0] != '-' || strcmp(a, "-") == 0) {
            if (n_pos == 2) {
                sim_usage_error("unexpected argument '%s' (quote the SQL as one argument)", a);
                goto out;
            }
            pos[n_pos++] = a;
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (is_help(a)) {
            fputs(an_usage_query, stdout);
            ret = 0;
            goto out;
        } else if (strcmp(a, "--csv") == 0) {
            qo.csv = true;
        } else if (strcmp(a, "--list") == 0) {
            list = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--saved", &v)) != 0) {
            if (m < 0)
                goto out;
            saved = v;
        } else if ((m = sim_opt_value(argc, argv, &i, "--queries", &v)) != 0) {
            if (m < 0)
                goto out;
            dir = v;
        } else if ((m = sim_opt_share_dir(argc, argv, &i)) != 0) {
            if (m < 0)
                goto out;
        } else if ((m = sim_opt_value(argc, argv, &i, "--param", &v)) != 0) {
            if (m < 0)
                goto out;
            const char *eq = strchr(v, '=');
            if (eq == NULL || eq == v) {
                sim_usage_error("--param: expected NAME=VALUE, got '%s'", v);
                goto out;
            }
            /* the name is argv's text up to '=': cut there in place */
            ((char *)(uintptr_t)eq)[0] = '\0';
            params[qo.n_params++] = (struct an_param){.name = v, .value = eq + 1};
        } else {
            sim_usage_error("unknown option '%s'", a);
            goto out;
        }
    }
    qo.params = params;
    char err[1024], share_q[PATH_MAX];
    const char *qdir = an_queries_dir(dir, sim_share_queries(share_q, sizeof share_q));
    if (list) {
        if (saved != NULL || n_pos > 1) {
            sim_usage_error("--list takes no SQL and no --saved");
            goto out;
        }
        long n = an_query_list(qdir, stdout, err, sizeof err);
        if (n < 0)
            fprintf(stderr, "%s: %s\n", cmd, err);
        ret = n < 0 ? 1 : 0;
        goto out;
    }
    if (n_pos == 0) {
        sim_usage_error("no database given (e.g. results/triglav.db)");
        goto out;
    }
    if (saved != NULL && n_pos == 2) {
        sim_usage_error("give either SQL or --saved NAME, not both");
        goto out;
    }
    if (saved == NULL && n_pos < 2) {
        sim_usage_error("no SQL given: 'SELECT ...', --saved NAME, or --list");
        goto out;
    }
    ret = 1;
    if (saved != NULL) {
        if (an_query_load(qdir, saved, &sql, err, sizeof err) != 0) {
            fprintf(stderr, "%s: %s\n", cmd, err);
            goto out;
        }
    } else if (strcmp(pos[1], "-") == 0) {
        if ((sql = read_stdin()) == NULL) {
            fprintf(stderr, "%s: cannot read standard input\n", cmd);
            goto out;
        }
    } else if ((sql = strdup(pos[1])) == NULL) {
        goto out;
    }
    if (an_db_open(pos[0], &db, err, sizeof err) != 0) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        goto out;
    }
    an_db_compat_tables(db);
    if (an_query_run(db, sql, &qo, stdout, err, sizeof err) < 0) {
        fflush(stdout);
        fprintf(stderr, "%s: %s%s%s\n", cmd, saved ? saved : "", saved ? ".sql: " : "", err);
        goto out;
    }
    ret = fflush(stdout) == 0 ? 0 : 1;
out:
    sqlite3_close(db);
    free(sql);
    free(params);
    return ret;
}

/* ------------------------------------------------------------ report */

/* "a,b,c" or "all" into names (room for every known metric). Returns the
 * count, or -1 after saying what is wrong. */
static int parse_metrics(const char *cmd, const char *list, char *buf, size_t cap,
                         const char **names, size_t max)
{
    size_t n_all;
    const struct an_metric *all = an_metric_all(&n_all);
    size_t n = 0;
    if (strcmp(list, "all") == 0) {
        for (size_t i = 0; i < n_all && i < max; i++)
            names[n++] = all[i].name;
        return (int)n;
    }
    if (snprintf(buf, cap, "%s", list) >= (int)cap) {
        sim_usage_error("--metric: list too long");
        return -1;
    }
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t != NULL; t = strtok_r(NULL, ",", &save)) {
        if (an_metric_find(t) == NULL) {
            fprintf(stderr, "%s: --metric: unknown metric '%s'; valid: all", cmd, t);
            for (size_t i = 0; i < n_all; i++)
                fprintf(stderr, ", %s", all[i].name);
            fprintf(stderr, "\nTry '%s --help'.\n", cmd);
            return -1;
        }
        if (n == max) {
            sim_usage_error("--metric: too many metrics");
            return -1;
        }
        names[n++] = t;
    }
    if (n == 0) {
        sim_usage_error("--metric: empty list");
        return -1;
    }
    return (int)n;
}

int an_report_main(int argc, char **argv, const char *version)
{
    const char *cmd = sim_cmd_name = "triglav-sim report";
    const char *db = NULL, *metrics = AN_REPORT_METRICS;
    struct an_report_opts o = {.out_dir = "report", .baseline = "adaptive", .generator = version};
    bool options = true, sweep = false, fidelity = false, metric_given = false;
    long long series = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v;
        int m;
        if (!options || a[0] != '-') {
            if (db != NULL)
                return sim_usage_error("unexpected argument '%s' (one database)", a);
            db = a;
        } else if (strcmp(a, "--") == 0) {
            options = false;
        } else if (is_help(a)) {
            fputs(an_usage_report, stdout);
            return 0;
        } else if ((m = sim_opt_value(argc, argv, &i, "--out", &v)) != 0) {
            if (m < 0)
                return 2;
            if (*v == '\0')
                return sim_usage_error("--out: expected a folder");
            o.out_dir = v;
        } else if ((m = sim_opt_value(argc, argv, &i, "--baseline", &v)) != 0) {
            if (m < 0)
                return 2;
            o.baseline = v;
            o.strict_baseline = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--metric", &v)) != 0) {
            if (m < 0)
                return 2;
            metrics = v;
            metric_given = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--series", &v)) != 0) {
            if (m < 0)
                return 2;
            char *end;
            errno = 0;
            series = strtoll(v, &end, 10);
            if (errno != 0 || *end != '\0' || end == v || series <= 0)
                return sim_usage_error("--series: expected a run id (runs.id, 1 or more), got "
                                       "'%s'", v);
        } else if (strcmp(a, "--sweep") == 0) {
            sweep = true;
        } else if (strcmp(a, "--fidelity") == 0) {
            fidelity = true;
        } else if ((m = sim_opt_value(argc, argv, &i, "--run", &v)) != 0) {
            if (m < 0)
                return 2;
            char *end;
            errno = 0;
            long long id = strtoll(v, &end, 10);
            if (errno != 0 || *end != '\0' || end == v || id <= 0)
                return sim_usage_error("--run: expected a run id (runs.id, 1 or more), got '%s'",
                                   v);
            o.run_id = id;
        } else if ((m = sim_opt_value(argc, argv, &i, "--gnuplot", &v)) != 0) {
            if (m < 0)
                return 2;
            o.gnuplot = v;
        } else {
            return sim_usage_error("unknown option '%s'", a);
        }
    }
    if (db == NULL)
        return sim_usage_error("no database given (e.g. results/triglav.db)");
    if (fidelity) {
        if (series > 0 || sweep || metric_given)
            return sim_usage_error("--fidelity compares fixed metrics: no --series, --sweep or "
                                   "--metric with it");
        char err[1024];
        if (an_fidelity_print(stdout, db, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s\n", cmd, err);
            return 1;
        }
        return fflush(stdout) == 0 ? 0 : 1;
    }
    if (series > 0 || sweep) {
        if (series > 0 && sweep)
            return sim_usage_error("--series and --sweep draw different things: give one");
        const char *metric = metric_given ? metrics : series > 0 ? "throughput" : "efficiency";
        if (series > 0 && !an_series_metric_ok(metric))
            return sim_usage_error("--metric: '%s' is not a series metric; expected one of %s",
                                   metric, AN_SERIES_METRICS);
        char err[1024];
        int rc = series > 0 ? an_series_print(stdout, db, series, metric, err, sizeof err)
                            : an_sweep_print(stdout, db, metric, err, sizeof err);
        if (rc != 0) {
            fprintf(stderr, "%s: %s\n", cmd, err);
            return 1;
        }
        return 0;
    }
    char buf[1024];
    const char *names[64];
    int n = parse_metrics(cmd, metrics, buf, sizeof buf, names, sizeof names / sizeof names[0]);
    if (n < 0)
        return 2;
    o.db_path = db;
    o.metrics = names;
    o.n_metrics = (size_t)n;
    char *command = sim_command_line("triglav-sim", argc - 1, argv + 1);
    o.command = command;
    struct an_report_result res;
    char err[1024];
    int rc = an_report_write(&o, &res, err, sizeof err);
    free(command);
    if (rc != 0) {
        fprintf(stderr, "%s: %s\n", cmd, err);
        return 1;
    }
    printf("%s: %zu scenario%s, %zu groups, %zu runs", res.path, res.scenarios,
           res.scenarios == 1 ? "" : "s", res.groups, res.runs);
    if (res.plots_skipped)
        printf("; tables only (no gnuplot)\n");
    else
        printf("; %zu plot%s%s\n", res.plots, res.plots == 1 ? "" : "s",
               res.plot_failures ? " (some failed, see the report)" : "");
    return 0;
}
