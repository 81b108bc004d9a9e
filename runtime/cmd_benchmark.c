/*
 * `triglav benchmark`: throughput and latency through the tunnel, against
 * the services every `triglav server` offers on its tunnel address (svc.h):
 * N TCP streams into discard for D seconds (goodput: the bytes TCP saw
 * acknowledged, TCP_INFO), UDP echo round trips before and during the load,
 * and each uplink's share from the running client's counters (status json).
 * It measures through a running `triglav tun`; when none runs and a key is
 * given it starts one of its own for the run (root or CAP_NET_ADMIN).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* tcp_info with tcpi_bytes_acked */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "cmds.h"
#include "core/key.h"
#include "control.h"
#include "svc.h"
#include "sys.h"

static const char usage[] =
    "usage: triglav benchmark [KEY] [--duration S] [--streams N] [--json]\n"
    "                         [--tun-name NAME] [--state-dir DIR] [-i IFACE... | --auto-discover]\n"
    "  Measures throughput and latency through the tunnel: N TCP streams into the server's\n"
    "  discard service (TCP 9 on its tunnel address) for S seconds, and UDP echo (port 7)\n"
    "  round trips before and under that load; per uplink and aggregated, with a progress\n"
    "  bar on a terminal.\n"
    "  It measures through the running `triglav tun` (tg0, or --tun-name/--state-dir as it\n"
    "  was started; needs access to its control socket, no root). When none runs there and\n"
    "  KEY is given, it brings up a tunnel of its own for the run (tgb0 unless --tun-name;\n"
    "  -i or --auto-discover as for `triglav tun`, the default), which needs root or\n"
    "  CAP_NET_ADMIN, and removes it afterwards.\n"
    "  --duration S   seconds of load (10; 1..3600)\n"
    "  --streams N    TCP streams at once (4; 1..64)\n"
    "  --json         the results as one JSON object\n";

enum { O_DURATION = 1000, O_STREAMS, O_JSON, O_TUN, O_DIR, O_AUTO };

#define ANSWER_CAP (1 << 20)
#define MAX_STREAMS 64
#define ECHO_MAGIC 0x54474245u /* "TGBE" */

struct lat {
    unsigned sent, got;
    double min_us, max_us, sum_us;
};

struct bench {
    char sock[300], tun[16];
    struct sockaddr_in srv; /* the server's tunnel address */
    int udp;
    uint32_t seq;
    tg_time sent_at[4096];
    struct lat idle, load, *cur;
    /* per uplink tx bytes at the start and the end */
    char name[TG_MAX_UPLINKS][16];
    double tx0[TG_MAX_UPLINKS], tx1[TG_MAX_UPLINKS]; /* bytes sent on it */
    double dl0[TG_MAX_UPLINKS], dl1[TG_MAX_UPLINKS]; /* bytes the server received on it */
    double srtt[TG_MAX_UPLINKS], loss[TG_MAX_UPLINKS];
    bool seen0[TG_MAX_UPLINKS], seen1[TG_MAX_UPLINKS];
    double tun_in0, tun_in1;
    tg_time at0, at1; /* when the two snapshots were taken */
};

static void lat_add(struct lat *l, double us)
{
    if (l->got == 0 || us < l->min_us)
        l->min_us = us;
    if (us > l->max_us)
        l->max_us = us;
    l->sum_us += us;
    l->got++;
}

static void echo_send(struct bench *b, tg_time now)
{
    uint8_t m[16];
    uint32_t magic = htonl(ECHO_MAGIC), seq = htonl(b->seq);
    memcpy(m, &magic, 4);
    memcpy(m + 4, &seq, 4);
    memset(m + 8, 0, 8);
    b->sent_at[b->seq % 4096] = now;
    b->seq++;
    if (send(b->udp, m, sizeof m, MSG_DONTWAIT) == (ssize_t)sizeof m)
        b->cur->sent++;
}

static void echo_recv(struct bench *b, tg_time now)
{
    uint8_t m[64];
    ssize_t n;
    while ((n = recv(b->udp, m, sizeof m, MSG_DONTWAIT)) >= 8) {
        uint32_t magic, seq;
        memcpy(&magic, m, 4);
        memcpy(&seq, m + 4, 4);
        seq = ntohl(seq);
        if (ntohl(magic) != ECHO_MAGIC || seq >= b->seq || b->seq - seq > 4096)
            continue;
        tg_time at = b->sent_at[seq % 4096];
        if (at != 0 && at <= now) {
            lat_add(b->cur, (double)(now - at));
            b->sent_at[seq % 4096] = 0; /* a duplicate counts once */
        }
    }
}

