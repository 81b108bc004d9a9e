#include "nat.h"

#include <string.h>

#include "ip.h"

/*
 * Layout: one array of entries; a free list threaded through `next`; per
 * timeout class a doubly linked list of live entries in the order they were
 * last refreshed, which (one timeout per class, `now` never decreasing) is
 * also the order in which they expire, so reclaiming looks only at list heads.
 *
 * Two open-addressing indexes with linear probing hold entry numbers + 1
 * (0 = empty slot): `out` keyed by the flow's 5-tuple, `in` by (version,
 * protocol, mapped port). Each has at least twice as many slots as entries,
 * so a probe always meets an empty slot. Deletion shifts the following run
 * back (Knuth's algorithm R) instead of leaving tombstones, so probe lengths
 * do not grow with churn.
 */

#define NONE UINT32_MAX

enum cls { CLS_UDP, CLS_TCP, CLS_ICMP, CLS_COUNT };

struct entry {
    uint8_t local[16];    /* original source address (IPv4: first 4 bytes, rest 0) */
    uint8_t remote[16];   /* the flow's remote address */
    uint16_t local_port;  /* original source port or echo identifier */
    uint16_t remote_port; /* remote port; 0 for ICMP */
    uint16_t mapped_port; /* port or identifier on the tunnel address */
    uint8_t version;
    uint8_t proto;
    uint8_t cls;
    uint32_t out_hash;
    uint32_t in_hash;
    uint32_t prev, next; /* class list (live) or free list (next only) */
    tg_time expires;     /* last packet + the class timeout */
};

struct list {
    uint32_t head, tail;
};

struct tg_nat {
    struct tg_nat_config cfg;
    struct tg_allocator alloc; /* zeroed: the C library (alloc.h) */
    struct entry *entries;
    uint32_t *out_slots;
    uint32_t *in_slots;
    uint32_t mask; /* index slots - 1 */
    uint32_t free_head;
    struct list lists[CLS_COUNT];
    tg_time timeout[CLS_COUNT];
    struct tg_nat_stats stats;
};

/* The flow as both directions see it, in the entries' own terms. */
struct key {
    uint8_t version;
    uint8_t proto;
    const uint8_t *local;
    const uint8_t *remote;
    uint16_t local_port;
    uint16_t remote_port;
};

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static size_t addr_len(uint8_t version)
{
    return version == 4 ? 4 : 16;
}

/* ------------------------------------------------------------- hashing */

/* Not keyed: the indexes only need spread, and every key on the outbound
 * side comes from this host's own sockets. The mix is splitmix64's. */
static uint64_t mix(uint64_t h, uint64_t v)
{
    h ^= v;
    h += 0x9e3779b97f4a7c15u;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
    return h ^ (h >> 31);
}

static uint64_t mix_bytes(uint64_t h, const uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = 0;
        for (size_t j = 0; j < 8 && i + j < len; j++)
            v = v << 8 | p[i + j];
        h = mix(h, v);
    }
    return h;
}

static uint64_t hash_out(const struct key *k)
{
    size_t alen = addr_len(k->version);
    uint64_t h = mix(0, (uint64_t)k->version << 48 | (uint64_t)k->proto << 32 |
                            (uint64_t)k->local_port << 16 | k->remote_port);
    h = mix_bytes(h, k->local, alen);
    return mix_bytes(h, k->remote, alen);
}

static uint32_t hash_in(uint8_t version, uint8_t proto, uint16_t mapped_port)
{
    return (uint32_t)mix(1, (uint64_t)version << 24 | (uint64_t)proto << 16 | mapped_port);
}

/* ------------------------------------------------------------- indexes */

static bool key_matches(const struct entry *e, const struct key *k)
{
    size_t alen = addr_len(k->version);
    return e->version == k->version && e->proto == k->proto && e->local_port == k->local_port &&
           e->remote_port == k->remote_port && memcmp(e->local, k->local, alen) == 0 &&
           memcmp(e->remote, k->remote, alen) == 0;
}

