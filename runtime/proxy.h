/*
 * proxy.h: the SOCKS5 and HTTP proxies of `triglav connect`. Each accepted
 * local connection names a destination (SOCKS5 CONNECT, HTTP CONNECT, or an
 * HTTP request in absolute form); the proxy opens a TCP connection to it from
 * the tunnel address through the userspace stack (stack.h), and copies bytes
 * both ways. Nothing of it touches the host's routing: streams leave through
 * the tunnel only, and the server sees them like any tunnel client's traffic.
 *
 * Flow control end to end: bytes from the far end are taken from lwIP only
 * as fast as the local client reads them (its window shrinks meanwhile), and
 * the local socket is read only while lwIP has send buffer. A stream whose
 * destination does not answer within RT_PROXY_CONNECT_S is refused (SOCKS5
 * reply 4, HTTP 504). Destinations given as names are resolved through the
 * tunnel by the DNS server of --dns-server (the local resolver never sees
 * them).
 */
#ifndef RT_PROXY_H
#define RT_PROXY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/key.h"
#include "core/time.h"
#include "loop.h"

#define RT_TAG_PROXY       0x30000u /* loop tags 0x30000 .. + 2 + 2 * RT_PROXY_STREAMS */
#define RT_PROXY_STREAMS   256
#define RT_PROXY_CONNECT_S 15

struct rt_proxy_opts {
    struct tg_key_addr socks, http; /* where to listen (port 0: that proxy is off) */
    const char *user, *pass;        /* NULL: no authentication */
    uint8_t dns[4];                 /* resolver for names, reached through the tunnel */
};

struct rt_proxy_counters {
    uint64_t accepted, refused, connected, failed, bytes_out, bytes_in;
    unsigned open;
};

struct rt_proxy;

/* Opens the listeners and adds them to the loop. Returns 0, or -1 with a
 * sentence in err. */
int rt_proxy_open(struct rt_proxy **out, const struct rt_proxy_opts *o, struct rt_loop *loop,
                  char *err, size_t errcap);
void rt_proxy_close(struct rt_proxy *p);

bool rt_proxy_owns(uint64_t tag);
void rt_proxy_event(struct rt_proxy *p, uint64_t tag, uint32_t events, tg_time now);
/* Writes to the local clients what the stack delivered since the last
 * call: call after feeding it a batch of packets. */
void rt_proxy_flush(struct rt_proxy *p);
/* Streams that waited too long for their destination; call now and then. */
void rt_proxy_tick(struct rt_proxy *p, tg_time now);
const struct rt_proxy_counters *rt_proxy_counters(const struct rt_proxy *p);

#endif
