/*
 * tcp.c: see tcp.h. The sender's scoreboard is a ring of segment records
 * indexed by segment number; the segments in flight are also threaded on a
 * list in transmission order (RACK walks it from the oldest). The receiver
 * keeps a ring of the segments it holds and a sorted array of the index
 * ranges above the cumulative ACK (the SACK blocks). Rings start small and
 * double while a quarter of them is in flight (the rest is history, so a
 * late DSACK still finds its segment), up to 8 receive windows of full
 * segments. Congestion control is cc.c.
 *
 * Reordering, as current Linux treats it: RACK's reordering window starts
 * at min_rtt/4 and widens by a quarter min_rtt per round trip that brought
 * a DSACK, up to srtt, falling back after 16 recoveries without one
 * (tcp_rack.c). A recovery saves the congestion state; when DSACKs show
 * that every retransmission of the episode was a duplicate, the state is
 * restored and the recovery ends (Linux's DSACK undo). So a skew larger
 * than the window still costs spurious retransmits and a cwnd cut, but
 * only until the window has grown past it, and the cuts are undone.
 */
#include "tcp.h"

#include "cc.h"
#include "tcp_rack.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NONE        UINT64_MAX
#define RTO_INIT_US TG_SEC(1)
#define RTO_MIN_US  TG_MSEC(200)
#define RTO_MAX_US  TG_SEC(60)
#define DELACK_US   TG_MSEC(40)
#define DUPTHRESH   3
#define RING_INIT   64
#define N_RECENT    6

enum { F_SACKED = 1, F_LOST = 2, F_RETRANS = 4, F_INFLIGHT = 8, F_APPLIM = 16 };
enum { T_RTO, T_RACK, T_PACE, T_DELACK, T_N };
enum { REC_NONE, REC_FAST, REC_LOSS };

struct txseg {
    uint64_t seq;
    tg_time first_tx, last_tx;
    uint64_t prev, next; /* the in-flight list, by absolute index */
    uint64_t delivered;  /* rate sampling: connection's delivered bytes when sent */
    tg_time delivered_time, first_sent_time;
    uint32_t len;
    uint16_t flags, tx_count;
    uint16_t dsacks; /* duplicates reported: at most tx_count - 1 are spurious */
};

struct rxseg {
    uint64_t seq;
    tg_time first_tx;
    uint32_t len;
    bool present;
};

struct range { /* segment indices [lo, hi) */
    uint64_t lo, hi;
};

struct tmr {
    tg_time deadline; /* when it should fire, or NEVER */
    tg_time sched;    /* time of the pending event that is not stale, or NEVER */
    uint32_t gen;     /* events carrying another gen are stale */
};

/* The sender's half. */
struct snd {
    uint64_t app_end;                 /* bytes the application has written (NONE: endless) */
    uint64_t una, nxt;                /* bytes: first unacked, next new */
    uint64_t una_idx, nxt_idx, tx_lo; /* segment indices; tx records valid from tx_lo */
    uint64_t wnd_edge;                /* una-side ack + advertised window */
    uint64_t inflight;                /* bytes sent, not SACKed/ACKed, not marked lost */
    bool cwnd_limited;
    int rec;
    uint64_t recovery_point;             /* recovery ends when una reaches this */
    uint64_t retx_idx, n_lost;           /* lowest index that may be lost; segments marked lost */
    uint64_t dup_idx;                    /* dupthresh marking done below this index */
    uint64_t sack_high;                  /* highest SACKed index + 1 (0: none) */
    uint64_t ts_head, ts_tail;           /* in-flight list, oldest transmission first */
    uint64_t cache[SIM_MSG_SACK_MAX][2]; /* the last ACK's SACK blocks, already applied */
    unsigned n_cache;
    bool have_rtt;
    tg_time srtt, rto, min_rtt;
    tg_time mdev, mdev_max, rttvar; /* Linux's RTO variance terms (rtt_sample) */
    uint64_t rtt_seq;               /* bytes: a round trip ends when una passes this */
    bool rack_valid;
    tg_time rack_xmit, rack_rtt;
    uint64_t rack_end;
    uint64_t delivered; /* rate sampling (draft-cheng-iccrg-delivery-rate-estimation) */
    tg_time delivered_time, first_sent_time;
    uint64_t app_limited; /* 0, or delivered count that ends the app-limited phase */
    tg_time next_send;    /* pacing */
    bool busy;            /* has unacknowledged or unsent data */
    tg_time busy_since;
    struct sim_cc_state cc;
    struct sim_rack_reo reo;
    bool reord_seen; /* a never-retransmitted segment was delivered below a SACKed one */
    /* Undo (Linux's undo_marker / undo_retrans): armed when a recovery
     * starts, it counts the episode's retransmissions; DSACKs that prove
     * every one of them spurious restore the state saved in prior_cc. */
    bool undo_armed;
    uint64_t undo_seq;     /* bytes: una when the episode began */
    uint64_t undo_retrans; /* the episode's retransmissions not yet shown spurious */
    struct sim_cc_state prior_cc;
};

