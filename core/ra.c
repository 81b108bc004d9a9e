/* Router Solicitation and Advertisement for the tunnel's IPv6 address
 * (ra.h). Only the fields the tunnel needs; RFC 4861 §4.1, §4.2, §4.6.2. */
#include "ra.h"

#include <string.h>

#include "ip.h"

enum {
    V6_LEN = 40,
    ICMP6_RS = 133,
    ICMP6_RA = 134,
    OPT_PREFIX = 3,
    OPT_PREFIX_UNITS = 4, /* 32 bytes */
    RA_LEN = 16,
};

static const uint8_t all_routers[16] = {0xff, 0x02, [15] = 2};
static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
static const uint8_t router_ll[16] = {0xfe, 0x80, [15] = 1};

static void ipv6_header(uint8_t *p, size_t payload, const uint8_t src[16], const uint8_t dst[16])
{
    memset(p, 0, V6_LEN);
    p[0] = 0x60;
    p[4] = (uint8_t)(payload >> 8);
    p[5] = (uint8_t)payload;
    p[6] = TG_PROTO_ICMPV6;
    p[7] = 255; /* hop limit: neighbour discovery must not have crossed a router */
    memcpy(p + 8, src, 16);
    memcpy(p + 24, dst, 16);
}

/* ICMPv6 checksum over the pseudo-header and the message at p + 40. */
static uint16_t icmp6_sum(const uint8_t *p, size_t payload)
{
    uint8_t pseudo[8] = {0, 0, (uint8_t)(payload >> 8), (uint8_t)payload, 0, 0, 0, TG_PROTO_ICMPV6};
    uint32_t s = tg_ip_sum(p + 8, 32, 0);
    s = tg_ip_sum(pseudo, sizeof pseudo, s);
    return tg_ip_fold(tg_ip_sum(p + V6_LEN, payload, s));
}

static void set_sum(uint8_t *p, size_t payload)
{
    p[V6_LEN + 2] = p[V6_LEN + 3] = 0;
    uint16_t c = icmp6_sum(p, payload);
    p[V6_LEN + 2] = (uint8_t)(c >> 8);
    p[V6_LEN + 3] = (uint8_t)c;
}

static bool link_local(const uint8_t a[16])
{
    return a[0] == 0xfe && (a[1] & 0xc0) == 0x80;
}

static bool unspecified(const uint8_t a[16])
{
    static const uint8_t zero[16];
    return memcmp(a, zero, 16) == 0;
}

int tg_ra_solicit(uint8_t *out, size_t cap)
{
    static const uint8_t any[16];
    if (cap < TG_RA_SOLICIT_LEN)
        return TG_ERR_NOBUF;
    ipv6_header(out, 8, any, all_routers);
    memset(out + V6_LEN, 0, 8);
    out[V6_LEN] = ICMP6_RS;
    set_sum(out, 8);
    return TG_OK;
}

/* The ICMPv6 message of pkt if it is a neighbour-discovery packet of `type`
 * (hop limit 255, code 0), else NULL; *mlen its length. */
static const uint8_t *nd_message(const uint8_t *pkt, size_t len, uint8_t type, size_t min,
                                 struct tg_ip_info *ip, size_t *mlen)
{
    if (tg_ip_parse(pkt, len, ip) != TG_OK || ip->version != 6 || ip->proto != TG_PROTO_ICMPV6 ||
        ip->later_fragment || ip->l4_off != V6_LEN || pkt[7] != 255)
        return NULL;
    *mlen = ip->total_len - ip->l4_off;
    const uint8_t *m = pkt + ip->l4_off;
    if (*mlen < min || m[0] != type || m[1] != 0)
        return NULL;
    return m;
}

bool tg_ra_is_solicit(const uint8_t *pkt, size_t len)
{
    struct tg_ip_info ip;
    size_t mlen;
    return nd_message(pkt, len, ICMP6_RS, 8, &ip, &mlen) != NULL &&
           (unspecified(ip.src) || link_local(ip.src));
}

void tg_ra_mask(uint8_t a[16], uint8_t plen)
{
    for (unsigned i = 0; i < 16; i++) {
        unsigned bits = plen > 8 * i ? plen - 8 * i : 0;
        a[i] &= bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
    }
}

int tg_ra_advertise(uint8_t *out, size_t cap, const uint8_t prefix[16], uint8_t plen)
{
    if (cap < TG_RA_ADVERT_LEN)
        return TG_ERR_NOBUF;
    if (plen < TG_RA_PREFIX_MIN || plen > TG_RA_PREFIX_MAX)
        return TG_ERR_INVAL;
    size_t payload = TG_RA_ADVERT_LEN - V6_LEN;
    ipv6_header(out, payload, router_ll, all_nodes);
    uint8_t *m = out + V6_LEN;
    memset(m, 0, payload);
    m[0] = ICMP6_RA;
    m[4] = 64; /* current hop limit; router lifetime 0: not a default router */
    uint8_t *o = m + RA_LEN;
    o[0] = OPT_PREFIX;
    o[1] = OPT_PREFIX_UNITS;
    o[2] = plen;
    o[3] = 0x80;            /* on-link; not for autoconfiguration: the address is assigned */
    memset(o + 4, 0xff, 8); /* valid and preferred lifetimes: infinite */
    memcpy(o + 16, prefix, 16);
    tg_ra_mask(o + 16, plen);
    set_sum(out, payload);
    return TG_OK;
}

int tg_ra_parse(const uint8_t *pkt, size_t len, uint8_t prefix[16], uint8_t *plen)
{
    struct tg_ip_info ip;
    size_t mlen;
    memset(prefix, 0, 16);
    *plen = 0;
    const uint8_t *m = nd_message(pkt, len, ICMP6_RA, RA_LEN, &ip, &mlen);
    if (m == NULL || !link_local(ip.src) || icmp6_sum(pkt, mlen) != 0)
        return TG_ERR_MALFORMED;
    for (size_t off = RA_LEN; off + 2 <= mlen;) {
        size_t olen = (size_t)m[off + 1] * 8;
        if (olen == 0 || olen > mlen - off)
            return TG_ERR_MALFORMED; /* RFC 4861 §4.6: a zero length is invalid */
        if (m[off] == OPT_PREFIX && olen == 32 && m[off + 2] >= TG_RA_PREFIX_MIN &&
            m[off + 2] <= TG_RA_PREFIX_MAX) {
            *plen = m[off + 2];
            memcpy(prefix, m + off + 16, 16);
            tg_ra_mask(prefix, *plen);
            return TG_OK;
        }
        off += olen;
    }
    return TG_ERR_MALFORMED;
}

void tg_ra_addr(const uint8_t prefix[16], uint8_t plen, uint32_t host, uint8_t out[16])
{
    memcpy(out, prefix, 16);
    tg_ra_mask(out, plen);
    for (int k = 0; k < 4; k++)
        out[12 + k] |= (uint8_t)(host >> (24 - 8 * k));
}

bool tg_ra_host(const uint8_t prefix[16], uint8_t plen, const uint8_t addr[16], uint32_t *host)
{
    uint8_t net[16], want[16];
    if (plen > TG_RA_PREFIX_MAX)
        return false;
    memcpy(net, addr, 12);
    memset(net + 12, 0, 4);
    memcpy(want, prefix, 16);
    tg_ra_mask(want, plen);
    if (memcmp(net, want, 16) != 0) /* outside the prefix, or bits between plen and 96 */
        return false;
    *host =
        (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 | (uint32_t)addr[14] << 8 | addr[15];
    return true;
}
