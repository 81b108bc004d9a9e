/* dbread.c: see dbread.h. */
#include "dbread.h"

#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void an_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int an_db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
    *out = NULL;
    struct stat sb;
    /* sqlite3_open would report "unable to open database file" at best */
    if (stat(path, &sb) != 0) {
        an_errf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        an_errf(err, errlen, "%s: not a regular file", path);
        return -1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    /* a campaign may be writing the database meanwhile (WAL mode) */
    sqlite3_busy_timeout(db, 60000);
    /* touch the file now, so "file is not a database" comes from the open */
    if (sqlite3_exec(db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        an_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        sqlite3_close(db);
        return -1;
    }
    *out = db;
    return 0;
}

static int one_int(sqlite3 *db, const char *sql, long long *v)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return -1;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW ? 0 : -1;
}

void an_db_compat_tables(sqlite3 *db)
{
    sqlite3_stmt *st;
    bool runs = false, sweeps = true;
    if (sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                           "AND name = 'runs'), (SELECT count(*) FROM sqlite_master WHERE "
                           "name = 'sweeps')", -1, &st, NULL) != SQLITE_OK)
        return;
    if (sqlite3_step(st) == SQLITE_ROW) {
        runs = sqlite3_column_int(st, 0) > 0;
        sweeps = sqlite3_column_int(st, 1) > 0;
    }
    sqlite3_finalize(st);
    if (runs && !sweeps) /* schema version 3 (results/schema.sql) */
        sqlite3_exec(db,
                     "CREATE TEMP TABLE sweeps (run_id INTEGER PRIMARY KEY, key TEXT NOT NULL, "
                     "value TEXT NOT NULL, position INTEGER NOT NULL); "
                     "CREATE TEMP TABLE series_uplinks (run_id INTEGER, uplink INTEGER, t_ms REAL, "
                     "up_mbps REAL, down_mbps REAL, share_up REAL, share_down REAL, "
                     "queue_up_bytes INTEGER, queue_down_bytes INTEGER, owd_up_ms REAL, "
                     "owd_down_ms REAL, srtt_ms REAL, rate_est_up_mbps REAL, "
                     "rate_est_down_mbps REAL, drops_pkts INTEGER, health TEXT); "
                     "CREATE TEMP TABLE series_flows (run_id INTEGER, flow INTEGER, t_ms REAL, "
                     "goodput_mbps REAL, owd_ms REAL, cwnd_bytes REAL, inflight_bytes INTEGER, "
                     "retransmits INTEGER); "
                     "CREATE TEMP TABLE series_tunnel (run_id INTEGER, t_ms REAL, "
                     "reorder_peak_pkts INTEGER, retransmitted_pkts INTEGER, nacks INTEGER, "
                     "late_drops_pkts INTEGER)",
                     NULL, NULL, NULL);
    bool live = true;
    if (runs &&
        sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_master WHERE name = 'live_runs'", -1,
                           &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            live = sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
    }
    if (runs && !live) /* schema version 4 (results/schema.sql) */
        sqlite3_exec(db,
                     "CREATE TEMP TABLE live_runs (id INTEGER PRIMARY KEY, scenario TEXT, "
                     "scenario_file TEXT, scenario_hash TEXT, strategy TEXT, aggregation TEXT, "
                     "iteration INTEGER, seed INTEGER, version TEXT, duration_s REAL, "
                     "goodput_mbps REAL, owd_p50_ms REAL, owd_p95_ms REAL, owd_p99_ms REAL, "
                     "loss REAL, session_up_ms REAL, method TEXT, created TEXT)",
                     NULL, NULL, NULL);
}

int an_db_check_results(sqlite3 *db, const char *path, char *err, size_t errlen)
{
    long long tables = 0, version = 0;
    if (one_int(db,
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN "
                "('campaigns', 'runs', 'metrics', 'uplink_results')",
                &tables) != 0 ||
        one_int(db, "PRAGMA user_version", &version) != 0) {
        an_errf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
        return -1;
    }
    if (tables != 4) {
        an_errf(err, errlen,
                "%s: not a Triglav results database (no runs/metrics tables; "
                "`triglav-sim run` writes them)",
                path);
        return -1;
    }
    if (version < AN_SCHEMA_VERSION) {
        an_errf(err, errlen,
                "%s: results database of schema version %lld; this program reads version %d "
                "and later",
                path, version, AN_SCHEMA_VERSION);
        return -1;
    }
    return 0;
}
