/*
 * pool6.h: the server's side of IPv6 inside the tunnel. The `pool6` option
 * chooses the tunnel's IPv6 prefix; the server's TUN gets its ::1, IPv6
 * forwarding is turned on and an nftables table `ip6 triglav` (or
 * `ip6 triglav_<tun>`) masquerades the prefix to the egress, as IPv4 is
 * (server.c). A client's address is the prefix with its IPv4 host number
 * (core/ra.h). Every change is journaled and undone on exit.
 */
#ifndef RT_POOL6_H
#define RT_POOL6_H

#include <stdint.h>

#include "journal.h"
#include "netlink.h"
#include "opts.h"

/* The prefix `pool6` asks for: "off" or "auto" without an IPv6 default
 * route give *plen = 0 (no IPv6 in the tunnel); "auto" with one gives
 * fd85::/64. Returns 0, or 2 after logging a prefix that is malformed or
 * not /16../96. */
int rt_pool6_choose(const struct rt_server_opts *o, struct rt_nl *nl, uint8_t prefix[16],
                    uint8_t *plen);

/* Put prefix::1 on the TUN, turn on IPv6 forwarding and (unless o->no_nat)
 * masquerade the prefix. Returns 0, or 1 after logging what failed. A TUN
 * that takes no IPv6 address (IPv6 disabled) fails only when pool6 was
 * asked for by prefix; with "auto" it is a warning and *plen becomes 0. */
int rt_pool6_setup(const struct rt_server_opts *o, struct rt_journal *j, struct rt_nl *nl,
                   const char *tun_name, int tun_ifindex, const uint8_t prefix[16], uint8_t *plen);

#endif
