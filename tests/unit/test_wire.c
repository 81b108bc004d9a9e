/* Outer message parsing and inner frame codec: tables of (bytes, expected). */
#include "check.h"
#include "core/wire.h"

#include <stdio.h>
#include <stdint.h>
#include <string.h>

static void test_parse_table(void)
{
    static const struct {
        uint8_t type, r1; /* first byte and one reserved byte */
        size_t len;
        int want;
    } rows[] = {
        {TG_MSG_HS_INIT, 0, 0, TG_ERR_TRUNCATED},
        {TG_MSG_HS_INIT, 0, 3, TG_ERR_TRUNCATED},
        {TG_MSG_HS_INIT, 0, 8 + 48, TG_ERR_TRUNCATED}, /* no room for the MACs */
        {TG_MSG_HS_INIT, 0, 8 + 48 + 31, TG_ERR_TRUNCATED},
        {TG_MSG_HS_INIT, 0, 8 + 48 + 32, TG_OK},
        {TG_MSG_HS_INIT, 1, 8 + 48 + 32, TG_ERR_MALFORMED},
        {TG_MSG_HS_JOIN, 0, 8 + 48 + 31, TG_ERR_TRUNCATED},
        {TG_MSG_HS_JOIN, 0, 8 + 200, TG_OK},
        {TG_MSG_HS_RESP, 0, 12 + 47, TG_ERR_TRUNCATED},
        {TG_MSG_HS_RESP, 0, 12 + 48, TG_OK},
        {TG_MSG_HS_RESP, 0x80, 12 + 48, TG_ERR_MALFORMED},
        {TG_MSG_DATA, 0, 16 + 15, TG_ERR_TRUNCATED},
        {TG_MSG_DATA, 0, 16 + 16, TG_OK},
        {TG_MSG_DATA, 0, 1500, TG_OK},
        {TG_MSG_DATA, 0, 65535, TG_OK},
        {TG_MSG_DATA, 0, 65536, TG_ERR_MALFORMED},
        {TG_MSG_DATA, 2, 100, TG_ERR_MALFORMED},
        {0, 0, 100, TG_ERR_UNKNOWN_TYPE},
        {TG_MSG_HS_COOKIE, 0, 63, TG_ERR_TRUNCATED},
        {TG_MSG_HS_COOKIE, 0, 64, TG_OK},
        {TG_MSG_HS_COOKIE, 0, 65, TG_ERR_MALFORMED},
        {TG_MSG_HS_COOKIE, 3, 64, TG_ERR_MALFORMED},
        {6, 0, 100, TG_ERR_UNKNOWN_TYPE},
        {0xff, 0, 100, TG_ERR_UNKNOWN_TYPE},
    };
    static uint8_t buf[65536];
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        memset(buf, 0xab, sizeof buf);
        buf[0] = rows[i].type;
        buf[1] = buf[3] = 0;
        buf[2] = rows[i].r1;
        struct tg_wire_msg m;
        int rc = tg_wire_parse(buf, rows[i].len, &m);
        if (rc != rows[i].want)
            fprintf(stderr, "row %zu\n", i);
        CHECK_EQ(rc, rows[i].want);
    }
}

static void test_headers_round_trip(void)
{
    uint8_t buf[64] = {0};
    struct tg_wire_msg m;

    tg_wire_put_data_header(buf, 0xdeadbeef, 0x0102030405060708u);
    CHECK_EQ(tg_wire_parse(buf, TG_DATA_HEADER_LEN + TG_AEAD_TAG_LEN, &m), TG_OK);
    CHECK_EQ(m.type, TG_MSG_DATA);
    CHECK_EQ(m.receiver_index, 0xdeadbeef);
    CHECK(m.counter == 0x0102030405060708u);
    CHECK(m.body == buf + 16);
    CHECK_EQ(m.body_len, 16);
    CHECK_EQ(buf[8], 0x08); /* little-endian counter */

    tg_wire_put_hs_init_header(buf, TG_MSG_HS_JOIN, 77);
    CHECK_EQ(tg_wire_parse(buf, 8 + 48 + 32, &m), TG_OK);
    CHECK_EQ(m.type, TG_MSG_HS_JOIN);
    CHECK_EQ(m.sender_index, 77);
    CHECK_EQ(m.body_len, 48); /* the Noise message alone */
    CHECK(m.macs == buf + 8 + 48);

    buf[0] = TG_MSG_HS_COOKIE;
    tg_put_u32(buf + 4, 99);
    CHECK_EQ(tg_wire_parse(buf, 64, &m), TG_OK);
    CHECK_EQ(m.receiver_index, 99);
    CHECK(m.body == buf + 8);
    CHECK_EQ(m.body_len, 56);

    tg_wire_put_hs_resp_header(buf, 5, 6);
    CHECK_EQ(tg_wire_parse(buf, 12 + 48, &m), TG_OK);
    CHECK_EQ(m.receiver_index, 5);
    CHECK_EQ(m.sender_index, 6);
    CHECK(m.body == buf + 12);
}

