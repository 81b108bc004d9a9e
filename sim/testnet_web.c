/*
 * testnet_web.c: `triglav-sim live web serve|fetch` (testnet.h), the web
 * flows of the testnet: short HTTP/1.0 transfers, one connection per object,
 * as the simulator's web model makes them (sim/traffic.h): object sizes
 * log-normal around a mean (sigma 1), exponential think times between
 * objects; downloads are "GET /SIZE" answered with SIZE bytes, uploads
 * "PUT /SIZE" with SIZE bytes of body answered with a short response. The
 * draws are the fetcher's own (a seeded generator), not the simulator's: the
 * load is alike, the objects are not the same ones.
 *
 * The server serves at most MAX_CONN connections at once from one poll
 * loop; every loop here is bounded in time.
 */
#define _GNU_SOURCE
#include "testnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
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

#define MAX_CONN    64
#define MAX_OBJECTS 100000
#define MAX_SIZE    ((uint64_t)1 << 32)
#define SMALL_BYTES 500 /* the request (down) or the response (up), as the simulator's */
#define HEAD_MAX    1024
#define WEB_SIGMA   1.0

static const char usage_web[] =
    "usage: triglav-sim live web serve --port PORT [--timeout S]\n"
    "       triglav-sim live web fetch --to IP:PORT --size BYTES --duration S\n"
    "                                  [--think-ms MS] [--up | --keys] [--seed N]\n"
    "\n"
    "Short HTTP/1.0 transfers, one TCP connection per object (IPv4), or\n"
    "keystrokes echoed over one connection.\n"
    "  serve  answers 'GET /SIZE' with SIZE bytes, 'PUT /SIZE' (SIZE bytes of\n"
    "         body) with a short response, and echoes 'KEYS /SIZE' connections,\n"
    "         until --timeout seconds (default 120)\n"
    "  fetch  for --duration seconds: an object of a size drawn log-normal around\n"
    "         --size (sigma 1), then a think time drawn exponential around\n"
    "         --think-ms (default 2000), again; --up sends the objects instead.\n"
    "         --keys: keystrokes instead: one connection, --size bytes per key\n"
    "         (at most 1500) echoed by the server, think times between keys;\n"
    "         a key's completion is its echo.\n"
    "         Prints 'key value' lines: objects, bytes, completion_p50_ms,\n"
    "         completion_p95_ms (nearest rank), failed.\n";

/* ---------------------------------------------------------------- serve */

struct conn {
    int fd;              /* -1: free */
    char head[HEAD_MAX]; /* the request head as read so far */
    size_t head_len;
    bool put; /* PUT: read body_left more bytes first */
    uint64_t body_left;
    uint64_t out_left; /* response bytes still to write (head first) */
    char out_head[96];
    size_t out_head_len, out_head_off;
    bool echo;       /* KEYS: every byte read is written back, to the client's close */
    char ebuf[4096]; /* read, not yet written back */
    size_t elen;
};

static void conn_close(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
}

/* The request head is complete: parse it and set the response up; false
 * when it is not one this server understands. */
static bool conn_request(struct conn *c, size_t head_end)
{
    uint64_t size;
    char path[32];
    c->head[head_end] = '\0';
    if (strncmp(c->head, "KEYS /", 6) == 0) { /* echo from here on */
        size_t extra = c->head_len - (head_end + 4);
        if (extra > sizeof c->ebuf)
            return false;
        memcpy(c->ebuf, c->head + head_end + 4, extra);
        c->elen = extra;
        c->echo = true;
        return true;
    }
    bool put = strncmp(c->head, "PUT /", 5) == 0;
    if (!put && strncmp(c->head, "GET /", 5) != 0)
        return false;
    const char *p = c->head + 5, *sp = strchr(p, ' ');
    if (!sp || (size_t)(sp - p) >= sizeof path)
        return false;
    memcpy(path, p, (size_t)(sp - p));
    path[sp - p] = '\0';
    if (!sim_parse_u64(path, 1, MAX_SIZE, false, &size))
        return false;
    int n = snprintf(c->out_head, sizeof c->out_head,
                     "HTTP/1.0 200 OK\r\nContent-Length: %" PRIu64 "\r\n\r\n",
                     put ? (uint64_t)SMALL_BYTES : size);
    c->out_head_len = (size_t)n;
    c->out_head_off = 0;
    c->out_left = put ? SMALL_BYTES : size;
    c->put = put;
    c->body_left = put ? size : 0;
    /* body bytes that came with the head */
    size_t extra = c->head_len - (head_end + 4);
    c->body_left = c->body_left > extra ? c->body_left - extra : 0;
    return true;
}

