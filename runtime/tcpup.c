/* A client uplink over TCP (tcpup.h). */
#define _GNU_SOURCE
#include "tcpup.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "opts.h"

#define BACKOFF_MIN TG_SEC(1)
#define BACKOFF_MAX TG_SEC(30)

int rt_tcpup_init(struct rt_tcpup *p, int mode)
{
    memset(p, 0, sizeof *p);
    p->mode = mode;
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        p->u[s].fd = p->u[s].slot = -1;
        p->u[s].backoff = BACKOFF_MIN;
        p->u[s].leaving = TG_TIME_NEVER;
    }
    /* the server is who we chose to call: nothing to prove, nothing expires */
    return rt_tcp_table_init(&p->t, TG_MAX_UPLINKS, INT64_MAX);
}

void rt_tcpup_free(struct rt_tcpup *p)
{
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        rt_tcpup_stop(p, s);
    rt_tcp_table_free(&p->t);
}

bool rt_tcpup_owns(uint64_t tag)
{
    return tag >= RT_TAG_TCPUP && tag < RT_TAG_TCPUP + TG_MAX_UPLINKS;
}

/* Closes s's socket (epoll forgets it with the close). */
static void drop(struct rt_tcpup *p, unsigned s)
{
    struct rt_tcpup_link *u = &p->u[s];
    if (u->slot >= 0)
        rt_tcp_close(&p->t, (size_t)u->slot);
    else if (u->fd >= 0)
        close(u->fd);
    u->fd = u->slot = -1;
    u->leaving = TG_TIME_NEVER;
}

/* A failed attempt or a lost connection: try again later. */
static void failed(struct rt_tcpup *p, unsigned s, tg_time now)
{
    struct rt_tcpup_link *u = &p->u[s];
    drop(p, s);
    u->tries++;
    u->next_try = now + u->backoff;
    u->backoff = u->backoff * 2 < BACKOFF_MAX ? u->backoff * 2 : BACKOFF_MAX;
}

void rt_tcpup_reset(struct rt_tcpup *p, unsigned s, tg_time now)
{
    struct rt_tcpup_link *u = &p->u[s];
    u->heard_udp = now;
    u->next_try = 0;
    u->backoff = BACKOFF_MIN;
}

void rt_tcpup_stop(struct rt_tcpup *p, unsigned s)
{
    drop(p, s);
}

bool rt_tcpup_udp_answer(struct rt_tcpup *p, unsigned s, tg_time now)
{
    struct rt_tcpup_link *u = &p->u[s];
    u->heard_udp = now;
    if (p->mode != RT_TRANSPORT_AUTO || u->fd < 0 || u->leaving != TG_TIME_NEVER)
        return false;
    u->backoff = BACKOFF_MIN;
    u->next_try = 0;
    if (u->slot < 0) {
        drop(p, s); /* still connecting: not needed */
        return false;
    }
    /* Datagrams the server sent before it heard us over UDP may still be
     * on their way over TCP: read them for a while before closing. */
    u->leaving = now + RT_TCPUP_LINGER;
    u->returns++;
    return true;
}

bool rt_tcpup_carries(const struct rt_tcpup *p, unsigned s)
{
    return p->u[s].slot >= 0 && p->u[s].leaving == TG_TIME_NEVER;
}

bool rt_tcpup_udp_allowed(const struct rt_tcpup *p)
{
    return p->mode != RT_TRANSPORT_TCP;
}

/* The table closed s's connection: tick counts the failure. */
static void lost(struct rt_tcpup *p, unsigned s)
{
    p->u[s].fd = p->u[s].slot = -1;
    p->u[s].leaving = TG_TIME_NEVER;
    p->u[s].lost = true;
}

bool rt_tcpup_send(struct rt_tcpup *p, unsigned s, const uint8_t *data, size_t len)
{
    if (!rt_tcpup_carries(p, s))
        return false;
    if (rt_tcp_send(&p->t, (size_t)p->u[s].slot, data, len) < 0) {
        lost(p, s);
        return false;
    }
    return true;
}

void rt_tcpup_flush(struct rt_tcpup *p, struct rt_loop *loop)
{
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        struct rt_tcpup_link *u = &p->u[s];
        if (u->slot < 0)
            continue;
        struct rt_tcp_conn *c = &p->t.c[u->slot];
        if (c->tx_len > 0 && rt_tcp_flush(&p->t, (size_t)u->slot) < 0) {
            lost(p, s);
            continue;
        }
        bool want = c->tx_len > 0;
        if (want != c->out && rt_loop_watch(loop, u->fd, RT_TAG_TCPUP + s, want) == 0)
            c->out = want;
    }
}

bool rt_tcpup_probe_due(struct rt_tcpup *p, unsigned s, tg_time now)
{
    struct rt_tcpup_link *u = &p->u[s];
    if (p->mode != RT_TRANSPORT_AUTO || !rt_tcpup_carries(p, s) || now < u->next_probe)
        return false;
    u->next_probe = now + RT_TCPUP_PROBE;
    return true;
}

