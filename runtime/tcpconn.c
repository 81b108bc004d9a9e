/* TCP fallback connections (tcpconn.h). */
#define _GNU_SOURCE
#include "tcpconn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int rt_tcp_table_init(struct rt_tcp_table *t, size_t cap, int64_t idle_ms)
{
    memset(t, 0, sizeof *t);
    t->c = calloc(cap > 0 ? cap : 1, sizeof *t->c);
    if (t->c == NULL)
        return -1;
    t->cap = cap;
    t->idle_ms = idle_ms;
    for (size_t i = 0; i < cap; i++)
        t->c[i].fd = -1;
    return 0;
}

void rt_tcp_table_free(struct rt_tcp_table *t)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->c[i].fd >= 0)
            close(t->c[i].fd);
    free(t->c);
    t->c = NULL;
    t->cap = 0;
}

/* A free slot; else the slot of the oldest connection that has proven
 * nothing (closed and counted), so strangers who open connections and stay
 * silent can delay a client's fallback but never lock it out; -1 when every
 * connection is authenticated. */
static long free_slot(struct rt_tcp_table *t)
{
    long oldest = -1;
    for (size_t i = 0; i < t->cap; i++) {
        const struct rt_tcp_conn *c = &t->c[i];
        if (c->fd < 0)
            return (long)i;
        if (!c->authenticated && (oldest < 0 || c->started_ms < t->c[oldest].started_ms))
            oldest = (long)i;
    }
    if (oldest >= 0) {
        rt_tcp_close(t, (size_t)oldest);
        t->evicted++;
    }
    return oldest;
}

int rt_tcp_adopt(struct rt_tcp_table *t, int fd, int64_t now_ms)
{
    long slot = free_slot(t);
    if (slot >= 0) {
        size_t i = (size_t)slot;
        struct rt_tcp_conn *c = &t->c[i];
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            close(fd);
            t->refused++;
            return -1;
        }
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one); /* not TCP: ignored */
        c->fd = fd;
        c->authenticated = false;
        c->out = false;
        c->started_ms = now_ms;
        c->tx_len = 0;
        tg_tcpframe_init(&c->dec, 0);
        c->gen++;
        t->accepted++;
        return (int)i;
    }
    close(fd);
    t->refused++;
    return -1;
}

void rt_tcp_close(struct rt_tcp_table *t, size_t slot)
{
    if (slot < t->cap && t->c[slot].fd >= 0) {
        close(t->c[slot].fd);
        t->c[slot].fd = -1;
    }
}

int rt_tcp_read(struct rt_tcp_table *t, size_t slot,
                void (*on_frame)(void *ctx, size_t slot, uint8_t *data, size_t len), void *ctx)
{
    struct rt_tcp_conn *c = &t->c[slot];
    uint8_t buf[65536];
    for (int rounds = 0; rounds < 16 && c->fd >= 0; rounds++) {
        ssize_t n = recv(c->fd, buf, sizeof buf, 0);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n <= 0) {
            rt_tcp_close(t, slot);
            return -1;
        }
        const uint8_t *p = buf;
        size_t left = (size_t)n;
        for (;;) {
            const uint8_t *f;
            size_t fl;
            enum tg_tcpframe_status st = tg_tcpframe_feed(&c->dec, &p, &left, &f, &fl);
            if (st == TG_TCPFRAME_NEED_MORE)
                break;
            if (st == TG_TCPFRAME_BAD_LEN) {
                t->bad_frames++;
                rt_tcp_close(t, slot);
                return -1;
            }
            on_frame(ctx, slot, c->dec.buf + TG_TCPFRAME_HDR, fl);
            if (c->fd < 0)
                return -1; /* closed by the callback */
        }
    }
    return 0;
}

int rt_tcp_flush(struct rt_tcp_table *t, size_t slot)
{
    struct rt_tcp_conn *c = &t->c[slot];
    while (c->fd >= 0 && c->tx_len > 0) {
        ssize_t n = send(c->fd, c->tx, c->tx_len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return 0;
        if (n <= 0) {
            rt_tcp_close(t, slot);
            return -1;
        }
        memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
        c->tx_len -= (size_t)n;
    }
    return c->fd >= 0 ? 0 : -1;
}

int rt_tcp_send(struct rt_tcp_table *t, size_t slot, const uint8_t *data, size_t len)
{
    struct rt_tcp_conn *c = &t->c[slot];
    if (c->fd < 0)
        return -1;
    size_t total = TG_TCPFRAME_HDR + len;
    if (len == 0 || len > TG_TCPFRAME_MAX) {
        t->tx_dropped++;
        return 1;
    }
    if (total > RT_TCP_TXBUF - c->tx_len && rt_tcp_flush(t, slot) < 0)
        return -1;
    if (total > RT_TCP_TXBUF - c->tx_len) { /* the socket takes no more: like a full UDP buffer */
        t->tx_dropped++;
        return 1;
    }
    tg_tcpframe_header(c->tx + c->tx_len, len);
    memcpy(c->tx + c->tx_len + TG_TCPFRAME_HDR, data, len);
    c->tx_len += total;
    return 0;
}

int rt_tcp_open_count(const struct rt_tcp_table *t)
{
    int n = 0;
    for (size_t i = 0; i < t->cap; i++)
        n += t->c[i].fd >= 0;
    return n;
}

size_t rt_tcp_expire(struct rt_tcp_table *t, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct rt_tcp_conn *c = &t->c[i];
        if (c->fd >= 0 && !c->authenticated && now_ms - c->started_ms >= t->idle_ms) {
            rt_tcp_close(t, i);
            t->closed_idle++;
            n++;
        }
    }
    return n;
}
