/* query.c: see query.h. */
#define _XOPEN_SOURCE 700 /* strdup, in C11 mode */

#include "query.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "dbread.h"

#ifndef TG_QUERIES_DIR
#define TG_QUERIES_DIR "results/queries"
#endif

/* ------------------------------------------------------------ cells */

/* Growable list of strings, one per cell, row by row. */
struct cells {
    char **v;
    bool *right;   /* right-aligned (a number) */
    size_t n, cap;
};

static int cells_add(struct cells *c, char *s, bool right)
{
    if (s == NULL)
        return -1;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        char **v = realloc(c->v, cap * sizeof *v);
        if (v == NULL) {
            free(s);
            return -1;
        }
        c->v = v;
        bool *r = realloc(c->right, cap * sizeof *r);
        if (r == NULL) {
            free(s);
            return -1;
        }
        c->right = r;
        c->cap = cap;
    }
    c->v[c->n] = s;
    c->right[c->n++] = right;
    return 0;
}

static void cells_clear(struct cells *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->v[i]);
    free(c->v);
    free(c->right);
    *c = (struct cells){0};
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    char buf[64];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return strdup(buf);
}

/* A value as text. REAL values in a table get 6 significant digits (round()
 * in the SQL gives others); CSV keeps 15, as the sqlite3 shell does. */
static char *cell_text(sqlite3_stmt *st, int col, bool csv, bool *right)
{
    *right = false;
    switch (sqlite3_column_type(st, col)) {
    case SQLITE_NULL:
        return strdup(csv ? "" : "NULL");
    case SQLITE_INTEGER:
        *right = true;
        return fmt("%lld", (long long)sqlite3_column_int64(st, col));
    case SQLITE_FLOAT: {
        *right = true;
        double x = sqlite3_column_double(st, col);
        if (x == 0)
            x = 0; /* round(-0.0001, 2) is -0.0: show 0 */
        if (csv)
            return fmt("%.15g", x);
        if (fabs(x) >= 1e6 && fabs(x) < 1e15)
            return fmt("%.0f", x);
        return fmt("%.6g", x);
    }
    case SQLITE_BLOB:
        return fmt("<blob %d bytes>", sqlite3_column_bytes(st, col));
    default: {
        const unsigned char *t = sqlite3_column_text(st, col);
        char *s = strdup(t ? (const char *)t : "");
        if (s != NULL && !csv)
            for (char *p = s; *p; p++)
                if (*p == '\n' || *p == '\r' || *p == '\t')
                    *p = ' ';
        return s;
    }
    }
}

/* Display width of UTF-8 text: one column per code point. */
static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void print_padded(FILE *f, const char *s, size_t width, bool right)
{
    size_t w = text_width(s);
    if (right)
        for (; w < width; w++)
            fputc(' ', f);
    fputs(s, f);
    if (!right)
        for (; w < width; w++)
            fputc(' ', f);
}

static void print_table(FILE *f, const struct cells *c, size_t cols)
{
    size_t *w = calloc(cols, sizeof *w);
    if (w == NULL)
        return;
    for (size_t i = 0; i < c->n; i++) {
        size_t tw = text_width(c->v[i]);
        if (tw > w[i % cols])
            w[i % cols] = tw;
    }
    for (size_t i = 0; i < c->n; i++) {
        size_t col = i % cols;
        /* the header is aligned like its column's first value */
        bool right = i < cols ? (cols < c->n && c->right[i + cols]) : c->right[i];
        /* no trailing blanks after the last column */
        if (col + 1 == cols && !right)
            fputs(c->v[i], f);
        else
            print_padded(f, c->v[i], w[col], right);
        fputs(col + 1 == cols ? "\n" : "  ", f);
        if (i + 1 == cols) {
            for (size_t k = 0; k < cols; k++) {
                for (size_t d = 0; d < w[k]; d++)
                    fputc('-', f);
                fputs(k + 1 == cols ? "\n" : "  ", f);
            }
        }
    }
    free(w);
}

