/*
 * `triglav tun`: the client. One TUN device, one UDP socket per uplink
 * (bound to its interface, marked; a TCP connection instead where UDP gets
 * no answer: tcpup.h), the core's client endpoint in between,
 * and the routing that sends traffic into the TUN: full tunnel by policy
 * routing (like wg-quick), split tunnel by routes, excludes by rules.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "clock.h"
#include "control.h"
#include "journal.h"
#include "log.h"
#include "loop.h"
#include "netlink.h"
#include "offload.h"
#include "opts.h"
#include "proxy.h"
#include "race.h"
#include "routing.h"
#include "stack.h"
#include "stats.h"
#include "status.h"
#include "sys.h"
#include "tcpup.h"
#include "tun.h"
#include "udp.h"

#include <linux/rtnetlink.h>

#include "client_int.h"

/* The session is up: give the TUN its address and send traffic into it. */
static int configure(struct client *c, const uint8_t addr[4], uint8_t prefix)
{
    const struct rt_client_opts *o = c->o;
    char a[RT_ADDRSTRLEN];
    struct rt_prefix me = {.len = prefix};
    memcpy(me.addr, addr, 4);
    if (o->has_ipv4)
        me = o->ipv4;
    int rc = rt_nl_addr(&c->nl, true, c->tun_ifindex, me.addr, me.len);
    if (rc != 0) {
        rt_err("cannot put address %s on %s: %s", rt_prefix_str(&me, a), c->tun_name,
               strerror(-rc));
        return rc;
    }
    struct rt_routing r = {
        .o = o, .j = &c->j, .nl = &c->nl, .tun_ifindex = c->tun_ifindex, .tun_name = c->tun_name};
    if ((rc = rt_routing_apply(&r)) != 0)
        return rc;
    memcpy(c->tun_addr, me.addr, 4);
    c->tun_prefix = me.len;
    rt_info("tunnel up: %s has %s (%s%s)", c->tun_name, rt_prefix_str(&me, a),
            o->full_tunnel    ? "full tunnel"
            : o->n_routes > 0 ? "split tunnel"
                              : "tunnel subnet only",
            o->dns ? ", DNS through the tunnel" : "");
    c->configured = true;
    return 0;
}

/* A fresh session (after reconnect()) may bring another tunnel address. */
static void readdress(struct client *c, const uint8_t addr[4], uint8_t prefix)
{
    char a[RT_ADDRSTRLEN];
    struct rt_prefix me = {.len = prefix};
    memcpy(me.addr, addr, 4);
    if (c->o->has_ipv4 || (memcmp(addr, c->tun_addr, 4) == 0 && prefix == c->tun_prefix)) {
        rt_info("session re-established: %s keeps its address", c->tun_name);
        return;
    }
    rt_nl_addr(&c->nl, false, c->tun_ifindex, c->tun_addr, c->tun_prefix);
    int rc = rt_nl_addr(&c->nl, true, c->tun_ifindex, me.addr, me.len);
    if (rc != 0)
        rt_err("cannot put the new address %s on %s: %s", rt_prefix_str(&me, a), c->tun_name,
               strerror(-rc));
    memcpy(c->tun_addr, me.addr, 4);
    c->tun_prefix = me.len;
    rt_info("session re-established: %s now has %s", c->tun_name, rt_prefix_str(&me, a));
}

/* ------------------------------------------------------------ the race */

/* The server answered from `from`: every uplink sends there from now on.
 * Over IPv6 the outer headers are 20 bytes longer: the default TUN MTU
 * (sized for IPv4) shrinks so that no datagram is fragmented. */
static void race_won(struct client *c, const struct tg_key_addr *from)
{
    char a[RT_ADDRSTRLEN];
    if (!rt_race_won(&c->race, from))
        return;
    c->server = *rt_race_server(&c->race);
    rt_info("server %s answered: every uplink uses it", rt_addr_str(&c->server, a));
    if (c->proxy != NULL)
        return; /* no TUN: the stack's segments are sized for IPv4 and IPv6 alike */
    unsigned mtu = c->o->c.mtu == RT_DEFAULT_MTU && c->server.type == TG_ADDR_IPV6
                       ? RT_DEFAULT_MTU6
                       : c->o->c.mtu;
    int rc = rt_nl_link_set(&c->nl, c->tun_ifindex, true, mtu);
    if (rc != 0)
        rt_warn("cannot set the MTU of %s to %u: %s", c->tun_name, mtu, strerror(-rc));
    else if (mtu != c->o->c.mtu)
        rt_info("%s: MTU %u (IPv6 outer headers)", c->tun_name, mtu);
}

