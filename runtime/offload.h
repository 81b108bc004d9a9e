/*
 * offload.h: TUN offloads (IFF_VNET_HDR). The kernel hands the TUN reader
 * whole TCP "super-packets" of up to 64 KiB (TSO) and leaves checksums
 * partial; writing them back out, a small header says the checksums need
 * no check. Splitting a super-packet into MSS-sized IPv4/TCP packets and
 * finishing partial checksums happens here, before the core sees a packet,
 * so the core only ever handles ordinary IP packets.
 */
#ifndef RT_OFFLOAD_H
#define RT_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RT_VNET_HDR_LEN    10    /* struct virtio_net_hdr */
#define RT_OFFLOAD_SCRATCH 65536 /* bytes of rt_offload_split's scratch */

typedef void (*rt_packet_fn)(void *ctx, const uint8_t *pkt, size_t len);

/* Turn the offloads on for a TUN created with IFF_VNET_HDR. Returns 0 or
 * -errno (then the caller should run without them). */
int rt_offload_enable(int tun_fd);

/* One read from an offloading TUN: buf[0..len) is a virtio_net_hdr and a
 * packet. Calls fn once per resulting IP packet (segments of a TSO packet
 * are built in `scratch`, which holds RT_OFFLOAD_SCRATCH bytes). Packets
 * that cannot be segmented, and super-packets longer than an IPv4 packet can
 * be (65535 bytes), are dropped; returns how many packets were passed on. */
unsigned rt_offload_split(uint8_t *buf, size_t len, uint8_t *scratch, rt_packet_fn fn, void *ctx);

/* Write one IP packet to the TUN (with the header when `offload`). */
long rt_tun_write(int fd, int offload, const uint8_t *pkt, size_t len);

/* Writing side: consecutive in-order segments of one TCP flow (IPv4, ACK
 * with no other flag but a final PSH, headers and options identical but for
 * the IP length, ID and checksum and the TCP sequence and checksum) are
 * glued into one super-packet and written once with a GSO header, so the
 * kernel's TCP receive path runs once per burst instead of per segment
 * (what GRO does for a NIC). Anything else is written as it is. */
struct rt_coalescer {
    int fd;
    uint8_t hdr[RT_VNET_HDR_LEN];
    uint8_t buf[65536];
    size_t len;        /* bytes in buf (0 = nothing pending) */
    size_t ihl, thl;   /* header lengths of the pending packet */
    size_t seg;        /* payload bytes of its first segment */
    unsigned count;    /* segments glued */
    uint32_t next_seq; /* sequence number the next segment must have */
    bool closed;       /* a short or PSH segment ended the run */
    uint64_t writes, packets;
};

void rt_coalesce_init(struct rt_coalescer *k, int fd);
/* Queue one IP packet for the TUN (copied). */
void rt_coalesce_push(struct rt_coalescer *k, const uint8_t *pkt, size_t len);
/* Write what is pending. */
void rt_coalesce_flush(struct rt_coalescer *k);

#endif
