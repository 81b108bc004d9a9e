#include "reorder.h"

#include <string.h>

/*
 * Storage. A buffered packet lives in a node (capacity + 1 of them, each with
 * slot_bytes of storage); ring[seq & mask] names the node holding seq. The
 * sequence numbers that may be buffered lie in [next, base + capacity), where
 * base >= next is the lowest number not yet given up on. Inside
 * [base, base + capacity) two numbers never share a ring slot. Packets below
 * base were forced out by a slide and are ready: the pops that follow hand
 * them out first. A slide can want the ring slot of such a packet; it then
 * moves to `extra`, the one node outside the ring, which is why there is one
 * node more than slots. A caller that drains pop after every push (the
 * contract) needs extra at most once between drains; a second collision
 * before a drain drops the lower of the two forced-out packets.
 *
 * Per-packet work is O(1) except two forward walks: `contig` (every number in
 * [next, contig) is buffered) and the search for the lowest buffered number
 * after a release. Both only move forward over numbers they never see again
 * (only a drop, which the contract rules out, sets contig back), and the
 * search falls back to one pass over the live packets after `capacity`
 * steps, which those steps pay for. Gap runs are skipped as whole
 * intervals, so a jump of 2^40 costs what a jump of 2 does.
 *
 * The arrival lists are doubly linked lists of live nodes in arrival order
 * (arrival times never decrease), one of packets and one of marks (numbers
 * pushed without a packet), so the packets' head is the oldest packet for
 * the max_hold rule (a mark holds nothing back: nothing waits in it) and
 * removal from the middle is O(1).
 */

#define NONE   UINT32_MAX
#define NO_SEQ UINT64_MAX /* never buffered: push refuses it */

struct node {
    uint64_t seq;
    tg_time arrival;
    tg_time not_before; /* released no sooner (playout); 0: at once */
    tg_time sent;       /* send time on the peer's clock; 0: unknown */
    uint32_t len;
    uint32_t prev, next; /* arrival list; NONE at the ends */
    uint8_t gapless;     /* nothing was missing before it when it arrived */
    uint8_t mark;        /* pushed without a packet: on the marks' list */
};

struct uplink {
    uint64_t highest; /* highest sequence number delivered */
    tg_time last;     /* time of the latest delivery */
    int64_t reach;    /* what is sent at s arrives by s + reach or never
                         (tg_reorder_set_reach); INT64_MAX: unknown */
    tg_time clear;    /* peer send time of the newest datagram it delivered:
                         what it carried that was sent before is in */
    uint8_t seen;     /* delivered anything yet */
};

struct tg_reorder {
    struct tg_reorder_config cfg;
    struct tg_allocator alloc; /* zeroed: the C library (alloc.h) */
    uint32_t mask;

    uint64_t next;   /* lowest number not yet released or skipped */
    uint64_t base;   /* lowest number not given up on; >= next */
    uint64_t contig; /* [next, contig) all buffered (after max with next) */
    uint64_t lowest; /* lowest buffered number; NO_SEQ when empty */

    uint32_t *ring;  /* capacity entries: node index or NONE */
    uint32_t *spare; /* stack of free node indexes */
    uint32_t nspare;
    uint32_t extra;      /* node of a forced-out packet outside the ring, or NONE */
    uint32_t head[2], tail[2]; /* arrival lists: packets, marks */
    struct node *nodes;  /* capacity + 1 */
    uint8_t *bytes;      /* (capacity + 1) * slot_bytes */

    struct uplink up[TG_REORDER_MAX_UPLINKS];
    uint32_t alive; /* uplinks the host says can still deliver (tg_reorder_set_alive) */
    struct hold {
        uint64_t seq, end; /* gaps [seq, end) whose packets are being sent again ... */
        tg_time until;     /* ... which the uplinks rule leaves alone until then */
        uint32_t tries;    /* times it was held (a run: 0, never asked for again) */
    } holds[TG_REORDER_HOLDS];
    uint32_t n_holds;
    struct tg_reorder_stats st;
};

void tg_reorder_config_default(struct tg_reorder_config *c)
{
    c->capacity = 2048;
    c->slot_bytes = 2048;
    c->max_hold_us = TG_MSEC(500);
}

void tg_reorder_free(struct tg_reorder *r)
{
    if (r == NULL)
        return;
    const struct tg_allocator *a = &r->alloc;
    tg_alloc_free(a, r->ring);
    tg_alloc_free(a, r->spare);
    tg_alloc_free(a, r->nodes);
    tg_alloc_free(a, r->bytes);
    tg_alloc_free(a, r);
}

