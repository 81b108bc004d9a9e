/*
 * `triglav server`: listening UDP sockets, a TUN that owns the first
 * address of the pool, the core's server endpoint in between, and the
 * kernel's forwarding with an nftables masquerade (table `ip triglav`, or
 * `ip triglav_<tun>` for a TUN other than tgsrv0) to
 * the egress. Everything it changes is journaled and undone on exit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "core/wire.h"
#include "control.h"
#include "journal.h"
#include "keyfile.h"
#include "log.h"
#include "host.h"
#include "loop.h"
#include "netlink.h"
#include "offload.h"
#include "opts.h"
#include "pool6.h"
#include "stats.h"
#include "status.h"
#include "svc.h"
#include "sys.h"
#include "tcplisten.h"
#include "tun.h"
#include "udp.h"

enum { TAG_TUN = 100 };

struct listener {
    int fd;
    struct tg_key_addr addr;
    struct rt_tx_batch tx;
};

struct server {
    struct rt_server_opts *o;
    struct tg_server *core;
    struct rt_loop loop;
    struct rt_nl nl;
    struct rt_journal j;
    bool journal_open;
    struct rt_tun_io tun; /* host.h */
    char tun_name[16];
    int tun_ifindex;
    struct listener ls[RT_MAX_LISTEN];
    int n_ls;
    uint8_t priv[32];
    struct rt_rate down, up; /* measured throughput to and from clients, for `status` */
    struct rt_peer_rates peer_rates; /* ... and to and from each client */
    bool stop;
    struct rt_rx_batch rx;
    tg_time now;
    unsigned fed; /* datagrams from TCP fallback connections since the last drain */
    struct rt_control ctl;
    bool ctl_open;
    struct rt_svc svc; /* discard and echo on the tunnel address (benchmark) */
    bool svc_open;
    struct rt_tcp_listen tcp; /* the TCP fallback (tcplisten.h) */
    bool tcp_open;
    tg_time next_tcp_tick;
    tg_time started, last_now;
};

/* The tunnel addresses of every live session, in address order: status,
 * metrics and the exit log list each one. */
struct live {
    uint8_t (*addr)[4];
    size_t n, cap;
};

static void live_add(void *ctx, const uint8_t addr[4])
{
    struct live *l = ctx;
    if (l->n < l->cap)
        memcpy(l->addr[l->n++], addr, 4);
}

static int addr_cmp(const void *a, const void *b)
{
    return memcmp(a, b, 4);
}

/* Fills l (free l->addr afterwards); false without memory. */
static bool live_sessions(const struct server *s, struct live *l)
{
    l->n = 0;
    l->cap = tg_server_session_count(s->core);
    l->addr = malloc((l->cap > 0 ? l->cap : 1) * sizeof *l->addr);
    if (l->addr == NULL)
        return false;
    tg_server_sessions(s->core, live_add, l);
    qsort(l->addr, l->n, sizeof *l->addr, addr_cmp);
    return true;
}

/* Every session's uplinks, for the metrics: peers[i].up points into *snaps
 * (free both). Returns the number of peers, or -1 without memory. */
static long gather(const struct server *s, const struct live *l, struct rt_metrics_peer **peers,
                   struct tg_uplink_snapshot **snaps)
{
    size_t used = 0, cap = l->n * 2 + TG_MAX_UPLINKS;
    *peers = calloc(l->n > 0 ? l->n : 1, sizeof **peers);
    *snaps = malloc(cap * sizeof **snaps);
    if (*peers == NULL || *snaps == NULL)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        if (cap - used < TG_MAX_UPLINKS) {
            struct tg_uplink_snapshot *g = realloc(*snaps, cap * 2 * sizeof *g);
            if (g == NULL)
                return -1;
            *snaps = g;
            cap *= 2;
        }
        memcpy((*peers)[i].addr, l->addr[i], 4);
        (*peers)[i].n = tg_server_snapshot(s->core, l->addr[i], *snaps + used, TG_MAX_UPLINKS);
        used += (*peers)[i].n;
    }
    for (size_t i = 0, at = 0; i < l->n; at += (*peers)[i].n, i++)
        (*peers)[i].up = *snaps + at; /* now that the array moves no more */
    return (long)l->n;
}