static int serve(uint16_t port, double timeout_s)
{
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (lfd < 0 || setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0) {
        fprintf(stderr, "%s: TCP port %u: %s\n", sim_cmd_name, port, strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return 1;
    }
    printf("listening %u\n", port);
    fflush(stdout);
    static struct conn c[MAX_CONN];
    static char buf[65536];
    for (size_t i = 0; i < MAX_CONN; i++)
        c[i].fd = -1;
    memset(buf, 'x', sizeof buf);
    uint64_t end = sim_live_now_ns() + (uint64_t)(timeout_s * 1e9), served = 0;
    for (;;) {
        uint64_t t = sim_live_now_ns();
        if (t >= end)
            break;
        struct pollfd p[MAX_CONN + 1];
        size_t map[MAX_CONN + 1], n = 0;
        p[n] = (struct pollfd){lfd, POLLIN, 0};
        map[n++] = MAX_CONN;
        for (size_t i = 0; i < MAX_CONN; i++)
            if (c[i].fd >= 0) {
                bool reading = c[i].out_head_len == 0 || c[i].body_left > 0;
                short ev = reading ? POLLIN : POLLOUT;
                if (c[i].echo)
                    ev = (short)((c[i].elen < sizeof c[i].ebuf ? POLLIN : 0) |
                                 (c[i].elen > 0 ? POLLOUT : 0));
                p[n] = (struct pollfd){c[i].fd, ev, 0};
                map[n++] = i;
            }
        int ms = (int)((end - t) / 1000000u) + 1;
        if (poll(p, (nfds_t)n, ms > 1000 ? 1000 : ms) <= 0)
            continue;
        for (size_t k = 0; k < n; k++) {
            if (!p[k].revents)
                continue;
            if (map[k] == MAX_CONN) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                size_t i = 0;
                while (fd >= 0 && i < MAX_CONN && c[i].fd >= 0)
                    i++;
                if (fd >= 0 && i == MAX_CONN)
                    close(fd); /* full: the fetcher sees a failure */
                else if (fd >= 0)
                    c[i] = (struct conn){.fd = fd};
                continue;
            }
            struct conn *x = &c[map[k]];
            if (x->echo) { /* keystrokes: write back what came */
                if ((p[k].revents & (POLLIN | POLLHUP | POLLERR)) && x->elen < sizeof x->ebuf) {
                    ssize_t r = read(x->fd, x->ebuf + x->elen, sizeof x->ebuf - x->elen);
                    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
                        served++;
                        conn_close(x);
                        continue;
                    }
                    if (r > 0)
                        x->elen += (size_t)r;
                }
                if (x->elen > 0) {
                    ssize_t w = write(x->fd, x->ebuf, x->elen);
                    if (w < 0 && errno != EAGAIN && errno != EINTR) {
                        conn_close(x);
                        continue;
                    }
                    if (w > 0) {
                        memmove(x->ebuf, x->ebuf + w, x->elen - (size_t)w);
                        x->elen -= (size_t)w;
                    }
                }
                continue;
            }
            if (x->out_head_len == 0) { /* reading the head */
                ssize_t r = read(x->fd, x->head + x->head_len, sizeof x->head - 1 - x->head_len);
                if (r <= 0) {
                    if (r == 0 || (errno != EAGAIN && errno != EINTR))
                        conn_close(x);
                    continue;
                }
                x->head_len += (size_t)r;
                x->head[x->head_len] = '\0';
                char *e = strstr(x->head, "\r\n\r\n");
                if (!e) {
                    if (x->head_len >= sizeof x->head - 1)
                        conn_close(x); /* no head within HEAD_MAX bytes */
                    continue;
                }
                if (!conn_request(x, (size_t)(e - x->head)))
                    conn_close(x);
            } else if (x->body_left > 0) { /* a PUT's body */
                ssize_t r = read(x->fd, buf, x->body_left < sizeof buf ? x->body_left : sizeof buf);
                if (r <= 0) {
                    if (r == 0 || (errno != EAGAIN && errno != EINTR))
                        conn_close(x);
                    continue;
                }
                x->body_left -= (uint64_t)r;
            } else if (x->out_head_off < x->out_head_len) {
                ssize_t w =
                    write(x->fd, x->out_head + x->out_head_off, x->out_head_len - x->out_head_off);
                if (w < 0 && errno != EAGAIN && errno != EINTR)
                    conn_close(x);
                else if (w > 0)
                    x->out_head_off += (size_t)w;
            } else {
                ssize_t w = write(x->fd, buf, x->out_left < sizeof buf ? x->out_left : sizeof buf);
                if (w < 0 && errno != EAGAIN && errno != EINTR) {
                    conn_close(x);
                    continue;
                }
                if (w > 0)
                    x->out_left -= (uint64_t)w;
                if (x->out_left == 0) {
                    served++;
                    conn_close(x);
                }
            }
        }
    }
    for (size_t i = 0; i < MAX_CONN; i++)
        if (c[i].fd >= 0)
            conn_close(&c[i]);
    close(lfd);
    printf("served %" PRIu64 "\n", served);
    return 0;
}

