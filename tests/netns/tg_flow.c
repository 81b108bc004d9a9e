/*
 * tg_flow: timed TCP flows in either direction and a paced ping, with their
 * timelines, for the netns tests that watch a transfer over time
 * (alternate.sh, silent_failover.sh, chaos.sh). Times are CLOCK_MONOTONIC
 * seconds, the same clock in every namespace, so a script can line them up
 * with what it did to the links (`tg_flow now`). Every wait is bounded.
 *   now                                 prints the monotonic time
 *   send-serve PORT SECONDS BYTES TIMEOUT_S
 *                                       accept one client and send to it a fixed
 *                                       pseudo-random stream for SECONDS, or BYTES
 *                                       of it if BYTES > 0; prints sent, sha256,
 *                                       and "rto TIME BACKOFF RTO_MS RETRANS_TOTAL"
 *                                       each time its timeout backoff changes
 *   send IP PORT SECONDS TIMEOUT_S      connect and send for SECONDS (an upload)
 *   recv-serve PORT TIMEOUT_S           accept one client, read to EOF (the receiver
 *                                       of an upload); prints what recv prints
 *   recv IP PORT TIMEOUT_S              connect and read to EOF; prints bytes, sha256,
 *                                       seconds, mbit, mbit_after_1s, max_stall_ms,
 *                                       "gap START END" for each read gap > 0.1 s
 *                                       and "bin START BYTES" per 50 ms (TG_BINS=1)
 *   ping IP INTERVAL_MS COUNT           ICMP echo every INTERVAL_MS, replies awaited
 *                                       2 s; prints "ping SEQ SENT_AT 0|1" and
 *                                       "ping_answered N"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "tg_flow: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int wait_fd(int fd, short ev, double deadline)
{
    double left = deadline - now_s();
    if (left <= 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = ev};
    return poll(&p, 1, (int)(left * 1000) + 1) > 0;
}

/* The sender's timeouts, as they happen: "rto T BACKOFF RTO_MS RETRANS_TOTAL" each
 * time the socket's backoff changes (TCP_INFO sampled every 20 ms while the
 * sender waits), so a stall can be lined up with what the links did. */
static void watch_rto(int fd)
{
    static int last_backoff = -1;
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || ti.tcpi_backoff == last_backoff)
        return;
    last_backoff = ti.tcpi_backoff;
    printf("rto %.3f %u %u %u\n", now_s(), ti.tcpi_backoff, ti.tcpi_rto / 1000, ti.tcpi_total_retrans);
}

/* wait_fd for a sender: the same, watching its timeouts meanwhile */
static int wait_send(int fd, short ev, double deadline)
{
    for (;;) {
        double left = deadline - now_s();
        watch_rto(fd);
        if (left <= 0)
            return 0;
        struct pollfd p = {.fd = fd, .events = ev};
        int r = poll(&p, 1, left < 0.02 ? (int)(left * 1000) + 1 : 20);
        if (r != 0)
            return r > 0;
    }
}

static void fill(uint64_t *state, uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t x = *state += 0x9e3779b97f4a7c15ull;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
        x ^= x >> 31;
        memcpy(buf + i, &x, len - i < 8 ? len - i : 8);
    }
}

static void print_sha(crypto_hash_sha256_state *h)
{
    uint8_t d[32];
    crypto_hash_sha256_final(h, d);
    printf("sha256 ");
    for (int i = 0; i < 32; i++)
        printf("%02x", d[i]);
    printf("\n");
}

static struct sockaddr_in sin4(const char *ip, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    if (ip != NULL && inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        fprintf(stderr, "tg_flow: bad address %s\n", ip);
        exit(2);
    }
    return sa;
}

static int accept_one(const char *port, double deadline)
{
    struct sockaddr_in sa = sin4(NULL, port);
    int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0)
        die("listen");
    printf("listening\n");
    fflush(stdout);
    if (!wait_fd(ls, POLLIN, deadline)) {
        fprintf(stderr, "tg_flow: nobody connected in time\n");
        exit(1);
    }
    int fd = accept(ls, NULL, NULL);
    if (fd < 0)
        die("accept");
    close(ls);
    return fd;
}

static int connect_to(const char *ip, const char *port)
{
    struct sockaddr_in sa = sin4(ip, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = {.tv_sec = 10};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    return fd;
}

/* Sends for `secs` (or `bytes` when > 0) before `deadline`; 0 when all went. */
static int send_for(int fd, double secs, uint64_t bytes, double deadline)
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    uint64_t st = 42, sent = 0;
    double end = now_s() + secs;
    int ok = 1;
    while (ok && (bytes > 0 ? sent < bytes : now_s() < end) && now_s() < deadline) {
        size_t n = bytes > 0 && bytes - sent < sizeof buf ? (size_t)(bytes - sent) : sizeof buf;
        fill(&st, buf, sizeof buf);
        size_t off = 0;
        while (off < n) {
            if (!wait_send(fd, POLLOUT, deadline)) {
                ok = 0;
                break;
            }
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (w < 0)
                die("send");
            off += (size_t)w;
        }
        crypto_hash_sha256_update(&h, buf, off);
        sent += off;
    }
    printf("sent %llu\n", (unsigned long long)sent);
    print_sha(&h);
    shutdown(fd, SHUT_WR);
    char tmp[256]; /* the peer closes once it has read everything */
    while (wait_send(fd, POLLIN, deadline) && read(fd, tmp, sizeof tmp) > 0) {
    }
    close(fd);
    return ok && (bytes == 0 || sent == bytes) ? 0 : 1;
}

