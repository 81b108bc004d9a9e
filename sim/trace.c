/*
 * trace.c: the two trace parsers. Both read line by line (the lines are
 * short), from a file or from memory, build one period in memory and derive
 * the period and the mean; on any error the struct is left zeroed so
 * sim_trace_clear is safe. No message quotes what a line holds: a trace path
 * may name any file, and its bytes must not leak into an error.
 */
#define _POSIX_C_SOURCE 200809L /* open flags, fdopen (infile.h) */
#include "trace.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errf.h"
#include "infile.h"

#define LINE_MAX_CHARS 1024
/* timestamps above this many µs (about 285 years) are surely not a trace */
#define MAX_TRACE_US ((tg_time)1 << 53)

/* Lines come from a stream (a file) or from memory (sim_trace_load_text). */
struct reader {
    FILE *f; /* NULL: read from mem */
    const char *mem;
    size_t mem_len, mem_pos;
    const char *path;
    size_t lineno;
    uint64_t bytes; /* read so far: a file that grows stops at the limit */
    char line[LINE_MAX_CHARS];
};

/* The next raw line (up to LINE_MAX_CHARS - 1 bytes, its '\n' kept) into
 * r->line, NUL-terminated; *len its length, NUL bytes in it included.
 * Returns 1, 0 at the end, or -1 with err set. */
static int raw_line(struct reader *r, size_t *len, char *err, size_t errlen)
{
    if (r->f == NULL) {
        size_t avail = r->mem_len - r->mem_pos;
        if (avail == 0)
            return 0;
        size_t take = avail < sizeof r->line - 1 ? avail : sizeof r->line - 1;
        const char *p = r->mem + r->mem_pos;
        const char *nl = memchr(p, '\n', take);
        size_t n = nl ? (size_t)(nl - p) + 1 : take;
        memcpy(r->line, p, n);
        r->line[n] = '\0';
        r->mem_pos += n;
        *len = n;
        return 1;
    }
    /* prefilled, so that a NUL byte read from the file shows as a NUL before
     * the one fgets puts after what it read */
    memset(r->line, '\n', sizeof r->line);
    if (!fgets(r->line, sizeof r->line, r->f)) {
        if (ferror(r->f)) {
            sim_errf(err, errlen, "%s:%zu: cannot read: %s", r->path, r->lineno + 1,
                     strerror(errno));
            return -1;
        }
        return 0;
    }
    size_t n = strlen(r->line);
    if (memchr(r->line + n + 1, '\0', sizeof r->line - n - 1) != NULL)
        n = sizeof r->line; /* a NUL inside: reported by the caller */
    *len = n;
    return 1;
}

static bool more(struct reader *r)
{
    return r->f ? !feof(r->f) : r->mem_pos < r->mem_len;
}

/* The next non-blank line, stripped of surrounding whitespace, in r->line.
 * Returns 1, 0 at end of file, or -1 with err set. */
static int next_line(struct reader *r, char **out, char *err, size_t errlen)
{
    for (;;) {
        size_t n;
        int rc = raw_line(r, &n, err, errlen);
        if (rc <= 0)
            return rc;
        r->lineno++;
        if (n >= sizeof r->line || memchr(r->line, '\0', n) != NULL) {
            sim_errf(err, errlen, "%s:%zu: expected text, found a NUL byte (not a trace file)",
                     r->path, r->lineno);
            return -1;
        }
        r->bytes += n;
        if (r->bytes > SIM_TRACE_MAX_BYTES) {
            sim_errf(err, errlen, "%s:%zu: expected at most %d MiB (a trace's limit)", r->path,
                     r->lineno, SIM_TRACE_MAX_BYTES >> 20);
            return -1;
        }
        if (n == sizeof r->line - 1 && r->line[n - 1] != '\n' && more(r)) {
            sim_errf(err, errlen, "%s:%zu: expected a line shorter than %d characters", r->path,
                     r->lineno, LINE_MAX_CHARS - 1);
            return -1;
        }
        while (n > 0 && strchr(" \t\r\n\v\f", r->line[n - 1]))
            r->line[--n] = '\0';
        char *s = r->line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s) {
            *out = s;
            return 1;
        }
    }
}

/* Append v to a growing array of elements of size `size`. */
static int push(void **arr, size_t *n, size_t *cap, size_t size, const void *v)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 1024;
        void *p = realloc(*arr, c * size);
        if (!p)
            return -1;
        *arr = p;
        *cap = c;
    }
    memcpy((char *)*arr + *n * size, v, size);
    (*n)++;
    return 0;
}

