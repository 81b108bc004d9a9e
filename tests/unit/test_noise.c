/*
 * test_noise: the NK and NKpsk2 handshakes of noise.c with random keys.
 * Published vectors are noise_vectors' job; this checks the contract around
 * them: round trips, split keys, every refusal and error code of noise.h.
 */
#include "check.h"
#include "core/noise.h"

#include <sodium.h>
#include <stdint.h>
#include <string.h>

#define NK   TG_NOISE_NK
#define PSK2 TG_NOISE_NKPSK2
#define INI  TG_NOISE_INITIATOR
#define RES  TG_NOISE_RESPONDER

enum { MSG_MIN = TG_NOISE_DH_LEN + TG_NOISE_TAG_LEN, MAX_PAYLOAD = TG_NOISE_MAX_MSG - MSG_MIN };

static uint8_t msg1[TG_NOISE_MAX_MSG + 64], msg2[TG_NOISE_MAX_MSG + 64];
static uint8_t plain[TG_NOISE_MAX_MSG + 64], got[TG_NOISE_MAX_MSG + 64];
static const uint8_t prologue[] = "triglav test";

/* The small-order points libsodium refuses (u = 0, 1, the two of order 8,
 * p - 1, p, p + 1): X25519 with any of them gives the all-zero result. */
