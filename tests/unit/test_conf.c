/*
 * The config/scenario text parser: a table of valid documents against a
 * naive rendering of what was parsed, a table of broken inputs with the
 * place and message of their error, tables for the converters, a realistic
 * scenario and config, allocator failures, and random bytes and mutations
 * that must parse or fail cleanly.
 */
#include "check.h"
#include "testrng.h"
#include "core/conf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- rendering */

struct out {
    char buf[4096];
    size_t n;
};

static void put(struct out *o, const char *s)
{
    size_t k = strlen(s);
    if (o->n >= sizeof o->buf - 1)
        return; /* full */
    if (k > sizeof o->buf - 1 - o->n)
        k = sizeof o->buf - 1 - o->n;
    memcpy(o->buf + o->n, s, k);
    o->n += k;
    o->buf[o->n] = '\0';
}

/* Values as TOML-ish text: 42, 3.5 (floats always show '.' or 'e'),
 * "str", true, 30ms, [1, 2], fn(a, name=b). */
static void render_value(struct out *o, const struct tg_conf_value *v)
{
    char t[64];
    if (v->name != NULL) {
        put(o, v->name);
        put(o, "=");
    }
    switch (v->type) {
    case TG_CONF_STRING:
        put(o, "\"");
        put(o, v->u.str.s);
        put(o, "\"");
        break;
    case TG_CONF_INT:
        snprintf(t, sizeof t, "%lld", (long long)v->u.i);
        put(o, t);
        break;
    case TG_CONF_FLOAT:
        snprintf(t, sizeof t, "%g", v->u.f);
        put(o, t);
        if (strpbrk(t, ".e") == NULL)
            put(o, ".0");
        break;
    case TG_CONF_BOOL:
        put(o, v->u.b ? "true" : "false");
        break;
    case TG_CONF_QUANTITY:
        snprintf(t, sizeof t, "%g", v->u.q.num);
        put(o, t);
        put(o, v->u.q.unit);
        break;
    case TG_CONF_ARRAY:
        put(o, "[");
        for (size_t i = 0; i < v->u.arr.n; i++) {
            if (i)
                put(o, ", ");
            render_value(o, &v->u.arr.v[i]);
        }
        put(o, "]");
        break;
    case TG_CONF_CALL:
        put(o, v->u.call.fn);
        put(o, "(");
        for (size_t i = 0; i < v->u.call.n; i++) {
            if (i)
                put(o, ", ");
            render_value(o, &v->u.call.args[i]);
        }
        put(o, ")");
        break;
    }
}

/* The document: top-level entries "k=v k=v", then one "\n[name] k=v" (or
 * "[[name]]") line per section. */
static const char *render(const struct tg_conf_doc *d, struct out *o)
{
    o->n = 0;
    o->buf[0] = '\0';
    for (size_t s = 0; s < d->n_sections; s++) {
        const struct tg_conf_section *sec = &d->sections[s];
        if (s > 0) {
            put(o, sec->is_array_element ? "\n[[" : "\n[");
            put(o, sec->name);
            put(o, sec->is_array_element ? "]]" : "]");
        }
        for (size_t i = 0; i < sec->n_entries; i++) {
            if (s > 0 || i > 0)
                put(o, " ");
            put(o, sec->entries[i].key);
            put(o, "=");
            render_value(o, &sec->entries[i].value);
        }
    }
    return o->buf;
}

static int parse(const char *text, struct tg_conf_doc **doc, struct tg_conf_error *err)
{
    return tg_conf_parse(text, strlen(text), NULL, doc, err);
}

/* -------------------------------------------------------- valid documents */

