/*
 * udp.h: UDP sockets for uplinks and listening, and batched I/O.
 * A client uplink socket is bound to its interface (SO_BINDTODEVICE) and
 * marked (SO_MARK) so its datagrams leave through that interface and never
 * route into the tunnel.
 *
 * Sending: datagrams queued for the same destination are merged into one
 * UDP GSO message (UDP_SEGMENT: equal-sized segments, the last may be
 * shorter), and the messages go out with one sendmmsg. The kernel splits
 * them as late as it can, which saves most of the per-datagram cost. A
 * socket whose route refuses GSO falls back to plain datagrams for good.
 * Receiving: recvmmsg with UDP_GRO, so the kernel may hand over several
 * datagrams of one sender glued together; rt_udp_recv reports the segment
 * size and the caller walks the segments.
 */
#ifndef RT_UDP_H
#define RT_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/key.h"

#define RT_RX_MSGS      16    /* messages per recvmmsg */
#define RT_RX_BUF       65536 /* a GRO message holds up to 64 KiB */
#define RT_TX_MSGS      64    /* messages per sendmmsg */
#define RT_TX_IOV       1024  /* datagrams queued before a flush */
#define RT_GSO_MAX_SEGS 64    /* segments per GSO message (kernel limit on older kernels) */

struct rt_udp_opts {
    const char *device; /* SO_BINDTODEVICE, NULL = none */
    uint32_t mark;      /* SO_MARK, 0 = none */
    int buffer_bytes;   /* SO_RCVBUF/SO_SNDBUF wanted (forced when allowed) */
    bool dual_stack;    /* an IPv6 socket that also reaches IPv4 (a client uplink
                           racing a key's addresses of both families); without it an
                           IPv6 socket is IPv6 only, so [::]:P and 0.0.0.0:P coexist */
};

/* Open a non-blocking UDP socket bound to `local` (family of `local`; port 0
 * = any). IPv6 sockets get IPV6_V6ONLY unless o->dual_stack. Returns the fd or -errno with a sentence in err (port in use,
 * unknown interface, permission) that says what to do. */
int rt_udp_open(const struct tg_key_addr *local, const struct rt_udp_opts *o, char *err,
                size_t errcap);

struct rt_rx_batch {
    struct mmsghdr msg[RT_RX_MSGS];
    struct iovec iov[RT_RX_MSGS];
    struct sockaddr_storage from[RT_RX_MSGS];
    union {
        char buf[64];
        struct cmsghdr align;
    } ctrl[RT_RX_MSGS];
    size_t seg[RT_RX_MSGS]; /* segment size of message i (= its length without GRO) */
    uint8_t buf[RT_RX_MSGS][RT_RX_BUF];
};

/* Receive up to RT_RX_MSGS messages without blocking; returns how many (0
 * when none is waiting) or -errno. Message i is buf[i][0..msg[i].msg_len),
 * made of datagrams of seg[i] bytes (the last may be shorter). */
int rt_udp_recv(int fd, struct rt_rx_batch *b);

struct rt_tx_batch {
    struct mmsghdr msg[RT_TX_MSGS];
    struct iovec iov[RT_TX_IOV];
    struct sockaddr_storage to[RT_TX_MSGS];
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctrl[RT_TX_MSGS];
    struct tg_key_addr dest[RT_TX_MSGS];
    size_t seg[RT_TX_MSGS]; /* segment size (first datagram's length) */
    size_t bytes[RT_TX_MSGS];
    bool closed[RT_TX_MSGS]; /* a shorter last segment was added */
    unsigned n, n_iov;
    bool no_gso;            /* the route refused GSO once: plain datagrams only */
    uint64_t sent, dropped; /* datagrams */
    int last_errno;         /* why the kernel last refused one */
};

/* Queue one datagram (data stays the caller's until rt_udp_flush); `to` may
 * be NULL for a connected socket. Flushes when the batch is full. */
void rt_udp_queue(int fd, struct rt_tx_batch *b, const uint8_t *data, size_t len,
                  const struct tg_key_addr *to);
/* Send what is queued; datagrams the kernel refuses are dropped (UDP). */
void rt_udp_flush(int fd, struct rt_tx_batch *b);

#endif
