/* HTTP proxy requests, bytes only (httpproxy.h). */
#define _POSIX_C_SOURCE 200809L
#include "httpproxy.h"

#include <arpa/inet.h>
#include <sodium.h>
#include <string.h>

enum { S_READING, S_READY, S_FAILED };

void rt_httpproxy_init(struct rt_httpproxy *p, const struct rt_httpproxy_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->state = S_READING;
}

/* ------------------------------------------------------------ small helpers */

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive equality of a[0..n) and b[0..n). */
static bool same_span(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Case-insensitive equality of s[0..n) and the NUL-terminated word. */
static bool same_word(const char *s, size_t n, const char *word)
{
    size_t i = 0;
    for (; i < n && word[i] != '\0'; i++)
        if (lower(s[i]) != lower(word[i]))
            return false;
    return i == n && word[i] == '\0';
}

/* One header line: name and value (surrounding blanks off), from a line
 * without its CRLF. */
struct field {
    const char *name, *value;
    size_t name_len, value_len;
};

static bool split_field(const char *s, size_t n, struct field *f)
{
    const char *colon = memchr(s, ':', n);
    if (colon == NULL || colon == s)
        return false;
    for (const char *c = s; c < colon; c++)
        if (!is_tchar(*c))
            return false; /* also a blank before the colon, or a folded line */
    const char *v = colon + 1, *e = s + n;
    while (v < e && (*v == ' ' || *v == '\t'))
        v++;
    while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    *f = (struct field){s, v, (size_t)(colon - s), (size_t)(e - v)};
    return true;
}

/* The header line starting at offset at: its length without CRLF in
 * *line_len, and the offset of the line after it; 0 at the empty line that
 * ends the head. */
static size_t next_field(const struct rt_httpproxy *p, size_t at, size_t *line_len)
{
    const char *s = p->head + at, *end = p->head + p->len;
    const char *eol = memchr(s, '\r', (size_t)(end - s)); /* every CR has its LF */
    if (eol == NULL || eol == s)
        return 0; /* the empty line: the end of the head */
    *line_len = (size_t)(eol - s);
    return (size_t)(eol + 2 - p->head);
}

/* Constant-time equality of "user:pass" and the decoded credentials. */
static bool credentials_ok(const struct rt_httpproxy_config *c, const uint8_t *got, size_t len)
{
    uint8_t want[512] = {0}, have[512] = {0};
    size_t ul = c->user != NULL ? strnlen(c->user, 256) : 256;
    size_t pl = c->pass != NULL ? strnlen(c->pass, 256) : 256;
    bool fits = ul < 256 && pl < 256 && len <= sizeof have;
    if (ul < 256 && pl < 256) {
        memcpy(want, c->user, ul);
        want[ul] = ':';
        memcpy(want + ul + 1, c->pass, pl);
    }
    if (len <= sizeof have)
        memcpy(have, got, len);
    bool ok = sodium_memcmp(want, have, sizeof want) == 0;
    ok = ok && fits && len == ul + 1 + pl;
    sodium_memzero(want, sizeof want);
    sodium_memzero(have, sizeof have);
    return ok;
}

static bool authorized(const struct rt_httpproxy_config *c, const struct field *f)
{
    if (f == NULL || f->value_len < 6 || !same_word(f->value, 5, "basic") || f->value[5] != ' ')
        return false;
    const char *b64 = f->value + 6, *e = f->value + f->value_len;
    while (b64 < e && *b64 == ' ')
        b64++;
    uint8_t plain[512];
    size_t n = 0;
    bool ok = sodium_base642bin(plain, sizeof plain, b64, (size_t)(e - b64), NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL) == 0 &&
              credentials_ok(c, plain, n);
    sodium_memzero(plain, sizeof plain);
    return ok;
}

/* ------------------------------------------------------------ the target */

/* host[:port] or [v6][:port] into p; port dflt when absent (0: required). */
static bool host_port(struct rt_httpproxy *p, const char *s, size_t n, uint16_t dflt)
{
    const char *host = s, *colon = NULL;
    size_t hl;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);
        if (close == NULL)
            return false;
        host = s + 1;
        hl = (size_t)(close - host);
        if (close + 1 < s + n) {
            if (close[1] != ':')
                return false;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', n);
        hl = colon != NULL ? (size_t)(colon - s) : n;
    }
    if (hl == 0 || hl >= sizeof p->host)
        return false;
    memcpy(p->host, host, hl);
    p->host[hl] = '\0';
    unsigned long port = dflt;
    if (colon != NULL) {
        size_t pl = (size_t)(s + n - colon - 1);
        if (pl == 0 || pl > 5)
            return false;
        port = 0;
        for (size_t i = 0; i < pl; i++) {
            if (colon[1 + i] < '0' || colon[1 + i] > '9')
                return false;
            port = port * 10 + (unsigned long)(colon[1 + i] - '0');
        }
    }
    if (port == 0 || port > 65535)
        return false;
    p->port = (uint16_t)port;
    if (host != s) { /* brackets: an IPv6 literal and nothing else */
        p->family = 6;
        return inet_pton(AF_INET6, p->host, p->addr) == 1;
    }
    if (inet_pton(AF_INET, p->host, p->addr) == 1) {
        p->family = 4;
        return true;
    }
    p->family = 0;
    for (size_t i = 0; i < hl; i++) {
        char c = p->host[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '.' || c == '_'))
            return false;
    }
    return true;
}

