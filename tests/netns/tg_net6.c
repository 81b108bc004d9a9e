/*
 * tg_net6: the IPv6 counterparts of tg_nettool's programs, for the IPv6
 * netns tests (ipv6.sh). Same output lines, same bounded waits.
 *   ping6 IP COUNT TIMEOUT_S [SIZE]    ICMPv6 echo of SIZE bytes (64); prints "icmp_replies N"
 *   tcp-serve PORT BYTES TIMEOUT_S     send BYTES of a fixed pseudo-random stream to the
 *                                       first client; prints "peer IP" and "sha256 HEX"
 *   tcp-fetch IP PORT TIMEOUT_S        read until EOF; prints "bytes N" and "sha256 HEX"
 *   udp-echo PORT COUNT TIMEOUT_S      echo COUNT datagrams; prints "peer IP"
 *   udp-ping IP PORT COUNT TIMEOUT_S   prints "udp_replies N"
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
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
    fprintf(stderr, "tg_net6: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int wait_in(int fd, double deadline)
{
    double left = deadline - now_s();
    if (left <= 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, (int)(left * 1000) + 1) > 0;
}

/* tg_nettool's stream, so either tool's sha256 can be compared */
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
    char hx[65];
    crypto_hash_sha256_final(h, d);
    sodium_bin2hex(hx, sizeof hx, d, sizeof d);
    printf("sha256 %s\n", hx);
}

static struct sockaddr_in6 sin6(const char *ip, const char *port)
{
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(port))};
    if (ip != NULL && inet_pton(AF_INET6, ip, &sa.sin6_addr) != 1) {
        fprintf(stderr, "tg_net6: not an IPv6 address: %s\n", ip);
        exit(2);
    }
    if (ip == NULL)
        sa.sin6_addr = in6addr_any;
    return sa;
}

static void print_peer(const struct sockaddr_in6 *p)
{
    char ip[INET6_ADDRSTRLEN];
    printf("peer %s\n", inet_ntop(AF_INET6, &p->sin6_addr, ip, sizeof ip));
    fflush(stdout);
}

static int tcp_serve(char **a)
{
    struct sockaddr_in6 sa = sin6(NULL, a[0]);
    uint64_t total = strtoull(a[1], NULL, 10), sent = 0, st = 42;
    double deadline = now_s() + atof(a[2]);
    int one = 1, ls = socket(AF_INET6, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0)
        die("listen");
    printf("listening\n");
    fflush(stdout);
    if (!wait_in(ls, deadline)) {
        fprintf(stderr, "tg_net6: nobody connected in time\n");
        return 1;
    }
    struct sockaddr_in6 peer;
    socklen_t pl = sizeof peer;
    int fd = accept(ls, (struct sockaddr *)&peer, &pl);
    if (fd < 0)
        die("accept");
    print_peer(&peer);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    while (sent < total && now_s() < deadline) {
        size_t n = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
        fill(&st, buf, sizeof buf);
        for (size_t off = 0; off < n;) {
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (w < 0)
                die("send");
            off += (size_t)w;
        }
        crypto_hash_sha256_update(&h, buf, n);
        sent += n;
    }
    printf("sent %llu\n", (unsigned long long)sent);
    print_sha(&h);
    shutdown(fd, SHUT_WR);
    char tmp[256];
    while (wait_in(fd, deadline) && read(fd, tmp, sizeof tmp) > 0) {
    }
    close(fd);
    return sent == total ? 0 : 1;
}

static int tcp_fetch(char **a)
{
    struct sockaddr_in6 sa = sin6(a[0], a[1]);
    double deadline = now_s() + atof(a[2]);
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        die("connect");
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int err = 0;
    socklen_t el = sizeof err;
    if (poll(&p, 1, 10000) <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err) {
        errno = err != 0 ? err : ETIMEDOUT;
        die("connect");
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    uint64_t total = 0;
    int eof = 0;
    while (!eof && wait_in(fd, deadline)) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (n < 0)
            die("read");
        eof = n == 0;
        crypto_hash_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
    }
    printf("bytes %llu\n", (unsigned long long)total);
    print_sha(&h);
    printf("eof %d\n", eof);
    close(fd);
    return eof ? 0 : 1;
}

