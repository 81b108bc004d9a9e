/* Client routing: what sends traffic into the tunnel and what keeps some of
 * it out (runtime/README.md, "Routing"). Every change is journaled first. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"
#include "routing.h"
#include "sys.h"

static int add_route(const struct rt_routing *c, const struct rt_prefix *p)
{
    char a[RT_ADDRSTRLEN];
    struct rt_route r = {
        .table = c->o->table, .dst_len = p->len, .oif = c->tun_ifindex, .type = RTN_UNICAST};
    memcpy(r.dst, p->addr, 4);
    int rc = rt_journal_add(c->j, "route %u %s %s - %u", r.table, rt_prefix_str(p, a), c->tun_name,
                            RTN_UNICAST);
    if (rc == 0 && (rc = rt_nl_route(c->nl, true, &r)) != 0) {
        rt_journal_pop(c->j);
        if (rc == -EEXIST)
            rc = 0;
    }
    if (rc != 0)
        rt_err("cannot add route %s via %s (table %u): %s", a, c->tun_name, r.table, strerror(-rc));
    return rc;
}

static int add_rule(const struct rt_routing *c, const struct rt_rule *r)
{
    char a[RT_ADDRSTRLEN];
    struct rt_prefix p = {.len = r->dst_len};
    memcpy(p.addr, r->dst, 4);
    int rc =
        rt_journal_add(c->j, "rule %u %u %u %u %d %d %s", r->priority, r->table, r->fwmark,
                       r->fwmask, r->invert ? 1 : 0, r->suppress_prefixlen, rt_prefix_str(&p, a));
    if (rc == 0 && (rc = rt_nl_rule(c->nl, true, r)) != 0)
        rt_journal_pop(c->j);
    if (rc != 0) {
        rt_err("cannot add routing rule (priority %u, table %u): %s", r->priority, r->table,
               strerror(-rc));
    }
    return rc;
}

static int set_sysctl(const struct rt_routing *c, const char *path, const char *value)
{
    int rc = rt_journal_sysctl(c->j, path, value);
    if (rc != 0)
        rt_warn("cannot set %s to %s: %s", path, value, strerror(-rc));
    return rc;
}

static int set_dns(const struct rt_routing *c)
{
    const struct rt_client_opts *o = c->o;
    static char old[65536];
    char backup[300], text[512];
    ssize_t n = rt_file_read(o->resolv_conf, old, sizeof old);
    if (n < 0) {
        rt_err("--dns: cannot read %s: %s", o->resolv_conf, rt_file_strerror((int)n));
        return (int)n;
    }
    rt_state_path(backup, sizeof backup, o->c.state_dir, c->tun_name, "resolv.conf");
    int rc = rt_file_write(backup, old, (size_t)n, 0600);
    if (rc != 0) {
        rt_err("--dns: cannot save %s to %s: %s", o->resolv_conf, backup, rt_file_strerror(rc));
        return rc;
    }
    size_t len = (size_t)snprintf(
        text, sizeof text, "# written by triglav for %s; restored when it stops\n", c->tun_name);
    for (int i = 0; i < o->n_dns; i++) {
        char a[RT_ADDRSTRLEN];
        len += (size_t)snprintf(text + len, sizeof text - len, "nameserver %s\n",
                                rt_ipv4_str(o->dns_servers[i], a));
    }
    rc = rt_journal_add(c->j, "file %s %s", o->resolv_conf, backup);
    if (rc == 0 && (rc = rt_file_write(o->resolv_conf, text, len, 0644)) != 0)
        rt_journal_pop(c->j);
    if (rc != 0)
        rt_err("--dns: cannot write %s: %s", o->resolv_conf, rt_file_strerror(rc));
    return rc;
}

/* Full tunnel: the tunnel carries IPv4 only, so IPv6 must not leak out of
 * the uplinks. Our table gets "unreachable ::/0" and the same two rules as
 * IPv4 (main's more specific routes, link-local and the LAN, still win);
 * programs fall back to IPv4 at once. */
