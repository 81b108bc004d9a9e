/*
 * harness.h: a deterministic in-memory network for engine tests (not the
 * simulator). One client and one server core wired by per-uplink links, each
 * direction with a fixed delay, an optional rate (serialisation, FIFO) and an
 * outage window, all in virtual time. Test traffic is IPv4/UDP carrying a 64-bit
 * sequence number so delivery order, loss and duplicates can be checked.
 */
#ifndef TG_HARNESS_H
#define TG_HARNESS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/endpoint.h"

#define H_MAX_INFLIGHT 65536
#define H_MAX_RECORD 200000

struct h_link {
    tg_time delay_us;
    uint64_t rate_bps;        /* 0 = infinite */
    tg_time busy_until;       /* serialisation */
    uint64_t queue_bytes;     /* with a rate: drop what finds this much queued (0 = no limit) */
    uint64_t dropped;         /* ... counted */
    tg_time down_from, down_until; /* drops everything in [from, until) */
};

struct h_flight {
    tg_time at;
    uint64_t order;
    bool to_server;
    unsigned uplink;
    uint16_t len;
    uint8_t data[1600];
};

struct h_net {
    struct tg_client *client;
    struct tg_server *server;
    struct h_link up[TG_MAX_UPLINKS], down[TG_MAX_UPLINKS]; /* client->server, server->client */
    unsigned n_uplinks;
    struct h_flight *flights;  /* binary heap by (at, order) */
    uint32_t n_flights;
    uint64_t order;
    tg_time now;
    /* what the server's TUN received from the client (sequence numbers), and back */
    uint64_t *rx_at_server, *rx_at_client;
    tg_time *rx_time_at_server;
    uint32_t n_rx_server, n_rx_client;
    uint8_t client_addr[4];
    bool session_up;
    uint8_t server_public[32];
    /* the last handshake-join and DATA datagrams the client sent (attack tests) */
    uint8_t last_join[256], last_data[1600];
    size_t last_join_len, last_data_len;
    unsigned rekeys;            /* UPLINK_REKEYED events seen at the client */
    uint8_t client_host_base;   /* last byte of uplink 0's source address (10); change it to roam */
    /* attack tests: called for every datagram the client sends (before its link), and
     * for every server datagram addressed to someone other than the client */
    void (*tap)(struct h_net *n, unsigned uplink, const uint8_t *data, size_t len);
    void (*foreign)(struct h_net *n, const struct tg_datagram *d);
    void *ctx;
};

/* Client rekey interval for networks built after setting it (0: default). */
extern tg_time h_rekey_after_us;
/* Client max_packet for networks built after setting it (0: default). */
extern uint32_t h_client_max_packet;
/* Both ends' playout_max_us for networks built after setting it (0: off). */
extern tg_time h_playout_max_us;
/* Both ends' uplink_queue_limit for networks built after setting it (0: the
 * default; UINT32_MAX: 0, every packet sent at once). */
extern uint32_t h_uplink_queue_limit;
/* Both ends' light_flow_rate for networks built after setting it (0: the
 * default; UINT32_MAX: 0, no flow is light). */
extern uint32_t h_light_flow_rate;

/* Build a network with `n` uplinks of the given one-way delays (both
 * directions), a client and a server with default configs except the
 * strategy and aggregation. Returns 0 or a TG_ERR_*. */
int h_net_init(struct h_net *n, unsigned uplinks, const tg_time *delay_us,
               enum tg_strategy strategy, enum tg_aggregation agg, const struct tg_allocator *a);
void h_net_free(struct h_net *n);
/* Bring all uplinks up and run until the client has a session and every
 * uplink is keyed, or `limit_us` passes. Returns true on success. */
bool h_net_connect(struct h_net *n, tg_time limit_us);
/* The paced pair: uplinks of 20 Mbit/s (10 ms, a 32 KB queue) and 10
 * Mbit/s (30 ms), the tunnel keeping at most 16 KB in an uplink's queue,
 * striped (adaptive, full), connected and run 1 s so the PINGs measure
 * both. Other knobs (h_light_flow_rate...) as set. Returns h_net_connect's. */
bool h_net_paced_pair(struct h_net *n);
/* Run the network until `until` (absolute). */
void h_net_run(struct h_net *n, tg_time until);
/* Move what the cores queued (datagrams onto links, packets, events) now. */
void h_net_drain(struct h_net *n);
/* Send a test packet with sequence number `seq` from the client TUN side (or
 * from the server side when `from_server`). */
void h_net_send(struct h_net *n, uint64_t seq, uint16_t len, bool from_server);
/* Build the IPv4/UDP test packet into buf; returns its length. */
uint16_t h_packet(uint8_t *buf, const uint8_t src[4], const uint8_t dst[4], uint64_t seq,
                  uint16_t len);

#endif
