/*
 * clock.h: the runtime's one clock (DESIGN.md §2, STYLE.md "Loops").
 *
 * The core never reads a clock; the live program reads CLOCK_MONOTONIC here
 * and nowhere else, and passes the value as `now` to every core call.
 */
#ifndef RT_CLOCK_H
#define RT_CLOCK_H

#include "core/time.h"

/* Microseconds of CLOCK_MONOTONIC (never goes back, never TG_TIME_NEVER). */
tg_time rt_now(void);

#endif
