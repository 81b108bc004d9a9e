/*
 * bench_server: what one server costs as its session count grows, in memory
 * (no sockets), with the server's default configuration except max_sessions
 * (10000) and the pool (198.18.0.0/15).
 *
 * Three servers hold 10, 1 000 and 10 000 established sessions: one active
 * client each, the rest idle (each client proves its handshake, gets its
 * SESSION frame and is freed; the server keeps the session). Virtual time
 * advances 1 ms per new session, so the servers see a flash crowd and
 * answer with cookies as they would live. Figures, medians over rounds that
 * alternate between the three servers (same machine state for each):
 *
 *   1. per-packet cost on the server, one active client: udp_input and the
 *      TUN packet out (up), tun_input and the datagram out (down); ratio of
 *      the cost at 10 000 sessions to that at 10 (target <= 1.2);
 *   2. the host loop's next_deadline + on_timeout per turn (10 us of virtual
 *      time a turn): the O(1) check alone, and the whole turn including the
 *      probes the idle sessions' timers send;
 *   3. resident memory (/proc/self/statm) and heap in use (mallinfo2) per
 *      idle session, before and after establishing them (target <= 64 KiB;
 *      at 10 sessions the resident figure is mostly the first touches of
 *      the server's fixed tables and queue, so the heap is judged), and the
 *      time to establish them, in all and inside the server;
 *   4. handshake floods on the 10 000-session server: (a) HS_INIT-shaped
 *      random bytes (no valid mac1), (b) well-formed initiations with valid
 *      mac1 from many addresses under load (answered with cookies), (c)
 *      replays of one valid initiation, at flood rate and spaced below the
 *      load threshold (target <= 2 us per message for a and b).
 *
 * Usage: bench_server [rounds]   (default 21)
 */
#define _GNU_SOURCE
#include "harness/harness.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "bench.h"
#include "core/noise.h"
#include "core/wire.h"

enum {
    PAYLOAD = 1400,
    BATCH = 64,             /* packets per timed batch */
    BATCHES = 40,           /* batches per direction per round */
    TIMER_TURNS = 200000,   /* host loop turns per timer round (2 s virtual) */
    FLOOD = 20000,          /* messages per flood round */
    SPACED = 800,           /* replays per spaced round (12 ms apart: 9.6 s) */
    INITS = 64,             /* distinct valid initiations for flood (b) */
    N_WORLDS = 3,
};
#define STEP_US TG_MSEC(1) /* virtual time between two new sessions */
#define PKT_GAP_US 10      /* virtual time between two data packets */

static const unsigned sizes[N_WORLDS] = {10, 1000, 10000};
static const uint8_t outside[4] = {203, 0, 113, 7};

