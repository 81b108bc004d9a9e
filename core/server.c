/* The server endpoint: many multipath sessions found in O(1) by receiver
 * index, token and tunnel address; handshakes that cost an attacker more than
 * the server (gate.h, cookie.h); timers as stored deadlines in one heap.
 *
 * The order of checks on a handshake message, cheapest first: mac1 (a hash:
 * the sender holds the tg1_ key), under load mac2 (the sender can receive at
 * its address, else it gets a cookie), the rate limit charged to that proven
 * source, the replay memory, and only then the Diffie-Hellman. An answered
 * handshake lives in a bounded ring of pending entries (a few hundred bytes
 * each, the oldest evicted first) and becomes a session, an address and
 * buffers only when the client's first transport message under its keys
 * decrypts. */
#include <sodium.h>
#include <string.h>

#include "gate.h"
#include "hello.h"
#include "ip.h"
#include "mpath.h"
#include "ra.h"
#include "table.h"

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum pend_kind { PEND_FREE = 0, PEND_INIT, PEND_JOIN, PEND_DONE };

/* An answered handshake whose keys the client has not yet proven. DONE
 * entries keep only e_hash, the replay memory. */
struct pending {
    uint8_t kind;            /* enum pend_kind */
    uint8_t slot;            /* the client's uplink slot */
    uint32_t local_index, remote_index;
    uint32_t session;        /* JOIN: the session's slot ... */
    uint64_t token;          /* ... and token (the slot may have been reused) */
    uint8_t send_key[TG_NOISE_KEY_LEN], recv_key[TG_NOISE_KEY_LEN];
    uint8_t join_key[TG_NOISE_KEY_LEN]; /* INIT: the future session's */
    uint64_t e_hash;         /* keyed hash of the initiator's ephemeral key */
    tg_time until;
    uint8_t resp_len;        /* our answer, sent again to a copy of the message */
    uint8_t resp[TG_HS_RESP_HEADER_LEN + TG_DH_LEN + TG_HELLO_RESP_LEN + TG_AEAD_TAG_LEN];
};

struct session {
    uint32_t slot;           /* in s->sessions */
    uint32_t heap_pos;
    tg_time deadline;        /* its key in the heap */
    uint32_t number;         /* pool offset: addr = pool base + number */
    bool closing;            /* the client sent CLOSE(session): end after this input */
    bool ra_due;             /* the client asked for its IPv6 prefix (ra.h): answer */
    uint64_t token;
    uint8_t join_key[TG_NOISE_KEY_LEN];
    uint8_t addr[4];
    struct tg_mp mp;
};

/* Index table values: what a receiver index names. */
enum { IDX_CUR = 0, IDX_PREV = 1, IDX_PENDING = 2 };
static uint64_t idx_val(uint32_t where, unsigned path, unsigned kind)
{
    return (uint64_t)where << 32 | kind << 8 | path;
}

struct tg_server {
    struct tg_server_config cfg;
    struct tg_rng rng;
    struct tg_allocator alloc;       /* zeroed: the C library */
    struct tg_io io;
    struct session **sessions;       /* cfg.max_sessions slots, NULL when free */
    uint32_t *free_slots, n_free;    /* stack of free slots */
    struct session **heap;           /* min-heap by deadline */
    uint32_t n_sessions;
    struct session **by_addr;        /* pool offset -> session */
    uint32_t host_mask;              /* host bits of the pool */
    uint32_t next_number;            /* where the search for a free address starts */
    struct tg_table index;           /* receiver index -> idx_val */
    struct tg_table by_token;        /* session token -> slot */
    struct tg_table by_e;            /* e_hash -> pending position (replay memory) */
    struct pending *pend;            /* ring of cfg.pending_slots */
    uint32_t pend_next, pend_old, pend_live, pend_count;
    struct tg_gate gate;             /* mac1, cookies, rate limits (gate.h) */
    uint8_t public_key[32];
    uint8_t scratch[TG_MAX_DATAGRAM]; /* trial decryption of a pending entry's first message */
};

void tg_server_config_default(struct tg_server_config *c)
{
    memset(c, 0, sizeof *c);
    tg_mp_config_default(&c->mp);
    c->mp.sched.flow_slots = 256; /* per session: a server holds thousands */
    c->pool_addr[0] = 10;
    c->pool_addr[1] = 85;
    c->pool_addr[2] = 0;
    c->pool_addr[3] = 0;
    c->pool_prefix = 16;
    c->max_sessions = 10000;
    c->session_idle_us = TG_SEC(300);
    c->pending_timeout_us = TG_SEC(10);
    c->pending_slots = 1024;
    c->hs_load_per_s = 100;
    c->hs_per_source_per_s = 10;
    c->hs_burst = 20;
}

