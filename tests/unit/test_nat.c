/*
 * Client NAT.
 *
 * Checksums: thousands of random TCP, UDP, ICMP and ICMPv6 flows over IPv4
 * and IPv6 (random addresses, ports, payload lengths and bytes), each
 * translated out and its reply translated back in; after each step the
 * packet must equal, byte for byte, the packet built from scratch with the
 * translated fields and freshly computed checksums. Plus the UDP corner
 * cases: IPv4 checksum 0 ("none") stays 0, and a checksum that comes out 0
 * is sent as 0xFFFF in both directions and on both versions.
 * Behaviour: tables of small scenarios (mapping reuse, distinct ports, the
 * expiry boundary, refresh in both directions, table and port exhaustion,
 * what passes untouched, fragments, determinism), then a long random run
 * against a deliberately naive model (a flat list of mappings with linear
 * search and the documented expiry rule).
 *
 * Addresses are from the documentation ranges; the rules about multicast,
 * broadcast, link-local and unspecified addresses are tested with
 * 233.252.0.0/24 and ff0e::db8:0:0/96 (RFC 6676 multicast documentation),
 * 255.255.255.255, fe80::db8:1, 0.0.0.0 and ::, in memory only.
 *
 *   test_nat [seed]   (the seed is printed; pass it back to replay a run)
 */
#include "check.h"
#include "core/ip.h"
#include "core/nat.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "testrng.h"

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* ------------------------------------------------------- packet builder */

static const uint8_t TUN4[4] = {198, 18, 0, 2};
static const uint8_t TUN6[16] = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

#define ICMP_ECHO_REQUEST(v) ((uint8_t)((v) == 4 ? 8 : 128))
#define ICMP_ECHO_REPLY(v)   ((uint8_t)((v) == 4 ? 0 : 129))

struct pk {
    uint8_t version;
    uint8_t proto; /* TG_PROTO_* */
    uint8_t src[16], dst[16];
    uint16_t sport; /* ICMP: the identifier */
    uint16_t dport; /* ICMP: unused */
    uint8_t icmp_type;
    bool udp_no_csum; /* IPv4 UDP sent with checksum 0 */
    uint16_t ip_id;
    size_t payload_len;
    uint8_t payload[600];
};

static bool pk_icmp(const struct pk *p)
{
    return p->proto == TG_PROTO_ICMP || p->proto == TG_PROTO_ICMPV6;
}

static size_t l4_header_len(uint8_t proto)
{
    return proto == TG_PROTO_TCP ? 20 : 8;
}

/* Sum of the pseudo-header (RFC 768 / RFC 8200 §8.1) for l4_len bytes. */
static uint32_t pseudo_sum(uint8_t version, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                           size_t l4_len)
{
    uint8_t ph[40];
    size_t alen = version == 4 ? 4 : 16;
    memcpy(ph, src, alen);
    memcpy(ph + alen, dst, alen);
    if (version == 4) {
        ph[8] = 0;
        ph[9] = proto;
        put16(ph + 10, (uint16_t)l4_len);
        return tg_ip_sum(ph, 12, 0);
    }
    put16(ph + 32, 0);
    put16(ph + 34, (uint16_t)l4_len);
    ph[36] = ph[37] = ph[38] = 0;
    ph[39] = proto;
    return tg_ip_sum(ph, 40, 0);
}

/* The checksum the transport header at l4 should carry, from scratch (the
 * field itself is skipped). */
static uint16_t l4_csum(uint8_t version, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                        const uint8_t *l4, size_t l4_len)
{
    size_t coff = proto == TG_PROTO_TCP ? 16 : proto == TG_PROTO_UDP ? 6 : 2;
    uint8_t copy[1024];
    memcpy(copy, l4, l4_len);
    put16(copy + coff, 0);
    uint32_t s = proto == TG_PROTO_ICMP ? 0 : pseudo_sum(version, src, dst, proto, l4_len);
    uint16_t c = tg_ip_fold(tg_ip_sum(copy, l4_len, s));
    if (proto == TG_PROTO_UDP && c == 0)
        c = 0xffff;
    return c;
}

static size_t build(uint8_t *buf, const struct pk *p)
{
    size_t hl = p->version == 4 ? 20 : 40;
    size_t l4_len = l4_header_len(p->proto) + p->payload_len;
    uint8_t *l4 = buf + hl;
    memset(buf, 0, hl + l4_len);

    if (p->version == 4) {
        buf[0] = 0x45;
        put16(buf + 2, (uint16_t)(hl + l4_len));
        put16(buf + 4, p->ip_id);
        buf[8] = 64;
        buf[9] = p->proto;
        memcpy(buf + 12, p->src, 4);
        memcpy(buf + 16, p->dst, 4);
        put16(buf + 10, tg_ip_fold(tg_ip_sum(buf, 20, 0)));
    } else {
        buf[0] = 0x60;
        buf[2] = (uint8_t)(p->ip_id >> 8); /* flow label, for variety */
        buf[3] = (uint8_t)p->ip_id;
        put16(buf + 4, (uint16_t)l4_len);
        buf[6] = p->proto;
        buf[7] = 64;
        memcpy(buf + 8, p->src, 16);
        memcpy(buf + 24, p->dst, 16);
    }

    size_t coff;
    if (p->proto == TG_PROTO_TCP) {
        put16(l4, p->sport);
        put16(l4 + 2, p->dport);
        l4[4] = 0x11, l4[5] = 0x22, l4[6] = 0x33, l4[7] = 0x44;
        l4[12] = 0x50;
        l4[13] = 0x18; /* PSH ACK */
        put16(l4 + 14, 0xfaf0);
        coff = 16;
    } else if (p->proto == TG_PROTO_UDP) {
        put16(l4, p->sport);
        put16(l4 + 2, p->dport);
        put16(l4 + 4, (uint16_t)l4_len);
        coff = 6;
    } else {
        l4[0] = p->icmp_type;
        put16(l4 + 4, p->sport);
        put16(l4 + 6, 0x0007);
        coff = 2;
    }
    memcpy(l4 + l4_header_len(p->proto), p->payload, p->payload_len);
    if (!(p->proto == TG_PROTO_UDP && p->version == 4 && p->udp_no_csum))
        put16(l4 + coff, l4_csum(p->version, p->src, p->dst, p->proto, l4, l4_len));
    return hl + l4_len;
}

