/* The server endpoint: many multipath sessions, O(1) lookup by receiver
 * index, an address pool, and per-source handshake rate limiting. */
#include <sodium.h>
#include <string.h>

#include "hello.h"
#include "ip.h"
#include "mpath.h"

#define RATE_BUCKETS 1024

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

struct pending_join {
    bool used;
    struct tg_transport t; /* keys proven only when a message under them decrypts */
    struct tg_key_addr peer;
    unsigned listen;
    tg_time until;
};

struct session {
    bool used, confirmed;
    uint32_t number;          /* pool offset: addr = pool base + number */
    uint8_t token[TG_TOKEN_LEN];
    uint8_t join_key[TG_NOISE_KEY_LEN];
    uint8_t addr[4];
    tg_time created;
    struct tg_mp mp;
    struct pending_join join[TG_MAX_UPLINKS];
};

struct index_entry {
    uint32_t index;  /* 0 = empty */
    uint32_t session;
    uint8_t slot;
    uint8_t kind;    /* 0 cur, 1 prev, 2 pending join */
    bool tomb;       /* deleted: probing continues past it */
};

struct tg_server {
    struct tg_server_config cfg;
    struct tg_rng rng;
    const struct tg_allocator *alloc;
    struct tg_io io;
    struct session *sessions;       /* cfg.max_sessions */
    struct session **by_addr;       /* pool offset -> session */
    uint32_t host_mask;             /* host bits of the pool */
    uint32_t n_sessions;
    struct index_entry *index;      /* open addressing, power-of-two size */
    uint32_t index_mask;
    uint64_t rate_tat[RATE_BUCKETS]; /* GCRA theoretical arrival time per source bucket */
    uint8_t rate_key[16];
    uint8_t public_key[32];
};

void tg_server_config_default(struct tg_server_config *c)
{
    memset(c, 0, sizeof *c);
    tg_mp_config_default(&c->mp);
    c->pool_addr[0] = 10;
    c->pool_addr[1] = 0;
    c->pool_addr[2] = 85;
    c->pool_addr[3] = 0;
    c->pool_prefix = 24;
    c->max_sessions = 64;
    c->session_idle_us = TG_SEC(300);
    c->pending_timeout_us = TG_SEC(10);
    c->hs_per_source_per_s = 10;
    c->hs_burst = 20;
}

/* ------------------------------------------------------------ index table */

static uint32_t slot_of(const struct tg_server *s, uint32_t index)
{
    return (index * 2654435761u) & s->index_mask;
}

static struct index_entry *index_find(struct tg_server *s, uint32_t index)
{
    for (uint32_t i = slot_of(s, index), n = 0; n <= s->index_mask; i = (i + 1) & s->index_mask, n++) {
        struct index_entry *e = &s->index[i];
        if (e->index == index && !e->tomb)
            return e;
        if (e->index == 0 && !e->tomb)
            return NULL;
    }
    return NULL;
}

static void index_del(struct tg_server *s, uint32_t index)
{
    struct index_entry *e = index_find(s, index);
    if (e != NULL) {
        e->index = 0;
        e->tomb = true;
    }
}

/* A fresh random index, inserted. The table holds 4x the most indexes in
 * use, so it never fills. */
static uint32_t index_new(struct tg_server *s, uint32_t session, unsigned slot, uint8_t kind)
{
    for (;;) {
        uint32_t idx = tg_rng_u32(&s->rng);
        if (idx == 0 || index_find(s, idx) != NULL)
            continue;
        for (uint32_t i = slot_of(s, idx);; i = (i + 1) & s->index_mask) {
            struct index_entry *e = &s->index[i];
            if (e->index == 0) {
                *e = (struct index_entry){.index = idx, .session = session, .slot = (uint8_t)slot,
                                          .kind = kind};
                return idx;
            }
        }
    }
}

/* ------------------------------------------------------------ life cycle */