int tg_reorder_new(const struct tg_reorder_config *c, const struct tg_allocator *a,
                   uint64_t first_seq, struct tg_reorder **out)
{
    if (out == NULL)
        return TG_ERR_INVAL;
    *out = NULL;
    if (c == NULL || c->capacity < 2 || (c->capacity & (c->capacity - 1)) != 0 ||
        c->slot_bytes == 0 || c->max_hold_us == 0)
        return TG_ERR_INVAL;
    size_t nodes = (size_t)c->capacity + 1;
    if (nodes > SIZE_MAX / c->slot_bytes || nodes > SIZE_MAX / sizeof(struct node))
        return TG_ERR_NOMEM;

    struct tg_reorder *r = tg_alloc_zeroed(a, sizeof *r);
    if (r == NULL)
        return TG_ERR_NOMEM;
    if (a != NULL)
        r->alloc = *a;
    r->ring = tg_alloc_zeroed(a, (size_t)c->capacity * sizeof *r->ring);
    r->spare = tg_alloc_zeroed(a, nodes * sizeof *r->spare);
    r->nodes = tg_alloc_zeroed(a, nodes * sizeof *r->nodes);
    r->bytes = tg_alloc_zeroed(a, nodes * c->slot_bytes);
    if (r->ring == NULL || r->spare == NULL || r->nodes == NULL || r->bytes == NULL) {
        tg_reorder_free(r);
        return TG_ERR_NOMEM;
    }
    r->cfg = *c;
    r->mask = c->capacity - 1;
    r->next = r->base = r->contig = first_seq;
    r->lowest = NO_SEQ;
    for (uint32_t i = 0; i < c->capacity; i++)
        r->ring[i] = NONE;
    for (uint32_t i = 0; i <= c->capacity; i++)
        r->spare[i] = c->capacity - i; /* node 0 on top: nothing depends on it */
    r->nspare = c->capacity + 1;
    r->extra = NONE;
    r->head[0] = r->tail[0] = r->head[1] = r->tail[1] = NONE;
    for (unsigned i = 0; i < TG_REORDER_MAX_UPLINKS; i++)
        r->up[i].reach = INT64_MAX;
    *out = r;
    return TG_OK;
}

static uint8_t *node_bytes(const struct tg_reorder *r, uint32_t n)
{
    return r->bytes + (size_t)n * r->cfg.slot_bytes;
}

/* The node holding `seq`, or NONE. */
static uint32_t find(const struct tg_reorder *r, uint64_t seq)
{
    uint32_t n = r->ring[seq & r->mask];
    if (n != NONE && r->nodes[n].seq == seq)
        return n;
    if (r->extra != NONE && r->nodes[r->extra].seq == seq)
        return r->extra;
    return NONE;
}

static void unlink_node(struct tg_reorder *r, uint32_t n)
{
    struct node *x = &r->nodes[n];
    if (x->prev != NONE)
        r->nodes[x->prev].next = x->next;
    else
        r->head[x->mark] = x->next;
    if (x->next != NONE)
        r->nodes[x->next].prev = x->prev;
    else
        r->tail[x->mark] = x->prev;
}

/* Take node n out of the ring or extra, the arrival list and the count. */
static void remove_node(struct tg_reorder *r, uint32_t n)
{
    uint64_t seq = r->nodes[n].seq;
    if (r->extra == n)
        r->extra = NONE;
    else
        r->ring[seq & r->mask] = NONE;
    unlink_node(r, n);
    r->spare[r->nspare++] = n;
    r->st.occupancy--;
}

/* The lowest buffered number at or above `from`, which is below every
 * buffered number except possibly ones at or above it. */
static uint64_t lowest_from(const struct tg_reorder *r, uint64_t from)
{
    if (r->st.occupancy == 0)
        return NO_SEQ;
    /* A live number >= from exists and is <= UINT64_MAX - 1, so `from + k`
     * does not wrap before it is found. */
    for (uint32_t k = 0; k < r->cfg.capacity; k++)
        if (find(r, from + k) != NONE)
            return from + k;
    uint64_t low = NO_SEQ;
    for (int l = 0; l < 2; l++)
        for (uint32_t n = r->head[l]; n != NONE; n = r->nodes[n].next)
            if (r->nodes[n].seq < low)
                low = r->nodes[n].seq;
    return low;
}

/* A forced-out packet must leave ring slot `i` for a newcomer. It moves to
 * extra; when extra is taken (a second collision before a drain, which the
 * contract rules out) the lower of the two is dropped and pop will skip its
 * number. */
