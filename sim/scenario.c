/*
 * scenario.c: from the core's parsed document (core/conf.h) to a checked
 * struct sim_scenario. The parser knows syntax; this file knows meaning:
 * which keys exist in which table, the kind of unit each takes, names that
 * must refer to something, ranges. Errors carry file:line:col.
 */
#define _POSIX_C_SOURCE 200809L /* open flags, fdopen (infile.h) */
#include "scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "core/conf.h"
#include "errf.h"
#include "hash.h"
#include "infile.h"
#include "share.h"

#define GAP_OUTAGE_US TG_SEC(3)

/* ------------------------------------------------------------ distributions */

double sim_dist_draw(const struct sim_dist *d, gsl_rng *r)
{
    switch (d->kind) {
    case SIM_DIST_CONST:
        return d->a;
    case SIM_DIST_UNIFORM:
        return d->a + (d->b - d->a) * gsl_rng_uniform(r);
    case SIM_DIST_NORMAL:
        for (int i = 0; i < 64; i++) {
            double x = d->a + gsl_ran_gaussian(r, d->b);
            if (x >= 0)
                return x;
        }
        return 0;
    case SIM_DIST_LOGNORMAL: {
        double s2 = log(1 + (d->b * d->b) / (d->a * d->a));
        return gsl_ran_lognormal(r, log(d->a) - s2 / 2, sqrt(s2));
    }
    case SIM_DIST_EXP:
        return gsl_ran_exponential(r, d->a);
    case SIM_DIST_PARETO:
        return gsl_ran_pareto(r, d->b, d->a);
    case SIM_DIST_WEIBULL:
        return gsl_ran_weibull(r, d->a, d->b);
    case SIM_DIST_CHOICE:
        return d->choices[gsl_rng_uniform_int(r, d->n_choices)];
    }
    return d->a;
}

double sim_dist_mean(const struct sim_dist *d)
{
    switch (d->kind) {
    case SIM_DIST_UNIFORM:
        return (d->a + d->b) / 2;
    case SIM_DIST_PARETO:
        return d->b > 1 ? d->b * d->a / (d->b - 1) : INFINITY;
    case SIM_DIST_WEIBULL:
        return d->a * tgamma(1 + 1 / d->b);
    case SIM_DIST_CHOICE: {
        double s = 0;
        for (size_t i = 0; i < d->n_choices; i++)
            s += d->choices[i];
        return s / (double)d->n_choices;
    }
    default:
        return d->a; /* const, normal (before truncation), lognormal, exp */
    }
}

static struct sim_dist konst(double x)
{
    return (struct sim_dist){.kind = SIM_DIST_CONST, .a = x};
}

/* ------------------------------------------------------------ error context */

struct ld {
    const char *path;
    char *err;
    size_t errlen;
    struct sim_scenario *sc;
    const char *data_dir;
    size_t trace_cap;
    const struct sim_scenario_files *files; /* NULL: traces from the file system */
};

static int failat(struct ld *c, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int failat(struct ld *c, uint32_t line, uint32_t col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line)
        snprintf(c->err, c->errlen, "%s:%u:%u: %s", c->path, line, col, msg);
    else
        snprintf(c->err, c->errlen, "%s: %s", c->path, msg);
    return -1;
}

static int conf_err(struct ld *c, const struct tg_conf_error *e)
{
    return failat(c, e->line, e->col, "%s", e->msg);
}

/* ------------------------------------------------------------ values */

enum unit { U_DURATION, U_RATE, U_BYTES, U_FRACTION, U_NUMBER };

static int scalar(struct ld *c, const struct tg_conf_value *v, enum unit u, double *out)
{
    static const char *const what[] = {"a duration (e.g. 20ms)", "a rate (e.g. 50Mbit)",
                                       "a size (e.g. 64KB)", "a fraction (e.g. 1%)", "a number"};
    *out = 0;
    if (v->type == TG_CONF_STRING) /* the conf library's message would quote it */
        return failat(c, v->line, v->col, "expected %s, found a string", what[u]);
    struct tg_conf_error e;
    int rc = TG_OK;
    switch (u) {
    case U_DURATION: {
        tg_time t;
        rc = tg_conf_duration(v, &t, &e);
        *out = (double)t;
        break;
    }
    case U_RATE:
        rc = tg_conf_rate(v, out, &e);
        break;
    case U_BYTES: {
        uint64_t b;
        rc = tg_conf_bytes(v, &b, &e);
        *out = (double)b;
        break;
    }
    case U_FRACTION:
        rc = tg_conf_fraction(v, out, &e);
        break;
    case U_NUMBER:
        rc = tg_conf_number(v, out, &e);
        break;
    }
    return rc == TG_OK ? 0 : conf_err(c, &e);
}

static const struct {
    const char *name;
    enum sim_dist_kind kind;
    size_t nargs;
} dist_names[] = {
    {"uniform", SIM_DIST_UNIFORM, 2}, {"normal", SIM_DIST_NORMAL, 2},
    {"lognormal", SIM_DIST_LOGNORMAL, 2}, {"exp", SIM_DIST_EXP, 1},
    {"pareto", SIM_DIST_PARETO, 2}, {"weibull", SIM_DIST_WEIBULL, 2},
    {"choice", SIM_DIST_CHOICE, 0},
};