static void deliver(void *owner, struct tg_mp *mp, uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_server *s = owner;
    struct session *ss = &s->sessions[mp->id];
    struct tg_ip_info ip;
    (void)now;
    if (tg_ip_parse(pkt, len, &ip) != TG_OK) {
        tg_io_drop(&s->io, TG_DROP_BAD_PACKET);
        return;
    }
    if (ip.version != 4 || memcmp(ip.src, ss->addr, 4) != 0) {
        tg_io_drop(&s->io, TG_DROP_SPOOFED);
        return;
    }
    tg_io_tun_push(&s->io, pkt, len);
}

int tg_server_new(const struct tg_server_config *cfg, const struct tg_rng *rng,
                  const struct tg_allocator *a, tg_time now, struct tg_server **out)
{
    (void)now;
    *out = NULL;
    if (cfg->pool_prefix < 8 || cfg->pool_prefix > 30 || cfg->max_sessions == 0 ||
        cfg->max_sessions > (1u << 20) || cfg->mp.max_packet < 68 ||
        cfg->mp.max_packet > 65535 - 200 || cfg->hs_per_source_per_s == 0)
        return TG_ERR_INVAL;
    struct tg_server *s = tg_alloc_zeroed(a, sizeof *s);
    if (s == NULL)
        return TG_ERR_NOMEM;
    s->cfg = *cfg;
    s->rng = *rng;
    s->alloc = a;
    s->host_mask = (1u << (32 - cfg->pool_prefix)) - 1; /* host part; .1 is the server */
    uint32_t want = cfg->max_sessions * TG_MAX_UPLINKS * 3 * 4, size = 64;
    while (size < want)
        size <<= 1;
    s->index_mask = size - 1;
    s->sessions = tg_alloc_zeroed(a, sizeof *s->sessions * cfg->max_sessions);
    s->by_addr = tg_alloc_zeroed(a, sizeof *s->by_addr * (s->host_mask + 1));
    s->index = tg_alloc_zeroed(a, sizeof *s->index * size);
    int rc = s->sessions && s->by_addr && s->index ? TG_OK : TG_ERR_NOMEM;
    if (rc == TG_OK)
        rc = tg_queue_init(&s->io.out, cfg->mp.queue_slots, cfg->mp.max_packet + 128, a);
    if (rc == TG_OK)
        rc = tg_queue_init(&s->io.tun, cfg->mp.queue_slots, cfg->mp.max_packet, a);
    if (rc != TG_OK) {
        tg_server_free(s);
        return rc;
    }
    tg_rng_fill(rng, s->rate_key, sizeof s->rate_key);
    tg_noise_public_key(cfg->static_private, s->public_key);
    *out = s;
    return TG_OK;
}

static void session_end(struct tg_server *s, struct session *ss, tg_time now)
{
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = &ss->mp.paths[i];
        if (p->keyed)
            index_del(s, p->cur.local_index);
        if (p->has_prev)
            index_del(s, p->prev.local_index);
        if (ss->join[i].used)
            index_del(s, ss->join[i].t.local_index);
    }
    struct tg_event ev = {.type = TG_EV_SESSION_DOWN, .session = ss->number, .at = now};
    tg_io_event(&s->io, &ev);
    s->by_addr[ss->number] = NULL;
    tg_mp_clear(&ss->mp, s->alloc);
    sodium_memzero(ss, sizeof *ss);
    s->n_sessions--;
}

void tg_server_free(struct tg_server *s)
{
    if (s == NULL)
        return;
    const struct tg_allocator *a = s->alloc;
    if (s->sessions != NULL)
        for (uint32_t i = 0; i < s->cfg.max_sessions; i++)
            if (s->sessions[i].used)
                tg_mp_clear(&s->sessions[i].mp, a);
    tg_alloc_free(a, s->sessions);
    tg_alloc_free(a, s->by_addr);
    tg_alloc_free(a, s->index);
    tg_queue_clear(&s->io.out, a);
    tg_queue_clear(&s->io.tun, a);
    sodium_memzero(s, sizeof *s);
    tg_alloc_free(a, s);
}

/* GCRA: a source may start hs_per_source_per_s handshakes a second, with a
 * burst of hs_burst. Sources share buckets by keyed hash of the address (not
 * the port, which an attacker varies for free). */
