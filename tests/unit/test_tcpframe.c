/* TCP fallback framing (runtime/tcpframe.c): datagrams survive any split of
 * the stream; a length of 0 or above the maximum drops the connection for
 * good; half a frame holds only the fixed buffer; the encoder refuses what the
 * decoder would refuse. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tcpframe.h"

static struct tg_tcpframe_dec dec; /* ~64 KiB: not on the stack */

/* A stream of n datagrams of lengths lens[i], byte j of datagram i = i*7+j. */
static size_t build(uint8_t *out, const size_t *lens, size_t n)
{
    size_t off = 0;
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(tg_tcpframe_header(out + off, lens[i]), 0);
        off += TG_TCPFRAME_HDR;
        for (size_t j = 0; j < lens[i]; j++)
            out[off + j] = (uint8_t)(i * 7 + j);
        off += lens[i];
    }
    return off;
}

/* Feeds the stream in chunks of the given sizes (cycled); checks every
 * datagram comes out whole and in order. Returns the number seen. */
static size_t replay(const uint8_t *s, size_t len, const size_t *chunks, size_t nchunks,
                     const size_t *lens, size_t n)
{
    size_t seen = 0, off = 0, c = 0;
    tg_tcpframe_init(&dec, 0);
    while (off < len) {
        size_t k = chunks[c++ % nchunks];
        if (k > len - off)
            k = len - off;
        const uint8_t *p = s + off;
        size_t left = k;
        const uint8_t *f;
        size_t fl;
        enum tg_tcpframe_status st;
        while ((st = tg_tcpframe_feed(&dec, &p, &left, &f, &fl)) == TG_TCPFRAME_FRAME) {
            CHECK(seen < n);
            if (seen >= n)
                return seen;
            CHECK_EQ(fl, lens[seen]);
            int ok = 1;
            for (size_t j = 0; j < fl; j++)
                ok &= f[j] == (uint8_t)(seen * 7 + j);
            CHECK(ok);
            seen++;
        }
        CHECK_EQ(st, TG_TCPFRAME_NEED_MORE);
        CHECK_EQ(left, 0);
        off += k;
    }
    return seen;
}

int main(void)
{
    static uint8_t stream[8 * (TG_TCPFRAME_HDR + TG_TCPFRAME_MAX)];
    static const size_t lens[] = {1, 1420, 2, TG_TCPFRAME_MAX, 60, 1, 9000, 300};
    size_t n = sizeof lens / sizeof lens[0];
    size_t len = build(stream, lens, n);

    /* Any split: whole, byte by byte, odd sizes, header split across reads. */
    static const size_t whole[] = {sizeof stream}, one[] = {1}, odd[] = {3, 1, 1500, 7},
                        big[] = {65536, 1};
    CHECK_EQ(replay(stream, len, whole, 1, lens, n), n);
    CHECK_EQ(replay(stream, len, one, 1, lens, n), n);
    CHECK_EQ(replay(stream, len, odd, 4, lens, n), n);
    CHECK_EQ(replay(stream, len, big, 2, lens, n), n);
    srand(14);
    for (int round = 0; round < 50; round++) {
        size_t chunks[16];
        for (size_t i = 0; i < 16; i++)
            chunks[i] = 1 + (size_t)rand() % 4000;
        CHECK_EQ(replay(stream, len, chunks, 16, lens, n), n);
    }

    /* A length of 0 is refused, and the decoder stays refused. */
    const uint8_t *f = NULL;
    size_t fl = 0;
    uint8_t zero[] = {0, 0, 0, 5, 1, 2, 3, 4, 5};
    const uint8_t *p = zero;
    size_t left = sizeof zero;
    tg_tcpframe_init(&dec, 0);
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_BAD_LEN);
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_BAD_LEN);

    /* Above the configured maximum: refused before any payload is buffered. */
    uint8_t over[] = {0x05, 0xdd, 0xaa}; /* 1501 */
    p = over;
    left = sizeof over;
    tg_tcpframe_init(&dec, 1500);
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_BAD_LEN);
    CHECK_EQ(dec.have, TG_TCPFRAME_HDR);
    uint8_t at[] = {0x05, 0xdc}; /* 1500 is fine: waits for it */
    p = at;
    left = sizeof at;
    tg_tcpframe_init(&dec, 1500);
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_NEED_MORE);
    CHECK_EQ(dec.want, 1500);

    /* Half a frame and a stall: nothing returned, held bytes within the buffer. */
    p = stream;
    left = TG_TCPFRAME_HDR + 10;
    tg_tcpframe_init(&dec, 0);
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_FRAME); /* len 1 */
    CHECK_EQ(tg_tcpframe_feed(&dec, &p, &left, &f, &fl), TG_TCPFRAME_NEED_MORE);
    CHECK(dec.have <= sizeof dec.buf);
    CHECK_EQ(dec.frames, 1);

    /* The encoder refuses what the decoder would. */
    uint8_t hdr[TG_TCPFRAME_HDR];
    CHECK_EQ(tg_tcpframe_header(hdr, 0), -1);
    CHECK_EQ(tg_tcpframe_header(hdr, TG_TCPFRAME_MAX + 1), -1);
    CHECK_EQ(tg_tcpframe_header(hdr, 258), 0);
    CHECK_EQ(hdr[0], 1);
    CHECK_EQ(hdr[1], 2);
    return check_exit("test_tcpframe");
}
