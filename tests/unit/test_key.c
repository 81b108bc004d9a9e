/*
 * tg1_ connection keys: random round trips, a fixed key full of '-' and '_',
 * tables of (malformed key, expected error), encoder errors, and an oracle
 * comparison of the base64 layer with libsodium plus a naive record parser.
 */
#include "check.h"
#include "core/key.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

enum { ROUND_TRIPS = 4000, ORACLE_RUNS = 6000, RAW_MAX = 1024 };

static uint32_t rnd(uint32_t n) /* 0..n-1 */
{
    return randombytes_uniform(n);
}

static int key_equal(const struct tg_key *a, const struct tg_key *b)
{
    if (memcmp(a->server_public, b->server_public, TG_KEY_PUBLIC_LEN) != 0 ||
        a->n_addrs != b->n_addrs)
        return 0;
    for (size_t i = 0; i < a->n_addrs; i++) {
        const struct tg_key_addr *x = &a->addrs[i], *y = &b->addrs[i];
        if (x->type != y->type || x->port != y->port || memcmp(x->addr, y->addr, 16) != 0)
            return 0;
    }
    return 1;
}

static int all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return 0;
    return 1;
}

/* The key's bytes before base64, written out independently of key.c. */
static size_t serialize(const struct tg_key *k, uint8_t *out)
{
    size_t n = TG_KEY_PUBLIC_LEN;
    memcpy(out, k->server_public, n);
    for (size_t i = 0; i < k->n_addrs; i++) {
        size_t alen = k->addrs[i].type == TG_ADDR_IPV4 ? 4 : 16;
        out[n++] = k->addrs[i].type;
        memcpy(out + n, k->addrs[i].addr, alen);
        n += alen;
        out[n++] = (uint8_t)(k->addrs[i].port >> 8);
        out[n++] = (uint8_t)k->addrs[i].port;
    }
    return n;
}

