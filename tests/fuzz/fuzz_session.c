/* Fuzz both endpoints BEHIND authentication.
 *
 * Each input starts from the same world (fuzz_session.h), built in memory
 * with fixed RNG seeds, so any input replays alone:
 *   client <-> server  a real client core and a real server core, connected
 *              by their own handshakes (NK with mac1, the first PING, the
 *              SESSION frame on the PONG, NKpsk2 joins) over a network whose
 *              behaviour the input picks (op 6);
 *   fake client -> server  the harness as a second client of that server,
 *              with its own Noise state (noise.h, cookie.h, hello.h) and so
 *              its own transport keys (transport.h), joining more slots
 *              with the join key;
 *   fake server -> solo  the harness as the server of a second real client
 *              (NK and NKpsk2 responder, SESSION frame, PONGs); both fakes
 *              are in fuzz_session_peers.c.
 * The first input byte b picks the configuration: strategy b&7, aggregation
 * (b>>3)%3, b&0x20 the clients carry 4000-byte packets (the server 1500),
 * b&0x40 no NAT in the clients, b&0x80 the client starts with two uplinks.
 * Then up to MAX_OPS operations; o is the op byte, "L bytes" a 16-bit
 * little-endian length (capped by what is left) and that many bytes:
 *   0 L bytes  `bytes` sealed as plaintext (any frames: DATA, PING, PONG,
 *              FEEDBACK, CLOSE, PATH_SEQ, SESSION, NACK, LOST_RUN, OBSERVED) under the
 *              fake client's keys of slot o>>3&3, to the server; o&0x20: from
 *              its other (IPv6) address
 *   1 L bytes  the same under the fake server's keys of uplink o>>3&3, to the
 *              solo client; o&0x20: arriving on the next uplink
 *   2 L bytes  a raw datagram to o>>3&3 = 0 the server from the fake
 *              client's address, 1 the server from the client's, 2 the
 *              client, 3 the solo client (uplink o>>5&3)
 *   3 [S] L bytes  a TUN packet to (o>>3&3)%3 = server, client, solo;
 *              o&0x40: zero-padded to S bytes (16-bit: up to 65535);
 *              o&0x80: made IPv4 with its total length and plausible
 *              addresses (the sender's tunnel address or one the client NATs)
 *   4 t        time passes (t < 200: t ms, else (t-199)*10 s) and every
 *              timeout runs; o&8: deadline by deadline on the way (at most
 *              MAX_STEPS deadlines per input)
 *   5          uplink o>>3&3 of the client (o&0x20: of the solo client) goes
 *              down (o&0x40) or up (if up: its address changes)
 *   6          the client-server network: o>>3&7 = enum net
 *   7 ...      o>>3&7 = 0 the fake client starts a new session, 1..3 joins
 *              slot 1..3; 4 the client, 5 the solo client closes; 6 u64: the
 *              fake client's next counter on slot 0; 7 it replays its last
 * After each operation every output is drained and delivered where a network
 * would take it. Nothing may crash or trip a sanitizer, and: what the server
 * seals for the fake client and the solo client for the fake server opens
 * under their keys (right keys, no nonce twice) on the uplink it came by,
 * with well-formed frames; the server's TUN gets only packets from the
 * tunnel addresses it gave out; the counters match what was drained; no
 * timer stays due after its timeout ran 32 times in a row; the cores never
 * hold more than HEAP_CAP bytes and give it all back. */
#include "fuzz_session.h"

#include "core/ip.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OPS   64
#define MAX_STEPS 128        /* deadlines stepped through per input (op 4), then time jumps */
#define HEAP_CAP  (8u << 20) /* bytes the three cores may hold at once */

/* ------------------------------------------------------------ memory */

/* Counts what the cores hold. Blocks freed while the world is torn down are
 * kept (poisoned) for the next input's world, which asks for the same sizes:
 * that spares the page faults of zeroing fresh large blocks every input.
 * Blocks freed during an input are really freed (use-after-free is caught). */
