/* Loss recovery of striped packets inside the tunnel (see recover.h). */
#include "recover.h"

#include "pace.h"
#include "playout.h"

#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct rtx_slot {
    uint64_t seq;     /* UINT64_MAX: empty */
    uint64_t counter; /* its datagram's counter on the uplink it went first */
    uint16_t len;
    uint8_t uplink; /* where it went first */
    uint8_t again;  /* times sent again */
    bool unordered; /* delivered as it comes: only ever reinjected */
    bool blind;     /* went while no uplink answered: sent again once one does */
};

struct tg_rtx {
    uint32_t mask, slot_bytes;
    struct rtx_slot *slots;
    uint8_t *bytes;
};

/* A packet into its slot. The store is written far more than it is read (a
 * packet is sent again rarely, and only within the next few thousand), and a
 * slot is reused 2048 packets later, long out of the cache: on x86 the copy
 * streams past the cache instead of first reading every line it overwrites
 * (engine time per packet -4%). */
static void store_bytes(uint8_t *dst, const uint8_t *src, size_t len)
{
#if defined(__SSE2__)
    if (((uintptr_t)dst & 15) == 0) {
        size_t i = 0;
        for (; i + 16 <= len; i += 16)
            _mm_stream_si128((__m128i *)(void *)(dst + i),
                             _mm_loadu_si128((const __m128i *)(const void *)(src + i)));
        memcpy(dst + i, src + i, len - i);
        return;
    }
#endif
    memcpy(dst, src, len);
}

/* The retransmission budget after one more striped packet. */
static double earn(const struct tg_mp *mp, double tokens)
{
    tokens += mp->cfg->retransmit_budget;
    return tokens > TG_RTX_BUDGET_CAP ? TG_RTX_BUDGET_CAP : tokens;
}

bool tg_rtx_store(struct tg_mp *mp, uint64_t seq, const uint8_t *pkt, size_t len, unsigned uplink,
                  bool ordered, tg_time now)
{
    uint32_t n = mp->cfg->retransmit_slots;
    if (n == 0 || (n & (n - 1)) != 0)
        return false;
    mp->kept_at = now;
    if (mp->rtx == NULL) {
        /* the bytes 16-byte aligned, as the allocation is */
        size_t slot_bytes = (mp->cfg->max_packet + 15u) & ~(size_t)15;
        size_t head = (sizeof(struct tg_rtx) + n * sizeof(struct rtx_slot) + 15u) & ~(size_t)15;
        struct tg_rtx *r = tg_alloc_zeroed(&mp->alloc, head + (size_t)n * slot_bytes);
        if (r == NULL)
            return false; /* no recovery rather than no traffic */
        r->mask = n - 1;
        r->slot_bytes = (uint32_t)slot_bytes;
        r->slots = (struct rtx_slot *)(r + 1);
        r->bytes = (uint8_t *)r + head;
        for (uint32_t i = 0; i < n; i++)
            r->slots[i].seq = UINT64_MAX;
        mp->rtx = r;
    }
    struct tg_rtx *r = mp->rtx;
    if (len > r->slot_bytes)
        return false;
    struct rtx_slot *s = &r->slots[seq & r->mask];
    /* its datagram's counter: the one sealed next (none when kept for no uplink) */
    uint64_t counter = uplink < TG_MAX_UPLINKS ? mp->paths[uplink]->cur.send_counter : 0;
    *s = (struct rtx_slot){.seq = seq,
                           .counter = counter,
                           .len = (uint16_t)len,
                           .uplink = (uint8_t)uplink,
                           .unordered = !ordered};
    store_bytes(r->bytes + (size_t)(seq & r->mask) * r->slot_bytes, pkt, len);
    if (ordered)
        mp->rtx_tokens = earn(mp, mp->rtx_tokens);
    return true;
}

void tg_rtx_sent(struct tg_mp *mp, uint64_t seq, unsigned uplink, uint64_t counter)
{
    struct tg_rtx *r = mp->rtx;
    if (r == NULL)
        return;
    struct rtx_slot *s = &r->slots[seq & r->mask];
    if (s->seq == seq && s->again == 0) {
        s->uplink = (uint8_t)uplink;
        s->counter = counter;
    }
}

