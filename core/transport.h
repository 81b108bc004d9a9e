/*
 * transport.h: one uplink's transport session, the keys of one finished
 * handshake put to work.
 *
 * Sealing writes a DATA message (wire.h) whose 16-byte cleartext header is
 * the AEAD's associated data and whose explicit counter is the Noise nonce.
 * Opening checks the replay window first, decrypts in place, and records the
 * counter only once the tag verified. Nothing here allocates, reads a clock
 * or copies the payload: plaintext is sealed where it lies.
 *
 * Not here: choosing which uplink sends (scheduler), handshakes (noise.h),
 * finding the session for a receiver index (session/server).
 */
#ifndef TG_TRANSPORT_H
#define TG_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "noise.h"
#include "replay.h"
#include "wire.h"

struct tg_transport {
    uint8_t send_key[TG_NOISE_KEY_LEN];
    uint8_t recv_key[TG_NOISE_KEY_LEN];
    uint64_t send_counter;   /* next nonce to send */
    uint32_t local_index;    /* peers address DATA to us with this */
    uint32_t remote_index;   /* we address DATA to the peer with this */
    struct tg_replay replay; /* counters received */
};

/* Take the keys split from a completed handshake (the cipher states are
 * wiped). Indexes as agreed in the handshake. */
void tg_transport_init(struct tg_transport *t, struct tg_noise_cipher *send,
                       struct tg_noise_cipher *recv, uint32_t local_index,
                       uint32_t remote_index);

/* Seal in place. The caller has put `plain_len` plaintext bytes at
 * pkt + TG_DATA_HEADER_LEN; this writes the header in front and the tag
 * behind, so the datagram is pkt[0..*out_len) with
 * *out_len = plain_len + TG_DATA_OVERHEAD.
 * Returns TG_OK; TG_ERR_NOBUF (cap too small); TG_ERR_COUNTER_LIMIT (rekey). */
int tg_transport_seal(struct tg_transport *t, uint8_t *pkt, size_t plain_len, size_t cap,
                      size_t *out_len) TG_MUST_CHECK;

/* Open a DATA datagram already parsed by tg_wire_parse (msg aliases pkt),
 * decrypting in place: the plaintext is pkt[TG_DATA_HEADER_LEN ..
 * TG_DATA_HEADER_LEN + *plain_len). The receiver index is not checked here
 * (the caller used it to find this transport).
 * Returns TG_OK; TG_ERR_REPLAY; TG_ERR_COUNTER_LIMIT; TG_ERR_DECRYPT;
 * TG_ERR_INVAL (msg is not DATA). On error the window is unchanged and the
 * bytes of pkt after the header are unspecified. */
int tg_transport_open(struct tg_transport *t, const struct tg_wire_msg *msg, uint8_t *pkt,
                      size_t *plain_len) TG_MUST_CHECK;

/* Wipe the keys. */
void tg_transport_clear(struct tg_transport *t);

#endif