/* The next of the key's addresses is due: it gets every uplink's last
 * handshake at once rather than at the next retry. */
static void race_tick(struct client *c, tg_time now)
{
    int i = rt_race_tick(&c->race, now);
    if (i < 0)
        return;
    char a[RT_ADDRSTRLEN];
    rt_info("no answer yet: trying server address %s too",
            rt_addr_str(&c->race.addr[i], a));
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        size_t len;
        const uint8_t *p = rt_race_last(&c->race, s, &len);
        if (len == 0 || c->up[s].fd < 0)
            continue;
        rt_udp_queue(c->up[s].fd, &c->up[s].tx, p, len, &c->race.addr[i]);
        rt_udp_flush(c->up[s].fd, &c->up[s].tx);
    }
}

/* The server gave the tunnel an IPv6 address: put it on the TUN and, in
 * full tunnel, send IPv6 into the tunnel rather than refuse it. */
static void configure6(struct client *c)
{
    uint8_t a6[16], plen;
    char a[RT_ADDRSTRLEN];
    if (!c->configured || c->proxy != NULL || !tg_client_tunnel_addr6(c->core, a6, &plen) ||
        (c->has6 && memcmp(a6, c->tun_addr6, 16) == 0 && plen == c->tun_prefix6))
        return;
    bool first = !c->has6;
    if (c->has6)
        rt_nl_addr6(&c->nl, false, c->tun_ifindex, c->tun_addr6, c->tun_prefix6);
    memcpy(c->tun_addr6, a6, 16);
    c->tun_prefix6 = plen;
    c->has6 = true; /* also on failure: tried once per address */
    int rc = rt_nl_addr6(&c->nl, true, c->tun_ifindex, a6, plen);
    if (rc != 0) {
        rt_warn("cannot put IPv6 address %s on %s: %s; the tunnel carries IPv4 only",
                rt_prefix6_str(a6, plen, a), c->tun_name, strerror(-rc));
        return;
    }
    struct rt_routing r = {.o = c->o, .j = &c->j, .nl = &c->nl, .tun_ifindex = c->tun_ifindex,
                           .tun_name = c->tun_name};
    if (first && rt_routing_ipv6(&r) != 0)
        return;
    rt_info("tunnel IPv6: %s has %s%s", c->tun_name, rt_prefix6_str(a6, plen, a),
            c->o->full_tunnel && !c->o->allow_ipv6 ? ", IPv6 goes through the tunnel" : "");
}

/* Proxy mode's session is up: the stack takes the tunnel address. */
static void proxy_up(struct client *c, const uint8_t addr[4], uint8_t prefix)
{
    char a[RT_ADDRSTRLEN];
    struct rt_prefix me = {.len = prefix};
    memcpy(me.addr, addr, 4);
    bool again = c->configured;
    rt_stack_set_addr(addr, prefix);
    memcpy(c->tun_addr, addr, 4);
    c->tun_prefix = prefix;
    c->configured = true;
    rt_info("%s: the proxies' streams leave from %s", again ? "session re-established" : "tunnel up",
            rt_prefix_str(&me, a));
}

/* ------------------------------------------------------------ the loop */

static void on_event(struct client *c, const struct tg_event *ev)
{
    const char *ifn = ev->uplink < TG_MAX_UPLINKS ? c->up[ev->uplink].ifname : "?";
    switch (ev->type) {
    case TG_EV_SESSION_UP:
        if (c->proxy != NULL) {
            proxy_up(c, ev->tunnel_addr, ev->tunnel_prefix);
        } else if (c->configured) {
            readdress(c, ev->tunnel_addr, ev->tunnel_prefix);
        } else if (configure(c, ev->tunnel_addr, ev->tunnel_prefix) != 0) {
            rt_err("could not set up routing; stopping (everything added is removed)");
            c->exit_code = 1;
            c->stop = true;
        }
        break;
    case TG_EV_UPLINK_UP:
        if (!c->race.won && ev->uplink < TG_MAX_UPLINKS && c->up[ev->uplink].heard.type != 0)
            race_won(c, &c->up[ev->uplink].heard);
        rt_info("uplink %u (%s): connected", ev->uplink, ifn);
        break;
    case TG_EV_UPLINK_REKEYED:
        rt_debug("uplink %u (%s): rekeyed", ev->uplink, ifn);
        break;
    case TG_EV_UPLINK_HEALTH:
        rt_info("uplink %u (%s): %s -> %s", ev->uplink, ifn, rt_health_name(ev->health_from),
                rt_health_name(ev->health_to));
        break;
    case TG_EV_UPLINK_DOWN:
        rt_info("uplink %u (%s): keys dropped", ev->uplink, ifn);
        break;
    case TG_EV_SESSION_DOWN:
        break;
    }
}

