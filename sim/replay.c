/*
 * replay.c: a capture loaded, its directions decided, its packets rewritten
 * for the tunnel and matched back on delivery (replay.h says what and why).
 *
 * Matching: the cores deliver the bytes they were given, so a delivered
 * packet is found by its bytes (a hash table over the tunnel forms); among
 * identical ones (a capture may hold exact duplicates) the earliest sent and
 * not yet delivered is taken, which is the only order the tunnel can tell
 * apart anyway.
 *
 * Checksums: the incremental update (RFC 1624 eqn. 3) is its own inverse in
 * one's complement arithmetic, except that it never yields 0xFFFF. So a
 * TCP or IPv4 header checksum field of 0xFFFF (never computed by a correct
 * sender, but a capture may hold anything) is left alone both ways, and a
 * UDP checksum that becomes 0 is sent as 0xFFFF (RFC 768) and maps back;
 * with that, restoring is exact for every input (the fuzzer checks it).
 */
#define _DEFAULT_SOURCE /* u_char & co. in pcap.h under -std=c11 */

#include "replay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "core/error.h"
#include "core/ip.h"
#include "errf.h"
#include "hash.h"
#include "infile.h"

/* The far end of 6in4 (a documentation address, RFC 5737). */
static const uint8_t relay_addr[4] = {203, 0, 113, 41};
enum { ENCAP_LEN = 20, IPPROTO_6IN4 = 41, TUNNEL_MAX = 1500 };
#define MAX_SEC ((int64_t)1 << 40)
/* Longest capture replayed: a run simulates every probe and timer of the
 * whole span, so a damaged timestamp must not make it run for years. */
#define MAX_SPAN_US TG_SEC(86400)

enum rewrite {
    RW_NONE = 0, /* malformed IP header: carried as it is (the cores drop it) */
    RW_SRC4,     /* IPv4 up: source -> tunnel address */
    RW_DST4,     /* IPv4 down: destination -> tunnel address */
    RW_ENCAP,    /* IPv6: inside an IPv4 header, protocol 41 */
};

/* Private state of packet i, beside the public record. */
struct entry {
    size_t off;          /* orig in rp->bytes, restored in rp->restored */
    enum rewrite rw;
    bool header_ok;      /* addresses readable (used for the direction) */
    uint32_t next;       /* next packet in the same hash bucket */
};

struct addr_count {
    uint8_t version;     /* 0: empty slot */
    uint8_t a[16];
    uint64_t count;      /* packets with it as source or destination */
    uint64_t first_src;  /* first packet with it as source (UINT64_MAX: none) */
};

struct sim_replay {
    char *name;
    struct sim_replay_packet *pkts;
    struct entry *ents;
    struct sim_replay_pkt *src_pkts;
    size_t n, cap;
    uint8_t *bytes;      /* every original packet, back to back */
    size_t n_bytes, cap_bytes;
    uint8_t *tun;        /* tunnel forms (built when the tunnel comes up) */
    uint8_t *restored;   /* restored packets, at the same offsets as bytes */
    uint32_t *buckets;   /* hash heads (UINT32_MAX: empty) */
    size_t n_buckets;
    size_t *arrivals;    /* delivered packets in arrival order */
    size_t n_arrivals;
    int64_t max_delivered[2]; /* per direction: highest index delivered so far */
    uint64_t frames, skipped, unmatched;
    bool oom;            /* the tunnel forms could not be built: nothing was injected */
    int64_t start_us;    /* the first IP packet's time, µs since the Unix epoch */
    tg_time session_up;
    uint8_t tunnel_addr[4];
    char local[2 * INET6_ADDRSTRLEN + 8];
    struct sim_replay_src src;
};

/* ------------------------------------------------------------ helpers */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ------------------------------------------------------------ link layers */

static bool supported_dlt(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_LINUX_SLL:
    case DLT_LINUX_SLL2:
        return true;
    default:
        return false;
    }
}

static int version_of_ethertype(uint16_t et)
{
    return et == 0x0800 ? 4 : et == 0x86dd ? 6 : 0;
}

/* Where the IP packet starts in a frame and its version, or 0 when the
 * frame carries no IP. */