struct heap {
    size_t live;
    bool recycle;
    unsigned n_kept;
    void *kept[64];
};
union hdr {
    max_align_t align;
    size_t size;
};

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(p, n)   ((void)(p), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

static void *heap_alloc(void *ctx, size_t size)
{
    struct heap *h = ctx;
    CHECK(size <= HEAP_CAP - h->live); /* a core grows without bound */
    union hdr *p = NULL;
    for (unsigned i = 0; i < h->n_kept && p == NULL; i++) {
        union hdr *k = h->kept[i];
        ASAN_UNPOISON_MEMORY_REGION(k, sizeof *k);
        if (k->size == size) {
            p = k;
            h->kept[i] = h->kept[--h->n_kept];
            ASAN_UNPOISON_MEMORY_REGION(p + 1, size);
        } else {
            ASAN_POISON_MEMORY_REGION(k, sizeof *k);
        }
    }
    if (p == NULL && (p = malloc(sizeof *p + size)) == NULL)
        return NULL;
    p->size = size;
    h->live += size;
    return p + 1;
}

static void heap_free(void *ctx, void *ptr)
{
    struct heap *h = ctx;
    if (ptr == NULL)
        return;
    union hdr *p = (union hdr *)ptr - 1;
    CHECK(p->size <= h->live);
    h->live -= p->size;
    if (h->recycle && h->n_kept < 64 && p->size >= 4096) {
        h->kept[h->n_kept++] = p;
        ASAN_POISON_MEMORY_REGION(p, sizeof *p + p->size);
    } else {
        free(p);
    }
}

void det_fill(void *ctx, uint8_t *buf, size_t len)
{
    uint64_t *s = ctx;
    for (size_t i = 0; i < len; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15u);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
        buf[i] = (uint8_t)(z ^ (z >> 31));
    }
}

enum net {
    NET_IN_ORDER,
    NET_REVERSED,
    NET_LOSE_UPLINK0,
    NET_LOSE_THIRD,
    NET_DUPLICATE,
    NET_HOLD,
    NET_SWAP_PAIRS,
    NET_LOSE_DOWNLINK
};

static struct flights lists[3];
static struct heap heap;
static struct world W;

static const uint8_t pool[4] = {198, 18, 0, 0}, outside[4] = {203, 0, 113, 7};

static bool addr_eq(const struct tg_key_addr *a, const struct tg_key_addr *b)
{
    return a->type == b->type && a->port == b->port && memcmp(a->addr, b->addr, 16) == 0;
}

struct tg_key_addr fc_addr(const struct fake_client *fc, unsigned slot)
{
    struct tg_key_addr a = {
        .type = TG_ADDR_IPV4, .addr = {198, 51, 100, 7}, .port = (uint16_t)(4000 + slot)};
    if (fc->roam[slot]) {
        static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 7};
        a.type = TG_ADDR_IPV6;
        memcpy(a.addr, v6, 16);
    }
    return a;
}

static struct tg_key_addr client_addr(const struct world *w, unsigned u)
{
    return (struct tg_key_addr){
        .type = TG_ADDR_IPV4, .addr = {192, 0, 2, w->client_host[u]}, .port = (uint16_t)(1000 + u)};
}

void send_to(struct flights *l, uint8_t to, unsigned uplink, const uint8_t *data, size_t len)
{
    if (l->n == N_FLIGHT || len > FLIGHT_BYTES)
        return;
    struct flight *f = &l->f[l->n++];
    f->to = to;
    f->uplink = (uint8_t)uplink;
    f->len = (uint16_t)len;
    memcpy(f->data, data, len);
}

/* ------------------------------------------------------------ draining */

static void check_event(const struct tg_event *ev)
{
    CHECK(ev->type >= TG_EV_SESSION_UP && ev->type <= TG_EV_SESSION_DOWN);
    CHECK(ev->uplink < TG_MAX_UPLINKS);
    CHECK((unsigned)ev->health_to <= TG_HEALTH_DOWN && (unsigned)ev->health_from <= TG_HEALTH_DOWN);
}

