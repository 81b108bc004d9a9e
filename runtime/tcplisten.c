/* The server's TCP fallback listeners and connections (tcplisten.h). */
#define _GNU_SOURCE
#include "tcplisten.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log.h"

static unsigned conn_id(const struct rt_tcp_listen *l, size_t slot)
{
    return RT_TCP_ID_BIT | (l->t.c[slot].gen & 0x3ffffu) << 12 | (unsigned)slot;
}

/* The slot id names, or -1 when that connection is gone. */
static long id_slot(const struct rt_tcp_listen *l, unsigned id)
{
    size_t slot = id & 0xfffu;
    if (!rt_tcp_is_id(id) || slot >= l->t.cap || l->t.c[slot].fd < 0 || conn_id(l, slot) != id)
        return -1;
    return (long)slot;
}

static int open_one(const struct tg_key_addr *a, char *err, size_t errcap)
{
    char as[RT_ADDRSTRLEN];
    int family = a->type == TG_ADDR_IPV6 ? AF_INET6 : AF_INET;
    int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create a TCP socket: %s", strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    struct sockaddr_storage ss;
    socklen_t len;
    rt_addr_to_sockaddr(a, &ss, &len);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 128) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            snprintf(err, errcap,
                     "TCP port %u on %s (the TCP fallback) is already in use: stop the program "
                     "that holds it (ss -tlpn | grep :%u), or start the server with "
                     "--no-tcp-fallback",
                     a->port, rt_addr_str(a, as), a->port);
        else
            snprintf(err, errcap, "cannot listen on TCP %s (the TCP fallback): %s",
                     rt_addr_str(a, as), strerror(e));
        close(fd);
        return -1;
    }
    return fd;
}

int rt_tcp_listen_open(struct rt_tcp_listen *l, const struct tg_key_addr *addrs, int n,
                       struct rt_loop *loop, char *err, size_t errcap)
{
    memset(l, 0, sizeof *l);
    for (int i = 0; i < RT_MAX_LISTEN; i++)
        l->fd[i] = -1;
    if (rt_tcp_table_init(&l->t, RT_TCP_CONNS, RT_TCP_IDLE_MS) != 0) {
        snprintf(err, errcap, "out of memory for the TCP fallback's connections");
        return -1;
    }
    for (int i = 0; i < n && i < RT_MAX_LISTEN; i++) {
        int fd = open_one(&addrs[i], err, errcap);
        if (fd < 0)
            return -1;
        l->fd[l->n++] = fd;
        int rc = rt_loop_add(loop, fd, RT_TAG_TCP_LISTEN + (unsigned)i);
        if (rc != 0) {
            snprintf(err, errcap, "cannot watch the TCP listener: %s", strerror(-rc));
            return -1;
        }
    }
    return 0;
}

void rt_tcp_listen_close(struct rt_tcp_listen *l)
{
    for (int i = 0; i < l->n; i++)
        close(l->fd[i]);
    l->n = 0;
    rt_tcp_table_free(&l->t);
}

bool rt_tcp_listen_owns(uint64_t tag)
{
    return (tag >= RT_TAG_TCP_LISTEN && tag < RT_TAG_TCP_LISTEN + RT_MAX_LISTEN) ||
           (tag >= RT_TAG_TCP_CONN && tag < RT_TAG_TCP_CONN + RT_TCP_CONNS);
}

static void accept_some(struct rt_tcp_listen *l, struct rt_loop *loop, int lfd, int64_t now_ms)
{
    for (int k = 0; k < 16; k++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN, or a connection that died in the backlog */
        struct tg_key_addr from;
        if (rt_addr_from_sockaddr((struct sockaddr *)&ss, &from) != 0) {
            close(fd);
            continue;
        }
        int slot = rt_tcp_adopt(&l->t, fd, now_ms);
        if (slot < 0)
            continue; /* every slot holds a proven client: closed and counted */
        l->peer[slot] = from;
        if (rt_loop_add(loop, fd, RT_TAG_TCP_CONN + (unsigned)slot) != 0)
            rt_tcp_close(&l->t, (size_t)slot);
    }
}

/* Writes what waits; watches for output while some still does. */
static void flush_one(struct rt_tcp_listen *l, struct rt_loop *loop, size_t slot)
{
    struct rt_tcp_conn *c = &l->t.c[slot];
    if (c->fd < 0 || rt_tcp_flush(&l->t, slot) < 0)
        return;
    bool want = c->tx_len > 0;
    if (want != c->out && rt_loop_watch(loop, c->fd, RT_TAG_TCP_CONN + slot, want) == 0)
        c->out = want;
}

struct reader {
    struct rt_tcp_listen *l;
    rt_tcp_input_fn input;
    void *ctx;
};

static void on_frame(void *ctx, size_t slot, uint8_t *data, size_t len)
{
    struct reader *r = ctx;
    r->l->frames_in++;
    r->input(r->ctx, conn_id(r->l, slot), &r->l->peer[slot], data, len);
}

void rt_tcp_listen_event(struct rt_tcp_listen *l, struct rt_loop *loop, uint64_t tag,
                         uint32_t events, int64_t now_ms, rt_tcp_input_fn input, void *ctx)
{
    if (tag < RT_TAG_TCP_CONN) {
        accept_some(l, loop, l->fd[tag - RT_TAG_TCP_LISTEN], now_ms);
        return;
    }
    size_t slot = (size_t)(tag - RT_TAG_TCP_CONN);
    struct rt_tcp_conn *c = &l->t.c[slot];
    if (c->fd < 0)
        return;
    if (events & EPOLLOUT)
        flush_one(l, loop, slot);
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        struct reader r = {l, input, ctx};
        rt_tcp_read(&l->t, slot, on_frame, &r);
    }
}

bool rt_tcp_listen_send(struct rt_tcp_listen *l, unsigned id, const uint8_t *data, size_t len)
{
    long s = id_slot(l, id);
    if (s < 0)
        return false;
    size_t slot = (size_t)s;
    if (l->t.c[slot].tx_len == 0 && l->n_dirty < RT_TCP_CONNS)
        l->dirty[l->n_dirty++] = (uint16_t)slot;
    if (rt_tcp_send(&l->t, slot, data, len) < 0)
        return false;
    l->frames_out++;
    return true;
}

void rt_tcp_listen_flush(struct rt_tcp_listen *l, struct rt_loop *loop)
{
    for (size_t i = 0; i < l->n_dirty; i++)
        flush_one(l, loop, l->dirty[i]);
    l->n_dirty = 0;
}

bool rt_tcp_listen_is_proven(const struct rt_tcp_listen *l, unsigned id)
{
    long s = id_slot(l, id);
    return s >= 0 && l->t.c[s].authenticated;
}

void rt_tcp_listen_proven(struct rt_tcp_listen *l, unsigned id)
{
    long s = id_slot(l, id);
    if (s >= 0)
        l->t.c[s].authenticated = true;
}

void rt_tcp_listen_tick(struct rt_tcp_listen *l, int64_t now_ms)
{
    size_t n = rt_tcp_expire(&l->t, now_ms);
    if (n > 0)
        rt_debug("TCP fallback: %zu connections closed, idle without proving anything", n);
}
