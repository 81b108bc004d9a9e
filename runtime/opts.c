/*
 * opts.c: the table of options (opts.h) and the defaults it documents.
 * One row per option; a row's field is in the command's options struct
 * (the common ones in struct rt_common_opts, which starts both the client's
 * and the server's). Keys for things Triglav does not do are listed in
 * config.c, which refuses them by name.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "opts.h"

/* Common options sit at the same offsets in both commands' structs. */
_Static_assert(offsetof(struct rt_client_opts, c) == 0, "rt_client_opts starts with c");
_Static_assert(offsetof(struct rt_server_opts, c) == 0, "rt_server_opts starts with c");

/* ------------------------------------------------------------ defaults */

/* /run/triglav for root; a user running with capabilities only (setcap
 * cap_net_admin+ep) cannot write there, so: $XDG_RUNTIME_DIR/triglav, else
 * /tmp/triglav-UID. */
static void default_state_dir(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(out, cap, "/run/triglav");
    else if (xdg != NULL && xdg[0] == '/' && strlen(xdg) < cap - 9)
        snprintf(out, cap, "%s/triglav", xdg);
    else
        snprintf(out, cap, "/tmp/triglav-%u", (unsigned)geteuid());
}

static void common_default(struct rt_common_opts *c, const struct tg_mp_config *mp)
{
    default_state_dir(c->state_dir, sizeof c->state_dir);
    c->buffer_bytes = 4 << 20;
    c->mtu = RT_DEFAULT_MTU;
    c->metrics = (struct tg_key_addr){.type = TG_ADDR_IPV4, .addr = {127, 0, 0, 1}, .port = 9091};
    c->mp = *mp;
}

void rt_client_opts_default(struct rt_client_opts *o)
{
    memset(o, 0, sizeof *o);
    struct tg_client_config cc;
    tg_client_config_default(&cc);
    cc.mp.queue_slots = 2048; /* a burst of a fast download fits */
    common_default(&o->c, &cc.mp);
    snprintf(o->tun_name, sizeof o->tun_name, "tg0");
    snprintf(o->resolv_conf, sizeof o->resolv_conf, "/etc/resolv.conf");
    o->dns_servers[0][0] = o->dns_servers[0][1] = o->dns_servers[0][2] = o->dns_servers[0][3] = 1;
    o->n_dns = 1;
    o->fwmark = 0x7467;
    o->table = 7467;
    o->rule_priority = 5300;
    o->connect_timeout_us = TG_SEC(15);
    o->reconnect_after_us = TG_SEC(60);
    o->nat = cc.nat;
    o->proxy_listen[0] = 127;
    o->proxy_listen[3] = 1;
}

void rt_server_opts_default(struct rt_server_opts *o)
{
    memset(o, 0, sizeof *o);
    struct tg_server_config sc;
    tg_server_config_default(&sc);
    sc.mp.queue_slots = 4096; /* many clients' bursts */
    common_default(&o->c, &sc.mp);
    snprintf(o->tun_name, sizeof o->tun_name, "tgsrv0");
    memcpy(o->pool.addr, sc.pool_addr, 4);
    o->pool.len = sc.pool_prefix;
    snprintf(o->pool6, sizeof o->pool6, "auto");
    o->max_sessions = sc.max_sessions;
    o->idle_timeout_us = sc.session_idle_us;
}

void rt_keygen_opts_default(struct rt_keygen_opts *o)
{
    memset(o, 0, sizeof *o);
}

void rt_config_opts_default(struct rt_config_opts *o)
{
    memset(o, 0, sizeof *o);
}

const char *rt_cmd_name(unsigned cmd)
{
    switch (cmd) {
    case RT_CMD_TUN:
        return "tun";
    case RT_CMD_SERVER:
        return "server";
    case RT_CMD_KEYGEN:
        return "keygen";
    case RT_CMD_CONFIG:
        return "config";
    case RT_CMD_CONNECT:
        return "connect";
    }
    return "?";
}

/* ------------------------------------------------------------ choices */

