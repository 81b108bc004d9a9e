#include "ip.h"

#include <string.h>

/* IPv6 extension headers we walk (RFC 8200 §4). */
enum {
    V6_HOP_BY_HOP = 0,
    V6_ROUTING = 43,
    V6_FRAGMENT = 44,
    V6_DEST_OPTS = 60,
};

enum {
    V4_HEADER_MIN = 20,
    V6_HEADER_LEN = 40,
    TCP_HEADER_MIN = 20,
    UDP_HEADER_LEN = 8,
    ICMP_HEADER_MIN = 4, /* type, code, checksum */
    ICMP_ECHO_LEN = 8,   /* ... identifier, sequence number */
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t fold32(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint32_t)sum;
}

/* Ports (or echo identifiers) of the transport header at pkt[off..end).
 * A first fragment must carry the whole fixed transport header (RFC 1858
 * tiny-fragment rule; RFC 8200 §4.5 for IPv6), so a short one is truncated. */
static int parse_transport(const uint8_t *pkt, size_t off, size_t end, struct tg_ip_info *out)
{
    size_t avail = end - off;
    const uint8_t *l4 = pkt + off;
    bool icmp = (out->version == 4 && out->proto == TG_PROTO_ICMP) ||
                (out->version == 6 && out->proto == TG_PROTO_ICMPV6);

    if (out->proto == TG_PROTO_TCP || out->proto == TG_PROTO_UDP) {
        if (avail < (out->proto == TG_PROTO_TCP ? TCP_HEADER_MIN : UDP_HEADER_LEN))
            return TG_ERR_TRUNCATED;
        out->src_port = get16(l4);
        out->dst_port = get16(l4 + 2);
        out->has_ports = true;
    } else if (icmp) {
        if (avail < ICMP_HEADER_MIN)
            return TG_ERR_TRUNCATED;
        uint8_t type = l4[0];
        bool echo = out->version == 4 ? (type == 0 || type == 8) : (type == 128 || type == 129);
        if (echo) {
            if (avail < ICMP_ECHO_LEN)
                return TG_ERR_TRUNCATED;
            out->src_port = out->dst_port = get16(l4 + 4);
            out->has_ports = true;
        }
    }
    return TG_OK;
}

static int parse4(const uint8_t *pkt, size_t len, struct tg_ip_info *out)
{
    if (len < V4_HEADER_MIN)
        return TG_ERR_TRUNCATED;
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    if (ihl < V4_HEADER_MIN)
        return TG_ERR_MALFORMED;
    if (ihl > len)
        return TG_ERR_TRUNCATED;
    size_t total = get16(pkt + 2);
    if (total < ihl || total > len)
        return TG_ERR_MALFORMED;

    out->version = 4;
    out->proto = pkt[9];
    memcpy(out->src, pkt + 12, 4);
    memcpy(out->dst, pkt + 16, 4);
    out->l3_len = ihl;
    out->l4_off = ihl;
    out->total_len = total;
    if ((get16(pkt + 6) & 0x1fff) != 0) {
        out->later_fragment = true; /* its payload starts mid-datagram */
        return TG_OK;
    }
    return parse_transport(pkt, ihl, total, out);
}

