/*
 * tg_emuprobe: a UDP sender and receiver that timestamp, for the emulator's
 * self-checks (tests/emu/) and bench_emulator. Each datagram carries its
 * sequence number and its CLOCK_MONOTONIC send time; the clock is the same in
 * every namespace, so the receiver measures one-way delay directly. Every
 * loop is bounded in count and time.
 *   now                                   prints the monotonic time (seconds)
 *   send IP PORT SIZE PPS COUNT           COUNT datagrams of SIZE bytes (UDP
 *                                         payload) at PPS per second (0: as
 *                                         fast as the socket takes them)
 *   recv PORT TIMEOUT_S IDLE_MS [FROM TO] receive until IDLE_MS pass without a
 *                                         datagram (after the first) or
 *                                         TIMEOUT_S in all; FROM TO (monotonic
 *                                         seconds): also count the datagrams
 *                                         sent in [FROM, TO)
 * recv prints one "key value" per line: received, bytes, first, last (arrival
 * times), rate_bps (payload bits between the first and the last arrival),
 * ip_rate_bps (the same counting the IPv4 and UDP headers, 28 bytes: what
 * the emulator's links charge),
 * owd_p50_us, owd_p99_us, owd_min_us, max_gap_ms, in_window.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PKTS 2000000

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int do_send(const char *ip, int port, size_t size, double pps, long count)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (fd < 0 || inet_pton(AF_INET, ip, &to.sin_addr) != 1 || size < 16 || size > 65000) {
        fprintf(stderr, "tg_emuprobe send: bad arguments or socket\n");
        return 1;
    }
    int buf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    uint8_t *p = calloc(1, size);
    if (!p)
        return 1;
    uint64_t start = now_ns(), gap = pps > 0 ? (uint64_t)(1e9 / pps) : 0;
    long sent = 0, failed = 0;
    for (long i = 0; i < count; i++) {
        if (gap) {
            uint64_t at = start + (uint64_t)i * gap;
            struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        }
        uint64_t seq = (uint64_t)i, t = now_ns();
        memcpy(p, &seq, 8);
        memcpy(p + 8, &t, 8);
        if (sendto(fd, p, size, 0, (struct sockaddr *)&to, sizeof to) < 0)
            failed++;
        else
            sent++;
    }
    printf("sent %ld\nsend_failed %ld\nseconds %.3f\n", sent, failed,
           (double)(now_ns() - start) / 1e9);
    free(p);
    close(fd);
    return 0;
}

static int do_recv(int port, double timeout_s, int idle_ms, double from, double to)
{
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int buf = 8 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof buf);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
        perror("tg_emuprobe recv: bind");
        return 1;
    }
    uint64_t *owd = malloc(MAX_PKTS * sizeof *owd);
    if (!owd)
        return 1;
    uint8_t p[65536];
    uint64_t start = now_ns(), end = start + (uint64_t)(timeout_s * 1e9);
    uint64_t first = 0, last = 0, bytes = 0, max_gap = 0, in_window = 0, last_bytes = 0;
    size_t n = 0;
    for (;;) {
        uint64_t t = now_ns();
        if (t >= end)
            break;
        int wait = (int)((end - t) / 1000000u) + 1;
        if (n && wait > idle_ms)
            wait = idle_ms;
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, wait);
        if (r == 0 && n)
            break;
        if (r <= 0)
            continue;
        ssize_t len = recv(fd, p, sizeof p, MSG_DONTWAIT);
        if (len < 16)
            continue;
        uint64_t at = now_ns(), sent;
        memcpy(&sent, p + 8, 8);
        if (n && at - last > max_gap)
            max_gap = at - last;
        if (!n)
            first = at;
        last = at;
        last_bytes = (uint64_t)len;
        bytes += (uint64_t)len;
        double ss = (double)sent / 1e9;
        if (ss >= from && ss < to)
            in_window++;
        if (n < MAX_PKTS)
            owd[n++] = at > sent ? (at - sent) / 1000u : 0;
        else
            n++;
    }
    size_t m = n < MAX_PKTS ? n : MAX_PKTS;
    qsort(owd, m, sizeof *owd, cmp_u64);
    double span = (double)(last - first) / 1e9;
    /* the first datagram opens the interval: count what came after it */
    double payload = (double)(bytes - (n ? bytes / n : 0));
    double ip = payload + (n > 1 ? (double)(n - 1) * 28.0 : 0);
    (void)last_bytes;
    printf("received %zu\nbytes %llu\nfirst %.6f\nlast %.6f\n", n, (unsigned long long)bytes,
           (double)first / 1e9, (double)last / 1e9);
    printf("rate_bps %.0f\nip_rate_bps %.0f\n", span > 0 ? payload * 8 / span : 0,
           span > 0 ? ip * 8 / span : 0);
    printf("owd_p50_us %llu\nowd_p99_us %llu\nowd_min_us %llu\n",
           (unsigned long long)(m ? owd[m / 2] : 0),
           (unsigned long long)(m ? owd[m * 99 / 100] : 0), (unsigned long long)(m ? owd[0] : 0));
    printf("max_gap_ms %.3f\nin_window %llu\n", (double)max_gap / 1e6,
           (unsigned long long)in_window);
    free(owd);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "now") == 0) {
        printf("%.6f\n", (double)now_ns() / 1e9);
        return 0;
    }
    if (argc == 7 && strcmp(argv[1], "send") == 0)
        return do_send(argv[2], atoi(argv[3]), (size_t)atol(argv[4]), atof(argv[5]),
                       atol(argv[6]));
    if ((argc == 5 || argc == 7) && strcmp(argv[1], "recv") == 0)
        return do_recv(atoi(argv[2]), atof(argv[3]), atoi(argv[4]),
                       argc == 7 ? atof(argv[5]) : 0, argc == 7 ? atof(argv[6]) : 0);
    fprintf(stderr, "usage: tg_emuprobe now | send IP PORT SIZE PPS COUNT | "
                    "recv PORT TIMEOUT_S IDLE_MS [FROM TO]\n");
    return 2;
}
