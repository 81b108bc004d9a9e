/*
 * time.h: virtual time as the core sees it.
 *
 * The core never reads a clock. Every call that can change state takes `now`
 * as a tg_time: microseconds since an epoch chosen by the host (the simulator
 * starts at 0, the runtime uses CLOCK_MONOTONIC). Deadlines are absolute
 * tg_time values; TG_TIME_NEVER means "no deadline".
 */
#ifndef TG_TIME_H
#define TG_TIME_H

#include <stdint.h>

typedef uint64_t tg_time; /* microseconds */

#define TG_TIME_NEVER UINT64_MAX
#define TG_USEC(x) ((tg_time)(x))
#define TG_MSEC(x) ((tg_time)(x) * 1000u)
#define TG_SEC(x) ((tg_time)(x) * 1000000u)

static inline tg_time tg_time_min(tg_time a, tg_time b)
{
    return a < b ? a : b;
}

/* a + b, saturating at TG_TIME_NEVER so "never + delay" stays never. */
static inline tg_time tg_time_add(tg_time a, tg_time b)
{
    return a > TG_TIME_NEVER - b ? TG_TIME_NEVER : a + b;
}

#endif
