/*
 * conf.h: the text parser shared by scenario files (.scn) and the live
 * program's config files (TOML). Text in memory in, typed values out, or an
 * error with line, column and what was expected. No files, no clock; memory
 * comes from the caller's allocator, in one arena per document.
 *
 * The language is the part of TOML these files need, plus two extensions
 * that scenario files use and TOML files simply do not contain:
 *
 *   # comment                      comments run to the end of the line
 *   key = "string"                 basic strings with \" \\ \b \f \n \r \t \uXXXX
 *                                  \UXXXXXXXX escapes (valid UTF-8, no NUL);
 *   key = 'literal'                literal strings (no escapes); both on one line
 *   key = 42 | -7 | 0x1f | 1_000   integers (64-bit; 0x 0o 0b take no sign; '_'
 *                                  only between digits; no leading zeros)
 *   key = 3.5 | 1e-3 | -0.25       floats
 *   key = true | false             booleans
 *   key = [1, 2, [3, 4], "x"]      arrays, may span lines, trailing comma ok
 *   [table]  [a.b]                 a table; its keys follow until the next header
 *   [[array]]                      a new element of an array of tables
 *   key = 30ms | 50Mbit | 1.5MB    extension: a quantity (a number directly
 *         | 0.5% | 2m | -5ms       followed by a unit word or %)
 *   key = uniform(5s, 30s)         extension: a call, a name with arguments
 *   key = ge(p=1%, r=30%)          that may be named; used for distributions
 *
 * Keys are bare (A-Za-z0-9_-) or quoted. Dotted keys (a.b = 1) and inline
 * tables are not supported: they are refused with an error that says so.
 * A key repeated within one table, a [table] header repeated, [t] and [[t]]
 * for the same t, and an argument name repeated within one call are errors.
 *
 * Details the grammar above leaves open:
 * - Quantity: a decimal integer or float (exponent included: 1e3kbit is 1000
 *   kbit) immediately followed by letters [A-Za-z]+ or one '%'. An 'e' or 'E'
 *   is an exponent only when a digit (or a sign and a digit) follows, so 2em
 *   is 2 with unit "em". The parser does not check unit words or signs; the
 *   converters do. Hex, octal and binary integers take no unit, and "0bit" or
 *   "0B" are zero with a unit, not binary numbers. "30 ms" is an error.
 * - Call: a name [A-Za-z_][A-Za-z0-9_]* with '(' right after it; arguments
 *   are values or name=value, may span lines, trailing comma ok. Any other
 *   bare word where a value belongs (fast, inf, nan) is an error.
 * - Table names are bare parts joined by '.', blanks around them dropped.
 * - Arrays and calls nest at most 32 deep. Line ends are \n or \r\n; a UTF-8
 *   byte order mark at the very start is skipped. Columns count bytes.
 * - Floats go through strtod(); a host that changes LC_NUMERIC still parses
 *   '.' (the parser retries with the locale's decimal point).
 *
 * Returns of every function: TG_OK, or TG_ERR_PARSE with `err` filled,
 * TG_ERR_NOMEM, TG_ERR_INVAL (bad arguments: a NULL value or output pointer,
 * NULL text with len > 0). `err` may be NULL when the caller does not want
 * the message. Parsing stops at the first error.
 */
#ifndef TG_CONF_H
#define TG_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "time.h"

enum tg_conf_type {
    TG_CONF_STRING = 1,
    TG_CONF_INT,
    TG_CONF_FLOAT,
    TG_CONF_BOOL,
    TG_CONF_QUANTITY, /* number + unit: 30ms, 50Mbit, 0.5% */
    TG_CONF_ARRAY,
    TG_CONF_CALL,     /* name(arg, name=arg, ...) */
};

