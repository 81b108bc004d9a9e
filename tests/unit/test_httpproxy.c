/* HTTP proxy requests (runtime/httpproxy.c): each head of the table gives the
 * same status, destination and origin head whole, byte by byte, cut at any
 * one point and in random chunks; each malformed head gets its status; the
 * head for the origin drops the proxy's and hop-by-hop headers; Basic
 * authentication; the 8 KiB bound; the short responses. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "splits.h"
#include "httpproxy.h"

static const struct rt_httpproxy_config open_cfg = {.require_auth = false};
static const struct rt_httpproxy_config auth_cfg = {
    .require_auth = true, .user = "user", .pass = "pass"};

struct result {
    enum rt_httpproxy_status st;
    int status;
    size_t used;
    bool connect;
    int family;
    uint8_t addr[16];
    char host[256];
    uint16_t port;
    size_t fwd_len;
    uint8_t fwd[RT_HTTPPROXY_FWD_MAX];
};

static void run(const struct rt_httpproxy_config *cfg, const char *in, size_t len,
                const size_t *cuts, size_t ncuts, struct result *r)
{
    static struct rt_httpproxy p;
    rt_httpproxy_init(&p, cfg);
    memset(r, 0, sizeof *r);
    r->st = RT_HTTPPROXY_MORE;
    size_t off = 0;
    for (size_t c = 0; c <= ncuts && r->st == RT_HTTPPROXY_MORE; c++) {
        size_t end = c < ncuts && cuts[c] < len ? cuts[c] : len;
        if (end < off)
            continue;
        size_t used = 999999;
        r->st = rt_httpproxy_feed(&p, (const uint8_t *)in + off, end - off, &used);
        CHECK(used <= end - off);
        if (r->st == RT_HTTPPROXY_MORE)
            CHECK_EQ(used, end - off);
        r->used = off + used;
        off = end;
    }
    r->status = r->st == RT_HTTPPROXY_FAIL ? p.status : 0;
    if (r->st == RT_HTTPPROXY_READY) {
        r->connect = p.connect;
        r->family = p.family;
        memcpy(r->addr, p.addr, 16);
        memcpy(r->host, p.host, sizeof r->host);
        r->port = p.port;
        r->fwd_len = rt_httpproxy_origin_head(&p, r->fwd, sizeof r->fwd);
        CHECK(r->fwd_len <= RT_HTTPPROXY_FWD_MAX);
        if (r->fwd_len > 0) /* one byte short of room: nothing */
            CHECK_EQ(rt_httpproxy_origin_head(&p, r->fwd, r->fwd_len - 1), 0);
    }
    if (r->st != RT_HTTPPROXY_MORE) { /* done stays done */
        size_t used = 99;
        CHECK_EQ(rt_httpproxy_feed(&p, (const uint8_t *)in, len, &used), r->st);
        CHECK_EQ(used, 0);
    }
}

static bool same_result(const struct result *a, const struct result *b)
{
    return a->st == b->st && a->status == b->status &&
           (a->st == RT_HTTPPROXY_FAIL || a->used == b->used) && a->connect == b->connect &&
           a->family == b->family && memcmp(a->addr, b->addr, 16) == 0 &&
           strcmp(a->host, b->host) == 0 && a->port == b->port && a->fwd_len == b->fwd_len &&
           memcmp(a->fwd, b->fwd, a->fwd_len) == 0;
}

struct split_ctx {
    const struct rt_httpproxy_config *cfg;
    const char *in;
    size_t len;
    const struct result *whole;
};

static void try_split(void *ctx, const size_t *cuts, size_t n)
{
    const struct split_ctx *x = ctx;
    static struct result r;
    run(x->cfg, x->in, x->len, cuts, n, &r);
    CHECK(same_result(x->whole, &r));
}

/* Every split of in gives what the whole gives; returns the whole's result. */
static struct result splits(const struct rt_httpproxy_config *cfg, const char *in, size_t len)
{
    static struct result whole;
    static size_t cuts[RT_HTTPPROXY_HEAD_MAX + 64];
    run(cfg, in, len, NULL, 0, &whole);
    struct split_ctx x = {cfg, in, len, &whole};
    split_plans(len, len > 600 ? len / 97 : 1, 10, 50, 64, cuts, sizeof cuts / sizeof cuts[0],
                try_split, &x);
    return whole;
}

struct row {
    const char *what;
    const struct rt_httpproxy_config *cfg;
    const char *in;
    int st, status;
    bool connect;
    int family;
    const char *host;
    uint16_t port;
    const char *fwd; /* absolute form: the head for the origin */
};