static int load_mahimahi(struct sim_trace *t, struct reader *r, char *err, size_t errlen)
{
    void *arr = NULL;
    size_t n = 0, cap = 0;
    tg_time prev_ms = 0;
    char *s;
    int rc;
    while ((rc = next_line(r, &s, err, errlen)) > 0) {
        char *end = s;
        unsigned long long ms = 0;
        if (*s >= '0' && *s <= '9') {
            errno = 0;
            ms = strtoull(s, &end, 10);
        }
        if (end == s || *end || errno == ERANGE || ms > MAX_TRACE_US / 1000) {
            sim_errf(err, errlen,
                     "%s:%zu: expected a whole number of milliseconds alone on the line", r->path,
                     r->lineno);
            goto bad;
        }
        if (n > 0 && ms < prev_ms) {
            sim_errf(err, errlen,
                     "%s:%zu: expected a timestamp not below the previous one "
                     "(timestamps never decrease)",
                     r->path, r->lineno);
            goto bad;
        }
        prev_ms = ms;
        tg_time us = TG_MSEC(ms);
        if (push(&arr, &n, &cap, sizeof us, &us) < 0) {
            sim_errf(err, errlen, "%s:%zu: out of memory", r->path, r->lineno);
            goto bad;
        }
    }
    if (rc < 0)
        goto bad;
    if (n == 0) {
        sim_errf(err, errlen, "%s:%zu: expected a timestamp in ms, found an empty file", r->path,
                 r->lineno ? r->lineno : 1);
        goto bad;
    }
    if (prev_ms == 0) {
        sim_errf(err, errlen,
                 "%s:%zu: expected a last timestamp above 0 ms (the trace repeats with that "
                 "period)",
                 r->path, r->lineno);
        goto bad;
    }
    t->opp_us = arr;
    t->n_opp = n;
    t->period_us = TG_MSEC(prev_ms);
    t->mean_bps = (double)n * SIM_MAHIMAHI_MTU * 8.0 * 1e6 / (double)t->period_us;
    return 0;
bad:
    free(arr);
    return -1;
}

struct sample {
    tg_time at_us;
    double bps;
};

static int cmp_time(const void *a, const void *b)
{
    tg_time x = *(const tg_time *)a, y = *(const tg_time *)b;
    return x < y ? -1 : x > y;
}