/* Every checksum of a built-layout packet recomputed from scratch. */
static bool csums_ok(const uint8_t *pkt)
{
    bool v4 = (pkt[0] >> 4) == 4;
    size_t hl = v4 ? 20 : 40;
    size_t total = v4 ? get16(pkt + 2) : 40u + get16(pkt + 4);
    uint8_t proto = pkt[v4 ? 9 : 6];
    const uint8_t *src = pkt + (v4 ? 12 : 8), *dst = pkt + (v4 ? 16 : 24);
    const uint8_t *l4 = pkt + hl;
    size_t coff = proto == TG_PROTO_TCP ? 16 : proto == TG_PROTO_UDP ? 6 : 2;
    if (v4 && tg_ip_sum(pkt, 20, 0) != 0xffff)
        return false;
    if (v4 && proto == TG_PROTO_UDP && get16(l4 + coff) == 0)
        return true;
    return get16(l4 + coff) == l4_csum(v4 ? 4 : 6, src, dst, proto, l4, total - hl);
}

/* Offsets of a built packet's fields. */
static size_t l4_of(const uint8_t *pkt)
{
    return (pkt[0] >> 4) == 4 ? 20 : 40;
}

static uint16_t sport_of(const uint8_t *pkt, uint8_t proto)
{
    bool icmp = proto == TG_PROTO_ICMP || proto == TG_PROTO_ICMPV6;
    return get16(pkt + l4_of(pkt) + (icmp ? 4 : 0));
}

static uint16_t dport_of(const uint8_t *pkt, uint8_t proto)
{
    bool icmp = proto == TG_PROTO_ICMP || proto == TG_PROTO_ICMPV6;
    return get16(pkt + l4_of(pkt) + (icmp ? 4 : 2));
}

static uint16_t csum_field(const uint8_t *pkt, uint8_t proto)
{
    size_t coff = proto == TG_PROTO_TCP ? 16 : proto == TG_PROTO_UDP ? 6 : 2;
    return get16(pkt + l4_of(pkt) + coff);
}

/* A flow from a foreign source; the index makes addresses and ports unique. */
static void random_flow(struct pk *p, uint8_t version, uint8_t proto, uint32_t index)
{
    memset(p, 0, sizeof *p);
    p->version = version;
    p->proto = proto;
    if (version == 4) {
        static const uint8_t src_nets[][3] = {{192, 0, 2}, {198, 51, 100}};
        memcpy(p->src, src_nets[rnd_below(2)], 3);
        p->src[3] = (uint8_t)(1 + rnd_below(254));
        memcpy(p->dst, (const uint8_t[]){203, 0, 113, 0}, 4);
        p->dst[3] = (uint8_t)(1 + rnd_below(254));
    } else {
        memcpy(p->src, (const uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 1}, 6);
        rnd_bytes(p->src + 8, 8);
        memcpy(p->dst, (const uint8_t[]){0x20, 0x01, 0x0d, 0xb8, 0, 2}, 6);
        rnd_bytes(p->dst + 8, 8);
    }
    p->sport = (uint16_t)(1024 + index);
    p->dport = (uint16_t)(1 + rnd_below(65535));
    if (pk_icmp(p)) {
        p->sport = (uint16_t)index;
        p->dport = 0;
        p->icmp_type = ICMP_ECHO_REQUEST(version);
    }
    p->ip_id = (uint16_t)rnd();
    p->payload_len = rnd_below(4) == 0 ? rnd_below(8) : rnd_below(400);
    rnd_bytes(p->payload, p->payload_len);
}

/* What the flow looks like after outbound translation with `mapped`. */
static struct pk translated(const struct pk *p, uint16_t mapped)
{
    struct pk t = *p;
    memcpy(t.src, p->version == 4 ? TUN4 : TUN6, p->version == 4 ? 4 : 16);
    t.sport = mapped;
    return t;
}

/* A reply from the flow's remote to the tunnel address, port `mapped`. */
static void reply_to(struct pk *r, const struct pk *p, uint16_t mapped)
{
    *r = *p;
    memset(r->src, 0, 16);
    memset(r->dst, 0, 16);
    memcpy(r->src, p->dst, 16);
    memcpy(r->dst, p->version == 4 ? TUN4 : TUN6, p->version == 4 ? 4 : 16);
    r->sport = pk_icmp(p) ? mapped : p->dport;
    r->dport = pk_icmp(p) ? 0 : mapped;
    if (pk_icmp(p))
        r->icmp_type = ICMP_ECHO_REPLY(p->version);
    r->ip_id = (uint16_t)rnd();
    r->payload_len = rnd_below(300);
    rnd_bytes(r->payload, r->payload_len);
    r->udp_no_csum = p->version == 4 && rnd_below(4) == 0;
}

/* The reply as the original socket must see it. */
static struct pk untranslated_reply(const struct pk *r, const struct pk *p)
{
    struct pk u = *r;
    memcpy(u.dst, p->src, 16);
    if (pk_icmp(p))
        u.sport = p->sport;
    else
        u.dport = p->sport;
    return u;
}

static struct tg_nat_config base_config(void)
{
    struct tg_nat_config c;
    tg_nat_config_default(&c);
    memcpy(c.tun_addr4, TUN4, 4);
    c.has_v4 = true;
    memcpy(c.tun_addr6, TUN6, 16);
    c.has_v6 = true;
    return c;
}

static struct tg_nat *new_nat(const struct tg_nat_config *c)
{
    struct tg_nat *n = NULL;
    int err = tg_nat_new(c, NULL, &n);
    CHECK_EQ(err, TG_OK);
    if (n == NULL) {
        fprintf(stderr, "tg_nat_new failed: %d\n", err);
        exit(1);
    }
    return n;
}

/* Send p outbound; return the mapped port (or identifier) found in the
 * packet, after checking it against the packet built from scratch. */
