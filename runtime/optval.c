/*
 * optval.c: the values of the option table (opts.h), from a config file's
 * typed value or a command-line argument into the options struct, and back
 * out as TOML. Both sources go through one path: an argument is turned
 * into the value a file would hold ("15s" becomes the quantity 15s), so a
 * flag and a key accept the same forms and refuse them with the same words.
 * Messages say what was expected and never quote the value: it may come
 * from a file whose bytes must not reach the terminal.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opts.h"

char *rt_printable(char *s)
{
    for (char *p = s; *p != '\0'; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return s;
}

static int failf(struct rt_opt_err *err, const struct tg_conf_value *v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int failf(struct rt_opt_err *err, const struct tg_conf_value *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->why, sizeof err->why, fmt, ap);
    va_end(ap);
    err->line = v != NULL ? v->line : 0;
    err->col = v != NULL ? v->col : 0;
    return -1;
}

/* ------------------------------------------------------------ formatting */

static const char *fmt_duration(tg_time us, char *out, size_t cap)
{
    static const struct {
        uint64_t us;
        const char *unit;
    } units[] = {{3600000000ull, "h"}, {60000000ull, "m"}, {1000000, "s"}, {1000, "ms"}, {1, "us"}};
    if (us == 0) {
        snprintf(out, cap, "0s");
        return out;
    }
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (us % units[i].us == 0) {
            snprintf(out, cap, "%llu%s", (unsigned long long)(us / units[i].us), units[i].unit);
            break;
        }
    return out;
}

static const char *fmt_size(uint64_t b, char *out, size_t cap)
{
    if (b != 0 && b % (1ull << 30) == 0)
        snprintf(out, cap, "%lluGiB", (unsigned long long)(b >> 30));
    else if (b != 0 && b % (1ull << 20) == 0)
        snprintf(out, cap, "%lluMiB", (unsigned long long)(b >> 20));
    else if (b != 0 && b % (1ull << 10) == 0)
        snprintf(out, cap, "%lluKiB", (unsigned long long)(b >> 10));
    else
        snprintf(out, cap, "%llu", (unsigned long long)b);
    return out;
}

/* The shortest %g that reads back as x. */
static const char *fmt_number(double x, char *out, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, x);
        if (strtod(out, NULL) == x)
            break;
    }
    return out;
}

static const char *fmt_rate(double bps, char *out, size_t cap)
{
    static const struct {
        double mult;
        const char *unit;
    } units[] = {{1e9, "Gbit"}, {1e6, "Mbit"}, {1e3, "kbit"}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        double q = bps / units[i].mult;
        if (q >= 1 && q == floor(q) && q < 1e15) {
            snprintf(out, cap, "%.0f%s", q, units[i].unit);
            return out;
        }
    }
    char n[40];
    snprintf(out, cap, "%sbit", fmt_number(bps, n, sizeof n));
    return out;
}

/* A TOML basic string. */
static void fmt_string(const char *s, char *out, size_t cap)
{
    size_t k = 0;
    if (cap < 3) {
        if (cap > 0)
            out[0] = '\0';
        return;
    }
    out[k++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p != '\0' && k + 8 < cap; p++) {
        if (*p == '"' || *p == '\\') {
            out[k++] = '\\';
            out[k++] = (char)*p;
        } else if (*p < 0x20 || *p == 0x7f) {
            k += (size_t)snprintf(out + k, cap - k, "\\u%04x", *p);
        } else {
            out[k++] = (char)*p;
        }
    }
    out[k++] = '"';
    out[k] = '\0';
}

static uint64_t load_uint(const void *p, size_t size)
{
    switch (size) {
    case 1:
        return *(const uint8_t *)p;
    case 2:
        return *(const uint16_t *)p;
    case 4:
        return *(const uint32_t *)p;
    default:
        return *(const uint64_t *)p;
    }
}

