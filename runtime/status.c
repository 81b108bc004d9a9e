/* `status json`: the client's and the server's state as JSON (status.h;
 * the schema is documented in runtime/README.md). */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "status.h"

#ifndef TG_VERSION
#define TG_VERSION "0"
#endif

static void u64(struct rt_text *t, const char *key, uint64_t v)
{
    rt_text_add(t, "\"%s\":%llu,", key, (unsigned long long)v);
}

static void str(struct rt_text *t, const char *key, const char *v)
{
    rt_text_add(t, "\"%s\":", key);
    if (v == NULL)
        rt_text_add(t, "null");
    else
        rt_json_str(t, v);
    rt_text_add(t, ",");
}

/* "<akey>": "a.b.c.d", "<pkey>": port (or nulls) */
static void endpoint(struct rt_text *t, const char *akey, const char *pkey,
                     const struct tg_key_addr *a)
{
    char b[INET6_ADDRSTRLEN];
    if (a == NULL || (a->type != TG_ADDR_IPV4 && a->type != TG_ADDR_IPV6) ||
        inet_ntop(a->type == TG_ADDR_IPV4 ? AF_INET : AF_INET6, a->addr, b, sizeof b) == NULL) {
        rt_text_add(t, "\"%s\":null,\"%s\":null,", akey, pkey);
        return;
    }
    str(t, akey, b);
    rt_text_add(t, "\"%s\":%u,", pkey, (unsigned)a->port);
}

static void end_object(struct rt_text *t, const char *close)
{
    /* the members above each end with ','; replace the last one */
    if (t->len > 0 && t->buf[t->len - 1] == ',')
        t->len--;
    rt_text_add(t, "%s", close);
}

static void snapshot(struct rt_text *t, const struct tg_uplink_snapshot *u, bool server)
{
    if (u == NULL) {
        static const char *const null_keys[] = {
            "keyed", "health", "srtt_us", "rttvar_us", "min_rtt_us", "owd_us", "loss_ratio",
            "delivery_rate_bps", "queued_bytes", "keys_age_us", "tx_packets", "tx_bytes",
            "rx_packets", "rx_bytes", "delivered_bytes", "probes_sent", "probes_lost", "mapped_address",
            "mapped_port"};
        for (size_t i = 0; i < sizeof null_keys / sizeof null_keys[0]; i++)
            rt_text_add(t, "\"%s\":null,", null_keys[i]);
        return;
    }
    rt_text_add(t, "\"keyed\":%s,", u->keyed ? "true" : "false");
    str(t, "health", rt_health_name(u->health));
    u64(t, "srtt_us", u->srtt_us);
    u64(t, "rttvar_us", u->rttvar_us);
    u64(t, "min_rtt_us", u->min_rtt_us == TG_TIME_NEVER ? 0 : u->min_rtt_us);
    rt_text_add(t, "\"owd_us\":%lld,", (long long)u->owd_us);
    rt_text_add(t, "\"loss_ratio\":%.6f,", u->loss);
    rt_text_add(t, "\"delivery_rate_bps\":%.0f,", u->rate_bps);
    u64(t, "queued_bytes", u->queued_bytes);
    u64(t, "keys_age_us", u->keys_age_us);
    u64(t, "tx_packets", u->tx_packets);
    u64(t, "tx_bytes", u->tx_bytes);
    u64(t, "rx_packets", u->rx_packets);
    u64(t, "rx_bytes", u->rx_bytes);
    u64(t, "delivered_bytes", u->peer_rx_bytes);
    u64(t, "probes_sent", u->probes_sent);
    u64(t, "probes_lost", u->probes_lost);
    if (server)
        endpoint(t, "peer_address", "peer_port", &u->mapped);
    else
        endpoint(t, "mapped_address", "mapped_port", &u->mapped);
}

static void counters(struct rt_text *t, const struct tg_endpoint_counters *k)
{
    rt_text_add(t, "\"counters\":{");
    u64(t, "tun_in_packets", k->tun_in);
    u64(t, "tun_out_packets", k->tun_out);
    u64(t, "tun_in_bytes", k->tun_in_bytes);
    u64(t, "tun_out_bytes", k->tun_out_bytes);
    u64(t, "datagrams_in", k->dgram_in);
    u64(t, "datagrams_out", k->dgram_out);
    u64(t, "handshakes_sent", k->handshakes_sent);
    u64(t, "handshakes_done", k->handshakes_done);
    u64(t, "cookies", k->cookies_sent);
    u64(t, "reorder_peak_packets", k->reorder_peak);
    u64(t, "failovers", k->failovers);
    u64(t, "retransmitted_packets", k->retransmitted);
    u64(t, "nacks_sent", k->nacks_sent);
    rt_text_add(t, "\"drops\":{");
    for (int d = 0; d < TG_DROP_COUNT; d++)
        u64(t, tg_drop_name((enum tg_drop)d), k->drops[d]);
    end_object(t, "}");
    end_object(t, "},");
}

static void head(struct rt_text *t, const char *role, const char *tun, int pid, tg_time up)
{
    rt_text_add(t, "{\"schema_version\":%d,", RT_STATUS_SCHEMA);
    str(t, "role", role);
    str(t, "version", TG_VERSION);
    str(t, "tun", tun);
    rt_text_add(t, "\"pid\":%d,", pid);
    u64(t, "uptime_us", up);
}

