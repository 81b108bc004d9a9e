/*
 * The receiver's overflow rule (recover.h, tg_rtx_congested): which losses
 * on an uplink are its queue overflowing (the inner flows must see them)
 * and which are random (the tunnel asks for them again). Each case feeds
 * one path the queueing delays its DATA met, teeth that rise from `lo` to
 * `hi` ms over half of `period` DATA and stay there for the other half,
 * with a loss at chosen DATA, and counts the losses taken for overflows.
 */
#include "check.h"
#include "core/mpath.h"
#include "core/recover.h"

#include <string.h>

/* The peer's clock is far from ours: one-way delays are offsets. */
#define BASE_US ((int64_t)-194137715000)

struct saw {
    int64_t lo_ms, hi_ms;
    unsigned period; /* DATA per tooth */
    unsigned n;      /* DATA in all */
};

/* Feeds `s` to a fresh path; a loss comes after DATA i when loss_at(i).
 * The first DATA met no queue. Returns the losses taken for overflows;
 * *losses counts them all and *top those that came near the top of the
 * queue. */
static unsigned play(const struct saw *s, bool (*loss_at)(unsigned i, unsigned period),
                     tg_time min_rtt, unsigned *losses, unsigned *top)
{
    struct tg_path p;
    memset(&p, 0, sizeof p);
    p.est.min_rtt_us = min_rtt;
    tg_time now = TG_SEC(100);
    unsigned overflows = 0;
    *losses = 0;
    *top = 0;
    p.rx_owd_us = BASE_US + 10000; /* the first DATA met no queue */
    tg_rtx_rx_sample(&p, now);
    for (unsigned i = 0; i < s->n; i++) {
        int64_t up = 2 * (int64_t)(i % s->period), half = s->period - 1;
        int64_t q = s->lo_ms * 1000 + (s->hi_ms - s->lo_ms) * 1000 * (up < half ? up : half) / half;
        p.rx_owd_us = BASE_US + 10000 + q;
        tg_rtx_rx_sample(&p, now);
        now += 500;
        if (loss_at(i, s->period)) {
            uint32_t before = p.lc_top_loss;
            overflows += tg_rtx_congested(&p, 1);
            ++*losses;
            *top += p.lc_top_loss - before;
        }
    }
    return overflows;
}

/* Six losses at the peaks of teeth 3, 4, 8, 9, 11 and 12. */
static bool six_at_peaks(unsigned i, unsigned period)
{
    static const unsigned teeth[] = {3, 4, 8, 9, 11, 12};
    for (size_t k = 0; k < sizeof teeth / sizeof teeth[0]; k++)
        if (i == teeth[k] * period + period - 1)
            return true;
    return false;
}

/* A loss at the peak of every tooth from the third to the eighth. */
static bool every_peak(unsigned i, unsigned period)
{
    return i >= 3 * period && i < 9 * period && i % period == period - 1;
}

/* The cases, each six losses near the top of its queue (every one a loss
 * the rule judges), and how many of them are overflows. */
static const struct {
    const char *what;
    struct saw saw;
    bool (*loss_at)(unsigned i, unsigned period);
    tg_time min_rtt;
    unsigned overflows;
} cases[] = {
    /* An inner flow's slow start over a 20 Mbit/s path with 1% random loss:
     * six random losses near the top of a queue of up to 36 ms (a real
     * run's fifth and sixth came at 31-33 ms, where 44% of the DATA had
     * been), none below it. None is an overflow: each is asked for again
     * and the inner flow keeps growing. */
    {"slow start, random losses", {0, 36, 50, 650}, six_at_peaks, TG_MSEC(20), 0},
    /* Each tooth loses a DATA at the top: 1 in 10 of those that reach it,
     * more than any usable path loses at random. The fifth and sixth are
     * overflows (the first four are never: too few to tell). */
    {"frequent at the top", {40, 90, 20, 200}, every_peak, TG_MSEC(20), 2},
    /* A 64 KB queue on a 100 ms path: nearly every DATA meets a queue of
     * 8-10 ms (the inner flow holds it full) and losses are rare. A
     * standing queue's losses are its excess. */
    {"standing queue", {8, 10, 50, 650}, six_at_peaks, TG_MSEC(200), 2},
    /* A WiFi queue of half a second after its rate collapsed: sparse losses
     * near a top of 520 ms, but the queue is long in itself. */
    {"long queue", {220, 520, 50, 650}, six_at_peaks, TG_MSEC(30), 2},
    /* ... unless the path's round trip is longer still (a satellite path's
     * queue of the same length). */
    {"long queue, longer round trip", {220, 520, 50, 650}, six_at_peaks, TG_MSEC(600), 0},
};

int main(void)
{
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        unsigned losses, top;
        unsigned over = play(&cases[k].saw, cases[k].loss_at, cases[k].min_rtt, &losses, &top);
        printf("%s: %u of %u losses near the top, %u overflows\n", cases[k].what, top, losses,
               over);
        CHECK_EQ(losses, 6);
        CHECK_EQ(top, 6);
        CHECK_EQ(over, cases[k].overflows);
    }
    return check_exit("test_recover");
}
