/*
 * db.c: the results database. Everything a run writes goes through cached
 * prepared statements inside one BEGIN IMMEDIATE transaction, so a process
 * killed at any instant leaves either the whole run or none of it (SQLite's
 * WAL gives that atomicity; synchronous=NORMAL only risks the last commits on
 * power loss, never a torn run).
 */
#define _POSIX_C_SOURCE 200809L

#include "db.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "errf.h"
#include "hash.h"

#define BUSY_TIMEOUT_MS 60000

enum {
    ST_HAS,
    ST_RUN,
    ST_METRICS,
    ST_UPLINK,
    ST_FLOW,
    ST_EVENT,
    ST_SERIES_UP,
    ST_SERIES_FLOW,
    ST_SERIES_TUN,
    ST_SWEEP,
    ST_HAS_LIVE,
    ST_LIVE,
    ST_LIVE_REPLACE,
    ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_HAS] = "SELECT 1 FROM runs WHERE scenario_hash = ?1 AND strategy = ?2 AND "
               "aggregation = ?3 AND iteration = ?4 AND seed = ?5",
    [ST_RUN] = "INSERT OR IGNORE INTO runs (campaign_id, scenario, scenario_file, scenario_hash, "
               "strategy, aggregation, iteration, seed, version, duration_s, wall_s, sim_events) "
               "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    [ST_METRICS] = "INSERT INTO metrics (run_id, goodput_mbps, goodput_down_mbps, goodput_up_mbps, "
                   "capacity_mbps, efficiency, owd_p50_ms, owd_p95_ms, owd_p99_ms, jitter_ms, "
                   "loss, reorder_peak_pkts, stall_max_ms, failovers, failover_max_ms, "
                   "redundancy_overhead, defining_events, session_up_ms, packets) VALUES (?1, "
                   "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, "
                   "?19)",
    [ST_UPLINK] = "INSERT INTO uplink_results (run_id, uplink, name, sent_up_bytes, "
                  "sent_down_bytes, delivered_up_bytes, delivered_down_bytes, drops_up_pkts, "
                  "drops_down_pkts, capacity_up_mbps, capacity_down_mbps, down_ms, outages) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
    [ST_FLOW] = "INSERT INTO flow_results (run_id, flow, kind, cc, direction, delivered_bytes, "
                "goodput_mbps, completion_ms, owd_p50_ms, owd_p95_ms, owd_p99_ms, jitter_ms, "
                "loss, stall_max_ms, retransmits, spurious_retransmits, rto_count, objects_done) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
                "?17, ?18)",
    [ST_EVENT] = "INSERT INTO event_counts (run_id, name, occurrences, total_s) "
                 "VALUES (?1, ?2, ?3, ?4)",
    [ST_SERIES_UP] = "INSERT INTO series_uplinks (run_id, uplink, t_ms, up_mbps, down_mbps, "
                     "share_up, share_down, queue_up_bytes, queue_down_bytes, owd_up_ms, "
                     "owd_down_ms, srtt_ms, rate_est_up_mbps, rate_est_down_mbps, drops_pkts, "
                     "health) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
                     "?15, ?16)",
    [ST_SERIES_FLOW] = "INSERT INTO series_flows (run_id, flow, t_ms, goodput_mbps, owd_ms, "
                       "cwnd_bytes, inflight_bytes, retransmits) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                       "?7, ?8)",
    [ST_SERIES_TUN] = "INSERT INTO series_tunnel (run_id, t_ms, reorder_peak_pkts, "
                      "retransmitted_pkts, nacks, late_drops_pkts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_SWEEP] = "INSERT INTO sweeps (run_id, key, value, position) VALUES (?1, ?2, ?3, ?4)",
    [ST_HAS_LIVE] = "SELECT 1 FROM live_runs WHERE scenario_hash = ?1 AND strategy = ?2 AND "
                    "aggregation = ?3 AND iteration = ?4 AND seed = ?5",
#define LIVE_COLS                                                                                  \
    "live_runs (scenario_hash, strategy, aggregation, iteration, seed, scenario, scenario_file, "  \
    "version, duration_s, goodput_mbps, owd_p50_ms, owd_p95_ms, owd_p99_ms, loss, "               \
    "session_up_ms, method) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, " \
    "?15, ?16)"
    [ST_LIVE] = "INSERT OR IGNORE INTO " LIVE_COLS,
    [ST_LIVE_REPLACE] = "INSERT OR REPLACE INTO " LIVE_COLS,
#undef LIVE_COLS
};

struct sim_db {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *st[ST_COUNT];
};

/* "PATH: what (sqlite's message)" and -1. */
static int dberr(struct sim_db *db, const char *what, char *err, size_t errlen)
{
    sim_errf(err, errlen, "%s: %s (%s)", db->path, what, sqlite3_errmsg(db->h));
    return -1;
}

static int exec(struct sim_db *db, const char *sql, const char *what, char *err, size_t errlen)
{
    if (sqlite3_exec(db->h, sql, NULL, NULL, NULL) != SQLITE_OK)
        return dberr(db, what, err, errlen);
    return 0;
}

static void rollback(struct sim_db *db)
{
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
}

/* One integer from a query without parameters; -1 on error. */
static int query_int(struct sim_db *db, const char *sql, int64_t *v, const char *what, char *err,
                     size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(db, what, err, errlen);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    else
        *v = 0;
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(db, what, err, errlen);
    return 0;
}

/* ------------------------------------------------------------ binding */

static void hex64(char out[17], uint64_t v)
{
    snprintf(out, 17, "%016" PRIx64, v);
}

static int bind_u64(sqlite3_stmt *st, int i, uint64_t v)
{
    return sqlite3_bind_int64(st, i, v > INT64_MAX ? INT64_MAX : (sqlite3_int64)v);
}

/* Seeds are 64-bit patterns: stored as the signed integer with the same bits. */
static int bind_seed(sqlite3_stmt *st, int i, uint64_t v)
{
    sqlite3_int64 s;
    memcpy(&s, &v, sizeof s);
    return sqlite3_bind_int64(st, i, s);
}

static int bind_real(sqlite3_stmt *st, int i, double v)
{
    if (!isfinite(v))
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_double(st, i, v);
}

/* A duration in µs as `scale` units (1e-3: ms, 1e-6: s); never is NULL. */
static int bind_time(sqlite3_stmt *st, int i, tg_time us, double scale)
{
    if (us == TG_TIME_NEVER)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_double(st, i, (double)us * scale);
}

static int bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s == NULL)
        return sqlite3_bind_null(st, i);
    return sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
}

#define MBPS(bps) ((bps) / 1e6)
#define MS        1e-3
#define SEC       1e-6

static const char *cc_name(enum sim_flow_kind k, enum sim_cc cc)
{
    return k == SIM_FLOW_TCP || k == SIM_FLOW_WEB ? sim_cc_name(cc) : NULL;
}