/* clang-format off */
static const uint8_t low_order[][TG_NOISE_DH_LEN] = {
    {0},
    {1},
    {0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
     0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
    {0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
     0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0xee, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
};
/* clang-format on */
#define N_LOW_ORDER (sizeof low_order / sizeof low_order[0])

/* An initiator and a responder with fresh random keys, ephemerals set and, for
 * NKpsk2, the same psk on both sides. */
struct peers {
    struct tg_noise_hs ini, res;
    uint8_t s_priv[TG_NOISE_DH_LEN], s_pub[TG_NOISE_DH_LEN];
    uint8_t e_ini[TG_NOISE_DH_LEN], e_res[TG_NOISE_DH_LEN], psk[TG_NOISE_KEY_LEN];
    size_t len1, len2; /* lengths of msg1 / msg2 once written */
};

static void peers_init(struct peers *p, enum tg_noise_pattern pattern)
{
    memset(p, 0, sizeof *p);
    randombytes_buf(p->s_priv, sizeof p->s_priv);
    randombytes_buf(p->e_ini, sizeof p->e_ini);
    randombytes_buf(p->e_res, sizeof p->e_res);
    randombytes_buf(p->psk, sizeof p->psk);
    tg_noise_public_key(p->s_priv, p->s_pub);
    CHECK_EQ(tg_noise_init(&p->ini, pattern, INI, prologue, sizeof prologue, NULL, p->s_pub),
             TG_OK);
    CHECK_EQ(tg_noise_init(&p->res, pattern, RES, prologue, sizeof prologue, p->s_priv, NULL),
             TG_OK);
    tg_noise_set_ephemeral(&p->ini, p->e_ini);
    tg_noise_set_ephemeral(&p->res, p->e_res);
    if (pattern == PSK2) {
        CHECK_EQ(tg_noise_set_psk(&p->ini, p->psk), TG_OK);
        CHECK_EQ(tg_noise_set_psk(&p->res, p->psk), TG_OK);
    }
}

/* Message 1 with a payload of `len` bytes: written, and read unless !deliver. */
static void step1(struct peers *p, size_t len, bool deliver)
{
    size_t n = 0;
    randombytes_buf(plain, len);
    CHECK_EQ(tg_noise_write_message(&p->ini, plain, len, msg1, sizeof msg1, &p->len1), TG_OK);
    CHECK_EQ(p->len1, MSG_MIN + len);
    if (!deliver)
        return;
    CHECK_EQ(tg_noise_read_message(&p->res, msg1, p->len1, got, sizeof got, &n), TG_OK);
    CHECK_EQ(n, len);
    CHECK_MEM(got, plain, len);
}

static void step2(struct peers *p, size_t len, bool deliver)
{
    size_t n = 0;
    randombytes_buf(plain, len);
    CHECK_EQ(tg_noise_write_message(&p->res, plain, len, msg2, sizeof msg2, &p->len2), TG_OK);
    CHECK_EQ(p->len2, MSG_MIN + len);
    if (!deliver)
        return;
    CHECK_EQ(tg_noise_read_message(&p->ini, msg2, p->len2, got, sizeof got, &n), TG_OK);
    CHECK_EQ(n, len);
    CHECK_MEM(got, plain, len);
}

static bool all_zero(const uint8_t *b, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= b[i];
    return acc == 0;
}

/* ---- round trips ---- */

/* clang-format off */
static const struct {
    enum tg_noise_pattern pattern;
    size_t len1, len2;
} round_trips[] = {
    {NK, 0, 0},        {NK, 1, 15},       {NK, 16, 17},
    {NK, 100, 1200},   {NK, MAX_PAYLOAD, MAX_PAYLOAD},
    {PSK2, 0, 0},      {PSK2, 1, 15},     {PSK2, 16, 17},
    {PSK2, 1200, 100}, {PSK2, MAX_PAYLOAD, MAX_PAYLOAD},
};
/* clang-format on */

static void test_round_trips(void)
{
    for (size_t i = 0; i < sizeof round_trips / sizeof round_trips[0]; i++) {
        struct peers p;
        struct tg_noise_cipher is, ir, rs, rr;
        uint8_t x_ini[TG_NOISE_KEY_LEN], x_res[TG_NOISE_KEY_LEN];
        uint8_t h_ini[TG_NOISE_HASH_LEN], h_res[TG_NOISE_HASH_LEN];

        peers_init(&p, round_trips[i].pattern);
        step1(&p, round_trips[i].len1, true);
        CHECK(!tg_noise_complete(&p.ini) && !tg_noise_complete(&p.res));
        step2(&p, round_trips[i].len2, true);
        CHECK(tg_noise_complete(&p.ini) && tg_noise_complete(&p.res));

        tg_noise_handshake_hash(&p.ini, h_ini);
        tg_noise_handshake_hash(&p.res, h_res);
        CHECK_MEM(h_ini, h_res, sizeof h_ini);

        CHECK_EQ(tg_noise_split(&p.ini, &is, &ir, x_ini), TG_OK);
        CHECK_EQ(tg_noise_split(&p.res, &rs, &rr, x_res), TG_OK);
        CHECK(is.has_key && ir.has_key && rs.has_key && rr.has_key);
        CHECK(is.n == 0 && ir.n == 0 && rs.n == 0 && rr.n == 0);
        CHECK_MEM(is.k, rr.k, sizeof is.k);
        CHECK_MEM(ir.k, rs.k, sizeof ir.k);
        CHECK(memcmp(is.k, ir.k, sizeof is.k) != 0);
        CHECK_MEM(x_ini, x_res, sizeof x_ini);
        CHECK(memcmp(x_ini, is.k, sizeof x_ini) != 0);
        CHECK(memcmp(x_ini, ir.k, sizeof x_ini) != 0);
        CHECK(tg_noise_complete(&p.ini));

        /* Split keeps h, wipes the rest; a second split is refused. */
        tg_noise_handshake_hash(&p.ini, h_res);
        CHECK_MEM(h_ini, h_res, sizeof h_ini);
        CHECK(all_zero(p.ini.ck, sizeof p.ini.ck) && all_zero(p.ini.cs.k, sizeof p.ini.cs.k));
        CHECK(all_zero(p.ini.e_priv, sizeof p.ini.e_priv) && all_zero(p.ini.psk, sizeof p.ini.psk));
        CHECK(all_zero(p.res.s_priv, sizeof p.res.s_priv) && all_zero(p.res.ck, sizeof p.res.ck));
        CHECK_EQ(tg_noise_split(&p.ini, &is, &ir, NULL), TG_ERR_STATE);

        /* A transport message each way, the second one in place. */
        size_t len = round_trips[i].len1 % 300;
        randombytes_buf(plain, len);
        CHECK_EQ(tg_noise_encrypt(&is, NULL, 0, plain, len, msg1), TG_OK);
        CHECK_EQ(tg_noise_decrypt(&rr, NULL, 0, msg1, len + TG_NOISE_TAG_LEN, got), TG_OK);
        CHECK_MEM(got, plain, len);
        memcpy(msg2, plain, len);
        CHECK_EQ(tg_noise_encrypt(&rs, h_ini, 7, msg2, len, msg2), TG_OK);
        CHECK_EQ(tg_noise_decrypt(&ir, h_ini, 7, msg2, len + TG_NOISE_TAG_LEN, msg2), TG_OK);
        CHECK_MEM(msg2, plain, len);
        CHECK(is.n == 1 && rr.n == 1 && rs.n == 1 && ir.n == 1);
    }
}

/* The psk changes message 1 already (psk mode mixes e into the key). */
static void test_patterns_differ(void)
{
    struct peers a, b;
    peers_init(&a, NK);
    peers_init(&b, PSK2);
    CHECK_EQ(tg_noise_init(&b.ini, PSK2, INI, prologue, sizeof prologue, NULL, a.s_pub), TG_OK);
    tg_noise_set_ephemeral(&b.ini, a.e_ini);
    step1(&a, 0, false);
    CHECK_EQ(tg_noise_write_message(&b.ini, NULL, 0, msg2, sizeof msg2, &b.len1), TG_OK);
    CHECK_EQ(a.len1, b.len1);
    CHECK_MEM(msg1, msg2, TG_NOISE_DH_LEN); /* same e */
    CHECK(memcmp(msg1 + TG_NOISE_DH_LEN, msg2 + TG_NOISE_DH_LEN, TG_NOISE_TAG_LEN) != 0);
}

/* ---- wrong keys, tampering, truncation ---- */

static void test_wrong_keys(void)
{
    struct peers p;
    uint8_t other[TG_NOISE_DH_LEN], other_pub[TG_NOISE_DH_LEN];
    size_t n;

    /* The psks differ: the initiator cannot read message 2. */
    peers_init(&p, PSK2);
    randombytes_buf(other, sizeof other);
    CHECK_EQ(tg_noise_init(&p.ini, PSK2, INI, prologue, sizeof prologue, NULL, p.s_pub), TG_OK);
    tg_noise_set_ephemeral(&p.ini, p.e_ini);
    CHECK_EQ(tg_noise_set_psk(&p.ini, other), TG_OK);
    step1(&p, 5, true);
    step2(&p, 5, false);
    CHECK_EQ(tg_noise_read_message(&p.ini, msg2, p.len2, got, sizeof got, &n), TG_ERR_DECRYPT);

    /* The initiator holds the wrong server key (NK and NKpsk2), or the
     * prologues differ: the responder cannot read message 1. */
    for (int pattern = NK; pattern <= PSK2; pattern++) {
        peers_init(&p, (enum tg_noise_pattern)pattern);
        randombytes_buf(other, sizeof other);
        tg_noise_public_key(other, other_pub);
        CHECK_EQ(tg_noise_init(&p.ini, (enum tg_noise_pattern)pattern, INI, prologue,
                               sizeof prologue, NULL, other_pub),
                 TG_OK);
        tg_noise_set_ephemeral(&p.ini, p.e_ini);
        if (pattern == PSK2)
            CHECK_EQ(tg_noise_set_psk(&p.ini, p.psk), TG_OK);
        step1(&p, 5, false);
        CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, got, sizeof got, &n), TG_ERR_DECRYPT);

        peers_init(&p, (enum tg_noise_pattern)pattern);
        CHECK_EQ(tg_noise_init(&p.res, (enum tg_noise_pattern)pattern, RES, prologue,
                               sizeof prologue - 1, p.s_priv, NULL),
                 TG_OK);
        step1(&p, 5, false);
        CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, got, sizeof got, &n), TG_ERR_DECRYPT);
    }
}

