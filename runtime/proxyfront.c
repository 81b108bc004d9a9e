/* The first bytes of a proxied connection: SOCKS5 or HTTP (proxyfront.h),
 * parsed by socks5.c and httpproxy.c. */
#define _GNU_SOURCE
#include "proxyfront.h"

#include <errno.h>
#include <sodium.h>
#include <string.h>
#include <sys/socket.h>

void rt_front_init(struct rt_front *f, enum rt_front_kind kind, const char *user, const char *pass)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    f->scfg = (struct rt_socks5_config){.require_auth = user != NULL, .user = user, .pass = pass};
    f->hcfg =
        (struct rt_httpproxy_config){.require_auth = user != NULL, .user = user, .pass = pass};
    if (kind == RT_FRONT_SOCKS)
        rt_socks5_init(&f->socks, &f->scfg);
    else
        rt_httpproxy_init(&f->http, &f->hcfg);
}

static bool say(int fd, const void *msg, size_t len)
{
    return len > 0 && send(fd, msg, len, MSG_NOSIGNAL) == (ssize_t)len; /* small: it fits */
}

static void http_say(int fd, int status)
{
    uint8_t r[RT_HTTPPROXY_RESPONSE_MAX];
    say(fd, r, rt_httpproxy_response(r, sizeof r, status));
}

/* What the client sent after its request goes to the far end first. */
static bool keep(struct rt_front *f, const uint8_t *p, size_t len)
{
    if (len > sizeof f->fwd - f->fwd_len)
        return false;
    memcpy(f->fwd + f->fwd_len, p, len);
    f->fwd_len += len;
    return true;
}

static enum rt_front_status socks(struct rt_front *f, int fd, const uint8_t *in, size_t n)
{
    uint8_t out[RT_SOCKS5_OUT_MAX];
    size_t used = 0, out_len = 0;
    enum rt_socks5_status st = rt_socks5_feed(&f->socks, in, n, &used, out, &out_len);
    if (out_len > 0 && !say(fd, out, out_len))
        return RT_FRONT_DONE;
    if (st == RT_SOCKS5_MORE)
        return RT_FRONT_MORE;
    if (st == RT_SOCKS5_FAIL || !keep(f, in + used, n - used))
        return RT_FRONT_DONE;
    const struct rt_socks5_addr *d = &f->socks.dst;
    f->udp = f->socks.cmd == RT_SOCKS5_UDP_ASSOCIATE;
    f->family = d->atyp == RT_SOCKS5_IPV4 ? 4 : d->atyp == RT_SOCKS5_IPV6 ? 6 : 0;
    memcpy(f->addr, d->ip, sizeof f->addr);
    memcpy(f->name, d->name, sizeof f->name);
    f->port = d->port;
    return RT_FRONT_READY;
}

static enum rt_front_status http(struct rt_front *f, int fd, const uint8_t *in, size_t n)
{
    size_t used = 0;
    enum rt_httpproxy_status st = rt_httpproxy_feed(&f->http, in, n, &used);
    if (st == RT_HTTPPROXY_MORE)
        return RT_FRONT_MORE;
    if (st == RT_HTTPPROXY_FAIL) {
        http_say(fd, f->http.status);
        return RT_FRONT_DONE;
    }
    if (!f->http.connect)
        f->fwd_len = rt_httpproxy_origin_head(&f->http, f->fwd, sizeof f->fwd);
    if ((!f->http.connect && f->fwd_len == 0) || !keep(f, in + used, n - used)) {
        http_say(fd, 431);
        return RT_FRONT_DONE;
    }
    f->family = f->http.family;
    memcpy(f->addr, f->http.addr, sizeof f->addr);
    memcpy(f->name, f->http.host, sizeof f->name);
    f->port = f->http.port;
    sodium_memzero(f->http.head, sizeof f->http.head); /* a Proxy-Authorization line */
    return RT_FRONT_READY;
}

enum rt_front_status rt_front_read(struct rt_front *f, int fd)
{
    uint8_t buf[8192];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return RT_FRONT_MORE;
    if (n <= 0)
        return RT_FRONT_DONE;
    return f->kind == RT_FRONT_SOCKS ? socks(f, fd, buf, (size_t)n) : http(f, fd, buf, (size_t)n);
}

static bool socks_reply(int fd, uint8_t code, const uint8_t bound[4], uint16_t port)
{
    struct rt_socks5_addr a = {.atyp = RT_SOCKS5_IPV4, .port = port};
    if (bound != NULL)
        memcpy(a.ip, bound, 4);
    uint8_t r[RT_SOCKS5_REPLY_MAX];
    return say(fd, r, rt_socks5_reply(r, sizeof r, code, &a));
}

int rt_front_connected(struct rt_front *f, int fd, const uint8_t bound[4], uint16_t port,
                       const uint8_t **fwd, size_t *len)
{
    if (f->kind == RT_FRONT_SOCKS && !socks_reply(fd, RT_SOCKS5_SUCCEEDED, bound, port))
        return -1;
    if (f->kind == RT_FRONT_HTTP && f->http.connect) {
        uint8_t r[RT_HTTPPROXY_RESPONSE_MAX];
        if (!say(fd, r, rt_httpproxy_response(r, sizeof r, 200)))
            return -1;
    }
    *fwd = f->fwd;
    *len = f->fwd_len;
    return 0;
}

int rt_front_udp_ready(struct rt_front *f, int fd, const uint8_t addr[4], uint16_t port)
{
    (void)f;
    return socks_reply(fd, RT_SOCKS5_SUCCEEDED, addr, port) ? 0 : -1;
}

void rt_front_refuse(struct rt_front *f, int fd, enum rt_front_why why)
{
    static const uint8_t socks_code[] = {
        [RT_FRONT_FAILURE] = RT_SOCKS5_GENERAL_FAILURE,
        [RT_FRONT_REFUSED] = RT_SOCKS5_REFUSED,
        [RT_FRONT_UNREACHABLE] = RT_SOCKS5_NET_UNREACHABLE,
        [RT_FRONT_NO_NAME] = RT_SOCKS5_HOST_UNREACHABLE,
        [RT_FRONT_TIMEOUT] = RT_SOCKS5_TTL_EXPIRED,
    };
    if (f->kind == RT_FRONT_SOCKS)
        socks_reply(fd, socks_code[why], NULL, 0);
    else
        http_say(fd, why == RT_FRONT_TIMEOUT ? 504 : 502);
}
