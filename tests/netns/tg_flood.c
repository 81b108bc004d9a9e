/*
 * tg_flood: a handshake flood against `triglav server`, for tests/netns/flood.sh.
 *
 *   tg_flood tg1_KEY FIRST_SRC N_SRC TOTAL SECONDS ECHOERS
 *
 * Sends TOTAL handshake messages, paced evenly over SECONDS and stopping at
 * SECONDS whatever is left, to the first address of the key only, from N_SRC consecutive IPv4
 * source addresses starting at FIRST_SRC (one UDP socket bound to each; the
 * addresses must be on an interface). It is what an attacker can build:
 *
 *   junk    an HS_INIT header and a random body: no valid mac1
 *   fresh   a new, valid NK initiation with a valid mac1 (anyone holding the
 *           public tg1_ key can make one), no mac2
 *   replay  copies of one valid initiation sent once at the start (what a
 *           passive observer captures)
 *   echo    the last ECHOERS sources act as the strongest attacker: they open
 *           each HS_COOKIE they are sent with the mac1 of the message it
 *           answers, send that message again with mac2 at once, and from then
 *           on send fresh initiations and the captured one with a valid mac2,
 *           1:1. Together they send one message in four, far above the
 *           server's per-source rate limit, which alone bounds what they cost.
 *
 * Other sources send junk, fresh and replay messages 4:3:3. What comes back
 * is counted: HS_COOKIE, and HS_RESP (a Diffie-Hellman the server did for us,
 * or its stored answer resent to a copy of a message it answered already).
 * Prints "flood_NAME VALUE" lines at the end; exit 0 unless setting up fails.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/cookie.h"
#include "core/endpoint.h"
#include "core/hello.h"
#include "core/key.h"
#include "core/noise.h"
#include "core/wire.h"

enum {
    MAX_SRC = 256,
    MSG_LEN = TG_HS_INIT_HEADER_LEN + TG_DH_LEN + TG_HELLO_INIT_LEN + TG_AEAD_TAG_LEN + TG_MACS_LEN,
    RECENT = 16, /* messages an echoer remembers, to open the cookie answering one */
    ECHO_SHARE = 4, /* one message in 4 comes from an echoer */
};

struct sent {
    uint32_t index;
    uint8_t msg[MSG_LEN];
    bool had_mac2;
};

struct src {
    int fd;
    bool echo;                    /* the cookie-echoing attacker */
    bool has_cookie;
    uint8_t cookie[TG_COOKIE_LEN];
    struct sent recent[RECENT];   /* echoers: the last messages sent */
    unsigned n_recent;
};

static struct {
    unsigned long long sent, junk, fresh, replay, echo_fresh, echo_replay, echo_resend;
    unsigned long long send_errors, cookies, cookies_opened, cookies_bad;
    unsigned long long resp_echo, resp_other, resp_replay, other_in;
} st;

static struct tg_mac_keys mac;
static uint8_t server_pub[32];
static struct sockaddr_in server;
static uint8_t captured[MSG_LEN];
static uint32_t captured_index;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "tg_flood: %s: %s\n", what, strerror(errno));
    exit(1);
}

static uint32_t rand_index(void)
{
    uint32_t i;
    randombytes_buf(&i, sizeof i);
    return i;
}

/* A fresh NK initiation (the client's start_handshake, core/client.c), with
 * mac2 from `cookie` or zeros. */
static void make_init(uint8_t out[MSG_LEN], uint32_t index, const uint8_t *cookie)
{
    struct tg_noise_hs hs;
    uint8_t e[TG_NOISE_DH_LEN];
    const uint8_t hello[TG_HELLO_INIT_LEN] = {TG_PROTOCOL_VERSION, 0};
    size_t n = 0;
    if (tg_noise_init(&hs, TG_NOISE_NK, TG_NOISE_INITIATOR, (const uint8_t *)TG_PROLOGUE,
                      sizeof TG_PROLOGUE - 1, NULL, server_pub) != TG_OK) {
        fprintf(stderr, "tg_flood: noise init failed\n");
        exit(1);
    }
    randombytes_buf(e, sizeof e);
    tg_noise_set_ephemeral(&hs, e);
    if (tg_noise_write_message(&hs, hello, sizeof hello, out + TG_HS_INIT_HEADER_LEN,
                               MSG_LEN - TG_HS_INIT_HEADER_LEN - TG_MACS_LEN, &n) != TG_OK ||
        n != MSG_LEN - TG_HS_INIT_HEADER_LEN - TG_MACS_LEN) {
        fprintf(stderr, "tg_flood: cannot write an NK message 1 (bad server key?)\n");
        exit(1);
    }
    tg_noise_clear(&hs);
    sodium_memzero(e, sizeof e);
    tg_wire_put_hs_init_header(out, TG_MSG_HS_INIT, index);
    tg_mac1_put(&mac, out, MSG_LEN);
    tg_mac2_put(cookie, out, MSG_LEN);
}

