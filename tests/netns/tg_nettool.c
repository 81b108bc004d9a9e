/*
 * tg_nettool: the small network programs the netns tests need, so they
 * depend on nothing beyond iproute2 and nftables. Every wait is bounded.
 *   tcp-serve PORT BYTES TIMEOUT_S     send BYTES of a fixed pseudo-random stream to the
 *                                       first client; prints "peer IP", "cc NAME" and
 *                                       "sha256 HEX"; TG_CC=NAME sets the congestion control
 *   http-serve PORT BYTES TIMEOUT_S    the same stream as the body of an HTTP 200 answer to the
 *                                       first request; prints "request LINE" too
 *   socks-dns PORT USER PASS DNS_IP NAME TIMEOUT_S   an A query through SOCKS5 UDP
 *                                       ASSOCIATE at 127.0.0.1:PORT; prints "dns_answer IP"
 *   tcp-fetch IP PORT TIMEOUT_S        read until EOF; prints bytes, sha256, seconds, mbit,
 *                                       mbit_after_1s, max_stall_ms, max_stall_at_s
 *   udp-echo PORT COUNT TIMEOUT_S      echo COUNT datagrams; prints "peer IP"
 *   udp-ping IP PORT COUNT TIMEOUT_S   prints "udp_replies N"
 *   icmp-ping IP COUNT TIMEOUT_S       prints "icmp_replies N"
 *   dns-serve PORT ANSWER_IP COUNT TIMEOUT_S   answers A queries; prints "dns_from IP NAME"
 *   dns-query NAME TIMEOUT_S           asks the first nameserver of /etc/resolv.conf;
 *                                       prints "dns_server IP" and "dns_answer IP"
 *   http-get IP PORT PATH              prints the HTTP response (metrics)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
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
    fprintf(stderr, "tg_nettool: %s: %s\n", what, strerror(errno));
    exit(1);
}

static int wait_in(int fd, double deadline)
{
    double left = deadline - now_s();
    if (left <= 0)
        return 0;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    return r > 0;
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

static void hex(const uint8_t *d, char *out)
{
    for (int i = 0; i < 32; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
}

static struct sockaddr_in sin4(const char *ip, const char *port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    if (ip != NULL && inet_pton(AF_INET, ip, &sa.sin_addr) != 1) {
        fprintf(stderr, "tg_nettool: bad address %s\n", ip);
        exit(2);
    }
    return sa;
}

/* TCP (http false) or HTTP: the same stream, after a response head */
static int serve(char **a, bool http)
{
    struct sockaddr_in sa = sin4(NULL, a[0]);
    uint64_t total = strtoull(a[1], NULL, 10);
    double deadline = now_s() + atof(a[2]);
    int one = 1, ls = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(ls, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(ls, 1) != 0)
        die("listen");
    printf("listening\n");
    if (!wait_in(ls, deadline)) {
        fprintf(stderr, "tg_nettool: nobody connected in time\n");
        return 1;
    }
    struct sockaddr_in peer;
    socklen_t pl = sizeof peer;
    int fd = accept(ls, (struct sockaddr *)&peer, &pl);
    if (fd < 0)
        die("accept");
    char ip[INET_ADDRSTRLEN];
    printf("peer %s\n", inet_ntop(AF_INET, &peer.sin_addr, ip, sizeof ip));
    /* TG_CC: the congestion control of the transfer (the namespace's default
     * is the host's, which need not be the one a test means) */
    const char *cc = getenv("TG_CC");
    if (cc != NULL && *cc != '\0' &&
        setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) != 0)
        die("TCP_CONGESTION");
    char used[32] = "";
    socklen_t ul = sizeof used - 1;
    if (getsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, used, &ul) == 0)
        printf("cc %s\n", used);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (http) { /* read the request head, answer 200 with the stream as the body */
        char req[8192];
        size_t got = 0;
        while (got < sizeof req - 1 && wait_in(fd, deadline)) {
            ssize_t r = read(fd, req + got, sizeof req - 1 - got);
            if (r <= 0)
                break;
            got += (size_t)r;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL)
                break;
        }
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n") == NULL) {
            fprintf(stderr, "tg_nettool: no whole HTTP request head\n");
            return 1;
        }
        printf("request %.*s\n", (int)strcspn(req, "\r\n"), req);
        char head[200];
        int hl = snprintf(head, sizeof head,
                          "HTTP/1.1 200 OK\r\nContent-Length: %llu\r\nConnection: close\r\n\r\n",
                          (unsigned long long)total);
        if (send(fd, head, (size_t)hl, MSG_NOSIGNAL) != hl)
            die("send");
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    uint64_t st = 42, sent = 0;
    while (sent < total && now_s() < deadline) {
        size_t n = total - sent < sizeof buf ? (size_t)(total - sent) : sizeof buf;
        fill(&st, buf, sizeof buf);
        size_t off = 0;
        while (off < n) {
            ssize_t w = send(fd, buf + off, n - off, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                die("send");
            }
            off += (size_t)w;
        }
        crypto_hash_sha256_update(&h, buf, n);
        sent += n;
    }
    uint8_t d[32];
    char hx[65];
    crypto_hash_sha256_final(&h, d);
    hex(d, hx);
    printf("sent %llu\nsha256 %s\n", (unsigned long long)sent, hx);
    shutdown(fd, SHUT_WR);
    /* wait for the client to close so nothing is cut short */
    char tmp[256];
    while (wait_in(fd, deadline) && read(fd, tmp, sizeof tmp) > 0) {
    }
    close(fd);
    return sent == total ? 0 : 1;
}