static uint16_t out_ok(struct tg_nat *n, const struct pk *p, tg_time now, int line)
{
    uint8_t pkt[1024], want[1024];
    size_t len = build(pkt, p);
    int err = tg_nat_outbound(n, pkt, len, now);
    if (err != TG_OK)
        fprintf(stderr, "line %d: outbound returned %d\n", line, err);
    CHECK_EQ(err, TG_OK);
    uint16_t mapped = sport_of(pkt, p->proto);
    struct pk t = translated(p, mapped);
    size_t wlen = build(want, &t);
    CHECK_EQ(wlen, len);
    if (memcmp(pkt, want, len) != 0)
        fprintf(stderr, "line %d: outbound packet differs from the one built from scratch\n", line);
    CHECK_MEM(pkt, want, len);
    CHECK(csums_ok(pkt));
    return mapped;
}

/* Send the reply to p (mapped) inbound and check it comes back translated. */
static void in_ok(struct tg_nat *n, const struct pk *p, uint16_t mapped, tg_time now, int line)
{
    struct pk r;
    uint8_t pkt[1024], want[1024];
    reply_to(&r, p, mapped);
    size_t len = build(pkt, &r);
    int err = tg_nat_inbound(n, pkt, len, now);
    CHECK_EQ(err, TG_OK);
    struct pk u = untranslated_reply(&r, p);
    build(want, &u);
    if (memcmp(pkt, want, len) != 0)
        fprintf(stderr, "line %d: inbound packet differs from the one built from scratch\n", line);
    CHECK_MEM(pkt, want, len);
    CHECK(csums_ok(pkt));
    /* the original packet's address and port, byte for byte */
    size_t alen = p->version == 4 ? 4 : 16;
    CHECK_MEM(pkt + (p->version == 4 ? 16 : 24), p->src, alen);
    CHECK_EQ(dport_of(pkt, p->proto), p->sport);
}

/* Outbound or inbound packet that must come back unchanged with `want_err`. */
static void untouched(struct tg_nat *n, bool outbound, const struct pk *p, tg_time now,
                      int want_err, int line)
{
    uint8_t pkt[1024], orig[1024];
    size_t len = build(pkt, p);
    memcpy(orig, pkt, len);
    int err = outbound ? tg_nat_outbound(n, pkt, len, now) : tg_nat_inbound(n, pkt, len, now);
    if (err != want_err || memcmp(pkt, orig, len) != 0)
        fprintf(stderr, "line %d: expected an untouched packet and %d, got %d\n", line, want_err,
                err);
    CHECK_EQ(err, want_err);
    CHECK_MEM(pkt, orig, len);
}

#define OUT_OK(n, p, now)      out_ok(n, p, now, __LINE__)
#define IN_OK(n, p, m, now)    in_ok(n, p, m, now, __LINE__)
#define OUT_SAME(n, p, now, e) untouched(n, true, p, now, e, __LINE__)
#define IN_SAME(n, p, now, e)  untouched(n, false, p, now, e, __LINE__)

/* A reply to p on port `mapped` as a struct, for hand-made variations. */
static struct pk reply_pk(const struct pk *p, uint16_t mapped)
{
    struct pk r;
    reply_to(&r, p, mapped);
    return r;
}

/* ------------------------------------------------- randomised checksums */

static void test_random_round_trips(void)
{
    struct tg_nat_config c = base_config();
    c.capacity = 16384;
    struct tg_nat *n = new_nat(&c);
    static bool used[2][3][65536];
    static struct pk flows[8000];
    static uint16_t mapped[8000];
    enum { N = 8000 };
    int no_csum = 0;
    tg_time now = 1000;

    for (uint32_t i = 0; i < N; i++) {
        uint8_t version = rnd_below(2) ? 4 : 6;
        int kind = (int)rnd_below(3);
        uint8_t proto = kind == 0   ? TG_PROTO_TCP
                        : kind == 1 ? TG_PROTO_UDP
                                    : (version == 4 ? TG_PROTO_ICMP : TG_PROTO_ICMPV6);
        struct pk *p = &flows[i];
        random_flow(p, version, proto, i);
        if (proto == TG_PROTO_UDP && version == 4 && rnd_below(4) == 0) {
            p->udp_no_csum = true;
            no_csum++;
        }
        now += rnd_below(1000);
        uint16_t m = OUT_OK(n, p, now);
        CHECK(m >= c.port_min && m <= c.port_max);
        CHECK(!used[version == 6][kind][m]); /* distinct flows, distinct ports */
        used[version == 6][kind][m] = true;
        mapped[i] = m;
        IN_OK(n, p, m, now + 1);

        /* an earlier flow again, with another payload: the same mapping */
        if (i % 4 == 3) {
            struct pk *q = &flows[rnd_below(i + 1)];
            q->payload_len = rnd_below(300);
            rnd_bytes(q->payload, q->payload_len);
            q->ip_id = (uint16_t)rnd();
            CHECK_EQ(OUT_OK(n, q, now + 2), mapped[q - flows]);
            IN_OK(n, q, mapped[q - flows], now + 3);
        }
    }
    const struct tg_nat_stats *s = tg_nat_stats(n);
    CHECK_EQ(s->created, N);
    CHECK_EQ(s->active, N);
    CHECK_EQ(s->translated_out, N + N / 4);
    CHECK_EQ(s->translated_in, N + N / 4);
    CHECK_EQ(s->table_full, 0);
    CHECK(no_csum > 200);
    tg_nat_free(n);
}

/* Payload word that makes the UDP checksum of `p` (as built) come out 0.
 * The payload's last two bytes are the free word; payload_len is even. */
static void steer_udp_zero(struct pk *p)
{
    uint8_t buf[1024];
    put16(p->payload + p->payload_len - 2, 0);
    size_t len = build(buf, p);
    size_t hl = l4_of(buf);
    put16(buf + hl + 6, 0);
    uint32_t s = tg_ip_sum(buf + hl, len - hl,
                           pseudo_sum(p->version, p->src, p->dst, TG_PROTO_UDP, len - hl));
    put16(p->payload + p->payload_len - 2, (uint16_t)(0xffff - s));
}