static void store_uint(void *p, size_t size, uint64_t v)
{
    switch (size) {
    case 1:
        *(uint8_t *)p = (uint8_t)v;
        break;
    case 2:
        *(uint16_t *)p = (uint16_t)v;
        break;
    case 4:
        *(uint32_t *)p = (uint32_t)v;
        break;
    default:
        *(uint64_t *)p = v;
        break;
    }
}

static bool load_bool(const void *p, size_t size)
{
    return size == sizeof(bool) ? *(const bool *)p : *(const int *)p != 0;
}

static void store_bool(void *p, size_t size, bool b)
{
    if (size == sizeof(bool))
        *(bool *)p = b;
    else
        *(int *)p = b;
}

/* One scalar of kind k at p (size bytes) as TOML. */
static void fmt_scalar(const struct rt_opt *op, enum rt_opt_kind k, const void *p, size_t size,
                       char *out, size_t cap)
{
    char b[RT_ADDRSTRLEN + 8];
    switch (k) {
    case RT_OPT_STRING:
    case RT_OPT_IFACE:
        fmt_string(p, out, cap);
        return;
    case RT_OPT_DURATION:
        snprintf(out, cap, "\"%s\"", fmt_duration(*(const tg_time *)p, b, sizeof b));
        return;
    case RT_OPT_SIZE: {
        uint64_t v = load_uint(p, size);
        fmt_size(v, b, sizeof b);
        snprintf(out, cap, isdigit((unsigned char)b[strlen(b) - 1]) ? "%s" : "\"%s\"", b);
        return;
    }
    case RT_OPT_RATE:
        snprintf(out, cap, "\"%s\"", fmt_rate(*(const double *)p, b, sizeof b));
        return;
    case RT_OPT_INT:
        snprintf(out, cap, op->flags & RT_OF_HEX ? "0x%llx" : "%llu",
                 (unsigned long long)load_uint(p, size));
        return;
    case RT_OPT_NUMBER:
        fmt_number(*(const double *)p, out, cap);
        return;
    case RT_OPT_BOOL:
        snprintf(out, cap, "%s",
                 load_bool(p, size) != ((op->flags & RT_OF_NEGATE) != 0) ? "true" : "false");
        return;
    case RT_OPT_CHOICE:
        snprintf(out, cap, "\"%s\"", op->choice->name(*(const int *)p));
        return;
    case RT_OPT_ADDR:
        snprintf(out, cap, "\"%s\"", rt_addr_str(p, b));
        return;
    case RT_OPT_PREFIX:
        snprintf(out, cap, "\"%s\"", rt_prefix_str(p, b));
        return;
    case RT_OPT_IPV4:
        snprintf(out, cap, "\"%s\"", rt_ipv4_str(p, b));
        return;
    default:
        snprintf(out, cap, "?");
        return;
    }
}

bool rt_opt_format(const struct rt_opt *op, const void *o, char *out, size_t cap)
{
    const char *base = o;
    const void *p = base + op->off;
    if (op->kind == RT_OPT_LIST) {
        int n = *(const int *)(base + op->count_off);
        size_t each = op->size / op->max_n, k = 0;
        k += (size_t)snprintf(out, cap, "[");
        for (int i = 0; i < n && k < cap; i++) {
            char one[300];
            fmt_scalar(op, op->elem, base + op->off + (size_t)i * each, each, one, sizeof one);
            k += (size_t)snprintf(out + k, cap - k, "%s%s", i > 0 ? ", " : "", one);
        }
        if (k < cap)
            snprintf(out + k, cap - k, "]");
        return n > 0;
    }
    fmt_scalar(op, op->kind, p, op->size, out, cap);
    if ((op->flags & RT_OF_SETS) && !*(const bool *)(base + op->set_off))
        return false;
    if (op->kind == RT_OPT_STRING || op->kind == RT_OPT_IFACE)
        return *(const char *)p != '\0';
    return true;
}

/* ------------------------------------------------------------ expectations */