static const char *dir_name(enum sim_dir d)
{
    return d == SIM_DIR_UP ? "up" : "down";
}

/* Run a prepared insert to completion and reset it. */
static int step_done(struct sim_db *db, sqlite3_stmt *st, const char *what, char *err,
                     size_t errlen)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return dberr(db, what, err, errlen);
    return 0;
}

static int bind_key(sqlite3_stmt *st, int first, const struct sim_db_run_key *k)
{
    char hash[17];
    hex64(hash, k->scenario_hash);
    int rc = sqlite3_bind_text(st, first, hash, -1, SQLITE_TRANSIENT);
    rc |= bind_text(st, first + 1, tg_strategy_name(k->strategy));
    rc |= bind_text(st, first + 2, tg_aggregation_name(k->aggregation));
    rc |= sqlite3_bind_int64(st, first + 3, k->iteration);
    rc |= bind_seed(st, first + 4, k->seed);
    return rc;
}

/* ------------------------------------------------------------ open */

/* An older database gets the tables added since its version: schema.sql
 * holds them after the marker of the version that added them (version 1:
 * everything from "@version 2" on, version 2: from "@version 3" on). Run under
 * the write lock unless another process upgraded meanwhile. */
static int upgrade(struct sim_db *db, int64_t from, char *err, size_t errlen)
{
    const char *marker = from == 1   ? "\n-- @version 2:"
                         : from == 2 ? "\n-- @version 3:"
                                     : "\n-- @version 4:";
    const char *part = strstr(sim_db_schema, marker);
    int64_t version;
    if (part == NULL) {
        sim_errf(err, errlen, "%s: the embedded schema has no version %d part", db->path,
                 (int)from + 1);
        return -1;
    }
    if (exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen))
        return -1;
    if (query_int(db, "PRAGMA user_version", &version, "cannot read the schema version", err,
                  errlen))
        goto fail;
    char set[64];
    snprintf(set, sizeof set, "PRAGMA user_version = %d", SIM_DB_SCHEMA_VERSION);
    if (version == from && (exec(db, part, "cannot upgrade the schema", err, errlen) ||
                            exec(db, set, "cannot upgrade the schema", err, errlen)))
        goto fail;
    if (exec(db, "COMMIT", "cannot upgrade the schema", err, errlen))
        goto fail;
    return 0;
fail:
    rollback(db);
    return -1;
}

static int apply_schema(struct sim_db *db, char *err, size_t errlen)
{
    int64_t version, tables;
    if (query_int(db, "PRAGMA user_version", &version, "cannot read the schema version", err,
                  errlen))
        return -1;
    if (version == SIM_DB_SCHEMA_VERSION)
        return 0;
    if (version >= 1 && version <= 3)
        return upgrade(db, version, err, errlen);
    if (version != 0) {
        sim_errf(err, errlen,
             "%s: results database of schema version %" PRId64
             ", this triglav-sim reads and writes version %d: use another --db file",
             db->path, version, SIM_DB_SCHEMA_VERSION);
        return -1;
    }
    /* A new file. Another process may be creating the schema right now:
     * decide again under the write lock. */
    if (exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen))
        return -1;
    if (query_int(db, "PRAGMA user_version", &version, "cannot read the schema version", err,
                  errlen) ||
        query_int(db, "SELECT count(*) FROM sqlite_master", &tables, "cannot read the schema", err,
                  errlen))
        goto fail;
    if (version == 0 && tables > 0) {
        sim_errf(err, errlen,
             "%s: a SQLite database, but not a triglav-sim results database (it has tables "
             "and no schema version)",
             db->path);
        goto fail;
    }
    if (version == 0) {
        if (exec(db, sim_db_schema, "cannot create the schema", err, errlen) ||
            query_int(db, "PRAGMA user_version", &version, "cannot read the schema version", err,
                      errlen))
            goto fail;
        if (version != SIM_DB_SCHEMA_VERSION) {
            sim_errf(err, errlen, "%s: the embedded schema sets version %" PRId64 ", expected %d",
                 db->path, version, SIM_DB_SCHEMA_VERSION);
            goto fail;
        }
    }
    if (exec(db, "COMMIT", "cannot create the schema", err, errlen))
        goto fail;
    if (version != SIM_DB_SCHEMA_VERSION) {
        sim_errf(err, errlen, "%s: results database of schema version %" PRId64 ", expected %d",
             db->path, version, SIM_DB_SCHEMA_VERSION);
        return -1;
    }
    return 0;
fail:
    rollback(db);
    return -1;
}

int sim_db_open(const char *path, struct sim_db **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        sim_errf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    struct sim_db *db = calloc(1, sizeof *db);
    if (db == NULL || (db->path = strdup(path)) == NULL) {
        free(db);
        sim_errf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    int rc = sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        if (db->h != NULL)
            dberr(db, "cannot open the database", err, errlen);
        else
            sim_errf(err, errlen, "%s: cannot open the database (%s)", path, sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    sqlite3_busy_timeout(db->h, BUSY_TIMEOUT_MS);
    /* The first statement reads the file: a file that is not SQLite fails here. */
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "PRAGMA journal_mode = WAL", -1, &st, NULL) != SQLITE_OK) {
        dberr(db, "cannot use as a results database", err, errlen);
        goto fail;
    }
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) {
        dberr(db, "cannot use as a results database", err, errlen);
        goto fail;
    }
    if (exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
             "cannot configure the database", err, errlen) ||
        apply_schema(db, err, errlen))
        goto fail;
    for (int i = 0; i < ST_COUNT; i++) {
        if (sqlite3_prepare_v3(db->h, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &db->st[i],
                               NULL) != SQLITE_OK) {
            dberr(db, "cannot prepare a statement (is the schema current?)", err, errlen);
            goto fail;
        }
    }
    *out = db;
    return 0;
fail:
    sim_db_close(db);
    return -1;
}

void sim_db_close(struct sim_db *db)
{
    if (db == NULL)
        return;
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(db->st[i]);
    sqlite3_close(db->h);
    free(db->path);
    free(db);
}

/* ------------------------------------------------------------ campaigns */

/* v's 8 bytes, little-endian, into FNV-1a hash *h. */
static void hash_u64(uint64_t *h, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    *h = sim_fnv1a(*h, b, sizeof b);
}