void tg_rtx_rx_striped(struct tg_mp *mp)
{
    mp->ask_tokens = earn(mp, mp->ask_tokens);
}

bool tg_rtx_may_ask(struct tg_mp *mp)
{
    if (mp->ask_tokens < 1)
        return false;
    mp->ask_tokens -= 1;
    return true;
}

/* How long the receiver holds a lost packet's gap: a round trip on its
 * fastest uplink (NACK out, packet back) with room for variance, capped
 * (recover.h). */
tg_time tg_rtx_recover_wait(const struct tg_mp *mp)
{
    tg_time best = TG_TIME_NEVER;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (p == NULL || !p->keyed || !p->est.has_rtt || p->est.health >= TG_HEALTH_UNHEALTHY)
            continue;
        best = tg_time_min(best, p->est.srtt_us + 4 * p->est.rttvar_us);
    }
    tg_time cap = mp->cfg->reorder.max_hold_us / 4;
    if (best == TG_TIME_NEVER)
        return cap;
    best += TG_MSEC(10);
    return best < cap ? best : cap;
}

/* How long the path's modelled queue takes to drain (0 before a rate). */
static double queue_us(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    if (!p->est.has_rate || !(p->est.rate_bps > 0))
        return 0;
    return (double)tg_mp_queued(mp, p, now) * 8e6 / p->est.rate_bps;
}

/* When a packet sent on p now should arrive, relative to the other paths:
 * its one-way delay plus its backlog, an overdue one last of all. */
static double arrival_us(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    double us = (p->est.has_owd ? (double)p->est.owd_base_us : 0) + queue_us(mp, p, now);
    if (now >= tg_mp_overdue_at(mp, p))
        us += 1e9; /* last resort: it may be dead */
    return us;
}

/* The usable uplink where a packet sent now should arrive first (relative
 * one-way delay plus its backlog; an overdue one only when no other is left),
 * avoiding `avoid` when another will do; -1 when none. *at_us (when not
 * NULL) gets the chosen one's arrival_us, unless `avoid` was the only one. */
static int earliest_path(const struct tg_mp *mp, int avoid, tg_time now, double *at_us)
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
        double us = arrival_us(mp, p, now);
        if (best < 0 || us < best_us) {
            best = (int)i;
            best_us = us;
        }
    }
    if (best < 0)
        return fallback;
    if (at_us != NULL)
        *at_us = best_us;
    return best;
}

/* Ask the peer for the packets in mp->nack and the runs in mp->runs, on the
 * uplink with the shortest round trip. */
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
        size_t cap = tg_mp_plain_cap(mp), off = 0;
        tg_mp_add_feedback(mp, (unsigned)slot, plain, cap, &off);
        /* the runs first: their packets are older than the ones named */
        bool ok = true;
        for (uint8_t k = 0; ok && k < mp->n_runs; k++)
            ok = tg_frame_put_lost_run(plain, cap, &off, mp->runs[k].seq, mp->runs[k].after) ==
                 TG_OK;
        if (ok && mp->n_nack > 0)
            ok = tg_frame_put_nack(plain, cap, &off, mp->nack, mp->n_nack) == TG_OK;
        if (ok) {
            tg_mp_finish(mp, (unsigned)slot, buf, off, now);
            mp->io->counters.nacks_sent++;
        }
    }
    mp->n_nack = 0;
    mp->n_runs = 0;
}

/* Loss near the top of the queue is an overflow when it is this many times
 * as frequent as below, plus this many losses; the counts are halved every
 * LOSS_WINDOW DATA (a second or two of a busy uplink). */
#define LOSS_TOP_RATIO 3
#define LOSS_TOP_MIN 4
#define LOSS_WINDOW 8192