static const char *range_text(const struct rt_opt *op, char *out, size_t cap)
{
    char a[48], b[48];
    switch (op->kind) {
    case RT_OPT_DURATION:
        snprintf(out, cap, ", from %s to %s", fmt_duration((tg_time)op->min, a, sizeof a),
                 fmt_duration((tg_time)op->max, b, sizeof b));
        break;
    case RT_OPT_SIZE:
        snprintf(out, cap, ", from %s to %s", fmt_size((uint64_t)op->min, a, sizeof a),
                 fmt_size((uint64_t)op->max, b, sizeof b));
        break;
    case RT_OPT_RATE:
        snprintf(out, cap, ", from %s to %s", fmt_rate(op->min, a, sizeof a),
                 fmt_rate(op->max, b, sizeof b));
        break;
    case RT_OPT_INT:
        if (op->flags & RT_OF_HEX)
            snprintf(out, cap, " from 0x%llx to 0x%llx", (unsigned long long)op->min,
                     (unsigned long long)op->max);
        else
            snprintf(out, cap, " from %llu to %llu", (unsigned long long)op->min,
                     (unsigned long long)op->max);
        break;
    case RT_OPT_NUMBER:
        snprintf(out, cap, " from %s to %s", fmt_number(op->min, a, sizeof a),
                 fmt_number(op->max, b, sizeof b));
        break;
    default:
        out[0] = '\0';
        break;
    }
    return out;
}

static const char *expects(const struct rt_opt *op, enum rt_opt_kind k, char *out, size_t cap)
{
    char r[120];
    switch (k) {
    case RT_OPT_STRING:
        snprintf(out, cap, "a string in quotes, %sat most %zu bytes",
                 op->flags & RT_OF_EMPTY ? "" : "not empty, ", op->size - 1);
        break;
    case RT_OPT_IFACE:
        snprintf(out, cap, "an interface name in quotes (1 to 15 characters, no '/' or blank)%s",
                 op->flags & RT_OF_EMPTY ? ", or \"\" for none" : "");
        break;
    case RT_OPT_DURATION:
        snprintf(out, cap, "a duration like \"5m\", \"500ms\" or 30s (a bare number is %s)%s",
                 op->flags & RT_OF_MS ? "milliseconds" : "seconds", range_text(op, r, sizeof r));
        break;
    case RT_OPT_SIZE:
        snprintf(out, cap, "a size like \"2MB\", \"4MiB\" or a number of bytes%s",
                 range_text(op, r, sizeof r));
        break;
    case RT_OPT_RATE:
        snprintf(out, cap, "a rate like \"10Mbit\"%s", range_text(op, r, sizeof r));
        break;
    case RT_OPT_INT:
        snprintf(out, cap, "%s%s%s", op->flags & RT_OF_POW2 ? "a power of two" : "an integer",
                 range_text(op, r, sizeof r),
                 op->flags & RT_OF_TABLE_ID ? ", not 253, 254 or 255 (the system's tables)"
                 : (op->flags & RT_OF_POW2) && op->min == 0 ? ", or 0"
                                                            : "");
        break;
    case RT_OPT_NUMBER:
        snprintf(out, cap, "a number%s", range_text(op, r, sizeof r));
        break;
    case RT_OPT_BOOL:
        snprintf(out, cap, "true or false");
        break;
    case RT_OPT_CHOICE: {
        size_t at = (size_t)snprintf(out, cap, "one of: ");
        for (const char *w = op->choice->words; *w != '\0' && at < cap;) {
            size_t n = strcspn(w, " ");
            at += (size_t)snprintf(out + at, cap - at, "%s%.*s", w == op->choice->words ? "" : ", ",
                                   (int)n, w);
            w += n + (w[n] == ' ');
        }
        break;
    }
    case RT_OPT_ADDR:
        snprintf(out, cap, "%s",
                 op->flags & RT_OF_NOT_ANY
                     ? "an IP:PORT clients can reach, e.g. 203.0.113.1:7443 (not a wildcard)"
                     : "IP:PORT, e.g. 0.0.0.0:7443 or [2001:db8::1]:7443");
        break;
    case RT_OPT_PREFIX:
        if (op->flags & RT_OF_HOST)
            snprintf(out, cap, "an IPv4 address, optionally /LEN, e.g. 198.18.0.2/24");
        else if (op->max > 0)
            snprintf(out, cap, "an IPv4 prefix like 10.85.0.0/16, /%u or larger",
                     (unsigned)op->max);
        else
            snprintf(out, cap, "an IPv4 prefix like 203.0.113.0/24");
        break;
    case RT_OPT_IPV4:
        snprintf(out, cap, "an IPv4 address like 192.0.2.53");
        break;
    default:
        snprintf(out, cap, "a value");
        break;
    }
    return out;
}