/* Deterministic randomness for the cores: splitmix64. */
static void fill(void *ctx, uint8_t *buf, size_t len)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i += 8) {
        *s += 0x9e3779b97f4a7c15u;
        uint64_t z = *s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        z ^= z >> 31;
        size_t n = len - i < 8 ? len - i : 8;
        memcpy(buf + i, &z, n);
    }
}

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, resident = 0;
    if (f == NULL || fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    if (f != NULL)
        fclose(f);
    return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

static double heap_bytes(void)
{
#ifdef __GLIBC__
    struct mallinfo2 mi = mallinfo2();
    return (double)(mi.uordblks + mi.hblkhd);
#else
    return 0;
#endif
}

struct world {
    struct tg_server *srv;
    uint64_t srv_seed, cli_seed;
    struct tg_rng srv_rng, cli_rng;
    struct tg_client_config cc;
    tg_time now;
    struct tg_client *active; /* the one client that stays */
    struct tg_key_addr active_from;
    uint8_t active_addr[4];   /* its tunnel address */
    unsigned n;               /* sessions wanted */
    unsigned idle;            /* of which idle (established in the measured window) */
    uint64_t up_delivered, down_delivered, sent;
    double establish_ns, establish_server_ns, rss_delta, heap_delta;
    uint64_t establish_cookies;
};

static uint8_t pkt_up[1600], pkt_down[1600];
static double server_ns; /* wall time inside server calls while establishing */

struct stash {
    uint8_t data[BATCH * 2][1600];
    size_t len[BATCH * 2];
    unsigned n;
};

static bool same_addr(const struct tg_key_addr *a, const struct tg_key_addr *b)
{
    return a->type == b->type && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

static struct tg_key_addr addr4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port)
{
    struct tg_key_addr k = {.type = TG_ADDR_IPV4, .addr = {a, b, c, d}, .port = port};
    return k;
}

/* Take everything the server queued: datagrams for `c` (at `from`) go to it,
 * the rest (probes to idle sessions whose clients are gone) are dropped.
 * Returns how many datagrams went to `c`. */
static unsigned server_drain(struct world *w, struct tg_client *c, const struct tg_key_addr *from)
{
    static uint8_t buf[TG_MAX_DATAGRAM];
    unsigned moved = 0;
    struct tg_datagram d;
    while (tg_server_next_datagram(w->srv, &d)) {
        if (c == NULL || !same_addr(&d.to, from))
            continue;
        memcpy(buf, d.data, d.len);
        tg_client_udp_input(c, 0, buf, d.len, w->now);
        moved++;
    }
    const uint8_t *p;
    size_t len;
    while (tg_server_next_tun_packet(w->srv, &p, &len)) {
    }
    struct tg_event ev;
    while (tg_server_next_event(w->srv, &ev)) {
    }
    return moved;
}

static unsigned client_drain(struct world *w, struct tg_client *c, const struct tg_key_addr *from)
{
    static uint8_t buf[TG_MAX_DATAGRAM];
    unsigned moved = 0;
    struct tg_datagram d;
    while (tg_client_next_datagram(c, &d)) {
        memcpy(buf, d.data, d.len);
        double t0 = now_ns();
        tg_server_udp_input(w->srv, 0, from, buf, d.len, w->now);
        server_ns += now_ns() - t0;
        moved++;
    }
    const uint8_t *p;
    size_t len;
    while (tg_client_next_tun_packet(c, &p, &len)) {
    }
    struct tg_event ev;
    while (tg_client_next_event(c, &ev)) {
    }
    return moved;
}

/* Move datagrams both ways between `c` and the server until both are quiet. */
static void exchange(struct world *w, struct tg_client *c, const struct tg_key_addr *from)
{
    for (int i = 0; i < 64; i++)
        if (client_drain(w, c, from) + server_drain(w, c, from) == 0)
            return;
}

/* What a host loop does between inputs: due timers, then the outputs. */
static void host_timers(struct world *w)
{
    if (tg_server_next_deadline(w->srv) <= w->now) {
        double t0 = now_ns();
        tg_server_on_timeout(w->srv, w->now);
        server_ns += now_ns() - t0;
    }
    if (tg_client_next_deadline(w->active) <= w->now)
        tg_client_on_timeout(w->active, w->now);
    exchange(w, w->active, &w->active_from);
}

/* A new client at `from` until its session is up. */
static bool establish(struct world *w, struct tg_client **out, const struct tg_key_addr *from)
{
    struct tg_client *c;
    if (tg_client_new(&w->cc, &w->cli_rng, NULL, w->now, &c) != TG_OK)
        return false;
    if (tg_client_uplink_up(c, 0, w->now) != TG_OK) {
        tg_client_free(c);
        return false;
    }
    exchange(w, c, from);
    bool up = tg_client_session_up(c, NULL);
    if (out != NULL && up)
        *out = c;
    else
        tg_client_free(c);
    return up;
}

static bool world_init(struct world *w, unsigned n, unsigned id)
{
    memset(w, 0, sizeof *w);
    w->n = n;
    w->srv_seed = 1000 + id;
    w->cli_seed = 2000 + id;
    w->srv_rng = (struct tg_rng){fill, &w->srv_seed};
    w->cli_rng = (struct tg_rng){fill, &w->cli_seed};
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    fill(&w->srv_seed, sc.static_private, sizeof sc.static_private);
    memcpy(sc.pool_addr, (const uint8_t[]){198, 18, 0, 0}, 4);
    sc.pool_prefix = 15;
    sc.max_sessions = 10000;
    tg_client_config_default(&w->cc);
    w->cc.nat = false;
    tg_noise_public_key(sc.static_private, w->cc.server_public);
    if (tg_server_new(&sc, &w->srv_rng, NULL, 0, &w->srv) != TG_OK)
        return false;
    w->active_from = addr4(192, 0, 2, 10, 1000);
    if (!establish(w, &w->active, &w->active_from) ||
        !tg_client_session_up(w->active, w->active_addr))
        return false;
    /* one client made and freed first: the allocator holds its memory from
     * then on, not the sessions' */
    struct tg_client *warm;
    if (tg_client_new(&w->cc, &w->cli_rng, NULL, w->now, &warm) != TG_OK)
        return false;
    bool warm_up = tg_client_uplink_up(warm, 0, w->now) == TG_OK;
    tg_client_free(warm);
    if (!warm_up)
        return false;
    double rss0 = rss_bytes(), heap0 = heap_bytes();
    double t0 = now_ns();
    server_ns = 0;
    for (unsigned k = 1; k < n; k++) {
        w->now += STEP_US;
        struct tg_key_addr from =
            addr4(198, 51, 100, (uint8_t)(1 + k % 250), (uint16_t)(1024 + k / 250));
        if (!establish(w, NULL, &from)) {
            fprintf(stderr, "bench_server: session %u of %u did not come up\n", k + 1, n);
            return false;
        }
        host_timers(w);
    }
    w->establish_ns = now_ns() - t0;
    w->establish_server_ns = server_ns;
    w->rss_delta = rss_bytes() - rss0;
    w->heap_delta = heap_bytes() - heap0;
    w->establish_cookies = tg_server_counters(w->srv)->cookies_sent;
    w->idle = n - 1;
    if (tg_server_session_count(w->srv) != n) {
        fprintf(stderr, "bench_server: %u sessions held, %u wanted\n",
                tg_server_session_count(w->srv), n);
        return false;
    }
    h_packet(pkt_up, w->active_addr, outside, 0, PAYLOAD);
    return true;
}

/* Feed the server what the active client queued (timed: it is server work). */
static double client_to_server(struct world *w)
{
    double t = 0;
    static uint8_t buf[TG_MAX_DATAGRAM];
    struct tg_datagram d;
    while (tg_client_next_datagram(w->active, &d)) {
        memcpy(buf, d.data, d.len);
        double t0 = now_ns();
        tg_server_udp_input(w->srv, 0, &w->active_from, buf, d.len, w->now);
        t += now_ns() - t0;
    }
    return t;
}

/* One round of phase 1: BATCHES x BATCH packets each way. Returns the
 * server's ns per packet up and down. */
static void packet_round(struct world *w, double *up_ns, double *down_ns)
{
    static struct stash in, back;
    double up = 0, down = 0;
    uint16_t len_up = h_packet(pkt_up, w->active_addr, outside, 0, PAYLOAD);
    uint16_t len_down = h_packet(pkt_down, outside, w->active_addr, 0, PAYLOAD);
    for (int b = 0; b < BATCHES; b++) {
        /* up: the client seals a batch, the server opens and delivers it */
        in.n = 0;
        for (int i = 0; i < BATCH; i++) {
            w->now += PKT_GAP_US;
            tg_client_tun_input(w->active, pkt_up, len_up, w->now);
        }
        struct tg_datagram d;
        while (in.n < BATCH * 2 && tg_client_next_datagram(w->active, &d)) {
            memcpy(in.data[in.n], d.data, d.len);
            in.len[in.n++] = d.len;
        }
        back.n = 0;
        const uint8_t *p;
        size_t l;
        double t0 = now_ns();
        for (unsigned i = 0; i < in.n; i++) {
            tg_server_udp_input(w->srv, 0, &w->active_from, in.data[i], in.len[i], w->now);
            while (tg_server_next_tun_packet(w->srv, &p, &l))
                w->up_delivered++;
            while (back.n < BATCH * 2 && tg_server_next_datagram(w->srv, &d)) {
                memcpy(back.data[back.n], d.data, d.len);
                back.len[back.n++] = d.len;
            }
        }
        up += now_ns() - t0;
        for (unsigned i = 0; i < back.n; i++)
            tg_client_udp_input(w->active, 0, back.data[i], back.len[i], w->now);
        up += client_to_server(w);

        /* down: the server seals a batch for the client */
        back.n = 0;
        t0 = now_ns();
        for (int i = 0; i < BATCH; i++) {
            tg_server_tun_input(w->srv, pkt_down, len_down, w->now);
            while (back.n < BATCH * 2 && tg_server_next_datagram(w->srv, &d)) {
                memcpy(back.data[back.n], d.data, d.len);
                back.len[back.n++] = d.len;
            }
        }
        down += now_ns() - t0;
        for (unsigned i = 0; i < back.n; i++)
            tg_client_udp_input(w->active, 0, back.data[i], back.len[i], w->now);
        while (tg_client_next_tun_packet(w->active, &p, &l))
            w->down_delivered++;
        down += client_to_server(w);
        w->sent += BATCH;
        w->now += PKT_GAP_US * BATCH;
        host_timers(w);
    }
    *up_ns = up / (BATCHES * BATCH);
    *down_ns = down / (BATCHES * BATCH);
}

/* The AEAD alone on packets of the same size, in the same rounds: ns per
 * seal and per open. */
static void raw_round(double *seal_ns, double *open_ns)
{
    static uint8_t buf[PAYLOAD + 16];
    uint8_t key[32] = {1}, nonce[12] = {0};
    enum { N = BATCHES * BATCH };
    double t0 = now_ns();
    for (int i = 0; i < N; i++) {
        memcpy(nonce + 4, &i, sizeof i);
        crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + PAYLOAD, NULL, buf, PAYLOAD,
                                                           NULL, 0, NULL, nonce, key);
    }
    *seal_ns = (now_ns() - t0) / N;
    crypto_aead_chacha20poly1305_ietf_encrypt_detached(buf, buf + PAYLOAD, NULL, buf, PAYLOAD, NULL,
                                                       0, NULL, nonce, key);
    static uint8_t plain[PAYLOAD];
    t0 = now_ns();
    for (int i = 0; i < N; i++)
        if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(plain, NULL, buf, PAYLOAD,
                                                               buf + PAYLOAD, NULL, 0, nonce,
                                                               key) != 0)
            abort();
    *open_ns = (now_ns() - t0) / N;
}