/* Every single flipped bit of either message is caught. Each try reads into a
 * copy of the reader's state as it was before the message. */
static void test_bit_flips(enum tg_noise_pattern pattern)
{
    struct peers p;
    struct tg_noise_hs before;
    size_t n;
    int rc, bad = 0;

    peers_init(&p, pattern);
    before = p.res;
    step1(&p, 9, false);
    for (size_t bit = 0; bit < 8 * p.len1; bit++) {
        struct tg_noise_hs r = before;
        msg1[bit / 8] ^= (uint8_t)(1u << bit % 8);
        rc = tg_noise_read_message(&r, msg1, p.len1, got, sizeof got, &n);
        msg1[bit / 8] ^= (uint8_t)(1u << bit % 8);
        bad += rc != TG_ERR_DECRYPT && rc != TG_ERR_DH;
    }
    CHECK_EQ(bad, 0);

    CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, got, sizeof got, &n), TG_OK);
    before = p.ini;
    step2(&p, 9, false);
    for (size_t bit = 0; bit < 8 * p.len2; bit++) {
        struct tg_noise_hs r = before;
        msg2[bit / 8] ^= (uint8_t)(1u << bit % 8);
        rc = tg_noise_read_message(&r, msg2, p.len2, got, sizeof got, &n);
        msg2[bit / 8] ^= (uint8_t)(1u << bit % 8);
        bad += rc != TG_ERR_DECRYPT && rc != TG_ERR_DH;
    }
    CHECK_EQ(bad, 0);
    CHECK_EQ(tg_noise_read_message(&p.ini, msg2, p.len2, got, sizeof got, &n), TG_OK);
}