/* The receiver's half: it knows only what messages told it. */
struct rcv {
    uint64_t nxt, idx; /* next byte and segment expected */
    uint64_t high;     /* highest first-transmission index seen + 1 */
    uint64_t ooo_bytes, unacked;
    size_t ooo_head, n_ooo; /* ranges ooo[ooo_head .. +n_ooo), sorted */
    tg_time ts_recent;
    tg_time last_delivery;
    bool dsack;
    uint64_t dsack_seq, dsack_end, dsack_idx;
    uint64_t recent[N_RECENT]; /* latest out-of-order arrivals, newest first */
    unsigned n_recent;
};

struct sim_tcp {
    enum sim_cc cc;
    uint32_t mss, rwnd_bytes;
    unsigned conn;
    enum sim_side snd_side;
    struct sim_evq *q;
    const struct sim_tcp_ops *ops;
    void *ctx;
    struct sim_flow_stats *st;
    size_t cap, cap_max; /* ring entries (powers of two) */
    struct txseg *tx;
    struct rxseg *rx;
    struct range *ooo;
    size_t ooo_cap;
    uint32_t gen;
    struct tmr tmr[T_N];
    struct snd s;
    struct rcv r;
};

/* What one ACK taught the sender. */
struct ack_info {
    uint64_t acked; /* bytes newly SACKed or ACKed */
    tg_time ts_echo;
    tg_time rtt_oldest_tx;    /* Karn: oldest newly delivered never-retransmitted send time */
    tg_time rtt_newest_tx;    /* and the newest */
    bool rs_valid, rs_applim; /* rate sample */
    uint64_t rs_prior_delivered, rs_seq;
    tg_time rs_last_tx, rs_send_elapsed, rs_ack_elapsed;
};

static struct txseg *txs(struct sim_tcp *c, uint64_t i)
{
    return &c->tx[i & (c->cap - 1)];
}

static struct rxseg *rxs(struct sim_tcp *c, uint64_t i)
{
    return &c->rx[i & (c->cap - 1)];
}

static enum sim_side other(enum sim_side s)
{
    return s == SIM_SIDE_LAPTOP ? SIM_SIDE_OUTSIDE : SIM_SIDE_LAPTOP;
}

static tg_time tmax(tg_time a, tg_time b)
{
    return a > b ? a : b;
}

/* ---- timers: deadlines, one pending event per timer, stale ones ignored ---- */

static void on_timer(void *ctx, uint64_t arg, tg_time now);

static void tmr_set(struct sim_tcp *c, unsigned k, tg_time deadline)
{
    struct tmr *t = &c->tmr[k];
    t->deadline = deadline;
    /* A pending earlier event re-arms itself for the later deadline. */
    if (deadline == TG_TIME_NEVER || (t->sched != TG_TIME_NEVER && t->sched <= deadline))
        return;
    t->gen++;
    t->sched = deadline;
    if (sim_evq_push(c->q, deadline, on_timer, c, (uint64_t)t->gen << 8 | k) != 0)
        t->sched = TG_TIME_NEVER; /* out of memory: lost (q->failed fails the run) */
}

/* ---- the in-flight list in transmission order ---- */

static void ts_remove(struct sim_tcp *c, uint64_t i)
{
    struct txseg *x = txs(c, i);
    if (x->prev != NONE)
        txs(c, x->prev)->next = x->next;
    else
        c->s.ts_head = x->next;
    if (x->next != NONE)
        txs(c, x->next)->prev = x->prev;
    else
        c->s.ts_tail = x->prev;
    x->prev = x->next = NONE;
}

static void ts_append(struct sim_tcp *c, uint64_t i)
{
    struct txseg *x = txs(c, i);
    x->prev = c->s.ts_tail;
    x->next = NONE;
    if (c->s.ts_tail != NONE)
        txs(c, c->s.ts_tail)->next = i;
    else
        c->s.ts_head = i;
    c->s.ts_tail = i;
}

/* No longer in flight (delivered or lost). */
static void leave_flight(struct sim_tcp *c, uint64_t i)
{
    struct txseg *x = txs(c, i);
    if (x->flags & F_INFLIGHT) {
        c->s.inflight -= x->len;
        x->flags &= (uint16_t)~F_INFLIGHT;
        ts_remove(c, i);
    }
}

static void clear_lost(struct sim_tcp *c, struct txseg *x)
{
    if (x->flags & F_LOST) {
        x->flags &= (uint16_t)~F_LOST;
        c->s.n_lost--;
    }
}

static void mark_lost(struct sim_tcp *c, uint64_t i)
{
    struct txseg *x = txs(c, i);
    leave_flight(c, i);
    if (!(x->flags & F_LOST)) {
        x->flags |= F_LOST;
        c->s.n_lost++;
    }
    if (i < c->s.retx_idx)
        c->s.retx_idx = i;
}

/* ---- rings ---- */

static bool grow(struct sim_tcp *c)
{
    if (c->cap >= c->cap_max)
        return false;
    size_t ncap = c->cap * 2, ocap = ncap / 2 + 2;
    struct txseg *ntx = malloc(ncap * sizeof *ntx);
    struct rxseg *nrx = calloc(ncap, sizeof *nrx);
    struct range *nooo = malloc(ocap * sizeof *nooo);
    if (!ntx || !nrx || !nooo) {
        free(ntx);
        free(nrx);
        free(nooo);
        return false;
    }
    uint64_t lo = c->s.nxt_idx > c->cap ? c->s.nxt_idx - c->cap : 0;
    if (lo < c->s.tx_lo)
        lo = c->s.tx_lo;
    for (uint64_t i = lo; i < c->s.nxt_idx; i++) /* history too, for late DSACKs */
        ntx[i & (ncap - 1)] = *txs(c, i);
    for (uint64_t i = c->r.idx; i < c->r.idx + c->cap; i++)
        if (rxs(c, i)->present)
            nrx[i & (ncap - 1)] = *rxs(c, i);
    memcpy(nooo, c->ooo + c->r.ooo_head, c->r.n_ooo * sizeof *nooo);
    free(c->tx);
    free(c->rx);
    free(c->ooo);
    c->tx = ntx;
    c->rx = nrx;
    c->ooo = nooo;
    c->ooo_cap = ocap;
    c->r.ooo_head = 0;
    c->cap = ncap;
    c->s.tx_lo = lo;
    return true;
}

