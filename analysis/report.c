/* report.c: see report.h. Writes Markdown straight to the file; numbers get
 * three significant digits, enough to read a CI by eye (the database has
 * them all). */
#define _XOPEN_SOURCE 700 /* open_memstream, mkdir */

#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dataset.h"
#include "dbread.h"
#include "instrument.h"
#include "plot.h"

/* ------------------------------------------------------------ formatting */

/* x with three significant digits ("–" for NaN). */
static const char *num(char *o, size_t cap, double x)
{
    double a = fabs(x);
    if (isnan(x))
        snprintf(o, cap, "–");
    else if (a == 0)
        snprintf(o, cap, "0");
    else if (a >= 100)
        snprintf(o, cap, "%.0f", x);
    else if (a >= 10)
        snprintf(o, cap, "%.1f", x);
    else if (a >= 1)
        snprintf(o, cap, "%.2f", x);
    else if (a >= 0.1)
        snprintf(o, cap, "%.3f", x);
    else
        snprintf(o, cap, "%.3g", x);
    return o;
}

/* "12.3 ± 0.51", "12.3" (one value), "–" (none). */
static const char *mean_pm(char *o, size_t cap, const struct an_summary *s)
{
    char a[24], b[24]; /* callers give 64: room for both */
    if (s->n == 0)
        snprintf(o, cap, "–");
    else if (isnan(s->ci_half))
        snprintf(o, cap, "%s", num(a, sizeof a, s->mean));
    else
        snprintf(o, cap, "%s ± %s", num(a, sizeof a, s->mean), num(b, sizeof b, s->ci_half));
    return o;
}

/* "[11.8, 12.8]" or "–". */
static const char *ci(char *o, size_t cap, const struct an_summary *s)
{
    char a[24], b[24]; /* callers give 64: room for both */
    if (s->n < 2 || isnan(s->ci_half))
        snprintf(o, cap, "–");
    else
        snprintf(o, cap, "[%s, %s]", num(a, sizeof a, s->mean - s->ci_half),
                 num(b, sizeof b, s->mean + s->ci_half));
    return o;
}

/* Text in a Markdown table cell: '|' escaped, no line breaks. */
static void md(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '\n' || *s == '\r')
            fputc(' ', f);
        else
            fputc(*s, f);
    }
}

/* Text in a code span: backticks would end it. */
static void code(FILE *f, const char *s)
{
    fputc('`', f);
    for (; *s; s++)
        fputc(*s == '`' ? '\'' : (*s == '\n' ? ' ' : *s), f);
    fputc('`', f);
}

/* A file name from a label: [A-Za-z0-9_-] kept, others '_'. */
static void file_part(char *o, size_t cap, const char *s)
{
    size_t i = 0;
    for (; *s && i + 1 < cap; s++)
        o[i++] = ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                  (*s >= '0' && *s <= '9') || *s == '_' || *s == '-')
                     ? *s
                     : '_';
    o[i] = '\0';
}

/* The verdict on a paired difference of a metric with direction `better`. */
static const char *verdict(const struct an_summary *d, int better)
{
    if (d->n < 2)
        return "too few pairs";
    if (an_ci_includes_zero(d))
        return "not distinguishable";
    return (d->mean > 0) == (better > 0) ? "**better**" : "**worse**";
}

/* ------------------------------------------------------------ context */

struct ctx {
    const struct an_report_opts *o;
    struct an_dataset *ds;
    sqlite3 *db;
    FILE *f;                  /* report.md */
    size_t n_table;           /* the first n_table dataset metrics are the report's */
    int m_goodput, m_p50, m_p95; /* dataset metrics the plots use */
    bool plots;               /* gnuplot found */
    char gnuplot[4096];
    char why[256];            /* why there are no plots */
    struct an_report_result *res;
};

/* Run a finished gnuplot script; on failure say so in the report. Returns
 * true when the SVG was written. */
static bool plot(struct ctx *c, char *script, size_t len, const char *file)
{
    char err[512];
    if (an_plot_run(c->gnuplot, script, len, err, sizeof err) != 0) {
        fprintf(stderr, "triglav-sim report: plot %s: %s\n", file, err);
        fprintf(c->f, "\n*Plot `%s` failed: ", file);
        md(c->f, err);
        fprintf(c->f, ".*\n");
        c->res->plot_failures++;
        return false;
    }
    c->res->plots++;
    return true;
}

/* Start a gnuplot script writing out_dir/file. */
static FILE *script_open(struct ctx *c, char **buf, size_t *len, const char *file,
                         int width, int height)
{
    FILE *s = open_memstream(buf, len);
    if (s == NULL)
        return NULL;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->o->out_dir, file);
    fprintf(s, "set terminal svg size %d,%d dynamic font 'Helvetica,12' background rgb 'white'\n",
            width, height);
    fprintf(s, "set termoption noenhanced\nset encoding utf8\nset output ");
    an_plot_quote(s, path);
    fputc('\n', s);
    return s;
}

