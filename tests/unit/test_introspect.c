/* What the endpoints tell their hosts for status and metrics: the live
 * sessions of a server (tg_server_sessions) as sessions come and go, and the
 * entries of a client's NAT table (tg_client_nat_entries) as flows start and
 * time out. One server and many clients, datagrams handed over at once. */
#include "check.h"
#include "harness/harness.h"
#include "core/noise.h"
#include "core/wire.h"

#include <stdlib.h>
#include <string.h>

struct world {
    struct tg_server *srv;
    uint64_t seed;
    struct tg_rng rng;
    struct tg_client_config cc;
    tg_time now;
};

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

static struct tg_key_addr from_of(unsigned k)
{
    struct tg_key_addr a = {
        .type = TG_ADDR_IPV4, .addr = {198, 51, 100, (uint8_t)(1 + k)}, .port = 4000};
    return a;
}

/* Move datagrams between client `c` (at `from`) and the server until both
 * are quiet; the server's datagrams for others are dropped. */
static void exchange(struct world *w, struct tg_client *c, const struct tg_key_addr *from)
{
    static uint8_t buf[TG_MAX_DATAGRAM];
    for (int round = 0; round < 64; round++) {
        unsigned moved = 0;
        struct tg_datagram d;
        while (tg_client_next_datagram(c, &d)) {
            memcpy(buf, d.data, d.len);
            tg_server_udp_input(w->srv, 0, from, buf, d.len, w->now);
            moved++;
        }
        while (tg_server_next_datagram(w->srv, &d)) {
            if (d.to.port != from->port || memcmp(d.to.addr, from->addr, 4) != 0)
                continue;
            memcpy(buf, d.data, d.len);
            tg_client_udp_input(c, 0, buf, d.len, w->now);
            moved++;
        }
        const uint8_t *p;
        size_t len;
        struct tg_event ev;
        while (tg_client_next_tun_packet(c, &p, &len) ||
               tg_server_next_tun_packet(w->srv, &p, &len))
            ;
        while (tg_client_next_event(c, &ev) || tg_server_next_event(w->srv, &ev))
            ;
        if (moved == 0)
            return;
    }
}

static void world_init(struct world *w, bool nat)
{
    memset(w, 0, sizeof *w);
    w->seed = 7;
    w->rng = (struct tg_rng){fill, &w->seed};
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    fill(&w->seed, sc.static_private, sizeof sc.static_private);
    memcpy(sc.pool_addr, (const uint8_t[]){198, 18, 0, 0}, 4);
    sc.pool_prefix = 24;
    tg_client_config_default(&w->cc);
    w->cc.nat = nat;
    tg_noise_public_key(sc.static_private, w->cc.server_public);
    CHECK_EQ(tg_server_new(&sc, &w->rng, NULL, 0, &w->srv), TG_OK);
}

/* A client with a session, or NULL. */
static struct tg_client *connect_one(struct world *w, const struct tg_key_addr *from)
{
    struct tg_client *c;
    w->now += TG_MSEC(50); /* a calm pace: no cookies */
    if (tg_client_new(&w->cc, &w->rng, NULL, w->now, &c) != TG_OK)
        return NULL;
    if (tg_client_uplink_up(c, 0, w->now) == TG_OK)
        exchange(w, c, from);
    if (!tg_client_session_up(c, NULL)) {
        tg_client_free(c);
        return NULL;
    }
    return c;
}

struct seen {
    uint8_t addr[64][4];
    unsigned n, calls;
};

static void collect(void *ctx, const uint8_t addr[4])
{
    struct seen *s = ctx;
    if (s->n < 64)
        memcpy(s->addr[s->n++], addr, 4);
    s->calls++;
}

static bool has(const struct seen *s, const uint8_t addr[4])
{
    for (unsigned i = 0; i < s->n; i++)
        if (memcmp(s->addr[i], addr, 4) == 0)
            return true;
    return false;
}