static int strategy_parse(const char *s, int *out)
{
    static const struct {
        const char *alias;
        enum tg_strategy s;
    } aliases[] = {
        {"wrr", TG_STRATEGY_WEIGHTED_ROUND_ROBIN},
        {"latency", TG_STRATEGY_LOWEST_LATENCY},
        {"loss", TG_STRATEGY_LOWEST_LOSS},
        {"primary-backup", TG_STRATEGY_PRIMARY_BACKUP},
        {"ecmp", TG_STRATEGY_ECMP_AWARE},
        {"bandwidth", TG_STRATEGY_BANDWIDTH_PROPORTIONAL},
    };
    enum tg_strategy v;
    if (tg_strategy_parse(s, &v) == TG_OK) {
        *out = (int)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(s, aliases[i].alias) == 0) {
            *out = (int)aliases[i].s;
            return 0;
        }
    return -1;
}

static const char *strategy_name(int v)
{
    return tg_strategy_name((enum tg_strategy)v);
}

static int aggregation_parse(const char *s, int *out)
{
    enum tg_aggregation v;
    if (tg_aggregation_parse(s, &v) != TG_OK)
        return -1;
    *out = (int)v;
    return 0;
}

static const char *aggregation_name(int v)
{
    return tg_aggregation_name((enum tg_aggregation)v);
}

static int level_parse(const char *s, int *out)
{
    if (strcmp(s, "info") == 0 || strcmp(s, "debug") == 0) {
        *out = s[0] == 'd';
        return 0;
    }
    return -1;
}

static const char *level_name(int v)
{
    return v ? "debug" : "info";
}

static const struct rt_choice strategies = {
    "adaptive lowest_latency lowest_loss weighted_round_robin bandwidth_proportional redundant "
    "primary_backup ecmp_aware",
    strategy_parse, strategy_name};
static const struct rt_choice aggregations = {"none full adaptive", aggregation_parse,
                                              aggregation_name};
static const struct rt_choice levels = {"info debug", level_parse, level_name};

static const char *const transport_names[] = {"auto", "udp", "tcp"};

