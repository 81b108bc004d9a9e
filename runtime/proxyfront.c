/* The first bytes of a proxied connection: SOCKS5 or HTTP (proxyfront.h). */
#define _GNU_SOURCE
#include "proxyfront.h"

#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

enum { S_GREETING, S_AUTH, S_REQUEST, S_READY };

void rt_front_init(struct rt_front *f, enum rt_front_kind kind, const char *user, const char *pass)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->user = user;
    f->pass = pass;
}

static bool say(int fd, const void *msg, size_t len)
{
    return send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len; /* tiny: the buffer takes it */
}

/* Constant-time equality of a secret and what the client sent. */
static bool same(const char *secret, const uint8_t *got, size_t len)
{
    size_t n = strlen(secret);
    uint8_t pad[256] = {0};
    if (len > sizeof pad || n > sizeof pad)
        return false;
    memcpy(pad, got, len);
    uint8_t want[256] = {0};
    memcpy(want, secret, n);
    return (sodium_memcmp(pad, want, sizeof pad) == 0) & (n == len);
}

/* ------------------------------------------------------------ SOCKS5 */

static void socks_reply(int fd, uint8_t code, const uint8_t bound[4], uint16_t port)
{
    uint8_t r[10] = {5, code, 0, 1, 0, 0, 0, 0, (uint8_t)(port >> 8), (uint8_t)port};
    if (bound != NULL)
        memcpy(r + 4, bound, 4);
    say(fd, r, sizeof r);
}

static enum rt_front_status socks(struct rt_front *f, int fd)
{
    for (;;) {
        const uint8_t *p = f->in + f->pos;
        size_t have = f->in_len - f->pos;
        if (f->state == S_GREETING) { /* VER NMETHODS METHODS */
            if (have < 2 || have < 2u + p[1])
                return p[0] == 5 || have == 0 ? RT_FRONT_MORE : RT_FRONT_DONE;
            if (p[0] != 5)
                return RT_FRONT_DONE;
            uint8_t want = f->user != NULL ? 2 : 0, pick = 0xff;
            for (size_t i = 0; i < p[1]; i++)
                if (p[2 + i] == want)
                    pick = want;
            uint8_t r[2] = {5, pick};
            f->pos += 2u + p[1];
            if (!say(fd, r, 2) || pick == 0xff)
                return RT_FRONT_DONE;
            f->state = pick == 2 ? S_AUTH : S_REQUEST;
        } else if (f->state == S_AUTH) { /* RFC 1929: 1 ULEN USER PLEN PASS */
            if (have < 2 || have < 3u + p[1] || have < 3u + p[1] + p[2 + p[1]])
                return RT_FRONT_MORE;
            size_t ul = p[1], pl = p[2 + ul];
            bool ok = p[0] == 1;
            ok &= same(f->user, p + 2, ul);
            ok &= same(f->pass, p + 3 + ul, pl);
            uint8_t r[2] = {1, ok ? 0 : 1};
            f->pos += 3 + ul + pl;
            if (!say(fd, r, 2) || !ok)
                return RT_FRONT_DONE;
            f->state = S_REQUEST;
        } else { /* VER CMD RSV ATYP DST.ADDR DST.PORT */
            if (have < 5)
                return RT_FRONT_MORE;
            size_t alen = p[3] == 1 ? 4 : p[3] == 4 ? 16 : p[3] == 3 ? 1u + p[4] : 0;
            if (p[0] != 5 || alen == 0 || (p[3] == 3 && p[4] == 0)) {
                socks_reply(fd, 8, NULL, 0); /* address type not supported */
                return RT_FRONT_DONE;
            }
            if (have < 4 + alen + 2)
                return RT_FRONT_MORE;
            if (p[1] != 1 && p[1] != 3) {
                socks_reply(fd, 7, NULL, 0); /* CONNECT and UDP ASSOCIATE only */
                return RT_FRONT_DONE;
            }
            f->udp = p[1] == 3;
            if (p[3] == 3) {
                f->family = 0;
                memcpy(f->name, p + 5, p[4]);
                f->name[p[4]] = '\0';
                if (strlen(f->name) != p[4]) {
                    socks_reply(fd, 8, NULL, 0);
                    return RT_FRONT_DONE;
                }
            } else {
                f->family = p[3] == 1 ? 4 : 6;
                memcpy(f->addr, p + 4, alen);
            }
            f->port = (uint16_t)(p[4 + alen] << 8 | p[5 + alen]);
            f->pos += 4 + alen + 2;
            f->state = S_READY;
            return RT_FRONT_READY;
        }
    }
}

/* ------------------------------------------------------------ HTTP */

static void http_status(int fd, const char *status, const char *extra)
{
    char r[300];
    int n = snprintf(r, sizeof r, "HTTP/1.1 %s\r\n%sContent-Length: 0\r\nConnection: close\r\n\r\n",
                     status, extra);
    say(fd, r, (size_t)n);
}

/* host, host:port or [v6]:port into f (port defaults to dflt); false when
 * malformed. */
