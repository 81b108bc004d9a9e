/*
 * Reorder buffer: scenario tables, one or more per rule of reorder.h (each
 * row a push, a drain of pop at some time with the numbers it must release, a
 * deadline, or a counter), then a randomised comparison against a naive
 * buffer that writes the rules plainly over an unsorted array, over simulated
 * uplinks with delay, jitter, loss, duplicates, jumps and silences.
 *
 *   test_reorder [seed]   (the seed is printed; pass it back to replay a run)
 */
#include "check.h"
#include "testrng.h"
#include "core/reorder.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define M    UINT64_MAX
#define END  UINT64_MAX /* ends a list of released numbers */
#define AUTO ((size_t)-1)

/* The bytes of packet `seq`: the same for every copy of it. */
static uint8_t pattern(uint64_t seq, size_t i)
{
    return (uint8_t)((seq * 131u) ^ (seq >> 32) ^ (i * 7u + 1u));
}

static void fill(uint8_t *p, uint64_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = pattern(seq, i);
}

static int matches(const uint8_t *p, uint64_t seq, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != pattern(seq, i))
            return 0;
    return 1;
}

static size_t auto_len(uint64_t seq)
{
    return 1 + (size_t)(seq % 13);
}

/* ---------------------------------------------------------------- tables */

enum op { PUSH, POP, DEADLINE, NEXT, STAT, LOST, HOLD, HOLD_RUN, ASKED, ALIVE, REACH, CLEAR };

struct step {
    enum op op;
    uint64_t seq;     /* PUSH: the number; NEXT, DEADLINE, STAT, LOST: the value */
    unsigned uplink;  /* PUSH; ASKED: max_tries */
    tg_time t;        /* PUSH, POP */
    size_t len;       /* PUSH: bytes, AUTO for auto_len(seq) */
    int want;         /* PUSH: the return */
    uint64_t out[12]; /* POP: the numbers released, then END */
    size_t field;     /* STAT: offset in tg_reorder_stats */
    size_t size;      /* STAT: 4 or 8 */
    int line;
    uint64_t sent;    /* PUSH: the send time on the peer's clock (0: unknown) */
};

#define P(s, u, tm)          {PUSH, (s), (u), (tm), AUTO, TG_OK, {END}, 0, 0, __LINE__, 0}
#define PR(s, u, tm, w)      {PUSH, (s), (u), (tm), AUTO, (w), {END}, 0, 0, __LINE__, 0}
#define PL(s, u, tm, l, w)   {PUSH, (s), (u), (tm), (l), (w), {END}, 0, 0, __LINE__, 0}
/* A push that is not to leave before `nb` (tg_reorder_push_at; the field slot carries it). */
#define PA(s, u, tm, nb)     {PUSH, (s), (u), (tm), AUTO, TG_OK, {END}, (nb), 0, __LINE__, 0}
/* A push of a packet sent at `snt` on the peer's clock. */
#define PS(s, u, tm, snt)    {PUSH, (s), (u), (tm), AUTO, TG_OK, {END}, 0, 0, __LINE__, (snt)}
/* tg_reorder_set_alive(mask) and tg_reorder_set_reach(u, reach). */
#define ALV(mask)            {ALIVE, (mask), 0, 0, 0, 0, {END}, 0, 0, __LINE__, 0}
#define RCH(u, reach)        {REACH, (uint64_t)(int64_t)(reach), (u), 0, 0, 0, {END}, 0, 0, __LINE__, 0}
/* tg_reorder_cleared(u, snt): a probe sent at `snt` arrived on uplink u. */
#define CLR(u, snt)          {CLEAR, 0, (u), 0, 0, 0, {END}, 0, 0, __LINE__, (snt)}
/* A push sent at `snt` that returns `w`. */
#define PSR(s, u, tm, snt, w) {PUSH, (s), (u), (tm), AUTO, (w), {END}, 0, 0, __LINE__, (snt)}
#define POP(tm, ...)         {POP, 0, 0, (tm), 0, 0, {__VA_ARGS__, END}, 0, 0, __LINE__, 0}
#define NOPOP(tm)            {POP, 0, 0, (tm), 0, 0, {END}, 0, 0, __LINE__, 0}
#define DL(d)                {DEADLINE, (d), 0, 0, 0, 0, {END}, 0, 0, __LINE__, 0}
#define NEXT(s)              {NEXT, (s), 0, 0, 0, 0, {END}, 0, 0, __LINE__, 0}
#define STAT(f, v)                                                                           \
    {STAT, (v), 0, 0, 0, 0, {END}, offsetof(struct tg_reorder_stats, f),                     \
     sizeof(((struct tg_reorder_stats *)0)->f), __LINE__, 0}
/* Packets dropped by the documented misuse path so far (for the invariants). */
#define LOSTN(n)             {LOST, (n), 0, 0, 0, 0, {END}, 0, 0, __LINE__, 0}
/* The host holds gap `s` until `until` (its packet was asked for again). */
#define HLD(s, until)        {HOLD, (s), 0, (until), 0, 0, {END}, 0, 0, __LINE__, 0}
/* The host holds the gaps in [s, e) until `until` (a run asked for again). */
#define HRUN(s, e, until)    {HOLD_RUN, (s), 0, (until), 0, 0, {END}, 0, 0, __LINE__, (e)}
/* tg_reorder_expired_holds at `tm` with max_tries `n`: the numbers, then END. */
#define ASK(tm, n, ...)      {ASKED, 0, (n), (tm), 0, 0, {__VA_ARGS__, END}, 0, 0, __LINE__, 0}

#define H 1000 /* max_hold_us of every table */
#define NEVER TG_TIME_NEVER
#define REPLAY TG_ERR_REPLAY

/* One uplink delivers in order. */
static const struct step s_in_order[] = {
    P(0, 0, 10), POP(10, 0), DL(NEVER),
    P(1, 0, 11), POP(11, 1),
    P(2, 3, 12), POP(12, 2), /* another uplink, still in order */
    DL(NEVER), NEXT(3), STAT(released, 3), STAT(in_order, 3), STAT(gaps_skipped, 0),
};

/* Several pushes before a drain are still in order. */
static const struct step s_batch[] = {
    P(0, 0, 0), P(1, 0, 0), P(2, 1, 0), DL(0), /* ready, not drained */
    POP(0, 0, 1, 2), STAT(in_order, 3), STAT(peak_occupancy, 3), DL(NEVER),
};

/* 2 arrives before 1: held while uplink 1 (behind, active) may bring 1. */
static const struct step s_swap[] = {
    P(0, 1, 0), POP(0, 0),
    P(2, 0, 10), NOPOP(10), NEXT(1),
    DL(1000), /* uplink 1 falls silent at 0 + H, before 2's 10 + H */
    NOPOP(999),
    P(1, 1, 20), POP(20, 1, 2), DL(NEVER),
    STAT(in_order, 2), STAT(released, 3), STAT(gaps_skipped, 0),
};

