/* The only file of the runtime that reads a clock. */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "clock.h"

tg_time rt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (tg_time)ts.tv_sec * 1000000u + (tg_time)ts.tv_nsec / 1000u;
}

tg_time rt_wall_offset(void)
{
    struct timespec mono, wall;
    clock_gettime(CLOCK_MONOTONIC, &mono);
    clock_gettime(CLOCK_REALTIME, &wall);
    tg_time m = (tg_time)mono.tv_sec * 1000000u + (tg_time)mono.tv_nsec / 1000u;
    tg_time w = (tg_time)wall.tv_sec * 1000000u + (tg_time)wall.tv_nsec / 1000u;
    return w - m; /* wrap-around arithmetic: m + offset == w */
}
