/* What each side learns of an uplink from the other's reports: the
 * FEEDBACK frames a receiver sends, and on the sender the estimator's
 * input and the queue model of the uplink's bottleneck (mpath.h). */
#include "mpath.h"

void tg_mp_add_feedback(struct tg_mp *mp, unsigned slot, uint8_t *plain, size_t cap, size_t *off)
{
    struct tg_path *p = mp->paths[slot];
    if (!p->fb_pending)
        return;
    if (tg_frame_put_feedback(plain, cap, off, (uint8_t)slot, p->rx_packets, p->rx_bytes,
                              p->rx_highest, p->rx_owd_us) == TG_OK) {
        p->fb_pending = false;
        p->rx_unreported = 0;
    }
}

/* Bytes the path's bottleneck still has to carry, as of `now`: a queue
 * model anchored at the newest packet the receiver reported (fb_highest).
 * That packet met the estimator's queue_delay_us at the rate estimate;
 * everything sent since joined it, and the bottleneck has drained at the
 * rate since it was sent. But once the oldest packet sent after it is
 * overdue (unreported for srtt + 4 rttvar + two feedback intervals), the
 * path may be dead: nothing counts as drained, so a path that swallowed a
 * window stops attracting packets (a TCP retransmission above all) before
 * the probes declare it down. Before a rate is known, or when that packet
 * has left the ring: the bytes sent after it. */
uint64_t tg_mp_queued(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    uint32_t sent_after = (uint32_t)p->tx_bytes - p->reported.cum;
    if (!p->anchor_valid || !p->est.has_rate)
        return sent_after;
    double per_us = tg_mp_drain_per_us(p);
    double work = per_us * (double)p->est.queue_delay_us + (double)sent_after;
    if (now >= tg_mp_overdue_at(mp, p))
        return (uint64_t)work;
    if (p->q_valid)
        return (uint64_t)tg_mp_drained(p, p->q_bytes, now > p->q_at ? now - p->q_at : 0);
    return (uint64_t)tg_mp_drained(p, work, tg_mark_age(p->reported.at, now));
}

void tg_mp_elicit(struct tg_path *p, tg_time now)
{
    p->elicit_counter = p->cur.send_counter - 1;
    if (!p->unreported) {
        p->unreported = true;
        p->unreported_at = now;
    }
}

tg_time tg_mp_overdue_at(const struct tg_mp *mp, const struct tg_path *p)
{
    if (!p->unreported)
        return TG_TIME_NEVER;
    tg_time bound = tg_mp_rtt_bound(p) + 2 * mp->cfg->feedback_interval_us;
    tg_time since = p->unreported_at > p->fb_advanced_at ? p->unreported_at : p->fb_advanced_at;
    return tg_time_add(since, bound);
}

void tg_mp_send_feedback(struct tg_mp *mp, unsigned slot, tg_time now)
{
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return;
    size_t off = 0;
    tg_mp_add_feedback(mp, slot, buf + TG_DATA_HEADER_LEN, tg_mp_plain_cap(mp), &off);
    tg_mp_finish(mp, slot, buf, off, now);
}

/* The bottleneck's queue as the newest report saw it (the queueing delay of
 * datagram `hi` at the delivery rate), carried forward over every datagram
 * sent since: each adds its bytes, the rate drains the queue in between, never
 * below empty. (Drained as one sum from the report on, an idle spell would
 * count as room for the whole burst after it.) */
static void queue_replay(struct tg_path *p, uint64_t hi, uint64_t sent_counter, tg_time now)
{
    p->q_valid = p->est.has_rate && p->est.rate_bps > 0;
    if (!p->q_valid)
        return;
    double q = p->est.rate_bps / 8e6 * (double)p->est.queue_delay_us;
    struct tg_tx_mark prev = p->tx[hi % TG_TX_RING];
    for (uint64_t c = hi + 1; c < sent_counter; c++) {
        const struct tg_tx_mark *m = &p->tx[c % TG_TX_RING];
        q = tg_mp_drained(p, q, tg_mark_span(&prev, m)) + (double)(uint32_t)(m->cum - prev.cum);
        prev = *m;
    }
    p->q_bytes = q;
    p->q_at = tg_mark_time(prev.at, now);
}

/* How far back from the newest counter reported its DATA or PING is looked
 * for: further back, the delay reported is too old to pair. */
#define TIMED_LOOKBACK 32

/* The mark of the datagram whose one-way delay a feedback reports: the newest
 * DATA or PING up to counter `hi` whose mark is still in the ring, or NULL. */
static const struct tg_tx_mark *timed_mark(const struct tg_path *p, uint64_t hi)
{
    uint64_t sent = p->cur.send_counter;
    for (uint64_t c = hi; c + TIMED_LOOKBACK > hi && sent - c <= TG_TX_RING; c--) {
        if (p->tx[c % TG_TX_RING].held != TG_MARK_UNTIMED)
            return &p->tx[c % TG_TX_RING];
        if (c == 0)
            break;
    }
    return NULL;
}