/* A value of unit u, or a distribution over such values. */
static int dist(struct ld *c, const struct tg_conf_value *v, enum unit u, struct sim_dist *d)
{
    if (v->type != TG_CONF_CALL) {
        double x;
        if (scalar(c, v, u, &x))
            return -1;
        *d = konst(x);
        return 0;
    }
    const char *fn = v->u.call.fn;
    size_t n = v->u.call.n, k;
    for (k = 0; k < sizeof dist_names / sizeof dist_names[0]; k++)
        if (strcmp(fn, dist_names[k].name) == 0)
            break;
    if (k == sizeof dist_names / sizeof dist_names[0])
        return failat(c, v->line, v->col,
                      "unknown distribution, expected uniform(), normal(), lognormal(), exp(), "
                      "pareto(), weibull() or choice()");
    fn = dist_names[k].name; /* the program's spelling from here on */
    memset(d, 0, sizeof *d);
    d->kind = dist_names[k].kind;
    if (d->kind == SIM_DIST_CHOICE) {
        if (n < 1 || n > SIM_MAX_CHOICES)
            return failat(c, v->line, v->col, "choice() takes 1 to %d values, found %zu",
                          SIM_MAX_CHOICES, n);
    } else if (n != dist_names[k].nargs) {
        return failat(c, v->line, v->col, "%s() takes %zu argument%s, found %zu", fn,
                      dist_names[k].nargs, dist_names[k].nargs == 1 ? "" : "s", n);
    }
    double x[SIM_MAX_CHOICES] = {0};
    for (size_t i = 0; i < n; i++) {
        const struct tg_conf_value *a = &v->u.call.args[i];
        if (a->name)
            return failat(c, a->line, a->col, "%s() takes plain arguments, not name=value", fn);
        /* shapes are plain numbers; everything else has the key's unit */
        enum unit au = ((d->kind == SIM_DIST_PARETO || d->kind == SIM_DIST_WEIBULL) && i == 1)
                           ? U_NUMBER
                           : u;
        if (scalar(c, a, au, &x[i]))
            return -1;
    }
    if (d->kind == SIM_DIST_CHOICE) {
        memcpy(d->choices, x, n * sizeof x[0]);
        d->n_choices = n;
        d->a = x[0];
        return 0;
    }
    d->a = x[0];
    d->b = n > 1 ? x[1] : 0;
    bool ok = true;
    const char *why = "";
    switch (d->kind) {
    case SIM_DIST_UNIFORM: ok = d->b >= d->a; why = "uniform(a, b) needs a <= b"; break;
    case SIM_DIST_LOGNORMAL: ok = d->a > 0; why = "lognormal(mean, sd) needs mean > 0"; break;
    case SIM_DIST_EXP: ok = d->a > 0; why = "exp(mean) needs mean > 0"; break;
    case SIM_DIST_PARETO: ok = d->a > 0 && d->b > 0; why = "pareto(min, shape) needs both > 0"; break;
    case SIM_DIST_WEIBULL: ok = d->a > 0 && d->b > 0; why = "weibull(scale, shape) needs both > 0"; break;
    default: break;
    }
    if (!ok)
        return failat(c, v->line, v->col, "%s", why);
    if (u == U_FRACTION && d->kind != SIM_DIST_UNIFORM && d->kind != SIM_DIST_CHOICE)
        return failat(c, v->line, v->col,
                      "a probability may only be drawn from uniform() or choice()");
    return 0;
}

static int string(struct ld *c, const struct tg_conf_value *v, char *out, size_t cap)
{
    const char *s;
    struct tg_conf_error e;
    if (tg_conf_string(v, &s, &e) != TG_OK)
        return conf_err(c, &e);
    if (strlen(s) >= cap)
        return failat(c, v->line, v->col, "string too long (at most %zu characters)", cap - 1);
    memcpy(out, s, strlen(s) + 1);
    return 0;
}

static int integer(struct ld *c, const struct tg_conf_value *v, int64_t lo, int64_t hi,
                   int64_t *out)
{
    if (v->type != TG_CONF_INT || v->u.i < lo || v->u.i > hi)
        return failat(c, v->line, v->col, "expected an integer from %lld to %lld, found %s",
                      (long long)lo, (long long)hi,
                      v->type == TG_CONF_INT ? "one outside that range"
                                             : tg_conf_type_name(v->type));
    *out = v->u.i;
    return 0;
}

/* One of `names` (NULL-terminated); *out its index. */
static int keyword(struct ld *c, const struct tg_conf_value *v, const char *const *names,
                   int *out)
{
    char s[64];
    if (string(c, v, s, sizeof s))
        return -1;
    char list[256] = "";
    for (int i = 0; names[i]; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s\"%s\"", i ? ", " : "", names[i]);
    }
    return failat(c, v->line, v->col, "unknown value, expected one of %s", list);
}

static int unknown_key(struct ld *c, const struct tg_conf_entry *e, const char *table,
                       const char *known)
{
    return failat(c, e->line, e->col, "unknown key in [%s], expected one of: %s", table, known);
}

/* ------------------------------------------------------------ traces */

static int resolve_path(struct ld *c, const struct tg_conf_value *v, char *out, size_t cap)
{
    char s[512];
    if (string(c, v, s, sizeof s))
        return -1;
    int n;
    if (strncmp(s, "data:", 5) == 0) {
        n = snprintf(out, cap, "%s/%s", c->data_dir, s + 5);
    } else if (s[0] == '/') {
        n = snprintf(out, cap, "%s", s);
    } else {
        const char *slash = strrchr(c->path, '/');
        int dirlen = slash ? (int)(slash - c->path) : 1;
        n = snprintf(out, cap, "%.*s/%s", dirlen, slash ? c->path : ".", s);
    }
    if (n < 0 || (size_t)n >= cap)
        return failat(c, v->line, v->col, "path too long");
    return 0;
}

