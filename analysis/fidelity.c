/* fidelity.c: see fidelity.h. */
#define _XOPEN_SOURCE 700 /* strdup, in C11 mode */

#include "fidelity.h"

#include <math.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dbread.h"
#include "stats.h"

enum { F_GOODPUT, F_P50, F_P95, F_LOSS, F_COUNT };
static const char *const metric_name[F_COUNT] = {"goodput_mbps", "owd_p50_ms", "owd_p95_ms",
                                                 "voice_loss"};
/* F_LOSS is compared as a difference, live - simulated (a loss of 0 has no
 * ratio), and not held to the bound: it shows whether the two calls are the
 * same call (a live probe that stopped early would show here first). */

/* One live run beside its simulated twin. Columns 0-4 the key, 5-8 live and
 * 9-12 simulated (metric_name's order), 13 the simulated run's id (NULL:
 * none), 14 the file. */
enum { COL_LIVE = 5, COL_SIM = COL_LIVE + F_COUNT, COL_RUN = COL_SIM + F_COUNT, COL_FILE };
static const char pairs_sql[] =
    "SELECT l.scenario, l.strategy, l.aggregation, l.iteration, printf('%016x', l.seed), "
    "l.goodput_mbps, l.owd_p50_ms, l.owd_p95_ms, l.loss, "
    "(SELECT sum(f.goodput_mbps) FROM flow_results f WHERE f.run_id = r.id AND f.kind = 'tcp'), "
    "(SELECT avg(f.owd_p50_ms) FROM flow_results f WHERE f.run_id = r.id AND f.kind = 'voice'), "
    "(SELECT avg(f.owd_p95_ms) FROM flow_results f WHERE f.run_id = r.id AND f.kind = 'voice'), "
    "(SELECT avg(f.loss) FROM flow_results f WHERE f.run_id = r.id AND f.kind = 'voice'), "
    "r.id, l.scenario_file "
    "FROM live_runs l LEFT JOIN runs r ON r.scenario_hash = l.scenario_hash AND "
    "r.strategy = l.strategy AND r.aggregation = l.aggregation AND r.iteration = l.iteration AND "
    "r.seed = l.seed "
    "ORDER BY l.scenario, l.strategy, l.aggregation, l.iteration, l.seed";

/* The ratios of one (scenario, strategy, aggregation), grown as pairs come. */
struct group {
    char *scenario, *strategy, *aggregation;
    double *ratio[F_COUNT];
    size_t n[F_COUNT], cap;
    size_t pairs, unpaired;
};

static void group_clear(struct group *g)
{
    free(g->scenario);
    free(g->strategy);
    free(g->aggregation);
    for (int m = 0; m < F_COUNT; m++)
        free(g->ratio[m]);
    memset(g, 0, sizeof *g);
}

static double col(sqlite3_stmt *st, int i)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN : sqlite3_column_double(st, i);
}

static const char *text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? (const char *)t : "";
}

static void print_summary(FILE *out, struct group *g)
{
    if (g->scenario == NULL)
        return;
    fprintf(out, "  summary: %zu pair%s", g->pairs, g->pairs == 1 ? "" : "s");
    if (g->unpaired)
        fprintf(out, ", %zu live run%s without a simulated twin", g->unpaired,
                g->unpaired == 1 ? "" : "s");
    fprintf(out, "\n    %-14s %5s %7s  %-17s %s\n", "metric", "pairs", "ratio", "95% CI",
            "within 10% of 1");
    for (int m = 0; m < F_COUNT; m++) {
        struct an_summary s;
        an_summarize(g->ratio[m], g->n[m], &s);
        if (s.n == 0) {
            fprintf(out, "    %-14s %5zu %7s  %-17s %s\n", metric_name[m], s.n, "-", "-",
                    "not measured on both sides");
            continue;
        }
        double lo = s.mean - s.ci_half, hi = s.mean + s.ci_half;
        char ci[64] = "-";
        if (m == F_LOSS) {
            if (s.n >= 2)
                snprintf(ci, sizeof ci, "[%+.3f, %+.3f]", lo, hi);
            fprintf(out, "    %-14s %5zu %+7.3f  %-17s %s\n", metric_name[m], s.n, s.mean, ci,
                    "difference live - sim (not held to the bound)");
            continue;
        }
        const char *verdict;
        bool inside = fabs(s.mean - 1) <= AN_FIDELITY_BOUND;
        if (s.n < 2) {
            verdict = inside ? "one pair: no interval (ratio within)"
                             : "one pair: no interval (ratio outside)";
        } else {
            snprintf(ci, sizeof ci, "[%.3f, %.3f]", lo, hi);
            verdict = lo >= 1 - AN_FIDELITY_BOUND && hi <= 1 + AN_FIDELITY_BOUND ? "yes"
                      : hi < 1 - AN_FIDELITY_BOUND || lo > 1 + AN_FIDELITY_BOUND
                          ? "no"
                          : "undecided (interval crosses the bound)";
        }
        fprintf(out, "    %-14s %5zu %7.3f  %-17s %s\n", metric_name[m], s.n, s.mean, ci, verdict);
    }
}