/* "tg1_" + libsodium's base64url of bin[0..n). */
static size_t sodium_key(const uint8_t *bin, size_t n, char *out, size_t cap)
{
    memcpy(out, TG_KEY_PREFIX, TG_KEY_PREFIX_LEN);
    sodium_bin2base64(out + TG_KEY_PREFIX_LEN, cap - TG_KEY_PREFIX_LEN, bin, n,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    return strlen(out);
}

static void random_key(struct tg_key *k, size_t n_addrs)
{
    memset(k, 0, sizeof *k);
    randombytes_buf(k->server_public, sizeof k->server_public);
    k->n_addrs = n_addrs;
    for (size_t i = 0; i < n_addrs; i++) {
        struct tg_key_addr *a = &k->addrs[i];
        a->type = (uint8_t)(rnd(2) ? TG_ADDR_IPV4 : TG_ADDR_IPV6);
        randombytes_buf(a->addr, a->type == TG_ADDR_IPV4 ? 4 : 16);
        a->port = (uint16_t)(1 + rnd(65535));
    }
}

/* (a) and (b): decode(encode(k)) == k, encode is canonical and agrees with
 * libsodium's encoder, and keys with '-' and '_' (about half of them) parse. */
static void test_round_trips(void)
{
    int with_underscore = 0, with_dash = 0, failures = 0;
    size_t seen_addrs[TG_KEY_MAX_ADDRS + 1] = {0};
    for (int i = 0; i < ROUND_TRIPS; i++) {
        struct tg_key k, d;
        char s[TG_KEY_STRING_MAX], s2[TG_KEY_STRING_MAX], ref[2 * TG_KEY_STRING_MAX];
        uint8_t bin[RAW_MAX];
        size_t len, len2;
        /* mostly 1..8 addresses, sometimes 0 or up to the maximum */
        size_t n_addrs = rnd(8) ? 1 + rnd(8) : rnd(TG_KEY_MAX_ADDRS + 1);
        seen_addrs[n_addrs]++;
        random_key(&k, n_addrs);

        int rc = tg_key_encode(&k, s, sizeof s, &len);
        CHECK_EQ(rc, TG_OK);
        CHECK_EQ(len, strlen(s));
        CHECK_EQ(sodium_key(bin, serialize(&k, bin), ref, sizeof ref), len);
        CHECK(strcmp(s, ref) == 0);

        if (strchr(s + TG_KEY_PREFIX_LEN, '_'))
            with_underscore++;
        if (strchr(s + TG_KEY_PREFIX_LEN, '-'))
            with_dash++;

        rc = tg_key_decode(s, len, &d);
        if (rc != TG_OK || !key_equal(&k, &d))
            failures++;
        CHECK(tg_key_encode(&d, s2, sizeof s2, &len2) == TG_OK);
        CHECK_EQ(len2, len);
        CHECK(strcmp(s, s2) == 0);
    }
    CHECK_EQ(failures, 0);
    /* a split on '_' would lose all of these */
    CHECK(with_underscore > ROUND_TRIPS / 3);
    CHECK(with_dash > ROUND_TRIPS / 3);
    for (size_t n = 1; n <= 8; n++)
        CHECK(seen_addrs[n] > 100);
    printf("round trips: %d keys, %d with '_', %d with '-'\n", ROUND_TRIPS, with_underscore,
           with_dash);
}

/* (b) a fixed key: public key fb ef be ff ff ff 00 01 .. 19 ("----____..."),
 * 192.0.2.1:51820 and [2001:db8::1]:443. Cross-checked with libsodium. */
static void test_fixed_key(void)
{
    static const char s[] =
        "tg1_----____AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkBwAACAcpsAiABDbgAAAAAAAA"
        "AAAAAAAEBuw";
    static const uint8_t pub[TG_KEY_PUBLIC_LEN] = {
        0xfb, 0xef, 0xbe, 0xff, 0xff, 0xff, 0,  1,  2,  3,  4,  5,  6,  7,  8,  9,
        10,   11,   12,   13,   14,   15,   16, 17, 18, 19, 20, 21, 22, 23, 24, 25};
    static const uint8_t v4[16] = {192, 0, 2, 1};
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    struct tg_key k;
    CHECK_EQ(tg_key_decode(s, sizeof s - 1, &k), TG_OK);
    CHECK_MEM(k.server_public, pub, sizeof pub);
    CHECK_EQ(k.n_addrs, 2);
    CHECK_EQ(k.addrs[0].type, TG_ADDR_IPV4);
    CHECK_MEM(k.addrs[0].addr, v4, 16);
    CHECK_EQ(k.addrs[0].port, 51820);
    CHECK_EQ(k.addrs[1].type, TG_ADDR_IPV6);
    CHECK_MEM(k.addrs[1].addr, v6, 16);
    CHECK_EQ(k.addrs[1].port, 443);

    char out[TG_KEY_STRING_MAX];
    size_t len;
    CHECK_EQ(tg_key_encode(&k, out, sizeof out, &len), TG_OK);
    CHECK_EQ(len, sizeof s - 1);
    CHECK(strcmp(out, s) == 0);

    /* no NUL needed: the same key inside a longer buffer */
    static const char in_text[] =
        "tg1_----____AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkBwAACAcpsAiABDbgAA"
        "AAAAAAAAAAAAAEBuw and then some";
    CHECK_EQ(tg_key_decode(in_text, sizeof s - 1, &k), TG_OK);
    CHECK_EQ(k.n_addrs, 2);
}

/* Runs of 'A' (zero bits). ZERO32 is a valid key with no addresses. */
#define A40    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define ZERO32 A40 "AAA" /* 43 characters: 32 bytes and 2 unused bits */
/* clang-format off */
#define ROW(str, err) {str, sizeof(str) - 1, err}
/* clang-format on */

/* (c) the base64 layer: literal strings. */
static void test_malformed_strings(void)
{
    static const struct {
        const char *s;
        size_t len;
        int want;
    } rows[] = {
        ROW("tg1_" ZERO32, TG_OK),
        ROW("tg1_" ZERO32 "AAAA", TG_ERR_KEY_ADDR_TYPE), /* a 33rd byte of 0: type 0 */
        ROW("", TG_ERR_KEY_PREFIX),
        ROW("t", TG_ERR_KEY_PREFIX),
        ROW("tg1", TG_ERR_KEY_PREFIX),
        ROW("tg2_" ZERO32, TG_ERR_KEY_PREFIX),
        ROW("TG1_" ZERO32, TG_ERR_KEY_PREFIX),
        ROW("tg1-" ZERO32, TG_ERR_KEY_PREFIX),
        ROW(" tg1_" ZERO32, TG_ERR_KEY_PREFIX),
        ROW("tg1_" ZERO32 "=", TG_ERR_KEY_CHAR),
        ROW("tg1_AAAA AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_" ZERO32 "\n", TG_ERR_KEY_CHAR),
        ROW("tg1_" ZERO32 "\r\n", TG_ERR_KEY_CHAR),
        ROW("tg1_\t" ZERO32, TG_ERR_KEY_CHAR),
        ROW("tg1_+AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_AAAAAAAAAA\0AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_AAAAAAAAAA\200AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_AAAAAAAAAA\377AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_AAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", TG_ERR_KEY_CHAR),
        ROW("tg1_" ZERO32 "A=", TG_ERR_KEY_CHAR),   /* padded 33 bytes */
        ROW("tg1_" ZERO32 "AA", TG_ERR_KEY_LENGTH), /* 45 chars: 45 % 4 == 1 */
        ROW("tg1_A", TG_ERR_KEY_LENGTH),
        ROW("tg1_AAAAA", TG_ERR_KEY_LENGTH),
        ROW("tg1_" ZERO32 "AA ", TG_ERR_KEY_CHAR), /* char before length */
        /* 43 characters carry 32 bytes and 2 unused bits, 42 carry 31 and 4 */
        ROW("tg1_" A40 "AAB", TG_ERR_KEY_BITS),
        ROW("tg1_" A40 "AAD", TG_ERR_KEY_BITS),
        ROW("tg1_" A40 "AA_", TG_ERR_KEY_BITS),
        ROW("tg1_" A40 "AAE", TG_OK),
        ROW("tg1_AB", TG_ERR_KEY_BITS), /* bits before short */
        ROW("tg1_AQ", TG_ERR_KEY_SHORT),
        ROW("tg1_", TG_ERR_KEY_SHORT),
        ROW("tg1_" A40, TG_ERR_KEY_SHORT),      /* 30 bytes */
        ROW("tg1_" A40 "A", TG_ERR_KEY_LENGTH), /* 41 characters */
        ROW("tg1_" A40 "AA", TG_ERR_KEY_SHORT), /* 31 bytes */
        ROW("tg1_" A40 "AQ", TG_ERR_KEY_SHORT), /* 31 bytes */
        ROW("tg1_" A40 "AR", TG_ERR_KEY_BITS),
        /* the fixed key with its '_' and '-' swapped for '/' and '+' */
        ROW("tg1_++++////AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkBwAACAcpsAiABDbgAAAAAAAAAAAAAAAEBuw",
            TG_ERR_KEY_CHAR),
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tg_key k;
        memset(&k, 0xa5, sizeof k);
        int rc = tg_key_decode(rows[i].s, rows[i].len, &k);
        if (rc != rows[i].want)
            fprintf(stderr, "string row %zu\n", i);
        CHECK_EQ(rc, rows[i].want);
        if (rc != TG_OK)
            CHECK(all_zero(&k, sizeof k));
    }
    CHECK_EQ(tg_key_decode(NULL, 0, &(struct tg_key){0}), TG_ERR_KEY_PREFIX);
}

/* (c) the record layer: hex bytes after a 32-byte public key, encoded by
 * libsodium. "*17" repeats the record before it to 17 records. */
static void test_malformed_records(void)
{
    static const struct {
        const char *hex;
        int want;
        size_t n_addrs;
    } rows[] = {
        {"", TG_OK, 0},
        {"01 c0000201 ca6c", TG_OK, 1},
        {"02 20010db8000000000000000000000001 01bb", TG_OK, 1},
        {"01 c0000201 0001  02 20010db8000000000000000000000001 ffff", TG_OK, 2},
        {"03", TG_ERR_KEY_ADDR_TYPE, 0},
        {"03 c0000201 ca6c", TG_ERR_KEY_ADDR_TYPE, 0},
        {"00 c0000201 ca6c", TG_ERR_KEY_ADDR_TYPE, 0},
        {"ff", TG_ERR_KEY_ADDR_TYPE, 0},
        {"01 c0000201 ca6c 04", TG_ERR_KEY_ADDR_TYPE, 0},
        {"01", TG_ERR_KEY_ADDR_TRUNCATED, 0},
        {"01 c0000201 ca", TG_ERR_KEY_ADDR_TRUNCATED, 0}, /* IPv4 missing a port byte */
        {"01 c0000201", TG_ERR_KEY_ADDR_TRUNCATED, 0},
        {"02 20010db8000000000000", TG_ERR_KEY_ADDR_TRUNCATED, 0}, /* IPv6 cut short */
        {"02 20010db8000000000000000000000001 01", TG_ERR_KEY_ADDR_TRUNCATED, 0},
        {"01 c0000201 0000", TG_ERR_KEY_PORT, 0},
        {"02 20010db8000000000000000000000001 0000", TG_ERR_KEY_PORT, 0},
        {"01 c0000201 0000 03", TG_ERR_KEY_PORT, 0},      /* front to back */
        {"01 c0000201 0001 03", TG_ERR_KEY_ADDR_TYPE, 0}, /* front to back */
        {"01 c0000201 0001 *16", TG_OK, 16},
        {"01 c0000201 0001 *17", TG_ERR_KEY_TOO_MANY, 0},
        {"02 20010db8000000000000000000000001 01bb *16", TG_OK, 16},
        {"02 20010db8000000000000000000000001 01bb *17", TG_ERR_KEY_TOO_MANY, 0},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t bin[RAW_MAX] = {0};
        size_t n = 0;
        const char *hex = rows[i].hex, *star = strchr(hex, '*');
        const char *end;
        CHECK(sodium_hex2bin(bin + TG_KEY_PUBLIC_LEN, sizeof bin - TG_KEY_PUBLIC_LEN, hex,
                             star ? (size_t)(star - hex) : strlen(hex), " ", &n, &end) == 0);
        if (star) {
            size_t copies = (size_t)(star[1] - '0') * 10 + (size_t)(star[2] - '0');
            for (size_t c = 1; c < copies; c++)
                memcpy(bin + TG_KEY_PUBLIC_LEN + c * n, bin + TG_KEY_PUBLIC_LEN, n);
            n *= copies;
        }
        n += TG_KEY_PUBLIC_LEN;
        char s[2 * RAW_MAX];
        size_t len = sodium_key(bin, n, s, sizeof s);
        struct tg_key k;
        memset(&k, 0xa5, sizeof k);
        int rc = tg_key_decode(s, len, &k);
        if (rc != rows[i].want)
            fprintf(stderr, "record row %zu\n", i);
        CHECK_EQ(rc, rows[i].want);
        CHECK_EQ(k.n_addrs, rows[i].n_addrs);
        if (rc != TG_OK)
            CHECK(all_zero(&k, sizeof k));
    }
}

/* Keys longer than the longest valid key: still never read past the stack
 * buffer, and a bad record among the first 16 keeps its own code. */
static void test_overlong(void)
{
    uint8_t bin[RAW_MAX];
    char s[2 * RAW_MAX + 2];
    struct tg_key k;
    static const uint8_t v6[19] = {2, 0x20, 0x01, 0x0d, 0xb8, [15] = 9, [16] = 1, [17] = 0xbb};
    memset(bin, 0, sizeof bin);
    for (size_t i = 0; i < 40; i++)
        memcpy(bin + TG_KEY_PUBLIC_LEN + 19 * i, v6, sizeof v6);

    /* 16 IPv6 records: the longest valid key, exactly TG_KEY_STRING_MAX - 1 */
    size_t len = sodium_key(bin, TG_KEY_PUBLIC_LEN + 16 * 19, s, sizeof s);
    CHECK_EQ(len, TG_KEY_STRING_MAX - 1);
    CHECK_EQ(tg_key_decode(s, len, &k), TG_OK);
    CHECK_EQ(k.n_addrs, 16);
    /* one byte more, one record more, many records more */
    for (size_t extra = 1; extra <= 19 * 24; extra += 19) {
        len = sodium_key(bin, TG_KEY_PUBLIC_LEN + 16 * 19 + extra, s, sizeof s);
        CHECK_EQ(tg_key_decode(s, len, &k), TG_ERR_KEY_TOO_MANY);
        CHECK(all_zero(&k, sizeof k));
    }
    /* a bad type or port 0 in record 16 of an over-long key */
    bin[TG_KEY_PUBLIC_LEN + 15 * 19] = 7;
    len = sodium_key(bin, TG_KEY_PUBLIC_LEN + 31 * 19, s, sizeof s);
    CHECK_EQ(tg_key_decode(s, len, &k), TG_ERR_KEY_ADDR_TYPE);
    bin[TG_KEY_PUBLIC_LEN + 15 * 19] = 2;
    bin[TG_KEY_PUBLIC_LEN + 15 * 19 + 17] = 0;
    bin[TG_KEY_PUBLIC_LEN + 15 * 19 + 18] = 0;
    len = sodium_key(bin, TG_KEY_PUBLIC_LEN + 31 * 19, s, sizeof s);
    CHECK_EQ(tg_key_decode(s, len, &k), TG_ERR_KEY_PORT);
    /* base64 errors at the far end of an over-long key come first (621
     * bytes are 828 characters, one more is an impossible length) */
    s[len] = 'A';
    CHECK_EQ(tg_key_decode(s, len + 1, &k), TG_ERR_KEY_LENGTH);
    s[len] = ' ';
    CHECK_EQ(tg_key_decode(s, len + 1, &k), TG_ERR_KEY_CHAR);
}

/* (d) encoder errors. */
static void test_encode_errors(void)
{
    struct tg_key k;
    char s[TG_KEY_STRING_MAX];
    size_t len = 99;

    random_key(&k, 3);
    k.n_addrs = TG_KEY_MAX_ADDRS + 1;
    CHECK_EQ(tg_key_encode(&k, s, sizeof s, &len), TG_ERR_KEY_TOO_MANY);
    CHECK_EQ(len, 0);
    CHECK_EQ(s[0], '\0');

    static const uint8_t bad_types[] = {0, 3, 0xff};
    for (size_t i = 0; i < sizeof bad_types; i++) {
        random_key(&k, 3);
        k.addrs[2].type = bad_types[i];
        CHECK_EQ(tg_key_encode(&k, s, sizeof s, &len), TG_ERR_KEY_ADDR_TYPE);
    }
    random_key(&k, 3);
    k.addrs[1].port = 0;
    CHECK_EQ(tg_key_encode(&k, s, sizeof s, &len), TG_ERR_KEY_PORT);

    /* buffer: exactly length + 1 is enough, one less is not */
    random_key(&k, 5);
    size_t need;
    CHECK_EQ(tg_key_encode(&k, s, sizeof s, &need), TG_OK);
    char small[TG_KEY_STRING_MAX];
    memset(small, 'x', sizeof small);
    CHECK_EQ(tg_key_encode(&k, small, need, &len), TG_ERR_NOBUF);
    CHECK_EQ(small[0], '\0');
    CHECK_EQ(tg_key_encode(&k, small, 0, &len), TG_ERR_NOBUF);
    CHECK_EQ(tg_key_encode(&k, small, need + 1, &len), TG_OK);
    CHECK_EQ(len, need);
    CHECK(strcmp(small, s) == 0);

    /* the longest key fits in TG_KEY_STRING_MAX exactly */
    random_key(&k, TG_KEY_MAX_ADDRS);
    for (size_t i = 0; i < TG_KEY_MAX_ADDRS; i++)
        k.addrs[i].type = TG_ADDR_IPV6;
    CHECK_EQ(tg_key_encode(&k, s, sizeof s, &len), TG_OK);
    CHECK_EQ(len, TG_KEY_STRING_MAX - 1);
    CHECK_EQ(tg_key_encode(&k, s, sizeof s - 1, &len), TG_ERR_NOBUF);
}

/* The naive reference for the record layer: the contract read literally,
 * over libsodium's decoded bytes, with no bound on their length. */
static int naive_records(const uint8_t *b, size_t n, size_t *n_addrs)
{
    *n_addrs = 0;
    if (n < TG_KEY_PUBLIC_LEN)
        return TG_ERR_KEY_SHORT;
    for (size_t pos = TG_KEY_PUBLIC_LEN; pos < n;) {
        if (*n_addrs == TG_KEY_MAX_ADDRS)
            return TG_ERR_KEY_TOO_MANY;
        size_t rec = b[pos] == 1 ? 7 : b[pos] == 2 ? 19 : 0;
        if (rec == 0)
            return TG_ERR_KEY_ADDR_TYPE;
        if (pos + rec > n)
            return TG_ERR_KEY_ADDR_TRUNCATED;
        if (b[pos + rec - 2] == 0 && b[pos + rec - 1] == 0)
            return TG_ERR_KEY_PORT;
        pos += rec;
        ++*n_addrs;
    }
    return TG_OK;
}

/* A candidate key string: libsodium's encoding of mostly well-formed bytes
 * (so that the record layer is reached and often passes), then damaged in
 * one of several ways, or a plain random string over the alphabet. */
static size_t oracle_input(char *s, size_t cap)
{
    static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t bin[RAW_MAX];
    size_t len;
    if (rnd(5) == 0) { /* random string, random length */
        len = TG_KEY_PREFIX_LEN + rnd(600);
        memcpy(s, TG_KEY_PREFIX, TG_KEY_PREFIX_LEN);
        for (size_t i = TG_KEY_PREFIX_LEN; i < len; i++)
            s[i] = alpha[rnd(64)];
    } else {
        randombytes_buf(bin, TG_KEY_PUBLIC_LEN);
        size_t n = TG_KEY_PUBLIC_LEN, recs = rnd(20);
        for (size_t r = 0; r < recs; r++) {
            uint8_t type = rnd(30) ? (uint8_t)(1 + rnd(2)) : (uint8_t)rnd(256);
            size_t rec = type == 2 ? 19 : 7;
            randombytes_buf(bin + n, rec);
            bin[n] = type;
            if (rnd(30) == 0)
                bin[n + rec - 2] = bin[n + rec - 1] = 0;
            n += rec;
        }
        if (rnd(4) == 0) /* cut short, sometimes below 32 bytes */
            n -= rnd((uint32_t)n + 1) / (rnd(2) ? 1 : 8);
        len = sodium_key(bin, n, s, cap);
    }
    switch (rnd(8)) {
    case 0: /* any character replaced, usually by one of the alphabet */
        if (len > TG_KEY_PREFIX_LEN)
            s[TG_KEY_PREFIX_LEN + rnd((uint32_t)(len - TG_KEY_PREFIX_LEN))] =
                rnd(4) ? alpha[rnd(64)] : (char)rnd(256);
        break;
    case 1: /* the last character replaced: stray bits */
        if (len > TG_KEY_PREFIX_LEN)
            s[len - 1] = alpha[rnd(64)];
        break;
    case 2: /* one to three characters dropped or added */
        if (rnd(2) && len >= TG_KEY_PREFIX_LEN + 3)
            len -= 1 + rnd(3);
        else
            for (uint32_t k = 1 + rnd(3); k > 0; k--)
                s[len++] = alpha[rnd(64)];
        break;
    default:
        break;
    }
    return len;
}

/* (e) our decoder against libsodium's (base64 layer) and naive_records (the
 * rest). Each outcome class must occur often, or the comparison proves
 * nothing. One known difference: libsodium 1.0.18 decodes every byte >= 0x80
 * as if it were '_' (value 63) instead of refusing it, so inputs holding such
 * a byte are expected to give TG_ERR_KEY_CHAR whatever libsodium says. */
static void test_oracle(void)
{
    int agree = 0, n_ok = 0, n_b64 = 0, n_records = 0, n_short = 0, n_high = 0;
    for (int i = 0; i < ORACLE_RUNS; i++) {
        char s[2 * RAW_MAX + 8];
        size_t len = oracle_input(s, sizeof s);
        const char *b64 = s + TG_KEY_PREFIX_LEN;
        size_t b64_len = len - TG_KEY_PREFIX_LEN;

        uint8_t bin[RAW_MAX];
        size_t bin_len = 0;
        int sodium_rc = sodium_base642bin(bin, sizeof bin, b64, b64_len, NULL, &bin_len, NULL,
                                          sodium_base64_VARIANT_URLSAFE_NO_PADDING);
        struct tg_key k;
        int rc = tg_key_decode(s, len, &k);
        int ours_b64_bad =
            rc == TG_ERR_KEY_CHAR || rc == TG_ERR_KEY_LENGTH || rc == TG_ERR_KEY_BITS;

        int high = 0;
        for (size_t j = 0; j < b64_len; j++)
            high |= (unsigned char)b64[j] >= 0x80;

        int same;
        if (high) {
            same = rc == TG_ERR_KEY_CHAR;
            n_high++;
        } else if (sodium_rc != 0) {
            same = ours_b64_bad;
            n_b64++;
        } else {
            size_t naive_addrs;
            int want = naive_records(bin, bin_len, &naive_addrs);
            same = rc == want;
            if (rc == TG_OK) {
                uint8_t mine[RAW_MAX];
                same = same && k.n_addrs == naive_addrs && serialize(&k, mine) == bin_len &&
                       memcmp(mine, bin, bin_len) == 0;
                n_ok++;
            } else if (rc == TG_ERR_KEY_SHORT) {
                n_short++;
            } else {
                n_records++;
            }
        }
        if (!same)
            fprintf(stderr, "oracle disagrees (ours %d, sodium %d) on %.*s\n", rc, sodium_rc,
                    (int)len, s);
        agree += same;
        if (rc != TG_OK)
            CHECK(all_zero(&k, sizeof k));
    }
    CHECK_EQ(agree, ORACLE_RUNS);
    CHECK(n_ok > ORACLE_RUNS / 10);
    CHECK(n_b64 > ORACLE_RUNS / 10);
    CHECK(n_records > ORACLE_RUNS / 10);
    CHECK(n_short > 20);
    CHECK(n_high > 20);
    printf("oracle: %d inputs: %d valid, %d base64 errors, %d short, %d record errors, "
           "%d with bytes >= 0x80\n",
           ORACLE_RUNS, n_ok, n_b64, n_short, n_records, n_high);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    test_round_trips();
    test_fixed_key();
    test_malformed_strings();
    test_malformed_records();
    test_overlong();
    test_encode_errors();
    test_oracle();
    return check_exit("test_key");
}
