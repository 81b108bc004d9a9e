/* TCP fallback framing: the same encrypted datagrams an uplink sends over UDP,
 * carried over a TCP stream, each one preceded by its length as 2 bytes in
 * network byte order. A length of 0 or above the largest datagram is a
 * protocol error: the connection is dropped, never resynchronised.
 *
 * The decoder owns a fixed buffer (one largest frame) and allocates nothing:
 * a peer that sends half a frame and stalls holds at most that buffer, and the
 * caller closes it on its idle timeout. No sockets here; the caller feeds the
 * bytes it read and sends what tg_tcpframe_encode wrote. */
#ifndef TG_RUNTIME_TCPFRAME_H
#define TG_RUNTIME_TCPFRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
    TG_TCPFRAME_HDR = 2,     /* length prefix, big-endian */
    TG_TCPFRAME_MAX = 65507, /* largest payload (the largest UDP datagram over IPv4) */
};

enum tg_tcpframe_status {
    TG_TCPFRAME_NEED_MORE = 0, /* all input consumed, no complete frame yet */
    TG_TCPFRAME_FRAME = 1,     /* *frame and *frame_len hold one datagram */
    TG_TCPFRAME_BAD_LEN = -1,  /* length 0 or above max_len: drop the connection */
};

struct tg_tcpframe_dec {
    size_t max_len; /* largest accepted datagram, <= TG_TCPFRAME_MAX */
    size_t have;    /* bytes of the current frame (header included) held */
    size_t want;    /* payload length of the current frame, 0 until the header is in */
    uint64_t frames, bad;
    uint8_t buf[TG_TCPFRAME_HDR + TG_TCPFRAME_MAX];
};

/* max_len 0 or above TG_TCPFRAME_MAX means TG_TCPFRAME_MAX. */
void tg_tcpframe_init(struct tg_tcpframe_dec *d, size_t max_len);

/* Consumes bytes from *in (advancing *in and *in_len) until one frame is
 * complete or the input runs out. A returned frame points into d->buf and is
 * valid until the next call. After TG_TCPFRAME_BAD_LEN the decoder stays in
 * that state (every call returns it) until tg_tcpframe_init. */
enum tg_tcpframe_status tg_tcpframe_feed(struct tg_tcpframe_dec *d, const uint8_t **in,
                                         size_t *in_len, const uint8_t **frame, size_t *frame_len);

/* Writes the 2-byte prefix of a datagram of len bytes into hdr; returns 0, or
 * -1 when len is 0 or above TG_TCPFRAME_MAX (nothing written). */
int tg_tcpframe_header(uint8_t hdr[TG_TCPFRAME_HDR], size_t len);

#endif
