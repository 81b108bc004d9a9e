/*
 * db.h: the results database (DESIGN.md §5; schema and column meanings in
 * results/schema.sql and results/README.md).
 *
 * A run is stored whole or not at all: its rows in runs, metrics,
 * uplink_results, flow_results and event_counts are written in one
 * transaction. A run is named by its key (scenario content hash, strategy,
 * aggregation, iteration, seed), which is UNIQUE in the database: that is
 * what lets a killed campaign resume by running the same command again, and
 * what keeps merged shard databases free of duplicates.
 *
 * The schema is compiled into the program (sim_db_schema), so a database can
 * be created without the source tree. Databases are opened in WAL mode with a
 * busy timeout, so several processes may write one database, but a
 * connection (struct sim_db) belongs to one thread. This module does not run
 * simulations or plan campaigns (campaign.h does).
 *
 * Errors: functions return -1 and write "PATH: what went wrong (sqlite's
 * message)" into err (errlen bytes, always terminated).
 */
#ifndef SIM_DB_H
#define SIM_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/sched.h"
#include "run.h"

/* PRAGMA user_version of the schema this program writes and reads. A
 * version 1 database (before replays), 2 (before series and sweeps) or 3
 * (before live runs) is upgraded in place when opened. */
#define SIM_DB_SCHEMA_VERSION 4

/* results/schema.sql, embedded at build time. */
extern const char sim_db_schema[];
/* The software version recorded with every run: "0.1.0 (git describe)", or
 * the project version alone when the build had no git checkout. */
extern const char sim_version[];

struct sim_db;

/* Open the database at `path`, creating the file and the schema if it does
 * not exist (the folder must exist). Refuses files that are not SQLite
 * databases, SQLite databases of another program, and results databases of
 * another schema version. Returns 0 with *out set, or -1 (err). */
int sim_db_open(const char *path, struct sim_db **out, char *err, size_t errlen);
/* NULL is fine. */
void sim_db_close(struct sim_db *db);

/* What determines a run's result, and so names it in the database. */
struct sim_db_run_key {
    uint64_t scenario_hash;         /* sim_scenario.content_hash */
    enum tg_strategy strategy;
    enum tg_aggregation aggregation;
    uint32_t iteration;
    uint64_t seed;                  /* the iteration's seed (sim_iteration_seed) */
};

/* One scenario of a campaign's plan, with the lists it is swept over. */
struct sim_db_campaign_scenario {
    const char *name;
    const char *file;               /* as given on the command line */
    uint64_t hash;                  /* content hash */
    const enum tg_strategy *strategies;
    size_t n_strategies;
    const enum tg_aggregation *aggregations;
    size_t n_aggregations;
    uint32_t iterations;
    uint64_t base_seed;
};

struct sim_db_campaign {
    const struct sim_db_campaign_scenario *scenarios;
    size_t n_scenarios;
    uint64_t planned_runs;          /* the whole plan, every shard */
    const char *command;            /* the command line, recorded for people */
};

/* The campaign's key: a hash of its plan (each scenario's hash, name,
 * strategies, aggregations, iterations and base seed, in order). The command
 * line, the shard and -j do not enter it, so every shard of a campaign and
 * every rerun of it share one key. */
uint64_t sim_db_campaign_key(const struct sim_db_campaign *c);

/* Find the campaign with this plan's key, or create it (with its
 * campaign_scenarios rows). Returns 0 with *id set, or -1 (err). */
int sim_db_campaign(struct sim_db *db, const struct sim_db_campaign *c, int64_t *id, char *err,
                    size_t errlen);

/* Is a run with this key stored? Returns 0 with *found set, or -1 (err). */
int sim_db_has_run(struct sim_db *db, const struct sim_db_run_key *k, bool *found, char *err,
                   size_t errlen);

/* Many lookups (sim_db_has_run) in one read transaction: one snapshot and one
 * lock for all of them instead of one each; nothing is written in between.
 * begin returns 0 or -1 (err); end never fails (a read has nothing to lose). */
int sim_db_read_begin(struct sim_db *db, char *err, size_t errlen);
void sim_db_read_end(struct sim_db *db);

/* A finished run: where it belongs and what it cost, beside its result. */
struct sim_db_run {
    int64_t campaign_id;
    const char *scenario;           /* scenario name */
    const char *scenario_file;
    struct sim_db_run_key key;
    double duration_s;              /* simulated */
    double wall_s;                  /* wall-clock time of sim_run */
    const char *sweep_key;          /* --sweep: the key and this run's value (NULL: no sweep) */
    const char *sweep_value;
    uint32_t sweep_position;        /* the value's index in the sweep's list */
};

