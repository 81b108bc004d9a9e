/* The SOCKS5 and HTTP proxies of `triglav connect` (proxy.h). */
#define _GNU_SOURCE
#include "proxy.h"

#include <errno.h>
#include <limits.h> /* SSIZE_MAX, before lwIP */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/ip_addr.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#include "addr.h"
#include "log.h"
#include "proxyfront.h"
#include "resolver.h"

enum { TAG_SOCKS = 0, TAG_HTTP = 1, TAG_STREAM = 2 };
/* lwIP as Debian builds it has a 64 KiB window (TCP_WND), which bounds one
 * stream at 64 KiB per round trip. With window scaling negotiated (shift 1)
 * the stream is granted up to twice that here, by the bytes the local
 * client took (grant), instead of tcp_recved, which would clamp it back. */
#define RECV_WND (2u * 0xffffu)

enum phase { P_HEAD, P_RESOLVING, P_CONNECTING, P_PIPE, P_UDP };

struct stream {
    struct rt_proxy *px;
    unsigned idx;
    int fd;
    enum phase phase;
    struct tcp_pcb *pcb;
    tg_time started;
    bool local_eof, remote_eof, reading, writing;
    bool dirty;                /* bytes for the local client arrived since the last flush */
    int udp_fd;                /* UDP ASSOCIATE: the relay's local socket (-1: none) */
    struct udp_pcb *upcb;      /* ... and its socket in the tunnel */
    struct sockaddr_in peer;   /* the control connection's client */
    struct sockaddr_in client; /* where relayed datagrams come from (port 0: none yet) */
    struct rt_front front;     /* the request's parser (proxyfront.h) */
    size_t down_off, down_len; /* far end -> local client, waiting */
    uint8_t down[RECV_WND + 1024];
};

struct rt_proxy {
    struct rt_proxy_opts o;
    char user[256], pass[256]; /* o.user and o.pass point here */
    struct rt_loop *loop;
    int lfd[2];
    struct stream *s[RT_PROXY_STREAMS];
    struct rt_proxy_counters k;
    uint16_t dirty[RT_PROXY_STREAMS]; /* streams to flush */
    size_t n_dirty;
    struct rt_resolver res;
};

/* ------------------------------------------------------------ streams */

static uint64_t tag_of(const struct stream *s)
{
    return RT_TAG_PROXY + TAG_STREAM + s->idx;
}

static uint64_t udp_tag_of(const struct stream *s)
{
    return RT_TAG_PROXY + TAG_STREAM + RT_PROXY_STREAMS + s->idx;
}

/* Watch the local socket for input while lwIP can take bytes and for output
 * while bytes wait for it. */