/* ------------------------------------------------------------ timers */

static bool heap_less(const struct tg_server *s, uint32_t a, uint32_t b)
{
    return s->heap[a]->deadline < s->heap[b]->deadline;
}

static void heap_swap(struct tg_server *s, uint32_t a, uint32_t b)
{
    struct session *t = s->heap[a];
    s->heap[a] = s->heap[b];
    s->heap[b] = t;
    s->heap[a]->heap_pos = a;
    s->heap[b]->heap_pos = b;
}

static void heap_fix(struct tg_server *s, uint32_t i)
{
    while (i > 0 && heap_less(s, i, (i - 1) / 2)) {
        heap_swap(s, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < s->n_sessions && heap_less(s, l, m))
            m = l;
        if (r < s->n_sessions && heap_less(s, r, m))
            m = r;
        if (m == i)
            return;
        heap_swap(s, i, m);
        i = m;
    }
}

static void heap_remove(struct tg_server *s, struct session *ss)
{
    uint32_t i = ss->heap_pos, last = s->n_sessions - 1;
    if (i != last) {
        heap_swap(s, i, last);
        s->n_sessions--;
        heap_fix(s, i);
    } else {
        s->n_sessions--;
    }
}

static tg_time session_deadline(const struct tg_server *s, const struct session *ss)
{
    tg_time t = tg_mp_next_deadline(&ss->mp);
    t = tg_time_min(t, tg_time_add(ss->mp.last_activity, s->cfg.session_idle_us));
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        const struct tg_path *p = ss->mp.paths[i];
        if (p != NULL && p->keyed)
            t = tg_time_min(t, tg_time_add(p->keys_at, s->cfg.mp.reject_after_us));
    }
    return t;
}

/* The session's deadline may have moved: keep the heap in order. */
static void reschedule(struct tg_server *s, struct session *ss)
{
    tg_time t = session_deadline(s, ss);
    if (t != ss->deadline) {
        ss->deadline = t;
        heap_fix(s, ss->heap_pos);
    }
}

/* ------------------------------------------------------------ life cycle */

static void deliver(void *owner, struct tg_mp *mp, uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_server *s = owner;
    struct session *ss = s->sessions[mp->id];
    struct tg_ip_info ip;
    (void)now;
    if (tg_ip_parse(pkt, len, &ip) != TG_OK) {
        tg_io_drop(&s->io, TG_DROP_BAD_PACKET);
        return;
    }
    if (ip.version == 6 && tg_ra_is_solicit(pkt, len)) {
        /* answered once this input is done (not inside it); without a prefix, never */
        ss->ra_due = s->cfg.pool6_prefix != 0;
        return;
    }
    if (ip.version == 6 && s->cfg.pool6_prefix != 0) {
        uint8_t mine[16];
        tg_ra_addr(s->cfg.pool6_addr, s->cfg.pool6_prefix, ss->number, mine);
        if (memcmp(ip.src, mine, 16) == 0) {
            tg_io_tun_push(&s->io, pkt, len);
            return;
        }
    }
    if (ip.version != 4 || memcmp(ip.src, ss->addr, 4) != 0) {
        tg_io_drop(&s->io, TG_DROP_SPOOFED);
        return;
    }
    tg_io_tun_push(&s->io, pkt, len);
}

/* The session's client asked for its IPv6 prefix: a Router Advertisement
 * through the tunnel (ra.h). */
static void advertise(struct tg_server *s, struct session *ss, tg_time now)
{
    uint8_t ra[TG_RA_ADVERT_LEN];
    ss->ra_due = false;
    if (tg_ra_advertise(ra, sizeof ra, s->cfg.pool6_addr, s->cfg.pool6_prefix) == TG_OK)
        (void)tg_mp_send(&ss->mp, ra, sizeof ra, now); /* lost: the client asks again */
}

static void on_frame(void *owner, struct tg_mp *mp, unsigned slot, const struct tg_frame *f,
                     tg_time now)
{
    struct tg_server *s = owner;
    (void)slot;
    (void)now;
    if (f->type == TG_FRAME_CLOSE && f->u.close.reason == TG_CLOSE_SESSION)
        s->sessions[mp->id]->closing = true;
}

