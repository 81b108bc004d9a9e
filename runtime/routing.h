/*
 * routing.h: the client's routing (runtime/README.md, "Routing"): tunnel
 * routes in our own table, the policy rules that send unmarked traffic
 * there (full tunnel like wg-quick, split tunnel, excludes), the IPv6 block
 * of a full tunnel, and resolv.conf for --dns. Every change is written to
 * the journal before it is made, so the journal's undo removes exactly what
 * was added, on exit or by --cleanup.
 */
#ifndef RT_ROUTING_H
#define RT_ROUTING_H

#include "journal.h"
#include "netlink.h"
#include "opts.h"

struct rt_routing {
    const struct rt_client_opts *o;
    struct rt_journal *j;
    struct rt_nl *nl;
    int tun_ifindex;
    const char *tun_name;
};

/* Apply the options' routing once the TUN has its address. Returns 0 or
 * -errno after logging what failed; what was added before the failure stays
 * in the journal for the caller's undo. */
int rt_routing_apply(const struct rt_routing *r);

/* The tunnel got an IPv6 address: in full tunnel (unless --allow-ipv6)
 * IPv6 goes into the tunnel, by a ::/0 route through the TUN in our table
 * that wins over the block rt_routing_apply put there (which stays, for
 * when the TUN is gone). Otherwise nothing. Returns 0 or -errno (logged). */
int rt_routing_ipv6(const struct rt_routing *r);

#endif
