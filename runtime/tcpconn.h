/* TCP fallback connections: a fixed table of non-blocking TCP streams, each
 * carrying datagrams framed by tcpframe.h. Memory is allocated once, for the
 * whole table, by rt_tcp_table_init: nothing per connection or per frame.
 * A connection whose peer sends a bad length, closes, or fails is closed and
 * counted; a table that is full makes room by closing its oldest connection
 * that has not been marked authenticated (counted as evicted), and refuses a
 * new one only when every connection is authenticated; a connection that has not been marked authenticated within
 * idle_ms of its start is closed by rt_tcp_expire. Sending never blocks:
 * datagrams gather in a fixed buffer and go out in one write per batch; what
 * the socket does not take waits there, and a datagram that does not fit is
 * dropped whole (like a full UDP socket buffer), so the framing of the
 * stream stays intact. */
#ifndef TG_RUNTIME_TCPCONN_H
#define TG_RUNTIME_TCPCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpframe.h"

enum { RT_TCP_TXBUF = 65536 };

struct rt_tcp_conn {
    int fd; /* -1: free slot */
    uint32_t gen; /* counts the connections this slot has held */
    bool authenticated;
    bool out; /* the owner watches the socket for output (tx waiting) */
    int64_t started_ms;
    size_t tx_len;
    struct tg_tcpframe_dec dec;
    uint8_t tx[RT_TCP_TXBUF];
};

struct rt_tcp_table {
    struct rt_tcp_conn *c;
    size_t cap;
    int64_t idle_ms;
    uint64_t accepted, refused, evicted, bad_frames, closed_idle, tx_dropped;
};

/* Returns 0, or -1 without memory. */
int rt_tcp_table_init(struct rt_tcp_table *t, size_t cap, int64_t idle_ms);
void rt_tcp_table_free(struct rt_tcp_table *t);

/* Takes ownership of a connected socket: makes it non-blocking with
 * TCP_NODELAY (where it is TCP) and returns its slot, or -1 when every slot
 * holds an authenticated connection (the socket is closed and counted). */
int rt_tcp_adopt(struct rt_tcp_table *t, int fd, int64_t now_ms);
void rt_tcp_close(struct rt_tcp_table *t, size_t slot);

/* Reads what the socket has and calls on_frame for each complete datagram.
 * Returns 0 while the connection stays open, -1 once it was closed (peer
 * closed, error, or a bad length). */
int rt_tcp_read(struct rt_tcp_table *t, size_t slot,
                void (*on_frame)(void *ctx, size_t slot, uint8_t *data, size_t len), void *ctx);

/* Queues one datagram in the send buffer (whole frames only: the stream
 * never loses half a frame); nothing is written until rt_tcp_flush, except
 * when the buffer is full. Returns 0, 1 when it was dropped (bad length, or
 * the socket takes no more), -1 when the connection failed and was closed. */
int rt_tcp_send(struct rt_tcp_table *t, size_t slot, const uint8_t *data, size_t len);
/* Writes what waits in the send buffer, as much as the socket takes (call
 * after a batch of rt_tcp_send, and when the socket is writable). Returns 0,
 * or -1 when the connection failed and was closed. */
int rt_tcp_flush(struct rt_tcp_table *t, size_t slot);

/* Connections open now (O(cap)). */
int rt_tcp_open_count(const struct rt_tcp_table *t);

/* Closes connections not authenticated within idle_ms; returns how many. */
size_t rt_tcp_expire(struct rt_tcp_table *t, int64_t now_ms);

#endif