const char *rt_opt_expects(const struct rt_opt *op)
{
    static char buf[200]; /* messages only, one at a time */
    if (op->kind == RT_OPT_LIST) {
        char e[160];
        snprintf(buf, sizeof buf, "an array of at most %u values, each %s", op->max_n,
                 expects(op, op->elem, e, sizeof e));
        return buf;
    }
    return expects(op, op->kind, buf, sizeof buf);
}

/* ------------------------------------------------------------ parsing */

/* Text typed on the command line or written as a TOML string, as the value
 * a file would hold: 42 and 0x1f are integers, 2.5 a float, 5m and 2MB
 * quantities. Returns 0, or -1 when it is none of those. */
static int text_value(const char *s, struct tg_conf_value *v, char unit[16])
{
    const char *p = s;
    if (*p == '-' || *p == '+')
        p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && s[0] != '-') {
        char *end;
        unsigned long long x = strtoull(p + 2, &end, 16);
        if (!isxdigit((unsigned char)p[2]) || *end != '\0' || x > INT64_MAX)
            return -1;
        v->type = TG_CONF_INT;
        v->u.i = (int64_t)x;
        return 0;
    }
    const char *q = p;
    bool dot = false, exp = false;
    while (isdigit((unsigned char)*q) || (*q == '.' && !dot && !exp)) {
        dot |= *q == '.';
        q++;
        if ((*q == 'e' || *q == 'E') && !exp &&
            (isdigit((unsigned char)q[1]) ||
             ((q[1] == '+' || q[1] == '-') && isdigit((unsigned char)q[2])))) {
            exp = true;
            q += q[1] == '+' || q[1] == '-' ? 2 : 1;
        }
    }
    if (q == p || !isdigit((unsigned char)q[-1]) || (!isdigit((unsigned char)*p) && *p != '.'))
        return -1;
    size_t nlen = (size_t)(q - s), ulen = strlen(q);
    char num[64];
    if (nlen >= sizeof num || ulen >= 16)
        return -1;
    memcpy(num, s, nlen);
    num[nlen] = '\0';
    if (ulen > 0) {
        if (strcmp(q, "%") != 0)
            for (size_t i = 0; i < ulen; i++)
                if (!isalpha((unsigned char)q[i]))
                    return -1;
        memcpy(unit, q, ulen + 1);
        v->type = TG_CONF_QUANTITY;
        v->u.q.num = strtod(num, NULL);
        v->u.q.unit = unit;
        return 0;
    }
    if (!dot && !exp) {
        char *end;
        long long x = strtoll(num, &end, 10);
        if (*end != '\0')
            return -1;
        v->type = TG_CONF_INT;
        v->u.i = x;
        return 0;
    }
    v->type = TG_CONF_FLOAT;
    v->u.f = strtod(num, NULL);
    return 0;
}

static bool ifname_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/' || isspace((unsigned char)s[i]) || (unsigned char)s[i] < 0x21 ||
            s[i] == ':')
            return false;
    return true;
}