static int block_ipv6(const struct rt_routing *c)
{
    const struct rt_client_opts *o = c->o;
    struct rt_route r = {.family = AF_INET6, .table = o->table, .type = RTN_UNREACHABLE};
    int rc = rt_journal_add(c->j, "route6 %u %u", o->table, RTN_UNREACHABLE);
    if (rc == 0 && (rc = rt_nl_route(c->nl, true, &r)) != 0)
        rt_journal_pop(c->j);
    if (rc == -EAFNOSUPPORT) /* no IPv6 here: nothing to leak */
        return 0;
    if (rc != 0) {
        rt_err("cannot add the IPv6 block to table %u: %s (--allow-ipv6 skips it)", o->table,
               strerror(-rc));
        return rc;
    }
    struct rt_rule rules[2] = {
        {.family = AF_INET6,
         .priority = o->rule_priority + 1,
         .table = RT_TABLE_MAIN_ID,
         .suppress_prefixlen = 0},
        {.family = AF_INET6,
         .priority = o->rule_priority + 2,
         .table = o->table,
         .fwmark = o->fwmark,
         .fwmask = 0xffffffffu,
         .invert = true,
         .suppress_prefixlen = -1},
    };
    for (int i = 0; i < 2; i++) {
        const struct rt_rule *ru = &rules[i];
        rc = rt_journal_add(c->j, "rule6 %u %u %u %u %d %d", ru->priority, ru->table, ru->fwmark,
                            ru->fwmask, ru->invert ? 1 : 0, ru->suppress_prefixlen);
        if (rc == 0 && (rc = rt_nl_rule(c->nl, true, ru)) != 0)
            rt_journal_pop(c->j);
        if (rc != 0) {
            rt_err("cannot add an IPv6 routing rule (priority %u): %s", ru->priority,
                   strerror(-rc));
            return rc;
        }
    }
    return 0;
}

int rt_routing_ipv6(const struct rt_routing *c)
{
    const struct rt_client_opts *o = c->o;
    if (!o->full_tunnel || o->allow_ipv6)
        return 0;
    struct rt_route r = {.family = AF_INET6, .table = o->table, .oif = c->tun_ifindex,
                         .type = RTN_UNICAST, .metric = 1};
    int rc = rt_journal_add(c->j, "route6 %u %u", o->table, RTN_UNICAST);
    if (rc == 0 && (rc = rt_nl_route(c->nl, true, &r)) != 0)
        rt_journal_pop(c->j);
    if (rc != 0)
        rt_err("cannot route IPv6 into %s (table %u): %s", c->tun_name, o->table, strerror(-rc));
    return rc;
}

int rt_routing_apply(const struct rt_routing *c)
{
    const struct rt_client_opts *o = c->o;
    uint32_t prio = o->rule_priority;
    int rc;
    if (o->full_tunnel) {
        struct rt_prefix all = {.len = 0};
        if ((rc = add_route(c, &all)) != 0)
            return rc;
    }
    for (int i = 0; i < o->n_routes; i++)
        if ((rc = add_route(c, &o->routes[i])) != 0)
            return rc;
    if (o->dns && !o->full_tunnel)
        for (int i = 0; i < o->n_dns; i++) {
            struct rt_prefix p = {.len = 32};
            memcpy(p.addr, o->dns_servers[i], 4);
            if ((rc = add_route(c, &p)) != 0)
                return rc;
        }
    if (o->full_tunnel || o->n_routes > 0 || (o->dns && o->n_dns > 0)) {
        for (int i = 0; i < o->n_excludes; i++) {
            struct rt_rule r = {.priority = prio,
                                .table = RT_TABLE_MAIN_ID,
                                .suppress_prefixlen = -1,
                                .dst_len = o->excludes[i].len};
            memcpy(r.dst, o->excludes[i].addr, 4);
            if ((rc = add_rule(c, &r)) != 0)
                return rc;
        }
        if (o->full_tunnel) {
            /* routes more specific than a default in main still win (LAN, the
             * uplinks' own subnets); main's default routes do not */
            struct rt_rule r = {
                .priority = prio + 1, .table = RT_TABLE_MAIN_ID, .suppress_prefixlen = 0};
            if ((rc = add_rule(c, &r)) != 0)
                return rc;
        }
        /* everything not sent by an uplink socket looks at our table */
        struct rt_rule r = {.priority = prio + 2,
                            .table = o->table,
                            .fwmark = o->fwmark,
                            .fwmask = 0xffffffffu,
                            .invert = true,
                            .suppress_prefixlen = -1};
        if ((rc = add_rule(c, &r)) != 0)
            return rc;
        set_sysctl(c, "/proc/sys/net/ipv4/conf/all/src_valid_mark", "1");
    }
    if (o->full_tunnel && !o->allow_ipv6 && (rc = block_ipv6(c)) != 0)
        return rc;
    if (o->dns && (rc = set_dns(c)) != 0)
        return rc;
    return 0;
}
