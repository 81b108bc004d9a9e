/*
 * IP parsing, Internet checksums and the flow hash.
 *
 * Parsing: a table of packets written out in hex (one row per case, with the
 * fields tg_ip_parse must report), every valid row cut at every buffer
 * length and at every total length, and random bytes that must never make
 * the parser read outside its buffer (run under ASan).
 * Checksums: the RFC 1071 example, chaining, and incremental updates
 * (RFC 1624) compared with recomputation from scratch over random buffers,
 * including buffers whose checksum is 0 before or after the change.
 * Flow hash: the documented encoding, stability, sensitivity to every field,
 * no collisions over thousands of random tuples, dependence on the key.
 *
 *   test_ip [seed]   (the seed is printed; pass it back to replay a run)
 */
#include "check.h"
#include "core/flow.h"
#include "core/ip.h"

#include <inttypes.h>
#include <sodium.h>
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

/* Hex digits to bytes; spaces and '|' (field separators for the reader) are
 * skipped. Returns the byte count. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *s; s++) {
        int v;
        if (*s >= '0' && *s <= '9')
            v = *s - '0';
        else if (*s >= 'a' && *s <= 'f')
            v = *s - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n < cap)
                out[n] = (uint8_t)(hi << 4 | v);
            n++;
            hi = -1;
        }
    }
    return n;
}

/* ------------------------------------------------------------- parsing */

/* Addresses: 192.0.2.1, 203.0.113.3, 2001:db8::1, 2001:db8::2. */
#define A4 "c0000201 cb007103 | "
#define A6 "20010db8000000000000000000000001 20010db8000000000000000000000002 | "
/* Transport headers. */
#define TCP_HDR "3039 0050 00000000 00000000 5002 ffff 0000 0000" /* 12345 -> 80 */
#define UDP_HDR "d431 0035 0008 0000"                             /* 54321 -> 53 */

/* clang-format off */
struct prow {
    const char *hex;
    int err;
    uint8_t version, proto;
    bool has_ports;
    uint16_t sport, dport;
    size_t l4_off;
    bool later_fragment;
    size_t need; /* transport bytes a first fragment must hold (for the cut test) */
    int line;
};

#define P_OK(hex, v, pr, hp, sp, dp, off, frag, need)                                          \
    {hex, TG_OK, v, pr, hp, sp, dp, off, frag, need, __LINE__}
#define P_ERR(hex, e) {hex, e, 0, 0, false, 0, 0, 0, false, 0, __LINE__}

