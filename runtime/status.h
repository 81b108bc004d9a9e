/*
 * status.h: the answer to `status json` on the control socket, for a client
 * (`triglav tun`) and a server. The schema (schema_version 1) is documented
 * field by field in runtime/README.md ("status --json"); fields are only
 * ever added to it, and every field is present in every answer (null where
 * it does not apply, e.g. the estimates of a disabled uplink). Units are in
 * the names: _us microseconds, _bytes, _bps bits per second, _ratio 0..1.
 */
#ifndef RT_STATUS_H
#define RT_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "core/endpoint.h"
#include "stats.h"

#define RT_STATUS_SCHEMA 1

/* One uplink slot of a client. */
struct rt_status_uplink {
    unsigned slot;
    const char *ifname;
    const char *state;  /* "active", "disabled" (uplink disable), "waiting" (interface
                           down, no IPv4 address or, auto-discovered, no default route) */
    bool pinned;        /* added by `uplink add` or -i (kept without a default route) */
    const char *transport; /* "udp", or "tcp" while its datagrams go over TCP */
    bool has_local;
    uint8_t local_ipv4[4];
    uint64_t datagrams_sent, datagrams_refused, datagrams_received, received_bytes;
    const struct tg_uplink_snapshot *snap; /* NULL: the core has none (not active) */
};

struct rt_status_client {
    const char *tun;
    int pid;
    tg_time uptime_us;
    const struct tg_key_addr *server;
    const char *mode; /* "full_tunnel", "split_tunnel", "subnet_only" */
    bool auto_discover;
    const char *strategy, *aggregation;
    bool session_up;
    uint8_t tunnel_addr[4];
    uint8_t tunnel_prefix;
    const struct tg_endpoint_counters *counters;
    struct rt_status_uplink up[TG_MAX_UPLINKS];
    size_t n_up;
};

struct rt_status_server {
    const char *tun;
    int pid;
    tg_time uptime_us;
    struct rt_prefix pool;
    const struct tg_key_addr *listen;
    int n_listen;
    const struct tg_server *core;
    const uint8_t (*clients)[4]; /* tunnel addresses of sessions to list */
    int n_clients;
    int discard_tcp_port, echo_udp_port; /* 0: the service is not running */
    uint64_t discarded_bytes, echoed_datagrams;
    const struct tg_endpoint_counters *counters;
};

/* The JSON text into buf[0..cap); returns its length. An answer that does
 * not fit is cut (the reader then fails to parse it and says so). */
size_t rt_status_client_json(const struct rt_status_client *s, char *buf, size_t cap);
size_t rt_status_server_json(const struct rt_status_server *s, char *buf, size_t cap);

/* The server's own tunnel address: the first host of the pool. */
void rt_status_server_addr(const uint8_t pool_or_any[4], uint8_t prefix, uint8_t out[4]);

#endif
