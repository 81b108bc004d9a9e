/*
 * noise.c: Noise_NK and Noise_NKpsk2 with 25519, ChaChaPoly and BLAKE2b,
 * transcribed from the Noise Protocol Framework, revision 34:
 *
 *   NK:                      NKpsk2:
 *     <- s                     <- s
 *     ...                      ...
 *     -> e, es                 -> e, es
 *     <- e, ee                 <- e, ee, psk
 *
 * Function names follow the spec's objects (section 5): CipherState
 * (tg_noise_encrypt/decrypt), SymmetricState (mix_key, mix_hash,
 * mix_key_and_hash, encrypt_and_hash, decrypt_and_hash, split) and
 * HandshakeState (write/read_message). Only the two patterns above exist, so
 * the token sequence is written out by hand with each step labelled, as in
 * WireGuard's noise.c, instead of interpreting a pattern table.
 */
#include "noise.h"
#include "wire.h"

#include <sodium.h>
#include <string.h>

#define HASH_LEN TG_NOISE_HASH_LEN
#define KEY_LEN  TG_NOISE_KEY_LEN
#define DH_LEN   TG_NOISE_DH_LEN
#define TAG_LEN  TG_NOISE_TAG_LEN
#define NONCE_LEN TG_NOISE_NONCE_LEN /* ChaChaPoly IETF */

enum {
    BLOCK_LEN = 128,            /* BLAKE2b's BLOCKLEN, the HMAC pad size */
    MSG_MIN = DH_LEN + TAG_LEN, /* both messages: e, then an AEAD payload */
    STEP_DONE = 2,              /* both messages processed */
    STEP_SPLIT = 3,             /* split done: only h remains */
    STEP_DEAD = 0xff,           /* failed or cleared: every call is refused */
};

static const char name_nk[] = "Noise_NK_25519_ChaChaPoly_BLAKE2b";
static const char name_nkpsk2[] = "Noise_NKpsk2_25519_ChaChaPoly_BLAKE2b";

/* Both names fit in HASHLEN, so InitializeSymmetric pads instead of hashing. */
_Static_assert(sizeof name_nkpsk2 - 1 <= HASH_LEN, "protocol name must fit in h");

/* ---- HASH, HMAC, HKDF (spec section 4.3) ---- */

/* HASH(a || b || c) = BLAKE2b-512; b and c may be empty. out may alias an
 * input: every input is consumed before out is written. */
static void hash3(uint8_t out[HASH_LEN], const uint8_t *a, size_t a_len, const uint8_t *b,
                  size_t b_len, const uint8_t *c, size_t c_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, HASH_LEN);
    crypto_generichash_update(&st, a, a_len);
    crypto_generichash_update(&st, b, b_len);
    crypto_generichash_update(&st, c, c_len);
    crypto_generichash_final(&st, out, HASH_LEN);
    sodium_memzero(&st, sizeof st);
}

/* HMAC-BLAKE2b per RFC 2104 over d1 || d2, with a HASHLEN key (every key the
 * spec's HKDF passes is HASHLEN bytes, shorter than BLOCKLEN, so it is only
 * zero-padded). libsodium's keyed BLAKE2b is a different MAC. */
static void hmac(uint8_t out[HASH_LEN], const uint8_t key[HASH_LEN], const uint8_t *d1, size_t n1,
                 const uint8_t *d2, size_t n2)
{
    uint8_t ipad[BLOCK_LEN], opad[BLOCK_LEN], inner[HASH_LEN];

    memset(ipad, 0x36, sizeof ipad);
    memset(opad, 0x5c, sizeof opad);
    for (size_t i = 0; i < HASH_LEN; i++) {
        ipad[i] ^= key[i];
        opad[i] ^= key[i];
    }
    hash3(inner, ipad, sizeof ipad, d1, n1, d2, n2);
    hash3(out, opad, sizeof opad, inner, sizeof inner, NULL, 0);
    sodium_memzero(ipad, sizeof ipad);
    sodium_memzero(opad, sizeof opad);
    sodium_memzero(inner, sizeof inner);
}

/* HKDF(chaining_key, input_key_material, num_outputs): 2 outputs, or 3 when
 * o3 is not NULL. The first two outputs do not depend on whether a third is
 * asked for. */
static void hkdf(uint8_t o1[HASH_LEN], uint8_t o2[HASH_LEN], uint8_t *o3,
                 const uint8_t ck[HASH_LEN], const uint8_t *ikm, size_t ikm_len)
{
    uint8_t temp_key[HASH_LEN];
    uint8_t b;

    hmac(temp_key, ck, ikm, ikm_len, NULL, 0);
    b = 0x01;
    hmac(o1, temp_key, &b, 1, NULL, 0);
    b = 0x02;
    hmac(o2, temp_key, o1, HASH_LEN, &b, 1);
    if (o3 != NULL) {
        b = 0x03;
        hmac(o3, temp_key, o2, HASH_LEN, &b, 1);
    }
    sodium_memzero(temp_key, sizeof temp_key);
}

