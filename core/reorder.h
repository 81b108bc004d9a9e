/*
 * reorder.h: the receiver's reorder buffer over multipath sequence numbers.
 *
 * Packets striped over uplinks with different delays arrive out of order; the
 * buffer hands them to the TUN side in sequence order. A missing sequence
 * number (a gap) is waited for only while it can still arrive. Gaps are given
 * up on by the first of these rules that applies (the stats say which):
 *   - overflow: a packet `capacity` or more ahead of the lowest number still
 *     awaited forces the oldest out: the window slides to end at that packet,
 *     the gaps below the new window are skipped and the packets below it are
 *     ready at once;
 *   - deadline: every packet is held at most `max_hold_us` after its own
 *     arrival; when the oldest-arrived buffered packet reaches that age
 *     (now >= arrival + max_hold_us), everything up to it is released and the
 *     gaps before it are skipped (a mark, a number pushed without a packet,
 *     holds nothing back and starts no such clock);
 *   - uplinks: a gap is skipped at once when it can no longer be filled: each
 *     uplink delivers in send order, so once every uplink that delivered within
 *     the last `max_hold_us` (now < its last delivery + max_hold_us) has
 *     delivered a sequence number above the gap, the gap's packet is lost.
 *     Every packet offered on a valid uplink counts as a delivery for this
 *     rule, including the ones dropped below. With one uplink, a gap is lost.
 *     An idle uplink (nothing delivered for max_hold_us / 2, or never)
 *     whose reach is known (tg_reorder_set_reach) also stops counting for
 *     a gap once the packet above the gap was sent longer ago than that
 *     reach: whatever it still carries was sent after it. So a burst lost
 *     on the uplink that carries the flow does not wait max_hold_us for an
 *     idle one, while one that carried the flow and fell silent (late, not
 *     idle: a delay that jumped) is still waited for.
 *     Nor does an uplink count for a gap once it delivered a datagram sent
 *     after the packet above the gap (a later packet, or a probe named in
 *     tg_reorder_cleared): what it still carries was sent later too.
 *     A gap the host holds (tg_reorder_hold: its packet was asked for again;
 *     tg_reorder_hold_run: a run of them) is exempt from this rule until the
 *     hold ends.
 * Packets older than the next expected number (late, or duplicates of
 * released ones, or numbers a slide gave up on) are dropped and counted, as
 * are duplicates still buffered.
 * Packet bytes are copied into slots allocated at creation: push and pop never
 * allocate, and are O(1) amortised (each sequence number is passed over once).
 * Rules are applied lazily by pop at its `now`; push only buffers and slides.
 *
 * Not here: duplicate suppression before the buffer (the replay window serves
 * as the dedup window over sequence numbers), or choosing uplinks.
 */
#ifndef TG_REORDER_H
#define TG_REORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "error.h"
#include "time.h"

#define TG_REORDER_MAX_UPLINKS 16
#define TG_REORDER_HOLDS 32 /* gaps held at once (tg_reorder_hold) */

struct tg_reorder_config {
    uint32_t capacity;   /* packets; power of two >= 2 (default 2048) */
    uint32_t slot_bytes; /* largest packet stored (default 2048) */
    tg_time max_hold_us; /* default 500 ms */
};

/* Every number below next_seq was either released or skipped:
 * next_seq - first_seq == released + gaps_skipped. */
struct tg_reorder_stats {
    uint64_t pushed;              /* packets offered (push calls not refused as TG_ERR_INVAL) */
    uint64_t released;            /* packets handed out by pop */
    uint64_t in_order;            /* of those, released without ever waiting on a gap (every
                                     number from next_seq up to theirs was buffered on arrival) */
    uint64_t late;                /* dropped: seq below the next expected one */
    uint64_t duplicate;           /* dropped: seq already buffered */
    uint64_t too_big;             /* dropped: longer than slot_bytes */
    uint64_t held;                /* gaps held for a packet sent again (tg_reorder_hold) */
    uint64_t gaps_skipped;        /* sequence numbers given up on */
    uint64_t skipped_by_deadline; /* ... of which because max_hold_us passed */
    uint64_t skipped_by_uplinks;  /* ... because no uplink can still deliver them */
    uint64_t skipped_by_overflow; /* ... because the window had to slide */
    uint32_t occupancy;           /* packets buffered now */
    uint32_t peak_occupancy;      /* highest occupancy seen */
};

struct tg_reorder;

/* Fill `c` with the defaults. */
void tg_reorder_config_default(struct tg_reorder_config *c);

/* Create a buffer expecting sequence number `first_seq` first.
 * Returns TG_OK, TG_ERR_INVAL (capacity not a power of two >= 2, slot_bytes 0,
 * max_hold_us 0, c or out NULL), TG_ERR_NOMEM. */
int tg_reorder_new(const struct tg_reorder_config *c, const struct tg_allocator *a,
                   uint64_t first_seq, struct tg_reorder **out) TG_MUST_CHECK;
void tg_reorder_free(struct tg_reorder *r); /* NULL is fine */

/* Offer a packet received on `uplink` (< TG_REORDER_MAX_UPLINKS) at `now`.
 * Returns TG_OK (buffered, possibly ready at once), TG_ERR_REPLAY (late or
 * duplicate; dropped), TG_ERR_NOBUF (len > slot_bytes; dropped),
 * TG_ERR_INVAL (uplink out of range, seq UINT64_MAX (reserved), or pkt NULL
 * with len > 0; nothing recorded). `now` never decreases between calls.
 * Drain pop after every push: a slide keeps the packets it forces out until
 * pop takes them, with room for one such packet whose slot the newcomer needs;
 * a second one before a drain drops the lower of the two (a skipped number). */
