#include "mpath.h"

#include <sodium.h>
#include <string.h>

#include "flow.h"
#include "inorder.h"
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
    c->light_flow_rate = 64 * 1024;
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
    mp->rtx_tokens = mp->ask_tokens = TG_RTX_BUDGET_CAP;
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

void tg_mp_health_event(struct tg_mp *mp, unsigned slot, enum tg_health before, tg_time now)
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
    tg_mp_health_event(mp, slot, before, now);
    struct tg_event ev = {.type = TG_EV_UPLINK_DOWN, .uplink = slot, .session = mp->ev_session, .at = now};
    tg_io_event(mp->io, &ev);
}


void tg_mp_expect(struct tg_mp *mp, unsigned slot, tg_time now)
{
    if (slot < TG_MAX_UPLINKS) {
        mp->expect_at[slot] = now;
        tg_mp_set_alive(mp, now);
    }
}

/* srtt + 4 rttvar, or the initial RTO before any sample: how long an answer
 * may take on this path. */
tg_time tg_mp_rtt_bound(const struct tg_path *p)
{
    return p->est.has_rtt ? p->est.srtt_us + 4 * p->est.rttvar_us : p->est.cfg.initial_rto_us;
}

/* How long a PING may stay unanswered before it counts as a failure: the
 * RTO without RFC 6298 back-off. Backing off suits retransmission, not
 * probing, where a steady pace of failures is what detects a dead uplink. */
static tg_time probe_timeout(const struct tg_path *p)
{
    const struct tg_uplink_config *c = &p->est.cfg;
    tg_time rto = tg_mp_rtt_bound(p);
    return rto < c->rto_min_us ? c->rto_min_us : rto > c->rto_max_us ? c->rto_max_us : rto;
}