/* One round of phase 2: the host loop's timer calls alone. The datagrams
 * they queue are taken (a host sends them); those for the active client
 * are dropped too, and its session is kept healthy between rounds. */
static void timer_round(struct world *w, double *turn_ns, double *probes)
{
    uint64_t datagrams = 0;
    struct tg_datagram d;
    double t0 = now_ns();
    for (int i = 0; i < TIMER_TURNS; i++) {
        w->now += PKT_GAP_US;
        if (tg_server_next_deadline(w->srv) <= w->now) {
            tg_server_on_timeout(w->srv, w->now);
            while (tg_server_next_datagram(w->srv, &d))
                datagrams++;
        }
    }
    *turn_ns = (now_ns() - t0) / TIMER_TURNS;
    *probes = (double)datagrams;
    /* the active client and the server catch up */
    tg_client_on_timeout(w->active, w->now);
    host_timers(w);
}

/* The O(1) part: next_deadline, and on_timeout when nothing is due. */
static void idle_calls(struct world *w, double *deadline_ns, double *timeout_ns)
{
    enum { CALLS = 1000000 };
    for (int i = 0; i < 16 && tg_server_next_deadline(w->srv) <= w->now; i++)
        host_timers(w);
    tg_time sink = 0;
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++)
        sink += tg_server_next_deadline(w->srv);
    *deadline_ns = (now_ns() - t0) / CALLS;
    t0 = now_ns();
    for (int i = 0; i < CALLS; i++)
        tg_server_on_timeout(w->srv, w->now);
    *timeout_ns = (now_ns() - t0) / CALLS;
    if (sink == 42) /* keeps the calls */
        puts("");
}