static void watch(struct stream *s)
{
    bool in = !s->local_eof && (s->phase == P_HEAD || s->phase == P_UDP ||
                                (s->phase == P_PIPE && s->pcb != NULL && tcp_sndbuf(s->pcb) > 0));
    bool out = s->down_len > 0;
    if (in == s->reading && out == s->writing)
        return;
    struct epoll_event ev = {.events = (in ? EPOLLIN : 0u) | (out ? EPOLLOUT : 0u),
                             .data.u64 = tag_of(s)};
    if (epoll_ctl(s->px->loop->epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0) {
        s->reading = in;
        s->writing = out;
    }
}

static void stream_free(struct stream *s)
{
    struct rt_proxy *px = s->px;
    if (s->pcb != NULL) {
        tcp_arg(s->pcb, NULL);
        tcp_recv(s->pcb, NULL);
        tcp_sent(s->pcb, NULL);
        tcp_err(s->pcb, NULL);
        if (tcp_close(s->pcb) != ERR_OK)
            tcp_abort(s->pcb);
    }
    rt_resolver_cancel(&px->res, s->idx);
    if (s->upcb != NULL)
        udp_remove(s->upcb);
    if (s->udp_fd >= 0)
        close(s->udp_fd);
    close(s->fd);
    px->s[s->idx] = NULL;
    px->k.open--;
    free(s);
}

/* The local client took n bytes: the far end may send as many more. */
static void grant(struct tcp_pcb *pcb, size_t n)
{
    tcpwnd_size_t max = (pcb->flags & TF_WND_SCALE) ? RECV_WND : 0xffffu;
    pcb->rcv_wnd = pcb->rcv_wnd + n > max ? max : (tcpwnd_size_t)(pcb->rcv_wnd + n);
    if (tcp_update_rcv_ann_wnd(pcb) >= TCP_WND_UPDATE_THRESHOLD) {
        tcp_ack_now(pcb);
        tcp_output(pcb);
    }
}

/* Writes what waits for the local client; false when the stream ended. */
static bool flush_down(struct stream *s)
{
    while (s->down_len > 0) {
        ssize_t n = send(s->fd, s->down + s->down_off, s->down_len, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        if (n <= 0) {
            stream_free(s);
            return false;
        }
        s->down_off += (size_t)n;
        s->down_len -= (size_t)n;
        s->px->k.bytes_in += (uint64_t)n;
        if (s->pcb != NULL)
            grant(s->pcb, (size_t)n);
    }
    if (s->down_len == 0)
        s->down_off = 0;
    if (s->down_len == 0 && s->remote_eof) {
        shutdown(s->fd, SHUT_WR);
        if (s->local_eof) {
            stream_free(s);
            return false;
        }
    }
    watch(s);
    return true;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct stream *s = arg;
    (void)pcb;
    if (s == NULL) {
        if (p != NULL)
            pbuf_free(p);
        return ERR_OK;
    }
    if (p == NULL || err != ERR_OK) {
        s->remote_eof = true;
        if (p != NULL)
            pbuf_free(p);
    } else {
        if (s->down_off + s->down_len + p->tot_len > sizeof s->down) {
            memmove(s->down, s->down + s->down_off, s->down_len);
            s->down_off = 0;
        }
        if (s->down_len + p->tot_len > sizeof s->down)
            return ERR_MEM; /* lwIP offers it again later */
        pbuf_copy_partial(p, s->down + s->down_off + s->down_len, p->tot_len, 0);
        s->down_len += p->tot_len;
        pbuf_free(p);
    }
    /* written to the local client once the whole batch of packets is in
     * (rt_proxy_flush): one send per batch, not per segment */
    if (!s->dirty && s->px->n_dirty < RT_PROXY_STREAMS) {
        s->dirty = true;
        s->px->dirty[s->px->n_dirty++] = (uint16_t)s->idx;
    }
    return ERR_OK;
}

void rt_proxy_flush(struct rt_proxy *p)
{
    for (size_t i = 0; i < p->n_dirty; i++) {
        struct stream *s = p->s[p->dirty[i]];
        if (s != NULL && s->dirty) {
            s->dirty = false;
            flush_down(s);
        }
    }
    p->n_dirty = 0;
}

static err_t on_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb, (void)len;
    if (arg != NULL)
        watch(arg); /* send buffer again: read the local client */
    return ERR_OK;
}

static void on_err(void *arg, err_t err)
{
    struct stream *s = arg;
    if (s == NULL)
        return;
    s->pcb = NULL; /* lwIP freed it */
    if (s->phase == P_CONNECTING) {
        s->px->k.failed++;
        rt_front_refuse(&s->front, s->fd, err == ERR_RST ? RT_FRONT_REFUSED : RT_FRONT_UNREACHABLE);
    }
    stream_free(s);
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct stream *s = arg;
    (void)err;
    if (s == NULL)
        return ERR_OK;
    s->phase = P_PIPE;
    s->px->k.connected++;
    grant(pcb, RECV_WND); /* the whole window from the start, once scaling is agreed */
    uint8_t bound[4];
    memcpy(bound, &pcb->local_ip, 4);
    /* the reply to the local client, and what it sent after its request
     * (or the rewritten HTTP head) to the far end */
    const uint8_t *fwd;
    size_t fwd_len;
    if (rt_front_connected(&s->front, s->fd, bound, pcb->local_port, &fwd, &fwd_len) != 0) {
        s->pcb = NULL;
        tcp_arg(pcb, NULL);
        stream_free(s);
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    if (fwd_len > 0 && tcp_write(pcb, fwd, (u16_t)fwd_len, TCP_WRITE_FLAG_COPY) == ERR_OK) {
        s->px->k.bytes_out += fwd_len;
        tcp_output(pcb);
    }
    watch(s);
    return ERR_OK;
}

/* The destination is known: open the connection through the tunnel. */
static void dial(struct stream *s, const ip_addr_t *to, uint16_t port)
{
    s->pcb = tcp_new_ip_type(IP_GET_TYPE(to));
    if (s->pcb == NULL) {
        rt_front_refuse(&s->front, s->fd, RT_FRONT_FAILURE);
        stream_free(s);
        return;
    }
    tcp_arg(s->pcb, s);
    tcp_recv(s->pcb, on_recv);
    tcp_sent(s->pcb, on_sent);
    tcp_err(s->pcb, on_err);
    tcp_nagle_disable(s->pcb);
    s->phase = P_CONNECTING;
    watch(s);
    if (tcp_connect(s->pcb, to, port, on_connected) != ERR_OK) {
        rt_front_refuse(&s->front, s->fd, RT_FRONT_UNREACHABLE);
        stream_free(s);
    }
}

static void resolved(void *ctx, unsigned idx, const uint8_t addr[4])
{
    struct rt_proxy *px = ctx;
    struct stream *s = idx < RT_PROXY_STREAMS ? px->s[idx] : NULL;
    if (s == NULL || s->phase != P_RESOLVING)
        return;
    if (addr == NULL) {
        rt_front_refuse(&s->front, s->fd, RT_FRONT_NO_NAME);
        stream_free(s);
        return;
    }
    ip_addr_t to;
    IP_ADDR4(&to, addr[0], addr[1], addr[2], addr[3]);
    dial(s, &to, s->front.port);
}

/* ------------------------------------------------------------ UDP ASSOCIATE */

/* A datagram from the tunnel for the relay's client. */
static void on_udp(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *from,
                   u16_t port)
{
    struct stream *s = arg;
    (void)pcb;
    uint8_t buf[RT_SOCKS5_UDP_HDR_MAX + 65535];
    if (s != NULL && s->client.sin_port != 0 && IP_IS_V4(from)) {
        struct rt_socks5_addr src = {.atyp = RT_SOCKS5_IPV4, .port = port};
        memcpy(src.ip, &ip_2_ip4(from)->addr, 4);
        size_t h = rt_socks5_udp_header(buf, sizeof buf, &src);
        u16_t n = pbuf_copy_partial(p, buf + h, (u16_t)(sizeof buf - h), 0);
        if (h > 0 &&
            sendto(s->udp_fd, buf, h + n, 0, (struct sockaddr *)&s->client, sizeof s->client) > 0)
            s->px->k.bytes_in += n;
    }
    pbuf_free(p);
}

/* Datagrams from the client: their header off, into the tunnel. Only the
 * control connection's host may use the relay, and only from one port. */
static void udp_event(struct stream *s)
{
    uint8_t buf[65536];
    for (int k = 0; k < 32; k++) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s->udp_fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        if (from.sin_family != AF_INET || from.sin_addr.s_addr != s->peer.sin_addr.s_addr ||
            (s->client.sin_port != 0 && from.sin_port != s->client.sin_port))
            continue;
        struct rt_socks5_addr dst;
        const uint8_t *payload;
        size_t plen;
        if (rt_socks5_udp_parse(buf, (size_t)n, &dst, &payload, &plen) != 0 ||
            dst.atyp != RT_SOCKS5_IPV4 || dst.port == 0 || plen > 0xffff)
            continue; /* names and IPv6 are not relayed */
        s->client = from;
        u16_t len = (u16_t)plen;
        struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, len, PBUF_RAM);
        if (p == NULL)
            continue;
        pbuf_take(p, payload, len);
        ip_addr_t to;
        IP_ADDR4(&to, dst.ip[0], dst.ip[1], dst.ip[2], dst.ip[3]);
        if (udp_sendto(s->upcb, p, &to, dst.port) == ERR_OK)
            s->px->k.bytes_out += len;
        pbuf_free(p);
    }
}