static void drain_server(struct world *w)
{
    struct tg_datagram d;
    const uint8_t *p;
    size_t len;
    struct tg_event ev;
    while (tg_server_next_datagram(w->server, &d)) {
        w->dgrams[0]++;
        CHECK(d.len > 0 && d.len <= 1500 + 128);
        unsigned u = d.to.port - 1000u, k = d.to.port - 4000u;
        struct tg_key_addr a;
        if (u < SLOTS && (a = client_addr(w, u), addr_eq(&a, &d.to)))
            send_to(w->next, TO_CLIENT, u, d.data, d.len);
        else if (k < SLOTS && (a = fc_addr(&w->fc, k), addr_eq(&a, &d.to)))
            send_to(w->next, TO_FAKE_CLIENT, k, d.data, d.len);
        /* else: an address that moved away, or a raw datagram's made-up source */
    }
    while (tg_server_next_tun_packet(w->server, &p, &len)) {
        w->tuns[0]++;
        struct tg_ip_info ip;
        /* only a session's own tunnel address gets into the server's network */
        CHECK(len <= 1500 && tg_ip_parse(p, len, &ip) == TG_OK && ip.version == 4);
        CHECK(memcmp(ip.src, pool, 3) == 0 && w->announced[ip.src[3]]);
        if (memcmp(ip.dst, pool, 3) == 0 && w->announced[ip.dst[3]])
            send_to(w->next, TO_SERVER_TUN, 0, p, len); /* the kernel routes it back */
    }
    while (tg_server_next_event(w->server, &ev)) {
        check_event(&ev);
        if (ev.type == TG_EV_SESSION_UP) {
            CHECK(memcmp(ev.tunnel_addr, pool, 3) == 0);
            w->announced[ev.tunnel_addr[3]] = true;
        }
    }
    const struct tg_endpoint_counters *c = tg_server_counters(w->server);
    CHECK(c->dgram_out == w->dgrams[0] && c->tun_out == w->tuns[0]);
}

static void drain_client(struct world *w, struct tg_client *c, unsigned who)
{
    struct tg_datagram d;
    const uint8_t *p;
    size_t len;
    struct tg_event ev;
    while (tg_client_next_datagram(c, &d)) {
        w->dgrams[who]++;
        CHECK(d.len > 0 && d.len <= w->client_max_packet + 128 && d.uplink < TG_MAX_UPLINKS);
        if (d.uplink < SLOTS)
            send_to(w->next, who == 1 ? TO_SERVER : TO_FAKE_SERVER, d.uplink, d.data, d.len);
    }
    while (tg_client_next_tun_packet(c, &p, &len)) {
        w->tuns[who]++;
        CHECK(len <= w->client_max_packet);
    }
    while (tg_client_next_event(c, &ev))
        check_event(&ev);
    const struct tg_endpoint_counters *k = tg_client_counters(c);
    CHECK(k->dgram_out == w->dgrams[who] && k->tun_out == w->tuns[who]);
}

void drain(struct world *w)
{
    drain_server(w);
    drain_client(w, w->client, 1);
    drain_client(w, w->solo, 2);
}

/* Every frame of a plaintext an endpoint sealed; PONGs answer its PINGs. */

/* ------------------------------------------------------------ the network */

static void deliver(struct world *w, struct flight *f)
{
    switch (f->to) {
    case TO_SERVER: {
        struct tg_key_addr from = client_addr(w, f->uplink);
        tg_server_udp_input(w->server, 0, &from, f->data, f->len, w->now);
        break;
    }
    case TO_CLIENT:
        tg_client_udp_input(w->client, f->uplink, f->data, f->len, w->now);
        break;
    case TO_SOLO:
        tg_client_udp_input(w->solo, f->uplink, f->data, f->len, w->now);
        break;
    case TO_FAKE_CLIENT:
        fc_receive(w, f->uplink, f->data, f->len);
        break;
    case TO_FAKE_SERVER:
        fs_receive(w, f->uplink, f->data, f->len);
        break;
    default:
        tg_server_tun_input(w->server, f->data, f->len, w->now);
        break;
    }
    drain(w);
}

/* Deliver what is in flight until nothing moves (bounded). The network
 * mode applies to datagrams between the client and the server. */
static void pump(struct world *w)
{
    drain(w);
    for (unsigned round = 0; round < 64 && w->next->n > 0; round++) {
        struct flights *l = w->next;
        w->next = w->cur;
        w->cur = l;
        w->next->n = 0;
        for (unsigned i = 0; i < l->n; i++) {
            unsigned j = i;
            if (w->net == NET_REVERSED)
                j = l->n - 1 - i;
            else if (w->net == NET_SWAP_PAIRS && (i ^ 1) < l->n)
                j = i ^ 1;
            struct flight *f = &l->f[j];
            if (f->to == TO_SERVER || f->to == TO_CLIENT) {
                w->net_seen++;
                if ((w->net == NET_LOSE_UPLINK0 && f->uplink == 0) ||
                    (w->net == NET_LOSE_THIRD && w->net_seen % 3 == 0) ||
                    (w->net == NET_LOSE_DOWNLINK && f->to == TO_CLIENT))
                    continue;
                if (w->net == NET_HOLD) {
                    send_to(w->held, f->to, f->uplink, f->data, f->len);
                    continue;
                }
                if (w->net == NET_DUPLICATE) {
                    w->dup = *f;
                    deliver(w, &w->dup);
                }
            }
            deliver(w, f);
        }
    }
}

