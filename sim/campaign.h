/*
 * campaign.h: a Monte Carlo campaign (DESIGN.md §5): every scenario x
 * strategy x aggregation x iteration of some scenario files, run on worker
 * threads and stored in the results database one run per transaction.
 *
 * The plan. Scenarios in command-line order (a file whose content equals an
 * earlier one's is run once); for each, iterations 0..N-1; for each
 * iteration, every strategy x aggregation of the sweep, all with the seed
 * sim_iteration_seed(base, scenario, i), so every strategy meets the same
 * environment (common random numbers). Runs are numbered in that order from
 * 0 across all scenarios; shard K of N keeps the runs whose number % N ==
 * K-1, so N shards together run the plan exactly once.
 *
 * Sweeps. With a sweep (sweep.h), each file is planned once per value, in
 * the order given, as a scenario of its own: the file's text with the key
 * set to the value. Its name, and so its seeds, are the file's: the values
 * are paired (same environment draws, iteration by iteration). Each run is
 * stored with its key and value (table sweeps).
 *
 * Resuming. Runs whose key is already in the database are skipped, and each
 * finished run is stored whole in its own transaction, so a campaign killed
 * at any moment (even SIGKILL) and started again with the same command ends
 * with exactly the rows of an uninterrupted one.
 *
 * Threads: `jobs` workers call sim_run, each on its own result; the calling
 * thread is the only one that touches the database. SIGINT and SIGTERM stop
 * handing out runs; the runs in progress finish and are stored, then
 * sim_campaign_run returns (a second signal kills the process as usual,
 * which loses only the runs in progress).
 */
#ifndef SIM_CAMPAIGN_H
#define SIM_CAMPAIGN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/sched.h"
#include "core/time.h"

struct sim_sweep;

struct sim_campaign_opts {
    const char *const *files;       /* .scn paths */
    size_t n_files;
    const char *data_dir;           /* for "data:" paths (NULL: the loader's default) */
    uint32_t iterations;            /* 0: each scenario's own */
    bool has_seed;
    uint64_t seed;                  /* base seed when has_seed, else each scenario's */
    const enum tg_strategy *strategies;     /* n_strategies == 0: each scenario's */
    size_t n_strategies;
    const enum tg_aggregation *aggregations; /* n_aggregations == 0: each scenario's */
    size_t n_aggregations;
    unsigned jobs;                  /* worker threads, >= 1 */
    uint32_t shard_k, shard_n;      /* this is shard K of N (1 <= K <= N); 1/1: all runs */
    const char *db_path;            /* results database (created if missing) */
    const char *command;            /* the command line, recorded with the campaign */
    bool progress;                  /* draw a progress line on stderr (a terminal) */
    tg_time series_interval_us;     /* > 0: store each run's time series at this interval */
    const struct sim_sweep *sweep;  /* not NULL: each file once per value (sweep.h) */
};

struct sim_campaign_summary {
    int64_t campaign_id;
    uint64_t planned;               /* runs of this shard */
    uint64_t already;               /* of those, found in the database at the start */
    uint64_t added;                 /* stored by this call */
    uint64_t raced;                 /* stored meanwhile by another process (not added) */
    double wall_s;                  /* wall-clock time of the call */
    int signal;                     /* SIGINT or SIGTERM that stopped the campaign, or 0 */
};

/* Plan, skip what is stored, run the rest, store each run. Returns 0 when
 * every run of the shard is stored; 1 when a signal stopped it early (runs
 * finished so far are stored; sum->signal says which); -1 on an error
 * (scenario that does not load, database error, a run that failed), with a
 * message in err. *sum is filled in every case. */
int sim_campaign_run(const struct sim_campaign_opts *o, struct sim_campaign_summary *sum,
                     char *err, size_t errlen);

#endif
