/* Loss recovery of striped packets inside the tunnel (see recover.h). */
#include "recover.h"

#include <string.h>

struct rtx_slot {
    uint64_t seq;   /* UINT64_MAX: empty */
    uint16_t len;
    uint8_t uplink; /* where it went first */
    bool again;     /* sent again already */
};

struct tg_rtx {
    uint32_t mask, slot_bytes;
    struct rtx_slot *slots;
    uint8_t *bytes;
};

void tg_rtx_store(struct tg_mp *mp, uint64_t seq, const uint8_t *pkt, size_t len,
                  unsigned uplink, tg_time now)
{
    uint32_t n = mp->cfg->retransmit_slots;
    if (n == 0 || (n & (n - 1)) != 0)
        return;
    mp->striped_at = now;
    if (mp->rtx == NULL) {
        size_t slot_bytes = mp->cfg->max_packet;
        struct tg_rtx *r = tg_alloc_zeroed(&mp->alloc, sizeof *r + n * sizeof *r->slots +
                                                           (size_t)n * slot_bytes);
        if (r == NULL)
            return; /* no recovery rather than no traffic */
        r->mask = n - 1;
        r->slot_bytes = (uint32_t)slot_bytes;
        r->slots = (struct rtx_slot *)(r + 1);
        r->bytes = (uint8_t *)(r->slots + n);
        for (uint32_t i = 0; i < n; i++)
            r->slots[i].seq = UINT64_MAX;
        mp->rtx = r;
    }
    struct tg_rtx *r = mp->rtx;
    if (len > r->slot_bytes)
        return;
    struct rtx_slot *s = &r->slots[seq & r->mask];
    *s = (struct rtx_slot){.seq = seq, .len = (uint16_t)len, .uplink = (uint8_t)uplink};
    memcpy(r->bytes + (size_t)(seq & r->mask) * r->slot_bytes, pkt, len);
    double cap = (double)TG_NACK_MAX * 2;
    mp->rtx_tokens += mp->cfg->retransmit_budget;
    if (mp->rtx_tokens > cap)
        mp->rtx_tokens = cap;
}

/* How long the receiver holds a lost packet's gap: a round trip on its
 * fastest uplink (NACK out, packet back) with room for variance. */
tg_time tg_rtx_recover_wait(const struct tg_mp *mp)
{
    tg_time best = TG_TIME_NEVER;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (p == NULL || !p->keyed || !p->est.has_rtt || p->est.health >= TG_HEALTH_UNHEALTHY)
            continue;
        best = tg_time_min(best, p->est.srtt_us + 4 * p->est.rttvar_us);
    }
    tg_time cap = mp->cfg->reorder.max_hold_us / 2;
    if (best == TG_TIME_NEVER)
        return cap;
    best += TG_MSEC(10);
    return best < cap ? best : cap;
}

/* The usable uplink where a packet sent now should arrive first (relative
 * one-way delay plus its backlog), avoiding `avoid` when another will do;
 * -1 when none. */
static int earliest_path(const struct tg_mp *mp, int avoid, tg_time now)
{
    int best = -1, fallback = -1;
    double best_us = 0;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!tg_mp_usable(mp, p, now) || p->est.health >= TG_HEALTH_UNHEALTHY)
            continue;
        if ((int)i == avoid) {
            fallback = (int)i;
            continue;
        }
        double us = p->est.has_owd ? (double)p->est.owd_base_us : 0;
        if (p->est.has_rate && p->est.rate_bps > 0)
            us += (double)tg_mp_queued(mp, p, now) * 8e6 / p->est.rate_bps;
        if (best < 0 || us < best_us) {
            best = (int)i;
            best_us = us;
        }
    }
    return best >= 0 ? best : fallback;
}

/* Ask the peer for the packets in mp->nack, on the uplink with the shortest
 * round trip. */
void tg_rtx_send_nack(struct tg_mp *mp, tg_time now)
{
    int slot = -1;
    tg_time best = TG_TIME_NEVER;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!tg_mp_usable(mp, p, now) || p->est.health >= TG_HEALTH_UNHEALTHY)
            continue;
        tg_time rtt = p->est.has_rtt ? p->est.srtt_us : TG_TIME_NEVER - 1;
        if (slot < 0 || rtt < best) {
            slot = (int)i;
            best = rtt;
        }
    }
    uint8_t *buf = slot >= 0 ? tg_io_reserve_out(mp->io) : NULL;
    if (buf != NULL) {
        uint8_t *plain = buf + TG_DATA_HEADER_LEN;
        size_t off = 0;
        tg_mp_add_feedback(mp, (unsigned)slot, plain, tg_mp_plain_cap(mp), &off);
        if (tg_frame_put_nack(plain, tg_mp_plain_cap(mp), &off, mp->nack, mp->n_nack) == TG_OK) {
            tg_mp_finish(mp, (unsigned)slot, buf, off, now);
            mp->io->counters.nacks_sent++;
        }
    }
    mp->n_nack = 0;
}

/* The peer lost these: send each once more where it arrives first. */
void tg_rtx_on_nack(struct tg_mp *mp, const struct tg_frame *f, tg_time now)
{
    struct tg_rtx *r = mp->rtx;
    if (r == NULL || mp->next_seq == 0)
        return;
    for (uint8_t k = 0; k < f->u.nack.count; k++) {
        uint64_t seq = tg_widen32(tg_get_u32(f->u.nack.seqs + 4 * k), mp->next_seq - 1);
        struct rtx_slot *s = &r->slots[seq & r->mask];
        if (seq >= mp->next_seq || s->seq != seq || s->again || mp->rtx_tokens < 1)
            continue;
        int i = earliest_path(mp, s->uplink, now);
        uint8_t *buf = i >= 0 ? tg_io_reserve_out(mp->io) : NULL;
        if (buf == NULL)
            return;
        size_t off = 0;
        const uint8_t *pkt = r->bytes + (size_t)(seq & r->mask) * r->slot_bytes;
        /* no PREV: a packet sent again is not part of its uplink's chain */
        if (tg_frame_put_data(buf + TG_DATA_HEADER_LEN, tg_mp_plain_cap(mp), &off, TG_DATA_FLAG_ORDERED,
                              seq, now, 0, pkt, s->len) != TG_OK)
            continue;
        tg_mp_finish(mp, (unsigned)i, buf, off, now);
        s->again = true;
        mp->rtx_tokens -= 1;
        mp->io->counters.retransmitted++;
    }
}

/* A move away from an uplink in this state is a failover, not a preference. */

void tg_rtx_free(struct tg_mp *mp)
{
    tg_alloc_free(&mp->alloc, mp->rtx);
    mp->rtx = NULL;
}
