/* The client endpoint: handshakes on each uplink, one multipath session. */
#include <sodium.h>
#include <string.h>

#include "cookie.h"
#include "hello.h"
#include "ip.h"
#include "mpath.h"
#include "nat.h"
#include "ra.h"

struct uplink_hs {
    bool up;              /* the host says the uplink exists */
    bool busy;            /* a handshake is in flight */
    bool join;            /* ... NKpsk2 (else NK) */
    struct tg_noise_hs hs;
    uint32_t index;       /* our receiver index for its answer */
    tg_time retry_at;
    unsigned attempts;
    uint8_t mac1[TG_MAC_LEN];       /* of the handshake message in flight */
    bool cookie_taken;               /* a cookie answered that message already */
    bool has_cookie;
    uint8_t cookie[TG_COOKIE_LEN];   /* the server's, for this uplink's address */
    tg_time cookie_at;
};

/* A cookie is good for this long after it arrived (the server rotates its
 * secret every 120 s). */
#define COOKIE_TTL_US TG_SEC(110)

struct tg_client {
    struct tg_client_config cfg;
    struct tg_rng rng;
    const struct tg_allocator *alloc;
    struct tg_io io;
    struct tg_mp mp;
    struct tg_nat *nat;
    struct tg_mac_keys mac;
    bool session_up;
    bool nk_keyed;        /* NK answered: keys on nk_uplink, waiting for the SESSION frame */
    uint8_t token[TG_TOKEN_LEN];
    uint8_t join_key[TG_NOISE_KEY_LEN];
    uint8_t tunnel_addr[4];
    uint8_t tunnel_prefix;
    bool has6;            /* the server's Router Advertisement came (ra.h) */
    uint8_t tunnel_addr6[16], tunnel_prefix6;
    tg_time solicit_at;   /* next Router Solicitation (TG_TIME_NEVER: none) */
    unsigned solicits;    /* sent so far */
    int nk_uplink;        /* uplink running the first handshake, -1 none */
    struct uplink_hs up[TG_MAX_UPLINKS];
    uint8_t scratch[TG_MAX_DATAGRAM];
};

void tg_client_config_default(struct tg_client_config *c)
{
    memset(c, 0, sizeof *c);
    tg_mp_config_default(&c->mp);
    c->handshake_retry_us = TG_SEC(1);
    c->nat = true;
}

/* The server's Router Advertisement: our IPv6 address is its prefix with
 * our IPv4 host number (ra.h). Consumed here, never given to the TUN. */
static bool advertised(struct tg_client *c, const uint8_t *pkt, size_t len)
{
    uint8_t prefix[16], plen;
    if (!c->cfg.ipv6 || len < TG_RA_ADVERT_LEN || pkt[0] >> 4 != 6 ||
        tg_ra_parse(pkt, len, prefix, &plen) != TG_OK)
        return false;
    uint32_t a = (uint32_t)c->tunnel_addr[0] << 24 | (uint32_t)c->tunnel_addr[1] << 16 |
                 (uint32_t)c->tunnel_addr[2] << 8 | c->tunnel_addr[3];
    uint32_t host = c->tunnel_prefix >= 32 ? 0 : a & (0xffffffffu >> c->tunnel_prefix);
    tg_ra_addr(prefix, plen, host, c->tunnel_addr6);
    c->tunnel_prefix6 = plen;
    c->has6 = true;
    c->solicit_at = TG_TIME_NEVER;
    return true;
}

enum { TG_CLIENT_SOLICITS = 5 }; /* Router Solicitations sent at most, 1 s apart */

static void deliver(void *owner, struct tg_mp *mp, uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_client *c = owner;
    (void)mp;
    if (advertised(c, pkt, len))
        return;
    if (c->nat != NULL && tg_nat_inbound(c->nat, pkt, len, now) != TG_OK) {
        tg_io_drop(&c->io, TG_DROP_NAT);
        return;
    }
    tg_io_tun_push(&c->io, pkt, len);
}

static void kick(struct tg_client *c, tg_time now);