/* The largest queueing delay the path's DATA met in the last 10-20 s. */
static int64_t rx_queue_top(const struct tg_path *p)
{
    return p->rx_queue_max[0] > p->rx_queue_max[1] ? p->rx_queue_max[0] : p->rx_queue_max[1];
}

/* The queueing delay the last DATA met: its one-way delay over the
 * windowed minimum. */
static int64_t rx_queue_now(const struct tg_path *p)
{
    return p->rx_owd_us - tg_playout_owd_floor(p);
}

/* The queue the last DATA met is near the largest of late, where a
 * drop-tail queue overflows. */
static bool rx_at_top(const struct tg_path *p)
{
    if (!p->rx_owd_seen)
        return false;
    int64_t qmax = rx_queue_top(p);
    return qmax > 2000 && 4 * rx_queue_now(p) >= 3 * qmax;
}

/* Track the queueing delay the uplink's DATA meets: one-way delay over its
 * windowed minimum, and the largest such delay of the last 10-20 s. A
 * drop-tail queue overflows at its full length; over a second or two the
 * largest queue seen is only how far the inner flow has filled it lately,
 * and random losses near that level were taken for overflows. */
void tg_rtx_rx_sample(struct tg_path *p, tg_time now)
{
    bool first = !p->rx_owd_seen;
    tg_playout_owd_sample(p, now);
    if (first || now - p->rx_queue_bucket >= TG_SEC(10)) {
        p->rx_queue_max[1] = first ? 0 : p->rx_queue_max[0];
        p->rx_queue_max[0] = 0;
        p->rx_queue_bucket = now;
    }
    int64_t q = rx_queue_now(p);
    if (q > p->rx_queue_max[0])
        p->rx_queue_max[0] = q;
    bool top = rx_at_top(p);
    p->lc_n++;
    p->lc_top_n += top;
    if (p->lc_n >= LOSS_WINDOW) {
        p->lc_n /= 2;
        p->lc_top_n /= 2;
        p->lc_loss /= 2;
        p->lc_top_loss /= 2;
    }
}

/* Beyond the largest queue seen: half of it again, and a few ms of jitter. */
#define REACH_SLACK_US ((int64_t)TG_MSEC(5))
/* Before an uplink's first DATA: its PINGs' delay and this. A PING is small
 * and goes alone; the first DATA it carries may be one of a burst striped
 * onto it, or wait for a cellular link's next delivery slot. Given up 10 ms
 * after the PINGs' delay, such a burst arrived late and was dropped, and the
 * inner flow ended its slow start for losses the tunnel made. */
#define REACH_FIRST_US ((int64_t)TG_MSEC(50))

int64_t tg_rtx_reach(const struct tg_path *p)
{
    if (p->rx_owd_us == TG_OWD_UNKNOWN)
        return INT64_MAX;
    if (!p->rx_owd_seen) /* a PING's delay: DATA may meet a queue it did not */
        return p->rx_owd_us + REACH_FIRST_US;
    int64_t last = p->rx_owd_us + 2 * REACH_SLACK_US;
    int64_t q = rx_queue_top(p);
    int64_t reach = tg_playout_owd_floor(p) + q + q / 2 + REACH_SLACK_US;
    return reach > last ? reach : last;
}

/* With no loss below the top yet, losses all near it are an overflow when
 * they are frequent there (at least 1 DATA in 25 near the top lost: more than
 * the random loss of a usable path), when chance would rarely put k of them
 * there (share^k below 1/1000, the share in 1/65536), when nearly all DATA
 * meets the top (a standing queue: what is lost there is the flows'
 * excess), or when the queue is long in itself (at least 100 ms and a round
 * trip: a buffer the flows fill, where backing off costs nothing but
 * delay). Random losses early in an inner flow's slow start come near a top
 * that is still rising and is short; taken for overflows, they ended the
 * slow start at a fraction of the path's rate. */
#define LOSS_FREQUENT_PER 25
#define LOSS_CHANCE_Q16 66
#define LOSS_STANDING_PCT 90
#define LOSS_LONG_QUEUE_US ((int64_t)TG_MSEC(100))