/* A non-blocking connect from a socket bound to ifname and marked. */
static int start(const char *ifname, uint32_t mark, const struct tg_key_addr *to)
{
    int fd = socket(to->type == TG_ADDR_IPV6 ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t len;
    rt_addr_to_sockaddr(to, &ss, &len);
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0 ||
        (mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark) != 0) ||
        (connect(fd, (struct sockaddr *)&ss, len) != 0 && errno != EINPROGRESS)) {
        close(fd);
        return -1;
    }
    return fd;
}

bool rt_tcpup_tick(struct rt_tcpup *p, struct rt_loop *loop, unsigned s, bool usable,
                   const char *ifname, uint32_t mark, const struct tg_key_addr *to, size_t n_to,
                   tg_time now)
{
    struct rt_tcpup_link *u = &p->u[s];
    if (u->lost) {
        u->lost = false;
        failed(p, s, now);
    }
    u->usable = usable && p->mode != RT_TRANSPORT_UDP && n_to > 0;
    if (!u->usable) {
        drop(p, s);
        return false;
    }
    if (u->fd >= 0 && u->leaving != TG_TIME_NEVER && now >= u->leaving)
        drop(p, s); /* back on UDP for a while: what was on its way has come */
    if (u->fd >= 0) {
        if (u->slot < 0 && now - u->started >= RT_TCPUP_CONNECT)
            failed(p, s, now); /* no answer to the SYN */
        return false;
    }
    bool want = p->mode == RT_TRANSPORT_TCP || now - u->heard_udp >= RT_TCPUP_AFTER;
    if (!want || now < u->next_try)
        return false;
    u->peer = to[u->tries % n_to];
    u->fd = start(ifname, mark, &u->peer);
    u->started = now;
    if (u->fd < 0 || rt_loop_add(loop, u->fd, RT_TAG_TCPUP + s) != 0 ||
        rt_loop_watch(loop, u->fd, RT_TAG_TCPUP + s, true) != 0) {
        failed(p, s, now);
        return false;
    }
    return true;
}

tg_time rt_tcpup_deadline(const struct rt_tcpup *p)
{
    tg_time t = TG_TIME_NEVER;
    if (p->mode == RT_TRANSPORT_UDP)
        return t;
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        const struct rt_tcpup_link *u = &p->u[s];
        tg_time due;
        if (!u->usable)
            continue;
        if (u->lost)
            due = 0;
        else if (u->fd >= 0)
            due = u->slot < 0 ? u->started + RT_TCPUP_CONNECT : u->leaving;
        else if (p->mode == RT_TRANSPORT_TCP)
            due = u->next_try;
        else
            due = u->heard_udp + RT_TCPUP_AFTER > u->next_try ? u->heard_udp + RT_TCPUP_AFTER
                                                              : u->next_try;
        t = tg_time_min(t, due);
    }
    return t;
}

struct reader {
    unsigned s;
    rt_tcpup_input_fn input;
    void *ctx;
};

static void on_frame(void *ctx, size_t slot, uint8_t *data, size_t len)
{
    (void)slot;
    struct reader *r = ctx;
    r->input(r->ctx, r->s, data, len);
}

enum rt_tcpup_ev rt_tcpup_event(struct rt_tcpup *p, struct rt_loop *loop, uint64_t tag,
                                uint32_t events, tg_time now, rt_tcpup_input_fn input, void *ctx)
{
    unsigned s = (unsigned)(tag - RT_TAG_TCPUP);
    struct rt_tcpup_link *u = &p->u[s];
    if (u->fd < 0)
        return RT_TCPUP_NONE;
    if (u->slot < 0) { /* connecting */
        int e = 0;
        socklen_t el = sizeof e;
        if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
            return RT_TCPUP_NONE;
        if (getsockopt(u->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0) {
            failed(p, s, now);
            return RT_TCPUP_NONE;
        }
        int slot = rt_tcp_adopt(&p->t, u->fd, 0);
        if (slot < 0) { /* closed by the table */
            u->fd = -1;
            failed(p, s, now);
            return RT_TCPUP_NONE;
        }
        p->t.c[slot].authenticated = true;
        u->slot = slot;
        u->connects++;
        u->tries = 0;
        u->backoff = BACKOFF_MIN;
        u->next_probe = now + RT_TCPUP_PROBE;
        rt_loop_watch(loop, u->fd, tag, false);
        return RT_TCPUP_CONNECTED;
    }
    size_t slot = (size_t)u->slot;
    if (events & EPOLLOUT)
        rt_tcpup_flush(p, loop);
    if (u->fd >= 0 && p->t.c[slot].fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        struct reader r = {s, input, ctx};
        rt_tcp_read(&p->t, slot, on_frame, &r);
    }
    if (p->t.c[slot].fd < 0) { /* the server closed it, or it failed */
        bool leaving = u->leaving != TG_TIME_NEVER;
        u->fd = u->slot = -1;
        u->leaving = TG_TIME_NEVER;
        if (leaving)
            return RT_TCPUP_NONE; /* back on UDP already */
        failed(p, s, now);
        return RT_TCPUP_CLOSED;
    }
    return RT_TCPUP_NONE;
}