static void send_msg(struct src *s, const uint8_t *msg, size_t len)
{
    st.sent++;
    if (sendto(s->fd, msg, len, 0, (const struct sockaddr *)&server, sizeof server) !=
        (ssize_t)len)
        st.send_errors++;
}

static void remember(struct src *s, const uint8_t msg[MSG_LEN], bool had_mac2)
{
    struct sent *r = &s->recent[s->n_recent++ % RECENT];
    r->index = tg_get_u32(msg + 4);
    memcpy(r->msg, msg, MSG_LEN);
    r->had_mac2 = had_mac2;
}

/* The `i`-th message of source `s` (number `k` of `n` of its kind). */
static void send_next(struct src *s, unsigned k, unsigned long long i, unsigned n)
{
    uint8_t msg[MSG_LEN];
    unsigned kind = (unsigned)((i / n + k) % 10);
    if (s->echo) {
        if (s->has_cookie && kind % 2 == 1) { /* the captured one, re-MACed with our mac2 */
            memcpy(msg, captured, MSG_LEN);
            tg_mac2_put(s->cookie, msg, MSG_LEN);
            remember(s, msg, true);
            send_msg(s, msg, MSG_LEN);
            st.echo_replay++;
            return;
        }
        make_init(msg, rand_index(), s->has_cookie ? s->cookie : NULL);
        remember(s, msg, s->has_cookie);
        send_msg(s, msg, MSG_LEN);
        st.echo_fresh++;
        return;
    }
    if (kind < 4) { /* junk: right type and length, random rest */
        randombytes_buf(msg, MSG_LEN);
        tg_wire_put_hs_init_header(msg, TG_MSG_HS_INIT, tg_get_u32(msg + 4));
        st.junk++;
    } else if (kind < 7) {
        make_init(msg, rand_index(), NULL);
        st.fresh++;
    } else {
        memcpy(msg, captured, MSG_LEN);
        st.replay++;
    }
    send_msg(s, msg, MSG_LEN);
}

/* An echoer opens the cookie with the mac1 of the message it answers and,
 * when that message went without mac2, sends it again with one. Returns
 * whether it sent. */
static bool on_cookie(struct src *s, const struct tg_wire_msg *m)
{
    st.cookies++;
    if (!s->echo)
        return false;
    for (unsigned j = 0; j < RECENT && j < s->n_recent; j++) {
        struct sent *r = &s->recent[j];
        if (r->index != m->receiver_index)
            continue;
        uint8_t cookie[TG_COOKIE_LEN];
        if (tg_cookie_open(&mac, m->body, m->body_len, r->msg + MSG_LEN - TG_MACS_LEN, cookie) !=
            TG_OK) {
            st.cookies_bad++;
            return false;
        }
        st.cookies_opened++;
        memcpy(s->cookie, cookie, sizeof cookie);
        s->has_cookie = true;
        if (r->had_mac2 || r->index == captured_index)
            return false;
        tg_mac2_put(s->cookie, r->msg, MSG_LEN);
        r->had_mac2 = true;
        send_msg(s, r->msg, MSG_LEN);
        st.echo_resend++;
        return true;
    }
    return false;
}