/* The server proved our first handshake and created the session. */
static void session_frame(struct tg_client *c, unsigned u, const struct tg_frame *f, tg_time now)
{
    if (c->session_up || !c->nk_keyed || (int)u != c->nk_uplink)
        return;
    memcpy(c->token, f->u.session.token, TG_TOKEN_LEN);
    memcpy(c->tunnel_addr, f->u.session.addr, 4);
    c->tunnel_prefix = f->u.session.prefix;
    c->session_up = true;
    c->nk_keyed = false;
    if (c->cfg.nat) {
        struct tg_nat_config nc;
        tg_nat_config_default(&nc);
        memcpy(nc.tun_addr4, c->tunnel_addr, 4);
        nc.has_v4 = true;
        if (tg_nat_new(&nc, c->alloc, &c->nat) != TG_OK)
            c->nat = NULL; /* without NAT, foreign sources are simply not rewritten */
    }
    c->solicit_at = c->cfg.ipv6 ? now : TG_TIME_NEVER; /* sent at the next timeout */
    struct tg_event ev = {.type = TG_EV_SESSION_UP, .uplink = u, .at = now,
                          .tunnel_prefix = c->tunnel_prefix};
    memcpy(ev.tunnel_addr, c->tunnel_addr, 4);
    tg_io_event(&c->io, &ev);
    kick(c, now);
}

static void on_frame(void *owner, struct tg_mp *mp, unsigned u, const struct tg_frame *f,
                     tg_time now)
{
    (void)mp;
    if (f->type == TG_FRAME_SESSION)
        session_frame(owner, u, f, now);
    /* CLOSE from the server: its uplink goes away; probes will tell */
}

int tg_client_new(const struct tg_client_config *cfg, const struct tg_rng *rng,
                  const struct tg_allocator *a, tg_time now, struct tg_client **out)
{
    *out = NULL;
    if (cfg->mp.max_packet < 68 || cfg->mp.max_packet > 65535 - 200 || cfg->mp.queue_slots == 0)
        return TG_ERR_INVAL;
    struct tg_client *c = tg_alloc_zeroed(a, sizeof *c);
    if (c == NULL)
        return TG_ERR_NOMEM;
    c->cfg = *cfg;
    c->rng = *rng;
    c->alloc = a;
    c->nk_uplink = -1;
    c->solicit_at = TG_TIME_NEVER;
    tg_mac_keys_init(&c->mac, cfg->server_public);
    uint32_t slot = cfg->mp.max_packet + 128;
    int rc = tg_queue_init(&c->io.out, cfg->mp.queue_slots, slot, a);
    if (rc == TG_OK)
        rc = tg_queue_init(&c->io.tun, cfg->mp.queue_slots, cfg->mp.max_packet, a);
    if (rc == TG_OK)
        rc = tg_mp_init(&c->mp, &c->cfg.mp, &c->io, rng, a, false, now);
    if (rc != TG_OK) {
        tg_client_free(c);
        return rc;
    }
    c->mp.deliver = deliver;
    c->mp.on_frame = on_frame;
    c->mp.owner = c;
    *out = c;
    return TG_OK;
}

void tg_client_free(struct tg_client *c)
{
    if (c == NULL)
        return;
    const struct tg_allocator *a = c->alloc;
    tg_mp_clear(&c->mp, a);
    tg_nat_free(c->nat);
    tg_queue_clear(&c->io.out, a);
    tg_queue_clear(&c->io.tun, a);
    sodium_memzero(c, sizeof *c);
    tg_alloc_free(a, c);
}

/* A receiver index no uplink of ours uses yet (0 is never used). */
static uint32_t fresh_index(struct tg_client *c)
{
    for (;;) {
        uint32_t idx = tg_rng_u32(&c->rng);
        bool taken = idx == 0;
        for (unsigned i = 0; i < TG_MAX_UPLINKS && !taken; i++) {
            const struct tg_path *p = tg_mp_path(&c->mp, i);
            taken = (c->up[i].busy && c->up[i].index == idx) ||
                    (p != NULL && p->keyed && p->cur.local_index == idx) ||
                    (p != NULL && p->has_prev && p->prev.local_index == idx);
        }
        if (!taken)
            return idx;
    }
}