/* ---- RTT and RTO, as Linux computes them (tcp_rtt_estimator) ----
 *
 * srtt is RFC 6298's. The variance term is not RFC 6298's 4 * rttvar: mdev
 * (4 times the mean deviation, its gain 1/32 when the RTT falls) feeds
 * mdev_max, the largest of one round trip, which starts every round trip at
 * RTO_MIN; the term added to srtt (rttvar) takes a larger mdev_max at once
 * and decays toward a smaller one by a quarter per round trip. So the RTO is
 * srtt + at least 200 ms: on a path whose delivery pauses for a few hundred
 * milliseconds (cellular trace gaps) Linux waits them out where RFC 6298's
 * srtt + 4 * rttvar, floored at 200 ms, would time out. */

static void rtt_sample(struct sim_tcp *c, tg_time r)
{
    struct snd *s = &c->s;
    if (!s->have_rtt) {
        s->srtt = r;
        s->mdev = 2 * r;
        s->rttvar = tmax(s->mdev, RTO_MIN_US);
        s->mdev_max = s->rttvar;
        s->rtt_seq = s->nxt;
        s->have_rtt = true;
    } else {
        int64_t err = (int64_t)r - (int64_t)s->srtt;
        s->srtt = (tg_time)((int64_t)s->srtt + err / 8);
        int64_t m = (err < 0 ? -err : err) - (int64_t)(s->mdev / 4);
        if (err < 0 && m > 0)
            m /= 8;
        s->mdev = (tg_time)((int64_t)s->mdev + m);
        if (s->mdev > s->mdev_max) {
            s->mdev_max = s->mdev;
            if (s->mdev_max > s->rttvar)
                s->rttvar = s->mdev_max;
        }
        if (s->una > s->rtt_seq) { /* a round trip ended */
            if (s->mdev_max < s->rttvar)
                s->rttvar -= (s->rttvar - s->mdev_max) / 4;
            s->rtt_seq = s->nxt;
            s->mdev_max = RTO_MIN_US;
        }
    }
    tg_time rto = s->srtt + s->rttvar; /* also ends any backoff */
    s->rto = rto > RTO_MAX_US ? RTO_MAX_US : rto;
}

/* ---- sending ---- */

static void xmit_data(struct sim_tcp *c, uint64_t i, tg_time now)
{
    struct snd *s = &c->s;
    struct txseg *x = txs(c, i);
    if (x->tx_count > 0) {
        x->flags |= F_RETRANS;
        clear_lost(c, x);
        c->st->retransmits++;
        if (s->undo_armed)
            s->undo_retrans++;
    } else {
        x->first_tx = now;
    }
    x->tx_count++;
    x->last_tx = now;
    if (s->inflight == 0)
        s->first_sent_time = s->delivered_time = now;
    x->delivered = s->delivered;
    x->delivered_time = s->delivered_time;
    x->first_sent_time = s->first_sent_time;
    x->flags = (uint16_t)((x->flags & ~F_APPLIM) | (s->app_limited ? F_APPLIM : 0));
    x->flags |= F_INFLIGHT;
    s->inflight += x->len;
    ts_append(c, i);

    struct sim_msg m = {.type = SIM_MSG_DATA,
                        .conn = (uint8_t)c->conn,
                        .flags = x->tx_count > 1 ? SIM_MSGF_RETX : 0,
                        .gen = c->gen,
                        .ts_us = now,
                        .seq = x->seq,
                        .idx = i,
                        .first_tx_us = x->first_tx,
                        .len = x->len};
    c->st->bytes_sent += x->len;
    c->st->pkts_sent++;
    if (c->st->first_send_us == TG_TIME_NEVER)
        c->st->first_send_us = now;
    if (c->tmr[T_RTO].deadline == TG_TIME_NEVER)
        tmr_set(c, T_RTO, now + s->rto);
    double rate = sim_cc_pacing(&s->cc);
    if (rate > 0)
        s->next_send = tmax(s->next_send, now) + (tg_time)ceil(fmin(x->len / rate, 1e9));
    c->ops->xmit(c->ctx, c->snd_side, &m, now);
}

static uint64_t next_lost(struct sim_tcp *c)
{
    struct snd *s = &c->s;
    if (s->n_lost == 0)
        return NONE;
    if (s->retx_idx < s->una_idx)
        s->retx_idx = s->una_idx;
    while (s->retx_idx < s->nxt_idx && !(txs(c, s->retx_idx)->flags & F_LOST))
        s->retx_idx++;
    if (s->retx_idx < s->nxt_idx)
        return s->retx_idx;
    s->n_lost = 0; /* cannot happen: the count and the flags disagree */
    return NONE;
}

