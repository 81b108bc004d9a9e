/*
 * clock.h: the runtime's one clock (DESIGN.md §2, STYLE.md "Loops").
 *
 * The core never reads a clock; the live program reads CLOCK_MONOTONIC here
 * and nowhere else, and passes the value as `now` to every core call. The
 * wall clock (CLOCK_REALTIME) is read only to date capture files and for
 * `triglav status` and `triglav diagnose`.
 */
#ifndef RT_CLOCK_H
#define RT_CLOCK_H

#include "core/time.h"

/* Microseconds of CLOCK_MONOTONIC (never goes back, never TG_TIME_NEVER). */
tg_time rt_now(void);

/* Microseconds to add to an rt_now() value to get Unix time (CLOCK_REALTIME),
 * read once: timestamps then follow the monotonic clock, so a capture never
 * goes back in time when NTP steps the wall clock. Unsigned arithmetic: add
 * it, never compare it. */
tg_time rt_wall_offset(void);

/* The wall clock for `triglav diagnose`: Unix seconds in *unix_s, and the
 * kernel's word (adjtimex) on whether something (NTP) keeps it in time: 1
 * synchronised, 0 not, -1 cannot tell. */
int rt_clock_synced(long long *unix_s);

#endif
