/*
 * testnet_probe.c: `triglav-sim live probe send|recv` (testnet.h), the voice
 * flow of the testnet. Each datagram carries its sequence number and its
 * CLOCK_MONOTONIC send time; network namespaces of one machine share that
 * clock, so the receiver measures one-way delay directly, application to
 * application, as the simulator measures a voice flow's.
 *
 * Down (outside host -> laptop) the outside host cannot reach the laptop:
 * only the server's masquerade answers it. So the receiver on the laptop
 * says hello first (`recv --hello IP:PORT`, repeated until data comes) and
 * the sender (`send --hello-port PORT`) answers the address the hello came
 * from. Every loop is bounded in count and time.
 */
#define _GNU_SOURCE
#include "testnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "testnet_util.h"

#define MAX_COUNT   10000000u
#define MAX_TIMEOUT 3600u
static const char hello[8] = "TGHELLO";

static const char usage_probe[] =
    "usage: triglav-sim live probe send (--to IP:PORT | --hello-port PORT) --count N\n"
    "                                   [--size BYTES] [--pps R] [--timeout S]\n"
    "                                   [--video BPS [--mss BYTES] [--seed N]]\n"
    "       triglav-sim live probe recv (--port PORT | --hello IP:PORT) [--count N]\n"
    "                                   [--span S] [--timeout S] [--idle-ms MS]\n"
    "\n"
    "A constant-rate UDP flow (IPv4) whose datagrams carry a sequence number and\n"
    "their send time (CLOCK_MONOTONIC, which network namespaces of one machine\n"
    "share).\n"
    "  send  COUNT datagrams of SIZE bytes of UDP payload (default 160, at least 16)\n"
    "        at PPS per second (default 50), to IP:PORT, or to whoever sends a hello\n"
    "        to PORT (waits at most --timeout seconds for it, default 30); with\n"
    "        --video, COUNT frames of a video call instead: 30 per second averaging\n"
    "        BPS bit/s, log-normal sizes (sigma 0.3), a key frame 4 times larger\n"
    "        every 2 s, each sent at once in datagrams of at most --mss bytes\n"
    "        (default 1360), sizes drawn from --seed (as the simulator's model)\n"
    "  recv  on PORT, or from a socket that says hello to IP:PORT every 100 ms until\n"
    "        the first datagram arrives; stops once COUNT distinct datagrams have\n"
    "        arrived, or after --timeout seconds (default 120), or --idle-ms\n"
    "        (default 1000) after the last datagram but not before the sender is\n"
    "        done: --span seconds (default 0) after the earliest send time seen, so\n"
    "        an outage longer than --idle-ms inside the flow does not end it.\n"
    "        A datagram whose sequence number was seen is a duplicate, not counted.\n"
    "        Prints 'key value' lines: received, expected (COUNT, 0 if not given),\n"
    "        duplicates, out_of_range (sequence numbers >= COUNT), loss\n"
    "        (1 - received/COUNT), owd_p50_ms, owd_p95_ms, owd_p99_ms, owd_min_ms,\n"
    "        owd_max_ms (nearest rank), first_s, last_s.\n";