/* Per-uplink counters from the client (start or end). */
static int snapshot(struct bench *b, bool end)
{
    static char buf[ANSWER_CAP];
    struct rt_json j;
    if (rt_cmd_status_json("benchmark", b->sock, buf, sizeof buf, &j) != 0)
        return -1;
    int ups = rt_json_get(&j, 0, "uplinks");
    double tun_in = rt_json_mnum(&j, rt_json_get(&j, 0, "counters"), "tun_in_bytes", 0);
    *(end ? &b->tun_in1 : &b->tun_in0) = tun_in;
    *(end ? &b->at1 : &b->at0) = rt_now();
    for (int i = 0; i < rt_json_len(&j, ups); i++) {
        int u = rt_json_at(&j, ups, i);
        int s = (int)rt_json_mnum(&j, u, "slot", -1);
        if (s < 0 || s >= TG_MAX_UPLINKS)
            continue;
        char name[16];
        rt_json_mstr(&j, u, "interface", name, sizeof name, "?");
        if (end && b->seen0[s] && strcmp(name, b->name[s]) != 0)
            continue; /* the slot changed hands meanwhile */
        memcpy(b->name[s], name, sizeof name);
        (end ? b->seen1 : b->seen0)[s] = true;
        (end ? b->tx1 : b->tx0)[s] = rt_json_mnum(&j, u, "tx_bytes", 0);
        (end ? b->dl1 : b->dl0)[s] = rt_json_mnum(&j, u, "delivered_bytes", 0);
        b->srtt[s] = rt_json_mnum(&j, u, "srtt_us", 0);
        b->loss[s] = rt_json_mnum(&j, u, "loss_ratio", 0);
    }
    rt_json_free(&j);
    return 0;
}

/* The tunnel to measure through: its control socket, name and the server's
 * tunnel address, from status json. Returns 0, or 1 after saying why. */
static int tunnel_info(struct bench *b, const struct tg_key *key)
{
    static char buf[ANSWER_CAP];
    struct rt_json j;
    char a[64], role[16];
    if (rt_cmd_status_json("benchmark", b->sock, buf, sizeof buf, &j) != 0)
        return 1;
    int rc = 1;
    int s = rt_json_get(&j, 0, "session");
    if (strcmp(rt_json_mstr(&j, 0, "role", role, sizeof role, ""), "client") != 0) {
        fprintf(stderr, "triglav benchmark: %s is a server's; run the benchmark on a client\n",
                b->sock);
    } else if (!rt_json_bool(&j, rt_json_get(&j, s, "up"), false)) {
        fprintf(stderr, "triglav benchmark: the tunnel at %s has no session yet (`triglav "
                        "status` says why)\n", b->sock);
    } else if (inet_pton(AF_INET, rt_json_mstr(&j, s, "server_tunnel_address", a, sizeof a, ""),
                         &b->srv.sin_addr) != 1) {
        fprintf(stderr, "triglav benchmark: %s names no server tunnel address\n", b->sock);
    } else {
        rt_json_mstr(&j, 0, "tun", b->tun, sizeof b->tun, "?");
        b->srv.sin_family = AF_INET;
        rc = 0;
        if (key != NULL) {
            bool same = false;
            rt_json_mstr(&j, 0, "server_address", a, sizeof a, "");
            for (size_t i = 0; i < key->n_addrs; i++) {
                char k[64];
                same |= key->addrs[i].type == TG_ADDR_IPV4 &&
                        inet_ntop(AF_INET, key->addrs[i].addr, k, sizeof k) != NULL &&
                        strcmp(k, a) == 0 &&
                        key->addrs[i].port == (uint16_t)rt_json_mnum(&j, 0, "server_port", 0);
            }
            if (!same)
                fprintf(stderr, "triglav benchmark: note: %s connects to %s, which the key does "
                                "not name; measuring that tunnel anyway\n", b->tun, a);
        }
    }
    rt_json_free(&j);
    return rc;
}

static void progress(tg_time now, tg_time start, tg_time dur, double bps)
{
    int width = 30, done = (int)((double)(now - start) * width / (double)dur);
    char bar[64];
    if (done > width)
        done = width;
    memset(bar, '#', (size_t)done);
    memset(bar + done, ' ', (size_t)(width - done));
    bar[width] = '\0';
    char r[32];
    fprintf(stderr, "\r[%s] %3.0f/%.0f s  %s   ", bar, (double)(now - start) / 1e6,
            (double)dur / 1e6, rt_fmt_rate(bps, r, sizeof r));
}