/* `paced`: a retry that counts towards the back-off; a restart because a
 * cookie arrived is not one. */
static void start_handshake(struct tg_client *c, unsigned u, bool paced, tg_time now)
{
    struct uplink_hs *h = &c->up[u];
    bool join = c->session_up;
    tg_noise_clear(&h->hs);
    if (tg_noise_init(&h->hs, join ? TG_NOISE_NKPSK2 : TG_NOISE_NK, TG_NOISE_INITIATOR,
                      (const uint8_t *)TG_PROLOGUE, sizeof TG_PROLOGUE - 1, NULL,
                      c->cfg.server_public) != TG_OK)
        return;
    uint8_t e[TG_NOISE_DH_LEN];
    tg_rng_fill(&c->rng, e, sizeof e);
    tg_noise_set_ephemeral(&h->hs, e);
    sodium_memzero(e, sizeof e);
    uint8_t hello[TG_HELLO_MAX] = {TG_PROTOCOL_VERSION, (uint8_t)u};
    size_t hello_len = TG_HELLO_INIT_LEN;
    if (join) {
        memcpy(hello + 2, c->token, TG_TOKEN_LEN);
        hello_len = TG_HELLO_JOIN_LEN;
        if (tg_noise_set_psk(&h->hs, c->join_key) != TG_OK)
            return;
    }
    uint8_t *buf = tg_io_reserve_out(&c->io);
    if (buf == NULL)
        return;
    size_t n;
    if (tg_noise_write_message(&h->hs, hello, hello_len, buf + TG_HS_INIT_HEADER_LEN,
                               c->io.out.slot_bytes - TG_HS_INIT_HEADER_LEN - TG_MACS_LEN,
                               &n) != TG_OK)
        return;
    h->index = fresh_index(c);
    tg_wire_put_hs_init_header(buf, join ? TG_MSG_HS_JOIN : TG_MSG_HS_INIT, h->index);
    size_t len = TG_HS_INIT_HEADER_LEN + n + TG_MACS_LEN;
    tg_mac1_put(&c->mac, buf, len);
    bool cookie = h->has_cookie && now - h->cookie_at < COOKIE_TTL_US;
    tg_mac2_put(cookie ? h->cookie : NULL, buf, len);
    memcpy(h->mac1, buf + len - TG_MACS_LEN, TG_MAC_LEN);
    h->cookie_taken = false;
    struct tg_datagram d = {.uplink = u};
    tg_io_push_out(&c->io, &d, len);
    c->io.counters.handshakes_sent++;
    h->busy = true;
    h->join = join;
    unsigned backoff = h->attempts < 2 ? h->attempts : 2;
    h->retry_at = tg_time_add(now, c->cfg.handshake_retry_us << backoff);
    if (paced)
        h->attempts++;
    if (!join)
        c->nk_uplink = (int)u;
}

/* Start what handshakes are due: joins on unkeyed uplinks once the session
 * is up; before that, one NK at a time, rotating uplinks on failure. */
static void kick(struct tg_client *c, tg_time now)
{
    if (!c->session_up) {
        if (c->nk_uplink >= 0 && c->up[c->nk_uplink].up &&
            (c->up[c->nk_uplink].busy || c->nk_keyed))
            return;
        c->nk_keyed = false;
        for (unsigned k = 1; k <= TG_MAX_UPLINKS; k++) {
            unsigned u = (unsigned)(c->nk_uplink + (int)k) % TG_MAX_UPLINKS;
            if (c->up[u].up) {
                start_handshake(c, u, true, now);
                return;
            }
        }
        return;
    }
    for (unsigned u = 0; u < TG_MAX_UPLINKS; u++)
        if (c->up[u].up && !c->up[u].busy && !tg_mp_keyed(&c->mp, u))
            start_handshake(c, u, true, now);
}

int tg_client_uplink_up(struct tg_client *c, unsigned u, tg_time now)
{
    if (u >= TG_MAX_UPLINKS)
        return TG_ERR_INVAL;
    bool was = c->up[u].up;
    c->up[u].up = true;
    if (was && tg_mp_keyed(&c->mp, u))
        tg_mp_ping(&c->mp, u, now); /* new address: let the server see it now */
    kick(c, now);
    return TG_OK;
}

