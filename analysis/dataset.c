/* dataset.c: see dataset.h. */
#define _XOPEN_SOURCE 700 /* strdup, in C11 mode */

#include "dataset.h"

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbread.h"

static const struct an_metric metrics_known[] = {
    {"goodput_mbps", "goodput (Mbit/s)", +1},
    {"efficiency", "aggregation efficiency", +1},
    {"owd_p95_ms", "one-way delay p95 (ms)", -1},
    {"stall_max_ms", "longest stall (ms)", -1},
    {"loss", "UDP loss after the tunnel", -1},
    {"failover_max_ms", "failover time (ms)", -1},
    {"goodput_down_mbps", "goodput down (Mbit/s)", +1},
    {"goodput_up_mbps", "goodput up (Mbit/s)", +1},
    {"owd_p50_ms", "one-way delay p50 (ms)", -1},
    {"owd_p99_ms", "one-way delay p99 (ms)", -1},
    {"jitter_ms", "jitter (ms)", -1},
    {"reorder_peak_pkts", "reorder buffer peak (packets)", -1},
    {"failovers", "failovers", -1},
    {"redundancy_overhead", "redundancy overhead", -1},
    {"session_up_ms", "tunnel up after (ms)", -1},
};

const struct an_metric *an_metric_all(size_t *n)
{
    *n = sizeof metrics_known / sizeof metrics_known[0];
    return metrics_known;
}

const struct an_metric *an_metric_find(const char *name)
{
    size_t n;
    const struct an_metric *all = an_metric_all(&n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i].name, name) == 0)
            return &all[i];
    return NULL;
}

void an_dataset_free(struct an_dataset *ds)
{
    if (ds == NULL)
        return;
    for (size_t i = 0; i < ds->n_scenarios; i++) {
        free(ds->scenarios[i].name);
        free(ds->scenarios[i].hash);
        free(ds->scenarios[i].file);
        free(ds->scenarios[i].label);
    }
    for (size_t i = 0; i < ds->n_groups; i++) {
        free(ds->groups[i].strategy);
        free(ds->groups[i].aggregation);
    }
    free(ds->scenarios);
    free(ds->groups);
    free(ds->runs);
    free(ds->values);
    free(ds->metrics);
    free(ds->path);
    free(ds);
}

/* Make room in *v (elements of `size` bytes, *cap of them) for element n. */
static int grow(void *v, size_t *cap, size_t n, size_t size)
{
    void **pv = v;
    if (n < *cap)
        return 0;
    size_t c = *cap ? *cap * 2 : 16;
    while (c <= n)
        c *= 2;
    void *p = realloc(*pv, c * size);
    if (p == NULL)
        return -1;
    *pv = p;
    *cap = c;
    return 0;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return strdup(t != NULL ? (const char *)t : "");
}

static bool col_eq(sqlite3_stmt *st, int col, const char *s)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t != NULL && strcmp((const char *)t, s) == 0;
}

/* The SELECT of every run with the metrics asked for. The names were
 * checked against metrics_known, so they are safe to splice in. */
static char *runs_sql(const struct an_dataset *ds)
{
    size_t len = 512;
    for (size_t i = 0; i < ds->n_metrics; i++)
        len += strlen(ds->metrics[i]->name) + 8;
    char *sql = malloc(len);
    if (sql == NULL)
        return NULL;
    size_t pos = (size_t)snprintf(sql, len,
                                  "SELECT r.id, r.scenario, r.scenario_hash, r.scenario_file, "
                                  "r.strategy, r.aggregation, r.iteration, r.seed");
    for (size_t i = 0; i < ds->n_metrics; i++)
        pos += (size_t)snprintf(sql + pos, len - pos, ", m.%s", ds->metrics[i]->name);
    snprintf(sql + pos, len - pos,
             " FROM runs r JOIN metrics m ON m.run_id = r.id"
             " ORDER BY r.scenario, r.scenario_hash, r.strategy, r.aggregation, r.iteration,"
             " r.seed");
    return sql;
}

/* Add the row at st to ds: a new scenario and group when they change
 * (the rows come sorted). Returns 0, or -1 when out of memory. */
