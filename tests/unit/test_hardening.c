/* The server and client as an attacker would try them, over the in-memory
 * harness: packets larger than the receiver's max_packet, replayed joins,
 * forged responses, spoofed junk for minutes, a handshake flood while a new
 * client connects, and the authenticated close. Each case failed on the
 * engine before the cookie and pending-handshake design. */
#include "check.h"
#include "harness/harness.h"
#include "core/cookie.h"
#include "core/hello.h"
#include "core/noise.h"
#include "core/wire.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

static const struct tg_key_addr evil = {.type = TG_ADDR_IPV4, .addr = {198, 51, 100, 66},
                                        .port = 4444};

/* A fresh NK initiation with a valid mac1 (anyone with the tg1_ key can make
 * one); mac2 from `cookie` when not NULL. Returns its length. */
static size_t initiation(const uint8_t server_public[32], const uint8_t *cookie, uint8_t *out,
                         size_t cap)
{
    struct tg_noise_hs h;
    uint8_t e[32];
    randombytes_buf(e, sizeof e);
    size_t len = 0;
    if (tg_noise_init(&h, TG_NOISE_NK, TG_NOISE_INITIATOR, (const uint8_t *)TG_PROLOGUE,
                      sizeof TG_PROLOGUE - 1, NULL, server_public) != TG_OK)
        return 0;
    tg_noise_set_ephemeral(&h, e);
    const uint8_t hello[TG_HELLO_INIT_LEN] = {TG_PROTOCOL_VERSION, 0};
    tg_wire_put_hs_init_header(out, TG_MSG_HS_INIT, randombytes_random() | 1);
    if (tg_noise_write_message(&h, hello, sizeof hello, out + 8, cap - 8 - TG_MACS_LEN, &len) !=
        TG_OK)
        return 0;
    tg_noise_clear(&h);
    len += 8 + TG_MACS_LEN;
    struct tg_mac_keys k;
    tg_mac_keys_init(&k, server_public);
    tg_mac1_put(&k, out, len);
    tg_mac2_put(cookie, out, len);
    return len;
}

/* ------------------------------------------------------------------------ */

/* A client whose max_packet is larger than the server's (any holder of the
 * key can configure that) sends 1800- and 3000-byte packets, striped and
 * flow-sticky: the server drops them as too_big, and nothing overflows. */
static void test_larger_peer_packets(void)
{
    const enum tg_aggregation aggs[2] = {TG_AGG_FULL, TG_AGG_NONE};
    for (int a = 0; a < 2; a++) {
        struct h_net n;
        const tg_time d[2] = {TG_MSEC(5), TG_MSEC(5)};
        h_client_max_packet = 4000;
        CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, aggs[a], NULL), TG_OK);
        h_client_max_packet = 0;
        CHECK(h_net_connect(&n, TG_SEC(2)));
        const tg_time at = n.now;
        const uint64_t before = tg_server_counters(n.server)->drops[TG_DROP_TOO_BIG];
        static const uint16_t sizes[] = {1800, 3000, 1800, 3000};
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint8_t pkt[4000];
            const uint8_t out[4] = {203, 0, 113, 7};
            uint16_t len = h_packet(pkt, n.client_addr, out, i, sizes[i]);
            CHECK_EQ(tg_client_tun_input(n.client, pkt, len, at), TG_OK);
            /* the harness's links carry at most 1600 bytes: hand the big
             * datagrams to the server directly, as a real network would */
            struct tg_datagram dg;
            while (tg_client_next_datagram(n.client, &dg)) {
                uint8_t copy[4200];
                CHECK(dg.len <= sizeof copy);
                memcpy(copy, dg.data, dg.len);
                struct tg_key_addr from = {.type = TG_ADDR_IPV4,
                                           .addr = {192, 0, 2, (uint8_t)(10 + dg.uplink)},
                                           .port = (uint16_t)(1000 + dg.uplink)};
                tg_server_udp_input(n.server, 0, &from, copy, dg.len, at);
            }
        }
        h_net_run(&n, n.now + TG_SEC(1));
        CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_TOO_BIG] - before, 4);
        CHECK_EQ(n.n_rx_server, 0);
        /* and ordinary packets still go through */
        for (uint64_t s = 0; s < 20; s++)
            h_net_send(&n, 100 + s, 1000, false);
        h_net_run(&n, n.now + TG_SEC(1));
        CHECK_EQ(n.n_rx_server, 20);
        h_net_free(&n);
    }
}

/* ------------------------------------------------------------------------ */

struct replay_plan {
    bool ahead;            /* replay before the real join reaches the server */
    uint8_t join[512];
    size_t len;
    tg_time arrive_at;     /* when the real one reaches the server */
    bool injected;
    unsigned joins;
};

