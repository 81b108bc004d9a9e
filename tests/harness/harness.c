#include "harness.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/ip.h"
#include "core/noise.h"
#include "core/wire.h"

static const uint8_t outside[4] = {203, 0, 113, 7};

/* Deterministic RNG for the cores: splitmix64 over a seed. */
static void h_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        *s += 0x9e3779b97f4a7c15u;
        uint64_t z = *s;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}
static uint64_t client_seed = 1, server_seed = 2;
tg_time h_rekey_after_us;
uint32_t h_client_max_packet;
tg_time h_playout_max_us;
uint32_t h_uplink_queue_limit;
uint32_t h_light_flow_rate;

uint16_t h_packet(uint8_t *buf, const uint8_t src[4], const uint8_t dst[4], uint64_t seq,
                  uint16_t len)
{
    if (len < 36)
        len = 36;
    memset(buf, 0, len);
    buf[0] = 0x45;
    buf[2] = (uint8_t)(len >> 8);
    buf[3] = (uint8_t)len;
    buf[8] = 64;
    buf[9] = TG_PROTO_UDP;
    memcpy(buf + 12, src, 4);
    memcpy(buf + 16, dst, 4);
    uint16_t c = tg_ip_fold(tg_ip_sum(buf, 20, 0));
    buf[10] = (uint8_t)(c >> 8);
    buf[11] = (uint8_t)c;
    buf[20] = 0x9c; /* ports 40000 -> 5001 */
    buf[21] = 0x40;
    buf[22] = 0x13;
    buf[23] = 0x89;
    uint16_t ulen = (uint16_t)(len - 20);
    buf[24] = (uint8_t)(ulen >> 8);
    buf[25] = (uint8_t)ulen;
    for (int i = 0; i < 8; i++)
        buf[28 + i] = (uint8_t)(seq >> (8 * i));
    for (uint16_t i = 36; i < len; i++)
        buf[i] = (uint8_t)(seq + i);
    return len;
}

static uint64_t packet_seq(const uint8_t *p, size_t len)
{
    uint64_t s = 0;
    if (len < 36)
        return UINT64_MAX;
    for (int i = 0; i < 8; i++)
        s |= (uint64_t)p[28 + i] << (8 * i);
    return s;
}

static bool earlier(const struct h_flight *a, const struct h_flight *b)
{
    return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static void heap_push(struct h_net *n, const struct h_flight *f)
{
    if (n->n_flights == H_MAX_INFLIGHT)
        return;
    uint32_t i = n->n_flights++;
    n->flights[i] = *f;
    while (i > 0) {
        uint32_t parent = (i - 1) / 2;
        if (!earlier(&n->flights[i], &n->flights[parent]))
            break;
        struct h_flight t = n->flights[i];
        n->flights[i] = n->flights[parent];
        n->flights[parent] = t;
        i = parent;
    }
}

static void heap_pop(struct h_net *n, struct h_flight *out)
{
    *out = n->flights[0];
    n->flights[0] = n->flights[--n->n_flights];
    uint32_t i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < n->n_flights && earlier(&n->flights[l], &n->flights[m]))
            m = l;
        if (r < n->n_flights && earlier(&n->flights[r], &n->flights[m]))
            m = r;
        if (m == i)
            break;
        struct h_flight t = n->flights[i];
        n->flights[i] = n->flights[m];
        n->flights[m] = t;
        i = m;
    }
}

static void transmit(struct h_net *n, struct h_link *l, bool to_server, unsigned uplink,
                     const uint8_t *data, size_t len)
{
    if (to_server && n->tap != NULL)
        n->tap(n, uplink, data, len);
    if (to_server && len <= sizeof n->last_join && data[0] == TG_MSG_HS_JOIN) {
        memcpy(n->last_join, data, len);
        n->last_join_len = len;
    }
    if (to_server && len <= sizeof n->last_data && data[0] == TG_MSG_DATA) {
        memcpy(n->last_data, data, len);
        n->last_data_len = len;
    }
    if ((n->now >= l->down_from && n->now < l->down_until) || len > sizeof n->flights[0].data)
        return;
    tg_time start = n->now > l->busy_until ? n->now : l->busy_until;
    if (l->rate_bps && l->queue_bytes && (start - n->now) * l->rate_bps / 8000000u > l->queue_bytes) {
        l->dropped++;
        return;
    }
    tg_time ser = l->rate_bps ? (tg_time)(len * 8 * 1000000u / l->rate_bps) : 0;
    l->busy_until = start + ser;
    struct h_flight f = {.at = start + ser + l->delay_us, .order = n->order++,
                         .to_server = to_server, .uplink = uplink, .len = (uint16_t)len};
    memcpy(f.data, data, len);
    heap_push(n, &f);
}

