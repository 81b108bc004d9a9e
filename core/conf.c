/*
 * conf.c: the config/scenario text parser (conf.h).
 *
 * One pass of recursive descent over the bytes, stopping at the first error.
 * Everything the document keeps lives in an arena (a chain of blocks from the
 * caller's allocator) so tg_conf_free is a walk over blocks. While parsing,
 * the elements of the array or call being read sit on a temporary value stack
 * and the entries of the current table on a temporary entry list; each is
 * copied into the arena in one piece when it closes, so every list in the
 * document is a contiguous array without growing arena memory in place.
 *
 * Duplicate keys, tables and call argument names are found through one hash
 * set keyed by (kind, namespace, name), so a hostile input with many keys
 * costs linear time, not quadratic.
 */
#include "conf.h"

#include <float.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__)
#define FORMAT(f, a) __attribute__((format(printf, f, a)))
#else
#define FORMAT(f, a)
#endif

enum {
    MAX_DEPTH = 32,   /* arrays and calls inside each other */
    NUMBER_MAX = 256, /* characters of one number, underscores removed */
    SHOW_MAX = 40,    /* bytes of a key or word quoted in a message */
    BLOCK_MIN = 4096, /* arena block sizes */
    BLOCK_MAX = 1 << 20,
};

#define VALUE_FORMS                                                                                \
    "string in quotes, number, quantity like 30ms, true/false, [array] or name(args)"

/* ------------------------------------------------------------------ arena */

struct block {
    struct block *next;
    size_t cap; /* bytes after the header */
    size_t used;
};

#define ALIGN ((size_t) _Alignof(max_align_t))
#define HDR   ((sizeof(struct block) + ALIGN - 1) / ALIGN * ALIGN)

struct doc_impl {
    struct tg_conf_doc doc;    /* first, so tg_conf_free can cast back */
    struct tg_allocator alloc; /* a copy: the caller's may not outlive the parse;
                                  zeroed: the C library's malloc (alloc.h) */
    struct block *blocks;      /* the block being filled first */
    size_t next_cap;
};

static void *arena_alloc(struct doc_impl *d, size_t size)
{
    if (size > SIZE_MAX - HDR - ALIGN)
        return NULL;
    size = size == 0 ? ALIGN : (size + ALIGN - 1) / ALIGN * ALIGN;
    struct block *b = d->blocks;
    if (b == NULL || b->cap - b->used < size) {
        /* A large request gets a block of its own behind the current one, so
         * the space left in the current block is not wasted. */
        bool own = size > d->next_cap / 2 && b != NULL;
        size_t cap = own ? size : (d->next_cap > size ? d->next_cap : size);
        struct block *nb = tg_alloc_zeroed(&d->alloc, HDR + cap);
        if (nb == NULL)
            return NULL;
        nb->cap = cap;
        if (own) {
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            d->blocks = nb;
            if (d->next_cap < BLOCK_MAX)
                d->next_cap *= 2;
        }
        b = nb;
    }
    void *r = (char *)b + HDR + b->used;
    b->used += size;
    return r;
}

static void impl_free(struct doc_impl *d)
{
    struct tg_allocator copy = d->alloc; /* d itself is freed last */
    const struct tg_allocator *a = &copy;
    struct block *b = d->blocks;
    while (b != NULL) {
        struct block *next = b->next;
        tg_alloc_free(a, b);
        b = next;
    }
    tg_alloc_free(a, d);
}

/* ----------------------------------------------------------------- parser */

enum name_kind { NAME_KEY = 1, NAME_TABLE, NAME_ARG };

struct name_slot {
    const char *s; /* NULL: empty slot */
    uint32_t hash, ns, line, col;
    uint8_t kind;
    bool is_array; /* NAME_TABLE opened with [[ ]] */
};

struct parser {
    const char *s;
    size_t len, pos;
    uint32_t line;     /* of pos */
    size_t line_start; /* offset of the first byte of that line */
    unsigned depth;
    uint32_t n_calls;
    const struct tg_allocator *a;
    struct doc_impl *impl;
    struct tg_conf_error *err;

    struct tg_conf_value *vals; /* elements of the open arrays and calls */
    size_t n_vals, cap_vals;
    struct tg_conf_entry *ents; /* entries of the current table */
    size_t n_ents, cap_ents;
    struct tg_conf_section *secs;
    size_t n_secs, cap_secs;
    struct name_slot *names; /* open addressing, power-of-two size */
    size_t n_names, cap_names;
};

static int ch(const struct parser *p, size_t at)
{
    return at < p->len ? (unsigned char)p->s[at] : -1;
}

static int cur(const struct parser *p)
{
    return ch(p, p->pos);
}

static bool is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static bool is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_bare(int c) /* a character of a bare key */
{
    return is_alpha(c) || is_digit(c) || c == '_' || c == '-';
}

static bool is_ident(int c) /* a character of a call or argument name */
{
    return is_alpha(c) || is_digit(c) || c == '_';
}