/* The request target of an absolute-form request: http://authority[path]. */
static bool absolute(struct rt_httpproxy *p, size_t t, size_t tn)
{
    static const char scheme[] = "http://";
    const size_t sn = sizeof scheme - 1;
    if (tn <= sn || !same_word(p->head + t, sn, scheme))
        return false; /* https:// included: the proxy does not speak TLS */
    size_t a = t + sn, an = 0;
    while (a + an < t + tn && strchr("/?#", p->head[a + an]) == NULL)
        an++;
    if (memchr(p->head + a, '@', an) != NULL)
        return false; /* user information in the URL */
    if (!host_port(p, p->head + a, an, 80))
        return false;
    p->authority_off = a;
    p->authority_len = an;
    p->path_off = a + an;
    p->path_len = tn - sn - an;
    return true;
}

/* ------------------------------------------------------------ the whole head */

static enum rt_httpproxy_status fail(struct rt_httpproxy *p, int status)
{
    p->state = S_FAILED;
    p->status = status;
    return RT_HTTPPROXY_FAIL;
}

static enum rt_httpproxy_status parse(struct rt_httpproxy *p)
{
    const char *h = p->head;
    const char *eol = memchr(h, '\r', p->len);
    size_t line = (size_t)(eol - h);
    /* method SP target SP HTTP/1.x */
    size_t m = 0;
    while (m < line && is_tchar(h[m]))
        m++;
    const char *sp2 = m < line ? memchr(h + m + 1, ' ', line - m - 1) : NULL;
    if (m == 0 || m == line || h[m] != ' ' || sp2 == NULL)
        return fail(p, 400);
    size_t t = m + 1, tn = (size_t)(sp2 - h) - t, v = (size_t)(sp2 - h) + 1;
    if (tn == 0 || line - v != 8 || memcmp(h + v, "HTTP/1.", 7) != 0 ||
        (h[v + 7] != '0' && h[v + 7] != '1'))
        return fail(p, 400);
    for (size_t i = t; i < t + tn; i++)
        if ((unsigned char)h[i] <= ' ' || (unsigned char)h[i] >= 0x7f)
            return fail(p, 400);
    p->method_len = m;
    p->version_off = v;
    p->fields_off = line + 2;

    struct field f, auth = {0};
    size_t n_auth = 0, n_length = 0, n_coding = 0, ll = 0;
    for (size_t at = p->fields_off, next; (next = next_field(p, at, &ll)) != 0; at = next) {
        if (!split_field(h + at, ll, &f))
            return fail(p, 400);
        if (same_word(f.name, f.name_len, "proxy-authorization")) {
            auth = f;
            n_auth++;
        }
        n_length += same_word(f.name, f.name_len, "content-length");
        n_coding += same_word(f.name, f.name_len, "transfer-encoding");
    }
    if (n_length > 1 || (n_length == 1 && n_coding > 0) || n_auth > 1)
        return fail(p, 400);
    if (p->cfg->require_auth && !authorized(p->cfg, n_auth == 1 ? &auth : NULL))
        return fail(p, 407);

    p->connect = m == 7 && memcmp(h, "CONNECT", 7) == 0;
    if (p->connect ? !host_port(p, h + t, tn, 0) : !absolute(p, t, tn))
        return fail(p, 400);
    p->state = S_READY;
    return RT_HTTPPROXY_READY;
}

enum rt_httpproxy_status rt_httpproxy_feed(struct rt_httpproxy *p, const uint8_t *in, size_t len,
                                           size_t *used)
{
    size_t off = 0;
    while (p->state == S_READING && off < len) {
        uint8_t c = in[off++];
        char prev = p->len > 0 ? p->head[p->len - 1] : '\0';
        p->taken++;
        if ((c < ' ' && c != '\r' && c != '\n' && c != '\t') || c == 0x7f ||
            (prev == '\r' && c != '\n') || (c == '\n' && prev != '\r')) {
            fail(p, 400); /* a control byte, a bare CR or a bare LF */
            break;
        }
        p->head[p->len++] = (char)c;
        if (p->len == 2 && p->head[0] == '\r') {
            p->len = 0; /* an empty line before the request line is ignored */
        } else if (p->len >= 4 && memcmp(p->head + p->len - 4, "\r\n\r\n", 4) == 0) {
            parse(p);
            break;
        }
        if (p->state == S_READING && (p->len == sizeof p->head || p->taken >= sizeof p->head)) {
            fail(p, 431);
            break;
        }
    }
    *used = off;
    if (p->state == S_READY)
        return RT_HTTPPROXY_READY;
    return p->state == S_FAILED ? RT_HTTPPROXY_FAIL : RT_HTTPPROXY_MORE;
}

