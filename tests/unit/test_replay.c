/*
 * Replay filter: a table of (counter, expected) rows applied in order, as in
 * WireGuard's replay-counter self-test, then a long randomised comparison
 * against a deliberately naive filter that writes the acceptance rule of
 * replay.h literally over an array of "seen" flags.
 *
 *   test_replay [seed]   (the seed is printed; pass it back to replay a run)
 */
#include "check.h"
#include "testrng.h"
#include "core/replay.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define W     ((uint64_t)TG_REPLAY_WINDOW)
#define LIMIT ((uint64_t)TG_REPLAY_COUNTER_LIMIT)
/* Counters the ring covers: WINDOW plus the spare block. */
#define RING (W + 64)

/* ---------------------------------------------------------------- table */

struct row {
    int fresh;        /* 1: start a new window (tg_replay_init), no counter */
    uint64_t counter; /* counter passed to check and accept */
    int want;         /* expected return of both */
    int line;         /* source line of the row, for failure messages */
};

/* clang-format off */
#define FRESH     {1, 0, 0, __LINE__}
#define OK(c)     {0, (c), TG_OK, __LINE__}
#define REPLAY(c) {0, (c), TG_ERR_REPLAY, __LINE__}
#define SPENT(c)  {0, (c), TG_ERR_COUNTER_LIMIT, __LINE__}
/* clang-format on */

/* Top of the block-aligned probes below; 64000 is the first counter of block
 * 1000. */
#define B ((uint64_t)64000)
/* B + 128 + W: block-aligned again (block 1130). */
#define T2 (B + 128 + W)
/* First counter of block 2000: its window reaches back into block 1872. */
#define S ((uint64_t)128000)
/* Walk over many windows in steps that are neither whole blocks nor rings. */
#define P(n)    (S + 63 + 5000 * (uint64_t)(n))
#define STEP(n) OK(P(n)), REPLAY(P((n)-1)), OK(P(n) - 1), REPLAY(P(n) - W)
#define BIG     ((uint64_t)1 << 40)