/* Lengths cut from a message with a 9-byte payload (57 bytes). */
static const struct {
    size_t len;
    int rc;
} cuts[] = {
    {0, TG_ERR_TRUNCATED},  {1, TG_ERR_TRUNCATED}, {31, TG_ERR_TRUNCATED}, {32, TG_ERR_TRUNCATED},
    {47, TG_ERR_TRUNCATED}, {48, TG_ERR_DECRYPT},  {56, TG_ERR_DECRYPT},   {57, TG_OK},
};

static void test_truncated(enum tg_noise_pattern pattern)
{
    struct peers p;
    size_t n;

    peers_init(&p, pattern);
    step1(&p, 9, false);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct tg_noise_hs r = p.res;
        CHECK_EQ(tg_noise_read_message(&r, msg1, cuts[i].len, got, sizeof got, &n), cuts[i].rc);
    }
    CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, got, sizeof got, &n), TG_OK);
    step2(&p, 9, false);
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        struct tg_noise_hs r = p.ini;
        CHECK_EQ(tg_noise_read_message(&r, msg2, cuts[i].len, got, sizeof got, &n), cuts[i].rc);
    }
    /* Longer than a Noise message can be. */
    struct tg_noise_hs r = p.ini;
    CHECK_EQ(tg_noise_read_message(&r, msg2, TG_NOISE_MAX_MSG + 1, got, sizeof got, &n),
             TG_ERR_INVAL);
}

/* ---- low-order public keys ---- */

static void test_low_order(enum tg_noise_pattern pattern)
{
    for (size_t i = 0; i < N_LOW_ORDER; i++) {
        struct peers p;
        size_t n;

        /* As the remote ephemeral in message 1 and in message 2. */
        peers_init(&p, pattern);
        memcpy(msg1, low_order[i], TG_NOISE_DH_LEN);
        randombytes_buf(msg1 + TG_NOISE_DH_LEN, TG_NOISE_TAG_LEN);
        CHECK_EQ(tg_noise_read_message(&p.res, msg1, MSG_MIN, got, sizeof got, &n), TG_ERR_DH);

        step1(&p, 0, false);
        memcpy(msg2, low_order[i], TG_NOISE_DH_LEN);
        randombytes_buf(msg2 + TG_NOISE_DH_LEN, TG_NOISE_TAG_LEN);
        CHECK_EQ(tg_noise_read_message(&p.ini, msg2, MSG_MIN, got, sizeof got, &n), TG_ERR_DH);

        /* As the server key the initiator holds. */
        CHECK_EQ(tg_noise_init(&p.ini, pattern, INI, NULL, 0, NULL, low_order[i]), TG_OK);
        tg_noise_set_ephemeral(&p.ini, p.e_ini);
        CHECK_EQ(tg_noise_write_message(&p.ini, NULL, 0, msg1, sizeof msg1, &n), TG_ERR_DH);
        CHECK_EQ(tg_noise_write_message(&p.ini, NULL, 0, msg1, sizeof msg1, &n), TG_ERR_STATE);
    }
}

/* ---- state machine ---- */

enum stage { FRESH, AFTER1, DONE, SPLIT };
enum action { WRITE, READ, DO_SPLIT, SET_PSK };