static int trace(struct ld *c, const struct tg_conf_value *v, enum sim_trace_kind kind,
                 const struct sim_trace **out)
{
    char path[512];
    if (resolve_path(c, v, path, sizeof path))
        return -1;
    struct sim_scenario *sc = c->sc;
    for (size_t i = 0; i < sc->n_traces; i++)
        if (sc->traces[i].kind == kind && strcmp(sc->traces[i].path, path) == 0) {
            *out = &sc->traces[i];
            return 0;
        }
    if (sc->n_traces == c->trace_cap)
        return failat(c, v->line, v->col, "too many trace files (at most %zu)", c->trace_cap);
    char terr[600];
    struct sim_trace *t = &sc->traces[sc->n_traces];
    int rc;
    if (c->files) {
        const char *text = NULL;
        size_t len = 0;
        errno = 0;
        rc = c->files->read(c->files->ctx, path, &text, &len);
        if (rc != 0)
            sim_errf(terr, sizeof terr, "%s: cannot read trace: %s", path,
                     strerror(errno ? errno : ENOENT));
        else
            rc = sim_trace_load_text(t, kind, path, text, len, GAP_OUTAGE_US, terr, sizeof terr);
    } else {
        rc = sim_trace_load(t, kind, path, GAP_OUTAGE_US, terr, sizeof terr);
    }
    if (rc)
        return failat(c, v->line, v->col, "cannot use trace: %s", terr);
    *out = &sc->traces[sc->n_traces++];
    return 0;
}

/* ------------------------------------------------------------ [scenario] */

static int name_list(struct ld *c, const struct tg_conf_value *v, const char *const *names,
                     int *out, size_t cap, size_t *n)
{
    if (v->type != TG_CONF_ARRAY || v->u.arr.n == 0)
        return failat(c, v->line, v->col,
                      "expected a non-empty array of names like [\"adaptive\"], found %s",
                      v->type == TG_CONF_ARRAY ? "an empty one" : tg_conf_type_name(v->type));
    *n = 0;
    for (size_t i = 0; i < v->u.arr.n; i++) {
        int k;
        if (keyword(c, &v->u.arr.v[i], names, &k))
            return -1;
        for (size_t j = 0; j < *n; j++)
            if (out[j] == k)
                return failat(c, v->u.arr.v[i].line, v->u.arr.v[i].col,
                              "\"%s\" is listed twice", names[k]);
        if (*n == cap)
            return failat(c, v->line, v->col, "too many names");
        out[(*n)++] = k;
    }
    return 0;
}

static int scenario_table(struct ld *c, const struct tg_conf_section *s, uint32_t *defining_line,
                          uint32_t *defining_col)
{
    struct sim_scenario *sc = c->sc;
    bool have_desc = false, have_dur = false;
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct tg_conf_entry *e = &s->entries[i];
        const struct tg_conf_value *v = &e->value;
        double x;
        int64_t k = 0;
        if (strcmp(e->key, "name") == 0) {
            if (string(c, v, sc->name, sizeof sc->name))
                return -1;
        } else if (strcmp(e->key, "description") == 0) {
            if (string(c, v, sc->description, sizeof sc->description))
                return -1;
            have_desc = true;
        } else if (strcmp(e->key, "duration") == 0) {
            if (scalar(c, v, U_DURATION, &x))
                return -1;
            if (x < (double)TG_SEC(1) || x > 24.0 * 3600 * (double)TG_SEC(1))
                return failat(c, v->line, v->col, "duration must be from 1s to 24h");
            sc->duration_us = (tg_time)x;
            have_dur = true;
        } else if (strcmp(e->key, "iterations") == 0) {
            if (integer(c, v, 1, 1000000, &k))
                return -1;
            sc->iterations = (uint32_t)k;
        } else if (strcmp(e->key, "seed") == 0) {
            if (integer(c, v, 0, INT64_MAX, &k))
                return -1;
            sc->seed = (uint64_t)k;
        } else if (strcmp(e->key, "strategies") == 0) {
            int idx[TG_STRATEGY_COUNT];
            const char *names[TG_STRATEGY_COUNT + 1] = {NULL}; /* the core's, NULL-ended */
            for (int j = 0; j < TG_STRATEGY_COUNT; j++)
                names[j] = tg_strategy_name((enum tg_strategy)j);
            if (name_list(c, v, names, idx, TG_STRATEGY_COUNT, &sc->n_strategies))
                return -1;
            for (size_t j = 0; j < sc->n_strategies; j++)
                sc->strategies[j] = (enum tg_strategy)idx[j];
        } else if (strcmp(e->key, "aggregation") == 0) {
            int idx[TG_AGG_COUNT];
            const char *names[TG_AGG_COUNT + 1] = {NULL};
            for (int j = 0; j < TG_AGG_COUNT; j++)
                names[j] = tg_aggregation_name((enum tg_aggregation)j);
            if (name_list(c, v, names, idx, TG_AGG_COUNT, &sc->n_aggregations))
                return -1;
            for (size_t j = 0; j < sc->n_aggregations; j++)
                sc->aggregations[j] = (enum tg_aggregation)idx[j];
        } else if (strcmp(e->key, "playout") == 0) {
            if (scalar(c, v, U_DURATION, &x))
                return -1;
            if (x < 0 || x > (double)TG_SEC(1))
                return failat(c, v->line, v->col, "playout must be from 0 to 1s");
            sc->playout_us = (tg_time)x;
        } else if (strcmp(e->key, "light_flows") == 0) {
            if (scalar(c, v, U_RATE, &x))
                return -1;
            if (x < 0 || x > 8e9)
                return failat(c, v->line, v->col, "light_flows must be from 0 to 8Gbit");
            sc->light_flow_rate = (int64_t)(x / 8);
        } else if (strcmp(e->key, "defining") == 0) {
            if (string(c, v, sc->defining, sizeof sc->defining))
                return -1;
            *defining_line = v->line;
            *defining_col = v->col;
        } else {
            return unknown_key(c, e, "scenario",
                               "name, description, duration, iterations, seed, strategies, "
                               "aggregation, defining, playout, light_flows");
        }
    }
    if (!have_desc)
        return failat(c, s->line, 1, "[scenario] needs a description = \"...\"");
    if (!have_dur)
        return failat(c, s->line, 1, "[scenario] needs a duration (e.g. duration = 60s)");
    return 0;
}

