/* The tunnel's own queue in front of each uplink: see pace.h. */
#include "pace.h"

#include "recover.h"

#include <string.h>

#define NONE UINT32_MAX
#define PACE_IDLE_US TG_SEC(2) /* the pool is given back once empty this long */
#define LIMIT_SPAN_US 2000     /* a fast uplink's queue is kept at least this long (limit) */
#define VALVE_DROP_LIMITS 8    /* the valve drops when the queue is this many limits ... */
#define VALVE_DROP_GAP_US TG_SEC(1) /* ... at most once this often per uplink */
#define DRAIN_EVERY_US TG_SEC(2)  /* a held-for queue is let empty at most this often ... */
#define DRAIN_SLACK_US TG_MSEC(5) /* ... for its drain time, a feedback interval and this */
#define DRAIN_FLOOR_US 1000       /* a delay this close to the floor found the queue empty */

struct pace_slot {
    uint64_t seq;
    tg_time at; /* held then: the time the DATA frame carries */
    uint32_t next; /* the next packet of the same uplink, or of the free list */
    uint16_t len;
    uint8_t flags;
};

struct tg_pace {
    uint32_t slots, slot_bytes, free;
    tg_time used_at; /* a packet was held or sent from here then */
    struct pace_slot *s;
    uint8_t *bytes;
};

/* The bytes kept in p's bottleneck queue: uplink_queue_limit, or what p
 * carries in LIMIT_SPAN_US if that is more (48 KB lasts 0.6 ms at 600 Mbit/s:
 * less than the gaps between the tunnel's own sends, so the link would
 * idle). */
static uint64_t limit(const struct tg_mp *mp, const struct tg_path *p)
{
    uint64_t l = mp->cfg->uplink_queue_limit;
    if (l == 0 || !p->est.has_rate)
        return l;
    double span = p->est.rate_bps / 8e6 * (double)LIMIT_SPAN_US;
    return span > (double)l ? (uint64_t)span : l;
}

/* paths whose queue the model knows; the others are never held for */
static bool modelled(const struct tg_path *p)
{
    return p->anchor_valid && p->q_valid && p->est.has_rate && p->est.rate_bps > 0;
}

/* The valve (a packet that waited TG_PACE_MAX_WAIT_US) drops it rather
 * than sending it when the queue the inner flows have built for p is many
 * times the limit: what the tunnel holds for p and what p's bottleneck
 * holds, by the model and by the delay the receiver measured both. They
 * have filled the tunnel's queue for 100 ms; sent, the packets would only
 * move that queue into the link's (which, full, would soon drop a whole
 * burst: an inner TCP that loses a thousand packets at once waits for its
 * timeout). One packet dropped here, at most once a second, tells them to
 * slow down at the cost of one loss. The tunnel holds nothing longer than
 * 100 ms, so it holds for p at most what the inner flows sent to p in 100
 * ms: for a slow uplink far below the bound, and a model that is wrong
 * there (an estimate below what the link carries) does not drop. */
static bool valve_drops(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    if (now - p->valve_drop_at < VALVE_DROP_GAP_US)
        return false;
    double full = VALVE_DROP_LIMITS * (double)limit(mp, p);
    double measured = tg_mp_measured_queue(p);
    double modelled_q = (double)tg_mp_queued(mp, p, now);
    double link = measured < modelled_q ? measured : modelled_q; /* both must say so */
    return (double)p->pace_bytes + link > full;
}

/* What p's bottleneck may hold: the limit, or while it drains about one
 * more packet (one of `len` bytes when it is empty). */
static uint64_t room_for(const struct tg_mp *mp, const struct tg_path *p, size_t len,
                         bool draining)
{
    return draining ? 2 * (uint64_t)len : limit(mp, p);
}

/* would `len` more bytes put p's modelled queue over what it may hold? */
static bool over_limit(const struct tg_mp *mp, const struct tg_path *p, size_t len, tg_time now)
{
    return tg_mp_queued(mp, p, now) + len > room_for(mp, p, len, now < p->drain_until);
}