/* ---------------------------------------------------------------- fetch */

/* Wait until fd is ready for ev or the deadline passes; false on timeout. */
static bool wait_fd(int fd, short ev, uint64_t deadline)
{
    for (;;) {
        uint64_t t = sim_live_now_ns();
        if (t >= deadline)
            return false;
        struct pollfd p = {fd, ev, 0};
        int r = poll(&p, 1, (int)((deadline - t) / 1000000u) + 1);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR)
            return false;
    }
}

/* One object: connect, request, read the response to its end. Returns the
 * completion time in ns, or 0 on failure. */
static uint64_t one_object(const struct sockaddr_in *to, uint64_t size, bool up, uint64_t deadline)
{
    static char buf[65536];
    uint64_t t0 = sim_live_now_ns(), got = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return 0;
    bool ok = false;
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS)
        goto out;
    if (!wait_fd(fd, POLLOUT, deadline))
        goto out;
    int err = 0;
    socklen_t el = sizeof err;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
        goto out;
    /* the request: a head padded to SMALL_BYTES (down), or a head and the body (up) */
    char head[SMALL_BYTES + 1];
    int n = snprintf(head, sizeof head, "%s /%" PRIu64 " HTTP/1.0\r\nX-Pad: ", up ? "PUT" : "GET",
                     size);
    memset(head + n, 'p', (size_t)(SMALL_BYTES - n - 4));
    memcpy(head + SMALL_BYTES - 4, "\r\n\r\n", 4);
    uint64_t body = up ? size : 0, off = 0, total = SMALL_BYTES + body;
    memset(buf, 'u', sizeof buf);
    while (off < total) {
        if (!wait_fd(fd, POLLOUT, deadline))
            goto out;
        ssize_t w = off < SMALL_BYTES
                        ? write(fd, head + off, SMALL_BYTES - off)
                        : write(fd, buf, total - off < sizeof buf ? total - off : sizeof buf);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            goto out;
        if (w > 0)
            off += (uint64_t)w;
    }
    for (;;) { /* the response, to the server's close */
        if (!wait_fd(fd, POLLIN, deadline))
            goto out;
        ssize_t r = read(fd, buf, sizeof buf);
        if (r == 0)
            break;
        if (r < 0 && errno != EAGAIN && errno != EINTR)
            goto out;
        if (r > 0)
            got += (uint64_t)r;
    }
    ok = got >= (up ? SMALL_BYTES : size); /* the head comes on top */