static int parse6(const uint8_t *pkt, size_t len, struct tg_ip_info *out)
{
    if (len < V6_HEADER_LEN)
        return TG_ERR_TRUNCATED;
    size_t total = V6_HEADER_LEN + (size_t)get16(pkt + 4);
    if (total > len)
        return TG_ERR_MALFORMED;

    out->version = 6;
    memcpy(out->src, pkt + 8, 16);
    memcpy(out->dst, pkt + 24, 16);
    out->total_len = total;

    /* Every header walked is at least 8 bytes long and must end inside
     * total, so the loop runs at most total / 8 times. */
    uint8_t next = pkt[6];
    size_t off = V6_HEADER_LEN;
    bool first_fragment = true;
    for (;;) {
        if (next == V6_HOP_BY_HOP && off != V6_HEADER_LEN)
            return TG_ERR_MALFORMED; /* only allowed right after the fixed header */
        if (next == V6_HOP_BY_HOP || next == V6_ROUTING || next == V6_DEST_OPTS) {
            if (total - off < 2)
                return TG_ERR_TRUNCATED;
            size_t hlen = ((size_t)pkt[off + 1] + 1) * 8;
            if (total - off < hlen)
                return TG_ERR_TRUNCATED;
            next = pkt[off];
            off += hlen;
        } else if (next == V6_FRAGMENT) {
            if (total - off < 8)
                return TG_ERR_TRUNCATED;
            uint16_t frag_off = get16(pkt + off + 2) >> 3;
            next = pkt[off];
            off += 8;
            if (frag_off != 0) {
                /* What follows is the middle of the fragmentable part:
                 * neither headers nor ports can be read from it. */
                first_fragment = false;
                break;
            }
        } else {
            break;
        }
    }
    out->proto = next;
    out->l3_len = off;
    out->l4_off = off;
    out->later_fragment = !first_fragment;
    if (!first_fragment)
        return TG_OK;
    return parse_transport(pkt, off, total, out);
}

int tg_ip_parse(const uint8_t *pkt, size_t len, struct tg_ip_info *out)
{
    memset(out, 0, sizeof *out);
    if (len < 1)
        return TG_ERR_TRUNCATED;
    int err;
    switch (pkt[0] >> 4) {
    case 4:
        err = parse4(pkt, len, out);
        break;
    case 6:
        err = parse6(pkt, len, out);
        break;
    default:
        return TG_ERR_MALFORMED;
    }
    if (err != TG_OK)
        memset(out, 0, sizeof *out);
    return err;
}

uint32_t tg_ip_sum(const uint8_t *data, size_t len, uint32_t seed)
{
    /* 64-bit accumulator: no carry is lost for any length a packet can have,
     * so folding once at the end is enough (RFC 1071 §2 (C), deferred carries). */
    uint64_t sum = seed;
    size_t i = 0;
    for (; i + 7 < len; i += 8) /* four words a round: the TSO path sums every segment */
        sum += (uint64_t)get16(data + i) + get16(data + i + 2) + get16(data + i + 4) +
               get16(data + i + 6);
    for (; i + 1 < len; i += 2)
        sum += get16(data + i);
    if (i < len)
        sum += (uint64_t)data[i] << 8; /* odd byte, padded with a zero byte */
    return fold32(sum);
}

uint16_t tg_ip_fold(uint32_t sum)
{
    return (uint16_t)~fold32(sum);
}

uint16_t tg_ip_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    /* Eqn. 3 rather than eqn. 2: adding ~m instead of subtracting m keeps the
     * sum positive, so it folds to 0x0001..0xFFFF exactly as a full
     * recomputation over non-zero data does, and the result is never the -0
     * (0xFFFF) that eqn. 2 can produce. (The sum is 0 only when csum was
     * already 0xFFFF, old 0xFFFF and new 0.) */
    uint64_t sum = (uint16_t)~csum;
    sum += (uint16_t)~old_word;
    sum += new_word;
    return (uint16_t)~fold32(sum);
}

uint16_t tg_ip_csum_update(uint16_t csum, const uint8_t *old_bytes, const uint8_t *new_bytes,
                           size_t len)
{
    uint64_t sum = (uint16_t)~csum;
    size_t i = 0;
    for (; i + 1 < len; i += 2) {
        sum += (uint16_t)~get16(old_bytes + i);
        sum += get16(new_bytes + i);
    }
    if (i < len) {
        sum += (uint16_t) ~(uint16_t)(old_bytes[i] << 8);
        sum += (uint16_t)(new_bytes[i] << 8);
    }
    return (uint16_t)~fold32(sum);
}
