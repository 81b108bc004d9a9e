/* The network probes of `triglav diagnose` (diag.h). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "addr.h"
#include "clock.h"
#include "core/endpoint.h"
#include "diag.h"
#include "udp.h"

static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static void send_out(struct tg_client *core, int fd, const struct tg_key_addr *to)
{
    struct tg_datagram d;
    struct sockaddr_storage ss;
    socklen_t sl;
    rt_addr_to_sockaddr(to, &ss, &sl);
    while (tg_client_next_datagram(core, &d))
        sendto(fd, d.data, d.len, MSG_DONTWAIT, (struct sockaddr *)&ss, sl);
    struct tg_event ev;
    while (tg_client_next_event(core, &ev))
        ;
    const uint8_t *p;
    size_t len;
    while (tg_client_next_tun_packet(core, &p, &len))
        ;
}

/* The ICMP error an uplink's socket got (IP_RECVERR), if any. */
static void read_errors(int fd, struct rt_diag_uplink *u)
{
    for (int k = 0; k < 8; k++) {
        uint8_t data[64];
        union {
            char buf[256];
            struct cmsghdr align;
        } ctl;
        struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                           .msg_controllen = sizeof ctl.buf};
        if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
            return;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c != NULL; c = CMSG_NXTHDR(&m, c)) {
            if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_RECVERR)
                continue;
            struct sock_extended_err ee;
            memcpy(&ee, CMSG_DATA(c), sizeof ee);
            if (ee.ee_origin == SO_EE_ORIGIN_ICMP) {
                u->icmp_type = ee.ee_type;
                u->icmp_code = ee.ee_code;
            }
        }
    }
}