static void set_net(struct world *w, uint8_t mode)
{
    if (w->net == NET_HOLD && mode != NET_HOLD) {
        for (unsigned i = 0; i < w->held->n; i++) {
            struct flight *f = &w->held->f[i];
            send_to(w->next, f->to, f->uplink, f->data, f->len);
        }
        w->held->n = 0;
    }
    w->net = mode;
}

/* Run every timeout that is due until `target` (`step`: deadline by
 * deadline, bounded), then all of them at `target`. */
static void advance(struct world *w, tg_time target, bool step)
{
    unsigned stuck = 0;
    for (; step && w->steps_left > 0; w->steps_left--) {
        tg_time ds = tg_server_next_deadline(w->server), dc = tg_client_next_deadline(w->client),
                dl = tg_client_next_deadline(w->solo);
        tg_time t = tg_time_min(ds, tg_time_min(dc, dl));
        if (t > target)
            break;
        if (t <= w->now)
            stuck++; /* still due after its timeout ran: a host loop would spin */
        else
            stuck = 0;
        CHECK(stuck < 32);
        w->now = t > w->now ? t : w->now;
        if (ds <= w->now)
            tg_server_on_timeout(w->server, w->now);
        if (dc <= w->now)
            tg_client_on_timeout(w->client, w->now);
        if (dl <= w->now)
            tg_client_on_timeout(w->solo, w->now);
        pump(w);
    }
    w->now = target > w->now ? target : w->now;
    tg_server_on_timeout(w->server, w->now);
    tg_client_on_timeout(w->client, w->now);
    tg_client_on_timeout(w->solo, w->now);
    pump(w);
}

/* ------------------------------------------------------------ operations */

struct input {
    const uint8_t *p;
    size_t n, i;
};

static uint8_t in_u8(struct input *in)
{
    return in->i < in->n ? in->p[in->i++] : 0;
}

static uint16_t in_u16(struct input *in)
{
    uint16_t lo = in_u8(in);
    return (uint16_t)(lo | in_u8(in) << 8);
}

/* A 16-bit length and that many bytes (fewer when the input ends). */
static const uint8_t *in_bytes(struct input *in, size_t *len)
{
    size_t want = in_u16(in);
    *len = want < in->n - in->i ? want : in->n - in->i;
    const uint8_t *p = in->p + in->i;
    in->i += *len;
    return p;
}

/* Make w->pkt[0..n) an IPv4 packet with its total length and plausible
 * addresses for the TUN side of `target` (0 server, 1 client, 2 solo). */
static size_t fixup(struct world *w, unsigned target, size_t n)
{
    uint8_t *p = w->pkt;
    if (n < 20) {
        memset(p + n, 0, 20 - n);
        n = 20;
    }
    size_t ihl = p[0] & 0x0f;
    if ((p[0] >> 4) != 4 || ihl < 5 || ihl * 4 > n)
        p[0] = 0x45;
    ihl = (size_t)(p[0] & 0x0f) * 4;
    p[2] = (uint8_t)(n >> 8);
    p[3] = (uint8_t)n;
    if (target == 0) { /* from outside to one of the server's sessions */
        memcpy(p + 12, outside, 4);
        memcpy(p + 16, (p[19] & 1) && w->fc.session ? w->fc.addr : w->client_tun, 4);
    } else { /* from the client's own address, or another local one it NATs */
        if (p[15] & 1)
            memcpy(p + 12, (const uint8_t[3]){192, 168, 7}, 3);
        else
            memcpy(p + 12, target == 1 ? w->client_tun : solo_tun, 4);
        if (!(p[19] & 1))
            memcpy(p + 16, outside, 4);
    }
    p[10] = p[11] = 0;
    uint16_t c = tg_ip_fold(tg_ip_sum(p, ihl, 0));
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
    return n;
}