static int transport_parse(const char *s, int *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(s, transport_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return -1;
}

static const char *transport_name(int v)
{
    return v >= 0 && v < 3 ? transport_names[v] : "?";
}

static const struct rt_choice transports = {"auto udp tcp", transport_parse, transport_name};

/* ------------------------------------------------------------ the table */

#define FIELD(type, f) .off = offsetof(struct type, f), .size = sizeof(((struct type *)0)->f)
#define CO(f)          FIELD(rt_common_opts, f)
#define CL(f)          FIELD(rt_client_opts, f)
#define SV(f)          FIELD(rt_server_opts, f)
#define LIST(type, f, n, e)                                                                        \
    .kind = RT_OPT_LIST, .elem = e, FIELD(type, f),                                                \
    .max_n = sizeof(((struct type *)0)->f) / sizeof(((struct type *)0)->f[0]),                     \
    .count_off = offsetof(struct type, n)
#define SEC(s)  ((double)TG_SEC(s))
#define MSEC(s) ((double)TG_MSEC(s))
#define T       RT_CMD_TUN
#define S       RT_CMD_SERVER
#define R       RT_CMD_RUN
#define C       RT_CMD_CONNECT

const struct rt_opt rt_opts[] = {
    /* [client] */
    {T | C, NULL, 0, "client", "auth_key", "client.key", RT_OPT_STRING, 0, CL(key),
     .help = "the server's tg1_ connection key (a KEY on the command line wins)",
     .example = "\"tg1_...\""},
    {T | C, "interface", 'i', "client", "interfaces", "client.uplinks",
     LIST(rt_client_opts, ifaces, n_ifaces, RT_OPT_IFACE), .comp = RT_COMP_IFACE, .arg = "IFACE",
     .help = "use IFACE as an uplink (repeat for each)", .example = "[\"eth0\", \"wlan0\"]"},
    {T | C, "auto-discover", 0, "client", "auto_discover", NULL, RT_OPT_BOOL, 0, CL(auto_discover),
     .help = "every interface with a default route is an uplink; they join and leave as they "
             "appear and disappear"},
    {T | C, "connect-timeout", 0, "client", "connect_timeout", "transport.connect_timeout",
     RT_OPT_DURATION, 0, CL(connect_timeout_us), .max = SEC(86400), .arg = "TIME",
     .help = "give up when the server does not answer for this long (0 = never)"},
    {T | C, "reconnect-after", 0, "client", "reconnect_after", NULL, RT_OPT_DURATION, 0,
     CL(reconnect_after_us), .max = SEC(86400), .arg = "TIME",
     .help = "start a new session when no uplink has reached the server for this long, e.g. "
             "after a server restart (0 = never)"},
    {T, "capture", 0, "client", "capture", NULL, RT_OPT_STRING, RT_OF_EMPTY, CL(capture),
     .comp = RT_COMP_FILE, .glob = "*.pcap", .arg = "FILE.pcap",
     .help = "record the tunnel's inner traffic, both directions (raw IP pcap), for "
             "`triglav-sim replay FILE.pcap --scenario S.scn`",
     .example = "\"session.pcap\""},
    {T | C, "transport", 0, "client", "transport", NULL, RT_OPT_CHOICE, 0, CL(transport),
     .choice = &transports, .arg = "T",
     .help = "auto (UDP; an uplink that gets no UDP answer for 3 s carries the same datagrams "
             "over TCP to the server's port, and goes back to UDP once UDP answers), udp, or tcp "
             "(TCP from the start; slower under loss: TCP inside TCP)"},
    /* [tun] */
    {T, "tun-name", 0, "tun", "name", "client.tun_name", RT_OPT_IFACE, 0, CL(tun_name),
     .arg = "NAME", .help = "the TUN device"},
    {T, "mtu", 0, "tun", "mtu", "transport.mtu", RT_OPT_INT, 0, CO(mtu), .min = 576, .max = 9000,
     .arg = "N", .help = "TUN MTU"},
    {T, "ipv4", 0, "tun", "ipv4", "client.ipv4 tun.ipv4_addr", RT_OPT_PREFIX,
     RT_OF_HOST | RT_OF_SETS, CL(ipv4), .set_off = offsetof(struct rt_client_opts, has_ipv4),
     .arg = "ADDR[/LEN]", .help = "put this address on the TUN instead of the one the server gives",
     .example = "\"198.18.0.2/24\""},
    /* [routing] */
    {T, "full-tunnel", 0, "routing", "full_tunnel", "client.full_tunnel", RT_OPT_BOOL, 0,
     CL(full_tunnel),
     .help = "send all IPv4 traffic through the tunnel (policy routing); IPv6 is blocked "
             "meanwhile (the tunnel carries IPv4 only)"},
    {T, "allow-ipv6", 0, "routing", "allow_ipv6", NULL, RT_OPT_BOOL, 0, CL(allow_ipv6),
     .help = "with the full tunnel: let IPv6 leave outside the tunnel"},
    {T, "route", 0, "routing", "include_routes", "client.routes client.route routing.routes",
     LIST(rt_client_opts, routes, n_routes, RT_OPT_PREFIX), .arg = "CIDR",
     .help = "send CIDR through the tunnel (repeat)"},
    {T, "exclude", 0, "routing", "exclude_routes", "client.exclude routing.exclude",
     LIST(rt_client_opts, excludes, n_excludes, RT_OPT_PREFIX), .arg = "CIDR",
     .help = "never send CIDR through the tunnel (repeat)"},
    {T, "dns", 0, "routing", "dns", "client.dns", RT_OPT_BOOL, 0, CL(dns),
     .help = "point resolv.conf at the resolvers below (reached through the tunnel) until exit"},
    {T | C, "dns-server", 0, "routing", "dns_servers", "client.dns_server client.dns_servers",
     LIST(rt_client_opts, dns_servers, n_dns, RT_OPT_IPV4), .flags = RT_OF_PORT53, .arg = "IP",
     .help = "resolver for --dns (repeat); with connect, the first resolves the proxies' "
             "host names through the tunnel"},
    /* [proxy] */
    {C, "socks", 0, "proxy", "socks_port", "client.socks_port", RT_OPT_INT, 0, CL(socks_port),
     .max = 65535, .arg = "PORT",
     .help = "serve SOCKS5 (CONNECT, UDP ASSOCIATE) on this port (0 = off)"},
    {C, "http-proxy", 0, "proxy", "http_port", "client.http_proxy_port", RT_OPT_INT, 0,
     CL(http_port), .max = 65535, .arg = "PORT",
     .help = "serve an HTTP proxy (CONNECT and plain requests) on this port (0 = off)"},
    {C, "proxy-listen", 0, "proxy", "listen", NULL, RT_OPT_IPV4, 0, CL(proxy_listen), .arg = "IP",
     .help = "the proxies' address (anything but loopback lets other hosts use the tunnel: "
             "give --proxy-auth too)"},
    {C, "proxy-auth", 0, "proxy", "auth", NULL, RT_OPT_STRING, RT_OF_EMPTY, CL(proxy_auth),
     .arg = "USER:PASSWORD",
     .help = "the user and password the proxies ask for (SOCKS5 RFC 1929, HTTP Basic)",
     .example = "\"me:secret\""},
    {T, "resolv-conf", 0, "routing", "resolv_conf", NULL, RT_OPT_STRING, 0, CL(resolv_conf),
     .comp = RT_COMP_FILE, .arg = "FILE", .help = "the resolver file --dns rewrites and restores"},
    {T, "fwmark", 0, "routing", "fwmark", NULL, RT_OPT_INT, RT_OF_HEX, CL(fwmark), .min = 1,
     .max = 0xffffffffu, .arg = "N",
     .help = "mark of the uplink sockets, so the tunnel's own packets never route into it"},
    {T, "table", 0, "routing", "table", NULL, RT_OPT_INT, RT_OF_TABLE_ID, CL(table), .min = 1,
     .max = 0xfffffffeu, .arg = "N", .help = "routing table that holds the full tunnel's routes"},
    {T, NULL, 0, "routing", "rule_priority", NULL, RT_OPT_INT, 0, CL(rule_priority), .min = 1,
     .max = 0xfffff000u, .help = "priority of the first of the policy rules (the next follow it)"},
    /* [nat] */
    {T, NULL, 0, "nat", "enabled", NULL, RT_OPT_BOOL, 0, CL(nat),
     .help = "rewrite packets from other local sources (containers, a shared connection) to "
             "the tunnel address, and their answers back"},
    /* [transport] */
    {R, NULL, 0, "transport", "buffer_size",
     "transport.send_buffer_size "
     "transport.recv_buffer_size",
     RT_OPT_SIZE, 0, CO(buffer_bytes), .min = 65536, .max = 1 << 30,
     .help = "UDP socket buffers, each direction (send_buffer_size and recv_buffer_size are "
             "read as this)"},
    {R, "no-offload", 0, "transport", "offload", NULL, RT_OPT_BOOL, RT_OF_NEGATE, CO(no_offload),
     .help = "plain I/O: no TUN TSO or checksum offload, no UDP GSO",
     .khelp = "TUN TSO and checksum offload, UDP GSO and GRO (false: plain I/O)"},
    {S, "mtu", 0, "transport", "mtu", NULL, RT_OPT_INT, 0, CO(mtu), .min = 576, .max = 9000,
     .arg = "N", .help = "TUN MTU"},
    /* [multipath] */
    {R, "aggregation", 0, "multipath", "aggregation_mode",
     "multipath.aggregation client.aggregation", RT_OPT_CHOICE, 0, CO(mp.sched.aggregation),
     .choice = &aggregations, .arg = "A",
     .help = "none (each flow on one uplink), full (stripe every packet) or adaptive (stripe "
             "over the uplinks whose latency is close to the lowest)"},
    {R, NULL, 0, "multipath", "probe_interval", NULL, RT_OPT_DURATION, 0, CO(mp.probe_interval_us),
     .min = MSEC(10), .max = SEC(60), .help = "a probe on each live uplink this often"},
    {R, NULL, 0, "multipath", "down_probe_interval", NULL, RT_OPT_DURATION, 0,
     CO(mp.down_probe_interval_us), .min = MSEC(10), .max = SEC(600),
     .help = "a probe on each uplink that is down this often while the session carries data, so it "
             "comes back (idle sessions probe every uplink once a second)"},
    {R, NULL, 0, "multipath", "feedback_interval", NULL, RT_OPT_DURATION, 0,
     CO(mp.feedback_interval_us), .min = MSEC(1), .max = SEC(1),
     .help = "the receiver reports what arrived at most this late"},
    {R, NULL, 0, "multipath", "retransmit_slots", NULL, RT_OPT_INT, RT_OF_POW2,
     CO(mp.retransmit_slots), .max = 65536,
     .help = "packets kept to send again when the peer reports them lost or their uplink goes "
             "silent, and TCP packets kept through an outage of every uplink (a power of two; 0: "
             "no loss recovery in the tunnel)"},
    {R, NULL, 0, "multipath", "retransmit_budget", NULL, RT_OPT_NUMBER, 0, CO(mp.retransmit_budget),
     .max = 1, .help = "at most this many resends per striped packet sent, over time"},
    {R, NULL, 0, "multipath", "uplink_queue_limit", NULL, RT_OPT_SIZE, 0, CO(mp.uplink_queue_limit),
     .max = 1 << 30,
     .help = "bytes kept at most in an uplink's bottleneck queue, by the tunnel's estimate; the "
             "rest waits in the tunnel, where a burst costs delay rather than a loss (0: every "
             "packet goes at once)"},
    {R, NULL, 0, "multipath", "pace_slots", NULL, RT_OPT_INT, 0, CO(mp.pace_slots), .max = 65536,
     .help = "packets the tunnel holds at most while its uplinks' queues are at the limit (0: "
             "none held)"},
    {R, NULL, 0, "multipath", "light_flow_rate", NULL, RT_OPT_SIZE, 0, CO(mp.light_flow_rate),
     .max = 1 << 30,
     .help = "bytes a second under which a flow (a call, an SSH session) passes the tunnel's "
             "queue and is delivered as it comes, beside downloads that wait there (0: none "
             "does)"},
    /* [multipath.aggregator] */
    {R, NULL, 0, "multipath.aggregator", "reorder_buffer_size", NULL, RT_OPT_INT, RT_OF_POW2,
     CO(mp.reorder.capacity), .min = 2, .max = 16384,
     .help = "packets the reorder buffer holds (a power of two)"},
    {R, "reorder-hold-ms", 0, "multipath.aggregator", "reorder_timeout", NULL, RT_OPT_DURATION,
     RT_OF_MS, CO(mp.reorder.max_hold_us), .min = MSEC(1), .max = SEC(10), .arg = "N",
     .help = "longest a striped packet waits for an earlier one (a bare number is ms)"},
    {R, NULL, 0, "multipath.aggregator", "playout_max", NULL, RT_OPT_DURATION, RT_OF_MS,
     CO(mp.playout_max_us), .max = SEC(1), .arg = "N",
     .help = "striped packets reach the host with the slowest uplink's delay when the uplinks' "
             "delays differ by up to this (0: off; a bare number is ms)"},
    /* [multipath.scheduler] */
    {R, "strategy", 0, "multipath.scheduler", "strategy", "multipath.strategy client.strategy",
     RT_OPT_CHOICE, 0, CO(mp.sched.strategy), .choice = &strategies, .arg = "S",
     .help = "how packets are spread over the uplinks (the server: its downloads)"},
    {R, NULL, 0, "multipath.scheduler", "rtt_weight", NULL, RT_OPT_NUMBER, 0, CO(mp.sched.w_rtt),
     .max = 1, .help = "adaptive: weight of the round-trip time"},
    {R, NULL, 0, "multipath.scheduler", "loss_weight", NULL, RT_OPT_NUMBER, 0, CO(mp.sched.w_loss),
     .max = 1, .help = "adaptive: weight of the loss rate"},
    {R, NULL, 0, "multipath.scheduler", "bandwidth_weight", NULL, RT_OPT_NUMBER, 0,
     CO(mp.sched.w_bw), .max = 1, .help = "adaptive: weight of the delivery rate"},
    {R, NULL, 0, "multipath.scheduler", "nat_penalty_weight", NULL, RT_OPT_NUMBER, 0,
     CO(mp.sched.w_nat), .max = 1, .help = "adaptive: penalty of an uplink behind NAT"},
    {R, NULL, 0, "multipath.scheduler", "adaptive_spread", NULL, RT_OPT_DURATION, 0,
     CO(mp.sched.adaptive_spread_us), .max = SEC(10),
     .help = "aggregation adaptive: stripe over the uplinks at most this much slower than the "
             "fastest"},
    {R, NULL, 0, "multipath.scheduler", "flow_timeout", "multipath.scheduler.sticky_timeout",
     RT_OPT_DURATION, 0, CO(mp.sched.flow_idle_us), .min = SEC(1), .max = SEC(86400),
     .help = "aggregation none: a flow keeps its uplink until idle this long"},
    {R, NULL, 0, "multipath.scheduler", "default_rate", NULL, RT_OPT_RATE, 0,
     CO(mp.sched.default_rate_bps), .min = 1e3, .max = 1e12,
     .help = "rate assumed for an uplink until one is measured"},
    /* [metrics] */
    {R, NULL, 0, "metrics", "enabled", NULL, RT_OPT_BOOL, 0, CO(has_metrics),
     .help = "serve Prometheus text at http://LISTEN/metrics"},
    {R, "metrics-addr", 0, "metrics", "listen", "metrics.listen_addr metrics.bind_address",
     RT_OPT_ADDR, RT_OF_ENABLES, CO(metrics),
     .set_off = offsetof(struct rt_common_opts, has_metrics), .arg = "ADDR:PORT",
     .help = "serve Prometheus text at http://ADDR:PORT/metrics (not served by default)",
     .khelp = "where metrics are served when enabled"},
    /* [logging] */
    {R, NULL, 0, "logging", "level", NULL, RT_OPT_CHOICE, 0, CO(verbose), .choice = &levels,
     .help = "info, or debug (as -v)"},
    {R, "log-file", 0, "logging", "file", NULL, RT_OPT_STRING, RT_OF_EMPTY, CO(log_file),
     .comp = RT_COMP_FILE, .arg = "FILE", .help = "log there instead of stderr",
     .example = "\"/var/log/triglav.log\""},
    /* [server] */
    {S, "listen", 0, "server", "listen", "server.listen_addrs",
     LIST(rt_server_opts, listen, n_listen, RT_OPT_ADDR), .arg = "ADDR:PORT",
     .help = "UDP address to listen on (repeat for several)", .example = "[\"0.0.0.0:7443\"]"},
    {S, "key", 0, "server", "key_file", NULL, RT_OPT_STRING, 0, SV(key_file), .comp = RT_COMP_FILE,
     .arg = "FILE", .help = "private key file (from `triglav keygen`)",
     .example = "\"/etc/triglav/server.key\""},
    {S, "generate-key", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, SV(generate_key),
     .help = "make a new key (saved to --key FILE when given) and print it"},
    {S, "print-key", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, SV(print_key),
     .help = "print the tg1_ key of --key FILE, with the --advertise or --listen addresses, "
             "and exit"},
    {S, "advertise", 0, "server", "advertise", NULL,
     LIST(rt_server_opts, advertise, n_advertise, RT_OPT_ADDR), .flags = RT_OF_NOT_ANY,
     .arg = "IP:PORT",
     .help = "address to put in the printed key (default: the listen addresses; a wildcard "
             "becomes the default route's address)",
     .example = "[\"203.0.113.1:7443\"]"},
    {S, "pool", 0, "server", "pool", NULL, RT_OPT_PREFIX, 0, SV(pool), .max = 30, .arg = "CIDR",
     .help = "tunnel addresses for clients (.1 is the server)"},
    {S, "pool6", 0, "server", "pool6", NULL, RT_OPT_STRING, 0, SV(pool6), .arg = "CIDR|auto|off",
     .help = "tunnel IPv6 prefix (/16 to /96): a client gets its IPv4 host number in it, ::1 is "
             "the server; auto = fd85::/64 when the server has an IPv6 default route",
     .example = "\"2001:db8:85::/64\""},
    {S, "tun-name", 0, "server", "tun_name", NULL, RT_OPT_IFACE, 0, SV(tun_name), .arg = "NAME",
     .help = "the server's TUN device"},
    {S, "egress", 0, "server", "egress", NULL, RT_OPT_IFACE, RT_OF_EMPTY, SV(egress),
     .comp = RT_COMP_IFACE, .arg = "IFACE",
     .help = "masquerade only out of IFACE (default: every interface but the TUN)",
     .example = "\"eth0\""},
    {S, "no-nat", 0, "server", "masquerade", NULL, RT_OPT_BOOL, RT_OF_NEGATE, SV(no_nat),
     .help = "leave forwarding and nftables alone",
     .khelp = "turn on forwarding and masquerade the clients' traffic (false: leave "
              "forwarding and nftables alone)"},
    {S, "no-tcp-fallback", 0, "server", "tcp_fallback", NULL, RT_OPT_BOOL, RT_OF_NEGATE,
     SV(no_tcp_fallback), .help = "listen on UDP only (no TCP listener for clients whose "
                                  "networks block UDP)",
     .khelp = "also listen on TCP, same addresses and ports, for clients whose networks block "
              "UDP (false: UDP only)"},
    {S, "max-sessions", 0, "server", "max_connections", "server.max_sessions", RT_OPT_INT, 0,
     SV(max_sessions), .min = 1, .max = 100000, .arg = "N",
     .help = "clients at once (the pool bounds them too)"},
    {S, NULL, 0, "server", "idle_timeout", NULL, RT_OPT_DURATION, 0, SV(idle_timeout_us),
     .min = SEC(1), .max = SEC(7 * 86400),
     .help = "a client's session ends after this long without traffic"},
    /* the command line's own */
    {R, "config", 0, NULL, NULL, NULL, RT_OPT_CONFIG, 0, 0, 0, .comp = RT_COMP_FILE,
     .glob = "*.toml", .arg = "FILE",
     .help = "TOML config (`triglav config` writes one with every key); flags override it"},
    {R, "print-config", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, CO(print_config),
     .help = "print the configuration in effect (defaults, --config, flags) as TOML and exit"},
    {R, "daemon", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, CO(daemon), .help = "run in the background"},
    {R, "pid-file", 0, NULL, NULL, NULL, RT_OPT_STRING, 0, CO(pid_file), .comp = RT_COMP_FILE,
     .arg = "FILE", .help = "with --daemon: write the pid there"},
    {R, "state-dir", 0, NULL, NULL, NULL, RT_OPT_STRING, 0, CO(state_dir), .comp = RT_COMP_DIR,
     .arg = "DIR", .help = "where the journal of changes and the control socket live"},
    {R, "cleanup", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, CO(cleanup),
     .help = "undo what a crashed run left (rules, routes, DNS, nftables, forwarding) and exit"},
    {R, "verbose", 'v', NULL, NULL, NULL, RT_OPT_BOOL, 0, CO(verbose), .help = "debug logging"},
    /* keygen */
    {RT_CMD_KEYGEN, "output", 'o', NULL, NULL, NULL, RT_OPT_STRING, 0,
     FIELD(rt_keygen_opts, output), .comp = RT_COMP_FILE, .arg = "FILE",
     .help = "where the new private key goes (mode 0600; an existing file is never "
             "overwritten)"},
    {RT_CMD_KEYGEN, "address", 'a', NULL, NULL, NULL,
     LIST(rt_keygen_opts, addrs, n_addrs, RT_OPT_ADDR), .flags = RT_OF_NOT_ANY, .arg = "IP:PORT",
     .help = "where clients reach the server, put in the key (repeat)"},
    /* config */
    {RT_CMD_CONFIG, "server", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, FIELD(rt_config_opts, server),
     .help = "the server's file: [server], [transport], [multipath], [metrics], [logging]"},
    {RT_CMD_CONFIG, "client", 0, NULL, NULL, NULL, RT_OPT_BOOL, 0, FIELD(rt_config_opts, client),
     .help = "the client's file: [client], [tun], [routing], [nat], [transport], "
             "[multipath], [metrics], [logging]"},
    {RT_CMD_CONFIG, "output", 'o', NULL, NULL, NULL, RT_OPT_STRING, 0,
     FIELD(rt_config_opts, output), .comp = RT_COMP_FILE, .glob = "*.toml", .arg = "FILE",
     .help = "write the file there (never over an existing file) instead of to stdout"},
    {R | RT_CMD_KEYGEN | RT_CMD_CONFIG, "help", 'h', NULL, NULL, NULL, RT_OPT_HELP, 0, 0, 0,
     .help = "this help"},
};
const size_t rt_n_opts = sizeof rt_opts / sizeof rt_opts[0];

const char *const rt_client_tables[] = {
    "client",
    "proxy",
    "tun",
    "routing",
    "nat",
    "transport",
    "multipath",
    "multipath.aggregator",
    "multipath.scheduler",
    "metrics",
    "logging",
    NULL,
};
const char *const rt_server_tables[] = {
    "server",  "transport", "multipath", "multipath.aggregator", "multipath.scheduler",
    "metrics", "logging",   NULL,
};
