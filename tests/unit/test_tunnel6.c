/* IPv6 inside the tunnel, end to end over the real cores (no harness: one
 * uplink, instant delivery): a client that asks (config ipv6) learns
 * prefix + its IPv4 host number from a server with pool6; IPv6 packets from
 * that address reach the server's TUN, packets to it reach the client's;
 * other sources are refused as spoofed; a server without pool6 never
 * answers; a client that does not ask gets nothing. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/endpoint.h"
#include "core/ip.h"
#include "core/noise.h"
#include "core/ra.h"
#include "testrng.h"

static void fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    rnd_bytes(buf, len);
}

struct net {
    struct tg_client *c;
    struct tg_server *s;
    tg_time now;
    unsigned to_server, to_client; /* datagrams moved */
    uint8_t srv_tun[4][1600];      /* the last packets of each TUN */
    size_t srv_tun_len, cli_tun_len, n_srv_tun, n_cli_tun;
    uint8_t cli_tun[1600];
};

static const uint8_t POOL6[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x85};

static void move(struct net *n)
{
    for (int round = 0; round < 20; round++) {
        bool any = false;
        struct tg_datagram d;
        const struct tg_key_addr from = {
            .type = TG_ADDR_IPV4, .addr = {192, 0, 2, 2}, .port = 40000};
        while (tg_client_next_datagram(n->c, &d)) {
            uint8_t buf[2048];
            memcpy(buf, d.data, d.len);
            (void)tg_server_udp_input(n->s, 0, &from, buf, d.len, n->now);
            n->to_server++;
            any = true;
        }
        while (tg_server_next_datagram(n->s, &d)) {
            uint8_t buf[2048];
            memcpy(buf, d.data, d.len);
            (void)tg_client_udp_input(n->c, 0, buf, d.len, n->now);
            n->to_client++;
            any = true;
        }
        const uint8_t *p;
        size_t len;
        while (tg_server_next_tun_packet(n->s, &p, &len)) {
            memcpy(n->srv_tun[0], p, len < 1600 ? len : 1600);
            n->srv_tun_len = len;
            n->n_srv_tun++;
        }
        while (tg_client_next_tun_packet(n->c, &p, &len)) {
            memcpy(n->cli_tun, p, len < 1600 ? len : 1600);
            n->cli_tun_len = len;
            n->n_cli_tun++;
        }
        struct tg_event ev;
        while (tg_server_next_event(n->s, &ev) || tg_client_next_event(n->c, &ev)) {
        }
        if (!any)
            return;
    }
}

/* Advance to `until`, firing every deadline on the way. */
static void run(struct net *n, tg_time until)
{
    while (n->now < until) {
        tg_time t = tg_time_min(tg_client_next_deadline(n->c), tg_server_next_deadline(n->s));
        n->now = t > n->now && t < until ? t : (t <= n->now ? n->now + 1 : until);
        if (n->now >= tg_client_next_deadline(n->c))
            tg_client_on_timeout(n->c, n->now);
        if (n->now >= tg_server_next_deadline(n->s))
            tg_server_on_timeout(n->s, n->now);
        move(n);
    }
}

static void net_init(struct net *n, bool pool6, bool ask)
{
    memset(n, 0, sizeof *n);
    struct tg_rng rng = {.fill = fill};
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    rnd_bytes(sc.static_private, 32);
    if (pool6) {
        memcpy(sc.pool6_addr, POOL6, 16);
        sc.pool6_prefix = 64;
    }
    struct tg_client_config cc;
    tg_client_config_default(&cc);
    tg_noise_public_key(sc.static_private, cc.server_public);
    cc.ipv6 = ask;
    n->now = TG_SEC(1);
    CHECK_EQ(tg_server_new(&sc, &rng, NULL, n->now, &n->s), TG_OK);
    CHECK_EQ(tg_client_new(&cc, &rng, NULL, n->now, &n->c), TG_OK);
    CHECK_EQ(tg_client_uplink_up(n->c, 0, n->now), TG_OK);
    move(n);
    run(n, n->now + TG_MSEC(10));
    CHECK(tg_client_session_up(n->c, NULL));
}

static void net_free(struct net *n)
{
    tg_client_free(n->c);
    tg_server_free(n->s);
}

/* An IPv6/UDP packet src -> dst with 8 bytes of payload, checksum filled. */
static size_t udp6(uint8_t *p, const uint8_t src[16], const uint8_t dst[16])
{
    memset(p, 0, 56);
    p[0] = 0x60;
    p[5] = 16;
    p[6] = 17;
    p[7] = 64;
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
    p[40] = 0x30, p[41] = 0x39, p[42] = 0x00, p[43] = 0x35; /* 12345 -> 53 */
    p[45] = 16;
    memcpy(p + 48, "payload!", 8);
    uint8_t ph[8] = {0, 0, 0, 16, 0, 0, 0, 17};
    uint32_t s = tg_ip_sum(p + 8, 32, 0);
    s = tg_ip_sum(ph, 8, s);
    uint16_t c = tg_ip_fold(tg_ip_sum(p + 40, 16, s));
    p[46] = (uint8_t)(c >> 8), p[47] = (uint8_t)c;
    return 56;
}

