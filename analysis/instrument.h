/*
 * instrument.h: the simulator as an instrument, read back as text:
 * `triglav-sim report DB --series RUN_ID` draws a run's time series
 * (tables series_uplinks, series_flows, series_tunnel) over time, and
 * `triglav-sim report DB --sweep` a metric against a swept scenario value
 * (table sweeps) per strategy, with 95% confidence intervals (stats.h).
 * Both print to a stream; neither writes files.
 */
#ifndef AN_INSTRUMENT_H
#define AN_INSTRUMENT_H

#include <stdint.h>
#include <stdio.h>

/* The series metrics --series knows, comma-separated, the first the default. */
#define AN_SERIES_METRICS \
    "throughput,owd,queue,share,rate,srtt,cwnd,retransmits,reorder,drops"

/* Is `name` one of AN_SERIES_METRICS? */
int an_series_metric_ok(const char *name);

/* Draw metric `metric` (AN_SERIES_METRICS) of run `run_id` over time, with
 * a table of each line's mean, minimum and maximum. Returns 0, or -1 (err:
 * no such run, a run stored without series, a database from before them). */
int an_series_print(FILE *out, const char *db_path, int64_t run_id, const char *metric,
                    char *err, size_t errlen);

/* For each scenario, swept key and aggregation mode: metric `metric` (a
 * metrics column, dataset.h) against the swept value, per strategy: a table
 * of mean ± 95% CI (n) and a chart. Returns 0, or -1 (err: no sweeps stored,
 * an unknown metric). */
int an_sweep_print(FILE *out, const char *db_path, const char *metric, char *err, size_t errlen);

#endif
