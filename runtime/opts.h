/*
 * opts.h: what the commands were asked to do, and the one table of options
 * that says how. Each option has its command-line flag, its config file
 * table and key, its kind (string, duration, size, rate, integer, number,
 * bool, choice, address, prefix, IPv4 address, list), its default (the
 * value rt_*_opts_default() leaves in the field) and its help text. The
 * command-line parser (cli.c), the config loader and writer (config.c),
 * `--help` and `triglav config` are all read from the table (opts.c), so a
 * new option is one row.
 *
 * Order of precedence: defaults, then the --config file, then the flags
 * (a list given on the command line replaces the file's list).
 */
#ifndef RT_OPTS_H
#define RT_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "core/endpoint.h"
#include "core/conf.h"

#define RT_MAX_PREFIXES 32
#define RT_MAX_LISTEN   8
#define RT_MAX_DNS      4
/* TUN MTU that never makes a datagram above 1500 bytes: 1500 - 28 (IPv4 +
 * UDP) - 86 (Triglav header 16, tag 16, data frame header 20, and a receiver
 * feedback frame of 34 that the core may piggyback on a full-size packet). */
#define RT_DEFAULT_MTU 1428
/* The same over IPv6, whose header is 20 bytes longer (40 + 8 for UDP). */
#define RT_DEFAULT_MTU6 (RT_DEFAULT_MTU - 20)
/* UDP payload that crosses 1500 bytes of IPv6 path unfragmented: the core's
 * max_datagram (1472 for IPv4) when a path may be IPv6, so that a feedback
 * frame rides on a full DATA datagram only when it still fits. */
#define RT_MAX_DATAGRAM6 (1500 - 48)

/* ------------------------------------------------------------ the options */

/* What `server` and `tun` share. `mp` is the core's multipath config
 * (scheduler, reorder buffer, probes), both ends alike. */
struct rt_common_opts {
    bool daemon;
    char pid_file[256];
    char log_file[256];
    char state_dir[200];        /* journals (/run/triglav) */
    bool cleanup;               /* undo a crashed run's journal and exit */
    int verbose;                /* 0 info, 1 debug */
    int buffer_bytes;           /* UDP socket buffers, bytes (4 MiB) */
    unsigned mtu;               /* TUN MTU (RT_DEFAULT_MTU) */
    bool has_metrics;           /* serve Prometheus text on `metrics` */
    struct tg_key_addr metrics; /* (127.0.0.1:9091) */
    bool no_offload;            /* plain TUN reads and writes (no TSO, no checksum offload) */
    struct tg_mp_config mp;
    bool print_config; /* --print-config: print the configuration in effect and exit */
};

struct rt_client_opts {
    struct rt_common_opts c; /* first: common options sit at the same offsets in both */
    char key[1024];
    bool full_tunnel;
    bool allow_ipv6; /* full tunnel without blocking IPv6 (it then leaves unencrypted) */
    struct rt_prefix routes[RT_MAX_PREFIXES];
    int n_routes;
    struct rt_prefix excludes[RT_MAX_PREFIXES];
    int n_excludes;
    bool auto_discover;
    char ifaces[TG_MAX_UPLINKS][16];
    int n_ifaces;
    char tun_name[16];
    bool has_ipv4;
    struct rt_prefix ipv4; /* --ipv4: address for the TUN instead of the server's */
    bool dns;
    uint8_t dns_servers[RT_MAX_DNS][4]; /* (1.1.1.1) */
    int n_dns;
    char resolv_conf[200];      /* /etc/resolv.conf */
    uint32_t fwmark;            /* uplink sockets' mark (0x7467) */
    uint32_t table;             /* our routing table (7467) */
    uint32_t rule_priority;     /* first of our rules' priorities (5300) */
    tg_time connect_timeout_us; /* give up when no handshake answer (15 s; 0 = never) */
    tg_time reconnect_after_us; /* a fresh session after every uplink is dead this long (60 s; 0 =
                                   never) */
    char capture[256];          /* --capture: pcap of the inner traffic ("" = none) */
    bool nat;                   /* rewrite other local sources to the tunnel address */
    int transport;              /* enum rt_transport (auto) */
    bool proxy;                 /* `connect`: SOCKS5 / HTTP proxies instead of a TUN */
    int socks_port, http_port;  /* proxy mode's listeners (0: off) */
    uint8_t proxy_listen[4];    /* their address (127.0.0.1) */
    char proxy_auth[256];       /* "USER:PASSWORD" the proxies ask for ("": none) */
};

/* How client uplinks reach the server: UDP, falling back to TCP on an
 * uplink that gets no UDP answer (auto); only UDP; only TCP. */
enum rt_transport { RT_TRANSPORT_AUTO, RT_TRANSPORT_UDP, RT_TRANSPORT_TCP };