static uint32_t find_out(const struct tg_nat *n, const struct key *k, uint32_t h)
{
    for (uint32_t i = h & n->mask; n->out_slots[i] != 0; i = (i + 1) & n->mask) {
        uint32_t idx = n->out_slots[i] - 1;
        const struct entry *e = &n->entries[idx];
        if (e->out_hash == h && key_matches(e, k))
            return idx;
    }
    return NONE;
}

static uint32_t find_in(const struct tg_nat *n, uint8_t version, uint8_t proto, uint16_t port,
                        uint32_t h)
{
    for (uint32_t i = h & n->mask; n->in_slots[i] != 0; i = (i + 1) & n->mask) {
        uint32_t idx = n->in_slots[i] - 1;
        const struct entry *e = &n->entries[idx];
        if (e->in_hash == h && e->mapped_port == port && e->proto == proto && e->version == version)
            return idx;
    }
    return NONE;
}

static void index_insert(const struct tg_nat *n, uint32_t *slots, uint32_t h, uint32_t idx)
{
    uint32_t i = h & n->mask;
    while (slots[i] != 0)
        i = (i + 1) & n->mask;
    slots[i] = idx + 1;
}

static uint32_t hash_of(const struct tg_nat *n, const uint32_t *slots, uint32_t slot_value)
{
    const struct entry *e = &n->entries[slot_value - 1];
    return slots == n->out_slots ? e->out_hash : e->in_hash;
}

static void index_remove(const struct tg_nat *n, uint32_t *slots, uint32_t h, uint32_t idx)
{
    uint32_t i = h & n->mask;
    while (slots[i] != idx + 1)
        i = (i + 1) & n->mask;
    /* Slot i is now a hole. Any later entry of the run whose home slot is
     * not cyclically inside (i, j] would be cut off from its home by the
     * hole: move it into the hole, which moves the hole to j. */
    for (;;) {
        slots[i] = 0;
        uint32_t j = i;
        for (;;) {
            j = (j + 1) & n->mask;
            if (slots[j] == 0)
                return;
            uint32_t home = hash_of(n, slots, slots[j]) & n->mask;
            if (((j - home) & n->mask) >= ((j - i) & n->mask))
                break;
        }
        slots[i] = slots[j];
        i = j;
    }
}

/* --------------------------------------------------------- entry lists */

static void list_unlink(struct tg_nat *n, struct entry *e)
{
    struct list *l = &n->lists[e->cls];
    if (e->prev != NONE)
        n->entries[e->prev].next = e->next;
    else
        l->head = e->next;
    if (e->next != NONE)
        n->entries[e->next].prev = e->prev;
    else
        l->tail = e->prev;
    e->prev = e->next = NONE;
}

static void list_append(struct tg_nat *n, struct entry *e, uint32_t idx)
{
    struct list *l = &n->lists[e->cls];
    e->next = NONE;
    e->prev = l->tail;
    if (l->tail != NONE)
        n->entries[l->tail].next = idx;
    else
        l->head = idx;
    l->tail = idx;
}

static void refresh(struct tg_nat *n, uint32_t idx, tg_time now)
{
    struct entry *e = &n->entries[idx];
    e->expires = tg_time_add(now, n->timeout[e->cls]);
    if (n->lists[e->cls].tail == idx)
        return;
    list_unlink(n, e);
    list_append(n, e, idx);
}

static void release(struct tg_nat *n, uint32_t idx)
{
    struct entry *e = &n->entries[idx];
    index_remove(n, n->out_slots, e->out_hash, idx);
    index_remove(n, n->in_slots, e->in_hash, idx);
    list_unlink(n, e);
    e->next = n->free_head;
    n->free_head = idx;
    n->stats.active--;
    n->stats.expired++;
}

