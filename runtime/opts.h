/*
 * opts.h: what the `tun` and `server` commands were asked to do, filled
 * from a --config file first and then from the command line (flags
 * override the file). Defaults are set by rt_*_opts_default().
 */
#ifndef RT_OPTS_H
#define RT_OPTS_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "core/endpoint.h"

#define RT_MAX_PREFIXES 32
#define RT_MAX_LISTEN   8
#define RT_MAX_DNS      4
/* TUN MTU that never makes a datagram above 1500 bytes: 1500 - 28 (IPv4 +
 * UDP) - 86 (Triglav header 16, tag 16, data frame header 20, and a receiver
 * feedback frame of 34 that the core may piggyback on a full-size packet). */
#define RT_DEFAULT_MTU 1428

struct rt_common_opts {
    bool daemon;
    char pid_file[256];
    char log_file[256];
    char state_dir[200]; /* journals (/run/triglav) */
    bool cleanup;        /* undo a crashed run's journal and exit */
    int verbose;         /* 0 info, 1 debug */
    int buffer_bytes;    /* socket buffers ([transport] send/recv_buffer_size) */
    unsigned mtu;        /* TUN MTU (RT_DEFAULT_MTU) */
    bool has_metrics;    /* serve Prometheus text on `metrics` */
    struct tg_key_addr metrics;
    bool no_offload; /* plain TUN reads and writes (no TSO, no checksum offload) */
};

struct rt_client_opts {
    struct rt_common_opts c;
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
    uint8_t dns_servers[RT_MAX_DNS][4];
    int n_dns;
    char resolv_conf[200]; /* /etc/resolv.conf */
    bool strategy_set, aggregation_set;
    enum tg_strategy strategy;
    enum tg_aggregation aggregation;
    uint32_t fwmark;            /* uplink sockets' mark (0x7467) */
    uint32_t table;             /* our routing table (7467) */
    uint32_t rule_priority;     /* first of our rules' priorities (5300) */
    tg_time connect_timeout_us; /* give up when no handshake answer (15 s; 0 = never) */
    tg_time reorder_hold_us;    /* reorder buffer hold cap (0 = the core's 500 ms) */
    tg_time reconnect_after_us; /* a fresh session after every uplink is dead this long (60 s; 0 = never) */
    char capture[256];          /* --capture: pcap of the inner traffic ("" = none) */
};

struct rt_server_opts {
    struct rt_common_opts c;
    struct tg_key_addr listen[RT_MAX_LISTEN];
    int n_listen;
    struct tg_key_addr advertise[RT_MAX_LISTEN];
    int n_advertise;
    char key_file[256];
    bool generate_key;
    struct rt_prefix pool; /* 10.85.0.0/16 */
    char tun_name[16];     /* tgsrv0 */
    char egress[16];       /* masquerade out of this interface ("" = every but the TUN) */
    uint32_t max_sessions;
    tg_time idle_timeout_us;
    bool no_nat; /* do not touch forwarding or nftables */
    bool strategy_set, aggregation_set;
    enum tg_strategy strategy; /* how the server schedules downloads */
    enum tg_aggregation aggregation;
};

void rt_client_opts_default(struct rt_client_opts *o);
void rt_server_opts_default(struct rt_server_opts *o);

/* Load a TOML config file into o (before the command line is applied).
 * Returns 0, or -1 after printing what is wrong (file:line). */
int rt_config_load_client(const char *path, struct rt_client_opts *o);
int rt_config_load_server(const char *path, struct rt_server_opts *o);

int rt_client_run(struct rt_client_opts *o);
int rt_client_cleanup(const struct rt_client_opts *o);
int rt_server_run(struct rt_server_opts *o);
int rt_server_cleanup(const struct rt_server_opts *o);

#endif
