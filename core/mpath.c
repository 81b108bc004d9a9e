#include "mpath.h"

#include <sodium.h>
#include <string.h>

#include "flow.h"
#include "pace.h"
#include "playout.h"
#include "recover.h"

void tg_mp_config_default(struct tg_mp_config *c)
{
    memset(c, 0, sizeof *c);
    tg_sched_config_default(&c->sched);
    tg_reorder_config_default(&c->reorder);
    tg_uplink_config_default(&c->uplink);
    c->probe_interval_us = TG_MSEC(100);
    c->down_probe_interval_us = TG_MSEC(200);
    c->idle_probe_after_us = TG_SEC(10);
    c->idle_probe_interval_us = TG_SEC(1);
    c->feedback_interval_us = TG_MSEC(20);
    c->feedback_packets = 32;
    c->rekey_after_us = TG_SEC(120);
    c->rekey_after_packets = (uint64_t)1 << 60;
    c->reject_after_us = TG_SEC(180);
    c->queue_slots = 256;
    c->max_packet = 1500;
    c->max_datagram = 1472;
    c->retransmit_slots = 2048;
    c->retransmit_budget = 0.1;
    c->uplink_queue_limit = 48 * 1024;
    c->pace_slots = 2048;
}

const char *tg_drop_name(enum tg_drop d)
{
    static const char names[TG_DROP_COUNT][16] = {
        "malformed",   "unknown_index", "decrypt",    "replay",       "bad_frame",
        "duplicate",   "late",          "rate_limited", "no_uplink",  "queue_full",
        "too_big",     "bad_packet",    "spoofed",    "no_session",   "handshake",
        "nat",         "mac",           "cookie",
    };
    return (unsigned)d < TG_DROP_COUNT ? names[d] : "unknown";
}

/* ------------------------------------------------------------ session */

int tg_mp_init(struct tg_mp *mp, const struct tg_mp_config *cfg, struct tg_io *io,
               const struct tg_rng *rng, const struct tg_allocator *a, bool server, tg_time now)
{
    memset(mp, 0, sizeof *mp);
    mp->cfg = cfg;
    if (a != NULL)
        mp->alloc = *a;
    mp->io = io;
    mp->server = server;
    mp->last_best = -1;
    mp->last_activity = now;
    mp->data_at = now;
    tg_rng_fill(rng, mp->flow_key, sizeof mp->flow_key);
    tg_replay_init(&mp->dedup);
    int rc = tg_sched_new(&cfg->sched, a, &mp->sched);
    if (rc != TG_OK) {
        tg_mp_clear(mp, a);
        return rc;
    }
    return TG_OK;
}

void tg_mp_clear(struct tg_mp *mp, const struct tg_allocator *a)
{
    (void)a;
    tg_sched_free(mp->sched);
    tg_reorder_free(mp->reorder);
    tg_rtx_free(mp);
    tg_pace_free(mp);
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        if (mp->paths[i] != NULL)
            sodium_memzero(mp->paths[i], sizeof *mp->paths[i]);
        tg_alloc_free(&mp->alloc, mp->paths[i]);
        mp->paths[i] = NULL;
    }
    mp->sched = NULL;
    mp->reorder = NULL;
}

static void health_event(struct tg_mp *mp, unsigned slot, enum tg_health before, tg_time now)
{
    enum tg_health after = mp->paths[slot]->est.health;
    if (after == before)
        return;
    struct tg_event ev = {.type = TG_EV_UPLINK_HEALTH, .uplink = slot, .session = mp->ev_session,
                          .health_from = before, .health_to = after, .at = now};
    tg_io_event(mp->io, &ev);
}

int tg_mp_path_keys(struct tg_mp *mp, unsigned slot, struct tg_noise_cipher *send,
                    struct tg_noise_cipher *recv, uint32_t local_index, uint32_t remote_index,
                    tg_time now)
{
    struct tg_path *p = mp->paths[slot];
    if (p == NULL) {
        p = tg_alloc_zeroed(&mp->alloc, sizeof *p);
        if (p == NULL)
            return TG_ERR_NOMEM;
        p->rx_owd_us = TG_OWD_UNKNOWN;
        mp->paths[slot] = p;
    }
    if (p->keyed) {
        p->prev = p->cur;
        p->has_prev = true;
        p->prev_until = tg_time_add(now, mp->cfg->probe_interval_us * 30 + TG_SEC(3));
    }
    tg_transport_init(&p->cur, send, recv, local_index, remote_index);
    bool fresh = !p->keyed;
    p->keyed = true;
    /* what the receiver owes a report for is counted in the new keys' counters */
    p->elicit_counter = 0;
    p->unreported = false;
    p->fb_advanced_at = now;
    p->confirmed = false;
    p->keys_at = now;
    if (fresh) {
        /* a new path starts with a clean slate of counters and estimates */
        memset(p->tx, 0, sizeof p->tx);
        p->tx_packets = p->tx_bytes = 0;
        p->reported = (struct tg_tx_mark){0};
        p->anchor_valid = false;
        p->rx_packets = p->rx_bytes = p->rx_highest = 0;
        p->rx_unreported = 0;
        p->fb_seen = false;
        p->fb_pending = false;
        p->probe_out = false;
        p->next_probe = now;
        tg_uplink_init(&p->est, &mp->cfg->uplink, now);
    } else {
        /* the peer's counters restart with the new keys */
        p->rx_highest = 0;
        p->fb_seen = false;
    }
    return TG_OK;
}