/* Uplink 0 carries the even numbers, uplink 1 (slower) the odd ones. */
static const struct step s_gap_filled[] = {
    P(0, 0, 0), POP(0, 0),
    P(1, 1, 5), POP(5, 1),
    P(2, 0, 10), POP(10, 2),
    P(4, 0, 20), NOPOP(20), /* 3 is on its way on uplink 1 */
    P(6, 0, 30), NOPOP(30),
    DL(1005), /* uplink 1 last delivered at 5 */
    P(3, 1, 400), POP(400, 3, 4), /* 5 still possible on uplink 1 */
    NOPOP(401), DL(1030),         /* 6 arrived at 30 */
    P(5, 1, 500), POP(500, 5, 6), DL(NEVER),
    STAT(gaps_skipped, 0), STAT(released, 7),
    STAT(in_order, 5), /* 0 1 2 3 5; 4 and 6 waited */
};

/* A gap nobody fills goes exactly at the oldest packet's arrival + H. The
 * late duplicate of 0 keeps uplink 1 active and behind, so only the deadline
 * rule can act. */
static const struct step s_deadline[] = {
    P(0, 1, 0), POP(0, 0),
    P(2, 0, 100), P(3, 0, 200), P(5, 0, 300), NOPOP(300),
    PR(0, 1, 500, REPLAY), /* a delivery all the same */
    DL(1100), NOPOP(1099), NEXT(1),
    POP(1100, 2, 3), /* 5 is younger: the gap at 4 waits on */
    DL(1300), NOPOP(1299), NEXT(4),
    POP(1300, 5), DL(NEVER), NEXT(6),
    STAT(skipped_by_deadline, 2), STAT(gaps_skipped, 2), STAT(late, 1),
    STAT(skipped_by_uplinks, 0),
};

/* Both uplinks passed the gap: skipped at once; not while one lags. */
static const struct step s_uplinks[] = {
    P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    P(3, 0, 10), NOPOP(10), /* uplink 1 (at 1) may still bring 2 */
    P(4, 0, 20), NOPOP(20), DL(1000),
    P(5, 1, 30), POP(30, 3, 4, 5), /* uplink 1 passed 2 */
    STAT(skipped_by_uplinks, 1),
    P(7, 0, 40), NOPOP(40), /* uplink 1 at 5 < 6 */
    P(8, 1, 50), POP(50, 7, 8),
    /* three uplinks: two past the gap are not enough */
    P(9, 2, 60), POP(60, 9), P(12, 2, 70), NOPOP(70),
    P(13, 1, 80), NOPOP(80), /* uplink 0 (at 7) may still bring 10 and 11 */
    P(14, 0, 90), POP(90, 12, 13, 14),
    STAT(skipped_by_uplinks, 4), STAT(skipped_by_deadline, 0), DL(NEVER),
};

/* A held gap: the uplinks rule leaves it alone until the hold ends (then it
 * goes at once), or its packet comes again and fills it in order; the
 * deadline rule still applies. */
static const struct step s_hold[] = {
    P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    HLD(2, 300), P(3, 0, 10), P(4, 1, 20), NOPOP(20), /* both uplinks passed 2 */
    DL(300), NOPOP(299), POP(300, 3, 4), STAT(skipped_by_uplinks, 1), STAT(held, 1),
    HLD(5, 400), P(6, 0, 30 + 300), P(7, 1, 340), NOPOP(340),
    P(5, 0, 350), POP(350, 5, 6, 7), /* sent again and arrived: nothing skipped */
    STAT(skipped_by_uplinks, 1), STAT(gaps_skipped, 1),
    HLD(8, 5000), P(9, 0, 400), P(10, 1, 400), DL(1400), /* the hold outlasts max_hold */
    POP(1400, 9, 10), STAT(skipped_by_deadline, 1),
    HLD(3, 9000), HLD(11, 1500), PR(11, 0, 1500, TG_OK), POP(1500, 11), DL(NEVER),
    STAT(held, 4), /* 3 was released already: not held */
};

/* A held run: every gap in it waits, each filled as its packet comes
 * again; the ones never sent again go when the hold ends, and a run is
 * never handed back to be asked for again. */
static const struct step s_hold_run[] = {
    P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    HRUN(2, 5, 300), P(5, 0, 10), P(6, 1, 20), NOPOP(20), /* both uplinks passed 2-4 */
    P(3, 0, 30), NOPOP(30), P(2, 0, 40), POP(40, 2, 3), /* 4 still held */
    DL(300), NOPOP(299), ASK(300, 3, END), POP(300, 5, 6),
    STAT(skipped_by_uplinks, 1), STAT(held, 0), DL(NEVER),
    HRUN(7, 9, 400), HLD(8, 400), P(9, 0, 310), P(10, 1, 315), NOPOP(315), /* a NACK in a run */
    P(7, 0, 320), POP(320, 7), DL(400), ASK(400, 3, 8), POP(400, 9, 10),
    STAT(skipped_by_uplinks, 2), STAT(held, 1),
};

/* The host asks again. A hold that ran out with its gap still empty is
 * reported while held fewer than max_tries times; holding it again moves
 * its end and counts a try. */
static const struct step s_ask[] = {
    P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    HLD(2, 300), P(3, 0, 10), P(4, 1, 20), NOPOP(20),
    ASK(299, 3, END), /* not run out */
    ASK(300, 3, 2), ASK(300, 1, END),  /* run out; already held once */
    HLD(2, 600), ASK(300, 3, END), DL(600), ASK(600, 2, END), ASK(600, 3, 2),
    P(2, 0, 610), POP(610, 2, 3, 4), ASK(610, 3, END), /* filled: nothing to ask */
    P(7, 0, 620), P(8, 1, 630), HLD(5, 700), HLD(5, 700), NOPOP(630), HLD(6, 700),
    ASK(699, 3, END), ASK(700, 3, 5, 6), ASK(700, 2, 6),
    POP(700, 7, 8), STAT(skipped_by_uplinks, 2), STAT(held, 3), DL(NEVER),
};

/* An uplink silent for H no longer blocks, to the microsecond; one that never
 * delivered never did. */
static const struct step s_silent[] = {
    P(0, 1, 0), POP(0, 0),
    P(2, 0, 999), NOPOP(999), /* uplink 1 delivered at 0: active until 1000 */
    DL(1000), POP(1000, 2), STAT(skipped_by_uplinks, 1),
    P(4, 0, 5000), POP(5000, 4), STAT(skipped_by_uplinks, 2),
    /* uplink 1 comes back behind: it blocks again */
    PR(1, 1, 6000, REPLAY), P(6, 0, 6001), NOPOP(6001), DL(7000),
    NOPOP(6999), POP(7000, 6), STAT(skipped_by_uplinks, 3),
};

/* An idle uplink behind a gap (nothing delivered for H/2) stops counting
 * once the packet above the gap was sent longer ago than its reach: a burst
 * lost on the busy uplink does not wait max_hold for an idle one. One that
 * delivered lately is waited for until it is idle; without a send time or a
 * reach it counts as before. The reach carries the clocks' offset, so it
 * may be negative. */