static void test_valid(void)
{
    static const struct {
        const char *text, *want;
    } rows[] = {
        {"", ""},
        {"\n\n  \t\n# only a comment\n", ""},
        {"a = 1", "a=1"},
        {"a=1\nb = -7\nc = +3", "a=1 b=-7 c=3"},
        {"n = 0x1f\no = 0o17\nb = 0b101\nu = 1_000_000", "n=31 o=15 b=5 u=1000000"},
        {"max = 9223372036854775807\nmin = -9223372036854775808",
         "max=9223372036854775807 min=-9223372036854775808"},
        {"f = 3.5\ng = 1e-3\nh = -0.25\ni = 1E3\nj = 2.5e+2\nk = 1_0.5",
         "f=3.5 g=0.001 h=-0.25 i=1000.0 j=250.0 k=10.5"},
        {"t = true\nf = false", "t=true f=false"},
        {"s = \"hello world\"", "s=\"hello world\""},
        {"s = 'C:\\path\\no escapes'", "s=\"C:\\path\\no escapes\""},
        {"s = \"a\\tb\\\\c\\\"d\\u00e9\\U0001F600\"", "s=\"a\tb\\c\"d\xc3\xa9\xf0\x9f\x98\x80\""},
        {"s = \"\"\nt = ''", "s=\"\" t=\"\""},
        {"s = \"caf\xc3\xa9 # not a comment\" # a comment", "s=\"caf\xc3\xa9 # not a comment\""},
        {"d = 30ms\nr = 50Mbit\nb = 1.5MB\np = 0.5%\nm = 2m",
         "d=30ms r=50Mbit b=1.5MB p=0.5% m=2m"},
        {"x = -5ms\ny = 1e3kbit\nz = 1_000us", "x=-5ms y=1000kbit z=1000us"},
        {"z = 0bit\ny = 0B", "z=0bit y=0B"}, /* not binary numbers */
        {"a = [1, 2, [3, 4], \"x\"]", "a=[1, 2, [3, 4], \"x\"]"},
        {"a = []\nb = [ ]\nc = [1,]", "a=[] b=[] c=[1]"},
        {"a = [\n  1, # one\n  2,\n\n  # between\n  3,\n]", "a=[1, 2, 3]"},
        {"s = [[0s, 30Mbit], [60s, 5Mbit]]", "s=[[0s, 30Mbit], [60s, 5Mbit]]"},
        {"d = uniform(5s, 30s)", "d=uniform(5s, 30s)"},
        {"l = ge(p=1%, r = 30%)", "l=ge(p=1%, r=30%)"},
        {"d = normal(mean=normal(30ms, 5ms), 2)", "d=normal(mean=normal(30ms, 5ms), 2)"},
        {"c = choice(\n  \"a\",  # first\n  \"b\",\n)", "c=choice(\"a\", \"b\")"},
        {"f = f()\ng = g_2(x_1=[1], _y=true)", "f=f() g=g_2(x_1=[1], _y=true)"},
        {"[server]\nport = 7443", "\n[server] port=7443"},
        {"top = 1\n[a]\nx = 1\n[b]\nx = 2", "top=1\n[a] x=1\n[b] x=2"},
        {"[ a . b ]\nk = 1\n[a]\nk = 2", "\n[a.b] k=1\n[a] k=2"},
        {"[[u]]\nn = 1\n[[u]]\nn = 2\n[x]\n[[u]]", "\n[[u]] n=1\n[[u]] n=2\n[x]\n[[u]]"},
        {"  indented = 1\n\tkey-with_dash-3 = 2\n42 = 3", "indented=1 key-with_dash-3=2 42=3"},
        {"\"quoted key\" = 1\n'lit' = 2\n\"\" = 3", "quoted key=1 lit=2 =3"},
        {"a = 1\r\nb = [1,\r\n 2]\r\n[t]\r\n# c\r\n", "a=1 b=[1, 2]\n[t]"},
        {"\357\273\277a = 1", "a=1"}, /* a byte order mark */
        {"a = 1 # trailing\n[t] # header comment\nb = 2#tight", "a=1\n[t] b=2"},
        {"k = 1\n[t]\nk = 2", "k=1\n[t] k=2"}, /* same key, other table */
        {"a = 5 \t", "a=5"},
        {"t = true\nx = truex(1)", "t=true x=truex(1)"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tg_conf_doc *doc;
        struct tg_conf_error err;
        struct out o;
        int rc = parse(rows[i].text, &doc, &err);
        if (rc != TG_OK) {
            fprintf(stderr, "valid row %zu: %u:%u: %s\n", i, err.line, err.col, err.msg);
            CHECK_EQ(rc, TG_OK);
            continue;
        }
        render(doc, &o);
        if (strcmp(o.buf, rows[i].want) != 0)
            fprintf(stderr, "valid row %zu:\n got: %s\nwant: %s\n", i, o.buf, rows[i].want);
        CHECK(strcmp(o.buf, rows[i].want) == 0);
        CHECK_EQ(err.line, 0);
        CHECK(doc->n_sections >= 1 && doc->sections[0].name[0] == '\0');
        tg_conf_free(doc);
    }
}

/* Positions of keys, values and headers; not NUL-terminated input. */
static void test_positions(void)
{
    static const char text[] = "# c\n[t]\n  key = [1,\n    two(x=3)]\n[[arr]]\r\nz = 'q' XXXX";
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    CHECK_EQ(tg_conf_parse(text, sizeof text - 1 - 5, NULL, &doc, &err), TG_OK);
    CHECK_EQ(doc->n_sections, 3);
    const struct tg_conf_section *t = &doc->sections[1];
    CHECK(strcmp(t->name, "t") == 0);
    CHECK_EQ(t->line, 2);
    CHECK_EQ(t->n_entries, 1);
    const struct tg_conf_entry *e = &t->entries[0];
    CHECK_EQ(e->line, 3);
    CHECK_EQ(e->col, 3);
    CHECK_EQ(e->value.line, 3);
    CHECK_EQ(e->value.col, 9);
    CHECK_EQ(e->value.type, TG_CONF_ARRAY);
    CHECK_EQ(e->value.u.arr.n, 2);
    const struct tg_conf_value *call = &e->value.u.arr.v[1];
    CHECK_EQ(call->type, TG_CONF_CALL);
    CHECK_EQ(call->line, 4);
    CHECK_EQ(call->col, 5);
    CHECK_EQ(call->u.call.args[0].line, 4);
    CHECK_EQ(call->u.call.args[0].col, 11); /* the value, not its name */
    CHECK(strcmp(call->u.call.args[0].name, "x") == 0);
    CHECK(e->value.u.arr.v[0].name == NULL);
    CHECK(doc->sections[2].is_array_element);
    CHECK_EQ(doc->sections[2].line, 5);
    CHECK_EQ(doc->sections[2].entries[0].line, 6);
    CHECK_EQ(doc->sections[2].entries[0].value.u.str.len, 1);
    tg_conf_free(doc);

    /* strings keep their length and a NUL */
    CHECK_EQ(parse("s = \"a\\u00e9\"", &doc, &err), TG_OK);
    CHECK_EQ(doc->sections[0].entries[0].value.u.str.len, 3);
    CHECK_EQ(doc->sections[0].entries[0].value.u.str.s[3], '\0');
    tg_conf_free(doc);

    CHECK_EQ(tg_conf_parse(NULL, 0, NULL, &doc, &err), TG_OK);
    CHECK_EQ(doc->n_sections, 1);
    tg_conf_free(doc);
    tg_conf_free(NULL);
    CHECK_EQ(tg_conf_parse(NULL, 3, NULL, &doc, &err), TG_ERR_INVAL);
    CHECK_EQ(tg_conf_parse("a=1", 3, NULL, NULL, &err), TG_ERR_INVAL);
    CHECK_EQ(tg_conf_parse("a=1", 3, NULL, &doc, NULL), TG_OK); /* err is optional */
    tg_conf_free(doc);
}

/* ---------------------------------------------------------------- broken */

static void test_broken(void)
{
    static const struct {
        const char *text;
        uint32_t line, col;
        const char *msg;
    } rows[] = {
        {"rate -5", 1, 6, "expected '=' after key \"rate\", found '-'"},
        {"rate", 1, 5, "expected '=' after key \"rate\", found end of input"},
        {"a = \"x\\qy\"", 1, 7, "unknown escape \\q in string"},
        {"a = \"abc\nb = 1", 1, 5, "unterminated string"},
        {"a = 'abc", 1, 5, "unterminated string"},
        {"a = 1\n\n\nb = 1\ndelay = 1\nx = 2\ndelay = 3", 7, 1,
         "duplicate key \"delay\" (first at line 5)"},
        {"[server]\na = 1\n[server]", 3, 1, "table [server] defined twice (first at line 1)"},
        {"a.b = 1", 1, 2, "dotted keys are not supported"},
        {"a = { b = 1 }", 1, 5, "inline tables are not supported"},
        {"s = fast", 1, 5,
         "expected a value (string in quotes, number, quantity like 30ms, "
         "true/false, [array] or name(args)), found fast"},
        {"s = lowest-latency", 1, 5, "found lowest-latency"},
        {"a =", 1, 4, "expected a value, found end of input"},
        {"a = # c", 1, 5, "expected a value, found a comment"},
        {"a = 1 2", 1, 7, "expected end of line after a value, found '2'"},
        {"a = 30 ms", 1, 8, "expected end of line after a value, found 'm'"},
        {"a = [1, 2", 1, 10,
         "expected ',' or ']' after an array element, found end of input "
         "(opened at line 1)"},
        {"a = [1 2]", 1, 8, "expected ',' or ']' after an array element, found '2'"},
        {"a = [,]", 1, 6, "expected a value"},
        {"a = f(1; 2)", 1, 8, "expected ',' or ')' after a call argument, found ';'"},
        {"a = f(x=1, x=2)", 1, 12, "duplicate argument x in f()"},
        {"a = \"\"\"x\"\"\"", 1, 5, "multi-line strings"},
        {"a = 007", 1, 5, "leading zeros are not allowed"},
        {"a = 1__0", 1, 6, "'_' in a number must sit between two digits"},
        {"a = 1_", 1, 6, "'_' in a number must sit between two digits"},
        {"a = 5.", 1, 7, "expected a digit after '.' in a number, found end of input"},
        {"a = -x", 1, 6, "expected a digit after '-', found 'x'"},
        {"a = 9223372036854775808", 1, 5, "out of the 64-bit range"},
        {"a = -9223372036854775809", 1, 5, "out of the 64-bit range"},
        {"a = 1e400", 1, 5, "out of range"},
        {"a = -0x10", 1, 5, "a sign is not allowed before a 0x number"},
        {"a = 0x1fMB", 1, 9, "a unit can only follow a decimal number"},
        {"a = \"\\u12\"", 1, 10, "expected 4 hex digits after \\u in string, found end of string"},
        {"a = \"\\uD800\"", 1, 6, "not a Unicode scalar value"},
        {"a = \"\\u0000\"", 1, 6, "NUL is not allowed"},
        {"a = \"x\x01y\"", 1, 7, "control character 0x01 in string"},
        {"a = \"\xc3\x28\"", 1, 6, "invalid UTF-8 in string"},
        {"a = '\xed\xa0\x80'", 1, 6, "invalid UTF-8 in string"}, /* a surrogate */
        {"[a", 1, 3, "expected ']' to close [a, found end of input"},
        {"[[a]\n", 1, 4, "expected ']]' to close [[a, found ']'"},
        {"[a]]", 1, 4, "expected end of line after a table header, found ']'"},
        {"[]", 1, 2, "expected a table name after '[', found ']'"},
        {"[a.]", 1, 4, "expected a table name after '.', found ']'"},
        {"[\"a\"]", 1, 2, "quoted table names are not supported"},
        {"[a]\n[[a]]", 2, 1, "[[a]] conflicts with table [a] (line 1)"},
        {"[[a]]\n[a]", 2, 1, "table [a] already defined as an array of tables"},
        {"= 1", 1, 1, "expected a key, a [table] header or a comment, found '='"},
        {"a = 1\r", 1, 6, "found a carriage return without line feed"},
        {"a = 1\nb = 2\r\nc = @", 3, 5, "found '@'"},
        {"a = \x80", 1, 5, "found byte 0x80"},
        {"x = 1\n\357\273\277a = 1", 2, 1, "found byte 0xef"}, /* BOM only at the start */
        {"a = .5", 1, 5, "found '.'"},
        {"a = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]", 1, 37,
         "nesting too deep: more than 32 levels"},
        {"a = f(g(h(i(j(k(l(m(n(o(p(q(r(s(t(u(v(w(x(y(z(a(b(c(d(e(f(g(h(i(j(k(l()))))))))))))))"
         "))))))))))))))))))",
         1, 70, "nesting too deep"},
        {"a = f (1)", 1, 5, "found f"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tg_conf_doc *doc = (struct tg_conf_doc *)&doc; /* must become NULL */
        struct tg_conf_error err;
        int rc = parse(rows[i].text, &doc, &err);
        int ok = rc == TG_ERR_PARSE && doc == NULL && err.line == rows[i].line &&
                 err.col == rows[i].col && strstr(err.msg, rows[i].msg) != NULL;
        if (!ok)
            fprintf(stderr, "broken row %zu: rc %d at %u:%u: %s\n    want %u:%u: %s\n", i, rc,
                    err.line, err.col, err.msg, rows[i].line, rows[i].col, rows[i].msg);
        CHECK(ok);
        if (rc == TG_OK)
            tg_conf_free(doc);
    }
}

/* ------------------------------------------------------------ converters */

/* Parses "v = text" and returns the value (the document stays alive in *doc). */
static const struct tg_conf_value *value_of(const char *text, struct tg_conf_doc **doc)
{
    char buf[256];
    struct tg_conf_error err;
    snprintf(buf, sizeof buf, "v = %s", text);
    if (parse(buf, doc, &err) != TG_OK) {
        fprintf(stderr, "cannot parse %s: %s\n", buf, err.msg);
        return NULL;
    }
    return &(*doc)->sections[0].entries[0].value;
}

/* A converter row: the text, the value wanted (when msg is NULL) or a piece
 * of the error message. */
struct conv_row {
    const char *text;
    double want;
    const char *msg;
};

enum conv { DURATION, RATE, BYTES, FRACTION, NUMBER };

static void run_conv(const char *name, enum conv which, const struct conv_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct tg_conf_doc *doc = NULL;
        const struct tg_conf_value *v = value_of(rows[i].text, &doc);
        CHECK(v != NULL);
        if (v == NULL)
            continue;
        struct tg_conf_error err = {0};
        double got = -1;
        int rc;
        switch (which) {
        case DURATION: {
            tg_time us = 0;
            rc = tg_conf_duration(v, &us, &err);
            got = (double)us;
            break;
        }
        case RATE:
            rc = tg_conf_rate(v, &got, &err);
            break;
        case BYTES: {
            uint64_t b = 0;
            rc = tg_conf_bytes(v, &b, &err);
            got = (double)b;
            break;
        }
        case FRACTION:
            rc = tg_conf_fraction(v, &got, &err);
            break;
        default:
            rc = tg_conf_number(v, &got, &err);
            break;
        }
        int ok;
        if (rows[i].msg == NULL)
            ok = rc == TG_OK && got == rows[i].want;
        else
            ok = rc == TG_ERR_PARSE && strstr(err.msg, rows[i].msg) != NULL && err.line == 1 &&
                 err.col == 5;
        if (!ok)
            fprintf(stderr, "%s row %zu (%s): rc %d got %.17g msg \"%s\"\n", name, i, rows[i].text,
                    rc, got, err.msg);
        CHECK(ok);
        tg_conf_free(doc);
    }
}

#define RUN(name, which, rows) run_conv(name, which, rows, sizeof rows / sizeof rows[0])

static void test_converters(void)
{
    static const struct conv_row durations[] = {
        {"30ms", 30000, NULL},
        {"1.5s", 1500000, NULL},
        {"2m", 120e6, NULL},
        {"1h", 3600e6, NULL},
        {"250us", 250, NULL},
        {"1.4us", 1, NULL}, /* nearest microsecond */
        {"0", 0, NULL},
        {"0s", 0, NULL},
        {"1e12s", 1e18, NULL},
        {"1.0001e12s", 0, "out of range (expected 0 to 10^12 s)"},
        {"-5ms", 0, "duration -5ms out of range (expected 0 to 10^12 s)"},
        {"30", 0,
         "expected a duration (a number with us, ms, s, m or h, e.g. 30ms), found integer 30"},
        {"1.5", 0, "found float 1.5"},
        {"\"30ms\"", 0, "found string \"30ms\""},
        {"30min", 0, "unknown duration unit \"min\" in 30min (expected us, ms, s, m or h)"},
        {"30MS", 0, "unknown duration unit \"MS\""},
        {"uniform(1s, 2s)", 0, "found call uniform(...)"},
        {"[1s]", 0, "found array of 1 values"},
    };
    static const struct conv_row rates[] = {
        {"50Mbit", 50e6, NULL},
        {"800kbit", 800e3, NULL},
        {"1Gbit", 1e9, NULL},
        {"12bit", 12, NULL},
        {"2.5Mbps", 2.5e6, NULL},
        {"1kbps", 1e3, NULL},
        {"3Gbps", 3e9, NULL},
        {"5bps", 5, NULL},
        {"0", 0, NULL},
        {"0Mbit", 0, NULL},
        {"1_000kbit", 1e6, NULL},
        {"50mbit", 0, "unknown rate unit \"mbit\""},
        {"50MB", 0, "unknown rate unit \"MB\""},
        {"-1Mbit", 0, "rate -1Mbit out of range (expected 0 or more)"},
        {"1e300Gbit", 0, "out of range"},
        {"50", 0, "expected a rate"},
        {"true", 0, "found true"},
    };
    static const struct conv_row sizes[] = {
        {"200KB", 200e3, NULL},
        {"50MB", 50e6, NULL},
        {"1.5MB", 1.5e6, NULL},
        {"2GB", 2e9, NULL},
        {"1KiB", 1024, NULL},
        {"1.5MiB", 1572864, NULL},
        {"2GiB", 2147483648.0, NULL},
        {"160B", 160, NULL},
        {"0.3KB", 300, NULL},
        {"65536", 65536, NULL},
        {"0", 0, NULL},
        {"-1", 0, "size -1 out of range (expected 0 to 2^64-1 bytes)"},
        {"-1KB", 0, "size -1KB out of range"},
        {"2e10GB", 0, "out of range"},
        {"5kb", 0, "unknown size unit \"kb\""},
        {"1.5", 0, "expected a size"},
    };
    static const struct conv_row fractions[] = {
        {"0.01", 0.01, NULL},
        {"0", 0, NULL},
        {"1", 1, NULL},
        {"1.0", 1, NULL},
        {"1%", 0.01, NULL},
        {"0.5%", 0.005, NULL},
        {"100%", 1, NULL},
        {"0%", 0, NULL},
        {"1.5", 0, "fraction out of range: float 1.5 (expected 0 to 1, or 0% to 100%)"},
        {"2", 0, "fraction out of range: integer 2"},
        {"-0.1", 0, "fraction out of range"},
        {"101%", 0, "fraction out of range: quantity 101%"},
        {"5ms", 0, "unknown unit \"ms\" in 5ms for a fraction (expected %)"},
        {"\"1%\"", 0, "expected a fraction (a number from 0 to 1, or a percentage like 0.5%)"},
    };
    static const struct conv_row numbers[] = {
        {"42", 42, NULL},
        {"-3.5", -3.5, NULL},
        {"0x10", 16, NULL},
        {"1e3", 1000, NULL},
        {"5ms", 0, "expected a number, found quantity 5ms"},
        {"'x'", 0, "expected a number, found string \"x\""},
    };
    RUN("duration", DURATION, durations);
    RUN("rate", RATE, rates);
    RUN("bytes", BYTES, sizes);
    RUN("fraction", FRACTION, fractions);
    RUN("number", NUMBER, numbers);

    /* strings, booleans, tg_conf_fail, type names */
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    CHECK_EQ(parse("s = \"x\"\nb = false\nn = 1\nt = 'lowest'", &doc, &err), TG_OK);
    const struct tg_conf_entry *e = doc->sections[0].entries;
    const char *s = NULL;
    bool b = true;
    CHECK_EQ(tg_conf_string(&e[0].value, &s, &err), TG_OK);
    CHECK(s != NULL && strcmp(s, "x") == 0);
    CHECK_EQ(tg_conf_bool(&e[1].value, &b, &err), TG_OK);
    CHECK(!b);
    CHECK_EQ(tg_conf_string(&e[2].value, &s, &err), TG_ERR_PARSE);
    CHECK(strcmp(err.msg, "expected a string in quotes, found integer 1") == 0);
    CHECK_EQ(err.line, 3);
    CHECK_EQ(err.col, 5);
    CHECK_EQ(tg_conf_bool(&e[0].value, &b, &err), TG_ERR_PARSE);
    CHECK(strcmp(err.msg, "expected true or false, found string \"x\"") == 0);
    CHECK_EQ(tg_conf_fail(&e[3].value, &err, "a strategy (adaptive, redundant, ...)"),
             TG_ERR_PARSE);
    CHECK(strcmp(err.msg, "expected a strategy (adaptive, redundant, ...), found string "
                          "\"lowest\"") == 0);
    CHECK_EQ(err.line, 4);
    CHECK_EQ(tg_conf_fail(&e[3].value, NULL, "x"), TG_ERR_PARSE); /* err optional */
    CHECK_EQ(tg_conf_duration(NULL, NULL, &err), TG_ERR_INVAL);
    tg_conf_free(doc);

    static const struct {
        enum tg_conf_type t;
        const char *name;
    } names[] = {
        {TG_CONF_STRING, "string"}, {TG_CONF_INT, "integer"},       {TG_CONF_FLOAT, "float"},
        {TG_CONF_BOOL, "boolean"},  {TG_CONF_QUANTITY, "quantity"}, {TG_CONF_ARRAY, "array"},
        {TG_CONF_CALL, "call"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK(strcmp(tg_conf_type_name(names[i].t), names[i].name) == 0);
    CHECK(tg_conf_type_name((enum tg_conf_type)99) != NULL);
}

/* ------------------------------------------------------------- realistic */

static const char config_toml[] = "# /etc/triglav/server.toml\n"
                                  "[server]\n"
                                  "listen = [\"0.0.0.0:7443\", \"[::]:7443\"]\n"
                                  "key_file = \"/etc/triglav/server.key\"\n"
                                  "pool = \"198.18.85.0/24\"\n"
                                  "\n"
                                  "[transport]\n"
                                  "rekey_after = 120s\n"
                                  "\n"
                                  "[metrics]\n"
                                  "listen = \"127.0.0.1:9090\"\n";

static const char scenario_scn[] =
    "# A high-speed train: LTE from two carriers, tunnels, handoffs.\n"
    "[scenario]\n"
    "name = \"tgv\"\n"
    "description = \"TGV Paris-Lyon: two LTE carriers, tunnels every few minutes\"\n"
    "duration = 10m\n"
    "iterations = 200\n"
    "strategies = [\"adaptive\", \"redundant\",\n"
    "              \"lowest_latency\"]   # the sweep\n"
    "aggregation = [\"none\", \"adaptive\"]\n"
    "defining = \"tunnel\"\n"
    "\n"
    "[[uplink]]\n"
    "name = \"orange\"\n"
    "kind = \"lte\"\n"
    "rate_down = lognormal(20Mbit, 8Mbit)\n"
    "rate_up = [[0s, 5Mbit], [60s, 1.5Mbit]]\n"
    "delay = normal(35ms, 5ms)\n"
    "jitter = 3ms\n"
    "loss = ge(p_gb=1%, p_bg=30%, bad=100%, good=0%)\n"
    "queue = 200KB\n"
    "\n"
    "[[uplink]]\n"
    "name = \"sfr\"\n"
    "kind = \"lte\"\n"
    "trace = \"data:traces/sfr-tgv.down\"\n"
    "trace_offset = uniform(0s, 5m)\n"
    "delay = 45ms\n"
    "loss = 0.5%\n"
    "\n"
    "[[event]]\n"
    "name = \"tunnel\"\n"
    "uplinks = [\"orange\", \"sfr\"]\n"
    "every = exp(4m)\n"
    "length = uniform(5s, 40s)\n"
    "stagger = uniform(0s, 2s)\n"
    "probability = 0.9\n"
    "\n"
    "[[traffic]]\n"
    "kind = \"tcp\"\n"
    "cc = \"cubic\"\n"
    "size = 0\n"
    "\n"
    "[[traffic]]\n"
    "kind = \"voice\"\n"
    "rate = 50\n"
    "packet = 160B\n";

static const struct tg_conf_value *lookup(const struct tg_conf_doc *d, const char *section,
                                          size_t nth, const char *key)
{
    for (size_t s = 0; s < d->n_sections; s++) {
        if (strcmp(d->sections[s].name, section) != 0)
            continue;
        if (nth-- > 0)
            continue;
        for (size_t i = 0; i < d->sections[s].n_entries; i++)
            if (strcmp(d->sections[s].entries[i].key, key) == 0)
                return &d->sections[s].entries[i].value;
        return NULL;
    }
    return NULL;
}

static void test_realistic(void)
{
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    const char *s;
    tg_time us;
    double x;
    uint64_t bytes;

    CHECK_EQ(parse(config_toml, &doc, &err), TG_OK);
    CHECK_EQ(doc->n_sections, 4);
    const struct tg_conf_value *listen = lookup(doc, "server", 0, "listen");
    CHECK(listen != NULL && listen->type == TG_CONF_ARRAY && listen->u.arr.n == 2);
    if (listen != NULL && listen->u.arr.n == 2) {
        CHECK_EQ(tg_conf_string(&listen->u.arr.v[1], &s, &err), TG_OK);
        CHECK(strcmp(s, "[::]:7443") == 0);
    }
    CHECK_EQ(tg_conf_string(lookup(doc, "server", 0, "pool"), &s, &err), TG_OK);
    CHECK(strcmp(s, "198.18.85.0/24") == 0);
    CHECK_EQ(tg_conf_duration(lookup(doc, "transport", 0, "rekey_after"), &us, &err), TG_OK);
    CHECK_EQ(us, TG_SEC(120));
    CHECK_EQ(tg_conf_string(lookup(doc, "metrics", 0, "listen"), &s, &err), TG_OK);
    CHECK(strcmp(s, "127.0.0.1:9090") == 0);
    tg_conf_free(doc);

    CHECK_EQ(parse(scenario_scn, &doc, &err), TG_OK);
    if (doc == NULL)
        return;
    CHECK_EQ(doc->n_sections, 1 + 1 + 2 + 1 + 2);
    CHECK_EQ(tg_conf_duration(lookup(doc, "scenario", 0, "duration"), &us, &err), TG_OK);
    CHECK_EQ(us, TG_SEC(600));
    CHECK_EQ(lookup(doc, "scenario", 0, "strategies")->u.arr.n, 3);
    const struct tg_conf_value *loss = lookup(doc, "uplink", 0, "loss");
    CHECK(loss->type == TG_CONF_CALL && strcmp(loss->u.call.fn, "ge") == 0);
    CHECK_EQ(loss->u.call.n, 4);
    CHECK(strcmp(loss->u.call.args[1].name, "p_bg") == 0);
    CHECK_EQ(tg_conf_fraction(&loss->u.call.args[1], &x, &err), TG_OK);
    CHECK(x == 0.3);
    const struct tg_conf_value *sched = lookup(doc, "uplink", 0, "rate_up");
    CHECK_EQ(tg_conf_rate(&sched->u.arr.v[1].u.arr.v[1], &x, &err), TG_OK);
    CHECK(x == 1.5e6);
    CHECK_EQ(tg_conf_bytes(lookup(doc, "uplink", 0, "queue"), &bytes, &err), TG_OK);
    CHECK_EQ(bytes, 200000);
    CHECK_EQ(tg_conf_fraction(lookup(doc, "uplink", 1, "loss"), &x, &err), TG_OK);
    CHECK(x == 0.005);
    CHECK_EQ(tg_conf_string(lookup(doc, "uplink", 1, "name"), &s, &err), TG_OK);
    CHECK(strcmp(s, "sfr") == 0);
    const struct tg_conf_value *every = lookup(doc, "event", 0, "every");
    CHECK_EQ(tg_conf_duration(&every->u.call.args[0], &us, &err), TG_OK);
    CHECK_EQ(us, TG_SEC(240));
    CHECK_EQ(tg_conf_bytes(lookup(doc, "traffic", 1, "packet"), &bytes, &err), TG_OK);
    CHECK_EQ(bytes, 160);
    CHECK(lookup(doc, "traffic", 2, "kind") == NULL);
    /* the loader's view of a mistake: wrong kind of value, with its place */
    CHECK_EQ(tg_conf_duration(lookup(doc, "scenario", 0, "iterations"), &us, &err), TG_ERR_PARSE);
    CHECK_EQ(err.line, 6);
    CHECK_EQ(err.col, 14);
    tg_conf_free(doc);
}

/* --------------------------------------------------- allocator and limits */

struct counting {
    long live, calls, fail_at; /* fail the fail_at-th call (from 0); -1 never */
};

static void *count_alloc(void *ctx, size_t size)
{
    struct counting *c = ctx;
    if (c->calls++ == c->fail_at)
        return NULL;
    c->live++;
    return malloc(size);
}

static void count_free(void *ctx, void *p)
{
    struct counting *c = ctx;
    if (p != NULL)
        c->live--;
    free(p);
}

static void test_allocator(void)
{
    struct counting c = {.fail_at = -1};
    struct tg_allocator a = {count_alloc, count_free, &c};
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    CHECK_EQ(tg_conf_parse(scenario_scn, sizeof scenario_scn - 1, &a, &doc, &err), TG_OK);
    long total = c.calls;
    CHECK(total > 0);
    tg_conf_free(doc);
    CHECK_EQ(c.live, 0);

    /* every allocation failing in turn: NOMEM, nothing leaked */
    int nomem = 0;
    for (long k = 0; k < total; k++) {
        c = (struct counting){.fail_at = k};
        int rc = tg_conf_parse(scenario_scn, sizeof scenario_scn - 1, &a, &doc, &err);
        CHECK_EQ(rc, TG_ERR_NOMEM);
        CHECK(doc == NULL);
        CHECK_EQ(c.live, 0);
        nomem += rc == TG_ERR_NOMEM;
    }
    CHECK_EQ(nomem, total);

    /* a large document: many keys, sections and array elements */
    enum { KEYS = 20000 };
    size_t cap = (size_t)KEYS * 40, n = 0;
    char *big = malloc(cap);
    for (int i = 0; i < KEYS; i++) {
        if (i % 100 == 0)
            n += (size_t)snprintf(big + n, cap - n, "[[s]]\n");
        n += (size_t)snprintf(big + n, cap - n, "k%d = [%d, \"v\", 1ms]\n", i, i);
    }
    c = (struct counting){.fail_at = -1};
    CHECK_EQ(tg_conf_parse(big, n, &a, &doc, &err), TG_OK);
    CHECK_EQ(doc->n_sections, 1 + KEYS / 100);
    CHECK_EQ(doc->sections[KEYS / 100].n_entries, 100);
    CHECK_EQ(doc->sections[KEYS / 100].entries[99].value.u.arr.v[0].u.i, KEYS - 1);
    tg_conf_free(doc);
    CHECK_EQ(c.live, 0);
    free(big);
}

/* ---------------------------------------------------------------- random */

static void run_converters(const struct tg_conf_value *v)
{
    tg_time us;
    double x;
    uint64_t b;
    const char *s;
    bool t;
    struct tg_conf_error err;
    (void)tg_conf_duration(v, &us, &err);
    (void)tg_conf_rate(v, &x, &err);
    (void)tg_conf_bytes(v, &b, &err);
    (void)tg_conf_fraction(v, &x, &err);
    (void)tg_conf_number(v, &x, &err);
    (void)tg_conf_string(v, &s, &err);
    (void)tg_conf_bool(v, &t, &err);
    (void)tg_conf_fail(v, &err, "something");
    const struct tg_conf_value *kids = v->type == TG_CONF_ARRAY  ? v->u.arr.v
                                       : v->type == TG_CONF_CALL ? v->u.call.args
                                                                 : NULL;
    size_t n = v->type == TG_CONF_ARRAY ? v->u.arr.n : v->type == TG_CONF_CALL ? v->u.call.n : 0;
    for (size_t i = 0; i < n; i++)
        run_converters(&kids[i]);
}

/* One input: parses, or fails with a place and a message. Returns 1 when it
 * parsed. */
static int try_input(const uint8_t *data, size_t len)
{
    struct tg_conf_doc *doc;
    struct tg_conf_error err;
    /* a copy of exactly len bytes, so ASan sees any read past the end */
    uint8_t *copy = malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    int rc = tg_conf_parse((const char *)copy, len, NULL, &doc, &err);
    int parsed = 0;
    if (rc == TG_OK) {
        parsed = 1;
        struct out o;
        render(doc, &o);
        for (size_t s = 0; s < doc->n_sections; s++)
            for (size_t i = 0; i < doc->sections[s].n_entries; i++)
                run_converters(&doc->sections[s].entries[i].value);
        tg_conf_free(doc);
    } else {
        CHECK_EQ(rc, TG_ERR_PARSE);
        CHECK(doc == NULL);
        CHECK(err.line >= 1 && err.col >= 1 && err.msg[0] != '\0');
    }
    free(copy);
    return parsed;
}

static void test_random(void)
{
    static const char alphabet[] = "ab_-09.=[]()\"'\\#,% \t\n\r{}xemsMB+u\x80\xc3\xa9";
    static const char *const seeds[] = {config_toml, scenario_scn,
                                        "a = [1, 2.5, 3ms, \"x\\u00e9\", f(a=1, b=[2])]\n"};
    uint64_t seed = 0x5eed0c0f;
    rng_state = seed;
    printf("random: seed 0x%llx\n", (unsigned long long)seed);
    int parsed = 0, runs = 0;
    uint8_t buf[2048];

    /* random strings, half from the syntax alphabet */
    for (int r = 0; r < 4000; r++, runs++) {
        size_t len = rnd_below(120);
        if (r % 2)
            rnd_bytes(buf, len);
        else
            for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t)alphabet[rnd_below(sizeof alphabet - 1)];
        parsed += try_input(buf, len);
    }
    /* mutations of valid documents */
    for (int r = 0; r < 6000; r++, runs++) {
        const char *base = seeds[rnd_below(3)];
        size_t len = strlen(base);
        memcpy(buf, base, len);
        int edits = 1 + (int)rnd_below(4);
        for (int e = 0; e < edits; e++) {
            size_t at = len ? rnd_below((uint32_t)len) : 0;
            switch (rnd_below(4)) {
            case 0:
                buf[at] = (uint8_t)alphabet[rnd_below(sizeof alphabet - 1)];
                break;
            case 1:
                buf[at] = (uint8_t)rnd();
                break;
            case 2:
                len = at;
                break;
            default: /* insert a syntax byte */
                if (len < sizeof buf) {
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (uint8_t)alphabet[rnd_below(sizeof alphabet - 1)];
                    len++;
                }
                break;
            }
        }
        parsed += try_input(buf, len);
    }
    printf("random: %d inputs, %d parsed\n", runs, parsed);
    CHECK(parsed > 500); /* the mutations keep some documents valid */
}

int main(void)
{
    test_valid();
    test_positions();
    test_broken();
    test_converters();
    test_realistic();
    test_allocator();
    test_random();
    return check_exit("test_conf");
}