struct rt_server_opts {
    struct rt_common_opts c;
    struct tg_key_addr listen[RT_MAX_LISTEN];
    int n_listen;
    struct tg_key_addr advertise[RT_MAX_LISTEN];
    int n_advertise;
    char key_file[256];
    bool generate_key;
    bool print_key;          /* print the key file's tg1_ key and exit */
    struct rt_prefix pool;   /* 10.85.0.0/16 */
    char pool6[64];          /* tunnel IPv6 prefix: "auto" (fd85::/64 when the server has an
                                IPv6 default route), "off", or an IPv6 CIDR (/16../96) */
    char tun_name[16];       /* tgsrv0 */
    char egress[16];         /* masquerade out of this interface ("" = every but the TUN) */
    uint32_t max_sessions;   /* (10000) */
    tg_time idle_timeout_us; /* (300 s) */
    bool no_nat;             /* do not touch forwarding or nftables */
    bool no_tcp_fallback;    /* no TCP listeners beside the UDP ones */
};

struct rt_keygen_opts {
    char output[256];
    struct tg_key_addr addrs[TG_KEY_MAX_ADDRS];
    int n_addrs;
};

struct rt_config_opts {
    bool server, client;
    char output[256];
};

void rt_client_opts_default(struct rt_client_opts *o);
void rt_server_opts_default(struct rt_server_opts *o);
void rt_keygen_opts_default(struct rt_keygen_opts *o);
void rt_config_opts_default(struct rt_config_opts *o);

/* ------------------------------------------------------------ the table */

/* The commands options belong to (a bit set). */
enum {
    RT_CMD_TUN = 1,
    RT_CMD_SERVER = 2,
    RT_CMD_KEYGEN = 4,
    RT_CMD_CONFIG = 8,
    RT_CMD_CONNECT = 16, /* proxy mode: the client's options without TUN and routing */
};
#define RT_CMD_RUN (RT_CMD_TUN | RT_CMD_SERVER | RT_CMD_CONNECT)

enum rt_opt_kind {
    RT_OPT_STRING,   /* text of at most size-1 bytes */
    RT_OPT_IFACE,    /* an interface name: 1..15 bytes, no '/' or blank */
    RT_OPT_DURATION, /* tg_time: "500ms", 5m, "2h"; a bare number is seconds (RT_OF_MS: ms) */
    RT_OPT_SIZE,     /* bytes: "2MB", 4MiB, or an integer */
    RT_OPT_RATE,     /* double bit/s: "1Mbit", 10Mbit */
    RT_OPT_INT,      /* an unsigned integer of `size` bytes, min..max */
    RT_OPT_NUMBER,   /* double, min..max */
    RT_OPT_BOOL,     /* bool (or int); on the command line a flag without a value */
    RT_OPT_CHOICE,   /* one of `choice`'s names; the field is an int-sized enum */
    RT_OPT_ADDR,     /* struct tg_key_addr: IP:PORT */
    RT_OPT_PREFIX,   /* struct rt_prefix: a.b.c.d/len */
    RT_OPT_IPV4,     /* uint8_t[4]: a.b.c.d */
    RT_OPT_LIST,     /* up to max_n values of kind `elem`; the count is an int at count_off */
    RT_OPT_CONFIG,   /* the command line's --config FILE (read before the other flags) */
    RT_OPT_HELP,     /* -h, --help */
};

/* Option flags. */
enum {
    RT_OF_NEGATE = 1,     /* bool: the file's key is the opposite of the flag (offload = false
                             is --no-offload) */
    RT_OF_HEX = 2,        /* integer: written in hex */
    RT_OF_MS = 4,         /* duration: a bare number is milliseconds */
    RT_OF_POW2 = 8,       /* integer: a power of two */
    RT_OF_EMPTY = 16,     /* string: "" is allowed (nothing) */
    RT_OF_NOT_ANY = 32,   /* address: not a wildcard (0.0.0.0, ::) */
    RT_OF_HOST = 64,      /* prefix: keep the host bits (an interface address) */
    RT_OF_PORT53 = 128,   /* IPv4: ":53" may follow */
    RT_OF_SETS = 256,     /* giving it sets the bool at set_off (unset: written commented out) */
    RT_OF_ENABLES = 1024, /* the command-line flag also sets the bool at set_off (the file's
                             key does not: --metrics-addr serves metrics, [metrics] listen
                             only says where) */
    RT_OF_TABLE_ID = 512, /* integer: a routing table number other than 253..255 */
};

/* What a value is to a shell completing it. */
enum rt_opt_comp { RT_COMP_TEXT, RT_COMP_FILE, RT_COMP_DIR, RT_COMP_IFACE };

struct rt_choice {
    const char *words;                     /* the names, space-separated */
    int (*parse)(const char *s, int *out); /* 0, or -1 for no such name */
    const char *(*name)(int v);
};

