/*
 * emu.c: the relay loop of sim/emu.h.
 *
 * Why AF_PACKET and not TAP or UDP: the caller names existing veth ends, and
 * a raw packet socket bound to each sees every frame without changing the
 * interface; PACKET_IGNORE_OUTGOING keeps the socket from reading back what
 * the emulator itself wrote on the same interface.
 */
#define _GNU_SOURCE
#include "emu.h"

#include <errno.h>
#include <inttypes.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "core/ip.h"
#include "emu_gso.h"
#include "evq.h"

#define BATCH 64
/* a GSO super-frame is read whole (IP's 64 KiB and the Ethernet header),
 * then cut into wire frames (emu_gso.h) */
#define FRAME_MAX (65536 + 64)
#define SOCKBUF (8 << 20)

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23
#endif

struct side {
    int fd;                     /* AF_PACKET socket bound to the interface */
    int ifindex;
};

struct emu_link {
    struct sim_link *link[2];
    struct side side[2];        /* 0: A, 1: B */
    uint64_t send_err[2];       /* per side written to */
    uint64_t extra_loss[2];     /* per direction: dropped by a LOSS event */
    uint64_t gso_cut[2];        /* per direction: GSO super-frames cut into wire frames */
    struct sim_env *env;
    size_t uplink;
};