/* ------------------------------------------------------------ [[uplink]] */

static const char *ge_names[] = {"p_gb", "p_bg", "bad", "good"};

static int loss_value(struct ld *c, const struct tg_conf_value *v, struct sim_dir_spec *d)
{
    if (v->type == TG_CONF_CALL && strcmp(v->u.call.fn, "ge") == 0) {
        double x[4] = {-1, -1, 1, 0};
        for (size_t i = 0; i < v->u.call.n; i++) {
            const struct tg_conf_value *a = &v->u.call.args[i];
            size_t k = 0;
            while (k < 4 && !(a->name && strcmp(a->name, ge_names[k]) == 0))
                k++;
            if (k == 4)
                return failat(c, a->line, a->col,
                              "ge() takes named arguments p_gb=, p_bg=, bad=, good=");
            if (scalar(c, a, U_FRACTION, &x[k]))
                return -1;
        }
        if (x[0] < 0 || x[1] <= 0)
            return failat(c, v->line, v->col,
                          "ge() needs p_gb= and p_bg= (p_bg > 0), e.g. ge(p_gb=1%%, p_bg=30%%)");
        d->loss = SIM_LOSS_GE;
        d->ge = (struct sim_ge){x[0], x[1], x[3], x[2]};
        return 0;
    }
    if (dist(c, v, U_FRACTION, &d->loss_p))
        return -1;
    d->loss = (d->loss_p.kind == SIM_DIST_CONST && d->loss_p.a == 0) ? SIM_LOSS_NONE
                                                                     : SIM_LOSS_BERNOULLI;
    return 0;
}

static int rate_value(struct ld *c, const struct tg_conf_value *v, struct sim_dir_spec *d)
{
    if (v->type != TG_CONF_ARRAY) {
        d->rate_kind = SIM_RATE_FIXED;
        return dist(c, v, U_RATE, &d->rate_bps);
    }
    if (v->u.arr.n == 0 || v->u.arr.n > SIM_MAX_STEPS)
        return failat(c, v->line, v->col, "a rate schedule has 1 to %d [time, rate] pairs",
                      SIM_MAX_STEPS);
    d->rate_kind = SIM_RATE_SCHEDULE;
    d->n_steps = v->u.arr.n;
    for (size_t i = 0; i < v->u.arr.n; i++) {
        const struct tg_conf_value *p = &v->u.arr.v[i];
        if (p->type != TG_CONF_ARRAY || p->u.arr.n != 2)
            return failat(c, p->line, p->col, "expected a [time, rate] pair like [60s, 5Mbit]");
        double t, r;
        if (scalar(c, &p->u.arr.v[0], U_DURATION, &t) || scalar(c, &p->u.arr.v[1], U_RATE, &r))
            return -1;
        if (i == 0 && t != 0)
            return failat(c, p->line, p->col, "a rate schedule starts at 0s");
        if (i > 0 && t <= (double)d->steps[i - 1].at_us)
            return failat(c, p->line, p->col, "schedule times must increase");
        d->steps[i] = (struct sim_rate_step){(tg_time)t, r};
    }
    return 0;
}

/* key = base + optional suffix; returns the directions it sets (bit 0 up, bit 1 down). */
static unsigned split_key(const char *key, const char *base)
{
    size_t n = strlen(base);
    if (strncmp(key, base, n) != 0)
        return 0;
    if (key[n] == 0)
        return 3;
    if (strcmp(key + n, "_up") == 0)
        return 1;
    if (strcmp(key + n, "_down") == 0)
        return 2;
    return 0;
}

enum { HAVE_RATE = 1, HAVE_DELAY = 2 };

