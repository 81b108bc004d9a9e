/*
 * noise.h: the Noise handshakes Noise_NK_25519_ChaChaPoly_BLAKE2b and
 * Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b, transcribed from the Noise spec
 * (revision 34) on libsodium.
 *
 *   NK:                      NKpsk2:
 *     <- s                     <- s
 *     ...                      ...
 *     -> e, es                 -> e, es
 *     <- e, ee                 <- e, ee, psk
 *
 * HASH is BLAKE2b (HASHLEN 64, BLOCKLEN 128); HKDF is HMAC-BLAKE2b as the
 * spec defines it; the cipher is ChaCha20-Poly1305 IETF with the nonce
 * 32 zero bits || 64-bit little-endian counter. The module holds one
 * handshake and the resulting CipherStates; it does no I/O, reads no clock and
 * draws no randomness: the caller supplies the ephemeral key.
 *
 * It is not the per-uplink transport (transport.h) nor the wire framing
 * (wire.h); those use the keys split from here.
 */
#ifndef TG_NOISE_H
#define TG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define TG_NOISE_HASH_LEN 64
#define TG_NOISE_KEY_LEN 32
#define TG_NOISE_DH_LEN 32
#define TG_NOISE_TAG_LEN 16
#define TG_NOISE_NONCE_LEN 12 /* ChaChaPoly IETF */
#define TG_NOISE_MAX_MSG 65535 /* spec: a Noise message is at most 65535 bytes */

enum tg_noise_pattern { TG_NOISE_NK = 0, TG_NOISE_NKPSK2 = 1 };
enum tg_noise_role { TG_NOISE_INITIATOR = 0, TG_NOISE_RESPONDER = 1 };

/* A Noise CipherState: key and counter. */
struct tg_noise_cipher {
    uint8_t k[TG_NOISE_KEY_LEN];
    uint64_t n;   /* next nonce */
    bool has_key; /* false: EncryptWithAd/DecryptWithAd pass data through */
};

/* A HandshakeState with its SymmetricState. Caller storage; wipe with
 * tg_noise_clear(). */
struct tg_noise_hs {
    uint8_t ck[TG_NOISE_HASH_LEN]; /* chaining key */
    uint8_t h[TG_NOISE_HASH_LEN];  /* transcript hash */
    struct tg_noise_cipher cs;
    uint8_t s_priv[TG_NOISE_DH_LEN]; /* responder's static key pair */
    uint8_t s_pub[TG_NOISE_DH_LEN];
    uint8_t e_priv[TG_NOISE_DH_LEN]; /* local ephemeral key pair */
    uint8_t e_pub[TG_NOISE_DH_LEN];
    uint8_t rs[TG_NOISE_DH_LEN]; /* remote static (initiator: known in advance) */
    uint8_t re[TG_NOISE_DH_LEN]; /* remote ephemeral */
    uint8_t psk[TG_NOISE_KEY_LEN];
    bool has_e, has_psk;
    uint8_t pattern; /* enum tg_noise_pattern */
    uint8_t role;    /* enum tg_noise_role */
    uint8_t step;    /* messages processed: 0, 1, 2 (= complete); 3 split, 0xff dead */
};

/* Start a handshake: InitializeSymmetric(protocol name), MixHash(prologue),
 * then the pre-message "<- s". The initiator passes the responder's public key
 * as `rs` and NULL as `s_priv`; the responder passes its private key as
 * `s_priv` and NULL as `rs`.
 * Returns TG_OK or TG_ERR_INVAL (wrong NULLs, unknown pattern or role; hs is
 * then left cleared). */
int tg_noise_init(struct tg_noise_hs *hs, enum tg_noise_pattern pattern,
                  enum tg_noise_role role, const uint8_t *prologue, size_t prologue_len,
                  const uint8_t *s_priv, const uint8_t *rs) TG_MUST_CHECK;

/* Set the local ephemeral private key (32 random bytes from the host's RNG, or
 * a test vector's). Must be called before writing the message that sends e
 * and not changed afterwards (the initiator uses it again for ee). */
void tg_noise_set_ephemeral(struct tg_noise_hs *hs, const uint8_t e_priv[TG_NOISE_DH_LEN]);

/* Set the pre-shared key of NKpsk2. The responder may call it after reading
 * message 1 (whose payload can name the psk to use) and must call it before
 * writing message 2; the initiator before reading message 2.
 * Returns TG_OK or TG_ERR_STATE (pattern has no psk, or psk token passed). */
int tg_noise_set_psk(struct tg_noise_hs *hs, const uint8_t psk[TG_NOISE_KEY_LEN]) TG_MUST_CHECK;