static int l3_of(int dlt, const uint8_t *d, size_t n, size_t *off)
{
    uint16_t et;
    switch (dlt) {
    case DLT_EN10MB:
        if (n < 14)
            return 0;
        et = get16(d + 12);
        *off = 14;
        if (et == 0x8100 || et == 0x88a8) { /* one VLAN tag */
            if (n < 18)
                return 0;
            et = get16(d + 16);
            *off = 18;
        }
        return version_of_ethertype(et);
    case DLT_LINUX_SLL: /* type, ARPHRD, address length, address[8], protocol */
        if (n < 16)
            return 0;
        *off = 16;
        return version_of_ethertype(get16(d + 14));
    case DLT_LINUX_SLL2: /* protocol, reserved, ifindex, ARPHRD, type, addr len, addr[8] */
        if (n < 20)
            return 0;
        *off = 20;
        return version_of_ethertype(get16(d));
    default: /* raw IP: the version nibble says */
        *off = 0;
        if (n < 1)
            return 0;
        if (dlt == DLT_IPV4)
            return d[0] >> 4 == 4 ? 4 : 0;
        if (dlt == DLT_IPV6)
            return d[0] >> 4 == 6 ? 6 : 0;
        return d[0] >> 4 == 4 ? 4 : d[0] >> 4 == 6 ? 6 : 0;
    }
}

/* The IP packet's length (the header's, without link-layer padding) and
 * whether its header can be rewritten. A malformed header keeps every byte
 * the frame had. */
static size_t ip_length(int version, const uint8_t *p, size_t avail, bool *ok)
{
    *ok = false;
    if (version == 4) {
        if (avail < 20 || p[0] >> 4 != 4)
            return avail;
        size_t ihl = (size_t)(p[0] & 15) * 4, total = get16(p + 2);
        if (ihl < 20 || total < ihl || total > avail)
            return avail;
        *ok = true;
        return total;
    }
    if (avail < 40 || p[0] >> 4 != 6)
        return avail;
    size_t total = 40 + (size_t)get16(p + 4);
    if (get16(p + 4) == 0 && p[6] == 0) /* a jumbogram (length in hop-by-hop options) */
        return avail;
    if (total > avail)
        return avail;
    *ok = true;
    return total;
}

/* ------------------------------------------------------------ loading */

static int push_packet(struct sim_replay *rp, const uint8_t *p, size_t len)
{
    if (rp->n == rp->cap) {
        size_t cap = rp->cap ? 2 * rp->cap : 256;
        struct sim_replay_packet *np = realloc(rp->pkts, cap * sizeof *np);
        if (np == NULL)
            return -1;
        rp->pkts = np;
        struct entry *ne = realloc(rp->ents, cap * sizeof *ne);
        if (ne == NULL)
            return -1;
        rp->ents = ne;
        rp->cap = cap;
    }
    if (rp->bytes == NULL || rp->cap_bytes - rp->n_bytes < len) { /* never NULL once a packet is in */
        size_t cap = rp->cap_bytes ? 2 * rp->cap_bytes : 65536;
        while (cap - rp->n_bytes < len)
            cap *= 2;
        uint8_t *nb = realloc(rp->bytes, cap);
        if (nb == NULL)
            return -1;
        rp->bytes = nb;
        rp->cap_bytes = cap;
    }
    memset(&rp->pkts[rp->n], 0, sizeof rp->pkts[rp->n]);
    memset(&rp->ents[rp->n], 0, sizeof rp->ents[rp->n]);
    rp->ents[rp->n].off = rp->n_bytes;
    if (len)
        memcpy(rp->bytes + rp->n_bytes, p, len);
    rp->n_bytes += len;
    rp->pkts[rp->n].len = len;
    rp->n++;
    return 0;
}