static int tcp_serve(char **a)
{
    return serve(a, false);
}

static int http_serve(char **a)
{
    return serve(a, true);
}

static int tcp_fetch(char **a)
{
    struct sockaddr_in sa = sin4(a[0], a[1]);
    double t0 = now_s(), deadline = t0 + atof(a[2]);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno != EINPROGRESS)
        die("connect");
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    if (poll(&p, 1, 10000) <= 0) {
        fprintf(stderr, "tg_nettool: connect timed out\n");
        return 1;
    }
    int err = 0;
    socklen_t el = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) {
        errno = err;
        die("connect");
    }
    crypto_hash_sha256_state h;
    crypto_hash_sha256_init(&h);
    static uint8_t buf[65536];
    uint64_t total = 0, after1 = 0;
    double first = 0, last = 0, max_stall = 0, stall_at = 0;
    int eof = 0;
    double next_report = 0;
    while (!eof) {
        if (!wait_in(fd, deadline))
            break;
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
            first = last = t;
        if (t - last > max_stall) {
            max_stall = t - last;
            stall_at = last - first;
        }
        last = t;
        crypto_hash_sha256_update(&h, buf, (size_t)n);
        total += (uint64_t)n;
        if (t - first >= 1.0)
            after1 += (uint64_t)n;
        if (getenv("TG_PROGRESS") != NULL && t - first >= next_report) {
            fprintf(stderr, "progress %.1f s %llu bytes\n", t - first, (unsigned long long)total);
            next_report += 1.0;
        }
    }
    uint8_t d[32];
    char hx[65];
    crypto_hash_sha256_final(&h, d);
    hex(d, hx);
    double dur = last - first;
    printf("bytes %llu\nsha256 %s\nseconds %.3f\n", (unsigned long long)total, hx, dur);
    printf("mbit %.2f\n", dur > 0 ? (double)total * 8 / dur / 1e6 : 0.0);
    printf("mbit_after_1s %.2f\n", dur > 1.0 ? (double)after1 * 8 / (dur - 1.0) / 1e6 : 0.0);
    printf("max_stall_ms %.0f\nmax_stall_at_s %.2f\neof %d\n", max_stall * 1000, stall_at, eof);
    close(fd);
    return eof ? 0 : 1;
}

static int udp_echo(char **a)
{
    struct sockaddr_in sa = sin4(NULL, a[0]);
    int count = atoi(a[1]);
    double deadline = now_s() + atof(a[2]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    printf("listening\n");
    for (int i = 0; i < count && wait_in(fd, deadline); i++) {
        char buf[2048];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 0)
            die("recvfrom");
        if (i == 0) {
            char ip[INET_ADDRSTRLEN];
            printf("peer %s\n", inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip));
        }
        sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
    }
    return 0;
}

