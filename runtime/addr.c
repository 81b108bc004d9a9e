/* Numeric address parsing: no name resolution (a VPN that is not up yet
 * cannot be trusted to resolve names, and the key carries addresses). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

static int parse_port(const char *s, uint16_t *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (*end != '\0' || v == 0 || v > 65535)
        return -1;
    *out = (uint16_t)v;
    return 0;
}

int rt_ipv4_parse(const char *s, uint8_t out[4])
{
    struct in_addr in;
    if (inet_pton(AF_INET, s, &in) != 1)
        return -1;
    memcpy(out, &in, 4);
    return 0;
}

int rt_addr_parse(const char *s, struct tg_key_addr *out)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *colon;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - s - 1) >= sizeof host)
            return -1;
        memcpy(host, s + 1, (size_t)(close - s - 1));
        host[close - s - 1] = '\0';
        if (inet_pton(AF_INET6, host, out->addr) != 1)
            return -1;
        out->type = TG_ADDR_IPV6;
        return parse_port(close + 2, &out->port);
    }
    colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof host)
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    if (rt_ipv4_parse(host, out->addr) != 0)
        return -1;
    out->type = TG_ADDR_IPV4;
    return parse_port(colon + 1, &out->port);
}

int rt_prefix_parse(const char *s, struct rt_prefix *out, bool keep_host)
{
    char host[INET_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);
    unsigned long len = 32;
    if (n >= sizeof host)
        return -1;
    memcpy(host, s, n);
    host[n] = '\0';
    if (rt_ipv4_parse(host, out->addr) != 0)
        return -1;
    if (slash != NULL) {
        char *end;
        if (slash[1] == '\0')
            return -1;
        len = strtoul(slash + 1, &end, 10);
        if (*end != '\0' || len > 32)
            return -1;
    }
    out->len = (uint8_t)len;
    if (!keep_host) {
        for (unsigned i = 0; i < 4; i++) {
            unsigned bits = len > 8 * i ? (unsigned)len - 8 * i : 0;
            uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
            out->addr[i] &= mask;
        }
    }
    return 0;
}

int rt_prefix6_parse(const char *s, uint8_t out[16], uint8_t *len)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    if (slash == NULL || (size_t)(slash - s) >= sizeof host || slash[1] == '\0')
        return -1;
    memcpy(host, s, (size_t)(slash - s));
    host[slash - s] = '\0';
    char *end;
    unsigned long l = strtoul(slash + 1, &end, 10);
    if (*end != '\0' || l > 128 || inet_pton(AF_INET6, host, out) != 1)
        return -1;
    *len = (uint8_t)l;
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = l > 8 * i ? (unsigned)l - 8 * i : 0;
        out[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
    }
    return 0;
}

const char *rt_prefix6_str(const uint8_t a[16], uint8_t len, char buf[RT_ADDRSTRLEN])
{
    char h[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, a, h, sizeof h);
    snprintf(buf, RT_ADDRSTRLEN, "%s/%u", h, len);
    return buf;
}

const char *rt_ipv4_str(const uint8_t a[4], char buf[RT_ADDRSTRLEN])
{
    snprintf(buf, RT_ADDRSTRLEN, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    return buf;
}

const char *rt_prefix_str(const struct rt_prefix *p, char buf[RT_ADDRSTRLEN])
{
    snprintf(buf, RT_ADDRSTRLEN, "%u.%u.%u.%u/%u", p->addr[0], p->addr[1], p->addr[2], p->addr[3],
             p->len);
    return buf;
}

const char *rt_addr_str(const struct tg_key_addr *a, char buf[RT_ADDRSTRLEN])
{
    if (a->type == TG_ADDR_IPV6) {
        char h[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, a->addr, h, sizeof h);
        snprintf(buf, RT_ADDRSTRLEN, "[%s]:%u", h, a->port);
    } else {
        snprintf(buf, RT_ADDRSTRLEN, "%u.%u.%u.%u:%u", a->addr[0], a->addr[1], a->addr[2],
                 a->addr[3], a->port);
    }
    return buf;
}

void rt_addr_to_sockaddr(const struct tg_key_addr *a, struct sockaddr_storage *ss, socklen_t *len)
{
    memset(ss, 0, sizeof *ss);
    if (a->type == TG_ADDR_IPV6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(a->port);
        memcpy(&s6->sin6_addr, a->addr, 16);
        *len = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons(a->port);
        memcpy(&s4->sin_addr, a->addr, 4);
        *len = sizeof *s4;
    }
}

int rt_addr_from_sockaddr(const struct sockaddr *sa, struct tg_key_addr *out)
{
    memset(out, 0, sizeof *out);
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        out->type = TG_ADDR_IPV4;
        memcpy(out->addr, &s4->sin_addr, 4);
        out->port = ntohs(s4->sin_port);
        return 0;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(&s6->sin6_addr, mapped, 12) == 0) {
            out->type = TG_ADDR_IPV4;
            memcpy(out->addr, (const uint8_t *)&s6->sin6_addr + 12, 4);
        } else {
            out->type = TG_ADDR_IPV6;
            memcpy(out->addr, &s6->sin6_addr, 16);
        }
        out->port = ntohs(s6->sin6_port);
        return 0;
    }
    return -1;
}

bool rt_addr_is_any(const struct tg_key_addr *a)
{
    static const uint8_t zero[16];
    return memcmp(a->addr, zero, a->type == TG_ADDR_IPV6 ? 16 : 4) == 0;
}