void h_net_drain(struct h_net *n)
{
    struct tg_datagram d;
    while (tg_client_next_datagram(n->client, &d))
        transmit(n, &n->up[d.uplink], true, d.uplink, d.data, d.len);
    while (tg_server_next_datagram(n->server, &d)) {
        /* the harness encodes the uplink in the client's "address" port */
        unsigned u = d.to.port - 1000;
        if (u < n->n_uplinks && d.to.port == 1000 + u)
            transmit(n, &n->down[u], false, u, d.data, d.len);
        else if (n->foreign != NULL)
            n->foreign(n, &d);
    }
    const uint8_t *p;
    size_t len;
    while (tg_server_next_tun_packet(n->server, &p, &len)) {
        if (n->n_rx_server < H_MAX_RECORD) {
            n->rx_time_at_server[n->n_rx_server] = n->now;
            n->rx_at_server[n->n_rx_server++] = packet_seq(p, len);
        }
    }
    while (tg_client_next_tun_packet(n->client, &p, &len))
        if (n->n_rx_client < H_MAX_RECORD)
            n->rx_at_client[n->n_rx_client++] = packet_seq(p, len);
    struct tg_event ev;
    while (tg_client_next_event(n->client, &ev)) {
        n->rekeys += ev.type == TG_EV_UPLINK_REKEYED;
        if (ev.type == TG_EV_SESSION_UP) {
            n->session_up = true;
            memcpy(n->client_addr, ev.tunnel_addr, 4);
        }
    }
    while (tg_server_next_event(n->server, &ev)) {
    }
}

int h_net_init(struct h_net *n, unsigned uplinks, const tg_time *delay_us,
               enum tg_strategy strategy, enum tg_aggregation agg, const struct tg_allocator *a)
{
    memset(n, 0, sizeof *n);
    if (sodium_init() < 0 || uplinks == 0 || uplinks > TG_MAX_UPLINKS)
        return TG_ERR_INVAL;
    n->n_uplinks = uplinks;
    n->client_host_base = 10;
    for (unsigned i = 0; i < uplinks; i++)
        n->up[i].delay_us = n->down[i].delay_us = delay_us[i];
    n->flights = calloc(H_MAX_INFLIGHT, sizeof *n->flights);
    n->rx_at_server = calloc(H_MAX_RECORD, sizeof(uint64_t));
    n->rx_at_client = calloc(H_MAX_RECORD, sizeof(uint64_t));
    n->rx_time_at_server = calloc(H_MAX_RECORD, sizeof(tg_time));
    if (!n->flights || !n->rx_at_server || !n->rx_at_client || !n->rx_time_at_server)
        return TG_ERR_NOMEM;

    client_seed = 1;
    server_seed = 2;
    struct tg_rng crng = {h_fill, &client_seed}, srng = {h_fill, &server_seed};
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    h_fill(&server_seed, sc.static_private, 32);
    const uint8_t pool[4] = {198, 18, 0, 0};
    memcpy(sc.pool_addr, pool, 4);
    sc.pool_prefix = 24;
    sc.mp.sched.strategy = strategy;
    sc.mp.sched.aggregation = agg;
    sc.mp.playout_max_us = h_playout_max_us;
    if (h_uplink_queue_limit != 0)
        sc.mp.uplink_queue_limit = h_uplink_queue_limit == UINT32_MAX ? 0 : h_uplink_queue_limit;
    if (h_light_flow_rate != 0)
        sc.mp.light_flow_rate = h_light_flow_rate == UINT32_MAX ? 0 : h_light_flow_rate;
    int rc = tg_server_new(&sc, &srng, a, 0, &n->server);
    if (rc != TG_OK)
        return rc;
    tg_noise_public_key(sc.static_private, n->server_public);
    struct tg_client_config cc;
    tg_client_config_default(&cc);
    memcpy(cc.server_public, n->server_public, 32);
    cc.mp.sched.strategy = strategy;
    cc.mp.sched.aggregation = agg;
    cc.mp.playout_max_us = h_playout_max_us;
    if (h_uplink_queue_limit != 0)
        cc.mp.uplink_queue_limit = h_uplink_queue_limit == UINT32_MAX ? 0 : h_uplink_queue_limit;
    if (h_light_flow_rate != 0)
        cc.mp.light_flow_rate = h_light_flow_rate == UINT32_MAX ? 0 : h_light_flow_rate;
    if (h_rekey_after_us)
        cc.mp.rekey_after_us = h_rekey_after_us;
    if (h_client_max_packet)
        cc.mp.max_packet = h_client_max_packet;
    return tg_client_new(&cc, &crng, a, 0, &n->client);
}