/* The label of a group in plots and rankings: the strategy, and the
 * aggregation when the scenario has several. */
static void group_label(const struct ctx *c, size_t g, bool with_agg, char *o, size_t cap)
{
    const struct an_group *gr = &c->ds->groups[g];
    if (with_agg)
        snprintf(o, cap, "%s/%s", gr->strategy, gr->aggregation);
    else
        snprintf(o, cap, "%s", gr->strategy);
}

static bool several_aggregations(const struct ctx *c, size_t sc)
{
    const char *first = NULL;
    for (size_t g = 0; g < c->ds->n_groups; g++) {
        if (c->ds->groups[g].scenario != sc)
            continue;
        if (first == NULL)
            first = c->ds->groups[g].aggregation;
        else if (strcmp(first, c->ds->groups[g].aggregation) != 0)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------ plots */

/* Goodput per group with its 95% CI as error bars. */
static bool plot_goodput(struct ctx *c, size_t sc, const char *file)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *s = script_open(c, &buf, &len, file, 760, 420);
    if (s == NULL)
        return false;
    bool agg = several_aggregations(c, sc);
    size_t k = 0;
    fprintf(s, "$d << EOD\n");
    for (size_t g = 0; g < c->ds->n_groups; g++) {
        if (c->ds->groups[g].scenario != sc)
            continue;
        struct an_summary v;
        an_group_summary(c->ds, g, (size_t)c->m_goodput, &v);
        char label[128];
        group_label(c, g, agg, label, sizeof label);
        fprintf(s, "%zu \"%s\" %.6g %.6g\n", k++, label, v.n ? v.mean : 0.0,
                isnan(v.ci_half) ? 0.0 : v.ci_half);
    }
    fprintf(s, "EOD\n");
    fprintf(s, "set title ");
    char title[256];
    snprintf(title, sizeof title, "%s: goodput, mean and 95%% CI over runs",
             c->ds->scenarios[sc].label);
    an_plot_quote(s, title);
    fprintf(s, "\nset ylabel 'goodput (Mbit/s)'\nset yrange [0:*]\nset xrange [-0.6:%zu.6]\n"
               "set grid ytics\nset boxwidth 0.6\nset style fill solid 0.5 border -1\n"
               "set xtics rotate by -25 nomirror\nunset key\n"
               "plot $d using 1:3:4:xtic(2) with boxerrorbars lc rgb '#4477aa' lw 1.5\n",
            k - 1);
    fclose(s);
    bool ok = plot(c, buf, len, file);
    free(buf);
    return ok;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Empirical CDF over runs of each run's p95 (solid) and p50 (dashed)
 * one-way delay, one colour per group. */
static bool plot_owd_cdf(struct ctx *c, size_t sc, const char *file)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *s = script_open(c, &buf, &len, file, 760, 420);
    if (s == NULL)
        return false;
    bool agg = several_aggregations(c, sc);
    double lo = INFINITY, hi = 0;
    size_t k = 0;
    char *plotcmd = NULL;
    size_t plotlen = 0;
    FILE *p = open_memstream(&plotcmd, &plotlen);
    if (p == NULL) {
        fclose(s);
        free(buf);
        return false;
    }
    for (size_t g = 0; g < c->ds->n_groups; g++) {
        const struct an_group *gr = &c->ds->groups[g];
        if (gr->scenario != sc)
            continue;
        int ms[2] = {c->m_p95, c->m_p50};
        for (int q = 0; q < 2; q++) {
            double *x = malloc((gr->n_runs ? gr->n_runs : 1) * sizeof *x);
            if (x == NULL)
                continue;
            size_t n = 0;
            for (size_t i = 0; i < gr->n_runs; i++) {
                double v = c->ds->runs[gr->first_run + i].values[ms[q]];
                if (!isnan(v) && v > 0)
                    x[n++] = v;
            }
            qsort(x, n, sizeof *x, cmp_double);
            fprintf(s, "$g%zu_%d << EOD\n", k, q);
            for (size_t i = 0; i < n; i++) {
                if (i == 0)
                    fprintf(s, "%.6g 0\n", x[0]);
                fprintf(s, "%.6g %.6g\n", x[i], (double)(i + 1) / (double)n);
                lo = x[i] < lo ? x[i] : lo;
                hi = x[i] > hi ? x[i] : hi;
            }
            if (n == 0)
                fprintf(s, "NaN NaN\n");
            fprintf(s, "EOD\n");
            free(x);
        }
        char label[128];
        group_label(c, g, agg, label, sizeof label);
        fprintf(p, "%s$g%zu_0 using 1:2 with steps lw 2 lc %zu title ", k ? ", " : "", k, k + 1);
        an_plot_quote(p, label);
        fprintf(p, ", $g%zu_1 using 1:2 with steps lw 1.2 dt 2 lc %zu notitle", k, k + 1);
        k++;
    }
    fclose(p);
    char title[256];
    snprintf(title, sizeof title, "%s: one-way delay of each run, CDF over runs",
             c->ds->scenarios[sc].label);
    fprintf(s, "set title ");
    an_plot_quote(s, title);
    fprintf(s, "\nset xlabel 'one-way delay of a run (ms): p95 solid, p50 dashed'\n"
               "set ylabel 'fraction of runs'\nset yrange [0:1.02]\nset grid\n"
               "set key outside right top\n");
    if (hi > 0 && lo < INFINITY && hi / lo > 20)
        fprintf(s, "set logscale x\n");
    fprintf(s, "plot %s\n", plotcmd ? plotcmd : "");
    free(plotcmd);
    fclose(s);
    bool ok = hi > 0 && plot(c, buf, len, file);
    free(buf);
    return ok;
}

/* ------------------------------------------------------------ header */

static void write_header(struct ctx *c)
{
    FILE *f = c->f;
    const struct an_dataset *ds = c->ds;
    fprintf(f, "# Triglav simulation report\n\n");
    fprintf(f, "Written by `triglav-sim report` (%s)", c->o->generator ? c->o->generator : "");
    if (c->o->command != NULL) {
        fprintf(f, ": ");
        code(f, c->o->command);
    }
    fprintf(f, ".\n\n");
    fprintf(f, "- **Database**: ");
    code(f, ds->path);
    fprintf(f, ", %zu runs of %zu scenario%s in %zu scenario × strategy × aggregation groups.\n",
            ds->n_runs, ds->n_scenarios, ds->n_scenarios == 1 ? "" : "s", ds->n_groups);

    sqlite3_stmt *st = NULL;
    fprintf(f, "- **Campaigns**:\n");
    if (sqlite3_prepare_v2(c->db,
                           "SELECT c.id, c.key, c.planned_runs, c.created, c.command,"
                           " (SELECT count(*) FROM runs r WHERE r.campaign_id = c.id)"
                           " FROM campaigns c ORDER BY c.id",
                           -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(f, "  - #%lld (key %s, created %s): %lld runs planned, %lld stored here: ",
                    (long long)sqlite3_column_int64(st, 0),
                    (const char *)sqlite3_column_text(st, 1),
                    (const char *)sqlite3_column_text(st, 3),
                    (long long)sqlite3_column_int64(st, 2),
                    (long long)sqlite3_column_int64(st, 5));
            code(f, (const char *)sqlite3_column_text(st, 4));
            fputc('\n', f);
        }
    }
    sqlite3_finalize(st);

    fprintf(f, "- **Software** (`runs.version`):");
    if (sqlite3_prepare_v2(c->db, "SELECT version, count(*) FROM runs GROUP BY version ORDER BY 1",
                           -1, &st, NULL) == SQLITE_OK) {
        const char *sep = " ";
        while (sqlite3_step(st) == SQLITE_ROW) {
            fprintf(f, "%striglav-sim %s (%lld runs)", sep,
                    (const char *)sqlite3_column_text(st, 0),
                    (long long)sqlite3_column_int64(st, 1));
            sep = ", ";
        }
    }
    sqlite3_finalize(st);
    fprintf(f, "; SQLite %s.\n", sqlite3_libversion());

    fprintf(f, "- **Seeds**: iteration *i* of a scenario has one seed, derived from the base "
               "seed, the scenario name and *i*, shared by every strategy and aggregation "
               "mode (common random numbers).\n\n");
    fprintf(f, "| scenario | file | content hash | runs | iterations | distinct seeds | "
               "base seed |\n|---|---|---|---:|---:|---:|---|\n");
    if (sqlite3_prepare_v2(
            c->db,
            "SELECT r.scenario, r.scenario_hash, min(r.scenario_file), count(*),"
            " min(r.iteration), max(r.iteration), count(DISTINCT r.seed),"
            " (SELECT group_concat(b, ', ') FROM (SELECT DISTINCT CASE WHEN cs.base_seed >= 0"
            "   THEN cs.base_seed ELSE printf('0x%016x', cs.base_seed) END AS b"
            "   FROM campaign_scenarios cs WHERE cs.scenario_hash = r.scenario_hash))"
            " FROM runs r GROUP BY r.scenario, r.scenario_hash ORDER BY 1, 2",
            -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *base = sqlite3_column_text(st, 7);
            fprintf(f, "| ");
            md(f, (const char *)sqlite3_column_text(st, 0));
            fprintf(f, " | ");
            md(f, (const char *)sqlite3_column_text(st, 2));
            fprintf(f, " | %s | %lld | %lld–%lld | %lld | %s |\n",
                    (const char *)sqlite3_column_text(st, 1),
                    (long long)sqlite3_column_int64(st, 3), (long long)sqlite3_column_int64(st, 4),
                    (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6),
                    base ? (const char *)base : "–");
        }
    }
    sqlite3_finalize(st);

    const struct an_metric *rank = ds->metrics[0];
    fprintf(f, "\n## How to read this report\n\n");
    fprintf(f,
            "- A **group** is one scenario × strategy × aggregation mode; its *n* runs are "
            "Monte Carlo iterations (one per seed).\n"
            "- **mean ± h**: the mean over the group's runs and the half-width *h* of its %.0f%% "
            "confidence interval, Student *t* with *n*−1 degrees of freedom: "
            "mean ± t(0.975, n−1)·sd/√n. It says how well the runs pin down the mean, not how "
            "much runs vary: for that read **p50 / p95 / p99**, percentiles over the runs "
            "(linear interpolation between order statistics). With few runs p99 is close to "
            "the worst run.\n"
            "- **Paired difference Δ** (strategy − %s): over the runs of the same scenario, "
            "iteration, seed and aggregation mode, which met the same uplink rates, outages "
            "and traffic (common random numbers); the noise of the environment cancels, so "
            "the CI of Δ is narrower than the two CIs side by side suggest. A CI that excludes "
            "0 means the difference is significant at the 5%% level (**better** / **worse**, "
            "in the metric's direction); each comparison is tested on its own, so among many "
            "comparisons about one in twenty is flagged by chance.\n"
            "- **Ranking** (by %s, %s is better): tier 1 is the group with the best mean and "
            "every group whose paired %.0f%% CI of the difference from it includes 0 (*not "
            "distinguishable* from the best with these runs); tier 2 is formed the same way "
            "from the groups left, and so on. More iterations split tiers that are really "
            "different.\n"
            "- **–**: no value (no run had one: e.g. `failover_max_ms` is NULL when no uplink "
            "went down) or no CI (fewer than 2 runs). A metric's *n* can be smaller than the "
            "group's when some runs have no value.\n",
            AN_CONFIDENCE * 100, c->o->baseline, rank->name,
            rank->better > 0 ? "higher" : "lower", AN_CONFIDENCE * 100);
}

/* ------------------------------------------------------------ overview */

static void write_overview(struct ctx *c, struct an_rank *ranks)
{
    FILE *f = c->f;
    const struct an_dataset *ds = c->ds;
    const struct an_metric *m = ds->metrics[0];
    fprintf(f, "\n## Overview: best by %s\n\n", m->label);
    fprintf(f, "| scenario | runs | groups | tier 1 (not distinguishable from the best) | "
               "best mean ± 95%% CI | next tier |\n|---|---:|---:|---|---:|---|\n");
    for (size_t sc = 0; sc < ds->n_scenarios; sc++) {
        size_t n = an_rank_scenario(ds, sc, 0, ranks);
        size_t runs = 0, groups = 0;
        for (size_t g = 0; g < ds->n_groups; g++)
            if (ds->groups[g].scenario == sc) {
                runs += ds->groups[g].n_runs;
                groups++;
            }
        bool agg = several_aggregations(c, sc);
        fprintf(f, "| ");
        md(f, ds->scenarios[sc].label);
        fprintf(f, " | %zu | %zu | ", runs, groups);
        for (size_t i = 0; i < n && ranks[i].tier == 1; i++) {
            char l[128];
            group_label(c, ranks[i].group, agg, l, sizeof l);
            fprintf(f, "%s%s", i ? ", " : "", l);
        }
        char b[64];
        fprintf(f, " | %s | ", n ? mean_pm(b, sizeof b, &ranks[0].value) : "–");
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            if (ranks[i].tier != 2)
                continue;
            char l[128];
            group_label(c, ranks[i].group, agg, l, sizeof l);
            fprintf(f, "%s%s", any ? ", " : "", l);
            any = true;
        }
        fprintf(f, "%s |\n", any ? "" : "–");
    }
}