void tg_mp_path_drop(struct tg_mp *mp, unsigned slot, tg_time now)
{
    struct tg_path *p = tg_mp_path(mp, slot);
    if (p == NULL || (!p->keyed && !p->has_prev))
        return;
    enum tg_health before = p->est.health;
    tg_transport_clear(&p->cur);
    tg_transport_clear(&p->prev);
    p->keyed = p->has_prev = p->confirmed = false;
    p->probe_out = p->fb_pending = false;
    tg_pace_forget(mp, slot);
    tg_uplink_set_down(&p->est, now);
    health_event(mp, slot, before, now);
    struct tg_event ev = {.type = TG_EV_UPLINK_DOWN, .uplink = slot, .session = mp->ev_session, .at = now};
    tg_io_event(mp->io, &ev);
}

static void set_alive(struct tg_mp *mp, tg_time now);

void tg_mp_expect(struct tg_mp *mp, unsigned slot, tg_time now)
{
    if (slot < TG_MAX_UPLINKS) {
        mp->expect_at[slot] = now;
        set_alive(mp, now);
    }
}

/* srtt + 4 rttvar, or the initial RTO before any sample: how long an answer
 * may take on this path. */
static tg_time rtt_bound(const struct tg_path *p)
{
    return p->est.has_rtt ? p->est.srtt_us + 4 * p->est.rttvar_us : p->est.cfg.initial_rto_us;
}

/* How long a PING may stay unanswered before it counts as a failure: the
 * RTO without RFC 6298 back-off. Backing off suits retransmission, not
 * probing, where a steady pace of failures is what detects a dead uplink. */
static tg_time probe_timeout(const struct tg_path *p)
{
    const struct tg_uplink_config *c = &p->est.cfg;
    tg_time rto = rtt_bound(p);
    return rto < c->rto_min_us ? c->rto_min_us : rto > c->rto_max_us ? c->rto_max_us : rto;
}

bool tg_mp_usable(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    return p != NULL && p->keyed && now - p->keys_at < mp->cfg->reject_after_us;
}


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
    uint64_t sent_after = p->tx_bytes - p->reported.cum;
    if (!p->anchor_valid || !p->est.has_rate)
        return sent_after;
    double per_us = tg_mp_drain_per_us(p);
    double work = per_us * (double)p->est.queue_delay_us + (double)sent_after;
    if (now >= tg_mp_overdue_at(mp, p))
        return (uint64_t)work;
    if (p->q_valid)
        return (uint64_t)tg_mp_drained(p, p->q_bytes, now > p->q_at ? now - p->q_at : 0);
    return (uint64_t)tg_mp_drained(p, work, now > p->reported.at ? now - p->reported.at : 0);
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
    tg_time bound = rtt_bound(p) + 2 * mp->cfg->feedback_interval_us;
    tg_time since = p->unreported_at > p->fb_advanced_at ? p->unreported_at : p->fb_advanced_at;
    return tg_time_add(since, bound);
}


/* Seal the plaintext already written and queue the datagram. */
void tg_mp_finish(struct tg_mp *mp, unsigned slot, uint8_t *buf, size_t plain_len, tg_time now)
{
    struct tg_path *p = mp->paths[slot];
    uint64_t counter = p->cur.send_counter;
    size_t len;
    if (tg_transport_seal(&p->cur, buf, plain_len, mp->io->out.slot_bytes, &len) != TG_OK) {
        tg_io_drop(mp->io, TG_DROP_QUEUE_FULL); /* counter exhausted: rekey pending */
        return;
    }
    struct tg_datagram d = {.uplink = mp->server ? p->listen : slot};
    if (mp->server)
        d.to = p->peer;
    tg_io_push_out(mp->io, &d, len);
    p->tx_packets++;
    p->tx_bytes += len;
    double q = 0;
    if (p->q_valid) {
        q = tg_mp_drained(p, p->q_bytes, now - p->q_at);
        p->q_bytes = q + (double)len;
        p->q_at = now;
    }
    p->tx[counter % TG_TX_RING] =
        (struct tg_tx_mark){.cum = p->tx_bytes, .at = now, .held = p->held_us, .q = q};
    p->held_us = 0;
}

size_t tg_mp_plain_cap(const struct tg_mp *mp)
{
    return mp->io->out.slot_bytes - TG_DATA_OVERHEAD;
}

/* Tell the receiver which DATA frame went before on this uplink. A copy sent
 * on several uplinks (redundant) may still arrive on another one, so only
 * frames sent on this uplink alone are named. */