int tg_server_new(const struct tg_server_config *cfg, const struct tg_rng *rng,
                  const struct tg_allocator *a, tg_time now, struct tg_server **out)
{
    *out = NULL;
    if (cfg->pool_prefix < 8 || cfg->pool_prefix > 30 || cfg->max_sessions == 0 ||
        (cfg->pool6_prefix != 0 &&
         (cfg->pool6_prefix < TG_RA_PREFIX_MIN || cfg->pool6_prefix > TG_RA_PREFIX_MAX)) ||
        cfg->max_sessions > (1u << 20) || cfg->mp.max_packet < 68 ||
        cfg->mp.max_packet > 65535 - 200 || cfg->hs_per_source_per_s == 0 ||
        cfg->pending_slots == 0 || cfg->pending_slots > (1u << 20) || cfg->hs_load_per_s == 0)
        return TG_ERR_INVAL;
    struct tg_server *s = tg_alloc_zeroed(a, sizeof *s);
    if (s == NULL)
        return TG_ERR_NOMEM;
    s->cfg = *cfg;
    s->rng = *rng;
    if (a != NULL)
        s->alloc = *a;
    a = &s->alloc;
    s->host_mask = (1u << (32 - cfg->pool_prefix)) - 1; /* host part; .1 is the server */
    s->next_number = 2;
    uint32_t n = cfg->max_sessions;
    s->sessions = tg_alloc_zeroed(a, sizeof *s->sessions * n);
    s->heap = tg_alloc_zeroed(a, sizeof *s->heap * n);
    s->free_slots = tg_alloc_zeroed(a, sizeof *s->free_slots * n);
    s->by_addr = tg_alloc_zeroed(a, sizeof *s->by_addr * (s->host_mask + 1));
    s->pend = tg_alloc_zeroed(a, sizeof *s->pend * cfg->pending_slots);
    int rc = s->sessions && s->heap && s->free_slots && s->by_addr && s->pend ? TG_OK
                                                                            : TG_ERR_NOMEM;
    /* a session's indexes: current and previous keys of each uplink */
    if (rc == TG_OK)
        rc = tg_table_init(&s->index, n * 2 * TG_MAX_UPLINKS + cfg->pending_slots, a);
    if (rc == TG_OK)
        rc = tg_table_init(&s->by_token, n, a);
    if (rc == TG_OK)
        rc = tg_table_init(&s->by_e, cfg->pending_slots, a);
    if (rc == TG_OK)
        rc = tg_queue_init(&s->io.out, cfg->mp.queue_slots, cfg->mp.max_packet + 128, a);
    if (rc == TG_OK)
        rc = tg_queue_init(&s->io.tun, cfg->mp.queue_slots, cfg->mp.max_packet, a);
    if (rc != TG_OK) {
        tg_server_free(s);
        return rc;
    }
    for (uint32_t i = 0; i < n; i++)
        s->free_slots[i] = n - 1 - i;
    s->n_free = n;
    tg_noise_public_key(cfg->static_private, s->public_key);
    tg_gate_init(&s->gate, s->public_key, cfg->hs_load_per_s, cfg->hs_per_source_per_s,
                 cfg->hs_burst, rng, now);
    *out = s;
    return TG_OK;
}

static void path_indexes_del(struct tg_server *s, const struct tg_path *p)
{
    if (p == NULL)
        return;
    if (p->keyed)
        tg_table_del(&s->index, p->cur.local_index);
    if (p->has_prev)
        tg_table_del(&s->index, p->prev.local_index);
}

static void session_free(struct tg_server *s, struct session *ss)
{
    tg_mp_clear(&ss->mp, &s->alloc);
    sodium_memzero(ss, sizeof *ss);
    tg_alloc_free(&s->alloc, ss);
}

static void session_end(struct tg_server *s, struct session *ss, tg_time now)
{
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++)
        path_indexes_del(s, ss->mp.paths[i]);
    struct tg_event ev = {.type = TG_EV_SESSION_DOWN, .session = ss->number, .at = now};
    tg_io_event(&s->io, &ev);
    tg_table_del(&s->by_token, ss->token);
    s->by_addr[ss->number] = NULL;
    heap_remove(s, ss);
    s->sessions[ss->slot] = NULL;
    s->free_slots[s->n_free++] = ss->slot;
    session_free(s, ss);
}