/* FNV-1a over the plan's bytes, finished with a splitmix64 mix. */
uint64_t sim_db_campaign_key(const struct sim_db_campaign *c)
{
    uint64_t h = SIM_FNV1A_BASIS;
    hash_u64(&h, c->n_scenarios);
    for (size_t i = 0; i < c->n_scenarios; i++) {
        const struct sim_db_campaign_scenario *s = &c->scenarios[i];
        hash_u64(&h, s->hash);
        h = sim_fnv1a(h, s->name, strlen(s->name) + 1);
        hash_u64(&h, s->n_strategies);
        for (size_t j = 0; j < s->n_strategies; j++)
            hash_u64(&h, (uint64_t)s->strategies[j]);
        hash_u64(&h, s->n_aggregations);
        for (size_t j = 0; j < s->n_aggregations; j++)
            hash_u64(&h, (uint64_t)s->aggregations[j]);
        hash_u64(&h, s->iterations);
        hash_u64(&h, s->base_seed);
    }
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

/* The name of v[i], v an array of enum tg_strategy or enum tg_aggregation. */
static const char *strategy_at(const void *v, size_t i)
{
    return tg_strategy_name(((const enum tg_strategy *)v)[i]);
}

static const char *aggregation_at(const void *v, size_t i)
{
    return tg_aggregation_name(((const enum tg_aggregation *)v)[i]);
}

/* "a,b,c" from name(v, i) for i < n; out has room for every name. */
static void join_names(char *out, size_t cap, const char *(*name)(const void *v, size_t i),
                       const void *v, size_t n)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s%s", i ? "," : "", name(v, i));
}

int sim_db_campaign(struct sim_db *db, const struct sim_db_campaign *c, int64_t *id, char *err,
                    size_t errlen)
{
    char key[17], hash[17];
    hex64(key, sim_db_campaign_key(c));
    sqlite3_stmt *ins = NULL, *sel = NULL, *sc = NULL;
    if (exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen))
        return -1;
    if (sqlite3_prepare_v2(db->h,
                           "INSERT OR IGNORE INTO campaigns (key, planned_runs, version, command) "
                           "VALUES (?1, ?2, ?3, ?4)",
                           -1, &ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h, "SELECT id FROM campaigns WHERE key = ?1", -1, &sel, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db->h,
                           "INSERT OR IGNORE INTO campaign_scenarios (campaign_id, position, "
                           "scenario, scenario_file, scenario_hash, strategies, aggregations, "
                           "iterations, base_seed) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                           -1, &sc, NULL) != SQLITE_OK) {
        dberr(db, "cannot prepare the campaign statements", err, errlen);
        goto fail;
    }
    sqlite3_bind_text(ins, 1, key, -1, SQLITE_TRANSIENT);
    bind_u64(ins, 2, c->planned_runs);
    bind_text(ins, 3, sim_version);
    bind_text(ins, 4, c->command != NULL ? c->command : "");
    if (step_done(db, ins, "cannot store the campaign", err, errlen))
        goto fail;
    sqlite3_bind_text(sel, 1, key, -1, SQLITE_TRANSIENT);
    if (sqlite3_step(sel) != SQLITE_ROW) {
        dberr(db, "cannot find the campaign just stored", err, errlen);
        goto fail;
    }
    *id = sqlite3_column_int64(sel, 0);
    for (size_t i = 0; i < c->n_scenarios; i++) {
        const struct sim_db_campaign_scenario *s = &c->scenarios[i];
        char strategies[TG_STRATEGY_COUNT * 32], aggregations[TG_AGG_COUNT * 32];
        join_names(strategies, sizeof strategies, strategy_at, s->strategies, s->n_strategies);
        join_names(aggregations, sizeof aggregations, aggregation_at, s->aggregations,
                   s->n_aggregations);
        hex64(hash, s->hash);
        sqlite3_bind_int64(sc, 1, *id);
        sqlite3_bind_int64(sc, 2, (sqlite3_int64)i);
        bind_text(sc, 3, s->name);
        bind_text(sc, 4, s->file);
        bind_text(sc, 5, hash);
        bind_text(sc, 6, strategies);
        bind_text(sc, 7, aggregations);
        sqlite3_bind_int64(sc, 8, s->iterations);
        bind_seed(sc, 9, s->base_seed);
        if (step_done(db, sc, "cannot store the campaign's scenarios", err, errlen))
            goto fail;
    }
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_finalize(sc);
    return exec(db, "COMMIT", "cannot store the campaign", err, errlen);
fail:
    sqlite3_finalize(ins);
    sqlite3_finalize(sel);
    sqlite3_finalize(sc);
    rollback(db);
    return -1;
}

/* ------------------------------------------------------------ runs */

int sim_db_has_run(struct sim_db *db, const struct sim_db_run_key *k, bool *found, char *err,
                   size_t errlen)
{
    sqlite3_stmt *st = db->st[ST_HAS];
    bind_key(st, 1, k);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(db, "cannot look up a run", err, errlen);
    *found = rc == SQLITE_ROW;
    return 0;
}

int sim_db_read_begin(struct sim_db *db, char *err, size_t errlen)
{
    return exec(db, "BEGIN", "cannot start reading the database", err, errlen);
}

void sim_db_read_end(struct sim_db *db)
{
    rollback(db); /* nothing was written: the same as COMMIT */
}

static int insert_metrics(struct sim_db *db, int64_t run_id, const struct sim_run_result *r,
                          char *err, size_t errlen)
{
    sqlite3_stmt *st = db->st[ST_METRICS];
    sqlite3_bind_int64(st, 1, run_id);
    bind_real(st, 2, MBPS(r->goodput_bps));
    bind_real(st, 3, MBPS(r->goodput_down_bps));
    bind_real(st, 4, MBPS(r->goodput_up_bps));
    bind_real(st, 5, MBPS(r->capacity_bps));
    bind_real(st, 6, r->efficiency);
    bind_real(st, 7, r->owd_p50_us * MS);
    bind_real(st, 8, r->owd_p95_us * MS);
    bind_real(st, 9, r->owd_p99_us * MS);
    bind_real(st, 10, r->jitter_us * MS);
    bind_real(st, 11, r->loss);
    bind_u64(st, 12, r->reorder_peak);
    bind_time(st, 13, r->longest_stall_us, MS);
    sqlite3_bind_int64(st, 14, r->failovers);
    bind_time(st, 15, r->failover_us, MS);
    bind_real(st, 16, r->redundancy_overhead);
    sqlite3_bind_int64(st, 17, r->defining_events);
    bind_time(st, 18, r->session_up_us, MS);
    bind_u64(st, 19, r->packets);
    return step_done(db, st, "cannot store a run's metrics", err, errlen);
}

