/* testrng.h: the deterministic generators of the randomised tests. Print the
 * seed so a failure can be rerun.
 *
 *   rnd(), rnd_below(), rnd_bytes(): splitmix64 over the global rng_state
 *     (seed it by setting rng_state);
 *   splitmix64(&x): one splitmix64 step over a state of the caller's, e.g. to
 *     derive the seeds of several runs from one printed seed;
 *   xs64(&s), xs_below(&s, n): xorshift64* over a state of the caller's (never
 *     0; seed it as splitmix64(&x) | 1), for a run that keeps its own. */
#ifndef TG_TESTRNG_H
#define TG_TESTRNG_H

#include <stddef.h>
#include <stdint.h>

static uint64_t rng_state;

static inline uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static inline uint64_t rnd(void)
{
    return splitmix64(&rng_state);
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

/* xorshift64* */
static inline uint64_t xs64(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545f4914f6cdd1du;
}

/* Uniform-ish in [0, n); 0 for n == 0, without advancing the state. */
static inline uint64_t xs_below(uint64_t *s, uint64_t n)
{
    return n == 0 ? 0 : xs64(s) % n;
}

#endif
