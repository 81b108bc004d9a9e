/*
 * rng.h: the randomness the host lends the core.
 *
 * The core has no random source of its own. Whatever needs randomness
 * (ephemeral keys, receiver indexes, hash keys) gets a tg_rng at creation and
 * calls it. The simulator passes a seeded deterministic generator so runs
 * repeat; the live runtime passes one that reads the OS (randombytes_buf).
 */
#ifndef TG_RNG_H
#define TG_RNG_H

#include <stddef.h>
#include <stdint.h>

struct tg_rng {
    /* Fill buf[0..len) with random bytes. Must not fail. */
    void (*fill)(void *ctx, uint8_t *buf, size_t len);
    void *ctx;
};

static inline void tg_rng_fill(const struct tg_rng *rng, void *buf, size_t len)
{
    rng->fill(rng->ctx, (uint8_t *)buf, len);
}

static inline uint32_t tg_rng_u32(const struct tg_rng *rng)
{
    uint8_t b[4];
    tg_rng_fill(rng, b, sizeof b);
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

#endif
