/*
 * wire.h: every byte layout that crosses the network, in one place.
 *
 * Outer messages (cleartext, one per UDP datagram). Byte 0 is the type,
 * bytes 1-3 are zero. Integers are little-endian.
 *
 *   HS_INIT  1  [type][0 0 0][sender_index u32][Noise NK message 1][mac1 16][mac2 16]
 *   HS_JOIN  2  [type][0 0 0][sender_index u32][Noise NKpsk2 message 1][mac1 16][mac2 16]
 *   HS_RESP  3  [type][0 0 0][receiver_index u32][sender_index u32][Noise message 2]
 *   DATA     4  [type][0 0 0][receiver_index u32][counter u64][AEAD ciphertext + 16-byte tag]
 *   HS_COOKIE 5 [type][0 0 0][receiver_index u32][nonce 24][sealed cookie 32]
 *
 * The MACs and the cookie are cookie.h's: mac1 proves the sender holds the
 * tg1_ key, mac2 (under load) that it can receive at its source address.
 *
 * An index is a random 32-bit number chosen by the side that receives on it,
 * so it links nothing across uplinks. The DATA header's 16 bytes are the
 * AEAD's associated data and its counter is the Noise nonce, explicit so that
 * loss and reordering never desynchronise the receiver.
 *
 * Inner frames (inside the AEAD plaintext, one or more back to back):
 *
 *   PADDING  0  the rest of the plaintext is padding
 *   DATA     1  flags u8, seq u32, send_time u32, [prev_delta u16], IP packet
 *               The IP packet runs to the end of the plaintext, so DATA is
 *               always the last frame. seq is the low 32 bits of the
 *               multipath sequence number and send_time the low 32 bits of
 *               the sender's clock in microseconds; the receiver widens each
 *               next to the values it has seen (tg_widen32).
 *               flags bit 0 ORDERED: striped, goes through the reorder
 *               buffer; clear: flow-sticky, delivered once deduplicated.
 *               flags bit 1 PREV: prev_delta follows; the DATA frame sent
 *               before this one on the same uplink, on it alone, had
 *               sequence number seq - prev_delta (see PATH_SEQ).
 *               flags bit 2 PREV_ORDERED: that earlier frame was striped
 *               (if it never arrives, the receiver asks for it: NACK).
 *               flags bit 3 HELD: the sender held this frame in its own
 *               queue until the uplink's bottleneck had room by its model;
 *               a run of datagrams lost before it is that model's error,
 *               asked for again even near the top of the queue.
 *   PING     2  id u32, send_time_us u64
 *   PONG     3  id u32, send_time_us u64 (echoed from the PING)
 *   FEEDBACK 4  uplink u8, rx_packets u64, rx_bytes u64, highest_seq u64, owd_us i64
 *               (owd_us INT64_MIN: not known yet, see TG_OWD_UNKNOWN)
 *   CLOSE    5  reason u8: 0 this uplink is going away, 1 the whole session ends
 *               (the client exits; the server frees the session at once)
 *   PATH_SEQ 6  prev_seq u32: the low 32 bits of the last DATA frame's
 *               sequence number sent on this uplink alone, for datagrams
 *               that carry no DATA (PING)
 *   NACK     8  count u8 (1..32), count x seq u32: the low 32 bits of
 *               striped DATA frames the receiver found lost (the uplink that
 *               carried them delivered a later one); the sender sends each
 *               again once, on the uplink where it arrives first
 *   LOST_RUN 10 seq u32, after u32: the receiver found more than one
 *               datagram missing before the one that named seq lost: the
 *               DATA frames sent on seq's uplink after the datagram whose
 *               counter's low 32 bits are `after`, and before seq's, were
 *               lost too (the uplink's counters tell how many, only the sender
 *               knows which); the sender sends again the striped ones it
 *               still keeps and has not sent again, like a NACK's
 *   SESSION  7  token[8], tunnel IPv4[4], prefix u8: server to client, on
 *               the PONGs of a new session: the session exists (it is created
 *               only once the client's first transport message decrypted)
 *   OBSERVED 9  addr_type u8 (1 IPv4, 2 IPv6), port u16, address (4 or 16
 *               bytes by type): server to client, on every PONG: the source
 *               address and port the server sees this uplink's datagrams
 *               come from, after any NAT on the way (the client reports its
 *               mapping and tells whether it depends on the destination)
 *
 * A full-size DATA datagram costs 16 (header) + 16 (tag) + 12 (DATA with
 * PREV) = 44 bytes beyond the IP packet.
 *
 * This module only encodes and decodes; it knows no keys and no state.
 * Decoders never read outside the buffer they are given and never allocate.
 */
