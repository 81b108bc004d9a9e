/*
 * instrument.c: `report --series` and `report --sweep` (instrument.h).
 * Read with SQL only; column names in the statements come from the tables
 * below or from the metric list of dataset.h, never from the input.
 */
#define _POSIX_C_SOURCE 200809L

#include "instrument.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dataset.h"
#include "dbread.h"
#include "stats.h"
#include "textplot.h"

#define PLOT_W 72
#define PLOT_H 14

/* ------------------------------------------------------------ series */

/* One line of a metric: a column of a series table, per uplink, per flow or
 * for the tunnel. */
struct spec {
    const char *metric;
    const char *table;
    const char *entity;   /* "uplink", "flow", or NULL: the tunnel */
    const char *column;
    const char *what;     /* after the entity's name */
    const char *unit;
};

static const struct spec specs[] = {
    {"throughput", "series_uplinks", "uplink", "down_mbps", "down", "Mbit/s"},
    {"throughput", "series_uplinks", "uplink", "up_mbps", "up", "Mbit/s"},
    {"throughput", "series_flows", "flow", "goodput_mbps", "goodput", "Mbit/s"},
    {"owd", "series_uplinks", "uplink", "owd_down_ms", "down (server's estimate)", "ms"},
    {"owd", "series_uplinks", "uplink", "owd_up_ms", "up (client's estimate)", "ms"},
    {"owd", "series_flows", "flow", "owd_ms", "delivered", "ms"},
    {"queue", "series_uplinks", "uplink", "queue_down_bytes", "down", "bytes"},
    {"queue", "series_uplinks", "uplink", "queue_up_bytes", "up", "bytes"},
    {"share", "series_uplinks", "uplink", "share_down", "down", "fraction of the bytes sent"},
    {"share", "series_uplinks", "uplink", "share_up", "up", "fraction of the bytes sent"},
    {"rate", "series_uplinks", "uplink", "rate_est_down_mbps", "down (server's estimate)",
     "Mbit/s"},
    {"rate", "series_uplinks", "uplink", "rate_est_up_mbps", "up (client's estimate)", "Mbit/s"},
    {"srtt", "series_uplinks", "uplink", "srtt_ms", "client's srtt", "ms"},
    {"cwnd", "series_flows", "flow", "cwnd_bytes", "cwnd", "bytes"},
    {"cwnd", "series_flows", "flow", "inflight_bytes", "in flight", "bytes"},
    {"retransmits", "series_flows", "flow", "retransmits", "TCP", "packets per interval"},
    {"retransmits", "series_tunnel", NULL, "retransmitted_pkts", "tunnel (after NACK)",
     "packets per interval"},
    {"reorder", "series_tunnel", NULL, "reorder_peak_pkts", "reorder-buffer peak so far",
     "packets"},
    {"reorder", "series_tunnel", NULL, "late_drops_pkts", "late drops", "packets per interval"},
    {"drops", "series_uplinks", "uplink", "drops_pkts", "link drops", "packets per interval"},
};
#define N_SPECS (sizeof specs / sizeof specs[0])

int an_series_metric_ok(const char *name)
{
    for (size_t i = 0; i < N_SPECS; i++)
        if (strcmp(specs[i].metric, name) == 0)
            return 1;
    return 0;
}

struct line {
    char name[128];
    double *x, *y;
    size_t n, cap;
};

static int line_add(struct line *l, double x, double y)
{
    if (l->n == l->cap) {
        size_t c = l->cap ? l->cap * 2 : 256;
        double *nx = realloc(l->x, c * sizeof *nx);
        if (!nx)
            return -1;
        l->x = nx;
        double *ny = realloc(l->y, c * sizeof *ny);
        if (!ny)
            return -1;
        l->y = ny;
        l->cap = c;
    }
    l->x[l->n] = x;
    l->y[l->n++] = y;
    return 0;
}

static bool has_table(sqlite3 *db, const char *name)
{
    sqlite3_stmt *st;
    bool yes = false;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        yes = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return yes;
}

/* The label of uplink or flow `id` of the run. */
static void entity_name(sqlite3 *db, int64_t run, const char *entity, int64_t id, char *out,
                        size_t cap)
{
    sqlite3_stmt *st;
    const char *sql = strcmp(entity, "uplink") == 0
                          ? "SELECT name FROM uplink_results WHERE run_id = ?1 AND uplink = ?2"
                          : "SELECT printf('flow %d (%s%s %s)', flow, kind, coalesce(' ' || cc, "
                            "''), direction) FROM flow_results WHERE run_id = ?1 AND flow = ?2";
    snprintf(out, cap, "%s %lld", entity, (long long)id);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_int64(st, 1, run);
    sqlite3_bind_int64(st, 2, id);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) != NULL)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
}

static void free_lines(struct line *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].x);
        free(v[i].y);
    }
    free(v);
}