struct out_ctx {
    struct emu_link *l;
    int to;                     /* side the direction writes to (direction 1 - to) */
};

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void deliver(void *ctx, uint8_t *pkt, size_t len, tg_time now)
{
    struct out_ctx *o = ctx;
    int dir = 1 - o->to;
    /* LOSS events act after the link, as in a simulated run (sim/run.c) */
    if (sim_env_extra_loss(o->l->env, o->l->uplink, dir, now)) {
        o->l->extra_loss[dir]++;
        return;
    }
    struct virtio_net_hdr vh = {0};
    struct iovec iov[2] = {{&vh, sizeof vh}, {pkt, len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    if (sendmsg(o->l->side[o->to].fd, &m, MSG_DONTWAIT) < 0)
        o->l->send_err[o->to]++;
}

/* A frame from a local sender on a veth may carry only the pseudo-header sum
 * in its L4 checksum (the kernel finishes it on a real NIC); relayed as is,
 * the receiver would drop it. Finish the sum here, as a NIC would. */
static void finish_csum(const struct virtio_net_hdr *vh, uint8_t *f, size_t len)
{
    if (!(vh->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM))
        return;
    size_t start = vh->csum_start, at = start + vh->csum_offset;
    if (at + 2 > len)
        return;
    uint16_t c = tg_ip_fold(tg_ip_sum(f + start, len - start, 0));
    f[at] = (uint8_t)(c >> 8);
    f[at + 1] = (uint8_t)c;
}

static int open_side(struct side *s, const char *ifname)
{
    s->ifindex = (int)if_nametoindex(ifname);
    if (!s->ifindex) {
        fprintf(stderr, "triglav-sim emulate: no interface '%s' here: %s\n", ifname,
                strerror(errno));
        errno = 0;
        return -1;
    }
    s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (s->fd < 0) {
        fprintf(stderr, "triglav-sim emulate: AF_PACKET socket: %s (run it as root)\n",
                strerror(errno));
        errno = 0;
        return -1;
    }
    int one = 1, buf = SOCKBUF;
    (void)setsockopt(s->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    if (setsockopt(s->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof one) < 0) {
        fprintf(stderr, "triglav-sim emulate: PACKET_VNET_HDR: %s\n", strerror(errno));
        errno = 0;
        return -1;
    }
    (void)setsockopt(s->fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    (void)setsockopt(s->fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof buf);
    struct sockaddr_ll sll = {.sll_family = AF_PACKET,
                              .sll_protocol = (uint16_t)htons(ETH_P_ALL),
                              .sll_ifindex = s->ifindex};
    if (bind(s->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
        fprintf(stderr, "triglav-sim emulate: bind to '%s': %s\n", ifname, strerror(errno));
        errno = 0;
        return -1;
    }
    return 0;
}

/* Waking from a timer costs a VM 0.1-0.3 ms; the emulator wakes SPIN_NS
 * early and polls until the deadline, so delay is added to the µs. */
#define SPIN_NS 300000u

/* Arm the timer for the next event; returns true when it is so close that
 * the caller should poll without sleeping. */
static bool arm(int tfd, const struct sim_evq *q, uint64_t start_ns)
{
    tg_time next = sim_evq_next(q);
    struct itimerspec its = {0};
    if (next != TG_TIME_NEVER) {
        uint64_t at = start_ns + next * 1000u;
        if (at <= mono_ns() + SPIN_NS)
            return true;
        at -= SPIN_NS;
        if (at == 0)
            at = 1;
        its.it_value.tv_sec = (time_t)(at / 1000000000u);
        its.it_value.tv_nsec = (long)(at % 1000000000u);
    }
    (void)timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
    return false;
}

/* At most MAX_BATCHES batches per wake, so a flood on one interface cannot
 * starve the timers and the other interfaces. */
#define MAX_BATCHES 4

static void send_segment(void *ctx, uint8_t *frame, size_t len)
{
    (void)sim_link_send(ctx, frame, len);
}

static void drain(struct emu_link *l, int from, uint8_t bufs[][FRAME_MAX])
{
    static uint8_t seg[SIM_PKT_MAX];
    struct mmsghdr msgs[BATCH];
    struct iovec iov[BATCH][2];
    struct virtio_net_hdr vh[BATCH];
    for (int b = 0; b < MAX_BATCHES; b++) {
        for (int i = 0; i < BATCH; i++) {
            iov[i][0] = (struct iovec){&vh[i], sizeof vh[i]};
            iov[i][1] = (struct iovec){bufs[i], FRAME_MAX};
            msgs[i] = (struct mmsghdr){.msg_hdr = {.msg_iov = iov[i], .msg_iovlen = 2}};
        }
        int n = recvmmsg(l->side[from].fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n <= 0)
            return;
        for (int i = 0; i < n; i++) {
            size_t len = msgs[i].msg_len > sizeof vh[i] ? msgs[i].msg_len - sizeof vh[i] : 0;
            bool trunc = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) != 0;
            bool gso = vh[i].gso_type != VIRTIO_NET_HDR_GSO_NONE;
            if (gso && !trunc &&
                sim_gso_segment(&vh[i], bufs[i], len, seg, sizeof seg, send_segment,
                                l->link[from]) >= 0) {
                l->gso_cut[from]++;
                continue;
            }
            if (trunc || gso)
                len = SIM_PKT_MAX + 1; /* cannot be cut: counted as a queue drop by the link */
            else
                finish_csum(&vh[i], bufs[i], len);
            (void)sim_link_send(l->link[from], bufs[i], len);
        }
        if (n < BATCH)
            return;
    }
}

/* --series: every SAMPLE_US of the links' time, per link and direction, the
 * bit rate delivered in the interval, the queue and the drops so far. An
 * event on the links' own queue, so a sample is taken at its time, not when
 * the loop happens to wake. */
#define SAMPLE_US 100000
struct sampler {
    FILE *f;
    struct emu_link *links;
    const struct sim_emu_spec *spec;
    struct sim_evq *q;
    uint64_t last_bytes[SIM_MAX_UPLINKS][2];
};

static void sample(void *ctx, uint64_t arg, tg_time now)
{
    (void)arg;
    struct sampler *s = ctx;
    for (size_t i = 0; i < s->spec->n; i++)
        for (int d = 0; d < 2; d++) {
            const struct sim_link_stats *st = sim_link_stats(s->links[i].link[d]);
            uint64_t b = st->delivered_bytes - s->last_bytes[i][d];
            s->last_bytes[i][d] = st->delivered_bytes;
            fprintf(s->f, "%.1f %s %s %.3f %" PRIu64 " %" PRIu64 "\n", (double)now / 1000.0,
                    s->spec->link[i].name, d ? "down" : "up", (double)b * 8 / SAMPLE_US,
                    st->queued_bytes, st->drop_queue + st->drop_loss + st->drop_down);
        }
    (void)sim_evq_push(s->q, now + SAMPLE_US, sample, s, 0);
}

int sim_emu_run(const struct sim_emu_spec *spec)
{
    static struct emu_link links[SIM_MAX_UPLINKS];
    static struct out_ctx outs[SIM_MAX_UPLINKS][2];
    static uint8_t bufs[BATCH][FRAME_MAX];
    static struct sampler smp;
    struct sim_evq q;
    int rc = -1, ep = -1, tfd = -1;
    if (sim_evq_init(&q, 1024))
        return -1;
    memset(links, 0, sizeof links);
    for (size_t i = 0; i < spec->n; i++)
        links[i].side[0].fd = links[i].side[1].fd = -1;
    ep = epoll_create1(EPOLL_CLOEXEC);
    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (ep < 0 || tfd < 0)
        goto out;
    for (size_t i = 0; i < spec->n; i++) {
        const struct sim_emu_link *u = &spec->link[i];
        const struct sim_env_uplink *eu = &spec->env->up[u->uplink];
        struct emu_link *l = &links[i];
        l->env = spec->env;
        l->uplink = u->uplink;
        if (open_side(&l->side[0], u->if_a) || open_side(&l->side[1], u->if_b))
            goto out;
        for (int d = 0; d < 2; d++) {
            outs[i][d] = (struct out_ctx){l, 1 - d};
            struct sim_link_config cfg = eu->cfg[d];
            cfg.header_bytes = -SIM_ETH_HEADER; /* frames: charge their IP packets */
            l->link[d] = sim_link_new(&cfg, &q, eu->loss_rng[d], eu->jitter_rng[d],
                                      deliver, &outs[i][d]);
            if (!l->link[d]) {
                fprintf(stderr, "triglav-sim emulate: uplink '%s': invalid link config\n",
                        u->name);
                errno = 0;
                goto out;
            }
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = (uint64_t)(i * 2 + (size_t)d)};
            if (epoll_ctl(ep, EPOLL_CTL_ADD, l->side[d].fd, &ev) < 0)
                goto out;
        }
    }
    struct epoll_event tev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &tev) < 0)
        goto out;
    /* the default 50 µs timer slack would show up as added delay */
    (void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* time 0 of the links; the ready file tells it to whoever lines up
     * their own measurements with the scenario's events */
    uint64_t start = mono_ns();
    if (spec->ready_file) {
        FILE *f = fopen(spec->ready_file, "w");
        if (!f || fprintf(f, "%.6f\n", (double)start / 1e9) < 0 || fclose(f)) {
            fprintf(stderr, "triglav-sim emulate: cannot write %s\n", spec->ready_file);
            errno = 0;
            goto out;
        }
    }
    smp = (struct sampler){.links = links, .spec = spec, .q = &q};
    if (spec->series_file) {
        smp.f = fopen(spec->series_file, "w");
        if (!smp.f || fprintf(smp.f, "t_ms uplink dir mbps queue_bytes drops\n") < 0 ||
            sim_evq_push(&q, SAMPLE_US, sample, &smp, 0) != 0) {
            fprintf(stderr, "triglav-sim emulate: cannot write %s\n", spec->series_file);
            errno = 0;
            goto out;
        }
    }
    uint64_t end = spec->duration_s > 0 ? start + (uint64_t)(spec->duration_s * 1e9) : 0;
    while (!stop_flag) {
        bool spin = arm(tfd, &q, start);
        struct epoll_event evs[32];
        int n = epoll_wait(ep, evs, 32, spin ? 0 : 100);
        if (n < 0 && errno != EINTR)
            goto out;
        uint64_t now_ns = mono_ns();
        if (end && now_ns >= end)
            break;
        /* events due up to now first, then the new frames arrive at now */
        sim_evq_run(&q, (now_ns - start) / 1000u);
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 == UINT64_MAX) {
                uint64_t x;
                (void)!read(tfd, &x, sizeof x);
                continue;
            }
            size_t i = (size_t)(evs[k].data.u64 / 2);
            drain(&links[i], (int)(evs[k].data.u64 % 2), bufs);
        }
        sim_evq_run(&q, (mono_ns() - start) / 1000u);
    }
    printf("%-12s %-4s %10s %10s %10s %10s %8s %8s %8s\n", "uplink", "dir", "passed", "drop-queue",
           "drop-loss", "drop-down", "send-err", "rx-drop", "gso-cut");
    for (size_t i = 0; i < spec->n; i++)
        for (int d = 0; d < 2; d++) {
            const struct emu_link *l = &links[i];
            const struct sim_link_stats *s = sim_link_stats(l->link[d]);
            /* frames the kernel dropped before the emulator read them (its
             * socket buffer was full): the emulator was the bottleneck */
            struct tpacket_stats ts = {0};
            socklen_t tl = sizeof ts;
            (void)getsockopt(l->side[d].fd, SOL_PACKET, PACKET_STATISTICS, &ts, &tl);
            printf("%-12s %-4s %10llu %10llu %10llu %10llu %8llu %8u %8llu\n", spec->link[i].name,
                   d ? "down" : "up", (unsigned long long)(s->delivered_pkts - l->extra_loss[d]),
                   (unsigned long long)s->drop_queue,
                   (unsigned long long)(s->drop_loss + l->extra_loss[d]),
                   (unsigned long long)s->drop_down, (unsigned long long)l->send_err[1 - d],
                   ts.tp_drops, (unsigned long long)l->gso_cut[d]);
        }
    fflush(stdout);
    rc = 0;
out:
    if (rc && errno)
        fprintf(stderr, "triglav-sim emulate: %s\n", strerror(errno));
    sim_evq_clear(&q);
    if (smp.f && fclose(smp.f) != 0 && rc == 0) {
        fprintf(stderr, "triglav-sim emulate: cannot write %s\n", spec->series_file);
        rc = -1;
    }
    smp.f = NULL;
    for (size_t i = 0; i < spec->n; i++)
        for (int d = 0; d < 2; d++) {
            sim_link_free(links[i].link[d]);
            if (links[i].side[d].fd >= 0)
                close(links[i].side[d].fd);
        }
    if (ep >= 0)
        close(ep);
    if (tfd >= 0)
        close(tfd);
    return rc;
}