static int load_throughput(struct sim_trace *t, struct reader *r, tg_time gap_outage_us, char *err,
                           size_t errlen)
{
    void *arr = NULL;
    size_t n = 0, cap = 0;
    tg_time *gaps = NULL;
    struct sim_rate_step *steps = NULL;
    double prev_s = 0;
    char *s;
    int rc;
    while ((rc = next_line(r, &s, err, errlen)) > 0) {
        char *end;
        double sec = strtod(s, &end);
        bool ok = end != s && (*end == ' ' || *end == '\t');
        char *s2 = end;
        double mbit = ok ? strtod(s2, &end) : 0;
        ok = ok && end != s2 && *end == '\0' && isfinite(sec) && isfinite(mbit);
        if (!ok) {
            sim_errf(err, errlen, "%s:%zu: expected \"seconds mbit_per_s\" (two numbers)", r->path,
                     r->lineno);
            goto bad;
        }
        if (sec < 0 || mbit < 0 || sec > (double)MAX_TRACE_US / 1e6) {
            sim_errf(err, errlen, "%s:%zu: expected non-negative numbers", r->path, r->lineno);
            goto bad;
        }
        if (n > 0 && sec < prev_s) {
            sim_errf(err, errlen,
                     "%s:%zu: expected a time not below the previous one (times never "
                     "decrease)",
                     r->path, r->lineno);
            goto bad;
        }
        prev_s = sec;
        struct sample v = {(tg_time)(sec * 1e6 + 0.5), mbit * 1e6};
        if (push(&arr, &n, &cap, sizeof v, &v) < 0) {
            sim_errf(err, errlen, "%s:%zu: out of memory", r->path, r->lineno);
            goto bad;
        }
    }
    if (rc < 0)
        goto bad;
    struct sample *sm = arr;
    if (n < 2) {
        sim_errf(err, errlen, "%s:%zu: expected at least two samples, found %s", r->path,
                 r->lineno ? r->lineno : 1, n ? "one" : "an empty file");
        goto bad;
    }
    /* the trace starts at its first sample */
    tg_time t0 = sm[0].at_us;
    for (size_t i = 0; i < n; i++)
        sm[i].at_us -= t0;
    /* median spacing of the samples: how long one sample holds after its time */
    gaps = malloc((n - 1) * sizeof *gaps);
    steps = malloc(2 * n * sizeof *steps);
    if (!gaps || !steps) {
        sim_errf(err, errlen, "%s: out of memory", r->path);
        goto bad;
    }
    size_t n_gaps = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (sm[i + 1].at_us > sm[i].at_us)
            gaps[n_gaps++] = sm[i + 1].at_us - sm[i].at_us;
    if (n_gaps == 0) {
        sim_errf(err, errlen, "%s:%zu: expected samples at more than one time", r->path, r->lineno);
        goto bad;
    }
    qsort(gaps, n_gaps, sizeof *gaps, cmp_time);
    tg_time hold_us = gaps[(n_gaps - 1) / 2];

    size_t ns = 0;
    for (size_t i = 0; i < n; i++) {
        steps[ns++] = (struct sim_rate_step){sm[i].at_us, sm[i].bps};
        if (i + 1 < n && gap_outage_us > 0 && sm[i + 1].at_us - sm[i].at_us > gap_outage_us &&
            sm[i].at_us + hold_us < sm[i + 1].at_us)
            steps[ns++] = (struct sim_rate_step){sm[i].at_us + hold_us, 0};
    }
    t->period_us = sm[n - 1].at_us + hold_us;
    double bits = 0;
    for (size_t i = 0; i < ns; i++) {
        tg_time next = i + 1 < ns ? steps[i + 1].at_us : t->period_us;
        bits += steps[i].rate_bps * (double)(next - steps[i].at_us) / 1e6;
    }
    t->mean_bps = bits * 1e6 / (double)t->period_us;
    t->steps = steps;
    t->n_steps = ns;
    free(gaps);
    free(arr);
    return 0;
bad:
    free(steps);
    free(gaps);
    free(arr);
    return -1;
}

static int load(struct sim_trace *t, enum sim_trace_kind kind, struct reader *r,
                tg_time gap_outage_us, char *err, size_t errlen)
{
    int rc = kind == SIM_TRACE_MAHIMAHI ? load_mahimahi(t, r, err, errlen)
                                        : load_throughput(t, r, gap_outage_us, err, errlen);
    if (rc < 0) {
        memset(t, 0, sizeof *t);
        return -1;
    }
    t->kind = kind;
    snprintf(t->path, sizeof t->path, "%s", r->path);
    return 0;
}

int sim_trace_load(struct sim_trace *t, enum sim_trace_kind kind, const char *path,
                   tg_time gap_outage_us, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (kind != SIM_TRACE_MAHIMAHI && kind != SIM_TRACE_THROUGHPUT) {
        sim_errf(err, errlen, "%s: unknown trace kind %d", path, (int)kind);
        return -1;
    }
    struct reader r = {.path = path};
    char why[128];
    int64_t size;
    r.f = sim_infile_open(path, SIM_TRACE_MAX_BYTES, &size, why, sizeof why);
    if (r.f == NULL) {
        sim_errf(err, errlen, "%s: cannot read trace: %s", path, why);
        return -1;
    }
    int rc = load(t, kind, &r, gap_outage_us, err, errlen);
    fclose(r.f);
    return rc;
}

int sim_trace_load_text(struct sim_trace *t, enum sim_trace_kind kind, const char *name,
                        const char *text, size_t len, tg_time gap_outage_us, char *err,
                        size_t errlen)
{
    memset(t, 0, sizeof *t);
    if (kind != SIM_TRACE_MAHIMAHI && kind != SIM_TRACE_THROUGHPUT) {
        sim_errf(err, errlen, "%s: unknown trace kind %d", name, (int)kind);
        return -1;
    }
    if (len > SIM_TRACE_MAX_BYTES) {
        sim_errf(err, errlen, "%s: cannot read trace: larger than %d MiB", name,
                 SIM_TRACE_MAX_BYTES >> 20);
        return -1;
    }
    struct reader r = {.path = name, .mem = text, .mem_len = len};
    return load(t, kind, &r, gap_outage_us, err, errlen);
}

void sim_trace_clear(struct sim_trace *t)
{
    free(t->opp_us);
    free(t->steps);
    memset(t, 0, sizeof *t);
}
