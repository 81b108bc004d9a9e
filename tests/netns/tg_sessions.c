/*
 * tg_sessions: many real client sessions against `triglav server` from one
 * process, for tests that need more sessions than processes they can start
 * (status and metrics listing every session).
 *
 *   tg_sessions tg1_KEY N SECONDS
 *
 * N client cores (the core's own, no NAT, one uplink each), each on its own
 * UDP socket (its own source port), connect to the key's first address, a
 * few at a time so that the server is never under handshake load. Prints
 * "sessions_up K" once all N are up (or at SECONDS), then keeps every
 * session alive (answers the server's probes) until SECONDS have passed
 * since the start, closes them (the server frees them at once) and exits:
 * 0 when all N came up, 1 otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/endpoint.h"
#include "core/key.h"
#include "core/wire.h"

#define MAX_N 1000

static tg_time now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tg_time)ts.tv_sec * 1000000u + (tg_time)ts.tv_nsec / 1000u;
}

static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

static void drain(struct tg_client *c, int fd)
{
    struct tg_datagram d;
    while (tg_client_next_datagram(c, &d))
        (void)send(fd, d.data, d.len, 0);
    const uint8_t *p;
    size_t len;
    while (tg_client_next_tun_packet(c, &p, &len))
        ;
    struct tg_event ev;
    while (tg_client_next_event(c, &ev))
        ;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: tg_sessions tg1_KEY N SECONDS\n");
        return 2;
    }
    struct tg_key key;
    int n = atoi(argv[2]);
    double secs = atof(argv[3]);
    if (sodium_init() < 0 || tg_key_decode(argv[1], strlen(argv[1]), &key) != TG_OK ||
        key.n_addrs == 0 || key.addrs[0].type != TG_ADDR_IPV4 || n < 1 || n > MAX_N || secs <= 0) {
        fprintf(stderr, "tg_sessions: expected an IPv4 tg1_ key, N in 1..%d, SECONDS > 0\n", MAX_N);
        return 2;
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(key.addrs[0].port)};
    memcpy(&to.sin_addr, key.addrs[0].addr, 4);
    static struct tg_client *c[MAX_N];
    static struct pollfd pfd[MAX_N];
    struct tg_client_config cfg;
    tg_client_config_default(&cfg);
    cfg.nat = false;
    memcpy(cfg.server_public, key.server_public, 32);
    struct tg_rng rng = {.fill = os_fill};
    tg_time start = now_us(), end = start + (tg_time)(secs * 1e6), next_start = start;
    int started = 0, up = 0;
    bool told = false;
    static uint8_t buf[TG_MAX_DATAGRAM];
    while (now_us() < end) {
        tg_time now = now_us();
        /* 5 new clients every 100 ms: 50 handshakes a second, under the server's load mark */
        while (started < n && now >= next_start) {
            int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0 ||
                tg_client_new(&cfg, &rng, NULL, now, &c[started]) != TG_OK ||
                tg_client_uplink_up(c[started], 0, now) != TG_OK) {
                perror("tg_sessions: a client");
                return 1;
            }
            pfd[started] = (struct pollfd){.fd = fd, .events = POLLIN};
            drain(c[started], fd);
            started++;
            if (started % 5 == 0)
                next_start = now + 100000;
        }
        tg_time deadline = started < n ? next_start : end;
        for (int i = 0; i < started; i++)
            deadline = tg_time_min(deadline, tg_client_next_deadline(c[i]));
        int wait_ms = deadline > now ? (int)((deadline - now + 999) / 1000) : 0;
        if (poll(pfd, (nfds_t)started, wait_ms > 200 ? 200 : wait_ms) < 0)
            continue;
        now = now_us();
        for (int i = 0; i < started; i++) {
            for (int k = 0; k < 64 && (pfd[i].revents & POLLIN); k++) {
                ssize_t r = recv(pfd[i].fd, buf, sizeof buf, 0);
                if (r <= 0)
                    break;
                tg_client_udp_input(c[i], 0, buf, (size_t)r, now);
            }
            if (now >= tg_client_next_deadline(c[i]))
                tg_client_on_timeout(c[i], now);
            drain(c[i], pfd[i].fd);
        }
        up = 0;
        for (int i = 0; i < started; i++)
            up += tg_client_session_up(c[i], NULL);
        if (!told && up == n) {
            printf("sessions_up %d\n", up);
            fflush(stdout);
            told = true;
        }
    }
    if (!told)
        printf("sessions_up %d\n", up);
    tg_time now = now_us();
    for (int i = 0; i < started; i++) {
        tg_client_close(c[i], now);
        drain(c[i], pfd[i].fd);
        close(pfd[i].fd);
        tg_client_free(c[i]);
    }
    return up == n ? 0 : 1;
}
