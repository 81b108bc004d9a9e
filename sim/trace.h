/*
 * trace.h: measured link capacity loaded from files, read-only and shared by
 * every run of a campaign (DESIGN.md §5).
 *
 * Two formats (../shared/data/README.md):
 *  - Mahimahi: one line per delivery opportunity, integer milliseconds since
 *    the start, non-decreasing; each opportunity carries 1504 bytes; the file
 *    repeats shifted by its last timestamp.
 *  - Throughput log: whitespace-separated "seconds mbit_per_s" lines (the
 *    Norway train segments). Read as a piecewise-constant rate: each sample
 *    holds from its time until the next sample; times are shifted so the
 *    first sample is at 0. When the next sample comes more than
 *    `gap_outage_us` later (0 = never), the sample holds only for the median
 *    sample spacing and the rest of the gap is an outage (rate 0). The trace
 *    repeats with a period of the last timestamp plus the median spacing.
 * Blank lines are skipped. Errors name file:line and what was expected
 * (malformed numbers, decreasing times, empty files, a Mahimahi file whose
 * last timestamp is 0, a throughput log with fewer than two sample times, a
 * NUL byte), never what the line holds: a trace path may name any file.
 * Only a regular file of at most SIM_TRACE_MAX_BYTES is read; anything else
 * gives "path: cannot read trace: <why>" (its strerror, "not a regular file
 * (a FIFO)", "larger than 256 MiB") without reading it.
 */
#ifndef SIM_TRACE_H
#define SIM_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "core/time.h"

#define SIM_MAHIMAHI_MTU 1504
/* The largest trace read, in bytes (a day of Mahimahi opportunities at
 * 1 Gbit/s is about 60 MB). */
#define SIM_TRACE_MAX_BYTES (256 << 20)

enum sim_trace_kind { SIM_TRACE_MAHIMAHI = 1, SIM_TRACE_THROUGHPUT };

struct sim_rate_step {
    tg_time at_us;      /* from the start of the schedule */
    double rate_bps;    /* from at_us until the next step; 0 = nothing passes */
};

struct sim_trace {
    enum sim_trace_kind kind;
    char path[512];
    tg_time period_us;          /* the trace repeats after this long */
    /* SIM_TRACE_MAHIMAHI: opportunity times in µs within one period, sorted */
    tg_time *opp_us;
    size_t n_opp;
    /* SIM_TRACE_THROUGHPUT: steps within one period, sorted, first at 0 */
    struct sim_rate_step *steps;
    size_t n_steps;
    double mean_bps;            /* mean capacity over one period */
};

/* Load a trace into *t (overwritten; free with sim_trace_clear). Returns 0,
 * or -1 with "path:line: what was expected" in err and *t zeroed. */
int sim_trace_load(struct sim_trace *t, enum sim_trace_kind kind, const char *path,
                   tg_time gap_outage_us, char *err, size_t errlen);
/* The same from text in memory (len bytes, NUL bytes refused like a file's);
 * `name` stands for the path in messages and in t->path. */
int sim_trace_load_text(struct sim_trace *t, enum sim_trace_kind kind, const char *name,
                        const char *text, size_t len, tg_time gap_outage_us, char *err,
                        size_t errlen);
/* Free what sim_trace_load allocated and zero *t (safe on a zeroed struct). */
void sim_trace_clear(struct sim_trace *t);

#endif