out:
    close(fd);
    uint64_t dt = sim_live_now_ns() - t0;
    return ok ? (dt ? dt : 1) : 0;
}

static void print_result(uint64_t *done, size_t n, uint64_t bytes, uint64_t failed)
{
    qsort(done, n, sizeof *done, sim_live_cmp_u64);
#define RANK(q) (n ? (double)done[(size_t)((q) * (double)(n - 1) + 0.5)] / 1e6 : 0.0)
    printf("objects %zu\nbytes %" PRIu64 "\nfailed %" PRIu64 "\n", n, bytes, failed);
    if (n)
        printf("completion_p50_ms %.3f\ncompletion_p95_ms %.3f\n", RANK(0.50), RANK(0.95));
#undef RANK
}

/* Keystrokes: one connection; `size` bytes per key, each echoed back by the
 * server before the next think time; the completion of a key is its echo. */
static int keys(const struct sockaddr_in *to, uint64_t size, double think_ms, double duration_s,
                uint64_t seed)
{
    uint64_t *done = malloc(MAX_OBJECTS * sizeof *done);
    char key[1500], echo[1500];
    if (!done || size > sizeof key) {
        free(done);
        return 1;
    }
    memset(key, 'k', sizeof key);
    uint64_t s = seed, failed = 0, end = sim_live_now_ns() + (uint64_t)(duration_s * 1e9);
    size_t n = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    if (fd < 0)
        goto out;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    uint64_t deadline = end + 30000000000u;
    if (connect(fd, (const struct sockaddr *)to, sizeof *to) != 0 && errno != EINPROGRESS)
        goto out;
    int err = 0;
    socklen_t el = sizeof err;
    if (!wait_fd(fd, POLLOUT, deadline) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
        err != 0)
        goto out;
    char head[64];
    int hl = snprintf(head, sizeof head, "KEYS /%" PRIu64 " HTTP/1.0\r\n\r\n", size);
    if (write(fd, head, (size_t)hl) != hl)
        goto out;
    while (sim_live_now_ns() < end && n < MAX_OBJECTS) {
        uint64_t t0 = sim_live_now_ns(), off = 0, got = 0;
        while (off < size) {
            if (!wait_fd(fd, POLLOUT, deadline))
                goto out;
            ssize_t w = write(fd, key + off, size - off);
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                goto out;
            if (w > 0)
                off += (uint64_t)w;
        }
        while (got < size) {
            if (!wait_fd(fd, POLLIN, deadline))
                goto out;
            ssize_t r = read(fd, echo, size - got);
            if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
                goto out;
            if (r > 0)
                got += (uint64_t)r;
        }
        uint64_t dt = sim_live_now_ns() - t0;
        done[n++] = dt ? dt : 1;
        uint64_t wake = sim_live_now_ns() + (uint64_t)(-think_ms * log(sim_live_uniform01(&s)) * 1e6);
        if (wake >= end)
            break;
        struct timespec ts = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    goto report;
out:
    failed = 1; /* the connection broke: the keys so far are counted */
report:
    if (fd >= 0)
        close(fd);
    print_result(done, n, n * size, failed);
    free(done);
    return 0;
}

static int fetch(const struct sockaddr_in *to, uint64_t mean, double think_ms, double duration_s,
                 bool up, uint64_t seed)
{
    uint64_t *done = malloc(MAX_OBJECTS * sizeof *done);
    if (!done)
        return 1;
    uint64_t s = seed, bytes = 0, failed = 0;
    size_t n = 0;
    uint64_t end = sim_live_now_ns() + (uint64_t)(duration_s * 1e9);
    while (sim_live_now_ns() < end && n < MAX_OBJECTS) {
        double v = exp(log((double)mean) - WEB_SIGMA * WEB_SIGMA / 2 +
                       WEB_SIGMA * sqrt(-2 * log(sim_live_uniform01(&s))) * cos(2 * M_PI * sim_live_uniform01(&s)));
        uint64_t size = v < 1 ? 1 : v > (double)MAX_SIZE ? MAX_SIZE : (uint64_t)llround(v);
        uint64_t dt = one_object(to, size, up, end + 30000000000u); /* may finish after the end */
        if (dt) {
            done[n++] = dt;
            bytes += size;
        } else {
            failed++;
        }
        double think = -think_ms * log(sim_live_uniform01(&s));
        uint64_t wake = sim_live_now_ns() + (uint64_t)(think * 1e6);
        if (wake >= end)
            break;
        struct timespec ts = {(time_t)(wake / 1000000000u), (long)(wake % 1000000000u)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
    }
    print_result(done, n, bytes, failed);
    free(done);
    return 0;
}

int sim_live_web_main(int argc, char **argv)
{
    sim_cmd_name = "triglav-sim live web";
    signal(SIGPIPE, SIG_IGN); /* a peer that closed early is an error return, not a death */
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage_web, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bool is_serve = strcmp(argv[1], "serve") == 0;
    if (!is_serve && strcmp(argv[1], "fetch") != 0)
        return sim_usage_error("expected serve or fetch, got '%s'", argv[1]);
    struct sockaddr_in to;
    bool has_to = false, up = false, keystrokes = false;
    uint64_t port = 0, size = 0, seed = 1, secs = 0, timeout = 120;
    double think_ms = 2000;
    for (int i = 2; i < argc; i++) {
        const char *v;
        int m;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_web, stdout);
            return 0;
        }
        if (is_serve && (m = sim_opt_value(argc, argv, &i, "--port", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, 65535, false, &port))
                return sim_usage_error("--port: expected a TCP port (1-65535), got '%s'", v);
        } else if (is_serve && (m = sim_opt_value(argc, argv, &i, "--timeout", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, 3600, false, &timeout))
                return sim_usage_error("--timeout: expected 1 to 3600 seconds, got '%s'", v);
        } else if (!is_serve && (m = sim_opt_value(argc, argv, &i, "--to", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_live_parse_addr(v, &to))
                return sim_usage_error("--to: expected IPv4:PORT, got '%s'", v);
            has_to = true;
        } else if (!is_serve && (m = sim_opt_value(argc, argv, &i, "--size", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, MAX_SIZE, false, &size))
                return sim_usage_error("--size: expected 1 to %" PRIu64 " bytes, got '%s'",
                                       MAX_SIZE, v);
        } else if (!is_serve && (m = sim_opt_value(argc, argv, &i, "--duration", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 1, 3600, false, &secs))
                return sim_usage_error("--duration: expected 1 to 3600 seconds, got '%s'", v);
        } else if (!is_serve && (m = sim_opt_value(argc, argv, &i, "--think-ms", &v)) != 0) {
            char *e;
            if (m < 0)
                return 2;
            think_ms = strtod(v, &e);
            if (!*v || *e || !(think_ms >= 0 && think_ms <= 3600000))
                return sim_usage_error("--think-ms: expected 0 to 3600000, got '%s'", v);
        } else if (!is_serve && (m = sim_opt_value(argc, argv, &i, "--seed", &v)) != 0) {
            if (m < 0)
                return 2;
            if (!sim_parse_u64(v, 0, UINT64_MAX, true, &seed))
                return sim_usage_error("--seed: expected a whole number, got '%s'", v);
        } else if (!is_serve && strcmp(argv[i], "--keys") == 0) {
            keystrokes = true;
        } else if (!is_serve && strcmp(argv[i], "--up") == 0) {
            up = true;
        } else {
            return sim_usage_error("unknown option '%s'", argv[i]);
        }
    }
    int rc;
    if (is_serve) {
        if (!port)
            return sim_usage_error("no --port given");
        rc = serve((uint16_t)port, (double)timeout);
    } else {
        if (!has_to || !size || !secs)
            return sim_usage_error("--to, --size and --duration are required");
        if (keystrokes && (up || size > 1500))
            return sim_usage_error("--keys: at most 1500 bytes per key, and not with --up");
        rc = keystrokes ? keys(&to, size, think_ms, (double)secs, seed)
                        : fetch(&to, size, think_ms, (double)secs, up, seed);
    }
    return rc == 0 && fflush(stdout) == 0 ? 0 : 1;
}