/* Store a run and every row of its result (its time series too, when
 * res->series is set, and its sweep value) in one transaction (BEGIN
 * IMMEDIATE ... COMMIT). Returns 1 if stored, 0 if a run with the same key
 * was already stored (by this or another process; nothing is written), -1 on
 * error (nothing is written). */
int sim_db_insert_run(struct sim_db *db, const struct sim_db_run *run,
                      const struct sim_run_result *res, char *err, size_t errlen);

struct sim_db_merge_stats {
    uint64_t runs;                  /* runs in the input */
    uint64_t added;                 /* of those, new to the output */
};

/* Copy every campaign and run of each input database into `out`, giving
 * them new ids; runs whose key is already in `out` are skipped, campaigns
 * with a known key are shared. One transaction per input: an input is merged
 * whole or not at all. stats (may be NULL) gets one entry per input. Returns
 * 0, or -1 (err) after merging the inputs before the failing one. */
int sim_db_merge(struct sim_db *out, const char *const *ins, size_t n,
                 struct sim_db_merge_stats *stats, char *err, size_t errlen);

/* Write every campaign and run with all its rows as text, one row per line,
 * in a canonical order (by run key), without what differs between equal
 * results: ids, wall-clock times, creation times and command lines. Two
 * databases hold the same results iff their dumps are equal. Returns 0, or
 * -1 (err). */
int sim_db_dump(struct sim_db *db, FILE *f, char *err, size_t errlen);

/* ---- replays (`triglav-sim replay`, sim/replay.h); tables replays and replay_packets */

struct sim_db_replay {
    const char *pcap;               /* capture path as given */
    const char *scenario;           /* scenario name */
    const char *scenario_file;
    uint64_t scenario_hash;
    enum tg_strategy strategy;
    enum tg_aggregation aggregation;
    uint64_t seed;                  /* the run's seed */
    const char *direction;          /* auto, up, down */
    const char *local_addr;         /* auto: the laptop's address ("" or NULL: none) */
    const char *uplinks;            /* uplink names in index order, comma-separated */
    uint64_t frames, skipped, injected, delivered, lost, reordered;
    double owd_p50_us, owd_p99_us;  /* NAN: nothing delivered */
    tg_time session_up_us;          /* TG_TIME_NEVER: never */
    double duration_s;              /* simulated */
    const char *command;
};

struct sim_db_replay_packet {
    uint64_t packet;                /* index among the IP packets, 0 first */
    uint64_t frame;                 /* record number in the file, 1 first */
    bool up;                        /* laptop -> outside */
    uint64_t size_bytes;
    tg_time capture_us;             /* since the first IP packet */
    tg_time sent_us, delivered_us;  /* simulated time; TG_TIME_NEVER: never */
    uint32_t uplink_mask;           /* bit i: uplink i carried it */
    bool reordered;
    const char *lost_reason;        /* NULL when delivered */
};

/* Store a replay and its packets in one transaction. Returns 0 with *id
 * set, or -1 (err; nothing is written). */
int sim_db_insert_replay(struct sim_db *db, const struct sim_db_replay *r,
                         const struct sim_db_replay_packet *pkts, size_t n, int64_t *id,
                         char *err, size_t errlen);

/* ---- live runs (the testnet, `triglav-sim live record`); table live_runs */

/* What the testnet measured in one live run; NAN: not measured (NULL). */
struct sim_db_live {
    const char *scenario;           /* scenario name */
    const char *scenario_file;
    struct sim_db_run_key key;      /* the simulated run it pairs with */
    double duration_s;              /* wall-clock time the traffic ran */
    double goodput_mbps;            /* bulk TCP flows together */
    double owd_p50_ms, owd_p95_ms, owd_p99_ms; /* the voice flow's datagrams */
    double loss;                    /* voice datagrams lost / sent */
    double session_up_ms;
    const char *method;             /* how it was measured (NULL: not said) */
};

/* Store a live run. Returns 1 if stored, 0 if a live run with the same key
 * is stored already and replace is false (nothing is written), -1 on error
 * (err). With replace, an earlier live run of the key is replaced. */
int sim_db_insert_live(struct sim_db *db, const struct sim_db_live *l, bool replace, char *err,
                       size_t errlen);

/* Is a live run with this key stored? Returns 0 with *found set, or -1 (err). */
int sim_db_has_live(struct sim_db *db, const struct sim_db_run_key *k, bool *found, char *err,
                    size_t errlen);

#endif