int an_series_print(FILE *out, const char *db_path, int64_t run_id, const char *metric,
                    char *err, size_t errlen)
{
    if (!an_series_metric_ok(metric)) {
        an_errf(err, errlen, "--metric: '%s' is not a series metric; expected one of %s", metric,
                AN_SERIES_METRICS);
        return -1;
    }
    sqlite3 *db;
    if (an_db_open(db_path, &db, err, errlen) != 0)
        return -1;
    int ret = -1;
    struct line *lines = NULL;
    size_t n_lines = 0, cap_lines = 0;
    sqlite3_stmt *st = NULL;
    if (an_db_check_results(db, db_path, err, errlen) != 0)
        goto out;
    if (!has_table(db, "series_tunnel")) {
        an_errf(err, errlen, "%s: no time series tables (a database from before them; runs "
                "store series with `triglav-sim run --series-interval MS`)", db_path);
        goto out;
    }
    if (sqlite3_prepare_v2(db, "SELECT scenario, strategy, aggregation, iteration, "
                           "printf('%016x', seed), duration_s, (SELECT min(t_ms) FROM "
                           "series_tunnel WHERE run_id = ?1), (SELECT count(*) FROM "
                           "series_tunnel WHERE run_id = ?1) FROM runs WHERE id = ?1",
                           -1, &st, NULL) != SQLITE_OK)
        goto sqlerr;
    sqlite3_bind_int64(st, 1, run_id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        an_errf(err, errlen, "%s: no run %lld (runs.id)", db_path, (long long)run_id);
        goto out;
    }
    if (sqlite3_column_int64(st, 7) == 0) {
        an_errf(err, errlen, "%s: run %lld was stored without time series (run it with "
                "`triglav-sim run --series-interval MS` into a new database)", db_path,
                (long long)run_id);
        goto out;
    }
    fprintf(out, "run %lld: %s, %s/%s, iteration %lld, seed %s, %.1f s simulated, a sample "
            "every %.0f ms\n", (long long)run_id, (const char *)sqlite3_column_text(st, 0),
            (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
            (long long)sqlite3_column_int64(st, 3), (const char *)sqlite3_column_text(st, 4),
            sqlite3_column_double(st, 5), sqlite3_column_double(st, 6));
    sqlite3_finalize(st);
    st = NULL;

    const char *unit = "";
    for (size_t k = 0; k < N_SPECS; k++) {
        const struct spec *sp = &specs[k];
        if (strcmp(sp->metric, metric) != 0)
            continue;
        unit = sp->unit;
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT %s, t_ms, %s FROM %s WHERE run_id = ?1 ORDER BY 1, 2",
                 sp->entity ? sp->entity : "0", sp->column, sp->table);
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
            goto sqlerr;
        sqlite3_bind_int64(st, 1, run_id);
        int rc;
        int64_t cur = -1;
        struct line *l = NULL;
        bool any = false;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            int64_t id = sqlite3_column_int64(st, 0);
            if (l == NULL || id != cur) {
                if (l != NULL && !any) { /* every value NULL: not drawn */
                    free(l->x);
                    free(l->y);
                    n_lines--;
                }
                if (n_lines == cap_lines) {
                    size_t c = cap_lines ? cap_lines * 2 : 8;
                    struct line *nl = realloc(lines, c * sizeof *nl);
                    if (!nl)
                        goto nomem;
                    lines = nl;
                    cap_lines = c;
                }
                l = &lines[n_lines++];
                memset(l, 0, sizeof *l);
                cur = id;
                any = false;
                char ent[96] = "tunnel";
                if (sp->entity)
                    entity_name(db, run_id, sp->entity, id, ent, sizeof ent);
                snprintf(l->name, sizeof l->name, "%s %s", ent, sp->what);
            }
            bool null = sqlite3_column_type(st, 2) == SQLITE_NULL;
            any |= !null;
            if (line_add(l, sqlite3_column_double(st, 1) / 1000,
                         null ? NAN : sqlite3_column_double(st, 2)))
                goto nomem;
        }
        if (l != NULL && !any) {
            free(l->x);
            free(l->y);
            n_lines--;
        }
        sqlite3_finalize(st);
        st = NULL;
        if (rc != SQLITE_DONE)
            goto sqlerr;
    }
    fprintf(out, "\n%s (%s)\n\n", metric, unit);
    fprintf(out, "  %-48s %12s %12s %12s\n", "line", "mean", "min", "max");
    for (size_t i = 0; i < n_lines; i++) {
        double sum = 0, mn = INFINITY, mx = -INFINITY;
        size_t n = 0;
        for (size_t j = 0; j < lines[i].n; j++)
            if (isfinite(lines[i].y[j])) {
                sum += lines[i].y[j];
                mn = fmin(mn, lines[i].y[j]);
                mx = fmax(mx, lines[i].y[j]);
                n++;
            }
        fprintf(out, "  %-48s %12.4g %12.4g %12.4g\n", lines[i].name, n ? sum / (double)n : NAN,
                mn, mx);
    }
    fputc('\n', out);
    struct an_textplot_series ps[16];
    size_t np = n_lines < 16 ? n_lines : 16;
    for (size_t i = 0; i < np; i++)
        ps[i] = (struct an_textplot_series){lines[i].name, lines[i].x, lines[i].y, lines[i].n,
                                            NULL, NULL};
    char ylabel[128];
    snprintf(ylabel, sizeof ylabel, "%s (%s)", metric, unit);
    an_textplot(out, ps, np, "time (s)", ylabel, PLOT_W, PLOT_H);
    ret = 0;
    goto out;