/* UDP ASSOCIATE: a relay socket on the proxies' address, one in the tunnel;
 * the association lasts as long as the control connection. */
static void associate(struct stream *s)
{
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t sl = sizeof sa, pl = sizeof s->peer;
    memcpy(&sa.sin_addr, s->px->o.socks.addr, 4);
    s->udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    s->upcb = udp_new();
    if (s->udp_fd < 0 || s->upcb == NULL || bind(s->udp_fd, (struct sockaddr *)&sa, sl) != 0 ||
        getsockname(s->udp_fd, (struct sockaddr *)&sa, &sl) != 0 ||
        getpeername(s->fd, (struct sockaddr *)&s->peer, &pl) != 0 ||
        rt_loop_add(s->px->loop, s->udp_fd, udp_tag_of(s)) != 0 ||
        udp_bind(s->upcb, IP4_ADDR_ANY, 0) != ERR_OK) {
        rt_front_refuse(&s->front, s->fd, RT_FRONT_FAILURE);
        stream_free(s);
        return;
    }
    udp_recv(s->upcb, on_udp, s);
    s->phase = P_UDP;
    s->px->k.connected++;
    if (rt_front_udp_ready(&s->front, s->fd, s->px->o.socks.addr, ntohs(sa.sin_port)) != 0) {
        stream_free(s);
        return;
    }
    watch(s);
}