static void print_csv_cell(FILE *f, const char *s)
{
    size_t n = strlen(s);
    bool quote = strpbrk(s, ",\"\r\n") != NULL || (n > 0 && (s[0] == ' ' || s[n - 1] == ' '));
    if (!quote) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* ------------------------------------------------------------ running */

/* The statement's text for an error message: trimmed, on one line, cut. */
static void snippet(char *out, size_t cap, const char *sql, size_t len)
{
    while (len > 0 && (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r')) {
        sql++;
        len--;
    }
    size_t o = 0;
    for (size_t i = 0; i < len && o + 4 < cap; i++)
        out[o++] = (sql[i] == '\n' || sql[i] == '\t' || sql[i] == '\r') ? ' ' : sql[i];
    while (o > 0 && out[o - 1] == ' ')
        o--;
    if (o + 4 >= cap && len > o) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/* Say what SQLite said, and where: line and column in the whole SQL text
 * (a saved query's file), and the statement. */
static void sql_error(sqlite3 *db, const char *sql, const char *stmt, size_t len, char *err,
                      size_t errlen)
{
    char text[120];
    snippet(text, sizeof text, stmt, len);
    int off = -1;
#if SQLITE_VERSION_NUMBER >= 3038000
    off = sqlite3_error_offset(db);
#endif
    if (off >= 0 && (size_t)off <= len) {
        size_t at = (size_t)(stmt - sql) + (size_t)off, line = 1, col = 1;
        for (size_t i = 0; i < at; i++) {
            if (sql[i] == '\n') {
                line++;
                col = 1;
            } else if (((unsigned char)sql[i] & 0xc0) != 0x80) {
                col++;
            }
        }
        an_errf(err, errlen, "SQL error: %s (line %zu, column %zu, in: %s)", sqlite3_errmsg(db),
                line, col, text);
    } else {
        an_errf(err, errlen, "SQL error: %s (in: %s)", sqlite3_errmsg(db), text);
    }
}

/* Bind every named parameter of st from o (NULL when not given); mark the
 * ones used. */
static void bind_params(sqlite3_stmt *st, const struct an_query_opts *o, bool *used)
{
    int n = sqlite3_bind_parameter_count(st);
    for (int i = 1; i <= n; i++) {
        const char *name = sqlite3_bind_parameter_name(st, i);
        if (name == NULL)
            continue;
        for (size_t k = 0; k < o->n_params; k++) {
            if (strcmp(name + 1, o->params[k].name) == 0) {
                sqlite3_bind_text(st, i, o->params[k].value, -1, SQLITE_STATIC);
                used[k] = true;
            }
        }
    }
}

long an_query_run(sqlite3 *db, const char *sql, const struct an_query_opts *o, FILE *f,
                  char *err, size_t errlen)
{
    static const struct an_query_opts none = {0};
    if (o == NULL)
        o = &none;
    bool *used = calloc(o->n_params + 1, sizeof *used);
    if (used == NULL) {
        an_errf(err, errlen, "out of memory");
        return -1;
    }
    long rows = 0;
    int statements = 0;
    bool any = false;
    const char *p = sql;
    while (*p != '\0') {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        if (sqlite3_prepare_v2(db, p, -1, &st, &tail) != SQLITE_OK) {
            sql_error(db, sql, p, strlen(p), err, errlen);
            rows = -1;
            break;
        }
        size_t len = (size_t)(tail - p);
        if (st == NULL) { /* only blanks and comments left */
            p = tail;
            continue;
        }
        any = true;
        bind_params(st, o, used);
        int cols = sqlite3_column_count(st);
        struct cells c = {0};
        bool oom = false;
        for (int i = 0; i < cols && !oom; i++)
            oom = cells_add(&c, strdup(sqlite3_column_name(st, i)), false) != 0;
        int rc;
        long n = 0;
        while (!oom && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int i = 0; i < cols && !oom; i++) {
                bool right;
                char *s = cell_text(st, i, o->csv, &right);
                oom = cells_add(&c, s, right) != 0;
            }
            n++;
        }
        if (oom) {
            an_errf(err, errlen, "out of memory");
            rows = -1;
        } else if (rc != SQLITE_DONE) {
            sql_error(db, sql, p, len, err, errlen);
            rows = -1;
        } else if (cols > 0) {
            if (statements++ > 0)
                fputc('\n', f);
            if (o->csv) {
                for (size_t i = 0; i < c.n; i++) {
                    print_csv_cell(f, c.v[i]);
                    fputs((i + 1) % (size_t)cols == 0 ? "\r\n" : ",", f);
                }
            } else {
                print_table(f, &c, (size_t)cols);
                fprintf(f, "(%ld row%s)\n", n, n == 1 ? "" : "s");
            }
            rows += n;
        }
        cells_clear(&c);
        sqlite3_finalize(st);
        if (rows < 0)
            break;
        p = tail;
    }
    if (rows >= 0 && !any) {
        an_errf(err, errlen, "no SQL statement given (only blanks or comments)");
        rows = -1;
    }
    for (size_t k = 0; rows >= 0 && k < o->n_params; k++) {
        if (!used[k]) {
            an_errf(err, errlen, "--param %s: the query has no parameter :%s", o->params[k].name,
                    o->params[k].name);
            rows = -1;
        }
    }
    free(used);
    return rows;
}

/* ------------------------------------------------------------ saved */

const char *an_queries_dir(const char *dir, const char *fallback)
{
    if (dir != NULL)
        return dir;
    const char *env = getenv("TRIGLAV_QUERIES");
    if (env != NULL && *env != '\0')
        return env;
    struct stat sb;
    if (stat("results/queries", &sb) == 0 && S_ISDIR(sb.st_mode))
        return "results/queries";
    return fallback != NULL ? fallback : TG_QUERIES_DIR;
}

static bool plain_name(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-'))
            return false;
    return true;
}

int an_query_load(const char *dir, const char *name, char **sql, char *err, size_t errlen)
{
    *sql = NULL;
    if (!plain_name(name)) {
        an_errf(err, errlen,
                "--saved %s: a saved query's name is made of letters, digits, '_' and '-' "
                "(see --list)",
                name);
        return -1;
    }
    size_t n = strlen(dir) + strlen(name) + 6;
    char *path = malloc(n);
    if (path == NULL) {
        an_errf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(path, n, "%s/%s.sql", dir, name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            an_errf(err, errlen, "no saved query '%s' (%s not found); --list shows them", name,
                    path);
        else
            an_errf(err, errlen, "%s: %s", path, strerror(errno));
        free(path);
        return -1;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *b = realloc(buf, cap);
            if (b == NULL) {
                an_errf(err, errlen, "out of memory");
                free(buf);
                fclose(f);
                free(path);
                return -1;
            }
            buf = b;
        }
        size_t got = fread(buf + len, 1, 4096, f);
        len += got;
        if (got < 4096)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        an_errf(err, errlen, "%s: read error", path);
        free(buf);
        free(path);
        return -1;
    }
    free(path);
    buf[len] = '\0';
    *sql = buf;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The first line of path without its leading "-- ", into out. */
static void first_comment(const char *path, char *out, size_t cap)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return;
    char line[512];
    if (fgets(line, sizeof line, f) != NULL) {
        line[strcspn(line, "\r\n")] = '\0';
        const char *s = line;
        if (strncmp(s, "--", 2) == 0) {
            s += 2;
            while (*s == ' ')
                s++;
        }
        snprintf(out, cap, "%s", s);
    }
    fclose(f);
}

long an_query_list(const char *dir, FILE *f, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        an_errf(err, errlen, "%s: %s (saved queries; --queries DIR or TRIGLAV_QUERIES chooses "
                "the folder)",
                dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    long ret = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 4 || strcmp(de->d_name + len - 4, ".sql") != 0 || de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            char **v = realloc(names, cap * sizeof *v);
            if (v == NULL) {
                ret = -1;
                break;
            }
            names = v;
        }
        if ((names[n] = strndup(de->d_name, len - 4)) == NULL) {
            ret = -1;
            break;
        }
        n++;
    }
    closedir(d);
    if (ret < 0) {
        an_errf(err, errlen, "out of memory");
    } else if (n == 0) {
        an_errf(err, errlen, "%s: no saved queries (*.sql files)", dir);
        ret = -1;
    } else {
        qsort(names, n, sizeof *names, cmp_str);
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
            if (strlen(names[i]) > w)
                w = strlen(names[i]);
        for (size_t i = 0; i < n; i++) {
            char path[4096], what[512];
            snprintf(path, sizeof path, "%s/%s.sql", dir, names[i]);
            first_comment(path, what, sizeof what);
            fprintf(f, "%-*s  %s\n", (int)w, names[i], what);
        }
        ret = (long)n;
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ret;
}