static void drain_once(struct client *c);

/* Outputs until none is left: in proxy mode, what the stack answers to the
 * packets drained makes more datagrams. */
static void drain(struct client *c)
{
    for (int round = 0; round < 8; round++) {
        c->stack_fed = 0;
        drain_once(c);
        if (c->proxy != NULL)
            rt_proxy_flush(c->proxy); /* its window updates make more packets */
        if (c->stack_fed == 0)
            break;
    }
}

static void drain_once(struct client *c)
{
    struct tg_datagram d;
    uint32_t touched = 0;
    while (tg_client_next_datagram(c->core, &d)) {
        if (d.uplink >= TG_MAX_UPLINKS)
            continue;
        struct uplink *u = &c->up[d.uplink];
        const struct tg_key_addr *to[TG_KEY_MAX_ADDRS];
        size_t nto = rt_race_targets(&c->race, d.uplink, d.data, d.len, to);
        bool tcp = rt_tcpup_carries(&c->tcp, d.uplink);
        bool udp = u->fd >= 0 && rt_tcpup_udp_allowed(&c->tcp) &&
                   (!tcp || rt_tcpup_probe_due(&c->tcp, d.uplink, c->now));
        for (size_t i = 0; udp && i < nto; i++)
            rt_udp_queue(u->fd, &u->tx, d.data, d.len, to[i]);
        if (udp && tcp) /* the UDP copy leaves first: it is the one that can switch back */
            rt_udp_flush(u->fd, &u->tx);
        else if (udp)
            touched |= 1u << d.uplink;
        if (tcp)
            rt_tcpup_send(&c->tcp, d.uplink, d.data, d.len);
    }
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (touched & (1u << s))
            rt_udp_flush(c->up[s].fd, &c->up[s].tx);
    rt_tcpup_flush(&c->tcp, &c->loop);
    const uint8_t *p;
    size_t len;
    while (tg_client_next_tun_packet(c->core, &p, &len)) {
        if (c->cap != NULL)
            rt_capture_packet(c->cap, RT_CAPTURE_IN, p, len, c->now);
        if (c->proxy != NULL)
            rt_stack_input(p, len);
        else
            rt_tun_io_write(&c->tun, p, len);
    }
    if (c->proxy == NULL)
        rt_tun_io_flush(&c->tun);
    struct tg_event ev;
    while (tg_client_next_event(c->core, &ev))
        on_event(c, &ev);
    configure6(c);
}

static void feed(void *ctx, const uint8_t *pkt, size_t len)
{
    struct client *c = ctx;
    if (c->cap != NULL)
        rt_capture_packet(c->cap, RT_CAPTURE_OUT, pkt, len, c->now);
    tg_client_tun_input(c->core, pkt, len, c->now);
}

static void drain_cb(void *ctx)
{
    drain(ctx);
}

static void read_uplink(struct client *c, unsigned s, tg_time now)
{
    struct uplink *u = &c->up[s];
    if (u->fd < 0)
        return;
    int n = rt_udp_recv(u->fd, &c->rx);
    if (n < 0) {
        rt_debug("uplink %u: receive: %s", s, strerror(-n));
        return;
    }
    for (int i = 0; i < n; i++) {
        size_t len = c->rx.msg[i].msg_len, seg = c->rx.seg[i];
        struct tg_key_addr from;
        bool racing = !c->race.won &&
                      rt_addr_from_sockaddr((struct sockaddr *)&c->rx.from[i], &from) == 0;
        u->rx_dgrams += seg > 0 ? (len + seg - 1) / seg : 1;
        u->rx_bytes += len;
        bool answered = false;
        for (size_t off = 0; off < len; off += seg)
            if (tg_client_udp_input(c->core, s, c->rx.buf[i] + off,
                                    len - off < seg ? len - off : seg, now) == TG_OK) {
                answered = true;
                if (racing)
                    u->heard = from; /* the server: the datagram authenticated */
            }
        if (answered && rt_tcpup_udp_answer(&c->tcp, s, now))
            rt_info("uplink %u (%s): UDP answers again: back from TCP to UDP", s, u->ifname);
    }
}