static void add_path_seq(const struct tg_path *p, uint8_t *plain, size_t cap, size_t *off)
{
    if (p->last_data_solo && tg_frame_put_path_seq(plain, cap, off, p->last_data_seq) != TG_OK) {
        /* no room: the reorder buffer falls back on its other rules */
    }
}

/* The same inside a DATA frame: how far back that frame was (0: not named). */
static uint16_t prev_delta(const struct tg_path *p, uint64_t seq)
{
    if (!p->last_data_solo || seq - p->last_data_seq > UINT16_MAX)
        return 0;
    return (uint16_t)(seq - p->last_data_seq);
}

/* Whether an uplink other than `except` is up and answering. */
static bool another_answers(const struct tg_mp *mp, unsigned except, tg_time now)
{
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (i != except && p != NULL && p->keyed && p->est.health != TG_HEALTH_DOWN &&
            now < tg_mp_overdue_at(mp, p))
            return true;
    }
    return false;
}

/* The pace of an uplink's probes while the session carries data: 100 ms
 * if live, 200 ms if Down (so one that returns rejoins within a fifth of a
 * second); once idle, no faster than the idle pace (1 s), so a session
 * left for dead costs a server little. */
static tg_time probe_every(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    tg_time every = p->est.health == TG_HEALTH_DOWN ? mp->cfg->down_probe_interval_us
                                                    : mp->cfg->probe_interval_us;
    if (now - mp->data_at >= mp->cfg->idle_probe_after_us && every < mp->cfg->idle_probe_interval_us)
        every = mp->cfg->idle_probe_interval_us;
    return every;
}

/* The last answering uplink just fell silent or Down: the Down ones are
 * asked at once whether they are back (one that returned just before
 * carries the traffic after a round trip, not after up to a second). */
static void probe_down_now(struct tg_mp *mp, tg_time now)
{
    if (now - mp->data_at >= mp->cfg->idle_probe_after_us || another_answers(mp, TG_MAX_UPLINKS, now))
        return;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        struct tg_path *p = mp->paths[i];
        if (p != NULL && p->keyed && p->est.health == TG_HEALTH_DOWN && !p->probe_out &&
            p->next_probe > tg_time_add(now, mp->cfg->probe_interval_us))
            p->next_probe = now;
    }
}

void tg_mp_ping(struct tg_mp *mp, unsigned slot, tg_time now)
{
    struct tg_path *p = tg_mp_path(mp, slot);
    if (p == NULL || !p->keyed)
        return;
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return;
    uint8_t *plain = buf + TG_DATA_HEADER_LEN;
    size_t off = 0;
    tg_mp_add_feedback(mp, slot, plain, tg_mp_plain_cap(mp), &off);
    add_path_seq(p, plain, tg_mp_plain_cap(mp), &off);
    p->probe_id++;
    tg_time stamp = tg_pace_stamp(mp, p, now);
    if (tg_frame_put_ping(plain, tg_mp_plain_cap(mp), &off, TG_FRAME_PING, p->probe_id, stamp) != TG_OK)
        return;
    p->probe_backdate = p->held_us = now - stamp;
    p->probe_out = true;
    p->probe_sent = now;
    p->probes_sent++;
    p->next_probe = tg_time_add(now, probe_every(mp, p, now));
    tg_mp_finish(mp, slot, buf, off, now);
    tg_mp_elicit(p, now);
}

/* The answer to a probe already counted lost: it was late, not lost (a
 * cellular link pauses for longer than the probe timeout). Three such
 * probes read 1.2% loss, and adaptive left a live LTE uplink out of
 * striping for good (only probes fed its window after that). Taken back
 * once per probe. */
static void late_pong(struct tg_mp *mp, unsigned slot, uint32_t id, tg_time now)
{
    struct tg_path *p = mp->paths[slot];
    for (unsigned k = 0; k < TG_LATE_PROBES; k++) {
        if (p->late_probes[k] != id)
            continue;
        p->late_probes[k] = 0;
        enum tg_health before = p->est.health;
        tg_uplink_on_late_answer(&p->est, now);
        health_event(mp, slot, before, now);
        return;
    }
}

static void send_pong(struct tg_mp *mp, unsigned slot, uint32_t id, uint64_t t, tg_time now)
{
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return;
    uint8_t *plain = buf + TG_DATA_HEADER_LEN;
    size_t off = 0;
    tg_mp_add_feedback(mp, slot, plain, tg_mp_plain_cap(mp), &off);
    if (now < mp->announce_until &&
        tg_frame_put_session(plain, tg_mp_plain_cap(mp), &off, mp->announce_token, mp->announce_addr,
                             mp->announce_prefix) != TG_OK)
        return;
    /* the client learns its mapping (NAT) from what the server sees */
    const struct tg_path *p = mp->paths[slot];
    if (mp->server && p->peer.type != 0 &&
        tg_frame_put_observed(plain, tg_mp_plain_cap(mp), &off, &p->peer) != TG_OK)
        return;
    if (tg_frame_put_ping(plain, tg_mp_plain_cap(mp), &off, TG_FRAME_PONG, id, t) == TG_OK)
        tg_mp_finish(mp, slot, buf, off, now);
}

