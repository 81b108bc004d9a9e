#include "cookie.h"

#include <sodium.h>
#include <string.h>

#include "wire.h"

static void derive(uint8_t out[32], const char label[8], const uint8_t server_public[32])
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, 32);
    crypto_generichash_update(&st, (const uint8_t *)label, 8);
    crypto_generichash_update(&st, server_public, 32);
    crypto_generichash_final(&st, out, 32);
}

void tg_mac_keys_init(struct tg_mac_keys *k, const uint8_t server_public[32])
{
    derive(k->mac1, "mac1----", server_public);
    derive(k->cookie, "cookie--", server_public);
}

static void mac(uint8_t out[TG_MAC_LEN], const uint8_t *key, size_t key_len, const uint8_t *msg,
                size_t len)
{
    crypto_generichash(out, TG_MAC_LEN, msg, len, key, key_len);
}

void tg_mac1_put(const struct tg_mac_keys *k, uint8_t *msg, size_t len)
{
    size_t at = len - TG_MACS_LEN;
    mac(msg + at, k->mac1, sizeof k->mac1, msg, at);
}

void tg_mac2_put(const uint8_t *cookie, uint8_t *msg, size_t len)
{
    size_t at = len - TG_MAC_LEN;
    if (cookie == NULL)
        memset(msg + at, 0, TG_MAC_LEN);
    else
        mac(msg + at, cookie, TG_COOKIE_LEN, msg, at);
}

bool tg_mac1_ok(const struct tg_mac_keys *k, const uint8_t *msg, size_t len)
{
    if (len <= TG_MACS_LEN)
        return false;
    uint8_t m[TG_MAC_LEN];
    size_t at = len - TG_MACS_LEN;
    mac(m, k->mac1, sizeof k->mac1, msg, at);
    return sodium_memcmp(m, msg + at, TG_MAC_LEN) == 0;
}

bool tg_mac2_ok(const uint8_t cookie[TG_COOKIE_LEN], const uint8_t *msg, size_t len)
{
    if (len <= TG_MACS_LEN)
        return false;
    uint8_t m[TG_MAC_LEN];
    size_t at = len - TG_MAC_LEN;
    mac(m, cookie, TG_COOKIE_LEN, msg, at);
    return sodium_memcmp(m, msg + at, TG_MAC_LEN) == 0;
}

void tg_cookie_make(const uint8_t secret[TG_COOKIE_SECRET_LEN], const struct tg_key_addr *from,
                    uint8_t cookie[TG_COOKIE_LEN])
{
    uint8_t a[1 + 16 + 2];
    a[0] = from->type;
    memcpy(a + 1, from->addr, 16);
    a[17] = (uint8_t)(from->port >> 8);
    a[18] = (uint8_t)from->port;
    crypto_shorthash_siphashx24(cookie, a, sizeof a, secret);
}

void tg_cookie_reply(const struct tg_mac_keys *k, uint32_t receiver_index,
                     const uint8_t nonce[TG_COOKIE_NONCE_LEN],
                     const uint8_t cookie[TG_COOKIE_LEN], const uint8_t mac1[TG_MAC_LEN],
                     uint8_t out[TG_COOKIE_MSG_LEN])
{
    out[0] = TG_MSG_HS_COOKIE;
    out[1] = out[2] = out[3] = 0;
    tg_put_u32(out + 4, receiver_index);
    memcpy(out + 8, nonce, TG_COOKIE_NONCE_LEN);
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + 8 + TG_COOKIE_NONCE_LEN, NULL, cookie,
                                               TG_COOKIE_LEN, mac1, TG_MAC_LEN, NULL, nonce,
                                               k->cookie);
}

int tg_cookie_open(const struct tg_mac_keys *k, const uint8_t *body, size_t body_len,
                   const uint8_t mac1[TG_MAC_LEN], uint8_t cookie[TG_COOKIE_LEN])
{
    if (body_len != TG_COOKIE_NONCE_LEN + TG_COOKIE_SEALED_LEN)
        return TG_ERR_DECRYPT;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(cookie, NULL, NULL, body + TG_COOKIE_NONCE_LEN,
                                                   TG_COOKIE_SEALED_LEN, mac1, TG_MAC_LEN,
                                                   body, k->cookie) != 0)
        return TG_ERR_DECRYPT;
    return TG_OK;
}