/* Lost segments first, then new data, within cwnd, rwnd and the pacing rate. */
static void try_send(struct sim_tcp *c, tg_time now)
{
    struct snd *s = &c->s;
    for (;;) {
        if (sim_cc_pacing(&s->cc) > 0 && now < s->next_send) {
            if (s->n_lost > 0 || s->nxt < s->app_end)
                tmr_set(c, T_PACE, s->next_send);
            return;
        }
        double cwnd = sim_cc_cwnd(&s->cc);
        uint64_t i = next_lost(c);
        if (i != NONE) {
            if ((double)(s->inflight + txs(c, i)->len) > cwnd) {
                s->cwnd_limited = true;
                return;
            }
            xmit_data(c, i, now);
            continue;
        }
        if (s->nxt >= s->app_end) {
            if ((double)s->inflight < cwnd)
                s->app_limited = s->delivered + s->inflight ? s->delivered + s->inflight : 1;
            s->cwnd_limited = false;
            return;
        }
        uint64_t left = s->app_end - s->nxt;
        uint32_t len = left < c->mss ? (uint32_t)left : c->mss;
        if (s->nxt + len > s->wnd_edge) {
            s->cwnd_limited = false;
            return;
        }
        if ((double)(s->inflight + len) > cwnd) {
            s->cwnd_limited = true;
            return;
        }
        /* Keep 3/4 of the ring as history of acknowledged segments, so
         * that a DSACK arriving a few round trips late still finds its
         * segment; full, the ring still works without history. */
        if (s->nxt_idx - s->una_idx >= c->cap / 4 && !grow(c) && s->nxt_idx - s->una_idx >= c->cap)
            return;
        i = s->nxt_idx++;
        struct txseg *x = txs(c, i);
        memset(x, 0, sizeof *x);
        x->seq = s->nxt;
        x->len = len;
        x->prev = x->next = NONE;
        s->nxt += len;
        xmit_data(c, i, now);
    }
}

/* ---- loss detection ---- */

/* RFC 6675 IsLost: DUPTHRESH segments above it SACKed. Each segment is
 * looked at once; retransmissions are left to RACK and the RTO. As in
 * Linux with RACK on, only until reordering has been seen: then RACK's
 * time-based window alone decides. */
static uint64_t detect_dupthresh(struct sim_tcp *c)
{
    struct snd *s = &c->s;
    uint64_t lo = s->dup_idx > s->una_idx ? s->dup_idx : s->una_idx, i = s->sack_high, n = 0;
    if (s->reord_seen || s->sack_high <= lo)
        return 0;
    unsigned count = 0;
    while (i > lo) {
        i--;
        if ((txs(c, i)->flags & F_SACKED) && ++count == DUPTHRESH)
            break;
    }
    if (count < DUPTHRESH)
        return 0;
    for (uint64_t j = lo; j < i; j++) {
        struct txseg *x = txs(c, j);
        if (!(x->flags & (F_SACKED | F_LOST | F_RETRANS))) {
            mark_lost(c, j);
            n++;
        }
    }
    s->dup_idx = i;
    return n;
}

/* RFC 8985: lost when sent reo_wnd + rtt before a segment that was since
 * delivered was sent; otherwise the RACK timer waits for the rest. */
static uint64_t detect_rack(struct sim_tcp *c, tg_time now)
{
    struct snd *s = &c->s;
    uint64_t n = 0;
    tg_time deadline = TG_TIME_NEVER;
    if (s->rack_valid) {
        /* Linux: until reordering has been seen, no window in recovery */
        tg_time reo = !s->reord_seen && s->rec != REC_NONE
                          ? 0
                          : sim_rack_reo_wnd(&s->reo, s->min_rtt, s->have_rtt ? s->srtt : 0);
        if (reo > c->st->reo_wnd_max_us)
            c->st->reo_wnd_max_us = reo;
        for (uint64_t i = s->ts_head; i != NONE;) {
            struct txseg *x = txs(c, i);
            uint64_t next = x->next;
            bool newer = s->rack_xmit > x->last_tx ||
                         (s->rack_xmit == x->last_tx && s->rack_end > x->seq + x->len);
            if (!newer)
                break;
            tg_time when = x->last_tx + s->rack_rtt + reo;
            if (when > now) {
                deadline = when; /* the list is in send order: the rest expire later */
                break;
            }
            mark_lost(c, i);
            n++;
            i = next;
        }
    }
    tmr_set(c, T_RACK, deadline);
    return n;
}

static void arm_undo(struct sim_tcp *c)
{
    struct snd *s = &c->s;
    s->undo_armed = true;
    s->undo_seq = s->una;
    s->undo_retrans = 0;
    s->prior_cc = s->cc;
}

/* Every retransmission since the episode began was a duplicate: the
 * reduction was for nothing (tcp_try_undo_dsack / tcp_try_undo_recovery). */
static void try_undo(struct sim_tcp *c)
{
    struct snd *s = &c->s;
    if (!s->undo_armed || s->undo_retrans > 0)
        return;
    sim_cc_undo(&s->cc, &s->prior_cc);
    s->undo_armed = false;
    s->rec = REC_NONE;
    c->st->undos++;
}

