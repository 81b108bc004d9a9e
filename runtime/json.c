/* JSON writing helpers and a small strict reader (see json.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

void rt_json_str(struct rt_text *t, const char *s)
{
    rt_text_add(t, "\"");
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            rt_text_add(t, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            rt_text_add(t, "\\u%04x", ch);
        else
            rt_text_add(t, "%c", ch);
    }
    rt_text_add(t, "\"");
}

enum { MAX_DEPTH = 32, MAX_NODES = 1 << 20 };

struct parser {
    const char *s;
    size_t len, pos;
    struct rt_json *j;
    char *err;
    size_t errcap;
    int failed;
};

static int fail(struct parser *p, const char *what)
{
    if (!p->failed)
        snprintf(p->err, p->errcap, "JSON: %s at byte %zu", what, p->pos);
    p->failed = 1;
    return -1;
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static int add_node(struct parser *p, enum rt_jtype type)
{
    struct rt_json *j = p->j;
    if (j->count == j->cap) {
        if (j->cap >= MAX_NODES)
            return fail(p, "too many values");
        int cap = j->cap ? j->cap * 2 : 64;
        struct rt_jnode *n = realloc(j->n, (size_t)cap * sizeof *n);
        if (n == NULL)
            return fail(p, "out of memory");
        j->n = n;
        j->cap = cap;
    }
    j->n[j->count] = (struct rt_jnode){.type = type, .child = -1, .next = -1};
    return j->count++;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A string at p->pos (the opening quote); its escaped characters in *s, *n. */
static int scan_string(struct parser *p, const char **s, size_t *n)
{
    if (p->pos >= p->len || p->s[p->pos] != '"')
        return fail(p, "expected a string");
    size_t start = ++p->pos;
    while (p->pos < p->len) {
        unsigned char c = (unsigned char)p->s[p->pos];
        if (c == '"') {
            *s = p->s + start;
            *n = p->pos - start;
            p->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                break;
            char e = p->s[p->pos + 1];
            if (e == 'u') {
                if (p->pos + 5 >= p->len)
                    break;
                for (int k = 2; k < 6; k++)
                    if (hexval(p->s[p->pos + (size_t)k]) < 0)
                        return fail(p, "bad \\u escape");
                p->pos += 6;
                continue;
            }
            if (strchr("\"\\/bfnrt", e) == NULL || e == '\0')
                return fail(p, "bad escape");
            p->pos += 2;
            continue;
        }
        p->pos++;
    }
    return fail(p, "unterminated string");
}

static int parse_value(struct parser *p, int depth);