static size_t render(void *ctx, enum rt_ctl_what what, char *buf, size_t cap)
{
    struct server *s = ctx;
    struct rt_text t = {.buf = buf, .cap = cap};
    struct live l;
    if (!live_sessions(s, &l)) {
        rt_text_add(&t, "out of memory\n");
        return t.len;
    }
    const struct tg_endpoint_counters *k = tg_server_counters(s->core);
    char a[RT_ADDRSTRLEN];
    if (what == RT_CTL_STATUS_JSON) {
        struct rt_status_server j = {
            .tun = s->tun_name, .pid = (int)getpid(), .uptime_us = s->last_now - s->started,
            .pool = s->o->pool, .listen = s->o->listen, .n_listen = s->o->n_listen,
            .core = s->core, .clients = (const uint8_t(*)[4])l.addr,
            .n_clients = (int)l.n, .counters = k,
            .discard_tcp_port = s->svc_open ? RT_SVC_DISCARD_PORT : 0,
            .echo_udp_port = s->svc_open ? RT_SVC_ECHO_PORT : 0,
            .discarded_bytes = s->svc.discarded_bytes,
            .echoed_datagrams = s->svc.echoed_datagrams};
        t.len = rt_status_server_json(&j, buf, cap);
    } else if (what == RT_CTL_METRICS) {
        struct rt_metrics_peer *peers = NULL;
        struct tg_uplink_snapshot *snaps = NULL;
        long np = gather(s, &l, &peers, &snaps);
        struct rt_metrics m = {.server = true, .counters = k,
                               .sessions = tg_server_session_count(s->core), .peers = peers,
                               .n_peers = np > 0 ? (size_t)np : 0};
        if (np >= 0)
            rt_stats_prometheus(&t, &m);
        else
            rt_text_add(&t, "# out of memory\n");
        free(peers);
        free(snaps);
    } else {
        tg_time now = s->last_now;
        rt_text_add(&t, "triglav server %s: %u sessions, pool %s\n", s->tun_name,
                    tg_server_session_count(s->core), rt_prefix_str(&s->o->pool, a));
        for (int i = 0; i < s->n_ls; i++)
            rt_text_add(&t, "listening on %s%s\n", rt_addr_str(&s->ls[i].addr, a),
                        s->tcp_open ? " (UDP, and TCP for the fallback)" : "");
        if (s->tcp_open)
            rt_text_add(&t, "TCP fallback: %d connections open, %llu datagrams in, %llu out\n",
                        rt_tcp_open_count(&s->tcp.t), (unsigned long long)s->tcp.frames_in,
                        (unsigned long long)s->tcp.frames_out);
        rt_text_add(&t, "through the tunnel now: %.2f Mbit/s to clients, %.2f Mbit/s from "
                        "clients (measured over the last %.0f s)\n",
                    rt_rate_bps(&s->down, now, k->tun_in_bytes) / 1e6,
                    rt_rate_bps(&s->up, now, k->tun_out_bytes) / 1e6,
                    (double)RT_RATE_INTERVAL_US / 1e6);
        for (size_t i = 0; i < l.n; i++) {
            struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
            size_t n = tg_server_snapshot(s->core, l.addr[i], snap, TG_MAX_UPLINKS);
            double to, from;
            bool measured = rt_peer_rates_get(&s->peer_rates, l.addr[i], &to, &from);
            rt_text_add(&t, "client %s: %u of %zu uplinks active", rt_ipv4_str(l.addr[i], a),
                        rt_stats_active_uplinks(snap, n), n);
            if (measured)
                rt_text_add(&t, ", now %.2f Mbit/s sent to it, %.2f Mbit/s of data from it",
                            to / 1e6, from / 1e6);
            rt_text_add(&t, "\n");
            rt_stats_table(&t, snap, n, NULL, NULL, now);
        }
        rt_text_add(&t, "TUN packets in %llu out %llu, datagrams in %llu out %llu\n",
                    (unsigned long long)k->tun_in, (unsigned long long)k->tun_out,
                    (unsigned long long)k->dgram_in, (unsigned long long)k->dgram_out);
    }
    free(l.addr);
    return t.len;
}