/* ---------------------------------------------------------------- floods */

struct flood_stats {
    uint64_t mac, cookie, replay, rate, done, answered;
};

static void counters_delta(const struct tg_endpoint_counters *before,
                           const struct tg_endpoint_counters *after, struct flood_stats *f)
{
    f->mac = after->drops[TG_DROP_MAC] - before->drops[TG_DROP_MAC];
    f->cookie = after->drops[TG_DROP_COOKIE] - before->drops[TG_DROP_COOKIE];
    f->replay = after->drops[TG_DROP_REPLAY] - before->drops[TG_DROP_REPLAY];
    f->rate = after->drops[TG_DROP_RATE_LIMITED] - before->drops[TG_DROP_RATE_LIMITED];
    f->done = after->handshakes_done - before->handshakes_done;
}

/* Send `count` copies of msgs[i % n_msgs] (each from[i % n_from]), `gap`
 * virtual us apart, taking every answer; ns per message. */
static double flood(struct world *w, uint8_t (*msgs)[256], size_t len, unsigned n_msgs,
                    const struct tg_key_addr *from, unsigned n_from, unsigned count, tg_time gap,
                    bool vary_index, struct flood_stats *fs)
{
    static uint8_t buf[256];
    struct tg_endpoint_counters before = *tg_server_counters(w->srv);
    uint64_t answered = 0;
    struct tg_datagram d;
    double t0 = now_ns();
    for (unsigned i = 0; i < count; i++) {
        w->now += gap;
        memcpy(buf, msgs[i % n_msgs], len);
        if (vary_index)
            memcpy(buf + 4, &i, sizeof i);
        tg_server_udp_input(w->srv, 0, &from[i % n_from], buf, len, w->now);
        while (tg_server_next_datagram(w->srv, &d))
            answered++;
    }
    double ns = (now_ns() - t0) / count;
    counters_delta(&before, tg_server_counters(w->srv), fs);
    fs->answered = answered;
    return ns;
}