/* DH(key_pair, public_key). libsodium refuses an all-zero result, which is
 * what every low-order public key gives. */
static int dh(uint8_t out[DH_LEN], const uint8_t priv[DH_LEN], const uint8_t pub[DH_LEN])
{
    if (crypto_scalarmult(out, priv, pub) != 0) {
        sodium_memzero(out, DH_LEN);
        return TG_ERR_DH;
    }
    return TG_OK;
}

void tg_noise_public_key(const uint8_t priv[TG_NOISE_DH_LEN], uint8_t pub[TG_NOISE_DH_LEN])
{
    /* Fails only for an all-zero result, which a clamped scalar never gives. */
    (void)crypto_scalarmult_base(pub, priv);
}

/* ---- CipherState (spec section 5.1) ---- */

/* InitializeKey(k), HASHLEN output truncated to 32 bytes (spec 5.2). */
static void cipher_init(struct tg_noise_cipher *c, const uint8_t key[KEY_LEN])
{
    memcpy(c->k, key, KEY_LEN);
    c->n = 0;
    c->has_key = true;
}

/* 32 zero bits || 64-bit little-endian n (spec section 12.3). */
void tg_noise_nonce(uint8_t nonce[NONCE_LEN], uint64_t n)
{
    memset(nonce, 0, 4);
    tg_put_u64(nonce + 4, n);
}

int tg_noise_encrypt(struct tg_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *in,
                     size_t len, uint8_t *out)
{
    uint8_t nonce[NONCE_LEN];

    if (!c->has_key) {
        if (len > 0)
            memmove(out, in, len);
        return TG_OK;
    }
    if (len > crypto_aead_chacha20poly1305_ietf_MESSAGEBYTES_MAX)
        return TG_ERR_INVAL;
    if (c->n == UINT64_MAX) /* 2^64-1 is reserved (spec 5.1) */
        return TG_ERR_COUNTER_LIMIT;
    tg_noise_nonce(nonce, c->n);
    crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, in, len, ad, ad_len, NULL, nonce, c->k);
    c->n++;
    return TG_OK;
}

int tg_noise_decrypt(struct tg_noise_cipher *c, const uint8_t *ad, size_t ad_len, const uint8_t *ct,
                     size_t len, uint8_t *out)
{
    uint8_t nonce[NONCE_LEN];

    if (!c->has_key) {
        if (len > 0)
            memmove(out, ct, len);
        return TG_OK;
    }
    if (len < TAG_LEN)
        return TG_ERR_TRUNCATED;
    if (c->n == UINT64_MAX)
        return TG_ERR_COUNTER_LIMIT;
    tg_noise_nonce(nonce, c->n);
    /* The tag is checked before anything is written; on failure n stays. */
    if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len, ad, ad_len, nonce,
                                                  c->k) != 0)
        return TG_ERR_DECRYPT;
    c->n++;
    return TG_OK;
}

void tg_noise_cipher_clear(struct tg_noise_cipher *c)
{
    sodium_memzero(c, sizeof *c);
}

/* ---- SymmetricState (spec section 5.2) ---- */

static void mix_hash(struct tg_noise_hs *hs, const uint8_t *data, size_t len)
{
    hash3(hs->h, hs->h, HASH_LEN, data, len, NULL, 0);
}

static void mix_key(struct tg_noise_hs *hs, const uint8_t *ikm, size_t len)
{
    uint8_t ck[HASH_LEN], temp_k[HASH_LEN];

    hkdf(ck, temp_k, NULL, hs->ck, ikm, len);
    memcpy(hs->ck, ck, HASH_LEN);
    cipher_init(&hs->cs, temp_k);
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(temp_k, sizeof temp_k);
}

static void mix_key_and_hash(struct tg_noise_hs *hs, const uint8_t *ikm, size_t len)
{
    uint8_t ck[HASH_LEN], temp_h[HASH_LEN], temp_k[HASH_LEN];

    hkdf(ck, temp_h, temp_k, hs->ck, ikm, len);
    memcpy(hs->ck, ck, HASH_LEN);
    mix_hash(hs, temp_h, HASH_LEN);
    cipher_init(&hs->cs, temp_k);
    sodium_memzero(ck, sizeof ck);
    sodium_memzero(temp_h, sizeof temp_h);
    sodium_memzero(temp_k, sizeof temp_k);
}

/* out receives len + TAG_LEN bytes (both messages encrypt: es or ee came
 * first); the callers checked every length. */
