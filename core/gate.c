#include "gate.h"

#include <sodium.h>
#include <string.h>

#define COOKIE_ROTATE_US TG_SEC(120)
#define GATE_ADDR_FACTOR 8

void tg_gate_init(struct tg_gate *g, const uint8_t server_public[32], uint32_t load_per_s,
                  uint32_t per_source_per_s, uint32_t burst, const struct tg_rng *rng,
                  tg_time now)
{
    memset(g, 0, sizeof *g);
    tg_mac_keys_init(&g->mac, server_public);
    tg_rng_fill(rng, g->hash_key, sizeof g->hash_key);
    tg_rng_fill(rng, g->cookie_secret, sizeof g->cookie_secret);
    g->cookie_at = now;
    g->load_window = now;
    g->load_per_s = load_per_s;
    g->per_source_per_s = per_source_per_s;
    g->burst = burst;
}

uint64_t tg_gate_hash(const struct tg_gate *g, const uint8_t *p, size_t len)
{
    uint8_t h[8];
    crypto_shorthash_siphash24(h, p, len, g->hash_key);
    return tg_get_u64(h) | 1;
}

/* GCRA: `per_s` a second with a burst of `burst`, in a bucket chosen by a
 * keyed hash (an attacker cannot aim at another's bucket). */
static bool rate_ok(struct tg_gate *g, const uint8_t *key, size_t len, uint32_t per_s,
                    uint32_t burst, tg_time now)
{
    uint64_t *tat = &g->rate_tat[tg_gate_hash(g, key, len) % TG_GATE_BUCKETS];
    uint64_t interval = 1000000u / per_s;
    uint64_t t = *tat > now ? *tat : now;
    if (t - now > interval * burst)
        return false;
    *tat = t + interval;
    return true;
}

static bool source_ok(struct tg_gate *g, const struct tg_key_addr *from, tg_time now)
{
    uint8_t k[1 + 16 + 2];
    k[0] = 1;
    memcpy(k + 1, from->addr, 16);
    k[17] = (uint8_t)(from->port >> 8);
    k[18] = (uint8_t)from->port;
    uint32_t per = g->per_source_per_s, burst = g->burst;
    if (!rate_ok(g, k, sizeof k, per, burst, now))
        return false;
    k[0] = 2; /* the address as a whole */
    return rate_ok(g, k, 17, per * GATE_ADDR_FACTOR, burst * GATE_ADDR_FACTOR, now);
}

static bool under_load(struct tg_gate *g, tg_time now)
{
    if (now - g->load_window >= TG_SEC(1)) {
        g->load_prev = now - g->load_window < TG_SEC(2) ? g->load_now : 0;
        g->load_now = 0;
        g->load_window = now;
    }
    g->load_now++;
    uint32_t rate = g->load_now > g->load_prev ? g->load_now : g->load_prev;
    return rate > g->load_per_s;
}

enum tg_gate_verdict tg_gate_screen(struct tg_gate *g, const struct tg_key_addr *from,
                                    const uint8_t *dgram, size_t len, bool pending_full,
                                    tg_time now)
{
    if (!tg_mac1_ok(&g->mac, dgram, len))
        return TG_GATE_MAC;
    if (!under_load(g, now) && !pending_full)
        return TG_GATE_PASS;
    /* a sender without a cookie sends zeros: no need to compute what cannot match */
    if (sodium_is_zero(dgram + len - TG_MAC_LEN, TG_MAC_LEN))
        return TG_GATE_COOKIE;
    uint8_t cookie[TG_COOKIE_LEN];
    tg_cookie_make(g->cookie_secret, from, cookie);
    bool proven = now - g->cookie_at < COOKIE_ROTATE_US && tg_mac2_ok(cookie, dgram, len);
    sodium_memzero(cookie, sizeof cookie);
    if (!proven)
        return TG_GATE_COOKIE;
    return source_ok(g, from, now) ? TG_GATE_PASS : TG_GATE_RATE;
}

void tg_gate_cookie(struct tg_gate *g, const struct tg_rng *rng, const struct tg_key_addr *from,
                    const struct tg_wire_msg *m, tg_time now, uint8_t out[TG_COOKIE_MSG_LEN])
{
    if (now - g->cookie_at >= COOKIE_ROTATE_US) {
        tg_rng_fill(rng, g->cookie_secret, sizeof g->cookie_secret);
        g->cookie_at = now;
    }
    uint8_t cookie[TG_COOKIE_LEN], nonce[TG_COOKIE_NONCE_LEN];
    tg_cookie_make(g->cookie_secret, from, cookie);
    tg_rng_fill(rng, nonce, sizeof nonce);
    tg_cookie_reply(&g->mac, m->sender_index, nonce, cookie, m->macs, out);
    sodium_memzero(cookie, sizeof cookie);
}
