/*
 * The client's uplinks (client_int.h): which interfaces are uplinks (-i,
 * --auto-discover, `triglav uplink` on the running tunnel), their sockets,
 * and what the core is told when they appear, change address or go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_int.h"
#include "log.h"

/* ------------------------------------------------------------ uplinks */

int cl_uplink_open(struct client *c, struct uplink *u)
{
    char err[300];
    struct tg_key_addr any = {.type = c->dual ? TG_ADDR_IPV6 : TG_ADDR_IPV4};
    struct rt_udp_opts uo = {.device = u->ifname,
                             .mark = c->o->fwmark,
                             .buffer_bytes = c->o->c.buffer_bytes,
                             .dual_stack = c->dual};
    int fd = rt_udp_open(&any, &uo, err, sizeof err);
    if (fd < 0) {
        rt_err("%s", err);
        return fd;
    }
    u->fd = fd;
    u->tx.n = 0;
    u->tx.no_gso = c->o->c.no_offload;
    return rt_loop_add(&c->loop, fd, (uint64_t)(u - c->up));
}

void cl_uplink_close(struct client *c, struct uplink *u)
{
    if (u->fd >= 0) {
        rt_loop_del(&c->loop, u->fd);
        close(u->fd);
    }
    u->fd = -1;
}

/* An interface's address for the log: IPv4, else IPv6. */
static const char *iface_addr(const struct rt_iface *it, char buf[RT_ADDRSTRLEN])
{
    struct tg_key_addr a = {.type = it->has_ipv4 ? TG_ADDR_IPV4 : TG_ADDR_IPV6, .port = 1};
    memcpy(a.addr, it->has_ipv4 ? it->ipv4 : it->ipv6, it->has_ipv4 ? 4 : 16);
    rt_addr_str(&a, buf);
    buf[strlen(buf) - 2] = '\0';  /* without the ":1" */
    if (a.type == TG_ADDR_IPV6) { /* nor the brackets */
        memmove(buf, buf + 1, strlen(buf));
        buf[strlen(buf) - 1] = '\0';
    }
    return buf;
}

void cl_uplink_set(struct client *c, struct uplink *u, const struct rt_iface *it, tg_time now)
{
    unsigned slot = (unsigned)(u - c->up);
    char a[RT_ADDRSTRLEN];
    bool present = it != NULL && it->up && it->running &&
                   (it->has_ipv4 || (c->dual && it->has_ipv6)) && !u->disabled;
    if (it != NULL && u->ifindex != it->ifindex) {
        /* the interface was re-created: the old socket is bound to a dead index */
        if (u->up) {
            tg_client_uplink_down(c->core, slot, now);
            u->up = false;
        }
        cl_uplink_close(c, u);
        rt_tcpup_stop(&c->tcp, slot);
        u->ifindex = it->ifindex;
    }
    if (present && !u->up) {
        if (u->fd < 0 && cl_uplink_open(c, u) != 0)
            return;
        memcpy(u->ipv4, it->ipv4, 4);
        memcpy(u->ipv6, it->ipv6, 16);
        u->up = true;
        rt_tcpup_reset(&c->tcp, slot, now);
        rt_info("uplink %u: %s (%s) usable", slot, u->ifname, iface_addr(it, a));
        if (tg_client_uplink_up(c->core, slot, now) != TG_OK)
            rt_warn("uplink %u: refused by the core", slot);
    } else if (present &&
               (memcmp(u->ipv4, it->ipv4, 4) != 0 || memcmp(u->ipv6, it->ipv6, 16) != 0)) {
        memcpy(u->ipv4, it->ipv4, 4);
        memcpy(u->ipv6, it->ipv6, 16);
        rt_info("uplink %u: %s has a new address %s", slot, u->ifname, iface_addr(it, a));
        if (tg_client_uplink_up(c->core, slot, now) != TG_OK)
            rt_warn("uplink %u: refused by the core", slot);
    } else if (!present && u->up) {
        rt_info("uplink %u: %s %s", slot, u->ifname,
                u->disabled  ? "disabled"
                : it == NULL ? "disappeared"
                             : "is down or lost its address");
        tg_client_uplink_down(c->core, slot, now);
        u->up = false;
        rt_tcpup_stop(&c->tcp, slot);
        if (it == NULL || u->disabled)
            cl_uplink_close(c, u);
    }
}

static int removed_index(const struct client *c, const char *name)
{
    for (int i = 0; i < c->n_removed; i++)
        if (strcmp(c->removed[i], name) == 0)
            return i;
    return -1;
}

static bool qualifies(const struct client *c, const struct rt_iface *it)
{
    return !it->loopback && it->ifindex != c->tun_ifindex && it->up && it->running &&
           ((it->has_ipv4 && it->has_default) || (c->dual && it->has_ipv6 && it->has_default6));
}