static const struct row rows[] = {
    FRESH,
    /* in order from 0, duplicates, out of order inside the window */
    OK(0), /* 0 is a valid first counter */
    REPLAY(0),
    OK(1),
    REPLAY(1),
    OK(2),
    OK(3),
    OK(9),
    OK(8),
    OK(4),
    OK(7),
    REPLAY(7), /* recent duplicate */
    REPLAY(3), /* older duplicate */
    OK(5),
    OK(6),
    OK(10),
    REPLAY(9),
    OK(20),
    /* window edge: with top = W + 11 the window is 12 .. W + 11 */
    OK(W + 11),
    REPLAY(11), /* top - c == W: just outside */
    OK(12),     /* top - c == W - 1: the oldest counter inside */
    REPLAY(12),
    OK(13),
    OK(W + 12),
    REPLAY(13), /* still inside (top - c == W - 1) and seen */
    REPLAY(0),  /* too old */
    REPLAY(20), /* seen, inside */
    OK(21),
    REPLAY(W + 12), /* the top itself */
    OK(W + 10),
    REPLAY(W + 10),
    REPLAY(W + 11),
    /* forward jump of more than 2x the window */
    OK(3 * W + 100),
    REPLAY(W + 12),      /* the old top */
    REPLAY(2 * W + 100), /* top - c == W */
    OK(2 * W + 101),     /* top - c == W - 1, never seen */
    REPLAY(2 * W + 101),
    OK(2 * W + 102),
    OK(3 * W + 99),
    REPLAY(3 * W + 99),
    OK(3 * W + 50),
    REPLAY(3 * W + 100),
    /* forward jump of more than the window, less than 2x */
    OK(4 * W + 200),
    REPLAY(3 * W + 100),
    REPLAY(3 * W + 200),
    OK(3 * W + 201),
    REPLAY(3 * W + 201),
    /* block boundaries */
    OK(B - 1), /* last counter of block 999 */
    REPLAY(4 * W + 200),
    OK(B), /* first counter of block 1000 */
    OK(B + 63),
    OK(B + 64),  /* top crosses into the next block */
    OK(B + 128), /* jump of exactly 64 */
    REPLAY(B + 64),
    REPLAY(B + 63),
    REPLAY(B),
    REPLAY(B - 1),
    OK(B + 1),
    OK(B + 65),
    OK(B + 127),
    /* jump of exactly the window (128 blocks: one slot keeps its bits) */
    OK(T2),
    REPLAY(B + 128), /* top - c == W; its bit lingers, the distance rules */
    OK(B + 129),
    REPLAY(B + 129),
    REPLAY(B + 1),
    /* jump of exactly the ring (129 blocks): the new top block reuses the
     * old top block's slot, which must be cleared */
    OK(T2 + 1),
    OK(T2 + RING + 5),
    OK(T2 + RING + 1), /* a stale bit of T2 + 1 would refuse it */
    OK(T2 + RING),     /* a stale bit of T2 would refuse it */
    REPLAY(T2 + RING + 1),
    REPLAY(T2 + RING),
    /* top at the first counter of a block: the window then touches 129
     * blocks, the oldest (block 1872) only in counters 1..63. Only the spare
     * block keeps it apart from the top block's slot. */
    OK(S - W + 1),
    OK(S - W + 3),
    OK(S),
    REPLAY(S - W + 1), /* seen, the oldest counter inside */
    OK(S - W + 2),
    REPLAY(S - W + 3),
    REPLAY(S - W), /* too old */
    OK(S + 63),    /* top moves within its block: nothing cleared */
    REPLAY(S - W + 63),
    OK(S - W + 64),
    REPLAY(S - W + 64),
    /* ring wraparound: a walk over ~5 windows */
    STEP(1),
    STEP(2),
    STEP(3),
    STEP(4),
    STEP(5),
    STEP(6),
    STEP(7),
    STEP(8),
    REPLAY(P(7) - 1),
    REPLAY(P(8) - 1),
    OK(P(8) - 2),
    /* counter exhaustion */
    OK(LIMIT - 1), /* the last usable counter */
    REPLAY(LIMIT - 1),
    SPENT(LIMIT),
    SPENT(LIMIT + 1),
    SPENT(UINT64_MAX - 1),
    SPENT(UINT64_MAX), /* the spec's reserved nonce */
    OK(LIMIT - 2),
    OK(LIMIT - W), /* top - c == W - 1 */
    REPLAY(LIMIT - W - 1),
    REPLAY(LIMIT - 2),
    SPENT(LIMIT),
    /* a fresh window accepting a large first counter */
    FRESH,
    SPENT(UINT64_MAX), /* refused without recording anything */
    SPENT(LIMIT),
    OK(BIG),
    REPLAY(BIG),
    OK(BIG - 1),
    REPLAY(0),
    REPLAY(BIG - W),
    OK(BIG - W + 1),
    OK(BIG + 1),
    FRESH,
    OK(LIMIT - 1), /* the very first counter may be the last usable one */
    REPLAY(LIMIT - 1),
    OK(LIMIT - W),
    REPLAY(LIMIT - W - 1),
    REPLAY(0),
    FRESH,
    OK(W), /* first counter W: window 1 .. W */
    OK(1),
    REPLAY(0),
    OK(W - 1),
    FRESH,
    OK(5), /* counters below the first one are still inside its window */
    OK(0),
    OK(4),
    REPLAY(0),
    REPLAY(5),
    OK(6),
};