static void send_feedback(struct tg_mp *mp, unsigned slot, tg_time now)
{
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return;
    size_t off = 0;
    tg_mp_add_feedback(mp, slot, buf + TG_DATA_HEADER_LEN, tg_mp_plain_cap(mp), &off);
    tg_mp_finish(mp, slot, buf, off, now);
}

/* DATA went or came: after an idle spell the probes that were slowed down
 * come back to their pace now, not a second later. */
static void data_seen(struct tg_mp *mp, tg_time now)
{
    if (now - mp->data_at >= mp->cfg->idle_probe_after_us) {
        for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
            struct tg_path *p = mp->paths[i];
            tg_time soon = tg_time_add(now, mp->cfg->probe_interval_us);
            if (p != NULL && p->keyed && !p->probe_out && p->next_probe > soon)
                p->next_probe = soon;
        }
    }
    mp->data_at = now;
}

/* A move away from an uplink in this state is a failover, not a preference. */
static bool failing(enum tg_health h)
{
    return h >= TG_HEALTH_DEGRADED;
}

int tg_mp_send(struct tg_mp *mp, const uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_io *io = mp->io;
    if (len > mp->cfg->max_packet || len > tg_mp_plain_cap(mp) - TG_FRAME_DATA_MAX_HEADER_LEN) {
        tg_io_drop(io, TG_DROP_TOO_BIG);
        return TG_ERR_NOBUF;
    }
    uint64_t flow;
    if (tg_flow_hash_packet(mp->flow_key, pkt, len, &flow) != TG_OK) {
        tg_io_drop(io, TG_DROP_BAD_PACKET);
        return TG_ERR_MALFORMED;
    }
    /* the scheduler reads nothing but `present` of an absent uplink; an
     * uplink whose datagrams are overdue gets nothing new while another
     * one answers (what it had in flight goes out again: recover.h) */
    struct tg_sched_view v[TG_MAX_UPLINKS] = {0};
    uint32_t usable = 0, answering = 0;
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!tg_mp_usable(mp, p, now))
            continue;
        usable |= 1u << i;
        if (now < tg_mp_overdue_at(mp, p))
            answering |= 1u << i;
    }
    if (answering != 0) {
        usable = answering;
    } else { /* all silent: the one that answered last */
        tg_time last = 0;
        for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
            if ((usable & (1u << i)) && mp->paths[i]->fb_advanced_at >= last)
                last = mp->paths[i]->fb_advanced_at;
        for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
            if ((usable & (1u << i)) && mp->paths[i]->fb_advanced_at < last)
                usable &= ~(1u << i);
    }
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!(usable & (1u << i)))
            continue;
        v[i] = (struct tg_sched_view){
            .present = true,
            .health = p->est.health,
            .srtt_us = p->est.has_rtt ? p->est.srtt_us : 0,
            .loss = tg_uplink_loss(&p->est),
            .loss_samples = p->est.loss_count,
            .rate_bps = p->est.has_rate ? p->est.rate_bps : 0,
            .owd_us = p->est.owd_base_us, /* the queue is in queued_bytes */
            .has_owd = p->est.has_owd,
            .queued_bytes = tg_mp_queued(mp, p, now) + p->pace_bytes,
            .weight = 1.0,
            .priority = i,
        };
    }
    uint32_t mask = 0;
    if (tg_sched_pick(mp->sched, v, TG_MAX_UPLINKS, flow, len, now, &mask) != TG_OK ||
        mask == 0) {
        tg_io_drop(io, TG_DROP_NO_UPLINK);
        return TG_ERR_STATE;
    }
    uint8_t flags = tg_sched_last_striped(mp->sched) ? TG_DATA_FLAG_ORDERED : 0;
    int first = __builtin_ctz(mask);
    if (mp->last_best >= 0 && first != mp->last_best && mp->paths[mp->last_best] != NULL &&
        (failing(mp->paths[mp->last_best]->est.health) || !(usable & (1u << mp->last_best))))
        io->counters.failovers++;
    mp->last_best = first;
    bool solo = (mask & (mask - 1)) == 0;
    bool hold = solo && tg_pace_wants(mp, mp->paths[first], len, now);
    /* dropped before it takes a sequence number: a number never sent would
     * leave the receiver a gap to wait for */
    if (hold && !tg_pace_room(mp)) {
        tg_io_drop(io, TG_DROP_QUEUE_FULL);
        return TG_ERR_NOBUF;
    }

    uint64_t seq = mp->next_seq++;
    mp->last_activity = now;
    data_seen(mp, now);
    if (flags & TG_DATA_FLAG_ORDERED)
        tg_rtx_store(mp, seq, pkt, len, (unsigned)first, now);
    io->counters.data_bytes += len;
    io->counters.data_copy_bytes += len * (uint64_t)__builtin_popcount(mask);
    if (hold) {
        tg_pace_hold(mp, (unsigned)first, seq, flags, pkt, len, now);
        tg_pace_drain(mp, now);
        return TG_OK;
    }
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
        if (mask & (1u << i))
            tg_mp_send_data(mp, i, seq, flags, solo, pkt, len, tg_pace_stamp(mp, mp->paths[i], now), now);
    return TG_OK;
}