static void test_udp_zero(void)
{
    for (uint8_t version = 4; version <= 6; version += 2) {
        struct tg_nat_config c = base_config();
        struct tg_nat *n = new_nat(&c);
        for (uint32_t i = 0; i < 200; i++) {
            struct pk p;
            random_flow(&p, version, TG_PROTO_UDP, i);
            p.payload_len = 2 + 2 * rnd_below(50);
            rnd_bytes(p.payload, p.payload_len);
            uint16_t m = OUT_OK(n, &p, 10);

            /* (a) after translation the checksum computes to 0: sent as 0xFFFF */
            struct pk t = translated(&p, m);
            steer_udp_zero(&t);
            memcpy(p.payload, t.payload, p.payload_len);
            uint8_t pkt[1024];
            CHECK_EQ(OUT_OK(n, &p, 11), m);
            build(pkt, &t);
            CHECK_EQ(csum_field(pkt, TG_PROTO_UDP), 0xffff);

            /* (b) the original computes to 0 (carries 0xFFFF) */
            steer_udp_zero(&p);
            build(pkt, &p);
            CHECK_EQ(csum_field(pkt, TG_PROTO_UDP), 0xffff);
            CHECK_EQ(OUT_OK(n, &p, 12), m);

            /* (c) and (d): the same for replies translated back */
            struct pk r = reply_pk(&p, m);
            r.udp_no_csum = false;
            r.payload_len = 2 + 2 * rnd_below(50);
            struct pk u = untranslated_reply(&r, &p);
            u.payload_len = r.payload_len;
            steer_udp_zero(&u);
            memcpy(r.payload, u.payload, r.payload_len);
            uint8_t got[1024], want[1024];
            size_t len = build(got, &r);
            CHECK_EQ(tg_nat_inbound(n, got, len, 13), TG_OK);
            build(want, &u);
            CHECK_EQ(csum_field(want, TG_PROTO_UDP), 0xffff);
            CHECK_MEM(got, want, len);

            steer_udp_zero(&r);
            len = build(got, &r);
            CHECK_EQ(csum_field(got, TG_PROTO_UDP), 0xffff);
            CHECK_EQ(tg_nat_inbound(n, got, len, 14), TG_OK);
            u = untranslated_reply(&r, &p);
            build(want, &u);
            CHECK_MEM(got, want, len);
            CHECK(csums_ok(got));

            /* (e) IPv4 "no checksum" stays 0 both ways */
            if (version == 4) {
                p.udp_no_csum = true;
                build(pkt, &p);
                CHECK_EQ(csum_field(pkt, TG_PROTO_UDP), 0);
                CHECK_EQ(OUT_OK(n, &p, 15), m);
                r.udp_no_csum = true;
                len = build(got, &r);
                CHECK_EQ(tg_nat_inbound(n, got, len, 16), TG_OK);
                CHECK_EQ(csum_field(got, TG_PROTO_UDP), 0);
                u = untranslated_reply(&r, &p);
                build(want, &u);
                CHECK_MEM(got, want, len);
            }
        }
        tg_nat_free(n);
    }
}

/* ------------------------------------------------------------ behaviour */

static void test_reuse_and_distinct(void)
{
    struct tg_nat_config c = base_config();
    struct tg_nat *n = new_nat(&c);
    for (uint8_t version = 4; version <= 6; version += 2) {
        for (int kind = 0; kind < 3; kind++) {
            uint8_t proto = kind == 0   ? TG_PROTO_TCP
                            : kind == 1 ? TG_PROTO_UDP
                                        : (version == 4 ? TG_PROTO_ICMP : TG_PROTO_ICMPV6);
            struct pk base;
            random_flow(&base, version, proto, 7);
            uint16_t m = OUT_OK(n, &base, 100);
            CHECK_EQ(OUT_OK(n, &base, 200), m); /* same flow: same mapping */
            CHECK_EQ(OUT_OK(n, &base, 300), m);

            /* change one field at a time: another flow, another port */
            uint16_t ports[5];
            int nports = 0;
            for (int f = 0; f < 5; f++) {
                struct pk v = base;
                size_t alen = version == 4 ? 4 : 16;
                switch (f) {
                case 0:
                    v.src[alen - 1] ^= 0x01;
                    break;
                case 1:
                    v.dst[alen - 1] ^= 0x01;
                    break;
                case 2:
                    v.sport ^= 0x0100;
                    break;
                case 3:
                    v.dport ^= 0x0100;
                    break;
                default:
                    v.src[alen - 1] ^= 0x02;
                    break;
                }
                if (pk_icmp(&v) && f == 3)
                    continue; /* ICMP has no remote port */
                uint16_t p = OUT_OK(n, &v, 400);
                CHECK(p != m);
                CHECK(p >= 32768 && p <= 61000);
                for (int j = 0; j < nports; j++)
                    CHECK(ports[j] != p);
                ports[nports++] = p;
                IN_OK(n, &v, p, 401);
            }
            IN_OK(n, &base, m, 500);
        }
    }
    /* TCP and UDP flows with the same tuple are two mappings */
    struct pk u;
    random_flow(&u, 4, TG_PROTO_UDP, 99);
    struct pk t = u;
    t.proto = TG_PROTO_TCP;
    uint64_t before = tg_nat_stats(n)->created;
    OUT_OK(n, &u, 600);
    OUT_OK(n, &t, 600);
    CHECK_EQ(tg_nat_stats(n)->created, before + 2);
    tg_nat_free(n);
}

struct trow {
    uint8_t version, proto;
    tg_time timeout_us; /* the default for the protocol */
    int line;
};

/* The expiry boundary, per protocol, at the default timeouts: with `last` the
 * last packet in either direction, the mapping holds at last + timeout - 1
 * and is gone at last + timeout. */
