/*
 * query.h: `triglav-sim query`: SQL over a results database, printed for
 * people (an aligned table) or programs (CSV), and the saved queries of
 * results/queries/ (analysis/, DESIGN.md §1).
 *
 * A saved query is a file NAME.sql whose first line is a `-- ` comment
 * saying what it answers. It may use named parameters (:scenario, :run, ...)
 * bound with --param NAME=VALUE; a parameter not given is NULL, so a query
 * written as `(:scenario IS NULL OR scenario = :scenario)` works with and
 * without it.
 *
 * Databases are opened read-only (dbread.h): a query cannot change results.
 *
 * Errors: functions return -1 and write the reason into err (errlen bytes,
 * always terminated); for SQL, SQLite's own message and where it points.
 */
#ifndef AN_QUERY_H
#define AN_QUERY_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct an_param {
    const char *name;   /* without the colon */
    const char *value;  /* bound as text; SQLite converts it where compared with numbers */
};

struct an_query_opts {
    bool csv;                    /* CSV (RFC 4180, header row) instead of a table */
    const struct an_param *params;
    size_t n_params;
};

/* Run every statement of `sql` on db and print each one's rows to f. A
 * statement that returns no columns prints nothing. Returns the number of
 * rows printed, or -1 (err: SQLite's message, with the statement's text
 * near the error). */
long an_query_run(sqlite3 *db, const char *sql, const struct an_query_opts *o, FILE *f,
                  char *err, size_t errlen);

/* The folder of saved queries: `dir` when not NULL, else $TRIGLAV_QUERIES,
 * else results/queries/ of the current folder when it exists, else
 * `fallback` (the program's installed queries), else the source tree's
 * (compiled in) when fallback is NULL. */
const char *an_queries_dir(const char *dir, const char *fallback);

/* Read dir/NAME.sql into a new string (free() it). NAME is a plain file
 * name: letters, digits, '_' and '-'. Returns 0, or -1 (err; a missing
 * query names the folder and how to list the others). */
int an_query_load(const char *dir, const char *name, char **sql, char *err, size_t errlen);

/* Print "NAME  first comment line" for each .sql file in dir, sorted by name.
 * Returns the count, or -1 (err). */
long an_query_list(const char *dir, FILE *f, char *err, size_t errlen);

#endif
