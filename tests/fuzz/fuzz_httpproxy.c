/* Fuzz the HTTP proxy request parser (runtime/httpproxy.c). Byte 0: bit 0
 * requires Basic authentication (user:pass), bits 1-7 seed the chunk sizes;
 * the rest is what a client sends, any bytes. Fed whole and fed in chunks,
 * the head gives the same status and destination; a finished parser takes
 * nothing more; a failure carries a status the response builder knows; a
 * READY absolute-form request yields an origin head within its bound, in
 * origin form, ending the head once, with `Connection: close` and none of
 * the headers the proxy drops. */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "runtime/httpproxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x)                                                                                   \
    do {                                                                                           \
        if (!(x))                                                                                  \
            __builtin_trap();                                                                      \
    } while (0)

struct result {
    enum rt_httpproxy_status st;
    size_t used;
    struct rt_httpproxy p;
};

static void run(const struct rt_httpproxy_config *cfg, const uint8_t *in, size_t len, unsigned seed,
                struct result *r)
{
    rt_httpproxy_init(&r->p, cfg);
    r->st = RT_HTTPPROXY_MORE;
    r->used = 0;
    size_t off = 0;
    while (r->st == RT_HTTPPROXY_MORE && off < len) {
        size_t k = len - off;
        if (seed != 0) {
            seed = seed * 1103515245u + 12345u;
            k = 1 + (seed >> 16) % 64;
            if (k > len - off)
                k = len - off;
        }
        size_t used = 0;
        r->st = rt_httpproxy_feed(&r->p, in + off, k, &used);
        CHECK(used <= k);
        CHECK(r->st != RT_HTTPPROXY_MORE || used == k);
        r->used = off + used;
        off += k;
    }
    if (r->st != RT_HTTPPROXY_MORE) {
        size_t used = 1;
        CHECK(rt_httpproxy_feed(&r->p, in, len, &used) == r->st && used == 0);
    }
}

/* Does the head hold a line starting with the header name? */
static bool has_field(const char *h, size_t n, const char *name)
{
    size_t nl = strlen(name);
    for (const char *p = h; p + nl < h + n;) {
        const char *eol = memmem(p, (size_t)(h + n - p), "\r\n", 2);
        if (eol == NULL)
            break;
        if (p != h && strncasecmp(p, name, nl) == 0 && p[nl] == ':')
            return true;
        p = eol + 2;
    }
    return false;
}

static void origin(const struct rt_httpproxy *p)
{
    static uint8_t out[RT_HTTPPROXY_FWD_MAX];
    size_t n = rt_httpproxy_origin_head(p, out, sizeof out);
    if (p->connect) {
        CHECK(n == 0);
        return;
    }
    CHECK(n > 0 && n <= RT_HTTPPROXY_FWD_MAX);
    const char *h = (const char *)out, *end = memmem(h, n, "\r\n\r\n", 4);
    CHECK(end != NULL && end + 4 == h + n);
    const char *sp = memchr(h, ' ', n);
    CHECK(sp != NULL && sp[1] == '/');
    CHECK(has_field(h, n, "Host") && has_field(h, n, "Connection"));
    static const char *const gone[] = {
        "Proxy-Authorization", "Proxy-Connection", "Keep-Alive", "TE", "Upgrade", "Trailer"};
    for (size_t i = 0; i < sizeof gone / sizeof gone[0]; i++)
        CHECK(!has_field(h, n, gone[i]));
    CHECK(n >= 21 && memcmp(h + n - 21, "Connection: close\r\n\r\n", 21) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const struct rt_httpproxy_config open_cfg = {.require_auth = false};
    static const struct rt_httpproxy_config auth_cfg = {
        .require_auth = true, .user = "user", .pass = "pass"};
    const struct rt_httpproxy_config *cfg = data[0] & 1 ? &auth_cfg : &open_cfg;
    static struct result whole, parts;
    run(cfg, data + 1, size - 1, 0, &whole);
    run(cfg, data + 1, size - 1, 1u + (data[0] >> 1), &parts);
    CHECK(whole.st == parts.st);
    if (whole.st == RT_HTTPPROXY_FAIL) {
        CHECK(whole.p.status == parts.p.status);
        uint8_t r[RT_HTTPPROXY_RESPONSE_MAX];
        CHECK(rt_httpproxy_response(r, sizeof r, whole.p.status) > 0);
    }
    if (whole.st == RT_HTTPPROXY_READY) {
        const struct rt_httpproxy *a = &whole.p, *b = &parts.p;
        CHECK(whole.used == parts.used && a->connect == b->connect && a->family == b->family);
        CHECK(a->port == b->port && a->port != 0 && strcmp(a->host, b->host) == 0);
        CHECK(memcmp(a->addr, b->addr, sizeof a->addr) == 0 && a->host[0] != '\0');
        origin(a);
    }
    return 0;
}