static int uplink_table(struct ld *c, const struct tg_conf_section *s)
{
    struct sim_scenario *sc = c->sc;
    if (sc->n_uplinks == SIM_MAX_UPLINKS)
        return failat(c, s->line, 1, "too many [[uplink]] tables (at most %d)", SIM_MAX_UPLINKS);
    struct sim_uplink_spec *u = &sc->uplinks[sc->n_uplinks];
    struct sim_dir_spec *dirs[2] = {&u->up, &u->down};
    unsigned have[2] = {0, 0};
    for (int k = 0; k < 2; k++) {
        dirs[k]->queue_bytes = konst(64000);
        dirs[k]->trace_scale = 1;
    }
    /* pass 0: keys for both directions; pass 1: _up/_down overrides */
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < s->n_entries; i++) {
            const struct tg_conf_entry *e = &s->entries[i];
            const struct tg_conf_value *v = &e->value;
            const char *key = e->key;
            if (strcmp(key, "name") == 0 || strcmp(key, "kind") == 0) {
                if (pass == 0 &&
                    string(c, v, key[0] == 'n' ? u->name : u->kind, SIM_NAME_MAX))
                    return -1;
                continue;
            }
            if (strcmp(key, "trace_offset") == 0 || strcmp(key, "trace_scale") == 0) {
                if (pass)
                    continue;
                if (key[6] == 'o') {
                    struct sim_dist d;
                    if (dist(c, v, U_DURATION, &d))
                        return -1;
                    u->up.trace_offset_us = u->down.trace_offset_us = d;
                } else {
                    double x;
                    if (scalar(c, v, U_NUMBER, &x))
                        return -1;
                    if (!(x > 0))
                        return failat(c, v->line, v->col, "trace_scale must be > 0");
                    u->up.trace_scale = u->down.trace_scale = x;
                }
                continue;
            }
            static const char *bases[] = {"rate", "trace", "throughput", "delay",
                                          "jitter", "loss", "queue"};
            unsigned dmask = 0;
            size_t b;
            for (b = 0; b < sizeof bases / sizeof bases[0]; b++)
                if ((dmask = split_key(key, bases[b])) != 0)
                    break;
            if (!dmask)
                return unknown_key(c, e, "uplink",
                                   "name, kind, rate, trace, throughput, trace_offset, "
                                   "trace_scale, delay, jitter, loss, queue (rate..queue also "
                                   "with _up or _down)");
            if ((pass == 0) != (dmask == 3))
                continue;
            for (int k = 0; k < 2; k++) {
                if (!(dmask & (1u << k)))
                    continue;
                struct sim_dir_spec *d = dirs[k];
                int rc = 0;
                switch (b) {
                case 0: rc = rate_value(c, v, d); have[k] |= HAVE_RATE; break;
                case 1:
                case 2:
                    rc = trace(c, v, b == 1 ? SIM_TRACE_MAHIMAHI : SIM_TRACE_THROUGHPUT,
                               &d->trace);
                    d->rate_kind = SIM_RATE_TRACE;
                    have[k] |= HAVE_RATE;
                    break;
                case 3: rc = dist(c, v, U_DURATION, &d->delay_us); have[k] |= HAVE_DELAY; break;
                case 4: rc = dist(c, v, U_DURATION, &d->jitter_us); break;
                case 5: rc = loss_value(c, v, d); break;
                case 6: rc = dist(c, v, U_BYTES, &d->queue_bytes); break;
                default: break;
                }
                if (rc)
                    return -1;
            }
        }
    }
    if (!u->name[0])
        return failat(c, s->line, 1, "[[uplink]] needs a name = \"...\"");
    for (size_t j = 0; j < sc->n_uplinks; j++)
        if (strcmp(sc->uplinks[j].name, u->name) == 0)
            return failat(c, s->line, 1,
                          "[[uplink]] takes the name of an uplink above, expected a name of "
                          "its own");
    for (int k = 0; k < 2; k++) {
        const char *dir = k ? "down" : "up";
        if (!(have[k] & HAVE_RATE))
            return failat(c, s->line, 1,
                          "[[uplink]] has no capacity for its %s direction: set rate, "
                          "rate_%s, trace_%s or throughput_%s",
                          dir, dir, dir, dir);
        if (!(have[k] & HAVE_DELAY))
            return failat(c, s->line, 1, "[[uplink]] needs a delay (or delay_%s)", dir);
    }
    sc->n_uplinks++;
    return 0;
}

/* ------------------------------------------------------------ [[event]] */

static int uplink_index(struct ld *c, const struct tg_conf_value *v, uint32_t *mask)
{
    char name[SIM_NAME_MAX];
    if (string(c, v, name, sizeof name))
        return -1;
    for (size_t i = 0; i < c->sc->n_uplinks; i++)
        if (strcmp(c->sc->uplinks[i].name, name) == 0) {
            *mask |= 1u << i;
            return 0;
        }
    return failat(c, v->line, v->col, "expected the name of an [[uplink]] above (events come "
                  "after the uplinks they name)");
}

static const char *effect_names[] = {"down", "rate", "loss", NULL};

