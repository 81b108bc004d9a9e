/*
 * completions.c: `triglav completions bash|zsh|fish`, the shell completion
 * scripts of triglav (completion/completion.h writes them from the table
 * below). The table mirrors `triglav --help` and each command's --help: the
 * test completions_help (tests/install/) fails when a command or an option
 * is in one and not the other, so a new option is added here and in its
 * --help together.
 */
#include "completions.h"

#include <stddef.h>

#include "completion/completion.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define NONE   {COMP_NONE, NULL, NULL, NULL}
#define TEXT   {COMP_TEXT, NULL, NULL, NULL}
#define FILE_A {COMP_FILE, NULL, NULL, NULL}
#define DIR    {COMP_DIR, NULL, NULL, NULL}
#define IFACE  {COMP_IFACE, NULL, NULL, NULL}
#define TOML   {COMP_FILE, NULL, "*.toml", NULL}
#define STRATEGY                                                                                   \
    {COMP_WORDS,                                                                                   \
     "adaptive lowest_latency lowest_loss weighted_round_robin bandwidth_proportional "           \
     "redundant primary_backup ecmp_aware",                                                        \
     NULL, NULL}
#define AGGREGATION {COMP_WORDS, "none full adaptive", NULL, NULL}

/* Options `server` and `tun` share (opts.h's struct rt_common). */
#define COMMON_OPTS(what)                                                       \
    {"--config", 0, TOML, "TOML config; flags override it"},                   \
    {"--daemon", 0, NONE, "run in the background"},                            \
    {"--pid-file", 0, FILE_A, "with --daemon: write the pid there"},           \
    {"--log-file", 0, FILE_A, "log there instead of stderr"},                  \
    {"--state-dir", 0, DIR, "where the journal of changes lives"},             \
    {"--cleanup", 0, NONE, "undo what a crashed " what " left and exit"},      \
    {"--mtu", 0, TEXT, "TUN MTU"},                                             \
    {"--no-offload", 0, NONE, "plain I/O: no TUN or UDP offloads"},            \
    {"--strategy", 0, STRATEGY, "how packets are spread over the uplinks"},    \
    {"--aggregation", 0, AGGREGATION, "none, full or adaptive"},               \
    {"--tun-name", 0, TEXT, "TUN device"},                                     \
    {NULL, 'v', NONE, "debug logging"}

static const struct comp_opt keygen_opts[] = {
    {"--output", 0, FILE_A, "where the new private key goes"},
    {"--address", 0, TEXT, "HOST:PORT the server listens on, put in the key"},
};

static const struct comp_opt server_opts[] = {
    {"--listen", 0, TEXT, "UDP address to listen on"},
    {"--key", 0, FILE_A, "private key file"},
    {"--generate-key", 0, NONE, "make a new key and print it"},
    {"--advertise", 0, TEXT, "address to put in the printed key"},
    {"--pool", 0, TEXT, "tunnel addresses for clients (CIDR)"},
    {"--egress", 0, IFACE, "masquerade only out of this interface"},
    {"--no-nat", 0, NONE, "leave forwarding and nftables alone"},
    {"--max-sessions", 0, TEXT, "clients at once"},
    COMMON_OPTS("server"),
};

static const struct comp_opt tun_opts[] = {
    {"--interface", 'i', IFACE, "use this interface as an uplink"},
    {"--auto-discover", 0, NONE, "every interface with a default route is an uplink"},
    {"--full-tunnel", 0, NONE, "send all IPv4 traffic through the tunnel"},
    {"--allow-ipv6", 0, NONE, "with --full-tunnel: let IPv6 leave outside the tunnel"},
    {"--route", 0, TEXT, "send this CIDR through the tunnel"},
    {"--exclude", 0, TEXT, "never send this CIDR through the tunnel"},
    {"--dns", 0, NONE, "point resolv.conf at --dns-server until exit"},
    {"--dns-server", 0, TEXT, "resolver for --dns"},
    {"--ipv4", 0, TEXT, "address for the TUN instead of the server's"},
    {"--connect-timeout", 0, TEXT, "seconds to wait for the server"},
    {"--reconnect-after", 0, TEXT, "seconds without the server before a new session"},
    {"--fwmark", 0, TEXT, "mark of the uplink sockets"},
    {"--table", 0, TEXT, "our routing table"},
    {"--reorder-hold-ms", 0, TEXT, "reorder buffer hold cap"},
    {"--capture", 0, {COMP_FILE, NULL, "*.pcap", NULL}, "record the inner traffic (pcap)"},
    COMMON_OPTS("run"),
};