static void test_expiry(void)
{
    /* clang-format off */
    static const struct trow rows[] = {
        {4, TG_PROTO_UDP, TG_SEC(180), __LINE__},
        {6, TG_PROTO_UDP, TG_SEC(180), __LINE__},
        {4, TG_PROTO_TCP, TG_SEC(7200), __LINE__},
        {6, TG_PROTO_TCP, TG_SEC(7200), __LINE__},
        {4, TG_PROTO_ICMP, TG_SEC(30), __LINE__},
        {6, TG_PROTO_ICMPV6, TG_SEC(30), __LINE__},
    };
    /* clang-format on */
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct trow *r = &rows[i];
        struct tg_nat_config c = base_config();
        struct tg_nat *n = new_nat(&c);
        const struct tg_nat_stats *s = tg_nat_stats(n);
        const tg_time T = r->timeout_us;
        struct pk p;
        random_flow(&p, r->version, r->proto, 1);

        tg_time last = 5000;
        uint16_t m = OUT_OK(n, &p, last);
        tg_nat_expire(n, last + T - 1);
        CHECK_EQ(s->active, 1);
        /* an inbound reply just before the deadline refreshes */
        IN_OK(n, &p, m, last + T - 1);
        last += T - 1;
        tg_nat_expire(n, last + T - 1);
        CHECK_EQ(s->active, 1);
        /* ... and so does outbound traffic */
        CHECK_EQ(OUT_OK(n, &p, last + T - 1), m);
        last += T - 1;
        CHECK_EQ(s->created, 1);
        CHECK_EQ(s->expired, 0);

        /* at the deadline the reply finds nothing */
        struct pk rep = reply_pk(&p, m);
        IN_SAME(n, &rep, last + T, TG_OK);
        CHECK_EQ(s->active, 0);
        CHECK_EQ(s->expired, 1);
        /* the flow's next packet creates a fresh mapping */
        OUT_OK(n, &p, last + T);
        CHECK_EQ(s->created, 2);
        CHECK_EQ(s->active, 1);

        /* tg_nat_expire alone, exactly at the deadline */
        last += T;
        tg_nat_expire(n, last + T - 1);
        CHECK_EQ(s->active, 1);
        tg_nat_expire(n, last + T);
        CHECK_EQ(s->active, 0);
        CHECK_EQ(s->expired, 2);
        if (s->expired != 2)
            fprintf(stderr, "expiry row at line %d\n", r->line);
        tg_nat_free(n);
    }

    /* Configured timeouts, and classes expiring independently. */
    struct tg_nat_config c = base_config();
    c.udp_timeout_us = 100;
    c.tcp_timeout_us = 1000;
    c.icmp_timeout_us = 10;
    struct tg_nat *n = new_nat(&c);
    struct pk u, t, e;
    random_flow(&u, 4, TG_PROTO_UDP, 1);
    random_flow(&t, 6, TG_PROTO_TCP, 2);
    random_flow(&e, 4, TG_PROTO_ICMP, 3);
    OUT_OK(n, &e, 0);
    OUT_OK(n, &u, 0);
    uint16_t mt = OUT_OK(n, &t, 0);
    tg_nat_expire(n, 9);
    CHECK_EQ(tg_nat_stats(n)->active, 3);
    tg_nat_expire(n, 10);
    CHECK_EQ(tg_nat_stats(n)->active, 2);
    tg_nat_expire(n, 100);
    CHECK_EQ(tg_nat_stats(n)->active, 1);
    IN_OK(n, &t, mt, 999);
    tg_nat_expire(n, 1998);
    CHECK_EQ(tg_nat_stats(n)->active, 1);
    tg_nat_expire(n, 1999);
    CHECK_EQ(tg_nat_stats(n)->active, 0);
    tg_nat_free(n);
}

static void test_table_full(void)
{
    struct tg_nat_config c = base_config();
    c.capacity = 4;
    c.udp_timeout_us = 1000;
    struct tg_nat *n = new_nat(&c);
    const struct tg_nat_stats *s = tg_nat_stats(n);
    struct pk f[6];
    uint16_t m[6];
    for (uint32_t i = 0; i < 6; i++)
        random_flow(&f[i], i % 2 ? 6 : 4, TG_PROTO_UDP, i);
    for (int i = 0; i < 4; i++)
        m[i] = OUT_OK(n, &f[i], (tg_time)(10 * i));
    CHECK_EQ(s->active, 4);
    CHECK_EQ(s->peak_active, 4);
    OUT_SAME(n, &f[4], 100, TG_ERR_NOBUF);
    OUT_SAME(n, &f[5], 100, TG_ERR_NOBUF);
    CHECK_EQ(s->table_full, 2);
    /* existing mappings keep working */
    CHECK_EQ(OUT_OK(n, &f[1], 200), m[1]);
    IN_OK(n, &f[2], m[2], 200);
    /* f[0] expires at 1000, f[3] (sent at 30) at 1030 */
    OUT_SAME(n, &f[4], 999, TG_ERR_NOBUF);
    m[4] = OUT_OK(n, &f[4], 1000);
    CHECK_EQ(s->expired, 1);
    OUT_SAME(n, &f[5], 1029, TG_ERR_NOBUF);
    m[5] = OUT_OK(n, &f[5], 1030);
    CHECK_EQ(s->expired, 2);
    CHECK_EQ(s->table_full, 4);
    CHECK_EQ(s->active, 4);
    CHECK_EQ(s->peak_active, 4);
    /* the expired flow's replies are not translated any more */
    /* (its port may belong to f[4] now, whose remote is another) */
    struct pk rep = reply_pk(&f[0], m[0]);
    IN_SAME(n, &rep, 1031, TG_OK);
    tg_nat_free(n);

    /* Ports run out before entries: a 3-port range. */
    c = base_config();
    c.port_min = 40000;
    c.port_max = 40002;
    n = new_nat(&c);
    s = tg_nat_stats(n);
    struct pk p[5];
    bool seen[3] = {false, false, false};
    for (uint32_t i = 0; i < 5; i++)
        random_flow(&p[i], 4, TG_PROTO_UDP, i);
    for (int i = 0; i < 3; i++) {
        uint16_t port = OUT_OK(n, &p[i], 0);
        CHECK(port >= 40000 && port <= 40002);
        if (port >= 40000 && port <= 40002) {
            CHECK(!seen[port - 40000]);
            seen[port - 40000] = true;
        }
    }
    OUT_SAME(n, &p[3], 1, TG_ERR_NOBUF);
    CHECK_EQ(s->table_full, 1);
    /* other protocols and versions have their own port space */
    p[3].proto = TG_PROTO_TCP;
    OUT_OK(n, &p[3], 2);
    random_flow(&p[4], 6, TG_PROTO_UDP, 4);
    OUT_OK(n, &p[4], 2);
    tg_nat_free(n);
}