static int insert_children(struct sim_db *db, int64_t run_id, const struct sim_run_result *r,
                           char *err, size_t errlen)
{
    if (r->n_uplinks > SIM_MAX_UPLINKS || r->n_flows > SIM_MAX_FLOWS * 4 ||
        r->n_events > SIM_MAX_EVENTS) {
        sim_errf(err, errlen, "%s: a run result with %zu uplinks, %zu flows, %zu events: corrupt",
             db->path, r->n_uplinks, r->n_flows, r->n_events);
        return -1;
    }
    sqlite3_stmt *st = db->st[ST_UPLINK];
    for (size_t i = 0; i < r->n_uplinks; i++) {
        const struct sim_uplink_result *u = &r->uplinks[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, (sqlite3_int64)i);
        sqlite3_bind_text(st, 3, u->name, (int)strnlen(u->name, sizeof u->name), SQLITE_TRANSIENT);
        bind_u64(st, 4, u->bytes_up);
        bind_u64(st, 5, u->bytes_down);
        bind_u64(st, 6, u->delivered_up);
        bind_u64(st, 7, u->delivered_down);
        bind_u64(st, 8, u->drops_up);
        bind_u64(st, 9, u->drops_down);
        bind_real(st, 10, MBPS(u->capacity_up_bps));
        bind_real(st, 11, MBPS(u->capacity_down_bps));
        bind_time(st, 12, u->down_us, MS);
        sqlite3_bind_int64(st, 13, u->outages);
        if (step_done(db, st, "cannot store a run's uplink results", err, errlen))
            return -1;
    }
    st = db->st[ST_FLOW];
    for (size_t i = 0; i < r->n_flows; i++) {
        const struct sim_flow_result *f = &r->flows[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, f->id);
        bind_text(st, 3, sim_flow_kind_name(f->kind));
        bind_text(st, 4, cc_name(f->kind, f->cc));
        bind_text(st, 5, dir_name(f->dir));
        bind_u64(st, 6, f->bytes_delivered);
        bind_real(st, 7, MBPS(f->goodput_bps));
        bind_time(st, 8, f->completion_us, MS);
        bind_real(st, 9, f->owd_p50_us * MS);
        bind_real(st, 10, f->owd_p95_us * MS);
        bind_real(st, 11, f->owd_p99_us * MS);
        bind_real(st, 12, f->jitter_us * MS);
        bind_real(st, 13, f->loss);
        bind_time(st, 14, f->longest_stall_us, MS);
        bind_u64(st, 15, f->retransmits);
        bind_u64(st, 16, f->spurious_retransmits);
        bind_u64(st, 17, f->rto_count);
        bind_u64(st, 18, f->objects_done);
        if (step_done(db, st, "cannot store a run's flow results", err, errlen))
            return -1;
    }
    st = db->st[ST_EVENT];
    for (size_t i = 0; i < r->n_events; i++) {
        const struct sim_event_count *e = &r->events[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_text(st, 2, e->name, (int)strnlen(e->name, sizeof e->name), SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 3, e->occurrences);
        bind_time(st, 4, e->total_us, SEC);
        if (step_done(db, st, "cannot store a run's event counts", err, errlen))
            return -1;
    }
    return 0;
}

static int insert_series(struct sim_db *db, int64_t run_id, const struct sim_series *s,
                         char *err, size_t errlen)
{
    sqlite3_stmt *st = db->st[ST_SERIES_UP];
    for (size_t i = 0; i < s->n_up; i++) {
        const struct sim_series_uplink *u = &s->up[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, u->uplink);
        bind_time(st, 3, u->t_us, MS);
        bind_real(st, 4, MBPS(u->up_bps));
        bind_real(st, 5, MBPS(u->down_bps));
        bind_real(st, 6, u->share_up);
        bind_real(st, 7, u->share_down);
        bind_u64(st, 8, u->queue_up_bytes);
        bind_u64(st, 9, u->queue_down_bytes);
        bind_real(st, 10, u->owd_up_us * MS);
        bind_real(st, 11, u->owd_down_us * MS);
        bind_real(st, 12, u->srtt_us * MS);
        bind_real(st, 13, MBPS(u->rate_est_up_bps));
        bind_real(st, 14, MBPS(u->rate_est_down_bps));
        bind_u64(st, 15, u->drops);
        bind_text(st, 16, u->health >= 0 ? tg_health_name((enum tg_health)u->health) : NULL);
        if (step_done(db, st, "cannot store a run's uplink series", err, errlen))
            return -1;
    }
    st = db->st[ST_SERIES_FLOW];
    for (size_t i = 0; i < s->n_flow; i++) {
        const struct sim_series_flow *f = &s->flow[i];
        sqlite3_bind_int64(st, 1, run_id);
        sqlite3_bind_int64(st, 2, f->flow);
        bind_time(st, 3, f->t_us, MS);
        bind_real(st, 4, MBPS(f->goodput_bps));
        bind_real(st, 5, f->owd_us * MS);
        bind_real(st, 6, f->cwnd_bytes);
        if (isfinite(f->cwnd_bytes))
            bind_u64(st, 7, f->inflight_bytes);
        bind_u64(st, 8, f->retransmits);
        if (step_done(db, st, "cannot store a run's flow series", err, errlen))
            return -1;
    }
    st = db->st[ST_SERIES_TUN];
    for (size_t i = 0; i < s->n_tun; i++) {
        const struct sim_series_tunnel *t = &s->tun[i];
        sqlite3_bind_int64(st, 1, run_id);
        bind_time(st, 2, t->t_us, MS);
        bind_u64(st, 3, t->reorder_peak_pkts);
        bind_u64(st, 4, t->retransmitted);
        bind_u64(st, 5, t->nacks);
        bind_u64(st, 6, t->late_drops);
        if (step_done(db, st, "cannot store a run's tunnel series", err, errlen))
            return -1;
    }
    return 0;
}

static int insert_sweep(struct sim_db *db, int64_t run_id, const struct sim_db_run *run,
                        char *err, size_t errlen)
{
    sqlite3_stmt *st = db->st[ST_SWEEP];
    sqlite3_bind_int64(st, 1, run_id);
    bind_text(st, 2, run->sweep_key);
    bind_text(st, 3, run->sweep_value != NULL ? run->sweep_value : "");
    sqlite3_bind_int64(st, 4, run->sweep_position);
    return step_done(db, st, "cannot store a run's sweep value", err, errlen);
}

int sim_db_insert_run(struct sim_db *db, const struct sim_db_run *run,
                      const struct sim_run_result *res, char *err, size_t errlen)
{
    if (exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen))
        return -1;
    sqlite3_stmt *st = db->st[ST_RUN];
    sqlite3_bind_int64(st, 1, run->campaign_id);
    bind_text(st, 2, run->scenario);
    bind_text(st, 3, run->scenario_file);
    bind_key(st, 4, &run->key);
    bind_text(st, 9, sim_version);
    bind_real(st, 10, run->duration_s);
    bind_real(st, 11, run->wall_s);
    bind_u64(st, 12, res->sim_events);
    if (step_done(db, st, "cannot store a run", err, errlen))
        goto fail;
    if (sqlite3_changes(db->h) == 0) {
        rollback(db); /* stored meanwhile by another process */
        return 0;
    }
    int64_t id = sqlite3_last_insert_rowid(db->h);
    if (insert_metrics(db, id, res, err, errlen) || insert_children(db, id, res, err, errlen) ||
        (res->series != NULL && insert_series(db, id, res->series, err, errlen)) ||
        (run->sweep_key != NULL && insert_sweep(db, id, run, err, errlen)))
        goto fail;
    if (exec(db, "COMMIT", "cannot commit a run", err, errlen))
        goto fail;
    return 1;
fail:
    rollback(db);
    return -1;
}