enum { BINS_MAX = 1 << 14 };
static uint64_t bins[BINS_MAX];

static int recv_all(int fd, double deadline)
{
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    uint64_t total = 0, after1 = 0;
    double first = 0, last = 0, max_stall = 0, t0 = 0;
    int eof = 0;
    size_t nbins = 0;
    while (wait_fd(fd, POLLIN, deadline)) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            die("read");
        double t = now_s();
        if (n == 0) {
            eof = 1;
            break;
        }
        if (first == 0)
            first = last = t0 = t;
        if (t - last > max_stall)
            max_stall = t - last;
        if (t - last > 0.1)
            printf("gap %.3f %.3f\n", last, t);
        last = t;
        crypto_hash_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
        if (t - first >= 1.0)
            after1 += (uint64_t)n;
        size_t b = (size_t)((t - t0) / 0.05);
        if (b < BINS_MAX) {
            bins[b] += (uint64_t)n;
            if (b + 1 > nbins)
                nbins = b + 1;
        }
    }
    double dur = last - first;
    printf("bytes %llu\n", (unsigned long long)total);
    print_sha(&h);
    printf("start %.3f\nseconds %.3f\n", first, dur);
    printf("mbit %.2f\n", dur > 0 ? (double)total * 8 / dur / 1e6 : 0.0);
    printf("mbit_after_1s %.2f\n", dur > 1.0 ? (double)after1 * 8 / (dur - 1.0) / 1e6 : 0.0);
    printf("max_stall_ms %.0f\neof %d\n", max_stall * 1000, eof);
    if (getenv("TG_BINS") != NULL)
        for (size_t b = 0; b < nbins; b++)
            printf("bin %.3f %llu\n", t0 + (double)b * 0.05, (unsigned long long)bins[b]);
    close(fd);
    return eof ? 0 : 1;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

enum { PINGS_MAX = 4096 };
static double ping_sent[PINGS_MAX];
static uint8_t ping_ok[PINGS_MAX];

static int ping(char **a)
{
    struct sockaddr_in sa = sin4(a[0], "0");
    double interval = atof(a[1]) / 1000;
    int count = atoi(a[2]), answered = 0;
    if (count < 1 || count > PINGS_MAX || interval <= 0) {
        fprintf(stderr, "tg_flow: ping: COUNT must be 1..%d and INTERVAL_MS > 0\n", PINGS_MAX);
        return 2;
    }
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0)
        die("raw socket");
    uint16_t id = (uint16_t)getpid();
    double start = now_s(), end = start + interval * count + 2.0;
    int next = 0;
    while (now_s() < end) {
        double t = now_s();
        if (next < count && t >= start + interval * next) {
            uint8_t pkt[64] = {8, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id,
                               (uint8_t)(next >> 8), (uint8_t)next};
            uint16_t c = csum(pkt, sizeof pkt);
            pkt[2] = (uint8_t)(c >> 8), pkt[3] = (uint8_t)c;
            ping_sent[next] = t;
            sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&sa, sizeof sa);
            next++;
            continue;
        }
        double wake = next < count ? start + interval * next : end;
        if (!wait_fd(fd, POLLIN, wake))
            continue;
        uint8_t buf[2048];
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n < 28)
            continue;
        size_t ihl = (size_t)(buf[0] & 15) * 4;
        const uint8_t *ic = buf + ihl;
        if ((size_t)n < ihl + 8 || ic[0] != 0 || ic[4] != (uint8_t)(id >> 8) || ic[5] != (uint8_t)id)
            continue;
        int seq = ic[6] << 8 | ic[7];
        if (seq < next && !ping_ok[seq] && now_s() - ping_sent[seq] <= 2.0) {
            ping_ok[seq] = 1;
            answered++;
        }
    }
    for (int i = 0; i < count; i++)
        printf("ping %d %.3f %d\n", i, ping_sent[i], ping_ok[i]);
    printf("ping_answered %d\n", answered);
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    const char *c = argc > 1 ? argv[1] : "";
    if (strcmp(c, "now") == 0) {
        printf("%.3f\n", now_s());
        return 0;
    }
    if (strcmp(c, "send-serve") == 0 && argc == 6) {
        double deadline = now_s() + atof(argv[5]);
        int fd = accept_one(argv[2], deadline);
        return send_for(fd, atof(argv[3]), strtoull(argv[4], NULL, 10), deadline);
    }
    if (strcmp(c, "send") == 0 && argc == 6) {
        double deadline = now_s() + atof(argv[5]);
        return send_for(connect_to(argv[2], argv[3]), atof(argv[4]), 0, deadline);
    }
    if (strcmp(c, "recv-serve") == 0 && argc == 4) {
        double deadline = now_s() + atof(argv[3]);
        return recv_all(accept_one(argv[2], deadline), deadline);
    }
    if (strcmp(c, "recv") == 0 && argc == 5) {
        double deadline = now_s() + atof(argv[4]);
        return recv_all(connect_to(argv[2], argv[3]), deadline);
    }
    if (strcmp(c, "ping") == 0 && argc == 5)
        return ping(argv + 2);
    fprintf(stderr, "usage: tg_flow now | send-serve PORT SECONDS BYTES TIMEOUT_S | "
                    "send IP PORT SECONDS TIMEOUT_S | recv-serve PORT TIMEOUT_S | "
                    "recv IP PORT TIMEOUT_S | ping IP INTERVAL_MS COUNT\n");
    return 2;
}