#define HOST "Host: example.com\r\n"
#define AUTH "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n" /* user:pass */

static const struct row rows[] = {
    {"connect name", &open_cfg, "CONNECT example.com:443 HTTP/1.1\r\n" HOST "\r\nTLS", 1, 0, true,
     0, "example.com", 443, NULL},
    {"connect ipv4", &open_cfg, "CONNECT 192.0.2.7:8443 HTTP/1.1\r\n\r\n", 1, 0, true, 4,
     "192.0.2.7", 8443, NULL},
    {"connect ipv6", &open_cfg, "CONNECT [2001:db8::5]:443 HTTP/1.1\r\n\r\n", 1, 0, true, 6,
     "2001:db8::5", 443, NULL},
    {"empty lines first", &open_cfg, "\r\n\r\nCONNECT h:1 HTTP/1.0\r\n\r\n", 1, 0, true, 0, "h", 1,
     NULL},
    {"get, headers filtered", &open_cfg,
     "GET http://example.com/index.html?x=1 HTTP/1.1\r\n"
     "Host: wrong.example\r\nUser-Agent: t/1\r\nProxy-Connection: keep-alive\r\n"
     "Connection: keep-alive, X-Drop-Me\r\nX-Drop-Me: 1\r\nKeep-Alive: 5\r\nTE: trailers\r\n"
     "Trailer: x\r\nUpgrade: h2c\r\nProxy-Authenticate: x\r\nAccept:  */* \r\n\r\nbody",
     1, 0, false, 0, "example.com", 80,
     "GET /index.html?x=1 HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n"
     "Accept:  */* \r\nConnection: close\r\n\r\n"},
    {"no path, http/1.0", &open_cfg, "GET http://example.com HTTP/1.0\r\n\r\n", 1, 0, false, 0,
     "example.com", 80, "GET / HTTP/1.0\r\nHost: example.com\r\nConnection: close\r\n\r\n"},
    {"query without path, port, scheme case", &open_cfg,
     "HEAD HTTP://EXAMPLE.com:8080?q HTTP/1.1\r\n\r\n", 1, 0, false, 0, "EXAMPLE.com", 8080,
     "HEAD /?q HTTP/1.1\r\nHost: EXAMPLE.com:8080\r\nConnection: close\r\n\r\n"},
    {"post with a body", &open_cfg,
     "POST http://[2001:db8::1]:81/f HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", 1, 0, false, 6,
     "2001:db8::1", 81,
     "POST /f HTTP/1.1\r\nHost: [2001:db8::1]:81\r\nContent-Length: 5\r\nConnection: "
     "close\r\n\r\n"},
    {"connection cannot drop the framing", &open_cfg,
     "PUT http://198.51.100.2/ HTTP/1.1\r\nConnection: content-length,host\r\n"
     "Content-Length: 0\r\n\r\n",
     1, 0, false, 4, "198.51.100.2", 80,
     "PUT / HTTP/1.1\r\nHost: 198.51.100.2\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"},
    {"half a head", &open_cfg, "GET http://example.com/ HTTP/1.1\r\nHost: x\r\n", 0, 0, false, 0,
     "", 0, NULL},
    {"auth ok", &auth_cfg, "GET http://h/ HTTP/1.1\r\n" AUTH "\r\n", 1, 0, false, 0, "h", 80,
     "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"},
    {"auth scheme in lower case", &auth_cfg,
     "CONNECT h:1 HTTP/1.1\r\nproxy-authorization: basic   dXNlcjpwYXNz\r\n\r\n", 1, 0, true, 0,
     "h", 1, NULL},
    {"auth missing", &auth_cfg, "CONNECT h:1 HTTP/1.1\r\n\r\n", -1, 407, false, 0, "", 0, NULL},
    {"auth wrong password", &auth_cfg,
     "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXN4\r\n\r\n", -1, 407, false, 0,
     "", 0, NULL},
    {"auth password a prefix", &auth_cfg,
     "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXM=\r\n\r\n", -1, 407, false, 0,
     "", 0, NULL},
    {"auth not base64", &auth_cfg,
     "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Basic dXNlcjpwYXNz!\r\n\r\n", -1, 407, false, 0,
     "", 0, NULL},
    {"auth other scheme", &auth_cfg,
     "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: Bearer dXNlcjpwYXNz\r\n\r\n", -1, 407, false, 0,
     "", 0, NULL},
    {"auth twice", &auth_cfg, "CONNECT h:1 HTTP/1.1\r\n" AUTH AUTH "\r\n", -1, 400, false, 0, "", 0,
     NULL},
    {"origin form", &open_cfg, "GET /index.html HTTP/1.1\r\n" HOST "\r\n", -1, 400, false, 0, "", 0,
     NULL},
    {"https absolute form", &open_cfg, "GET https://example.com/ HTTP/1.1\r\n\r\n", -1, 400, false,
     0, "", 0, NULL},
    {"ftp absolute form", &open_cfg, "GET ftp://example.com/ HTTP/1.1\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"user in the url", &open_cfg, "GET http://u:p@example.com/ HTTP/1.1\r\n\r\n", -1, 400, false,
     0, "", 0, NULL},
    {"http/2.0", &open_cfg, "CONNECT h:1 HTTP/2.0\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"http/1.10", &open_cfg, "CONNECT h:1 HTTP/1.10\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"no version", &open_cfg, "CONNECT h:1\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"two spaces", &open_cfg, "CONNECT  h:1 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"bare LF", &open_cfg, "CONNECT h:1 HTTP/1.1\n\n", -1, 400, false, 0, "", 0, NULL},
    {"bare CR", &open_cfg, "CONNECT h:1 HTTP/1.1\r\nX: a\rb\r\n\r\n", -1, 400, false, 0, "", 0,
     NULL},
    {"control byte", &open_cfg, "CONNECT h:1 HTTP/1.1\r\nX: a\x01\r\n\r\n", -1, 400, false, 0, "",
     0, NULL},
    {"space before colon", &open_cfg, "CONNECT h:1 HTTP/1.1\r\nX : a\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"folded line", &open_cfg, "CONNECT h:1 HTTP/1.1\r\nX: a\r\n b\r\n\r\n", -1, 400, false, 0, "",
     0, NULL},
    {"no colon", &open_cfg, "CONNECT h:1 HTTP/1.1\r\nXa\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"two lengths", &open_cfg,
     "POST http://h/ HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"length and chunked", &open_cfg,
     "POST http://h/ HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", -1, 400,
     false, 0, "", 0, NULL},
    {"connect without port", &open_cfg, "CONNECT example.com HTTP/1.1\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"connect empty port", &open_cfg, "CONNECT example.com: HTTP/1.1\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"port 0", &open_cfg, "CONNECT h:0 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"port 65536", &open_cfg, "CONNECT h:65536 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"port not a number", &open_cfg, "CONNECT h:8o HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0,
     NULL},
    {"v6 unclosed", &open_cfg, "CONNECT [2001:db8::1:443 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "",
     0, NULL},
    {"v6 not an address", &open_cfg, "CONNECT [example.com]:443 HTTP/1.1\r\n\r\n", -1, 400, false,
     0, "", 0, NULL},
    {"v6 with a zone", &open_cfg, "CONNECT [fe80::1%eth0]:443 HTTP/1.1\r\n\r\n", -1, 400, false, 0,
     "", 0, NULL},
    {"bad name", &open_cfg, "CONNECT exa/mple:443 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0,
     NULL},
    {"empty host", &open_cfg, "GET http:///x HTTP/1.1\r\n\r\n", -1, 400, false, 0, "", 0, NULL},
    {"non-ascii target", &open_cfg, "GET http://h/\xc3\xa9 HTTP/1.1\r\n\r\n", -1, 400, false, 0, "",
     0, NULL},
};