bool tg_mp_usable(const struct tg_mp *mp, const struct tg_path *p, tg_time now)
{
    return p != NULL && p->keyed && now - p->keys_at < mp->cfg->reject_after_us;
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
    if (p->q_valid) {
        p->q_bytes = tg_mp_drained(p, p->q_bytes, now - p->q_at) + (double)len;
        p->q_at = now;
    }
    uint32_t held = TG_MARK_UNTIMED;
    if (p->timed)
        held = p->held_us < TG_MARK_UNTIMED ? (uint32_t)p->held_us : TG_MARK_UNTIMED - 1;
    p->tx[counter % TG_TX_RING] =
        (struct tg_tx_mark){.cum = (uint32_t)p->tx_bytes, .at = (uint32_t)now, .held = held};
    p->timed = false;
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
    p->timed = true;
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
        tg_mp_health_event(mp, slot, before, now);
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
    struct tg_ip_info ip;
    if (tg_ip_parse(pkt, len, &ip) != TG_OK) {
        tg_io_drop(io, TG_DROP_BAD_PACKET);
        return TG_ERR_MALFORMED;
    }
    uint64_t flow = tg_flow_hash(mp->flow_key, &ip);
    /* views up to the last usable slot, the others below it zeroed (absent);
     * an uplink whose datagrams are overdue gets nothing new while another
     * one answers (what it had in flight goes out again: recover.h) */
    struct tg_sched_view v[TG_MAX_UPLINKS];
    uint32_t usable = 0, answering = 0;
    double rates = 0;
    bool alive = false; /* some usable uplink's probes still answer */
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!tg_mp_usable(mp, p, now))
            continue;
        usable |= 1u << i;
        alive |= p->est.health < TG_HEALTH_UNHEALTHY;
        rates += p->est.has_rate ? p->est.rate_bps : 0;
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
    /* a light flow goes at once, on the uplink whose delay was measured the
     * least: its own packets since do not count, so a burst of it stays on
     * one uplink, in order (light.h) */
    bool light =
        tg_light_pass(&mp->light, tg_light_rate(mp->cfg->light_flow_rate, rates), flow, len, now);
    unsigned n = usable ? 32u - (unsigned)__builtin_clz(usable) : 0; /* slots past the last: none */
    for (unsigned i = 0; i < n; i++) {
        const struct tg_path *p = mp->paths[i];
        if (!(usable & (1u << i))) {
            v[i] = (struct tg_sched_view){0};
            continue;
        }
        v[i] = (struct tg_sched_view){
            .present = true,
            .health = p->est.health,
            .srtt_us = p->est.has_rtt ? p->est.srtt_us : 0,
            .loss = tg_uplink_loss(&p->est),
            .loss_samples = p->est.loss_count,
            .rate_bps = p->est.has_rate ? p->est.rate_bps : 0,
            .rate_floor = !p->est.rate_queued,
            .owd_us = p->est.owd_base_us, /* the queue is in queued_bytes */
            .has_owd = p->est.has_owd,
            .queued_bytes = light ? (uint64_t)tg_mp_measured_queue(p)
                                  : tg_mp_queued(mp, p, now) + p->pace_bytes,
            .weight = 1.0,
            .priority = i,
        };
    }
    uint32_t mask = 0;
    if (tg_sched_pick(mp->sched, v, n, flow, len, now, &mask) != TG_OK || mask == 0) {
        /* every uplink down: a TCP packet waits for one to come back */
        if (usable != 0 && ip.proto == TG_PROTO_TCP && tg_rtx_hold(mp, pkt, len, now)) {
            data_seen(mp, now); /* the Down uplinks stay probed at a busy pace */
            return TG_OK;
        }
        tg_io_drop(io, TG_DROP_NO_UPLINK);
        return TG_ERR_STATE;
    }
    uint8_t flags = tg_sched_last_striped(mp->sched) && !light ? TG_DATA_FLAG_ORDERED : 0;
    int first = __builtin_ctz(mask);
    if (mp->last_best >= 0 && first != mp->last_best && mp->paths[mp->last_best] != NULL &&
        (failing(mp->paths[mp->last_best]->est.health) || !(usable & (1u << mp->last_best))))
        io->counters.failovers++;
    mp->last_best = first;
    bool solo = (mask & (mask - 1)) == 0;
    bool hold = solo && !light && tg_pace_wants(mp, mp->paths[first], len, now);
    /* dropped before it takes a sequence number: a number never sent would
     * leave the receiver a gap to wait for */
    if (hold && !tg_pace_room(mp)) {
        tg_io_drop(io, TG_DROP_QUEUE_FULL);
        return TG_ERR_NOBUF;
    }

    uint64_t seq = mp->next_seq++;
    mp->last_activity = now;
    data_seen(mp, now);
    if ((flags & TG_DATA_FLAG_ORDERED) || solo)
        tg_rtx_store(mp, seq, pkt, len, (unsigned)first, (flags & TG_DATA_FLAG_ORDERED) != 0, now);
    io->counters.data_bytes += len;
    io->counters.data_copy_bytes += len * (uint64_t)__builtin_popcount(mask);
    if (hold) {
        tg_pace_hold(mp, (unsigned)first, seq, flags, pkt, len, now);
        tg_pace_drain(mp, now);
        return TG_OK;
    }
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
        if (mask & (1u << i))
            tg_mp_send_data(mp, i, seq, flags, solo, pkt, len,
                            light ? now : tg_pace_stamp(mp, mp->paths[i], now), now);
    /* every uplink silent and failing its probes: an outage (recover.h) */
    if (answering == 0 && !alive && ip.proto == TG_PROTO_TCP)
        tg_rtx_blind(mp, seq);
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
    /* one that passes packets held for this uplink (a light flow's, a copy)
     * is not part of its chain: the held ones, numbered before it, follow */
    bool chained = p->pace_n == 0 || (flags & TG_DATA_FLAG_HELD);
    uint8_t f = flags | (chained && p->last_data_ordered ? TG_DATA_FLAG_PREV_ORDERED : 0);
    if (tg_frame_put_data(plain, tg_mp_plain_cap(mp), &off, f, seq, stamp,
                          chained ? prev_delta(p, seq) : 0, pkt, (uint16_t)len) != TG_OK)
        return;
    p->held_us = now - stamp;
    p->timed = true;
    if (solo)
        tg_rtx_sent(mp, seq, slot, p->cur.send_counter);
    if (chained) {
        p->last_data_seq = seq;
        p->last_data_solo = solo;
        p->last_data_ordered = (flags & TG_DATA_FLAG_ORDERED) != 0;
    }
    tg_mp_finish(mp, slot, buf, off, now);
    tg_mp_elicit(p, now);
}