void tg_server_free(struct tg_server *s)
{
    if (s == NULL)
        return;
    struct tg_allocator a = s->alloc;
    if (s->sessions != NULL)
        for (uint32_t i = 0; i < s->cfg.max_sessions; i++)
            if (s->sessions[i] != NULL)
                session_free(s, s->sessions[i]);
    tg_alloc_free(&a, s->sessions);
    tg_alloc_free(&a, s->heap);
    tg_alloc_free(&a, s->free_slots);
    tg_alloc_free(&a, s->by_addr);
    if (s->pend != NULL)
        sodium_memzero(s->pend, sizeof *s->pend * s->cfg.pending_slots);
    tg_alloc_free(&a, s->pend);
    tg_table_clear(&s->index, &a);
    tg_table_clear(&s->by_token, &a);
    tg_table_clear(&s->by_e, &a);
    tg_queue_clear(&s->io.out, &a);
    tg_queue_clear(&s->io.tun, &a);
    sodium_memzero(s, sizeof *s);
    tg_alloc_free(&a, s);
}

/* A session for a client that just proved its first handshake, with a
 * tunnel address; NULL when max_sessions or the pool is exhausted. */
static struct session *session_new(struct tg_server *s, const struct pending *pe, tg_time now)
{
    if (s->n_free == 0)
        return NULL;
    uint32_t hosts = s->host_mask - 1, number = 0; /* offsets 2 .. host_mask - 1 */
    for (uint32_t k = 0; k + 1 < hosts && number == 0; k++) {
        uint32_t off = 2 + (s->next_number - 2 + k) % (hosts - 1);
        if (s->by_addr[off] == NULL)
            number = off;
    }
    if (number == 0)
        return NULL;
    struct session *ss = tg_alloc_zeroed(&s->alloc, sizeof *ss);
    if (ss == NULL)
        return NULL;
    uint32_t slot = s->free_slots[s->n_free - 1];
    if (tg_mp_init(&ss->mp, &s->cfg.mp, &s->io, &s->rng, &s->alloc, true, now) != TG_OK) {
        tg_alloc_free(&s->alloc, ss);
        return NULL;
    }
    do
        tg_rng_fill(&s->rng, &ss->token, sizeof ss->token);
    while (ss->token == 0 || tg_table_find(&s->by_token, ss->token) != NULL);
    if (tg_table_put(&s->by_token, ss->token, slot) != TG_OK) {
        session_free(s, ss);
        return NULL;
    }
    s->n_free--;
    ss->slot = slot;
    ss->number = number;
    s->next_number = number + 1;
    ss->mp.id = slot;
    ss->mp.ev_session = number;
    ss->mp.deliver = deliver;
    ss->mp.on_frame = on_frame;
    ss->mp.owner = s;
    memcpy(ss->join_key, pe->join_key, sizeof ss->join_key);
    uint32_t host = (be32(s->cfg.pool_addr) & ~s->host_mask) + number;
    for (int k = 0; k < 4; k++)
        ss->addr[k] = (uint8_t)(host >> (24 - 8 * k));
    /* the client learns it all from the SESSION frame on our PONGs */
    ss->mp.announce_until = tg_time_add(now, s->cfg.pending_timeout_us);
    memcpy(ss->mp.announce_token, &ss->token, sizeof ss->token);
    memcpy(ss->mp.announce_addr, ss->addr, 4);
    ss->mp.announce_prefix = s->cfg.pool_prefix;
    s->by_addr[number] = ss;
    s->sessions[slot] = ss;
    ss->heap_pos = s->n_sessions;
    s->heap[s->n_sessions++] = ss;
    ss->deadline = TG_TIME_NEVER;
    return ss;
}

/* ------------------------------------------------------------ handshakes */

/* The entry stops waiting: its keys are wiped, its e_hash stays (replay
 * memory). `drop_index`: its receiver index names nothing any more (not
 * when the index now names the session's path). */
static void pending_retire(struct tg_server *s, struct pending *pe, bool drop_index)
{
    if (pe->kind == PEND_INIT || pe->kind == PEND_JOIN) {
        if (drop_index)
            tg_table_del(&s->index, pe->local_index);
        s->pend_count--;
    } else if (pe->kind == PEND_FREE) {
        return;
    }
    uint64_t e_hash = pe->e_hash;
    sodium_memzero(pe, sizeof *pe);
    pe->kind = PEND_DONE;
    pe->e_hash = e_hash; /* remembered until the ring comes round */
}