nomem:
    an_errf(err, errlen, "%s: out of memory", db_path);
    goto out;
sqlerr:
    an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
out:
    sqlite3_finalize(st);
    free_lines(lines, n_lines);
    sqlite3_close(db);
    return ret;
}

/* ------------------------------------------------------------ sweeps */

struct cell {
    char *strategy;
    double *v;
    size_t n, cap;
};

struct sweep_group {
    char *scenario, *key, *aggregation;
    char *values[64];
    size_t n_values;
    struct cell cells[64][16]; /* [value][strategy] */
    char *strategies[16];
    size_t n_strategies;
};

static void group_free(struct sweep_group *g)
{
    free(g->scenario);
    free(g->key);
    free(g->aggregation);
    for (size_t i = 0; i < g->n_values; i++)
        free(g->values[i]);
    for (size_t s = 0; s < g->n_strategies; s++)
        free(g->strategies[s]);
    for (size_t i = 0; i < 64; i++)
        for (size_t s = 0; s < 16; s++)
            free(g->cells[i][s].v);
    memset(g, 0, sizeof *g);
}

/* The values as numbers when every one is a number with the same unit
 * after it ("10ms", "30ms"; "2", "4"): x positions in proportion, and the
 * unit in *unit. Else false (the chart spaces the values evenly). */
static bool numeric_values(const struct sweep_group *g, double *x, char *unit, size_t cap)
{
    for (size_t i = 0; i < g->n_values; i++) {
        char *end;
        x[i] = strtod(g->values[i], &end);
        if (end == g->values[i] || !isfinite(x[i]))
            return false;
        if (i == 0)
            snprintf(unit, cap, "%s", end);
        else if (strcmp(unit, end) != 0)
            return false;
    }
    return g->n_values > 0;
}

static void group_print(FILE *out, struct sweep_group *g, const struct an_metric *m)
{
    double num[64];
    char unit[32];
    bool numeric = numeric_values(g, num, unit, sizeof unit);
    double span = 1;
    if (numeric) {
        double lo = num[0], hi = num[0];
        for (size_t i = 1; i < g->n_values; i++) {
            lo = fmin(lo, num[i]);
            hi = fmax(hi, num[i]);
        }
        span = hi > lo ? hi - lo : 1;
    }
    fprintf(out, "\n%s: %s against %s (aggregation %s); mean +- 95%% CI (runs)\n\n", g->scenario,
            m->label, g->key, g->aggregation);
    fprintf(out, "  %-14s", "value");
    for (size_t s = 0; s < g->n_strategies; s++)
        fprintf(out, " %-26s", g->strategies[s]);
    fputc('\n', out);
    static double xs[16][64], ys[16][64], los[16][64], his[16][64];
    for (size_t i = 0; i < g->n_values; i++) {
        fprintf(out, "  %-14s", g->values[i]);
        for (size_t s = 0; s < g->n_strategies; s++) {
            struct cell *c = &g->cells[i][s];
            struct an_summary sm;
            an_summarize(c->v, c->n, &sm);
            char txt[64];
            if (c->n == 0)
                snprintf(txt, sizeof txt, "-");
            else if (isfinite(sm.ci_half))
                snprintf(txt, sizeof txt, "%.4g +- %.2g (%zu)", sm.mean, sm.ci_half, sm.n);
            else
                snprintf(txt, sizeof txt, "%.4g (%zu)", sm.mean, sm.n);
            fprintf(out, " %-26s", txt);
            /* strategies side by side around each value's position */
            double off = ((double)s - (double)(g->n_strategies - 1) / 2) * 0.02;
            xs[s][i] = numeric ? num[i] + off * span : (double)i + off * 4;
            ys[s][i] = c->n ? sm.mean : NAN;
            los[s][i] = isfinite(sm.ci_half) ? sm.mean - sm.ci_half : NAN;
            his[s][i] = isfinite(sm.ci_half) ? sm.mean + sm.ci_half : NAN;
        }
        fputc('\n', out);
    }
    fputc('\n', out);
    struct an_textplot_series ps[16];
    for (size_t s = 0; s < g->n_strategies; s++)
        ps[s] = (struct an_textplot_series){g->strategies[s], xs[s], ys[s], g->n_values, los[s],
                                            his[s]};
    char xl[512];
    if (numeric) {
        snprintf(xl, sizeof xl, "%s%s%s%s", g->key, unit[0] ? " (" : "", unit, unit[0] ? ")" : "");
    } else {
        size_t len = (size_t)snprintf(xl, sizeof xl, "%s, by position:", g->key);
        for (size_t i = 0; i < g->n_values && len < sizeof xl; i++)
            len += (size_t)snprintf(xl + len, sizeof xl - len, " %zu=%s", i, g->values[i]);
    }
    an_textplot(out, ps, g->n_strategies, xl, m->label, PLOT_W, PLOT_H);
}