static void table(void)
{
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *w = &rows[i];
        struct result r = splits(w->cfg, w->in, strlen(w->in));
        if ((int)r.st != w->st || r.status != w->status)
            fprintf(stderr, "row \"%s\": got %d status %d\n", w->what, (int)r.st, r.status);
        CHECK_EQ(r.st, w->st);
        CHECK_EQ(r.status, w->status);
        if (w->st == RT_HTTPPROXY_MORE)
            CHECK_EQ(r.used, strlen(w->in));
        if (w->st != RT_HTTPPROXY_READY)
            continue;
        /* naively: the head ends at the first empty line after the request line */
        const char *start = w->in;
        while (strncmp(start, "\r\n", 2) == 0)
            start += 2;
        CHECK_EQ(r.used, strstr(start, "\r\n\r\n") + 4 - w->in);
        CHECK_EQ(r.connect, w->connect);
        CHECK_EQ(r.family, w->family);
        CHECK(strcmp(r.host, w->host) == 0);
        CHECK_EQ(r.port, w->port);
        if (w->fwd == NULL) {
            CHECK_EQ(r.fwd_len, 0);
            continue;
        }
        if (r.fwd_len != strlen(w->fwd) || memcmp(r.fwd, w->fwd, r.fwd_len) != 0)
            fprintf(stderr, "row \"%s\": origin head\n%.*s\n", w->what, (int)r.fwd_len,
                    (const char *)r.fwd);
        CHECK_EQ(r.fwd_len, strlen(w->fwd));
        CHECK_MEM(r.fwd, w->fwd, strlen(w->fwd));
    }
}