/* ------------------------------------------------------------ live runs */

int sim_db_has_live(struct sim_db *db, const struct sim_db_run_key *k, bool *found, char *err,
                    size_t errlen)
{
    sqlite3_stmt *st = db->st[ST_HAS_LIVE];
    bind_key(st, 1, k);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return dberr(db, "cannot look up a live run", err, errlen);
    *found = rc == SQLITE_ROW;
    return 0;
}

int sim_db_insert_live(struct sim_db *db, const struct sim_db_live *l, bool replace, char *err,
                       size_t errlen)
{
    sqlite3_stmt *st = db->st[replace ? ST_LIVE_REPLACE : ST_LIVE];
    bind_key(st, 1, &l->key);
    bind_text(st, 6, l->scenario);
    bind_text(st, 7, l->scenario_file);
    bind_text(st, 8, sim_version);
    bind_real(st, 9, l->duration_s);
    bind_real(st, 10, l->goodput_mbps);
    bind_real(st, 11, l->owd_p50_ms);
    bind_real(st, 12, l->owd_p95_ms);
    bind_real(st, 13, l->owd_p99_ms);
    bind_real(st, 14, l->loss);
    bind_real(st, 15, l->session_up_ms);
    bind_text(st, 16, l->method);
    if (step_done(db, st, "cannot store a live run", err, errlen))
        return -1;
    return sqlite3_changes(db->h) > 0 ? 1 : 0;
}

/* ------------------------------------------------------------ merge */

/* The columns of main.`table` except those in `skip` (NULL-terminated), as
 * "a, b, c" with each name prefixed by `prefix`. Returns a malloc'd string,
 * or NULL (err). */
static char *column_list(struct sim_db *db, const char *table, const char *const *skip,
                         const char *prefix, char *err, size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, "SELECT name FROM pragma_table_info(?1, 'main') ORDER BY cid", -1,
                           &st, NULL) != SQLITE_OK) {
        dberr(db, "cannot read the schema", err, errlen);
        return NULL;
    }
    sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
    size_t cap = 1024, len = 0;
    char *out = malloc(cap);
    if (out == NULL)
        goto nomem;
    out[0] = '\0';
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        bool skipped = false;
        for (const char *const *s = skip; *s != NULL; s++)
            skipped |= strcmp(*s, name) == 0;
        if (skipped)
            continue;
        size_t need = strlen(prefix) + strlen(name) + 3;
        if (len + need >= cap) {
            char *bigger = realloc(out, cap * 2 + need);
            if (bigger == NULL)
                goto nomem;
            out = bigger;
            cap = cap * 2 + need;
        }
        len += (size_t)snprintf(out + len, cap - len, "%s%s%s", len ? ", " : "", prefix, name);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(out);
        dberr(db, "cannot read the schema", err, errlen);
        return NULL;
    }
    return out;
nomem:
    sqlite3_finalize(st);
    free(out);
    sim_errf(err, errlen, "%s: out of memory", db->path);
    return NULL;
}

static const char *const child_tables[] = {"metrics", "uplink_results", "flow_results",
                                           "event_counts"};
/* Added in version 3: merged from inputs of version 3 on, dumped always. */
static const char *const v3_tables[] = {"series_uplinks", "series_flows", "series_tunnel",
                                        "sweeps"};
#define N_V3 (sizeof v3_tables / sizeof v3_tables[0])

#define RUN_KEY_EQ(a, b)                                                                           \
    a ".scenario_hash = " b ".scenario_hash AND " a ".strategy = " b ".strategy AND " a            \
      ".aggregation = " b ".aggregation AND " a ".iteration = " b ".iteration AND " a ".seed = " b \
      ".seed"

/* Execute and free `sql`, a string from sqlite3_mprintf (NULL: out of memory). */
static int exec_owned(struct sim_db *db, char *sql, const char *what, char *err, size_t errlen)
{
    if (sql == NULL) {
        sim_errf(err, errlen, "%s: out of memory", db->path);
        return -1;
    }
    int rc = exec(db, sql, what, err, errlen);
    sqlite3_free(sql);
    return rc;
}

/* Copy `table`'s rows from src into main for the runs in temp.merge_map. */
static int merge_children(struct sim_db *out, const char *table, char *err, size_t errlen)
{
    static const char *const skip_child[] = {"run_id", NULL};
    char *cols = column_list(out, table, skip_child, "", err, errlen);
    char *src_cols = column_list(out, table, skip_child, "c.", err, errlen);
    int rc = -1;
    if (cols != NULL && src_cols != NULL)
        rc = exec_owned(out,
                        sqlite3_mprintf("INSERT INTO main.%s (run_id, %s) SELECT mm.dst_id, %s "
                                        "FROM src.%s c JOIN temp.merge_map mm ON mm.src_id = "
                                        "c.run_id",
                                        table, cols, src_cols, table),
                        "cannot merge a run's rows", err, errlen);
    free(cols);
    free(src_cols);
    return rc;
}

/* Inside the transaction: campaigns (shared by key), then runs not yet
 * present, then their rows through a map from input ids to new ids (every
 * new id is above the output's largest id before the insert). */
