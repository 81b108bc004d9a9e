/*
 * proxyfront.h: the first bytes of a proxied connection. A local client
 * speaks SOCKS5 (socks5.h) or HTTP proxy (httpproxy.h) until it has named
 * a destination; this reads those bytes from its socket, answers the
 * protocol's own steps (method choice, authentication), and then says
 * where to connect. Once the destination answers, rt_front_connected sends
 * the success reply and hands back what goes to the far end first (bytes
 * the client sent after its request; for a plain HTTP request, its head
 * rewritten to origin form). rt_front_refuse answers a failure the
 * protocol's way (SOCKS5 reply code, HTTP status).
 */
#ifndef RT_PROXYFRONT_H
#define RT_PROXYFRONT_H

#include <stddef.h>
#include <stdint.h>

#include <stdbool.h>

#include "httpproxy.h"
#include "socks5.h"

enum rt_front_kind { RT_FRONT_SOCKS, RT_FRONT_HTTP };

enum rt_front_status {
    RT_FRONT_MORE,  /* the request is not whole yet */
    RT_FRONT_READY, /* family/addr/name and port name the destination */
    RT_FRONT_DONE,  /* refused (answered) or the client left: close */
};

enum rt_front_why {
    RT_FRONT_FAILURE,     /* general failure */
    RT_FRONT_REFUSED,     /* the destination refused the connection */
    RT_FRONT_UNREACHABLE, /* it cannot be reached */
    RT_FRONT_NO_NAME,     /* its name does not resolve */
    RT_FRONT_TIMEOUT,     /* it did not answer in time */
};

struct rt_front {
    enum rt_front_kind kind;
    int family; /* READY: 4, 6, or 0: a name */
    uint8_t addr[16];
    char name[256];
    uint16_t port;
    bool udp;       /* SOCKS5 UDP ASSOCIATE (then the address is the client's) */
    size_t fwd_len; /* what goes to the far end first */
    uint8_t fwd[RT_HTTPPROXY_FWD_MAX + 8192];
    struct rt_socks5_config scfg;
    struct rt_httpproxy_config hcfg;
    struct rt_socks5 socks;
    struct rt_httpproxy http;
};

void rt_front_init(struct rt_front *f, enum rt_front_kind kind, const char *user, const char *pass);
/* Reads what the socket has and parses it. */
enum rt_front_status rt_front_read(struct rt_front *f, int fd);
/* The destination answered: the success reply (bound = the tunnel address
 * and port the stream leaves from), and fwd and len: what to send there first.
 * Returns 0, or -1 when the client is gone. */
int rt_front_connected(struct rt_front *f, int fd, const uint8_t bound[4], uint16_t port,
                       const uint8_t **fwd, size_t *len);
void rt_front_refuse(struct rt_front *f, int fd, enum rt_front_why why);

/* SOCKS5 UDP ASSOCIATE: the success reply naming the relay's address. */
int rt_front_udp_ready(struct rt_front *f, int fd, const uint8_t addr[4], uint16_t port);
#endif