static void evict_from_slot(struct tg_reorder *r, uint32_t i)
{
    uint32_t s = r->ring[i], e = r->extra;
    if (e == NONE) {
        r->extra = s;
        r->ring[i] = NONE;
        return;
    }
    uint64_t dropped;
    if (r->nodes[e].seq < r->nodes[s].seq) {
        dropped = r->nodes[e].seq;
        remove_node(r, e); /* clears extra */
        r->extra = s;
        r->ring[i] = NONE;
    } else {
        dropped = r->nodes[s].seq;
        remove_node(r, s); /* clears ring[i] */
    }
    if (dropped < r->contig)
        r->contig = dropped;
    if (dropped == r->lowest)
        r->lowest = lowest_from(r, dropped);
}

int tg_reorder_push(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                    size_t len, tg_time now)
{
    return tg_reorder_push_at(r, seq, uplink, pkt, len, now, 0, 0);
}

static int push(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt, size_t len,
                tg_time now, tg_time not_before, tg_time sent, bool may_pass)
{
    bool anywhere = uplink == TG_REORDER_NO_UPLINK && pkt == NULL;
    if ((uplink >= TG_REORDER_MAX_UPLINKS && !anywhere) || seq == NO_SEQ ||
        (pkt == NULL && len > 0))
        return TG_ERR_INVAL;
    r->st.pushed++;

    /* Every delivery counts for the uplink rule, kept or not: the uplink has
     * shown where in the sequence it is. */
    if (!anywhere) {
        struct uplink *u = &r->up[uplink];
        if (!u->seen || seq > u->highest)
            u->highest = seq;
        u->last = now;
        u->seen = 1;
        if (sent > u->clear)
            u->clear = sent;
    }

    if (len > r->cfg.slot_bytes) {
        r->st.too_big++;
        return TG_ERR_NOBUF;
    }
    if (seq < r->next) {
        r->st.late++;
        return TG_ERR_REPLAY;
    }
    if (find(r, seq) != NONE) {
        r->st.duplicate++;
        return TG_ERR_REPLAY;
    }
    if (seq < r->base) {
        r->st.late++; /* given up on by a slide */
        return TG_ERR_REPLAY;
    }
    if (may_pass && r->st.occupancy == 0 && seq == r->next && now >= not_before) {
        /* next in line with nothing waiting: what pop would do at once */
        r->st.released++;
        r->st.in_order++;
        if (r->st.peak_occupancy == 0)
            r->st.peak_occupancy = 1; /* as held for that instant */
        r->next = seq + 1;
        r->base = r->next;
        r->contig = r->next;
        return TG_REORDER_NOW;
    }

    if (seq - r->base >= r->cfg.capacity)
        r->base = seq - r->cfg.capacity + 1; /* the window slides */
    uint32_t i = (uint32_t)(seq & r->mask);
    if (r->ring[i] != NONE)
        evict_from_slot(r, i); /* its packet is below base now */

    if (r->contig < r->next)
        r->contig = r->next;
    while (find(r, r->contig) != NONE)
        r->contig++;

    uint32_t n = r->spare[--r->nspare];
    struct node *x = &r->nodes[n];
    x->seq = seq;
    x->arrival = now;
    x->not_before = not_before;
    x->sent = sent;
    x->len = (uint32_t)len;
    x->gapless = seq == r->contig;
    x->mark = pkt == NULL;
    x->prev = r->tail[x->mark];
    x->next = NONE;
    if (x->prev != NONE)
        r->nodes[x->prev].next = n;
    else
        r->head[x->mark] = n;
    r->tail[x->mark] = n;
    if (len > 0)
        memcpy(node_bytes(r, n), pkt, len);
    r->ring[i] = n;

    if (seq < r->lowest)
        r->lowest = seq;
    if (++r->st.occupancy > r->st.peak_occupancy)
        r->st.peak_occupancy = r->st.occupancy;
    return TG_OK;
}

int tg_reorder_push_at(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                       size_t len, tg_time now, tg_time not_before, tg_time sent)
{
    return push(r, seq, uplink, pkt, len, now, not_before, sent, false);
}

int tg_reorder_offer(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                     size_t len, tg_time now, tg_time not_before, tg_time sent)
{
    return push(r, seq, uplink, pkt, len, now, not_before, sent, true);
}

/* When the oldest packet has waited max_hold_us (TG_TIME_NEVER: only
 * marks are buffered). */
static tg_time hold_end(const struct tg_reorder *r)
{
    uint32_t n = r->head[0];
    return n == NONE ? TG_TIME_NEVER : tg_time_add(r->nodes[n].arrival, r->cfg.max_hold_us);
}