static int read_frames(struct sim_replay *rp, pcap_t *pc, char *err, size_t errlen)
{
    int dlt = pcap_datalink(pc);
    if (!supported_dlt(dlt)) {
        const char *name = pcap_datalink_val_to_name(dlt);
        const char *desc = pcap_datalink_val_to_description(dlt);
        sim_errf(err, errlen,
                 "%s: link type %s (%s, %d) is not supported; replay reads Ethernet, raw IP "
                 "and Linux cooked (v1, v2) captures",
                 rp->name, name ? name : "unknown", desc ? desc : "no description", dlt);
        return -1;
    }
    struct pcap_pkthdr *h;
    const u_char *d;
    int64_t prev_us = 0;
    uint64_t read_bytes = 0;
    bool first = true;
    for (;;) {
        int rc = pcap_next_ex(pc, &h, &d);
        if (rc == PCAP_ERROR_BREAK || rc == 0)
            break;
        if (rc != 1) {
            sim_errf(err, errlen,
                     "%s: after record %" PRIu64 ": %s (the file is cut short or damaged)",
                     rp->name, rp->frames, pcap_geterr(pc));
            return -1;
        }
        rp->frames++;
        /* a file that grows while it is read stops where a file that size
         * would have been refused */
        read_bytes += 16 + (uint64_t)h->caplen;
        if (read_bytes > SIM_REPLAY_MAX_BYTES) {
            sim_errf(err, errlen, "%s: record %" PRIu64 ": cannot read capture: larger than %d MiB",
                     rp->name, rp->frames, SIM_REPLAY_MAX_BYTES >> 20);
            return -1;
        }
        if (h->caplen < h->len) {
            sim_errf(err, errlen,
                     "%s: record %" PRIu64 " was captured with %u of its %u bytes (a snap "
                     "length); replay needs whole packets: capture with -s 0",
                     rp->name, rp->frames, h->caplen, h->len);
            return -1;
        }
        size_t off = 0;
        int version = l3_of(dlt, d, h->caplen, &off);
        if (version == 0) {
            rp->skipped++;
            continue;
        }
        bool ok;
        size_t len = ip_length(version, d + off, h->caplen - off, &ok);
        if (push_packet(rp, d + off, len) != 0) {
            sim_errf(err, errlen, "%s: out of memory at record %" PRIu64, rp->name, rp->frames);
            return -1;
        }
        struct sim_replay_packet *p = &rp->pkts[rp->n - 1];
        p->frame = rp->frames;
        p->version = (uint8_t)version;
        rp->ents[rp->n - 1].header_ok = ok;
        /* seconds clamped to +-2^40 (35,000 years): the µs and their
         * differences stay far inside 64 bits whatever a file says */
        int64_t sec = (int64_t)h->ts.tv_sec, usec = (int64_t)h->ts.tv_usec;
        sec = sec > MAX_SEC ? MAX_SEC : sec < -MAX_SEC ? -MAX_SEC : sec;
        usec = usec > 1000000 ? 1000000 : usec < 0 ? 0 : usec;
        int64_t t = sec * 1000000 + usec;
        if (first) {
            rp->start_us = t;
            first = false;
        }
        /* a clock stepped back: keep time from going backwards */
        int64_t rel = t - rp->start_us;
        if (rel < prev_us)
            rel = prev_us;
        if (rel > (int64_t)MAX_SPAN_US) {
            sim_errf(err, errlen,
                     "%s: record %" PRIu64 " is %.1f days after the first IP packet; replay "
                     "simulates captures of up to a day: cut the capture (editcap -A/-B)",
                     rp->name, rp->frames, (double)rel / 86400e6);
            return -1;
        }
        prev_us = rel;
        p->capture_us = (tg_time)rel;
    }
    return 0;
}

/* ------------------------------------------------------------ direction */

static bool is_private(int version, const uint8_t *a)
{
    if (version == 4)
        return a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) ||
               (a[0] == 192 && a[1] == 168) || (a[0] == 100 && (a[1] & 0xc0) == 64) ||
               (a[0] == 169 && a[1] == 254);
    return (a[0] & 0xfe) == 0xfc || (a[0] == 0xfe && (a[1] & 0xc0) == 0x80);
}

/* Can this address be the laptop (a unicast host address)? */
static bool can_be_local(int version, const uint8_t *a)
{
    static const uint8_t zero[16];
    if (version == 4)
        return a[0] < 224 && memcmp(a, zero, 4) != 0 && a[3] != 255;
    return a[0] != 0xff && memcmp(a, zero, 16) != 0;
}

struct addr_table {
    struct addr_count *v;
    size_t cap, n;
};

static struct addr_count *addr_slot(struct addr_table *t, int version, const uint8_t *a)
{
    size_t alen = version == 4 ? 4 : 16;
    uint8_t key[16] = {0};
    memcpy(key, a, alen);
    size_t mask = t->cap - 1;
    size_t i = (size_t)(sim_fnv1a(SIM_FNV1A_BASIS, key, 16) ^ (uint64_t)version) & mask;
    for (;; i = (i + 1) & mask) {
        struct addr_count *s = &t->v[i];
        if (s->version == 0) {
            s->version = (uint8_t)version;
            memcpy(s->a, key, 16);
            s->first_src = UINT64_MAX;
            t->n++;
            return s;
        }
        if (s->version == version && memcmp(s->a, key, 16) == 0)
            return s;
    }
}