/* A fresh client's HS_INIT (mac1 valid, no mac2) into out; its length. */
static size_t capture_init(struct world *w, uint8_t out[256])
{
    struct tg_client *c;
    struct tg_datagram d;
    size_t len = 0;
    if (tg_client_new(&w->cc, &w->cli_rng, NULL, w->now, &c) != TG_OK)
        return 0;
    if (tg_client_uplink_up(c, 0, w->now) == TG_OK && tg_client_next_datagram(c, &d) &&
        d.len <= 256 && d.data[0] == TG_MSG_HS_INIT) {
        memcpy(out, d.data, d.len);
        len = d.len;
    }
    tg_client_free(c);
    return len;
}

static const char *verdict(bool met)
{
    return met ? "met" : "NOT met";
}

static int run_floods(struct world *w, int rounds, double *a_out, double *b_out)
{
    static uint8_t msgs[INITS][256];
    static struct tg_key_addr from[4096];
    for (unsigned i = 0; i < 4096; i++)
        from[i] = addr4(i & 1 ? 203 : 198, i & 1 ? 0 : 51, i & 1 ? 113 : 100,
                        (uint8_t)(1 + (i >> 1) % 250), (uint16_t)(2000 + i));
    size_t len = 0;
    for (unsigned k = 0; k < INITS; k++)
        if ((len = capture_init(w, msgs[k])) == 0)
            return 1;
    double *a = malloc(sizeof(double) * (size_t)rounds * 4);
    if (a == NULL)
        return 1;
    double *b = a + rounds, *c = b + rounds, *s = c + rounds;
    struct flood_stats fa = {0}, fb = {0}, fc = {0}, fs = {0}, t;
    static uint8_t junk[INITS][256], one[1][256];
    for (int r = 0; r < rounds; r++) {
        /* (a) random bytes behind an HS_INIT header: one hash each */
        for (unsigned k = 0; k < INITS; k++) {
            fill(&w->cli_seed, junk[k], len);
            memset(junk[k], 0, 4);
            junk[k][0] = TG_MSG_HS_INIT;
        }
        a[r] = flood(w, junk, len, INITS, from, 4096, FLOOD, 1, true, &t);
        fa.mac += t.mac;
        fa.answered += t.answered;
        fa.done += t.done;
        /* (b) valid initiations from many sources: the first few hundred put
         * the server under load, then every one is answered with a cookie */
        flood(w, msgs, len, INITS, from, 4096, 500, 1, false, &t);
        b[r] = flood(w, msgs, len, INITS, from, 4096, FLOOD, 1, false, &t);
        fb.cookie += t.cookie;
        fb.answered += t.answered;
        fb.done += t.done;
        /* (c) one valid initiation, answered once after a quiet spell, then
         * replayed from its source at flood rate ... */
        w->now += TG_SEC(3);
        if ((len = capture_init(w, one[0])) == 0)
            return 1;
        struct tg_endpoint_counters before = *tg_server_counters(w->srv);
        struct tg_key_addr src = addr4(192, 0, 2, 77, (uint16_t)(3000 + r));
        flood(w, one, len, 1, &src, 1, 1, 1, false, &t);
        if (tg_server_counters(w->srv)->handshakes_done != before.handshakes_done + 1) {
            fprintf(stderr, "bench_server: the original initiation was not answered\n");
            return 1;
        }
        c[r] = flood(w, one, len, 1, &src, 1, FLOOD, 1, false, &t);
        fc.replay += t.replay;
        fc.cookie += t.cookie;
        fc.done += t.done;
        fc.answered += t.answered;
        /* ... and below the load threshold (12 ms apart, within the 10 s a
         * handshake waits for its proof) */
        w->now += TG_SEC(3);
        if ((len = capture_init(w, one[0])) == 0)
            return 1;
        flood(w, one, len, 1, &src, 1, 1, 1, false, &t);
        s[r] = flood(w, one, len, 1, &src, 1, SPACED, TG_MSEC(12), false, &t);
        fs.replay += t.replay;
        fs.cookie += t.cookie;
        fs.done += t.done;
        fs.answered += t.answered;
    }
    double ma = median(a, rounds), mb = median(b, rounds), mc = median(c, rounds),
           ms = median(s, rounds);
    uint64_t nf = (uint64_t)rounds * FLOOD, ns = (uint64_t)rounds * SPACED;
    printf("flood (a) no valid mac1:       %7.0f ns/message (target <= 2000: %s); "
           "%llu of %llu dropped for mac1, %llu answered, %llu handshakes\n",
           ma, verdict(ma <= 2000 && fa.mac == nf && fa.done == 0), (unsigned long long)fa.mac,
           (unsigned long long)nf, (unsigned long long)fa.answered,
           (unsigned long long)fa.done);
    printf("flood (b) valid mac1, loaded:  %7.0f ns/message (target <= 2000: %s); "
           "%llu of %llu answered with a cookie, %llu handshakes\n",
           mb, verdict(mb <= 2000 && fb.cookie == nf && fb.done == 0),
           (unsigned long long)fb.cookie, (unsigned long long)nf, (unsigned long long)fb.done);
    printf("flood (c) replays, flood rate: %7.0f ns/message (no target); of %llu: %llu hit the "
           "replay memory, %llu got cookies (load), %llu handshakes\n",
           mc, (unsigned long long)nf, (unsigned long long)fc.replay,
           (unsigned long long)fc.cookie, (unsigned long long)fc.done);
    printf("flood (c) replays, 12 ms apart:%7.0f ns/message (no target); of %llu: %llu hit the "
           "replay memory (%llu answered again), %llu cookies, %llu handshakes\n",
           ms, (unsigned long long)ns, (unsigned long long)fs.replay,
           (unsigned long long)fs.answered, (unsigned long long)fs.cookie,
           (unsigned long long)fs.done);
    *a_out = ma;
    *b_out = mb;
    int bad = fa.mac != nf || fa.done != 0 || fb.cookie != nf || fb.done != 0 || fc.done != 0 ||
              fs.done != 0 || fs.replay != ns;
    if (bad)
        fprintf(stderr, "bench_server: a flood did not take the path it measures\n");
    free(a);
    return bad;
}

