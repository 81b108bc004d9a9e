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
 * retransmit_slots striped packets (allocated at the first one, given back
 * with the reorder buffer's idle rule), sends each named one again once, on
 * the uplink where it should arrive first, within a budget of
 * retransmit_budget per striped packet sent.
 *
 * An uplink that goes silent loses what was in flight on it, and no later
 * packet on it will name the gap. When the oldest datagram it has not
 * reported is overdue, the sender sends its unreported striped packets
 * again on the other uplinks at once (MPTCP's opportunistic reinjection),
 * so the receiver's reorder buffer fills the gaps within a round trip
 * instead of waiting for the uplink to be given up on.
 */
#ifndef TG_RECOVER_H
#define TG_RECOVER_H

#include "mpath.h"

/* Sender: keep striped packet `seq` (first sent on `uplink`). */
void tg_rtx_store(struct tg_mp *mp, uint64_t seq, const uint8_t *pkt, size_t len,
                  unsigned uplink, tg_time now);
/* Sender: the peer's NACK frame: send what it names once more. */
void tg_rtx_on_nack(struct tg_mp *mp, const struct tg_frame *f, tg_time now);
/* Receiver: how long a lost packet's gap is held. */
tg_time tg_rtx_recover_wait(const struct tg_mp *mp);
/* Receiver: send the NACK for mp->nack[0 .. n_nack) now and empty the list. */
void tg_rtx_send_nack(struct tg_mp *mp, tg_time now);
/* Sender: uplink `slot` is overdue (tg_mp_overdue_at): send its striped
 * packets the receiver has not reported once more, each on the uplink where
 * it arrives first, outside the budget. Each packet is looked at once; what
 * the output queue had no room for is looked at on the next call. */
void tg_rtx_reinject(struct tg_mp *mp, unsigned slot, tg_time now);
/* Give back the sender's store (idle, or the session ends). */
void tg_rtx_free(struct tg_mp *mp);

#endif