size_t rt_status_client_json(const struct rt_status_client *s, char *buf, size_t cap)
{
    struct rt_text t = {.buf = buf, .cap = cap};
    char a[RT_ADDRSTRLEN];
    head(&t, "client", s->tun, s->pid, s->uptime_us);
    endpoint(&t, "server_address", "server_port", s->server);
    str(&t, "mode", s->mode);
    rt_text_add(&t, "\"auto_discover\":%s,", s->auto_discover ? "true" : "false");
    str(&t, "strategy", s->strategy);
    str(&t, "aggregation", s->aggregation);
    rt_text_add(&t, "\"session\":{\"up\":%s,", s->session_up ? "true" : "false");
    if (s->session_up) {
        uint8_t srv[4];
        str(&t, "tunnel_address", rt_ipv4_str(s->tunnel_addr, a));
        rt_text_add(&t, "\"tunnel_prefix_len\":%u,", (unsigned)s->tunnel_prefix);
        rt_status_server_addr(s->tunnel_addr, s->tunnel_prefix, srv);
        str(&t, "server_tunnel_address", rt_ipv4_str(srv, a));
    } else {
        rt_text_add(&t, "\"tunnel_address\":null,\"tunnel_prefix_len\":null,"
                        "\"server_tunnel_address\":null,");
    }
    end_object(&t, "},");
    rt_text_add(&t, "\"uplinks\":[");
    for (size_t i = 0; i < s->n_up; i++) {
        const struct rt_status_uplink *u = &s->up[i];
        rt_text_add(&t, "{\"slot\":%u,", u->slot);
        str(&t, "interface", u->ifname);
        str(&t, "state", u->state);
        rt_text_add(&t, "\"pinned\":%s,", u->pinned ? "true" : "false");
        rt_text_add(&t, "\"transport\":\"%s\",", u->transport != NULL ? u->transport : "udp");
        str(&t, "local_address", u->has_local ? rt_ipv4_str(u->local_ipv4, a) : NULL);
        u64(&t, "datagrams_sent", u->datagrams_sent);
        u64(&t, "datagrams_refused", u->datagrams_refused);
        u64(&t, "datagrams_received", u->datagrams_received);
        u64(&t, "received_bytes", u->received_bytes);
        snapshot(&t, u->snap, false);
        end_object(&t, i + 1 < s->n_up ? "}," : "}");
    }
    rt_text_add(&t, "],");
    counters(&t, s->counters);
    end_object(&t, "}\n");
    return t.len;
}

void rt_status_server_addr(const uint8_t addr[4], uint8_t prefix, uint8_t out[4])
{
    uint32_t v = (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 | (uint32_t)addr[2] << 8 | addr[3];
    uint32_t mask = prefix == 0 ? 0 : 0xffffffffu << (32 - prefix);
    v = (v & mask) + 1;
    for (int k = 0; k < 4; k++)
        out[k] = (uint8_t)(v >> (24 - 8 * k));
}

size_t rt_status_server_json(const struct rt_status_server *s, char *buf, size_t cap)
{
    struct rt_text t = {.buf = buf, .cap = cap};
    char a[RT_ADDRSTRLEN];
    uint8_t me[4];
    head(&t, "server", s->tun, s->pid, s->uptime_us);
    str(&t, "pool", rt_prefix_str(&s->pool, a));
    rt_status_server_addr(s->pool.addr, s->pool.len, me);
    str(&t, "tunnel_address", rt_ipv4_str(me, a));
    rt_text_add(&t, "\"listen\":[");
    for (int i = 0; i < s->n_listen; i++) {
        rt_json_str(&t, rt_addr_str(&s->listen[i], a));
        rt_text_add(&t, i + 1 < s->n_listen ? "," : "");
    }
    rt_text_add(&t, "],\"services\":{");
    if (s->discard_tcp_port != 0)
        rt_text_add(&t, "\"discard_tcp_port\":%d,", s->discard_tcp_port);
    else
        rt_text_add(&t, "\"discard_tcp_port\":null,");
    if (s->echo_udp_port != 0)
        rt_text_add(&t, "\"echo_udp_port\":%d,", s->echo_udp_port);
    else
        rt_text_add(&t, "\"echo_udp_port\":null,");
    u64(&t, "discarded_bytes", s->discarded_bytes);
    u64(&t, "echoed_datagrams", s->echoed_datagrams);
    end_object(&t, "");
    rt_text_add(&t, "},\"session_count\":%u,\"sessions\":[", tg_server_session_count(s->core));
    bool first = true;
    for (int i = 0; i < s->n_clients; i++) {
        struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
        size_t n = tg_server_snapshot(s->core, s->clients[i], snap, TG_MAX_UPLINKS);
        if (n == 0)
            continue;
        rt_text_add(&t, "%s{", first ? "" : ",");
        first = false;
        str(&t, "tunnel_address", rt_ipv4_str(s->clients[i], a));
        rt_text_add(&t, "\"uplinks\":[");
        for (size_t k = 0; k < n; k++) {
            rt_text_add(&t, "{\"slot\":%u,", snap[k].uplink);
            snapshot(&t, &snap[k], true);
            end_object(&t, k + 1 < n ? "}," : "}");
        }
        rt_text_add(&t, "]}");
    }
    rt_text_add(&t, "],");
    counters(&t, s->counters);
    end_object(&t, "}\n");
    return t.len;
}