#ifndef TG_WIRE_H
#define TG_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"

/* A FEEDBACK's owd_us when the receiver cannot tell yet: a DATA frame carries
 * only the low 32 bits of its send time, which mean nothing until a PING's
 * full send time has anchored the sender's clock. */
#define TG_OWD_UNKNOWN INT64_MIN

enum tg_msg_type {
    TG_MSG_HS_INIT = 1,
    TG_MSG_HS_JOIN = 2,
    TG_MSG_HS_RESP = 3,
    TG_MSG_DATA = 4,
    TG_MSG_HS_COOKIE = 5,
};

enum tg_wire_sizes {
    TG_AEAD_TAG_LEN = 16,      /* ChaCha20-Poly1305 tag */
    TG_DH_LEN = 32,            /* X25519 public key */
    TG_HS_INIT_HEADER_LEN = 8, /* type, reserved, sender index */
    TG_HS_RESP_HEADER_LEN = 12, /* type, reserved, receiver index, sender index */
    TG_DATA_HEADER_LEN = 16,   /* type, reserved, receiver index, counter */
    TG_DATA_OVERHEAD = TG_DATA_HEADER_LEN + TG_AEAD_TAG_LEN,
    /* smallest Noise handshake message: e + empty encrypted payload */
    TG_HS_MSG_MIN = TG_DH_LEN + TG_AEAD_TAG_LEN,
    TG_MAX_DATAGRAM = 65535,
};

enum tg_frame_type {
    TG_FRAME_PADDING = 0,
    TG_FRAME_DATA = 1,
    TG_FRAME_PING = 2,
    TG_FRAME_PONG = 3,
    TG_FRAME_FEEDBACK = 4,
    TG_FRAME_CLOSE = 5,
    TG_FRAME_PATH_SEQ = 6, /* the previous DATA seq sent on this uplink (loss detection) */
    TG_FRAME_SESSION = 7,  /* the new session's token and tunnel address */
    TG_FRAME_NACK = 8,     /* striped packets the receiver found lost: send them again */
    TG_FRAME_OBSERVED = 9, /* server to client: the uplink's source address as seen */
    TG_FRAME_LOST_RUN = 10, /* the frames sent before a NACKed one on its uplink were lost too */
};

enum { TG_DATA_FLAG_ORDERED = 1, TG_DATA_FLAG_PREV = 2, TG_DATA_FLAG_PREV_ORDERED = 4,
       TG_DATA_FLAG_HELD = 8 };
enum { TG_CLOSE_UPLINK = 0, TG_CLOSE_SESSION = 1 };
enum { TG_SESSION_TOKEN_LEN = 8 };

enum tg_frame_sizes {
    TG_FRAME_DATA_HEADER_LEN = 1 + 1 + 4 + 4, /* without prev_delta */
    TG_FRAME_DATA_MAX_HEADER_LEN = TG_FRAME_DATA_HEADER_LEN + 2,
    TG_FRAME_PING_LEN = 1 + 4 + 8,
    TG_FRAME_FEEDBACK_LEN = 1 + 1 + 8 + 8 + 8 + 8,
    TG_FRAME_CLOSE_LEN = 1 + 1,
    TG_FRAME_PATH_SEQ_LEN = 1 + 4,
    TG_FRAME_SESSION_LEN = 1 + TG_SESSION_TOKEN_LEN + 4 + 1,
    TG_FRAME_NACK_HEADER_LEN = 1 + 1, /* then count x u32 */
    TG_NACK_MAX = 32,
    TG_FRAME_OBSERVED_HEADER_LEN = 1 + 1 + 2, /* then 4 or 16 bytes of address */
    TG_FRAME_LOST_RUN_LEN = 1 + 4 + 4,
};