static const struct step s_reach[] = {
    ALV(3), P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    PS(3, 0, 610, 605), NOPOP(610), DL(1610), /* uplink 1 may bring 2 */
    RCH(1, 100), DL(705), NOPOP(704), POP(705, 3), STAT(skipped_by_uplinks, 1),
    P(4, 1, 710), POP(710, 4), /* uplink 1 delivers: idle again from 1210 */
    PS(6, 0, 720, 715), DL(1210), NOPOP(1209), POP(1210, 6),
    P(8, 0, 1300), NOPOP(1300), DL(2300), /* no send time: waits */
    P(7, 1, 1310), POP(1310, 7, 8),
    RCH(1, -50), PS(10, 0, 2000, 2100), DL(2050), NOPOP(2049), POP(2050, 10),
    RCH(1, INT64_MAX), PS(12, 0, 2100, 2200), DL(3100), NOPOP(3099), POP(3100, 12),
    STAT(skipped_by_uplinks, 3), STAT(skipped_by_deadline, 1),
};

/* An uplink that delivered something sent after the packet above a gap (a
 * probe, or a late packet) can no longer fill it, however recently it
 * delivered and whatever its highest number: it delivers in send order. */
static const struct step s_clear[] = {
    ALV(3), P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    PS(3, 0, 100, 95), NOPOP(100), DL(1100), /* uplink 1 may bring 2 */
    CLR(1, 95), NOPOP(101), DL(1100),        /* sent with 3, maybe before it */
    CLR(1, 96), DL(0), POP(102, 3), STAT(skipped_by_uplinks, 1),
    PS(5, 0, 200, 190), NOPOP(200),
    PSR(1, 1, 210, 191, TG_ERR_REPLAY), POP(210, 5), /* a late one says the same */
    PS(7, 0, 300, 290), NOPOP(300), CLR(1, 0), CLR(1, 250), NOPOP(301), DL(1300),
    STAT(skipped_by_uplinks, 2), STAT(skipped_by_deadline, 0),
};

/* One uplink delivers in send order: a gap on it is a loss at once. */
static const struct step s_one_uplink[] = {
    P(0, 5, 0), POP(0, 0), P(2, 5, 1), POP(1, 2), P(10, 5, 2), POP(2, 10),
    STAT(skipped_by_uplinks, 8), STAT(in_order, 1),
};

/* Late packets and duplicates. A duplicate still counts as a delivery. */
static const struct step s_late_dup[] = {
    P(0, 0, 0), POP(0, 0), P(1, 1, 1), POP(1, 1),
    PR(0, 0, 2, REPLAY), PR(1, 1, 2, REPLAY), /* released already */
    P(3, 0, 3), NOPOP(3),
    PR(3, 0, 4, REPLAY), /* still buffered */
    NOPOP(4),
    PR(3, 1, 5, REPLAY), /* uplink 1 is now past 2 */
    POP(5, 3), STAT(skipped_by_uplinks, 1),
    PR(2, 1, 6, REPLAY), /* given up on */
    STAT(late, 3), STAT(duplicate, 2), STAT(pushed, 8), STAT(released, 3),
    STAT(occupancy, 0),
};

/* Capacity 8. Uplink 1 stays at 1, so only slides (and later H) release. */
static const struct step s_slide[] = {
    P(0, 0, 0), P(1, 1, 0), POP(0, 0, 1),
    P(3, 0, 10), P(4, 0, 10), P(9, 0, 20), NOPOP(20), /* 9 - 2 < 8 */
    P(10, 0, 30), POP(30, 3, 4),                      /* 10 - 2 == 8: 2 goes */
    STAT(skipped_by_overflow, 1), NEXT(5),
    P(13, 0, 40), NOPOP(40), NEXT(6), /* 5 given up; nothing ready */
    STAT(skipped_by_overflow, 2),
    PR(5, 0, 41, REPLAY), /* given up on: late */
    P(6, 0, 42), POP(42, 6),
    /* 17 wants the slot of 9 (17 & 7 == 9 & 7), which it forces out */
    P(17, 0, 50), DL(0), POP(50, 9, 10), NEXT(11),
    STAT(skipped_by_overflow, 4), STAT(occupancy, 2),
    /* a jump of 2^40 forces everything out at O(1) */
    P((uint64_t)1 << 40, 0, 60), POP(60, 13, 17), NEXT(((uint64_t)1 << 40) - 7),
    STAT(skipped_by_overflow, ((uint64_t)1 << 40) - 16),
    DL(1000), NOPOP(999), POP(1000, (uint64_t)1 << 40), /* uplink 1 silent */
    STAT(skipped_by_uplinks, 7), STAT(peak_occupancy, 4), DL(NEVER),
};

/* Capacity 4. Two slides before a drain (against the contract): the second
 * collision drops the lower forced-out packet, and its number is skipped. */
static const struct step s_slide_undrained[] = {
    P(0, 1, 0), POP(0, 0),
    P(2, 0, 1), P(3, 0, 1), NOPOP(1),
    P(6, 0, 2), /* base 3: 2 forced out, moves out of slot 2 */
    P(7, 0, 3), /* base 4: 3 forced out of slot 3; 2 is dropped */
    LOSTN(1), STAT(occupancy, 3),
    POP(3, 3), NEXT(4), STAT(skipped_by_overflow, 2),
    DL(1000), NOPOP(999), POP(1000, 6, 7), STAT(skipped_by_uplinks, 2),
};

/* Capacity 4, pushes without a drain (against the contract). A run of
 * buffered numbers moves contig past 2 before 2 is dropped; 2, given up on
 * by the slide but not yet passed by pop, is late when it comes again. */
static const struct step s_undrained_contig[] = {
    P(0, 1, 0), POP(0, 0),
    P(2, 0, 1), P(3, 0, 1), P(1, 1, 1), P(4, 0, 1), /* 1 2 3 4 buffered */
    P(7, 0, 1), /* base 4: 1 2 3 forced out; 3 leaves slot 3 */
    P(6, 0, 1), /* 2 must leave slot 2, 3 keeps the spare: 2 is dropped */
    LOSTN(1), STAT(occupancy, 5), STAT(peak_occupancy, 5),
    PR(2, 0, 1, REPLAY), STAT(late, 1),
    POP(1, 1, 3, 4), NEXT(5), STAT(skipped_by_overflow, 1),
    STAT(in_order, 3), /* 0, 1 and 4 */
    DL(1001), NOPOP(1000), POP(1001, 6, 7), STAT(skipped_by_deadline, 1),
};

/* Near the top of the number space; UINT64_MAX itself is reserved. */
static const struct step s_top[] = {
    P(M - 6, 0, 0), POP(0, M - 6),
    PR(M, 0, 1, TG_ERR_INVAL), STAT(pushed, 1),
    P(M - 4, 0, 1), POP(1, M - 4),
    P(M - 1, 0, 2), DL(0), POP(2, M - 1), NEXT(M), DL(NEVER),
    PR(M - 1, 0, 3, REPLAY), PR(0, 0, 3, REPLAY), PR(M, 1, 3, TG_ERR_INVAL),
    STAT(skipped_by_uplinks, 3), STAT(late, 2), STAT(released, 3),
};