static bool top_losses_overflow(const struct tg_path *p)
{
    if (LOSS_FREQUENT_PER * (uint64_t)p->lc_top_loss >= p->lc_top_n)
        return true;
    if (100 * (uint64_t)p->lc_top_n >= LOSS_STANDING_PCT * (uint64_t)p->lc_n)
        return true;
    int64_t q = rx_queue_now(p);
    if (q >= LOSS_LONG_QUEUE_US && q >= (int64_t)p->est.min_rtt_us)
        return true;
    uint64_t share = ((uint64_t)p->lc_top_n << 16) / (p->lc_n ? p->lc_n : 1);
    uint64_t chance = 1u << 16;
    for (uint32_t k = 0; k < p->lc_top_loss && chance >= LOSS_CHANCE_Q16; k++)
        chance = (chance * share) >> 16;
    return chance < LOSS_CHANCE_Q16;
}

/* A loss is the queue overflowing (the inner flow must see it) when it
 * comes near the top of the queue and losses there are clearly more
 * frequent than below it: a drop-tail queue drops only when full, random
 * loss strikes at any level. Taking every loss near the top for an
 * overflow held the inner flow at whatever level it had reached when a
 * random loss came, and it never grew past it. Counts the n losses. */
bool tg_rtx_congested(struct tg_path *p, uint32_t n)
{
    bool top = rx_at_top(p);
    p->lc_loss += n;
    p->lc_top_loss += top ? n : 0;
    if (!top)
        return false;
    uint64_t rest_n = (uint64_t)(p->lc_n - p->lc_top_n) + 1;
    uint64_t rest_loss = p->lc_loss - p->lc_top_loss;
    if ((uint64_t)p->lc_top_loss * rest_n <=
        LOSS_TOP_RATIO * (uint64_t)p->lc_top_n * rest_loss + LOSS_TOP_MIN * rest_n)
        return false;
    return rest_loss > 0 || top_losses_overflow(p);
}

/* A gap still empty when its hold ran out: the NACK or the packet sent
 * again was lost too. Ask once more and hold it again. */
void tg_rtx_ask_again(struct tg_mp *mp, tg_time now)
{
    if (mp->cfg->retransmit_slots == 0)
        return;
    uint64_t again[TG_NACK_MAX];
    size_t n = tg_reorder_expired_holds(mp->reorder, now, TG_RTX_TRIES, again, TG_NACK_MAX);
    if (n == 0)
        return;
    tg_time until = tg_time_add(now, tg_rtx_recover_wait(mp));
    for (size_t k = 0; k < n; k++) {
        if (!tg_rtx_may_ask(mp))
            break; /* the sender would not answer: the rest are given up on */
        tg_reorder_hold(mp->reorder, again[k], until);
        mp->nack[mp->n_nack++] = again[k];
        if (mp->n_nack == TG_NACK_MAX)
            tg_rtx_send_nack(mp, now);
    }
    if (mp->n_nack > 0)
        tg_rtx_send_nack(mp, now);
}

/* Send stored packet `seq` once more on uplink i. Returns 1 sent, 0 not
 * sent, -1 the output queue is full. */
static int resend(struct tg_mp *mp, struct rtx_slot *s, uint64_t seq, int i, bool ordered,
                  tg_time now)
{
    struct tg_rtx *r = mp->rtx;
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return -1;
    size_t off = 0;
    const uint8_t *pkt = r->bytes + (size_t)(seq & r->mask) * r->slot_bytes;
    /* no PREV: a packet sent again is not part of its uplink's chain; an
     * unordered one carries its own send time, as it did the first time */
    tg_time stamp = ordered ? tg_pace_stamp(mp, mp->paths[i], now) : now;
    if (tg_frame_put_data(buf + TG_DATA_HEADER_LEN, tg_mp_plain_cap(mp), &off,
                          ordered ? TG_DATA_FLAG_ORDERED : 0, seq, stamp, 0, pkt, s->len) != TG_OK)
        return 0;
    mp->paths[i]->held_us = now - stamp;
    mp->paths[i]->timed = true;
    tg_mp_finish(mp, (unsigned)i, buf, off, now);
    tg_mp_elicit(mp->paths[i], now);
    s->again++;
    mp->io->counters.retransmitted++;
    return 1;
}