/* Give up on the numbers [next, to). */
static void skip(struct tg_reorder *r, uint64_t to, uint64_t *reason)
{
    uint64_t k = to - r->next;
    r->st.gaps_skipped += k;
    *reason += k;
    r->next = to;
}

/* The lowest gap at or above `from` held at `now` (NO_SEQ: none), and the
 * latest end of the holds below `below`; expired holds and ones already
 * passed are dropped. */
static uint64_t lowest_hold(struct tg_reorder *r, uint64_t from, uint64_t below, tg_time now,
                            tg_time *until)
{
    uint64_t low = NO_SEQ;
    *until = 0;
    for (uint32_t i = 0; i < r->n_holds;) {
        struct hold *h = &r->holds[i];
        if (h->end <= from || now >= h->until) {
            *h = r->holds[--r->n_holds];
            continue;
        }
        uint64_t gap = h->seq < from ? from : h->seq;
        if (gap < low)
            low = gap;
        if (gap < below && h->until > *until)
            *until = h->until;
        i++;
    }
    return low;
}

/* When uplink u can no longer deliver a packet sent no later than `sent`
 * (peer clock; 0: unknown): TG_TIME_NEVER when that is not known. At once
 * (0) when it delivered a datagram sent after it: it delivers in send
 * order. Otherwise from its reach, and only once it has delivered nothing
 * for max_hold_us / 2: one that was carrying the stream and fell silent
 * may be late rather than idle (a route's delay that jumps), and is waited
 * for as before. */
static tg_time reach_end(const struct tg_reorder *r, const struct uplink *u, tg_time sent)
{
    if (sent != 0 && u->clear > sent)
        return 0;
    if (sent == 0 || u->reach == INT64_MAX)
        return TG_TIME_NEVER;
    tg_time end = (tg_time)(sent + (uint64_t)u->reach); /* reach carries the clocks' offset */
    if (u->seen) {
        tg_time idle = tg_time_add(u->last, r->cfg.max_hold_us / 2);
        end = end > idle ? end : idle;
    }
    return end;
}

/* Lowest sequence number delivered by an uplink that may still fill the gaps
 * below the packet sent at `sent`; every gap below it is one that no such
 * uplink can still fill. UINT64_MAX when there is none. */
static uint64_t active_floor(const struct tg_reorder *r, tg_time now, tg_time sent)
{
    uint64_t h = UINT64_MAX;
    for (unsigned i = 0; i < TG_REORDER_MAX_UPLINKS; i++) {
        const struct uplink *u = &r->up[i];
        bool alive = (r->alive >> i) & 1u;
        if (!alive && !u->seen)
            continue;
        if (now >= reach_end(r, u, sent))
            continue; /* whatever it still carries was sent later */
        if (alive && !u->seen)
            return 0; /* it may still deliver anything */
        if (alive || now < tg_time_add(u->last, r->cfg.max_hold_us))
            h = u->highest < h ? u->highest : h;
    }
    return h;
}

int tg_reorder_pop(struct tg_reorder *r, tg_time now, const uint8_t **pkt, size_t *len,
                   uint64_t *seq)
{
    if (r->st.occupancy == 0)
        return 0;
    uint64_t low = r->lowest; /* > next exactly when next is a gap */

    /* The gap run [next, low) is given up on from the left, by the first
     * rule that applies: overflow, then max_hold, then the uplinks. */
    if (r->next < r->base)
        skip(r, r->base < low ? r->base : low, &r->st.skipped_by_overflow);
    if (r->next < low) {
        if (now >= hold_end(r)) {
            skip(r, low, &r->st.skipped_by_deadline);
        } else {
            uint64_t h = active_floor(r, now, r->nodes[find(r, low)].sent);
            tg_time until;
            uint64_t held = lowest_hold(r, r->next, low, now, &until);
            if (held < h)
                h = held; /* its packet is on its way again */
            if (h > r->next)
                skip(r, h < low ? h : low, &r->st.skipped_by_uplinks);
        }
    }
    if (r->base < r->next)
        r->base = r->next;
    if (r->next < low)
        return 0;

    uint32_t n = find(r, low);
    const struct node *x = &r->nodes[n];
    if (now < x->not_before && low >= r->base)
        return 0; /* plays out later; a slide forces it out at once */
    r->st.released++;
    if (x->gapless)
        r->st.in_order++;
    *pkt = node_bytes(r, n);
    *len = x->len;
    *seq = low;
    remove_node(r, n); /* the bytes stay until the next push reuses the node */
    r->next = low + 1;
    if (r->base < r->next)
        r->base = r->next;
    r->lowest = lowest_from(r, r->next);
    return 1;
}

