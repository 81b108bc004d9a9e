/* TSO segmentation and checksum completion for TUN reads (virtio_net_hdr
 * semantics, include/uapi/linux/virtio_net.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/ip.h"
#include "offload.h"

/* The header to write before each packet: "checksum already verified". */
static const uint8_t vnet_hdr_valid[RT_VNET_HDR_LEN] = {VIRTIO_NET_HDR_F_DATA_VALID};

int rt_offload_enable(int tun_fd)
{
    int sz = RT_VNET_HDR_LEN;
    if (ioctl(tun_fd, TUNSETVNETHDRSZ, &sz) != 0)
        return -errno;
    if (ioctl(tun_fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) != 0)
        return -errno;
    return 0;
}

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Split an IPv4/TCP super-packet into segments of `mss` payload bytes. */
static unsigned split_tcp4(const uint8_t *p, size_t len, size_t mss, uint8_t *out, rt_packet_fn fn,
                           void *ctx)
{
    /* no longer than IPv4 allows: every segment then fits the scratch */
    if (len < 20 || len > 65535 || (p[0] >> 4) != 4 || p[9] != 6)
        return 0;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (ihl < 20 || len < ihl + 20)
        return 0;
    size_t thl = (size_t)(p[ihl + 12] >> 4) * 4;
    size_t hlen = ihl + thl;
    if (thl < 20 || len < hlen || mss == 0)
        return 0;
    size_t payload = len - hlen;
    uint32_t seq0 = (uint32_t)be16(p + ihl + 4) << 16 | be16(p + ihl + 6);
    uint16_t id0 = be16(p + 4);
    uint8_t flags = p[ihl + 13];
    uint32_t pseudo = tg_ip_sum(p + 12, 8, 6); /* addresses + protocol */
    unsigned n = 0;
    size_t off = 0;
    do {
        size_t seg = payload - off < mss ? payload - off : mss;
        bool last = off + seg >= payload;
        memcpy(out, p, hlen);
        memcpy(out + hlen, p + hlen + off, seg);
        put16(out + 2, (uint16_t)(hlen + seg));
        put16(out + 4, (uint16_t)(id0 + n));
        put16(out + 10, 0);
        put16(out + 10, tg_ip_fold(tg_ip_sum(out, ihl, 0)));
        uint32_t seq = seq0 + (uint32_t)off;
        put16(out + ihl + 4, (uint16_t)(seq >> 16));
        put16(out + ihl + 6, (uint16_t)seq);
        uint8_t f = flags;
        if (!last)
            f &= (uint8_t)~0x09; /* FIN, PSH only on the last segment */
        if (n > 0)
            f &= (uint8_t)~0x80; /* CWR only on the first */
        out[ihl + 13] = f;
        put16(out + ihl + 16, 0);
        uint32_t acc = tg_ip_sum(out + ihl, thl + seg, pseudo + (uint32_t)(thl + seg));
        put16(out + ihl + 16, tg_ip_fold(acc));
        fn(ctx, out, hlen + seg);
        n++;
        off += seg;
    } while (off < payload);
    return n;
}

unsigned rt_offload_split(uint8_t *buf, size_t len, uint8_t *scratch, rt_packet_fn fn, void *ctx)
{
    if (len <= RT_VNET_HDR_LEN)
        return 0;
    struct virtio_net_hdr h;
    memcpy(&h, buf, sizeof h);
    uint8_t *p = buf + RT_VNET_HDR_LEN;
    len -= RT_VNET_HDR_LEN;
    uint8_t gso = h.gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    if (gso == VIRTIO_NET_HDR_GSO_TCPV4)
        return split_tcp4(p, len, h.gso_size, scratch, fn, ctx);
    if (gso != VIRTIO_NET_HDR_GSO_NONE)
        return 0; /* not offered (TSO6, UDP): never happens */
    if (h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        size_t start = h.csum_start, at = (size_t)h.csum_start + h.csum_offset;
        if (at + 2 > len || start > len)
            return 0;
        /* the field holds the pseudo-header sum: sum from csum_start on */
        uint16_t c = tg_ip_fold(tg_ip_sum(p + start, len - start, 0));
        put16(p + at, c != 0 ? c : 0xffff); /* as skb_checksum_help: 0 is sent as -0 */
    }
    fn(ctx, p, len);
    return 1;
}

long rt_tun_write(int fd, int offload, const uint8_t *pkt, size_t len)
{
    if (!offload)
        return (long)write(fd, pkt, len);
    struct iovec iov[2] = {
        {.iov_base = (void *)(uintptr_t)vnet_hdr_valid, .iov_len = RT_VNET_HDR_LEN},
        {.iov_base = (void *)(uintptr_t)pkt, .iov_len = len},
    };
    return (long)writev(fd, iov, 2);
}