static int udp_ping(char **a)
{
    struct sockaddr_in sa = sin4(a[0], a[1]);
    int count = atoi(a[2]), ok = 0;
    double deadline = now_s() + atof(a[3]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
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

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

static int icmp_ping(char **a)
{
    struct sockaddr_in sa = sin4(a[0], "0");
    int count = atoi(a[1]), ok = 0;
    double deadline = now_s() + atof(a[2]);
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0)
        die("raw socket");
    uint16_t id = (uint16_t)getpid();
    for (int i = 0; i < count && now_s() < deadline; i++) {
        uint8_t pkt[64] = {8, 0, 0, 0, (uint8_t)(id >> 8), (uint8_t)id, 0, (uint8_t)i};
        uint16_t c = csum(pkt, sizeof pkt);
        pkt[2] = (uint8_t)(c >> 8), pkt[3] = (uint8_t)c;
        double sent = now_s();
        sendto(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&sa, sizeof sa);
        double until = sent + 1.0 < deadline ? sent + 1.0 : deadline;
        while (wait_in(fd, until)) {
            uint8_t buf[2048];
            ssize_t n = recv(fd, buf, sizeof buf, 0);
            if (n < 28)
                continue;
            size_t ihl = (size_t)(buf[0] & 15) * 4;
            const uint8_t *ic = buf + ihl;
            if ((size_t)n >= ihl + 8 && ic[0] == 0 && ic[4] == (uint8_t)(id >> 8) &&
                ic[5] == (uint8_t)id && ic[7] == (uint8_t)i) {
                ok++;
                printf("icmp_rtt_ms %.2f\n", (now_s() - sent) * 1000);
                break;
            }
        }
    }
    printf("icmp_replies %d\n", ok);
    return ok == count ? 0 : 1;
}

static int dns_serve(char **a)
{
    struct sockaddr_in sa = sin4(NULL, a[0]);
    struct in_addr ans;
    inet_pton(AF_INET, a[1], &ans);
    int count = atoi(a[2]);
    double deadline = now_s() + atof(a[3]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("bind");
    printf("listening\n");
    for (int i = 0; i < count && wait_in(fd, deadline); i++) {
        uint8_t q[512], r[600];
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, q, sizeof q, 0, (struct sockaddr *)&from, &fl);
        if (n < 17)
            continue;
        /* question name: labels from offset 12 */
        char name[256] = "";
        size_t off = 12, nl = 0;
        while (off < (size_t)n && q[off] != 0 && nl < 200) {
            size_t l = q[off];
            if (nl)
                name[nl++] = '.';
            memcpy(name + nl, q + off + 1, l);
            nl += l;
            off += l + 1;
        }
        name[nl] = '\0';
        size_t qend = off + 5; /* zero label, type, class */
        if (qend > (size_t)n)
            continue;
        memcpy(r, q, qend);
        r[2] = 0x81, r[3] = 0x80; /* response, RD, RA */
        r[6] = 0, r[7] = 1;       /* one answer */
        r[8] = r[9] = r[10] = r[11] = 0;
        uint8_t rr[16] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
        memcpy(rr + 12, &ans, 4);
        memcpy(r + qend, rr, 16);
        char ip[INET_ADDRSTRLEN];
        printf("dns_from %s %s\n", inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip), name);
        sendto(fd, r, qend + 16, 0, (struct sockaddr *)&from, fl);
    }
    return 0;
}

static int http_get(char **a)
{
    struct sockaddr_in sa = sin4(a[0], a[1]);
    double deadline = now_s() + 10;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        die("connect");
    char req[300];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", a[2], a[0]);
    if (send(fd, req, (size_t)n, 0) != n)
        die("send");
    char buf[65536];
    while (wait_in(fd, deadline)) {
        ssize_t r = read(fd, buf, sizeof buf);
        if (r <= 0)
            break;
        fwrite(buf, 1, (size_t)r, stdout);
    }
    close(fd);
    return 0;
}

/* An A query for name with id 0x1234 into q (room for 300 bytes); its length. */
static size_t dns_build(uint8_t *q, const char *name)
{
    static const uint8_t hdr[12] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(q, hdr, sizeof hdr);
    size_t off = sizeof hdr;
    char copy[200];
    snprintf(copy, sizeof copy, "%s", name);
    for (char *l = strtok(copy, "."); l != NULL; l = strtok(NULL, ".")) {
        size_t len = strlen(l);
        q[off++] = (uint8_t)len;
        memcpy(q + off, l, len);
        off += len;
    }
    q[off++] = 0;
    q[off++] = 0, q[off++] = 1, q[off++] = 0, q[off++] = 1;
    return off;
}

static int dns_query(char **a)
{
    char conf[4096] = "", server[64] = "";
    FILE *f = fopen("/etc/resolv.conf", "r");
    if (f != NULL) {
        size_t n = fread(conf, 1, sizeof conf - 1, f);
        conf[n] = '\0';
        fclose(f);
    }
    for (char *l = strtok(conf, "\n"); l != NULL; l = strtok(NULL, "\n"))
        if (sscanf(l, " nameserver %63s", server) == 1)
            break;
    if (server[0] == '\0') {
        fprintf(stderr, "tg_nettool: no nameserver in /etc/resolv.conf\n");
        return 1;
    }
    printf("dns_server %s\n", server);
    struct sockaddr_in sa = sin4(server, "53");
    double deadline = now_s() + atof(a[1]);
    uint8_t q[300];
    size_t off = dns_build(q, a[0]);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    sendto(fd, q, off, 0, (struct sockaddr *)&sa, sizeof sa);
    if (!wait_in(fd, deadline)) {
        fprintf(stderr, "tg_nettool: no DNS answer\n");
        return 1;
    }
    uint8_t r[600];
    ssize_t n = recv(fd, r, sizeof r, 0);
    if (n < (ssize_t)(off + 16) || r[0] != 0x12 || r[1] != 0x34) {
        fprintf(stderr, "tg_nettool: bad DNS answer\n");
        return 1;
    }
    char ip[INET_ADDRSTRLEN];
    printf("dns_answer %s\n", inet_ntop(AF_INET, r + off + 12, ip, sizeof ip));
    return 0;
}