static bool rate_ok(struct tg_server *s, const struct tg_key_addr *from, tg_time now)
{
    uint8_t h[8];
    crypto_shorthash_siphash24(h, from->addr, sizeof from->addr, s->rate_key);
    uint64_t *tat = &s->rate_tat[tg_get_u64(h) % RATE_BUCKETS];
    uint64_t interval = 1000000u / s->cfg.hs_per_source_per_s;
    uint64_t t = *tat > now ? *tat : now;
    if (t - now > interval * s->cfg.hs_burst)
        return false;
    *tat = t + interval;
    return true;
}

static struct session *session_new(struct tg_server *s, tg_time now)
{
    if (s->n_sessions >= s->cfg.max_sessions)
        return NULL;
    uint32_t number = 0;
    for (uint32_t off = 2; off < s->host_mask && number == 0; off++)
        if (s->by_addr[off] == NULL)
            number = off;
    if (number == 0)
        return NULL;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++) {
        struct session *ss = &s->sessions[i];
        if (ss->used)
            continue;
        if (tg_mp_init(&ss->mp, &s->cfg.mp, &s->io, &s->rng, s->alloc, true, now) != TG_OK)
            return NULL;
        ss->used = true;
        ss->number = number;
        ss->created = now;
        ss->mp.id = i;
        ss->mp.deliver = deliver;
        ss->mp.owner = s;
        uint32_t host = (be32(s->cfg.pool_addr) & ~s->host_mask) + number;
        for (int k = 0; k < 4; k++)
            ss->addr[k] = (uint8_t)(host >> (24 - 8 * k));
        tg_rng_fill(&s->rng, ss->token, sizeof ss->token);
        s->by_addr[number] = ss;
        s->n_sessions++;
        return ss;
    }
    return NULL;
}

/* ------------------------------------------------------------ handshakes */

static int send_response(struct tg_server *s, struct tg_noise_hs *hs, unsigned listen,
                         const struct tg_key_addr *to, uint32_t their_index, uint32_t our_index,
                         const uint8_t *hello, size_t hello_len)
{
    uint8_t *buf = tg_io_reserve_out(&s->io);
    if (buf == NULL)
        return TG_ERR_NOBUF;
    size_t n;
    int rc = tg_noise_write_message(hs, hello, hello_len, buf + TG_HS_RESP_HEADER_LEN,
                                    s->io.out.slot_bytes - TG_HS_RESP_HEADER_LEN, &n);
    if (rc != TG_OK)
        return rc;
    tg_wire_put_hs_resp_header(buf, their_index, our_index);
    struct tg_datagram d = {.uplink = listen, .to = *to};
    tg_io_push_out(&s->io, &d, TG_HS_RESP_HEADER_LEN + n);
    return TG_OK;
}

