/*
 * client_int.h: the client's state, shared by the files of `triglav tun`
 * and `triglav connect`: client.c (set-up, the session, the loop),
 * client_uplinks.c (uplinks and their discovery) and client_status.c
 * (status and metrics).
 */
#ifndef RT_CLIENT_INT_H
#define RT_CLIENT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "capture.h"
#include "control.h"
#include "journal.h"
#include "loop.h"
#include "netlink.h"
#include "host.h"
#include "opts.h"
#include "proxy.h"
#include "race.h"
#include "stats.h"
#include "tcpup.h"
#include "udp.h"

enum { TAG_TUN = 100, TAG_WATCH = 101 };

struct uplink {
    bool used; /* slot belongs to an interface */
    char ifname[16];
    int ifindex;
    int fd;        /* -1 while closed */
    bool up;       /* the core was told it is usable */
    bool disabled; /* `uplink disable`: kept, but not used until enabled */
    bool pinned;   /* -i or `uplink add`: follows its name, default route or not */
    uint8_t ipv4[4];
    uint8_t ipv6[16];             /* its global IPv6 address (uplinks of a dual-stack client) */
    struct tg_key_addr heard;     /* whom it last received from */
    uint64_t rx_dgrams, rx_bytes; /* received on its socket */
    struct rt_tx_batch tx;
};

struct client {
    struct rt_client_opts *o;
    struct tg_key key;
    struct tg_key_addr server; /* where every uplink sends once the race is won */
    struct rt_race race;       /* which of the key's addresses answers (race.h) */
    bool dual;                 /* uplink sockets are IPv6 and reach IPv4 too */
    struct tg_client *core;
    struct rt_loop loop;
    struct rt_nl nl, watch;
    struct rt_journal j;
    bool journal_open;
    struct rt_tun_io tun; /* host.h (fd -1 in proxy mode) */
    char tun_name[16];
    int tun_ifindex;
    struct uplink up[TG_MAX_UPLINKS];
    bool configured;
    tg_time started;
    bool stop;
    int exit_code;
    struct rt_rx_batch rx;
    tg_time now;  /* of the batch being fed */
    unsigned fed; /* datagrams from TCP uplinks since the last drain */
    struct rt_control ctl;
    bool ctl_open;
    struct tg_client_config cfg; /* kept to start a fresh session */
    tg_time all_down_since;      /* every uplink Down since (TG_TIME_NEVER: not) */
    tg_time next_check;
    bool reconnecting;   /* a fresh session is on its way: no connect timeout */
    uint8_t tun_addr[4]; /* once the session is up */
    uint8_t tun_prefix;
    bool has6; /* the server gave an IPv6 address too (core/ra.h) */
    uint8_t tun_addr6[16], tun_prefix6;
    struct rt_capture *cap;           /* --capture (NULL: not recording) */
    char removed[TG_MAX_UPLINKS][16]; /* `uplink remove`d: auto-discovery leaves them out */
    int n_removed;
    struct rt_uplink_rates rates; /* measured throughput for `status` */
    struct rt_tcpup tcp;          /* uplinks over TCP where UDP gets no answer */
    struct rt_proxy *proxy;       /* `connect`: the proxies, over the stack (stack.h) */
    unsigned stack_fed;           /* packets the stack sent since the last drain */
    tg_time next_proxy_tick;
};

/* client_uplinks.c */
int cl_uplink_open(struct client *c, struct uplink *u);
void cl_uplink_close(struct client *c, struct uplink *u);
void cl_uplink_set(struct client *c, struct uplink *u, const struct rt_iface *it, tg_time now);
/* Look at the interfaces again and tell the core what changed. */
void cl_refresh(struct client *c, tg_time now);
size_t cl_uplink_command(void *ctx, enum rt_uplink_verb verb, const char *name, char *buf,
                         size_t cap);

/* client_status.c */
size_t cl_render(void *ctx, enum rt_ctl_what what, char *buf, size_t cap);
void cl_sample_rates(struct client *c, tg_time now);

#endif