static tg_time deadline(const struct tg_reorder *r);

tg_time tg_reorder_next_deadline(const struct tg_reorder *r)
{
    tg_time t = deadline(r);
    if (t == TG_TIME_NEVER || r->next == r->lowest || r->next < r->base)
        return t; /* empty, or ready already */
    /* a held gap waits for its packet (or the hold time) before the uplinks
     * rule may skip it */
    tg_time until = 0;
    for (uint32_t i = 0; i < r->n_holds; i++)
        if (r->holds[i].end > r->next && r->holds[i].seq < r->lowest &&
            r->holds[i].until > until)
            until = r->holds[i].until;
    return t < until ? tg_time_min(until, hold_end(r)) : t;
}

/* A free hold entry: when all are taken, the one that ends first. */
static struct hold *new_hold(struct tg_reorder *r)
{
    uint32_t i = r->n_holds;
    if (i == TG_REORDER_HOLDS) {
        i = 0;
        for (uint32_t k = 1; k < TG_REORDER_HOLDS; k++)
            if (r->holds[k].until < r->holds[i].until)
                i = k;
    } else {
        r->n_holds++;
    }
    return &r->holds[i];
}

void tg_reorder_hold(struct tg_reorder *r, uint64_t seq, tg_time until)
{
    if (seq < r->next || seq == NO_SEQ || find(r, seq) != NONE)
        return;
    for (uint32_t i = 0; i < r->n_holds; i++)
        if (r->holds[i].seq == seq && r->holds[i].tries > 0) {
            r->holds[i].until = until;
            r->holds[i].tries++;
            return;
        }
    *new_hold(r) = (struct hold){.seq = seq, .end = seq + 1, .until = until, .tries = 1};
    r->st.held++;
}

void tg_reorder_hold_run(struct tg_reorder *r, uint64_t from, uint64_t to, tg_time until)
{
    if (from < r->next)
        from = r->next;
    if (from >= to || to == NO_SEQ)
        return;
    *new_hold(r) = (struct hold){.seq = from, .end = to, .until = until, .tries = 0};
}

size_t tg_reorder_expired_holds(const struct tg_reorder *r, tg_time now, unsigned max_tries,
                                uint64_t *seqs, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < r->n_holds && n < max; i++) {
        const struct hold *h = &r->holds[i];
        if (now >= h->until && h->tries > 0 && h->tries < max_tries && h->seq >= r->next &&
            find(r, h->seq) == NONE)
            seqs[n++] = h->seq;
    }
    return n;
}

static tg_time deadline(const struct tg_reorder *r)
{
    if (r->st.occupancy == 0)
        return TG_TIME_NEVER;
    uint64_t low = r->lowest;
    if (r->next < r->base)
        return 0; /* ready already: the caller has not drained pop */
    if (r->next == low) /* ready at its playout time, or forced out by a slide */
        return low < r->base ? 0 : r->nodes[find(r, low)].not_before;

    /* The whole run [next, low) goes at once when the oldest packet expires,
     * or when every uplink still behind `low` has fallen silent or can no
     * longer bring anything sent before it. */
    tg_time t_hold = hold_end(r);
    tg_time sent = r->nodes[find(r, low)].sent;
    tg_time t_up = 0;
    for (unsigned i = 0; i < TG_REORDER_MAX_UPLINKS; i++) {
        const struct uplink *u = &r->up[i];
        bool alive = (r->alive >> i) & 1u;
        if (!(alive && !u->seen) && !(u->seen && u->highest < low))
            continue; /* not behind low */
        tg_time t = alive ? TG_TIME_NEVER : tg_time_add(u->last, r->cfg.max_hold_us);
        t = tg_time_min(t, reach_end(r, u, sent));
        if (t > t_up)
            t_up = t;
    }
    return tg_time_min(t_hold, t_up);
}

void tg_reorder_set_reach(struct tg_reorder *r, unsigned uplink, int64_t reach)
{
    if (uplink < TG_REORDER_MAX_UPLINKS)
        r->up[uplink].reach = reach;
}

void tg_reorder_cleared(struct tg_reorder *r, unsigned uplink, tg_time sent)
{
    if (uplink < TG_REORDER_MAX_UPLINKS && sent > r->up[uplink].clear)
        r->up[uplink].clear = sent;
}

void tg_reorder_set_alive(struct tg_reorder *r, uint32_t mask)
{
    r->alive = mask;
}

uint64_t tg_reorder_next_seq(const struct tg_reorder *r)
{
    return r->next;
}

const struct tg_reorder_stats *tg_reorder_stats(const struct tg_reorder *r)
{
    return &r->st;
}