/* A buffer that has been empty this long is given back (an idle session
 * keeps no megabytes). */
#define REORDER_IDLE_US TG_SEC(10)

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

    tg_mp_set_alive(mp, now);
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
                tg_mp_note_reach(mp, slot);
            }
            if ((f.u.data.flags & TG_DATA_FLAG_PREV) && f.u.data.prev_delta <= seq)
                tg_mp_path_lost(mp, slot, seq - f.u.data.prev_delta,
                                (f.u.data.flags & TG_DATA_FLAG_PREV_ORDERED) != 0, run_after,
                                run, (f.u.data.flags & TG_DATA_FLAG_HELD) != 0, now);
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
                tg_mp_ordered_push(mp, slot, seq, pkt, f.u.data.len, now,
                                   tg_playout_at(mp, now));
            } else {
                /* deliver now; leave an empty mark so ordered packets after it
                 * do not wait for this sequence number. A light flow's packet
                 * passes the packets held for its uplink (light.h), numbered
                 * before it, so it is no sign of where that uplink is; its
                 * send time is its own, so it still bounds the gaps below it
                 * on the other uplinks */
                tg_mp_mark(mp, TG_REORDER_NO_UPLINK, seq, now);
                mp->deliver(mp->owner, mp, pkt, f.u.data.len, now);
            }
            break;
        }
        case TG_FRAME_PATH_SEQ:
            tg_mp_path_lost(mp, slot, tg_widen32(f.u.path_seq.prev_seq, mp->dedup.next), true,
                            run_after, run, false, now);
            break;
        case TG_FRAME_PING:
            /* the PONG carries a feedback too, so the sender's picture of an
             * uplink that carries only probes stays fresh: its one-way delay
             * is the probe's, the delay of an idle uplink */
            p->rx_owd_us = (int64_t)(now - f.u.ping.send_time_us);
            if (mp->cfg->playout_max_us > 0) /* playout needs idle uplinks' delays too */
                tg_playout_owd_sample(p, now);
            tg_mp_note_reach(mp, slot);
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
                tg_mp_health_event(mp, slot, before, now);
                /* a Down uplink that answers is asked again at once, so the
                 * successes that bring it back take round trips, not seconds */
                if (p->est.health == TG_HEALTH_DOWN)
                    p->next_probe = now;
            } else if (f.u.ping.id != 0 && f.u.ping.send_time_us <= now) {
                late_pong(mp, slot, f.u.ping.id, now);
            }
            break;
        case TG_FRAME_FEEDBACK:
            tg_mp_on_feedback(mp, &f, now);
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
        tg_mp_send_feedback(mp, slot, now);
    if (mp->n_nack > 0 || mp->n_runs > 0)
        tg_rtx_send_nack(mp, now);
    tg_rtx_replay(mp, now);
    tg_mp_drain_reorder(mp, now);
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
        t = tg_time_min(t, tg_time_add(mp->kept_at, REORDER_IDLE_US));
    if (mp->blind && mp->replay_at != 0)
        t = tg_time_min(t, mp->replay_at);
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
            tg_mp_health_event(mp, i, before, now);
        }
        if (p->fb_pending && now >= p->fb_due)
            tg_mp_send_feedback(mp, i, now);
        if (!p->probe_out && now >= p->next_probe)
            tg_mp_ping(mp, i, now);
        if (mp->rtx != NULL && now >= tg_mp_overdue_at(mp, p))
            tg_rtx_reinject(mp, i, now);
    }
    tg_mp_set_alive(mp, now);
    tg_rtx_replay(mp, now);
    tg_mp_drain_reorder(mp, now);
    tg_pace_drain(mp, now);
    if (mp->reorder != NULL && now - mp->ordered_at >= REORDER_IDLE_US &&
        tg_reorder_next_deadline(mp->reorder) == TG_TIME_NEVER) {
        tg_reorder_free(mp->reorder);
        mp->reorder = NULL;
    }
    if (mp->rtx != NULL && now - mp->kept_at >= REORDER_IDLE_US)
        tg_rtx_free(mp);
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