static int encrypt_and_hash(struct tg_noise_hs *hs, const uint8_t *in, size_t len, uint8_t *out)
{
    int ret = tg_noise_encrypt(&hs->cs, hs->h, HASH_LEN, in, len, out);
    if (ret == TG_OK)
        mix_hash(hs, out, len + TAG_LEN);
    return ret;
}

static int decrypt_and_hash(struct tg_noise_hs *hs, const uint8_t *ct, size_t len, uint8_t *out)
{
    int ret = tg_noise_decrypt(&hs->cs, hs->h, HASH_LEN, ct, len, out);
    if (ret == TG_OK)
        mix_hash(hs, ct, len);
    return ret;
}

/* ---- HandshakeState (spec section 5.3) ---- */

/* Wipe everything and refuse further use. */
static void poison(struct tg_noise_hs *hs)
{
    sodium_memzero(hs, sizeof *hs);
    hs->step = STEP_DEAD;
}

int tg_noise_init(struct tg_noise_hs *hs, enum tg_noise_pattern pattern, enum tg_noise_role role,
                  const uint8_t *prologue, size_t prologue_len, const uint8_t *s_priv,
                  const uint8_t *rs)
{
    const char *name;

    poison(hs);
    if (pattern == TG_NOISE_NK)
        name = name_nk;
    else if (pattern == TG_NOISE_NKPSK2)
        name = name_nkpsk2;
    else
        return TG_ERR_INVAL;
    if (role == TG_NOISE_INITIATOR) {
        if (rs == NULL || s_priv != NULL)
            return TG_ERR_INVAL;
    } else if (role == TG_NOISE_RESPONDER) {
        if (s_priv == NULL || rs != NULL)
            return TG_ERR_INVAL;
    } else {
        return TG_ERR_INVAL;
    }
    if (prologue == NULL && prologue_len > 0)
        return TG_ERR_INVAL;

    /* InitializeSymmetric: name <= HASHLEN, so h = name zero-padded; ck = h;
     * no cipher key (poison() zeroed h and cs). */
    memcpy(hs->h, name, strlen(name));
    memcpy(hs->ck, hs->h, HASH_LEN);
    mix_hash(hs, prologue, prologue_len);

    /* <- s: both sides hash the responder's static public key. */
    if (role == TG_NOISE_RESPONDER) {
        memcpy(hs->s_priv, s_priv, DH_LEN);
        tg_noise_public_key(hs->s_priv, hs->s_pub);
        mix_hash(hs, hs->s_pub, DH_LEN);
    } else {
        memcpy(hs->rs, rs, DH_LEN);
        mix_hash(hs, hs->rs, DH_LEN);
    }
    hs->pattern = (uint8_t)pattern;
    hs->role = (uint8_t)role;
    hs->step = 0;
    return TG_OK;
}

void tg_noise_set_ephemeral(struct tg_noise_hs *hs, const uint8_t e_priv[TG_NOISE_DH_LEN])
{
    memcpy(hs->e_priv, e_priv, DH_LEN);
    tg_noise_public_key(hs->e_priv, hs->e_pub);
    hs->has_e = true;
}

int tg_noise_set_psk(struct tg_noise_hs *hs, const uint8_t psk[TG_NOISE_KEY_LEN])
{
    if (hs->pattern != TG_NOISE_NKPSK2 || hs->step >= STEP_DONE)
        return TG_ERR_STATE;
    memcpy(hs->psk, psk, KEY_LEN);
    hs->has_psk = true;
    return TG_OK;
}

/* The message a role writes is number `role` (initiator 0, responder 1);
 * it reads the other one. */
static bool my_turn_to_write(const struct tg_noise_hs *hs)
{
    return hs->step < STEP_DONE && hs->step == hs->role;
}

static bool my_turn_to_read(const struct tg_noise_hs *hs)
{
    return hs->step < STEP_DONE && hs->step != hs->role;
}

/* The tokens of the current message once its e is known (written or read):
 *   message 1:  e, es        message 2:  e, ee[, psk]
 * Both sides run the same sequence; only the key pairs in each DH differ. */
static int mix_tokens(struct tg_noise_hs *hs, const uint8_t e_pub[DH_LEN])
{
    const bool psk_mode = hs->pattern == TG_NOISE_NKPSK2;
    uint8_t dh_out[DH_LEN];
    int ret;

    /* e */
    mix_hash(hs, e_pub, DH_LEN);
    if (psk_mode)
        mix_key(hs, e_pub, DH_LEN);

    if (hs->step == 0) {
        /* es: initiator e with responder s */
        if (hs->role == TG_NOISE_INITIATOR)
            ret = dh(dh_out, hs->e_priv, hs->rs);
        else
            ret = dh(dh_out, hs->s_priv, hs->re);
        if (ret != TG_OK)
            goto out;
        mix_key(hs, dh_out, DH_LEN);
    } else {
        /* ee */
        ret = dh(dh_out, hs->e_priv, hs->re);
        if (ret != TG_OK)
            goto out;
        mix_key(hs, dh_out, DH_LEN);
        /* psk */
        if (psk_mode)
            mix_key_and_hash(hs, hs->psk, KEY_LEN);
    }
out:
    sodium_memzero(dh_out, sizeof dh_out);
    return ret;
}