static int on_handshake(struct tg_server *s, unsigned listen, const struct tg_key_addr *from,
                        const struct tg_wire_msg *m, tg_time now)
{
    if (!rate_ok(s, from, now)) {
        tg_io_drop(&s->io, TG_DROP_RATE_LIMITED);
        return TG_ERR_STATE;
    }
    bool join = m->type == TG_MSG_HS_JOIN;
    struct tg_noise_hs hs;
    uint8_t hello[TG_HELLO_MAX], e[TG_NOISE_DH_LEN];
    size_t n;
    int rc = tg_noise_init(&hs, join ? TG_NOISE_NKPSK2 : TG_NOISE_NK, TG_NOISE_RESPONDER,
                           (const uint8_t *)TG_PROLOGUE, sizeof TG_PROLOGUE - 1,
                           s->cfg.static_private, NULL);
    if (rc == TG_OK)
        rc = tg_noise_read_message(&hs, m->body, m->body_len, hello, sizeof hello, &n);
    if (rc != TG_OK) {
        tg_io_drop(&s->io, rc == TG_ERR_DECRYPT ? TG_DROP_DECRYPT : TG_DROP_HANDSHAKE);
        goto out;
    }
    if (n != (join ? TG_HELLO_JOIN_LEN : TG_HELLO_INIT_LEN) || hello[0] != TG_PROTOCOL_VERSION ||
        hello[1] >= TG_MAX_UPLINKS) {
        tg_io_drop(&s->io, TG_DROP_HANDSHAKE);
        rc = TG_ERR_MALFORMED;
        goto out;
    }
    unsigned slot = hello[1];
    tg_rng_fill(&s->rng, e, sizeof e);
    tg_noise_set_ephemeral(&hs, e);
    struct tg_noise_cipher send, recv;
    uint8_t extra[TG_NOISE_KEY_LEN];
    if (!join) {
        struct session *ss = session_new(s, now);
        if (ss == NULL) {
            tg_io_drop(&s->io, TG_DROP_NO_SESSION);
            rc = TG_ERR_NOMEM;
            goto out;
        }
        uint8_t reply[TG_HELLO_RESP_NK_LEN] = {TG_PROTOCOL_VERSION, 0};
        memcpy(reply + 2, ss->token, TG_TOKEN_LEN);
        memcpy(reply + 2 + TG_TOKEN_LEN, ss->addr, 4);
        reply[2 + TG_TOKEN_LEN + 4] = s->cfg.pool_prefix;
        uint32_t sidx = (uint32_t)(ss - s->sessions);
        uint32_t idx = index_new(s, sidx, slot, 0);
        rc = send_response(s, &hs, listen, from, m->sender_index, idx, reply, sizeof reply);
        if (rc == TG_OK)
            rc = tg_noise_split(&hs, &send, &recv, extra);
        if (rc != TG_OK) {
            index_del(s, idx);
            session_end(s, ss, now);
            goto out;
        }
        memcpy(ss->join_key, extra, sizeof extra);
        tg_mp_path_keys(&ss->mp, slot, &send, &recv, idx, m->sender_index, now);
        ss->mp.paths[slot].peer = *from;
        ss->mp.paths[slot].listen = listen;
        struct tg_event ev = {.type = TG_EV_SESSION_UP, .session = ss->number, .uplink = slot,
                              .at = now};
        memcpy(ev.tunnel_addr, ss->addr, 4);
        ev.tunnel_prefix = s->cfg.pool_prefix;
        tg_io_event(&s->io, &ev);
    } else {
        struct session *ss = NULL;
        for (uint32_t i = 0; i < s->cfg.max_sessions && ss == NULL; i++)
            if (s->sessions[i].used &&
                sodium_memcmp(s->sessions[i].token, hello + 2, TG_TOKEN_LEN) == 0)
                ss = &s->sessions[i];
        if (ss == NULL || tg_noise_set_psk(&hs, ss->join_key) != TG_OK) {
            tg_io_drop(&s->io, TG_DROP_HANDSHAKE);
            rc = TG_ERR_STATE;
            goto out;
        }
        struct pending_join *pj = &ss->join[slot];
        if (pj->used)
            index_del(s, pj->t.local_index);
        pj->used = false;
        uint32_t sidx = (uint32_t)(ss - s->sessions);
        uint32_t idx = index_new(s, sidx, slot, 2);
        const uint8_t reply[TG_HELLO_RESP_JOIN_LEN] = {TG_PROTOCOL_VERSION, 0};
        rc = send_response(s, &hs, listen, from, m->sender_index, idx, reply, sizeof reply);
        if (rc == TG_OK)
            rc = tg_noise_split(&hs, &send, &recv, extra);
        if (rc != TG_OK) {
            index_del(s, idx);
            goto out;
        }
        tg_transport_init(&pj->t, &send, &recv, idx, m->sender_index);
        pj->used = true;
        pj->peer = *from;
        pj->listen = listen;
        pj->until = tg_time_add(now, s->cfg.pending_timeout_us);
    }
    s->io.counters.handshakes_done++;
    sodium_memzero(extra, sizeof extra);
out:
    tg_noise_clear(&hs);
    sodium_memzero(e, sizeof e);
    return rc;
}

/* A message under the keys of a pending join decrypted: the client holds the
 * join key, so the uplink becomes part of the session (or is rekeyed). */