static void test_table(void)
{
    struct tg_replay r, before;
    tg_replay_init(&r);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *w = &rows[i];
        if (w->fresh) {
            tg_replay_init(&r);
            continue;
        }
        before = r;
        int c1 = tg_replay_check(&r, w->counter);
        int c2 = tg_replay_check(&r, w->counter);
        int unchanged_by_check = memcmp(&before, &r, sizeof r) == 0;
        int a = tg_replay_accept(&r, w->counter);
        int unchanged_by_accept = memcmp(&before, &r, sizeof r) == 0;
        if (c1 != w->want || c2 != w->want || a != w->want || !unchanged_by_check ||
            (w->want != TG_OK && !unchanged_by_accept))
            fprintf(stderr,
                    "%s:%d: row %zu, counter %" PRIu64 ": check %d, %d, accept %d, want %d\n",
                    __FILE__, w->line, i, w->counter, c1, c2, a, w->want);
        CHECK_EQ(c1, w->want);
        CHECK_EQ(c2, c1);
        CHECK(unchanged_by_check);
        CHECK_EQ(a, w->want);
        if (w->want != TG_OK)
            CHECK(unchanged_by_accept);
    }
}

/* A zeroed and an initialised filter are the same state. */
static void test_init(void)
{
    struct tg_replay r, zero;
    memset(&r, 0xa5, sizeof r);
    memset(&zero, 0, sizeof zero);
    tg_replay_init(&r);
    CHECK_MEM(&r, &zero, sizeof r);
    CHECK_EQ(tg_replay_check(&r, 0), TG_OK);
    CHECK_EQ(tg_replay_check(&r, LIMIT - 1), TG_OK);
    CHECK_EQ(tg_replay_check(&r, LIMIT), TG_ERR_COUNTER_LIMIT);
    CHECK_MEM(&r, &zero, sizeof r);
}

/* ----------------------------------------------------- naive reference */

/* Offsets from a per-run base; the generators never leave this range. */
#define NAIVE_RANGE ((uint64_t)1 << 22)
static uint8_t naive_seen[NAIVE_RANGE];

struct naive {
    uint64_t base; /* counter of naive_seen[0] */
    uint64_t used; /* naive_seen[0 .. used) may hold ones */
    int any;       /* something accepted yet */
    uint64_t top;  /* highest accepted counter, if any */
};

static void naive_init(struct naive *n, uint64_t base)
{
    memset(naive_seen, 0, (size_t)n->used);
    n->base = base;
    n->used = 0;
    n->any = 0;
    n->top = 0;
}

/* The rule of replay.h, word for word. */
static int naive_check(const struct naive *n, uint64_t c)
{
    if (c >= LIMIT)
        return TG_ERR_COUNTER_LIMIT;
    if (!n->any)
        return TG_OK;
    if (c > n->top)
        return TG_OK;
    if (n->top - c < W && !naive_seen[c - n->base])
        return TG_OK;
    return TG_ERR_REPLAY;
}

static int naive_accept(struct naive *n, uint64_t c)
{
    int err = naive_check(n, c);
    if (err != TG_OK)
        return err;
    naive_seen[c - n->base] = 1;
    if (c - n->base + 1 > n->used)
        n->used = c - n->base + 1;
    if (!n->any || c > n->top)
        n->top = c;
    n->any = 1;
    return TG_OK;
}

/* ---------------------------------------------------------- generators */

/* xorshift64* from testrng.h (xs64, xs_below), seeded per run by splitmix64. */

#define HIST    256
#define PENDING 16

struct gen {
    uint64_t rng;
    uint64_t pos;              /* the sender's position, as an offset */
    uint64_t hist[HIST];       /* offsets emitted lately, for duplicates */
    uint64_t nhist;            /* offsets emitted since the restart */
    uint64_t pending[PENDING]; /* in flight, for local reordering */
};

static uint64_t back(uint64_t pos, uint64_t k)
{
    return k > pos ? 0 : pos - k;
}

static uint64_t dup(struct gen *g)
{
    if (g->nhist == 0)
        return g->pos;
    uint64_t n = g->nhist < HIST ? g->nhist : HIST;
    return g->hist[(g->nhist - 1 - xs_below(&g->rng, n)) % HIST];
}

/* A sender counting up, a network holding packets back by a few places,
 * an occasional straggler and an occasional duplicate. */