/* Capacity 4 from 0: the first slide. */
static const struct step s_bottom[] = {
    P(1, 0, 0), P(0, 1, 0), POP(0, 0, 1), /* 1 first, 0 fills the gap */
    STAT(in_order, 1),
    P(3, 0, 1), P(5, 0, 1), NOPOP(1), /* 5 - 2 < 4; uplink 1 at 0 */
    P(6, 0, 2), POP(2, 3), NEXT(4),   /* 6 - 2 == 4: 2 given up */
    STAT(skipped_by_overflow, 1),
};

/* Packets of slot_bytes (16) fit, longer ones are refused; empty ones are
 * packets too. */
static const struct step s_size[] = {
    PL(0, 0, 0, 17, TG_ERR_NOBUF), STAT(too_big, 1), STAT(pushed, 1), NEXT(0),
    PL(0, 0, 1, 16, TG_OK), POP(1, 0),
    PL(1, 0, 2, 0, TG_OK), POP(2, 1),
    PL(2, 0, 3, 1000, TG_ERR_NOBUF), STAT(too_big, 2), STAT(occupancy, 0),
};

/* Occupancy and its peak. */
static const struct step s_peak[] = {
    P(0, 1, 0), POP(0, 0),
    P(3, 0, 1), P(2, 0, 1), P(5, 0, 1), P(4, 0, 1), NOPOP(1),
    STAT(occupancy, 4), STAT(peak_occupancy, 4),
    PR(4, 0, 1, REPLAY), STAT(occupancy, 4),
    P(1, 1, 2), STAT(occupancy, 5),
    POP(2, 1, 2, 3, 4, 5), STAT(occupancy, 0), STAT(peak_occupancy, 5),
    P(6, 0, 3), POP(3, 6), STAT(peak_occupancy, 5), STAT(in_order, 3),
};

/* Playout: a packet leaves no sooner than its time and in sequence order (an
 * earlier time waits behind a later one); a gap given up on still leaves the
 * packet after it to its time; a packet a slide forces out leaves at once. */
static const struct step s_playout[] = {
    PA(0, 0, 10, 50), NOPOP(10), DL(50), NOPOP(49), POP(50, 0), DL(NEVER),
    PA(2, 0, 60, 100), PA(1, 1, 70, 120), NOPOP(100), DL(120), NOPOP(119), POP(120, 1, 2),
    PA(3, 0, 200, 900), DL(900), P(7, 0, 201), POP(201, 3), NEXT(4), /* 7 slid the window */
    STAT(skipped_by_overflow, 0), DL(1070), POP(1070, 7), NEXT(8), /* uplink 1 quiet since 70 */
    PA(9, 0, 1300, 2000), NOPOP(1300), NEXT(9), DL(2000), NOPOP(1999), POP(2000, 9),
    STAT(skipped_by_deadline, 0), STAT(skipped_by_uplinks, 4), STAT(released, 6),
};

struct scenario {
    const char *name;
    uint32_t capacity;
    uint64_t first;
    const struct step *steps;
    size_t n;
};

#define SCEN(name, cap, first) {#name, (cap), (first), name, sizeof name / sizeof name[0]}

static const struct scenario scenarios[] = {
    SCEN(s_in_order, 8, 0),       SCEN(s_batch, 8, 0),
    SCEN(s_swap, 8, 0),           SCEN(s_gap_filled, 8, 0),
    SCEN(s_deadline, 8, 0),       SCEN(s_uplinks, 8, 0),
    SCEN(s_silent, 8, 0),         SCEN(s_one_uplink, 8, 0),
    SCEN(s_hold, 8, 0),           SCEN(s_ask, 16, 0),
    SCEN(s_hold_run, 16, 0),
    SCEN(s_late_dup, 8, 0),       SCEN(s_slide, 8, 0),
    SCEN(s_slide_undrained, 4, 0), SCEN(s_undrained_contig, 4, 0), SCEN(s_top, 4, M - 6),
    SCEN(s_bottom, 4, 0),         SCEN(s_size, 8, 0),
    SCEN(s_peak, 8, 0),           SCEN(s_playout, 4, 0),
    SCEN(s_reach, 16, 0),         SCEN(s_clear, 16, 0),
};

/* What holds after every drain: each number below next_seq was released or
 * skipped, the reasons add up, and every packet is accounted for. */
static void check_invariants(const struct tg_reorder *r, uint64_t first, uint64_t lost)
{
    const struct tg_reorder_stats *st = tg_reorder_stats(r);
    CHECK_EQ(tg_reorder_next_seq(r) - first, st->released + st->gaps_skipped);
    CHECK_EQ(st->gaps_skipped,
             st->skipped_by_deadline + st->skipped_by_uplinks + st->skipped_by_overflow);
    CHECK_EQ(st->pushed,
             st->released + st->late + st->duplicate + st->too_big + st->occupancy + lost);
    CHECK(st->in_order <= st->released);
    CHECK(st->occupancy <= st->peak_occupancy);
}