void tg_mp_send_data(struct tg_mp *mp, unsigned slot, uint64_t seq, uint8_t flags, bool solo,
                     const uint8_t *pkt, size_t len, tg_time stamp, tg_time now)
{
    /* feedback rides along only while the datagram stays unfragmented */
    size_t data_len = TG_FRAME_DATA_MAX_HEADER_LEN + len;
    size_t fb_cap = mp->cfg->max_datagram > TG_DATA_OVERHEAD + data_len
                        ? mp->cfg->max_datagram - TG_DATA_OVERHEAD - data_len
                        : 0;
    uint8_t *buf = tg_io_reserve_out(mp->io);
    if (buf == NULL)
        return;
    uint8_t *plain = buf + TG_DATA_HEADER_LEN;
    size_t off = 0;
    tg_mp_add_feedback(mp, slot, plain, fb_cap, &off);
    struct tg_path *p = mp->paths[slot];
    uint8_t f = flags | (p->last_data_ordered ? TG_DATA_FLAG_PREV_ORDERED : 0);
    if (tg_frame_put_data(plain, tg_mp_plain_cap(mp), &off, f, seq, stamp, prev_delta(p, seq), pkt,
                          (uint16_t)len) != TG_OK)
        return;
    p->held_us = now - stamp;
    if ((flags & TG_DATA_FLAG_ORDERED) && solo)
        tg_rtx_sent(mp, seq, slot, p->cur.send_counter);
    p->last_data_seq = seq;
    p->last_data_solo = solo;
    p->last_data_ordered = (flags & TG_DATA_FLAG_ORDERED) != 0;
    tg_mp_finish(mp, slot, buf, off, now);
    tg_mp_elicit(p, now);
}

/* Uplinks that carried anything authenticated within the reorder hold time
 * may still deliver a striped packet: the reorder buffer waits for them.
 * The handshake that keyed an uplink counts, and one on its way
 * (tg_mp_expect): the peer may send on it at once, and its first packets,
 * on a slower uplink, must not find their gaps given up on because nothing
 * else has come over it yet. */
static void set_alive(struct tg_mp *mp, tg_time now)
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
static void drain_reorder(struct tg_mp *mp, tg_time now)
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
    drain_reorder(mp, mp->drained_at);
}

/* The bottleneck's queue as the newest report saw it (the queueing delay of
 * datagram `hi` at the delivery rate), carried forward over every datagram
 * sent since: each adds its bytes, the rate drains the queue in between, never
 * below empty. (Drained as one sum from the report on, an idle spell would
 * count as room for the whole burst after it.) */
static void queue_replay(struct tg_path *p, uint64_t hi, uint64_t sent_counter)
{
    bool was_valid = p->q_valid;
    p->q_valid = p->est.has_rate && p->est.rate_bps > 0;
    if (!p->q_valid)
        return;
    double q = p->est.rate_bps / 8e6 * (double)p->est.queue_delay_us;
    double predicted = p->tx[hi % TG_TX_RING].q;
    if (was_valid)
        p->underfed = predicted >= 16384 && q < predicted / 2;
    struct tg_tx_mark prev = p->tx[hi % TG_TX_RING];
    for (uint64_t c = hi + 1; c < sent_counter; c++) {
        const struct tg_tx_mark *m = &p->tx[c % TG_TX_RING];
        q = tg_mp_drained(p, q, m->at - prev.at) + (double)(m->cum - prev.cum);
        prev = *m;
    }
    p->q_bytes = q;
    p->q_at = prev.at;
}

static void on_feedback(struct tg_mp *mp, const struct tg_frame *f, tg_time now)
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
    if (fb.has_owd && hi_known) /* a packet held in the tunnel carried its older time */
        fb.owd_us -= (int64_t)p->tx[hi % TG_TX_RING].held;
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
            fb.ack_interval_us = now - p->fb_at;
            if (hi_known && sent_counter - p->fb_highest <= TG_TX_RING)
                fb.send_interval_us =
                    p->tx[hi % TG_TX_RING].at - p->tx[p->fb_highest % TG_TX_RING].at;
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
            p->unreported_at = p->tx[(hi + 1) % TG_TX_RING].at;
    }
    p->fb_highest = hi;
    p->fb_at = now;
    /* the mark of the highest counter the receiver has seen (when it has
     * left the ring, the oldest mark: fewer bytes count as sent after it) */
    p->anchor_valid = hi_known;
    if (hi_known)
        p->reported = p->tx[hi % TG_TX_RING];
    else if (sent_counter > hi)
        p->reported = p->tx[sent_counter % TG_TX_RING];
    else
        p->reported.cum = p->tx_bytes;
    if (hi_known)
        queue_replay(p, hi, sent_counter);
    else
        p->q_valid = false;
    health_event(mp, slot, before, now);
}