static bool same(const char *a, const unsigned char *b)
{
    return a && b && strcmp(a, (const char *)b) == 0;
}

int an_sweep_print(FILE *out, const char *db_path, const char *metric, char *err, size_t errlen)
{
    const struct an_metric *m = an_metric_find(metric);
    if (m == NULL) {
        an_errf(err, errlen, "--metric: unknown metric '%s' (a metrics column, e.g. efficiency, "
                "goodput_mbps, owd_p95_ms, failover_max_ms)", metric);
        return -1;
    }
    sqlite3 *db;
    if (an_db_open(db_path, &db, err, errlen) != 0)
        return -1;
    int ret = -1;
    sqlite3_stmt *st = NULL;
    struct sweep_group *g = calloc(1, sizeof *g);
    size_t groups = 0;
    if (g == NULL) {
        an_errf(err, errlen, "out of memory");
        goto out;
    }
    if (an_db_check_results(db, db_path, err, errlen) != 0)
        goto out;
    if (!has_table(db, "sweeps")) {
        an_errf(err, errlen, "%s: no sweeps table (a database from before sweeps; store some "
                "with `triglav-sim run FILE.scn --sweep KEY=V1,V2,...`)", db_path);
        goto out;
    }
    char sql[512];
    snprintf(sql, sizeof sql,
             "SELECT r.scenario, s.key, r.aggregation, s.position, s.value, r.strategy, m.%s "
             "FROM sweeps s JOIN runs r ON r.id = s.run_id JOIN metrics m ON m.run_id = r.id "
             "ORDER BY r.scenario, s.key, r.aggregation, s.position, r.strategy, r.iteration",
             m->name);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *scen = sqlite3_column_text(st, 0), *key = sqlite3_column_text(st, 1),
                            *agg = sqlite3_column_text(st, 2), *val = sqlite3_column_text(st, 4),
                            *strat = sqlite3_column_text(st, 5);
        if (!scen || !key || !agg || !val || !strat)
            continue;
        if (!(same(g->scenario, scen) && same(g->key, key) && same(g->aggregation, agg))) {
            if (g->scenario) {
                group_print(out, g, m);
                groups++;
            }
            group_free(g);
            g->scenario = strdup((const char *)scen);
            g->key = strdup((const char *)key);
            g->aggregation = strdup((const char *)agg);
        }
        size_t vi = 0, si = 0;
        while (vi < g->n_values && strcmp(g->values[vi], (const char *)val) != 0)
            vi++;
        while (si < g->n_strategies && strcmp(g->strategies[si], (const char *)strat) != 0)
            si++;
        if (vi == 64 || si == 16)
            continue; /* beyond what one chart shows */
        if (vi == g->n_values)
            g->values[g->n_values++] = strdup((const char *)val);
        if (si == g->n_strategies)
            g->strategies[g->n_strategies++] = strdup((const char *)strat);
        if (sqlite3_column_type(st, 6) == SQLITE_NULL)
            continue;
        struct cell *c = &g->cells[vi][si];
        if (c->n == c->cap) {
            size_t cap = c->cap ? c->cap * 2 : 16;
            double *nv = realloc(c->v, cap * sizeof *nv);
            if (!nv) {
                an_errf(err, errlen, "out of memory");
                goto out;
            }
            c->v = nv;
            c->cap = cap;
        }
        c->v[c->n++] = sqlite3_column_double(st, 6);
    }
    if (rc != SQLITE_DONE) {
        an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    if (g->scenario) {
        group_print(out, g, m);
        groups++;
    }
    if (groups == 0) {
        an_errf(err, errlen, "%s: no swept runs (store some with `triglav-sim run FILE.scn "
                "--sweep KEY=V1,V2,...`)", db_path);
        goto out;
    }
    ret = 0;
out:
    sqlite3_finalize(st);
    if (g)
        group_free(g);
    free(g);
    sqlite3_close(db);
    return ret;
}