int tg_noise_write_message(struct tg_noise_hs *hs, const uint8_t *payload, size_t payload_len,
                           uint8_t *out, size_t cap, size_t *out_len)
{
    int ret;

    /* Refusals before anything changes leave hs usable. */
    if (!my_turn_to_write(hs) || !hs->has_e)
        return TG_ERR_STATE;
    if (hs->pattern == TG_NOISE_NKPSK2 && hs->step == 1 && !hs->has_psk)
        return TG_ERR_STATE;
    if ((payload == NULL && payload_len > 0) || payload_len > TG_NOISE_MAX_MSG - MSG_MIN)
        return TG_ERR_INVAL;
    if (cap < MSG_MIN || cap - MSG_MIN < payload_len)
        return TG_ERR_NOBUF;

    memcpy(out, hs->e_pub, DH_LEN);
    ret = mix_tokens(hs, hs->e_pub);
    if (ret == TG_OK) /* payload */
        ret = encrypt_and_hash(hs, payload, payload_len, out + DH_LEN);
    if (ret != TG_OK) {
        poison(hs);
        return ret;
    }
    *out_len = MSG_MIN + payload_len;
    hs->step++;
    return TG_OK;
}

int tg_noise_read_message(struct tg_noise_hs *hs, const uint8_t *msg, size_t len, uint8_t *payload,
                          size_t cap, size_t *payload_len)
{
    int ret;

    /* Out of turn (or a dead state): refused without touching hs, so a stray
     * retransmission cannot kill a finished handshake. */
    if (!my_turn_to_read(hs))
        return TG_ERR_STATE;
    if (hs->pattern == TG_NOISE_NKPSK2 && hs->step == 1 && !hs->has_psk)
        return TG_ERR_STATE;

    /* From here on every error poisons hs: the spec aborts the handshake. */
    if (len < MSG_MIN)
        ret = TG_ERR_TRUNCATED;
    else if (msg == NULL || len > TG_NOISE_MAX_MSG)
        ret = TG_ERR_INVAL;
    else if (cap < len - MSG_MIN || (payload == NULL && len > MSG_MIN))
        ret = TG_ERR_NOBUF;
    else {
        memcpy(hs->re, msg, DH_LEN);
        ret = mix_tokens(hs, hs->re);
        if (ret == TG_OK) /* payload */
            ret = decrypt_and_hash(hs, msg + DH_LEN, len - DH_LEN, payload);
    }
    if (ret != TG_OK) {
        poison(hs);
        return ret;
    }
    *payload_len = len - MSG_MIN;
    hs->step++;
    return TG_OK;
}

bool tg_noise_complete(const struct tg_noise_hs *hs)
{
    return hs->step == STEP_DONE || hs->step == STEP_SPLIT;
}

int tg_noise_split(struct tg_noise_hs *hs, struct tg_noise_cipher *send,
                   struct tg_noise_cipher *recv, uint8_t extra[TG_NOISE_KEY_LEN])
{
    uint8_t k1[HASH_LEN], k2[HASH_LEN], k3[HASH_LEN], h[HASH_LEN];
    uint8_t pattern = hs->pattern, role = hs->role;

    if (hs->step != STEP_DONE)
        return TG_ERR_STATE;

    /* c1 and c2 as the spec's Split(), plus a third output for the join key. */
    hkdf(k1, k2, k3, hs->ck, NULL, 0);
    if (role == TG_NOISE_INITIATOR) {
        cipher_init(send, k1);
        cipher_init(recv, k2);
    } else {
        cipher_init(send, k2);
        cipher_init(recv, k1);
    }
    if (extra != NULL)
        memcpy(extra, k3, KEY_LEN);

    memcpy(h, hs->h, HASH_LEN);
    sodium_memzero(hs, sizeof *hs);
    memcpy(hs->h, h, HASH_LEN);
    hs->pattern = pattern;
    hs->role = role;
    hs->step = STEP_SPLIT;

    sodium_memzero(k1, sizeof k1);
    sodium_memzero(k2, sizeof k2);
    sodium_memzero(k3, sizeof k3);
    return TG_OK;
}

void tg_noise_handshake_hash(const struct tg_noise_hs *hs, uint8_t out[TG_NOISE_HASH_LEN])
{
    memcpy(out, hs->h, HASH_LEN);
}

void tg_noise_clear(struct tg_noise_hs *hs)
{
    poison(hs);
}
