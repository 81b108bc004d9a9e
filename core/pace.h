/*
 * pace.h: the tunnel's own queue in front of each uplink (internal).
 *
 * A bulk TCP flow inside the tunnel sends in bursts: a window's worth at
 * once when a held gap is released, or acknowledgements arrive bunched. Sent
 * at once, such a burst overflows a small queue at the uplink's bottleneck
 * (64 KB is common), and the inner flow halves its window for a loss the
 * tunnel caused. So the sender keeps at most `uplink_queue_limit` bytes
 * (or what the uplink carries in 2 ms, if that is more) in an uplink's
 * bottleneck queue, by the queue model (tg_mp_queued: the queue
 * delay the receiver last reported at the uplink's delivery rate, carried
 * forward over every datagram sent since; tg_mp_drain_per_us), and holds the
 * rest here,
 * in the uplink's own first-in first-out list, until the model says there is
 * room or it has waited TG_PACE_MAX_WAIT_US. A burst then costs the inner
 * flow delay, not a loss.
 *
 * The scheduler picks before the hold, seeing an uplink's held bytes as
 * queued on it, so the earliest-arrival choice between uplinks is the same
 * as if everything had been sent; a packet only waits for the uplink it was
 * given. Only uplinks whose rate and queue are known are held for; an uplink
 * whose datagrams are overdue, or that is no longer usable, gets what it
 * holds at once (what happens to it then is what happens to any datagram in
 * flight on it: recover.h). Copies sent on several uplinks at once
 * (redundant) and retransmissions are never held. A held packet carries
 * the time it was scheduled, not sent (tg_pace_stamp says why), and says it
 * was held (TG_DATA_FLAG_HELD): a run lost before it is the model's error,
 * which the receiver asks for again rather than leave to the inner flows
 * (recover.h).
 *
 * The held packets live in one pool of `pace_slots` packets per session,
 * allocated at the first hold and given back when it has been empty for 2 s.
 * A full pool drops the packet, before it takes a sequence number (counted
 * as queue_full): the inner flow must slow down.
 *
 * Held for, an uplink's queue stands at the limit and never empties by
 * itself; its one-way delay's floor (the least in two buckets of 5 s:
 * uplink.h) would then rise to the standing queue, and the model would count
 * that much less than is queued (agg_skew_q64 overflowed its 64 KB queues
 * 10 s into the download in 17 runs of 31). So when the current bucket has
 * not come within 1 ms of the last one's floor, the sender lets the queue
 * empty, at most every 2 s: for the limit's drain time, a feedback interval
 * and 5 ms it keeps about one packet in it, so that a report meets the
 * floor. The link stays fed at the rate estimate meanwhile; the inner flows
 * see the limit's worth of delay moved into the tunnel.
 *
 * The valve drops rather than sends (one packet, at most once a second per
 * uplink, also counted as queue_full) when the queue the inner flows have
 * built for the uplink, what the tunnel holds for it and what its
 * bottleneck holds (by the model and by the delay the receiver measures),
 * is more than 8 limits: sent, the packets would only move that queue into
 * the link's, which would soon drop a burst of them. The dropped packet's
 * number is skipped by the receiver like a lost one, and never sent again.
 */
#ifndef TG_PACE_H
#define TG_PACE_H

#include "mpath.h"

/* A packet held this long goes out whatever the model says: the model can
 * be wrong (a rate estimate far below what the uplink carries now), and a
 * tunnel that holds packets for seconds is worse than a lost packet. */
#define TG_PACE_MAX_WAIT_US TG_MSEC(100)

/* Should a packet of `len` bytes for path `p` be held rather than sent? */
bool tg_pace_wants(const struct tg_mp *mp, const struct tg_path *p, size_t len, tg_time now);
/* Is there room to hold one more (allocating the pool at the first)? */
bool tg_pace_room(struct tg_mp *mp);
/* Hold it (a copy), after tg_pace_room said yes; len <= max_packet. */
void tg_pace_hold(struct tg_mp *mp, unsigned slot, uint64_t seq, uint8_t flags,
                  const uint8_t *pkt, size_t len, tg_time now);
/* Send what the uplinks have room for now (and all that an overdue or
 * unusable uplink holds); give the pool back when it has been idle. */
void tg_pace_drain(struct tg_mp *mp, tg_time now);
/* When tg_pace_drain has something to do next, or TG_TIME_NEVER. */
tg_time tg_pace_next_deadline(const struct tg_mp *mp);
/* The time a datagram sent on p now carries: that of the oldest packet p
 * holds, when it holds any, so that nothing sent past the held packets claims
 * to have been sent after them (the receiver's reorder buffer takes an
 * uplink that delivered a datagram sent after a gap's packet for one that
 * will not deliver the gap; recover.h), else now. The sender takes the
 * difference back out of the delays the receiver reports. */
tg_time tg_pace_stamp(const struct tg_mp *mp, const struct tg_path *p, tg_time now);
/* Forget what path `slot` holds (its keys are gone; counted as no_uplink). */
void tg_pace_forget(struct tg_mp *mp, unsigned slot);
void tg_pace_free(struct tg_mp *mp);

#endif