/* WriteMessage: the next handshake message with `payload` encrypted into
 * out[0..*out_len). Message length = 32 + payload_len + 16; payload must not
 * overlap out.
 * Returns TG_OK; TG_ERR_STATE (not our turn, handshake complete, no
 * ephemeral or psk set); TG_ERR_NOBUF; TG_ERR_INVAL (message would exceed
 * TG_NOISE_MAX_MSG, or NULL payload with payload_len > 0); TG_ERR_DH (the
 * remote key is low-order). TG_ERR_DH wipes hs like tg_noise_clear(); the
 * other errors leave it unchanged. */
int tg_noise_write_message(struct tg_noise_hs *hs, const uint8_t *payload, size_t payload_len,
                           uint8_t *out, size_t cap, size_t *out_len) TG_MUST_CHECK;

/* ReadMessage: consume a peer message, decrypt its payload into
 * payload[0..*payload_len) (payload may alias nothing in msg; it needs
 * len - 48 bytes).
 * Returns TG_OK; TG_ERR_STATE (not our turn, or an NKpsk2 initiator without
 * psk: hs is left unchanged, so a stray message cannot kill a finished
 * handshake); TG_ERR_TRUNCATED (shorter than 48 bytes); TG_ERR_NOBUF;
 * TG_ERR_INVAL (longer than TG_NOISE_MAX_MSG); TG_ERR_DH; TG_ERR_DECRYPT.
 * After any error other than TG_ERR_STATE the handshake is aborted as the
 * spec requires: hs is wiped and every later call returns TG_ERR_STATE (a
 * caller that wants to survive junk input can try it on a copy of hs).
 * Never reads outside msg[0..len). */
int tg_noise_read_message(struct tg_noise_hs *hs, const uint8_t *msg, size_t len,
                          uint8_t *payload, size_t cap, size_t *payload_len) TG_MUST_CHECK;

/* True once both messages are processed (also after tg_noise_split). */
bool tg_noise_complete(const struct tg_noise_hs *hs);

/* Split: HKDF(ck, empty, 3). The first two outputs are the spec's c1
 * (initiator to responder) and c2; the initiator gets send=c1, recv=c2, the
 * responder send=c2, recv=c1. The third output (an extra key no party sends
 * with) is written to `extra` unless NULL: the multipath session's join key.
 * Wipes every secret in hs except h; split works once.
 * Returns TG_OK or TG_ERR_STATE (handshake not complete, or already split). */
int tg_noise_split(struct tg_noise_hs *hs, struct tg_noise_cipher *send,
                   struct tg_noise_cipher *recv, uint8_t extra[TG_NOISE_KEY_LEN]) TG_MUST_CHECK;

/* The handshake hash h (valid after completion; channel binding). */
void tg_noise_handshake_hash(const struct tg_noise_hs *hs, uint8_t out[TG_NOISE_HASH_LEN]);

/* CipherState EncryptWithAd / DecryptWithAd with the running nonce n, which
 * advances on success. out holds len + 16 (encrypt) or len - 16 (decrypt)
 * bytes and may equal in/ct (without a key, data passes through: len bytes).
 * Returns TG_OK, TG_ERR_COUNTER_LIMIT (n reached 2^64-1, reserved by the
 * spec), TG_ERR_INVAL (encrypt: len above the AEAD's limit, about 2^38),
 * TG_ERR_TRUNCATED (decrypt: len < 16) / TG_ERR_DECRYPT (decrypt: n unchanged). */
int tg_noise_encrypt(struct tg_noise_cipher *c, const uint8_t *ad, size_t ad_len,
                     const uint8_t *in, size_t len, uint8_t *out) TG_MUST_CHECK;
int tg_noise_decrypt(struct tg_noise_cipher *c, const uint8_t *ad, size_t ad_len,
                     const uint8_t *ct, size_t len, uint8_t *out) TG_MUST_CHECK;

/* The ChaChaPoly nonce for counter n: 32 zero bits || 64-bit little-endian n
 * (spec section 12.3). Also the nonce of the transport's explicit counter. */
void tg_noise_nonce(uint8_t nonce[TG_NOISE_NONCE_LEN], uint64_t n);

/* X25519 public key of a private key. */
void tg_noise_public_key(const uint8_t priv[TG_NOISE_DH_LEN], uint8_t pub[TG_NOISE_DH_LEN]);

/* Wipe every secret (sodium_memzero). A cleared hs refuses every call with
 * TG_ERR_STATE until tg_noise_init. */
void tg_noise_clear(struct tg_noise_hs *hs);
void tg_noise_cipher_clear(struct tg_noise_cipher *c);

#endif