static int hex_value(int c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_radix_digit(int c, unsigned radix)
{
    int v = hex_value(c);
    return v >= 0 && (unsigned)v < radix;
}

static bool at_newline(const struct parser *p, size_t at)
{
    int c = ch(p, at);
    return c == '\n' || (c == '\r' && ch(p, at + 1) == '\n');
}

static void take_newline(struct parser *p)
{
    if (p->s[p->pos] == '\r')
        p->pos++;
    p->pos++;
    if (p->line < UINT32_MAX)
        p->line++;
    p->line_start = p->pos;
}

static uint32_t col_at(const struct parser *p, size_t at)
{
    if (at < p->line_start)
        return 1;
    size_t c = at - p->line_start + 1;
    return c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
}

typedef char found_buf[32];
typedef char show_buf[SHOW_MAX + 4];

/* What sits at `at`, for "found ..." in messages. */
static const char *describe(const struct parser *p, size_t at, found_buf buf)
{
    int c = ch(p, at);
    if (c < 0)
        return "end of input";
    if (at_newline(p, at))
        return "end of line";
    if (c == '\r')
        return "a carriage return without line feed";
    if (c == '\t')
        return "a tab";
    if (c == ' ')
        return "a space";
    if (c > 0x20 && c < 0x7f)
        snprintf(buf, sizeof(found_buf), "'%c'", c);
    else
        snprintf(buf, sizeof(found_buf), "byte 0x%02x", (unsigned)c);
    return buf;
}

/* Up to SHOW_MAX bytes of s (cut on a UTF-8 boundary, "..." when cut), with
 * control bytes replaced by '?'. */
static const char *show(const char *s, size_t n, show_buf buf)
{
    size_t k = n < SHOW_MAX ? n : SHOW_MAX;
    if (k < n)
        while (k > 0 && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
    for (size_t i = 0; i < k; i++) {
        unsigned char c = (unsigned char)s[i];
        buf[i] = c < 0x20 || c == 0x7f ? '?' : s[i];
    }
    if (k < n)
        memcpy(buf + k, "...", 4);
    else
        buf[k] = '\0';
    return buf;
}

static int fail(struct parser *p, size_t at, const char *fmt, ...) FORMAT(3, 4);

static int fail(struct parser *p, size_t at, const char *fmt, ...)
{
    va_list ap;
    p->err->line = p->line;
    p->err->col = col_at(p, at);
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return TG_ERR_PARSE;
}

static int nomem(struct parser *p)
{
    p->err->line = 0;
    p->err->col = 0;
    snprintf(p->err->msg, sizeof p->err->msg, "out of memory");
    return TG_ERR_NOMEM;
}

/* A temporary list doubled in size: returns the new storage (old contents
 * copied, old storage freed) or NULL. */
static void *grow(struct parser *p, void *old, size_t n, size_t *cap, size_t elem)
{
    size_t ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / elem)
        return NULL;
    void *nv = tg_alloc_zeroed(p->a, ncap * elem);
    if (nv == NULL)
        return NULL;
    if (n > 0)
        memcpy(nv, old, n * elem);
    tg_alloc_free(p->a, old);
    *cap = ncap;
    return nv;
}

static char *arena_strdup(struct parser *p, const char *s, size_t n)
{
    char *d = arena_alloc(p->impl, n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---------------------------------------------------------- the name set */

static uint32_t name_hash(uint8_t kind, uint32_t ns, const char *s)
{
    uint32_t h = 2166136261u;
    h = (h ^ kind) * 16777619u;
    for (int i = 0; i < 4; i++)
        h = (h ^ ((ns >> (8 * i)) & 0xff)) * 16777619u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* Looks up (kind, ns, s): 1 and *found when present, else inserts it with
 * line/col and returns 0; TG_ERR_NOMEM. `s` must live in the arena. */
static int remember(struct parser *p, uint8_t kind, uint32_t ns, const char *s, uint32_t line,
                    uint32_t col, bool is_array, struct name_slot **found)
{
    if ((p->n_names + 1) * 2 > p->cap_names) {
        size_t ncap = p->cap_names ? p->cap_names * 2 : 64;
        if (ncap > SIZE_MAX / sizeof(struct name_slot))
            return TG_ERR_NOMEM;
        struct name_slot *nt = tg_alloc_zeroed(p->a, ncap * sizeof *nt);
        if (nt == NULL)
            return TG_ERR_NOMEM;
        for (size_t i = 0; i < p->cap_names; i++) {
            if (p->names[i].s == NULL)
                continue;
            size_t j = p->names[i].hash & (ncap - 1);
            while (nt[j].s != NULL)
                j = (j + 1) & (ncap - 1);
            nt[j] = p->names[i];
        }
        tg_alloc_free(p->a, p->names);
        p->names = nt;
        p->cap_names = ncap;
    }
    uint32_t h = name_hash(kind, ns, s);
    size_t mask = p->cap_names - 1;
    size_t i = h & mask;
    for (; p->names[i].s != NULL; i = (i + 1) & mask) {
        struct name_slot *e = &p->names[i];
        if (e->hash == h && e->kind == kind && e->ns == ns && strcmp(e->s, s) == 0) {
            *found = e;
            return 1;
        }
    }
    p->names[i] = (struct name_slot){
        .s = s, .hash = h, .ns = ns, .line = line, .col = col, .kind = kind, .is_array = is_array};
    p->n_names++;
    return 0;
}

/* -------------------------------------------------------------- skipping */

static void skip_blank(struct parser *p)
{
    while (cur(p) == ' ' || cur(p) == '\t')
        p->pos++;
}

static void skip_comment(struct parser *p)
{
    if (cur(p) != '#')
        return;
    while (p->pos < p->len && p->s[p->pos] != '\n' && !at_newline(p, p->pos))
        p->pos++;
}

/* Inside brackets and parentheses: blanks, comments and newlines. */
static void skip_space(struct parser *p)
{
    for (;;) {
        skip_blank(p);
        skip_comment(p);
        if (!at_newline(p, p->pos))
            return;
        take_newline(p);
    }
}

/* After a statement: blanks, a comment, then the end of the line. */
static int end_line(struct parser *p, const char *after)
{
    found_buf f;
    skip_blank(p);
    skip_comment(p);
    if (p->pos >= p->len)
        return TG_OK;
    if (!at_newline(p, p->pos))
        return fail(p, p->pos, "expected end of line after %s, found %s", after,
                    describe(p, p->pos, f));
    take_newline(p);
    return TG_OK;
}

/* --------------------------------------------------------------- strings */

/* Bytes of the valid UTF-8 sequence at s (at most `avail`), or 0. */
static size_t utf8_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    return n;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* The escape at s[*i] == '\\' inside a string ending at `close`; appends its
 * bytes to out. Every escape is at least as long as what it decodes to, so
 * the output never outgrows the raw text. */
static int decode_escape(struct parser *p, size_t *i, size_t close, char *out, size_t *n)
{
    size_t at = *i;
    found_buf f;
    int e = at + 1 < close ? ch(p, at + 1) : -1;
    static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
    const char *hit = e > 0 ? strchr(from, e) : NULL;
    if (hit != NULL) {
        out[(*n)++] = to[hit - from];
        *i = at + 2;
        return TG_OK;
    }
    if (e != 'u' && e != 'U') {
        if (e > 0x20 && e < 0x7f)
            return fail(p, at,
                        "unknown escape \\%c in string (expected \\\" \\\\ \\b \\f \\n \\r \\t "
                        "\\uXXXX or \\UXXXXXXXX)",
                        (char)e);
        return fail(p, at, "unknown escape in string: '\\' followed by %s", describe(p, at + 1, f));
    }
    size_t digits = e == 'u' ? 4 : 8;
    uint32_t cp = 0;
    for (size_t k = 0; k < digits; k++) {
        size_t j = at + 2 + k;
        int h = j < close ? hex_value(ch(p, j)) : -1;
        if (h < 0)
            return fail(p, j, "expected %zu hex digits after \\%c in string, found %s", digits,
                        (char)e, j < close ? describe(p, j, f) : "end of string");
        cp = cp << 4 | (uint32_t)h;
    }
    if (cp == 0)
        return fail(p, at, "\\%c escape of NUL is not allowed in strings", (char)e);
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return fail(p, at, "escape \\%c%.*s is not a Unicode scalar value", (char)e, (int)digits,
                    p->s + at + 2);
    *n += utf8_put(out + *n, cp);
    *i = at + 2 + digits;
    return TG_OK;
}

/* A basic "..." or literal '...' string starting at the quote at p->pos.
 * Strings stay on one line. */
static int parse_string(struct parser *p, const char **out, size_t *out_len)
{
    size_t open = p->pos;
    char q = p->s[open];
    size_t i = open + 1;
    if (ch(p, i) == q && ch(p, i + 1) == q)
        return fail(p, open, "multi-line strings (%c%c%c) are not supported", q, q, q);
    for (; i < p->len; i++) {
        char c = p->s[i];
        if (c == q || c == '\n')
            break;
        if (c == '\\' && q == '"' && i + 1 < p->len && p->s[i + 1] != '\n')
            i++;
    }
    if (i >= p->len || p->s[i] != q)
        return fail(p, open, "unterminated string: expected a closing %c before the end of the %s",
                    q, i >= p->len ? "input" : "line");
    size_t close = i;
    char *buf = arena_alloc(p->impl, close - open); /* raw length + 1 */
    if (buf == NULL)
        return nomem(p);
    size_t n = 0;
    const unsigned char *u = (const unsigned char *)p->s;
    for (i = open + 1; i < close;) {
        unsigned char c = u[i];
        if (c == '\\' && q == '"') {
            int rc = decode_escape(p, &i, close, buf, &n);
            if (rc != TG_OK)
                return rc;
        } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
            return fail(p, i, "control character 0x%02x in string (write it as an escape)", c);
        } else if (c >= 0x80) {
            size_t k = utf8_len(u + i, close - i);
            if (k == 0)
                return fail(p, i, "invalid UTF-8 in string (byte 0x%02x)", c);
            memcpy(buf + n, p->s + i, k);
            n += k;
            i += k;
        } else {
            buf[n++] = (char)c;
            i++;
        }
    }
    buf[n] = '\0';
    p->pos = close + 1;
    *out = buf;
    *out_len = n;
    return TG_OK;
}

/* --------------------------------------------------------------- numbers */

/* Digits of `radix` with single underscores between them, at least one. */
static int read_digits(struct parser *p, unsigned radix, size_t *ndigits)
{
    found_buf f;
    size_t nd = 0;
    if (!is_radix_digit(cur(p), radix))
        return fail(p, p->pos, "expected a digit, found %s", describe(p, p->pos, f));
    for (;;) {
        int c = cur(p);
        if (is_radix_digit(c, radix)) {
            nd++;
            p->pos++;
        } else if (c == '_') {
            if (!is_radix_digit(ch(p, p->pos + 1), radix))
                return fail(p, p->pos, "'_' in a number must sit between two digits");
            p->pos++;
        } else
            break;
    }
    if (ndigits != NULL)
        *ndigits = nd;
    return TG_OK;
}

/* The number text s[start, end) (sign, digits, '_', '.', exponent) as a double. */
static int to_double(struct parser *p, size_t start, size_t end, double *x)
{
    char buf[NUMBER_MAX + 1];
    show_buf sh;
    size_t n = 0;
    for (size_t i = start; i < end; i++) {
        if (p->s[i] == '_')
            continue;
        if (n == NUMBER_MAX)
            return fail(p, start, "number too long (more than %d characters)", NUMBER_MAX);
        buf[n++] = p->s[i];
    }
    buf[n] = '\0';
    char *e;
    double v = strtod(buf, &e);
    if (e != buf + n) {
        /* strtod follows the C locale's decimal point; a host that called
         * setlocale() may have changed it. */
        const struct lconv *lc = localeconv();
        char dp = lc != NULL && lc->decimal_point != NULL && lc->decimal_point[0] != '\0'
                      ? lc->decimal_point[0]
                      : '.';
        for (size_t i = 0; i < n; i++)
            if (buf[i] == '.')
                buf[i] = dp;
        v = strtod(buf, &e);
        if (e != buf + n)
            return fail(p, start, "cannot read number %s", show(p->s + start, end - start, sh));
    }
    if (!(v >= -DBL_MAX && v <= DBL_MAX))
        return fail(p, start, "number %s is out of range", show(p->s + start, end - start, sh));
    *x = v;
    return TG_OK;
}

/* Integer text s[start, end) (optional sign, digits of radix, '_') into an
 * int64_t. */
static int to_int(struct parser *p, size_t start, size_t end, unsigned radix, int64_t *out)
{
    show_buf sh;
    size_t i = start;
    bool neg = false;
    if (p->s[i] == '+' || p->s[i] == '-')
        neg = p->s[i++] == '-';
    if (radix != 10)
        i += 2; /* 0x 0o 0b */
    uint64_t mag = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < end; i++) {
        if (p->s[i] == '_')
            continue;
        uint64_t d = (uint64_t)hex_value((unsigned char)p->s[i]);
        if (mag > (limit - d) / radix)
            return fail(p, start, "integer %s is out of the 64-bit range",
                        show(p->s + start, end - start, sh));
        mag = mag * radix + d;
    }
    if (!neg)
        *out = (int64_t)mag;
    else if (mag == (uint64_t)INT64_MAX + 1)
        *out = INT64_MIN;
    else
        *out = -(int64_t)mag;
    return TG_OK;
}

static int parse_number(struct parser *p, struct tg_conf_value *v)
{
    found_buf f;
    show_buf sh;
    size_t start = p->pos;
    bool is_signed = cur(p) == '+' || cur(p) == '-';
    if (is_signed)
        p->pos++;
    if (!is_digit(cur(p)))
        return fail(p, p->pos, "expected a digit after '%c', found %s", p->s[start],
                    describe(p, p->pos, f));

    int x = ch(p, p->pos + 1);
    unsigned radix = x == 'x' ? 16 : x == 'o' ? 8 : x == 'b' ? 2 : 10;
    if (cur(p) == '0' && radix != 10 && is_radix_digit(ch(p, p->pos + 2), radix)) {
        if (is_signed)
            return fail(p, start, "a sign is not allowed before a 0%c number", (char)x);
        p->pos += 2;
        int rc = read_digits(p, radix, NULL);
        if (rc != TG_OK)
            return rc;
        if (is_alpha(cur(p)) || cur(p) == '%')
            return fail(p, p->pos,
                        "expected the end of the number, found %s "
                        "(a unit can only follow a decimal number)",
                        describe(p, p->pos, f));
        v->type = TG_CONF_INT;
        return to_int(p, start, p->pos, radix, &v->u.i);
    }

    size_t int_start = p->pos, nd;
    int rc = read_digits(p, 10, &nd);
    if (rc != TG_OK)
        return rc;
    if (p->s[int_start] == '0' && nd > 1)
        return fail(p, int_start, "leading zeros are not allowed in numbers, found %s",
                    show(p->s + start, p->pos - start, sh));
    bool is_float = false;
    if (cur(p) == '.') {
        if (!is_digit(ch(p, p->pos + 1)))
            return fail(p, p->pos + 1, "expected a digit after '.' in a number, found %s",
                        describe(p, p->pos + 1, f));
        p->pos++;
        if ((rc = read_digits(p, 10, NULL)) != TG_OK)
            return rc;
        is_float = true;
    }
    /* An 'e' is an exponent only when digits follow; otherwise it starts a
     * unit word. */
    int e1 = ch(p, p->pos + 1);
    if ((cur(p) == 'e' || cur(p) == 'E') &&
        (is_digit(e1) || ((e1 == '+' || e1 == '-') && is_digit(ch(p, p->pos + 2))))) {
        p->pos += is_digit(e1) ? 1 : 2;
        if ((rc = read_digits(p, 10, NULL)) != TG_OK)
            return rc;
        is_float = true;
    }
    size_t end = p->pos;
    if (is_alpha(cur(p)) || cur(p) == '%') {
        size_t u = p->pos;
        if (cur(p) == '%')
            p->pos++;
        else
            while (is_alpha(cur(p)))
                p->pos++;
        const char *unit = arena_strdup(p, p->s + u, p->pos - u);
        if (unit == NULL)
            return nomem(p);
        v->type = TG_CONF_QUANTITY;
        v->u.q.unit = unit;
        return to_double(p, start, end, &v->u.q.num);
    }
    if (is_float) {
        v->type = TG_CONF_FLOAT;
        return to_double(p, start, end, &v->u.f);
    }
    v->type = TG_CONF_INT;
    return to_int(p, start, end, 10, &v->u.i);
}

/* ------------------------------------------------------- arrays and calls */

static int parse_value(struct parser *p, struct tg_conf_value *v);

static int push_value(struct parser *p, const struct tg_conf_value *v)
{
    if (p->n_vals == p->cap_vals) {
        void *nv = grow(p, p->vals, p->n_vals, &p->cap_vals, sizeof *p->vals);
        if (nv == NULL)
            return nomem(p);
        p->vals = nv;
    }
    p->vals[p->n_vals++] = *v;
    return TG_OK;
}

/* Moves the values pushed since `base` into the arena. */
static int pop_values(struct parser *p, size_t base, const struct tg_conf_value **out, size_t *n)
{
    *n = p->n_vals - base;
    *out = NULL;
    if (*n > 0) {
        struct tg_conf_value *copy = arena_alloc(p->impl, *n * sizeof *copy);
        if (copy == NULL)
            return nomem(p);
        memcpy(copy, p->vals + base, *n * sizeof *copy);
        *out = copy;
    }
    p->n_vals = base;
    return TG_OK;
}

static int enter(struct parser *p)
{
    if (p->depth >= MAX_DEPTH)
        return fail(p, p->pos, "nesting too deep: more than %d levels of arrays and calls",
                    MAX_DEPTH);
    p->depth++;
    return TG_OK;
}

/* After an element: ',' or `close`. Returns 1 when the list closed. */
static int after_element(struct parser *p, char close, const char *what, uint32_t open_line)
{
    found_buf f;
    skip_space(p);
    if (cur(p) == ',') {
        p->pos++;
        return 0;
    }
    if (cur(p) == close) {
        p->pos++;
        return 1;
    }
    if (p->pos >= p->len)
        return fail(p, p->pos,
                    "expected ',' or '%c' after %s, found end of input (opened at line %u)", close,
                    what, open_line);
    return fail(p, p->pos, "expected ',' or '%c' after %s, found %s", close, what,
                describe(p, p->pos, f));
}

static int parse_array(struct parser *p, struct tg_conf_value *v)
{
    int rc = enter(p);
    if (rc != TG_OK)
        return rc;
    uint32_t open_line = p->line;
    size_t base = p->n_vals;
    p->pos++; /* '[' */
    for (;;) {
        skip_space(p);
        if (cur(p) == ']') {
            p->pos++;
            break;
        }
        struct tg_conf_value e;
        if ((rc = parse_value(p, &e)) != TG_OK || (rc = push_value(p, &e)) != TG_OK)
            return rc;
        rc = after_element(p, ']', "an array element", open_line);
        if (rc < 0)
            return rc;
        if (rc == 1)
            break;
    }
    p->depth--;
    v->type = TG_CONF_ARRAY;
    return pop_values(p, base, &v->u.arr.v, &v->u.arr.n);
}

/* name(arg, name=arg, ...); p->pos at '(' and the name at s[name_start, pos). */
static int parse_call(struct parser *p, struct tg_conf_value *v, size_t name_start)
{
    show_buf sh;
    int rc = enter(p);
    if (rc != TG_OK)
        return rc;
    const char *fn = arena_strdup(p, p->s + name_start, p->pos - name_start);
    if (fn == NULL)
        return nomem(p);
    uint32_t id = p->n_calls++, open_line = p->line;
    size_t base = p->n_vals;
    p->pos++; /* '(' */
    for (;;) {
        skip_space(p);
        if (cur(p) == ')') {
            p->pos++;
            break;
        }
        const char *name = NULL;
        if (is_alpha(cur(p)) || cur(p) == '_') {
            size_t k = p->pos, ns = p->pos;
            while (is_ident(ch(p, k)))
                k++;
            size_t ne = k;
            while (ch(p, k) == ' ' || ch(p, k) == '\t')
                k++;
            if (ch(p, k) == '=') {
                char *nm = arena_strdup(p, p->s + ns, ne - ns);
                if (nm == NULL)
                    return nomem(p);
                struct name_slot *prev;
                rc = remember(p, NAME_ARG, id, nm, p->line, col_at(p, ns), false, &prev);
                if (rc < 0)
                    return nomem(p);
                if (rc == 1)
                    return fail(p, ns,
                                "duplicate argument %s in %.24s() (first at line %u, column %u)",
                                show(nm, ne - ns, sh), fn, prev->line, prev->col);
                name = nm;
                p->pos = k + 1;
                skip_space(p);
            }
        }
        struct tg_conf_value e;
        if ((rc = parse_value(p, &e)) != TG_OK)
            return rc;
        e.name = name;
        if ((rc = push_value(p, &e)) != TG_OK)
            return rc;
        rc = after_element(p, ')', "a call argument", open_line);
        if (rc < 0)
            return rc;
        if (rc == 1)
            break;
    }
    p->depth--;
    v->type = TG_CONF_CALL;
    v->u.call.fn = fn;
    return pop_values(p, base, &v->u.call.args, &v->u.call.n);
}

/* A word where a value belongs: true, false, or the name of a call. */
static int parse_word(struct parser *p, struct tg_conf_value *v)
{
    show_buf sh;
    size_t start = p->pos;
    while (is_ident(cur(p)))
        p->pos++;
    size_t n = p->pos - start;
    if (cur(p) == '(')
        return parse_call(p, v, start);
    if (n == 4 && memcmp(p->s + start, "true", 4) == 0) {
        v->type = TG_CONF_BOOL;
        v->u.b = true;
        return TG_OK;
    }
    if (n == 5 && memcmp(p->s + start, "false", 5) == 0) {
        v->type = TG_CONF_BOOL;
        v->u.b = false;
        return TG_OK;
    }
    size_t end = start;
    while (is_bare(ch(p, end)))
        end++;
    return fail(p, start, "expected a value (" VALUE_FORMS "), found %s",
                show(p->s + start, end - start, sh));
}

static int parse_value(struct parser *p, struct tg_conf_value *v)
{
    found_buf f;
    memset(v, 0, sizeof *v);
    v->line = p->line;
    v->col = col_at(p, p->pos);
    int c = cur(p);
    if (c == '"' || c == '\'') {
        v->type = TG_CONF_STRING;
        return parse_string(p, &v->u.str.s, &v->u.str.len);
    }
    if (c == '[')
        return parse_array(p, v);
    if (c == '{')
        return fail(p, p->pos, "inline tables are not supported: use a [table] header");
    if (c == '+' || c == '-' || is_digit(c))
        return parse_number(p, v);
    if (is_alpha(c) || c == '_')
        return parse_word(p, v);
    if (c < 0 || c == '#' || at_newline(p, p->pos))
        return fail(p, p->pos, "expected a value, found %s",
                    c == '#' ? "a comment" : describe(p, p->pos, f));
    return fail(p, p->pos, "expected a value (" VALUE_FORMS "), found %s", describe(p, p->pos, f));
}

/* ---------------------------------------------------- tables and entries */

static int close_section(struct parser *p)
{
    struct tg_conf_section *sec = &p->secs[p->n_secs - 1];
    if (p->n_ents > 0) {
        struct tg_conf_entry *copy = arena_alloc(p->impl, p->n_ents * sizeof *copy);
        if (copy == NULL)
            return nomem(p);
        memcpy(copy, p->ents, p->n_ents * sizeof *copy);
        sec->entries = copy;
        sec->n_entries = p->n_ents;
    }
    p->n_ents = 0;
    return TG_OK;
}

static int open_section(struct parser *p, const char *name, bool is_array, uint32_t line)
{
    if (p->n_secs == p->cap_secs) {
        void *nv = grow(p, p->secs, p->n_secs, &p->cap_secs, sizeof *p->secs);
        if (nv == NULL)
            return nomem(p);
        p->secs = nv;
    }
    p->secs[p->n_secs++] =
        (struct tg_conf_section){.name = name, .is_array_element = is_array, .line = line};
    return TG_OK;
}

static uint32_t section_ns(const struct parser *p)
{
    size_t i = p->n_secs - 1;
    return i > UINT32_MAX ? UINT32_MAX : (uint32_t)i;
}

/* [name] or [[name]]: bare parts joined by dots, blanks around them allowed. */
static int parse_header(struct parser *p)
{
    found_buf f;
    show_buf sh;
    size_t open = p->pos;
    uint32_t line = p->line;
    bool is_array = ch(p, open + 1) == '[';
    p->pos += is_array ? 2 : 1;
    skip_blank(p);
    size_t name_start = p->pos, name_end = p->pos;
    bool first = true;
    for (;;) {
        int c = cur(p);
        if (c == '"' || c == '\'')
            return fail(p, p->pos, "quoted table names are not supported (use A-Za-z0-9_-)");
        if (!is_bare(c))
            return fail(p, p->pos, "expected a table name after '%s', found %s",
                        first ? (is_array ? "[[" : "[") : ".", describe(p, p->pos, f));
        while (is_bare(cur(p)))
            p->pos++;
        name_end = p->pos;
        skip_blank(p);
        if (cur(p) != '.')
            break;
        p->pos++;
        skip_blank(p);
        first = false;
    }
    /* The name without its blanks: bare parts hold none. */
    char *name = arena_alloc(p->impl, name_end - name_start + 1);
    if (name == NULL)
        return nomem(p);
    size_t n = 0;
    for (size_t i = name_start; i < name_end; i++)
        if (p->s[i] != ' ' && p->s[i] != '\t')
            name[n++] = p->s[i];
    name[n] = '\0';

    if (is_array ? !(cur(p) == ']' && ch(p, p->pos + 1) == ']') : cur(p) != ']')
        return fail(p, p->pos, "expected '%s' to close %s%s, found %s", is_array ? "]]" : "]",
                    is_array ? "[[" : "[", show(name, n, sh), describe(p, p->pos, f));
    p->pos += is_array ? 2 : 1;

    struct name_slot *prev;
    int rc = remember(p, NAME_TABLE, 0, name, line, col_at(p, open), is_array, &prev);
    if (rc < 0)
        return nomem(p);
    if (rc == 1) {
        if (!is_array && !prev->is_array)
            return fail(p, open, "table [%s] defined twice (first at line %u)", show(name, n, sh),
                        prev->line);
        if (!is_array)
            return fail(p, open,
                        "table [%s] already defined as an array of tables [[%s]] (line %u)",
                        show(name, n, sh), sh, prev->line);
        if (!prev->is_array)
            return fail(p, open, "[[%s]] conflicts with table [%s] (line %u)", show(name, n, sh),
                        sh, prev->line);
    }
    if ((rc = close_section(p)) != TG_OK)
        return rc;
    if ((rc = open_section(p, name, is_array, line)) != TG_OK)
        return rc;
    return end_line(p, "a table header");
}

static int parse_key(struct parser *p, const char **key, size_t *len)
{
    int c = cur(p);
    if (c == '"' || c == '\'')
        return parse_string(p, key, len);
    size_t start = p->pos;
    while (is_bare(cur(p)))
        p->pos++;
    *len = p->pos - start;
    *key = arena_strdup(p, p->s + start, *len);
    return *key == NULL ? nomem(p) : TG_OK;
}

static int parse_entry(struct parser *p)
{
    found_buf f;
    show_buf sh;
    size_t kpos = p->pos;
    struct tg_conf_entry e = {.line = p->line, .col = col_at(p, p->pos)};
    size_t klen;
    int rc = parse_key(p, &e.key, &klen);
    if (rc != TG_OK)
        return rc;
    skip_blank(p);
    if (cur(p) == '.')
        return fail(p, p->pos, "dotted keys are not supported: use a [table] header");
    if (cur(p) != '=')
        return fail(p, p->pos, "expected '=' after key \"%s\", found %s", show(e.key, klen, sh),
                    describe(p, p->pos, f));
    struct name_slot *prev;
    rc = remember(p, NAME_KEY, section_ns(p), e.key, e.line, e.col, false, &prev);
    if (rc < 0)
        return nomem(p);
    if (rc == 1)
        return fail(p, kpos, "duplicate key \"%s\" (first at line %u)", show(e.key, klen, sh),
                    prev->line);
    p->pos++;
    skip_blank(p);
    if ((rc = parse_value(p, &e.value)) != TG_OK)
        return rc;
    if (p->n_ents == p->cap_ents) {
        void *nv = grow(p, p->ents, p->n_ents, &p->cap_ents, sizeof *p->ents);
        if (nv == NULL)
            return nomem(p);
        p->ents = nv;
    }
    p->ents[p->n_ents++] = e;
    return end_line(p, "a value");
}

static int parse_document(struct parser *p)
{
    found_buf f;
    int rc = open_section(p, "", false, 0);
    if (rc != TG_OK)
        return rc;
    if (p->len >= 3 && memcmp(p->s, "\xef\xbb\xbf", 3) == 0) /* a UTF-8 byte order mark */
        p->pos = p->line_start = 3;
    for (;;) {
        skip_blank(p);
        int c = cur(p);
        if (c < 0)
            break;
        if (c == '[')
            rc = parse_header(p);
        else if (is_bare(c) || c == '"' || c == '\'')
            rc = parse_entry(p);
        else if (c == '#' || at_newline(p, p->pos))
            rc = end_line(p, "a comment");
        else
            rc = fail(p, p->pos, "expected a key, a [table] header or a comment, found %s",
                      describe(p, p->pos, f));
        if (rc != TG_OK)
            return rc;
    }
    if ((rc = close_section(p)) != TG_OK)
        return rc;
    struct tg_conf_section *secs = arena_alloc(p->impl, p->n_secs * sizeof *secs);
    if (secs == NULL)
        return nomem(p);
    memcpy(secs, p->secs, p->n_secs * sizeof *secs);
    p->impl->doc.sections = secs;
    p->impl->doc.n_sections = p->n_secs;
    return TG_OK;
}

int tg_conf_parse(const char *text, size_t len, const struct tg_allocator *a,
                  struct tg_conf_doc **out, struct tg_conf_error *err)
{
    struct tg_conf_error scratch;
    if (err == NULL)
        err = &scratch;
    memset(err, 0, sizeof *err);
    if (out == NULL || (text == NULL && len > 0)) {
        snprintf(err->msg, sizeof err->msg, "invalid arguments");
        return TG_ERR_INVAL;
    }
    *out = NULL;
    struct parser p = {.s = text ? text : "", .len = len, .line = 1, .a = a, .err = err};
    p.impl = tg_alloc_zeroed(a, sizeof *p.impl);
    if (p.impl == NULL)
        return nomem(&p);
    if (a != NULL)
        p.impl->alloc = *a;
    /* A first block about the size the text will need; later ones double. */
    size_t guess = len < BLOCK_MAX / 2 ? len * 2 : BLOCK_MAX;
    p.impl->next_cap = guess < BLOCK_MIN ? BLOCK_MIN : guess;

    int rc = parse_document(&p);
    tg_alloc_free(a, p.vals);
    tg_alloc_free(a, p.ents);
    tg_alloc_free(a, p.secs);
    tg_alloc_free(a, p.names);
    if (rc != TG_OK) {
        impl_free(p.impl);
        return rc;
    }
    *out = &p.impl->doc;
    return TG_OK;
}

void tg_conf_free(struct tg_conf_doc *doc)
{
    if (doc != NULL)
        impl_free((struct doc_impl *)doc);
}

/* ------------------------------------------------------------ converters */

const char *tg_conf_type_name(enum tg_conf_type t)
{
    /* fixed-width: plain read-only data, no table of pointers */
    static const char names[][12] = {
        [TG_CONF_STRING] = "string", [TG_CONF_INT] = "integer",   [TG_CONF_FLOAT] = "float",
        [TG_CONF_BOOL] = "boolean",  [TG_CONF_QUANTITY] = "quantity", [TG_CONF_ARRAY] = "array",
        [TG_CONF_CALL] = "call",
    };
    unsigned i = (unsigned)t;
    return i < sizeof names / sizeof names[0] && names[i][0] != '\0' ? names[i] : "unknown value";
}

static const char *unit_of(const struct tg_conf_value *v)
{
    return v->u.q.unit != NULL ? v->u.q.unit : "";
}

/* The value as a message shows it: `integer 30`, `quantity 5xyz`, ... */
static const char *describe_value(const struct tg_conf_value *v, char *buf, size_t cap)
{
    show_buf sh;
    switch (v->type) {
    case TG_CONF_STRING:
        snprintf(buf, cap, "string \"%s\"",
                 v->u.str.s != NULL ? show(v->u.str.s, v->u.str.len, sh) : "");
        break;
    case TG_CONF_INT:
        snprintf(buf, cap, "integer %lld", (long long)v->u.i);
        break;
    case TG_CONF_FLOAT:
        snprintf(buf, cap, "float %g", v->u.f);
        break;
    case TG_CONF_BOOL:
        snprintf(buf, cap, "%s", v->u.b ? "true" : "false");
        break;
    case TG_CONF_QUANTITY:
        snprintf(buf, cap, "quantity %g%.16s", v->u.q.num, unit_of(v));
        break;
    case TG_CONF_ARRAY:
        snprintf(buf, cap, "array of %zu values", v->u.arr.n);
        break;
    case TG_CONF_CALL:
        snprintf(buf, cap, "call %.24s(...)", v->u.call.fn != NULL ? v->u.call.fn : "");
        break;
    default:
        snprintf(buf, cap, "%s", tg_conf_type_name(v->type));
        break;
    }
    return buf;
}

static int conv_fail(const struct tg_conf_value *v, struct tg_conf_error *err, const char *fmt, ...)
    FORMAT(3, 4);

static int conv_fail(const struct tg_conf_value *v, struct tg_conf_error *err, const char *fmt, ...)
{
    va_list ap;
    if (err == NULL)
        return TG_ERR_PARSE;
    err->line = v->line;
    err->col = v->col;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return TG_ERR_PARSE;
}

int tg_conf_fail(const struct tg_conf_value *v, struct tg_conf_error *err, const char *expected)
{
    char d[96];
    if (v == NULL)
        return TG_ERR_INVAL;
    return conv_fail(v, err, "expected %s, found %s", expected != NULL ? expected : "another value",
                     describe_value(v, d, sizeof d));
}

/* Names held in the table itself: a table of pointers would need
 * relocating at load time and so live in writable memory. */
struct unit {
    char name[8];
    double factor;
};

static const struct unit duration_units[] = {{"us", 1},   {"ms", 1e3},   {"s", 1e6},
                                             {"m", 60e6}, {"h", 3600e6}, {"", 0}};
static const struct unit rate_units[] = {{"bit", 1},    {"kbit", 1e3}, {"Mbit", 1e6},
                                         {"Gbit", 1e9}, {"bps", 1},    {"kbps", 1e3},
                                         {"Mbps", 1e6}, {"Gbps", 1e9}, {"", 0}};
static const struct unit byte_units[] = {
    {"B", 1},        {"KB", 1e3},        {"MB", 1e6},           {"GB", 1e9},
    {"KiB", 1024.0}, {"MiB", 1048576.0}, {"GiB", 1073741824.0}, {"", 0}};

static const struct unit *find_unit(const struct unit *t, const char *name)
{
    for (; t->name[0] != '\0'; t++)
        if (strcmp(t->name, name) == 0)
            return t;
    return NULL;
}

#define DURATION_EXPECTED "a duration (a number with us, ms, s, m or h, e.g. 30ms)"
#define RATE_EXPECTED                                                                              \
    "a rate (a number with bit, kbit, Mbit, Gbit, bps, kbps, Mbps or Gbps, e.g. 50Mbit)"
#define BYTES_EXPECTED                                                                             \
    "a size (bytes as an integer, or a number with B, KB, MB, GB, KiB, MiB or GiB)"
#define FRACTION_EXPECTED "a fraction (a number from 0 to 1, or a percentage like 0.5%)"

int tg_conf_duration(const struct tg_conf_value *v, tg_time *us, struct tg_conf_error *err)
{
    if (v == NULL || us == NULL)
        return TG_ERR_INVAL;
    if (v->type == TG_CONF_INT && v->u.i == 0) {
        *us = 0;
        return TG_OK;
    }
    if (v->type != TG_CONF_QUANTITY)
        return tg_conf_fail(v, err, DURATION_EXPECTED);
    const struct unit *u = find_unit(duration_units, unit_of(v));
    if (u == NULL)
        return conv_fail(v, err,
                         "unknown duration unit \"%.16s\" in %g%.16s (expected us, ms, s, m or h)",
                         unit_of(v), v->u.q.num, unit_of(v));
    double x = v->u.q.num * u->factor;
    if (!(v->u.q.num >= 0) || !(x <= 1e18))
        return conv_fail(v, err, "duration %g%.16s out of range (expected 0 to 10^12 s)",
                         v->u.q.num, unit_of(v));
    *us = (tg_time)(x + 0.5); /* the nearest microsecond */
    return TG_OK;
}

int tg_conf_rate(const struct tg_conf_value *v, double *bps, struct tg_conf_error *err)
{
    if (v == NULL || bps == NULL)
        return TG_ERR_INVAL;
    if (v->type == TG_CONF_INT && v->u.i == 0) {
        *bps = 0;
        return TG_OK;
    }
    if (v->type != TG_CONF_QUANTITY)
        return tg_conf_fail(v, err, RATE_EXPECTED);
    const struct unit *u = find_unit(rate_units, unit_of(v));
    if (u == NULL)
        return conv_fail(v, err,
                         "unknown rate unit \"%.16s\" in %g%.16s (expected bit, kbit, Mbit, Gbit, "
                         "bps, kbps, Mbps or Gbps)",
                         unit_of(v), v->u.q.num, unit_of(v));
    double x = v->u.q.num * u->factor;
    if (!(x >= 0 && x <= DBL_MAX))
        return conv_fail(v, err, "rate %g%.16s out of range (expected 0 or more)", v->u.q.num,
                         unit_of(v));
    *bps = x;
    return TG_OK;
}

int tg_conf_bytes(const struct tg_conf_value *v, uint64_t *bytes, struct tg_conf_error *err)
{
    if (v == NULL || bytes == NULL)
        return TG_ERR_INVAL;
    if (v->type == TG_CONF_INT) {
        if (v->u.i < 0)
            return conv_fail(v, err, "size %lld out of range (expected 0 to 2^64-1 bytes)",
                             (long long)v->u.i);
        *bytes = (uint64_t)v->u.i;
        return TG_OK;
    }
    if (v->type != TG_CONF_QUANTITY)
        return tg_conf_fail(v, err, BYTES_EXPECTED);
    const struct unit *u = find_unit(byte_units, unit_of(v));
    if (u == NULL)
        return conv_fail(v, err,
                         "unknown size unit \"%.16s\" in %g%.16s (expected B, KB, MB, GB, KiB, MiB "
                         "or GiB)",
                         unit_of(v), v->u.q.num, unit_of(v));
    double x = v->u.q.num * u->factor + 0.5; /* the nearest byte */
    if (!(v->u.q.num >= 0) || !(x < 18446744073709551616.0))
        return conv_fail(v, err, "size %g%.16s out of range (expected 0 to 2^64-1 bytes)",
                         v->u.q.num, unit_of(v));
    *bytes = (uint64_t)x;
    return TG_OK;
}

int tg_conf_fraction(const struct tg_conf_value *v, double *p, struct tg_conf_error *err)
{
    char d[96];
    if (v == NULL || p == NULL)
        return TG_ERR_INVAL;
    double x;
    if (v->type == TG_CONF_INT)
        x = (double)v->u.i;
    else if (v->type == TG_CONF_FLOAT)
        x = v->u.f;
    else if (v->type == TG_CONF_QUANTITY) {
        if (strcmp(unit_of(v), "%") != 0)
            return conv_fail(v, err,
                             "unknown unit \"%.16s\" in %g%.16s for a fraction (expected %%)",
                             unit_of(v), v->u.q.num, unit_of(v));
        x = v->u.q.num / 100.0;
    } else
        return tg_conf_fail(v, err, FRACTION_EXPECTED);
    if (!(x >= 0 && x <= 1))
        return conv_fail(v, err, "fraction out of range: %s (expected 0 to 1, or 0%% to 100%%)",
                         describe_value(v, d, sizeof d));
    *p = x;
    return TG_OK;
}

int tg_conf_number(const struct tg_conf_value *v, double *x, struct tg_conf_error *err)
{
    if (v == NULL || x == NULL)
        return TG_ERR_INVAL;
    if (v->type == TG_CONF_INT)
        *x = (double)v->u.i;
    else if (v->type == TG_CONF_FLOAT)
        *x = v->u.f;
    else
        return tg_conf_fail(v, err, "a number");
    return TG_OK;
}

int tg_conf_string(const struct tg_conf_value *v, const char **s, struct tg_conf_error *err)
{
    if (v == NULL || s == NULL)
        return TG_ERR_INVAL;
    if (v->type != TG_CONF_STRING)
        return tg_conf_fail(v, err, "a string in quotes");
    *s = v->u.str.s;
    return TG_OK;
}

int tg_conf_bool(const struct tg_conf_value *v, bool *b, struct tg_conf_error *err)
{
    if (v == NULL || b == NULL)
        return TG_ERR_INVAL;
    if (v->type != TG_CONF_BOOL)
        return tg_conf_fail(v, err, "true or false");
    *b = v->u.b;
    return TG_OK;
}