static const struct prow prows[] = {
    /* IPv4 */
    P_OK("45000028 00000000 4006 0000 " A4 TCP_HDR, 4, 6, true, 12345, 80, 20, false, 20),
    P_OK("4500001c 00000000 4011 0000 " A4 UDP_HDR, 4, 17, true, 54321, 53, 20, false, 8),
    P_OK("4500001c 00000000 4001 0000 " A4 "0800 0000 1234 0001", 4, 1, true, 0x1234, 0x1234,
         20, false, 8), /* echo request */
    P_OK("4500001e 00000000 4001 0000 " A4 "0000 0000 beef 0002 6869", 4, 1, true, 0xbeef,
         0xbeef, 20, false, 8), /* echo reply with data */
    P_OK("4500001c 00000000 4001 0000 " A4 "0301 0000 00000000", 4, 1, false, 0, 0, 20, false,
         4), /* destination unreachable: no identifier */
    P_OK("45000018 00000000 4001 0000 " A4 "0b00 0000", 4, 1, false, 0, 0, 20, false, 4),
    P_ERR("4500001a 00000000 4001 0000 " A4 "0800 0000 1234", TG_ERR_TRUNCATED),
    P_ERR("45000017 00000000 4001 0000 " A4 "080000", TG_ERR_TRUNCATED),
    /* options: IHL 6 (NOP NOP NOP EOL) */
    P_OK("46000020 00000000 4011 0000 " A4 "01010100 | " UDP_HDR, 4, 17, true, 54321, 53, 24,
         false, 8),
    /* IHL 15: 40 bytes of options */
    P_OK("4f000050 00000000 4006 0000 " A4
         "01010101 01010101 01010101 01010101 01010101 01010101 01010101 01010101 01010101 "
         "01010100 | " TCP_HDR,
         4, 6, true, 12345, 80, 60, false, 20),
    P_ERR("44000028 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* IHL 4 */
    P_ERR("40000028 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* IHL 0 */
    P_ERR("55000028 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* version 5 */
    P_ERR("05000028 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* version 0 */
    P_ERR("f5000028 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* version 15 */
    P_ERR("45000029 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* total > len */
    P_ERR("4500ffff 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED),
    P_ERR("45000013 00000000 4006 0000 " A4 TCP_HDR, TG_ERR_MALFORMED), /* total < IHL */
    P_ERR("46000014 00000000 4006 0000 " A4 "01010100", TG_ERR_MALFORMED),
    P_ERR("47000030 00000000 4011 0000 " A4 "01010100", TG_ERR_TRUNCATED), /* IHL > len */
    /* bytes after the total length (link padding) are ignored */
    P_OK("4500001c 00000000 4011 0000 " A4 UDP_HDR " 0000 0000", 4, 17, true, 54321, 53, 20,
         false, 8),
    /* fragments: the first (MF, offset 0) has ports; later ones do not */
    P_OK("4500001c 0000 2000 4011 0000 " A4 UDP_HDR, 4, 17, true, 54321, 53, 20, false, 8),
    P_OK("4500001c 0000 2001 4011 0000 " A4 UDP_HDR, 4, 17, false, 0, 0, 20, true, 0),
    P_OK("45000018 0000 1fff 4006 0000 " A4 "01020304", 4, 6, false, 0, 0, 20, true, 0),
    P_OK("45000014 0000 00b9 4006 0000 " A4, 4, 6, false, 0, 0, 20, true, 0), /* empty */
    /* DF alone is not a fragment */
    P_OK("45000028 0000 4000 4006 0000 " A4 TCP_HDR, 4, 6, true, 12345, 80, 20, false, 20),
    P_ERR("45000018 0000 4000 4006 0000 " A4 "01020304", TG_ERR_TRUNCATED),
    P_ERR("4500001c 0000 2000 4006 0000 " A4 "3039 0050 00000000", TG_ERR_TRUNCATED),
    P_ERR("4500001b 00000000 4011 0000 " A4 "d431 0035 0007 00", TG_ERR_TRUNCATED),
    P_ERR("45000014 00000000 4006 0000 " A4, TG_ERR_TRUNCATED), /* no TCP header at all */
    /* other protocols: no ports */
    P_OK("45000018 00000000 402f 0000 " A4 "00000800", 4, 47, false, 0, 0, 20, false, 0),
    P_OK("4500001c 00000000 403a 0000 " A4 "8000 0000 1234 0001", 4, 58, false, 0, 0, 20,
         false, 0), /* ICMPv6 over IPv4 is not ICMP */
    P_ERR("", TG_ERR_TRUNCATED),
    P_ERR("45", TG_ERR_TRUNCATED),
    P_ERR("45000014 00000000 4006 0000 c0000201 cb0071", TG_ERR_TRUNCATED), /* 19 bytes */

    /* IPv6 */
    P_OK("60000000 0014 06 40 " A6 TCP_HDR, 6, 6, true, 12345, 80, 40, false, 20),
    P_OK("60000000 0008 11 40 " A6 UDP_HDR, 6, 17, true, 54321, 53, 40, false, 8),
    P_OK("60000000 0008 3a 40 " A6 "8000 0000 abcd 0001", 6, 58, true, 0xabcd, 0xabcd, 40,
         false, 8),
    P_OK("60000000 000a 3a 40 " A6 "8100 0000 abce 0001 0102", 6, 58, true, 0xabce, 0xabce, 40,
         false, 8),
    P_OK("60000000 0018 3a ff " A6 "8700 0000 00000000 20010db8000000000000000000000002", 6, 58,
         false, 0, 0, 40, false, 4), /* neighbour solicitation */
    P_ERR("60000000 0006 3a 40 " A6 "8000 0000 abcd", TG_ERR_TRUNCATED),
    P_ERR("60000000 0003 3a 40 " A6 "870000", TG_ERR_TRUNCATED),
    /* hop-by-hop (PadN) then UDP */
    P_OK("60000000 0010 00 40 " A6 "11 00 0104 00000000 | " UDP_HDR, 6, 17, true, 54321, 53,
         48, false, 8),
    /* hop-by-hop, routing, destination options, UDP */
    P_OK("60000000 0020 00 40 " A6 "2b 00 0104 00000000 | 3c 00 0400 00000000 | "
         "11 00 0104 00000000 | " UDP_HDR,
         6, 17, true, 54321, 53, 64, false, 8),
    /* destination options of 16 bytes, then TCP */
    P_OK("60000000 0024 3c 40 " A6 "06 01 010c 000000000000000000000000 | " TCP_HDR, 6, 6, true,
         12345, 80, 56, false, 20),
    /* first fragment (offset 0, M=1), atomic fragment (offset 0, M=0) */
    P_OK("60000000 0010 2c 40 " A6 "11 00 0001 12345678 | " UDP_HDR, 6, 17, true, 54321, 53, 48,
         false, 8),
    P_OK("60000000 0010 2c 40 " A6 "11 00 0000 12345678 | " UDP_HDR, 6, 17, true, 54321, 53, 48,
         false, 8),
    /* later fragment (offset 185 * 8, M=1): the payload is not a header */
    P_OK("60000000 0010 2c 40 " A6 "11 00 05c9 12345678 | " UDP_HDR, 6, 17, false, 0, 0, 48,
         true, 0),
    P_OK("60000000 0008 2c 40 " A6 "06 00 fff8 12345678", 6, 6, false, 0, 0, 48, true, 0),
    /* ... even when the "next header" is an extension header */
    P_OK("60000000 0010 00 40 " A6 "2c 00 0104 00000000 | 3c 00 0008 12345678", 6, 60, false, 0,
         0, 56, true, 0),
    P_ERR("60000000 0010 3c 40 " A6 "00 00 0104 00000000 | 11 00 0104 00000000",
          TG_ERR_MALFORMED), /* hop-by-hop not first */
    P_ERR("60000000 0010 3c 40 " A6 "11 02 0104 00000000 | " UDP_HDR,
          TG_ERR_TRUNCATED), /* 24-byte header in 16 bytes */
    P_ERR("60000000 0001 3c 40 " A6 "11", TG_ERR_TRUNCATED),
    P_ERR("60000000 0004 2c 40 " A6 "11 00 0000", TG_ERR_TRUNCATED), /* fragment header */
    P_ERR("60000000 0004 11 40 " A6 "d431 0035", TG_ERR_TRUNCATED),
    P_ERR("60000000 0009 11 40 " A6 UDP_HDR, TG_ERR_MALFORMED), /* payload > len */
    P_ERR("60000000 0008 11 40 " A6 "d431 0035 0008", TG_ERR_MALFORMED),
    P_OK("60000000 0000 3b 40 " A6, 6, 59, false, 0, 0, 40, false, 0), /* no next header */
    P_OK("60000000 0008 01 40 " A6 "0800 0000 1234 0001", 6, 1, false, 0, 0, 40, false,
         0), /* ICMPv4 over IPv6 has no identifier for us */
    P_OK("60000000 0008 11 40 " A6 UDP_HDR " 00000000", 6, 17, true, 54321, 53, 40, false, 8),
    P_ERR("60000000 0000 3b 40 20010db8000000000000000000000001 20010db8", TG_ERR_TRUNCATED),
    P_ERR("6", TG_ERR_TRUNCATED),
    P_ERR("70000000 0000 3b 40 " A6, TG_ERR_MALFORMED), /* version 7 */
};
/* clang-format on */

static void check_info(const struct prow *r, int line, const uint8_t *pkt, size_t len, int err,
                       const struct tg_ip_info *ip)
{
    if (err != r->err ||
        (err == TG_OK &&
         (ip->version != r->version || ip->proto != r->proto || ip->has_ports != r->has_ports ||
          ip->src_port != r->sport || ip->dst_port != r->dport || ip->l4_off != r->l4_off ||
          ip->later_fragment != r->later_fragment)))
        fprintf(stderr, "row at line %d (len %zu):\n", line, len);
    CHECK_EQ(err, r->err);
    if (err != TG_OK) {
        CHECK_EQ(ip->version, 0); /* zeroed on error */
        return;
    }
    CHECK_EQ(ip->version, r->version);
    CHECK_EQ(ip->proto, r->proto);
    CHECK_EQ(ip->has_ports, r->has_ports);
    CHECK_EQ(ip->src_port, r->sport);
    CHECK_EQ(ip->dst_port, r->dport);
    CHECK_EQ(ip->l4_off, r->l4_off);
    CHECK_EQ(ip->l3_len, r->l4_off);
    CHECK_EQ(ip->later_fragment, r->later_fragment);
    size_t alen = ip->version == 4 ? 4 : 16;
    CHECK_MEM(ip->src, pkt + (ip->version == 4 ? 12 : 8), alen);
    CHECK_MEM(ip->dst, pkt + (ip->version == 4 ? 16 : 24), alen);
    if (ip->version == 4) {
        static const uint8_t zero[12];
        CHECK_MEM(ip->src + 4, zero, 12);
        CHECK_MEM(ip->dst + 4, zero, 12);
        CHECK_EQ(ip->total_len, get16(pkt + 2));
    } else {
        CHECK_EQ(ip->total_len, 40u + get16(pkt + 4));
    }
    CHECK(ip->total_len <= len);
}

static void test_parse_table(void)
{
    uint8_t pkt[256];
    for (size_t i = 0; i < sizeof prows / sizeof prows[0]; i++) {
        struct prow r = prows[i];
        size_t len = unhex(r.hex, pkt, sizeof pkt);
        CHECK(len <= sizeof pkt);
        struct tg_ip_info ip;
        memset(&ip, 0xa5, sizeof ip);
        int err = tg_ip_parse(pkt, len, &ip);
        check_info(&r, r.line, pkt, len, err, &ip);
    }
}

/* Every valid row, cut short two ways:
 *  - the buffer ends early (the length field still claims the whole packet):
 *    TG_ERR_TRUNCATED inside the IP header (IHL for IPv4, 40 bytes for IPv6),
 *    TG_ERR_MALFORMED after it (total length > len);
 *  - the length field itself says less: TG_ERR_TRUNCATED while an IPv6
 *    extension header or the fixed transport header of a first fragment is
 *    incomplete, TG_ERR_MALFORMED below the IPv4 header length. */
static void test_parse_cuts(void)
{
    uint8_t pkt[256], cut[256];
    for (size_t i = 0; i < sizeof prows / sizeof prows[0]; i++) {
        const struct prow *r = &prows[i];
        if (r->err != TG_OK)
            continue;
        size_t len = unhex(r->hex, pkt, sizeof pkt);
        struct tg_ip_info ip;
        int err = tg_ip_parse(pkt, len, &ip);
        CHECK_EQ(err, TG_OK);
        size_t total = ip.total_len;
        size_t hdr = r->version == 4 ? (size_t)(pkt[0] & 0x0f) * 4 : 40;

        for (size_t k = 0; k < total; k++) {
            int want = k < hdr ? TG_ERR_TRUNCATED : TG_ERR_MALFORMED;
            memset(&ip, 0xa5, sizeof ip);
            err = tg_ip_parse(pkt, k, &ip);
            if (err != want)
                fprintf(stderr, "row at line %d cut at %zu\n", r->line, k);
            CHECK_EQ(err, want);
            CHECK_EQ(ip.version, 0);
        }

        for (size_t t = 0; t < total; t++) {
            memcpy(cut, pkt, total);
            int want;
            if (r->version == 4) {
                put16(cut + 2, (uint16_t)t);
                if (t < hdr)
                    want = TG_ERR_MALFORMED;
                else
                    want = t < r->l4_off + r->need ? TG_ERR_TRUNCATED : TG_OK;
            } else {
                if (t < 40)
                    continue;
                put16(cut + 4, (uint16_t)(t - 40));
                want = t < r->l4_off + r->need ? TG_ERR_TRUNCATED : TG_OK;
            }
            err = tg_ip_parse(cut, total, &ip);
            if (err != want)
                fprintf(stderr, "row at line %d with total length %zu\n", r->line, t);
            CHECK_EQ(err, want);
            if (err == TG_OK) {
                CHECK_EQ(ip.has_ports, r->has_ports);
                CHECK_EQ(ip.total_len, t);
            }
        }
    }
}

/* Random bytes (under ASan: no read outside the buffer), with the invariants
 * every successful parse keeps. The buffer is copied to the heap at its
 * exact length so that any over-read is caught. */
static void test_parse_random(void)
{
    int ok = 0;
    for (int i = 0; i < 200000; i++) {
        size_t len = rnd_below(i < 100000 ? 80 : 400);
        uint8_t *p = malloc(len ? len : 1);
        rnd_bytes(p, len);
        if (len > 0)
            p[0] = (uint8_t)((rnd_below(4) == 0 ? 0x40 : 0x60) | (p[0] & 0x0f));
        if (len > 0 && (p[0] >> 4) == 4 && rnd_below(2))
            p[0] = 0x45;
        if (len >= 10 && (p[0] >> 4) == 4) {
            put16(p + 2, (uint16_t)(len - rnd_below(3)));
            p[6] &= 0x20;
            p[9] = (uint8_t)(rnd_below(2) ? TG_PROTO_TCP : rnd_below(2) ? TG_PROTO_UDP : 1);
        }
        if (len >= 8 && (p[0] >> 4) == 6) {
            if (len >= 40)
                put16(p + 4, (uint16_t)(len - 40 - rnd_below(2)));
            static const uint8_t nh[] = {0, 43, 44, 60, 6, 17, 58};
            p[6] = nh[rnd_below(sizeof nh)];
            for (size_t j = 40; j + 1 < len; j += 8) {
                p[j] = nh[rnd_below(sizeof nh)];
                p[j + 1] = (uint8_t)rnd_below(2);
            }
        }
        struct tg_ip_info ip;
        if (tg_ip_parse(p, len, &ip) == TG_OK) {
            ok++;
            CHECK(ip.version == 4 || ip.version == 6);
            CHECK(ip.l3_len <= ip.l4_off);
            CHECK(ip.l4_off <= ip.total_len);
            CHECK(ip.total_len <= len);
            if (ip.has_ports)
                CHECK(ip.l4_off + 8 <= ip.total_len);
            CHECK(!(ip.has_ports && ip.later_fragment));
        }
        free(p);
    }
    CHECK(ok > 10000); /* the generator reaches the interesting paths */
}

/* ----------------------------------------------------------- checksums */

/* The naive reference: 16-bit words summed with end-around carry one at a
 * time, complemented. */
static uint16_t naive_csum(const uint8_t *p, size_t len)
{
    uint32_t s = 0;
    for (size_t i = 0; i < len; i += 2) {
        uint32_t w = (uint32_t)p[i] << 8 | (i + 1 < len ? p[i + 1] : 0);
        s += w;
        if (s > 0xffff)
            s -= 0xffff;
    }
    return (uint16_t)~s;
}

static void test_sum_basics(void)
{
    /* RFC 1071 §3's numerical example. */
    static const uint8_t ex[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    CHECK_EQ(tg_ip_sum(ex, sizeof ex, 0), 0xddf2);
    CHECK_EQ(tg_ip_fold(tg_ip_sum(ex, sizeof ex, 0)), 0x220d);
    /* chaining: even pieces */
    CHECK_EQ(tg_ip_sum(ex + 4, 4, tg_ip_sum(ex, 4, 0)), 0xddf2);
    CHECK_EQ(tg_ip_sum(ex + 2, 6, tg_ip_sum(ex, 2, 0)), 0xddf2);
    /* odd length pads with a zero byte */
    static const uint8_t one[] = {0x01};
    CHECK_EQ(tg_ip_sum(one, 1, 0), 0x0100);
    CHECK_EQ(tg_ip_sum(ex, 7, 0),
             tg_ip_sum((const uint8_t[]){0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0x00}, 8, 0));
    CHECK_EQ(tg_ip_sum(NULL, 0, 0), 0);
    CHECK_EQ(tg_ip_fold(0), 0xffff);
    CHECK_EQ(tg_ip_fold(0xffff), 0);
    CHECK_EQ(tg_ip_fold(0x1fffe), 0); /* folds an unfolded seed too */
    /* all ones sums to 0xffff (-0), never to 0 */
    static const uint8_t ff[] = {0xff, 0xff, 0xff, 0xff};
    CHECK_EQ(tg_ip_sum(ff, 4, 0), 0xffff);
    static const uint8_t cancel[] = {0x12, 0x34, 0xed, 0xcb};
    CHECK_EQ(tg_ip_sum(cancel, 4, 0), 0xffff);

    /* A header with its checksum in place sums to 0xffff. */
    uint8_t hdr[20];
    unhex("45000054 abcd 4000 4001 0000 c6336402 cb007103", hdr, sizeof hdr);
    put16(hdr + 10, tg_ip_fold(tg_ip_sum(hdr, 20, 0)));
    CHECK_EQ(tg_ip_sum(hdr, 20, 0), 0xffff);
    CHECK_EQ(tg_ip_fold(tg_ip_sum(hdr, 20, 0)), 0);

    /* against the naive sum, random lengths and a long buffer (carries) */
    uint8_t buf[70000];
    for (int i = 0; i < 2000; i++) {
        size_t len = rnd_below(i < 1990 ? 200 : sizeof buf);
        rnd_bytes(buf, len);
        if (i % 7 == 0)
            memset(buf, 0xff, len);
        CHECK_EQ(tg_ip_fold(tg_ip_sum(buf, len, 0)), naive_csum(buf, len));
    }
}

struct urow {
    uint16_t csum, old_word, new_word, want;
    int line;
};

static void test_update_table(void)
{
    static const struct urow rows[] = {
        /* unchanged word: unchanged checksum, including checksum 0 (RFC 1624
         * erratum 4782's example) */
        {0x0000, 0x5555, 0x5555, 0x0000, __LINE__},
        {0x1234, 0x0000, 0x0000, 0x1234, __LINE__},
        {0x1234, 0xffff, 0xffff, 0x1234, __LINE__},
        {0xfffe, 0xabcd, 0xabcd, 0xfffe, __LINE__},
        /* word 0x0001 -> 0x0002 lowers the checksum by one */
        {0x1234, 0x0001, 0x0002, 0x1233, __LINE__},
        /* ... and across zero: 0x0000 - 1 = 0xfffe in one's complement (the
         * sum goes from 0xffff to 0x0001), never 0xffff */
        {0x0000, 0x0001, 0x0002, 0xfffe, __LINE__},
        /* a change that makes the sum 0xffff gives checksum 0 */
        {0x0001, 0x0000, 0x0001, 0x0000, __LINE__},
        {0x0001, 0x1000, 0x1001, 0x0000, __LINE__},
        /* 0xffff and 0x0000 are both zero words */
        {0x4321, 0xffff, 0x0000, 0x4321, __LINE__},
        {0x4321, 0x0000, 0xffff, 0x4321, __LINE__},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct urow *r = &rows[i];
        uint16_t got = tg_ip_csum_update16(r->csum, r->old_word, r->new_word);
        if (got != r->want)
            fprintf(stderr, "update row at line %d: got 0x%04x\n", r->line, got);
        CHECK_EQ(got, r->want);
        uint8_t o[2], n[2];
        put16(o, r->old_word);
        put16(n, r->new_word);
        CHECK_EQ(tg_ip_csum_update(r->csum, o, n, 2), r->want);
    }
}

/* Random buffers with a correct checksum word at offset 0; change a word, a
 * 4-byte or a 16-byte field at an even offset incrementally and compare with
 * recomputation. A third of the buffers are steered so that the checksum is 0
 * before the change, a third so that it is 0 after. */
static void test_update_random(void)
{
    uint8_t buf[128], before[16];
    int zero_before = 0, zero_after = 0;
    for (int i = 0; i < 30000; i++) {
        size_t words = 12 + rnd_below(50);
        size_t len = words * 2;
        rnd_bytes(buf, len);
        size_t flen = (size_t[]){2, 4, 16}[rnd_below(3)];
        size_t foff = 2 + 2 * rnd_below((uint32_t)((len - 2 - flen) / 2 + 1));
        /* pick where the steering word goes: outside the field and offset 0 */
        size_t soff = foff == 2 ? foff + flen : 2;

        if (i % 5 == 0) { /* sparse data, but never all zero outside the field:
                           * over all-zero data a full recomputation gives
                           * 0xffff where any update gives 0 (no real packet
                           * is all zeros: version, protocol) */
            memset(buf + 2, 0, len - 2);
            put16(buf + soff, 1);
            rnd_bytes(buf + foff, flen);
        }
        put16(buf, 0);
        if (i % 3 == 1) { /* checksum 0 before: data sums to 0xffff */
            put16(buf + soff, 0);
            put16(buf + soff, (uint16_t)~tg_ip_sum(buf, len, 0));
        }
        put16(buf, tg_ip_fold(tg_ip_sum(buf, len, 0)));
        if (i % 3 == 1) {
            CHECK_EQ(get16(buf), 0);
            zero_before++;
        }
        uint16_t csum = get16(buf);

        memcpy(before, buf + foff, flen);
        rnd_bytes(buf + foff, flen);
        if (i % 3 == 2) { /* checksum 0 after: adjust the field's first word */
            put16(buf + foff, 0);
            uint8_t tmp[128];
            memcpy(tmp, buf, len);
            put16(tmp, 0);
            put16(buf + foff, (uint16_t)~tg_ip_sum(tmp, len, 0));
        }
        uint16_t inc = tg_ip_csum_update(csum, before, buf + foff, flen);
        put16(buf, 0);
        uint16_t full = tg_ip_fold(tg_ip_sum(buf, len, 0));
        if (inc != full)
            fprintf(stderr, "update case %d: incremental 0x%04x, full 0x%04x\n", i, inc, full);
        CHECK_EQ(inc, full);
        if (i % 3 == 2 && full == 0)
            zero_after++;
        if (flen == 2)
            CHECK_EQ(tg_ip_csum_update16(csum, get16(before), get16(buf + foff)), full);
    }
    CHECK(zero_before > 9000);
    CHECK(zero_after > 9000);
}

/* ----------------------------------------------------------- flow hash */

static void random_info(struct tg_ip_info *ip)
{
    memset(ip, 0, sizeof *ip);
    ip->version = rnd_below(2) ? 4 : 6;
    static const uint8_t protos[] = {TG_PROTO_TCP, TG_PROTO_UDP, TG_PROTO_ICMP, TG_PROTO_ICMPV6};
    ip->proto = protos[rnd_below(4)];
    if (ip->version == 4) {
        static const uint8_t nets[][3] = {{192, 0, 2}, {198, 51, 100}, {203, 0, 113}};
        memcpy(ip->src, nets[rnd_below(3)], 3);
        memcpy(ip->dst, nets[rnd_below(3)], 3);
        ip->src[3] = (uint8_t)rnd();
        ip->dst[3] = (uint8_t)rnd();
    } else {
        static const uint8_t db8[4] = {0x20, 0x01, 0x0d, 0xb8};
        memcpy(ip->src, db8, 4);
        memcpy(ip->dst, db8, 4);
        rnd_bytes(ip->src + 4, 12);
        rnd_bytes(ip->dst + 4, 12);
    }
    ip->has_ports = true;
    ip->src_port = (uint16_t)rnd();
    ip->dst_port = (uint16_t)rnd();
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_flow_hash(void)
{
    uint8_t key[16], key2[16];
    rnd_bytes(key, 16);
    memcpy(key2, key, 16);
    key2[15] ^= 1;

    /* The documented encoding, byte for byte. */
    struct tg_ip_info ip;
    memset(&ip, 0, sizeof ip);
    ip.version = 4;
    ip.proto = TG_PROTO_UDP;
    memcpy(ip.src, (const uint8_t[]){198, 51, 100, 7}, 4);
    memcpy(ip.dst, (const uint8_t[]){203, 0, 113, 9}, 4);
    ip.src_port = 0x1234;
    ip.dst_port = 53;
    ip.has_ports = true;
    uint8_t enc[TG_FLOW_ENCODING_LEN], h[8];
    unhex("04 11 c6336407000000000000000000000000 cb007109000000000000000000000000 1234 0035", enc,
          sizeof enc);
    crypto_shorthash_siphash24(h, enc, sizeof enc, key);
    uint64_t want = 0;
    for (int i = 7; i >= 0; i--)
        want = want << 8 | h[i];
    CHECK_EQ(tg_flow_hash(key, &ip), want);

    /* Bytes outside the encoding do not matter: IPv4's unused address bytes,
     * ports of a packet without ports. */
    struct tg_ip_info dirty = ip;
    memset(dirty.src + 4, 0xee, 12);
    memset(dirty.dst + 4, 0x11, 12);
    dirty.l4_off = 99;
    dirty.total_len = 1234;
    CHECK_EQ(tg_flow_hash(key, &dirty), want);
    struct tg_ip_info np = ip, np0 = ip;
    np.has_ports = false;
    np0.has_ports = false;
    np0.src_port = np0.dst_port = 0;
    CHECK_EQ(tg_flow_hash(key, &np), tg_flow_hash(key, &np0));
    CHECK(tg_flow_hash(key, &np) != want);
    /* the same address bytes as IPv6 are another flow */
    struct tg_ip_info as6 = ip;
    as6.version = 6;
    CHECK(tg_flow_hash(key, &as6) != want);

    /* tg_flow_hash_packet = parse + hash */
    uint8_t pkt[64];
    size_t len = unhex("4500001c 0000 0000 4011 0000 c6336407 cb007109 1234 0035 0008 0000", pkt,
                       sizeof pkt);
    uint64_t got = 1;
    CHECK_EQ(tg_flow_hash_packet(key, pkt, len, &got), TG_OK);
    CHECK_EQ(got, want);
    got = 1;
    CHECK_EQ(tg_flow_hash_packet(key, pkt, len - 1, &got), TG_ERR_MALFORMED);
    CHECK_EQ(got, 0);
    CHECK_EQ(tg_flow_hash_packet(key, pkt, 3, &got), TG_ERR_TRUNCATED);
    pkt[0] = 0x55;
    CHECK_EQ(tg_flow_hash_packet(key, pkt, len, &got), TG_ERR_MALFORMED);

    /* Random tuples: stable, every field matters, no collisions, key matters. */
    enum { N = 4000 };
    static uint64_t hashes[N];
    int changed = 0, key_differs = 0;
    for (int i = 0; i < N; i++) {
        random_info(&ip);
        /* unique by construction: the index goes into the source port and
         * the low address byte */
        ip.src_port = (uint16_t)i;
        ip.src[ip.version == 4 ? 3 : 15] = (uint8_t)(i >> 8);
        uint64_t a = tg_flow_hash(key, &ip);
        hashes[i] = a;
        struct tg_ip_info copy = ip;
        CHECK_EQ(tg_flow_hash(key, &copy), a);
        key_differs += tg_flow_hash(key2, &ip) != a;

        for (int f = 0; f < 6; f++) {
            struct tg_ip_info m = ip;
            size_t alen = ip.version == 4 ? 4 : 16;
            switch (f) {
            case 0:
                m.version = ip.version == 4 ? 6 : 4;
                break;
            case 1:
                m.proto = (uint8_t)(ip.proto + 1 + rnd_below(200));
                break;
            case 2:
                m.src[rnd_below((uint32_t)alen)] ^= (uint8_t)(1u << rnd_below(8));
                break;
            case 3:
                m.dst[rnd_below((uint32_t)alen)] ^= (uint8_t)(1u << rnd_below(8));
                break;
            case 4:
                m.src_port ^= (uint16_t)(1u << rnd_below(16));
                break;
            default:
                m.dst_port ^= (uint16_t)(1u << rnd_below(16));
                break;
            }
            changed += tg_flow_hash(key, &m) != a;
        }
    }
    CHECK_EQ(changed, N * 6);
    CHECK_EQ(key_differs, N);
    qsort(hashes, N, sizeof hashes[0], cmp_u64);
    int collisions = 0;
    for (int i = 1; i < N; i++)
        collisions += hashes[i] == hashes[i - 1];
    CHECK_EQ(collisions, 0);
}

int main(int argc, char **argv)
{
    uint64_t seed = 0x74676970u; /* "tgip" */
    if (argc > 1)
        seed = strtoull(argv[1], NULL, 0);
    printf("test_ip: seed 0x%" PRIx64 "\n", seed);
    rng_state = seed;

    test_parse_table();
    test_parse_cuts();
    test_parse_random();
    test_sum_basics();
    test_update_table();
    test_update_random();
    test_flow_hash();
    return check_exit("test_ip");
}