void tg_nat_expire(struct tg_nat *n, tg_time now)
{
    for (int c = 0; c < CLS_COUNT; c++) {
        uint32_t idx;
        while ((idx = n->lists[c].head) != NONE && n->entries[idx].expires <= now)
            release(n, idx);
    }
}

/* ------------------------------------------------------------ creation */

void tg_nat_config_default(struct tg_nat_config *c)
{
    memset(c, 0, sizeof *c);
    c->capacity = 4096;
    c->udp_timeout_us = TG_SEC(180);
    c->tcp_timeout_us = TG_SEC(7200);
    c->icmp_timeout_us = TG_SEC(30);
    c->port_min = 32768;
    c->port_max = 61000;
}

int tg_nat_new(const struct tg_nat_config *c, const struct tg_allocator *a, struct tg_nat **out)
{
    *out = NULL;
    if (c->capacity < 1 || c->capacity > TG_NAT_MAX_CAPACITY || c->udp_timeout_us == 0 ||
        c->tcp_timeout_us == 0 || c->icmp_timeout_us == 0 || c->port_min < 1 ||
        c->port_min > c->port_max)
        return TG_ERR_INVAL;

    struct tg_nat *n = tg_alloc_zeroed(a, sizeof *n);
    if (n == NULL)
        return TG_ERR_NOMEM;
    n->cfg = *c;
    if (a != NULL)
        n->alloc = *a;
    uint32_t slots = 2;
    while (slots < 2 * c->capacity)
        slots *= 2;
    n->mask = slots - 1;
    n->entries = tg_alloc_zeroed(a, (size_t)c->capacity * sizeof *n->entries);
    n->out_slots = tg_alloc_zeroed(a, (size_t)slots * sizeof *n->out_slots);
    n->in_slots = tg_alloc_zeroed(a, (size_t)slots * sizeof *n->in_slots);
    if (n->entries == NULL || n->out_slots == NULL || n->in_slots == NULL) {
        tg_nat_free(n);
        return TG_ERR_NOMEM;
    }
    for (uint32_t i = 0; i < c->capacity; i++) {
        n->entries[i].prev = NONE;
        n->entries[i].next = i + 1 < c->capacity ? i + 1 : NONE;
    }
    n->free_head = 0;
    for (int i = 0; i < CLS_COUNT; i++)
        n->lists[i].head = n->lists[i].tail = NONE;
    n->timeout[CLS_UDP] = c->udp_timeout_us;
    n->timeout[CLS_TCP] = c->tcp_timeout_us;
    n->timeout[CLS_ICMP] = c->icmp_timeout_us;
    *out = n;
    return TG_OK;
}

void tg_nat_free(struct tg_nat *n)
{
    if (n == NULL)
        return;
    struct tg_allocator copy = n->alloc; /* n itself is freed last */
    const struct tg_allocator *a = &copy;
    tg_alloc_free(a, n->entries);
    tg_alloc_free(a, n->out_slots);
    tg_alloc_free(a, n->in_slots);
    tg_alloc_free(a, n);
}

const struct tg_nat_stats *tg_nat_stats(const struct tg_nat *n)
{
    return &n->stats;
}

/* ----------------------------------------------------------- mappings */

static enum cls class_of(uint8_t proto)
{
    return proto == TG_PROTO_TCP ? CLS_TCP : proto == TG_PROTO_UDP ? CLS_UDP : CLS_ICMP;
}

static bool is_icmp(uint8_t version, uint8_t proto)
{
    return (version == 4 && proto == TG_PROTO_ICMP) || (version == 6 && proto == TG_PROTO_ICMPV6);
}

/* A free mapped port for (version, proto), searched from a point the flow's
 * hash picks; NONE when the whole range is taken. */