static int merge_rows(struct sim_db *out, int64_t in_version, struct sim_db_merge_stats *stats,
                      char *err, size_t errlen)
{
    static const char *const skip_campaign[] = {"id", NULL};
    static const char *const skip_cs[] = {"campaign_id", NULL};
    static const char *const skip_run[] = {"id", "campaign_id", NULL};
    int64_t n_runs, max_before;
    if (query_int(out, "SELECT count(*) FROM src.runs", &n_runs, "cannot read the input", err,
                  errlen) ||
        query_int(out, "SELECT coalesce(max(id), 0) FROM main.runs", &max_before,
                  "cannot read the output", err, errlen))
        return -1;

    char *cols = column_list(out, "campaigns", skip_campaign, "", err, errlen);
    if (cols == NULL)
        return -1;
    int rc = exec_owned(out,
                        sqlite3_mprintf("INSERT OR IGNORE INTO main.campaigns (%s) SELECT %s "
                                        "FROM src.campaigns ORDER BY id",
                                        cols, cols),
                        "cannot merge campaigns", err, errlen);
    free(cols);
    if (rc)
        return -1;

    cols = column_list(out, "campaign_scenarios", skip_cs, "", err, errlen);
    char *src_cols = column_list(out, "campaign_scenarios", skip_cs, "cs.", err, errlen);
    rc = -1;
    if (cols != NULL && src_cols != NULL)
        rc = exec_owned(out,
                        sqlite3_mprintf("INSERT OR IGNORE INTO main.campaign_scenarios "
                                        "(campaign_id, %s) SELECT mc.id, %s FROM "
                                        "src.campaign_scenarios cs JOIN src.campaigns sc ON "
                                        "sc.id = cs.campaign_id JOIN main.campaigns mc ON "
                                        "mc.key = sc.key",
                                        cols, src_cols),
                        "cannot merge campaigns", err, errlen);
    free(cols);
    free(src_cols);
    if (rc)
        return -1;

    cols = column_list(out, "runs", skip_run, "", err, errlen);
    src_cols = column_list(out, "runs", skip_run, "r.", err, errlen);
    rc = -1;
    if (cols != NULL && src_cols != NULL)
        rc = exec_owned(out,
                        sqlite3_mprintf("INSERT INTO main.runs (campaign_id, %s) SELECT mc.id, "
                                        "%s FROM src.runs r JOIN src.campaigns sc ON sc.id = "
                                        "r.campaign_id JOIN main.campaigns mc ON mc.key = "
                                        "sc.key WHERE NOT EXISTS (SELECT 1 FROM main.runs m "
                                        "WHERE " RUN_KEY_EQ("m", "r") ") ORDER BY r.id",
                                        cols, src_cols),
                        "cannot merge runs", err, errlen);
    free(cols);
    free(src_cols);
    if (rc)
        return -1;
    stats->runs = (uint64_t)n_runs;
    stats->added = (uint64_t)sqlite3_changes(out->h);

    if (exec_owned(out,
                   sqlite3_mprintf("CREATE TEMP TABLE IF NOT EXISTS merge_map (src_id INTEGER "
                                   "PRIMARY KEY, dst_id INTEGER NOT NULL); DELETE FROM "
                                   "temp.merge_map; INSERT INTO temp.merge_map SELECT r.id, m.id "
                                   "FROM src.runs r JOIN main.runs m ON " RUN_KEY_EQ(
                                       "m", "r") " WHERE m.id > %lld",
                                   (long long)max_before),
                   "cannot merge runs", err, errlen))
        return -1;
    for (size_t t = 0; t < sizeof child_tables / sizeof child_tables[0]; t++)
        if (merge_children(out, child_tables[t], err, errlen))
            return -1;
    for (size_t t = 0; in_version >= 3 && t < N_V3; t++)
        if (merge_children(out, v3_tables[t], err, errlen))
            return -1;
    if (in_version >= 4) { /* live runs: kept by key, as runs are */
        static const char *const skip_live[] = {"id", NULL};
        cols = column_list(out, "live_runs", skip_live, "", err, errlen);
        rc = cols == NULL ? -1
                          : exec_owned(out,
                                       sqlite3_mprintf("INSERT OR IGNORE INTO main.live_runs (%s) "
                                                       "SELECT %s FROM src.live_runs ORDER BY id",
                                                       cols, cols),
                                       "cannot merge live runs", err, errlen);
        free(cols);
        if (rc)
            return -1;
    }
    return exec(out, "DELETE FROM temp.merge_map", "cannot merge runs", err, errlen);
}

/* An input is data, not code. The tables the merge reads must be plain
 * tables: not views (which could compute forever), not virtual tables, with
 * no generated column (an expression evaluated on every read), and with
 * every column the output's table has; there must be no trigger. Its other
 * objects (its own views, indexes) are never read. Messages name the table
 * or column of this program's schema, never what the input's schema says. */
static int check_schema(struct sim_db *out, const char *in, int64_t in_version, char *err,
                        size_t errlen)
{
    static const char *const tables[] = {"campaigns",      "campaign_scenarios", "runs",
                                         "metrics",        "uplink_results",     "flow_results",
                                         "event_counts",   "series_uplinks",     "series_flows",
                                         "series_tunnel",  "sweeps",             "live_runs"};
    size_t n_tables = sizeof tables / sizeof tables[0] - (in_version >= 4 ? 0 : 1) -
                      (in_version >= 3 ? 0 : N_V3);
    int64_t n;
    /* sqlite3_errstr, not sqlite3_errmsg: a malformed schema's message quotes it */
#define SCHEMA_READ(sql)                                                                           \
    if (query_int(out, sql, &n, "", NULL, 0) != 0) {                                               \
        sim_errf(err, errlen, "%s: cannot read its schema (%s)", in,                               \
                 sqlite3_errstr(sqlite3_extended_errcode(out->h)));                                \
        return -1;                                                                                 \
    }
    SCHEMA_READ("SELECT count(*) FROM src.sqlite_master WHERE type = 'trigger'")
    if (n > 0) {
        sim_errf(err, errlen, "%s: has triggers; a results database has none", in);
        return -1;
    }
    for (size_t i = 0; i < n_tables; i++) {
        char *sql = sqlite3_mprintf("SELECT count(*) FROM src.sqlite_master WHERE type = 'table' "
                                    "AND name = %Q AND sql LIKE 'CREATE TABLE%%'", tables[i]);
        if (sql == NULL) {
            sim_errf(err, errlen, "%s: out of memory", in);
            return -1;
        }
        SCHEMA_READ(sql)
        sqlite3_free(sql);
        if (n != 1) {
            sim_errf(err, errlen,
                     "%s: expected a table %s (a plain table: not a view or a virtual table; "
                     "not a triglav-sim results database)",
                     in, tables[i]);
            return -1;
        }
        sql = sqlite3_mprintf("SELECT count(*) FROM pragma_table_xinfo(%Q, 'src') WHERE hidden "
                              "<> 0",
                              tables[i]);
        if (sql == NULL) {
            sim_errf(err, errlen, "%s: out of memory", in);
            return -1;
        }
        SCHEMA_READ(sql)
        sqlite3_free(sql);
        if (n != 0) {
            sim_errf(err, errlen,
                     "%s: expected plain columns in table %s, found a generated one (a results "
                     "database has none)",
                     in, tables[i]);
            return -1;
        }
        /* every column of the output's table, by name (the first missing one named) */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(out->h,
                               "SELECT m.name FROM pragma_table_info(?1, 'main') m WHERE NOT "
                               "EXISTS (SELECT 1 FROM pragma_table_info(?1, 'src') s WHERE "
                               "s.name = m.name) ORDER BY m.cid LIMIT 1",
                               -1, &st, NULL) != SQLITE_OK) {
            sim_errf(err, errlen, "%s: cannot read its schema (%s)", in,
                     sqlite3_errstr(sqlite3_extended_errcode(out->h)));
            return -1;
        }
        sqlite3_bind_text(st, 1, tables[i], -1, SQLITE_STATIC);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            sim_errf(err, errlen, "%s: expected a column %s in table %s (not a results database "
                     "of this schema)", in, (const char *)sqlite3_column_text(st, 0), tables[i]);
        else if (rc != SQLITE_DONE)
            sim_errf(err, errlen, "%s: cannot read its schema (%s)", in,
                     sqlite3_errstr(sqlite3_extended_errcode(out->h)));
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE)
            return -1;
    }