/* Is x a better laptop than y? */
static bool better(const struct addr_count *x, const struct addr_count *y)
{
    if (y == NULL)
        return true;
    if (x->count != y->count)
        return x->count > y->count;
    bool px = is_private(x->version, x->a), py = is_private(y->version, y->a);
    if (px != py)
        return px;
    return x->first_src < y->first_src;
}

static const uint8_t *src_of(const struct sim_replay_packet *p)
{
    return p->orig + (p->version == 4 ? 12 : 8);
}

static const uint8_t *dst_of(const struct sim_replay_packet *p)
{
    return p->orig + (p->version == 4 ? 16 : 24);
}

static int decide_directions(struct sim_replay *rp, enum sim_replay_mode mode)
{
    if (mode != SIM_REPLAY_AUTO) {
        for (size_t i = 0; i < rp->n; i++)
            rp->pkts[i].from = mode == SIM_REPLAY_UP ? SIM_SIDE_LAPTOP : SIM_SIDE_OUTSIDE;
        return 0;
    }
    struct addr_table t = {NULL, 64, 0};
    /* at most two addresses per packet: the table never needs more */
    while (t.cap < 4 * rp->n + 64)
        t.cap *= 2;
    t.v = calloc(t.cap, sizeof *t.v);
    if (t.v == NULL)
        return -1;
    for (size_t i = 0; i < rp->n; i++) {
        const struct sim_replay_packet *p = &rp->pkts[i];
        if (!rp->ents[i].header_ok)
            continue;
        struct addr_count *s = addr_slot(&t, p->version, src_of(p));
        s->count++;
        if (s->first_src == UINT64_MAX)
            s->first_src = i;
        struct addr_count *d = addr_slot(&t, p->version, dst_of(p));
        if (d != s)
            d->count++;
    }
    const struct addr_count *local[2] = {NULL, NULL}; /* IPv4, IPv6 */
    for (size_t i = 0; i < t.cap; i++) {
        const struct addr_count *s = &t.v[i];
        if (s->version == 0 || !can_be_local(s->version, s->a))
            continue;
        int k = s->version == 4 ? 0 : 1;
        if (better(s, local[k]))
            local[k] = s;
    }
    size_t pos = 0;
    rp->local[0] = '\0';
    for (int k = 0; k < 2; k++) {
        if (local[k] == NULL)
            continue;
        char txt[INET6_ADDRSTRLEN];
        inet_ntop(k == 0 ? AF_INET : AF_INET6, local[k]->a, txt, sizeof txt);
        int w = snprintf(rp->local + pos, sizeof rp->local - pos, "%s%s", pos ? ", " : "", txt);
        if (w > 0)
            pos += (size_t)w;
    }
    for (size_t i = 0; i < rp->n; i++) {
        struct sim_replay_packet *p = &rp->pkts[i];
        p->from = SIM_SIDE_LAPTOP;
        if (!rp->ents[i].header_ok)
            continue;
        const struct addr_count *l = local[p->version == 4 ? 0 : 1];
        size_t alen = p->version == 4 ? 4 : 16;
        if (l != NULL && memcmp(src_of(p), l->a, alen) == 0)
            p->from = SIM_SIDE_LAPTOP;
        else if (l != NULL && memcmp(dst_of(p), l->a, alen) == 0)
            p->from = SIM_SIDE_OUTSIDE;
        else
            p->from = is_private(p->version, src_of(p)) ? SIM_SIDE_LAPTOP : SIM_SIDE_OUTSIDE;
    }
    free(t.v);
    return 0;
}

/* ------------------------------------------------------------ load */