/* The next ring entry, evicting the oldest when the ring is full. */
static struct pending *pending_take(struct tg_server *s)
{
    uint32_t cap = s->cfg.pending_slots;
    struct pending *pe = &s->pend[s->pend_next];
    pending_retire(s, pe, true);
    if (pe->e_hash != 0)
        tg_table_del(&s->by_e, pe->e_hash);
    sodium_memzero(pe, sizeof *pe);
    if (s->pend_live == cap) {
        s->pend_old = (s->pend_old + 1) % cap;
        s->pend_live--;
    }
    return pe;
}

static void pending_commit(struct tg_server *s)
{
    s->pend_next = (s->pend_next + 1) % s->cfg.pending_slots;
    s->pend_live++;
    s->pend_count++;
}

/* A fresh receiver index no one uses, not yet entered. */
static uint32_t fresh_index(struct tg_server *s)
{
    for (;;) {
        uint32_t idx = tg_rng_u32(&s->rng);
        if (idx != 0 && tg_table_find(&s->index, idx) == NULL)
            return idx;
    }
}

static int send_response(struct tg_server *s, struct tg_noise_hs *hs, unsigned listen,
                         const struct tg_key_addr *to, uint32_t their_index, uint32_t our_index,
                         const uint8_t *hello, size_t hello_len, struct pending *pe)
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
    if (TG_HS_RESP_HEADER_LEN + n != sizeof pe->resp)
        return TG_ERR_STATE;
    memcpy(pe->resp, buf, sizeof pe->resp);
    pe->resp_len = sizeof pe->resp;
    struct tg_datagram d = {.uplink = listen, .to = *to};
    tg_io_push_out(&s->io, &d, TG_HS_RESP_HEADER_LEN + n);
    return TG_OK;
}