static void op_tun(struct world *w, uint8_t o, struct input *in)
{
    unsigned target = ((o >> 3) & 3u) % 3u;
    size_t total = o & 0x40 ? in_u16(in) : 0, len;
    const uint8_t *p = in_bytes(in, &len);
    memcpy(w->pkt, p, len);
    if (total > len)
        memset(w->pkt + len, 0, total - len);
    size_t n = total > len ? total : len;
    if (o & 0x80)
        n = fixup(w, target, n);
    if (target == 0)
        tg_server_tun_input(w->server, w->pkt, n, w->now);
    else
        tg_client_tun_input(target == 1 ? w->client : w->solo, w->pkt, n, w->now);
}

static void op_raw(struct world *w, uint8_t o, struct input *in)
{
    size_t len;
    const uint8_t *p = in_bytes(in, &len);
    memcpy(w->buf, p, len);
    switch ((o >> 3) & 3u) {
    case 0: {
        struct tg_key_addr from = fc_addr(&w->fc, 0);
        tg_server_udp_input(w->server, 0, &from, w->buf, len, w->now);
        break;
    }
    case 1: {
        struct tg_key_addr from = client_addr(w, 0);
        tg_server_udp_input(w->server, 0, &from, w->buf, len, w->now);
        break;
    }
    case 2:
        tg_client_udp_input(w->client, (o >> 5) & 3u, w->buf, len, w->now);
        break;
    default:
        tg_client_udp_input(w->solo, (o >> 5) & 3u, w->buf, len, w->now);
        break;
    }
}

static void op_uplink(struct world *w, uint8_t o)
{
    unsigned u = (o >> 3) & 3u, who = (o >> 5) & 1u;
    struct tg_client *c = who ? w->solo : w->client;
    if (o & 0x40) {
        tg_client_uplink_down(c, u, w->now);
        w->up[who][u] = false;
        return;
    }
    if (!who && w->up[who][u])
        w->client_host[u] = (uint8_t)(w->client_host[u] + 16); /* a new address */
    w->up[who][u] = true;
    CHECK(tg_client_uplink_up(c, u, w->now) == TG_OK);
}

static void op_control(struct world *w, uint8_t o, struct input *in)
{
    struct fake_client *fc = &w->fc;
    unsigned sub = (o >> 3) & 7u;
    if (sub < SLOTS) {
        fc_start(w, sub, sub > 0);
    } else if (sub == 4) {
        tg_client_close(w->client, w->now);
    } else if (sub == 5) {
        tg_client_close(w->solo, w->now);
    } else if (sub == 6) {
        uint64_t v = in_u16(in);
        v |= (uint64_t)in_u16(in) << 16 | (uint64_t)in_u16(in) << 32 | (uint64_t)in_u16(in) << 48;
        fc->t[0].send_counter = v;
    } else if (fc->last_len > 0) {
        memcpy(w->buf, fc->last, fc->last_len);
        struct tg_key_addr from = fc_addr(fc, fc->last_slot);
        tg_server_udp_input(w->server, 0, &from, w->buf, fc->last_len, w->now);
    }
}

static void run_op(struct world *w, struct input *in)
{
    uint8_t o = in_u8(in);
    size_t len;
    const uint8_t *p;
    unsigned slot = (o >> 3) & 3u;
    switch (o & 7) {
    case 0:
        p = in_bytes(in, &len);
        w->fc.roam[slot] = (o & 0x20) != 0;
        if (w->fc.keyed[slot])
            fc_seal_send(w, slot, p, len);
        break;
    case 1:
        p = in_bytes(in, &len);
        if (w->fs.keyed[slot])
            fs_seal_send(w, slot, o & 0x20 ? (slot + 1) % SLOTS : slot, p, len);
        break;
    case 2:
        op_raw(w, o, in);
        break;
    case 3:
        op_tun(w, o, in);
        break;
    case 4: {
        uint8_t t = in_u8(in);
        advance(w, w->now + (t < 200 ? TG_MSEC(t) : TG_SEC((t - 199) * 10)), o & 8);
        break;
    }
    case 5:
        op_uplink(w, o);
        break;
    case 6:
        set_net(w, (o >> 3) & 7);
        break;
    default:
        op_control(w, o, in);
        break;
    }
    pump(w);
}

