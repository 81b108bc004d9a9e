/* SOCKS5 server side (RFC 1928, with RFC 1929 user and password): the
 * bytes of one client connection until it has named a destination, and the
 * headers of UDP ASSOCIATE datagrams. A push parser: the caller feeds what it
 * read, in any split, and sends the reply bytes it gets back. It opens no
 * socket, reads no clock, allocates nothing and keeps no globals; connecting,
 * relaying and timeouts belong to the caller.
 *
 * The conversation: greeting (VER 5, NMETHODS, METHODS) answered with the
 * chosen method; when that is user/password, the RFC 1929 sub-negotiation
 * and its status; then one request (CONNECT or UDP ASSOCIATE; BIND is
 * refused with reply 7). Every message is bounded by its own length fields
 * (greeting 257, authentication 513, request 262 bytes), and each is held in
 * the parser until whole, so no malformed or hostile input grows it. */
#ifndef RT_SOCKS5_H
#define RT_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RT_SOCKS5_GREETING_MAX = 2 + 255,        /* VER NMETHODS METHODS[255] */
    RT_SOCKS5_AUTH_MAX = 3 + 255 + 255,      /* VER ULEN UNAME PLEN PASSWD */
    RT_SOCKS5_REQUEST_MAX = 4 + 1 + 255 + 2, /* VER CMD RSV ATYP (len name) port */
    RT_SOCKS5_OUT_MAX = 16,                  /* bytes one rt_socks5_feed may write */
    RT_SOCKS5_UDP_HDR_MAX = 4 + 1 + 255 + 2, /* RSV FRAG ATYP (len name) port */
    RT_SOCKS5_REPLY_MAX = 4 + 1 + 255 + 2,   /* a reply naming any address */
};

enum rt_socks5_cmd { RT_SOCKS5_CONNECT = 1, RT_SOCKS5_BIND = 2, RT_SOCKS5_UDP_ASSOCIATE = 3 };

/* ATYP: the address types on the wire. */
enum rt_socks5_atyp { RT_SOCKS5_IPV4 = 1, RT_SOCKS5_NAME = 3, RT_SOCKS5_IPV6 = 4 };

/* REP: the reply codes of RFC 1928 section 6. */
enum rt_socks5_rep {
    RT_SOCKS5_SUCCEEDED = 0,
    RT_SOCKS5_GENERAL_FAILURE = 1,
    RT_SOCKS5_NOT_ALLOWED = 2,
    RT_SOCKS5_NET_UNREACHABLE = 3,
    RT_SOCKS5_HOST_UNREACHABLE = 4,
    RT_SOCKS5_REFUSED = 5,
    RT_SOCKS5_TTL_EXPIRED = 6,
    RT_SOCKS5_CMD_UNSUPPORTED = 7,
    RT_SOCKS5_ATYP_UNSUPPORTED = 8,
};

struct rt_socks5_addr {
    uint8_t atyp;   /* enum rt_socks5_atyp */
    uint8_t ip[16]; /* IPV4: 4 bytes, IPV6: 16, network byte order */
    char name[256]; /* NAME: 1..255 bytes without NUL, NUL-terminated */
    uint16_t port;  /* host byte order */
};

struct rt_socks5_config {
    bool require_auth;       /* true: only user/password (0x02); false: only no auth (0x00) */
    const char *user, *pass; /* when require_auth; NULL never matches */
};

enum rt_socks5_state {
    RT_SOCKS5_S_GREETING,
    RT_SOCKS5_S_AUTH,
    RT_SOCKS5_S_REQUEST,
    RT_SOCKS5_S_READY,
    RT_SOCKS5_S_ERROR
};

enum rt_socks5_status {
    RT_SOCKS5_MORE = 0,  /* every byte given was taken; the request is not whole yet */
    RT_SOCKS5_READY = 1, /* the request is whole: cmd and dst say what to do */
    RT_SOCKS5_FAIL = -1, /* malformed, refused or not authenticated: send out, close */
};

struct rt_socks5 {
    const struct rt_socks5_config *cfg; /* borrowed; outlives the parser */
    enum rt_socks5_state state;
    uint8_t cmd;                     /* READY: enum rt_socks5_cmd */
    struct rt_socks5_addr dst;       /* READY: CONNECT's destination; UDP ASSOCIATE's
                                        client address (often all zero) */
    uint8_t rep;                     /* FAIL in the request: the reply code sent */
    size_t have;                     /* bytes of the current message held */
    uint8_t buf[RT_SOCKS5_AUTH_MAX]; /* the current message */
};

/* cfg is borrowed and must outlive p. */
void rt_socks5_init(struct rt_socks5 *p, const struct rt_socks5_config *cfg);

/* Takes bytes of in (up to len) and writes into out (RT_SOCKS5_OUT_MAX
 * bytes) what the client must be sent now, *out_len of them: the method
 * choice, the authentication status, and on a bad request its error reply.
 * Returns
 *   RT_SOCKS5_MORE  : *used == len; nothing else to do until more bytes come;
 *   RT_SOCKS5_READY : the request is whole; *used stops right after it, so
 *                     in[*used..len) is the client's first payload (it did not
 *                     wait for the reply): keep it for the destination. Answer
 *                     with rt_socks5_reply once the destination is known;
 *   RT_SOCKS5_FAIL  : send out (a 0xFF method choice, a failed authentication
 *                     status, or a request reply with code p->rep; nothing for
 *                     a greeting of another version) and close; *used then
 *                     depends on where the input was split.
 * Once READY or FAIL, every later call returns the same and takes nothing.
 * Never reads in past len. */
enum rt_socks5_status rt_socks5_feed(struct rt_socks5 *p, const uint8_t *in, size_t len,
                                     size_t *used, uint8_t out[RT_SOCKS5_OUT_MAX], size_t *out_len)
    __attribute__((warn_unused_result));

/* The reply to a request (VER REP RSV ATYP BND.ADDR BND.PORT) into out:
 * code and the bound address (NULL: IPv4 0.0.0.0 port 0). Returns its
 * length, or 0 when cap is too small or bound's atyp is not one of the
 * three (or a name of length 0 or above 255). */
size_t rt_socks5_reply(uint8_t *out, size_t cap, uint8_t code, const struct rt_socks5_addr *bound);

/* A datagram from the client to the UDP relay (RFC 1928 section 7):
 * RSV(2) FRAG ATYP DST.ADDR DST.PORT DATA. Fills *dst and points *payload
 * into d. Returns 0, or -1 (drop the datagram) when the header is cut short,
 * RSV is not zero, FRAG is not zero (fragments are not supported), the
 * ATYP is unknown, or a name is empty or holds a NUL. */
int rt_socks5_udp_parse(const uint8_t *d, size_t len, struct rt_socks5_addr *dst,
                        const uint8_t **payload, size_t *payload_len)
    __attribute__((warn_unused_result));

/* The header of a datagram back to the client, from `from`, into out; the
 * payload follows it. Returns its length (10 for IPv4, 22 for IPv6), or 0
 * when cap is too small or from is not a valid address. */
size_t rt_socks5_udp_header(uint8_t *out, size_t cap, const struct rt_socks5_addr *from);

#endif
