/* SOCKS5 server side, bytes only (socks5.h). */
#define _POSIX_C_SOURCE 200809L
#include "socks5.h"

#include <sodium.h>
#include <string.h>

enum { VER = 5, AUTH_VER = 1, NO_AUTH = 0x00, USER_PASS = 0x02, NO_METHOD = 0xff };

void rt_socks5_init(struct rt_socks5 *p, const struct rt_socks5_config *cfg)
{
    memset(p, 0, sizeof *p);
    p->cfg = cfg;
    p->state = RT_SOCKS5_S_GREETING;
}

/* ------------------------------------------------------------ addresses */

/* ATYP ADDR PORT into out; 0 when it does not fit or a is not valid. */
static size_t put_addr(uint8_t *out, size_t cap, const struct rt_socks5_addr *a)
{
    size_t alen, n = 0;
    if (a->atyp == RT_SOCKS5_IPV4)
        alen = 4;
    else if (a->atyp == RT_SOCKS5_IPV6)
        alen = 16;
    else if (a->atyp == RT_SOCKS5_NAME)
        alen = strnlen(a->name, sizeof a->name);
    else
        return 0;
    if (a->atyp == RT_SOCKS5_NAME && (alen == 0 || alen > 255))
        return 0;
    size_t total = 1 + (size_t)(a->atyp == RT_SOCKS5_NAME) + alen + 2;
    if (cap < total)
        return 0;
    out[n++] = a->atyp;
    if (a->atyp == RT_SOCKS5_NAME) {
        out[n++] = (uint8_t)alen;
        memcpy(out + n, a->name, alen);
    } else {
        memcpy(out + n, a->ip, alen);
    }
    n += alen;
    out[n++] = (uint8_t)(a->port >> 8);
    out[n++] = (uint8_t)a->port;
    return n;
}

/* ATYP ADDR PORT from d; the bytes read, or 0 when cut short, unknown or
 * a name is empty or holds a NUL. */
static size_t get_addr(const uint8_t *d, size_t len, struct rt_socks5_addr *a)
{
    if (len < 1)
        return 0;
    size_t alen, off = 1;
    if (d[0] == RT_SOCKS5_IPV4) {
        alen = 4;
    } else if (d[0] == RT_SOCKS5_IPV6) {
        alen = 16;
    } else if (d[0] == RT_SOCKS5_NAME) {
        if (len < 2 || d[1] == 0)
            return 0;
        alen = d[1];
        off = 2;
    } else {
        return 0;
    }
    if (len < off + alen + 2)
        return 0;
    memset(a, 0, sizeof *a);
    a->atyp = d[0];
    if (d[0] == RT_SOCKS5_NAME) {
        if (memchr(d + off, 0, alen) != NULL)
            return 0;
        memcpy(a->name, d + off, alen);
    } else {
        memcpy(a->ip, d + off, alen);
    }
    a->port = (uint16_t)(d[off + alen] << 8 | d[off + alen + 1]);
    return off + alen + 2;
}

size_t rt_socks5_reply(uint8_t *out, size_t cap, uint8_t code, const struct rt_socks5_addr *bound)
{
    static const struct rt_socks5_addr none = {.atyp = RT_SOCKS5_IPV4};
    if (cap < 3)
        return 0;
    size_t n = put_addr(out + 3, cap - 3, bound != NULL ? bound : &none);
    if (n == 0)
        return 0;
    out[0] = VER;
    out[1] = code;
    out[2] = 0;
    return 3 + n;
}

/* ------------------------------------------------------------ UDP ASSOCIATE */

int rt_socks5_udp_parse(const uint8_t *d, size_t len, struct rt_socks5_addr *dst,
                        const uint8_t **payload, size_t *payload_len)
{
    if (len < 3 || d[0] != 0 || d[1] != 0 || d[2] != 0) /* RSV, FRAG */
        return -1;
    size_t n = get_addr(d + 3, len - 3, dst);
    if (n == 0)
        return -1;
    *payload = d + 3 + n;
    *payload_len = len - 3 - n;
    return 0;
}

size_t rt_socks5_udp_header(uint8_t *out, size_t cap, const struct rt_socks5_addr *from)
{
    if (cap < 3)
        return 0;
    size_t n = put_addr(out + 3, cap - 3, from);
    if (n == 0)
        return 0;
    out[0] = out[1] = out[2] = 0;
    return 3 + n;
}

/* ------------------------------------------------------------ the conversation */

/* Constant-time equality of a secret (NULL never matches) and what the
 * client sent (at most 255 bytes): both padded, so neither the content nor
 * the length of the secret shows in the time taken. */
static bool same(const char *secret, const uint8_t *got, size_t len)
{
    uint8_t want[255] = {0}, have[255] = {0};
    size_t n = secret != NULL ? strnlen(secret, sizeof want + 1) : sizeof want + 1;
    if (n <= sizeof want)
        memcpy(want, secret, n);
    memcpy(have, got, len);
    bool ok = (sodium_memcmp(want, have, sizeof want) == 0) & (n == len);
    sodium_memzero(want, sizeof want);
    return ok;
}

/* How many bytes the current message has, judged from those held so far. */
static size_t want(const struct rt_socks5 *p)
{
    const uint8_t *b = p->buf;
    switch (p->state) {
    case RT_SOCKS5_S_GREETING:
        return p->have < 2 ? 2 : 2u + b[1];
    case RT_SOCKS5_S_AUTH:
        if (p->have < 2)
            return 2;
        if (p->have < 3u + b[1])
            return 3u + b[1];
        return 3u + b[1] + b[2 + b[1]];
    default: /* request: VER CMD RSV ATYP, then the address and port */
        if (p->have < 5)
            return 5;
        return b[3] == RT_SOCKS5_IPV4 ? 10u : b[3] == RT_SOCKS5_IPV6 ? 22u : 7u + b[4];
    }
}

