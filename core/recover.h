/*
 * recover.h: loss recovery of striped packets inside the tunnel (internal).
 *
 * Striped packets lost on one uplink are sent again before the inner TCP
 * sees the loss (MPTCP's reinjection, inside the tunnel). The receiver knows
 * at once: each DATA frame names the one sent before it on the same uplink
 * (PREV, with PREV_ORDERED when that one was striped), and uplinks deliver
 * in order, so a named frame it has not seen was lost. It holds that gap in
 * the reorder buffer for about a round trip (tg_reorder_hold) and sends a
 * NACK on its fastest uplink. The sender, which keeps the last
 * retransmit_slots packets sent on one uplink (allocated at the first one,
 * given back with the reorder buffer's idle rule), sends each named one
 * again once, on the other uplink where it should arrive first (a loss may
 * be the first of an outage), or on the one that lost it when that one is
 * healthy and every other would deliver it more than srtt/2 later, within a
 * budget of retransmit_budget per striped packet sent (TG_RTX_BUDGET_CAP at
 * most, and at first). The receiver keeps the same budget over the striped
 * packets it received, and asks only while it has some: a gap the sender
 * will not fill is given up on at once, not held round trip after round
 * trip. PREV names
 * one frame only: when the uplink's counters show that more datagrams than
 * that one went missing at once (a burst, or an overflowing queue), the
 * receiver names the run as well (LOST_RUN: after which datagram it began),
 * holds the gaps since the last DATA the uplink delivered, and the sender,
 * which records the datagram counter each striped packet left in, sends
 * the run's packets again too.
 * A packet sent again can be lost too, and so can the NACK: when the gap
 * is still empty once its hold runs out, the receiver asks again and holds
 * it again, up to TG_RTX_TRIES times in all, and the sender answers each (a
 * double loss on a lossy uplink would otherwise reach the inner TCP as a
 * loss, often as a timeout).
 *
 * Not every loss is recovered: a queue that overflows must slow the inner
 * flow down. A loss near the top of the queue the uplink's DATA met of late
 * is taken for an overflow, and left to the inner flow, once losses there
 * are clearly more frequent than below it (random loss strikes at any
 * level, a drop-tail queue only when full); before any loss below it, once
 * they are frequent there or the queue stands or is long (recover.c). Save
 * a run lost before a DATA the sender held in its own queue
 * (TG_DATA_FLAG_HELD): the sender fed that uplink by its queue model, so
 * the overflow is the model's error and the inner flows' excess waits in
 * the tunnel, where the valve tells them.
 *
 * An uplink that goes silent loses what was in flight on it, and no later
 * packet on it will name the gap. When the oldest datagram it has not
 * reported is overdue, the sender sends its unreported packets (striped or
 * not) again on the other uplinks at once (MPTCP's opportunistic
 * reinjection), so the receiver's reorder buffer fills the gaps within a
 * round trip instead of waiting for the uplink to be given up on. While
 * no other uplink answers either, they wait for the first that does: sent
 * on an uplink as silent, they were lost twice and never sent again, and
 * an inner TCP whose acknowledgements were among them waited for its
 * timeout after the other uplink came back.
 */
#ifndef TG_RECOVER_H
#define TG_RECOVER_H

#include "mpath.h"

/* Times a lost striped packet is asked for (and sent again), in all. */
#define TG_RTX_TRIES 3
/* The budget's cap, and what a session starts with on both sides: a loss
 * among the first striped packets (a download's slow start after an idle
 * start) is recovered like any later one. Starting at 0, the first ten or
 * so could not be, and one such loss ended the inner flow's slow start at
 * a fraction of the path's rate. */
#define TG_RTX_BUDGET_CAP ((double)TG_NACK_MAX * 2)
/* A run of lost datagrams (LOST_RUN) is asked for when at most this many
 * went missing beyond the one named; the sender looks back at most
 * TG_LOST_RUN_SPAN sequence numbers for them. */
#define TG_LOST_RUN_MAX TG_NACK_MAX
#define TG_LOST_RUN_SPAN 256

/* Sender: keep packet `seq` (first sent on `uplink`): a striped one
 * (`ordered`), or one sent on one uplink and delivered as it comes (a light
 * flow's, a flow-sticky one). An unordered one is never asked for (the
 * receiver cannot tell it is missing), but it is reinjected when its uplink
 * goes silent (tg_rtx_reinject): an inner flow's retransmission after a
 * timeout is one, and lost with an uplink that just died it would cost the
 * flow a doubled timeout; and a LOST_RUN may name it as the newest of a
 * burst lost on its uplink, the striped packets of the burst found from it.
 * Only striped ones earn the budget. */
bool tg_rtx_store(struct tg_mp *mp, uint64_t seq, const uint8_t *pkt, size_t len,
                  unsigned uplink, bool ordered, tg_time now);