static const struct {
    enum tg_noise_pattern pattern;
    enum stage stage;
    enum tg_noise_role who;
    enum action action;
    int rc;
} turns[] = {
    {NK, FRESH, INI, WRITE, TG_OK},
    {NK, FRESH, INI, READ, TG_ERR_STATE},
    {NK, FRESH, RES, WRITE, TG_ERR_STATE},
    {NK, FRESH, INI, DO_SPLIT, TG_ERR_STATE},
    {NK, FRESH, RES, DO_SPLIT, TG_ERR_STATE},
    {NK, AFTER1, INI, WRITE, TG_ERR_STATE},
    {NK, AFTER1, RES, READ, TG_ERR_STATE},
    {NK, AFTER1, INI, DO_SPLIT, TG_ERR_STATE},
    {NK, AFTER1, RES, DO_SPLIT, TG_ERR_STATE},
    {NK, DONE, INI, WRITE, TG_ERR_STATE},
    {NK, DONE, INI, READ, TG_ERR_STATE},
    {NK, DONE, RES, WRITE, TG_ERR_STATE},
    {NK, DONE, RES, READ, TG_ERR_STATE},
    {NK, DONE, INI, DO_SPLIT, TG_OK},
    {NK, SPLIT, INI, DO_SPLIT, TG_ERR_STATE},
    {NK, SPLIT, RES, READ, TG_ERR_STATE},
    {NK, FRESH, INI, SET_PSK, TG_ERR_STATE},
    {NK, FRESH, RES, SET_PSK, TG_ERR_STATE},
    {PSK2, FRESH, INI, READ, TG_ERR_STATE},
    {PSK2, FRESH, RES, WRITE, TG_ERR_STATE},
    {PSK2, AFTER1, INI, WRITE, TG_ERR_STATE},
    {PSK2, AFTER1, RES, READ, TG_ERR_STATE},
    {PSK2, AFTER1, RES, DO_SPLIT, TG_ERR_STATE},
    {PSK2, DONE, RES, READ, TG_ERR_STATE},
    {PSK2, DONE, RES, DO_SPLIT, TG_OK},
    {PSK2, FRESH, INI, SET_PSK, TG_OK},
    {PSK2, AFTER1, INI, SET_PSK, TG_OK},
    {PSK2, AFTER1, RES, SET_PSK, TG_OK},
    {PSK2, DONE, INI, SET_PSK, TG_ERR_STATE},
    {PSK2, DONE, RES, SET_PSK, TG_ERR_STATE},
    {PSK2, SPLIT, RES, SET_PSK, TG_ERR_STATE},
};

static void test_turns(void)
{
    for (size_t i = 0; i < sizeof turns / sizeof turns[0]; i++) {
        struct peers p;
        struct tg_noise_cipher s, r;
        size_t n;
        int rc = 1;

        peers_init(&p, turns[i].pattern);
        if (turns[i].stage >= AFTER1)
            step1(&p, 3, true);
        if (turns[i].stage >= DONE)
            step2(&p, 3, true);
        if (turns[i].stage >= SPLIT) {
            CHECK_EQ(tg_noise_split(&p.ini, &s, &r, NULL), TG_OK);
            CHECK_EQ(tg_noise_split(&p.res, &s, &r, NULL), TG_OK);
        }
        struct tg_noise_hs *hs = turns[i].who == INI ? &p.ini : &p.res;
        const uint8_t *stray = turns[i].who == INI ? msg2 : msg1; /* written or zero */
        switch (turns[i].action) {
        case WRITE:
            rc = tg_noise_write_message(hs, NULL, 0, got, sizeof got, &n);
            break;
        case READ:
            rc = tg_noise_read_message(hs, stray, MSG_MIN + 3, got, sizeof got, &n);
            break;
        case DO_SPLIT:
            rc = tg_noise_split(hs, &s, &r, NULL);
            break;
        case SET_PSK:
            rc = tg_noise_set_psk(hs, p.psk);
            break;
        }
        if (rc != turns[i].rc)
            fprintf(stderr, "turns[%zu]: got %d\n", i, rc);
        CHECK_EQ(rc, turns[i].rc);
        /* A refused stray message leaves a finished handshake usable. */
        if (turns[i].stage == DONE && turns[i].rc == TG_ERR_STATE)
            CHECK_EQ(tg_noise_split(hs, &s, &r, NULL), TG_OK);
    }
}