/* A request's reply code when what is held already shows it is bad, else 0. */
static uint8_t bad_request(const struct rt_socks5 *p)
{
    const uint8_t *b = p->buf;
    if (p->have >= 1 && b[0] != VER)
        return RT_SOCKS5_GENERAL_FAILURE;
    if (p->have >= 2 && b[1] != RT_SOCKS5_CONNECT && b[1] != RT_SOCKS5_UDP_ASSOCIATE)
        return RT_SOCKS5_CMD_UNSUPPORTED; /* BIND too */
    if (p->have >= 3 && b[2] != 0)
        return RT_SOCKS5_GENERAL_FAILURE;
    if (p->have >= 4 && b[3] != RT_SOCKS5_IPV4 && b[3] != RT_SOCKS5_IPV6 && b[3] != RT_SOCKS5_NAME)
        return RT_SOCKS5_ATYP_UNSUPPORTED;
    if (p->have >= 5 && b[3] == RT_SOCKS5_NAME && b[4] == 0)
        return RT_SOCKS5_GENERAL_FAILURE;
    return 0;
}

static void put(uint8_t *out, size_t *out_len, uint8_t a, uint8_t b)
{
    out[(*out_len)++] = a;
    out[(*out_len)++] = b;
}

static enum rt_socks5_status fail_request(struct rt_socks5 *p, uint8_t rep, uint8_t *out,
                                          size_t *out_len)
{
    p->rep = rep;
    p->state = RT_SOCKS5_S_ERROR;
    *out_len += rt_socks5_reply(out + *out_len, RT_SOCKS5_OUT_MAX - *out_len, rep, NULL);
    return RT_SOCKS5_FAIL;
}

/* The current message is whole (p->have bytes): act on it. */
static enum rt_socks5_status complete(struct rt_socks5 *p, uint8_t *out, size_t *out_len)
{
    const uint8_t *b = p->buf;
    const struct rt_socks5_config *c = p->cfg;
    if (p->state == RT_SOCKS5_S_GREETING) {
        uint8_t wanted = c->require_auth ? USER_PASS : NO_AUTH, pick = NO_METHOD;
        for (size_t i = 0; i < b[1]; i++)
            if (b[2 + i] == wanted)
                pick = wanted;
        put(out, out_len, VER, pick);
        if (pick == NO_METHOD) {
            p->state = RT_SOCKS5_S_ERROR;
            return RT_SOCKS5_FAIL;
        }
        p->state = pick == USER_PASS ? RT_SOCKS5_S_AUTH : RT_SOCKS5_S_REQUEST;
    } else if (p->state == RT_SOCKS5_S_AUTH) {
        size_t ul = b[1], pl = b[2 + ul];
        bool user_ok = same(c->user, b + 2, ul), pass_ok = same(c->pass, b + 3 + ul, pl);
        bool ok = user_ok && pass_ok;    /* both compared, whatever the first gave */
        sodium_memzero(p->buf, p->have); /* the password */
        put(out, out_len, AUTH_VER, ok ? 0 : 1);
        if (!ok) {
            p->state = RT_SOCKS5_S_ERROR;
            return RT_SOCKS5_FAIL;
        }
        p->state = RT_SOCKS5_S_REQUEST;
    } else {
        if (get_addr(b + 3, p->have - 3, &p->dst) != p->have - 3)
            return fail_request(p, RT_SOCKS5_GENERAL_FAILURE, out, out_len); /* NUL in a name */
        p->cmd = b[1];
        p->state = RT_SOCKS5_S_READY;
        return RT_SOCKS5_READY;
    }
    p->have = 0;
    return RT_SOCKS5_MORE;
}

enum rt_socks5_status rt_socks5_feed(struct rt_socks5 *p, const uint8_t *in, size_t len,
                                     size_t *used, uint8_t out[RT_SOCKS5_OUT_MAX], size_t *out_len)
{
    size_t off = 0;
    *out_len = 0;
    while (p->state != RT_SOCKS5_S_READY && p->state != RT_SOCKS5_S_ERROR) {
        size_t need = want(p);
        if (p->have == need) {
            if (complete(p, out, out_len) != RT_SOCKS5_MORE)
                break;
            continue;
        }
        if (off == len)
            break;
        size_t take = need - p->have < len - off ? need - p->have : len - off;
        memcpy(p->buf + p->have, in + off, take);
        p->have += take;
        off += take;
        /* judge the first bytes as soon as they come: a bad version or
         * command is answered without waiting for the rest */
        if (p->state == RT_SOCKS5_S_GREETING && p->buf[0] != VER) {
            p->state = RT_SOCKS5_S_ERROR; /* not SOCKS5: no reply is understood */
        } else if (p->state == RT_SOCKS5_S_AUTH && p->buf[0] != AUTH_VER) {
            put(out, out_len, AUTH_VER, 1);
            p->state = RT_SOCKS5_S_ERROR;
        } else if (p->state == RT_SOCKS5_S_REQUEST) {
            uint8_t rep = bad_request(p);
            if (rep != 0)
                fail_request(p, rep, out, out_len);
        }
    }
    *used = off;
    if (p->state == RT_SOCKS5_S_READY)
        return RT_SOCKS5_READY;
    return p->state == RT_SOCKS5_S_ERROR ? RT_SOCKS5_FAIL : RT_SOCKS5_MORE;
}