static bool host_port(struct rt_front *f, const char *s, size_t len, uint16_t dflt)
{
    char host[256];
    const char *colon = NULL;
    if (len == 0 || len >= sizeof host)
        return false;
    if (s[0] == '[') {
        const char *end = memchr(s, ']', len);
        if (end == NULL)
            return false;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = '\0';
        colon = end + 1 < s + len && end[1] == ':' ? end + 1 : NULL;
        if (colon == NULL && end + 1 != s + len)
            return false;
    } else {
        colon = memchr(s, ':', len);
        size_t hl = colon != NULL ? (size_t)(colon - s) : len;
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    unsigned long port = dflt;
    if (colon != NULL) {
        char ps[8];
        size_t pl = (size_t)(s + len - colon - 1);
        if (pl == 0 || pl >= sizeof ps)
            return false;
        memcpy(ps, colon + 1, pl);
        ps[pl] = '\0';
        char *end;
        port = strtoul(ps, &end, 10);
        if (*end != '\0' || port == 0 || port > 65535)
            return false;
    }
    f->port = (uint16_t)port;
    if (inet_pton(AF_INET, host, f->addr) == 1) {
        f->family = 4;
    } else if (inet_pton(AF_INET6, host, f->addr) == 1) {
        f->family = 6;
    } else {
        if (host[0] == '\0')
            return false;
        f->family = 0;
        snprintf(f->name, sizeof f->name, "%s", host);
    }
    return true;
}

/* Is the header line (name: value) one that does not go to the origin? */
static bool hop_by_hop(const char *line, size_t len)
{
    static const char *const drop[] = {
        "proxy-", "connection:", "keep-alive:", "te:", "trailer:", "upgrade:"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++) {
        size_t n = strlen(drop[i]);
        if (len >= n && strncasecmp(line, drop[i], n) == 0)
            return true;
    }
    return false;
}

static bool authorized(const struct rt_front *f, const char *head, size_t len)
{
    if (f->user == NULL)
        return true;
    char plain[520], want[720];
    int pn = snprintf(plain, sizeof plain, "%s:%s", f->user, f->pass);
    if (pn < 0 || (size_t)pn >= sizeof plain)
        return false;
    sodium_bin2base64(want, sizeof want, (const unsigned char *)plain, (size_t)pn,
                      sodium_base64_VARIANT_ORIGINAL);
    const char *p = head;
    while (p < head + len) {
        const char *eol = memmem(p, (size_t)(head + len - p), "\r\n", 2);
        if (eol == NULL)
            break;
        static const char h[] = "proxy-authorization:";
        if ((size_t)(eol - p) > sizeof h - 1 && strncasecmp(p, h, sizeof h - 1) == 0) {
            const char *v = p + sizeof h - 1;
            while (v < eol && *v == ' ')
                v++;
            if (eol - v > 6 && strncasecmp(v, "Basic ", 6) == 0)
                return same(want, (const uint8_t *)v + 6, (size_t)(eol - v - 6));
        }
        p = eol + 2;
    }
    return false;
}

static enum rt_front_status http(struct rt_front *f, int fd)
{
    const char *head = (const char *)f->in;
    const char *end = memmem(head, f->in_len, "\r\n\r\n", 4);
    if (end == NULL) {
        if (f->in_len < sizeof f->in)
            return RT_FRONT_MORE;
        http_status(fd, "431 Request Header Fields Too Large", "");
        return RT_FRONT_DONE;
    }
    size_t head_len = (size_t)(end - head) + 4;
    const char *eol = memmem(head, head_len, "\r\n", 2);
    const char *sp1 = memchr(head, ' ', (size_t)(eol - head));
    const char *sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
    if (sp2 == NULL || strncmp(sp2 + 1, "HTTP/1.", 7) != 0) {
        http_status(fd, "400 Bad Request", "");
        return RT_FRONT_DONE;
    }
    if (!authorized(f, eol + 2, head_len - (size_t)(eol + 2 - head))) {
        http_status(fd, "407 Proxy Authentication Required",
                    "Proxy-Authenticate: Basic realm=\"triglav\"\r\n");
        return RT_FRONT_DONE;
    }
    const char *target = sp1 + 1;
    size_t tlen = (size_t)(sp2 - target);
    f->connect = (size_t)(sp1 - head) == 7 && strncmp(head, "CONNECT", 7) == 0;
    if (f->connect) {
        if (!host_port(f, target, tlen, 0) || f->port == 0) {
            http_status(fd, "400 Bad Request", "");
            return RT_FRONT_DONE;
        }
        f->fwd_len = f->in_len - head_len; /* what came after the head */
        memcpy(f->fwd, f->in + head_len, f->fwd_len);
        return RT_FRONT_READY;
    }
    static const char scheme[] = "http://";
    if (tlen < sizeof scheme || strncasecmp(target, scheme, sizeof scheme - 1) != 0) {
        http_status(fd, "400 Bad Request", ""); /* origin form, or https:// in the clear */
        return RT_FRONT_DONE;
    }
    const char *auth = target + sizeof scheme - 1;
    const char *path = memchr(auth, '/', (size_t)(sp2 - auth));
    if (!host_port(f, auth, (size_t)((path != NULL ? path : sp2) - auth), 80)) {
        http_status(fd, "400 Bad Request", "");
        return RT_FRONT_DONE;
    }
    /* the head for the origin: origin form, hop-by-hop headers out, one request */
    size_t n, cap = sizeof f->fwd;
    const char *ps = path != NULL ? path : "/", *ver = sp2 + 1;
    int w = snprintf((char *)f->fwd, cap, "%.*s %.*s %.*s\r\n", (int)(sp1 - head), head,
                     path != NULL ? (int)(sp2 - path) : 1, ps, (int)(eol - ver), ver);
    n = (size_t)w;
    for (const char *p = eol + 2; p < end + 2;) {
        const char *e = memmem(p, (size_t)(end + 2 - p), "\r\n", 2);
        if (!hop_by_hop(p, (size_t)(e - p)) && n + (size_t)(e - p) + 2 < cap) {
            memcpy(f->fwd + n, p, (size_t)(e - p) + 2);
            n += (size_t)(e - p) + 2;
        }
        p = e + 2;
    }
    static const char tail[] = "Connection: close\r\n\r\n";
    size_t body = f->in_len - head_len;
    if (n + sizeof tail - 1 + body > cap) {
        http_status(fd, "431 Request Header Fields Too Large", "");
        return RT_FRONT_DONE;
    }
    memcpy(f->fwd + n, tail, sizeof tail - 1);
    n += sizeof tail - 1;
    memcpy(f->fwd + n, f->in + head_len, body);
    f->fwd_len = n + body;
    return RT_FRONT_READY;
}

/* ------------------------------------------------------------ the front */

enum rt_front_status rt_front_read(struct rt_front *f, int fd)
{
    if (f->in_len == sizeof f->in)
        return f->kind == RT_FRONT_HTTP ? http(f, fd) : RT_FRONT_DONE;
    ssize_t n = recv(fd, f->in + f->in_len, sizeof f->in - f->in_len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return RT_FRONT_MORE;
    if (n <= 0)
        return RT_FRONT_DONE;
    f->in_len += (size_t)n;
    return f->kind == RT_FRONT_SOCKS ? socks(f, fd) : http(f, fd);
}

int rt_front_connected(struct rt_front *f, int fd, const uint8_t bound[4], uint16_t port,
                       const uint8_t **fwd, size_t *len)
{
    if (f->kind == RT_FRONT_SOCKS) {
        socks_reply(fd, 0, bound, port);
        /* a client that did not wait for the reply sent data already */
        f->fwd_len = f->in_len - f->pos;
        memcpy(f->fwd, f->in + f->pos, f->fwd_len);
    } else if (f->connect) {
        static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\n";
        if (!say(fd, ok, sizeof ok - 1))
            return -1;
    }
    *fwd = f->fwd;
    *len = f->fwd_len;
    return 0;
}

int rt_front_udp_ready(struct rt_front *f, int fd, const uint8_t addr[4], uint16_t port)
{
    (void)f;
    uint8_t r[10] = {5, 0, 0, 1, 0, 0, 0, 0, (uint8_t)(port >> 8), (uint8_t)port};
    memcpy(r + 4, addr, 4);
    return say(fd, r, sizeof r) ? 0 : -1;
}

long rt_front_udp_parse(const uint8_t *d, size_t len, int *family, uint8_t addr[16], uint16_t *port)
{
    if (len < 4 || d[0] != 0 || d[1] != 0 || d[2] != 0) /* RSV, no fragments */
        return -1;
    size_t alen = d[3] == 1 ? 4 : d[3] == 4 ? 16 : 0; /* names are not relayed */
    if (alen == 0 || len < 4 + alen + 2)
        return -1;
    *family = d[3] == 1 ? 4 : 6;
    memcpy(addr, d + 4, alen);
    *port = (uint16_t)(d[4 + alen] << 8 | d[5 + alen]);
    return (long)(4 + alen + 2);
}

size_t rt_front_udp_header(uint8_t out[10], const uint8_t addr[4], uint16_t port)
{
    out[0] = out[1] = out[2] = 0;
    out[3] = 1;
    memcpy(out + 4, addr, 4);
    out[8] = (uint8_t)(port >> 8);
    out[9] = (uint8_t)port;
    return 10;
}

void rt_front_refuse(struct rt_front *f, int fd, enum rt_front_why why)
{
    static const uint8_t socks_code[] = {1, 5, 3, 4, 4}; /* by enum rt_front_why */
    static const char *const http_code[] = {"502 Bad Gateway", "502 Bad Gateway", "502 Bad Gateway",
                                            "502 Bad Gateway", "504 Gateway Timeout"};
    if (f->kind == RT_FRONT_SOCKS) {
        if (f->state == S_READY)
            socks_reply(fd, socks_code[why], NULL, 0);
    } else {
        http_status(fd, http_code[why], "");
    }
}