static int finish_load(struct sim_replay *rp, enum sim_replay_mode mode, char *err, size_t errlen)
{
    size_t n = rp->n ? rp->n : 1;
    rp->src_pkts = calloc(n, sizeof *rp->src_pkts);
    rp->arrivals = calloc(n, sizeof *rp->arrivals);
    rp->restored = malloc(rp->n_bytes ? rp->n_bytes : 1);
    if (rp->src_pkts == NULL || rp->arrivals == NULL || rp->restored == NULL) {
        sim_errf(err, errlen, "%s: out of memory", rp->name);
        return -1;
    }
    for (size_t i = 0; i < rp->n; i++)
        rp->pkts[i].orig = rp->bytes + rp->ents[i].off;
    if (decide_directions(rp, mode) != 0) {
        sim_errf(err, errlen, "%s: out of memory", rp->name);
        return -1;
    }
    for (size_t i = 0; i < rp->n; i++) {
        struct sim_replay_packet *p = &rp->pkts[i];
        struct entry *e = &rp->ents[i];
        if (!e->header_ok)
            e->rw = RW_NONE;
        else if (p->version == 6)
            e->rw = p->len + ENCAP_LEN <= 65535 ? RW_ENCAP : RW_NONE;
        else
            e->rw = p->from == SIM_SIDE_LAPTOP ? RW_SRC4 : RW_DST4;
        rp->src_pkts[i].at_us = p->capture_us;
        rp->src_pkts[i].from = p->from;
        rp->src_pkts[i].len = p->len + (e->rw == RW_ENCAP ? ENCAP_LEN : 0);
    }
    return 0;
}