static int parse_container(struct parser *p, int depth, bool object)
{
    int me = add_node(p, object ? RT_JOBJ : RT_JARR);
    if (me < 0)
        return -1;
    p->pos++; /* [ or { */
    skip_ws(p);
    char close = object ? '}' : ']';
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        return me;
    }
    int prev = -1;
    for (;;) {
        const char *key = NULL;
        size_t key_len = 0;
        if (object) {
            skip_ws(p);
            if (scan_string(p, &key, &key_len) != 0)
                return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':')
                return fail(p, "expected ':'");
            p->pos++;
        }
        int v = parse_value(p, depth + 1);
        if (v < 0)
            return -1;
        p->j->n[v].key = key;
        p->j->n[v].key_len = key_len;
        if (prev < 0)
            p->j->n[me].child = v;
        else
            p->j->n[prev].next = v;
        prev = v;
        skip_ws(p);
        if (p->pos < p->len && p->s[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->s[p->pos] == close) {
            p->pos++;
            return me;
        }
        return fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

static int parse_number(struct parser *p)
{
    size_t i = p->pos;
    if (i < p->len && p->s[i] == '-')
        i++;
    if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
        return fail(p, "expected a value");
    if (p->s[i] == '0')
        i++;
    else
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    if (i < p->len && p->s[i] == '.') {
        if (++i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return fail(p, "expected a digit after '.'");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
        i++;
        if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
            i++;
        if (i >= p->len || p->s[i] < '0' || p->s[i] > '9')
            return fail(p, "expected a digit in the exponent");
        while (i < p->len && p->s[i] >= '0' && p->s[i] <= '9')
            i++;
    }
    char buf[64];
    if (i - p->pos >= sizeof buf)
        return fail(p, "number too long");
    memcpy(buf, p->s + p->pos, i - p->pos);
    buf[i - p->pos] = '\0';
    int me = add_node(p, RT_JNUM);
    if (me < 0)
        return -1;
    p->j->n[me].num = strtod(buf, NULL);
    p->pos = i;
    return me;
}

static int literal(struct parser *p, const char *word, enum rt_jtype type, double v)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
        return fail(p, "expected a value");
    p->pos += n;
    int me = add_node(p, type);
    if (me >= 0)
        p->j->n[me].num = v;
    return me;
}

static int parse_one(struct parser *p, int depth);

static int parse_value(struct parser *p, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(p, "nested too deeply");
    skip_ws(p);
    size_t start = p->pos;
    int me = parse_one(p, depth);
    if (me >= 0) {
        p->j->n[me].raw = p->s + start;
        p->j->n[me].raw_len = p->pos - start;
    }
    return me;
}

static int parse_one(struct parser *p, int depth)
{
    if (p->pos >= p->len)
        return fail(p, "unexpected end");
    switch (p->s[p->pos]) {
    case '{':
        return parse_container(p, depth, true);
    case '[':
        return parse_container(p, depth, false);
    case '"': {
        const char *s;
        size_t n;
        if (scan_string(p, &s, &n) != 0)
            return -1;
        int me = add_node(p, RT_JSTR);
        if (me >= 0) {
            p->j->n[me].s = s;
            p->j->n[me].len = n;
        }
        return me;
    }
    case 't':
        return literal(p, "true", RT_JBOOL, 1);
    case 'f':
        return literal(p, "false", RT_JBOOL, 0);
    case 'n':
        return literal(p, "null", RT_JNULL, 0);
    default:
        return parse_number(p);
    }
}

int rt_json_parse(const char *text, size_t len, struct rt_json *j, char *err, size_t errcap)
{
    memset(j, 0, sizeof *j);
    struct parser p = {.s = text, .len = len, .j = j, .err = err, .errcap = errcap};
    if (errcap > 0)
        err[0] = '\0';
    if (parse_value(&p, 0) < 0)
        return -1;
    skip_ws(&p);
    if (p.pos != len)
        return fail(&p, "trailing bytes after the value");
    return 0;
}

void rt_json_free(struct rt_json *j)
{
    free(j->n);
    memset(j, 0, sizeof *j);
}

static bool valid(const struct rt_json *j, int node)
{
    return node >= 0 && node < j->count;
}

int rt_json_get(const struct rt_json *j, int obj, const char *key)
{
    if (!valid(j, obj) || j->n[obj].type != RT_JOBJ)
        return -1;
    size_t kl = strlen(key);
    for (int c = j->n[obj].child; c >= 0; c = j->n[c].next)
        if (j->n[c].key_len == kl && memcmp(j->n[c].key, key, kl) == 0)
            return c;
    return -1;
}

int rt_json_at(const struct rt_json *j, int arr, int i)
{
    if (!valid(j, arr) || j->n[arr].type != RT_JARR)
        return -1;
    int c = j->n[arr].child;
    while (c >= 0 && i-- > 0)
        c = j->n[c].next;
    return c;
}

int rt_json_len(const struct rt_json *j, int arr)
{
    int n = 0;
    if (valid(j, arr) && (j->n[arr].type == RT_JARR || j->n[arr].type == RT_JOBJ))
        for (int c = j->n[arr].child; c >= 0; c = j->n[c].next)
            n++;
    return n;
}

enum rt_jtype rt_json_type(const struct rt_json *j, int node)
{
    return valid(j, node) ? j->n[node].type : RT_JNULL;
}

double rt_json_num(const struct rt_json *j, int node, double dflt)
{
    return valid(j, node) && j->n[node].type == RT_JNUM ? j->n[node].num : dflt;
}

bool rt_json_bool(const struct rt_json *j, int node, bool dflt)
{
    return valid(j, node) && j->n[node].type == RT_JBOOL ? j->n[node].num != 0 : dflt;
}

const char *rt_json_str_get(const struct rt_json *j, int node, char *out, size_t cap,
                            const char *dflt)
{
    if (cap == 0)
        return out;
    if (!valid(j, node) || j->n[node].type != RT_JSTR) {
        snprintf(out, cap, "%s", dflt);
        return out;
    }
    const char *s = j->n[node].s;
    size_t n = j->n[node].len, o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        char c = s[i];
        if (c == '\\' && i + 1 < n) {
            char e = s[++i];
            if (e == 'u' && i + 4 < n) {
                int v = hexval(s[i + 1]) << 12 | hexval(s[i + 2]) << 8 | hexval(s[i + 3]) << 4 |
                        hexval(s[i + 4]);
                c = v > 0 && v < 0x80 ? (char)v : '?';
                i += 4;
            } else {
                c = e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e == 'b' ? '\b'
                    : e == 'f' ? '\f' : e;
            }
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

double rt_json_mnum(const struct rt_json *j, int obj, const char *key, double dflt)
{
    return rt_json_num(j, rt_json_get(j, obj, key), dflt);
}

const char *rt_json_mstr(const struct rt_json *j, int obj, const char *key, char *out,
                         size_t cap, const char *dflt)
{
    return rt_json_str_get(j, rt_json_get(j, obj, key), out, cap, dflt);
}
