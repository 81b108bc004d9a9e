/*
 * cookie.h: the MACs and cookies that make a handshake cost an attacker
 * more than the server (after WireGuard's cookie MACs, whitepaper 5.4.4).
 *
 * Every HS_INIT and HS_JOIN ends in two 16-byte MACs (keyed BLAKE2b-128):
 *
 *   mac1 = MAC(HASH("mac1----" || server_public), msg[0 .. mac1))
 *   mac2 = MAC(cookie, msg[0 .. mac2))       or zeros without a cookie
 *
 * mac1 proves the sender holds the tg1_ key (the server's public key):
 * anything else is rejected for the price of one hash, before any
 * Diffie-Hellman, table lookup or rate-limit charge. Under load the server
 * also wants mac2: a message without a valid one is answered with a cookie
 * and nothing else. The cookie is a keyed PRF of the source address and port under
 * a secret the server rotates every two minutes, so only a sender that can
 * receive at that address can echo it: mac2 proves the source address, and
 * only proven sources are charged to the handshake rate limit.
 *
 * The cookie travels sealed (XChaCha20-Poly1305, key HASH("cookie--" ||
 * server_public), random 24-byte nonce) with the mac1 of the message it
 * answers as associated data, so an on-path observer cannot use it and only
 * the sender of that message can open it:
 *
 *   HS_COOKIE 5  [type][0 0 0][receiver_index u32][nonce 24][cookie 16 + tag 16]
 *
 * This module is arithmetic only: no state, no time. The server keeps the
 * secret and decides when it is under load; the client keeps the cookie.
 */
#ifndef TG_COOKIE_H
#define TG_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "key.h"

enum tg_cookie_sizes {
    TG_MAC_LEN = 16,
    TG_MACS_LEN = 2 * TG_MAC_LEN,  /* the two MACs at the end of HS_INIT / HS_JOIN */
    TG_COOKIE_LEN = 16,
    TG_COOKIE_NONCE_LEN = 24,
    TG_COOKIE_SEALED_LEN = TG_COOKIE_LEN + 16,
    TG_COOKIE_MSG_LEN = 8 + TG_COOKIE_NONCE_LEN + TG_COOKIE_SEALED_LEN,
    TG_COOKIE_SECRET_LEN = 16,    /* a SipHash-128 key */
};

/* The two keys both ends derive from the server's public key. */
struct tg_mac_keys {
    uint8_t mac1[32];
    uint8_t cookie[32];
};

void tg_mac_keys_init(struct tg_mac_keys *k, const uint8_t server_public[32]);

/* `msg` is a whole HS_INIT/HS_JOIN of `len` bytes whose last TG_MACS_LEN
 * bytes are the MACs (len > TG_MACS_LEN). put_mac1 writes mac1; put_mac2
 * writes mac2 from `cookie`, or zeros when cookie is NULL. Write mac1 first. */
void tg_mac1_put(const struct tg_mac_keys *k, uint8_t *msg, size_t len);
void tg_mac2_put(const uint8_t *cookie, uint8_t *msg, size_t len);
/* Constant-time checks of the same. */
bool tg_mac1_ok(const struct tg_mac_keys *k, const uint8_t *msg, size_t len);
bool tg_mac2_ok(const uint8_t cookie[TG_COOKIE_LEN], const uint8_t *msg, size_t len);

/* The cookie for a source address and port under `secret`: SipHash-128, a
 * keyed PRF that never leaves the server unsealed, so it need not be a MAC
 * of the message (mac2 is). */
void tg_cookie_make(const uint8_t secret[TG_COOKIE_SECRET_LEN], const struct tg_key_addr *from,
                    uint8_t cookie[TG_COOKIE_LEN]);

/* Write the whole HS_COOKIE message (TG_COOKIE_MSG_LEN bytes) answering the
 * message whose mac1 is `mac1` and whose sender index is `receiver_index`. */
void tg_cookie_reply(const struct tg_mac_keys *k, uint32_t receiver_index,
                     const uint8_t nonce[TG_COOKIE_NONCE_LEN],
                     const uint8_t cookie[TG_COOKIE_LEN], const uint8_t mac1[TG_MAC_LEN],
                     uint8_t out[TG_COOKIE_MSG_LEN]);
/* Open an HS_COOKIE body (nonce + sealed cookie, as tg_wire_parse gives it)
 * with the mac1 the client sent. Returns TG_OK or TG_ERR_DECRYPT (and then
 * `cookie` is wiped: open into a scratch buffer). */
int tg_cookie_open(const struct tg_mac_keys *k, const uint8_t *body, size_t body_len,
                   const uint8_t mac1[TG_MAC_LEN], uint8_t cookie[TG_COOKIE_LEN]) TG_MUST_CHECK;

#endif