void h_net_free(struct h_net *n)
{
    tg_client_free(n->client);
    tg_server_free(n->server);
    free(n->flights);
    free(n->rx_at_server);
    free(n->rx_at_client);
    free(n->rx_time_at_server);
    memset(n, 0, sizeof *n);
}

void h_net_run(struct h_net *n, tg_time until)
{
    for (;;) {
        tg_time t = tg_time_min(tg_client_next_deadline(n->client),
                                tg_server_next_deadline(n->server));
        if (n->n_flights > 0)
            t = tg_time_min(t, n->flights[0].at);
        if (t > until)
            break;
        if (t > n->now)
            n->now = t;
        while (n->n_flights > 0 && n->flights[0].at <= n->now) {
            struct h_flight f;
            heap_pop(n, &f);
            if (f.to_server) {
                struct tg_key_addr from = {.type = TG_ADDR_IPV4,
                                           .addr = {192, 0, 2, (uint8_t)(n->client_host_base + f.uplink)},
                                           .port = (uint16_t)(1000 + f.uplink)};
                tg_server_udp_input(n->server, 0, &from, f.data, f.len, n->now);
            } else {
                tg_client_udp_input(n->client, f.uplink, f.data, f.len, n->now);
            }
            h_net_drain(n);
        }
        if (tg_client_next_deadline(n->client) <= n->now)
            tg_client_on_timeout(n->client, n->now);
        if (tg_server_next_deadline(n->server) <= n->now)
            tg_server_on_timeout(n->server, n->now);
        h_net_drain(n);
    }
    n->now = until;
}

bool h_net_paced_pair(struct h_net *n)
{
    const tg_time d[2] = {TG_MSEC(10), TG_MSEC(30)};
    uint32_t limit = h_uplink_queue_limit;
    h_uplink_queue_limit = 16384; /* under the fast uplink's 32 KB queue */
    int rc = h_net_init(n, 2, d, TG_STRATEGY_ADAPTIVE, TG_AGG_FULL, NULL);
    h_uplink_queue_limit = limit;
    if (rc != TG_OK)
        return false;
    n->up[0].rate_bps = 20000000;
    n->up[0].queue_bytes = 32768;
    n->up[1].rate_bps = 10000000;
    if (!h_net_connect(n, TG_SEC(2)))
        return false;
    h_net_run(n, n->now + TG_SEC(1));
    return true;
}

bool h_net_connect(struct h_net *n, tg_time limit_us)
{
    /* connected = the client has keys on every uplink and the server has
     * confirmed them (its answer to the first PING on each came back) */
    for (unsigned i = 0; i < n->n_uplinks; i++)
        if (tg_client_uplink_up(n->client, i, n->now) != TG_OK)
            return false;
    h_net_drain(n);
    tg_time end = n->now + limit_us;
    while (n->now < end) {
        h_net_run(n, n->now + TG_MSEC(10));
        struct tg_uplink_snapshot s[TG_MAX_UPLINKS];
        size_t k = tg_client_snapshot(n->client, s, TG_MAX_UPLINKS);
        unsigned keyed = 0;
        for (size_t i = 0; i < k; i++)
            keyed += s[i].keyed;
        if (n->session_up && keyed == n->n_uplinks) {
            h_net_run(n, n->now + TG_MSEC(300));
            return true;
        }
    }
    return false;
}

void h_net_send(struct h_net *n, uint64_t seq, uint16_t len, bool from_server)
{
    uint8_t buf[1600];
    if (from_server) {
        uint16_t l = h_packet(buf, outside, n->client_addr, seq, len);
        tg_server_tun_input(n->server, buf, l, n->now);
    } else {
        uint16_t l = h_packet(buf, n->client_addr, outside, seq, len);
        tg_client_tun_input(n->client, buf, l, n->now);
    }
    h_net_drain(n);
}
