/* Batched UDP. Datagrams the kernel refuses (ENOBUFS, unreachable) are
 * dropped: the multipath layer sees the loss and routes around it. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "udp.h"

static void set_buffers(int fd, int bytes)
{
    if (bytes <= 0)
        return;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0)
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

int rt_udp_open(const struct tg_key_addr *local, const struct rt_udp_opts *o, char *err,
                size_t errcap)
{
    int family = local->type == TG_ADDR_IPV6 ? AF_INET6 : AF_INET;
    char as[RT_ADDRSTRLEN];
    int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        snprintf(err, errcap, "cannot create a UDP socket: %s", strerror(e));
        return -e;
    }
    if (o->device != NULL) {
        if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->device, (socklen_t)strlen(o->device)) !=
            0) {
            int e = errno;
            if (e == ENODEV)
                snprintf(err, errcap,
                         "unknown interface '%s': list the interfaces with `ip link` and pass "
                         "existing ones with -i, or use --auto-discover",
                         o->device);
            else if (e == EPERM)
                snprintf(err, errcap,
                         "no permission to bind a socket to interface '%s': run with sudo or "
                         "setcap cap_net_admin+ep",
                         o->device);
            else
                snprintf(err, errcap, "cannot bind a socket to interface '%s': %s", o->device,
                         strerror(e));
            close(fd);
            return -e;
        }
    }
    if (o->mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &o->mark, sizeof o->mark) != 0) {
        int e = errno;
        snprintf(err, errcap,
                 "cannot mark the uplink socket (SO_MARK): %s; run with sudo or setcap "
                 "cap_net_admin+ep",
                 strerror(e));
        close(fd);
        return -e;
    }
    if (family == AF_INET6) {
        /* [::]:P must not claim 0.0.0.0:P too: a server listens on both */
        int v6only = o->dual_stack ? 0 : 1;
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, sizeof v6only) != 0) {
            int e = errno;
            snprintf(err, errcap, "cannot set IPV6_V6ONLY on a UDP socket: %s", strerror(e));
            close(fd);
            return -e;
        }
    }
    if (family == AF_INET || o->dual_stack) {
        int pmtu = IP_PMTUDISC_DONT; /* let routers fragment rather than lose the tunnel */
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
    }
    set_buffers(fd, o->buffer_bytes);
    int on = 1; /* receive coalesced datagrams (UDP GRO) when the kernel can */
    setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on);
    struct sockaddr_storage ss;
    socklen_t len;
    rt_addr_to_sockaddr(local, &ss, &len);
    if (bind(fd, (struct sockaddr *)&ss, len) != 0) {
        int e = errno;
        if (e == EADDRINUSE)
            snprintf(err, errcap,
                     "UDP port %u on %s is already in use: stop the program that holds it "
                     "(ss -ulpn | grep :%u) or choose another --listen port",
                     local->port, rt_addr_str(local, as), local->port);
        else if (e == EADDRNOTAVAIL)
            snprintf(err, errcap, "cannot listen on %s: no interface has that address",
                     rt_addr_str(local, as));
        else if (e == EACCES)
            snprintf(err, errcap, "no permission to bind %s: ports below 1024 need root",
                     rt_addr_str(local, as));
        else
            snprintf(err, errcap, "cannot bind %s: %s", rt_addr_str(local, as), strerror(e));
        close(fd);
        return -e;
    }
    return fd;
}

int rt_udp_recv(int fd, struct rt_rx_batch *b)
{
    /* The headers point into the batch itself: set them up on first use (or
     * if the batch was moved). Of a header, recvmmsg writes back only
     * msg_namelen, msg_controllen and msg_flags (and msg_len): reset those. */
    if (b->msg[0].msg_hdr.msg_iov != &b->iov[0]) {
        for (unsigned i = 0; i < RT_RX_MSGS; i++) {
            b->iov[i].iov_base = b->buf[i];
            b->iov[i].iov_len = RT_RX_BUF;
            memset(&b->msg[i].msg_hdr, 0, sizeof b->msg[i].msg_hdr);
            b->msg[i].msg_hdr.msg_iov = &b->iov[i];
            b->msg[i].msg_hdr.msg_iovlen = 1;
            b->msg[i].msg_hdr.msg_name = &b->from[i];
            b->msg[i].msg_hdr.msg_control = b->ctrl[i].buf;
        }
    }
    for (unsigned i = 0; i < RT_RX_MSGS; i++) {
        b->msg[i].msg_hdr.msg_namelen = sizeof b->from[i];
        b->msg[i].msg_hdr.msg_controllen = sizeof b->ctrl[i].buf;
        b->msg[i].msg_hdr.msg_flags = 0;
    }
    int n;
    for (;;) {
        n = recvmmsg(fd, b->msg, RT_RX_MSGS, MSG_DONTWAIT, NULL);
        if (n >= 0)
            break;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        /* ICMP errors surface here (ECONNREFUSED ...): not fatal for UDP */
        if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH ||
            errno == EHOSTDOWN || errno == ENETDOWN)
            continue;
        return -errno;
    }
    for (int i = 0; i < n; i++) {
        struct msghdr *h = &b->msg[i].msg_hdr;
        b->seg[i] = b->msg[i].msg_len;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c))
            if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
                int seg;
                memcpy(&seg, CMSG_DATA(c), sizeof seg);
                if (seg > 0)
                    b->seg[i] = (size_t)seg;
            }
    }
    return n;
}

