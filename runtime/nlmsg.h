/*
 * nlmsg.h: rtnetlink messages as bytes (rtnetlink(7)): walking what one
 * recv() of a NETLINK_ROUTE socket returned, and reading the link, address
 * and route messages that interface discovery needs. No sockets here
 * (netlink.c sends and receives); a buffer of any bytes is walked without
 * reading past its end, and a message too short for its type is skipped.
 */
#ifndef RT_NLMSG_H
#define RT_NLMSG_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "netlink.h"

enum { RT_NLMSG_MORE = 1 }; /* the answer goes on in the next recv() */

/* One message: h is a copy of its header, msg[0..h->nlmsg_len) its bytes
 * (header included), at any alignment. */
typedef void (*rt_nlmsg_fn)(void *ctx, const struct nlmsghdr *h, const uint8_t *msg);

/* Walk buf[0..len), the messages of one recv(). Messages whose sequence
 * number is not `seq` are skipped; fn (may be NULL) gets every other
 * message but NLMSG_DONE and NLMSG_ERROR. Returns 0 at NLMSG_DONE or an
 * ACK (NLMSG_ERROR 0), the -errno an NLMSG_ERROR carries, -EPROTO for a
 * buffer that is not a sequence of whole messages, else RT_NLMSG_MORE. */
int rt_nlmsg_walk(const void *buf, size_t len, uint32_t seq, rt_nlmsg_fn fn, void *ctx);

/* Interface discovery's table, filled from dump answers. */
struct rt_nlmsg_ifaces {
    struct rt_iface *v;
    int n, cap;
};

/* An rt_nlmsg_fn over struct rt_nlmsg_ifaces: RTM_NEWLINK adds an
 * interface (while there is room), RTM_NEWADDR gives a known one its first
 * IPv4 address and its first global IPv6 address, RTM_NEWROUTE marks the one
 * a main-table default route (IPv4: has_default, IPv6: has_default6) leaves
 * through. Other messages are ignored. */
void rt_nlmsg_iface(void *ctx, const struct nlmsghdr *h, const uint8_t *msg);

#endif
