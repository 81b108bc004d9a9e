/* rtnetlink by hand: a message is a header, a fixed struct and attributes
 * (rtnetlink(7)); the kernel answers requests with NLMSG_ERROR (0 = ACK).
 * Requests are built here; answers are read by nlmsg.c. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netlink.h"
#include "nlmsg.h"

struct req {
    struct nlmsghdr h;
    char body[1024];
};

static void *tail(struct req *r)
{
    return (char *)r + NLMSG_ALIGN(r->h.nlmsg_len);
}

static void put_attr(struct req *r, unsigned short type, const void *data, size_t len)
{
    struct rtattr *a = tail(r);
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    if (len > 0)
        memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + (uint32_t)RTA_ALIGN(a->rta_len);
}

static void put_u32(struct req *r, unsigned short type, uint32_t v)
{
    put_attr(r, type, &v, sizeof v);
}

int rt_nl_open(struct rt_nl *nl, uint32_t groups)
{
    int flags = SOCK_RAW | SOCK_CLOEXEC | (groups != 0 ? SOCK_NONBLOCK : 0);
    nl->fd = socket(AF_NETLINK, flags, NETLINK_ROUTE);
    nl->seq = 1;
    if (nl->fd < 0)
        return -errno;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
    if (bind(nl->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = -errno;
        close(nl->fd);
        nl->fd = -1;
        return e;
    }
    if (groups != 0) {
        int sz = 1 << 20;
        setsockopt(nl->fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof sz);
    }
    return 0;
}

void rt_nl_close(struct rt_nl *nl)
{
    if (nl->fd >= 0)
        close(nl->fd);
    nl->fd = -1;
}

int rt_nl_drain(struct rt_nl *nl)
{
    char buf[16384];
    int n = 0;
    for (;;) {
        ssize_t len = recv(nl->fd, buf, sizeof buf, MSG_DONTWAIT);
        if (len < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? n
                                                           : (errno == ENOBUFS ? n + 1 : -errno);
        if (len == 0)
            return n;
        n++;
    }
}

/* Send `r` and read the answers until its ACK (an NLMSG_ERROR, 0 for success)
 * or the end of a dump, handing every other answer to fn when there is one. */
