/*
 * report.h: `triglav-sim report`: a Markdown report with confidence
 * intervals over a results database, and SVG plots when gnuplot is
 * installed (analysis/, DESIGN.md §1).
 *
 * For each scenario x strategy x aggregation: n, the mean with its 95%
 * confidence interval (Student t), and p50/p95/p99 over runs of each metric;
 * the paired difference of each strategy from a baseline strategy over runs
 * with the same (scenario, iteration, seed, aggregation), i.e. the same
 * environment draws (common random numbers); and a ranking per scenario in
 * tiers of strategies that cannot be told apart (dataset.h,
 * an_rank_scenario). Statistics in stats.h, loading in dataset.h.
 *
 * Errors: an_report_write returns -1 and writes the reason into err (errlen
 * bytes, always terminated).
 */
#ifndef AN_REPORT_H
#define AN_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The metrics of a report unless told otherwise (--metric). */
#define AN_REPORT_METRICS \
    "goodput_mbps,efficiency,owd_p95_ms,stall_max_ms,loss,failover_max_ms"

struct an_report_opts {
    const char *db_path;
    const char *out_dir;            /* created (with parents) if missing */
    const char *baseline;           /* strategy the others are compared with */
    bool strict_baseline;           /* a baseline with no runs at all is an error (it was
                                       asked for), not a note per scenario */
    const char *const *metrics;     /* names from an_metric_all; the first ranks */
    size_t n_metrics;
    int64_t run_id;                 /* run whose uplink use is shown; 0: the first run */
    const char *gnuplot;            /* NULL: $TG_GNUPLOT, else gnuplot in PATH; "none": no plots */
    const char *generator;          /* program and version, for the header */
    const char *command;            /* command line, for the header (may be NULL) */
};

struct an_report_result {
    size_t scenarios, groups, runs; /* what the report covers */
    size_t plots;                   /* SVG files written */
    size_t plot_failures;           /* plots gnuplot failed to make (noted in the report) */
    bool plots_skipped;             /* no gnuplot: tables only, and a note saying why */
    char path[4096];                /* the report.md written */
};

/* Write out_dir/report.md (and SVG files beside it) for the database. Returns 0
 * with *res filled, or -1 (err). A database without runs is an error. */
int an_report_write(const struct an_report_opts *o, struct an_report_result *res, char *err,
                    size_t errlen);

#endif