static uint32_t pick_port(const struct tg_nat *n, const struct key *k, uint64_t flow_hash)
{
    uint32_t range = (uint32_t)n->cfg.port_max - n->cfg.port_min + 1;
    uint32_t start = (uint32_t)((flow_hash >> 32) % range);
    /* At most `capacity` ports are taken, so the search ends after at most
     * capacity + 1 probes even when the range is larger. */
    for (uint32_t i = 0; i < range; i++) {
        uint16_t port = (uint16_t)(n->cfg.port_min + (start + i) % range);
        if (find_in(n, k->version, k->proto, port, hash_in(k->version, k->proto, port)) == NONE)
            return port;
    }
    return NONE;
}

static int create(struct tg_nat *n, const struct key *k, uint64_t flow_hash, uint32_t *out)
{
    uint32_t idx = n->free_head;
    if (idx == NONE)
        return TG_ERR_NOBUF;
    uint32_t port = pick_port(n, k, flow_hash);
    if (port == NONE)
        return TG_ERR_NOBUF;

    struct entry *e = &n->entries[idx];
    n->free_head = e->next;
    memset(e, 0, sizeof *e);
    size_t alen = addr_len(k->version);
    memcpy(e->local, k->local, alen);
    memcpy(e->remote, k->remote, alen);
    e->local_port = k->local_port;
    e->remote_port = k->remote_port;
    e->mapped_port = (uint16_t)port;
    e->version = k->version;
    e->proto = k->proto;
    e->cls = (uint8_t)class_of(k->proto);
    e->out_hash = (uint32_t)flow_hash;
    e->in_hash = hash_in(k->version, k->proto, (uint16_t)port);
    index_insert(n, n->out_slots, e->out_hash, idx);
    index_insert(n, n->in_slots, e->in_hash, idx);
    list_append(n, e, idx);
    n->stats.created++;
    n->stats.active++;
    if (n->stats.active > n->stats.peak_active)
        n->stats.peak_active = n->stats.active;
    *out = idx;
    return TG_OK;
}

/* ---------------------------------------------------------- rewriting */

/* Replace the source (outbound) or destination (inbound) address with
 * `addr` and, when the packet has ports, that side's port or the echo
 * identifier with `port`, updating every checksum that covers them. */
static void rewrite(uint8_t *pkt, const struct tg_ip_info *ip, bool outbound, const uint8_t *addr,
                    uint16_t port)
{
    size_t alen = addr_len(ip->version);
    uint8_t *a = pkt + (ip->version == 4 ? (outbound ? 12 : 16) : (outbound ? 8 : 24));
    if (ip->version == 4)
        put16(pkt + 10, tg_ip_csum_update(get16(pkt + 10), a, addr, 4));

    if (ip->has_ports) {
        uint8_t *l4 = pkt + ip->l4_off;
        uint8_t *p, *csum;
        bool pseudo = true; /* ICMPv4 alone has no pseudo-header */
        if (ip->proto == TG_PROTO_TCP) {
            p = l4 + (outbound ? 0 : 2);
            csum = l4 + 16;
        } else if (ip->proto == TG_PROTO_UDP) {
            p = l4 + (outbound ? 0 : 2);
            csum = l4 + 6;
        } else {
            p = l4 + 4;
            csum = l4 + 2;
            pseudo = ip->version == 6;
        }
        uint16_t c = get16(csum);
        bool udp = ip->proto == TG_PROTO_UDP;
        if (!(udp && ip->version == 4 && c == 0)) {
            if (pseudo)
                c = tg_ip_csum_update(c, a, addr, alen);
            c = tg_ip_csum_update16(c, get16(p), port);
            if (udp && c == 0)
                c = 0xffff; /* RFC 768: a computed 0 is sent as all ones */
            put16(csum, c);
        }
        put16(p, port);
    }
    memcpy(a, addr, alen);
}

static const uint8_t *tun_addr(const struct tg_nat *n, uint8_t version)
{
    if (version == 4)
        return n->cfg.has_v4 ? n->cfg.tun_addr4 : NULL;
    return n->cfg.has_v6 ? n->cfg.tun_addr6 : NULL;
}