static void test_frames_round_trip(void)
{
    uint8_t buf[256];
    size_t off = 0;
    const uint8_t pkt[5] = {0x45, 1, 2, 3, 4};
    CHECK_EQ(tg_frame_put_feedback(buf, sizeof buf, &off, 3, 10, 20, 30, -40), TG_OK);
    CHECK_EQ(tg_frame_put_ping(buf, sizeof buf, &off, TG_FRAME_PING, 7, 1000), TG_OK);
    CHECK_EQ(tg_frame_put_ping(buf, sizeof buf, &off, TG_FRAME_PONG, 7, 1000), TG_OK);
    CHECK_EQ(tg_frame_put_ping(buf, sizeof buf, &off, TG_FRAME_DATA, 7, 1000), TG_ERR_INVAL);
    CHECK_EQ(tg_frame_put_close(buf, sizeof buf, &off, 2), TG_OK);
    CHECK_EQ(off, TG_FRAME_FEEDBACK_LEN + 2 * TG_FRAME_PING_LEN + TG_FRAME_CLOSE_LEN);
    size_t end = off;
    buf[off++] = TG_FRAME_PADDING;
    buf[off++] = 0x77; /* padding content is ignored */

    struct tg_frame f;
    size_t r = 0;
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_FEEDBACK);
    CHECK_EQ(f.u.feedback.uplink, 3);
    CHECK_EQ(f.u.feedback.rx_packets, 10);
    CHECK_EQ(f.u.feedback.rx_bytes, 20);
    CHECK_EQ(f.u.feedback.highest_seq, 30);
    CHECK_EQ(f.u.feedback.owd_us, -40);
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_PING);
    CHECK_EQ(f.u.ping.id, 7);
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_PONG);
    CHECK_EQ(f.u.ping.send_time_us, 1000);
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_CLOSE);
    CHECK_EQ(f.u.close.reason, 2);
    CHECK_EQ(r, end);
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 0); /* padding ends the plaintext */
    CHECK_EQ(r, off);
    CHECK_EQ(tg_frame_next(buf, off, &r, &f), 0);

    /* DATA goes last and its packet runs to the end; the low 32 bits of the
     * sequence number and of the send time travel, and PREV adds 2 bytes */
    const uint64_t seq = 0x100000063u, sent = 0x200012345u;
    for (uint16_t delta = 0; delta < 2; delta++) {
        off = 0;
        CHECK_EQ(tg_frame_put_feedback(buf, sizeof buf, &off, 3, 10, 20, 30, -40), TG_OK);
        CHECK_EQ(tg_frame_put_data(buf, sizeof buf, &off, TG_DATA_FLAG_ORDERED, seq, sent, delta,
                                   pkt, 5),
                 TG_OK);
        CHECK_EQ(off, TG_FRAME_FEEDBACK_LEN + TG_FRAME_DATA_HEADER_LEN + 2u * delta + 5);
        r = 0;
        CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
        CHECK_EQ(tg_frame_next(buf, off, &r, &f), 1);
        CHECK_EQ(f.type, TG_FRAME_DATA);
        CHECK_EQ(f.u.data.seq, 0x63);
        CHECK_EQ(f.u.data.flags, TG_DATA_FLAG_ORDERED | (delta ? TG_DATA_FLAG_PREV : 0));
        CHECK_EQ(f.u.data.send_time_us, 0x12345);
        CHECK_EQ(f.u.data.prev_delta, delta);
        CHECK_EQ(f.u.data.len, 5);
        CHECK_MEM(f.u.data.packet, pkt, 5);
        CHECK_EQ(r, off);
        CHECK_EQ(tg_frame_next(buf, off, &r, &f), 0);
    }
}