static int event_table(struct ld *c, const struct tg_conf_section *s)
{
    struct sim_scenario *sc = c->sc;
    if (sc->n_events == SIM_MAX_EVENTS)
        return failat(c, s->line, 1, "too many [[event]] tables (at most %d)", SIM_MAX_EVENTS);
    struct sim_event_spec *ev = &sc->events[sc->n_events];
    ev->probability = 1;
    bool have_len = false, have_every = false, have_first = false, have_factor = false,
         have_loss = false;
    uint32_t at_line = 0;
    /* coverage is given in the order of uplinks, which may come after it */
    uint32_t order[SIM_MAX_UPLINKS], n_order = 0, cov_line = 0, cov_col = 0;
    double cov[SIM_MAX_UPLINKS];
    size_t n_cov = 0;
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct tg_conf_entry *e = &s->entries[i];
        const struct tg_conf_value *v = &e->value;
        double x;
        int64_t k = 0;
        int idx;
        if (strcmp(e->key, "name") == 0) {
            if (string(c, v, ev->name, sizeof ev->name))
                return -1;
        } else if (strcmp(e->key, "uplinks") == 0) {
            if (v->type != TG_CONF_ARRAY || v->u.arr.n == 0 || v->u.arr.n > SIM_MAX_UPLINKS)
                return failat(c, v->line, v->col,
                              "expected a non-empty array of uplink names like [\"lte\"]");
            for (size_t j = 0; j < v->u.arr.n; j++) {
                uint32_t one = 0;
                if (uplink_index(c, &v->u.arr.v[j], &one))
                    return -1;
                ev->uplink_mask |= one;
                order[n_order++] = (uint32_t)__builtin_ctz(one);
            }
        } else if (strcmp(e->key, "coverage") == 0) {
            if (v->type != TG_CONF_ARRAY || v->u.arr.n == 0 || v->u.arr.n > SIM_MAX_UPLINKS)
                return failat(c, v->line, v->col,
                              "expected an array of probabilities, one per uplink in uplinks, "
                              "like [0, 50%%]");
            for (size_t j = 0; j < v->u.arr.n; j++)
                if (scalar(c, &v->u.arr.v[j], U_FRACTION, &cov[j]))
                    return -1;
            n_cov = v->u.arr.n;
            cov_line = v->line;
            cov_col = v->col;
        } else if (strcmp(e->key, "effect") == 0) {
            if (keyword(c, v, effect_names, &idx))
                return -1;
            ev->effect = (enum sim_effect)idx;
        } else if (strcmp(e->key, "factor") == 0) {
            if (scalar(c, v, U_NUMBER, &ev->factor))
                return -1;
            if (ev->factor < 0)
                return failat(c, v->line, v->col, "factor must be >= 0");
            have_factor = true;
        } else if (strcmp(e->key, "loss") == 0) {
            if (scalar(c, v, U_FRACTION, &ev->loss))
                return -1;
            have_loss = true;
        } else if (strcmp(e->key, "at") == 0) {
            at_line = v->line;
            size_t n = v->type == TG_CONF_ARRAY ? v->u.arr.n : 1;
            if (n == 0 || n > SIM_MAX_STEPS)
                return failat(c, v->line, v->col, "at takes 1 to %d times", SIM_MAX_STEPS);
            for (size_t j = 0; j < n; j++) {
                if (scalar(c, v->type == TG_CONF_ARRAY ? &v->u.arr.v[j] : v, U_DURATION, &x))
                    return -1;
                ev->at_us[j] = (tg_time)x;
                if (j && ev->at_us[j] < ev->at_us[j - 1])
                    return failat(c, v->line, v->col, "at times must not decrease");
            }
            ev->n_at = n;
        } else if (strcmp(e->key, "first") == 0) {
            if (dist(c, v, U_DURATION, &ev->first_us))
                return -1;
            have_first = true;
        } else if (strcmp(e->key, "every") == 0) {
            if (dist(c, v, U_DURATION, &ev->every_us))
                return -1;
            if (sim_dist_mean(&ev->every_us) <= 0)
                return failat(c, v->line, v->col, "every must be longer than 0s");
            have_every = true;
        } else if (strcmp(e->key, "length") == 0) {
            if (dist(c, v, U_DURATION, &ev->length_us))
                return -1;
            have_len = true;
        } else if (strcmp(e->key, "stagger") == 0) {
            if (dist(c, v, U_DURATION, &ev->stagger_us))
                return -1;
        } else if (strcmp(e->key, "probability") == 0) {
            if (scalar(c, v, U_FRACTION, &ev->probability))
                return -1;
        } else if (strcmp(e->key, "count") == 0) {
            if (integer(c, v, 1, 1000000, &k))
                return -1;
            ev->count = (uint32_t)k;
        } else {
            return unknown_key(c, e, "event",
                               "name, uplinks, coverage, effect, factor, loss, at, first, "
                               "every, length, stagger, probability, count");
        }
    }
    if (!ev->name[0])
        return failat(c, s->line, 1, "[[event]] needs a name = \"...\"");
    if (!ev->uplink_mask)
        return failat(c, s->line, 1, "[[event]] needs uplinks = [...]");
    if (n_cov && n_cov != n_order)
        return failat(c, cov_line, cov_col,
                      "coverage needs one probability per uplink in uplinks (%u), got %zu",
                      n_order, n_cov);
    for (size_t j = 0; j < n_cov; j++)
        ev->coverage[order[j]] = cov[j];
    if (!have_len)
        return failat(c, s->line, 1, "[[event]] needs a length (e.g. length = 10s)");
    if (ev->n_at && (have_every || have_first))
        return failat(c, at_line, 1, "[[event]] takes either at, or first/every, not both");
    if (!ev->n_at && !have_every && !have_first)
        return failat(c, s->line, 1, "[[event]] needs at = ... or every = ... (or first)");
    if (!ev->n_at && !have_every) /* only `first`: a single occurrence */
        ev->count = 1;
    if (!have_first && have_every)
        ev->first_us = ev->every_us;
    if (ev->effect == SIM_EFFECT_RATE && !have_factor)
        return failat(c, s->line, 1, "[[event]] with effect \"rate\" needs factor = ...");
    if (ev->effect == SIM_EFFECT_LOSS && !have_loss)
        return failat(c, s->line, 1, "[[event]] with effect \"loss\" needs loss = ...");
    if (ev->effect == SIM_EFFECT_RATE)
        for (size_t i = 0; i < sc->n_uplinks; i++)
            if ((ev->uplink_mask & (1u << i)) &&
                (sc->uplinks[i].up.rate_kind == SIM_RATE_TRACE ||
                 sc->uplinks[i].down.rate_kind == SIM_RATE_TRACE))
                return failat(c, s->line, 1,
                              "[[event]] with effect \"rate\" cannot scale [[uplink]] "
                              "number %zu, which is trace-driven: use trace_scale, or effect "
                              "\"down\"",
                              i + 1);
    for (size_t j = 0; j < sc->n_events; j++)
        if (strcmp(sc->events[j].name, ev->name) == 0)
            return failat(c, s->line, 1,
                          "[[event]] takes the name of an event above, expected a name of its "
                          "own");
    sc->n_events++;
    return 0;
}