static uint64_t acked(int fd)
{
    struct tcp_info ti;
    socklen_t l = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l) != 0)
        return 0;
    return ti.tcpi_bytes_acked > 0 ? ti.tcpi_bytes_acked - 1 : 0; /* the SYN counts one */
}

/* Idle latency, then the load. Returns 0, or 1 after saying why. */
static int run(struct bench *b, tg_time dur, int streams, double *goodput_bps, char *local,
               size_t lcap)
{
    static uint8_t junk[65536];
    int fds[MAX_STREAMS], rc = 1;
    for (int i = 0; i < streams; i++)
        fds[i] = -1;
    b->udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in echo = b->srv;
    echo.sin_port = htons(RT_SVC_ECHO_PORT);
    if (b->udp < 0 || connect(b->udp, (struct sockaddr *)&echo, sizeof echo) != 0) {
        fprintf(stderr, "triglav benchmark: cannot reach %s: %s\n", inet_ntoa(b->srv.sin_addr),
                strerror(errno));
        goto out;
    }
    b->cur = &b->idle; /* ten round trips 50 ms apart, each timed when it arrives */
    for (int i = 0; i < 10; i++) {
        tg_time t = rt_now(), until = t + TG_MSEC(i < 9 ? 50 : 400);
        echo_send(b, t);
        for (tg_time now = t; now < until; now = rt_now()) {
            struct pollfd p = {.fd = b->udp, .events = POLLIN};
            if (poll(&p, 1, (int)((until - now + 999) / 1000)) > 0)
                echo_recv(b, rt_now());
        }
    }
    struct sockaddr_in dis = b->srv;
    dis.sin_port = htons(RT_SVC_DISCARD_PORT);
    for (int i = 0; i < streams; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct timeval tv = {.tv_sec = 5};
        if (fds[i] >= 0)
            setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (fds[i] < 0 || connect(fds[i], (struct sockaddr *)&dis, sizeof dis) != 0) {
            fprintf(stderr,
                    "triglav benchmark: cannot connect to the discard service %s:%d: %s (is the "
                    "server a triglav that offers it? `triglav status --json` on the server "
                    "shows services)\n",
                    inet_ntoa(b->srv.sin_addr), RT_SVC_DISCARD_PORT, strerror(errno));
            goto out;
        }
        fcntl(fds[i], F_SETFL, fcntl(fds[i], F_GETFL) | O_NONBLOCK);
    }
    struct sockaddr_in me;
    socklen_t ml = sizeof me;
    if (getsockname(fds[0], (struct sockaddr *)&me, &ml) == 0)
        snprintf(local, lcap, "%s", inet_ntoa(me.sin_addr));
    if (snapshot(b, false) != 0)
        goto out;
    bool tty = isatty(STDERR_FILENO) == 1;
    b->cur = &b->load;
    tg_time start = rt_now(), end = start + dur, next_ping = start, next_bar = start;
    uint64_t base[MAX_STREAMS], last_total = 0;
    tg_time last_at = start;
    double shown = 0;
    for (int i = 0; i < streams; i++)
        base[i] = acked(fds[i]);
    for (tg_time now = start; now < end; now = rt_now()) {
        struct pollfd p[MAX_STREAMS + 1];
        for (int i = 0; i < streams; i++)
            p[i] = (struct pollfd){.fd = fds[i], .events = POLLOUT};
        p[streams] = (struct pollfd){.fd = b->udp, .events = POLLIN};
        tg_time wake = tg_time_min(end, tg_time_min(next_ping, next_bar));
        int ms = wake > now ? (int)((wake - now + 999) / 1000) : 0;
        if (poll(p, (nfds_t)streams + 1, ms) < 0 && errno != EINTR)
            break;
        now = rt_now();
        for (int i = 0; i < streams; i++)
            if (p[i].revents & POLLOUT)
                for (int k = 0; k < 16 && send(fds[i], junk, sizeof junk, MSG_NOSIGNAL) > 0; k++)
                    ;
        if (p[streams].revents & POLLIN)
            echo_recv(b, now);
        if (now >= next_ping) {
            echo_send(b, now);
            next_ping = now + TG_MSEC(200);
        }
        if (now >= next_bar) {
            uint64_t total = 0;
            for (int i = 0; i < streams; i++)
                total += acked(fds[i]) - base[i];
            if (now > last_at)
                shown = (double)(total - last_total) * 8e6 / (double)(now - last_at);
            last_total = total;
            last_at = now;
            if (tty)
                progress(now, start, dur, shown);
            next_bar = now + TG_MSEC(500);
        }
    }
    tg_time stop = rt_now();
    uint64_t total = 0;
    for (int i = 0; i < streams; i++)
        total += acked(fds[i]) - base[i];
    *goodput_bps = (double)total * 8e6 / (double)(stop - start);
    if (snapshot(b, true) != 0)
        goto out;
    if (tty) {
        progress(start + dur, start, dur, *goodput_bps);
        fputc('\n', stderr);
    }
    poll(NULL, 0, 300); /* the last echoes */
    echo_recv(b, rt_now());
    for (int s = 0; s < TG_MAX_UPLINKS; s++) { /* per-uplink amounts over the same span */
        bool both = b->seen1[s] && b->seen0[s];
        b->tx1[s] = both && b->tx1[s] >= b->tx0[s] ? b->tx1[s] - b->tx0[s] : 0;
        b->dl1[s] = both && b->dl1[s] >= b->dl0[s] ? b->dl1[s] - b->dl0[s] : 0;
    }
    b->tun_in1 = b->tun_in1 > b->tun_in0 ? b->tun_in1 - b->tun_in0 : 0;
    rc = 0;
out:
    for (int i = 0; i < streams; i++) {
        /* reset, not close: what the send buffers still hold would keep the
         * tunnel busy for seconds after the measurement */
        struct linger lg = {.l_onoff = 1, .l_linger = 0};
        if (fds[i] >= 0)
            setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        if (fds[i] >= 0)
            close(fds[i]);
    }
    if (b->udp >= 0)
        close(b->udp);
    return rc;
}