struct rt_opt {
    unsigned cmds;       /* RT_CMD_* bits */
    const char *flag;    /* long flag without "--", or NULL: config file only */
    char short_flag;     /* 'i', or 0 */
    const char *table;   /* config table ("multipath.scheduler"), or NULL: command line only */
    const char *key;     /* config key */
    const char *aliases; /* other spellings read from files, "table.key ..." (or NULL) */
    enum rt_opt_kind kind;
    unsigned flags;        /* RT_OF_* */
    size_t off, size;      /* the field in the command's options struct (lists: the array) */
    enum rt_opt_kind elem; /* lists: kind of each element (elements are size/max_n bytes) */
    unsigned max_n;        /* lists: capacity */
    size_t count_off;      /* lists: the int count */
    size_t set_off;        /* RT_OF_SETS: the bool that says it was given */
    double min, max;       /* integers, numbers, sizes (bytes), durations (microseconds) */
    const struct rt_choice *choice;
    enum rt_opt_comp comp;
    const char *glob;    /* files: the pattern a shell offers ("*.toml"), or NULL */
    const char *arg;     /* the value in --help: "N", "CIDR" (NULL for flags) */
    const char *help;    /* one sentence, no final period */
    const char *khelp;   /* the same for the config key, when it reads differently (a
                            negated bool), or NULL */
    const char *example; /* written commented out in config files when the value is empty */
};

extern const struct rt_opt rt_opts[];
extern const size_t rt_n_opts;

/* The config tables each command reads, in the order config files list them. */
extern const char *const rt_client_tables[];
extern const char *const rt_server_tables[];

/* The name of the command `cmd` (one RT_CMD_ bit): "tun", "server", ... */
const char *rt_cmd_name(unsigned cmd);

/* ------------------------------------------------------------ values */

/* Why a value was refused: where (0 when not from a file) and what was
 * expected. `why` never quotes the value. */
struct rt_opt_err {
    uint32_t line, col;
    char why[240];
};

/* Set option `op` of options struct `o` from a config file's value (a list
 * takes an array or one value and replaces the list). Returns 0 or -1. */
int rt_opt_set_value(const struct rt_opt *op, void *o, const struct tg_conf_value *v,
                     struct rt_opt_err *err);
/* Set it from a command-line argument (NULL for flags without a value; a
 * list gets the value appended). Returns 0 or -1. */
int rt_opt_set_arg(const struct rt_opt *op, void *o, const char *arg, struct rt_opt_err *err);
/* The option's value as TOML ("15s", ["eth0"], true). Returns false when it
 * is empty or unset (a config file writes its example, commented out). */
bool rt_opt_format(const struct rt_opt *op, const void *o, char *out, size_t cap);
/* Checks across options (NAT port range, --dns without resolvers...).
 * Returns NULL or what is wrong; *op gets the option to blame. */
const char *rt_opts_check(unsigned cmd, const void *o, const struct rt_opt **op);
/* What the kind expects, for messages: "a duration like \"5m\" or 300ms". */
const char *rt_opt_expects(const struct rt_opt *op);
/* Replace control bytes of text headed for a terminal with '?'. */
char *rt_printable(char *s);

/* ------------------------------------------------------------ files */

/* Load a TOML config file into o (a struct of command `cmd`). Every table
 * and key is checked, those of the other command too (one file may serve
 * both); only this command's are applied. Returns 0, or -1 after printing
 * FILE:LINE:COL and what was expected. */
int rt_config_load(unsigned cmd, const char *path, void *o);
/* The same for `len` bytes of text in memory, named `name` in messages,
 * which go to `errors` (NULL: nowhere). */
int rt_config_load_text(unsigned cmd, const char *name, const char *text, size_t len, void *o,
                        FILE *errors);
int rt_config_load_client(const char *path, struct rt_client_opts *o);
int rt_config_load_server(const char *path, struct rt_server_opts *o);

/* Write o as a commented config file: every table and key of the command,
 * with its help text. `title` is the first comment line. Returns 0 or -1
 * (a write error). */
int rt_config_write(FILE *f, unsigned cmd, const void *o, const char *title);

/* ------------------------------------------------------------ command line */

/* Parse command `cmd`'s arguments (argv[0] is the command) into o, which
 * holds the defaults: --config FILE first, then every flag. Handles --help
 * and --print-config. Returns -1 to go on (*argi: the first positional
 * argument), else the exit status. `usage` heads --help. */
int rt_cli_parse(unsigned cmd, int argc, char **argv, void *o, const char *usage, int *argi);
/* The checks across options (rt_opts_check) for a command about to run:
 * 0, or 2 after printing what is wrong. */
int rt_cli_check(unsigned cmd, const void *o);
/* Print command `cmd`'s --help: usage, then each flag of the table. */
void rt_cli_help(FILE *f, unsigned cmd, const char *usage);

/* ------------------------------------------------------------ running */

int rt_client_run(struct rt_client_opts *o);
int rt_client_cleanup(const struct rt_client_opts *o);
int rt_server_run(struct rt_server_opts *o);
int rt_server_cleanup(const struct rt_server_opts *o);
/* `server --print-key`: the tg1_ key of the key file, with --advertise or
 * the listen addresses in it; printed on stdout. Returns the exit status. */
int rt_server_print_key(const struct rt_server_opts *o);

#endif
