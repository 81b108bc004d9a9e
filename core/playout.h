/*
 * playout.h: one delay for striped packets, whatever uplink carried them
 * (internal).
 *
 * Striped over uplinks of different one-way delays, an inner flow sees the
 * fast uplink's delay while only the fast uplink carries it and a longer
 * one once the slow uplink joins. A CUBIC flow in slow start takes that rise
 * (HyStart) for a full queue and ends slow start with the window of one
 * path; a BBR flow sizes its window from the smallest round trip it saw.
 * Either way the inner flow never asks for what the slow uplink could add.
 *
 * The receiver therefore releases every striped packet no sooner than its
 * send time plus the slowest striping uplink's base delay: the windowed
 * minimum one-way delay (5-10 s; of DATA, and of PINGs while playout is on,
 * so an idle uplink is known) of every uplink that can still deliver. The
 * inner flow meets that delay from its first packet, and the fast uplink's
 * queue up to the difference is hidden from it, so it grows to what both
 * paths carry. The cost is that difference, paid by every
 * striped packet. Uplinks further apart than playout_max_us are not
 * equalised (the sender does not stripe over them either), and no packet is
 * held longer than that.
 */
#ifndef TG_PLAYOUT_H
#define TG_PLAYOUT_H

#include "mpath.h"

/* Receiver: path p's one-way delay p->rx_owd_us was measured at `now`
 * (a DATA frame or a PING): keep its windowed minimum. */
void tg_playout_owd_sample(struct tg_path *p, tg_time now);
/* The windowed minimum one-way delay of path p; p->rx_owd_seen says whether
 * there is one. */
int64_t tg_playout_owd_floor(const struct tg_path *p);
/* Receiver: the uplinks in `alive` (bit i = slot i) can deliver: choose the
 * delay striped packets play out at. */
void tg_playout_update(struct tg_mp *mp, uint32_t alive);
/* Receiver: when the striped packet whose send time is mp->peer_time may
 * leave, at `now`; 0 for at once. */
tg_time tg_playout_at(const struct tg_mp *mp, tg_time now);

#endif
