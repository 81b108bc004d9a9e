/* The receiving side of the multipath engine: striped packets through the
 * reorder buffer and out in order, the uplinks it waits for, and the
 * packets found lost on the way, asked for again (recover.h). Internal to
 * the core (mpath.c reads each datagram and calls these). */
#include "inorder.h"

#include "playout.h"
#include "recover.h"

/* Uplinks that carried anything authenticated within the reorder hold time
 * may still deliver a striped packet: the reorder buffer waits for them.
 * The handshake that keyed an uplink counts, and one on its way
 * (tg_mp_expect): the peer may send on it at once, and its first packets,
 * on a slower uplink, must not find their gaps given up on because nothing
 * else has come over it yet. */
void tg_mp_set_alive(struct tg_mp *mp, tg_time now)
{
    uint32_t alive = 0;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        tg_time heard = mp->expect_at[i];
        if (p != NULL && p->keyed) {
            heard = p->keys_at > heard ? p->keys_at : heard;
            heard = p->last_rx > heard ? p->last_rx : heard;
        }
        if (heard != 0 && now - heard < mp->cfg->reorder.max_hold_us)
            alive |= 1u << i;
    }
    if (mp->reorder != NULL)
        tg_reorder_set_alive(mp->reorder, alive);
    tg_playout_update(mp, alive);
}

/* Ready packets leave the buffer only while the TUN queue has room: a gap
 * filled late (a slow uplink's packet, a retransmission) can release hundreds
 * at once, more than the queue holds, and dropping them would hand the inner
 * flow the very loss the buffer exists to hide. The rest stay; the buffer's
 * deadline is then "now", so the next timeout or tg_mp_release moves them. */
void tg_mp_drain_reorder(struct tg_mp *mp, tg_time now)
{
    if (mp->reorder == NULL)
        return;
    mp->drained_at = now;
    const uint8_t *pkt;
    size_t len;
    uint64_t seq;
    /* before pop gives up on a held gap; holds end only with time, so once */
    tg_rtx_ask_again(mp, now);
    while (tg_queue_room(&mp->io->tun) > 0 &&
           tg_reorder_pop(mp->reorder, now, &pkt, &len, &seq) == 1) {
        if (len > 0) /* zero length: the mark of a packet delivered unordered */
            mp->deliver(mp->owner, mp, (uint8_t *)(uintptr_t)pkt, len, now);
    }
    uint64_t occ = tg_reorder_stats(mp->reorder)->peak_occupancy;
    if (occ > mp->io->counters.reorder_peak)
        mp->io->counters.reorder_peak = occ;
}

void tg_mp_release(struct tg_mp *mp)
{
    tg_mp_drain_reorder(mp, mp->drained_at);
}

/* An empty entry in the reorder buffer: nothing waits for `seq` any more.
 * Refused below the window or when already there, which is as good.
 * `slot` TG_REORDER_NO_UPLINK: it tells nothing of any uplink. */
void tg_mp_mark(struct tg_mp *mp, unsigned slot, uint64_t seq, tg_time now)
{
    /* without a buffer nothing waits at all; the datagram that told of it
     * was sent after it, so its send time bounds the mark's */
    if (mp->reorder != NULL &&
        tg_reorder_push_at(mp->reorder, seq, slot, NULL, 0, now, 0, mp->dgram_sent) != TG_OK) {
        /* refused: nothing waits for it either way */
    }
}

/* More datagrams than the one that carried `seq` went missing on uplink
 * `slot` after the one with counter `after`: the sender alone knows which
 * DATA frames they carried; it is asked for them (LOST_RUN), and the gaps
 * since the newest DATA the uplink delivered are held meanwhile. */
static void lost_run(struct tg_mp *mp, unsigned slot, uint64_t seq, uint64_t after, tg_time until,
                     tg_time now)
{
    uint64_t from = mp->paths[slot]->rx_data_seq + 1;
    if (from > seq || seq - from > TG_LOST_RUN_SPAN)
        from = seq > TG_LOST_RUN_SPAN ? seq - TG_LOST_RUN_SPAN : 0;
    tg_reorder_hold_run(mp->reorder, from, seq, until);
    if (mp->n_runs == TG_LOST_RUNS)
        tg_rtx_send_nack(mp, now);
    mp->runs[mp->n_runs].seq = seq;
    mp->runs[mp->n_runs].after = after;
    mp->n_runs++;
}