/* Each client's byte counters once a second, for its measured throughput
 * in `status` (O(sessions) a second). */
static void sample_peers(struct server *s, tg_time now)
{
    struct live l;
    struct rt_metrics_peer *peers = NULL;
    struct tg_uplink_snapshot *snaps = NULL;
    if (!rt_peer_rates_due(&s->peer_rates, now))
        return;
    if (live_sessions(s, &l)) {
        long np = gather(s, &l, &peers, &snaps);
        if (np >= 0)
            rt_peer_rates_update(&s->peer_rates, now, peers, (size_t)np);
    }
    free(l.addr);
    free(peers);
    free(snaps);
}

static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

/* Addresses to put in the tg1_ key: --advertise, else the listen addresses,
 * with a wildcard replaced by the address of the interface that holds the
 * default route. */
static size_t key_addrs(const struct rt_server_opts *o, struct rt_nl *nl, struct tg_key_addr *out)
{
    if (o->n_advertise > 0) {
        memcpy(out, o->advertise, (size_t)o->n_advertise * sizeof *out);
        return (size_t)o->n_advertise;
    }
    size_t n = 0;
    struct rt_iface ifs[64];
    int ni = nl != NULL ? rt_nl_ifaces(nl, ifs, 64) : 0;
    for (int i = 0; i < o->n_listen; i++) {
        struct tg_key_addr a = o->listen[i];
        if (rt_addr_is_any(&a)) {
            bool found = false, v6 = a.type == TG_ADDR_IPV6;
            for (int k = 0; k < ni && !found; k++)
                if (v6 ? ifs[k].has_default6 && ifs[k].has_ipv6
                       : ifs[k].has_default && ifs[k].has_ipv4) {
                    memcpy(a.addr, v6 ? ifs[k].ipv6 : ifs[k].ipv4, v6 ? 16 : 4);
                    found = true;
                }
            if (!found) {
                rt_warn("listening on a wildcard %s address and no %s default route: the key "
                        "has no address for it; pass --advertise IP:PORT",
                        v6 ? "IPv6" : "IPv4", v6 ? "IPv6" : "IPv4");
                continue;
            }
        }
        out[n++] = a;
    }
    return n;
}

/* Print the tg1_ key of priv (also into key[TG_KEY_STRING_MAX]). */
static int print_key_of(const struct rt_server_opts *o, struct rt_nl *nl, const uint8_t priv[32],
                        char *key)
{
    uint8_t pub[32];
    struct tg_key_addr addrs[RT_MAX_LISTEN];
    rt_key_public(priv, pub);
    size_t n = key_addrs(o, nl, addrs);
    int rc = rt_key_string(pub, addrs, n, key, TG_KEY_STRING_MAX);
    if (rc != TG_OK) {
        rt_err("cannot encode the key: %s", tg_strerror(rc));
        return 1;
    }
    printf("%s\n", key);
    fflush(stdout);
    return 0;
}

static int print_key(struct server *s)
{
    char key[TG_KEY_STRING_MAX];
    if (print_key_of(s->o, &s->nl, s->priv, key) != 0)
        return 1;
    rt_info("clients connect with: sudo triglav tun %s -i IFACE ...", key);
    return 0;
}