/* Widening 32 bits back to 64 next to a known value, across the wraps. */
static void test_widen32(void)
{
    static const struct {
        uint32_t low;
        uint64_t near, want;
    } rows[] = {
        {5, 0, 5},
        {0xffffffffu, 0, 0xffffffffu}, /* nothing below 0 */
        {0xfffffff0u, 0x100000010u, 0xfffffff0u},   /* just before a wrap */
        {0x10, 0xfffffff0u, 0x100000010u},          /* just after one */
        {0x80000000u, 0, 0x80000000u},
        {7, 0x300000000u + 9, 0x300000007u},        /* a little late */
        {0x7fffffffu, 0x380000000u, 0x37fffffffu},
        {0xffffffffu, UINT64_MAX - 3, UINT64_MAX},
        {0, UINT64_MAX - 3, UINT64_MAX - 0xffffffffu}, /* nothing above 2^64 - 1 */
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        CHECK(tg_widen32(rows[i].low, rows[i].near) == rows[i].want);
        if (tg_widen32(rows[i].low, rows[i].near) != rows[i].want)
            fprintf(stderr, "  widen row %zu: %llx\n", i,
                    (unsigned long long)tg_widen32(rows[i].low, rows[i].near));
    }
}

static void test_frame_errors(void)
{
    uint8_t buf[64];
    size_t off = 0;
    struct tg_frame f;
    const uint8_t pkt[8] = {0};

    /* every cut into a DATA frame's header is refused; a cut packet is shorter */
    CHECK_EQ(tg_frame_put_data(buf, sizeof buf, &off, 0, 1, 2, 3, pkt, 8), TG_OK);
    CHECK_EQ(off, TG_FRAME_DATA_MAX_HEADER_LEN + 8);
    for (size_t cut = 1; cut < TG_FRAME_DATA_MAX_HEADER_LEN; cut++) {
        size_t r = 0;
        CHECK_EQ(tg_frame_next(buf, cut, &r, &f), TG_ERR_TRUNCATED);
    }
    size_t r = 0;
    CHECK_EQ(tg_frame_next(buf, off - 3, &r, &f), 1);
    CHECK_EQ(f.u.data.len, 5);
    /* a packet over 65535 bytes cannot be DATA */
    static uint8_t big[TG_FRAME_DATA_HEADER_LEN + 65536];
    memcpy(big, buf, TG_FRAME_DATA_HEADER_LEN);
    big[1] = 0;
    r = 0;
    CHECK_EQ(tg_frame_next(big, sizeof big, &r, &f), TG_ERR_MALFORMED);
    r = 0;
    CHECK_EQ(tg_frame_next(big, sizeof big - 1, &r, &f), 1);

    const uint8_t unknown[] = {0x0b, 0, 0};
    r = 0;
    CHECK_EQ(tg_frame_next(unknown, sizeof unknown, &r, &f), TG_ERR_UNKNOWN_TYPE);
    /* PATH_SEQ: round trip, truncated, no room */
    uint8_t ps[TG_FRAME_PATH_SEQ_LEN];
    size_t po = 0;
    CHECK_EQ(tg_frame_put_path_seq(ps, sizeof ps, &po, 0x0102030405060708u), TG_OK);
    CHECK_EQ(po, 5);
    CHECK_EQ(ps[0], TG_FRAME_PATH_SEQ);
    r = 0;
    CHECK_EQ(tg_frame_next(ps, sizeof ps, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_PATH_SEQ);
    CHECK(f.u.path_seq.prev_seq == 0x05060708u);
    CHECK_EQ(r, sizeof ps);
    r = 0;
    CHECK_EQ(tg_frame_next(ps, sizeof ps - 1, &r, &f), TG_ERR_TRUNCATED);
    po = 1;
    CHECK_EQ(tg_frame_put_path_seq(ps, sizeof ps, &po, 1), TG_ERR_NOBUF);
    CHECK_EQ(po, 1);
    /* SESSION: round trip, truncated, no room */
    uint8_t sf[TG_FRAME_SESSION_LEN];
    const uint8_t tok[TG_SESSION_TOKEN_LEN] = {1, 2, 3, 4, 5, 6, 7, 8}, sa[4] = {198, 18, 0, 9};
    po = 0;
    CHECK_EQ(tg_frame_put_session(sf, sizeof sf, &po, tok, sa, 15), TG_OK);
    CHECK_EQ(po, 14);
    r = 0;
    CHECK_EQ(tg_frame_next(sf, sizeof sf, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_SESSION);
    CHECK(memcmp(f.u.session.token, tok, sizeof tok) == 0);
    CHECK(memcmp(f.u.session.addr, sa, 4) == 0);
    CHECK_EQ(f.u.session.prefix, 15);
    r = 0;
    CHECK_EQ(tg_frame_next(sf, sizeof sf - 1, &r, &f), TG_ERR_TRUNCATED);
    po = 1;
    CHECK_EQ(tg_frame_put_session(sf, sizeof sf, &po, tok, sa, 15), TG_ERR_NOBUF);
    CHECK_EQ(po, 1);
    /* NACK: round trip, count 0 and 33 refused, truncated list, no room */
    uint8_t nk[TG_FRAME_NACK_HEADER_LEN + 4 * 3];
    const uint64_t lost[3] = {7, 0x100000009u, 11};
    po = 0;
    CHECK_EQ(tg_frame_put_nack(nk, sizeof nk, &po, lost, 3), TG_OK);
    CHECK_EQ(po, sizeof nk);
    r = 0;
    CHECK_EQ(tg_frame_next(nk, sizeof nk, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_NACK);
    CHECK_EQ(f.u.nack.count, 3);
    CHECK_EQ(tg_get_u32(f.u.nack.seqs + 4), 9); /* the low 32 bits */
    CHECK_EQ(r, sizeof nk);
    r = 0;
    CHECK_EQ(tg_frame_next(nk, sizeof nk - 1, &r, &f), TG_ERR_TRUNCATED);
    po = 0;
    CHECK_EQ(tg_frame_put_nack(nk, sizeof nk, &po, lost, 0), TG_ERR_INVAL);
    CHECK_EQ(tg_frame_put_nack(nk, sizeof nk - 1, &po, lost, 3), TG_ERR_NOBUF);
    CHECK_EQ(po, 0);
    const uint8_t nk0[] = {TG_FRAME_NACK, 0}, nk33[] = {TG_FRAME_NACK, 33};
    r = 0;
    CHECK_EQ(tg_frame_next(nk0, sizeof nk0, &r, &f), TG_ERR_MALFORMED);
    r = 0;
    CHECK_EQ(tg_frame_next(nk33, sizeof nk33, &r, &f), TG_ERR_MALFORMED);
    /* LOST_RUN: round trip (low 32 bits of each), truncated, no room */
    uint8_t lr[TG_FRAME_LOST_RUN_LEN];
    po = 0;
    CHECK_EQ(tg_frame_put_lost_run(lr, sizeof lr, &po, 0x100000007u, 0x2000000ffu), TG_OK);
    CHECK_EQ(po, sizeof lr);
    r = 0;
    CHECK_EQ(tg_frame_next(lr, sizeof lr, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_LOST_RUN);
    CHECK_EQ(f.u.lost_run.seq, 7);
    CHECK_EQ(f.u.lost_run.after, 0xff);
    CHECK_EQ(r, sizeof lr);
    r = 0;
    CHECK_EQ(tg_frame_next(lr, sizeof lr - 1, &r, &f), TG_ERR_TRUNCATED);
    po = 1;
    CHECK_EQ(tg_frame_put_lost_run(lr, sizeof lr, &po, 1, 2), TG_ERR_NOBUF);
    CHECK_EQ(po, 1);
    const uint8_t short_ping[] = {TG_FRAME_PING, 0, 0, 0};
    r = 0;
    CHECK_EQ(tg_frame_next(short_ping, sizeof short_ping, &r, &f), TG_ERR_TRUNCATED);

    /* encoders refuse what does not fit and write nothing */
    off = 60;
    CHECK_EQ(tg_frame_put_data(buf, sizeof buf, &off, 0, 1, 2, 0, pkt, 8), TG_ERR_NOBUF);
    CHECK_EQ(tg_frame_put_feedback(buf, sizeof buf, &off, 0, 0, 0, 0, 0), TG_ERR_NOBUF);
    CHECK_EQ(tg_frame_put_ping(buf, sizeof buf, &off, TG_FRAME_PING, 0, 0), TG_ERR_NOBUF);
    CHECK_EQ(off, 60);
    off = 63;
    CHECK_EQ(tg_frame_put_close(buf, sizeof buf, &off, 0), TG_ERR_NOBUF);
    off = 65; /* past cap */
    CHECK_EQ(tg_frame_put_close(buf, sizeof buf, &off, 0), TG_ERR_NOBUF);
}

/* OBSERVED as a table: (address, encoded length, what decoding the first
 * `cut` bytes gives). */
static void test_observed(void)
{
    const struct {
        struct tg_key_addr a;
        int put;        /* tg_frame_put_observed's result */
        size_t len;     /* bytes written */
    } rows[] = {
        {{TG_ADDR_IPV4, {198, 51, 100, 7}, 40000}, TG_OK, 8},
        {{TG_ADDR_IPV6, {0x20, 0x01, 0x0d, 0xb8, [15] = 9}, 7443}, TG_OK, 20},
        {{TG_ADDR_IPV4, {203, 0, 113, 1}, 1}, TG_OK, 8},
        {{0, {1, 2, 3, 4}, 5}, TG_ERR_INVAL, 0},
        {{3, {1, 2, 3, 4}, 5}, TG_ERR_INVAL, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t b[32];
        size_t off = 0, r = 0;
        struct tg_frame f;
        CHECK_EQ(tg_frame_put_observed(b, sizeof b, &off, &rows[i].a), rows[i].put);
        CHECK_EQ(off, rows[i].len);
        if (rows[i].put != TG_OK)
            continue;
        CHECK_EQ(tg_frame_next(b, off, &r, &f), 1);
        CHECK_EQ(r, off);
        CHECK_EQ(f.type, TG_FRAME_OBSERVED);
        CHECK_EQ(f.u.observed.type, rows[i].a.type);
        CHECK_EQ(f.u.observed.port, rows[i].a.port);
        CHECK_MEM(f.u.observed.addr, rows[i].a.addr, 16);
        for (size_t cut = 1; cut < off; cut++) { /* every shorter frame is truncated */
            r = 0;
            CHECK_EQ(tg_frame_next(b, cut, &r, &f), TG_ERR_TRUNCATED);
        }
        size_t room = 0; /* no room: nothing written */
        CHECK_EQ(tg_frame_put_observed(b, off - 1, &room, &rows[i].a), TG_ERR_NOBUF);
        CHECK_EQ(room, 0);
    }
    const uint8_t bad_type[] = {TG_FRAME_OBSERVED, 7, 1, 0, 1, 2, 3, 4};
    size_t r = 0;
    struct tg_frame f;
    CHECK_EQ(tg_frame_next(bad_type, sizeof bad_type, &r, &f), TG_ERR_MALFORMED);
    /* it may precede a PONG in one plaintext */
    uint8_t two[40];
    size_t off = 0;
    CHECK_EQ(tg_frame_put_observed(two, sizeof two, &off, &rows[0].a), TG_OK);
    CHECK_EQ(tg_frame_put_ping(two, sizeof two, &off, TG_FRAME_PONG, 5, 6), TG_OK);
    r = 0;
    CHECK_EQ(tg_frame_next(two, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_OBSERVED);
    CHECK_EQ(tg_frame_next(two, off, &r, &f), 1);
    CHECK_EQ(f.type, TG_FRAME_PONG);
    CHECK_EQ(f.u.ping.id, 5);
}

static void test_strerror(void)
{
    for (int e = 0; e >= -60; e--) {
        const char *s = tg_strerror(e);
        CHECK(s != NULL && s[0] != '\0');
    }
    CHECK(strcmp(tg_strerror(-1000), "unknown error") == 0);
    CHECK(strcmp(tg_strerror(TG_ERR_DECRYPT), tg_strerror(TG_ERR_REPLAY)) != 0);
}

int main(void)
{
    test_parse_table();
    test_headers_round_trip();
    test_frames_round_trip();
    test_widen32();
    test_frame_errors();
    test_observed();
    test_strerror();
    return check_exit("test_wire");
}