static void print_lat(const char *what, const struct lat *l, bool json)
{
    if (json) {
        printf("\"%s\":{\"sent\":%u,\"received\":%u,\"min_us\":%.0f,\"avg_us\":%.0f,"
               "\"max_us\":%.0f}",
               what, l->sent, l->got, l->got ? l->min_us : 0, l->got ? l->sum_us / l->got : 0,
               l->got ? l->max_us : 0);
        return;
    }
    if (l->got == 0) {
        printf("  %-10s no echo came back (%u sent)\n", what, l->sent);
        return;
    }
    printf("  %-10s min %.1f ms, avg %.1f ms, max %.1f ms (%u of %u echoes back)\n", what,
           l->min_us / 1e3, l->sum_us / l->got / 1e3, l->max_us / 1e3, l->got, l->sent);
}

static void report(const struct bench *b, tg_time dur, int streams, double goodput,
                   const char *local, bool json)
{
    /* the tunnel's counters span the two snapshots, a little more than dur */
    double secs = (double)(b->at1 > b->at0 ? b->at1 - b->at0 : dur) / 1e6, sum = 0;
    char r[32], a[32];
    for (int s = 0; s < TG_MAX_UPLINKS; s++)
        sum += b->seen1[s] ? b->dl1[s] : 0;
    if (json) {
        printf("{\"tun\":\"%s\",\"server_tunnel_address\":\"%s\",\"local_address\":\"%s\","
               "\"duration_us\":%llu,\"streams\":%d,\"goodput_bps\":%.0f,\"tunnel_bps\":%.0f,",
               b->tun, inet_ntoa(b->srv.sin_addr), local, (unsigned long long)dur, streams,
               goodput, b->tun_in1 * 8 / secs);
        printf("\"latency\":{");
        print_lat("idle", &b->idle, true);
        printf(",");
        print_lat("loaded", &b->load, true);
        printf("},\"uplinks\":[");
        bool first = true;
        for (int s = 0; s < TG_MAX_UPLINKS; s++) {
            if (!b->seen1[s])
                continue;
            printf("%s{\"slot\":%d,\"interface\":\"%s\",\"sent_bytes\":%.0f,\"sent_bps\":%.0f,"
                   "\"delivered_bytes\":%.0f,\"delivered_bps\":%.0f,\"share_ratio\":%.4f,"
                   "\"srtt_us\":%.0f,\"loss_ratio\":%.6f}",
                   first ? "" : ",", s, b->name[s], b->tx1[s], b->tx1[s] * 8 / secs, b->dl1[s],
                   b->dl1[s] * 8 / secs, sum > 0 ? b->dl1[s] / sum : 0, b->srtt[s], b->loss[s]);
            first = false;
        }
        printf("]}\n");
        return;
    }
    printf("benchmark through %s (%s -> %s), %d TCP streams for %.0f s:\n", b->tun, local,
           inet_ntoa(b->srv.sin_addr), streams, (double)dur / 1e6);
    printf("  throughput %s goodput (TCP payload acknowledged by the server), %s of IP packets "
           "into the tunnel\n",
           rt_fmt_rate(goodput, r, sizeof r), rt_fmt_rate(b->tun_in1 * 8 / secs, a, sizeof a));
    printf("latency (UDP echo round trips):\n");
    print_lat("idle", &b->idle, false);
    print_lat("loaded", &b->load, false);
    printf("per uplink (data the server received on it; datagrams sent on it):\n");
    for (int s = 0; s < TG_MAX_UPLINKS; s++)
        if (b->seen1[s])
            printf("  %-15s %12s  %5.1f %%  (sent %s)  srtt %.1f ms  loss %.2f %%\n", b->name[s],
                   rt_fmt_rate(b->dl1[s] * 8 / secs, r, sizeof r),
                   sum > 0 ? 100 * b->dl1[s] / sum : 0, rt_fmt_rate(b->tx1[s] * 8 / secs, a, sizeof a),
                   b->srtt[s] / 1e3, 100 * b->loss[s]);
}