static void test_missing_ephemeral_and_psk(void)
{
    struct peers p;
    uint8_t e[TG_NOISE_DH_LEN] = {7};
    size_t n;

    /* No ephemeral: refused, and nothing changed, so setting one still works. */
    peers_init(&p, NK);
    CHECK_EQ(tg_noise_init(&p.ini, NK, INI, prologue, sizeof prologue, NULL, p.s_pub), TG_OK);
    CHECK_EQ(tg_noise_write_message(&p.ini, NULL, 0, msg1, sizeof msg1, &n), TG_ERR_STATE);
    tg_noise_set_ephemeral(&p.ini, p.e_ini);
    step1(&p, 0, true);
    step2(&p, 0, true);
    peers_init(&p, NK);
    CHECK_EQ(tg_noise_init(&p.res, NK, RES, prologue, sizeof prologue, p.s_priv, NULL), TG_OK);
    step1(&p, 0, true);
    CHECK_EQ(tg_noise_write_message(&p.res, NULL, 0, msg2, sizeof msg2, &n), TG_ERR_STATE);
    tg_noise_set_ephemeral(&p.res, e);
    step2(&p, 0, true);

    /* NKpsk2 without psk: the responder may not write message 2 and the
     * initiator may not read it; both work once the psk is set. */
    peers_init(&p, PSK2);
    CHECK_EQ(tg_noise_init(&p.ini, PSK2, INI, prologue, sizeof prologue, NULL, p.s_pub), TG_OK);
    CHECK_EQ(tg_noise_init(&p.res, PSK2, RES, prologue, sizeof prologue, p.s_priv, NULL), TG_OK);
    tg_noise_set_ephemeral(&p.ini, p.e_ini);
    tg_noise_set_ephemeral(&p.res, p.e_res);
    step1(&p, 4, true);
    CHECK_EQ(tg_noise_write_message(&p.res, NULL, 0, msg2, sizeof msg2, &n), TG_ERR_STATE);
    CHECK_EQ(tg_noise_set_psk(&p.res, p.psk), TG_OK);
    step2(&p, 4, false);
    CHECK_EQ(tg_noise_read_message(&p.ini, msg2, p.len2, got, sizeof got, &n), TG_ERR_STATE);
    CHECK_EQ(tg_noise_set_psk(&p.ini, p.psk), TG_OK);
    CHECK_EQ(tg_noise_read_message(&p.ini, msg2, p.len2, got, sizeof got, &n), TG_OK);
    CHECK(tg_noise_complete(&p.ini) && tg_noise_complete(&p.res));
}

/* After a failed read the state is dead, whatever the error was. */
static void test_poisoned(void)
{
    static const int errors[] = {TG_ERR_TRUNCATED, TG_ERR_NOBUF, TG_ERR_DECRYPT, TG_ERR_DH};
    for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++) {
        struct peers p;
        struct tg_noise_cipher s, r;
        size_t n;
        int rc = 0;

        peers_init(&p, NK);
        step1(&p, 8, false);
        switch (errors[i]) {
        case TG_ERR_TRUNCATED:
            rc = tg_noise_read_message(&p.res, msg1, 47, got, 8, &n);
            break;
        case TG_ERR_NOBUF:
            rc = tg_noise_read_message(&p.res, msg1, p.len1, got, 7, &n);
            break;
        case TG_ERR_DECRYPT:
            msg1[40] ^= 1;
            rc = tg_noise_read_message(&p.res, msg1, p.len1, got, 8, &n);
            msg1[40] ^= 1;
            break;
        case TG_ERR_DH: {
            uint8_t bad[MSG_MIN] = {0};
            rc = tg_noise_read_message(&p.res, bad, sizeof bad, got, 8, &n);
            break;
        }
        }
        CHECK_EQ(rc, errors[i]);
        CHECK(all_zero(p.res.s_priv, sizeof p.res.s_priv) && all_zero(p.res.ck, sizeof p.res.ck));
        CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, got, sizeof got, &n), TG_ERR_STATE);
        CHECK_EQ(tg_noise_write_message(&p.res, NULL, 0, msg2, sizeof msg2, &n), TG_ERR_STATE);
        CHECK_EQ(tg_noise_split(&p.res, &s, &r, NULL), TG_ERR_STATE);
        CHECK(!tg_noise_complete(&p.res));
    }
}