int tg_reorder_push(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                    size_t len, tg_time now) TG_MUST_CHECK;
/* A mark (pkt NULL, len 0) pushed with this uplink fills its number and
 * says nothing of any uplink: a packet delivered unordered, which may have
 * passed packets numbered before it on its own uplink. */
#define TG_REORDER_NO_UPLINK TG_REORDER_MAX_UPLINKS
/* The same, for a packet that is not to leave before `not_before` (0: no
 * such time), though every number before it is released or given up on:
 * playout, so packets striped over uplinks of different delays all reach
 * the host with the delay of the slowest. Release stays in sequence order,
 * so a later packet waits for an earlier one's time too. A packet a slide
 * forces out leaves at once. `sent` is its send time on the peer's clock
 * (0: unknown), for the uplinks' reach. */
int tg_reorder_push_at(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                       size_t len, tg_time now, tg_time not_before,
                       tg_time sent) TG_MUST_CHECK;

/* The same, except that a packet next in line with nothing buffered and no
 * playout wait is not stored: it returns TG_REORDER_NOW, counted as released,
 * and the caller hands `pkt` on at once, as the pop that follows would have
 * (one copy less for packets that arrive in order). */
#define TG_REORDER_NOW 1
int tg_reorder_offer(struct tg_reorder *r, uint64_t seq, unsigned uplink, const uint8_t *pkt,
                     size_t len, tg_time now, tg_time not_before, tg_time sent) TG_MUST_CHECK;

/* Take the next packet that may be delivered at `now`. Returns 1 and sets
 * *pkt (valid until the next push or pop), *len and *seq; 0 when nothing is
 * ready. Call until it returns 0 after every push and every timeout. A call
 * that returns 0 may still skip gaps (next_seq moves). */
int tg_reorder_pop(struct tg_reorder *r, tg_time now, const uint8_t **pkt, size_t *len,
                   uint64_t *seq);

/* The earliest time at which pop returns a packet, if nothing is pushed
 * before: after draining pop at `now`, pop at any t < deadline returns 0 and
 * pop at the deadline returns 1, or gives up on gaps and leaves the packet
 * after them to its playout time (the next deadline). 0 when a packet is
 * ready regardless of time (pop was not drained); TG_TIME_NEVER when the
 * buffer is empty. */
tg_time tg_reorder_next_deadline(const struct tg_reorder *r);

/* The gap `seq` is being filled again (the sender was asked to send it once
 * more): the uplinks rule leaves it alone until `until`; the deadline rule
 * (max_hold_us) still applies. Ignored for a number already released or
 * buffered. At most TG_REORDER_HOLDS holds are kept (a run is one); a new
 * one displaces the hold that ends first. Holding a gap that is held already
 * moves its end and counts one more try (see tg_reorder_expired_holds). */
void tg_reorder_hold(struct tg_reorder *r, uint64_t seq, tg_time until);

/* The gaps in [from, to) may be on their way again too (a run of lost
 * datagrams whose packets only the sender can name): the uplinks rule
 * leaves them alone until `until`, as tg_reorder_hold, but they are never
 * handed back by tg_reorder_expired_holds. Takes one hold entry. */
void tg_reorder_hold_run(struct tg_reorder *r, uint64_t from, uint64_t to, tg_time until);

/* Held gaps whose time ran out at `now` with their packet still missing,
 * held fewer than `max_tries` times: up to `max` of their numbers into
 * `seqs`, returns how many. The host may ask for them once more and hold
 * them again; the rest are given up on by the next pop. */
size_t tg_reorder_expired_holds(const struct tg_reorder *r, tg_time now, unsigned max_tries,
                                uint64_t *seqs, size_t max);

/* Uplinks (bit i = uplink i) that are alive: for the early-release rule they
 * count as able to fill any gap above the highest number they delivered, even
 * when they delivered nothing lately (an idle uplink may carry the next
 * striped packet). Uplinks outside the mask count only while they delivered
 * within max_hold_us. Default 0. */
void tg_reorder_set_alive(struct tg_reorder *r, uint32_t mask);

/* A packet sent on `uplink` at time s of the peer's clock arrives by local
 * time s + reach or not at all (so reach carries the clocks' offset);
 * INT64_MAX (the default): not known. Ignored for an uplink out of range. */
void tg_reorder_set_reach(struct tg_reorder *r, unsigned uplink, int64_t reach);

/* Uplink `uplink` delivered a datagram sent at `sent` (the peer's clock,
 * as in tg_reorder_push_at), one that carried no packet for the buffer (a
 * probe): uplinks deliver in send order, so it can no longer fill a gap
 * below a packet sent before that. A push with its `sent` says the same.
 * Ignored for an uplink out of range or sent 0. */
void tg_reorder_cleared(struct tg_reorder *r, unsigned uplink, tg_time sent);

/* The next sequence number the buffer waits for: the lowest one neither
 * released nor skipped. */
uint64_t tg_reorder_next_seq(const struct tg_reorder *r);

const struct tg_reorder_stats *tg_reorder_stats(const struct tg_reorder *r);

#endif
