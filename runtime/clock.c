/* The only file of the runtime that reads a clock. */
#define _GNU_SOURCE
#include <sys/timex.h>
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

int rt_clock_synced(long long *unix_s)
{
    struct timespec wall;
    clock_gettime(CLOCK_REALTIME, &wall);
    *unix_s = (long long)wall.tv_sec;
    struct timex tx = {.modes = 0};
    int state = adjtimex(&tx);
    if (state < 0)
        return -1;
    return state != TIME_ERROR && !(tx.status & STA_UNSYNC) ? 1 : 0;
}