#undef SCHEMA_READ
    return 0;
}

/* The merge's work is bounded by the input's size: a crafted file (a query
 * that never ends, a plan that joins everything with everything) is
 * stopped, not waited for. */
static int budget_left(void *ctx)
{
    int64_t *left = ctx;
    return --*left < 0;
}

static int merge_one(struct sim_db *out, const char *in, struct sim_db_merge_stats *stats,
                     char *err, size_t errlen)
{
    struct stat sb;
    if (stat(in, &sb) != 0) {
        sim_errf(err, errlen, "%s: %s", in, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        sim_errf(err, errlen, "%s: not a regular file", in);
        return -1;
    }
    /* Everything from here to the detach, schema reading included, within
     * a budget: about 400 virtual-machine steps per input byte, and 10
     * million more (a real merge needs a small fraction of it). Functions
     * in the input's schema would not run either (trusted_schema off; the
     * checks below refuse every place they could sit). */
    int64_t left = (int64_t)sb.st_size / 1000 * 400 + 10000, trusted = 1;
    if (query_int(out, "PRAGMA trusted_schema", &trusted, "cannot read a setting", err, errlen) ||
        exec(out, "PRAGMA trusted_schema = OFF", "cannot change a setting", err, errlen))
        return -1;
    sqlite3_progress_handler(out->h, 1000, budget_left, &left);
    int ret = -1;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(out->h, "ATTACH DATABASE ?1 AS src", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, in, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_DONE) {
        sim_errf(err, errlen, "%s: cannot open (%s)", in,
                 sqlite3_errstr(sqlite3_extended_errcode(out->h)));
        goto out;
    }

    int64_t version = -1;
    rc = sqlite3_prepare_v2(out->h, "PRAGMA src.user_version", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            version = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    if (rc != SQLITE_ROW) {
        sim_errf(err, errlen, "%s: not a results database (%s)", in,
                 sqlite3_errstr(sqlite3_extended_errcode(out->h)));
    } else if (version < 1 || version > SIM_DB_SCHEMA_VERSION) { /* 1, 2: runs as in 3 */
        sim_errf(err, errlen, "%s: %s (schema version %" PRId64 "; this triglav-sim reads version %d)",
             in, version == 0 ? "not a triglav-sim results database" : "another schema version",
             version, SIM_DB_SCHEMA_VERSION);
    } else if (check_schema(out, in, version, err, errlen) == 0 &&
               exec(out, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen) == 0) {
        int mrc = merge_rows(out, version, stats, err, errlen);
        if (left < 0)
            sim_errf(err, errlen, "more work than an input of its size needs (stopped)");
        if (mrc == 0 && left >= 0 &&
            exec(out, "COMMIT", "cannot commit the merge", err, errlen) == 0) {
            ret = 0;
        } else {
            rollback(out);
            char why[512];
            snprintf(why, sizeof why, "%s", err != NULL ? err : "");
            sim_errf(err, errlen, "merging %s: %s", in, why);
        }
    }
    sqlite3_progress_handler(out->h, 0, NULL, NULL);
    sqlite3_exec(out->h, "DETACH DATABASE src", NULL, NULL, NULL);
out:
    sqlite3_progress_handler(out->h, 0, NULL, NULL);
    if (ret != 0 && left < 0 && (err == NULL || strstr(err, "(stopped)") == NULL))
        sim_errf(err, errlen, "%s: more work than an input of its size needs (stopped)", in);
    sqlite3_exec(out->h, trusted ? "PRAGMA trusted_schema = ON" : "PRAGMA trusted_schema = OFF",
                 NULL, NULL, NULL);
    return ret;
}

int sim_db_merge(struct sim_db *out, const char *const *ins, size_t n,
                 struct sim_db_merge_stats *stats, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        struct sim_db_merge_stats s = {0, 0};
        if (merge_one(out, ins[i], &s, err, errlen))
            return -1;
        if (stats != NULL)
            stats[i] = s;
    }
    return 0;
}

/* ------------------------------------------------------------ dump */

static void dump_value(FILE *f, sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        fputs("NULL", f);
        break;
    case SQLITE_INTEGER:
        fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i));
        break;
    case SQLITE_FLOAT:
        fprintf(f, "%.17g", sqlite3_column_double(st, i));
        break;
    default:
        fprintf(f, "'%s'", (const char *)sqlite3_column_text(st, i));
        break;
    }
}

static int dump_query(struct sim_db *db, FILE *f, const char *label, const char *sql, char *err,
                      size_t errlen)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db->h, sql, -1, &st, NULL) != SQLITE_OK)
        return dberr(db, "cannot read the results", err, errlen);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        fputs(label, f);
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            fprintf(f, " %s=", sqlite3_column_name(st, i));
            dump_value(f, st, i);
        }
        fputc('\n', f);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return dberr(db, "cannot read the results", err, errlen);
    return 0;
}