static void promote(struct tg_server *s, struct session *ss, unsigned slot, tg_time now)
{
    struct pending_join *pj = &ss->join[slot];
    struct tg_path *p = &ss->mp.paths[slot];
    bool rekey = p->keyed;
    if (p->has_prev)
        index_del(s, p->prev.local_index);
    /* move the proven keys in through the same path as a fresh handshake */
    struct tg_noise_cipher send = {.has_key = true}, recv = {.has_key = true};
    memcpy(send.k, pj->t.send_key, sizeof send.k);
    memcpy(recv.k, pj->t.recv_key, sizeof recv.k);
    tg_mp_path_keys(&ss->mp, slot, &send, &recv, pj->t.local_index, pj->t.remote_index, now);
    struct index_entry *e = index_find(s, pj->t.local_index);
    if (e != NULL)
        e->kind = 0;
    if (rekey) {
        struct index_entry *old = index_find(s, p->prev.local_index);
        if (old != NULL)
            old->kind = 1;
    }
    p->peer = pj->peer;
    p->listen = pj->listen;
    tg_transport_clear(&pj->t);
    pj->used = false;
    struct tg_event ev = {.type = rekey ? TG_EV_UPLINK_REKEYED : TG_EV_UPLINK_UP,
                          .session = ss->number, .uplink = slot, .at = now};
    tg_io_event(&s->io, &ev);
}

int tg_server_udp_input(struct tg_server *s, unsigned listen, const struct tg_key_addr *from,
                        uint8_t *dgram, size_t len, tg_time now)
{
    s->io.counters.dgram_in++;
    struct tg_wire_msg m;
    if (tg_wire_parse(dgram, len, &m) != TG_OK) {
        tg_io_drop(&s->io, TG_DROP_MALFORMED);
        return TG_ERR_MALFORMED;
    }
    if (m.type == TG_MSG_HS_INIT || m.type == TG_MSG_HS_JOIN)
        return on_handshake(s, listen, from, &m, now);
    if (m.type != TG_MSG_DATA) {
        tg_io_drop(&s->io, TG_DROP_HANDSHAKE);
        return TG_ERR_UNKNOWN_TYPE;
    }
    struct index_entry *e = index_find(s, m.receiver_index);
    if (e == NULL) {
        tg_io_drop(&s->io, TG_DROP_UNKNOWN_INDEX);
        return TG_ERR_STATE;
    }
    struct session *ss = &s->sessions[e->session];
    unsigned slot = e->slot;
    struct tg_path *p = &ss->mp.paths[slot];
    if (e->kind == 2) {
        /* authenticate on a copy first: the pending keys must not be
         * promoted by anything that does not decrypt */
        struct pending_join *pj = &ss->join[slot];
        struct tg_transport trial = pj->t;
        static uint8_t copy[TG_MAX_DATAGRAM];
        memcpy(copy, dgram, len);
        struct tg_wire_msg cm;
        size_t plain;
        int rc = tg_wire_parse(copy, len, &cm);
        if (rc == TG_OK)
            rc = tg_transport_open(&trial, &cm, copy, &plain);
        tg_transport_clear(&trial);
        if (rc != TG_OK) {
            tg_io_drop(&s->io, rc == TG_ERR_DECRYPT ? TG_DROP_DECRYPT : TG_DROP_REPLAY);
            return rc;
        }
        promote(s, ss, slot, now);
    }
    struct tg_transport *t = e->kind == 1 ? &p->prev : &p->cur;
    int rc = tg_mp_receive(&ss->mp, slot, t, &m, dgram, now);
    if (rc != TG_OK)
        return rc;
    ss->confirmed = true;
    if (t == &p->cur && (memcmp(&p->peer, from, sizeof *from) != 0 || p->listen != listen)) {
        p->peer = *from; /* roaming: the client's address changed (NAT rebinding) */
        p->listen = listen;
    }
    return TG_OK;
}