static int udp_echo(char **a)
{
    struct sockaddr_in6 sa = sin6(NULL, a[0]);
    int count = atoi(a[1]);
    double deadline = now_s() + atof(a[2]);
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    printf("listening\n");
    fflush(stdout);
    for (int i = 0; i < count && wait_in(fd, deadline); i++) {
        char buf[2048];
        struct sockaddr_in6 from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            die("recvfrom");
        if (i == 0)
            print_peer(&from);
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
    return 0;
}

static int udp_ping(char **a)
{
    struct sockaddr_in6 sa = sin6(a[0], a[1]);
    int count = atoi(a[2]), ok = 0;
    double deadline = now_s() + atof(a[3]);
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    for (int i = 0; i < count && now_s() < deadline; i++) {
        char msg[64], buf[2048];
        int len = snprintf(msg, sizeof msg, "ping %d", i);
        sendto(fd, msg, (size_t)len, 0, (struct sockaddr *)&sa, sizeof sa);
        double until = now_s() + 1.0 < deadline ? now_s() + 1.0 : deadline;
        while (wait_in(fd, until)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n == len && memcmp(buf, msg, (size_t)len) == 0) {
                ok++;
                break;
            }
        }
    }
    printf("udp_replies %d\n", ok);
    return ok == count ? 0 : 1;
}

/* The kernel fills in the ICMPv6 checksum of a raw ICMPv6 socket. */
static int ping6(char **a, int argc)
{
    struct sockaddr_in6 sa = sin6(a[0], "0");
    int count = atoi(a[1]), ok = 0;
    size_t size = argc > 3 ? (size_t)atoi(a[3]) : 64;
    double deadline = now_s() + atof(a[2]);
    static uint8_t pkt[65536], buf[65536];
    if (size < 8 || size > sizeof pkt)
        size = 64;
    int fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    if (fd < 0)
        die("raw socket");
    int dontfrag = 1; /* a packet too big for the path must fail, not be fragmented */
    setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &dontfrag, sizeof dontfrag);
    uint16_t id = (uint16_t)getpid();
    for (int i = 0; i < count && now_s() < deadline; i++) {
        memset(pkt, 0, size);
        pkt[0] = ICMP6_ECHO_REQUEST;
        pkt[4] = (uint8_t)(id >> 8), pkt[5] = (uint8_t)id, pkt[7] = (uint8_t)i;
        double sent = now_s();
        sendto(fd, pkt, size, 0, (struct sockaddr *)&sa, sizeof sa);
        double until = sent + 1.0 < deadline ? sent + 1.0 : deadline;
        while (wait_in(fd, until)) {
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n >= 8 && buf[0] == ICMP6_ECHO_REPLY && buf[4] == (uint8_t)(id >> 8) &&
                buf[5] == (uint8_t)id && buf[7] == (uint8_t)i && (size_t)n == size) {
                ok++;
                printf("icmp_rtt_ms %.2f\n", (now_s() - sent) * 1000);
                break;
            }
        }
    }
    printf("icmp_replies %d\n", ok);
    return ok == count ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0)
        return 1;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 5 && strcmp(argv[1], "ping6") == 0)
        return ping6(argv + 2, argc - 2);
    if (argc == 5 && strcmp(argv[1], "tcp-serve") == 0)
        return tcp_serve(argv + 2);
    if (argc == 5 && strcmp(argv[1], "tcp-fetch") == 0)
        return tcp_fetch(argv + 2);
    if (argc == 5 && strcmp(argv[1], "udp-echo") == 0)
        return udp_echo(argv + 2);
    if (argc == 6 && strcmp(argv[1], "udp-ping") == 0)
        return udp_ping(argv + 2);
    fprintf(stderr, "usage: tg_net6 ping6 IP COUNT TIMEOUT [SIZE] | tcp-serve PORT BYTES TIMEOUT | "
                    "tcp-fetch IP PORT TIMEOUT | udp-echo PORT COUNT TIMEOUT | "
                    "udp-ping IP PORT COUNT TIMEOUT\n");
    return 2;
}