int sim_db_dump(struct sim_db *db, FILE *f, char *err, size_t errlen)
{
    static const char *const skip_campaign[] = {"id", "command", "created", NULL};
    static const char *const skip_cs[] = {"campaign_id", NULL};
    static const char *const skip_run[] = {"id", "campaign_id", "wall_s", "created", NULL};
    static const char *const skip_child[] = {"run_id", NULL};
    char *cols, *sql;
    int rc;

    if ((cols = column_list(db, "campaigns", skip_campaign, "", err, errlen)) == NULL)
        return -1;
    sql = sqlite3_mprintf("SELECT %s FROM campaigns ORDER BY key", cols);
    rc = sql ? dump_query(db, f, "campaigns", sql, err, errlen) : -1;
    sqlite3_free(sql);
    free(cols);
    if (rc)
        return -1;

    if ((cols = column_list(db, "campaign_scenarios", skip_cs, "cs.", err, errlen)) == NULL)
        return -1;
    sql = sqlite3_mprintf("SELECT c.key AS campaign, %s FROM campaign_scenarios cs JOIN "
                          "campaigns c ON c.id = cs.campaign_id ORDER BY c.key, cs.position",
                          cols);
    rc = sql ? dump_query(db, f, "campaign_scenarios", sql, err, errlen) : -1;
    sqlite3_free(sql);
    free(cols);
    if (rc)
        return -1;

    if ((cols = column_list(db, "runs", skip_run, "r.", err, errlen)) == NULL)
        return -1;
    sql = sqlite3_mprintf("SELECT c.key AS campaign, %s FROM runs r JOIN campaigns c ON c.id = "
                          "r.campaign_id ORDER BY r.scenario_hash, r.strategy, r.aggregation, "
                          "r.iteration, r.seed",
                          cols);
    rc = sql ? dump_query(db, f, "runs", sql, err, errlen) : -1;
    sqlite3_free(sql);
    free(cols);
    if (rc)
        return -1;

    for (size_t t = 0; t < sizeof child_tables / sizeof child_tables[0] + N_V3; t++) {
        size_t n_child = sizeof child_tables / sizeof child_tables[0];
        const char *table = t < n_child ? child_tables[t] : v3_tables[t - n_child];
        if ((cols = column_list(db, table, skip_child, "c.", err, errlen)) == NULL)
            return -1;
        /* every column after the key in the ORDER BY: child primary keys are among them */
        sql = sqlite3_mprintf("SELECT r.scenario_hash, r.strategy, r.aggregation, r.iteration, "
                              "r.seed, %s FROM %s c JOIN runs r ON r.id = c.run_id ORDER BY "
                              "r.scenario_hash, r.strategy, r.aggregation, r.iteration, r.seed, "
                              "%s",
                              cols, table, cols);
        rc = sql ? dump_query(db, f, table, sql, err, errlen) : -1;
        sqlite3_free(sql);
        free(cols);
        if (rc)
            return -1;
    }
    static const char *const skip_live[] = {"id", "created", NULL};
    if ((cols = column_list(db, "live_runs", skip_live, "", err, errlen)) == NULL)
        return -1;
    sql = sqlite3_mprintf("SELECT %s FROM live_runs ORDER BY scenario_hash, strategy, "
                          "aggregation, iteration, seed",
                          cols);
    rc = sql ? dump_query(db, f, "live_runs", sql, err, errlen) : -1;
    sqlite3_free(sql);
    free(cols);
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------ replays */

static const char replay_sql[] =
    "INSERT INTO replays (pcap, scenario, scenario_file, scenario_hash, strategy, aggregation, "
    "seed, direction, local_addr, uplinks, frames, skipped, injected, delivered, lost, "
    "reordered, owd_p50_ms, owd_p99_ms, session_up_ms, duration_s, version, command) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, "
    "?20, ?21, ?22)";
static const char replay_pkt_sql[] =
    "INSERT INTO replay_packets (replay_id, packet, frame, direction, size_bytes, capture_ms, "
    "sent_ms, delivered_ms, owd_ms, uplink, uplink_mask, reordered, lost, lost_reason) VALUES "
    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";

static int bind_replay(sqlite3_stmt *st, const struct sim_db_replay *r)
{
    char hash[17];
    hex64(hash, r->scenario_hash);
    int rc = bind_text(st, 1, r->pcap);
    rc |= bind_text(st, 2, r->scenario);
    rc |= bind_text(st, 3, r->scenario_file);
    rc |= bind_text(st, 4, hash);
    rc |= bind_text(st, 5, tg_strategy_name(r->strategy));
    rc |= bind_text(st, 6, tg_aggregation_name(r->aggregation));
    rc |= bind_seed(st, 7, r->seed);
    rc |= bind_text(st, 8, r->direction);
    rc |= bind_text(st, 9, r->local_addr != NULL && *r->local_addr ? r->local_addr : NULL);
    rc |= bind_text(st, 10, r->uplinks);
    rc |= bind_u64(st, 11, r->frames);
    rc |= bind_u64(st, 12, r->skipped);
    rc |= bind_u64(st, 13, r->injected);
    rc |= bind_u64(st, 14, r->delivered);
    rc |= bind_u64(st, 15, r->lost);
    rc |= bind_u64(st, 16, r->reordered);
    rc |= bind_real(st, 17, r->owd_p50_us * MS);
    rc |= bind_real(st, 18, r->owd_p99_us * MS);
    rc |= bind_time(st, 19, r->session_up_us, MS);
    rc |= bind_real(st, 20, r->duration_s);
    rc |= bind_text(st, 21, sim_version);
    rc |= bind_text(st, 22, r->command != NULL ? r->command : "");
    return rc;
}

static int bind_replay_packet(sqlite3_stmt *st, int64_t id, const struct sim_db_replay_packet *p)
{
    bool delivered = p->delivered_us != TG_TIME_NEVER && p->sent_us != TG_TIME_NEVER;
    int rc = sqlite3_bind_int64(st, 1, id);
    rc |= bind_u64(st, 2, p->packet);
    rc |= bind_u64(st, 3, p->frame);
    rc |= bind_text(st, 4, p->up ? "up" : "down");
    rc |= bind_u64(st, 5, p->size_bytes);
    rc |= bind_time(st, 6, p->capture_us, MS);
    rc |= bind_time(st, 7, p->sent_us, MS);
    rc |= bind_time(st, 8, delivered ? p->delivered_us : TG_TIME_NEVER, MS);
    rc |= bind_time(st, 9, delivered ? p->delivered_us - p->sent_us : TG_TIME_NEVER, MS);
    if (p->uplink_mask != 0)
        rc |= sqlite3_bind_int64(st, 10, __builtin_ctz(p->uplink_mask));
    else
        rc |= sqlite3_bind_null(st, 10);
    rc |= sqlite3_bind_int64(st, 11, p->uplink_mask);
    rc |= sqlite3_bind_int(st, 12, p->reordered);
    rc |= sqlite3_bind_int(st, 13, !delivered);
    rc |= bind_text(st, 14, delivered ? NULL : p->lost_reason);
    return rc;
}

int sim_db_insert_replay(struct sim_db *db, const struct sim_db_replay *r,
                         const struct sim_db_replay_packet *pkts, size_t n, int64_t *id,
                         char *err, size_t errlen)
{
    sqlite3_stmt *st = NULL, *pst = NULL;
    if (sqlite3_prepare_v2(db->h, replay_sql, -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db->h, replay_pkt_sql, -1, &pst, NULL) != SQLITE_OK) {
        dberr(db, "cannot prepare the replay statements (is the schema current?)", err, errlen);
        goto fail_st;
    }
    if (exec(db, "BEGIN IMMEDIATE", "cannot lock the database", err, errlen))
        goto fail_st;
    if (bind_replay(st, r) != SQLITE_OK) {
        dberr(db, "cannot bind the replay", err, errlen);
        goto fail;
    }
    if (step_done(db, st, "cannot store the replay", err, errlen))
        goto fail;
    *id = sqlite3_last_insert_rowid(db->h);
    for (size_t i = 0; i < n; i++) {
        if (bind_replay_packet(pst, *id, &pkts[i]) != SQLITE_OK) {
            dberr(db, "cannot bind a replay packet", err, errlen);
            goto fail;
        }
        if (step_done(db, pst, "cannot store a replay packet", err, errlen))
            goto fail;
    }
    if (exec(db, "COMMIT", "cannot commit the replay", err, errlen))
        goto fail;
    sqlite3_finalize(st);
    sqlite3_finalize(pst);
    return 0;
fail:
    rollback(db);
fail_st:
    sqlite3_finalize(st);
    sqlite3_finalize(pst);
    return -1;
}