static int on_handshake(struct tg_server *s, unsigned listen, const struct tg_key_addr *from,
                        const uint8_t *dgram, size_t len, const struct tg_wire_msg *m,
                        tg_time now)
{
    switch (tg_gate_screen(&s->gate, from, dgram, len, s->pend_count >= s->cfg.pending_slots / 2,
                           now)) {
    case TG_GATE_PASS:
        break;
    case TG_GATE_MAC:
        tg_io_drop(&s->io, TG_DROP_MAC);
        return TG_ERR_DECRYPT;
    case TG_GATE_COOKIE: {
        tg_io_drop(&s->io, TG_DROP_COOKIE);
        uint8_t *buf = tg_io_reserve_out(&s->io);
        if (buf != NULL) {
            tg_gate_cookie(&s->gate, &s->rng, from, m, now, buf);
            struct tg_datagram d = {.uplink = listen, .to = *from};
            tg_io_push_out(&s->io, &d, TG_COOKIE_MSG_LEN);
            s->io.counters.cookies_sent++;
        }
        return TG_ERR_STATE;
    }
    default:
        tg_io_drop(&s->io, TG_DROP_RATE_LIMITED);
        return TG_ERR_STATE;
    }
    uint64_t e_hash = tg_gate_hash(&s->gate, m->body, TG_DH_LEN);
    const uint64_t *seen = tg_table_find(&s->by_e, e_hash);
    if (seen != NULL) {
        /* A copy creates, cancels and restarts nothing. While the handshake
         * waits, the copy gets the same answer (no Diffie-Hellman): if it
         * raced ahead of the real message, the real sender still gets its
         * answer, and the session follows whoever proves the keys. */
        const struct pending *pe = &s->pend[*seen];
        uint8_t *buf;
        if ((pe->kind == PEND_INIT || pe->kind == PEND_JOIN) && pe->resp_len > 0 &&
            (buf = tg_io_reserve_out(&s->io)) != NULL) {
            memcpy(buf, pe->resp, pe->resp_len);
            struct tg_datagram d = {.uplink = listen, .to = *from};
            tg_io_push_out(&s->io, &d, pe->resp_len);
        }
        tg_io_drop(&s->io, TG_DROP_REPLAY);
        return TG_ERR_REPLAY;
    }
    bool join = m->type == TG_MSG_HS_JOIN;
    struct tg_noise_hs hs;
    uint8_t hello[TG_HELLO_MAX], e[TG_NOISE_DH_LEN], extra[TG_NOISE_KEY_LEN];
    struct tg_noise_cipher send, recv;
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
    uint32_t session = 0;
    uint64_t token = 0;
    if (join) {
        memcpy(&token, hello + 2, sizeof token);
        const uint64_t *v = tg_table_find(&s->by_token, token);
        if (v == NULL || tg_noise_set_psk(&hs, s->sessions[*v]->join_key) != TG_OK) {
            tg_io_drop(&s->io, TG_DROP_HANDSHAKE);
            rc = TG_ERR_STATE;
            goto out;
        }
        session = (uint32_t)*v;
    }
    tg_rng_fill(&s->rng, e, sizeof e);
    tg_noise_set_ephemeral(&hs, e);
    struct pending *pe = pending_take(s);
    uint32_t idx = fresh_index(s);
    uint32_t pos = (uint32_t)(pe - s->pend);
    if (tg_table_put(&s->index, idx, idx_val(pos, hello[1], IDX_PENDING)) != TG_OK ||
        tg_table_put(&s->by_e, e_hash, pos) != TG_OK) {
        tg_table_del(&s->index, idx);
        tg_io_drop(&s->io, TG_DROP_QUEUE_FULL);
        rc = TG_ERR_NOBUF;
        goto out;
    }
    const uint8_t reply[TG_HELLO_RESP_LEN] = {TG_PROTOCOL_VERSION, 0};
    rc = send_response(s, &hs, listen, from, m->sender_index, idx, reply, sizeof reply, pe);
    if (rc == TG_OK)
        rc = tg_noise_split(&hs, &send, &recv, extra);
    if (rc != TG_OK) {
        tg_table_del(&s->index, idx);
        tg_table_del(&s->by_e, e_hash);
        sodium_memzero(pe, sizeof *pe);
        goto out;
    }
    uint8_t resp[sizeof pe->resp];
    memcpy(resp, pe->resp, sizeof resp);
    *pe = (struct pending){.kind = join ? PEND_JOIN : PEND_INIT, .slot = hello[1],
                           .local_index = idx, .remote_index = m->sender_index,
                           .session = session, .token = token, .e_hash = e_hash,
                           .until = tg_time_add(now, s->cfg.pending_timeout_us)};
    memcpy(pe->send_key, send.k, sizeof pe->send_key);
    memcpy(pe->recv_key, recv.k, sizeof pe->recv_key);
    memcpy(pe->resp, resp, sizeof resp);
    pe->resp_len = sizeof resp;
    if (!join)
        memcpy(pe->join_key, extra, sizeof extra);
    else /* the client may stripe onto this uplink as soon as it has our answer; it
          * named the session's token, which only its client was ever told */
        tg_mp_expect(&s->sessions[session]->mp, hello[1], now);
    pending_commit(s);
    s->io.counters.handshakes_done++;
out:
    tg_noise_clear(&hs);
    sodium_memzero(e, sizeof e);
    sodium_memzero(extra, sizeof extra);
    sodium_memzero(&send, sizeof send);
    sodium_memzero(&recv, sizeof recv);
    return rc;
}

/* Install keys on a session's path and point the index at them. */
static int bind_path(struct tg_server *s, struct session *ss, const struct pending *pe,
                     unsigned listen, const struct tg_key_addr *from, tg_time now)
{
    unsigned slot = pe->slot;
    struct tg_path *p = ss->mp.paths[slot];
    bool rekey = p != NULL && p->keyed;
    uint32_t old_prev = p != NULL && p->has_prev ? p->prev.local_index : 0;
    struct tg_noise_cipher send = {.has_key = true}, recv = {.has_key = true};
    memcpy(send.k, pe->send_key, sizeof send.k);
    memcpy(recv.k, pe->recv_key, sizeof recv.k);
    int rc = tg_mp_path_keys(&ss->mp, slot, &send, &recv, pe->local_index, pe->remote_index, now);
    sodium_memzero(&send, sizeof send);
    sodium_memzero(&recv, sizeof recv);
    if (rc != TG_OK)
        return rc;
    if (old_prev != 0)
        tg_table_del(&s->index, old_prev);
    p = ss->mp.paths[slot];
    rc = tg_table_put(&s->index, pe->local_index, idx_val(ss->slot, slot, IDX_CUR));
    if (rc == TG_OK && rekey)
        rc = tg_table_put(&s->index, p->prev.local_index, idx_val(ss->slot, slot, IDX_PREV));
    p->peer = *from; /* whoever proved the keys, not who sent the handshake */
    p->listen = listen;
    struct tg_event ev = {.type = rekey ? TG_EV_UPLINK_REKEYED : TG_EV_UPLINK_UP,
                          .session = ss->number, .uplink = slot, .at = now};
    tg_io_event(&s->io, &ev);
    return rc;
}