/* ------------------------------------------------------------ scenario */

static void write_ranking(struct ctx *c, size_t sc, struct an_rank *ranks)
{
    FILE *f = c->f;
    const struct an_metric *m = c->ds->metrics[0];
    size_t n = an_rank_scenario(c->ds, sc, 0, ranks);
    fprintf(f, "\n### Ranking by %s\n\n", m->label);
    fprintf(f, "| tier | strategy | aggregation | n | mean ± 95%% CI | Δ from the best "
               "(paired) | 95%% CI of Δ | pairs |\n|---:|---|---|---:|---:|---:|---|---:|\n");
    for (size_t i = 0; i < n; i++) {
        const struct an_group *g = &c->ds->groups[ranks[i].group];
        char a[64], b[32], d[64];
        fprintf(f, "| %zu | %s | %s | %zu | %s | %s | %s | %zu |\n", ranks[i].tier, g->strategy,
                g->aggregation, ranks[i].value.n, mean_pm(a, sizeof a, &ranks[i].value),
                i == 0 ? "best" : num(b, sizeof b, ranks[i].vs_best.mean),
                i == 0 ? "" : ci(d, sizeof d, &ranks[i].vs_best), ranks[i].vs_best.n);
    }
}

static void write_metrics(struct ctx *c, size_t sc)
{
    FILE *f = c->f;
    const struct an_dataset *ds = c->ds;
    fprintf(f, "\n### Means with 95%% confidence intervals\n\n| strategy | aggregation | runs |");
    for (size_t m = 0; m < c->n_table; m++)
        fprintf(f, " %s |", ds->metrics[m]->label);
    fprintf(f, "\n|---|---|---:|");
    for (size_t m = 0; m < c->n_table; m++)
        fprintf(f, "---:|");
    fputc('\n', f);
    for (size_t g = 0; g < ds->n_groups; g++) {
        const struct an_group *gr = &ds->groups[g];
        if (gr->scenario != sc)
            continue;
        fprintf(f, "| %s | %s | %zu |", gr->strategy, gr->aggregation, gr->n_runs);
        for (size_t m = 0; m < c->n_table; m++) {
            struct an_summary s;
            an_group_summary(ds, g, m, &s);
            char a[64];
            fprintf(f, " %s", mean_pm(a, sizeof a, &s));
            if (s.n > 0 && s.n < gr->n_runs)
                fprintf(f, " (n=%zu)", s.n);
            fprintf(f, " |");
        }
        fputc('\n', f);
    }

    fprintf(f, "\n<details><summary>Distributions over runs (n, mean, 95%% CI, p50, p95, "
               "p99)</summary>\n\n");
    fprintf(f, "| metric | strategy | aggregation | n | mean | 95%% CI | p50 | p95 | p99 |\n"
               "|---|---|---|---:|---:|---|---:|---:|---:|\n");
    for (size_t m = 0; m < c->n_table; m++) {
        for (size_t g = 0; g < ds->n_groups; g++) {
            const struct an_group *gr = &ds->groups[g];
            if (gr->scenario != sc)
                continue;
            struct an_summary s;
            an_group_summary(ds, g, m, &s);
            char a[32], b[64], p1[32], p2[32], p3[32];
            fprintf(f, "| %s | %s | %s | %zu | %s | %s | %s | %s | %s |\n", ds->metrics[m]->name,
                    gr->strategy, gr->aggregation, s.n, num(a, sizeof a, s.mean),
                    ci(b, sizeof b, &s), num(p1, sizeof p1, s.p50), num(p2, sizeof p2, s.p95),
                    num(p3, sizeof p3, s.p99));
        }
    }
    fprintf(f, "\n</details>\n");
}