struct tg_conf_value {
    enum tg_conf_type type;
    uint32_t line, col;      /* where the value starts (1-based; for name=value, the value) */
    const char *name;        /* call arguments given as name=value: the name; else NULL */
    union {
        struct { const char *s; size_t len; } str;          /* decoded, NUL-terminated, no NUL inside */
        int64_t i;
        double f;
        bool b;
        struct { double num; const char *unit; } q;          /* unit NUL-terminated: "ms", "%" */
        struct { const struct tg_conf_value *v; size_t n; } arr;
        struct { const char *fn; const struct tg_conf_value *args; size_t n; } call;
    } u;
};

struct tg_conf_entry {
    const char *key;         /* NUL-terminated */
    struct tg_conf_value value;
    uint32_t line, col;      /* where the key is */
};

/* A table: the top level (name "", index 0), a [table] or one [[element]]. */
struct tg_conf_section {
    const char *name;        /* "" for the top level; "a.b" as written */
    bool is_array_element;   /* opened with [[name]] */
    uint32_t line;           /* line of its header (0 for the top level) */
    const struct tg_conf_entry *entries;
    size_t n_entries;
};

struct tg_conf_doc {
    const struct tg_conf_section *sections; /* in file order; [0] is the top level */
    size_t n_sections;
};

struct tg_conf_error {
    uint32_t line, col;      /* 1-based; 0 when not about a place in the text */
    char msg[160];           /* what was found and what was expected */
};

/* Parse `len` bytes of `text` (need not be NUL-terminated; NULL with len 0 is
 * an empty document). On success *out holds the document, to be released with
 * tg_conf_free(); on failure *out is NULL and nothing stays allocated. All of
 * the document's memory comes from `a` (NULL: malloc), which need not outlive
 * this call (it is copied). */
int tg_conf_parse(const char *text, size_t len, const struct tg_allocator *a,
                  struct tg_conf_doc **out, struct tg_conf_error *err) TG_MUST_CHECK;
void tg_conf_free(struct tg_conf_doc *doc); /* NULL is fine */

/* ------------------------------------------------------------ typed values
 * Each converter accepts the forms listed and otherwise fails with
 * TG_ERR_PARSE and err->msg saying what was expected; err->line/col are the
 * value's. */

/* Durations: quantity with us, ms, s, m (minutes), h; the integer 0. Rounded
 * to the nearest microsecond; from 0 to 10^12 s, else an error. */
int tg_conf_duration(const struct tg_conf_value *v, tg_time *us, struct tg_conf_error *err);
/* Rates in bit/s: quantity with bit, kbit, Mbit, Gbit (also bps, kbps, Mbps,
 * Gbps; decimal multiples); the integer 0. Negative rates are errors. */
int tg_conf_rate(const struct tg_conf_value *v, double *bps, struct tg_conf_error *err);
/* Sizes in bytes: quantity with B, KB, MB, GB (10^3...), KiB, MiB, GiB (2^10...);
 * a non-negative integer (bytes). Quantities are rounded to the nearest byte;
 * from 0 to 2^64-1, else an error. */
int tg_conf_bytes(const struct tg_conf_value *v, uint64_t *bytes, struct tg_conf_error *err);
/* Probabilities/fractions in [0,1]: a float or integer in [0,1], or a
 * quantity with % in [0,100]. */
int tg_conf_fraction(const struct tg_conf_value *v, double *p, struct tg_conf_error *err);
/* A plain number: integer or float. */
int tg_conf_number(const struct tg_conf_value *v, double *x, struct tg_conf_error *err);
/* A string (returns a pointer into the document). */
int tg_conf_string(const struct tg_conf_value *v, const char **s, struct tg_conf_error *err);
/* A boolean. */
int tg_conf_bool(const struct tg_conf_value *v, bool *b, struct tg_conf_error *err);

/* Fill err with `line`/`col` of v and a message "expected <what>, found <v's
 * type>"; returns TG_ERR_PARSE. For loaders that check things the converters
 * cannot (an unknown strategy name, a value out of range). */
int tg_conf_fail(const struct tg_conf_value *v, struct tg_conf_error *err, const char *expected);

/* Human name of a value type ("string", "integer", "float", "boolean",
 * "quantity", "array", "call"); never NULL. */
const char *tg_conf_type_name(enum tg_conf_type t);

#endif
