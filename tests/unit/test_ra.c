/* The tunnel's IPv6 address messages (core/ra.c): the packets built are
 * what RFC 4861 says (checked byte by byte and by an independent checksum),
 * the parsers accept them and refuse each kind of damage (a table), and the
 * address arithmetic round-trips. */
#include <string.h>

#include "check.h"
#include "core/ip.h"
#include "core/ra.h"

static const uint8_t P64[16] = {0x20, 0x01, 0x0d, 0xb8, 0x00, 0x85};

/* A naive ICMPv6 checksum verifier: 32-bit sum over pseudo-header and data. */
static int naive_ok(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    size_t plen = len - 40;
    for (size_t i = 8; i < 40; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    sum += (uint32_t)plen + 58;
    for (size_t i = 40; i < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | (i + 1 < len ? p[i + 1] : 0));
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return sum == 0xffff;
}

static void solicit(void)
{
    uint8_t rs[TG_RA_SOLICIT_LEN];
    CHECK_EQ(tg_ra_solicit(rs, sizeof rs - 1), TG_ERR_NOBUF);
    CHECK_EQ(tg_ra_solicit(rs, sizeof rs), TG_OK);
    static const uint8_t head[8] = {0x60, 0, 0, 0, 0, 8, 58, 255};
    static const uint8_t dst[16] = {0xff, 0x02, [15] = 2};
    CHECK_MEM(rs, head, 8);
    CHECK_MEM(rs + 24, dst, 16);
    CHECK_EQ(rs[40], 133);
    CHECK(naive_ok(rs, sizeof rs));
    CHECK(tg_ra_is_solicit(rs, sizeof rs));
    /* what is not a solicitation */
    uint8_t bad[TG_RA_SOLICIT_LEN];
    memcpy(bad, rs, sizeof bad);
    bad[7] = 64; /* crossed a router */
    CHECK(!tg_ra_is_solicit(bad, sizeof bad));
    memcpy(bad, rs, sizeof bad);
    bad[40] = 134;
    CHECK(!tg_ra_is_solicit(bad, sizeof bad));
    memcpy(bad, rs, sizeof bad);
    bad[8] = 0x20; /* from a global address */
    CHECK(!tg_ra_is_solicit(bad, sizeof bad));
    memcpy(bad, rs, sizeof bad);
    bad[8] = 0xfe, bad[9] = 0x80; /* from a link-local one: fine */
    CHECK(tg_ra_is_solicit(bad, sizeof bad));
    CHECK(!tg_ra_is_solicit(rs, sizeof rs - 1)); /* cut short */
    CHECK(!tg_ra_is_solicit(NULL, 0));
}

static void advertise(void)
{
    uint8_t ra[TG_RA_ADVERT_LEN], prefix[16], plen;
    CHECK_EQ(tg_ra_advertise(ra, sizeof ra - 1, P64, 64), TG_ERR_NOBUF);
    CHECK_EQ(tg_ra_advertise(ra, sizeof ra, P64, 15), TG_ERR_INVAL);
    CHECK_EQ(tg_ra_advertise(ra, sizeof ra, P64, 97), TG_ERR_INVAL);
    uint8_t dirty[16];
    memcpy(dirty, P64, 16);
    dirty[15] = 0x55; /* host bits are not advertised */
    CHECK_EQ(tg_ra_advertise(ra, sizeof ra, dirty, 64), TG_OK);
    CHECK(naive_ok(ra, sizeof ra));
    CHECK_EQ(ra[7], 255);
    CHECK_EQ(ra[8], 0xfe);
    CHECK_EQ(ra[40], 134);
    CHECK_EQ(ra[56], 3); /* prefix information */
    CHECK_EQ(ra[57], 4); /* 32 bytes */
    CHECK_EQ(ra[58], 64);
    CHECK_MEM(ra + 72, P64, 16);
    CHECK_EQ(tg_ra_parse(ra, sizeof ra, prefix, &plen), TG_OK);
    CHECK_MEM(prefix, P64, 16);
    CHECK_EQ(plen, 64);
    CHECK(!tg_ra_is_solicit(ra, sizeof ra));

    /* damage, one kind per row; the parse fails and leaves zeros */
    static const struct {
        size_t at;
        uint8_t value;
        const char *what;
    } rows[] = {
        {7, 64, "hop limit not 255"},
        {8, 0x20, "not from a link-local address"},
        {40, 133, "not an advertisement"},
        {41, 1, "code not 0"},
        {43, 0x12, "bad checksum"},
        {57, 0, "option of length 0"},
        {57, 9, "option longer than the packet"},
        {56, 1, "no prefix option (only another option)"},
        {58, 15, "prefix shorter than /16"},
        {58, 97, "prefix longer than /96"},
        {6, 17, "not ICMPv6"},
        {0, 0x45, "not IPv6"},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        uint8_t bad[TG_RA_ADVERT_LEN];
        memcpy(bad, ra, sizeof bad);
        bad[rows[r].at] = rows[r].value;
        if (rows[r].at != 43 && rows[r].at != 0 && rows[r].at != 6) { /* fix the checksum */
            bad[42] = bad[43] = 0;
            uint32_t s = tg_ip_sum(bad + 8, 32, 0);
            uint8_t ph[8] = {0, 0, 0, 48, 0, 0, 0, 58};
            s = tg_ip_sum(ph, 8, s);
            uint16_t c = tg_ip_fold(tg_ip_sum(bad + 40, 48, s));
            bad[42] = (uint8_t)(c >> 8), bad[43] = (uint8_t)c;
        }
        memset(prefix, 0xaa, sizeof prefix);
        plen = 0xaa;
        int rc = tg_ra_parse(bad, sizeof bad, prefix, &plen);
        if (rc != TG_ERR_MALFORMED)
            fprintf(stderr, "row %zu (%s): accepted\n", r, rows[r].what);
        CHECK_EQ(rc, TG_ERR_MALFORMED);
        static const uint8_t zero[16];
        CHECK_MEM(prefix, zero, 16);
        CHECK_EQ(plen, 0);
    }
    for (size_t n = 0; n < sizeof ra; n++) /* every truncation */
        CHECK_EQ(tg_ra_parse(ra, n, prefix, &plen), TG_ERR_MALFORMED);
}

static void arithmetic(void)
{
    static const struct {
        uint8_t plen;
        uint32_t host;
        uint8_t last4[4];
    } rows[] = {
        {64, 1, {0, 0, 0, 1}},        {64, 7, {0, 0, 0, 7}},
        {64, 0x010203, {0, 1, 2, 3}}, {96, 0xffffffffu, {0xff, 0xff, 0xff, 0xff}},
        {48, 2, {0, 0, 0, 2}},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        uint8_t a[16];
        uint32_t host = 0;
        tg_ra_addr(P64, rows[r].plen, rows[r].host, a);
        CHECK_MEM(a + 12, rows[r].last4, 4);
        CHECK_MEM(a, P64, 6);
        CHECK(tg_ra_host(P64, rows[r].plen, a, &host));
        CHECK_EQ(host, rows[r].host);
    }
    uint8_t a[16];
    uint32_t host;
    tg_ra_addr(P64, 64, 9, a);
    a[5] ^= 1; /* another /64 */
    CHECK(!tg_ra_host(P64, 64, a, &host));
    tg_ra_addr(P64, 64, 9, a);
    a[10] = 1; /* inside the /64 but above the 32 host bits */
    CHECK(!tg_ra_host(P64, 64, a, &host));
    CHECK(!tg_ra_host(P64, 97, a, &host));
    uint8_t m[16];
    memset(m, 0xff, 16);
    tg_ra_mask(m, 20);
    static const uint8_t m20[16] = {0xff, 0xff, 0xf0};
    CHECK_MEM(m, m20, 16);
}

int main(void)
{
    solicit();
    advertise();
    arithmetic();
    return check_exit("test_ra");
}