void tg_client_uplink_down(struct tg_client *c, unsigned u, tg_time now)
{
    if (u >= TG_MAX_UPLINKS || !c->up[u].up)
        return;
    struct uplink_hs *h = &c->up[u];
    tg_noise_clear(&h->hs);
    sodium_memzero(h, sizeof *h);
    tg_mp_path_drop(&c->mp, u, now);
    if (c->nk_uplink == (int)u && !c->session_up) {
        c->nk_keyed = false;
        kick(c, now);
    }
}

void tg_client_close(struct tg_client *c, tg_time now)
{
    tg_mp_close(&c->mp, TG_CLOSE_SESSION, now);
}

int tg_client_tun_input(struct tg_client *c, const uint8_t *pkt, size_t len, tg_time now)
{
    c->io.counters.tun_in++;
    c->io.counters.tun_in_bytes += len;
    if (!c->session_up) {
        tg_io_drop(&c->io, TG_DROP_NO_UPLINK);
        return TG_ERR_STATE;
    }
    if (c->nat != NULL) {
        if (len > sizeof c->scratch) {
            tg_io_drop(&c->io, TG_DROP_TOO_BIG);
            return TG_ERR_NOBUF;
        }
        memcpy(c->scratch, pkt, len);
        int rc = tg_nat_outbound(c->nat, c->scratch, len, now);
        if (rc != TG_OK) {
            tg_io_drop(&c->io, rc == TG_ERR_NOBUF ? TG_DROP_NAT : TG_DROP_BAD_PACKET);
            return rc;
        }
        pkt = c->scratch;
    }
    return tg_mp_send(&c->mp, pkt, len, now);
}

static int on_response(struct tg_client *c, unsigned u, const struct tg_wire_msg *m, tg_time now)
{
    struct uplink_hs *h = &c->up[u];
    if (!h->busy || m->receiver_index != h->index) {
        tg_io_drop(&c->io, TG_DROP_HANDSHAKE);
        return TG_ERR_STATE;
    }
    /* read on a copy: a forged or corrupted answer changes nothing, and the
     * real one may still come */
    struct tg_noise_hs hs = h->hs;
    uint8_t hello[TG_HELLO_MAX];
    size_t n;
    int rc = tg_noise_read_message(&hs, m->body, m->body_len, hello, sizeof hello, &n);
    if (rc == TG_OK &&
        (n != TG_HELLO_RESP_LEN || hello[0] != TG_PROTOCOL_VERSION || hello[1] != 0))
        rc = TG_ERR_MALFORMED;
    struct tg_noise_cipher send, recv;
    uint8_t extra[TG_NOISE_KEY_LEN];
    if (rc == TG_OK)
        rc = tg_noise_split(&hs, &send, &recv, extra);
    tg_noise_clear(&hs);
    if (rc != TG_OK) {
        tg_io_drop(&c->io, rc == TG_ERR_DECRYPT ? TG_DROP_DECRYPT : TG_DROP_HANDSHAKE);
        return rc;
    }
    bool rekey = tg_mp_keyed(&c->mp, u);
    rc = tg_mp_path_keys(&c->mp, u, &send, &recv, h->index, m->sender_index, now);
    sodium_memzero(&send, sizeof send);
    sodium_memzero(&recv, sizeof recv);
    if (rc != TG_OK) {
        sodium_memzero(extra, sizeof extra);
        return rc;
    }
    if (!h->join) {
        /* the session exists once the server has seen our first transport
         * message: it says so in a SESSION frame */
        memcpy(c->join_key, extra, sizeof extra);
        c->nk_keyed = true;
    }
    sodium_memzero(extra, sizeof extra);
    tg_noise_clear(&h->hs);
    h->busy = false;
    h->attempts = 0;
    c->io.counters.handshakes_done++;
    /* the first transport message proves the keys to the server */
    tg_mp_ping(&c->mp, u, now);
    struct tg_event ev = {.type = rekey ? TG_EV_UPLINK_REKEYED : TG_EV_UPLINK_UP, .uplink = u,
                          .at = now};
    tg_io_event(&c->io, &ev);
    kick(c, now);
    return TG_OK;
}