/* An empty entry in the reorder buffer: nothing waits for `seq` any more.
 * Refused below the window or when already there, which is as good. */
static void reorder_mark(struct tg_mp *mp, unsigned slot, uint64_t seq, tg_time now)
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
 * a run. */
static void path_lost(struct tg_mp *mp, unsigned slot, uint64_t seq, bool ordered, uint64_t after,
                      uint32_t missing, tg_time now)
{
    if (tg_replay_check(&mp->dedup, seq) != TG_OK)
        return;
    bool congested = tg_rtx_congested(mp->paths[slot], 1 + missing);
    if (ordered && mp->reorder != NULL && mp->cfg->retransmit_slots > 0 &&
        seq >= tg_reorder_next_seq(mp->reorder) && !congested && tg_rtx_may_ask(mp)) {
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
    reorder_mark(mp, slot, seq, now);
}

/* How far back a buffer created at sequence number S looks: numbers below S
 * not yet seen may still arrive, numbers seen were delivered unordered. */
#define REORDER_LOOKBACK 64
/* A buffer that has been empty this long is given back (an idle session
 * keeps no megabytes). */
#define REORDER_IDLE_US TG_SEC(10)

/* Path `slot` measured a one-way delay: how long the reorder buffer may
 * wait for it. */
static void note_reach(struct tg_mp *mp, unsigned slot)
{
    if (mp->reorder != NULL)
        tg_reorder_set_reach(mp->reorder, slot, tg_rtx_reach(mp->paths[slot]));
}

/* A striped packet: into the reorder buffer, created on first use. */
static void ordered_push(struct tg_mp *mp, unsigned slot, uint64_t seq, const uint8_t *pkt,
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
                reorder_mark(mp, slot, s, now);
        set_alive(mp, now);
        for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
            if (mp->paths[i] != NULL)
                note_reach(mp, i);
    }
    tg_rtx_rx_striped(mp);
    int rc = tg_reorder_push_at(mp->reorder, seq, slot, pkt, len, now, not_before, mp->dgram_sent);
    if (rc != TG_OK)
        tg_io_drop(mp->io, rc == TG_ERR_NOBUF ? TG_DROP_TOO_BIG : TG_DROP_LATE);
}

