/*
 * tcpup.h: a client uplink over TCP, for networks that block UDP (hotels,
 * corporate networks, some trains). The uplink keeps its place in the
 * session: the same encrypted datagrams the core made for it go over a TCP
 * connection to the server's listen address and port (framed by
 * tcpframe.h), from a socket bound to the uplink's interface and marked
 * like its UDP socket.
 *
 * Transport `auto` (the default): an uplink that has heard no authenticated
 * datagram over UDP for RT_TCPUP_AFTER since it became usable or since its
 * last UDP answer opens a TCP connection; while the connection carries the
 * uplink, one datagram in RT_TCPUP_PROBE also goes out over UDP first, and
 * the first authenticated answer over UDP takes the uplink back to UDP (the
 * connection is read for RT_TCPUP_LINGER more, for what was on its way, and
 * closed). `tcp`: connect at once and never use UDP. `udp`:
 * never TCP. A connection that fails or closes is tried again after 1 s,
 * doubling to 30 s. Over TCP a lost segment holds back every datagram
 * behind it, and the inner TCP's own recovery stacks on it: expect less
 * throughput under loss than over UDP.
 */
#ifndef RT_TCPUP_H
#define RT_TCPUP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/endpoint.h"
#include "core/key.h"
#include "core/time.h"
#include "loop.h"
#include "tcpconn.h"

#define RT_TAG_TCPUP     0x20000u  /* loop tags 0x20000 + uplink */
#define RT_TCPUP_AFTER   TG_SEC(3) /* no UDP answer this long: try TCP */
#define RT_TCPUP_PROBE   TG_SEC(2) /* while on TCP, one datagram over UDP too this often */
#define RT_TCPUP_CONNECT TG_SEC(5) /* a connection attempt's limit */
#define RT_TCPUP_LINGER  TG_SEC(1) /* back on UDP: the connection is read this long yet */

struct rt_tcpup_link {
    int fd;                  /* the socket, connecting or connected (-1: none) */
    struct tg_key_addr peer; /* the server address it connects to */
    int slot;                /* its slot in the table once connected (-1: connecting) */
    tg_time heard_udp;       /* the last UDP answer, or when the uplink became usable */
    tg_time started;         /* of the connection attempt */
    tg_time next_try, backoff, next_probe;
    unsigned tries;             /* attempts since the last success: picks the address */
    bool lost;                  /* a send found the connection gone */
    bool usable;                /* as the last tick was told */
    tg_time leaving;            /* back on UDP: the connection is only read until then */
    uint64_t connects, returns; /* connections made; returns to UDP */
};

struct rt_tcpup {
    int mode; /* enum rt_transport */
    struct rt_tcp_table t;
    struct rt_tcpup_link u[TG_MAX_UPLINKS];
};

/* Returns 0, or -1 without memory. */
int rt_tcpup_init(struct rt_tcpup *p, int mode);
void rt_tcpup_free(struct rt_tcpup *p);

bool rt_tcpup_owns(uint64_t tag);

/* Uplink s became usable (or a fresh session starts): its UDP silence
 * counts from now. */
void rt_tcpup_reset(struct rt_tcpup *p, unsigned s, tg_time now);
/* Uplink s is gone or down: its connection closes. */
void rt_tcpup_stop(struct rt_tcpup *p, unsigned s);

/* An authenticated datagram arrived over UDP on s. Returns true when that
 * took s back from TCP to UDP. */
bool rt_tcpup_udp_answer(struct rt_tcpup *p, unsigned s, tg_time now);

/* Whether s's datagrams go over TCP now (connected), and whether they may
 * go over UDP (not mode tcp). */
bool rt_tcpup_carries(const struct rt_tcpup *p, unsigned s);
bool rt_tcpup_udp_allowed(const struct rt_tcpup *p);

/* Queues one datagram on s's connection; false when it failed (the
 * connection is closed and tried again later). rt_tcpup_flush writes what
 * a batch queued, on every connection. */
bool rt_tcpup_send(struct rt_tcpup *p, unsigned s, const uint8_t *data, size_t len);
void rt_tcpup_flush(struct rt_tcpup *p, struct rt_loop *loop);

/* While s is on TCP in mode auto: true once per RT_TCPUP_PROBE, for the
 * datagram about to be sent, which then goes over UDP too (first). */
bool rt_tcpup_probe_due(struct rt_tcpup *p, unsigned s, tg_time now);

/* Starts or gives up connection attempts that are due for a usable uplink
 * s bound to ifname with mark; the server is to[tries % n_to]. Returns
 * true when it started one (for the log). */
bool rt_tcpup_tick(struct rt_tcpup *p, struct rt_loop *loop, unsigned s, bool usable,
                   const char *ifname, uint32_t mark, const struct tg_key_addr *to, size_t n_to,
                   tg_time now);
/* When rt_tcpup_tick next has work. */
tg_time rt_tcpup_deadline(const struct rt_tcpup *p);

/* A datagram from the server over s's connection. */
typedef void (*rt_tcpup_input_fn)(void *ctx, unsigned s, uint8_t *data, size_t len);

enum rt_tcpup_ev { RT_TCPUP_NONE, RT_TCPUP_CONNECTED, RT_TCPUP_CLOSED };

/* An event on s's loop tag: completes a connection, reads datagrams or
 * flushes. Says whether the connection just came up or went away. */
enum rt_tcpup_ev rt_tcpup_event(struct rt_tcpup *p, struct rt_loop *loop, uint64_t tag,
                                uint32_t events, tg_time now, rt_tcpup_input_fn input, void *ctx);

#endif