/* One parsed outer message. Pointers alias the datagram. */
struct tg_wire_msg {
    uint8_t type;            /* enum tg_msg_type */
    uint32_t receiver_index; /* HS_RESP, DATA */
    uint32_t sender_index;   /* HS_INIT, HS_JOIN, HS_RESP */
    uint64_t counter;        /* DATA: nonce counter */
    const uint8_t *body;     /* Noise message, or ciphertext with its tag */
    size_t body_len;
    const uint8_t *macs;     /* HS_INIT, HS_JOIN: mac1 and mac2 (after body) */
};

/* Parse the cleartext part of a datagram. Checks lengths and reserved bytes,
 * authenticates nothing.
 * Returns TG_OK, TG_ERR_TRUNCATED (shorter than the type's minimum, or empty),
 * TG_ERR_MALFORMED (reserved bytes not zero, longer than TG_MAX_DATAGRAM),
 * TG_ERR_UNKNOWN_TYPE. */
int tg_wire_parse(const uint8_t *dgram, size_t len, struct tg_wire_msg *out) TG_MUST_CHECK;

/* Write the 16-byte DATA header. */
void tg_wire_put_data_header(uint8_t out[TG_DATA_HEADER_LEN], uint32_t receiver_index,
                             uint64_t counter);

/* Write an HS_INIT or HS_JOIN header (8 bytes). */
void tg_wire_put_hs_init_header(uint8_t out[TG_HS_INIT_HEADER_LEN], uint8_t type,
                                uint32_t sender_index);

/* Write an HS_RESP header (12 bytes). */
void tg_wire_put_hs_resp_header(uint8_t out[TG_HS_RESP_HEADER_LEN], uint32_t receiver_index,
                                uint32_t sender_index);

/* One decoded inner frame. DATA's packet pointer aliases the plaintext. */
struct tg_frame {
    uint8_t type; /* enum tg_frame_type */
    union {
        struct {
            uint8_t flags;         /* TG_DATA_FLAG_* */
            uint32_t seq;          /* low 32 bits of the multipath sequence number */
            uint32_t send_time_us; /* low 32 bits of the sender's clock when sent */
            uint16_t prev_delta;   /* flags & PREV: seq - the previous DATA's on this uplink */
            const uint8_t *packet; /* the IP packet */
            uint16_t len;          /* bytes of packet */
        } data;
        struct {
            uint32_t id;
            uint64_t send_time_us; /* PING: sender's clock; PONG: echoed */
        } ping;                    /* PING and PONG */
        struct {
            uint8_t uplink;        /* the sender's uplink this reports on */
            uint64_t rx_packets;   /* DATA frames received on it, cumulative */
            uint64_t rx_bytes;     /* their IP bytes, cumulative */
            uint64_t highest_seq;  /* highest multipath seq seen on it */
            int64_t owd_us;        /* latest receive time - send_time_us,
                                      TG_OWD_UNKNOWN before the receiver can tell */
        } feedback;
        struct {
            uint8_t reason;
        } close;
        struct {
            uint8_t count;         /* 1..TG_NACK_MAX */
            const uint8_t *seqs;   /* count x u32: low 32 bits of lost sequence numbers */
        } nack;
        struct {
            uint8_t token[TG_SESSION_TOKEN_LEN];
            uint8_t addr[4];
            uint8_t prefix;
        } session;
        struct {
            uint32_t seq;          /* low 32 bits of a lost striped packet's seq */
            uint32_t after;        /* low 32 bits of the last counter received before it */
        } lost_run;
        struct tg_key_addr observed; /* OBSERVED */
        struct {
            uint32_t prev_seq;     /* low 32 bits of the multipath seq of the DATA frame sent on this uplink
                                      before this datagram (and on no other uplink) */
        } path_seq;
    } u;
};