int rt_server_print_key(const struct rt_server_opts *o)
{
    uint8_t priv[32];
    char err[400];
    struct rt_nl nl;
    rt_log_init(RT_LOG_INFO);
    if (rt_keyfile_read(o->key_file, priv, err, sizeof err) != 0) {
        rt_err("%s", err);
        return 2;
    }
    bool wild = false;
    for (int i = 0; i < o->n_listen && o->n_advertise == 0; i++)
        wild |= rt_addr_is_any(&o->listen[i]);
    bool nl_open = wild && rt_nl_open(&nl, 0) == 0; /* only a wildcard needs the routes */
    if (!nl_open)
        memset(&nl, 0, sizeof nl);
    char key[TG_KEY_STRING_MAX];
    int rc = print_key_of(o, nl_open ? &nl : NULL, priv, key);
    sodium_memzero(priv, sizeof priv);
    if (nl_open)
        rt_nl_close(&nl);
    if (rc == 0 && o->n_advertise == 0 && o->n_listen == 0)
        rt_warn("the key names no address; give --advertise IP:PORT or --listen ADDR:PORT so "
                "clients know where to connect");
    return rc;
}

static int setup_nat(struct server *s)
{
    const struct rt_server_opts *o = s->o;
    char script[1200], err[1024], pool[RT_ADDRSTRLEN];
    const char *fwd = "/proc/sys/net/ipv4/ip_forward";
    int rc = rt_journal_sysctl(&s->j, fwd, "1");
    if (rc != 0) {
        rt_err("cannot enable IPv4 forwarding (%s): %s; run the server as root, or enable it "
               "yourself (sysctl -w net.ipv4.ip_forward=1) and start it with --no-nat",
               fwd, strerror(-rc));
        return 1;
    }
    /* one table per server (per TUN): "triglav" for the default TUN */
    char table[40];
    if (strcmp(s->tun_name, "tgsrv0") == 0)
        snprintf(table, sizeof table, "triglav");
    else
        snprintf(table, sizeof table, "triglav_%s", s->tun_name);
    char oif[64];
    if (o->egress[0] != '\0')
        snprintf(oif, sizeof oif, "oifname \"%s\"", o->egress);
    else
        snprintf(oif, sizeof oif, "oifname != \"%s\"", s->tun_name);
    snprintf(script, sizeof script,
             "create table ip %s\n" /* fails if it exists: never merge into another's */
             "table ip %s {\n"
             "  chain postrouting {\n"
             "    type nat hook postrouting priority srcnat; policy accept;\n"
             "    ip saddr %s %s masquerade\n"
             "  }\n"
             "  chain forward {\n"
             "    type filter hook forward priority mangle; policy accept;\n"
             "    iifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
             "    oifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
             "  }\n"
             "}\n",
             table, table, rt_prefix_str(&o->pool, pool), oif, s->tun_name, s->tun_name);
    if ((rc = rt_journal_add(&s->j, "nft ip %s", table)) != 0) {
        rt_err("cannot write the state file %s: %s", s->j.path, strerror(-rc));
        return 1;
    }
    rc = rt_nft(script, err, sizeof err);
    if (rc != 0) {
        rt_journal_pop(&s->j);
        if (rc == -ENOENT)
            rt_err("the `nft` program is missing: install nftables (apt-get install nftables), "
                   "or run with --no-nat and masquerade yourself");
        else
            rt_err(strstr(err, "File exists") != NULL
                       ? "nftables table ip %s exists already: another server with TUN %s runs "
                         "here (choose another --tun-name) or something else made it; %s"
                       : "nftables refused the masquerade rules for table ip %s (TUN %s): %s",
                   table, s->tun_name, err);
        return 1;
    }
    rt_info("forwarding %s to %s with masquerade (nftables table ip %s)", pool,
            o->egress[0] ? o->egress : "every interface but the tunnel", table);
    return 0;
}

