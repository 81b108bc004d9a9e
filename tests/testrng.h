/* testrng.h: the deterministic splitmix64 generator of the randomised tests
 * (seed it by setting rng_state; print the seed so a failure can be rerun). */
#ifndef TG_TESTRNG_H
#define TG_TESTRNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static inline void rnd_bytes(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd();
}

#endif