static int add_row(struct an_dataset *ds, sqlite3_stmt *st, size_t *cap_sc, size_t *cap_gr,
                   size_t *cap_runs, size_t *cap_values)
{
    const struct an_scenario *ls = ds->n_scenarios ? &ds->scenarios[ds->n_scenarios - 1] : NULL;
    bool new_scenario = ls == NULL || !col_eq(st, 1, ls->name) || !col_eq(st, 2, ls->hash);
    if (new_scenario) {
        if (grow(&ds->scenarios, cap_sc, ds->n_scenarios, sizeof *ds->scenarios))
            return -1;
        struct an_scenario *s = &ds->scenarios[ds->n_scenarios++];
        *s = (struct an_scenario){.name = dup_col(st, 1), .hash = dup_col(st, 2),
                                  .file = dup_col(st, 3)};
        if (s->name == NULL || s->hash == NULL || s->file == NULL)
            return -1;
    }
    const struct an_group *lg = ds->n_groups ? &ds->groups[ds->n_groups - 1] : NULL;
    if (new_scenario || !col_eq(st, 4, lg->strategy) || !col_eq(st, 5, lg->aggregation)) {
        if (grow(&ds->groups, cap_gr, ds->n_groups, sizeof *ds->groups))
            return -1;
        struct an_group *g = &ds->groups[ds->n_groups++];
        *g = (struct an_group){.scenario = ds->n_scenarios - 1, .strategy = dup_col(st, 4),
                               .aggregation = dup_col(st, 5), .first_run = ds->n_runs};
        if (g->strategy == NULL || g->aggregation == NULL)
            return -1;
    }
    if (grow(&ds->runs, cap_runs, ds->n_runs, sizeof *ds->runs) ||
        (ds->n_metrics > 0 && grow(&ds->values, cap_values, (ds->n_runs + 1) * ds->n_metrics - 1,
                                   sizeof *ds->values)))
        return -1;
    ds->runs[ds->n_runs] = (struct an_run){.id = sqlite3_column_int64(st, 0),
                                           .group = ds->n_groups - 1,
                                           .iteration = sqlite3_column_int64(st, 6),
                                           .seed = sqlite3_column_int64(st, 7)};
    for (size_t i = 0; i < ds->n_metrics; i++) {
        int col = 8 + (int)i;
        ds->values[ds->n_runs * ds->n_metrics + i] =
            sqlite3_column_type(st, col) == SQLITE_NULL ? NAN : sqlite3_column_double(st, col);
    }
    ds->n_runs++;
    ds->groups[ds->n_groups - 1].n_runs++;
    return 0;
}

/* Labels: the name, made unique by the hash when an edited scenario file
 * gave one name two contents (scenarios come sorted by name). */
static int make_labels(struct an_dataset *ds)
{
    for (size_t i = 0; i < ds->n_scenarios; i++) {
        struct an_scenario *s = &ds->scenarios[i];
        bool twin = (i > 0 && strcmp(ds->scenarios[i - 1].name, s->name) == 0) ||
                    (i + 1 < ds->n_scenarios && strcmp(ds->scenarios[i + 1].name, s->name) == 0);
        size_t n = strlen(s->name) + 16;
        if ((s->label = malloc(n)) == NULL)
            return -1;
        if (twin)
            snprintf(s->label, n, "%s@%.8s", s->name, s->hash);
        else
            snprintf(s->label, n, "%s", s->name);
    }
    return 0;
}

int an_dataset_load(const char *path, const char *const *metrics, size_t n_metrics,
                    struct an_dataset **out, char *err, size_t errlen)
{
    *out = NULL;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *sql = NULL;
    int ret = -1;
    struct an_dataset *ds = calloc(1, sizeof *ds);
    if (ds == NULL || (ds->path = strdup(path)) == NULL ||
        (ds->metrics = calloc(n_metrics ? n_metrics : 1, sizeof *ds->metrics)) == NULL)
        goto oom;
    for (size_t i = 0; i < n_metrics; i++) {
        if ((ds->metrics[i] = an_metric_find(metrics[i])) == NULL) {
            an_errf(err, errlen, "unknown metric '%s'", metrics[i]);
            goto out;
        }
    }
    ds->n_metrics = n_metrics;
    if (an_db_open(path, &db, err, errlen) != 0 || an_db_check_results(db, path, err, errlen) != 0)
        goto out;
    if ((sql = runs_sql(ds)) == NULL)
        goto oom;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    size_t cap_sc = 0, cap_gr = 0, cap_runs = 0, cap_values = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        if (add_row(ds, st, &cap_sc, &cap_gr, &cap_runs, &cap_values) != 0)
            goto oom;
    if (rc != SQLITE_DONE) {
        an_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        goto out;
    }
    for (size_t i = 0; i < ds->n_runs; i++)
        ds->runs[i].values = ds->n_metrics ? ds->values + i * ds->n_metrics : NULL;
    if (make_labels(ds) != 0)
        goto oom;
    *out = ds;
    ds = NULL;
    ret = 0;
    goto out;
oom:
    an_errf(err, errlen, "out of memory");
out:
    free(sql);
    sqlite3_finalize(st);
    sqlite3_close(db);
    an_dataset_free(ds);
    return ret;
}