bool tg_pace_wants(const struct tg_mp *mp, const struct tg_path *p, size_t len, tg_time now)
{
    if (mp->cfg->uplink_queue_limit == 0 || mp->cfg->pace_slots == 0)
        return false;
    if (p->pace_n > 0)
        return true; /* behind what it already holds */
    return modelled(p) && over_limit(mp, p, len, now);
}

static struct tg_pace *pool(struct tg_mp *mp)
{
    if (mp->pace != NULL)
        return mp->pace;
    uint32_t n = mp->cfg->pace_slots;
    size_t sb = mp->cfg->max_packet;
    struct tg_pace *q = tg_alloc_zeroed(&mp->alloc, sizeof *q + n * sizeof *q->s + (size_t)n * sb);
    if (q == NULL)
        return NULL;
    q->slots = n;
    q->slot_bytes = (uint32_t)sb;
    q->s = (struct pace_slot *)(q + 1);
    q->bytes = (uint8_t *)(q->s + n);
    for (uint32_t i = 0; i < n; i++)
        q->s[i].next = i + 1 < n ? i + 1 : NONE;
    q->free = 0;
    mp->pace = q;
    return q;
}

bool tg_pace_room(struct tg_mp *mp)
{
    const struct tg_pace *q = pool(mp);
    return q != NULL && q->free != NONE;
}

/* Should p's bottleneck queue be let empty now (pace.h)? When the current
 * one-way delay bucket has not met the last one's floor: a standing queue
 * would become the floor (agg_skew_q64: 17 of 31 runs lost packets at
 * 10.2 s, two buckets after their start). */
static bool drain_due(const struct tg_path *p, tg_time now)
{
    const struct tg_uplink_est *e = &p->est;
    return now - p->drain_at >= DRAIN_EVERY_US && e->has_rate && e->rate_bps > 0 &&
           e->has_owd && e->owd_prev_valid && e->owd_min_cur > e->owd_min_prev + DRAIN_FLOOR_US;
}

void tg_pace_hold(struct tg_mp *mp, unsigned slot, uint64_t seq, uint8_t flags,
                  const uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_pace *q = mp->pace;
    uint32_t i = q->free;
    q->free = q->s[i].next;
    q->s[i] = (struct pace_slot){.seq = seq, .at = now, .next = NONE, .len = (uint16_t)len, .flags = flags};
    memcpy(q->bytes + (size_t)i * q->slot_bytes, pkt, len);
    struct tg_path *p = mp->paths[slot];
    if (p->pace_n == 0)
        p->pace_head = i;
    else
        q->s[p->pace_tail].next = i;
    p->pace_tail = i;
    p->pace_n++;
    p->pace_bytes += len;
    q->used_at = now;
    tg_uplink_on_hold(&p->est, now);
    if (drain_due(p, now)) {
        double drain_us = (double)limit(mp, p) * 8e6 / p->est.rate_bps;
        p->drain_at = now;
        p->drain_until = tg_time_add(now, (tg_time)drain_us + mp->cfg->feedback_interval_us +
                                              DRAIN_SLACK_US);
    }
}

/* take path p's oldest held packet off its list into the free list */
static uint32_t pop(struct tg_pace *q, struct tg_path *p)
{
    uint32_t i = p->pace_head;
    p->pace_head = q->s[i].next;
    p->pace_n--;
    p->pace_bytes -= q->s[i].len;
    q->s[i].next = q->free;
    q->free = i;
    return i;
}