/* ------------------------------------------------------------ output */

/* Appends s[0..n) to out at *at when it fits; false when not. */
static bool emit(uint8_t *out, size_t cap, size_t *at, const char *s, size_t n)
{
    if (cap - *at < n)
        return false;
    memcpy(out + *at, s, n);
    *at += n;
    return true;
}

/* Is the header name one that Connection lists (token by token)? Content
 * framing and Host stay whatever it says. */
static bool named_by_connection(const struct rt_httpproxy *p, const struct field *f)
{
    if (same_word(f->name, f->name_len, "content-length") ||
        same_word(f->name, f->name_len, "transfer-encoding") ||
        same_word(f->name, f->name_len, "host"))
        return false;
    struct field c;
    size_t ll = 0;
    for (size_t at = p->fields_off, next; (next = next_field(p, at, &ll)) != 0; at = next) {
        if (!split_field(p->head + at, ll, &c) || !same_word(c.name, c.name_len, "connection"))
            continue;
        for (size_t i = 0; i < c.value_len;) {
            while (i < c.value_len &&
                   (c.value[i] == ',' || c.value[i] == ' ' || c.value[i] == '\t'))
                i++;
            size_t s = i;
            while (i < c.value_len && c.value[i] != ',' && c.value[i] != ' ' && c.value[i] != '\t')
                i++;
            if (i - s == f->name_len && same_span(f->name, c.value + s, f->name_len))
                return true;
        }
    }
    return false;
}

static bool dropped(const struct rt_httpproxy *p, const struct field *f)
{
    static const char *const hop[] = {"proxy-connection",
                                      "proxy-authorization",
                                      "proxy-authenticate",
                                      "connection",
                                      "keep-alive",
                                      "te",
                                      "trailer",
                                      "upgrade",
                                      "host"};
    for (size_t i = 0; i < sizeof hop / sizeof hop[0]; i++)
        if (same_word(f->name, f->name_len, hop[i]))
            return true;
    return named_by_connection(p, f);
}

size_t rt_httpproxy_origin_head(const struct rt_httpproxy *p, uint8_t *out, size_t cap)
{
    if (p->state != S_READY || p->connect)
        return 0;
    const char *h = p->head;
    size_t at = 0;
    bool ok = emit(out, cap, &at, h, p->method_len + 1); /* "GET " */
    if (p->path_len == 0 || h[p->path_off] != '/')
        ok = ok && emit(out, cap, &at, "/", 1); /* "" or "?q": the root */
    ok = ok && emit(out, cap, &at, h + p->path_off, p->path_len) && emit(out, cap, &at, " ", 1) &&
         emit(out, cap, &at, h + p->version_off, 8) && emit(out, cap, &at, "\r\nHost: ", 8) &&
         emit(out, cap, &at, h + p->authority_off, p->authority_len) &&
         emit(out, cap, &at, "\r\n", 2);
    struct field f;
    size_t ll = 0;
    for (size_t a = p->fields_off, next; ok && (next = next_field(p, a, &ll)) != 0; a = next)
        if (split_field(h + a, ll, &f) && !dropped(p, &f))
            ok = emit(out, cap, &at, h + a, ll + 2);
    static const char tail[] = "Connection: close\r\n\r\n";
    ok = ok && emit(out, cap, &at, tail, sizeof tail - 1);
    return ok ? at : 0;
}

size_t rt_httpproxy_response(uint8_t *out, size_t cap, int status)
{
    static const struct {
        int status;
        const char *text;
    } table[] = {
        {200, "HTTP/1.1 200 Connection established\r\n\r\n"},
        {400, "HTTP/1.1 400 Bad Request\r\n"},
        {403, "HTTP/1.1 403 Forbidden\r\n"},
        {407, "HTTP/1.1 407 Proxy Authentication Required\r\n"
              "Proxy-Authenticate: Basic realm=\"triglav\"\r\n"},
        {431, "HTTP/1.1 431 Request Header Fields Too Large\r\n"},
        {502, "HTTP/1.1 502 Bad Gateway\r\n"},
        {504, "HTTP/1.1 504 Gateway Timeout\r\n"},
    };
    static const char tail[] = "Content-Length: 0\r\nConnection: close\r\n\r\n";
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (table[i].status != status)
            continue;
        size_t at = 0;
        if (!emit(out, cap, &at, table[i].text, strlen(table[i].text)))
            return 0;
        if (status != 200 && !emit(out, cap, &at, tail, sizeof tail - 1))
            return 0;
        return at;
    }
    return 0;
}
