/*
 * What a running client tells `triglav status` (text and JSON) and the
 * metrics endpoint (client_int.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_int.h"
#include "log.h"
#include "stats.h"
#include "status.h"

static const char *mode_name(const struct rt_client_opts *o)
{
    return o->full_tunnel ? "full_tunnel" : o->n_routes > 0 ? "split_tunnel" : "subnet_only";
}

/* `status json` (status.h) */
static size_t status_json(struct client *c, const struct tg_uplink_snapshot *snap, size_t n,
                          char *buf, size_t cap)
{
    struct rt_status_client s = {
        .tun = c->tun_name,
        .pid = (int)getpid(),
        .uptime_us = c->now - c->started,
        .server = &c->server,
        .mode = mode_name(c->o),
        .auto_discover = c->o->auto_discover,
        .strategy = tg_strategy_name(c->cfg.mp.sched.strategy),
        .aggregation = tg_aggregation_name(c->cfg.mp.sched.aggregation),
        .session_up = c->configured,
        .tunnel_prefix = c->tun_prefix,
        .counters = tg_client_counters(c->core),
    };
    memcpy(s.tunnel_addr, c->tun_addr, 4);
    for (unsigned k = 0; k < TG_MAX_UPLINKS; k++) {
        const struct uplink *u = &c->up[k];
        if (!u->used)
            continue;
        struct rt_status_uplink *o = &s.up[s.n_up++];
        *o = (struct rt_status_uplink){
            .slot = k,
            .ifname = u->ifname,
            .state = u->up         ? "active"
                     : u->disabled ? "disabled"
                                   : "waiting",
            .pinned = u->pinned,
            .transport = rt_tcpup_carries(&c->tcp, k) ? "tcp" : "udp",
            .has_local = u->up,
            .datagrams_sent = u->tx.sent,
            .datagrams_refused = u->tx.dropped,
            .datagrams_received = u->rx_dgrams,
            .received_bytes = u->rx_bytes,
        };
        memcpy(o->local_ipv4, u->ipv4, 4);
        for (size_t i = 0; i < n; i++)
            if (snap[i].uplink == k)
                o->snap = &snap[i];
    }
    return rt_status_client_json(&s, buf, cap);
}

size_t cl_render(void *ctx, enum rt_ctl_what what, char *buf, size_t cap)
{
    struct client *c = ctx;
    struct rt_text t = {.buf = buf, .cap = cap};
    struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
    const char *names[TG_MAX_UPLINKS] = {0};
    size_t n = tg_client_snapshot(c->core, snap, TG_MAX_UPLINKS);
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (c->up[s].used)
            names[s] = c->up[s].ifname;
    const struct tg_endpoint_counters *k = tg_client_counters(c->core);
    char a[RT_ADDRSTRLEN], b[RT_ADDRSTRLEN];
    struct rt_prefix me = {.len = c->tun_prefix};
    memcpy(me.addr, c->tun_addr, 4);
    if (what == RT_CTL_STATUS_JSON)
        return status_json(c, snap, n, buf, cap);
    if (what == RT_CTL_METRICS) {
        bool up = tg_client_session_up(c->core, NULL);
        struct rt_metrics_peer peer = {.up = snap, .n = n};
        struct rt_metrics m = {.counters = k,
                               .connection_state = rt_stats_connection_state(up, snap, n),
                               .nat_entries = tg_client_nat_entries(c->core),
                               .names = names,
                               .peers = &peer,
                               .n_peers = 1};
        rt_stats_prometheus(&t, &m);
        return t.len;
    }
    char v6[RT_ADDRSTRLEN + 8] = "";
    if (c->has6)
        snprintf(v6, sizeof v6, " and %s", rt_prefix6_str(c->tun_addr6, c->tun_prefix6, b));
    rt_text_add(&t, "triglav tun %s: %s%s, server %s, %s\n", c->tun_name,
                c->configured ? rt_prefix_str(&me, a) : "connecting", v6,
                rt_addr_str(&c->server, b),
                c->o->full_tunnel    ? "full tunnel"
                : c->o->n_routes > 0 ? "split tunnel"
                                     : "tunnel subnet only");
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (c->up[s].used && rt_tcpup_carries(&c->tcp, s))
            rt_text_add(&t,
                        "uplink %s carries its datagrams over TCP (its network answers no "
                        "UDP)\n",
                        c->up[s].ifname);
    rt_stats_table(&t, snap, n, names, &c->rates, c->now);
    rt_text_add(&t, "TUN packets in %llu out %llu, datagrams in %llu out %llu, failovers %llu\n",
                (unsigned long long)k->tun_in, (unsigned long long)k->tun_out,
                (unsigned long long)k->dgram_in, (unsigned long long)k->dgram_out,
                (unsigned long long)k->failovers);
    return t.len;
}

/* A sample of the uplinks' byte counters once a second, for the measured
 * throughput of `status`. */
void cl_sample_rates(struct client *c, tg_time now)
{
    if (!rt_uplink_rates_due(&c->rates, now))
        return;
    struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
    size_t n = tg_client_snapshot(c->core, snap, TG_MAX_UPLINKS);
    rt_uplink_rates_update(&c->rates, now, snap, n);
}