static void on_losses(struct sim_tcp *c, uint64_t n)
{
    struct snd *s = &c->s;
    if (n == 0 || s->rec != REC_NONE)
        return;
    c->st->fast_recoveries++;
    s->rec = REC_FAST;
    s->recovery_point = s->nxt;
    arm_undo(c);
    sim_rack_reo_on_recovery(&s->reo);
    sim_cc_on_loss(&s->cc);
}

static void on_rto(struct sim_tcp *c, tg_time now)
{
    struct snd *s = &c->s;
    if (s->una_idx == s->nxt_idx)
        return;
    c->st->rto_count++;
    if (s->rec == REC_NONE)
        arm_undo(c); /* an RTO inside a recovery keeps that episode's saved state */
    sim_cc_on_rto(&s->cc, s->rec == REC_NONE); /* one reduction per episode */
    s->rec = REC_LOSS;
    s->recovery_point = s->nxt;
    for (uint64_t i = s->una_idx; i < s->nxt_idx; i++)
        if (!(txs(c, i)->flags & F_SACKED))
            mark_lost(c, i);
    s->rto = s->rto * 2 > RTO_MAX_US ? RTO_MAX_US : s->rto * 2;
    try_send(c, now);
}

/* ---- ACK processing at the sender ---- */

static void delivered_one(struct sim_tcp *c, struct ack_info *a, uint64_t i, tg_time now)
{
    struct snd *s = &c->s;
    struct txseg *x = txs(c, i);
    leave_flight(c, i);
    clear_lost(c, x);
    s->delivered += x->len;
    s->delivered_time = now;
    a->acked += x->len;
    if (!a->rs_valid || x->last_tx > a->rs_last_tx ||
        (x->last_tx == a->rs_last_tx && x->seq > a->rs_seq)) {
        a->rs_valid = true;
        a->rs_prior_delivered = x->delivered;
        a->rs_applim = (x->flags & F_APPLIM) != 0;
        a->rs_send_elapsed = x->last_tx - x->first_sent_time;
        a->rs_ack_elapsed = now - x->delivered_time;
        a->rs_last_tx = x->last_tx;
        a->rs_seq = x->seq;
        s->first_sent_time = x->last_tx;
    }
    if (x->tx_count == 1 && i < s->sack_high)
        s->reord_seen = true;
    if (x->tx_count == 1) {
        if (a->rtt_oldest_tx == TG_TIME_NEVER || x->last_tx < a->rtt_oldest_tx)
            a->rtt_oldest_tx = x->last_tx;
        if (a->rtt_newest_tx == TG_TIME_NEVER || x->last_tx > a->rtt_newest_tx)
            a->rtt_newest_tx = x->last_tx;
    }
    /* RACK: a retransmitted segment counts only when the retransmission
     * itself was delivered (the echoed timestamp is not older, and the RTT
     * is not implausibly short). */
    if (x->flags & F_RETRANS) {
        if (a->ts_echo < x->last_tx)
            return;
        if (s->min_rtt != TG_TIME_NEVER && now - x->last_tx < s->min_rtt)
            return;
    }
    if (!s->rack_valid || x->last_tx > s->rack_xmit ||
        (x->last_tx == s->rack_xmit && x->seq + x->len > s->rack_end)) {
        s->rack_valid = true;
        s->rack_xmit = x->last_tx;
        s->rack_end = x->seq + x->len;
        s->rack_rtt = now - x->last_tx;
    }
}