static int mismatch(const struct rt_opt *op, enum rt_opt_kind k, const struct tg_conf_value *v,
                    struct rt_opt_err *err, const char *found)
{
    char e[200];
    return failf(err, v, "expected %s, found %s", expects(op, k, e, sizeof e), found);
}

static const char *found_type(const struct tg_conf_value *v)
{
    switch (v->type) {
    case TG_CONF_STRING:
        return "a string";
    case TG_CONF_INT:
        return "an integer";
    case TG_CONF_FLOAT:
        return "a float";
    case TG_CONF_BOOL:
        return "a boolean";
    case TG_CONF_QUANTITY:
        return "a quantity";
    case TG_CONF_ARRAY:
        return "an array";
    case TG_CONF_CALL:
        return "a call";
    }
    return "another value";
}

static bool in_range(const struct rt_opt *op, double x)
{
    return x >= op->min && x <= op->max;
}

/* A number-like value (duration, size, rate, integer, number) as a double in
 * the option's unit; strings are read as text_value() does. */
static int numeric(const struct rt_opt *op, enum rt_opt_kind k, const struct tg_conf_value *v0,
                   struct rt_opt_err *err, double *x)
{
    struct tg_conf_value tv;
    char unit[16];
    const struct tg_conf_value *v = v0;
    struct tg_conf_error ce;
    if (v->type == TG_CONF_STRING && k != RT_OPT_INT && k != RT_OPT_NUMBER) {
        tv = *v;
        if (text_value(v->u.str.s, &tv, unit) != 0)
            return mismatch(op, k, v0, err, "a string in another form");
        v = &tv;
    }
    switch (k) {
    case RT_OPT_DURATION: {
        double bare = op->flags & RT_OF_MS ? 1e3 : 1e6;
        if (v->type == TG_CONF_INT && v->u.i >= 0 && v->u.i <= 1000000000000ll) {
            *x = (double)v->u.i * bare;
            return 0;
        }
        if (v->type == TG_CONF_FLOAT && v->u.f >= 0 && v->u.f <= 1e12) {
            *x = round(v->u.f * bare);
            return 0;
        }
        tg_time us;
        if (v->type == TG_CONF_QUANTITY && tg_conf_duration(v, &us, &ce) == TG_OK) {
            *x = (double)us;
            return 0;
        }
        break;
    }
    case RT_OPT_SIZE: {
        uint64_t b;
        if ((v->type == TG_CONF_INT || v->type == TG_CONF_QUANTITY) &&
            tg_conf_bytes(v, &b, &ce) == TG_OK) {
            *x = (double)b;
            return 0;
        }
        break;
    }
    case RT_OPT_RATE:
        if (v->type == TG_CONF_QUANTITY && tg_conf_rate(v, x, &ce) == TG_OK)
            return 0;
        break;
    case RT_OPT_INT:
        if (v->type == TG_CONF_INT) {
            *x = (double)v->u.i;
            return 0;
        }
        break;
    case RT_OPT_NUMBER:
        if ((v->type == TG_CONF_INT || v->type == TG_CONF_FLOAT) &&
            tg_conf_number(v, x, &ce) == TG_OK)
            return 0;
        break;
    default:
        break;
    }
    return mismatch(op, k, v0, err,
                    v != v0                                      ? "a string in another form"
                    : v->type == TG_CONF_QUANTITY                ? "a quantity with another unit"
                    : v->type == TG_CONF_INT && k == RT_OPT_RATE ? "a bare number (give a unit)"
                                                                 : found_type(v));
}