static int exchange(struct rt_nl *nl, struct req *r, rt_nlmsg_fn fn, void *ctx)
{
    r->h.nlmsg_seq = ++nl->seq;
    struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
    if (sendto(nl->fd, r, r->h.nlmsg_len, 0, (struct sockaddr *)&sa, sizeof sa) < 0)
        return -errno;
    static char buf[32768];
    for (;;) {
        ssize_t len = recv(nl->fd, buf, sizeof buf, 0);
        if (len < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        int rc = rt_nlmsg_walk(buf, (size_t)len, nl->seq, fn, ctx);
        if (rc != RT_NLMSG_MORE)
            return rc;
    }
}

/* Send a request and wait for its ACK. */
static int transact(struct rt_nl *nl, struct req *r)
{
    r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    return exchange(nl, r, NULL, NULL);
}

static void init_req(struct req *r, uint16_t type, uint16_t flags, size_t fixed)
{
    memset(r, 0, sizeof *r);
    r->h.nlmsg_len = (uint32_t)NLMSG_LENGTH(fixed);
    r->h.nlmsg_type = type;
    r->h.nlmsg_flags = flags;
}

int rt_nl_link_set(struct rt_nl *nl, int ifindex, bool up, unsigned mtu)
{
    struct req r;
    init_req(&r, RTM_NEWLINK, 0, sizeof(struct ifinfomsg));
    struct ifinfomsg *ifi = NLMSG_DATA(&r.h);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = ifindex;
    ifi->ifi_flags = up ? IFF_UP : 0;
    ifi->ifi_change = IFF_UP;
    if (mtu != 0)
        put_u32(&r, IFLA_MTU, mtu);
    return transact(nl, &r);
}

int rt_nl_addr(struct rt_nl *nl, bool add, int ifindex, const uint8_t a[4], uint8_t plen)
{
    struct req r;
    init_req(&r, add ? RTM_NEWADDR : RTM_DELADDR,
             add ? (uint16_t)(NLM_F_CREATE | NLM_F_REPLACE) : 0, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = NLMSG_DATA(&r.h);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = plen;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (uint32_t)ifindex;
    put_attr(&r, IFA_LOCAL, a, 4);
    put_attr(&r, IFA_ADDRESS, a, 4);
    return transact(nl, &r);
}

int rt_nl_addr6(struct rt_nl *nl, bool add, int ifindex, const uint8_t a[16], uint8_t plen)
{
    struct req r;
    init_req(&r, add ? RTM_NEWADDR : RTM_DELADDR,
             add ? (uint16_t)(NLM_F_CREATE | NLM_F_REPLACE) : 0, sizeof(struct ifaddrmsg));
    struct ifaddrmsg *ifa = NLMSG_DATA(&r.h);
    ifa->ifa_family = AF_INET6;
    ifa->ifa_prefixlen = plen;
    ifa->ifa_flags = IFA_F_NODAD;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = (uint32_t)ifindex;
    put_attr(&r, IFA_ADDRESS, a, 16);
    return transact(nl, &r);
}

int rt_nl_route(struct rt_nl *nl, bool add, const struct rt_route *rt)
{
    struct req r;
    init_req(&r, add ? RTM_NEWROUTE : RTM_DELROUTE, add ? (uint16_t)(NLM_F_CREATE | NLM_F_EXCL) : 0,
             sizeof(struct rtmsg));
    struct rtmsg *m = NLMSG_DATA(&r.h);
    m->rtm_family = rt->family != 0 ? rt->family : AF_INET;
    m->rtm_dst_len = rt->dst_len;
    m->rtm_table = rt->table < 256 ? (unsigned char)rt->table : RT_TABLE_UNSPEC;
    m->rtm_protocol = RTPROT_STATIC;
    m->rtm_type = rt->type != 0 ? rt->type : RTN_UNICAST;
    m->rtm_scope = (m->rtm_type == RTN_UNICAST && !rt->has_gw && rt->oif != 0) ? RT_SCOPE_LINK
                                                                               : RT_SCOPE_UNIVERSE;
    if (!add)
        m->rtm_scope = RT_SCOPE_NOWHERE;
    put_u32(&r, RTA_TABLE, rt->table);
    if (rt->dst_len > 0)
        put_attr(&r, RTA_DST, rt->dst, 4);
    if (rt->oif != 0)
        put_u32(&r, RTA_OIF, (uint32_t)rt->oif);
    if (rt->has_gw)
        put_attr(&r, RTA_GATEWAY, rt->gw, 4);
    if (rt->metric != 0)
        put_u32(&r, RTA_PRIORITY, rt->metric);
    return transact(nl, &r);
}

int rt_nl_rule(struct rt_nl *nl, bool add, const struct rt_rule *ru)
{
    struct req r;
    init_req(&r, add ? RTM_NEWRULE : RTM_DELRULE, add ? (uint16_t)(NLM_F_CREATE | NLM_F_EXCL) : 0,
             sizeof(struct fib_rule_hdr));
    struct fib_rule_hdr *f = NLMSG_DATA(&r.h);
    f->family = ru->family != 0 ? ru->family : AF_INET;
    f->dst_len = ru->dst_len;
    f->table = ru->table < 256 ? (uint8_t)ru->table : RT_TABLE_UNSPEC;
    f->action = FR_ACT_TO_TBL;
    f->flags = ru->invert ? FIB_RULE_INVERT : 0;
    put_u32(&r, FRA_PRIORITY, ru->priority);
    put_u32(&r, FRA_TABLE, ru->table);
    if (ru->fwmask != 0) {
        put_u32(&r, FRA_FWMARK, ru->fwmark);
        put_u32(&r, FRA_FWMASK, ru->fwmask);
    }
    if (ru->suppress_prefixlen >= 0)
        put_u32(&r, FRA_SUPPRESS_PREFIXLEN, (uint32_t)ru->suppress_prefixlen);
    if (ru->dst_len > 0)
        put_attr(&r, FRA_DST, ru->dst, 4);
    return transact(nl, &r);
}

/* Dump `type` and call `fn` on every answer message. */
static int dump(struct rt_nl *nl, uint16_t type, size_t fixed, unsigned char family, rt_nlmsg_fn fn,
                void *ctx)
{
    struct req r;
    init_req(&r, type, NLM_F_REQUEST | NLM_F_DUMP, fixed);
    *(unsigned char *)NLMSG_DATA(&r.h) = family; /* every fixed header starts with its family */
    return exchange(nl, &r, fn, ctx);
}

int rt_nl_ifaces(struct rt_nl *nl, struct rt_iface *out, int cap)
{
    struct rt_nlmsg_ifaces c = {.v = out, .cap = cap};
    int rc = dump(nl, RTM_GETLINK, sizeof(struct ifinfomsg), AF_UNSPEC, rt_nlmsg_iface, &c);
    if (rc == 0)
        rc = dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), AF_INET, rt_nlmsg_iface, &c);
    if (rc == 0)
        rc = dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), AF_INET, rt_nlmsg_iface, &c);
    /* IPv6 may be missing (ipv6.disable=1): then interfaces have none */
    if (rc == 0 && dump(nl, RTM_GETADDR, sizeof(struct ifaddrmsg), AF_INET6, rt_nlmsg_iface, &c) == 0)
        dump(nl, RTM_GETROUTE, sizeof(struct rtmsg), AF_INET6, rt_nlmsg_iface, &c);
    return rc < 0 ? rc : c.n;
}
