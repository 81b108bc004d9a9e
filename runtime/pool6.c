/* The server's tunnel IPv6 prefix (pool6.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/ra.h"
#include "log.h"
#include "pool6.h"
#include "sys.h"

int rt_pool6_choose(const struct rt_server_opts *o, struct rt_nl *nl, uint8_t prefix[16],
                    uint8_t *plen)
{
    memset(prefix, 0, 16);
    *plen = 0;
    if (strcmp(o->pool6, "off") == 0)
        return 0;
    if (strcmp(o->pool6, "auto") == 0) {
        struct rt_iface ifs[64];
        int n = rt_nl_ifaces(nl, ifs, 64);
        bool v6 = false;
        for (int i = 0; i < n; i++)
            v6 |= ifs[i].has_default6;
        if (!v6) {
            rt_info("no IPv6 default route here: the tunnel carries IPv4 only (set pool6 to "
                    "an IPv6 prefix to carry IPv6 anyway)");
            return 0;
        }
        static const uint8_t ula[16] = {0xfd, 0x85};
        memcpy(prefix, ula, 16);
        *plen = 64;
        return 0;
    }
    if (rt_prefix6_parse(o->pool6, prefix, plen) != 0 || *plen < TG_RA_PREFIX_MIN ||
        *plen > TG_RA_PREFIX_MAX) {
        rt_err("pool6 must be an IPv6 prefix from /%d to /%d (e.g. fd85::/64), auto or off",
               TG_RA_PREFIX_MIN, TG_RA_PREFIX_MAX);
        memset(prefix, 0, 16);
        *plen = 0;
        return 2;
    }
    return 0;
}

static int masquerade(const struct rt_server_opts *o, struct rt_journal *j, const char *tun_name,
                      const char *pool)
{
    char script[1200], err[1024], table[40], oif[64];
    if (strcmp(tun_name, "tgsrv0") == 0)
        snprintf(table, sizeof table, "triglav");
    else
        snprintf(table, sizeof table, "triglav_%s", tun_name);
    if (o->egress[0] != '\0')
        snprintf(oif, sizeof oif, "oifname \"%s\"", o->egress);
    else
        snprintf(oif, sizeof oif, "oifname != \"%s\"", tun_name);
    snprintf(script, sizeof script,
             "create table ip6 %s\n"
             "table ip6 %s {\n"
             "  chain postrouting {\n"
             "    type nat hook postrouting priority srcnat; policy accept;\n"
             "    ip6 saddr %s %s masquerade\n"
             "  }\n"
             "  chain forward {\n"
             "    type filter hook forward priority mangle; policy accept;\n"
             "    iifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
             "    oifname \"%s\" tcp flags syn tcp option maxseg size set rt mtu\n"
             "  }\n"
             "}\n",
             table, table, pool, oif, tun_name, tun_name);
    int rc = rt_journal_add(j, "nft ip6 %s", table);
    if (rc != 0) {
        rt_err("cannot write the state file %s: %s", j->path, strerror(-rc));
        return 1;
    }
    if ((rc = rt_nft(script, err, sizeof err)) != 0) {
        rt_journal_pop(j);
        rt_err(strstr(err, "File exists") != NULL
                   ? "nftables table ip6 %s exists already: another server with TUN %s runs here "
                     "(choose another --tun-name) or something else made it; %s"
                   : "nftables refused the IPv6 masquerade rules for table ip6 %s (TUN %s): %s",
               table, tun_name, err);
        return 1;
    }
    rt_info("forwarding %s to %s with masquerade (nftables table ip6 %s)", pool,
            o->egress[0] ? o->egress : "every interface but the tunnel", table);
    return 0;
}

int rt_pool6_setup(const struct rt_server_opts *o, struct rt_journal *j, struct rt_nl *nl,
                   const char *tun_name, int tun_ifindex, const uint8_t prefix[16], uint8_t *plen6)
{
    uint8_t me[16], plen = *plen6;
    char a[RT_ADDRSTRLEN], p[RT_ADDRSTRLEN];
    tg_ra_addr(prefix, plen, 1, me);
    rt_prefix6_str(prefix, plen, p);
    int rc = rt_nl_addr6(nl, true, tun_ifindex, me, plen);
    if (rc != 0 && strcmp(o->pool6, "auto") == 0) {
        rt_warn("cannot put %s on %s: %s; the tunnel carries IPv4 only",
                rt_prefix6_str(me, plen, a), tun_name, strerror(-rc));
        *plen6 = 0;
        return 0;
    }
    if (rc != 0) {
        rt_err("cannot put %s on %s: %s (is IPv6 disabled here? set pool6 = \"off\")",
               rt_prefix6_str(me, plen, a), tun_name, strerror(-rc));
        return 1;
    }
    rt_info("%s has %s; clients get IPv6 addresses from %s", tun_name, rt_prefix6_str(me, plen, a),
            p);
    if (o->no_nat)
        return 0;
    const char *fwd = "/proc/sys/net/ipv6/conf/all/forwarding";
    rc = rt_journal_sysctl(j, fwd, "1");
    if (rc != 0) {
        rt_err("cannot enable IPv6 forwarding (%s): %s; run as root, or start with --no-nat "
               "and forward yourself",
               fwd, strerror(-rc));
        return 1;
    }
    return masquerade(o, j, tun_name, p);
}