/* `seq` went before this datagram on uplink `slot`: if it never arrived it
 * was lost on the way (uplinks deliver in order). A striped one is asked
 * for again and its gap held meanwhile; for any other nothing waits.
 * When `missing` (0: none) more datagrams than the one that carried it went
 * missing too, since the one with counter `after`, they are asked for as
 * a run.
 * A loss the inner flows must see (tg_rtx_congested) is not asked for, save
 * a run before a DATA the sender held: it fed that uplink by its queue model
 * (pace.h), so a whole burst dropped at the uplink's buffer is the model's
 * error, not the inner flows' excess (that is in the tunnel's own queue, and
 * its valve tells them). Passed on, each such burst cut the inner window on
 * a long path whose small buffer the model can miss by a few packets (100 +
 * 50 Mbit/s, 40 ms of skew, 64 KB queues). A single loss keeps its rule:
 * near the top of the queue it tells the inner flows of the queue they build. */
void tg_mp_path_lost(struct tg_mp *mp, unsigned slot, uint64_t seq, bool ordered,
                     uint64_t after, uint32_t missing, bool held, tg_time now)
{
    if (tg_replay_check(&mp->dedup, seq) != TG_OK)
        return;
    bool congested = tg_rtx_congested(mp->paths[slot], 1 + missing) && !(held && missing > 0);
    bool asks = mp->reorder != NULL && mp->cfg->retransmit_slots > 0 &&
                seq >= tg_reorder_next_seq(mp->reorder) && !congested;
    if (ordered && asks && tg_rtx_may_ask(mp)) {
        tg_time until = tg_time_add(now, tg_rtx_recover_wait(mp));
        tg_reorder_hold(mp->reorder, seq, until);
        if (missing > 0 && mp->ask_tokens >= missing) {
            mp->ask_tokens -= missing;
            lost_run(mp, slot, seq, after, until, now);
        }
        if (mp->n_nack == TG_NACK_MAX)
            tg_rtx_send_nack(mp, now);
        mp->nack[mp->n_nack++] = seq;
        return;
    }
    /* an unordered packet (a light flow's) is not asked for, but the striped
     * ones lost in the same burst before it are (the sender kept where it
     * went: tg_rtx_store) */
    if (!ordered && asks && missing > 0 && mp->ask_tokens >= missing) {
        mp->ask_tokens -= missing;
        lost_run(mp, slot, seq, after, tg_time_add(now, tg_rtx_recover_wait(mp)), now);
    }
    tg_mp_mark(mp, slot, seq, now);
}

/* Path `slot` measured a one-way delay: how long the reorder buffer may
 * wait for it. */
void tg_mp_note_reach(struct tg_mp *mp, unsigned slot)
{
    if (mp->reorder != NULL)
        tg_reorder_set_reach(mp->reorder, slot, tg_rtx_reach(mp->paths[slot]));
}

/* How far back a buffer created at sequence number S looks: numbers below S
 * not yet seen may still arrive, numbers seen were delivered unordered. */
#define REORDER_LOOKBACK 64

/* A striped packet: into the reorder buffer, created on first use. */
void tg_mp_ordered_push(struct tg_mp *mp, unsigned slot, uint64_t seq, const uint8_t *pkt,
                        size_t len, tg_time now, tg_time not_before)
{
    mp->ordered_at = now;
    if (mp->reorder == NULL) {
        uint64_t first = seq > REORDER_LOOKBACK ? seq - REORDER_LOOKBACK : 0;
        if (tg_reorder_new(&mp->cfg->reorder, &mp->alloc, first, &mp->reorder) != TG_OK) {
            mp->reorder = NULL;
            mp->deliver(mp->owner, mp, (uint8_t *)(uintptr_t)pkt, len, now); /* unordered */
            return;
        }
        for (uint64_t s = first; s < seq; s++)
            if (tg_replay_check(&mp->dedup, s) != TG_OK)
                tg_mp_mark(mp, slot, s, now);
        tg_mp_set_alive(mp, now);
        for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
            if (mp->paths[i] != NULL)
                tg_mp_note_reach(mp, i);
    }
    tg_rtx_rx_striped(mp);
    int rc = tg_queue_room(&mp->io->tun) > 0
                 ? tg_reorder_offer(mp->reorder, seq, slot, pkt, len, now, not_before, mp->dgram_sent)
                 : tg_reorder_push_at(mp->reorder, seq, slot, pkt, len, now, not_before,
                                      mp->dgram_sent);
    if (rc == TG_REORDER_NOW)
        mp->deliver(mp->owner, mp, (uint8_t *)(uintptr_t)pkt, len, now);
    else if (rc != TG_OK)
        tg_io_drop(mp->io, rc == TG_ERR_NOBUF ? TG_DROP_TOO_BIG : TG_DROP_LATE);
}