static bool same_addr(const struct tg_key_addr *a, const struct tg_key_addr *b)
{
    return a->type == b->type && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

int rt_diag_handshakes(const uint8_t server_public[32], const struct tg_key_addr *dst, int n_dst,
                       struct rt_diag_uplink *up, int n_up, uint32_t mark, tg_time timeout)
{
    static struct tg_client *core[TG_MAX_UPLINKS][RT_DIAG_DESTS];
    static uint8_t buf[65536];
    int fd[TG_MAX_UPLINKS];
    struct tg_client_config cfg;
    struct tg_rng rng = {.fill = os_fill};
    tg_client_config_default(&cfg);
    memcpy(cfg.server_public, server_public, 32);
    if (n_up > TG_MAX_UPLINKS)
        n_up = TG_MAX_UPLINKS;
    if (n_dst > RT_DIAG_DESTS)
        n_dst = RT_DIAG_DESTS;
    tg_time start = rt_now(), end = start + timeout;
    int rc = 0;
    for (int u = 0; u < n_up; u++) {
        struct tg_key_addr any = {.type = TG_ADDR_IPV4};
        struct rt_udp_opts uo = {.device = up[u].ifname, .mark = mark, .buffer_bytes = 1 << 18};
        int one = 1;
        up[u].icmp_type = up[u].icmp_code = -1;
        fd[u] = rt_udp_open(&any, &uo, up[u].err, sizeof up[u].err);
        if (fd[u] < 0) {
            up[u].open_err = fd[u];
            continue;
        }
        setsockopt(fd[u], IPPROTO_IP, IP_RECVERR, &one, sizeof one);
        struct sockaddr_in me;
        socklen_t ml = sizeof me;
        if (getsockname(fd[u], (struct sockaddr *)&me, &ml) == 0)
            up[u].local_port = ntohs(me.sin_port);
        for (int d = 0; d < n_dst; d++) {
            if (tg_client_new(&cfg, &rng, NULL, start, &core[u][d]) != TG_OK) {
                core[u][d] = NULL;
                rc = -ENOMEM;
                continue;
            }
            if (tg_client_uplink_up(core[u][d], 0, start) == TG_OK)
                send_out(core[u][d], fd[u], &dst[d]);
        }
    }
    for (tg_time now = start; now < end; now = rt_now()) {
        bool done = true;
        tg_time wake = end;
        struct pollfd p[TG_MAX_UPLINKS];
        for (int u = 0; u < n_up; u++) {
            p[u] = (struct pollfd){.fd = fd[u], .events = POLLIN};
            for (int d = 0; d < n_dst && fd[u] >= 0; d++) {
                if (core[u][d] == NULL)
                    continue;
                struct tg_uplink_snapshot s;
                if (tg_client_snapshot(core[u][d], &s, 1) == 1) {
                    if (s.keyed && !up[u].keyed[d]) {
                        up[u].keyed[d] = true;
                        up[u].hs_us[d] = now - start;
                    }
                    up[u].mapped[d] = s.mapped;
                }
                up[u].hs_sent[d] = tg_client_counters(core[u][d])->handshakes_sent;
                done = done && up[u].keyed[d] && up[u].mapped[d].type != 0;
                wake = tg_time_min(wake, tg_client_next_deadline(core[u][d]));
            }
        }
        if (done)
            break;
        int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        if (poll(p, (nfds_t)n_up, ms) < 0 && errno != EINTR)
            break;
        now = rt_now();
        for (int u = 0; u < n_up; u++) {
            if (fd[u] < 0)
                continue;
            if (p[u].revents & POLLERR)
                read_errors(fd[u], &up[u]);
            struct sockaddr_storage from;
            socklen_t fl = sizeof from;
            ssize_t n;
            while ((p[u].revents & POLLIN) &&
                   (n = recvfrom(fd[u], buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
                                 &fl)) >= 0) {
                struct tg_key_addr f;
                fl = sizeof from;
                if (rt_addr_from_sockaddr((struct sockaddr *)&from, &f) != 0)
                    continue;
                for (int d = 0; d < n_dst; d++)
                    if (core[u][d] != NULL && same_addr(&f, &dst[d])) {
                        tg_client_udp_input(core[u][d], 0, buf, (size_t)n, now);
                        send_out(core[u][d], fd[u], &dst[d]);
                    }
            }
            for (int d = 0; d < n_dst; d++)
                if (core[u][d] != NULL && tg_client_next_deadline(core[u][d]) <= now) {
                    tg_client_on_timeout(core[u][d], now);
                    send_out(core[u][d], fd[u], &dst[d]);
                }
        }
    }
    /* the server frees the sessions we made at once */
    for (int u = 0; u < n_up; u++) {
        for (int d = 0; d < n_dst; d++) {
            if (core[u][d] == NULL)
                continue;
            if (fd[u] >= 0) {
                tg_client_close(core[u][d], rt_now());
                send_out(core[u][d], fd[u], &dst[d]);
            }
            tg_client_free(core[u][d]);
            core[u][d] = NULL;
        }
        if (fd[u] >= 0)
            close(fd[u]);
    }
    return rc;
}

/* ------------------------------------------------------------ path MTU */

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

struct pmtu_probe {
    int fd;
    struct sockaddr_in to;
    uint16_t id, seq;
    int wait_ms;
    struct rt_diag_mtu *out;
};

/* Does an echo of `size` bytes of IP packet, DF set, come back? */
static bool probe(struct pmtu_probe *pp, int size)
{
    static uint8_t pkt[65536];
    size_t len = (size_t)size - 20;
    memset(pkt, 0xa5, len);
    uint16_t seq = ++pp->seq;
    pkt[0] = ICMP_ECHO;
    pkt[1] = 0;
    pkt[2] = pkt[3] = 0;
    pkt[4] = (uint8_t)(pp->id >> 8);
    pkt[5] = (uint8_t)pp->id;
    pkt[6] = (uint8_t)(seq >> 8);
    pkt[7] = (uint8_t)seq;
    uint16_t c = csum(pkt, len);
    pkt[2] = (uint8_t)(c >> 8);
    pkt[3] = (uint8_t)c;
    if (sendto(pp->fd, pkt, len, 0, (struct sockaddr *)&pp->to, sizeof pp->to) < 0)
        return false; /* EMSGSIZE: larger than the interface or a known path MTU */
    tg_time end = rt_now() + TG_MSEC(pp->wait_ms);
    for (tg_time now = rt_now(); now < end; now = rt_now()) {
        struct pollfd p = {.fd = pp->fd, .events = POLLIN};
        if (poll(&p, 1, (int)((end - now + 999) / 1000)) <= 0)
            continue;
        uint8_t r[2048];
        ssize_t n = recv(pp->fd, r, sizeof r, MSG_DONTWAIT);
        if (n < 20)
            continue;
        size_t ihl = (size_t)(r[0] & 15) * 4;
        if ((size_t)n < ihl + 8)
            continue;
        const uint8_t *ic = r + ihl;
        if (ic[0] == ICMP_ECHOREPLY && memcmp(r + 12, &pp->to.sin_addr, 4) == 0 &&
            (ic[4] << 8 | ic[5]) == pp->id && (ic[6] << 8 | ic[7]) == seq)
            return true;
        /* "fragmentation needed" about our probe: no need to wait */
        const uint8_t *in = ic + 8; /* the packet that did not fit */
        if (ic[0] == ICMP_DEST_UNREACH && ic[1] == ICMP_FRAG_NEEDED &&
            (size_t)n >= ihl + 8 + 20 + 8 && memcmp(in + 16, &pp->to.sin_addr, 4) == 0) {
            const uint8_t *inic = in + (size_t)(in[0] & 15) * 4;
            if (inic + 8 <= r + n && (inic[4] << 8 | inic[5]) == pp->id) {
                pp->out->told_mtu = ic[6] << 8 | ic[7];
                return false;
            }
        }
    }
    return false;
}

void rt_diag_pmtu(const char *ifname, uint32_t mark, const uint8_t dst[4], struct rt_diag_mtu *out)
{
    memset(out, 0, sizeof *out);
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
    if (s >= 0 && ioctl(s, SIOCGIFMTU, &ifr) == 0)
        out->if_mtu = ifr.ifr_mtu;
    if (s >= 0)
        close(s);
    int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    if (fd < 0) {
        snprintf(out->err, sizeof out->err, "cannot open an ICMP socket: %s%s", strerror(errno),
                 errno == EPERM ? " (needs root or CAP_NET_RAW)" : "");
        return;
    }
    int pmtu = IP_PMTUDISC_PROBE; /* DF set, whatever the kernel believes the path MTU is */
    if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0 ||
        setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu) != 0) {
        snprintf(out->err, sizeof out->err, "cannot set up the probe socket on %s: %s", ifname,
                 strerror(errno));
        close(fd);
        return;
    }
    if (mark != 0)
        setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark);
    uint16_t id;
    randombytes_buf(&id, sizeof id);
    struct pmtu_probe pp = {.fd = fd, .to = {.sin_family = AF_INET}, .id = id, .out = out};
    memcpy(&pp.to.sin_addr, dst, 4);
    /* is the server answering at all? the round trip sets the wait */
    pp.wait_ms = 1000;
    tg_time t0 = rt_now();
    bool ok = probe(&pp, 84) || probe(&pp, 84);
    if (!ok) {
        close(fd);
        return;
    }
    out->answered = true;
    int rtt_ms = (int)((rt_now() - t0) / 1000);
    pp.wait_ms = rtt_ms * 4 + 150 < 1000 ? rtt_ms * 4 + 150 : 1000;
    int lo = 84, hi = out->if_mtu > 84 ? out->if_mtu : 1500;
    if (probe(&pp, hi)) {
        out->path_mtu = hi;
        close(fd);
        return;
    }
    if (out->told_mtu > lo && out->told_mtu < hi) { /* a router said which size fits */
        if (probe(&pp, out->told_mtu))
            lo = out->told_mtu;
        else
            hi = out->told_mtu;
    }
    while (hi - lo > 1) {
        int mid = lo + (hi - lo) / 2;
        if (probe(&pp, mid))
            lo = mid;
        else
            hi = mid;
    }
    out->path_mtu = lo;
    close(fd);
}