/* ------------------------------------------------------------ set-up */

static void small_mp(struct tg_mp_config *mp, uint8_t cfg)
{
    mp->sched.strategy = (enum tg_strategy)(cfg & 7);
    mp->sched.aggregation = (enum tg_aggregation)((cfg >> 3) % TG_AGG_COUNT);
    mp->sched.flow_slots = 64;
    mp->reorder.capacity = 64;
    mp->queue_slots = 32;
    mp->retransmit_slots = 64;
}

static void setup(struct world *w, uint8_t cfg)
{
    memset(w, 0, offsetof(struct world, buf));
    w->alloc = (struct tg_allocator){heap_alloc, heap_free, &heap};
    w->now = TG_SEC(1);
    w->steps_left = MAX_STEPS;
    w->seed_server = 1;
    w->seed_client = 2;
    w->seed_solo = 3;
    w->fc.seed = 4;
    w->fs.seed = 5;
    w->next = &lists[0];
    w->cur = &lists[1];
    w->held = &lists[2];
    for (unsigned i = 0; i < 3; i++)
        lists[i].n = 0;
    for (unsigned u = 0; u < SLOTS; u++)
        w->client_host[u] = (uint8_t)(10 + u);

    struct tg_server_config sc;
    tg_server_config_default(&sc);
    det_fill(&w->seed_server, sc.static_private, 32);
    memcpy(sc.pool_addr, pool, 4);
    sc.pool_prefix = 24;
    sc.max_sessions = 4;
    sc.pending_slots = 16;
    small_mp(&sc.mp, cfg);
    tg_noise_public_key(sc.static_private, w->server_public);
    tg_mac_keys_init(&w->server_mac, w->server_public);
    det_fill(&w->fs.seed, w->fs.priv, 32);
    tg_noise_public_key(w->fs.priv, w->fs.pub);
    tg_mac_keys_init(&w->fs.mac, w->fs.pub);

    struct tg_client_config cc;
    tg_client_config_default(&cc);
    small_mp(&cc.mp, cfg);
    w->client_max_packet = cc.mp.max_packet = cfg & 0x20 ? 4000 : 1500;
    cc.nat = !(cfg & 0x40);
    struct tg_rng rs = {det_fill, &w->seed_server}, rc = {det_fill, &w->seed_client},
                  rl = {det_fill, &w->seed_solo};
    CHECK(tg_server_new(&sc, &rs, &w->alloc, w->now, &w->server) == TG_OK);
    memcpy(cc.server_public, w->server_public, 32);
    CHECK(tg_client_new(&cc, &rc, &w->alloc, w->now, &w->client) == TG_OK);
    memcpy(cc.server_public, w->fs.pub, 32);
    CHECK(tg_client_new(&cc, &rl, &w->alloc, w->now, &w->solo) == TG_OK);

    /* the harness itself must always connect */
    for (unsigned u = 0; u < (cfg & 0x80 ? 2u : 1u); u++) {
        w->up[0][u] = true;
        CHECK(tg_client_uplink_up(w->client, u, w->now) == TG_OK);
    }
    pump(w);
    CHECK(tg_client_session_up(w->client, w->client_tun));
    fc_start(w, 0, false);
    pump(w);
    CHECK(w->fc.session && tg_server_session_count(w->server) == 2);
    w->up[1][0] = true;
    CHECK(tg_client_uplink_up(w->solo, 0, w->now) == TG_OK);
    pump(w);
    CHECK(tg_client_session_up(w->solo, NULL));
}

static void teardown(struct world *w)
{
    heap.recycle = true;
    tg_client_free(w->client);
    tg_client_free(w->solo);
    tg_server_free(w->server);
    heap.recycle = false;
    for (unsigned k = 0; k < SLOTS; k++) {
        tg_noise_clear(&w->fc.hs[k]);
        tg_transport_clear(&w->fc.t[k]);
        tg_transport_clear(&w->fs.t[k]);
    }
    CHECK(heap.live == 0); /* everything the cores took came back */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        __builtin_trap();
    struct world *w = &W;
    setup(w, size > 0 ? data[0] : 0);
    struct input in = {data, size, 1};
    for (unsigned ops = 0; in.i < in.n && ops < MAX_OPS; ops++)
        run_op(w, &in);
    teardown(w);
    return 0;
}