/* Set one value of kind k at p (size bytes) from v. */
static int set_scalar(const struct rt_opt *op, enum rt_opt_kind k, void *o, void *p, size_t size,
                      const struct tg_conf_value *v, struct rt_opt_err *err)
{
    char e[200];
    double x;
    const char *s = v->type == TG_CONF_STRING ? v->u.str.s : NULL;
    switch (k) {
    case RT_OPT_STRING:
    case RT_OPT_IFACE:
        if (s == NULL)
            return mismatch(op, k, v, err, found_type(v));
        if (strlen(s) >= size || (s[0] == '\0' && !(op->flags & RT_OF_EMPTY)) ||
            (k == RT_OPT_IFACE && s[0] != '\0' && !ifname_ok(s)))
            return mismatch(op, k, v, err, "a string in another form");
        snprintf(p, size, "%s", s);
        return 0;
    case RT_OPT_DURATION:
    case RT_OPT_SIZE:
    case RT_OPT_RATE:
    case RT_OPT_INT:
    case RT_OPT_NUMBER:
        if (numeric(op, k, v, err, &x) != 0)
            return -1;
        if (!in_range(op, x))
            return failf(err, v, "expected %s; this one is out of range",
                         expects(op, k, e, sizeof e));
        if (k == RT_OPT_INT) {
            uint64_t u = (uint64_t)x;
            if (((op->flags & RT_OF_POW2) && (u & (u - 1)) != 0) ||
                ((op->flags & RT_OF_TABLE_ID) && u >= 253 && u <= 255))
                return failf(err, v, "expected %s", expects(op, k, e, sizeof e));
        }
        if (k == RT_OPT_RATE || k == RT_OPT_NUMBER)
            *(double *)p = x;
        else
            store_uint(p, size, (uint64_t)x);
        return 0;
    case RT_OPT_BOOL: {
        if (v->type != TG_CONF_BOOL)
            return mismatch(op, k, v, err, found_type(v));
        store_bool(p, size, v->u.b != ((op->flags & RT_OF_NEGATE) != 0));
        return 0;
    }
    case RT_OPT_CHOICE: {
        int c;
        if (s == NULL)
            return mismatch(op, k, v, err, found_type(v));
        if (op->choice->parse(s, &c) != 0)
            return mismatch(op, k, v, err, "another name");
        *(int *)p = c;
        return 0;
    }
    case RT_OPT_ADDR: {
        struct tg_key_addr a;
        if (s == NULL)
            return mismatch(op, k, v, err, found_type(v));
        if (rt_addr_parse(s, &a) != 0 || ((op->flags & RT_OF_NOT_ANY) && rt_addr_is_any(&a)))
            return mismatch(op, k, v, err, "a string in another form");
        *(struct tg_key_addr *)p = a;
        return 0;
    }
    case RT_OPT_PREFIX: {
        struct rt_prefix pr;
        if (s == NULL)
            return mismatch(op, k, v, err, found_type(v));
        if (rt_prefix_parse(s, &pr, (op->flags & RT_OF_HOST) != 0) != 0 ||
            (op->max > 0 && pr.len > op->max))
            return mismatch(op, k, v, err, "a string in another form");
        *(struct rt_prefix *)p = pr;
        if (op->flags & RT_OF_SETS)
            *(bool *)((char *)o + op->set_off) = true;
        return 0;
    }
    case RT_OPT_IPV4: {
        char host[20];
        if (s == NULL)
            return mismatch(op, k, v, err, found_type(v));
        size_t n = strlen(s);
        if ((op->flags & RT_OF_PORT53) && n > 3 && strcmp(s + n - 3, ":53") == 0)
            n -= 3; /* the seed wrote 1.1.1.1:53 */
        if (n >= sizeof host)
            return mismatch(op, k, v, err, "a string in another form");
        memcpy(host, s, n);
        host[n] = '\0';
        if (rt_ipv4_parse(host, p) != 0)
            return mismatch(op, k, v, err, "a string in another form");
        return 0;
    }
    default:
        return failf(err, v, "this option takes no value");
    }
}