static uint64_t gen_inorder(struct gen *g)
{
    uint64_t u = xs_below(&g->rng, 100);
    if (u < 2)
        return dup(g);
    if (u < 3)
        return back(g->pos, xs_below(&g->rng, W + 256));
    size_t i = (size_t)xs_below(&g->rng, PENDING);
    uint64_t out = g->pending[i];
    g->pending[i] = g->pos++;
    return out;
}

/* Jumps forward of up to three windows, probes backward inside and beyond
 * the window and around its edge. */
static uint64_t gen_jumps(struct gen *g)
{
    uint64_t u = xs_below(&g->rng, 100);
    if (u < 30)
        return g->pos += 1 + xs_below(&g->rng, 64);
    if (u < 45)
        return g->pos += xs_below(&g->rng, 3 * W);
    if (u < 50)
        return g->pos += 64 * (1 + xs_below(&g->rng, 2 * (RING / 64)));
    if (u < 80)
        return back(g->pos, xs_below(&g->rng, 2 * W));
    if (u < 90)
        return back(g->pos, W - 2 + xs_below(&g->rng, 4));
    return dup(g);
}

/* Mostly duplicates, recent and older, over a slowly advancing sender. */
static uint64_t gen_dups(struct gen *g)
{
    uint64_t u = xs_below(&g->rng, 100);
    if (u < 50)
        return dup(g);
    if (u < 60)
        return back(g->pos, xs_below(&g->rng, 3 * W));
    g->pos += xs_below(&g->rng, 4);
    return back(g->pos, xs_below(&g->rng, 32));
}

/* Steps and probes at block, window and ring distances, +-1. */
static uint64_t gen_blocks(struct gen *g)
{
    /* clang-format off */
    static const uint64_t steps[] = {
        1, 63, 64, 65, 127, 128, 129,                    /* blocks */
        W - 64, W - 1, W, W + 1, W + 63, W + 64, W + 65, /* window, ring */
        2 * W, 2 * RING, 2 * RING + 1, 3 * RING - 1,     /* several */
    };
    /* clang-format on */
    uint64_t u = xs_below(&g->rng, 100);
    if (u < 25)
        return g->pos += steps[xs_below(&g->rng, sizeof steps / sizeof steps[0])];
    if (u < 35) {
        /* to the first or last counter of a later block */
        g->pos = (g->pos / 64 + 1 + xs_below(&g->rng, 3)) * 64 - xs_below(&g->rng, 2);
        return g->pos;
    }
    if (u < 55)
        return back(g->pos, W - 1 + xs_below(&g->rng, 2));
    if (u < 75)
        return back(g->pos + 1, 64 * xs_below(&g->rng, RING / 64 + 1) + xs_below(&g->rng, 3));
    return back(g->pos, xs_below(&g->rng, W));
}

/* Offsets of the run near exhaustion: base + NAIVE_RANGE - 1 == UINT64_MAX. */
#define NEAR_BASE (UINT64_MAX - (NAIVE_RANGE - 1))
#define LIMIT_OFF (LIMIT - NEAR_BASE)

/* A sender running into TG_REPLAY_COUNTER_LIMIT and past it. */
static uint64_t gen_limit(struct gen *g)
{
    uint64_t u = xs_below(&g->rng, 100);
    if (u < 40)
        return g->pos += xs_below(&g->rng, 64);
    if (u < 80)
        return back(g->pos, xs_below(&g->rng, W + W / 2));
    if (u < 90)
        return NAIVE_RANGE - 1 - xs_below(&g->rng, W + 64); /* LIMIT .. UINT64_MAX, and below */
    return dup(g);
}

struct dist {
    const char *name;
    uint64_t base;  /* counter of offset 0 */
    uint64_t start; /* the sender starts at start + xs_below(start_span) */
    uint64_t start_span;
    uint64_t (*next)(struct gen *g);
};

static const struct dist dists[] = {
    {"in order, local shuffles", 0, 0, 1, gen_inorder},
    {"jumps forward and back", 0, 0, 3 * W, gen_jumps},
    {"duplicates", (uint64_t)1 << 32, 0, W, gen_dups},
    {"block and ring distances", 12345, 0, 64, gen_blocks},
    {"at the counter limit", NEAR_BASE, LIMIT_OFF - 4 * W, 2 * W, gen_limit},
};