/* ------------------------------------------------------------ [[traffic]] */

static const char *kind_names[] = {"tcp", "voice", "video", "keys", "web", NULL};
static const char *cc_names[] = {"cubic", "reno", "bbr", NULL};
static const char *dir_names[] = {"down", "up", NULL};

static int traffic_table(struct ld *c, const struct tg_conf_section *s)
{
    struct sim_scenario *sc = c->sc;
    if (sc->n_flows == SIM_MAX_FLOWS)
        return failat(c, s->line, 1, "too many [[traffic]] tables (at most %d)", SIM_MAX_FLOWS);
    struct sim_flow_spec *f = &sc->flows[sc->n_flows];
    const struct tg_conf_entry *kind = NULL;
    for (size_t i = 0; i < s->n_entries; i++)
        if (strcmp(s->entries[i].key, "kind") == 0)
            kind = &s->entries[i];
    if (!kind)
        return failat(c, s->line, 1,
                      "[[traffic]] needs kind = \"tcp\", \"voice\", \"video\", \"keys\" or \"web\"");
    int k;
    if (keyword(c, &kind->value, kind_names, &k))
        return -1;
    sim_flow_config_default(&f->cfg, (enum sim_flow_kind)(k + 1));
    f->count = 1;
    for (size_t i = 0; i < s->n_entries; i++) {
        const struct tg_conf_entry *e = &s->entries[i];
        const struct tg_conf_value *v = &e->value;
        double x;
        int64_t n = 0;
        int idx;
        if (e == kind)
            continue;
        if (strcmp(e->key, "cc") == 0) {
            if (keyword(c, v, cc_names, &idx))
                return -1;
            f->cfg.cc = (enum sim_cc)idx;
        } else if (strcmp(e->key, "direction") == 0) {
            if (keyword(c, v, dir_names, &idx))
                return -1;
            f->cfg.dir = (enum sim_dir)idx;
        } else if (strcmp(e->key, "size") == 0) {
            if (scalar(c, v, U_BYTES, &x))
                return -1;
            f->cfg.bytes = (uint64_t)x;
        } else if (strcmp(e->key, "start") == 0) {
            if (scalar(c, v, U_DURATION, &x))
                return -1;
            f->cfg.start_us = (tg_time)x;
        } else if (strcmp(e->key, "stop") == 0) {
            if (scalar(c, v, U_DURATION, &x))
                return -1;
            f->cfg.stop_us = (tg_time)x;
        } else if (strcmp(e->key, "count") == 0) {
            if (integer(c, v, 1, 4, &n))
                return -1;
            f->count = (uint32_t)n;
        } else if (strcmp(e->key, "rate") == 0) {
            if (scalar(c, v, U_NUMBER, &x))
                return -1;
            if (!(x > 0 && x <= 10000))
                return failat(c, v->line, v->col, "rate (packets per second) must be in (0, 10000]");
            f->cfg.pkt_rate = x;
        } else if (strcmp(e->key, "packet") == 0) {
            if (scalar(c, v, U_BYTES, &x))
                return -1;
            if (x < 1 || x > 1400)
                return failat(c, v->line, v->col, "packet must be from 1B to 1400B");
            f->cfg.pkt_bytes = (uint32_t)x;
        } else if (strcmp(e->key, "bitrate") == 0) {
            if (scalar(c, v, U_RATE, &f->cfg.video_bps))
                return -1;
        } else if (strcmp(e->key, "think") == 0) {
            if (scalar(c, v, U_DURATION, &x))
                return -1;
            f->cfg.think_us = (tg_time)x;
        } else if (strcmp(e->key, "window") == 0) {
            if (scalar(c, v, U_BYTES, &x))
                return -1;
            if (x < 16000 || x > 1e9)
                return failat(c, v->line, v->col, "window must be from 16KB to 1GB");
            f->cfg.rwnd_bytes = (uint32_t)x;
        } else {
            return unknown_key(c, e, "traffic",
                               "kind, cc, direction, size, start, stop, count, rate, packet, "
                               "bitrate, think, window");
        }
    }
    if (f->cfg.stop_us != TG_TIME_NEVER && f->cfg.stop_us <= f->cfg.start_us)
        return failat(c, s->line, 1, "traffic stops before it starts");
    sc->n_flows++;
    return 0;
}

/* ------------------------------------------------------------ the file */

/* The whole file (regular, at most SIM_SCENARIO_MAX_BYTES, read up to one
 * byte more in case it grows) into *text, to free. */
static int read_file(struct ld *c, char **text, size_t *len)
{
    char why[128];
    int64_t size;
    FILE *f = sim_infile_open(c->path, SIM_SCENARIO_MAX_BYTES, &size, why, sizeof why);
    if (!f)
        return failat(c, 0, 0, "cannot read: %s", why);
    char *buf = malloc((size_t)size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)size + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf)
        return failat(c, 0, 0, "out of memory");
    if (bad || n > (size_t)size) {
        free(buf);
        return failat(c, 0, 0, bad ? "cannot read: read error" : "cannot read: the file grew");
    }
    *text = buf;
    *len = n;
    return 0;
}