int rt_opt_set_value(const struct rt_opt *op, void *o, const struct tg_conf_value *v,
                     struct rt_opt_err *err)
{
    char *base = o;
    if (op->kind != RT_OPT_LIST)
        return set_scalar(op, op->kind, o, base + op->off, op->size, v, err);
    int *n = (int *)(base + op->count_off);
    size_t each = op->size / op->max_n;
    if (v->type != TG_CONF_ARRAY) { /* one value is a list of one */
        if (set_scalar(op, op->elem, o, base + op->off, each, v, err) != 0)
            return -1;
        *n = 1;
        return 0;
    }
    if (v->u.arr.n > op->max_n)
        return failf(err, v, "expected %s; this one has %zu", rt_opt_expects(op), v->u.arr.n);
    for (size_t i = 0; i < v->u.arr.n; i++)
        if (set_scalar(op, op->elem, o, base + op->off + i * each, each, &v->u.arr.v[i], err) != 0)
            return -1;
    *n = (int)v->u.arr.n;
    return 0;
}

int rt_opt_set_arg(const struct rt_opt *op, void *o, const char *arg, struct rt_opt_err *err)
{
    struct tg_conf_value v;
    memset(&v, 0, sizeof v);
    enum rt_opt_kind k = op->kind == RT_OPT_LIST ? op->elem : op->kind;
    if (k == RT_OPT_BOOL) {
        v.type = TG_CONF_BOOL;
        v.u.b = (op->flags & RT_OF_NEGATE) == 0;
    } else {
        v.type = TG_CONF_STRING;
        v.u.str.s = arg != NULL ? arg : "";
        v.u.str.len = strlen(v.u.str.s);
    }
    char unit[16];
    if ((k == RT_OPT_INT || k == RT_OPT_NUMBER) && text_value(v.u.str.s, &v, unit) != 0)
        return mismatch(op, k, NULL, err, "something else");
    char *base = o;
    int rc;
    if (op->kind == RT_OPT_LIST) {
        int *n = (int *)(base + op->count_off);
        size_t each = op->size / op->max_n;
        if (*n >= (int)op->max_n)
            return failf(err, NULL, "at most %u of them", op->max_n);
        rc = set_scalar(op, k, o, base + op->off + (size_t)*n * each, each, &v, err);
        if (rc == 0)
            (*n)++;
    } else {
        rc = set_scalar(op, k, o, base + op->off, op->size, &v, err);
    }
    if (rc == 0 && (op->flags & RT_OF_ENABLES))
        *(bool *)(base + op->set_off) = true;
    return rc;
}

/* ------------------------------------------------------------ across options */

static const struct rt_opt *find(unsigned cmd, const char *table, const char *key)
{
    for (size_t i = 0; i < rt_n_opts; i++)
        if ((rt_opts[i].cmds & cmd) && rt_opts[i].table != NULL &&
            strcmp(rt_opts[i].table, table) == 0 && strcmp(rt_opts[i].key, key) == 0)
            return &rt_opts[i];
    return NULL;
}

const char *rt_opts_check(unsigned cmd, const void *o, const struct rt_opt **op)
{
    if (cmd != RT_CMD_TUN && cmd != RT_CMD_CONNECT)
        return NULL;
    const struct rt_client_opts *c = o;
    if (cmd == RT_CMD_CONNECT && c->socks_port == 0 && c->http_port == 0) {
        *op = find(cmd, "proxy", "socks_port");
        return "say which proxy to serve: --socks PORT, --http-proxy PORT, or both";
    }
    if (cmd == RT_CMD_CONNECT && c->socks_port != 0 && c->socks_port == c->http_port) {
        *op = find(cmd, "proxy", "http_port");
        return "the SOCKS5 and HTTP proxies need ports of their own";
    }
    if (c->dns && c->n_dns == 0) {
        *op = find(cmd, "routing", "dns_servers");
        return "DNS through the tunnel needs at least one resolver";
    }
    if (c->auto_discover && c->n_ifaces > 0) {
        *op = find(cmd, "client", "auto_discover");
        return "use either interfaces (-i) or auto-discovery, not both";
    }
    return NULL;
}