#define OPS_PER_DIST 300000u

/* the randomised comparison runs at least a million operations in all */
_Static_assert(sizeof dists / sizeof dists[0] * OPS_PER_DIST >= 1000000,
               "too few randomised operations");

static void restart(struct gen *g, const struct dist *d, struct naive *nv, struct tg_replay *r)
{
    g->pos = d->start + xs_below(&g->rng, d->start_span);
    g->nhist = 0;
    for (size_t i = 0; i < PENDING; i++)
        g->pending[i] = g->pos;
    naive_init(nv, d->base);
    tg_replay_init(r);
}

static void report(const struct dist *d, uint64_t step, const char *what, uint64_t c, int got,
                   int want)
{
    fprintf(stderr,
            "random \"%s\": step %" PRIu64 ": %s(%" PRIu64 " = base + %" PRIu64
            ") returned %d, naive says %d\n",
            d->name, step, what, c, c - d->base, got, want);
}

static void test_random(uint64_t seed)
{
    static struct naive nv; /* static: naive_init clears what `used` says */
    struct tg_replay r, before;

    for (size_t di = 0; di < sizeof dists / sizeof dists[0]; di++) {
        const struct dist *d = &dists[di];
        struct gen g;
        uint64_t sm = seed ^ (0x100000001b3u * (di + 1));
        g.rng = splitmix64(&sm) | 1;
        restart(&g, d, &nv, &r);

        uint64_t bad = 0, n_ok = 0, n_replay = 0, n_limit = 0, restarts = 0;
        for (uint64_t step = 0; step < OPS_PER_DIST;) {
            uint64_t off = d->next(&g);
            if (off >= NAIVE_RANGE) {
                /* the run left the naive range: a new session */
                restart(&g, d, &nv, &r);
                restarts++;
                continue;
            }
            g.hist[g.nhist++ % HIST] = off;
            uint64_t c = d->base + off;

            /* One op in ten only checks, like a packet whose tag fails. */
            int check_only = xs_below(&g.rng, 10) == 0;
            before = r;
            int want = naive_check(&nv, c);
            int got = tg_replay_check(&r, c);
            if (got != want) {
                report(d, step, "check", c, got, want);
                bad++;
            }
            if (memcmp(&before, &r, sizeof r) != 0) {
                report(d, step, "check changed the state:", c, got, want);
                bad++;
            }
            if (!check_only) {
                want = naive_accept(&nv, c);
                got = tg_replay_accept(&r, c);
                if (got != want) {
                    report(d, step, "accept", c, got, want);
                    bad++;
                }
                if (want != TG_OK && memcmp(&before, &r, sizeof r) != 0) {
                    report(d, step, "refusing accept changed the state:", c, got, want);
                    bad++;
                }
            }
            n_ok += want == TG_OK;
            n_replay += want == TG_ERR_REPLAY;
            n_limit += want == TG_ERR_COUNTER_LIMIT;
            step++;
        }
        printf("  %-26s %u ops: %" PRIu64 " accepted, %" PRIu64 " replays, %" PRIu64
               " at limit, %" PRIu64 " restarts, %" PRIu64 " disagreements\n",
               d->name, OPS_PER_DIST, n_ok, n_replay, n_limit, restarts, bad);
        CHECK_EQ(bad, 0);
        /* each distribution must exercise both outcomes in bulk */
        CHECK(n_ok > OPS_PER_DIST / 100);
        CHECK(n_replay > OPS_PER_DIST / 100);
        if (d->next == gen_limit)
            CHECK(n_limit > OPS_PER_DIST / 100);
    }
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x7467726570u; /* "tgrep" */
    if (argc > 1)
        seed = strtoull(argv[1], NULL, 0);
    printf("test_replay: seed 0x%" PRIx64 "\n", seed);

    test_init();
    test_table();
    test_random(seed);
    return check_exit("test_replay");
}
