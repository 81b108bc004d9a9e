/*
 * tcplisten.h: the server's TCP fallback. A client whose network blocks UDP
 * sends the same encrypted datagrams over a TCP connection to the server's
 * listen address and port (framed by tcpframe.h). Each listen address gets a
 * TCP listener beside its UDP socket; each accepted connection is a slot of a
 * fixed table (tcpconn.h), and its datagrams go to the core exactly like UDP
 * ones, from the connection's remote address, with a "listening socket"
 * number that names the connection: a session path the core points at that
 * number sends its answers back over the same connection. The number carries
 * the slot's generation, so an answer for a connection that closed is
 * dropped rather than sent to whoever holds the slot next.
 *
 * What a stranger can cost: a connection slot until the connection either
 * carries a datagram that authenticates (a DATA message the core accepted)
 * or reaches its idle time; a full table closes its oldest unauthenticated
 * connection to make room. Nothing is allocated per connection.
 */
#ifndef RT_TCPLISTEN_H
#define RT_TCPLISTEN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/key.h"
#include "loop.h"
#include "opts.h"
#include "tcpconn.h"

#define RT_TAG_TCP_LISTEN 0x8000u  /* loop tags 0x8000 + listener */
#define RT_TAG_TCP_CONN   0x10000u /* loop tags 0x10000 + slot */
#define RT_TCP_CONNS      256      /* connections at once */
#define RT_TCP_IDLE_MS    10000    /* an unauthenticated connection's lifetime */

/* Connection numbers as the core sees them ("listening socket" indexes):
 * RT_TCP_ID_BIT | generation << 12 | slot. UDP listeners are 0..RT_MAX_LISTEN. */
#define RT_TCP_ID_BIT 0x40000000u

struct rt_tcp_listen {
    int fd[RT_MAX_LISTEN];
    int n;
    struct rt_tcp_table t;
    struct tg_key_addr peer[RT_TCP_CONNS];
    uint16_t dirty[RT_TCP_CONNS]; /* slots with datagrams queued since the last flush */
    size_t n_dirty;
    uint64_t frames_in, frames_out;
};

/* Opens a TCP listener on each address (the UDP listeners' addresses) and
 * adds it to the loop. Returns 0, or -1 with a sentence in err. */
int rt_tcp_listen_open(struct rt_tcp_listen *l, const struct tg_key_addr *addrs, int n,
                       struct rt_loop *loop, char *err, size_t errcap);
void rt_tcp_listen_close(struct rt_tcp_listen *l);

bool rt_tcp_listen_owns(uint64_t tag);

/* A datagram from connection `id` (its remote address in *from). */
typedef void (*rt_tcp_input_fn)(void *ctx, unsigned id, const struct tg_key_addr *from,
                                uint8_t *data, size_t len);

/* An event on one of its loop tags: accepts, reads (calling input for each
 * datagram) or flushes. */
void rt_tcp_listen_event(struct rt_tcp_listen *l, struct rt_loop *loop, uint64_t tag,
                         uint32_t events, int64_t now_ms, rt_tcp_input_fn input, void *ctx);

/* Whether a core "listening socket" number names a TCP connection. */
static inline bool rt_tcp_is_id(unsigned id)
{
    return (id & RT_TCP_ID_BIT) != 0;
}

/* Queues one datagram on connection id; false when that connection is
 * gone. rt_tcp_listen_flush writes what a batch queued. */
bool rt_tcp_listen_send(struct rt_tcp_listen *l, unsigned id, const uint8_t *data, size_t len);
void rt_tcp_listen_flush(struct rt_tcp_listen *l, struct rt_loop *loop);

/* The connection carried a datagram the core authenticated: it stays until
 * it closes. */
void rt_tcp_listen_proven(struct rt_tcp_listen *l, unsigned id);
bool rt_tcp_listen_is_proven(const struct rt_tcp_listen *l, unsigned id);

/* Closes connections that proved nothing within RT_TCP_IDLE_MS. */
void rt_tcp_listen_tick(struct rt_tcp_listen *l, int64_t now_ms);

#endif