static void test_untouched(void)
{
    struct tg_nat_config c = base_config();
    struct tg_nat *n = new_nat(&c);
    const struct tg_nat_stats *s = tg_nat_stats(n);

    struct pk p4, p6, e4;
    random_flow(&p4, 4, TG_PROTO_TCP, 1);
    random_flow(&p6, 6, TG_PROTO_UDP, 2);
    random_flow(&e4, 4, TG_PROTO_ICMP, 3);
    uint16_t m4 = OUT_OK(n, &p4, 0);
    uint16_t m6 = OUT_OK(n, &p6, 0);
    uint16_t me = OUT_OK(n, &e4, 0);
    uint64_t pass = s->passthrough;

    /* already from the tunnel address: even on a mapped port */
    struct pk t4 = translated(&p4, m4), t6 = translated(&p6, 1234);
    OUT_SAME(n, &t4, 1, TG_OK);
    OUT_SAME(n, &t6, 1, TG_OK);
    CHECK_EQ(s->passthrough, pass + 2);

    /* inbound that matches no mapping */
    struct pk r = reply_pk(&p4, m4);
    r.dport = (uint16_t)(m4 == 61000 ? 32768 : m4 + 1); /* unmapped port */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&p4, m4);
    r.src[3] ^= 1; /* another remote address */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&p4, m4);
    r.sport ^= 1; /* another remote port */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&p4, m4);
    r.proto = TG_PROTO_UDP; /* another protocol */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&p4, m4);
    r.dst[3] ^= 1; /* not the tunnel address */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&p6, m6);
    r.dst[15] ^= 1;
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&e4, me);
    r.icmp_type = 8; /* an echo request to the mapped identifier */
    IN_SAME(n, &r, 1, TG_OK);
    r = reply_pk(&e4, me);
    r.sport ^= 1; /* echo reply, other identifier */
    IN_SAME(n, &r, 1, TG_OK);
    CHECK_EQ(s->translated_in, 0);
    /* ... while the real replies still work */
    IN_OK(n, &p4, m4, 2);
    IN_OK(n, &p6, m6, 2);
    IN_OK(n, &e4, me, 2);

    /* not translatable: ICMP errors, echo replies, other protocols */
    uint64_t untr = s->untranslatable;
    struct pk x = e4;
    x.icmp_type = 3; /* destination unreachable */
    OUT_SAME(n, &x, 3, TG_OK);
    x.icmp_type = 0; /* echo reply */
    OUT_SAME(n, &x, 3, TG_OK);
    struct pk y;
    random_flow(&y, 6, TG_PROTO_ICMPV6, 4);
    y.icmp_type = 135; /* neighbour solicitation */
    OUT_SAME(n, &y, 3, TG_OK);
    CHECK_EQ(s->untranslatable, untr + 3);
    uint8_t gre[64];
    memset(gre, 0, sizeof gre);
    gre[0] = 0x45;
    put16(gre + 2, 28);
    gre[8] = 64;
    gre[9] = 47;
    memcpy(gre + 12, p4.src, 4);
    memcpy(gre + 16, p4.dst, 4);
    put16(gre + 10, tg_ip_fold(tg_ip_sum(gre, 20, 0)));
    uint8_t gre_orig[64];
    memcpy(gre_orig, gre, sizeof gre);
    CHECK_EQ(tg_nat_outbound(n, gre, 28, 3), TG_OK);
    CHECK_MEM(gre, gre_orig, sizeof gre);
    CHECK_EQ(s->untranslatable, untr + 4);

    /* link scope, multicast, broadcast, unspecified */
    pass = s->passthrough;
    struct pk l = p6;
    memcpy(l.src, (const uint8_t[]){0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 1},
           16);
    OUT_SAME(n, &l, 4, TG_OK);
    l = p6;
    memcpy(l.dst, (const uint8_t[]){0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 1},
           16);
    OUT_SAME(n, &l, 4, TG_OK);
    l = p6;
    memcpy(l.dst, (const uint8_t[]){0xff, 0x0e, 0, 0, 0, 0, 0, 0, 0, 0, 0x0d, 0xb8, 0, 0, 0, 1},
           16);
    OUT_SAME(n, &l, 4, TG_OK);
    l = p6;
    memset(l.src, 0, 16);
    OUT_SAME(n, &l, 4, TG_OK);
    struct pk b;
    random_flow(&b, 4, TG_PROTO_UDP, 5);
    memcpy(b.dst, (const uint8_t[]){233, 252, 0, 1}, 4);
    OUT_SAME(n, &b, 4, TG_OK);
    memcpy(b.dst, (const uint8_t[]){255, 255, 255, 255}, 4);
    OUT_SAME(n, &b, 4, TG_OK);
    memcpy(b.dst, (const uint8_t[]){203, 0, 113, 5}, 4);
    memset(b.src, 0, 4);
    OUT_SAME(n, &b, 4, TG_OK);
    CHECK_EQ(s->passthrough, pass + 7);

    /* malformed: an error, nothing written */
    uint8_t bad[1024], bad_orig[1024];
    size_t len = build(bad, &p4);
    bad[0] = 0x55;
    memcpy(bad_orig, bad, len);
    CHECK_EQ(tg_nat_outbound(n, bad, len, 5), TG_ERR_MALFORMED);
    CHECK_EQ(tg_nat_inbound(n, bad, len, 5), TG_ERR_MALFORMED);
    CHECK_MEM(bad, bad_orig, len);
    bad[0] = 0x45;
    memcpy(bad_orig, bad, len);
    CHECK_EQ(tg_nat_outbound(n, bad, 10, 5), TG_ERR_TRUNCATED);
    CHECK_EQ(tg_nat_outbound(n, bad, len - 1, 5), TG_ERR_MALFORMED);
    CHECK_EQ(tg_nat_inbound(n, bad, 0, 5), TG_ERR_TRUNCATED);
    CHECK_MEM(bad, bad_orig, len);
    tg_nat_free(n);

    /* a version without a tunnel address passes untouched both ways */
    c = base_config();
    c.has_v6 = false;
    n = new_nat(&c);
    OUT_SAME(n, &p6, 0, TG_OK);
    struct pk r6 = reply_pk(&p6, 40000);
    IN_SAME(n, &r6, 0, TG_OK);
    OUT_OK(n, &p4, 0);
    CHECK_EQ(tg_nat_stats(n)->passthrough, 2);
    tg_nat_free(n);
}

/* Fragments after the first: outbound gets its source address (and the IPv4
 * header checksum) rewritten, nothing else; inbound passes untouched. */