/* ---- buffers ---- */

static const struct {
    size_t cap; /* for a 10-byte payload: message 58 bytes */
    int rc;
} write_caps[] = {{0, TG_ERR_NOBUF},  {47, TG_ERR_NOBUF}, {48, TG_ERR_NOBUF},
                  {57, TG_ERR_NOBUF}, {58, TG_OK},        {59, TG_OK}};

static const struct {
    size_t cap;
    int rc;
} read_caps[] = {{0, TG_ERR_NOBUF}, {9, TG_ERR_NOBUF}, {10, TG_OK}, {11, TG_OK}};

static void test_buffers(void)
{
    struct peers p;
    size_t n;

    peers_init(&p, PSK2);
    randombytes_buf(plain, 10);
    for (size_t i = 0; i < sizeof write_caps / sizeof write_caps[0]; i++) {
        struct tg_noise_hs w = p.ini;
        n = 0;
        CHECK_EQ(tg_noise_write_message(&w, plain, 10, msg1, write_caps[i].cap, &n),
                 write_caps[i].rc);
        CHECK_EQ(n, write_caps[i].rc == TG_OK ? 58 : 0);
    }
    /* Refused writes changed nothing: the original state still works. */
    step1(&p, 10, false);
    for (size_t i = 0; i < sizeof read_caps / sizeof read_caps[0]; i++) {
        struct tg_noise_hs r = p.res;
        CHECK_EQ(tg_noise_read_message(&r, msg1, p.len1, got, read_caps[i].cap, &n),
                 read_caps[i].rc);
    }
    /* An empty payload needs no buffer at all. */
    peers_init(&p, NK);
    step1(&p, 0, false);
    CHECK_EQ(tg_noise_read_message(&p.res, msg1, p.len1, NULL, 0, &n), TG_OK);
    CHECK_EQ(n, 0);

    /* Too long to be a Noise message. */
    peers_init(&p, NK);
    CHECK_EQ(tg_noise_write_message(&p.ini, plain, MAX_PAYLOAD + 1, msg1, sizeof msg1, &n),
             TG_ERR_INVAL);
    CHECK_EQ(tg_noise_write_message(&p.ini, NULL, 1, msg1, sizeof msg1, &n), TG_ERR_INVAL);
    step1(&p, MAX_PAYLOAD, true);
}

/* ---- init arguments ---- */

