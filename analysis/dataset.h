/*
 * dataset.h: the runs of a results database, loaded for analysis
 * (analysis/, DESIGN.md §1). Reads the tables that results/schema.sql
 * defines with plain SQL, never the simulator's code: a database written by
 * any version of triglav-sim with the same schema version can be analysed.
 *
 * Runs are grouped by scenario (name and content hash: an edited scenario
 * file is another experiment) x strategy x aggregation. Within a group the
 * runs are sorted by (iteration, seed), which is what pairs them with the
 * runs of another group of the same scenario: common random numbers
 * (results/README.md, view `paired`).
 *
 * Not here: statistics (stats.h) and writing reports (report.h).
 *
 * Errors: functions that can fail return -1 and write "what went wrong"
 * into err (errlen bytes, always terminated).
 */
#ifndef AN_DATASET_H
#define AN_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

/* A metrics column a report can summarise. */
struct an_metric {
    const char *name;   /* column of the metrics table, e.g. "goodput_mbps" */
    const char *label;  /* for people, e.g. "goodput (Mbit/s)" */
    int better;         /* +1 higher is better, -1 lower is better */
};

/* The metrics a report knows; NULL when `name` is not one. */
const struct an_metric *an_metric_find(const char *name);
/* All of them, in their usual order (*n set to the count). */
const struct an_metric *an_metric_all(size_t *n);

struct an_scenario {
    char *name;       /* scenario name */
    char *hash;       /* content hash, 16 hex digits */
    char *file;       /* path as given to `run` (of its first run) */
    char *label;      /* name, or "name@hash8" when a name has several hashes */
};

struct an_group {
    size_t scenario;    /* index in an_dataset.scenarios */
    char *strategy;
    char *aggregation;
    size_t first_run;   /* its runs are runs[first_run .. first_run + n_runs), */
    size_t n_runs;      /* sorted by (iteration, seed) */
};

struct an_run {
    int64_t id;         /* runs.id */
    size_t group;       /* index in an_dataset.groups */
    int64_t iteration;
    int64_t seed;       /* as stored (signed) */
    double *values;     /* one per dataset metric; NaN when NULL */
};

struct an_dataset {
    char *path;
    const struct an_metric **metrics;  /* the metrics loaded, in the order asked */
    size_t n_metrics;
    struct an_scenario *scenarios;     /* sorted by label */
    size_t n_scenarios;
    struct an_group *groups;           /* sorted by scenario, strategy, aggregation */
    size_t n_groups;
    struct an_run *runs;               /* by group, then (iteration, seed) */
    size_t n_runs;
    double *values;                    /* n_runs x n_metrics, run by run */
};

/* Load every run of the database at `path` (opened read-only) with the
 * values of metrics[0..n_metrics) (names from an_metric_all; unknown names
 * are an error). Refuses files that are missing, not SQLite, or not results
 * databases of schema version 1. Returns 0 with *out set, or -1 (err). */
int an_dataset_load(const char *path, const char *const *metrics, size_t n_metrics,
                    struct an_dataset **out, char *err, size_t errlen);
/* NULL is fine. */
void an_dataset_free(struct an_dataset *ds);

/* Index of the metric in ds->metrics, or -1. */
int an_dataset_metric(const struct an_dataset *ds, const char *name);
/* Index of the group, or -1. */
long an_dataset_group(const struct an_dataset *ds, size_t scenario, const char *strategy,
                      const char *aggregation);

/* Summary of metric m over the runs of group g. */
void an_group_summary(const struct an_dataset *ds, size_t g, size_t m, struct an_summary *out);

/* Paired difference of metric m, group g minus group base (both of one
 * scenario), over the runs they share (iteration, seed); pairs with a NULL
 * on either side are left out. */
void an_group_diff(const struct an_dataset *ds, size_t g, size_t base, size_t m,
                   struct an_summary *out);

/* One entry of a scenario's ranking. */
struct an_rank {
    size_t group;
    size_t tier;               /* 1 = best and those not distinguishable from it */
    struct an_summary value;   /* the metric over the group's runs */
    struct an_summary vs_best; /* paired difference from the scenario's best group */
    struct an_summary vs_tier; /* paired difference from the best group of its tier */
};

/* Rank the groups of a scenario by metric m (its direction decides "best").
 * Tier 1 holds the group with the best mean and every group whose paired 95%
 * CI of the difference from it includes 0 (or has fewer than 2 pairs); tier
 * 2 is formed the same way from the groups left, and so on. Groups without a
 * value for m are not ranked. out has room for every group of the dataset;
 * entries come in ranking order (tier, then mean). Returns the count. */
size_t an_rank_scenario(const struct an_dataset *ds, size_t scenario, size_t m,
                        struct an_rank *out);

#endif