static int setup(struct server *s)
{
    struct rt_server_opts *o = s->o;
    char err[400], path[300];
    int rc;
    if ((rc = rt_nl_open(&s->nl, 0)) != 0) {
        rt_err("cannot open an rtnetlink socket: %s", strerror(-rc));
        return 1;
    }
    if (o->key_file[0] != '\0' && !o->generate_key) {
        if (rt_keyfile_read(o->key_file, s->priv, err, sizeof err) != 0) {
            rt_err("%s", err);
            return 2;
        }
    } else if (o->generate_key) {
        rt_key_generate(s->priv);
        if (o->key_file[0] != '\0') {
            rc = rt_keyfile_write(o->key_file, s->priv);
            if (rc == -EEXIST) {
                rt_err("%s exists: to use it, drop --generate-key; to replace it, delete it "
                       "first",
                       o->key_file);
                return 2;
            }
            if (rc != 0) {
                rt_err("cannot write key file %s: %s", o->key_file, strerror(-rc));
                return 1;
            }
            rt_info("new private key saved in %s", o->key_file);
        }
    } else {
        rt_err("the server needs a key: --key FILE (made by `triglav keygen --output FILE`) or "
               "--generate-key");
        return 2;
    }
    if (o->n_listen == 0) {
        rt_err("say where to listen: --listen ADDR:PORT (e.g. --listen 0.0.0.0:7443)");
        return 2;
    }
    for (int i = 0; i < o->n_listen; i++) {
        struct rt_udp_opts uo = {.buffer_bytes = o->c.buffer_bytes};
        int fd = rt_udp_open(&o->listen[i], &uo, err, sizeof err);
        if (fd < 0) {
            rt_err("%s", err);
            return 1;
        }
        s->ls[s->n_ls].fd = fd;
        s->ls[s->n_ls].addr = o->listen[i];
        s->ls[s->n_ls].tx.no_gso = o->c.no_offload;
        s->n_ls++;
    }
    if (o->pool.len > 30) {
        rt_err("--pool %u.%u.%u.%u/%u is too small: use a /30 or larger", o->pool.addr[0],
               o->pool.addr[1], o->pool.addr[2], o->pool.addr[3], o->pool.len);
        return 2;
    }
    uint8_t pool6[16], pool6_len;
    if ((rc = rt_pool6_choose(o, &s->nl, pool6, &pool6_len)) != 0)
        return rc;
    if (rt_tun_io_open(&s->tun, o->tun_name, o->c.no_offload, s->tun_name, err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    s->tun_ifindex = (int)if_nametoindex(s->tun_name);
    if (rt_host_journal(&s->j, &s->nl, o->c.state_dir, s->tun_name) != 0)
        return 1;
    s->journal_open = true;
    uint8_t me[4];
    memcpy(me, o->pool.addr, 4);
    me[3] = (uint8_t)(me[3] + 1);
    /* datagrams to clients over IPv6 carry 20 bytes more of outer header:
     * the default MTU (sized for IPv4) shrinks so that none is fragmented */
    unsigned mtu = o->c.mtu;
    bool v6 = false;
    for (int i = 0; i < o->n_listen; i++)
        v6 |= o->listen[i].type == TG_ADDR_IPV6;
    if (v6 && o->c.mtu == RT_DEFAULT_MTU)
        mtu = RT_DEFAULT_MTU6;
    if ((rc = rt_nl_addr(&s->nl, true, s->tun_ifindex, me, o->pool.len)) != 0 ||
        (rc = rt_nl_link_set(&s->nl, s->tun_ifindex, true, mtu)) != 0) {
        rt_err("cannot configure %s: %s", s->tun_name, strerror(-rc));
        return 1;
    }
    if (!o->no_nat && setup_nat(s) != 0)
        return 1;
    if (pool6_len != 0 && rt_pool6_setup(o, &s->j, &s->nl, s->tun_name, s->tun_ifindex, pool6,
                                         &pool6_len) != 0)
        return 1;
    struct tg_server_config cfg;
    tg_server_config_default(&cfg);
    memcpy(cfg.static_private, s->priv, 32);
    memcpy(cfg.pool_addr, o->pool.addr, 4);
    cfg.pool_prefix = o->pool.len;
    memcpy(cfg.pool6_addr, pool6, 16);
    cfg.pool6_prefix = pool6_len;
    cfg.mp = o->c.mp; /* the core's defaults as opts.c set them, then --config and flags */
    if (v6 && cfg.mp.max_datagram > RT_MAX_DATAGRAM6)
        cfg.mp.max_datagram = RT_MAX_DATAGRAM6;
    cfg.max_sessions = o->max_sessions;
    cfg.session_idle_us = o->idle_timeout_us;
    struct tg_rng rng = {.fill = os_fill};
    rc = tg_server_new(&cfg, &rng, NULL, rt_now(), &s->core);
    sodium_memzero(&cfg, sizeof cfg);
    if (rc != TG_OK) {
        rt_err("cannot create the server: %s", tg_strerror(rc));
        return 1;
    }
    if ((rc = rt_loop_init(&s->loop)) != 0 ||
        (rc = rt_loop_add(&s->loop, s->tun.fd, TAG_TUN)) != 0) {
        rt_err("cannot set up the event loop: %s", strerror(-rc));
        return 1;
    }
    for (int i = 0; i < s->n_ls; i++)
        if ((rc = rt_loop_add(&s->loop, s->ls[i].fd, (uint64_t)i)) != 0)
            return 1;
    if (!o->no_tcp_fallback) {
        if (rt_tcp_listen_open(&s->tcp, o->listen, o->n_listen, &s->loop, err, sizeof err) != 0) {
            rt_err("%s", err);
            rt_tcp_listen_close(&s->tcp);
            return 1;
        }
        s->tcp_open = true;
    }
    rt_state_path(path, sizeof path, o->c.state_dir, s->tun_name, "sock");
    if (rt_control_open(&s->ctl, &s->loop, path, o->c.has_metrics ? &o->c.metrics : NULL, render, s,
                        err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    s->ctl_open = true;
    if (rt_svc_open(&s->svc, &s->loop, me, RT_SVC_DISCARD_PORT, RT_SVC_ECHO_PORT, err,
                    sizeof err) == 0)
        s->svc_open = true;
    else
        rt_warn("%s", err);
    char a[RT_ADDRSTRLEN], p[RT_ADDRSTRLEN];
    for (int i = 0; i < s->n_ls; i++)
        rt_info("listening on udp %s%s", rt_addr_str(&s->ls[i].addr, a),
                s->tcp_open ? ", and tcp for clients whose networks block UDP" : "");
    rt_info("%s has %s; clients get addresses from %s", s->tun_name, rt_ipv4_str(me, a),
            rt_prefix_str(&o->pool, p));
    if (s->svc_open)
        rt_info("benchmark services on %s: TCP discard %d, UDP echo %d", a, RT_SVC_DISCARD_PORT,
                RT_SVC_ECHO_PORT);
    return print_key(s);
}

static void drain(struct server *s)
{
    struct tg_datagram d;
    uint32_t touched = 0;
    while (tg_server_next_datagram(s->core, &d)) {
        if (rt_tcp_is_id(d.uplink)) {
            if (s->tcp_open)
                rt_tcp_listen_send(&s->tcp, d.uplink, d.data, d.len);
            continue;
        }
        if ((int)d.uplink >= s->n_ls)
            continue;
        struct listener *l = &s->ls[d.uplink];
        rt_udp_queue(l->fd, &l->tx, d.data, d.len, &d.to);
        touched |= 1u << d.uplink;
    }
    for (int i = 0; i < s->n_ls; i++)
        if (touched & (1u << i))
            rt_udp_flush(s->ls[i].fd, &s->ls[i].tx);
    if (s->tcp_open)
        rt_tcp_listen_flush(&s->tcp, &s->loop);
    const uint8_t *p;
    size_t len;
    while (tg_server_next_tun_packet(s->core, &p, &len))
        rt_tun_io_write(&s->tun, p, len);
    rt_tun_io_flush(&s->tun);
    struct tg_event ev;
    char a[RT_ADDRSTRLEN];
    while (tg_server_next_event(s->core, &ev)) {
        if (ev.type == TG_EV_SESSION_UP)
            rt_info("session %u: client %s", ev.session, rt_ipv4_str(ev.tunnel_addr, a));
        else if (ev.type == TG_EV_SESSION_DOWN)
            rt_info("session %u: ended", ev.session);
        else if (ev.type == TG_EV_UPLINK_UP)
            rt_info("session %u: uplink %u joined", ev.session, ev.uplink);
        else if (ev.type == TG_EV_UPLINK_DOWN)
            rt_debug("session %u: uplink %u dropped", ev.session, ev.uplink);
        else if (ev.type == TG_EV_UPLINK_HEALTH)
            rt_info("session %u: uplink %u: %s -> %s", ev.session, ev.uplink,
                    rt_health_name(ev.health_from), rt_health_name(ev.health_to));
    }
}

static void read_listener(struct server *s, int i, tg_time now)
{
    int n = rt_udp_recv(s->ls[i].fd, &s->rx);
    for (int k = 0; k < n; k++) {
        struct tg_key_addr from;
        if (rt_addr_from_sockaddr((struct sockaddr *)&s->rx.from[k], &from) != 0)
            continue;
        size_t len = s->rx.msg[k].msg_len, seg = s->rx.seg[k];
        for (size_t off = 0; off < len; off += seg)
            tg_server_udp_input(s->core, (unsigned)i, &from, s->rx.buf[k] + off,
                                len - off < seg ? len - off : seg, now);
    }
}

/* A datagram that came over a TCP fallback connection: the core takes it as
 * it takes UDP; a DATA message it accepts proves the connection. */
static void tcp_input(void *ctx, unsigned id, const struct tg_key_addr *from, uint8_t *data,
                      size_t len)
{
    struct server *s = ctx;
    struct tg_wire_msg m;
    /* the message type matters only until the connection has proven itself */
    bool data_msg = !rt_tcp_listen_is_proven(&s->tcp, id) &&
                    tg_wire_parse(data, len, &m) == TG_OK && m.type == TG_MSG_DATA;
    if (tg_server_udp_input(s->core, id, from, data, len, s->last_now) == TG_OK && data_msg)
        rt_tcp_listen_proven(&s->tcp, id);
    if (++s->fed >= 64) {
        drain(s);
        s->fed = 0;
    }
}

static void feed(void *ctx, const uint8_t *pkt, size_t len)
{
    struct server *s = ctx;
    tg_server_tun_input(s->core, pkt, len, s->now);
}

static void drain_cb(void *ctx)
{
    drain(ctx);
}

int rt_server_run(struct rt_server_opts *o)
{
    struct server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return 1;
    s->o = o;
    s->tun.fd = -1;
    s->nl.fd = -1;
    s->loop.epfd = s->loop.sigfd = -1;
    s->started = s->last_now = rt_now();
    int rc = setup(s);
    if (rc == 0 && o->c.daemon) {
        if (rt_daemonize(o->c.pid_file[0] ? o->c.pid_file : NULL) != 0) {
            rt_err("cannot start in the background");
            rc = 1;
        } else {
            rt_journal_set_pid(&s->j);
            if (rt_loop_after_fork(&s->loop) != 0)
                rc = 1;
        }
    }
    while (rc == 0 && !s->stop) {
        struct epoll_event ev[32];
        tg_time now;
        int n = rt_host_wait(&s->loop, tg_server_next_deadline(s->core), ev, 32, &now, &s->stop,
                             "stopping");
        s->last_now = now;
        for (int i = 0; i < n; i++) {
            uint64_t tag = ev[i].data.u64;
            if (tag == TAG_TUN) {
                s->now = now;
                rt_tun_io_read(&s->tun, feed, drain_cb, s);
            } else if (rt_control_owns(tag)) {
                rt_control_event(&s->ctl, tag);
            } else if (rt_svc_owns(tag)) {
                rt_svc_event(&s->svc, tag);
            } else if (rt_tcp_listen_owns(tag) && s->tcp_open) {
                s->fed = 0;
                rt_tcp_listen_event(&s->tcp, &s->loop, tag, ev[i].events, (int64_t)(now / 1000),
                                    tcp_input, s);
            } else if (tag < RT_MAX_LISTEN) {
                read_listener(s, (int)tag, now);
            }
            drain(s);
        }
        if (now >= tg_server_next_deadline(s->core)) {
            tg_server_on_timeout(s->core, now);
            drain(s);
        }
        rt_rate_update(&s->down, now, tg_server_counters(s->core)->tun_in_bytes);
        rt_rate_update(&s->up, now, tg_server_counters(s->core)->tun_out_bytes);
        sample_peers(s, now);
        if (s->tcp_open && now >= s->next_tcp_tick) {
            rt_tcp_listen_tick(&s->tcp, (int64_t)(now / 1000));
            s->next_tcp_tick = now + TG_SEC(1);
        }
    }
    if (s->core != NULL) {
        rt_stats_log("server", tg_server_counters(s->core), NULL, 0);
        if (s->tun.offload)
            rt_info("server: TUN: %llu packets in %llu writes",
                    (unsigned long long)s->tun.co.packets, (unsigned long long)s->tun.co.writes);
        for (int i = 0; i < s->n_ls; i++)
            rt_info(
                "server: listener %d: %llu datagrams sent, %llu refused by the kernel (last: %s)%s",
                i, (unsigned long long)s->ls[i].tx.sent, (unsigned long long)s->ls[i].tx.dropped,
                strerror(s->ls[i].tx.last_errno), s->ls[i].tx.no_gso ? " (no GSO)" : "");
        if (s->tcp_open)
            rt_info("server: TCP fallback: %llu connections accepted, %llu evicted unproven, "
                    "%llu closed idle unproven, %llu refused, %llu with bad frames; %llu "
                    "datagrams in, %llu out, %llu dropped (connection too slow)",
                    (unsigned long long)s->tcp.t.accepted, (unsigned long long)s->tcp.t.evicted,
                    (unsigned long long)s->tcp.t.closed_idle,
                    (unsigned long long)s->tcp.t.refused, (unsigned long long)s->tcp.t.bad_frames,
                    (unsigned long long)s->tcp.frames_in, (unsigned long long)s->tcp.frames_out,
                    (unsigned long long)s->tcp.t.tx_dropped);
        struct live l;
        if (!live_sessions(s, &l))
            l.n = 0;
        for (size_t i = 0; i < l.n; i++) {
            struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
            char a[RT_ADDRSTRLEN], who[64];
            size_t n = tg_server_snapshot(s->core, l.addr[i], snap, TG_MAX_UPLINKS);
            snprintf(who, sizeof who, "server: client %s", rt_ipv4_str(l.addr[i], a));
            rt_stats_log_peer(who, snap, n);
        }
        free(l.addr);
    }
    if (s->ctl_open)
        rt_control_close(&s->ctl);
    if (s->svc_open) {
        rt_info("server: benchmark services: %llu bytes discarded, %llu datagrams echoed",
                (unsigned long long)s->svc.discarded_bytes,
                (unsigned long long)s->svc.echoed_datagrams);
        rt_svc_close(&s->svc);
    }
    if (s->journal_open)
        rt_journal_undo(&s->j);
    if (s->tcp_open)
        rt_tcp_listen_close(&s->tcp);
    for (int i = 0; i < s->n_ls; i++)
        close(s->ls[i].fd);
    tg_server_free(s->core);
    rt_peer_rates_free(&s->peer_rates);
    rt_tun_io_close(&s->tun);
    rt_loop_close(&s->loop);
    rt_nl_close(&s->nl);
    if (o->c.daemon && o->c.pid_file[0])
        unlink(o->c.pid_file);
    sodium_memzero(s->priv, sizeof s->priv);
    if (rc == 0)
        rt_info("stopped; forwarding and nftables restored");
    free(s);
    return rc;
}

int rt_server_cleanup(const struct rt_server_opts *o)
{
    char path[300];
    struct rt_nl nl;
    rt_state_path(path, sizeof path, o->c.state_dir, o->tun_name, "state");
    if (rt_nl_open(&nl, 0) != 0)
        return 1;
    int rc = rt_journal_cleanup(path, &nl);
    rt_nl_close(&nl);
    if (rc == -EBUSY) {
        rt_err("the server for %s is still running", o->tun_name);
        return 1;
    }
    if (rc != 0 && rc != -ENOENT)
        return 1;
    rt_info(rc == 0 ? "restored what the server had changed" : "nothing to clean up");
    return 0;
}