static void test_init_args(void)
{
    struct tg_noise_hs hs;
    uint8_t key[TG_NOISE_DH_LEN] = {9};
    static const struct {
        int pattern, role;
        bool s_priv, rs;
        size_t prologue_len;
        bool null_prologue;
        int rc;
    } rows[] = {
        {NK, INI, false, true, 0, true, TG_OK},
        {PSK2, RES, true, false, 3, false, TG_OK},
        {NK, INI, false, false, 0, true, TG_ERR_INVAL},
        {NK, INI, true, true, 0, true, TG_ERR_INVAL},
        {NK, RES, false, false, 0, true, TG_ERR_INVAL},
        {NK, RES, true, true, 0, true, TG_ERR_INVAL},
        {2, INI, false, true, 0, true, TG_ERR_INVAL},
        {NK, 2, false, true, 0, true, TG_ERR_INVAL},
        {NK, INI, false, true, 3, true, TG_ERR_INVAL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int rc = tg_noise_init(&hs, (enum tg_noise_pattern)rows[i].pattern,
                               (enum tg_noise_role)rows[i].role,
                               rows[i].null_prologue ? NULL : prologue, rows[i].prologue_len,
                               rows[i].s_priv ? key : NULL, rows[i].rs ? key : NULL);
        CHECK_EQ(rc, rows[i].rc);
    }
    /* A failed init leaves a dead state. */
    size_t n;
    tg_noise_set_ephemeral(&hs, key);
    CHECK_EQ(tg_noise_write_message(&hs, NULL, 0, msg1, sizeof msg1, &n), TG_ERR_STATE);

    uint8_t pub[TG_NOISE_DH_LEN], want[TG_NOISE_DH_LEN];
    tg_noise_public_key(key, pub);
    CHECK_EQ(crypto_scalarmult_base(want, key), 0);
    CHECK_MEM(pub, want, sizeof pub);
}

/* ---- cipher states ---- */

static const struct {
    uint64_t n;
    int rc;
} counters[] = {
    {0, TG_OK},
    {1, TG_OK},
    {UINT64_MAX - 1, TG_OK},
    {UINT64_MAX, TG_ERR_COUNTER_LIMIT},
};

static void test_cipher(void)
{
    struct tg_noise_cipher a = {{0}, 0, true}, b;
    uint8_t m[32], c[32 + TG_NOISE_TAG_LEN];
    randombytes_buf(a.k, sizeof a.k);
    randombytes_buf(m, sizeof m);

    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++) {
        a.n = counters[i].n;
        b = a;
        CHECK_EQ(tg_noise_encrypt(&a, NULL, 0, m, sizeof m, c), counters[i].rc);
        CHECK_EQ(tg_noise_decrypt(&b, NULL, 0, c, sizeof c, got), counters[i].rc);
        if (counters[i].rc == TG_OK) {
            CHECK_MEM(got, m, sizeof m);
            CHECK(a.n == counters[i].n + 1 && b.n == a.n);
        } else {
            CHECK(a.n == UINT64_MAX && b.n == UINT64_MAX);
        }
    }

    /* Decryption failures leave n alone. */
    a.n = 5;
    b = a;
    CHECK_EQ(tg_noise_encrypt(&a, m, 3, m, sizeof m, c), TG_OK);
    CHECK_EQ(tg_noise_decrypt(&b, m, 4, c, sizeof c, got), TG_ERR_DECRYPT); /* other ad */
    c[0] ^= 0x80;
    CHECK_EQ(tg_noise_decrypt(&b, m, 3, c, sizeof c, got), TG_ERR_DECRYPT);
    c[0] ^= 0x80;
    CHECK_EQ(tg_noise_decrypt(&b, m, 3, c, TG_NOISE_TAG_LEN - 1, got), TG_ERR_TRUNCATED);
    CHECK_EQ(b.n, 5);
    CHECK_EQ(tg_noise_decrypt(&b, m, 3, c, sizeof c, got), TG_OK);
    CHECK_EQ(b.n, 6);

    /* Without a key, data passes through (the spec's EncryptWithAd). */
    struct tg_noise_cipher none = {{0}, 0, false};
    CHECK_EQ(tg_noise_encrypt(&none, NULL, 0, m, sizeof m, c), TG_OK);
    CHECK_MEM(c, m, sizeof m);
    CHECK_EQ(none.n, 0);

    tg_noise_cipher_clear(&a);
    CHECK(all_zero(a.k, sizeof a.k) && a.n == 0 && !a.has_key);
}

static void test_clear(void)
{
    struct peers p;
    size_t n;

    peers_init(&p, PSK2);
    step1(&p, 4, true);
    tg_noise_clear(&p.res);
    CHECK(all_zero(p.res.ck, sizeof p.res.ck) && all_zero(p.res.h, sizeof p.res.h));
    CHECK(all_zero(p.res.cs.k, sizeof p.res.cs.k) && !p.res.cs.has_key);
    CHECK(all_zero(p.res.s_priv, sizeof p.res.s_priv));
    CHECK(all_zero(p.res.e_priv, sizeof p.res.e_priv));
    CHECK(all_zero(p.res.psk, sizeof p.res.psk));
    CHECK(!p.res.has_e && !p.res.has_psk);
    CHECK_EQ(tg_noise_write_message(&p.res, NULL, 0, msg2, sizeof msg2, &n), TG_ERR_STATE);
}

int main(void)
{
    if (sodium_init() < 0) {
        fprintf(stderr, "test_noise: sodium_init failed\n");
        return 1;
    }
    test_round_trips();
    test_patterns_differ();
    test_wrong_keys();
    test_bit_flips(NK);
    test_bit_flips(PSK2);
    test_truncated(NK);
    test_truncated(PSK2);
    test_low_order(NK);
    test_low_order(PSK2);
    test_turns();
    test_missing_ephemeral_and_psk();
    test_poisoned();
    test_buffers();
    test_init_args();
    test_cipher();
    test_clear();
    return check_exit("test_noise");
}