/* First segment index in [una_idx, nxt_idx) whose seq >= seq. */
static uint64_t lower_bound(struct sim_tcp *c, uint64_t seq)
{
    uint64_t lo = c->s.una_idx, hi = c->s.nxt_idx;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (txs(c, mid)->seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void sack_range(struct sim_tcp *c, struct ack_info *a, uint64_t b, uint64_t e, tg_time now)
{
    for (uint64_t i = lower_bound(c, b); i < c->s.nxt_idx; i++) {
        struct txseg *x = txs(c, i);
        if (x->seq + x->len > e)
            break;
        if (x->flags & F_SACKED)
            continue;
        x->flags |= F_SACKED;
        delivered_one(c, a, i, now);
        if (i + 1 > c->s.sack_high)
            c->s.sack_high = i + 1;
    }
}

/* Apply a SACK block minus the blocks of the previous ACK (already applied):
 * a block that grows by one segment per ACK is not walked again. */
static void sack_block(struct sim_tcp *c, struct ack_info *a, uint64_t b, uint64_t e, tg_time now)
{
    struct snd *s = &c->s;
    if (b < s->una)
        b = s->una;
    if (e > s->nxt)
        e = s->nxt;
    if (b >= e)
        return;
    uint64_t piece[SIM_MSG_SACK_MAX + 2][2] = {{b, e}};
    unsigned n = 1;
    for (unsigned k = 0; k < s->n_cache; k++) {
        uint64_t cb = s->cache[k][0], ce = s->cache[k][1];
        unsigned m = n;
        for (unsigned j = 0; j < m; j++) {
            uint64_t pb = piece[j][0], pe = piece[j][1];
            if (ce <= pb || cb >= pe)
                continue;
            piece[j][1] = piece[j][0]; /* emptied; re-added below */
            if (pb < cb)
                piece[j][1] = cb;
            if (ce < pe && n < SIM_MSG_SACK_MAX + 2) {
                piece[n][0] = ce;
                piece[n][1] = pe;
                n++;
            }
        }
    }
    for (unsigned j = 0; j < n; j++)
        if (piece[j][0] < piece[j][1])
            sack_range(c, a, piece[j][0], piece[j][1], now);
}

static void on_ack(struct sim_tcp *c, const struct sim_msg *m, tg_time now)
{
    struct snd *s = &c->s;
    if (m->ack > s->nxt || m->nsack > SIM_MSG_SACK_MAX)
        return;
    struct ack_info a = {
        .ts_echo = m->ts_echo_us, .rtt_oldest_tx = TG_TIME_NEVER, .rtt_newest_tx = TG_TIME_NEVER};
    bool advanced = false, undo_check = false;
    while (s->una_idx < s->nxt_idx) {
        struct txseg *x = txs(c, s->una_idx);
        if (x->seq + x->len > m->ack)
            break;
        if (!(x->flags & F_SACKED))
            delivered_one(c, &a, s->una_idx, now);
        s->una_idx++;
        advanced = true;
    }
    if (advanced)
        s->una = s->una_idx < s->nxt_idx ? txs(c, s->una_idx)->seq : s->nxt;
    for (unsigned k = 0; k < m->nsack; k++)
        sack_block(c, &a, m->sack[k][0], m->sack[k][1], now);
    s->n_cache = m->nsack;
    memcpy(s->cache, m->sack, sizeof s->cache);
    if (m->flags & SIM_MSGF_DSACK) {
        uint64_t i = m->dsack_idx, lo = s->nxt_idx > c->cap ? s->nxt_idx - c->cap : 0;
        if (lo < s->tx_lo)
            lo = s->tx_lo;
        if (i >= lo && i < s->nxt_idx) {
            struct txseg *x = txs(c, i);
            if (x->seq == m->dsack[0] && x->dsacks + 1 < x->tx_count) {
                /* As Linux does (tcp_dsack_seen), a spurious retransmission
                 * counts as delivered: the delivery rate is what the path
                 * carried, so BBR keeps its rate under reordering. */
                x->dsacks++;
                c->st->spurious_retransmits++;
                sim_rack_reo_on_dsack(&s->reo);
                if (s->undo_armed && x->seq >= s->undo_seq && s->undo_retrans > 0) {
                    s->undo_retrans--;
                    undo_check = true;
                }
                s->delivered += x->len;
                s->delivered_time = now;
                a.acked += x->len;
            }
        }
    }
    if (m->ack >= s->una)
        s->wnd_edge = m->ack + m->rwnd;

    if (a.rtt_oldest_tx != TG_TIME_NEVER)
        rtt_sample(c, now - a.rtt_oldest_tx);
    if (a.rtt_newest_tx != TG_TIME_NEVER) {
        tg_time r = now - a.rtt_newest_tx;
        if (r < s->min_rtt)
            s->min_rtt = r;
    }
    if (a.rs_valid)
        sim_rack_reo_update(&s->reo, a.rs_prior_delivered, s->delivered);
    if (undo_check)
        try_undo(c);
    if (s->rec != REC_NONE && s->una >= s->recovery_point) {
        s->rec = REC_NONE;
        try_undo(c); /* nothing retransmitted, or all of it duplicated */
    }
    on_losses(c, detect_dupthresh(c) + detect_rack(c, now));
    if (a.acked > 0) {
        struct sim_cc_ack ca = {
            .acked = a.acked,
            .delivered = s->delivered,
            .inflight = s->inflight,
            .una = s->una,
            .nxt = s->nxt,
            .rtt_us = a.rtt_newest_tx == TG_TIME_NEVER ? TG_TIME_NEVER : now - a.rtt_newest_tx,
            .min_rtt_us = s->min_rtt,
            .srtt_us = s->have_rtt ? s->srtt : 0,
            .grow = s->rec != REC_FAST && s->cwnd_limited,
            .rs_valid = a.rs_valid,
            .rs_applim = a.rs_applim,
            .rs_prior_delivered = a.rs_prior_delivered,
            .rs_interval_us = tmax(a.rs_send_elapsed, a.rs_ack_elapsed),
        };
        if (sim_cc_on_ack(&s->cc, &ca, now))
            s->app_limited = s->delivered + s->inflight ? s->delivered + s->inflight : 1;
    }
    if (s->app_limited && s->delivered > s->app_limited)
        s->app_limited = 0;
    if (advanced)
        tmr_set(c, T_RTO, s->una_idx == s->nxt_idx ? TG_TIME_NEVER : now + s->rto);
    if (s->busy && s->una >= s->app_end)
        s->busy = false;
    try_send(c, now);
}

/* ---- the receiver ---- */

static void stall_check(struct sim_tcp *c, tg_time now)
{
    tg_time from = tmax(c->r.last_delivery, c->s.busy_since);
    if (now > from && now - from > c->st->longest_stall_us)
        c->st->longest_stall_us = now - from;
}

/* The out-of-order range holding index i, or NULL. */
static struct range *find_range(struct sim_tcp *c, uint64_t i)
{
    struct range *v = c->ooo + c->r.ooo_head;
    size_t lo = 0, hi = c->r.n_ooo;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].hi <= i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < c->r.n_ooo && v[lo].lo <= i ? &v[lo] : NULL;
}

static void ooo_insert(struct sim_tcp *c, uint64_t i)
{
    struct rcv *r = &c->r;
    struct range *v = c->ooo + r->ooo_head;
    size_t p = 0, hi = r->n_ooo;
    while (p < hi) { /* first range above i */
        size_t mid = p + (hi - p) / 2;
        if (v[mid].lo <= i)
            p = mid + 1;
        else
            hi = mid;
    }
    bool join_prev = p > 0 && v[p - 1].hi == i, join_next = p < r->n_ooo && v[p].lo == i + 1;
    if (join_prev && join_next) {
        v[p - 1].hi = v[p].hi;
        memmove(v + p, v + p + 1, (r->n_ooo - p - 1) * sizeof *v);
        r->n_ooo--;
    } else if (join_prev) {
        v[p - 1].hi = i + 1;
    } else if (join_next) {
        v[p].lo = i;
    } else {
        if (r->ooo_head + r->n_ooo == c->ooo_cap) {
            memmove(c->ooo, v, r->n_ooo * sizeof *v);
            r->ooo_head = 0;
            v = c->ooo;
        }
        memmove(v + p + 1, v + p, (r->n_ooo - p) * sizeof *v);
        v[p] = (struct range){i, i + 1};
        r->n_ooo++;
    }
}

static void send_ack(struct sim_tcp *c, tg_time now)
{
    struct rcv *r = &c->r;
    struct sim_msg m = {.type = SIM_MSG_ACK,
                        .conn = (uint8_t)c->conn,
                        .gen = c->gen,
                        .ts_us = now,
                        .ack = r->nxt,
                        .ts_echo_us = r->ts_recent};
    m.rwnd = r->ooo_bytes >= c->rwnd_bytes ? 0 : c->rwnd_bytes - (uint32_t)r->ooo_bytes;
    const struct range *used[SIM_MSG_SACK_MAX];
    for (unsigned k = 0; k < r->n_recent && m.nsack < SIM_MSG_SACK_MAX; k++) {
        const struct range *g = find_range(c, r->recent[k]);
        bool dup = !g;
        for (unsigned j = 0; j < m.nsack && !dup; j++)
            dup = used[j] == g;
        if (dup)
            continue;
        const struct rxseg *last = rxs(c, g->hi - 1);
        m.sack[m.nsack][0] = rxs(c, g->lo)->seq;
        m.sack[m.nsack][1] = last->seq + last->len;
        used[m.nsack++] = g;
    }
    if (r->dsack) {
        m.flags |= SIM_MSGF_DSACK;
        m.dsack[0] = r->dsack_seq;
        m.dsack[1] = r->dsack_end;
        m.dsack_idx = r->dsack_idx;
        r->dsack = false;
    }
    r->unacked = 0;
    tmr_set(c, T_DELACK, TG_TIME_NEVER);
    c->ops->xmit(c->ctx, other(c->snd_side), &m, now);
}

static void on_data(struct sim_tcp *c, const struct sim_msg *m, tg_time now)
{
    struct rcv *r = &c->r;
    uint64_t i = m->idx;
    if (m->len == 0 || m->len > c->mss || i >= r->idx + c->cap)
        return; /* nothing a sender of ours would send */
    r->ts_recent = m->ts_us;
    if (i < r->idx || rxs(c, i)->present) {
        r->dsack = true;
        r->dsack_seq = m->seq;
        r->dsack_end = m->seq + m->len;
        r->dsack_idx = i;
        send_ack(c, now);
        return;
    }
    /* Segments never change boundaries: a sequence number that does not fit
     * the index and the neighbours held is not from our sender. */
    uint64_t ahead = i - r->idx, lo = r->nxt + ahead, hi = r->nxt + ahead * c->mss;
    const struct rxseg *prev = rxs(c, i - 1), *next = rxs(c, i + 1);
    if (m->seq < lo || m->seq > hi ||
        (i > r->idx && prev->present && prev->seq + prev->len != m->seq) ||
        (i + 1 < r->idx + c->cap && next->present && m->seq + m->len != next->seq))
        return;
    if (!(m->flags & SIM_MSGF_RETX)) {
        if (i < r->high)
            c->st->reorder_events++;
        else
            r->high = i + 1;
    }
    struct rxseg *x = rxs(c, i);
    *x = (struct rxseg){m->seq, m->first_tx_us, m->len, true};
    if (i > r->idx) {
        ooo_insert(c, i);
        r->ooo_bytes += m->len;
        memmove(r->recent + 1, r->recent, (N_RECENT - 1) * sizeof r->recent[0]);
        r->recent[0] = i;
        if (r->n_recent < N_RECENT)
            r->n_recent++;
        send_ack(c, now);
        return;
    }
    bool had_ooo = r->n_ooo > 0;
    uint64_t got = 0;
    stall_check(c, now);
    while (rxs(c, r->idx)->present) {
        x = rxs(c, r->idx);
        sim_hist_add(&c->st->owd_us, now > x->first_tx ? now - x->first_tx : 0);
        c->st->bytes_delivered += x->len;
        c->st->pkts_delivered++;
        if (r->idx != i)
            r->ooo_bytes -= x->len;
        got += x->len;
        r->nxt = x->seq + x->len;
        x->present = false;
        r->idx++;
    }
    if (r->n_ooo > 0 && c->ooo[r->ooo_head].hi <= r->idx) {
        r->ooo_head++;
        r->n_ooo--;
    }
    r->last_delivery = now;
    c->st->last_delivery_us = now;
    r->unacked += got;
    c->ops->deliver(c->ctx, c->conn, r->nxt, now);
    if (had_ooo || r->unacked >= 2 * (uint64_t)c->mss)
        send_ack(c, now);
    else if (c->tmr[T_DELACK].deadline == TG_TIME_NEVER)
        tmr_set(c, T_DELACK, now + DELACK_US);
}

/* ---- the API ---- */

static void on_timer(void *ctx, uint64_t arg, tg_time now)
{
    struct sim_tcp *c = ctx;
    unsigned k = (unsigned)(arg & 0xff);
    if (k >= T_N)
        return;
    struct tmr *t = &c->tmr[k];
    if ((uint32_t)(arg >> 8) != t->gen)
        return;
    t->sched = TG_TIME_NEVER;
    if (t->deadline == TG_TIME_NEVER)
        return;
    if (t->deadline > now) {
        tmr_set(c, k, t->deadline);
        return;
    }
    t->deadline = TG_TIME_NEVER;
    switch (k) {
    case T_RTO:
        on_rto(c, now);
        break;
    case T_RACK:
        on_losses(c, detect_rack(c, now));
        try_send(c, now);
        break;
    case T_PACE:
        try_send(c, now);
        break;
    default: /* T_DELACK */
        if (c->r.unacked > 0)
            send_ack(c, now);
        break;
    }
}

void sim_tcp_reset(struct sim_tcp *c, uint32_t gen)
{
    for (unsigned k = 0; k < T_N; k++) {
        c->tmr[k].gen++;
        c->tmr[k].deadline = c->tmr[k].sched = TG_TIME_NEVER;
    }
    c->gen = gen;
    memset(&c->s, 0, sizeof c->s);
    memset(&c->r, 0, sizeof c->r);
    memset(c->rx, 0, c->cap * sizeof *c->rx);
    struct snd *s = &c->s;
    s->wnd_edge = c->rwnd_bytes;
    s->rto = RTO_INIT_US;
    s->min_rtt = TG_TIME_NEVER;
    s->ts_head = s->ts_tail = NONE;
    sim_cc_init(&s->cc, c->cc, c->mss);
    sim_rack_reo_init(&s->reo);
}

struct sim_tcp *sim_tcp_new(enum sim_cc cc, uint32_t mss, uint32_t rwnd_bytes, unsigned conn,
                            enum sim_side sender, struct sim_evq *q, const struct sim_tcp_ops *ops,
                            void *ctx, struct sim_flow_stats *st)
{
    struct sim_tcp *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = (struct sim_tcp){.cc = cc,
                          .mss = mss,
                          .rwnd_bytes = rwnd_bytes,
                          .conn = conn,
                          .snd_side = sender,
                          .q = q,
                          .ops = ops,
                          .ctx = ctx,
                          .st = st,
                          .cap = RING_INIT};
    /* A window of full segments, 8 times over: history and small segments. */
    c->cap_max = RING_INIT;
    while (c->cap_max < 8 * ((size_t)rwnd_bytes / mss + 1))
        c->cap_max *= 2;
    c->ooo_cap = c->cap / 2 + 2;
    c->tx = malloc(c->cap * sizeof *c->tx);
    c->rx = calloc(c->cap, sizeof *c->rx);
    c->ooo = malloc(c->ooo_cap * sizeof *c->ooo);
    if (!c->tx || !c->rx || !c->ooo) {
        sim_tcp_free(c);
        return NULL;
    }
    sim_tcp_reset(c, 0);
    return c;
}

void sim_tcp_free(struct sim_tcp *c)
{
    if (!c)
        return;
    free(c->tx);
    free(c->rx);
    free(c->ooo);
    free(c);
}

enum sim_side sim_tcp_sender(const struct sim_tcp *c)
{
    return c->snd_side;
}

void sim_tcp_write(struct sim_tcp *c, uint64_t n, tg_time now)
{
    struct snd *s = &c->s;
    if (n == 0)
        return;
    s->app_end = n == UINT64_MAX || s->app_end > UINT64_MAX - n ? UINT64_MAX : s->app_end + n;
    if (!s->busy) {
        s->busy = true;
        s->busy_since = now;
    }
    try_send(c, now);
}

void sim_tcp_close(struct sim_tcp *c, tg_time now)
{
    struct snd *s = &c->s;
    if (s->app_end > s->nxt)
        s->app_end = s->nxt;
    if (s->busy && s->una >= s->app_end)
        s->busy = false;
}

void sim_tcp_input(struct sim_tcp *c, const struct sim_msg *m, tg_time now)
{
    if (m->gen != c->gen)
        return;
    if (m->type == SIM_MSG_DATA)
        on_data(c, m, now);
    else if (m->type == SIM_MSG_ACK)
        on_ack(c, m, now);
}

tg_time sim_tcp_busy_since(const struct sim_tcp *c)
{
    return c->s.busy ? c->s.busy_since : TG_TIME_NEVER;
}

void sim_tcp_finish(struct sim_tcp *c, tg_time now)
{

    if (c->s.busy)
        stall_check(c, now);
}

void sim_tcp_window(const struct sim_tcp *c, double *cwnd_bytes, uint64_t *inflight_bytes)
{
    *cwnd_bytes = sim_cc_cwnd(&c->s.cc);
    *inflight_bytes = c->s.inflight;
}
