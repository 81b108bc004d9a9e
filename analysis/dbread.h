/*
 * dbread.h: opening results databases for reading (analysis/, DESIGN.md §1).
 * analysis/ reads databases with SQL, never through the simulator's code;
 * this is the one place that opens them, read-only, so a query or a report
 * cannot change the results it looks at.
 *
 * Errors: functions return -1 and write "PATH: what went wrong" into err
 * (errlen bytes, always terminated).
 */
#ifndef AN_DBREAD_H
#define AN_DBREAD_H

#include <sqlite3.h>
#include <stddef.h>

/* The oldest schema version (PRAGMA user_version) analysis/ reads. Later
 * versions only add tables and columns to what it reads, so they are
 * accepted; a column that went missing shows up as SQLite's "no such
 * column" message. */
#define AN_SCHEMA_VERSION 1

/* Open an existing SQLite database read-only. A missing file, a folder or
 * an unreadable file is an error ("PATH: No such file or directory"), never
 * a new empty database. Returns 0 with *out set, or -1 (err). */
int an_db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Is this a Triglav results database (campaigns, runs, metrics and
 * uplink_results tables, schema version AN_SCHEMA_VERSION or later)?
 * Returns 0, or -1 (err says what it is instead). */
int an_db_check_results(sqlite3 *db, const char *path, char *err, size_t errlen);

/* Saved queries may read the tables later schema versions added: on a
 * results database from before them (no `sweeps` or `live_runs` table),
 * create empty TEMP tables of that shape in this connection, so such a query
 * gives no rows instead of an error. The file is not changed. Never fails
 * (a table that cannot be made is left out). */
void an_db_compat_tables(sqlite3 *db);

/* Format a message into err[errlen] (nothing when err is NULL). */
void an_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