/* Where a running tunnel or server answers (cmds.h). */
#define FIND_OPTS                                                               \
    {"--tun-name", 0, TEXT, "TUN device of the running program"},              \
    {"--state-dir", 0, DIR, "its state folder"}

static const struct comp_opt status_opts[] = {
    {"--json", 0, NONE, "the status as JSON"},
    {"--detailed", 0, NONE, "every estimate and counter of every uplink"},
    {"--watch", 0, NONE, "again every --interval seconds"},
    {"--interval", 0, TEXT, "seconds between updates"},
    {"--count", 0, TEXT, "with --watch: stop after N updates"},
    {"--metrics", 0, NONE, "the Prometheus text instead"},
    FIND_OPTS,
};

static const struct comp_opt uplink_opts[] = {
    {"--json", 0, NONE, "as JSON"},
    FIND_OPTS,
};

static const struct comp_opt benchmark_opts[] = {
    {"--duration", 0, TEXT, "seconds of load"},
    {"--streams", 0, TEXT, "TCP streams at once"},
    {"--json", 0, NONE, "the results as one JSON object"},
    {NULL, 'i', IFACE, "with a tunnel of its own: use this interface as an uplink"},
    {"--auto-discover", 0, NONE, "with a tunnel of its own: every interface with a default route"},
    FIND_OPTS,
};

static const struct comp_opt diagnose_opts[] = {
    {"--connectivity", 0, NONE, "only the network: uplinks, handshakes, path MTU, NAT"},
    {"--full", 0, NONE, "all of it, plus kernel settings and a running tunnel"},
    {"--config", 0, TOML, "the client config: key, interfaces and mtu from it"},
    {"--timeout", 0, TEXT, "how long a handshake may take"},
    {"--mtu", 0, TEXT, "the TUN MTU the tunnel will use"},
    {NULL, 'i', IFACE, "check this uplink (default: every one with a default route)"},
    FIND_OPTS,
};

static const struct comp_cmd cmds[] = {
    {"keygen", "make a server key file and print its tg1_ key", keygen_opts, N(keygen_opts), NONE,
     NONE},
    {"server", "run the server", server_opts, N(server_opts), NONE, NONE},
    {"tun", "connect: a TUN device over every uplink at once", tun_opts, N(tun_opts), TEXT,
     NONE},
    {"status", "uplinks and counters of a running tun or server", status_opts, N(status_opts),
     NONE, NONE},
    {"uplink", "the running tunnel's uplinks", uplink_opts, N(uplink_opts),
     {COMP_WORDS, "list show add remove enable disable", NULL, NULL}, IFACE},
    {"benchmark", "throughput and latency through the tunnel", benchmark_opts,
     N(benchmark_opts), TEXT, NONE},
    {"diagnose", "what a tunnel needs here, and fixes", diagnose_opts, N(diagnose_opts), TEXT,
     NONE},
    {"completions", "print a shell completion script", NULL, 0,
     {COMP_WORDS, "bash zsh fish", NULL, NULL}, NONE},
    {"version", "print the version", NULL, 0, NONE, NONE},
};

static const struct comp_prog prog = {"triglav", cmds, N(cmds), "--help --version"};

int rt_cmd_completions(int argc, char **argv)
{
    return comp_main(&prog, argc, argv);
}
