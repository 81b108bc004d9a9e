/*
 * test_emu_gso: the emulator cuts GSO super-frames (sim/emu_gso.h) as a
 * network card would. For UDP over IPv4 (what the tunnel sends with
 * UDP_SEGMENT), TCP over IPv4 and TCP over IPv6: every segment has the
 * headers, lengths and valid IP and L4 checksums; the payloads put back
 * together are the original; IPv4 identifiers count up; TCP sequence numbers
 * advance and FIN/PSH stay on the last segment, CWR on the first. Frames it
 * cannot cut (unknown type, a header that does not match, gso_size 0, no
 * payload, truncated headers, a segment larger than the scratch) emit
 * nothing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sim/emu_gso.h"

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5
#endif

enum { MAXSEG = 16 };

struct got {
    uint8_t frame[MAXSEG][2048];
    size_t len[MAXSEG];
    int n;
};

static void collect(void *ctx, uint8_t *frame, size_t len)
{
    struct got *g = ctx;
    if (g->n < MAXSEG && len <= sizeof g->frame[0]) {
        memcpy(g->frame[g->n], frame, len);
        g->len[g->n] = len;
    }
    g->n++;
}

static unsigned get16(const uint8_t *p)
{
    return (unsigned)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        s += get16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static unsigned folded(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return s;
}

/* A segment's checksums verify: the IPv4 header's, and the L4 one with its
 * pseudo-header (a valid sum folds to 0xffff). */
static bool sums_ok(const uint8_t *f, size_t len, bool v6, uint8_t proto)
{
    const uint8_t *ip = f + 14;
    size_t l4 = v6 ? 54 : 14 + (size_t)(ip[0] & 0x0f) * 4;
    if (!v6 && folded(sum16(ip, l4 - 14, 0)) != 0xffff)
        return false;
    uint32_t n = (uint32_t)(len - l4);
    uint32_t s = v6 ? sum16(ip + 8, 32, 0) : sum16(ip + 12, 8, 0);
    s += proto + (n >> 16) + (n & 0xffff);
    return folded(sum16(f + l4, len - l4, s)) == 0xffff;
}

/* Ethernet + IPv4 or IPv6 + UDP or TCP headers, then `payload` bytes
 * counting up from 0; returns the frame's length. */
static size_t build(uint8_t *f, bool v6, bool tcp, size_t payload, uint8_t tcp_flags)
{
    memset(f, 0, 14 + 40 + 20 + payload);
    f[12] = v6 ? 0x86 : 0x08;
    f[13] = v6 ? 0xdd : 0x00;
    uint8_t *ip = f + 14;
    size_t l4;
    uint8_t proto = tcp ? 6 : 17;
    if (v6) {
        ip[0] = 0x60;
        ip[6] = proto;
        ip[7] = 64;
        ip[8] = 0x20, ip[9] = 0x01, ip[10] = 0x0d, ip[11] = 0xb8, ip[23] = 1; /* 2001:db8::1 */
        ip[24] = 0x20, ip[25] = 0x01, ip[26] = 0x0d, ip[27] = 0xb8, ip[39] = 2;
        l4 = 54;
    } else {
        ip[0] = 0x45;
        ip[4] = 0x12, ip[5] = 0x34; /* identifier */
        ip[8] = 64;
        ip[9] = proto;
        ip[12] = 192, ip[13] = 0, ip[14] = 2, ip[15] = 2;
        ip[16] = 198, ip[17] = 51, ip[18] = 100, ip[19] = 2;
        l4 = 34;
    }
    uint8_t *h = f + l4;
    h[0] = 0x1d, h[1] = 0x13, h[2] = 0x1f, h[3] = 0x90; /* ports 7443, 8080 */
    size_t hdr = l4 + (tcp ? 20 : 8);
    if (tcp) {
        h[4] = 0xff, h[5] = 0xff, h[6] = 0xff, h[7] = 0x00; /* sequence wraps */
        h[12] = 5 << 4;
        h[13] = tcp_flags;
    }
    for (size_t i = 0; i < payload; i++)
        f[hdr + i] = (uint8_t)(i * 7 + i / 251);
    return hdr + payload;
}