static void start_msg(struct rt_tx_batch *b, const struct tg_key_addr *to)
{
    unsigned i = b->n++;
    struct msghdr *h = &b->msg[i].msg_hdr;
    memset(h, 0, sizeof *h);
    h->msg_iov = &b->iov[b->n_iov];
    h->msg_iovlen = 0;
    if (to != NULL) {
        socklen_t sl;
        rt_addr_to_sockaddr(to, &b->to[i], &sl);
        h->msg_name = &b->to[i];
        h->msg_namelen = sl;
        b->dest[i] = *to;
    } else {
        memset(&b->dest[i], 0, sizeof b->dest[i]);
    }
    b->seg[i] = 0;
    b->bytes[i] = 0;
    b->closed[i] = false;
}

void rt_udp_queue(int fd, struct rt_tx_batch *b, const uint8_t *data, size_t len,
                  const struct tg_key_addr *to)
{
    if (b->n_iov == RT_TX_IOV)
        rt_udp_flush(fd, b);
    bool join = false;
    if (b->n > 0 && !b->no_gso) {
        unsigned m = b->n - 1;
        static const struct tg_key_addr none; /* all zero: what start_msg stores for NULL */
        join = !b->closed[m] && len <= b->seg[m] &&
               b->msg[m].msg_hdr.msg_iovlen < RT_GSO_MAX_SEGS && b->bytes[m] + len <= 65000 &&
               memcmp(&b->dest[m], to != NULL ? to : &none, sizeof none) == 0;
    }
    if (!join) {
        if (b->n == RT_TX_MSGS)
            rt_udp_flush(fd, b);
        start_msg(b, to);
    }
    unsigned m = b->n - 1;
    struct msghdr *h = &b->msg[m].msg_hdr;
    b->iov[b->n_iov].iov_base = (void *)(uintptr_t)data;
    b->iov[b->n_iov].iov_len = len;
    b->n_iov++;
    h->msg_iovlen++;
    if (b->seg[m] == 0)
        b->seg[m] = len;
    else if (len < b->seg[m])
        b->closed[m] = true;
    b->bytes[m] += len;
}

/* Send message m's datagrams one by one (after the route refused GSO). */
static void send_plain(int fd, struct rt_tx_batch *b, unsigned m)
{
    struct msghdr *h = &b->msg[m].msg_hdr;
    for (size_t k = 0; k < h->msg_iovlen; k++) {
        struct msghdr one = *h;
        one.msg_iov = &h->msg_iov[k];
        one.msg_iovlen = 1;
        one.msg_control = NULL;
        one.msg_controllen = 0;
        if (sendmsg(fd, &one, 0) >= 0)
            b->sent++;
        else
            b->dropped++;
    }
}

void rt_udp_flush(int fd, struct rt_tx_batch *b)
{
    for (unsigned m = 0; m < b->n; m++) {
        struct msghdr *h = &b->msg[m].msg_hdr;
        if (h->msg_iovlen > 1) {
            uint16_t seg = (uint16_t)b->seg[m];
            h->msg_control = b->ctrl[m].buf;
            h->msg_controllen = sizeof b->ctrl[m].buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(h);
            c->cmsg_level = SOL_UDP;
            c->cmsg_type = UDP_SEGMENT;
            c->cmsg_len = CMSG_LEN(sizeof seg);
            memcpy(CMSG_DATA(c), &seg, sizeof seg);
        }
    }
    unsigned done = 0;
    while (done < b->n) {
        int n = sendmmsg(fd, b->msg + done, b->n - done, 0);
        if (n > 0) {
            for (unsigned m = done; m < done + (unsigned)n; m++)
                b->sent += b->msg[m].msg_hdr.msg_iovlen;
            done += (unsigned)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        /* message `done` was refused */
        struct msghdr *h = &b->msg[done].msg_hdr;
        if (h->msg_iovlen > 1 && errno == EMSGSIZE) {
            send_plain(fd, b, done); /* datagrams above the MTU: the kernel fragments them */
        } else if (h->msg_iovlen > 1 && (errno == EIO || errno == EINVAL || errno == EOPNOTSUPP ||
                                         errno == ENOPROTOOPT)) {
            b->no_gso = true;
            send_plain(fd, b, done);
        } else {
            b->dropped += h->msg_iovlen;
            b->last_errno = errno;
        }
        done++;
    }
    b->n = 0;
    b->n_iov = 0;
}