static void write_paired(struct ctx *c, size_t sc)
{
    FILE *f = c->f;
    const struct an_dataset *ds = c->ds;
    const char *base = c->o->baseline;
    fprintf(f, "\n### Paired differences from %s\n\n", base);
    bool any_base = false, rows = false;
    for (size_t g = 0; g < ds->n_groups; g++)
        any_base |= ds->groups[g].scenario == sc && strcmp(ds->groups[g].strategy, base) == 0;
    if (!any_base) {
        fprintf(f, "No runs of the baseline strategy %s in this scenario (choose another with "
                   "`--baseline`).\n",
                base);
        return;
    }
    for (size_t m = 0; m < c->n_table; m++) {
        for (size_t g = 0; g < ds->n_groups; g++) {
            const struct an_group *gr = &ds->groups[g];
            if (gr->scenario != sc || strcmp(gr->strategy, base) == 0)
                continue;
            long b = an_dataset_group(ds, sc, base, gr->aggregation);
            if (b < 0)
                continue;
            if (!rows)
                fprintf(f, "| metric | strategy | aggregation | pairs | %s mean | Δ mean | "
                           "Δ %% | 95%% CI of Δ | verdict |\n"
                           "|---|---|---|---:|---:|---:|---:|---|---|\n",
                        base);
            rows = true;
            struct an_summary d, bs;
            an_group_diff(ds, g, (size_t)b, m, &d);
            an_group_summary(ds, (size_t)b, m, &bs);
            char x[32], y[32], z[64], pct[32] = "–";
            if (d.n > 0 && bs.n > 0 && bs.mean != 0)
                snprintf(pct, sizeof pct, "%+.1f%%", 100.0 * d.mean / fabs(bs.mean));
            fprintf(f, "| %s | %s | %s | %zu | %s | %s | %s | %s | %s |\n", ds->metrics[m]->name,
                    gr->strategy, gr->aggregation, d.n, num(x, sizeof x, bs.mean),
                    num(y, sizeof y, d.mean), pct, ci(z, sizeof z, &d),
                    verdict(&d, ds->metrics[m]->better));
        }
    }
    if (!rows)
        fprintf(f, "Only %s ran in this scenario (or no other strategy shares an aggregation "
                   "mode with it).\n",
                base);
}

