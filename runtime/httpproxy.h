/* HTTP proxy requests, bytes only: the head of one HTTP/1.0 or 1.1 request
 * a local client sends to the proxy, and the short responses the proxy
 * answers with. A push parser: the caller feeds what it read, in any split,
 * until the head is whole (at most RT_HTTPPROXY_HEAD_MAX bytes, else 431).
 * It opens no socket, reads no clock, allocates nothing and keeps no
 * globals; resolving, connecting and relaying belong to the caller.
 *
 * Two forms are served:
 *   CONNECT host:port HTTP/1.1         a tunnel (host may be [IPv6]); answer
 *                                      200 and relay bytes both ways;
 *   GET http://host[:port]/path ...    any method in absolute form (port 80
 *                                      by default); rt_httpproxy_origin_head
 *                                      writes the head for the origin.
 * Origin-form requests (GET /path) and https:// in absolute form get 400.
 *
 * One request per proxied connection: the head sent to the origin says
 * `Connection: close`, so the origin closes after its response and the
 * caller closes the client's connection when the relay ends; a client that
 * wants a second request opens a new connection (as browsers and curl do).
 * Bytes a client sends after its head (a body, or a pipelined request) are
 * relayed to the same origin as they come.
 *
 * Syntax is strict where laxness lets two parsers disagree: lines end in
 * CRLF (a bare CR or LF is 400), no control bytes, no folded header lines,
 * no space before a header's colon, at most one Content-Length and not
 * together with Transfer-Encoding. */
#ifndef RT_HTTPPROXY_H
#define RT_HTTPPROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RT_HTTPPROXY_HEAD_MAX = 8192,                      /* a request head, in bytes */
    RT_HTTPPROXY_FWD_MAX = RT_HTTPPROXY_HEAD_MAX + 32, /* the head for the origin */
    RT_HTTPPROXY_RESPONSE_MAX = 192,                   /* any rt_httpproxy_response */
};

struct rt_httpproxy_config {
    bool require_auth;       /* true: Basic Proxy-Authorization with user:pass */
    const char *user, *pass; /* when require_auth; NULL never matches */
};

enum rt_httpproxy_status {
    RT_HTTPPROXY_MORE = 0,  /* every byte given was taken; the head is not whole yet */
    RT_HTTPPROXY_READY = 1, /* the head is whole: connect, family, addr/host, port */
    RT_HTTPPROXY_FAIL = -1, /* answer with rt_httpproxy_response(p->status), close */
};

struct rt_httpproxy {
    const struct rt_httpproxy_config *cfg; /* borrowed; outlives the parser */
    int state;                             /* internal: reading, ready, failed */
    int status;                            /* FAIL: 400, 407 or 431 */
    bool connect;     /* READY: a CONNECT tunnel (else one request in absolute form) */
    int family;       /* READY: 4 or 6 (an address literal in addr), 0: a name in host */
    uint8_t addr[16]; /* 4 or 16 bytes, network byte order */
    char host[256];   /* the host as written, without brackets, NUL-terminated */
    uint16_t port;    /* host byte order; 80 when absolute form names none */
    size_t taken;     /* bytes taken so far, empty lines before the request included */
    size_t len;       /* bytes of the head held */
    /* the parts of the request line, as offsets into head */
    size_t method_len, path_off, path_len, authority_off, authority_len, version_off;
    size_t fields_off; /* where the first header line starts */
    char head[RT_HTTPPROXY_HEAD_MAX];
};

/* cfg is borrowed and must outlive p. */
void rt_httpproxy_init(struct rt_httpproxy *p, const struct rt_httpproxy_config *cfg);

/* Takes bytes of in, at most up to the end of the head. Returns
 *   RT_HTTPPROXY_MORE  : *used == len, the head is not whole yet;
 *   RT_HTTPPROXY_READY : the head ends at in[*used]: in[*used..len) is what
 *                        the client sent after it (a body, or for CONNECT
 *                        the tunnel's first bytes) and goes to the far end;
 *   RT_HTTPPROXY_FAIL  : p->status says which response to send, then close:
 *                        400 malformed or not served, 407 authentication
 *                        missing or wrong, 431 a head of more than
 *                        RT_HTTPPROXY_HEAD_MAX bytes.
 * Once READY or FAIL, every later call returns the same and takes nothing.
 * Never reads in past len. */
enum rt_httpproxy_status rt_httpproxy_feed(struct rt_httpproxy *p, const uint8_t *in, size_t len,
                                           size_t *used) __attribute__((warn_unused_result));

/* For a READY absolute-form request: the head to send the origin, into out.
 * The request line in origin form (`GET /path HTTP/1.1`), `Host:` naming
 * the URL's authority (the client's own Host is dropped), the client's
 * other header lines in order except Proxy-Connection, Proxy-Authorization,
 * Proxy-Authenticate, Connection, Keep-Alive, TE, Trailer, Upgrade and those
 * Connection names, then `Connection: close` and the empty line. Returns its
 * length (at most RT_HTTPPROXY_FWD_MAX), or 0 for a CONNECT, before READY,
 * or when cap is too small. */
size_t rt_httpproxy_origin_head(const struct rt_httpproxy *p, uint8_t *out, size_t cap);

/* A whole response with no body into out: 200 (`Connection established`,
 * for CONNECT; what follows is the tunnel), or 400, 403, 407 (with
 * `Proxy-Authenticate: Basic realm="triglav"`), 431, 502 (the destination
 * cannot be reached), 504 (it did not answer in time), each with
 * `Connection: close`. Returns its length, or 0 for another status or when
 * cap is too small (RT_HTTPPROXY_RESPONSE_MAX is always enough). */
size_t rt_httpproxy_response(uint8_t *out, size_t cap, int status);

#endif