void tg_pace_drain(struct tg_mp *mp, tg_time now)
{
    struct tg_pace *q = mp->pace;
    if (q == NULL)
        return;
    bool held = false;
    for (unsigned k = 0; k < TG_MAX_UPLINKS; k++) {
        struct tg_path *p = mp->paths[k];
        if (p != NULL && p->drain_until != 0 && now >= p->drain_until)
            p->drain_until = 0; /* drained: the limit is back */
        if (p == NULL || p->pace_n == 0)
            continue;
        bool flush = !tg_mp_usable(mp, p, now) || now >= tg_mp_overdue_at(mp, p) || !modelled(p);
        while (p->pace_n > 0 && tg_queue_room(&mp->io->out) > 0) {
            const struct pace_slot *s = &q->s[p->pace_head];
            bool waited = now - s->at >= TG_PACE_MAX_WAIT_US; /* the valve */
            if (!flush && !waited && over_limit(mp, p, s->len, now))
                break;
            if (!flush && waited && valve_drops(mp, p, now)) {
                uint32_t i = pop(q, p);
                tg_rtx_forget(mp, q->s[i].seq); /* the receiver skips its number */
                tg_io_drop(mp->io, TG_DROP_QUEUE_FULL);
                p->valve_drop_at = now;
                continue;
            }
            uint32_t i = pop(q, p);
            /* the slot is free again but nothing reuses it before this returns */
            tg_mp_send_data(mp, k, q->s[i].seq, q->s[i].flags | TG_DATA_FLAG_HELD, true,
                            q->bytes + (size_t)i * q->slot_bytes, q->s[i].len, q->s[i].at, now);
            q->used_at = now;
        }
        held |= p->pace_n > 0;
    }
    if (!held && now - q->used_at >= PACE_IDLE_US)
        tg_pace_free(mp);
}

tg_time tg_pace_next_deadline(const struct tg_mp *mp)
{
    const struct tg_pace *q = mp->pace;
    if (q == NULL)
        return TG_TIME_NEVER;
    tg_time t = TG_TIME_NEVER;
    bool held = false;
    for (unsigned k = 0; k < TG_MAX_UPLINKS; k++) {
        const struct tg_path *p = mp->paths[k];
        if (p == NULL || p->pace_n == 0)
            continue;
        held = true;
        t = tg_time_min(t, tg_mp_overdue_at(mp, p));
        if (!modelled(p))
            return 0; /* flush now */
        /* the model drains from its last datagram on: when will the oldest
         * held packet fit? */
        double per_us = tg_mp_drain_per_us(p);
        size_t len = q->s[p->pace_head].len;
        /* (tg_pace_drain clears drain_until once it has passed) */
        double room = (double)room_for(mp, p, len, p->drain_until != 0) - (double)len;
        if (p->drain_until != 0)
            t = tg_time_min(t, p->drain_until); /* the limit is back then */
        tg_time at = p->q_at;
        if (p->q_bytes > room)
            at = tg_time_add(at, (tg_time)((p->q_bytes - room) / per_us) + 1);
        t = tg_time_min(t, tg_time_min(at, tg_time_add(q->s[p->pace_head].at, TG_PACE_MAX_WAIT_US)));
    }
    return held ? t : tg_time_add(q->used_at, PACE_IDLE_US);
}

tg_time tg_pace_stamp(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    if (mp->pace == NULL || p->pace_n == 0)
        return now;
    return tg_time_min(mp->pace->s[p->pace_head].at, now);
}

void tg_pace_forget(struct tg_mp *mp, unsigned slot)
{
    struct tg_path *p = mp->paths[slot];
    while (mp->pace != NULL && p != NULL && p->pace_n > 0) {
        pop(mp->pace, p);
        tg_io_drop(mp->io, TG_DROP_NO_UPLINK);
    }
}

void tg_pace_free(struct tg_mp *mp)
{
    for (unsigned k = 0; k < TG_MAX_UPLINKS; k++)
        if (mp->paths[k] != NULL) {
            mp->paths[k]->pace_n = 0;
            mp->paths[k]->pace_bytes = 0;
        }
    tg_alloc_free(&mp->alloc, mp->pace);
    mp->pace = NULL;
}