static void write_scenario(struct ctx *c, size_t sc, struct an_rank *ranks)
{
    FILE *f = c->f;
    const struct an_scenario *s = &c->ds->scenarios[sc];
    fprintf(f, "\n## Scenario %s\n\n", s->label);
    fprintf(f, "File ");
    code(f, s->file);
    fprintf(f, ", content hash `%s`.\n", s->hash);
    write_ranking(c, sc, ranks);
    write_metrics(c, sc);
    write_paired(c, sc);
    if (!c->plots)
        return;
    char part[128], g[256], d[256];
    file_part(part, sizeof part, s->label);
    snprintf(g, sizeof g, "goodput_%s.svg", part);
    snprintf(d, sizeof d, "owd_cdf_%s.svg", part);
    bool pg = c->m_goodput >= 0 && plot_goodput(c, sc, g);
    bool pd = c->m_p95 >= 0 && plot_owd_cdf(c, sc, d);
    if (pg || pd)
        fprintf(f, "\n### Plots\n\n");
    if (pg)
        fprintf(f, "![%s: goodput with 95%% CI](%s)\n", s->label, g);
    if (pd)
        fprintf(f, "%s![%s: CDF over runs of each run's one-way delay p95 and p50](%s)\n",
                pg ? "\n" : "", s->label, d);
}