/* A datagram from the server over uplink s's TCP connection. */
static void tcp_input(void *ctx, unsigned s, uint8_t *data, size_t len)
{
    struct client *c = ctx;
    struct uplink *u = &c->up[s];
    u->rx_dgrams++;
    u->rx_bytes += len;
    if (tg_client_udp_input(c->core, s, data, len, c->now) == TG_OK && !c->race.won)
        u->heard = c->tcp.u[s].peer;
    if (++c->fed >= 64) {
        drain(c);
        c->fed = 0;
    }
}

/* Uplink s's TCP connection is up: the server should hear from it now, not
 * at the next probe (a handshake still racing goes again over TCP). */
static void tcp_connected(struct client *c, unsigned s, tg_time now)
{
    char a[RT_ADDRSTRLEN];
    rt_info("uplink %u (%s): connected over TCP to %s; its datagrams go that way%s", s,
            c->up[s].ifname, rt_addr_str(&c->tcp.u[s].peer, a),
            rt_tcpup_udp_allowed(&c->tcp) ? " until UDP answers again" : "");
    size_t len;
    const uint8_t *p = rt_race_last(&c->race, s, &len);
    if (!c->race.won && len > 0)
        rt_tcpup_send(&c->tcp, s, p, len);
    if (c->up[s].up && tg_client_uplink_up(c->core, s, now) != TG_OK)
        rt_warn("uplink %u: refused by the core", s);
}

/* Connections that are due, for every usable uplink. */
static void tcp_tick(struct client *c, tg_time now)
{
    const struct tg_key_addr *to = c->race.won ? &c->server : c->race.addr;
    size_t n_to = c->race.won ? 1 : c->race.started;
    char a[RT_ADDRSTRLEN];
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        struct uplink *u = &c->up[s];
        if (rt_tcpup_tick(&c->tcp, &c->loop, s, u->used && u->up, u->ifname, c->o->fwmark, to,
                          n_to, now))
            rt_info(c->tcp.mode == RT_TRANSPORT_TCP
                        ? "uplink %u (%s): connecting over TCP to %s"
                        : "uplink %u (%s): no answer over UDP for 3 s: trying TCP to %s",
                    s, u->ifname, rt_addr_str(&c->tcp.u[s].peer, a));
    }
}

static void unreachable(struct client *c)
{
    char a[RT_ADDRSTRLEN], names[200] = "";
    size_t len = 0;
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (c->up[s].up)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", len ? ", " : "",
                                    c->up[s].ifname);
    if (len == 0) {
        rt_err("no uplink became usable within %llu s: the interfaces must be up, have an IPv4 "
               "address (and, with --auto-discover, a default route); check `ip addr` and "
               "`ip route`",
               (unsigned long long)(c->o->connect_timeout_us / 1000000u));
        return;
    }
    char where[400] = ""; /* every address of the key that was tried */
    size_t wl = 0;
    size_t tried = c->race.won ? 1 : c->race.started;
    for (size_t i = 0; i < tried && wl < sizeof where; i++)
        wl += (size_t)snprintf(where + wl, sizeof where - wl, "%s%s", i ? " or " : "",
                               rt_addr_str(&c->race.addr[i], a));
    rt_err("no answer from the server at %s within %llu s (%llu handshakes sent on %s). Check "
           "that `triglav server` runs there, that %s port %u reaches it (firewalls, NAT), and "
           "that the key is the one that server printed",
           where, (unsigned long long)(c->o->connect_timeout_us / 1000000u),
           (unsigned long long)tg_client_counters(c->core)->handshakes_sent, names,
           c->tcp.mode == RT_TRANSPORT_AUTO  ? "UDP or TCP"
           : c->tcp.mode == RT_TRANSPORT_TCP ? "TCP"
                                             : "UDP",
           c->server.port);
}


static void os_fill(void *ctx, uint8_t *buf, size_t len)
{
    (void)ctx;
    randombytes_buf(buf, len);
}

/* The server lost our session (it restarted) or every path died: after
 * --reconnect-after with no uplink keyed and alive, start a fresh session. */