int tg_server_tun_input(struct tg_server *s, const uint8_t *pkt, size_t len, tg_time now)
{
    s->io.counters.tun_in++;
    s->io.counters.tun_in_bytes += len;
    struct tg_ip_info ip;
    if (tg_ip_parse(pkt, len, &ip) != TG_OK || ip.version != 4) {
        tg_io_drop(&s->io, TG_DROP_BAD_PACKET);
        return TG_ERR_MALFORMED;
    }
    uint32_t d = be32(ip.dst), p = be32(s->cfg.pool_addr);
    struct session *ss = NULL;
    if ((d & ~s->host_mask) == (p & ~s->host_mask))
        ss = s->by_addr[d & s->host_mask];
    if (ss == NULL) {
        tg_io_drop(&s->io, TG_DROP_NO_SESSION);
        return TG_ERR_STATE;
    }
    return tg_mp_send(&ss->mp, pkt, len, now);
}

bool tg_server_next_datagram(struct tg_server *s, struct tg_datagram *out)
{
    return tg_queue_pop(&s->io.out, out);
}

bool tg_server_next_tun_packet(struct tg_server *s, const uint8_t **pkt, size_t *len)
{
    return tg_io_pop_tun(&s->io, pkt, len);
}

bool tg_server_next_event(struct tg_server *s, struct tg_event *out)
{
    return tg_io_pop_event(&s->io, out);
}

static tg_time session_deadline(const struct tg_server *s, const struct session *ss)
{
    tg_time t = tg_mp_next_deadline(&ss->mp);
    t = tg_time_min(t, tg_time_add(ss->mp.last_activity, s->cfg.session_idle_us));
    if (!ss->confirmed)
        t = tg_time_min(t, tg_time_add(ss->created, s->cfg.pending_timeout_us));
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
        if (ss->join[i].used)
            t = tg_time_min(t, ss->join[i].until);
    return t;
}

/* O(sessions): fine for the tens of sessions a server holds today; a heap of
 * session deadlines is the step up when that changes. */
tg_time tg_server_next_deadline(const struct tg_server *s)
{
    tg_time t = TG_TIME_NEVER;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++)
        if (s->sessions[i].used)
            t = tg_time_min(t, session_deadline(s, &s->sessions[i]));
    return t;
}

void tg_server_on_timeout(struct tg_server *s, tg_time now)
{
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++) {
        struct session *ss = &s->sessions[i];
        if (!ss->used)
            continue;
        if ((!ss->confirmed && now - ss->created >= s->cfg.pending_timeout_us) ||
            now - ss->mp.last_activity >= s->cfg.session_idle_us) {
            session_end(s, ss, now);
            continue;
        }
        for (unsigned k = 0; k < TG_MAX_UPLINKS; k++) {
            struct pending_join *pj = &ss->join[k];
            if (pj->used && now >= pj->until) {
                index_del(s, pj->t.local_index);
                tg_transport_clear(&pj->t);
                pj->used = false;
            }
            struct tg_path *p = &ss->mp.paths[k];
            if (p->keyed && now - p->keys_at >= s->cfg.mp.reject_after_us) {
                index_del(s, p->cur.local_index);
                if (p->has_prev)
                    index_del(s, p->prev.local_index);
                tg_mp_path_drop(&ss->mp, k, now);
            } else if (p->has_prev && now >= p->prev_until) {
                index_del(s, p->prev.local_index);
            }
        }
        tg_mp_on_timeout(&ss->mp, now);
    }
}

uint32_t tg_server_session_count(const struct tg_server *s)
{
    return s->n_sessions;
}

size_t tg_server_snapshot(const struct tg_server *s, const uint8_t addr[4],
                          struct tg_uplink_snapshot *out, size_t cap)
{
    size_t n = 0;
    for (uint32_t i = 0; i < s->cfg.max_sessions; i++) {
        const struct session *ss = &s->sessions[i];
        if (!ss->used || memcmp(ss->addr, addr, 4) != 0)
            continue;
        for (unsigned k = 0; k < TG_MAX_UPLINKS && n < cap; k++) {
            if (!ss->mp.paths[k].keyed)
                continue;
            tg_mp_snapshot(&ss->mp, k, ss->mp.last_activity, &out[n]);
            out[n++].present = true;
        }
    }
    return n;
}

const struct tg_endpoint_counters *tg_server_counters(const struct tg_server *s)
{
    return &s->io.counters;
}