static bool is_zero(const uint8_t *a, size_t len)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < len; i++)
        acc |= a[i];
    return acc == 0;
}

/* Addresses whose traffic stays on the link or is not one host's: never
 * translated. */
static bool local_scope(const struct tg_ip_info *ip)
{
    if (ip->version == 4) {
        static const uint8_t bcast[4] = {255, 255, 255, 255};
        return is_zero(ip->src, 4) || (ip->dst[0] & 0xf0) == 224 || memcmp(ip->dst, bcast, 4) == 0;
    }
    bool src_ll = ip->src[0] == 0xfe && (ip->src[1] & 0xc0) == 0x80;
    bool dst_ll = ip->dst[0] == 0xfe && (ip->dst[1] & 0xc0) == 0x80;
    return is_zero(ip->src, 16) || src_ll || dst_ll || ip->dst[0] == 0xff;
}

int tg_nat_outbound(struct tg_nat *n, uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_ip_info ip;
    int err = tg_ip_parse(pkt, len, &ip);
    if (err != TG_OK)
        return err;
    tg_nat_expire(n, now);

    const uint8_t *tun = tun_addr(n, ip.version);
    if (tun == NULL || memcmp(ip.src, tun, addr_len(ip.version)) == 0 || local_scope(&ip)) {
        n->stats.passthrough++;
        return TG_OK;
    }
    if (ip.later_fragment) {
        rewrite(pkt, &ip, true, tun, 0);
        n->stats.translated_out++;
        return TG_OK;
    }
    bool icmp = is_icmp(ip.version, ip.proto);
    if (!ip.has_ports || (icmp && pkt[ip.l4_off] != (ip.version == 4 ? 8 : 128))) {
        n->stats.untranslatable++;
        return TG_OK;
    }

    struct key k = {ip.version, ip.proto, ip.src, ip.dst, ip.src_port, icmp ? 0 : ip.dst_port};
    uint64_t h = hash_out(&k);
    uint32_t idx = find_out(n, &k, (uint32_t)h);
    if (idx != NONE && n->entries[idx].expires <= now) {
        /* Only when `now` went backwards past the list order. */
        release(n, idx);
        idx = NONE;
    }
    if (idx == NONE) {
        err = create(n, &k, h, &idx);
        if (err != TG_OK) {
            n->stats.table_full++;
            return err;
        }
    }
    refresh(n, idx, now);
    rewrite(pkt, &ip, true, tun, n->entries[idx].mapped_port);
    n->stats.translated_out++;
    return TG_OK;
}

int tg_nat_inbound(struct tg_nat *n, uint8_t *pkt, size_t len, tg_time now)
{
    struct tg_ip_info ip;
    int err = tg_ip_parse(pkt, len, &ip);
    if (err != TG_OK)
        return err;
    tg_nat_expire(n, now);

    const uint8_t *tun = tun_addr(n, ip.version);
    bool icmp = is_icmp(ip.version, ip.proto);
    uint32_t idx = NONE;
    if (tun != NULL && ip.has_ports && memcmp(ip.dst, tun, addr_len(ip.version)) == 0 &&
        (!icmp || pkt[ip.l4_off] == (ip.version == 4 ? 0 : 129)))
        idx = find_in(n, ip.version, ip.proto, ip.dst_port,
                      hash_in(ip.version, ip.proto, ip.dst_port));
    if (idx != NONE) {
        const struct entry *e = &n->entries[idx];
        if (e->expires <= now || memcmp(e->remote, ip.src, addr_len(ip.version)) != 0 ||
            e->remote_port != (icmp ? 0 : ip.src_port))
            idx = NONE;
    }
    if (idx == NONE) {
        n->stats.passthrough++;
        return TG_OK;
    }
    refresh(n, idx, now);
    rewrite(pkt, &ip, false, n->entries[idx].local, n->entries[idx].local_port);
    n->stats.translated_in++;
    return TG_OK;
}