int sim_replay_load_stream(FILE *f, const char *name, enum sim_replay_mode mode,
                           struct sim_replay **out, char *err, size_t errlen)
{
    *out = NULL;
    struct sim_replay *rp = calloc(1, sizeof *rp);
    if (rp == NULL || (rp->name = strdup(name)) == NULL) {
        free(rp);
        fclose(f);
        sim_errf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *pc = pcap_fopen_offline(f, perr);
    if (pc == NULL) {
        fclose(f);
        sim_errf(err, errlen, "%s: not a capture libpcap can read (%s)", name, perr);
        sim_replay_free(rp);
        return -1;
    }
    int rc = read_frames(rp, pc, err, errlen);
    pcap_close(pc); /* closes f */
    if (rc == 0)
        rc = finish_load(rp, mode, err, errlen);
    if (rc != 0) {
        sim_replay_free(rp);
        return -1;
    }
    *out = rp;
    return 0;
}

int sim_replay_load(const char *path, enum sim_replay_mode mode, struct sim_replay **out,
                    char *err, size_t errlen)
{
    *out = NULL;
    char why[128];
    int64_t size;
    FILE *f = sim_infile_open(path, SIM_REPLAY_MAX_BYTES, &size, why, sizeof why);
    if (f == NULL) {
        sim_errf(err, errlen, "%s: cannot read capture: %s", path, why);
        return -1;
    }
    return sim_replay_load_stream(f, path, mode, out, err, errlen);
}

void sim_replay_free(struct sim_replay *rp)
{
    if (rp == NULL)
        return;
    free(rp->name);
    free(rp->pkts);
    free(rp->ents);
    free(rp->src_pkts);
    free(rp->bytes);
    free(rp->tun);
    free(rp->restored);
    free(rp->buckets);
    free(rp->arrivals);
    free(rp);
}

size_t sim_replay_count(const struct sim_replay *rp)
{
    return rp->n;
}

const struct sim_replay_packet *sim_replay_packet(const struct sim_replay *rp, size_t i)
{
    return &rp->pkts[i];
}

const char *sim_replay_local(const struct sim_replay *rp)
{
    return rp->local;
}

/* ------------------------------------------------------------ rewriting */

/* An IPv4 address at `at` (12: source, 16: destination) changes from `from`
 * to `to`: write it and update the header and TCP/UDP checksums. Its own
 * inverse with from and to swapped (see the top of the file). */
static void swap_addr4(uint8_t *p, size_t len, size_t at, const uint8_t from[4],
                       const uint8_t to[4])
{
    memcpy(p + at, to, 4);
    uint16_t c = get16(p + 10);
    if (c != 0xffff)
        put16(p + 10, tg_ip_csum_update(c, from, to, 4));
    size_t l4 = (size_t)(p[0] & 15) * 4;
    if ((get16(p + 6) & 0x1fff) != 0)
        return; /* a later fragment: no transport header */
    if (p[9] == TG_PROTO_TCP && l4 + 18 <= len) {
        c = get16(p + l4 + 16);
        if (c != 0xffff)
            put16(p + l4 + 16, tg_ip_csum_update(c, from, to, 4));
    } else if (p[9] == TG_PROTO_UDP && l4 + 8 <= len) {
        c = get16(p + l4 + 6);
        if (c != 0) { /* 0: no checksum */
            c = tg_ip_csum_update(c, from, to, 4);
            put16(p + l4 + 6, c ? c : 0xffff);
        }
    }
}

/* The tunnel form of packet i into out (src_pkts[i].len bytes). */
static void to_tunnel(const struct sim_replay *rp, size_t i, uint8_t *out)
{
    const struct sim_replay_packet *p = &rp->pkts[i];
    const struct entry *e = &rp->ents[i];
    const uint8_t *tun = rp->tunnel_addr;
    switch (e->rw) {
    case RW_NONE:
        memcpy(out, p->orig, p->len);
        break;
    case RW_SRC4:
        memcpy(out, p->orig, p->len);
        swap_addr4(out, p->len, 12, p->orig + 12, tun);
        break;
    case RW_DST4:
        memcpy(out, p->orig, p->len);
        swap_addr4(out, p->len, 16, p->orig + 16, tun);
        break;
    case RW_ENCAP: {
        bool up = p->from == SIM_SIDE_LAPTOP;
        uint8_t *h = out;
        memset(h, 0, ENCAP_LEN);
        h[0] = 0x45;
        put16(h + 2, (uint16_t)(p->len + ENCAP_LEN));
        put16(h + 4, (uint16_t)i);
        h[6] = 0x40; /* DF */
        h[8] = 64;
        h[9] = IPPROTO_6IN4;
        memcpy(h + 12, up ? tun : relay_addr, 4);
        memcpy(h + 16, up ? relay_addr : tun, 4);
        put16(h + 10, tg_ip_fold(tg_ip_sum(h, ENCAP_LEN, 0)));
        memcpy(out + ENCAP_LEN, p->orig, p->len);
        break;
    }
    }
}

/* Undo to_tunnel on a delivered packet d[0..dlen) into out (p->len bytes).
 * Uses only the delivered bytes and the original addresses. Returns false
 * when the packet cannot be the tunnel form of packet i. */
static bool from_tunnel(const struct sim_replay *rp, size_t i, const uint8_t *d, size_t dlen,
                        uint8_t *out)
{
    const struct sim_replay_packet *p = &rp->pkts[i];
    const struct entry *e = &rp->ents[i];
    switch (e->rw) {
    case RW_NONE:
        if (dlen != p->len)
            return false;
        memcpy(out, d, dlen);
        return true;
    case RW_SRC4:
    case RW_DST4: {
        size_t at = e->rw == RW_SRC4 ? 12 : 16;
        if (dlen != p->len || dlen < 20)
            return false;
        uint8_t tun[4];
        memcpy(tun, d + at, 4);
        memcpy(out, d, dlen);
        swap_addr4(out, dlen, at, tun, p->orig + at);
        return true;
    }
    case RW_ENCAP:
        if (dlen != p->len + ENCAP_LEN || d[0] != 0x45 || d[9] != IPPROTO_6IN4)
            return false;
        memcpy(out, d + ENCAP_LEN, p->len);
        return true;
    }
    return false;
}

/* Build every tunnel form and the hash table over them. */
static int build_tunnel(struct sim_replay *rp, const uint8_t tunnel_addr[4])
{
    memcpy(rp->tunnel_addr, tunnel_addr, 4);
    size_t total = 0;
    for (size_t i = 0; i < rp->n; i++)
        total += rp->src_pkts[i].len;
    size_t nb = 64;
    while (nb < 2 * rp->n)
        nb *= 2;
    free(rp->tun);
    free(rp->buckets);
    rp->tun = malloc(total ? total : 1);
    rp->buckets = malloc(nb * sizeof *rp->buckets);
    if (rp->tun == NULL || rp->buckets == NULL)
        return -1;
    rp->n_buckets = nb;
    for (size_t k = 0; k < nb; k++)
        rp->buckets[k] = UINT32_MAX;
    size_t off = 0;
    for (size_t i = 0; i < rp->n; i++) {
        to_tunnel(rp, i, rp->tun + off);
        rp->src_pkts[i].data = rp->tun + off;
        off += rp->src_pkts[i].len;
    }
    /* chains in packet order: push from the last packet to the first */
    for (size_t i = rp->n; i-- > 0;) {
        size_t b = (size_t)sim_fnv1a(SIM_FNV1A_BASIS, rp->src_pkts[i].data, rp->src_pkts[i].len) &
                   (nb - 1);
        rp->ents[i].next = rp->buckets[b];
        rp->buckets[b] = (uint32_t)i;
    }
    return 0;
}

/* ------------------------------------------------------------ the run hook */

static void on_session_up(void *ctx, const uint8_t tunnel_addr[4], tg_time now)
{
    struct sim_replay *rp = ctx;
    rp->session_up = now;
    if (build_tunnel(rp, tunnel_addr) != 0) {
        /* without tunnel forms nothing can be injected: inject nothing */
        rp->src.n = 0;
        rp->oom = true;
    }
}

static void on_sent(void *ctx, size_t i, int rc, uint32_t uplinks, tg_time now)
{
    struct sim_replay *rp = ctx;
    rp->pkts[i].sent_us = now;
    rp->pkts[i].rc = rc;
    rp->pkts[i].uplinks = uplinks;
}

static void on_deliver(void *ctx, enum sim_side at, const uint8_t *pkt, size_t len, tg_time now)
{
    struct sim_replay *rp = ctx;
    size_t i = UINT32_MAX;
    if (rp->buckets != NULL) {
        uint32_t k =
            rp->buckets[(size_t)sim_fnv1a(SIM_FNV1A_BASIS, pkt, len) & (rp->n_buckets - 1)];
        for (; k != UINT32_MAX; k = rp->ents[k].next) {
            const struct sim_replay_packet *p = &rp->pkts[k];
            const struct sim_replay_pkt *s = &rp->src_pkts[k];
            if (p->from != at && p->sent_us != TG_TIME_NEVER &&
                p->delivered_us == TG_TIME_NEVER && s->len == len &&
                memcmp(s->data, pkt, len) == 0) {
                i = k;
                break;
            }
        }
    }
    if (i == UINT32_MAX) {
        rp->unmatched++;
        return;
    }
    struct sim_replay_packet *p = &rp->pkts[i];
    uint8_t *out = rp->restored + rp->ents[i].off;
    p->delivered_us = now;
    p->corrupt = !from_tunnel(rp, i, pkt, len, out) || memcmp(out, p->orig, p->len) != 0;
    p->restored = out;
    int dir = p->from == SIM_SIDE_LAPTOP ? 0 : 1;
    if ((int64_t)i < rp->max_delivered[dir])
        p->reordered = true;
    else
        rp->max_delivered[dir] = (int64_t)i;
    rp->arrivals[rp->n_arrivals++] = i;
}

const struct sim_replay_src *sim_replay_source(struct sim_replay *rp, tg_time drain_us)
{
    for (size_t i = 0; i < rp->n; i++) {
        struct sim_replay_packet *p = &rp->pkts[i];
        p->sent_us = p->delivered_us = TG_TIME_NEVER;
        p->rc = TG_OK;
        p->uplinks = 0;
        p->reordered = p->corrupt = false;
        p->restored = NULL;
    }
    rp->n_arrivals = 0;
    rp->unmatched = 0;
    rp->oom = false;
    rp->max_delivered[0] = rp->max_delivered[1] = -1;
    rp->session_up = TG_TIME_NEVER;
    rp->src = (struct sim_replay_src){
        .pkts = rp->src_pkts,
        .n = rp->n,
        .drain_us = drain_us,
        .ctx = rp,
        .session_up = on_session_up,
        .sent = on_sent,
        .deliver = on_deliver,
    };
    return &rp->src;
}

/* ------------------------------------------------------------ results */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Quantile q of sorted v[0..n) by linear interpolation between ranks. */
static double quantile(const uint64_t *v, size_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    size_t lo = (size_t)pos;
    double frac = pos - (double)lo;
    if (lo + 1 >= n)
        return (double)v[n - 1];
    return (double)v[lo] + frac * ((double)v[lo + 1] - (double)v[lo]);
}

void sim_replay_stats(const struct sim_replay *rp, struct sim_replay_stats *st)
{
    memset(st, 0, sizeof *st);
    st->frames = rp->frames;
    st->skipped = rp->skipped;
    st->injected = rp->n;
    st->unmatched = rp->unmatched;
    st->oom = rp->oom;
    st->session_up_us = rp->session_up;
    uint64_t *owd = malloc((rp->n ? rp->n : 1) * sizeof *owd);
    size_t n_owd = 0;
    for (size_t i = 0; i < rp->n; i++) {
        const struct sim_replay_packet *p = &rp->pkts[i];
        st->ipv6 += p->version == 6;
        if (p->from == SIM_SIDE_LAPTOP)
            st->up++;
        else
            st->down++;
        if (p->delivered_us == TG_TIME_NEVER) {
            st->lost++;
            st->too_big += rp->src_pkts[i].len > TUNNEL_MAX;
            continue;
        }
        st->delivered++;
        st->reordered += p->reordered;
        st->corrupt += p->corrupt;
        if (owd != NULL)
            owd[n_owd++] = p->delivered_us - p->sent_us;
    }
    if (owd != NULL)
        qsort(owd, n_owd, sizeof *owd, cmp_u64);
    st->owd_p50_us = owd ? quantile(owd, n_owd, 0.50) : NAN;
    st->owd_p99_us = owd ? quantile(owd, n_owd, 0.99) : NAN;
    free(owd);
}

int sim_replay_write_pcap(const struct sim_replay *rp, const char *path, char *err,
                          size_t errlen)
{
    pcap_t *pd = pcap_open_dead(DLT_RAW, 65535);
    if (pd == NULL) {
        sim_errf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    pcap_dumper_t *dump = pcap_dump_open(pd, path);
    if (dump == NULL) {
        sim_errf(err, errlen, "%s: cannot write (%s)", path, pcap_geterr(pd));
        pcap_close(pd);
        return -1;
    }
    for (size_t k = 0; k < rp->n_arrivals; k++) {
        const struct sim_replay_packet *p = &rp->pkts[rp->arrivals[k]];
        int64_t t = rp->start_us + (int64_t)(p->delivered_us - rp->session_up);
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof h);
        h.ts.tv_sec = (time_t)(t / 1000000);
        h.ts.tv_usec = (suseconds_t)(t % 1000000);
        h.caplen = h.len = (bpf_u_int32)p->len;
        pcap_dump((u_char *)dump, &h, p->restored);
    }
    int rc = pcap_dump_flush(dump);
    pcap_dump_close(dump);
    pcap_close(pd);
    if (rc != 0) {
        sim_errf(err, errlen, "%s: write error", path);
        return -1;
    }
    return 0;
}

/* Which checksums of an IPv4 packet (header valid) verify: bit 0 the
 * header's, bit 1 the TCP or UDP one (whole datagrams only); a field of
 * 0xFFFF that the update leaves alone (see the top) does not count. */
static unsigned csums_valid(const uint8_t *p, size_t len)
{
    unsigned ok = 0;
    size_t ihl = (size_t)(p[0] & 15) * 4;
    if (get16(p + 10) != 0xffff && tg_ip_fold(tg_ip_sum(p, ihl, 0)) == 0)
        ok |= 1;
    size_t l4 = len - ihl;
    uint8_t proto = p[9];
    if ((get16(p + 6) & 0x3fff) != 0 || (proto != TG_PROTO_TCP && proto != TG_PROTO_UDP))
        return ok;
    if (proto == TG_PROTO_UDP && (l4 < 8 || get16(p + ihl + 6) == 0))
        return ok;
    if (proto == TG_PROTO_TCP && (l4 < 20 || get16(p + ihl + 16) == 0xffff))
        return ok;
    uint8_t ph[12];
    memcpy(ph, p + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, (uint16_t)l4);
    if (tg_ip_fold(tg_ip_sum(p + ihl, l4, tg_ip_sum(ph, sizeof ph, 0))) == 0)
        ok |= 2;
    return ok;
}

bool sim_replay_selfcheck(struct sim_replay *rp, const uint8_t tunnel_addr[4])
{
    (void)sim_replay_source(rp, 0);
    if (build_tunnel(rp, tunnel_addr) != 0)
        return true; /* out of memory: nothing to check */
    bool ok = true;
    for (size_t i = 0; i < rp->n; i++) {
        const struct sim_replay_packet *p = &rp->pkts[i];
        uint8_t *out = rp->restored + rp->ents[i].off;
        const struct sim_replay_pkt *s = &rp->src_pkts[i];
        if (!from_tunnel(rp, i, s->data, s->len, out) || memcmp(out, p->orig, p->len) != 0)
            ok = false;
        /* checksums that verified still verify in the tunnel */
        enum rewrite rw = rp->ents[i].rw;
        if ((rw == RW_SRC4 || rw == RW_DST4) &&
            (csums_valid(p->orig, p->len) & ~csums_valid(s->data, s->len)) != 0)
            ok = false;
    }
    return ok;
}