static unsigned long long drain(struct src *src, unsigned n_src, double until)
{
    unsigned long long resent = 0;
    struct pollfd p[MAX_SRC];
    for (unsigned k = 0; k < n_src; k++)
        p[k] = (struct pollfd){.fd = src[k].fd, .events = POLLIN};
    double left = until - now_s();
    if (left < 0)
        left = 0;
    /* to the microsecond: a millisecond poll would spin at this pace */
    struct timespec ts = {.tv_sec = (time_t)left,
                          .tv_nsec = (long)((left - (double)(time_t)left) * 1e9)};
    if (ppoll(p, n_src, &ts, NULL) <= 0)
        return 0;
    for (unsigned k = 0; k < n_src; k++) {
        if (!(p[k].revents & POLLIN))
            continue;
        uint8_t buf[2048];
        ssize_t n;
        while ((n = recv(src[k].fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
            struct tg_wire_msg m;
            if (tg_wire_parse(buf, (size_t)n, &m) != TG_OK) {
                st.other_in++;
            } else if (m.type == TG_MSG_HS_COOKIE) {
                resent += on_cookie(&src[k], &m);
            } else if (m.type == TG_MSG_HS_RESP) {
                if (m.receiver_index == captured_index)
                    st.resp_replay++;
                else if (src[k].echo)
                    st.resp_echo++;
                else
                    st.resp_other++;
            } else {
                st.other_in++;
            }
        }
    }
    return resent;
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: tg_flood tg1_KEY FIRST_SRC N_SRC TOTAL SECONDS ECHOERS\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    struct tg_key key;
    if (tg_key_decode(argv[1], strlen(argv[1]), &key) != TG_OK || key.n_addrs == 0 ||
        key.addrs[0].type != TG_ADDR_IPV4) {
        fprintf(stderr, "tg_flood: expected a tg1_ key with an IPv4 address\n");
        return 2;
    }
    memcpy(server_pub, key.server_public, sizeof server_pub);
    tg_mac_keys_init(&mac, server_pub);
    server = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons(key.addrs[0].port)};
    memcpy(&server.sin_addr, key.addrs[0].addr, 4);

    struct in_addr first;
    long n_src = atol(argv[3]), echoers = atol(argv[6]);
    unsigned long long total = strtoull(argv[4], NULL, 10);
    double seconds = atof(argv[5]);
    if (inet_pton(AF_INET, argv[2], &first) != 1 || n_src < 1 || n_src > MAX_SRC ||
        echoers < 0 || echoers > n_src || total == 0 || !(seconds > 0 && seconds <= 600)) {
        fprintf(stderr, "tg_flood: expected FIRST_SRC an IPv4 address, N_SRC 1..%d, TOTAL > 0, "
                        "SECONDS in (0, 600], ECHOERS 0..N_SRC\n", MAX_SRC);
        return 2;
    }
    static struct src src[MAX_SRC];
    for (long k = 0; k < n_src; k++) {
        struct sockaddr_in sa = {.sin_family = AF_INET};
        sa.sin_addr.s_addr = htonl(ntohl(first.s_addr) + (uint32_t)k);
        src[k].fd = socket(AF_INET, SOCK_DGRAM, 0);
        if (src[k].fd < 0)
            die("socket");
        if (bind(src[k].fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            char ip[INET_ADDRSTRLEN];
            fprintf(stderr, "tg_flood: bind %s: %s (is the address on an interface?)\n",
                    inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof ip), strerror(errno));
            return 1;
        }
        src[k].echo = k >= n_src - echoers;
    }
    unsigned ns = (unsigned)n_src;

    /* the original of the captured initiation, sent once from source 0 */
    captured_index = rand_index();
    make_init(captured, captured_index, NULL);
    send_msg(&src[0], captured, MSG_LEN);

    /* paced over 98 % of the time, so a little lag still ends in time */
    double t0 = now_s(), deadline = t0 + seconds, interval = 0.98 * seconds / (double)total;
    /* one message in ECHO_SHARE from an echoer (while there are), the rest
     * round robin over the other sources */
    unsigned ne = (unsigned)echoers, no = ns - ne;
    unsigned long long slot = 0, n_echo = 0, n_other = 0;
    while (st.sent < total) {
        double now = now_s();
        if (now >= deadline)
            break;
        while (st.sent < total && t0 + (double)st.sent * interval <= now) {
            if (ne > 0 && (no == 0 || slot++ % ECHO_SHARE == 0)) {
                unsigned k = (unsigned)(n_echo % ne);
                send_next(&src[no + k], k, n_echo++, ne);
            } else {
                unsigned k = (unsigned)(n_other % no);
                send_next(&src[k], k, n_other++, no);
            }
        }
        double next = t0 + (double)st.sent * interval;
        drain(src, ns, next < deadline ? next : deadline);
    }
    double elapsed = now_s() - t0;
    /* answers still on their way */
    double end = now_s() + 0.5;
    while (now_s() < end)
        drain(src, ns, end);
    printf("flood_sent %llu\nflood_seconds %.2f\nflood_send_errors %llu\n", st.sent, elapsed,
           st.send_errors);
    printf("flood_junk %llu\nflood_fresh %llu\nflood_replay %llu\n", st.junk, st.fresh,
           st.replay);
    printf("flood_echo_fresh %llu\nflood_echo_replay %llu\nflood_echo_resend %llu\n",
           st.echo_fresh, st.echo_replay, st.echo_resend);
    printf("flood_cookies %llu\nflood_cookies_opened %llu\nflood_cookies_bad %llu\n", st.cookies,
           st.cookies_opened, st.cookies_bad);
    printf("flood_resp_echo %llu\nflood_resp_other %llu\nflood_resp_replay %llu\n"
           "flood_other_in %llu\n",
           st.resp_echo, st.resp_other, st.resp_replay, st.other_in);
    for (long k = 0; k < n_src; k++)
        close(src[k].fd);
    return 0;
}