static int bound_socket(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        fprintf(stderr, "%s: UDP port %u: %s\n", sim_cmd_name, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int buf = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    return fd;
}

static int do_send(int fd, const struct sockaddr_in *to, uint64_t size, double pps, uint64_t count)
{
    uint8_t *p = calloc(1, size);
    if (!p)
        return 1;
    uint64_t start = sim_live_now_ns(), gap = (uint64_t)(1e9 / pps);
    uint64_t sent = 0, failed = 0;
    for (uint64_t i = 0; i < count; i++) {
        uint64_t at = start + i * gap;
        struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        uint64_t t = sim_live_now_ns();
        memcpy(p, &i, 8);
        memcpy(p + 8, &t, 8);
        if (sendto(fd, p, size, 0, (const struct sockaddr *)to, sizeof *to) < 0)
            failed++;
        else
            sent++;
    }
    free(p);
    printf("sent %" PRIu64 "\nsend_failed %" PRIu64 "\nseconds %.3f\n", sent, failed,
           (double)(sim_live_now_ns() - start) / 1e9);
    return 0;
}

/* A standard normal draw (Box-Muller): the video frames' sizes */
static double normal01(uint64_t *s)
{
    double u1 = sim_live_uniform01(s), u2 = sim_live_uniform01(s);
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

/* A video call's one direction, as the simulator's (sim/traffic.c): COUNT
 * frames at 30 per second averaging bps, log-normal sizes (sigma 0.3), every
 * 60th a key frame 4 times larger, each sent at once in packets of at most
 * mss bytes (at least 16, for the header). */
static int do_video(int fd, const struct sockaddr_in *to, double bps, uint64_t mss, uint64_t count,
                    uint64_t seed)
{
    enum { FPS = 30, GOP = 60 };
    const double key_factor = 4.0, sigma = 0.3;
    uint8_t *p = calloc(1, mss);
    if (!p)
        return 1;
    uint64_t start = sim_live_now_ns(), gap = 1000000000u / FPS, s = seed, seq = 0;
    uint64_t sent = 0, failed = 0, bytes = 0;
    for (uint64_t k = 0; k < count; k++) {
        uint64_t at = start + k * gap;
        struct timespec ts = {(time_t)(at / 1000000000u), (long)(at % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
        double mean = bps / 8 / FPS * GOP / (GOP - 1 + key_factor);
        if (k % GOP == 0)
            mean *= key_factor;
        double v = exp(log(mean) - sigma * sigma / 2 + sigma * normal01(&s));
        uint64_t size = v < 1 ? 1 : (uint64_t)llround(fmin(v, 1e7));
        uint64_t npk = (size + mss - 1) / mss;
        for (uint64_t i = 0; i < npk; i++) {
            uint64_t b = size / npk + (i < size % npk ? 1 : 0);
            if (b < 16)
                b = 16;
            uint64_t t = sim_live_now_ns();
            memcpy(p, &seq, 8);
            memcpy(p + 8, &t, 8);
            seq++;
            if (sendto(fd, p, b, 0, (const struct sockaddr *)to, sizeof *to) < 0) {
                failed++;
            } else {
                sent++;
                bytes += b;
            }
        }
    }
    free(p);
    printf("sent %" PRIu64 "\nsend_failed %" PRIu64 "\nbytes %" PRIu64 "\nseconds %.3f\n", sent,
           failed, bytes, (double)(sim_live_now_ns() - start) / 1e9);
    return 0;
}

/* How long the receiver waits: until COUNT distinct datagrams have arrived,
 * or the timeout, or idle_ns without a datagram once the sender's schedule is
 * over (span_ns after the earliest send time seen: an outage in the middle of
 * the flow is not its end). Datagrams are counted once per sequence number. */
struct recv_plan {
    uint64_t count, span_ns, idle_ns;
    double timeout_s;
};

static int do_recv(int fd, const struct sockaddr_in *hello_to, const struct recv_plan *plan)
{
    size_t cap = plan->count ? (size_t)plan->count : 1000000;
    uint64_t *owd = malloc(cap * sizeof *owd);
    uint8_t *seen = calloc((cap + 7) / 8, 1);
    if (!owd || !seen) {
        free(owd);
        free(seen);
        return 1;
    }
    uint8_t p[65536];
    uint64_t start = sim_live_now_ns(), end = start + (uint64_t)(plan->timeout_s * 1e9);
    uint64_t next_hello = start, first = 0, last = 0, n = 0, dups = 0, beyond = 0, sent_min = 0;
    while (plan->count == 0 || n < plan->count) {
        uint64_t t = sim_live_now_ns();
        if (t >= end)
            break;
        if (hello_to && n == 0 && t >= next_hello) {
            (void)sendto(fd, hello, sizeof hello, 0, (const struct sockaddr *)hello_to,
                         sizeof *hello_to);
            next_hello = t + 100000000u;
        }
        uint64_t until = end;
        if (n) {
            uint64_t quiet = last + plan->idle_ns, over = sent_min + plan->span_ns + plan->idle_ns;
            if (quiet < over)
                quiet = over;
            if (quiet < until)
                until = quiet;
        } else if (hello_to && next_hello < until) {
            until = next_hello;
        }
        if (until <= t) {
            if (n)
                break;
            continue;
        }
        struct pollfd pfd = {fd, POLLIN, 0};
        int r = poll(&pfd, 1, (int)((until - t) / 1000000u) + 1);
        if (r <= 0)
            continue;
        ssize_t len = recv(fd, p, sizeof p, MSG_DONTWAIT);
        if (len < 16)
            continue;
        uint64_t at = sim_live_now_ns(), seq, sent;
        memcpy(&seq, p, 8);
        memcpy(&sent, p + 8, 8);
        if (seq >= cap) {
            beyond++;
            continue;
        }
        if (seen[seq / 8] & (1u << (seq % 8))) {
            dups++;
            continue;
        }
        seen[seq / 8] |= (uint8_t)(1u << (seq % 8));
        if (!n || sent < sent_min)
            sent_min = sent;
        if (!n)
            first = at;
        last = at;
        owd[n++] = at > sent ? at - sent : 0; /* n <= cap: seq < cap, each once */
    }
    qsort(owd, (size_t)n, sizeof *owd, sim_live_cmp_u64);
#define RANK(q) (n ? (double)owd[(size_t)((q) * (double)(n - 1) + 0.5)] / 1e6 : 0.0)
    printf("received %" PRIu64 "\nexpected %" PRIu64 "\nduplicates %" PRIu64
           "\nout_of_range %" PRIu64 "\n",
           n, plan->count, dups, beyond);
    if (plan->count)
        printf("loss %.6f\n", n >= plan->count ? 0.0 : 1.0 - (double)n / (double)plan->count);
    if (n)
        printf("owd_p50_ms %.3f\nowd_p95_ms %.3f\nowd_p99_ms %.3f\nowd_min_ms %.3f\n"
               "owd_max_ms %.3f\nfirst_s %.6f\nlast_s %.6f\n",
               RANK(0.50), RANK(0.95), RANK(0.99), RANK(0.0), RANK(1.0), (double)first / 1e9,
               (double)last / 1e9);
#undef RANK
    free(seen);
    free(owd);
    return 0;
}

int sim_live_probe_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim live probe";
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage_probe, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bool send = strcmp(argv[1], "send") == 0;
    if (!send && strcmp(argv[1], "recv") != 0)
        return sim_usage_error("expected send or recv, got '%s'", argv[1]);
    struct sockaddr_in peer;
    bool has_peer = false;
    uint64_t port = 0, count = 0, size = 160, idle_ms = 1000, mss = 1360, seed = 1;
    double video_bps = 0;
    double pps = 50, timeout = send ? 30 : 120, span = 0;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_probe, stdout);
            return 0;
        }
        if ((m = sim_opt_value(argc, argv, &i, send ? "--to" : "--hello", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_live_parse_addr(v, &peer))
                return sim_usage_error("%s: expected IPv4:PORT, got '%s'",
                                       send ? "--to" : "--hello", v);
            has_peer = true;
        } else if ((m = sim_opt_value(argc, argv, &i, send ? "--hello-port" : "--port", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, 65535, false, &port))
                return sim_usage_error("expected a UDP port (1-65535), got '%s'", v);
        } else if ((m = sim_opt_value(argc, argv, &i, "--count", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, MAX_COUNT, false, &count))
                return sim_usage_error("--count: expected 1 to %u, got '%s'", MAX_COUNT, v);
        } else if (send && (m = sim_opt_value(argc, argv, &i, "--size", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 16, 65000, false, &size))
                return sim_usage_error("--size: expected 16 to 65000 bytes, got '%s'", v);
        } else if (send && (m = sim_opt_value(argc, argv, &i, "--video", &v)) != 0) {
            char *end;
            if (m < 0)
                return 2;
            video_bps = strtod(v, &end);
            if (!*v || *end || !(video_bps >= 1000 && video_bps <= 1e10))
                return sim_usage_error("--video: expected 1000 to 1e10 bit/s, got '%s'", v);
        } else if (send && (m = sim_opt_value(argc, argv, &i, "--mss", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 64, 1460, false, &mss))
                return sim_usage_error("--mss: expected 64 to 1460 bytes, got '%s'", v);
        } else if (send && (m = sim_opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 0, UINT64_MAX, true, &seed))
                return sim_usage_error("--seed: expected a whole number, got '%s'", v);
        } else if (send && (m = sim_opt_value(argc, argv, &i, "--pps", &v)) != 0) {
            char *end;
            if (m < 0)
                return 2;
            pps = strtod(v, &end);
            if (!*v || *end || !(pps >= 0.1 && pps <= 1e6))
                return sim_usage_error("--pps: expected 0.1 to 1000000, got '%s'", v);
        } else if ((m = sim_opt_value(argc, argv, &i, "--timeout", &v)) != 0) {
            uint64_t s;
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, MAX_TIMEOUT, false, &s))
                return sim_usage_error("--timeout: expected 1 to %u seconds, got '%s'", MAX_TIMEOUT,
                                       v);
            timeout = (double)s;
        } else if (!send && (m = sim_opt_value(argc, argv, &i, "--idle-ms", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, 600000, false, &idle_ms))
                return sim_usage_error("--idle-ms: expected 1 to 600000, got '%s'", v);
        } else if (!send && (m = sim_opt_value(argc, argv, &i, "--span", &v)) != 0) {
            char *end;
            if (m < 0)
                return 2;
            span = strtod(v, &end);
            if (!*v || *end || !(span >= 0 && span <= MAX_TIMEOUT))
                return sim_usage_error("--span: expected 0 to %u seconds, got '%s'", MAX_TIMEOUT,
                                       v);
        } else {
            return sim_usage_error("unknown option '%s'", argv[i]);
        }
    }
    if (has_peer == (port != 0))
        return sim_usage_error(send ? "give one of --to IP:PORT and --hello-port PORT"
                                    : "give one of --port PORT and --hello IP:PORT");
    if (send && count == 0)
        return sim_usage_error("no --count given");
    int fd = bound_socket((uint16_t)port);
    if (fd < 0)
        return 1;
    int rc;
    if (send) {
        if (!has_peer) { /* wait for the receiver's hello; answer where it came from */
            uint64_t end = sim_live_now_ns() + (uint64_t)(timeout * 1e9);
            socklen_t sl = sizeof peer;
            char buf[64];
            for (;;) {
                uint64_t t = sim_live_now_ns();
                if (t >= end) {
                    fprintf(stderr, "%s: no hello on port %" PRIu64 " within %.0f s\n",
                            sim_cmd_name, port, timeout);
                    close(fd);
                    return 1;
                }
                struct pollfd pfd = {fd, POLLIN, 0};
                if (poll(&pfd, 1, (int)((end - t) / 1000000u) + 1) <= 0)
                    continue;
                sl = sizeof peer;
                ssize_t len =
                    recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&peer, &sl);
                if (len == (ssize_t)sizeof hello && memcmp(buf, hello, sizeof hello) == 0)
                    break;
            }
        }
        rc = video_bps > 0 ? do_video(fd, &peer, video_bps, mss, count, seed)
                           : do_send(fd, &peer, size, pps, count);
    } else {
        struct recv_plan plan = {count, (uint64_t)(span * 1e9), idle_ms * 1000000u, timeout};
        rc = do_recv(fd, has_peer ? &peer : NULL, &plan);
    }
    close(fd);
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}