int an_dataset_metric(const struct an_dataset *ds, const char *name)
{
    for (size_t i = 0; i < ds->n_metrics; i++)
        if (strcmp(ds->metrics[i]->name, name) == 0)
            return (int)i;
    return -1;
}

long an_dataset_group(const struct an_dataset *ds, size_t scenario, const char *strategy,
                      const char *aggregation)
{
    for (size_t i = 0; i < ds->n_groups; i++) {
        const struct an_group *g = &ds->groups[i];
        if (g->scenario == scenario && strcmp(g->strategy, strategy) == 0 &&
            strcmp(g->aggregation, aggregation) == 0)
            return (long)i;
    }
    return -1;
}

static double value(const struct an_dataset *ds, size_t run, size_t m)
{
    return ds->values[run * ds->n_metrics + m];
}

void an_group_summary(const struct an_dataset *ds, size_t g, size_t m, struct an_summary *out)
{
    const struct an_group *gr = &ds->groups[g];
    double *x = malloc((gr->n_runs ? gr->n_runs : 1) * sizeof *x);
    if (x == NULL) {
        an_summarize(NULL, 0, out);
        return;
    }
    for (size_t i = 0; i < gr->n_runs; i++)
        x[i] = value(ds, gr->first_run + i, m);
    an_summarize(x, gr->n_runs, out);
    free(x);
}

static int cmp_key(const struct an_run *a, const struct an_run *b)
{
    if (a->iteration != b->iteration)
        return a->iteration < b->iteration ? -1 : 1;
    return (a->seed > b->seed) - (a->seed < b->seed);
}

void an_group_diff(const struct an_dataset *ds, size_t g, size_t base, size_t m,
                   struct an_summary *out)
{
    const struct an_group *a = &ds->groups[g], *b = &ds->groups[base];
    size_t cap = a->n_runs < b->n_runs ? a->n_runs : b->n_runs;
    double *d = malloc((cap ? cap : 1) * sizeof *d);
    if (d == NULL) {
        an_summarize(NULL, 0, out);
        return;
    }
    /* both sorted by (iteration, seed): a merge join */
    size_t n = 0, i = 0, j = 0;
    while (i < a->n_runs && j < b->n_runs) {
        const struct an_run *ra = &ds->runs[a->first_run + i], *rb = &ds->runs[b->first_run + j];
        int c = cmp_key(ra, rb);
        if (c < 0) {
            i++;
        } else if (c > 0) {
            j++;
        } else {
            d[n++] = value(ds, a->first_run + i, m) - value(ds, b->first_run + j, m);
            i++;
            j++;
        }
    }
    an_summarize(d, n, out);
    free(d);
}

/* Is mean x better than y for a metric whose direction is `better`? */
static bool better_than(double x, double y, int better)
{
    return better > 0 ? x > y : x < y;
}

size_t an_rank_scenario(const struct an_dataset *ds, size_t scenario, size_t m,
                        struct an_rank *out)
{
    int dir = ds->metrics[m]->better;
    size_t n = 0;
    for (size_t g = 0; g < ds->n_groups; g++) {
        if (ds->groups[g].scenario != scenario)
            continue;
        struct an_rank *r = &out[n];
        *r = (struct an_rank){.group = g};
        an_group_summary(ds, g, m, &r->value);
        if (r->value.n > 0)
            n++;
    }
    /* best of all, for vs_best */
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (better_than(out[i].value.mean, out[best].value.mean, dir))
            best = i;
    for (size_t i = 0; i < n; i++)
        an_group_diff(ds, out[i].group, out[best].group, m, &out[i].vs_best);

    /* tiers: out[0..done) are placed, in ranking order */
    size_t done = 0;
    for (size_t tier = 1; done < n; tier++) {
        size_t top = done;
        for (size_t i = done + 1; i < n; i++)
            if (better_than(out[i].value.mean, out[top].value.mean, dir))
                top = i;
        struct an_rank t = out[top];
        out[top] = out[done];
        out[done] = t;
        size_t lead = out[done].group;
        size_t first = done;
        for (size_t i = done; i < n; i++) {
            an_group_diff(ds, out[i].group, lead, m, &out[i].vs_tier);
            if (i == first || an_ci_includes_zero(&out[i].vs_tier)) {
                out[i].tier = tier;
                struct an_rank s = out[i];
                out[i] = out[done];
                out[done++] = s;
            }
        }
        /* within the tier, by mean */
        for (size_t i = first + 1; i < done; i++) {
            for (size_t k = i; k > first + 1 &&
                               better_than(out[k].value.mean, out[k - 1].value.mean, dir);
                 k--) {
                struct an_rank s = out[k];
                out[k] = out[k - 1];
                out[k - 1] = s;
            }
        }
    }
    return n;
}