void tg_mp_on_feedback(struct tg_mp *mp, const struct tg_frame *f, tg_time now)
{
    unsigned slot = f->u.feedback.uplink;
    if (!tg_mp_keyed(mp, slot))
        return;
    struct tg_path *p = mp->paths[slot];
    uint64_t rxp = f->u.feedback.rx_packets, rxb = f->u.feedback.rx_bytes;
    uint64_t hi = f->u.feedback.highest_seq;
    if (p->fb_seen && (rxp < p->fb_rx_packets || hi < p->fb_highest))
        return; /* an older feedback overtaken by a newer one */
    enum tg_health before = p->est.health;
    /* the newest counter reported was sent within the ring: its mark is valid */
    uint64_t sent_counter = p->cur.send_counter;
    bool hi_known = sent_counter > hi && sent_counter - hi <= TG_TX_RING;
    /* the one-way delay is of the newest DATA frame: news only with new data */
    struct tg_uplink_feedback fb = {.has_owd = rxb > (p->fb_seen ? p->fb_rx_bytes : 0) &&
                                               f->u.feedback.owd_us != TG_OWD_UNKNOWN,
                                    .owd_us = f->u.feedback.owd_us};
    /* the delay's datagram, paired by its mark: a packet held in the tunnel
     * carried its older time, and its arrival at the receiver is when it
     * was sent plus that delay (in the sender's clock, offset by the fixed
     * difference of the two clocks, which intervals cancel) */
    const struct tg_tx_mark *tm = fb.has_owd && hi_known ? timed_mark(p, hi) : NULL;
    if (tm != NULL)
        fb.owd_us -= (int64_t)tm->held;
    else
        fb.has_owd = false;
    tg_time arrival = tm != NULL ? tg_mark_time(tm->at, now) + (tg_time)fb.owd_us : 0;
    if (p->fb_seen) {
        uint64_t expected = hi - p->fb_highest, received = rxp - p->fb_rx_packets;
        if (received > expected) { /* late arrivals below the old highest */
            uint64_t late = received - expected;
            fb.late = late < UINT32_MAX ? (uint32_t)late : UINT32_MAX;
            received = expected;
        }
        if (expected > 0 && expected < UINT32_MAX) {
            fb.expected = (uint32_t)expected;
            fb.received = (uint32_t)received;
            fb.bytes = rxb - p->fb_rx_bytes;
            /* the receiver's own spacing once it is known: the feedbacks'
             * arrivals here add the jitter of the way back. A feedback
             * without a delay adds none; the next with one spans its time. */
            fb.ack_interval_us = now - p->fb_at;
            if (p->fb_arrival_valid) {
                int64_t spacing = tm != NULL ? (int64_t)(arrival - p->fb_arrival) : 0;
                fb.ack_interval_us = spacing > 0 ? (tg_time)spacing : 0;
            }
            if (hi_known && sent_counter - p->fb_highest <= TG_TX_RING)
                fb.send_interval_us = tg_mark_span(&p->tx[p->fb_highest % TG_TX_RING],
                                                   &p->tx[hi % TG_TX_RING]);
        }
    }
    tg_uplink_on_feedback(&p->est, &fb, now);
    bool advanced = !p->fb_seen || hi > p->fb_highest;
    p->fb_seen = true;
    p->fb_rx_packets = rxp;
    p->fb_rx_bytes = rxb;
    if (advanced) {
        p->fb_advanced_at = now;
        /* still unreported: a DATA or PING sent after the newest one reported
         * (about when the datagram after that one went) */
        p->unreported = p->elicit_counter > hi;
        if (p->unreported && sent_counter - hi <= TG_TX_RING)
            p->unreported_at = tg_mark_time(p->tx[(hi + 1) % TG_TX_RING].at, now);
    }
    p->fb_highest = hi;
    p->fb_at = now;
    if (tm != NULL) {
        p->fb_arrival = arrival;
        p->fb_arrival_valid = true;
    }
    /* the mark of the highest counter the receiver has seen (when it has
     * left the ring, the oldest mark: fewer bytes count as sent after it) */
    p->anchor_valid = hi_known;
    if (hi_known)
        p->reported = p->tx[hi % TG_TX_RING];
    else if (sent_counter > hi)
        p->reported = p->tx[sent_counter % TG_TX_RING];
    else
        p->reported.cum = (uint32_t)p->tx_bytes;
    if (hi_known)
        queue_replay(p, hi, sent_counter, now);
    else
        p->q_valid = false;
    tg_mp_health_event(mp, slot, before, now);
}
