/*
 * proxyfront.h: the first bytes of a proxied connection. A local client
 * speaks SOCKS5 (RFC 1928, with RFC 1929 user and password) or HTTP proxy
 * (CONNECT, or a request in absolute form) until it has named
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
    int family; /* 4, 6, or 0: a name */
    uint8_t addr[16];
    char name[256];
    uint16_t port;
    size_t in_len;
    uint8_t in[8192]; /* what the client sent so far */
    size_t fwd_len;   /* what goes to the far end first */
    uint8_t fwd[8192 + 512];
    const char *user, *pass; /* NULL: no authentication */
    int state;               /* SOCKS5: greeting, authentication, request, ready */
    size_t pos;              /* SOCKS5: bytes of in parsed */
    bool connect;            /* HTTP: a CONNECT request */
    bool udp;                /* SOCKS5: UDP ASSOCIATE (the address is the client's) */
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
/* A client's relayed datagram (RFC 1928 section 7): its destination (IPv4
 * or IPv6; fragments and names are refused) and the header's length, or -1. */
long rt_front_udp_parse(const uint8_t *d, size_t len, int *family, uint8_t addr[16],
                        uint16_t *port);
/* The header of a datagram back to the client, from addr:port. */
size_t rt_front_udp_header(uint8_t out[10], const uint8_t addr[4], uint16_t port);

#endif