/* ------------------------------------------------------------ uplinks */

struct uplink_row {
    int64_t run;
    char strategy[64], aggregation[32], name[64];
    int64_t uplink;
    double dl_up, dl_down;      /* delivered bytes */
    int64_t drops;
    double down_ms;
};

static int write_uplinks(struct ctx *c, char *err, size_t errlen)
{
    FILE *f = c->f;
    sqlite3_stmt *st = NULL;
    int64_t id = c->o->run_id;
    if (id == 0) {
        if (sqlite3_prepare_v2(c->db, "SELECT min(id) FROM runs", -1, &st, NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
            id = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (sqlite3_prepare_v2(c->db,
                           "SELECT scenario, scenario_hash, iteration, seed, strategy, aggregation,"
                           " printf('%016x', seed) FROM runs WHERE id = ?",
                           -1, &st, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", c->o->db_path, sqlite3_errmsg(c->db));
        return -1;
    }
    sqlite3_bind_int64(st, 1, id);
    if (sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        an_errf(err, errlen, "--run %" PRId64 ": no such run in %s (ids: SELECT id FROM runs)",
                id, c->o->db_path);
        return -1;
    }
    char scenario[128], hash[32], seed_hex[32], strategy[64], agg[32];
    snprintf(scenario, sizeof scenario, "%s", (const char *)sqlite3_column_text(st, 0));
    snprintf(hash, sizeof hash, "%s", (const char *)sqlite3_column_text(st, 1));
    int64_t iteration = sqlite3_column_int64(st, 2), seed = sqlite3_column_int64(st, 3);
    snprintf(strategy, sizeof strategy, "%s", (const char *)sqlite3_column_text(st, 4));
    snprintf(agg, sizeof agg, "%s", (const char *)sqlite3_column_text(st, 5));
    snprintf(seed_hex, sizeof seed_hex, "%s", (const char *)sqlite3_column_text(st, 6));
    sqlite3_finalize(st);

    fprintf(f, "\n## Uplink use in run %" PRId64 "\n\n", id);
    fprintf(f, "Run %" PRId64 " is %s, %s, aggregation %s, iteration %" PRId64 ", seed 0x%s "
               "(choose another with `--run ID`). Below: every run that met the same "
               "environment (same scenario, iteration and seed), uplink by uplink; MB are "
               "10⁶ bytes the link delivered (outer, both directions). The database holds "
               "per-uplink totals, not time series.\n\n",
            id, scenario, strategy, agg, iteration, seed_hex);
    if (sqlite3_prepare_v2(
            c->db,
            "SELECT r.id, r.strategy, r.aggregation, u.uplink, u.name, u.delivered_up_bytes,"
            " u.delivered_down_bytes, coalesce(u.drops_up_pkts, 0) + coalesce(u.drops_down_pkts, 0),"
            " u.down_ms FROM runs r JOIN uplink_results u ON u.run_id = r.id"
            " WHERE r.scenario_hash = ? AND r.iteration = ? AND r.seed = ?"
            " ORDER BY r.strategy, r.aggregation, r.id, u.uplink",
            -1, &st, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", c->o->db_path, sqlite3_errmsg(c->db));
        return -1;
    }
    sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, iteration);
    sqlite3_bind_int64(st, 3, seed);
    struct uplink_row *rows = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            struct uplink_row *r = realloc(rows, cap * sizeof *r);
            if (r == NULL)
                break;
            rows = r;
        }
        struct uplink_row *r = &rows[n++];
        r->run = sqlite3_column_int64(st, 0);
        snprintf(r->strategy, sizeof r->strategy, "%s", (const char *)sqlite3_column_text(st, 1));
        snprintf(r->aggregation, sizeof r->aggregation, "%s",
                 (const char *)sqlite3_column_text(st, 2));
        r->uplink = sqlite3_column_int64(st, 3);
        snprintf(r->name, sizeof r->name, "%s", (const char *)sqlite3_column_text(st, 4));
        r->dl_up = sqlite3_column_double(st, 5);
        r->dl_down = sqlite3_column_double(st, 6);
        r->drops = sqlite3_column_int64(st, 7);
        r->down_ms = sqlite3_column_double(st, 8);
    }
    sqlite3_finalize(st);

    fprintf(f, "| run | strategy | aggregation | uplink | delivered down (MB) | delivered up (MB) "
               "| share of bytes | drops (packets) | down (s) |\n"
               "|---:|---|---|---|---:|---:|---:|---:|---:|\n");
    for (size_t i = 0; i < n; i++) {
        double total = 0;
        for (size_t k = 0; k < n; k++)
            if (rows[k].run == rows[i].run)
                total += rows[k].dl_up + rows[k].dl_down;
        char a[32], b[32], s[32], d[32];
        double share = total > 0 ? 100.0 * (rows[i].dl_up + rows[i].dl_down) / total : NAN;
        if (isnan(share))
            snprintf(s, sizeof s, "–");
        else
            snprintf(s, sizeof s, "%.0f%%", share);
        fprintf(f, "| %s%" PRId64 "%s | %s | %s | ", rows[i].run == id ? "**" : "", rows[i].run,
                rows[i].run == id ? "**" : "", rows[i].strategy, rows[i].aggregation);
        md(f, rows[i].name);
        fprintf(f, " | %s | %s | %s | %" PRId64 " | %s |\n", num(a, sizeof a, rows[i].dl_down / 1e6),
                num(b, sizeof b, rows[i].dl_up / 1e6), s, rows[i].drops,
                num(d, sizeof d, rows[i].down_ms / 1e3));
    }

    if (c->plots && n > 0) {
        char file[64];
        snprintf(file, sizeof file, "uplinks_run%" PRId64 ".svg", id);
        char *buf = NULL;
        size_t len = 0;
        FILE *s = script_open(c, &buf, &len, file, 760, 420);
        if (s != NULL) {
            /* a row per run, a column per uplink (uplinks in index order) */
            int64_t max_uplink = 0;
            for (size_t i = 0; i < n; i++)
                max_uplink = rows[i].uplink > max_uplink ? rows[i].uplink : max_uplink;
            fprintf(s, "$d << EOD\n\"run\"");
            for (int64_t u = 0; u <= max_uplink; u++) {
                const char *name = "?";
                for (size_t i = 0; i < n; i++)
                    if (rows[i].uplink == u)
                        name = rows[i].name;
                fprintf(s, " \"%s\"", name);
            }
            fputc('\n', s);
            bool one_agg = true;
            for (size_t i = 1; i < n; i++)
                one_agg &= strcmp(rows[i].aggregation, rows[0].aggregation) == 0;
            for (size_t i = 0; i < n; i++) {
                if (i > 0 && rows[i].run == rows[i - 1].run)
                    continue;
                fprintf(s, "\"%s%s%s%s\"", rows[i].run == id ? "* " : "", rows[i].strategy,
                        one_agg ? "" : "/", one_agg ? "" : rows[i].aggregation);
                for (int64_t u = 0; u <= max_uplink; u++) {
                    double v = 0;
                    for (size_t k = i; k < n && rows[k].run == rows[i].run; k++)
                        if (rows[k].uplink == u)
                            v = (rows[k].dl_up + rows[k].dl_down) / 1e6;
                    fprintf(s, " %.6g", v);
                }
                fputc('\n', s);
            }
            fprintf(s, "EOD\n");
            char title[256];
            snprintf(title, sizeof title,
                     "%s, iteration %" PRId64 ": bytes each uplink delivered (* = run %" PRId64
                     ")",
                     scenario, iteration, id);
            fprintf(s, "set title ");
            an_plot_quote(s, title);
            fprintf(s, "\nset ylabel 'delivered, both directions (MB)'\nset yrange [0:*]\n"
                       "set grid ytics\nset style data histograms\n"
                       "set style histogram clustered gap 1\n"
                       "set style fill solid 0.7 border -1\nset boxwidth 0.9\n"
                       "set xtics rotate by -25 nomirror\nset key top right\n"
                       "plot for [i=2:%" PRId64 "] $d using i:xtic(1) title columnheader(i)\n",
                    max_uplink + 2);
            fclose(s);
            if (plot(c, buf, len, file))
                fprintf(f, "\n![uplink use in the environment of run %" PRId64 "](%s)\n", id,
                        file);
            free(buf);
        }
    }
    free(rows);
    return 0;
}

/* ------------------------------------------------------------ main */

/* mkdir -p */
/* Runs stored with `run --sweep`: the first metric against the swept value,
 * as instrument.h draws it, in a fenced block. Nothing when there are none. */
static int write_sweeps(struct ctx *c, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    bool any = false;
    if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM sweeps LIMIT 1", -1, &st, NULL) == SQLITE_OK) {
        any = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    } /* else a database from before sweeps */
    if (!any)
        return 0;
    fprintf(c->f, "\n## Sweeps\n\n%s against the swept value of the runs stored with "
                  "`triglav-sim run --sweep`, per strategy: mean +- 95%% confidence interval "
                  "(runs). `triglav-sim report DB --sweep --metric M` draws another metric.\n\n"
                  "```\n",
            c->ds->metrics[0]->label);
    if (an_sweep_print(c->f, c->o->db_path, c->ds->metrics[0]->name, err, errlen) != 0)
        return -1;
    fprintf(c->f, "```\n");
    return 0;
}

static int make_dirs(const char *dir, char *err, size_t errlen)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) {
        an_errf(err, errlen, "%s: path too long", dir);
        return -1;
    }
    for (char *s = p + 1;; s++) {
        if (*s == '/' || *s == '\0') {
            char ch = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                an_errf(err, errlen, "cannot create folder %s: %s", p, strerror(errno));
                return -1;
            }
            *s = ch;
            if (ch == '\0')
                break;
        }
    }
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        an_errf(err, errlen, "%s: not a folder", dir);
        return -1;
    }
    return 0;
}