static void test_fragments(void)
{
    struct tg_nat_config c = base_config();
    struct tg_nat *n = new_nat(&c);

    /* IPv4: offset 185*8, UDP, 40 bytes of payload */
    struct pk p;
    random_flow(&p, 4, TG_PROTO_UDP, 1);
    uint8_t pkt[128], want[128];
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x45;
    put16(pkt + 2, 60);
    put16(pkt + 4, 0x4242);
    put16(pkt + 6, 185);
    pkt[8] = 64;
    pkt[9] = TG_PROTO_UDP;
    memcpy(pkt + 12, p.src, 4);
    memcpy(pkt + 16, p.dst, 4);
    rnd_bytes(pkt + 20, 40);
    put16(pkt + 10, tg_ip_fold(tg_ip_sum(pkt, 20, 0)));
    memcpy(want, pkt, 60);
    memcpy(want + 12, TUN4, 4);
    put16(want + 10, 0);
    put16(want + 10, tg_ip_fold(tg_ip_sum(want, 20, 0)));
    CHECK_EQ(tg_nat_outbound(n, pkt, 60, 0), TG_OK);
    CHECK_MEM(pkt, want, 60);
    CHECK_EQ(tg_nat_stats(n)->created, 0);
    /* from the remote to the tunnel address: not mappable */
    memcpy(pkt + 12, p.dst, 4);
    memcpy(pkt + 16, TUN4, 4);
    put16(pkt + 10, 0);
    put16(pkt + 10, tg_ip_fold(tg_ip_sum(pkt, 20, 0)));
    memcpy(want, pkt, 60);
    CHECK_EQ(tg_nat_inbound(n, pkt, 60, 0), TG_OK);
    CHECK_MEM(pkt, want, 60);

    /* IPv6: fragment header, offset 100*8 */
    struct pk q;
    random_flow(&q, 6, TG_PROTO_TCP, 2);
    memset(pkt, 0, sizeof pkt);
    pkt[0] = 0x60;
    put16(pkt + 4, 8 + 32);
    pkt[6] = 44;
    pkt[7] = 64;
    memcpy(pkt + 8, q.src, 16);
    memcpy(pkt + 24, q.dst, 16);
    pkt[40] = TG_PROTO_TCP;
    put16(pkt + 42, (uint16_t)(100 << 3));
    rnd_bytes(pkt + 44, 4 + 32);
    memcpy(want, pkt, 80);
    memcpy(want + 8, TUN6, 16);
    CHECK_EQ(tg_nat_outbound(n, pkt, 80, 0), TG_OK);
    CHECK_MEM(pkt, want, 80);
    CHECK_EQ(tg_nat_stats(n)->translated_out, 2);

    /* A first fragment (MF set) is translated like a whole datagram. */
    uint8_t first[1024], first_want[1024];
    p.payload_len = 64;
    rnd_bytes(p.payload, 64);
    size_t len = build(first, &p);
    first[6] = 0x20;
    put16(first + 10, 0);
    put16(first + 10, tg_ip_fold(tg_ip_sum(first, 20, 0)));
    CHECK_EQ(tg_nat_outbound(n, first, len, 1), TG_OK);
    uint16_t m = sport_of(first, TG_PROTO_UDP);
    struct pk t = translated(&p, m);
    build(first_want, &t);
    first_want[6] = 0x20;
    put16(first_want + 10, 0);
    put16(first_want + 10, tg_ip_fold(tg_ip_sum(first_want, 20, 0)));
    CHECK_MEM(first, first_want, len);
    CHECK_EQ(tg_nat_stats(n)->created, 1);
    tg_nat_free(n);
}

static void test_deterministic(void)
{
    struct tg_nat_config c = base_config();
    c.capacity = 64;
    struct tg_nat *a = new_nat(&c), *b = new_nat(&c);
    struct pk flows[200];
    for (uint32_t i = 0; i < 200; i++)
        random_flow(&flows[i], i % 2 ? 4 : 6, i % 3 ? TG_PROTO_UDP : TG_PROTO_TCP, i);
    int same = 0;
    for (int i = 0; i < 200; i++) {
        uint8_t x[1024], y[1024];
        size_t len = build(x, &flows[i]);
        memcpy(y, x, len);
        int ea = tg_nat_outbound(a, x, len, (tg_time)i * 1000000);
        int eb = tg_nat_outbound(b, y, len, (tg_time)i * 1000000);
        CHECK_EQ(ea, eb);
        same += memcmp(x, y, len) == 0;
    }
    CHECK_EQ(same, 200);
    tg_nat_free(a);
    tg_nat_free(b);
}

/* ---------------------------------------------------------- config/alloc */

static size_t live_allocs;

static void *count_alloc(void *ctx, size_t size)
{
    (void)ctx;
    live_allocs++;
    return malloc(size);
}

static void count_free(void *ctx, void *p)
{
    (void)ctx;
    if (p != NULL)
        live_allocs--;
    free(p);
}

static void *fail_alloc(void *ctx, size_t size)
{
    size_t *left = ctx;
    if (*left == 0)
        return NULL;
    (*left)--;
    live_allocs++;
    return malloc(size);
}

static void test_config(void)
{
    struct tg_nat_config d;
    tg_nat_config_default(&d);
    CHECK_EQ(d.capacity, 4096);
    CHECK_EQ(d.udp_timeout_us, 180000000);
    CHECK_EQ(d.tcp_timeout_us, 7200000000);
    CHECK_EQ(d.icmp_timeout_us, 30000000);
    CHECK_EQ(d.port_min, 32768);
    CHECK_EQ(d.port_max, 61000);
    CHECK(!d.has_v4 && !d.has_v6);

    struct tg_nat *n = (struct tg_nat *)&d; /* must be reset to NULL on error */
    struct tg_nat_config c = base_config();
    c.capacity = 0;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    CHECK(n == NULL);
    c = base_config();
    c.capacity = TG_NAT_MAX_CAPACITY + 1;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.udp_timeout_us = 0;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.tcp_timeout_us = 0;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.icmp_timeout_us = 0;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.port_min = 0;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.port_min = 5000;
    c.port_max = 4999;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_ERR_INVAL);
    c = base_config();
    c.port_min = c.port_max = 65535; /* a one-port range is fine */
    c.capacity = 1;
    CHECK_EQ(tg_nat_new(&c, NULL, &n), TG_OK);
    struct pk p;
    random_flow(&p, 4, TG_PROTO_UDP, 1);
    CHECK_EQ(OUT_OK(n, &p, 0), 65535);
    tg_nat_free(n);
    tg_nat_free(NULL);

    /* the allocator hook: everything given back, failures reported */
    struct tg_allocator a = {count_alloc, count_free, NULL};
    c = base_config();
    CHECK_EQ(tg_nat_new(&c, &a, &n), TG_OK);
    CHECK(live_allocs > 0);
    OUT_OK(n, &p, 0);
    tg_nat_free(n);
    CHECK_EQ(live_allocs, 0);
    for (size_t budget = 0; budget < 4; budget++) {
        size_t left = budget;
        struct tg_allocator f = {fail_alloc, count_free, &left};
        n = (struct tg_nat *)&d;
        CHECK_EQ(tg_nat_new(&c, &f, &n), TG_ERR_NOMEM);
        CHECK(n == NULL);
        CHECK_EQ(live_allocs, 0);
    }
}

