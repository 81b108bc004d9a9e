/*
 * triglav: the live program (DESIGN.md §6).
 *   triglav keygen --output FILE [--address HOST:PORT]...
 *   triglav server (--key FILE | --generate-key) --listen ADDR:PORT... [options]
 *   triglav tun tg1_... (-i IFACE... | --auto-discover) [options]
 * Flags override what a --config file says.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "completions.h"
#include "control.h"
#include "keyfile.h"
#include "log.h"
#include "opts.h"
#include "sys.h"

static const char usage_main[] =
    "usage: triglav <command> [options]\n"
    "  keygen   make a server key file and print its tg1_ connection key\n"
    "  server   run the server: UDP listeners, TUN, address pool, masquerade\n"
    "  tun      connect: a TUN device carried over every uplink at once\n"
    "  status   uplinks and counters of a running tun or server (--json, --watch)\n"
    "  uplink   list, show, add, remove, enable or disable the running tunnel's uplinks\n"
    "  benchmark  throughput and latency through the tunnel, per uplink and in all\n"
    "  diagnose  what a tunnel needs here (permissions, uplinks, reachability, MTU, NAT)\n"
    "  completions  print a shell completion script: bash, zsh or fish\n"
    "  version  print the version\n"
    "`triglav <command> --help` shows the command's options.\n";

static const char usage_keygen[] =
    "usage: triglav keygen --output FILE [--address HOST:PORT]...\n"
    "  Writes a new server private key to FILE (mode 0600, refuses to overwrite) and\n"
    "  prints the tg1_ key clients use; --address puts where the server listens in it.\n";

static const char usage_server[] =
    "usage: triglav server (--key FILE | --generate-key [--key FILE]) --listen ADDR:PORT...\n"
    "  --listen ADDR:PORT    UDP address to listen on (repeat for several)\n"
    "  --key FILE            private key file (from `triglav keygen`)\n"
    "  --generate-key        make a new key (saved to --key FILE when given) and print it\n"
    "  --advertise HOST:PORT address to put in the printed key (default: the listen\n"
    "                        addresses; a wildcard becomes the default route's address)\n"
    "  --pool CIDR           tunnel addresses for clients (10.85.0.0/16; .1 is the server)\n"
    "  --tun-name NAME       the server's TUN device (tgsrv0)\n"
    "  --egress IFACE        masquerade only out of IFACE (default: every interface but the TUN)\n"
    "  --no-nat              leave forwarding and nftables alone\n"
    "  --max-sessions N      clients at once (10000; the pool bounds them too)\n"
    "  --strategy S          how downloads are spread over a client's uplinks (adaptive)\n"
    "  --aggregation A       none | full | adaptive (adaptive)\n"
    "  --mtu N               TUN MTU (1428)\n"
    "  --no-offload          plain I/O: no TUN TSO or checksum offload, no UDP GSO\n"
    "  --config FILE         TOML config ([server], [transport], [metrics]); flags override it\n"
    "  --daemon --pid-file F run in the background\n"
    "  --log-file FILE       log there instead of stderr\n"
    "  --state-dir DIR       where the journal of changes lives (/run/triglav)\n"
    "  --cleanup             undo what a crashed server left (nftables, forwarding) and exit\n"
    "  -v                    debug logging\n";

static const char usage_tun[] =
    "usage: triglav tun tg1_KEY (-i IFACE... | --auto-discover) [options]\n"
    "  -i, --interface IFACE  use IFACE as an uplink (repeat for each)\n"
    "  --auto-discover        every interface with a default route is an uplink; they join\n"
    "                         and leave as they appear and disappear\n"
    "  --full-tunnel          send all IPv4 traffic through the tunnel (policy routing);\n"
    "                         IPv6 is blocked meanwhile (the tunnel carries IPv4 only)\n"
    "  --allow-ipv6           with --full-tunnel: let IPv6 leave outside the tunnel\n"
    "  --route CIDR           send CIDR through the tunnel (repeat)\n"
    "  --exclude CIDR         never send CIDR through the tunnel (repeat)\n"
    "  --dns                  point resolv.conf at --dns-server (through the tunnel) until exit\n"
    "  --dns-server IP        resolver for --dns (1.1.1.1; repeat)\n"
    "  --tun-name NAME        TUN device (tg0)\n"
    "  --ipv4 ADDR[/LEN]      put this address on the TUN instead of the one the server gives\n"
    "  --strategy S           adaptive lowest_latency lowest_loss weighted_round_robin\n"
    "                         bandwidth_proportional redundant primary_backup ecmp_aware\n"
    "  --aggregation A        none | full | adaptive\n"
    "  --connect-timeout SEC  give up when the server does not answer (15; 0 = never)\n"
    "  --reconnect-after SEC  start a new session when no uplink has reached the server\n"
    "                         for SEC seconds, e.g. after a server restart (60; 0 = never)\n"
    "  --fwmark N --table N   mark of the uplink sockets and our routing table (0x7467, 7467)\n"
    "  --mtu N                TUN MTU (1428)\n"
    "  --no-offload           plain I/O: no TUN TSO or checksum offload, no UDP GSO\n"
    "  --reorder-hold-ms N    reorder buffer hold cap (the core's 500 ms)\n"
    "  --capture FILE.pcap    record the tunnel's inner traffic, both directions (raw IP\n"
    "                         pcap), for `triglav-sim replay FILE.pcap --scenario S.scn`\n"
    "  --config FILE          TOML config; flags override it\n"
    "  --daemon --pid-file F  run in the background\n"
    "  --log-file FILE        log there instead of stderr\n"
    "  --state-dir DIR        journal of changes (/run/triglav)\n"
    "  --cleanup              undo what a crashed run left (rules, routes, DNS) and exit\n"
    "  -v                     debug logging\n";

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

void rt_client_opts_default(struct rt_client_opts *o)
{
    memset(o, 0, sizeof *o);
    default_state_dir(o->c.state_dir, sizeof o->c.state_dir);
    o->c.buffer_bytes = 4 << 20;
    o->c.mtu = RT_DEFAULT_MTU;
    snprintf(o->tun_name, sizeof o->tun_name, "tg0");
    snprintf(o->resolv_conf, sizeof o->resolv_conf, "/etc/resolv.conf");
    o->fwmark = 0x7467;
    o->table = 7467;
    o->rule_priority = 5300;
    o->connect_timeout_us = TG_SEC(15);
    o->reconnect_after_us = TG_SEC(60);
}

void rt_server_opts_default(struct rt_server_opts *o)
{
    memset(o, 0, sizeof *o);
    default_state_dir(o->c.state_dir, sizeof o->c.state_dir);
    o->c.buffer_bytes = 4 << 20;
    o->c.mtu = RT_DEFAULT_MTU;
    snprintf(o->tun_name, sizeof o->tun_name, "tgsrv0");
    o->pool = (struct rt_prefix){.addr = {10, 85, 0, 0}, .len = 16};
}

static int bad(const char *what, const char *value, const char *hint)
{
    fprintf(stderr, "triglav: %s '%s': %s\n", what, value, hint);
    return 2;
}

static int copy(char *dst, size_t cap, const char *src, const char *what)
{
    if (strlen(src) >= cap)
        return bad(what, src, "too long");
    snprintf(dst, cap, "%s", src);
    return 0;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 0);
    if (errno != 0 || *end != '\0' || s[0] == '\0' || s[0] == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

int rt_parse_strategy(const char *s, enum tg_strategy *out);
int rt_parse_strategy(const char *s, enum tg_strategy *out)
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
    if (tg_strategy_parse(s, out) == TG_OK)
        return 0;
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(s, aliases[i].alias) == 0) {
            *out = aliases[i].s;
            return 0;
        }
    return -1;
}

/* The value of --config in argv, if any (it is applied before other flags). */
static const char *find_config(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--config=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

enum {
    O_CONFIG = 1000,
    O_DAEMON,
    O_PIDFILE,
    O_LOGFILE,
    O_STATEDIR,
    O_CLEANUP,
    O_MTU,
    O_METRICS,
    O_FULL,
    O_ROUTE,
    O_EXCLUDE,
    O_AUTO,
    O_TUNNAME,
    O_IPV4,
    O_DNS,
    O_DNSSERVER,
    O_STRATEGY,
    O_AGG,
    O_FWMARK,
    O_TABLE,
    O_TIMEOUT,
    O_RESOLV,
    O_LISTEN,
    O_KEY,
    O_GENKEY,
    O_ADVERTISE,
    O_POOL,
    O_EGRESS,
    O_NONAT,
    O_MAXSESS,
    O_OUTPUT,
    O_ADDRESS,
    O_HELP,
    O_HOLD,
    O_NOOFFLOAD,
    O_ALLOW6,
    O_RECONNECT,
    O_CAPTURE,
};

/* Options both commands take; returns 0 (handled), 1 (not common), 2 (error). */
static int common_opt(int c, const char *arg, struct rt_common_opts *o)
{
    switch (c) {
    case O_CONFIG:
        return 0; /* already applied */
    case O_DAEMON:
        o->daemon = true;
        return 0;
    case O_PIDFILE:
        return copy(o->pid_file, sizeof o->pid_file, arg, "--pid-file");
    case O_LOGFILE:
        return copy(o->log_file, sizeof o->log_file, arg, "--log-file");
    case O_STATEDIR:
        return copy(o->state_dir, sizeof o->state_dir, arg, "--state-dir");
    case O_NOOFFLOAD:
        o->no_offload = true;
        return 0;
    case O_CLEANUP:
        o->cleanup = true;
        return 0;
    case 'v':
        o->verbose = 1;
        return 0;
    case O_MTU: {
        unsigned long v;
        if (parse_uint(arg, 9000, &v) != 0 || v < 576)
            return bad("--mtu", arg, "expected 576..9000");
        o->mtu = (unsigned)v;
        return 0;
    }
    case O_METRICS:
        if (rt_addr_parse(arg, &o->metrics) != 0)
            return bad("--metrics-addr", arg, "expected ADDR:PORT, e.g. 127.0.0.1:9091");
        o->has_metrics = true;
        return 0;
    }
    return 1;
}

#define COMMON_LONGOPTS                                                                            \
    {"config", required_argument, NULL, O_CONFIG}, {"daemon", no_argument, NULL, O_DAEMON},        \
        {"pid-file", required_argument, NULL, O_PIDFILE},                                          \
        {"log-file", required_argument, NULL, O_LOGFILE},                                          \
        {"state-dir", required_argument, NULL, O_STATEDIR},                                        \
        {"cleanup", no_argument, NULL, O_CLEANUP}, {"mtu", required_argument, NULL, O_MTU},        \
        {"metrics-addr", required_argument, NULL, O_METRICS},                                      \
        {"no-offload", no_argument, NULL, O_NOOFFLOAD}, {"verbose", no_argument, NULL, 'v'},       \
    {                                                                                              \
        "help", no_argument, NULL, 'h'                                                             \
    }

static int start_logging(const struct rt_common_opts *o)
{
    rt_log_init(o->verbose ? RT_LOG_DEBUG : RT_LOG_INFO);
    if (o->log_file[0] != '\0') {
        int rc = rt_log_to_file(o->log_file);
        if (rc != 0) {
            fprintf(stderr, "triglav: cannot open log file %s: %s\n", o->log_file,
                    rt_file_strerror(rc));
            return 1;
        }
    }
    if (o->daemon && o->pid_file[0] == '\0')
        fprintf(stderr, "triglav: note: --daemon without --pid-file\n");
    return 0;
}

static int cmd_tun(int argc, char **argv)
{
    static struct rt_client_opts o;
    rt_client_opts_default(&o);
    const char *conf = find_config(argc, argv);
    if (conf != NULL && rt_config_load_client(conf, &o) != 0)
        return 2;
    static const struct option lo[] = {
        COMMON_LONGOPTS,
        {"interface", required_argument, NULL, 'i'},
        {"full-tunnel", no_argument, NULL, O_FULL},
        {"allow-ipv6", no_argument, NULL, O_ALLOW6},
        {"route", required_argument, NULL, O_ROUTE},
        {"exclude", required_argument, NULL, O_EXCLUDE},
        {"auto-discover", no_argument, NULL, O_AUTO},
        {"tun-name", required_argument, NULL, O_TUNNAME},
        {"ipv4", required_argument, NULL, O_IPV4},
        {"dns", no_argument, NULL, O_DNS},
        {"dns-server", required_argument, NULL, O_DNSSERVER},
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"aggregation", required_argument, NULL, O_AGG},
        {"fwmark", required_argument, NULL, O_FWMARK},
        {"table", required_argument, NULL, O_TABLE},
        {"connect-timeout", required_argument, NULL, O_TIMEOUT},
        {"resolv-conf", required_argument, NULL, O_RESOLV},
        {"reorder-hold-ms", required_argument, NULL, O_HOLD},
        {"reconnect-after", required_argument, NULL, O_RECONNECT},
        {"capture", required_argument, NULL, O_CAPTURE},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    unsigned long v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "i:vh", lo, NULL)) != -1) {
        if ((rc = common_opt(c, optarg, &o.c)) != 1) {
            if (rc != 0)
                return rc;
            continue;
        }
        switch (c) {
        case 'h':
            fputs(usage_tun, stdout);
            return 0;
        case 'i':
            if (o.n_ifaces >= TG_MAX_UPLINKS)
                return bad("-i", optarg, "too many uplinks (16 at most)");
            if ((rc = copy(o.ifaces[o.n_ifaces], 16, optarg, "interface name")) != 0)
                return rc;
            o.n_ifaces++;
            break;
        case O_FULL:
            o.full_tunnel = true;
            break;
        case O_ALLOW6:
            o.allow_ipv6 = true;
            break;
        case O_ROUTE:
        case O_EXCLUDE: {
            struct rt_prefix *p = c == O_ROUTE ? o.routes : o.excludes;
            int *n = c == O_ROUTE ? &o.n_routes : &o.n_excludes;
            if (*n >= RT_MAX_PREFIXES)
                return bad(c == O_ROUTE ? "--route" : "--exclude", optarg, "too many prefixes");
            if (rt_prefix_parse(optarg, &p[*n], false) != 0)
                return bad(c == O_ROUTE ? "--route" : "--exclude", optarg,
                           "expected an IPv4 prefix like 203.0.113.0/24");
            (*n)++;
            break;
        }
        case O_AUTO:
            o.auto_discover = true;
            break;
        case O_TUNNAME:
            if ((rc = copy(o.tun_name, sizeof o.tun_name, optarg, "--tun-name")) != 0)
                return rc;
            break;
        case O_IPV4:
            if (rt_prefix_parse(optarg, &o.ipv4, true) != 0)
                return bad("--ipv4", optarg, "expected an IPv4 address, optionally /LEN");
            o.has_ipv4 = true;
            break;
        case O_DNS:
            o.dns = true;
            break;
        case O_DNSSERVER:
            if (o.n_dns >= RT_MAX_DNS)
                return bad("--dns-server", optarg, "at most 4 resolvers");
            if (rt_ipv4_parse(optarg, o.dns_servers[o.n_dns]) != 0)
                return bad("--dns-server", optarg, "expected an IPv4 address");
            o.n_dns++;
            break;
        case O_STRATEGY:
            if (rt_parse_strategy(optarg, &o.strategy) != 0)
                return bad("--strategy", optarg,
                           "expected adaptive, lowest_latency, lowest_loss, weighted_round_robin, "
                           "bandwidth_proportional, redundant, primary_backup or ecmp_aware");
            o.strategy_set = true;
            break;
        case O_AGG:
            if (tg_aggregation_parse(optarg, &o.aggregation) != TG_OK)
                return bad("--aggregation", optarg, "expected none, full or adaptive");
            o.aggregation_set = true;
            break;
        case O_FWMARK:
            if (parse_uint(optarg, 0xffffffffu, &v) != 0 || v == 0)
                return bad("--fwmark", optarg, "expected a non-zero 32-bit number");
            o.fwmark = (uint32_t)v;
            break;
        case O_TABLE:
            if (parse_uint(optarg, 0xfffffffeu, &v) != 0 || v == 0 || v == 253 || v == 254 ||
                v == 255)
                return bad("--table", optarg, "expected a table number other than 0, 253-255");
            o.table = (uint32_t)v;
            break;
        case O_TIMEOUT:
            if (parse_uint(optarg, 86400, &v) != 0)
                return bad("--connect-timeout", optarg, "expected seconds (0 = wait forever)");
            o.connect_timeout_us = TG_SEC(v);
            break;
        case O_RECONNECT:
            if (parse_uint(optarg, 86400, &v) != 0)
                return bad("--reconnect-after", optarg, "expected seconds (0 = never)");
            o.reconnect_after_us = TG_SEC(v);
            break;
        case O_HOLD:
            if (parse_uint(optarg, 10000, &v) != 0 || v == 0)
                return bad("--reorder-hold-ms", optarg, "expected 1..10000 milliseconds");
            o.reorder_hold_us = TG_MSEC(v);
            break;
        case O_RESOLV:
            if ((rc = copy(o.resolv_conf, sizeof o.resolv_conf, optarg, "--resolv-conf")) != 0)
                return rc;
            break;
        case O_CAPTURE:
            if (optarg[0] == '\0')
                return bad("--capture", optarg, "expected a file name, e.g. session.pcap");
            if ((rc = copy(o.capture, sizeof o.capture, optarg, "--capture")) != 0)
                return rc;
            break;
        default:
            fputs(usage_tun, stderr);
            return 2;
        }
    }
    if (start_logging(&o.c) != 0)
        return 1;
    if (o.c.cleanup)
        return rt_client_cleanup(&o);
    if (optind < argc) {
        if (optind + 1 < argc)
            return bad("argument", argv[optind + 1], "only one key is expected");
        if ((rc = copy(o.key, sizeof o.key, argv[optind], "key")) != 0)
            return rc;
    }
    if (o.key[0] == '\0') {
        fputs("triglav tun: the server's tg1_ key is missing\n", stderr);
        fputs(usage_tun, stderr);
        return 2;
    }
    if (o.auto_discover && o.n_ifaces > 0) {
        fputs("triglav tun: use either -i IFACE... or --auto-discover, not both\n", stderr);
        return 2;
    }
    if (o.dns && o.n_dns == 0) {
        o.dns_servers[0][0] = 1, o.dns_servers[0][1] = 1, o.dns_servers[0][2] = 1,
        o.dns_servers[0][3] = 1;
        o.n_dns = 1;
    }
    return rt_client_run(&o);
}