/* Start a new group if the row's key differs; false when memory runs out. */
static bool same_or_new_group(FILE *out, struct group *g, sqlite3_stmt *st)
{
    if (g->scenario && strcmp(g->scenario, text(st, 0)) == 0 &&
        strcmp(g->strategy, text(st, 1)) == 0 && strcmp(g->aggregation, text(st, 2)) == 0)
        return true;
    print_summary(out, g);
    group_clear(g);
    g->scenario = strdup(text(st, 0));
    g->strategy = strdup(text(st, 1));
    g->aggregation = strdup(text(st, 2));
    if (!g->scenario || !g->strategy || !g->aggregation)
        return false;
    fprintf(out, "\n%s %s/%s\n", g->scenario, g->strategy, g->aggregation);
    return true;
}

static bool push(struct group *g, int m, double r)
{
    if (g->n[m] == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 16;
        for (int k = 0; k < F_COUNT; k++) {
            double *p = realloc(g->ratio[k], cap * sizeof *p);
            if (!p)
                return false;
            g->ratio[k] = p;
        }
        g->cap = cap;
    }
    g->ratio[m][g->n[m]++] = r;
    return true;
}

int an_fidelity_print(FILE *out, const char *db_path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    struct group g;
    memset(&g, 0, sizeof g);
    int pairs = -1;
    long long live = 0;
    if (an_db_open(db_path, &db, err, errlen) != 0)
        return -1;
    if (an_db_check_results(db, db_path, err, errlen) != 0)
        goto out;
    if (sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                           "name = 'live_runs'",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_step(st) != SQLITE_ROW) {
        an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    bool has_table = sqlite3_column_int(st, 0) > 0;
    sqlite3_finalize(st);
    st = NULL;
    if (has_table) {
        if (sqlite3_prepare_v2(db, "SELECT count(*) FROM live_runs", -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
            goto out;
        }
        live = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
    }
    if (live == 0) {
        an_errf(err, errlen,
                "%s: no live runs stored (table live_runs); the testnet "
                "(scripts/testnet.sh) stores them",
                db_path);
        goto out;
    }
    if (sqlite3_prepare_v2(db, pairs_sql, -1, &st, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    fprintf(out,
            "Fidelity of %s: each live run beside the simulated run of the same\n"
            "(scenario, strategy, aggregation, iteration, seed); ratio = live / simulated.\n"
            "goodput_mbps: bulk TCP flows together; owd: the voice flow's one-way delay;\n"
            "voice_loss: its datagrams lost, compared as live - simulated.\n",
            db_path);
    int n = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!same_or_new_group(out, &g, st)) {
            an_errf(err, errlen, "out of memory");
            goto out;
        }
        fprintf(out, "  iteration %lld seed 0x%s", (long long)sqlite3_column_int64(st, 3),
                text(st, 4));
        if (sqlite3_column_type(st, COL_RUN) == SQLITE_NULL) {
            fprintf(out,
                    ": no simulated run of this key (triglav-sim run %s --strategy %s "
                    "--aggregation %s --iterations %lld, same seed)\n",
                    text(st, COL_FILE), g.strategy, g.aggregation,
                    (long long)sqlite3_column_int64(st, 3) + 1);
            g.unpaired++;
            continue;
        }
        fprintf(out, " (simulated run %lld)\n", (long long)sqlite3_column_int64(st, COL_RUN));
        for (int m = 0; m < F_COUNT; m++) {
            double l = col(st, COL_LIVE + m), s = col(st, COL_SIM + m);
            char lt[32] = "-", stx[32] = "-";
            if (!isnan(l))
                snprintf(lt, sizeof lt, "%.3f", l);
            if (!isnan(s))
                snprintf(stx, sizeof stx, "%.3f", s);
            fprintf(out, "    %-14s live %9s  sim %9s", metric_name[m], lt, stx);
            bool diff = m == F_LOSS;
            if (isnan(l) || isnan(s) || (!diff && !(s > 0))) {
                fprintf(out, diff ? "  diff -\n" : "  ratio -\n");
                continue;
            }
            double v = diff ? l - s : l / s;
            fprintf(out, diff ? "  diff %+.3f\n" : "  ratio %.3f\n", v);
            if (!push(&g, m, v)) {
                an_errf(err, errlen, "out of memory");
                goto out;
            }
        }
        g.pairs++;
        n++;
    }
    if (rc != SQLITE_DONE) {
        an_errf(err, errlen, "%s: %s", db_path, sqlite3_errmsg(db));
        goto out;
    }
    print_summary(out, &g);
    pairs = n;
out:
    group_clear(&g);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return pairs;
}