/* Decode the frame starting at plaintext[*off] and advance *off past it.
 * Returns 1 when a frame was decoded, 0 at the end (no bytes left, or a
 * PADDING frame, which ends the plaintext), or TG_ERR_TRUNCATED /
 * TG_ERR_UNKNOWN_TYPE / TG_ERR_MALFORMED (a DATA packet over 65535 bytes). After an error the rest of the plaintext must be
 * ignored. */
int tg_frame_next(const uint8_t *plaintext, size_t len, size_t *off,
                  struct tg_frame *out) TG_MUST_CHECK;

/* Encoders append one frame at out[*off], advancing *off; TG_ERR_NOBUF when
 * it does not fit in cap (nothing written). */
/* DATA: `prev_delta` 0 leaves PREV out. The packet runs to the end of the
 * plaintext: nothing may be appended after it. */
int tg_frame_put_data(uint8_t *out, size_t cap, size_t *off, uint8_t flags, uint64_t seq,
                      uint64_t send_time_us, uint16_t prev_delta, const uint8_t *packet,
                      uint16_t len) TG_MUST_CHECK;
int tg_frame_put_ping(uint8_t *out, size_t cap, size_t *off, uint8_t type, uint32_t id,
                      uint64_t send_time_us) TG_MUST_CHECK;
int tg_frame_put_feedback(uint8_t *out, size_t cap, size_t *off, uint8_t uplink,
                          uint64_t rx_packets, uint64_t rx_bytes, uint64_t highest_seq,
                          int64_t owd_us) TG_MUST_CHECK;
int tg_frame_put_close(uint8_t *out, size_t cap, size_t *off, uint8_t reason) TG_MUST_CHECK;
/* PATH_SEQ: uplinks deliver in send order, so when the receiver reads that
 * `prev_seq` went before this datagram on the same uplink and has not seen
 * it, it was lost: the reorder buffer need not wait for it. */
int tg_frame_put_path_seq(uint8_t *out, size_t cap, size_t *off, uint64_t prev_seq) TG_MUST_CHECK;
int tg_frame_put_nack(uint8_t *out, size_t cap, size_t *off, const uint64_t *seqs,
                      uint8_t count) TG_MUST_CHECK;
int tg_frame_put_lost_run(uint8_t *out, size_t cap, size_t *off, uint64_t seq,
                          uint64_t after) TG_MUST_CHECK;
/* OBSERVED: TG_ERR_INVAL when a->type is neither TG_ADDR_IPV4 nor TG_ADDR_IPV6. */
int tg_frame_put_observed(uint8_t *out, size_t cap, size_t *off,
                          const struct tg_key_addr *a) TG_MUST_CHECK;
int tg_frame_put_session(uint8_t *out, size_t cap, size_t *off,
                         const uint8_t token[TG_SESSION_TOKEN_LEN], const uint8_t addr[4],
                         uint8_t prefix) TG_MUST_CHECK;

/* The 64-bit value whose low 32 bits are `low` and which lies nearest to
 * `near` (ties and the ends of the range: never below 0 or above 2^64 - 1). */
static inline uint64_t tg_widen32(uint32_t low, uint64_t near)
{
    const uint64_t span = (uint64_t)1 << 32, half = span / 2;
    uint64_t c = (near & ~(span - 1)) | low;
    if (c > near && c - near > half && c >= span)
        c -= span;
    else if (c < near && near - c > half && c <= UINT64_MAX - span)
        c += span;
    return c;
}

/* Little-endian helpers shared by the codecs. */
static inline void tg_put_u16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void tg_put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void tg_put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t tg_get_u16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t tg_get_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t tg_get_u64(const uint8_t *p)
{
    return (uint64_t)tg_get_u32(p) | (uint64_t)tg_get_u32(p + 4) << 32;
}

#endif