/* Look at the interfaces again and tell the core what changed. */
void cl_refresh(struct client *c, tg_time now)
{
    struct rt_iface ifs[128];
    int n = rt_nl_ifaces(&c->nl, ifs, 128);
    if (n < 0) {
        rt_warn("cannot list interfaces: %s", strerror(-n));
        return;
    }
    /* -i and `uplink add`ed interfaces follow their name; without
     * auto-discovery every uplink does */
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        struct uplink *u = &c->up[s];
        if (!u->used || (!u->pinned && c->o->auto_discover))
            continue;
        const struct rt_iface *it = NULL;
        for (int i = 0; i < n; i++)
            if (strcmp(ifs[i].name, u->ifname) == 0)
                it = &ifs[i];
        cl_uplink_set(c, u, it, now);
    }
    if (!c->o->auto_discover)
        return;
    /* auto-discover: every interface with a default route is an uplink */
    for (unsigned s = 0; s < TG_MAX_UPLINKS; s++) {
        struct uplink *u = &c->up[s];
        if (!u->used || u->pinned)
            continue;
        const struct rt_iface *it = NULL;
        for (int i = 0; i < n; i++)
            if (ifs[i].ifindex == u->ifindex && qualifies(c, &ifs[i]))
                it = &ifs[i];
        if (it == NULL) {
            cl_uplink_set(c, u, NULL, now);
            rt_info("uplink %u: %s left", s, u->ifname);
            u->used = false;
            u->ifindex = 0;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!qualifies(c, &ifs[i]) || removed_index(c, ifs[i].name) >= 0)
            continue;
        struct uplink *u = NULL;
        for (unsigned s = 0; s < TG_MAX_UPLINKS && u == NULL; s++)
            if (c->up[s].used && c->up[s].pinned && strcmp(c->up[s].ifname, ifs[i].name) == 0)
                u = &c->up[s]; /* added by name: handled above */
        if (u != NULL)
            continue;
        for (unsigned s = 0; s < TG_MAX_UPLINKS && u == NULL; s++)
            if (c->up[s].used && c->up[s].ifindex == ifs[i].ifindex)
                u = &c->up[s];
        for (unsigned s = 0; s < TG_MAX_UPLINKS && u == NULL; s++)
            if (!c->up[s].used) {
                u = &c->up[s];
                memset(u, 0, sizeof *u);
                u->used = true;
                u->fd = -1;
                u->ifindex = ifs[i].ifindex;
                snprintf(u->ifname, sizeof u->ifname, "%s", ifs[i].name);
                rt_info("uplink %u: %s joins", s, u->ifname);
            }
        if (u == NULL) {
            rt_warn("more than %d uplinks: %s ignored", TG_MAX_UPLINKS, ifs[i].name);
            continue;
        }
        cl_uplink_set(c, u, &ifs[i], now);
    }
}

/* `triglav uplink add|remove|enable|disable IFACE` on the running tunnel */
size_t cl_uplink_command(void *ctx, enum rt_uplink_verb verb, const char *name, char *buf,
                         size_t cap)
{
    struct client *c = ctx;
    struct uplink *u = NULL;
    const char *err = NULL, *done = NULL;
    for (unsigned s = 0; s < TG_MAX_UPLINKS && u == NULL; s++)
        if (c->up[s].used && strcmp(c->up[s].ifname, name) == 0)
            u = &c->up[s];
    int r = removed_index(c, name);
    unsigned ifindex = verb == RT_UPLINK_ADD ? if_nametoindex(name) : 0;
    if (verb == RT_UPLINK_ADD && u != NULL) {
        err = "is an uplink already";
    } else if (verb == RT_UPLINK_ADD && ifindex == 0) {
        err = "is no interface here (see `ip link`)";
    } else if (verb == RT_UPLINK_ADD) {
        for (unsigned s = 0; s < TG_MAX_UPLINKS && u == NULL; s++)
            if (!c->up[s].used)
                u = &c->up[s];
        if (u == NULL) {
            err = "cannot be added: 16 uplinks at most, remove one first";
        } else {
            *u = (struct uplink){.used = true, .pinned = true, .fd = -1, .ifindex = (int)ifindex};
            snprintf(u->ifname, sizeof u->ifname, "%s", name);
            if (r >= 0) /* auto-discovery may see it again */
                memcpy(c->removed[r], c->removed[--c->n_removed], sizeof c->removed[r]);
            done = "added";
        }
    } else if (u == NULL) {
        err = "is not an uplink (see `triglav uplink list`)";
    } else if (verb == RT_UPLINK_REMOVE) {
        cl_uplink_set(c, u, NULL, c->now);
        cl_uplink_close(c, u);
        u->used = false;
        if (c->o->auto_discover && r < 0 && c->n_removed < TG_MAX_UPLINKS)
            snprintf(c->removed[c->n_removed++], sizeof c->removed[0], "%s", name);
        done = c->o->auto_discover ? "removed (auto-discovery leaves it out until `uplink add`)"
                                   : "removed";
    } else {
        bool off = verb == RT_UPLINK_DISABLE;
        done = u->disabled == off ? (off ? "was disabled already" : "was enabled already")
                                  : (off ? "disabled" : "enabled");
        u->disabled = off;
    }
    if (err != NULL)
        return (size_t)snprintf(buf, cap, "error: %s %s\n", name, err);
    rt_info("uplink %s: %s (control socket)", name, done);
    cl_refresh(c, c->now);
    if (u->used && u->disabled)
        cl_uplink_close(c, u); /* also when it was waiting: nothing is received on it */
    int w = snprintf(buf, cap, "ok: %s %s\n", name, done);
    return w > 0 ? (size_t)w : 0;
}