static void watch_session(struct client *c, tg_time now)
{
    if (c->o->reconnect_after_us == 0 || now < c->next_check ||
        !tg_client_session_up(c->core, NULL))
        return;
    c->next_check = now + TG_MSEC(250);
    struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
    size_t n = tg_client_snapshot(c->core, snap, TG_MAX_UPLINKS);
    bool dead = true;
    for (size_t i = 0; i < n; i++)
        if (snap[i].keyed && snap[i].health != TG_HEALTH_DOWN)
            dead = false;
    if (!dead) {
        c->all_down_since = TG_TIME_NEVER;
        return;
    }
    if (c->all_down_since == TG_TIME_NEVER)
        c->all_down_since = now;
    if (now - c->all_down_since < c->o->reconnect_after_us)
        return;
    struct tg_client *fresh;
    struct tg_rng rng = {.fill = os_fill};
    if (tg_client_new(&c->cfg, &rng, NULL, now, &fresh) != TG_OK)
        return;
    rt_warn("no uplink has reached the server for %llu s: starting a new session (did the "
            "server restart?)",
            (unsigned long long)((now - c->all_down_since) / 1000000u));
    tg_client_free(c->core);
    c->core = fresh;
    c->all_down_since = TG_TIME_NEVER;
    c->reconnecting = true;
    rt_race_restart(&c->race, now); /* the address that answered first */
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        memset(&c->up[s].heard, 0, sizeof c->up[s].heard);
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (c->up[s].used && c->up[s].up && tg_client_uplink_up(c->core, s, now) != TG_OK)
            rt_warn("uplink %u: refused by the core", s);
}

