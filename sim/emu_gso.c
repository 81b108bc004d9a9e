/* emu_gso.c: see emu_gso.h. */
#include "emu_gso.h"

#include <stdbool.h>
#include <string.h>

#include "core/ip.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5 /* Linux 6.2 uapi; older headers lack it */
#endif

enum { ETH_LEN = 14, IP4_MIN = 20, IP6_LEN = 40, UDP_LEN = 8, TCP_MIN = 20 };
enum { PROTO_TCP = 6, PROTO_UDP = 17 };
enum { TCP_FIN = 0x01, TCP_PSH = 0x08, TCP_CWR = 0x80 };

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

/* The L4 checksum of seg[l4 .. len) with the pseudo-header of its IP
 * header at seg[ETH_LEN]. */
static uint16_t l4_sum(const uint8_t *seg, size_t l4, size_t len, bool v6, uint8_t proto)
{
    const uint8_t *ip = seg + ETH_LEN;
    uint32_t l4_len = (uint32_t)(len - l4);
    uint32_t sum = v6 ? tg_ip_sum(ip + 8, 32, 0) : tg_ip_sum(ip + 12, 8, 0);
    sum += proto + (l4_len >> 16) + (l4_len & 0xffff);
    return tg_ip_fold(tg_ip_sum(seg + l4, len - l4, sum));
}

int sim_gso_segment(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len,
                    uint8_t *scratch, size_t cap, sim_gso_emit emit, void *ctx)
{
    uint8_t type = vh->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    bool tcp = type == VIRTIO_NET_HDR_GSO_TCPV4 || type == VIRTIO_NET_HDR_GSO_TCPV6;
    if (!tcp && type != VIRTIO_NET_HDR_GSO_UDP_L4)
        return -1;
    if (len < ETH_LEN + IP4_MIN || vh->gso_size == 0)
        return -1;
    uint16_t ethertype = get16(f + 12);
    bool v6 = ethertype == 0x86dd;
    if (!v6 && ethertype != 0x0800)
        return -1;
    if ((type == VIRTIO_NET_HDR_GSO_TCPV4 && v6) || (type == VIRTIO_NET_HDR_GSO_TCPV6 && !v6))
        return -1;
    const uint8_t *ip = f + ETH_LEN;
    size_t l4;
    uint8_t proto;
    if (v6) {
        if (len < ETH_LEN + IP6_LEN || ip[0] >> 4 != 6)
            return -1;
        proto = ip[6];
        l4 = ETH_LEN + IP6_LEN;
    } else {
        size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
        if (ip[0] >> 4 != 4 || ihl < IP4_MIN || len < ETH_LEN + ihl)
            return -1;
        proto = ip[9];
        l4 = ETH_LEN + ihl;
    }
    if (proto != (tcp ? PROTO_TCP : PROTO_UDP))
        return -1;
    size_t hdr;
    if (tcp) {
        if (len < l4 + TCP_MIN)
            return -1;
        hdr = l4 + (size_t)(f[l4 + 12] >> 4) * 4;
        if (hdr < l4 + TCP_MIN)
            return -1;
    } else {
        hdr = l4 + UDP_LEN;
    }
    size_t seg = vh->gso_size;
    if (len <= hdr || hdr + seg > cap || hdr + seg > 0xffff + ETH_LEN)
        return -1;
    size_t payload = len - hdr, n = (payload + seg - 1) / seg;
    uint16_t id = v6 ? 0 : get16(ip + 4);
    uint32_t seq = tcp ? get32(f + l4 + 4) : 0;
    for (size_t k = 0; k < n; k++) {
        size_t part = k + 1 < n ? seg : payload - k * seg;
        size_t out = hdr + part;
        memcpy(scratch, f, hdr);
        memcpy(scratch + hdr, f + hdr + k * seg, part);
        uint8_t *sip = scratch + ETH_LEN, *s4 = scratch + l4;
        if (v6) {
            put16(sip + 4, (uint16_t)(out - ETH_LEN - IP6_LEN));
        } else {
            put16(sip + 2, (uint16_t)(out - ETH_LEN));
            put16(sip + 4, (uint16_t)(id + k));
            put16(sip + 10, 0);
            put16(sip + 10, tg_ip_fold(tg_ip_sum(sip, l4 - ETH_LEN, 0)));
        }
        if (tcp) {
            put32(s4 + 4, seq + (uint32_t)(k * seg));
            if (k + 1 < n)
                s4[13] &= (uint8_t)~(TCP_FIN | TCP_PSH);
            if (k > 0)
                s4[13] &= (uint8_t)~TCP_CWR;
            put16(s4 + 16, 0);
            put16(s4 + 16, l4_sum(scratch, l4, out, v6, proto));
        } else {
            put16(s4 + 4, (uint16_t)(out - l4));
            put16(s4 + 6, 0);
            uint16_t c = l4_sum(scratch, l4, out, v6, proto);
            put16(s4 + 6, c == 0 ? 0xffff : c); /* 0 would mean "no checksum" */
        }
        emit(ctx, scratch, out);
    }
    return (int)n;
}