/* Every live session exactly once, and none that ended. */
static void test_sessions(void)
{
    enum { N = 20 };
    struct world w;
    world_init(&w, false);
    struct seen s = {0};
    CHECK_EQ(tg_server_sessions(w.srv, collect, &s), 0);
    CHECK_EQ(s.calls, 0);
    struct tg_client *c[N];
    uint8_t addr[N][4];
    struct tg_key_addr from[N];
    for (unsigned k = 0; k < N; k++) {
        from[k] = from_of(k);
        c[k] = connect_one(&w, &from[k]);
        CHECK(c[k] != NULL);
        if (c[k] == NULL)
            return;
        CHECK(tg_client_session_up(c[k], addr[k]));
    }
    CHECK_EQ(tg_server_session_count(w.srv), N);
    CHECK_EQ(tg_server_sessions(w.srv, collect, &s), N);
    CHECK_EQ(s.calls, N);
    for (unsigned k = 0; k < N; k++) {
        CHECK(has(&s, addr[k]));
        for (unsigned j = 0; j < k; j++)
            CHECK(memcmp(s.addr[j], s.addr[k], 4) != 0); /* each once */
        /* what the iterator names can be looked at */
        struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
        CHECK_EQ(tg_server_snapshot(w.srv, s.addr[k], snap, TG_MAX_UPLINKS), 1);
    }
    /* every third client leaves: its session is not listed any more */
    for (unsigned k = 0; k < N; k += 3) {
        w.now += TG_MSEC(1);
        tg_client_close(c[k], w.now);
        exchange(&w, c[k], &from[k]);
    }
    unsigned left = N - (N + 2) / 3;
    memset(&s, 0, sizeof s);
    CHECK_EQ(tg_server_session_count(w.srv), left);
    CHECK_EQ(tg_server_sessions(w.srv, collect, &s), left);
    CHECK_EQ(s.calls, left);
    for (unsigned k = 0; k < N; k++)
        CHECK_EQ(has(&s, addr[k]), k % 3 != 0);
    /* the others go idle and end: none listed */
    w.now += TG_SEC(400);
    tg_server_on_timeout(w.srv, w.now);
    memset(&s, 0, sizeof s);
    CHECK_EQ(tg_server_sessions(w.srv, collect, &s), 0);
    CHECK_EQ(s.calls, 0);
    for (unsigned k = 0; k < N; k++)
        tg_client_free(c[k]);
    tg_server_free(w.srv);
}

/* A TUN packet from a foreign source, UDP 40000 -> 5001. */
static int send_foreign(struct world *w, struct tg_client *c, uint8_t src_last, uint8_t dst_last)
{
    uint8_t pkt[64];
    const uint8_t src[4] = {192, 0, 2, src_last}, dst[4] = {203, 0, 113, dst_last};
    uint16_t len = h_packet(pkt, src, dst, 1, 64);
    return tg_client_tun_input(c, pkt, len, w->now);
}

static void test_nat_entries(void)
{
    struct world w;
    world_init(&w, true);
    struct tg_key_addr from = from_of(0);
    struct tg_client *c;
    CHECK_EQ(tg_client_new(&w.cc, &w.rng, NULL, w.now, &c), TG_OK);
    CHECK_EQ(tg_client_nat_entries(c), 0); /* no session, no table */
    tg_client_free(c);
    c = connect_one(&w, &from);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    uint8_t me[4];
    CHECK(tg_client_session_up(c, me));
    CHECK_EQ(tg_client_nat_entries(c), 0);
    /* the tunnel address's own packets need no mapping */
    uint8_t pkt[64];
    const uint8_t out[4] = {203, 0, 113, 7};
    uint16_t len = h_packet(pkt, me, out, 1, 64);
    CHECK_EQ(tg_client_tun_input(c, pkt, len, w.now), TG_OK);
    CHECK_EQ(tg_client_nat_entries(c), 0);
    /* each new flow from a foreign source: one mapping; the same flow again: none more */
    struct {
        uint8_t src, dst;
        uint32_t entries;
    } rows[] = {{10, 7, 1}, {10, 7, 1}, {10, 8, 2}, {11, 7, 3}, {11, 7, 3}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        w.now += TG_MSEC(10);
        CHECK_EQ(send_foreign(&w, c, rows[i].src, rows[i].dst), TG_OK);
        CHECK_EQ(tg_client_nat_entries(c), rows[i].entries);
        exchange(&w, c, &from);
    }
    /* UDP mappings live 3 minutes after their last packet: still there at
     * 3 min - 1 s, gone after the timeout call past it */
    tg_time last = w.now;
    tg_client_on_timeout(c, last + TG_SEC(179));
    CHECK_EQ(tg_client_nat_entries(c), 3);
    tg_client_on_timeout(c, last + TG_SEC(181));
    CHECK_EQ(tg_client_nat_entries(c), 0);
    tg_client_free(c);
    tg_server_free(w.srv);

    /* without NAT the foreign packet goes as it is and nothing is counted */
    world_init(&w, false);
    c = connect_one(&w, &from);
    CHECK(c != NULL);
    if (c == NULL)
        return;
    send_foreign(&w, c, 10, 7);
    CHECK_EQ(tg_client_nat_entries(c), 0);
    tg_client_free(c);
    tg_server_free(w.srv);
}

int main(void)
{
    test_sessions();
    test_nat_entries();
    return check_exit("test_introspect");
}