/* Reinjected packets join the other uplinks' queues up to this delay; the
 * rest follow as those drain. All at once, the packets in flight on a busy
 * uplink would overflow the buffer of the one taking them over. */
#define REINJECT_QUEUE_US TG_MSEC(20)
#define REINJECT_RETRY_US TG_MSEC(5)
/* While no other uplink answers, an overdue uplink's packets are looked at
 * again this often. */
#define REINJECT_WAIT_US TG_MSEC(10)

/* Where a scan of the store resumes: at `cursor`, or the oldest packet the
 * store still holds. */
static uint64_t scan_from(const struct tg_mp *mp, const struct tg_rtx *r, uint64_t cursor)
{
    uint64_t n = (uint64_t)r->mask + 1;
    uint64_t oldest = mp->next_seq > n ? mp->next_seq - n : 0;
    return cursor > oldest ? cursor : oldest;
}

/* resend, unless uplink i's queue is already REINJECT_QUEUE_US deep (then
 * -1, as for a full output queue: the rest waits). */
static int paced(struct tg_mp *mp, struct rtx_slot *s, uint64_t seq, int i, bool ordered,
                 tg_time now)
{
    if (queue_us(mp, mp->paths[i], now) > REINJECT_QUEUE_US)
        return -1;
    return resend(mp, s, seq, i, ordered, now);
}

void tg_rtx_reinject(struct tg_mp *mp, unsigned slot, tg_time now)
{
    struct tg_rtx *r = mp->rtx;
    struct tg_path *p = mp->paths[slot];
    if (r == NULL || p == NULL || now < p->reinject_at)
        return;
    uint64_t seq = scan_from(mp, r, p->reinject_seq);
    for (; seq < mp->next_seq; seq++) {
        struct rtx_slot *s = &r->slots[seq & r->mask];
        if (s->seq != seq || s->again || s->uplink != slot || s->counter <= p->fb_highest)
            continue;
        int i = earliest_path(mp, (int)slot, now, NULL);
        if (i < 0)
            continue; /* every uplink failing: what an inner TCP sends next is kept */
        if (i == (int)slot || now >= tg_mp_overdue_at(mp, mp->paths[i])) {
            /* no other uplink answers yet: the first that does takes it */
            p->reinject_at = tg_time_add(now, REINJECT_WAIT_US);
            break;
        }
        if (paced(mp, s, seq, i, !s->unordered, now) < 0) {
            p->reinject_at = tg_time_add(now, REINJECT_RETRY_US);
            break; /* the rest on the next call */
        }
    }
    p->reinject_seq = seq;
}

void tg_rtx_blind(struct tg_mp *mp, uint64_t seq)
{
    struct tg_rtx *r = mp->rtx;
    if (r == NULL || r->slots[seq & r->mask].seq != seq)
        return;
    r->slots[seq & r->mask].blind = true;
    if (!mp->blind) {
        mp->blind = true;
        mp->blind_from = seq;
    }
}

bool tg_rtx_hold(struct tg_mp *mp, const uint8_t *pkt, size_t len, tg_time now)
{
    uint64_t seq = mp->next_seq;
    if (!tg_rtx_store(mp, seq, pkt, len, TG_MAX_UPLINKS, false, now))
        return false;
    mp->next_seq++;
    tg_rtx_blind(mp, seq);
    return true;
}