static uint64_t stat_field(const struct tg_reorder_stats *st, size_t field, size_t size)
{
    const unsigned char *p = (const unsigned char *)st + field;
    if (size == sizeof(uint32_t)) {
        uint32_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static void run_scenario(const struct scenario *sc)
{
    struct tg_reorder_config c;
    tg_reorder_config_default(&c);
    c.capacity = sc->capacity;
    c.slot_bytes = 16;
    c.max_hold_us = H;
    struct tg_reorder *r = NULL;
    int rc = tg_reorder_new(&c, NULL, sc->first, &r);
    CHECK_EQ(rc, TG_OK);
    if (rc != TG_OK)
        return;
    uint8_t pkt[1024];
    uint64_t lost = 0;
    for (size_t i = 0; i < sc->n; i++) {
        const struct step *s = &sc->steps[i];
        int before = check_failures;
        switch (s->op) {
        case PUSH: {
            size_t len = s->len == AUTO ? auto_len(s->seq) : s->len;
            fill(pkt, s->seq, len);
            CHECK_EQ(tg_reorder_push_at(r, s->seq, s->uplink, pkt, len, s->t, (tg_time)s->field,
                                       s->sent),
                     s->want);
            break;
        }
        case POP: {
            const uint8_t *p;
            size_t len;
            uint64_t seq;
            size_t k = 0;
            while (tg_reorder_pop(r, s->t, &p, &len, &seq) == 1) {
                CHECK(k < 11 && s->out[k] != END);
                if (k >= 11 || s->out[k] == END)
                    break;
                CHECK_EQ(seq, s->out[k]);
                CHECK(matches(p, seq, len));
                k++;
            }
            CHECK(s->out[k] == END);
            CHECK_EQ(tg_reorder_pop(r, s->t, &p, &len, &seq), 0);
            tg_time d = tg_reorder_next_deadline(r);
            CHECK(d == NEVER || d > s->t); /* drained: nothing due yet */
            check_invariants(r, sc->first, lost);
            break;
        }
        case DEADLINE:
            CHECK_EQ(tg_reorder_next_deadline(r), s->seq);
            break;
        case NEXT:
            CHECK_EQ(tg_reorder_next_seq(r), s->seq);
            break;
        case STAT:
            CHECK_EQ(stat_field(tg_reorder_stats(r), s->field, s->size), s->seq);
            break;
        case HOLD:
            tg_reorder_hold(r, s->seq, s->t);
            break;
        case HOLD_RUN:
            tg_reorder_hold_run(r, s->seq, s->sent, s->t);
            break;
        case ASKED: {
            uint64_t got[12];
            size_t n = tg_reorder_expired_holds(r, s->t, s->uplink, got, 11);
            size_t k = 0;
            while (k < 11 && s->out[k] != END)
                k++;
            CHECK_EQ(n, k);
            for (size_t j = 0; j < n && j < k; j++)
                CHECK_EQ(got[j], s->out[j]);
            break;
        }
        case LOST:
            lost = s->seq;
            break;
        case ALIVE:
            tg_reorder_set_alive(r, (uint32_t)s->seq);
            break;
        case REACH:
            tg_reorder_set_reach(r, s->uplink, (int64_t)s->seq);
            break;
        case CLEAR:
            tg_reorder_cleared(r, s->uplink, s->sent);
            break;
        }
        if (check_failures != before)
            fprintf(stderr, "%s:%d: scenario %s, row %zu\n", __FILE__, s->line, sc->name, i);
    }
    tg_reorder_free(r);
}

static void test_tables(void)
{
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run_scenario(&scenarios[i]);
}

/* ------------------------------------------------- configuration, memory */

static int allocs_left; /* fail once this reaches 0; -1: never */
static long live_allocs;

static void *counting_alloc(void *ctx, size_t size)
{
    (void)ctx;
    if (allocs_left == 0)
        return NULL;
    if (allocs_left > 0)
        allocs_left--;
    live_allocs++;
    return malloc(size);
}

static void counting_free(void *ctx, void *p)
{
    (void)ctx;
    if (p != NULL)
        live_allocs--;
    free(p);
}

static void test_config(void)
{
    struct tg_reorder_config d, c;
    tg_reorder_config_default(&d);
    CHECK_EQ(d.capacity, 2048);
    CHECK_EQ(d.slot_bytes, 2048);
    CHECK_EQ(d.max_hold_us, TG_MSEC(500));

    static const struct {
        uint32_t capacity, slot_bytes;
        tg_time hold;
        int want;
    } rows[] = {
        {0, 16, 1, TG_ERR_INVAL},   {1, 16, 1, TG_ERR_INVAL},    {3, 16, 1, TG_ERR_INVAL},
        {6, 16, 1, TG_ERR_INVAL},   {1000, 16, 1, TG_ERR_INVAL}, {UINT32_MAX, 16, 1, TG_ERR_INVAL},
        {2, 16, 1, TG_OK},          {4, 1, 1, TG_OK},            {1024, 2048, H, TG_OK},
        {8, 0, 1, TG_ERR_INVAL},    {8, 16, 0, TG_ERR_INVAL},    {8, 16, NEVER, TG_OK},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        c = d;
        c.capacity = rows[i].capacity;
        c.slot_bytes = rows[i].slot_bytes;
        c.max_hold_us = rows[i].hold;
        struct tg_reorder *r = (struct tg_reorder *)(uintptr_t)1; /* must be reset */
        int rc = tg_reorder_new(&c, NULL, 7, &r);
        CHECK_EQ(rc, rows[i].want);
        if (rc != TG_OK) {
            CHECK(r == NULL);
            continue;
        }
        CHECK_EQ(tg_reorder_next_seq(r), 7);
        CHECK_EQ(tg_reorder_next_deadline(r), NEVER);
        tg_reorder_free(r);
    }
    struct tg_reorder *r;
    CHECK_EQ(tg_reorder_new(NULL, NULL, 0, &r), TG_ERR_INVAL);
    CHECK_EQ(tg_reorder_new(&d, NULL, 0, NULL), TG_ERR_INVAL);
    tg_reorder_free(NULL);

    /* Bad arguments to push change nothing, not even the uplink records. */
    c = d;
    c.capacity = 8;
    CHECK_EQ(tg_reorder_new(&c, NULL, 0, &r), TG_OK);
    uint8_t b[4] = {0};
    CHECK_EQ(tg_reorder_push(r, 0, TG_REORDER_MAX_UPLINKS, b, 4, 0), TG_ERR_INVAL);
    CHECK_EQ(tg_reorder_push(r, 0, 0, NULL, 4, 0), TG_ERR_INVAL);
    CHECK_EQ(tg_reorder_push(r, UINT64_MAX, 0, b, 4, 0), TG_ERR_INVAL);
    CHECK_EQ(tg_reorder_stats(r)->pushed, 0);
    CHECK_EQ(tg_reorder_push(r, 0, 0, NULL, 0, 0), TG_OK);
    const uint8_t *p;
    size_t len;
    uint64_t seq;
    CHECK_EQ(tg_reorder_pop(r, 0, &p, &len, &seq), 1);
    CHECK_EQ(len, 0);
    tg_reorder_free(r);

    /* Every allocation failure is TG_ERR_NOMEM and leaks nothing. */
    struct tg_allocator a = {counting_alloc, counting_free, NULL};
    int ok = 0;
    for (int fail_at = 0; fail_at < 16 && !ok; fail_at++) {
        allocs_left = fail_at;
        live_allocs = 0;
        int rc = tg_reorder_new(&c, &a, 0, &r);
        if (rc == TG_OK) {
            ok = 1;
            CHECK(live_allocs > 0);
            /* push and pop never allocate */
            allocs_left = 0;
            for (uint64_t s = 0; s < 100; s++) {
                CHECK_EQ(tg_reorder_push(r, s, (unsigned)(s % 3), b, 4, s), TG_OK);
                while (tg_reorder_pop(r, s, &p, &len, &seq) == 1) {
                }
            }
            CHECK_EQ(tg_reorder_stats(r)->released, 100);
            tg_reorder_free(r);
        } else {
            CHECK_EQ(rc, TG_ERR_NOMEM);
        }
        CHECK_EQ(live_allocs, 0);
    }
    CHECK(ok);
}

/* ------------------------------------------------------ naive reference */

#define OSLOT 48 /* slot_bytes of the randomised runs */

struct opkt {
    uint64_t seq;
    tg_time arrival;
    tg_time sent; /* 0: unknown */
    size_t len;
    int gapless;
    uint8_t bytes[OSLOT];
};

struct naive {
    uint32_t capacity;
    tg_time hold;
    uint64_t next;  /* lowest number neither released nor given up */
    uint64_t floor; /* numbers below this were given up by a slide */
    struct opkt *pk; /* unsorted, n of them */
    size_t n;
    struct {
        int seen;
        uint64_t highest;
        tg_time last;
        int64_t reach; /* INT64_MAX: unknown */
        tg_time clear; /* send time of the newest datagram it delivered */
    } up[TG_REORDER_MAX_UPLINKS];
    struct tg_reorder_stats st;
    uint8_t out[OSLOT]; /* the packet last popped */
};

static int naive_find(const struct naive *o, uint64_t seq)
{
    for (size_t i = 0; i < o->n; i++)
        if (o->pk[i].seq == seq)
            return (int)i;
    return -1;
}

static int naive_push(struct naive *o, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                      size_t len, tg_time now, tg_time sent)
{
    if (uplink >= TG_REORDER_MAX_UPLINKS || seq == UINT64_MAX || (pkt == NULL && len > 0))
        return TG_ERR_INVAL;
    o->st.pushed++;
    if (!o->up[uplink].seen || seq > o->up[uplink].highest)
        o->up[uplink].highest = seq;
    o->up[uplink].seen = 1;
    o->up[uplink].last = now;
    if (sent > o->up[uplink].clear)
        o->up[uplink].clear = sent;
    if (len > OSLOT) {
        o->st.too_big++;
        return TG_ERR_NOBUF;
    }
    if (seq < o->next) {
        o->st.late++;
        return TG_ERR_REPLAY;
    }
    if (naive_find(o, seq) >= 0) {
        o->st.duplicate++;
        return TG_ERR_REPLAY;
    }
    if (seq < o->floor) {
        o->st.late++;
        return TG_ERR_REPLAY;
    }
    /* the window ends at the newest packet at most */
    if (seq >= o->capacity - 1 && seq - (o->capacity - 1) > o->floor)
        o->floor = seq - (o->capacity - 1);
    int gapless = 1;
    for (uint64_t s = o->next; s < seq; s++) {
        if (naive_find(o, s) < 0) {
            gapless = 0;
            break;
        }
    }
    struct opkt *x = &o->pk[o->n++];
    x->seq = seq;
    x->arrival = now;
    x->sent = sent;
    x->len = len;
    x->gapless = gapless;
    memcpy(x->bytes, pkt, len);
    o->st.occupancy++;
    if (o->st.occupancy > o->st.peak_occupancy)
        o->st.peak_occupancy = o->st.occupancy;
    return TG_OK;
}

static int naive_pop(struct naive *o, tg_time now, const uint8_t **pkt, size_t *len,
                     uint64_t *seq)
{
    for (;;) {
        if (o->n == 0)
            return 0;
        int i = naive_find(o, o->next);
        if (i >= 0) {
            struct opkt *x = &o->pk[i];
            memcpy(o->out, x->bytes, x->len);
            *pkt = o->out;
            *len = x->len;
            *seq = x->seq;
            o->st.released++;
            if (x->gapless)
                o->st.in_order++;
            o->pk[i] = o->pk[--o->n];
            o->st.occupancy--;
            o->next++;
            return 1;
        }
        /* o->next is a gap; which rule gives it up? */
        int expired = 0;
        for (size_t k = 0; k < o->n; k++)
            if (now >= o->pk[k].arrival && now - o->pk[k].arrival >= o->hold)
                expired = 1;
        /* the lowest packet buffered above the gap, and its send time */
        uint64_t low = UINT64_MAX;
        tg_time low_sent = 0;
        for (size_t k = 0; k < o->n; k++)
            if (o->pk[k].seq > o->next && o->pk[k].seq < low) {
                low = o->pk[k].seq;
                low_sent = o->pk[k].sent;
            }
        int fillable = 0;
        for (unsigned u = 0; u < TG_REORDER_MAX_UPLINKS; u++) {
            int active = o->up[u].seen && now - o->up[u].last < o->hold;
            if (active && low_sent != 0 && o->up[u].reach != INT64_MAX) {
                /* idle for hold / 2 and past its reach: it cannot bring it */
                tg_time end = (tg_time)(low_sent + (uint64_t)o->up[u].reach);
                tg_time idle = o->up[u].last + o->hold / 2;
                if (now >= (end > idle ? end : idle))
                    active = 0;
            }
            if (low_sent != 0 && o->up[u].clear > low_sent)
                active = 0; /* it delivered something sent after low */
            if (active && o->up[u].highest <= o->next)
                fillable = 1;
        }
        if (o->next < o->floor)
            o->st.skipped_by_overflow++;
        else if (expired)
            o->st.skipped_by_deadline++;
        else if (!fillable)
            o->st.skipped_by_uplinks++;
        else
            return 0;
        o->st.gaps_skipped++;
        o->next++;
    }
}

/* ---------------------------------------------------------- generators */

/* xorshift64* from testrng.h (xs64, xs_below), seeded per run by splitmix64. */

#define QLEN 512 /* packets in flight per uplink */
#define NUP 6   /* uplinks a run uses (their numbers are spread over 0..15) */

struct flight {
    uint64_t seq;
    tg_time at;
    tg_time sent;
};

/* One uplink of the simulated network: a queue sorted by arrival time. */
struct link {
    unsigned id;      /* uplink number given to push */
    tg_time delay;    /* base one-way delay */
    tg_time jitter;   /* added uniformly at random */
    int fifo;         /* keeps send order (the premise of the uplink rule) */
    int enabled;      /* carries traffic in this phase */
    struct flight q[QLEN];
    size_t n;
};

struct sim {
    uint64_t rng;
    tg_time now;
    uint64_t sent; /* the sender's next number */
    uint64_t burst;   /* numbers sent at a time in this phase */
    tg_time send_gap; /* mean time between sends in this phase */
    tg_time send_at;  /* the next send */
    tg_time hold;
    uint32_t capacity;
    struct link links[NUP];
    struct tg_reorder *r;
    struct naive o;
    uint64_t first;
    long ops;         /* calls into the buffer */
    int failed;
    /* what the run went through, to show it covers the rules */
    uint64_t deadline_pops, early_checks, passed;
};

static void send_on(struct sim *s, struct link *l, uint64_t seq)
{
    if (l->n == QLEN)
        return; /* queue full: lost */
    tg_time at = s->now + l->delay + xs_below(&s->rng, l->jitter + 1);
    if (l->fifo && l->n > 0 && l->q[l->n - 1].at > at)
        at = l->q[l->n - 1].at;
    size_t i = l->n++;
    while (i > 0 && l->q[i - 1].at > at) {
        l->q[i] = l->q[i - 1];
        i--;
    }
    l->q[i].seq = seq;
    l->q[i].at = at;
    l->q[i].sent = s->now + 1; /* never 0, which means unknown */
}

static void new_phase(struct sim *s)
{
    tg_time h = s->hold;
    /* profiles: 0-3 calm striping, 4-5 one uplink far behind, 6-7 the window
     * overflows, 8-9 anything */
    uint64_t profile = xs_below(&s->rng, 10);
    for (size_t i = 0; i < NUP; i++) {
        struct link *l = &s->links[i];
        l->enabled = xs_below(&s->rng, 5) != 0; /* some fall silent */
        l->fifo = xs_below(&s->rng, 8) != 0;
        l->jitter = xs_below(&s->rng, 3) == 0 ? 0 : xs_below(&s->rng, h / 3);
        if (profile < 8) {
            l->fifo = 1;
            l->jitter = xs_below(&s->rng, h / 20);
            l->delay = h / 10 + xs_below(&s->rng, h / 4);
            continue;
        }
        switch (xs_below(&s->rng, 4)) {
        case 0: /* close to the others */
            l->delay = h / 10 + xs_below(&s->rng, h / 10);
            break;
        case 1: /* far behind: gaps outlive max_hold */
            l->delay = h + xs_below(&s->rng, 2 * h);
            break;
        default:
            l->delay = xs_below(&s->rng, h / 2);
        }
    }
    s->links[xs_below(&s->rng, NUP)].enabled = 1;
    /* what each uplink's reach is said to be: unknown, about right, or too
     * short (its late packets are then given up on, in both buffers) */
    for (size_t i = 0; i < NUP; i++) {
        struct link *l = &s->links[i];
        uint64_t k = xs_below(&s->rng, 3);
        int64_t reach = k == 0 ? INT64_MAX
                        : k == 1 ? (int64_t)(l->delay + l->jitter) + 1
                                 : (int64_t)xs_below(&s->rng, l->delay + 1);
        tg_reorder_set_reach(s->r, l->id, reach);
        s->o.up[l->id].reach = reach;
    }
    if (profile == 4 || profile == 5)
        s->links[xs_below(&s->rng, NUP)].delay = h / 2 + xs_below(&s->rng, 2 * h);
    s->burst = 1;
    s->send_gap = 1 + xs_below(&s->rng, h / 8);
    if (profile == 6 || profile == 7 || (profile >= 8 && xs_below(&s->rng, 3) == 0)) {
        s->burst = 2 + xs_below(&s->rng, 6);
        s->send_gap = xs_below(&s->rng, 24);
    }
}

/* Compare one step of both buffers; report the first divergence. */
static void diverged(struct sim *s, const char *what, uint64_t a, uint64_t b)
{
    if (s->failed)
        return;
    s->failed = 1;
    fprintf(stderr,
            "test_reorder: %s differs after %ld operations at t=%" PRIu64 ": real %" PRIu64
            ", naive %" PRIu64 "\n",
            what, s->ops, s->now, a, b);
    CHECK(0 && "the randomised comparison diverged");
}

static void compare_state(struct sim *s)
{
    const struct tg_reorder_stats *st = tg_reorder_stats(s->r);
#define SAME(f)                                                                              \
    if (st->f != s->o.st.f)                                                                  \
        diverged(s, #f, st->f, s->o.st.f);
    SAME(pushed) SAME(released) SAME(in_order) SAME(late) SAME(duplicate) SAME(too_big)
    SAME(gaps_skipped) SAME(skipped_by_deadline) SAME(skipped_by_uplinks)
    SAME(skipped_by_overflow) SAME(occupancy) SAME(peak_occupancy)
#undef SAME
    if (tg_reorder_next_seq(s->r) != s->o.next)
        diverged(s, "next_seq", tg_reorder_next_seq(s->r), s->o.next);
    if ((tg_reorder_next_deadline(s->r) == NEVER) != (s->o.n == 0))
        diverged(s, "emptiness", tg_reorder_next_deadline(s->r), s->o.n);
}

/* One pop of each; returns how many (0 or 1) both released. */
static int pop_both(struct sim *s, tg_time t)
{
    const uint8_t *p1, *p2;
    size_t l1 = 0, l2 = 0;
    uint64_t q1 = 0, q2 = 0;
    int a = tg_reorder_pop(s->r, t, &p1, &l1, &q1);
    int b = naive_pop(&s->o, t, &p2, &l2, &q2);
    s->ops++;
    if (a != b)
        diverged(s, "pop's return", (uint64_t)a, (uint64_t)b);
    else if (a == 1 && (q1 != q2 || l1 != l2 || memcmp(p1, p2, l1) != 0))
        diverged(s, "released packet", q1, q2);
    return a == 1 && b == 1;
}

static int drain_both(struct sim *s, tg_time t)
{
    int k = 0;
    while (!s->failed && pop_both(s, t))
        k++;
    compare_state(s);
    tg_time d = tg_reorder_next_deadline(s->r);
    if (d != NEVER && d <= t)
        diverged(s, "deadline after a drain", d, t);
    return k;
}

static void push_both(struct sim *s, uint64_t seq, unsigned uplink, size_t len, tg_time sent)
{
    static uint8_t pkt[OSLOT + 64];
    fill(pkt, seq, len);
    /* half of them offered: one that skips the buffer is what pop gives next */
    bool offer = xs_below(&s->rng, 2) == 0;
    int a = offer ? tg_reorder_offer(s->r, seq, uplink, pkt, len, s->now, 0, sent)
                  : tg_reorder_push_at(s->r, seq, uplink, pkt, len, s->now, 0, sent);
    int b = naive_push(&s->o, seq, uplink, pkt, len, s->now, sent);
    s->ops++;
    if (a == TG_REORDER_NOW) {
        const uint8_t *p2;
        size_t l2 = 0;
        uint64_t q2 = 0;
        s->passed++;
        if (b != TG_OK || naive_pop(&s->o, s->now, &p2, &l2, &q2) != 1 || q2 != seq ||
            l2 != len || memcmp(p2, pkt, len) != 0)
            diverged(s, "a packet past the buffer", seq, q2);
    } else if (a != b) {
        diverged(s, "push's return", (uint64_t)(int64_t)a, (uint64_t)(int64_t)b);
    }
}

static size_t len_of(uint64_t seq)
{
    return (size_t)((seq * 2654435761u) >> 7) % (OSLOT + 1);
}

/* A probe on an uplink: no number, only its send time (tg_reorder_cleared). */
#define PROBE UINT64_MAX

static void cleared_both(struct sim *s, unsigned uplink, tg_time sent)
{
    tg_reorder_cleared(s->r, uplink, sent);
    if (sent > s->o.up[uplink].clear)
        s->o.up[uplink].clear = sent;
    s->ops++;
}

/* The sender: one new number or a probe, maybe lost, maybe sent twice, now
 * and then after a jump. */
static void send_one(struct sim *s)
{
    uint64_t v = xs_below(&s->rng, 1000);
    if (v < 2)
        s->sent += s->capacity / 2 + xs_below(&s->rng, 2 * (uint64_t)s->capacity);
    struct link *l = &s->links[xs_below(&s->rng, NUP)];
    if (!l->enabled)
        return;
    if (v >= 30 && v < 60) {
        send_on(s, l, PROBE);
        return;
    }
    uint64_t seq = s->sent++;
    if (v < 30)
        return; /* lost */
    send_on(s, l, seq);
    if (v >= 950) /* redundant copy */
        send_on(s, &s->links[xs_below(&s->rng, NUP)], seq);
}

static void run_random(uint64_t seed, uint32_t capacity, uint64_t first, long ops)
{
    struct sim *s = calloc(1, sizeof *s);
    CHECK(s != NULL);
    if (s == NULL)
        return;
    s->rng = splitmix64(&seed) | 1;
    s->hold = 1000 + xs_below(&s->rng, 1000);
    s->capacity = capacity;
    s->first = s->sent = first;
    struct tg_reorder_config c = {capacity, OSLOT, s->hold};
    s->o.capacity = capacity;
    s->o.hold = s->hold;
    s->o.next = s->o.floor = first;
    for (unsigned i = 0; i < TG_REORDER_MAX_UPLINKS; i++)
        s->o.up[i].reach = INT64_MAX;
    s->o.pk = calloc((size_t)capacity + 2, sizeof *s->o.pk);
    CHECK(s->o.pk != NULL);
    if (s->o.pk == NULL) {
        free(s);
        return;
    }
    int rc = tg_reorder_new(&c, NULL, first, &s->r);
    CHECK_EQ(rc, TG_OK);
    if (rc != TG_OK) {
        free(s->o.pk);
        free(s);
        return;
    }
    /* uplink numbers spread over the whole range */
    unsigned ids[TG_REORDER_MAX_UPLINKS];
    for (unsigned i = 0; i < TG_REORDER_MAX_UPLINKS; i++)
        ids[i] = i;
    for (unsigned i = TG_REORDER_MAX_UPLINKS - 1; i > 0; i--) {
        unsigned j = (unsigned)xs_below(&s->rng, i + 1), t = ids[i];
        ids[i] = ids[j];
        ids[j] = t;
    }
    for (size_t i = 0; i < NUP; i++)
        s->links[i].id = ids[i];
    new_phase(s);

    while (s->ops < ops && !s->failed) {
        if (xs_below(&s->rng, 3000) == 0)
            new_phase(s);

        /* the next event: the sender, an arrival, the buffer's deadline, or
         * a timer at some other time */
        struct link *next = NULL;
        for (size_t i = 0; i < NUP; i++) {
            struct link *l = &s->links[i];
            if (l->n > 0 && (next == NULL || l->q[0].at < next->q[0].at))
                next = l;
        }
        tg_time arrival = next != NULL ? next->q[0].at : NEVER;
        tg_time soonest = tg_time_min(arrival, s->send_at);
        tg_time d = tg_reorder_next_deadline(s->r);
        if (d != NEVER && d <= soonest && xs_below(&s->rng, 10) < 8) {
            /* the timer fires: nothing at d - 1, something at d */
            if (xs_below(&s->rng, 2) == 0) {
                s->early_checks++;
                if (pop_both(s, d - 1))
                    diverged(s, "release before the deadline", d - 1, d);
                compare_state(s);
            }
            s->now = d;
            s->deadline_pops++;
            if (drain_both(s, d) == 0)
                diverged(s, "nothing released at the deadline", d, 0);
            continue;
        }
        if (xs_below(&s->rng, 20) == 0) {
            s->now += xs_below(&s->rng, soonest - s->now + 1);
            drain_both(s, s->now);
            continue;
        }
        if (s->send_at <= arrival) {
            s->now = s->send_at;
            for (uint64_t b = 0; b < s->burst; b++)
                send_one(s);
            s->send_at = s->now + xs_below(&s->rng, 2 * s->send_gap + 1);
            continue;
        }

        s->now = arrival;
        uint64_t seq = next->q[0].seq;
        tg_time sent = next->q[0].sent;
        unsigned id = next->id;
        memmove(next->q, next->q + 1, (next->n - 1) * sizeof next->q[0]);
        next->n--;
        if (seq == PROBE) {
            cleared_both(s, id, sent);
            drain_both(s, s->now);
            continue;
        }
        size_t len = len_of(seq);
        uint64_t w = xs_below(&s->rng, 1000);
        if (w < 5)
            len = OSLOT + 1 + (size_t)xs_below(&s->rng, 64); /* too big */
        push_both(s, seq, id, len, w < 500 ? sent : 0);
        drain_both(s, s->now);
        if (w >= 5 && w < 15) {
            /* a stray: an old number, a recent one or a duplicate */
            uint64_t back = xs_below(&s->rng, 3 * (uint64_t)capacity);
            uint64_t stray = seq > first + back ? seq - back : first;
            push_both(s, stray, s->links[xs_below(&s->rng, NUP)].id, len_of(stray), 0);
            drain_both(s, s->now);
        }
        if (w >= 15 && w < 17)
            push_both(s, seq, TG_REORDER_MAX_UPLINKS + (unsigned)xs_below(&s->rng, 8), 1, sent);
    }

    const struct tg_reorder_stats *st = tg_reorder_stats(s->r);
    printf("test_reorder: capacity %" PRIu32 ", first %" PRIu64 ", hold %" PRIu64
           " us: %ld operations, %" PRIu64 " released (%" PRIu64 " in order), skipped %" PRIu64
           " by deadline, %" PRIu64 " by uplinks, %" PRIu64 " by overflow; %" PRIu64
           " late, %" PRIu64 " duplicate, %" PRIu64 " too big; %" PRIu64
           " deadline pops (%" PRIu64 " checked at deadline-1); %" PRIu64
           " past the buffer; peak %" PRIu32 "\n",
           capacity, first, s->hold, s->ops, st->released, st->in_order,
           st->skipped_by_deadline, st->skipped_by_uplinks, st->skipped_by_overflow, st->late,
           st->duplicate, st->too_big, s->deadline_pops, s->early_checks, s->passed,
           st->peak_occupancy);
    /* every rule must have had its turn */
    CHECK(s->passed > 0);
    CHECK(st->skipped_by_deadline > 0);
    CHECK(st->skipped_by_uplinks > 0);
    CHECK(st->skipped_by_overflow > 0);
    CHECK(st->in_order > 0 && st->in_order < st->released);
    CHECK(st->late > 0 && st->duplicate > 0 && st->too_big > 0);
    CHECK(s->early_checks > (uint64_t)ops / 1000);
    CHECK(st->peak_occupancy <= capacity + 1); /* a full window + one forced out */
    check_invariants(s->r, first, 0);

    tg_reorder_free(s->r);
    free(s->o.pk);
    free(s);
}

int main(int argc, char **argv)
{
    uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 0x7269676c6176u;
    printf("test_reorder: seed 0x%" PRIx64 "\n", seed);
    test_tables();
    test_config();
    uint64_t x = seed;
    run_random(splitmix64(&x), 64, 0, 1000000);
    run_random(splitmix64(&x), 64, UINT64_MAX - ((uint64_t)1 << 32), 200000);
    run_random(splitmix64(&x), 1024, ((uint64_t)1 << 63) + 12345, 300000);
    return check_exit("test_reorder");
}