/* A datagram for a pending entry: authenticate it on a copy (nothing may be
 * promoted by what does not decrypt), then make the session or join real.
 * Returns the session, or NULL (dropped, counted). */
static struct session *promote(struct tg_server *s, struct pending *pe, unsigned listen,
                               const struct tg_key_addr *from, const uint8_t *dgram, size_t len,
                               tg_time now)
{
    struct tg_transport trial;
    struct tg_noise_cipher send = {.has_key = true}, recv = {.has_key = true};
    memcpy(send.k, pe->send_key, sizeof send.k);
    memcpy(recv.k, pe->recv_key, sizeof recv.k);
    tg_transport_init(&trial, &send, &recv, pe->local_index, pe->remote_index);
    memcpy(s->scratch, dgram, len);
    struct tg_wire_msg cm;
    size_t plain;
    int rc = tg_wire_parse(s->scratch, len, &cm);
    if (rc == TG_OK)
        rc = tg_transport_open(&trial, &cm, s->scratch, &plain);
    tg_transport_clear(&trial);
    if (rc != TG_OK) {
        tg_io_drop(&s->io, rc == TG_ERR_DECRYPT ? TG_DROP_DECRYPT : TG_DROP_REPLAY);
        return NULL;
    }
    struct session *ss = NULL;
    if (pe->kind == PEND_INIT) {
        ss = session_new(s, pe, now);
        if (ss != NULL) {
            struct tg_event ev = {.type = TG_EV_SESSION_UP, .session = ss->number,
                                  .uplink = pe->slot, .at = now,
                                  .tunnel_prefix = s->cfg.pool_prefix};
            memcpy(ev.tunnel_addr, ss->addr, 4);
            tg_io_event(&s->io, &ev);
        }
    } else {
        ss = s->sessions[pe->session];
        if (ss != NULL && ss->token != pe->token)
            ss = NULL; /* that session ended; the slot serves another */
    }
    if (ss == NULL || bind_path(s, ss, pe, listen, from, now) != TG_OK) {
        tg_io_drop(&s->io, TG_DROP_NO_SESSION);
        bool init = pe->kind == PEND_INIT;
        pending_retire(s, pe, true);
        if (ss != NULL && init)
            session_end(s, ss, now);
        return NULL;
    }
    pending_retire(s, pe, false); /* its index now names the session's path */
    return ss;
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
        return on_handshake(s, listen, from, dgram, len, &m, now);
    if (m.type != TG_MSG_DATA) {
        tg_io_drop(&s->io, TG_DROP_HANDSHAKE);
        return TG_ERR_UNKNOWN_TYPE;
    }
    const uint64_t *v = tg_table_find(&s->index, m.receiver_index);
    if (v == NULL) {
        tg_io_drop(&s->io, TG_DROP_UNKNOWN_INDEX);
        return TG_ERR_STATE;
    }
    uint64_t val = *v;
    unsigned slot = val & 0xff, kind = (val >> 8) & 0xff;
    struct session *ss;
    if (kind == IDX_PENDING) {
        ss = promote(s, &s->pend[val >> 32], listen, from, dgram, len, now);
        if (ss == NULL)
            return TG_ERR_STATE;
        kind = IDX_CUR;
    } else {
        ss = s->sessions[val >> 32];
    }
    struct tg_path *p = ss->mp.paths[slot];
    struct tg_transport *t = kind == IDX_PREV ? &p->prev : &p->cur;
    int rc = tg_mp_receive(&ss->mp, slot, t, &m, dgram, now);
    if (rc == TG_OK && t == &p->cur &&
        (memcmp(&p->peer, from, sizeof *from) != 0 || p->listen != listen)) {
        p->peer = *from; /* roaming: the client's address changed (NAT rebinding) */
        p->listen = listen;
    }
    if (ss->ra_due && !ss->closing)
        advertise(s, ss, now);
    if (ss->closing)
        session_end(s, ss, now);
    else
        reschedule(s, ss);
    return rc;
}