void tg_rtx_replay(struct tg_mp *mp, tg_time now)
{
    struct tg_rtx *r = mp->rtx;
    if (!mp->blind || now < mp->replay_at)
        return;
    mp->replay_at = 0; /* again on the next datagram, unless set below */
    mp->blind = r != NULL;
    if (r == NULL)
        return;
    uint64_t seq = scan_from(mp, r, mp->blind_from);
    for (; seq < mp->next_seq; seq++) {
        struct rtx_slot *s = &r->slots[seq & r->mask];
        if (s->seq != seq || !s->blind)
            continue;
        int i = earliest_path(mp, -1, now, NULL);
        if (i < 0 || now >= tg_mp_overdue_at(mp, mp->paths[i]))
            break; /* none answers yet */
        if (paced(mp, s, seq, i, false, now) < 0) {
            mp->replay_at = tg_time_add(now, REINJECT_RETRY_US);
            break;
        }
        s->blind = false;
    }
    mp->blind_from = seq;
    mp->blind = seq < mp->next_seq;
}

/* The peer lost stored packet `seq`: send it once more where it arrives
 * first. Returns as resend. */
static int answer(struct tg_mp *mp, struct rtx_slot *s, uint64_t seq, tg_time now)
{
    double other_us = 0;
    int i = earliest_path(mp, s->uplink, now, &other_us);
    if (i < 0)
        return 0;
    /* Another uplink, as a loss may be the first of an outage; but not
     * one much slower than a healthy uplink that lost it: that copy
     * would come after the receiver stopped waiting for it. */
    const struct tg_path *lost_on = mp->paths[s->uplink];
    if (i != s->uplink && tg_mp_usable(mp, lost_on, now) &&
        lost_on->est.health <= TG_HEALTH_HEALTHY &&
        other_us - arrival_us(mp, lost_on, now) > (double)lost_on->est.srtt_us / 2)
        i = s->uplink;
    int rc = resend(mp, s, seq, i, !s->unordered, now);
    if (rc > 0)
        mp->rtx_tokens -= 1;
    return rc;
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
        if (seq >= mp->next_seq || s->seq != seq || s->unordered || s->again >= TG_RTX_TRIES ||
            mp->rtx_tokens < 1)
            continue;
        if (answer(mp, s, seq, now) < 0)
            return;
    }
}

void tg_rtx_on_lost_run(struct tg_mp *mp, const struct tg_frame *f, tg_time now)
{
    struct tg_rtx *r = mp->rtx;
    if (r == NULL || mp->next_seq == 0 || mp->rtx_tokens < 1)
        return;
    uint64_t top = tg_widen32(f->u.lost_run.seq, mp->next_seq - 1);
    const struct rtx_slot *named = &r->slots[top & r->mask];
    if (top >= mp->next_seq || named->seq != top)
        return;
    uint64_t after = tg_widen32(f->u.lost_run.after, named->counter);
    /* back from the named packet to the datagram named, within the span and
     * what the store still holds; then sent again oldest first */
    uint64_t lost[TG_NACK_MAX];
    size_t n = 0;
    uint64_t span = (uint64_t)r->mask < TG_LOST_RUN_SPAN ? r->mask : TG_LOST_RUN_SPAN;
    uint64_t floor = top > span ? top - span : 0;
    for (uint64_t seq = top; seq-- > floor && n < TG_NACK_MAX;) {
        const struct rtx_slot *s = &r->slots[seq & r->mask];
        /* unordered ones are not asked for, and one that passed packets
         * held for its uplink went before them (its counter is lower) */
        if (s->seq != seq || s->uplink != named->uplink || s->unordered)
            continue;
        if (s->counter <= after)
            break;
        if (s->again == 0)
            lost[n++] = seq;
    }
    if (n == 0)
        mp->rtx_tokens -= 1;
    while (n > 0 && mp->rtx_tokens >= 1) {
        uint64_t seq = lost[--n];
        if (answer(mp, &r->slots[seq & r->mask], seq, now) < 0)
            return;
    }
}

void tg_rtx_free(struct tg_mp *mp)
{
    tg_alloc_free(&mp->alloc, mp->rtx);
    mp->rtx = NULL;
}

void tg_rtx_forget(struct tg_mp *mp, uint64_t seq)
{
    struct tg_rtx *r = mp->rtx;
    if (r != NULL && r->slots[seq & r->mask].seq == seq)
        r->slots[seq & r->mask].seq = UINT64_MAX;
}