static void tap_join(struct h_net *n, unsigned uplink, const uint8_t *data, size_t len)
{
    struct replay_plan *p = n->ctx;
    if (data[0] != TG_MSG_HS_JOIN || uplink != 1 || p->len != 0 || len > sizeof p->join)
        return;
    p->joins++;
    memcpy(p->join, data, len);
    p->len = len;
    p->arrive_at = n->now + n->up[uplink].delay_us;
    if (p->ahead) { /* an on-path attacker racing the real message */
        uint8_t copy[512];
        memcpy(copy, data, len);
        tg_server_udp_input(n->server, 0, &evil, copy, len, n->now);
        p->injected = true;
    }
}

/* A captured HS_JOIN replayed from elsewhere during a real rejoin (racing
 * ahead of it, or between the server's answer and the client's first
 * confirmed packet) cancels nothing: the uplink is rekeyed at once and
 * keeps carrying traffic. */
static void test_replayed_rejoin(void)
{
    for (int ahead = 0; ahead < 2; ahead++) {
        struct h_net n;
        const tg_time d[2] = {TG_MSEC(10), TG_MSEC(30)};
        h_rekey_after_us = TG_SEC(3);
        CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_WEIGHTED_ROUND_ROBIN, TG_AGG_FULL, NULL),
                 TG_OK);
        h_rekey_after_us = 0;
        CHECK(h_net_connect(&n, TG_SEC(2)));
        struct replay_plan plan = {.ahead = ahead != 0};
        n.ctx = &plan;
        n.tap = tap_join;
        unsigned rekeys = n.rekeys;
        uint64_t replays = tg_server_counters(n.server)->drops[TG_DROP_REPLAY];
        tg_time end = n.now + TG_SEC(4);
        uint64_t seq = 0;
        while (n.now < end) {
            h_net_run(&n, n.now + TG_MSEC(1));
            if (plan.len > 0 && !plan.injected && n.now > plan.arrive_at) {
                uint8_t copy[512];
                memcpy(copy, plan.join, plan.len);
                tg_server_udp_input(n.server, 0, &evil, copy, plan.len, n.now);
                h_net_drain(&n);
                plan.injected = true;
            }
            if (n.now % TG_MSEC(10) == 0)
                h_net_send(&n, seq++, 500, false);
        }
        CHECK(plan.injected);
        CHECK_EQ(plan.joins, 1); /* no second handshake was needed */
        CHECK_EQ(tg_server_counters(n.server)->drops[TG_DROP_REPLAY] - replays, 1);
        CHECK(n.rekeys > rekeys);
        struct tg_uplink_snapshot s[2];
        CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, s, 2), 2);
        uint64_t rx1 = s[1].rx_packets;
        for (int k = 0; k < 100; k++)
            h_net_send(&n, seq++, 500, false);
        h_net_run(&n, n.now + TG_MSEC(500));
        CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, s, 2), 2);
        CHECK(s[1].rx_packets > rx1 + 20); /* the rejoined uplink carries its share */
        CHECK(s[1].keyed && s[1].health <= TG_HEALTH_HEALTHY);
        CHECK_EQ(n.n_rx_server, seq);
        h_net_free(&n);
    }
}

/* ------------------------------------------------------------------------ */

static void tap_forge_resp(struct h_net *n, unsigned uplink, const uint8_t *data, size_t len)
{
    unsigned *forged = n->ctx;
    if (data[0] != TG_MSG_HS_INIT || len < 8)
        return;
    /* an on-path injector answers first, with the index it saw */
    uint8_t resp[TG_HS_RESP_HEADER_LEN + 64];
    randombytes_buf(resp, sizeof resp);
    tg_wire_put_hs_resp_header(resp, tg_get_u32(data + 4), 77);
    tg_client_udp_input(n->client, uplink, resp, sizeof resp, n->now);
    (*forged)++;
}

/* A forged HS_RESP carrying the visible index changes nothing: the client
 * keeps waiting for the real answer and connects in the usual time. */