/* ---------------------------------------------------------- naive model */

struct mflow {
    struct pk p;
    bool mapped;
    uint16_t port;
    tg_time last;
};

static tg_time model_timeout(const struct tg_nat_config *c, uint8_t proto)
{
    return proto == TG_PROTO_TCP   ? c->tcp_timeout_us
           : proto == TG_PROTO_UDP ? c->udp_timeout_us
                                   : c->icmp_timeout_us;
}

static void test_model(void)
{
    enum { FLOWS = 160, STEPS = 200000 };
    struct tg_nat_config c = base_config();
    c.capacity = 48;
    c.udp_timeout_us = 1500;
    c.tcp_timeout_us = 3000;
    c.icmp_timeout_us = 600;
    c.port_min = 50000;
    c.port_max = 50199; /* 200 ports: reuse of freed ports is frequent */
    struct tg_nat *n = new_nat(&c);
    const struct tg_nat_stats *s = tg_nat_stats(n);
    static struct mflow f[FLOWS];
    for (uint32_t i = 0; i < FLOWS; i++) {
        uint8_t version = i % 2 ? 4 : 6;
        uint8_t proto = i % 3 == 0   ? TG_PROTO_TCP
                        : i % 3 == 1 ? TG_PROTO_UDP
                                     : (version == 4 ? TG_PROTO_ICMP : TG_PROTO_ICMPV6);
        random_flow(&f[i].p, version, proto, i);
        f[i].p.payload_len = rnd_below(40);
        /* remote endpoints unique too, so a reply never fits another flow */
        if (!pk_icmp(&f[i].p))
            f[i].p.dport = (uint16_t)(1000 + i);
        f[i].p.dst[version == 4 ? 3 : 15] = (uint8_t)i;
    }
    uint32_t alive = 0;
    uint64_t expired = 0, full = 0, created = 0, translated = 0;
    tg_time now = 0;
    for (int step = 0; step < STEPS; step++) {
        now += rnd_below(50);
        for (int i = 0; i < FLOWS; i++) {
            if (f[i].mapped && f[i].last + model_timeout(&c, f[i].p.proto) <= now) {
                f[i].mapped = false;
                alive--;
                expired++;
            }
        }
        struct mflow *m = &f[rnd_below(FLOWS)];
        uint8_t pkt[256], orig[256];
        if (rnd_below(10) < 7) {
            size_t len = build(pkt, &m->p);
            memcpy(orig, pkt, len);
            int err = tg_nat_outbound(n, pkt, len, now);
            if (m->mapped) {
                CHECK_EQ(err, TG_OK);
                CHECK_EQ(sport_of(pkt, m->p.proto), m->port);
                m->last = now;
            } else if (alive == c.capacity) {
                CHECK_EQ(err, TG_ERR_NOBUF);
                CHECK_MEM(pkt, orig, len);
                full++;
            } else {
                CHECK_EQ(err, TG_OK);
                uint16_t port = sport_of(pkt, m->p.proto);
                CHECK(port >= c.port_min && port <= c.port_max);
                for (int i = 0; i < FLOWS; i++)
                    if (f[i].mapped && f[i].p.version == m->p.version && f[i].p.proto == m->p.proto)
                        CHECK(f[i].port != port);
                m->mapped = true;
                m->port = port;
                m->last = now;
                alive++;
                created++;
            }
            if (err == TG_OK) {
                CHECK(csums_ok(pkt));
                translated++;
            }
        } else {
            /* a reply to the flow's current or last port, or a random one */
            uint16_t port = m->port ? m->port : (uint16_t)(c.port_min + rnd_below(200));
            struct pk r = reply_pk(&m->p, port);
            r.payload_len = rnd_below(40);
            size_t len = build(pkt, &r);
            memcpy(orig, pkt, len);
            CHECK_EQ(tg_nat_inbound(n, pkt, len, now), TG_OK);
            if (m->mapped) {
                struct pk u = untranslated_reply(&r, &m->p);
                build(orig, &u);
                m->last = now;
            }
            CHECK_MEM(pkt, orig, len);
        }
        CHECK_EQ(s->active, alive);
        CHECK_EQ(s->expired, expired);
        if (check_failures > 20)
            break;
    }
    CHECK_EQ(s->created, created);
    CHECK_EQ(s->table_full, full);
    CHECK_EQ(s->translated_out, translated);
    /* the run went through every regime */
    CHECK(full > 100);
    CHECK(expired > 1000);
    CHECK(created > 1000);
    printf("test_nat: model run: %" PRIu64 " mappings created, %" PRIu64 " expired, %" PRIu64
           " refused as full, peak %u of %u\n",
           created, expired, full, s->peak_active, c.capacity);
    tg_nat_free(n);
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x7467616e74u; /* "tgnat" */
    if (argc > 1)
        seed = strtoull(argv[1], NULL, 0);
    printf("test_nat: seed 0x%" PRIx64 "\n", seed);
    rng_state = seed;

    test_random_round_trips();
    test_udp_zero();
    test_reuse_and_distinct();
    test_expiry();
    test_table_full();
    test_untouched();
    test_fragments();
    test_deterministic();
    test_config();
    test_model();
    return check_exit("test_nat");
}