int tg_mp_receive(struct tg_mp *mp, unsigned slot, struct tg_transport *t,
                  const struct tg_wire_msg *m, uint8_t *dgram, tg_time now)
{
    struct tg_io *io = mp->io;
    size_t plain_len;
    int rc = tg_transport_open(t, m, dgram, &plain_len);
    if (rc != TG_OK) {
        tg_io_drop(io, rc == TG_ERR_DECRYPT ? TG_DROP_DECRYPT : TG_DROP_REPLAY);
        return rc;
    }
    struct tg_path *p = mp->paths[slot];
    uint32_t run = 0; /* datagrams missing just before this one, beyond one, ... */
    uint64_t run_after = p->rx_highest; /* ... since the one with this counter */
    if (t == &p->cur) {
        /* counters of the previous keys are a different space; a longer run
         * is an outage or an overflow, not worth holding the stream for */
        p->confirmed = true;
        if (p->rx_packets > 0 && m->counter > p->rx_highest + 2 &&
            m->counter - p->rx_highest - 2 <= TG_LOST_RUN_MAX)
            run = (uint32_t)(m->counter - p->rx_highest - 2);
        p->rx_packets++;
        if (m->counter > p->rx_highest)
            p->rx_highest = m->counter;
    }
    p->last_rx = now;
    mp->last_activity = now;

    set_alive(mp, now);
    mp->dgram_sent = 0;
    const uint8_t *plain = dgram + TG_DATA_HEADER_LEN;
    size_t off = 0;
    struct tg_frame f;
    int64_t pong_owd = 0; /* the one-way delay a feedback in this datagram reported */
    bool pong_owd_valid = false;
    while ((rc = tg_frame_next(plain, plain_len, &off, &f)) == 1) {
        switch (f.type) {
        case TG_FRAME_DATA: {
            data_seen(mp, now);
            uint64_t seq = tg_widen32(f.u.data.seq, mp->dedup.next);
            p->rx_bytes += f.u.data.len;
            p->rx_unreported++;
            /* the send time's low 32 bits widen against the peer's clock
             * as a PING told it: widened against 0 instead, every one-way
             * delay was off by whole multiples of 2^32 us (the peer's
             * uptime), and mixed with the PINGs' true ones it made every
             * queue estimate absurd */
            if (mp->peer_time_known) {
                mp->peer_time = tg_widen32(f.u.data.send_time_us, mp->peer_time);
                p->rx_owd_us = (int64_t)(now - mp->peer_time);
                mp->dgram_sent = mp->peer_time;
                tg_rtx_rx_sample(p, now);
                note_reach(mp, slot);
            }
            if ((f.u.data.flags & TG_DATA_FLAG_PREV) && f.u.data.prev_delta <= seq)
                path_lost(mp, slot, seq - f.u.data.prev_delta,
                          (f.u.data.flags & TG_DATA_FLAG_PREV_ORDERED) != 0, run_after, run, now);
            if (seq > p->rx_data_seq)
                p->rx_data_seq = seq;
            if (!p->fb_pending) {
                p->fb_pending = true;
                p->fb_due = tg_time_add(now, mp->cfg->feedback_interval_us);
            }
            if (tg_replay_accept(&mp->dedup, seq) != TG_OK) {
                tg_io_drop(io, TG_DROP_DUPLICATE);
                break;
            }
            uint8_t *pkt = (uint8_t *)(uintptr_t)f.u.data.packet;
            if (f.u.data.flags & TG_DATA_FLAG_ORDERED) {
                ordered_push(mp, slot, seq, pkt, f.u.data.len, now, tg_playout_at(mp, now));
            } else {
                /* deliver now; leave an empty mark so ordered packets after it
                 * do not wait for this sequence number */
                reorder_mark(mp, slot, seq, now);
                mp->deliver(mp->owner, mp, pkt, f.u.data.len, now);
            }
            break;
        }
        case TG_FRAME_PATH_SEQ:
            path_lost(mp, slot, tg_widen32(f.u.path_seq.prev_seq, mp->dedup.next), true, run_after,
                      run, now);
            break;
        case TG_FRAME_PING:
            /* the PONG carries a feedback too, so the sender's picture of an
             * uplink that carries only probes stays fresh: its one-way delay
             * is the probe's, the delay of an idle uplink */
            p->rx_owd_us = (int64_t)(now - f.u.ping.send_time_us);
            if (mp->cfg->playout_max_us > 0) /* playout needs idle uplinks' delays too */
                tg_playout_owd_sample(p, now);
            note_reach(mp, slot);
            mp->dgram_sent = f.u.ping.send_time_us;
            if (mp->reorder != NULL) /* everything sent on it before the probe is in */
                tg_reorder_cleared(mp->reorder, slot, mp->dgram_sent);
            if (!mp->peer_time_known || f.u.ping.send_time_us > mp->peer_time) {
                mp->peer_time = f.u.ping.send_time_us;
                mp->peer_time_known = true;
            }
            p->fb_pending = true;
            send_pong(mp, slot, f.u.ping.id, f.u.ping.send_time_us, now);
            /* the peer reached us on an uplink we hold Down: ask it back now */
            if (p->est.health == TG_HEALTH_DOWN && !p->probe_out)
                p->next_probe = now;
            break;
        case TG_FRAME_PONG:
            if (p->probe_out && f.u.ping.id == p->probe_id && f.u.ping.send_time_us <= now) {
                enum tg_health before = p->est.health;
                /* the feedback before it in this datagram was written when our
                 * probe arrived: its one-way delay is the probe's. An uplink
                 * the scheduler leaves idle learns its empty-queue delay from
                 * these; from data alone it keeps whatever queue its last
                 * packets met (a slow start's), looks longer than it is, and
                 * may never be chosen again. */
                if (pong_owd_valid)
                    tg_uplink_on_owd(&p->est, pong_owd - (int64_t)p->probe_backdate, now);
                if (before == TG_HEALTH_DOWN) { /* back from an outage: start afresh */
                    tg_uplink_forget_loss(&p->est);
                    p->fb_seen = false;
                }
                p->probe_out = false;
                tg_uplink_on_rtt(&p->est, now - f.u.ping.send_time_us - p->probe_backdate, now);
                health_event(mp, slot, before, now);
                /* a Down uplink that answers is asked again at once, so the
                 * successes that bring it back take round trips, not seconds */
                if (p->est.health == TG_HEALTH_DOWN)
                    p->next_probe = now;
            } else if (f.u.ping.id != 0 && f.u.ping.send_time_us <= now) {
                late_pong(mp, slot, f.u.ping.id, now);
            }
            break;
        case TG_FRAME_FEEDBACK:
            on_feedback(mp, &f, now);
            if (f.u.feedback.uplink == slot && f.u.feedback.owd_us != TG_OWD_UNKNOWN) {
                pong_owd = f.u.feedback.owd_us;
                pong_owd_valid = true;
            }
            break;
        case TG_FRAME_NACK:
            tg_rtx_on_nack(mp, &f, now);
            break;
        case TG_FRAME_LOST_RUN:
            tg_rtx_on_lost_run(mp, &f, now);
            break;
        case TG_FRAME_OBSERVED:
            if (!mp->server)
                p->mapped = f.u.observed;
            break;
        case TG_FRAME_SESSION:
        case TG_FRAME_CLOSE:
            if (mp->on_frame != NULL)
                mp->on_frame(mp->owner, mp, slot, &f, now);
            break;
        default:
            break;
        }
    }
    if (rc < 0)
        tg_io_drop(io, TG_DROP_BAD_FRAME);
    /* full-size data leaves no room to piggyback: report every so many */
    if (p->fb_pending && p->rx_unreported >= mp->cfg->feedback_packets)
        send_feedback(mp, slot, now);
    if (mp->n_nack > 0)
        tg_rtx_send_nack(mp, now);
    drain_reorder(mp, now);
    tg_pace_drain(mp, now);
    return TG_OK;
}