static int load(struct ld *c, const char *text, size_t len)
{
    struct sim_scenario *sc = c->sc;
    if (len > SIM_SCENARIO_MAX_BYTES)
        return failat(c, 0, 0, "cannot read: larger than %d MiB", SIM_SCENARIO_MAX_BYTES >> 20);
    sc->content_hash = sim_fnv1a(SIM_FNV1A_BASIS, text, len);
    struct tg_conf_doc *doc = NULL;
    struct tg_conf_error perr;
    int rc = tg_conf_parse(text, len, NULL, &doc, &perr);
    if (rc != TG_OK)
        return rc == TG_ERR_PARSE ? conf_err(c, &perr) : failat(c, 0, 0, "%s", tg_strerror(rc));

    uint32_t def_line = 0, def_col = 0;
    bool have_scenario = false;
    rc = 0;
    for (size_t i = 0; i < doc->n_sections && rc == 0; i++) {
        const struct tg_conf_section *s = &doc->sections[i];
        if (s->name[0] == 0) {
            if (s->n_entries)
                rc = failat(c, s->entries[0].line, s->entries[0].col,
                            "key outside any table; keys belong in [scenario], "
                            "[[uplink]], [[event]] or [[traffic]]");
        } else if (strcmp(s->name, "scenario") == 0 && !s->is_array_element) {
            rc = scenario_table(c, s, &def_line, &def_col);
            have_scenario = true;
        } else if (strcmp(s->name, "uplink") == 0 && s->is_array_element) {
            rc = uplink_table(c, s);
        } else if (strcmp(s->name, "event") == 0 && s->is_array_element) {
            rc = event_table(c, s);
        } else if (strcmp(s->name, "traffic") == 0 && s->is_array_element) {
            rc = traffic_table(c, s);
        } else {
            rc = failat(c, s->line, 1,
                        "unknown table, expected [scenario], [[uplink]], [[event]] or "
                        "[[traffic]]");
        }
    }
    tg_conf_free(doc);
    if (rc)
        return -1;
    if (!have_scenario)
        return failat(c, 1, 1, "no [scenario] table (it needs at least description and duration)");
    if (sc->n_uplinks == 0)
        return failat(c, 1, 1, "no [[uplink]] tables: a scenario needs at least one uplink");
    if (sc->n_flows == 0)
        return failat(c, 1, 1, "no [[traffic]] tables: a scenario needs some traffic");
    if (sc->defining[0]) {
        size_t j = 0;
        while (j < sc->n_events && strcmp(sc->events[j].name, sc->defining) != 0)
            j++;
        if (j == sc->n_events)
            return failat(c, def_line, def_col,
                          "expected defining to name an [[event]] (no event has this name)");
    }
    for (size_t j = 0; j < sc->n_flows; j++)
        if (sc->flows[j].cfg.start_us >= sc->duration_us)
            return failat(c, 0, 0, "traffic %zu starts after the run ends", j + 1);
    return 0;
}

int sim_scenario_load(const char *path, const char *data_dir, struct sim_scenario **out,
                      char *err, size_t errlen)
{
    struct ld c = {.path = path, .err = err, .errlen = errlen};
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    if (read_file(&c, &text, &len))
        return -1;
    int rc = sim_scenario_load_text(path, text, len, data_dir, NULL, out, err, errlen);
    free(text);
    return rc;
}

int sim_scenario_load_text(const char *path, const char *text, size_t len, const char *data_dir,
                           const struct sim_scenario_files *files, struct sim_scenario **out,
                           char *err, size_t errlen)
{
    struct sim_scenario *sc = calloc(1, sizeof *sc);
    size_t trace_cap = 2 * SIM_MAX_UPLINKS;
    struct sim_trace *traces = calloc(trace_cap, sizeof *traces);
    struct ld c = {path, err, errlen, sc, data_dir, trace_cap, files};
    char installed[4096]; /* PATH_MAX */
    if (!c.data_dir)
        c.data_dir = getenv("TRIGLAV_DATA");
    if (!c.data_dir || !c.data_dir[0]) {
        sim_share_data(installed, sizeof installed);
        c.data_dir = installed;
    }
    *out = NULL;
    if (!sc || !traces) {
        free(sc);
        free(traces);
        return failat(&c, 0, 0, "out of memory");
    }
    sc->traces = traces;
    snprintf(sc->path, sizeof sc->path, "%s", path);
    sc->iterations = 100;
    sc->seed = 1;
    sc->light_flow_rate = -1;
    sc->strategies[0] = TG_STRATEGY_ADAPTIVE;
    sc->n_strategies = 1;
    sc->aggregations[0] = TG_AGG_ADAPTIVE;
    sc->n_aggregations = 1;
    if (load(&c, text, len)) {
        sim_scenario_free(sc);
        return -1;
    }
    if (!sc->name[0]) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        size_t n = strcspn(base, ".");
        snprintf(sc->name, sizeof sc->name, "%.*s", (int)(n < SIM_NAME_MAX - 1 ? n : SIM_NAME_MAX - 1), base);
    }
    *out = sc;
    return 0;
}

void sim_scenario_free(struct sim_scenario *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_traces; i++)
        sim_trace_clear(&s->traces[i]);
    free(s->traces);
    free(s);
}