/* The TUN, its journal, and the link up (not in proxy mode). */
static int setup_tun(struct client *c)
{
    const struct rt_client_opts *o = c->o;
    char err[400];
    int rc;
    if (rt_tun_io_open(&c->tun, o->tun_name, o->c.no_offload, c->tun_name, err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    c->tun_ifindex = (int)if_nametoindex(c->tun_name);
    if (rt_host_journal(&c->j, &c->nl, o->c.state_dir, c->tun_name) != 0)
        return 1;
    c->journal_open = true;
    rc = rt_nl_link_set(&c->nl, c->tun_ifindex, true, o->c.mtu);
    if (rc != 0) {
        rt_err("cannot bring %s up: %s", c->tun_name, strerror(-rc));
        return 1;
    }
    return 0;
}

/* An IP packet from proxy mode's stack: into the tunnel as if from a TUN. */
static void stack_out(void *ctx, const uint8_t *pkt, size_t len)
{
    struct client *c = ctx;
    tg_client_tun_input(c->core, pkt, len, c->now);
    c->stack_fed++;
}

/* Proxy mode: the stack and the proxies (`connect`). */
static int setup_proxy(struct client *c)
{
    const struct rt_client_opts *o = c->o;
    char err[400], user[256] = "", a[RT_ADDRSTRLEN], b[RT_ADDRSTRLEN];
    struct rt_proxy_opts po = {.socks = {.type = TG_ADDR_IPV4, .port = (uint16_t)o->socks_port},
                               .http = {.type = TG_ADDR_IPV4, .port = (uint16_t)o->http_port}};
    memcpy(po.socks.addr, o->proxy_listen, 4);
    memcpy(po.http.addr, o->proxy_listen, 4);
    memcpy(po.dns, o->dns_servers[0], 4);
    if (o->proxy_auth[0] != '\0') {
        snprintf(user, sizeof user, "%s", o->proxy_auth);
        char *colon = strchr(user, ':');
        if (colon == NULL || colon == user || colon[1] == '\0') {
            rt_err("--proxy-auth takes USER:PASSWORD, both not empty");
            return 2;
        }
        *colon = '\0';
        po.user = user;
        po.pass = colon + 1;
    }
    /* segments that fit an IPv6 outer header too when the key has IPv6 */
    unsigned mtu = c->dual && o->c.mtu == RT_DEFAULT_MTU ? RT_DEFAULT_MTU6 : o->c.mtu;
    if (rt_stack_open(mtu, stack_out, c) != 0) {
        rt_err("cannot start the userspace TCP/IP stack");
        return 1;
    }
    if (rt_proxy_open(&c->proxy, &po, &c->loop, err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    bool local = o->proxy_listen[0] == 127;
    if (o->socks_port != 0)
        rt_info("SOCKS5 proxy on %s%s", rt_addr_str(&po.socks, a), po.user ? " (user and password)" : "");
    if (o->http_port != 0)
        rt_info("HTTP proxy on %s%s", rt_addr_str(&po.http, b), po.user ? " (user and password)" : "");
    if (!local && po.user == NULL)
        rt_warn("the proxies listen beyond loopback without --proxy-auth: anyone who reaches "
                "them uses the tunnel");
    return 0;
}

static int setup(struct client *c)
{
    struct rt_client_opts *o = c->o;
    char err[400], path[300];
    int rc = tg_key_decode(o->key, strlen(o->key), &c->key);
    if (rc != TG_OK) {
        rt_err("the connection key is malformed: %s. Paste the whole tg1_... key that "
               "`triglav server` or `triglav keygen` printed",
               tg_strerror(rc));
        return 2;
    }
    bool v6 = false;
    for (size_t i = 0; i < c->key.n_addrs; i++)
        v6 |= c->key.addrs[i].type == TG_ADDR_IPV6;
    if (v6) { /* one IPv6 socket per uplink reaches both families, if IPv6 is here at all */
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        c->dual = fd >= 0;
        if (fd >= 0)
            close(fd);
    }
    rt_race_init(&c->race, &c->key, c->dual, 0, rt_now());
    if (c->race.n == 0) {
        rt_err(c->key.n_addrs == 0 ? "the key names no server address; make a key with "
                                     "`triglav keygen --address IP:PORT`"
                                   : "the key names only IPv6 server addresses and this system "
                                     "has no IPv6");
        return 2;
    }
    const struct tg_key_addr *server = rt_race_server(&c->race);
    if (!o->auto_discover && o->n_ifaces == 0) {
        rt_err("say which interfaces to use: -i IFACE (repeat for each uplink) or "
               "--auto-discover");
        return 2;
    }
    c->server = *server;
    for (int i = 0; i < o->n_ifaces; i++) {
        unsigned ifindex = if_nametoindex(o->ifaces[i]);
        if (ifindex == 0) {
            rt_err("unknown interface '%s': list the interfaces with `ip link`, or use "
                   "--auto-discover",
                   o->ifaces[i]);
            return 2;
        }
        struct uplink *u = &c->up[i];
        u->used = true;
        u->pinned = true;
        u->fd = -1;
        u->ifindex = (int)ifindex;
        snprintf(u->ifname, sizeof u->ifname, "%s", o->ifaces[i]);
    }
    /* before any change to the system: a bad path costs nothing to undo */
    if (o->capture[0] != '\0' &&
        rt_capture_new(o->capture, rt_wall_offset(), &c->cap, err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    if ((rc = rt_nl_open(&c->nl, 0)) != 0 ||
        (rc = rt_nl_open(&c->watch, RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE)) != 0) {
        rt_err("cannot open an rtnetlink socket: %s", strerror(-rc));
        return 1;
    }
    if (o->proxy)
        snprintf(c->tun_name, sizeof c->tun_name, "%s", o->tun_name);
    else if ((rc = setup_tun(c)) != 0)
        return rc;
    struct tg_client_config cfg;
    tg_client_config_default(&cfg);
    memcpy(cfg.server_public, c->key.server_public, 32);
    cfg.mp = o->c.mp; /* the core's defaults as opts.c set them, then --config and flags */
    cfg.nat = o->nat && !o->proxy;
    cfg.ipv6 = !o->proxy; /* an IPv6 address too, from a server that has a prefix */
    if (c->dual && cfg.mp.max_datagram > RT_MAX_DATAGRAM6)
        cfg.mp.max_datagram = RT_MAX_DATAGRAM6; /* the server may answer over IPv6 */
    struct tg_rng rng = {.fill = os_fill};
    c->started = rt_now();
    c->cfg = cfg;
    rc = tg_client_new(&cfg, &rng, NULL, c->started, &c->core);
    if (rc != TG_OK) {
        rt_err("cannot create the client: %s", tg_strerror(rc));
        return 1;
    }
    if (rt_tcpup_init(&c->tcp, o->transport) != 0) {
        rt_err("out of memory");
        return 1;
    }
    if ((rc = rt_loop_init(&c->loop)) != 0 ||
        (!o->proxy && (rc = rt_loop_add(&c->loop, c->tun.fd, TAG_TUN)) != 0) ||
        (rc = rt_loop_add(&c->loop, c->watch.fd, TAG_WATCH)) != 0) {
        rt_err("cannot set up the event loop: %s", strerror(-rc));
        return 1;
    }
    if (o->proxy && (rc = setup_proxy(c)) != 0)
        return rc;
    if (o->proxy && rt_mkdir(o->c.state_dir, 0700) != 0) {
        rt_err("cannot create the state directory %s: %s (give --state-dir DIR)",
               o->c.state_dir, strerror(errno));
        return 1;
    }
    rt_state_path(path, sizeof path, o->c.state_dir, c->tun_name, "sock");
    if (rt_control_open(&c->ctl, &c->loop, path, o->c.has_metrics ? &o->c.metrics : NULL, cl_render, c,
                        err, sizeof err) != 0) {
        rt_err("%s", err);
        return 1;
    }
    c->ctl_open = true;
    c->ctl.command = cl_uplink_command;
    char a[RT_ADDRSTRLEN];
    rt_info("%s %s; server %s; %s", c->tun_name, o->proxy ? "starting" : "created",
            rt_addr_str(server, a), o->auto_discover ? "discovering uplinks" : "uplinks from -i");
    cl_refresh(c, c->started);
    if (!o->auto_discover)
        for (int i = 0; i < o->n_ifaces; i++)
            if (!c->up[i].up)
                rt_warn("interface %s is down or has no IPv4 address: it joins when it is ready",
                        c->up[i].ifname);
    return 0;
}

static void teardown(struct client *c)
{
    if (c->core != NULL) {
        struct tg_uplink_snapshot snap[TG_MAX_UPLINKS];
        size_t n = tg_client_snapshot(c->core, snap, TG_MAX_UPLINKS);
        rt_stats_log("client", tg_client_counters(c->core), snap, n);
        if (c->tun.offload)
            rt_info("client: TUN: %llu packets in %llu writes",
                    (unsigned long long)c->tun.co.packets, (unsigned long long)c->tun.co.writes);
        for (unsigned u = 0; u < TG_MAX_UPLINKS; u++)
            if (c->up[u].used)
                rt_info("client: uplink %u: %llu datagrams sent, %llu refused by the kernel%s", u,
                        (unsigned long long)c->up[u].tx.sent,
                        (unsigned long long)c->up[u].tx.dropped,
                        c->up[u].tx.no_gso ? " (no GSO)" : "");
        for (unsigned u = 0; u < TG_MAX_UPLINKS; u++)
            if (c->tcp.u[u].connects > 0)
                rt_info("client: uplink %u: %llu TCP connections, %llu returns to UDP; %llu "
                        "datagrams dropped (the connection was too slow)",
                        u, (unsigned long long)c->tcp.u[u].connects,
                        (unsigned long long)c->tcp.u[u].returns,
                        (unsigned long long)c->tcp.t.tx_dropped);
    }
    if (c->ctl_open)
        rt_control_close(&c->ctl);
    if (c->proxy != NULL) {
        const struct rt_proxy_counters *k = rt_proxy_counters(c->proxy);
        rt_info("client: proxies: %llu connections, %llu refused, %llu reached their "
                "destination, %llu did not; %llu bytes sent, %llu received",
                (unsigned long long)k->accepted, (unsigned long long)k->refused,
                (unsigned long long)k->connected, (unsigned long long)k->failed,
                (unsigned long long)k->bytes_out, (unsigned long long)k->bytes_in);
        rt_proxy_close(c->proxy);
        c->proxy = NULL;
    }
    rt_stack_close();
    if (rt_capture_free(c->cap) != 0 && c->exit_code == 0)
        c->exit_code = 1;
    c->cap = NULL;
    if (c->journal_open)
        rt_journal_undo(&c->j);
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++)
        if (c->up[s].fd >= 0 && c->up[s].used)
            close(c->up[s].fd);
    tg_client_free(c->core);
    rt_tcpup_free(&c->tcp);
    rt_tun_io_close(&c->tun);
    rt_loop_close(&c->loop);
    rt_nl_close(&c->watch);
    rt_nl_close(&c->nl);
}

int rt_client_run(struct rt_client_opts *o)
{
    struct client *c = calloc(1, sizeof *c);
    if (c == NULL)
        return 1;
    c->o = o;
    c->tun.fd = -1;
    c->nl.fd = c->watch.fd = -1;
    c->loop.epfd = c->loop.sigfd = -1;
    c->all_down_since = TG_TIME_NEVER;
    int rc = setup(c);
    if (rc == 0 && o->c.daemon) {
        if (rt_daemonize(o->c.pid_file[0] ? o->c.pid_file : NULL) != 0) {
            rt_err("cannot start in the background");
            rc = 1;
        } else {
            rt_journal_set_pid(&c->j); /* the journal's owner moved */
            if (rt_loop_after_fork(&c->loop) != 0)
                rc = 1;
        }
    }
    while (rc == 0 && !c->stop) {
        struct epoll_event ev[32];
        tg_time now;
        tg_time deadline = tg_client_next_deadline(c->core);
        bool session = tg_client_session_up(c->core, NULL);
        if (!session && o->connect_timeout_us != 0)
            deadline = tg_time_min(deadline, c->started + o->connect_timeout_us);
        if (c->cap != NULL)
            deadline = tg_time_min(deadline, rt_capture_deadline(c->cap));
        deadline = tg_time_min(deadline, rt_race_deadline(&c->race));
        deadline = tg_time_min(deadline, rt_tcpup_deadline(&c->tcp));
        if (c->proxy != NULL)
            deadline = tg_time_min(deadline, tg_time_min(rt_stack_deadline(c->now),
                                                         c->now + TG_MSEC(500)));
        int n = rt_host_wait(&c->loop, deadline, ev, 32, &now, &c->stop,
                             o->proxy ? "stopping" : "stopping, restoring routes, rules and DNS");
        c->now = now;
        for (int i = 0; i < n; i++) {
            uint64_t tag = ev[i].data.u64;
            if (tag == TAG_TUN) {
                rt_tun_io_read(&c->tun, feed, drain_cb, c);
            } else if (tag == TAG_WATCH) {
                rt_nl_drain(&c->watch);
                cl_refresh(c, now);
            } else if (rt_control_owns(tag)) {
                rt_control_event(&c->ctl, tag);
            } else if (c->proxy != NULL && rt_proxy_owns(tag)) {
                rt_proxy_event(c->proxy, tag, ev[i].events, now);
            } else if (rt_tcpup_owns(tag)) {
                c->fed = 0;
                unsigned s = (unsigned)(tag - RT_TAG_TCPUP);
                enum rt_tcpup_ev e =
                    rt_tcpup_event(&c->tcp, &c->loop, tag, ev[i].events, now, tcp_input, c);
                if (e == RT_TCPUP_CONNECTED)
                    tcp_connected(c, s, now);
                else if (e == RT_TCPUP_CLOSED)
                    rt_info("uplink %u (%s): the TCP connection closed%s", s, c->up[s].ifname,
                            rt_tcpup_udp_allowed(&c->tcp) ? "; UDP until it is back" : "");
            } else if (tag < TG_MAX_UPLINKS) {
                read_uplink(c, (unsigned)tag, now);
            }
            drain(c);
        }
        if (now >= tg_client_next_deadline(c->core)) {
            tg_client_on_timeout(c->core, now);
            drain(c);
        }
        watch_session(c, now);
        drain(c);
        race_tick(c, now);
        tcp_tick(c, now);
        if (c->proxy != NULL) {
            rt_stack_tick();
            if (now >= c->next_proxy_tick) {
                rt_proxy_tick(c->proxy, now);
                c->next_proxy_tick = now + TG_MSEC(250);
            }
            drain(c);
        }
        cl_sample_rates(c, now);
        if (c->cap != NULL)
            rt_capture_tick(c->cap, now);
        session = tg_client_session_up(c->core, NULL);
        if (session)
            c->reconnecting = false;
        if (!session && !c->reconnecting && o->connect_timeout_us != 0 &&
            now - c->started >= o->connect_timeout_us) {
            unreachable(c);
            c->exit_code = 3;
            break;
        }
    }
    if (rc == 0 && c->core != NULL && tg_client_session_up(c->core, NULL)) {
        /* tell the server we leave, so it frees the session now rather than
         * probing it for the idle timeout */
        tg_client_close(c->core, c->now);
        drain(c);
    }
    teardown(c); /* may set exit_code (a capture write error) */
    if (rc == 0)
        rc = c->exit_code;
    if (o->c.daemon && o->c.pid_file[0])
        unlink(o->c.pid_file);
    if (rc == 0 || c->exit_code != 0)
        rt_info("stopped; everything added was removed");
    free(c);
    return rc;
}

int rt_client_cleanup(const struct rt_client_opts *o)
{
    char path[300];
    struct rt_nl nl;
    rt_state_path(path, sizeof path, o->c.state_dir, o->tun_name, "state");
    if (rt_nl_open(&nl, 0) != 0) {
        rt_err("cannot open an rtnetlink socket");
        return 1;
    }
    int rc = rt_journal_cleanup(path, &nl);
    rt_nl_close(&nl);
    if (rc == -ENOENT) {
        rt_info("nothing to clean up for %s (no %s)", o->tun_name, path);
        return 0;
    }
    if (rc == -EBUSY) {
        rt_err("triglav is still running for %s: stop it (it cleans up itself)", o->tun_name);
        return 1;
    }
    if (rc != 0) {
        rt_err("cannot read %s: %s", path, rt_file_strerror(rc));
        return 1;
    }
    rt_info("restored what triglav had changed for %s", o->tun_name);
    return 0;
}