int an_report_write(const struct an_report_opts *o, struct an_report_result *res, char *err,
                    size_t errlen)
{
    *res = (struct an_report_result){0};
    struct ctx c = {.o = o, .res = res, .m_goodput = -1, .m_p50 = -1, .m_p95 = -1};
    /* the report's metrics, then what the plots need */
    const char *extra[] = {"goodput_mbps", "owd_p50_ms", "owd_p95_ms"};
    const char **names = calloc(o->n_metrics + 3, sizeof *names);
    struct an_rank *ranks = NULL;
    int ret = -1;
    if (names == NULL) {
        an_errf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < o->n_metrics; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(names[k], o->metrics[i]) == 0;
        if (!dup)
            names[n++] = o->metrics[i];
    }
    c.n_table = n;
    for (size_t i = 0; i < 3; i++) {
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= strcmp(names[k], extra[i]) == 0;
        if (!dup)
            names[n++] = extra[i];
    }
    if (c.n_table == 0) {
        an_errf(err, errlen, "no metric to report");
        goto out;
    }
    if (an_dataset_load(o->db_path, names, n, &c.ds, err, errlen) != 0)
        goto out;
    if (c.ds->n_runs == 0) {
        an_errf(err, errlen, "%s: no runs to report on (`triglav-sim run` stores them)",
                o->db_path);
        goto out;
    }
    if (o->strict_baseline) {
        bool found = false;
        for (size_t g = 0; g < c.ds->n_groups && !found; g++)
            found = strcmp(c.ds->groups[g].strategy, o->baseline) == 0;
        if (!found) {
            an_errf(err, errlen, "--baseline %s: no run of that strategy in %s", o->baseline,
                    o->db_path);
            goto out;
        }
    }
    c.m_goodput = an_dataset_metric(c.ds, "goodput_mbps");
    c.m_p50 = an_dataset_metric(c.ds, "owd_p50_ms");
    c.m_p95 = an_dataset_metric(c.ds, "owd_p95_ms");
    if (an_db_open(o->db_path, &c.db, err, errlen) != 0)
        goto out;
    if (make_dirs(o->out_dir, err, errlen) != 0)
        goto out;
    if ((ranks = calloc(c.ds->n_groups, sizeof *ranks)) == NULL) {
        an_errf(err, errlen, "out of memory");
        goto out;
    }
    c.plots = an_plot_find(o->gnuplot, c.gnuplot, sizeof c.gnuplot, c.why, sizeof c.why);
    res->plots_skipped = !c.plots;
    snprintf(res->path, sizeof res->path, "%s/report.md", o->out_dir);
    if ((c.f = fopen(res->path, "w")) == NULL) {
        an_errf(err, errlen, "%s: %s", res->path, strerror(errno));
        goto out;
    }
    write_header(&c);
    if (!c.plots)
        fprintf(c.f, "\n> **Plots were skipped**: %s. Install gnuplot (Debian: `apt-get install "
                     "gnuplot-nox`) and run the report again for SVG figures.\n",
                c.why);
    write_overview(&c, ranks);
    for (size_t sc = 0; sc < c.ds->n_scenarios; sc++)
        write_scenario(&c, sc, ranks);
    if (write_uplinks(&c, err, errlen) != 0)
        goto out;
    if (write_sweeps(&c, err, errlen) != 0)
        goto out;
    if (fflush(c.f) != 0 || ferror(c.f)) {
        an_errf(err, errlen, "%s: write error", res->path);
        goto out;
    }
    res->scenarios = c.ds->n_scenarios;
    res->groups = c.ds->n_groups;
    res->runs = c.ds->n_runs;
    ret = 0;
out:
    if (c.f != NULL && fclose(c.f) != 0 && ret == 0) {
        an_errf(err, errlen, "%s: write error", res->path);
        ret = -1;
    }
    free(ranks);
    free(names);
    sqlite3_close(c.db);
    an_dataset_free(c.ds);
    return ret;
}