/* The destination's address bytes, and the head's size bound both ways. */
static void addresses_and_bounds(void)
{
    static const char v4[] = "CONNECT 203.0.113.9:22 HTTP/1.1\r\n\r\n";
    struct result r = splits(&open_cfg, v4, sizeof v4 - 1);
    CHECK_MEM(r.addr, ((const uint8_t[]){203, 0, 113, 9}), 4);
    static const char v6[] = "CONNECT [2001:db8::9]:22 HTTP/1.1\r\n\r\n";
    r = splits(&open_cfg, v6, sizeof v6 - 1);
    CHECK_MEM(r.addr,
              ((const uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9}), 16);

    /* a head of exactly the limit is served, one byte more is 431 */
    static char big[RT_HTTPPROXY_HEAD_MAX + 64];
    static const char first[] = "GET http://h/ HTTP/1.1\r\nX-Pad: ";
    size_t pad = RT_HTTPPROXY_HEAD_MAX - (sizeof first - 1) - 4;
    memcpy(big, first, sizeof first - 1);
    memset(big + sizeof first - 1, 'a', pad);
    memcpy(big + sizeof first - 1 + pad, "\r\n\r\n", 5);
    size_t len = strlen(big);
    CHECK_EQ(len, RT_HTTPPROXY_HEAD_MAX);
    r = splits(&open_cfg, big, len);
    CHECK_EQ(r.st, RT_HTTPPROXY_READY);
    CHECK_EQ(r.used, len);
    CHECK(r.fwd_len > 0 && r.fwd_len <= RT_HTTPPROXY_FWD_MAX);
    memmove(big + 1, big, len + 1);
    big[0] = 'G';
    memcpy(big, "GET http://hh/", 14);
    r = splits(&open_cfg, big, len + 1);
    CHECK_EQ(r.st, RT_HTTPPROXY_FAIL);
    CHECK_EQ(r.status, 431);

    /* no end at all: 431 once the limit is reached, whatever follows */
    memset(big, 'x', sizeof big);
    memcpy(big, "GET http://h/ HTTP/1.1\r\nX: ", 27);
    r = splits(&open_cfg, big, sizeof big);
    CHECK_EQ(r.status, 431);
    /* empty lines before the request count toward the limit */
    for (size_t i = 0; i + 1 < sizeof big; i += 2)
        memcpy(big + i, "\r\n", 2);
    r = splits(&open_cfg, big, sizeof big);
    CHECK_EQ(r.status, 431);
}

static void responses(void)
{
    static const int ok[] = {200, 400, 403, 407, 431, 502, 504};
    uint8_t out[RT_HTTPPROXY_RESPONSE_MAX + 1];
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = rt_httpproxy_response(out, sizeof out, ok[i]);
        CHECK(n > 0 && n <= RT_HTTPPROXY_RESPONSE_MAX);
        out[n] = 0;
        char start[16];
        snprintf(start, sizeof start, "HTTP/1.1 %d ", ok[i]);
        CHECK(strncmp((const char *)out, start, strlen(start)) == 0);
        CHECK(n >= 4 && memcmp(out + n - 4, "\r\n\r\n", 4) == 0);
        CHECK((strstr((const char *)out, "\r\nConnection: close\r\n") != NULL) == (ok[i] != 200));
        CHECK((strstr((const char *)out, "\r\nProxy-Authenticate: Basic realm=\"triglav\"\r\n") !=
               NULL) == (ok[i] == 407));
        CHECK_EQ(rt_httpproxy_response(out, n - 1, ok[i]), 0);
    }
    size_t n = rt_httpproxy_response(out, sizeof out, 200);
    CHECK_EQ(n, 39);
    CHECK_MEM(out, "HTTP/1.1 200 Connection established\r\n\r\n", 39);
    CHECK_EQ(rt_httpproxy_response(out, sizeof out, 404), 0);
    CHECK_EQ(rt_httpproxy_response(out, sizeof out, 0), 0);
}

int main(void)
{
    srand(7230);
    table();
    addresses_and_bounds();
    responses();
    return check_exit("test_httpproxy");
}