/* ---------------------------------------------------------------- main */

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    if (rounds < 1 || sodium_init() < 0) {
        fprintf(stderr, "usage: bench_server [rounds >= 1]\n");
        return 2;
    }
#ifdef __GLIBC__
    /* a fixed threshold: the freed clients' big queues go back to the
     * system instead of moving the threshold and staying in the heap */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
    double start = now_ns();
    static struct world worlds[N_WORLDS];
    printf("config: server defaults, max_sessions 10000, pool 198.18.0.0/15, %d-byte packets, "
           "%d rounds\n",
           PAYLOAD, rounds);
    double worst_mem = 0;
    for (unsigned k = 0; k < N_WORLDS; k++) {
        struct world *w = &worlds[k];
        if (!world_init(w, sizes[k], k)) {
            fprintf(stderr, "bench_server: could not establish %u sessions\n", sizes[k]);
            return 1;
        }
        double rss = w->rss_delta / w->idle, heap = w->heap_delta / w->idle;
        /* with few sessions the resident figure is mostly the first touches
         * of the server's fixed tables and output queue: judge the heap */
        bool few = w->n < 1000;
        if (!few && rss > worst_mem)
            worst_mem = rss;
        if (heap > worst_mem)
            worst_mem = heap;
        printf("sessions %5u: %u idle established in %.0f ms, %.1f us/session of which the "
               "server %.1f us (%llu cookie round trips); per idle session %.1f KiB resident, "
               "%.1f KiB heap (target <= 64 KiB: %s%s)\n",
               w->n, w->idle, w->establish_ns / 1e6, w->establish_ns / 1e3 / w->idle,
               w->establish_server_ns / 1e3 / w->idle, (unsigned long long)w->establish_cookies,
               rss / 1024, heap / 1024,
               verdict((few || rss <= 64 * 1024) && heap <= 64 * 1024),
               few ? ", heap; resident is mostly first touches of fixed tables here" : "");
    }

    /* 1. per-packet cost, rounds alternating between the servers */
    double *up = malloc(sizeof(double) * (size_t)rounds * (N_WORLDS + 1) * 2),
           *down = up + rounds * (N_WORLDS + 1), mu[N_WORLDS], md[N_WORLDS];
    if (up == NULL)
        return 1;
    for (int r = 0; r < rounds; r++) {
        for (unsigned k = 0; k < N_WORLDS; k++)
            packet_round(&worlds[k], &up[k * (unsigned)rounds + (unsigned)r],
                         &down[k * (unsigned)rounds + (unsigned)r]);
        raw_round(&down[N_WORLDS * (unsigned)rounds + (unsigned)r],
                  &up[N_WORLDS * (unsigned)rounds + (unsigned)r]);
    }
    double raw_open = median(&up[N_WORLDS * (unsigned)rounds], rounds),
           raw_seal = median(&down[N_WORLDS * (unsigned)rounds], rounds);
    printf("raw AEAD, same rounds: open %.0f ns, seal %.0f ns per %d-byte packet\n", raw_open,
           raw_seal, PAYLOAD);
    for (unsigned k = 0; k < N_WORLDS; k++) {
        struct world *w = &worlds[k];
        mu[k] = median(&up[k * (unsigned)rounds], rounds);
        md[k] = median(&down[k * (unsigned)rounds], rounds);
        if (w->up_delivered != w->sent || w->down_delivered != w->sent) {
            fprintf(stderr, "bench_server: %u sessions: %llu up, %llu down of %llu delivered\n",
                    w->n, (unsigned long long)w->up_delivered,
                    (unsigned long long)w->down_delivered, (unsigned long long)w->sent);
            return 1;
        }
        printf("sessions %5u: per packet up %.0f ns (udp_input + TUN out; open + %.0f), down "
               "%.0f ns (tun_input + datagram out; seal + %.0f), mean %.0f ns\n",
               w->n, mu[k], mu[k] - raw_open, md[k], md[k] - raw_seal, (mu[k] + md[k]) / 2);
    }
    double ratio = (mu[2] + md[2]) / (mu[0] + md[0]);
    printf("per-packet ratio 10000/10: %.3f (up %.3f, down %.3f) (target <= 1.2: %s)\n", ratio,
           mu[2] / mu[0], md[2] / md[0], verdict(ratio <= 1.2));

    /* 2. timers */
    int trounds = rounds < 5 ? rounds : 5;
    double *turn = malloc(sizeof(double) * (size_t)trounds * N_WORLDS), probes[N_WORLDS] = {0},
           mt[N_WORLDS], dl[N_WORLDS], to[N_WORLDS];
    if (turn == NULL)
        return 1;
    for (int r = 0; r < trounds; r++)
        for (unsigned k = 0; k < N_WORLDS; k++) {
            double p;
            timer_round(&worlds[k], &turn[k * (unsigned)trounds + (unsigned)r], &p);
            probes[k] += p;
        }
    for (unsigned k = 0; k < N_WORLDS; k++) {
        struct world *w = &worlds[k];
        idle_calls(w, &dl[k], &to[k]);
        mt[k] = median(&turn[k * (unsigned)trounds], trounds);
        double per_turn = probes[k] / ((double)trounds * TIMER_TURNS);
        char per[64] = "too few to tell";
        if (per_turn >= 0.001)
            snprintf(per, sizeof per, "%.0f ns per timer datagram", mt[k] / per_turn);
        printf("sessions %5u: timers next_deadline %.1f ns, on_timeout with nothing due %.1f ns; "
               "loop turn %.1f ns with %.4f datagrams/turn from timers (%s)\n",
               w->n, dl[k], to[k], mt[k], per_turn, per);
    }
    double tratio = (dl[2] + to[2]) / (dl[0] + to[0]);
    printf("timer check ratio 10000/10: %.3f (target: about flat, <= 1.2: %s); per timer "
           "datagram 10000/1000: %.3f\n",
           tratio, verdict(tratio <= 1.2),
           (mt[2] / (probes[2] / ((double)trounds * TIMER_TURNS))) /
               (mt[1] / (probes[1] / ((double)trounds * TIMER_TURNS))));

    /* 4. floods, on the biggest server */
    int frounds = rounds < 7 ? rounds : 7;
    double fa = 0, fb = 0;
    int bad = run_floods(&worlds[2], frounds, &fa, &fb);

    printf("summary: per-packet ratio %.3f (<= 1.2: %s), memory <= %.1f KiB/idle session "
           "(<= 64: %s), timer check ratio %.3f, floods (a) %.0f ns (b) %.0f ns "
           "(<= 2000: %s); %.1f s\n",
           ratio, verdict(ratio <= 1.2), worst_mem / 1024, verdict(worst_mem <= 64 * 1024),
           tratio, fa, fb, verdict(fa <= 2000 && fb <= 2000), (now_ns() - start) / 1e9);
    for (unsigned k = 0; k < N_WORLDS; k++) {
        tg_client_free(worlds[k].active);
        tg_server_free(worlds[k].srv);
    }
    free(up);
    free(turn);
    return bad;
}