void rt_coalesce_init(struct rt_coalescer *k, int fd)
{
    memset(k, 0, sizeof *k);
    k->fd = fd;
}

/* Payload length of an IPv4/TCP packet we may glue, or 0. */
static size_t gluable(const uint8_t *p, size_t len, size_t *thl)
{
    if (len < 40 || p[0] != 0x45 || p[9] != 6 || be16(p + 2) != len ||
        (be16(p + 6) & 0x3fff) != 0) /* fragments */
        return 0;
    size_t t = (size_t)(p[32] >> 4) * 4;
    uint8_t flags = p[33];
    if (t < 20 || len <= 20 + t || (flags & ~0x18) != 0 || !(flags & 0x10))
        return 0;
    *thl = t;
    return len - 20 - t;
}

void rt_coalesce_flush(struct rt_coalescer *k)
{
    if (k->len == 0)
        return;
    uint8_t *p = k->buf;
    struct iovec iov[2] = {{.iov_base = k->hdr, .iov_len = RT_VNET_HDR_LEN},
                           {.iov_base = p, .iov_len = k->len}};
    if (k->count <= 1) {
        memcpy(k->hdr, vnet_hdr_valid, sizeof k->hdr);
    } else {
        size_t tcp_len = k->len - k->ihl;
        put16(p + 2, (uint16_t)k->len);
        put16(p + 10, 0);
        put16(p + 10, tg_ip_fold(tg_ip_sum(p, k->ihl, 0)));
        /* partial checksum: the pseudo-header sum, as TSO expects */
        put16(p + k->ihl + 16, (uint16_t)tg_ip_sum(p + 12, 8, (uint32_t)(6 + tcp_len)));
        struct virtio_net_hdr h = {
            .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
            .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
            .hdr_len = (uint16_t)(k->ihl + k->thl),
            .gso_size = (uint16_t)k->seg,
            .csum_start = (uint16_t)k->ihl,
            .csum_offset = 16,
        };
        memcpy(k->hdr, &h, sizeof h);
    }
    if (writev(k->fd, iov, 2) >= 0)
        k->writes++;
    k->packets += k->count;
    k->len = 0;
    k->count = 0;
}

void rt_coalesce_push(struct rt_coalescer *k, const uint8_t *pkt, size_t len)
{
    size_t thl = 0, payload = gluable(pkt, len, &thl);
    if (k->len > 0 && payload > 0 && !k->closed && thl == k->thl && payload <= k->seg &&
        k->len + payload <= 65000 && k->count < 64) {
        const uint8_t *q = k->buf;
        uint32_t seq = (uint32_t)be16(pkt + 24) << 16 | be16(pkt + 26);
        /* Splitting the glued packet gives back every field of each segment
         * but the IP ID and the checksums: so TOS, flags and fragment
         * field, TTL, addresses, ports, ack, data offset and reserved bits,
         * window, urgent pointer and options must be equal (the TCP flags
         * are ACK, and PSH only ends a run) */
        if (seq == k->next_seq && pkt[1] == q[1] && memcmp(pkt + 6, q + 6, 3) == 0 &&
            memcmp(pkt + 12, q + 12, 8) == 0 && memcmp(pkt + 20, q + 20, 4) == 0 &&
            memcmp(pkt + 28, q + 28, 5) == 0 && memcmp(pkt + 34, q + 34, 2) == 0 &&
            memcmp(pkt + 38, q + 38, 2 + thl - 20) == 0) {
            memcpy(k->buf + k->len, pkt + 20 + thl, payload);
            k->len += payload;
            k->count++;
            k->next_seq = seq + (uint32_t)payload;
            if (payload < k->seg || (pkt[33] & 0x08))
                k->closed = true;
            if (pkt[33] & 0x08)
                k->buf[33] |= 0x08; /* the burst ends with PSH */
            return;
        }
    }
    rt_coalesce_flush(k);
    if (payload == 0 || len > sizeof k->buf) {
        if (rt_tun_write(k->fd, 1, pkt, len) >= 0)
            k->writes++;
        k->packets++;
        return;
    }
    memcpy(k->buf, pkt, len);
    k->len = len;
    k->ihl = 20;
    k->thl = thl;
    k->seg = payload;
    k->count = 1;
    k->next_seq = ((uint32_t)be16(pkt + 24) << 16 | be16(pkt + 26)) + (uint32_t)payload;
    k->closed = (pkt[33] & 0x08) != 0;
}