static int cmd_server(int argc, char **argv)
{
    static struct rt_server_opts o;
    rt_server_opts_default(&o);
    const char *conf = find_config(argc, argv);
    if (conf != NULL && rt_config_load_server(conf, &o) != 0)
        return 2;
    static const struct option lo[] = {
        COMMON_LONGOPTS,
        {"listen", required_argument, NULL, O_LISTEN},
        {"key", required_argument, NULL, O_KEY},
        {"generate-key", no_argument, NULL, O_GENKEY},
        {"advertise", required_argument, NULL, O_ADVERTISE},
        {"pool", required_argument, NULL, O_POOL},
        {"tun-name", required_argument, NULL, O_TUNNAME},
        {"egress", required_argument, NULL, O_EGRESS},
        {"no-nat", no_argument, NULL, O_NONAT},
        {"max-sessions", required_argument, NULL, O_MAXSESS},
        {"strategy", required_argument, NULL, O_STRATEGY},
        {"aggregation", required_argument, NULL, O_AGG},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    unsigned long v;
    bool listen_from_cli = false;
    optind = 1;
    while ((c = getopt_long(argc, argv, "vh", lo, NULL)) != -1) {
        if ((rc = common_opt(c, optarg, &o.c)) != 1) {
            if (rc != 0)
                return rc;
            continue;
        }
        switch (c) {
        case 'h':
            fputs(usage_server, stdout);
            return 0;
        case O_LISTEN:
            if (!listen_from_cli)
                o.n_listen = 0; /* the command line replaces the config's list */
            listen_from_cli = true;
            if (o.n_listen >= RT_MAX_LISTEN)
                return bad("--listen", optarg, "at most 8 listen addresses");
            if (rt_addr_parse(optarg, &o.listen[o.n_listen]) != 0)
                return bad("--listen", optarg, "expected ADDR:PORT, e.g. 0.0.0.0:7443");
            o.n_listen++;
            break;
        case O_ADVERTISE:
            if (o.n_advertise >= RT_MAX_LISTEN)
                return bad("--advertise", optarg, "at most 8 addresses");
            if (rt_addr_parse(optarg, &o.advertise[o.n_advertise]) != 0 ||
                rt_addr_is_any(&o.advertise[o.n_advertise]))
                return bad("--advertise", optarg, "expected IP:PORT that clients can reach");
            o.n_advertise++;
            break;
        case O_KEY:
            if ((rc = copy(o.key_file, sizeof o.key_file, optarg, "--key")) != 0)
                return rc;
            break;
        case O_GENKEY:
            o.generate_key = true;
            break;
        case O_POOL:
            if (rt_prefix_parse(optarg, &o.pool, false) != 0)
                return bad("--pool", optarg, "expected an IPv4 prefix like 10.85.0.0/16");
            break;
        case O_TUNNAME:
            if ((rc = copy(o.tun_name, sizeof o.tun_name, optarg, "--tun-name")) != 0)
                return rc;
            break;
        case O_EGRESS:
            if ((rc = copy(o.egress, sizeof o.egress, optarg, "--egress")) != 0)
                return rc;
            break;
        case O_NONAT:
            o.no_nat = true;
            break;
        case O_STRATEGY:
            if (rt_parse_strategy(optarg, &o.strategy) != 0)
                return bad("--strategy", optarg, "see triglav tun --help for the names");
            o.strategy_set = true;
            break;
        case O_AGG:
            if (tg_aggregation_parse(optarg, &o.aggregation) != TG_OK)
                return bad("--aggregation", optarg, "expected none, full or adaptive");
            o.aggregation_set = true;
            break;
        case O_MAXSESS:
            if (parse_uint(optarg, 100000, &v) != 0 || v == 0)
                return bad("--max-sessions", optarg, "expected 1..100000");
            o.max_sessions = (uint32_t)v;
            break;
        default:
            fputs(usage_server, stderr);
            return 2;
        }
    }
    if (optind < argc)
        return bad("argument", argv[optind], "the server takes no positional arguments");
    if (start_logging(&o.c) != 0)
        return 1;
    if (o.c.cleanup)
        return rt_server_cleanup(&o);
    return rt_server_run(&o);
}

static int cmd_keygen(int argc, char **argv)
{
    static const struct option lo[] = {
        {"output", required_argument, NULL, O_OUTPUT},
        {"address", required_argument, NULL, O_ADDRESS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    struct tg_key_addr addrs[TG_KEY_MAX_ADDRS];
    size_t n = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:a:h", lo, NULL)) != -1) {
        switch (c) {
        case 'o':
        case O_OUTPUT:
            out = optarg;
            break;
        case 'a':
        case O_ADDRESS:
            if (n >= TG_KEY_MAX_ADDRS)
                return bad("--address", optarg, "at most 16 addresses");
            if (rt_addr_parse(optarg, &addrs[n]) != 0 || rt_addr_is_any(&addrs[n]))
                return bad("--address", optarg, "expected IP:PORT that clients can reach");
            n++;
            break;
        case 'h':
            fputs(usage_keygen, stdout);
            return 0;
        default:
            fputs(usage_keygen, stderr);
            return 2;
        }
    }
    if (out == NULL) {
        fputs("triglav keygen: --output FILE is required (the private key goes there)\n", stderr);
        return 2;
    }
    uint8_t priv[32], pub[32];
    char key[TG_KEY_STRING_MAX];
    rt_key_generate(priv);
    rt_key_public(priv, pub);
    int rc = rt_keyfile_write(out, priv);
    sodium_memzero(priv, sizeof priv);
    if (rc != 0) {
        fprintf(stderr, "triglav keygen: cannot write %s: %s%s\n", out, strerror(-rc),
                rc == -EEXIST ? " (it is not overwritten; delete it first)" : "");
        return 1;
    }
    rc = rt_key_string(pub, addrs, n, key, sizeof key);
    if (rc != TG_OK) {
        fprintf(stderr, "triglav keygen: %s\n", tg_strerror(rc));
        return 1;
    }
    printf("%s\n", key);
    if (n == 0)
        fprintf(stderr, "triglav keygen: note: the key names no address; give --address "
                        "HOST:PORT so clients know where to connect\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (sodium_init() < 0) {
        fputs("triglav: libsodium failed to initialise\n", stderr);
        return 1;
    }
    if (argc < 2) {
        fputs(usage_main, stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "server") == 0)
        return cmd_server(argc - 1, argv + 1);
    if (strcmp(cmd, "tun") == 0)
        return cmd_tun(argc - 1, argv + 1);
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("triglav %s (protocol %d)\n", TG_VERSION, TG_PROTOCOL_VERSION);
        return 0;
    }
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage_main, stdout);
        return 0;
    }
    if (strcmp(cmd, "status") == 0)
        return rt_cmd_status(argc - 1, argv + 1);
    if (strcmp(cmd, "uplink") == 0)
        return rt_cmd_uplink(argc - 1, argv + 1);
    if (strcmp(cmd, "completions") == 0)
        return rt_cmd_completions(argc - 1, argv + 1);
    if (strcmp(cmd, "benchmark") == 0)
        return rt_cmd_benchmark(argc - 1, argv + 1);
    if (strcmp(cmd, "diagnose") == 0)
        return rt_cmd_diagnose(argc - 1, argv + 1);
    fprintf(stderr, "triglav: unknown command '%s'\n%s", cmd, usage_main);
    return 2;
}