tg_time tg_mp_next_deadline(const struct tg_mp *mp)
{
    tg_time t = TG_TIME_NEVER;
    if (mp->reorder != NULL) {
        /* the buffer is given back only once empty: until then its own
         * deadline is the one (an idle deadline already past would make the
         * host call on_timeout for ever) */
        t = tg_reorder_next_deadline(mp->reorder);
        if (t == TG_TIME_NEVER)
            t = tg_time_add(mp->ordered_at, REORDER_IDLE_US);
    }
    if (mp->rtx != NULL)
        t = tg_time_min(t, tg_time_add(mp->striped_at, REORDER_IDLE_US));
    t = tg_time_min(t, tg_pace_next_deadline(mp));
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (p == NULL || !p->keyed)
            continue;
        t = tg_time_min(t, p->probe_out ? tg_time_add(p->probe_sent, probe_timeout(p))
                                        : p->next_probe);
        if (p->fb_pending)
            t = tg_time_min(t, p->fb_due);
        if (mp->rtx != NULL && p->last_data_seq >= p->reinject_seq) { /* sent something since */
            tg_time due = tg_mp_overdue_at(mp, p);
            t = tg_time_min(t, due > p->reinject_at ? due : p->reinject_at);
        }
        if (p->has_prev)
            t = tg_time_min(t, p->prev_until);
    }
    return t;
}

void tg_mp_on_timeout(struct tg_mp *mp, tg_time now)
{
    probe_down_now(mp, now);
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        struct tg_path *p = mp->paths[i];
        if (p == NULL)
            continue;
        if (p->has_prev && now >= p->prev_until) {
            tg_transport_clear(&p->prev);
            p->has_prev = false;
        }
        if (!p->keyed)
            continue;
        if (p->probe_out && now >= tg_time_add(p->probe_sent, probe_timeout(p))) {
            enum tg_health before = p->est.health;
            p->probe_out = false;
            p->probes_lost++;
            p->late_probes[p->probes_lost % TG_LATE_PROBES] = p->probe_id;
            tg_uplink_on_probe_timeout(&p->est, now);
            health_event(mp, i, before, now);
        }
        if (p->fb_pending && now >= p->fb_due)
            send_feedback(mp, i, now);
        if (!p->probe_out && now >= p->next_probe)
            tg_mp_ping(mp, i, now);
        if (mp->rtx != NULL && now >= tg_mp_overdue_at(mp, p))
            tg_rtx_reinject(mp, i, now);
    }
    set_alive(mp, now);
    drain_reorder(mp, now);
    tg_pace_drain(mp, now);
    if (mp->reorder != NULL && now - mp->ordered_at >= REORDER_IDLE_US &&
        tg_reorder_next_deadline(mp->reorder) == TG_TIME_NEVER) {
        tg_reorder_free(mp->reorder);
        mp->reorder = NULL;
    }
    if (mp->rtx != NULL && now - mp->striped_at >= REORDER_IDLE_US) {
        tg_alloc_free(&mp->alloc, mp->rtx);
        mp->rtx = NULL;
    }
}

void tg_mp_snapshot(const struct tg_mp *mp, unsigned slot, tg_time now,
                    struct tg_uplink_snapshot *out)
{
    const struct tg_path *p = tg_mp_path(mp, slot);
    memset(out, 0, sizeof *out);
    out->uplink = slot;
    if (p == NULL) {
        out->health = TG_HEALTH_UNKNOWN;
        return;
    }
    out->keyed = p->keyed;
    out->health = p->est.health;
    out->srtt_us = p->est.srtt_us;
    out->rttvar_us = p->est.rttvar_us;
    out->min_rtt_us = p->est.min_rtt_us;
    out->loss = tg_uplink_loss(&p->est);
    out->rate_bps = p->est.rate_bps;
    out->owd_us = p->est.owd_us;
    out->tx_packets = p->tx_packets;
    out->tx_bytes = p->tx_bytes;
    out->rx_packets = p->rx_packets;
    out->rx_bytes = p->rx_bytes;
    out->peer_rx_bytes = p->fb_seen ? p->fb_rx_bytes : 0;
    out->probes_sent = p->probes_sent;
    out->probes_lost = p->probes_lost;
    out->queued_bytes = tg_mp_queued(mp, p, now);
    out->keys_age_us = p->keyed ? now - p->keys_at : 0;
    out->mapped = mp->server ? p->peer : p->mapped;
}

void tg_mp_close(struct tg_mp *mp, uint8_t reason, tg_time now)
{
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        if (!tg_mp_keyed(mp, i))
            continue;
        uint8_t *buf = tg_io_reserve_out(mp->io);
        if (buf == NULL)
            return;
        size_t off = 0;
        if (tg_frame_put_close(buf + TG_DATA_HEADER_LEN, tg_mp_plain_cap(mp), &off, reason) == TG_OK)
            tg_mp_finish(mp, i, buf, off, now);
    }
}