/* The control connection of an association: it only ever ends. */
static void read_control(struct stream *s)
{
    uint8_t buf[512];
    ssize_t n = recv(s->fd, buf, sizeof buf, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        stream_free(s);
}

/* Bytes of the request: parse; once it is whole, resolve or dial. */
static void read_head(struct stream *s)
{
    enum rt_front_status st = rt_front_read(&s->front, s->fd);
    if (st == RT_FRONT_MORE) {
        watch(s);
        return;
    }
    if (st != RT_FRONT_READY) { /* refused (answered) or the client left */
        s->px->k.refused++;
        stream_free(s);
        return;
    }
    if (s->front.udp) {
        associate(s);
        return;
    }
    ip_addr_t to;
    if (s->front.family == 4) {
        IP_ADDR4(&to, s->front.addr[0], s->front.addr[1], s->front.addr[2], s->front.addr[3]);
        dial(s, &to, s->front.port);
    } else if (s->front.family == 6) {
        IP_ADDR6(&to, 0, 0, 0, 0);
        memcpy(&to.u_addr.ip6.addr, s->front.addr, 16);
        ip6_addr_clear_zone(ip_2_ip6(&to));
        dial(s, &to, s->front.port);
    } else {
        s->phase = P_RESOLVING;
        watch(s);
        if (rt_resolver_ask(&s->px->res, s->idx, s->front.name) != 0)
            resolved(s->px, s->idx, NULL);
    }
}

/* The local client sent bytes while the stream pipes: on to the far end. */
static void read_up(struct stream *s)
{
    uint8_t buf[65536];
    size_t room = tcp_sndbuf(s->pcb);
    if (room == 0) {
        watch(s);
        return;
    }
    ssize_t n = recv(s->fd, buf, room < sizeof buf ? room : sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        s->local_eof = true;
        if (s->pcb != NULL)
            tcp_shutdown(s->pcb, 0, 1);
        if (s->remote_eof && s->down_len == 0) {
            stream_free(s);
            return;
        }
        watch(s);
        return;
    }
    if (tcp_write(s->pcb, buf, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
        stream_free(s);
        return;
    }
    s->px->k.bytes_out += (uint64_t)n;
    tcp_output(s->pcb);
    watch(s);
}

static void stream_event(struct stream *s, uint32_t events)
{
    if ((events & EPOLLOUT) && !flush_down(s))
        return;
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    if (s->phase == P_HEAD)
        read_head(s);
    else if (s->phase == P_UDP)
        read_control(s);
    else if (s->phase == P_PIPE && s->pcb != NULL)
        read_up(s);
}

/* ------------------------------------------------------------ listeners */

static int listen_on(const struct tg_key_addr *a, const char *what, char *err, size_t errcap)
{
    char as[RT_ADDRSTRLEN];
    int fd = socket(a->type == TG_ADDR_IPV6 ? AF_INET6 : AF_INET,
                    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errcap, "cannot create a TCP socket: %s", strerror(errno));
        return -1;
    }
    int on = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    struct sockaddr_storage ss;
    socklen_t len;
    rt_addr_to_sockaddr(a, &ss, &len);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
        int e = errno;
        snprintf(err, errcap, "cannot listen for the %s proxy on %s: %s%s", what,
                 rt_addr_str(a, as), strerror(e),
                 e == EADDRINUSE ? " (choose another port)"
                 : e == EACCES   ? " (ports below 1024 need privileges: choose one above)"
                                 : "");
        close(fd);
        return -1;
    }
    return fd;
}

