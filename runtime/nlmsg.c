/* rtnetlink messages as bytes (see nlmsg.h). Every header and fixed struct
 * is copied out with memcpy before use: a buffer of any alignment and any
 * content is read only inside its bounds. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "nlmsg.h"

int rt_nlmsg_walk(const void *buf, size_t len, uint32_t seq, rt_nlmsg_fn fn, void *ctx)
{
    const uint8_t *p = buf;
    size_t left = len;
    while (left > 0) {
        struct nlmsghdr h;
        if (left < sizeof h)
            return -EPROTO;
        memcpy(&h, p, sizeof h);
        if (h.nlmsg_len < sizeof h || h.nlmsg_len > left)
            return -EPROTO;
        if (h.nlmsg_seq == seq) {
            if (h.nlmsg_type == NLMSG_DONE)
                return 0;
            if (h.nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr e;
                if (h.nlmsg_len < NLMSG_LENGTH(sizeof e.error))
                    return -EPROTO;
                memcpy(&e.error, p + NLMSG_HDRLEN, sizeof e.error);
                /* 0 is an ACK; an error is a negative errno */
                return e.error <= 0 && e.error > -4096 ? e.error : -EPROTO;
            }
            if (fn != NULL)
                fn(ctx, &h, p);
        }
        size_t step = NLMSG_ALIGN(h.nlmsg_len);
        if (step >= left)
            break;
        p += step;
        left -= step;
    }
    return RT_NLMSG_MORE;
}

/* The fixed struct of a message (fixed bytes after the header) into out,
 * and where its attributes are; false when the message is too short. */
static bool fixed(const struct nlmsghdr *h, const uint8_t *msg, void *out, size_t size,
                  const uint8_t **attrs, size_t *alen)
{
    size_t at = NLMSG_HDRLEN + NLMSG_ALIGN(size);
    if (h->nlmsg_len < NLMSG_HDRLEN + size)
        return false;
    memcpy(out, msg + NLMSG_HDRLEN, size);
    *attrs = msg + at;
    *alen = h->nlmsg_len > at ? h->nlmsg_len - at : 0;
    return true;
}

struct attr {
    unsigned short type;
    const uint8_t *data;
    size_t len;
};

/* The next attribute of p[0..*left), or false at the end (or at one that
 * does not fit). */
static bool next_attr(const uint8_t **p, size_t *left, struct attr *a)
{
    struct rtattr ra;
    if (*left < sizeof ra)
        return false;
    memcpy(&ra, *p, sizeof ra);
    if (ra.rta_len < sizeof ra || ra.rta_len > *left)
        return false;
    a->type = ra.rta_type;
    a->data = *p + sizeof ra;
    a->len = ra.rta_len - sizeof ra;
    size_t step = RTA_ALIGN(ra.rta_len);
    if (step > *left)
        step = *left;
    *p += step;
    *left -= step;
    return true;
}

static struct rt_iface *find(struct rt_nlmsg_ifaces *c, int ifindex)
{
    for (int i = 0; i < c->n; i++)
        if (c->v[i].ifindex == ifindex)
            return &c->v[i];
    return NULL;
}

static void on_link(struct rt_nlmsg_ifaces *c, const struct nlmsghdr *h, const uint8_t *msg)
{
    struct ifinfomsg ifi;
    const uint8_t *p;
    size_t left;
    if (c->n >= c->cap || !fixed(h, msg, &ifi, sizeof ifi, &p, &left))
        return;
    struct rt_iface *it = &c->v[c->n++];
    memset(it, 0, sizeof *it);
    it->ifindex = ifi.ifi_index;
    it->up = (ifi.ifi_flags & IFF_UP) != 0;
    it->running = (ifi.ifi_flags & IFF_LOWER_UP) != 0;
    it->loopback = (ifi.ifi_flags & IFF_LOOPBACK) != 0;
    struct attr a;
    while (next_attr(&p, &left, &a))
        if (a.type == IFLA_IFNAME) {
            size_t n = strnlen((const char *)a.data, a.len);
            if (n > sizeof it->name - 1)
                n = sizeof it->name - 1;
            memcpy(it->name, a.data, n);
            it->name[n] = '\0';
        }
}

static void on_addr(struct rt_nlmsg_ifaces *c, const struct nlmsghdr *h, const uint8_t *msg)
{
    struct ifaddrmsg ifa;
    const uint8_t *p;
    size_t left;
    if (!fixed(h, msg, &ifa, sizeof ifa, &p, &left) ||
        (ifa.ifa_family != AF_INET && ifa.ifa_family != AF_INET6))
        return;
    struct rt_iface *it = find(c, (int)ifa.ifa_index);
    struct attr a;
    if (it != NULL && ifa.ifa_family == AF_INET6) {
        /* global addresses only: link-local ones cannot reach a server */
        if (it->has_ipv6 || ifa.ifa_scope != RT_SCOPE_UNIVERSE ||
            (ifa.ifa_flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) != 0)
            return;
        while (next_attr(&p, &left, &a))
            if (a.type == IFA_ADDRESS && a.len == 16) {
                memcpy(it->ipv6, a.data, 16);
                it->has_ipv6 = true;
            }
        return;
    }
    if (it == NULL || it->has_ipv4)
        return;
    while (next_attr(&p, &left, &a))
        if (a.type == IFA_LOCAL && a.len == 4) {
            memcpy(it->ipv4, a.data, 4);
            it->has_ipv4 = true;
        }
}

static void on_route(struct rt_nlmsg_ifaces *c, const struct nlmsghdr *h, const uint8_t *msg)
{
    struct rtmsg m;
    const uint8_t *p;
    size_t left;
    if (!fixed(h, msg, &m, sizeof m, &p, &left) ||
        (m.rtm_family != AF_INET && m.rtm_family != AF_INET6) || m.rtm_dst_len != 0 ||
        m.rtm_type != RTN_UNICAST)
        return;
    uint32_t table = m.rtm_table;
    int oif = 0;
    struct attr a;
    while (next_attr(&p, &left, &a)) {
        if (a.type == RTA_TABLE && a.len == 4)
            memcpy(&table, a.data, 4);
        else if (a.type == RTA_OIF && a.len == 4)
            memcpy(&oif, a.data, 4);
    }
    if (table != RT_TABLE_MAIN_ID)
        return;
    struct rt_iface *it = find(c, oif);
    if (it != NULL && m.rtm_family == AF_INET6)
        it->has_default6 = true;
    else if (it != NULL)
        it->has_default = true;
}

void rt_nlmsg_iface(void *ctx, const struct nlmsghdr *h, const uint8_t *msg)
{
    struct rt_nlmsg_ifaces *c = ctx;
    if (h->nlmsg_type == RTM_NEWLINK)
        on_link(c, h, msg);
    else if (h->nlmsg_type == RTM_NEWADDR)
        on_addr(c, h, msg);
    else if (h->nlmsg_type == RTM_NEWROUTE)
        on_route(c, h, msg);
}