/* The server is under load and wants our address proven: take the cookie
 * and send the handshake again at once with mac2. One cookie per message,
 * so a forged stream of them cannot make us loop. */
static int on_cookie(struct tg_client *c, unsigned u, const struct tg_wire_msg *m, tg_time now)
{
    struct uplink_hs *h = &c->up[u];
    if (!h->busy || h->cookie_taken || m->receiver_index != h->index) {
        tg_io_drop(&c->io, TG_DROP_HANDSHAKE);
        return TG_ERR_STATE;
    }
    uint8_t cookie[TG_COOKIE_LEN]; /* a failed open wipes its output: not ours */
    if (tg_cookie_open(&c->mac, m->body, m->body_len, h->mac1, cookie) != TG_OK) {
        tg_io_drop(&c->io, TG_DROP_DECRYPT);
        return TG_ERR_DECRYPT;
    }
    memcpy(h->cookie, cookie, sizeof cookie);
    h->has_cookie = true;
    h->cookie_at = now;
    c->io.counters.cookies_sent++;
    start_handshake(c, u, false, now);
    h->cookie_taken = true;
    return TG_OK;
}

int tg_client_udp_input(struct tg_client *c, unsigned u, uint8_t *dgram, size_t len, tg_time now)
{
    c->io.counters.dgram_in++;
    struct tg_wire_msg m;
    if (u >= TG_MAX_UPLINKS || tg_wire_parse(dgram, len, &m) != TG_OK) {
        tg_io_drop(&c->io, TG_DROP_MALFORMED);
        return TG_ERR_MALFORMED;
    }
    if (m.type == TG_MSG_HS_RESP)
        return on_response(c, u, &m, now);
    if (m.type == TG_MSG_HS_COOKIE)
        return on_cookie(c, u, &m, now);
    if (m.type != TG_MSG_DATA) {
        tg_io_drop(&c->io, TG_DROP_HANDSHAKE);
        return TG_ERR_UNKNOWN_TYPE;
    }
    for (unsigned i = 0; i < TG_MAX_UPLINKS; i++) {
        struct tg_path *p = tg_mp_path(&c->mp, i);
        if (p == NULL)
            continue;
        if (p->keyed && p->cur.local_index == m.receiver_index)
            return tg_mp_receive(&c->mp, i, &p->cur, &m, dgram, now);
        if (p->has_prev && p->prev.local_index == m.receiver_index)
            return tg_mp_receive(&c->mp, i, &p->prev, &m, dgram, now);
    }
    tg_io_drop(&c->io, TG_DROP_UNKNOWN_INDEX);
    return TG_ERR_STATE;
}

bool tg_client_next_datagram(struct tg_client *c, struct tg_datagram *out)
{
    return tg_queue_pop(&c->io.out, out);
}

bool tg_client_next_tun_packet(struct tg_client *c, const uint8_t **pkt, size_t *len)
{
    if (c->io.tun.count == 0) /* packets the reorder buffer held for want of room */
        tg_mp_release(&c->mp);
    return tg_io_pop_tun(&c->io, pkt, len);
}

bool tg_client_next_event(struct tg_client *c, struct tg_event *out)
{
    return tg_io_pop_event(&c->io, out);
}

/* Keys the server has not confirmed (no message under them decrypted here)
 * this long after we installed them were never taken up: the server lost
 * or evicted the handshake. Start again. */
static tg_time confirm_deadline(const struct tg_client *c, const struct tg_path *p)
{
    return tg_time_add(p->keys_at, c->cfg.handshake_retry_us * 2);
}

/* Ask for the tunnel's IPv6 prefix (ra.h), a few times a second apart: a
 * server without IPv6 never answers and is asked no more after that. */
