/*
 * netlink.h: our own rtnetlink client (NETLINK_ROUTE): links, IPv4
 * addresses, routes and policy rules, and dumps for interface discovery.
 * Requests are synchronous (send, wait for the kernel's ACK) on a request
 * socket; a second socket subscribed to multicast groups tells the event
 * loop that links, addresses or routes changed. Discovery reads both
 * families; routes and rules carry IPv4 destinations (IPv6 ones: ::/0 only).
 * Every call returns 0 or -errno as the kernel reported it.
 */
#ifndef RT_NETLINK_H
#define RT_NETLINK_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stdint.h>

struct rt_nl {
    int fd;
    uint32_t seq;
};

/* groups: 0 for a request socket, else RTMGRP_* bits to watch. The socket is
 * non-blocking when groups != 0. */
int rt_nl_open(struct rt_nl *nl, uint32_t groups);
void rt_nl_close(struct rt_nl *nl);
/* Read and discard what a watch socket has queued; returns how many
 * messages there were (>= 0), or -errno. */
int rt_nl_drain(struct rt_nl *nl);

/* Bring a link up (or down) and optionally set its MTU (mtu 0 = keep). */
int rt_nl_link_set(struct rt_nl *nl, int ifindex, bool up, unsigned mtu);
/* Add or delete IPv4 address a/plen on ifindex. */
int rt_nl_addr(struct rt_nl *nl, bool add, int ifindex, const uint8_t a[4], uint8_t plen);
/* Add or delete IPv6 address a/plen on ifindex (no duplicate address
 * detection: the tunnel's address is ours alone). */
int rt_nl_addr6(struct rt_nl *nl, bool add, int ifindex, const uint8_t a[16], uint8_t plen);

enum { RT_TABLE_MAIN_ID = 254 };

struct rt_route {
    uint8_t family; /* AF_INET (when 0) or AF_INET6 (then only ::/0, no gateway) */
    uint32_t table; /* RT_TABLE_MAIN_ID or our own */
    uint8_t dst[4];
    uint8_t dst_len;
    int oif; /* 0 = none */
    bool has_gw;
    uint8_t gw[4];
    uint8_t type; /* RTN_UNICAST (default when 0), RTN_THROW, RTN_UNREACHABLE ... */
    uint32_t metric; /* RTA_PRIORITY, 0 = the kernel's default */
};
int rt_nl_route(struct rt_nl *nl, bool add, const struct rt_route *r);

struct rt_rule {
    uint8_t family; /* AF_INET (when 0) or AF_INET6 (then no dst) */
    uint32_t priority;
    uint32_t table;
    uint32_t fwmark, fwmask; /* fwmask 0 = no fwmark match */
    bool invert;             /* "not" */
    int suppress_prefixlen;  /* -1 = none */
    uint8_t dst[4];
    uint8_t dst_len; /* 0 = any destination */
};
int rt_nl_rule(struct rt_nl *nl, bool add, const struct rt_rule *r);

/* What discovery needs to know about one interface. */
struct rt_iface {
    int ifindex;
    char name[16];
    bool up, running; /* IFF_UP, IFF_LOWER_UP */
    bool loopback;
    bool has_ipv4;
    uint8_t ipv4[4];  /* first IPv4 address */
    bool has_default; /* a default route in the main table leaves through it */
    bool has_ipv6;
    uint8_t ipv6[16];  /* first global-scope IPv6 address */
    bool has_default6; /* an IPv6 default route in the main table leaves through it */
};

/* Fill up to cap interfaces; returns how many (>= 0) or -errno. */
int rt_nl_ifaces(struct rt_nl *nl, struct rt_iface *out, int cap);

#endif