static void check_cut(bool v6, bool tcp, size_t payload, unsigned gso_size)
{
    static uint8_t f[70000], scratch[1600];
    static struct got g;
    uint8_t flags = 0x80 | 0x10 | 0x08 | 0x01; /* CWR ACK PSH FIN */
    size_t len = build(f, v6, tcp, payload, flags);
    struct virtio_net_hdr vh = {.gso_size = (uint16_t)gso_size,
                                .gso_type = (uint8_t)(tcp ? (v6 ? VIRTIO_NET_HDR_GSO_TCPV6
                                                                : VIRTIO_NET_HDR_GSO_TCPV4)
                                                          : VIRTIO_NET_HDR_GSO_UDP_L4)};
    memset(&g, 0, sizeof g);
    int n = sim_gso_segment(&vh, f, len, scratch, sizeof scratch, collect, &g);
    int want = (int)((payload + gso_size - 1) / gso_size);
    CHECK_EQ(n, want);
    CHECK_EQ(g.n, want);
    size_t l4 = v6 ? 54 : 34, hdr = l4 + (tcp ? 20 : 8), at = 0;
    for (int k = 0; k < g.n && k < MAXSEG; k++) {
        const uint8_t *s = g.frame[k];
        size_t part = g.len[k] - hdr;
        CHECK(part == (k + 1 < n ? gso_size : payload - (size_t)k * gso_size));
        CHECK(memcmp(s, f, 14) == 0);
        CHECK(memcmp(s + hdr, f + hdr + at, part) == 0);
        if (v6) {
            CHECK_EQ(get16(s + 14 + 4), g.len[k] - 54);
        } else {
            CHECK_EQ(get16(s + 14 + 2), g.len[k] - 14);
            CHECK_EQ(get16(s + 14 + 4), (0x1234u + (unsigned)k) & 0xffff);
        }
        if (tcp) {
            CHECK_EQ(get32(s + l4 + 4), (uint32_t)(0xffffff00u + at));
            uint8_t fl = s[l4 + 13];
            CHECK_EQ((fl & 0x09) != 0, k + 1 == n); /* FIN, PSH: the last */
            CHECK_EQ((fl & 0x80) != 0, k == 0);     /* CWR: the first */
            CHECK(fl & 0x10);                       /* ACK: every one */
        } else {
            CHECK_EQ(get16(s + l4 + 4), g.len[k] - l4);
        }
        CHECK(sums_ok(s, g.len[k], v6, tcp ? 6 : 17));
        at += part;
    }
    if (g.n <= MAXSEG)
        CHECK_EQ(at, payload);
}

static int refused(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len, size_t cap)
{
    static uint8_t scratch[1600];
    struct got *g = calloc(1, sizeof *g);
    if (g == NULL)
        return 0;
    int n = sim_gso_segment(vh, f, len, scratch, cap, collect, g);
    int emitted = g->n;
    free(g);
    return n == -1 && emitted == 0;
}

static void check_refusals(void)
{
    static uint8_t f[70000];
    size_t len = build(f, false, false, 4000, 0);
    struct virtio_net_hdr vh = {.gso_size = 1400, .gso_type = VIRTIO_NET_HDR_GSO_UDP_L4};
    CHECK(refused(&vh, f, len, 1600) == 0); /* the frame itself is fine */
    struct virtio_net_hdr bad = vh;
    bad.gso_type = VIRTIO_NET_HDR_GSO_UDP; /* UFO: not cut */
    CHECK(refused(&bad, f, len, 1600));
    bad = vh;
    bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV4; /* says TCP, carries UDP */
    CHECK(refused(&bad, f, len, 1600));
    bad = vh;
    bad.gso_type = VIRTIO_NET_HDR_GSO_TCPV6; /* says IPv6, carries IPv4 */
    CHECK(refused(&bad, f, len, 1600));
    bad = vh;
    bad.gso_size = 0;
    CHECK(refused(&bad, f, len, 1600));
    CHECK(refused(&vh, f, len, 1000));          /* a segment would not fit */
    CHECK(refused(&vh, f, 42, 1600));           /* headers only, no payload */
    CHECK(refused(&vh, f, 30, 1600));           /* truncated IP header */
    CHECK(refused(&vh, f, 0, 1600));
    f[12] = 0x81, f[13] = 0x00; /* a VLAN tag */
    CHECK(refused(&vh, f, len, 1600));
    len = build(f, false, true, 4000, 0);
    f[34 + 12] = 2 << 4; /* TCP data offset below 5 words */
    struct virtio_net_hdr t = {.gso_size = 1400, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4};
    CHECK(refused(&t, f, len, 1600));
}

int main(void)
{
    check_cut(false, false, 3 * 1400 + 500, 1400); /* the tunnel's UDP_SEGMENT */
    check_cut(false, false, 2 * 1400, 1400);       /* exact multiple */
    check_cut(false, false, 600, 1400);            /* one short segment */
    check_cut(false, true, 5 * 1448 + 17, 1448);   /* TSO, sequence wrapping */
    check_cut(true, true, 4 * 1428 + 1, 1428);
    check_cut(true, false, 3 * 1200, 1200);
    check_cut(false, false, 45 * 1400, 1400);       /* 64 KB: more than MAXSEG kept, all counted */
    check_refusals();
    return check_exit("test_emu_gso");
}