/* Sender: kept packet `seq` went on `uplink` alone, in the datagram with
 * counter `counter` (a packet held by pace.h goes later than it was
 * stored): what a LOST_RUN names it by. */
void tg_rtx_sent(struct tg_mp *mp, uint64_t seq, unsigned uplink, uint64_t counter);
/* Packet `seq` will never be sent: nothing resends it. */
void tg_rtx_forget(struct tg_mp *mp, uint64_t seq);
/* Sender: the peer's NACK frame: send what it names once more. */
void tg_rtx_on_nack(struct tg_mp *mp, const struct tg_frame *f, tg_time now);
/* Sender: the peer's LOST_RUN frame: send once more the striped packets
 * that went on the named packet's uplink after the datagram it names and
 * before the named packet (at most TG_LOST_RUN_SPAN back). A frame that
 * finds none costs a unit of the budget, so a peer cannot make the sender
 * scan for nothing without end. */
void tg_rtx_on_lost_run(struct tg_mp *mp, const struct tg_frame *f, tg_time now);
/* Receiver: how long a lost packet's gap is held: a round trip on the
 * fastest healthy uplink (srtt + 4 rttvar + 10 ms), at most a quarter of
 * the reorder timeout. Behind a bloated queue a round trip is long, and the
 * whole stream waits behind the gap meanwhile: it is asked for again (up to
 * TG_RTX_TRIES) sooner rather than held up to half a second. */
tg_time tg_rtx_recover_wait(const struct tg_mp *mp);
/* Receiver: send the NACK for mp->nack[0 .. n_nack) and the LOST_RUNs for
 * mp->runs[0 .. n_runs) now, and empty both lists. */
void tg_rtx_send_nack(struct tg_mp *mp, tg_time now);
/* Receiver: a DATA frame arrived on path p (its one-way delay in
 * p->rx_owd_us): track the queue it met. */
void tg_rtx_rx_sample(struct tg_path *p, tg_time now);
/* Receiver: n datagrams in a row on path p were lost. True when it is the
 * queue overflowing (the inner flow must see it), false for a random loss
 * (asked for again). Counts the losses. */
bool tg_rtx_congested(struct tg_path *p, uint32_t n);
/* Receiver: a striped packet arrived; it earns the sender's budget, which
 * the receiver mirrors from what arrives (never more than the sender has). */
void tg_rtx_rx_striped(struct tg_mp *mp);
/* Receiver: whether the sender has budget to answer one more request (which
 * it then spends); without it a lost packet is given up on at once rather
 * than waited for. */
bool tg_rtx_may_ask(struct tg_mp *mp);
/* Receiver: how long after its send time a packet on path p still arrives,
 * with the clocks' offset (tg_reorder_set_reach): the path's base delay, the
 * largest queue its DATA met lately and a margin; before its first DATA, its
 * PINGs' delay and 50 ms; INT64_MAX before any one-way delay. */
int64_t tg_rtx_reach(const struct tg_path *p);
/* Receiver: before the reorder buffer gives up on a gap, ask for the lost
 * packets once more and hold their gaps (see the top of this file). */
void tg_rtx_ask_again(struct tg_mp *mp, tg_time now);
/* Sender: uplink `slot` is overdue (tg_mp_overdue_at): send its kept
 * packets the receiver has not reported once more (unordered ones as
 * such), each on the uplink where it arrives first, outside the budget.
 * Each packet is looked at once; what the output queue had no room for is
 * looked at on the next call, and while no other uplink answers they wait
 * for one (looked at every 10 ms). */
void tg_rtx_reinject(struct tg_mp *mp, unsigned slot, tg_time now);
/* Sender: kept TCP packet `seq` went while no uplink answered (every one
 * had datagrams overdue and had failed its probes of late: an outage, not
 * a delay spike, whose packets arrive late but arrive). */
void tg_rtx_blind(struct tg_mp *mp, uint64_t seq);
/* Sender: every uplink is down (none to send on): keep TCP packet `pkt`
 * under the next sequence number, as if it went blind, for the replay.
 * False when it cannot be kept (no store). At most the store's slots are
 * kept: the newest, which are what an inner TCP retransmits last. */
bool tg_rtx_hold(struct tg_mp *mp, const uint8_t *pkt, size_t len, tg_time now);
/* Sender: once an uplink answers again, send the packets that went blind
 * once more, unordered, each where it arrives first, paced like a
 * reinjection (called on every datagram and at mp->replay_at). Every
 * uplink down, an inner TCP's retransmissions go nowhere and its timeout
 * doubles each time (and stays doubled until a round trip is measured), so
 * it would resume seconds after an uplink is back; its retransmissions sent
 * again as soon as one answers bring it back within a round trip. TCP
 * only: a voice packet that late is of no use to anyone. */
void tg_rtx_replay(struct tg_mp *mp, tg_time now);
/* Give back the sender's store (idle, or the session ends). */
void tg_rtx_free(struct tg_mp *mp);

#endif