static void accept_some(struct rt_proxy *px, int which, tg_time now)
{
    for (int k = 0; k < 16; k++) {
        int fd = accept4(px->lfd[which], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        unsigned idx = 0;
        while (idx < RT_PROXY_STREAMS && px->s[idx] != NULL)
            idx++;
        struct stream *s = idx < RT_PROXY_STREAMS ? calloc(1, sizeof *s) : NULL;
        if (s == NULL) {
            px->k.refused++;
            close(fd);
            continue;
        }
        *s = (struct stream){.px = px,
                             .idx = idx,
                             .fd = fd,
                             .phase = P_HEAD,
                             .started = now,
                             .reading = true,
                             .udp_fd = -1};
        rt_front_init(&s->front, which == TAG_SOCKS ? RT_FRONT_SOCKS : RT_FRONT_HTTP, px->o.user,
                      px->o.pass);
        if (rt_loop_add(px->loop, fd, tag_of(s)) != 0) {
            close(fd);
            free(s);
            continue;
        }
        px->s[idx] = s;
        px->k.accepted++;
        px->k.open++;
    }
}

int rt_proxy_open(struct rt_proxy **out, const struct rt_proxy_opts *o, struct rt_loop *loop,
                  char *err, size_t errcap)
{
    struct rt_proxy *px = calloc(1, sizeof *px);
    if (px == NULL) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    px->o = *o;
    if (o->user != NULL && o->pass != NULL) {
        snprintf(px->user, sizeof px->user, "%s", o->user);
        snprintf(px->pass, sizeof px->pass, "%s", o->pass);
        px->o.user = px->user;
        px->o.pass = px->pass;
    }
    px->loop = loop;
    px->lfd[0] = px->lfd[1] = -1;
    const struct tg_key_addr *where[2] = {&o->socks, &o->http};
    static const char *const names[2] = {"SOCKS5", "HTTP"};
    for (int i = 0; i < 2; i++) {
        if (where[i]->port == 0)
            continue;
        px->lfd[i] = listen_on(where[i], names[i], err, errcap);
        if (px->lfd[i] < 0 || rt_loop_add(loop, px->lfd[i], RT_TAG_PROXY + (unsigned)i) != 0) {
            rt_proxy_close(px);
            return -1;
        }
    }
    if (rt_resolver_open(&px->res, o->dns, resolved, px) != 0) {
        snprintf(err, errcap, "cannot set up the resolver");
        rt_proxy_close(px);
        return -1;
    }
    *out = px;
    return 0;
}

void rt_proxy_close(struct rt_proxy *p)
{
    if (p == NULL)
        return;
    for (unsigned i = 0; i < RT_PROXY_STREAMS; i++)
        if (p->s[i] != NULL)
            stream_free(p->s[i]);
    for (int i = 0; i < 2; i++)
        if (p->lfd[i] >= 0)
            close(p->lfd[i]);
    rt_resolver_close(&p->res);
    free(p);
}

bool rt_proxy_owns(uint64_t tag)
{
    return tag >= RT_TAG_PROXY && tag < RT_TAG_PROXY + TAG_STREAM + 2 * RT_PROXY_STREAMS;
}

void rt_proxy_event(struct rt_proxy *p, uint64_t tag, uint32_t events, tg_time now)
{
    unsigned t = (unsigned)(tag - RT_TAG_PROXY);
    if (t < TAG_STREAM) {
        accept_some(p, (int)t, now);
        return;
    }
    bool udp = t >= TAG_STREAM + RT_PROXY_STREAMS;
    struct stream *s = p->s[t - TAG_STREAM - (udp ? RT_PROXY_STREAMS : 0)];
    if (s != NULL && udp)
        udp_event(s);
    else if (s != NULL)
        stream_event(s, events);
}

void rt_proxy_tick(struct rt_proxy *p, tg_time now)
{
    rt_resolver_tick(&p->res, now);
    for (unsigned i = 0; i < RT_PROXY_STREAMS; i++) {
        struct stream *s = p->s[i];
        if (s != NULL && s->phase != P_PIPE && s->phase != P_UDP &&
            now - s->started >= TG_SEC(RT_PROXY_CONNECT_S)) {
            p->k.failed++;
            rt_front_refuse(&s->front, s->fd, RT_FRONT_TIMEOUT);
            stream_free(s);
        }
    }
}

const struct rt_proxy_counters *rt_proxy_counters(const struct rt_proxy *p)
{
    return &p->k;
}