static void test_forged_response(void)
{
    struct h_net n;
    const tg_time d[1] = {TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    unsigned forged = 0;
    n.ctx = &forged;
    n.tap = tap_forge_resp;
    CHECK(h_net_connect(&n, TG_MSEC(200)));
    CHECK_EQ(forged, 1); /* one initiation was enough */
    CHECK_EQ(tg_client_counters(n.client)->handshakes_sent, 1);
    CHECK(tg_client_counters(n.client)->drops[TG_DROP_DECRYPT] >= 1);
    h_net_free(&n);
}

/* ------------------------------------------------------------------------ */

/* Junk spoofed from the client's own address and port for 400 s (200 a
 * second: without mac1, and valid initiations by a key holder who cannot
 * receive there) leaves the session keyed: rekeys every 120 s succeed. */
static void test_spoofed_junk(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    uint8_t init[200];
    size_t init_len = initiation(n.server_public, NULL, init, sizeof init);
    CHECK(init_len > 0);
    const tg_time end = n.now + TG_SEC(400);
    unsigned rekeys = n.rekeys;
    uint64_t seq = 0, i = 0;
    while (n.now < end) {
        h_net_run(&n, n.now + TG_MSEC(5));
        for (unsigned u = 0; u < 2; u++) {
            struct tg_key_addr victim = {.type = TG_ADDR_IPV4,
                                         .addr = {192, 0, 2, (uint8_t)(10 + u)},
                                         .port = (uint16_t)(1000 + u)};
            uint8_t m[200];
            size_t len;
            if (i++ % 2 == 0) {
                len = 98;
                randombytes_buf(m, len);
                tg_wire_put_hs_init_header(m, TG_MSG_HS_INIT, 5);
            } else {
                len = initiation(n.server_public, NULL, m, sizeof m);
            }
            tg_server_udp_input(n.server, 0, &victim, m, len, n.now);
        }
        h_net_drain(&n);
        if (n.now % TG_MSEC(100) == 0)
            h_net_send(&n, seq++, 200, false);
    }
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    CHECK(c->drops[TG_DROP_MAC] > 70000);
    CHECK(c->cookies_sent > 0);
    CHECK(n.rekeys >= rekeys + 4); /* two rounds on two uplinks at least */
    struct tg_uplink_snapshot s[2];
    CHECK_EQ(tg_client_snapshot(n.client, s, 2), 2);
    CHECK(s[0].keyed && s[1].keyed);
    CHECK(s[0].keys_age_us < TG_SEC(150) && s[1].keys_age_us < TG_SEC(150));
    CHECK_EQ(tg_server_session_count(n.server), 1);
    h_net_run(&n, n.now + TG_SEC(1));
    CHECK(n.n_rx_server >= seq - 1);
    printf("spoofed junk: %llu mac drops, %llu cookies, %u rekeys in 400 s, %u of %llu delivered\n",
           (unsigned long long)c->drops[TG_DROP_MAC], (unsigned long long)c->cookies_sent,
           n.rekeys - rekeys, n.n_rx_server, (unsigned long long)seq);
    h_net_free(&n);
}

/* ------------------------------------------------------------------------ */

struct flood {
    uint8_t cookie[64][TG_COOKIE_LEN];
    bool has_cookie[64];
    uint8_t mac1[64][TG_MAC_LEN];
};

static void collect_cookies(struct h_net *n, const struct tg_datagram *d)
{
    struct flood *f = n->ctx;
    if (d->data[0] != TG_MSG_HS_COOKIE || d->to.addr[0] != 203)
        return;
    unsigned src = d->to.addr[3];
    struct tg_mac_keys k;
    tg_mac_keys_init(&k, n->server_public);
    uint8_t cookie[TG_COOKIE_LEN];
    if (src < 64 && tg_cookie_open(&k, d->data + 8, d->len - 8, f->mac1[src], cookie) == TG_OK) {
        memcpy(f->cookie[src], cookie, sizeof cookie);
        f->has_cookie[src] = true;
    }
}

/* 64 sources flood the server with valid initiations (16 of them echoing
 * the cookies they get, the strongest attacker), replays and junk, 1 700 a
 * second: no
 * session, no address comes of it, pending handshakes stay bounded, and a
 * new client connects within 2 s. */
static void test_flood_new_client(void)
{
    struct h_net n;
    const tg_time d[1] = {TG_MSEC(15)};
    CHECK_EQ(h_net_init(&n, 1, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    struct flood *f = calloc(1, sizeof *f);
    n.ctx = f;
    n.foreign = collect_cookies;
    uint8_t replay[200];
    size_t replay_len = initiation(n.server_public, NULL, replay, sizeof replay);
    tg_time connected = TG_TIME_NEVER, start = TG_SEC(1), end = TG_SEC(6);
    uint64_t sent = 0;
    for (n.now = 0; n.now < end;) {
        h_net_run(&n, n.now + TG_MSEC(3)); /* 5 messages every 3 ms: 1 667 a second */
        for (int k = 0; k < 5; k++, sent++) {
            unsigned src = (unsigned)(sent % 64);
            struct tg_key_addr from = {.type = TG_ADDR_IPV4, .addr = {203, 0, 113, (uint8_t)src},
                                       .port = 5000};
            uint8_t m[200];
            size_t len;
            switch (src < 16 ? 0 : 1 + sent % 2) { /* 16 sources echo cookies, 26/s each */
            case 0:
                len = initiation(n.server_public, f->has_cookie[src] ? f->cookie[src] : NULL, m,
                                 sizeof m);
                memcpy(f->mac1[src], m + len - TG_MACS_LEN, TG_MAC_LEN);
                break;
            case 1:
                memcpy(m, replay, replay_len);
                len = replay_len;
                break;
            default:
                len = 98;
                randombytes_buf(m, len);
                tg_wire_put_hs_init_header(m, TG_MSG_HS_INIT, 9);
                break;
            }
            tg_server_udp_input(n.server, 0, &from, m, len, n.now);
        }
        h_net_drain(&n);
        if (n.now >= start && n.now < start + TG_MSEC(3))
            CHECK_EQ(tg_client_uplink_up(n.client, 0, n.now), TG_OK);
        if (n.session_up && connected == TG_TIME_NEVER)
            connected = n.now;
    }
    const struct tg_endpoint_counters *c = tg_server_counters(n.server);
    printf("flood: %llu messages, client connected after %.0f ms; drops mac %llu cookie %llu "
           "replay %llu rate_limited %llu; %llu answered\n",
           (unsigned long long)sent, (double)(connected - start) / 1000.0,
           (unsigned long long)c->drops[TG_DROP_MAC], (unsigned long long)c->drops[TG_DROP_COOKIE],
           (unsigned long long)c->drops[TG_DROP_REPLAY],
           (unsigned long long)c->drops[TG_DROP_RATE_LIMITED],
           (unsigned long long)c->handshakes_done);
    CHECK(connected != TG_TIME_NEVER && connected - start <= TG_SEC(2));
    CHECK_EQ(tg_server_session_count(n.server), 1); /* the flood made no session */
    CHECK(c->drops[TG_DROP_COOKIE] > 0);
    CHECK(c->drops[TG_DROP_RATE_LIMITED] > 0);
    /* the answered ones are bounded by the rate limit of the proven sources */
    CHECK(c->handshakes_done < 16 * (10 * 6 + 20) + 200);
    free(f);
    h_net_free(&n);
}

/* ------------------------------------------------------------------------ */

/* An idle session costs little: after 10 s without DATA both ends probe once
 * a second instead of ten times (a server with 10 000 connected clients
 * would otherwise handle 400 000 probe datagrams a second); the first DATA
 * brings the pace back at once. */
static void test_idle_probes(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_NONE, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    h_net_run(&n, n.now + TG_SEC(15));
    uint64_t c0 = tg_client_counters(n.client)->dgram_out,
             s0 = tg_server_counters(n.server)->dgram_out;
    h_net_run(&n, n.now + TG_SEC(10));
    uint64_t c_idle = tg_client_counters(n.client)->dgram_out - c0,
             s_idle = tg_server_counters(n.server)->dgram_out - s0;
    printf("idle probes: %llu client + %llu server datagrams in 10 s idle\n",
           (unsigned long long)c_idle, (unsigned long long)s_idle);
    /* 2 uplinks x (own PING + PONG to the other's) x 1/s x 10 s, with slack */
    CHECK(c_idle <= 50 && s_idle <= 50);
    CHECK(c_idle >= 20 && s_idle >= 20); /* still probing */
    for (uint64_t s = 0; s < 20; s++)
        h_net_send(&n, s, 200, false);
    uint64_t c1 = tg_client_counters(n.client)->dgram_out;
    h_net_run(&n, n.now + TG_SEC(1));
    /* 20 DATA datagrams, then probes on both uplinks at the 100 ms pace again */
    CHECK(tg_client_counters(n.client)->dgram_out - c1 >= 20 + 2 * 8);
    CHECK_EQ(n.n_rx_server, 20);
    h_net_free(&n);
}

/* A client that leaves says so; the server frees the session at once. */
static void test_close(void)
{
    struct h_net n;
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(20)};
    CHECK_EQ(h_net_init(&n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL), TG_OK);
    CHECK(h_net_connect(&n, TG_SEC(2)));
    CHECK_EQ(tg_server_session_count(n.server), 1);
    tg_client_close(n.client, n.now);
    h_net_drain(&n);
    h_net_run(&n, n.now + TG_MSEC(50));
    CHECK_EQ(tg_server_session_count(n.server), 0);
    struct tg_uplink_snapshot s[2];
    CHECK_EQ(tg_server_snapshot(n.server, n.client_addr, s, 2), 0);
    h_net_free(&n);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_larger_peer_packets();
    test_replayed_rejoin();
    test_forged_response();
    test_spoofed_junk();
    test_flood_new_client();
    test_idle_probes();
    test_close();
    return check_exit("test_hardening");
}