static void with_pool6(void)
{
    struct net n;
    net_init(&n, true, true);
    uint8_t a6[16], plen = 0, a4[4];
    CHECK(tg_client_session_up(n.c, a4));
    CHECK(tg_client_tunnel_addr6(n.c, a6, &plen));
    CHECK_EQ(plen, 64);
    uint8_t want[16];
    tg_ra_addr(POOL6, 64, a4[3] | (uint32_t)a4[2] << 8, want); /* /16 pool: two host bytes */
    CHECK_MEM(a6, want, 16);
    CHECK_EQ(n.n_cli_tun, 0); /* the advertisement is not given to the TUN */
    CHECK_EQ(tg_client_next_deadline(n.c) == n.now, 0);

    /* client -> server: from its address it reaches the server's TUN */
    static const uint8_t outside[16] = {0x20, 0x01, 0x0d, 0xb8, 0x01, 0x13, [15] = 2};
    uint8_t pkt[64];
    size_t len = udp6(pkt, a6, outside);
    CHECK_EQ(tg_client_tun_input(n.c, pkt, len, n.now), TG_OK);
    move(&n);
    CHECK_EQ(n.n_srv_tun, 1);
    CHECK_EQ(n.srv_tun_len, len);
    CHECK_MEM(n.srv_tun[0], pkt, len);
    /* ... from another address of the prefix it is spoofed */
    uint64_t spoofed = tg_server_counters(n.s)->drops[TG_DROP_SPOOFED];
    uint8_t other[16];
    tg_ra_addr(POOL6, 64, 200, other);
    len = udp6(pkt, other, outside);
    (void)tg_client_tun_input(n.c, pkt, len, n.now);
    move(&n);
    CHECK_EQ(n.n_srv_tun, 1);
    CHECK_EQ(tg_server_counters(n.s)->drops[TG_DROP_SPOOFED], spoofed + 1);

    /* server -> client: to its address it reaches the client's TUN */
    len = udp6(pkt, outside, a6);
    CHECK_EQ(tg_server_tun_input(n.s, pkt, len, n.now), TG_OK);
    move(&n);
    CHECK_EQ(n.n_cli_tun, 1);
    CHECK_MEM(n.cli_tun, pkt, len);
    /* to nobody's address, to the server's own (host 1), outside the prefix, above the 32 host bits
     */
    uint8_t none[16], server[16], far[16], high[16];
    tg_ra_addr(POOL6, 64, 200, none);
    tg_ra_addr(POOL6, 64, 1, server);
    memcpy(far, outside, 16);
    memcpy(high, a6, 16);
    high[9] = 1;
    const uint8_t *dsts[] = {none, server, far, high};
    for (size_t i = 0; i < 4; i++) {
        len = udp6(pkt, outside, dsts[i]);
        CHECK_EQ(tg_server_tun_input(n.s, pkt, len, n.now), TG_ERR_STATE);
    }
    move(&n);
    CHECK_EQ(n.n_cli_tun, 1);
    net_free(&n);
}

static void without_pool6(void)
{
    struct net n;
    net_init(&n, false, true);
    uint8_t a6[16], plen;
    /* five solicitations a second apart, then no more */
    unsigned before = n.to_server;
    tg_time t0 = n.now;
    run(&n, t0 + TG_SEC(10));
    CHECK(!tg_client_tunnel_addr6(n.c, a6, &plen));
    CHECK(n.to_server - before >= 4);                             /* plus probes and feedback */
    CHECK_EQ(tg_server_counters(n.s)->drops[TG_DROP_SPOOFED], 0); /* asking is no offence */
    /* IPv6 towards a server without a prefix: refused as malformed, nothing crashes */
    uint8_t pkt[64], dst[16];
    tg_ra_addr(POOL6, 64, 2, dst);
    size_t len = udp6(pkt, dst, dst);
    CHECK_EQ(tg_server_tun_input(n.s, pkt, len, n.now), TG_ERR_MALFORMED);
    net_free(&n);
}

/* A client that does not ask gets no address, from a server that has one. */
static void not_asked(void)
{
    struct net n;
    net_init(&n, true, false);
    uint8_t a6[16], plen;
    run(&n, n.now + TG_SEC(3));
    CHECK(!tg_client_tunnel_addr6(n.c, a6, &plen));
    net_free(&n);
}

static void config(void)
{
    struct tg_server_config sc;
    struct tg_server *s;
    struct tg_rng rng = {.fill = fill};
    static const struct {
        uint8_t plen;
        int rc;
    } rows[] = {{0, TG_OK},  {15, TG_ERR_INVAL}, {16, TG_OK},        {64, TG_OK},
                {96, TG_OK}, {97, TG_ERR_INVAL}, {128, TG_ERR_INVAL}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        tg_server_config_default(&sc);
        sc.pool6_prefix = rows[r].plen;
        int rc = tg_server_new(&sc, &rng, NULL, 0, &s);
        CHECK_EQ(rc, rows[r].rc);
        if (rc == TG_OK)
            tg_server_free(s);
    }
}

int main(void)
{
    rng_state = 6;
    config();
    with_pool6();
    without_pool6();
    not_asked();
    return check_exit("test_tunnel6");
}