static void solicit(struct tg_client *c, tg_time now)
{
    uint8_t rs[TG_RA_SOLICIT_LEN];
    if (tg_ra_solicit(rs, sizeof rs) == TG_OK)
        (void)tg_mp_send(&c->mp, rs, sizeof rs, now); /* lost: asked again */
    c->solicits++;
    c->solicit_at =
        c->solicits < TG_CLIENT_SOLICITS ? tg_time_add(now, TG_SEC(1)) : TG_TIME_NEVER;
}

tg_time tg_client_next_deadline(const struct tg_client *c)
{
    tg_time t = tg_time_min(tg_mp_next_deadline(&c->mp), c->solicit_at);
    for (unsigned u = 0; u < TG_MAX_UPLINKS; u++) {
        const struct uplink_hs *h = &c->up[u];
        const struct tg_path *p = tg_mp_path(&c->mp, u);
        if (h->busy) {
            t = tg_time_min(t, h->retry_at);
        } else if (p != NULL && p->keyed) {
            t = tg_time_min(t, tg_time_add(p->keys_at, c->cfg.mp.rekey_after_us));
            if (!p->confirmed && h->up)
                t = tg_time_min(t, confirm_deadline(c, p));
        }
    }
    return t;
}

void tg_client_on_timeout(struct tg_client *c, tg_time now)
{
    for (unsigned u = 0; u < TG_MAX_UPLINKS; u++) {
        struct uplink_hs *h = &c->up[u];
        struct tg_path *p = tg_mp_path(&c->mp, u);
        bool keyed = p != NULL && p->keyed;
        if (keyed && now - p->keys_at >= c->cfg.mp.reject_after_us) {
            tg_mp_path_drop(&c->mp, u, now);
            keyed = false;
        }
        if (h->busy && now >= h->retry_at) {
            h->busy = false;
            if (!h->join && h->attempts >= 2) {
                /* the server does not answer on this uplink: let another try */
                c->nk_uplink = (int)u;
                h->attempts = 0;
                kick(c, now);
                continue;
            }
            start_handshake(c, u, true, now);
        } else if (!h->busy && h->up && keyed && !p->confirmed &&
                   now >= confirm_deadline(c, p)) {
            if (!c->session_up) { /* the NK never became a session */
                tg_mp_path_drop(&c->mp, u, now);
                c->nk_keyed = false;
            }
            start_handshake(c, u, true, now);
        } else if (!h->busy && h->up && keyed &&
                   (now - p->keys_at >= c->cfg.mp.rekey_after_us ||
                    p->cur.send_counter >= c->cfg.mp.rekey_after_packets)) {
            start_handshake(c, u, true, now);
        }
    }
    kick(c, now);
    if (c->session_up && now >= c->solicit_at)
        solicit(c, now);
    tg_mp_on_timeout(&c->mp, now);
    if (c->nat != NULL)
        tg_nat_expire(c->nat, now); /* keeps tg_client_nat_entries current */
}

bool tg_client_tunnel_addr6(const struct tg_client *c, uint8_t addr[16], uint8_t *prefix)
{
    if (c->has6) {
        memcpy(addr, c->tunnel_addr6, 16);
        *prefix = c->tunnel_prefix6;
    }
    return c->has6;
}

bool tg_client_session_up(const struct tg_client *c, uint8_t tunnel_addr[4])
{
    if (c->session_up && tunnel_addr != NULL)
        memcpy(tunnel_addr, c->tunnel_addr, 4);
    return c->session_up;
}

size_t tg_client_snapshot(const struct tg_client *c, struct tg_uplink_snapshot *out, size_t cap)
{
    size_t n = 0;
    for (unsigned u = 0; u < TG_MAX_UPLINKS && n < cap; u++) {
        if (!c->up[u].up)
            continue;
        tg_mp_snapshot(&c->mp, u, c->mp.last_activity, &out[n]);
        out[n++].present = true;
    }
    return n;
}

const struct tg_endpoint_counters *tg_client_counters(const struct tg_client *c)
{
    return &c->io.counters;
}

uint32_t tg_client_nat_entries(const struct tg_client *c)
{
    return c->nat != NULL ? tg_nat_stats(c->nat)->active : 0;
}
