/*
 * emu_gso.h: cutting a GSO super-frame into the frames a network card would
 * have put on the wire.
 *
 * A local sender on a veth hands the kernel one large frame for many
 * (UDP_SEGMENT, TSO): the veth passes it on whole, and a raw packet socket
 * with PACKET_VNET_HDR reads it with a virtio_net_hdr saying how to cut it.
 * The emulator's links carry wire frames, so it cuts them as a card would:
 * every segment gets the headers, its part of the payload, its own lengths
 * and checksums; IPv4 identifiers count up; TCP sequence numbers advance,
 * FIN and PSH stay on the last segment and CWR on the first.
 *
 * Handled: Ethernet (no VLAN tag) carrying IPv4 or IPv6 (no extension
 * headers), with TCP (GSO_TCPV4, GSO_TCPV6, the ECN bit allowed) or UDP
 * (GSO_UDP_L4). Anything else, or a frame whose headers do not hold
 * together, is refused whole: nothing is emitted. Pure: no I/O, no
 * allocation.
 */
#ifndef SIM_EMU_GSO_H
#define SIM_EMU_GSO_H

#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_net.h>

/* Called once per segment; `frame` is the caller's scratch, valid until
 * the call returns. */
typedef void (*sim_gso_emit)(void *ctx, uint8_t *frame, size_t len);

/* Cut the frame f[0..len) described by `vh` into segments of at most
 * vh->gso_size payload bytes, each built in scratch[0..cap) and handed to
 * emit. Returns the number of segments, or -1 (nothing emitted) when the
 * frame is not one this can cut or a segment would not fit in `cap`. */
int sim_gso_segment(const struct virtio_net_hdr *vh, const uint8_t *f, size_t len,
                    uint8_t *scratch, size_t cap, sim_gso_emit emit, void *ctx);

#endif