/* SOCKS5 UDP ASSOCIATE at 127.0.0.1:PORT (user and password), then an A
 * query for NAME to DNS_IP:53 through the relay. */
static int socks_dns(char **a)
{
    double deadline = now_s() + atof(a[5]);
    struct sockaddr_in px = sin4("127.0.0.1", a[0]);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&px, sizeof px) != 0)
        die("connect to the proxy");
    uint8_t m[600], r[600];
    size_t ul = strlen(a[1]), pl = strlen(a[2]), n = 0;
    if (ul > 255 || pl > 255)
        return 2;
    m[n++] = 5, m[n++] = 1, m[n++] = 2; /* user and password only */
    m[n++] = 1, m[n++] = (uint8_t)ul;
    memcpy(m + n, a[1], ul), n += ul;
    m[n++] = (uint8_t)pl;
    memcpy(m + n, a[2], pl), n += pl;
    static const uint8_t assoc[] = {5, 3, 0, 1, 0, 0, 0, 0, 0, 0}; /* from anywhere */
    memcpy(m + n, assoc, sizeof assoc), n += sizeof assoc;
    if (send(fd, m, n, 0) != (ssize_t)n)
        die("send");
    size_t got = 0;
    while (got < 2 + 2 + 10 && wait_in(fd, deadline)) {
        ssize_t k = read(fd, r + got, sizeof r - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got < 14 || r[1] != 2 || r[3] != 0 || r[5] != 0 || r[7] != 1) {
        fprintf(stderr, "tg_nettool: the proxy refused the association\n");
        return 1;
    }
    struct sockaddr_in relay = {.sin_family = AF_INET};
    memcpy(&relay.sin_addr, r + 8, 4);
    memcpy(&relay.sin_port, r + 12, 2);
    printf("relay %s:%u\n", inet_ntoa(relay.sin_addr), ntohs(relay.sin_port));
    /* RSV RSV FRAG ATYP DST.ADDR DST.PORT, then the query */
    uint8_t d[400] = {0, 0, 0, 1};
    if (inet_pton(AF_INET, a[3], d + 4) != 1)
        return 2;
    d[8] = 0, d[9] = 53;
    size_t off = 10 + dns_build(d + 10, a[4]);
    int u = socket(AF_INET, SOCK_DGRAM, 0);
    for (int tries = 0; tries < 3; tries++) {
        sendto(u, d, off, 0, (struct sockaddr *)&relay, sizeof relay);
        double until = now_s() + 1 < deadline ? now_s() + 1 : deadline;
        if (!wait_in(u, until))
            continue;
        ssize_t k = recv(u, r, sizeof r, 0);
        /* the header from the resolver, then its answer to our id */
        if (k < (ssize_t)off + 16 || r[3] != 1 || memcmp(r + 4, d + 4, 4) != 0 ||
            r[10] != 0x12 || r[11] != 0x34) {
            fprintf(stderr, "tg_nettool: bad relayed answer\n");
            return 1;
        }
        char ip[INET_ADDRSTRLEN];
        printf("dns_answer %s\n", inet_ntop(AF_INET, r + off + 12, ip, sizeof ip));
        close(u);
        close(fd);
        return 0;
    }
    fprintf(stderr, "tg_nettool: no answer through the relay\n");
    return 1;
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int args;
        int (*fn)(char **);
    } cmds[] = {
        {"tcp-serve", 3, tcp_serve}, {"tcp-fetch", 3, tcp_fetch}, {"udp-echo", 3, udp_echo},
        {"udp-ping", 4, udp_ping},   {"icmp-ping", 3, icmp_ping}, {"dns-serve", 4, dns_serve},
        {"dns-query", 2, dns_query}, {"http-get", 3, http_get},     {"http-serve", 3, http_serve},
        {"socks-dns", 6, socks_dns},
    };
    if (sodium_init() < 0)
        return 1;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0); /* each line reaches the scripts' logs as printed */
    for (size_t i = 0; argc >= 2 && i < sizeof cmds / sizeof cmds[0]; i++)
        if (strcmp(argv[1], cmds[i].name) == 0) {
            if (argc - 2 != cmds[i].args) {
                fprintf(stderr, "tg_nettool %s: expected %d arguments\n", cmds[i].name,
                        cmds[i].args);
                return 2;
            }
            return cmds[i].fn(argv + 2);
        }
    fprintf(stderr, "usage: tg_nettool tcp-serve|tcp-fetch|udp-echo|udp-ping|icmp-ping|"
                    "dns-serve|dns-query|http-get ...\n");
    return 2;
}