/* `triglav tun KEY` of our own, started from this very binary; *pid when it
 * runs and has a session. Returns 0, or 1 after showing its log. */
static int own_tunnel(const char *key, const char *tun, const char *dir, char **ifaces, int n_if,
                      pid_t *pid, char *sock, size_t scap)
{
    char logp[] = "/tmp/triglav-benchmark-XXXXXX";
    int logfd = mkstemp(logp);
    if (logfd < 0) {
        perror("triglav benchmark: mkstemp");
        return 1;
    }
    unlink(logp);
    /* argv for execv: copies, so nothing const is handed over as writable */
    static char store[2048];
    char *args[64];
    int n = 0;
    size_t used = 0;
    const char *fixed[] = {"triglav", "tun", key, "--tun-name", tun, "--state-dir", dir,
                           "--connect-timeout", "15", n_if == 0 ? "--auto-discover" : NULL};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] + 2 * (size_t)n_if && n < 62; i++) {
        const char *a = i < sizeof fixed / sizeof fixed[0]
                            ? fixed[i]
                            : (i - sizeof fixed / sizeof fixed[0]) % 2 == 0
                                  ? "-i"
                                  : ifaces[(i - sizeof fixed / sizeof fixed[0]) / 2];
        size_t l = a != NULL ? strlen(a) + 1 : 0;
        if (a == NULL || used + l > sizeof store)
            continue;
        memcpy(store + used, a, l);
        args[n++] = store + used;
        used += l;
    }
    args[n] = NULL;
    *pid = fork();
    if (*pid == 0) {
        dup2(logfd, STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int rc = 1;
    for (int i = 0; *pid > 0 && i < 200; i++) { /* 20 s */
        poll(NULL, 0, 100);
        int st;
        if (waitpid(*pid, &st, WNOHANG) == *pid) {
            *pid = -1;
            break;
        }
        static char probe[ANSWER_CAP];
        size_t len;
        rt_state_path(sock, scap, dir, tun, "sock");
        if (rt_control_ask(sock, "status json", probe, sizeof probe, &len, 2000) == 0 &&
            strstr(probe, "\"server_tunnel_address\":\"") != NULL) {
            rc = 0;
            break;
        }
    }
    if (rc != 0) {
        char log[4096];
        ssize_t r = pread(logfd, log, sizeof log - 1, 0);
        fprintf(stderr, "triglav benchmark: the tunnel of its own did not come up%s\n%.*s",
                r > 0 ? "; it said:" : "", r > 0 ? (int)r : 0, log);
    }
    close(logfd);
    return rc;
}

int rt_cmd_benchmark(int argc, char **argv)
{
    static const struct option lo[] = {
        {"duration", required_argument, NULL, O_DURATION},
        {"streams", required_argument, NULL, O_STREAMS},
        {"json", no_argument, NULL, O_JSON},
        {"tun-name", required_argument, NULL, O_TUN},
        {"state-dir", required_argument, NULL, O_DIR},
        {"interface", required_argument, NULL, 'i'},
        {"auto-discover", no_argument, NULL, O_AUTO},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    static struct bench b;
    char tun[16] = "", dir[200] = "";
    char *ifaces[TG_MAX_UPLINKS];
    int n_if = 0, streams = 4, c;
    tg_time dur = TG_SEC(10);
    bool json = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:h", lo, NULL)) != -1) {
        switch (c) {
        case O_DURATION:
            if (rt_parse_seconds(optarg, TG_SEC(1), TG_SEC(3600), &dur) != 0) {
                fprintf(stderr, "triglav benchmark: --duration '%s': expected 1 to 3600 seconds\n",
                        optarg);
                return 2;
            }
            break;
        case O_STREAMS: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || end == optarg || v < 1 || v > MAX_STREAMS) {
                fprintf(stderr, "triglav benchmark: --streams '%s': expected 1 to %d\n", optarg,
                        MAX_STREAMS);
                return 2;
            }
            streams = (int)v;
            break;
        }
        case O_JSON: json = true; break;
        case O_AUTO: break; /* the default for a tunnel of its own */
        case 'i':
            if (n_if >= TG_MAX_UPLINKS || !rt_ifname_ok(optarg)) {
                fprintf(stderr, "triglav benchmark: -i '%s': %s\n", optarg,
                        n_if >= TG_MAX_UPLINKS ? "16 uplinks at most" : "not an interface name");
                return 2;
            }
            ifaces[n_if++] = optarg;
            break;
        case O_TUN:
        case O_DIR: {
            char *dst = c == O_TUN ? tun : dir;
            size_t cap = c == O_TUN ? sizeof tun : sizeof dir;
            if (strlen(optarg) >= cap) {
                fprintf(stderr, "triglav benchmark: '%s' is too long\n", optarg);
                return 2;
            }
            snprintf(dst, cap, "%s", optarg);
            break;
        }
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            fputs(usage, stderr);
            return 2;
        }
    }
    const char *keystr = optind < argc ? argv[optind] : NULL;
    if (optind + 1 < argc) {
        fprintf(stderr, "triglav benchmark: unexpected argument '%s'\n", argv[optind + 1]);
        return 2;
    }
    struct tg_key key;
    if (keystr != NULL && tg_key_decode(keystr, strlen(keystr), &key) != TG_OK) {
        fprintf(stderr, "triglav benchmark: the key is malformed: paste the whole tg1_... key "
                        "the server printed\n");
        return 2;
    }
    if (dir[0] == '\0')
        rt_cmd_state_dir(dir, sizeof dir);
    char probe[8];
    size_t len;
    rt_state_path(b.sock, sizeof b.sock, dir, tun[0] ? tun : "tg0", "sock");
    int rc = rt_control_ask(b.sock, "", probe, sizeof probe, &len, 2000);
    pid_t own = -1;
    if (rc == -ENOENT && keystr != NULL) {
        if (rt_mkdir(dir, 0755) != 0) {
            fprintf(stderr, "triglav benchmark: cannot create %s: %s\n", dir, strerror(errno));
            return 1;
        }
        if (!json)
            fprintf(stderr, "triglav benchmark: no tunnel runs at %s: bringing up %s for the run\n",
                    b.sock, tun[0] ? tun : "tgb0");
        if (own_tunnel(keystr, tun[0] ? tun : "tgb0", dir, ifaces, n_if, &own, b.sock,
                       sizeof b.sock) != 0) {
            rc = 1;
            goto done;
        }
    } else if (rc != 0) {
        if (rc == -ENOENT)
            fprintf(stderr, "triglav benchmark: no tunnel runs at %s: start `triglav tun` (or "
                            "pass --tun-name/--state-dir as it was started), or give the key to "
                            "bring one up for the run\n", b.sock);
        else
            fprintf(stderr, "triglav benchmark: %s: %s\n", b.sock, strerror(-rc));
        return 1;
    } else if (n_if > 0) {
        fprintf(stderr, "triglav benchmark: note: -i is for a tunnel of its own; %s runs "
                        "already and keeps its uplinks\n", b.sock);
    }
    rc = tunnel_info(&b, keystr != NULL ? &key : NULL);
    double goodput = 0;
    char local[64] = "?";
    if (rc == 0)
        rc = run(&b, dur, streams, &goodput, local, sizeof local);
    if (rc == 0)
        report(&b, dur, streams, goodput, local, json);
done:
    if (own > 0) {
        kill(own, SIGTERM);
        int st = 0;
        for (int i = 0; i < 100 && waitpid(own, &st, WNOHANG) == 0; i++)
            poll(NULL, 0, 100);
        if (waitpid(own, &st, WNOHANG) == 0) {
            kill(own, SIGKILL);
            waitpid(own, &st, 0);
        }
    }
    return rc;
}