int tg_server_tun_input(struct tg_server *s, const uint8_t *pkt, size_t len, tg_time now)
{
    s->io.counters.tun_in++;
    s->io.counters.tun_in_bytes += len;
    struct tg_ip_info ip;
    if (tg_ip_parse(pkt, len, &ip) != TG_OK || (ip.version != 4 && s->cfg.pool6_prefix == 0)) {
        tg_io_drop(&s->io, TG_DROP_BAD_PACKET);
        return TG_ERR_MALFORMED;
    }
    uint32_t d = be32(ip.dst), p = be32(s->cfg.pool_addr);
    struct session *ss = NULL;
    if (ip.version == 6) { /* host number in the IPv6 prefix = offset in the IPv4 pool */
        if (tg_ra_host(s->cfg.pool6_addr, s->cfg.pool6_prefix, ip.dst, &d) && d <= s->host_mask)
            ss = s->by_addr[d];
    } else if ((d & ~s->host_mask) == (p & ~s->host_mask)) {
        ss = s->by_addr[d & s->host_mask];
    }
    if (ss == NULL) {
        tg_io_drop(&s->io, TG_DROP_NO_SESSION);
        return TG_ERR_STATE;
    }
    int rc = tg_mp_send(&ss->mp, pkt, len, now);
    reschedule(s, ss);
    return rc;
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

/* O(1): the heap's top and the oldest pending entry. The latter may be one
 * already proven; the timeout then only moves past it. */
tg_time tg_server_next_deadline(const struct tg_server *s)
{
    tg_time t = s->n_sessions > 0 ? s->heap[0]->deadline : TG_TIME_NEVER;
    if (s->pend_live > 0)
        t = tg_time_min(t, s->pend[s->pend_old].until);
    return t;
}

static void session_timeout(struct tg_server *s, struct session *ss, tg_time now)
{
    if (now - ss->mp.last_activity >= s->cfg.session_idle_us) {
        session_end(s, ss, now);
        return;
    }
    for (unsigned k = 0; k < TG_MAX_UPLINKS; k++) {
        struct tg_path *p = ss->mp.paths[k];
        if (p == NULL)
            continue;
        if (p->keyed && now - p->keys_at >= s->cfg.mp.reject_after_us) {
            path_indexes_del(s, p);
            tg_mp_path_drop(&ss->mp, k, now);
        } else if (p->has_prev && now >= p->prev_until) {
            tg_table_del(&s->index, p->prev.local_index);
        }
    }
    tg_mp_on_timeout(&ss->mp, now);
    reschedule(s, ss);
}

void tg_server_on_timeout(struct tg_server *s, tg_time now)
{
    while (s->pend_live > 0) {
        struct pending *pe = &s->pend[s->pend_old];
        bool waiting = pe->kind == PEND_INIT || pe->kind == PEND_JOIN;
        if (waiting && now < pe->until)
            break;
        if (waiting)
            pending_retire(s, pe, true);
        s->pend_old = (s->pend_old + 1) % s->cfg.pending_slots;
        s->pend_live--;
    }
    /* each expired session once per call, even if its new deadline is also due */
    uint32_t budget = s->n_sessions;
    while (s->n_sessions > 0 && s->heap[0]->deadline <= now && budget-- > 0)
        session_timeout(s, s->heap[0], now);
}

uint32_t tg_server_session_count(const struct tg_server *s)
{
    return s->n_sessions;
}

uint32_t tg_server_sessions(const struct tg_server *s, tg_server_session_fn fn, void *ctx)
{
    /* the heap holds exactly the live sessions: O(sessions), not O(max_sessions) */
    for (uint32_t i = 0; i < s->n_sessions; i++)
        fn(ctx, s->heap[i]->addr);
    return s->n_sessions;
}

size_t tg_server_snapshot(const struct tg_server *s, const uint8_t addr[4],
                          struct tg_uplink_snapshot *out, size_t cap)
{
    uint32_t a = be32(addr), p = be32(s->cfg.pool_addr);
    if ((a & ~s->host_mask) != (p & ~s->host_mask))
        return 0;
    const struct session *ss = s->by_addr[a & s->host_mask];
    size_t n = 0;
    for (unsigned k = 0; ss != NULL && k < TG_MAX_UPLINKS && n < cap; k++) {
        if (!tg_mp_keyed(&ss->mp, k))
            continue;
        tg_mp_snapshot(&ss->mp, k, ss->mp.last_activity, &out[n]);
        out[n++].present = true;
    }
    return n;
}

const struct tg_endpoint_counters *tg_server_counters(const struct tg_server *s)
{
    return &s->io.counters;
}
